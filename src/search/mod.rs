//! The read path: hybrid search over an index.
//!
//! A [`Searcher`] opens the keyword index and the vector graph (never the catalog, so any
//! number of searches can run beside one writer), runs each arm with over-fetching, fuses the
//! rankings ([`fusion`]), optionally re-scores the best fused hits with a cross-encoder
//! ([`rerank`]), and hydrates hits with their text, place and [`snippet`].

pub mod citation;
pub mod documents;
pub mod fusion;
pub mod glob;
pub mod operators;
pub mod pinpoint;
pub mod rerank;
pub mod snippet;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::embed::Embedder;
use crate::ids::{ChunkFilter, ChunkId, ChunkSet, DocId};
use crate::index::define::Definition;
use crate::index::keyword::{
    AtLeast, KeywordIndex, MailField, Near, StoredChunk, camel_case_words, name_words,
};
use crate::index::remote::{RemoteFusion, RemoteIndex, RemoteSpec, ServerFusion};
use crate::index::root::Root;
use crate::index::sent::SentWindow;
use crate::index::vector::{EXACT_WITHIN, VectorIndex};
use crate::ingest::extract::file_content_hash;
use crate::ingest::types::MailInfo;
use crate::library::{Library, Snapshot};
use crate::store::{Manifest, read_documents};
use crate::{Error, Result};
use fusion::{ArmScore, Fused, Fusion, favour_named, fuse, name_match};
use glob::PathFilter;
use operators::Operators;
use pinpoint::{Candidates, Pinpoint, PinpointSettings, TermRarity};
use rerank::{Rerank, RerankSummary, order_by_score};
use snippet::Snippet;

/// Which arms a search runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Keyword and semantic, fused.
    #[default]
    Hybrid,
    /// BM25 only (no model needed).
    Keyword,
    /// Embedding similarity only.
    Semantic,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hybrid" => Ok(Mode::Hybrid),
            "keyword" => Ok(Mode::Keyword),
            "semantic" => Ok(Mode::Semantic),
            _ => Err(format!(
                "unknown mode {s:?}: use hybrid, keyword or semantic"
            )),
        }
    }
}

impl Mode {
    /// Whether this mode needs the embedding model.
    pub fn needs_model(self) -> bool {
        self != Mode::Keyword
    }

    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Hybrid => "hybrid",
            Mode::Keyword => "keyword",
            Mode::Semantic => "semantic",
        }
    }
}

/// What to search for. Carries no output settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query as typed.
    pub query: String,
    /// Number of hits wanted.
    pub k: usize,
    /// Arms to run.
    pub mode: Mode,
    /// How to fuse the arms in hybrid mode.
    pub fusion: Fusion,
    /// Each arm fetches `k * over_fetch` candidates (`k` at least [`FUSED_AS_IF_K`] in
    /// hybrid mode), since fusion can only promote what it sees.
    pub over_fetch: usize,
    /// How much hybrid search favours hits from a document whose file name the query names
    /// ([`fusion::favour_named`]); 0 turns it off.
    pub name_weight: f32,
    /// Snippet width in characters.
    pub snippet_chars: usize,
    /// Which hits get a [`Pinpoint`] and how it is chosen (`hits: 0` turns it off).
    pub pinpoint: PinpointSettings,
    /// A cross-encoder that re-scores the best fused hits and orders them by its score
    /// (the hits after them keep their fused order); `None` keeps the fused order.
    pub rerank: Option<Rerank>,
    /// The files searched: only chunks of files whose path matches one of these patterns
    /// are candidates of either arm (empty: every file).
    pub paths: PathFilter,
    /// At most this many hits from one file (`None`: no limit); the arms then fetch
    /// deeper, so that `k` hits from enough files come back when the index has them.
    pub max_per_file: Option<usize>,
    /// Chunks of exactly the same text in other files (a template in every matter folder,
    /// an attachment sent many times) become [`Hit::copies`] of the best of them instead of
    /// hits of their own, so that `k` hits are `k` different passages. Not with
    /// `max_per_file`, which asks for files.
    pub collapse_copies: bool,
    /// Passages like this chunk rather than like the query ([`Searcher::chunk_at`] finds
    /// the chunk at a file's line): a semantic search with the chunk's own vector, leaving
    /// out the chunk and those of its document that overlap it. `query` may then be empty
    /// or hold only conditions (`-word`, `+word`, `sent:`); `mode` and `rerank` are ignored.
    /// A local index reads the vector from its graph, a remote one from the server.
    pub like: Option<ChunkId>,
}

/// Largest file whose bytes a search hashes to tell whether a file modified after the index
/// was written still holds what it held ([`Searcher::mark_changed`]); a larger one counts as
/// changed by its time alone.
const MAX_HASHED_BYTES: u64 = 256 << 20;

/// What a searcher found of a file on disk it looked at for [`Hit::changed`]: its size and
/// modification time then, and whether it was changed.
type FileVerdict = (u64, std::time::SystemTime, bool);

impl Searcher {
    /// Sets [`Hit::changed`] on each hit whose file on disk (for an attachment, the file
    /// that holds it) changed after the index was last written. A file modified after that
    /// ([`Manifest::modified_after`]) has changed when its size differs from its record's
    /// (the generation's `documents`), or, of the same size, its bytes hash otherwise than
    /// its record's: a copied, checked-out or unpacked folder has every file's time new and
    /// its text the same. Without a record (a remote index, an attachment's container, an
    /// earlier version's generation) or past [`MAX_HASHED_BYTES`], the time alone says so.
    /// Each file is looked at again only when its size or time differs from the last look. A
    /// file modified while the index run that last wrote it was running, after it was read,
    /// is not caught (the next run reads it again all the same).
    fn mark_changed(&self, hits: &mut [Hit]) {
        let manifest = self.manifest();
        let mut verdicts = self
            .changed_files
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for hit in hits {
            let rel = Path::new(&hit.file);
            let on_disk = crate::ingest::containers_of(rel)
                .next()
                .unwrap_or_else(|| rel.to_path_buf());
            let meta = std::fs::metadata(manifest.root.join(&on_disk));
            let Some((size, mtime)) = meta.ok().and_then(|m| Some((m.len(), m.modified().ok()?)))
            else {
                hit.changed = false;
                continue;
            };
            if let Some(&(s, t, changed)) = verdicts.get(&on_disk)
                && (s, t) == (size, mtime)
            {
                hit.changed = changed;
                continue;
            }
            let changed = manifest.modified_after(mtime)
                && match self.file_record(&on_disk) {
                    Some((recorded_size, hash)) if recorded_size == size => {
                        let path = manifest.root.join(&on_disk);
                        size > MAX_HASHED_BYTES
                            || file_content_hash(&path).ok().as_deref() != Some(hash.as_str())
                    }
                    _ => true,
                };
            verdicts.insert(on_disk, (size, mtime, changed));
            hit.changed = changed;
        }
    }

    /// The size and content hash the index recorded for the indexed file `rel`, from the
    /// generation's `documents` (read once, at the first file that needs it); `None` for a
    /// remote index, a generation without the file, or a path it does not list.
    fn file_record(&self, rel: &Path) -> Option<(u64, String)> {
        let records = self.file_records.get_or_init(|| {
            let Arms::Local { snapshot, .. } = &self.arms else {
                return HashMap::new();
            };
            let listed = read_documents(&snapshot.paths().documents());
            (listed.ok().flatten().into_iter().flatten())
                .map(|(_, r)| (r.rel, (r.size, r.content_hash)))
                .collect()
        });
        records.get(rel).cloned()
    }
}

/// Whether `query` holds a word, a number or a section or paragraph sign: punctuation alone
/// (`*`, `(((`, a quote just opened) is nothing to search for.
pub fn holds_something_to_search(query: &str) -> bool {
    query.contains(|c: char| c.is_alphanumeric() || c == '§' || c == '¶')
}

/// The fewest hits whose candidates a hybrid search fuses, whatever its `k`: each arm
/// fetches `max(k, FUSED_AS_IF_K) × over_fetch` candidates, and the file-name match weighs
/// the best `2 × max(k, FUSED_AS_IF_K)` fused ones. Weighted fusion scales each arm between
/// its best and worst candidate, so with fewer candidates the same chunks would fuse in
/// another order: `-k 1` would not give `-k 10`'s first hit, nor the ranking every number
/// in docs/quality.md was measured with (k = 64; the first hit's document right for 94.3 %
/// of the mini protocol's queries at `-k 1`, 98.2 % at 64). A single arm's order does not
/// depend on how many candidates it fetches.
pub const FUSED_AS_IF_K: usize = 64;

impl SearchRequest {
    /// The `k` a search gathers candidates for: at least [`FUSED_AS_IF_K`] in hybrid mode.
    fn candidates_k(&self) -> usize {
        match self.mode {
            Mode::Hybrid => self.k.max(FUSED_AS_IF_K),
            Mode::Keyword | Mode::Semantic => self.k,
        }
    }

    /// The candidates each arm passes on to fusion before any deepening: `candidates_k ×
    /// over_fetch`, or the reranker's candidates when they are more.
    fn candidates(&self) -> usize {
        self.candidates_k()
            .saturating_mul(self.over_fetch.max(1))
            .max(self.rerank.as_ref().map_or(0, |r| r.top))
    }

    /// A hybrid request for `k` hits with default fusion.
    pub fn new(query: impl Into<String>, k: usize) -> Self {
        SearchRequest {
            query: query.into(),
            k,
            mode: Mode::Hybrid,
            fusion: Fusion::default(),
            over_fetch: 4,
            name_weight: fusion::DEFAULT_NAME_WEIGHT,
            snippet_chars: 240,
            pinpoint: PinpointSettings::default(),
            rerank: None,
            paths: PathFilter::default(),
            max_per_file: None,
            collapse_copies: true,
            like: None,
        }
    }
}

