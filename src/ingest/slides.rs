//! Presentations: PowerPoint (`.pptx`, `.pptm`, shows `.ppsx`, `.ppsm` and templates `.potx`,
//! `.potm`; 97–2003 `.ppt`, `.pps`, `.pot`) and OpenDocument (`.odp`, templates `.otp`): board decks, closing presentations,
//! trial demonstratives, training on a policy.
//!
//! Each slide becomes a page and a section: a `# Slide 3: Its title` heading (`# Slide 3` for
//! a slide without a title, `(hidden)` after a hidden one: hidden slides are still the
//! document's, and review wants to find them), then one paragraph per paragraph of its text
//! boxes in the order the slide lists its shapes (grouped shapes included), a table's rows as
//! ` | ` lines as every reader writes them, the text of SmartArt diagrams (`.pptx`), and the
//! speaker notes last, the first note paragraph marked `Notes:`. A hit's page is therefore its
//! slide, and its breadcrumb the slide's title. Footers and headers (the same on every slide,
//! such as "Privileged & Confidential") are kept once, in a closing `# Headers and footers`
//! section; slide numbers, dates, the prompt text of layouts and masters, comments, charts and
//! pictures are left out.
//!
//! PowerPoint 97–2003 files (`.ppt`, `.pps`, `.pot`) are read by [`super::ppt`] into the same
//! slides. The title is the file's `dc:title` (`SummaryInformation` for `.ppt`), else the
//! first slide's title.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::doc::summary_title;
use super::msg::stream;
use super::package::{
    Nesting, OFFICE_NS, Package, Relationship, STYLE_NS, TABLE_NS, TEXT_NS, attr, dc_title, is_mc,
    ns_is, push_ref,
};
use super::ppt;
use super::types::{ExtractError, ExtractedText, Extractor};
use super::word::{Block, Builder, collapse, row_text};

/// The presentation extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlidesExtractor;

impl Extractor for SlidesExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_slides(bytes)
    }
}

fn corrupt(reason: String) -> ExtractError {
    ExtractError::Corrupt {
        kind: "presentation",
        reason,
    }
}

/// Extracts a presentation (see the module docs): OpenDocument when the package holds
/// `content.xml`, else PowerPoint.
pub fn extract_slides(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // A compound file: PowerPoint 97–2003, or an encrypted PowerPoint 2007+ file.
        let mut cfb = cfb::CompoundFile::open(std::io::Cursor::new(bytes))
            .map_err(|e| corrupt(format!("a damaged compound file ({e})")))?;
        if cfb.exists("/EncryptionInfo") || cfb.exists("/EncryptedPackage") {
            return Err(ExtractError::Encrypted {
                kind: "presentation",
            });
        }
        let deck = ppt::read_ppt(&mut cfb)?;
        let title = stream(&mut cfb, "/\u{5}SummaryInformation")
            .and_then(|b| summary_title(&b))
            .map(|t| collapse(&t))
            .filter(|t| !t.is_empty());
        return Ok(titled(&deck, title));
    }
    if !bytes.starts_with(b"PK") {
        return Err(corrupt(
            "not a presentation (neither a PowerPoint 97–2003 compound file nor a zip package)"
                .into(),
        ));
    }
    let mut pkg = Package::open(bytes, corrupt)?;
    let (deck, title) = if pkg.has("content.xml") {
        let xml = pkg.read("content.xml")?.unwrap_or_default();
        let mut deck = read_odp(&xml).map_err(|e| corrupt(format!("content.xml: {e}")))?;
        // The master pages' footers and headers (styles.xml); a nicety, as in the ODT reader.
        if let Ok(Some(xml)) = pkg.read("styles.xml")
            && let Ok(masters) = read_odp(&xml)
        {
            for r in masters.running {
                deck.add_running(r);
            }
        }
        (deck, pkg.read("meta.xml").ok().flatten())
    } else {
        let deck = read_pptx(&mut pkg)?;
        (deck, pkg.read("docProps/core.xml").ok().flatten())
    };
    Ok(titled(&deck, title.as_deref().and_then(dc_title)))
}

/// The deck's text, titled by the file's own title, else by its first slide's.
fn titled(deck: &Deck, title: Option<String>) -> ExtractedText {
    ExtractedText {
        title: title.or_else(|| deck.slides.iter().find_map(|s| s.title.clone())),
        ..build(deck)
    }
}

/// What a presentation says, slide by slide.
#[derive(Debug, Default)]
pub(super) struct Deck {
    /// The slides, in order.
    pub(super) slides: Vec<Slide>,
    /// Footer and header texts, each once, in the order first seen.
    pub(super) running: Vec<String>,
}

/// One slide's text.
#[derive(Debug, Default)]
pub(super) struct Slide {
    /// Its title (the title placeholder's text), if it has one.
    pub(super) title: Option<String>,
    /// Whether the slide show skips it.
    pub(super) hidden: bool,
    /// Its paragraphs and table rows, in shape order.
    pub(super) blocks: Vec<Block>,
    /// Its speaker notes' paragraphs.
    pub(super) notes: Vec<String>,
}

impl Deck {
    fn add_running(&mut self, text: String) {
        if !self.running.contains(&text) {
            self.running.push(text);
        }
    }
}

