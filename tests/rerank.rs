//! Cross-encoder reranking: exact against sentence-transformers on generated models, refused
//! for folders that are not cross-encoders, and wired into `search`, `rerank` and `--json`.
//!
//! The generated models come from `scripts/make-test-models` (scripts/testmodels/rerank_*.py):
//! tests that need them skip when they are absent, unless `LEXSEARCH_REQUIRE_TEST_MODELS=1`
//! (set by scripts/test), where their absence fails them.

use std::fs;
use std::path::PathBuf;

use lexsearch::DeviceSpec;
use lexsearch::embed::CrossEncoder;
use serde_json::Value;

use crate::common::{Tiny, indexed_sample, lexsearch, repo, success_json, write_tiny_model};

/// Largest difference allowed between lexsearch's scores and sentence-transformers'.
const TOLERANCE: f32 = 1e-4;

/// Every generated reranker: its folder and references.json.
fn generated_rerankers() -> Vec<(PathBuf, Value)> {
    let root = repo().join("target/test-models");
    let mut found = Vec::new();
    for entry in fs::read_dir(&root).into_iter().flatten().flatten() {
        let refs = entry.path().join("references.json");
        let Ok(text) = fs::read_to_string(&refs) else {
            continue;
        };
        let v: Value = serde_json::from_str(&text).unwrap();
        if v["kind"] == "reranker" {
            found.push((entry.path(), v));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// The generated BERT reranker, or `None` (with a message) when it has not been generated
/// and is not required.
fn bert_reranker() -> Option<(PathBuf, Value)> {
    let found = generated_rerankers()
        .into_iter()
        .find(|(_, v)| v["family"] == "bert");
    if found.is_none() {
        missing("no generated BERT reranker in target/test-models");
    }
    found
}

fn missing(what: &str) {
    if std::env::var("LEXSEARCH_REQUIRE_TEST_MODELS").as_deref() == Ok("1") {
        panic!("LEXSEARCH_REQUIRE_TEST_MODELS=1 but {what}: run scripts/make-test-models");
    }
    eprintln!("SKIPPED: {what}; run scripts/make-test-models");
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn assert_close(ours: &[f32], theirs: &[f32], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= TOLERANCE,
            "{what}: passage {i} scores {a}, sentence-transformers {b}"
        );
    }
}

#[test]
fn generated_rerankers_score_as_sentence_transformers_does_batched_and_alone() {
    let all = generated_rerankers();
    if all.is_empty() {
        missing("no generated rerankers in target/test-models");
        return;
    }
    let mut families = Vec::new();
    for (dir, refs) in all {
        let name = dir.display();
        let model =
            CrossEncoder::load(&dir, DeviceSpec::Cpu).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(model.info().family.name(), refs["family"], "{name}");
        let query = refs["query"].as_str().unwrap();
        let passages: Vec<&str> = refs["passages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let batched = model.score(query, &passages).unwrap();
        assert_close(
            &batched,
            &floats(&refs["batched"]),
            &format!("{name} batched"),
        );
        let alone: Vec<f32> = passages
            .iter()
            .map(|p| model.score(query, &[p]).unwrap()[0])
            .collect();
        assert_close(&alone, &floats(&refs["alone"]), &format!("{name} alone"));
        // Deterministic: a pair scores the same alone as among longer and shorter ones.
        for (a, b) in batched.iter().zip(&alone) {
            assert!((a - b).abs() <= 1e-6, "{name}: {a} in a batch, {b} alone");
        }
        // One passage is longer than the model's maximum length: it was truncated, not refused.
        let longest = passages
            .iter()
            .map(|p| model.pair_len(query, p).unwrap())
            .max()
            .unwrap();
        assert_eq!(longest, model.info().max_length, "{name}");
        eprintln!("{name}: scores within 1e-4 of sentence-transformers, batched and alone");
        families.push(model.info().family.name());
    }
    families.sort_unstable();
    assert_eq!(
        families,
        ["bert", "modernbert", "xlm-roberta"],
        "one generated reranker per family"
    );
}

#[test]
fn an_embedding_model_is_refused_as_a_reranker_with_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_model(dir.path(), &Tiny::default());
    let out = lexsearch()
        .args(["rerank", "--model"])
        .arg(dir.path())
        .arg("security deposit")
        .write_stdin("a passage\n")
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a cross-encoder"), "{err}");
    assert!(err.contains("BertModel"), "{err}");
    assert!(
        err.contains("--model, not to --rerank") && err.contains("num_labels 1"),
        "{err}"
    );
}

#[test]
fn rerank_scores_stdin_passages_in_input_order_whatever_their_format() {
    let Some((dir, refs)) = bert_reranker() else {
        return;
    };
    let passages: Vec<&str> = refs["passages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    // Each passage in turn as a JSON object, a JSON string and a plain line (when it fits on
    // one line and is not blank; blank lines are skipped, so the empty passage goes as JSON).
    let mut input = String::new();
    for (i, p) in passages.iter().enumerate() {
        let line = match i % 3 {
            0 => serde_json::json!({ "text": p }).to_string(),
            1 => serde_json::to_string(p).unwrap(),
            _ if p.trim().is_empty() || p.starts_with(['{', '"']) => {
                serde_json::to_string(p).unwrap()
            }
            _ => p.to_string(),
        };
        input.push_str(&line);
        input.push('\n');
    }
    input.push('\n'); // a blank line: skipped
    let out = lexsearch()
        .args(["rerank", "--model"])
        .arg(&dir)
        .arg(refs["query"].as_str().unwrap())
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), passages.len());
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["index"], i);
    }
    let scores: Vec<f32> = lines
        .iter()
        .map(|l| l["score"].as_f64().unwrap() as f32)
        .collect();
    assert_close(&scores, &floats(&refs["alone"]), "lexsearch rerank");
}

