//! Word 97–2003 binary documents (`.doc`): paragraphs in order, with headings, list numbers,
//! tables and notes, written as the DOCX reader writes them.
//!
//! A `.doc` is a compound file (read with `cfb`, as `.msg` is) whose `WordDocument` stream
//! starts with the File Information Block (FIB) and holds the characters; the `0Table` or
//! `1Table` stream holds the structures that say where they are and what they are
//! ([MS-DOC]). This reader uses:
//!
//! - the piece table (`Clx`), which maps character positions (CPs) to the stream, 8-bit
//!   (Windows-1252) or UTF-16, so fast-saved documents read in their logical order;
//! - the FIB's story lengths: the main text, then footnotes, headers and footers, comments
//!   (left out, as in DOCX), endnotes and text boxes;
//! - paragraph properties (`PlcBtePapx` and its 512-byte pages, with `sprmPHugePapx` data in
//!   the `Data` stream): the style, outline level, list and level, and whether a paragraph
//!   ends a table cell or row;
//! - the stylesheet (`STSH`): built-in heading styles by their identifier (whatever the name
//!   in the writer's language), other styles' names, outline levels and lists, `istdBase`;
//! - the list tables (`PlfLst`, `PlfLfo`) for automatic numbers ("4.2", "(a)"), counted by
//!   the list counters the DOCX reader uses (`word::Numbering`);
//! - character properties (`PlcBteChpx`), only to leave out tracked deletions;
//! - fields: the instruction (`HYPERLINK "…"`, `PAGE`) is dropped and the result kept;
//! - the title from the `SummaryInformation` property set.
//!
//! The text then follows the DOCX rules (module `word`, shared with the DOCX reader): one
//! block per paragraph, headings as `#` lines, list numbers before the text, table rows as
//! cells joined by ` | `, footnote and endnote references as `[1]` and `[i]`, and
//! `# Footnotes`, `# Endnotes` and `# Headers and footers` after the body. Text boxes follow
//! the body. A file named `.doc` that is really RTF, DOCX or WordPerfect (all happen: old
//! archives renamed their WordPerfect files) is read as what it is.
//!
//! Word 6.0/95 files (an older FIB, no table stream, 8-bit text in the document's code page)
//! give their text and notes, without headings or list numbers: their properties are stored
//! in another form, not read.
//!
//! Refused with a reason: encrypted documents ([`ExtractError::Encrypted`]), files older
//! than Word 6.0 ([`ExtractError::Unsupported`]), and compound files without a
//! `WordDocument` stream.
//!
//! [MS-DOC]: https://learn.microsoft.com/en-us/openspecs/office_file_formats/ms-doc/

use std::collections::HashMap;
use std::io::Cursor;
use std::ops::Range;

use super::msg::stream;
use super::types::{ExtractError, ExtractedText, Extractor, codepage_encoding, u16_at, u32_at};
use super::word::{
    Block, Builder, Level, Numbering, Para, Style, Styles, collapse, finish_paragraph, roman,
    row_text,
};
use super::{docx, rtf, wpd};

/// The Word 97–2003 extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocExtractor;

impl Extractor for DocExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_doc(bytes)
    }
}

/// The compound-file signature.
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

fn corrupt(what: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt {
        kind: "doc",
        reason: what.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// The File Information Block

/// What is read of the FIB.
#[derive(Debug)]
struct Fib {
    /// A Word 6.0/95 file: no table stream, 8-bit text in the document's code page, and
    /// properties in an older form that is not read.
    old: bool,
    /// Word 6.0/95: where the text starts (`fcMin`) and the piece table (`fcClx`, `lcbClx`
    /// in the WordDocument stream, empty when the file was not fast-saved).
    fc_min: u32,
    old_clx: (u32, u32),
    /// `fWhichTblStm`: the table stream is `1Table` (else `0Table`).
    table1: bool,
    /// Lengths in CPs of the stories: main text, footnotes, headers, macros (unused),
    /// comments, endnotes, text boxes, header text boxes.
    ccp: [u32; 8],
    /// The `FibRgFcLcb` pairs (offset, length in the table stream).
    fc_lcb: Vec<(u32, u32)>,
}

/// Indexes into `FibRgFcLcb97`.
const STSHF: usize = 1;
const PLCF_BTE_CHPX: usize = 12;
const PLCF_BTE_PAPX: usize = 13;
const CLX: usize = 33;
const PLCFEND_REF: usize = 46;
const PLF_LST: usize = 73;
const PLF_LFO: usize = 74;

/// Story indexes into [`Fib::ccp`].
const TEXT: usize = 0;
const FTN: usize = 1;
const HDD: usize = 2;
const EDN: usize = 5;
const TXBX: usize = 6;

impl Fib {
    fn parse(word: &[u8]) -> Result<Fib, ExtractError> {
        let short = || corrupt("the WordDocument stream is too short for its header (FIB)");
        let ident = u16_at(word, 0).ok_or_else(short)?;
        let n_fib = u16_at(word, 2).ok_or_else(short)?;
        let flags = u16_at(word, 0x0A).ok_or_else(short)?;
        // Word 6.0 and 95 (nFib 101–105) wrote other identifiers too (0xA699 is seen).
        let old = (0x0065..0x00C0).contains(&n_fib);
        if !old && ident != 0xA5EC && ident != 0xA5DC {
            return Err(corrupt(format!(
                "the WordDocument stream does not start with a Word header (0x{ident:04X})"
            )));
        }
        if n_fib < 0x0065 {
            return Err(ExtractError::Unsupported {
                kind: "doc",
                reason: format!(
                    "a document older than Word 6.0 (nFib {n_fib}); open it in Word or \
                     LibreOffice and save it as .docx"
                ),
            });
        }
        // fEncrypted, or fObfuscated (XOR), which also needs the password.
        if flags & 0x0100 != 0 || flags & 0x8000 != 0 {
            return Err(ExtractError::Encrypted { kind: "doc" });
        }
        if old {
            // The Word 6.0/95 FIB: story lengths from 0x34, the piece table at 0x160.
            let mut ccp = [0u32; 8];
            for (i, c) in ccp.iter_mut().enumerate() {
                *c = u32_at(word, 0x34 + 4 * i).ok_or_else(short)?;
            }
            let clx = (
                u32_at(word, 0x160).unwrap_or(0),
                u32_at(word, 0x164).unwrap_or(0),
            );
            return Ok(Fib {
                old,
                fc_min: u32_at(word, 0x18).ok_or_else(short)?,
                // Without a piece table (not fast-saved) the text is one run from fcMin.
                old_clx: if flags & 0x0004 != 0 { clx } else { (0, 0) },
                table1: false,
                ccp,
                fc_lcb: Vec::new(),
            });
        }
        let csw = usize::from(u16_at(word, 32).ok_or_else(short)?);
        let lw_at = 34 + 2 * csw;
        let cslw = usize::from(u16_at(word, lw_at).ok_or_else(short)?);
        let rglw = lw_at + 2;
        let mut ccp = [0u32; 8];
        for (i, c) in ccp.iter_mut().enumerate() {
            if 3 + i < cslw {
                *c = u32_at(word, rglw + 4 * (3 + i)).ok_or_else(short)?;
            }
        }
        let fc_at = rglw + 4 * cslw;
        let cb = usize::from(u16_at(word, fc_at).ok_or_else(short)?);
        let fc_lcb = (0..cb)
            .map_while(|i| {
                let at = fc_at + 2 + 8 * i;
                Some((u32_at(word, at)?, u32_at(word, at + 4)?))
            })
            .collect();
        Ok(Fib {
            old,
            fc_min: 0,
            old_clx: (0, 0),
            table1: flags & 0x0200 != 0,
            ccp,
            fc_lcb,
        })
    }

    /// The bytes of structure `i` in the table stream, if present and in bounds.
    fn part<'t>(&self, table: &'t [u8], i: usize) -> Option<&'t [u8]> {
        let (fc, lcb) = *self.fc_lcb.get(i)?;
        if lcb == 0 {
            return None;
        }
        table.get(fc as usize..(fc as usize).checked_add(lcb as usize)?)
    }

    /// The CP range of story `s` (main text, footnotes, ...).
    fn story(&self, s: usize) -> Range<u32> {
        let start: u32 = self.ccp[..s].iter().fold(0u32, |a, c| a.saturating_add(*c));
        start..start.saturating_add(self.ccp[s])
    }
}

