//! The keyword index (tantivy, BM25).
//!
//! Fields:
//! - `body`: the chunk's text, English-stemmed (`legal_en`): "terminates" finds "termination";
//! - `exact`: the same text with tokens kept whole (`legal_exact`): "7.2(a)", "1983", "§";
//! - `context`: the document title and heading breadcrumb, stemmed;
//! - `units`: the text again, stemmed, each word placed by its sentence and paragraph
//!   ([`units_analyzer`]) for `a /s b` and `a /p b`;
//! - stored fields for display (path, title, breadcrumb, text, offsets, line), so that searches
//!   never need the catalog (which only one process may open at a time).
//!
//! Queries are not parsed with a query language (a lawyer types "§ 7.2(a)?" freely): each
//! field's analyzer turns the query into terms, combined as a boosted OR (BM25 sums), and
//! chunks holding a "double-quoted phrase" exactly rank above those that only share its words
//! (a boost, not a filter: natural questions quote names that need not match verbatim).

use std::ops::{Bound, Range};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tantivy::collector::{DocSetCollector, FilterCollector, TopDocs};
use tantivy::query::{
    AllQuery, Bm25StatisticsProvider, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query,
    RangeQuery, RegexPhraseQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, FieldType, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenStream, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use super::define::{self, Definition};
use super::distinct::{self, Copies, DistinctTexts};
use super::root::Root;
use super::sent::{SentWindow, sent_day};
use crate::ids::{ChunkFilter, ChunkId, ChunkSet, DocId};
use crate::ingest::segment::{paragraph_starts, segments};
use crate::ingest::types::MailInfo;
use crate::{Error, Result};

// The analyzers' names, which an index's schema records: a name changes with what its
// analyzer does, so that an index analysed otherwise is known (`is_outdated`) and rebuilt.
const STEMMED: &str = "legal_en_2";
const EXACT: &str = "legal_exact_2";
const UNITS: &str = "legal_units_2";
/// The names of the analyzers before the `s` of a possessive was left out
/// ([`WordTokenizer`]), in the order [`STEMMED`], [`EXACT`], [`UNITS`].
const EARLIER_NAMES: [&str; 3] = ["legal_en", "legal_exact", "legal_units"];
/// In the `units` field, the sentences of each paragraph begin this many positions after those
/// of the paragraph before (a chunk has fewer sentences than this).
pub const PARAGRAPH_SPAN: u32 = 1 << 16;
/// At most this many pairs of stems narrow a connector with a root side before each chunk's
/// text is checked.
const MAX_STEM_PAIRS: usize = 64;
/// The last paragraph that gets its own positions (`u32` positions leave room for this many).
const LAST_PARAGRAPH: u32 = u32::MAX / PARAGRAPH_SPAN - 2;
/// Keeps section numbers, citations and symbols whole: `7.2(a)`, `12-401`, `U.S.C`, `§`.
const EXACT_PATTERN: &str = r"[§¶]|[\p{L}\p{N}][\p{L}\p{N}.()\-/:]*[\p{L}\p{N})]|[\p{L}\p{N}]";

/// Relative weight of each field in the BM25 sum.
const BODY_BOOST: f32 = 1.0;
const EXACT_BOOST: f32 = 0.5;
const CONTEXT_BOOST: f32 = 2.0;
const PHRASE_BOOST: f32 = 2.0;

#[derive(Debug, Clone, Copy)]
struct Fields {
    chunk_id: Field,
    doc_id: Field,
    path: Field,
    title: Field,
    breadcrumb: Field,
    body: Field,
    exact: Field,
    context: Field,
    start: Field,
    end: Field,
    line: Field,
    page: Field,
    page_end: Field,
    paragraph: Field,
    /// The e-mail headers (JSON) of a chunk of an e-mail or attachment; `None` in indexes
    /// made before the field existed, which then store and show none.
    mail: Option<Field>,
    /// The day the e-mail of a chunk of an e-mail or attachment was sent (`YYYYMMDD`,
    /// [`sent_day`]); `None` in indexes made before the field existed.
    sent: Option<Field>,
    /// Where pages after the chunk's first begin within it ([`StoredChunk::page_breaks`]);
    /// `None` in indexes made before the field existed.
    page_breaks: Option<Field>,
    /// The sender of the e-mail of a chunk of an e-mail or attachment (`From`, stemmed, for
    /// `from:`); `None` in indexes made before the field existed.
    mail_from: Option<Field>,
    /// Its recipients (`To` and `Cc`, for `to:`); `None` likewise.
    mail_to: Option<Field>,
    /// The text's words placed by sentence and paragraph ([`units_analyzer`], for `/s` and
    /// `/p`); `None` in indexes made before the field existed.
    units: Option<Field>,
    /// The document's path again, indexed whole (one term per file), so the files a `--path`
    /// filter keeps are found in the term dictionary without reading stored chunks; `None`
    /// in indexes made before the field existed.
    file: Option<Field>,
    /// The key of the chunk's text ([`distinct::text_key`]), so that BM25 counts a text
    /// that several chunks hold once; `None` in indexes made before the field existed.
    text_hash: Option<Field>,
    /// The folder of the e-mail of a chunk of an e-mail or attachment (an Outlook data file's
    /// or a Maildir's, stemmed, for `folder:`); `None` in indexes made before the field
    /// existed.
    mail_folder: Option<Field>,
}

impl Fields {
    /// The field of an e-mail header (`None` in indexes made before it existed).
    fn mail(&self, f: MailField) -> Option<Field> {
        match f {
            MailField::From => self.mail_from,
            MailField::To => self.mail_to,
            MailField::Folder => self.mail_folder,
        }
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |analyzer: &str, stored: bool| {
        let opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored { opts.set_stored() } else { opts }
    };
    let fields = Fields {
        chunk_id: b.add_u64_field("chunk_id", INDEXED | FAST | STORED),
        doc_id: b.add_u64_field("doc_id", INDEXED | STORED),
        path: b.add_text_field("path", STORED),
        title: b.add_text_field("title", STORED),
        breadcrumb: b.add_text_field("breadcrumb", STORED),
        body: b.add_text_field("body", text(STEMMED, true)),
        exact: b.add_text_field("exact", text(EXACT, false)),
        context: b.add_text_field("context", text(STEMMED, false)),
        start: b.add_u64_field("start", STORED),
        end: b.add_u64_field("end", STORED),
        line: b.add_u64_field("line", STORED),
        page: b.add_u64_field("page", STORED),
        page_end: b.add_u64_field("page_end", STORED),
        paragraph: b.add_u64_field("paragraph", STORED),
        // Added last: the fields before it keep their numbers in older indexes.
        mail: Some(b.add_text_field("mail", STORED)),
        sent: Some(b.add_u64_field("sent", INDEXED)),
        page_breaks: Some(b.add_u64_field("page_breaks", STORED)),
        mail_from: Some(b.add_text_field("mail_from", text(STEMMED, false))),
        mail_to: Some(b.add_text_field("mail_to", text(STEMMED, false))),
        // Searched only as a condition, never scored: no field norms.
        units: Some(
            b.add_text_field(
                "units",
                TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer(UNITS)
                        .set_fieldnorms(false)
                        .set_index_option(IndexRecordOption::WithFreqsAndPositions),
                ),
            ),
        ),
        file: Some(b.add_text_field("file", STRING)),
        text_hash: Some(b.add_u64_field(distinct::FIELD, FAST)),
        mail_folder: Some(b.add_text_field("mail_folder", text(STEMMED, false))),
    };
    (b.build(), fields)
}

/// The first chunk of `segment` that holds the term of `info` and is not deleted (a deleted
/// chunk's terms stay until its segment is merged), if any.
fn first_live(
    segment: &tantivy::SegmentReader,
    inverted: &tantivy::InvertedIndexReader,
    info: &tantivy::postings::TermInfo,
) -> std::io::Result<Option<tantivy::DocId>> {
    use tantivy::DocSet;
    let mut postings = inverted.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    let mut at = postings.doc();
    while at != tantivy::TERMINATED && segment.is_deleted(at) {
        at = postings.advance();
    }
    Ok((at != tantivy::TERMINATED).then_some(at))
}

/// Analyzers are built once per process and cloned for each use: building the regex
/// tokenizer and the stop-word set took 1.6 ms per query, more than the BM25 search itself
/// on a small index.
fn cached(cell: &'static OnceLock<TextAnalyzer>, build: fn() -> TextAnalyzer) -> TextAnalyzer {
    cell.get_or_init(build).clone()
}

/// The stemmed analyzer of the `body` field; also used to highlight query terms in snippets.
pub fn stemmed_analyzer() -> TextAnalyzer {
    static CELL: OnceLock<TextAnalyzer> = OnceLock::new();
    cached(&CELL, build_stemmed_analyzer)
}

fn build_stemmed_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The analyzer of the `units` field: the words and terms of [`stemmed_analyzer`], each at the
/// position of its sentence and paragraph rather than its own. Every word of a sentence has
/// the same position, and the sentences of a paragraph follow those of the paragraph before
/// after a gap of [`PARAGRAPH_SPAN`] positions. So two words are in one sentence when their
/// positions are equal, and in one paragraph when they are less than `PARAGRAPH_SPAN` apart
/// (sentences and paragraphs as [`segments`] and [`paragraph_starts`] find them).
pub fn units_analyzer() -> TextAnalyzer {
    static CELL: OnceLock<TextAnalyzer> = OnceLock::new();
    cached(&CELL, || {
        TextAnalyzer::builder(UnitTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build()
    })
}

/// Whether `text[start..end]` is the `s` of a possessive (`attorney's`, `Lessee’s`, `the
/// "Company"'s`): an `s` right after an apostrophe that follows a letter or digit, or a
/// closing double quote after one. It is not a word of its own.
fn possessive_s(text: &str, start: usize, end: usize) -> bool {
    matches!(text.get(start..end), Some("s" | "S"))
        && (text[..start].strip_suffix(['\'', '’', 'ʼ'])).is_some_and(|before| {
            (before.trim_end_matches(['"', '”'])).ends_with(char::is_alphanumeric)
        })
}

/// The words of [`SimpleTokenizer`] but the `s` of a possessive ([`possessive_s`]), each at
/// the next position: `attorney's fees` is `attorney`, `fees` side by side, as `attorneys'
/// fees` is, so either phrase finds both and `w/1` pairs the two words.
#[derive(Clone, Default)]
struct WordTokenizer {
    words: SimpleTokenizer,
}

/// The token stream of [`WordTokenizer`].
struct WordStream<'a> {
    words: SimpleTokenStream<'a>,
    text: &'a str,
    /// The position of the next word.
    next: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        WordStream {
            words: self.words.token_stream(text),
            text,
            next: 0,
        }
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            if !self.words.advance() {
                return false;
            }
            let t = self.words.token();
            if !possessive_s(self.text, t.offset_from, t.offset_to) {
                break;
            }
        }
        self.words.token_mut().position = self.next;
        self.next += 1;
        true
    }

    fn token(&self) -> &Token {
        self.words.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.words.token_mut()
    }
}

/// The words of [`WordTokenizer`], placed by sentence and paragraph ([`units_analyzer`]).
#[derive(Clone, Default)]
struct UnitTokenizer {
    words: WordTokenizer,
}

/// The token stream of [`UnitTokenizer`].
struct UnitStream<'a> {
    words: WordStream<'a>,
    /// Where each sentence begins.
    sentences: Vec<usize>,
    /// Where each paragraph after the first begins.
    paragraphs: Vec<usize>,
}

impl Tokenizer for UnitTokenizer {
    type TokenStream<'a> = UnitStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> UnitStream<'a> {
        UnitStream {
            words: self.words.token_stream(text),
            sentences: segments(text, false).into_iter().map(|r| r.start).collect(),
            paragraphs: paragraph_starts(text),
        }
    }
}

impl TokenStream for UnitStream<'_> {
    fn advance(&mut self) -> bool {
        if !self.words.advance() {
            return false;
        }
        let at = self.words.token().offset_from;
        let before = |starts: &[usize]| starts.partition_point(|&s| s <= at) as u32;
        let sentence = before(&self.sentences).saturating_sub(1);
        let paragraph = before(&self.paragraphs).min(LAST_PARAGRAPH);
        self.words.token_mut().position =
            (paragraph * PARAGRAPH_SPAN + sentence.min(PARAGRAPH_SPAN - 1)) as usize;
        true
    }

    fn token(&self) -> &Token {
        self.words.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.words.token_mut()
    }
}

/// Query terms drop English stop words ([`QUERY_STOP_WORDS`]: "the", "does", "which"): they
/// carry no evidence in a question, and long questions would otherwise match every chunk on
/// them. Documents keep them (phrases need their positions).
fn query_analyzer(exact: bool) -> TextAnalyzer {
    static STEMMED_CELL: OnceLock<TextAnalyzer> = OnceLock::new();
    static EXACT_CELL: OnceLock<TextAnalyzer> = OnceLock::new();
    if exact {
        cached(&EXACT_CELL, || build_query_analyzer(true))
    } else {
        cached(&STEMMED_CELL, || build_query_analyzer(false))
    }
}

/// The words a keyword query leaves out: tantivy's English stop words (Lucene's list), and
/// the pronouns, question words and auxiliaries of a question ("who can see my data?",
/// "does the agreement ..."), which say how it is asked, not what about (docs/quality.md,
/// "Question words"). Not `shall`, `may` or `must`, on which a legal text's duties turn.
const QUERY_STOP_WORDS: &[&str] = &[
    // tantivy's (Lucene's) English list.
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
    // A question's pronouns, question words and auxiliaries (not "us", which may be the US).
    "i", "me", "my", "mine", "myself", "we", "our", "ours", "you", "your", "yours", "he", "him",
    "his", "she", "her", "hers", "its", "them", "theirs", "what", "which", "who", "whom", "whose",
    "when", "where", "why", "how", "am", "were", "been", "being", "have", "has", "had", "having",
    "do", "does", "did", "doing", "would", "should", "could", "can",
    // What the tokenizer leaves of a contraction (`doesn't`: `doesn`, `t`; `you'll`, `we've`,
    // `they're`); not `won` (`won't`, and what a party won), `shan` or `mustn`.
    "doesn", "don", "didn", "isn", "aren", "wasn", "weren", "hasn", "haven", "hadn", "wouldn",
    "shouldn", "couldn", "t", "ll", "ve", "re",
];

fn build_query_analyzer(exact: bool) -> TextAnalyzer {
    let stop = StopWordFilter::remove(QUERY_STOP_WORDS.iter().map(|w| w.to_string()));
    if exact {
        TextAnalyzer::builder(ExactTokenizer::default())
            .filter(RemoveLongFilter::limit(60))
            .filter(LowerCaser)
            .filter_dynamic(stop)
            .build()
    } else {
        TextAnalyzer::builder(WordTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter_dynamic(stop)
            .filter_dynamic(Stemmer::new(Language::English))
            .build()
    }
}

fn exact_analyzer() -> TextAnalyzer {
    static CELL: OnceLock<TextAnalyzer> = OnceLock::new();
    cached(&CELL, build_exact_analyzer)
}

fn build_exact_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(ExactTokenizer::default())
        .filter(RemoveLongFilter::limit(60))
        .filter(LowerCaser)
        .build()
}

/// The tokens of [`EXACT_PATTERN`], each match one token. tantivy's `RegexTokenizer` clones its
/// `Regex` for every text, and a cloned `Regex` starts with empty caches, so the lazy DFA of
/// this Unicode pattern was built again for every chunk: two thirds of the keyword index's
/// indexing time (`perf`, docs/benchmarks.md). This one shares one `Regex`, caches included,
/// between texts, clones and threads.
#[derive(Clone)]
struct ExactTokenizer {
    regex: std::sync::Arc<regex::Regex>,
    token: Token,
}

impl Default for ExactTokenizer {
    fn default() -> Self {
        static REGEX: OnceLock<std::sync::Arc<regex::Regex>> = OnceLock::new();
        let regex = REGEX.get_or_init(|| {
            #[allow(clippy::expect_used)]
            let regex = regex::Regex::new(EXACT_PATTERN).expect("EXACT_PATTERN is a valid regex");
            std::sync::Arc::new(regex)
        });
        ExactTokenizer {
            regex: regex.clone(),
            token: Token::default(),
        }
    }
}

/// The token stream of [`ExactTokenizer`].
struct ExactStream<'a> {
    regex: &'a regex::Regex,
    text: &'a str,
    /// Where the next search starts.
    cursor: usize,
    token: &'a mut Token,
}

impl Tokenizer for ExactTokenizer {
    type TokenStream<'a> = ExactStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ExactStream<'a> {
        self.token.reset();
        ExactStream {
            regex: &self.regex,
            text,
            cursor: 0,
            token: &mut self.token,
        }
    }
}

impl TokenStream for ExactStream<'_> {
    fn advance(&mut self) -> bool {
        // The pattern has no anchors or look-around: searching from the cursor finds what
        // searching the rest of the text would. The `s` of a possessive is no token.
        let m = loop {
            let Some(m) = self.regex.find_at(self.text, self.cursor) else {
                return false;
            };
            if m.is_empty() {
                return false;
            }
            if !possessive_s(self.text, m.start(), m.end()) {
                break m;
            }
            self.cursor = m.end();
        };
        self.cursor = m.end();
        self.token.text.clear();
        self.token.text.push_str(m.as_str());
        self.token.offset_from = m.start();
        self.token.offset_to = m.end();
        self.token.position = self.token.position.wrapping_add(1);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Tokens of `text` with their byte ranges, as `analyzer` sees them.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, Range<usize>)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.offset_from..t.offset_to));
    }
    out
}

/// A word, root or phrase a chunk holds at least so many times (`atleast3(indemnif!)`,
/// `atleast2("hold harmless")`, as Lexis writes them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AtLeast {
    /// The word, root or phrase (without its quotes).
    pub item: String,
    /// How many times at least.
    pub times: u32,
}

impl AtLeast {
    /// Whether `text` holds the item that many times ([`KeywordIndex::occurrences`]).
    pub fn held_in(&self, text: &str) -> bool {
        KeywordIndex::occurrences(text, &self.item) >= self.times as usize
    }
}

/// Two words close to each other, in either order: within some words (`breach w/5
/// warranty`), in one sentence (`breach /s warranty`) or in one paragraph (`breach /p
/// warranty`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Near {
    /// One word.
    pub a: String,
    /// The other.
    pub b: String,
    /// How close.
    pub within: Within,
}

/// How close the two words of a [`Near`] are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    /// At most this many positions apart (1: next to each other), `w/N`.
    Words(u32),
    /// In one sentence, `/s`.
    Sentence,
    /// In one paragraph, `/p`.
    Paragraph,
    /// The first word before the second, at most this many positions ahead, `pre/N`.
    Before(u32),
    /// The first word before the second in one sentence, `+s`.
    SentenceBefore,
    /// The first word before the second in one paragraph, `+p`.
    ParagraphBefore,
}

impl Within {
    /// Whether the first word must come before the second.
    pub fn ordered(self) -> bool {
        matches!(
            self,
            Within::Before(_) | Within::SentenceBefore | Within::ParagraphBefore
        )
    }
}

