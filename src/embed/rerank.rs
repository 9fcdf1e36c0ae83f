//! Cross-encoder reranking: a sentence-transformers `CrossEncoder` folder, run with candle.
//!
//! A cross-encoder reads the query and a passage together (`[CLS] query [SEP] passage [SEP]`)
//! and gives one relevance score: slower than comparing embeddings, since every pair needs
//! its own forward pass, but much better at telling which of a few dozen candidates answers
//! the question. The search path uses it on the best fused hits
//! ([`SearchRequest::rerank`](crate::search::SearchRequest::rerank)).
//!
//! ```text
//! DIR/config.json          *ForSequenceClassification, num_labels 1 (one score per pair)
//! DIR/tokenizer.json       encodes (query, passage) pairs with the model's pair template
//! DIR/model.safetensors    backbone and classification head
//! DIR/tokenizer_config.json, sentence_bert_config.json   maximum length (optional)
//! DIR/config_sentence_transformers.json                  activation_fn (optional)
//! ```
//!
//! Scores are what `CrossEncoder(DIR).predict(pairs)` gives in sentence-transformers: the
//! head's logit through the folder's activation (Sigmoid by default for one output, as
//! sentence-transformers does), pairs truncated `longest_first` at the model's maximum length.
//!
//! Families: a [`Backbone`] gives hidden states `(n, len, hidden)` and a [`Head`] turns them
//! into one logit per pair. BERT runs today; the XLM-RoBERTa and ModernBERT heads are here,
//! and their backbones plug into [`load_backbone`].

use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{LayerNorm, Linear, VarBuilder};
use serde::Serialize;
use serde_json::Value;
use tokenizers::{
    EncodeInput, Encoding, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy,
};

use super::backbone::Backbone;
use super::bert::gelu_erf;
use super::encoder::run_batches;
use super::model::{read_json, read_optional_json};
use super::weights::Weights;
use super::{Activation, DeviceSpec, Family, ModelError, Precision};

/// Pairs scored together in one forward pass on a CPU.
const DEFAULT_BATCH: usize = 8;

/// Pairs per forward pass on a GPU.
const DEFAULT_GPU_BATCH: usize = 64;

/// Why a folder cannot be used as a reranker. Each message says what to pass instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RerankError {
    /// No folder at that path.
    #[error(
        "no reranker folder at {}; pass `--rerank DIR` with a sentence-transformers cross-encoder \
         folder (config.json, tokenizer.json, model.safetensors), e.g. a download of \
         cross-encoder/ms-marco-MiniLM-L6-v2",
        .dir.display()
    )]
    NotFound {
        /// The folder looked for.
        dir: PathBuf,
    },
    /// The folder holds a model, but not a cross-encoder with one output.
    #[error(
        "{} is not a cross-encoder: {reason}; pass a sentence-transformers CrossEncoder folder \
         (a *ForSequenceClassification model with one output, num_labels 1, such as \
         cross-encoder/ms-marco-MiniLM-L6-v2)",
        .dir.display()
    )]
    NotCrossEncoder {
        /// The folder.
        dir: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// A cross-encoder of a family lexsearch cannot run.
    #[error(
        "{} is a cross-encoder of model_type {model_type:?}, which lexsearch cannot run yet; \
         supported: {supported}",
        .dir.display()
    )]
    UnsupportedFamily {
        /// The folder.
        dir: PathBuf,
        /// Its declared model_type.
        model_type: String,
        /// The families this build runs.
        supported: String,
    },
    /// The folder asks for a score activation lexsearch does not know.
    #[error(
        "{}: activation_fn {name:?} is not supported (Sigmoid, Identity and Tanh are); \
         set it to one of those in the file, or remove it for the default (Sigmoid)",
        .path.display()
    )]
    Activation {
        /// The file that names it.
        path: PathBuf,
        /// Its dotted name.
        name: String,
    },
    /// Reading the files, loading the weights, the device or the forward pass failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Families of cross-encoders, by config.json's `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RerankFamily {
    /// BERT (`BertForSequenceClassification`: ms-marco-MiniLM, bge-reranker-base/large).
    Bert,
    /// XLM-RoBERTa or RoBERTa (`XLMRobertaForSequenceClassification`: bge-reranker-v2-m3).
    XlmRoberta,
    /// ModernBERT (`ModernBertForSequenceClassification`: gte-reranker-modernbert-base).
    ModernBert,
}

