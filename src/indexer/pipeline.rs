//! The pipeline of an index run, in three stages that keep the encoder busy: extraction and
//! chunking (one thread, or all cores but one when the encoder is on a GPU); this thread,
//! which classifies documents, tokenizes their texts and writes finished ones through the
//! write transaction; and the encoder on a thread of its own. Bounded channels between them
//! keep memory flat; documents are written in file order.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use super::plan::{Classified, Known};
use super::reuse::Reuse;
use super::{IndexReport, Progress};
use crate::embed::{Embedder, Tokenized};
use crate::ids::DocId;
use crate::index::keyword::Place;
use crate::ingest::Skipped;
use crate::ingest::chunk::{Chunk, ChunkerConfig, chunk_text};
use crate::ingest::extract::{Document, ExtractError, ExtractLimits, Extracted, extract_file_each};
use crate::ingest::ocr::PageOcr;
use crate::ingest::walk::{FileKind, SourceFile};
use crate::library::Transaction;
use crate::store::{ChunkRecord, DocRecord, UnreadableFile};

/// The reason recorded for a file that held no text ([`UnreadableFile::reason`]).
pub(super) const NO_TEXT: &str = "no text";
use crate::{Error, Result};

/// How many chunk texts to gather before running the encoder (at least four batches).
const EMBED_GROUP: usize = 64;

/// One extracted and chunked document on its way to the encoder.
struct Prepared {
    file: SourceFile,
    extracted: Extracted,
    title: String,
    chunks: Vec<Chunk>,
    /// For a PDF: how its pages were read.
    ocr: Option<PageOcr>,
}

enum Message {
    Doc(Box<Prepared>),
    /// A file that gives no document, and whether it would fail so again ([`ExtractError::lasting`]).
    Skip(Skipped, bool),
    Empty(std::path::PathBuf),
    /// Pages OCR'd, and pages that needed OCR and did not get it, in one document.
    Ocr {
        done: usize,
        needed: usize,
    },
    /// Every document of this file (attachments included) was sent, after this many seconds
    /// of extraction and chunking.
    FileDone(std::path::PathBuf, f64),
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

/// Documents sent to the encoder together, and for each text they need (in order) the index
/// of its vector among those the encoder returns: a text that occurs more than once in the
/// group is embedded once.
struct InFlight {
    docs: Vec<Embedding>,
    slots: Vec<usize>,
}

/// Documents waiting for their vectors, embedded together so batches are full.
#[derive(Default)]
struct Pending {
    docs: Vec<Embedding>,
    texts: usize,
}

/// What the encoder thread sends back for a group: its vectors, in order, and the seconds
/// it took.
type Embedded = Result<(Vec<Vec<f32>>, f64)>;

/// What the pipeline reads: the files, and how to chunk and embed them.
pub(super) struct Input<'a> {
    /// Files to read, in walk order.
    pub files: Vec<SourceFile>,
    /// The indexed folder.
    pub root: &'a Path,
    /// Chunker settings.
    pub chunker: ChunkerConfig,
    /// Embed the title and breadcrumb with each chunk.
    pub context: bool,
    /// Size limit, time budget and OCR of the extractors.
    pub limits: ExtractLimits,
    /// Extraction threads (`None`: by device).
    pub extract_threads: Option<usize>,
}

