//! The BERT forward pass, on candle's tensors and candle-nn's layers, with two departures
//! from `candle_transformers::models::bert::BertModel`:
//!
//! **The attention mask.**
//! `candle_transformers::models::bert::BertModel` builds its additive attention mask from
//! `f32::MIN` cast to the model's dtype. In f16 and bf16 that cast overflows to -inf, and the
//! unmasked positions get `0 × -inf = NaN`: every vector comes out NaN. Here the mask uses the
//! dtype's own most negative finite value, as Hugging Face transformers does
//! (`torch.finfo(dtype).min`).
//!
//! **GELU on the CPU.** candle computes the exact (erf) GELU one element at a time through a
//! scalar `erff`: 14 % of the CPU time of an index run (`perf`, docs/benchmarks.md). For f32
//! on the CPU, [`gelu_erf`] evaluates erf as a rational polynomial in one pass the compiler
//! vectorises (the approximation Eigen and XLA use for f32, within 1e-6 of `erff`). Every
//! other step, and every other device and dtype, computes what `BertModel` does, with
//! candle-nn's fused `softmax_last_dim` for the attention probabilities (one pass per row
//! instead of five whole-tensor operations; 8 % more chunks/s on the CPU).

use candle_core::{CpuStorage, CustomOp1, D, DType, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

/// A BERT encoder without pooling head: token ids in, one hidden vector per token out.
pub(super) struct Bert {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    /// The first position's number: 0 for BERT; XLM-RoBERTa numbers real tokens from
    /// `padding_idx + 1` (padding sits after them here, masked, so its numbers do not matter).
    position_offset: u32,
}

/// One transformer layer, with the tensor names and arithmetic of Hugging Face's `BertLayer`.
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    act: HiddenAct,
    output: Linear,
    output_norm: LayerNorm,
    heads: usize,
    head_size: usize,
}

impl Layer {
    fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let hidden = config.hidden_size;
        let attention = vb.pp("attention");
        let norm = |vb: VarBuilder| candle_nn::layer_norm(hidden, config.layer_norm_eps, vb);
        Ok(Layer {
            query: candle_nn::linear(hidden, hidden, attention.pp("self").pp("query"))?,
            key: candle_nn::linear(hidden, hidden, attention.pp("self").pp("key"))?,
            value: candle_nn::linear(hidden, hidden, attention.pp("self").pp("value"))?,
            attention_out: candle_nn::linear(hidden, hidden, attention.pp("output").pp("dense"))?,
            attention_norm: norm(attention.pp("output").pp("LayerNorm"))?,
            intermediate: candle_nn::linear(
                hidden,
                config.intermediate_size,
                vb.pp("intermediate").pp("dense"),
            )?,
            act: config.hidden_act,
            output: candle_nn::linear(
                config.intermediate_size,
                hidden,
                vb.pp("output").pp("dense"),
            )?,
            output_norm: norm(vb.pp("output").pp("LayerNorm"))?,
            heads: config.num_attention_heads,
            head_size: hidden / config.num_attention_heads,
        })
    }

    /// `(n, len, heads × head size)` to `(n, heads, len, head size)`.
    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (n, len, _) = x.dims3()?;
        x.reshape((n, len, self.heads, self.head_size))?
            .transpose(1, 2)?
            .contiguous()
    }

    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let q = self.split_heads(&self.query.forward(x)?)?;
        let k = self.split_heads(&self.key.forward(x)?)?;
        let v = self.split_heads(&self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_size as f64).sqrt())?;
        let probs = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(mask)?)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .flatten_from(D::Minus2)?;
        let attended = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + x)?)?;
        let inner = self.intermediate.forward(&attended)?;
        let inner = match self.act {
            HiddenAct::Gelu => gelu_erf(&inner)?,
            HiddenAct::GeluApproximate => inner.gelu()?,
            HiddenAct::Relu => inner.relu()?,
        };
        self.output_norm
            .forward(&(self.output.forward(&inner)? + attended)?)
    }
}

/// The exact (erf) GELU: [`FastGeluErf`] for contiguous f32 on the CPU, candle's elsewhere.
pub(super) fn gelu_erf(x: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 && x.is_contiguous() {
        x.apply_op1_no_bwd(&FastGeluErf)
    } else {
        x.gelu_erf()
    }
}

/// `0.5 x (1 + erf(x / √2))` over a contiguous f32 CPU tensor, in one vectorisable pass.
struct FastGeluErf;

impl CustomOp1 for FastGeluErf {
    fn name(&self) -> &'static str {
        "lexsearch-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(data), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("lexsearch-gelu-erf takes contiguous f32 tensors");
        };
        let out = data[start..end]
            .iter()
            .map(|&v| 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2)))
            .collect();
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

