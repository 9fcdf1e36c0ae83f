//! Rich Text Format (`.rtf`): paragraphs in order, with headings, list numbers, tables, notes
//! and page headers, written as the DOCX reader writes them.
//!
//! Hand-written, because the crate we tried (`rtf-parser` 0.4) drops paragraph breaks
//! (`\par`) and knows no outline levels, so neither paragraphs nor breadcrumbs survive. This
//! reader walks the RFC-less but stable RTF 1.9 syntax without recursion:
//!
//! - text in the document's ANSI code page (`\ansicpgN`, Windows-1252 by default), `\'hh`
//!   bytes, `\uN` Unicode characters (skipping the `\ucN` fallback characters after them);
//! - `\par` ends a paragraph; `\line` is a line break, `\tab` a tab; a table row (`\row`) is
//!   one line with its cells (`\cell`, paragraphs of a cell joined) separated by ` | `, the
//!   rows of a table are separated by single line breaks, and a table inside a cell
//!   (`\nestcell`, `\nestrow`) joins that cell, its rows `; ` apart;
//! - a paragraph with `\outlinelevelN`, or in a style named "heading N" or "Title" (from the
//!   stylesheet), becomes a Markdown heading line (`#` repeated N+1 / N / 1 times), so the
//!   chunker builds breadcrumbs from it; the title is `{\info{\title ...}}`;
//! - a list item starts with the label its writer rendered (`{\listtext 4.2\tab}`, or
//!   `\pntext`), indented by its level (`\ilvlN`); a bullet is left out;
//! - footnotes (`\footnote`, also as `{\*\footnote`) become `[n]` and endnotes (`\ftnalt`)
//!   `[i]` in the text and follow the body under `# Footnotes` and `# Endnotes`; page headers
//!   and footers follow under `# Headers and footers` (each kept once), as DOCX does;
//! - tracked deletions (`\deleted`) are left out;
//! - font, colour, style and list tables, pictures, objects, field instructions and every
//!   other `{\* ...}` destination are skipped.
//!
//! Paragraph numbers ([`ExtractedText::paragraphs`]) count the non-empty paragraphs (a table
//! row counts as one), then the notes, headers and footers.

use std::collections::HashMap;
use std::ops::Range;

use super::types::{ExtractError, ExtractedText, Extractor, codepage_encoding};
use super::word::{collapse, roman, row_text};

/// The RTF extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct RtfExtractor;

impl Extractor for RtfExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_rtf(bytes)
    }
}

/// Groups whose content is not part of the text.
const SKIPPED: &[&str] = &[
    "colortbl",
    "stylesheet",
    "pict",
    "object",
    "fldinst",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "filetbl",
    "revtbl",
    "bkmkstart",
    "bkmkend",
    "info",
    "mmathPr",
    "pntxta",
    "pntxtb",
    "nonshppict",
    "shp",
    "private",
    "nonesttables",
];

/// State that a group (`{...}`) saves and restores.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    /// Inside a skipped destination.
    skip: bool,
    /// Inside `\title` of the info group.
    title: bool,
    /// Inside the stylesheet (style names are read).
    stylesheet: bool,
    /// Fallback characters after `\uN`.
    uc: usize,
    /// Inside `\listtext` (or `\pntext`): the list label the writer rendered.
    label: bool,
    /// Inside a note, or a page header or footer.
    aside: bool,
    /// Tracked deletion (`\deleted`): not part of the text as it reads.
    deleted: bool,
    /// The group opened with `\*` (an optional destination) inside text that is read: a
    /// destination we know (`\footnote` as some writers star it) is read after all.
    starred: bool,
    /// Inside `\nesttableprops`, which ends a row of a table inside a cell (`\nestrow`).
    nest_props: bool,
    /// Inside the font table (font numbers and charsets are read).
    fonttbl: bool,
    /// The current font (`\fN`); `None`: the default font (`\deffN`).
    font: Option<i32>,
}

/// What a note or a page header or footer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aside {
    Footnote,
    Endnote,
    Running,
}

/// The body's paragraph in progress, put aside while a note or header is read.
#[derive(Debug, Default)]
struct Saved {
    para: String,
    outline: Option<u8>,
    style: Option<i32>,
    ilvl: u8,
    label: String,
    in_table: bool,
    cells: Vec<String>,
    inner_cells: Vec<String>,
    last_was_row: bool,
}

