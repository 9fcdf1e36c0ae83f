//! The search thread and the preview thread behind the TUI.
//!
//! The search thread owns the [`Embedder`] (used from this thread only), runs requests
//! through the same [`Searcher::search`] as the CLI, reads each text or Markdown hit's file for
//! its preview, and sends the outcome back as [`Action::Results`]. The preview thread then
//! reads the documents whose files are not their text (PDF, Word, HTML, e-mail) as the index
//! read them ([`Documents`], shared by both), best hit first, and sends each such hit's
//! preview inside its document as [`Action::Preview`], until a newer request comes. A
//! document slow to read (a long PDF, a file on a network share that stalls) delays only its
//! own preview: the next search runs meanwhile.
//!
//! Requests queue up while a search runs; only the newest is run, since the app drops results
//! of older ones anyway. The model is loaded at start when the first mode needs it (in the
//! background, so typing never waits), else on the first search that needs it: keyword search
//! works without it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};

use crate::embed::{DeviceSpec, Embedder, Precision};
use crate::error::{Error, chain};
use crate::ingest::walk::FileKind;
use crate::search::citation::CrossReference;
use crate::search::documents::Documents;
use crate::search::{Hit, SearchRequest, Searcher};

use super::action::{Action, Failure, Found, Level, Outcome};
use super::preview::Preview;

/// Documents larger than this are not read for previews (the chunk alone is shown).
pub const MAX_PREVIEW_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One request for the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// A search, answered with [`Action::Results`] (then [`Action::Preview`]s).
    Search {
        /// The app's sequence number for it.
        seq: u64,
        /// What to search for.
        request: SearchRequest,
    },
    /// The section of a hit's document that its passage refers to, answered with
    /// [`Action::Section`].
    Section {
        /// The sequence number of the search that found the hit.
        seq: u64,
        /// The hit.
        hit: Box<Hit>,
        /// Which of its references.
        index: usize,
        /// The reference.
        reference: CrossReference,
        /// The query, whose words the preview marks.
        query: String,
    },
}

/// Where the embedding model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSource {
    /// The model folder: the index's own, unless the user named another.
    pub dir: PathBuf,
    /// Where the encoder runs.
    pub device: DeviceSpec,
    /// Its number format: the index's own (int8 for an int8 index, else the default).
    pub precision: Precision,
    /// Load it as soon as the thread starts (the first mode needs it), not on first use.
    pub preload: bool,
}

/// Starts the search thread and the preview thread. They send [`Action`]s to `actions` and
/// stop when the returned sender is dropped (or `actions`' receiver is); the preview thread
/// once the document it reads, if any, is read.
pub fn spawn(
    searcher: Searcher,
    model: ModelSource,
    actions: Sender<Action>,
) -> std::io::Result<Sender<Job>> {
    let (jobs, inbox) = mpsc::channel();
    let (previews, to_preview) = mpsc::channel();
    let docs = Arc::new(Documents::new(searcher));
    let latest = Arc::new(AtomicU64::new(0));
    let reader = Previewer {
        docs: docs.clone(),
        latest: latest.clone(),
        actions: actions.clone(),
    };
    std::thread::Builder::new()
        .name("lexsearch-preview".into())
        .spawn(move || reader.serve(&to_preview))?;
    std::thread::Builder::new()
        .name("lexsearch-search".into())
        .spawn(move || {
            let mut worker = Worker {
                docs,
                model,
                embedder: None,
                model_error: None,
                actions,
                previews,
                latest,
            };
            worker.serve(inbox);
        })?;
    Ok(jobs)
}

struct Worker {
    /// The index's searcher and its documents (shared with the preview thread).
    docs: Arc<Documents>,
    model: ModelSource,
    embedder: Option<Embedder>,
    model_error: Option<String>,
    actions: Sender<Action>,
    /// The hits of each outcome whose previews must read their documents.
    previews: Sender<PreviewJob>,
    /// The newest request's sequence number, set as it arrives.
    latest: Arc<AtomicU64>,
}