/// One search result, with its place in the source and each arm's evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// 1-based rank.
    pub rank: usize,
    /// Fused score (RRF or weighted), or the single arm's score outside hybrid mode.
    pub score: f32,
    /// The chunk's id.
    pub chunk_id: u64,
    /// Absolute path of the document.
    pub path: PathBuf,
    /// Path relative to the indexed folder.
    pub file: String,
    /// Document title.
    pub title: String,
    /// Headings above the chunk, outermost first.
    pub breadcrumb: Vec<String>,
    /// 1-based line of the chunk's first byte (in the extracted text).
    pub line: u32,
    /// 1-based page of the chunk's first byte (PDF), else null.
    pub page: Option<u32>,
    /// 1-based page of its last byte when the chunk runs onto a later page, else null.
    pub page_end: Option<u32>,
    /// 1-based paragraph of the chunk's first byte (DOCX), else null.
    pub paragraph: Option<u32>,
    /// Where each page after `page` begins inside the chunk (byte offsets in the extracted
    /// text), for giving a passage of it its own page; not in the JSON (`pinpoint.page` is).
    #[serde(skip)]
    pub page_breaks: Vec<usize>,
    /// Byte offset of the chunk in the extracted text.
    pub start_byte: usize,
    /// End byte offset (exclusive).
    pub end_byte: usize,
    /// The chunk's full text.
    pub text: String,
    /// For a hit in an e-mail or in an attachment of one: the message's from, to, cc, date
    /// (RFC 3339) and subject; else null.
    pub mail: Option<MailInfo>,
    /// The best excerpt, with query terms highlighted.
    pub snippet: Snippet,
    /// Query terms (stemmed) that occur in the chunk.
    pub matched_terms: Vec<String>,
    /// Keyword arm rank and BM25 score, when that arm found the chunk.
    pub keyword: Option<ArmScore>,
    /// Semantic arm rank and cosine, when that arm found the chunk.
    pub semantic: Option<ArmScore>,
    /// How strongly the query names the hit's file, in `[0, 1]`, when that raised its fused
    /// score (hybrid mode).
    pub named: Option<f32>,
    /// The sentence or clause (or two adjacent ones) of the chunk that best answers the query,
    /// for the best hits ([`pinpoint`]); null when not computed.
    pub pinpoint: Option<Pinpoint>,
    /// The reranker's score, when the hit was among the re-scored best fused hits
    /// ([`SearchRequest::rerank`]); null otherwise.
    pub rerank: Option<f32>,
    /// Chunks of exactly this text in other places, ranked below this one and collapsed
    /// into it ([`SearchRequest::collapse_copies`]), best first; empty when there are none.
    pub copies: Vec<HitCopy>,
    /// Whether `copies` names every copy of the text: a local index's keys of chunk texts
    /// named them all; or, for other indexes, an arm's candidates reached below the hit's
    /// score (copies found by score score the same), or held every chunk it could give. When
    /// false, there may be more copies than the candidates held.
    pub copies_complete: bool,
    /// Whether the file on disk (for an attachment or a data file's item, the file that holds
    /// it) was modified after the index was last updated, so that the hit may show text the
    /// file no longer holds (`lexsearch index` reads it again); false when the file cannot be
    /// read here.
    pub changed: bool,
    /// The document's lines around what the hit cites, when asked for (`search -C N`,
    /// [`documents::Documents::add_context`]); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<documents::HitContext>,
}

/// Another place of a hit's exact text ([`Hit::copies`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HitCopy {
    /// The chunk's id.
    pub chunk_id: u64,
    /// Absolute path of its document.
    pub path: PathBuf,
    /// Path relative to the indexed folder.
    pub file: String,
    /// 1-based line of the chunk's first byte.
    pub line: u32,
    /// 1-based page of the chunk's first byte (PDF), else null.
    pub page: Option<u32>,
    /// 1-based paragraph of the chunk's first byte (DOCX), else null.
    pub paragraph: Option<u32>,
}

impl Hit {
    /// The line a hit is cited and opened at: its pinpoint's, else its chunk's first line.
    pub fn cited_line(&self) -> u32 {
        self.pinpoint.as_ref().map_or(self.line, |p| p.line)
    }

    /// The line `copy` (one of [`Hit::copies`]) is cited at: as far into its chunk as the
    /// hit's own cited line is into the hit's.
    pub fn copy_line(&self, copy: &HitCopy) -> u32 {
        copy.line + self.cited_line().saturating_sub(self.line)
    }

    /// Where `copy` is, from the indexed folder: `FILE:LINE` for text, else `FILE p. N` or
    /// `FILE ¶ N`.
    pub fn copy_place(&self, copy: &HitCopy) -> String {
        match (copy.page, copy.paragraph) {
            (Some(p), _) => format!("{} p. {p}", copy.file),
            (None, Some(n)) => format!("{} ¶ {n}", copy.file),
            (None, None) => format!("{}:{}", copy.file, self.copy_line(copy)),
        }
    }

    /// "also in N other places: A, B, C and M more" for a hit with copies (at most `shown`
    /// places named; "at least N" unless [`Hit::copies_complete`]), else `None`.
    pub fn copies_line(&self, shown: usize) -> Option<String> {
        let n = self.copies.len();
        if n == 0 {
            return None;
        }
        let named: Vec<String> = self
            .copies
            .iter()
            .take(shown)
            .map(|c| self.copy_place(c))
            .collect();
        let more = n.saturating_sub(named.len());
        Some(format!(
            "also in {}{n} other place{}: {}{}",
            if self.copies_complete {
                ""
            } else {
                "at least "
            },
            if n == 1 { "" } else { "s" },
            named.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
    }

    /// Where the hit is, as a lawyer would cite it: "p. 12", "pp. 12–13", "¶ 7" or "line 45"
    /// (the [`cited_line`](Self::cited_line), as the CLI prints and the TUI opens it); for a
    /// chunk over two or more pages, the page of its pinpoint first: "p. 13 (pp. 12–13)".
    /// A presentation's pages are its slides: "slide 3", "slide 4 (slides 3–4)".
    pub fn place_label(&self) -> String {
        let slides = crate::ingest::walk::FileKind::from_path(Path::new(&self.file))
            == Some(crate::ingest::walk::FileKind::Slides);
        let (one, many) = if slides {
            ("slide", "slides")
        } else {
            ("p.", "pp.")
        };
        match (self.page, self.page_end, self.paragraph) {
            (Some(p), Some(e), _) => match self.pinpoint.as_ref().and_then(|x| x.page) {
                Some(at) => format!("{one} {at} ({many} {p}–{e})"),
                None => format!("{many} {p}–{e}"),
            },
            (Some(p), None, _) => format!("{one} {p}"),
            (None, _, Some(n)) => format!("¶ {n}"),
            _ => format!("line {}", self.cited_line()),
        }
    }
}

/// The hits of one search and what it took.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// Hits, best first.
    pub hits: Vec<Hit>,
    /// Query terms the keyword arm looked for (after stemming).
    pub keyword_terms: Vec<String>,
    /// Wall time of the search, query embedding and pinpoints included.
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    /// Wall time spent finding pinpoints (part of `elapsed`).
    #[serde(serialize_with = "as_millis")]
    pub pinpoint_elapsed: Duration,
    /// Wall time spent reranking (part of `elapsed`), when a reranker ran.
    #[serde(
        serialize_with = "as_millis_if_some",
        skip_serializing_if = "Option::is_none"
    )]
    pub rerank_elapsed: Option<Duration>,
    /// How many indexed files the request's path filter kept; `None` without a filter, and
    /// for a remote index (whose hits are filtered as they come).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_in_scope: Option<usize>,
    /// Words or phrases every hit holds (`+word`, `+"a phrase"` in the query).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<String>,
    /// Pairs of words every hit has close together (`a w/N b`, `a /s b`, `a /p b`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub near: Vec<Near>,
    /// Groups of words or phrases every hit holds one of (`+(a OR b)`, `c AND (a OR b)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any_required: Vec<Vec<String>>,
    /// Groups of pairs every hit has one of close together (`(a OR b) w/5 c`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub any_near: Vec<Vec<Near>>,
    /// Words or phrases no hit holds (`-word`, `-"a phrase"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
    /// Pairs no hit has close together (`NOT (late w/3 fee)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_near: Vec<Near>,
    /// Pairs whose first side every hit has somewhere the second is not that close to
    /// (`a not w/5 b`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub apart: Vec<Near>,
    /// Words or roots every hit holds at least so many times (`atleast3(a)`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_least: Vec<AtLeast>,
    /// When every hit's e-mail was sent, as written after each `sent:` of the query
    /// (`2020-03`, `>=2021`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sent: Vec<String>,
    /// Words or phrases the `From` of every hit's e-mail holds (`from:` items).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<String>,
    /// Words or phrases its `To` or `Cc` holds (`to:` items).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// Words or phrases the folder that holds it holds (`folder:` items).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub folder: Vec<String>,
    /// Words or phrases the `From` of no hit's e-mail holds (`-from:` items).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_from: Vec<String>,
    /// Words or phrases the `To` or `Cc` of none holds (`-to:` items).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_to: Vec<String>,
    /// Words or phrases the folder of none holds (`-folder:` items).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_folder: Vec<String>,
    /// When none was sent, as written after each `-sent:` of the query.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_sent: Vec<String>,
    /// Words or phrases the headings over every hit hold (`heading:` items: its document's
    /// title and file name and the headings above it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heading: Vec<String>,
    /// Words or phrases the headings over no hit hold (`-heading:` items).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_heading: Vec<String>,
    /// Terms every hit defines (`define:` items), each pinpointed at its definition.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub define: Vec<String>,
    /// The chunk whose like was searched for (`SearchRequest::like` or the query's
    /// `like:`); printed by [`SearchJson`].
    #[serde(skip)]
    pub like: Option<ChunkId>,
}

