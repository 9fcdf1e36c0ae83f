//! The TUI's state and [`App::update`], the one function that changes it.
//!
//! The app never does I/O: what needs the outside world (searching, opening a file, copying)
//! comes back from `update` as an [`Effect`] for the event loop to carry out, and the outcome
//! comes back in as another [`Action`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use ratatui::layout::Rect;

use crate::search::citation::{CrossReference, cross_references};
use crate::search::fusion::Fusion;
use crate::search::rerank::Rerank;
use crate::search::{Hit, Mode, SearchRequest, holds_something_to_search};
use crate::store::Manifest;

use super::action::{Action, Failure, Found, Level, Outcome};
use super::focus::{Focus, HelpPage, KeyContext};
use super::glob::{PathFilter, path_matches};
use super::layout::areas;
use super::open::{OpenTarget, place_text};
use super::preview;
use super::theme::Theme;

/// Hits asked of each search (of the files the path filter keeps, once applied with Enter).
pub const DEFAULT_K: usize = 50;

/// What the status bar says about the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    /// The indexed folder's name.
    pub name: String,
    /// The model that built the index.
    pub model: String,
    /// Number of documents.
    pub documents: u64,
    /// Number of chunks.
    pub chunks: u64,
    /// Files of the folder the index holds nothing of (unreadable, or no text).
    pub not_indexed: usize,
    /// The indexed folder.
    pub root: PathBuf,
    /// The index folder, where an attachment opened is copied to (none for a remote index).
    pub dir: Option<PathBuf>,
}

impl IndexInfo {
    /// The facts of an index, from its manifest.
    pub fn of(manifest: &Manifest) -> Self {
        IndexInfo {
            name: manifest
                .root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| manifest.root.display().to_string()),
            model: manifest.model.name.clone(),
            documents: manifest.documents,
            chunks: manifest.chunks,
            not_indexed: manifest.unreadable.len(),
            root: manifest.root.clone(),
            dir: None,
        }
    }

    /// These facts, with the local index folder `dir`.
    pub fn at(self, dir: &Path) -> Self {
        IndexInfo {
            dir: Some(dir.to_path_buf()),
            ..self
        }
    }
}

/// Work for the event loop, returned by [`App::update`].
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The query changed: send [`Action::Search`] once it has been still for the debounce delay.
    Debounce,
    /// Send this request to the search worker.
    Search {
        /// Its sequence number; results carry it back.
        seq: u64,
        /// What to search for.
        request: SearchRequest,
    },
    /// Open a document at a hit (the TUI is suspended meanwhile).
    Open(OpenTarget),
    /// Put this text on the clipboard.
    Copy(String),
    /// Read the section of `hit`'s document that its reference `index` names, for the preview
    /// (answered with [`Action::Section`]).
    ReadSection {
        /// The latest request's sequence number.
        seq: u64,
        /// The hit that refers to it.
        hit: Box<Hit>,
        /// Which of its references.
        index: usize,
        /// The reference.
        reference: CrossReference,
        /// The query, whose words the preview marks.
        query: String,
    },
}

/// The references of the selected hit's passage, one of which the preview shows (`r`).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Following {
    /// The hit's chunk.
    pub chunk_id: u64,
    /// What its passage refers to, in order.
    pub refs: Vec<CrossReference>,
    /// The one shown or being read.
    pub index: usize,
    /// The section as a hit of its own (its place and its preview inside the document), once
    /// read.
    pub section: Option<Found>,
}

/// The whole state of the TUI. Drawing reads it ([`super::ui`]); only [`App::update`]
/// changes it.
#[derive(Debug, Clone)]
pub struct App {
    pub(super) index: Option<IndexInfo>,
    /// Without an index, the indexed folders below the current one (from it).
    pub(super) indexed_below: Vec<std::path::PathBuf>,
    pub(super) theme: Theme,
    pub(super) size: (u16, u16),
    pub(super) focus: Focus,
    /// The help page shown over the screen, if any.
    pub(super) help: Option<HelpPage>,
    pub(super) running: bool,
    pub(super) query: String,
    /// Byte offset of the cursor in `query`, on a character boundary.
    pub(super) cursor: usize,
    pub(super) mode: Mode,
    pub(super) fusion: Fusion,
    pub(super) k: usize,
    /// The reranker given with `--rerank`, if any.
    pub(super) rerank: Option<Rerank>,
    /// Whether searches use it (Ctrl-R toggles; on when one is given).
    pub(super) rerank_on: bool,
    /// Sequence number of the latest request; results with another are stale.
    pub(super) seq: u64,
    pub(super) searching: bool,
    pub(super) outcome: Option<Outcome>,
    pub(super) error: Option<Failure>,
    /// Indices into `outcome.found` that pass the filter.
    pub(super) visible: Vec<usize>,
    /// Index into `visible`.
    pub(super) selected: usize,
    /// First visible item of the list.
    pub(super) offset: usize,
    /// First preview row shown; `None` shows the chunk with a little context above it.
    pub(super) scroll: Option<usize>,
    pub(super) filter: String,
    /// The filter the latest search was narrowed to; typing a filter narrows its hits at
    /// once, and Enter searches again among the files of a new one.
    searched_filter: String,
    filter_saved: String,
    filter_return: Focus,
    pub(super) notice: Option<(Level, String)>,
    /// Queries of this session the user went on to the results with, oldest first (never
    /// written anywhere: queries can be confidential).
    history: Vec<String>,
    /// While going back through `history`: the entry shown, and the query typed before.
    browsing: Option<(usize, String)>,
    /// The section the selected hit refers to, shown in the preview instead of the hit (`r`).
    pub(super) reference: Option<Following>,
}

