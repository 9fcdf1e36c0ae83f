//! PDF: the text layer, page by page.
//!
//! The document is parsed with lopdf; each page's text comes from a [`PdfBackend`]
//! (pdf-extract by default: docs/formats.md compares the candidates; its characters are put
//! in reading order where a page draws its columns line by line, [`super::columns`]). The raw
//! page texts are then cleaned ([`assemble`]):
//!
//! 1. normalised: `\r` and NUL dropped, ligatures expanded (`ﬁ` → `fi`), soft hyphens at line
//!    ends treated as hyphens, trailing spaces and runs of blank lines trimmed;
//! 2. running headers and footers removed: in documents of at least [`MIN_PAGES_FOR_REPEATS`]
//!    pages, a line among the first or last [`EDGE_LINES`] lines of a page that recurs (digits
//!    ignored, so "Page 3 of 9" matches "Page 4 of 9") in the same zone on at least
//!    [`REPEAT_SHARE`] of the pages is dropped wherever it appears in that zone;
//! 3. words split by a hyphen at a line end are joined ("termi-\nnation" → "termination"),
//!    unless the document itself spells the hyphenated form elsewhere ("non-exclusive").
//!    Only within a page: a word split across a page break stays split, so that every byte
//!    keeps its page;
//! 4. pages are joined with a blank line ([`PAGE_SEPARATOR`]), and the byte range of each
//!    page's text in the result is recorded (an empty page gets an empty range).
//!
//! A document whose pages are all empty has no text layer: [`ExtractError::NeedsOcr`].
//! A document that needs a password: [`ExtractError::EncryptedPdf`]. Permission-only
//! encryption (an empty user password, as most "secured" PDFs use) is opened as any reader
//! opens it.

use std::collections::{HashMap, HashSet};

use super::columns::PageRecorder;
use super::types::{ExtractError, ExtractedText, Extractor};

/// What separates two pages in the extracted text: a blank line, which the chunker also
/// treats as a paragraph break.
pub const PAGE_SEPARATOR: &str = "\n\n";

/// Running headers and footers are looked for only in documents with at least this many pages.
pub const MIN_PAGES_FOR_REPEATS: usize = 3;

/// A line is a running header or footer when it recurs on at least this share of the pages.
pub const REPEAT_SHARE: f64 = 0.6;

/// How many non-blank lines at the top and at the bottom of a page may be headers or footers.
pub const EDGE_LINES: usize = 3;

/// Where the text of a page comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PdfBackend {
    /// pdf-extract: lays out glyphs by position (spaces from gaps, line breaks from baseline
    /// changes), decodes fonts through their ToUnicode maps and encodings.
    #[default]
    PdfExtract,
    /// lopdf's own `extract_text`: the strings of text-showing operators, with no layout.
    Lopdf,
}

/// The PDF extractor (pdf-extract backend).
#[derive(Debug, Clone, Copy, Default)]
pub struct PdfExtractor;

impl Extractor for PdfExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_pdf(bytes, PdfBackend::default())
    }
}

/// Extracts a PDF with the given backend: page texts, cleaned and joined, with page ranges.
pub fn extract_pdf(bytes: &[u8], backend: PdfBackend) -> Result<ExtractedText, ExtractError> {
    let (pages, title) = raw_pages(bytes, backend)?;
    if pages.iter().all(|p| p.trim().is_empty()) {
        return Err(ExtractError::NeedsOcr { pages: pages.len() });
    }
    let mut out = assemble(&pages);
    out.title = title;
    Ok(out)
}

