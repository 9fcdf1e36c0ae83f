//! WordPerfect documents (`.wpd`, `.wp`, `.wp5`, `.wp6`, `.wpt`): WordPerfect 5.x for DOS and
//! Windows, and WordPerfect 6 to the current WordPerfect Office, which all write the format of
//! 6.0 (with the same `WPC` header). Law firms, courts and agencies wrote decades of briefs,
//! pleadings, contracts and opinions in it, and some still do.
//!
//! A WordPerfect file is a 16-byte header (`FF 'W' 'P' 'C'`, where the text starts, the file
//! type, the version, whether it is encrypted), a prefix (WordPerfect 6: an index of packets
//! holding the text of notes, headers and text boxes and the document summary), then the
//! text: characters interleaved with function codes. This reader follows those codes:
//!
//! - characters: ASCII as itself, and extended characters (`F0 code set F0` in 6, `C0 code set
//!   C0` in 5) through WordPerfect's character sets (module `wpd_charsets`, generated from
//!   LibreOffice's import by `scripts/make-wp-charsets`): `§`, `¶`, typographic quotes and
//!   dashes, accented letters, Greek, Cyrillic, Hebrew, …;
//! - hard returns end paragraphs (so do hard page and column breaks), soft returns and soft
//!   spaces are spaces, soft hyphens vanish (the word joins), hard hyphens and spaces stay;
//! - tables (row and cell codes) become rows of cells joined by ` | `, as in every reader;
//! - footnotes and endnotes: `[1]` and `[i]` in the text, their text under `# Footnotes` and
//!   `# Endnotes` after the body; page headers and footers under `# Headers and footers`
//!   (each kept once); text boxes after the paragraph that anchors them;
//! - text an edit removed but WordPerfect keeps for undo is left out, as are comments and
//!   watermarks;
//! - the title is the document summary's descriptive name (WordPerfect 6).
//!
//! WordPerfect has no heading styles a reader can rely on (outline levels are numbers typed
//! into the text, kept as text), so sections come from the text's own structure (`ARTICLE
//! 1`, `§ 2.1`), as for plain text.
//!
//! Refused with a reason: encrypted documents ([`ExtractError::Encrypted`]), WordPerfect for
//! Macintosh and other WordPerfect files that are not documents ([`ExtractError::Unsupported`]),
//! and files without the header (WordPerfect 4.2 and earlier have none).

use std::collections::HashMap;

use super::types::{ExtractError, ExtractedText, Extractor, u16_at, u32_at};
use super::word::{Block, Builder, collapse, roman, row_text};
use super::wpd_charsets::{WP5, WP6};

/// The WordPerfect extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct WpdExtractor;

impl Extractor for WpdExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_wpd(bytes)
    }
}

/// The header's signature.
const MAGIC: &[u8; 4] = b"\xffWPC";

/// Whether `bytes` start as a WordPerfect 5 or later file does.
pub fn is_wordperfect(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

fn corrupt(what: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt {
        kind: "wpd",
        reason: what.to_string(),
    }
}

fn unsupported(what: impl std::fmt::Display) -> ExtractError {
    ExtractError::Unsupported {
        kind: "wpd",
        reason: what.to_string(),
    }
}

/// The two layouts of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Version {
    /// WordPerfect 5.0 and 5.1 (major version 0).
    Five,
    /// WordPerfect 6.0 and later (major version 2).
    #[default]
    Six,
}

