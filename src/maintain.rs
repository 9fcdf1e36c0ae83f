//! Looking after an index: `status`, `verify` (and repair) and `compact`.
//!
//! The catalog is the source of truth; the keyword index and the vector graph are derived
//! from it and can always be rebuilt without the encoder. Repairs and compaction write a new
//! generation beside the current one and publish it, like an index run (one write transaction).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::ids::ChunkId;
use crate::index::keyword::KeywordIndex;
use crate::index::vector::VectorIndex;
use crate::ingest::chunk::ChunkerConfig;
use crate::library::{Library, Staging, dir_size};
use crate::store::{EmbeddedHashes, read_documents};
use crate::{Error, Result};

/// What `lexsearch status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The index folder.
    pub index: PathBuf,
    /// The indexed folder: where the index is now for an index inside it (it moves with
    /// its folder), else as recorded.
    pub root: PathBuf,
    /// Whether that folder is there (false: it moved or is not mounted; hits name files
    /// that are not there until `lexsearch index NEWDIR --index INDEX` records the new place).
    pub root_found: bool,
    /// Whether the index lies inside its folder, so that moving or copying the folder takes
    /// the index along and keeps its hits' paths right.
    pub moves_with_folder: bool,
    /// Model name.
    pub model: String,
    /// Model fingerprint (short).
    pub model_fingerprint: String,
    /// Chunker settings the index is built with (kept by later runs).
    pub chunker: ChunkerConfig,
    /// Whether embedded texts carry the document title and breadcrumb.
    pub context_in_embedding: bool,
    /// Tesseract's language(s) for scanned pages (`--ocr-lang`, kept by later runs).
    pub ocr_lang: String,
    /// Whether symbolic links out of the folder are followed (`--follow-links`, kept by later
    /// runs).
    pub follow_links: bool,
    /// Documents.
    pub documents: u64,
    /// Chunks.
    pub chunks: u64,
    /// Removed vectors still in the graph.
    pub tombstones: usize,
    /// Vectors added since the graph was last written, searched exactly beside it (the
    /// segment, `added.vectors`; at most 8,192).
    pub segment: usize,
    /// Whether the keyword index was made by an earlier version and lacks fields this one
    /// writes (what `sent:`, `from:`, `to:`, `folder:`, `/s`, `/p` and pinpoint pages need):
    /// the next
    /// `lexsearch index` run rebuilds it from the catalog.
    pub keyword_outdated: bool,
    /// Bytes on disk of the current generation.
    pub size_bytes: u64,
    /// Last update, seconds since the Unix epoch.
    pub updated_unix: u64,
    /// Update generation.
    pub generation: u64,
    /// Process currently updating the index, if any.
    pub writer_pid: Option<u32>,
    /// Files of the folder the index holds nothing of because they could not be read or
    /// held no text, as the runs that wrote the index found them, sorted by path.
    pub not_indexed: Vec<NotIndexed>,
}

/// A file the index holds nothing of, and why ([`Status::not_indexed`]).
#[derive(Debug, Clone, Serialize)]
pub struct NotIndexed {
    /// The file, relative to the indexed folder.
    pub file: PathBuf,
    /// Why, as the run that read it said ("no text" for a file without any).
    pub reason: String,
}

/// Reads an index's status without taking its lock (works while it is being updated).
pub fn status(index: &Path) -> Result<Status> {
    let library = Library::at(index);
    let snapshot = library.snapshot()?;
    let (m, paths) = (snapshot.manifest(), snapshot.paths());
    // Only the tombstones are needed: the flat graph opens in milliseconds at any size.
    let vectors = VectorIndex::open_for_search(&paths.vectors(), m.model.dim, m.chunks)?;
    Ok(Status {
        index: index.to_path_buf(),
        root: m.root.clone(),
        root_found: m.root.is_dir(),
        moves_with_folder: m.root_from_index.is_some(),
        model: m.model.name.clone(),
        model_fingerprint: m.model.short_fingerprint().to_string(),
        chunker: m.chunker,
        context_in_embedding: m.context_in_embedding,
        ocr_lang: m
            .ocr_lang
            .clone()
            .unwrap_or_else(|| crate::ingest::ocr::DEFAULT_LANG.to_string()),
        follow_links: m.follow_links == Some(true),
        documents: m.documents,
        chunks: m.chunks,
        tombstones: vectors.tombstones(),
        segment: vectors.segment_len(),
        keyword_outdated: KeywordIndex::open(&paths.keyword()).is_ok_and(|k| k.is_outdated()),
        size_bytes: dir_size(paths.dir()),
        updated_unix: m.updated_unix,
        generation: m.generation,
        writer_pid: library.writer_pid(),
        not_indexed: m
            .unreadable
            .iter()
            .map(|u| NotIndexed {
                file: u.file.clone(),
                reason: u.reason.clone(),
            })
            .collect(),
    })
}

