//! Turning a file into text.
//!
//! Every format sits behind the [`Extractor`] trait (bytes in, [`ExtractedText`] out), chosen
//! by [`FileKind`] in [`extractor_for`]:
//!
//! - For UTF-8 text and Markdown the extracted text *is* the file's bytes, so byte offsets in
//!   the index point into the file exactly (evaluation against labelled spans relies on it).
//!   Text in another encoding is decoded to UTF-8 (offsets then refer to the decoded text, and
//!   the document records which encoding it was).
//! - HTML is rendered to text with its headings kept as Markdown `#` lines, so the chunker
//!   sees the structure.
//! - PDF ([`super::pdf`]) gives the text layer page by page, with the byte range of each page.
//! - DOCX ([`super::docx`]) gives paragraphs in order, Word headings as `#` lines, with the
//!   byte range of each paragraph.
//! - E-mail ([`super::mail`]) gives the subject as a `#` heading, the headers, then the body;
//!   [`extract_file`] also extracts each attachment of a supported type as a document of its
//!   own, named `mail.eml#attachment-name`.
//! - PDF pages without a text layer are read by OCR ([`super::ocr`]) when asked and installed.
//!
//! PDF and DOCX are parsed by third-party crates that were not written for hostile input, so
//! [`extract`] runs them through [`super::isolate`]: on their own thread, with panics caught
//! and a time budget ([`DEFAULT_EXTRACT_TIMEOUT`]). docs/formats.md has the details.

use std::fs;
use std::io::Read;
use std::time::Duration;

use std::path::PathBuf;
use std::sync::Arc;

use super::isolate::{Isolation, run_isolated};
use super::ocr::{OcrMode, OcrOptions, ocr_pages};
use super::types::{Body, Mail};
use super::walk::{FileKind, SourceFile};
use super::{calendar, doc, docx, mail, msg, odt, pdf, pst, rtf, sheet, slides, wpd};

// The shared types live in [`super::types`] (so that the formats need not import this
// module); they are re-exported here, where callers look for them.
pub use super::types::{ExtractError, Extracted, ExtractedText, Extractor};

/// Default largest file that is read, in bytes.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// Default time budget for extracting one PDF or DOCX file.
pub const DEFAULT_EXTRACT_TIMEOUT: Duration = Duration::from_secs(30);

/// Plain text, Markdown, HTML and comma- or tab-separated values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextExtractor {
    /// Which of the four; HTML is rendered, CSV read as rows, the others taken as they are.
    pub kind: FileKind,
}

impl Extractor for TextExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        text_like(bytes.to_vec(), self.kind)
    }
}

/// The extractor for a kind of file.
pub fn extractor_for(kind: FileKind) -> &'static dyn Extractor {
    const TEXT: TextExtractor = TextExtractor {
        kind: FileKind::Text,
    };
    const MARKDOWN: TextExtractor = TextExtractor {
        kind: FileKind::Markdown,
    };
    const HTML: TextExtractor = TextExtractor {
        kind: FileKind::Html,
    };
    const CSV: TextExtractor = TextExtractor {
        kind: FileKind::Csv,
    };
    match kind {
        FileKind::Text => &TEXT,
        FileKind::Markdown => &MARKDOWN,
        FileKind::Html => &HTML,
        FileKind::Pdf => &pdf::PdfExtractor,
        FileKind::Docx => &docx::DocxExtractor,
        FileKind::Eml => &MailExtractor,
        FileKind::Odt => &odt::OdtExtractor,
        FileKind::Msg => &MsgExtractor,
        FileKind::Mbox => &MboxExtractor,
        FileKind::Rtf => &rtf::RtfExtractor,
        FileKind::Doc => &doc::DocExtractor,
        FileKind::Wpd => &wpd::WpdExtractor,
        FileKind::Pst => &pst::PstExtractor,
        FileKind::Sheet => &sheet::SheetExtractor,
        FileKind::Csv => &CSV,
        FileKind::Slides => &slides::SlidesExtractor,
        FileKind::Calendar | FileKind::Contacts => &calendar::CalendarExtractor,
    }
}

/// The kind of document an item of an Outlook data file is read as.
fn outlook_item_kind(kind: pst::ItemKind) -> FileKind {
    match kind {
        pst::ItemKind::Message => FileKind::Eml,
        pst::ItemKind::Calendar => FileKind::Calendar,
        pst::ItemKind::Contact => FileKind::Contacts,
    }
}

/// E-mail: the headers and the body (attachments are left to [`extract_file`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct MailExtractor;

impl Extractor for MailExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        let m = mail::parse_mail(bytes)?;
        mail_text(&m)
    }
}

/// Outlook .msg: the headers and the body (attachments are left to [`extract_file`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgExtractor;

impl Extractor for MsgExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        let m = msg::parse_msg(bytes)?;
        mail_text(&m)
    }
}

/// Mailbox: the list of its messages (each message is a document of its own: see
/// [`extract_file`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct MboxExtractor;

impl Extractor for MboxExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        let messages = mail::split_mbox(bytes)?;
        Ok(ExtractedText {
            text: mail::mbox_listing(&messages),
            ..ExtractedText::default()
        })
    }
}

/// The text of an e-mail: its header block, a blank line, its body.
fn mail_text(m: &Mail) -> Result<ExtractedText, ExtractError> {
    let body = match &m.body {
        Body::Text(t) => t.replace("\r\n", "\n"),
        Body::Html(h) => html_to_text(h)?,
        Body::None => String::new(),
    };
    let mut text = m.header_text.clone();
    if !body.trim().is_empty() {
        text.push('\n');
        text.push_str(body.trim_end());
    }
    Ok(ExtractedText {
        text,
        title: Some(m.title.clone()),
        mail: Some(m.info.clone()),
        ..ExtractedText::default()
    })
}

