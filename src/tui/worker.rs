//! The search thread. It owns the [`Searcher`] and the [`Embedder`] (both used from this thread
//! only), runs requests through the same [`Searcher::search`] as the CLI, reads each hit's
//! document for its preview, and sends the outcome back as [`Action::Results`]. Then, until
//! the next request comes, it reads the documents whose files are not their text (PDF, Word,
//! HTML, e-mail) as the index read them ([`Documents`]), best hit first, and sends each such
//! hit's preview inside its document as [`Action::Preview`].
//!
//! Requests queue up while a search runs; only the newest is run, since the app drops results
//! of older ones anyway. The model is loaded at start when the first mode needs it (in the
//! background, so typing never waits), else on the first search that needs it: keyword search
//! works without it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};

use crate::embed::{DeviceSpec, Embedder, Precision};
use crate::error::{Error, chain};
use crate::ingest::walk::FileKind;
use crate::search::documents::Documents;
use crate::search::{Hit, SearchRequest, Searcher};

use super::action::{Action, Failure, Found, Level, Outcome};
use super::preview::Preview;

/// Documents larger than this are not read for previews (the chunk alone is shown).
pub const MAX_PREVIEW_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// One request for the worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The app's sequence number for it.
    pub seq: u64,
    /// What to search for.
    pub request: SearchRequest,
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

/// Starts the search thread. It sends [`Action`]s to `actions` and stops when the returned
/// sender is dropped (or `actions`' receiver is).
pub fn spawn(
    searcher: Searcher,
    model: ModelSource,
    actions: Sender<Action>,
) -> std::io::Result<Sender<Job>> {
    let (jobs, inbox) = mpsc::channel();
    std::thread::Builder::new()
        .name("lexsearch-search".into())
        .spawn(move || {
            let mut worker = Worker {
                docs: Documents::new(searcher),
                model,
                embedder: None,
                model_error: None,
                actions,
            };
            worker.serve(inbox);
        })?;
    Ok(jobs)
}

struct Worker {
    /// The index's searcher and its documents, read again for previews.
    docs: Documents,
    model: ModelSource,
    embedder: Option<Embedder>,
    model_error: Option<String>,
    actions: Sender<Action>,
}

impl Worker {
    fn serve(&mut self, inbox: Receiver<Job>) {
        if self.model.preload {
            // A failure is reported by the first search that needs the model.
            let _ = self.ensure_model();
        }
        let mut next = None;
        loop {
            let Some(mut job) = next.take().or_else(|| inbox.recv().ok()) else {
                break;
            };
            while let Ok(newer) = inbox.try_recv() {
                job = newer;
            }
            let (result, unread) = self.run(&job.request);
            if self
                .actions
                .send(Action::Results {
                    seq: job.seq,
                    result,
                })
                .is_err()
            {
                break;
            }
            // The other documents, read as indexed, until a new request comes.
            for hit in unread {
                match inbox.try_recv() {
                    Ok(newer) => {
                        next = Some(newer);
                        break;
                    }
                    Err(TryRecvError::Disconnected) => return,
                    Err(TryRecvError::Empty) => {}
                }
                let Ok(extracted) = self.docs.indexed_text(&hit.file) else {
                    continue;
                };
                let preview = Preview::build(&hit, Some(&extracted.text), &job.request.query);
                if !preview.from_file {
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

/// A document's text for previews, when it is a readable UTF-8 file of sensible size.
pub fn read_document(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_PREVIEW_FILE_BYTES {
        return None;
    }
    String::from_utf8(std::fs::read(path).ok()?).ok()
}
