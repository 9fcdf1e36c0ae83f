//! The write path: walk -> extract -> chunk -> embed -> write the three stores.
//!
//! A run is incremental. Files whose size and modification time match the catalog are not
//! read at all; files whose content hash is unchanged are not re-chunked into the index; chunks
//! whose embedded text is unchanged keep their vectors. Removed and changed documents leave
//! the keyword index and become tombstones in the vector graph, which is rebuilt (compacted)
//! once tombstones pass 20 % of it.
//!
//! Crash safety: a run copies the current index into `INDEX.building`, updates that copy, and
//! swaps it in with two renames at the end (see [`crate::library`] and docs/index-format.md),
//! so Ctrl-C or kill -9 at any moment leaves the last complete index in place. Vectors a
//! killed run had already computed are found again in its leftover copy and not re-embedded.
//!
//! A pipeline of three stages keeps the encoder busy: extraction and chunking (one thread, or
//! all cores but one when the encoder is on a GPU), then this thread, which classifies
//! documents, tokenizes their texts and writes finished ones, and the encoder on a thread of
//! its own. Bounded channels between them keep memory flat; documents are written in file
//! order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::embed::{Embedder, Tokenized};
use crate::ids::{ChunkId, DocId};
use crate::index::keyword::{KeywordIndex, KeywordWriter, Place, StoredChunk};
use crate::index::vector::VectorIndex;
use crate::ingest::Skipped;
use crate::ingest::chunk::{Chunk, ChunkerConfig, chunk_text};
use crate::ingest::extract::{
    DEFAULT_MAX_FILE_BYTES, ExtractError, ExtractLimits, Extracted, extract, extract_file,
};
use crate::ingest::ocr::{OcrMode, OcrOptions};
use crate::ingest::walk::{SourceFile, walk};
use crate::library::{IndexPaths, WriteLock};
use crate::store::{Catalog, ChunkRecord, DocRecord, FORMAT_VERSION, Manifest};
use crate::{Error, Result};

/// Settings of an index run.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// The folder to index.
    pub root: PathBuf,
    /// The index folder (by default `root/.lexsearch`).
    pub index_dir: PathBuf,
    /// Chunker settings.
    pub chunker: ChunkerConfig,
    /// Files larger than this are skipped.
    pub max_file_bytes: u64,
    /// Rebuild from scratch (vectors of unchanged text are still reused when the model is
    /// the same), even if the index was built with another model.
    pub rebuild: bool,
    /// Prefix embedded texts with the document title and breadcrumb.
    pub context_in_embedding: bool,
    /// Index only these files (paths relative to `root`); `None` indexes everything.
    pub only_files: Option<HashSet<PathBuf>>,
    /// Threads that extract and chunk files; `None`: one while the encoder runs on the CPU
    /// (it has the cores), all cores but one when it runs on a GPU.
    pub extract_threads: Option<usize>,
    /// When to OCR PDF pages (Tesseract is looked for once per run).
    pub ocr: OcrMode,
}

impl IndexOptions {
    /// Default options for indexing `root` into `root/.lexsearch`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        IndexOptions {
            index_dir: root.join(crate::library::DEFAULT_INDEX_DIR),
            root,
            chunker: ChunkerConfig::default(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            rebuild: false,
            context_in_embedding: true,
            only_files: None,
            extract_threads: None,
            ocr: OcrMode::Auto,
        }
    }
}