/// Limits on reading and extracting one file, and whether to OCR.
#[derive(Debug, Clone)]
pub struct ExtractLimits {
    /// Files larger than this are refused.
    pub max_bytes: u64,
    /// Time budget of an isolated (PDF, DOCX) extraction.
    pub timeout: Duration,
    /// OCR of PDF pages (off by default).
    pub ocr: OcrOptions,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_bytes: DEFAULT_MAX_FILE_BYTES,
            timeout: DEFAULT_EXTRACT_TIMEOUT,
            ocr: OcrOptions::default(),
        }
    }
}

impl ExtractLimits {
    /// The limits for reading again a file of `size` bytes that was indexed: whole,
    /// whatever size limit it was indexed under.
    pub fn for_indexed(size: u64) -> Self {
        ExtractLimits {
            max_bytes: size.max(DEFAULT_MAX_FILE_BYTES),
            ..ExtractLimits::default()
        }
    }
}

/// One document extracted from a source file: the file itself, or one of its attachments.
#[derive(Debug)]
pub struct Document {
    /// The document's identity. For an attachment, `path` and `rel` are the e-mail's with
    /// `#name` appended (`mail.eml#contract.pdf`), `kind` is the attachment's, and size and
    /// modification time are the e-mail's.
    pub file: SourceFile,
    /// Its text, or why there is none.
    pub result: Result<Extracted, ExtractError>,
}

/// Nested e-mails are followed this deep (an e-mail attached to an e-mail ..., or a mailbox
/// or Outlook data file attached to one).
pub const MAX_MAIL_DEPTH: usize = 4;

/// Reads one file and extracts every document in it: the file itself first, then (for an
/// e-mail) each attachment of a supported type, in order. Never fails as a whole: each
/// document carries its own result.
pub fn extract_file(file: &SourceFile, limits: &ExtractLimits) -> Vec<Document> {
    if file.kind == FileKind::Pst {
        // Read by readpst from where it lies: never whole into memory, whatever its size.
        let mut out = Vec::new();
        extract_file_each(file, limits, &mut |d| {
            out.push(d);
            true
        });
        return out;
    }
    let bytes = match read_limited(file, limits.max_bytes) {
        Ok(b) => b,
        Err(e) => {
            return vec![Document {
                file: file.clone(),
                result: Err(e),
            }];
        }
    };
    let mut out = Vec::new();
    extract_into(file.clone(), bytes, limits, 0, &mut out);
    out
}

/// [`extract_file`], giving each document to `each` as it is extracted (`each` returns false
/// to stop): an Outlook data file's documents come one message at a time, so that a file of
/// many gigabytes is never held in memory; other files' documents come once all are read.
pub fn extract_file_each(
    file: &SourceFile,
    limits: &ExtractLimits,
    each: &mut dyn FnMut(Document) -> bool,
) {
    if file.kind == FileKind::Pst {
        extract_outlook(file.clone(), None, limits, 0, &mut |docs| {
            docs.into_iter().all(&mut *each)
        });
        return;
    }
    for doc in extract_file(file, limits) {
        if !each(doc) {
            return;
        }
    }
}

fn extract_into(
    file: SourceFile,
    bytes: Vec<u8>,
    limits: &ExtractLimits,
    depth: usize,
    out: &mut Vec<Document>,
) {
    let kind = file.kind;
    if kind == FileKind::Mbox && !bytes.is_empty() {
        return extract_mailbox(file, bytes, limits, depth, out);
    }
    if kind == FileKind::Pst && !bytes.is_empty() {
        return extract_outlook(file, Some(bytes), limits, depth, &mut |docs| {
            out.extend(docs);
            true
        });
    }
    if !matches!(kind, FileKind::Eml | FileKind::Msg) || bytes.is_empty() {
        let result = extract_bytes(bytes, file.kind, limits);
        out.push(Document { file, result });
        return;
    }
    let content_hash = blake3::hash(&bytes).to_hex().to_string();
    let m = match parse_message(bytes, kind, limits).and_then(|m| mail_text(&m).map(|t| (m, t))) {
        Ok(x) => x,
        Err(e) => {
            out.push(Document {
                file,
                result: Err(e),
            });
            return;
        }
    };
    let (mut m, mut text) = m;
    // A Maildir's message file is in the folder its path names (kept with the headers, for
    // `folder:`; the path, which every hit shows, names it already, so the text does not).
    if depth == 0
        && m.info.folder.is_none()
        && let Some(folder) = super::walk::maildir_folder(&file.path)
    {
        m.info.folder = Some(folder);
        text.mail = Some(m.info.clone());
    }
    out.push(Document {
        file: file.clone(),
        result: finish(text, content_hash),
    });
    for (unique, kind, data) in attached_documents(m.attachments, depth) {
        let first = extract_inner(&file, &unique, kind, data, limits, depth, out);
        // An attachment carries the headers of the message it came with (a nested e-mail
        // keeps its own).
        if let Some(Document {
            result: Ok(attached),
            ..
        }) = out.get_mut(first)
            && attached.mail.is_none()
        {
            attached.mail = Some(m.info.clone());
        }
    }
}

/// An e-mail (`.eml`) or Outlook message (`.msg`), parsed on an isolated thread: mail-parser
/// and cfb are third-party parsers, isolated like PDF and DOCX.
fn parse_message(
    bytes: Vec<u8>,
    kind: FileKind,
    limits: &ExtractLimits,
) -> Result<Mail, ExtractError> {
    match run_isolated(limits.timeout, move || {
        if kind == FileKind::Msg {
            msg::parse_msg(&bytes)
        } else {
            mail::parse_mail(&bytes)
        }
    }) {
        Ok(r) => r,
        Err(i) => Err(isolation_error(i, kind)),
    }
}

/// The attachments of a message at `depth` that become documents of their own, each with
/// the name it has after `#` (a second `a.pdf` is `2-a.pdf`), its kind and its bytes:
/// attachments of no supported kind, and e-mails nested [`MAX_MAIL_DEPTH`] deep, are left
/// out.
fn attached_documents(
    attachments: Vec<(String, Vec<u8>)>,
    depth: usize,
) -> Vec<(String, FileKind, Vec<u8>)> {
    let mut used = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (name, data) in attachments {
        let Some(kind) = FileKind::from_path(std::path::Path::new(&name)) else {
            continue;
        };
        let holds_mail = matches!(
            kind,
            FileKind::Eml | FileKind::Msg | FileKind::Mbox | FileKind::Pst
        );
        if holds_mail && depth + 1 >= MAX_MAIL_DEPTH {
            continue;
        }
        let mut unique = name.clone();
        let mut n = 1;
        while !used.insert(unique.clone()) {
            n += 1;
            unique = format!("{n}-{name}");
        }
        out.push((unique, kind, data));
    }
    out
}

