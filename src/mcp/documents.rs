//! What the MCP tools compute, without any protocol: searches, passages and outlines of
//! indexed files, and the index's status.
//!
//! Passages and outlines refer to a file's *extracted* text (the text that was chunked), so
//! their byte ranges are those of search hits' `start_byte`/`end_byte`: for UTF-8 text and
//! Markdown files they are the file's own bytes, for HTML, PDF and DOCX offsets into the text
//! extracted from them. A file is read only when the index lists it and its real path (links
//! resolved) lies inside the indexed folder; it is re-extracted with the indexer's extractor
//! and checked against its indexed chunks, so a file changed since indexing is reported rather
//! than misquoted.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde::Serialize;

use super::Settings;
use crate::embed::{Embedder, device_name};
use crate::ids::DocId;
use crate::index::keyword::{Place, StoredChunk};
use crate::ingest::chunk::{OutlineEntry, outline};
use crate::ingest::extract::{Extracted, extract};
use crate::ingest::walk::{FileKind, SourceFile};
use crate::search::glob::PathFilter;
use crate::search::{Mode, SearchJson, SearchRequest, SearchResults, Searcher};

/// Most hits one search returns.
pub const MAX_K: u64 = 50;
/// Hits when the call does not say.
pub const DEFAULT_K: u64 = 10;
/// Longest passage returned, in bytes (about 4,000 tokens); longer ranges are cut there.
pub const MAX_PASSAGE_BYTES: usize = 16_000;
/// Length of a passage given only its start byte.
pub const DEFAULT_PASSAGE_BYTES: usize = 4_000;
/// Length of a passage given only its start line.
pub const DEFAULT_PASSAGE_LINES: u64 = 40;
/// Most headings one outline lists.
pub const MAX_OUTLINE_HEADINGS: usize = 1_000;
/// Most file names `status` lists.
pub const MAX_STATUS_FILES: usize = 1_000;
/// Extracted documents kept in memory, so reading around a hit does not re-extract a PDF.
const EXTRACTED_CACHE: usize = 4;

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
    /// A path naming something outside the indexed folder.
    #[error(
        "{file:?} is outside the indexed folder {}; give a `file` as search hits and the \
         `status` tool list it, relative to that folder",
        .root.display()
    )]
    OutsideRoot {
        /// The path as given.
        file: String,
        /// The indexed folder.
        root: PathBuf,
    },
    /// A path the index does not list.
    #[error(
        "{file:?} is not in the index; use a `file` from search hits or from the `status` \
         tool's `files`"
    )]
    NotIndexed {
        /// The path as given.
        file: String,
    },
    /// An indexed path whose real location is outside the indexed folder.
    #[error(
        "{file} resolves to {}, outside the indexed folder {} (a symbolic link out of it); \
         the server reads nothing outside that folder unless the index was built with \
         --follow-links",
        .target.display(), .root.display()
    )]
    Escapes {
        /// The file, relative to the indexed folder.
        file: String,
        /// Where its links lead.
        target: PathBuf,
        /// The indexed folder.
        root: PathBuf,
    },
    /// A byte or line range that does not fit the document.
    #[error("{0}")]
    BadRange(String),
    /// The file is not what was indexed any more.
    #[error(
        "{file} changed since it was indexed, so ranges from the index no longer point into \
         it; run `lexsearch index {}` to update the index",
        .root.display()
    )]
    Changed {
        /// The file, relative to the indexed folder.
        file: String,
        /// The indexed folder.
        root: PathBuf,
    },
    /// The file could not be read or extracted.
    #[error("cannot read {file}: {reason}")]
    Unreadable {
        /// The file, relative to the indexed folder.
        file: String,
        /// Why.
        reason: String,
    },
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

/// A `get_passage` call: a file and a byte range or a line range.
#[derive(Debug, Clone, Default)]
pub struct PassageCall {
    /// The file, relative to the indexed folder (or absolute inside it).
    pub file: String,
    /// First byte of the extracted text.
    pub start_byte: Option<u64>,
    /// End byte (exclusive); default `start_byte` + [`DEFAULT_PASSAGE_BYTES`].
    pub end_byte: Option<u64>,
    /// First line, 1-based.
    pub start_line: Option<u64>,
    /// Last line, inclusive; default `start_line` + [`DEFAULT_PASSAGE_LINES`] - 1.
    pub end_line: Option<u64>,
}

