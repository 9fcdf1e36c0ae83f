//! The preview of one hit: the chunk with the document text around it, and the screen rows it
//! wraps to. Building a [`Preview`] is pure (the worker reads the document and passes its text);
//! wrapping it into [`Row`]s is pure too, so the list, the preview and scrolling agree.

use std::ops::Range;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use crate::search::Hit;
use crate::search::snippet::highlight_ranges;

use super::theme::Theme;

/// Bytes of document shown before the chunk, at most (cut at a line start).
pub const CONTEXT_BEFORE: usize = 2_000;
/// Bytes of document shown after the chunk, at most (cut at a line end).
pub const CONTEXT_AFTER: usize = 4_000;
/// Rows of context kept above the chunk when a preview is first shown.
pub const LEAD_ROWS: usize = 2;

/// A hit's chunk in its document context, with query terms marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The excerpt: the chunk and the text around it.
    pub text: String,
    /// The chunk's byte range in `text`.
    pub chunk: Range<usize>,
    /// Byte ranges of `text` that match query terms, in order.
    pub highlights: Vec<Range<usize>>,
    /// The hit's pinpoint (the sentence or clause that answers) as a byte range of `text`.
    pub pinpoint: Option<Range<usize>>,
    /// 1-based line number of the excerpt's first line in the document.
    pub first_line: u32,
    /// Whether the text around the chunk came from the document (its file, or its text as the
    /// index extracted it from a PDF, Word, HTML or e-mail file), else the chunk alone.
    pub from_file: bool,
    /// Whether line numbers mean something (plain text, not a paged or paragraph-numbered file).
    pub numbered: bool,
}

impl Preview {
    /// Previews `hit` inside `document` (the file's text) when the chunk is found there, at its
    /// byte range or elsewhere, else from the chunk's own text.
    pub fn build(hit: &Hit, document: Option<&str>, query: &str) -> Self {
        let numbered = hit.page.is_none() && hit.paragraph.is_none();
        if let Some(doc) = document
            && let Some(chunk) = locate(doc, hit)
        {
            let win = window(doc, &chunk);
            let text = doc[win.clone()].to_string();
            let first_line = 1 + doc[..win.start].matches('\n').count() as u32;
            return Preview {
                highlights: highlight_ranges(&text, query),
                pinpoint: pinpoint_in(hit, chunk.start - win.start, text.len()),
                chunk: chunk.start - win.start..chunk.end - win.start,
                text,
                first_line,
                from_file: true,
                numbered,
            };
        }
        Preview {
            highlights: highlight_ranges(&hit.text, query),
            pinpoint: pinpoint_in(hit, 0, hit.text.len()),
            chunk: 0..hit.text.len(),
            text: hit.text.clone(),
            first_line: hit.line.max(1),
            from_file: false,
            numbered,
        }
    }

    /// Width of the gutter: line numbers (when they mean something) and the chunk bar.
    pub fn gutter_width(&self) -> u16 {
        if self.numbered {
            let last = self.first_line as usize + self.text.matches('\n').count();
            last.to_string().len() as u16 + 3
        } else {
            2
        }
    }
}

/// The hit's pinpoint as a byte range of a preview text whose chunk starts at `chunk_start`.
fn pinpoint_in(hit: &Hit, chunk_start: usize, len: usize) -> Option<Range<usize>> {
    let p = hit.pinpoint.as_ref()?;
    let start = chunk_start + p.start_byte.checked_sub(hit.start_byte)?;
    let end = chunk_start + p.end_byte.checked_sub(hit.start_byte)?;
    (start < end && end <= len).then_some(start..end)
}

/// Where the chunk's text is in the document: at its recorded range, or found by search.
fn locate(doc: &str, hit: &Hit) -> Option<Range<usize>> {
    if hit.text.is_empty() {
        return None;
    }
    if doc.get(hit.start_byte..hit.end_byte) == Some(hit.text.as_str()) {
        return Some(hit.start_byte..hit.end_byte);
    }
    doc.find(hit.text.as_str()).map(|p| p..p + hit.text.len())
}