/// Runs the pipeline over `input.files`, writing every document through `txn`, and counts
/// what it did in `report`.
pub(super) fn run(
    input: Input<'_>,
    txn: &mut Transaction,
    known: &Known,
    reuse: &Reuse,
    embedder: &Embedder,
    report: &mut IndexReport,
    progress: &dyn Progress,
) -> Result<()> {
    let Input {
        files,
        root,
        chunker,
        context,
        mut limits,
        extract_threads,
    } = input;
    let mut writer = Writer {
        sources: files.iter().map(|f| (f.rel.clone(), f.clone())).collect(),
        txn,
        known,
        file_docs: Default::default(),
        context,
        embedder,
        report,
        progress,
        embedded: Default::default(),
    };
    let producers = extract_threads.map_or_else(|| producer_threads(embedder), |n| n.max(1));
    let group = EMBED_GROUP.max(4 * embedder.batch_size());
    std::thread::scope(|scope| -> Result<()> {
        // Stage 1: extraction and chunking, on their own thread(s), in file order.
        let (tx, rx) = mpsc::sync_channel::<Message>(32);
        let page_tx = tx.clone();
        limits.ocr.on_page = Some(std::sync::Arc::new(move || {
            let _ = page_tx.send(Message::OcrPage);
        }));
        // Moved into the producer: its OCR hook's sender closes with it, which ends `rx`.
        // Threads are named for profilers and scripts/thread-times.
        std::thread::Builder::new()
            .name("extract".into())
            .spawn_scoped(scope, move || {
                produce(files, embedder, &chunker, &limits, producers, &tx);
            })
            .map_err(|e| Error::io("start a thread for", root, e))?;
        let mut ocr_pages_read = 0;
        // Stage 2: the encoder, on its own thread, one group of texts at a time. Stage 3,
        // this thread, classifies and tokenizes the next group and writes finished ones
        // meanwhile.
        let (jobs, job_rx) = mpsc::sync_channel::<Tokenized>(1);
        let (done_tx, done) = mpsc::channel::<Embedded>();
        let encoder = move || {
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
        };
        std::thread::Builder::new()
            .name("encoder".into())
            .spawn_scoped(scope, encoder)
            .map_err(|e| Error::io("start a thread for", root, e))?;
        let mut pending = Pending::default();
        let mut in_flight = VecDeque::new();
        for msg in rx {
            if progress.cancelled() {
                // Vectors already computed are kept: the next run reuses them. Texts not yet
                // sent to the encoder are left for it.
                writer.write_embedded(&done, &mut in_flight, true)?;
                return Err(Error::Cancelled);
            }
            match msg {
                Message::FileDone(p, seconds) => {
                    writer.report.timings.extract += seconds;
                    writer.file_done(&p, root)?;
                    progress.file_done(&p);
                }
                Message::OcrPage => {
                    ocr_pages_read += 1;
                    progress.ocr_page_done(ocr_pages_read);
                }
                Message::Ocr { done, needed } => {
                    writer.report.ocr.pages_ocr += done;
                    writer.report.ocr.pages_needing_ocr += needed;
                }
                Message::Skip(s, lasting) => {
                    writer.saw(&s.path, root);
                    writer.drop_unreadable(&s.path, root, lasting.then_some(&s.reason))?;
                    writer.report.skipped.push(s);
                }
                Message::Empty(p) => {
                    writer.saw(&p, root);
                    writer.drop_unreadable(&p, root, Some(NO_TEXT))?;
                    writer.report.empty.push(p);
                }
                Message::Doc(doc) => {
                    writer.file_docs.insert(doc.file.rel.clone());
                    let Some(doc) = writer.classify(*doc)? else {
                        continue;
                    };
                    let doc = writer.embedding_texts(doc, reuse)?;
                    pending.texts += doc.vectors.iter().filter(|v| v.is_none()).count();
                    pending.docs.push(doc);
                    if pending.texts >= group {
                        writer.submit(&mut pending, &jobs, &mut in_flight)?;
                        writer.write_embedded(&done, &mut in_flight, false)?;
                    }
                }
            }
        }
        writer.submit(&mut pending, &jobs, &mut in_flight)?;
        drop(jobs);
        writer.write_embedded(&done, &mut in_flight, true)
    })
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
                .thread_name(|i| format!("extract-{i}"))
                .build()
                .ok()
        })
        .flatten();
    let mut send = |msg| tx.send(msg).is_ok();
    let Some(pool) = pool else {
        for file in files {
            if !prepare(file, embedder, chunker, limits, &mut send) {
                return;
            }
        }
        return;
    };
    let mut files = files.into_iter().peekable();
    loop {
        // Small groups keep the order and bound the memory; a slow file delays only its group.
        // An Outlook data file, which may hold gigabytes of mail, is prepared alone after the
        // files before it, its messages sent as they come.
        let mut group: Vec<SourceFile> = Vec::new();
        while group.len() < threads * 4 {
            match files.next_if(|f| f.kind != FileKind::Pst) {
                Some(f) => group.push(f),
                None => break,
            }
        }
        let prepared: Vec<Message> = pool.install(|| {
            use rayon::prelude::*;
            group
                .into_par_iter()
                .flat_map_iter(|f| {
                    let mut out = Vec::new();
                    prepare(f, embedder, chunker, limits, &mut |m| {
                        out.push(m);
                        true
                    });
                    out
                })
                .collect()
        });
        for msg in prepared {
            if !send(msg) {
                return;
            }
        }
        if let Some(f) = files.next_if(|f| f.kind == FileKind::Pst) {
            if !prepare(f, embedder, chunker, limits, &mut send) {
                return;
            }
        } else if files.peek().is_none() {
            return;
        }
    }
}