impl App {
    /// A new app on an index (`None`: there is none yet, and the screen says how to build one).
    pub fn new(index: Option<IndexInfo>, theme: Theme) -> Self {
        App {
            index,
            indexed_below: Vec::new(),
            theme,
            size: (80, 24),
            focus: Focus::Query,
            help: None,
            running: true,
            query: String::new(),
            cursor: 0,
            mode: Mode::Hybrid,
            fusion: Fusion::default(),
            k: DEFAULT_K,
            rerank: None,
            rerank_on: false,
            seq: 0,
            searching: false,
            outcome: None,
            error: None,
            visible: Vec::new(),
            selected: 0,
            offset: 0,
            scroll: None,
            filter: String::new(),
            searched_filter: String::new(),
            filter_saved: String::new(),
            filter_return: Focus::Query,
            notice: None,
            history: Vec::new(),
            browsing: None,
            reference: None,
        }
    }

    /// Starts in `mode`.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Fuses hybrid results with `fusion`.
    pub fn with_fusion(mut self, fusion: Fusion) -> Self {
        self.fusion = fusion;
        self
    }

    /// Reranks the best fused hits with `rerank`, until Ctrl-R turns it off.
    pub fn with_rerank(mut self, rerank: Option<Rerank>) -> Self {
        self.rerank_on = rerank.is_some();
        self.rerank = rerank;
        self
    }

    /// Names, on the screen without an index, the indexed folders below the current one.
    pub fn with_indexed_below(mut self, folders: Vec<std::path::PathBuf>) -> Self {
        self.indexed_below = folders;
        self
    }

