//! int8 matrix products for `--precision int8` on the CPU: `y = x · Wᵀ + b` with the weights
//! quantized once at load (symmetric, one scale per output channel) and the activations
//! quantized per row (per token) on every call.
//!
//! **Why `unsafe` here.** The products use the CPU's integer dot-product instructions through
//! `core::arch` intrinsics, which Rust only offers as `unsafe fn`s (calling a function compiled
//! for an instruction set the CPU may lack is undefined behaviour). All of the crate's SIMD
//! `unsafe` lives in this one module: every intrinsic path is entered only after
//! `is_x86_feature_detected!` has confirmed the instructions, and reads only inside the
//! buffers whose sizes [`QLinear::new`] and [`QLinear::forward`] fix.
//!
//! **Arithmetic.** Every path computes the same integers: `Σ_k q(x)_k · q(w)_k` in i32, with
//! `q(x)` and `q(w)` in [-127, 127], then `y = acc · (s_x · s_w) + b` in f32 in that order.
//! So the AVX-512 VNNI, AVX2 and portable paths give bit-identical results (the unit tests
//! compare them), and an index's int8 vectors do not depend on the machine that built it.
//!
//! - **AVX-512 VNNI** (`vpdpbusd`, 4 u8×i8 products summed into each i32 lane): activations
//!   are stored as `q + 128` (u8) and each output subtracts `128 · Σ_k q(w)_k`, computed once.
//!   Tiles of 8 rows × 48 (or 64, 32, 16) channels in 24 zmm accumulators.
//! - **AVX2** (`vpmaddwd`, 2 i16×i16 products per i32 lane): exact, no saturation (unlike
//!   `vpmaddubsw`, whose i16 pair sums overflow with 8-bit activations). Tiles of 4 rows × 24
//!   channels. Twice the f32 FMA rate on CPUs with two multiply pipes.
//! - **Portable**: plain Rust, the reference the tests compare the others against.
//!
//! The `avx512` cargo feature (default) allows the AVX-512 path; a build without it uses AVX2.

#![allow(unsafe_code)]

use std::sync::OnceLock;

/// Rows of a tile in the AVX-512 kernel; activation buffers are padded to a multiple of it.
const ROW_PAD: usize = 8;

/// The instruction set an int8 product runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Isa {
    /// AVX-512 with VNNI (`vpdpbusd` on 512-bit registers).
    Avx512Vnni,
    /// AVX2 (`vpmaddwd` on 256-bit registers).
    Avx2,
    /// No SIMD: plain Rust.
    Portable,
}

impl Int8Isa {
    /// Its name as `lexsearch bench` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Int8Isa::Avx512Vnni => "avx512-vnni",
            Int8Isa::Avx2 => "avx2",
            Int8Isa::Portable => "portable",
        }
    }

    /// Multiply-adds per cycle per core of this path relative to f32 FMAs of the same width
    /// (the int8 peak is this times the f32 MAC peak): `vpdpbusd` does 4 per 32-bit lane,
    /// `vpmaddwd` 2, scalar code 1.
    pub fn macs_per_f32_fma_lane(self) -> f64 {
        match self {
            Int8Isa::Avx512Vnni => 4.0,
            Int8Isa::Avx2 => 2.0,
            Int8Isa::Portable => 1.0,
        }
    }
}

