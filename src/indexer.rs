//! The write path: walk -> extract -> chunk -> embed -> write the three stores.
//!
//! Extraction and chunking run on a second thread, feeding the encoder through a bounded
//! channel, so the encoder never waits on file I/O. Every run builds a complete new index
//! beside the current one and swaps it in at the end (see [`crate::library`]); chunks of
//! files that did not change (same path and content hash, same model and chunker) keep their
//! vectors from the previous index instead of being embedded again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::embed::Embedder;
use crate::ids::{ChunkId, DocId};
use crate::index::keyword::{KeywordIndex, KeywordWriter, Place, StoredChunk};
use crate::index::vector::VectorIndex;
use crate::ingest::Skipped;
use crate::ingest::chunk::{Chunk, ChunkerConfig, chunk_text};
use crate::ingest::extract::{DEFAULT_MAX_FILE_BYTES, ExtractError, Extracted, extract};
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
    /// Throw away an existing index even if it was built with another model or settings.
    pub rebuild: bool,
    /// Prefix embedded texts with the document title and breadcrumb.
    pub context_in_embedding: bool,
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
        }
    }
}

/// Receives progress events from an index run (a progress bar, or nothing).
pub trait Progress: Sync {
    /// The walk found `files` files to index.
    fn started(&self, _files: usize) {}
    /// A file was extracted and chunked (or skipped).
    fn file_done(&self, _path: &Path) {}
    /// `n` more chunks have vectors (embedded or reused).
    fn chunks_done(&self, _n: usize) {}
    /// A final stage began ("building the vector graph", ...).
    fn stage(&self, _what: &str) {}
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
    /// Documents in the index.
    pub files_indexed: usize,
    /// Chunks in the index.
    pub chunks: usize,
    /// Chunks embedded in this run.
    pub chunks_embedded: usize,
    /// Chunks whose vectors were reused from the previous index (file unchanged).
    pub chunks_reused: usize,
    /// Files that could not be indexed, with reasons.
    pub skipped: Vec<Skipped>,
    /// Files with no text (empty or whitespace only).
    pub empty: Vec<PathBuf>,
    /// Files ignored because their type is not supported.
    pub unsupported: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Chunks per second over the whole run.
    pub chunks_per_second: f64,
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

/// How many chunk texts to gather before running the encoder.
const EMBED_GROUP: usize = 64;

/// Builds (or rebuilds) the index described by `opts` with `embedder`.
pub fn build_index(
    opts: &IndexOptions,
    embedder: &Embedder,
    progress: &dyn Progress,
) -> Result<IndexReport> {
    let started = Instant::now();
    let root = std::fs::canonicalize(&opts.root)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| Error::NotADirectory {
            path: opts.root.clone(),
        })?;
    let index_dir = std::path::absolute(&opts.index_dir)
        .map_err(|e| Error::io("resolve", &opts.index_dir, e))?;
    let max_tokens = embedder.info().max_seq_length.saturating_sub(2);
    opts.chunker
        .validate(max_tokens)
        .map_err(Error::InvalidSetting)?;
    let paths = IndexPaths::new(&index_dir);
    if let Some(parent) = index_dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::IndexNotWritable {
            path: index_dir.clone(),
            reason: e.to_string(),
        })?;
    }
    let _lock = WriteLock::acquire(&paths)?;
    paths.recover_interrupted_swap()?;

    // What the previous index offers for reuse, after checking it may be extended.
    let previous = previous_index(&paths, opts, embedder)?;

    let staging = paths.staging();
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| Error::io("remove", &staging, e))?;
    }
    let new = IndexPaths::new(&staging);
    for dir in [new.dir().to_path_buf(), new.keyword()] {
        std::fs::create_dir_all(&dir).map_err(|e| Error::IndexNotWritable {
            path: index_dir.clone(),
            reason: e.to_string(),
        })?;
    }
    let catalog = Catalog::open(&new.catalog())?;
    let keyword = KeywordIndex::create(&new.keyword())?;
    let mut kw_writer = keyword.writer()?;

    let walked = walk(&root, &paths.own_paths());
    progress.started(walked.files.len());
    let mut report = IndexReport {
        root: root.clone(),
        index: index_dir.clone(),
        model: embedder.info().name.clone(),
        device: device_name(embedder),
        files_indexed: 0,
        chunks: 0,
        chunks_embedded: 0,
        chunks_reused: 0,
        skipped: walked.skipped,
        empty: Vec::new(),
        unsupported: walked.unsupported,
        seconds: 0.0,
        chunks_per_second: 0.0,
    };

    let mut writer = Writer {
        catalog: &catalog,
        keyword: &mut kw_writer,
        vectors: Vec::new(),
        next_doc: 0,
        next_chunk: 0,
        context: opts.context_in_embedding,
        embedder,
        report: &mut report,
        progress,
    };
    let files = walked.files;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<Message>(32);
        let chunker = opts.chunker;
        let max_bytes = opts.max_file_bytes;
        scope.spawn(move || {
            for file in files {
                let msg = prepare(file, embedder, &chunker, max_bytes);
                if tx.send(msg).is_err() {
                    break; // the consumer stopped on an error
                }
            }
        });
        let mut pending = Pending {
            docs: Vec::new(),
            texts: 0,
        };
        for msg in rx {
            match msg {
                Message::Skip(s) => {
                    progress.file_done(&s.path);
                    writer.report.skipped.push(s);
                }
                Message::Empty(p) => {
                    progress.file_done(&p);
                    writer.report.empty.push(p);
                }
                Message::Doc(doc) => {
                    progress.file_done(&doc.file.path);
                    let doc = writer.embedding_texts(*doc, previous.as_ref());
                    pending.texts += doc.vectors.iter().filter(|v| v.is_none()).count();
                    pending.docs.push(doc);
                    if pending.texts >= EMBED_GROUP {
                        writer.flush(&mut pending)?;
                    }
                }
            }
        }
        writer.flush(&mut pending)
    })?;
    let vectors = std::mem::take(&mut writer.vectors);
    let (next_doc, next_chunk) = (writer.next_doc, writer.next_chunk);
    drop(writer);

    progress.stage("committing the keyword index");
    kw_writer.commit()?;
    progress.stage("building the vector graph");
    VectorIndex::build_and_dump(&new.vectors(), embedder.info().dim, &vectors)?;
    catalog.flush()?;
    drop(catalog);
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        lexsearch_version: env!("CARGO_PKG_VERSION").to_string(),
        root: root.clone(),
        model: embedder.info().clone(),
        chunker: opts.chunker,
        context_in_embedding: opts.context_in_embedding,
        documents: next_doc,
        chunks: next_chunk,
        updated_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    manifest.write(new.dir())?;
    drop(previous);
    paths.swap_in_staging()?;

    report.seconds = started.elapsed().as_secs_f64();
    report.chunks_per_second = report.chunks as f64 / report.seconds.max(1e-9);
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

