//! BERT's multi-head self-attention over the fused query/key/value projection.
//!
//! On the CPU in f32 it runs as one candle operation ([`FusedAttention`]): for each text and
//! head, in parallel, the scores `q · kᵀ / √d` are multiplied straight out of the `[query |
//! key | value]` rows with gemm's kernels ([`kernel::matmul`] on strided views: no heads
//! split into copies, no transposes), the mask is added and the softmax taken in place with
//! a vectorised `exp` ([`kernel::softmax_rows`]), and the probabilities multiply the values
//! into the head's columns of the output. candle's way (split heads, `matmul`, a
//! whole-tensor scale, a broadcast mask, `softmax_last_dim` with libm's scalar `expf`, a
//! transpose back) spent a quarter of an int8 encoder's time in the softmax's `expf` alone
//! (`perf`, docs/benchmarks.md). With lexsearch's CUDA kernels ([`fused_self_attention`]) the
//! heads are split and the masked softmax taken in one pass each; elsewhere, candle's way.

use candle_core::{CpuStorage, CustomOp2, D, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::kernel::{self, MatRef};

/// Self-attention of `qkv` (`(n, len, 3 × hidden)`: query, key and value of each token side
/// by side) with `heads` heads and the additive mask `(n, 1, 1, len)`: the context
/// `(n, len, hidden)`, heads side by side.
pub(super) fn self_attention(qkv: &Tensor, mask: &Tensor, heads: usize) -> Result<Tensor> {
    if qkv.device().is_cpu() && qkv.dtype() == DType::F32 && mask.dtype() == DType::F32 {
        let mask = mask.flatten_from(1)?.contiguous()?;
        return qkv
            .contiguous()?
            .apply_op2_no_bwd(&mask, &FusedAttention { heads });
    }
    let (n, len, three) = qkv.dims3()?;
    let hidden = three / 3;
    let head_size = hidden / heads;
    let split = |i: usize| -> Result<Tensor> {
        qkv.narrow(D::Minus1, i * hidden, hidden)?
            .reshape((n, len, heads, head_size))?
            .transpose(1, 2)?
            .contiguous()
    };
    let (q, k, v) = (split(0)?, split(1)?, split(2)?);
    let scores = (q.matmul(&k.t()?)? / (head_size as f64).sqrt())?;
    let probs = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(mask)?)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .contiguous()?
        .flatten_from(D::Minus2)
}

/// [`self_attention`] in the fused steps of `super::fused` (lexsearch's kernels on CUDA): the
/// heads split with the queries scaled, and the mask added inside the softmax.
pub(super) fn fused_self_attention(qkv: &Tensor, mask: &Tensor, heads: usize) -> Result<Tensor> {
    let head_size = qkv.dim(D::Minus1)? / 3 / heads.max(1);
    let scale = 1.0 / (head_size as f32).sqrt();
    let (q, k, v) = super::fused::split_heads(qkv, heads, scale)?;
    let probs = super::fused::masked_softmax(&q.matmul(&k.t()?)?, mask)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .contiguous()?
        .flatten_from(D::Minus2)
}

/// [`self_attention`] on contiguous f32 CPU tensors: `qkv (n, len, 3h)` and the mask
/// `(n, len)`.
struct FusedAttention {
    heads: usize,
}