/// One finding of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Which part ("catalog", "manifest", "embedded-text hashes", "documents file", "keyword
    /// index", "vector graph", "vector search file").
    pub part: &'static str,
    /// What is wrong.
    pub problem: String,
}

/// What `verify` found (and repaired).
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Documents in the catalog.
    pub documents: usize,
    /// Chunks in the catalog.
    pub chunks: usize,
    /// Problems found; empty when the three stores agree.
    pub findings: Vec<Finding>,
    /// Whether the derived indexes were rebuilt from the catalog (or, when only the flat
    /// search file was wrong, that file written again).
    pub repaired: bool,
    /// What the repair did, when it did something.
    pub repair: Option<String>,
}

/// Checks that catalog, keyword index and vector graph agree; with `repair`, rebuilds the
/// derived indexes from the catalog when they do not (or when the graph needs compaction).
pub fn verify(index: &Path, repair: bool) -> Result<Verification> {
    // Only a repair writes a next version; a full disk under a plain check (sled writes to
    // the catalog it opens) is reported as the catalog's own error.
    check(index, repair).map_err(|e| match repair {
        true => Library::at(index).diagnose_disk_full(e),
        false => e,
    })
}

fn check(index: &Path, repair: bool) -> Result<Verification> {
    let mut txn = Library::at(index).begin_maintenance()?;
    let (Some(manifest), Some(paths)) = (txn.base_manifest().cloned(), txn.base_paths().cloned())
    else {
        return Err(Error::NotAnIndex {
            path: index.to_path_buf(),
        });
    };
    let mut findings = Vec::new();
    // A private copy: sled writes into a catalog it opens, and this one is published.
    let catalog = Library::at(index).read_catalog(&paths)?;
    let docs = catalog.documents()?;
    // Each chunk's embedded-text hash, as the generation's file of them should hold it.
    let mut hashed = Vec::new();
    let mut ids: BTreeSet<ChunkId> = BTreeSet::new();
    for (doc_id, doc) in &docs {
        for c in &doc.chunks {
            ids.insert(*c);
            let record = catalog.chunk(*c)?;
            if let Some(rec) = &record {
                hashed.push((rec.embedded_hash.clone(), *c));
            }
            match record {
                Some(rec) if rec.doc == *doc_id => {}
                Some(_) => findings.push(Finding {
                    part: "catalog",
                    problem: format!(
                        "chunk {} belongs to another document than {}",
                        c.0,
                        doc.rel.display()
                    ),
                }),
                None => findings.push(Finding {
                    part: "catalog",
                    problem: format!("chunk {} of {} is missing", c.0, doc.rel.display()),
                }),
            }
            match catalog.vector(*c)? {
                Some(v) if v.len() == manifest.model.dim => {}
                _ => findings.push(Finding {
                    part: "catalog",
                    problem: format!("vector of chunk {} is missing or has the wrong size", c.0),
                }),
            }
        }
    }
    let (doc_count, chunk_count) = catalog.counts();
    if chunk_count != ids.len() {
        findings.push(Finding {
            part: "catalog",
            problem: format!(
                "{} chunk records, {} referenced by documents",
                chunk_count,
                ids.len()
            ),
        });
    }
    if manifest.documents as usize != doc_count || manifest.chunks as usize != chunk_count {
        findings.push(Finding {
            part: "manifest",
            problem: format!(
                "manifest counts {} documents and {} chunks, the catalog {doc_count} and {chunk_count}",
                manifest.documents, manifest.chunks
            ),
        });
    }
    let mut derived_ok = true;
    // Written again by a copy of the generation (graph file, keyword index of an earlier
    // version, the catalog's index of embedded-text hashes), without rebuilding the graph.
    let mut rewrite = Vec::new();
    // Whether the graph's files are to be dumped anew.
    let mut dump_graph = false;
    // The file holds every chunk record's hash: orphans too, when there are some.
    let expected = match chunk_count == ids.len() {
        true => EmbeddedHashes::from_pairs(hashed),
        false => EmbeddedHashes::from_pairs(catalog.chunk_hashes()?),
    };
    let hashes_problem = derived_file_problem(
        EmbeddedHashes::read(&paths.embedded_hashes()),
        &expected,
        |h| {
            format!(
                "its {} entries do not match the catalog's {} chunks: an update would embed \
                 again text whose vector it has; `verify --repair` writes it again",
                h.len(),
                expected.len()
            )
        },
        "missing (made by an earlier version): an update reads every chunk record to find \
         the vectors of unchanged text; `lexsearch index` or `verify --repair` writes it",
    );
    let documents_problem = derived_file_problem(
        read_documents(&paths.documents()),
        &docs,
        |d| {
            format!(
                "its {} records do not match the catalog's {} documents: an update would \
                 compare the folder with the wrong list; `verify --repair` writes it again",
                d.len(),
                docs.len()
            )
        },
        "missing (made by an earlier version): runs read the documents from a copy of the \
         catalog until the next `lexsearch index` run or `verify --repair` writes it",
    );
    let rewrite_hashes = hashes_problem.is_some();
    for (part, problem, repair) in [
        (
            "embedded-text hashes",
            hashes_problem,
            "the embedded-text hashes written again from the catalog",
        ),
        (
            "documents file",
            documents_problem,
            "the documents file written again from the catalog",
        ),
    ] {
        if let Some(problem) = problem {
            findings.push(Finding { part, problem });
            rewrite.push(repair);
        }
    }
    let keyword = KeywordIndex::open(&paths.keyword());
    if keyword.as_ref().is_ok_and(KeywordIndex::is_outdated) {
        findings.push(Finding {
            part: "keyword index",
            problem: "made by an earlier version: it lacks the e-mail days, senders, \
                      recipients and folders (`sent:`, `from:`, `to:`, `folder:` in a query), \
                      the sentences and \
                      paragraphs of `/s` and `/p`, the pages of pinpoints, the file list \
                      that makes `--path` fast, or the text keys that count a text held by \
                      several files once in keyword weights, or it reads the `s` of a \
                      possessive as a word (`\"attorney's fees\"` then misses \
                      `attorneys' fees`); `lexsearch index` or `verify --repair` rebuilds it"
                .into(),
        });
        rewrite.push("the keyword index rebuilt from the catalog");
    }
    match keyword.and_then(|k| k.chunk_ids()) {
        Ok(kw) if kw == ids => {}
        Ok(kw) => {
            derived_ok = false;
            findings.push(Finding {
                part: "keyword index",
                problem: format!(
                    "{} chunks missing, {} not in the catalog",
                    ids.difference(&kw).count(),
                    kw.difference(&ids).count()
                ),
            });
        }
        Err(e) => {
            derived_ok = false;
            findings.push(Finding {
                part: "keyword index",
                problem: crate::error::chain(&e),
            });
        }
    }
    // A graph whose only fault is its flat search file gets that file written again.
    let compact = match VectorIndex::open(&paths.vectors(), manifest.model.dim) {
        Ok(v) => {
            let compact = v.needs_compaction();
            if v.len() != ids.len() || ids.iter().any(|id| v.is_removed(*id)) {
                derived_ok = false;
                findings.push(Finding {
                    part: "vector graph",
                    problem: format!("{} live vectors for {} chunks", v.len(), ids.len()),
                });
            } else if let Some(problem) = v.flat_file_problem(&paths.vectors()) {
                findings.push(Finding {
                    part: "vector search file",
                    problem,
                });
                rewrite.push("the vector graph's flat search file written again");
                dump_graph = true;
            }
            compact
        }
        Err(e) => {
            derived_ok = false;
            findings.push(Finding {
                part: "vector graph",
                problem: crate::error::chain(&e),
            });
            false
        }
    };
    let stale = VectorIndex::stale_files(&paths.vectors())?;
    if !stale.is_empty() {
        let bytes: u64 = stale
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        findings.push(Finding {
            part: "vector graph",
            problem: format!(
                "{} files of earlier dumps of the graph ({:.1} MB) that nothing reads: earlier \
                 versions of lexsearch kept one more at every update; `verify --repair` or the next \
                 `lexsearch index` run drops them",
                stale.len(),
                bytes as f64 / 1e6
            ),
        });
        rewrite.push("earlier dumps of the vector graph dropped");
        dump_graph = true;
    }
    // The checks read the current generation; a repair writes the next one.
    drop(catalog);
    let mut done = None;
    if repair && rewrite_hashes {
        txn.rewrite_hashes();
    }
    if repair && (!derived_ok || compact) {
        txn.stage(Staging::Rederive, &|_| {})?;
        txn.commit(&|_| {})?;
        done = Some(match rewrite_hashes {
            true => format!("{REBUILT}; the embedded-text hashes written again"),
            false => REBUILT.to_string(),
        });
    } else if repair && !rewrite.is_empty() {
        // The staged graph (the current one, loaded) is dumped anew at commit, its flat search
        // file with it and without earlier dumps, when those were at fault; a keyword index
        // of an earlier version is rebuilt in the staged generation, and the catalog's index of
        // embedded-text hashes as the transaction was told.
        if dump_graph {
            txn.rewrite_graph();
        }
        txn.set_expect_vectors(false);
        txn.stage(Staging::Copy, &|_| {})?;
        txn.commit(&|_| {})?;
        done = Some(rewrite.join("; "));
    }
    Ok(Verification {
        documents: doc_count,
        chunks: chunk_count,
        findings,
        repaired: done.is_some(),
        repair: done,
    })
}

