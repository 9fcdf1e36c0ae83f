//! What the MCP tools compute, without any protocol: searches, passages and outlines of
//! indexed files ([`crate::search::documents`], as `lexsearch show` reads them), and the
//! index's status.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use serde::Serialize;

use super::Settings;
use crate::embed::{Embedder, device_name};
use crate::search::documents::{
    DefinedTerms, DocumentError, Documents, Outline, Passage, PassageRequest,
};
use crate::search::glob::PathFilter;
use crate::search::{Mode, SearchJson, SearchRequest, SearchResults};

/// Most hits one search returns.
pub const MAX_K: u64 = 50;
/// Most lines of context a search call may ask for on each side of a hit.
pub const MAX_CONTEXT_LINES: u64 = 10;
/// Hits when the call does not say.
pub const DEFAULT_K: u64 = 10;
/// Most file names `status` lists.
pub const MAX_STATUS_FILES: usize = 1_000;

/// Why a tool call failed: each reads as a message the assistant can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolError {
    /// `k` out of range.
    #[error("k must be between 1 and {MAX_K}, not {0}")]
    BadK(u64),
    /// An empty query.
    #[error("the query is empty: give words, a question or a citation to look for, or like_chunk")]
    EmptyQuery,
    /// `max_per_file` of 0.
    #[error("max_per_file must be 1 or more (leave it out for no limit)")]
    BadMaxPerFile,
    /// `context_lines` past [`MAX_CONTEXT_LINES`].
    #[error(
        "context_lines must be at most {MAX_CONTEXT_LINES}, not {0} (read more with get_passage)"
    )]
    BadContextLines(u64),
    /// A passage or outline that cannot be read (a path outside the folder or not indexed,
    /// a range that does not fit, a file changed since indexing).
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] crate::Error),
    /// An answer could not be encoded.
    #[error("cannot encode the answer: {0}")]
    Encode(#[from] serde_json::Error),
}

type ToolResult<T> = std::result::Result<T, ToolError>;

/// A `search` call.
#[derive(Debug, Clone)]
pub struct SearchCall {
    /// What to look for.
    pub query: String,
    /// Which arms run.
    pub mode: Mode,
    /// Hits wanted, 1 to [`MAX_K`].
    pub k: u64,
    /// Search only files whose path matches this glob
    /// ([`crate::search::glob::path_matches`]).
    pub path: Option<String>,
    /// At most this many hits from one file, 1 or more (`None`: no limit).
    pub max_per_file: Option<u64>,
    /// Passages like this chunk instead of like the query ([`SearchRequest::like`]).
    pub like: Option<u64>,
    /// Lines of the document before and after what each hit cites, at most
    /// [`MAX_CONTEXT_LINES`] ([`Documents::add_context`]); `None`: no `context`.
    pub context_lines: Option<u64>,
}

/// A search and its results, serialised as `lexsearch search --json` prints them.
#[derive(Debug, Clone)]
pub struct SearchAnswer {
    /// The request as run.
    pub request: SearchRequest,
    /// What it found.
    pub results: SearchResults,
}

impl Serialize for SearchAnswer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SearchJson::new(&self.request, &self.results).serialize(s)
    }
}

/// What `status` answers: the index's status, the model loaded and the files indexed.
#[derive(Debug, Clone, Serialize)]
pub struct ServerStatus {
    /// Index folder, indexed folder, model, counts, size, last update.
    #[serde(flatten)]
    pub index: crate::maintain::Status,
    /// The last update as an ISO 8601 UTC time.
    pub updated: String,
    /// The model this server embeds queries with.
    pub model_loaded: String,
    /// Where it runs.
    pub device: &'static str,
    /// The index generation this server answers from.
    pub serving_generation: u64,
    /// Indexed files, relative to the indexed folder, sorted (at most [`MAX_STATUS_FILES`]).
    pub files: Vec<String>,
    /// Number of indexed files.
    pub files_total: usize,
    /// Whether `files` was cut.
    pub files_truncated: bool,
}