/// The document `lexsearch search --json` prints (docs/json.md), also the answer of the MCP
/// `search` tool: the request's settings, then the results.
#[derive(Debug, Serialize)]
pub struct SearchJson<'a> {
    /// The query as typed.
    pub query: &'a str,
    /// The mode's name.
    pub mode: &'static str,
    /// Number of hits asked for.
    pub k: usize,
    /// How hybrid search fused the arms.
    pub fusion: Fusion,
    /// The reranker and how many hits it re-scored; null without one.
    pub rerank: Option<RerankSummary>,
    /// The path patterns the search was narrowed to (absent when it searched every file).
    #[serde(skip_serializing_if = "PathFilter::is_empty")]
    pub paths: &'a PathFilter,
    /// The most hits taken from one file (absent without a limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_file: Option<usize>,
    /// The chunk whose like was searched for (absent for a search by query).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub like: Option<u64>,
    /// Hits, terms and time.
    #[serde(flatten)]
    pub results: &'a SearchResults,
}

impl<'a> SearchJson<'a> {
    /// The JSON document of `results`, found for `req`.
    pub fn new(req: &'a SearchRequest, results: &'a SearchResults) -> Self {
        SearchJson {
            query: &req.query,
            // A search like a chunk is semantic whatever the request's mode says.
            mode: if results.like.is_some() {
                Mode::Semantic.name()
            } else {
                req.mode.name()
            },
            k: req.k,
            fusion: req.fusion,
            rerank: req.rerank.as_ref().map(Rerank::summary),
            paths: &req.paths,
            max_per_file: req.max_per_file,
            like: results.like.map(|id| id.0),
            results,
        }
    }
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

fn as_millis_if_some<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match d {
        Some(d) => as_millis(d, s),
        None => s.serialize_none(),
    }
}

/// A read-only view of one generation of an index, pinned for as long as the searcher lives
/// (writers publish newer generations beside it and never delete one a searcher holds).
/// Cheap to keep open; searches do not block writers.
pub struct Searcher {
    dir: PathBuf,
    arms: Arms,
    /// Every indexed file's document and path, read once for the first search narrowed to
    /// some files (a local index made before the keyword index's `file` field only).
    files: OnceLock<Vec<(DocId, String)>>,
    /// The last path filter searched and what it resolved to ([`Searcher::scope`]): a TUI
    /// or an assistant usually asks several questions of the same files.
    last_scope: Mutex<Option<(PathFilter, Scope)>>,
    /// Each indexed file's recorded size and content hash, read at the first hit whose file
    /// was modified after the index was written ([`Searcher::mark_changed`]).
    file_records: OnceLock<HashMap<PathBuf, (u64, String)>>,
    /// The files looked at for [`Hit::changed`], and what was found.
    changed_files: Mutex<HashMap<PathBuf, FileVerdict>>,
}

/// The chunks of the files a path filter keeps (`None`: every file's) and how many files.
type Scope = (Option<ChunkSet>, usize);

/// What a place (`FILE:LINE`) names in an index ([`Searcher::chunk_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassageAt {
    /// The passage holding the line: of those that begin at or before it, the one that
    /// begins last. A line between two passages (a blank line before a heading) gives the
    /// passage after it, and a line before the first passage the first.
    Found(ChunkId),
    /// The index has no file of that name.
    NoFile,
    /// The file's passages end before the line.
    PastEnd {
        /// The last line of the file's last passage.
        last_line: u32,
    },
}

impl PassageAt {
    /// Why no passage of `file` is at the place, and what to give instead (`root`: the
    /// indexed folder, which files are named from).
    pub fn why(&self, file: &str, root: &Path) -> String {
        match self {
            PassageAt::Found(_) => format!("{file:?} has a passage there"),
            PassageAt::NoFile => format!(
                "the index has no file {file:?}: name it as a hit does, from {}",
                root.display()
            ),
            PassageAt::PastEnd { last_line } => {
                format!("{file:?}'s indexed passages end at line {last_line}")
            }
        }
    }
}

/// One passage of a file: its first and last lines, its first byte and its chunk.
struct PassageSpan {
    first: u32,
    last: u32,
    start: usize,
    id: ChunkId,
}

/// The passage of `spans` (one file's) at `line` ([`PassageAt`]).
fn passage_at_line(spans: &[PassageSpan], line: u32) -> PassageAt {
    let holding = spans
        .iter()
        .filter(|s| s.first <= line && line <= s.last)
        .max_by_key(|s| (s.first, s.start));
    if let Some(s) = holding {
        return PassageAt::Found(s.id);
    }
    let Some(last_line) = spans.iter().map(|s| s.last).max() else {
        return PassageAt::NoFile;
    };
    spans
        .iter()
        .filter(|s| s.first > line)
        .min_by_key(|s| (s.first, s.start))
        .map_or(PassageAt::PastEnd { last_line }, |s| PassageAt::Found(s.id))
}

/// What a search for passages like a chunk needs ([`Searcher::like`]).
struct Like {
    /// The chunk's vector.
    vector: Vec<f32>,
    /// The chunk and those of its document that overlap it.
    leave_out: HashSet<ChunkId>,
}

/// A search of a remote index narrowed to some files fetches this many times more
/// candidates per arm (at most [`MAX_REMOTE_FILTER_CANDIDATES`]) and keeps those of the
/// files, so that `k` hits survive when the collection has them.
const REMOTE_FILTER_DEPTH: usize = 20;
/// How many of a root's words (the most frequent in the index) the keyword arm searches for.
pub const ROOT_WORDS: usize = 20;
const MAX_REMOTE_FILTER_CANDIDATES: usize = 1_000;
/// A search that takes at most a few hits per file fetches this many times more
/// candidates per arm (at most [`MAX_PER_FILE_CANDIDATES`]), since the best chunks of a
/// long document crowd the top of each arm.
const PER_FILE_DEPTH: usize = 8;
const MAX_PER_FILE_CANDIDATES: usize = 2_000;
/// The deepest a search fetches to find `k` different passages among copies of one text
/// ([`SearchRequest::collapse_copies`]): 64 times the usual candidates.
const COPIES_MAX_DEPTH: usize = 64;

/// How deep a try of a search reaches, as multiples of the usual: the candidates each arm
/// fetches, and the different scores it passes on to fusion.
#[derive(Debug, Clone, Copy)]
struct Depth {
    fetch: usize,
    window: usize,
}

/// What a search's try says of the next: none, or the arms fetching deeper because copies
/// crowd their candidates, or also passing on more because copies left fewer than `k` hits.
enum Retry {
    Done,
    Deeper,
    Wider,
}

/// Whether two arm scores are the same score: copies of a text score alike, but BM25 adds
/// its fields' and terms' parts in an order that can differ between segments, so their f32
/// scores may differ in the last digits.
fn same_score(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-5 * a.abs().max(b.abs())
}

/// The best of an arm's candidates (sorted best first) up to its `n`th different score, with
/// every candidate tied with those scores ([`same_score`]); and how many different scores it
/// holds (`n` at most).
fn distinct_window(mut arm: Vec<(ChunkId, f32)>, n: usize) -> (Vec<(ChunkId, f32)>, usize) {
    let mut distinct = 0;
    // The first score of the group of tied ones being read.
    let mut group = None;
    for i in 0..arm.len() {
        let score = arm[i].1;
        if !group.is_some_and(|g| same_score(g, score)) {
            if distinct == n {
                arm.truncate(i);
                break;
            }
            distinct += 1;
            group = Some(score);
        }
    }
    (arm, distinct)
}

/// Where a searcher's two arms live: this machine's keyword index and vector graph, or a
/// remote index (Milvus) that also stores every chunk's text and place. (One per searcher:
/// the size of the local variant does not matter.)
#[allow(clippy::large_enum_variant)]
enum Arms {
    Local {
        snapshot: Snapshot,
        keyword: KeywordIndex,
        vectors: VectorIndex,
    },
    Remote {
        index: Arc<dyn RemoteIndex>,
        manifest: Manifest,
        fusion: RemoteFusion,
    },
}

/// The fusion a server runs for `fusion`: RRF keeps its constant (Milvus's RRF has no arm
/// weights), weighted fusion its weights.
fn server_fusion(fusion: Fusion) -> ServerFusion {
    match fusion {
        Fusion::Rrf { k, .. } => ServerFusion::Rrf { k },
        Fusion::Weighted { alpha } => ServerFusion::Weighted {
            keyword: 1.0 - alpha,
            semantic: alpha,
        },
    }
}

impl Library {
    /// A searcher over the current generation of this index.
    pub fn searcher(&self) -> Result<Searcher> {
        let snapshot = self.snapshot()?;
        let paths = snapshot.paths();
        let manifest = snapshot.manifest();
        let keyword = KeywordIndex::open(&paths.keyword())?;
        let vectors =
            VectorIndex::open_for_search(&paths.vectors(), manifest.model.dim, manifest.chunks)?;
        Ok(Searcher {
            dir: self.dir().to_path_buf(),
            arms: Arms::Local {
                snapshot,
                keyword,
                vectors,
            },
            files: OnceLock::new(),
            last_scope: Mutex::new(None),
            file_records: OnceLock::new(),
            changed_files: Mutex::new(HashMap::new()),
        })
    }
}

/// The paragraph a query cites, by the chunk that holds it: byte offsets of its document
/// ([`Searcher::favour_cited`]).
type CitedPins = HashMap<ChunkId, std::ops::Range<usize>>;

/// The pinpoint of `hit` at the first sentence of its text that defines one of
/// `definitions` (`define:` terms), if one does.
fn definition_pin(hit: &Hit, definitions: &[Definition]) -> Option<Pinpoint> {
    let at = (definitions.iter())
        .filter_map(|d| d.places(&hit.text).first().map(|p| p.start))
        .min()?;
    let sentence = crate::ingest::segment::segments(&hit.text, false)
        .into_iter()
        .find(|s| s.end > at)?;
    Some(pinpoint::pinpoint_of(hit, sentence, 1.0))
}

impl Searcher {
    /// Opens the index in `dir` ([`Library::searcher`]).
    pub fn open(dir: &Path) -> Result<Self> {
        Library::at(dir).searcher()
    }

