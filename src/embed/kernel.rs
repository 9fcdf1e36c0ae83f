//! int8 matrix products for `--precision int8` on the CPU: `y = x · Wᵀ + b` with the weights
//! quantized once at load (symmetric, one scale per output channel) and the activations
//! quantized per row (per token) on every call, asymmetric: each row's own range `[lo, hi]`
//! (which holds 0) is cut into 255 steps, `x ≈ s_x · (u − z)` with `u` in [0, 255] and the zero
//! point `z` the code of 0. One-sided rows (GELU outputs, the feed-forward layer's input) so get
//! twice the resolution symmetric codes would give them, which halves the int8 path's error
//! against f32 (docs/quality.md).
//!
//! **Why `unsafe` here.** The products use the CPU's integer dot-product instructions through
//! `core::arch` intrinsics, which Rust only offers as `unsafe fn`s (calling a function compiled
//! for an instruction set the CPU may lack is undefined behaviour). All of the crate's SIMD
//! `unsafe` lives in this one module: every intrinsic path is entered only after
//! `is_x86_feature_detected!` has confirmed the instructions, and reads only inside the
//! buffers whose sizes [`QLinear::new`] and [`QLinear::forward`] fix.
//!
//! **Arithmetic.** Every path computes the same integers: `Σ_k u_k · q(w)_k − z · Σ_k q(w)_k`
//! in i32, with `u` in [0, 255] and `q(w)` in [-127, 127] (the column sums computed once), then
//! `y = acc · (s_x · s_w) + b` in f32 in that order.
//! So the AMX, VNNI, AVX2 and portable paths give bit-identical products (the unit tests
//! compare them, each where the CPU has it). The f32 pieces between the products (attention, softmax) run on the CPU's own
//! kernels, as in f32, and a last-bit difference there can move an activation across a
//! rounding step: int8 vectors from an AVX2-only build and an AVX-512 one agree to a cosine
//! of about 0.9999, not bit for bit (docs/benchmarks.md, fifth round).
//!
//! - **AMX** (`tdpbusd` on tiles: 16 rows × 64 u8 codes by 64 inputs × 16 channels of i8,
//!   summed into 16 × 16 i32): the AVX-512 packing read as tiles, blocks of 32 rows × 32
//!   channels in four sum tiles, the AVX-512 epilogue. Where the CPU has AMX-TILE and AMX-INT8
//!   and Linux grants the tile state; layers whose shape does not tile (`n` not a multiple of
//!   32 or `k` of 64) use AVX-512 VNNI. The tile instructions are written with `asm!`: Rust
//!   has no stable AMX intrinsics.
//! - **AVX-512 VNNI** (`vpdpbusd`, 4 u8×i8 products summed into each i32 lane): the codes `u`
//!   are its unsigned operand as they are. Tiles of 8 rows × 48 (or 64, 32, 16) channels in 24 zmm accumulators.
//! - **256-bit `vpdpbusd`** ([`Int8Isa::AvxVnni`]): AVX-VNNI (VEX; Intel since Alder Lake, AMD
//!   Zen 5) or, where that is missing, AVX-512 VNNI's 256-bit form (EVEX). The AVX-512 path's
//!   packing and integers, tiles of 6 rows × 16 channels (16 ymm registers on such CPUs).
//! - **AVX2** (`vpmaddwd`, 2 i16×i16 products per i32 lane): exact, no saturation (unlike
//!   `vpmaddubsw`, whose i16 pair sums overflow with 8-bit codes). Tiles of 4 rows × 16
//!   channels. At most twice the f32 FMA rate, on CPUs with two integer multiply pipes.
//! - **Portable**: plain Rust, the reference the tests compare the others against.
//!
//! The `avx512` cargo feature (default) allows the AVX-512 path; a build without it uses AVX2.
//!
//! **f32 attention pieces** ([`matmul`], [`softmax_rows`]): the self-attention of
//! `super::attention` multiplies strided views of the fused query/key/value output with
//! gemm's kernels (the ones candle's own matmul calls) without copying the heads out, and
//! takes the softmax with a vectorised `exp` ([`exp`]) instead of libm's scalar one.

#![allow(unsafe_code)]

use std::sync::OnceLock;

/// Rows of a tile in the AVX-512 kernel; activation buffers are padded to a multiple of it.
const ROW_PAD: usize = 8;

/// Rows and channels of the AMX kernel's block: two A tiles of 16 rows by two B tiles of 16
/// channels, four C tiles of sums.
const AMX_ROWS: usize = 32;
const AMX_COLS: usize = 32;

/// The instruction set an int8 product runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Isa {
    /// AMX (`tdpbusd`: tiles of 16 rows × 64 bytes, 16 × 16 i32 sums per instruction), with
    /// AVX-512 for the rest; Intel since Sapphire Rapids.
    Amx,
    /// AVX-512 with VNNI (`vpdpbusd` on 512-bit registers).
    Avx512Vnni,
    /// `vpdpbusd` on 256-bit registers: AVX-VNNI (Intel since Alder Lake, AMD since Zen 5),
    /// or AVX-512 VNNI's 256-bit form where AVX-VNNI is missing.
    AvxVnni,
    /// AVX2 (`vpmaddwd` on 256-bit registers).
    Avx2,
    /// No SIMD: plain Rust.
    Portable,
}

impl Int8Isa {
    /// Its name as `lexsearch bench` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Int8Isa::Amx => "amx-int8",
            Int8Isa::Avx512Vnni => "avx512-vnni",
            Int8Isa::AvxVnni => "avx-vnni",
            Int8Isa::Avx2 => "avx2",
            Int8Isa::Portable => "portable",
        }
    }

    /// Multiply-adds per cycle per core of this path relative to f32 FMAs of the same width
    /// (the int8 peak is this times the f32 MAC peak): `vpdpbusd` does 4 per 32-bit lane,
    /// `vpmaddwd` 2, scalar code 1; a core's AMX unit 1,024 a cycle, 32 times the 32 f32
    /// MACs of two 512-bit FMA units.
    pub fn macs_per_f32_fma_lane(self) -> f64 {
        match self {
            Int8Isa::Amx => 32.0,
            Int8Isa::Avx512Vnni | Int8Isa::AvxVnni => 4.0,
            Int8Isa::Avx2 => 2.0,
            Int8Isa::Portable => 1.0,
        }
    }
}