/// erf for f32: a rational approximation on [-4, 4] (outside it erf is ±1 in f32), the one
/// Eigen and XLA use; branch-free, so loops over it vectorise. (Plain `a * b + c`: without
/// FMA in the target features `mul_add` becomes a call to `fmaf` per operation.)
#[inline(always)]
fn erf(x: f32) -> f32 {
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

impl Bert {
    /// Loads XLM-RoBERTa (or RoBERTa) weights: BERT's layers with positions numbered from
    /// `pad_token_id + 1`, under no prefix or `roberta.`.
    pub(super) fn load_roberta(vb: VarBuilder, config: &Config) -> Result<Self> {
        let offset = config.pad_token_id as u32 + 1;
        let bert = match Self::load_at(vb.clone(), config) {
            Ok(bert) => bert,
            Err(err) => Self::load_at(vb.pp("roberta"), config).map_err(|_| err)?,
        };
        Ok(Bert {
            position_offset: offset,
            ..bert
        })
    }

    /// Loads the weights, accepting the same tensor-name prefixes as `BertModel::load`
    /// (none, `bert.`, or `{model_type}.`).
    pub(super) fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        let vb = if vb.contains_tensor("bert") {
            vb.pp("bert")
        } else {
            vb
        };
        match Self::load_at(vb.clone(), config) {
            Ok(bert) => Ok(bert),
            Err(err) => match &config.model_type {
                Some(prefix) => Self::load_at(vb.pp(prefix), config).map_err(|_| err),
                None => Err(err),
            },
        }
    }

    fn load_at(vb: VarBuilder, config: &Config) -> Result<Self> {
        let emb = vb.pp("embeddings");
        let hidden = config.hidden_size;
        Ok(Bert {
            word: candle_nn::embedding(config.vocab_size, hidden, emb.pp("word_embeddings"))?,
            position: candle_nn::embedding(
                config.max_position_embeddings,
                hidden,
                emb.pp("position_embeddings"),
            )?,
            token_type: candle_nn::embedding(
                config.type_vocab_size,
                hidden,
                emb.pp("token_type_embeddings"),
            )?,
            norm: candle_nn::layer_norm(hidden, config.layer_norm_eps, emb.pp("LayerNorm"))?,
            layers: (0..config.num_hidden_layers)
                .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config))
                .collect::<Result<_>>()?,
            position_offset: 0,
        })
    }

    /// Hidden states `(n, len, hidden)` in the weights' dtype for `ids`, `types` and `mask`
    /// (all `(n, len)` u32; mask 1 for real tokens, 0 for padding).
    pub(super) fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_, len) = ids.dims2()?;
        let start = self.position_offset;
        let positions = Tensor::arange(start, start + len as u32, ids.device())?;
        let x = (self.word.forward(ids)? + self.token_type.forward(types)?)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        let x = self.norm.forward(&x)?;
        let keep = mask.to_dtype(x.dtype())?.unsqueeze(1)?.unsqueeze(1)?; // (n, 1, 1, len)
        let additive = (keep.ones_like()? - keep)?.affine(lowest(x.dtype()), 0.0)?;
        self.layers
            .iter()
            .try_fold(x, |x, layer| layer.forward(&x, &additive))
    }
}

/// The most negative finite value of `dtype`: added to the attention scores of padding.
pub(super) fn lowest(dtype: DType) -> f64 {
    match dtype {
        DType::F16 => -65504.0,
        DType::BF16 => -3.389_531_389_251_535_5e38,
        _ => f64::from(f32::MIN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

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
    fn the_fast_gelu_matches_candles_on_every_element() {
        let xs: Vec<f32> = (-3000..3000).map(|i| i as f32 * 2.7e-3).collect();
        let t = Tensor::new(xs.as_slice(), &Device::Cpu).unwrap();
        let fast = gelu_erf(&t).unwrap().to_vec1::<f32>().unwrap();
        let exact = t.gelu_erf().unwrap().to_vec1::<f32>().unwrap();
        let worst = fast
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-6, "worst difference {worst}");
    }

    #[test]
    fn the_padding_mask_is_finite_in_every_dtype() {
        for dtype in [DType::F32, DType::F16, DType::BF16] {
            let v = Tensor::new(&[0f32, 1.0], &Device::Cpu)
                .unwrap()
                .to_dtype(dtype)
                .unwrap()
                .affine(lowest(dtype), 0.0)
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            assert_eq!(v[0], 0.0, "{dtype:?}");
            assert!(v[1].is_finite() && v[1] < -6e4, "{dtype:?}: {}", v[1]);
        }
    }
}
