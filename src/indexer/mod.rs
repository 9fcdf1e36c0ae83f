//! The write path: walk -> extract -> chunk -> embed -> write, through the index's one write
//! transaction ([`crate::library::Transaction`]).
//!
//! A run is incremental. Files whose size and modification time match the catalog are not
//! read at all (`plan.rs`); files whose content hash is unchanged are not re-chunked into the
//! index; chunks whose embedded text is unchanged keep their vectors (`reuse.rs`). Removed and
//! changed documents leave the keyword index and become tombstones in the vector graph, which
//! is rebuilt (compacted) once tombstones pass 20 % of it. The settings an index was built
//! with (model, chunk size, overlap, context) are kept by every later run; other settings are
//! refused unless `--rebuild`.
//!
//! Crash safety: the transaction writes the next generation beside the current one and
//! publishes it with one rename (see [`crate::library`] and docs/index-format.md), so Ctrl-C
//! or kill -9 at any moment leaves the last complete index in place, and searches running
//! meanwhile keep the generation they opened. Vectors a killed run had already computed are
//! found again in its leftover copy and not re-embedded.
//!
//! The pipeline (`pipeline.rs`) keeps the encoder busy while files are extracted and documents written.

mod pipeline;
mod plan;
mod reuse;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::embed::Embedder;
use crate::index::remote::{self, RemoteIndex, RemoteUrl};
use crate::ingest::Skipped;
use crate::ingest::extract::{
    DEFAULT_MAX_FILE_BYTES, ExtractError, ExtractLimits, extract_file_each,
};
use crate::ingest::ocr::{OcrMode, OcrOptions};
use crate::ingest::walk::walk;
use crate::library::{Library, SettingsRequest, Staging};
use crate::{Error, Result};

/// Settings of an index run.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// The folder to index.
    pub root: PathBuf,
    /// The index folder (by default `root/.lexsearch`).
    pub index_dir: PathBuf,
    /// Chunking and context settings asked for; those not given keep the index's own.
    pub settings: SettingsRequest,
    /// Files larger than this are skipped.
    pub max_file_bytes: u64,
    /// Rebuild from scratch, even with another model or other settings (vectors of unchanged
    /// text are still reused when the model is the same).
    pub rebuild: bool,
    /// Wait for another process that is writing the index, instead of refusing.
    pub wait: bool,
    /// Index only these files (paths relative to `root`); `None` indexes everything.
    pub only_files: Option<HashSet<PathBuf>>,
    /// Threads that extract and chunk files; `None`: one while the encoder runs on the CPU
    /// (it has the cores), all cores but one when it runs on a GPU.
    pub extract_threads: Option<usize>,
    /// When to OCR PDF pages (Tesseract is looked for once per run).
    pub ocr: OcrMode,
    /// Tesseract's language(s) for OCR (`eng`, `deu+fra`, ...); `None`: those the index was
    /// last built with, else `eng`.
    pub ocr_lang: Option<String>,
    /// Whether to follow symbolic links that lead out of the folder; `None`: as the index
    /// was last built, else not.
    pub follow_links: Option<bool>,
    /// A remote index that holds the search arms (`milvus://HOST:PORT/COLLECTION`); the
    /// catalog of what was sent then lives in `index_dir/milvus/HOST_PORT_COLLECTION`.
    pub backend: Option<String>,
    /// The remote index's token (`user:password` or an API key), if it asks for one.
    pub backend_token: Option<String>,
    /// Build the vector graph one vector at a time in document order, so that the same
    /// documents always give the same graph (`lexsearch eval`; slower).
    pub exact_graph: bool,
    /// Keep the published graph in memory here, and start from it when it is still the
    /// current one: for a process that updates the same index again and again (`watch`).
    pub keep_graph: Option<crate::library::WarmGraph>,
}

impl IndexOptions {
    /// Whether this run follows links out of the folder: as asked, else as `recorded` (the
    /// manifest of the index built before) says, else not.
    fn follows_links(&self, recorded: Option<&crate::store::Manifest>) -> bool {
        self.follow_links
            .or_else(|| recorded.and_then(|m| m.follow_links))
            .unwrap_or(false)
    }

    /// Default options for indexing `root` into `root/.lexsearch`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        IndexOptions {
            index_dir: root.join(crate::library::DEFAULT_INDEX_DIR),
            root,
            settings: SettingsRequest::default(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            rebuild: false,
            wait: false,
            only_files: None,
            extract_threads: None,
            ocr: OcrMode::Auto,
            ocr_lang: None,
            follow_links: None,
            backend: None,
            backend_token: None,
            exact_graph: false,
            keep_graph: None,
        }
    }
}

