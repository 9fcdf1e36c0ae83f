//! OpenDocument text (`.odt`, LibreOffice and others): paragraphs in order, with headings,
//! list numbers, tables, notes and page headers, written as the DOCX reader writes them.
//!
//! An ODT file is a zip archive; `content.xml` holds the body, `styles.xml` the common styles
//! and the page headers and footers, `meta.xml` the title (`dc:title`). All are read with a
//! cap on the bytes unpacked ([`MAX_UNPACKED_BYTES`]). The walk builds the paragraph model
//! the two Word readers share (module `word`), so a document gives the same text whether it
//! was saved as `.odt`, `.docx` or `.doc`:
//!
//! - each paragraph (`text:p`) with text is one block; blocks are separated by a blank line;
//! - a heading (`text:h`) becomes a Markdown line, `#` repeated by its `text:outline-level`
//!   (capped at `######`), and so does a paragraph in the "Title" style;
//! - list items get their numbers from the list style (`style:num-format`, prefix, suffix,
//!   `text:display-levels`, `text:start-value`), indented by level; a top-level `text:list`
//!   starts a new list unless it continues one (`text:continue-numbering`,
//!   `text:continue-list`); bullets get no label;
//! - a table row is one line, its cells separated by ` | `; a table inside a cell joins that
//!   cell, its rows `; ` apart;
//! - footnotes become `[n]` and endnotes `[i]` in the text, and follow the body under
//!   `# Footnotes` and `# Endnotes`; the page headers and footers of `styles.xml` follow
//!   under `# Headers and footers` (each kept once);
//! - comments (`office:annotation`) and the deleted text of tracked changes are left out.
//!
//! Paragraph numbers ([`ExtractedText::paragraphs`]): 1, 2, … for the blocks in order (a
//! table row counts as one), then the notes, headers and footers; the section headings are
//! not numbered.

use std::collections::HashMap;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::package::{Nesting, OFFICE_NS, Package, STYLE_NS, TABLE_NS, TEXT_NS, dc_title, ns_is};
use super::types::{ExtractError, ExtractedText, Extractor};
use super::word::{
    Block, Builder, Level, Numbering, Open, Para, Style, Styles, Table, collapse, deliver,
    finish_paragraph, roman, row_text, top_para,
};

pub use super::package::MAX_UNPACKED_BYTES;

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

/// Extracts an ODT file (see the module docs).
pub fn extract_odt(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    let mut pkg = Package::open(bytes, |reason| ExtractError::Corrupt {
        kind: "odt",
        reason,
    })?;
    let content = pkg
        .read("content.xml")?
        .ok_or_else(|| corrupt("no content.xml in the archive"))?;
    // Styles and the page headers and footers; a document without styles.xml is still read.
    let styles_xml = pkg.read("styles.xml").ok().flatten().unwrap_or_default();
    let mut out =
        walk_parts(&content, &styles_xml).map_err(|e| corrupt(format!("content.xml: {e}")))?;
    out.title = match pkg.read("meta.xml") {
        Ok(Some(xml)) => dc_title(&xml),
        _ => None,
    };
    Ok(out)
}

/// An attribute's value by local name.
fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| a.value.to_string())
}

fn attr_u(e: &BytesStart<'_>, local: &str) -> Option<u32> {
    attr(e, local).and_then(|v| v.trim().parse().ok())
}

// ---------------------------------------------------------------------------------------
// Styles and list styles

/// The paragraph styles (for "Title" and headings by style) and list styles of a document,
/// from styles.xml and content.xml's automatic styles.
#[derive(Debug, Default)]
struct OdtStyles {
    paragraph: Styles,
    /// List style name → its ten levels, as list definitions.
    lists: HashMap<String, Vec<Level>>,
    /// The outline style: how headings are numbered ("3", "3.1"), when they are.
    outline: Option<Vec<Level>>,
}