// ---------------------------------------------------------------------------------------
// Characters: the piece table

/// A run of consecutive CPs stored together.
#[derive(Debug, Clone)]
struct Piece {
    cps: Range<u32>,
    /// Byte offset of the first character in the WordDocument stream.
    offset: usize,
    /// One byte per character (Windows-1252), else two (UTF-16LE).
    compressed: bool,
}

/// Byte → UTF-16 code unit in a single-byte code page (Windows-1252 for the 8-bit pieces of
/// Word 97 and later; the document's own for Word 6.0/95).
fn byte_table(encoding: &'static encoding_rs::Encoding) -> [u16; 256] {
    let mut t = [0u16; 256];
    for (b, slot) in t.iter_mut().enumerate() {
        let byte = [b as u8];
        let (s, _) = encoding.decode_without_bom_handling(&byte);
        *slot = s.encode_utf16().next().unwrap_or(0xFFFD);
    }
    t
}

/// The pieces of the `Clx`: property runs (`Prc`, skipped), then the piece table (`Pcdt`).
/// `old`: a Word 6.0/95 file, whose pieces are all 8-bit at plain byte offsets.
fn pieces(clx: &[u8], old: bool) -> Result<Vec<Piece>, ExtractError> {
    let bad = || corrupt("the piece table (Clx) is damaged");
    let mut at = 0;
    loop {
        match clx.get(at) {
            Some(0x01) => {
                let cb = usize::from(u16_at(clx, at + 1).ok_or_else(bad)?);
                at += 3 + cb;
            }
            Some(0x02) => {
                let lcb = u32_at(clx, at + 1).ok_or_else(bad)? as usize;
                let plc = clx.get(at + 5..at + 5 + lcb).ok_or_else(bad)?;
                if lcb < 4 || !(lcb - 4).is_multiple_of(12) {
                    return Err(bad());
                }
                let n = (lcb - 4) / 12;
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let start = u32_at(plc, 4 * i).ok_or_else(bad)?;
                    let end = u32_at(plc, 4 * (i + 1)).ok_or_else(bad)?;
                    let fc = u32_at(plc, 4 * (n + 1) + 8 * i + 2).ok_or_else(bad)?;
                    if end < start {
                        return Err(bad());
                    }
                    // Word 97 and later: bit 30 marks 8-bit text, at half the offset given.
                    let (offset, compressed) = match (old, fc & 0x4000_0000 != 0) {
                        (true, _) => (fc as usize, true),
                        (false, true) => ((fc & 0x3FFF_FFFF) as usize / 2, true),
                        (false, false) => ((fc & 0x3FFF_FFFF) as usize, false),
                    };
                    out.push(Piece {
                        cps: start..end,
                        offset,
                        compressed,
                    });
                }
                return Ok(out);
            }
            _ => return Err(bad()),
        }
    }
}

/// The pieces of a Word 6.0/95 file: all 8-bit; one run from `fcMin` unless fast-saved.
fn old_pieces(word: &[u8], fib: &Fib) -> Result<Vec<Piece>, ExtractError> {
    let (fc, lcb) = fib.old_clx;
    if lcb == 0 {
        let total = fib.ccp.iter().fold(0u32, |a, c| a.saturating_add(*c));
        return Ok(vec![Piece {
            cps: 0..total,
            offset: fib.fc_min as usize,
            compressed: true,
        }]);
    }
    let clx = word
        .get(fc as usize..(fc as usize).saturating_add(lcb as usize))
        .ok_or_else(|| corrupt("the piece table (Clx) lies past the end of the stream"))?;
    pieces(clx, true)
}

/// The code page of a Word 6.0/95 document's text: the summary's when it names a single-byte
/// one other than Windows-1252, else what `chardetng` guesses from the text's bytes (the
/// files name their code page only in the fonts of their runs, which are not read; the
/// summary often says 1252 or UTF-8 of a Cyrillic or Czech text).
fn old_encoding(
    word: &[u8],
    pieces: &[Piece],
    summary: Option<u16>,
) -> &'static encoding_rs::Encoding {
    if let Some(e) = summary.map(codepage_encoding)
        && e.is_single_byte()
        && e != encoding_rs::WINDOWS_1252
    {
        return e;
    }
    let mut detector = chardetng::EncodingDetector::new();
    for p in pieces {
        let len = (p.cps.end - p.cps.start) as usize;
        if let Some(bytes) = word.get(p.offset..p.offset.saturating_add(len).min(word.len())) {
            detector.feed(bytes, false);
        }
    }
    detector.feed(&[], true);
    let guess = detector.guess(None, false);
    if guess.is_single_byte() {
        guess
    } else {
        encoding_rs::WINDOWS_1252
    }
}

/// One character of a story: its UTF-16 code unit, CP and offset in the WordDocument stream.
#[derive(Debug, Clone, Copy)]
struct Unit {
    code: u16,
    cp: u32,
    offset: usize,
}

/// Most characters read from one story (about 8,000 pages).
const MAX_UNITS: usize = 16 * 1024 * 1024;