/// Receives progress events from an index run (a progress bar, or nothing).
pub trait Progress: Sync {
    /// `files` files need reading (the others are unchanged).
    fn started(&self, _files: usize) {}
    /// A file was extracted and chunked (or skipped).
    fn file_done(&self, _path: &Path) {}
    /// `n` more chunks have vectors (embedded or reused).
    fn chunks_done(&self, _n: usize) {}
    /// A final stage began ("building the vector graph", ...).
    fn stage(&self, _what: &str) {}
    /// One more PDF page was read by OCR (`total` so far in this run).
    fn ocr_page_done(&self, _total: usize) {}
    /// Whether to stop now. The run then ends with [`Error::Cancelled`] and leaves the
    /// current index untouched; the next run reuses the vectors computed so far.
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// What an index run did.
#[derive(Debug, Clone, Serialize)]
pub struct IndexReport {
    /// The indexed folder.
    pub root: PathBuf,
    /// The index folder.
    pub index: PathBuf,
    /// Model name.
    pub model: String,
    /// Device the encoder ran on.
    pub device: String,
    /// Number format the encoder computed in (`f32`, `f16`, `bf16`).
    pub precision: String,
    /// Documents in the index after the run.
    pub files_indexed: usize,
    /// Files new since the last run.
    pub added: usize,
    /// Files whose content changed.
    pub changed: usize,
    /// Documents removed (file gone, or now unreadable).
    pub removed: usize,
    /// Files unchanged (not read at all when size and modification time match).
    pub unchanged: usize,
    /// Chunks in the index after the run.
    pub chunks: usize,
    /// Chunks embedded in this run.
    pub chunks_embedded: usize,
    /// Chunks of new or changed files whose vectors were reused (same embedded text).
    pub chunks_reused: usize,
    /// Removed vectors still in the graph (filtered at query time).
    pub tombstones: usize,
    /// Whether the vector graph was rebuilt from the catalog in this run.
    pub graph_rebuilt: bool,
    /// Files that could not be indexed, with reasons.
    pub skipped: Vec<Skipped>,
    /// Files with no text (empty or whitespace only).
    pub empty: Vec<PathBuf>,
    /// Files ignored because their type is not supported.
    pub unsupported: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Chunks embedded per second of wall time.
    pub chunks_per_second: f64,
    /// Seconds the encoder spent embedding.
    pub encoder_seconds: f64,
    /// Share of the wall time of the extract-chunk-embed pipeline (from the first file to
    /// the last vector) during which the encoder was busy, in percent.
    pub encoder_busy_percent: f64,
    /// OCR in this run.
    pub ocr: OcrReport,
}

/// What OCR did in an index run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OcrReport {
    /// The `--ocr` mode.
    pub mode: OcrMode,
    /// Whether Tesseract (and pdftoppm) were found.
    pub engine_found: bool,
    /// PDF pages read by OCR in this run.
    pub pages_ocr: usize,
    /// PDF pages without a text layer left unread (no engine, or `--ocr never`).
    pub pages_needing_ocr: usize,
}

/// One extracted and chunked document on its way to the encoder.
struct Prepared {
    file: SourceFile,
    extracted: Extracted,
    title: String,
    chunks: Vec<Chunk>,
}

enum Message {
    Doc(Box<Prepared>),
    Skip(Skipped),
    Empty(PathBuf),
    /// Pages OCR'd, and pages that needed OCR and did not get it, in one document.
    Ocr {
        done: usize,
        needed: usize,
    },
    /// Every document of this file (attachments included) was sent.
    FileDone(PathBuf),
    /// One more page was read by OCR (sent from the OCR threads, for the progress bar).
    OcrPage,
}

/// A document with the text to embed for each chunk, and the vectors already known.
struct Embedding {
    doc: Prepared,
    texts: Vec<String>,
    hashes: Vec<String>,
    vectors: Vec<Option<Vec<f32>>>,
}

/// Documents waiting for their vectors, embedded together so batches are full.
struct Pending {
    docs: Vec<Embedding>,
    texts: usize,
}

/// What the encoder thread sends back for a group: its vectors, in order, and the seconds
/// it took.
type Embedded = Result<(Vec<Vec<f32>>, f64)>;

/// How many chunk texts to gather before running the encoder (at least four batches).
const EMBED_GROUP: usize = 64;

/// What the current index knows, for deciding what changed.
struct Current {
    manifest: Manifest,
    /// Documents by relative path.
    docs: HashMap<PathBuf, (DocId, DocRecord)>,
}

/// Sources of vectors already computed, looked up by the hash of the embedded text: the
/// current catalog, and the copy a killed run left behind.
struct Reuse {
    sources: Vec<(Catalog, HashMap<String, ChunkId>)>,
}

impl Reuse {
    fn open(catalogs: &[PathBuf]) -> Self {
        let sources = catalogs
            .iter()
            .filter(|p| p.is_dir())
            // A catalog that does not open (damaged by a crash) is simply not used.
            .filter_map(|p| Catalog::open(p).ok())
            .filter_map(|c| c.embedded_hashes().ok().map(|h| (c, h)))
            .collect();
        Reuse { sources }
    }

    fn vector(&self, embedded_hash: &str) -> Option<Vec<f32>> {
        self.sources.iter().find_map(|(c, by_hash)| {
            let id = by_hash.get(embedded_hash)?;
            c.vector(*id).ok().flatten()
        })
    }
}