fn device_name(embedder: &Embedder) -> String {
    match embedder.device() {
        candle_core::Device::Cpu => "cpu".into(),
        candle_core::Device::Cuda(_) => "cuda".into(),
        candle_core::Device::Metal(_) => "metal".into(),
    }
}

/// The previous index's vectors, found by the hash of the text that was embedded.
struct Previous {
    catalog: Catalog,
    by_hash: HashMap<String, ChunkId>,
}

impl Previous {
    /// The stored vector for an embedded text, if the previous index has it.
    fn vector(&self, embedded_hash: &str) -> Option<Vec<f32>> {
        let id = self.by_hash.get(embedded_hash)?;
        self.catalog.vector(*id).ok().flatten()
    }
}

/// Opens the previous index for reuse, after checking that it may be extended: built with
/// the same model (else [`Error::ModelMismatch`]), unless `--rebuild` throws it away.
fn previous_index(
    paths: &IndexPaths,
    opts: &IndexOptions,
    embedder: &Embedder,
) -> Result<Option<Previous>> {
    if opts.rebuild || !paths.manifest().is_file() {
        return Ok(None);
    }
    let manifest = Manifest::read(paths.dir())?;
    manifest.check_model(paths.dir(), embedder.info())?;
    let catalog = Catalog::open(&paths.catalog())?;
    let by_hash = catalog.embedded_hashes()?;
    Ok(Some(Previous { catalog, by_hash }))
}

/// Extracts and chunks one file (runs on the producer thread).
fn prepare(
    file: SourceFile,
    embedder: &Embedder,
    chunker: &ChunkerConfig,
    max_bytes: u64,
) -> Message {
    let extracted = match extract(&file, max_bytes) {
        Ok(x) => x,
        Err(ExtractError::Empty) => return Message::Empty(file.path),
        Err(e) => {
            return Message::Skip(Skipped {
                path: file.path,
                reason: e.to_string(),
            });
        }
    };
    let chunks = chunk_text(&extracted.text, embedder, chunker);
    let title = extracted
        .title
        .clone()
        .or_else(|| first_line(&extracted.text))
        .unwrap_or_else(|| file.rel.display().to_string());
    Message::Doc(Box::new(Prepared {
        file,
        extracted,
        title,
        chunks,
    }))
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
    let stem = file
        .rel
        .file_stem()
        .map(|s| s.to_string_lossy().replace(['_', '-'], " "))
        .unwrap_or_default();
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
    vectors: Vec<(ChunkId, Vec<f32>)>,
    next_doc: u64,
    next_chunk: u64,
    context: bool,
    embedder: &'a Embedder,
    report: &'a mut IndexReport,
    progress: &'a dyn Progress,
}

impl Writer<'_> {
    /// The texts to embed for a document's chunks, with vectors reused where the previous
    /// index embedded exactly the same text.
    fn embedding_texts(&self, doc: Prepared, previous: Option<&Previous>) -> Embedding {
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
            vectors.push(previous.and_then(|p| p.vector(&hash)));
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

    /// Embeds what the pending documents need and writes them all.
    fn flush(&mut self, pending: &mut Pending) -> Result<()> {
        let docs = std::mem::take(&mut pending.docs);
        pending.texts = 0;
        let missing: Vec<&str> = docs
            .iter()
            .flat_map(|d| d.texts.iter().zip(&d.vectors))
            .filter(|(_, v)| v.is_none())
            .map(|(t, _)| t.as_str())
            .collect();
        let mut fresh = self.embedder.embed(&missing)?.into_iter();
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

    fn write_doc(
        &mut self,
        doc: Prepared,
        hashes: &[String],
        vectors: Vec<Vec<f32>>,
    ) -> Result<()> {
        let doc_id = DocId(self.next_doc);
        self.next_doc += 1;
        let rel = doc.file.rel.to_string_lossy().into_owned();
        let mut records = Vec::with_capacity(doc.chunks.len());
        for (ordinal, ((c, v), hash)) in doc.chunks.iter().zip(&vectors).zip(hashes).enumerate() {
            let id = ChunkId(self.next_chunk);
            self.next_chunk += 1;
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
            self.vectors.push((*id, v.to_vec()));
        }
        self.report.files_indexed += 1;
        self.report.chunks += records.len();
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
    let root = std::fs::canonicalize(&opts.root)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| Error::NotADirectory {
            path: opts.root.clone(),
        })?;
    let index_dir = std::path::absolute(&opts.index_dir)
        .map_err(|e| Error::io("resolve", &opts.index_dir, e))?;
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
