//! Reading and diagnosing a model folder (Hugging Face sentence-transformers layout).
//!
//! ```text
//! MODEL/config.json                 architecture, sizes, vocabulary size
//! MODEL/tokenizer.json              the model's own tokenizer
//! MODEL/model.safetensors           weights
//! MODEL/modules.json                sentence-transformers pipeline (optional)
//! MODEL/1_Pooling/config.json       pooling mode (optional: mean pooling with a warning)
//! MODEL/2_Dense/config.json         Dense modules after pooling (optional, any folder names)
//! MODEL/sentence_bert_config.json   max_seq_length, do_lower_case (optional)
//! MODEL/config_sentence_transformers.json   prompts, default_prompt_name (optional)
//! MODEL/tokenizer_config.json       padding and truncation side (optional)
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How token vectors become one sentence vector; mirrors sentence-transformers' `Pooling`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean of the token vectors under the attention mask.
    Mean,
    /// The first (`[CLS]`) token's vector.
    Cls,
    /// Element-wise maximum over the tokens under the attention mask.
    Max,
    /// Sum under the mask divided by the square root of the number of tokens.
    MeanSqrtLen,
    /// The last real token's vector (decoder embedding models such as Qwen3-Embedding).
    #[serde(rename = "lasttoken")]
    LastToken,
}

impl Pooling {
    /// The sentence-transformers name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
            Pooling::Max => "max",
            Pooling::MeanSqrtLen => "mean_sqrt_len_tokens",
            Pooling::LastToken => "lasttoken",
        }
    }
}

/// Why a model folder cannot give embeddings. Each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// No model folder at that path.
    #[error(
        "no model folder at {}; fetch the default model with `scripts/fetch-model`, pass `--model DIR` \
         (a folder with config.json, tokenizer.json and model.safetensors), or download a hub model \
         with `lexsearch model pull ORG/NAME` and pass `--model ORG/NAME`",
        .dir.display()
    )]
    NotFound {
        /// The folder looked for.
        dir: PathBuf,
    },
    /// A required file is missing.
    #[error("model folder {} has no {file}: {hint}", .dir.display())]
    MissingFile {
        /// The model folder.
        dir: PathBuf,
        /// The missing file's name.
        file: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// A JSON file of the model is unreadable or malformed.
    #[error("cannot read {}: {message}", .path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The checkpoint is a causal (generative) language model.
    #[error(
        "{} is a causal language model ({arch}), not a sentence encoder; use a sentence-transformers \
         encoder such as all-MiniLM-L6-v2 (BERT family)",
        .dir.display()
    )]
    CausalModel {
        /// The model folder.
        dir: PathBuf,
        /// Its declared architecture.
        arch: String,
    },
    /// The architecture is not one lexsearch can run.
    #[error(
        "{} has architecture {arch} (model_type {model_type}), which lexsearch cannot run yet; \
         supported model_types: bert, xlm-roberta, roberta, modernbert, and qwen3 or gemma3_text with a \
         sentence-transformers config (docs/models.md lists models known to work)",
        .dir.display()
    )]
    UnsupportedArchitecture {
        /// The model folder.
        dir: PathBuf,
        /// Declared architecture(s).
        arch: String,
        /// Declared model_type.
        model_type: String,
    },
    /// The tokenizer does not belong to this model.
    #[error(
        "tokenizer {} has {tokenizer_vocab} tokens but config.json declares vocab_size {config_vocab}: \
         the tokenizer does not belong to these weights; put the model's own tokenizer.json beside them",
        .path.display()
    )]
    VocabMismatch {
        /// tokenizer.json.
        path: PathBuf,
        /// Tokens in the tokenizer, added tokens included.
        tokenizer_vocab: usize,
        /// vocab_size in config.json.
        config_vocab: usize,
    },
    /// The pooling configuration asks for something unsupported.
    #[error("unsupported pooling in {}: {message}", .path.display())]
    Pooling {
        /// The pooling config file.
        path: PathBuf,
        /// What is unsupported.
        message: String,
    },
    /// The sentence-transformers pipeline (modules.json and its module folders) cannot run.
    #[error("{}: {message}", .path.display())]
    Module {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// The weights do not load (missing tensors, wrong shapes).
    #[error("cannot load weights from {}: {message}", .path.display())]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// candle's explanation.
        message: String,
    },
    /// The tokenizer failed.
    #[error("tokenizer {} failed: {message}", .path.display())]
    Tokenizer {
        /// tokenizer.json.
        path: PathBuf,
        /// The tokenizer's words.
        message: String,
    },
    /// The requested device cannot be used.
    #[error("cannot use device {requested}: {reason}")]
    Device {
        /// What was asked for.
        requested: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The requested precision has no path on this device or for this model.
    #[error("cannot compute in {precision}: {reason}")]
    Precision {
        /// What was asked for.
        precision: String,
        /// Why it cannot be used, and what to use instead.
        reason: String,
    },
    /// Inference failed at run time.
    #[error("embedding failed: {0}")]
    Inference(String),
}