/// Stands for a note's mark in the body until the note is read (footnote or endnote).
const NOTE_MARK: char = '\u{E000}';

#[derive(Debug, Default)]
struct Reader {
    text: String,
    paragraphs: Vec<Range<usize>>,
    /// The paragraph being read, its heading level, its style.
    para: String,
    outline: Option<u8>,
    style: Option<i32>,
    /// Cells of the table row being read.
    cells: Vec<String>,
    /// Whether the last block written was a table row.
    last_was_row: bool,
    title: String,
    /// Style number → heading level, from the stylesheet.
    heading_styles: HashMap<i32, u8>,
    style_name: String,
    style_number: Option<i32>,
    /// Bytes waiting to be decoded in the ANSI code page.
    pending: Vec<u8>,
    encoding: Option<&'static encoding_rs::Encoding>,
    /// Font number → the code page of its charset (`\fcharsetN`), from the font table; the
    /// default font; the font entry being read; a high surrogate waiting for its pair.
    font_pages: HashMap<i32, u16>,
    default_font: Option<i32>,
    font_number: Option<i32>,
    high_surrogate: Option<u32>,
    /// The list level (`\ilvlN`) and rendered label (`\listtext`) of the paragraph.
    ilvl: u8,
    label: String,
    /// The paragraph is in a table (`\intbl`): its end joins the cell.
    in_table: bool,
    /// Cells of the row of a table inside a cell (`\nestcell`).
    inner_cells: Vec<String>,
    /// Paragraphs of the cell being read that ended before it (`\par` in a cell).
    para_in_cell: String,
    /// The note or header being read, and the body put aside meanwhile.
    aside: Option<(Aside, Saved)>,
    /// Paragraphs of the note or header being read.
    aside_paras: Vec<String>,
    /// The paragraphs of each footnote and endnote, in order.
    footnotes: Vec<Vec<String>>,
    endnotes: Vec<Vec<String>>,
    running: Vec<String>,
}

impl Reader {
    fn flush_bytes(&mut self, g: &Group) {
        if self.pending.is_empty() {
            return;
        }
        // Bytes are in the code page of the current font's charset, else the document's.
        let enc = g
            .font
            .or(self.default_font)
            .and_then(|f| self.font_pages.get(&f))
            .map(|&cp| codepage_encoding(cp))
            .or(self.encoding)
            .unwrap_or(encoding_rs::WINDOWS_1252);
        let (s, _, _) = enc.decode(&self.pending);
        let s = s.into_owned();
        self.pending.clear();
        self.push(g, &s);
    }

    fn push(&mut self, g: &Group, s: &str) {
        if g.title {
            self.title.push_str(s);
        } else if g.stylesheet {
            self.style_name.push_str(s);
        } else if g.skip || g.deleted {
        } else if g.label {
            self.label.push_str(s);
        } else {
            self.para.push_str(s);
        }
    }

    /// A note or a page header or footer starts: the body's paragraph is put aside (with a
    /// stand-in for a note's mark).
    fn begin_aside(&mut self, kind: Aside) {
        if kind != Aside::Running {
            self.para.push(NOTE_MARK);
        }
        let saved = Saved {
            para: std::mem::take(&mut self.para),
            outline: self.outline.take(),
            style: self.style.take(),
            ilvl: std::mem::take(&mut self.ilvl),
            label: std::mem::take(&mut self.label),
            in_table: std::mem::take(&mut self.in_table),
            cells: std::mem::take(&mut self.cells),
            inner_cells: std::mem::take(&mut self.inner_cells),
            last_was_row: self.last_was_row,
        };
        self.aside = Some((kind, saved));
    }

    /// The note or header ends: its paragraphs are kept for their section after the body,
    /// a note's mark replaces its stand-in, and the body's paragraph is taken up again.
    fn end_aside(&mut self) {
        self.end_paragraph();
        let Some((kind, saved)) = self.aside.take() else {
            return;
        };
        let mut paras = std::mem::take(&mut self.aside_paras);
        let mark = match kind {
            Aside::Footnote => format!("[{}]", self.footnotes.len() + 1),
            Aside::Endnote => format!("[{}]", roman(self.endnotes.len() as u32 + 1).to_lowercase()),
            Aside::Running => String::new(),
        };
        if kind != Aside::Running {
            match paras.first_mut() {
                Some(first) => *first = format!("{mark} {first}"),
                None => paras.push(mark.clone()),
            }
        }
        match kind {
            Aside::Footnote => self.footnotes.push(paras),
            Aside::Endnote => self.endnotes.push(paras),
            Aside::Running => self.running.extend(paras),
        }
        self.para = saved.para.replacen(NOTE_MARK, &mark, 1);
        self.outline = saved.outline;
        self.style = saved.style;
        self.ilvl = saved.ilvl;
        self.label = saved.label;
        self.in_table = saved.in_table;
        self.cells = saved.cells;
        self.inner_cells = saved.inner_cells;
        self.last_was_row = saved.last_was_row;
    }