/// Extracts a WordPerfect document (see the module docs).
pub fn extract_wpd(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    if !is_wordperfect(bytes) {
        return Err(corrupt(
            "not a WordPerfect 5 or later document (no WPC header); WordPerfect 4.2 and older \
             files are not read: open it in WordPerfect and save it as .wpd or .docx",
        ));
    }
    if bytes.len() < 16 {
        return Err(corrupt("the header is cut short"));
    }
    let (file_type, major, minor) = (bytes[9], bytes[10], bytes[11]);
    match file_type {
        0x0A => {}
        0x2C => {
            return Err(unsupported(
                "a WordPerfect for Macintosh document; open it in WordPerfect and save it as \
                 .wpd or .docx",
            ));
        }
        other => {
            return Err(unsupported(format!(
                "a WordPerfect file that is not a document (file type {other}: a macro, \
                 graphic, form or settings file)"
            )));
        }
    }
    let version = match major {
        0 => Version::Five,
        2 => Version::Six,
        _ => {
            return Err(unsupported(format!(
                "WordPerfect format {major}.{minor}, not one this reader knows; open it in \
                 WordPerfect and save it as .wpd or .docx"
            )));
        }
    };
    if u16_at(bytes, 12).unwrap_or(0) != 0 {
        return Err(ExtractError::Encrypted { kind: "wpd" });
    }
    let start = u32_at(bytes, 4).map_or(usize::MAX, |s| s as usize);
    let text = bytes
        .get(start..)
        .ok_or_else(|| corrupt("the header says the text starts past the end of the file"))?;
    let packets = match version {
        Version::Six => packets(bytes),
        Version::Five => HashMap::new(),
    };
    let title = packets
        .values()
        .find(|p| p.kind == SUMMARY_PACKET)
        .and_then(|p| summary_title(p.data));
    let mut doc = Doc {
        version,
        packets,
        ..Doc::default()
    };
    let body = doc.story(text);
    let mut b = Builder::default();
    for block in &body {
        b.block(block);
    }
    let mut seen = std::collections::HashSet::new();
    let running: Vec<Block> = std::mem::take(&mut doc.running)
        .into_iter()
        .filter(|r| seen.insert(r.text.clone()))
        .collect();
    for (heading, blocks) in [
        ("Footnotes", std::mem::take(&mut doc.footnotes)),
        ("Endnotes", std::mem::take(&mut doc.endnotes)),
        ("Headers and footers", running),
    ] {
        if blocks.is_empty() {
            continue;
        }
        b.section(heading);
        for block in &blocks {
            b.block(block);
        }
    }
    Ok(ExtractedText {
        text: b.text,
        paragraphs: b.paragraphs,
        title: title.filter(|t| !t.is_empty()),
        ..ExtractedText::default()
    })
}

/// Prefix packet types (WordPerfect 6) this reader uses.
const TEXT_PACKET: u8 = 0x08;
const SUMMARY_PACKET: u8 = 0x12;

/// A WordPerfect 6 prefix packet: its type and data.
#[derive(Debug, Clone, Copy)]
struct Packet<'a> {
    kind: u8,
    data: &'a [u8],
}

/// The prefix packets by id (1, 2, … in index order), from the index the header points to:
/// a 14-byte index header with the number of entries (itself included), then 14-byte entries
/// (flags, type, use and hide counts, data size, data offset). Entries whose data lies
/// outside the file are left out.
fn packets(bytes: &[u8]) -> HashMap<u16, Packet<'_>> {
    let mut out = HashMap::new();
    let at = usize::from(u16_at(bytes, 14).unwrap_or(16)).max(16);
    let n = u16_at(bytes, at + 2).unwrap_or(0);
    for id in 1..n {
        let entry = at + 14 * usize::from(id);
        let (Some(&kind), Some(size), Some(offset)) = (
            bytes.get(entry + 1),
            u32_at(bytes, entry + 6),
            u32_at(bytes, entry + 10),
        ) else {
            break;
        };
        let (offset, size) = (offset as usize, size as usize);
        if let Some(data) = offset
            .checked_add(size)
            .and_then(|end| bytes.get(offset..end))
        {
            out.insert(id, Packet { kind, data });
        }
    }
    out
}

/// The text of a "general text" packet: a count of blocks, 4 bytes, each block's size, then
/// the blocks, which together are the text (a note's, a header's, a text box's).
fn packet_text(data: &[u8]) -> Vec<u8> {
    let n = usize::from(u16_at(data, 0).unwrap_or(0));
    let mut at = 6 + 4 * n;
    let mut out = Vec::new();
    for i in 0..n {
        let Some(size) = u32_at(data, 6 + 4 * i) else {
            break;
        };
        let end = at.saturating_add(size as usize).min(data.len());
        out.extend_from_slice(data.get(at..end).unwrap_or_default());
        at = end;
    }
    out
}

/// The descriptive name in the extended document summary: groups of (length, tag, 2 bytes,
/// the field's name, the value), names and values as 16-bit WordPerfect characters ending in
/// 0; tag 17 is the descriptive name.
fn summary_title(data: &[u8]) -> Option<String> {
    let mut at = 0usize;
    while let Some(len) = u16_at(data, at) {
        let len = usize::from(len);
        if len == 0 {
            break;
        }
        let end = (at + len).min(data.len());
        let group = &data[at..end];
        if u16_at(group, 2) == Some(17) {
            let mut words = (6..group.len()).step_by(2).filter_map(|i| u16_at(group, i));
            // Skip the field's name, then read the value.
            words.by_ref().take_while(|&w| w != 0).for_each(drop);
            let mut title = String::new();
            for w in words.take_while(|&w| w != 0) {
                let [code, set] = w.to_le_bytes();
                push_char(&mut title, WP6.as_slice(), set, code);
            }
            return Some(collapse(&title));
        }
        at += len;
    }
    None
}

