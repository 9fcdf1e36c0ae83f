//! lexsearch's own CUDA kernels for the BERT encoder (`kernels.cu`, compiled to PTX by
//! build.rs), as candle operations: the CUDA side of `super::fused`, which says what each
//! computes and when the encoder uses them.
//!
//! Measured on an H200 (Nsight Compute, docs/gpu.md), candle's way of adding a broadcast bias
//! or attention mask (`broadcast_add`, index arithmetic over every dimension for every
//! element) took 65 % of the f16 encoder's GPU time, and the copies that split the heads
//! another 13 %; the matrix products took 5 %. These kernels add the bias in the same pass as
//! the GELU or the residual, split the fused query/key/value rows into heads in one pass (the
//! query already scaled by 1/√d), and take the softmax with the mask added on the way: 3.1x
//! the f16 encoder's chunks/s there (2,833 → 8,861 at 256 tokens), the agreement targets met.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use candle_core::cuda_backend::{Map1, Map2, Map3, WrapErr, kernel_name};
use candle_core::{
    CudaDevice, CudaStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor,
    WithDType,
};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/lexsearch_kernels.ptx"));
const MODULE: &str = "lexsearch";

/// What [`BiasRows`] computes per element: `x + bias`, `gelu(x + bias)` (erf) or
/// `x + bias + residual`.
#[derive(Clone, Copy)]
enum BiasMode {
    Plain,
    Gelu,
    Residual,
}

/// `x + bias` over the rows of `x` (`(.., cols)`).
pub(super) fn bias(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let x = x.contiguous()?;
    x.apply_op3_no_bwd(&bias.contiguous()?, &x, &BiasRows(BiasMode::Plain))
}

/// `gelu(x + bias)`, GELU with the exact error function.
pub(super) fn bias_gelu(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let x = x.contiguous()?;
    x.apply_op3_no_bwd(&bias.contiguous()?, &x, &BiasRows(BiasMode::Gelu))
}

/// `x + bias + residual`.
pub(super) fn bias_residual(x: &Tensor, bias: &Tensor, residual: &Tensor) -> Result<Tensor> {
    x.contiguous()?.apply_op3_no_bwd(
        &bias.contiguous()?,
        &residual.contiguous()?,
        &BiasRows(BiasMode::Residual),
    )
}

/// The queries (times `scale`), keys and values of `qkv` (`(n, len, 3 × hidden)`), each
/// `(n, heads, len, hidden / heads)` and contiguous.
pub(super) fn split_heads(
    qkv: &Tensor,
    heads: usize,
    scale: f32,
) -> Result<(Tensor, Tensor, Tensor)> {
    let all = qkv
        .contiguous()?
        .apply_op1_no_bwd(&SplitHeads { heads, scale })?;
    Ok((all.get(0)?, all.get(1)?, all.get(2)?))
}

/// Softmax over the last dimension of `scores` (`(n, heads, len, cols)`) after adding each
/// text's additive mask (`(n, 1, 1, cols)` or any shape of `n × cols` values).
pub(super) fn masked_softmax(scores: &Tensor, mask: &Tensor) -> Result<Tensor> {
    scores
        .contiguous()?
        .apply_op2_no_bwd(&mask.contiguous()?, &MaskedSoftmax)
}

fn rows_cols(layout: &Layout) -> Result<(u32, u32)> {
    let dims = layout.shape().dims();
    let cols = *dims.last().unwrap_or(&1);
    let rows = layout.shape().elem_count() / cols.max(1);
    Ok((fit(rows)?, fit(cols)?))
}

/// `v` as the kernels' 32-bit count.
fn fit(v: usize) -> Result<u32> {
    u32::try_from(v)
        .map_err(|_| candle_core::Error::Msg(format!("{v} is too large for lexsearch's kernels")))
}

fn contiguous<'a, T: DeviceRepr>(
    s: &'a CudaSlice<T>,
    l: &Layout,
) -> Result<candle_core::cuda_backend::cudarc::driver::CudaView<'a, T>> {
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(s.slice(start..end)),
        None => candle_core::bail!("lexsearch's CUDA kernels take contiguous tensors"),
    }
}