const REBUILT: &str = "keyword index and vector graph rebuilt from the catalog";

/// What is wrong with a file derived from the catalog, given what it holds (`None`: there is
/// none) and what the catalog gives; `None` when they agree.
fn derived_file_problem<T: PartialEq>(
    held: Result<Option<T>>,
    expected: &T,
    mismatch: impl FnOnce(&T) -> String,
    missing: &str,
) -> Option<String> {
    match held {
        Ok(Some(held)) if held == *expected => None,
        Ok(Some(held)) => Some(mismatch(&held)),
        Ok(None) => Some(missing.to_string()),
        Err(e) => Some(crate::error::chain(&e)),
    }
}

/// Rebuilds the vector graph without tombstones (and the keyword index) from the catalog.
pub fn compact(index: &Path) -> Result<Verification> {
    rebuild(index).map_err(|e| Library::at(index).diagnose_disk_full(e))
}

fn rebuild(index: &Path) -> Result<Verification> {
    let mut txn = Library::at(index).begin_maintenance()?;
    txn.stage(Staging::Rederive, &|_| {})?;
    let committed = txn.commit(&|_| {})?;
    Ok(Verification {
        documents: committed.documents,
        chunks: committed.chunks,
        findings: Vec::new(),
        repaired: true,
        repair: Some(REBUILT.to_string()),
    })
}