/// The text: a section and a page per slide, then the footers; none at all for a deck
/// without text (pictures only), which is then reported as empty.
fn build(deck: &Deck) -> ExtractedText {
    let no_text = deck
        .slides
        .iter()
        .all(|s| s.title.is_none() && s.blocks.is_empty() && s.notes.is_empty());
    if no_text && deck.running.is_empty() {
        return ExtractedText::default();
    }
    let mut b = Builder::default();
    let mut pages = Vec::with_capacity(deck.slides.len());
    for (i, slide) in deck.slides.iter().enumerate() {
        let mut heading = format!("Slide {}", i + 1);
        if let Some(t) = &slide.title {
            heading.push_str(": ");
            heading.push_str(t);
        }
        if slide.hidden {
            heading.push_str(" (hidden)");
        }
        let before = b.text.len();
        b.section(&heading);
        let start = before + b.text[before..].find('#').unwrap_or(0);
        for block in &slide.blocks {
            b.block(block);
        }
        for (n, note) in slide.notes.iter().enumerate() {
            let text = if n == 0 {
                format!("Notes: {note}")
            } else {
                note.clone()
            };
            b.block(&Block {
                text,
                table: None,
                note: 0,
            });
        }
        pages.push(start..b.text.len());
    }
    if !deck.running.is_empty() {
        b.section("Headers and footers");
        for text in &deck.running {
            b.block(&Block {
                text: text.clone(),
                table: None,
                note: 0,
            });
        }
    }
    ExtractedText {
        text: b.text,
        pages,
        ..ExtractedText::default()
    }
}

/// What a paragraph of a slide is, by the placeholder that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Title,
    Body,
    /// A footer or header: kept once for the whole deck.
    Running,
    /// A slide number, a date, a notes page's slide image: left out.
    Skip,
}

/// A table being read: the cells of its current row and the text of its current cell.
#[derive(Debug, Default)]
struct TableRow {
    id: usize,
    cells: Vec<String>,
    cell: Option<String>,
    /// The current cell continues a merged one (its text, if any, is a copy).
    merged: bool,
}

/// Collects the paragraphs of one slide (or notes page, or diagram) by role.
#[derive(Debug, Default)]
struct Collector {
    title: Vec<String>,
    blocks: Vec<Block>,
    running: Vec<String>,
    tables: usize,
    row: Option<TableRow>,
}

impl Collector {
    /// A finished paragraph, whitespace collapsed.
    fn paragraph(&mut self, role: Role, text: &str) {
        let text = collapse(text);
        if text.is_empty() || role == Role::Skip {
            return;
        }
        if let Some(row) = &mut self.row
            && let Some(cell) = &mut row.cell
        {
            if !row.merged {
                if !cell.is_empty() {
                    cell.push(' ');
                }
                cell.push_str(&text);
            }
            return;
        }
        match role {
            Role::Title => self.title.push(text),
            Role::Running => self.running.push(text),
            _ => self.blocks.push(Block {
                text,
                table: None,
                note: 0,
            }),
        }
    }

    fn start_table(&mut self) {
        self.tables += 1;
    }

    fn start_row(&mut self) {
        self.row = Some(TableRow {
            id: self.tables,
            ..TableRow::default()
        });
    }

    fn start_cell(&mut self, merged: bool) {
        if let Some(row) = &mut self.row {
            row.cell = Some(String::new());
            row.merged = merged;
        }
    }

    fn end_cell(&mut self) {
        if let Some(row) = &mut self.row
            && let Some(cell) = row.cell.take()
            && !row.merged
        {
            row.cells.push(cell);
        }
    }

    fn end_row(&mut self) {
        if let Some(row) = self.row.take()
            && let Some(text) = row_text(&row.cells)
        {
            self.blocks.push(Block {
                text,
                table: Some(row.id),
                note: 0,
            });
        }
    }

    fn title(&self) -> Option<String> {
        (!self.title.is_empty()).then(|| self.title.join(" "))
    }
}

/// The paragraphs of a notes page, in order (a notes page has no title of its own: text in
/// a title placeholder is note text too).
fn note_texts(notes: Collector) -> Vec<String> {
    notes
        .title
        .into_iter()
        .chain(notes.blocks.into_iter().map(|b| b.text))
        .collect()
}

// ---------------------------------------------------------------------------------------
// PowerPoint (Office Open XML)

const REL_SLIDE: &str = "/slide";
const REL_NOTES: &str = "/notesSlide";
const REL_DIAGRAM_DATA: &str = "/diagramData";

/// The slides of a `.pptx`, in the order the presentation lists them.
fn read_pptx(pkg: &mut Package<'_>) -> Result<Deck, ExtractError> {
    const DEFAULT: &str = "ppt/presentation.xml";
    let main = pkg
        .relationships("")
        .into_iter()
        .filter(|r| r.kind.ends_with("/officeDocument"))
        .find_map(|r| r.target)
        .filter(|t| pkg.has(t))
        .unwrap_or_else(|| DEFAULT.to_string());
    let not_slides = |pkg: &Package<'_>| {
        if pkg.has("word/document.xml") || pkg.has("xl/workbook.xml") {
            corrupt("a Word document or a workbook, not a presentation: rename it".into())
        } else {
            corrupt(format!(
                "no {main} in the archive (not a PowerPoint presentation)"
            ))
        }
    };
    let Some(xml) = pkg.read(&main)? else {
        return Err(not_slides(pkg));
    };
    let order = match slide_ids(&xml) {
        Ok(Some(order)) => order,
        Ok(None) => return Err(not_slides(pkg)),
        Err(e) => return Err(corrupt(format!("{main}: {e}"))),
    };
    let rels = pkg.relationships(&main);
    let mut parts: Vec<String> = order
        .iter()
        .filter_map(|id| target(&rels, id, REL_SLIDE))
        .collect();
    if parts.is_empty() {
        // No slide list (some generators leave it out): the slide relationships in the order
        // of their parts' numbers (slide2.xml before slide10.xml).
        parts = rels
            .iter()
            .filter(|r| r.kind.ends_with(REL_SLIDE))
            .filter_map(|r| r.target.clone())
            .collect();
        parts.sort_by_key(|p| {
            let digits: String = p.chars().filter(char::is_ascii_digit).collect();
            (digits.parse::<u64>().unwrap_or(u64::MAX), p.clone())
        });
    }
    let mut deck = Deck::default();
    for part in parts {
        let Some(xml) = pkg.read(&part)? else {
            continue;
        };
        let mut c = Collector::default();
        let hidden = read_drawing(&xml, &mut c).map_err(|e| corrupt(format!("{part}: {e}")))?;
        let slide_rels = pkg.relationships(&part);
        // SmartArt: the diagram's data part holds its text.
        for rel in slide_rels
            .iter()
            .filter(|r| r.kind.ends_with(REL_DIAGRAM_DATA))
        {
            if let Some(t) = &rel.target
                && let Some(xml) = pkg.read(t)?
            {
                // A damaged diagram loses its own text, not the slide's.
                let _ = read_drawing(&xml, &mut c);
            }
        }
        let mut notes = Collector::default();
        if let Some(t) = slide_rels
            .iter()
            .find(|r| r.kind.ends_with(REL_NOTES))
            .and_then(|r| r.target.clone())
            && let Some(xml) = pkg.read(&t)?
        {
            // Speaker notes are a nicety: damaged ones do not lose the slide.
            let _ = read_drawing(&xml, &mut notes);
        }
        for r in c.running.drain(..).chain(notes.running.drain(..)) {
            deck.add_running(r);
        }
        deck.slides.push(Slide {
            title: c.title(),
            hidden,
            blocks: c.blocks,
            notes: note_texts(notes),
        });
    }
    Ok(deck)
}