    /// A searcher over a remote index (`--backend milvus://...`), on any machine that has
    /// the model: hits come with their text and place from the remote index itself.
    pub fn open_remote(index: Arc<dyn RemoteIndex>) -> Result<Self> {
        let Some(json) = index.manifest_json()? else {
            return Err(Error::Remote {
                server: index.name().to_string(),
                action: "opening the collection".into(),
                cause: format!(
                    "it holds no complete lexsearch index; index into it first with \
                     `lexsearch index DIR --backend {}`",
                    index.name()
                ),
            });
        };
        let manifest = serde_json::from_str(&json).map_err(|e| Error::Remote {
            server: index.name().to_string(),
            action: "reading the collection's manifest".into(),
            cause: e.to_string(),
        })?;
        Ok(Searcher {
            dir: PathBuf::from(index.name()),
            arms: Arms::Remote {
                index,
                manifest,
                fusion: RemoteFusion::default(),
            },
            files: OnceLock::new(),
            last_scope: Mutex::new(None),
            file_records: OnceLock::new(),
            changed_files: Mutex::new(HashMap::new()),
        })
    }

    /// Connects to the remote index `spec` names and opens a searcher over it.
    pub fn open_backend(spec: &RemoteSpec) -> Result<Self> {
        Ok(Self::open_remote(spec.connect()?)?.with_remote_fusion(spec.fusion))
    }

    /// Where hybrid searches of a remote index fuse their arms (no effect on a local index).
    pub fn with_remote_fusion(mut self, fusion: RemoteFusion) -> Self {
        if let Arms::Remote { fusion: f, .. } = &mut self.arms {
            *f = fusion;
        }
        self
    }

    /// The remote index whose own hybrid search fuses a `mode` search, if any.
    fn fused_by_server(&self, mode: Mode) -> Option<&Arc<dyn RemoteIndex>> {
        match &self.arms {
            Arms::Remote {
                index,
                fusion: RemoteFusion::Server,
                ..
            } if mode == Mode::Hybrid => Some(index),
            _ => None,
        }
    }

    /// Whether a writer has published a newer generation since this searcher opened (a
    /// long-lived reader then opens a new searcher to see it). A remote index is always
    /// current: the server serves what it was last sent.
    pub fn is_current(&self) -> bool {
        match &self.arms {
            Arms::Local { snapshot, .. } => Library::at(&self.dir).is_current(snapshot),
            Arms::Remote { .. } => true,
        }
    }

    /// The index's manifest (model, chunker, counts).
    pub fn manifest(&self) -> &Manifest {
        match &self.arms {
            Arms::Local { snapshot, .. } => snapshot.manifest(),
            Arms::Remote { manifest, .. } => manifest,
        }
    }

    /// The index folder (for a remote index, its `milvus://...` name).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The remote index searched, if any.
    pub fn remote(&self) -> Option<&Arc<dyn RemoteIndex>> {
        match &self.arms {
            Arms::Local { .. } => None,
            Arms::Remote { index, .. } => Some(index),
        }
    }

    /// The local keyword index, which also stores every chunk's text and place; a remote
    /// index has none (its chunks are read with [`fetch`](Self::fetch)).
    pub fn keyword_index(&self) -> Result<&KeywordIndex> {
        match &self.arms {
            Arms::Local { keyword, .. } => Ok(keyword),
            Arms::Remote { index, .. } => Err(Error::InvalidSetting(format!(
                "{} holds only chunks: whole documents and outlines need a local index",
                index.name()
            ))),
        }
    }

    /// How rare the query's terms ([`pinpoint::query_terms`]) are among the index's chunks,
    /// for weighing pinpoints; `None` for a remote index (its pinpoints weigh terms among
    /// their candidates).
    pub fn term_rarity(&self, query: &str) -> Result<Option<TermRarity>> {
        match &self.arms {
            Arms::Local { keyword, .. } => {
                let terms = pinpoint::query_terms(query);
                let (chunks, df) = keyword.doc_freqs(&terms)?;
                Ok(Some(TermRarity {
                    chunks,
                    df: terms.into_iter().zip(df).collect(),
                }))
            }
            Arms::Remote { .. } => Ok(None),
        }
    }

