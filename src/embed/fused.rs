//! The BERT layer's fused steps, each computed in f32 and rounded once to the tensor's type:
//! a bias added with the GELU or the residual after it, the fused query/key/value rows split
//! into heads (the queries scaled), and the softmax with each text's additive mask.
//!
//! On CUDA with `LEXSEARCH_CUDA_KERNELS=1` (and the `cuda` feature) each step is one of
//! lexsearch's kernels (`super::cuda`); elsewhere these functions compute the same numbers
//! with candle's operations, the reference the unit tests hold the layer's fused path to
//! (`bert::Layer::forward_fused`). The encoder takes that path only where the kernels run
//! ([`on`]): candle's own path is as fast on the CPU.

use candle_core::{D, DType, Result, Tensor};

/// Whether the encoder takes the fused path for `t`: lexsearch's CUDA kernels are built in,
/// `t` is a CUDA tensor of a float type and `LEXSEARCH_CUDA_KERNELS=1`. Off by default: an
/// index run with them stalled on the H200 (docs/gpu.md).
pub(super) fn on(t: &Tensor) -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    cfg!(feature = "cuda")
        && t.device().is_cuda()
        && matches!(t.dtype(), DType::F32 | DType::F16 | DType::BF16)
        && *ON.get_or_init(|| std::env::var("LEXSEARCH_CUDA_KERNELS").as_deref() == Ok("1"))
}

/// `f` applied to `x` in f32, rounded back to `x`'s type.
fn in_f32(x: &Tensor, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    f(&x.to_dtype(DType::F32)?)?.to_dtype(x.dtype())
}

/// `x + bias` over the rows of `x` (`(.., cols)`).
pub(super) fn bias(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if x.device().is_cuda() {
        return super::cuda::bias(x, bias);
    }
    in_f32(x, |x| x.broadcast_add(&bias.to_dtype(DType::F32)?))
}

/// `gelu(x + bias)`, GELU with the exact error function.
pub(super) fn bias_gelu(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if x.device().is_cuda() {
        return super::cuda::bias_gelu(x, bias);
    }
    in_f32(x, |x| {
        x.broadcast_add(&bias.to_dtype(DType::F32)?)?.gelu_erf()
    })
}

/// `x + bias + residual`.
pub(super) fn bias_residual(x: &Tensor, bias: &Tensor, residual: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if x.device().is_cuda() {
        return super::cuda::bias_residual(x, bias, residual);
    }
    in_f32(x, |x| {
        x.broadcast_add(&bias.to_dtype(DType::F32)?)?
            .add(&residual.to_dtype(DType::F32)?)
    })
}

/// The queries (times `scale`), keys and values of `qkv` (`(n, len, 3 × hidden)`), each
/// `(n, heads, len, hidden / heads)` and contiguous.
pub(super) fn split_heads(
    qkv: &Tensor,
    heads: usize,
    scale: f32,
) -> Result<(Tensor, Tensor, Tensor)> {
    #[cfg(feature = "cuda")]
    if qkv.device().is_cuda() {
        return super::cuda::split_heads(qkv, heads, scale);
    }
    let (n, len, three) = qkv.dims3()?;
    let hidden = three / 3;
    let split = |i: usize| -> Result<Tensor> {
        qkv.narrow(D::Minus1, i * hidden, hidden)?
            .reshape((n, len, heads, hidden / heads))?
            .transpose(1, 2)?
            .contiguous()
    };
    let q = in_f32(&split(0)?, |q| q.affine(f64::from(scale), 0.0))?;
    Ok((q, split(1)?, split(2)?))
}

/// Softmax over the last dimension of `scores` (`(n, heads, len, cols)`) after adding each
/// text's additive mask (`n × cols` values, as `(n, 1, 1, cols)`).
pub(super) fn masked_softmax(scores: &Tensor, mask: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if scores.device().is_cuda() {
        return super::cuda::masked_softmax(scores, mask);
    }
    let (n, _, _, cols) = scores.dims4()?;
    let mask = mask.to_dtype(DType::F32)?.reshape((n, 1, 1, cols))?;
    in_f32(scores, |s| {
        candle_nn::ops::softmax_last_dim(&s.broadcast_add(&mask)?)
    })
}
