//! Structure-aware chunking of legal text.
//!
//! Legal documents are built from headings (Markdown `#`, `ARTICLE 7`, `Section 7.2`, `§ 12-401`,
//! numbered clauses such as `7.2 Security Deposit.`, outline numerals such as `IV. ANALYSIS`),
//! and paragraphs (blank-line separated, or starting with a clause label such as `(a)`).
//! The chunker:
//!
//! 1. cuts the text into *sections* at headings, keeping a breadcrumb of the headings above
//!    (e.g. `Article 7 > Section 7.2`);
//! 2. packs whole paragraphs of a section into chunks of at most `target_tokens` tokens;
//! 3. cuts a paragraph longer than that into overlapping token windows, never inside a word.
//!
//! A section whose text is too short to stand alone (a heading line followed directly by a
//! sub-heading, say) is carried into the next section when that one is nested below it.
//!
//! Every chunk is a contiguous byte range of the text, trimmed of surrounding whitespace, so
//! offsets point into the source exactly. Token counts come from the model's own tokenizer
//! (see [`TokenSpans`]).

use std::ops::Range;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

/// Chunker settings. They are recorded in the index manifest: changing them needs a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkerConfig {
    /// Aim for chunks of at most this many tokens (whole paragraphs are packed up to it).
    pub target_tokens: usize,
    /// Overlap, in tokens, between consecutive windows of one long paragraph.
    pub overlap_tokens: usize,
    /// Sections shorter than this are merged into a nested section that follows them.
    pub min_tokens: usize,
}

impl Default for ChunkerConfig {
    fn default() -> Self {
        ChunkerConfig {
            target_tokens: 200,
            overlap_tokens: 32,
            min_tokens: 24,
        }
    }
}

impl ChunkerConfig {
    /// The default settings, scaled down for a model whose inputs hold fewer than
    /// `model_max_tokens` tokens (special tokens excluded).
    pub fn for_model(model_max_tokens: usize) -> Self {
        let d = ChunkerConfig::default();
        let target = d.target_tokens.min(model_max_tokens).max(16);
        ChunkerConfig {
            target_tokens: target,
            overlap_tokens: d.overlap_tokens.min(target / 4),
            min_tokens: d.min_tokens.min(target / 8),
        }
    }

    /// Checks the settings against each other and the model's token limit.
    pub fn validate(&self, model_max_tokens: usize) -> Result<(), String> {
        if self.target_tokens < 16 {
            return Err(format!(
                "chunk size {} is below 16 tokens",
                self.target_tokens
            ));
        }
        if self.target_tokens > model_max_tokens {
            return Err(format!(
                "chunk size {} exceeds the model's limit of {model_max_tokens} tokens",
                self.target_tokens
            ));
        }
        if self.overlap_tokens * 2 > self.target_tokens {
            return Err(format!(
                "chunk overlap {} is more than half the chunk size {}",
                self.overlap_tokens, self.target_tokens
            ));
        }
        Ok(())
    }
}

/// Something that splits text into tokens and gives each token's byte span.
///
/// The real implementation is the model's tokenizer; tests use [`WordSpans`].
pub trait TokenSpans {
    /// Byte spans of the tokens of `text`, in order, without special tokens.
    fn token_spans(&self, text: &str) -> Vec<Range<usize>>;
}

/// Splits at whitespace and punctuation: a stand-in tokenizer for tests and quick estimates.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordSpans;

impl TokenSpans for WordSpans {
    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices() {
            if c.is_alphanumeric() {
                start.get_or_insert(i);
            } else {
                if let Some(s) = start.take() {
                    spans.push(s..i);
                }
                if !c.is_whitespace() {
                    spans.push(i..i + c.len_utf8());
                }
            }
        }
        if let Some(s) = start {
            spans.push(s..text.len());
        }
        spans
    }
}

/// One chunk of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Byte range in the extracted text (trimmed; never empty).
    pub range: Range<usize>,
    /// 1-based line number of the chunk's first byte.
    pub line: u32,
    /// Headings above the chunk, outermost first.
    pub breadcrumb: Vec<String>,
}

