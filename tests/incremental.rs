//! Incremental, crash-safe indexing. A tiny random model keeps these fast: they test storage,
//! not retrieval quality.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lexsearch::indexer::{IndexOptions, Progress, build_index};
use lexsearch::{DeviceSpec, Embedder};
use serde_json::Value;

use crate::common::{Tiny, copy_tree, hit_files, lexsearch, sample_corpus, write_tiny_model};

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    write_tiny_model(&model, &Tiny::default());
    let docs = dir.path().join("docs");
    copy_tree(&sample_corpus(), &docs);
    (dir, model, docs)
}

fn index_json(model: &Path, docs: &Path) -> Value {
    let out = lexsearch()
        .args(["index", "--json", "--model"])
        .arg(model)
        .arg(docs)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
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

    // Nothing changed: nothing is read or embedded.
    let same = index_json(&model, &docs);
    assert_eq!(
        (same["unchanged"].as_u64(), same["chunks_embedded"].as_u64()),
        (Some(files), Some(0))
    );

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
    let index = docs.join(".lexsearch");
    let manifest = lexsearch::store::Manifest::read(&index).unwrap();
    let vectors = lexsearch::index::vector::VectorIndex::open_for_search(
        &lexsearch::library::IndexPaths::new(&index).vectors(),
        manifest.model.dim,
        manifest.chunks,
    )
    .unwrap();
    assert!(vectors.is_flat());
    assert!(vectors.tombstones() > 0, "the changes left tombstones");
}

/// Cancels a run after its first group of embeddings, like a crash would stop it.
struct CancelAfterFirstGroup;
impl Progress for CancelAfterFirstGroup {
    fn cancelled(&self) -> bool {
        true
    }
}

#[test]
fn an_interrupted_run_leaves_the_index_intact_and_the_next_run_reuses_its_vectors() {
    let (_dir, model, docs) = setup();
    let embedder = Embedder::load(&model, DeviceSpec::Cpu).unwrap();
    let mut opts = IndexOptions::new(&docs);
    opts.chunker =
        lexsearch::ingest::chunk::ChunkerConfig::for_model(embedder.info().max_seq_length - 2);
    let err = build_index(&opts, &embedder, &CancelAfterFirstGroup).unwrap_err();
    assert!(matches!(err, lexsearch::Error::Cancelled), "{err}");
    assert!(
        !opts.index_dir.join("manifest.json").exists(),
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
        lexsearch()
            .current_dir(&docs)
            .arg("verify")
            .assert()
            .success();
    }
    // Finishing gives the same documents and chunks as a clean index of the same folder.
    let done = index_json(&model, &docs);
    let clean_dir = dir.path().join("clean");
    copy_tree(&docs, &clean_dir);
    for entry in fs::read_dir(&clean_dir).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".lexsearch")
        {
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
    lexsearch()
        .current_dir(&docs)
        .arg("verify")
        .assert()
        .success();
}