/// Appends WordPerfect character `code` of `set` (0 is ASCII); a code the set lacks reads as
/// a space, as in LibreOffice.
fn push_char(out: &mut String, sets: &[&[&str]], set: u8, code: u8) {
    if set == 0 {
        if (0x20..0x7F).contains(&code) {
            out.push(char::from(code));
        } else {
            out.push(' ');
        }
        return;
    }
    match sets
        .get(usize::from(set) - 1)
        .and_then(|s| s.get(usize::from(code)))
    {
        Some(s) if !s.is_empty() => out.push_str(s),
        _ => out.push(' '),
    }
}

/// WordPerfect 6's one-byte characters 0x01–0x20: accented letters (WordPerfect writes
/// extended characters for everything else).
const INTERNATIONAL: [char; 32] = [
    'å', 'Å', 'æ', 'Æ', 'ä', 'Ä', 'á', 'à', 'â', 'ã', 'Ã', 'ç', 'Ç', 'ë', 'é', 'É', 'è', 'ê', 'í',
    'ñ', 'Ñ', 'ø', 'Ø', 'õ', 'Õ', 'ö', 'Ö', 'ü', 'Ü', 'ú', 'ù', 'ß',
];

/// Sizes of WordPerfect 6's fixed-length functions 0xF0–0xFE (the code, its data, the code
/// again).
const FIXED6: [usize; 15] = [4, 5, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 8, 8];

/// Sizes of WordPerfect 5's fixed-length functions 0xC0–0xCF.
const FIXED5: [usize; 16] = [4, 9, 11, 3, 3, 5, 6, 7, 4, 5, 6, 6, 8, 10, 10, 12];

/// How deep notes, headers and text boxes may nest (a damaged file could loop).
const MAX_DEPTH: u8 = 4;

/// The whole document: what the text refers to, and the parts that follow the body.
#[derive(Debug, Default)]
struct Doc<'a> {
    version: Version,
    packets: HashMap<u16, Packet<'a>>,
    footnotes: Vec<Block>,
    endnotes: Vec<Block>,
    running: Vec<Block>,
    /// Table numbers handed out (rows of one table join; tables of notes differ from the
    /// body's).
    tables: usize,
    depth: u8,
}

/// A note whose reference is being read (WordPerfect 6: between a note's on and off codes
/// stands its number as displayed, replaced by ours).
#[derive(Debug, Clone, Copy)]
struct OpenNote {
    endnote: bool,
    packet: Option<u16>,
}

/// One text being read (the body, a note, a header): finished blocks and what is open.
#[derive(Debug, Default)]
struct Story {
    blocks: Vec<Block>,
    para: String,
    /// The table being read: its number, the cells of the current row, the open cell.
    table: Option<(usize, Vec<String>, Option<String>)>,
    /// Inside text an edit removed (kept for undo): nothing is read.
    removed: bool,
    /// Inside a style's closing codes or a note's number style: characters are not text.
    hidden: bool,
    note: Option<OpenNote>,
    /// Text boxes anchored in the current paragraph: they follow it.
    boxes: Vec<Block>,
}

impl Story {
    fn push(&mut self, s: &str) {
        if self.removed || self.hidden || self.note.is_some() {
            return;
        }
        match &mut self.table {
            Some((_, _, cell)) => cell.get_or_insert_with(String::new).push_str(s),
            None => self.para.push_str(s),
        }
    }

    fn push_code(&mut self, sets: &[&[&str]], set: u8, code: u8) {
        let mut s = String::new();
        push_char(&mut s, sets, set, code);
        self.push(&s);
    }

    fn end_paragraph(&mut self) {
        if self.removed {
            return;
        }
        // A style's closing codes end with the paragraph, whether or not their off code
        // follows (a damaged file must not hide the rest).
        self.hidden = false;
        if self.table.is_some() {
            // Paragraphs of a cell join with a space.
            self.push(" ");
            return;
        }
        let text = tidy(&std::mem::take(&mut self.para));
        if !text.is_empty() {
            self.blocks.push(Block {
                text,
                table: None,
                note: 0,
            });
        }
        self.blocks.append(&mut self.boxes);
    }

    fn finish_row(&mut self) {
        if let Some((id, cells, cell)) = &mut self.table {
            if let Some(c) = cell.take() {
                cells.push(collapse(&c));
            }
            if let Some(text) = row_text(cells) {
                self.blocks.push(Block {
                    text,
                    table: Some(*id),
                    note: 0,
                });
            }
            cells.clear();
        }
    }