/// The transformer family of a model folder: which backbone runs its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// BERT (`model_type` "bert"): all-MiniLM, bge, e5 and their legal fine-tunes.
    Bert,
    /// XLM-RoBERTa and RoBERTa (`model_type` "xlm-roberta", "roberta"): multilingual-e5, bge-m3.
    XlmRoberta,
    /// ModernBERT (`model_type` "modernbert"): local and global attention, RoPE, 8,192 tokens.
    ModernBert,
    /// Qwen3 embedding models (`model_type` "qwen3", with a sentence-transformers config).
    Qwen3,
    /// Gemma 3 embedding models (`model_type` "gemma3_text"): embeddinggemma.
    Gemma3,
}

impl Family {
    /// The family's name as `model check` and the manifest write it.
    pub fn name(self) -> &'static str {
        match self {
            Family::Bert => "bert",
            Family::XlmRoberta => "xlm-roberta",
            Family::ModernBert => "modernbert",
            Family::Qwen3 => "qwen3",
            Family::Gemma3 => "gemma3",
        }
    }

    /// The family of a config.json's `model_type`, if lexsearch knows it.
    fn from_model_type(model_type: &str) -> Option<Family> {
        Some(match model_type {
            "bert" => Family::Bert,
            "xlm-roberta" | "roberta" => Family::XlmRoberta,
            "modernbert" => Family::ModernBert,
            "qwen3" => Family::Qwen3,
            "gemma3_text" | "gemma3" => Family::Gemma3,
            _ => return None,
        })
    }
}

/// The sizes every family's config.json declares (under these names), plus the whole file for
/// the family's own reader.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelConfig {
    /// Rows of the token embedding matrix.
    pub vocab_size: usize,
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Longest input the positions allow.
    pub max_position_embeddings: usize,
    /// Id of the padding token (0 when the config has none).
    #[serde(default, deserialize_with = "null_as_zero")]
    pub pad_token_id: u32,
    /// config.json as read (with BERT's tanh-GELU spellings mapped to candle's).
    #[serde(skip)]
    pub raw: Value,
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(Option::<u32>::deserialize(d)?.unwrap_or(0))
}

/// Which end of a text the tokenizer pads or truncates (`padding_side`, `truncation_side`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The end of the text.
    Right,
    /// The start of the text.
    Left,
}

impl Side {
    /// "right" or "left".
    pub fn name(self) -> &'static str {
        match self {
            Side::Right => "right",
            Side::Left => "left",
        }
    }
}

/// The activation after a Dense module's linear map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `torch.nn.Identity` (none).
    Identity,
    /// `torch.nn.Tanh` (sentence-transformers' default).
    Tanh,
    /// `torch.nn.ReLU`.
    Relu,
    /// `torch.nn.GELU` (exact).
    Gelu,
    /// `torch.nn.Sigmoid`.
    Sigmoid,
}