/// A heading line: its nesting level (1 = outermost) and label for breadcrumbs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Heading {
    level: u8,
    label: String,
    /// Whether body text follows the title on the same line ("7.2 Deposit. Tenant shall ...").
    has_body: bool,
    /// Whether it is a numbered clause that reads as a sentence ("1.1 Rent is due monthly in
    /// advance."), not a title: the text of a clause more than a heading above one.
    sentence: bool,
}

/// The longest label kept for a breadcrumb entry, in characters.
const MAX_LABEL_CHARS: usize = 80;

/// Recognises a heading line, if this is one. See the module docs for the forms.
fn heading(line: &str) -> Option<Heading> {
    let t = line.trim();
    if t.is_empty() || t.len() > 400 {
        return None;
    }
    let bytes = t.as_bytes();
    // Markdown ATX heading.
    if bytes[0] == b'#' {
        let hashes = t.bytes().take_while(|&b| b == b'#').count();
        let rest = &t[hashes..];
        if hashes <= 6 && rest.starts_with([' ', '\t']) {
            let label = rest.trim().trim_end_matches('#').trim();
            if !label.is_empty() {
                return Some(make_heading(hashes as u8, label, numbered_words(label)));
            }
        }
        return None;
    }
    let first_word = t.split_whitespace().next().unwrap_or("");
    let lower = first_word.to_ascii_lowercase();
    let second = t.split_whitespace().nth(1).unwrap_or("");
    // A sentence that merely starts with a reference ("Section 9-318(e) provides that ...",
    // "Article 7 of the Convention ...") is body text: after the number of a heading comes
    // nothing, a title, or punctuation, never a lowercase word.
    let titled_after = |words_before: usize| {
        t.split_whitespace()
            .nth(words_before)
            .is_none_or(|w| !w.starts_with(char::is_lowercase))
    };
    // ARTICLE 7 / Article VII
    if lower == "article" && is_number_or_roman(second) && titled_after(2) {
        return Some(make_heading(1, t, true));
    }
    // Section 7.2 / SECTION 7 / Sec. 4
    if matches!(lower.as_str(), "section" | "sec." | "sec")
        && starts_with_digit(second)
        && titled_after(2)
    {
        let depth = second.trim_end_matches('.').matches('.').count() as u8;
        return Some(make_heading(2 + depth, t, true));
    }
    // § 12-401. Definitions.
    if t.starts_with('§') {
        let rest = t.trim_start_matches('§').trim_start();
        let words_before = if first_word.chars().all(|c| c == '§') {
            2
        } else {
            1
        };
        if starts_with_digit(rest) && titled_after(words_before) {
            return Some(make_heading(2, t, true));
        }
    }
    // Numbered clause: "7.2 Security Deposit. Tenant shall ..." or "1. DEFINITIONS"
    if let Some(num) = clause_number(first_word) {
        let dots = num.matches('.').count() as u8;
        let rest = t[first_word.len()..].trim_start();
        let starts_upper = rest.chars().next().is_some_and(char::is_uppercase);
        if dots >= 1 && starts_upper {
            return Some(make_heading(2 + dots, t, true));
        }
        // "1. Definitions": a short title line only, not a numbered list sentence.
        if starts_upper && t.chars().count() <= 60 && !rest.ends_with([',', ';']) {
            return Some(make_heading(2, t, true));
        }
        return None;
    }
    // Outline numerals of opinions and memos: "IV. ANALYSIS", "B. The Deposit".
    if let Some(head) = first_word.strip_suffix('.')
        && t.chars().count() <= MAX_LABEL_CHARS
        && t[first_word.len()..]
            .trim_start()
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    {
        if is_roman(head) {
            return Some(make_heading(1, t, true));
        }
        if head.len() == 1 && head.chars().all(|c| c.is_ascii_uppercase()) {
            return Some(make_heading(2, t, true));
        }
    }
    // A short line in capitals: "CONFIDENTIALITY AGREEMENT", "RECITALS".
    let letters = t.chars().filter(|c| c.is_alphabetic()).count();
    if letters >= 3
        && t.chars().count() <= MAX_LABEL_CHARS
        && !t.chars().any(char::is_lowercase)
        && !t.ends_with([',', ';'])
    {
        return Some(make_heading(1, t, false));
    }
    None
}

