//! OpenDocument text (`.odt`, LibreOffice and others): paragraphs in order, with headings.
//!
//! An ODT file is a zip archive; `content.xml` holds the body and `meta.xml` the title
//! (`dc:title`). Both are read with a cap on the bytes unpacked ([`MAX_UNPACKED_BYTES`]).
//! The text is built like a DOCX's ([`super::docx`]):
//!
//! - each paragraph (`text:p`) with text is one block; blocks are separated by a blank line;
//! - a heading (`text:h`) becomes a Markdown line, `#` repeated by its `text:outline-level`
//!   (capped at `######`), so the chunker builds breadcrumbs from it;
//! - a table row is one line, its cells separated by ` | `; the rows of a table are separated
//!   by single line breaks;
//! - a footnote or endnote becomes `[n]` in the text, and the notes follow the body under a
//!   `# Notes` heading, each starting with its mark;
//! - comments (`office:annotation`) and the deleted text of tracked changes are left out.
//!
//! Paragraph numbers ([`ExtractedText::paragraphs`]): 1, 2, … for the blocks in order (a
//! table row counts as one), then the notes; the `# Notes` heading is not numbered.

use std::io::{Cursor, Read};
use std::ops::Range;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::types::{ExtractError, ExtractedText, Extractor};

/// Largest total of bytes unpacked from one file.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

const TEXT_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";
const TABLE_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:table:1.0";
const OFFICE_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";

/// The ODT extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct OdtExtractor;

impl Extractor for OdtExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_odt(bytes)
    }
}

fn corrupt(what: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt {
        kind: "odt",
        reason: what.to_string(),
    }
}

/// Reads one zip entry as UTF-8, within what is left of `budget`; `None` if absent.
fn read_entry(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    budget: &mut u64,
) -> Result<Option<String>, ExtractError> {
    if zip.index_for_name(name).is_none() {
        return Ok(None);
    }
    let entry = zip
        .by_name(name)
        .map_err(|e| corrupt(format!("{name}: {e}")))?;
    let mut bytes = Vec::new();
    entry
        .take(*budget + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| corrupt(format!("{name}: {e}")))?;
    if bytes.len() as u64 > *budget {
        return Err(ExtractError::Unpacked {
            limit: MAX_UNPACKED_BYTES,
        });
    }
    *budget -= bytes.len() as u64;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| corrupt(format!("{name}: not UTF-8")))
}

/// Extracts an ODT file (see the module docs).
pub fn extract_odt(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| corrupt(format!("not a zip archive ({e})")))?;
    if zip.len() > 10_000 {
        return Err(corrupt("over 10000 entries in the archive"));
    }
    let mut budget = MAX_UNPACKED_BYTES;
    let content = read_entry(&mut zip, "content.xml", &mut budget)?
        .ok_or_else(|| corrupt("no content.xml in the archive"))?;
    let mut out = walk_content(&content).map_err(|e| corrupt(format!("content.xml: {e}")))?;
    out.title = match read_entry(&mut zip, "meta.xml", &mut budget) {
        Ok(Some(xml)) => meta_title(&xml),
        _ => None,
    };
    Ok(out)
}

/// `dc:title` of meta.xml.
fn meta_title(xml: &str) -> Option<String> {
    let mut reader = NsReader::from_str(xml);
    let mut inside = false;
    let mut title = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == "title" => inside = true,
            Event::End(e) if e.local_name().as_ref() == "title" => break,
            Event::Text(t) if inside => title.push_str(&t.xml10_content()),
            Event::Eof => break,
            _ => {}
        }
    }
    let t = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

/// A paragraph or heading being read.
#[derive(Debug, Default)]
struct Para {
    text: String,
    /// Outline level, for a heading.
    level: Option<u8>,
}

/// What the walk over content.xml builds.
#[derive(Debug, Default)]
struct Walk {
    /// Finished blocks: text and table id (rows of one table are kept together).
    blocks: Vec<(String, Option<usize>)>,
    notes: Vec<String>,
    open: Vec<Para>,
    /// Cells of the table row being read, and the cell being read.
    row: Option<Vec<String>>,
    cell: Option<String>,
    tables: usize,
    table: Vec<usize>,
    /// Inside a note body (nesting depth), and the mark of the current note.
    note_depth: usize,
    note_mark: Option<String>,
    note_count: usize,
}

impl Walk {
    fn end_para(&mut self) {
        let Some(p) = self.open.pop() else {
            return;
        };
        let text = p.text.trim().to_string();
        if text.is_empty() {
            return;
        }
        if self.note_depth > 0 {
            match self.note_mark.take() {
                Some(mark) => self.notes.push(format!("{mark} {text}")),
                None => self.notes.push(text),
            }
            return;
        }
        if let Some(parent) = self.open.last_mut() {
            // A paragraph inside a paragraph (a frame or text box): joins it.
            parent.text.push(' ');
            parent
                .text
                .push_str(text.trim_start_matches('#').trim_start());
            return;
        }
        if let Some(cell) = self.cell.as_mut() {
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(&text);
            return;
        }
        let line = match p.level {
            Some(l) => format!("{} {text}", "#".repeat(usize::from(l.clamp(1, 6)))),
            None => text,
        };
        self.blocks.push((line, None));
    }