fn not_writable(index: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::IndexNotWritable {
        path: index.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The absolute folder to index (which must exist) and index folder of `opts`.
fn resolve(opts: &IndexOptions) -> Result<(PathBuf, PathBuf)> {
    let root = std::fs::canonicalize(&opts.root)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| Error::NotADirectory {
            path: opts.root.clone(),
        })?;
    let index_dir = std::path::absolute(&opts.index_dir)
        .map_err(|e| Error::io("resolve", &opts.index_dir, e))?;
    Ok((root, index_dir))
}

/// Builds or updates the index described by `opts` with `embedder`.
pub fn build_index(
    opts: &IndexOptions,
    embedder: &Embedder,
    progress: &dyn Progress,
) -> Result<IndexReport> {
    let started = Instant::now();
    let (root, index_dir) = resolve(opts)?;
    let max_tokens = embedder.info().max_seq_length.saturating_sub(2);
    opts.chunker
        .validate(max_tokens)
        .map_err(Error::InvalidSetting)?;
    let paths = IndexPaths::new(&index_dir);
    if let Some(parent) = index_dir.parent() {
        std::fs::create_dir_all(parent).map_err(not_writable(&index_dir))?;
    }
    let _lock = WriteLock::acquire(&paths)?;
    paths.recover_interrupted_swap()?;

    // The current index, if it may be extended (same model; else refused unless --rebuild).
    let current = open_current(&paths, opts, embedder)?;
    let same_settings = current.as_ref().is_some_and(|c| {
        c.manifest.chunker == opts.chunker
            && c.manifest.context_in_embedding == opts.context_in_embedding
            && c.manifest.model.fingerprint == embedder.info().fingerprint
    });
    // Keep what a killed run left behind: its vectors are reused below.
    let staging = paths.staging();
    let resume = paths.resume();
    if staging.exists() {
        if resume.exists() {
            std::fs::remove_dir_all(&resume).map_err(|e| Error::io("remove", &resume, e))?;
        }
        std::fs::rename(&staging, &resume).map_err(|e| Error::io("rename", &staging, e))?;
    }

    let mut walked = walk(&root, &paths.own_paths());
    if let Some(only) = &opts.only_files {
        walked.files.retain(|f| only.contains(&f.rel));
    }
    let mut report = IndexReport {
        root: root.clone(),
        index: index_dir.clone(),
        model: embedder.info().name.clone(),
        device: crate::embed::device_name(embedder.device()).into(),
        precision: embedder.dtype().as_str().to_string(),
        files_indexed: 0,
        added: 0,
        changed: 0,
        removed: 0,
        unchanged: 0,
        chunks: 0,
        chunks_embedded: 0,
        chunks_reused: 0,
        tombstones: 0,
        graph_rebuilt: false,
        skipped: walked.skipped,
        empty: Vec::new(),
        unsupported: walked.unsupported,
        seconds: 0.0,
        chunks_per_second: 0.0,
        encoder_seconds: 0.0,
        encoder_busy_percent: 0.0,
        ocr: OcrReport::default(),
    };
    let limits = ExtractLimits {
        max_bytes: opts.max_file_bytes,
        ocr: OcrOptions::detect(opts.ocr),
        ..ExtractLimits::default()
    };
    report.ocr.mode = opts.ocr;
    report.ocr.engine_found = limits.ocr.engine.is_some();

    // Classify: unchanged by size and mtime (not read), to read, and gone.
    let incremental = same_settings && !opts.rebuild;
    let mut to_read = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for f in walked.files {
        seen.insert(f.rel.clone());
        let known = current.as_ref().and_then(|c| c.docs.get(&f.rel));
        match known {
            Some((_, rec)) if incremental && rec.size == f.size && rec.mtime_ns == f.mtime_ns => {
                report.unchanged += 1;
            }
            _ => to_read.push(f),
        }
    }
    let gone: Vec<DocId> = current
        .iter()
        .flat_map(|c| c.docs.iter())
        // An attachment (`mail.eml#a.pdf`) stays while its e-mail does.
        .filter(|(rel, _)| {
            !seen.contains(*rel)
                && !crate::ingest::containers_of(rel).any(|parent| seen.contains(&parent))
        })
        .map(|(_, (id, _))| *id)
        .collect();
    if incremental && to_read.is_empty() && gone.is_empty() {
        // Nothing changed: the index stays as it is.
        if let Some(c) = &current {
            report.files_indexed = c.manifest.documents as usize;
            report.chunks = c.manifest.chunks as usize;
        }
        let _ = std::fs::remove_dir_all(&resume);
        report.seconds = started.elapsed().as_secs_f64();
        report.tombstones = VectorIndex::open(&paths.vectors(), embedder.info().dim)
            .map(|v| v.tombstones())
            .unwrap_or(0);
        return Ok(report);
    }

    // The new version starts as a copy of the current one (or empty for a rebuild).
    let new = IndexPaths::new(&staging);
    let fresh = !incremental || current.is_none();
    if fresh {
        std::fs::create_dir_all(new.keyword()).map_err(not_writable(&index_dir))?;
    } else {
        progress.stage("copying the index");
        crate::library::copy_tree(paths.dir(), new.dir()).map_err(|e| match e {
            Error::Io { source, .. } => not_writable(&index_dir)(source),
            other => other,
        })?;
    }
    let reuse = Reuse::open(&[paths.catalog(), resume.join("catalog")]);
    let catalog = Catalog::open(&new.catalog())?;
    let keyword = if fresh {
        KeywordIndex::create(&new.keyword())?
    } else {
        KeywordIndex::open(&new.keyword())?
    };
    let mut kw_writer = keyword.writer()?;
    let dim = embedder.info().dim;
    let mut vectors = if fresh {
        VectorIndex::empty(dim)
    } else {
        VectorIndex::open(&new.vectors(), dim)?
    };
    let (mut next_doc, mut next_chunk) = match (&current, fresh) {
        (Some(c), false) => (c.manifest.next_doc_id, c.manifest.next_chunk_id),
        _ => (0, 0),
    };

    // Documents that are gone leave every store.
    for id in &gone {
        remove_doc(*id, &catalog, &mut kw_writer, &mut vectors)?;
        report.removed += 1;
    }

    progress.started(to_read.len());
    let pipeline_started = Instant::now();
    let mut writer = Writer {
        catalog: &catalog,
        keyword: &mut kw_writer,
        new_vectors: Vec::new(),
        vectors: &mut vectors,
        next_doc: &mut next_doc,
        next_chunk: &mut next_chunk,
        context: opts.context_in_embedding,
        embedder,
        report: &mut report,
        progress,
        current: current.as_ref().filter(|_| !fresh),
    };
    let producers = opts
        .extract_threads
        .map_or_else(|| producer_threads(embedder), |n| n.max(1));
    let group = EMBED_GROUP.max(4 * embedder.batch_size());
    std::thread::scope(|scope| -> Result<()> {
        // Stage 1: extraction and chunking, on their own thread(s), in file order.
        let (tx, rx) = mpsc::sync_channel::<Message>(32);
        let chunker = opts.chunker;
        let mut limits = limits.clone();
        let page_tx = tx.clone();
        limits.ocr.on_page = Some(std::sync::Arc::new(move || {
            let _ = page_tx.send(Message::OcrPage);
        }));
        // Moved into the producer: its OCR hook's sender closes with it, which ends `rx`.
        scope.spawn(move || produce(to_read, embedder, &chunker, &limits, producers, &tx));
        let mut ocr_pages_read = 0;
        // Stage 2: the encoder, on its own thread, one group of texts at a time. Stage 3,
        // this thread, classifies and tokenizes the next group and writes finished ones
        // meanwhile.
        let (jobs, job_rx) = mpsc::sync_channel::<Tokenized>(1);
        let (done_tx, done) = mpsc::channel::<Embedded>();
        scope.spawn(move || {
            for job in job_rx {
                let started = Instant::now();
                let r = embedder
                    .embed_tokenized(&job)
                    .map(|v| (v, started.elapsed().as_secs_f64()))
                    .map_err(Error::from);
                if done_tx.send(r).is_err() {
                    break;
                }
            }
        });
        let mut pending = Pending {
            docs: Vec::new(),
            texts: 0,
        };
        let mut in_flight = VecDeque::new();
        for msg in rx {
            match msg {
                Message::FileDone(p) => progress.file_done(&p),
                Message::OcrPage => {
                    ocr_pages_read += 1;
                    progress.ocr_page_done(ocr_pages_read);
                }
                Message::Ocr { done, needed } => {
                    writer.report.ocr.pages_ocr += done;
                    writer.report.ocr.pages_needing_ocr += needed;
                }
                Message::Skip(s) => {
                    writer.drop_unreadable(&s.path, &root)?;
                    writer.report.skipped.push(s);
                }
                Message::Empty(p) => {
                    writer.drop_unreadable(&p, &root)?;
                    writer.report.empty.push(p);
                }
                Message::Doc(doc) => {
                    let Some(doc) = writer.classify(*doc)? else {
                        continue;
                    };
                    let doc = writer.embedding_texts(doc, &reuse);
                    pending.texts += doc.vectors.iter().filter(|v| v.is_none()).count();
                    pending.docs.push(doc);
                    if pending.texts >= group {
                        writer.submit(&mut pending, &jobs, &mut in_flight)?;
                        writer.write_embedded(&done, &mut in_flight, false)?;
                        if progress.cancelled() {
                            // Vectors already computed are kept: the next run reuses them.
                            writer.write_embedded(&done, &mut in_flight, true)?;
                            return Err(Error::Cancelled);
                        }
                    }
                }
            }
        }
        writer.submit(&mut pending, &jobs, &mut in_flight)?;
        drop(jobs);
        writer.write_embedded(&done, &mut in_flight, true)
    })?;
    let new_vectors = std::mem::take(&mut writer.new_vectors);
    drop(writer);
    let pipeline = pipeline_started.elapsed().as_secs_f64();
    report.encoder_busy_percent = 100.0 * report.encoder_seconds / pipeline.max(1e-9);

    progress.stage("committing the keyword index");
    kw_writer.commit()?;
    progress.stage("updating the vector graph");
    vectors.insert(&new_vectors);
    if fresh || vectors.needs_compaction() {
        // Compaction: a new graph of the live vectors only.
        vectors = VectorIndex::build(dim, &catalog.vectors()?);
        report.graph_rebuilt = true;
    }
    vectors.dump(&new.vectors())?;
    report.tombstones = vectors.tombstones();
    catalog.flush()?;
    let (documents, chunks) = catalog.counts();
    drop(catalog);
    drop(reuse);
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        lexsearch_version: env!("CARGO_PKG_VERSION").to_string(),
        root: root.clone(),
        model: embedder.info().clone(),
        chunker: opts.chunker,
        context_in_embedding: opts.context_in_embedding,
        documents: documents as u64,
        chunks: chunks as u64,
        next_doc_id: next_doc,
        next_chunk_id: next_chunk,
        generation: current.as_ref().map_or(0, |c| c.manifest.generation) + 1,
        updated_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    manifest.write(new.dir())?;
    drop(current);
    paths.swap_in_staging()?;
    let _ = std::fs::remove_dir_all(&resume);

    report.files_indexed = documents;
    report.chunks = chunks;
    report.seconds = started.elapsed().as_secs_f64();
    report.chunks_per_second = report.chunks_embedded as f64 / report.seconds.max(1e-9);
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// Opens the current index's manifest and document list, after checking that it may be
/// extended: built with the same model (else [`Error::ModelMismatch`], unless `--rebuild`
/// replaces it).
fn open_current(
    paths: &IndexPaths,
    opts: &IndexOptions,
    embedder: &Embedder,
) -> Result<Option<Current>> {
    if !paths.manifest().is_file() {
        return Ok(None);
    }
    let manifest = match Manifest::read(paths.dir()) {
        Ok(m) => m,
        Err(_) if opts.rebuild => return Ok(None),
        Err(e) => return Err(e),
    };
    if let Err(e) = manifest.check_model(paths.dir(), embedder.info()) {
        return if opts.rebuild { Ok(None) } else { Err(e) };
    }
    let catalog = Catalog::open(&paths.catalog())?;
    let docs = catalog
        .documents()?
        .into_iter()
        .map(|(id, rec)| (rec.rel.clone(), (id, rec)))
        .collect();
    Ok(Some(Current { manifest, docs }))
}

/// Removes a document from the catalog, the keyword index and (as tombstones) the graph.
fn remove_doc(
    id: DocId,
    catalog: &Catalog,
    keyword: &mut KeywordWriter,
    vectors: &mut VectorIndex,
) -> Result<()> {
    let chunks = catalog.delete_document(id)?;
    keyword.delete_doc(id);
    vectors.remove(chunks);
    Ok(())
}

/// The error when the encoder thread is gone without an answer (it panicked).
fn encoder_stopped() -> Error {
    crate::embed::ModelError::Inference("the encoder thread stopped".into()).into()
}

/// Threads that extract and chunk: one while the encoder has the CPU's cores; all but one
/// when it runs on a GPU, which can embed faster than one core prepares text.
fn producer_threads(embedder: &Embedder) -> usize {
    if embedder.device().is_cpu() {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    }
}

/// Extracts and chunks `files` on `threads` threads and sends the results in file order;
/// stops early when the receiver is gone.
fn produce(
    files: Vec<SourceFile>,
    embedder: &Embedder,
    chunker: &ChunkerConfig,
    limits: &ExtractLimits,
    threads: usize,
    tx: &mpsc::SyncSender<Message>,
) {
    let pool = (threads > 1)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .ok()
        })
        .flatten();
    let Some(pool) = pool else {
        for file in files {
            for msg in prepare(file, embedder, chunker, limits) {
                if tx.send(msg).is_err() {
                    return;
                }
            }
        }
        return;
    };
    let mut files = files.into_iter();
    loop {
        // Small groups keep the order and bound the memory; a slow file delays only its group.
        let group: Vec<SourceFile> = files.by_ref().take(threads * 4).collect();
        if group.is_empty() {
            return;
        }
        let prepared: Vec<Message> = pool.install(|| {
            use rayon::prelude::*;
            group
                .into_par_iter()
                .flat_map_iter(|f| prepare(f, embedder, chunker, limits))
                .collect()
        });
        for msg in prepared {
            if tx.send(msg).is_err() {
                return;
            }
        }
    }
}