/// Receives progress events from an index run (a progress bar, or nothing).
pub trait Progress: Sync {
    /// `files` files need reading (the others are unchanged).
    fn started(&self, _files: usize) {}
    /// A file was extracted and chunked (or skipped).
    fn file_done(&self, _path: &Path) {}
    /// `n` more chunks have vectors, `embedded` of them computed by the encoder in this run
    /// (the others reused from the index, an interrupted run, or a copy of their text).
    fn chunks_done(&self, _n: usize, _embedded: usize) {}
    /// A stage began ("building the vector graph", "waiting for process N", ...).
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
    /// The index folder (with a remote backend: its local catalog of what was sent).
    pub index: PathBuf,
    /// The remote index the chunks were sent to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// With a remote index: chunks upserted in this run and the seconds spent sending them
    /// (upserts, deletes and the final flush and commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_writes: Option<BackendWrites>,
    /// Model name.
    pub model: String,
    /// Device the encoder ran on.
    pub device: String,
    /// Number format the encoder computed in (`f32`, `f16`, `bf16`, `int8`).
    pub precision: String,
    /// Chunker settings the index is built with.
    pub chunker: crate::ingest::chunk::ChunkerConfig,
    /// Whether embedded texts carry the document title and breadcrumb.
    pub context_in_embedding: bool,
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
    /// Of `unchanged`, files whose modification time alone changed (copied, unpacked,
    /// checked out), found to hold the bytes the index recorded by hashing them: only their
    /// records took the new time, without reading them as documents.
    pub touched: usize,
    /// Unchanged documents read again because their format's reader changed since they were
    /// indexed ([`FileKind::reader_revision`](crate::ingest::walk::FileKind::reader_revision)).
    pub reread_by_newer_reader: usize,
    /// Chunks in the index after the run.
    pub chunks: usize,
    /// Chunks embedded in this run.
    pub chunks_embedded: usize,
    /// Chunks of new or changed files whose vectors were reused (same embedded text, from an
    /// earlier run or from another copy in this one).
    pub chunks_reused: usize,
    /// Removed vectors still in the graph (filtered at query time).
    pub tombstones: usize,
    /// Vectors added since the graph was written, searched exactly beside it (the segment).
    pub segment: usize,
    /// Whether the vector graph was rebuilt from the catalog in this run.
    pub graph_rebuilt: bool,
    /// Files that could not be indexed, with reasons.
    pub skipped: Vec<Skipped>,
    /// Files with no text (empty or whitespace only).
    pub empty: Vec<PathBuf>,
    /// Files ignored because their type is not supported.
    pub unsupported: usize,
    /// Files and folders left out by the folder's `.lexsearchignore` (a folder counts once).
    pub ignored: usize,
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
    /// Where the time went, stage by stage.
    pub timings: Timings,
}

/// Seconds an index run spent in each stage. Extraction, the encoder and the graph builder
/// run side by side on threads of their own during the pipeline, so their seconds overlap
/// each other and `pipeline`; the commit parts follow the pipeline one after the other.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    /// Starting the next generation before the pipeline: copying the catalog, linking the
    /// keyword index's files.
    pub staging: f64,
    /// Extracting and chunking files (summed over the extraction threads).
    pub extract: f64,
    /// The encoder embedding chunks (`encoder_seconds`).
    pub embed: f64,
    /// Loading the current graph to add vectors to it, on the graph builder's thread during
    /// staging and the pipeline (0 when the run added no vector).
    pub graph_load: f64,
    /// Inserting vectors into the graph, mostly while the encoder runs.
    pub graph_insert: f64,
    /// Wall time of the extract-chunk-embed pipeline, from the first file to the last
    /// document written.
    pub pipeline: f64,
    /// Wall time of the commit, after the pipeline (the sum of the four parts below).
    pub commit: f64,
    /// Committing the keyword index.
    pub commit_keyword: f64,
    /// Waiting for the graph builder's last insertions (and any rebuild or compaction).
    pub commit_graph: f64,
    /// Writing the graph and its flat search file (linking the current graph's files when
    /// the run added no vector).
    pub commit_dump: f64,
    /// Flushing the catalog, writing the manifest, publishing the generation.
    pub commit_publish: f64,
}