/// The tools' state: one searcher and one model, shared by every call.
pub struct Backend {
    index: PathBuf,
    embedder: Embedder,
    rerank: Option<crate::search::rerank::Rerank>,
    current: RwLock<Arc<Documents>>,
}

impl Backend {
    /// A backend over an opened searcher and its model.
    pub fn new(settings: &Settings, searcher: crate::search::Searcher, embedder: Embedder) -> Self {
        Backend {
            index: settings.index.clone(),
            embedder,
            rerank: settings.rerank.clone(),
            current: RwLock::new(Arc::new(Documents::new(searcher))),
        }
    }

    /// The index as it is now: reopened when `lexsearch index` has written a new version
    /// since the last call (the model stays loaded).
    fn snapshot(&self) -> ToolResult<Arc<Documents>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if current.searcher().is_current() {
            return Ok(current);
        }
        let fresh = Arc::new(Documents::new(super::open_searcher(&self.index)?));
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
        Ok(fresh)
    }

    /// Runs a search; the answer is the `lexsearch search --json` document.
    pub fn search(&self, call: &SearchCall) -> ToolResult<SearchAnswer> {
        if call.k == 0 || call.k > MAX_K {
            return Err(ToolError::BadK(call.k));
        }
        if call.query.trim().is_empty() && call.like.is_none() {
            return Err(ToolError::EmptyQuery);
        }
        if call.max_per_file == Some(0) {
            return Err(ToolError::BadMaxPerFile);
        }
        if let Some(n) = call.context_lines.filter(|&n| n > MAX_CONTEXT_LINES) {
            return Err(ToolError::BadContextLines(n));
        }
        let k = call.k as usize;
        let mut req = SearchRequest::new(call.query.clone(), k);
        req.mode = call.mode;
        req.rerank = self.rerank.clone();
        let snap = self.snapshot()?;
        req.like = call.like.map(crate::ids::ChunkId);
        let embedder = (call.mode.needs_model() || req.like.is_some()).then_some(&self.embedder);
        req.paths = PathFilter::new(call.path.as_deref());
        req.max_per_file = call
            .max_per_file
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        let mut results = snap.searcher().search(&req, embedder)?;
        if let Some(n) = call.context_lines {
            snap.add_context(&mut results.hits, (n as u32, n as u32));
        }
        Ok(SearchAnswer {
            request: req,
            results,
        })
    }

    /// A passage of an indexed file.
    pub fn passage(&self, call: &PassageRequest) -> ToolResult<Passage> {
        Ok(self.snapshot()?.passage(call)?)
    }

    /// The headings of an indexed file.
    pub fn outline(&self, file: &str) -> ToolResult<Outline> {
        Ok(self.snapshot()?.outline(file)?)
    }

    /// The terms an indexed file defines, each at its first definition.
    pub fn defined_terms(&self, file: &str) -> ToolResult<DefinedTerms> {
        Ok(self.snapshot()?.defined_terms(file)?)
    }

    /// What is indexed, with which model, and when it was last updated.
    pub fn status(&self) -> ToolResult<ServerStatus> {
        let snap = self.snapshot()?;
        let index = crate::maintain::status(&self.index)?;
        let files = snap.files()?;
        Ok(ServerStatus {
            updated: iso8601(index.updated_unix),
            index,
            model_loaded: self.embedder.info().name.clone(),
            device: device_name(self.embedder.device()),
            serving_generation: snap.generation(),
            files: files.keys().take(MAX_STATUS_FILES).cloned().collect(),
            files_total: files.len(),
            files_truncated: files.len() > MAX_STATUS_FILES,
        })
    }
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
fn iso8601(unix: u64) -> String {
    let (year, month, day) = crate::dates::civil_from_days((unix / 86_400) as i64);
    let secs = unix % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_print_as_utc_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