/// Extracts and chunks one file and its attachments (runs on a producer thread): one
/// message per document, OCR counts, then [`Message::FileDone`].
fn prepare(
    file: SourceFile,
    embedder: &Embedder,
    chunker: &ChunkerConfig,
    limits: &ExtractLimits,
) -> Vec<Message> {
    let mut out = Vec::new();
    for doc in extract_file(&file, limits) {
        let (sub, extracted) = match doc.result {
            Ok(x) => (doc.file, x),
            Err(ExtractError::Empty) => {
                out.push(Message::Empty(doc.file.path));
                continue;
            }
            Err(e) => {
                if let ExtractError::NeedsOcr { pages } = e {
                    out.push(Message::Ocr {
                        done: 0,
                        needed: pages,
                    });
                }
                out.push(Message::Skip(Skipped {
                    path: doc.file.path,
                    reason: e.to_string(),
                }));
                continue;
            }
        };
        if extracted.ocr_pages + extracted.pages_needing_ocr > 0 {
            out.push(Message::Ocr {
                done: extracted.ocr_pages,
                needed: extracted.pages_needing_ocr,
            });
        }
        let chunks = chunk_text(&extracted.text, embedder, chunker);
        let title = extracted
            .title
            .clone()
            .or_else(|| first_line(&extracted.text))
            .unwrap_or_else(|| sub.rel.display().to_string());
        out.push(Message::Doc(Box::new(Prepared {
            file: sub,
            extracted,
            title,
            chunks,
        })));
    }
    out.push(Message::FileDone(file.path));
    out
}