impl RerankFamily {
    fn from_model_type(model_type: &str) -> Option<Self> {
        match model_type {
            "bert" => Some(RerankFamily::Bert),
            "xlm-roberta" | "roberta" => Some(RerankFamily::XlmRoberta),
            "modernbert" => Some(RerankFamily::ModernBert),
            _ => None,
        }
    }

    /// The family's name, as in references.json and `--json` output.
    pub fn name(self) -> &'static str {
        match self {
            RerankFamily::Bert => "bert",
            RerankFamily::XlmRoberta => "xlm-roberta",
            RerankFamily::ModernBert => "modernbert",
        }
    }

    /// The longest input the position embeddings allow. RoBERTa's positions start after
    /// the padding id, so 514 positions hold 512 tokens.
    fn position_limit(self, config: &Value) -> Option<usize> {
        let max = config.get("max_position_embeddings")?.as_u64()? as usize;
        Some(match self {
            RerankFamily::XlmRoberta => {
                let pad = config
                    .get("pad_token_id")
                    .and_then(Value::as_u64)
                    .unwrap_or(1) as usize;
                max.saturating_sub(pad + 1)
            }
            RerankFamily::Bert | RerankFamily::ModernBert => max,
        })
    }
}

/// The score activation named by a torch class path in a sentence-transformers config
/// (`torch.nn.modules.activation.Sigmoid`): Sigmoid, Identity or Tanh. `None` for a path
/// sentence-transformers would not trust (not under `torch.`): it then uses the default too.
fn score_activation(path: &Path, name: &str) -> Result<Option<Activation>, RerankError> {
    if !name.starts_with("torch.") {
        return Ok(None);
    }
    match name.rsplit('.').next() {
        Some("Sigmoid") => Ok(Some(Activation::Sigmoid)),
        Some("Identity") => Ok(Some(Activation::Identity)),
        Some("Tanh") => Ok(Some(Activation::Tanh)),
        _ => Err(RerankError::Activation {
            path: path.to_path_buf(),
            name: name.to_string(),
        }),
    }
}

/// The score from the head's logit `x`.
fn apply_score_activation(activation: Activation, x: f32) -> f32 {
    match activation {
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Tanh => x.tanh(),
        Activation::Relu => x.max(0.0),
        // `score_activation` gives no other; a GELU score would be the raw logit's GELU,
        // which no cross-encoder uses.
        Activation::Identity | Activation::Gelu => x,
    }
}

/// The identity and shape of a loaded reranker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RerankerInfo {
    /// A readable name: the folder's name.
    pub name: String,
    /// The folder it was loaded from.
    pub dir: PathBuf,
    /// Its family.
    pub family: RerankFamily,
    /// Declared architecture, e.g. `BertForSequenceClassification`.
    pub architecture: String,
    /// Longest (query, passage) pair in tokens, special tokens included; longer pairs are
    /// truncated, the longer of the two first.
    pub max_length: usize,
    /// What turns the logit into the score.
    pub activation: Activation,
    /// Number of transformer layers.
    pub layers: usize,
    /// Hidden size.
    pub hidden: usize,
}

/// The family's backbone (the embedders' own, see `backbone.rs`) from the weights under `vb`.
fn load_backbone(
    family: RerankFamily,
    vb: &VarBuilder,
    config: &Value,
) -> candle_core::Result<Backbone> {
    let family = match family {
        RerankFamily::Bert => Family::Bert,
        RerankFamily::XlmRoberta => Family::XlmRoberta,
        RerankFamily::ModernBert => Family::ModernBert,
    };
    Backbone::load_family(vb.clone(), family, config)
}

/// An activation of a classification head (transformers' `ACT2FN` names).
#[derive(Debug, Clone, Copy)]
enum HeadAct {
    Gelu,
    GeluTanh,
    Relu,
    Silu,
}