/// Parses the document and returns each page's raw text (in page order) and the `/Title`
/// of its information dictionary, if any.
///
/// A page whose text cannot be decoded is kept as an empty page (so later pages keep their
/// numbers); if no page can be decoded the error of the first page is returned.
pub fn raw_pages(
    bytes: &[u8],
    backend: PdfBackend,
) -> Result<(Vec<String>, Option<String>), ExtractError> {
    // The header may follow up to 1 KiB of junk (PDF 32000-1, annex H.3).
    if !contains(&bytes[..bytes.len().min(1024)], b"%PDF-") {
        return Err(ExtractError::CorruptPdf(
            "no %PDF header; not a PDF file".into(),
        ));
    }
    let doc = match lopdf::Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(e) => return Err(load_error(e, bytes)),
    };
    if doc.is_encrypted() {
        // lopdf decrypts on load when the user password is empty; still encrypted means a
        // password is needed.
        return Err(ExtractError::EncryptedPdf);
    }
    let numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    if numbers.is_empty() {
        return Err(ExtractError::CorruptPdf("no pages found".into()));
    }
    let mut pages = Vec::with_capacity(numbers.len());
    let mut first_error = None;
    let mut decoded = 0;
    for n in numbers {
        let got = match backend {
            PdfBackend::PdfExtract => {
                // Recorded, then written in reading order (columns drawn line by line).
                let mut page = PageRecorder::default();
                pdf_extract::output_doc_page(&doc, &mut page, n)
                    .and_then(|()| page.text())
                    .map_err(|e| e.to_string())
            }
            PdfBackend::Lopdf => doc.extract_text(&[n]).map_err(|e| e.to_string()),
        };
        match got {
            Ok(text) => {
                decoded += 1;
                pages.push(text);
            }
            Err(e) => {
                first_error.get_or_insert(format!("page {n}: {e}"));
                pages.push(String::new());
            }
        }
    }
    if decoded == 0
        && let Some(e) = first_error
    {
        return Err(ExtractError::CorruptPdf(e));
    }
    Ok((pages, info_title(&doc)))
}

/// Maps a load failure to a reason: a password problem is an encrypted PDF, the rest corrupt.
fn load_error(e: lopdf::Error, bytes: &[u8]) -> ExtractError {
    use lopdf::Error as E;
    match e {
        E::Decryption(_)
        | E::InvalidPassword
        | E::AlreadyEncrypted
        | E::UnsupportedSecurityHandler(_) => ExtractError::EncryptedPdf,
        // Some encryption dictionaries make the loader fail before it says why; the trailer
        // naming one is evidence enough.
        _ if contains(bytes, b"/Encrypt") => ExtractError::EncryptedPdf,
        other => ExtractError::CorruptPdf(other.to_string()),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The `/Title` of the document information dictionary, decoded (PDFDocEncoding or UTF-16).
fn info_title(doc: &lopdf::Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = match info {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        lopdf::Object::Dictionary(d) => d,
        _ => return None,
    };
    let raw = match info.get(b"Title").ok()? {
        lopdf::Object::String(s, _) => s.as_slice(),
        _ => return None,
    };
    let title = decode_pdf_string(raw);
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty() && !title.eq_ignore_ascii_case("untitled")).then_some(title)
}

/// Decodes a PDF text string: UTF-16BE with a byte-order mark, UTF-8 with one, else
/// PDFDocEncoding (read as Latin-1, which it matches for the printable characters of titles).
fn decode_pdf_string(raw: &[u8]) -> String {
    if let Some(rest) = raw.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = raw.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    raw.iter().map(|&b| char::from(b)).collect()
}

/// Cleans raw page texts and joins them (steps 1–4 of the module docs).
pub fn assemble(raw: &[String]) -> ExtractedText {
    let mut pages: Vec<Vec<String>> = raw.iter().map(|p| normalize_page(p)).collect();
    remove_running_lines(&mut pages);
    let vocabulary = Vocabulary::of(&pages);
    dehyphenate(&mut pages, &vocabulary);
    let mut text = String::new();
    let mut ranges = Vec::with_capacity(pages.len());
    for (i, lines) in pages.iter().enumerate() {
        let page = lines.join("\n");
        let page = page.trim_matches('\n');
        if i > 0 && !text.is_empty() && !page.is_empty() {
            text.push_str(PAGE_SEPARATOR);
        }
        let start = text.len();
        text.push_str(page);
        ranges.push(start..text.len());
    }
    ExtractedText {
        text,
        pages: ranges,
        ..ExtractedText::default()
    }
}

/// Step 1: one page's text as lines, normalised; at most one blank line in a row, none at
/// either end.
fn normalize_page(raw: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in raw.split('\n') {
        let mut clean = String::with_capacity(line.len());
        for c in line.chars() {
            match c {
                '\r' | '\0' => {}
                '\u{fb00}' => clean.push_str("ff"),
                '\u{fb01}' => clean.push_str("fi"),
                '\u{fb02}' => clean.push_str("fl"),
                '\u{fb03}' => clean.push_str("ffi"),
                '\u{fb04}' => clean.push_str("ffl"),
                '\u{fb05}' | '\u{fb06}' => clean.push_str("st"),
                // Other control characters (form feeds, vertical tabs) become spaces.
                c if c.is_control() && c != '\t' => clean.push(' '),
                c => clean.push(c),
            }
        }
        // Justified lines come out with runs of spaces: one is enough.
        let collapsed = collapse_spaces(&clean);
        if collapsed.is_empty() {
            if lines.last().is_some_and(|l| !l.is_empty()) {
                lines.push(String::new());
            }
        } else if is_stray_punctuation(&collapsed)
            && let Some(prev) = lines.last_mut().filter(|l| !l.is_empty())
        {
            // A sentence's final period set past the right margin lands on a line of its own.
            prev.push_str(&collapsed);
        } else {
            lines.push(collapsed);
        }
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// The line with leading and trailing spaces removed and inner runs of spaces and tabs
/// reduced to one space.
fn collapse_spaces(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for word in line.split([' ', '\t']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A line of nothing but closing punctuation (".", ";", ").").
fn is_stray_punctuation(line: &str) -> bool {
    line.len() <= 3
        && line
            .chars()
            .all(|c| matches!(c, '.' | ',' | ';' | ':' | ')' | ']'))
}

/// The key a line is compared by when looking for repeats: trimmed, spaces collapsed, each
/// run of digits replaced by `#` (page numbers differ from page to page).
fn repeat_key(line: &str) -> String {
    let mut key = String::with_capacity(line.len());
    let mut in_digits = false;
    for word in line.split_whitespace() {
        if !key.is_empty() {
            key.push(' ');
            in_digits = false;
        }
        for c in word.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    key.push('#');
                }
                in_digits = true;
            } else {
                key.push(c);
                in_digits = false;
            }
        }
    }
    key
}

/// Indices of the non-blank lines in the top and bottom zones of a page: up to
/// [`EDGE_LINES`] each, and no more than a third of the page's lines, so that the zones of a
/// short page do not cover its body.
fn edge_lines(lines: &[String]) -> (Vec<usize>, Vec<usize>) {
    let filled: Vec<usize> = (0..lines.len()).filter(|&i| !lines[i].is_empty()).collect();
    let zone = EDGE_LINES.min(filled.len() / 3).max(1);
    let top = filled.iter().copied().take(zone).collect();
    let bottom = filled.iter().rev().copied().take(zone).collect();
    (top, bottom)
}

/// The numbers in a line, in order ("Page 3 of 12" → [3, 12]).
fn numbers(line: &str) -> Vec<i64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|d| !d.is_empty() && d.len() <= 9)
        .filter_map(|d| d.parse().ok())
        .collect()
}

