//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod fixtures;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use serde_json::json;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample corpus shipped in assets/.
pub fn sample_corpus() -> PathBuf {
    repo().join("assets/corpus")
}

/// The real default model, or `None` (with a message) when it is absent and not required.
pub fn real_model() -> Option<PathBuf> {
    let dir = std::env::var_os("LEXSEARCH_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(lexsearch::cli::default_model_dir);
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    if std::env::var("LEXSEARCH_REQUIRE_MODEL").as_deref() == Ok("1") {
        panic!(
            "LEXSEARCH_REQUIRE_MODEL=1 but no model at {}: run scripts/fetch-model",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: the default model is not at {}; run scripts/fetch-model to run this test",
        dir.display()
    );
    None
}

/// `../shared/<rel>` beside the checkout, or `None` (with a message) when absent.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = repo().join("..").join("shared").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (it exists beside CI's checkout)",
            p.display()
        );
        None
    }
}

/// The PrivacyQA part of the labelled set `set` (`../shared/eval/legalbenchrag-dev`), for
/// `lexsearch eval`: its first `most` queries (all with `None`) and its files, written into
/// `dir` as `queries.jsonl` and `files.txt`, whose paths are returned.
pub fn privacy_qa_set(set: &Path, dir: &Path, most: Option<usize>) -> (PathBuf, PathBuf) {
    let queries: String = std::fs::read_to_string(set.join("queries.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| l.contains(r#""subset": "privacy_qa""#))
        .take(most.unwrap_or(usize::MAX))
        .map(|l| format!("{l}\n"))
        .collect();
    let files: String = std::fs::read_to_string(set.join("docs.tsv"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split('\t').next())
        .filter(|f| f.starts_with("privacy_qa/"))
        .map(|f| format!("{f}\n"))
        .collect();
    let (q, f) = (dir.join("queries.jsonl"), dir.join("files.txt"));
    std::fs::write(&q, queries).unwrap();
    std::fs::write(&f, files).unwrap();
    (q, f)
}

/// The lexsearch binary, with the environment cleared of settings that change its behaviour.
pub fn lexsearch() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"));
    cmd.env_remove("LEXSEARCH_MODEL_DIR").env("NO_COLOR", "1");
    cmd
}

/// `lexsearch bench --quick --json` with `model`, on chunks of the sample corpus, also
/// measuring queries and graph recall on the index of `docs`.
pub fn quick_bench_on(model: &Path, docs: &Path) -> Command {
    let mut cmd = lexsearch();
    cmd.args(["bench", "--quick", "--json", "--model"])
        .arg(model)
        .arg("--corpus")
        .arg(sample_corpus())
        .arg("--index")
        .arg(docs.join(".lexsearch"));
    cmd
}

/// The `file` of every hit in `lexsearch search --json` output, in rank order.
pub fn hit_files(v: &serde_json::Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["file"].as_str().unwrap().to_string())
        .collect()
}

/// The `chunk_id` of every hit of a `--json` search document, in order.
pub fn hit_chunk_ids(v: &serde_json::Value) -> Vec<u64> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["chunk_id"].as_u64().unwrap())
        .collect()
}

/// Number of files directly in `dir` whose extension is `ext` and that an index of `dir`
/// takes: those its `.lexsearchignore` names as `/NAME` (the sample corpus's README) are left
/// out.
pub fn files_with_extension(dir: &Path, ext: &str) -> usize {
    let ignored: Vec<String> = fs::read_to_string(dir.join(".lexsearchignore"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix('/'))
        .map(str::to_owned)
        .collect();
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == ext)
                && !ignored
                    .iter()
                    .any(|n| p.file_name().is_some_and(|f| f == n.as_str()))
        })
        .count()
}

/// Copies a folder tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A temporary folder with a tiny random model (for tests of reading files, not of retrieval
/// quality) and an empty `docs/`.
pub fn tiny_model_and_folder() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("docs");
    fs::create_dir(&docs).unwrap();
    (dir, model, docs)
}

/// Indexes `docs` with the model in `model` through the CLI, quietly; panics if it fails.
pub fn index_folder(model: &Path, docs: &Path) {
    lexsearch()
        .args(["index", "--quiet", "--model"])
        .arg(model)
        .arg(docs)
        .assert()
        .success();
}