#[test]
fn searches_keep_working_while_another_process_indexes_and_a_second_writer_is_refused() {
    let (_dir, model, docs) = setup();
    for i in 0..4 {
        copy_tree(&sample_corpus(), &docs.join(format!("copy{i}")));
    }
    index_json(&model, &docs);
    for entry in walkdir::WalkDir::new(&docs)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "md") && !p.to_string_lossy().contains(".lexsearch") {
            fs::write(p, fs::read_to_string(p).unwrap() + "\nLate amendment.\n").unwrap();
        }
    }
    let mut writer = std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"))
        .args(["index", "--quiet", "--model"])
        .arg(&model)
        .arg(&docs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the writer holds the lock, then try a second writer.
    let lock = docs.join(".lexsearch.lock");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !lock.exists() && Instant::now() < deadline && writer.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    if lock.exists() {
        let second = lexsearch()
            .args(["index", "--model"])
            .arg(&model)
            .arg(&docs)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&second.stderr);
        // Refused while the first runs (or, if it just finished, it ran normally).
        assert!(
            second.status.code() == Some(2) && stderr.contains("is being updated by process")
                || second.status.success(),
            "{stderr}"
        );
    }
    let mut searches = 0;
    while writer.try_wait().unwrap().is_none() {
        let out = lexsearch()
            .current_dir(&docs)
            .args(["search", "--mode", "keyword", "--json", "security deposit"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        searches += 1;
    }
    assert!(writer.wait().unwrap().success());
    assert!(searches > 0);
    // A stale lock (its process is gone) is taken over.
    fs::write(&lock, "4294967").unwrap();
    index_json(&model, &docs);
    assert!(!lock.exists());
}

/// A `lexsearch watch` of `docs`, its stderr in `dir/watch.log`; killed when dropped.
struct Watch {
    child: std::process::Child,
    log: PathBuf,
}

impl Watch {
    fn start(dir: &Path, model: &Path, docs: &Path, debounce_ms: u32) -> Self {
        let log = dir.join("watch.log");
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("lexsearch"))
            .args([
                "watch",
                "--debounce-ms",
                &debounce_ms.to_string(),
                "--model",
            ])
            .arg(model)
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
    let watch = Watch::start(dir.path(), &model, &docs, 200);
    let found = |word: &str| keyword_files(&docs, word);
    let manifest = docs.join(".lexsearch/manifest.json");
    assert!(
        wait_for(&|| manifest.exists()),
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
        opts.chunker =
            lexsearch::ingest::chunk::ChunkerConfig::for_model(embedder.info().max_seq_length - 2);
        let report = build_index(&opts, &embedder, &lexsearch::indexer::NoProgress).unwrap();
        let catalog = lexsearch::store::Catalog::open(&opts.index_dir.join("catalog")).unwrap();
        let docs: Vec<(u64, PathBuf, usize)> = catalog
            .documents()
            .unwrap()
            .into_iter()
            .map(|(id, d)| (id.0, d.rel, d.chunks.len()))
            .collect();
        (report.chunks, docs)
    };
    let (chunks, one) = catalog_of(1);
    assert!(one.len() >= 80, "{} documents", one.len());
    // Same documents, same ids (handed out in file order), same chunks.
    assert_eq!(catalog_of(3), (chunks, one));
}

#[test]
fn an_index_missing_its_flat_search_file_still_searches_and_verify_repair_writes_it_again() {
    let (_dir, model, docs) = setup();
    index_json(&model, &docs);
    let flat: Vec<PathBuf> = walkdir::WalkDir::new(docs.join(".lexsearch"))
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.file_name().is_some_and(|n| n == "graph.flat"))
        .collect();
    assert_eq!(flat.len(), 1, "one flat search file: {flat:?}");
    let written = fs::read(&flat[0]).unwrap();
    fs::remove_file(&flat[0]).unwrap();

    // Searching falls back to hnsw_rs's own dump, with the same answers.
    let semantic = lexsearch()
        .current_dir(&docs)
        .args(["search", "--mode", "semantic", "--json", "-k", "5", "rent"])
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert!(semantic.status.success(), "{semantic:?}");
    let hits: Value = serde_json::from_slice(&semantic.stdout).unwrap();
    assert_eq!(hits["hits"].as_array().unwrap().len(), 5);

    let found = lexsearch()
        .current_dir(&docs)
        .args(["verify", "--json"])
        .output()
        .unwrap();
    assert!(!found.status.success());
    let report: Value = serde_json::from_slice(&found.stdout).unwrap();
    assert!(
        report["findings"]
            .to_string()
            .contains("graph.flat is missing"),
        "{report}"
    );
    lexsearch()
        .current_dir(&docs)
        .args(["verify", "--repair"])
        .assert()
        .success();
    assert_eq!(fs::read(&flat[0]).unwrap(), written, "the same file again");
    lexsearch()
        .current_dir(&docs)
        .arg("verify")
        .assert()
        .success();
}

#[test]
fn watch_indexes_a_change_it_could_not_index_while_another_writer_held_the_lock() {
    let (dir, model, docs) = setup();
    let watch = Watch::start(dir.path(), &model, &docs, 100);
    assert!(wait_for(&|| docs.join(".lexsearch/manifest.json").exists()));
    assert!(wait_for(&|| watch.said().contains("watching")));
    // Another writer holds the index while the file changes: the watcher's update fails.
    let paths = lexsearch::library::IndexPaths::new(&docs.join(".lexsearch"));
    let lock = lexsearch::library::WriteLock::acquire(&paths).unwrap();
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
