//! `lexsearch bench --quick` runs and prints its figures (no pass or fail on time).

use serde_json::Value;

use crate::common::{
    files_with_extension, indexed_sample, lexsearch, quick_bench_on, real_model, sample_corpus,
};

#[test]
fn quick_bench_reports_throughput_latency_and_recall() {
    let Some(model) = real_model() else { return };
    let Some(docs) = indexed_sample() else { return };
    let out = quick_bench_on(&model, docs)
        .args(["--graph-params", "8:50", "--path", "*.md"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r: Value = serde_json::from_slice(&out).unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&r).unwrap());
    assert_eq!(r["chunks"], 16);
    assert!(r["embedding"][0]["chunks_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(r["query_latency"].as_array().unwrap().len(), 3);
    // Searches narrowed to the Markdown files, in the three modes.
    let narrowed = &r["path_latency"][0];
    assert_eq!(narrowed["pattern"], "*.md");
    assert_eq!(
        narrowed["files"],
        files_with_extension(&sample_corpus(), "md")
    );
    assert_eq!(narrowed["latency"].as_array().unwrap().len(), 3);
    // Recall is measured, on real embeddings, against exact search: a generous floor.
    let recall = r["graph_recall"].as_array().unwrap();
    let at_64 = recall.iter().find(|x| x["ef"] == 64).unwrap();
    assert!(at_64["recall_at_10"].as_f64().unwrap() >= 0.9, "{at_64}");
    // The graph built with other parameters is measured the same way.
    let trial = &r["graph_trials"][0];
    assert_eq!(
        (&trial["max_connections"], &trial["ef_construction"]),
        (&8.into(), &50.into())
    );
    let at_64 = trial["recall"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["ef"] == 64)
        .unwrap();
    assert!(at_64["recall_at_10"].as_f64().unwrap() >= 0.8, "{at_64}");
}

#[test]
fn malformed_graph_params_are_refused_with_the_expected_form() {
    let Some(docs) = indexed_sample() else { return };
    lexsearch()
        .args(["bench", "--quick", "--corpus"])
        .arg(sample_corpus())
        .arg("--index")
        .arg(docs.join(".lexsearch"))
        .args(["--graph-params", "16"])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "M:EF_CONSTRUCTION pairs such as 16:200",
        ));
}

#[test]
fn a_grown_index_verifies_and_searches_with_generated_vectors() {
    let Some(model) = real_model() else { return };
    let Some(docs) = indexed_sample() else { return };
    let dir = tempfile::tempdir().unwrap();
    let grown = dir.path().join("grown");
    let source = docs.join(".lexsearch");
    let real = lexsearch::maintain::status(&source).unwrap().chunks as usize;
    let stage = |_: &str| {};
    let report = lexsearch::bench::grow_index(&source, &grown, 3 * real, &stage).unwrap();
    assert_eq!(report.real_chunks, real);
    assert!(report.chunks >= 3 * real, "{report:?}");
    // A whole, consistent index: catalog, keyword index and graph agree.
    let v = lexsearch::maintain::verify(&grown, false).unwrap();
    assert!(v.findings.is_empty(), "{:?}", v.findings);
    assert_eq!(v.chunks, report.chunks);
    // Copies are found by their text, under their own paths.
    let out = lexsearch()
        .args([
            "search",
            "security deposit",
            "--mode",
            "keyword",
            "-k",
            "6",
            "--json",
        ])
        .arg("--index")
        .arg(&grown)
        .arg("--model")
        .arg(&model)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let hits: Value = serde_json::from_slice(&out).unwrap();
    // A replica's chunk holds its original's text: one hit, the other its copy.
    let files: Vec<&str> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| std::iter::once(h).chain(h["copies"].as_array().unwrap()))
        .map(|h| h["file"].as_str().unwrap())
        .collect();
    assert!(files.iter().any(|f| f.starts_with("replica-")), "{files:?}");
    // Growing never overwrites.
    assert!(lexsearch::bench::grow_index(&source, &grown, real, &stage).is_err());
}