impl std::fmt::Display for Within {
    /// The connector as a query writes it: `w/5`, `/s`, `/p`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Within::Words(n) => write!(f, "w/{n}"),
            Within::Sentence => f.write_str("/s"),
            Within::Paragraph => f.write_str("/p"),
            Within::Before(n) => write!(f, "pre/{n}"),
            Within::SentenceBefore => f.write_str("+s"),
            Within::ParagraphBefore => f.write_str("+p"),
        }
    }
}

impl serde::Serialize for Within {
    /// A number of words, `"sentence"`, `"paragraph"`, `"pre/N"`, `"+sentence"` or
    /// `"+paragraph"`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Within::Words(n) => s.serialize_u32(*n),
            Within::Sentence => s.serialize_str("sentence"),
            Within::Paragraph => s.serialize_str("paragraph"),
            Within::Before(n) => s.serialize_str(&format!("pre/{n}")),
            Within::SentenceBefore => s.serialize_str("+sentence"),
            Within::ParagraphBefore => s.serialize_str("+paragraph"),
        }
    }
}

impl Near {
    /// Each side: one stemmed word, a root (`negligen!`, `wom*n`), a phrase (`"due
    /// process"`) or a phrase with a root in it (`"breach of contract!"`), or why a side is
    /// none of them.
    pub fn sides(&self) -> std::result::Result<(Side, Side), String> {
        let one = |side: &str| {
            if let Some(root) = Root::parse(side.trim()) {
                return Ok(Side::Root(root));
            }
            if root_phrase(side).is_some() {
                return Ok(Side::RootPhrase(side.trim().to_string()));
            }
            let words: Vec<String> = analyze(&mut stemmed_analyzer(), side)
                .into_iter()
                .map(|(t, _)| t)
                .collect();
            match words.as_slice() {
                [w] => Ok(Side::Word(w.clone())),
                [] => Err(format!("{side:?} has no word to look for")),
                _ => Ok(Side::Phrase(words)),
            }
        };
        Ok((one(&self.a)?, one(&self.b)?))
    }
}

/// Where a side of a [`Near`] is in a text: its first and last token, and their positions.
type SidePlace = (usize, usize, usize, usize);

/// How far apart two [`SidePlace`]s of a [`Near`] may be.
#[derive(Clone, Copy)]
struct Gap {
    /// The most positions between the end of one and the start of the other.
    most: usize,
    /// Whether the first side's place must come before the second's.
    ordered: bool,
}

impl Gap {
    /// Whether `a` (of the first side) and `b` (of the second) share no token (a word paired
    /// with itself, or matching both roots, needs two of it) and the gap between them is at
    /// most `most`; in order, when asked: `a` before `b`.
    fn close(self, &(i0, i1, p0, p1): &SidePlace, &(j0, j1, q0, q1): &SidePlace) -> bool {
        if i1 < j0 {
            q0 - p1 <= self.most
        } else {
            !self.ordered && j1 < i0 && p0 - q1 <= self.most
        }
    }
}

/// One side of a [`Near`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// A word, stemmed as the `body` field keeps it.
    Word(String),
    /// Any word the root stands for, as the `exact` field keeps words.
    Root(Root),
    /// Two or more words in a row, stemmed as the `body` field keeps them (`"due process"`,
    /// or `12-401`).
    Phrase(Vec<String>),
    /// A phrase with a root in it, as typed: its words as the `exact` field keeps them, each
    /// root any word it stands for ([`KeywordIndex::holds`]).
    RootPhrase(String),
}

/// The e-mail header a query's `from:`, `to:` or `folder:` item looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailField {
    /// `From` (`from:`).
    From,
    /// `To` and `Cc` (`to:`).
    To,
    /// The folder that holds the message (`folder:`, [`MailInfo::folder`]).
    Folder,
}

impl MailField {
    /// Every header, in the order queries and answers list them.
    pub const ALL: [MailField; 3] = [MailField::From, MailField::To, MailField::Folder];

    /// As a query writes it: `from:`, `to:` or `folder:`.
    pub fn prefix(self) -> &'static str {
        match self {
            MailField::From => "from:",
            MailField::To => "to:",
            MailField::Folder => "folder:",
        }
    }

    /// What it looks in of `mail`: the sender, the recipients, or the folder (empty when
    /// there is none).
    pub fn of(self, mail: &MailInfo) -> String {
        match self {
            MailField::From => mail.sender().to_string(),
            MailField::To => mail.recipients(),
            MailField::Folder => mail.folder.clone().unwrap_or_default(),
        }
    }
}

/// What every hit of a search must meet besides its rank: the query's `+`, `-`, `w/N`,
/// `sent:`, `from:`, `to:`, `folder:`, `heading:` and `define:` items
/// ([`KeywordIndex::chunks_meeting`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditions<'a> {
    /// Words or phrases every chunk holds.
    pub required: &'a [String],
    /// Pairs of words every chunk has close together.
    pub near: &'a [Near],
    /// Groups of words or phrases every chunk holds one of at least.
    pub any_required: &'a [Vec<String>],
    /// Groups of pairs every chunk has one of at least close together.
    pub any_near: &'a [Vec<Near>],
    /// Words or phrases no chunk holds.
    pub excluded: &'a [String],
    /// Pairs no chunk has close together (`NOT (late w/3 fee)`).
    pub excluded_near: &'a [Near],
    /// Pairs whose first side every chunk has somewhere the second is not that close to
    /// (`tax not w/5 income`, [`KeywordIndex::holds_apart`]).
    pub apart: &'a [Near],
    /// Words or roots every chunk holds at least so many times ([`KeywordIndex::occurrences`]).
    pub at_least: &'a [AtLeast],
    /// The days the chunk's e-mail was sent in.
    pub sent: Option<SentWindow>,
    /// Words or phrases (a name, an address, a domain) in the `From` of the chunk's e-mail.
    pub from: &'a [String],
    /// Words or phrases in its `To` or `Cc`.
    pub to: &'a [String],
    /// Words or phrases in the folder that holds it ([`MailInfo::folder`]).
    pub folder: &'a [String],
    /// Header items no chunk's e-mail meets (`-from:ann`, `-folder:"Deleted Items"`); a
    /// chunk of no e-mail meets none of them.
    pub not_mail: &'a [(MailField, String)],
    /// Days no chunk's e-mail was sent in (`-sent:2019`); a chunk of no e-mail was sent in
    /// none.
    pub not_sent: &'a [SentWindow],
    /// Words or phrases in the headings over every chunk: its document's title, the words
    /// of its file's name and the breadcrumb of headings above it, as the `context` field
    /// indexes them ([`context_of`]).
    pub heading: &'a [String],
    /// Words or phrases in the headings over no chunk.
    pub not_heading: &'a [String],
    /// Terms every chunk defines ([`crate::index::define`]).
    pub define: &'a [String],
}

impl Conditions<'_> {
    /// Whether anything must be held (not only left out).
    fn requires_any(&self) -> bool {
        !self.required.is_empty()
            || !self.near.is_empty()
            || !self.any_required.is_empty()
            || !self.any_near.is_empty()
            || !self.apart.is_empty()
            || !self.at_least.is_empty()
            || self.sent.is_some()
            || !self.from.is_empty()
            || !self.to.is_empty()
            || !self.folder.is_empty()
            || !self.heading.is_empty()
            || !self.define.is_empty()
    }

    /// Whether `chunk` meets them, its headings ([`context_of`]) included, as
    /// [`KeywordIndex::chunks_meeting`] finds it in an index.
    pub fn admit_chunk(&self, chunk: &StoredChunk) -> bool {
        let under = self.heading.is_empty() && self.not_heading.is_empty() || {
            let context = context_of(chunk);
            (self.heading.iter()).all(|h| holds_stemmed(&context, h))
                && !(self.not_heading.iter()).any(|h| holds_stemmed(&context, h))
        };
        under && self.admit(&chunk.text, chunk.mail.as_ref())
    }

    /// Whether a chunk of this `text`, of an e-mail with these headers (if any), meets them,
    /// as [`KeywordIndex::chunks_meeting`] finds it in an index, `heading` and `not_heading`
    /// aside ([`admit_chunk`](Self::admit_chunk) checks them).
    pub fn admit(&self, text: &str, mail: Option<&MailInfo>) -> bool {
        let headers = |f: MailField, items: &[String]| {
            items.is_empty()
                || mail.is_some_and(|m| {
                    let field = f.of(m);
                    items.iter().all(|a| holds_stemmed(&field, a))
                })
        };
        let unwanted = |m: &MailInfo| {
            self.not_mail
                .iter()
                .any(|(f, a)| holds_stemmed(&f.of(m), a))
        };
        self.required.iter().all(|r| KeywordIndex::holds(text, r))
            && self.near.iter().all(|n| KeywordIndex::holds_near(text, n))
            && (self.any_required.iter())
                .all(|any| any.iter().any(|r| KeywordIndex::holds(text, r)))
            && (self.any_near.iter())
                .all(|any| any.iter().any(|n| KeywordIndex::holds_near(text, n)))
            && !self.excluded.iter().any(|x| KeywordIndex::holds(text, x))
            && !(self.excluded_near.iter()).any(|n| KeywordIndex::holds_near(text, n))
            && (self.apart.iter()).all(|n| KeywordIndex::holds_apart(text, n))
            && self.at_least.iter().all(|a| a.held_in(text))
            && self.define.iter().all(|t| define::defines(text, t))
            && self.sent.is_none_or(|w| w.admits(mail.and_then(sent_day)))
            && headers(MailField::From, self.from)
            && headers(MailField::To, self.to)
            && headers(MailField::Folder, self.folder)
            && !mail.is_some_and(unwanted)
            && !self
                .not_sent
                .iter()
                .any(|w| w.admits(mail.and_then(sent_day)))
    }
}

/// A chunk as stored for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunk {
    /// The chunk.
    pub chunk_id: ChunkId,
    /// Its document.
    pub doc_id: DocId,
    /// Document path relative to the indexed folder.
    pub path: String,
    /// Document title.
    pub title: String,
    /// Heading breadcrumb, outermost first.
    pub breadcrumb: Vec<String>,
    /// The chunk's text.
    pub text: String,
    /// Byte range in the extracted text.
    pub range: Range<usize>,
    /// 1-based line of the first byte.
    pub line: u32,
    /// Where the chunk lies in a paged or paragraph-numbered document.
    pub place: Place,
    /// For a chunk of an e-mail or of an attachment of one: the message's headers.
    pub mail: Option<MailInfo>,
    /// For a chunk that runs onto later pages: the byte offsets (in the extracted text, within
    /// the chunk) where each of those pages begins, ascending ([`Place::page_breaks`]), so
    /// that a passage of the chunk can be given its own page ([`Place::page_at`]). Empty
    /// otherwise, and for chunks indexed before this was kept.
    pub page_breaks: Vec<usize>,
}

/// Page and paragraph of a chunk, for formats that have them (all 1-based).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Place {
    /// Page of the chunk's first byte (PDF).
    pub page: Option<u32>,
    /// Page of its last byte, when the chunk runs onto a later page.
    pub page_end: Option<u32>,
    /// Paragraph of its first byte (DOCX).
    pub paragraph: Option<u32>,
}

impl Place {
    /// Finds the page and paragraph of the byte range `range` given the byte ranges of pages
    /// and paragraphs (each sorted, non-overlapping).
    pub fn locate(
        range: &Range<usize>,
        pages: &[Range<usize>],
        paragraphs: &[Range<usize>],
    ) -> Self {
        let index_of = |ranges: &[Range<usize>], at: usize| -> Option<u32> {
            if ranges.is_empty() {
                return None;
            }
            let i = ranges
                .partition_point(|r| r.end <= at)
                .min(ranges.len() - 1);
            Some(i as u32 + 1)
        };
        let page = index_of(pages, range.start);
        let last = index_of(pages, range.end.saturating_sub(1).max(range.start));
        Place {
            page,
            page_end: last.filter(|&l| Some(l) != page),
            paragraph: index_of(paragraphs, range.start),
        }
    }

    /// Where, inside the byte range `range`, each page after the one of its first byte
    /// begins, by the same rule as [`locate`](Self::locate) (a byte between two pages
    /// belongs to the next one): the ends of the pages that end inside the range.
    pub fn page_breaks(range: &Range<usize>, pages: &[Range<usize>]) -> Vec<usize> {
        let Some((_, before_last)) = pages.split_last() else {
            return Vec::new();
        };
        before_last
            .iter()
            .map(|p| p.end)
            .filter(|&end| range.start < end && end < range.end)
            .collect()
    }

    /// The page of byte `at` of a chunk placed here whose pages begin at `breaks`
    /// ([`page_breaks`](Self::page_breaks)); `None` outside paged documents.
    pub fn page_at(&self, breaks: &[usize], at: usize) -> Option<u32> {
        let later = breaks.iter().filter(|&&b| b <= at).count() as u32;
        self.page
            .map(|p| (p + later).min(self.page_end.unwrap_or(p).max(p)))
    }
}

/// A keyword hit: the chunk and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeywordHit {
    /// The chunk.
    pub chunk_id: ChunkId,
    /// BM25 score (boosted sum over fields).
    pub score: f32,
}

/// The keyword fields searched, their weight in the BM25 sum, and the terms of one chunk or
/// query in each: what another BM25 engine needs to score like this index (the Milvus
/// backend indexes exactly these terms, docs/scale.md).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldTerms {
    /// The field: `body`, `context` or `exact`.
    pub field: &'static str,
    /// Its weight in the BM25 sum.
    pub boost: f32,
    /// The terms, in order (a chunk's repeat; a query's are distinct).
    pub terms: Vec<String>,
}

/// The text the `context` field indexes for `chunk`: the words of its file's name, its
/// document's title, its breadcrumb of headings ([`Conditions::heading`] looks in it).
pub fn context_of(chunk: &StoredChunk) -> String {
    let crumbs: Vec<&str> = chunk.breadcrumb.iter().map(String::as_str).collect();
    context_text(&chunk.path, &chunk.title, &crumbs)
}

/// The text the `context` field indexes for a chunk: file name words, title, breadcrumb.
fn context_text(path: &str, title: &str, crumbs: &[&str]) -> String {
    format!("{}\n{}\n{}", file_words(path), title, crumbs.join("\n"))
}

/// The tantivy index of chunks.
pub struct KeywordIndex {
    path: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The copies of texts in the version last searched (its searcher generation's id):
    /// found once per version, not per search.
    copies: Mutex<Option<(u64, Option<Arc<Copies>>)>>,
}

/// Breadcrumb entries are stored joined by this separator (never found in headings).
const CRUMB_SEP: char = '\u{1f}';

/// The most indexing threads a [`KeywordWriter`] uses (tantivy's own ceiling is 8).
pub const MAX_WRITER_THREADS: usize = 8;

impl KeywordIndex {
    fn err(path: &Path) -> impl Fn(tantivy::TantivyError) -> Error + '_ {
        move |source| Error::Keyword {
            path: path.to_path_buf(),
            source,
        }
    }

    fn register(index: &Index) {
        let [stemmed, exact, units] = EARLIER_NAMES;
        for (name, analyzer) in [
            (STEMMED, stemmed_analyzer()),
            (EXACT, exact_analyzer()),
            (UNITS, units_analyzer()),
            // An index of an earlier version is searched, and rebuilt before it is written.
            (stemmed, stemmed_analyzer()),
            (exact, exact_analyzer()),
            (units, units_analyzer()),
        ] {
            index.tokenizers().register(name, analyzer);
        }
    }

    fn with_index(path: &Path, index: Index) -> Result<Self> {
        Self::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(Self::err(path))?;
        let fields = Fields {
            mail: index.schema().get_field("mail").ok(),
            sent: index.schema().get_field("sent").ok(),
            page_breaks: index.schema().get_field("page_breaks").ok(),
            mail_from: index.schema().get_field("mail_from").ok(),
            mail_to: index.schema().get_field("mail_to").ok(),
            units: index.schema().get_field("units").ok(),
            file: index.schema().get_field("file").ok(),
            text_hash: index.schema().get_field(distinct::FIELD).ok(),
            mail_folder: index.schema().get_field("mail_folder").ok(),
            ..schema().1
        };
        Ok(KeywordIndex {
            path: path.to_path_buf(),
            index,
            reader,
            fields,
            copies: Mutex::default(),
        })
    }

