//! Rich Text Format (`.rtf`): paragraphs in order, with headings.
//!
//! Hand-written, because the crate we tried (`rtf-parser` 0.4) drops paragraph breaks
//! (`\par`) and knows no outline levels, so neither paragraphs nor breadcrumbs survive. This
//! reader walks the RFC-less but stable RTF 1.9 syntax without recursion:
//!
//! - text in the document's ANSI code page (`\ansicpgN`, Windows-1252 by default), `\'hh`
//!   bytes, `\uN` Unicode characters (skipping the `\ucN` fallback characters after them);
//! - `\par` ends a paragraph; `\line` is a line break, `\tab` a tab; a table row (`\row`) is
//!   one line with its cells (`\cell`) separated by ` | `, and the rows of a table are
//!   separated by single line breaks;
//! - a paragraph with `\outlinelevelN`, or in a style named "heading N" (from the
//!   stylesheet), becomes a Markdown heading line (`#` repeated N+1 / N times), so the chunker
//!   builds breadcrumbs from it; the title is `{\info{\title ...}}`;
//! - font, colour, style and list tables, pictures, objects, headers, footers, footnotes,
//!   field instructions and every `{\* ...}` destination are skipped.
//!
//! Paragraph numbers ([`ExtractedText::paragraphs`]) count the non-empty paragraphs (a table
//! row counts as one).

use std::collections::HashMap;
use std::ops::Range;

use super::types::{ExtractError, ExtractedText, Extractor};

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
    "fonttbl",
    "colortbl",
    "stylesheet",
    "pict",
    "object",
    "header",
    "headerl",
    "headerr",
    "headerf",
    "footer",
    "footerl",
    "footerr",
    "footerf",
    "footnote",
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
    "listtext",
    "pntext",
    "pntxta",
    "pntxtb",
    "nonshppict",
    "shp",
    "private",
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
}

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
}

impl Reader {
    fn flush_bytes(&mut self, g: &Group) {
        if self.pending.is_empty() {
            return;
        }
        let enc = self.encoding.unwrap_or(encoding_rs::WINDOWS_1252);
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
        } else if !g.skip {
            self.para.push_str(s);
        }
    }

    fn end_style(&mut self) {
        let name = self
            .style_name
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_lowercase();
        if let (Some(n), Some(level)) = (
            self.style_number,
            name.strip_prefix("heading ")
                .and_then(|l| l.trim().parse::<u8>().ok()),
        ) && (1..=9).contains(&level)
        {
            self.heading_styles.insert(n, level);
        }
        self.style_name.clear();
        self.style_number = None;
    }

    fn block(&mut self, line: String, row: bool) {
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
        if text.is_empty() {
            return;
        }
        let level = self.outline.or_else(|| {
            self.style
                .and_then(|s| self.heading_styles.get(&s).copied())
        });
        let line = match level {
            Some(l) => format!("{} {text}", "#".repeat(usize::from(l.clamp(1, 6)))),
            None => text,
        };
        self.block(line, false);
    }

    fn end_cell(&mut self) {
        let cell = tidy(&std::mem::take(&mut self.para));
        self.cells.push(cell);
    }

    fn end_row(&mut self) {
        let cells = std::mem::take(&mut self.cells);
        let last = cells
            .iter()
            .rposition(|c| !c.is_empty())
            .map_or(0, |i| i + 1);
        if last > 0 {
            self.block(cells[..last].join(" | "), true);
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
                if bytes.get(i + 1..i + 3) == Some(b"\\*") {
                    g.skip = true;
                }
                skip_chars = 0;
                i += 1;
            }
            b'}' => {
                r.flush_bytes(&g);
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
    r.end_paragraph();
    if !r.cells.is_empty() {
        r.end_row();
    }
    let title = tidy(&r.title.split_whitespace().collect::<Vec<_>>().join(" "));
    Ok(ExtractedText {
        text: r.text,
        paragraphs: r.paragraphs,
        title: (!title.is_empty()).then_some(title),
        ..ExtractedText::default()
    })
}

/// Applies one control word.
fn control(r: &mut Reader, g: &mut Group, word: &str, param: Option<i32>, skip_chars: &mut usize) {
    match word {
        "ansicpg" => {
            r.encoding = param
                .and_then(|p| encoding_rs::Encoding::for_label(format!("windows-{p}").as_bytes()));
        }
        "title" => {
            g.title = true;
            g.skip = false;
        }
        "stylesheet" => {
            g.stylesheet = true;
            g.skip = true;
        }
        "s" if g.stylesheet => r.style_number = param,
        "s" => r.style = param,
        "par" if !g.skip => r.end_paragraph(),
        "pard" => {
            r.outline = None;
            r.style = None;
        }
        "outlinelevel" => {
            r.outline = param
                .filter(|p| (0..9).contains(p))
                .and_then(|p| u8::try_from(p + 1).ok());
        }
        "line" => r.push(g, "\n"),
        "tab" => r.push(g, "\t"),
        "cell" | "nestcell" if !g.skip => r.end_cell(),
        "row" | "nestrow" if !g.skip => r.end_row(),
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
                // Negative values stand for code units above 32767.
                let unit = p.rem_euclid(65_536) as u32;
                let c = char::from_u32(unit).unwrap_or('\u{FFFD}');
                r.flush_bytes(g);
                r.push(g, &c.to_string());
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
\pard The tenant pays a d\'e9p\u244?t of {\b $900}.\line Due\tab now.\par
{\footnote Hidden note.}
\trowd\intbl Rent\cell $900\cell\row
\trowd\intbl Fee\cell $10\cell\row
\pard Caf\u233\'65 \{ok\}\par
}"#;
        let x = extract_rtf(rtf).unwrap();
        assert_eq!(
            x.text,
            "# Article 4 Deposit\n\n## 4.2 Return\n\nThe tenant pays a dépôt of $900.\nDue\tnow.\n\nRent | $900\nFee | $10\n\nCafé {ok}"
        );
        assert_eq!(x.title.as_deref(), Some("Lease édition"));
        let paras: Vec<&str> = x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect();
        assert_eq!(paras.len(), 6);
        assert_eq!(paras[3], "Rent | $900");
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
