//! Every change the TUI can make to its state, as one enum.
//!
//! Keys become actions in [`keymap`](super::keymap); the worker thread and the event loop send
//! actions too. [`App::update`](super::app::App::update) is the only place that applies them.

use std::time::Duration;

use crate::search::{Hit, Mode};

use super::preview::Preview;

/// A hit and its preview, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The hit, as the searcher returned it.
    pub hit: Hit,
    /// The chunk in its document context, with query terms marked.
    pub preview: Preview,
}

impl Found {
    /// A hit previewed from its own text (no document read): what tests and unreadable files get.
    pub fn from_hit(hit: Hit, query: &str) -> Self {
        let preview = Preview::build(&hit, None, query);
        Found { hit, preview }
    }
}

/// One finished search, as the worker hands it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The query searched for.
    pub query: String,
    /// The mode it ran in.
    pub mode: Mode,
    /// Hits, best first.
    pub found: Vec<Found>,
    /// Wall time of the search (query embedding included).
    pub elapsed: Duration,
    /// How many indexed files the search's path filter kept (`None`: not narrowed).
    pub files_in_scope: Option<usize>,
}

impl Outcome {
    /// An outcome of bare hits, each previewed from its own text.
    pub fn from_hits(query: &str, mode: Mode, hits: Vec<Hit>, elapsed: Duration) -> Self {
        Outcome {
            query: query.to_string(),
            mode,
            found: hits
                .into_iter()
                .map(|h| Found::from_hit(h, query))
                .collect(),
            elapsed,
            files_in_scope: None,
        }
    }
}

/// How a status message reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Information; cleared by the next key.
    Info,
    /// Something went wrong; stays until a search succeeds or the query changes.
    Error,
}

/// Every change to the TUI's state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Type a character into the focused line (query or filter).
    Insert(char),
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Delete the word before the cursor.
    DeleteWord,
    /// Delete everything before the cursor.
    ClearLine,
    /// Move the query cursor one character left.
    CursorLeft,
    /// Move the query cursor one character right.
    CursorRight,
    /// Move the query cursor to the start.
    CursorHome,
    /// Move the query cursor to the end.
    CursorEnd,
    /// Give the results list the focus.
    FocusResults,
    /// Put the query before the one shown (or the latest) from this session's history into
    /// the query line.
    HistoryPrev,
    /// Put the next later query from the history into the query line (after the latest: the
    /// query typed before going back).
    HistoryNext,
    /// Give the query line the focus.
    FocusQuery,
    /// Start editing the path filter.
    EditFilter,
    /// Keep the filter being edited and go to the results.
    ApplyFilter,
    /// Drop the edit and restore the filter as it was.
    CancelFilter,
    /// Select the previous hit (from the first one, back to the query line).
    Up,
    /// Select the next hit.
    Down,
    /// Select a page of hits up.
    PageUp,
    /// Select a page of hits down.
    PageDown,
    /// Select the first hit.
    First,
    /// Select the last hit.
    Last,
    /// Scroll the preview by this many rows (negative: up).
    ScrollPreview(i32),
    /// Scroll the preview by half its height, down (`true`) or up.
    ScrollPreviewHalfPage(bool),
    /// Next search mode: hybrid, keyword, semantic.
    NextMode,
    /// Previous search mode.
    PrevMode,
    /// Turn cross-encoder reranking on or off (when a reranker is configured).
    ToggleRerank,
    /// Open the selected hit's document at the hit.
    Open,
    /// Copy the selected hit's place (`path:line`, or path and page).
    Copy,
    /// Search for passages like the selected hit (`like:FILE:LINE` in the query line).
    MoreLike,
    /// Show in the preview the next section, article or exhibit of its document that the
    /// selected hit's passage refers to (`Section 9.3`); after the last, the hit again.
    FollowReference,
    /// Show or hide the key help.
    ToggleHelp,
    /// Hide the key help.
    CloseHelp,
    /// Turn the help to its other page: keys, or the query syntax.
    FlipHelp,
    /// Leave the TUI.
    Quit,
    /// The query has been still for the debounce delay: search now.
    Search,
    /// The terminal now has this size (columns, rows).
    Resize(u16, u16),
    /// A search finished. Results whose `seq` is not the latest request's are stale and dropped.
    Results {
        /// The request's sequence number.
        seq: u64,
        /// Hits, or what went wrong.
        result: Result<Outcome, Failure>,
    },
    /// A better preview of a hit of the latest results, sent after them: the hit inside its
    /// document's extracted text (PDF, Word, HTML, e-mail), which the search thread reads
    /// once the results are shown. Dropped when `seq` is not the latest request's.
    Preview {
        /// The request's sequence number.
        seq: u64,
        /// The hit's chunk.
        chunk_id: u64,
        /// Its preview.
        preview: Preview,
    },
    /// A section a hit refers to, read for the preview ([`Action::FollowReference`]): the
    /// section as a hit of its own (its place, and its preview inside the document, the
    /// section marked as a chunk), or why it cannot be shown. Dropped unless it is of the
    /// latest results and the reference shown.
    Section {
        /// The request's sequence number.
        seq: u64,
        /// The chunk of the hit that refers to it.
        chunk_id: u64,
        /// Which of the hit's references.
        index: usize,
        /// The section, or why it cannot be shown.
        result: Result<Box<Found>, String>,
    },
    /// A message for the status bar.
    Notify(Level, String),
}

/// Why a search has nothing to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, as the status bar says it.
    pub message: String,
    /// Whether the query cannot be searched as written (a bracket that makes no group, only
    /// excluded words), which editing it mends, rather than the model or the index.
    pub in_query: bool,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure {
            message,
            in_query: false,
        }
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}