/// A sentence-transformers Dense module: a linear map (and activation) after pooling.
#[derive(Debug, Clone, Serialize)]
pub struct DenseModule {
    /// Its folder inside the model folder, e.g. `2_Dense`.
    pub path: String,
    /// Input width.
    pub in_features: usize,
    /// Output width.
    pub out_features: usize,
    /// Whether the linear map has a bias.
    pub bias: bool,
    /// The activation after it.
    pub activation: Activation,
}

/// What is known about a model folder before loading its weights.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The model folder.
    pub dir: PathBuf,
    /// The transformer family, which decides the backbone.
    pub family: Family,
    /// The sizes from config.json (and the whole file).
    pub config: ModelConfig,
    /// Declared architecture, e.g. `BertModel`.
    pub architecture: String,
    /// Pooling to apply.
    pub pooling: Pooling,
    /// Whether the pooling came from the model's own sentence-transformers config.
    pub pooling_from_config: bool,
    /// Dense modules after pooling, in pipeline order.
    pub dense: Vec<DenseModule>,
    /// Width of the vectors the pipeline gives (the last Dense module's, else the hidden size).
    pub dim: usize,
    /// Longest input in tokens, special tokens included.
    pub max_seq_length: usize,
    /// Whether texts are lower-cased before tokenizing (`do_lower_case`).
    pub lower_case: bool,
    /// Whether the model's pipeline ends with a Normalize module (lexsearch always normalises).
    pub normalizes: bool,
    /// Which side the model's tokenizer pads. lexsearch pads on the right whatever this says
    /// (padding is masked and positions count real tokens, so the vectors are the same); it is
    /// reported by `model check`.
    pub padding_side: Side,
    /// Which side long texts are cut from (`truncation_side` in tokenizer_config.json).
    pub truncation_side: Side,
    /// Every prompt of `config_sentence_transformers.json`, by name.
    pub prompts: BTreeMap<String, String>,
    /// The prompt sentence-transformers applies when none is named (`default_prompt_name`).
    pub default_prompt_name: Option<String>,
    /// Prompt prepended to queries: `prompts.query`, else the default prompt (as
    /// sentence-transformers' `encode_query` does).
    pub query_prompt: String,
    /// Prompt prepended to documents: `prompts.document`, `passage` or `corpus`, else the
    /// default prompt (as `encode_document` does).
    pub document_prompt: String,
    /// Things the user should know (e.g. no pooling config: not trained for sentence embeddings).
    pub warnings: Vec<String>,
}

/// The identity and shape of a loaded model, recorded in every index it builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// A readable name: the model folder's name.
    pub name: String,
    /// The folder it was loaded from.
    pub dir: PathBuf,
    /// blake3 over config.json, tokenizer.json, the sentence-transformers pipeline (pooling,
    /// Dense modules, prompts) and the weights, hex.
    pub fingerprint: String,
    /// Declared architecture.
    pub architecture: String,
    /// Transformer family (`bert` in indexes written before families existed).
    #[serde(default = "bert_family")]
    pub family: Family,
    /// Vector dimension.
    pub dim: usize,
    /// Pooling mode.
    pub pooling: Pooling,
    /// Longest input in tokens, special tokens included.
    pub max_seq_length: usize,
    /// Size of the tokenizer's vocabulary.
    pub vocab_size: usize,
    /// Number of transformer layers.
    pub layers: usize,
}

fn bert_family() -> Family {
    Family::Bert
}

impl ModelInfo {
    /// A small BERT model's identity for tests that record one without loading it.
    #[cfg(test)]
    pub(crate) fn tiny(fingerprint: &str, dim: usize) -> Self {
        ModelInfo {
            name: "tiny".into(),
            dir: PathBuf::from("/models/tiny"),
            fingerprint: fingerprint.into(),
            architecture: "BertModel".into(),
            family: Family::Bert,
            dim,
            pooling: Pooling::Mean,
            max_seq_length: 128,
            vocab_size: 100,
            layers: 1,
        }
    }

