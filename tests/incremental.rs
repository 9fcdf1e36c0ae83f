//! Incremental, crash-safe indexing. A tiny random model keeps these fast: they test storage,
//! not retrieval quality.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lexsearch::indexer::{IndexOptions, Progress, build_index};
use lexsearch::{DeviceSpec, Embedder, Library};
use predicates::prelude::PredicateBooleanExt;
use serde_json::Value;

use crate::common::{
    Tiny, catalog_documents, copy_tree, hit_files, index_folder, indexed_sample, lexsearch,
    quick_bench_on, sample_corpus, status_json, success_json, tiny_model_and_folder,
    write_tiny_model,
};

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("docs");
    copy_tree(&sample_corpus(), &docs);
    (dir, model, docs)
}

fn index_json(model: &Path, docs: &Path) -> Value {
    success_json(
        lexsearch()
            .args(["index", "--json", "--model"])
            .arg(model)
            .arg(docs),
    )
}

fn keyword_files(docs: &Path, query: &str) -> Vec<String> {
    let out = lexsearch()
        .current_dir(docs)
        .args(["search", "--mode", "keyword", "--json", "-k", "50", query])
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{out:?}"
    );
    hit_files(&serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn reindexing_embeds_only_what_changed_and_reflects_every_change() {
    let (_dir, model, docs) = setup();
    let first = index_json(&model, &docs);
    let files = first["files_indexed"].as_u64().unwrap();
    assert_eq!(first["added"].as_u64(), Some(files));
    // Every stage reports its time; the commit is the sum of its parts.
    let t = &first["timings"];
    let secs = |k: &str| {
        t[k].as_f64()
            .unwrap_or_else(|| panic!("timings.{k} in {t}"))
    };
    for stage in ["extract", "embed", "graph_insert", "pipeline", "commit"] {
        assert!(secs(stage) > 0.0, "timings.{stage} in {t}");
    }
    let parts = [
        "commit_keyword",
        "commit_graph",
        "commit_dump",
        "commit_publish",
    ];
    let sum: f64 = parts.iter().map(|k| secs(k)).sum();
    assert!((secs("commit") - sum).abs() < 1e-6, "{t}");
    assert!(secs("pipeline") < first["seconds"].as_f64().unwrap());

    // Nothing changed: nothing is read or embedded.
    let same = index_json(&model, &docs);
    assert_eq!(
        (same["unchanged"].as_u64(), same["chunks_embedded"].as_u64()),
        (Some(files), Some(0))
    );
    // And the summary says so, without a rate of nothing.
    lexsearch()
        .args(["index", "--model"])
        .arg(&model)
        .arg(&docs)
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to embed, in "))
        .stdout(predicates::str::contains("chunks/s").not());

    fs::write(
        docs.join("nda.md"),
        fs::read_to_string(docs.join("nda.md")).unwrap() + "\nZebracorn clause.\n",
    )
    .unwrap();
    fs::remove_file(docs.join("last-will.txt")).unwrap();
    fs::write(
        docs.join("new-memo.txt"),
        "MEMORANDUM\n\nThe quokka provision governs.\n",
    )
    .unwrap();
    let touched = docs.join("loan-agreement.txt");
    fs::write(&touched, fs::read(&touched).unwrap()).unwrap(); // new mtime, same content

    let second = index_json(&model, &docs);
    // Staging the update (copying the catalog, linking the keyword index, loading the
    // graph) is timed, apart from the pipeline and the commit.
    assert!(second["timings"]["staging"].as_f64().unwrap() > 0.0);
    assert_eq!(second["changed"], 1);
    assert_eq!(second["removed"], 1);
    assert_eq!(second["added"], 1);
    assert_eq!(second["unchanged"].as_u64(), Some(files - 2));
    // Only the changed and the new file were embedded: the memo is one chunk, and of the
    // NDA only the chunks whose text changed.
    let embedded = second["chunks_embedded"].as_u64().unwrap();
    assert!((2..=3).contains(&embedded), "embedded {embedded}");
    assert_eq!(second["files_indexed"].as_u64(), Some(files));

    assert_eq!(keyword_files(&docs, "zebracorn"), vec!["nda.md"]);
    assert_eq!(keyword_files(&docs, "quokka"), vec!["new-memo.txt"]);
    assert!(
        keyword_files(&docs, "testament executor bequeath")
            .iter()
            .all(|f| f != "last-will.txt")
    );
    let semantic = lexsearch()
        .current_dir(&docs)
        .args([
            "search",
            "--mode",
            "semantic",
            "--json",
            "-k",
            "400",
            "testament",
        ])
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let hits: Value = serde_json::from_slice(&semantic.stdout).unwrap();
    let hits = hits["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["file"] != "last-will.txt"));
    lexsearch()
        .current_dir(&docs)
        .args(["verify"])
        .assert()
        .success();
    // After inserts and tombstones, searches still map the flat graph (no slow fallback).
    let snapshot = Library::at(docs.join(".lexsearch")).snapshot().unwrap();
    let manifest = snapshot.manifest();
    let vectors = lexsearch::index::vector::VectorIndex::open_for_search(
        &snapshot.paths().vectors(),
        manifest.model.dim,
        manifest.chunks,
    )
    .unwrap();
    assert!(vectors.is_flat());
    assert!(vectors.tombstones() > 0, "the changes left tombstones");
    // The update wrote one dump of the graph, not one beside each earlier one.
    let dir = snapshot.paths().vectors();
    let dumps = |dir: &Path| {
        fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().ends_with(".hnsw.data")
            })
            .count()
    };
    assert_eq!(dumps(&dir), 1);
    // Earlier versions left a dump per update beside it: `verify` names them, and the
    // repair drops them.
    fs::copy(
        dir.join("graph.hnsw.data"),
        dir.join("graph-1234.hnsw.data"),
    )
    .unwrap();
    fs::copy(
        dir.join("graph.hnsw.graph"),
        dir.join("graph-1234.hnsw.graph"),
    )
    .unwrap();
    drop(snapshot);
    lexsearch()
        .current_dir(&docs)
        .args(["verify"])
        .assert()
        .code(2)
        .stdout(predicates::str::contains(
            "vector graph: 2 files of earlier dumps of the graph",
        ));
    lexsearch()
        .current_dir(&docs)
        .args(["verify", "--repair"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "repaired: earlier dumps of the vector graph dropped",
        ));
    let snapshot = Library::at(docs.join(".lexsearch")).snapshot().unwrap();
    assert_eq!(dumps(&snapshot.paths().vectors()), 1);
    lexsearch()
        .current_dir(&docs)
        .args(["verify"])
        .assert()
        .success();
}

/// Cancels a run once its first vectors are written, as Ctrl-C would.
#[derive(Default)]
struct CancelAfterFirstGroup(std::sync::atomic::AtomicBool);
impl Progress for CancelAfterFirstGroup {
    fn chunks_done(&self, _n: usize, _embedded: usize) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    fn cancelled(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn a_copied_folder_whose_files_only_have_new_times_is_not_read_again() {
    let (_dir, model, docs) = setup();
    let schedule = b"Escrow release schedule: funds are released at closing.".to_vec();
    let mail = crate::common::fixtures::eml(
        &[("From", "ann@firm.example"), ("Subject", "Escrow")],
        "text/plain",
        "The escrow funds are wired today.",
        &[("schedule.txt", "text/plain", schedule)],
    );
    fs::write(docs.join("wire.eml"), mail).unwrap();
    // A mailbox, whose messages (and their attachments) are documents of its file.
    let message = |subject: &str, body: &str| {
        crate::common::fixtures::eml(
            &[("From", "bo@firm.example"), ("Subject", subject)],
            "text/plain",
            body,
            &[],
        )
    };
    let mailbox = crate::common::fixtures::mbox(&[
        message("Keys", "The keys are handed over at the walkthrough."),
        message("Deposit", "The deposit is returned within thirty days."),
    ]);
    fs::write(docs.join("inbox.mbox"), mailbox).unwrap();
    let first = index_json(&model, &docs);
    let documents = status_json(&docs)["documents"].clone();
    // Documents less the e-mail's attachment and the mailbox's two messages, which are no
    // files of their own.
    let files = first["files_indexed"].as_u64().unwrap() - 3;
    // Every file's time ahead, as a copy, an archive unpacked or a checkout gives them; one
    // edited to the same size besides.
    let ahead = std::time::SystemTime::now() + Duration::from_secs(5);
    let edited = docs.join("nda.md");
    let text = fs::read_to_string(&edited).unwrap();
    fs::write(&edited, text.replacen("Agreement", "AGREEMENT", 1)).unwrap();
    for entry in fs::read_dir(&docs).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let file = fs::File::options().append(true).open(&path).unwrap();
            file.set_modified(ahead).unwrap();
        }
    }
    let second = index_json(&model, &docs);
    // Hashed, found as recorded, and not read: only the edited one is.
    assert_eq!(second["touched"].as_u64(), Some(files - 1), "{second}");
    assert_eq!(second["unchanged"].as_u64(), Some(files - 1), "{second}");
    assert_eq!(second["changed"], 1, "{second}");
    assert_eq!(
        (second["added"].as_u64(), second["removed"].as_u64()),
        (Some(0), Some(0))
    );
    // Their records took the new times: the next run reads nothing, hashes nothing.
    let third = index_json(&model, &docs);
    assert_eq!(third["touched"], 0, "{third}");
    assert_eq!(third["unchanged"].as_u64(), Some(files), "{third}");
    assert_eq!(third["chunks_embedded"], 0, "{third}");
    assert_eq!(third["changed"], 0, "{third}");
    // The e-mail's attachment stayed with it, the mailbox's messages with their mailbox.
    assert_eq!(status_json(&docs)["documents"], documents);
    assert_eq!(
        keyword_files(&docs, "escrow release schedule")[0],
        "wire.eml#schedule.txt"
    );
    assert_eq!(
        keyword_files(&docs, "deposit returned thirty days")[0],
        "inbox.mbox#0002.eml"
    );
}