/// The bytes of the document `inner` inside `file`, named as [`extract_file`] names it: an
/// e-mail's attachment (`a.pdf`), a mailbox's message (`0003.eml`), or deeper
/// (`0003.eml#a.pdf`). What opening such a document opens.
pub fn inner_bytes(
    file: &SourceFile,
    inner: &str,
    limits: &ExtractLimits,
) -> Result<Vec<u8>, ExtractError> {
    // An Outlook data file is read where it lies, not into memory.
    let mut bytes = if file.kind == FileKind::Pst {
        Vec::new()
    } else {
        read_limited(file, limits.max_bytes)?
    };
    let mut kind = file.kind;
    for (depth, name) in inner.split('#').enumerate() {
        let parts = match kind {
            FileKind::Pst => {
                let export = if depth == 0 {
                    pst::export(&file.path, pst::budget(limits.timeout, file.size))?
                } else {
                    pst::export_bytes(&bytes, pst::budget(limits.timeout, bytes.len() as u64))?
                };
                let i = export.find(name).ok_or_else(|| {
                    ExtractError::Read(format!("it holds no document named {name}"))
                })?;
                let kind = outlook_item_kind(export.kind(i));
                vec![(name.to_string(), kind, export.read(i)?)]
            }
            FileKind::Mbox => {
                let messages = mail::split_mbox(&bytes)?;
                let count = messages.len();
                messages
                    .into_iter()
                    .enumerate()
                    .map(|(i, m)| (mail::mbox_message_name(i + 1, count), FileKind::Eml, m))
                    .collect()
            }
            FileKind::Eml | FileKind::Msg => {
                attached_documents(parse_message(bytes, kind, limits)?.attachments, depth)
            }
            _ => Vec::new(),
        };
        (_, kind, bytes) = parts
            .into_iter()
            .find(|(n, _, _)| n == name)
            .ok_or_else(|| ExtractError::Read(format!("it holds no document named {name}")))?;
    }
    Ok(bytes)
}

/// A mailbox: its own document (the list of its messages, read as `show` reads it), then
/// each message as an e-mail of its own, `inbox.mbox#0003.eml`, with its attachments.
fn extract_mailbox(
    file: SourceFile,
    bytes: Vec<u8>,
    limits: &ExtractLimits,
    depth: usize,
    out: &mut Vec<Document>,
) {
    let messages = match mail::split_mbox(&bytes) {
        Ok(m) => m,
        Err(e) => {
            out.push(Document {
                file,
                result: Err(e),
            });
            return;
        }
    };
    out.push(Document {
        file: file.clone(),
        result: extract_bytes(bytes, FileKind::Mbox, limits),
    });
    let count = messages.len();
    for (i, message) in messages.into_iter().enumerate() {
        let name = mail::mbox_message_name(i + 1, count);
        extract_inner(&file, &name, FileKind::Eml, message, limits, depth, out);
    }
}

/// An Outlook data file, read from `bytes` (one attached to an e-mail) or else from where it
/// lies: its own document (the list of its items by folder), then each message as an e-mail
/// of its own, `archive.pst#0003.eml`, with its attachments, each calendar item
/// (`archive.pst#0001.ics`) and each contact (`archive.pst#0001.vcf`).
/// The documents go to `sink` as they come, the file's own first, then one item's (with
/// its attachments) at a time; `sink` returns false to stop.
fn extract_outlook(
    file: SourceFile,
    bytes: Option<Vec<u8>>,
    limits: &ExtractLimits,
    depth: usize,
    sink: &mut dyn FnMut(Vec<Document>) -> bool,
) {
    let export = match outlook_messages(&file, bytes.as_deref(), limits) {
        Ok((export, content_hash)) => {
            let own = Document {
                file: file.clone(),
                result: outlook_listing(&export, content_hash),
            };
            if !sink(vec![own]) {
                return;
            }
            export
        }
        Err(e) => {
            sink(vec![Document {
                file,
                result: Err(e),
            }]);
            return;
        }
    };
    // One message in memory at a time: a data file may be far larger than memory.
    for i in 0..export.len() {
        let name = export.name(i);
        let kind = outlook_item_kind(export.kind(i));
        let mut out = Vec::new();
        // A message over the size limit is refused unread.
        let size = export.size(i);
        let read = if size > limits.max_bytes {
            Err(ExtractError::TooLarge {
                size,
                limit: limits.max_bytes,
            })
        } else {
            export.read(i)
        };
        match read {
            Ok(item) => {
                extract_inner(&file, name, kind, item, limits, depth, &mut out);
            }
            Err(e) => out.push(Document {
                file: SourceFile {
                    path: with_fragment(&file.path, name),
                    rel: with_fragment(&file.rel, name),
                    kind,
                    size,
                    mtime_ns: file.mtime_ns,
                },
                result: Err(e),
            }),
        }
        if !sink(out) {
            return;
        }
    }
}

/// The messages of an Outlook data file (from `bytes`, else from where it lies) and the hash
/// of its bytes.
fn outlook_messages(
    file: &SourceFile,
    bytes: Option<&[u8]>,
    limits: &ExtractLimits,
) -> Result<(pst::Export, String), ExtractError> {
    match bytes {
        Some(b) => pst::export_bytes(b, pst::budget(limits.timeout, b.len() as u64))
            .map(|m| (m, blake3::hash(b).to_hex().to_string())),
        None => pst::export(&file.path, pst::budget(limits.timeout, file.size))
            .and_then(|m| Ok((m, hash_file(&file.path)?))),
    }
}

