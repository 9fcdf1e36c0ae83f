//! Drawing: `impl Widget for &App`. It reads the state and never changes it, and does no I/O.
//!
//! ```text
//!  hybrid › security deposit▏                             query line
//! ┌ Results: 12 hits ──────────────────────────────────┐
//! │▶ 1 ██████ commercial-lease.txt  line 43        both│  rank, score bar, file, place, arms
//! │    Article 4 › 4.2 Security Deposit                │  breadcrumb
//! └────────────────────────────────────────────────────┘
//! ┌ commercial-lease.txt · line 43 ────────────────────┐
//! │ 41   context line                                  │  preview: the chunk (▌) in context,
//! │ 43 ▌ The Security Deposit shall be …               │  query terms highlighted
//! └────────────────────────────────────────────────────┘
//!  Enter open · y copy · / filter · …                   messages, or key hints
//!  corpus │ all-MiniLM-L6-v2 │ 21 docs · 345 chunks │ hybrid · α=0.8 │ 12 ms
//! ```
//! Terminals narrower than 40 columns or lower than 10 rows get a compact screen: the query
//! line, one line per hit and the status bar. Wider than 120 columns, the preview sits beside
//! the list.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Margin, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::search::Mode;
use crate::search::fusion::Fusion;

use super::action::{Found, Level};
use super::app::App;
use super::focus::{Focus, HelpPage};
use super::keymap::{HELP, SYNTAX};
use super::layout::{Areas, areas};
use super::preview;

/// Width of the score bar, in cells.
const BAR_CELLS: usize = 6;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let a = areas(area);
        render_query(self, a.query, buf);
        if a.compact() {
            render_compact_list(self, a.list, buf);
        } else {
            render_list(self, &a, buf);
            render_preview(self, &a, buf);
            render_message(self, a.message, buf);
        }
        if self.focus == Focus::Filter && a.compact() {
            render_filter_line(self, a.status, buf);
        } else {
            render_status(self, a.status, buf);
        }
        if let Some(page) = self.help {
            render_help(self, page, area, buf);
        }
    }
}

/// Where the terminal cursor goes: in the line being edited, if any.
pub(super) fn cursor(app: &App, area: Rect) -> Option<Position> {
    if app.help.is_some() || area.is_empty() {
        return None;
    }
    let a = areas(area);
    let (row, x) = match app.focus {
        Focus::Query => (a.query, query_view(app, a.query.width).1),
        Focus::Filter => {
            let row = if a.compact() { a.status } else { a.message };
            (row, (FILTER_PROMPT.width() + app.filter.width()) as u16)
        }
        Focus::Results => return None,
    };
    if row.is_empty() || x >= row.width {
        return None;
    }
    Some(Position::new(row.x + x, row.y))
}

/// Draws `line` on row `y` of `area`, clipped to it.
fn put(buf: &mut Buffer, area: Rect, y: u16, line: &Line<'_>) {
    if area.width > 0 && y >= area.top() && y < area.bottom() {
        buf.set_line(area.x, y, line, area.width);
    }
}