/// How many chunk ids each list of a [`RemoteVerification`] shows.
const SHOWN_IDS: usize = 20;

/// `verify --backend`: the remote index against the local catalog of what was sent.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteVerification {
    /// `milvus://HOST:PORT/COLLECTION`.
    pub backend: String,
    /// The local catalog compared with it.
    pub catalog: PathBuf,
    /// Chunks in the catalog.
    pub chunks_local: usize,
    /// Chunks the server holds.
    pub chunks_stored: u64,
    /// How many catalog chunks the server lacks.
    pub missing: usize,
    /// Ids of missing chunks (the first 20).
    pub missing_ids: Vec<u64>,
    /// How many chunks the server holds that the catalog does not.
    pub extra: usize,
    /// Ids of extra chunks (the first 20).
    pub extra_ids: Vec<u64>,
    /// How many chunks differ in content (text, document, path, title, breadcrumb, place,
    /// e-mail headers).
    pub different: usize,
    /// Ids of differing chunks (the first 20).
    pub different_ids: Vec<u64>,
    /// Whether the server holds exactly the catalog's chunks.
    pub consistent: bool,
}

/// Compares every chunk of the local catalog in `catalog_dir` (the index folder of what was
/// sent to `remote`) with what `remote` holds: ids missing there, extra there, and chunks
/// whose stored fields differ. Vectors are not read back (they are large; the tests compare
/// them with an independent client).
pub fn verify_remote(
    catalog_dir: &Path,
    remote: &dyn crate::index::remote::RemoteIndex,
) -> Result<RemoteVerification> {
    let library = Library::at(catalog_dir);
    let snapshot = library.snapshot()?;
    let catalog = library.read_catalog(snapshot.paths())?;
    let mut local = std::collections::BTreeMap::new();
    for (doc_id, doc) in catalog.documents()? {
        for id in &doc.chunks {
            if let Some(rec) = catalog.chunk(*id)? {
                let mut chunk = crate::library::stored_chunk(doc_id, &doc, *id, &rec);
                // A collection keeps no page breaks (docs/scale.md).
                chunk.page_breaks.clear();
                local.insert(id.0, chunk);
            }
        }
    }
    const WINDOW: u64 = 4096;
    let end = local.keys().next_back().map_or(0, |last| last + 1);
    let mut stored = std::collections::BTreeMap::new();
    let mut from = 0;
    while from < end {
        for c in remote.chunks_in(from..(from + WINDOW).min(end))? {
            stored.insert(c.chunk_id.0, c);
        }
        from += WINDOW;
    }
    // Anything above the catalog's ids is extra.
    for c in remote.chunks_in(end..u64::MAX)? {
        stored.insert(c.chunk_id.0, c);
    }
    let chunks_stored = remote.count()?;
    let missing: Vec<u64> = local
        .keys()
        .filter(|id| !stored.contains_key(id))
        .copied()
        .collect();
    let extra: Vec<u64> = stored
        .keys()
        .filter(|id| !local.contains_key(id))
        .copied()
        .collect();
    let different: Vec<u64> = local
        .iter()
        .filter(|(id, c)| stored.get(id).is_some_and(|s| s != *c))
        .map(|(id, _)| *id)
        .collect();
    // Rows beyond what one scan above the catalog returns are extra too.
    let extra_count = extra.len() + chunks_stored.saturating_sub(stored.len() as u64) as usize;
    let shown = |ids: &[u64]| ids.iter().take(SHOWN_IDS).copied().collect::<Vec<_>>();
    Ok(RemoteVerification {
        backend: remote.name().to_string(),
        catalog: catalog_dir.to_path_buf(),
        chunks_local: local.len(),
        chunks_stored,
        consistent: missing.is_empty() && extra_count == 0 && different.is_empty(),
        missing: missing.len(),
        missing_ids: shown(&missing),
        extra: extra_count,
        extra_ids: shown(&extra),
        different: different.len(),
        different_ids: shown(&different),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::library::test_support::{
        commit_documents, make_keyword_outdated, remove_hashes_file,
    };
    use crate::store::Catalog;

    #[test]
    fn status_and_verify_name_a_keyword_index_of_an_earlier_version_and_repair_rebuilds_it() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join(".lexsearch");
        let library = Library::at(&index);
        commit_documents(&library, 2);
        assert!(!status(&index).unwrap().keyword_outdated);
        assert!(verify(&index, false).unwrap().findings.is_empty());

        make_keyword_outdated(&library);
        assert!(status(&index).unwrap().keyword_outdated);
        let found = verify(&index, false).unwrap();
        assert!(
            found
                .findings
                .iter()
                .any(|f| f.part == "keyword index" && f.problem.contains("`/s` and `/p`")),
            "{:?}",
            found.findings
        );
        assert!(verify(&index, true).unwrap().repaired);
        assert!(!status(&index).unwrap().keyword_outdated);
        assert!(verify(&index, false).unwrap().findings.is_empty());
    }

    #[test]
    fn verify_names_a_missing_wrong_or_damaged_documents_file_and_repair_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join(".lexsearch");
        let library = Library::at(&index);
        commit_documents(&library, 3);
        assert!(verify(&index, false).unwrap().findings.is_empty());
        let documents_finding = |repair: bool| {
            let found = verify(&index, repair).unwrap();
            assert_eq!(found.findings.len(), 1, "{:?}", found.findings);
            assert_eq!(found.findings[0].part, "documents file");
            (found.findings[0].problem.clone(), found.repair)
        };
        let file = || library.snapshot().unwrap().paths().documents();
        let listed = read_documents(&file()).unwrap().unwrap();
        let damages: [(&str, &dyn Fn()); 3] = [
            ("earlier version", &|| std::fs::remove_file(file()).unwrap()),
            ("do not match the catalog's 3 documents", &|| {
                crate::store::write_documents(&file(), &listed[1..]).unwrap()
            }),
            ("checksum", &|| {
                let bytes = std::fs::read(file()).unwrap();
                std::fs::write(file(), &bytes[..bytes.len() - 1]).unwrap()
            }),
        ];
        for (said, damage) in damages {
            damage();
            let (problem, _) = documents_finding(false);
            assert!(problem.contains(said), "{problem}");
            let (_, repair) = documents_finding(true);
            assert!(repair.unwrap().contains("documents file"));
            assert!(verify(&index, false).unwrap().findings.is_empty());
            assert_eq!(read_documents(&file()).unwrap(), Some(listed.clone()));
        }
    }

    #[test]
    fn verify_names_missing_or_damaged_embedded_text_hashes_and_repair_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join(".lexsearch");
        let library = Library::at(&index);
        commit_documents(&library, 2);
        let graph_files = |library: &Library| {
            use std::os::unix::fs::MetadataExt;
            let vectors = library.snapshot().unwrap().paths().vectors();
            // The graph's files, beside its tombstones (written by every run).
            let mut inodes: Vec<u64> = std::fs::read_dir(vectors)
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| !e.file_name().to_string_lossy().contains("tombstones"))
                .map(|e| e.metadata().unwrap().ino())
                .collect();
            inodes.sort();
            inodes
        };
        let hashes_finding = |repair: bool| {
            let found = verify(&index, repair).unwrap();
            let problems: Vec<String> = found
                .findings
                .iter()
                .filter(|f| f.part == "embedded-text hashes")
                .map(|f| f.problem.clone())
                .collect();
            assert_eq!(problems.len(), found.findings.len(), "{:?}", found.findings);
            (problems, found.repair)
        };

        remove_hashes_file(&library);
        let (problems, _) = hashes_finding(false);
        assert!(
            problems.len() == 1 && problems[0].contains("earlier version"),
            "{problems:?}"
        );
        let before = graph_files(&library);
        assert!(before.len() >= 3, "{before:?}");
        let (_, repair) = hashes_finding(true);
        assert!(repair.unwrap().contains("embedded-text hashes"));
        assert!(verify(&index, false).unwrap().findings.is_empty());
        // Only the hashes were at fault: the graph's files are linked, not dumped anew.
        assert_eq!(graph_files(&library), before);

        // A file that lacks a chunk, and one cut short.
        let path = library.snapshot().unwrap().paths().embedded_hashes();
        let catalog_pairs = {
            let paths = library.snapshot().unwrap().paths().clone();
            Catalog::open(&paths.catalog())
                .unwrap()
                .chunk_hashes()
                .unwrap()
        };
        EmbeddedHashes::from_pairs(catalog_pairs[1..].to_vec())
            .write(&path)
            .unwrap();
        let (problems, _) = hashes_finding(false);
        assert!(
            problems.len() == 1
                && problems[0].contains("its 3 entries do not match the catalog's 4"),
            "{problems:?}"
        );
        assert!(hashes_finding(true).1.is_some());
        assert!(verify(&index, false).unwrap().findings.is_empty());
        let path = library.snapshot().unwrap().paths().embedded_hashes();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let (problems, _) = hashes_finding(false);
        assert!(problems[0].contains("whole number"), "{problems:?}");
        assert!(hashes_finding(true).1.is_some());
        assert!(verify(&index, false).unwrap().findings.is_empty());
    }
}