    /// A new row (and, in WordPerfect 6, its first cell); a table's first row ends the
    /// paragraph before it.
    fn row(&mut self, doc: &mut Doc<'_>, first_cell: bool) {
        if self.removed {
            return;
        }
        if self.table.is_some() {
            self.finish_row();
        } else {
            self.end_paragraph();
            doc.tables += 1;
            self.table = Some((doc.tables, Vec::new(), None));
        }
        if first_cell && let Some((_, _, cell)) = &mut self.table {
            *cell = Some(String::new());
        }
    }

    fn cell(&mut self, doc: &mut Doc<'_>) {
        if self.removed {
            return;
        }
        if self.table.is_none() {
            self.row(doc, false);
        }
        if let Some((_, cells, cell)) = &mut self.table {
            if let Some(c) = cell.take() {
                cells.push(collapse(&c));
            }
            *cell = Some(String::new());
        }
    }

    fn end_table(&mut self) {
        if self.removed {
            return;
        }
        self.finish_row();
        self.table = None;
        self.blocks.append(&mut self.boxes);
    }

    fn finish(mut self) -> Vec<Block> {
        self.removed = false;
        self.note = None;
        self.end_table();
        self.end_paragraph();
        self.blocks.append(&mut self.boxes);
        self.blocks
    }
}

/// A paragraph's text with whitespace tidied: runs of spaces (tabs, hard spaces) as one,
/// line breaks kept, blank lines dropped.
fn tidy(s: &str) -> String {
    s.split('\n')
        .map(collapse)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A WordPerfect 6 variable-length function: code, subgroup, total size, flags, prefix
/// packet ids (flag bit 7), the size of the non-deletable contents, the contents, the size
/// again and the code again.
#[derive(Debug)]
struct Group6<'a> {
    id: u8,
    sub: u8,
    prefix: Vec<u16>,
    contents: &'a [u8],
    len: usize,
}

fn group6(data: &[u8], at: usize) -> Option<Group6<'_>> {
    let id = data[at];
    let sub = *data.get(at + 1)?;
    let len = usize::from(u16_at(data, at + 2)?);
    let end = at.checked_add(len)?;
    if len < 9 || end > data.len() || usize::from(u16_at(data, end - 3)?) != len {
        return None;
    }
    if data[end - 1] != id {
        return None;
    }
    let flags = data[at + 4];
    let mut p = at + 5;
    let mut prefix = Vec::new();
    if flags & 0x80 != 0 {
        let n = *data.get(p)?;
        p += 1;
        for _ in 0..n {
            prefix.push(u16_at(data, p)?);
            p += 2;
        }
    }
    let size = usize::from(u16_at(data, p)?);
    p += 2;
    if p > end - 3 {
        return None;
    }
    let contents = &data[p..(p + size).min(end - 3)];
    Some(Group6 {
        id,
        sub,
        prefix,
        contents,
        len,
    })
}

/// From an end-of-line group's sub-functions: whether its cell is covered by the cell above
/// (merged rows: no new cell), and whether it is a line break inside a paragraph.
fn eol_details(c: &[u8]) -> (bool, bool) {
    let (mut covered, mut line_break) = (false, false);
    let Some(skip) = u16_at(c, 0) else {
        return (covered, line_break);
    };
    let mut p = 2 + usize::from(skip);
    while let Some(&f) = c.get(p) {
        let len = match f {
            0x80 => 5,
            0x81 | 0x8E | 0x8F => usize::from(u16_at(c, p + 1).unwrap_or(0)),
            0x82 | 0x83 => 4,
            0x84 => 9,
            0x85 => {
                covered = c.get(p + 1).is_some_and(|&span| span >= 128);
                4
            }
            0x86 => 10,
            0x87 | 0x88 => 6,
            0x89 => 11,
            0x8B | 0x8C => 3,
            0x8D => {
                line_break = true;
                1
            }
            _ => 0,
        };
        if len == 0 {
            break;
        }
        p += len;
    }
    (covered, line_break)
}