impl HeadAct {
    fn from_name(name: &str) -> candle_core::Result<Self> {
        match name {
            "gelu" => Ok(HeadAct::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(HeadAct::GeluTanh),
            "relu" => Ok(HeadAct::Relu),
            "silu" | "swish" => Ok(HeadAct::Silu),
            other => Err(candle_core::Error::Msg(format!(
                "classifier_activation {other:?} is not supported (gelu, gelu_pytorch_tanh, relu, silu are)"
            ))),
        }
    }

    fn forward(self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            HeadAct::Gelu => gelu_erf(x),
            HeadAct::GeluTanh => x.gelu(),
            HeadAct::Relu => x.relu(),
            HeadAct::Silu => x.silu(),
        }
    }
}

/// The sequence-classification head of each family: hidden states in, one logit per pair out.
enum Head {
    /// `BertForSequenceClassification`: the pooler (dense + tanh on `[CLS]`), then `classifier`.
    Bert { pooler: Linear, classifier: Linear },
    /// `RobertaClassificationHead`: dense + tanh on `<s>`, then `out_proj`.
    Roberta { dense: Linear, out_proj: Linear },
    /// `ModernBertForSequenceClassification`: `[CLS]` or masked-mean pooling
    /// (`classifier_pooling`), dense + activation + LayerNorm (`head`), then `classifier`.
    ModernBert {
        mean: bool,
        dense: Linear,
        act: HeadAct,
        norm: LayerNorm,
        classifier: Linear,
    },
}

fn hidden_size(config: &Value) -> candle_core::Result<usize> {
    config
        .get("hidden_size")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .ok_or_else(|| candle_core::Error::Msg("config.json has no hidden_size".into()))
}

impl Head {
    /// The head's weights (the whole checkpoint is under `vb`), for a one-output model.
    fn load(family: RerankFamily, vb: &VarBuilder, config: &Value) -> candle_core::Result<Self> {
        let h = hidden_size(config)?;
        let str_of = |k: &str, default: &'static str| -> String {
            config
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_string()
        };
        let bool_of = |k: &str| config.get(k).and_then(Value::as_bool).unwrap_or(false);
        Ok(match family {
            RerankFamily::Bert => {
                let base = if vb.contains_tensor("bert.pooler.dense.weight") {
                    vb.pp("bert")
                } else {
                    vb.clone()
                };
                Head::Bert {
                    pooler: candle_nn::linear(h, h, base.pp("pooler").pp("dense"))?,
                    classifier: candle_nn::linear(h, 1, vb.pp("classifier"))?,
                }
            }
            RerankFamily::XlmRoberta => Head::Roberta {
                dense: candle_nn::linear(h, h, vb.pp("classifier").pp("dense"))?,
                out_proj: candle_nn::linear(h, 1, vb.pp("classifier").pp("out_proj"))?,
            },
            RerankFamily::ModernBert => {
                let eps = config
                    .get("norm_eps")
                    .and_then(Value::as_f64)
                    .unwrap_or(1e-5);
                let head = vb.pp("head");
                let norm = if bool_of("norm_bias") {
                    candle_nn::layer_norm(h, eps, head.pp("norm"))?
                } else {
                    candle_nn::layer_norm_no_bias(h, eps, head.pp("norm"))?
                };
                let pooling = str_of("classifier_pooling", "cls");
                if pooling != "cls" && pooling != "mean" {
                    candle_core::bail!(
                        "classifier_pooling {pooling:?} is not supported (cls and mean are)"
                    );
                }
                Head::ModernBert {
                    mean: pooling == "mean",
                    dense: candle_nn::linear_b(h, h, bool_of("classifier_bias"), head.pp("dense"))?,
                    act: HeadAct::from_name(&str_of("classifier_activation", "gelu"))?,
                    norm,
                    classifier: candle_nn::linear(h, 1, vb.pp("classifier"))?,
                }
            }
        })
    }

    /// Logits `(n,)` from hidden states `(n, len, hidden)` and the mask `(n, len)`.
    fn forward(&self, hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let first = || hidden.narrow(1, 0, 1)?.squeeze(1);
        let logits = match self {
            Head::Bert { pooler, classifier } => {
                classifier.forward(&pooler.forward(&first()?)?.tanh()?)?
            }
            Head::Roberta { dense, out_proj } => {
                out_proj.forward(&dense.forward(&first()?)?.tanh()?)?
            }
            Head::ModernBert {
                mean,
                dense,
                act,
                norm,
                classifier,
            } => {
                let pooled = if *mean {
                    masked_mean(hidden, mask)?
                } else {
                    first()?
                };
                classifier.forward(&norm.forward(&act.forward(&dense.forward(&pooled)?)?)?)?
            }
        };
        logits.squeeze(D::Minus1)
    }
}