/// Extracts and chunks one file and its attachments (runs on a producer thread), giving
/// `send` one message per document as it is ready, OCR counts, then [`Message::FileDone`].
/// False when `send` refused one (the receiver is gone).
fn prepare(
    file: SourceFile,
    embedder: &Embedder,
    chunker: &ChunkerConfig,
    limits: &ExtractLimits,
    send: &mut dyn FnMut(Message) -> bool,
) -> bool {
    let started = Instant::now();
    let mut open = true;
    extract_file_each(&file, limits, &mut |doc| {
        open = prepare_document(doc, embedder, chunker, limits)
            .into_iter()
            .all(&mut *send);
        open
    });
    open && send(Message::FileDone(
        file.path,
        started.elapsed().as_secs_f64(),
    ))
}

/// The messages of one extracted document: its chunks (or why it has none) and OCR counts.
fn prepare_document(
    doc: Document,
    embedder: &Embedder,
    chunker: &ChunkerConfig,
    limits: &ExtractLimits,
) -> Vec<Message> {
    let mut out = Vec::new();
    let (sub, extracted) = match doc.result {
        Ok(x) => (doc.file, x),
        Err(ExtractError::Empty) => {
            out.push(Message::Empty(doc.file.path));
            return out;
        }
        Err(e) => {
            if let ExtractError::NeedsOcr { pages } = e {
                out.push(Message::Ocr {
                    done: 0,
                    needed: pages,
                });
            }
            let lasting = e.lasting();
            out.push(Message::Skip(
                Skipped {
                    path: doc.file.path,
                    reason: e.to_string(),
                },
                lasting,
            ));
            return out;
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
        // A CSV file's first line is its column names, and a presentation's is "Slide 1"
        // when no slide has a title: not titles; the file's name says more.
        .or_else(|| {
            (!matches!(sub.kind, FileKind::Csv | FileKind::Slides))
                .then(|| first_line(&extracted.text))?
        })
        .unwrap_or_else(|| sub.rel.display().to_string());
    let ocr = (sub.kind == FileKind::Pdf).then(|| {
        limits
            .ocr
            .record(extracted.ocr_pages, extracted.pages_needing_ocr)
    });
    out.push(Message::Doc(Box::new(Prepared {
        file: sub,
        extracted,
        title,
        chunks,
        ocr,
    })));
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
    // A Maildir message's file name has no words: its subject alone says what it is.
    let mut out = match stem.is_empty() {
        true => format!("{title}\n"),
        false => format!("{stem}: {title}\n"),
    };
    if !crumbs.is_empty() {
        out.push_str(&crumbs.join(" > "));
        out.push('\n');
    }
    out.push_str(text);
    out
}

/// Writes prepared documents through the transaction.
struct Writer<'a> {
    /// The files of this run, by relative path (for the records of unreadable ones).
    sources: std::collections::HashMap<std::path::PathBuf, SourceFile>,
    txn: &'a mut Transaction,
    known: &'a Known,
    /// The documents the file being read gave so far (itself, its attachments).
    file_docs: std::collections::HashSet<std::path::PathBuf>,
    context: bool,
    embedder: &'a Embedder,
    report: &'a mut IndexReport,
    progress: &'a dyn Progress,
    /// Texts embedded in this run, by their hash's 32 bytes (a third of the hex's memory),
    /// with the document and chunk that stored the vector: a later chunk of the same text (a
    /// file copied into several folders, an attachment sent many times) takes it instead of
    /// being embedded again.
    embedded: std::collections::HashMap<blake3::Hash, (DocId, usize)>,
}

impl Writer<'_> {
    /// Notes a document of the file being read (at `path`, under `root`).
    fn saw(&mut self, path: &Path, root: &Path) {
        let rel = path.strip_prefix(root).unwrap_or(path);
        self.file_docs.insert(rel.to_path_buf());
    }

    /// Every document of the file at `path` was seen: an attachment the index has for it
    /// that the file no longer holds (an e-mail sent again without it) leaves the index.
    fn file_done(&mut self, path: &Path, root: &Path) -> Result<()> {
        let rel = path.strip_prefix(root).unwrap_or(path);
        let dropped: Vec<DocId> = self
            .known
            .contained_in(rel)
            .filter(|(doc, _)| !self.file_docs.contains(*doc))
            .map(|(_, id)| id)
            .collect();
        for id in dropped {
            self.txn.remove_document(id)?;
            self.report.removed += 1;
        }
        self.file_docs.clear();
        Ok(())
    }

    /// A file that is now unreadable or empty leaves the index; with a lasting `reason`
    /// ([`ExtractError::lasting`]), a file of its own (not an e-mail's attachment) is
    /// recorded as unreadable, so that the next run reads it again only once it changed.
    fn drop_unreadable(&mut self, path: &Path, root: &Path, reason: Option<&str>) -> Result<()> {
        let rel = path.strip_prefix(root).unwrap_or(path);
        if let Some((id, _)) = self.known.get(rel) {
            self.txn.remove_document(*id)?;
            self.report.removed += 1;
        }
        if let (Some(source), Some(reason)) = (self.sources.get(rel), reason) {
            self.txn.set_unreadable(UnreadableFile {
                file: rel.to_path_buf(),
                size: source.size,
                mtime_ns: source.mtime_ns,
                reason: reason.to_string(),
                read_with: self.known.read_with(source),
            })?;
        }
        Ok(())
    }

    /// Decides what a read file is: unchanged content (only its record is updated; `None`),
    /// changed (the old version is removed) or new.
    fn classify(&mut self, doc: Prepared) -> Result<Option<Prepared>> {
        let mail = doc.extracted.mail.as_ref();
        match self
            .known
            .classify(&doc.file, &doc.extracted.content_hash, mail)
        {
            Classified::Unchanged(id, rec) => {
                self.txn.touch(id, &rec)?;
                self.report.unchanged += 1;
                Ok(None)
            }
            Classified::Changed(id) => {
                self.txn.remove_document(id)?;
                self.report.changed += 1;
                Ok(Some(doc))
            }
            Classified::Reread(id) => {
                // Read again by a newer reader of its format, or under other e-mail headers
                // (which its chunks carry: changed), or else for OCR.
                let (newer_reader, other_headers) = self
                    .known
                    .get(&doc.file.rel)
                    .map_or((false, false), |(_, rec)| {
                        (rec.read_by_an_older_reader(), rec.mail.as_deref() != mail)
                    });
                self.txn.remove_document(id)?;
                if newer_reader {
                    self.report.reread_by_newer_reader += 1;
                } else if other_headers {
                    self.report.changed += 1;
                } else {
                    self.report.ocr.documents_reread += 1;
                }
                Ok(Some(doc))
            }
            Classified::New => {
                self.report.added += 1;
                Ok(Some(doc))
            }
        }
    }

    /// The texts to embed for a document's chunks, with vectors reused where an earlier run,
    /// or this one, embedded exactly the same text.
    fn embedding_texts(&mut self, doc: Prepared, reuse: &Reuse) -> Result<Embedding> {
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
            let vector = match reuse.vector(&hash) {
                Some(v) => Some(v),
                None => match blake3::Hash::from_hex(&hash)
                    .ok()
                    .and_then(|k| self.embedded.get(&k))
                {
                    Some(&(doc, ordinal)) => self.txn.added_vector(doc, ordinal)?,
                    None => None,
                },
            };
            vectors.push(vector);
            hashes.push(hash);
            texts.push(t);
        }
        Ok(Embedding {
            doc,
            texts,
            hashes,
            vectors,
        })
    }

    /// Tokenizes the texts the pending documents need, each distinct text once, and hands
    /// them to the encoder thread; the documents wait in `in_flight` for their vectors.
    fn submit(
        &mut self,
        pending: &mut Pending,
        jobs: &mpsc::SyncSender<Tokenized>,
        in_flight: &mut VecDeque<InFlight>,
    ) -> Result<()> {
        let docs = std::mem::take(&mut pending.docs);
        pending.texts = 0;
        if docs.is_empty() {
            return Ok(());
        }
        let mut distinct: Vec<&str> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let slots = docs
            .iter()
            .flat_map(|d| d.texts.iter().zip(&d.hashes).zip(&d.vectors))
            .filter(|(_, v)| v.is_none())
            .map(|((t, h), _)| {
                *index.entry(h.as_str()).or_insert_with(|| {
                    distinct.push(t.as_str());
                    distinct.len() - 1
                })
            })
            .collect();
        let tokenized = self.embedder.tokenize(&distinct)?;
        jobs.send(tokenized).map_err(|_| encoder_stopped())?;
        in_flight.push_back(InFlight { docs, slots });
        Ok(())
    }

    /// Writes the in-flight groups whose vectors are back, oldest first; with `wait`, all of
    /// them, waiting for the encoder.
    fn write_embedded(
        &mut self,
        done: &mpsc::Receiver<Embedded>,
        in_flight: &mut VecDeque<InFlight>,
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
            if let Some(group) = in_flight.pop_front() {
                self.write_group(group, vectors)?;
            }
        }
        Ok(())
    }

    /// Writes a group of documents, taking the vectors of their new texts from `fresh` (one
    /// per distinct text, as [`InFlight::slots`] maps them).
    fn write_group(&mut self, group: InFlight, fresh: Vec<Vec<f32>>) -> Result<()> {
        let short = || crate::embed::ModelError::Inference("fewer vectors than texts".into());
        if group.slots.iter().any(|&i| i >= fresh.len()) {
            return Err(short().into());
        }
        self.report.chunks_embedded += fresh.len();
        let mut slots = group.slots.into_iter();
        let mut first_use = vec![true; fresh.len()];
        for d in group.docs {
            let n = d.doc.chunks.len();
            let mut vectors = Vec::with_capacity(n);
            // The chunks whose vector the encoder computed here, for later copies of the text.
            let mut computed = Vec::new();
            for (ordinal, v) in d.vectors.into_iter().enumerate() {
                match v {
                    Some(v) => {
                        self.report.chunks_reused += 1;
                        vectors.push(v);
                    }
                    None => {
                        let i = slots.next().ok_or_else(short)?;
                        if std::mem::take(&mut first_use[i]) {
                            computed.push(ordinal);
                        } else {
                            self.report.chunks_reused += 1;
                        }
                        vectors.push(fresh[i].clone());
                    }
                }
            }
            let keys: Vec<(blake3::Hash, usize)> = computed
                .iter()
                .filter_map(|&o| Some((blake3::Hash::from_hex(&d.hashes[o]).ok()?, o)))
                .collect();
            let (record, chunks) = records(d.doc, d.hashes, vectors);
            let doc = self.txn.add_document(record, chunks)?;
            let embedded = computed.len();
            for (key, ordinal) in keys {
                self.embedded.entry(key).or_insert((doc, ordinal));
            }
            self.progress.chunks_done(n, embedded);
        }
        Ok(())
    }
}