/// The best int8 path this CPU (and build) has; detected once. `LEXSEARCH_INT8_ISA=avx512-vnni`,
/// `avx-vnni`, `avx2` or `portable` chooses a lesser one, to measure it on a machine that has
/// better.
pub fn int8_isa() -> Int8Isa {
    static ISA: OnceLock<Int8Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        let best = detect();
        match std::env::var("LEXSEARCH_INT8_ISA").as_deref() {
            Ok("portable") => Int8Isa::Portable,
            Ok("avx512-vnni") if best == Int8Isa::Amx => Int8Isa::Avx512Vnni,
            Ok("avx2") if best != Int8Isa::Portable => Int8Isa::Avx2,
            Ok("avx-vnni") if has_vnni256() => Int8Isa::AvxVnni,
            _ => best,
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Int8Isa {
    if cfg!(feature = "avx512")
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vnni")
    {
        if x86::amx_ready() {
            Int8Isa::Amx
        } else {
            Int8Isa::Avx512Vnni
        }
    } else if is_x86_feature_detected!("avxvnni") {
        Int8Isa::AvxVnni
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        Int8Isa::Avx2
    } else {
        Int8Isa::Portable
    }
}

/// Whether the CPU has 256-bit `vpdpbusd` in either encoding (AVX-VNNI, or AVX-512 VNNI with
/// VL), and AVX2 for the rest of that path.
fn has_vnni256() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && (is_x86_feature_detected!("avxvnni")
                || (is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")))
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Int8Isa {
    Int8Isa::Portable
}

/// A linear layer with int8 weights, packed for one [`Int8Isa`].
pub struct QLinear {
    /// Output channels.
    n: usize,
    /// Input features.
    k: usize,
    isa: Int8Isa,
    /// Per output channel: the weight scale.
    scale: Vec<f32>,
    bias: Vec<f32>,
    /// Per output channel: `Σ_k q(w)`, times a row's zero point the part of its integer
    /// product that the zero point added.
    colsum: Vec<i32>,
    /// Portable: `[n][k]`. AVX-512 and AMX: `[n/16][k/4][16][4]`.
    w8: Vec<i8>,
    /// AVX2: `[n/8][k/2][8][2]`.
    w16: Vec<i16>,
    /// SmoothQuant's per-input-channel factor `1 / s_j` applied to the activations before
    /// they are quantized (the weights were multiplied by `s_j`).
    smooth: Option<Vec<f32>>,
}

/// SmoothQuant's migration strength: `s_j = max|x_j|^α / max|w_j|^(1-α)`. 0.5 balances the
/// two ranges (the paper's choice for BERT-size models).
const SMOOTH_ALPHA: f32 = 0.5;

impl std::fmt::Debug for QLinear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QLinear")
            .field("n", &self.n)
            .field("k", &self.k)
            .field("isa", &self.isa)
            .finish()
    }
}

/// How a product path stores an activation code `u` in [0, 255].
trait Code: Copy {
    fn code(u: i32) -> Self;
}

/// Portable and VNNI: `u` itself, unsigned for `vpdpbusd`.
impl Code for u8 {
    #[inline(always)]
    fn code(u: i32) -> Self {
        u as u8
    }
}

/// AVX2: `u` widened for `vpmaddwd`.
impl Code for i16 {
    #[inline(always)]
    fn code(u: i32) -> Self {
        u as i16
    }
}

/// 1.5 · 2^23: adding it to a float below 2^22 in magnitude rounds it to the nearest integer
/// (ties to even), which the sum's low bits then hold.
const ROUND: f32 = 12_582_912.0;

/// `round(y)` for |y| < 2^22, NaN as 0, read from the bits of `y + ROUND` (no float-to-int
/// conversion, which does not vectorise with Rust's saturating semantics).
#[inline(always)]
fn round_bits(y: f32) -> i32 {
    let y = if y.is_nan() { 0.0 } else { y };
    (y + ROUND).to_bits() as i32 - ROUND.to_bits() as i32
}

/// Symmetric int8 quantization of a weight row `v` into `out`: `round(v / scale)` in
/// [-127, 127], returning the scale (0 for a zero row, NaN for a non-finite one).
fn quantize_weights(v: &[f32], out: &mut [i8]) -> f32 {
    let amax = v
        .iter()
        .fold(0f32, |m, x| if x.abs() > m { x.abs() } else { m });
    if amax == 0.0 || !amax.is_finite() {
        out.fill(0);
        return if amax.is_finite() { 0.0 } else { f32::NAN };
    }
    let inv = 127.0 / amax;
    for (o, &x) in out.iter_mut().zip(v) {
        *o = round_bits(x * inv).clamp(-127, 127) as i8;
    }
    amax / 127.0
}

/// Asymmetric quantization of an activation row `v` into `out`: its range `[lo, hi]`
/// (widened to hold 0) in 255 steps of `scale`, `u = round(v / scale) + z` in [0, 255] with
/// `z = round(-lo / scale)`. Returns `(scale, z)`; a zero row gives `(0, 0)`, a non-finite
/// one a NaN scale. Branch-free per element, so that it vectorises.
#[inline(always)]
fn quantize_row<T: Code>(v: &[f32], out: &mut [T]) -> (f32, i32) {
    // NaN compares false, so it is passed over as `f32::max` would.
    let hi = lane_fold(v, 0.0, |m, x| if x > m { x } else { m });
    let lo = lane_fold(v, 0.0, |m, x| if x < m { x } else { m });
    let range = hi - lo;
    if range == 0.0 || !range.is_finite() {
        out.fill(T::code(0));
        return (if range.is_finite() { 0.0 } else { f32::NAN }, 0);
    }
    let inv = 255.0 / range;
    let z = round_bits(-lo * inv);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = T::code((round_bits(x * inv) + z).clamp(0, 255));
    }
    (range / 255.0, z)
}

impl QLinear {
    /// Quantizes `weight` (`n` rows of `k`, row-major, as candle stores a linear layer) and
    /// keeps `bias` (`n`, or none), packed for `isa`. With `input_max` (the largest magnitude
    /// each input channel reached on calibration text), outlier channels are smoothed first
    /// (SmoothQuant): their range moves from the activations into the weights.
    pub fn new(
        weight: &[f32],
        bias: Option<&[f32]>,
        n: usize,
        k: usize,
        isa: Int8Isa,
        input_max: Option<&[f32]>,
    ) -> Self {
        assert_eq!(weight.len(), n * k, "weight is not {n} x {k}");
        let mut smooth = None;
        let mut smoothed;
        let mut weight = weight;
        if let Some(xmax) = input_max {
            assert_eq!(xmax.len(), k, "input maxima are not {k} long");
            let mut wmax = vec![0f32; k];
            for row in weight.chunks_exact(k) {
                for (m, w) in wmax.iter_mut().zip(row) {
                    *m = m.max(w.abs());
                }
            }
            let s: Vec<f32> = xmax
                .iter()
                .zip(&wmax)
                .map(|(&x, &w)| {
                    let s = x.powf(SMOOTH_ALPHA) / w.powf(1.0 - SMOOTH_ALPHA);
                    if s.is_finite() && s > 0.0 { s } else { 1.0 }
                })
                .collect();
            smoothed = weight.to_vec();
            for row in smoothed.chunks_exact_mut(k) {
                for (w, s) in row.iter_mut().zip(&s) {
                    *w *= s;
                }
            }
            weight = &smoothed;
            smooth = Some(s.iter().map(|s| 1.0 / s).collect());
        }
        let isa = match isa {
            Int8Isa::Amx if n.is_multiple_of(AMX_COLS) && k.is_multiple_of(64) => isa,
            Int8Isa::Amx | Int8Isa::Avx512Vnni if n.is_multiple_of(16) && k.is_multiple_of(4) => {
                Int8Isa::Avx512Vnni
            }
            Int8Isa::AvxVnni if n.is_multiple_of(16) && k.is_multiple_of(4) => isa,
            Int8Isa::Amx | Int8Isa::Avx512Vnni | Int8Isa::AvxVnni | Int8Isa::Avx2
                if n.is_multiple_of(8) && k.is_multiple_of(2) =>
            {
                Int8Isa::Avx2
            }
            _ => Int8Isa::Portable,
        };
        let mut q = vec![0i8; n * k];
        let mut scale = vec![0f32; n];
        let mut colsum = vec![0i32; n];
        for c in 0..n {
            let row = &mut q[c * k..(c + 1) * k];
            let s = quantize_weights(&weight[c * k..(c + 1) * k], row);
            scale[c] = if s.is_nan() { 0.0 } else { s };
            colsum[c] = row.iter().map(|&v| i32::from(v)).sum::<i32>();
        }
        let bias = bias.map_or_else(|| vec![0.0; n], <[f32]>::to_vec);
        assert_eq!(bias.len(), n, "bias is not {n} long");
        let (mut w8, mut w16) = (Vec::new(), Vec::new());
        match isa {
            Int8Isa::Portable => w8 = q,
            // The 256-bit path reads each 64-byte group as two halves of 8 channels; AMX reads
            // 16 groups (64 inputs of 16 channels) as one tile of 16 rows × 64 bytes.
            Int8Isa::Amx | Int8Isa::Avx512Vnni | Int8Isa::AvxVnni => {
                w8 = vec![0i8; n * k];
                for c in 0..n {
                    for j in 0..k {
                        let (block, lane) = (c / 16, c % 16);
                        w8[((block * (k / 4) + j / 4) * 16 + lane) * 4 + j % 4] = q[c * k + j];
                    }
                }
            }
            Int8Isa::Avx2 => {
                w16 = vec![0i16; n * k];
                for c in 0..n {
                    for j in 0..k {
                        let (block, lane) = (c / 8, c % 8);
                        w16[((block * (k / 2) + j / 2) * 8 + lane) * 2 + j % 2] =
                            i16::from(q[c * k + j]);
                    }
                }
            }
        }
        QLinear {
            n,
            k,
            isa,
            scale,
            bias,
            colsum,
            w8,
            w16,
            smooth,
        }
    }

    /// Quantizes each row of `x` (rows of `k`, smoothed first if this layer is) into the
    /// same row of `a`, its scale into `sx` and its zero point into `zx`. Inlined into each
    /// path's compiled copy, so that it vectorises for that path, with the same arithmetic
    /// everywhere.
    #[inline(always)]
    fn quantize_rows<T: Code>(&self, x: &[f32], sx: &mut [f32], zx: &mut [i32], a: &mut [T]) {
        let k = self.k;
        let mut tmp = vec![0f32; if self.smooth.is_some() { k } else { 0 }];
        let rows = x.chunks_exact(k).zip(a.chunks_exact_mut(k));
        for (((row, out), s), z) in rows.zip(sx).zip(zx) {
            let row = match &self.smooth {
                Some(m) => {
                    for ((t, &v), &f) in tmp.iter_mut().zip(row).zip(m) {
                        *t = v * f;
                    }
                    &tmp[..]
                }
                None => row,
            };
            (*s, *z) = quantize_row(row, out);
        }
    }

    /// Output channels.
    pub fn out_features(&self) -> usize {
        self.n
    }

    /// Input features.
    pub fn in_features(&self) -> usize {
        self.k
    }

    /// The instruction set the products run on.
    pub fn isa(&self) -> Int8Isa {
        self.isa
    }

    /// `y = x · Wᵀ + b` for `x` of `m` rows of `k` (row-major): `m` rows of `n`.
    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        let (n, k) = (self.n, self.k);
        assert_eq!(x.len() % k, 0, "input rows are not {k} long");
        let m = x.len() / k;
        // Not zeroed: every path writes all `m × n` outputs (its tiles cover every row below
        // `m` and every column, `n` being a multiple of the tile width).
        let mut out: Vec<f32> = Vec::with_capacity(m * n);
        let spare = &mut out.spare_capacity_mut()[..m * n];
        let mut sx = vec![0f32; m.next_multiple_of(ROW_PAD)];
        let mut zx = vec![0i32; m.next_multiple_of(ROW_PAD)];
        match self.isa {
            Int8Isa::Portable => {
                let mut a = vec![0u8; m * k];
                self.quantize_rows(x, &mut sx, &mut zx, &mut a);
                for r in 0..m {
                    let row = &a[r * k..(r + 1) * k];
                    for c in 0..n {
                        let w = &self.w8[c * k..(c + 1) * k];
                        let dot: i32 = row
                            .iter()
                            .zip(w)
                            .map(|(&p, &q)| i32::from(p) * i32::from(q))
                            .sum();
                        let acc = dot - zx[r] * self.colsum[c];
                        spare[r * n + c].write(acc as f32 * (sx[r] * self.scale[c]) + self.bias[c]);
                    }
                }
            }
            #[cfg(target_arch = "x86_64")]
            Int8Isa::Avx512Vnni => {
                let mut a = vec![0u8; m.next_multiple_of(ROW_PAD) * k];
                // SAFETY: this path is only chosen when `int8_isa` (or a caller that checked
                // the same features) found AVX-512 F/BW/VNNI.
                unsafe { quantize_rows_avx512(self, x, &mut sx, &mut zx, &mut a) };
                // SAFETY: AVX-512 F/BW/VNNI were detected; `a` holds a multiple of 8 rows of
                // `k`, `w8` is `n/16` blocks of `k/4 × 64` bytes, `out` is `m × n`.
                unsafe { x86::vnni(self, &a, &sx, &zx, m, spare) }
            }
            #[cfg(target_arch = "x86_64")]
            Int8Isa::Amx => {
                let mut a = vec![0u8; m.next_multiple_of(AMX_ROWS) * k];
                // SAFETY: AMX is only chosen where AVX-512 F/BW/VNNI were found too.
                unsafe { quantize_rows_avx512(self, x, &mut sx, &mut zx, &mut a) };
                // SAFETY: `amx_ready` found AMX-TILE and AMX-INT8 and the kernel granted the
                // tile state; `a` holds a multiple of 32 rows of `k` (a multiple of 64), `w8`
                // is `n/16` blocks of `k/4 × 64` bytes (`n` a multiple of 32), `out` is `m × n`.
                unsafe { x86::amx(self, &a, &sx, &zx, m, spare) }
            }
            #[cfg(target_arch = "x86_64")]
            Int8Isa::AvxVnni => {
                let mut a = vec![0u8; x86::vnni256_rows(m) * k];
                // SAFETY: this path is only chosen when `has_vnni256` found AVX2 (and more).
                unsafe { quantize_rows_avx2(self, x, &mut sx, &mut zx, &mut a) };
                // SAFETY: `has_vnni256` was true; `a` holds `vnni256_rows(m)` rows of `k`,
                // `w8` is `n/16` blocks of `k/4 × 64` bytes, `out` is `m × n`.
                unsafe { x86::vnni256(self, &a, &sx, &zx, m, spare) }
            }
            #[cfg(target_arch = "x86_64")]
            Int8Isa::Avx2 => {
                let mut a = vec![0i16; m.next_multiple_of(ROW_PAD) * k];
                // SAFETY: AVX2 was detected.
                unsafe { quantize_rows_avx2(self, x, &mut sx, &mut zx, &mut a) };
                // SAFETY: AVX2 was detected; `a` holds a multiple of 8 rows of `k`, `w16` is
                // `n/8` blocks of `k/2 × 16` i16, `out` is `m × n`.
                unsafe { x86::avx2(self, &a, &sx, &zx, m, spare) }
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("only the portable path exists off x86-64"),
        }
        // SAFETY: the path above wrote all `m × n` elements (see `spare`).
        unsafe { out.set_len(m * n) };
        out
    }
}

/// [`QLinear::quantize_rows`] compiled with AVX2, so that it vectorises.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_rows_avx2<T: Code>(
    q: &QLinear,
    x: &[f32],
    sx: &mut [f32],
    zx: &mut [i32],
    a: &mut [T],
) {
    q.quantize_rows(x, sx, zx, a);
}

