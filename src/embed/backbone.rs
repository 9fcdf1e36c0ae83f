//! The family dispatch: one transformer backbone per model family, all with the same
//! interface (token ids, token types and mask in; final hidden states out), so that the
//! sentence-transformers pipeline (and the reranker's head) runs on any of them.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::bert::Bert;
use super::model::{Family, ModelFiles};
use super::modernbert::{ModernBert, ModernBertConfig};

/// A loaded transformer backbone.
pub(crate) enum Backbone {
    /// BERT.
    Bert(Bert),
    /// XLM-RoBERTa and RoBERTa: BERT's layers, positions counted from `padding_idx + 1`.
    XlmRoberta(Bert),
    /// ModernBERT.
    ModernBert(ModernBert),
}

impl Backbone {
    /// Loads the backbone of `files`' family from `vb`. The error names what does not fit.
    pub(crate) fn load(vb: VarBuilder, files: &ModelFiles) -> Result<Self> {
        let raw = &files.config.raw;
        let bert_config = || -> Result<candle_transformers::models::bert::Config> {
            serde_json::from_value(raw.clone()).map_err(|e| {
                candle_core::Error::Msg(format!("config.json is not a BERT-style config: {e}"))
            })
        };
        match files.family {
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
            // The decoder backbones (src/embed/qwen3.rs, gemma3.rs) are wired in here.
            Family::Qwen3 | Family::Gemma3 => candle_core::bail!(
                "the {} backbone is not part of this build of lexsearch; the families that run are \
                 bert, xlm-roberta and modernbert",
                files.family.name()
            ),
        }
    }

    /// Final hidden states `(n, len, hidden)` in the weights' dtype. `ids`, `types` and `mask`
    /// are `(n, len)` u32, right-padded, mask 1 for real tokens; `types` matters to BERT only.
    pub(crate) fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        match self {
            Backbone::Bert(m) | Backbone::XlmRoberta(m) => m.forward(ids, types, mask),
            Backbone::ModernBert(m) => m.forward(ids, mask),
        }
    }
}