/// The target of relationship `id` if it is of the `kind` wanted.
fn target(rels: &[Relationship], id: &str, kind: &str) -> Option<String> {
    rels.iter()
        .find(|r| r.id == id && r.kind.ends_with(kind))
        .and_then(|r| r.target.clone())
}

/// The relationship ids of `p:sldIdLst`, in order (the `r:id` of each `p:sldId`; its own
/// `id` attribute is a number, not a relationship); `None` when the part is not a
/// `p:presentation`.
fn slide_ids(xml: &str) -> Result<Option<Vec<String>>, String> {
    let mut reader = NsReader::from_str(xml);
    let mut ids = Vec::new();
    let mut root = true;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) | Event::Empty(e) if root => {
                if e.local_name().as_ref() != "presentation" {
                    return Ok(None);
                }
                root = false;
            }
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "sldId" => {
                if let Some(id) = e.attributes().with_checks(false).flatten().find_map(|a| {
                    (a.key.prefix().is_some() && a.key.local_name().as_ref() == "id")
                        .then(|| a.value.to_string())
                }) {
                    ids.push(id);
                }
            }
            Event::Eof => return Ok((!root).then_some(ids)),
            _ => {}
        }
    }
}

/// The role of a placeholder type (`p:ph type=…`).
fn placeholder_role(ty: Option<&str>) -> Role {
    match ty {
        Some("title" | "ctrTitle") => Role::Title,
        Some("ftr" | "hdr") => Role::Running,
        Some("sldNum" | "dt" | "sldImg") => Role::Skip,
        _ => Role::Body,
    }
}