    /// Creates an empty index in the (existing, empty) folder `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let index = Index::create_in_dir(path, schema().0).map_err(Self::err(path))?;
        Self::with_index(path, index)
    }

    /// The fields added since the first version, which an index of an earlier one lacks.
    #[cfg(test)]
    pub(crate) const ADDED_FIELDS: [&str; 9] = [
        "mail",
        "sent",
        "page_breaks",
        "mail_from",
        "mail_to",
        "units",
        "file",
        distinct::FIELD,
        "mail_folder",
    ];

    /// Creates an empty index in `path` as an earlier version made it: without the fields
    /// named in `missing` (for the tests of what happens to such an index).
    #[cfg(test)]
    pub(crate) fn create_without(path: &Path, missing: &[&str]) -> Result<Self> {
        let mut b = Schema::builder();
        for (_, entry) in schema().0.fields() {
            if !missing.contains(&entry.name()) {
                b.add_field(entry.clone());
            }
        }
        let index = Index::create_in_dir(path, b.build()).map_err(Self::err(path))?;
        Self::with_index(path, index)
    }

    /// Creates an empty index in `path` whose schema names the analyzers of an earlier
    /// version (for the tests of what happens to such an index).
    #[cfg(test)]
    pub(crate) fn create_analyzed_as_before(path: &Path) -> Result<Self> {
        let mut b = Schema::builder();
        for (_, entry) in schema().0.fields() {
            let renamed = match entry.field_type() {
                FieldType::Str(text) => text.get_indexing_options().and_then(|i| {
                    let now = [STEMMED, EXACT, UNITS]
                        .iter()
                        .position(|n| *n == i.tokenizer())?;
                    let indexing = i.clone().set_tokenizer(EARLIER_NAMES[now]);
                    Some(text.clone().set_indexing_options(indexing))
                }),
                _ => None,
            };
            match renamed {
                Some(text) => b.add_text_field(entry.name(), text),
                None => b.add_field(entry.clone()),
            };
        }
        let index = Index::create_in_dir(path, b.build()).map_err(Self::err(path))?;
        Self::with_index(path, index)
    }

    /// Opens the index in `path` for searching.
    pub fn open(path: &Path) -> Result<Self> {
        let index = Index::open_in_dir(path).map_err(Self::err(path))?;
        Self::with_index(path, index)
    }

    /// A writer for adding chunks on `threads` indexing threads (1 to
    /// [`MAX_WRITER_THREADS`]): one while the encoder runs on the CPU, whose cores it needs;
    /// more where nothing else needs them (a rebuild from the catalog) or the encoder runs on
    /// a GPU, since one thread indexes about 10,000 chunks/s (docs/benchmarks.md).
    pub fn writer(&self, threads: usize) -> Result<KeywordWriter> {
        let threads = threads.clamp(1, MAX_WRITER_THREADS);
        let memory = (48 * 1024 * 1024 * threads).max(64 * 1024 * 1024);
        let writer = self
            .index
            .writer_with_num_threads(threads, memory)
            .map_err(Self::err(&self.path))?;
        Ok(KeywordWriter {
            path: self.path.clone(),
            writer,
            fields: self.fields,
        })
    }

    /// The chunks of `searcher`'s version that hold a text an earlier one holds, if any.
    fn copies(&self, searcher: &tantivy::Searcher) -> Result<Option<Arc<Copies>>> {
        let version = searcher.generation().generation_id();
        let mut known = self.copies.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((v, copies)) = &*known
            && *v == version
        {
            return Ok(copies.clone());
        }
        let copies = Copies::find(searcher)
            .map_err(Self::err(&self.path))?
            .map(Arc::new);
        *known = Some((version, copies.clone()));
        Ok(copies)
    }

    /// Every live chunk holding `text` word for word, when more than one does (the one
    /// asked about among them; empty when it is the only one), from the text keys the index
    /// keeps, whatever their scores; `None` for an index made before it kept them.
    pub fn chunks_holding(&self, text: &str) -> Result<Option<Vec<ChunkId>>> {
        if self.fields.text_hash.is_none() {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let Some(copies) = self.copies(&searcher)? else {
            return Ok(Some(Vec::new()));
        };
        let key = distinct::text_key(text);
        Ok(Some(
            copies.holding(key).iter().map(|&id| ChunkId(id)).collect(),
        ))
    }

    /// Whether the index keeps the key of each chunk's text
    /// ([`chunks_holding`](Self::chunks_holding) can answer).
    pub fn keeps_text_keys(&self) -> bool {
        self.fields.text_hash.is_some()
    }

    /// Picks up the last commit.
    pub fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(Self::err(&self.path))
    }

    /// Number of chunks indexed.
    pub fn num_chunks(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The number of chunks, and how many of them hold each of the stemmed `terms` in their
    /// text: how rare a query's words are in this index (pinpoints weigh them by it).
    pub fn doc_freqs(&self, terms: &[String]) -> Result<(u64, Vec<u64>)> {
        let searcher = self.reader.searcher();
        let copies = self.copies(&searcher)?;
        let stats = DistinctTexts::of(&searcher, copies.as_deref());
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            let term = Term::from_field_text(self.fields.body, t);
            out.push(stats.doc_freq(&term).map_err(Self::err(&self.path))?);
        }
        Ok((stats.live_texts(), out))
    }

    /// Every chunk id in the index (for verification).
    pub fn chunk_ids(&self) -> Result<std::collections::BTreeSet<ChunkId>> {
        let searcher = self.reader.searcher();
        let mut out = std::collections::BTreeSet::new();
        for segment in searcher.segment_readers() {
            let col = segment
                .fast_fields()
                .u64("chunk_id")
                .map_err(Self::err(&self.path))?;
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_none_or(|a| a.is_alive(doc))
                    && let Some(id) = col.first(doc)
                {
                    out.insert(ChunkId(id));
                }
            }
        }
        Ok(out)
    }

    /// The query's terms for each field: stemmed (body, context) and exact, without stop
    /// words unless the query has nothing else ("to be or not to be").
    pub fn query_terms(&self, query: &str) -> (Vec<String>, Vec<String>) {
        Self::terms_of(query)
    }

    /// [`query_terms`](Self::query_terms), without an index (the analyzers are the same for
    /// every index).
    pub fn terms_of(query: &str) -> (Vec<String>, Vec<String>) {
        let terms = |mut filtered: TextAnalyzer, mut all: TextAnalyzer| -> Vec<String> {
            let kept: Vec<String> = analyze(&mut filtered, query)
                .into_iter()
                .map(|(t, _)| t)
                .collect();
            if kept.is_empty() {
                analyze(&mut all, query)
                    .into_iter()
                    .map(|(t, _)| t)
                    .collect()
            } else {
                kept
            }
        };
        (
            terms(query_analyzer(false), stemmed_analyzer()),
            terms(query_analyzer(true), exact_analyzer()),
        )
    }

    /// The terms this index holds for `chunk` in each searched field (body, context, exact).
    pub fn chunk_terms(chunk: &StoredChunk) -> [FieldTerms; 3] {
        let context = context_of(chunk);
        let all = |mut analyzer: TextAnalyzer, text: &str| -> Vec<String> {
            analyze(&mut analyzer, text)
                .into_iter()
                .map(|(t, _)| t)
                .collect()
        };
        [
            FieldTerms {
                field: "body",
                boost: BODY_BOOST,
                terms: all(stemmed_analyzer(), &chunk.text),
            },
            FieldTerms {
                field: "context",
                boost: CONTEXT_BOOST,
                terms: all(stemmed_analyzer(), &context),
            },
            FieldTerms {
                field: "exact",
                boost: EXACT_BOOST,
                terms: all(exact_analyzer(), &chunk.text),
            },
        ]
    }

    /// The distinct terms a search for `query` looks up in each field, in the order of
    /// [`chunk_terms`](Self::chunk_terms) (quoted phrases are not included).
    pub fn query_field_terms(query: &str) -> [FieldTerms; 3] {
        let (stemmed, exact) = Self::terms_of(query);
        let distinct = |terms: Vec<String>| -> Vec<String> {
            let mut seen = std::collections::HashSet::new();
            terms
                .into_iter()
                .filter(|t| seen.insert(t.clone()))
                .collect()
        };
        let stemmed = distinct(stemmed);
        [
            FieldTerms {
                field: "body",
                boost: BODY_BOOST,
                terms: stemmed.clone(),
            },
            FieldTerms {
                field: "context",
                boost: CONTEXT_BOOST,
                terms: stemmed,
            },
            FieldTerms {
                field: "exact",
                boost: EXACT_BOOST,
                terms: distinct(exact),
            },
        ]
    }

    fn build_query(&self, query: &str) -> Option<Box<dyn Query>> {
        let f = self.fields;
        let (stemmed, exact) = self.query_terms(query);
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let term_q = |field: Field, t: &str, boost: f32| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            );
            (Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost)))
        };
        let mut seen = std::collections::HashSet::new();
        for t in &stemmed {
            if seen.insert(t.clone()) {
                should.push(term_q(f.body, t, BODY_BOOST));
                should.push(term_q(f.context, t, CONTEXT_BOOST));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for t in &exact {
            if seen.insert(t.clone()) {
                should.push(term_q(f.exact, t, EXACT_BOOST));
            }
        }
        if should.is_empty() {
            return None;
        }
        // "Quoted phrases" of two or more words add a boost where they occur as phrases.
        for phrase in query.split('"').skip(1).step_by(2) {
            // With a root in it (`"breach of contract!"`): the phrase of any words it stands
            // for, read as the `exact` field keeps words.
            if let Some(places) = root_phrase(phrase) {
                let q = self.root_phrase_query(&places);
                should.push((Occur::Should, Box::new(BoostQuery::new(q, PHRASE_BOOST))));
                continue;
            }
            let terms: Vec<Term> = analyze(&mut stemmed_analyzer(), phrase)
                .into_iter()
                .map(|(t, _)| Term::from_field_text(f.body, &t))
                .collect();
            if terms.len() > 1 {
                let q = Box::new(PhraseQuery::new(terms));
                should.push((Occur::Should, Box::new(BoostQuery::new(q, PHRASE_BOOST))));
            }
        }
        Some(Box::new(BooleanQuery::new(should)))
    }

    /// The best `limit` chunks for `query` by BM25, best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<KeywordHit>> {
        self.search_within(query, limit, &ChunkFilter::default())
    }

    /// [`search`](Self::search) among the chunks `within` keeps: each scored exactly as an
    /// unrestricted search scores it.
    pub fn search_within(
        &self,
        query: &str,
        limit: usize,
        within: &ChunkFilter,
    ) -> Result<Vec<KeywordHit>> {
        let Some(q) = self.build_query(query) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let copies = self.copies(&searcher)?;
        let stats = DistinctTexts::of(&searcher, copies.as_deref());
        let best = TopDocs::with_limit(limit.max(1)).order_by_score();
        let top = if within.keeps_all() {
            searcher.search_with_statistics_provider(&q, &best, &stats)
        } else {
            let within = within.clone();
            let keep = move |id: u64| within.keeps(id);
            let collector = FilterCollector::new("chunk_id".into(), keep, best);
            searcher.search_with_statistics_provider(&q, &collector, &stats)
        }
        .map_err(Self::err(&self.path))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let col = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("chunk_id")
                .map_err(Self::err(&self.path))?;
            if let Some(id) = col.first(addr.doc_id) {
                hits.push(KeywordHit {
                    chunk_id: ChunkId(id),
                    score,
                });
            }
        }
        Ok(hits)
    }

    /// The distinct words of a document's name (its file name or its title), analysed like
    /// query terms: stemmed, stop words dropped.
    pub fn name_terms(name: &str) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        analyze(&mut query_analyzer(false), name)
            .into_iter()
            .map(|(t, _)| t)
            .filter(|t| seen.insert(t.clone()))
            .collect()
    }

    /// The stored fields of a chunk, or `None` if the index has no such chunk.
    pub fn fetch(&self, id: ChunkId) -> Result<Option<StoredChunk>> {
        Ok(self
            .stored_where(self.fields.chunk_id, id.0, 1)?
            .into_iter()
            .next())
    }

    /// Every chunk of the document `doc`, in text order (empty if it has none).
    pub fn chunks_of(&self, doc: DocId) -> Result<Vec<StoredChunk>> {
        let limit = usize::try_from(self.num_chunks()).unwrap_or(usize::MAX);
        let mut chunks = self.stored_where(self.fields.doc_id, doc.0, limit)?;
        chunks.sort_by_key(|c| (c.range.start, c.range.end));
        Ok(chunks)
    }

    /// One chunk of every document in the index, by document id: what is indexed, read
    /// straight from the postings of the `doc_id` terms (no query per document, and no
    /// visit to the other chunks).
    pub fn documents(&self) -> Result<Vec<StoredChunk>> {
        let err = Self::err(&self.path);
        let io = |e: std::io::Error| Self::err(&self.path)(e.into());
        let searcher = self.reader.searcher();
        let mut docs = std::collections::BTreeMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.fields.doc_id).map_err(&err)?;
            let store = segment.get_store_reader(64).map_err(io)?;
            let mut terms = inverted.terms().stream().map_err(io)?;
            while terms.advance() {
                let Ok(bytes) = <[u8; 8]>::try_from(terms.key()) else {
                    continue;
                };
                let id = u64::from_be_bytes(bytes);
                if docs.contains_key(&id) {
                    continue; // its chunks span segments: one is enough
                }
                if let Some(at) = first_live(segment, &inverted, terms.value()).map_err(io)? {
                    let doc: TantivyDocument = store.get(at).map_err(&err)?;
                    docs.insert(id, self.stored(&doc));
                }
            }
        }
        Ok(docs.into_values().collect())
    }

    /// The files whose path (relative to the indexed folder) `keep` accepts, read from the
    /// `file` field's terms (no stored chunk is read): their live chunks (`None` when they
    /// are every file of the index) and how many files they are. `None` for an index made
    /// before that field, whose files [`documents`](Self::documents) lists instead.
    pub fn files_kept(
        &self,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Option<(Option<ChunkSet>, usize)>> {
        let Some(field) = self.fields.file else {
            return Ok(None);
        };
        let err = Self::err(&self.path);
        let io = |e: std::io::Error| Self::err(&self.path)(e.into());
        let searcher = self.reader.searcher();
        // Every file with a live chunk (a removed chunk's term stays until its segment is
        // merged), each segment's in order; a file changed since its segment was written
        // may be in two.
        let mut files: Vec<String> = Vec::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field).map_err(&err)?;
            let mut terms = inverted.terms().stream().map_err(io)?;
            while terms.advance() {
                let Ok(path) = std::str::from_utf8(terms.key()) else {
                    continue;
                };
                if segment.has_deletes()
                    && first_live(segment, &inverted, terms.value())
                        .map_err(io)?
                        .is_none()
                {
                    continue;
                }
                files.push(path.to_string());
            }
        }
        files.sort_unstable();
        files.dedup();
        let kept: Vec<&String> = files.iter().filter(|p| keep(p)).collect();
        // A filter that keeps every file narrows nothing.
        let chunks = if kept.len() == files.len() {
            None
        } else {
            let terms = kept.iter().map(|p| Term::from_field_text(field, p));
            Some(self.chunks_matching(&TermSetQuery::new(terms))?)
        };
        Ok(Some((chunks, kept.len())))
    }

    /// The live chunks of the file at `path` (relative to the indexed folder), in text
    /// order; none when the index has no such file.
    pub fn chunks_of_file(&self, path: &str) -> Result<Vec<StoredChunk>> {
        let doc = match self.fields.file {
            Some(field) => {
                let found = self.chunks_matching(&TermQuery::new(
                    Term::from_field_text(field, path),
                    IndexRecordOption::Basic,
                ))?;
                match found.ids().first() {
                    Some(&id) => self.fetch(ChunkId(id))?.map(|c| c.doc_id),
                    None => None,
                }
            }
            // An index made before the `file` field: its files from the stored chunks.
            None => self
                .documents()?
                .into_iter()
                .find(|c| c.path == path)
                .map(|c| c.doc_id),
        };
        match doc {
            Some(doc) => self.chunks_of(doc),
            None => Ok(Vec::new()),
        }
    }

    /// The live chunks of the documents `docs`, read from the `doc_id` terms and the
    /// `chunk_id` fast field (no stored text is read).
    pub fn chunks_of_documents(&self, docs: &[DocId]) -> Result<ChunkSet> {
        if docs.is_empty() {
            return Ok(ChunkSet::default());
        }
        let terms = docs
            .iter()
            .map(|d| Term::from_field_u64(self.fields.doc_id, d.0));
        self.chunks_matching(&TermSetQuery::new(terms))
    }

    /// The query for chunks whose text holds `item` (a word or a phrase) as the keyword
    /// search reads text: its stemmed words in a row in `body`, or its exact tokens in a row
    /// in `exact`; for a root (`negligen!`), any `exact` word it stands for. `None` when
    /// `item` has no word either analyzer keeps, or a root no word of the index matches.
    fn holding(&self, item: &str) -> Result<Option<Box<dyn Query>>> {
        if let Some(root) = Root::parse(item.trim()) {
            return self.holding_root(&root);
        }
        if let Some(places) = root_phrase(item) {
            // tantivy 0.27's phrase scorer over a root's words breaks the contract of
            // `seek_danger` when an exclusion seeks it backwards (a debug assertion says so):
            // the chunks that hold the phrase are found first and the filter names them.
            let holding = self.chunks_matching(&*self.root_phrase_query(&places))?;
            let ids = holding
                .ids()
                .iter()
                .map(|&id| Term::from_field_u64(self.fields.chunk_id, id));
            return Ok(Some(Box::new(TermSetQuery::new(ids))));
        }
        let either: Vec<(Occur, Box<dyn Query>)> = [
            in_a_row(self.fields.body, stemmed_analyzer(), item),
            in_a_row(self.fields.exact, exact_analyzer(), item),
        ]
        .into_iter()
        .flatten()
        .map(|q| (Occur::Should, q))
        .collect();
        Ok((!either.is_empty()).then(|| Box::new(BooleanQuery::new(either)) as _))
    }

    /// The query for chunks whose `exact` field holds `places` in a row: each word as it is,
    /// each root as any word it stands for.
    fn root_phrase_query(&self, places: &[PhrasePlace]) -> Box<dyn Query> {
        let terms = places.iter().map(PhrasePlace::regex).enumerate().collect();
        let mut q = RegexPhraseQuery::new_with_offset(self.fields.exact, terms);
        // A short root in a large index stands for many words: all of them count, as in
        // `expand` (tantivy's default refuses more than 16,384 per segment).
        q.set_max_expansions(u32::MAX);
        Box::new(q)
    }

    /// The query for chunks that hold any word `root` stands for; `None` when no word does.
    fn holding_root(&self, root: &Root) -> Result<Option<Box<dyn Query>>> {
        Ok(self.holding_any(&self.expand(root)?))
    }

    /// The query for chunks that hold any of `words` (a root's, from [`expand`](Self::expand))
    /// in the `exact` field; `None` when there are none.
    fn holding_any(&self, words: &[(String, u64)]) -> Option<Box<dyn Query>> {
        (!words.is_empty()).then(|| {
            let terms = words
                .iter()
                .map(|(w, _)| Term::from_field_text(self.fields.exact, w));
            Box::new(TermSetQuery::new(terms)) as _
        })
    }

    /// The words of the index (as the `exact` field keeps them) that `root` stands for, each
    /// with the number of chunks that hold it (removed chunks not yet merged away count), most
    /// frequent first.
    pub fn expand(&self, root: &Root) -> Result<Vec<(String, u64)>> {
        let searcher = self.reader.searcher();
        let prefix = root.prefix();
        let mut found: std::collections::HashMap<String, u64> = Default::default();
        for segment in searcher.segment_readers() {
            let inverted = segment
                .inverted_index(self.fields.exact)
                .map_err(Self::err(&self.path))?;
            let mut terms = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .into_stream()
                .map_err(|e| Self::err(&self.path)(e.into()))?;
            // Terms are sorted: those with the prefix come first and together.
            while terms.advance() {
                let Ok(word) = std::str::from_utf8(terms.key()) else {
                    continue;
                };
                if !word.starts_with(&prefix) {
                    break;
                }
                if root.matches(word) {
                    *found.entry(word.to_string()).or_default() +=
                        u64::from(terms.value().doc_freq);
                }
            }
        }
        let mut words: Vec<(String, u64)> = found.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(words)
    }

    /// The query for chunks whose text has the words of `near` close together, in either
    /// order; `None` when a side is not one word. `w/N`: a phrase of the two words with slop
    /// `N - 1` each way (tantivy's slop lets the second word fall that many positions before
    /// or after its place, so the two orders together are exactly "at most `N` apart"). `/s`
    /// and `/p`: the two words at the same position of the `units` field, or less than
    /// [`PARAGRAPH_SPAN`] positions apart ([`units_analyzer`]); an index made before that
    /// field existed says how to add it.
    ///
    /// A side that is a root or a phrase cannot be a term of a phrase: the query is then for
    /// chunks that hold both sides anywhere, and the second value is true, asking the caller
    /// to check each of them with [`holds_near`](Self::holds_near).
    fn holding_near(&self, near: &Near) -> Result<Option<(Box<dyn Query>, bool)>> {
        let (a, b) = match near.sides() {
            Ok((Side::Word(a), Side::Word(b))) => (a, b),
            Ok((a, b)) => {
                let mut both: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                let mut stems: Vec<Vec<String>> = Vec::new();
                for side in [a, b] {
                    let q = match side {
                        Side::Word(w) => {
                            let q = TermQuery::new(
                                Term::from_field_text(self.fields.body, &w),
                                IndexRecordOption::Basic,
                            );
                            stems.push(vec![w]);
                            Some(Box::new(q) as Box<dyn Query>)
                        }
                        Side::Root(root) => {
                            // Every word of a root's words, stemmed: the body terms its
                            // matches can have.
                            let words = self.expand(&root)?;
                            let mut s: Vec<String> = words
                                .iter()
                                .flat_map(|(w, _)| analyze(&mut stemmed_analyzer(), w))
                                .map(|(t, _)| t)
                                .collect();
                            s.sort();
                            s.dedup();
                            stems.push(s);
                            self.holding_any(&words)
                        }
                        Side::Phrase(words) => {
                            let terms = words
                                .iter()
                                .map(|w| Term::from_field_text(self.fields.body, w))
                                .collect();
                            Some(Box::new(PhraseQuery::new(terms)) as Box<dyn Query>)
                        }
                        Side::RootPhrase(item) => self.holding(&item)?,
                    };
                    match q {
                        Some(q) => both.push((Occur::Must, q)),
                        None => return Ok(None),
                    }
                }
                // Fewer chunks to check: those with some pair of those stems as close (when
                // neither side is a phrase).
                if let [sa, sb] = stems.as_slice()
                    && sa.len() * sb.len() <= MAX_STEM_PAIRS
                {
                    let mut pairs: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                    for x in sa {
                        for y in sb {
                            pairs.push((Occur::Should, self.phrase_near(near.within, x, y)?));
                        }
                    }
                    both.push((Occur::Must, Box::new(BooleanQuery::new(pairs))));
                }
                return Ok(Some((Box::new(BooleanQuery::new(both)), true)));
            }
            Err(_) => return Ok(None),
        };
        let phrase = self.phrase_near(near.within, &a, &b)?;
        // The phrases find the two words in either order, `pre/N` keeps one; and a word
        // paired with itself matches a phrase once, where two of it are asked for.
        let check = near.within.ordered() || a == b;
        Ok(Some((phrase, check)))
    }

    /// The phrase query for the stemmed words `a` and `b` as close as `within`.
    fn phrase_near(&self, within: Within, a: &str, b: &str) -> Result<Box<dyn Query>> {
        let units = |slop: u32| -> Result<Box<dyn Query>> {
            let field = self
                .fields
                .units
                .ok_or_else(|| self.outdated("the sentences and paragraphs of chunks"))?;
            let term = |w: &str| (0, Term::from_field_text(field, w));
            Ok(Box::new(PhraseQuery::new_with_offset_and_slop(
                vec![term(a), term(b)],
                slop,
            )))
        };
        let n = match within {
            Within::Sentence | Within::SentenceBefore => return units(0),
            Within::Paragraph | Within::ParagraphBefore => return units(PARAGRAPH_SPAN - 1),
            Within::Words(n) | Within::Before(n) => n,
        };
        let slop = n.max(1) - 1;
        let phrase = |x: &str, y: &str| -> (Occur, Box<dyn Query>) {
            let mut q = PhraseQuery::new(vec![
                Term::from_field_text(self.fields.body, x),
                Term::from_field_text(self.fields.body, y),
            ]);
            q.set_slop(slop);
            (Occur::Should, Box::new(q))
        };
        Ok(Box::new(BooleanQuery::new(vec![
            phrase(a, b),
            phrase(b, a),
        ])))
    }

    /// Whether `text` has the words of `near` close together, as
    /// [`chunks_meeting`](Self::chunks_meeting) finds them in an index.
    pub fn holds_near(text: &str, near: &Near) -> bool {
        Self::near_places(text, near).is_some_and(|(at_a, at_b, gap)| {
            at_a.iter().any(|x| at_b.iter().any(|y| gap.close(x, y)))
        })
    }

    /// Whether `text` has the first side of `near` somewhere the second is not that close to
    /// (Lexis's `tax not w/5 income`: "tax" at least once without "income" within five
    /// words), as [`chunks_meeting`](Self::chunks_meeting) finds them in an index.
    pub fn holds_apart(text: &str, near: &Near) -> bool {
        Self::near_places(text, near).is_some_and(|(at_a, at_b, gap)| {
            at_a.iter().any(|x| !at_b.iter().any(|y| gap.close(x, y)))
        })
    }

    /// Where in `text` the two sides of `near` are (each place its first and last token and
    /// their positions), and whether a place of the first is as close to one of the second
    /// as `near` asks; `None` when a side has no word to look for.
    fn near_places(text: &str, near: &Near) -> Option<(Vec<SidePlace>, Vec<SidePlace>, Gap)> {
        let (a, b) = near.sides().ok()?;
        let (mut analyzer, most) = match near.within {
            Within::Words(n) | Within::Before(n) => (stemmed_analyzer(), n.max(1) as usize),
            Within::Sentence | Within::SentenceBefore => (units_analyzer(), 0),
            Within::Paragraph | Within::ParagraphBefore => {
                (units_analyzer(), PARAGRAPH_SPAN as usize - 1)
            }
        };
        // A root stands for words as the `exact` field keeps them: a word is the root's when
        // the exact token around it is ("non-negligent" is not `negligen!`).
        let exact_side = |s: &Side| matches!(s, Side::Root(_) | Side::RootPhrase(_));
        let exact: Vec<(String, Range<usize>)> = if exact_side(&a) || exact_side(&b) {
            analyze(&mut exact_analyzer(), text)
        } else {
            Vec::new()
        };
        let is = |side: &Side, stem: &str, at: usize| match side {
            Side::Word(w) => w == stem,
            Side::Root(root) => {
                let i = exact.partition_point(|(_, r)| r.start <= at);
                i > 0 && exact[i - 1].1.contains(&at) && root.matches(&exact[i - 1].0)
            }
            Side::Phrase(_) | Side::RootPhrase(_) => false,
        };
        // (stem, byte offset, position) of every token.
        let mut tokens: Vec<(String, usize, usize)> = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            tokens.push((t.text.clone(), t.offset_from, t.position));
        }
        let units = !matches!(near.within, Within::Words(_) | Within::Before(_));
        // Where a side is: its first and last token, and their positions. A phrase is its
        // words in a row; with /s or /p, within one sentence or paragraph.
        let places = |side: &Side| -> Vec<SidePlace> {
            match side {
                Side::Phrase(words) => tokens
                    .windows(words.len())
                    .enumerate()
                    .filter(|(_, run)| run.iter().zip(words).all(|(t, w)| t.0 == *w))
                    .map(|(i, run)| (i, i + run.len() - 1, run[0].2, run[run.len() - 1].2))
                    .filter(|&(_, _, p, q)| !units || q - p <= most)
                    .collect(),
                // Found among the exact tokens, then placed by the tokens inside its bytes.
                Side::RootPhrase(item) => {
                    let Some(places) = root_phrase(item) else {
                        return Vec::new();
                    };
                    phrase_runs(&exact, &places)
                        .filter_map(|run| {
                            let (from, to) = (run[0].1.start, run[run.len() - 1].1.end);
                            let i0 = tokens.partition_point(|t| t.1 < from);
                            let i1 = tokens.partition_point(|t| t.1 < to);
                            (i1 > i0).then(|| (i0, i1 - 1, tokens[i0].2, tokens[i1 - 1].2))
                        })
                        .filter(|&(_, _, p, q)| !units || q - p <= most)
                        .collect()
                }
                _ => tokens
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| is(side, &t.0, t.1))
                    .map(|(i, t)| (i, i, t.2, t.2))
                    .collect(),
            }
        };
        let (at_a, at_b) = (places(&a), places(&b));
        let gap = Gap {
            most,
            ordered: near.within.ordered(),
        };
        Some((at_a, at_b, gap))
    }

    /// At most how many chunks hold `item` (from the number of chunks that hold its rarest
    /// word, in either field it is looked up in; removed chunks not yet merged away count).
    fn holders_at_most(&self, item: &str) -> Result<u64> {
        if let Some(root) = Root::parse(item.trim()) {
            return Ok(self.expand(&root)?.iter().map(|(_, n)| n).sum());
        }
        let searcher = self.reader.searcher();
        if let Some(places) = root_phrase(item) {
            let mut rarest = u64::MAX;
            for place in &places {
                let n = match place {
                    PhrasePlace::Word(w) => searcher
                        .doc_freq(&Term::from_field_text(self.fields.exact, w))
                        .map_err(Self::err(&self.path))?,
                    PhrasePlace::Root(r) => self.expand(r)?.iter().map(|(_, n)| n).sum(),
                };
                rarest = rarest.min(n);
            }
            return Ok(rarest);
        }
        let mut most = 0;
        for (field, mut analyzer) in [
            (self.fields.body, stemmed_analyzer()),
            (self.fields.exact, exact_analyzer()),
        ] {
            let mut rarest: Option<u64> = None;
            for (t, _) in analyze(&mut analyzer, item) {
                let n = searcher
                    .doc_freq(&Term::from_field_text(field, &t))
                    .map_err(Self::err(&self.path))?;
                rarest = Some(rarest.map_or(n, |r| r.min(n)));
            }
            most = most.max(rarest.unwrap_or(0));
        }
        Ok(most)
    }

    /// The chunks that meet `c` (words and phrases matched as [`holds`](Self::holds) and
    /// [`holds_near`](Self::holds_near) match them; e-mail conditions on the headers of the
    /// chunk's e-mail): the list of those chunks when something is required, else the list
    /// of the chunks that hold an excluded item (or, when those are most of the index, the
    /// list of the others).
    pub fn chunks_meeting(&self, c: &Conditions<'_>) -> Result<ChunkFilter> {
        let mut filter = self.chunks_meeting_in_text(c)?;
        // The pairs left out (`NOT (late w/3 fee)`): the chunks that have one, checked on
        // their text as a required pair is.
        if !c.excluded_near.is_empty() {
            let mut holding = ChunkSet::default();
            for n in c.excluded_near {
                if let Some((q, check)) = self.holding_near(n)? {
                    let found = if check {
                        self.chunks_matching_where(&*q, |text| Self::holds_near(text, n))?
                    } else {
                        self.chunks_matching(&*q)?
                    };
                    holding = holding.union(&found);
                }
            }
            filter = filter.and(ChunkFilter::except(holding));
        }
        // The e-mails and headings left out (`-from:`, `-sent:`, `-heading:`): their list,
        // taken apart (tantivy 0.27's phrase scorer, excluding a folder's words from another
        // query, tripped its debug assertion `target should be greater than or equal to doc`).
        let mut unwanted: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (f, item) in c.not_mail {
            let field = self.mail_field(*f)?;
            unwanted.extend(in_a_row(field, stemmed_analyzer(), item).map(|q| (Occur::Should, q)));
        }
        for window in c.not_sent {
            unwanted.push((Occur::Should, self.sent_in(*window)?));
        }
        for item in c.not_heading {
            let field = self.fields.context;
            unwanted.extend(in_a_row(field, stemmed_analyzer(), item).map(|q| (Occur::Should, q)));
        }
        if unwanted.is_empty() {
            return Ok(filter);
        }
        let unwanted = self.chunks_matching(&BooleanQuery::new(unwanted))?;
        Ok(filter.and(ChunkFilter::except(unwanted)))
    }

    /// [`chunks_meeting`](Self::chunks_meeting) but for the e-mails `c.not_mail` and
    /// `c.not_sent` leave out.
    fn chunks_meeting_in_text(&self, c: &Conditions<'_>) -> Result<ChunkFilter> {
        let mut excluding: Vec<Box<dyn Query>> = Vec::new();
        for x in c.excluded {
            excluding.extend(self.holding(x)?);
        }
        if !c.requires_any() {
            if excluding.is_empty() {
                return Ok(ChunkFilter::default());
            }
            // Leaving out most of the index (a common word): the list of the rest is shorter.
            let mut left_out = 0u64;
            for item in c.excluded {
                left_out = left_out.saturating_add(self.holders_at_most(item)?);
            }
            if left_out.saturating_mul(2) <= self.num_chunks() {
                let any = excluding.into_iter().map(|q| (Occur::Should, q)).collect();
                return Ok(ChunkFilter::except(
                    self.chunks_matching(&BooleanQuery::new(any))?,
                ));
            }
            let mut rest: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(AllQuery))];
            rest.extend(excluding.into_iter().map(|q| (Occur::MustNot, q)));
            return Ok(ChunkFilter::only(
                self.chunks_matching(&BooleanQuery::new(rest))?,
            ));
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(window) = c.sent {
            clauses.push((Occur::Must, self.sent_in(window)?));
        }
        let mut musts: Vec<Option<Box<dyn Query>>> = Vec::new();
        for (f, items) in [
            (MailField::From, c.from),
            (MailField::To, c.to),
            (MailField::Folder, c.folder),
        ] {
            if !items.is_empty() {
                let field = self.mail_field(f)?;
                musts.extend(items.iter().map(|a| in_a_row(field, stemmed_analyzer(), a)));
            }
        }
        for item in c.heading {
            musts.push(in_a_row(self.fields.context, stemmed_analyzer(), item));
        }
        for item in c.required {
            musts.push(self.holding(item)?);
        }
        // Any of a group: the chunks holding one of them (none when none can be held).
        let any = |queries: Vec<Box<dyn Query>>| -> Option<Box<dyn Query>> {
            (!queries.is_empty()).then(|| {
                Box::new(BooleanQuery::new(
                    queries.into_iter().map(|q| (Occur::Should, q)).collect(),
                )) as Box<dyn Query>
            })
        };
        for group in c.any_required {
            let mut queries = Vec::new();
            for item in group {
                queries.extend(self.holding(item)?);
            }
            musts.push(any(queries));
        }
        // Pairs with a root side are checked on each chunk's text (a group's as a whole).
        let mut checked: Vec<&[Near]> = Vec::new();
        for n in c.near {
            musts.push(self.holding_near(n)?.map(|(q, check)| {
                if check {
                    checked.push(std::slice::from_ref(n));
                }
                q
            }));
        }
        for group in c.any_near {
            let mut queries = Vec::new();
            let mut check = false;
            for n in group {
                if let Some((q, c)) = self.holding_near(n)? {
                    queries.push(q);
                    check |= c;
                }
            }
            if check {
                checked.push(group);
            }
            musts.push(any(queries));
        }
        // `tax not w/5 income`: the chunks holding "tax", checked on their text.
        for n in c.apart {
            musts.push(self.holding(&n.a)?);
        }
        // `atleast3(indemnif!)`: the chunks holding it, counted on their text.
        for a in c.at_least {
            musts.push(self.holding(&a.item)?);
        }
        // `define:"Event of Default"`: the chunks holding the term, checked on their text.
        let definitions: Vec<Definition> =
            c.define.iter().filter_map(|t| Definition::new(t)).collect();
        for term in c.define {
            musts.push(self.holding(term)?);
        }
        if definitions.len() < c.define.len() {
            // A term with no word defines nothing.
            return Ok(ChunkFilter::only(ChunkSet::default()));
        }
        for q in musts {
            match q {
                Some(q) => clauses.push((Occur::Must, q)),
                // No word to look for: no chunk can hold it.
                None => return Ok(ChunkFilter::only(ChunkSet::default())),
            }
        }
        clauses.extend(excluding.into_iter().map(|q| (Occur::MustNot, q)));
        let query = BooleanQuery::new(clauses);
        Ok(ChunkFilter::only(
            if checked.is_empty()
                && c.apart.is_empty()
                && c.at_least.is_empty()
                && definitions.is_empty()
            {
                self.chunks_matching(&query)?
            } else {
                self.chunks_matching_where(&query, |text| {
                    (checked.iter()).all(|any| any.iter().any(|n| Self::holds_near(text, n)))
                        && c.apart.iter().all(|n| Self::holds_apart(text, n))
                        && c.at_least.iter().all(|a| a.held_in(text))
                        && definitions.iter().all(|d| d.in_text(text))
                })?
            },
        ))
    }

    /// The keyword field of an e-mail header; an index made before the field existed cannot
    /// answer a query on it and says how to add it.
    fn mail_field(&self, f: MailField) -> Result<Field> {
        let what = match f {
            MailField::From => "the senders of e-mails",
            MailField::To => "the recipients of e-mails",
            MailField::Folder => "the folders of e-mails",
        };
        self.fields.mail(f).ok_or_else(|| self.outdated(what))
    }

    /// The query for chunks of e-mails (and their attachments) sent in `window`; an index
    /// made before e-mail days were indexed cannot answer it and says how to add them.
    fn sent_in(&self, window: SentWindow) -> Result<Box<dyn Query>> {
        let field = self
            .fields
            .sent
            .ok_or_else(|| self.outdated("the days e-mails were sent"))?;
        let bound = |day: u32| Term::from_field_u64(field, u64::from(day));
        Ok(Box::new(RangeQuery::new(
            Bound::Included(bound(window.from)),
            Bound::Excluded(bound(window.until)),
        )))
    }

    /// Whether the index was made by an earlier version of lexsearch and lacks fields this
    /// version writes (e-mail headers, days, senders, recipients and folders; page breaks;
    /// sentences and paragraphs), or analysed its words otherwise (the `s` of a possessive a
    /// word of its own): an index run rebuilds it from the catalog.
    pub fn is_outdated(&self) -> bool {
        let f = self.fields;
        let analyzed_so = match self.index.schema().get_field_entry(f.body).field_type() {
            FieldType::Str(text) => text
                .get_indexing_options()
                .is_some_and(|i| i.tokenizer() == STEMMED),
            _ => false,
        };
        !analyzed_so
            || [
                f.mail,
                f.sent,
                f.page_breaks,
                f.mail_from,
                f.mail_to,
                f.units,
                f.file,
                f.text_hash,
                f.mail_folder,
            ]
            .iter()
            .any(Option::is_none)
    }

    fn outdated(&self, lacks: &str) -> Error {
        Error::OutdatedIndex {
            index: self.path.clone(),
            lacks: lacks.to_string(),
        }
    }

    /// Whether `text` holds `item` (a word or a phrase) as
    /// [`chunks_meeting`](Self::chunks_meeting) finds it in an index: its stemmed words, or
    /// its exact tokens, in a row.
    pub fn holds(text: &str, item: &str) -> bool {
        if let Some(root) = Root::parse(item.trim()) {
            return analyze(&mut exact_analyzer(), text)
                .iter()
                .any(|(w, _)| root.matches(w));
        }
        if let Some(places) = root_phrase(item) {
            return phrase_runs(&analyze(&mut exact_analyzer(), text), &places)
                .next()
                .is_some();
        }
        words_in_a_row(text, item, stemmed_analyzer) || words_in_a_row(text, item, exact_analyzer)
    }

    /// How many times `text` holds `item` (a word, a root or a phrase), as
    /// [`holds`](Self::holds) finds it: a root's words as the `exact` field keeps them, other
    /// words stemmed or as written, whichever finds more.
    pub fn occurrences(text: &str, item: &str) -> usize {
        if let Some(root) = Root::parse(item.trim()) {
            return analyze(&mut exact_analyzer(), text)
                .iter()
                .filter(|(w, _)| root.matches(w))
                .count();
        }
        if let Some(places) = root_phrase(item) {
            return phrase_runs(&analyze(&mut exact_analyzer(), text), &places).count();
        }
        times_in_a_row(text, item, stemmed_analyzer).max(times_in_a_row(text, item, exact_analyzer))
    }

    /// The live chunks whose context (path, title and breadcrumb) holds the words of
    /// `context` in a row, that pass `keep`, in document order: the chunks of a cited
    /// section ([`crate::search::citation`]).
    pub fn chunks_in_context(
        &self,
        context: &str,
        keep: impl Fn(&StoredChunk) -> bool,
    ) -> Result<Vec<StoredChunk>> {
        let Some(in_context) = in_a_row(self.fields.context, stemmed_analyzer(), context) else {
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let found = searcher
            .search(&*in_context, &DocSetCollector)
            .map_err(Self::err(&self.path))?;
        let mut out = Vec::new();
        for addr in found {
            let doc: TantivyDocument = searcher.doc(addr).map_err(Self::err(&self.path))?;
            let stored = self.stored(&doc);
            if keep(&stored) {
                out.push(stored);
            }
        }
        out.sort_by_key(|c| (c.doc_id, c.range.start, c.chunk_id));
        Ok(out)
    }

    /// The live chunks `query` matches, read from the `chunk_id` fast field (no stored text
    /// is read).
    fn chunks_matching(&self, query: &dyn Query) -> Result<ChunkSet> {
        let searcher = self.reader.searcher();
        let found = searcher
            .search(query, &DocSetCollector)
            .map_err(Self::err(&self.path))?;
        let mut columns = std::collections::HashMap::new();
        let mut ids = Vec::with_capacity(found.len());
        for addr in found {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(c) => c.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => slot.insert(
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .u64("chunk_id")
                        .map_err(Self::err(&self.path))?,
                ),
            };
            ids.extend(column.first(addr.doc_id).map(ChunkId));
        }
        Ok(ChunkSet::new(ids))
    }

    /// The live chunks `query` matches whose stored text passes `keep`.
    fn chunks_matching_where(
        &self,
        query: &dyn Query,
        keep: impl Fn(&str) -> bool,
    ) -> Result<ChunkSet> {
        let searcher = self.reader.searcher();
        let found = searcher
            .search(query, &DocSetCollector)
            .map_err(Self::err(&self.path))?;
        let mut ids = Vec::new();
        for addr in found {
            let doc: TantivyDocument = searcher.doc(addr).map_err(Self::err(&self.path))?;
            let stored = self.stored(&doc);
            if keep(&stored.text) {
                ids.push(stored.chunk_id);
            }
        }
        Ok(ChunkSet::new(ids))
    }

    /// The stored fields of up to `limit` live chunks whose u64 `field` holds `value`.
    fn stored_where(&self, field: Field, value: u64, limit: usize) -> Result<Vec<StoredChunk>> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(Term::from_field_u64(field, value), IndexRecordOption::Basic);
        let top = searcher
            .search(&q, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(Self::err(&self.path))?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(Self::err(&self.path))?;
            out.push(self.stored(&doc));
        }
        Ok(out)
    }

    /// A chunk's stored fields, read from its tantivy document.
    fn stored(&self, doc: &TantivyDocument) -> StoredChunk {
        let f = self.fields;
        let s = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        };
        let n = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
        let opt = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_u64())
                .map(|v| v as u32)
        };
        let crumbs = s(f.breadcrumb);
        StoredChunk {
            chunk_id: ChunkId(n(f.chunk_id)),
            doc_id: DocId(n(f.doc_id)),
            path: s(f.path),
            title: s(f.title),
            breadcrumb: if crumbs.is_empty() {
                Vec::new()
            } else {
                crumbs.split(CRUMB_SEP).map(String::from).collect()
            },
            text: s(f.body),
            range: n(f.start) as usize..n(f.end) as usize,
            line: n(f.line) as u32,
            place: Place {
                page: opt(f.page),
                page_end: opt(f.page_end),
                paragraph: opt(f.paragraph),
            },
            mail: f
                .mail
                .and_then(|field| doc.get_first(field))
                .and_then(|v| v.as_str())
                .and_then(|json| serde_json::from_str(json).ok()),
            page_breaks: f.page_breaks.map_or_else(Vec::new, |field| {
                doc.get_all(field)
                    .filter_map(|v| v.as_u64())
                    .map(|b| b as usize)
                    .collect()
            }),
        }
    }
}