    fn end_style(&mut self) {
        let name = self
            .style_name
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_lowercase();
        // "heading 1" … "heading 9", and "Title" as a first-level heading (as in DOCX).
        let level = if name == "title" {
            Some(1)
        } else {
            name.strip_prefix("heading ")
                .and_then(|l| l.trim().parse::<u8>().ok())
        };
        if let (Some(n), Some(level)) = (self.style_number, level)
            && (1..=9).contains(&level)
        {
            self.heading_styles.insert(n, level);
        }
        self.style_name.clear();
        self.style_number = None;
    }

    fn block(&mut self, line: String, row: bool) {
        if self.aside.is_some() {
            self.aside_paras.push(line);
            return;
        }
        if !self.text.is_empty() {
            self.text.push_str(if row && self.last_was_row {
                "\n"
            } else {
                "\n\n"
            });
        }
        let start = self.text.len();
        self.text.push_str(&line);
        self.paragraphs.push(start..self.text.len());
        self.last_was_row = row;
    }

    fn end_paragraph(&mut self) {
        let text = tidy(&std::mem::take(&mut self.para));
        let label = tidy(&std::mem::take(&mut self.label));
        if text.is_empty() {
            return;
        }
        let level = self.outline.or_else(|| {
            self.style
                .and_then(|s| self.heading_styles.get(&s).copied())
        });
        // A bullet the writer rendered is no number (as in DOCX); a list item is indented
        // by its level.
        let listed = !label.is_empty();
        let number = label.chars().any(char::is_alphanumeric).then_some(label);
        let text = match number {
            Some(n) => format!("{n} {text}"),
            None => text,
        };
        if self.in_table {
            // A paragraph of a table cell joins the cell.
            if !self.para_in_cell.is_empty() {
                self.para_in_cell.push(' ');
            }
            self.para_in_cell
                .push_str(text.trim_start_matches('#').trim_start());
            return;
        }
        let line = match level {
            Some(l) => format!(
                "{} {}",
                "#".repeat(usize::from(l.clamp(1, 6))),
                text.replace('\n', " ")
            ),
            None if listed => format!("{}{text}", "  ".repeat(usize::from(self.ilvl.min(8)))),
            None => text,
        };
        self.block(line, false);
    }

    fn end_cell(&mut self) {
        let mut cell = std::mem::take(&mut self.para_in_cell);
        let last = tidy(&std::mem::take(&mut self.para));
        if !last.is_empty() {
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(&last);
        }
        self.label.clear();
        self.cells.push(collapse(&cell));
    }

    /// A cell of a table inside a cell.
    fn end_inner_cell(&mut self) {
        let cell = tidy(&std::mem::take(&mut self.para));
        self.label.clear();
        self.inner_cells.push(collapse(&cell));
    }

    /// A row of a table inside a cell joins that cell, "; " apart (as in DOCX).
    fn end_inner_row(&mut self) {
        if let Some(row) = row_text(&std::mem::take(&mut self.inner_cells)) {
            if !self.para_in_cell.is_empty() {
                self.para_in_cell.push_str("; ");
            }
            self.para_in_cell.push_str(&row);
        }
    }

    fn end_row(&mut self) {
        if !self.para.trim().is_empty() || !self.para_in_cell.is_empty() {
            self.end_cell();
        }
        if let Some(row) = row_text(&std::mem::take(&mut self.cells)) {
            self.block(row, true);
        }
    }
}