/// `7.2`, `7.2.`, `12.` -> the number without a trailing dot; `None` for anything else.
fn clause_number(word: &str) -> Option<&str> {
    let num = word.strip_suffix('.').unwrap_or(word);
    let parts_ok = !num.is_empty()
        && num
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    // A bare "12" with no dot at all is not a clause number.
    (parts_ok && (word.ends_with('.') || num.contains('.'))).then_some(num)
}

fn starts_with_digit(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn is_roman(s: &str) -> bool {
    !s.is_empty() && s.len() <= 6 && s.chars().all(|c| matches!(c, 'I' | 'V' | 'X' | 'L' | 'C'))
}

fn is_number_or_roman(s: &str) -> bool {
    let s = s.trim_end_matches(['.', ':']);
    starts_with_digit(s) || is_roman(&s.to_ascii_uppercase())
}

/// Whether a line opens a new paragraph by its label: `(a)`, `(1)`, `(iv)`, `a.`.
fn opens_clause(line: &str) -> bool {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix('(')
        && let Some(close) = rest.find(')')
    {
        let label = &rest[..close];
        return (1..=5).contains(&label.len()) && label.chars().all(char::is_alphanumeric);
    }
    false
}

fn make_heading(level: u8, line: &str, numbered: bool) -> Heading {
    let (label, has_body) = short_label(line);
    let sentence = numbered && reads_as_sentence(&label);
    Heading {
        level,
        label,
        has_body,
        sentence,
    }
}

/// Whether a numbered heading's label is a sentence: four words or more after its number,
/// ending with a period or cut for length ("Section 1.2 Late fees accrue at five percent.",
/// not "7.2 Security Deposit." nor "§ 3 Governing law").
fn reads_as_sentence(label: &str) -> bool {
    let words: Vec<&str> = label.split_whitespace().collect();
    let number = words
        .iter()
        .take(3)
        .position(|w| w.bytes().any(|b| b.is_ascii_digit()))
        .map_or(1, |i| i + 1);
    words.len() >= number + 4 && label.ends_with(['.', '…'])
}

/// Whether a Markdown heading's words start with a number (`3. Term`, `Section 3`, `IV.`).
fn numbered_words(label: &str) -> bool {
    let mut words = label.split_whitespace();
    let first = words.next().unwrap_or("");
    let has_digit = |w: &str| w.bytes().any(|b| b.is_ascii_digit());
    has_digit(first)
        || first.strip_suffix('.').is_some_and(is_roman)
        || words.next().is_some_and(has_digit)
}

/// The title part of a heading line, cut to `MAX_LABEL_CHARS` characters, and whether body
/// text follows it on the same line.
fn short_label(t: &str) -> (String, bool) {
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    // The number of the heading ("7.2", "§ 12-401.", "Section 4.1") ends at the first word
    // with a digit among the first three words; the title then runs to the first ". ".
    let number_end = t
        .split(' ')
        .take(3)
        .scan(0, |pos, w| {
            let end = *pos + w.len();
            *pos = end + 1;
            Some((end, w))
        })
        .find(|(_, w)| w.chars().any(|c| c.is_ascii_digit()))
        .map_or_else(|| t.find(' ').unwrap_or(t.len()), |(end, _)| end);
    let cut = t[number_end..]
        .find(". ")
        .map(|i| number_end + i + 1)
        .unwrap_or(t.len());
    let label = &t[..cut];
    let has_body = cut < t.len();
    if label.chars().count() <= MAX_LABEL_CHARS {
        return (label.to_string(), has_body);
    }
    let mut out: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
    out.push('…');
    (out, has_body)
}

/// A paragraph: a byte range of the text, and the heading it is, if any.
struct Para {
    range: Range<usize>,
    heading: Option<Heading>,
}

/// Splits `text` into paragraphs: runs of non-blank lines; a heading line is a paragraph of
/// its own, and a clause label such as `(a)` starts a new paragraph.
fn paragraphs(text: &str) -> Vec<Para> {
    let mut paras: Vec<Para> = Vec::new();
    let mut current: Option<Range<usize>> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim().is_empty() {
            if let Some(r) = current.take() {
                paras.push(Para {
                    range: r,
                    heading: None,
                });
            }
            continue;
        }
        let end = start + content.len();
        if let Some(h) = heading(content) {
            if let Some(r) = current.take() {
                paras.push(Para {
                    range: r,
                    heading: None,
                });
            }
            paras.push(Para {
                range: start..end,
                heading: Some(h),
            });
            continue;
        }
        match current.as_mut() {
            Some(r) if !opens_clause(content) => r.end = end,
            _ => {
                if let Some(r) = current.replace(start..end) {
                    paras.push(Para {
                        range: r,
                        heading: None,
                    });
                }
            }
        }
    }
    if let Some(r) = current {
        paras.push(Para {
            range: r,
            heading: None,
        });
    }
    paras
}