    fn push_text(&mut self, s: &str) {
        if let Some(p) = self.open.last_mut() {
            p.text.push_str(s);
        }
    }
}

fn ns_is(ns: &ResolveResult<'_>, want: &str) -> bool {
    matches!(ns, ResolveResult::Bound(n) if n.0 == want)
}

fn attr_u(e: &BytesStart<'_>, local: &str) -> Option<u32> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.value.trim().parse().ok())
}

/// Elements whose content is not part of the text as it reads.
fn skipped(ns: &ResolveResult<'_>, local: &str) -> bool {
    (ns_is(ns, OFFICE_NS)
        && matches!(
            local,
            "annotation" | "automatic-styles" | "scripts" | "font-face-decls"
        ))
        || (ns_is(ns, TEXT_NS)
            && matches!(
                local,
                "tracked-changes" | "note-citation" | "sequence-decls"
            ))
}

/// Walks content.xml into text, paragraph ranges and notes.
fn walk_content(xml: &str) -> Result<ExtractedText, String> {
    let mut reader = NsReader::from_str(xml);
    let mut w = Walk::default();
    let mut depth = 0usize;
    let mut skip_from: Option<usize> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => {
                depth += 1;
                if skip_from.is_some() {
                    continue;
                }
                let local = e.local_name();
                let local = local.as_ref();
                if skipped(&ns, local) {
                    skip_from = Some(depth);
                    continue;
                }
                start(&mut w, &ns, local, &e);
            }
            Event::Empty(e) => {
                if skip_from.is_some() {
                    continue;
                }
                let local = e.local_name();
                let local = local.as_ref();
                if ns_is(&ns, TEXT_NS) {
                    match local {
                        "s" => {
                            let n = attr_u(&e, "c").unwrap_or(1).min(1000) as usize;
                            w.push_text(&" ".repeat(n));
                        }
                        "tab" => w.push_text("\t"),
                        "line-break" => w.push_text("\n"),
                        _ => {}
                    }
                }
            }
            Event::End(e) => {
                if let Some(d) = skip_from {
                    if d == depth {
                        skip_from = None;
                    }
                    depth = depth.saturating_sub(1);
                    continue;
                }
                depth = depth.saturating_sub(1);
                let local = e.local_name();
                end(&mut w, &ns, local.as_ref());
            }
            Event::Text(t) if skip_from.is_none() => {
                w.push_text(&t.xml10_content());
            }
            Event::GeneralRef(r) if skip_from.is_none() => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    w.push_text(c.encode_utf8(&mut [0; 4]));
                } else if let Some(s) =
                    quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                {
                    w.push_text(s);
                }
            }
            Event::CData(t) if skip_from.is_none() => {
                w.push_text(&t.xml10_content());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(assemble(w))
}

fn start(w: &mut Walk, ns: &ResolveResult<'_>, local: &str, e: &BytesStart<'_>) {
    if ns_is(ns, TEXT_NS) {
        match local {
            "p" => w.open.push(Para::default()),
            "h" => w.open.push(Para {
                text: String::new(),
                level: Some(attr_u(e, "outline-level").unwrap_or(1).min(6) as u8),
            }),
            "note" => {
                w.note_count += 1;
                let mark = format!("[{}]", w.note_count);
                w.push_text(&mark);
                w.note_mark = Some(mark);
            }
            "note-body" => w.note_depth += 1,
            _ => {}
        }
    } else if ns_is(ns, TABLE_NS) {
        match local {
            "table" => {
                w.tables += 1;
                w.table.push(w.tables);
            }
            "table-row" if w.open.is_empty() && w.note_depth == 0 => w.row = Some(Vec::new()),
            "table-cell" if w.row.is_some() => w.cell = Some(String::new()),
            _ => {}
        }
    }
}