    /// The chunks of the files `paths` keeps (`None`: every file's) and how many files that
    /// is; `None` when the filter is empty or the index is remote (its hits are filtered by
    /// path as they come).
    fn scope(&self, paths: &PathFilter) -> Result<Option<Scope>> {
        let Arms::Local { keyword, .. } = &self.arms else {
            return Ok(None);
        };
        if paths.is_empty() {
            return Ok(None);
        }
        let last = || {
            self.last_scope
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some((searched, scope)) = &*last()
            && searched == paths
        {
            return Ok(Some(scope.clone()));
        }
        let matcher = paths.matcher();
        if let Some(scope) = keyword.files_kept(|path| matcher.keeps(path))? {
            *last() = Some((paths.clone(), scope.clone()));
            return Ok(Some(scope));
        }
        // An index made before the `file` field: its files from the stored chunks.
        let files = match self.files.get() {
            Some(files) => files,
            None => {
                let read = keyword
                    .documents()?
                    .into_iter()
                    .map(|c| (c.doc_id, c.path))
                    .collect();
                self.files.get_or_init(|| read)
            }
        };
        let docs: Vec<DocId> = files
            .iter()
            .filter(|(_, path)| matcher.keeps(path))
            .map(|(doc, _)| *doc)
            .collect();
        // A filter that keeps every file narrows nothing.
        let chunks = if docs.len() == files.len() {
            None
        } else {
            Some(keyword.chunks_of_documents(&docs)?)
        };
        let scope = (chunks, docs.len());
        *last() = Some((paths.clone(), scope.clone()));
        Ok(Some(scope))
    }

    /// The hits of `found` from files `paths` keeps whose text holds what `ops` requires
    /// and nothing it excludes, in their order (each chunk read with [`fetch`](Self::fetch),
    /// which a remote index answers from its last searches).
    fn kept(
        &self,
        found: Vec<(ChunkId, f32)>,
        paths: &PathFilter,
        ops: &Operators,
        sent: Option<SentWindow>,
    ) -> Result<Vec<(ChunkId, f32)>> {
        if paths.is_empty() && !ops.constrains() {
            return Ok(found);
        }
        let mut kept = Vec::with_capacity(found.len());
        for (id, score) in found {
            if self
                .fetch(id)?
                .is_some_and(|c| paths.keeps(&c.path) && ops.admits_chunk(&c, sent))
            {
                kept.push((id, score));
            }
        }
        Ok(kept)
    }

    /// `fused` with the chunks that hold the paragraph the query cites (`§ 42-3505.01(c-1)`,
    /// `Section 7.2(a)`: [`citation::cited_paragraph`]) first, in the order the search ranked
    /// them, scored as the best: in a local index, one chunk of each section whose document's
    /// title or breadcrumb names the number and whose text has the paragraph, that meets the
    /// query's conditions. A lawyer who cites a paragraph wants its text, which
    /// neither arm ranks first (the section's number is in its title, the label is a letter).
    /// Also the pinpoint of each such chunk: the paragraph's first line or two, as byte
    /// offsets of its document ([`citation::pinpointed`], found in the text its cited chunks
    /// cover together, since a chunk may end after a label and the next one hold its text).
    fn favour_cited(
        &self,
        mut fused: Vec<Fused>,
        req: &SearchRequest,
        query: &str,
        ops: &Operators,
        sent: Option<SentWindow>,
    ) -> Result<(Vec<Fused>, CitedPins)> {
        let mut pins = HashMap::new();
        let (Some(cited), Arms::Local { keyword, .. }) =
            (citation::cited_paragraph(query), &self.arms)
        else {
            return Ok((fused, pins));
        };
        // The chunks of the cited section: their document's title or their breadcrumb names
        // it (a contract's Section 7.2, a code's § 42-3505.01), in document order.
        let chunks = keyword.chunks_in_context(cited.number, |c| {
            std::iter::once(&c.title)
                .chain(&c.breadcrumb)
                .any(|h| citation::names_number(h, cited.number))
        })?;
        let mut found: Vec<(ChunkId, f32)> = Vec::new();
        for section in chunks.chunk_by(|a, b| a.doc_id == b.doc_id) {
            // The text they cover; between them (white space a chunk does not start or end
            // with), a line break and spaces, so that the next line keeps its indent.
            // Bytes from the first chunk's start (`base`) on.
            let base = section.iter().map(|c| c.range.start).min().unwrap_or(0);
            let end = section.iter().map(|c| c.range.end).max().unwrap_or(0);
            let mut bytes = vec![b' '; end - base];
            let mut covered = vec![false; end - base];
            for c in section.iter().filter(|c| c.text.len() == c.range.len()) {
                let at = c.range.start - base..c.range.end - base;
                bytes[at.clone()].copy_from_slice(c.text.as_bytes());
                covered[at].fill(true);
            }
            for i in 1..covered.len() {
                if !covered[i] && covered[i - 1] {
                    bytes[i] = b'\n';
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let Some(pin) = citation::pinpointed(&text, &cited.labels) else {
                continue;
            };
            let pin = pin.start + base..pin.end + base;
            // The chunk holding the whole pinpoint, else its end (the text under a label that
            // ends a chunk), else its start.
            let holds = |c: &&StoredChunk, at: usize| c.range.contains(&at);
            let last = pin.end.saturating_sub(1);
            let Some(c) = (section.iter())
                .find(|c| holds(c, pin.start) && holds(c, last))
                .or_else(|| section.iter().find(|c| holds(c, last)))
                .or_else(|| section.iter().find(|c| holds(c, pin.start)))
            else {
                continue;
            };
            let start = pin.start.max(c.range.start);
            pins.insert(c.chunk_id, start..pin.end.min(c.range.end));
            found.push((c.chunk_id, 0.0));
        }
        let mut cited_ids = self.kept(found, &req.paths, ops, sent)?;
        if cited_ids.is_empty() {
            return Ok((fused, pins));
        }
        // Several sections cited so (Section 7.2(a) of each contract): as the search ranked
        // them.
        let rank = |id: ChunkId| {
            (fused.iter())
                .position(|f| f.chunk_id == id)
                .unwrap_or(usize::MAX)
        };
        cited_ids.sort_by_key(|&(id, _)| rank(id));
        let best = fused.first().map_or(1.0, |f| f.score);
        let mut front: Vec<Fused> = Vec::with_capacity(cited_ids.len());
        for (id, _) in cited_ids {
            let f = match fused.iter().position(|f| f.chunk_id == id) {
                Some(at) => fused.remove(at),
                None => Fused {
                    chunk_id: id,
                    score: best,
                    keyword: None,
                    semantic: None,
                    named: None,
                },
            };
            front.push(Fused { score: best, ..f });
        }
        front.extend(fused);
        Ok((front, pins))
    }

    /// What a search for passages like chunk `id` needs: its vector (from the graph's
    /// search file, or the server), and the chunks to leave out (itself and those of its
    /// document that overlap it).
    fn like(&self, id: ChunkId) -> Result<Like> {
        let chunk = self.fetch(id)?.ok_or_else(|| {
            Error::InvalidSetting(format!(
                "the index has no chunk {}: it was changed since that chunk was found; \
                 search again",
                id.0
            ))
        })?;
        let vector =
            match &self.arms {
                Arms::Local { vectors, .. } => vectors
                    .vector_of(id)
                    .map(<[f32]>::to_vec)
                    .ok_or_else(|| Error::OutdatedIndex {
                        index: self.dir.clone(),
                        lacks: "the vector graph's search file (graph.flat), which holds \
                                each chunk's vector"
                            .into(),
                    })?,
                Arms::Remote { index, .. } => index.vector(id)?.ok_or_else(|| {
                    Error::InvalidSetting(format!(
                        "{} holds no vector for chunk {}: it was changed since that chunk was \
                     found; search again",
                        index.name(),
                        id.0
                    ))
                })?,
            };
        let leave_out = self
            .chunks_of_file(&chunk.path)?
            .into_iter()
            .filter(|c| {
                c.doc_id == chunk.doc_id
                    && c.range.start < chunk.range.end
                    && chunk.range.start < c.range.end
            })
            .map(|c| c.chunk_id)
            .chain([id])
            .collect();
        Ok(Like { vector, leave_out })
    }

    /// The chunks of `file` (relative to the indexed folder), in text order.
    fn chunks_of_file(&self, file: &str) -> Result<Vec<StoredChunk>> {
        match &self.arms {
            Arms::Local { keyword, .. } => keyword.chunks_of_file(file),
            Arms::Remote { index, .. } => index.chunks_of_file(file),
        }
    }

    /// The passage of `file` (relative to the indexed folder, as hits name it) at `line`
    /// (1-based, as hits give it; see [`PassageAt`]).
    pub fn chunk_at(&self, file: &str, line: u32) -> Result<PassageAt> {
        let spans: Vec<PassageSpan> = self
            .chunks_of_file(file)?
            .iter()
            .map(|c| PassageSpan {
                first: c.line,
                last: c.line.saturating_add(c.text.matches('\n').count() as u32),
                start: c.range.start,
                id: c.chunk_id,
            })
            .collect();
        Ok(passage_at_line(&spans, line))
    }

    /// The chunk at `place`, `FILE:LINE` as hits name them (a query's `like:`).
    fn chunk_at_place(&self, place: &str) -> Result<ChunkId> {
        let at = match place.rsplit_once(':') {
            Some((file, line)) => match line.trim().parse::<u32>() {
                Ok(line) => Some(self.chunk_at(file, line)?),
                Err(_) => None,
            },
            None => None,
        };
        match at {
            Some(PassageAt::Found(id)) => Ok(id),
            Some(miss) => Err(Error::InvalidQuery(format!(
                "like:{place} names no passage of the index: {}",
                miss.why(
                    &place[..place.rfind(':').unwrap_or(0)],
                    &self.manifest().root
                )
            ))),
            None => Err(Error::InvalidQuery(format!(
                "like:{place} names no passage of the index: give like:FILE:LINE, the file as a \
                 hit names it (quoted if it has spaces: like:\"my lease.txt:27\") and a line \
                 inside it"
            ))),
        }
    }

    /// A chunk's stored fields: text, place, document.
    pub fn fetch(&self, id: ChunkId) -> Result<Option<StoredChunk>> {
        match &self.arms {
            Arms::Local { keyword, .. } => keyword.fetch(id),
            Arms::Remote { index, .. } => index.fetch(id),
        }
    }

    /// Re-ranks the best fused results (twice `k`, `k` at least [`FUSED_AS_IF_K`]) by how
    /// strongly the query names their documents' files, read from the keyword index. (Titles
    /// are not used: a title is often a document's first sentence, or generic words such as
    /// "Non-Disclosure Agreement" that every question about such contracts repeats;
    /// docs/quality.md.)
    /// Also returns the chunks it read, for the hits to reuse.
    fn favour_named(
        &self,
        fused: Vec<Fused>,
        req: &SearchRequest,
        query: &str,
    ) -> Result<(Vec<Fused>, HashMap<ChunkId, StoredChunk>)> {
        if req.name_weight <= 0.0 {
            return Ok((fused, HashMap::new()));
        }
        // The same results whatever `k` ([`FUSED_AS_IF_K`]): names are weighted among them.
        let top = fused.len().min(req.candidates_k().saturating_mul(2));
        // Each result's document, and each document's name, once.
        let mut read = HashMap::with_capacity(top);
        let mut doc_of = Vec::with_capacity(top);
        let mut docs: HashMap<String, usize> = HashMap::new();
        let mut names = Vec::new();
        for f in &fused[..top] {
            let Some(c) = self.fetch(f.chunk_id)? else {
                doc_of.push(None);
                continue;
            };
            let next = docs.len();
            let doc = *docs.entry(c.path.clone()).or_insert_with(|| {
                names.push(KeywordIndex::name_terms(&name_words(&c.path)));
                next
            });
            doc_of.push(Some(doc));
            read.insert(f.chunk_id, c);
        }
        // Words glued in camel case come apart in the query as in the names
        // (`FullStory's` and `FullStory+Mutual+NDA`).
        let (terms, _) = KeywordIndex::terms_of(&camel_case_words(query));
        let by_doc = name_match(&terms, &names);
        let named: Vec<f32> = doc_of
            .iter()
            .map(|d| d.map_or(0.0, |d| by_doc[d]))
            .collect();
        Ok((favour_named(fused, &named, req.name_weight), read))
    }

    /// Re-scores the best `rerank.top` fused results with the cross-encoder and puts them
    /// first, best score first; the rest follow in their fused order. Reads the candidates'
    /// chunks into `read` (an orphan vector, with no chunk, is dropped as the hits would drop
    /// it). Returns the reordered results and each re-scored chunk's score.
    fn rerank(
        &self,
        mut fused: Vec<Fused>,
        rerank: &Rerank,
        query: &str,
        read: &mut HashMap<ChunkId, StoredChunk>,
    ) -> Result<(Vec<Fused>, HashMap<ChunkId, f32>)> {
        let rest = fused.split_off(fused.len().min(rerank.top));
        let mut candidates = Vec::with_capacity(fused.len());
        for f in fused {
            if let std::collections::hash_map::Entry::Vacant(slot) = read.entry(f.chunk_id) {
                match self.fetch(f.chunk_id)? {
                    Some(c) => {
                        slot.insert(c);
                    }
                    None => continue,
                }
            }
            candidates.push(f);
        }
        let texts: Vec<&str> = candidates
            .iter()
            .map(|f| read.get(&f.chunk_id).map_or("", |c| c.text.as_str()))
            .collect();
        let scores = rerank.model.score(query, &texts)?;
        let by_id = candidates
            .iter()
            .zip(&scores)
            .map(|(f, &s)| (f.chunk_id, s))
            .collect();
        let mut reordered: Vec<Fused> = order_by_score(&scores)
            .into_iter()
            .map(|i| candidates[i])
            .collect();
        reordered.extend(rest);
        Ok((reordered, by_id))
    }

    /// The text searched for when `text` has roots (`negligen!`, `wom*n`), as two texts:
    /// the first, for the semantic arm (and fusion, names, reranking), has each root's most
    /// frequent word in the index; the second, for the keyword arm (and snippets, pinpoints,
    /// `keyword_terms`), its [`ROOT_WORDS`] most frequent words. A remote index lists no words
    /// here, so a root stands for its letters (`negligen`) there, as a filter still checks
    /// each hit's text.
    ///
    /// In a quoted phrase (`"breach of contract!"`) the first text has the most frequent word
    /// in the root's place, and the second keeps the root where it is, for the keyword arm's
    /// phrase boost (any word it stands for, there), with its words after the query.
    fn expand_roots(&self, text: &str) -> Result<(String, String)> {
        let bare = |w: &'_ str| -> (usize, usize) {
            let inner = w.trim_start_matches('"');
            let start = w.len() - inner.len();
            (start, start + inner.trim_end_matches('"').len())
        };
        let root_of = |w: &str| {
            let (from, to) = bare(w);
            Root::parse(&w[from..to])
        };
        if !text.split_whitespace().any(|w| root_of(w).is_some()) {
            return Ok((text.to_string(), text.to_string()));
        }
        let (mut natural, mut words, mut after) = (Vec::new(), Vec::new(), Vec::new());
        let mut quoted = false;
        for w in text.split_whitespace() {
            let quotes = w.matches('"').count();
            // In a phrase of two or more words: one opened before, or one this word opens.
            let in_phrase = quoted || (w.starts_with('"') && quotes % 2 == 1);
            if quotes % 2 == 1 {
                quoted = !quoted;
            }
            let Some(root) = root_of(w) else {
                natural.push(w.to_string());
                words.push(w.to_string());
                continue;
            };
            let found = match &self.arms {
                Arms::Local { keyword, .. } => keyword.expand(&root)?,
                Arms::Remote { .. } => Vec::new(),
            };
            let (from, to) = bare(w);
            let in_place = |word: &str| format!("{}{word}{}", &w[..from], &w[to..]);
            match found.first() {
                Some((most, _)) => natural.push(in_place(most)),
                None => {
                    natural.push(in_place(&root.prefix()));
                    words.push(in_place(&root.prefix()));
                    continue;
                }
            }
            // A compound the root starts (`defendant-appellee` for `defend!`) stands for its
            // words the root stands for (`defendant`), so that "appellee" is not searched for.
            let mut forms: Vec<String> = Vec::new();
            for (word, _) in found.into_iter().take(ROOT_WORDS) {
                let parts: Vec<&str> = (word.split(|c: char| !c.is_alphanumeric()))
                    .filter(|p| root.matches(p))
                    .collect();
                let kept = if parts.is_empty() {
                    vec![word.as_str()]
                } else {
                    parts
                };
                for k in kept {
                    if !forms.iter().any(|f| f == k) {
                        forms.push(k.to_string());
                    }
                }
            }
            if in_phrase {
                words.push(w.to_string());
                after.extend(forms);
            } else {
                // A word alone in quotes is a word; a quote that opens or closes a phrase
                // further on stays, so that the phrases after it are still read as typed.
                if (from + w.len() - to) % 2 == 1 {
                    words.push("\"".to_string());
                }
                words.extend(forms);
            }
        }
        words.extend(after);
        Ok((natural.join(" "), words.join(" ")))
    }

    /// Runs a search. Semantic and hybrid modes need `embedder`, which must be the model that
    /// built the index.
    pub fn search(
        &self,
        req: &SearchRequest,
        embedder: Option<&Embedder>,
    ) -> Result<SearchResults> {
        // A phrase pasted from a word processor (“force majeure”) is a quoted phrase.
        let straight;
        let req = match operators::straight_quotes(&req.query) {
            Some(query) => {
                straight = SearchRequest {
                    query,
                    ..req.clone()
                };
                &straight
            }
            None => req,
        };
        // When copies of one text crowd an arm's candidates, or leave fewer than `k`
        // different passages, the arms fetch deeper: 4, 16 and 64 times (the query embedded
        // once; `elapsed` counts every try).
        let started = Instant::now();
        let query_vector = OnceLock::new();
        let mut depth = Depth {
            fetch: 1,
            window: 1,
        };
        loop {
            let (results, retry) =
                self.search_at_depth(req, embedder, depth, started, &query_vector)?;
            if depth.fetch >= COPIES_MAX_DEPTH {
                return Ok(results);
            }
            match retry {
                Retry::Done => return Ok(results),
                Retry::Deeper => depth.fetch *= 4,
                Retry::Wider => {
                    depth.fetch *= 4;
                    depth.window *= 4;
                }
            }
        }
    }

    /// Adds to `hits` the copies of their texts (`by_text`) among the candidates `rest`,
    /// reading only those with one of the hits' exact keyword or semantic scores.
    fn gather_copies(
        &self,
        hits: &mut [Hit],
        rest: impl Iterator<Item = Fused>,
        by_text: &HashMap<blake3::Hash, usize>,
        read: &mut HashMap<ChunkId, StoredChunk>,
    ) -> Result<()> {
        let scores = |arm: fn(&Hit) -> Option<ArmScore>| -> Vec<f32> {
            hits.iter()
                .filter_map(|h| arm(h).map(|a| a.score))
                .collect()
        };
        let (keyword, semantic) = (scores(|h| h.keyword), scores(|h| h.semantic));
        for f in rest {
            let same = |a: Option<ArmScore>, s: &[f32]| {
                a.is_some_and(|a| s.iter().any(|&s| same_score(s, a.score)))
            };
            if !same(f.keyword, &keyword) && !same(f.semantic, &semantic) {
                continue;
            }
            let stored = match read.remove(&f.chunk_id) {
                Some(c) => c,
                None => match self.fetch(f.chunk_id)? {
                    Some(c) => c,
                    None => continue,
                },
            };
            if let Some(&i) = by_text.get(&blake3::hash(stored.text.as_bytes())) {
                hits[i].copies.push(self.copy(f.chunk_id, stored));
            }
        }
        Ok(())
    }

    /// Adds to each hit every other chunk of a local index holding its text word for word
    /// that the search could return (`within` keeps it, and a search like a passage does
    /// not leave it out), after those the candidates held; their lists are then complete.
    fn add_every_copy(
        &self,
        hits: &mut [Hit],
        within: &ChunkFilter,
        leave_out: Option<&HashSet<ChunkId>>,
        read: &mut HashMap<ChunkId, StoredChunk>,
    ) -> Result<()> {
        let Arms::Local { keyword, .. } = &self.arms else {
            return Ok(());
        };
        for hit in hits {
            let Some(holding) = keyword.chunks_holding(&hit.text)? else {
                return Ok(());
            };
            let listed: HashSet<u64> = hit.copies.iter().map(|c| c.chunk_id).collect();
            for id in holding {
                if id.0 == hit.chunk_id
                    || listed.contains(&id.0)
                    || !within.keeps(id.0)
                    || leave_out.is_some_and(|l| l.contains(&id))
                {
                    continue;
                }
                let stored = match read.remove(&id) {
                    Some(c) => c,
                    None => match keyword.fetch(id)? {
                        Some(c) => c,
                        None => continue,
                    },
                };
                // The key is a hash: the text itself decides.
                if stored.text == hit.text {
                    hit.copies.push(self.copy(id, stored));
                }
            }
            hit.copies_complete = true;
        }
        Ok(())
    }

    /// A chunk as one of a hit's [`Hit::copies`].
    fn copy(&self, id: ChunkId, stored: StoredChunk) -> HitCopy {
        HitCopy {
            chunk_id: id.0,
            path: self.manifest().root.join(&stored.path),
            file: stored.path,
            line: stored.line,
            page: stored.place.page,
            paragraph: stored.place.paragraph,
        }
    }

    /// [`Searcher::search`] with each arm fetching `depth.fetch` times its usual candidates
    /// and passing on `depth.window` times its usual number of different scores; also says
    /// whether to try again deeper. The search began at `started`; `query_vector` keeps the
    /// query's embedding for the next try.
    fn search_at_depth(
        &self,
        req: &SearchRequest,
        embedder: Option<&Embedder>,
        depth: Depth,
        started: Instant,
        query_vector: &OnceLock<Vec<f32>>,
    ) -> Result<(SearchResults, Retry)> {
        req.fusion.validate().map_err(Error::InvalidSetting)?;
        if req.k == 0 {
            return Err(Error::InvalidSetting("k must be at least 1".into()));
        }
        // `+word`, `-word`, `a w/N b`, `a /s b`, `a /p b`, `sent:` and `like:`: what every
        // hit must hold or must not hold, when its e-mail was sent, and what it is like.
        let ops = Operators::parse(&req.query);
        // Passages like a chunk: its vector, and the chunks to leave out.
        let like_id = match (req.like, &ops.like) {
            (Some(id), _) => Some(id),
            (None, Some(place)) => Some(self.chunk_at_place(place)?),
            (None, None) => None,
        };
        let like = like_id.map(|id| self.like(id)).transpose()?;
        let similar;
        let req = match &like {
            Some(_) => {
                similar = SearchRequest {
                    mode: Mode::Semantic,
                    rerank: None,
                    like: like_id,
                    ..req.clone()
                };
                &similar
            }
            None => req,
        };
        if req.query.trim().is_empty() && like.is_none() {
            return Err(Error::EmptyQuery);
        }
        let query = ops.text.as_str();
        if let Some(why) = &ops.unread_group {
            return Err(Error::InvalidQuery(why.clone()));
        }
        for near in (ops.near.iter())
            .chain(ops.any_near.iter().flatten())
            .chain(&ops.excluded_near)
            .chain(&ops.apart)
        {
            near.sides().map_err(|why| {
                Error::InvalidQuery(format!("{} {} {}: {why}", near.a, near.within, near.b))
            })?;
        }
        let sent = ops.sent_window().map_err(Error::InvalidQuery)?;
        if query.trim().is_empty() && like.is_none() {
            let narrows = [&ops.heading, &ops.from, &ops.to, &ops.folder, &ops.sent];
            let what = if narrows.iter().all(|items| items.is_empty()) {
                "only says what to leave out"
            } else {
                "only says which passages qualify"
            };
            return Err(Error::InvalidQuery(format!(
                "{:?} {what}; add the words or the question to search for",
                req.query
            )));
        }
        // Punctuation alone (`*`, `(((`) has nothing either arm can match: the semantic arm
        // would return the passages nearest to a stray character, which look like answers.
        if !holds_something_to_search(query) && like.is_none() {
            return Err(Error::InvalidQuery(format!(
                "{:?} holds no word, number or section sign to search for; give the words or \
                 the question to search for",
                req.query
            )));
        }
        // A root with too few letters (`r*nt`) would be searched as its letters alone.
        if let Some(word) = req
            .query
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| matches!(c, '"' | '+' | '-' | '(' | ')' | ',' | ';')))
            .find(|w| Root::too_short(w))
        {
            return Err(Error::InvalidQuery(format!(
                "{word:?}: a root needs at least two letters before its first `*` or `!` \
                 (`negligen!`, `wom*n`); write more of the word, or leave the `*` and `!` out"
            )));
        }
        // Roots (`negligen!`): the words the keyword arm, snippets and pinpoints look for,
        // and the text the semantic arm embeds.
        let (natural, words) = self.expand_roots(query)?;
        let query = natural.as_str();
        // Each arm fetches enough for the reranker's candidates too, and for the chunks a
        // search like a chunk leaves out.
        let mut fetch = req
            .candidates()
            .saturating_mul(depth.fetch)
            .saturating_add(like.as_ref().map_or(0, |l| l.leave_out.len()));
        // A local index searches only the chunks of the files asked for; a remote one
        // fetches deeper and keeps the hits from those files.
        let scope = self.scope(&req.paths)?;
        let in_paths = match scope.as_ref().and_then(|(chunks, _)| chunks.clone()) {
            Some(chunks) => ChunkFilter::only(chunks),
            None => ChunkFilter::default(),
        };
        // ... and only the chunks that hold every required item and no excluded one.
        let within = match &self.arms {
            Arms::Local { keyword, .. } if ops.constrains() => {
                in_paths.and(keyword.chunks_meeting(&ops.conditions(sent)).map_err(
                    |e| match e {
                        // Named by the index folder the user gave, not its keyword folder.
                        Error::OutdatedIndex { lacks, .. } => Error::OutdatedIndex {
                            index: self.dir.clone(),
                            lacks,
                        },
                        e => e,
                    },
                )?)
            }
            _ => in_paths,
        };
        let within = &within;
        let filter_hits = self.remote().is_some() && (!req.paths.is_empty() || ops.constrains());
        if filter_hits {
            fetch = fetch
                .saturating_mul(REMOTE_FILTER_DEPTH)
                .min(MAX_REMOTE_FILTER_CANDIDATES.max(fetch));
        }
        if req.max_per_file == Some(0) {
            return Err(Error::InvalidSetting(
                "at most 0 hits per file leaves none: give 1 or more".into(),
            ));
        }
        if req.max_per_file.is_some() {
            fetch = fetch
                .saturating_mul(PER_FILE_DEPTH)
                .min(MAX_PER_FILE_CANDIDATES.max(fetch));
        }
        let keyword_arm = || -> Result<Vec<(ChunkId, f32)>> {
            if req.mode == Mode::Semantic {
                return Ok(Vec::new());
            }
            match &self.arms {
                Arms::Local { keyword, .. } => Ok(keyword
                    .search_within(&words, fetch, within)?
                    .into_iter()
                    .map(|h| (h.chunk_id, h.score))
                    .collect()),
                Arms::Remote { index, .. } => index.keyword(&words, fetch),
            }
        };
        // The semantic arm's results and the query's embedding (for pinpoints).
        type Semantic = (Vec<(ChunkId, f32)>, Option<Vec<f32>>);
        let semantic_arm = || -> Result<Semantic> {
            if !req.mode.needs_model() {
                return Ok((Vec::new(), None));
            }
            let embedder = embedder.ok_or_else(|| {
                Error::InvalidSetting(format!(
                    "{} search needs the embedding model",
                    req.mode.name()
                ))
            })?;
            self.manifest().check_model(&self.dir, embedder.info())?;
            let q = match (&like, query_vector.get()) {
                (Some(l), _) => l.vector.clone(),
                (None, Some(q)) => q.clone(),
                (None, None) => {
                    let q = embedder.embed_query(query)?;
                    let _ = query_vector.set(q.clone());
                    q
                }
            };
            let found = match &self.arms {
                Arms::Local { vectors, .. } => if within.keeps_all() {
                    vectors.search(&q, fetch)
                } else {
                    vectors.search_within(&q, fetch, within, EXACT_WITHIN)
                }
                .into_iter()
                .map(|h| (h.chunk_id, h.cosine))
                .collect(),
                // A hybrid search fused by the server runs below.
                Arms::Remote { .. } if self.fused_by_server(req.mode).is_some() => Vec::new(),
                Arms::Remote { index, .. } => index.semantic(&q, fetch)?,
            };
            let found = match &like {
                Some(l) => found
                    .into_iter()
                    .filter(|(id, _)| !l.leave_out.contains(id))
                    .collect(),
                None => found,
            };
            Ok((found, Some(q)))
        };
        // The two arms of a hybrid search run side by side: the keyword search takes about
        // as long as embedding the query on a large index.
        let remote = self.fused_by_server(req.mode);
        let (keyword, semantic) = if remote.is_some() {
            (Ok(Vec::new()), semantic_arm())
        } else if req.mode == Mode::Hybrid {
            std::thread::scope(|scope| {
                let keyword = scope.spawn(keyword_arm);
                let semantic = semantic_arm();
                // A panic in the keyword search goes on as it would without the thread.
                let keyword = keyword
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (keyword, semantic)
            })
        } else {
            (keyword_arm(), semantic_arm())
        };
        let (keyword, (semantic, query_vector)) = (keyword?, semantic?);
        let mut more_candidates = keyword.len() >= fetch || semantic.len() >= fetch;
        let collapse = req.collapse_copies && req.max_per_file.is_none();
        // Copies of a text score alike and crowd an arm's candidates: 100 copies of one NDA
        // clause would be the whole window, and weighted fusion, which scales each arm
        // between its best and worst candidate, would put that clause at the bottom. So each
        // arm passes on as many different scores as it would without copies (with all the
        // chunks tied with them), fetching deeper while fewer than half of them are there (a
        // few tied scores are no crowd: the window is then what it would be without this).
        // Also says whether the arm could have given more: it was full or was cut. Without
        // collapsing (`--each-copy`, `--max-per-file`, eval, bench) the search is as it was.
        let mut crowded = false;
        let mut fit = |arm: Vec<(ChunkId, f32)>| -> (Vec<(ChunkId, f32)>, bool) {
            let full = arm.len() >= fetch;
            if !collapse || remote.is_some() {
                return (arm, full);
            }
            let window = req.candidates().saturating_mul(depth.window);
            let fetched = arm.len();
            let (arm, distinct) = distinct_window(arm, window);
            crowded |= full && distinct.saturating_mul(2) < window;
            let cut = arm.len() < fetched;
            (arm, full || cut)
        };
        let ((keyword, keyword_more), (semantic, semantic_more)) = (fit(keyword), fit(semantic));
        // The lowest score the keyword arm passes on, if it ran, when it could have given
        // more (`None`: it gave every chunk it had): a copy of a hit's text scores as the hit
        // does, and the window keeps every chunk tied with a score it keeps, so when that
        // exact search reaches below the hit's score it holds every copy.
        let keyword_floor = (req.mode != Mode::Semantic && remote.is_none())
            .then(|| keyword_more.then(|| keyword.last().map_or(f32::MAX, |x| x.1)));
        // The vector graph's search is approximate: it holds every copy only when it gave
        // every chunk it had.
        let semantic_gave_all = req.mode.needs_model() && remote.is_none() && !semantic_more;
        let (keyword, semantic) = if filter_hits {
            (
                self.kept(keyword, &req.paths, &ops, sent)?,
                self.kept(semantic, &req.paths, &ops, sent)?,
            )
        } else {
            (keyword, semantic)
        };
        let (fused, mut read) = match req.mode {
            Mode::Hybrid => {
                let fusion = req.fusion.for_query(query);
                let fused = match (remote, &query_vector) {
                    // The server's own hybrid search, fused as asked; the arms' own ranks
                    // and scores are not reported.
                    (Some(index), Some(q)) => self
                        .kept(
                            index.hybrid(&words, q, fetch, server_fusion(fusion))?,
                            &req.paths,
                            &ops,
                            sent,
                        )?
                        .into_iter()
                        .map(|(chunk_id, score)| Fused {
                            chunk_id,
                            score,
                            keyword: None,
                            semantic: None,
                            named: None,
                        })
                        .collect(),
                    _ => fuse(&keyword, &semantic, fusion),
                };
                self.favour_named(fused, req, query)?
            }
            // A single arm keeps its own scores.
            Mode::Keyword | Mode::Semantic => {
                let single = if req.mode == Mode::Keyword {
                    &keyword
                } else {
                    &semantic
                };
                let fused = fuse(&keyword, &semantic, req.fusion)
                    .into_iter()
                    .map(|mut f| {
                        f.score = single
                            .iter()
                            .find(|(id, _)| *id == f.chunk_id)
                            .map_or(0.0, |x| x.1);
                        f
                    })
                    .collect::<Vec<_>>();
                (fused, HashMap::new())
            }
        };
        let (fused, cited_pins) = match req.mode {
            Mode::Semantic => (fused, HashMap::new()),
            Mode::Hybrid | Mode::Keyword => self.favour_cited(fused, req, query, &ops, sent)?,
        };
        more_candidates |= fused.len() >= fetch;
        let rerank_started = Instant::now();
        let (fused, reranked, rerank_elapsed) = match &req.rerank {
            Some(r) if r.top > 0 => {
                let (fused, scores) = self.rerank(fused, r, query, &mut read)?;
                (fused, scores, Some(rerank_started.elapsed()))
            }
            _ => (fused, HashMap::new(), None),
        };
        let mut hits: Vec<Hit> = Vec::with_capacity(req.k);
        let mut per_file: HashMap<String, usize> = HashMap::new();
        // Each hit's text, by hash, for finding its copies.
        let mut by_text: HashMap<blake3::Hash, usize> = HashMap::new();
        let mut collapsed = false;
        // A local index names every copy of a hit's text by the text keys it keeps, whatever
        // the copies score (a copy in a file of another name scores a little apart: the
        // file's name is embedded and indexed with each chunk); other indexes find the
        // copies among the candidates, by their scores.
        let exact_copies = collapse
            && matches!(&self.arms, Arms::Local { keyword, .. } if keyword.keeps_text_keys());
        let mut fused = fused.into_iter();
        for f in fused.by_ref() {
            if hits.len() == req.k {
                // This candidate and the rest may hold copies of the hits: only a candidate
                // with one of their arm scores can be one (the same text scores the same, to
                // float noise: `same_score`).
                if collapse && !exact_copies {
                    let rest = std::iter::once(f).chain(fused);
                    self.gather_copies(&mut hits, rest, &by_text, &mut read)?;
                }
                break;
            }
            let stored = match read.remove(&f.chunk_id) {
                Some(c) => c,
                None => match self.fetch(f.chunk_id)? {
                    Some(c) => c,
                    None => continue, // an orphan vector: harmless, skipped
                },
            };
            if collapse {
                let key = blake3::hash(stored.text.as_bytes());
                if let Some(&i) = by_text.get(&key) {
                    hits[i].copies.push(self.copy(f.chunk_id, stored));
                    collapsed = true;
                    continue;
                }
                by_text.insert(key, hits.len());
            }
            if let Some(most) = req.max_per_file {
                let taken = per_file.entry(stored.path.clone()).or_default();
                if *taken >= most {
                    continue;
                }
                *taken += 1;
            }
            let snippet = snippet::snippet(&stored.text, &words, req.snippet_chars);
            let matched_terms = snippet::matched_terms(&stored.text, &words);
            hits.push(Hit {
                rank: hits.len() + 1,
                score: f.score,
                chunk_id: f.chunk_id.0,
                path: self.manifest().root.join(&stored.path),
                file: stored.path,
                title: stored.title,
                breadcrumb: stored.breadcrumb,
                line: stored.line,
                page: stored.place.page,
                page_end: stored.place.page_end,
                paragraph: stored.place.paragraph,
                page_breaks: stored.page_breaks,
                start_byte: stored.range.start,
                end_byte: stored.range.end,
                text: stored.text,
                mail: stored.mail,
                snippet,
                matched_terms,
                keyword: f.keyword,
                semantic: f.semantic,
                named: f.named,
                pinpoint: None,
                rerank: reranked.get(&f.chunk_id).copied(),
                copies: Vec::new(),
                copies_complete: {
                    let below = match keyword_floor {
                        Some(None) => true,
                        Some(Some(low)) => f
                            .keyword
                            .is_some_and(|a| a.score > low && !same_score(a.score, low)),
                        None => false,
                    };
                    below || semantic_gave_all
                },
                changed: false,
                context: None,
            });
        }
        if exact_copies {
            let leave_out = like.as_ref().map(|l| &l.leave_out);
            self.add_every_copy(&mut hits, within, leave_out, &mut read)?;
        }
        self.mark_changed(&mut hits);
        let retry = if collapsed && hits.len() < req.k && more_candidates {
            Retry::Wider
        } else if crowded {
            Retry::Deeper
        } else {
            Retry::Done
        };
        let pinpoint_started = Instant::now();
        if req.pinpoint.hits > 0 {
            let rarity = if req.pinpoint.index_rarity {
                self.term_rarity(&words)?
            } else {
                None
            };
            let candidates = Candidates::gather(
                &hits,
                &words,
                query_vector.as_deref(),
                embedder,
                rarity.as_ref(),
                &req.pinpoint,
            )?;
            let found = candidates.choose(&hits, &req.pinpoint);
            let definitions: Vec<Definition> = ops
                .define
                .iter()
                .filter_map(|t| Definition::new(t))
                .collect();
            for (hit, p) in hits.iter_mut().zip(found) {
                // A cited paragraph is its chunk's pinpoint.
                let p = match cited_pins.get(&ChunkId(hit.chunk_id)) {
                    Some(r)
                        if r.start >= hit.start_byte
                            && r.end <= hit.start_byte + hit.text.len() =>
                    {
                        let local = r.start - hit.start_byte..r.end - hit.start_byte;
                        Some(pinpoint::pinpoint_of(hit, local, 1.0))
                    }
                    // A term asked for with `define:`: the sentence defining it.
                    _ => definition_pin(hit, &definitions).or(p),
                };
                if let Some(p) = &p
                    && req.snippet_chars > 0
                {
                    let focus = p.start_byte - hit.start_byte..p.end_byte - hit.start_byte;
                    hit.snippet =
                        snippet::snippet_around(&hit.text, &words, req.snippet_chars, focus);
                }
                hit.pinpoint = p;
            }
        }
        let pinpoint_elapsed = pinpoint_started.elapsed();
        let not_mail = |field: MailField| -> Vec<String> {
            ops.not_mail
                .iter()
                .filter(|(f, _)| *f == field)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let results = SearchResults {
            hits,
            keyword_terms: {
                // Each once, though several words of a root share a stem.
                let mut seen = HashSet::new();
                let mut terms = KeywordIndex::terms_of(&words).0;
                terms.retain(|t| seen.insert(t.clone()));
                terms
            },
            elapsed: started.elapsed(),
            pinpoint_elapsed,
            rerank_elapsed,
            files_in_scope: scope.map(|(_, files)| files),
            required: ops.required,
            near: ops.near,
            any_required: ops.any_required,
            any_near: ops.any_near,
            excluded: ops.excluded,
            excluded_near: ops.excluded_near,
            apart: ops.apart,
            at_least: ops.at_least,
            sent: ops.sent,
            from: ops.from,
            to: ops.to,
            folder: ops.folder,
            not_from: not_mail(MailField::From),
            not_to: not_mail(MailField::To),
            not_folder: not_mail(MailField::Folder),
            not_sent: ops.not_sent.clone(),
            heading: ops.heading,
            not_heading: ops.not_heading,
            define: ops.define,
            like: like_id,
        };
        Ok((results, retry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passages of lines 1–3, 5–9 and 7–12 (overlapping), and 15–15.
    fn spans() -> Vec<PassageSpan> {
        [(1, 3, 0), (5, 9, 40), (7, 12, 90), (15, 15, 200)]
            .into_iter()
            .enumerate()
            .map(|(i, (first, last, start))| PassageSpan {
                first,
                last,
                start,
                id: ChunkId(i as u64),
            })
            .collect()
    }

    #[test]
    fn a_line_names_the_passage_holding_it_the_one_after_a_gap_and_none_past_the_end() {
        let at = |line| passage_at_line(&spans(), line);
        assert_eq!(at(2), PassageAt::Found(ChunkId(0)));
        // Held by two: the one that begins last.
        assert_eq!(at(8), PassageAt::Found(ChunkId(2)));
        assert_eq!(at(6), PassageAt::Found(ChunkId(1)));
        // Between passages (a blank line before a heading): the passage after it.
        assert_eq!(at(4), PassageAt::Found(ChunkId(1)));
        assert_eq!(at(13), PassageAt::Found(ChunkId(3)));
        // Before the first: the first.
        assert_eq!(at(0), PassageAt::Found(ChunkId(0)));
        assert_eq!(at(16), PassageAt::PastEnd { last_line: 15 });
        assert_eq!(passage_at_line(&[], 1), PassageAt::NoFile);
    }

    #[test]
    fn a_place_without_a_passage_says_whether_the_file_or_the_line_is_wrong() {
        let root = Path::new("/matters/acme");
        let no_file = PassageAt::NoFile.why("leases/b.txt", root);
        assert!(no_file.contains("no file \"leases/b.txt\""), "{no_file}");
        assert!(no_file.contains("/matters/acme"), "{no_file}");
        let past = PassageAt::PastEnd { last_line: 77 }.why("nda.md", root);
        assert!(past.contains("end at line 77"), "{past}");
    }

    #[test]
    fn an_arms_window_holds_n_different_scores_with_every_chunk_tied_with_them() {
        let arm = |scores: &[f32]| -> Vec<(ChunkId, f32)> {
            scores
                .iter()
                .enumerate()
                .map(|(i, &s)| (ChunkId(i as u64), s))
                .collect()
        };
        let ids = |w: &[(ChunkId, f32)]| w.iter().map(|x| x.0.0).collect::<Vec<_>>();
        // Copies of the second passage fill the list; the window keeps them all and the
        // third and fourth passages, and stops before the fifth.
        let (w, distinct) = distinct_window(arm(&[0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.5]), 4);
        assert_eq!(ids(&w), [0, 1, 2, 3, 4, 5]);
        assert_eq!(distinct, 4);
        // Copies whose BM25 parts were added in another order differ in the last digits:
        // still one score.
        let (w, distinct) = distinct_window(arm(&[26.2, 26.11964, 26.119637, 0.7, 0.6]), 2);
        assert_eq!(ids(&w), [0, 1, 2]);
        assert_eq!(distinct, 2);
        // Fewer different scores than asked: everything, and how many.
        let (w, distinct) = distinct_window(arm(&[0.9, 0.8, 0.8, 0.8]), 4);
        assert_eq!(ids(&w), [0, 1, 2, 3]);
        assert_eq!(distinct, 2);
        let (w, distinct) = distinct_window(arm(&[0.9, 0.8, 0.8, 0.7]), 3);
        assert_eq!(ids(&w), [0, 1, 2, 3]);
        assert_eq!(distinct, 3);
        assert_eq!(distinct_window(Vec::new(), 0), (Vec::new(), 0));
    }

    #[test]
    fn a_hits_copies_are_cited_at_its_own_place_in_them_and_counted_past_the_named_ones() {
        let mut hit = pinpoint::tests::hit("Recipient shall hold it.\nIn confidence.", 0, 10);
        assert_eq!(hit.copies_line(3), None);
        let copy = |file: &str, line, page, paragraph| HitCopy {
            chunk_id: 9,
            path: PathBuf::from("/d").join(file),
            file: file.into(),
            line,
            page,
            paragraph,
        };
        hit.copies = vec![copy("m-1/nda.md", 40, None, None)];
        assert_eq!(
            hit.copies_line(3).unwrap(),
            "also in 1 other place: m-1/nda.md:40"
        );
        // The hit is cited two lines into its chunk: so is each copy; pages and paragraphs
        // as the hit's place is.
        hit.pinpoint = Some(Pinpoint {
            start_byte: 25,
            end_byte: 39,
            line: 12,
            page: None,
            text: "In confidence.".into(),
            score: 1.0,
        });
        hit.copies.extend([
            copy("m-2/nda.pdf", 1, Some(3), None),
            copy("m-3/nda.docx", 1, None, Some(7)),
            copy("m-4/nda.md", 5, None, None),
            copy("m-5/nda.md", 5, None, None),
        ]);
        hit.copies_complete = false;
        assert_eq!(
            hit.copies_line(3).unwrap(),
            "also in at least 5 other places: m-1/nda.md:42, m-2/nda.pdf p. 3, \
             m-3/nda.docx ¶ 7 and 2 more"
        );
    }
}