/// One zone (top or bottom) of every page: which lines recur there.
#[derive(Default)]
struct Zone {
    /// repeat key → (page index, line) of each page where it occurs (once per page).
    seen: HashMap<String, Vec<(usize, String)>>,
}

impl Zone {
    fn add(&mut self, page: usize, line: &str) {
        let entry = self.seen.entry(repeat_key(line)).or_default();
        if entry.last().is_none_or(|(p, _)| *p != page) {
            entry.push((page, line.to_string()));
        }
    }

    /// Keys of running lines: on at least `needed` pages either the very same line, or a line
    /// that differs only in numbers where one number follows the page number ("Page 3 of 9",
    /// "Case 1:20-cv-1 Document 5 Page 3 of 9"), so that "ARTICLE 2" opening a few pages is
    /// not taken for a page header.
    fn running(&self, needed: usize) -> HashSet<String> {
        let mut keys = HashSet::new();
        for (key, hits) in &self.seen {
            if hits.len() < needed {
                continue;
            }
            let first = &hits[0].1;
            if hits.iter().all(|(_, l)| l == first) {
                keys.insert(key.clone());
                continue;
            }
            let width = hits
                .iter()
                .map(|(_, l)| numbers(l).len())
                .min()
                .unwrap_or(0);
            let follows_pages = (0..width).any(|k| {
                let mut offsets: HashMap<i64, usize> = HashMap::new();
                for (page, line) in hits {
                    let n = numbers(line)[k];
                    *offsets.entry(n - *page as i64).or_default() += 1;
                }
                offsets.values().any(|&c| c >= needed)
            });
            if follows_pages {
                keys.insert(key.clone());
            }
        }
        keys
    }
}