/// An Outlook data file's own document: the list of its messages by folder.
fn outlook_listing(export: &pst::Export, content_hash: String) -> Result<Extracted, ExtractError> {
    let text = ExtractedText {
        text: export.listing(),
        ..ExtractedText::default()
    };
    finish(text, content_hash)
}

/// The blake3 hash of a file's bytes, read in pieces.
fn hash_file(path: &std::path::Path) -> Result<String, ExtractError> {
    file_content_hash(path).map_err(|e| ExtractError::Read(e.to_string()))
}

/// A document inside `parent` (an attachment, a mailbox's message) named `parent#name`,
/// extracted into `out` like a file of its own, within `limits`. Returns where its documents
/// start in `out`.
fn extract_inner(
    parent: &SourceFile,
    name: &str,
    kind: FileKind,
    data: Vec<u8>,
    limits: &ExtractLimits,
    depth: usize,
    out: &mut Vec<Document>,
) -> usize {
    let first = out.len();
    let file = SourceFile {
        path: with_fragment(&parent.path, name),
        rel: with_fragment(&parent.rel, name),
        kind,
        size: data.len() as u64,
        mtime_ns: parent.mtime_ns,
    };
    if data.len() as u64 > limits.max_bytes {
        out.push(Document {
            file,
            result: Err(ExtractError::TooLarge {
                size: data.len() as u64,
                limit: limits.max_bytes,
            }),
        });
    } else {
        extract_into(file, data, limits, depth + 1, out);
    }
    first
}

/// `path#name`: the path of an attachment inside the file at `path`.
pub fn with_fragment(path: &std::path::Path, name: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push("#");
    s.push(name);
    PathBuf::from(s)
}

/// Reads and extracts one file. `max_bytes` guards against huge files; PDF and DOCX get
/// [`DEFAULT_EXTRACT_TIMEOUT`].
pub fn extract(file: &SourceFile, max_bytes: u64) -> Result<Extracted, ExtractError> {
    extract_with(
        file,
        &ExtractLimits {
            max_bytes,
            ..ExtractLimits::default()
        },
    )
}

/// blake3 of the file at `path`, hex: the content hash its reader records for it (the hash of
/// its whole bytes), without reading it as a document.
pub fn file_content_hash(path: &std::path::Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

/// Reads and extracts one file within `limits` (for an e-mail, the message only; see
/// [`extract_file`] for its attachments).
pub fn extract_with(file: &SourceFile, limits: &ExtractLimits) -> Result<Extracted, ExtractError> {
    if file.kind == FileKind::Pst {
        // Its own document, the list of its messages (read where it lies).
        let (export, content_hash) = outlook_messages(file, None, limits)?;
        return outlook_listing(&export, content_hash);
    }
    let bytes = read_limited(file, limits.max_bytes)?;
    extract_bytes(bytes, file.kind, limits)
}

/// Extracts the bytes of a file of `kind` within `limits`.
pub fn extract_bytes(
    bytes: Vec<u8>,
    kind: FileKind,
    limits: &ExtractLimits,
) -> Result<Extracted, ExtractError> {
    let content_hash = blake3::hash(&bytes).to_hex().to_string();
    let got = if bytes.is_empty() {
        // An empty file is an empty document, whatever its extension claims.
        return Err(ExtractError::Empty);
    } else if matches!(kind, FileKind::Text | FileKind::Markdown | FileKind::Html) {
        // No copy: UTF-8 text is moved into the document as it is.
        text_like(bytes, kind)?
    } else if kind == FileKind::Pdf {
        pdf_with_ocr(bytes, limits)?
    } else {
        extract_isolated(extractor_for(kind), kind, bytes, limits.timeout)?
    };
    finish(got, content_hash)
}

fn finish(got: ExtractedText, content_hash: String) -> Result<Extracted, ExtractError> {
    if got.text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(Extracted {
        text: got.text,
        title: got.title,
        decoded_from: got.decoded_from,
        content_hash,
        pages: got.pages,
        paragraphs: got.paragraphs,
        mail: got.mail,
        ocr_pages: got.ocr_pages,
        pages_needing_ocr: got.pages_needing_ocr,
    })
}

/// A PDF: the text layer of each page (isolated), OCR where asked and possible, then the
/// pages cleaned and joined ([`pdf::assemble`]).
fn pdf_with_ocr(bytes: Vec<u8>, limits: &ExtractLimits) -> Result<ExtractedText, ExtractError> {
    let bytes = Arc::new(bytes);
    let shared = Arc::clone(&bytes);
    let (mut pages, title) = match run_isolated(limits.timeout, move || {
        pdf::raw_pages(&shared, pdf::PdfBackend::default())
    }) {
        Ok(r) => r?,
        Err(i) => return Err(isolation_error(i, FileKind::Pdf)),
    };
    let blank: Vec<usize> = (0..pages.len())
        .filter(|&i| pages[i].trim().is_empty())
        .collect();
    let ocr = &limits.ocr;
    let wanted: Vec<usize> = match ocr.mode {
        OcrMode::Never => Vec::new(),
        OcrMode::Auto => blank.clone(),
        OcrMode::Always => (0..pages.len()).collect(),
    };
    let mut ocr_done = 0;
    let mut needing = 0;
    match &ocr.engine {
        Some(engine) if !wanted.is_empty() => {
            let numbers: Vec<usize> = wanted.iter().map(|i| i + 1).collect();
            for (i, got) in wanted.iter().zip(ocr_pages(engine, ocr, &bytes, &numbers)) {
                match got {
                    Ok(text) => pages[*i] = text,
                    Err(reason) => {
                        return Err(ExtractError::Ocr {
                            page: i + 1,
                            reason,
                        });
                    }
                }
            }
            ocr_done = wanted.len();
        }
        _ => needing = blank.len(),
    }
    if ocr_done == 0 && pages.iter().all(|p| p.trim().is_empty()) {
        return Err(ExtractError::NeedsOcr { pages: pages.len() });
    }
    let mut out = pdf::assemble(&pages);
    out.title = title;
    out.ocr_pages = ocr_done;
    out.pages_needing_ocr = needing;
    Ok(out)
}

fn isolation_error(i: Isolation, kind: FileKind) -> ExtractError {
    match i {
        Isolation::Panicked(message) => ExtractError::Panicked {
            kind: kind.name(),
            message: one_line(&message),
        },
        Isolation::TimedOut(after) => ExtractError::TimedOut(after),
        Isolation::NoThread(why) => {
            ExtractError::Read(format!("cannot start an extraction thread: {why}"))
        }
    }
}

/// Runs `extractor` on `bytes` on its own thread: a panic becomes
/// [`ExtractError::Panicked`], overrunning `timeout` becomes [`ExtractError::TimedOut`]
/// (the thread is abandoned). Never panics itself.
pub fn extract_isolated(
    extractor: &'static dyn Extractor,
    kind: FileKind,
    bytes: Vec<u8>,
    timeout: Duration,
) -> Result<ExtractedText, ExtractError> {
    match run_isolated(timeout, move || extractor.extract(&bytes)) {
        Ok(result) => result,
        Err(i) => Err(isolation_error(i, kind)),
    }
}

/// A message on one line, cut to 200 characters (panic messages can be long).
fn one_line(s: &str) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 200 {
        return flat;
    }
    let mut cut: String = flat.chars().take(199).collect();
    cut.push('…');
    cut
}