#[test]
fn an_interrupted_run_leaves_the_index_intact_and_the_next_run_reuses_its_vectors() {
    let (_dir, model, docs) = setup();
    let embedder = Embedder::load(&model, DeviceSpec::Cpu).unwrap();
    let opts = IndexOptions::new(&docs);
    let err = build_index(&opts, &embedder, &CancelAfterFirstGroup::default()).unwrap_err();
    assert!(matches!(err, lexsearch::Error::Cancelled), "{err}");
    assert!(
        !Library::at(&opts.index_dir).exists(),
        "no half index is visible"
    );
    let report = build_index(&opts, &embedder, &lexsearch::indexer::NoProgress).unwrap();
    assert!(
        report.chunks_reused >= 64,
        "reused {}",
        report.chunks_reused
    );
    assert_eq!(report.chunks_embedded + report.chunks_reused, report.chunks);
}

#[test]
fn copies_of_a_file_in_many_folders_take_the_first_copys_vectors_instead_of_being_embedded_again() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("docs");
    // The same file under the same name in 40 matter folders: the same embedded texts (the
    // name and the text are what the encoder sees), and one file that differs.
    for i in 0..40 {
        fs::create_dir_all(docs.join(format!("matter-{i}"))).unwrap();
        fs::copy(
            sample_corpus().join("nda.md"),
            docs.join(format!("matter-{i}/nda.md")),
        )
        .unwrap();
    }
    fs::copy(
        sample_corpus().join("last-will.txt"),
        docs.join("last-will.txt"),
    )
    .unwrap();
    let report = index_json(&model, &docs);
    let chunks = report["chunks"].as_u64().unwrap();
    let embedded = report["chunks_embedded"].as_u64().unwrap();
    let reused = report["chunks_reused"].as_u64().unwrap();
    eprintln!("{chunks} chunks, {embedded} embedded, {reused} reused");
    assert_eq!(embedded + reused, chunks);
    // Copies in the groups still with the encoder when the first copy's vectors are written
    // are embedded again (a few groups at most); all later ones reuse them.
    assert!(embedded * 4 < chunks, "{embedded} of {chunks} embedded");
    // Each copy's chunks have the first copy's vectors: a passage finds its copies first,
    // every one at the same score.
    let like = success_json(lexsearch().current_dir(&docs).args([
        "search",
        "--json",
        "--each-copy",
        "-k",
        "12",
        "--like",
        "matter-7/nda.md:1",
    ]));
    let hits = like["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 12, "{like}");
    assert!(
        hits.iter()
            .all(|h| h["file"].as_str().unwrap().ends_with("nda.md")
                && h["score"] == hits[0]["score"]),
        "{like}"
    );
    verify_passes(&docs);
}