impl CustomOp2 for FusedAttention {
    fn name(&self) -> &'static str {
        "lexsearch-attention"
    }

    fn cpu_fwd(
        &self,
        qkv: &CpuStorage,
        qkv_layout: &Layout,
        mask: &CpuStorage,
        mask_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(qkv), Some((q0, q1)), CpuStorage::F32(mask), Some((m0, m1))) = (
            qkv,
            qkv_layout.contiguous_offsets(),
            mask,
            mask_layout.contiguous_offsets(),
        ) else {
            candle_core::bail!("lexsearch-attention takes contiguous f32 tensors");
        };
        let (n, len, three) = qkv_layout.shape().dims3()?;
        let heads = self.heads;
        if mask_layout.shape().dims2()? != (n, len) || three % (3 * heads) != 0 {
            candle_core::bail!(
                "lexsearch-attention: qkv {:?} and mask {:?} do not fit {heads} heads",
                qkv_layout.shape(),
                mask_layout.shape()
            );
        }
        let (qkv, mask) = (&qkv[q0..q1], &mask[m0..m1]);
        let hidden = three / 3;
        let d = hidden / heads;
        let scale = 1.0 / (d as f32).sqrt();
        let contexts: Vec<Vec<f32>> = (0..n * heads)
            .into_par_iter()
            .map(|task| {
                let (b, head) = (task / heads, task % heads);
                let at = |offset: usize, rows, cols, row_stride, col_stride| MatRef {
                    data: qkv,
                    offset: b * len * three + offset + head * d,
                    rows,
                    cols,
                    row_stride,
                    col_stride,
                };
                let query = at(0, len, d, three, 1);
                let key_t = at(hidden, d, len, 1, three);
                let value = at(2 * hidden, len, d, three, 1);
                let mut probs = kernel::matmul_new(query, key_t, scale);
                kernel::softmax_rows(&mut probs, &mask[b * len..(b + 1) * len]);
                kernel::matmul_new(MatRef::dense(&probs, len, len), value, 1.0)
            })
            .collect();
        let mut out = vec![0f32; n * len * hidden];
        for (task, context) in contexts.iter().enumerate() {
            let (b, head) = (task / heads, task % heads);
            for (i, row) in context.chunks_exact(d).enumerate() {
                let at = (b * len + i) * hidden + head * d;
                out[at..at + d].copy_from_slice(row);
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, len, hidden))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// candle's way on the same tensors, forced by running it in f64.
    fn reference(qkv: &Tensor, mask: &Tensor, heads: usize) -> Tensor {
        let out = self_attention(
            &qkv.to_dtype(DType::F64).unwrap(),
            &mask.to_dtype(DType::F64).unwrap(),
            heads,
        )
        .unwrap();
        out.to_dtype(DType::F32).unwrap()
    }

    #[test]
    fn the_fused_attention_matches_candles_with_padding_masked() {
        let dev = Device::Cpu;
        let (n, len, hidden, heads) = (3, 19, 48, 4);
        let qkv = Tensor::randn(0f32, 1.0, (n, len, 3 * hidden), &dev).unwrap();
        // Text 0 fills the batch; texts 1 and 2 end in 5 and 12 padding positions.
        let keep: Vec<f32> = (0..n * len)
            .map(|i| {
                let (b, j) = (i / len, i % len);
                if j < [len, len - 5, len - 12][b] {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let keep = Tensor::from_vec(keep, (n, 1, 1, len), &dev).unwrap();
        let mask = ((keep.ones_like().unwrap() - keep).unwrap())
            .affine(f64::from(f32::MIN), 0.0)
            .unwrap();
        let ours = self_attention(&qkv, &mask, heads).unwrap();
        assert_eq!(ours.dims(), [n, len, hidden]);
        let diff = (ours - reference(&qkv, &mask, heads))
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-5, "largest difference {diff}");
    }

    #[test]
    fn a_padded_text_attends_as_it_does_alone() {
        let dev = Device::Cpu;
        let (len, hidden, heads) = (11, 32, 2);
        let alone = Tensor::randn(0f32, 1.0, (1, len, 3 * hidden), &dev).unwrap();
        let padded = Tensor::cat(
            &[
                &alone,
                &Tensor::randn(0f32, 1.0, (1, 6, 3 * hidden), &dev).unwrap(),
            ],
            1,
        )
        .unwrap();
        let mask_alone = Tensor::zeros((1, 1, 1, len), DType::F32, &dev).unwrap();
        let mut pad = vec![0f32; len + 6];
        pad[len..].fill(f32::MIN);
        let mask_padded = Tensor::from_vec(pad, (1, 1, 1, len + 6), &dev).unwrap();
        let a = self_attention(&alone, &mask_alone, heads).unwrap();
        let p = self_attention(&padded, &mask_padded, heads)
            .unwrap()
            .narrow(1, 0, len)
            .unwrap();
        let diff = (a - p).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-6);
    }
}