/// `s` cut to `width` cells, with `…` where it was cut.
fn fit(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The query line's prompt: the mode, or `like` for a search like a passage (semantic
/// whatever the mode).
fn prompt(app: &App) -> String {
    let like = crate::search::operators::Operators::parse(&app.query)
        .like
        .is_some();
    format!(" {} › ", if like { "like" } else { app.mode.name() })
}

/// The visible part of the query (scrolled to keep the cursor in view) and the cursor's column.
fn query_view(app: &App, width: u16) -> (&str, u16) {
    let prefix = prompt(app).width();
    let room = usize::from(width).saturating_sub(prefix + 1);
    let mut start = 0;
    while app.query[start..app.cursor].width() > room {
        start += app.query[start..].chars().next().map_or(1, char::len_utf8);
    }
    let x = prefix + app.query[start..app.cursor].width();
    (&app.query[start..], x.min(usize::from(u16::MAX)) as u16)
}

fn render_query(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let t = &app.theme;
    let style = if app.focus == Focus::Query {
        t.accent()
    } else {
        t.dim()
    };
    let mut spans = vec![Span::styled(prompt(app), style)];
    if app.query.is_empty() {
        let hint = match &app.index {
            Some(i) => format!(
                "type to search {} chunks in {} documents · F1 help",
                i.chunks, i.documents
            ),
            None if !app.indexed_below.is_empty() => {
                "no index here; the list names the indexed folders below".to_string()
            }
            None => "no index: build one with `lexsearch index DIR`".to_string(),
        };
        spans.push(Span::styled(hint, t.dim()));
    } else {
        spans.push(Span::styled(query_view(app, area.width).0, t.text()));
    }
    put(buf, area, area.y, &Line::from(spans));
}

fn list_title(app: &App) -> Line<'static> {
    let t = &app.theme;
    let mut text = " Results".to_string();
    if let Some(o) = &app.outcome {
        let n = o.found.len();
        let plural = if n == 1 { "" } else { "s" };
        if app.filter.trim().is_empty() {
            text.push_str(&format!(": {n} hit{plural}"));
        } else {
            text.push_str(&format!(
                ": {} of {n} hit{plural} · filter {}",
                app.visible.len(),
                app.filter
            ));
        }
    } else if !app.filter.trim().is_empty() {
        text.push_str(&format!(" · filter {}", app.filter));
    }
    if app.searching {
        text.push_str(" · searching…");
    }
    text.push(' ');
    let style = if app.focus == Focus::Results {
        t.accent()
    } else {
        t.text()
    };
    Line::from(Span::styled(text, style))
}

fn render_list(app: &App, a: &Areas, buf: &mut Buffer) {
    let t = &app.theme;
    let border = if app.focus == Focus::Results {
        t.accent()
    } else {
        t.border()
    };
    Block::bordered()
        .border_style(border)
        .title(list_title(app))
        .render(a.list_block, buf);
    let inner = a.list;
    if inner.is_empty() {
        return;
    }
    if app.visible.is_empty() {
        Paragraph::new(empty_state(app))
            .wrap(Wrap { trim: false })
            .render(inner.inner(Margin::new(1, 0)), buf);
        return;
    }
    let per = a.items_per_page().max(1);
    let offset = window_offset(app.offset, app.selected, per);
    let max = max_score(app);
    for (row, (i, found)) in app
        .visible_found()
        .enumerate()
        .skip(offset)
        .take(per)
        .enumerate()
    {
        let y = inner.y + (row as u16) * 2;
        let selected = i == app.selected;
        let (first, second) = item_lines(app, found, selected, inner.width, max);
        put(buf, inner, y, &first);
        put(buf, inner, y + 1, &second);
        if selected {
            let h = 2.min(inner.bottom().saturating_sub(y));
            buf.set_style(Rect::new(inner.x, y, inner.width, h), t.selected());
        }
    }
}

/// The list's first item: the app's offset, moved if needed so the selection shows.
fn window_offset(offset: usize, selected: usize, per: usize) -> usize {
    if selected < offset {
        selected
    } else if selected >= offset + per {
        selected + 1 - per
    } else {
        offset
    }
}

fn max_score(app: &App) -> f32 {
    app.outcome
        .as_ref()
        .map(|o| o.found.iter().map(|f| f.hit.score).fold(0.0, f32::max))
        .unwrap_or(0.0)
}

/// A bar of `cells` cells, filled in eighths.
fn score_bar(fraction: f32, cells: usize) -> String {
    const PARTS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mut eighths = (f * (cells * 8) as f32).round() as usize;
    if f > 0.0 {
        eighths = eighths.max(1);
    }
    let mut s = "█".repeat(eighths / 8);
    if let Some(&part) = PARTS.get((eighths % 8).wrapping_sub(1)) {
        s.push(part);
    }
    let len = s.chars().count();
    s.extend(std::iter::repeat_n(' ', cells.saturating_sub(len)));
    s
}