    /// Asks each search for `k` hits (at least 1).
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k.max(1);
        self
    }

    /// Whether there is an index to search.
    pub fn has_index(&self) -> bool {
        self.index.is_some()
    }

    /// Whether a search is on its way.
    pub fn is_searching(&self) -> bool {
        self.searching
    }

    /// Whether the TUI should keep running.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The focused part of the screen.
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// The current search mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The query as typed.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The path filter.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Whether the help is shown.
    pub fn help_visible(&self) -> bool {
        self.help.is_some()
    }

    /// The help page shown, if any.
    pub fn help_page(&self) -> Option<HelpPage> {
        self.help
    }

    /// The status message, if any.
    pub fn notice(&self) -> Option<&(Level, String)> {
        self.notice.as_ref()
    }

    /// The sequence number of the latest search request.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Hits that pass the filter, best first.
    pub fn visible_hits(&self) -> impl Iterator<Item = &Hit> {
        self.visible_found().map(|f| &f.hit)
    }

    /// The selected hit, if any.
    pub fn selected_hit(&self) -> Option<&Hit> {
        self.selected_found().map(|f| &f.hit)
    }

    /// What the keymap needs to know.
    pub fn key_context(&self) -> KeyContext {
        KeyContext {
            focus: self.focus,
            help: self.help.is_some(),
            query_empty: self.query.is_empty(),
        }
    }

    pub(super) fn visible_found(&self) -> impl Iterator<Item = &Found> {
        let found = self.outcome.as_ref().map_or(&[][..], |o| &o.found[..]);
        self.visible.iter().filter_map(move |&i| found.get(i))
    }

    pub(super) fn selected_found(&self) -> Option<&Found> {
        let i = *self.visible.get(self.selected)?;
        self.outcome.as_ref()?.found.get(i)
    }

    /// The hit the preview shows, which opening, copying and `m` act on: the section the
    /// selected hit refers to, once read after `r`, else the selected hit.
    pub(super) fn shown_hit(&self) -> Option<&Hit> {
        self.shown_found().map(|(found, _)| &found.hit)
    }

    /// What the preview shows: the section the selected hit refers to, once read after `r`
    /// (with the reference), else the selected hit.
    pub(super) fn shown_found(&self) -> Option<(&Found, Option<&Following>)> {
        let selected = self.selected_found()?;
        match &self.reference {
            Some(f) if f.chunk_id == selected.hit.chunk_id => match &f.section {
                Some(section) => Some((section, Some(f))),
                None => Some((selected, None)),
            },
            _ => Some((selected, None)),
        }
    }

    /// The latency of the last finished search.
    pub(super) fn latency(&self) -> Option<Duration> {
        self.outcome.as_ref().map(|o| o.elapsed)
    }

    fn area(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// Applies one action. The only function that changes the state.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        let from_user = !matches!(
            action,
            Action::Results { .. }
                | Action::Preview { .. }
                | Action::Section { .. }
                | Action::Notify(..)
                | Action::Search
                | Action::Resize(..)
        );
        if from_user && matches!(self.notice, Some((Level::Info, _))) {
            self.notice = None;
        }
        match action {
            Action::Insert(c) => {
                if self.focus == Focus::Filter {
                    self.filter.push(c);
                    self.refilter();
                    return None;
                }
                self.query.insert(self.cursor, c);
                self.cursor += c.len_utf8();
                self.focus = Focus::Query;
                self.query_changed()
            }
            Action::Backspace => {
                if self.focus == Focus::Filter {
                    self.filter.pop();
                    self.refilter();
                    return None;
                }
                let prev = self.prev_boundary();
                if prev == self.cursor {
                    return None;
                }
                self.query.replace_range(prev..self.cursor, "");
                self.cursor = prev;
                self.query_changed()
            }
            Action::Delete => {
                if self.focus == Focus::Filter || self.cursor >= self.query.len() {
                    return None;
                }
                let next = self.next_boundary();
                self.query.replace_range(self.cursor..next, "");
                self.query_changed()
            }
            Action::DeleteWord => {
                if self.focus == Focus::Filter {
                    self.filter.clear();
                    self.refilter();
                    return None;
                }
                let head = &self.query[..self.cursor];
                let trimmed = head.trim_end();
                let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| {
                    i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
                });
                if start == self.cursor {
                    return None;
                }
                self.query.replace_range(start..self.cursor, "");
                self.cursor = start;
                self.query_changed()
            }
            Action::ClearLine => {
                if self.focus == Focus::Filter {
                    self.filter.clear();
                    self.refilter();
                    return None;
                }
                if self.cursor == 0 {
                    return None;
                }
                self.query.replace_range(..self.cursor, "");
                self.cursor = 0;
                self.query_changed()
            }
            Action::CursorLeft => {
                self.cursor = self.prev_boundary();
                None
            }
            Action::CursorRight => {
                self.cursor = self.next_boundary();
                None
            }
            Action::CursorHome => {
                self.cursor = 0;
                None
            }
            Action::CursorEnd => {
                self.cursor = self.query.len();
                None
            }
            Action::FocusResults => {
                self.remember_query();
                if !self.visible.is_empty() {
                    self.focus = Focus::Results;
                }
                None
            }
            Action::HistoryPrev => {
                let at = match &self.browsing {
                    Some((at, _)) => at.checked_sub(1)?,
                    // The latest entry that is not the query shown.
                    None => self
                        .history
                        .iter()
                        .rposition(|q| q.trim() != self.query.trim())?,
                };
                let draft = match self.browsing.take() {
                    Some((_, draft)) => draft,
                    None => self.query.clone(),
                };
                self.show_query(self.history[at].clone());
                let effect = self.query_changed();
                self.browsing = Some((at, draft));
                effect
            }
            Action::HistoryNext => {
                let (at, draft) = self.browsing.take()?;
                let later = self.history.get(at + 1).cloned();
                self.show_query(later.clone().unwrap_or(draft.clone()));
                let effect = self.query_changed();
                if later.is_some() {
                    self.browsing = Some((at + 1, draft));
                }
                effect
            }
            Action::FocusQuery => {
                self.focus = Focus::Query;
                None
            }
            Action::EditFilter => {
                if self.focus != Focus::Filter {
                    self.filter_saved = self.filter.clone();
                    self.filter_return = self.focus;
                    self.focus = Focus::Filter;
                }
                None
            }
            Action::ApplyFilter => {
                if self.focus == Focus::Filter {
                    self.focus = if self.visible.is_empty() {
                        Focus::Query
                    } else {
                        Focus::Results
                    };
                }
                self.search_new_filter()
            }
            Action::CancelFilter => {
                if self.focus == Focus::Filter {
                    self.filter = std::mem::take(&mut self.filter_saved);
                    self.refilter();
                    self.focus = self.filter_return;
                    if self.focus == Focus::Results && self.visible.is_empty() {
                        self.focus = Focus::Query;
                    }
                }
                self.search_new_filter()
            }
            Action::Up => {
                if self.focus == Focus::Results && self.selected == 0 {
                    self.focus = Focus::Query;
                } else {
                    self.select(self.selected.saturating_sub(1));
                }
                None
            }
            Action::Down => {
                self.select(self.selected.saturating_add(1));
                None
            }
            Action::PageUp => {
                self.select(self.selected.saturating_sub(self.page()));
                None
            }
            Action::PageDown => {
                self.select(self.selected.saturating_add(self.page()));
                None
            }
            Action::First => {
                self.select(0);
                None
            }
            Action::Last => {
                self.select(usize::MAX);
                None
            }
            Action::ScrollPreview(rows) => {
                self.scroll_preview(rows);
                None
            }
            Action::ScrollPreviewHalfPage(down) => {
                let half = (areas(self.area()).preview.height / 2).max(1) as i32;
                self.scroll_preview(if down { half } else { -half });
                None
            }
            Action::NextMode | Action::PrevMode => {
                let modes = [Mode::Hybrid, Mode::Keyword, Mode::Semantic];
                let at = modes.iter().position(|&m| m == self.mode).unwrap_or(0);
                let step = if action == Action::NextMode { 1 } else { 2 };
                self.mode = modes[(at + step) % modes.len()];
                if self.query.trim().is_empty() {
                    None
                } else {
                    self.start_search()
                }
            }
            Action::ToggleRerank => {
                let Some(r) = &self.rerank else {
                    self.notice = Some((
                        Level::Info,
                        "no reranker: start with `lexsearch tui --rerank DIR`".into(),
                    ));
                    return None;
                };
                self.rerank_on = !self.rerank_on;
                let state = if self.rerank_on { "on" } else { "off" };
                self.notice = Some((
                    Level::Info,
                    format!("reranking with {} {state}", r.model.info().name),
                ));
                if self.query.trim().is_empty() {
                    None
                } else {
                    self.start_search()
                }
            }
            Action::Open => {
                let hit = self.shown_hit()?;
                let mut target = OpenTarget::of(hit);
                if let Some(info) = &self.index {
                    target = target.inside(&info.root, info.dir.as_deref(), &hit.file);
                }
                Some(Effect::Open(target))
            }
            Action::MoreLike => {
                let hit = self.shown_hit()?;
                let place = format!("{}:{}", hit.file, hit.line);
                let query = if place.contains(char::is_whitespace) || place.contains('"') {
                    format!("like:\"{}\"", place.replace('"', ""))
                } else {
                    format!("like:{place}")
                };
                self.remember_query();
                self.show_query(query);
                self.remember_query();
                self.start_search()
            }
            Action::FollowReference => {
                let hit = self.selected_hit()?.clone();
                let refs = cross_references(&hit.text);
                if refs.is_empty() {
                    self.notice = Some((
                        Level::Info,
                        "this passage refers to no numbered section, article or exhibit".into(),
                    ));
                    return None;
                }
                let index = match &self.reference {
                    Some(f) if f.chunk_id == hit.chunk_id => f.index + 1,
                    _ => 0,
                };
                self.scroll = None;
                let Some(reference) = refs.get(index).cloned() else {
                    self.reference = None;
                    self.notice = Some((Level::Info, "back to the hit".into()));
                    return None;
                };
                self.notice = Some((
                    Level::Info,
                    format!(
                        "reading {} ({} of {})",
                        reference.cited,
                        index + 1,
                        refs.len()
                    ),
                ));
                self.reference = Some(Following {
                    chunk_id: hit.chunk_id,
                    refs,
                    index,
                    section: None,
                });
                let query = self.outcome.as_ref().map(|o| o.query.clone());
                Some(Effect::ReadSection {
                    seq: self.seq,
                    hit: Box::new(hit),
                    index,
                    reference,
                    query: query.unwrap_or_default(),
                })
            }
            Action::Section {
                seq,
                chunk_id,
                index,
                result,
            } => {
                let latest = seq == self.seq;
                let following = self
                    .reference
                    .as_mut()
                    .filter(|f| latest && f.chunk_id == chunk_id && f.index == index)?;
                let (count, cited) = (following.refs.len(), following.refs[index].cited.clone());
                match result {
                    Ok(section) => {
                        following.section = Some(*section);
                        self.scroll = None;
                        let next = match index + 1 < count {
                            true => "r: the next one",
                            false => "r: back to the hit",
                        };
                        self.notice = Some((
                            Level::Info,
                            format!(
                                "{cited}, which the hit refers to ({} of {count}; {next})",
                                index + 1
                            ),
                        ));
                    }
                    Err(why) => {
                        self.reference = None;
                        self.notice = Some((Level::Info, why));
                    }
                }
                None
            }
            Action::Copy => {
                let text = place_text(self.shown_hit()?);
                self.notice = Some((Level::Info, format!("copied {text}")));
                Some(Effect::Copy(text))
            }
            Action::ToggleHelp => {
                self.help = match self.help {
                    Some(_) => None,
                    None => Some(HelpPage::Keys),
                };
                None
            }
            Action::CloseHelp => {
                self.help = None;
                None
            }
            Action::FlipHelp => {
                self.help = self.help.map(HelpPage::flipped);
                None
            }
            Action::Quit => {
                self.running = false;
                None
            }
            Action::Search => self.start_search(),
            Action::Resize(w, h) => {
                self.size = (w, h);
                self.fix_offset();
                None
            }
            Action::Results { seq, result } => {
                if seq != self.seq {
                    return None; // stale: a newer request is on its way
                }
                self.searching = false;
                match result {
                    Ok(outcome) => {
                        self.error = None;
                        if matches!(self.notice, Some((Level::Error, _))) {
                            self.notice = None;
                        }
                        self.outcome = Some(outcome);
                        self.reference = None;
                    }
                    Err(e) => {
                        self.outcome = None;
                        self.notice = Some((Level::Error, format!("search failed: {}", e.message)));
                        self.error = Some(e);
                    }
                }
                self.selected = 0;
                self.offset = 0;
                self.refilter();
                None
            }
            Action::Preview {
                seq,
                chunk_id,
                preview,
            } => {
                if seq != self.seq {
                    return None;
                }
                let selected = self.selected_found().map(|f| f.hit.chunk_id);
                let found = self
                    .outcome
                    .as_mut()
                    .and_then(|o| o.found.iter_mut().find(|f| f.hit.chunk_id == chunk_id));
                if let Some(found) = found {
                    found.preview = preview;
                    // The selected hit's preview opens at its chunk again: its rows changed.
                    if selected == Some(chunk_id) {
                        self.scroll = None;
                    }
                }
                None
            }
            Action::Notify(level, text) => {
                self.notice = Some((level, text));
                None
            }
        }
    }

    /// Puts `query` into the query line, the cursor at its end.
    fn show_query(&mut self, query: String) {
        self.query = query;
        self.cursor = self.query.len();
        self.focus = Focus::Query;
    }

    /// Adds the query to the history when it is not empty and not the latest entry; stops
    /// going back through it.
    fn remember_query(&mut self) {
        self.browsing = None;
        let query = self.query.trim();
        if !query.is_empty() && self.history.last().map(|q| q.trim()) != Some(query) {
            self.history.push(self.query.clone());
        }
    }

    /// The query was edited (or recalled): search it after the debounce delay.
    fn query_changed(&mut self) -> Option<Effect> {
        // An edit of a recalled query makes it the query typed.
        self.browsing = None;
        if matches!(self.notice, Some((Level::Error, _))) {
            self.notice = None;
        }
        self.index.as_ref()?;
        // Nothing to search for yet (a quote just opened): no search, and no error.
        if !holds_something_to_search(&self.query) {
            self.clear_results();
            return None;
        }
        Some(Effect::Debounce)
    }

    fn start_search(&mut self) -> Option<Effect> {
        self.index.as_ref()?;
        // Nothing to search for yet (a quote just opened): no search, and no error.
        if !holds_something_to_search(&self.query) {
            self.clear_results();
            return None;
        }
        self.seq += 1;
        self.searching = true;
        self.searched_filter = self.filter.clone();
        Some(Effect::Search {
            seq: self.seq,
            request: SearchRequest {
                mode: self.mode,
                fusion: self.fusion,
                rerank: self.rerank.clone().filter(|_| self.rerank_on),
                paths: PathFilter::new([&self.filter]),
                ..SearchRequest::new(self.query.clone(), self.k)
            },
        })
    }

    /// Searches again when the filter differs from the one the hits were found with, so the
    /// hits come from every file it keeps, not only from those of the last search.
    fn search_new_filter(&mut self) -> Option<Effect> {
        if self.filter.trim() == self.searched_filter.trim() || self.query.trim().is_empty() {
            return None;
        }
        self.start_search()
    }

    /// Forgets the results and cancels the search in flight (its results will be stale).
    fn clear_results(&mut self) {
        self.seq += 1;
        self.searching = false;
        self.outcome = None;
        self.error = None;
        self.refilter();
    }

    fn prev_boundary(&self) -> usize {
        self.query[..self.cursor]
            .char_indices()
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.query[self.cursor..]
            .chars()
            .next()
            .map_or(self.cursor, |c| self.cursor + c.len_utf8())
    }

    /// Recomputes which hits pass the filter, keeping the selected hit when it still does.
    fn refilter(&mut self) {
        let keep = self.selected_found().map(|f| f.hit.chunk_id);
        self.visible = match &self.outcome {
            Some(o) => o
                .found
                .iter()
                .enumerate()
                .filter(|(_, f)| path_matches(&self.filter, &f.hit.file))
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        let found = self.outcome.as_ref().map_or(&[][..], |o| &o.found[..]);
        let at = keep.and_then(|id| {
            self.visible
                .iter()
                .position(|&i| found.get(i).is_some_and(|f| f.hit.chunk_id == id))
        });
        if at != Some(self.selected) {
            self.scroll = None;
            self.reference = None;
        }
        self.selected = at.unwrap_or(0);
        if self.focus == Focus::Results && self.visible.is_empty() {
            self.focus = Focus::Query;
        }
        self.fix_offset();
    }

    fn select(&mut self, i: usize) {
        let i = i.min(self.visible.len().saturating_sub(1));
        if i != self.selected {
            self.scroll = None;
            self.reference = None;
        }
        self.selected = i;
        self.fix_offset();
    }

    /// Hits per page of the list.
    fn page(&self) -> usize {
        areas(self.area()).items_per_page().max(1)
    }

    /// Keeps the selected hit inside the list's window.
    fn fix_offset(&mut self) {
        let per = self.page();
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + per {
            self.offset = self.selected + 1 - per;
        }
        self.offset = self.offset.min(self.visible.len().saturating_sub(per));
    }

    fn scroll_preview(&mut self, delta: i32) {
        let Some((found, _)) = self.shown_found() else {
            return;
        };
        let area = areas(self.area()).preview;
        let width = area.width.saturating_sub(found.preview.gutter_width());
        let rows = preview::rows(&found.preview, width, &self.theme);
        let height = usize::from(area.height);
        let top = preview::top_row(&rows, height, self.scroll);
        let max_top = rows.len().saturating_sub(height.max(1));
        let moved = if delta < 0 {
            top.saturating_sub(delta.unsigned_abs() as usize)
        } else {
            top.saturating_add(delta as usize)
        };
        self.scroll = Some(moved.min(max_top));
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::tui::fixtures::hit;
    use crate::tui::preview::Preview;

    /// The facts of a small indexed corpus.
    pub(in crate::tui) fn info() -> IndexInfo {
        IndexInfo {
            name: "corpus".into(),
            model: "all-MiniLM-L6-v2".into(),
            documents: 21,
            chunks: 345,
            not_indexed: 0,
            root: PathBuf::from("/docs"),
            dir: Some(PathBuf::from("/docs/.lexsearch")),
        }
    }

    fn typed(app: &mut App, s: &str) -> Vec<Option<Effect>> {
        s.chars().map(|c| app.update(Action::Insert(c))).collect()
    }

    fn searched(app: &mut App) -> u64 {
        match app.update(Action::Search) {
            Some(Effect::Search { seq, request }) => {
                assert_eq!(request.query, app.query());
                assert_eq!(request.mode, app.mode());
                seq
            }
            other => panic!("expected a search, got {other:?}"),
        }
    }

    fn results(app: &mut App, seq: u64, files: &[&str]) {
        let hits = files
            .iter()
            .enumerate()
            .map(|(i, f)| hit(i + 1, f, "some text"))
            .collect();
        let q = app.query().to_string();
        app.update(Action::Results {
            seq,
            result: Ok(Outcome::from_hits(
                &q,
                app.mode(),
                hits,
                Duration::from_millis(5),
            )),
        });
    }

    #[test]
    fn typing_debounces_and_every_printable_character_goes_into_the_query() {
        let mut app = App::new(Some(info()), Theme::new(false));
        let effects = typed(&mut app, "§ 7.2(a)? q j k / y");
        assert!(effects.iter().all(|e| *e == Some(Effect::Debounce)));
        assert_eq!(app.query(), "§ 7.2(a)? q j k / y");
        assert_eq!(app.focus(), Focus::Query);
        assert!(app.is_running());
        assert!(!app.help_visible());
    }

    #[test]
    fn stale_results_are_dropped() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "deposit");
        let first = searched(&mut app);
        typed(&mut app, "s");
        let second = searched(&mut app);
        assert!(second > first);
        results(&mut app, first, &["old.txt"]);
        assert_eq!(app.visible_hits().count(), 0);
        results(&mut app, second, &["new.txt"]);
        assert_eq!(app.selected_hit().unwrap().file, "new.txt");
    }

    #[test]
    fn a_preview_read_after_the_results_replaces_its_hits_unless_stale() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "deposit");
        let seq = searched(&mut app);
        results(&mut app, seq, &["a.pdf", "b.docx"]);
        let found = |app: &App, i: usize| app.outcome.as_ref().unwrap().found[i].clone();
        let b = found(&app, 1);
        let inside = |f: &Found| Preview {
            text: format!("before\n{}\nafter", f.hit.text),
            chunk: 7..7 + f.hit.text.len(),
            from_file: true,
            ..f.preview.clone()
        };
        // One of an older search is dropped.
        app.update(Action::Preview {
            seq: seq - 1,
            chunk_id: b.hit.chunk_id,
            preview: inside(&b),
        });
        assert_eq!(found(&app, 1).preview, b.preview);
        // The latest search's replaces its hit's, and only that.
        app.update(Action::Preview {
            seq,
            chunk_id: b.hit.chunk_id,
            preview: inside(&b),
        });
        assert_eq!(found(&app, 1).preview, inside(&b));
        assert!(!found(&app, 0).preview.from_file);
        // The selected hit's preview opens at its chunk again.
        app.scroll = Some(3);
        let a = found(&app, 0);
        app.update(Action::Preview {
            seq,
            chunk_id: a.hit.chunk_id,
            preview: inside(&a),
        });
        assert_eq!(app.scroll, None);
        assert_eq!(found(&app, 0).preview, inside(&a));
    }

    #[test]
    fn a_quote_just_opened_searches_nothing_until_a_word_follows() {
        let mut app = App::new(Some(info()), Theme::new(false));
        assert_eq!(typed(&mut app, "\""), [None]);
        assert_eq!(app.update(Action::Search), None);
        assert!(app.notice().is_none());
        assert_eq!(typed(&mut app, "s"), [Some(Effect::Debounce)]);
        searched(&mut app);
    }

    #[test]
    fn clearing_the_query_cancels_the_search_in_flight() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "a");
        let seq = searched(&mut app);
        assert_eq!(app.update(Action::Backspace), None);
        results(&mut app, seq, &["a.txt"]);
        assert_eq!(app.visible_hits().count(), 0);
        assert_eq!(app.update(Action::Search), None);
    }

    #[test]
    fn an_empty_or_blank_query_is_never_searched() {
        let mut app = App::new(Some(info()), Theme::new(false));
        assert_eq!(app.update(Action::Search), None, "empty");
        assert_eq!(app.update(Action::NextMode), None, "empty, new mode");
        assert_eq!(
            typed(&mut app, "  \u{a0} "),
            vec![None; 4],
            "no debounce either"
        );
        assert_eq!(app.update(Action::Search), None, "blank");
        assert_eq!(app.update(Action::PrevMode), None, "blank, new mode");
        assert!(!app.is_searching());
        assert_eq!(app.visible_hits().count(), 0);
    }

    #[test]
    fn editing_keys_move_by_characters() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "§ deposit held");
        app.update(Action::DeleteWord);
        assert_eq!(app.query(), "§ deposit ");
        app.update(Action::CursorHome);
        app.update(Action::CursorRight);
        app.update(Action::Backspace);
        assert_eq!(app.query(), " deposit ");
        app.update(Action::Delete);
        assert_eq!(app.query(), "deposit ");
        app.update(Action::CursorEnd);
        app.update(Action::CursorLeft);
        app.update(Action::ClearLine);
        assert_eq!(app.query(), " ");
        app.update(Action::CursorLeft);
        app.update(Action::CursorLeft);
        assert_eq!(app.update(Action::Backspace), None);
    }

    #[test]
    fn up_and_ctrl_n_go_back_and_forth_through_the_queries_taken_to_the_results() {
        let mut app = App::new(Some(info()), Theme::new(false));
        assert_eq!(app.update(Action::HistoryPrev), None, "no history yet");
        for q in ["security deposit", "notice period", "notice period", ""] {
            app.update(Action::ClearLine);
            typed(&mut app, q);
            app.update(Action::FocusResults);
        }
        // Only queries taken to the results, once in a row, never the empty one.
        assert_eq!(app.history, ["security deposit", "notice period"]);
        typed(&mut app, "indemn");
        assert_eq!(app.update(Action::HistoryPrev), Some(Effect::Debounce));
        assert_eq!((app.query(), app.cursor), ("notice period", 13));
        app.update(Action::HistoryPrev);
        assert_eq!(app.query(), "security deposit");
        assert_eq!(app.update(Action::HistoryPrev), None, "the oldest");
        app.update(Action::HistoryNext);
        assert_eq!(app.query(), "notice period");
        app.update(Action::HistoryNext);
        assert_eq!(app.query(), "indemn", "back to the query typed");
        assert_eq!(app.update(Action::HistoryNext), None);
        // From a query that is the latest entry, ↑ gives the one before it.
        app.update(Action::ClearLine);
        typed(&mut app, "notice period");
        app.update(Action::HistoryPrev);
        assert_eq!(app.query(), "security deposit");
        // An edit of a recalled query ends the walk: it is the query typed now.
        typed(&mut app, " returned");
        assert_eq!(app.update(Action::HistoryNext), None);
        assert_eq!(app.query(), "security deposit returned");
    }

    #[test]
    fn tab_cycles_modes_and_searches_again() {
        let mut app = App::new(Some(info()), Theme::new(false));
        assert_eq!(app.update(Action::NextMode), None);
        assert_eq!(app.mode(), Mode::Keyword);
        typed(&mut app, "deposit");
        match app.update(Action::NextMode) {
            Some(Effect::Search { request, .. }) => assert_eq!(request.mode, Mode::Semantic),
            other => panic!("{other:?}"),
        }
        app.update(Action::NextMode);
        assert_eq!(app.mode(), Mode::Hybrid);
        app.update(Action::PrevMode);
        assert_eq!(app.mode(), Mode::Semantic);
    }

    #[test]
    fn focus_moves_between_query_results_and_filter() {
        let mut app = App::new(Some(info()), Theme::new(false));
        app.update(Action::FocusResults);
        assert_eq!(app.focus(), Focus::Query, "no results yet");
        typed(&mut app, "x");
        let seq = searched(&mut app);
        results(&mut app, seq, &["a.txt", "b.md", "c.txt"]);
        app.update(Action::FocusResults);
        assert_eq!(app.focus(), Focus::Results);
        app.update(Action::Down);
        app.update(Action::Down);
        app.update(Action::Down);
        assert_eq!(app.selected_hit().unwrap().file, "c.txt");
        app.update(Action::First);
        app.update(Action::Up);
        assert_eq!(app.focus(), Focus::Query);
        app.update(Action::FocusResults);
        app.update(Action::EditFilter);
        assert_eq!(app.focus(), Focus::Filter);
        for c in "*.md".chars() {
            app.update(Action::Insert(c));
        }
        assert_eq!(app.query(), "x", "filter keys do not reach the query");
        assert_eq!(app.visible_hits().count(), 1);
        app.update(Action::ApplyFilter);
        assert_eq!(app.focus(), Focus::Results);
        assert_eq!(app.selected_hit().unwrap().file, "b.md");
        app.update(Action::EditFilter);
        app.update(Action::ClearLine);
        assert_eq!(app.visible_hits().count(), 3);
        app.update(Action::CancelFilter);
        assert_eq!(app.filter(), "*.md");
        assert_eq!(app.focus(), Focus::Results);
    }

    #[test]
    fn applying_a_new_filter_searches_again_among_the_files_it_keeps() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "deposit");
        let seq = searched(&mut app);
        results(&mut app, seq, &["a.txt", "b.md"]);
        app.update(Action::EditFilter);
        // Typing narrows the hits at hand at once, without a search.
        assert!(typed(&mut app, "leases/*").iter().all(Option::is_none));
        assert_eq!(app.visible_hits().count(), 0);
        match app.update(Action::ApplyFilter) {
            Some(Effect::Search { request, .. }) => {
                assert_eq!(request.query, "deposit");
                assert_eq!(request.paths, PathFilter::new(["leases/*"]));
            }
            other => panic!("expected a search, got {other:?}"),
        }
        // An edit cancelled back to the filter searched, or applied unchanged, searches
        // nothing new.
        app.update(Action::EditFilter);
        typed(&mut app, "x");
        assert_eq!(app.update(Action::CancelFilter), None);
        app.update(Action::EditFilter);
        assert_eq!(app.update(Action::ApplyFilter), None);
        // Later queries keep to the filter's files.
        app.update(Action::FocusQuery);
        typed(&mut app, "s");
        match app.update(Action::Search) {
            Some(Effect::Search { request, .. }) => {
                assert_eq!(request.paths.patterns(), ["leases/*"]);
            }
            other => panic!("expected a search, got {other:?}"),
        }
    }

    #[test]
    fn r_shows_each_section_the_hit_refers_to_in_turn_then_the_hit_again() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "deposit");
        let seq = searched(&mut app);
        let text = "Section 4.3 Return.\nLandlord returns it as Section 4.2 and Article 8 allow.";
        let hits = vec![hit(1, "lease.txt", text), hit(2, "nda.md", "No reference.")];
        let outcome = Outcome::from_hits("deposit", app.mode(), hits, Duration::ZERO);
        app.update(Action::Results {
            seq,
            result: Ok(outcome),
        });
        app.update(Action::FocusResults);
        let own = app.selected_found().unwrap().clone();
        // The section as the worker sends it: a hit of its own at the section's place.
        let section = |line: u32, text: &str| {
            let mut h = hit(1, "lease.txt", text);
            h.line = line;
            Found::from_hit(h, "deposit")
        };
        let read = |app: &mut App| match app.update(Action::FollowReference) {
            Some(Effect::ReadSection {
                seq: s,
                hit,
                index,
                reference,
                query,
            }) => {
                assert_eq!((s, hit.chunk_id, query.as_str()), (seq, 1, "deposit"));
                (index, reference.cited)
            }
            other => panic!("expected a section to read, got {other:?}"),
        };
        // The first reference (not the passage's own heading) is read; the hit shows until
        // it comes.
        assert_eq!(read(&mut app), (0, "Section 4.2".to_string()));
        assert_eq!(app.shown_found().unwrap().0, &own);
        // One of an older search, or of another reference, is dropped.
        for (s, index) in [(seq - 1, 0), (seq, 1)] {
            app.update(Action::Section {
                seq: s,
                chunk_id: 1,
                index,
                result: Ok(Box::new(section(40, "Section 4.2 Application."))),
            });
            assert_eq!(app.shown_found().unwrap().0, &own);
        }
        app.scroll = Some(5);
        app.update(Action::Section {
            seq,
            chunk_id: 1,
            index: 0,
            result: Ok(Box::new(section(40, "Section 4.2 Application."))),
        });
        let (shown, following) = app.shown_found().unwrap();
        assert_eq!((shown.hit.line, following.unwrap().index), (40, 0));
        assert_eq!(app.scroll, None, "the preview opens at the section");
        // Copying (and opening) take the place shown.
        assert_eq!(
            app.update(Action::Copy),
            Some(Effect::Copy("/docs/lease.txt:40".into()))
        );
        // The next reference; one that cannot be shown says why and shows the hit.
        assert_eq!(read(&mut app), (1, "Article 8".to_string()));
        app.update(Action::Section {
            seq,
            chunk_id: 1,
            index: 1,
            result: Err("Article 8 is no heading of lease.txt".into()),
        });
        assert_eq!(app.shown_found().unwrap().0, &own);
        assert_eq!(
            app.notice,
            Some((Level::Info, "Article 8 is no heading of lease.txt".into()))
        );
        // After the last, `r` starts again from the first; past it, back to the hit.
        assert_eq!(read(&mut app).0, 0);
        assert_eq!(read(&mut app).0, 1);
        assert_eq!(app.update(Action::FollowReference), None);
        assert!(app.reference.is_none());
        // Another hit: what this one refers to is left; a passage with no reference says so.
        read(&mut app);
        app.update(Action::Down);
        assert!(app.reference.is_none());
        assert_eq!(app.update(Action::FollowReference), None);
        let notice = app.notice.clone().unwrap().1;
        assert!(notice.contains("refers to no numbered section"), "{notice}");
    }

    #[test]
    fn m_searches_for_passages_like_the_selected_hit() {
        let mut app = App::new(Some(info()), Theme::new(false));
        assert_eq!(app.update(Action::MoreLike), None, "no hit, nothing to do");
        typed(&mut app, "late charge");
        let seq = searched(&mut app);
        results(&mut app, seq, &["leases/a.txt", "my lease.txt"]);
        app.update(Action::FocusResults);
        let line = app.selected_hit().unwrap().line;
        match app.update(Action::MoreLike) {
            Some(Effect::Search { request, .. }) => {
                assert_eq!(request.query, format!("like:leases/a.txt:{line}"));
            }
            other => panic!("expected a search, got {other:?}"),
        }
        assert_eq!(app.query(), format!("like:leases/a.txt:{line}"));
        // Both queries are in the history: Ctrl-P goes back to the words.
        app.update(Action::HistoryPrev);
        assert_eq!(app.query(), "late charge");
        // A file name with a space is quoted.
        app.update(Action::Search);
        let seq = searched(&mut app);
        results(&mut app, seq, &["my lease.txt"]);
        app.update(Action::FocusResults);
        match app.update(Action::MoreLike) {
            Some(Effect::Search { request, .. }) => {
                assert_eq!(request.query, format!("like:\"my lease.txt:{line}\""));
                let ops = crate::search::operators::Operators::parse(&request.query);
                assert_eq!(ops.like, Some(format!("my lease.txt:{line}")));
            }
            other => panic!("expected a search, got {other:?}"),
        }
    }

    #[test]
    fn open_copy_and_quit_are_effects_or_state() {
        let mut app = App::new(Some(info()), Theme::new(false));
        assert_eq!(app.update(Action::Open), None);
        assert_eq!(app.update(Action::Copy), None);
        typed(&mut app, "x");
        let seq = searched(&mut app);
        results(&mut app, seq, &["a.txt"]);
        match app.update(Action::Open) {
            Some(Effect::Open(t)) => assert_eq!(t.path, PathBuf::from("/docs/a.txt")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            app.update(Action::Copy),
            Some(Effect::Copy("/docs/a.txt:1".into()))
        );
        assert!(matches!(app.notice(), Some((Level::Info, m)) if m.contains("copied")));
        app.update(Action::Down);
        assert_eq!(app.notice(), None, "a key clears information");
        app.update(Action::Quit);
        assert!(!app.is_running());
    }

    #[test]
    fn an_attachment_a_mailbox_message_or_a_maildir_message_is_opened_from_a_copy() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "x");
        let seq = searched(&mut app);
        results(
            &mut app,
            seq,
            &[
                "mail/thread.eml#lease.pdf",
                "inbox.mbox#0003.eml",
                "Mail/cur/1700000000.M1P2.host:2,S",
                "notes#1.txt",
            ],
        );
        app.update(Action::FocusResults);
        let mut opened = Vec::new();
        for _ in 0..4 {
            match app.update(Action::Open) {
                Some(Effect::Open(t)) => opened.push(t.inside),
                other => panic!("{other:?}"),
            }
            app.update(Action::Down);
        }
        let inside = |file: &str| {
            Some(super::super::open::Inside {
                file: file.into(),
                root: PathBuf::from("/docs"),
                index: Some(PathBuf::from("/docs/.lexsearch")),
            })
        };
        // A `#` in a plain file's name is not an attachment.
        assert_eq!(
            opened,
            [
                inside("mail/thread.eml#lease.pdf"),
                inside("inbox.mbox#0003.eml"),
                inside("Mail/cur/1700000000.M1P2.host:2,S"),
                None
            ]
        );
    }

    #[test]
    fn errors_show_and_clear() {
        let mut app = App::new(Some(info()), Theme::new(false));
        typed(&mut app, "x");
        let seq = searched(&mut app);
        app.update(Action::Results {
            seq,
            result: Err("model missing".into()),
        });
        assert!(matches!(app.notice(), Some((Level::Error, m)) if m.contains("model missing")));
        app.update(Action::Down);
        assert!(app.notice().is_some(), "errors outlive keys");
        let seq = searched(&mut app);
        results(&mut app, seq, &["a.txt"]);
        assert_eq!(app.notice(), None);
    }

    #[test]
    fn without_an_index_nothing_is_searched() {
        let mut app = App::new(None, Theme::new(false));
        assert_eq!(typed(&mut app, "x"), vec![None]);
        assert_eq!(app.update(Action::Search), None);
    }

    #[test]
    fn paging_and_preview_scrolling_stay_in_bounds() {
        let mut app = App::new(Some(info()), Theme::new(false));
        app.update(Action::Resize(80, 24));
        typed(&mut app, "x");
        let seq = searched(&mut app);
        let files: Vec<String> = (0..30).map(|i| format!("f{i}.txt")).collect();
        let refs: Vec<&str> = files.iter().map(String::as_str).collect();
        results(&mut app, seq, &refs);
        app.update(Action::FocusResults);
        app.update(Action::PageDown);
        let page = app.page();
        assert_eq!(app.selected, page);
        assert!(app.offset <= app.selected && app.selected < app.offset + page);
        app.update(Action::Last);
        assert_eq!(app.selected, 29);
        assert_eq!(app.offset, 30 - page);
        app.update(Action::PageUp);
        assert_eq!(app.selected, 29 - page);
        app.update(Action::ScrollPreview(-5));
        assert_eq!(app.scroll, Some(0));
        app.update(Action::ScrollPreview(1000));
        assert_eq!(app.scroll, Some(0), "one row of text: nothing to scroll");
    }
}