/// The first non-empty line, without Markdown heading marks, if it is short enough to be a title.
fn first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.trim_start_matches('#').trim();
    (line.chars().count() <= 120 && !line.is_empty()).then(|| line.to_string())
}

/// The text the encoder sees for a chunk: document identity and breadcrumb, then the text.
fn embedding_text(
    file: &SourceFile,
    title: &str,
    crumbs: &[String],
    text: &str,
    context: bool,
) -> String {
    if !context {
        return text.to_string();
    }
    let stem = crate::index::keyword::file_words(&file.rel.to_string_lossy());
    let mut out = format!("{stem}: {title}\n");
    if !crumbs.is_empty() {
        out.push_str(&crumbs.join(" > "));
        out.push('\n');
    }
    out.push_str(text);
    out
}

/// Writes prepared documents into the new index.
struct Writer<'a> {
    catalog: &'a Catalog,
    keyword: &'a mut KeywordWriter,
    vectors: &'a mut VectorIndex,
    /// Vectors of chunks written in this run, inserted into the graph at the end.
    new_vectors: Vec<(ChunkId, Vec<f32>)>,
    next_doc: &'a mut u64,
    next_chunk: &'a mut u64,
    context: bool,
    embedder: &'a Embedder,
    report: &'a mut IndexReport,
    progress: &'a dyn Progress,
    /// The current index's documents, when this run updates it in place.
    current: Option<&'a Current>,
}