fn arms_label(found: &Found) -> (&'static str, bool, bool) {
    let (k, s) = (found.hit.keyword.is_some(), found.hit.semantic.is_some());
    let label = match (k, s) {
        (true, true) => "both",
        (true, false) => "keyword",
        (false, true) => "semantic",
        (false, false) => "",
    };
    (label, k, s)
}

fn item_lines(
    app: &App,
    found: &Found,
    selected: bool,
    width: u16,
    max: f32,
) -> (Line<'static>, Line<'static>) {
    let t = &app.theme;
    let hit = &found.hit;
    let w = usize::from(width);
    let head = format!("{}{:>2} ", if selected { "▶" } else { " " }, hit.rank);
    let fraction = if max > 0.0 { hit.score / max } else { 0.0 };
    let bar = score_bar(fraction, BAR_CELLS);
    let (tag, k, s) = arms_label(found);
    let room = w.saturating_sub(head.width() + BAR_CELLS + 1 + tag.width() + 1);
    let place = hit.place_label();
    let (file, place) = if hit.file.width() + 2 + place.width() <= room {
        (hit.file.clone(), place)
    } else if room >= place.width() + 2 + 8 {
        (fit(&hit.file, room - place.width() - 2), place)
    } else {
        (fit(&hit.file, room), String::new())
    };
    let used = head.width()
        + BAR_CELLS
        + 1
        + file.width()
        + if place.is_empty() {
            0
        } else {
            2 + place.width()
        };
    let pad = w.saturating_sub(used + tag.width()).max(1);
    let mut spans = vec![
        Span::styled(head, t.text()),
        Span::styled(bar, t.bar()),
        Span::raw(" "),
        Span::styled(file, t.file()),
    ];
    if !place.is_empty() {
        spans.push(Span::styled(format!("  {place}"), t.dim()));
    }
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(tag, t.arms(k, s)));
    let about = if hit.breadcrumb.is_empty() {
        hit.snippet
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        hit.breadcrumb.join(" › ")
    };
    // The same text in other files, collapsed into this hit.
    let about = match copies_label(hit) {
        Some(copies) => format!("{copies} · {about}"),
        None => about,
    };
    // A file edited since the index read it: its text may differ.
    let about = if hit.changed {
        format!("changed since indexed · {about}")
    } else {
        about
    };
    let second = Line::from(vec![
        Span::raw("    "),
        Span::styled(fit(&about, w.saturating_sub(4)), t.dim()),
    ]);
    (Line::from(spans), second)
}

/// "+N copies" (or "+N+ copies" when there may be more) for a hit whose text other files
/// hold too ([`Hit::copies`](crate::search::Hit::copies)), else `None`.
fn copies_label(hit: &crate::search::Hit) -> Option<String> {
    let n = hit.copies.len();
    (n > 0).then(|| {
        format!(
            "+{n}{} cop{}",
            if hit.copies_complete { "" } else { "+" },
            if n == 1 { "y" } else { "ies" }
        )
    })
}