/// One line of text: runs of spaces and tabs kept as they are, line breaks kept, ends trimmed.
fn tidy(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Extracts an RTF file (see the module docs).
pub fn extract_rtf(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    if !bytes.trim_ascii_start().starts_with(b"{\\rtf") {
        return Err(ExtractError::Corrupt {
            kind: "rtf",
            reason: "no {\\rtf header; not an RTF file".into(),
        });
    }
    let mut r = Reader::default();
    let mut stack: Vec<Group> = Vec::new();
    let mut g = Group {
        uc: 1,
        ..Group::default()
    };
    // Fallback characters still to skip after a \uN.
    let mut skip_chars = 0usize;
    let mut i = 0;
    let n = bytes.len();
    while i < n {
        let b = bytes[i];
        match b {
            b'{' => {
                r.flush_bytes(&g);
                stack.push(g);
                // `{\*\dest ...}`: an optional destination, skipped.
                g.starred = false;
                if bytes.get(i + 1..i + 3) == Some(b"\\*") {
                    g.starred = !g.skip;
                    g.skip = true;
                }
                skip_chars = 0;
                i += 1;
            }
            b'}' => {
                r.flush_bytes(&g);
                if g.aside && !stack.last().is_some_and(|p| p.aside) {
                    r.end_aside();
                }
                if g.stylesheet && !stack.last().is_some_and(|p| p.stylesheet) {
                    // Leaving the stylesheet itself.
                } else if g.stylesheet {
                    r.end_style();
                }
                g = stack.pop().unwrap_or(g);
                skip_chars = 0;
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&c) = bytes.get(i) else { break };
                if c.is_ascii_alphabetic() {
                    let start = i;
                    while i < n && bytes[i].is_ascii_alphabetic() && i - start < 32 {
                        i += 1;
                    }
                    let word = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
                    let num_start = i;
                    if i < n && bytes[i] == b'-' {
                        i += 1;
                    }
                    while i < n && bytes[i].is_ascii_digit() && i - num_start < 11 {
                        i += 1;
                    }
                    let param: Option<i32> = std::str::from_utf8(&bytes[num_start..i])
                        .ok()
                        .and_then(|s| s.parse().ok());
                    if i < n && bytes[i] == b' ' {
                        i += 1;
                    }
                    if word != "u" && word != "bin" {
                        r.flush_bytes(&g);
                    }
                    control(&mut r, &mut g, word, param, &mut skip_chars);
                    if word == "bin" {
                        // Binary data: skip it whole.
                        let len = usize::try_from(param.unwrap_or(0).max(0)).unwrap_or(0);
                        i = i.saturating_add(len).min(n);
                    }
                } else {
                    i += 1;
                    match c {
                        b'\'' => {
                            let hex = bytes
                                .get(i..i + 2)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                i += 2;
                                if skip_chars > 0 {
                                    skip_chars -= 1;
                                } else if !g.skip || g.title || g.stylesheet {
                                    r.pending.push(v);
                                }
                            }
                        }
                        b'\\' | b'{' | b'}' => {
                            r.flush_bytes(&g);
                            r.push(&g, &(c as char).to_string());
                        }
                        b'~' => {
                            r.flush_bytes(&g);
                            r.push(&g, " ");
                        }
                        b'_' => {
                            r.flush_bytes(&g);
                            r.push(&g, "-");
                        }
                        b'\n' | b'\r' => {
                            r.flush_bytes(&g);
                            if !g.skip {
                                r.end_paragraph();
                            }
                        }
                        _ => {} // `\-` optional hyphen, `\:` index entry, `\|` formula
                    }
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                // A run of plain bytes.
                let start = i;
                while i < n && !matches!(bytes[i], b'{' | b'}' | b'\\' | b'\r' | b'\n') {
                    i += 1;
                }
                let mut run = &bytes[start..i];
                while skip_chars > 0 && !run.is_empty() {
                    run = &run[1..];
                    skip_chars -= 1;
                }
                if !g.skip || g.title || g.stylesheet {
                    if g.stylesheet && run.contains(&b';') {
                        r.pending.extend_from_slice(run);
                        r.flush_bytes(&g);
                        r.end_style();
                    } else {
                        r.pending.extend_from_slice(run);
                    }
                }
            }
        }
    }
    r.flush_bytes(&g);
    if r.aside.is_some() {
        // An unclosed note or header: its text is kept all the same.
        r.end_aside();
    }
    r.end_paragraph();
    if !r.cells.is_empty() || !r.para_in_cell.is_empty() {
        r.end_row();
    }
    let footnotes: Vec<String> = std::mem::take(&mut r.footnotes).concat();
    let endnotes: Vec<String> = std::mem::take(&mut r.endnotes).concat();
    let mut seen = std::collections::HashSet::new();
    let running: Vec<String> = std::mem::take(&mut r.running)
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect();
    for (heading, paras) in [
        ("Footnotes", footnotes),
        ("Endnotes", endnotes),
        ("Headers and footers", running),
    ] {
        if paras.is_empty() {
            continue;
        }
        if !r.text.is_empty() {
            r.text.push_str("\n\n");
        }
        r.text.push_str("# ");
        r.text.push_str(heading);
        r.last_was_row = false;
        for p in paras {
            r.block(p, false);
        }
    }
    let title = tidy(&collapse(&r.title));
    Ok(ExtractedText {
        text: r.text,
        paragraphs: r.paragraphs,
        title: (!title.is_empty()).then_some(title),
        ..ExtractedText::default()
    })
}

