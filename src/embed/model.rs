//! Reading and diagnosing a model folder (Hugging Face sentence-transformers layout).
//!
//! ```text
//! MODEL/config.json                 architecture, sizes, vocabulary size
//! MODEL/tokenizer.json              the model's own tokenizer
//! MODEL/model.safetensors           weights
//! MODEL/modules.json                sentence-transformers pipeline (optional)
//! MODEL/1_Pooling/config.json       pooling mode (optional: mean pooling with a warning)
//! MODEL/sentence_bert_config.json   max_seq_length (optional)
//! ```

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
}

impl Pooling {
    /// The sentence-transformers name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
            Pooling::Max => "max",
            Pooling::MeanSqrtLen => "mean_sqrt_len_tokens",
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
         supported: BERT-family encoders (model_type \"bert\"), e.g. all-MiniLM-L6-v2, bge-small-en-v1.5",
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
    /// Inference failed at run time.
    #[error("embedding failed: {0}")]
    Inference(String),
}

/// What is known about a model folder before loading its weights.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The model folder.
    pub dir: PathBuf,
    /// The parsed (and normalised) config.json, as candle's BERT expects it.
    pub config: candle_transformers::models::bert::Config,
    /// Declared architecture, e.g. `BertModel`.
    pub architecture: String,
    /// Pooling to apply.
    pub pooling: Pooling,
    /// Whether the pooling came from the model's own sentence-transformers config.
    pub pooling_from_config: bool,
    /// Longest input in tokens, special tokens included.
    pub max_seq_length: usize,
    /// Whether the model's pipeline ends with a Normalize module (lexsearch always normalises).
    pub normalizes: bool,
    /// Prompt prepended to queries (sentence-transformers `prompts.query`), if any.
    pub query_prompt: String,
    /// Prompt prepended to documents (`prompts.document` or `prompts.passage`), if any.
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
    /// blake3 over config.json, tokenizer.json, the pooling config and the weights, hex.
    pub fingerprint: String,
    /// Declared architecture.
    pub architecture: String,
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

impl ModelInfo {
    /// A short form of the fingerprint for messages.
    pub fn short_fingerprint(&self) -> &str {
        &self.fingerprint[..self.fingerprint.len().min(12)]
    }
}

fn read_json(path: &Path) -> Result<Value, ModelError> {
    let text = fs::read_to_string(path).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        message: format!("not valid JSON: {e}"),
    })
}

fn read_optional_json(path: &Path) -> Result<Option<Value>, ModelError> {
    if path.is_file() {
        read_json(path).map(Some)
    } else {
        Ok(None)
    }
}

