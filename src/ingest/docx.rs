//! DOCX (Word, Office Open XML): paragraphs in order, with headings, lists, tables and notes.
//!
//! A DOCX file is a zip archive. We read, with a cap on the bytes unpacked
//! ([`MAX_UNPACKED_BYTES`]) and on the number of entries ([`MAX_ENTRIES`]):
//!
//! - the main document (`word/document.xml`, or where `_rels/.rels` points): the body;
//! - `word/styles.xml`, to know which paragraph styles are headings (by the built-in names
//!   "heading 1" … "heading 9" and "Title", or an outline level), whatever the style ids are
//!   called in the document's language;
//! - `word/numbering.xml`, to write automatic list numbers ("4.2", "(a)") before the text;
//! - `word/footnotes.xml`, `word/endnotes.xml`, `word/header*.xml`, `word/footer*.xml`;
//! - `docProps/core.xml`, for the title (`dc:title`).
//!
//! The text is built as follows (docs/formats.md has the user-facing version):
//!
//! - each body paragraph with text is one block; blocks are separated by a blank line;
//! - a heading paragraph becomes a Markdown line, `#` repeated by its level (`Title` and
//!   "heading 1" → `#`, … capped at `######`), so the chunker builds breadcrumbs from it;
//! - a list paragraph is indented by two spaces per level below the first, after its number;
//! - a table row is one line, its cells separated by ` | `; the rows of a table are separated
//!   by single line breaks, so a table stays together;
//! - a footnote reference becomes `[n]` (n = order of first reference), endnotes `[i]`, `[ii]`;
//! - after the body come, when present, `# Footnotes`, `# Endnotes` and `# Headers and
//!   footers` sections (each note starts with its `[n]` mark; identical header and footer
//!   paragraphs are kept once);
//! - tracked changes: insertions and moves in are kept as text, deletions and moves out are
//!   dropped (the document as it would read with all changes accepted); comments, field
//!   instructions and the fallback copies of `mc:AlternateContent` are left out.
//!
//! Paragraph numbers ([`ExtractedText::paragraphs`]): 1, 2, … for the body blocks in order
//! (a table row counts as one paragraph; empty paragraphs are not counted), then the
//! appended sections continue the count. The synthetic section headings are not numbered.

use std::collections::HashMap;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::package::{Nesting, Package, attr, dc_title, is_mc, push_ref};
use super::types::{ExtractError, ExtractedText, Extractor};
use super::word::{
    Block, Builder, Level, Numbering, Open, Para, Style, Styles, Table, collapse, deliver,
    finish_paragraph, roman, row_text, top_para,
};

pub use super::package::{MAX_ENTRIES, MAX_UNPACKED_BYTES};

/// WordprocessingML, transitional and strict.
const W_NS: [&str; 2] = [
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
];

/// The DOCX extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocxExtractor;

impl Extractor for DocxExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_docx(bytes)
    }
}

fn corrupt(what: impl std::fmt::Display) -> ExtractError {
    ExtractError::CorruptDocx(what.to_string())
}