/// [`QLinear::quantize_rows`] compiled with AVX-512.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
unsafe fn quantize_rows_avx512<T: Code>(
    q: &QLinear,
    x: &[f32],
    sx: &mut [f32],
    zx: &mut [i32],
    a: &mut [T],
) {
    q.quantize_rows(x, sx, zx, a);
}

/// A read-only f32 matrix inside a slice: element `(i, j)` is
/// `data[offset + i · row_stride + j · col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    /// The storage the matrix lies in.
    pub data: &'a [f32],
    /// Index of element `(0, 0)`.
    pub offset: usize,
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Distance between rows.
    pub row_stride: usize,
    /// Distance between columns.
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A dense row-major `rows × cols` matrix filling `data` from its start.
    pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            offset: 0,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// Panics unless every element lies inside `data`.
    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            let last =
                self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(
                last < self.data.len(),
                "matrix view ends at {last}, past its {} elements",
                self.data.len()
            );
        }
    }
}

/// `dst = scale · a · b` on one thread with gemm's f32 kernels; `dst` is row-major with rows
/// `dst_row_stride` apart (`a.rows × b.cols` written, nothing read).
pub fn matmul(dst: &mut [f32], dst_row_stride: usize, a: MatRef<'_>, b: MatRef<'_>, scale: f32) {
    let (m, n) = (a.rows, b.cols);
    assert!(
        m == 0 || n == 0 || (n <= dst_row_stride && (m - 1) * dst_row_stride + n <= dst.len()),
        "destination too small for {m} x {n}"
    );
    // SAFETY: the assertion keeps every row `< m`, column `< n` inside `dst`.
    unsafe { gemm_into(dst.as_mut_ptr(), dst_row_stride, a, b, scale) }
}