    /// A short form of the fingerprint for messages.
    pub fn short_fingerprint(&self) -> &str {
        &self.fingerprint[..self.fingerprint.len().min(12)]
    }
}

/// A JSON file of a model folder, or [`ModelError::BadFile`] naming it.
pub(super) fn read_json(path: &Path) -> Result<Value, ModelError> {
    let text = fs::read_to_string(path).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        message: format!("not valid JSON: {e}"),
    })
}

/// [`read_json`] for a file the folder may lack.
pub(super) fn read_optional_json(path: &Path) -> Result<Option<Value>, ModelError> {
    if path.is_file() {
        read_json(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Decoder-only families: their checkpoints generate text and give no sentence embeddings.
const CAUSAL_TYPES: &[&str] = &[
    "gpt2",
    "gpt_neo",
    "gpt_neox",
    "gptj",
    "llama",
    "mistral",
    "mixtral",
    "qwen2",
    "qwen3",
    "gemma",
    "gemma2",
    "gemma3",
    "gemma3_text",
    "phi",
    "phi3",
    "falcon",
    "opt",
    "bloom",
    "mpt",
    "olmo",
];

/// One entry of modules.json.
struct ModuleEntry {
    /// Its folder (empty for the Transformer module, which lives at the top).
    path: String,
    /// The class name's last part, e.g. `Pooling`, `Dense`, `Normalize`.
    kind: String,
}

fn read_modules(path: &Path) -> Result<Option<Vec<ModuleEntry>>, ModelError> {
    let Some(v) = read_optional_json(path)? else {
        return Ok(None);
    };
    let bad = |message: String| ModelError::BadFile {
        path: path.to_path_buf(),
        message,
    };
    let list = v
        .as_array()
        .ok_or_else(|| bad("expected a list of modules".into()))?;
    list.iter()
        .map(|m| {
            let ty = m
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("a module without \"type\": {m}")))?;
            Ok(ModuleEntry {
                path: m
                    .get("path")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                kind: ty.rsplit('.').next().unwrap_or(ty).to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Reads a Dense module's config.json (sentence-transformers' `Dense.save`).
fn read_dense(dir: &Path, module: &str) -> Result<DenseModule, ModelError> {
    let path = dir.join(module).join("config.json");
    if !path.is_file() {
        return Err(ModelError::Module {
            path: dir.join(module),
            message:
                "modules.json names this Dense module but its config.json is missing; copy the \
                      whole folder from the model's repository"
                    .into(),
        });
    }
    let v = read_json(&path)?;
    let size = |k: &str| {
        v.get(k)
            .and_then(Value::as_u64)
            .map(|n| n as usize)
            .ok_or_else(|| ModelError::Module {
                path: path.clone(),
                message: format!("no {k}"),
            })
    };
    let activation = match v
        .get("activation_function")
        .and_then(Value::as_str)
        .unwrap_or("torch.nn.modules.activation.Tanh")
    {
        a if a.ends_with(".Identity") => Activation::Identity,
        a if a.ends_with(".Tanh") => Activation::Tanh,
        a if a.ends_with(".ReLU") => Activation::Relu,
        a if a.ends_with(".GELU") => Activation::Gelu,
        a if a.ends_with(".Sigmoid") => Activation::Sigmoid,
        other => {
            return Err(ModelError::Module {
                path,
                message: format!(
                    "activation_function {other:?} is not supported (Identity, Tanh, ReLU, GELU, Sigmoid are)"
                ),
            });
        }
    };
    if !dir.join(module).join("model.safetensors").is_file() {
        return Err(ModelError::Module {
            path: dir.join(module),
            message: "the Dense module has no model.safetensors; lexsearch reads safetensors only \
                      (convert pytorch_model.bin with the `safetensors` Python package)"
                .into(),
        });
    }
    Ok(DenseModule {
        path: module.to_string(),
        in_features: size("in_features")?,
        out_features: size("out_features")?,
        bias: v.get("bias").and_then(Value::as_bool).unwrap_or(true),
        activation,
    })
}

/// The tokenizer's padding side: tokenizer_config.json's `padding_side`, else the padding
/// stored in tokenizer.json, else right.
fn padding_side(tok_config: Option<&Value>, dir: &Path) -> Side {
    let side = |s: Option<&str>| match s {
        Some("left" | "Left") => Some(Side::Left),
        Some("right" | "Right") => Some(Side::Right),
        _ => None,
    };
    tok_config
        .and_then(|v| side(v.get("padding_side")?.as_str()))
        .or_else(|| {
            let text = fs::read_to_string(dir.join("tokenizer.json")).ok()?;
            let v: Value = serde_json::from_str(&text).ok()?;
            side(v.get("padding")?.get("direction")?.as_str())
        })
        .unwrap_or(Side::Right)
}

impl ModelFiles {
    /// Reads and checks a model folder's configuration, without loading the weights.
    pub fn inspect(dir: &Path) -> Result<Self, ModelError> {
        if !dir.is_dir() {
            return Err(ModelError::NotFound {
                dir: dir.to_path_buf(),
            });
        }
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file: "config.json",
                hint: "a Hugging Face model folder needs config.json beside its weights",
            });
        }
        let raw = read_json(&config_path)?;
        let model_type = raw
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let archs: Vec<String> = raw
            .get("architectures")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if model_type.is_empty() && archs.is_empty() {
            return Err(ModelError::BadFile {
                path: config_path,
                message: "it names neither `model_type` nor `architectures`, as every Hugging \
                          Face model's config.json does: copy the model's own config.json from its \
                          repository"
                    .into(),
            });
        }
        let arch = if archs.is_empty() {
            format!("{model_type} (no architectures field)")
        } else {
            archs.join(", ")
        };
        let modules_path = dir.join("modules.json");
        let modules = read_modules(&modules_path)?;
        let family = Family::from_model_type(&model_type).or_else(|| {
            (model_type.is_empty() && archs.iter().any(|a| a.starts_with("Bert")))
                .then_some(Family::Bert)
        });
        let causal = CAUSAL_TYPES.contains(&model_type.as_str())
            || archs
                .iter()
                .any(|a| a.ends_with("ForCausalLM") || a.ends_with("LMHeadModel"));
        // A decoder checkpoint gives embeddings only with a sentence-transformers pipeline
        // (pooling over its last hidden states); without one it is a text generator.
        if causal && modules.is_none() {
            return Err(ModelError::CausalModel {
                dir: dir.to_path_buf(),
                arch,
            });
        }
        let Some(family) = family else {
            return Err(ModelError::UnsupportedArchitecture {
                dir: dir.to_path_buf(),
                arch,
                model_type: if model_type.is_empty() {
                    "missing".into()
                } else {
                    model_type
                },
            });
        };
        let mut config: ModelConfig =
            serde_json::from_value(raw.clone()).map_err(|e| ModelError::BadFile {
                path: config_path.clone(),
                message: format!("not a {} config lexsearch understands: {e}", family.name()),
            })?;
        config.raw = raw;
        if !dir.join("tokenizer.json").is_file() {
            return Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file: "tokenizer.json",
                hint: "lexsearch uses the model's own tokenizer only; copy tokenizer.json from the model's \
                       repository (older models ship vocab.txt alone: save it once with `transformers` to \
                       get tokenizer.json)",
            });
        }
        super::weights::files(dir)?;

        let mut warnings = Vec::new();
        let mut pooling = None;
        let mut dense = Vec::new();
        let mut normalizes = false;
        for (i, m) in modules.iter().flatten().enumerate() {
            // Normalize keeps nothing in its folder, which is often absent (all-MiniLM-L6-v2).
            if matches!(m.kind.as_str(), "Pooling" | "Dense") && !dir.join(&m.path).is_dir() {
                return Err(ModelError::Module {
                    path: modules_path.clone(),
                    message: format!(
                        "module {i} ({}) is at {:?}, but the model folder has no such folder; copy the \
                         whole model repository",
                        m.kind, m.path
                    ),
                });
            }
            match m.kind.as_str() {
                "Transformer" if i == 0 => {}
                "Pooling" if pooling.is_none() && dense.is_empty() && !normalizes => {
                    let path = dir.join(&m.path).join("config.json");
                    let v = read_json(&path)?;
                    pooling = Some(parse_pooling(&path, &v)?);
                }
                "Dense" if pooling.is_some() && !normalizes => {
                    dense.push(read_dense(dir, &m.path)?);
                }
                "Normalize" if pooling.is_some() => normalizes = true,
                other => {
                    return Err(ModelError::Module {
                        path: modules_path.clone(),
                        message: format!(
                            "module {i} ({other}) is not supported at that place: lexsearch runs a \
                             Transformer, then Pooling, then any Dense modules, then Normalize"
                        ),
                    });
                }
            }
        }
        let (pooling, pooling_from_config) = match pooling {
            Some(p) => (p, true),
            None if modules.is_some() => {
                return Err(ModelError::Module {
                    path: modules_path,
                    message: "the pipeline has no Pooling module, so it gives token vectors, not \
                              sentence vectors"
                        .into(),
                });
            }
            // Without modules.json, sentence-transformers looks no further than 1_Pooling.
            None => match read_optional_json(&dir.join("1_Pooling/config.json"))? {
                Some(v) => (parse_pooling(&dir.join("1_Pooling/config.json"), &v)?, true),
                None => {
                    warnings.push(format!(
                        "{} has no sentence-transformers pooling config (1_Pooling/config.json): it was \
                         probably not trained for sentence embeddings, and mean pooling is used as \
                         sentence-transformers would; search quality may be poor, prefer a \
                         sentence-transformers model",
                        dir.display(),
                    ));
                    (Pooling::Mean, false)
                }
            },
        };
        let mut width = config.hidden_size;
        for d in &dense {
            if d.in_features != width {
                return Err(ModelError::Module {
                    path: dir.join(&d.path).join("config.json"),
                    message: format!(
                        "in_features is {} but the module before it gives {width} values",
                        d.in_features
                    ),
                });
            }
            width = d.out_features;
        }

        let st_config = read_optional_json(&dir.join("sentence_bert_config.json"))?;
        let tok_config = read_optional_json(&dir.join("tokenizer_config.json"))?;
        // XLM-RoBERTa numbers positions from padding_idx + 1.
        let positions = match family {
            Family::XlmRoberta => config
                .max_position_embeddings
                .saturating_sub(config.pad_token_id as usize + 1),
            _ => config.max_position_embeddings,
        };
        let declared = st_config
            .as_ref()
            .and_then(|v| v.get("max_seq_length")?.as_u64())
            .or_else(|| {
                tok_config
                    .as_ref()
                    .and_then(|v| v.get("model_max_length")?.as_u64())
                    .filter(|&n| n < 1_000_000)
            });
        let max_seq_length = declared.map_or(positions, |n| n as usize).min(positions);
        let lower_case = st_config
            .as_ref()
            .and_then(|v| v.get("do_lower_case")?.as_bool())
            .unwrap_or(false);
        let truncation_side = match tok_config
            .as_ref()
            .and_then(|v| v.get("truncation_side")?.as_str())
        {
            Some("left") => Side::Left,
            _ => Side::Right,
        };
        let padding_side = padding_side(tok_config.as_ref(), dir);

        let st_path = dir.join("config_sentence_transformers.json");
        let st = read_optional_json(&st_path)?;
        let prompts: BTreeMap<String, String> = st
            .as_ref()
            .and_then(|v| v.get("prompts")?.as_object().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
            .collect();
        let default_prompt_name = st
            .as_ref()
            .and_then(|v| v.get("default_prompt_name")?.as_str())
            .map(String::from);
        if let Some(name) = &default_prompt_name
            && !prompts.contains_key(name)
        {
            return Err(ModelError::BadFile {
                path: st_path,
                message: format!(
                    "default_prompt_name {name:?} is not among the prompts ({})",
                    prompts.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        let default_prompt = default_prompt_name
            .as_ref()
            .and_then(|n| prompts.get(n))
            .cloned()
            .unwrap_or_default();
        let prompt = |names: &[&str]| -> String {
            names
                .iter()
                .find_map(|n| prompts.get(*n).cloned())
                .unwrap_or_else(|| default_prompt.clone())
        };
        Ok(ModelFiles {
            dir: dir.to_path_buf(),
            family,
            architecture: arch,
            pooling,
            pooling_from_config,
            dim: width,
            dense,
            max_seq_length,
            lower_case,
            normalizes,
            padding_side,
            truncation_side,
            query_prompt: prompt(&["query"]),
            document_prompt: prompt(&["document", "passage", "corpus"]),
            prompts,
            default_prompt_name,
            config,
            warnings,
        })
    }
}

/// Reads a sentence-transformers pooling config: exactly one supported mode must be on.
fn parse_pooling(path: &Path, v: &Value) -> Result<Pooling, ModelError> {
    if v.get("include_prompt").and_then(Value::as_bool) == Some(false) {
        return Err(ModelError::Pooling {
            path: path.to_path_buf(),
            message: "include_prompt false (pooling that leaves the prompt's tokens out) is not \
                      supported"
                .into(),
        });
    }
    let mode = match v.get("pooling_mode") {
        Some(Value::Array(a)) if a.len() == 1 => a[0].as_str(),
        Some(Value::Array(a)) if a.len() > 1 => {
            return Err(ModelError::Pooling {
                path: path.to_path_buf(),
                message: format!("several pooling modes at once ({a:?}) are not supported"),
            });
        }
        Some(m) => m.as_str(),
        None => None,
    };
    if let Some(mode) = mode {
        return match mode {
            "mean" => Ok(Pooling::Mean),
            "cls" => Ok(Pooling::Cls),
            "max" => Ok(Pooling::Max),
            "mean_sqrt_len_tokens" => Ok(Pooling::MeanSqrtLen),
            "lasttoken" => Ok(Pooling::LastToken),
            other => Err(ModelError::Pooling {
                path: path.to_path_buf(),
                message: format!(
                    "pooling_mode {other:?} is not supported (mean, cls, max, mean_sqrt_len_tokens, \
                     lasttoken are)"
                ),
            }),
        };
    }
    let on = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let modes: Vec<(&str, Option<Pooling>)> = [
        ("pooling_mode_mean_tokens", Some(Pooling::Mean)),
        ("pooling_mode_cls_token", Some(Pooling::Cls)),
        ("pooling_mode_max_tokens", Some(Pooling::Max)),
        (
            "pooling_mode_mean_sqrt_len_tokens",
            Some(Pooling::MeanSqrtLen),
        ),
        ("pooling_mode_weightedmean_tokens", None),
        ("pooling_mode_lasttoken", Some(Pooling::LastToken)),
    ]
    .into_iter()
    .filter(|(k, _)| on(k))
    .collect();
    match modes.as_slice() {
        [(_, Some(p))] => Ok(*p),
        [(k, None)] => Err(ModelError::Pooling {
            path: path.to_path_buf(),
            message: format!(
                "{k} is not supported (mean, cls, max, mean_sqrt_len_tokens, lasttoken are)"
            ),
        }),
        [] => Err(ModelError::Pooling {
            path: path.to_path_buf(),
            message: "no pooling mode is switched on".into(),
        }),
        many => Err(ModelError::Pooling {
            path: path.to_path_buf(),
            message: format!(
                "several pooling modes at once ({}) are not supported",
                many.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A folder with `config` as config.json, placeholder tokenizer and weights, and
    /// `modules` as modules.json (with a last-token Pooling folder) when given.
    fn folder(config: Value, modules: Option<Value>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, v: &Value| {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, v.to_string()).unwrap();
        };
        write("config.json", &config);
        write("tokenizer.json", &json!({}));
        fs::write(dir.path().join("model.safetensors"), b"").unwrap();
        if let Some(m) = modules {
            write("modules.json", &m);
            write(
                "1_Pooling/config.json",
                &json!({"pooling_mode": "lasttoken"}),
            );
        }
        dir
    }

    fn decoder_config(model_type: &str) -> Value {
        json!({
            "model_type": model_type, "architectures": ["Qwen3ForCausalLM"], "vocab_size": 100,
            "hidden_size": 8, "num_hidden_layers": 1, "intermediate_size": 16,
            "max_position_embeddings": 512, "pad_token_id": null
        })
    }

    fn st_modules() -> Value {
        json!([
            {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
        ])
    }

    #[test]
    fn a_config_naming_no_model_type_nor_architecture_is_refused_naming_the_file() {
        let dir = folder(json!({"hidden_size": 8}), None);
        let err = ModelFiles::inspect(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
        assert!(
            err.contains("neither `model_type` nor `architectures`"),
            "{err}"
        );
        assert!(!err.contains("  "), "{err}");
    }

    #[test]
    fn a_decoder_with_a_sentence_transformers_pipeline_reaches_its_family() {
        let dir = folder(decoder_config("qwen3"), Some(st_modules()));
        let files = ModelFiles::inspect(dir.path()).unwrap();
        assert_eq!(files.family, Family::Qwen3);
        assert_eq!(files.pooling, Pooling::LastToken);
        assert!(files.normalizes);
        let dir = folder(decoder_config("gemma3_text"), Some(st_modules()));
        assert_eq!(
            ModelFiles::inspect(dir.path()).unwrap().family,
            Family::Gemma3
        );
    }

    #[test]
    fn a_bare_decoder_checkpoint_is_refused_as_a_text_generator() {
        let dir = folder(decoder_config("qwen3"), None);
        let err = ModelFiles::inspect(dir.path()).unwrap_err();
        assert!(matches!(err, ModelError::CausalModel { .. }), "{err}");
    }

    #[test]
    fn an_unknown_family_with_a_pipeline_is_named_and_the_known_ones_listed() {
        let dir = folder(decoder_config("qwen2"), Some(st_modules()));
        let err = ModelFiles::inspect(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("model_type qwen2") && err.contains("modernbert"),
            "{err}"
        );
    }

    #[test]
    fn pooling_configs_map_to_modes_and_odd_ones_are_refused() {
        let p = Path::new("1_Pooling/config.json");
        let cfg = |k: &str| json!({ "word_embedding_dimension": 8, k: true });
        assert_eq!(
            parse_pooling(p, &cfg("pooling_mode_mean_tokens")).unwrap(),
            Pooling::Mean
        );
        assert_eq!(
            parse_pooling(p, &cfg("pooling_mode_cls_token")).unwrap(),
            Pooling::Cls
        );
        assert_eq!(
            parse_pooling(p, &json!({"pooling_mode": "max"})).unwrap(),
            Pooling::Max
        );
        assert_eq!(
            parse_pooling(p, &cfg("pooling_mode_lasttoken")).unwrap(),
            Pooling::LastToken
        );
        assert!(parse_pooling(p, &cfg("pooling_mode_weightedmean_tokens")).is_err());
        assert!(
            parse_pooling(p, &json!({"pooling_mode": "mean", "include_prompt": false})).is_err()
        );
        assert!(parse_pooling(p, &json!({})).is_err());
        let two = json!({"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true});
        assert!(
            parse_pooling(p, &two)
                .unwrap_err()
                .to_string()
                .contains("several")
        );
    }
}