/// A prepared document's catalog records: the one place a chunk becomes a record (the
/// transaction hands out the ids).
fn records(
    doc: Prepared,
    hashes: Vec<String>,
    vectors: Vec<Vec<f32>>,
) -> (DocRecord, Vec<(ChunkRecord, Vec<f32>)>) {
    let Prepared {
        file,
        extracted,
        title,
        chunks,
        ocr,
    } = doc;
    let records = chunks
        .into_iter()
        .zip(hashes)
        .zip(vectors)
        .map(|((c, embedded_hash), v)| {
            let place = Place::locate(&c.range, &extracted.pages, &extracted.paragraphs);
            let rec = ChunkRecord {
                doc: crate::DocId(0),
                ordinal: 0,
                start: c.range.start,
                end: c.range.end,
                line: c.line,
                page: place.page,
                page_end: place.page_end,
                paragraph: place.paragraph,
                page_breaks: Place::page_breaks(&c.range, &extracted.pages),
                breadcrumb: c.breadcrumb,
                text: extracted.text[c.range].to_string(),
                embedded_hash,
            };
            (rec, v)
        })
        .collect();
    let record = DocRecord {
        rel: file.rel,
        kind: file.kind,
        content_hash: extracted.content_hash,
        size: file.size,
        mtime_ns: file.mtime_ns,
        title,
        decoded_from: extracted.decoded_from.map(String::from),
        chunks: Vec::new(),
        mail: extracted.mail.map(Box::new),
        ocr,
        reader: file.kind.reader_revision(),
    };
    (record, records)
}