/// [`matmul`] into a new dense `a.rows × b.cols` matrix (not zeroed first: gemm writes
/// every element).
pub fn matmul_new(a: MatRef<'_>, b: MatRef<'_>, scale: f32) -> Vec<f32> {
    let len = a.rows * b.cols;
    let mut out: Vec<f32> = Vec::with_capacity(len);
    // SAFETY: the capacity holds the `a.rows × b.cols` elements written, and `gemm_into`
    // writes each of them (zeros when the inner dimension is empty), so all are initialised.
    unsafe {
        gemm_into(out.as_mut_ptr(), b.cols, a, b, scale);
        out.set_len(len);
    }
    out
}

/// `dst = scale · a · b`, rows of `dst` `dst_row_stride` apart.
///
/// # Safety
/// `dst` must be valid for writes at every `i · dst_row_stride + j`, `i < a.rows`,
/// `j < b.cols`.
unsafe fn gemm_into(
    dst: *mut f32,
    dst_row_stride: usize,
    a: MatRef<'_>,
    b: MatRef<'_>,
    scale: f32,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    a.check();
    b.check();
    let (m, n, k) = (a.rows, b.cols, a.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                // SAFETY: inside `dst` by the caller's guarantee.
                unsafe { dst.add(i * dst_row_stride + j).write(0.0) };
            }
        }
        return;
    }
    // SAFETY: `check` keeps every element gemm reads inside `a.data` and `b.data` (strides
    // are those of the views), the caller every element it writes inside `dst`; `read_dst`
    // is false, so `dst` is only written, and `Parallelism::None` keeps it on this thread.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_row_stride as isize,
            false,
            a.data.as_ptr().add(a.offset),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr().add(b.offset),
            b.col_stride as isize,
            b.row_stride as isize,
            0.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `e^x` in f32 (Cephes' `expf`: within 2 ulp of the exact value), written without branches
/// or calls so that loops over it vectorise; exactly 0 below -87.3 (where `e^x` leaves the
/// normal range), which a softmax needs for masked positions.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let xc = x.clamp(-87.3, 88.0);
    let t = xc * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = xc - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4 * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let y = p * (r * r) + r + 1.0;
    let scale = f32::from_bits(((t.to_bits() as i32 - ROUND.to_bits() as i32 + 127) << 23) as u32);
    if x < -87.3 { 0.0 } else { y * scale }
}

/// Lanes of the reductions in [`softmax_rows`]: a fixed order of additions, so the sums (and
/// the probabilities) are the same bits on every instruction set.
const LANES: usize = 16;

/// `f` over `row` in [`LANES`] interleaved accumulators, then a fixed tree.
#[inline(always)]
fn lane_fold(row: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] = f(acc[l], c[l]);
        }
    }
    for (a, &v) in acc.iter_mut().zip(tail) {
        *a = f(*a, v);
    }
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] = f(acc[l], acc[l + width]);
        }
        width /= 2;
    }
    acc[0]
}

/// Softmax of `row + mask`, in place.
#[inline(always)]
fn softmax_body(x: &mut [f32], mask: &[f32]) {
    for row in x.chunks_exact_mut(mask.len()) {
        for (v, &m) in row.iter_mut().zip(mask) {
            *v += m;
        }
        let max = lane_fold(row, f32::NEG_INFINITY, |a, b| if b > a { b } else { a });
        for v in row.iter_mut() {
            *v = exp(*v - max);
        }
        let sum = lane_fold(row, 0.0, |a, b| a + b);
        for v in row.iter_mut() {
            *v /= sum;
        }
    }
}

/// Replaces each row of `x` (rows as long as `mask`) by the softmax of `row + mask`, as
/// candle-nn's `softmax_last_dim` does after adding the mask, but with [`exp`]: the same
/// bits on every instruction set.
pub fn softmax_rows(x: &mut [f32], mask: &[f32]) {
    assert!(
        !mask.is_empty() && x.len().is_multiple_of(mask.len()),
        "rows are not {} long",
        mask.len()
    );
    #[cfg(target_arch = "x86_64")]
    {
        if avx512() {
            // SAFETY: AVX-512 F was detected.
            return unsafe { softmax_avx512(x, mask) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA were detected.
            return unsafe { softmax_avx2(x, mask) };
        }
    }
    softmax_body(x, mask);
}

/// [`softmax_body`] compiled for AVX-512.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn softmax_avx512(x: &mut [f32], mask: &[f32]) {
    softmax_body(x, mask);
}

/// [`softmax_body`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_avx2(x: &mut [f32], mask: &[f32]) {
    softmax_body(x, mask);
}

/// erf for f32: a rational approximation on [-4, 4] (outside it erf is ±1 in f32), the one
/// Eigen and XLA use; branch-free, so loops over it vectorise. (Plain `a * b + c`: without
/// FMA in the target features `mul_add` becomes a call to `fmaf` per operation.)
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_6e-3;
    p = x2 * p + -1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329e-3;
    q = x2 * q + -1.426_474e-2;
    x * p / q
}

/// The exact (erf) GELU `0.5 x (1 + erf(x / √2))` of every element, vectorised for the CPU's
/// instruction set (the same bits on every one: no fused multiply-adds).
pub fn gelu_erf(x: &[f32]) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    {
        if avx512() {
            // SAFETY: AVX-512 F was detected.
            return unsafe { gelu_avx512(x) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA were detected.
            return unsafe { gelu_avx2(x) };
        }
    }
    gelu_body(x)
}