/// What the list says when it has nothing to show.
fn empty_state(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let lines: Vec<(String, Style)> = if app.index.is_none() && !app.indexed_below.is_empty() {
        let mut lines = vec![
            (
                "No index here, but these folders below are indexed:".into(),
                t.accent(),
            ),
            (String::new(), t.text()),
        ];
        lines.extend((app.indexed_below.iter()).map(|f| (format!("    {}", f.display()), t.key())));
        lines.extend([
            (String::new(), t.text()),
            (
                format!(
                    "Run lexsearch inside one, or pass --index FOLDER (lexsearch tui --index {}).",
                    app.indexed_below[0].display()
                ),
                t.text(),
            ),
        ]);
        lines
    } else if app.index.is_none() {
        vec![
            ("No index here yet.".into(), t.accent()),
            (String::new(), t.text()),
            ("Build one with:".into(), t.text()),
            ("    lexsearch index DIR".into(), t.key()),
            (
                "then run lexsearch inside DIR, or pass --index PATH.".into(),
                t.text(),
            ),
        ]
    } else if let Some(failure) = app.error.as_ref().filter(|f| f.in_query) {
        vec![
            ("The query cannot be searched as written:".into(), t.error()),
            (failure.message.clone(), t.text()),
            (String::new(), t.text()),
            (
                "Edit it above; F1, then Tab, shows the query syntax.".into(),
                t.dim(),
            ),
        ]
    } else if app.error.is_some() {
        vec![
            (
                "The search failed: the status bar says why.".into(),
                t.error(),
            ),
            (
                "Tab switches mode; keyword search needs no model.".into(),
                t.text(),
            ),
        ]
    } else if app.query.trim().is_empty() {
        vec![
            (
                "Type to search: results follow as you type.".into(),
                t.text(),
            ),
            (
                "Tab switches mode (hybrid, keyword, semantic); F1 lists every key.".into(),
                t.dim(),
            ),
        ]
    } else {
        match &app.outcome {
            None => vec![("Searching…".into(), t.dim())],
            Some(o) if o.found.is_empty() && o.files_in_scope == Some(0) => vec![
                (
                    format!("No indexed file's path matches the filter “{}”.", app.filter),
                    t.accent(),
                ),
                (
                    "Ctrl-F to change it (Ctrl-U in the filter clears it, Enter searches again)."
                        .into(),
                    t.text(),
                ),
            ],
            Some(o) if o.found.is_empty() => vec![
                (
                    format!("No hits for “{}” in {} mode.", o.query, o.mode.name()),
                    t.accent(),
                ),
                (
                    match o.mode {
                        Mode::Keyword => {
                            "Press Tab for semantic search (meaning, not words), or try other words."
                        }
                        Mode::Semantic => {
                            "Press Tab for hybrid search, Shift-Tab for keyword search, or try other words."
                        }
                        Mode::Hybrid => {
                            "Press Tab for keyword or semantic search alone, or try other words."
                        }
                    }
                    .into(),
                    t.text(),
                ),
            ],
            Some(_) => vec![
                (
                    format!("No hits match the filter “{}”.", app.filter),
                    t.accent(),
                ),
                (
                    "Enter in the filter searches the files it keeps; Ctrl-U there clears it."
                        .into(),
                    t.text(),
                ),
            ],
        }
    };
    lines
        .into_iter()
        .map(|(s, st)| Line::from(Span::styled(s, st)))
        .collect()
}

fn render_preview(app: &App, a: &Areas, buf: &mut Buffer) {
    let t = &app.theme;
    let block = Block::bordered().border_style(t.border());
    let Some((found, following)) = app.shown_found() else {
        block.title(" Preview ").render(a.preview_block, buf);
        return;
    };
    let hit = &found.hit;
    let mut title = format!(" {} · {}", hit.file, hit.place_label());
    // A section the selected hit refers to (`r`): which reference it is.
    if let Some(f) = following {
        title.push_str(&format!(
            " · the hit's reference {} of {}",
            f.index + 1,
            f.refs.len()
        ));
    }
    if let Some(copies) = copies_label(hit) {
        title.push_str(&format!(" · {copies}"));
    }
    if let Some(last) = hit.breadcrumb.last() {
        title.push_str(&format!(" · {last}"));
    }
    title.push(' ');
    let area = a.preview;
    let gutter = found.preview.gutter_width().min(area.width);
    let text_width = area.width - gutter;
    let rows = preview::rows(&found.preview, text_width, t);
    let height = usize::from(area.height);
    let top = preview::top_row(&rows, height, app.scroll);
    let shown = rows.len().min(top + height);
    let position = if rows.len() > height {
        format!(" {}–{} of {} ", top + 1, shown, rows.len())
    } else {
        String::new()
    };
    // Where the copies are, on the bottom border left of the position.
    let copies = hit.copies_line(2).map(|line| {
        let room = usize::from(a.preview_block.width).saturating_sub(position.chars().count() + 4);
        Line::from(Span::styled(fit(&format!(" {line} "), room), t.dim())).left_aligned()
    });
    let mut block = block
        .title(Line::from(Span::styled(
            fit(&title, usize::from(a.preview_block.width.saturating_sub(2))),
            t.text(),
        )))
        .title_bottom(Line::from(Span::styled(position, t.dim())).right_aligned());
    if let Some(copies) = copies {
        block = block.title_bottom(copies);
    }
    block.render(a.preview_block, buf);
    if area.is_empty() {
        return;
    }
    let digits = usize::from(gutter.saturating_sub(3));
    for (i, row) in rows[top..shown].iter().enumerate() {
        let y = area.y + i as u16;
        let bar = if row.in_pinpoint {
            "█"
        } else if row.in_chunk {
            "▌"
        } else {
            " "
        };
        let mut spans = Vec::new();
        if found.preview.numbered {
            let n = row.number.map(|n| n.to_string()).unwrap_or_default();
            spans.push(Span::styled(format!("{n:>digits$} "), t.dim()));
        }
        spans.push(Span::styled(bar, t.accent()));
        spans.push(Span::raw(" "));
        put(
            buf,
            Rect::new(area.x, area.y, gutter, area.height),
            y,
            &Line::from(spans),
        );
        put(
            buf,
            Rect::new(area.x + gutter, area.y, text_width, area.height),
            y,
            &row.line,
        );
    }
}

