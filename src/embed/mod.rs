//! Embedding: a sentence-transformers model folder, loaded exactly as it was trained.
//!
//! [`ModelFiles::inspect`] reads a folder in the Hugging Face sentence-transformers layout and
//! diagnoses it without loading weights; [`Embedder::load`] loads the tokenizer and the
//! family's backbone (BERT, XLM-RoBERTa, ModernBERT, Qwen3, Gemma 3; `backbone.rs` dispatches)
//! with candle and runs the folder's pipeline: pooling over the attention mask
//! (`1_Pooling/config.json`), any Dense modules, then L2 normalisation. [`CrossEncoder::load`]
//! loads a cross-encoder (reranker) folder and scores (query, passage) pairs.

mod attention;
mod backbone;
mod bert;
pub mod cache;
// Unsafe by nature: allocating the kernels' outputs and launching them (FFI).
#[cfg(feature = "cuda")]
#[allow(unsafe_code)]
mod cuda;
mod device;
mod encoder;
mod fused;
mod gemma3;
#[cfg(feature = "hub")]
pub mod hub;
pub mod kernel;
mod model;
mod modernbert;
mod qwen3;
mod rerank;
mod weights;

pub use device::{DeviceSpec, Precision, device_name};
pub use encoder::{Embedder, INT8_FINGERPRINT_PREFIX, INT8_SCHEME, Tokenized, split_fingerprint};
pub use model::{
    Activation, DenseModule, Family, ModelConfig, ModelError, ModelFiles, ModelInfo, Pooling, Side,
};
pub use rerank::{CrossEncoder, RerankError, RerankFamily, RerankerInfo};

/// Name of the model lexsearch uses when none is given.
pub const DEFAULT_MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// The folder that holds models: the platform cache, e.g. `~/.cache/lexsearch/models`.
pub fn model_cache_dir() -> std::path::PathBuf {
    directories::ProjectDirs::from("", "", "lexsearch")
        .map(|d| d.cache_dir().to_path_buf())
        .unwrap_or_else(|| std::path::PathBuf::from(".lexsearch-cache"))
        .join("models")
}

/// The default model's folder in [`model_cache_dir`] (installed by `scripts/fetch-model`).
pub fn default_model_dir() -> std::path::PathBuf {
    model_cache_dir().join(DEFAULT_MODEL_NAME)
}

/// The folder of the model an index was built with (`info`, from its manifest) on this
/// machine: the folder it was loaded from when that is still there; else a folder of the
/// model cache with its name (`NAME`, or a pulled `ORG/NAME`), where another machine or
/// account that fetched or pulled the same model keeps it (an index copied or shared); else
/// the default model's folder. Whichever it is, the searcher compares its fingerprint with
/// the index's and refuses another model, naming both.
pub fn index_model_dir(info: &ModelInfo) -> std::path::PathBuf {
    model_dir_in(info, &model_cache_dir())
}

/// [`index_model_dir`] with the model cache at `cache`.
fn model_dir_in(info: &ModelInfo, cache: &std::path::Path) -> std::path::PathBuf {
    if info.dir.is_dir() {
        return info.dir.clone();
    }
    let name = std::path::Path::new(&info.name);
    let one_name = matches!(
        name.components().collect::<Vec<_>>()[..],
        [std::path::Component::Normal(_)]
    );
    let in_cache = one_name.then(|| {
        // The organisation the folder was pulled under first, then any.
        let recorded_org = (info.dir.parent())
            .and_then(|p| p.file_name())
            .map(|org| cache.join(org).join(name));
        let orgs = std::fs::read_dir(cache).into_iter().flatten().flatten();
        let mut orgs: Vec<std::path::PathBuf> = orgs.map(|e| e.path().join(name)).collect();
        orgs.sort();
        std::iter::once(cache.join(name))
            .chain(recorded_org)
            .chain(orgs)
            .find(|dir| dir.join("config.json").is_file())
    });
    in_cache
        .flatten()
        .unwrap_or_else(|| cache.join(DEFAULT_MODEL_NAME))
}

/// A hub model name `ORG/NAME` split in two, or `None` if `name` is not one (or could leave
/// the cache folder: only letters, digits, `-`, `_` and `.` are allowed, and no `..`).
pub fn split_hub_name(name: &str) -> Option<(&str, &str)> {
    let (org, model) = name.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (ok(org) && ok(model)).then_some((org, model))
}

/// What `--model` names: the folder itself when one exists there, else, for a hub name
/// `ORG/NAME`, the folder `lexsearch model pull` made for it in the cache (if there is one).
pub fn resolve_model_arg(arg: &std::path::Path) -> std::path::PathBuf {
    if arg.is_dir() {
        return arg.to_path_buf();
    }
    if let Some((org, name)) = arg.to_str().and_then(split_hub_name) {
        let pulled = model_cache_dir().join(org).join(name);
        if pulled.is_dir() {
            return pulled;
        }
    }
    arg.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_finds_its_model_where_it_was_built_else_by_name_in_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("models");
        let model = |dir: &std::path::Path| {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("config.json"), "{}").unwrap();
        };
        let mut info = ModelInfo::tiny("f", 4);
        info.name = "bge-small".into();
        // Where it was built, while it is there.
        info.dir = dir.path().join("elsewhere/BAAI/bge-small");
        model(&info.dir);
        assert_eq!(model_dir_in(&info, &cache), info.dir);
        // Gone (another machine): pulled under its organisation, or under another.
        std::fs::remove_dir_all(&info.dir).unwrap();
        model(&cache.join("other/bge-small"));
        assert_eq!(model_dir_in(&info, &cache), cache.join("other/bge-small"));
        model(&cache.join("BAAI/bge-small"));
        assert_eq!(model_dir_in(&info, &cache), cache.join("BAAI/bge-small"));
        // Fetched under its own name first.
        model(&cache.join("bge-small"));
        assert_eq!(model_dir_in(&info, &cache), cache.join("bge-small"));
        // Nowhere, or a name that is no folder's: the default model.
        info.name = "../bge-small".into();
        assert_eq!(model_dir_in(&info, &cache), cache.join(DEFAULT_MODEL_NAME));
        info.name = "missing".into();
        assert_eq!(model_dir_in(&info, &cache), cache.join(DEFAULT_MODEL_NAME));
    }
}