/// What an index run sent to a remote index.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BackendWrites {
    /// Chunks upserted.
    pub chunks_sent: usize,
    /// Seconds spent in upserts, deletes, flush and commit.
    pub seconds: f64,
    /// Chunks upserted per second of that time.
    pub chunks_per_second: f64,
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
    /// Tesseract's language(s) (`--ocr-lang`).
    pub lang: String,
    /// Unchanged documents read again because this run reads their pages differently: pages
    /// an earlier run left unread (no engine then), another `--ocr-lang`, or `--ocr always`
    /// asked for or dropped.
    pub documents_reread: usize,
}

/// The folder to index, absolute; [`Error::NotADirectory`] when it is not a folder (front
/// ends check it before they load a model).
pub fn folder_to_index(dir: &Path) -> Result<PathBuf> {
    let not = |why: String| Error::NotADirectory {
        path: dir.to_path_buf(),
        why,
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {
            let root =
                std::fs::canonicalize(dir).map_err(|e| not(format!("cannot be resolved: {e}")))?;
            if root.to_str().is_none() {
                // The index records its folder, and each document's path, as UTF-8 text.
                return Err(not(format!(
                    "has a path that is not valid UTF-8 ({}: an old Windows or Mac encoding?), \
                     which the index cannot record; rename the folder, for instance with \
                     `convmv -f cp1252 -t utf-8 --notest` (convmv's -f names the old encoding)",
                    root.display()
                )));
            }
            Ok(root)
        }
        Ok(m) if m.is_file() => {
            let parent = std::path::absolute(dir)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| PathBuf::from("."));
            Err(not(format!(
                "is a file, not a folder: lexsearch indexes folders; index the folder that \
                 holds it (`lexsearch index {}`), or a folder of its own",
                parent.display()
            )))
        }
        Ok(_) => Err(not("is not a folder".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not("does not exist".into())),
        Err(e) => Err(not(format!("cannot be read: {e}"))),
    }
}

/// The absolute folder to index (which must exist) and index folder of `opts`.
fn resolve(opts: &IndexOptions) -> Result<(PathBuf, PathBuf)> {
    let root = folder_to_index(&opts.root)?;
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
    let (root, mut index_dir) = resolve(opts)?;
    if let Some(url) = &opts.backend {
        // A remote index keeps its local catalog of what was sent in a folder of its own.
        index_dir = RemoteUrl::parse(url)?.catalog_dir(&index_dir);
    }
    build(opts, &root, &index_dir, started, embedder, progress)
        .map_err(|e| Library::at(&index_dir).diagnose_disk_full(e))
}

