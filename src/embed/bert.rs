//! The BERT forward pass: candle-transformers' encoder layers behind our own embedding layer
//! and attention mask, so that the model also runs in half precision.
//!
//! `candle_transformers::models::bert::BertModel` builds its additive attention mask from
//! `f32::MIN` cast to the model's dtype. In f16 and bf16 that cast overflows to -inf, and the
//! unmasked positions get `0 × -inf = NaN`: every vector comes out NaN. Here the mask uses the
//! dtype's own most negative finite value, as Hugging Face transformers does
//! (`torch.finfo(dtype).min`). In f32 the computation is exactly `BertModel`'s.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use candle_transformers::models::bert::{BertEncoder, Config};

/// A BERT encoder without pooling head: token ids in, one hidden vector per token out.
pub(super) struct Bert {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    encoder: BertEncoder,
}

impl Bert {
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
            encoder: BertEncoder::load(vb.pp("encoder"), config)?,
        })
    }

    /// Hidden states `(n, len, hidden)` in the weights' dtype for `ids`, `types` and `mask`
    /// (all `(n, len)` u32; mask 1 for real tokens, 0 for padding).
    pub(super) fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_, len) = ids.dims2()?;
        let positions = Tensor::arange(0u32, len as u32, ids.device())?;
        let x = (self.word.forward(ids)? + self.token_type.forward(types)?)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        let x = self.norm.forward(&x)?;
        let keep = mask.to_dtype(x.dtype())?.unsqueeze(1)?.unsqueeze(1)?; // (n, 1, 1, len)
        let additive = (keep.ones_like()? - keep)?.affine(lowest(x.dtype()), 0.0)?;
        self.encoder.forward(&x, &additive)
    }
}

/// The most negative finite value of `dtype`: added to the attention scores of padding.
fn lowest(dtype: DType) -> f64 {
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