impl Doc<'_> {
    /// Reads one text (the body, or a note's, header's or text box's) into blocks.
    fn story(&mut self, data: &[u8]) -> Vec<Block> {
        let mut s = Story::default();
        match self.version {
            Version::Six => {
                self.read6(data, &mut s);
                self.close_note6(&mut s);
            }
            Version::Five => self.read5(data, &mut s),
        }
        s.finish()
    }

    /// The text of a WordPerfect 6 text packet, read as a story (none past [`MAX_DEPTH`]).
    fn packet_story(&mut self, id: u16) -> Vec<Block> {
        let Some(p) = self.packets.get(&id).copied() else {
            return Vec::new();
        };
        if p.kind != TEXT_PACKET || self.depth >= MAX_DEPTH {
            return Vec::new();
        }
        self.nested(&packet_text(p.data))
    }

    fn nested(&mut self, data: &[u8]) -> Vec<Block> {
        if self.depth >= MAX_DEPTH {
            return Vec::new();
        }
        self.depth += 1;
        let blocks = self.story(data);
        self.depth -= 1;
        blocks
    }

    /// A note's reference in the text (`[1]`, `[i]`) and its text under the notes.
    fn note(&mut self, s: &mut Story, endnote: bool, mut blocks: Vec<Block>) {
        let list = if endnote {
            &mut self.endnotes
        } else {
            &mut self.footnotes
        };
        let n = list.iter().filter(|b| b.note > 0).count() + 1;
        let mark = if endnote {
            roman(u32::try_from(n).unwrap_or(u32::MAX)).to_lowercase()
        } else {
            n.to_string()
        };
        s.push(&format!("[{mark}]"));
        match blocks.first_mut() {
            Some(first) => first.text = format!("[{mark}] {}", first.text),
            None => blocks.push(Block {
                text: format!("[{mark}]"),
                table: None,
                note: 0,
            }),
        }
        blocks[0].note = n;
        list.extend(blocks);
    }

    /// The end of a WordPerfect 6 note's reference: its mark and text.
    fn close_note6(&mut self, s: &mut Story) {
        if let Some(n) = s.note.take() {
            let blocks = n.packet.map(|p| self.packet_story(p)).unwrap_or_default();
            self.note(s, n.endnote, blocks);
        }
    }

    /// A paragraph's end; a note reference still open there (its off code missing) is
    /// closed first, so that the text after it is not taken for the note's number.
    fn end_paragraph6(&mut self, s: &mut Story) {
        self.close_note6(s);
        s.end_paragraph();
    }

    fn read6(&mut self, data: &[u8], s: &mut Story) {
        let mut i = 0;
        while let Some(&b) = data.get(i) {
            match b {
                0x01..=0x20 => {
                    let mut c = [0u8; 4];
                    s.push(INTERNATIONAL[usize::from(b - 1)].encode_utf8(&mut c));
                }
                0x21..=0x7E => s.push(char::from(b).encode_utf8(&mut [0u8; 4])),
                0x80..=0xCF => self.single6(b, s),
                0xD0..=0xEF => {
                    if let Some(g) = group6(data, i) {
                        i += g.len;
                        self.variable6(&g, s);
                        continue;
                    }
                }
                0xF0..=0xFE => {
                    let len = FIXED6[usize::from(b - 0xF0)];
                    if data.get(i + len - 1) == Some(&b) {
                        let f = &data[i..i + len];
                        match b {
                            0xF0 => s.push_code(WP6.as_slice(), f[2], f[1]),
                            // Undo: text an edit removed starts (0) and ends (1).
                            0xF1 if f[1] == 0 => s.removed = true,
                            0xF1 if f[1] == 1 => s.removed = false,
                            _ => {}
                        }
                        i += len;
                        continue;
                    }
                }
                // 0x00, 0x7F and 0xFF mean nothing.
                _ => {}
            }
            i += 1;
        }
    }

    fn single6(&mut self, b: u8, s: &mut Story) {
        match b {
            // Soft space; soft returns where lines wrapped.
            0x80 | 0xCD..=0xCF => s.push(" "),
            0x81 => s.push("\u{a0}"),
            0x84 => s.push("-"),
            // Hard returns (also deletable and dormant ones), hard page and column breaks.
            0x87 | 0xB4..=0xB9 | 0xC7..=0xCC => self.end_paragraph6(s),
            0xBD..=0xBF => s.end_table(),
            0xC0..=0xC5 => s.row(self, true),
            0xC6 => s.cell(self),
            // Soft and automatic hyphens, deletable soft returns: nothing.
            _ => {}
        }
    }

    fn variable6(&mut self, g: &Group6<'_>, s: &mut Story) {
        match g.id {
            // End of line: returns, page breaks, table rows and cells.
            0xD0 => {
                let (covered, line_break) = eol_details(g.contents);
                match g.sub {
                    0x01..=0x03 => s.push(" "),
                    0x04..=0x09 | 0x17..=0x1C => self.end_paragraph6(s),
                    0x0A if !covered => s.cell(self),
                    0x0B..=0x10 => s.row(self, !covered),
                    0x11..=0x13 => s.end_table(),
                    0x14 if line_break => s.push("\n"),
                    _ => {}
                }
            }
            // Headers and footers A and B (4 and 5 are watermarks), unless the code
            // discontinues one (it occurs on neither odd nor even pages).
            0xD6 if g.sub <= 3 && !s.removed && g.contents.first().is_some_and(|o| o & 3 != 0) => {
                if let Some(&id) = g.prefix.first() {
                    let blocks = self.packet_story(id);
                    self.running.extend(blocks);
                }
            }
            // Footnote (0) and endnote (2) on; their off codes (1, 3) end the number.
            0xD7 => match g.sub {
                0 | 2 if s.note.is_none() && !s.removed => {
                    s.note = Some(OpenNote {
                        endnote: g.sub == 2,
                        packet: g.prefix.first().copied(),
                    });
                }
                1 | 3 => self.close_note6(s),
                _ => {}
            },
            // Styles: a paragraph style's closing codes (8 on, 9 off), and the footnote and
            // endnote system styles (10 with system style 36 or 37; 11 off) are not text.
            0xDD => match g.sub {
                0x08 => s.hidden = true,
                0x09 | 0x0B => s.hidden = false,
                0x0A if matches!(g.contents.get(2), Some(36 | 37)) => s.hidden = true,
                _ => {}
            },
            // A box: a text box's text is in a text packet among its prefix packets.
            0xDF if !s.removed => {
                for &id in &g.prefix {
                    let blocks = self.packet_story(id);
                    s.boxes.extend(blocks);
                }
            }
            // Tabs and indents.
            0xE0 => s.push("\t"),
            // Comments (character group 0x1D) and the rest are layout.
            _ => {}
        }
    }

    fn read5(&mut self, data: &[u8], s: &mut Story) {
        let mut i = 0;
        while let Some(&b) = data.get(i) {
            match b {
                // Hard return; hard page break.
                0x0A | 0x0C => s.end_paragraph(),
                // Soft page break, soft return.
                0x0B | 0x0D => s.push(" "),
                0x20..=0x7E => s.push(char::from(b).encode_utf8(&mut [0u8; 4])),
                0x80..=0xBF => match b {
                    // Hard return with soft page, deletable return, dormant hard return.
                    0x8C | 0x90 | 0x99 => s.end_paragraph(),
                    // Invisible returns.
                    0x93..=0x95 => s.push(" "),
                    0xA0 => s.push("\u{a0}"),
                    0xA9..=0xAB => s.push("-"),
                    // Soft hyphens and the rest: nothing.
                    _ => {}
                },
                0xC0..=0xCF => {
                    let len = FIXED5[usize::from(b - 0xC0)];
                    if data.get(i + len - 1) == Some(&b) {
                        let f = &data[i..i + len];
                        match b {
                            0xC0 => s.push_code(WP5.as_slice(), f[2], f[1]),
                            // Tab, indent.
                            0xC1 | 0xC2 => s.push("\t"),
                            _ => {}
                        }
                        i += len;
                        continue;
                    }
                }
                0xD0..=0xFE => {
                    if let Some((sub, contents, len)) = group5(data, i) {
                        i += len;
                        self.variable5(b, sub, contents, s);
                        continue;
                    }
                }
                // 0x00, other control codes, 0x7F and 0xFF mean nothing.
                _ => {}
            }
            i += 1;
        }
    }

    fn variable5(&mut self, id: u8, sub: u8, c: &[u8], s: &mut Story) {
        match id {
            // Headers and footers A and B, their text inline after 18 bytes.
            0xD5 if sub <= 3 && c.get(7).is_some_and(|&o| o != 0) => {
                let blocks = self.nested(c.get(18..).unwrap_or_default());
                self.running.extend(blocks);
            }
            // Footnote (0) or endnote (1), its text inline after the number and layout.
            0xD6 if sub <= 1 && !s.removed => {
                let start = if sub == 0 {
                    c.get(3)
                        .map_or(c.len(), |&pages| 4 + 2 * (usize::from(pages) + 1) + 9)
                } else {
                    7
                };
                let blocks = self.nested(c.get(start..).unwrap_or_default());
                self.note(s, sub == 1, blocks);
            }
            // Table: a cell (unless covered by the one above), a row, the table's end.
            0xDC => match sub {
                0 if c.get(2).is_none_or(|&span| span & 0x80 == 0) => s.cell(self),
                1 => s.row(self, false),
                2 => s.end_table(),
                _ => {}
            },
            0xDD => match sub {
                1 | 3 => s.row(self, false),
                2 => s.end_table(),
                _ => {}
            },
            _ => {}
        }
    }
}

