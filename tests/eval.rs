//! A first look at retrieval quality on real labelled legal data (../shared/eval): the
//! PrivacyQA part of LegalBench-RAG, 7 real privacy policies. The full evaluation is
//! `lexsearch eval`'s job; this only guards against the pipeline losing its way.

use std::fs;

use serde_json::Value;

use crate::common::{lexsearch, real_model, shared};

#[test]
fn labelled_privacy_queries_find_their_policy_and_passage_in_the_top_10() {
    let Some(model) = real_model() else { return };
    let Some(set) = shared("eval/legalbenchrag-dev") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    crate::common::copy_tree(&set.join("docs/privacy_qa"), &docs.join("privacy_qa"));
    lexsearch()
        .args(["index", "--quiet", "--model"])
        .arg(&model)
        .arg(&docs)
        .assert()
        .success();

    // Every 10th PrivacyQA query: 20 queries spread over all 7 policies.
    let queries: Vec<Value> = fs::read_to_string(set.join("queries.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|q| q["subset"] == "privacy_qa")
        .step_by(10)
        .collect();
    let (mut doc_hits, mut span_hits) = (0, 0);
    for q in &queries {
        let out = lexsearch()
            .current_dir(&docs)
            .args(["search", "--json", "-k", "10"])
            .arg(q["query"].as_str().unwrap())
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let hits: Value = serde_json::from_slice(&out).unwrap();
        let hits = hits["hits"].as_array().unwrap();
        let relevant = q["relevant"].as_array().unwrap();
        let same_file = |h: &Value, r: &Value| h["file"] == r["file"];
        if hits
            .iter()
            .any(|h| relevant.iter().any(|r| same_file(h, r)))
        {
            doc_hits += 1;
        }
        let overlaps = |h: &Value, r: &Value| {
            same_file(h, r)
                && h["start_byte"].as_u64() < r["end_byte"].as_u64()
                && r["start_byte"].as_u64() < h["end_byte"].as_u64()
        };
        if hits.iter().any(|h| relevant.iter().any(|r| overlaps(h, r))) {
            span_hits += 1;
        }
    }
    let n = queries.len();
    eprintln!(
        "PrivacyQA sample: {doc_hits}/{n} right policy in top 10, {span_hits}/{n} a relevant passage in top 10"
    );
    assert_eq!(n, 20);
    assert!(
        doc_hits >= 18,
        "right policy in the top 10 for only {doc_hits} of {n} queries"
    );
    assert!(
        span_hits >= 10,
        "a relevant passage in the top 10 for only {span_hits} of {n} queries"
    );
}