/// Indexes `docs` with the model in `model` through the CLI with `--json`, expecting files to
/// be skipped (exit status 2), and returns the report.
pub fn index_json_with_skipped(model: &Path, docs: &Path) -> serde_json::Value {
    let out = lexsearch()
        .args(["index", "--json", "--model"])
        .arg(model)
        .arg(docs)
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// Runs `cmd`, which must succeed, and parses its standard output as JSON.
pub fn success_json(cmd: &mut Command) -> serde_json::Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// The documents of the index at `index` (its current generation's catalog), in id order:
/// (id, path relative to the folder, number of chunks).
pub fn catalog_documents(index: &Path) -> Vec<(u64, PathBuf, usize)> {
    let library = lexsearch::library::Library::at(index);
    let snapshot = library.snapshot().unwrap();
    let catalog = library.read_catalog(snapshot.paths()).unwrap();
    catalog
        .documents()
        .unwrap()
        .into_iter()
        .map(|(id, d)| (id.0, d.rel, d.chunks.len()))
        .collect()
}

/// `lexsearch status --json` run inside `dir` (the index found as a search finds it).
pub fn status_json(dir: &Path) -> serde_json::Value {
    success_json(lexsearch().current_dir(dir).args(["status", "--json"]))
}

/// The sample corpus, indexed once with the real model and shared by every test that only
/// searches it. `None` when the model is absent.
pub fn indexed_sample() -> Option<&'static Path> {
    static INDEXED: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    INDEXED
        .get_or_init(|| {
            let model = real_model()?;
            let tmp = tempfile::tempdir().unwrap();
            let docs = tmp.path().join("corpus");
            copy_tree(&sample_corpus(), &docs);
            index_folder(&model, &docs);
            Some((tmp, docs))
        })
        .as_ref()
        .map(|(_, docs)| docs.as_path())
}

/// Options for a tiny random BERT model folder.
pub struct Tiny {
    /// `vocab_size` written to config.json (the tokenizer has 24 tokens).
    pub config_vocab: usize,
    /// `architectures` in config.json.
    pub arch: &'static str,
    /// `model_type` in config.json.
    pub model_type: &'static str,
    /// Pooling mode for 1_Pooling/config.json; `None` writes no sentence-transformers files.
    pub pooling: Option<&'static str>,
    /// Whether to write model.safetensors.
    pub weights: bool,
}

impl Default for Tiny {
    fn default() -> Self {
        Tiny {
            config_vocab: TINY_VOCAB.len(),
            arch: "BertModel",
            model_type: "bert",
            pooling: Some("pooling_mode_mean_tokens"),
            weights: true,
        }
    }
}

/// The tiny tokenizer's vocabulary: special tokens, then a few words.
pub const TINY_VOCAB: [&str; 24] = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "the",
    "tenant",
    "landlord",
    "shall",
    "pay",
    "rent",
    "deposit",
    "security",
    "lease",
    "agreement",
    "party",
    "notice",
    "term",
    "##s",
    "a",
    "of",
    "to",
    "and",
    ".",
    ",",
];

/// Writes a tiny random BERT (hidden size 8, one layer) in the sentence-transformers layout.
pub fn write_tiny_model(dir: &Path, t: &Tiny) {
    fs::create_dir_all(dir).unwrap();
    let config = json!({
        "architectures": [t.arch],
        "model_type": t.model_type,
        "vocab_size": t.config_vocab,
        "hidden_size": 8,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 16,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 64,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0
    });
    fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let vocab: serde_json::Map<String, serde_json::Value> = TINY_VOCAB
        .iter()
        .enumerate()
        .map(|(i, w)| (w.to_string(), json!(i)))
        .collect();
    let special = |id: usize, content: &str| {
        json!({"id": id, "content": content, "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true})
    };
    let tokenizer = json!({
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": 16, "strategy": "LongestFirst", "stride": 0},
        "padding": null,
        "added_tokens": [special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]")],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}
            }
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    });
    fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();
    if let Some(mode) = t.pooling {
        fs::create_dir_all(dir.join("1_Pooling")).unwrap();
        fs::write(
            dir.join("1_Pooling/config.json"),
            json!({"word_embedding_dimension": 8, mode: true}).to_string(),
        )
        .unwrap();
        fs::write(
            dir.join("sentence_bert_config.json"),
            r#"{"max_seq_length": 32}"#,
        )
        .unwrap();
    }
    if t.weights {
        // Random weights for exactly the tensors candle's BERT loads.
        let cfg: candle_transformers::models::bert::Config = serde_json::from_value(json!({
            "vocab_size": t.config_vocab.max(TINY_VOCAB.len()), "hidden_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 2,
            "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0
        }))
        .unwrap();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        candle_transformers::models::bert::BertModel::load(vb, &cfg).unwrap();
        varmap.save(dir.join("model.safetensors")).unwrap();
    }
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}