/// Reads the text of a slide, notes page or diagram data part (DrawingML paragraphs
/// `a:p` of runs `a:t`) into `c`; whether the slide is hidden (`show="0"`).
fn read_drawing(xml: &str, c: &mut Collector) -> Result<bool, String> {
    let mut reader = NsReader::from_str(xml);
    let mut hidden = false;
    // The role of each open shape (`p:sp`, `p:cxnSp`), from its placeholder.
    let mut shapes: Vec<(usize, Role)> = Vec::new();
    // Skipped: `mc:Fallback` (a copy of the choice before it), slide-number and date fields.
    let mut nest = Nesting::default();
    let mut para: Option<String> = None;
    let mut in_text = false;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => {
                nest.enter();
                if nest.skipping() {
                    continue;
                }
                let depth = nest.depth();
                let local = e.local_name();
                match local.as_ref() {
                    "sld" if depth == 1 => hidden = attr(&e, "show").as_deref() == Some("0"),
                    "Fallback" if is_mc(&ns) => nest.skip(),
                    // A placeholder mark written with content (an extension list) of its own.
                    "ph" => {
                        if let Some(s) = shapes.last_mut() {
                            s.1 = placeholder_role(attr(&e, "type").as_deref());
                        }
                    }
                    // Slide numbers and today's date, as fields: not the slide's text.
                    "fld"
                        if is_a(&ns)
                            && attr(&e, "type")
                                .is_some_and(|t| t == "slidenum" || t.starts_with("datetime")) =>
                    {
                        nest.skip()
                    }
                    "sp" | "cxnSp" => shapes.push((depth, Role::Body)),
                    "p" if is_a(&ns) => para = Some(String::new()),
                    "t" if is_a(&ns) => in_text = true,
                    // A line break inside the paragraph (it may hold its run properties).
                    "br" if is_a(&ns) => {
                        if let Some(p) = &mut para {
                            p.push(' ');
                        }
                    }
                    "tbl" if is_a(&ns) => c.start_table(),
                    "tr" if is_a(&ns) => c.start_row(),
                    "tc" if is_a(&ns) => c.start_cell(merged_cell(&e)),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                if nest.skipping() {
                    continue;
                }
                match e.local_name().as_ref() {
                    "ph" => {
                        if let Some(s) = shapes.last_mut() {
                            s.1 = placeholder_role(attr(&e, "type").as_deref());
                        }
                    }
                    "br" if is_a(&ns) => {
                        if let Some(p) = &mut para {
                            p.push(' ');
                        }
                    }
                    "tc" if is_a(&ns) => {
                        c.start_cell(merged_cell(&e));
                        c.end_cell();
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_text && !nest.skipping() => {
                if let Some(p) = &mut para {
                    p.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_text && !nest.skipping() => {
                if let Some(p) = &mut para {
                    push_ref(p, &r);
                }
            }
            Event::End(e) => {
                let Some(d) = nest.leave() else {
                    continue;
                };
                match e.local_name().as_ref() {
                    "sp" | "cxnSp" if shapes.last().is_some_and(|s| s.0 == d) => {
                        shapes.pop();
                    }
                    "p" if is_a(&ns) => {
                        if let Some(p) = para.take() {
                            let role = shapes.last().map_or(Role::Body, |s| s.1);
                            c.paragraph(role, &p);
                        }
                    }
                    "t" if is_a(&ns) => in_text = false,
                    "tc" if is_a(&ns) => c.end_cell(),
                    "tr" if is_a(&ns) => c.end_row(),
                    _ => {}
                }
            }
            Event::Eof => return Ok(hidden),
            _ => {}
        }
    }
}

/// Whether a table cell continues a merged one (`hMerge`, `vMerge`): its text is not shown.
fn merged_cell(e: &BytesStart<'_>) -> bool {
    ["hMerge", "vMerge"]
        .iter()
        .any(|a| matches!(attr(e, a).as_deref(), Some("1" | "true")))
}

/// DrawingML, transitional and strict.
const A_NS: [&str; 2] = [
    "http://schemas.openxmlformats.org/drawingml/2006/main",
    "http://purl.oclc.org/ooxml/drawingml/main",
];

/// DrawingML's namespace (`a:`), whose `p`, `t` and `tbl` are the text and tables.
fn is_a(ns: &ResolveResult<'_>) -> bool {
    A_NS.iter().any(|a| ns_is(ns, a))
}

// ---------------------------------------------------------------------------------------
// OpenDocument presentation

const DRAW_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0";
const PRESENTATION_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0";
const SVG_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0";

/// The role of an OpenDocument frame by its `presentation:class`.
fn class_role(class: Option<&str>) -> Role {
    match class {
        Some("title") => Role::Title,
        Some("footer" | "header") => Role::Running,
        Some("page-number" | "date-time" | "page") => Role::Skip,
        _ => Role::Body,
    }
}

/// An OpenDocument page being read.
#[derive(Debug, Default)]
struct OdpPage {
    slide: Collector,
    hidden: bool,
    notes: Collector,
}

/// Reads the pages (`draw:page`) of an `.odp`'s content.xml, their notes
/// (`presentation:notes`) and the deck's footer texts (`presentation:footer-decl`).
fn read_odp(xml: &str) -> Result<Deck, String> {
    let mut reader = NsReader::from_str(xml);
    let mut deck = Deck::default();
    // Drawing-page styles that hide their page (`presentation:visibility="hidden"`).
    let mut hidden_styles: Vec<String> = Vec::new();
    let mut style_name: Option<String> = None;
    let mut nest = Nesting::default();
    // The open page and its notes, with the role of each open frame.
    let mut page: Option<OdpPage> = None;
    let mut notes: Option<Collector> = None;
    let mut frames: Vec<(usize, Role)> = Vec::new();
    // Open paragraphs (a frame may sit inside a paragraph) and the footer declaration.
    let mut paras: Vec<String> = Vec::new();
    let mut decl: Option<String> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let (start, e) = match event {
            Event::Start(e) => {
                nest.enter();
                (true, Some(e))
            }
            Event::Empty(e) => (false, Some(e)),
            Event::Text(t) if !nest.skipping() => {
                let text = t.xml10_content();
                if let Some(p) = paras.last_mut() {
                    p.push_str(&text);
                } else if let Some(d) = &mut decl {
                    d.push_str(&text);
                }
                continue;
            }
            Event::GeneralRef(r) if !nest.skipping() => {
                if let Some(p) = paras.last_mut() {
                    push_ref(p, &r);
                } else if let Some(d) = &mut decl {
                    push_ref(d, &r);
                }
                continue;
            }
            Event::End(e) => {
                let Some(d) = nest.leave() else {
                    continue;
                };
                let local = e.local_name();
                let c = notes.as_mut().or(page.as_mut().map(|p| &mut p.slide));
                match local.as_ref() {
                    "p" | "h" if ns_is(&ns, TEXT_NS) => {
                        let text = paras.pop().unwrap_or_default();
                        if let Some(outer) = paras.last_mut() {
                            // A frame inside a paragraph: its text joins the paragraph.
                            outer.push(' ');
                            outer.push_str(&text);
                        } else if let Some(c) = c {
                            let role = frames.last().map_or(Role::Body, |f| f.1);
                            c.paragraph(role, &text);
                        }
                    }
                    "frame" | "custom-shape" | "rect" | "ellipse" | "polygon"
                        if ns_is(&ns, DRAW_NS) && frames.last().is_some_and(|f| f.0 == d) =>
                    {
                        frames.pop();
                    }
                    "table-cell" if ns_is(&ns, TABLE_NS) => {
                        if let Some(c) = c {
                            c.end_cell();
                        }
                    }
                    "table-row" if ns_is(&ns, TABLE_NS) => {
                        if let Some(c) = c {
                            c.end_row();
                        }
                    }
                    "notes" if ns_is(&ns, PRESENTATION_NS) => {
                        if let (Some(n), Some(p)) = (notes.take(), page.as_mut()) {
                            p.notes = n;
                        }
                    }
                    "page" if ns_is(&ns, DRAW_NS) => {
                        if let Some(p) = page.take() {
                            for r in p.slide.running.iter().chain(&p.notes.running) {
                                deck.add_running(r.clone());
                            }
                            deck.slides.push(Slide {
                                title: p.slide.title(),
                                hidden: p.hidden,
                                blocks: p.slide.blocks,
                                notes: note_texts(p.notes),
                            });
                        }
                    }
                    "master-page" if ns_is(&ns, STYLE_NS) => {
                        if let Some(p) = page.take() {
                            for r in p.slide.running.iter().chain(&p.notes.running) {
                                deck.add_running(r.clone());
                            }
                        }
                    }
                    "footer-decl" if ns_is(&ns, PRESENTATION_NS) => {
                        if let Some(d) = decl.take() {
                            let d = collapse(&d);
                            if !d.is_empty() {
                                deck.add_running(d);
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof => return Ok(deck),
            _ => continue,
        };
        let Some(e) = e else { continue };
        if nest.skipping() {
            continue;
        }
        let depth = nest.depth();
        let local = e.local_name();
        let in_page = page.is_some();
        let c = notes.as_mut().or(page.as_mut().map(|p| &mut p.slide));
        match (local.as_ref(), start) {
            ("style", _) if ns_is(&ns, STYLE_NS) => {
                style_name = (attr(&e, "family").as_deref() == Some("drawing-page"))
                    .then(|| attr(&e, "name"))
                    .flatten();
            }
            ("drawing-page-properties", _) if ns_is(&ns, STYLE_NS) => {
                if attr(&e, "visibility").as_deref() == Some("hidden")
                    && let Some(name) = style_name.clone()
                {
                    hidden_styles.push(name);
                }
            }
            // A master page (styles.xml) is read as a page whose footers alone are kept.
            ("master-page", true) if ns_is(&ns, STYLE_NS) => page = Some(OdpPage::default()),
            ("page", true) if ns_is(&ns, DRAW_NS) => {
                let hidden = attr(&e, "style-name").is_some_and(|s| hidden_styles.contains(&s));
                page = Some(OdpPage {
                    hidden,
                    ..OdpPage::default()
                });
            }
            ("notes", true) if ns_is(&ns, PRESENTATION_NS) && in_page => {
                notes = Some(Collector::default());
            }
            ("footer-decl" | "header-decl", true) if ns_is(&ns, PRESENTATION_NS) => {
                decl = Some(String::new());
            }
            ("frame" | "custom-shape" | "rect" | "ellipse" | "polygon", true)
                if ns_is(&ns, DRAW_NS) =>
            {
                frames.push((depth, class_role(attr(&e, "class").as_deref())));
            }
            ("p" | "h", true) if ns_is(&ns, TEXT_NS) => paras.push(String::new()),
            ("s", _) if ns_is(&ns, TEXT_NS) => {
                if let Some(p) = paras.last_mut() {
                    let n = attr(&e, "c").and_then(|c| c.parse().ok()).unwrap_or(1usize);
                    p.push_str(&" ".repeat(n.min(64)));
                }
            }
            ("tab" | "line-break", _) if ns_is(&ns, TEXT_NS) => {
                if let Some(p) = paras.last_mut() {
                    p.push(' ');
                }
            }
            ("table", true) if ns_is(&ns, TABLE_NS) => {
                if let Some(c) = c {
                    c.start_table();
                }
            }
            ("table-row", true) if ns_is(&ns, TABLE_NS) => {
                if let Some(c) = c {
                    c.start_row();
                }
            }
            ("table-cell", true) if ns_is(&ns, TABLE_NS) => {
                if let Some(c) = c {
                    c.start_cell(false);
                }
            }
            ("table-cell", false) if ns_is(&ns, TABLE_NS) => {
                if let Some(c) = c {
                    c.start_cell(false);
                    c.end_cell();
                }
            }
            // Alternative text, comments (`office:annotation`, and OpenOffice's own
            // `officeooo:annotation`), scripts, and slide-number and date fields are not the
            // slide's text.
            ("title" | "desc", true) if ns_is(&ns, SVG_NS) => nest.skip(),
            ("annotation", true) => nest.skip(),
            ("scripts" | "event-listeners", true) if ns_is(&ns, OFFICE_NS) => nest.skip(),
            ("page-number", true) if ns_is(&ns, TEXT_NS) => nest.skip(),
            ("date-time", true) if ns_is(&ns, PRESENTATION_NS) => nest.skip(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::zip;
    use proptest::prelude::*;

    fn fixture(name: &str) -> Vec<u8> {
        crate::ingest::fixtures::committed("slides", name)
    }

    /// The text of tests/fixtures/slides/board-deck.pptx (python-pptx on PowerPoint's
    /// default template) and of LibreOffice's conversion of it to `.odp`.
    const DECK: &str = "# Slide 1: Project Falcon\n\n\
        Board briefing on the Agreement and Plan of Merger, 4 March 2021\n\n\
        # Slide 2: Key Terms of the Merger\n\n\
        Cash consideration of $42.50 per share\n\n\
        Termination fee of 3.5% payable on a superior proposal\n\n\
        Outside date twelve months after signing\n\n\
        Condition | Owner | Status\nHSR clearance | Antitrust counsel | Filed\n\n\
        Signing targeted for Q2\n\n\
        Notes: Stress that the fee is within the customary range for a deal of this size.\n\n\
        Do not discuss the fairness opinion until the bankers join.\n\n\
        # Slide 3: Appraisal Rights Exposure (hidden)\n\n\
        Dissenting holders may seek appraisal under Section 262 of the DGCL.";

    #[test]
    fn a_deck_reads_the_same_as_pptx_and_odp_with_a_page_per_slide() {
        for name in ["board-deck.pptx", "board-deck.odp"] {
            let x = extract_slides(&fixture(name)).unwrap();
            assert_eq!(x.text, DECK, "{name}");
            assert_eq!(
                x.title.as_deref(),
                Some("Project Falcon: Board Briefing on the Merger Agreement"),
                "{name}"
            );
            // Each page is its slide: from its heading to its last paragraph (notes included).
            let pages: Vec<&str> = x.pages.iter().map(|r| &x.text[r.clone()]).collect();
            assert_eq!(pages.len(), 3, "{name}");
            assert!(
                pages[0].starts_with("# Slide 1: Project Falcon\n"),
                "{name}"
            );
            assert!(pages[1].starts_with("# Slide 2:"), "{name}");
            assert!(pages[1].ends_with("until the bankers join."), "{name}");
            assert!(pages[2].ends_with("of the DGCL."), "{name}");
        }
    }

    #[test]
    fn a_powerpoint_97_deck_reads_as_its_pptx() {
        // LibreOffice's `.ppt` of the fixture: its table is a group of cell shapes, put back
        // into rows by their anchors.
        let x = extract_slides(&fixture("board-deck.ppt")).unwrap();
        assert_eq!(x.text, DECK);
        assert_eq!(
            x.title.as_deref(),
            Some("Project Falcon: Board Briefing on the Merger Agreement")
        );
        assert_eq!(x.pages.len(), 3);
    }

    const P_NS: &str = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

    /// A shape (`p:sp`) with a placeholder of `ph` type (none: a text box) and paragraphs.
    fn shape(ph: Option<&str>, paras: &[&str]) -> String {
        let ph = ph.map_or(String::new(), |t| format!(r#"<p:ph type="{t}"/>"#));
        let paras: String = paras
            .iter()
            .map(|p| format!("<a:p><a:r><a:t>{p}</a:t></a:r></a:p>"))
            .collect();
        format!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="2" name="s"/><p:cNvSpPr/><p:nvPr>{ph}</p:nvPr></p:nvSpPr><p:txBody><a:bodyPr/>{paras}</p:txBody></p:sp>"#
        )
    }

    fn slide(attrs: &str, shapes: &str) -> String {
        format!(r#"<p:sld {P_NS}{attrs}><p:cSld><p:spTree>{shapes}</p:spTree></p:cSld></p:sld>"#)
    }

    /// A `.pptx` of the given slides (each with an optional notes page) and extra parts.
    fn pptx(slides: &[(String, Option<String>)], extra: &[(&str, &str)]) -> Vec<u8> {
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let rels = |body: String| {
            format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>"#
            )
        };
        let mut entries = vec![(
            "_rels/.rels".to_string(),
            rels(format!(
                r#"<Relationship Id="rId1" Type="{REL}/officeDocument" Target="ppt/presentation.xml"/>"#
            )),
        )];
        // Listed in reverse in the relationships, so that order comes from sldIdLst.
        let mut list = String::new();
        let mut pres_rels = String::new();
        for (i, (xml, notes)) in slides.iter().enumerate() {
            let n = i + 1;
            list.push_str(&format!(
                r#"<p:sldId id="{}" r:id="rId{}"/>"#,
                255 + n,
                10 + n
            ));
            pres_rels.insert_str(
                0,
                &format!(
                    r#"<Relationship Id="rId{}" Type="{REL}/slide" Target="slides/slide{n}.xml"/>"#,
                    10 + n
                ),
            );
            entries.push((format!("ppt/slides/slide{n}.xml"), xml.clone()));
            if let Some(notes) = notes {
                entries.push((
                    format!("ppt/slides/_rels/slide{n}.xml.rels"),
                    rels(format!(
                        r#"<Relationship Id="rId2" Type="{REL}/notesSlide" Target="../notesSlides/notesSlide{n}.xml"/>"#
                    )),
                ));
                entries.push((format!("ppt/notesSlides/notesSlide{n}.xml"), notes.clone()));
            }
        }
        entries.push((
            "ppt/presentation.xml".into(),
            format!(r#"<p:presentation {P_NS}><p:sldIdLst>{list}</p:sldIdLst></p:presentation>"#),
        ));
        entries.push(("ppt/_rels/presentation.xml.rels".into(), rels(pres_rels)));
        for (name, body) in extra {
            entries.push((name.to_string(), body.to_string()));
        }
        zip(&entries)
    }

    #[test]
    fn placeholders_give_the_heading_footers_once_and_no_slide_numbers_or_dates() {
        let footer = shape(Some("ftr"), &["Privileged &amp; Confidential"]);
        let one = slide(
            "",
            &[
                shape(Some("ctrTitle"), &["Deal", "Structure"]),
                shape(Some("sldNum"), &["1"]),
                shape(Some("dt"), &["12/4/2026"]),
                // A placeholder mark with content of its own.
                r#"<p:sp><p:nvSpPr><p:nvPr><p:ph type="sldNum"><p:extLst/></p:ph></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>7</a:t></a:r></a:p></p:txBody></p:sp>"#.into(),
                footer.clone(),
                shape(None, &["Buyer acquires 100% of the shares"]),
            ]
            .concat(),
        );
        let two = slide(
            r#" show="0""#,
            &[
                footer.clone(),
                // A text box's slide-number field, and a line break in a paragraph.
                r#"<p:sp><p:txBody><a:p><a:r><a:t>Page </a:t></a:r><a:fld id="{1}" type="slidenum"><a:t>2</a:t></a:fld></a:p><a:p><a:r><a:t>Escrow of</a:t></a:r><a:br><a:rPr/></a:br><a:r><a:t>10%</a:t></a:r></a:p></p:txBody></p:sp>"#.into(),
            ]
            .concat(),
        );
        let notes = slide(
            "",
            &[
                shape(Some("sldImg"), &[]),
                shape(Some("body"), &["Mention the escrow.", "Then the cap."]),
                shape(Some("sldNum"), &["2"]),
            ]
            .concat(),
        );
        let x = extract_slides(&pptx(&[(one, None), (two, Some(notes))], &[])).unwrap();
        assert_eq!(
            x.text,
            "# Slide 1: Deal Structure\n\nBuyer acquires 100% of the shares\n\n\
             # Slide 2 (hidden)\n\nPage\n\nEscrow of 10%\n\n\
             Notes: Mention the escrow.\n\nThen the cap.\n\n\
             # Headers and footers\n\nPrivileged & Confidential"
        );
        // Without a dc:title, the first slide's title names the deck.
        assert_eq!(x.title.as_deref(), Some("Deal Structure"));
        assert_eq!(x.pages.len(), 2);
    }

    #[test]
    fn tables_groups_and_alternate_content_are_read_once_and_merged_cells_are_left_out() {
        let table = r#"<p:graphicFrame><a:graphic><a:graphicData><a:tbl>
            <a:tr><a:tc gridSpan="2"><a:txBody><a:p><a:r><a:t>Closing deliverables</a:t></a:r></a:p></a:txBody></a:tc><a:tc hMerge="1"><a:txBody><a:p><a:r><a:t>Closing deliverables</a:t></a:r></a:p></a:txBody></a:tc></a:tr>
            <a:tr><a:tc><a:txBody><a:p><a:r><a:t>Officer's certificate</a:t></a:r></a:p><a:p><a:r><a:t>(signed)</a:t></a:r></a:p></a:txBody></a:tc><a:tc/></a:tr>
            <a:tr><a:tc/><a:tc><a:txBody><a:p><a:r><a:t>Seller</a:t></a:r></a:p></a:txBody></a:tc></a:tr>
            </a:tbl></a:graphicData></a:graphic></p:graphicFrame>"#;
        let group = format!("<p:grpSp>{}</p:grpSp>", shape(None, &["In a group"]));
        let alternate = format!(
            "<mc:AlternateContent><mc:Choice Requires=\"p14\">{}</mc:Choice><mc:Fallback>{}</mc:Fallback></mc:AlternateContent>",
            shape(None, &["Chosen"]),
            shape(None, &["Chosen"])
        );
        let one = slide("", &[table.to_string(), group, alternate].concat());
        let x = extract_slides(&pptx(&[(one, None)], &[])).unwrap();
        assert_eq!(
            x.text,
            "# Slide 1\n\nClosing deliverables\nOfficer's certificate (signed)\n | Seller\n\n\
             In a group\n\nChosen"
        );
    }

    #[test]
    fn strict_drawingml_and_a_deck_without_a_slide_list_are_read_in_slide_order() {
        const REL: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships";
        let strict = |title: &str| {
            format!(
                r#"<p:sld xmlns:a="http://purl.oclc.org/ooxml/drawingml/main" xmlns:p="http://purl.oclc.org/ooxml/presentationml/main"><p:cSld><p:spTree><p:sp><p:nvSpPr><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>{title}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
            )
        };
        let rels = |body: &str| {
            format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>"#
            )
        };
        let bytes = zip(&[
            (
                "_rels/.rels".into(),
                rels(&format!(
                    r#"<Relationship Id="r1" Type="{REL}/officeDocument" Target="/ppt/presentation.xml"/>"#
                )),
            ),
            (
                "ppt/presentation.xml".into(),
                r#"<p:presentation xmlns:p="http://purl.oclc.org/ooxml/presentationml/main"/>"#
                    .into(),
            ),
            (
                "ppt/_rels/presentation.xml.rels".into(),
                rels(&format!(
                    r#"<Relationship Id="r10" Type="{REL}/slide" Target="slides/slide10.xml"/><Relationship Id="r2" Type="{REL}/slide" Target="slides/slide2.xml"/>"#
                )),
            ),
            ("ppt/slides/slide10.xml".into(), strict("Later")),
            ("ppt/slides/slide2.xml".into(), strict("Earlier")),
        ]);
        let x = extract_slides(&bytes).unwrap();
        assert_eq!(x.text, "# Slide 1: Earlier\n\n# Slide 2: Later");
    }

    #[test]
    fn smartart_diagram_text_follows_the_slide_text() {
        const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let one = slide("", &shape(Some("title"), &["Deal steps"]));
        let data = r#"<dgm:dataModel xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><dgm:ptLst><dgm:pt modelId="1"><dgm:t><a:p><a:r><a:t>Signing</a:t></a:r></a:p></dgm:t></dgm:pt><dgm:pt modelId="2"><dgm:t><a:p><a:r><a:t>Regulatory approvals</a:t></a:r></a:p></dgm:t></dgm:pt></dgm:ptLst></dgm:dataModel>"#;
        let rels = format!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="{REL}/diagramData" Target="../diagrams/data1.xml"/></Relationships>"#
        );
        let bytes = pptx(
            &[(one, None)],
            &[
                ("ppt/slides/_rels/slide1.xml.rels", &rels),
                ("ppt/diagrams/data1.xml", data),
            ],
        );
        let x = extract_slides(&bytes).unwrap();
        assert_eq!(
            x.text,
            "# Slide 1: Deal steps\n\nSigning\n\nRegulatory approvals"
        );
    }

    const ODP_NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:officeooo="http://openoffice.org/2009/office" xmlns:dc="http://purl.org/dc/elements/1.1/""#;

    #[test]
    fn odp_pages_give_hidden_marks_declared_and_master_footers_and_leave_out_comments() {
        let content = format!(
            r#"<office:document-content {ODP_NS}><office:automatic-styles>
            <style:style style:name="dp9" style:family="drawing-page"><style:drawing-page-properties presentation:visibility="hidden"/></style:style>
            </office:automatic-styles><office:body><office:presentation>
            <presentation:footer-decl presentation:name="f1">Draft &#x2014; subject to FRE 408</presentation:footer-decl>
            <draw:page draw:name="p1" draw:style-name="dp9">
              <draw:frame presentation:class="title"><draw:text-box><text:p>Settlement<text:line-break/>Proposal</text:p></draw:text-box></draw:frame>
              <draw:frame presentation:class="outline"><draw:text-box><text:list><text:list-item><text:p>Pay<text:s text:c="3"/>$2.4M <text:span>within 30 days</text:span></text:p></text:list-item></text:list></draw:text-box></draw:frame>
              <draw:frame presentation:class="page-number"><draw:text-box><text:p><text:page-number>1</text:page-number></text:p></draw:text-box></draw:frame>
              <draw:frame><draw:text-box><text:p>Slide <text:page-number>1</text:page-number> of the deck</text:p></draw:text-box><svg:title>Alt text</svg:title></draw:frame>
              <officeooo:annotation><dc:creator>A. Lee</dc:creator><text:p>Check the amount</text:p></officeooo:annotation>
              <presentation:notes><draw:page-thumbnail presentation:class="page"/><draw:frame presentation:class="notes"><draw:text-box><text:p>Authority up to $3M.</text:p></draw:text-box></draw:frame></presentation:notes>
            </draw:page>
            </office:presentation></office:body></office:document-content>"#
        );
        let styles = format!(
            r#"<office:document-styles {ODP_NS}><office:master-styles><style:master-page style:name="Default">
            <draw:frame presentation:class="title" presentation:placeholder="true"><draw:text-box/></draw:frame>
            <draw:frame presentation:class="footer"><draw:text-box><text:p>Mediation privileged</text:p></draw:text-box></draw:frame>
            <draw:frame presentation:class="date-time"><draw:text-box><text:p><presentation:date-time/></text:p></draw:text-box></draw:frame>
            </style:master-page></office:master-styles></office:document-styles>"#
        );
        let bytes = zip(&[
            ("content.xml".into(), content),
            ("styles.xml".into(), styles),
        ]);
        let x = extract_slides(&bytes).unwrap();
        assert_eq!(
            x.text,
            "# Slide 1: Settlement Proposal (hidden)\n\nPay $2.4M within 30 days\n\n\
             Slide of the deck\n\nNotes: Authority up to $3M.\n\n\
             # Headers and footers\n\nDraft \u{2014} subject to FRE 408\n\nMediation privileged"
        );
    }

    #[test]
    fn files_that_are_not_readable_presentations_are_refused_with_the_reason() {
        let reason = |bytes: &[u8]| extract_slides(bytes).unwrap_err().to_string();
        assert!(reason(b"not a zip").contains("not a presentation"));
        assert!(reason(b"PK\x03\x04 cut short").contains("not a zip archive"));
        // An encrypted PowerPoint file is a compound file with an EncryptedPackage stream.
        let mut c = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        c.create_stream("/EncryptionInfo").unwrap();
        c.create_stream("/EncryptedPackage").unwrap();
        c.flush().unwrap();
        let encrypted = c.into_inner().into_inner();
        assert!(reason(&encrypted).contains("encrypted presentation"));
        // A compound file without PowerPoint's streams (PowerPoint 4.0 has no Current User).
        let mut c = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        c.create_stream("/PowerPoint Document").unwrap();
        c.flush().unwrap();
        assert!(reason(&c.into_inner().into_inner()).contains("PowerPoint 4.0 or older"));
        // A Word document renamed .pptx.
        let docx = crate::ingest::fixtures::docx(
            &crate::ingest::fixtures::document_xml(&crate::ingest::fixtures::p("Text")),
            &[],
        );
        assert!(
            reason(&docx).contains("not a presentation"),
            "{}",
            reason(&docx)
        );
        // A deck of pictures only has no text.
        let pictures = pptx(&[(slide("", ""), None), (slide("", ""), None)], &[]);
        // (the indexer reports an empty text as "no text").
        assert_eq!(extract_slides(&pictures).unwrap().text, "");
    }

    /// The parts of the `.pptx` fixture, to damage one and zip them again.
    fn fixture_parts() -> Vec<(String, String)> {
        use std::io::Read;
        let bytes = fixture("board-deck.pptx");
        let mut z = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        (0..z.len())
            .filter_map(|i| {
                let mut f = z.by_index(i).unwrap();
                let mut s = String::new();
                f.read_to_string(&mut s).ok()?;
                Some((f.name().ok()?.to_string(), s))
            })
            .collect()
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        /// Damaged XML in any part of a presentation (characters of XML's own syntax put
        /// anywhere, the part cut short) gives text or an error, never a panic; and its pages
        /// lie inside the text.
        #[test]
        fn fuzz_damaged_presentation_parts_are_read_or_refused_without_a_panic(
            part in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec!["<", ">", "/", "\"", "=", "&", "<a:p>", "</a:t>", "<p:sp>", "</p:sp>", "<a:tr>", "<a:tc>", "x"])), 1..8),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut parts = fixture_parts();
            let i = part.index(parts.len());
            let text = &mut parts[i].1;
            for (at, s) in edits {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, s);
            }
            if truncate {
                let mut at = cut.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.truncate(at);
            }
            if let Ok(x) = extract_slides(&zip(&parts)) {
                for r in &x.pages {
                    prop_assert!(r.start <= r.end && r.end <= x.text.len());
                }
            }
        }
    }
}