/// [`build_index`] into `index_dir`, of the folder `root`, both resolved.
fn build(
    opts: &IndexOptions,
    root: &Path,
    index_dir: &Path,
    started: Instant,
    embedder: &Embedder,
    progress: &dyn Progress,
) -> Result<IndexReport> {
    let remote = match &opts.backend {
        Some(url) => {
            let connected = remote::connect(url, opts.backend_token.clone())?;
            Some(Arc::new(remote::Timed::new(connected)))
        }
        None => None,
    };
    let backend = remote.as_ref().map(|r| r.name().to_string());
    let library = Library::at(index_dir);
    let waiting = |pid: Option<u32>| {
        progress.stage(&match pid {
            Some(pid) => format!("waiting for process {pid}, which is updating the index"),
            None => "waiting for another process, which is updating the index".to_string(),
        });
    };
    let wait = opts.wait.then_some(&waiting as &dyn Fn(Option<u32>));
    let mut txn = match &remote {
        Some(remote) => library.begin_remote(
            remote.clone(),
            &opts.settings,
            embedder.info(),
            opts.rebuild,
            wait,
        )?,
        None => library.begin(&opts.settings, embedder.info(), opts.rebuild, wait)?,
    };
    txn.set_root(root);
    let ocr_lang = opts
        .ocr_lang
        .clone()
        .or_else(|| txn.base_manifest().and_then(|m| m.ocr_lang.clone()))
        .unwrap_or_else(|| crate::ingest::ocr::DEFAULT_LANG.to_string());
    let ocr = OcrOptions::detect(opts.ocr, &ocr_lang, Some(&library.ocr_cache()));
    if let Some(engine) = &ocr.engine {
        // A language Tesseract has no data for would fail every scanned page: refused first.
        // (Tesseract that cannot list its languages fails page by page, each file named.)
        if let Ok((missing, installed)) = engine.missing_languages()
            && !missing.is_empty()
        {
            return Err(Error::OcrLanguage { missing, installed });
        }
    }
    txn.set_ocr_lang(&ocr_lang);
    let follow_links = opts.follows_links(txn.base_manifest());
    txn.set_follow_links(follow_links);
    let settings = txn.settings().clone();
    let max_tokens = embedder.info().max_seq_length.saturating_sub(2);
    settings
        .chunker
        .validate(max_tokens)
        .map_err(Error::InvalidSetting)?;

    let mut walked = walk(root, &library.own_paths(), follow_links);
    if let Some(only) = &opts.only_files {
        walked.files.retain(|f| only.contains(&f.rel));
    }
    // How this run reads a file: a file an earlier run could not read is read again when
    // this differs (another version of lexsearch, whose readers may have been mended;
    // another size limit; OCR now possible or asked for).
    let reading = format!(
        "lexsearch {}; at most {} bytes; OCR {:?}{}, {ocr_lang}",
        env!("CARGO_PKG_VERSION"),
        opts.max_file_bytes,
        opts.ocr,
        if ocr.engine.is_some() {
            " with Tesseract"
        } else {
            ""
        },
    );
    let base_unreadable = match txn.base_manifest() {
        Some(m) if txn.incremental() => m.unreadable.clone(),
        _ => Vec::new(),
    };
    let known = plan::Known::new(if txn.incremental() {
        txn.base_documents()?
    } else {
        Vec::new()
    })
    .with_rereads(|rec| ocr.reads_differently(rec.ocr.as_ref()) || rec.read_by_an_older_reader())
    .with_unreadable(&base_unreadable, reading);
    let mut plan = known.plan(walked.files);
    // Touched files whose bytes are as recorded take their new time without being read.
    let same_size = (plan.to_read.iter())
        .filter(|f| known.get(&f.rel).is_some_and(|(_, r)| r.size == f.size))
        .count();
    if same_size > 0 && txn.incremental() {
        progress.stage(&format!(
            "hashing {same_size} files of their recorded size whose time changed"
        ));
    }
    let touched = match txn.incremental() {
        true => known.take_touched(&mut plan.to_read, opts.max_file_bytes),
        false => Vec::new(),
    };
    let mut report = IndexReport {
        root: root.to_path_buf(),
        index: index_dir.to_path_buf(),
        backend,
        backend_writes: None,
        model: embedder.info().name.clone(),
        device: crate::embed::device_name(embedder.device()).into(),
        precision: embedder.precision_name().to_string(),
        chunker: settings.chunker,
        context_in_embedding: settings.context_in_embedding,
        files_indexed: 0,
        added: 0,
        changed: 0,
        removed: 0,
        unchanged: plan.unchanged + touched.len(),
        touched: touched.len(),
        reread_by_newer_reader: 0,
        chunks: 0,
        chunks_embedded: 0,
        chunks_reused: 0,
        tombstones: 0,
        segment: 0,
        graph_rebuilt: false,
        skipped: walked.skipped,
        empty: Vec::new(),
        unsupported: walked.unsupported,
        ignored: walked.ignored,
        seconds: 0.0,
        chunks_per_second: 0.0,
        encoder_seconds: 0.0,
        encoder_busy_percent: 0.0,
        ocr: OcrReport::default(),
        timings: Timings::default(),
    };
    // Unreadable as an earlier run found them, and unchanged: reported as they were.
    for u in &plan.still_unreadable {
        let path = root.join(&u.file);
        if u.reason == pipeline::NO_TEXT {
            report.empty.push(path);
        } else {
            report.skipped.push(Skipped {
                path,
                reason: format!("{} (not read again: unchanged since)", u.reason),
            });
        }
    }
    let limits = ExtractLimits {
        max_bytes: opts.max_file_bytes,
        ocr,
        ..ExtractLimits::default()
    };
    report.ocr.mode = opts.ocr;
    report.ocr.lang = ocr_lang;
    report.ocr.engine_found = limits.ocr.engine.is_some();
    let stage = |what: &str| progress.stage(what);
    // Something added, changed or removed, the folder moved, or a keyword index or a
    // generation without a documents file, of an earlier version: a new generation. Else the
    // index stays as it is (commit keeps it).
    if !txn.incremental()
        || !plan.is_empty()
        || !touched.is_empty()
        || txn.root_changed()
        || txn.keyword_outdated()
        || txn.documents_missing()
    {
        let how = if txn.incremental() {
            Staging::Copy
        } else {
            Staging::Fresh
        };
        if !embedder.device().is_cpu() {
            // An encoder on a GPU outruns one keyword-indexing thread (about 10,000 chunks/s);
            // the CPU's cores are free for more.
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            txn.set_keyword_threads(cores / 4);
        }
        txn.set_exact_graph(opts.exact_graph);
        if let Some(warm) = &opts.keep_graph {
            txn.keep_graph_in(warm.clone());
        }
        // New or resized files will most likely add vectors: the graph loads beside the run.
        // Removals and touched files alone leave it as it is (it loads if a vector comes).
        txn.set_expect_vectors(known.expects_vectors(&plan.to_read));
        txn.stage(how, &stage)?;
        for rel in &plan.unreadable_done {
            txn.forget_unreadable(rel)?;
        }
        for (id, record) in &touched {
            txn.touch(*id, record)?;
        }
        // Only a run with files to read looks vectors up (in a catalog of an earlier version,
        // without an index of embedded-text hashes, opening reads every chunk record).
        let reuse = match plan.to_read.is_empty() {
            true => reuse::Reuse::none(),
            false => reuse::Reuse::open(txn.reuse_sources()),
        };
        for id in &plan.gone {
            txn.remove_document(*id)?;
            report.removed += 1;
        }
        progress.started(plan.to_read.len());
        let pipeline_started = Instant::now();
        let input = pipeline::Input {
            files: plan.to_read,
            root,
            chunker: settings.chunker,
            context: settings.context_in_embedding,
            limits,
            extract_threads: opts.extract_threads,
        };
        pipeline::run(
            input,
            &mut txn,
            &known,
            &reuse,
            embedder,
            &mut report,
            progress,
        )?;
        let pipeline = pipeline_started.elapsed().as_secs_f64();
        report.encoder_busy_percent = 100.0 * report.encoder_seconds / pipeline.max(1e-9);
        report.timings.pipeline = pipeline;
        report.timings.embed = report.encoder_seconds;
    }
    let committed = txn.commit(&stage)?;
    let t = committed.timings;
    report.timings.staging = t.staging;
    report.timings.graph_insert = t.graph_insert;
    report.timings.graph_load = t.graph_load;
    report.timings.commit_keyword = t.keyword;
    report.timings.commit_graph = t.graph;
    report.timings.commit_dump = t.dump;
    report.timings.commit_publish = t.publish;
    report.timings.commit = t.keyword + t.graph + t.dump + t.publish;
    report.files_indexed = committed.documents;
    report.chunks = committed.chunks;
    report.tombstones = committed.tombstones;
    report.segment = committed.segment;
    report.graph_rebuilt = committed.graph_rebuilt;
    report.backend_writes = remote.map(|r| {
        let (seconds, chunks_sent) = r.writes();
        BackendWrites {
            chunks_sent,
            seconds,
            chunks_per_second: chunks_sent as f64 / seconds.max(1e-9),
        }
    });
    report.seconds = started.elapsed().as_secs_f64();
    report.chunks_per_second = report.chunks_embedded as f64 / report.seconds.max(1e-9);
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    report.empty.sort();
    Ok(report)
}