/// Step 2: drops running headers and footers (see the module docs).
fn remove_running_lines(pages: &mut [Vec<String>]) {
    let n = pages.len();
    if n < MIN_PAGES_FOR_REPEATS {
        return;
    }
    let needed = (REPEAT_SHARE * n as f64).ceil() as usize;
    let mut top = Zone::default();
    let mut bottom = Zone::default();
    for (p, lines) in pages.iter().enumerate() {
        let (t, b) = edge_lines(lines);
        for i in t {
            top.add(p, &lines[i]);
        }
        for i in b {
            bottom.add(p, &lines[i]);
        }
    }
    let (top_keys, bottom_keys) = (top.running(needed), bottom.running(needed));
    if top_keys.is_empty() && bottom_keys.is_empty() {
        return;
    }
    for lines in pages.iter_mut() {
        let (t, b) = edge_lines(lines);
        let drop: HashSet<usize> = t
            .into_iter()
            .filter(|&i| top_keys.contains(&repeat_key(&lines[i])))
            .chain(
                b.into_iter()
                    .filter(|&i| bottom_keys.contains(&repeat_key(&lines[i]))),
            )
            .collect();
        if drop.is_empty() {
            continue;
        }
        let kept: Vec<String> = std::mem::take(lines)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !drop.contains(i))
            .map(|(_, l)| l)
            .collect();
        // Re-normalise blank lines around what was removed.
        *lines = normalize_page(&kept.join("\n"));
    }
}

/// What the document itself says about its words, to decide line-end hyphens.
#[derive(Debug, Default)]
struct Vocabulary {
    /// Words written with a hyphen inside a line ("non-exclusive"), lower-cased: a line-end
    /// hyphen between the same two parts is kept.
    hyphenated: HashSet<String>,
    /// Every word away from a line-end hyphen, lower-cased.
    words: HashSet<String>,
}

impl Vocabulary {
    fn of(pages: &[Vec<String>]) -> Self {
        let mut v = Vocabulary::default();
        let mut after_break = false;
        for line in pages.iter().flatten() {
            let ends_broken = line.chars().last().is_some_and(is_break_hyphen);
            let tokens: Vec<&str> = line
                .split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .filter(|w| !w.trim_matches('-').is_empty())
                .collect();
            let n = tokens.len();
            for (i, t) in tokens.into_iter().enumerate() {
                // The pieces next to a line-end hyphen are not evidence of anything.
                if (i == 0 && after_break) || (i + 1 == n && ends_broken) {
                    continue;
                }
                let t = t.trim_matches('-').to_lowercase();
                if t.contains('-') {
                    v.words.extend(t.split('-').map(String::from));
                    v.hyphenated.insert(t);
                } else {
                    v.words.insert(t);
                }
            }
            after_break = ends_broken;
        }
        v
    }

    /// Whether `word` (or it without a final "s", or with one) occurs in the document.
    fn knows(&self, word: &str) -> bool {
        let w = word.to_lowercase();
        self.words.contains(&w)
            || w.strip_suffix('s').is_some_and(|s| self.words.contains(s))
            || self.words.contains(&format!("{w}s"))
    }
}

/// A hyphen that may end a line inside a word: hyphen-minus, soft hyphen, Unicode hyphen.
fn is_break_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{ad}' | '\u{2010}')
}

/// Step 3, for two consecutive lines: if `upper` ends with a word split by a hyphen and
/// `lower` starts with the rest of it, moves the rest up and returns true.
///
/// "... earlier termi-" + "nation of this Lease" becomes "... earlier termination" +
/// "of this Lease": the line below may end up empty (the caller drops it). The rest must
/// start in lower case ("Non-" + "Public" is a hyphenated name, left alone), and the hyphen
/// is kept when the document spells the hyphenated word elsewhere.
///
/// Some producers leave a space before the hyphen ("re -" + "ceipt"). That could be a dash,
/// so the parts are joined only when the document has the joined word elsewhere, or does not
/// have the first part as a word of its own.
fn join_split_word(upper: &mut String, lower: &mut String, vocabulary: &Vocabulary) -> bool {
    let Some(last) = upper.chars().last() else {
        return false;
    };
    if !is_break_hyphen(last) {
        return false;
    }
    let mut head = &upper[..upper.len() - last.len_utf8()];
    let spaced = head.ends_with(' ');
    if spaced {
        head = head.trim_end_matches(' ');
    }
    // The part before the hyphen: letters only, at least one.
    let Some(left_start) = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map(|(j, _)| j)
    else {
        return false;
    };
    let next = lower.trim_start();
    let Some(right_len) = next
        .char_indices()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map(|(j, c)| j + c.len_utf8())
    else {
        return false;
    };
    let right = &next[..right_len];
    if !right.chars().next().is_some_and(char::is_lowercase) {
        return false;
    }
    let left = &head[left_start..];
    if spaced && !vocabulary.knows(&format!("{left}{right}")) && vocabulary.knows(left) {
        return false;
    }
    let keep_hyphen = last == '-'
        && vocabulary
            .hyphenated
            .contains(&format!("{left}-{right}").to_lowercase());
    let joined = format!(
        "{}{left}{}{right}",
        &head[..left_start],
        if keep_hyphen { "-" } else { "" }
    );
    // Punctuation glued to the word ("nation," or "nation.") moves up with it.
    let rest = &next[right_len..];
    let glued = rest
        .char_indices()
        .take_while(|(_, c)| !c.is_whitespace())
        .last()
        .map_or(0, |(j, c)| j + c.len_utf8());
    let joined = format!("{joined}{}", &rest[..glued]);
    let rest = rest[glued..].trim_start().to_string();
    *upper = joined;
    *lower = rest;
    true
}