/// The excerpt around `chunk`: whole lines, at most the context limits either side.
fn window(doc: &str, chunk: &Range<usize>) -> Range<usize> {
    let lo = doc.floor_char_boundary(chunk.start.saturating_sub(CONTEXT_BEFORE));
    let start = if lo == 0 {
        0
    } else {
        doc[lo..chunk.start].find('\n').map_or(lo, |i| lo + i + 1)
    };
    let hi = doc.ceil_char_boundary(chunk.end.saturating_add(CONTEXT_AFTER).min(doc.len()));
    let mut end = if hi >= doc.len() {
        doc.len()
    } else {
        doc[chunk.end..hi].rfind('\n').map_or(hi, |i| chunk.end + i)
    };
    // Trailing blank lines add nothing.
    while end > chunk.end && doc[..end].ends_with(['\n', '\r', ' ', '\t']) {
        end -= 1;
    }
    start..end
}

/// One screen row of a preview.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The text, styled.
    pub line: Line<'static>,
    /// Whether the row shows part of the chunk.
    pub in_chunk: bool,
    /// Whether the row shows part of the pinpoint.
    pub in_pinpoint: bool,
    /// The document line number, on the first row of each line.
    pub number: Option<u32>,
}

/// Wraps the preview into rows of at most `width` cells, breaking after spaces where it can.
pub fn rows(p: &Preview, width: u16, theme: &Theme) -> Vec<Row> {
    let width = usize::from(width.max(1));
    let mut out = Vec::new();
    let mut h = 0; // first highlight that may still cover a later byte
    let mut base = 0;
    for (n, line) in p.text.split('\n').enumerate() {
        let number = Some(p.first_line.saturating_add(n as u32));
        let mut cells: Vec<Cell> = Vec::with_capacity(line.len());
        for (off, ch) in line.char_indices() {
            let at = base + off;
            let ch = match ch {
                '\t' => ' ',
                c if c.is_control() => continue,
                c => c,
            };
            let w = ch.width().unwrap_or(0);
            if w == 0 {
                continue;
            }
            while h < p.highlights.len() && p.highlights[h].end <= at {
                h += 1;
            }
            let in_chunk = p.chunk.contains(&at);
            let mut style = if in_chunk {
                theme.chunk()
            } else {
                theme.context()
            };
            let in_pinpoint = p.pinpoint.as_ref().is_some_and(|r| r.contains(&at));
            if in_pinpoint {
                style = style.patch(theme.pinpoint());
            }
            if h < p.highlights.len() && p.highlights[h].start <= at {
                style = style.patch(theme.highlight());
            }
            cells.push(Cell {
                ch,
                width: w,
                style,
                in_chunk,
                in_pinpoint,
            });
        }
        if cells.is_empty() {
            out.push(Row {
                line: Line::default(),
                in_chunk: p.chunk.start <= base && base < p.chunk.end,
                in_pinpoint: p.pinpoint.as_ref().is_some_and(|r| r.contains(&base)),
                number,
            });
        }
        let mut i = 0;
        let mut first = true;
        while i < cells.len() {
            let mut used = 0;
            let mut j = i;
            while j < cells.len() && used + cells[j].width <= width {
                used += cells[j].width;
                j += 1;
            }
            if j == i {
                j = i + 1; // a character wider than the row
            }
            let end = if j < cells.len() {
                (i + 1..=j)
                    .rev()
                    .find(|&b| cells[b - 1].ch == ' ')
                    .unwrap_or(j)
            } else {
                j
            };
            out.push(Row {
                line: styled_line(&cells[i..end]),
                in_chunk: cells[i..end].iter().any(|c| c.in_chunk),
                in_pinpoint: cells[i..end].iter().any(|c| c.in_pinpoint),
                number: if first { number } else { None },
            });
            first = false;
            i = end;
        }
        base += line.len() + 1;
    }
    out
}

/// One character of a preview line, with what it belongs to.
struct Cell {
    ch: char,
    width: usize,
    style: Style,
    in_chunk: bool,
    in_pinpoint: bool,
}

fn styled_line(cells: &[Cell]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for &Cell { ch, style: s, .. } in cells {
        if style.is_some_and(|st| st != s) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                style.unwrap_or_default(),
            ));
        }
        style = Some(s);
        text.push(ch);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style.unwrap_or_default()));
    }
    Line::from(spans)
}

