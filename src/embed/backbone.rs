//! The family dispatch: one transformer backbone per model family, all with the same
//! interface (token ids, token types and mask in; final hidden states out), so that the
//! sentence-transformers pipeline (and the reranker's head) runs on any of them.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::bert::Bert;
use super::gemma3::{Gemma3, Gemma3Config};
use super::model::{Family, ModelFiles};
use super::modernbert::{ModernBert, ModernBertConfig};
use super::qwen3::{Qwen3, Qwen3Config};

/// A loaded transformer backbone.
pub(crate) enum Backbone {
    /// BERT.
    Bert(Bert),
    /// XLM-RoBERTa and RoBERTa: BERT's layers, positions counted from `padding_idx + 1`.
    XlmRoberta(Bert),
    /// ModernBERT.
    ModernBert(ModernBert),
    /// Qwen3 (Qwen3-Embedding): a causal decoder.
    Qwen3(Qwen3),
    /// Gemma 3 (embeddinggemma): bidirectional attention.
    Gemma3(Gemma3),
}

impl Backbone {
    /// Loads the backbone of `files`' family from `vb`. The error names what does not fit.
    pub(crate) fn load(vb: VarBuilder, files: &ModelFiles) -> Result<Self> {
        Self::load_family(vb, files.family, &files.config.raw)
    }

    /// Loads a `family` backbone described by the config.json `raw` from `vb` (weights with
    /// or without their head's prefix: `bert.`, `roberta.`, `model.`).
    pub(crate) fn load_family(
        vb: VarBuilder,
        family: Family,
        raw: &serde_json::Value,
    ) -> Result<Self> {
        let bert_config = || -> Result<candle_transformers::models::bert::Config> {
            let mut raw = raw.clone();
            // candle knows "gelu" (exact), "gelu_approximate" and "relu"; map the tanh spellings.
            if let Some(act) = raw.get_mut("hidden_act")
                && matches!(
                    act.as_str(),
                    Some("gelu_new" | "gelu_pytorch_tanh" | "gelu_fast")
                )
            {
                *act = serde_json::Value::from("geluapproximate");
            }
            serde_json::from_value(raw).map_err(|e| {
                candle_core::Error::Msg(format!("config.json is not a BERT-style config: {e}"))
            })
        };
        match family {
            Family::Bert => Ok(Backbone::Bert(Bert::load(vb, &bert_config()?)?)),
            Family::XlmRoberta => Ok(Backbone::XlmRoberta(Bert::load_roberta(
                vb,
                &bert_config()?,
            )?)),
            Family::ModernBert => {
                let cfg = ModernBertConfig::from_json(raw).map_err(|e| {
                    candle_core::Error::Msg(format!("config.json is not a ModernBERT config: {e}"))
                })?;
                Ok(Backbone::ModernBert(ModernBert::load(vb, &cfg)?))
            }
            Family::Qwen3 => {
                let cfg: Qwen3Config = serde_json::from_value(raw.clone()).map_err(|e| {
                    candle_core::Error::Msg(format!("config.json is not a Qwen3 config: {e}"))
                })?;
                Ok(Backbone::Qwen3(Qwen3::load(vb, &cfg)?))
            }
            Family::Gemma3 => {
                let cfg: Gemma3Config = serde_json::from_value(raw.clone()).map_err(|e| {
                    candle_core::Error::Msg(format!("config.json is not a Gemma 3 config: {e}"))
                })?;
                Ok(Backbone::Gemma3(Gemma3::load(vb, &cfg)?))
            }
        }
    }

    /// Turns the linear layers into int8 products on `isa` (BERT and XLM-RoBERTa only; other
    /// families refuse, naming themselves).
    /// `calibration` is one unpadded text's token ids, token types and mask, `(1, len)`.
    pub(crate) fn quantize(
        &mut self,
        isa: super::kernel::Int8Isa,
        calibration: [&Tensor; 3],
    ) -> std::result::Result<(), String> {
        let [ids, types, mask] = calibration;
        match self {
            Backbone::Bert(m) | Backbone::XlmRoberta(m) => {
                m.quantize(isa, ids, types, mask).map_err(|e| e.to_string())
            }
            Backbone::ModernBert(_) => Err(refusal("ModernBERT")),
            Backbone::Qwen3(_) => Err(refusal("Qwen3")),
            Backbone::Gemma3(_) => Err(refusal("Gemma 3")),
        }
    }

    /// Final hidden states `(n, len, hidden)` in the weights' dtype. `ids`, `types` and `mask`
    /// are `(n, len)` u32, right-padded, mask 1 for real tokens; `types` matters to BERT only.
    pub(crate) fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        match self {
            Backbone::Bert(m) | Backbone::XlmRoberta(m) => m.forward(ids, types, mask),
            Backbone::ModernBert(m) => m.forward(ids, mask),
            Backbone::Qwen3(m) => m.forward(ids, mask),
            Backbone::Gemma3(m) => m.forward(ids, mask),
        }
    }
}

/// Why a family has no int8 path.
fn refusal(family: &str) -> String {
    format!(
        "int8 is implemented for BERT-family models (BERT, XLM-RoBERTa) only, and this is a \
         {family} model; use --precision f32 (or f16/bf16 on a GPU)"
    )
}