/// A passage of a document, with where it is.
#[derive(Debug, Clone, Serialize)]
pub struct Passage {
    /// The file, relative to the indexed folder (as in hits).
    pub file: String,
    /// Its absolute path.
    pub path: PathBuf,
    /// The document's title.
    pub title: String,
    /// Byte offset of the passage in the extracted text.
    pub start_byte: usize,
    /// End byte offset (exclusive).
    pub end_byte: usize,
    /// 1-based line of the first byte.
    pub line: u32,
    /// 1-based line of the last byte.
    pub end_line: u32,
    /// 1-based page of the first byte (PDF), else null.
    pub page: Option<u32>,
    /// Page of the last byte when later than `page`, else null.
    pub page_end: Option<u32>,
    /// 1-based paragraph of the first byte (DOCX), else null.
    pub paragraph: Option<u32>,
    /// Headings above the passage, outermost first (those of the indexed chunk it starts in).
    pub breadcrumb: Vec<String>,
    /// The text.
    pub text: String,
    /// Whether the range asked for was longer than [`MAX_PASSAGE_BYTES`] and was cut.
    pub truncated: bool,
    /// Length of the whole extracted text, in bytes.
    pub document_bytes: usize,
    /// Number of lines of the whole extracted text.
    pub document_lines: usize,
}

/// One heading of an outline, with its page.
#[derive(Debug, Clone, Serialize)]
pub struct Heading {
    /// Level, heading, line and section range.
    #[serde(flatten)]
    pub entry: OutlineEntry,
    /// 1-based page of the heading (PDF), else null.
    pub page: Option<u32>,
}

/// The headings of a document.
#[derive(Debug, Clone, Serialize)]
pub struct Outline {
    /// The file, relative to the indexed folder.
    pub file: String,
    /// Its absolute path.
    pub path: PathBuf,
    /// The document's title.
    pub title: String,
    /// Length of the extracted text, in bytes.
    pub document_bytes: usize,
    /// Number of lines of the extracted text.
    pub document_lines: usize,
    /// Number of pages (PDF), else 0.
    pub pages: usize,
    /// Number of indexed chunks.
    pub chunks: usize,
    /// Headings in text order.
    pub headings: Vec<Heading>,
    /// Whether the list was cut at [`MAX_OUTLINE_HEADINGS`].
    pub truncated: bool,
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

/// An indexed file: its document id and title.
#[derive(Debug, Clone)]
struct IndexedFile {
    doc: DocId,
    title: String,
}

/// One version of the index, as opened.
struct Snapshot {
    searcher: Searcher,
    generation: u64,
    /// Relative path -> document, read from the keyword index on first use.
    files: Mutex<Option<Arc<BTreeMap<String, IndexedFile>>>>,
}

impl Snapshot {
    fn new(searcher: Searcher) -> Self {
        Snapshot {
            generation: searcher.manifest().generation,
            searcher,
            files: Mutex::new(None),
        }
    }

    fn root(&self) -> &Path {
        &self.searcher.manifest().root
    }

    fn files(&self) -> ToolResult<Arc<BTreeMap<String, IndexedFile>>> {
        let mut cached = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(files) = cached.as_ref() {
            return Ok(files.clone());
        }
        let files: BTreeMap<String, IndexedFile> = self
            .searcher
            .keyword_index()?
            .documents()?
            .into_iter()
            .map(|c| {
                (
                    c.path,
                    IndexedFile {
                        doc: c.doc_id,
                        title: c.title,
                    },
                )
            })
            .collect();
        let files = Arc::new(files);
        *cached = Some(files.clone());
        Ok(files)
    }
}

/// An indexed file, opened: resolved, extracted and checked against its chunks.
struct Opened {
    rel: String,
    path: PathBuf,
    title: String,
    extracted: Arc<Extracted>,
    chunks: Vec<StoredChunk>,
}

/// The tools' state: one searcher and one model, shared by every call.
pub struct Backend {
    index: PathBuf,
    embedder: Embedder,
    rerank: Option<crate::search::rerank::Rerank>,
    current: RwLock<Arc<Snapshot>>,
    extracted: Mutex<VecDeque<(u64, String, Arc<Extracted>)>>,
}

impl Backend {
    /// A backend over an opened searcher and its model.
    pub fn new(settings: &Settings, searcher: Searcher, embedder: Embedder) -> Self {
        Backend {
            index: settings.index.clone(),
            embedder,
            rerank: settings.rerank.clone(),
            current: RwLock::new(Arc::new(Snapshot::new(searcher))),
            extracted: Mutex::new(VecDeque::new()),
        }
    }