impl Writer<'_> {
    /// The current index's record of a file, if any.
    fn known(&self, rel: &Path) -> Option<&(DocId, DocRecord)> {
        self.current.and_then(|c| c.docs.get(rel))
    }

    /// A file that is now unreadable or empty leaves the index.
    fn drop_unreadable(&mut self, path: &Path, root: &Path) -> Result<()> {
        let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        if let Some((id, _)) = self.known(&rel).cloned() {
            remove_doc(id, self.catalog, self.keyword, self.vectors)?;
            self.report.removed += 1;
        }
        Ok(())
    }

    /// Decides what a read file is: unchanged content (only its modification time is
    /// updated; `None`), changed (the old version is removed) or new.
    fn classify(&mut self, doc: Prepared) -> Result<Option<Prepared>> {
        match self.known(&doc.file.rel).cloned() {
            Some((id, mut rec)) if rec.content_hash == doc.extracted.content_hash => {
                rec.mtime_ns = doc.file.mtime_ns;
                rec.size = doc.file.size;
                self.catalog.put_record(id, &rec)?;
                self.report.unchanged += 1;
                Ok(None)
            }
            Some((id, _)) => {
                remove_doc(id, self.catalog, self.keyword, self.vectors)?;
                self.report.changed += 1;
                Ok(Some(doc))
            }
            None => {
                self.report.added += 1;
                Ok(Some(doc))
            }
        }
    }

    /// The texts to embed for a document's chunks, with vectors reused where an earlier run
    /// embedded exactly the same text.
    fn embedding_texts(&self, doc: Prepared, reuse: &Reuse) -> Embedding {
        let prompt = self.embedder.document_prompt();
        let mut texts = Vec::with_capacity(doc.chunks.len());
        let mut hashes = Vec::with_capacity(doc.chunks.len());
        let mut vectors = Vec::with_capacity(doc.chunks.len());
        for c in &doc.chunks {
            let body = &doc.extracted.text[c.range.clone()];
            let t = format!(
                "{prompt}{}",
                embedding_text(&doc.file, &doc.title, &c.breadcrumb, body, self.context)
            );
            let hash = blake3::hash(t.as_bytes()).to_hex().to_string();
            vectors.push(reuse.vector(&hash));
            hashes.push(hash);
            texts.push(t);
        }
        Embedding {
            doc,
            texts,
            hashes,
            vectors,
        }
    }

    /// Tokenizes the texts the pending documents need and hands them to the encoder thread;
    /// the documents wait in `in_flight` for their vectors.
    fn submit(
        &mut self,
        pending: &mut Pending,
        jobs: &mpsc::SyncSender<Tokenized>,
        in_flight: &mut VecDeque<Vec<Embedding>>,
    ) -> Result<()> {
        let docs = std::mem::take(&mut pending.docs);
        pending.texts = 0;
        if docs.is_empty() {
            return Ok(());
        }
        let missing: Vec<&str> = docs
            .iter()
            .flat_map(|d| d.texts.iter().zip(&d.vectors))
            .filter(|(_, v)| v.is_none())
            .map(|(t, _)| t.as_str())
            .collect();
        let tokenized = self.embedder.tokenize(&missing)?;
        jobs.send(tokenized).map_err(|_| encoder_stopped())?;
        in_flight.push_back(docs);
        Ok(())
    }

    /// Writes the in-flight groups whose vectors are back, oldest first; with `wait`, all of
    /// them, waiting for the encoder.
    fn write_embedded(
        &mut self,
        done: &mpsc::Receiver<Embedded>,
        in_flight: &mut VecDeque<Vec<Embedding>>,
        wait: bool,
    ) -> Result<()> {
        while !in_flight.is_empty() {
            let result = if wait {
                done.recv().map_err(|_| encoder_stopped())?
            } else {
                match done.try_recv() {
                    Ok(r) => r,
                    Err(mpsc::TryRecvError::Empty) => return Ok(()),
                    Err(mpsc::TryRecvError::Disconnected) => return Err(encoder_stopped()),
                }
            };
            let (vectors, seconds) = result?;
            self.report.encoder_seconds += seconds;
            if let Some(docs) = in_flight.pop_front() {
                self.write_group(docs, vectors)?;
            }
        }
        Ok(())
    }

    /// Writes a group of documents, taking the vectors of their new texts from `fresh`.
    fn write_group(&mut self, docs: Vec<Embedding>, fresh: Vec<Vec<f32>>) -> Result<()> {
        let mut fresh = fresh.into_iter();
        for d in docs {
            let n = d.doc.chunks.len();
            let mut vectors = Vec::with_capacity(n);
            for v in d.vectors {
                match v {
                    Some(v) => {
                        self.report.chunks_reused += 1;
                        vectors.push(v);
                    }
                    None => {
                        self.report.chunks_embedded += 1;
                        vectors.push(fresh.next().ok_or_else(|| {
                            crate::embed::ModelError::Inference("fewer vectors than texts".into())
                        })?);
                    }
                }
            }
            self.write_doc(d.doc, &d.hashes, vectors)?;
            self.progress.chunks_done(n);
        }
        Ok(())
    }

    /// Writes one document: its chunks to the keyword index and catalog, the document record
    /// last (a document is in the catalog only with all its chunks).
    fn write_doc(
        &mut self,
        doc: Prepared,
        hashes: &[String],
        vectors: Vec<Vec<f32>>,
    ) -> Result<()> {
        let doc_id = DocId(*self.next_doc);
        *self.next_doc += 1;
        let rel = doc.file.rel.to_string_lossy().into_owned();
        let mut records = Vec::with_capacity(doc.chunks.len());
        for (ordinal, ((c, v), hash)) in doc.chunks.iter().zip(&vectors).zip(hashes).enumerate() {
            let id = ChunkId(*self.next_chunk);
            *self.next_chunk += 1;
            let text = doc.extracted.text[c.range.clone()].to_string();
            let place = Place::locate(&c.range, &doc.extracted.pages, &doc.extracted.paragraphs);
            self.keyword.add(&StoredChunk {
                chunk_id: id,
                doc_id,
                path: rel.clone(),
                title: doc.title.clone(),
                breadcrumb: c.breadcrumb.clone(),
                text: text.clone(),
                range: c.range.clone(),
                line: c.line,
                place,
            })?;
            let record = ChunkRecord {
                doc: doc_id,
                ordinal: ordinal as u32,
                start: c.range.start,
                end: c.range.end,
                line: c.line,
                page: place.page,
                page_end: place.page_end,
                paragraph: place.paragraph,
                breadcrumb: c.breadcrumb.clone(),
                text,
                embedded_hash: hash.clone(),
            };
            records.push((id, record, v.as_slice()));
        }
        let record = DocRecord {
            rel: doc.file.rel.clone(),
            kind: doc.file.kind,
            content_hash: doc.extracted.content_hash.clone(),
            size: doc.file.size,
            mtime_ns: doc.file.mtime_ns,
            title: doc.title.clone(),
            decoded_from: doc.extracted.decoded_from.map(String::from),
            chunks: records.iter().map(|r| r.0).collect(),
        };
        self.catalog.put_document(doc_id, &record, &records)?;
        for (id, _, v) in &records {
            self.new_vectors.push((*id, v.to_vec()));
        }
        Ok(())
    }
}