#[test]
fn search_reranks_the_best_fused_hits_and_keeps_the_rest_in_fused_order() {
    let Some((reranker, _)) = bert_reranker() else {
        return;
    };
    let Some(docs) = indexed_sample() else {
        return;
    };
    let search = |extra: &[&str]| {
        success_json(
            lexsearch()
                .current_dir(docs)
                .args(["search", "security deposit", "-k", "8", "--json"])
                .args(extra),
        )
    };
    let plain = search(&[]);
    let top = "4";
    let reranked = search(&["--rerank", reranker.to_str().unwrap(), "--rerank-top", top]);
    let ids = |v: &Value, range: std::ops::Range<usize>| -> Vec<u64> {
        v["hits"].as_array().unwrap()[range]
            .iter()
            .map(|h| h["chunk_id"].as_u64().unwrap())
            .collect()
    };
    let hits = reranked["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 8);
    assert_eq!(reranked["rerank"]["top"], 4);
    assert!(reranked["rerank_elapsed"].as_f64().unwrap() > 0.0);
    assert!(plain["rerank"].is_null() && plain.get("rerank_elapsed").is_none());
    // The same four candidates, now in the reranker's order, each with its score.
    let mut before = ids(&plain, 0..4);
    let mut after = ids(&reranked, 0..4);
    before.sort_unstable();
    after.sort_unstable();
    assert_eq!(before, after);
    let scores: Vec<f64> = hits[..4]
        .iter()
        .map(|h| h["rerank"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The rest unscored, in their fused order; the fused score and each arm's evidence kept.
    assert!(hits[4..].iter().all(|h| h["rerank"].is_null()));
    assert_eq!(ids(&reranked, 4..8), ids(&plain, 4..8));
    for h in hits {
        let same = plain["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["chunk_id"] == h["chunk_id"])
            .unwrap();
        assert_eq!(h["score"], same["score"]);
        assert_eq!(h["keyword"], same["keyword"]);
        assert_eq!(h["semantic"], same["semantic"]);
    }
    // --explain shows the reranker's score beside the arms'.
    let out = lexsearch()
        .current_dir(docs)
        .args([
            "search",
            "security deposit",
            "-k",
            "3",
            "--explain",
            "--rerank",
        ])
        .arg(&reranker)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("; reranker ").count(), 3, "{text}");
    assert!(text.contains("ms reranking"), "{text}");
}