    /// The index as it is now: reopened when `lexsearch index` has written a new version
    /// since the last call (the model stays loaded).
    fn snapshot(&self) -> ToolResult<Arc<Snapshot>> {
        let current = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if current.searcher.is_current() {
            return Ok(current);
        }
        let fresh = Arc::new(Snapshot::new(super::open_searcher(&self.index)?));
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
        self.extracted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
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
        let results = snap.searcher.search(&req, embedder)?;
        Ok(SearchAnswer {
            request: req,
            results,
        })
    }

    /// A passage of an indexed file.
    pub fn passage(&self, call: &PassageCall) -> ToolResult<Passage> {
        let snap = self.snapshot()?;
        let doc = self.open(&snap, &call.file)?;
        let text = doc.extracted.text.as_str();
        let starts = line_starts(text);
        let range = passage_range(call, text, &starts, &doc.rel)?;
        let (range, truncated) = bounded(text, range);
        let place = Place::locate(&range, &doc.extracted.pages, &doc.extracted.paragraphs);
        let breadcrumb = doc
            .chunks
            .iter()
            .rev()
            .find(|c| c.range.start <= range.start)
            .map(|c| c.breadcrumb.clone())
            .unwrap_or_default();
        Ok(Passage {
            line: line_of(&starts, range.start),
            end_line: line_of(&starts, range.end.saturating_sub(1).max(range.start)),
            text: text[range.clone()].to_string(),
            start_byte: range.start,
            end_byte: range.end,
            page: place.page,
            page_end: place.page_end,
            paragraph: place.paragraph,
            breadcrumb,
            truncated,
            document_bytes: text.len(),
            document_lines: starts.len(),
            file: doc.rel,
            path: doc.path,
            title: doc.title,
        })
    }

    /// The headings of an indexed file.
    pub fn outline(&self, file: &str) -> ToolResult<Outline> {
        let snap = self.snapshot()?;
        let doc = self.open(&snap, file)?;
        let text = doc.extracted.text.as_str();
        let mut entries = outline(text);
        let truncated = entries.len() > MAX_OUTLINE_HEADINGS;
        entries.truncate(MAX_OUTLINE_HEADINGS);
        let headings = entries
            .into_iter()
            .map(|entry| {
                let at = entry.start_byte..entry.start_byte + 1;
                Heading {
                    page: Place::locate(&at, &doc.extracted.pages, &[]).page,
                    entry,
                }
            })
            .collect();
        Ok(Outline {
            document_bytes: text.len(),
            document_lines: line_starts(text).len(),
            pages: doc.extracted.pages.len(),
            chunks: doc.chunks.len(),
            headings,
            truncated,
            file: doc.rel,
            path: doc.path,
            title: doc.title,
        })
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
            serving_generation: snap.generation,
            files: files.keys().take(MAX_STATUS_FILES).cloned().collect(),
            files_total: files.len(),
            files_truncated: files.len() > MAX_STATUS_FILES,
        })
    }

    /// Resolves `file` to an indexed file inside the indexed folder, then extracts it.
    fn open(&self, snap: &Snapshot, file: &str) -> ToolResult<Opened> {
        let root = snap.root();
        let rel = relative_path(file, root)?;
        let files = snap.files()?;
        let indexed = files.get(&rel).ok_or_else(|| ToolError::NotIndexed {
            file: file.to_string(),
        })?;
        let unreadable = |e: std::io::Error| ToolError::Unreadable {
            file: rel.clone(),
            reason: e.to_string(),
        };
        let real_root = root.canonicalize().map_err(unreadable)?;
        let target = root.join(&rel).canonicalize().map_err(unreadable)?;
        // A link out of the folder is read only when the index was built following such
        // links (`--follow-links`): its text is in the index then, by the user's choice.
        let links_out = snap.searcher.manifest().follow_links == Some(true);
        if !target.starts_with(&real_root) && !links_out {
            return Err(ToolError::Escapes {
                file: rel,
                target,
                root: root.to_path_buf(),
            });
        }
        let chunks = snap.searcher.keyword_index()?.chunks_of(indexed.doc)?;
        let extracted = self.extracted(snap.generation, &rel, &target)?;
        // The index's ranges point into the text as it was indexed.
        if chunks
            .iter()
            .any(|c| extracted.text.get(c.range.clone()) != Some(c.text.as_str()))
        {
            return Err(ToolError::Changed {
                file: rel,
                root: root.to_path_buf(),
            });
        }
        Ok(Opened {
            path: root.join(&rel),
            title: indexed.title.clone(),
            rel,
            extracted,
            chunks,
        })
    }

    /// The extracted text of `target`, from the cache or the indexer's extractor.
    fn extracted(&self, generation: u64, rel: &str, target: &Path) -> ToolResult<Arc<Extracted>> {
        let cache = self
            .extracted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, e)) = cache.iter().find(|(g, r, _)| *g == generation && r == rel) {
            return Ok(e.clone());
        }
        drop(cache);
        let unreadable = |reason: String| ToolError::Unreadable {
            file: rel.to_string(),
            reason,
        };
        // The kind comes from the indexed name, as the walker took it (a link's own name).
        let kind = FileKind::from_path(Path::new(rel))
            .ok_or_else(|| unreadable("not a supported kind of file".into()))?;
        let size = std::fs::metadata(target)
            .map_err(|e| unreadable(e.to_string()))?
            .len();
        let source = SourceFile {
            path: target.to_path_buf(),
            rel: PathBuf::from(rel),
            kind,
            size,
            mtime_ns: 0,
        };
        // It was indexed, so whatever size limit it was indexed under, it is read whole.
        let limit = size.max(crate::ingest::extract::DEFAULT_MAX_FILE_BYTES);
        let extracted = Arc::new(extract(&source, limit).map_err(|e| unreadable(e.to_string()))?);
        let mut cache = self
            .extracted
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= EXTRACTED_CACHE {
            cache.pop_front();
        }
        cache.push_back((generation, rel.to_string(), extracted.clone()));
        Ok(extracted)
    }
}