/// Token start offsets of a whole text, for counting tokens in any range by binary search.
struct TokenIndex {
    spans: Vec<Range<usize>>,
}

impl TokenIndex {
    /// Number of tokens starting inside `range`.
    fn count(&self, range: &Range<usize>) -> usize {
        self.first_at(range.end) - self.first_at(range.start)
    }

    /// Index of the first token starting at or after `offset`.
    fn first_at(&self, offset: usize) -> usize {
        self.spans.partition_point(|s| s.start < offset)
    }
}

/// A paragraph of a section in the making, with the section it was written under.
struct Placed {
    range: Range<usize>,
    /// The headings above it.
    breadcrumb: Rc<[String]>,
    /// The level of its section's heading (0 before any heading).
    level: u8,
    /// Whether its section's heading reads as a sentence ([`Heading::sentence`]).
    sentence: bool,
}

/// A section in the making: its breadcrumb and paragraphs.
struct Section {
    breadcrumb: Rc<[String]>,
    level: u8,
    sentence: bool,
    /// Its paragraphs: its own, after any carried in from sections before it.
    paras: Vec<Placed>,
    /// Whether the section holds nothing but heading lines.
    heading_only: bool,
}

impl Section {
    fn new(breadcrumb: Rc<[String]>, level: u8, sentence: bool, heading_only: bool) -> Self {
        Section {
            breadcrumb,
            level,
            sentence,
            paras: Vec::new(),
            heading_only,
        }
    }

    fn push(&mut self, range: Range<usize>) {
        self.paras.push(Placed {
            range,
            breadcrumb: self.breadcrumb.clone(),
            level: self.level,
            sentence: self.sentence,
        });
    }
}