/// Extracts a DOCX file (see the module docs).
pub fn extract_docx(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    let mut pkg = Package::open(bytes, ExtractError::CorruptDocx)?;
    let main = main_part(&mut pkg)?;
    let dir = main.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    let part = |name: &str| {
        if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        }
    };
    let styles = match pkg.read(&part("styles.xml"))? {
        Some(xml) => parse_styles(&xml).map_err(|e| corrupt(format!("styles.xml: {e}")))?,
        None => Styles::default(),
    };
    let numbering = match pkg.read(&part("numbering.xml"))? {
        Some(xml) => parse_numbering(&xml).map_err(|e| corrupt(format!("numbering.xml: {e}")))?,
        None => Numbering::default(),
    };
    let xml = pkg
        .read(&main)?
        .ok_or_else(|| corrupt(format!("no {main} in the archive")))?;
    let mut ctx = Context {
        styles: &styles,
        numbering,
        footnote_marks: HashMap::new(),
        endnote_marks: HashMap::new(),
    };
    let body = parse_blocks(&xml, &mut ctx, PartKind::Body)
        .map_err(|e| corrupt(format!("{main}: {e}")))?;

    let mut doc = Builder::default();
    for block in &body {
        doc.block(block);
    }
    for (file, kind, heading) in [
        ("footnotes.xml", PartKind::Footnotes, "Footnotes"),
        ("endnotes.xml", PartKind::Endnotes, "Endnotes"),
    ] {
        let Some(xml) = pkg.read(&part(file))? else {
            continue;
        };
        let notes =
            parse_blocks(&xml, &mut ctx, kind).map_err(|e| corrupt(format!("{file}: {e}")))?;
        if !notes.is_empty() {
            doc.section(heading);
            for block in &notes {
                doc.block(block);
            }
        }
    }
    let mut header_footer_names: Vec<String> = pkg
        .names()
        .into_iter()
        .filter(|n| {
            n.strip_prefix(&part(""))
                .filter(|rest| !rest.contains('/'))
                .is_some_and(|rest| {
                    (rest.starts_with("header") || rest.starts_with("footer"))
                        && rest.ends_with(".xml")
                })
        })
        .collect();
    // header1.xml, header2.xml, …, then footers, each in numeric order.
    header_footer_names.sort_by_key(|n| {
        let file = n.rsplit('/').next().unwrap_or(n);
        let footer = file.starts_with("footer");
        let num: String = file.chars().filter(char::is_ascii_digit).collect();
        (footer, num.parse::<u64>().unwrap_or(0), n.clone())
    });
    let mut seen = std::collections::HashSet::new();
    let mut running: Vec<Block> = Vec::new();
    for name in header_footer_names {
        let Some(xml) = pkg.read(&name)? else {
            continue;
        };
        let blocks = parse_blocks(&xml, &mut ctx, PartKind::HeaderFooter)
            .map_err(|e| corrupt(format!("{name}: {e}")))?;
        for b in blocks {
            if seen.insert(b.text.clone()) {
                running.push(b);
            }
        }
    }
    if !running.is_empty() {
        doc.section("Headers and footers");
        for b in &running {
            doc.block(b);
        }
    }
    let title = match pkg.read("docProps/core.xml") {
        Ok(Some(xml)) => dc_title(&xml),
        // The title is a nicety: a damaged core.xml does not make the document unreadable.
        _ => None,
    };
    Ok(ExtractedText {
        text: doc.text,
        title,
        paragraphs: doc.paragraphs,
        ..ExtractedText::default()
    })
}