/// A file (or an e-mail's attachment) that `index --dry-run` would index, with what its
/// extraction gave.
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
    /// Files that would be indexed, sorted by relative path, each e-mail followed by its
    /// attachments (`mail.eml#a.pdf`).
    pub files: Vec<DryRunFile>,
    /// Files that would be skipped, with reasons.
    pub skipped: Vec<Skipped>,
    /// Files with no text (empty or whitespace only).
    pub empty: Vec<PathBuf>,
    /// Files ignored because their type is not supported.
    pub unsupported: usize,
    /// Files and folders left out by the folder's `.lexsearchignore` (a folder counts once).
    pub ignored: usize,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Walks and extracts like [`build_index`], but loads no model, embeds nothing and writes
/// nothing: the report says what an index run would take in and what it would skip.
pub fn dry_run(opts: &IndexOptions) -> Result<DryRunReport> {
    let started = Instant::now();
    let (root, index_dir) = resolve(opts)?;
    let library = Library::at(&index_dir);
    let follow_links = opts.follows_links(library.manifest().ok().as_ref());
    let walked = walk(&root, &library.own_paths(), follow_links);
    let mut report = DryRunReport {
        root,
        files: Vec::new(),
        skipped: walked.skipped,
        empty: Vec::new(),
        unsupported: walked.unsupported,
        ignored: walked.ignored,
        seconds: 0.0,
    };
    // The index run's own limits, without OCR: a dry run reads what a run would read, an
    // e-mail's attachments included (`mail.eml#a.pdf`), but recognises no page images.
    let limits = ExtractLimits {
        max_bytes: opts.max_file_bytes,
        ..ExtractLimits::default()
    };
    // Each document's text is dropped once counted (an Outlook data file's come one message
    // at a time).
    for source in &walked.files {
        extract_file_each(source, &limits, &mut |doc| {
            let file = doc.file;
            match doc.result {
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
            true
        });
    }
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