fn end(w: &mut Walk, ns: &ResolveResult<'_>, local: &str) {
    if ns_is(ns, TEXT_NS) {
        match local {
            "p" | "h" => w.end_para(),
            "note-body" => {
                w.note_depth = w.note_depth.saturating_sub(1);
                w.note_mark = None;
            }
            _ => {}
        }
    } else if ns_is(ns, TABLE_NS) {
        match local {
            "table" => {
                w.table.pop();
            }
            "table-cell" => {
                if let (Some(cell), Some(row)) = (w.cell.take(), w.row.as_mut()) {
                    row.push(cell.trim().to_string());
                }
            }
            "table-row" => {
                if let Some(row) = w.row.take() {
                    // Trailing empty cells are layout, not content.
                    let cells: Vec<&str> = row.iter().map(String::as_str).collect();
                    let last = cells
                        .iter()
                        .rposition(|c| !c.is_empty())
                        .map_or(0, |i| i + 1);
                    if last > 0 {
                        let table = w.table.last().copied();
                        w.blocks.push((cells[..last].join(" | "), table));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Joins the blocks (rows of one table by a line break, the rest by a blank line) and the
/// notes, recording each numbered paragraph's range.
fn assemble(w: Walk) -> ExtractedText {
    let mut text = String::new();
    let mut paragraphs: Vec<Range<usize>> = Vec::new();
    let mut last_table = None;
    for (block, table) in &w.blocks {
        if !text.is_empty() {
            let same = table.is_some() && *table == last_table;
            text.push_str(if same { "\n" } else { "\n\n" });
        }
        let start = text.len();
        text.push_str(block);
        paragraphs.push(start..text.len());
        last_table = *table;
    }
    if !w.notes.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str("# Notes");
        for n in &w.notes {
            text.push_str("\n\n");
            let start = text.len();
            text.push_str(n);
            paragraphs.push(start..text.len());
        }
    }
    ExtractedText {
        text,
        paragraphs,
        ..ExtractedText::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::odt;

    #[test]
    fn headings_tables_and_notes_are_kept() {
        let body = r#"<text:h text:outline-level="1">Lease</text:h>
<text:h text:outline-level="2">4.2 Deposit</text:h>
<text:p>The tenant pays<text:s text:c="2"/>a deposit<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>Held in escrow.</text:p></text:note-body></text:note>.<office:annotation><text:p>check this</text:p></office:annotation></text:p>
<table:table><table:table-row><table:table-cell><text:p>Rent</text:p></table:table-cell><table:table-cell><text:p>$900</text:p></table:table-cell><table:table-cell/></table:table-row><table:table-row><table:table-cell><text:p>Fee</text:p></table:table-cell><table:table-cell><text:p>$10 &amp; up</text:p></table:table-cell></table:table-row></table:table>
<text:p/>"#;
        let x = extract_odt(&odt(body, Some("Commercial Lease"))).unwrap();
        assert_eq!(
            x.text,
            "# Lease\n\n## 4.2 Deposit\n\nThe tenant pays  a deposit[1].\n\nRent | $900\nFee | $10 & up\n\n# Notes\n\n[1] Held in escrow."
        );
        assert_eq!(x.title.as_deref(), Some("Commercial Lease"));
        let paras: Vec<&str> = x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect();
        assert_eq!(
            paras,
            [
                "# Lease",
                "## 4.2 Deposit",
                "The tenant pays  a deposit[1].",
                "Rent | $900",
                "Fee | $10 & up",
                "[1] Held in escrow."
            ]
        );
    }

    #[test]
    fn not_a_zip_or_no_content_is_corrupt() {
        assert!(matches!(
            extract_odt(b"hello"),
            Err(ExtractError::Corrupt { kind: "odt", .. })
        ));
        let only_meta = crate::ingest::fixtures::zip(&[("meta.xml".into(), "<x/>".into())]);
        assert!(
            extract_odt(&only_meta)
                .unwrap_err()
                .to_string()
                .contains("no content.xml")
        );
    }
}

/// Our own walk over content.xml, fuzzed directly (a panic fails the test; under
/// [`super::isolate`] it would only skip the file).
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const TOKENS: &[&str] = &[
        "<text:p>",
        "</text:p>",
        "<text:h text:outline-level=\"9\">",
        "<text:h text:outline-level=\"-1\">",
        "<text:h>",
        "</text:h>",
        "<text:s text:c=\"99999999999\"/>",
        "<text:s/>",
        "<text:tab/>",
        "<text:line-break/>",
        "<text:note>",
        "</text:note>",
        "<text:note-body>",
        "</text:note-body>",
        "<text:note-citation>",
        "</text:note-citation>",
        "<table:table>",
        "</table:table>",
        "<table:table-row>",
        "</table:table-row>",
        "<table:table-cell>",
        "</table:table-cell>",
        "<office:annotation>",
        "</office:annotation>",
        "<text:span>",
        "</text:span>",
        "&amp;",
        "&#x41;",
        "&#0;",
        "&nope;",
        "text",
        " ",
        "é",
        "#",
        "<![CDATA[x]]>",
    ];

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_odt_content_walking_never_panics(
            parts in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80),
            raw in ".{0,200}",
        ) {
            let xml = format!(
                "<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\"><office:body><office:text>{}</office:text></office:body></office:document-content>",
                parts.concat()
            );
            for doc in [xml, raw.clone()] {
                if let Ok(x) = walk_content(&doc) {
                    for r in &x.paragraphs {
                        prop_assert!(r.start <= r.end && r.end <= x.text.len());
                        prop_assert!(x.text.is_char_boundary(r.start) && x.text.is_char_boundary(r.end));
                    }
                }
            }
            let _ = meta_title(&raw);
        }
    }
}