/// Rows to blocks: one block of 256 threads per row, at most 65,535 blocks (grid-stride).
fn row_config(rows: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (rows.clamp(1, 65_535), 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// The bias kernels (`lx_bias`, `lx_bias_gelu`, `lx_bias_residual`), which share one
/// signature: `x`, `bias`, `residual` (read by the last only), `out`, `rows`, `cols`.
struct BiasRows(BiasMode);

impl Map3 for BiasRows {
    fn f<T: DeviceRepr + WithDType + ValidAsZeroBits>(
        &self,
        x: &CudaSlice<T>,
        xl: &Layout,
        b: &CudaSlice<T>,
        bl: &Layout,
        r: &CudaSlice<T>,
        rl: &Layout,
        dev: &CudaDevice,
    ) -> Result<CudaSlice<T>> {
        let (rows, cols) = rows_cols(xl)?;
        if bl.shape().elem_count() != cols as usize || rl.shape().dims() != xl.shape().dims() {
            candle_core::bail!(
                "bias {:?} and residual {:?} do not fit {:?}",
                bl.shape(),
                rl.shape(),
                xl.shape()
            );
        }
        let name = match self.0 {
            BiasMode::Plain => "lx_bias",
            BiasMode::Gelu => "lx_bias_gelu",
            BiasMode::Residual => "lx_bias_residual",
        };
        let func = dev.get_or_load_custom_func(&kernel_name::<T>(name), MODULE, PTX)?;
        let (x, b, r) = (contiguous(x, xl)?, contiguous(b, bl)?, contiguous(r, rl)?);
        // SAFETY: every element is written by the kernel.
        let out = unsafe { dev.alloc::<T>(xl.shape().elem_count())? };
        let mut launch = func.builder();
        launch
            .arg(&x)
            .arg(&b)
            .arg(&r)
            .arg(&out)
            .arg(&rows)
            .arg(&cols);
        // SAFETY: the arguments match the kernel's signature in kernels.cu.
        unsafe { launch.launch(row_config(rows)) }.w()?;
        Ok(out)
    }
}

impl CustomOp3 for BiasRows {
    fn name(&self) -> &'static str {
        "lexsearch-bias"
    }

    fn cpu_fwd(
        &self,
        _: &candle_core::CpuStorage,
        _: &Layout,
        _: &candle_core::CpuStorage,
        _: &Layout,
        _: &candle_core::CpuStorage,
        _: &Layout,
    ) -> Result<(candle_core::CpuStorage, Shape)> {
        candle_core::bail!("lexsearch-bias runs on CUDA only")
    }

    fn cuda_fwd(
        &self,
        x: &CudaStorage,
        xl: &Layout,
        b: &CudaStorage,
        bl: &Layout,
        r: &CudaStorage,
        rl: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let device = x.device().clone();
        let slice = self.map(&x.slice, xl, &b.slice, bl, &r.slice, rl, &device)?;
        Ok((CudaStorage { slice, device }, xl.shape().clone()))
    }
}

struct SplitHeads {
    heads: usize,
    scale: f32,
}

impl SplitHeads {
    /// `(n, len, heads, head)` of a `(n, len, 3 × hidden)` layout.
    fn dims(&self, l: &Layout) -> Result<(usize, usize, usize, usize)> {
        let (n, len, three) = l.shape().dims3()?;
        if self.heads == 0 || three % (3 * self.heads) != 0 {
            candle_core::bail!(
                "qkv {:?} does not split into {} heads",
                l.shape(),
                self.heads
            );
        }
        Ok((n, len, self.heads, three / 3 / self.heads))
    }
}

impl Map1 for SplitHeads {
    fn f<T: DeviceRepr + WithDType + ValidAsZeroBits>(
        &self,
        qkv: &CudaSlice<T>,
        dev: &CudaDevice,
        l: &Layout,
    ) -> Result<CudaSlice<T>> {
        let (n, len, heads, head) = self.dims(l)?;
        let (n32, len32, heads32, head32) = (fit(n)?, fit(len)?, fit(heads)?, fit(head)?);
        let rows = fit(n * len)?;
        let func = dev.get_or_load_custom_func(&kernel_name::<T>("lx_split_heads"), MODULE, PTX)?;
        let qkv = contiguous(qkv, l)?;
        // SAFETY: every element is written by the kernel.
        let out = unsafe { dev.alloc::<T>(l.shape().elem_count())? };
        let mut launch = func.builder();
        launch
            .arg(&qkv)
            .arg(&out)
            .arg(&n32)
            .arg(&len32)
            .arg(&heads32)
            .arg(&head32)
            .arg(&self.scale);
        // SAFETY: the arguments match the kernel's signature in kernels.cu.
        unsafe { launch.launch(row_config(rows)) }.w()?;
        Ok(out)
    }
}

impl CustomOp1 for SplitHeads {
    fn name(&self) -> &'static str {
        "lexsearch-split-heads"
    }

    fn cpu_fwd(
        &self,
        _: &candle_core::CpuStorage,
        _: &Layout,
    ) -> Result<(candle_core::CpuStorage, Shape)> {
        candle_core::bail!("lexsearch-split-heads runs on CUDA only")
    }

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let (n, len, heads, head) = self.dims(l)?;
        let device = s.device().clone();
        let slice = self.map(&s.slice, &device, l)?;
        Ok((
            CudaStorage { slice, device },
            Shape::from((3, n, heads, len, head)),
        ))
    }
}

