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
    /// The folder that holds it: its folder in an Outlook data file
    /// (`Personal folders/Inbox/Lease`), or the Maildir folder of a Maildir's message file
    /// (`Sent`, `Clients/Acme` for Maildir++'s `.Clients.Acme`); `None` for other e-mails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
}

impl MailInfo {
    /// Who sent it: `From` (empty without one).
    pub fn sender(&self) -> &str {
        self.from.as_deref().unwrap_or("")
    }

    /// The title of the message: its subject (`(no subject)` without one), with sender and
    /// date (`Re: Lease (from Ann Lee <ann@firm.example>, 2020-03-03T10:15:00Z)`).
    pub fn title(&self) -> String {
        let mut title = self
            .subject
            .clone()
            .unwrap_or_else(|| "(no subject)".into());
        match (&self.from, &self.date) {
            (Some(f), Some(d)) => title.push_str(&format!(" (from {f}, {d})")),
            (Some(f), None) => title.push_str(&format!(" (from {f})")),
            (None, Some(d)) => title.push_str(&format!(" ({d})")),
            (None, None) => {}
        }
        title
    }

    /// Whom it was sent to: `To` and `Cc`, comma-separated (empty without either).
    pub fn recipients(&self) -> String {
        [&self.to, &self.cc]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
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

/// The encoding of a Windows code page (Windows-1252 for one not known), as `.doc` property
/// sets and RTF (`\ansicpgN`, font charsets) name them.
pub fn codepage_encoding(codepage: u16) -> &'static encoding_rs::Encoding {
    match codepage {
        65001 => encoding_rs::UTF_8,
        932 => encoding_rs::SHIFT_JIS,
        936 => encoding_rs::GBK,
        949 => encoding_rs::EUC_KR,
        950 => encoding_rs::BIG5,
        10000 => encoding_rs::MACINTOSH,
        cp => encoding_rs::Encoding::for_label(format!("windows-{cp}").as_bytes())
            .unwrap_or(encoding_rs::WINDOWS_1252),
    }
}

/// The little-endian `u16` at byte `at` of `b`, if `b` holds it (the binary formats: `.doc`,
/// `.wpd`, `.xls`).
pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// UTF-16LE text (the binary formats' wide strings), unpaired surrogates replaced; an odd
/// last byte is left out.
pub fn utf16le(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// ISO 8859-1 text (the binary formats' "compressed" strings: UTF-16 with its high bytes
/// left out).
pub fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| char::from(c)).collect()
}

/// The little-endian `u32` at byte `at` of `b`, if `b` holds it.
pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// Turns the bytes of one file of some format into text.
///
/// Implementations must not panic on any input (the PDF and DOCX ones may, inside third-party
/// crates, which is why [`extract`](super::extract::extract) isolates them) and should bound the memory they use.
pub trait Extractor: Send + Sync {
    /// Extracts the text of `bytes`.
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError>;
}

/// `bytes` in MB of 1,024 × 1,024 bytes, as `--max-file-size` reads them ("3.7 MB"; bytes
/// under 1 MB: "512 bytes").
fn mib(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{bytes} bytes")
    } else {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    }
}

/// A `--max-file-size` that takes a file of `size` bytes: the next whole MB above it.
fn raised(size: u64) -> String {
    format!("{}MB", size / (1 << 20) + 1)
}

/// Why a file gave no text. Each reads as a one-line reason in the index summary.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(String),
    /// The file is larger than the configured limit.
    #[error(
        "file is {}, over the {} limit (raise it with `--max-file-size {}`)",
        mib(*.size),
        mib(*.limit),
        raised(*.size)
    )]
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
    /// A document of another format that needs a password to be read.
    #[error("encrypted {kind} file: not indexed (it needs a password; save a copy without one)")]
    Encrypted {
        /// The format.
        kind: &'static str,
    },
    /// A file of a version or variant of its format that lexsearch does not read.
    #[error("{kind} file not supported: {reason}")]
    Unsupported {
        /// The format.
        kind: &'static str,
        /// Which variant, and what to do.
        reason: String,
    },
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
    /// The file is read by a program that is not installed (Outlook data files: `readpst`).
    #[error("{kind} files are read by `{program}`, which is not installed; install it: {hint}")]
    MissingProgram {
        /// The format.
        kind: &'static str,
        /// The program that reads it.
        program: &'static str,
        /// How to install it.
        hint: &'static str,
    },
}