/// The row shown at the top when the preview opens: a little context above the pinpoint, or
/// above the chunk when the hit has none.
pub fn anchor(rows: &[Row]) -> usize {
    rows.iter()
        .position(|r| r.in_pinpoint)
        .or_else(|| rows.iter().position(|r| r.in_chunk))
        .unwrap_or(0)
        .saturating_sub(LEAD_ROWS)
}

/// The first row to show in `height` rows, given the user's scroll (`None`: the anchor).
/// Never scrolls past the end, so the last screen is full.
pub fn top_row(rows: &[Row], height: usize, scroll: Option<usize>) -> usize {
    let max_top = rows.len().saturating_sub(height.max(1));
    scroll.unwrap_or_else(|| anchor(rows)).min(max_top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures::hit;
    use ratatui::style::Modifier;

    fn plain(rows: &[Row]) -> Vec<String> {
        rows.iter().map(|r| r.line.to_string()).collect()
    }

    #[test]
    fn the_chunk_is_found_at_its_range_and_shown_with_context() {
        let doc = "Title\n\n1. Rent\nTenant pays rent.\n\n2. Deposit\nThe security deposit is held.\n\n3. End\nThe end.\n";
        let start = doc.find("The security").unwrap();
        let mut h = hit(1, "lease.txt", "The security deposit is held.");
        h.start_byte = start;
        h.end_byte = start + h.text.len();
        h.line = 7;
        let p = Preview::build(&h, Some(doc), "security deposit");
        assert!(p.from_file);
        assert_eq!(&p.text[p.chunk.clone()], h.text);
        assert_eq!(p.first_line, 1);
        assert!(p.text.ends_with("The end."), "{:?}", p.text);
        let marked: Vec<&str> = p.highlights.iter().map(|r| &p.text[r.clone()]).collect();
        assert_eq!(marked, ["Deposit", "security", "deposit"]);
    }

    #[test]
    fn a_moved_chunk_is_found_by_search_and_a_missing_one_falls_back_to_the_hit_text() {
        let mut h = hit(1, "a.txt", "held in trust");
        h.start_byte = 999;
        h.end_byte = 1012;
        let p = Preview::build(&h, Some("money is held in trust here"), "trust");
        assert!(p.from_file);
        assert_eq!(p.chunk, 9..22);
        let p = Preview::build(&h, Some("something else entirely"), "trust");
        assert!(!p.from_file);
        assert_eq!(p.text, "held in trust");
        assert_eq!(p.first_line, h.line);
        let p = Preview::build(&h, None, "trust");
        assert_eq!(p.chunk, 0..13);
    }

    #[test]
    fn long_documents_are_cut_at_line_boundaries() {
        let before = "x ".repeat(40) + "\n";
        let doc = before.repeat(100) + "CHUNK HERE\n" + &before.repeat(200);
        let start = doc.find("CHUNK").unwrap();
        let mut h = hit(1, "a.txt", "CHUNK HERE");
        h.start_byte = start;
        h.end_byte = start + 10;
        let p = Preview::build(&h, Some(&doc), "chunk");
        assert!(p.text.len() <= CONTEXT_BEFORE + CONTEXT_AFTER + 10);
        assert!(p.text.starts_with("x x"));
        assert!(p.text.ends_with("x x"), "{:?}", &p.text[p.text.len() - 5..]);
        assert!(!p.text[p.chunk.end..].contains("CHUNK"));
        let lines_before =
            doc[..start].matches('\n').count() - p.text[..p.chunk.start].matches('\n').count();
        assert_eq!(p.first_line as usize, lines_before + 1);
    }

    #[test]
    fn rows_wrap_at_spaces_and_mark_the_chunk() {
        let p = Preview {
            text: "before line\nthe chunk text that wraps\nafter".into(),
            chunk: 12..37,
            highlights: std::iter::once(16..21).collect(),
            first_line: 10,
            from_file: true,
            numbered: true,
            pinpoint: None,
        };
        let r = rows(&p, 10, &Theme::new(false));
        assert_eq!(
            plain(&r),
            [
                "before ",
                "line",
                "the chunk ",
                "text that ",
                "wraps",
                "after"
            ]
        );
        assert_eq!(
            r.iter().map(|r| r.in_chunk).collect::<Vec<_>>(),
            [false, false, true, true, true, false]
        );
        assert_eq!(r[2].number, Some(11));
        assert_eq!(r[3].number, None);
        // "chunk" is highlighted.
        let span = r[2]
            .line
            .spans
            .iter()
            .find(|s| s.content == "chunk")
            .unwrap();
        assert_eq!(
            span.style,
            Theme::new(false)
                .chunk()
                .patch(Theme::new(false).highlight())
        );
        assert_eq!(anchor(&r), 0);
        assert_eq!(top_row(&r, 2, None), 0);
        assert_eq!(top_row(&r, 2, Some(100)), 4);
    }

    #[test]
    fn the_pinpoint_is_marked_and_the_preview_opens_at_it() {
        let chunk = "Section 9. Notices. All notices go by mail. The tenant may cure a default within ten days of notice. Fees are due monthly.";
        let doc = format!("{}{chunk}\nThe end.\n", "Recital line.\n".repeat(20));
        let start = doc.find("Section 9").unwrap();
        let mut h = hit(1, "lease.txt", chunk);
        h.start_byte = start;
        h.end_byte = start + chunk.len();
        let answer = "The tenant may cure a default within ten days of notice.";
        let at = start + chunk.find(answer).unwrap();
        h.pinpoint = Some(crate::search::pinpoint::Pinpoint {
            start_byte: at,
            end_byte: at + answer.len(),
            line: 21,
            page: None,
            text: answer.into(),
            score: 1.0,
        });
        let p = Preview::build(&h, Some(&doc), "cure default");
        let range = p.pinpoint.clone().unwrap();
        assert_eq!(&p.text[range], answer);
        let theme = Theme::new(false);
        let r = rows(&p, 30, &theme);
        let marked: String = r
            .iter()
            .flat_map(|r| r.line.spans.iter())
            .filter(|s| s.style.add_modifier.contains(Modifier::UNDERLINED))
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(marked, answer);
        assert!(r.iter().filter(|r| r.in_pinpoint).all(|r| r.in_chunk));
        // Its words are styled as the pinpoint; the query terms in it as highlights on top.
        let tenant = r
            .iter()
            .flat_map(|r| r.line.spans.iter())
            .find(|s| s.content.contains("tenant"))
            .unwrap();
        assert_eq!(tenant.style, theme.chunk().patch(theme.pinpoint()));
        let cure = r
            .iter()
            .flat_map(|r| r.line.spans.iter())
            .find(|s| s.content == "cure")
            .unwrap();
        assert_eq!(
            cure.style,
            theme
                .chunk()
                .patch(theme.pinpoint())
                .patch(theme.highlight())
        );
        // The preview opens with the pinpoint near the top, not at the chunk's start.
        let first_row = r.iter().position(|r| r.in_pinpoint).unwrap();
        assert_eq!(anchor(&r), first_row - LEAD_ROWS);
        assert!(anchor(&r) > r.iter().position(|r| r.in_chunk).unwrap() - LEAD_ROWS);
        // Without a pinpoint nothing is marked and the preview opens at the chunk.
        h.pinpoint = None;
        let p = Preview::build(&h, Some(&doc), "cure default");
        let r = rows(&p, 30, &theme);
        assert!(r.iter().all(|r| !r.in_pinpoint));
        assert_eq!(
            anchor(&r),
            r.iter().position(|r| r.in_chunk).unwrap() - LEAD_ROWS
        );
    }

    #[test]
    fn wide_and_control_characters_never_overflow_a_row() {
        let p = Preview {
            text: "§§ 日本語テキスト\tand\u{7}bell".into(),
            chunk: 0..5,
            highlights: vec![],
            first_line: 1,
            from_file: false,
            numbered: false,
            pinpoint: None,
        };
        for width in 1..12 {
            for row in rows(&p, width, &Theme::new(true)) {
                assert!(
                    row.line.width() <= usize::from(width).max(2),
                    "{width}: {row:?}"
                );
            }
        }
    }
}