/// Text, Markdown, HTML or CSV from the file's bytes.
fn text_like(bytes: Vec<u8>, kind: FileKind) -> Result<ExtractedText, ExtractError> {
    let (raw, decoded_from) = decode_text(bytes, kind)?;
    if kind == FileKind::Csv {
        return Ok(ExtractedText {
            decoded_from,
            ..sheet::separated_values(&raw)
        });
    }
    let (text, title) = if kind == FileKind::Html {
        let title = html_title(&raw);
        (html_to_text(&raw)?, title)
    } else {
        (raw, None)
    };
    Ok(ExtractedText {
        text,
        title,
        decoded_from,
        ..ExtractedText::default()
    })
}

fn read_limited(file: &SourceFile, max_bytes: u64) -> Result<Vec<u8>, ExtractError> {
    let f = fs::File::open(&file.path).map_err(|e| ExtractError::Read(e.to_string()))?;
    let size = f
        .metadata()
        .map_err(|e| ExtractError::Read(e.to_string()))?
        .len();
    if size > max_bytes {
        return Err(ExtractError::TooLarge {
            size,
            limit: max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // Read at most one byte past the limit, in case the file grew after stat.
    f.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ExtractError::Read(e.to_string()))?;
    if bytes.len() as u64 > max_bytes {
        return Err(ExtractError::TooLarge {
            size: bytes.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

/// Decodes text: UTF-8 as is (no copy, no normalisation), UTF-16 by its byte-order mark,
/// anything else by the encoding `chardetng` guesses. Binary data is refused.
fn decode_text(
    bytes: Vec<u8>,
    kind: FileKind,
) -> Result<(String, Option<&'static str>), ExtractError> {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(&bytes)
        && enc != encoding_rs::UTF_8
    {
        let (text, _, _) = enc.decode(&bytes);
        return Ok((text.into_owned(), Some(enc.name())));
    }
    if looks_binary(&bytes) {
        return Err(ExtractError::Binary(kind.name()));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, None)),
        Err(err) => {
            let bytes = err.into_bytes();
            let mut detector = chardetng::EncodingDetector::new();
            detector.feed(&bytes, true);
            let enc = detector.guess(None, true);
            let (text, _, _) = enc.decode(&bytes);
            Ok((text.into_owned(), Some(enc.name())))
        }
    }
}

/// Binary if the first 8 KiB hold a NUL byte or mostly control characters.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    !head.is_empty() && control * 10 > head.len()
}

fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let end = open_end + lower[open_end..].find("</title>")?;
    let title = html
        .get(open_end..end)?
        .split_whitespace()
        .collect::<Vec<_>>();
    (!title.is_empty()).then(|| title.join(" "))
}

/// A saved web page's site navigation and page footer (menus, "Home | About | Sign in",
/// copyright lines): not the document, and found by searches as if they were.
const HTML_CHROME: &str = "nav, [role=navigation], body > footer, [role=contentinfo] \
                           { display: none }";

/// A page's banner (the site's name, "Contract Library > Templates"): a `header` beside the
/// page's `main`, or one marked as the banner. Without a `main`, a `header` at the top of the
/// body may be the document's own title block, and stays.
const HTML_BANNER: &str = "body > header, [role=banner] { display: none }";

/// Whether `html` has a `<main>` element (the page's dominant content, by the HTML standard).
fn has_main_element(html: &str) -> bool {
    html.to_ascii_lowercase()
        .match_indices("<main")
        .any(|(at, m)| {
            html[at + m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == '>' || c.is_ascii_whitespace())
        })
}

fn html_to_text(html: &str) -> Result<String, ExtractError> {
    // A very wide wrap width keeps each paragraph on one line; headings come out as `# ...`.
    let mut config = html2text::config::plain_no_decorate()
        .link_footnotes(false)
        .add_agent_css(HTML_CHROME)
        .map_err(|e| ExtractError::Html(e.to_string()))?;
    if has_main_element(html) {
        config = config
            .add_agent_css(HTML_BANNER)
            .map_err(|e| ExtractError::Html(e.to_string()))?;
    }
    config
        .string_from_read(html.as_bytes(), 100_000)
        .map_err(|e| ExtractError::Html(e.to_string()))
        .map(|t| {
            // Trailing spaces of wrapped lines carry no meaning.
            t.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn mail_containers_attached_too_deep_are_left_out_and_other_attachments_kept() {
        let attachments = || {
            [
                "a.txt",
                "inner.eml",
                "old.msg",
                "box.mbox",
                "archive.pst",
                "x.unknown",
            ]
            .map(|n| (n.to_string(), b"bytes".to_vec()))
            .to_vec()
        };
        let names = |depth| -> Vec<String> {
            attached_documents(attachments(), depth)
                .into_iter()
                .map(|(n, _, _)| n)
                .collect()
        };
        assert_eq!(
            names(0),
            ["a.txt", "inner.eml", "old.msg", "box.mbox", "archive.pst"]
        );
        assert_eq!(names(MAX_MAIL_DEPTH - 1), ["a.txt"]);
    }

    fn source(dir: &Path, name: &str, bytes: &[u8]) -> SourceFile {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        SourceFile {
            kind: FileKind::from_path(&path).unwrap(),
            path,
            rel: PathBuf::from(name),
            size: bytes.len() as u64,
            mtime_ns: 0,
        }
    }

    #[test]
    fn utf8_text_is_the_files_own_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let text = "  § 7.2  Deposit — “Tenant”\r\nline two\n";
        let got = extract(&source(dir.path(), "a.txt", text.as_bytes()), 1 << 20).unwrap();
        assert_eq!(got.text, text);
        assert_eq!(got.decoded_from, None);
        assert_eq!(
            got.content_hash,
            blake3::hash(text.as_bytes()).to_hex().as_str()
        );
    }

    #[test]
    fn latin1_text_is_decoded_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = b"Der Mieter zahlt die Kaution f\xfcr die Wohnung an den Vermieter.";
        let got = extract(&source(dir.path(), "de.txt", bytes), 1 << 20).unwrap();
        assert!(got.text.contains("für"), "{}", got.text);
        assert!(got.decoded_from.is_some());
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = vec![0xFF, 0xFE];
        for u in "Lease".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let got = extract(&source(dir.path(), "u.txt", &bytes), 1 << 20).unwrap();
        assert_eq!(got.text, "Lease");
    }

    #[test]
    fn binary_empty_and_oversized_files_are_refused_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let bin = source(dir.path(), "x.txt", &[0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]);
        assert_eq!(extract(&bin, 1 << 20), Err(ExtractError::Binary("text")));
        let empty = source(dir.path(), "e.md", b" \n\t\n");
        assert_eq!(extract(&empty, 1 << 20), Err(ExtractError::Empty));
        let big = source(dir.path(), "b.txt", b"0123456789");
        assert!(matches!(
            extract(&big, 5),
            Err(ExtractError::TooLarge { size: 10, limit: 5 })
        ));
    }

    #[test]
    fn html_keeps_headings_and_text_and_drops_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let html = "<html><head><title>Privacy  Policy</title><style>p{color:red}</style>\
                    <script>var secret = 1;</script></head><body><h1>Privacy Policy</h1>\
                    <h2>1. Data We Collect</h2><p>We collect your <b>email</b> address.</p></body></html>";
        let got = extract(&source(dir.path(), "p.html", html.as_bytes()), 1 << 20).unwrap();
        assert_eq!(got.title.as_deref(), Some("Privacy Policy"));
        assert!(got.text.contains("# Privacy Policy"), "{}", got.text);
        assert!(got.text.contains("## 1. Data We Collect"), "{}", got.text);
        assert!(
            got.text.contains("We collect your email address."),
            "{}",
            got.text
        );
        assert!(!got.text.contains("secret"), "{}", got.text);
        assert!(!got.text.contains("color"), "{}", got.text);
    }

    #[test]
    fn html_site_navigation_and_page_footer_are_not_the_document() {
        let dir = tempfile::tempdir().unwrap();
        let html = "<html><body><nav>Home | About | Sign in</nav>\
                    <div role=\"navigation\"><a href=\"/\">Back to top</a></div>\
                    <main><h1>Terms</h1><p>Disputes go to arbitration.</p>\
                    <article><p>Clause text.</p><footer>Signed by the Board.</footer></article>\
                    </main><footer>© 2025 Quillstone Labs</footer></body></html>";
        let got = extract(&source(dir.path(), "t.html", html.as_bytes()), 1 << 20).unwrap();
        for chrome in ["Home", "Back to top", "Quillstone"] {
            assert!(!got.text.contains(chrome), "{chrome}: {}", got.text);
        }
        // The document's text stays, a footer inside it too.
        for kept in [
            "# Terms",
            "Disputes go to arbitration.",
            "Signed by the Board.",
        ] {
            assert!(got.text.contains(kept), "{kept}: {}", got.text);
        }
        // The page's banner beside its main content goes; without a main, a header at the
        // top may be the document's own title block, and stays.
        let banner = "<html><body><header><p>Contract Library &gt; Templates</p></header>\
                      <MAIN class=\"doc\"><h1>Agreement</h1><header><p>Recitals</p></header>\
                      <p>The Contractor is independent.</p></MAIN></body></html>";
        let got = extract(&source(dir.path(), "b.html", banner.as_bytes()), 1 << 20).unwrap();
        assert!(!got.text.contains("Contract Library"), "{}", got.text);
        for kept in ["# Agreement", "Recitals", "The Contractor is independent."] {
            assert!(got.text.contains(kept), "{kept}: {}", got.text);
        }
        let title_block = "<html><body><header><h1>Master Services Agreement</h1></header>\
                           <p>The parties agree.</p></body></html>";
        let got = extract(
            &source(dir.path(), "m.html", title_block.as_bytes()),
            1 << 20,
        )
        .unwrap();
        assert!(
            got.text.contains("Master Services Agreement"),
            "{}",
            got.text
        );
        assert!(!has_main_element("<mainframe>x</mainframe>"));
    }

    #[test]
    fn pdf_and_docx_are_dispatched_and_keep_their_structure() {
        use crate::ingest::fixtures::{document_xml, docx, lines, p, pdf, styled};
        let dir = tempfile::tempdir().unwrap();
        let bytes = pdf(&[lines(&["First page."]), lines(&["Second page."])]);
        let got = extract(&source(dir.path(), "a.pdf", &bytes), 1 << 20).unwrap();
        assert_eq!(got.text, "First page.\n\nSecond page.");
        assert_eq!(got.pages, vec![0..11, 13..25]);
        assert_eq!(got.content_hash, blake3::hash(&bytes).to_hex().as_str());
        let body = [styled("Heading1", "Terms"), p("Pay rent.")].concat();
        let bytes = docx(&document_xml(&body), &[]);
        let got = extract(&source(dir.path(), "b.docx", &bytes), 1 << 20).unwrap();
        assert_eq!(got.text, "# Terms\n\nPay rent.");
        assert_eq!(got.paragraphs, vec![0..7, 9..18]);
    }

    #[test]
    fn a_parser_panic_is_caught_and_reported() {
        use crate::ingest::fixtures::{PdfOptions, lines, pdf_with};
        let dir = tempfile::tempdir().unwrap();
        // pdf-extract unwraps the page's /MediaBox.
        let bytes = pdf_with(
            &[lines(&["text"])],
            &PdfOptions {
                no_media_box: true,
                ..PdfOptions::default()
            },
        );
        match extract(&source(dir.path(), "x.pdf", &bytes), 1 << 20) {
            Err(e @ ExtractError::Panicked { kind: "pdf", .. }) => {
                let reason = e.to_string();
                assert!(reason.contains("panic: MediaBox"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_attachment_or_a_mailbox_message_is_taken_out_byte_for_byte_under_its_indexed_name() {
        use crate::ingest::fixtures::{eml, lines, mbox, pdf};
        let dir = tempfile::tempdir().unwrap();
        let lease = pdf(&[lines(&["Rent is due monthly."])]);
        let notes = b"Second notes.".to_vec();
        let with = |subject: &str, attachments: &[(&str, &str, Vec<u8>)]| {
            eml(
                &[("From", "ann@firm.example"), ("Subject", subject)],
                "text/plain",
                "See attached.",
                attachments,
            )
        };
        let first = with(
            "Lease",
            &[
                ("lease.pdf", "application/pdf", lease.clone()),
                ("photo.jpg", "image/jpeg", vec![0xFF, 0xD8, 0xFF]),
                ("notes.txt", "text/plain", b"First notes.".to_vec()),
                ("notes.txt", "text/plain", notes.clone()),
            ],
        );
        let second = with("Notes", &[]);
        let limits = ExtractLimits::default();
        let mail = source(dir.path(), "mail.eml", &first);
        // The names are those the index gave the documents.
        let names: Vec<String> = extract_file(&mail, &limits)
            .iter()
            .map(|d| d.file.rel.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "mail.eml",
                "mail.eml#lease.pdf",
                "mail.eml#notes.txt",
                "mail.eml#2-notes.txt"
            ]
        );
        assert_eq!(inner_bytes(&mail, "lease.pdf", &limits).unwrap(), lease);
        assert_eq!(inner_bytes(&mail, "2-notes.txt", &limits).unwrap(), notes);
        let box_file = source(dir.path(), "inbox.mbox", &mbox(&[second, first]));
        assert_eq!(
            inner_bytes(&box_file, "0002.eml#lease.pdf", &limits).unwrap(),
            lease
        );
        let message = inner_bytes(&box_file, "0001.eml", &limits).unwrap();
        assert!(String::from_utf8_lossy(&message).contains("Subject: Notes"));
        for missing in ["photo.jpg", "0003.eml", "0002.eml#deed.pdf"] {
            let file = if missing.contains(".eml") {
                &box_file
            } else {
                &mail
            };
            let e = inner_bytes(file, missing, &limits).unwrap_err();
            assert!(e.to_string().contains("holds no document named"), "{e}");
        }
    }

    #[test]
    fn an_email_and_each_supported_attachment_are_documents_of_their_own() {
        use crate::ingest::fixtures::{document_xml, docx, eml, lines, p, pdf};
        let dir = tempfile::tempdir().unwrap();
        let inner = eml(
            &[
                ("From", "clerk@court.example"),
                ("Subject", "Filing receipt"),
            ],
            "text/plain",
            "Your motion was filed.",
            &[],
        );
        let bytes = eml(
            &[
                ("From", "Ann Lee <ann@firm.example>"),
                ("To", "bob@client.example"),
                ("Cc", "records@firm.example"),
                ("Subject", "Signed lease"),
                ("Date", "Tue, 3 Mar 2020 10:15:00 +0000"),
            ],
            "text/html",
            "<p>Please find the <b>signed</b> lease attached.</p>",
            &[
                (
                    "lease.pdf",
                    "application/pdf",
                    pdf(&[lines(&["Rent is due monthly."]), lines(&["Deposit terms."])]),
                ),
                (
                    "terms.docx",
                    "application/octet-stream",
                    docx(&document_xml(&p("Governing law: Ohio.")), &[]),
                ),
                ("photo.jpg", "image/jpeg", vec![0xFF, 0xD8, 0xFF]),
                ("receipt.eml", "message/rfc822", inner),
            ],
        );
        let file = source(dir.path(), "mail.eml", &bytes);
        let docs = extract_file(&file, &ExtractLimits::default());
        let rels: Vec<String> = docs
            .iter()
            .map(|d| d.file.rel.display().to_string())
            .collect();
        assert_eq!(
            rels,
            [
                "mail.eml",
                "mail.eml#lease.pdf",
                "mail.eml#terms.docx",
                "mail.eml#receipt.eml"
            ]
        );
        let mail = docs[0].result.as_ref().unwrap();
        assert!(
            mail.text
                .starts_with("# Signed lease\nFrom: Ann Lee <ann@firm.example>\n"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("Cc: records@firm.example\n"),
            "{}",
            mail.text
        );
        assert!(
            mail.text.contains("Please find the signed lease attached."),
            "{}",
            mail.text
        );
        assert!(
            mail.text
                .contains("Attachments: lease.pdf, terms.docx, photo.jpg, receipt.eml")
        );
        let info = mail.mail.as_ref().unwrap();
        assert_eq!(info.date.as_deref(), Some("2020-03-03T10:15:00Z"));
        assert_eq!(info.from.as_deref(), Some("Ann Lee <ann@firm.example>"));
        let lease = docs[1].result.as_ref().unwrap();
        assert_eq!(docs[1].file.kind, FileKind::Pdf);
        assert_eq!(lease.text, "Rent is due monthly.\n\nDeposit terms.");
        assert_eq!(lease.pages.len(), 2);
        assert_eq!(docs[1].file.path, dir.path().join("mail.eml#lease.pdf"));
        assert_eq!(
            docs[2].result.as_ref().unwrap().text,
            "Governing law: Ohio."
        );
        let receipt = docs[3].result.as_ref().unwrap();
        assert!(
            receipt.text.contains("Your motion was filed."),
            "{}",
            receipt.text
        );
        assert_eq!(
            receipt.title.as_deref(),
            Some("Filing receipt (from clerk@court.example)")
        );
        assert_eq!(
            crate::ingest::containers_of(&docs[3].file.rel).collect::<Vec<_>>(),
            [PathBuf::from("mail.eml")]
        );
    }

    #[test]
    fn malformed_mail_is_skipped_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let file = source(dir.path(), "bad.eml", &[0, 159, 146, 150, 0, 0]);
        let docs = extract_file(&file, &ExtractLimits::default());
        assert_eq!(docs.len(), 1);
        let err = docs[0].result.as_ref().unwrap_err();
        assert!(err.to_string().contains("malformed e-mail"), "{err}");
    }

    #[test]
    fn scanned_pages_are_read_by_ocr_and_cached_or_counted_as_needing_it() {
        use crate::ingest::fixtures::{lines, scanned_pdf};
        use crate::ingest::ocr::{OcrCache, OcrMode, OcrOptions};
        let Some(engine) = crate::ingest::ocr::OcrEngine::detect(crate::ingest::ocr::DEFAULT_LANG)
        else {
            assert!(
                std::env::var("LEXSEARCH_REQUIRE_OCR").as_deref() != Ok("1"),
                "LEXSEARCH_REQUIRE_OCR=1 but tesseract or pdftoppm is not installed"
            );
            eprintln!("SKIPPED: tesseract not installed");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let bytes = scanned_pdf(&[
            lines(&["The tenant shall pay the security deposit."]),
            lines(&["Arbitration takes place in Columbus."]),
        ])
        .unwrap();
        // Without OCR: the pages are counted, the file has no text.
        let off = ExtractLimits::default();
        assert_eq!(
            extract_bytes(bytes.clone(), FileKind::Pdf, &off),
            Err(ExtractError::NeedsOcr { pages: 2 })
        );
        let cache = OcrCache::new(dir.path().join("cache"));
        let pages_seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = Arc::clone(&pages_seen);
        let on = ExtractLimits {
            ocr: OcrOptions {
                mode: OcrMode::Auto,
                engine: Some(engine),
                cache: Some(cache.clone()),
                threads: 2,
                on_page: Some(Arc::new(move || {
                    seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                })),
                ..OcrOptions::default()
            },
            ..ExtractLimits::default()
        };
        let got = extract_bytes(bytes.clone(), FileKind::Pdf, &on).unwrap();
        assert_eq!(got.ocr_pages, 2);
        assert_eq!(pages_seen.load(std::sync::atomic::Ordering::Relaxed), 2);
        assert_eq!(got.pages.len(), 2);
        let page2 = &got.text[got.pages[1].clone()];
        assert!(page2.contains("Arbitration"), "{}", got.text);
        assert!(
            got.text[got.pages[0].clone()].contains("security deposit"),
            "{}",
            got.text
        );
        // Second run: every page comes from the cache, keyed by the page image (marked
        // here, to see that Tesseract did not run again).
        let mut cached = 0;
        for d in std::fs::read_dir(cache.dir()).unwrap() {
            for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
                std::fs::write(f.unwrap().path(), "Marked cached page.").unwrap();
                cached += 1;
            }
        }
        assert_eq!(cached, 2);
        let again = extract_bytes(bytes, FileKind::Pdf, &on).unwrap();
        assert_eq!(again.text, "Marked cached page.\n\nMarked cached page.");

        // `always`: a page with a text layer is read by OCR too (no cache here).
        let always = ExtractLimits {
            ocr: OcrOptions {
                mode: OcrMode::Always,
                cache: None,
                on_page: None,
                ..on.ocr.clone()
            },
            ..ExtractLimits::default()
        };
        let text_pdf = crate::ingest::fixtures::pdf(&[lines(&["Governing law is Ohio."])]);
        let got = extract_bytes(text_pdf.clone(), FileKind::Pdf, &always).unwrap();
        assert_eq!(got.ocr_pages, 1);
        assert!(got.text.contains("Governing law"), "{}", got.text);
        let auto = extract_bytes(text_pdf, FileKind::Pdf, &on).unwrap();
        assert_eq!(auto.ocr_pages, 0);
    }

    #[test]
    fn empty_pdf_and_docx_files_are_empty_documents() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["e.pdf", "e.docx"] {
            assert_eq!(
                extract(&source(dir.path(), name, b""), 1 << 20),
                Err(ExtractError::Empty)
            );
        }
    }
}

/// Our own text decoding and HTML title scanning, fuzzed directly (outside any isolation, so
/// a panic fails the test).
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// No byte-order mark, and those of UTF-8, UTF-16 LE and UTF-16 BE.
    const BOMS: &[&[u8]] = &[b"", b"\xEF\xBB\xBF", b"\xFF\xFE", b"\xFE\xFF"];

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_text_decoding_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
            bom in proptest::sample::select(BOMS),
        ) {
            let mut all = bom.to_vec();
            all.extend_from_slice(&bytes);
            let _ = looks_binary(&all);
            for kind in [FileKind::Text, FileKind::Html] {
                if let Ok(x) = text_like(all.clone(), kind) {
                    let _ = x.text.len();
                }
            }
        }

        #[test]
        fn fuzz_html_title_never_panics(
            html in proptest::collection::vec(proptest::sample::select(&[
                "<title", "<TITLE>", "</title>", "</TITLE>", ">", "<", "é", "İ", "ß", " ", "x",
                "\u{212A}", "<title x=\"é\">",
            ][..]), 0..20).prop_map(|p| p.concat()),
        ) {
            let _ = html_title(&html);
        }
    }
}