/// Decoder-only families: their checkpoints generate text and give no sentence embeddings.
const CAUSAL_TYPES: &[&str] = &[
    "gpt2", "gpt_neo", "gpt_neox", "gptj", "llama", "mistral", "mixtral", "qwen2", "qwen3",
    "gemma", "gemma2", "gemma3", "phi", "phi3", "falcon", "opt", "bloom", "mpt", "olmo",
];

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
        let mut raw = read_json(&config_path)?;
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
        let arch = if archs.is_empty() {
            format!("{model_type} (no architectures field)")
        } else {
            archs.join(", ")
        };
        let causal = CAUSAL_TYPES.contains(&model_type.as_str())
            || archs
                .iter()
                .any(|a| a.ends_with("ForCausalLM") || a.ends_with("LMHeadModel"));
        if causal {
            return Err(ModelError::CausalModel {
                dir: dir.to_path_buf(),
                arch,
            });
        }
        let bert = model_type == "bert"
            || (model_type.is_empty() && archs.iter().any(|a| a.starts_with("Bert")));
        if !bert {
            return Err(ModelError::UnsupportedArchitecture {
                dir: dir.to_path_buf(),
                arch,
                model_type: if model_type.is_empty() {
                    "missing".into()
                } else {
                    model_type
                },
            });
        }
        // candle knows "gelu" (exact), "gelu_approximate" and "relu"; map the tanh spellings.
        if let Some(act) = raw.get_mut("hidden_act")
            && matches!(
                act.as_str(),
                Some("gelu_new" | "gelu_pytorch_tanh" | "gelu_fast")
            )
        {
            *act = Value::from("geluapproximate");
        }
        let config: candle_transformers::models::bert::Config = serde_json::from_value(raw)
            .map_err(|e| ModelError::BadFile {
                path: config_path.clone(),
                message: format!("not a BERT config candle understands: {e}"),
            })?;
        for (file, hint) in [
            (
                "tokenizer.json",
                "lexsearch uses the model's own tokenizer only; copy tokenizer.json from the model's repository \
                 (older models ship vocab.txt alone: save it once with `transformers` to get tokenizer.json)",
            ),
            (
                "model.safetensors",
                "lexsearch reads safetensors weights; convert pytorch_model.bin with the `safetensors` \
                 Python package, or download the safetensors file",
            ),
        ] {
            if !dir.join(file).is_file() {
                return Err(ModelError::MissingFile {
                    dir: dir.to_path_buf(),
                    file,
                    hint,
                });
            }
        }

        let mut warnings = Vec::new();
        let modules = read_optional_json(&dir.join("modules.json"))?;
        let module_path = |kind: &str| -> Option<String> {
            modules.as_ref()?.as_array()?.iter().find_map(|m| {
                let ty = m.get("type")?.as_str()?;
                ty.ends_with(kind).then(|| {
                    m.get("path")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
            })
        };
        let pooling_dir = module_path("Pooling").unwrap_or_else(|| "1_Pooling".into());
        let pooling_path = dir.join(&pooling_dir).join("config.json");
        let (pooling, pooling_from_config) = match read_optional_json(&pooling_path)? {
            Some(v) => (parse_pooling(&pooling_path, &v)?, true),
            None => {
                warnings.push(format!(
                    "{} has no sentence-transformers pooling config ({}): it was probably not trained for \
                     sentence embeddings, and mean pooling is used as sentence-transformers would; \
                     search quality may be poor, prefer a sentence-transformers model",
                    dir.display(),
                    Path::new(&pooling_dir).join("config.json").display()
                ));
                (Pooling::Mean, false)
            }
        };
        let normalizes = module_path("Normalize").is_some();

        let st_config = read_optional_json(&dir.join("sentence_bert_config.json"))?;
        let tok_config = read_optional_json(&dir.join("tokenizer_config.json"))?;
        let declared = st_config
            .as_ref()
            .and_then(|v| v.get("max_seq_length")?.as_u64())
            .or_else(|| {
                tok_config
                    .as_ref()
                    .and_then(|v| v.get("model_max_length")?.as_u64())
                    .filter(|&n| n < 1_000_000)
            });
        let max_seq_length = declared
            .map_or(config.max_position_embeddings, |n| n as usize)
            .min(config.max_position_embeddings);

        let st = read_optional_json(&dir.join("config_sentence_transformers.json"))?;
        let prompt = |names: &[&str]| -> String {
            names
                .iter()
                .find_map(|n| {
                    st.as_ref()?
                        .get("prompts")?
                        .get(*n)?
                        .as_str()
                        .map(String::from)
                })
                .unwrap_or_default()
        };
        Ok(ModelFiles {
            dir: dir.to_path_buf(),
            architecture: arch,
            config,
            pooling,
            pooling_from_config,
            max_seq_length,
            normalizes,
            query_prompt: prompt(&["query"]),
            document_prompt: prompt(&["document", "passage"]),
            warnings,
        })
    }
}

/// Reads a sentence-transformers pooling config: exactly one supported mode must be on.
fn parse_pooling(path: &Path, v: &Value) -> Result<Pooling, ModelError> {
    if let Some(mode) = v.get("pooling_mode").and_then(Value::as_str) {
        return match mode {
            "mean" => Ok(Pooling::Mean),
            "cls" => Ok(Pooling::Cls),
            "max" => Ok(Pooling::Max),
            "mean_sqrt_len_tokens" => Ok(Pooling::MeanSqrtLen),
            other => Err(ModelError::Pooling {
                path: path.to_path_buf(),
                message: format!(
                    "pooling_mode {other:?} is not supported (mean, cls, max, mean_sqrt_len_tokens are)"
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
        ("pooling_mode_lasttoken", None),
    ]
    .into_iter()
    .filter(|(k, _)| on(k))
    .collect();
    match modes.as_slice() {
        [(_, Some(p))] => Ok(*p),
        [(k, None)] => Err(ModelError::Pooling {
            path: path.to_path_buf(),
            message: format!("{k} is not supported (mean, cls, max, mean_sqrt_len_tokens are)"),
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
        assert!(parse_pooling(p, &cfg("pooling_mode_lasttoken")).is_err());
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