#[test]
fn a_passage_that_other_files_hold_word_for_word_is_one_hit_naming_their_places() {
    let (_dir, model, docs) = setup();
    // The NDA, word for word, in five matter folders besides the corpus's own.
    for i in 0..5 {
        fs::create_dir_all(docs.join(format!("matter-{i}"))).unwrap();
        fs::copy(docs.join("nda.md"), docs.join(format!("matter-{i}/nda.md"))).unwrap();
    }
    index_json(&model, &docs);
    let search = |k: &str, extra: &[&str]| {
        let mut cmd = lexsearch();
        cmd.current_dir(&docs)
            .args(["search", "--json", "--mode", "keyword", "-k", k])
            .args(extra)
            .arg("confidential information");
        success_json(&mut cmd)
    };
    let nda = |h: &Value| h["file"].as_str().unwrap().ends_with("nda.md");
    let collapsed = search("5", &[]);
    let hits = collapsed["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 5, "{collapsed}");
    // Five different passages: no text twice among the hits.
    let texts: std::collections::HashSet<&str> =
        hits.iter().map(|h| h["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 5, "{collapsed}");
    // Each NDA hit names the five other files with its text, at its line, and knows it
    // found them all.
    let top = &hits[0];
    assert!(nda(top), "{collapsed}");
    for hit in hits.iter().filter(|h| nda(h)) {
        let copies = hit["copies"].as_array().unwrap();
        let mut files: Vec<&str> = copies.iter().map(|c| c["file"].as_str().unwrap()).collect();
        files.push(hit["file"].as_str().unwrap());
        files.sort();
        assert_eq!(
            files,
            [
                "matter-0/nda.md",
                "matter-1/nda.md",
                "matter-2/nda.md",
                "matter-3/nda.md",
                "matter-4/nda.md",
                "nda.md"
            ],
            "{hit}"
        );
        assert!(copies.iter().all(|c| c["line"] == hit["line"]), "{hit}");
        assert_eq!(hit["copies_complete"], true, "{hit}");
    }
    // So with one hit: the candidate after the last hit is a copy too.
    let one = search("1", &[]);
    assert_eq!(one["hits"][0]["text"], top["text"], "{one}");
    assert_eq!(
        one["hits"][0]["copies"].as_array().unwrap().len(),
        5,
        "{one}"
    );
    // A hit whose text no other file holds has no copies.
    assert!(
        hits.iter()
            .filter(|h| !nda(h))
            .all(|h| h["copies"].as_array().unwrap().is_empty()),
        "{collapsed}"
    );
    // So in hybrid mode, where a copy's arms rank it below the hit's own.
    let hybrid = success_json(
        lexsearch()
            .current_dir(&docs)
            .args(["search", "--json", "-k", "8"])
            .arg("confidential information"),
    );
    let hybrid_texts: std::collections::HashSet<&str> = hybrid["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert_eq!(hybrid_texts.len(), 8, "{hybrid}");
    // --each-copy lists the copies as hits of their own: the top NDA passage six times.
    let each = search("6", &["--each-copy"]);
    let each_hits = each["hits"].as_array().unwrap();
    assert!(
        each_hits
            .iter()
            .all(|h| h["text"] == top["text"] && h["copies"].as_array().unwrap().is_empty()),
        "{each}"
    );
    // The text output names the other places under the hit.
    let out = lexsearch()
        .current_dir(&docs)
        .args(["search", "--mode", "keyword", "-k", "5"])
        .arg("confidential information")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("also in 5 other places: ") && text.contains(" and 2 more"),
        "{text}"
    );
    // -l lists files, so each copy's file is listed once.
    let out = lexsearch()
        .current_dir(&docs)
        .args(["search", "-l", "-k", "20", "--mode", "keyword"])
        .arg("confidential information")
        .output()
        .unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        listed.lines().filter(|l| l.ends_with("nda.md")).count(),
        6,
        "{listed}"
    );
}

#[cfg(unix)]
#[test]
fn kill_9_at_twenty_points_never_breaks_the_index() {
    let (dir, model, docs) = setup();
    // A larger corpus so a run lasts long enough to be killed at many points.
    for i in 0..6 {
        copy_tree(&sample_corpus(), &docs.join(format!("copy{i}")));
    }
    index_json(&model, &docs);
    // Change a third of the files, so the next run has real work.
    for (i, entry) in walkdir::WalkDir::new(&docs)
        .into_iter()
        .filter_map(|e| e.ok())
        .enumerate()
    {
        let p = entry.path();
        if i % 3 == 0
            && p.extension().is_some_and(|e| e == "txt")
            && !p.starts_with(docs.join(".lexsearch"))
        {
            fs::write(
                p,
                fs::read_to_string(p).unwrap() + &format!("\nAmendment {i}.\n"),
            )
            .unwrap();
        }
    }
    let bin = assert_cmd::cargo::cargo_bin!("lexsearch");
    let run = || {
        std::process::Command::new(bin)
            .args(["index", "--quiet", "--model"])
            .arg(&model)
            .arg(&docs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long an undisturbed run takes, measured on a copy (kill points spread over it).
    let probe = dir.path().join("probe");
    copy_tree(&docs, &probe);
    let t = Instant::now();
    let status = std::process::Command::new(bin)
        .args(["index", "--quiet", "--model"])
        .arg(&model)
        .arg(&probe)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let full = t.elapsed();

    for i in 0..20u32 {
        let mut child = run();
        std::thread::sleep(full.mul_f64(f64::from(i) / 20.0));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        lexsearch()
            .current_dir(&docs)
            .args(["search", "--mode", "keyword", "tenant rent"])
            .assert()
            .success();
        verify_passes(&docs);
    }
    // Finishing gives the same documents and chunks as a clean index of the same folder.
    let done = index_json(&model, &docs);
    let clean_dir = dir.path().join("clean");
    copy_tree(&docs, &clean_dir);
    for entry in fs::read_dir(&clean_dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy();
        // The index and its lock go; the corpus's ignore file stays, as in `docs`.
        if name.starts_with(".lexsearch") && name != ".lexsearchignore" {
            if p.is_dir() {
                fs::remove_dir_all(&p).unwrap()
            } else {
                fs::remove_file(&p).unwrap()
            }
        }
    }
    let clean = index_json(&model, &clean_dir);
    assert_eq!(done["files_indexed"], clean["files_indexed"]);
    assert_eq!(done["chunks"], clean["chunks"]);
    verify_passes(&docs);
}

/// Every file under a published generation's catalog, with its bytes and modification time.
fn catalog_files(docs: &Path, generation: &str) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let dir = docs.join(".lexsearch").join(generation).join("catalog");
    let files: Vec<_> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let modified = e.metadata().unwrap().modified().unwrap();
            (
                e.path().to_path_buf(),
                fs::read(e.path()).unwrap(),
                modified,
            )
        })
        .collect();
    assert!(!files.is_empty(), "no catalog in {}", dir.display());
    files
}

/// Pins `generation` as a reader does, so no writer deletes it.
fn pin(docs: &Path, generation: &str) -> fs::File {
    let lock = fs::File::open(
        docs.join(".lexsearch")
            .join(generation)
            .join("readers.lock"),
    )
    .unwrap();
    lock.lock_shared().unwrap();
    lock
}

#[test]
fn runs_verify_and_bench_never_write_into_a_published_catalog() {
    // sled writes into a database whenever it opens one; a process killed in the middle of
    // that left a published catalog unreadable. Nothing opens one in place now.
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    let first = catalog_files(&docs, "gen-000001");
    // Nothing changed, then a check: the same generation, not a byte or a time changed.
    let again = index_json(&model, &docs);
    assert_eq!(again["added"].as_u64(), Some(0));
    verify_passes(&docs);
    // `bench` reads every vector of the catalog for the graph's recall.
    quick_bench_on(&model, &docs).assert().success();
    assert_eq!(generation(&docs), 1);
    assert!(catalog_files(&docs, "gen-000001") == first);
    // A change builds on it (read while a reader holds it), a rebuild reuses its vectors.
    let _held = pin(&docs, "gen-000001");
    let contract = docs.join("loan-agreement.txt");
    fs::write(
        &contract,
        fs::read_to_string(&contract).unwrap() + "\nAmendment 1. Notices go by e-mail.\n",
    )
    .unwrap();
    let changed = index_json(&model, &docs);
    assert_eq!(changed["changed"].as_u64(), Some(1), "{changed}");
    assert!(changed["chunks_reused"].as_u64().unwrap() > 0, "{changed}");
    let second = catalog_files(&docs, "gen-000002");
    let _held_too = pin(&docs, "gen-000002");
    let rebuilt = success_json(
        lexsearch()
            .args(["index", "--json", "--rebuild", "--model"])
            .arg(&model)
            .arg(&docs),
    );
    assert_eq!(rebuilt["chunks_embedded"].as_u64(), Some(0), "{rebuilt}");
    assert!(catalog_files(&docs, "gen-000001") == first);
    assert!(catalog_files(&docs, "gen-000002") == second);
    // The private copies read meanwhile are gone.
    let reading = docs.join(".lexsearch/reading");
    assert_eq!(fs::read_dir(&reading).unwrap().count(), 0);
    verify_passes(&docs);
}

#[test]
fn a_generation_without_a_documents_file_gets_one_from_the_next_run() {
    // An index of an earlier version: its runs would copy the catalog to read the documents.
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    let file = docs.join(".lexsearch/gen-000001/documents");
    fs::remove_file(&file).unwrap();
    let report = verify_findings(&docs);
    let said = report["findings"].to_string();
    assert!(
        said.contains("documents file") && said.contains("earlier version"),
        "{said}"
    );
    let run = index_json(&model, &docs);
    assert_eq!(
        (run["added"].as_u64(), run["chunks_embedded"].as_u64()),
        (Some(0), Some(0)),
        "{run}"
    );
    assert_eq!(generation(&docs), 2);
    assert!(docs.join(".lexsearch/gen-000002/documents").is_file());
    verify_passes(&docs);
    // From then on a run that finds nothing changed publishes nothing.
    index_json(&model, &docs);
    assert_eq!(generation(&docs), 2);
}

/// The generation the index in `docs` is at.
fn generation(docs: &Path) -> u64 {
    Library::at(docs.join(".lexsearch"))
        .manifest()
        .unwrap()
        .generation
}

/// Appends a line to every Markdown file of `docs`, so the next run has work.
fn amend_markdown(docs: &Path, line: &str) {
    for entry in walkdir::WalkDir::new(docs)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "md") && !p.starts_with(docs.join(".lexsearch")) {
            fs::write(p, fs::read_to_string(p).unwrap() + "\n" + line + "\n").unwrap();
        }
    }
}

fn index_process(model: &Path, docs: &Path) -> std::process::Child {
    index_process_with(model, docs, &[])
}