/// A file that `index --dry-run` would index, with what its extraction gave.
#[derive(Debug, Clone, Serialize)]
pub struct DryRunFile {
    /// The file, as reached from the indexed folder.
    pub path: PathBuf,
    /// The file relative to the indexed folder.
    pub file: PathBuf,
    /// Its format.
    pub kind: crate::ingest::walk::FileKind,
    /// Size in bytes.
    pub bytes: u64,
    /// Characters of extracted text.
    pub chars: usize,
    /// Pages (PDF), else 0.
    pub pages: usize,
    /// Numbered paragraphs (DOCX), else 0.
    pub paragraphs: usize,
    /// The document's own title, when the format has one.
    pub title: Option<String>,
    /// The encoding the text was decoded from, when it was not UTF-8.
    pub decoded_from: Option<&'static str>,
}

/// What `index --dry-run` found: the files that would be indexed and those that would not.
#[derive(Debug, Clone, Serialize)]
pub struct DryRunReport {
    /// The folder.
    pub root: PathBuf,
    /// Files that would be indexed, sorted by relative path.
    pub files: Vec<DryRunFile>,
    /// Files that would be skipped, with reasons.
    pub skipped: Vec<Skipped>,
    /// Files with no text (empty or whitespace only).
    pub empty: Vec<PathBuf>,
    /// Files ignored because their type is not supported.
    pub unsupported: usize,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Walks and extracts like [`build_index`], but loads no model, embeds nothing and writes
/// nothing: the report says what an index run would take in and what it would skip.
pub fn dry_run(opts: &IndexOptions) -> Result<DryRunReport> {
    let started = Instant::now();
    let (root, index_dir) = resolve(opts)?;
    let walked = walk(&root, &IndexPaths::new(&index_dir).own_paths());
    let mut report = DryRunReport {
        root,
        files: Vec::new(),
        skipped: walked.skipped,
        empty: Vec::new(),
        unsupported: walked.unsupported,
        seconds: 0.0,
    };
    for file in walked.files {
        match extract(&file, opts.max_file_bytes) {
            Ok(x) => report.files.push(DryRunFile {
                chars: x.text.chars().count(),
                pages: x.pages.len(),
                paragraphs: x.paragraphs.len(),
                title: x.title,
                decoded_from: x.decoded_from,
                kind: file.kind,
                bytes: file.size,
                file: file.rel,
                path: file.path,
            }),
            Err(ExtractError::Empty) => report.empty.push(file.path),
            Err(e) => report.skipped.push(Skipped {
                path: file.path,
                reason: e.to_string(),
            }),
        }
    }
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