/// The code page of a font charset (`\fcharsetN`); `None` for the document's own (ANSI,
/// default) and for symbol fonts.
fn charset_code_page(charset: i32) -> Option<u16> {
    Some(match charset {
        77 => 10000,
        128 => 932,
        129 => 949,
        134 => 936,
        136 => 950,
        161 => 1253,
        162 => 1254,
        163 => 1258,
        177 => 1255,
        178 => 1256,
        186 => 1257,
        204 => 1251,
        222 => 874,
        238 => 1250,
        _ => return None,
    })
}

/// Applies one control word.
fn control(r: &mut Reader, g: &mut Group, word: &str, param: Option<i32>, skip_chars: &mut usize) {
    match word {
        "ansicpg" => {
            r.encoding = param
                .and_then(|p| u16::try_from(p).ok())
                .map(codepage_encoding);
        }
        "deff" => r.default_font = param,
        "fonttbl" => {
            g.fonttbl = true;
            g.skip = true;
        }
        "f" if g.fonttbl => r.font_number = param,
        "fcharset" if g.fonttbl => {
            if let (Some(f), Some(cp)) = (r.font_number, param.and_then(charset_code_page)) {
                r.font_pages.insert(f, cp);
            }
        }
        "f" if !g.skip => g.font = param,
        "title" => {
            g.title = true;
            g.skip = false;
        }
        "stylesheet" => {
            g.stylesheet = true;
            g.skip = true;
        }
        "s" if g.stylesheet => r.style_number = param,
        "s" if !g.skip && !g.label => r.style = param,
        "par" if !g.skip && !g.label => r.end_paragraph(),
        "pard" if !g.skip && !g.label => {
            r.outline = None;
            r.style = None;
            r.ilvl = 0;
            r.in_table = false;
        }
        "intbl" if !g.skip && !g.label => r.in_table = true,
        "ilvl" if !g.skip && !g.label => {
            r.ilvl = u8::try_from(param.unwrap_or(0).clamp(0, 8)).unwrap_or(0);
        }
        "listtext" | "pntext" => {
            // The label the writer rendered for a list item ("4.2", "(a)", a bullet).
            r.label.clear();
            g.label = true;
        }
        "deleted" => g.deleted = param != Some(0),
        "plain" => {
            g.deleted = false;
            g.font = None;
        }
        "footnote" | "header" | "headerl" | "headerr" | "headerf" | "footer" | "footerl"
        | "footerr" | "footerf"
            if (!g.skip || g.starred) && !g.aside =>
        {
            g.aside = true;
            g.skip = false;
            r.begin_aside(if word == "footnote" {
                Aside::Footnote
            } else {
                Aside::Running
            });
        }
        "ftnalt" if g.aside => {
            if let Some((kind @ Aside::Footnote, _)) = r.aside.as_mut() {
                *kind = Aside::Endnote;
            }
        }
        "footnote" | "header" | "headerl" | "headerr" | "headerf" | "footer" | "footerl"
        | "footerr" | "footerf" => g.skip = true,
        "outlinelevel" if g.skip || g.label => {}
        "outlinelevel" => {
            r.outline = param
                .filter(|p| (0..9).contains(p))
                .and_then(|p| u8::try_from(p + 1).ok());
        }
        "line" => r.push(g, "\n"),
        "tab" => r.push(g, "\t"),
        "cell" if !g.skip => r.end_cell(),
        "row" if !g.skip => r.end_row(),
        "nestcell" if !g.skip => r.end_inner_cell(),
        "nesttableprops" => g.nest_props = true,
        "nestrow" if !g.skip || g.nest_props => r.end_inner_row(),
        "emdash" => r.push(g, "\u{2014}"),
        "endash" => r.push(g, "\u{2013}"),
        "bullet" => r.push(g, "\u{2022}"),
        "lquote" => r.push(g, "\u{2018}"),
        "rquote" => r.push(g, "\u{2019}"),
        "ldblquote" => r.push(g, "\u{201C}"),
        "rdblquote" => r.push(g, "\u{201D}"),
        "uc" => g.uc = usize::try_from(param.unwrap_or(1).clamp(0, 10)).unwrap_or(1),
        "u" => {
            if let Some(p) = param {
                // Negative values stand for code units above 32767; characters beyond the
                // BMP come as two, a surrogate pair.
                let unit = p.rem_euclid(65_536) as u32;
                r.flush_bytes(g);
                let c = match (r.high_surrogate.take(), unit) {
                    (_, 0xD800..=0xDBFF) => {
                        r.high_surrogate = Some(unit);
                        None
                    }
                    (Some(high), 0xDC00..=0xDFFF) => {
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))
                    }
                    _ => Some(char::from_u32(unit).unwrap_or('\u{FFFD}')),
                };
                if let Some(c) = c {
                    r.push(g, &c.to_string());
                }
                *skip_chars = g.uc;
            }
        }
        w if SKIPPED.contains(&w) => {
            if w == "info" {
                // Only its \title is read.
                g.skip = true;
            } else {
                g.skip = true;
                g.title = false;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_headings_tables_and_unicode_are_read() {
        let rtf =
            br#"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Times;}}{\colortbl;\red0\green0\blue0;}
{\stylesheet{\s0 Normal;}{\s1\b heading 1;}}
{\info{\title Lease \'e9dition}{\author Ann}}
{\*\generator Word;}
\pard\s1 Article 4 Deposit\par
\pard\outlinelevel1 4.2 Return\par
\pard The tenant pays a d\'e9p\u244?t of {\b $900}{\super\chftn}{\footnote {\chftn} Held in escrow.}.\line Due\tab now.\par
\trowd\intbl Rent\cell $900\cell\row
\trowd\intbl Fee\cell $10\cell\row
\pard Caf\u233\'65 \{ok\}\par
}"#;
        let x = extract_rtf(rtf).unwrap();
        assert_eq!(
            x.text,
            "# Article 4 Deposit\n\n## 4.2 Return\n\nThe tenant pays a dépôt of $900[1].\nDue\tnow.\n\nRent | $900\nFee | $10\n\nCafé {ok}\n\n# Footnotes\n\n[1] Held in escrow."
        );
        assert_eq!(x.title.as_deref(), Some("Lease édition"));
        let paras: Vec<&str> = x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect();
        assert_eq!(paras.len(), 7);
        assert_eq!(paras[3], "Rent | $900");
    }

    /// Made by LibreOffice from the same sources as the DOCX (scripts/make-doc-fixtures).
    const TWINS: [(&[u8], &[u8]); 3] = [
        (
            include_bytes!("../../tests/fixtures/doc/lease.rtf"),
            include_bytes!("../../tests/fixtures/doc/lease.docx"),
        ),
        (
            include_bytes!("../../tests/fixtures/doc/redline.rtf"),
            include_bytes!("../../tests/fixtures/doc/redline.docx"),
        ),
        (
            include_bytes!("../../tests/fixtures/doc/nested.rtf"),
            include_bytes!("../../tests/fixtures/doc/nested.docx"),
        ),
    ];

    #[test]
    fn an_rtf_reads_as_the_same_document_saved_as_docx() {
        for (rtf, docx_twin) in TWINS {
            let x = extract_rtf(rtf).unwrap();
            assert_eq!(
                x,
                super::super::docx::extract_docx(docx_twin).unwrap(),
                "{}",
                x.text
            );
        }
        // What the comparison covers: the Title style, rendered list labels (a `\pard`
        // inside them no longer drops the heading), a starred footnote, an endnote, a tracked
        // deletion, headers and footers, a table inside a cell.
        let lease = extract_rtf(TWINS[0].0).unwrap().text;
        assert!(
            lease.starts_with("# Commercial Lease\n\n# Article 1 Rent"),
            "{lease}"
        );
        assert!(lease.contains("month.[1] Payments") && lease.contains("\n\n  1.1 Rent rises"));
        let redline = extract_rtf(TWINS[1].0).unwrap().text;
        assert!(!redline.contains("twelve"), "{redline}");
        assert!(
            redline.contains("(iii) failing which") && redline.contains("# Endnotes\n\n[i] As")
        );
        assert!(redline.ends_with("Confidential\n\nPage 1"), "{redline}");
        let nested = extract_rtf(TWINS[2].0).unwrap().text;
        assert!(
            nested.contains("Party | Signature block; Name | Ann Lee; Title | CEO Witness line"),
            "{nested}"
        );
    }

    #[test]
    fn font_charsets_choose_the_code_page_and_surrogate_pairs_join() {
        let rtf = br"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman\fcharset0 Times;}{\f1\fswiss\fcharset204 Arial Cyr;}{\f2\fcharset238 Arial CE;}}
\pard Price {\f1 \'d6\'e5\'ed\'e0} and {\f2 p\'f8ed} \u-10240?\u-8398? caf\'e9\par}";
        assert_eq!(
            extract_rtf(rtf).unwrap().text,
            "Price \u{426}\u{435}\u{43d}\u{430} and p\u{159}ed \u{10332} caf\u{e9}"
        );
        // A double-byte ANSI code page.
        let japanese = br"{\rtf1\ansi\ansicpg932 \'93\'fa\'96\'7b\par}";
        assert_eq!(extract_rtf(japanese).unwrap().text, "\u{65e5}\u{672c}");
    }

    #[test]
    fn not_rtf_is_refused() {
        assert!(
            extract_rtf(b"hello")
                .unwrap_err()
                .to_string()
                .contains("not an RTF file")
        );
    }
}

/// The RTF reader is ours: fuzzed directly, outside any isolation, so a panic fails.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const TOKENS: &[&str] = &[
        "{",
        "}",
        "\\par ",
        "\\pard",
        "\\s1 ",
        "\\s-99999999999 ",
        "\\outlinelevel3 ",
        "\\outlinelevel-1",
        "\\u-3913?",
        "\\u99999999999",
        "\\uc5 ",
        "\\uc-1 ",
        "\\'e9",
        "\\'",
        "\\'zz",
        "\\*",
        "\\cell ",
        "\\row ",
        "\\line",
        "\\tab",
        "\\bin5 ",
        "\\bin-3 ",
        "{\\stylesheet{\\s1 heading 1;}}",
        "{\\info{\\title T}}",
        "\\ansicpg932 ",
        "\\ansicpg0 ",
        "text",
        " ",
        ";",
        "\\\\",
        "\\{",
        "\\~",
        "\\_",
        "\\\n",
        "é",
        "\\verylongcontrolwordthatgoesonandon ",
        "{\\*\\footnote ",
        "{\\footnote ",
        "\\ftnalt ",
        "{\\header ",
        "{\\footerf ",
        "{\\listtext ",
        "{\\pntext ",
        "\\pard ",
        "\\intbl ",
        "\\itap2 ",
        "\\nestcell ",
        "{\\*\\nesttableprops \\nestrow}",
        "\\nestrow ",
        "\\deleted ",
        "\\deleted0 ",
        "\\plain ",
        "\\ilvl99 ",
        "\\chftn ",
        "\\cell ",
        "\\row ",
        "{\\s3 title;}",
        "{\\fonttbl{\\f1\\fcharset204 A;}{\\f2\\fcharset128 B;}}",
        "\\f1 ",
        "\\f2 ",
        "\\'d6",
        "\\u-10240?",
        "\\u-8398?",
        "\\ansicpg932 ",
    ];

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_rtf_reading_never_panics(
            parts in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80),
            raw in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let doc = format!("{{\\rtf1 {}", parts.concat());
            let mut with_header = b"{\\rtf1".to_vec();
            with_header.extend_from_slice(&raw);
            for bytes in [doc.into_bytes(), with_header, raw] {
                if let Ok(x) = extract_rtf(&bytes) {
                    for r in &x.paragraphs {
                        prop_assert!(r.start <= r.end && r.end <= x.text.len());
                        prop_assert!(x.text.is_char_boundary(r.start) && x.text.is_char_boundary(r.end));
                    }
                }
            }
        }
    }
}