struct MaskedSoftmax;

/// Rows per block of [`MaskedSoftmax`]: one warp each.
const SOFTMAX_ROWS: u32 = 4;

impl Map2 for MaskedSoftmax {
    fn f<T: DeviceRepr + WithDType + ValidAsZeroBits>(
        &self,
        s: &CudaSlice<T>,
        sl: &Layout,
        m: &CudaSlice<T>,
        ml: &Layout,
        dev: &CudaDevice,
    ) -> Result<CudaSlice<T>> {
        let (rows, cols) = rows_cols(sl)?;
        let n = sl.shape().dims().first().copied().unwrap_or(1);
        if ml.shape().elem_count() != n * cols as usize
            || n == 0
            || !(rows as usize).is_multiple_of(n)
        {
            candle_core::bail!("mask {:?} does not fit scores {:?}", ml.shape(), sl.shape());
        }
        let per_text = rows / n as u32;
        let func =
            dev.get_or_load_custom_func(&kernel_name::<T>("lx_masked_softmax"), MODULE, PTX)?;
        let (s, m) = (contiguous(s, sl)?, contiguous(m, ml)?);
        // SAFETY: every element is written by the kernel.
        let out = unsafe { dev.alloc::<T>(sl.shape().elem_count())? };
        let cfg = LaunchConfig {
            grid_dim: (rows.div_ceil(SOFTMAX_ROWS).max(1), 1, 1),
            block_dim: (32, SOFTMAX_ROWS, 1),
            shared_mem_bytes: 0,
        };
        let mut launch = func.builder();
        launch
            .arg(&s)
            .arg(&m)
            .arg(&out)
            .arg(&rows)
            .arg(&cols)
            .arg(&per_text);
        // SAFETY: the arguments match the kernel's signature in kernels.cu.
        unsafe { launch.launch(cfg) }.w()?;
        Ok(out)
    }
}

impl CustomOp2 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "lexsearch-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        _: &candle_core::CpuStorage,
        _: &Layout,
        _: &candle_core::CpuStorage,
        _: &Layout,
    ) -> Result<(candle_core::CpuStorage, Shape)> {
        candle_core::bail!("lexsearch-masked-softmax runs on CUDA only")
    }

    fn cuda_fwd(
        &self,
        s: &CudaStorage,
        sl: &Layout,
        m: &CudaStorage,
        ml: &Layout,
    ) -> Result<(CudaStorage, Shape)> {
        let device = s.device().clone();
        let slice = self.map(&s.slice, sl, &m.slice, ml, &device)?;
        Ok((CudaStorage { slice, device }, sl.shape().clone()))
    }
}