const FILTER_PROMPT: &str = " filter › ";

fn render_filter_line(app: &App, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let line = Line::from(vec![
        Span::styled(FILTER_PROMPT, t.accent()),
        Span::styled(app.filter.clone(), t.text()),
        Span::styled(
            if app.filter.is_empty() {
                "  path glob, e.g. *.md or lease*; Enter searches those files"
            } else {
                ""
            },
            t.dim(),
        ),
    ]);
    put(buf, area, area.y, &line);
}

fn render_message(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let t = &app.theme;
    if app.focus == Focus::Filter {
        render_filter_line(app, area, buf);
        return;
    }
    let w = usize::from(area.width);
    let line = match &app.notice {
        Some((level, text)) => {
            let style = match level {
                Level::Error => t.error(),
                Level::Info => t.info(),
            };
            Line::from(Span::styled(fit(&format!(" {text}"), w), style))
        }
        None => {
            let keys = " Enter open · y copy · / filter · i query · Tab mode · ? help · q quit";
            let hints = match app.focus {
                // The first part the selected hit refers to, which `r` shows.
                Focus::Results => match app.selected_hit().and_then(|h| {
                    crate::search::citation::cross_references(&h.text)
                        .into_iter()
                        .next()
                }) {
                    Some(r) => format!(" r {} ·{keys}", r.cited),
                    None => keys.to_string(),
                },
                _ => " ↓ results · Tab mode · Ctrl-F filter · F1 help · Esc quit".to_string(),
            };
            Line::from(Span::styled(fit(&hints, w), t.dim()))
        }
    };
    put(buf, area, area.y, &line);
}

fn fusion_label(fusion: Fusion) -> String {
    match fusion {
        Fusion::Rrf {
            k,
            keyword_weight: 1.0,
        } => format!("rrf k={k}"),
        Fusion::Rrf { k, keyword_weight } => format!("rrf k={k} kw×{keyword_weight}"),
        Fusion::Weighted { alpha } => format!("α={alpha}"),
    }
}

fn status_text(app: &App) -> String {
    let mut parts = Vec::new();
    match &app.index {
        Some(i) => {
            parts.push(i.name.clone());
            parts.push(i.model.clone());
            parts.push(match i.not_indexed {
                0 => format!("{} docs · {} chunks", i.documents, i.chunks),
                n => format!(
                    "{} docs · {} chunks · {n} not indexed",
                    i.documents, i.chunks
                ),
            });
        }
        None => parts.push("no index".to_string()),
    }
    parts.push(match app.mode {
        Mode::Hybrid => format!("hybrid · {}", fusion_label(app.fusion)),
        m => m.name().to_string(),
    });
    if let Some(r) = &app.rerank {
        parts.push(if app.rerank_on {
            format!("rerank top {}", r.top)
        } else {
            "rerank off".to_string()
        });
    }
    if app.searching {
        parts.push("searching…".into());
    } else if let Some(l) = app.latency() {
        parts.push(format!("{:.0} ms", l.as_secs_f64() * 1000.0));
    }
    format!(" {}", parts.join(" │ "))
}