/// Splits `text` into chunks. Deterministic: the same text and settings give the same chunks.
pub fn chunk_text(text: &str, tokens: &dyn TokenSpans, cfg: &ChunkerConfig) -> Vec<Chunk> {
    let index = TokenIndex {
        spans: tokens.token_spans(text),
    };
    // 1. Sections.
    let mut sections: Vec<Section> = Vec::new();
    let mut stack: Vec<Heading> = Vec::new();
    for para in paragraphs(text) {
        if let Some(h) = para.heading {
            let heading_only = !h.has_body;
            while stack.last().is_some_and(|top| top.level >= h.level) {
                stack.pop();
            }
            let (level, sentence) = (h.level, h.sentence);
            stack.push(h);
            let breadcrumb = stack.iter().map(|h| h.label.clone()).collect();
            let mut s = Section::new(breadcrumb, level, sentence, heading_only);
            s.push(para.range);
            sections.push(s);
        } else if let Some(s) = sections.last_mut() {
            s.push(para.range);
            s.heading_only = false;
        } else {
            let mut s = Section::new(Rc::new([]), 0, false, false);
            s.push(para.range);
            sections.push(s);
        }
    }
    // 2. Carry a section that is only a heading line into the section after it, and a short
    //    section into a following section nested below it, so no chunk is a bare heading.
    //    Carried lines join the section (its breadcrumb), unless they are a numbered clause
    //    that reads as a sentence, beside the section or deeper than it ("1.1 Rent is due
    //    monthly in advance." then "1.2 ..."): those keep their own, and a chunk holding both
    //    is under the headings they share.
    let mut merged: Vec<Section> = Vec::new();
    let mut carry: Option<Section> = None;
    for mut s in sections {
        if let Some(mut c) = carry.take() {
            if c.heading_only || s.level > c.level {
                for p in &mut c.paras {
                    let beside = p.sentence && p.level >= s.level;
                    if !beside || s.breadcrumb.starts_with(&p.breadcrumb) {
                        p.breadcrumb = s.breadcrumb.clone();
                        p.level = s.level;
                        p.sentence = s.sentence;
                    }
                }
                c.paras.append(&mut s.paras);
                s.paras = c.paras;
            } else {
                merged.push(c);
            }
        }
        let total: usize = s.paras.iter().map(|p| index.count(&p.range)).sum();
        if s.level > 0 && (s.heading_only || total < cfg.min_tokens) {
            carry = Some(s);
        } else {
            merged.push(s);
        }
    }
    merged.extend(carry);
    let sections = merged;

    // 3. Pack paragraphs into chunks, windowing long ones.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let mut chunks = Vec::new();
    let mut emit = |range: Range<usize>, crumb: &[String]| {
        if let Some(range) = trim_range(text, range) {
            let line = newlines.partition_point(|&n| n < range.start) as u32 + 1;
            chunks.push(Chunk {
                range,
                line,
                breadcrumb: crumb.to_vec(),
            });
        }
    };
    for s in &sections {
        // The chunk being packed, and the headings above all of its paragraphs.
        let mut current: Option<(Range<usize>, &[String])> = None;
        let mut current_tokens = 0;
        for Placed {
            range: p,
            breadcrumb: crumb,
            ..
        } in &s.paras
        {
            let n = index.count(p);
            if n > cfg.target_tokens {
                if let Some((r, c)) = current.take() {
                    emit(r, c);
                }
                current_tokens = 0;
                for w in windows(text, &index, p.clone(), cfg) {
                    emit(w, crumb);
                }
                continue;
            }
            match current.as_mut() {
                Some((r, c)) if current_tokens + n <= cfg.target_tokens => {
                    r.end = p.end;
                    *c = common_prefix(c, crumb);
                    current_tokens += n;
                }
                _ => {
                    if let Some((r, c)) = current.replace((p.clone(), crumb)) {
                        emit(r, c);
                    }
                    current_tokens = n;
                }
            }
        }
        if let Some((r, c)) = current {
            emit(r, c);
        }
    }
    chunks
}

/// The headings `a` and `b` share, from the outermost.
fn common_prefix<'a>(a: &'a [String], b: &[String]) -> &'a [String] {
    let shared = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    &a[..shared]
}

/// One heading of a document's outline, as the chunker recognises headings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutlineEntry {
    /// Nesting level, 1 = outermost (`ARTICLE 4` is 1, `Section 4.2` is 2, `4.2.1` is 4).
    pub level: u8,
    /// The heading's label, as breadcrumbs show it.
    pub heading: String,
    /// 1-based line of the heading.
    pub line: u32,
    /// Byte offset of the heading line in the text.
    pub start_byte: usize,
    /// End of its section: the next heading of the same or an outer level, or the text's end.
    pub end_byte: usize,
}

/// The headings of `text`, in order, each with the byte range of its section (the same
/// headings that make chunk breadcrumbs).
pub fn outline(text: &str) -> Vec<OutlineEntry> {
    let mut out: Vec<OutlineEntry> = Vec::new();
    let mut line = 1u32;
    let mut counted = 0;
    for para in paragraphs(text) {
        let Some(h) = para.heading else { continue };
        line += text[counted..para.range.start].matches('\n').count() as u32;
        counted = para.range.start;
        // This heading closes every open section at its level or deeper.
        for open in out.iter_mut().rev() {
            if open.end_byte != usize::MAX {
                continue;
            }
            if open.level >= h.level {
                open.end_byte = para.range.start;
            }
        }
        out.push(OutlineEntry {
            level: h.level,
            heading: h.label,
            line,
            start_byte: para.range.start,
            end_byte: usize::MAX,
        });
    }
    for open in &mut out {
        if open.end_byte == usize::MAX {
            open.end_byte = text.len();
        }
    }
    out
}