/// One level of a list style: `text:list-level-style-number` (or `-bullet`, `-image`).
fn list_level(e: &BytesStart<'_>, numbered: bool) -> (usize, Level, u32) {
    let level = attr_u(e, "level").unwrap_or(1).clamp(1, 10) as usize;
    let format = if !numbered {
        "bullet"
    } else {
        match attr(e, "num-format").as_deref() {
            Some("1") | None => "decimal",
            Some("a") => "lowerLetter",
            Some("A") => "upperLetter",
            Some("i") => "lowerRoman",
            Some("I") => "upperRoman",
            Some("") => "none",
            Some(_) => "decimal",
        }
    };
    let shown = attr_u(e, "display-levels")
        .unwrap_or(1)
        .clamp(1, level as u32) as usize;
    let numbers = (level + 1 - shown..=level)
        .map(|k| format!("%{k}"))
        .collect::<Vec<_>>()
        .join(".");
    let text = format!(
        "{}{numbers}{}",
        attr(e, "num-prefix").unwrap_or_default(),
        attr(e, "num-suffix").unwrap_or_default()
    );
    let start = attr_u(e, "start-value").unwrap_or(1);
    (
        level,
        Level {
            start,
            format: format.into(),
            text,
            legal: false,
        },
        start,
    )
}

