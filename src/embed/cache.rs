//! The model cache ([`super::model_cache_dir`]): what `scripts/fetch-model` and `lexsearch
//! model pull` put there, listed by `lexsearch model list`.
//!
//! The default model lives in `CACHE/all-MiniLM-L6-v2`, a pulled one in `CACHE/ORG/NAME` (with
//! [`PULL_RECORD`] saying where it came from), and an interrupted pull in
//! `CACHE/ORG/NAME.partial` until `model pull` is run again.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

/// The file in a pulled folder that records where it came from (`model pull`'s report).
pub const PULL_RECORD: &str = ".lexsearch-pull.json";

/// The suffix of the folder an interrupted pull left beside the model's.
const PARTIAL: &str = ".partial";

/// What a cached model folder holds, read from its config.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CachedKind {
    /// An embedding model (`--model`).
    Embedding,
    /// A cross-encoder, whose architecture is `*ForSequenceClassification` (`--rerank`).
    CrossEncoder,
    /// A pull that stopped before the folder was complete; `model pull` resumes it.
    Interrupted,
    /// A folder whose config.json is missing or unreadable (`model check` says why).
    Unreadable,
}

/// One model folder of the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedModel {
    /// What `--model` (or `--rerank`) takes: `ORG/NAME` for a pulled model, the folder's
    /// name for the default one.
    pub name: String,
    /// The folder.
    pub path: PathBuf,
    /// Whether it is the model used when none is given.
    pub default: bool,
    /// Embedding model, cross-encoder, or an interrupted pull.
    pub kind: CachedKind,
    /// config.json's `model_type` (`bert`, `xlm-roberta`, `qwen3`, ...), when it names one.
    pub architecture: Option<String>,
    /// Bytes of its files.
    pub bytes: u64,
    /// The commit it was pulled at, for a pulled model.
    pub commit: Option<String>,
    /// The server it was pulled from, for a pulled model.
    pub endpoint: Option<String>,
}

/// The model folders in `cache`, sorted by name: folders directly in it that hold a
/// config.json (the default model), and `ORG/NAME` folders below (pulled ones, and
/// interrupted pulls). A cache that does not exist holds none.
pub fn cached_models(cache: &Path) -> Vec<CachedModel> {
    let mut found = Vec::new();
    for (name, path) in subfolders(cache) {
        if path.join("config.json").is_file() {
            found.push(describe(name, path));
            continue;
        }
        for (model, path) in subfolders(&path) {
            let repo = format!("{name}/{model}");
            if let Some(stem) = model.strip_suffix(PARTIAL) {
                // Only a pull that was never finished: a finished one removed its partial folder.
                if !cache.join(&name).join(stem).is_dir() {
                    found.push(CachedModel {
                        kind: CachedKind::Interrupted,
                        ..describe(format!("{name}/{stem}"), path)
                    });
                }
            } else if path.join("config.json").is_file() || path.join(PULL_RECORD).is_file() {
                found.push(describe(repo, path));
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The folders directly in `dir` (none when it cannot be read), by name.
fn subfolders(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    out.sort();
    out
}

/// A cached model folder, read from its config.json, pull record and files.
fn describe(name: String, path: PathBuf) -> CachedModel {
    let read = |file: &str| -> Option<Value> {
        serde_json::from_str(&fs::read_to_string(path.join(file)).ok()?).ok()
    };
    let config = read("config.json");
    let record = read(PULL_RECORD);
    let text = |v: &Option<Value>, key: &str| {
        v.as_ref()?
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let kind = match &config {
        None => CachedKind::Unreadable,
        Some(c) => {
            let classifies = c
                .get("architectures")
                .and_then(Value::as_array)
                .is_some_and(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .any(|a| a.ends_with("ForSequenceClassification"))
                });
            if classifies {
                CachedKind::CrossEncoder
            } else {
                CachedKind::Embedding
            }
        }
    };
    CachedModel {
        // Directly in the cache (a pulled model's name has its ORG/ before it).
        default: name == super::DEFAULT_MODEL_NAME,
        architecture: text(&config, "model_type"),
        bytes: folder_bytes(&path),
        commit: text(&record, "commit"),
        endpoint: text(&record, "endpoint"),
        kind,
        name,
        path,
    }
}

/// Bytes of the files in `dir` and below (links not followed).
fn folder_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(fs::Metadata::is_file)
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(dir: &Path, config: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join("config.json"), config).unwrap();
        fs::write(dir.join("model.safetensors"), [0u8; 100]).unwrap();
    }

    #[test]
    fn the_cache_lists_the_default_model_pulled_ones_and_interrupted_pulls() {
        let cache = tempfile::tempdir().unwrap();
        let c = cache.path();
        let bert = r#"{"model_type": "bert", "architectures": ["BertModel"]}"#;
        model(&c.join("all-MiniLM-L6-v2"), bert);
        model(
            &c.join("BAAI/bge-reranker-base"),
            r#"{"model_type": "xlm-roberta", "architectures": ["XLMRobertaForSequenceClassification"]}"#,
        );
        fs::write(
            c.join("BAAI/bge-reranker-base").join(PULL_RECORD),
            r#"{"repo": "BAAI/bge-reranker-base", "commit": "abc123", "endpoint": "http://hub"}"#,
        )
        .unwrap();
        // An interrupted pull, and a finished one whose partial folder is gone.
        fs::create_dir_all(c.join("org/big-model.partial")).unwrap();
        fs::write(c.join("org/big-model.partial/model.safetensors"), [0u8; 7]).unwrap();
        // A folder whose config.json cannot be read, and files and hidden folders that are not
        // models.
        fs::create_dir_all(c.join("org/broken")).unwrap();
        fs::write(c.join("org/broken/config.json"), "{").unwrap();
        fs::write(c.join("notes.txt"), "x").unwrap();
        fs::create_dir_all(c.join(".tmp/x")).unwrap();

        let got = cached_models(c);
        let names: Vec<(&str, CachedKind)> = got.iter().map(|m| (&*m.name, m.kind)).collect();
        assert_eq!(
            names,
            [
                ("BAAI/bge-reranker-base", CachedKind::CrossEncoder),
                ("all-MiniLM-L6-v2", CachedKind::Embedding),
                ("org/big-model", CachedKind::Interrupted),
                ("org/broken", CachedKind::Unreadable),
            ]
        );
        let [reranker, default, partial, _] = &got[..] else {
            unreachable!()
        };
        assert!(default.default && !reranker.default);
        assert_eq!(default.architecture.as_deref(), Some("bert"));
        assert_eq!(default.bytes, 100 + bert.len() as u64);
        assert_eq!(reranker.commit.as_deref(), Some("abc123"));
        assert_eq!(reranker.endpoint.as_deref(), Some("http://hub"));
        assert_eq!(partial.bytes, 7);
        assert_eq!(partial.path, c.join("org/big-model.partial"));
    }

    #[test]
    fn a_cache_that_is_not_there_holds_no_models() {
        let cache = tempfile::tempdir().unwrap();
        assert!(cached_models(&cache.path().join("none")).is_empty());
    }
}