/// `file` as the index names it (relative, `/`-separated on Unix), or why it cannot be one:
/// absolute paths must lie under `root`, and `..` is refused outright.
fn relative_path(file: &str, root: &Path) -> ToolResult<String> {
    let given = Path::new(file.trim());
    let outside = || ToolError::OutsideRoot {
        file: file.to_string(),
        root: root.to_path_buf(),
    };
    let rel = if given.is_absolute() {
        given.strip_prefix(root).map_err(|_| outside())?
    } else {
        given
    };
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(part) => parts.push(part.to_string_lossy()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(outside());
            }
        }
    }
    if parts.is_empty() {
        return Err(ToolError::NotIndexed {
            file: file.to_string(),
        });
    }
    Ok(parts.join(std::path::MAIN_SEPARATOR_STR))
}

/// Byte offset of the start of every line of `text` (one entry for an empty text).
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.match_indices('\n')
            .map(|(i, _)| i + 1)
            .filter(|&i| i < text.len()),
    );
    starts
}

/// 1-based line of byte `at`.
fn line_of(starts: &[usize], at: usize) -> u32 {
    starts.partition_point(|&s| s <= at).max(1) as u32
}

/// The byte range a passage call asks for, checked against the text.
fn passage_range(
    call: &PassageCall,
    text: &str,
    starts: &[usize],
    file: &str,
) -> ToolResult<Range<usize>> {
    let len = text.len();
    let lines = starts.len();
    let size = || format!("{file}'s extracted text has {len} bytes in {lines} lines");
    let bad = |s: String| Err(ToolError::BadRange(s));
    let by_bytes = call.start_byte.is_some() || call.end_byte.is_some();
    let by_lines = call.start_line.is_some() || call.end_line.is_some();
    match (by_bytes, by_lines) {
        (true, true) => bad("give a byte range (start_byte, end_byte) or a line range \
                             (start_line, end_line), not both"
            .into()),
        (false, false) => bad("give start_byte (and end_byte), as in a search hit, or \
                               start_line (and end_line)"
            .into()),
        (true, false) => {
            let Some(start) = call.start_byte else {
                return bad("end_byte needs start_byte".into());
            };
            if start >= len as u64 {
                return bad(format!("start_byte {start} is past the end: {}", size()));
            }
            let start = start as usize;
            let end = match call.end_byte {
                Some(end) if end > len as u64 => {
                    return bad(format!("end_byte {end} is past the end: {}", size()));
                }
                Some(end) if end <= start as u64 => {
                    return bad(format!(
                        "end_byte {end} must be greater than start_byte {start}"
                    ));
                }
                Some(end) => end as usize,
                None => (start + DEFAULT_PASSAGE_BYTES).min(len),
            };
            // Offsets inside a character widen to its edges.
            let mut range = start..end;
            while !text.is_char_boundary(range.start) {
                range.start -= 1;
            }
            while !text.is_char_boundary(range.end) {
                range.end += 1;
            }
            Ok(range)
        }
        (false, true) => {
            let Some(first) = call.start_line else {
                return bad("end_line needs start_line".into());
            };
            if first == 0 {
                return bad("lines are numbered from 1".into());
            }
            if first > lines as u64 {
                return bad(format!("start_line {first} is past the end: {}", size()));
            }
            let last = match call.end_line {
                Some(last) if last > lines as u64 => {
                    return bad(format!("end_line {last} is past the end: {}", size()));
                }
                Some(last) if last < first => {
                    return bad(format!(
                        "end_line {last} must not be before start_line {first}"
                    ));
                }
                Some(last) => last,
                None => (first + DEFAULT_PASSAGE_LINES - 1).min(lines as u64),
            };
            let start = starts[first as usize - 1];
            let end = starts.get(last as usize).copied().unwrap_or(len);
            Ok(start..end)
        }
    }
}

