//! Spreadsheets (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`, and their templates), read with
//! `calamine`: privilege logs, closing checklists, disclosure schedules, damages tables.
//!
//! Each sheet becomes a section: a `# Sheet name` heading (`# Name (hidden)` for a hidden
//! sheet: hidden data is still the document's, and review wants to find it), then one
//! paragraph per non-empty row, its cells joined by ` | ` as every reader writes table rows
//! (trailing empty cells left out). Rows are paragraphs of their own, not lines of one
//! table, so that a hit's pinpoint is the row that answers. Values are written as the sheet
//! shows them: text as is; numbers as their cell's number format shows them (`$1,250.50`,
//! `5.25%`, `($1,200.00)`), rendered by [`super::numfmt`] from the format codes of an
//! `.xlsx` (calamine's styles) or an `.xls` (our own pass over its BIFF8 records,
//! `Displays`), or taken from the text an `.ods` stores beside the value; otherwise
//! (General, `.xlsb`, what `numfmt` does not render) whole numbers without a decimal point
//! and others to at most 10 decimals; dates as `2021-03-04` (`2021-03-04 14:30` with a time)
//! whatever their format, times of day as `14:30`, durations as `[h]:mm:ss`, booleans as
//! `TRUE`/`FALSE`, errors as Excel writes them (`#N/A`). Formulas give their last computed
//! value, which the file stores.
//!
//! Sections and breadcrumbs therefore come from the sheets, and each row is a numbered
//! paragraph. Refused with a reason: encrypted workbooks ([`ExtractError::Encrypted`]) and
//! files that are not a workbook `calamine` can read.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, SheetType, SheetVisible};

use super::msg::stream;
use super::numfmt::{self, NumberFormat};
use super::package;
use super::types::{ExtractError, ExtractedText, Extractor, latin1, u16_at, u32_at, utf16le};
use super::word::{Block, Builder, collapse, row_text};

/// The spreadsheet extractor.
#[derive(Debug, Clone, Copy, Default)]
pub struct SheetExtractor;

impl Extractor for SheetExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_sheet(bytes)
    }
}

/// A zip package (`.xlsx`, `.xlsb`, `.ods`) read from memory.
type Package<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// The compound-file signature (`.xls`, and encrypted `.xlsx`).
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Extracts a workbook (see the module docs).
pub fn extract_sheet(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    let mut displays = Displays::default();
    if bytes.starts_with(&CFB_MAGIC) {
        // A compound file: an .xls, or an encrypted Office Open XML workbook. It is opened
        // with `cfb` first, which refuses damaged ones cleanly (calamine's own compound-file
        // reader can panic on them).
        let mut c =
            cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|e| ExtractError::Corrupt {
                kind: "spreadsheet",
                reason: format!("a damaged compound file ({e})"),
            })?;
        if c.exists("/EncryptionInfo") || c.exists("/EncryptedPackage") {
            return Err(ExtractError::Encrypted {
                kind: "spreadsheet",
            });
        }
        let Some(workbook) = stream(&mut c, "/Workbook").or_else(|| stream(&mut c, "/Book")) else {
            return Err(ExtractError::Corrupt {
                kind: "spreadsheet",
                reason: "a compound file without a Workbook stream: not an Excel workbook".into(),
            });
        };
        check_dimensions(&workbook)?;
        displays = Displays::read_xls(&workbook);
    }
    // A zip package's directory, read once for the checks, the reader and the title.
    let mut parts = bytes
        .starts_with(b"PK")
        .then(|| zip::ZipArchive::new(Cursor::new(bytes)).ok())
        .flatten();
    if let Some(zip) = &mut parts {
        check_shared_strings(zip)?;
        if zip.index_for_name("content.xml").is_some() {
            displays = Displays::read_ods(zip);
        }
    }
    let mut book = open(bytes, parts.as_ref())?;
    let sheets = book.sheets_metadata().to_vec();
    let mut b = Builder::default();
    // Chart, dialog and macro sheets hold no cells.
    for sheet in sheets.iter().filter(|s| s.typ == SheetType::WorkSheet) {
        let mut rows = sheet_rows(&mut book, &sheet.name, &displays)?;
        if rows.is_empty() {
            continue;
        }
        let mut name = collapse(&sheet.name);
        if sheet.visible != SheetVisible::Visible {
            name.push_str(" (hidden)");
        }
        b.section(&with_columns(&name, &mut rows));
        // Rows stand apart (not joined as a Word table's are): each is a paragraph, so a
        // hit's pinpoint is the row that answers, not the whole sheet.
        for row in rows {
            b.block(&Block {
                text: row.text,
                table: None,
                note: 0,
            });
        }
    }
    Ok(ExtractedText {
        text: b.text,
        paragraphs: b.paragraphs,
        title: parts.as_mut().and_then(zip_title),
        ..ExtractedText::default()
    })
}

/// The title of a zipped workbook: `dc:title` of `docProps/core.xml` (`.xlsx`, `.xlsm`) or
/// of `meta.xml` (`.ods`). A nicety: a missing or damaged part gives none.
fn zip_title(zip: &mut Package<'_>) -> Option<String> {
    use std::io::Read;
    for part in ["docProps/core.xml", "meta.xml"] {
        let Ok(entry) = zip.by_name(part) else {
            continue;
        };
        let mut xml = String::new();
        // A title part is a few hundred bytes; a larger one is read only in part.
        entry.take(1 << 20).read_to_string(&mut xml).ok()?;
        return package::dc_title(&xml);
    }
    None
}

/// The most rows an `.xls` sheet holds.
const XLS_ROWS: u64 = 65_536;
/// The largest used area accepted from an `.xls` DIMENSIONS record, in cells: 64 Mi cells
/// (calamine reserves about 40 bytes a cell, so 2.5 GB of address space at most). Real files
/// stay far below it; some writers record more columns than the format's 256 (a file of
/// Apache POI's corpus claims 28,314), so the bound is the area, not the columns.
const XLS_MAX_AREA: u64 = 1 << 26;