/// A WordPerfect 5 variable-length function at `at`: code, subgroup, size (of what follows),
/// the contents, then the size, subgroup and code again. Gives the subgroup, contents and
/// whole length.
fn group5(data: &[u8], at: usize) -> Option<(u8, &[u8], usize)> {
    let id = data[at];
    let sub = *data.get(at + 1)?;
    let size = usize::from(u16_at(data, at + 2)?);
    let end = at.checked_add(size)?.checked_add(4)?;
    if size < 4 || end > data.len() || usize::from(u16_at(data, end - 4)?) != size {
        return None;
    }
    if data[end - 2] != sub || data[end - 1] != id {
        return None;
    }
    Some((sub, &data[at + 4..end - 4], end - at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::wp;
    use proptest::prelude::*;

    const LEASE_BODY: &str = "ARTICLE 1 DEFINITIONS\n\n\
        1.1 “Premises” means Suite 400 of the Building[1].\n\n\
        § 2.1 The Tenant shall pay rent of €1,000 within thirty days of each invoice, \
        maintenance included, to the Landlord’s agent.\n\n\
        Rent | €1,000\nDeposit | €2,000\n\n";

    #[test]
    fn a_wordperfect_6_lease_reads_with_its_notes_table_header_and_title() {
        let x = extract_wpd(&wp::lease6()).unwrap();
        assert_eq!(
            x.text,
            format!(
                "{LEASE_BODY}§ 3 Governing law[i]\n\n\
                 # Footnotes\n\n[1] As shown on the plan in Schedule A.\n\n\
                 # Endnotes\n\n[i] The laws of the District of Columbia apply.\n\n\
                 # Headers and footers\n\nLease No. 42 — Confidential"
            )
        );
        assert_eq!(x.title.as_deref(), Some("Commercial Lease — Suite 400"));
        // One numbered paragraph per block, rows included.
        let paras: Vec<&str> = x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect();
        assert_eq!(paras[0], "ARTICLE 1 DEFINITIONS");
        assert_eq!(paras[3], "Rent | €1,000");
        assert_eq!(paras[4], "Deposit | €2,000");
        // The deleted draft phrase and the comment are not text.
        assert!(!x.text.contains("ninety") && !x.text.contains("client"));
    }

    #[test]
    fn a_wordperfect_5_lease_reads_with_its_inline_notes_and_header() {
        let x = extract_wpd(&wp::lease5()).unwrap();
        assert_eq!(
            x.text,
            format!(
                "{LEASE_BODY}§ 3 Governing law\n\n\
                 # Footnotes\n\n[1] As shown on the plan in Schedule A.\n\n\
                 # Headers and footers\n\nLease No. 42 — Confidential"
            )
        );
        assert_eq!(x.title, None);
    }

    #[test]
    fn extended_characters_come_from_wordperfects_character_sets() {
        let mut s = String::new();
        for (set, code) in [
            (4, 6),
            (4, 5),
            (1, 41),
            (8, 1),
            (10, 1),
            (0, 0x41),
            (4, 250),
        ] {
            push_char(&mut s, WP6.as_slice(), set, code);
        }
        // Set 8 is Greek, set 10 Cyrillic; a code past a set's end is a space.
        assert_eq!(s, "§¶éαаA ");
        let mut s = String::new();
        push_char(&mut s, WP5.as_slice(), 4, 34);
        assert_eq!(s, "—");
        // WordPerfect's stand-alone "comma above", typed as an apostrophe.
        let body: Vec<u8> = [b"President".as_slice(), &[0xC0, 9, 1, 0xC0], b"s call\n"].concat();
        assert_eq!(
            extract_wpd(&wp::document5(&body)).unwrap().text,
            "President’s call"
        );
    }

    #[test]
    fn wordperfect_6_one_byte_accents_hard_spaces_and_hyphens_are_read() {
        let body = [
            b"Caf".as_slice(),
            &[0x0F, 0x80, b'a', 0x81, b'b', 0x84, b'c', 0x82, b'd', 0xCC],
        ]
        .concat();
        assert_eq!(
            extract_wpd(&wp::document6(&body, &[])).unwrap().text,
            "Café a b-cd"
        );
    }

    #[test]
    fn a_text_box_follows_the_paragraph_that_anchors_it() {
        let mut body = wp::text6("Signed by the parties");
        body.extend(wp::group6(0xDF, 0x00, &[1], &[0, 0]));
        body.extend(wp::text6("."));
        body.push(wp::HARD_EOL6);
        body.extend(wp::text6("Schedule A"));
        body.push(wp::HARD_EOL6);
        let mut boxed = wp::text6("Initials: JD");
        boxed.push(wp::HARD_EOL6);
        let doc = wp::document6(&body, &[(TEXT_PACKET, wp::text_packet6(&boxed))]);
        assert_eq!(
            extract_wpd(&doc).unwrap().text,
            "Signed by the parties.\n\nInitials: JD\n\nSchedule A"
        );
    }

    #[test]
    fn paragraph_style_closing_codes_are_not_text() {
        let mut body = wp::group6(0xDD, 0x04, &[], &[]);
        body.extend(wp::text6("(a)"));
        body.extend(wp::tab6());
        body.extend(wp::group6(0xDD, 0x07, &[], &[]));
        body.extend(wp::text6("The first clause."));
        body.extend(wp::group6(0xDD, 0x08, &[], &[]));
        body.extend(wp::text6("x"));
        body.extend(wp::group6(0xDD, 0x09, &[], &[]));
        body.push(wp::HARD_EOL6);
        assert_eq!(
            extract_wpd(&wp::document6(&body, &[])).unwrap().text,
            "(a) The first clause."
        );
    }

    #[test]
    fn a_note_reference_without_its_off_code_ends_with_its_paragraph() {
        let mut body = wp::text6("Rent is due");
        body.extend(wp::group6(0xD7, 0x00, &[1], &[]));
        body.extend(wp::text6("1"));
        body.push(wp::HARD_EOL6);
        body.extend(wp::text6("Interest accrues daily."));
        body.push(wp::HARD_EOL6);
        let mut note = wp::text6("On the first.");
        note.push(wp::HARD_EOL6);
        let doc = wp::document6(&body, &[(TEXT_PACKET, wp::text_packet6(&note))]);
        assert_eq!(
            extract_wpd(&doc).unwrap().text,
            "Rent is due[1]\n\nInterest accrues daily.\n\n# Footnotes\n\n[1] On the first."
        );
    }

    #[test]
    fn inconsistent_function_codes_are_skipped_byte_by_byte() {
        // A group whose closing size does not match is not a group: its code is skipped and
        // what follows read as text, as WordPerfect's own reader does.
        let mut bad = wp::group6(0xD0, 0x04, &[], &[0, 0]);
        let n = bad.len();
        bad[n - 3] ^= 0xFF;
        let body = [b"A".as_slice(), &bad, b"B\xcc"].concat();
        let text = extract_wpd(&wp::document6(&body, &[])).unwrap().text;
        assert!(text.starts_with('A') && text.ends_with('B'), "{text:?}");
    }

    #[test]
    fn encrypted_macintosh_old_and_foreign_files_are_refused_with_the_reason() {
        let mut enc = wp::lease6();
        enc[12] = 0x34;
        assert!(matches!(
            extract_wpd(&enc),
            Err(ExtractError::Encrypted { kind: "wpd" })
        ));
        let mut mac = wp::lease6();
        mac[9] = 0x2C;
        let e = extract_wpd(&mac).unwrap_err();
        assert!(e.to_string().contains("Macintosh"), "{e}");
        let mut macro_file = wp::lease6();
        macro_file[9] = 0x01;
        let e = extract_wpd(&macro_file).unwrap_err();
        assert!(e.to_string().contains("not a document"), "{e}");
        let mut future = wp::lease6();
        future[10] = 7;
        assert!(matches!(
            extract_wpd(&future),
            Err(ExtractError::Unsupported { .. })
        ));
        let e = extract_wpd(b"Plain text, not WordPerfect").unwrap_err();
        assert!(e.to_string().contains("WordPerfect 4.2"), "{e}");
        let mut past = wp::lease5();
        past[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            extract_wpd(&past),
            Err(ExtractError::Corrupt { .. })
        ));
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        /// Damaged WordPerfect 5 and 6 files (bytes of the fixtures overwritten, or random
        /// text after a valid header) give text or an error, never a panic.
        #[test]
        fn fuzz_wordperfect_reading_never_panics(
            six in any::<bool>(),
            hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
            raw in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut bytes = if six { wp::lease6() } else { wp::lease5() };
            for (at, b) in hits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            let _ = extract_wpd(&bytes);
            let header = if six { wp::document6(&raw, &[]) } else { wp::document5(&raw) };
            let _ = extract_wpd(&header);
        }
    }
}