/// Overlapping windows of at most `target_tokens` tokens over one long paragraph, each ending
/// at a token that is followed by a non-word character (never inside a word).
fn windows(
    text: &str,
    index: &TokenIndex,
    para: Range<usize>,
    cfg: &ChunkerConfig,
) -> Vec<Range<usize>> {
    let first = index.first_at(para.start);
    let last = index.first_at(para.end); // exclusive
    let spans = &index.spans;
    let mut out = Vec::new();
    let mut i = first;
    while i < last {
        let mut j = (i + cfg.target_tokens).min(last); // exclusive end token
        if j < last {
            // Back off until the window ends at a word boundary.
            let mut k = j;
            while k > i + 1 && !boundary_after(text, spans[k - 1].end) {
                k -= 1;
            }
            if k > i + 1 {
                j = k;
            }
        }
        let start = if i == first {
            para.start
        } else {
            spans[i].start
        };
        let end = if j == last {
            para.end
        } else {
            spans[j - 1].end
        };
        out.push(start..end);
        if j >= last {
            break;
        }
        // Step back by the overlap, to a token that starts a word.
        let mut next = j.saturating_sub(cfg.overlap_tokens).max(i + 1);
        while next < j && !boundary_before(text, spans[next].start) {
            next += 1;
        }
        i = next;
    }
    out
}

/// Whether the text at `offset` starts a new word (or ends the text).
fn boundary_after(text: &str, offset: usize) -> bool {
    text[offset..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric())
}

/// Whether the character before `offset` is not part of a word.
fn boundary_before(text: &str, offset: usize) -> bool {
    text[..offset]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
}