/// Reads the styles of one part (styles.xml or content.xml) into `styles`.
fn read_styles(xml: &str, styles: &mut OdtStyles) -> Result<(), String> {
    let mut reader = NsReader::from_str(xml);
    let mut list: Option<(String, Vec<Level>)> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let local = e.local_name();
                match (local.as_ref(), ns_is(&ns, STYLE_NS), ns_is(&ns, TEXT_NS)) {
                    ("style", true, _) if attr(&e, "family").as_deref() == Some("paragraph") => {
                        let Some(name) = attr(&e, "name") else {
                            continue;
                        };
                        let style = Style {
                            name: attr(&e, "display-name").unwrap_or_else(|| name.clone()),
                            based_on: attr(&e, "parent-style-name"),
                            outline: attr_u(&e, "default-outline-level")
                                .filter(|l| (1..=10).contains(l))
                                .map(|l| (l - 1) as u8),
                            num: None,
                        };
                        styles.paragraph.by_id.insert(name, style);
                    }
                    ("list-style" | "outline-style", _, true) => {
                        let name = attr(&e, "name").unwrap_or_default();
                        list = Some((name, vec![Level::default(); 10]));
                    }
                    (
                        level @ ("list-level-style-number"
                        | "outline-level-style"
                        | "list-level-style-bullet"
                        | "list-level-style-image"),
                        _,
                        true,
                    ) => {
                        if let Some((_, levels)) = list.as_mut() {
                            let numbered =
                                matches!(level, "list-level-style-number" | "outline-level-style");
                            let (i, l, _) = list_level(&e, numbered);
                            levels[i - 1] = l;
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) if ns_is(&ns, TEXT_NS) => {
                let local = e.local_name();
                if matches!(local.as_ref(), "list-style" | "outline-style")
                    && let Some((name, levels)) = list.take()
                {
                    if local.as_ref() == "outline-style" {
                        styles.outline = Some(levels);
                    } else {
                        styles.lists.insert(name, levels);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The walk

/// Where finished paragraphs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Body,
    Footnote,
    Endnote,
}

/// A `text:list` being read: its list instance (`None`: no numbering) and whether the
/// current item has had its number.
#[derive(Debug)]
struct List {
    instance: Option<String>,
    numbered: bool,
}

/// What the walk over the parts builds.
struct Walk<'s> {
    styles: &'s OdtStyles,
    numbering: Numbering,
    body: Vec<Block>,
    footnotes: Vec<Block>,
    endnotes: Vec<Block>,
    running: Vec<Block>,
    open: Vec<Open>,
    /// While in a note body: the body's open elements, put aside.
    outer: Option<Vec<Open>>,
    target: Target,
    note: (usize, Option<String>),
    footnote_count: usize,
    endnote_count: usize,
    lists: Vec<List>,
    /// List instances by `xml:id`, and the last instance of each list style.
    by_xml_id: HashMap<String, String>,
    last_of_style: HashMap<String, String>,
    instances: usize,
    next_table: usize,
    /// Reading a page header or footer of styles.xml.
    in_running: bool,
}

impl Walk<'_> {
    fn push_text(&mut self, s: &str) {
        if let Some(p) = top_para(&mut self.open) {
            p.text.push_str(s);
        }
    }

    fn out(&mut self) -> &mut Vec<Block> {
        if self.in_running {
            return &mut self.running;
        }
        match self.target {
            Target::Body => &mut self.body,
            Target::Footnote => &mut self.footnotes,
            Target::Endnote => &mut self.endnotes,
        }
    }

    /// A `text:list` opens: a new list instance at the top level (unless it continues an
    /// earlier one), the same one nested.
    fn start_list(&mut self, e: &BytesStart<'_>) {
        if let Some(outer) = self.lists.last() {
            let instance = outer.instance.clone();
            self.lists.push(List {
                instance,
                numbered: false,
            });
            return;
        }
        let style = attr(e, "style-name");
        let continued = attr(e, "continue-list")
            .and_then(|id| self.by_xml_id.get(&id).cloned())
            .or_else(|| {
                (attr(e, "continue-numbering").as_deref() == Some("true"))
                    .then(|| {
                        style
                            .as_ref()
                            .and_then(|s| self.last_of_style.get(s).cloned())
                    })
                    .flatten()
            });
        let instance = continued.or_else(|| {
            let levels = self.styles.lists.get(style.as_deref()?)?.clone();
            self.instances += 1;
            let id = format!("list-{}", self.instances);
            self.numbering.abstracts.insert(id.clone(), levels);
            self.numbering
                .nums
                .insert(id.clone(), (id.clone(), HashMap::new()));
            Some(id)
        });
        if let (Some(i), Some(s)) = (&instance, &style) {
            self.last_of_style.insert(s.clone(), i.clone());
        }
        if let (Some(i), Some(x)) = (&instance, attr(e, "id")) {
            self.by_xml_id.insert(x, i.clone());
        }
        self.lists.push(List {
            instance,
            numbered: false,
        });
    }

    /// A paragraph or heading opens: its style, outline level and, for the first one of a
    /// list item, its list and level.
    fn start_para(&mut self, e: &BytesStart<'_>, heading: bool) {
        let depth = self.lists.len();
        let (num_id, ilvl) = match self.lists.last_mut() {
            Some(l) if !l.numbered => {
                l.numbered = true;
                (
                    l.instance.clone(),
                    Some(depth.saturating_sub(1).min(8) as u8),
                )
            }
            _ => (None, None),
        };
        let outline =
            heading.then(|| (attr_u(e, "outline-level").unwrap_or(1).clamp(1, 10) - 1) as u8);
        // A heading outside a list takes its number from the outline style, if it numbers.
        let (num_id, ilvl) = match outline {
            Some(o)
                if num_id.is_none()
                    && self.styles.outline.is_some()
                    && attr(e, "is-list-header").as_deref() != Some("true") =>
            {
                (Some(OUTLINE.to_string()), Some(o.min(8)))
            }
            _ => (num_id, ilvl),
        };
        self.open.push(Open::Para(Para {
            text: String::new(),
            style: attr(e, "style-name"),
            outline,
            ilvl: ilvl.filter(|_| num_id.is_some()),
            num_id,
        }));
    }

    fn end_para(&mut self) {
        let Some(Open::Para(p)) = self.open.pop() else {
            return;
        };
        let Some(mut line) = finish_paragraph(p, &self.styles.paragraph, &mut self.numbering)
        else {
            return;
        };
        if self.target != Target::Body
            && let Some(mark) = self.note.1.take()
        {
            line = format!("{mark} {line}");
        }
        let note = self.note.0;
        let mut out = std::mem::take(self.out());
        let before = out.len();
        deliver(&mut self.open, &mut out, line, None, " ");
        if let Some(b) = out.get_mut(before) {
            b.note = note;
        }
        *self.out() = out;
    }
}

/// The list instance of the outline style (heading numbers).
const OUTLINE: &str = "outline";

/// Elements whose content is not part of the text as it reads.
fn skipped(ns: &ResolveResult<'_>, local: &str) -> bool {
    (ns_is(ns, OFFICE_NS)
        && matches!(
            local,
            "annotation" | "automatic-styles" | "scripts" | "font-face-decls" | "styles"
        ))
        || (ns_is(ns, TEXT_NS)
            && matches!(
                local,
                "tracked-changes" | "note-citation" | "sequence-decls"
            ))
}

/// Walks content.xml's body, then styles.xml's page headers and footers, into text.
fn walk_parts(content: &str, styles_xml: &str) -> Result<ExtractedText, String> {
    let mut styles = OdtStyles::default();
    // Styles that cannot be read leave the text without Title headings and list numbers.
    let _ = read_styles(styles_xml, &mut styles);
    read_styles(content, &mut styles)?;
    let mut numbering = Numbering::default();
    if let Some(levels) = &styles.outline {
        numbering.abstracts.insert(OUTLINE.into(), levels.clone());
        numbering
            .nums
            .insert(OUTLINE.into(), (OUTLINE.into(), HashMap::new()));
    }
    let mut w = Walk {
        styles: &styles,
        numbering,
        body: Vec::new(),
        footnotes: Vec::new(),
        endnotes: Vec::new(),
        running: Vec::new(),
        open: Vec::new(),
        outer: None,
        target: Target::Body,
        note: (0, None),
        footnote_count: 0,
        endnote_count: 0,
        lists: Vec::new(),
        by_xml_id: HashMap::new(),
        last_of_style: HashMap::new(),
        instances: 0,
        next_table: 0,
        in_running: false,
    };
    walk(&mut w, content)?;
    if !styles_xml.is_empty() {
        w.in_running = true;
        // Headers and footers are a nicety: a damaged styles.xml does not lose the body.
        let _ = walk(&mut w, styles_xml);
    }
    let mut doc = Builder::default();
    for b in &w.body {
        doc.block(b);
    }
    for (heading, notes) in [("Footnotes", &w.footnotes), ("Endnotes", &w.endnotes)] {
        if !notes.is_empty() {
            doc.section(heading);
            for b in notes {
                doc.block(b);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let running: Vec<&Block> = w.running.iter().filter(|b| seen.insert(&b.text)).collect();
    if !running.is_empty() {
        doc.section("Headers and footers");
        for b in running {
            doc.block(b);
        }
    }
    Ok(ExtractedText {
        text: doc.text,
        paragraphs: doc.paragraphs,
        ..ExtractedText::default()
    })
}

/// Walks one part: content.xml's `office:body`, or styles.xml's master pages (only their
/// headers and footers are read).
fn walk(w: &mut Walk<'_>, xml: &str) -> Result<(), String> {
    let mut reader = NsReader::from_str(xml);
    let mut nest = Nesting::default();
    // In styles.xml, only inside a header or footer.
    let mut running_depth: Option<usize> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let reading = !nest.skipping() && (!w.in_running || running_depth.is_some());
        match event {
            Event::Start(e) => {
                nest.enter();
                if nest.skipping() {
                    continue;
                }
                let local = e.local_name();
                let local = local.as_ref();
                if skipped(&ns, local) {
                    nest.skip();
                    continue;
                }
                if w.in_running {
                    if running_depth.is_none()
                        && ns_is(&ns, STYLE_NS)
                        && matches!(
                            local,
                            "header"
                                | "footer"
                                | "header-left"
                                | "footer-left"
                                | "header-first"
                                | "footer-first"
                        )
                    {
                        running_depth = Some(nest.depth());
                    }
                    if running_depth.is_none() {
                        continue;
                    }
                }
                start(w, &ns, local, &e);
            }
            Event::Empty(e) => {
                if !reading {
                    continue;
                }
                let local = e.local_name();
                if ns_is(&ns, TEXT_NS) {
                    match local.as_ref() {
                        "s" => {
                            let n = attr_u(&e, "c").unwrap_or(1).min(1000) as usize;
                            w.push_text(&" ".repeat(n));
                        }
                        "tab" => w.push_text("\t"),
                        "line-break" => w.push_text("\n"),
                        "p" | "h" => {}
                        _ => {}
                    }
                } else if ns_is(&ns, TABLE_NS) && local.as_ref() == "table-cell" {
                    // An empty cell still takes its place in the row.
                    if let Some(Open::Table(t)) = w.open.last_mut() {
                        t.cells.push(String::new());
                    }
                }
            }
            Event::End(e) => {
                let Some(at) = nest.leave() else {
                    continue;
                };
                if w.in_running && running_depth.is_none() {
                    continue;
                }
                let local = e.local_name();
                end(w, &ns, local.as_ref());
                if running_depth == Some(at) {
                    running_depth = None;
                }
            }
            Event::Text(t) if reading => w.push_text(&t.xml10_content()),
            Event::GeneralRef(r) if reading => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    w.push_text(c.encode_utf8(&mut [0; 4]));
                } else if let Some(s) =
                    quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                {
                    w.push_text(s);
                }
            }
            Event::CData(t) if reading => w.push_text(&t.xml10_content()),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

fn start(w: &mut Walk<'_>, ns: &ResolveResult<'_>, local: &str, e: &BytesStart<'_>) {
    if ns_is(ns, TEXT_NS) {
        match local {
            "p" => w.start_para(e, false),
            "h" => w.start_para(e, true),
            "list" => w.start_list(e),
            "list-item" | "list-header" => {
                if let Some(l) = w.lists.last_mut() {
                    // A list header is an item without a number.
                    l.numbered = local == "list-header";
                }
            }
            "note" if w.target == Target::Body => {
                let endnote = attr(e, "note-class").as_deref() == Some("endnote");
                let mark = if endnote {
                    w.endnote_count += 1;
                    format!("[{}]", roman(w.endnote_count as u32).to_lowercase())
                } else {
                    w.footnote_count += 1;
                    format!("[{}]", w.footnote_count)
                };
                w.push_text(&mark);
                let n = if endnote {
                    w.endnote_count
                } else {
                    w.footnote_count
                };
                w.note = (n, Some(mark));
                w.target = if endnote {
                    Target::Endnote
                } else {
                    Target::Footnote
                };
            }
            "note-body" if w.outer.is_none() => {
                w.outer = Some(std::mem::take(&mut w.open));
            }
            _ => {}
        }
    } else if ns_is(ns, TABLE_NS) {
        match local {
            "table" => {
                w.next_table += 1;
                w.open.push(Open::Table(Table {
                    id: w.next_table,
                    ..Table::default()
                }));
            }
            "table-row" => {
                if let Some(Open::Table(t)) = w.open.last_mut() {
                    t.cells.clear();
                }
            }
            "table-cell" => {
                if let Some(Open::Table(t)) = w.open.last_mut() {
                    t.cell = Some(String::new());
                }
            }
            _ => {}
        }
    }
}

fn end(w: &mut Walk<'_>, ns: &ResolveResult<'_>, local: &str) {
    if ns_is(ns, TEXT_NS) {
        match local {
            "p" | "h" => w.end_para(),
            "list" => {
                w.lists.pop();
            }
            "note-body" => {
                if let Some(outer) = w.outer.take() {
                    // Whatever the note left open is dropped with it.
                    w.open = outer;
                }
            }
            "note" => {
                w.target = Target::Body;
                w.note = (0, None);
            }
            _ => {}
        }
    } else if ns_is(ns, TABLE_NS) {
        match local {
            "table-cell" => {
                if let Some(Open::Table(t)) = w.open.last_mut() {
                    let cell = t.cell.take().unwrap_or_default();
                    t.cells.push(collapse(&cell));
                }
            }
            "table-row" => {
                let Some(Open::Table(t)) = w.open.last_mut() else {
                    return;
                };
                let cells = std::mem::take(&mut t.cells);
                let id = t.id;
                let Some(row) = row_text(&cells) else {
                    return;
                };
                // A table inside a cell: its rows join that cell, "; " apart (as in DOCX).
                let n = w.open.len();
                let mut out = std::mem::take(w.out());
                deliver(&mut w.open[..n - 1], &mut out, row, Some(id), "; ");
                *w.out() = out;
            }
            "table" => {
                if let Some(Open::Table(_)) = w.open.last() {
                    w.open.pop();
                }
            }
            _ => {}
        }
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
            "# Lease\n\n## 4.2 Deposit\n\nThe tenant pays a deposit[1].\n\nRent | $900\nFee | $10 & up\n\n# Footnotes\n\n[1] Held in escrow."
        );
        assert_eq!(x.title.as_deref(), Some("Commercial Lease"));
        let paras: Vec<&str> = x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect();
        assert_eq!(
            paras,
            [
                "# Lease",
                "## 4.2 Deposit",
                "The tenant pays a deposit[1].",
                "Rent | $900",
                "Fee | $10 & up",
                "[1] Held in escrow."
            ]
        );
    }

    /// Made by LibreOffice from the same sources as the DOCX (scripts/make-doc-fixtures).
    const TWINS: [(&[u8], &[u8]); 3] = [
        (
            include_bytes!("../../tests/fixtures/doc/lease.odt"),
            include_bytes!("../../tests/fixtures/doc/lease.docx"),
        ),
        (
            include_bytes!("../../tests/fixtures/doc/redline.odt"),
            include_bytes!("../../tests/fixtures/doc/redline.docx"),
        ),
        (
            include_bytes!("../../tests/fixtures/doc/nested.odt"),
            include_bytes!("../../tests/fixtures/doc/nested.docx"),
        ),
    ];

    #[test]
    fn an_odt_reads_as_the_same_document_saved_as_docx() {
        for (odt, docx_twin) in TWINS {
            let x = extract_odt(odt).unwrap();
            assert_eq!(
                x,
                super::super::docx::extract_docx(docx_twin).unwrap(),
                "{}",
                x.text
            );
        }
        // What the comparison covers: the title style, list numbers, notes of both kinds,
        // headers and footers, a table inside a cell.
        let lease = extract_odt(TWINS[0].0).unwrap().text;
        assert!(
            lease.starts_with("# Commercial Lease\n\n# Article 1 Rent"),
            "{lease}"
        );
        assert!(
            lease.contains(
                "\n\n  1.1 Rent rises by three percent each later year.\n\n    (a) unless"
            )
        );
        let redline = extract_odt(TWINS[1].0).unwrap().text;
        assert!(
            redline.contains("(iii) failing which, refund the price."),
            "{redline}"
        );
        assert!(
            redline.contains("Effective Date.[i]")
                && redline.contains("# Endnotes\n\n[i] As defined")
        );
        assert!(redline.ends_with("# Headers and footers\n\nSupply Agreement \u{2013} Amendment No. 2 \u{2013} Confidential\n\nPage 1"));
        let nested = extract_odt(TWINS[2].0).unwrap().text;
        assert!(
            nested.contains("Party | Signature block; Name | Ann Lee; Title | CEO Witness line"),
            "{nested}"
        );
    }

    #[test]
    fn lists_restart_unless_continued_and_bullets_have_no_number() {
        let styles = r#"<office:automatic-styles><text:list-style style:name="L1"><text:list-level-style-number text:level="1" style:num-format="1" style:num-suffix="."/><text:list-level-style-number text:level="2" style:num-format="a" style:num-prefix="(" style:num-suffix=")"/></text:list-style><text:list-style style:name="B"><text:list-level-style-bullet text:level="1" text:bullet-char="•"/></text:list-style></office:automatic-styles>"#;
        let item = |t: &str| format!("<text:list-item><text:p>{t}</text:p></text:list-item>");
        let body = format!(
            r#"<text:list text:style-name="L1">{}<text:list-item><text:p>Two</text:p><text:list>{}</text:list></text:list-item></text:list>
<text:p>Between.</text:p>
<text:list text:style-name="L1" text:continue-numbering="true">{}</text:list>
<text:list text:style-name="L1">{}</text:list>
<text:list text:style-name="B">{}</text:list>"#,
            item("One"),
            item("sub"),
            item("Three"),
            item("Again one"),
            item("dot")
        );
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">{styles}<office:body><office:text>{body}</office:text></office:body></office:document-content>"#
        );
        let x = walk_parts(&content, "").unwrap();
        let paras: Vec<&str> = x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect();
        assert_eq!(
            paras,
            [
                "1. One",
                "2. Two",
                "  (a) sub",
                "Between.",
                "3. Three",
                "1. Again one",
                "dot"
            ]
        );
    }

    #[test]
    fn headings_take_the_numbers_of_the_outline_style() {
        let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>
<text:h text:outline-level="1">Rent</text:h><text:h text:outline-level="2">Late charge</text:h>
<text:h text:outline-level="2" text:is-list-header="true">Unnumbered</text:h>
<text:h text:outline-level="1">Default</text:h><text:h text:outline-level="3">Cure</text:h>
</office:text></office:body></office:document-content>"#;
        let styles = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:styles><text:outline-style style:name="Outline"><text:outline-level-style text:level="1" style:num-format="1" style:num-suffix="."/><text:outline-level-style text:level="2" style:num-format="1" text:display-levels="2"/><text:outline-level-style text:level="3" style:num-format=""/></text:outline-style></office:styles></office:document-styles>"#;
        let x = walk_parts(content, styles).unwrap();
        assert_eq!(
            x.text,
            "# 1. Rent\n\n## 1.1 Late charge\n\n## Unnumbered\n\n# 2. Default\n\n### Cure"
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
        "<text:list text:style-name=\"L1\">",
        "<text:list text:continue-numbering=\"true\" text:style-name=\"L1\">",
        "<text:list text:continue-list=\"x\" xml:id=\"x\">",
        "</text:list>",
        "<text:list-item>",
        "</text:list-item>",
        "<text:list-header>",
        "</text:list-header>",
        "<text:note text:note-class=\"endnote\">",
        "<text:list-style style:name=\"L1\">",
        "<text:list-level-style-number text:level=\"99\" text:display-levels=\"0\" style:num-format=\"i\"/>",
        "<text:list-level-style-number text:level=\"2\" text:display-levels=\"9\" text:start-value=\"4294967295\"/>",
        "<text:list-level-style-bullet text:level=\"1\"/>",
        "</text:list-style>",
        "<style:style style:name=\"P1\" style:family=\"paragraph\" style:parent-style-name=\"P1\"/>",
        "<text:p text:style-name=\"P1\">",
    ];

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_odt_content_walking_never_panics(
            parts in proptest::collection::vec(proptest::sample::select(TOKENS), 0..80),
            raw in ".{0,200}",
        ) {
            let xml = format!(
                "<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\"><office:body><office:text>{}</office:text></office:body></office:document-content>",
                parts.concat()
            );
            for doc in [xml, raw.clone()] {
                if let Ok(x) = walk_parts(&doc, &raw) {
                    for r in &x.paragraphs {
                        prop_assert!(r.start <= r.end && r.end <= x.text.len());
                        prop_assert!(x.text.is_char_boundary(r.start) && x.text.is_char_boundary(r.end));
                    }
                }
            }
            let _ = crate::ingest::package::dc_title(&raw);
        }
    }
}
