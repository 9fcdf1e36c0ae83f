//! The CLI end to end on the sample corpus with the real model.

use std::path::Path;

use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::Value;

use crate::common::{
    Tiny, copy_tree, hit_chunk_ids, hit_files as files, index_folder, indexed_sample, lexsearch,
    real_model, sample_corpus, success_json, tiny_model_and_folder, write_tiny_model,
};

/// The chunk id and score of the first `n` hits of `v` that `keep` keeps.
fn ranked(v: &Value, keep: impl Fn(&&Value) -> bool, n: usize) -> Vec<(u64, f64)> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(keep)
        .take(n)
        .map(|h| {
            (
                h["chunk_id"].as_u64().unwrap(),
                h["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// `got` holds the chunks of `want`, in order, with the same scores (BM25 sums its terms in
/// another order when a search is narrowed: the last digit may differ).
fn assert_same_ranking(got: &[(u64, f64)], want: &[(u64, f64)]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (a, b) in got.iter().zip(want) {
        assert!(
            a.0 == b.0 && (a.1 - b.1).abs() < 1e-4,
            "{got:?} vs {want:?}"
        );
    }
}

fn search_json(docs: &Path, args: &[&str]) -> Value {
    crate::common::success_json(
        lexsearch()
            .current_dir(docs)
            .arg("search")
            .args(args)
            .arg("--json"),
    )
}

#[test]
fn a_cited_paragraph_ranks_first_and_is_pinpointed() {
    let (_dir, model, docs) = tiny_model_and_folder();
    // A section long enough for several chunks, its paragraph (c-1) far down; and another
    // section with a (c-1) of its own, which the citation does not name.
    let mut text = String::from(
        "D.C. Code § 42-3505.01. Evictions.\nTitle 42. Real Property. > Chapter 35. Rental \
         Housing.\n\n",
    );
    for label in ['a', 'b', 'c'] {
        let clause = "A housing provider may recover possession of a rental unit where the \
                      tenant fails to pay rent after notice. ";
        text += &format!("  ({label}) {}\n", clause.repeat(12));
    }
    text += "  (c-1)\n    (1) It shall be a defense to an action for possession that the tenant \
             is a victim of an intrafamily offense.\n    (2) If the tenant has received a civil \
             protection order, the court shall not enter a judgment for possession.\n  (d) A \
             natural person with a freehold interest may recover possession.\n";
    std::fs::write(docs.join("42-3505.01.txt"), &text).unwrap();
    std::fs::write(
        docs.join("42-3505.02.txt"),
        "D.C. Code § 42-3505.02. Other matters.\n\n  (c-1) Nothing in this section applies \
         to a victim.\n",
    )
    .unwrap();
    index_folder(&model, &docs);
    for (query, pinpoint) in [
        ("§ 42-3505.01(c-1)(2)", "(2) If the tenant has received"),
        // The label ends a chunk: the text under it, in the next.
        ("42-3505.01(c-1)", "(1) It shall be a defense"),
    ] {
        for mode in ["hybrid", "keyword"] {
            let v = search_json(&docs, &[query, "--mode", mode, "-k", "3"]);
            let top = &v["hits"][0];
            assert_eq!(top["file"], "42-3505.01.txt", "{mode}: {v}");
            let pin = top["pinpoint"]["text"].as_str().unwrap();
            assert!(pin.starts_with(pinpoint), "{query} {mode}: {pin}");
        }
    }
    // The query's conditions still hold: a chunk that does not meet them is not put first.
    let v = search_json(&docs, &["§ 42-3505.01(c-1) -victim", "--mode", "keyword"]);
    for h in v["hits"].as_array().unwrap() {
        assert!(!h["text"].as_str().unwrap().contains("victim"), "{h}");
    }
}

#[test]
fn an_exact_phrase_ranks_its_document_first_in_keyword_mode() {
    let Some(docs) = indexed_sample() else { return };
    for (phrase, file) in [
        (
            "The rule is substantive, not evidentiary; it defines what the contract is.",
            "court-opinion-contract.txt",
        ),
        (
            "shall challenge any government request for access to Personal Data",
            "data-processing-addendum.md",
        ),
        (
            "purchase proprietary broth bases and sauces",
            "franchise-agreement.md",
        ),
    ] {
        let v = search_json(docs, &[phrase, "--mode", "keyword", "-k", "3"]);
        assert_eq!(files(&v)[0], file, "{phrase}");
    }
}

#[test]
fn a_small_k_gives_the_first_hits_of_a_large_one_in_every_mode() {
    let Some(docs) = indexed_sample() else { return };
    // Each hit as file, line and score: weighted fusion scales each arm between its best and
    // worst candidate, which once made `-k 1` and `-k 3` fuse fewer candidates than `-k 10`
    // and put another passage first (the citation below: the consumer statute's § 1983
    // clause at `-k 3`, not at `-k 1`).
    let hits = |query: &str, mode: &str, k: usize| -> Vec<String> {
        let v = search_json(docs, &[query, "--mode", mode, "-k", &k.to_string()]);
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| format!("{}:{} {}", h["file"], h["line"], h["score"]))
            .collect()
    };
    for query in [
        "42 U.S.C. § 1983",
        "can the landlord keep my deposit",
        "what happens if the software is reverse engineered",
        "how fast must a data breach be reported",
    ] {
        for mode in ["hybrid", "keyword", "semantic"] {
            let ten = hits(query, mode, 10);
            assert_eq!(ten.len(), 10, "{query} ({mode})");
            for k in [1, 3] {
                assert_eq!(hits(query, mode, k), ten[..k], "{query} ({mode}, -k {k})");
            }
        }
    }
}

#[test]
fn forty_copies_of_a_contract_do_not_push_its_passages_down_the_hybrid_ranking() {
    let (Some(model), Some(plain)) = (real_model(), indexed_sample()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    copy_tree(&sample_corpus(), &docs);
    for i in 0..40 {
        std::fs::create_dir_all(docs.join(format!("matter-{i}"))).unwrap();
        std::fs::copy(docs.join("nda.md"), docs.join(format!("matter-{i}/nda.md"))).unwrap();
    }
    index_folder(&model, &docs);
    let query = "what must the recipient do with confidential information when the agreement ends";
    // The best four passages, each by its file's name and the line it begins at.
    let top = |v: &Value| -> Vec<(String, u64)> {
        let mut top: Vec<(String, u64)> = v["hits"].as_array().unwrap()[..4]
            .iter()
            .map(|h| {
                let file = h["file"].as_str().unwrap();
                let name = file.rsplit('/').next().unwrap().to_string();
                (name, h["line"].as_u64().unwrap())
            })
            .collect();
        top.sort();
        top
    };
    let alone = search_json(plain, &[query, "-k", "8"]);
    assert!(top(&alone).iter().any(|(f, _)| f == "nda.md"), "{alone}");
    // The copies share the NDA's scores and filled each arm's candidates, so weighted
    // fusion, scaling each arm between its best and worst candidate, put the NDA last;
    // each arm now passes on as many different passages as without copies.
    let copied = search_json(&docs, &[query, "-k", "8"]);
    assert_eq!(top(&copied), top(&alone), "{copied}");
}

#[test]
fn every_hit_names_each_copy_of_its_text_in_a_file_of_another_name_however_it_ranks() {
    let Some(model) = real_model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    copy_tree(&sample_corpus(), &docs);
    std::fs::create_dir_all(docs.join("matter")).unwrap();
    std::fs::copy(
        docs.join("commercial-lease.txt"),
        docs.join("matter/lease-2024.txt"),
    )
    .unwrap();
    index_folder(&model, &docs);
    // The file's name is embedded and indexed with each chunk, so the two copies of a clause
    // score a little apart, and the second often ranks past the k-th hit.
    let leases = ["commercial-lease.txt", "matter/lease-2024.txt"];
    for query in [
        "late fee",
        "security deposit returned",
        "who insures the premises",
    ] {
        for k in ["1", "2", "3"] {
            for mode in ["hybrid", "keyword", "semantic"] {
                let v = search_json(&docs, &[query, "-k", k, "--mode", mode]);
                for h in v["hits"].as_array().unwrap() {
                    let file = h["file"].as_str().unwrap();
                    let copies: Vec<&str> = h["copies"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["file"].as_str().unwrap())
                        .collect();
                    let want: Vec<&str> = if leases.contains(&file) {
                        leases.iter().copied().filter(|f| *f != file).collect()
                    } else {
                        Vec::new()
                    };
                    assert_eq!(copies, want, "{query} -k {k} --mode {mode}: {file}");
                    assert_eq!(h["copies_complete"], true, "{query}: {file}");
                }
            }
        }
        // A copy outside the files searched is not one of the hit's places.
        let v = search_json(&docs, &[query, "-k", "3", "--path", "commercial-lease.txt"]);
        for h in v["hits"].as_array().unwrap() {
            assert_eq!(h["copies"], serde_json::json!([]), "{query}");
        }
    }
}

#[test]
fn a_paraphrase_with_no_shared_content_words_finds_the_deposit_clause() {
    let Some(docs) = indexed_sample() else { return };
    for mode in ["semantic", "hybrid"] {
        let v = search_json(
            docs,
            &[
                "can the landlord keep my deposit",
                "--mode",
                mode,
                "-k",
                "3",
            ],
        );
        assert!(
            files(&v).iter().any(|f| f == "commercial-lease.txt"),
            "{mode}: {:?}",
            files(&v)
        );
    }
}

#[test]
fn json_output_has_the_documented_fields() {
    let Some(docs) = indexed_sample() else { return };
    let v = search_json(docs, &["security deposit returned", "-k", "5", "--explain"]);
    assert_eq!(v["query"], "security deposit returned");
    assert_eq!(v["mode"], "hybrid");
    assert_eq!(v["k"], 5);
    assert_eq!(v["fusion"]["method"], "weighted");
    assert!(v["elapsed"].as_f64().unwrap() > 0.0);
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5);
    for (i, h) in hits.iter().enumerate() {
        assert_eq!(h["rank"], i + 1);
        for field in ["score", "chunk_id", "line", "start_byte", "end_byte"] {
            assert!(h[field].is_number(), "{field} in {h}");
        }
        for field in ["path", "file", "title", "text"] {
            assert!(h[field].is_string(), "{field} in {h}");
        }
        assert!(h["breadcrumb"].is_array());
        assert!(h["snippet"]["text"].is_string() && h["snippet"]["highlights"].is_array());
        assert!(h["keyword"].is_object() || h["semantic"].is_object());
        // Byte offsets point into the file exactly.
        let path = h["path"].as_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        let (s, e) = (
            h["start_byte"].as_u64().unwrap() as usize,
            h["end_byte"].as_u64().unwrap() as usize,
        );
        assert_eq!(&bytes[s..e], h["text"].as_str().unwrap().as_bytes());
        let line = bytes[..s].iter().filter(|&&b| b == b'\n').count() + 1;
        assert_eq!(h["line"].as_u64().unwrap() as usize, line);
    }
    let top = &hits[0];
    assert!(top["keyword"]["rank"].is_number() && top["keyword"]["score"].is_number());
}

#[test]
fn each_hit_has_a_pinpoint_at_exact_offsets_inside_its_chunk() {
    let Some(docs) = indexed_sample() else { return };
    let v = search_json(
        docs,
        &[
            "when must the landlord return the security deposit",
            "-k",
            "3",
        ],
    );
    let hits = v["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        let p = &h["pinpoint"];
        assert!(p.is_object(), "a pinpoint for {h}");
        let (s, e) = (
            p["start_byte"].as_u64().unwrap() as usize,
            p["end_byte"].as_u64().unwrap() as usize,
        );
        let (cs, ce) = (
            h["start_byte"].as_u64().unwrap() as usize,
            h["end_byte"].as_u64().unwrap() as usize,
        );
        assert!(
            cs <= s && s < e && e <= ce,
            "pinpoint {s}..{e} in chunk {cs}..{ce}"
        );
        let bytes = std::fs::read(h["path"].as_str().unwrap()).unwrap();
        assert_eq!(&bytes[s..e], p["text"].as_str().unwrap().as_bytes());
        let line = bytes[..s].iter().filter(|&&b| b == b'\n').count() + 1;
        assert_eq!(p["line"].as_u64().unwrap() as usize, line);
        assert!(p["score"].is_number());
        // Shorter than the chunk: a sentence or two, not the page.
        assert!(e - s < ce - cs || ce - cs < 200, "{p}");
    }
    let top = hits[0]["pinpoint"]["text"].as_str().unwrap().to_lowercase();
    assert!(top.contains("deposit"), "{top}");
    // Turned off, hits carry none.
    let off = search_json(docs, &["security deposit", "-k", "2", "--no-pinpoint"]);
    assert!(off["hits"][0]["pinpoint"].is_null());
}

#[test]
fn human_output_marks_the_pinpoint_in_the_snippet() {
    let Some(docs) = indexed_sample() else { return };
    lexsearch()
        .current_dir(docs)
        .args([
            "search",
            "return of the security deposit",
            "-k",
            "2",
            "--color",
            "never",
        ])
        .assert()
        .success()
        .stdout(contains("»"))
        .stdout(contains("«"));
}

#[test]
fn human_output_shows_place_breadcrumb_and_snippet() {
    let Some(docs) = indexed_sample() else { return };
    lexsearch()
        .current_dir(docs)
        .args(["search", "return of the security deposit", "-k", "3"])
        .assert()
        .success()
        .stdout(contains("commercial-lease.txt:"))
        .stdout(contains("ARTICLE 4 SECURITY DEPOSIT > Section 4."))
        .stdout(contains("\u{1b}[").not());
}

#[test]
fn search_finds_the_index_from_a_subfolder_like_git() {
    let Some(docs) = indexed_sample() else { return };
    let sub = tempfile::tempdir_in(docs).unwrap();
    lexsearch()
        .current_dir(sub.path())
        .args([
            "search",
            "franchise royalties",
            "--mode",
            "keyword",
            "-k",
            "1",
        ])
        .assert()
        .success()
        .stdout(contains("franchise-agreement.md"));
}

#[test]
fn html_is_indexed_without_scripts_styles_markup_navigation_or_page_footer() {
    let Some(docs) = indexed_sample() else { return };
    // Scripts, the site's menus (`<nav>`), the page's banner beside its `<main>` and the
    // page footer's copyright line.
    for chrome in [
        "analyticsQueue DOMContentLoaded toggleMenu",
        "+\"Contract Library Help\"",
        "+\"Contractor Templates\"",
        "+\"Template use only\"",
    ] {
        lexsearch()
            .current_dir(docs)
            .args(["search", chrome, "--mode", "keyword"])
            .assert()
            .code(1);
    }
    let v = search_json(
        docs,
        &["children's privacy", "--mode", "keyword", "-k", "3"],
    );
    let hit = &v["hits"][0];
    assert_eq!(hit["file"], "privacy-policy.html");
    assert!(!hit["text"].as_str().unwrap().contains('<'));
}

#[test]
fn a_citation_finds_the_section_that_cites_it_in_hybrid_mode() {
    let Some(docs) = indexed_sample() else { return };
    let v = search_json(docs, &["42 U.S.C. § 1983", "-k", "3"]);
    assert_eq!(files(&v)[0], "statute-consumer-protection.txt");
    let top = &v["hits"][0];
    assert!(top["text"].as_str().unwrap().contains("42 U.S.C. § 1983"));
    assert_eq!(
        v["fusion"]["alpha"].as_f64().map(|a| a > 0.5),
        Some(true),
        "the default stays 0.8"
    );
}

#[test]
fn a_path_filter_ranks_the_best_chunks_of_the_files_it_keeps_not_a_filtered_top_k() {
    let Some(docs) = indexed_sample() else { return };
    let query = "security deposit returned to the tenant";
    // In keyword mode scores do not depend on the filter: the narrowed search returns
    // exactly the best chunks of the kept files, wherever they rank in the whole index.
    let whole = search_json(docs, &[query, "--mode", "keyword", "-k", "400"]);
    let narrowed = search_json(
        docs,
        &[query, "--mode", "keyword", "-k", "3", "--path", "*.md"],
    );
    let md = |h: &&Value| h["file"].as_str().unwrap().ends_with(".md");
    let best_md = ranked(&whole, md, 3);
    assert_same_ranking(&ranked(&narrowed, md, 3), &best_md);
    assert_eq!(narrowed["paths"], serde_json::json!(["*.md"]));
    assert_eq!(
        narrowed["files_in_scope"],
        crate::common::files_with_extension(docs, "md")
    );

    // A file whose chunks are far from the top of the whole index still gives its best ones,
    // in every mode (the will shares one word with the query); repeated patterns keep files
    // matching any of them.
    for mode in ["hybrid", "semantic", "keyword"] {
        let v = search_json(
            docs,
            &[
                query,
                "--mode",
                mode,
                "-k",
                "4",
                "--path",
                "LAST-WILL*",
                "--path",
                "*/none",
            ],
        );
        // Keyword mode returns only chunks that share a word with the query.
        let wanted = if mode == "keyword" { 1 } else { 4 };
        assert_eq!(files(&v), vec!["last-will.txt"; wanted], "{mode}");
        assert_eq!(v["files_in_scope"], 1, "{mode}");
    }
    let v = search_json(
        docs,
        &[query, "-k", "20", "--path", "lease", "--path", "nda"],
    );
    let mut kept = files(&v);
    kept.sort();
    kept.dedup();
    assert_eq!(kept, ["commercial-lease.txt", "nda.md"]);
    assert!(
        search_json(docs, &[query])["paths"].is_null(),
        "absent without a filter"
    );
    // A path from the current folder, or a full one, keeps the files it names; one outside
    // the indexed folder is refused.
    let full = docs.join("nda.md").display().to_string();
    for p in ["./nda.md", full.as_str()] {
        let v = search_json(docs, &[query, "-k", "3", "--path", p]);
        assert_eq!(files(&v), vec!["nda.md"; 3], "{p}");
        assert_eq!(v["paths"], serde_json::json!(["nda.md"]), "{p}");
    }
    lexsearch()
        .current_dir(docs)
        .args(["search", query, "--path", ".."])
        .assert()
        .code(2)
        .stderr(contains("outside the indexed folder"));
}

#[test]
fn a_path_filter_that_keeps_no_file_says_so_and_exits_1() {
    let Some(docs) = indexed_sample() else { return };
    lexsearch()
        .current_dir(docs)
        .args(["search", "deposit", "--path", "contracts/*"])
        .assert()
        .code(1)
        .stdout(contains(
            "no indexed file's path matches --path contracts/*",
        ));
    let out = lexsearch()
        .current_dir(docs)
        .args(["search", "deposit", "--path", "contracts/*", "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["files_in_scope"], 0);
    assert_eq!(v["hits"], serde_json::json!([]));
}

#[test]
fn max_per_file_lists_the_best_files_each_by_its_best_chunk() {
    let Some(docs) = indexed_sample() else { return };
    let query = "termination of the agreement upon written notice";
    // Keyword scores do not depend on how deep the arm fetches: one hit per file is each
    // file's first appearance in the unlimited ranking, in that order.
    let whole = search_json(docs, &[query, "--mode", "keyword", "-k", "400"]);
    let mut seen = std::collections::HashSet::new();
    let firsts: Vec<Value> = whole["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| seen.insert(h["file"].as_str().unwrap().to_string()))
        .take(6)
        .map(|h| h["chunk_id"].clone())
        .collect();
    let one_each = search_json(
        docs,
        &[query, "--mode", "keyword", "-k", "6", "--max-per-file", "1"],
    );
    let ids: Vec<Value> = one_each["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["chunk_id"].clone())
        .collect();
    assert_eq!(ids, firsts);
    assert_eq!(one_each["max_per_file"], 1);
    // In hybrid mode, at most two hits of a file and still k hits.
    let two = search_json(docs, &[query, "-k", "10", "--max-per-file", "2"]);
    let found = files(&two);
    assert_eq!(found.len(), 10);
    for f in &found {
        assert!(found.iter().filter(|g| *g == f).count() <= 2, "{found:?}");
    }
    lexsearch()
        .current_dir(docs)
        .args(["search", query, "--max-per-file", "0"])
        .assert()
        .code(2)
        .stderr(contains("--max-per-file"));
}

/// `heading:` keeps the hits under headings (the document's title, its file's name, the
/// breadcrumb) that hold its words, `-heading:` the others: together, exactly the hits of the
/// words alone, ranked as they were.
#[test]
fn heading_keeps_exactly_the_hits_under_headings_that_hold_its_words() {
    let Some(docs) = indexed_sample() else { return };
    let under_termination = |h: &Value| -> bool {
        let file = Path::new(h["path"].as_str().unwrap()).file_name().unwrap();
        let mut headings = vec![
            file.to_string_lossy().to_string(),
            h["title"].as_str().unwrap_or_default().to_string(),
        ];
        headings.extend(
            (h["breadcrumb"].as_array().unwrap().iter()).map(|c| c.as_str().unwrap().to_string()),
        );
        headings.iter().any(|t| {
            t.split(|c: char| !c.is_alphanumeric())
                .any(|w| w.to_lowercase().starts_with("termin"))
        })
    };
    let keyword = |q: &str| search_json(docs, &[q, "--mode", "keyword", "-k", "400"]);
    let all = keyword("notice");
    let with = keyword("notice heading:termination");
    let without = keyword("notice -heading:termination");
    assert_eq!(with["heading"], serde_json::json!(["termination"]));
    assert_eq!(without["not_heading"], serde_json::json!(["termination"]));
    let hits = |v: &Value| v["hits"].as_array().unwrap().clone();
    assert!(!hits(&with).is_empty() && !hits(&without).is_empty());
    assert!(hits(&with).iter().all(under_termination), "{with}");
    assert!(!hits(&without).iter().any(under_termination), "{without}");
    // Both rank as the whole search did.
    assert_same_ranking(
        &ranked(&with, |_| true, 400),
        &ranked(&all, |h| under_termination(h), 400),
    );
    assert_same_ranking(
        &ranked(&without, |_| true, 400),
        &ranked(&all, |h| !under_termination(h), 400),
    );
    // Hybrid: the best passages on ending the contract among those headed so.
    let hybrid = search_json(
        docs,
        &[
            "how much notice to end the contract heading:termination",
            "-k",
            "5",
        ],
    );
    assert_eq!(hits(&hybrid).len(), 5);
    assert!(hits(&hybrid).iter().all(under_termination), "{hybrid}");
    // A phrase in quotes; `--explain` says what it asked.
    lexsearch()
        .current_dir(docs)
        .args([
            "search",
            "notice heading:\"termination for\" -heading:cause",
            "--explain",
            "-k",
            "1",
        ])
        .assert()
        .success()
        .stdout(contains(
            "under headings with \"termination for\" and no cause",
        ));
    // A heading alone says where, not what: refused with the reason.
    lexsearch()
        .current_dir(docs)
        .args(["search", "heading:termination"])
        .assert()
        .code(2)
        .stderr(contains("only says which passages qualify"));
}

/// `define:` keeps exactly the passages that define the term, ranked as the term's own
/// search ranks them, each pinpointed at its definition.
#[test]
fn define_keeps_exactly_the_passages_that_define_a_term_pinpointed_there() {
    use lexsearch::index::define::Definition;
    let Some(docs) = indexed_sample() else { return };
    let services = Definition::new("Services").unwrap();
    let text = |h: &Value| h["text"].as_str().unwrap().to_string();
    let keyword = |q: &str| search_json(docs, &[q, "--mode", "keyword", "-k", "400"]);
    let all = keyword("Services");
    let defining = keyword("define:Services");
    assert_eq!(defining["define"], serde_json::json!(["Services"]));
    let want = ranked(&all, |h| services.in_text(&text(h)), 400);
    assert!(!want.is_empty() && want.len() < hit_chunk_ids(&all).len());
    assert_same_ranking(&ranked(&defining, |_| true, 400), &want);
    // Hybrid: each hit pinpointed at the sentence that defines the term.
    let hybrid = search_json(docs, &["define:Services", "-k", "3"]);
    let hits = hybrid["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "{hybrid}");
    for h in hits {
        let pin = h["pinpoint"]["text"].as_str().unwrap();
        assert!(services.in_text(pin), "{pin:?} in {h}");
    }
    // A term of several words, in quotes, singular or plural; `--explain` says what it asked.
    lexsearch()
        .current_dir(docs)
        .args([
            "search",
            "define:\"Events of Default\"",
            "--explain",
            "-k",
            "1",
        ])
        .assert()
        .success()
        .stdout(contains("is an \"Event of Default\"").and(contains(
            "hits that hold the definition of \"Events of Default\"",
        )));
    // Its words without quotes: the first word's definition, none here, and the hint.
    lexsearch()
        .current_dir(docs)
        .args(["search", "define:Event of Default"])
        .assert()
        .code(1)
        .stdout(contains("goes in quotes: define:\"Event of Default\""));
}

/// `show FILE --section CITATION` reads a paragraph a citation names, in the file, else in the
/// indexed file that is the cited section of a code.
#[test]
fn show_reads_a_cited_paragraph_in_the_file_or_in_the_code_section_that_is_its_own_file() {
    let (_dir, model, docs) = tiny_model_and_folder();
    std::fs::write(
        docs.join("42-3401.03.txt"),
        "D.C. Code § 42-3401.03. Definitions.\n\nFor the purposes of this chapter:\n  \
         (16) \"Rental unit\" means any part of a housing accommodation.\n  (17) \"Tenant\" \
         includes a subtenant.\n  (18) \"Wilderbeast\" means nothing here.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("42-3505.01.txt"),
        "D.C. Code § 42-3505.01. Evictions.\n\n  (a) No tenant shall be evicted.\n  (b) A \
         displaced tenant, as defined in § 42-3401.03(17), stays a tenant.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("lease.txt"),
        "LEASE\n\nSection 7.9 Notices.\n(a) By mail.\n(b) By hand, as Section 7.9(a) allows.\n",
    )
    .unwrap();
    crate::common::index_folder(&model, &docs);
    let show = |args: &[&str]| {
        let mut cmd = lexsearch();
        cmd.current_dir(&docs).arg("show").args(args);
        cmd
    };
    for args in [
        &["42-3505.01.txt", "--section", "§ 42-3401.03(17)"][..],
        &["42-3505.01.txt § 42-3401.03(17)"],
    ] {
        show(args)
            .assert()
            .success()
            .stdout(contains("42-3401.03.txt  line 5 of 6"))
            .stdout(contains("5 │ (17) \"Tenant\" includes a subtenant."))
            .stdout(contains("Rental unit").not());
    }
    let json = success_json(&mut show(&[
        "42-3505.01.txt",
        "--section",
        "42-3401.03(16)",
        "--json",
    ]));
    assert_eq!(json["file"], "42-3401.03.txt", "{json}");
    assert_eq!(json["line"], 4, "{json}");
    // A paragraph of a contract's section, in the contract.
    show(&["lease.txt", "--section", "Section 7.9(b)"])
        .assert()
        .success()
        .stdout(contains("5 │ (b) By hand"))
        .stdout(contains("By mail").not());
    // A contract's section it lacks is not taken from another document.
    show(&["42-3505.01.txt", "--section", "Section 7.9"])
        .assert()
        .code(2)
        .stderr(contains(
            "42-3505.01.txt has no heading numbered or named \"Section 7.9\"",
        ));
}

/// `show --terms` lists the terms a document defines, each once at the sentence of its first
/// definition, the one `define:` pinpoints.
#[test]
fn show_terms_lists_a_documents_defined_terms_where_they_are_defined() {
    let Some(docs) = indexed_sample() else { return };
    let terms = success_json(lexsearch().current_dir(docs).args([
        "show",
        "--terms",
        "--json",
        "commercial-lease.txt",
    ]));
    let listed: Vec<(&str, u64)> = (terms["terms"].as_array().unwrap().iter())
        .map(|t| (t["term"].as_str().unwrap(), t["line"].as_u64().unwrap()))
        .collect();
    for expected in [
        ("Premises", 8),
        ("Security Deposit", 38),
        ("Event of Default", 76),
    ] {
        assert!(listed.contains(&expected), "{expected:?} in {listed:?}");
    }
    // Once each, in text order.
    let lines: Vec<u64> = listed.iter().map(|(_, l)| *l).collect();
    assert!(lines.is_sorted(), "{listed:?}");
    let mut names: Vec<String> = listed.iter().map(|(t, _)| t.to_lowercase()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), listed.len(), "{listed:?}");
    // The sentence of each is the one `define:` pinpoints.
    let defined = search_json(
        docs,
        &[
            "define:\"Event of Default\"",
            "--path",
            "commercial-lease.txt",
            "-k",
            "1",
        ],
    );
    let default = (terms["terms"].as_array().unwrap().iter())
        .find(|t| t["term"] == "Event of Default")
        .unwrap();
    assert_eq!(
        defined["hits"][0]["pinpoint"]["start_byte"],
        default["start_byte"]
    );
    // As text: a line a term.
    lexsearch()
        .current_dir(docs)
        .args(["show", "--terms", "commercial-lease.txt"])
        .assert()
        .success()
        .stdout(
            contains("defined terms")
                .and(contains("76  \"Event of Default\"  Each of the following")),
        );
    lexsearch()
        .current_dir(docs)
        .args(["show", "--terms", "commercial-lease.txt:76"])
        .assert()
        .code(2)
        .stderr(contains("give FILE alone"));
}

#[test]
fn plus_and_minus_words_keep_exactly_the_hits_that_hold_them_or_not() {
    use lexsearch::index::keyword::{KeywordIndex, Near, Within};
    let Some(docs) = indexed_sample() else { return };
    let query = "security deposit returned to the tenant";
    let text = |h: &Value| h["text"].as_str().unwrap().to_string();
    // Keyword mode: the hits of `-landlord` are exactly the best chunks of the whole ranking
    // that do not hold "landlord" (nor "landlords", "Landlord's"), with the same scores.
    let whole = search_json(docs, &[query, "--mode", "keyword", "-k", "400"]);
    let best_without = ranked(&whole, |h| !KeywordIndex::holds(&text(h), "landlord"), 5);
    assert_eq!(best_without.len(), 5);
    let excluded = search_json(
        docs,
        &[
            &format!("{query} -landlord"),
            "--mode",
            "keyword",
            "-k",
            "5",
        ],
    );
    assert_same_ranking(&ranked(&excluded, |_| true, 5), &best_without);
    assert_eq!(excluded["excluded"], serde_json::json!(["landlord"]));
    assert_eq!(excluded["query"], format!("{query} -landlord"));
    assert!(
        !excluded["keyword_terms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "landlord"),
        "an excluded word is not searched for: {}",
        excluded["keyword_terms"]
    );

    // Every mode: each hit holds the required phrase and word and none of the excluded ones,
    // and k hits come back when enough chunks qualify.
    for mode in ["hybrid", "semantic", "keyword"] {
        let v = search_json(
            docs,
            &[
                "who pays when the agreement ends +\"written notice\" +terminate -landlord",
                "--mode",
                mode,
                "-k",
                "3",
            ],
        );
        let hits = v["hits"].as_array().unwrap();
        assert!(!hits.is_empty(), "{mode}");
        for h in hits {
            let t = text(h);
            assert!(
                KeywordIndex::holds(&t, "written notice")
                    && KeywordIndex::holds(&t, "terminate")
                    && !KeywordIndex::holds(&t, "landlord"),
                "{mode}: {t}"
            );
        }
        assert_eq!(
            v["required"],
            serde_json::json!(["written notice", "terminate"])
        );
    }

    // AND and NOT in capitals, as Lexis and Westlaw write them, are + and -.
    let signs = search_json(
        docs,
        &["+\"written notice\" +terminate -landlord", "-k", "5"],
    );
    let words = search_json(
        docs,
        &["\"written notice\" AND terminate NOT landlord", "-k", "5"],
    );
    assert!(!hit_chunk_ids(&signs).is_empty());
    assert_eq!(hit_chunk_ids(&words), hit_chunk_ids(&signs));
    for field in ["required", "excluded", "keyword_terms"] {
        assert_eq!(words[field], signs[field], "{field}");
    }
    // --explain says how the query was read.
    lexsearch()
        .current_dir(docs)
        .args([
            "search",
            "cure AND (notice OR demand) NOT sublease",
            "--explain",
        ])
        .assert()
        .success()
        .stdout(contains(
            "hits that hold +cure and (notice or demand) and not -sublease",
        ));

    // `a w/N b`: exactly the best chunks of the whole ranking with the two words at most N
    // positions apart, in either order.
    let near = Near {
        a: "return".into(),
        b: "deposit".into(),
        within: Within::Words(4),
    };
    // (The connector leaves the two words in the text searched for.)
    let words = "lease deposit return";
    let whole_words = search_json(docs, &[words, "--mode", "keyword", "-k", "400"]);
    let best_near: Vec<u64> = whole_words["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| KeywordIndex::holds_near(&text(h), &near))
        .take(3)
        .map(|h| h["chunk_id"].as_u64().unwrap())
        .collect();
    assert!(!best_near.is_empty());
    let v = search_json(
        docs,
        &["lease deposit w/4 return", "--mode", "keyword", "-k", "3"],
    );
    let got: Vec<u64> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["chunk_id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, best_near);
    assert_eq!(
        v["near"],
        serde_json::json!([{"a": "deposit", "b": "return", "within": 4}])
    );
    // A group in brackets on a side: the best chunks with any of its words near the other.
    let pairs = ["rent", "fees"].map(|a| Near {
        a: a.into(),
        b: "pay".into(),
        within: Within::Words(4),
    });
    let whole = search_json(
        docs,
        &["lease rent fees pay", "--mode", "keyword", "-k", "400"],
    );
    let best_any = ranked(
        &whole,
        |h| pairs.iter().any(|n| KeywordIndex::holds_near(&text(h), n)),
        6,
    );
    let v = search_json(
        docs,
        &[
            "lease (rent OR fees) w/4 pay",
            "--mode",
            "keyword",
            "-k",
            "6",
        ],
    );
    assert_same_ranking(&ranked(&v, |_| true, 6), &best_any);
    for (i, n) in pairs.iter().enumerate() {
        assert!(
            ranked(&v, |h| KeywordIndex::holds_near(&text(h), n), 6).len() < 6,
            "pair {i} alone would miss some of the hits"
        );
    }
    assert_eq!(
        v["any_near"],
        serde_json::json!([[
            {"a": "rent", "b": "pay", "within": 4},
            {"a": "fees", "b": "pay", "within": 4}
        ]])
    );
    lexsearch()
        .current_dir(docs)
        .args(["search", "\"§\" w/5 damages"])
        .assert()
        .failure()
        .stderr(contains("has no word to look for"));

    // `a /s b`, `a /p b`: the same, with the two words in one sentence or in one paragraph,
    // in every mode. Fewer chunks have them in one sentence than in one paragraph, and fewer
    // in one paragraph than anywhere in the chunk.
    let both = search_json(
        docs,
        &["payment interest", "--mode", "keyword", "-k", "400"],
    );
    let both: Vec<&Value> = both["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            KeywordIndex::holds(&text(h), "payment") && KeywordIndex::holds(&text(h), "interest")
        })
        .collect();
    // `pre/N` likewise: the first word before the second, fewer than `w/N` either way.
    let ids = |hits: &[Value]| -> Vec<u64> {
        hits.iter()
            .map(|h| h["chunk_id"].as_u64().unwrap())
            .collect()
    };
    let mut qualifying = std::collections::HashMap::new();
    for (connector, within, json) in [
        ("/s", Within::Sentence, serde_json::json!("sentence")),
        ("/P", Within::Paragraph, serde_json::json!("paragraph")),
        ("pre/8", Within::Before(8), serde_json::json!("pre/8")),
        ("w/8", Within::Words(8), serde_json::json!(8)),
        ("+s", Within::SentenceBefore, serde_json::json!("+sentence")),
    ] {
        let near = Near {
            a: "payment".into(),
            b: "interest".into(),
            within,
        };
        let holding: Vec<u64> = both
            .iter()
            .filter(|h| KeywordIndex::holds_near(&text(h), &near))
            .map(|h| h["chunk_id"].as_u64().unwrap())
            .collect();
        let query = format!("payment {connector} interest");
        let v = search_json(docs, &[&query, "--mode", "keyword", "-k", "3"]);
        let got = ids(v["hits"].as_array().unwrap());
        assert_eq!(got, holding[..holding.len().min(3)], "{connector}");
        assert_eq!(
            v["near"],
            serde_json::json!([{"a": "payment", "b": "interest", "within": json}])
        );
        for mode in ["hybrid", "semantic"] {
            let v = search_json(docs, &[&query, "--mode", mode, "-k", "10"]);
            let got = ids(v["hits"].as_array().unwrap());
            assert_eq!(got.len(), holding.len().min(10), "{mode} {connector}");
            assert!(
                got.iter().all(|id| holding.contains(id)),
                "{mode} {connector}"
            );
        }
        qualifying.insert(connector, holding.len());
    }
    let n = |c: &str| qualifying[c];
    assert!(
        0 < n("/s") && n("/s") < n("/P") && n("/P") < both.len(),
        "chunks with the words in one sentence, in one paragraph, anywhere: {qualifying:?} of {}",
        both.len()
    );
    assert!(
        0 < n("pre/8") && n("pre/8") < n("w/8") && 0 < n("+s") && n("+s") <= n("/s"),
        "payment before interest, and either way: {qualifying:?}"
    );

    // Nothing that qualifies: said, exit 1; only exclusions: refused, naming the query.
    lexsearch()
        .current_dir(docs)
        .args(["search", "deposit +zzyzx"])
        .assert()
        .code(1)
        .stdout(contains("no hits that hold +zzyzx"));
    lexsearch()
        .current_dir(docs)
        .args(["search", "-k", "3", "-deposit"])
        .assert()
        .failure()
        .stderr(contains("only says what to leave out"));
    // Brackets around conditions that must all hold change nothing; a bracket beside an
    // operator that makes no group is refused, naming it, rather than read as a word (which
    // made `NOT (rent AND deposit)` require both words).
    let flat = search_json(docs, &["+tenant late w/3 charge", "-k", "5"]);
    assert!(!hit_chunk_ids(&flat).is_empty(), "{flat}");
    for q in ["tenant AND (late w/3 charge)", "(late w/3 charge) & tenant"] {
        assert_eq!(
            hit_chunk_ids(&search_json(docs, &[q, "-k", "5"])),
            hit_chunk_ids(&flat),
            "{q}"
        );
    }
    lexsearch()
        .current_dir(docs)
        .args(["search", "NOT (rent AND deposit) lease"])
        .assert()
        .code(2)
        .stderr(contains(
            "error: \"(rent AND deposit)\" is not read as a group",
        ));
    // Pairs in brackets joined by OR keep the chunks with any of them.
    let chunks = |q: &str| -> std::collections::BTreeSet<u64> {
        let v = search_json(docs, &[q, "--mode", "keyword", "-k", "400"]);
        hit_chunk_ids(&v).into_iter().collect()
    };
    let (charge, fee) = (chunks("late w/3 charge"), chunks("late w/3 fee"));
    assert!(!charge.is_empty() && !fee.is_empty(), "{charge:?} {fee:?}");
    assert_eq!(
        chunks("(late w/3 charge) OR (late w/3 fee)"),
        charge.union(&fee).copied().collect()
    );
    // A pair in brackets beside a connector holds, a word of it that close to the other side.
    let pair = chunks("tenant /s deposit");
    let near_pair: std::collections::BTreeSet<u64> = pair
        .intersection(
            &chunks("tenant /p landlord")
                .union(&chunks("deposit /p landlord"))
                .copied()
                .collect(),
        )
        .copied()
        .collect();
    assert!(!near_pair.is_empty(), "{pair:?}");
    assert_eq!(chunks("(tenant /s deposit) /p landlord"), near_pair);
    assert_eq!(chunks("landlord /p (tenant /s deposit)"), near_pair);
    // One after NOT is left out.
    let rent = chunks("rent");
    assert!(!rent.is_disjoint(&charge), "{rent:?} {charge:?}");
    assert_eq!(
        chunks("rent NOT (late w/3 charge)"),
        rent.difference(&charge).copied().collect()
    );
    // Westlaw's `%` is BUT NOT.
    assert_eq!(chunks("rent % charge"), chunks("rent -charge"));
    // Lexis's `not /s`: a tenant at least once in a sentence without the landlord. More
    // than the chunks without the landlord at all, fewer than those with the tenant, and
    // every one left out has the tenant in a sentence with the landlord.
    let tenant = chunks("tenant");
    let apart = chunks("tenant not /s landlord");
    let without = chunks("tenant -landlord");
    assert!(
        without.is_subset(&apart) && apart.is_subset(&tenant),
        "{apart:?}"
    );
    assert!(
        without.len() < apart.len() && apart.len() < tenant.len(),
        "{apart:?}"
    );
    let together = chunks("tenant /s landlord");
    assert!(
        tenant.difference(&apart).all(|c| together.contains(c)),
        "{apart:?}"
    );
    let v = search_json(
        docs,
        &["tenant not /s landlord", "--mode", "keyword", "-k", "400"],
    );
    let pair = Near {
        a: "tenant".into(),
        b: "landlord".into(),
        within: Within::Sentence,
    };
    for h in v["hits"].as_array().unwrap() {
        assert!(KeywordIndex::holds_apart(&text(h), &pair), "{h}");
    }
    assert_eq!(
        v["apart"],
        serde_json::json!([{"a": "tenant", "b": "landlord", "within": "sentence"}])
    );
    // Lexis's `atleast2(...)`: the chunks holding the word twice or more, all of them.
    let twice = search_json(
        docs,
        &["atleast2(tenant)", "--mode", "keyword", "-k", "400"],
    );
    let counted: std::collections::BTreeSet<u64> = (twice["hits"].as_array().unwrap().iter())
        .filter(|h| KeywordIndex::occurrences(&text(h), "tenant") >= 2)
        .map(|h| h["chunk_id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        hit_chunk_ids(&twice)
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        counted
    );
    let all_of_them: std::collections::BTreeSet<u64> = {
        let v = search_json(docs, &["tenant", "--mode", "keyword", "-k", "400"]);
        (v["hits"].as_array().unwrap().iter())
            .filter(|h| KeywordIndex::occurrences(&text(h), "tenant") >= 2)
            .map(|h| h["chunk_id"].as_u64().unwrap())
            .collect()
    };
    assert!(
        !counted.is_empty() && counted.len() < tenant.len(),
        "{counted:?}"
    );
    assert_eq!(counted, all_of_them);
    assert_eq!(
        twice["at_least"],
        serde_json::json!([{"item": "tenant", "times": 2}])
    );
    // Curly quotes, as a word processor types them, quote a phrase too.
    let pasted = search_json(docs, &["+“force majeure” notice", "-k", "3"]);
    assert_eq!(pasted["required"], serde_json::json!(["force majeure"]));
    assert_eq!(
        hit_chunk_ids(&pasted),
        hit_chunk_ids(&search_json(
            docs,
            &["+\"force majeure\" notice", "-k", "3"]
        ))
    );
    lexsearch()
        .current_dir(docs)
        .args(["search", "“due process” /s “equal protection”"])
        .assert()
        .code(1)
        .stdout(contains(
            "no hits that hold \"due process\" /s \"equal protection\"",
        ));
    // A query may start with a minus: no `--` needed, and options still parse around it.
    let v = search_json(docs, &["-landlord security deposit", "-k", "2"]);
    assert_eq!(v["excluded"], serde_json::json!(["landlord"]));
    assert_eq!(v["k"], 2);
}

#[test]
fn roots_keep_exactly_the_chunks_with_a_word_they_begin() {
    use lexsearch::index::keyword::{KeywordIndex, Near, Within};
    let Some(docs) = indexed_sample() else { return };
    let text = |h: &Value| h["text"].as_str().unwrap().to_string();
    let ids = |v: &Value| -> Vec<u64> {
        let mut ids: Vec<u64> = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["chunk_id"].as_u64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    // The keyword arm searches for the words `indemnif!` stands for (indemnify,
    // indemnification, ...), in the text and in headings: its hits whose text holds one are
    // the chunks that qualify.
    let all = search_json(docs, &["indemnif!", "--mode", "keyword", "-k", "400"]);
    let holding: Vec<u64> = all["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| KeywordIndex::holds(&text(h), "indemnif!"))
        .map(|h| h["chunk_id"].as_u64().unwrap())
        .collect::<std::collections::BTreeSet<u64>>()
        .into_iter()
        .collect();
    assert!(holding.len() > 3, "{all}");
    let terms = &all["keyword_terms"];
    assert!(
        terms.as_array().unwrap().len() >= 2,
        "several forms searched for: {terms}"
    );
    // A compound the root starts (the opinion's "Defendant-Appellee") adds only its word the
    // root stands for: "appellee" is not searched for.
    let defend = search_json(docs, &["defend!", "--mode", "keyword", "-k", "3"]);
    assert_eq!(defend["keyword_terms"], serde_json::json!(["defend"]));
    // Required, in every mode: exactly those chunks.
    for mode in ["keyword", "semantic", "hybrid"] {
        let v = search_json(
            docs,
            &[
                "who pays for claims +indemnif!",
                "--mode",
                mode,
                "-k",
                "400",
            ],
        );
        assert_eq!(ids(&v), holding, "{mode}");
    }
    // In a connector: the chunks with both words in one sentence, checked on their text.
    let near = Near {
        a: "indemnif!".into(),
        b: "negligen!".into(),
        within: Within::Sentence,
    };
    let in_sentence: Vec<u64> = all["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| KeywordIndex::holds_near(&text(h), &near))
        .map(|h| h["chunk_id"].as_u64().unwrap())
        .collect::<std::collections::BTreeSet<u64>>()
        .into_iter()
        .collect();
    let v = search_json(
        docs,
        &["indemnif! /s negligen!", "--mode", "keyword", "-k", "400"],
    );
    assert!(!in_sentence.is_empty());
    assert_eq!(ids(&v), in_sentence);
    assert!(in_sentence.len() < holding.len());
}

/// The chunk ids, ascending and once each, of the hits of `v` whose text `keep` accepts.
fn hit_ids(v: &Value, keep: &dyn Fn(&str) -> bool) -> Vec<u64> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| keep(h["text"].as_str().unwrap()))
        .map(|h| h["chunk_id"].as_u64().unwrap())
        .collect::<std::collections::BTreeSet<u64>>()
        .into_iter()
        .collect()
}

#[test]
fn a_root_in_a_quoted_phrase_keeps_the_chunks_with_the_phrase_in_any_of_its_words() {
    use lexsearch::index::keyword::KeywordIndex;
    let Some(docs) = indexed_sample() else { return };
    let phrase = "terminat! for";
    // Every chunk with a word of the root is a keyword hit of the root alone; those whose
    // text has the phrase, with any of those words in the root's place, qualify.
    let all = search_json(docs, &["terminat!", "--mode", "keyword", "-k", "400"]);
    let holding = hit_ids(&all, &|t| KeywordIndex::holds(t, phrase));
    assert!(holding.len() >= 2, "{all}");
    assert!(holding.len() < hit_ids(&all, &|_| true).len());
    for mode in ["keyword", "semantic", "hybrid"] {
        let v = search_json(
            docs,
            &[
                &format!("when may a party end the agreement +\"{phrase}\""),
                "--mode",
                mode,
                "-k",
                "400",
            ],
        );
        assert_eq!(v["required"], serde_json::json!([phrase]), "{mode}");
        assert_eq!(hit_ids(&v, &|_| true), holding, "{mode}");
    }
    // Left out, the phrase leaves the other chunks of the root.
    let v = search_json(
        docs,
        &[
            &format!("terminat! -\"{phrase}\""),
            "--mode",
            "keyword",
            "-k",
            "400",
        ],
    );
    let rest: Vec<u64> = hit_ids(&all, &|t| !KeywordIndex::holds(t, phrase));
    assert_eq!(hit_ids(&v, &|_| true), rest);
}

#[test]
fn a_quoted_phrase_as_a_side_of_a_connector_keeps_the_chunks_with_it_that_close() {
    use lexsearch::index::keyword::{KeywordIndex, Near, Within};
    let Some(docs) = indexed_sample() else { return };
    let all = search_json(
        docs,
        &[
            "security deposit landlord",
            "--mode",
            "keyword",
            "-k",
            "400",
        ],
    );
    let mut counts = Vec::new();
    for (connector, within) in [("/s", Within::Sentence), ("w/10", Within::Words(10))] {
        let near = Near {
            a: "security deposit".into(),
            b: "landlord".into(),
            within,
        };
        let close = hit_ids(&all, &|t| KeywordIndex::holds_near(t, &near));
        assert!(!close.is_empty(), "{connector}");
        let query = format!("\"security deposit\" {connector} landlord");
        for mode in ["keyword", "hybrid"] {
            let v = search_json(docs, &[&query, "--mode", mode, "-k", "400"]);
            assert_eq!(hit_ids(&v, &|_| true), close, "{query} in {mode}");
            assert_eq!(v["near"][0]["a"], "security deposit", "{v}");
        }
        counts.push(close.len());
    }
    // Fewer chunks have them in one sentence than anywhere in the chunk.
    assert!(counts[0] < hit_ids(&all, &|t| t.to_lowercase().contains("security deposit")).len());
}

#[test]
fn files_with_matches_lists_the_best_files_once_each_for_scripts() {
    let Some(docs) = indexed_sample() else { return };
    let query = "termination of the agreement upon written notice";
    let best = search_json(docs, &[query, "--max-per-file", "1", "-k", "5"]);
    let expected: Vec<String> = best["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| format!("{}\n", h["path"].as_str().unwrap()))
        .collect();
    assert_eq!(expected.len(), 5);
    lexsearch()
        .current_dir(docs)
        .args(["search", "-l", "-k", "5", query])
        .assert()
        .success()
        .stdout(expected.concat());
    // No hits: nothing printed, exit 1, as grep -l does.
    lexsearch()
        .current_dir(docs)
        .args(["search", "-l", "deposit +zzyzx"])
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn queries_from_a_file_give_one_json_line_each_as_single_searches_do() {
    let Some(docs) = indexed_sample() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("questions.txt");
    std::fs::write(
        &file,
        "can the landlord keep my deposit\n\n-deposit\nbreach w/5 warranty\n",
    )
    .unwrap();
    let out = lexsearch()
        .current_dir(docs)
        .args(["search", "-k", "3", "--queries"])
        .arg(&file)
        .output()
        .unwrap();
    // One query could not run: reported on its line, and in the exit status at the end.
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "the blank line is skipped");
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .contains("only says what to leave out")
    );
    assert_eq!(lines[1]["query"], "-deposit");
    for (line, query) in [
        (&lines[0], "can the landlord keep my deposit"),
        (&lines[2], "breach w/5 warranty"),
    ] {
        let alone = search_json(docs, &[query, "-k", "3"]);
        assert_eq!(line["query"], query);
        assert_eq!(hit_chunk_ids(line), hit_chunk_ids(&alone), "{query}");
    }
    // Standard input too; --queries takes no QUERY.
    lexsearch()
        .current_dir(docs)
        .args(["search", "--mode", "keyword", "--queries", "-"])
        .write_stdin("security deposit\n")
        .assert()
        .success()
        .stdout(contains("\"query\":\"security deposit\""));
}

#[test]
fn reading_commands_take_the_indexed_folder_for_its_index() {
    let Some(docs) = indexed_sample() else { return };
    let elsewhere = tempfile::tempdir().unwrap();
    let index = docs.join(".lexsearch");
    let run = |args: &[&str], index_arg: Option<&Path>| {
        let mut cmd = lexsearch();
        cmd.current_dir(elsewhere.path()).args(args);
        if let Some(i) = index_arg {
            cmd.arg("--index").arg(i);
        }
        cmd
    };
    // `status FOLDER` and `--index FOLDER` mean FOLDER/.lexsearch, as `--index` the index does.
    let mut statuses = vec![success_json(run(&["status", "--json"], None).arg(docs))];
    for given in [docs, index.as_path()] {
        statuses.push(success_json(&mut run(&["status", "--json"], Some(given))));
    }
    for s in &statuses {
        assert_eq!(s["index"].as_str(), statuses[0]["index"].as_str(), "{s}");
        assert_eq!(s["chunks"], statuses[0]["chunks"], "{s}");
    }
    run(&["verify"], None)
        .arg(docs)
        .assert()
        .success()
        .stdout(contains("agree"));
    let hits = success_json(&mut run(
        &["search", "-k1", "late fee", "--json"],
        Some(docs),
    ));
    assert_eq!(hits["hits"].as_array().unwrap().len(), 1, "{hits}");
    run(&["show", "loan-agreement.txt:34"], Some(docs))
        .assert()
        .success()
        .stdout(contains("LATE FEE"));
    // A section by its heading's number or first words; a name not indexed as given is
    // matched to the indexed files that hold its words.
    for args in [
        &["show", "commercial-lease.txt", "--section", "7.1"][..],
        &["show", "commercial-lease.txt § Section 7.1"],
    ] {
        run(args, Some(docs))
            .assert()
            .success()
            .stdout(contains("70 │ Section 7.1 Consent Required."))
            .stdout(contains("Tenant shall not assign this Lease"))
            .stdout(contains("Section 7.2").not());
    }
    run(&["show", "lease", "--section", "7"], Some(docs))
        .assert()
        .code(2)
        .stderr(contains(
            "\"lease\" is not in the index; did you mean commercial-lease.txt?",
        ));
    run(
        &["show", "commercial-lease.txt", "--section", "99"],
        Some(docs),
    )
    .assert()
    .code(2)
    .stderr(contains(
        "commercial-lease.txt has no heading numbered or named \"99\"",
    ));
    // Labels of a paragraph the document lacks: said so, not as a heading.
    run(
        &["show", "commercial-lease.txt", "--section", "(z)(9)"],
        Some(docs),
    )
    .assert()
    .code(2)
    .stderr(contains(
        "commercial-lease.txt has no paragraph labelled (z)(9): no line of it starts with those labels",
    ));
    // --repair is verify's alone; a folder that is none is named.
    run(&["status", "--repair"], None)
        .arg(docs)
        .assert()
        .code(2)
        .stderr(contains("--repair"));
    run(&["status"], None)
        .arg(docs.join("no-such-folder"))
        .assert()
        .code(2)
        .stderr(contains("no-such-folder is not a folder"));
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_as_with_head() {
    let Some(docs) = indexed_sample() else { return };
    for args in [
        &["search", "--mode", "keyword", "confidential information"][..],
        &[
            "search",
            "--mode",
            "keyword",
            "--json",
            "confidential information",
        ],
        &["status", "--json"],
    ] {
        // The reading end closed before the command writes: every write fails (EPIPE).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"))
            .current_dir(docs)
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// Completes `lexsearch` + `words` (the last one being typed) in a real bash with the script
/// of `lexsearch generate complete-bash`, returning bash's candidates.
fn bash_completions(script: &Path, words: &[&str]) -> Vec<String> {
    let line: Vec<String> = std::iter::once("lexsearch")
        .chain(words.iter().copied())
        .map(|w| format!("'{w}'"))
        .collect();
    let (current, previous) = (&line[line.len() - 1], &line[line.len() - 2]);
    // What bash does on Tab: the words, the index of the current one, then the function
    // with the command, the current word and the one before it.
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _lexsearch lexsearch {current} {previous}; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        line.join(" "),
        words.len(),
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

// Needs no model: the completions and pages come from the argument definitions alone.
#[test]
fn generated_bash_completions_complete_commands_options_and_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("lexsearch.bash");
    let out = lexsearch()
        .args(["generate", "complete-bash"])
        .assert()
        .success();
    std::fs::write(&script, &out.get_output().stdout).unwrap();

    assert_eq!(bash_completions(&script, &["sea"]), ["search"]);
    assert_eq!(
        bash_completions(&script, &["search", "--max"]),
        ["--max-per-file"]
    );
    assert_eq!(
        bash_completions(&script, &["search", "--mode", ""]),
        ["hybrid", "keyword", "semantic"]
    );
    assert!(bash_completions(&script, &["model", ""]).contains(&"pull".to_owned()));

    // The manual: lexsearch(1) on standard output names a page for every command.
    lexsearch()
        .args(["generate", "man"])
        .assert()
        .success()
        .stdout(contains(".TH lexsearch 1").and(contains("lexsearch\\-watch(1)")));
    lexsearch()
        .args(["generate", "complete-zsh", "--dir", "x"])
        .assert()
        .code(2)
        .stderr(contains("--dir is for `lexsearch generate man`"));
}

#[test]
fn a_query_names_a_file_whose_name_glues_its_words_or_escapes_its_spaces() {
    let (_dir, model, docs) = tiny_model_and_folder();
    // The same text in each, embedded without the file's name (`--no-context`), so that only
    // the name match tells them apart: weighted in full (`--name-weight 1`), as the arms'
    // normalised scores may still differ a little. Listed one by one (`--each-copy`), not
    // collapsed as copies.
    let text = "The Receiving Party shall hold the Confidential Information in confidence.\n";
    let names = [
        "ExcelerateStandardNDAFormat.txt",
        "Standard%20NDA%20by%20Axial.txt",
        "plain-nda.txt",
    ];
    for name in names {
        std::fs::write(docs.join(name), text).unwrap();
    }
    lexsearch()
        .args(["index", "--quiet", "--no-context", "--model"])
        .arg(&model)
        .arg(&docs)
        .assert()
        .success();
    for (query, named) in [
        (
            "Consider Excelerate's agreement; must the information be held in confidence?",
            names[0],
        ),
        (
            "Consider Axial's agreement; must the information be held in confidence?",
            names[1],
        ),
    ] {
        let v = search_json(
            &docs,
            &[
                query,
                "--mode",
                "hybrid",
                "-k",
                "3",
                "--each-copy",
                "--name-weight",
                "1",
            ],
        );
        let hits = v["hits"].as_array().unwrap();
        assert_eq!(hits.len(), 3, "{v}");
        assert_eq!(hits[0]["file"], named, "{query}: {v}");
        // The name raised that file's hit alone.
        for h in hits {
            assert_eq!(
                h["named"].as_f64().is_some(),
                h["file"] == named,
                "{query}: {h}"
            );
        }
    }
}

#[test]
fn context_lines_show_the_document_around_a_hit_numbered_as_grep_does() {
    let (_dir, model, docs) = tiny_model_and_folder();
    let text = "SUPPLY AGREEMENT\n\nSection 1. Payment\n\nThe Buyer shall pay within thirty \
                days.\nLate payments bear interest at two percent a month.\nThe Seller may \
                suspend delivery until paid.\n\nSection 2. Notices\n\nNotices are given in \
                writing.\n";
    let file = docs.join("supply.txt");
    std::fs::write(&file, text).unwrap();
    index_folder(&model, &docs);
    let query = "late payments bear interest";
    let line_of = |needle: &str| text[..text.find(needle).unwrap()].lines().count() + 1;
    let cited = line_of("Late payments");
    let out = lexsearch()
        .current_dir(&docs)
        .args(["search", query, "--mode", "keyword", "-k", "1", "-C", "1"])
        .args(["--color", "never"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The cited line after `N:`, its neighbours after `N-`, in place of the snippet.
    for expected in [
        format!(
            "    {}- The Buyer shall pay within thirty days.\n",
            cited - 1
        ),
        format!("    {cited}: »Late payments bear interest at two percent a month.«\n"),
        format!(
            "    {}- The Seller may suspend delivery until paid.\n",
            cited + 1
        ),
    ] {
        assert!(stdout.contains(&expected), "{expected:?} in:\n{stdout}");
    }
    assert!(!stdout.contains(&format!("{}-", cited - 2)), "{stdout}");
    // The JSON gives the same lines, -B and -A apart.
    let v = search_json(
        &docs,
        &[query, "--mode", "keyword", "-k", "1", "-B", "2", "-A", "0"],
    );
    let context = &v["hits"][0]["context"];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(context["line"], cited - 2, "{v}");
    assert_eq!(context["match_line"], cited, "{v}");
    assert_eq!(context["match_end_line"], cited, "{v}");
    assert_eq!(
        context["lines"],
        serde_json::json!(lines[cited - 3..cited]),
        "{v}"
    );
    assert_eq!(context["passage_only"], false, "{v}");
    // Without -C there is no context.
    let v = search_json(&docs, &[query, "--mode", "keyword", "-k", "1"]);
    assert!(v["hits"][0].get("context").is_none(), "{v}");

    // A file changed since indexing shows the indexed passage alone, numbered as indexed,
    // and says why.
    std::fs::write(&file, format!("DRAFT\n{text}")).unwrap();
    let v = search_json(&docs, &[query, "--mode", "keyword", "-k", "1", "-C", "50"]);
    let hit = &v["hits"][0];
    let context = &hit["context"];
    assert_eq!(context["passage_only"], true, "{v}");
    assert!(context["why"].as_str().unwrap().contains("changed"), "{v}");
    assert_eq!(context["match_line"], cited, "{v}");
    let first = context["line"].as_u64().unwrap() as usize;
    let shown: Vec<&str> = context["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(first, hit["line"].as_u64().unwrap() as usize, "{v}");
    assert_eq!(shown, lines[first - 1..first - 1 + shown.len()], "{v}");
    let chunk_lines = hit["text"].as_str().unwrap().lines().count();
    assert_eq!(shown.len(), chunk_lines, "{v}");
}

#[test]
fn an_index_moved_to_another_machine_finds_its_model_by_name_in_that_machines_cache() {
    let dir = tempfile::tempdir().unwrap();
    let built_with = dir.path().join("ann/models/tiny-legal");
    write_tiny_model(&built_with, &Tiny::default());
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(
        docs.join("lease.txt"),
        "The tenant shall pay rent monthly.\n",
    )
    .unwrap();
    index_folder(&built_with, &docs);
    // The other machine keeps the same model in its own cache, pulled under an organisation;
    // the folder the index was built with is not there.
    let cache = dir.path().join("bob-cache");
    let models = cache.join("lexsearch/models/acme");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::rename(&built_with, models.join("tiny-legal")).unwrap();
    let search = |cache: &Path| {
        lexsearch()
            .current_dir(&docs)
            .env("XDG_CACHE_HOME", cache)
            .args(["search", "rent", "--mode", "semantic", "--json"])
            .output()
            .unwrap()
    };
    let out = search(&cache);
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hits"][0]["file"], "lease.txt", "{v}");
    // Without it anywhere, the error names the model and the cache looked in.
    let out = search(&dir.path().join("empty-cache"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("empty-cache"), "{stderr}");
    assert!(
        stderr.contains("the index was built with the model tiny-legal from"),
        "{stderr}"
    );
    // Updating the index there takes it too.
    std::fs::write(docs.join("nda.txt"), "The recipient keeps it secret.\n").unwrap();
    let out = lexsearch()
        .current_dir(&docs)
        .env("XDG_CACHE_HOME", &cache)
        .args(["index", "--json", "."])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], 1, "{report}");
}

#[test]
fn the_documents_reader_keeps_the_documents_read_last_and_drops_the_least_recently_used() {
    use lexsearch::search::documents::Documents;
    let (_dir, model, docs) = tiny_model_and_folder();
    let name = |i: usize| format!("doc-{i:02}.txt");
    for i in 0..40 {
        std::fs::write(
            docs.join(name(i)),
            format!("Clause {i}. The tenant pays rent.\n"),
        )
        .unwrap();
    }
    index_folder(&model, &docs);
    let searcher =
        lexsearch::search::Searcher::open(&lexsearch::library::find_index(&docs).unwrap()).unwrap();
    let reader = Documents::new(searcher);
    let read = |i: usize| reader.indexed_text(&name(i)).map(|e| e.text.clone());
    // doc-00 first, then 31 others, then doc-00 again (the most recent now), then 2 more.
    read(0).unwrap();
    for i in 1..32 {
        read(i).unwrap();
    }
    read(0).unwrap();
    read(32).unwrap();
    read(33).unwrap();
    // Changed on disk: a document in the cache still reads as indexed, one dropped from it
    // is read again and refused as changed.
    for i in [0, 1] {
        std::fs::write(docs.join(name(i)), "Rewritten since.\n").unwrap();
    }
    assert_eq!(read(0).unwrap(), "Clause 0. The tenant pays rent.\n");
    let dropped = read(1).unwrap_err().to_string();
    assert!(
        dropped.contains("changed since it was indexed"),
        "{dropped}"
    );
}