/// Hits to preview inside their documents, for the request `seq`.
struct PreviewJob {
    seq: u64,
    query: String,
    hits: Vec<Hit>,
}

/// The preview thread: reads the documents of the newest outcome's hits, best first, and
/// sends their previews; a list is left as soon as a newer request arrives.
struct Previewer {
    docs: Arc<Documents>,
    /// The newest request's sequence number (the search thread sets it).
    latest: Arc<AtomicU64>,
    actions: Sender<Action>,
}

impl Previewer {
    fn serve(&self, inbox: &Receiver<PreviewJob>) {
        while let Ok(mut job) = inbox.recv() {
            while let Ok(newer) = inbox.try_recv() {
                job = newer;
            }
            let current = || self.latest.load(Ordering::Acquire) == job.seq;
            for hit in &job.hits {
                if !current() {
                    break;
                }
                let Ok(extracted) = self.docs.indexed_text(&hit.file) else {
                    continue;
                };
                let preview = Preview::build(hit, Some(&extracted.text), &job.query);
                if !preview.from_file || !current() {
                    continue;
                }
                let action = Action::Preview {
                    seq: job.seq,
                    chunk_id: hit.chunk_id,
                    preview,
                };
                if self.actions.send(action).is_err() {
                    return;
                }
            }
        }
    }
}

impl Worker {
    fn serve(&mut self, inbox: Receiver<Job>) {
        if self.model.preload {
            // A failure is reported by the first search that needs the model.
            let _ = self.ensure_model();
        }
        let mut waiting = std::collections::VecDeque::new();
        loop {
            let Some(job) = waiting.pop_front().or_else(|| inbox.recv().ok()) else {
                break;
            };
            // Of the searches queued, the newest alone is run; sections are read in turn.
            let (mut seq, mut request) = match job {
                Job::Search { seq, request } => (seq, request),
                Job::Section { .. } => {
                    self.read_section(job);
                    continue;
                }
            };
            while let Ok(newer) = inbox.try_recv() {
                match newer {
                    Job::Search { seq: s, request: r } => (seq, request) = (s, r),
                    section => waiting.push_back(section),
                }
            }
            // The preview thread leaves the list it reads.
            self.latest.store(seq, Ordering::Release);
            let (result, unread) = self.run(&request);
            if self.actions.send(Action::Results { seq, result }).is_err() {
                break;
            }
            // The other documents are read as indexed by the preview thread (gone only if
            // that thread panicked: the chunks alone stay shown).
            let _ = self.previews.send(PreviewJob {
                seq,
                query: request.query.clone(),
                hits: unread,
            });
        }
    }

    /// Reads the section a [`Job::Section`] names on a thread of its own (its document may be
    /// slow to read, and searches go on meanwhile), and sends it as [`Action::Section`].
    fn read_section(&self, job: Job) {
        let Job::Section {
            seq,
            hit,
            index,
            reference,
            query,
        } = job
        else {
            return;
        };
        let docs = self.docs.clone();
        let actions = self.actions.clone();
        let chunk_id = hit.chunk_id;
        let spawned = std::thread::Builder::new()
            .name("lexsearch-section".into())
            .spawn(move || {
                let result = section_found(&docs, &hit, &reference, &query).map(Box::new);
                let _ = actions.send(Action::Section {
                    seq,
                    chunk_id,
                    index,
                    result,
                });
            });
        if let Err(e) = spawned {
            let _ = self.actions.send(Action::Section {
                seq,
                chunk_id,
                index,
                result: Err(format!("cannot start reading the section: {e}")),
            });
        }
    }