/// Refuses an encrypted `.xls` (a FILEPASS record), and one whose DIMENSIONS record (a
/// sheet's used area, BIFF record 0x0200) claims more rows than the format holds or an
/// area past [`XLS_MAX_AREA`]: calamine reserves memory for the whole area before it reads
/// a cell, and a damaged record can ask for hundreds of gigabytes, which aborts the process
/// (no panic to catch).
fn check_dimensions(workbook: &[u8]) -> Result<(), ExtractError> {
    for (typ, data) in biff_records(workbook, 0) {
        // FILEPASS: the records after it are encrypted (RC4) or obfuscated (XOR), so their
        // values mean nothing until decrypted.
        if typ == 0x002F {
            return Err(ExtractError::Encrypted {
                kind: "spreadsheet",
            });
        }
        if typ == 0x0200 {
            let (first_row, last_row, first_col, last_col) = match data.len() {
                10 => (
                    u64::from(u16_at(data, 0).unwrap_or(0)),
                    u64::from(u16_at(data, 2).unwrap_or(0)),
                    u64::from(u16_at(data, 4).unwrap_or(0)),
                    u64::from(u16_at(data, 6).unwrap_or(0)),
                ),
                14 | 16 => (
                    u64::from(u32_at(data, 0).unwrap_or(0)),
                    u64::from(u32_at(data, 4).unwrap_or(0)),
                    u64::from(u16_at(data, 8).unwrap_or(0)),
                    u64::from(u16_at(data, 10).unwrap_or(0)),
                ),
                _ => (0, 0, 0, 0),
            };
            // As calamine reads it: a first column past the format's last counts from 0.
            let first_col = if first_col > 0xFF || last_col < first_col {
                0
            } else {
                first_col
            };
            let rows = last_row.saturating_sub(first_row);
            let cols = last_col.saturating_sub(first_col);
            if rows > XLS_ROWS || rows.saturating_mul(cols) > XLS_MAX_AREA {
                return Err(ExtractError::Corrupt {
                    kind: "spreadsheet",
                    reason: format!(
                        "a sheet claims {rows} rows of {cols} columns, more than an .xls holds: \
                         a damaged file"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The BIFF records of an `.xls` workbook stream from byte `from`: each record's type and
/// data (cut short, as the stream is, for a last record the stream does not hold whole).
fn biff_records(workbook: &[u8], from: usize) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = from;
    std::iter::from_fn(move || {
        let typ = u16_at(workbook, at)?;
        let len = usize::from(u16_at(workbook, at + 2)?);
        let data = workbook.get(at + 4..at + 4 + len).unwrap_or_default();
        at += 4 + len;
        Some((typ, data))
    })
}

/// How a number cell is shown, where the reader knows: by an Excel number format (`.xlsx`,
/// `.xls`), or by the text an OpenDocument file stores beside the value (`.ods`).
#[derive(Debug, Clone, Copy)]
enum Shown<'a> {
    /// A number format, rendered by [`numfmt`].
    Format(&'a NumberFormat),
    /// The text the program that saved the file showed.
    Text(&'a str),
}

/// What one cell's entry in [`Displays`] holds.
#[derive(Debug)]
enum Display {
    /// An `.xls` XF record's index, whose format is in [`Displays::formats`].
    Xf(u16),
    /// An `.ods` cell's stored text.
    Text(String),
}

/// How the number cells of an `.xls` or `.ods` workbook are shown, which calamine reads past
/// (or does not read) and does not give out: by sheet name and (row, column).
#[derive(Debug, Default)]
struct Displays {
    /// `.xls`: each XF record's number format, `None` for General (and what is not rendered).
    formats: Vec<Option<NumberFormat>>,
    /// Sheet name → how its cells are shown.
    cells: HashMap<String, SheetDisplays>,
}

/// How a sheet's cells are shown, by (row, column).
type SheetDisplays = HashMap<(u32, u32), Display>;

/// The most `.ods` cells whose shown text is kept (a bound on memory for a hostile file
/// repeating one cell millions of times; cells past it are written plainly).
const MAX_SHOWN_CELLS: usize = 1 << 20;

impl Displays {
    /// How a sheet's cell is shown, when the workbook says.
    fn get(&self, sheet: &str, at: (u32, u32)) -> Option<Shown<'_>> {
        match self.cells.get(sheet)?.get(&at)? {
            Display::Xf(xf) => self
                .formats
                .get(usize::from(*xf))?
                .as_ref()
                .map(Shown::Format),
            Display::Text(t) => Some(Shown::Text(t)),
        }
    }

    /// An `.xls` workbook stream's number formats: the FORMAT, XF and BOUNDSHEET records of
    /// its globals, then each sheet's NUMBER, RK, MULRK and FORMULA cells. BIFF8 only (Excel
    /// 97 and later; older workbooks give none, and their numbers are written plainly).
    /// Records that cannot be read are passed over: calamine reads the values.
    fn read_xls(workbook: &[u8]) -> Displays {
        let mut out = Displays::default();
        // The globals, opened by a BOF record of version 0x0600.
        let mut globals = biff_records(workbook, 0);
        match globals.next() {
            Some((0x0809, bof)) if u16_at(bof, 0) == Some(0x0600) => {}
            _ => return out,
        }
        let mut formats: HashMap<u16, String> = HashMap::new();
        let mut xf_formats: Vec<u16> = Vec::new();
        let mut sheets: Vec<(String, usize)> = Vec::new();
        for (typ, data) in globals {
            match typ {
                // FORMAT: its id, then its code as an XLUnicodeString.
                0x041E => {
                    if let (Some(id), Some(code)) = (u16_at(data, 0), biff8_string(data, 2, true)) {
                        formats.insert(id, code);
                    }
                }
                // XF: the id of its format at byte 2.
                0x00E0 => xf_formats.push(u16_at(data, 2).unwrap_or(0)),
                // BOUNDSHEET8: where the sheet's records start, its type (0: a worksheet),
                // its name.
                0x0085 => {
                    if let (Some(pos), Some(0), Some(name)) =
                        (u32_at(data, 0), data.get(5), biff8_string(data, 6, false))
                    {
                        sheets.push((name, pos as usize));
                    }
                }
                // EOF of the globals.
                0x000A => break,
                _ => {}
            }
        }
        out.formats = xf_formats
            .iter()
            .map(|&id| match formats.get(&id) {
                Some(code) => NumberFormat::parse(code),
                None => numfmt::builtin(u32::from(id)).and_then(NumberFormat::parse),
            })
            .collect();
        for (name, pos) in sheets {
            let mut cells = HashMap::new();
            // After the sheet's own BOF record, to its EOF.
            for (typ, data) in biff_records(workbook, pos).skip(1) {
                let at =
                    |i: usize| Some((u32::from(u16_at(data, i)?), u32::from(u16_at(data, i + 2)?)));
                match typ {
                    // NUMBER, RK, FORMULA: row, column, XF index.
                    0x0203 | 0x027E | 0x0006 => {
                        if let (Some(pos), Some(xf)) = (at(0), u16_at(data, 4)) {
                            cells.insert(pos, Display::Xf(xf));
                        }
                    }
                    // MULRK: row, first column, then six bytes (XF index, RK value) a cell.
                    0x00BD => {
                        if let Some((row, first)) = at(0) {
                            let pairs = data.get(4..).unwrap_or_default().chunks_exact(6);
                            for (i, pair) in pairs.enumerate() {
                                if let Some(xf) = u16_at(pair, 0) {
                                    cells.insert((row, first + i as u32), Display::Xf(xf));
                                }
                            }
                        }
                    }
                    0x000A => break,
                    _ => {}
                }
            }
            out.cells.insert(name, cells);
        }
        out
    }

    /// An `.ods` package's shown numbers: the text of each cell whose `office:value-type` is
    /// `float`, `percentage` or `currency`, where it differs from the plain number (`$1,250.50`
    /// beside `office:value="1250.5"`). Rows and columns are counted as calamine counts them,
    /// repeats and covered cells included. A part that cannot be read gives none.
    fn read_ods(zip: &mut Package<'_>) -> Displays {
        use quick_xml::events::Event;
        use std::io::Read;
        let mut out = Displays::default();
        let mut xml = Vec::new();
        let Ok(entry) = zip.by_name("content.xml") else {
            return out;
        };
        if entry
            .take(package::MAX_UNPACKED_BYTES)
            .read_to_end(&mut xml)
            .is_err()
        {
            return out;
        }
        let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
        let mut buf = Vec::new();
        let mut kept = 0usize;
        let mut sheet: Option<(String, SheetDisplays)> = None;
        let (mut row, mut col) = (0u32, 0u32);
        let mut row_repeat = 1u32;
        // This row's shown cells: first column, repeat, text.
        let mut row_cells: Vec<(u32, u32, String)> = Vec::new();
        // Within a number cell: its column, repeat, value and text so far.
        let mut cell: Option<(u32, u32, f64, String)> = None;
        let mut annotation = 0usize;
        let repeat = |e: &quick_xml::events::BytesStart<'_>, name: &str| {
            package::attr(e, name)
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(1)
                .max(1)
        };
        loop {
            let event = match reader.read_event_into(&mut buf) {
                Ok(Event::Eof) | Err(_) => break,
                Ok(e) => e,
            };
            let empty = matches!(event, Event::Empty(_));
            match &event {
                Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                    "table" => {
                        let name = package::attr(e, "name").unwrap_or_default();
                        sheet = Some((name, HashMap::new()));
                        row = 0;
                    }
                    "table-row" => {
                        row_repeat = repeat(e, "number-rows-repeated");
                        col = 0;
                        row_cells.clear();
                        if empty {
                            row = row.saturating_add(row_repeat);
                        }
                    }
                    "table-cell" | "covered-table-cell" => {
                        let n = repeat(e, "number-columns-repeated");
                        let number = matches!(
                            package::attr(e, "value-type").as_deref(),
                            Some("float" | "percentage" | "currency")
                        );
                        let value = package::attr(e, "value").and_then(|v| v.parse::<f64>().ok());
                        match value {
                            Some(v) if number && !empty => cell = Some((col, n, v, String::new())),
                            _ => {}
                        }
                        col = col.saturating_add(n);
                    }
                    "annotation" if !empty => annotation += 1,
                    "p" if !empty => {
                        if let Some((.., text)) = cell.as_mut().filter(|_| annotation == 0)
                            && !text.is_empty()
                        {
                            text.push(' ');
                        }
                    }
                    "s" => {
                        if let Some((.., text)) = cell.as_mut().filter(|_| annotation == 0) {
                            let n = repeat(e, "c").min(64);
                            text.extend(std::iter::repeat_n(' ', n as usize));
                        }
                    }
                    "tab" | "line-break" => {
                        if let Some((.., text)) = cell.as_mut().filter(|_| annotation == 0) {
                            text.push(' ');
                        }
                    }
                    _ => {}
                },
                Event::Text(t) if annotation == 0 => {
                    if let Some((.., text)) = cell.as_mut() {
                        text.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) if annotation == 0 => {
                    if let Some((.., text)) = cell.as_mut() {
                        package::push_ref(text, r);
                    }
                }
                Event::End(e) => match e.local_name().as_ref() {
                    "annotation" => annotation = annotation.saturating_sub(1),
                    "table-cell" | "covered-table-cell" => {
                        if let Some((first, n, value, text)) = cell.take() {
                            let text = collapse(&text);
                            if !text.is_empty() && text != numfmt::general(value) {
                                row_cells.push((first, n, text));
                            }
                        }
                    }
                    "table-row" => {
                        if let Some((_, cells)) = sheet.as_mut().filter(|_| !row_cells.is_empty()) {
                            // Every repeat of every shown cell, up to the bound.
                            let at = (row..row.saturating_add(row_repeat)).flat_map(|r| {
                                row_cells.iter().flat_map(move |(first, n, text)| {
                                    (*first..first.saturating_add(*n)).map(move |c| ((r, c), text))
                                })
                            });
                            for (at, text) in at.take(MAX_SHOWN_CELLS - kept) {
                                cells.insert(at, Display::Text(text.clone()));
                                kept += 1;
                            }
                        }
                        row = row.saturating_add(row_repeat);
                    }
                    "table" => {
                        if let Some((name, cells)) = sheet.take() {
                            out.cells.insert(name, cells);
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
            buf.clear();
        }
        out
    }
}

/// A BIFF8 string at byte `at` of `data`: its length (two bytes for an XLUnicodeString,
/// `wide_count`; one for a ShortXLUnicodeString), a flags byte (bit 0: two bytes a
/// character, else one, Latin-1), then the characters.
fn biff8_string(data: &[u8], at: usize, wide_count: bool) -> Option<String> {
    let (count, at) = if wide_count {
        (usize::from(u16_at(data, at)?), at + 2)
    } else {
        (usize::from(*data.get(at)?), at + 1)
    };
    let wide = data.get(at)? & 1 == 1;
    let at = at + 1;
    if wide {
        Some(utf16le(data.get(at..at + 2 * count)?))
    } else {
        Some(latin1(data.get(at..at + count)?))
    }
}

/// The most distinct strings a workbook is believed to hold before its strings are read.
const MAX_SHARED_STRINGS: u64 = 50_000_000;

/// Refuses an `.xlsx` whose shared-string table announces more strings than its part could
/// hold (each takes at least `<si></si>`, 9 bytes) or than any workbook has: calamine
/// reserves room for the announced count first, and a damaged count aborts the process.
fn check_shared_strings(zip: &mut Package<'_>) -> Result<(), ExtractError> {
    use std::io::Read;
    let Ok(part) = zip.by_name("xl/sharedStrings.xml") else {
        return Ok(());
    };
    let size = part.size();
    let mut head = Vec::new();
    // The count is an attribute of the root element, in the first few hundred bytes.
    if part.take(4096).read_to_end(&mut head).is_err() {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&head);
    let Some(count) = head
        .split_once("uniqueCount=")
        .and_then(|(_, rest)| rest.get(1..))
        .and_then(|rest| rest.split(['"', '\'']).next())
        .map(str::trim)
    else {
        return Ok(());
    };
    // A count that does not parse (or overflows) is ignored by calamine, and here.
    let n = count.parse::<u64>().unwrap_or(0);
    if n > MAX_SHARED_STRINGS.min(size / 9 + 1) {
        return Err(ExtractError::Corrupt {
            kind: "spreadsheet",
            reason: format!(
                "the shared-string table announces {count} strings, more than its {size} \
                 bytes can hold: a damaged file"
            ),
        });
    }
    Ok(())
}

/// Opens the workbook with the reader its container calls for (a compound file is `.xls`; a
/// zip holds `.ods`, `.xlsb` or `.xlsx` by its parts), so that the error says what is wrong
/// (a password, a BIFF version too old) rather than that no reader took it.
fn open<'a>(
    bytes: &'a [u8],
    parts: Option<&Package<'_>>,
) -> Result<calamine::Sheets<Cursor<&'a [u8]>>, ExtractError> {
    use calamine::{Sheets, open_workbook_from_rs};
    let rs = Cursor::new(bytes);
    let book = if bytes.starts_with(&CFB_MAGIC) {
        open_workbook_from_rs(rs)
            .map(Sheets::Xls)
            .map_err(calamine::Error::Xls)
    } else if bytes.starts_with(b"PK") {
        let has = |name: &str| parts.is_some_and(|z| z.index_for_name(name).is_some());
        if has("content.xml") {
            open_workbook_from_rs(rs)
                .map(Sheets::Ods)
                .map_err(calamine::Error::Ods)
        } else if has("xl/workbook.bin") {
            open_workbook_from_rs(rs)
                .map(Sheets::Xlsb)
                .map_err(calamine::Error::Xlsb)
        } else {
            open_workbook_from_rs(rs)
                .map(Sheets::Xlsx)
                .map_err(calamine::Error::Xlsx)
        }
    } else if matches!(bytes, [0x09, 0x00 | 0x02 | 0x04, ..]) {
        // The BOF record of an Excel 2.x–4.0 worksheet (BIFF2–BIFF4), before compound files.
        return Err(ExtractError::Unsupported {
            kind: "spreadsheet",
            reason: "an Excel 4.0 or older worksheet; open it in Excel or LibreOffice and save \
                     it as .xlsx"
                .into(),
        });
    } else {
        return Err(ExtractError::Corrupt {
            kind: "spreadsheet",
            reason: "not a workbook (neither a zip package nor an Excel 97–2003 compound \
                     file); if it opens in a spreadsheet program, save it as .xlsx"
                .into(),
        });
    };
    book.map_err(|e| match read_error(&e) {
        ExtractError::Corrupt { kind, reason } => ExtractError::Corrupt {
            kind,
            reason: reason.replace("a sheet cannot be read", "not a workbook that can be read"),
        },
        other => other,
    })
}

/// A row's text, and whether it reads as a row of column names: two cells or more, each
/// text of at most 60 characters with a letter in it (no number, date or long note).
#[derive(Debug)]
struct Row {
    text: String,
    names: bool,
}

impl Row {
    fn new(cells: &[(String, bool)]) -> Option<Row> {
        let texts: Vec<String> = cells.iter().map(|(t, _)| t.clone()).collect();
        let filled: Vec<&(String, bool)> = cells.iter().filter(|(t, _)| !t.is_empty()).collect();
        let names = filled.len() >= 2
            && filled.iter().all(|(t, is_text)| {
                *is_text && t.chars().count() <= 60 && t.chars().any(char::is_alphabetic)
            });
        Some(Row {
            text: row_text(&texts)?,
            names,
        })
    }
}

/// The heading of a sheet (or CSV file): its name, then its column names when the first row
/// holds them and rows follow, so that every chunk of a long sheet carries what its columns
/// mean (in its breadcrumb, and in the text the encoder sees); that row is then not repeated
/// as a paragraph.
fn with_columns(name: &str, rows: &mut Vec<Row>) -> String {
    if rows.len() < 2 || !rows[0].names {
        return name.to_string();
    }
    let columns = rows.remove(0).text;
    if name.is_empty() {
        columns
    } else {
        format!("{name}: {columns}")
    }
}

/// The text of a sheet's non-empty rows, in order.
///
/// Office Open XML sheets (`.xlsx`, `.xlsb`) are read cell by cell, keeping only the cells
/// that hold something: a sheet's rectangle as a whole (what `worksheet_range` builds) is as
/// large as its two farthest cells make it, and two cells at A1 and XFD1048576 would ask for
/// hundreds of gigabytes. `.xls` sheets are at most 65,536 × 256 cells, and calamine caps
/// OpenDocument ones at 100 million, so those are read whole.
fn sheet_rows(
    book: &mut calamine::Sheets<Cursor<&[u8]>>,
    name: &str,
    displays: &Displays,
) -> Result<Vec<Row>, ExtractError> {
    use std::collections::BTreeMap;
    let mut cells: BTreeMap<u32, Vec<(u32, String, bool)>> = BTreeMap::new();
    let mut put = |(row, col): (u32, u32), value: Data, shown: Option<Shown<'_>>| {
        let text = cell_text(&value, shown);
        if !text.is_empty() {
            let is_text = matches!(value, Data::String(_));
            cells.entry(row).or_default().push((col, text, is_text));
        }
    };
    match book {
        calamine::Sheets::Xlsx(x) => {
            let mut reader = x
                .worksheet_cells_reader(name)
                .map_err(|e| read_error(&calamine::Error::Xlsx(e)))?;
            let formats: Vec<Option<NumberFormat>> =
                reader.styles().iter().map(number_format).collect();
            while let Some((c, style)) = reader
                .next_cell_with_style_id()
                .map_err(|e| read_error(&calamine::Error::Xlsx(e)))?
            {
                let format = formats.get(style).and_then(Option::as_ref);
                put(
                    c.get_position(),
                    Data::from(c.get_value().clone()),
                    format.map(Shown::Format),
                );
            }
        }
        calamine::Sheets::Xlsb(x) => {
            let mut reader = x
                .worksheet_cells_reader(name)
                .map_err(|e| read_error(&calamine::Error::Xlsb(e)))?;
            while let Some(c) = reader
                .next_cell()
                .map_err(|e| read_error(&calamine::Error::Xlsb(e)))?
            {
                put(c.get_position(), Data::from(c.get_value().clone()), None);
            }
        }
        _ => {
            let range = book.worksheet_range(name).map_err(|e| read_error(&e))?;
            let start = range.start().unwrap_or((0, 0));
            for (r, row) in range.rows().enumerate() {
                for (c, value) in row.iter().enumerate() {
                    if !matches!(value, Data::Empty) {
                        let at = (start.0 + r as u32, start.1 + c as u32);
                        put(at, value.clone(), displays.get(name, at));
                    }
                }
            }
        }
    }
    // Cells keep their columns, counted from the sheet's first used one: a gap is an empty
    // cell, so a column's values line up from row to row.
    let first = cells
        .values()
        .flat_map(|row| row.iter().map(|&(col, _, _)| col))
        .min()
        .unwrap_or(0);
    Ok(cells
        .into_values()
        .filter_map(|mut row| {
            row.sort_by_key(|&(col, _, _)| col);
            let mut line: Vec<(String, bool)> = Vec::new();
            for (col, text, is_text) in row {
                let at = (col - first) as usize;
                if line.len() < at {
                    line.resize(at, (String::new(), false));
                }
                line.push((text, is_text));
            }
            Row::new(&line)
        })
        .collect())
}

/// Comma-, semicolon- or tab-separated values (`.csv`, `.tsv`, already decoded) as a
/// workbook's sheet is written: one paragraph per non-empty row, cells joined by ` | `.
/// The separator is the one of the three the first line holds most of outside quotes (a
/// European Excel writes `;`); quoted fields may hold separators, quotes and line breaks.
pub fn separated_values(text: &str) -> ExtractedText {
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|&d| {
            let mut quoted = false;
            first_line
                .bytes()
                .filter(|&b| {
                    if b == b'"' {
                        quoted = !quoted;
                    }
                    !quoted && b == d
                })
                .count()
        })
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // A malformed record (the reader is lenient; this is an I/O-level failure) ends the rows.
    while reader.read_record(&mut record).unwrap_or(false) {
        // Every CSV cell is text; one that reads as a number or date is not a column name.
        let cells: Vec<(String, bool)> = record
            .iter()
            .map(|c| {
                let c = collapse(c);
                let is_text = c.chars().any(char::is_alphabetic);
                (c, is_text)
            })
            .collect();
        rows.extend(Row::new(&cells));
    }
    let mut b = Builder::default();
    let heading = with_columns("", &mut rows);
    if !heading.is_empty() {
        b.section(&heading);
    }
    for row in rows {
        b.block(&Block {
            text: row.text,
            table: None,
            note: 0,
        });
    }
    ExtractedText {
        text: b.text,
        paragraphs: b.paragraphs,
        ..ExtractedText::default()
    }
}

/// A sheet that cannot be read: a password, or damage.
fn read_error(e: &calamine::Error) -> ExtractError {
    let password = matches!(
        e,
        calamine::Error::Xls(calamine::XlsError::Password)
            | calamine::Error::Ods(calamine::OdsError::Password)
    );
    if password {
        ExtractError::Encrypted {
            kind: "spreadsheet",
        }
    } else {
        ExtractError::Corrupt {
            kind: "spreadsheet",
            reason: format!("a sheet cannot be read ({e})"),
        }
    }
}

/// The number format of a cell style, parsed once for all its cells; `None` for General
/// and what [`numfmt`] does not render.
fn number_format(style: &calamine::Style) -> Option<NumberFormat> {
    let format = style.number_format.as_ref()?;
    let code = format.format_code.as_str();
    if code.eq_ignore_ascii_case("general") {
        // calamine spells out no code for the built-in currency formats (ids 5 to 8).
        return format
            .format_id
            .and_then(numfmt::builtin)
            .and_then(NumberFormat::parse);
    }
    NumberFormat::parse(code)
}

/// A cell's value as the sheet shows it (see the module docs), by its number format or
/// stored text where the workbook has one; "" for an empty cell. A number whose format hides
/// it (`;;;`) is written plainly: hidden data is still the document's.
fn cell_text(c: &Data, shown: Option<Shown<'_>>) -> String {
    let number = |f: f64| {
        match shown {
            Some(Shown::Format(format)) => format.format(f),
            Some(Shown::Text(text)) => Some(text.to_string()),
            None => None,
        }
        .map(|s| collapse(&s))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| numfmt::general(f))
    };
    match c {
        Data::Empty => String::new(),
        Data::String(s) => collapse(s),
        Data::Int(i) if shown.is_none() => i.to_string(),
        Data::Int(i) => number(*i as f64),
        Data::Float(f) => number(*f),
        Data::Bool(true) => "TRUE".into(),
        Data::Bool(false) => "FALSE".into(),
        Data::DateTime(d) if d.is_duration() => duration(d.as_f64()),
        Data::DateTime(d) => {
            let (y, mo, day, h, mi, s, _) = d.to_ymd_hms_milli();
            let time = match (h, mi, s) {
                (0, 0, 0) => None,
                (h, mi, 0) => Some(format!("{h:02}:{mi:02}")),
                (h, mi, s) => Some(format!("{h:02}:{mi:02}:{s:02}")),
            };
            match (d.as_f64() < 1.0, time) {
                // A time of day alone (serial below one day).
                (true, Some(t)) => t,
                (_, Some(t)) => format!("{y:04}-{mo:02}-{day:02} {t}"),
                (_, None) => format!("{y:04}-{mo:02}-{day:02}"),
            }
        }
        Data::DateTimeIso(s) => iso_datetime(s),
        Data::DurationIso(s) => iso_duration(s).unwrap_or_else(|| s.clone()),
        Data::Error(e) => e.to_string(),
    }
}

/// An ISO 8601 date and time (OpenDocument's cells) as the Excel ones are written:
/// `2021-03-04`, `2021-03-04 14:30`, `2021-03-04 14:30:15`.
fn iso_datetime(s: &str) -> String {
    let Some((date, time)) = s.split_once('T') else {
        return s.to_string();
    };
    let time = time.split('.').next().unwrap_or(time);
    match time {
        "00:00:00" | "00:00" => date.to_string(),
        t => format!("{date} {}", t.strip_suffix(":00").unwrap_or(t)),
    }
}

/// An ISO 8601 duration of hours, minutes and seconds (`PT36H00M00S`, OpenDocument's time
/// cells) as `[h]:mm:ss`; `None` for other forms (days, months), kept as written.
fn iso_duration(s: &str) -> Option<String> {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s),
    };
    let mut rest = rest.strip_prefix("PT")?;
    let mut seconds = 0.0;
    for (unit, scale) in [('H', 3600.0), ('M', 60.0), ('S', 1.0)] {
        if let Some((n, r)) = rest.split_once(unit) {
            seconds += n.parse::<f64>().ok()? * scale;
            rest = r;
        }
    }
    rest.is_empty().then(|| duration(sign * seconds / 86_400.0))
}

/// A duration in days as `[h]:mm:ss`.
fn duration(days: f64) -> String {
    let total = (days * 86_400.0).round();
    let sign = if total < 0.0 { "-" } else { "" };
    let total = total.abs() as u64;
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixture(name: &str) -> Vec<u8> {
        crate::ingest::fixtures::committed("sheet", name)
    }

    const LOG: &str = "# Privilege Log: Doc ID | Date | Author | Recipients | Privilege | \
        Description\n\n\
        PRIV-0001 | 2021-03-04 | A. Lee (outside counsel) | B. Poe | Attorney-client | \
        Advice on the indemnity cap in the supply agreement\n\n\
        PRIV-0002 | 2021-04-12 | C. Diaz | A. Lee (outside counsel) | Work product | \
        Draft chronology of the warehouse fire prepared for litigation\n\n\
        PRIV-0003 | 2021-05-20 | B. Poe | Board of directors | Attorney-client | \
        Summary of counsel's settlement recommendation\n\n\
        # Damages: Item | Amount | Hours\n\nLost profits | 125000\n\nCleanup costs | 1250.5 | 36:00:00\n\n\
        Total | 126250.5\n\n\
        # Reviewer notes (hidden)\n\n\
        PRIV-0002 produced in redacted form on clawback request";

    #[test]
    fn a_workbook_reads_the_same_as_xlsx_xls_and_ods() {
        // LibreOffice's exports of tests/fixtures/sheet/privilege-log.fods.
        for name in [
            "privilege-log.xlsx",
            "privilege-log.xls",
            "privilege-log.ods",
        ] {
            let x = extract_sheet(&fixture(name)).unwrap();
            assert_eq!(x.text, LOG, "{name}");
            // One numbered paragraph per row; the blank row is not one, and the rows of
            // column names are in their sheet's heading.
            assert_eq!(x.paragraphs.len(), 7, "{name}");
            assert_eq!(
                &x.text[x.paragraphs[1].clone()],
                "PRIV-0002 | 2021-04-12 | C. Diaz | A. Lee (outside counsel) | Work product | \
                 Draft chronology of the warehouse fire prepared for litigation"
            );
            // The .xls format has no title; the others keep the document's.
            let title = (!name.ends_with(".xls")).then_some("Privilege Log, Acme v. Widget");
            assert_eq!(x.title.as_deref(), title, "{name}");
        }
    }

    #[test]
    fn numbers_read_as_their_formats_show_them_in_xlsx_xls_and_ods() {
        // LibreOffice's exports of tests/fixtures/sheet/fee-schedule.fods: currency with
        // negatives in parentheses, a percentage, thousands separators, scientific notation,
        // and a General number.
        for name in ["fee-schedule.xlsx", "fee-schedule.xls", "fee-schedule.ods"] {
            let x = extract_sheet(&fixture(name)).unwrap();
            assert_eq!(
                x.text,
                "# Fees: Item | Amount\n\nRetainer | $1,250.50\n\n\
                 Refund of unearned fees | ($1,200.00)\n\nSuccess fee | 5.25%\n\n\
                 Liability cap | 2,500,000\n\nAggregate exposure | 1.25E+09\n\n\
                 Hourly rate, partner | 950",
                "{name}"
            );
        }
    }

    #[test]
    fn shown_ods_numbers_keep_their_places_and_a_hostile_repeat_costs_only_the_bound() {
        let content = |rows: &str| {
            format!(
                r#"<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="Fees">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
            )
        };
        let read = |xml: String| {
            let zip = crate::ingest::fixtures::zip(&[("content.xml".into(), xml)]);
            Displays::read_ods(&mut zip::ZipArchive::new(Cursor::new(zip.as_slice())).unwrap())
        };
        // Repeated and covered cells count as columns, repeated rows as rows; a number shown
        // as written plainly is not kept.
        let d = read(content(
            r#"<table:table-row table:number-rows-repeated="2"><table:covered-table-cell table:number-columns-repeated="2"/><table:table-cell office:value-type="currency" office:value="5"><text:p>$5.00</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell office:value-type="float" office:value="7"><text:p>7</text:p></table:table-cell><table:table-cell office:value-type="percentage" office:value="0.5"><text:p>50<text:s/>%</text:p><office:annotation><text:p>note</text:p></office:annotation></table:table-cell></table:table-row>"#,
        ));
        let shown = |at| match d.get("Fees", at) {
            Some(Shown::Text(t)) => Some(t.to_string()),
            _ => None,
        };
        assert_eq!(shown((0, 2)).as_deref(), Some("$5.00"));
        assert_eq!(shown((1, 2)).as_deref(), Some("$5.00"));
        assert_eq!(shown((2, 0)), None);
        assert_eq!(shown((2, 1)).as_deref(), Some("50 %"));
        // A billion rows of 16,384 shown cells stop at the bound, at once.
        let d = read(content(
            r#"<table:table-row table:number-rows-repeated="1000000000"><table:table-cell table:number-columns-repeated="16384" office:value-type="currency" office:value="1"><text:p>$1.00</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="4000000000"/>"#,
        ));
        assert_eq!(d.cells["Fees"].len(), MAX_SHOWN_CELLS);
    }

    #[test]
    fn separated_values_read_as_rows_whatever_the_separator() {
        let comma = "Doc ID,Date,Description\r\nPRIV-1,2021-03-04,\"Advice, on the cap\"\r\n,,\r\n\
                     PRIV-2,2021-04-12,\"Memo \"\"draft\"\"\nsecond line\"\r\n";
        let x = separated_values(comma);
        assert_eq!(
            x.text,
            "# Doc ID | Date | Description\n\nPRIV-1 | 2021-03-04 | Advice, on the cap\n\n\
             PRIV-2 | 2021-04-12 | Memo \"draft\" second line"
        );
        assert_eq!(x.paragraphs.len(), 2);
        let semicolon = "Posten;Betrag\nMiete;1.250,50\n";
        assert_eq!(
            separated_values(semicolon).text,
            "# Posten | Betrag\n\nMiete | 1.250,50"
        );
        let tab = "Bates\tCustodian\nABC0001\tA. Lee\n";
        assert_eq!(
            separated_values(tab).text,
            "# Bates | Custodian\n\nABC0001 | A. Lee"
        );
        // A first row of values is no row of column names.
        let values = "2021-03-04,1250.5\n2021-04-12,900\n";
        assert_eq!(
            separated_values(values).text,
            "2021-03-04 | 1250.5\n\n2021-04-12 | 900"
        );
    }

    #[test]
    fn cells_far_apart_cost_only_themselves() {
        // A1 and XFD1048576: a rectangle of 17 billion cells if the sheet were read whole.
        let sheet = r#"<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>Schedule 1</t></is></c></row>
<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>Far corner</t></is></c></row>
</sheetData></worksheet>"#;
        let workbook = r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Wide" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
        let rels = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
        let types = r#"<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
        let root_rels = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
        let xlsx = crate::ingest::fixtures::zip(&[
            ("[Content_Types].xml".into(), types.into()),
            ("_rels/.rels".into(), root_rels.into()),
            ("xl/workbook.xml".into(), workbook.into()),
            ("xl/_rels/workbook.xml.rels".into(), rels.into()),
            ("xl/worksheets/sheet1.xml".into(), sheet.into()),
        ]);
        let x = extract_sheet(&xlsx).unwrap();
        assert!(
            x.text.starts_with("# Wide\n\nSchedule 1\n\n"),
            "{}",
            &x.text[..40]
        );
        assert!(x.text.ends_with(" | Far corner"));
    }

    #[test]
    fn encrypted_xls_and_counts_no_workbook_could_hold_are_refused_before_calamine_reads_them() {
        // The .xls fixture with its first DIMENSIONS record claiming 4 billion rows.
        let xls = fixture("privilege-log.xls");
        let mut c = cfb::CompoundFile::open(Cursor::new(xls.as_slice())).unwrap();
        let mut workbook = stream(&mut c, "/Workbook").unwrap();
        let mut at = 0;
        while u16_at(&workbook, at) != Some(0x0200) {
            at += 4 + usize::from(u16_at(&workbook, at + 2).unwrap());
        }
        workbook[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = check_dimensions(&workbook).unwrap_err();
        assert!(e.to_string().contains("4294967295 rows"), "{e}");
        assert!(check_dimensions(&stream(&mut c, "/Workbook").unwrap()).is_ok());
        // A FILEPASS record: what follows is encrypted, DIMENSIONS included.
        let filepass = [0x2F, 0x00, 0x02, 0x00, 0x01, 0x00];
        assert!(matches!(
            check_dimensions(&filepass),
            Err(ExtractError::Encrypted { .. })
        ));
        // An .xlsx whose shared-string table announces a trillion strings.
        let sst = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1000000000000"><si><t>x</t></si></sst>"#;
        let xlsx = crate::ingest::fixtures::zip(&[("xl/sharedStrings.xml".into(), sst.into())]);
        let e = extract_sheet(&xlsx).unwrap_err();
        assert!(
            e.to_string().contains("announces 1000000000000 strings"),
            "{e}"
        );
        let fine = sst.replace("1000000000000", "1");
        let xlsx = crate::ingest::fixtures::zip(&[("xl/sharedStrings.xml".into(), fine)]);
        let mut package = zip::ZipArchive::new(Cursor::new(xlsx.as_slice())).unwrap();
        assert!(check_shared_strings(&mut package).is_ok());
    }

    #[test]
    fn encrypted_and_foreign_files_are_refused_with_the_reason() {
        // An encrypted .xlsx: a compound file holding the encryption header and package.
        let mut c = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
        for name in ["/EncryptionInfo", "/EncryptedPackage"] {
            use std::io::Write;
            c.create_stream(name).unwrap().write_all(b"x").unwrap();
        }
        let locked = c.into_inner().into_inner();
        assert!(matches!(
            extract_sheet(&locked),
            Err(ExtractError::Encrypted {
                kind: "spreadsheet"
            })
        ));
        let e = extract_sheet(b"Doc ID,Date\nPRIV-1,2021-03-04\n").unwrap_err();
        assert!(e.to_string().contains("not a workbook"), "{e}");
        // An Excel 4.0 worksheet: its BOF record, version 4.
        let e = extract_sheet(&[0x09, 0x04, 0x06, 0x00, 0x00, 0x00, 0x10, 0x00]).unwrap_err();
        assert!(e.to_string().contains("Excel 4.0 or older"), "{e}");
        // A zip that is no workbook says what calamine found missing.
        let zip = crate::ingest::fixtures::zip(&[("notes.txt".into(), "x".into())]);
        let e = extract_sheet(&zip).unwrap_err();
        assert!(
            e.to_string().contains("not a workbook that can be read"),
            "{e}"
        );
    }

    #[test]
    fn numbers_dates_and_durations_read_as_a_sheet_shows_them() {
        let number = |f: f64| cell_text(&Data::Float(f), None);
        assert_eq!(number(125_000.0), "125000");
        assert_eq!(number(1250.5), "1250.5");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(-3.25), "-3.25");
        assert_eq!(number(-1e-12), "0");
        // With a number format, as it shows; a format that hides the value (`;;;`) or that
        // is not rendered (a date-and-number mix) gives the plain number.
        let money = r#"_("$"* #,##0.00_);_("$"* \(#,##0.00\);_("$"* "-"??_);_(@_)"#;
        let with = |code: &str, value: Data| {
            cell_text(
                &value,
                NumberFormat::parse(code).as_ref().map(Shown::Format),
            )
        };
        assert_eq!(with(money, Data::Float(-1250.5)), "$(1,250.50)");
        assert_eq!(with("0.0%", Data::Int(7)), "700.0%");
        assert_eq!(with(";;;", Data::Float(3.5)), "3.5");
        assert_eq!(with("0.0 yy", Data::Float(0.5)), "0.5");
        assert_eq!(with("# ?/?", Data::Float(1.5)), "1 1/2");
        assert_eq!(
            cell_text(&Data::Float(0.5), Some(Shown::Text("1/2"))),
            "1/2"
        );
        assert_eq!(duration(1.5), "36:00:00");
        assert_eq!(duration(0.25 + 1.0 / 86_400.0), "6:00:01");
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let date = |v: f64| {
            cell_text(
                &Data::DateTime(ExcelDateTime::new(v, ExcelDateTimeType::DateTime, false)),
                None,
            )
        };
        assert_eq!(date(44_259.0), "2021-03-04");
        assert_eq!(date(44_259.5), "2021-03-04 12:00");
        assert_eq!(date(0.6041666666666666), "14:30");
        assert_eq!(cell_text(&Data::Bool(true), None), "TRUE");
        assert_eq!(iso_datetime("2021-03-04T14:30:00"), "2021-03-04 14:30");
        assert_eq!(iso_datetime("2021-03-04T00:00:00"), "2021-03-04");
        assert_eq!(iso_datetime("2021-03-04"), "2021-03-04");
        assert_eq!(iso_duration("PT36H00M00S").as_deref(), Some("36:00:00"));
        assert_eq!(iso_duration("PT1H30M15.5S").as_deref(), Some("1:30:16"));
        assert_eq!(iso_duration("P1Y2M"), None);
        assert_eq!(
            with("0.00", Data::String("two\n lines".into())),
            "two lines"
        );
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        /// Damaged workbooks (bytes of the three fixtures overwritten) give text or an error
        /// in time, and never take the process down (our size checks keep calamine from
        /// reserving memory a damaged count asks for). Run as the indexer runs extractors,
        /// under `isolate`: calamine itself can panic on damaged files in debug builds
        /// (arithmetic overflow on a cell reference or a BIFF record's column range), and
        /// `isolate` turns that into the file's skip reason.
        #[test]
        fn fuzz_damaged_workbooks_are_read_or_refused_without_taking_the_process_down(
            which in 0usize..3,
            hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..24),
        ) {
            crate::ingest::isolate::quiet_isolated_panics();
            let name = ["privilege-log.xlsx", "privilege-log.ods", "privilege-log.xls"][which];
            let mut bytes = fixture(name);
            for (at, b) in hits {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            let run = crate::ingest::isolate::run_isolated(
                std::time::Duration::from_secs(20),
                move || extract_sheet(&bytes).map(|x| x.text.len()),
            );
            prop_assert!(
                !matches!(run, Err(crate::ingest::isolate::Isolation::TimedOut(_))),
                "{name}: reading looped"
            );
        }
    }
}