impl ExtractError {
    /// Whether the same bytes, read the same way, would fail the same way again. Not so for
    /// a file that could not be read (permissions, a lock: neither changes its size or
    /// modification time when lifted), nor for a time limit or an OCR failure, which a less
    /// busy machine may pass, nor for a missing program, which may be installed since; the
    /// indexer reads such files again on every run.
    pub fn lasting(&self) -> bool {
        !matches!(
            self,
            ExtractError::Read(_)
                | ExtractError::Ocr { .. }
                | ExtractError::TimedOut(_)
                | ExtractError::MissingProgram { .. }
        )
    }
}

/// The body of a message, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A text/plain part.
    Text(String),
    /// A text/html part (converted to text by the caller).
    Html(String),
    /// No body part.
    None,
}

/// A parsed e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The header block, as Markdown-like text: `# subject`, then `From: ...` lines.
    pub header_text: String,
    /// The title: the subject, with sender and date.
    pub title: String,
    /// Sender, recipients, date and subject.
    pub info: MailInfo,
    /// The body.
    pub body: Body,
    /// Attachments in order: the file name (made safe for a path) and the decoded bytes.
    pub attachments: Vec<(String, Vec<u8>)>,
}

/// The labels of the header block's lines after the subject, in order (`From: Ann Lee <...>`),
/// which [`Mail::new`] writes and pinpoints pass over.
pub const HEADER_LABELS: [&str; 6] = ["Folder", "From", "To", "Cc", "Date", "Attachments"];

impl Mail {
    /// A message from its headers, body and attachments: builds the header block (`# subject`,
    /// then `Folder:`, `From:`, `To:`, `Cc:`, `Date:` and `Attachments:` lines) and the title
    /// (`Subject (from Sender, Date)`).
    pub fn new(info: MailInfo, body: Body, attachments: Vec<(String, Vec<u8>)>) -> Self {
        let shown_subject = info
            .subject
            .clone()
            .unwrap_or_else(|| "(no subject)".into());
        let mut header_text = format!("# {shown_subject}\n");
        let names: Vec<&str> = attachments.iter().map(|(n, _)| n.as_str()).collect();
        let attached = (!names.is_empty()).then(|| names.join(", "));
        let values = [
            &info.folder,
            &info.from,
            &info.to,
            &info.cc,
            &info.date,
            &attached,
        ];
        for (label, value) in HEADER_LABELS.iter().zip(values) {
            if let Some(v) = value {
                header_text.push_str(&format!("{label}: {v}\n"));
            }
        }
        let title = info.title();
        Mail {
            header_text,
            title,
            info,
            body,
            attachments,
        }
    }
}

/// A name usable after `#` in a document path: no path separators, no control characters,
/// never empty.
pub fn safe_name(name: &str, index: usize) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '#' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        format!("attachment-{}", index + 1)
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_a_later_run_may_not_meet_again_are_not_lasting() {
        for passing in [
            ExtractError::Read("Permission denied (os error 13)".into()),
            ExtractError::TimedOut(Duration::from_secs(30)),
            ExtractError::Ocr {
                page: 3,
                reason: "tesseract timed out".into(),
            },
        ] {
            assert!(!passing.lasting(), "{passing}");
        }
        for lasting in [
            ExtractError::Empty,
            ExtractError::CorruptPdf("invalid file header".into()),
            ExtractError::EncryptedPdf,
            ExtractError::TooLarge { size: 9, limit: 1 },
            ExtractError::NeedsOcr { pages: 2 },
        ] {
            assert!(lasting.lasting(), "{lasting}");
        }
    }
}