/// The characters of the CP range `cps`, in order.
fn units(
    word: &[u8],
    pieces: &[Piece],
    table: &[u16; 256],
    cps: Range<u32>,
) -> Result<Vec<Unit>, ExtractError> {
    let mut out = Vec::new();
    for p in pieces {
        let from = p.cps.start.max(cps.start);
        let to = p.cps.end.min(cps.end);
        for cp in from..to {
            let k = (cp - p.cps.start) as usize;
            let (offset, code) = if p.compressed {
                let o = p.offset + k;
                (o, word.get(o).map(|&b| table[usize::from(b)]))
            } else {
                let o = p.offset + 2 * k;
                (o, u16_at(word, o))
            };
            let code = code.ok_or_else(|| {
                corrupt("the text runs past the end of the WordDocument stream (truncated?)")
            })?;
            out.push(Unit { code, cp, offset });
            if out.len() > MAX_UNITS {
                return Err(corrupt(format!(
                    "more than {MAX_UNITS} characters in one part of the document"
                )));
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Properties: sprms, paragraph and character runs

/// The property modifiers (`Sprm` and operand) of a `grpprl`, until the end or an operand
/// whose size cannot be told.
fn sprms(grpprl: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(sprm) = u16_at(grpprl, at) {
        at += 2;
        let len = match sprm >> 13 {
            0 | 1 => 1,
            2 | 4 | 5 => 2,
            3 => 4,
            7 => 3,
            _ => match sprm {
                // sprmTDefTable: a 2-byte count of the bytes after it, plus one.
                0xD608 => match u16_at(grpprl, at) {
                    Some(cb) => usize::from(cb) + 1,
                    None => break,
                },
                // sprmPChgTabs with the long form: not needed, and stops the walk.
                0xC615 if grpprl.get(at) == Some(&255) => break,
                _ => match grpprl.get(at) {
                    Some(&cb) => {
                        at += 1;
                        usize::from(cb)
                    }
                    None => break,
                },
            },
        };
        let Some(operand) = grpprl.get(at..at + len) else {
            break;
        };
        out.push((sprm, operand));
        at += len;
    }
    out
}

/// What a paragraph's properties say that the text needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ParaProps {
    /// The paragraph style.
    istd: u16,
    /// A direct outline level (0–8 a heading level, 9 body text).
    outline: Option<u8>,
    /// A direct list (1-based `LFO` index; 0 no list) and level.
    ilfo: Option<i16>,
    ilvl: Option<u8>,
    /// In a table; the mark ending a table row (`fTtp`).
    in_table: bool,
    row_end: bool,
    /// In a table inside a cell: the paragraph mark ending a cell, or a row.
    inner_cell_end: bool,
    inner_row_end: bool,
    /// Table depth (`sprmPItap`), when given: 2 and more are tables inside a cell, whose
    /// cells and rows end with paragraph marks, so their text joins the outer cell.
    depth: Option<u32>,
}

impl ParaProps {
    /// Applies the paragraph sprms of `grpprl`; `data` is the `Data` stream, for
    /// `sprmPHugePapx`.
    fn apply(&mut self, grpprl: &[u8], data: &[u8], nested: bool) {
        for (sprm, op) in sprms(grpprl) {
            let byte = op.first().copied().unwrap_or(0);
            match sprm {
                0x2640 => self.outline = Some(byte),
                0x2416 => self.in_table = byte != 0,
                0x2417 => self.row_end = byte != 0,
                0x244B => self.inner_cell_end = byte != 0,
                0x244C => self.inner_row_end = byte != 0,
                0x6649 => self.depth = u32_at(op, 0),
                0x460B => self.ilfo = u16_at(op, 0).map(|v| v as i16),
                0x260A => self.ilvl = Some(byte),
                0x6646 if !nested => {
                    // The properties are too large for the page: they are in `Data`.
                    let at = u32_at(op, 0).unwrap_or(u32::MAX) as usize;
                    if let Some(cb) = u16_at(data, at)
                        && let Some(more) = data.get(at + 2..at + 2 + usize::from(cb))
                    {
                        self.apply(more, data, true);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Runs of a property over ranges of the WordDocument stream, sorted by start.
#[derive(Debug, Default)]
struct Runs<T> {
    runs: Vec<(Range<usize>, T)>,
}

impl<T> Runs<T> {
    /// The value of the run holding stream offset `at`.
    fn at(&self, at: usize) -> Option<&T> {
        let i = self.runs.partition_point(|(r, _)| r.start <= at);
        let (r, v) = self.runs.get(i.checked_sub(1)?)?;
        r.contains(&at).then_some(v)
    }
}

/// The 512-byte property pages (FKPs) that a `PlcBte` names, each as its runs' stream
/// ranges and the page bytes.
fn fkp_pages<'w>(word: &'w [u8], plc: &[u8]) -> Vec<&'w [u8]> {
    let n = plc.len().saturating_sub(4) / 8;
    (0..n)
        .filter_map(|i| {
            let pn = u32_at(plc, 4 * (n + 1) + 4 * i)? & 0x003F_FFFF;
            let at = pn as usize * 512;
            word.get(at..at + 512)
        })
        .collect()
}

/// The `rgfc` of a page: `crun + 1` stream offsets.
fn page_fcs(page: &[u8]) -> (usize, Vec<usize>) {
    let crun = usize::from(page[511]);
    let fcs = (0..=crun)
        .map_while(|i| u32_at(page, 4 * i).map(|v| v as usize))
        .collect::<Vec<_>>();
    (crun.min(fcs.len().saturating_sub(1)), fcs)
}

/// Paragraph properties by stream offset.
fn paragraph_runs(word: &[u8], plc: &[u8], data: &[u8]) -> Runs<ParaProps> {
    let mut runs = Vec::new();
    for page in fkp_pages(word, plc) {
        let (crun, fcs) = page_fcs(page);
        for j in 0..crun {
            let b = usize::from(page.get(4 * (crun + 1) + 13 * j).copied().unwrap_or(0));
            let mut props = ParaProps::default();
            if b != 0 {
                let at = 2 * b;
                let cb = usize::from(page.get(at).copied().unwrap_or(0));
                let (start, len) = if cb != 0 {
                    (at + 1, 2 * cb - 1)
                } else {
                    (
                        at + 2,
                        2 * usize::from(page.get(at + 1).copied().unwrap_or(0)),
                    )
                };
                if let Some(bytes) = page.get(start..(start + len).min(511)) {
                    props.istd = u16_at(bytes, 0).unwrap_or(0);
                    props.apply(bytes.get(2..).unwrap_or_default(), data, false);
                }
            }
            if fcs[j] < fcs[j + 1] {
                runs.push((fcs[j]..fcs[j + 1], props));
            }
        }
    }
    runs.sort_by_key(|(r, _)| r.start);
    Runs { runs }
}

/// The stream ranges of tracked deletions (`sprmCFRMarkDel`).
fn deletions(word: &[u8], plc: &[u8]) -> Runs<()> {
    let mut runs = Vec::new();
    for page in fkp_pages(word, plc) {
        let (crun, fcs) = page_fcs(page);
        for j in 0..crun {
            let b = usize::from(page.get(4 * (crun + 1) + j).copied().unwrap_or(0));
            if b == 0 {
                continue;
            }
            let at = 2 * b;
            let cb = usize::from(page.get(at).copied().unwrap_or(0));
            let Some(grpprl) = page.get(at + 1..(at + 1 + cb).min(511)) else {
                continue;
            };
            // 1: deleted; 0x81: the opposite of the style's value (styles are never deleted).
            let deleted = sprms(grpprl)
                .iter()
                .any(|(s, op)| *s == 0x0800 && matches!(op.first(), Some(1 | 0x81)));
            if deleted && fcs[j] < fcs[j + 1] {
                runs.push((fcs[j]..fcs[j + 1], ()));
            }
        }
    }
    runs.sort_by_key(|(r, _)| r.start);
    Runs { runs }
}

/// The CPs a `PlcfEndRef` lists (where the note references are).
fn note_refs(plc: Option<&[u8]>) -> Vec<u32> {
    let Some(plc) = plc else {
        return Vec::new();
    };
    let n = plc.len().saturating_sub(4) / 6;
    (0..n).filter_map(|i| u32_at(plc, 4 * i)).collect()
}

// ---------------------------------------------------------------------------------------
// Styles and lists

/// The stylesheet as [`Styles`]: ids are `istd` numbers as text.
fn parse_styles(stsh: &[u8], data: &[u8]) -> Styles {
    let mut styles = Styles::default();
    let Some(cb_stshi) = u16_at(stsh, 0).map(usize::from) else {
        return styles;
    };
    let (Some(cstd), Some(cb_base)) = (u16_at(stsh, 2), u16_at(stsh, 4)) else {
        return styles;
    };
    let cb_base = usize::from(cb_base);
    let mut at = 2 + cb_stshi;
    for istd in 0..cstd {
        let Some(cb) = u16_at(stsh, at).map(usize::from) else {
            break;
        };
        let std = stsh.get(at + 2..at + 2 + cb);
        at += 2 + cb;
        let Some(std) = std.filter(|s| s.len() >= 10) else {
            continue;
        };
        let sti = u16_at(std, 0).unwrap_or(0) & 0x0FFF;
        let kind_base = u16_at(std, 2).unwrap_or(0);
        let (stk, base) = (kind_base & 0x000F, kind_base >> 4);
        if stk != 1 {
            continue; // character, table and list styles carry no headings
        }
        let cch = usize::from(u16_at(std, cb_base).unwrap_or(0));
        let name_units: Vec<u16> = (0..cch)
            .map_while(|i| u16_at(std, cb_base + 2 + 2 * i))
            .collect();
        let mut name = String::from_utf16_lossy(&name_units);
        // Built-in styles by their identifier: "heading 1"-"heading 9", "Title".
        if (1..=9).contains(&sti) {
            name = format!("heading {sti}");
        } else if sti == 62 {
            name = "Title".into();
        }
        // The paragraph UPX follows the name (and its terminating zero), at an even offset.
        let mut upx = cb_base + 2 + 2 * cch + 2;
        upx += upx % 2;
        let mut props = ParaProps::default();
        if let Some(cb_upx) = u16_at(std, upx).map(usize::from)
            && let Some(bytes) = std.get(upx + 2..upx + 2 + cb_upx)
        {
            props.apply(bytes.get(2..).unwrap_or_default(), data, false);
        }
        let num = props
            .ilfo
            .map(|ilfo| (ilfo.max(0).to_string(), props.ilvl.unwrap_or(0).min(8)));
        styles.by_id.insert(
            istd.to_string(),
            Style {
                name,
                based_on: (base != 0x0FFF).then(|| base.to_string()),
                outline: props.outline,
                num,
            },
        );
    }
    styles
}

/// A list level (`LVL`) at `at`: the level and the bytes it takes.
fn parse_level(b: &[u8], at: usize) -> Option<(Level, usize)> {
    let lvlf = b.get(at..at + 28)?;
    let start = u32_at(lvlf, 0)?;
    let nfc = lvlf[4];
    let legal = lvlf[5] & 0x04 != 0;
    let (cb_chpx, cb_papx) = (usize::from(lvlf[24]), usize::from(lvlf[25]));
    let xst = at + 28 + cb_papx + cb_chpx;
    let cch = usize::from(u16_at(b, xst)?);
    let mut text = String::new();
    for i in 0..cch {
        let unit = u16_at(b, xst + 2 + 2 * i)?;
        if unit < 9 {
            // A placeholder for the number of level `unit`.
            text.push_str(&format!("%{}", unit + 1));
        } else {
            text.push(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'));
        }
    }
    let format = match nfc {
        1 => "upperRoman",
        2 => "lowerRoman",
        3 => "upperLetter",
        4 => "lowerLetter",
        5 => "ordinal",
        22 => "decimalZero",
        23 => "bullet",
        255 => "none",
        _ => "decimal",
    };
    let level = Level {
        start,
        format: format.into(),
        text,
        legal,
    };
    Some((level, xst + 2 + 2 * cch - at))
}

/// The list definitions (`PlfLst` and the `LVL`s after it) and instances (`PlfLfo`), as
/// [`Numbering`]: list ids are `lsid`s, instance ids 1-based `LFO` indexes, both as text.
fn parse_lists(table: &[u8], plf_lst: Option<(usize, &[u8])>, plf_lfo: Option<&[u8]>) -> Numbering {
    let mut numbering = Numbering::default();
    if let Some((fc, lst)) = plf_lst {
        let count = u16_at(lst, 0).unwrap_or(0) as usize;
        // The LVLs follow the PlfLst, in the table stream.
        let mut at = fc + 2 + 28 * count;
        for i in 0..count {
            let Some(lstf) = lst.get(2 + 28 * i..2 + 28 * (i + 1)) else {
                break;
            };
            let lsid = u32_at(lstf, 0).unwrap_or(0) as i32;
            let simple = lstf[26] & 0x01 != 0;
            let mut levels = vec![Level::default(); 9];
            for level in levels.iter_mut().take(if simple { 1 } else { 9 }) {
                let Some((lvl, size)) = parse_level(table, at) else {
                    break;
                };
                *level = lvl;
                at += size;
            }
            numbering.abstracts.insert(lsid.to_string(), levels);
        }
    }
    if let Some(lfo) = plf_lfo {
        let count = u32_at(lfo, 0).unwrap_or(0).min(0x7FFF) as usize;
        // After the LFOs come their LFOData, in order: cp, then `clfolvl` LFOLVLs.
        let mut at = 4 + 16 * count;
        for i in 0..count {
            let Some(entry) = lfo.get(4 + 16 * i..4 + 16 * (i + 1)) else {
                break;
            };
            let lsid = u32_at(entry, 0).unwrap_or(0) as i32;
            let clfolvl = usize::from(entry[12]);
            let mut overrides = HashMap::new();
            // Every LFO has its LFOData, even without overrides: `cp`, then the LFOLVLs.
            at += 4;
            for _ in 0..clfolvl {
                let (Some(start), Some(flags)) = (u32_at(lfo, at), u32_at(lfo, at + 4)) else {
                    break;
                };
                at += 8;
                let ilvl = (flags & 0x0F) as u8;
                if flags & 0x10 != 0 {
                    overrides.insert(ilvl, start);
                }
                if flags & 0x20 != 0 {
                    // fFormatting: a whole LVL follows.
                    match parse_level(lfo, at) {
                        Some((_, size)) => at += size,
                        None => break,
                    }
                }
            }
            numbering
                .nums
                .insert((i + 1).to_string(), (lsid.to_string(), overrides));
        }
    }
    numbering
}

// ---------------------------------------------------------------------------------------
// Title

/// The code page (`PID_CODEPAGE`) of the `SummaryInformation` property set.
fn summary_codepage(b: &[u8]) -> Option<u16> {
    let section = u32_at(b, 44)? as usize;
    let count = u32_at(b, section + 4)? as usize;
    (0..count.min(1024)).find_map(|i| {
        let id = u32_at(b, section + 8 + 8 * i)?;
        let at = section + u32_at(b, section + 12 + 8 * i)? as usize;
        (id == 1).then(|| u16_at(b, at + 4)).flatten()
    })
}

/// The title (`PIDSI_TITLE`) of the `SummaryInformation` property set.
pub(super) fn summary_title(b: &[u8]) -> Option<String> {
    let section = u32_at(b, 44)? as usize;
    let count = u32_at(b, section + 4)? as usize;
    let codepage = summary_codepage(b).unwrap_or(1252);
    let title = (0..count.min(1024)).find_map(|i| {
        let id = u32_at(b, section + 8 + 8 * i)?;
        let at = section + u32_at(b, section + 12 + 8 * i)? as usize;
        (id == 2).then_some(at)
    });
    let at = title?;
    let ty = u32_at(b, at)?;
    let len = u32_at(b, at + 4)? as usize;
    let text = match ty {
        // VT_LPSTR, in the set's code page (UTF-16 when it says 1200).
        0x1E if codepage == 1200 => {
            let units: Vec<u16> = (0..len / 2)
                .map_while(|i| u16_at(b, at + 8 + 2 * i))
                .collect();
            String::from_utf16_lossy(&units)
        }
        0x1E => {
            let bytes = b.get(at + 8..at + 8 + len)?;
            codepage_encoding(codepage).decode(bytes).0.into_owned()
        }
        // VT_LPWSTR.
        0x1F => {
            let units: Vec<u16> = (0..len).map_while(|i| u16_at(b, at + 8 + 2 * i)).collect();
            String::from_utf16_lossy(&units)
        }
        _ => return None,
    };
    let title = text
        .trim_end_matches('\0')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then_some(title)
}

// ---------------------------------------------------------------------------------------
// Stories → blocks

/// Which story is read: decides what a note mark (character 2) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    Body,
    Footnotes,
    Endnotes,
    Other,
}

/// A document open for reading.
struct Doc {
    word: Vec<u8>,
    pieces: Vec<Piece>,
    /// How 8-bit pieces decode.
    bytes: [u16; 256],
    paragraphs: Runs<ParaProps>,
    deleted: Runs<()>,
    styles: Styles,
    numbering: Numbering,
    endnote_refs: Vec<u32>,
    footnotes_seen: usize,
    endnotes_seen: usize,
    next_table: usize,
}

impl Doc {
    /// The blocks of the story at `cps`.
    fn blocks(&mut self, cps: Range<u32>, story: Story) -> Result<Vec<Block>, ExtractError> {
        let units = units(&self.word, &self.pieces, &self.bytes, cps)?;
        // Paragraph properties describe the stream by offset. A file whose property pages miss
        // a paragraph mark of this story (a writer's bug, seen in the wild) gets none: the
        // text is then read without headings or lists, and table rows end at an empty cell
        // mark, rather than cut into rows by properties that belong elsewhere.
        let trusted = units
            .iter()
            .filter(|u| u.code == 0x0D || u.code == 0x07)
            .all(|u| self.paragraphs.at(u.offset).is_some());
        let mut out = Vec::new();
        let mut text: Vec<u16> = Vec::new();
        // Per open field: whether its separator was seen (its result is showing).
        let mut fields: Vec<bool> = Vec::new();
        let mut cell: Option<String> = None;
        let mut cells: Vec<String> = Vec::new();
        // The cell and the cells of the current row of a table inside a cell.
        let mut inner_cell = String::new();
        let mut inner_cells: Vec<String> = Vec::new();
        let mut table: Option<usize> = None;
        let mut note = (0usize, None::<String>);
        let mut last_was_cell_end = false;
        for u in units {
            match u.code {
                0x13 => fields.push(false),
                0x14 => {
                    if let Some(f) = fields.last_mut() {
                        *f = true;
                    }
                }
                0x15 => {
                    fields.pop();
                }
                0x0D | 0x07 => {
                    let props = self.paragraphs.at(u.offset).filter(|_| trusted).cloned();
                    let known = props.is_some();
                    let props = props.unwrap_or_default();
                    let cell_end = u.code == 0x07;
                    let row_end = cell_end
                        && if known {
                            props.row_end
                        } else {
                            last_was_cell_end && text.is_empty()
                        };
                    last_was_cell_end = cell_end && !row_end;
                    if row_end {
                        let id = *table.get_or_insert_with(|| {
                            self.next_table += 1;
                            self.next_table
                        });
                        if let Some(row) = row_text(&std::mem::take(&mut cells)) {
                            out.push(Block {
                                text: row,
                                table: Some(id),
                                note: note.0,
                            });
                        }
                        text.clear();
                        continue;
                    }
                    let para = Para {
                        text: String::from_utf16_lossy(&std::mem::take(&mut text)),
                        style: Some(props.istd.to_string()),
                        outline: props.outline,
                        num_id: props.ilfo.map(|i| i.max(0).to_string()),
                        ilvl: props.ilvl,
                    };
                    let line = finish_paragraph(para, &self.styles, &mut self.numbering);
                    let nested = !cell_end && props.depth.is_some_and(|d| d >= 2);
                    if nested && props.inner_row_end {
                        // A row of a table inside a cell joins the cell, "; " apart (as in
                        // DOCX).
                        if let Some(row) = row_text(&std::mem::take(&mut inner_cells)) {
                            join(cell.get_or_insert_with(String::new), "; ", &row);
                        }
                    } else if nested {
                        if let Some(line) = line {
                            join(&mut inner_cell, " ", &line);
                        }
                        if props.inner_cell_end {
                            inner_cells.push(collapse(&std::mem::take(&mut inner_cell)));
                        }
                    } else if cell_end || props.in_table {
                        let c = cell.get_or_insert_with(String::new);
                        if let Some(line) = line {
                            join(c, " ", &line);
                        }
                        if cell_end {
                            cells.push(collapse(&cell.take().unwrap_or_default()));
                        }
                    } else {
                        table = None;
                        if let Some(mut line) = line {
                            if let Some(mark) = note.1.take() {
                                line = format!("{mark} {line}");
                            }
                            out.push(Block {
                                text: line,
                                table: None,
                                note: note.0,
                            });
                        }
                    }
                }
                _ if fields.iter().any(|showing| !showing) => {}
                _ if self.deleted.at(u.offset).is_some() => {}
                0x02 => match story {
                    Story::Body if self.endnote_refs.binary_search(&u.cp).is_ok() => {
                        self.endnotes_seen += 1;
                        let mark = format!("[{}]", roman(self.endnotes_seen as u32).to_lowercase());
                        text.extend(mark.encode_utf16());
                    }
                    Story::Body => {
                        self.footnotes_seen += 1;
                        text.extend(format!("[{}]", self.footnotes_seen).encode_utf16());
                    }
                    Story::Footnotes | Story::Endnotes => {
                        let n = note.0 + 1;
                        let mark = if story == Story::Endnotes {
                            format!("[{}]", roman(n as u32).to_lowercase())
                        } else {
                            format!("[{n}]")
                        };
                        note = (n, Some(mark));
                    }
                    Story::Other => {}
                },
                0x09 => text.push(u16::from(b'\t')),
                // Line, page, column and section breaks.
                0x0B | 0x0C | 0x0E => text.push(u16::from(b'\n')),
                // Non-breaking hyphen; the optional hyphen is left out.
                0x1E => text.push(u16::from(b'-')),
                c if c < 0x20 => {}
                c => text.push(c),
            }
        }
        // A row left open by damaged properties still gives its text.
        if let Some(c) = cell.take() {
            cells.push(collapse(&c));
        }
        if let Some(row) = row_text(&cells) {
            out.push(Block {
                text: row,
                table: Some(table.unwrap_or(self.next_table + 1)),
                note: note.0,
            });
        }
        let rest = collapse(&String::from_utf16_lossy(&text));
        if !rest.is_empty() {
            out.push(Block {
                text: rest,
                table: None,
                note: note.0,
            });
        }
        Ok(out)
    }
}

/// Appends `line` to a cell's text, `sep` apart; heading marks are dropped there.
fn join(cell: &mut String, sep: &str, line: &str) {
    if !cell.is_empty() {
        cell.push_str(sep);
    }
    cell.push_str(line.trim_start_matches('#').trim_start());
}

/// Extracts a Word 97–2003 document (see the module docs).
pub fn extract_doc(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    if bytes.trim_ascii_start().starts_with(b"{\\rtf") {
        return rtf::extract_rtf(bytes);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return docx::extract_docx(bytes);
    }
    if wpd::is_wordperfect(bytes) {
        return wpd::extract_wpd(bytes);
    }
    if !bytes.starts_with(&CFB_MAGIC) {
        return Err(corrupt(
            "not a Word 97–2003 document (no compound-file header); if Word opens it, save it \
             as .docx",
        ));
    }
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| corrupt(format!("unreadable compound file: {e}")))?;
    let word = stream(&mut cfb, "/WordDocument").ok_or_else(|| {
        corrupt("a compound file without a WordDocument stream: not a Word document")
    })?;
    let fib = Fib::parse(&word)?;
    let table = if fib.old {
        Vec::new()
    } else {
        let name = if fib.table1 { "/1Table" } else { "/0Table" };
        stream(&mut cfb, name).ok_or_else(|| corrupt(format!("no {} stream", &name[1..])))?
    };
    let data = stream(&mut cfb, "/Data").unwrap_or_default();
    let summary = stream(&mut cfb, "/\u{5}SummaryInformation").unwrap_or_default();
    let mut x = extract_streams(word, &fib, &table, &data, summary_codepage(&summary))?;
    x.title = summary_title(&summary);
    Ok(x)
}

/// The text of a document from its streams: `WordDocument` (with its parsed FIB), the table
/// stream and `Data` (empty when there is none), and the code page the summary names.
fn extract_streams(
    word: Vec<u8>,
    fib: &Fib,
    table: &[u8],
    data: &[u8],
    codepage: Option<u16>,
) -> Result<ExtractedText, ExtractError> {
    let (pieces, encoding) = if fib.old {
        // Word 6.0/95 text is in the document's code page.
        let pieces = old_pieces(&word, fib)?;
        let encoding = old_encoding(&word, &pieces, codepage);
        (pieces, encoding)
    } else {
        let clx = fib
            .part(table, CLX)
            .ok_or_else(|| corrupt("no piece table (Clx)"))?;
        (pieces(clx, false)?, encoding_rs::WINDOWS_1252)
    };
    let plf_lst = fib
        .part(table, PLF_LST)
        .map(|b| (fib.fc_lcb[PLF_LST].0 as usize, b));
    let mut doc = Doc {
        paragraphs: fib
            .part(table, PLCF_BTE_PAPX)
            .map(|plc| paragraph_runs(&word, plc, data))
            .unwrap_or_default(),
        deleted: fib
            .part(table, PLCF_BTE_CHPX)
            .map(|plc| deletions(&word, plc))
            .unwrap_or_default(),
        styles: fib
            .part(table, STSHF)
            .map(|s| parse_styles(s, data))
            .unwrap_or_default(),
        numbering: parse_lists(table, plf_lst, fib.part(table, PLF_LFO)),
        endnote_refs: note_refs(fib.part(table, PLCFEND_REF)),
        endnotes_seen: 0,
        footnotes_seen: 0,
        next_table: 0,
        pieces,
        bytes: byte_table(encoding),
        word,
    };
    let mut out = Builder::default();
    for story in [TEXT, TXBX] {
        for block in doc.blocks(fib.story(story), Story::Body)? {
            out.block(&block);
        }
    }
    for (story, kind, heading) in [
        (FTN, Story::Footnotes, "Footnotes"),
        (EDN, Story::Endnotes, "Endnotes"),
    ] {
        let notes = doc.blocks(fib.story(story), kind)?;
        if !notes.is_empty() {
            out.section(heading);
            for block in &notes {
                out.block(block);
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let running: Vec<Block> = doc
        .blocks(fib.story(HDD), Story::Other)?
        .into_iter()
        .filter(|b| seen.insert(b.text.clone()))
        .collect();
    if !running.is_empty() {
        out.section("Headers and footers");
        for block in &running {
            out.block(block);
        }
    }
    Ok(ExtractedText {
        text: out.text,
        paragraphs: out.paragraphs,
        ..ExtractedText::default()
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    /// Made by LibreOffice from `lease.fodt`, `redline.fodt` and `nested.fodt`
    /// (scripts/make-doc-fixtures):
    /// the Word 97–2003 file and its Office Open XML twin.
    const LEASE: &[u8] = include_bytes!("../../tests/fixtures/doc/lease.doc");
    const LEASE_DOCX: &[u8] = include_bytes!("../../tests/fixtures/doc/lease.docx");
    const REDLINE: &[u8] = include_bytes!("../../tests/fixtures/doc/redline.doc");
    const REDLINE_DOCX: &[u8] = include_bytes!("../../tests/fixtures/doc/redline.docx");
    const NESTED: &[u8] = include_bytes!("../../tests/fixtures/doc/nested.doc");
    const NESTED_DOCX: &[u8] = include_bytes!("../../tests/fixtures/doc/nested.docx");

    fn paragraphs(x: &ExtractedText) -> Vec<&str> {
        x.paragraphs.iter().map(|r| &x.text[r.clone()]).collect()
    }

    #[test]
    fn a_doc_reads_as_the_same_document_saved_as_docx() {
        for (doc, docx_twin) in [
            (LEASE, LEASE_DOCX),
            (REDLINE, REDLINE_DOCX),
            (NESTED, NESTED_DOCX),
        ] {
            let x = extract_doc(doc).unwrap();
            assert_eq!(x, docx::extract_docx(docx_twin).unwrap(), "{}", x.text);
        }
    }

    #[test]
    fn headings_list_numbers_tables_fields_and_footnotes_are_read() {
        let x = extract_doc(LEASE).unwrap();
        assert_eq!(x.title.as_deref(), Some("Commercial Lease (Harbor Street)"));
        let p = paragraphs(&x);
        assert_eq!(
            p[..3],
            [
                "# Commercial Lease",
                "# Article 1 Rent",
                "Tenant shall pay the monthly rent of $4,500 on the first day of each month.[1] \
             Payments go to the Landlord\u{2019}s office at 12 Harbor Street."
            ]
        );
        assert_eq!(
            p[3..9],
            [
                "1. Base rent is fixed for the first lease year.",
                "  1.1 Rent rises by three percent each later year.",
                "    (a) unless the Tenant renews early; or",
                "    (b) the Landlord waives the increase in writing.",
                "2. Operating expenses are billed quarterly.",
                "## Late Charge",
            ]
        );
        // The hyperlink's result is kept, its instruction dropped.
        assert!(
            p[9].contains("see the fee schedule and \u{a7} 4.2"),
            "{}",
            p[9]
        );
        assert!(!x.text.contains("HYPERLINK") && !x.text.contains("example.com"));
        assert!(
            x.text
                .contains("\n\nYear | Monthly rent | Due\n2027 | $4,500 | 1st\n2028 |  | 1st\n\n")
        );
        assert!(
            x.text.contains("after notice,\nLandlord may terminate"),
            "a line break stays"
        );
        assert!(
            x.text.ends_with(
                "# Footnotes\n\n[1] Rent is payable in lawful money of the United States."
            )
        );
    }

    #[test]
    fn a_table_inside_a_cell_joins_that_cell_row_by_row() {
        let x = extract_doc(NESTED).unwrap();
        assert_eq!(
            paragraphs(&x),
            [
                "Before.",
                "Party | Signature block; Name | Ann Lee; Title | CEO Witness line",
                "Tenant | Bob Poe",
                "After.",
            ]
        );
    }

    #[test]
    fn tracked_deletions_are_left_out_and_endnotes_headers_and_footers_follow_the_body() {
        let x = extract_doc(REDLINE).unwrap();
        assert_eq!(
            x.title.as_deref(),
            Some("Amendment No. 2 \u{2014} Supply Agreement")
        );
        assert!(x.text.contains(
            "## Term\n\nThe initial term is twenty-four (24) months from the Effective Date.[i]"
        ));
        assert!(
            !x.text.contains("twelve"),
            "a tracked deletion is not text: {}",
            x.text
        );
        // A style of the writer's own, based on "heading 1", with outline level 2.
        assert!(
            x.text
                .contains("## Remedies\n\n(i) Supplier shall repair the goods;\n\n(ii) failing")
        );
        assert!(x.text.contains("Stra\u{df}e, na\u{ef}ve caf\u{e9}, \u{bd} \u{2014} \u{201c}quoted\u{201d} and \u{20ac}100."));
        assert!(x.text.ends_with(
            "# Endnotes\n\n[i] As defined in the Supply Agreement of 1 March 2025.\n\n\
             # Headers and footers\n\nSupply Agreement \u{2013} Amendment No. 2 \u{2013} Confidential\n\nPage 1"
        ));
    }

    /// A minimal Word 97 file: a FIB, the pieces' characters laid out in the stream in the
    /// order given (each `(text, compressed)`), and a piece table that puts them in CP order
    /// `order`. No styles, paragraph or list properties.
    fn synthetic(pieces: &[(&str, bool)], order: &[usize], flags: u16, n_fib: u16) -> Vec<u8> {
        let mut word = vec![0u8; 1024];
        word[0..2].copy_from_slice(&0xA5ECu16.to_le_bytes());
        word[2..4].copy_from_slice(&n_fib.to_le_bytes());
        word[0x0A..0x0C].copy_from_slice(&(flags | 0x0200).to_le_bytes());
        word[32..34].copy_from_slice(&14u16.to_le_bytes());
        let lw = 34 + 28;
        word[lw..lw + 2].copy_from_slice(&22u16.to_le_bytes());
        let fc = lw + 2 + 88;
        word[fc..fc + 2].copy_from_slice(&93u16.to_le_bytes());
        // Characters, in the order given.
        let mut at_of = Vec::new();
        let mut lens = Vec::new();
        for (text, compressed) in pieces {
            at_of.push(word.len());
            if *compressed {
                let (b, _, _) = encoding_rs::WINDOWS_1252.encode(text);
                lens.push(b.len() as u32);
                word.extend_from_slice(&b);
            } else {
                let units: Vec<u16> = text.encode_utf16().collect();
                lens.push(units.len() as u32);
                word.extend(units.iter().flat_map(|u| u.to_le_bytes()));
            }
        }
        // The piece table, in CP order.
        let mut cps = vec![0u32];
        let mut pcds = Vec::new();
        for &i in order {
            cps.push(cps.last().unwrap() + lens[i]);
            let fc = if pieces[i].1 {
                (at_of[i] as u32 * 2) | 0x4000_0000
            } else {
                at_of[i] as u32
            };
            pcds.extend_from_slice(&[0, 0]);
            pcds.extend_from_slice(&fc.to_le_bytes());
            pcds.extend_from_slice(&[0, 0]);
        }
        let ccp = *cps.last().unwrap();
        word[lw + 2 + 12..lw + 2 + 16].copy_from_slice(&ccp.to_le_bytes());
        let mut plc: Vec<u8> = cps.iter().flat_map(|c| c.to_le_bytes()).collect();
        plc.extend_from_slice(&pcds);
        let mut table = vec![0x02];
        table.extend_from_slice(&(plc.len() as u32).to_le_bytes());
        table.extend_from_slice(&plc);
        let clx = fc + 2 + 8 * CLX;
        word[clx..clx + 4].copy_from_slice(&0u32.to_le_bytes());
        word[clx + 4..clx + 8].copy_from_slice(&(table.len() as u32).to_le_bytes());
        let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        cfb.create_stream("/WordDocument")
            .unwrap()
            .write_all(&word)
            .unwrap();
        cfb.create_stream("/1Table")
            .unwrap()
            .write_all(&table)
            .unwrap();
        cfb.flush().unwrap();
        cfb.into_inner().into_inner()
    }

    #[test]
    fn pieces_are_read_in_their_logical_order_in_either_width() {
        // As a fast save leaves them: the second piece first in the stream, one 8-bit
        // (Windows-1252), one UTF-16.
        let doc = synthetic(
            &[
                (
                    "Der Mieter zahlt \u{2013} 5 \u{20ac} Mahngeb\u{fc}hr.\r",
                    false,
                ),
                (
                    "ARTICLE 1 RENT\r\u{13} HYPERLINK \"x\" \u{14}Ann\u{1f}ex\u{15} A \u{2014} caf\u{e9}\r",
                    true,
                ),
            ],
            &[1, 0],
            0,
            0x00C1,
        );
        let x = extract_doc(&doc).unwrap();
        assert_eq!(
            x.text,
            "ARTICLE 1 RENT\n\nAnnex A \u{2014} caf\u{e9}\n\nDer Mieter zahlt \u{2013} 5 \u{20ac} Mahngeb\u{fc}hr."
        );
        assert_eq!(x.title, None);
    }

    /// A Word 6.0/95 file: the old FIB, `text` (8-bit) from fcMin, or, fast-saved, two
    /// pieces in swapped order through a piece table at 0x160.
    fn word6(text: &[u8], fast_saved: bool) -> Vec<u8> {
        let mut word = vec![0u8; 768];
        word[0..2].copy_from_slice(&0xA5DCu16.to_le_bytes());
        word[2..4].copy_from_slice(&0x0065u16.to_le_bytes());
        word[0x18..0x1C].copy_from_slice(&768u32.to_le_bytes());
        word[0x34..0x38].copy_from_slice(&(text.len() as u32).to_le_bytes());
        let half = text.len() / 2;
        if fast_saved {
            word[0x0A] = 0x04;
            // The second half first in the stream.
            word.extend_from_slice(&text[half..]);
            word.extend_from_slice(&text[..half]);
            let (n, len) = (text.len() as u32, half as u32);
            let mut clx = vec![0x02];
            clx.extend_from_slice(&28u32.to_le_bytes());
            for cp in [0, len, n] {
                clx.extend_from_slice(&cp.to_le_bytes());
            }
            for fc in [768 + n - len, 768] {
                clx.extend_from_slice(&[0, 0]);
                clx.extend_from_slice(&fc.to_le_bytes());
                clx.extend_from_slice(&[0, 0]);
            }
            let at = word.len() as u32;
            word[0x160..0x164].copy_from_slice(&at.to_le_bytes());
            word[0x164..0x168].copy_from_slice(&(clx.len() as u32).to_le_bytes());
            word.extend_from_slice(&clx);
        } else {
            word.extend_from_slice(text);
        }
        let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        cfb.create_stream("/WordDocument")
            .unwrap()
            .write_all(&word)
            .unwrap();
        cfb.flush().unwrap();
        cfb.into_inner().into_inner()
    }

    #[test]
    fn word_6_and_95_files_are_read_in_the_code_page_of_their_text() {
        let russian = "Договор аренды\rАрендатор обязуется вносить арендную плату ежемесячно \
                       не позднее десятого числа каждого месяца.\r";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(russian);
        for fast_saved in [false, true] {
            let x = extract_doc(&word6(&bytes, fast_saved)).unwrap();
            assert_eq!(
                x.text,
                russian.trim_end().replace('\r', "\n\n"),
                "fast-saved: {fast_saved}"
            );
        }
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("Caf\u{e9} \u{2014} Pr\u{e4}ambel\r");
        assert_eq!(
            extract_doc(&word6(&bytes, false)).unwrap().text,
            "Caf\u{e9} \u{2014} Pr\u{e4}ambel"
        );
    }

    #[test]
    fn without_paragraph_properties_a_table_row_ends_at_an_empty_cell_mark() {
        let doc = synthetic(
            &[(
                "Item\u{7}Amount\u{7}\u{7}Rent\u{7}$4,800\u{7}\u{7}After.\r",
                true,
            )],
            &[0],
            0,
            0x00C1,
        );
        assert_eq!(
            extract_doc(&doc).unwrap().text,
            "Item | Amount\nRent | $4,800\n\nAfter."
        );
    }

    #[test]
    fn encrypted_old_and_foreign_files_are_refused_with_the_fix() {
        let encrypted = synthetic(&[("Secret.\r", true)], &[0], 0x0100, 0x00C1);
        assert_eq!(
            extract_doc(&encrypted),
            Err(ExtractError::Encrypted { kind: "doc" })
        );
        let word2 = synthetic(&[("Old.\r", true)], &[0], 0, 0x002D);
        let e = extract_doc(&word2).unwrap_err();
        assert!(
            matches!(e, ExtractError::Unsupported { .. })
                && e.to_string().contains("save it as .docx"),
            "{e}"
        );
        let e = extract_doc(b"just some text, named .doc").unwrap_err();
        assert!(
            e.to_string().contains("not a Word 97\u{2013}2003 document"),
            "{e}"
        );
        let mut other = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        other
            .create_stream("/Workbook")
            .unwrap()
            .write_all(b"cells")
            .unwrap();
        other.flush().unwrap();
        let e = extract_doc(&other.into_inner().into_inner()).unwrap_err();
        assert!(
            e.to_string().contains("without a WordDocument stream"),
            "{e}"
        );
    }

    #[test]
    fn rtf_and_docx_files_named_doc_are_read_as_what_they_are() {
        let rtf = br"{\rtf1\ansi{\stylesheet{\s1 heading 1;}}\pard\s1 Release\par\pard The releasor waives all claims.\par}";
        assert_eq!(
            extract_doc(rtf).unwrap().text,
            "# Release\n\nThe releasor waives all claims."
        );
        assert_eq!(
            extract_doc(LEASE_DOCX).unwrap(),
            docx::extract_docx(LEASE_DOCX).unwrap()
        );
    }

    /// The streams of a `.doc`, to damage one at a time.
    fn streams(bytes: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes)).unwrap();
        let word = stream(&mut cfb, "/WordDocument").unwrap();
        let table = stream(&mut cfb, "/1Table")
            .or_else(|| stream(&mut cfb, "/0Table"))
            .unwrap();
        let data = stream(&mut cfb, "/Data").unwrap_or_default();
        (word, table, data)
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        /// Our own reading of the streams (cfb's is isolated like the other parsers):
        /// damaged bytes anywhere give text or an error, never a panic or a bad range.
        #[test]
        fn fuzz_doc_reading_never_panics(
            which in 0usize..3,
            hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
            raw in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            for fixture in [LEASE, REDLINE, NESTED] {
                let (mut word, mut table, mut data) = streams(fixture);
                let target = match which {
                    0 => &mut word,
                    1 => &mut table,
                    _ => &mut data,
                };
                if !target.is_empty() {
                    for (i, b) in &hits {
                        let at = i.index(target.len());
                        target[at] = *b;
                    }
                }
                let Ok(fib) = Fib::parse(&word) else { continue };
                if let Ok(x) = extract_streams(word, &fib, &table, &data, None) {
                    for r in &x.paragraphs {
                        prop_assert!(r.start <= r.end && r.end <= x.text.len());
                        prop_assert!(x.text.is_char_boundary(r.start) && x.text.is_char_boundary(r.end));
                    }
                }
            }
            // A Word 6.0/95 file, fast-saved, damaged the same way.
            let (cyrillic, _, _) = encoding_rs::WINDOWS_1251.encode("Договор аренды\rСрок.\r");
            let old = word6(&cyrillic, true);
            let mut cfb = cfb::CompoundFile::open(Cursor::new(&old[..])).unwrap();
            let mut word = stream(&mut cfb, "/WordDocument").unwrap();
            for (i, b) in &hits {
                let at = i.index(word.len());
                word[at] = *b;
            }
            if let Ok(fib) = Fib::parse(&word) {
                let _ = extract_streams(word, &fib, &[], &[], None);
            }
            let _ = summary_title(&raw);
            let _ = sprms(&raw);
            let _ = parse_styles(&raw, &raw);
            let _ = parse_lists(&raw, Some((0, &raw)), Some(&raw));
            let _ = pieces(&raw, false);
            let _ = Fib::parse(&raw);
        }
    }
}
