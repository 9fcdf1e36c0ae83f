//! Looking after an index: `status`, `verify` (and repair) and `compact`.
//!
//! The catalog is the source of truth; the keyword index and the vector graph are derived
//! from it and can always be rebuilt without the encoder. Repairs and compaction write a new
//! version beside the current one and swap it in, like an index run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::ids::ChunkId;
use crate::index::keyword::{KeywordIndex, Place, StoredChunk};
use crate::index::vector::VectorIndex;
use crate::library::{IndexPaths, WriteLock};
use crate::store::{Catalog, Manifest};
use crate::{Error, Result};

/// What `lexsearch status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// The index folder.
    pub index: PathBuf,
    /// The indexed folder.
    pub root: PathBuf,
    /// Model name.
    pub model: String,
    /// Model fingerprint (short).
    pub model_fingerprint: String,
    /// Documents.
    pub documents: u64,
    /// Chunks.
    pub chunks: u64,
    /// Removed vectors still in the graph.
    pub tombstones: usize,
    /// Bytes on disk.
    pub size_bytes: u64,
    /// Last update, seconds since the Unix epoch.
    pub updated_unix: u64,
    /// Update generation.
    pub generation: u64,
    /// Process currently updating the index, if any.
    pub writer_pid: Option<u32>,
}

fn dir_size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Reads an index's status without taking its lock (works while it is being updated).
pub fn status(index: &Path) -> Result<Status> {
    let paths = IndexPaths::new(&IndexPaths::new(index).readable_dir());
    if !paths.manifest().is_file() {
        return Err(Error::NoIndex {
            start: index.to_path_buf(),
        });
    }
    let m = Manifest::read(paths.dir())?;
    // Only the tombstones are needed: the flat graph opens in milliseconds at any size.
    let vectors = VectorIndex::open_for_search(&paths.vectors(), m.model.dim, m.chunks)?;
    let lock = IndexPaths::new(index).lock();
    let writer_pid = std::fs::read_to_string(lock)
        .ok()
        .and_then(|s| s.trim().parse().ok());
    Ok(Status {
        index: index.to_path_buf(),
        root: m.root.clone(),
        model: m.model.name.clone(),
        model_fingerprint: m.model.short_fingerprint().to_string(),
        documents: m.documents,
        chunks: m.chunks,
        tombstones: vectors.tombstones(),
        size_bytes: dir_size(paths.dir()),
        updated_unix: m.updated_unix,
        generation: m.generation,
        writer_pid,
    })
}

/// One finding of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Which part ("catalog", "keyword index", "vector graph", "manifest").
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
    let paths = IndexPaths::new(index);
    let _lock = WriteLock::acquire(&paths)?;
    paths.recover_interrupted_swap()?;
    if !paths.manifest().is_file() {
        return Err(Error::NoIndex {
            start: index.to_path_buf(),
        });
    }
    let manifest = Manifest::read(index)?;
    let mut findings = Vec::new();
    let catalog = Catalog::open(&paths.catalog())?;
    let docs = catalog.documents()?;
    let mut ids: BTreeSet<ChunkId> = BTreeSet::new();
    for (doc_id, doc) in &docs {
        for c in &doc.chunks {
            ids.insert(*c);
            match catalog.chunk(*c)? {
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
    match KeywordIndex::open(&paths.keyword()).and_then(|k| k.chunk_ids()) {
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
                problem: format!("{e:#}"),
            });
        }
    }
    // A graph whose only fault is its flat search file gets that file written again.
    let mut rewrite_flat = None;
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
                rewrite_flat = Some(v);
            }
            compact
        }
        Err(e) => {
            derived_ok = false;
            findings.push(Finding {
                part: "vector graph",
                problem: format!("{e:#}"),
            });
            false
        }
    };
    let mut done = None;
    if repair && (!derived_ok || compact) {
        rebuild_derived(&paths, &manifest, &catalog, &docs)?;
        done = Some(REBUILT.to_string());
    } else if let (true, Some(v)) = (repair, &rewrite_flat) {
        v.write_flat(&paths.vectors())?;
        done = Some("the vector graph's flat search file written again".to_string());
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

/// Rebuilds the vector graph without tombstones (and the keyword index) from the catalog.
pub fn compact(index: &Path) -> Result<Verification> {
    let paths = IndexPaths::new(index);
    let _lock = WriteLock::acquire(&paths)?;
    paths.recover_interrupted_swap()?;
    let manifest = Manifest::read(index)?;
    let catalog = Catalog::open(&paths.catalog())?;
    let docs = catalog.documents()?;
    rebuild_derived(&paths, &manifest, &catalog, &docs)?;
    let (documents, chunks) = catalog.counts();
    Ok(Verification {
        documents,
        chunks,
        findings: Vec::new(),
        repaired: true,
        repair: Some(REBUILT.to_string()),
    })
}

/// Writes a new version whose keyword index and graph are rebuilt from `catalog`, and swaps
/// it in. The caller holds the lock.
fn rebuild_derived(
    paths: &IndexPaths,
    manifest: &Manifest,
    catalog: &Catalog,
    docs: &[(crate::DocId, crate::store::DocRecord)],
) -> Result<()> {
    let staging = IndexPaths::new(&paths.staging());
    if staging.dir().exists() {
        std::fs::remove_dir_all(staging.dir())
            .map_err(|e| Error::io("remove", staging.dir(), e))?;
    }
    std::fs::create_dir_all(staging.keyword())
        .map_err(|e| Error::io("create", staging.keyword(), e))?;
    let keyword = KeywordIndex::create(&staging.keyword())?;
    let mut writer = keyword.writer()?;
    for (doc_id, doc) in docs {
        let path = doc.rel.to_string_lossy().into_owned();
        for c in &doc.chunks {
            let Some(rec) = catalog.chunk(*c)? else {
                continue;
            };
            writer.add(&StoredChunk {
                chunk_id: *c,
                doc_id: *doc_id,
                path: path.clone(),
                title: doc.title.clone(),
                breadcrumb: rec.breadcrumb,
                text: rec.text,
                range: rec.start..rec.end,
                line: rec.line,
                place: Place {
                    page: rec.page,
                    page_end: rec.page_end,
                    paragraph: rec.paragraph,
                },
            })?;
        }
    }
    writer.commit()?;
    let live: BTreeSet<ChunkId> = docs
        .iter()
        .flat_map(|(_, d)| d.chunks.iter().copied())
        .collect();
    let vectors: Vec<(ChunkId, Vec<f32>)> = catalog
        .vectors()?
        .into_iter()
        .filter(|(id, _)| live.contains(id))
        .collect();
    VectorIndex::build(manifest.model.dim, &vectors).dump(&staging.vectors())?;
    // The catalog itself is copied as it is.
    catalog.flush()?;
    crate::library::copy_tree(&paths.catalog(), &staging.catalog())?;
    let mut m = manifest.clone();
    let (documents, chunks) = catalog.counts();
    m.documents = documents as u64;
    m.chunks = chunks as u64;
    m.generation += 1;
    m.write(staging.dir())?;
    paths.swap_in_staging()
}