/// Step 3 over every page, including a word split across a page break: the rest of the word
/// moves up to the page where the word starts, so each byte still has one page.
fn dehyphenate(pages: &mut [Vec<String>], vocabulary: &Vocabulary) {
    for p in 0..pages.len() {
        let mut i = 0;
        while i + 1 < pages[p].len() {
            let (a, b) = pages[p].split_at_mut(i + 1);
            if join_split_word(&mut a[i], &mut b[0], vocabulary) && b[0].is_empty() {
                pages[p].remove(i + 1);
            }
            i += 1;
        }
        // Across the page break: the last line of this page, the first of the next non-empty.
        let Some(q) = (p + 1..pages.len()).find(|&q| !pages[q].is_empty()) else {
            continue;
        };
        let (before, after) = pages.split_at_mut(q);
        if let (Some(upper), Some(lower)) = (before[p].last_mut(), after[0].first_mut())
            && join_split_word(upper, lower, vocabulary)
            && lower.is_empty()
        {
            after[0].remove(0);
            // The next page may now start with a blank line.
            while after[0].first().is_some_and(String::is_empty) {
                after[0].remove(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::{PdfOptions, lines, pdf, pdf_with, two_column_pdf};
    use std::ops::Range;

    /// Page ranges are sorted, inside the text and on character boundaries.
    fn ranges_are_valid(text: &str, ranges: &[Range<usize>]) -> bool {
        let mut prev_end = 0;
        ranges.iter().all(|r| {
            let ok = r.start >= prev_end
                && r.start <= r.end
                && r.end <= text.len()
                && text.is_char_boundary(r.start)
                && text.is_char_boundary(r.end);
            prev_end = r.end;
            ok
        })
    }

    fn pages(ps: &[&str]) -> Vec<String> {
        ps.iter().map(|p| p.to_string()).collect()
    }

    fn page_texts(x: &ExtractedText) -> Vec<&str> {
        x.pages.iter().map(|r| &x.text[r.clone()]).collect()
    }

    #[test]
    fn hyphenated_words_are_joined_and_the_rest_of_the_line_moves_down() {
        let x = assemble(&pages(&[
            "within thirty days after the expiration or earlier termi-\nnation of this Lease and Tenant's sur-\nrender.\nNext line",
        ]));
        assert_eq!(
            x.text,
            "within thirty days after the expiration or earlier termination\nof this Lease and Tenant's surrender.\nNext line"
        );
    }

    #[test]
    fn real_hyphens_and_names_stay() {
        // "non-exclusive" is written whole elsewhere, so its line-end hyphen is real;
        // "Non-\nPublic" continues with a capital: a hyphenated name.
        let x = assemble(&pages(&[
            "a non-exclusive right.\nthe non-\nexclusive licence and the Non-\nPublic Information; a self-\nhelp remedy",
        ]));
        assert_eq!(
            x.text,
            "a non-exclusive right.\nthe non-exclusive\nlicence and the Non-\nPublic Information; a selfhelp\nremedy"
        );
    }

    #[test]
    fn a_spaced_hyphen_is_joined_only_on_evidence() {
        // "re -" + "ceipt": "re" is no word of the document, so this is a split word. "Tenant -"
        // + "which": "Tenant" is a word and "Tenantwhich" is not: a dash, left alone.
        let x = assemble(&pages(&[
            "acknowledge the re -\nceipt of it; the Tenant -\nwhich pays - and the Tenant pays",
        ]));
        assert_eq!(
            x.text,
            "acknowledge the receipt\nof it; the Tenant -\nwhich pays - and the Tenant pays"
        );
    }

    #[test]
    fn a_word_split_across_a_page_break_is_joined_on_the_first_page() {
        let x = assemble(&pages(&[
            "the Security De-",
            "posit shall be returned",
            "end",
        ]));
        assert_eq!(
            page_texts(&x),
            ["the Security Deposit", "shall be returned", "end"]
        );
        // Only the fragment moved: a fragment alone on its line leaves no blank line.
        let x = assemble(&pages(&["the Security De-", "posit\nshall be returned"]));
        assert_eq!(
            page_texts(&x),
            ["the Security Deposit", "shall be returned"]
        );
    }

    #[test]
    fn ligatures_are_expanded_and_spacing_is_tidied() {
        let x = assemble(&pages(&[
            "\r\n\n  The \u{fb01}nal  o\u{fb03}ce\u{fb02}oor   plan\u{0}\n\n\n\nnext\n.\n\n",
        ]));
        assert_eq!(x.text, "The final officefloor plan\n\nnext.");
    }

    #[test]
    fn running_headers_and_footers_are_dropped_when_they_repeat_on_most_pages() {
        let body =
            |n: usize| format!("Clause {n}0 text.\nMore of it.\nAnd more.\nThe end of page {n}0.");
        let raw: Vec<String> = (1..=5)
            .map(|n| {
                // One page without the header: the others still make the share.
                let header = if n == 3 {
                    ""
                } else {
                    "ACME LEASE \u{2014} CONFIDENTIAL\n"
                };
                // An ECF-style stamp: numbers that follow the page, and one that does not.
                let stamp = format!("Case 1:20-cv-0{} Document 7 Page {n} of 5", 7 * n);
                format!("{header}{stamp}\n{}\n{n}", body(n))
            })
            .collect();
        let x = assemble(&raw);
        for (i, t) in page_texts(&x).iter().enumerate() {
            assert_eq!(*t, body(i + 1));
        }
    }

    #[test]
    fn headings_that_open_most_pages_are_not_running_headers() {
        let raw: Vec<String> = (1..=4)
            .map(|n| format!("ARTICLE {}\nText one.\nText two.\nText three.", n * 2))
            .collect();
        let x = assemble(&raw);
        assert_eq!(x.text.matches("ARTICLE").count(), 4, "{}", x.text);
    }

    #[test]
    fn short_documents_keep_their_repeated_lines() {
        let raw = pages(&["Page 1 of 2\nalpha", "Page 2 of 2\nbeta"]);
        let x = assemble(&raw);
        assert_eq!(x.text, "Page 1 of 2\nalpha\n\nPage 2 of 2\nbeta");
    }

    #[test]
    fn a_line_repeated_in_the_middle_of_pages_is_content() {
        let raw: Vec<String> = (1..=4)
            .map(|n| format!("top {n}\na\nb\nc\nThe Tenant shall pay rent.\nd\ne\nf\nbottom {n}x"))
            .collect();
        let x = assemble(&raw);
        assert_eq!(x.text.matches("The Tenant shall pay rent.").count(), 4);
    }

    #[test]
    fn page_ranges_cover_each_page_and_empty_pages_get_empty_ranges() {
        let x = assemble(&pages(&["one", "  \n ", "three\nlines", ""]));
        assert_eq!(x.text, "one\n\nthree\nlines");
        assert_eq!(x.pages, vec![0..3, 3..3, 5..16, 16..16]);
        assert!(ranges_are_valid(&x.text, &x.pages));
        assert_eq!(page_texts(&x), ["one", "", "three\nlines", ""]);
    }

    #[test]
    fn text_is_read_from_a_generated_pdf_page_by_page() {
        let bytes = pdf_with(
            &[
                lines(&["ARTICLE 1 PREMISES", "", "Landlord leases the Premises."]),
                lines(&[
                    "Section 4.2 Security Deposit",
                    "",
                    "Tenant shall deliver a deposit.",
                ]),
            ],
            &PdfOptions {
                title: Some("Lease of Suite 104"),
                ..PdfOptions::default()
            },
        );
        let x = PdfExtractor.extract(&bytes).unwrap();
        assert_eq!(x.title.as_deref(), Some("Lease of Suite 104"));
        assert_eq!(
            page_texts(&x),
            [
                "ARTICLE 1 PREMISES\n\nLandlord leases the Premises.",
                "Section 4.2 Security Deposit\n\nTenant shall deliver a deposit."
            ]
        );
        // The other backend reads the same words.
        let y = extract_pdf(&bytes, PdfBackend::Lopdf).unwrap();
        assert!(y.text.contains("Security Deposit"), "{}", y.text);
        assert_eq!(y.pages.len(), 2);
    }

    #[test]
    fn two_columns_read_column_by_column_however_the_page_draws_them() {
        let left = [
            "The Tenant shall pay the rent on the",
            "first day of every month, without any",
            "demand or deduction whatsoever, to the",
            "Landlord at the office named above.",
            "Rent for a part of a month is prorated.",
        ];
        let right = [
            "The Landlord shall repair the roof and",
            "the outside walls within thirty days",
            "after the Tenant gives it written notice",
            "of a defect, at the Landlord's own cost,",
            "unless the Tenant caused the defect.",
        ];
        let title = "ARTICLE 3 RENT AND REPAIRS OF THE PREMISES AT NINE ELM STREET";
        let expected = format!("{title}\n\n{}\n{}", left.join("\n"), right.join("\n"));
        for by_rows in [false, true] {
            let bytes = two_column_pdf(title, &left, &right, by_rows);
            let x = PdfExtractor.extract(&bytes).unwrap();
            assert_eq!(
                page_texts(&x),
                [expected.as_str()],
                "drawn by rows: {by_rows}"
            );
        }
    }

    #[test]
    fn scans_encrypted_and_broken_files_get_their_own_reasons() {
        let blank = pdf(&[lines(&[]), lines(&[])]);
        assert_eq!(
            PdfExtractor.extract(&blank),
            Err(ExtractError::NeedsOcr { pages: 2 })
        );
        let locked = pdf_with(
            &[lines(&["secret terms"])],
            &PdfOptions {
                user_password: Some("hunter2"),
                ..PdfOptions::default()
            },
        );
        assert_eq!(
            PdfExtractor.extract(&locked),
            Err(ExtractError::EncryptedPdf)
        );
        let good = pdf(&[lines(&["one"]), lines(&["two"])]);
        let truncated = &good[..good.len() / 2];
        assert!(matches!(
            PdfExtractor.extract(truncated),
            Err(ExtractError::CorruptPdf(_))
        ));
        assert!(matches!(
            PdfExtractor.extract(b"hello, not a pdf"),
            Err(ExtractError::CorruptPdf(m)) if m.contains("not a PDF")
        ));
    }
}

/// Our own page assembly (normalising, running lines, de-hyphenation), fuzzed directly:
/// under [`super::isolate`] a panic here would only skip the file, so the integration fuzz
/// tests cannot see it. Here a panic fails the test.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that exercise the cleaning steps: hyphens and soft hyphens at line ends,
    /// ligatures, page numbers, repeated lines, NULs, carriage returns, multi-byte text.
    fn page() -> impl Strategy<Value = String> {
        let piece = proptest::sample::select(
            &[
                "termi-",
                "nation",
                "non-",
                "exclusive",
                "\u{00ad}",
                "\u{2010}",
                "ﬁ",
                "ﬂ",
                "ﬃ",
                "Page 3 of 9",
                "CONFIDENTIAL",
                "- 4 -",
                "12",
                "§",
                "é",
                "中",
                "\n",
                "\n\n",
                "\r",
                "\0",
                " ",
                "  ",
                "\t",
                ".",
                "-",
                "—",
                "a",
                "word",
            ][..],
        );
        proptest::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_page_assembly_never_panics_and_keeps_ranges_valid(
            pages in proptest::collection::vec(prop_oneof![page(), ".{0,80}"], 0..8),
            raw in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let x = assemble(&pages);
            prop_assert_eq!(x.pages.len(), pages.len());
            let mut last = 0;
            for r in &x.pages {
                prop_assert!(last <= r.start && r.start <= r.end && r.end <= x.text.len());
                prop_assert!(x.text.is_char_boundary(r.start) && x.text.is_char_boundary(r.end));
                last = r.end;
            }
            let _ = decode_pdf_string(&raw);
        }
    }
}