    fn ensure_model(&mut self) -> Result<(), String> {
        if self.embedder.is_some() {
            return Ok(());
        }
        if let Some(e) = &self.model_error {
            return Err(e.clone());
        }
        match Embedder::load_with(&self.model.dir, self.model.device, self.model.precision) {
            Ok(embedder) => {
                for w in &embedder.files().warnings {
                    let _ = self
                        .actions
                        .send(Action::Notify(Level::Info, format!("model warning: {w}")));
                }
                self.embedder = Some(embedder);
                Ok(())
            }
            Err(e) => {
                let msg = format!(
                    "cannot load the model {}: {} (keyword mode works without it: press Tab)",
                    self.model.dir.display(),
                    chain(&e)
                );
                self.model_error = Some(msg.clone());
                Err(msg)
            }
        }
    }

    /// Runs `request`; with its outcome, the hits whose previews could not read their
    /// documents' text from their files, best first.
    fn run(&mut self, request: &SearchRequest) -> (Result<Outcome, Failure>, Vec<Hit>) {
        match self.search(request) {
            Ok(outcome) => {
                let unread = (outcome.found.iter())
                    .filter(|f| !f.preview.from_file)
                    .map(|f| f.hit.clone())
                    .collect();
                (Ok(outcome), unread)
            }
            Err(e) => (Err(e), Vec::new()),
        }
    }

    fn search(&mut self, request: &SearchRequest) -> Result<Outcome, Failure> {
        if request.mode.needs_model() {
            self.ensure_model()?;
        }
        let results = self
            .docs
            .searcher()
            .search(request, self.embedder.as_ref())
            .map_err(|e| Failure {
                in_query: matches!(e, Error::InvalidQuery(_) | Error::EmptyQuery),
                message: chain(&e),
            })?;
        let mut documents: HashMap<PathBuf, Option<String>> = HashMap::new();
        let found = results
            .hits
            .into_iter()
            .map(|hit| {
                // A text or Markdown file is its own text; other files (HTML included, whose
                // source may hold a chunk's words among its tags) are read as the index read
                // them, after the results are shown.
                let own_text = matches!(
                    FileKind::from_path(&hit.path),
                    Some(FileKind::Text | FileKind::Markdown)
                );
                let doc = documents
                    .entry(hit.path.clone())
                    .or_insert_with(|| read_document(&hit.path).filter(|_| own_text));
                let preview = Preview::build(&hit, doc.as_deref(), &request.query);
                Found { hit, preview }
            })
            .collect();
        Ok(Outcome {
            query: request.query.clone(),
            mode: request.mode,
            found,
            elapsed: results.elapsed,
            files_in_scope: results.files_in_scope,
        })
    }
}

/// The section of `hit`'s document that `reference` names, as a hit of its own: its place,
/// and its preview inside the document (the section marked as a hit's chunk, the words of
/// `query` highlighted); or why it cannot be shown.
fn section_found(
    docs: &Documents,
    hit: &Hit,
    reference: &CrossReference,
    query: &str,
) -> Result<Found, String> {
    let passage = docs
        .referred(&hit.file, reference)
        .map_err(|e| e.to_string())?;
    let document = docs
        .indexed_text(&passage.file)
        .map_err(|e| e.to_string())?;
    let section = Hit {
        file: passage.file,
        path: passage.path,
        title: passage.title,
        line: passage.line,
        page: passage.page,
        page_end: passage.page_end,
        paragraph: passage.paragraph,
        page_breaks: Vec::new(),
        start_byte: passage.start_byte,
        end_byte: passage.end_byte,
        text: passage.text,
        breadcrumb: passage.breadcrumb,
        pinpoint: None,
        copies: Vec::new(),
        copies_complete: true,
        context: None,
        ..hit.clone()
    };
    let preview = Preview::build(&section, Some(&document.text), query);
    Ok(Found {
        hit: section,
        preview,
    })
}

/// A document's text for previews, when it is a readable UTF-8 file of sensible size.
pub fn read_document(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_PREVIEW_FILE_BYTES {
        return None;
    }
    String::from_utf8(std::fs::read(path).ok()?).ok()
}
