//! What every extractor shares: the [`Extractor`] trait, its output and its errors.
//!
//! The formats ([`super::pdf`], [`super::docx`], ...) import only this module;
//! [`super::extract`] imports the formats to dispatch to them. No format imports
//! [`super::extract`], so the modules form no cycle.

use std::ops::Range;
use std::time::Duration;

/// The text of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The text; byte offsets of chunks refer to it.
    pub text: String,
    /// A title for the document, when the format carries one (HTML `<title>`, PDF `/Title`,
    /// DOCX `dc:title`).
    pub title: Option<String>,
    /// The encoding the file was decoded from, when it was not UTF-8.
    pub decoded_from: Option<&'static str>,
    /// blake3 hash of the file's bytes, hex.
    pub content_hash: String,
    /// Byte range of each page in `text`, in order (empty for formats without pages).
    pub pages: Vec<Range<usize>>,
    /// Byte range of each numbered paragraph in `text`, in order (empty for formats that do
    /// not number paragraphs; DOCX does).
    pub paragraphs: Vec<Range<usize>>,
    /// For an e-mail: sender, recipients, date and subject.
    pub mail: Option<MailInfo>,
    /// PDF pages whose text came from OCR.
    pub ocr_pages: usize,
    /// PDF pages without a text layer that were not OCR'd (no OCR engine, or `--ocr never`).
    pub pages_needing_ocr: usize,
}

/// The headers of an e-mail that a search result shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailInfo {
    /// `From`, as `Name <address>`.
    pub from: Option<String>,
    /// `To`, comma-separated.
    pub to: Option<String>,
    /// `Cc`, comma-separated.
    pub cc: Option<String>,
    /// `Date`, RFC 3339.
    pub date: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
}

/// What an [`Extractor`] gives: the text and its structure, without the file's identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractedText {
    /// The text.
    pub text: String,
    /// The document's own title, if the format carries one.
    pub title: Option<String>,
    /// The encoding the text was decoded from, when it was not UTF-8.
    pub decoded_from: Option<&'static str>,
    /// Byte range of each page in `text` (PDF), sorted and non-overlapping.
    pub pages: Vec<Range<usize>>,
    /// Byte range of each numbered paragraph in `text` (DOCX), sorted and non-overlapping.
    pub paragraphs: Vec<Range<usize>>,
    /// For an e-mail: its headers.
    pub mail: Option<MailInfo>,
    /// Pages whose text came from OCR.
    pub ocr_pages: usize,
    /// Pages without a text layer that were not OCR'd.
    pub pages_needing_ocr: usize,
}

/// Turns the bytes of one file of some format into text.
///
/// Implementations must not panic on any input (the PDF and DOCX ones may, inside third-party
/// crates, which is why [`extract`](super::extract::extract) isolates them) and should bound the memory they use.
pub trait Extractor: Send + Sync {
    /// Extracts the text of `bytes`.
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError>;
}

/// Why a file gave no text. Each reads as a one-line reason in the index summary.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(String),
    /// The file is larger than the configured limit.
    #[error("file is {size} bytes, over the {limit}-byte limit (raise it with --max-file-size)")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file holds binary data despite its extension.
    #[error("binary content in a {0} file; not indexed")]
    Binary(&'static str),
    /// The file is empty or only whitespace.
    #[error("no text (empty file)")]
    Empty,
    /// The HTML could not be parsed.
    #[error("cannot parse HTML: {0}")]
    Html(String),
    /// A PDF without a text layer (every page empty): a scan, or text drawn as shapes, and
    /// OCR was off or not installed.
    #[error("no text layer on its {pages} page(s): needs OCR")]
    NeedsOcr {
        /// Pages in the document.
        pages: usize,
    },
    /// OCR of a page failed (the engine crashed, timed out or could not read the image).
    #[error("OCR failed on page {page}: {reason}")]
    Ocr {
        /// 1-based page number.
        page: usize,
        /// What went wrong.
        reason: String,
    },
    /// An e-mail that cannot be parsed.
    #[error("malformed e-mail: {0}")]
    CorruptMail(String),
    /// An OpenDocument or RTF file that cannot be parsed.
    #[error("corrupt {kind} file: {reason}")]
    Corrupt {
        /// The format.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A PDF that needs a password to be read.
    #[error("encrypted PDF: not indexed (it needs a password)")]
    EncryptedPdf,
    /// A PDF that cannot be parsed (truncated, damaged, or not a PDF at all).
    #[error("corrupt PDF: {0}")]
    CorruptPdf(String),
    /// A DOCX that cannot be read (not a zip, missing or malformed XML).
    #[error("corrupt DOCX: {0}")]
    CorruptDocx(String),
    /// A DOCX whose parts unpack to more than the limit (a zip bomb, or absurdly large).
    #[error("DOCX unpacks to more than {limit} bytes (a zip bomb?); not indexed")]
    Unpacked {
        /// The limit on unpacked bytes that was hit.
        limit: u64,
    },
    /// The parser panicked (a bug in it, triggered by this file); the message is the panic's.
    #[error("{kind} parser crashed on this file (panic: {message}); not indexed")]
    Panicked {
        /// The format ("pdf", "docx").
        kind: &'static str,
        /// The panic message.
        message: String,
    },
    /// The parser did not finish in time; its thread was abandoned.
    #[error("extraction timed out after {} s; not indexed", .0.as_secs_f64())]
    TimedOut(Duration),
}