/// The mean of `hidden` `(n, len, h)` over the positions where `mask` `(n, len)` is 1.
fn masked_mean(hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let m = mask.to_dtype(hidden.dtype())?.unsqueeze(2)?;
    let sum = hidden.broadcast_mul(&m)?.sum(1)?;
    sum.broadcast_div(&m.sum(1)?)
}

/// A loaded cross-encoder. Deterministic: a pair gets the same score alone or in any batch
/// (padding is masked out of the attention and never pooled).
pub struct CrossEncoder {
    backbone: Backbone,
    head: Head,
    /// Truncates pairs `longest_first` at the maximum length; never pads.
    tokenizer: Tokenizer,
    info: RerankerInfo,
    pad_id: u32,
    device: Device,
    batch_size: usize,
}

impl std::fmt::Debug for CrossEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrossEncoder")
            .field("info", &self.info)
            .finish()
    }
}

/// What config.json says about a cross-encoder: its family and architecture, or why it is
/// not one.
fn classify(dir: &Path, config: &Value) -> Result<(RerankFamily, String), RerankError> {
    let not = |reason: String| RerankError::NotCrossEncoder {
        dir: dir.to_path_buf(),
        reason,
    };
    let model_type = config
        .get("model_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    let archs: Vec<&str> = config
        .get("architectures")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(arch) = archs
        .iter()
        .find(|a| a.ends_with("ForSequenceClassification"))
    else {
        return Err(not(match archs.as_slice() {
            [] => "config.json names no architectures, so it has no classification head".into(),
            [a, ..] if a.ends_with("ForCausalLM") => format!(
                "its architecture is {a}, a generative model (rerankers that score by yes/no \
                 token logits are not supported)"
            ),
            many => format!(
                "its architecture is {}, an encoder without a sequence-classification head \
                 (an embedding model: pass it to --model, not to --rerank)",
                many.join(", ")
            ),
        }));
    };
    // transformers stores the number of outputs as the id2label map; num_labels when given.
    let labels = config
        .get("num_labels")
        .and_then(Value::as_u64)
        .or_else(|| {
            config
                .get("id2label")
                .and_then(Value::as_object)
                .map(|m| m.len() as u64)
        })
        .unwrap_or(2);
    if labels != 1 {
        return Err(not(format!(
            "{arch} has {labels} outputs (num_labels {labels}), a classifier into labels; \
             reranking needs one relevance score per pair (num_labels 1)"
        )));
    }
    let family = RerankFamily::from_model_type(model_type).ok_or_else(|| {
        RerankError::UnsupportedFamily {
            dir: dir.to_path_buf(),
            model_type: model_type.to_string(),
            supported: supported_families(),
        }
    })?;
    Ok((family, arch.to_string()))
}

fn supported_families() -> String {
    let runs: Vec<&str> = [
        RerankFamily::Bert,
        RerankFamily::XlmRoberta,
        RerankFamily::ModernBert,
    ]
    .into_iter()
    .map(RerankFamily::name)
    .collect();
    format!(
        "{} cross-encoders (model_type {})",
        runs.join(", "),
        runs.iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The score activation, where sentence-transformers looks for it: the CrossEncoder's own
/// config (`config_sentence_transformers.json`), then config.json (`sentence_transformers`,
/// or the pre-v4 `sbert_ce_default_activation_function`), else Sigmoid for one output.
fn activation(dir: &Path, config: &Value) -> Result<Activation, RerankError> {
    let st_path = dir.join("config_sentence_transformers.json");
    let st = read_optional_json(&st_path)?;
    let config_path = dir.join("config.json");
    let candidates = [
        (
            &st_path,
            st.as_ref()
                .and_then(|v| v.get("activation_fn")?.as_str().map(String::from)),
        ),
        (
            &config_path,
            config
                .get("sentence_transformers")
                .and_then(|v| v.get("activation_fn")?.as_str().map(String::from)),
        ),
        (
            &config_path,
            config
                .get("sbert_ce_default_activation_function")
                .and_then(Value::as_str)
                .map(String::from),
        ),
    ];
    for (path, name) in candidates {
        if let Some(name) = name
            && let Some(act) = score_activation(path, &name)?
        {
            return Ok(act);
        }
    }
    Ok(Activation::Sigmoid)
}

/// The longest pair, as sentence-transformers decides it: `max_seq_length` from
/// sentence_bert_config.json, else the tokenizer's `model_max_length`, no longer than the
/// position embeddings allow.
fn max_length(dir: &Path, family: RerankFamily, config: &Value) -> Result<usize, ModelError> {
    let limit = family.position_limit(config).unwrap_or(512);
    let st = read_optional_json(&dir.join("sentence_bert_config.json"))?;
    let tok = read_optional_json(&dir.join("tokenizer_config.json"))?;
    let declared = st
        .as_ref()
        .and_then(|v| v.get("max_seq_length")?.as_u64())
        .or_else(|| {
            tok.as_ref()
                .and_then(|v| v.get("model_max_length")?.as_u64())
                .filter(|&n| n < 1_000_000)
        });
    Ok(declared.map_or(limit, |n| (n as usize).min(limit)))
}

fn tokenizer_error(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::Tokenizer {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl CrossEncoder {
    /// Loads the cross-encoder in `dir` on `device`, in f32 on the CPU and f16 on a GPU.
    pub fn load(dir: &Path, device: DeviceSpec) -> Result<Self, RerankError> {
        Self::load_with(dir, device, Precision::Auto)
    }

    /// [`CrossEncoder::load`] with a chosen precision.
    pub fn load_with(
        dir: &Path,
        device: DeviceSpec,
        precision: Precision,
    ) -> Result<Self, RerankError> {
        if !dir.is_dir() {
            return Err(RerankError::NotFound {
                dir: dir.to_path_buf(),
            });
        }
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file: "config.json",
                hint: "a Hugging Face model folder needs config.json beside its weights",
            }
            .into());
        }
        let config = read_json(&config_path)?;
        let (family, architecture) = classify(dir, &config)?;
        let activation = activation(dir, &config)?;
        let max_length = max_length(dir, family, &config)?;
        if !dir.join("tokenizer.json").is_file() {
            return Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file: "tokenizer.json",
                hint: "copy tokenizer.json from the model's repository (older models ship vocab.txt \
                       alone: save the tokenizer once with `transformers` to get tokenizer.json)",
            }
            .into());
        }
        super::weights::files(dir)?;

        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer =
            Tokenizer::from_file(&tok_path).map_err(|e| tokenizer_error(&tok_path, e))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| tokenizer_error(&tok_path, e))?;
        let vocab = tokenizer.get_vocab_size(true);
        let config_vocab = config
            .get("vocab_size")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        if vocab > config_vocab {
            return Err(ModelError::VocabMismatch {
                path: tok_path,
                tokenizer_vocab: vocab,
                config_vocab,
            }
            .into());
        }

        let device = device.resolve()?;
        let dtype = precision.dtype(&device);
        let weights = Weights::read(dir)?;
        let weights_path = weights.path.clone();
        let weights_error = |e: candle_core::Error| ModelError::Weights {
            path: weights_path.clone(),
            message: format!("{e} (do config.json and the weights belong together?)"),
        };
        let vb = weights
            .into_var_builder(dtype, &device)
            .map_err(weights_error)?;
        let backbone = load_backbone(family, &vb, &config).map_err(weights_error)?;
        let head = Head::load(family, &vb, &config).map_err(weights_error)?;
        super::device::weights_ready(&device)?;

        let count = |k: &str| config.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
        let info = RerankerInfo {
            name: dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            dir: dir.to_path_buf(),
            family,
            architecture,
            max_length,
            activation,
            layers: count("num_hidden_layers"),
            hidden: count("hidden_size"),
        };
        Ok(CrossEncoder {
            backbone,
            head,
            tokenizer,
            info,
            pad_id: config
                .get("pad_token_id")
                .and_then(Value::as_u64)
                .unwrap_or(0) as u32,
            batch_size: if device.is_cpu() {
                DEFAULT_BATCH
            } else {
                DEFAULT_GPU_BATCH
            },
            device,
        })
    }

    /// The reranker's identity and shape.
    pub fn info(&self) -> &RerankerInfo {
        &self.info
    }

    /// Sets how many pairs go through the model at once (at least 1).
    pub fn set_batch_size(&mut self, n: usize) {
        self.batch_size = n.max(1);
    }

    /// Tokens the model reads for the pair (`query`, `passage`), special tokens included,
    /// after truncation.
    pub fn pair_len(&self, query: &str, passage: &str) -> Result<usize, RerankError> {
        let enc = self
            .tokenizer
            .encode((query, passage), true)
            .map_err(|e| tokenizer_error(&self.info.dir.join("tokenizer.json"), e))?;
        Ok(enc.get_ids().len())
    }

    /// Scores each passage against `query`: one score per passage, in order, higher is more
    /// relevant. Pairs are grouped by length so that batches carry little padding, and on
    /// the CPU whole batches run side by side on the cores candle's own threads leave free.
    pub fn score(&self, query: &str, passages: &[&str]) -> Result<Vec<f32>, RerankError> {
        let pairs: Vec<EncodeInput> = passages
            .iter()
            .map(|p| EncodeInput::Dual(query.into(), (*p).into()))
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(pairs, true)
            .map_err(|e| tokenizer_error(&self.info.dir.join("tokenizer.json"), e))?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(encodings[i].get_ids().len()));
        // On several workers, batches no larger than an even share each: 10 pairs on two
        // cores run as 5 + 5, not 8 + 2.
        let workers = self.workers();
        let size = if workers > 1 {
            order.len().div_ceil(workers).clamp(1, self.batch_size)
        } else {
            self.batch_size
        };
        let batches: Vec<&[usize]> = order.chunks(size).collect();
        let run = |batch: &[usize]| -> Result<Vec<f32>, ModelError> {
            let encs: Vec<&Encoding> = batch.iter().map(|&i| &encodings[i]).collect();
            self.forward(&encs)
                .map_err(|e| ModelError::Inference(format!("reranking failed: {e}")))
        };
        let mut out = vec![0.0; encodings.len()];
        for (batch, scores) in batches.iter().zip(run_batches(&batches, workers, run)) {
            for (&i, s) in batch.iter().zip(scores?) {
                out[i] = s;
            }
        }
        Ok(out)
    }

    /// Threads that run whole batches side by side: on the CPU, the cores left over by
    /// candle's own threading (all of them with `RAYON_NUM_THREADS=1`, which the binary sets).
    fn workers(&self) -> usize {
        if !self.device.is_cpu() {
            return 1;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / candle_core::utils::get_num_threads().max(1)).max(1)
    }

    /// One forward pass over a batch of encoded pairs: their scores.
    fn forward(&self, encs: &[&Encoding]) -> candle_core::Result<Vec<f32>> {
        let len = encs
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0)
            .max(1);
        let n = encs.len();
        let mut ids = Vec::with_capacity(n * len);
        let mut types = Vec::with_capacity(n * len);
        let mut mask = Vec::with_capacity(n * len);
        for e in encs {
            let k = e.get_ids().len();
            ids.extend_from_slice(e.get_ids());
            types.extend_from_slice(e.get_type_ids());
            mask.extend(std::iter::repeat_n(1u32, k));
            ids.extend(std::iter::repeat_n(self.pad_id, len - k));
            types.extend(std::iter::repeat_n(0u32, len - k));
            mask.extend(std::iter::repeat_n(0u32, len - k));
        }
        let ids = Tensor::from_vec(ids, (n, len), &self.device)?;
        let types = Tensor::from_vec(types, (n, len), &self.device)?;
        let mask = Tensor::from_vec(mask, (n, len), &self.device)?;
        let hidden = self.backbone.forward(&ids, &types, &mask)?;
        let logits = self.head.forward(&hidden, &mask)?.to_dtype(DType::F32)?;
        Ok(logits
            .to_vec1::<f32>()?
            .into_iter()
            .map(|x| apply_score_activation(self.info.activation, x))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reason(config: Value) -> String {
        classify(Path::new("m"), &config).unwrap_err().to_string()
    }

    #[test]
    fn an_embedding_model_is_refused_with_what_to_pass_instead() {
        let msg = reason(json!({"model_type": "bert", "architectures": ["BertModel"]}));
        assert!(msg.contains("not a cross-encoder"), "{msg}");
        assert!(msg.contains("BertModel"), "{msg}");
        assert!(msg.contains("--model"), "{msg}");
        assert!(msg.contains("num_labels 1"), "{msg}");
    }

    #[test]
    fn a_classifier_with_several_labels_is_refused() {
        let msg = reason(json!({
            "model_type": "bert",
            "architectures": ["BertForSequenceClassification"],
            "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        }));
        assert!(msg.contains("2 outputs"), "{msg}");
    }

    #[test]
    fn families_are_told_apart_by_model_type() {
        let one = |t: &str, a: &str| json!({"model_type": t, "architectures": [a], "id2label": {"0": "LABEL_0"}});
        let (family, arch) = classify(
            Path::new("m"),
            &one("bert", "BertForSequenceClassification"),
        )
        .unwrap();
        assert_eq!(
            (family, arch.as_str()),
            (RerankFamily::Bert, "BertForSequenceClassification")
        );
        let msg = reason(one("deberta-v2", "DebertaV2ForSequenceClassification"));
        assert!(
            msg.contains("deberta-v2") && msg.contains("supported"),
            "{msg}"
        );
    }

    #[test]
    fn the_activation_follows_sentence_transformers_precedence() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing declared: Sigmoid, the CrossEncoder default for one output.
        assert_eq!(
            activation(dir.path(), &json!({})).unwrap(),
            Activation::Sigmoid
        );
        // The pre-v4 key in config.json.
        let old =
            json!({"sbert_ce_default_activation_function": "torch.nn.modules.linear.Identity"});
        assert_eq!(activation(dir.path(), &old).unwrap(), Activation::Identity);
        // The CrossEncoder's own config wins over config.json.
        std::fs::write(
            dir.path().join("config_sentence_transformers.json"),
            r#"{"activation_fn": "torch.nn.modules.activation.Tanh"}"#,
        )
        .unwrap();
        assert_eq!(activation(dir.path(), &old).unwrap(), Activation::Tanh);
        // A path outside torch is not trusted: the next source decides.
        std::fs::write(
            dir.path().join("config_sentence_transformers.json"),
            r#"{"activation_fn": "mypackage.Custom"}"#,
        )
        .unwrap();
        assert_eq!(activation(dir.path(), &old).unwrap(), Activation::Identity);
        // An unknown torch activation is refused, naming the file.
        std::fs::write(
            dir.path().join("config_sentence_transformers.json"),
            r#"{"activation_fn": "torch.nn.modules.activation.Softplus"}"#,
        )
        .unwrap();
        let msg = activation(dir.path(), &old).unwrap_err().to_string();
        assert!(
            msg.contains("Softplus") && msg.contains("config_sentence_transformers.json"),
            "{msg}"
        );
    }

    #[test]
    fn roberta_positions_leave_room_for_the_padding_offset() {
        let c = json!({"max_position_embeddings": 514, "pad_token_id": 1});
        assert_eq!(RerankFamily::XlmRoberta.position_limit(&c), Some(512));
        assert_eq!(RerankFamily::Bert.position_limit(&c), Some(514));
    }

    #[test]
    fn modernbert_mean_pooling_ignores_padding() {
        let hidden =
            Tensor::new(&[[[1f32, 2.0], [3.0, 4.0], [100.0, 100.0]]], &Device::Cpu).unwrap();
        let mask = Tensor::new(&[[1u32, 1, 0]], &Device::Cpu).unwrap();
        let mean = masked_mean(&hidden, &mask)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(mean, vec![vec![2.0, 3.0]]);
    }
}