/// One place of a phrase with a root in it (`"breach of contract!"`): a word as the `exact`
/// field keeps it, or a root.
enum PhrasePlace {
    Word(String),
    Root(Root),
}

impl PhrasePlace {
    /// Whether `word` (an `exact` token) fills this place.
    fn matches(&self, word: &str) -> bool {
        match self {
            PhrasePlace::Word(w) => w == word,
            PhrasePlace::Root(r) => r.matches(word),
        }
    }

    /// The place as a regular expression over whole terms.
    fn regex(&self) -> String {
        match self {
            PhrasePlace::Word(w) => escape_regex(w),
            PhrasePlace::Root(r) => r.regex(),
        }
    }
}

/// The runs of `exact` tokens (with their byte ranges) that fill `places` one by one.
fn phrase_runs<'a>(
    exact: &'a [(String, Range<usize>)],
    places: &'a [PhrasePlace],
) -> impl Iterator<Item = &'a [(String, Range<usize>)]> {
    exact
        .windows(places.len())
        .filter(move |run| run.iter().zip(places).all(|((t, _), p)| p.matches(t)))
}

/// `word` as a regular expression that matches it alone: ASCII punctuation escaped (exact
/// tokens may hold `.()-/:`).
fn escape_regex(word: &str) -> String {
    let mut re = String::with_capacity(word.len() + 4);
    for c in word.chars() {
        if c.is_ascii_punctuation() {
            re.push('\\');
        }
        re.push(c);
    }
    re
}