fn index_process_with(model: &Path, docs: &Path, extra: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"))
        .args(["index", "--json", "--model"])
        .arg(model)
        .args(extra)
        .arg(docs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn searches_in_several_processes_never_fail_while_another_process_reindexes_many_times() {
    let (_dir, model, docs) = setup();
    for i in 0..4 {
        copy_tree(&sample_corpus(), &docs.join(format!("copy{i}")));
    }
    index_json(&model, &docs);
    let first = generation(&docs);
    const RUNS: u64 = 6;
    let writing = std::sync::atomic::AtomicBool::new(true);
    let searches = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        // Three readers in a tight loop, each search its own process, as long as the writer
        // runs: on two cores they also keep the machine loaded.
        let readers: Vec<_> = (0..3)
            .map(|r| {
                let (docs, writing, searches) = (&docs, &writing, &searches);
                s.spawn(move || {
                    while writing.load(std::sync::atomic::Ordering::SeqCst) {
                        let args: &[&str] = if r == 2 {
                            &["status", "--json"]
                        } else {
                            &["search", "--mode", "keyword", "--json", "security deposit"]
                        };
                        let out = lexsearch().current_dir(docs).args(args).output().unwrap();
                        assert_eq!(
                            out.status.code(),
                            Some(0),
                            "{args:?} failed while the index was rewritten: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
                        assert!(r == 2 || !answer["hits"].as_array().unwrap().is_empty());
                        searches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for run in 0..RUNS {
            amend_markdown(&docs, &format!("Amendment {run}."));
            let out = index_process(&model, &docs).wait_with_output().unwrap();
            assert!(out.status.success(), "{out:?}");
        }
        writing.store(false, std::sync::atomic::Ordering::SeqCst);
        for r in readers {
            r.join().unwrap();
        }
    });
    assert!(searches.into_inner() > 0);
    assert_eq!(generation(&docs), first + RUNS, "one generation per run");
    // Old generations are gone once no reader holds them: the next writer deletes those a
    // reader still held when the last run ended.
    let again = index_json(&model, &docs);
    assert_eq!(again["unchanged"], again["files_indexed"]);
    let generations = fs::read_dir(docs.join(".lexsearch"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("gen-")
        })
        .count();
    assert_eq!(generations, 1);
}

#[test]
fn of_two_writers_started_together_exactly_one_writes_and_the_other_names_it() {
    let (_dir, model, docs) = setup();
    for i in 0..2 {
        copy_tree(&sample_corpus(), &docs.join(format!("copy{i}")));
    }
    index_json(&model, &docs);
    let mut refused = 0;
    for round in 0..8 {
        amend_markdown(&docs, &format!("Round {round}."));
        let before = generation(&docs);
        let (a, b) = (index_process(&model, &docs), index_process(&model, &docs));
        let pids = [a.id(), b.id()];
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let mut wrote = 0;
        for (i, out) in outs.iter().enumerate() {
            if out.status.success() {
                let report: Value = serde_json::from_slice(&out.stdout).unwrap();
                if report["changed"].as_u64() > Some(0) {
                    wrote += 1;
                }
            } else {
                // Refused, naming the other process.
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(2), "{stderr}");
                let holder = format!("being updated by process {}", pids[1 - i]);
                assert!(stderr.contains(&holder), "{stderr}");
                refused += 1;
            }
        }
        // Exactly one wrote the changes; if both ran, the second found nothing to do.
        assert_eq!(wrote, 1, "round {round}: {outs:?}");
        assert_eq!(generation(&docs), before + 1, "round {round}");
    }
    eprintln!("{refused} of 8 rounds overlapped (the rest ran one after the other)");
    verify_passes(&docs);
}

#[test]
fn a_held_lock_refuses_a_writer_with_the_holders_pid_and_wait_runs_it_after() {
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    let library = Library::at(docs.join(".lexsearch"));
    let lock = lexsearch::library::WriterLock::acquire(&library, None).unwrap();
    lexsearch()
        .args(["index", "--model"])
        .arg(&model)
        .arg(&docs)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "being updated by process {}",
            std::process::id()
        )));
    fs::write(docs.join("late.txt"), "The wombat clause.\n").unwrap();
    let mut waiting = index_process_with(&model, &docs, &["--wait"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "it waits for the lock"
    );
    drop(lock);
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(keyword_files(&docs, "wombat"), vec!["late.txt"]);
}

#[test]
fn a_lock_file_left_by_a_killed_writer_never_blocks_the_next_one() {
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    amend_markdown(&docs, "Killed amendment.");
    let mut writer = index_process(&model, &docs);
    let lock = docs.join(".lexsearch/write.lock");
    assert!(wait_for(
        &|| fs::read_to_string(&lock).is_ok_and(|s| s.trim() == writer.id().to_string())
    ));
    let _ = writer.kill(); // SIGKILL: no cleanup runs (unless it has already finished)
    writer.wait().unwrap();
    // Whatever pid the file names now (here init's, a live process), it does not block.
    fs::write(&lock, "1\n").unwrap();
    fs::write(docs.join("after-kill.txt"), "The bilby clause.\n").unwrap();
    let report = index_json(&model, &docs);
    assert!(report["added"].as_u64() >= Some(1), "{report}");
    assert_eq!(keyword_files(&docs, "bilby"), vec!["after-kill.txt"]);
}

#[test]
fn later_runs_keep_the_settings_the_index_was_built_with_and_refuse_others() {
    let (_dir, model, docs) = setup();
    let run = |extra: &[&str]| {
        lexsearch()
            .args(["index", "--json", "--model"])
            .arg(&model)
            .args(extra)
            .arg(&docs)
            .output()
            .unwrap()
    };
    let first = run(&["--chunk-tokens", "20", "--no-context"]);
    assert!(first.status.success(), "{first:?}");
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    // A plain run changes nothing: same settings, nothing re-chunked.
    let again: Value = serde_json::from_slice(&run(&[]).stdout).unwrap();
    assert_eq!(again["added"], 0);
    assert_eq!(again["unchanged"], first["files_indexed"]);
    assert_eq!(again["chunks"], first["chunks"]);
    assert_eq!(again["chunker"]["target_tokens"], 20);
    assert_eq!(again["context_in_embedding"], false);
    let status = status_json(&docs);
    assert_eq!(status["chunker"]["target_tokens"], 20);
    assert_eq!(status["context_in_embedding"], false);
    // Another setting is refused, naming both values and the way to switch.
    let other = run(&["--chunk-tokens", "16"]);
    assert_eq!(other.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&other.stderr);
    for words in ["20 tokens", "16 tokens", "--rebuild"] {
        assert!(stderr.contains(words), "{words:?} not in: {stderr}");
    }
    let context = run(&["--chunk-tokens", "20"]);
    assert_eq!(context.status.code(), Some(0), "same settings given again");
    // --rebuild switches, re-chunking every file.
    let rebuilt = run(&["--rebuild", "--chunk-tokens", "16"]);
    assert!(rebuilt.status.success(), "{rebuilt:?}");
    let rebuilt: Value = serde_json::from_slice(&rebuilt.stdout).unwrap();
    assert_eq!(rebuilt["chunker"]["target_tokens"], 16);
    assert_eq!(rebuilt["context_in_embedding"], false, "kept unless asked");
    assert_ne!(rebuilt["chunks"], first["chunks"]);
}

#[test]
fn a_folder_with_nothing_indexable_gives_a_valid_empty_index_that_finds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    for (name, files) in [
        ("empty", vec![]),
        ("unreadable", vec![("scan.pdf", "%PDF-1.4 not really")]),
    ] {
        let docs = dir.path().join(name);
        fs::create_dir_all(&docs).unwrap();
        for (file, content) in files {
            fs::write(docs.join(file), content).unwrap();
        }
        // Twice: the second run updates the empty index it finds.
        for _ in 0..2 {
            let out = lexsearch()
                .args(["index", "--model"])
                .arg(&model)
                .arg(&docs)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            // Exit 2 only when a file was skipped; the summary says why nothing was indexed.
            let expected = if name == "empty" { 0 } else { 2 };
            assert_eq!(out.status.code(), Some(expected), "{out:?}");
            assert!(stdout.contains("nothing indexed"), "{stdout}");
            assert!(!docs.join(".lexsearch/staging").exists(), "staging left");
        }
        for mode in ["keyword", "hybrid"] {
            lexsearch()
                .current_dir(&docs)
                .args(["search", "--mode", mode, "--model"])
                .arg(&model)
                .arg("rent")
                .assert()
                .code(1)
                .stdout(predicates::str::contains("no hits"));
        }
        verify_passes(&docs);
    }
}

/// A `lexsearch watch` of `docs`, its stderr in `dir/watch.log`; killed when dropped.
struct Watch {
    child: std::process::Child,
    log: PathBuf,
}

impl Watch {
    fn start(dir: &Path, model: &Path, docs: &Path, debounce_ms: u32) -> Self {
        Self::start_with(dir, model, docs, debounce_ms, &[])
    }

    /// [`start`](Self::start) with more arguments.
    fn start_with(dir: &Path, model: &Path, docs: &Path, debounce_ms: u32, more: &[&str]) -> Self {
        let log = dir.join("watch.log");
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"))
            .args([
                "watch",
                "--debounce-ms",
                &debounce_ms.to_string(),
                "--model",
            ])
            .arg(model)
            .args(more)
            .arg(docs)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Watch { child, log }
    }

    /// What the watcher has said so far.
    fn said(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `what` for up to a minute.
fn wait_for(what: &dyn Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn watch_keeps_the_index_current_as_files_change() {
    let (dir, model, docs) = setup();
    // With the graph kept in memory between updates (the other `watch` tests go without).
    let watch = Watch::start_with(dir.path(), &model, &docs, 200, &["--keep-graph"]);
    let found = |word: &str| keyword_files(&docs, word);
    let library = Library::at(docs.join(".lexsearch"));
    assert!(
        wait_for(&|| library.exists()),
        "the first index never appeared"
    );
    fs::write(
        docs.join("added-later.txt"),
        "The wombat covenant binds the parties.\n",
    )
    .unwrap();
    let added = wait_for(&|| found("wombat") == vec!["added-later.txt"]);
    fs::remove_file(docs.join("added-later.txt")).unwrap();
    let removed = added && wait_for(&|| found("wombat").is_empty());
    // A third update adds vectors beside the graph the watcher kept in memory through the
    // two before (the second only removed).
    fs::write(
        docs.join("added-last.txt"),
        "The numbat indemnity survives termination.\n",
    )
    .unwrap();
    let added_last = removed && wait_for(&|| found("numbat") == vec!["added-last.txt"]);
    let said = watch.said();
    drop(watch);
    assert!(
        added,
        "a new file was not indexed; the watcher said:\n{said}"
    );
    assert!(
        removed,
        "a deleted file stayed in the index; the watcher said:\n{said}"
    );
    assert!(
        added_last,
        "a file added after a removal was not indexed; the watcher said:\n{said}"
    );
    // The graph it wrote holds one live vector per chunk, the removed file's none.
    verify_passes(&docs);
}

/// Sends SIGINT to `child`, as Ctrl-C would; false when it is gone.
fn ctrl_c(child: &std::process::Child) -> bool {
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success()
}

#[test]
fn watch_stops_on_ctrl_c_saying_so_with_success() {
    let (dir, model, docs) = setup();
    let mut watch = Watch::start(dir.path(), &model, &docs, 200);
    assert!(
        wait_for(&|| watch.said().contains("Ctrl-C to stop")),
        "the watcher never started; it said:\n{}",
        watch.said()
    );
    assert!(ctrl_c(&watch.child));
    let status = watch.child.wait().unwrap();
    let said = watch.said();
    assert_eq!(status.code(), Some(0), "{said}");
    assert!(said.contains("stopped watching"), "{said}");
    assert!(Library::at(docs.join(".lexsearch")).exists());
}

#[test]
fn ctrl_c_while_eval_indexes_its_set_stops_it_and_the_next_eval_goes_on_from_the_vectors_kept() {
    // The real model, so that the set is still being embedded when the signal comes.
    let Some(model) = crate::common::real_model() else {
        return;
    };
    let Some(set) = crate::common::shared("eval/legalbenchrag-dev") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (queries, files) = crate::common::privacy_qa_set(&set, dir.path(), Some(5));
    let index = dir.path().join("index");
    let eval = || {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"));
        command
            .args(["eval", "--mode", "keyword", "--model"])
            .arg(&model)
            .arg(&queries)
            .arg("--docs")
            .arg(set.join("docs"))
            .arg("--files")
            .arg(&files)
            .arg("--index")
            .arg(&index);
        command
    };
    let log = dir.path().join("eval.log");
    let child = eval()
        .stdout(Stdio::piped())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let staging = index.join("staging");
    assert!(wait_for(&|| staging.exists()), "the set was never indexed");
    assert!(ctrl_c(&child));
    let out = child.wait_with_output().unwrap();
    let said = fs::read_to_string(&log).unwrap();
    assert_eq!(out.status.code(), Some(130), "{said}");
    assert!(said.contains("interrupted"), "{said}");
    assert!(out.stdout.is_empty(), "an interrupted eval printed results");
    assert!(!Library::at(&index).exists(), "no half index is visible");
    let kept = if said.contains("interrupted; the index is unchanged") {
        0
    } else {
        assert!(said.contains("nothing was evaluated"), "{said}");
        kept_by_interrupted_run(&said)
    };
    // The next eval indexes the set, reusing the vectors the first kept, and evaluates it.
    let out = eval().output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let reused: u64 = said
        .split(" reused)")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of reused chunks:\n{said}"));
    eprintln!("the interrupted eval kept {kept} chunks' vectors; the next reused {reused}");
    assert!(reused >= kept, "kept {kept}, reused {reused}:\n{said}");
    let tables = String::from_utf8_lossy(&out.stdout);
    assert!(tables.contains("privacy_qa"), "{tables}");
}

/// The chunks an interrupted run said it kept the vectors of (none when it stopped before
/// embedding anything).
fn kept_by_interrupted_run(stderr: &str) -> u64 {
    if stderr.contains("interrupted; the index is unchanged") {
        return 0;
    }
    let said = "the vectors of the ";
    let at = stderr
        .find(said)
        .unwrap_or_else(|| panic!("no word of what was kept:\n{stderr}"));
    stderr[at + said.len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of what was kept:\n{stderr}"))
}

#[test]
fn ctrl_c_stops_an_index_run_leaving_the_index_as_it_was_and_the_next_run_goes_on() {
    // The real model: the run must still be embedding when the signal comes.
    let Some(model) = crate::common::real_model() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    // Twice the sample under other names (the encoder sees the name): some 700 chunks.
    copy_tree(&sample_corpus(), &docs);
    for entry in fs::read_dir(sample_corpus()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_string_lossy();
            fs::copy(&path, docs.join(format!("copy-of-{name}"))).unwrap();
        }
    }
    let library = Library::at(docs.join(".lexsearch"));
    // Once with one Ctrl-C, which stops at the next safe point, and once with two, which
    // stop at once; the index never shows half a run, and each run goes on from the last.
    for signals in [1, 2] {
        let log = dir.path().join(format!("index-{signals}.log"));
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"))
            .args(["index", "--model"])
            .arg(&model)
            .arg(&docs)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // The run's staging folder: it has begun writing.
        let staging = docs.join(".lexsearch/staging");
        assert!(wait_for(&|| staging.exists()), "the run never began");
        assert!(ctrl_c(&child));
        if signals == 2 {
            // Apart, or the two arrive as one. A run that the first one ended is gone.
            std::thread::sleep(Duration::from_millis(200));
            ctrl_c(&child);
        }
        let status = child.wait().unwrap();
        let said = fs::read_to_string(&log).unwrap();
        eprintln!("{signals} Ctrl-C: {said}");
        assert_eq!(status.code(), Some(130), "{said}");
        assert!(said.contains("interrupted"), "{said}");
        if signals == 1 {
            let kept = kept_by_interrupted_run(&said);
            assert!(!library.exists(), "no half index is visible");
            lexsearch()
                .current_dir(&docs)
                .arg("status")
                .assert()
                .code(2)
                .stderr(predicates::str::contains(
                    "holds no complete index yet: its first run stopped before it finished",
                ));
            let out = lexsearch()
                .args(["index", "--json", "--model"])
                .arg(&model)
                .arg(&docs)
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            let reused = report["chunks_reused"].as_u64().unwrap();
            assert!(reused >= kept, "kept {kept}, reused {reused}: {said}");
            assert_eq!(
                report["chunks_embedded"].as_u64().unwrap() + reused,
                report["chunks"].as_u64().unwrap()
            );
            // Changes for the second round, so that it has something to embed.
            for entry in fs::read_dir(sample_corpus()).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let name = path.file_name().unwrap().to_string_lossy();
                    fs::copy(&path, docs.join(format!("third-{name}"))).unwrap();
                }
            }
        }
    }
    // The complete index of before the second round is intact, and the next run completes.
    assert!(library.exists());
    index_json(&model, &docs);
    verify_passes(&docs);
}

#[test]
fn copies_of_files_in_matter_folders_leave_the_keyword_ranking_as_without_them() {
    let (dir, model, docs) = setup();
    index_json(&model, &docs);
    let copied = dir.path().join("copied");
    copy_tree(&sample_corpus(), &copied);
    for i in 0..40 {
        let matter = copied.join(format!("matter-{i}"));
        fs::create_dir_all(&matter).unwrap();
        for name in ["nda.md", "employment-agreement.txt"] {
            fs::copy(sample_corpus().join(name), matter.join(name)).unwrap();
        }
    }
    index_json(&model, &copied);
    // The best five passages: file name (a copy may stand for the original), line, score.
    let top = |docs: &Path, query: &str| -> Vec<(String, u64, f64)> {
        let out = lexsearch()
            .current_dir(docs)
            .args(["search", "--mode", "keyword", "--json", "-k", "5", query])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let file = h["file"].as_str().unwrap();
                let name = file.rsplit('/').next().unwrap().to_string();
                (
                    name,
                    h["line"].as_u64().unwrap(),
                    h["score"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    // Questions whose words the copied texts hold: counting each copy made those words look
    // common, and pushed the copied passages (and others) down.
    for query in [
        "termination for convenience notice period",
        "non-compete duration and territory",
        "return or destruction of materials",
        "confidential information exclusions",
        "who owns the intellectual property created under the agreement",
    ] {
        let alone = top(&docs, query);
        let with_copies = top(&copied, query);
        let places = |hits: &[(String, u64, f64)]| -> Vec<(String, u64)> {
            hits.iter().map(|(f, l, _)| (f.clone(), *l)).collect()
        };
        assert_eq!(places(&with_copies), places(&alone), "{query}");
        for ((_, _, got), (_, _, want)) in with_copies.iter().zip(&alone) {
            // Field norms give copies' lengths roughly: the average length is near, not exact.
            assert!(
                (got - want).abs() <= 0.005 * want,
                "{query}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn parallel_extraction_writes_the_same_index_in_file_order() {
    let (dir, model, docs) = setup();
    for i in 0..3 {
        copy_tree(&sample_corpus(), &docs.join(format!("copy{i}")));
    }
    let embedder = Embedder::load(&model, DeviceSpec::Cpu).unwrap();
    let catalog_of = |threads: usize| {
        let mut opts = IndexOptions::new(&docs);
        opts.index_dir = dir.path().join(format!("index-{threads}"));
        opts.extract_threads = Some(threads);
        let report = build_index(&opts, &embedder, &lexsearch::indexer::NoProgress).unwrap();
        (report.chunks, catalog_documents(&opts.index_dir))
    };
    let (chunks, one) = catalog_of(1);
    assert!(one.len() >= 80, "{} documents", one.len());
    // Same documents, same ids (handed out in file order), same chunks.
    assert_eq!(catalog_of(3), (chunks, one));
}

/// The number of hits of a semantic search for "rent" in `docs`, asking for `k`.
fn semantic_hits(docs: &Path, model: &Path, k: usize) -> usize {
    let out = lexsearch()
        .current_dir(docs)
        .args([
            "search",
            "--mode",
            "semantic",
            "--json",
            "-k",
            &k.to_string(),
            "rent",
        ])
        .arg("--model")
        .arg(model)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    hits["hits"].as_array().unwrap().len()
}

/// `lexsearch verify` in `docs` finds catalog, keyword index and vector graph in agreement.
fn verify_passes(docs: &Path) {
    lexsearch()
        .current_dir(docs)
        .arg("verify")
        .assert()
        .success();
}

/// `lexsearch verify` in `docs` reports a finding that says `problem` (exit status 2), and
/// `verify --repair` mends it.
fn verify_finds_and_repairs(docs: &Path, problem: &str) {
    let report = verify_findings(docs);
    assert!(report["findings"].to_string().contains(problem), "{report}");
    lexsearch()
        .current_dir(docs)
        .args(["verify", "--repair"])
        .assert()
        .success();
}

/// The report of `lexsearch verify --json` in `docs`, which must find something (exit 2).
fn verify_findings(docs: &Path) -> Value {
    let found = lexsearch()
        .current_dir(docs)
        .args(["verify", "--json"])
        .output()
        .unwrap();
    assert_eq!(found.status.code(), Some(2), "{found:?}");
    serde_json::from_slice(&found.stdout).unwrap()
}

#[test]
fn an_index_missing_its_flat_search_file_still_searches_and_verify_repair_writes_it_again() {
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    let flat_files = || -> Vec<PathBuf> {
        walkdir::WalkDir::new(docs.join(".lexsearch"))
            .into_iter()
            .filter_map(|e| e.ok())
            .map(|e| e.into_path())
            .filter(|p| p.file_name().is_some_and(|n| n == "graph.flat"))
            .collect()
    };
    let flat = flat_files();
    assert_eq!(flat.len(), 1, "one flat search file: {flat:?}");
    let written = fs::read(&flat[0]).unwrap();
    fs::remove_file(&flat[0]).unwrap();

    // Searching falls back to hnsw_rs's own dump, with the same answers.
    assert_eq!(semantic_hits(&docs, &model, 5), 5);

    verify_finds_and_repairs(&docs, "graph.flat is missing");
    // The repair is a new generation, the old one gone: one file, the same bytes.
    let repaired = flat_files();
    assert_eq!(repaired.len(), 1, "one flat search file: {repaired:?}");
    assert_eq!(
        fs::read(&repaired[0]).unwrap(),
        written,
        "the same file again"
    );
    verify_passes(&docs);
}

#[test]
fn an_index_without_its_embedded_text_hashes_still_reuses_vectors_and_its_next_run_writes_them() {
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    let library = Library::at(docs.join(".lexsearch"));
    let hashes = library.snapshot().unwrap().paths().embedded_hashes();
    assert!(hashes.is_file(), "{hashes:?}");
    // As an index of an earlier version: no file.
    fs::remove_file(&hashes).unwrap();
    let report = verify_findings(&docs);
    assert_eq!(
        report["findings"][0]["part"], "embedded-text hashes",
        "{report}"
    );
    // A clause added to one file: only the chunks whose text changed are embedded, their
    // neighbours' vectors found by reading the catalog's chunk records.
    fs::write(
        docs.join("nda.md"),
        fs::read_to_string(docs.join("nda.md")).unwrap() + "\nZebracorn clause.\n",
    )
    .unwrap();
    let run = index_json(&model, &docs);
    let embedded = run["chunks_embedded"].as_u64().unwrap();
    assert!((1..=2).contains(&embedded), "embedded {embedded}");
    let nda_chunks = {
        let paths = library.snapshot().unwrap().paths().clone();
        let catalog = library.read_catalog(&paths).unwrap();
        let docs = catalog.documents().unwrap();
        docs.into_iter()
            .find(|(_, d)| d.rel == Path::new("nda.md"))
            .unwrap()
            .1
            .chunks
            .len() as u64
    };
    assert!(nda_chunks > embedded + 2, "{nda_chunks} chunks");
    // The new generation has the file, and the next change finds vectors through it.
    let hashes = library.snapshot().unwrap().paths().embedded_hashes();
    assert!(hashes.is_file(), "{hashes:?}");
    verify_passes(&docs);
    fs::write(
        docs.join("nda.md"),
        fs::read_to_string(docs.join("nda.md")).unwrap() + "\nQuokka clause.\n",
    )
    .unwrap();
    let run = index_json(&model, &docs);
    let embedded = run["chunks_embedded"].as_u64().unwrap();
    assert!((1..=2).contains(&embedded), "embedded {embedded}");
    assert_eq!(keyword_files(&docs, "quokka"), vec!["nda.md"]);
}

#[test]
fn a_damaged_graph_dump_is_named_with_its_repair_and_neither_searches_nor_small_updates_stop() {
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    let library = Library::at(docs.join(".lexsearch"));
    let vectors = library.snapshot().unwrap().paths().vectors();
    // Damaged in place (a disk error; nothing lexsearch does writes a dump twice).
    let dump = vectors.join("graph.hnsw.graph");
    let mut bytes = fs::read(&dump).unwrap();
    bytes[..8].copy_from_slice(b"damaged!");
    fs::write(&dump, bytes).unwrap();
    // Searches read the flat search file and never notice.
    assert_eq!(keyword_files(&docs, "deposit")[0], "commercial-lease.txt");
    assert_eq!(semantic_hits(&docs, &model, 3), 3);
    // A run that adds a few vectors keeps them in the segment beside the graph, which it
    // neither loads nor writes: it succeeds, and its chunk is found by either arm (the test
    // model's vectors are random: the semantic search is narrowed to the file).
    fs::write(
        docs.join("added.txt"),
        "The wombat clause survives termination.\n",
    )
    .unwrap();
    let run = index_json(&model, &docs);
    assert_eq!(run["timings"]["graph_load"], 0.0, "{run}");
    assert!(run["segment"].as_u64().unwrap() > 0, "{run}");
    assert_eq!(keyword_files(&docs, "wombat"), ["added.txt"]);
    let status = lexsearch()
        .current_dir(&docs)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(status["segment"].as_u64().unwrap() > 0, "{status}");
    let out = lexsearch()
        .current_dir(&docs)
        .args(["search", "--mode", "semantic", "--json", "-k", "1"])
        .args(["--path", "added.txt", "survival of obligations"])
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits["hits"][0]["file"], "added.txt", "{hits}");
    // The damaged dump was linked into the new generation as it was: `verify` names it with
    // the repair, which rebuilds the graph (the segment with it) from the catalog.
    verify_finds_and_repairs(&docs, "cannot load the graph");
    verify_passes(&docs);
    assert_eq!(keyword_files(&docs, "wombat"), ["added.txt"]);
}

#[test]
fn watch_indexes_a_change_it_could_not_index_while_another_writer_held_the_lock() {
    let (dir, model, docs) = setup();
    let watch = Watch::start(dir.path(), &model, &docs, 100);
    assert!(wait_for(&|| Library::at(docs.join(".lexsearch")).exists()));
    assert!(wait_for(&|| watch.said().contains("watching")));
    // Another writer holds the index while the file changes: the watcher's update fails.
    let library = Library::at(docs.join(".lexsearch"));
    let lock = lexsearch::library::WriterLock::acquire(&library, None).unwrap();
    fs::write(
        docs.join("while-locked.txt"),
        "The numbat clause survives.\n",
    )
    .unwrap();
    let refused = wait_for(&|| watch.said().contains("trying again"));
    drop(lock);
    // Nothing else changes, yet the file is indexed once the lock is free.
    let indexed =
        refused && wait_for(&|| keyword_files(&docs, "numbat") == vec!["while-locked.txt"]);
    let said = watch.said();
    drop(watch);
    assert!(
        refused,
        "the update was not refused; the watcher said:\n{said}"
    );
    assert!(
        indexed,
        "the change was never indexed; the watcher said:\n{said}"
    );
}

#[test]
fn the_graph_built_while_embedding_finds_what_exact_search_finds() {
    // Real vectors: the sample corpus indexed with the real model, its graph grown by the
    // graph builder while the encoder ran.
    let Some(docs) = indexed_sample() else { return };
    let library = Library::at(docs.join(".lexsearch"));
    let snapshot = library.snapshot().unwrap();
    let m = snapshot.manifest();
    let catalog = library.read_catalog(snapshot.paths()).unwrap();
    let vectors = catalog.vectors().unwrap();
    assert_eq!(vectors.len() as u64, m.chunks);
    let graph = lexsearch::index::vector::VectorIndex::open_for_search(
        &snapshot.paths().vectors(),
        m.model.dim,
        m.chunks,
    )
    .unwrap();
    assert_eq!(graph.graph_len() as u64, m.chunks);
    // Every chunk's vector as a query, at the ef searches use: the graph's top 10 against the
    // exact top 10 by dot product.
    let (mut agree, mut itself) = (0, 0);
    for (id, q) in &vectors {
        let mut exact: Vec<(f32, u64)> = vectors
            .iter()
            .map(|(c, v)| (v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>(), c.0))
            .collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let found = graph.search(q, 10);
        agree += exact[..10]
            .iter()
            .filter(|(_, c)| found.iter().any(|h| h.chunk_id.0 == *c))
            .count();
        // Itself, or a chunk of the same text (the same vector).
        itself += usize::from(
            found
                .first()
                .is_some_and(|h| h.chunk_id == *id || h.cosine > 0.9999),
        );
    }
    let recall = agree as f64 / (10 * vectors.len()) as f64;
    eprintln!(
        "recall@10 {recall:.4} over {} chunks; {itself} find themselves first",
        vectors.len()
    );
    assert!(recall >= 0.98, "recall@10 {recall}");
    assert_eq!(itself, vectors.len());
}

#[test]
fn files_named_in_lexsearchignore_are_left_out_and_removed_by_the_next_run() {
    let (_dir, model, docs) = setup();
    // Without the sample corpus's own ignore file (its README), which this test's replace.
    fs::remove_file(docs.join(".lexsearchignore")).unwrap();
    let first = index_json(&model, &docs);
    let all = first["files_indexed"].as_u64().unwrap();
    assert_eq!(first["ignored"], 0);
    let lease_only = || {
        let found = keyword_files(&docs, "Bright Fennel Bakery");
        !found.is_empty() && found.iter().all(|f| f == "commercial-lease.txt")
    };
    assert!(lease_only());
    // Drafts (a folder) and the lease are left out; an Office owner file never counts.
    fs::create_dir(docs.join("drafts")).unwrap();
    fs::write(
        docs.join("drafts/memo.txt"),
        "Draft memo about Bright Fennel Bakery.",
    )
    .unwrap();
    fs::write(docs.join("~$nda.docx"), [0u8; 162]).unwrap();
    fs::write(
        docs.join(".lexsearchignore"),
        "# not for search\ndrafts/\ncommercial-lease.txt\n",
    )
    .unwrap();
    let second = index_json(&model, &docs);
    assert_eq!(second["files_indexed"].as_u64(), Some(all - 1));
    assert_eq!(second["removed"], 1);
    assert_eq!(second["ignored"], 2);
    assert_eq!(second["skipped"], serde_json::json!([]), "{second}");
    assert!(keyword_files(&docs, "Bright Fennel Bakery").is_empty());
    // Let back in by the next run.
    fs::write(docs.join(".lexsearchignore"), "drafts/\n").unwrap();
    let third = index_json(&model, &docs);
    assert_eq!((&third["added"], &third["ignored"]), (&1.into(), &1.into()));
    assert!(lease_only());
}

#[test]
fn an_index_inside_its_folder_moves_with_it_and_one_outside_learns_the_new_place() {
    let (dir, model, docs) = setup();
    let first = index_json(&model, &docs);
    let outside = dir.path().join("outside-index");
    // A command on the index kept outside the folder.
    let on_outside = |args: &[&str]| {
        let mut cmd = lexsearch();
        cmd.args(args).arg("--index").arg(&outside);
        cmd
    };
    let index_outside = |folder: &Path| {
        success_json(
            on_outside(&["index", "--json"])
                .arg("--model")
                .arg(&model)
                .arg(folder),
        )
    };
    index_outside(&docs);
    let moved = dir.path().join("moved");
    fs::rename(&docs, &moved).unwrap();
    let moved = fs::canonicalize(&moved).unwrap();

    // The index inside the folder went along: hits name the files where they are now.
    let status = status_json(&moved);
    assert_eq!(status["root"], moved.to_str().unwrap());
    assert_eq!(status["root_found"], true);
    assert_eq!(status["moves_with_folder"], true);
    let found = success_json(lexsearch().current_dir(&moved).args([
        "search", "--mode", "keyword", "--json", "-k", "20", "deposit",
    ]));
    let paths: Vec<&Path> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Path::new(h["path"].as_str().unwrap()))
        .collect();
    assert!(!paths.is_empty());
    assert!(
        paths.iter().all(|p| p.starts_with(&moved) && p.is_file()),
        "{paths:?}"
    );
    // Nothing to do for an index run there: the index stays as it is.
    let again = index_json(&model, &moved);
    assert_eq!(again["unchanged"], first["files_indexed"]);
    assert_eq!(again["chunks_embedded"], 0);
    assert_eq!(status_json(&moved)["generation"], status["generation"]);

    // The index kept outside still names the old place, and says so.
    let outside_status = || success_json(&mut on_outside(&["status", "--json"]));
    let before = outside_status();
    assert_eq!(before["root_found"], false);
    assert_eq!(before["moves_with_folder"], false);
    let search = on_outside(&["search", "--mode", "keyword", "deposit"])
        .output()
        .unwrap();
    let warning = String::from_utf8_lossy(&search.stderr);
    assert!(
        warning.contains("not there (moved, renamed or not mounted)"),
        "{warning}"
    );
    // An index run of the new place records it without reading or embedding a file again.
    let relocated = index_outside(&moved);
    assert_eq!(relocated["unchanged"], first["files_indexed"]);
    assert_eq!(relocated["chunks_embedded"], 0);
    let after = outside_status();
    assert_eq!(after["root"], moved.to_str().unwrap());
    assert_eq!(after["root_found"], true);
    assert_eq!(
        after["generation"].as_u64(),
        before["generation"].as_u64().map(|g| g + 1)
    );
}

#[cfg(unix)]
#[test]
fn links_out_of_the_folder_are_followed_only_when_asked_and_later_runs_keep_the_choice() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let (docs, bank) = (dir.path().join("matter"), dir.path().join("precedents"));
    fs::create_dir_all(&docs).unwrap();
    fs::create_dir_all(&bank).unwrap();
    fs::write(
        docs.join("lease.txt"),
        "The tenant pays the rent monthly.\n",
    )
    .unwrap();
    fs::write(
        bank.join("covenant.txt"),
        "A covenant of quiet enjoyment binds the landlord.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&bank, docs.join("bank")).unwrap();
    // A run that skips something exits with 2, as documented; 0 otherwise.
    let index = |extra: &[&str]| -> Value {
        let out = lexsearch()
            .args(["index", "--json", "--model"])
            .arg(&model)
            .args(extra)
            .arg(&docs)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let skipped = !report["skipped"].as_array().unwrap().is_empty();
        assert_eq!(
            out.status.code(),
            Some(if skipped { 2 } else { 0 }),
            "{report}"
        );
        report
    };
    let link_skipped = |report: &Value| {
        report["skipped"].as_array().unwrap().iter().any(|s| {
            s["path"].as_str().unwrap().ends_with("bank")
                && s["reason"].as_str().unwrap().contains("--follow-links")
        })
    };
    let quiet_enjoyment = || keyword_files(&docs, "quiet enjoyment");

    // By default the link out is listed as skipped and nothing behind it is indexed.
    assert!(link_skipped(&index(&[])));
    assert!(quiet_enjoyment().is_empty());
    // Asked for, it is followed ...
    assert!(!link_skipped(&index(&["--follow-links"])));
    assert_eq!(quiet_enjoyment(), ["bank/covenant.txt"]);
    assert_eq!(status_json(&docs)["follow_links"], true);
    // ... and later runs keep the choice, until it is turned off.
    assert!(!link_skipped(&index(&[])));
    assert_eq!(quiet_enjoyment(), ["bank/covenant.txt"]);
    assert!(link_skipped(&index(&["--follow-links=false"])));
    assert!(quiet_enjoyment().is_empty());
    assert_eq!(status_json(&docs)["follow_links"], false);
}

/// A tmpfs of a given size, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// Mounts a tmpfs of `bytes` at `at`, or says why it cannot (not root, or a container
    /// that forbids mounting).
    fn mount(at: &Path, bytes: u64) -> Result<Self, String> {
        fs::create_dir_all(at).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(SmallDisk(at.to_path_buf()))
    }

    fn resize(&self, bytes: u64) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={bytes}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn tree_size(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

// A real full disk: a tmpfs too small for a second version beside the first. Needs the right
// to mount (root outside a locked-down container, as in CI); else it says why and skips.
#[test]
fn a_full_disk_is_named_leaves_the_index_as_it_was_frees_the_copy_and_the_next_run_completes() {
    let (dir, model, docs) = setup();
    let index_with = |index: &Path| {
        lexsearch()
            .args(["index", "--quiet", "--model"])
            .arg(&model)
            .arg(&docs)
            .arg("--index")
            .arg(index)
            .assert()
    };
    // How large the index is, on an ordinary disk.
    let measured = dir.path().join("measured");
    index_with(&measured).success();
    let first = tree_size(&measured);
    let disk = dir.path().join("disk");
    let small = match SmallDisk::mount(&disk, first + first / 2) {
        Ok(small) => small,
        Err(why) => {
            eprintln!("skipped: cannot mount a small tmpfs to fill ({why})");
            return;
        }
    };
    let index = disk.join("index");
    index_with(&index).success();
    // More documents: the next version needs about as much room again.
    let more = docs.join("more");
    fs::create_dir(&more).unwrap();
    for e in fs::read_dir(&docs).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "txt") {
            let text = fs::read_to_string(&path).unwrap().replace("the", "thee");
            fs::write(more.join(path.file_name().unwrap()), text).unwrap();
        }
    }
    let failed = index_with(&index).code(2);
    let stderr = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
    assert!(stderr.contains("is full"), "{stderr}");
    assert!(
        stderr.contains("the index is as it was before this run"),
        "{stderr}"
    );
    assert!(stderr.contains("--index PATH"), "{stderr}");
    // The copy that filled the disk is gone, but for what the next run reuses.
    assert!(!index.join("staging").exists());
    assert!(!index.join("resume/keyword").exists() && !index.join("resume/vectors").exists());
    // The index as it was, read without writing (the disk may still be full: the catalog
    // kept for the next run can take what the copy freed, and `verify` opens the catalog,
    // which writes, so it runs once there is room again, below).
    let hits = success_json(
        lexsearch()
            .args([
                "search", "--mode", "keyword", "--json", "deposit", "--index",
            ])
            .arg(&index),
    );
    assert!(!hits["hits"].as_array().unwrap().is_empty(), "{hits}");
    let status = success_json(
        lexsearch()
            .args(["status", "--json", "--index"])
            .arg(&index),
    );
    assert_eq!(status["documents"], 20, "{status}");

    small.resize(4 * first + (1 << 20));
    let report = success_json(
        lexsearch()
            .args(["index", "--json", "--model"])
            .arg(&model)
            .arg(&docs)
            .arg("--index")
            .arg(&index),
    );
    assert_eq!(report["added"], 12, "{report}");
    lexsearch()
        .args(["verify", "--index"])
        .arg(&index)
        .assert()
        .success();
}

/// `lexsearch index --json` of `docs`, which must exit with `code`, parsed.
fn index_json_exiting(model: &Path, docs: &Path, code: i32) -> Value {
    let out = lexsearch()
        .args(["index", "--json", "--model"])
        .arg(model)
        .arg(docs)
        .assert()
        .code(code);
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn a_file_that_cannot_be_read_is_not_read_again_until_it_changes_and_status_names_it() {
    let (_dir, model, docs) = setup();
    fs::write(docs.join("bad.pdf"), b"%PDF-1.4 not a PDF at all").unwrap();
    fs::write(docs.join("empty.txt"), b"  \n").unwrap();
    let report = index_json_exiting(&model, &docs, 2);
    assert_eq!(
        report["skipped"][0]["path"],
        docs.join("bad.pdf").to_str().unwrap()
    );
    let status = status_json(&docs);
    let generation = status["generation"].clone();
    let not_indexed = status["not_indexed"].as_array().unwrap();
    assert_eq!(not_indexed.len(), 2, "{status}");
    assert_eq!(not_indexed[0]["file"], "bad.pdf");
    assert!(
        not_indexed[0]["reason"].as_str().unwrap().contains("PDF"),
        "{status}"
    );
    assert_eq!(
        not_indexed[1],
        serde_json::json!({"file": "empty.txt", "reason": "no text"})
    );

    // Unchanged: not read again, reported as before, and no new version of the index.
    let report = index_json_exiting(&model, &docs, 2);
    let reason = report["skipped"][0]["reason"].as_str().unwrap();
    assert!(
        reason.ends_with("(not read again: unchanged since)"),
        "{report}"
    );
    assert_eq!(report["empty"][0], docs.join("empty.txt").to_str().unwrap());
    assert_eq!(status_json(&docs)["generation"], generation);

    // Changed (a later modification time): read again.
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(docs.join("bad.pdf"))
        .unwrap()
        .set_modified(later)
        .unwrap();
    let report = index_json_exiting(&model, &docs, 2);
    let reason = report["skipped"][0]["reason"].as_str().unwrap();
    assert!(!reason.contains("not read again"), "{report}");
    assert_ne!(status_json(&docs)["generation"], generation);

    // Mended or gone: off the list.
    fs::remove_file(docs.join("bad.pdf")).unwrap();
    fs::write(docs.join("empty.txt"), "The tenant shall pay rent.\n").unwrap();
    let report = index_json_exiting(&model, &docs, 0);
    assert_eq!(report["added"], 1, "{report}");
    assert_eq!(status_json(&docs)["not_indexed"], serde_json::json!([]));
}

#[test]
fn a_hit_from_a_file_changed_since_indexing_is_flagged_until_it_is_indexed_again_and_a_touched_one_is_not()
 {
    let (_dir, model, docs) = tiny_model_and_folder();
    fs::write(
        docs.join("lease.txt"),
        "The tenant shall pay rent monthly.\n",
    )
    .unwrap();
    fs::write(
        docs.join("nda.txt"),
        "The recipient shall keep it secret.\n",
    )
    .unwrap();
    let changed = || -> Vec<(String, bool)> {
        let v = success_json(lexsearch().current_dir(&docs).args([
            "search",
            "rent secret",
            "--mode",
            "keyword",
            "--json",
        ]));
        let mut hits: Vec<(String, bool)> = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                let file = h["file"].as_str().unwrap().to_string();
                (file, h["changed"].as_bool().unwrap())
            })
            .collect();
        hits.sort();
        hits
    };
    index_folder(&model, &docs);
    let fresh = || {
        vec![
            ("lease.txt".to_string(), false),
            ("nda.txt".to_string(), false),
        ]
    };
    assert_eq!(changed(), fresh());
    // Times set ahead: a file system's clock is coarser than the one the run wrote its time
    // with, and could put an edit made right after the run a few milliseconds before it.
    let set_time = |file: &str, t: std::time::SystemTime| {
        let file = fs::File::options()
            .append(true)
            .open(docs.join(file))
            .unwrap();
        file.set_modified(t).unwrap();
    };
    let ahead = || std::time::SystemTime::now() + Duration::from_secs(5);
    // Touched, or copied with the index elsewhere, its bytes the same: not flagged.
    set_time("nda.txt", ahead());
    set_time("lease.txt", ahead());
    assert_eq!(changed(), fresh());
    // Edited after the run, even to the same size: flagged in JSON, marked in the listing,
    // and said once.
    fs::write(
        docs.join("lease.txt"),
        "The tenant shall pay rent MONTHLY.\n",
    )
    .unwrap();
    set_time("lease.txt", ahead());
    assert_eq!(
        changed(),
        [
            ("lease.txt".to_string(), true),
            ("nda.txt".to_string(), false)
        ]
    );
    lexsearch()
        .current_dir(&docs)
        .args(["search", "rent", "--mode", "keyword"])
        .assert()
        .success()
        .stdout(
            predicates::str::contains("lease.txt:1  score")
                .and(predicates::str::contains("(file changed since indexed)")),
        )
        .stderr(predicates::str::contains(
            "note: 1 of the files hit changed after the index was last updated",
        ));
    // Indexed again (its time back to the past, still not the time the index recorded, so
    // the run reads it again): nothing is flagged.
    set_time(
        "lease.txt",
        std::time::SystemTime::now() - Duration::from_secs(60),
    );
    index_folder(&model, &docs);
    assert_eq!(changed(), fresh());
    // Grown after that run: flagged.
    fs::write(
        docs.join("lease.txt"),
        "The tenant shall pay rent MONTHLY in advance.\n",
    )
    .unwrap();
    set_time("lease.txt", ahead());
    assert_eq!(changed()[0], ("lease.txt".to_string(), true));
}