#[inline(always)]
fn gelu_body(x: &[f32]) -> Vec<f32> {
    // A plain loop over a buffer rather than `collect`, whose code is not inlined here and
    // so would not be compiled for this path's instruction set.
    let mut out = vec![0f32; x.len()];
    for (o, &v) in out.iter_mut().zip(x) {
        *o = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
    }
    out
}

/// [`gelu_body`] compiled for AVX-512.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gelu_avx512(x: &[f32]) -> Vec<f32> {
    gelu_body(x)
}

/// [`gelu_body`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_avx2(x: &[f32]) -> Vec<f32> {
    gelu_body(x)
}

/// Whether this build and CPU take the AVX-512 f32 paths; detected once.
#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    static AVX512: OnceLock<bool> = OnceLock::new();
    *AVX512.get_or_init(|| cfg!(feature = "avx512") && is_x86_feature_detected!("avx512f"))
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::QLinear;
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// Output channel block (in 16-lane vectors) for `n`: 3, 4, 2 or 1 vectors.
    fn vectors(n: usize) -> usize {
        [3, 4, 2, 1]
            .into_iter()
            .find(|v| n.is_multiple_of(v * 16))
            .unwrap_or(1)
    }

    /// Rows processed per pass over a block of weights (keeps them in L1/L2).
    const ROW_BLOCK: usize = 64;

    /// Rows of a tile of the 256-bit `vpdpbusd` path: 6 rows × 2 vectors of accumulators,
    /// 2 weight vectors and the broadcast activations fill 15 of the 16 ymm registers (5 %
    /// faster than 4 rows on a Zen 5, docs/benchmarks.md).
    const VNNI256_ROWS: usize = 6;

    /// Activation rows [`vnni256`] reads for `m` rows: its last tile may start at row `m − 1`
    /// and reads `VNNI256_ROWS` rows from there (the rows past `m` are zeros, never stored).
    pub(super) fn vnni256_rows(m: usize) -> usize {
        (m + VNNI256_ROWS).next_multiple_of(super::ROW_PAD)
    }

    /// The AVX-512 VNNI product. `a`: u8 activation codes, rows padded to 8.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn vnni(
        w: &QLinear,
        a: &[u8],
        sx: &[f32],
        zx: &[i32],
        m: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        // SAFETY: the caller's guarantees, passed on.
        unsafe {
            match vectors(w.n) {
                3 => vnni_n::<3>(w, a, sx, zx, m, out),
                4 => vnni_n::<4>(w, a, sx, zx, m, out),
                2 => vnni_n::<2>(w, a, sx, zx, m, out),
                _ => vnni_n::<1>(w, a, sx, zx, m, out),
            }
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn vnni_n<const NV: usize>(
        w: &QLinear,
        a: &[u8],
        sx: &[f32],
        zx: &[i32],
        m: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        let (n, k) = (w.n, w.k);
        let k4 = k / 4;
        debug_assert!(a.len() >= m.next_multiple_of(8) * k && out.len() == m * n);
        // SAFETY: every pointer stays inside `w`'s packed weights (block `cb / lanes` of
        // `k/4` or `k/2` steps), `a`'s padded rows and `out`'s `m × n` (rows `< rend`).
        unsafe {
            for rb in (0..m).step_by(ROW_BLOCK) {
                let rend = (rb + ROW_BLOCK).min(m);
                for cb in (0..n).step_by(16 * NV) {
                    for r0 in (rb..rend).step_by(8) {
                        let rows = (rend - r0).min(8);
                        let mut acc = [[_mm512_setzero_si512(); NV]; 8];
                        let wbase = w.w8.as_ptr().add(cb / 16 * k4 * 64);
                        let abase = a.as_ptr().add(r0 * k);
                        for j in 0..k4 {
                            let mut wv = [_mm512_setzero_si512(); NV];
                            for (v, wv) in wv.iter_mut().enumerate() {
                                *wv = _mm512_loadu_si512(wbase.add((v * k4 + j) * 64).cast());
                            }
                            for (r, acc) in acc.iter_mut().enumerate() {
                                let xb = _mm512_set1_epi32(
                                    abase.add(r * k + j * 4).cast::<i32>().read_unaligned(),
                                );
                                for v in 0..NV {
                                    acc[v] = _mm512_dpbusd_epi32(acc[v], xb, wv[v]);
                                }
                            }
                        }
                        for (r, acc) in acc.iter().enumerate().take(rows) {
                            for (v, &acc) in acc.iter().enumerate() {
                                let c = cb + v * 16;
                                let dst = out.as_mut_ptr().cast::<f32>().add((r0 + r) * n + c);
                                store16(w, acc, c, sx[r0 + r], zx[r0 + r], dst);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether AMX's integer tiles can run here: the CPU has AMX-TILE and AMX-INT8 (CPUID leaf
    /// 7), and Linux granted this process the tile data state (`arch_prctl(ARCH_REQ_XCOMP_PERM,
    /// XFEATURE_XTILEDATA)`, which a kernel too old for AMX or a guest without it refuses).
    /// Asked once; the permission holds for every thread of the process.
    pub(super) fn amx_ready() -> bool {
        static READY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *READY.get_or_init(|| {
            // CPUID leaf 7 exists on every x86-64 CPU with AVX-512 (checked before).
            let leaf7 = __cpuid_count(7, 0);
            let (tile, int8) = (leaf7.edx >> 24 & 1 == 1, leaf7.edx >> 25 & 1 == 1);
            tile && int8 && request_tile_state()
        })
    }

    #[cfg(target_os = "linux")]
    fn request_tile_state() -> bool {
        const SYS_ARCH_PRCTL: i64 = 158;
        const ARCH_REQ_XCOMP_PERM: i64 = 0x1023;
        const XFEATURE_XTILEDATA: i64 = 18;
        let ret: i64;
        // SAFETY: a plain system call that only changes which register state the kernel
        // saves for this process; it reads and writes no memory of ours.
        unsafe {
            std::arch::asm!(
                "syscall",
                inlateout("rax") SYS_ARCH_PRCTL => ret,
                in("rdi") ARCH_REQ_XCOMP_PERM,
                in("rsi") XFEATURE_XTILEDATA,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack),
            );
        }
        ret == 0
    }

    #[cfg(not(target_os = "linux"))]
    fn request_tile_state() -> bool {
        false
    }

    /// The AMX tile configuration: palette 1, tiles 0–7 all of 16 rows × 64 bytes.
    #[repr(C, align(64))]
    struct TileConfig([u8; 64]);

    impl TileConfig {
        fn full() -> Self {
            let mut c = [0u8; 64];
            c[0] = 1;
            for t in 0..8 {
                c[16 + 2 * t..18 + 2 * t].copy_from_slice(&64u16.to_le_bytes());
                c[48 + t] = 16;
            }
            TileConfig(c)
        }
    }

    /// The AMX product: for each block of 32 rows × 32 channels, four C tiles (`tmm0`–`tmm3`)
    /// sum `tdpbusd` of two A tiles (`tmm4`, `tmm5`: 16 rows × 64 input codes each, read with
    /// the row stride `k`) by two B tiles (`tmm6`, `tmm7`: 64 inputs × 16 channels, the
    /// AVX-512 packing read with a stride of 64 bytes), over `k / 64` steps; the sums go
    /// through a buffer to the AVX-512 path's epilogue, in the same order of operations. `a`:
    /// u8 activation codes, rows padded to 32 (the rows past `m` are zeros, never stored).
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn amx(
        w: &QLinear,
        a: &[u8],
        sx: &[f32],
        zx: &[i32],
        m: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        let (n, k) = (w.n, w.k);
        let k4 = k / 4;
        debug_assert!(a.len() >= m.next_multiple_of(32) * k && out.len() == m * n);
        debug_assert!(n.is_multiple_of(32) && k.is_multiple_of(64));
        let cfg = TileConfig::full();
        let mut sums = [0i32; 32 * 32];
        // SAFETY: `amx_ready` was true (the caller's guarantee). Tile loads read 16 rows of
        // 64 bytes: A from row `r0` or `r0 + 16` of `a` (below its padded rows) at input
        // `64 t < k`; B from block `cb / 16` or the next (below `n / 16`) at group `16 t`
        // (below `k / 4`), 1 KiB each, inside `w8`. Stores write the 4 KiB of `sums`.
        unsafe {
            std::arch::asm!("ldtilecfg [{}]", in(reg) cfg.0.as_ptr(), options(nostack));
            for r0 in (0..m).step_by(32) {
                for cb in (0..n).step_by(32) {
                    std::arch::asm!(
                        "tilezero tmm0",
                        "tilezero tmm1",
                        "tilezero tmm2",
                        "tilezero tmm3",
                        options(nostack, nomem)
                    );
                    let b0 = w.w8.as_ptr().add(cb / 16 * k4 * 64);
                    let b1 = b0.add(k4 * 64);
                    let a0 = a.as_ptr().add(r0 * k);
                    let a1 = a0.add(16 * k);
                    for t in 0..k / 64 {
                        std::arch::asm!(
                            "tileloadd tmm4, [{a0} + {ks}*1]",
                            "tileloadd tmm5, [{a1} + {ks}*1]",
                            "tileloadd tmm6, [{b0} + {bs}*1]",
                            "tileloadd tmm7, [{b1} + {bs}*1]",
                            "tdpbusd tmm0, tmm4, tmm6",
                            "tdpbusd tmm1, tmm4, tmm7",
                            "tdpbusd tmm2, tmm5, tmm6",
                            "tdpbusd tmm3, tmm5, tmm7",
                            a0 = in(reg) a0.add(64 * t),
                            a1 = in(reg) a1.add(64 * t),
                            b0 = in(reg) b0.add(1024 * t),
                            b1 = in(reg) b1.add(1024 * t),
                            ks = in(reg) k,
                            bs = in(reg) 64usize,
                            options(nostack, readonly)
                        );
                    }
                    // sums[r][c]: rows 0–15 in tmm0 (channels 0–15) and tmm1 (16–31), rows
                    // 16–31 in tmm2 and tmm3; a row of `sums` is 128 bytes.
                    let p = sums.as_mut_ptr().cast::<u8>();
                    std::arch::asm!(
                        "tilestored [{p0} + {s}*1], tmm0",
                        "tilestored [{p1} + {s}*1], tmm1",
                        "tilestored [{p2} + {s}*1], tmm2",
                        "tilestored [{p3} + {s}*1], tmm3",
                        p0 = in(reg) p,
                        p1 = in(reg) p.add(64),
                        p2 = in(reg) p.add(16 * 128),
                        p3 = in(reg) p.add(16 * 128 + 64),
                        s = in(reg) 128usize,
                        options(nostack)
                    );
                    for r in 0..(m - r0).min(32) {
                        for v in 0..2 {
                            let c = cb + v * 16;
                            let acc = _mm512_loadu_si512(sums.as_ptr().add(r * 32 + v * 16).cast());
                            let dst = out.as_mut_ptr().cast::<f32>().add((r0 + r) * n + c);
                            store16(w, acc, c, sx[r0 + r], zx[r0 + r], dst);
                        }
                    }
                }
            }
            std::arch::asm!("tilerelease", options(nostack, nomem));
        }
    }

    /// The 256-bit `vpdpbusd` product (AVX-VNNI, else AVX-512 VNNI's 256-bit form): the
    /// AVX-512 path's packing and arithmetic, tiles of 6 rows × 16 channels (two registers
    /// per row: AVX2-class CPUs have 16 vector registers). `a`: u8 activation codes,
    /// [`vnni256_rows`]`(m)` rows.
    pub(super) unsafe fn vnni256(
        w: &QLinear,
        a: &[u8],
        sx: &[f32],
        zx: &[i32],
        m: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        // SAFETY: the caller checked `has_vnni256`, whose two cases these are; its other
        // guarantees are passed on.
        unsafe {
            if is_x86_feature_detected!("avxvnni") {
                vnni256_vex(w, a, sx, zx, m, out)
            } else {
                vnni256_evex(w, a, sx, zx, m, out)
            }
        }
    }

    /// The epilogue of the 512-bit paths (VNNI, AMX): channels `c..c + 16` of one row from
    /// their integer sums, `(acc − z · Σ q(w)) · (s_x · s_w) + b`, written to `dst`.
    ///
    /// Safety: AVX-512 F is present, `c + 16 <= w.n` and `dst` is valid for 16 writes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store16(w: &QLinear, acc: __m512i, c: usize, sx: f32, zx: i32, dst: *mut f32) {
        // SAFETY: the caller's guarantees: `colsum`, `scale` and `bias` are `w.n` long.
        unsafe {
            let sum = _mm512_loadu_si512(w.colsum.as_ptr().add(c).cast());
            let off = _mm512_mullo_epi32(sum, _mm512_set1_epi32(zx));
            let ws = _mm512_loadu_ps(w.scale.as_ptr().add(c));
            let b = _mm512_loadu_ps(w.bias.as_ptr().add(c));
            let t = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, off));
            let y = _mm512_add_ps(_mm512_mul_ps(t, _mm512_mul_ps(_mm512_set1_ps(sx), ws)), b);
            _mm512_storeu_ps(dst, y);
        }
    }

    /// The epilogue of the 256-bit paths: channels `c..c + 8` of one row from their integer
    /// sums, `(acc − z · Σ q(w)) · (s_x · s_w) + b`, written to `dst`.
    ///
    /// Safety: AVX2 is present, `c + 8 <= w.n` and `dst` is valid for 8 writes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn store8(w: &QLinear, acc: __m256i, c: usize, sx: f32, zx: i32, dst: *mut f32) {
        // SAFETY: the caller's guarantees: `colsum`, `scale` and `bias` are `w.n` long.
        unsafe {
            let sum = _mm256_loadu_si256(w.colsum.as_ptr().add(c).cast());
            let off = _mm256_mullo_epi32(sum, _mm256_set1_epi32(zx));
            let ws = _mm256_loadu_ps(w.scale.as_ptr().add(c));
            let b = _mm256_loadu_ps(w.bias.as_ptr().add(c));
            let t = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, off));
            let y = _mm256_add_ps(_mm256_mul_ps(t, _mm256_mul_ps(_mm256_set1_ps(sx), ws)), b);
            _mm256_storeu_ps(dst, y);
        }
    }

    /// [`vnni256`]'s body for one encoding of `vpdpbusd` (`$dp`).
    macro_rules! vnni256_kernel {
        ($name:ident, $features:literal, $dp:ident) => {
            #[target_feature(enable = $features)]
            unsafe fn $name(
                w: &QLinear,
                a: &[u8],
                sx: &[f32],
                zx: &[i32],
                m: usize,
                out: &mut [MaybeUninit<f32>],
            ) {
                const MR: usize = VNNI256_ROWS;
                let (n, k) = (w.n, w.k);
                let k4 = k / 4;
                debug_assert!(a.len() >= vnni256_rows(m) * k && out.len() == m * n);
                // SAFETY: every pointer stays inside `w`'s packed weights (block `cb / 16`
                // of `k/4` steps of 64 bytes), `a`'s `vnni256_rows(m)` rows (a tile starts
                // below `m` and spans `MR` rows) and `out`'s `m × n` (rows `< rend`).
                unsafe {
                    for rb in (0..m).step_by(ROW_BLOCK) {
                        let rend = (rb + ROW_BLOCK).min(m);
                        for cb in (0..n).step_by(16) {
                            let wbase = w.w8.as_ptr().add(cb / 16 * k4 * 64);
                            for r0 in (rb..rend).step_by(MR) {
                                let rows = (rend - r0).min(MR);
                                let mut acc = [[_mm256_setzero_si256(); 2]; MR];
                                let abase = a.as_ptr().add(r0 * k);
                                for j in 0..k4 {
                                    let lo = _mm256_loadu_si256(wbase.add(j * 64).cast());
                                    let hi = _mm256_loadu_si256(wbase.add(j * 64 + 32).cast());
                                    for (r, acc) in acc.iter_mut().enumerate() {
                                        let xb = _mm256_set1_epi32(
                                            abase.add(r * k + j * 4).cast::<i32>().read_unaligned(),
                                        );
                                        acc[0] = $dp(acc[0], xb, lo);
                                        acc[1] = $dp(acc[1], xb, hi);
                                    }
                                }
                                for (r, acc) in acc.iter().enumerate().take(rows) {
                                    let row = out.as_mut_ptr().cast::<f32>().add((r0 + r) * n);
                                    for (v, &acc) in acc.iter().enumerate() {
                                        let c = cb + v * 8;
                                        store8(w, acc, c, sx[r0 + r], zx[r0 + r], row.add(c));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
    }

    vnni256_kernel!(vnni256_vex, "avx2,fma,avxvnni", _mm256_dpbusd_avx_epi32);
    vnni256_kernel!(
        vnni256_evex,
        "avx2,fma,avx512f,avx512vl,avx512vnni",
        _mm256_dpbusd_epi32
    );

    /// The AVX2 product. `a`: i16 activation codes, rows padded to 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(
        w: &QLinear,
        a: &[i16],
        sx: &[f32],
        zx: &[i32],
        m: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        // SAFETY: the caller's guarantees, passed on.
        unsafe {
            if w.n.is_multiple_of(16) {
                avx2_n::<2>(w, a, sx, zx, m, out)
            } else {
                avx2_n::<1>(w, a, sx, zx, m, out)
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2_n<const NV: usize>(
        w: &QLinear,
        a: &[i16],
        sx: &[f32],
        zx: &[i32],
        m: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        // 4 rows × 2 vectors: 8 accumulators, 2 weight vectors, the broadcast activations and
        // `vpmaddwd`'s product fit the 16 ymm registers; 4 × 3 spilled an accumulator to the
        // stack on every step and ran 20-25 % slower (docs/benchmarks.md).
        const MR: usize = 4;
        let (n, k) = (w.n, w.k);
        let k2 = k / 2;
        debug_assert!(a.len() >= m.next_multiple_of(8) * k && out.len() == m * n);
        // SAFETY: every pointer stays inside `w`'s packed weights (block `cb / lanes` of
        // `k/4` or `k/2` steps), `a`'s padded rows and `out`'s `m × n` (rows `< rend`).
        unsafe {
            for rb in (0..m).step_by(ROW_BLOCK) {
                let rend = (rb + ROW_BLOCK).min(m);
                for cb in (0..n).step_by(8 * NV) {
                    for r0 in (rb..rend).step_by(MR) {
                        let rows = (rend - r0).min(MR);
                        let mut acc = [[_mm256_setzero_si256(); NV]; MR];
                        let wbase = w.w16.as_ptr().add(cb / 8 * k2 * 16);
                        let abase = a.as_ptr().add(r0 * k);
                        for j in 0..k2 {
                            let mut wv = [_mm256_setzero_si256(); NV];
                            for (v, wv) in wv.iter_mut().enumerate() {
                                *wv = _mm256_loadu_si256(wbase.add((v * k2 + j) * 16).cast());
                            }
                            for (r, acc) in acc.iter_mut().enumerate() {
                                let xb = _mm256_set1_epi32(
                                    abase.add(r * k + j * 2).cast::<i32>().read_unaligned(),
                                );
                                for v in 0..NV {
                                    acc[v] = _mm256_add_epi32(acc[v], _mm256_madd_epi16(xb, wv[v]));
                                }
                            }
                        }
                        for (r, acc) in acc.iter().enumerate().take(rows) {
                            let row = out.as_mut_ptr().cast::<f32>().add((r0 + r) * n);
                            for (v, &acc) in acc.iter().enumerate() {
                                let c = cb + v * 8;
                                store8(w, acc, c, sx[r0 + r], zx[r0 + r], row.add(c));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1) with a few large outliers, like real activations.
    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let v = (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                if i % 97 == 0 { v * 8.0 } else { v }
            })
            .collect()
    }

    fn f32_product(x: &[f32], w: &[f32], b: &[f32], k: usize) -> Vec<f32> {
        let n = b.len();
        x.chunks(k)
            .flat_map(|row| {
                (0..n).map(move |c| {
                    row.iter().zip(&w[c * k..]).map(|(a, b)| a * b).sum::<f32>() + b[c]
                })
            })
            .collect()
    }

    fn available() -> Vec<Int8Isa> {
        let mut isas = vec![Int8Isa::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                isas.push(Int8Isa::Avx2);
            }
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vnni")
            {
                isas.push(Int8Isa::Avx512Vnni);
                if x86::amx_ready() {
                    isas.push(Int8Isa::Amx);
                } else {
                    eprintln!("SKIPPED: the AMX int8 path (no AMX-TILE and AMX-INT8 here)");
                }
            }
            if has_vnni256() {
                isas.push(Int8Isa::AvxVnni);
            }
        }
        isas
    }

    #[test]
    fn every_simd_path_gives_the_portable_paths_exact_results() {
        // MiniLM's shapes (fused QKV 1152, FFN 1536), ragged row counts (tile tails: 70 rows
        // are two AMX blocks and 6 rows of a third), single rows, 48 channels (AMX's
        // fallback to AVX-512 VNNI), and 40 channels (not a multiple of 16: the AVX2 path's one-vector tiles, and
        // the VNNI paths' fallback to it).
        let shapes = [
            (13, 1152, 384),
            (70, 384, 1536),
            (5, 48, 8),
            (9, 1536, 384),
            (1, 384, 384),
            (6, 16, 4),
            (11, 40, 6),
        ];
        for (m, n, k) in shapes {
            let x = values(m * k, 1);
            let w = values(n * k, 2);
            let b = values(n, 3);
            let xmax: Vec<f32> = (0..k).map(|j| 1.0 + (j % 7) as f32).collect();
            let reference =
                QLinear::new(&w, Some(&b), n, k, Int8Isa::Portable, Some(&xmax)).forward(&x);
            for isa in available() {
                let q = QLinear::new(&w, Some(&b), n, k, isa, Some(&xmax));
                let expected = if isa != Int8Isa::Portable && !n.is_multiple_of(16) {
                    Int8Isa::Avx2
                } else if isa == Int8Isa::Amx && !(n.is_multiple_of(32) && k.is_multiple_of(64)) {
                    Int8Isa::Avx512Vnni
                } else {
                    isa
                };
                assert_eq!(q.isa(), expected, "{m}x{n}x{k}");
                assert_eq!(q.forward(&x), reference, "{isa:?} on {m}x{n}x{k}");
            }
        }
    }

    #[test]
    fn odd_shapes_fall_back_to_the_portable_path() {
        let q = QLinear::new(&values(7 * 6, 1), None, 7, 6, Int8Isa::Avx512Vnni, None);
        assert_eq!(q.isa(), Int8Isa::Portable);
        assert_eq!(q.forward(&values(6 * 3, 2)).len(), 3 * 7);
    }

    #[test]
    fn int8_products_stay_close_to_f32_ones() {
        let (m, n, k) = (16, 384, 384);
        let (x, w, b) = (values(m * k, 4), values(n * k, 5), values(n, 6));
        let exact = f32_product(&x, &w, &b, k);
        let q = QLinear::new(&w, Some(&b), n, k, int8_isa(), None).forward(&x);
        // Quantization noise against the spread of the outputs: with outliers 8 times the
        // rest (every 97th value), each step is 1/16 of a typical value.
        let mean_square = |v: &mut dyn Iterator<Item = f32>| {
            let (sum, count) = v.fold((0f32, 0), |(s, c), x| (s + x * x, c + 1));
            (sum / count as f32).sqrt()
        };
        let rms = mean_square(&mut exact.iter().copied());
        let noise = mean_square(&mut exact.iter().zip(&q).map(|(a, b)| a - b));
        assert!(noise < 0.04 * rms, "rms error {noise}, rms {rms}");
    }

    #[test]
    fn activation_rows_use_255_steps_of_their_own_range_with_zero_exact() {
        let check = |v: &[f32], want_z: i32| {
            let mut u = vec![0u8; v.len()];
            let (s, z) = quantize_row(v, &mut u);
            assert_eq!(z, want_z, "zero point of {v:?}");
            assert_eq!(
                u.iter().max(),
                Some(&255),
                "the largest value takes the top code"
            );
            for (&x, &u) in v.iter().zip(&u) {
                let back = s * (i32::from(u) - z) as f32;
                assert!((back - x).abs() <= 0.5001 * s, "{x} came back as {back}");
                if x == 0.0 {
                    assert_eq!(back, 0.0, "0 is a code of its own");
                }
            }
        };
        // One-sided (a GELU output): all 255 steps cover [0, 2], twice a symmetric code's
        // resolution.
        check(&(0..=64).map(|i| i as f32 / 32.0).collect::<Vec<_>>(), 0);
        // Mixed: the zero point is the code of 0, round(0.5 / (2.5 / 255)) = 51.
        check(
            &(0..=100).map(|i| i as f32 / 40.0 - 0.5).collect::<Vec<_>>(),
            51,
        );
    }

    #[test]
    fn zero_rows_and_weights_give_the_bias() {
        let b = values(16, 7);
        let q = QLinear::new(&[0.0; 16 * 8], Some(&b), 16, 8, int8_isa(), None);
        assert_eq!(q.forward(&[0.0; 8 * 2]), [b.clone(), b].concat());
    }

    #[test]
    fn the_fast_erf_stays_within_a_millionth_of_libms() {
        let mut worst = 0f32;
        for i in -80_000..=80_000 {
            let x = i as f32 * 1e-4; // -8 to 8 in steps of 0.0001
            worst = worst.max((erf(x) - libm::erff(x)).abs());
        }
        assert!(worst < 1e-6, "worst error {worst}");
        // Saturated far out, odd, and exact at 0.
        assert!((erf(10.0) - 1.0).abs() < 1e-6 && erf(-10.0) == -erf(10.0) && erf(0.0) == 0.0);
    }

    #[test]
    fn the_fast_exp_stays_within_two_ulp_and_is_zero_below_the_normal_range() {
        let mut worst = 0u32;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (ours, libm) = (exp(x), x.exp());
            worst = worst.max(ours.to_bits().abs_diff(libm.to_bits()));
            x += 0.0137;
        }
        assert!(worst <= 2, "{worst} ulp from libm");
        assert_eq!(exp(0.0), 1.0);
        for x in [-87.31, -100.0, -3.4e38, f32::MIN, f32::NEG_INFINITY] {
            assert_eq!(exp(x), 0.0, "exp({x})");
        }
    }

    #[test]
    fn softmax_rows_add_the_mask_and_match_a_plain_softmax() {
        let len = 37;
        let mut x = values(3 * len, 8);
        let mut mask = vec![0f32; len];
        mask[30..].fill(f32::MIN);
        let expected: Vec<f32> = x
            .chunks(len)
            .flat_map(|row| {
                let max = row[..30].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let e: Vec<f64> = row[..30]
                    .iter()
                    .map(|&v| f64::from(v - max).exp())
                    .collect();
                let sum: f64 = e.iter().sum();
                let mut p: Vec<f32> = e.iter().map(|v| (v / sum) as f32).collect();
                p.resize(len, 0.0);
                p
            })
            .collect();
        softmax_rows(&mut x, &mask);
        for (i, (a, b)) in x.iter().zip(&expected).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 * b.max(1e-3),
                "element {i}: {a} vs {b}"
            );
        }
        assert!(x.chunks(len).all(|row| row[30..].iter().all(|&p| p == 0.0)));
        let mut portable = values(3 * len, 8);
        softmax_body(&mut portable, &mask);
        assert_eq!(
            x, portable,
            "the SIMD paths give other bits than the portable one"
        );
    }

    #[test]
    fn matmul_reads_strided_views_and_writes_strided_rows() {
        // A 5 x 3 matrix at columns 2..5 of rows 7 wide, times the transpose of a 4 x 3 one
        // stored row-major (so read with row stride 1, column stride 3).
        let a_data = values(5 * 7, 9);
        let b_data = values(4 * 3, 10);
        let a = MatRef {
            data: &a_data,
            offset: 2,
            rows: 5,
            cols: 3,
            row_stride: 7,
            col_stride: 1,
        };
        let bt = MatRef {
            data: &b_data,
            offset: 0,
            rows: 3,
            cols: 4,
            row_stride: 1,
            col_stride: 3,
        };
        let mut dst = vec![f32::NAN; 5 * 6];
        matmul(&mut dst, 6, a, bt, 0.5);
        for i in 0..5 {
            for j in 0..4 {
                let exact: f32 = (0..3)
                    .map(|t| a_data[2 + i * 7 + t] * b_data[j * 3 + t])
                    .sum();
                assert!((dst[i * 6 + j] - 0.5 * exact).abs() < 1e-6, "({i}, {j})");
            }
            assert!(
                dst[i * 6 + 4].is_nan() && dst[i * 6 + 5].is_nan(),
                "wrote past row {i}"
            );
        }
    }
}