/// The best int8 path this CPU (and build) has; detected once. `LEXSEARCH_INT8_ISA=avx2`
/// (or `portable`) chooses a lesser one, to measure it on a machine that has better.
pub fn int8_isa() -> Int8Isa {
    static ISA: OnceLock<Int8Isa> = OnceLock::new();
    *ISA.get_or_init(|| {
        let best = detect();
        match std::env::var("LEXSEARCH_INT8_ISA").as_deref() {
            Ok("portable") => Int8Isa::Portable,
            Ok("avx2") if best != Int8Isa::Portable => Int8Isa::Avx2,
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
        Int8Isa::Avx512Vnni
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        Int8Isa::Avx2
    } else {
        Int8Isa::Portable
    }
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
    /// Per output channel: `128 · Σ_k q(w)` (the AVX-512 path's u8 offset).
    offset: Vec<i32>,
    /// Portable: `[n][k]`. AVX-512: `[n/16][k/4][16][4]`.
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

/// Symmetric int8 quantization of `v`: the scale and `round(v / scale)` in [-127, 127].
#[inline(always)]
fn quantize_row(v: &[f32], mut put: impl FnMut(usize, i32)) -> f32 {
    let amax = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if amax == 0.0 || !amax.is_finite() {
        for i in 0..v.len() {
            put(i, 0);
        }
        return if amax.is_finite() { 0.0 } else { f32::NAN };
    }
    let inv = 127.0 / amax;
    for (i, &x) in v.iter().enumerate() {
        put(i, ((x * inv).round_ties_even() as i32).clamp(-127, 127));
    }
    amax / 127.0
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
            Int8Isa::Avx512Vnni if n.is_multiple_of(16) && k.is_multiple_of(4) => {
                Int8Isa::Avx512Vnni
            }
            Int8Isa::Avx512Vnni | Int8Isa::Avx2 if n.is_multiple_of(8) && k.is_multiple_of(2) => {
                Int8Isa::Avx2
            }
            _ => Int8Isa::Portable,
        };
        let mut q = vec![0i8; n * k];
        let mut scale = vec![0f32; n];
        let mut offset = vec![0i32; n];
        for c in 0..n {
            let row = &mut q[c * k..(c + 1) * k];
            let s = quantize_row(&weight[c * k..(c + 1) * k], |i, v| row[i] = v as i8);
            scale[c] = if s.is_nan() { 0.0 } else { s };
            offset[c] = 128 * row.iter().map(|&v| i32::from(v)).sum::<i32>();
        }
        let bias = bias.map_or_else(|| vec![0.0; n], <[f32]>::to_vec);
        assert_eq!(bias.len(), n, "bias is not {n} long");
        let (mut w8, mut w16) = (Vec::new(), Vec::new());
        match isa {
            Int8Isa::Portable => w8 = q,
            Int8Isa::Avx512Vnni => {
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
            offset,
            w8,
            w16,
            smooth,
        }
    }

    /// Quantizes each row of `x` (rows of `k`, smoothed first if this layer is) into
    /// `put(row, i, value)`, its scale into `sx`. Inlined into each path, so that the AVX2
    /// one vectorises it, with the same arithmetic everywhere.
    #[inline(always)]
    fn quantize_rows(&self, x: &[f32], sx: &mut [f32], mut put: impl FnMut(usize, usize, i32)) {
        let k = self.k;
        let mut tmp = vec![0f32; if self.smooth.is_some() { k } else { 0 }];
        for (r, row) in x.chunks_exact(k).enumerate() {
            let row = match &self.smooth {
                Some(m) => {
                    for ((t, &v), &f) in tmp.iter_mut().zip(row).zip(m) {
                        *t = v * f;
                    }
                    &tmp[..]
                }
                None => row,
            };
            sx[r] = quantize_row(row, |i, v| put(r, i, v));
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
        let mut out = vec![0f32; m * n];
        let mut sx = vec![0f32; m.next_multiple_of(ROW_PAD)];
        match self.isa {
            Int8Isa::Portable => {
                let mut a = vec![0i8; m * k];
                self.quantize_rows(x, &mut sx, |r, i, v| a[r * k + i] = v as i8);
                for r in 0..m {
                    let row = &a[r * k..(r + 1) * k];
                    for c in 0..n {
                        let w = &self.w8[c * k..(c + 1) * k];
                        let acc: i32 = row
                            .iter()
                            .zip(w)
                            .map(|(&p, &q)| i32::from(p) * i32::from(q))
                            .sum();
                        out[r * n + c] = acc as f32 * (sx[r] * self.scale[c]) + self.bias[c];
                    }
                }
            }
            #[cfg(target_arch = "x86_64")]
            Int8Isa::Avx512Vnni => {
                let mut a = vec![128u8; m.next_multiple_of(ROW_PAD) * k];
                // SAFETY: this path is only chosen when `int8_isa` (or a caller that checked
                // the same features) found AVX2; the closure writes inside row `r`.
                unsafe {
                    quantize_rows_avx2(self, x, &mut sx, |r, i, v| a[r * k + i] = (v + 128) as u8);
                }
                // SAFETY: AVX-512 F/BW/VNNI were detected; `a` holds a multiple of 8 rows of
                // `k`, `w8` is `n/16` blocks of `k/4 × 64` bytes, `out` is `m × n`.
                unsafe { x86::vnni(self, &a, &sx, m, &mut out) }
            }
            #[cfg(target_arch = "x86_64")]
            Int8Isa::Avx2 => {
                let mut a = vec![0i16; m.next_multiple_of(ROW_PAD) * k];
                // SAFETY: AVX2 was detected; the closure writes inside row `r`.
                unsafe {
                    quantize_rows_avx2(self, x, &mut sx, |r, i, v| a[r * k + i] = v as i16);
                }
                // SAFETY: AVX2 was detected; `a` holds a multiple of 8 rows of `k`, `w16` is
                // `n/8` blocks of `k/2 × 16` i16, `out` is `m × n`.
                unsafe { x86::avx2(self, &a, &sx, m, &mut out) }
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("only the portable path exists off x86-64"),
        }
        out
    }
}

/// [`QLinear::quantize_rows`] compiled with AVX2, so that it vectorises.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn quantize_rows_avx2(
    q: &QLinear,
    x: &[f32],
    sx: &mut [f32],
    put: impl FnMut(usize, usize, i32),
) {
    q.quantize_rows(x, sx, put);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::QLinear;
    use std::arch::x86_64::*;

    /// Output channel block (in 16-lane vectors) for `n`: 3, 4, 2 or 1 vectors.
    fn vectors(n: usize, lanes: usize) -> usize {
        [3, 4, 2, 1]
            .into_iter()
            .find(|v| n.is_multiple_of(v * lanes))
            .unwrap_or(1)
    }

    /// Rows processed per pass over a block of weights (keeps them in L1/L2).
    const ROW_BLOCK: usize = 64;

    /// The AVX-512 VNNI product. `a`: u8 activations (`q + 128`), rows padded to 8.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn vnni(w: &QLinear, a: &[u8], sx: &[f32], m: usize, out: &mut [f32]) {
        // SAFETY: the caller's guarantees, passed on.
        unsafe {
            match vectors(w.n, 16) {
                3 => vnni_n::<3>(w, a, sx, m, out),
                4 => vnni_n::<4>(w, a, sx, m, out),
                2 => vnni_n::<2>(w, a, sx, m, out),
                _ => vnni_n::<1>(w, a, sx, m, out),
            }
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn vnni_n<const NV: usize>(
        w: &QLinear,
        a: &[u8],
        sx: &[f32],
        m: usize,
        out: &mut [f32],
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
                            let s = _mm512_set1_ps(sx[r0 + r]);
                            for (v, &acc) in acc.iter().enumerate() {
                                let c = cb + v * 16;
                                let off = _mm512_loadu_si512(w.offset.as_ptr().add(c).cast());
                                let ws = _mm512_loadu_ps(w.scale.as_ptr().add(c));
                                let b = _mm512_loadu_ps(w.bias.as_ptr().add(c));
                                let t = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, off));
                                let y = _mm512_add_ps(_mm512_mul_ps(t, _mm512_mul_ps(s, ws)), b);
                                _mm512_storeu_ps(out.as_mut_ptr().add((r0 + r) * n + c), y);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The AVX2 product. `a`: i16 activations, rows padded to 8.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2(w: &QLinear, a: &[i16], sx: &[f32], m: usize, out: &mut [f32]) {
        // SAFETY: the caller's guarantees, passed on.
        unsafe {
            match vectors(w.n, 8) {
                3 => avx2_n::<3>(w, a, sx, m, out),
                4 | 2 => avx2_n::<2>(w, a, sx, m, out),
                _ => avx2_n::<1>(w, a, sx, m, out),
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2_n<const NV: usize>(
        w: &QLinear,
        a: &[i16],
        sx: &[f32],
        m: usize,
        out: &mut [f32],
    ) {
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
                            let s = _mm256_set1_ps(sx[r0 + r]);
                            for (v, &acc) in acc.iter().enumerate() {
                                let c = cb + v * 8;
                                let ws = _mm256_loadu_ps(w.scale.as_ptr().add(c));
                                let b = _mm256_loadu_ps(w.bias.as_ptr().add(c));
                                let t = _mm256_cvtepi32_ps(acc);
                                let y = _mm256_add_ps(_mm256_mul_ps(t, _mm256_mul_ps(s, ws)), b);
                                _mm256_storeu_ps(out.as_mut_ptr().add((r0 + r) * n + c), y);
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
            }
        }
        isas
    }

    #[test]
    fn every_simd_path_gives_the_portable_paths_exact_results() {
        // MiniLM's shapes (fused QKV 1152, FFN 1536) and ragged row counts (tile tails).
        for (m, n, k) in [(13, 1152, 384), (70, 384, 1536), (5, 48, 8), (9, 1536, 384)] {
            let x = values(m * k, 1);
            let w = values(n * k, 2);
            let b = values(n, 3);
            let xmax: Vec<f32> = (0..k).map(|j| 1.0 + (j % 7) as f32).collect();
            let reference =
                QLinear::new(&w, Some(&b), n, k, Int8Isa::Portable, Some(&xmax)).forward(&x);
            for isa in available() {
                let q = QLinear::new(&w, Some(&b), n, k, isa, Some(&xmax));
                assert_eq!(q.isa(), isa, "{m}x{n}x{k}");
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
    fn zero_rows_and_weights_give_the_bias() {
        let b = values(16, 7);
        let q = QLinear::new(&[0.0; 16 * 8], Some(&b), 16, 8, int8_isa(), None);
        assert_eq!(q.forward(&[0.0; 8 * 2]), [b.clone(), b].concat());
    }
}