fn render_status(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let t = &app.theme;
    buf.set_style(area, t.status());
    let text = fit(&status_text(app), usize::from(area.width));
    put(
        buf,
        area,
        area.y,
        &Line::from(Span::styled(text, t.status())),
    );
}

fn render_compact_list(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let t = &app.theme;
    let w = usize::from(area.width);
    if app.visible.is_empty() {
        for (i, line) in empty_state(app)
            .iter()
            .take(usize::from(area.height))
            .enumerate()
        {
            let text = fit(&line.to_string(), w);
            put(
                buf,
                area,
                area.y + i as u16,
                &Line::from(Span::styled(text, t.dim())),
            );
        }
        return;
    }
    let per = usize::from(area.height);
    let offset = window_offset(app.offset, app.selected, per);
    for (row, (i, found)) in app
        .visible_found()
        .enumerate()
        .skip(offset)
        .take(per)
        .enumerate()
    {
        let hit = &found.hit;
        let text = fit(
            &format!("{:>2} {} {}", hit.rank, hit.file, hit.place_label()),
            w,
        );
        let style = if i == app.selected {
            t.selected()
        } else {
            t.text()
        };
        put(
            buf,
            area,
            area.y + row as u16,
            &Line::from(Span::styled(text, style)),
        );
    }
}

/// Key help lines for one column: section titles, then keys and what they do.
fn help_column(app: &App, sections: &[(&str, &[(&str, &str)])]) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    for (i, (title, keys)) in sections.iter().enumerate() {
        if i > 0 {
            lines.push(Line::default());
        }
        lines.push(Line::from(Span::styled(title.to_string(), t.accent())));
        for (key, what) in *keys {
            let pad = 13usize.saturating_sub(key.width());
            lines.push(Line::from(vec![
                Span::raw(" "),
                Span::styled(key.to_string(), t.key()),
                Span::raw(" ".repeat(pad + 1)),
                Span::styled(what.to_string(), t.text()),
            ]));
        }
    }
    lines
}

fn render_help(app: &App, page: HelpPage, area: Rect, buf: &mut Buffer) {
    let t = &app.theme;
    let (sections, title, other) = match page {
        HelpPage::Keys => (HELP, " Keys ", "syntax"),
        HelpPage::Syntax => (SYNTAX, " Query syntax ", "keys"),
    };
    let half = sections.len().div_ceil(2);
    let (left, right) = (
        help_column(app, &sections[..half]),
        help_column(app, &sections[half..]),
    );
    let two = area.width >= 78;
    let (width, rows) = if two {
        (77, left.len().max(right.len()))
    } else {
        (40, left.len() + 1 + right.len())
    };
    let w = area.width.min(width);
    let h = area.height.min(rows as u16 + 2);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(r, buf);
    let block = Block::bordered()
        .border_style(t.accent())
        .title(Line::from(Span::styled(title, t.accent())))
        .title_bottom(
            Line::from(Span::styled(
                format!(" Tab: {other} · other keys close "),
                t.dim(),
            ))
            .right_aligned(),
        );
    let inner = block.inner(r);
    block.render(r, buf);
    if two {
        let [l, _, rt] = Layout::horizontal([
            Constraint::Length(37),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        Paragraph::new(left).render(l, buf);
        Paragraph::new(right).render(rt, buf);
    } else {
        let mut all = left;
        all.push(Line::default());
        all.extend(right);
        Paragraph::new(all).render(inner, buf);
    }
}