/// `range` cut to [`MAX_PASSAGE_BYTES`] at a character boundary, and whether it was cut.
fn bounded(text: &str, range: Range<usize>) -> (Range<usize>, bool) {
    if range.len() <= MAX_PASSAGE_BYTES {
        return (range, false);
    }
    let mut end = range.start + MAX_PASSAGE_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (range.start..end, true)
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
fn iso8601(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
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
    fn paths_with_parent_steps_or_outside_the_root_are_refused() {
        let root = Path::new("/docs/matter");
        assert_eq!(relative_path("a/b.txt", root).unwrap(), "a/b.txt");
        assert_eq!(relative_path("./a/b.txt", root).unwrap(), "a/b.txt");
        assert_eq!(
            relative_path("/docs/matter/a/b.txt", root).unwrap(),
            "a/b.txt"
        );
        for bad in [
            "../../etc/passwd",
            "a/../../x.txt",
            "/etc/passwd",
            "/docs/other.txt",
        ] {
            assert!(
                matches!(relative_path(bad, root), Err(ToolError::OutsideRoot { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            relative_path("", root),
            Err(ToolError::NotIndexed { .. })
        ));
    }

    fn call(sb: Option<u64>, eb: Option<u64>, sl: Option<u64>, el: Option<u64>) -> PassageCall {
        PassageCall {
            file: "f.txt".into(),
            start_byte: sb,
            end_byte: eb,
            start_line: sl,
            end_line: el,
        }
    }

    #[test]
    fn passage_ranges_by_bytes_or_lines_are_checked_against_the_text() {
        let text = "one\ntwo §\nthree\n";
        let starts = line_starts(text);
        assert_eq!(starts, vec![0, 4, 11]);
        let range = |c: PassageCall| passage_range(&c, text, &starts, "f.txt");
        assert_eq!(range(call(Some(4), Some(8), None, None)).unwrap(), 4..8);
        // Inside the two-byte '§': widened to the whole character.
        assert_eq!(range(call(Some(4), Some(9), None, None)).unwrap(), 4..10);
        assert_eq!(range(call(Some(4), None, None, None)).unwrap(), 4..17);
        assert_eq!(range(call(None, None, Some(2), Some(3))).unwrap(), 4..17);
        assert_eq!(range(call(None, None, Some(2), None)).unwrap(), 4..17);
        assert_eq!(range(call(None, None, Some(1), Some(1))).unwrap(), 0..4);
        for bad in [
            call(Some(17), None, None, None),
            call(Some(0), Some(18), None, None),
            call(Some(5), Some(5), None, None),
            call(None, Some(3), None, None),
            call(None, None, Some(0), None),
            call(None, None, Some(4), None),
            call(None, None, Some(2), Some(9)),
            call(None, None, Some(3), Some(2)),
            call(Some(1), None, Some(1), None),
            call(None, None, None, None),
        ] {
            let err = range(bad.clone()).unwrap_err();
            assert!(matches!(err, ToolError::BadRange(_)), "{bad:?}: {err}");
        }
        let err = range(call(Some(99), None, None, None))
            .unwrap_err()
            .to_string();
        assert!(err.contains("17 bytes in 3 lines"), "{err}");
    }

    #[test]
    fn long_passages_are_cut_at_a_character_boundary() {
        let text = "§".repeat(MAX_PASSAGE_BYTES);
        let (range, cut) = bounded(&text, 0..text.len());
        assert!(cut);
        assert_eq!(range, 0..MAX_PASSAGE_BYTES);
        let (range, cut) = bounded(&text, 1..text.len());
        assert!(cut && text.is_char_boundary(range.end) && range.len() < MAX_PASSAGE_BYTES);
        assert_eq!(bounded(&text, 0..10), (0..10, false));
    }

    #[test]
    fn lines_are_found_by_byte() {
        let starts = line_starts("a\nb\n\nc");
        assert_eq!(starts, vec![0, 2, 4, 5]);
        assert_eq!(line_of(&starts, 0), 1);
        assert_eq!(line_of(&starts, 3), 2);
        assert_eq!(line_of(&starts, 5), 4);
        assert_eq!(line_starts(""), vec![0]);
    }

    #[test]
    fn unix_times_print_as_utc_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