/// The places of `item` when it is a phrase of two or more places with a root among them
/// (`breach of contract!`, `"wom*n's rights"` has none: `wom*n's` is no root); `None` for
/// anything else. Words are read as the `exact` field reads them; punctuation around a root
/// is dropped (`contract!,`).
fn root_phrase(item: &str) -> Option<Vec<PhrasePlace>> {
    let mut places = Vec::new();
    let mut any_root = false;
    for piece in item.split_whitespace() {
        let bare = piece.trim_matches(|c: char| !(c.is_alphanumeric() || c == '!' || c == '*'));
        match Root::parse(bare) {
            Some(root) => {
                any_root = true;
                places.push(PhrasePlace::Root(root));
            }
            None => places.extend(
                analyze(&mut exact_analyzer(), piece)
                    .into_iter()
                    .map(|(w, _)| PhrasePlace::Word(w)),
            ),
        }
    }
    (any_root && places.len() > 1).then_some(places)
}

/// Whether `text` has `item`'s words, as `analyzer` reads both, in a row.
fn words_in_a_row(text: &str, item: &str, analyzer: fn() -> TextAnalyzer) -> bool {
    times_in_a_row(text, item, analyzer) > 0
}

/// How many times `text` has `item`'s words (as `analyzer` reads them) in a row.
fn times_in_a_row(text: &str, item: &str, analyzer: fn() -> TextAnalyzer) -> usize {
    let words = |s: &str| -> Vec<String> {
        analyze(&mut analyzer(), s)
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    };
    let needle = words(item);
    if needle.is_empty() {
        return 0;
    }
    words(text)
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// Whether `text` has `item`'s stemmed words in a row (an e-mail header field, as the
/// `mail_from`, `mail_to` and `mail_folder` fields are searched).
fn holds_stemmed(text: &str, item: &str) -> bool {
    words_in_a_row(text, item, stemmed_analyzer)
}

/// The query for `item`'s words (as `analyzer` reads them) in a row in `field`; `None` when
/// it has none.
fn in_a_row(field: Field, mut analyzer: TextAnalyzer, item: &str) -> Option<Box<dyn Query>> {
    let mut terms: Vec<Term> = analyze(&mut analyzer, item)
        .into_iter()
        .map(|(t, _)| Term::from_field_text(field, &t))
        .collect();
    match terms.len() {
        0 => None,
        1 => terms
            .pop()
            .map(|t| Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as _),
        _ => Some(Box::new(PhraseQuery::new(terms))),
    }
}

/// The words of a file's name ("CopAcc_NDA-and-ToP-Mentors_2.0.txt" -> "CopAcc NDA and ToP
/// Mentors 2.0"): file names often carry the parties and the kind of document. A Maildir's
/// message file is named by a delivery id and its flags, which say nothing of the message:
/// it has no words, and its attachment (`cur/1700000000.M1P2.host:2,S#lease.pdf`) those of
/// its own name, so that a message whose flags change keeps its words and its vectors. A
/// mailbox's or Outlook data file's message is named by its place (`inbox.mbox#0003.eml`,
/// `archive.pst#0003.eml`, and an Outlook data file's calendar item `archive.pst#0001.ics` or
/// contact `archive.pst#0001.vcf`), which changes when an earlier one comes or goes: it has its
/// container's words (and its attachment `archive.pst#0003.eml#lease.pdf` those of
/// `archive.pst#lease.pdf`), so that a message moved up or down keeps its vectors.
pub fn file_words(path: &str) -> String {
    if let Some((container, rest)) = path.split_once('#')
        && matches!(
            crate::ingest::walk::FileKind::from_path(std::path::Path::new(container)),
            Some(crate::ingest::walk::FileKind::Mbox | crate::ingest::walk::FileKind::Pst)
        )
    {
        let (message, inner) = rest
            .split_once('#')
            .map_or((rest, None), |(m, i)| (m, Some(i)));
        // A message, or an Outlook data file's calendar item or contact (`0001.ics`, `0001.vcf`).
        let numbered = [".eml", ".ics", ".vcf"].iter().any(|ext| {
            message
                .strip_suffix(ext)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        if numbered {
            return match inner {
                Some(inner) => file_words(&format!("{container}#{inner}")),
                None => file_words(container),
            };
        }
    }
    if let Some((message, inner)) = path.split_once('#')
        && crate::ingest::walk::is_maildir_message(std::path::Path::new(message))
    {
        return file_words(inner);
    }
    if crate::ingest::walk::is_maildir_message(std::path::Path::new(path)) {
        return String::new();
    }
    let name = std::path::Path::new(path)
        .file_stem()
        .map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned());
    name.replace(['_', '-'], " ")
}

/// `text` with a space wherever a word changes case inside itself, as file names glue words:
/// `ExcelerateStandardNDAFormat` → `Excelerate Standard NDA Format`, `FullStory` → `Full
/// Story`. A capital after a lower-case letter starts a word, and so does the last capital
/// of a run when two lower-case letters follow (`NDAFormat`, but not the plural `NDAs`);
/// digits and other characters stay as they are.
pub fn camel_case_words(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_uppercase() {
            let before = chars[i - 1];
            let lower = |j: usize| chars.get(j).is_some_and(|c| c.is_lowercase());
            if before.is_lowercase() || (before.is_uppercase() && lower(i + 1) && lower(i + 2)) {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out
}

/// `text` with its percent-escapes decoded, as downloaded files' names keep them
/// (`Evelozcity%20OESA%20NDA` → `Evelozcity OESA NDA`); as it was when the decoded bytes are
/// not UTF-8.
pub fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map_or_else(|_| text.to_string(), String::from)
}

/// The words of a file's name as a query that names the file would have them (for matching
/// the query's words to the names of the hits' files): the words of [`file_words`],
/// percent-escapes decoded (of an escaped path, its last part) and words glued in camel case
/// apart (`ExcelerateStandardNDAFormat` → `Excelerate Standard NDA Format`). The `context`
/// field and the embedded text keep [`file_words`] (docs/quality.md, "Names glued in camel
/// case or escaped").
pub fn name_words(path: &str) -> String {
    let decoded = percent_decoded(&file_words(path));
    // An escaped path (`uploads%2Fimage%2FFullStory+NDA`) names the file by its last part.
    let last = decoded.rsplit(['/', '\\']).next().unwrap_or(&decoded);
    camel_case_words(last)
}

/// Adds chunks to a [`KeywordIndex`]; nothing is visible until [`KeywordWriter::commit`].
pub struct KeywordWriter {
    path: PathBuf,
    writer: IndexWriter,
    fields: Fields,
}

impl KeywordWriter {
    /// Adds one chunk.
    pub fn add(&mut self, chunk: &StoredChunk) -> Result<()> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.chunk_id, chunk.chunk_id.0);
        doc.add_u64(f.doc_id, chunk.doc_id.0);
        doc.add_text(f.path, &chunk.path);
        doc.add_text(f.title, &chunk.title);
        let crumbs: Vec<&str> = chunk.breadcrumb.iter().map(String::as_str).collect();
        doc.add_text(f.breadcrumb, crumbs.join(&CRUMB_SEP.to_string()));
        doc.add_text(f.body, &chunk.text);
        doc.add_text(f.exact, &chunk.text);
        doc.add_text(f.context, context_text(&chunk.path, &chunk.title, &crumbs));
        doc.add_u64(f.start, chunk.range.start as u64);
        doc.add_u64(f.end, chunk.range.end as u64);
        doc.add_u64(f.line, u64::from(chunk.line));
        let p = chunk.place;
        for (field, value) in [
            (f.page, p.page),
            (f.page_end, p.page_end),
            (f.paragraph, p.paragraph),
        ] {
            if let Some(v) = value {
                doc.add_u64(field, u64::from(v));
            }
        }
        if let (Some(field), Some(mail)) = (f.mail, &chunk.mail)
            && let Ok(json) = serde_json::to_string(mail)
        {
            doc.add_text(field, json);
        }
        if let (Some(field), Some(day)) = (f.sent, chunk.mail.as_ref().and_then(sent_day)) {
            doc.add_u64(field, u64::from(day));
        }
        if let Some(field) = f.units {
            doc.add_text(field, &chunk.text);
        }
        if let Some(field) = f.file {
            doc.add_text(field, &chunk.path);
        }
        if let Some(field) = f.text_hash {
            doc.add_u64(field, distinct::text_key(&chunk.text));
        }
        if let Some(field) = f.page_breaks {
            for &b in &chunk.page_breaks {
                doc.add_u64(field, b as u64);
            }
        }
        if let Some(mail) = &chunk.mail {
            for header in MailField::ALL {
                if let Some(field) = f.mail(header) {
                    doc.add_text(field, header.of(mail));
                }
            }
        }
        self.writer
            .add_document(doc)
            .map_err(KeywordIndex::err(&self.path))?;
        Ok(())
    }

    /// Removes every chunk of a document (visible after the next commit).
    pub fn delete_doc(&mut self, doc: DocId) {
        self.writer
            .delete_term(Term::from_field_u64(self.fields.doc_id, doc.0));
    }

    /// Makes everything added so far durable and visible to new readers.
    pub fn commit(&mut self) -> Result<()> {
        self.writer
            .commit()
            .map(|_| ())
            .map_err(KeywordIndex::err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: u64, text: &str) -> StoredChunk {
        StoredChunk {
            chunk_id: ChunkId(id),
            doc_id: DocId(id / 10),
            path: format!("doc{}.txt", id / 10),
            title: "Lease".into(),
            breadcrumb: vec!["Article 7".into(), "Section 7.2".into()],
            text: text.into(),
            range: 5..5 + text.len(),
            line: 3,
            place: Place {
                page: Some(2),
                page_end: Some(3),
                paragraph: None,
            },
            mail: None,
            page_breaks: Vec::new(),
        }
    }

    fn index(chunks: &[StoredChunk]) -> (tempfile::TempDir, KeywordIndex) {
        let dir = tempfile::tempdir().unwrap();
        let idx = KeywordIndex::create(dir.path()).unwrap();
        let mut w = idx.writer(1).unwrap();
        for c in chunks {
            w.add(c).unwrap();
        }
        w.commit().unwrap();
        idx.reload().unwrap();
        (dir, idx)
    }

    #[test]
    fn a_file_name_gives_its_words_and_a_maildir_message_name_none() {
        assert_eq!(
            file_words("deals/CopAcc_NDA-and-ToP-Mentors_2.0.txt"),
            "CopAcc NDA and ToP Mentors 2.0"
        );
        assert_eq!(
            file_words("mail/thread.eml#lease-draft.pdf"),
            "thread.eml#lease draft"
        );
        assert_eq!(file_words("Mail/cur/1700000000.M1P2.host:2,RS"), "");
        assert_eq!(
            file_words("Mail/cur/1700000000.M1P2.host:2,RS#lease-draft.pdf"),
            "lease draft"
        );
        // A message named by its place in a mailbox or data file has its container's words,
        // whatever its number.
        assert_eq!(
            file_words("mail/client_archive.pst#0003.eml"),
            "client archive"
        );
        assert_eq!(
            file_words("mail/client_archive.pst#0004.eml"),
            "client archive"
        );
        assert_eq!(file_words("inbox.mbox#00042.eml"), "inbox");
        // So do a data file's calendar items and contacts.
        assert_eq!(
            file_words("mail/client_archive.pst#0012.ics"),
            "client archive"
        );
        assert_eq!(
            file_words("mail/client_archive.pst#0002.vcf"),
            "client archive"
        );
        assert_eq!(
            file_words("mail/client_archive.pst#0003.eml#lease-draft.pdf"),
            "client archive.pst#lease draft"
        );
        assert_eq!(
            file_words("mail/client_archive.pst#0004.eml#lease-draft.pdf"),
            file_words("mail/client_archive.pst#0003.eml#lease-draft.pdf"),
        );
        // Other names keep their words.
        assert_eq!(file_words("archive.pst"), "archive");
        assert_eq!(file_words("thread.eml#0003.eml"), "thread.eml#0003");
    }

    #[test]
    fn a_names_glued_words_come_apart_and_its_escapes_decode() {
        for (glued, apart) in [
            (
                "ExcelerateStandardNDAFormat",
                "Excelerate Standard NDA Format",
            ),
            (
                "EFCAConfidentialityAgreement",
                "EFCA Confidentiality Agreement",
            ),
            ("FullStory+Mutual", "Full Story+Mutual"),
            ("eHandshake_NDA", "e Handshake_NDA"),
            ("LiiON NDA", "Lii ON NDA"),
            // Plurals and possessives of capitals, capitals alone and words alone stay whole.
            ("NDAs LLCs IDs", "NDAs LLCs IDs"),
            ("the NDA's terms", "the NDA's terms"),
            ("Lease 2019 v1.0", "Lease 2019 v1.0"),
            (
                "Ärztekammer ÖffentlichesRecht",
                "Ärztekammer Öffentliches Recht",
            ),
        ] {
            assert_eq!(camel_case_words(glued), apart, "{glued}");
        }
        assert_eq!(
            percent_decoded("Evelozcity%20OESA%20NDA"),
            "Evelozcity OESA NDA"
        );
        assert_eq!(percent_decoded("a%2Fb%C3%A9"), "a/bé");
        // Not an escape, or not UTF-8 once decoded: left as it is.
        assert_eq!(percent_decoded("100% sure %zz"), "100% sure %zz");
        assert_eq!(percent_decoded("bad%FF"), "bad%FF");
        assert_eq!(
            name_words("contractnli/Sony%20Pictures%20Television%20NDA%20(Executed).txt"),
            "Sony Pictures Television NDA (Executed)"
        );
        assert_eq!(
            name_words("a/TabunKitchenInvestments-NDA.txt"),
            "Tabun Kitchen Investments NDA"
        );
        assert_eq!(
            name_words("a/help_uploads%2Fimage%2F2329%2F15269-FullStory+Mutual+NDA+2018.txt"),
            "15269 Full Story+Mutual+NDA+2018"
        );
        // The query's words and the name's then meet as terms.
        let name = KeywordIndex::name_terms(&name_words("x/ExcelerateStandardNDAFormat.txt"));
        let (query, _) = KeywordIndex::terms_of(&camel_case_words("Consider Excelerate's NDA"));
        assert!(
            query.iter().any(|t| name.contains(t) && t != "nda"),
            "{query:?} {name:?}"
        );
    }

    #[test]
    fn copies_of_a_text_leave_every_passages_keyword_score_as_without_them() {
        let texts = [
            "The tenant shall pay the rent monthly to the landlord.",
            "The wombat covenant binds the tenant.",
            "Rent is due on the first day of each month.",
            "Notices go to the landlord at the premises.",
        ];
        let originals: Vec<StoredChunk> = (0..).zip(texts).map(|(i, t)| chunk(i * 10, t)).collect();
        let scores = |idx: &KeywordIndex, query: &str| -> std::collections::HashMap<u64, f32> {
            idx.search(query, 100)
                .unwrap()
                .into_iter()
                .map(|h| (h.chunk_id.0, h.score))
                .collect()
        };
        let queries = ["tenant rent", "wombat tenant", "rent landlord premises"];
        let (_dir, idx) = index(&originals);
        let alone: Vec<_> = queries.iter().map(|q| scores(&idx, q)).collect();
        // Twenty copies of the first text, added after a search (a new version of the index,
        // as a long-lived searcher sees it after a reload).
        let mut w = idx.writer(1).unwrap();
        for n in 0..20 {
            w.add(&chunk(100 + n * 10, texts[0])).unwrap();
        }
        w.commit().unwrap();
        idx.reload().unwrap();
        for (query, alone) in queries.iter().zip(&alone) {
            let copied = scores(&idx, query);
            for (id, score) in alone {
                let got = copied[id];
                assert!(
                    (got - score).abs() < 1e-5,
                    "{query}: chunk {id} {got} vs {score}"
                );
            }
            if let Some(original) = copied.get(&0) {
                for n in 0..20 {
                    assert_eq!(copied[&(100 + n * 10)], *original, "{query}");
                }
            }
        }
    }

    #[test]
    fn the_exact_tokenizer_gives_the_tokens_of_tantivys_regex_tokenizer() {
        let texts = [
            "Section 7.2(a) of 12 U.S.C. § 1841(c)(2) — see ¶ 4; D.C. Code § 42-3505.01.",
            "a.. b.-c (d) e) 1/2/2020 10:30 x-y-z. Straße Ünïcödé 東京都 ٣٤ Ⅻ naïve café…",
            "",
            "   ...   ",
            "trailing dash- and (open and close) 7.2.",
            "1.2.3 (ii) (iv)(A) 26 U.S.C. §§ 501(c)(3)-(4), ¶¶ 12–14",
        ];
        let mut reference =
            TextAnalyzer::builder(tantivy::tokenizer::RegexTokenizer::new(EXACT_PATTERN).unwrap())
                .filter(RemoveLongFilter::limit(60))
                .filter(LowerCaser)
                .build();
        let tokens = |analyzer: &mut TextAnalyzer, text: &str| {
            let mut out = Vec::new();
            let mut stream = analyzer.token_stream(text);
            while stream.advance() {
                let t = stream.token();
                out.push((t.text.clone(), t.offset_from, t.offset_to, t.position));
            }
            out
        };
        let mut ours = exact_analyzer();
        for text in texts {
            // Twice each: the second run finds the shared caches warm.
            for _ in 0..2 {
                assert_eq!(
                    tokens(&mut ours, text),
                    tokens(&mut reference, text),
                    "{text:?}"
                );
            }
        }
        let section = tokens(&mut ours, texts[0]);
        assert!(section.iter().any(|t| t.0 == "7.2(a)"), "{section:?}");
        assert!(section.iter().any(|t| t.0 == "42-3505.01"), "{section:?}");
    }

    #[test]
    fn a_writer_on_several_threads_indexes_every_chunk_as_one_thread_does() {
        let chunks: Vec<StoredChunk> = (0..3000u64)
            .map(|i| chunk(i, &format!("Clause {i}: the tenant pays rent number {i}.")))
            .collect();
        let (_one, single) = index(&chunks);
        let dir = tempfile::tempdir().unwrap();
        let many = KeywordIndex::create(dir.path()).unwrap();
        let mut w = many.writer(4).unwrap();
        for c in &chunks {
            w.add(c).unwrap();
        }
        w.commit().unwrap();
        many.reload().unwrap();
        assert_eq!(many.num_chunks(), 3000);
        // Every chunk found with the same BM25 score (the statistics are the whole index's,
        // however many segments the threads wrote); equal scores may come in another order.
        for q in ["rent number 1234", "clause 7", "tenant"] {
            let scores = |idx: &KeywordIndex| {
                let mut hits: Vec<(u64, f32)> = idx
                    .search(q, 5000)
                    .unwrap()
                    .iter()
                    .map(|h| (h.chunk_id.0, h.score))
                    .collect();
                hits.sort_by_key(|h| h.0);
                hits
            };
            let (a, b) = (scores(&many), scores(&single));
            assert_eq!(a.len(), b.len(), "{q}");
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    x.0 == y.0 && (x.1 - y.1).abs() < 1e-4,
                    "{q}: {x:?} vs {y:?}"
                );
            }
        }
        assert_eq!(
            many.search("rent number 1234", 1).unwrap()[0].chunk_id,
            ChunkId(1234)
        );
    }

    #[test]
    fn stemming_finds_inflected_forms_and_exact_tokens_keep_citations() {
        let (_d, idx) = index(&[
            chunk(10, "Either party may terminate this Agreement on notice."),
            chunk(
                20,
                "Claims under 42 U.S.C. § 1983 and Section 7.2(a) survive.",
            ),
            chunk(30, "The deposit is held in trust."),
        ]);
        let hits = idx.search("termination", 10).unwrap();
        assert_eq!(hits.first().map(|h| h.chunk_id), Some(ChunkId(10)));
        let hits = idx.search("§ 7.2(a)?", 10).unwrap();
        assert_eq!(hits.first().map(|h| h.chunk_id), Some(ChunkId(20)));
        assert!(idx.search("zebra", 10).unwrap().is_empty());
        assert!(idx.search("   ", 10).unwrap().is_empty());
    }

    #[test]
    fn field_terms_are_what_the_fields_index_and_what_a_query_looks_up() {
        let mut c = chunk(1, "The Tenant terminates the lease under Section 7.2(a).");
        c.title = "Lease".into();
        let [body, context, exact] = KeywordIndex::chunk_terms(&c);
        assert_eq!(
            body.terms,
            [
                "the", "tenant", "termin", "the", "leas", "under", "section", "7", "2", "a"
            ]
        );
        assert!(context.terms.contains(&"leas".to_string()), "{context:?}");
        assert!(exact.terms.contains(&"7.2(a)".to_string()), "{exact:?}");
        assert_eq!(
            (body.boost, context.boost, exact.boost),
            (BODY_BOOST, CONTEXT_BOOST, EXACT_BOOST)
        );
        let [body, context, exact] =
            KeywordIndex::query_field_terms("the lease, the LEASE and 7.2(a)");
        assert_eq!(body.terms, ["leas", "7", "2"]);
        assert_eq!(context.terms, body.terms);
        assert_eq!(exact.terms, ["lease", "7.2(a)"]);
    }

    #[test]
    fn quoted_phrases_rank_exact_phrases_first() {
        let (_d, idx) = index(&[
            chunk(10, "deposit of security for the loan"),
            chunk(20, "the security deposit is returned"),
        ]);
        let ids: Vec<_> = idx
            .search("\"security deposit\"", 10)
            .unwrap()
            .into_iter()
            .map(|h| h.chunk_id)
            .collect();
        assert_eq!(ids, vec![ChunkId(20), ChunkId(10)]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// A phrase with roots in it finds, in the index, exactly the chunks the text check
        /// finds.
        #[test]
        fn phrases_with_roots_in_the_index_agree_with_the_text_check(
            texts in proptest::collection::vec(
                "((alpha|alphas|Alphabet|alp|beta|betas|gamma|non-alpha|of|§|12\\.3) ?[.;,]? ?){1,25}",
                1..6,
            ),
        ) {
            let texts: Vec<(u64, &str)> =
                texts.iter().enumerate().map(|(i, t)| (i as u64 + 1, t.as_str())).collect();
            let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
            let (_d, idx) = index(&chunks);
            for phrase in [
                "alph! beta",
                "beta* of alpha!",
                "gamma al*!",
                "§ 12.3 alpha*",
                "alp** alp**",
                "non-alpha beta!",
            ] {
                let item = [phrase.to_string()];
                let found = kept(
                    &idx.chunks_meeting(&Conditions {
                        required: &item,
                        ..Conditions::default()
                    })
                    .unwrap(),
                    &texts,
                );
                let checked: Vec<u64> = texts
                    .iter()
                    .filter(|(_, t)| KeywordIndex::holds(t, phrase))
                    .map(|&(id, _)| id)
                    .collect();
                proptest::prop_assert_eq!(found, checked, "{}", phrase);
            }
        }
    }

    /// The chunks of `texts` the index finds for `near`, checked to be the ones the text
    /// check finds.
    fn found_near(idx: &KeywordIndex, texts: &[(u64, &str)], near: &Near) -> Vec<u64> {
        let filter = idx
            .chunks_meeting(&Conditions {
                near: std::slice::from_ref(near),
                ..Conditions::default()
            })
            .unwrap();
        let found = kept(&filter, texts);
        let checked: Vec<u64> = texts
            .iter()
            .filter(|(_, t)| KeywordIndex::holds_near(t, near))
            .map(|&(id, _)| id)
            .collect();
        assert_eq!(found, checked, "{} {} {}", near.a, near.within, near.b);
        found
    }

    /// The ids of `texts` that `filter` keeps, in order.
    /// The chunks of `chunks` (indexed in `idx`) that meet `c` as the index finds them,
    /// checked to be those the check of a remote index's hits admits ([`Conditions::admit`]).
    fn meeting_as_admitted(
        idx: &KeywordIndex,
        chunks: &[StoredChunk],
        c: &Conditions<'_>,
    ) -> Vec<u64> {
        let filter = idx.chunks_meeting(c).unwrap();
        let found: Vec<u64> = chunks
            .iter()
            .map(|k| k.chunk_id.0)
            .filter(|&id| filter.keeps(id))
            .collect();
        let admitted: Vec<u64> = chunks
            .iter()
            .filter(|k| c.admit_chunk(k))
            .map(|k| k.chunk_id.0)
            .collect();
        assert_eq!(found, admitted, "{c:?}");
        found
    }

    fn kept(filter: &ChunkFilter, texts: &[(u64, &str)]) -> Vec<u64> {
        texts
            .iter()
            .map(|&(id, _)| id)
            .filter(|&id| filter.keeps(id))
            .collect()
    }

    #[test]
    fn required_and_excluded_items_keep_exactly_the_chunks_that_hold_them_or_not() {
        let texts = [
            (1, "Disputes go to binding arbitration in Dover."),
            (2, "Arbitrators are chosen by mutual agreement."),
            (3, "No force majeure event excuses payment."),
            (4, "Majeure force is not a phrase; see 42 U.S.C. § 1983."),
            (5, "The parties terminate the lease."),
        ];
        let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
        let (_d, idx) = index(&chunks);
        let meeting = |required: &[&str], excluded: &[&str]| -> Vec<u64> {
            let owned = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
            let filter = idx
                .chunks_meeting(&Conditions {
                    required: &owned(required),
                    excluded: &owned(excluded),
                    ..Conditions::default()
                })
                .unwrap();
            let found = kept(&filter, &texts);
            // A search that requires something lists what it keeps; one that only excludes
            // lists the shorter of what it leaves out and what it keeps.
            if !required.is_empty() {
                assert!(filter.listed().is_some());
            }
            // The same as the text check a remote index's hits go through.
            let checked: Vec<u64> = texts
                .iter()
                .filter(|(_, t)| {
                    required.iter().all(|r| KeywordIndex::holds(t, r))
                        && !excluded.iter().any(|x| KeywordIndex::holds(t, x))
                })
                .map(|&(id, _)| id)
                .collect();
            assert_eq!(found, checked, "+{required:?} -{excluded:?}");
            found
        };
        // Stemmed, as the keyword search reads words: "arbitration" is held by "Arbitrators"
        // too, and "terminated" by "terminate".
        assert_eq!(meeting(&["arbitration"], &[]), [1, 2]);
        assert_eq!(meeting(&["force majeure"], &[]), [3]);
        assert_eq!(meeting(&[], &["force majeure"]), [1, 2, 4, 5]);
        assert_eq!(meeting(&[], &["mutual", "terminated"]), [1, 3, 4]);
        // Leaving out most chunks lists the few kept instead.
        assert_eq!(meeting(&[], &["force", "arbitration"]), [5]);
        let most = idx
            .chunks_meeting(&Conditions {
                excluded: &["force".into(), "arbitration".into()],
                ..Conditions::default()
            })
            .unwrap();
        assert_eq!(most.listed().map(ChunkSet::ids), Some(&[5][..]));
        let few = idx
            .chunks_meeting(&Conditions {
                excluded: &["mutual".into()],
                ..Conditions::default()
            })
            .unwrap();
        assert!(few.listed().is_none() && few.at_most(5) == 4);
        assert_eq!(meeting(&["§ 1983"], &[]), [4]);
        assert_eq!(meeting(&["payment", "force"], &["lease"]), [3]);
        assert_eq!(meeting(&["nowhere"], &[]), Vec::<u64>::new());
    }

    #[test]
    fn two_words_within_n_are_found_in_either_order_and_no_farther_apart() {
        let texts = [
            (1, "Breach warranty."),
            (2, "Warranty breached."),
            (3, "Any breach of the warranty."),
            (4, "The warranty, one two three, breach."),
            (5, "A breach only."),
            (
                6,
                "A warranty only, and breaches of a warranty elsewhere far far away.",
            ),
        ];
        let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
        let (_d, idx) = index(&chunks);
        let found = |within: Within| {
            let near = Near {
                a: "breach".into(),
                b: "warranties".into(),
                within,
            };
            found_near(&idx, &texts, &near)
        };
        let within = |n: u32| found(Within::Words(n));
        assert_eq!(within(1), [1, 2]);
        assert_eq!(within(2), [1, 2]);
        assert_eq!(within(3), [1, 2, 3, 6]);
        // "warranty, one two three, breach": four positions apart.
        assert_eq!(within(4), [1, 2, 3, 4, 6]);
        // `pre/N`: "breach" first.
        assert_eq!(found(Within::Before(3)), [1, 3, 6]);
        assert_eq!(found(Within::Before(4)), [1, 3, 6]);
        // A side of more words is a phrase.
        let phrase = Near {
            a: "third-party".into(),
            b: "beneficiary".into(),
            within: Within::Words(5),
        };
        assert_eq!(
            phrase.sides().unwrap().0,
            Side::Phrase(vec!["third".into(), "parti".into()])
        );
    }

    #[test]
    fn phrases_close_together_are_found_with_the_gap_between_them() {
        let texts = [
            (1, "Due process and equal protection apply."),
            (2, "Due process applies. Equal protection too."),
            (3, "Due process applies.\n\nEqual protection too."),
            (4, "Equal protection before due process."),
            (5, "Due. Process and equal protection."),
            (6, "Process due and protection equal."),
            (7, "Due process equal protection."),
        ];
        let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
        let (_d, idx) = index(&chunks);
        let found = |within: Within| {
            let near = Near {
                a: "due process".into(),
                b: "equal protection".into(),
                within,
            };
            found_near(&idx, &texts, &near)
        };
        // Words between the end of one phrase and the start of the other.
        assert_eq!(found(Within::Words(1)), [7]);
        assert_eq!(found(Within::Words(2)), [1, 2, 3, 4, 5, 7]);
        assert_eq!(found(Within::Before(2)), [1, 2, 3, 5, 7]);
        // Each phrase whole inside the sentence or paragraph ("Due. Process" is not in one
        // sentence).
        assert_eq!(found(Within::Sentence), [1, 4, 7]);
        assert_eq!(found(Within::SentenceBefore), [1, 7]);
        assert_eq!(found(Within::Paragraph), [1, 2, 4, 5, 7]);
        // A root in a phrase side finds what the phrase of its word finds.
        for within in [
            Within::Words(1),
            Within::Words(2),
            Within::Before(2),
            Within::Sentence,
            Within::SentenceBefore,
            Within::Paragraph,
        ] {
            let near = Near {
                a: "due proc!".into(),
                b: "equal protect*on".into(),
                within,
            };
            assert!(matches!(
                near.sides(),
                Ok((Side::RootPhrase(_), Side::RootPhrase(_)))
            ));
            assert_eq!(found_near(&idx, &texts, &near), found(within), "{within}");
        }
        // A phrase and a word; a phrase does not pair with a word inside it.
        let near = Near {
            a: "due process".into(),
            b: "process".into(),
            within: Within::Words(3),
        };
        assert_eq!(found_near(&idx, &texts, &near), Vec::<u64>::new());
        let near = Near {
            a: "due process".into(),
            b: "apply".into(),
            within: Within::Sentence,
        };
        assert_eq!(found_near(&idx, &texts, &near), [1, 2, 3]);
    }

    #[test]
    fn two_words_in_one_sentence_or_paragraph_are_found_as_their_text_places_them() {
        let texts = [
            (1, "The Seller shall indemnify the Buyer for negligence."),
            (
                2,
                "The Seller shall indemnify the Buyer. Negligence is excluded.",
            ),
            (
                3,
                "The Seller shall indemnify the Buyer.\n\nNegligence is excluded.",
            ),
            (
                4,
                "The Seller shall indemnify:\n(a) the Buyer for negligence;\n(b) the Agent.",
            ),
            (5, "Negligent acts of Acme Inc. are indemnified by it."),
            (6, "Indemnify only. Nothing else."),
            (
                7,
                "Under 42 U.S.C. § 1983 the Seller indemnifies\nthe Buyer against negligence\nin all cases.",
            ),
        ];
        let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
        let (_d, idx) = index(&chunks);
        let found = |within: Within| {
            let near = Near {
                a: "negligence".into(),
                b: "indemnify".into(),
                within,
            };
            found_near(&idx, &texts, &near)
        };
        // Abbreviations, citations and wrapped lines do not end a sentence.
        assert_eq!(found(Within::Sentence), [1, 5, 7]);
        // A blank line or a list item starts a paragraph; a new sentence does not.
        assert_eq!(found(Within::Paragraph), [1, 2, 5, 7]);
        // `+s`, `+p`: "negligence" first.
        assert_eq!(found(Within::SentenceBefore), [5]);
        assert_eq!(found(Within::ParagraphBefore), [5]);
        // `w/N` counts words across sentences and paragraphs alike.
        assert_eq!(found(Within::Words(3)), [2, 3]);
    }

    #[test]
    fn roots_stand_for_the_whole_words_they_begin_in_filters_and_connectors() {
        let texts = [
            (1, "The driver was negligent and caused injury."),
            (2, "Negligence of the owner. Injuries followed."),
            (3, "A negligible injury only."),
            (4, "A non-negligent act injured nobody."),
            (5, "Negligently done.\n\nThe injured party sued."),
            (6, "Women and men; a woman."),
        ];
        let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
        let (_d, idx) = index(&chunks);
        let filter = |c: Conditions<'_>| kept(&idx.chunks_meeting(&c).unwrap(), &texts);
        let checked = |keep: &dyn Fn(&str) -> bool| -> Vec<u64> {
            texts
                .iter()
                .filter(|(_, t)| keep(t))
                .map(|&(id, _)| id)
                .collect()
        };
        let root = ["negligen!".to_string()];
        // Whole words as the exact field keeps them: not "negligible", not "non-negligent".
        let required = filter(Conditions {
            required: &root,
            ..Conditions::default()
        });
        assert_eq!(required, [1, 2, 5]);
        assert_eq!(required, checked(&|t| KeywordIndex::holds(t, "negligen!")));
        let excluded = filter(Conditions {
            excluded: &root,
            ..Conditions::default()
        });
        assert_eq!(excluded, [3, 4, 6]);
        let star = ["wom*n".to_string()];
        assert_eq!(
            filter(Conditions {
                required: &star,
                ..Conditions::default()
            }),
            [6]
        );
        for (within, expected) in [
            (Within::Sentence, vec![1]),
            (Within::Paragraph, vec![1, 2]),
            (Within::Words(3), vec![1, 5]),
        ] {
            let near = Near {
                a: "negligen!".into(),
                b: "injur!".into(),
                within,
            };
            assert_eq!(found_near(&idx, &texts, &near), expected, "{within}");
        }
        // One root side, one stemmed word.
        let near = Near {
            a: "negligen!".into(),
            b: "injuries".into(),
            within: Within::Paragraph,
        };
        assert_eq!(found_near(&idx, &texts, &near), [1, 2]);
        // The words a root stands for, most frequent first.
        let words = idx.expand(&Root::parse("injur!").unwrap()).unwrap();
        assert_eq!(words[0], ("injured".to_string(), 2));
        assert_eq!(words.len(), 3);
        assert!(
            idx.expand(&Root::parse("zz*z").unwrap())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_root_in_a_phrase_stands_for_its_words_in_that_place() {
        let texts = [
            (1, "A breach of contractual duties."),
            (2, "Breach of contract claims."),
            (3, "A breach of the contract."),
            (4, "The contract breach of warranty."),
            (5, "Breaches of contracts."),
            (6, "A breach of non-contract terms."),
        ];
        let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
        let (_d, idx) = index(&chunks);
        for (phrase, expected) in [
            ("breach of contract!", vec![1, 2]),
            ("breach** of contract!", vec![1, 2, 5]),
            ("Breach of contract*,", vec![2]),
            ("of contract!", vec![1, 2, 5]),
            ("breach of the contract!", vec![3]),
        ] {
            let item = [phrase.to_string()];
            let required = kept(
                &idx.chunks_meeting(&Conditions {
                    required: &item,
                    ..Conditions::default()
                })
                .unwrap(),
                &texts,
            );
            assert_eq!(required, expected, "+\"{phrase}\"");
            let holding: Vec<u64> = texts
                .iter()
                .filter(|(_, t)| KeywordIndex::holds(t, phrase))
                .map(|&(id, _)| id)
                .collect();
            assert_eq!(holding, expected, "holds {phrase:?}");
            let excluded = kept(
                &idx.chunks_meeting(&Conditions {
                    excluded: &item,
                    ..Conditions::default()
                })
                .unwrap(),
                &texts,
            );
            let rest: Vec<u64> = (1..=6).filter(|id| !expected.contains(id)).collect();
            assert_eq!(excluded, rest, "-\"{phrase}\"");
        }
        // In free text the phrase ranks first: "contractual" has no word of the query but
        // the root's place.
        let hits = idx.search("\"breach of contract!\"", 6).unwrap();
        let mut top: Vec<u64> = hits[..2].iter().map(|h| h.chunk_id.0).collect();
        top.sort();
        assert_eq!(top, [1, 2], "{hits:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The index's phrase queries on `units` and `body` find exactly the chunks the text
        /// check finds, for texts full of repeated words, sentence ends, blank lines and list
        /// items.
        #[test]
        fn connectors_in_the_index_agree_with_the_text_check(
            texts in proptest::collection::vec(
                "((alpha|beta|gamma|Inc\\.|U\\.S\\.C\\.|\\(a\\)|1\\.) ?[.;:]? ?(\n|\n\n)?){1,30}",
                1..6,
            ),
        ) {
            let texts: Vec<(u64, &str)> =
                texts.iter().enumerate().map(|(i, t)| (i as u64 + 1, t.as_str())).collect();
            let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
            let (_d, idx) = index(&chunks);
            for within in [
                Within::Sentence,
                Within::Paragraph,
                Within::Words(2),
                Within::Before(3),
                Within::SentenceBefore,
                Within::ParagraphBefore,
            ] {
                for (a, b) in [
                    ("alpha", "beta"),
                    ("beta", "alpha"),
                    ("gamma", "gamma"),
                    ("alpha beta", "gamma"),
                    ("beta gamma", "alpha beta"),
                    ("alph! beta", "gamma"),
                    ("gam*a gam*a", "alpha"),
                ] {
                    let near = Near {
                        a: a.into(),
                        b: b.into(),
                        within,
                    };
                    found_near(&idx, &texts, &near);
                }
            }
        }
    }

    #[test]
    fn every_word_of_a_sentence_shares_a_position_and_paragraphs_are_a_span_apart() {
        let text = "One two. Three.\n\nFour five. Six.";
        let positions: Vec<(String, usize)> = {
            let mut a = units_analyzer();
            let mut stream = a.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                out.push((stream.token().text.clone(), stream.token().position));
            }
            out
        };
        let span = PARAGRAPH_SPAN as usize;
        let expected = [
            ("one", 0),
            ("two", 0),
            ("three", 1),
            ("four", span + 2),
            ("five", span + 2),
            ("six", span + 3),
        ];
        let expected: Vec<(String, usize)> =
            expected.iter().map(|&(w, p)| (w.to_string(), p)).collect();
        assert_eq!(positions, expected);
    }

    #[test]
    fn e_mail_chunks_are_kept_by_the_day_their_message_was_sent() {
        let sent = |date: &str| MailInfo {
            date: Some(date.into()),
            ..MailInfo::default()
        };
        let mut chunks = vec![
            chunk(1, "wire the escrow funds"),
            chunk(2, "escrow agreement attached"),
            chunk(3, "escrow terms in the lease"),
            chunk(4, "escrow reminder"),
            chunk(5, "escrow, no date"),
        ];
        // An e-mail and its attachment (the same headers), a plain document, a later e-mail
        // written late in the evening west of UTC, and an e-mail without a Date header.
        chunks[0].mail = Some(sent("2020-03-05T10:00:00Z"));
        chunks[1].mail = Some(sent("2020-03-05T10:00:00Z"));
        chunks[3].mail = Some(sent("2020-03-31T23:30:00-08:00"));
        chunks[4].mail = Some(MailInfo::default());
        let (_d, idx) = index(&chunks);
        let texts: Vec<(u64, &str)> = chunks
            .iter()
            .map(|c| (c.chunk_id.0, c.text.as_str()))
            .collect();
        let within = |spec: &str, required: &[&str]| -> Vec<u64> {
            let window = SentWindow::parse(spec).unwrap();
            let required: Vec<String> = required.iter().map(|r| r.to_string()).collect();
            let filter = idx
                .chunks_meeting(&Conditions {
                    required: &required,
                    sent: Some(window),
                    ..Conditions::default()
                })
                .unwrap();
            kept(&filter, &texts)
        };
        assert_eq!(within("2020-03", &[]), [1, 2, 4]);
        assert_eq!(within("2020-03-05", &[]), [1, 2]);
        // The sender's own day: 23:30 on the 31st in UTC-8 is April 1st in UTC.
        assert_eq!(within(">=2020-03-06", &[]), [4]);
        assert_eq!(within("<2020-03-05", &[]), Vec::<u64>::new());
        assert_eq!(within("2020", &["attached"]), [2]);
        assert!(!idx.is_outdated());
        // `-sent:` leaves out the e-mails sent then, and nothing else.
        let not_within = |spec: &str, required: &[&str]| -> Vec<u64> {
            let windows = [SentWindow::parse(spec).unwrap()];
            let required: Vec<String> = required.iter().map(|r| r.to_string()).collect();
            let c = Conditions {
                required: &required,
                not_sent: &windows,
                ..Conditions::default()
            };
            meeting_as_admitted(&idx, &chunks, &c)
        };
        assert_eq!(not_within("2020-03-05", &[]), [3, 4, 5]);
        assert_eq!(not_within("2020", &["escrow"]), [3, 5]);
        assert_eq!(not_within("2019", &[]), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn every_chunk_holding_a_text_word_for_word_is_named_by_its_key() {
        let chunks = vec![
            chunk(1, "Confidential Information stays confidential."),
            chunk(2, "Another clause."),
            chunk(3, "Confidential Information stays confidential."),
            chunk(4, "Confidential Information stays confidential!"),
            chunk(5, "Confidential Information stays confidential."),
        ];
        let (_d, idx) = index(&chunks);
        assert!(idx.keeps_text_keys());
        let ids = |text: &str| -> Vec<u64> {
            let mut ids: Vec<u64> = (idx.chunks_holding(text).unwrap().unwrap())
                .into_iter()
                .map(|c| c.0)
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(
            ids("Confidential Information stays confidential."),
            [1, 3, 5]
        );
        assert_eq!(ids("Another clause."), Vec::<u64>::new(), "held once");
        assert_eq!(ids("Not indexed."), Vec::<u64>::new());
    }

    #[test]
    fn atleast_keeps_the_chunks_holding_a_word_root_or_phrase_that_many_times() {
        let chunks = vec![
            chunk(
                1,
                "Rent is due monthly. Late rent bears interest. Rent may rise.",
            ),
            chunk(2, "Rent is due monthly. Rents are paid to Landlord."),
            chunk(3, "The deposit is held in trust."),
            chunk(
                4,
                "Indemnify, indemnity and indemnification are three words.",
            ),
            chunk(
                5,
                "Security deposit; a security deposit; the security deposit.",
            ),
        ];
        let (_d, idx) = index(&chunks);
        let at_least = |item: &str, times| {
            let items = [AtLeast {
                item: item.into(),
                times,
            }];
            meeting_as_admitted(
                &idx,
                &chunks,
                &Conditions {
                    at_least: &items,
                    ..Conditions::default()
                },
            )
        };
        assert_eq!(at_least("rent", 1), [1, 2]);
        // "Rents" is "rent" stemmed.
        assert_eq!(at_least("rent", 3), [1]);
        assert_eq!(at_least("rent", 4), Vec::<u64>::new());
        assert_eq!(at_least("indemn!", 3), [4]);
        assert_eq!(at_least("security deposit", 3), [5]);
        assert_eq!(at_least("deposit", 2), [5]);
        assert_eq!(
            KeywordIndex::occurrences("Rent, rents and rent.", "rent"),
            3
        );
    }

    #[test]
    fn a_pair_apart_keeps_the_chunks_with_the_first_side_where_the_second_is_not_that_close() {
        let chunks = vec![
            chunk(1, "Seller shall indemnify Buyer against negligence."),
            chunk(2, "Seller shall indemnify Buyer."),
            chunk(
                3,
                "Seller shall indemnify Buyer against negligence. Buyer may in all other cases \
                 seek indemnification.",
            ),
            chunk(4, "Negligence is no defence."),
            chunk(
                5,
                "The indemnity covers gross negligence. No other indemnity is given.",
            ),
        ];
        let (_d, idx) = index(&chunks);
        let apart = |a: &str, within, b: &str| {
            let pairs = [Near {
                a: a.into(),
                b: b.into(),
                within,
            }];
            meeting_as_admitted(
                &idx,
                &chunks,
                &Conditions {
                    apart: &pairs,
                    ..Conditions::default()
                },
            )
        };
        assert_eq!(apart("indemnif!", Within::Words(5), "negligen!"), [2, 3]);
        // A word is matched by its stem: "indemnification" is not "indemnify".
        assert_eq!(apart("indemnify", Within::Words(5), "negligence"), [2]);
        assert_eq!(apart("indemn!", Within::Sentence, "negligen!"), [2, 3, 5]);
        assert_eq!(apart("indemn!", Within::Paragraph, "negligen!"), [2]);
        assert_eq!(
            apart("indemnify buyer", Within::Words(2), "negligence"),
            [2]
        );
        assert_eq!(
            apart("indemnify buyer", Within::Words(1), "negligence"),
            [1, 2, 3]
        );
    }

    #[test]
    fn a_group_keeps_the_chunks_meeting_any_of_its_items_or_pairs() {
        let chunks = vec![
            chunk(
                1,
                "Upon a breach, Tenant shall give notice within ten days.",
            ),
            chunk(
                2,
                "Upon a default, Tenant shall give notice within ten days.",
            ),
            chunk(3, "A breach is cured. Landlord shall then give notice."),
            chunk(4, "Negligent default of a duty requires notice at once."),
            chunk(5, "Tenant may sublet the premises."),
            chunk(6, "Nothing here."),
        ];
        let (_d, idx) = index(&chunks);
        let owned = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let near = |a: &str, b: &str, within| Near {
            a: a.into(),
            b: b.into(),
            within,
        };
        let any_near = |group: Vec<Near>| {
            let groups = [group];
            meeting_as_admitted(
                &idx,
                &chunks,
                &Conditions {
                    any_near: &groups,
                    ..Conditions::default()
                },
            )
        };
        let w5 = Within::Words(5);
        assert_eq!(
            any_near(vec![
                near("breach", "notice", w5),
                near("default", "notice", w5)
            ]),
            [1, 2, 4]
        );
        // A pair with a root is checked on the text, the group as a whole.
        assert_eq!(
            any_near(vec![
                near("breach", "notice", Within::Sentence),
                near("negligen!", "notice", Within::Sentence)
            ]),
            [1, 4]
        );
        // A group none of whose words the index holds keeps nothing.
        assert_eq!(
            any_near(vec![
                near("zebra", "notice", w5),
                near("okapi", "notice", w5)
            ]),
            Vec::<u64>::new()
        );
        // Pairs left out: alone, beside a required word, a root checked on the text.
        let left_out = |pairs: Vec<Near>, required: &[&str]| {
            let required = owned(required);
            meeting_as_admitted(
                &idx,
                &chunks,
                &Conditions {
                    required: &required,
                    excluded_near: &pairs,
                    ..Conditions::default()
                },
            )
        };
        assert_eq!(
            left_out(vec![near("breach", "notice", w5)], &[]),
            [2, 3, 4, 5, 6]
        );
        assert_eq!(
            left_out(
                vec![near("notice", "tenant", Within::Sentence)],
                &["notice"]
            ),
            [3, 4]
        );
        assert_eq!(
            left_out(
                vec![
                    near("negligen!", "notice", Within::Sentence),
                    near("breach", "notice", w5)
                ],
                &["notice"]
            ),
            [2, 3]
        );
        let any_required = |group: &[&str], required: &[&str]| {
            let (groups, required) = ([owned(group)], owned(required));
            meeting_as_admitted(
                &idx,
                &chunks,
                &Conditions {
                    required: &required,
                    any_required: &groups,
                    ..Conditions::default()
                },
            )
        };
        assert_eq!(any_required(&["sublet", "cured"], &[]), [3, 5]);
        assert_eq!(
            any_required(&["sublet", "\"give notice\""], &["tenant"]),
            [1, 2, 5]
        );
        assert_eq!(any_required(&["zebra"], &[]), Vec::<u64>::new());
    }

    #[test]
    fn e_mail_chunks_are_kept_by_their_sender_and_recipients() {
        let mail = |from: &str, to: &str, cc: Option<&str>| MailInfo {
            from: Some(from.into()),
            to: Some(to.into()),
            cc: cc.map(String::from),
            ..MailInfo::default()
        };
        let mut chunks = vec![
            chunk(1, "the escrow wire"),
            chunk(2, "the escrow refund"),
            chunk(3, "the escrow lease"),
            chunk(4, "the escrow schedule"),
        ];
        chunks[0].mail = Some(mail(
            "Ann Lee <ann@firm.example>",
            "bob@client.example",
            None,
        ));
        chunks[1].mail = Some(mail(
            "Carl Poe <carl@court.example>",
            "Ann Lee <ann@firm.example>",
            Some("Dana Fox <dana@client.example>"),
        ));
        chunks[3].mail = chunks[0].mail.clone();
        let (_d, idx) = index(&chunks);
        let owned = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let meeting = |from: &[&str], to: &[&str]| -> Vec<u64> {
            let (from, to) = (owned(from), owned(to));
            let c = Conditions {
                from: &from,
                to: &to,
                ..Conditions::default()
            };
            meeting_as_admitted(&idx, &chunks, &c)
        };
        assert_eq!(meeting(&["ann@firm.example"], &[]), [1, 4]);
        assert_eq!(meeting(&["Ann Lee"], &[]), [1, 4]);
        assert_eq!(meeting(&["court.example"], &[]), [2]);
        assert_eq!(meeting(&[], &["ann"]), [2]);
        // Cc counts as a recipient; a domain names everyone there.
        assert_eq!(meeting(&[], &["dana"]), [2]);
        assert_eq!(meeting(&[], &["client.example"]), [1, 2, 4]);
        assert_eq!(meeting(&["ann"], &["client.example"]), [1, 4]);
        assert_eq!(meeting(&["nobody"], &[]), Vec::<u64>::new());
    }

    #[test]
    fn chunks_are_kept_by_the_words_of_the_headings_over_them() {
        let under = |id: u64, path: &str, title: &str, crumbs: &[&str], text: &str| {
            let mut c = chunk(id, text);
            c.path = path.into();
            c.title = title.into();
            c.breadcrumb = crumbs.iter().map(|h| h.to_string()).collect();
            c
        };
        let chunks = [
            under(
                1,
                "msa.txt",
                "Master Services Agreement",
                &["ARTICLE 9 TERMINATION", "9.2 Termination for Convenience"],
                "Either party may give notice.",
            ),
            under(
                2,
                "msa.txt",
                "Master Services Agreement",
                &["ARTICLE 1 DEFINITIONS"],
                "Notice means a written notice.",
            ),
            under(
                3,
                "msa.txt",
                "Master Services Agreement",
                &["ARTICLE 12 EVENTS OF DEFAULT"],
                "Notice of default shall be given.",
            ),
            under(
                4,
                "lease.txt",
                "Commercial Lease",
                &[],
                "Tenant shall give notice of termination.",
            ),
            under(
                5,
                "termination-letter.txt",
                "Letter",
                &[],
                "We hereby give notice.",
            ),
        ];
        let (_d, idx) = index(&chunks);
        let strings = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let meeting = |heading: &[&str], not_heading: &[&str], required: &[&str]| -> Vec<u64> {
            let (heading, not_heading, required) =
                (strings(heading), strings(not_heading), strings(required));
            let c = Conditions {
                heading: &heading,
                not_heading: &not_heading,
                required: &required,
                ..Conditions::default()
            };
            meeting_as_admitted(&idx, &chunks, &c)
        };
        // Any heading over the chunk, stemmed; the words in the text do not count (4), the
        // file's name does (5).
        assert_eq!(meeting(&["terminate"], &[], &[]), [1, 5]);
        assert_eq!(meeting(&["events of default"], &[], &[]), [3]);
        assert_eq!(meeting(&["default events"], &[], &[]), Vec::<u64>::new());
        assert_eq!(meeting(&["master services"], &[], &["notice"]), [1, 2, 3]);
        assert_eq!(meeting(&["agreement", "definitions"], &[], &[]), [2]);
        // Left out: alone, beside a required word, beside a required heading.
        assert_eq!(meeting(&[], &["definitions"], &[]), [1, 3, 4, 5]);
        assert_eq!(meeting(&[], &["article"], &["notice"]), [4, 5]);
        assert_eq!(
            meeting(&["agreement"], &["termination", "default"], &[]),
            [2]
        );
    }

    #[test]
    fn chunks_that_define_a_term_are_those_the_text_check_admits() {
        let chunks = [
            chunk(1, "\"Affiliate\" means any entity that controls a Party."),
            chunk(2, "Any Affiliate may receive the Services."),
            chunk(
                3,
                "the design work described in Exhibit A (the “Services”).",
            ),
            chunk(4, "\"Service Credits\" means the credits in Schedule B."),
            chunk(
                5,
                "Each of the following is an \"Event of Default\": (a) nonpayment.",
            ),
        ];
        let (_d, idx) = index(&chunks);
        let meeting = |terms: &[&str], required: &[&str]| -> Vec<u64> {
            let terms: Vec<String> = terms.iter().map(|x| x.to_string()).collect();
            let required: Vec<String> = required.iter().map(|x| x.to_string()).collect();
            let c = Conditions {
                define: &terms,
                required: &required,
                ..Conditions::default()
            };
            meeting_as_admitted(&idx, &chunks, &c)
        };
        assert_eq!(meeting(&["affiliate"], &[]), [1]);
        assert_eq!(meeting(&["services"], &[]), [3]);
        assert_eq!(meeting(&["Events of Default"], &[]), [5]);
        assert_eq!(meeting(&["affiliate"], &["party"]), [1]);
        assert_eq!(meeting(&["affiliate"], &["services"]), Vec::<u64>::new());
        assert_eq!(meeting(&["affiliate", "services"], &[]), Vec::<u64>::new());
        assert_eq!(meeting(&["…"], &[]), Vec::<u64>::new());
    }

    #[test]
    fn e_mail_chunks_are_kept_by_the_words_of_their_folder() {
        let in_folder = |folder: Option<&str>| MailInfo {
            folder: folder.map(String::from),
            ..MailInfo::default()
        };
        let folders = [
            Some("Personal folders/Sent Items"),
            Some("Personal folders/Inbox/Lease"),
            None,
            Some("Clients/Acme"),
        ];
        let mut chunks: Vec<StoredChunk> = (1..=5).map(|n| chunk(n, "the escrow wire")).collect();
        for (c, folder) in chunks.iter_mut().zip(folders) {
            c.mail = Some(in_folder(folder));
        }
        let (_d, idx) = index(&chunks);
        let meeting = |folder: &[&str]| -> Vec<u64> {
            let folder: Vec<String> = folder.iter().map(|x| x.to_string()).collect();
            let c = Conditions {
                folder: &folder,
                ..Conditions::default()
            };
            meeting_as_admitted(&idx, &chunks, &c)
        };
        assert_eq!(meeting(&["sent items"]), [1]);
        // A folder's words count wherever they stand on its path, stemmed.
        assert_eq!(meeting(&["personal folder"]), [1, 2]);
        assert_eq!(meeting(&["inbox"]), [2]);
        assert_eq!(meeting(&["leases"]), [2]);
        assert_eq!(meeting(&["clients/acme"]), [4]);
        assert_eq!(meeting(&["inbox", "sent"]), Vec::<u64>::new());
        // Neither an e-mail without a folder nor a chunk of no e-mail.
        assert_eq!(meeting(&["escrow"]), Vec::<u64>::new());
        // `-folder:` leaves out the e-mails of the folders so named, and nothing else (alone,
        // or beside a required word, or leaving out most of the index).
        let not_meeting = |not: &[(MailField, &str)], required: &[&str]| -> Vec<u64> {
            let not: Vec<(MailField, String)> =
                not.iter().map(|(f, v)| (*f, v.to_string())).collect();
            let required: Vec<String> = required.iter().map(|x| x.to_string()).collect();
            let c = Conditions {
                not_mail: &not,
                required: &required,
                ..Conditions::default()
            };
            meeting_as_admitted(&idx, &chunks, &c)
        };
        assert_eq!(
            not_meeting(&[(MailField::Folder, "sent")], &[]),
            [2, 3, 4, 5]
        );
        assert_eq!(
            not_meeting(&[(MailField::Folder, "personal folders")], &["escrow"]),
            [3, 4, 5]
        );
        assert_eq!(
            not_meeting(
                &[(MailField::Folder, "personal"), (MailField::Folder, "acme")],
                &[]
            ),
            [3, 5]
        );
        assert_eq!(
            not_meeting(&[(MailField::From, "ann")], &[]),
            [1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn an_index_made_before_e_mail_days_were_kept_says_how_to_add_them() {
        let dir = tempfile::tempdir().unwrap();
        let old = KeywordIndex::create_without(dir.path(), &KeywordIndex::ADDED_FIELDS).unwrap();
        let mut w = old.writer(1).unwrap();
        let mut c = chunk(1, "wire the escrow funds");
        c.mail = Some(MailInfo {
            date: Some("2020-03-05T10:00:00Z".into()),
            ..MailInfo::default()
        });
        w.add(&c).unwrap();
        w.commit().unwrap();
        old.reload().unwrap();
        assert!(old.is_outdated());
        // What it holds is still searched and filtered by words ...
        let words = old
            .chunks_meeting(&Conditions {
                required: &["escrow".into()],
                ..Conditions::default()
            })
            .unwrap();
        assert!(words.keeps(1));
        // ... but a window of days is refused, saying what to run.
        let window = SentWindow::parse("2020").unwrap();
        let e = old
            .chunks_meeting(&Conditions {
                sent: Some(window),
                ..Conditions::default()
            })
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(e, Error::OutdatedIndex { .. }), "{e}");
        assert!(e.to_string().contains("run `lexsearch index`"), "{e}");
        let e = old
            .chunks_meeting(&Conditions {
                from: &["ann".into()],
                ..Conditions::default()
            })
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("the senders of e-mails"), "{e}");
        let sentence = Near {
            a: "escrow".into(),
            b: "funds".into(),
            within: Within::Sentence,
        };
        let e = old
            .chunks_meeting(&Conditions {
                near: std::slice::from_ref(&sentence),
                ..Conditions::default()
            })
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("sentences and paragraphs"), "{e}");
        // Each field added since is enough to call it outdated, and so are analyzers that
        // kept the `s` of a possessive; an index made now is not.
        for field in KeywordIndex::ADDED_FIELDS {
            let dir = tempfile::tempdir().unwrap();
            assert!(
                KeywordIndex::create_without(dir.path(), &[field])
                    .unwrap()
                    .is_outdated()
            );
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(
            KeywordIndex::create_analyzed_as_before(dir.path())
                .unwrap()
                .is_outdated()
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(!KeywordIndex::create(dir.path()).unwrap().is_outdated());
    }

    #[test]
    fn a_questions_pronouns_question_words_and_auxiliaries_are_not_searched_for() {
        let stemmed = |q: &str| KeywordIndex::terms_of(q).0;
        assert_eq!(stemmed("Who can see my information?"), ["see", "inform"]);
        assert_eq!(
            stemmed("Does the Tenant have to pay the Landlord's attorney's fees?"),
            ["tenant", "pay", "landlord", "attorney", "fee"]
        );
        // A legal text's duties, and the US, are searched for.
        assert_eq!(
            stemmed("what shall we do, what may US agencies do, what must you do"),
            ["shall", "may", "us", "agenc", "must"]
        );
        // Nor what a contraction leaves.
        assert_eq!(
            stemmed("What if the tenant doesn't pay and we've left?"),
            ["tenant", "pay", "left"]
        );
        // A query of such words alone searches for them.
        assert_eq!(stemmed("who are you"), ["who", "are", "you"]);
    }

    #[test]
    fn the_s_of_a_possessive_is_no_word_so_either_spelling_finds_the_other() {
        let words = |analyzer: TextAnalyzer, text: &str| -> Vec<(String, usize)> {
            let mut analyzer = analyzer;
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                out.push((stream.token().text.clone(), stream.token().position));
            }
            out
        };
        let text = "Lessee’s attorney's fees, the attorneys' fees under U.S. law, \"Buyer\"'s";
        let stemmed: Vec<(String, usize)> = words(stemmed_analyzer(), text);
        let expected = [
            "lesse", "attorney", "fee", "the", "attorney", "fee", "under", "u", "s", "law", "buyer",
        ];
        assert_eq!(
            stemmed,
            (expected.iter().enumerate())
                .map(|(i, w)| (w.to_string(), i))
                .collect::<Vec<_>>()
        );
        let exact: Vec<String> = words(exact_analyzer(), text)
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(
            exact,
            [
                "lessee",
                "attorney",
                "fees",
                "the",
                "attorneys",
                "fees",
                "under",
                "u.s",
                "law",
                "buyer"
            ]
        );
        // In an index: each phrase finds both spellings, and the two words are side by side.
        let texts = [
            (1, "Tenant shall pay Landlord's reasonable attorney's fees."),
            (
                2,
                "Borrower shall pay all costs, including attorneys' fees.",
            ),
            (3, "The attorney shall waive all fees."),
        ];
        let chunks: Vec<StoredChunk> = texts.iter().map(|&(id, t)| chunk(id, t)).collect();
        let (_dir, idx) = index(&chunks);
        for query in [
            "\"attorney's fees\"",
            "\"attorneys' fees\"",
            "\"attorneys’ fees\"",
        ] {
            let found: Vec<u64> = (idx.search(query, 10).unwrap().iter())
                .take(2)
                .map(|h| h.chunk_id.0)
                .collect();
            assert!(
                found.contains(&1) && found.contains(&2),
                "{query}: {found:?}"
            );
        }
        let pair = Near {
            a: "attorney".into(),
            b: "fee".into(),
            within: Within::Words(1),
        };
        assert_eq!(found_near(&idx, &texts, &pair), [1, 2]);
    }

    #[test]
    fn places_are_found_by_byte_offset() {
        let pages = [0..10, 10..20, 20..30];
        let place = Place::locate(&(12..25), &pages, &[]);
        assert_eq!(
            place,
            Place {
                page: Some(2),
                page_end: Some(3),
                paragraph: None
            }
        );
        // A passage of the chunk is on its own page: page 3 begins at byte 20.
        let breaks = Place::page_breaks(&(12..25), &pages);
        assert_eq!(breaks, [20]);
        assert_eq!(place.page_at(&breaks, 12), Some(2));
        assert_eq!(place.page_at(&breaks, 19), Some(2));
        assert_eq!(place.page_at(&breaks, 20), Some(3));
        // Pages with a separator between them: its bytes belong to the next page, as in
        // `locate`.
        let gapped = [0..10, 12..20, 22..30];
        let place = Place::locate(&(5..25), &gapped, &[]);
        let breaks = Place::page_breaks(&(5..25), &gapped);
        assert_eq!(breaks, [10, 20]);
        for at in 5..25 {
            assert_eq!(
                place.page_at(&breaks, at),
                Place::locate(&(at..at + 1), &gapped, &[]).page,
                "byte {at}"
            );
        }
        assert!(Place::page_breaks(&(0..10), &pages).is_empty());
        assert_eq!(Place::default().page_at(&[], 3), None);
        let place = Place::locate(&(0..10), &pages, &[0..4, 5..10]);
        assert_eq!(
            place,
            Place {
                page: Some(1),
                page_end: None,
                paragraph: Some(1)
            }
        );
        assert_eq!(Place::locate(&(3..4), &[], &[]), Place::default());
    }

    #[test]
    fn stored_chunks_round_trip_by_id() {
        let c = chunk(42, "Tenant shall pay rent.");
        let (_d, idx) = index(std::slice::from_ref(&c));
        assert_eq!(idx.fetch(ChunkId(42)).unwrap(), Some(c));
        assert_eq!(idx.fetch(ChunkId(43)).unwrap(), None);
        assert_eq!(idx.num_chunks(), 1);
    }

    #[test]
    fn documents_lists_each_document_once_and_chunks_of_gives_its_chunks_in_order() {
        let mut second = chunk(21, "Landlord keeps the deposit.");
        second.range = 0..27;
        let (_d, idx) = index(&[
            chunk(10, "Either party may terminate."),
            chunk(20, "The deposit is held in trust."),
            second,
        ]);
        let docs: Vec<_> = idx
            .documents()
            .unwrap()
            .into_iter()
            .map(|c| (c.doc_id, c.path))
            .collect();
        assert_eq!(
            docs,
            vec![(DocId(1), "doc1.txt".into()), (DocId(2), "doc2.txt".into())]
        );
        let ids: Vec<_> = idx
            .chunks_of(DocId(2))
            .unwrap()
            .iter()
            .map(|c| c.chunk_id)
            .collect();
        assert_eq!(ids, vec![ChunkId(21), ChunkId(20)]);
        assert!(idx.chunks_of(DocId(9)).unwrap().is_empty());
    }

    #[test]
    fn deleted_documents_are_neither_listed_nor_searched_within() {
        let (_d, idx) = index(&[
            chunk(10, "Either party may terminate."),
            chunk(11, "Notice is due in writing."),
            chunk(20, "The deposit is held in trust."),
        ]);
        let mut w = idx.writer(1).unwrap();
        w.delete_doc(DocId(1));
        w.commit().unwrap();
        idx.reload().unwrap();
        let docs: Vec<DocId> = idx.documents().unwrap().iter().map(|c| c.doc_id).collect();
        assert_eq!(docs, [DocId(2)]);
        assert!(idx.chunks_of_documents(&[DocId(1)]).unwrap().is_empty());
    }

    #[test]
    fn the_files_a_path_filter_keeps_are_the_live_files_the_stored_chunks_name() {
        // Four files over two segments; then one is removed and one changed (its chunks
        // deleted and added again, in a third segment).
        let chunks: Vec<StoredChunk> = (10..50u64)
            .filter(|i| i % 10 < 2)
            .map(|i| {
                let mut c = chunk(i, "Rent is due monthly.");
                c.path = format!(
                    "{}/doc{}.txt",
                    if i < 30 { "leases" } else { "wills" },
                    i / 10
                );
                c
            })
            .collect();
        let (_d, idx) = index(&chunks[..4]);
        let mut w = idx.writer(1).unwrap();
        for c in &chunks[4..] {
            w.add(c).unwrap();
        }
        w.commit().unwrap();
        w.delete_doc(DocId(1));
        w.delete_doc(DocId(3));
        w.add(&chunks[4]).unwrap();
        w.commit().unwrap();
        idx.reload().unwrap();
        let by_documents = |keep: &dyn Fn(&str) -> bool| {
            let docs: Vec<DocId> = idx
                .documents()
                .unwrap()
                .into_iter()
                .filter(|c| keep(&c.path))
                .map(|c| c.doc_id)
                .collect();
            (idx.chunks_of_documents(&docs).unwrap(), docs.len())
        };
        let leases = |p: &str| p.starts_with("leases/");
        let (chunks, files) = idx.files_kept(leases).unwrap().unwrap();
        assert_eq!(files, 1, "doc1 was removed");
        assert_eq!(chunks.as_ref().unwrap().ids(), [20, 21]);
        let (expected, n) = by_documents(&leases);
        assert_eq!((chunks.unwrap().ids(), files), (expected.ids(), n));
        let wills = |p: &str| p.starts_with("wills/");
        let (chunks, files) = idx.files_kept(wills).unwrap().unwrap();
        assert_eq!(files, 2);
        assert_eq!(
            chunks.unwrap().ids(),
            [30, 40, 41],
            "doc3 only as added again"
        );
        // Every live file kept: nothing to narrow.
        assert_eq!(idx.files_kept(|_| true).unwrap().unwrap(), (None, 3));
        let (none, files) = idx.files_kept(|_| false).unwrap().unwrap();
        assert_eq!((none.unwrap().ids().len(), files), (0, 0));
        // An index made before the field: the stored chunks answer instead.
        let dir = tempfile::tempdir().unwrap();
        let old = KeywordIndex::create_without(dir.path(), &["file"]).unwrap();
        assert!(old.files_kept(|_| true).unwrap().is_none());
    }

    #[test]
    fn a_search_within_some_documents_returns_only_their_chunks_with_unchanged_scores() {
        // Documents 1 to 4, three chunks each; the rent clause is everywhere.
        let chunks: Vec<StoredChunk> = (10..50u64)
            .filter(|i| i % 10 < 3)
            .map(|i| chunk(i, &format!("The tenant pays rent under clause {i}.")))
            .collect();
        let (_d, idx) = index(&chunks);
        let within = idx.chunks_of_documents(&[DocId(2), DocId(4)]).unwrap();
        assert_eq!(within.ids(), &[20, 21, 22, 40, 41, 42]);
        assert!(idx.chunks_of_documents(&[DocId(7)]).unwrap().is_empty());
        let all = idx.search("tenant rent clause 41", 100).unwrap();
        let some = idx
            .search_within(
                "tenant rent clause 41",
                100,
                &ChunkFilter::only(within.clone()),
            )
            .unwrap();
        assert_eq!(some[0].chunk_id, ChunkId(41));
        let expected: Vec<_> = all
            .iter()
            .filter(|h| within.contains(h.chunk_id.0))
            .collect();
        assert_eq!(some.len(), expected.len());
        for (a, b) in some.iter().zip(expected) {
            assert!((a.score - b.score).abs() < 1e-6, "{a:?} vs {b:?}");
        }
        // Only the best of the set, not the best of the index filtered afterwards.
        let one = idx
            .search_within("clause 12", 1, &ChunkFilter::only(within.clone()))
            .unwrap();
        assert_eq!(one.len(), 1);
        assert!(within.contains(one[0].chunk_id.0));
    }
}