/// The main document part: the `officeDocument` relationship of `_rels/.rels`, else
/// `word/document.xml`.
fn main_part(pkg: &mut Package<'_>) -> Result<String, ExtractError> {
    const DEFAULT: &str = "word/document.xml";
    if let Some(target) = pkg
        .relationships("")
        .into_iter()
        .filter(|r| r.kind.ends_with("/officeDocument"))
        .find_map(|r| r.target)
        && pkg.has(&target)
    {
        return Ok(target);
    }
    if pkg.has(DEFAULT) {
        Ok(DEFAULT.to_string())
    } else {
        Err(corrupt(
            "no word/document.xml in the archive (not a Word document)",
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Styles and numbering

fn parse_styles(xml: &str) -> Result<Styles, String> {
    let mut styles = Styles::default();
    let mut reader = NsReader::from_str(xml);
    let mut current: Option<(String, Style)> = None;
    let mut num_id: Option<String> = None;
    let mut ilvl: u8 = 0;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let is_w = is_w(&ns);
        match event {
            Event::Start(e) | Event::Empty(e) if is_w => {
                let local = e.local_name();
                match local.as_ref() {
                    "style" => {
                        let paragraph = attr(&e, "type").is_none_or(|t| t == "paragraph");
                        current = match (paragraph, attr(&e, "styleId")) {
                            (true, Some(id)) => Some((id, Style::default())),
                            _ => None,
                        };
                        num_id = None;
                        ilvl = 0;
                    }
                    "name" => {
                        if let (Some((_, s)), Some(v)) = (current.as_mut(), attr(&e, "val")) {
                            s.name = v;
                        }
                    }
                    "basedOn" => {
                        if let Some((_, s)) = current.as_mut() {
                            s.based_on = attr(&e, "val");
                        }
                    }
                    "outlineLvl" => {
                        if let Some((_, s)) = current.as_mut() {
                            s.outline = attr(&e, "val").and_then(|v| v.parse().ok());
                        }
                    }
                    "numId" => num_id = attr(&e, "val"),
                    "ilvl" => ilvl = attr(&e, "val").and_then(|v| v.parse().ok()).unwrap_or(0),
                    _ => {}
                }
            }
            Event::End(e) if is_w && e.local_name().as_ref() == "style" => {
                if let Some((id, mut s)) = current.take() {
                    s.num = num_id.take().map(|n| (n, ilvl.min(8)));
                    styles.by_id.insert(id, s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(styles)
}

fn parse_numbering(xml: &str) -> Result<Numbering, String> {
    let mut numbering = Numbering::default();
    let mut reader = NsReader::from_str(xml);
    let mut abs: Option<(String, Vec<Level>)> = None;
    let mut level: Option<usize> = None;
    let mut num: Option<(String, String, HashMap<u8, u32>)> = None;
    let mut override_level: Option<u8> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let is_w = is_w(&ns);
        match event {
            Event::Start(e) | Event::Empty(e) if is_w => {
                let val = || attr(&e, "val");
                match e.local_name().as_ref() {
                    "abstractNum" => {
                        abs = attr(&e, "abstractNumId").map(|id| (id, vec![Level::default(); 9]));
                    }
                    "lvl" if abs.is_some() => {
                        level = attr(&e, "ilvl")
                            .and_then(|v| v.parse::<usize>().ok())
                            .filter(|&l| l < 9);
                        if let (Some((_, levels)), Some(l)) = (abs.as_mut(), level) {
                            levels[l] = Level {
                                start: 1,
                                format: "decimal".into(),
                                text: String::new(),
                                legal: false,
                            };
                        }
                    }
                    "start" | "numFmt" | "lvlText" | "isLgl" => {
                        if let (Some((_, levels)), Some(l)) = (abs.as_mut(), level) {
                            let lv = &mut levels[l];
                            match e.local_name().as_ref() {
                                "start" => {
                                    lv.start = val().and_then(|v| v.parse().ok()).unwrap_or(1)
                                }
                                "numFmt" => lv.format = val().unwrap_or_default(),
                                "lvlText" => lv.text = val().unwrap_or_default(),
                                _ => lv.legal = val().is_none_or(|v| v != "0" && v != "false"),
                            }
                        }
                    }
                    "num" => {
                        num = attr(&e, "numId").map(|id| (id, String::new(), HashMap::new()));
                    }
                    "abstractNumId" => {
                        if let (Some(n), Some(v)) = (num.as_mut(), val()) {
                            n.1 = v;
                        }
                    }
                    "lvlOverride" => {
                        override_level = attr(&e, "ilvl").and_then(|v| v.parse().ok());
                    }
                    "startOverride" => {
                        if let (Some(n), Some(l), Some(v)) = (
                            num.as_mut(),
                            override_level,
                            val().and_then(|v| v.parse().ok()),
                        ) {
                            n.2.insert(l, v);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) if is_w => match e.local_name().as_ref() {
                "abstractNum" => {
                    if let Some((id, levels)) = abs.take() {
                        numbering.abstracts.insert(id, levels);
                    }
                }
                "lvl" => level = None,
                "num" => {
                    if let Some((id, abs_id, overrides)) = num.take() {
                        numbering.nums.insert(id, (abs_id, overrides));
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(numbering)
}

fn is_w(ns: &ResolveResult<'_>) -> bool {
    matches!(ns, ResolveResult::Bound(n) if W_NS.contains(&n.0))
}

// ---------------------------------------------------------------------------------------
// Paragraphs and tables

/// Which part is being read: decides how notes and their marks are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    Body,
    Footnotes,
    Endnotes,
    HeaderFooter,
}

/// What the parts share while they are read.
struct Context<'a> {
    styles: &'a Styles,
    numbering: Numbering,
    /// Footnote id → display number, in order of first reference in the body.
    footnote_marks: HashMap<String, usize>,
    endnote_marks: HashMap<String, usize>,
}

impl Context<'_> {
    /// The display number of a note (assigned on first reference) and its mark: `[3]` for
    /// footnotes, `[iii]` for endnotes.
    fn note_mark(&mut self, endnote: bool, id: &str) -> (usize, String) {
        let marks = if endnote {
            &mut self.endnote_marks
        } else {
            &mut self.footnote_marks
        };
        let next = marks.len() + 1;
        let n = *marks.entry(id.to_string()).or_insert(next);
        let mark = if endnote {
            format!("[{}]", roman(n as u32).to_lowercase())
        } else {
            format!("[{n}]")
        };
        (n, mark)
    }
}

/// Elements whose content is not part of the document as it reads: tracked deletions and
/// moves out, field instructions, earlier formatting of tracked changes.
const SKIPPED: [&str; 10] = [
    "del",
    "moveFrom",
    "instrText",
    "delText",
    "pPrChange",
    "rPrChange",
    "tblPrChange",
    "trPrChange",
    "tcPrChange",
    "sectPrChange",
];

/// Reads the blocks of one part (body, notes, header or footer).
fn parse_blocks(xml: &str, ctx: &mut Context<'_>, kind: PartKind) -> Result<Vec<Block>, String> {
    let mut reader = NsReader::from_str(xml);
    let mut out: Vec<Block> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut next_table = 0;
    // Skipped subtrees: deletions, fallbacks, separator notes.
    let mut nest = Nesting::default();
    let mut in_text = false;
    let mut in_ppr = 0usize;
    // In a notes part: the mark of the note being read, put before its first paragraph.
    let mut note_mark: Option<String> = None;
    let mut note = 0;

    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let w = is_w(&ns);
        let mc = is_mc(&ns);
        match event {
            Event::Start(e) => {
                nest.enter();
                if nest.skipping() {
                    continue;
                }
                let local = e.local_name();
                let name = local.as_ref();
                if (w && SKIPPED.contains(&name)) || (mc && name == "Fallback") {
                    nest.skip();
                    continue;
                }
                if !w {
                    continue;
                }
                match name {
                    "p" => open.push(Open::Para(Para::default())),
                    "pPr" => in_ppr += 1,
                    "t" => in_text = true,
                    "tbl" => {
                        open.push(Open::Table(Table {
                            id: next_table,
                            ..Table::default()
                        }));
                        next_table += 1;
                    }
                    "tr" => {
                        if let Some(Open::Table(t)) = open.last_mut() {
                            t.cells.clear();
                        }
                    }
                    "tc" => {
                        if let Some(Open::Table(t)) = open.last_mut() {
                            t.cell = Some(String::new());
                        }
                    }
                    "footnote" | "endnote" if kind != PartKind::Body => {
                        if attr(&e, "type").is_some_and(|t| t != "normal") {
                            // Separator lines between body and notes.
                            nest.skip();
                        } else {
                            let id = attr(&e, "id").unwrap_or_default();
                            let (n, mark) = ctx.note_mark(name == "endnote", &id);
                            note = n;
                            note_mark = Some(mark);
                        }
                    }
                    _ => {
                        if let Some(p) = top_para(&mut open) {
                            element(&e, name, p, in_ppr > 0, ctx, kind);
                        }
                    }
                }
            }
            Event::Empty(e) => {
                if nest.skipping() || !w {
                    continue;
                }
                if let Some(p) = top_para(&mut open) {
                    let local = e.local_name();
                    element(&e, local.as_ref(), p, in_ppr > 0, ctx, kind);
                }
            }
            Event::End(e) => {
                if nest.leave().is_none() || !w {
                    continue;
                }
                match e.local_name().as_ref() {
                    "t" => in_text = false,
                    "pPr" => in_ppr = in_ppr.saturating_sub(1),
                    "p" => {
                        let Some(Open::Para(p)) = open.pop() else {
                            return Err("misplaced end of paragraph".into());
                        };
                        let Some(mut line) = finish_paragraph(p, ctx.styles, &mut ctx.numbering)
                        else {
                            continue;
                        };
                        if let Some(mark) = note_mark.take() {
                            line = format!("{mark} {line}");
                        }
                        let before = out.len();
                        deliver(&mut open, &mut out, line, None, " ");
                        if let Some(b) = out.get_mut(before) {
                            b.note = note;
                        }
                    }
                    "tc" => {
                        if let Some(Open::Table(t)) = open.last_mut() {
                            let cell = t.cell.take().unwrap_or_default();
                            t.cells.push(collapse(&cell));
                        }
                    }
                    "tr" => {
                        let Some(Open::Table(t)) = open.last_mut() else {
                            continue;
                        };
                        let cells = std::mem::take(&mut t.cells);
                        let id = t.id;
                        let Some(row) = row_text(&cells) else {
                            continue;
                        };
                        // A table inside a cell or text box: its rows join that, "; " apart.
                        let n = open.len();
                        deliver(&mut open[..n - 1], &mut out, row, Some(id), "; ");
                    }
                    "tbl" => {
                        if let Some(Open::Table(_)) = open.last() {
                            open.pop();
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_text && !nest.skipping() => {
                if let Some(p) = top_para(&mut open) {
                    p.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) if in_text && !nest.skipping() => {
                if let Some(p) = top_para(&mut open) {
                    p.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_text && !nest.skipping() => {
                if let Some(p) = top_para(&mut open) {
                    push_ref(&mut p.text, &r);
                }
            }
            Event::Eof => {
                if nest.depth() > 0 {
                    return Err("unexpected end of the XML (truncated?)".into());
                }
                break;
            }
            _ => {}
        }
    }
    // Notes in the order of their numbers, not of the part (stable: a note's paragraphs
    // keep their order).
    out.sort_by_key(|b| b.note);
    Ok(out)
}

/// Handles an element that carries no text of its own (empty or not).
fn element(
    e: &BytesStart<'_>,
    name: &str,
    p: &mut Para,
    in_ppr: bool,
    ctx: &mut Context<'_>,
    kind: PartKind,
) {
    match name {
        "pStyle" if in_ppr => p.style = attr(e, "val"),
        "outlineLvl" if in_ppr => p.outline = attr(e, "val").and_then(|v| v.parse().ok()),
        "numId" if in_ppr => p.num_id = attr(e, "val"),
        "ilvl" if in_ppr => p.ilvl = attr(e, "val").and_then(|v| v.parse().ok()),
        "tab" if !in_ppr => p.text.push(' '),
        "br" | "cr" => p.text.push('\n'),
        "noBreakHyphen" => p.text.push('-'),
        "footnoteReference" | "endnoteReference" if kind != PartKind::HeaderFooter => {
            if let Some(id) = attr(e, "id") {
                let (_, mark) = ctx.note_mark(name == "endnoteReference", &id);
                p.text.push_str(&mark);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::{
        core_xml, document_xml, docx, footnotes_xml, header_xml, item, numbering_xml, p, styled,
        styles_xml, table, with_footnote, zip,
    };

    fn paragraphs(x: &ExtractedText) -> Vec<&str> {
        x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect()
    }

    #[test]
    fn headings_become_markdown_lines_and_paragraphs_are_numbered() {
        let body = [
            styled("Title", "Commercial Lease"),
            styled("Heading1", "Article 4 Security Deposit"),
            styled("Heading2", "4.2 Return of Deposit"),
            p("Landlord shall return the deposit."),
            p("   "), // empty: not a paragraph
            styled("Heading9", "Deep"),
            p("Last & least <ok>"),
        ]
        .concat();
        let x = extract_docx(&docx(&document_xml(&body), &[])).unwrap();
        assert_eq!(
            x.text,
            "# Commercial Lease\n\n# Article 4 Security Deposit\n\n## 4.2 Return of Deposit\n\n\
             Landlord shall return the deposit.\n\n###### Deep\n\nLast & least <ok>"
        );
        assert_eq!(
            paragraphs(&x),
            [
                "# Commercial Lease",
                "# Article 4 Security Deposit",
                "## 4.2 Return of Deposit",
                "Landlord shall return the deposit.",
                "###### Deep",
                "Last & least <ok>"
            ]
        );
        assert!(x.pages.is_empty());
        assert_eq!(x.title, None);
    }

    #[test]
    fn headings_are_found_by_style_name_whatever_the_style_id() {
        let body = [
            styled("Titel", "Vertrag"),
            styled("berschrift1", "Artikel 1"),
            styled("Klausel", "1.1 Miete"), // based on "heading 2"
            p("Der Mieter zahlt."),
        ]
        .concat();
        let parts = [("word/styles.xml", styles_xml())];
        let x = extract_docx(&docx(&document_xml(&body), &parts)).unwrap();
        assert_eq!(
            x.text,
            "# Vertrag\n\n# Artikel 1\n\n## 1.1 Miete\n\nDer Mieter zahlt."
        );
    }

    #[test]
    fn list_numbers_are_written_and_levels_indented() {
        let body = [
            item(1, 0, "Definitions"),
            item(1, 1, "Premises means Suite 104."),
            item(1, 2, "including the storage room;"),
            item(1, 2, "excluding the roof."),
            item(1, 1, "Term means five years."),
            item(1, 0, "Rent"),
            item(2, 0, "a bullet point"),
            item(0, 0, "numId 0 means no number"),
        ]
        .concat();
        let parts = [("word/numbering.xml", numbering_xml())];
        let x = extract_docx(&docx(&document_xml(&body), &parts)).unwrap();
        assert_eq!(
            paragraphs(&x),
            [
                "1. Definitions",
                "  1.1 Premises means Suite 104.",
                "    (a) including the storage room;",
                "    (b) excluding the roof.",
                "  1.2 Term means five years.",
                "2. Rent",
                "a bullet point",
                "numId 0 means no number",
            ]
        );
    }

    #[test]
    fn tables_are_rows_of_cells_and_stay_together() {
        let body = [
            p("Schedule of payments:"),
            table(&[
                &["Item", "Amount"],
                &["Deposit", "$9,600"],
                &["", ""],
                &["Rent", "$4,800"],
            ]),
            p("After the table."),
        ]
        .concat();
        let x = extract_docx(&docx(&document_xml(&body), &[])).unwrap();
        assert_eq!(
            x.text,
            "Schedule of payments:\n\nItem | Amount\nDeposit | $9,600\nRent | $4,800\n\nAfter the table."
        );
        assert_eq!(paragraphs(&x)[2], "Deposit | $9,600");
        assert_eq!(x.paragraphs.len(), 5);
    }

    #[test]
    fn footnotes_headers_and_footers_are_appended_as_sections() {
        let body = [
            styled("Heading1", "Article 1"),
            with_footnote("The deposit is held in trust", 7, " by Landlord."),
            with_footnote("Interest accrues", 3, "."),
        ]
        .concat();
        let parts = [
            (
                "word/footnotes.xml",
                footnotes_xml(&[(3, "At the statutory rate."), (7, "See Section 4.2.")]),
            ),
            (
                "word/header1.xml",
                header_xml("hdr", "ACME Lease \u{2014} Confidential"),
            ),
            (
                "word/header2.xml",
                header_xml("hdr", "ACME Lease \u{2014} Confidential"),
            ),
            ("word/footer1.xml", header_xml("ftr", "Draft of 1 May")),
            ("docProps/core.xml", core_xml("  Lease of   Suite 104 ")),
        ];
        let x = extract_docx(&docx(&document_xml(&body), &parts)).unwrap();
        assert_eq!(
            x.text,
            "# Article 1\n\nThe deposit is held in trust[1] by Landlord.\n\nInterest accrues[2].\n\n\
             # Footnotes\n\n[1] See Section 4.2.\n\n[2] At the statutory rate.\n\n\
             # Headers and footers\n\nACME Lease \u{2014} Confidential\n\nDraft of 1 May"
        );
        // Body paragraphs 1-3, then the notes and running text continue the count; the
        // section headings are not numbered.
        assert_eq!(
            paragraphs(&x),
            [
                "# Article 1",
                "The deposit is held in trust[1] by Landlord.",
                "Interest accrues[2].",
                "[1] See Section 4.2.",
                "[2] At the statutory rate.",
                "ACME Lease \u{2014} Confidential",
                "Draft of 1 May"
            ]
        );
        assert_eq!(x.title.as_deref(), Some("Lease of Suite 104"));
    }

    #[test]
    fn insertions_are_kept_deletions_comments_and_fallbacks_dropped() {
        let body = r#"<w:p>
            <w:r><w:t xml:space="preserve">The rent is </w:t></w:r>
            <w:del w:id="1" w:author="A"><w:r><w:delText>$4,000</w:delText></w:r></w:del>
            <w:ins w:id="2" w:author="A"><w:r><w:t>$4,800</w:t></w:r></w:ins>
            <w:commentRangeStart w:id="5"/><w:r><w:t xml:space="preserve"> per month</w:t></w:r><w:commentRangeEnd w:id="5"/>
            <w:r><w:commentReference w:id="5"/></w:r>
            <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>.</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
            <mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">
              <mc:Choice Requires="wps"><w:r><w:t xml:space="preserve"> (boxed)</w:t></w:r></mc:Choice>
              <mc:Fallback><w:r><w:t xml:space="preserve"> (boxed)</w:t></w:r></mc:Fallback>
            </mc:AlternateContent>
          </w:p>
          <w:p><w:pPr><w:pStyle w:val="Heading1"/><w:pPrChange w:id="9"><w:pPr><w:pStyle w:val="Heading3"/></w:pPr></w:pPrChange></w:pPr><w:r><w:t>Changed style</w:t></w:r></w:p>
          <w:p><w:r><w:t>Line one</w:t><w:br/><w:t>line&#160;two</w:t><w:tab/><w:t>tabbed</w:t></w:r></w:p>"#;
        let x = extract_docx(&docx(&document_xml(body), &[])).unwrap();
        assert_eq!(
            x.text,
            "The rent is $4,800 per month. (boxed)\n\n# Changed style\n\nLine one\nline two tabbed"
        );
    }

    #[test]
    fn broken_archives_and_xml_get_reasons() {
        let reason = |bytes: &[u8]| match extract_docx(bytes) {
            Err(ExtractError::CorruptDocx(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(reason(b"PK\x03\x04 not really").contains("not a zip"));
        assert!(reason(b"").contains("not a zip"));
        let no_document = zip(&[("hello.txt".into(), "hi".into())]);
        assert!(reason(&no_document).contains("word/document.xml"));
        let mismatched = docx(&document_xml("<w:p><w:r><w:t>a</w:r></w:t></w:p>"), &[]);
        assert!(reason(&mismatched).starts_with("word/document.xml:"));
        let truncated = docx(
            &document_xml("<w:p><w:r><w:t>a</w:t></w:r></w:p>")[..120],
            &[],
        );
        assert!(reason(&truncated).contains("word/document.xml"));
        let latin1 = docx("<?xml version=\"1.0\"?><w:document>\u{0}</w:document>", &[]);
        let _ = extract_docx(&latin1); // any answer but a panic
    }

    #[test]
    fn unpacking_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.docx");
        crate::ingest::fixtures::write_zip_bomb(&path, MAX_UNPACKED_BYTES + 1024);
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() < 1024 * 1024, "{} bytes", bytes.len());
        assert_eq!(
            extract_docx(&bytes),
            Err(ExtractError::Unpacked {
                limit: MAX_UNPACKED_BYTES
            })
        );
    }
}

/// Our own XML walking, fuzzed directly: [`super::extract::extract`] runs DOCX parsing under
/// [`super::isolate`], where a panic becomes a skipped file, so the integration fuzz tests
/// would pass even if this code panicked. Here a panic fails the test.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::ingest::package::MC_NS;
    use proptest::prelude::*;

    const W: &str = W_NS[0];

    /// Fragments of WordprocessingML (and junk) that the walkers treat specially, in any
    /// order: unbalanced, nested where Word never nests, with odd attribute values.
    const BODY_TOKENS: &[&str] = &[
        "<w:p>",
        "</w:p>",
        "<w:r>",
        "</w:r>",
        "<w:t>",
        "</w:t>",
        "<w:t xml:space=\"preserve\">",
        "<w:tbl>",
        "</w:tbl>",
        "<w:tr>",
        "</w:tr>",
        "<w:tc>",
        "</w:tc>",
        "<w:pPr>",
        "</w:pPr>",
        "<w:pStyle w:val=\"Heading1\"/>",
        "<w:pStyle w:val=\"Title\"/>",
        "<w:pStyle w:val=\"Missing\"/>",
        "<w:outlineLvl w:val=\"12\"/>",
        "<w:outlineLvl w:val=\"-3\"/>",
        "<w:numPr>",
        "</w:numPr>",
        "<w:numId w:val=\"1\"/>",
        "<w:numId w:val=\"0\"/>",
        "<w:ilvl w:val=\"9\"/>",
        "<w:ilvl w:val=\"255\"/>",
        "<w:ilvl w:val=\"x\"/>",
        "<w:footnoteReference w:id=\"1\"/>",
        "<w:endnoteReference w:id=\"7\"/>",
        "<w:footnoteRef/>",
        "<w:del>",
        "</w:del>",
        "<w:ins>",
        "</w:ins>",
        "<w:moveFrom>",
        "</w:moveFrom>",
        "<w:instrText>",
        "</w:instrText>",
        "<w:tab/>",
        "<w:br/>",
        "<w:cr/>",
        "<w:noBreakHyphen/>",
        "<mc:AlternateContent>",
        "</mc:AlternateContent>",
        "<mc:Choice>",
        "</mc:Choice>",
        "<mc:Fallback>",
        "</mc:Fallback>",
        "<w:txbxContent>",
        "</w:txbxContent>",
        "<w:footnote w:id=\"1\">",
        "<w:footnote w:type=\"separator\" w:id=\"-1\">",
        "</w:footnote>",
        "<w:endnote w:id=\"7\">",
        "</w:endnote>",
        "&amp;",
        "&#x41;",
        "&#0;",
        "&bogus;",
        "text ",
        "§ 4.2 ",
        "é",
        "\u{00ad}",
        " ",
        "\n",
        "<",
        "]]>",
        "<x:unknown xmlns:x=\"urn:x\">",
        "</x:unknown>",
    ];

    const STYLE_TOKENS: &[&str] = &[
        "<w:style w:type=\"paragraph\" w:styleId=\"Heading1\">",
        "<w:style w:type=\"paragraph\" w:styleId=\"Title\">",
        "<w:style w:type=\"character\">",
        "</w:style>",
        "<w:name w:val=\"heading 1\"/>",
        "<w:name w:val=\"heading 99\"/>",
        "<w:name w:val=\"Title\"/>",
        "<w:basedOn w:val=\"Heading1\"/>",
        "<w:basedOn w:val=\"Title\"/>",
        "<w:pPr>",
        "</w:pPr>",
        "<w:outlineLvl w:val=\"0\"/>",
        "<w:outlineLvl w:val=\"9\"/>",
        "<w:numPr>",
        "</w:numPr>",
        "<w:numId w:val=\"1\"/>",
        "text",
    ];

    const NUMBERING_TOKENS: &[&str] = &[
        "<w:abstractNum w:abstractNumId=\"0\">",
        "</w:abstractNum>",
        "<w:lvl w:ilvl=\"0\">",
        "<w:lvl w:ilvl=\"1\">",
        "<w:lvl w:ilvl=\"300\">",
        "</w:lvl>",
        "<w:start w:val=\"0\"/>",
        "<w:start w:val=\"4294967295\"/>",
        "<w:start w:val=\"-5\"/>",
        "<w:numFmt w:val=\"lowerRoman\"/>",
        "<w:numFmt w:val=\"upperLetter\"/>",
        "<w:numFmt w:val=\"bullet\"/>",
        "<w:numFmt w:val=\"decimal\"/>",
        "<w:lvlText w:val=\"%1.%2.%10\"/>",
        "<w:lvlText w:val=\"%\"/>",
        "<w:lvlText w:val=\"(%9)\"/>",
        "<w:num w:numId=\"1\">",
        "</w:num>",
        "<w:abstractNumId w:val=\"0\"/>",
        "<w:abstractNumId w:val=\"9\"/>",
        "<w:lvlOverride w:ilvl=\"0\">",
        "</w:lvlOverride>",
        "<w:startOverride w:val=\"4294967295\"/>",
    ];

    fn fragments(tokens: &'static [&'static str]) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(tokens), 0..80).prop_map(|t| t.concat())
    }

    fn root(name: &str, inner: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><w:{name} xmlns:w=\"{W}\" xmlns:mc=\"{MC_NS}\">{inner}</w:{name}>"
        )
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_docx_xml_walking_never_panics(
            body in fragments(BODY_TOKENS),
            styles in fragments(STYLE_TOKENS),
            numbering in fragments(NUMBERING_TOKENS),
            raw in ".{0,200}",
        ) {
            let styles = parse_styles(&root("styles", &styles)).unwrap_or_default();
            let numbering = parse_numbering(&root("numbering", &numbering)).unwrap_or_default();
            let mut ctx = Context {
                styles: &styles,
                numbering,
                footnote_marks: HashMap::new(),
                endnote_marks: HashMap::new(),
            };
            let mut doc = Builder::default();
            for (kind, xml) in [
                (PartKind::Body, root("document", &format!("<w:body>{body}</w:body>"))),
                (PartKind::Footnotes, root("footnotes", &body)),
                (PartKind::Endnotes, root("endnotes", &body)),
                (PartKind::HeaderFooter, root("hdr", &body)),
                (PartKind::Body, raw.clone()),
            ] {
                if let Ok(blocks) = parse_blocks(&xml, &mut ctx, kind) {
                    doc.section("Part");
                    for b in &blocks {
                        doc.block(b);
                    }
                }
            }
            for r in &doc.paragraphs {
                prop_assert!(r.start <= r.end && r.end <= doc.text.len());
                prop_assert!(doc.text.is_char_boundary(r.start) && doc.text.is_char_boundary(r.end));
            }
            let _ = parse_styles(&raw);
            let _ = parse_numbering(&raw);
            let _ = dc_title(&raw);
            let _ = dc_title(&body);
            let _ = super::super::package::relationships(&raw, "word");
            let _ = super::super::package::relationships(&body, "");
        }

        #[test]
        fn fuzz_number_formats_and_xml_decoding_never_panic(
            n in any::<u32>(),
            format in prop_oneof![
                Just("decimal".to_string()), Just("lowerRoman".to_string()),
                Just("upperRoman".to_string()), Just("lowerLetter".to_string()),
                Just("upperLetter".to_string()), Just("bullet".to_string()), ".{0,12}",
            ],
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let _ = super::super::word::format_number(n, &format);
            let _ = roman(n);
            let _ = super::super::word::letters(n);
            let _ = super::super::package::xml_text(bytes.clone());
            let mut bom = vec![0xFF, 0xFE];
            bom.extend_from_slice(&bytes);
            let _ = super::super::package::xml_text(bom);
        }
    }
}