/// Shrinks `range` to exclude surrounding whitespace (and a byte-order mark); `None` if empty.
fn trim_range(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let s = &text[range.clone()];
    let is_space = |c: char| c.is_whitespace() || c == '\u{feff}';
    let lead = s.len() - s.trim_start_matches(is_space).len();
    let trail = s.len() - s.trim_end_matches(is_space).len();
    (lead + trail < s.len()).then(|| range.start + lead..range.end - trail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(target: usize, overlap: usize) -> ChunkerConfig {
        ChunkerConfig {
            target_tokens: target,
            overlap_tokens: overlap,
            min_tokens: 4,
        }
    }

    fn crumbs(text: &str, cfg: &ChunkerConfig) -> Vec<(String, String)> {
        chunk_text(text, &WordSpans, cfg)
            .into_iter()
            .map(|c| (c.breadcrumb.join(" > "), text[c.range].to_string()))
            .collect()
    }

    #[test]
    fn headings_of_every_legal_form_are_recognised() {
        let cases = [
            ("# Lease", 1),
            ("### Section 1.1 Term", 3),
            ("ARTICLE 7 SECURITY DEPOSIT", 1),
            ("Article IV. Remedies", 1),
            ("Section 7.2 Security Deposit.", 3),
            ("SECTION 7 DEPOSITS", 2),
            ("§ 12-401. Definitions.", 2),
            ("7.2 Security Deposit. Tenant shall pay", 3),
            ("7.2.1 Interest.", 4),
            ("1. DEFINITIONS", 2),
            ("IV. ANALYSIS", 1),
            ("B. The Deposit Was Wrongfully Withheld", 2),
            ("RECITALS", 1),
        ];
        for (line, level) in cases {
            let h = heading(line).unwrap_or_else(|| panic!("not a heading: {line}"));
            assert_eq!(h.level, level, "{line}");
        }
        for line in [
            "The Tenant shall pay rent.",
            "1. The Tenant shall pay rent on the first day of each month, without demand, and in lawful money of the United States.",
            "(a) any breach of this Agreement;",
            "2026",
            "#hashtag",
            "I.",
            "WHEREAS, the parties wish to settle;",
            "Section 9-318(e) provides that a landlord who wrongfully withholds a deposit",
            "Article 7 of the Convention applies.",
            "§ 1983 provides a remedy against state actors.",
        ] {
            assert_eq!(heading(line), None, "{line}");
        }
    }

    #[test]
    fn breadcrumbs_follow_the_heading_hierarchy() {
        let text = "LEASE AGREEMENT\n\nARTICLE 3 RENT\n\nSection 3.1 Base Rent. Tenant shall pay base rent of two thousand dollars every month to Landlord.\n\nSection 3.2 Late Charge. A late charge of five percent applies to any payment received after the fifth day.\n\nARTICLE 4 DEPOSIT\n\nSection 4.1 Security Deposit. Landlord holds the deposit as security for Tenant's obligations under this Lease.\n";
        let got = crumbs(text, &cfg(200, 10));
        let labels: Vec<_> = got.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            labels,
            vec![
                "ARTICLE 3 RENT > Section 3.1 Base Rent.",
                "ARTICLE 3 RENT > Section 3.2 Late Charge.",
                "ARTICLE 4 DEPOSIT > Section 4.1 Security Deposit."
            ]
        );
        // The short article heading is carried into its first section's chunk.
        assert!(
            got[0]
                .1
                .starts_with("LEASE AGREEMENT\n\nARTICLE 3 RENT\n\nSection 3.1")
        );
        assert!(got[2].1.starts_with("ARTICLE 4 DEPOSIT"));
    }

    #[test]
    fn a_chunk_of_several_one_line_sections_is_under_the_headings_they_share() {
        // Each numbered line is a whole section; too short to stand alone, they share a chunk,
        // which must not be labelled with the last of them.
        let text = "ARTICLE I RENT\nSection 1.1 The Tenant shall pay rent monthly in advance.\n\
                    Section 1.2 Late fees accrue at five percent.\n";
        let got = crumbs(text, &cfg(200, 10));
        assert_eq!(got, vec![("ARTICLE I RENT".into(), text.trim_end().into())]);
        // A title above the article still gives way to the article's own headings, and an
        // article heading to its first section's.
        let titled = format!("MASTER LEASE\n\n{text}");
        assert_eq!(crumbs(&titled, &cfg(200, 10))[0].0, "ARTICLE I RENT");
        let nested = "MASTER LEASE\n\nARTICLE I RENT\n\nSection 1.1 Base Rent. Tenant pays.\n";
        assert_eq!(
            crumbs(nested, &cfg(200, 10))[0].0,
            "ARTICLE I RENT > Section 1.1 Base Rent."
        );
        // Carried on into the next article, they are under no heading rather than its.
        let two = format!("{text}ARTICLE II USE\nThe premises serve as offices only.\n");
        let got = crumbs(&two, &cfg(200, 10));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "");
        // A numbered title with nothing under it is a heading above the next section's text,
        // whose breadcrumb it takes, as before.
        let empty =
            "ARTICLE 1 TERMS\n\n§ 3 Governing law\n\n# Footnotes\n\n[1] As shown on the plan.\n";
        assert_eq!(crumbs(empty, &cfg(200, 10))[0].0, "Footnotes");
    }

    #[test]
    fn paragraphs_are_packed_up_to_the_target_and_never_split_inside_a_word() {
        let para = "word ".repeat(30);
        let text = format!("{para}\n\n{para}\n\n{para}");
        let chunks = chunk_text(&text, &WordSpans, &cfg(64, 8));
        // Two paragraphs of 30 tokens fit in 64; the third starts a new chunk.
        assert_eq!(chunks.len(), 2);
        for c in &chunks {
            assert!(boundary_before(&text, c.range.start) && boundary_after(&text, c.range.end));
        }
    }

    #[test]
    fn a_long_paragraph_becomes_overlapping_windows_within_the_limit() {
        let text: String = (0..500).map(|i| format!("w{i} ")).collect();
        let c = cfg(100, 20);
        let chunks = chunk_text(&text, &WordSpans, &c);
        assert!(chunks.len() >= 6, "{}", chunks.len());
        for pair in chunks.windows(2) {
            assert!(pair[1].range.start < pair[0].range.end, "windows overlap");
            assert!(pair[1].range.start > pair[0].range.start, "windows advance");
        }
        for ch in &chunks {
            assert!(WordSpans.token_spans(&text[ch.range.clone()]).len() <= 100);
        }
        assert_eq!(
            chunks.last().map(|c| c.range.end),
            Some(text.trim_end().len())
        );
    }

    #[test]
    fn chunks_are_trimmed_ordered_nonempty_and_report_their_line() {
        let text = "\u{feff}Title line\n\n  (a) first clause text here.\n  (b) second clause text here.\n\n\nLast paragraph.\n";
        let chunks = chunk_text(text, &WordSpans, &cfg(50, 1));
        assert!(!chunks.is_empty());
        let mut prev_end = 0;
        for c in &chunks {
            let s = &text[c.range.clone()];
            assert!(!s.is_empty() && s.trim() == s && !s.starts_with('\u{feff}'));
            assert!(c.range.start >= prev_end);
            prev_end = c.range.end;
            let line = text[..c.range.start].matches('\n').count() as u32 + 1;
            assert_eq!(c.line, line);
        }
        // The clause labels split paragraphs.
        assert!(
            paragraphs(text)
                .iter()
                .any(|p| text[p.range.clone()].starts_with("  (b)"))
        );
    }

    #[test]
    fn unicode_and_section_signs_keep_valid_boundaries() {
        let text = "§ 12-401. Définitions — «Locataire».\n\n".to_string()
            + &"Ünïcödé § ¶ “quoted” ".repeat(80);
        for c in chunk_text(&text, &WordSpans, &cfg(32, 8)) {
            assert!(text.is_char_boundary(c.range.start) && text.is_char_boundary(c.range.end));
            assert_eq!(c.breadcrumb, vec!["§ 12-401. Définitions — «Locataire»."]);
        }
    }

    proptest::proptest! {
        #[test]
        fn chunks_of_any_text_are_in_bounds_trimmed_and_ordered(
            text in "(\\PC|\n|§ 1\\.2|ARTICLE 3|\\(a\\) ){0,400}",
            target in 16usize..80,
        ) {
            let cfg = ChunkerConfig { target_tokens: target, overlap_tokens: target / 4, min_tokens: 4 };
            let chunks = chunk_text(&text, &WordSpans, &cfg);
            let mut prev_start = 0;
            for c in &chunks {
                let piece = text.get(c.range.clone());
                proptest::prop_assert!(piece.is_some_and(|p| !p.is_empty() && p.trim() == p));
                proptest::prop_assert!(c.range.start >= prev_start);
                prev_start = c.range.start;
            }
            // Every word of the text is in some chunk.
            for w in WordSpans.token_spans(&text) {
                proptest::prop_assert!(chunks.iter().any(|c| c.range.start <= w.start && w.end <= c.range.end));
            }
        }
    }

    #[test]
    fn config_validation_names_the_problem() {
        assert!(ChunkerConfig::default().validate(254).is_ok());
        assert_eq!(ChunkerConfig::for_model(254), ChunkerConfig::default());
        let small = ChunkerConfig::for_model(30);
        assert_eq!(
            (small.target_tokens, small.overlap_tokens, small.min_tokens),
            (30, 7, 3)
        );
        assert!(small.validate(30).is_ok());
        assert!(cfg(300, 10).validate(254).unwrap_err().contains("limit"));
        assert!(cfg(100, 60).validate(254).unwrap_err().contains("overlap"));
    }

    #[test]
    fn the_outline_lists_headings_with_their_sections() {
        let text = "LEASE\n\nARTICLE 1 RENT\n\nSection 1.1 Amount. Tenant pays.\n\nSection 1.2 Due.\nMonthly.\n\nARTICLE 2 DEPOSIT\nHeld in trust.\n";
        let o = outline(text);
        let got: Vec<_> = o
            .iter()
            .map(|e| {
                (
                    e.level,
                    e.heading.as_str(),
                    e.line,
                    &text[e.start_byte..e.end_byte],
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "LEASE", 1, "LEASE\n\n"),
                (1, "ARTICLE 1 RENT", 3, &text[7..84]),
                (
                    3,
                    "Section 1.1 Amount.",
                    5,
                    "Section 1.1 Amount. Tenant pays.\n\n"
                ),
                (3, "Section 1.2 Due.", 7, "Section 1.2 Due.\nMonthly.\n\n"),
                (
                    1,
                    "ARTICLE 2 DEPOSIT",
                    10,
                    "ARTICLE 2 DEPOSIT\nHeld in trust.\n"
                ),
            ]
        );
        assert!(outline("no headings here, just a sentence.").is_empty());
    }
}
