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
//!
//! PDF and DOCX are parsed by third-party crates that were not written for hostile input, so
//! [`extract`] runs them through [`super::isolate`]: on their own thread, with panics caught
//! and a time budget ([`DEFAULT_EXTRACT_TIMEOUT`]). docs/formats.md has the details.

use std::fs;
use std::io::Read;
use std::time::Duration;

use super::isolate::{Isolation, run_isolated};
use super::walk::{FileKind, SourceFile};
use super::{docx, pdf};

// The shared types live in [`super::types`] (so that the formats need not import this
// module); they are re-exported here, where callers look for them.
pub use super::types::{ExtractError, Extracted, ExtractedText, Extractor};

/// Default largest file that is read, in bytes.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// Default time budget for extracting one PDF or DOCX file.
pub const DEFAULT_EXTRACT_TIMEOUT: Duration = Duration::from_secs(30);

/// Plain text, Markdown and HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextExtractor {
    /// Which of the three; HTML is rendered, the others are taken as they are.
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
    match kind {
        FileKind::Text => &TEXT,
        FileKind::Markdown => &MARKDOWN,
        FileKind::Html => &HTML,
        FileKind::Pdf => &pdf::PdfExtractor,
        FileKind::Docx => &docx::DocxExtractor,
    }
}

/// Limits on reading and extracting one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Files larger than this are refused.
    pub max_bytes: u64,
    /// Time budget of an isolated (PDF, DOCX) extraction.
    pub timeout: Duration,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_bytes: DEFAULT_MAX_FILE_BYTES,
            timeout: DEFAULT_EXTRACT_TIMEOUT,
        }
    }
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

/// Reads and extracts one file within `limits`.
pub fn extract_with(file: &SourceFile, limits: &ExtractLimits) -> Result<Extracted, ExtractError> {
    let bytes = read_limited(file, limits.max_bytes)?;
    let content_hash = blake3::hash(&bytes).to_hex().to_string();
    let got = if bytes.is_empty() {
        // An empty file is an empty document, whatever its extension claims.
        return Err(ExtractError::Empty);
    } else if matches!(
        file.kind,
        FileKind::Text | FileKind::Markdown | FileKind::Html
    ) {
        // No copy: UTF-8 text is moved into the document as it is.
        text_like(bytes, file.kind)?
    } else {
        extract_isolated(extractor_for(file.kind), file.kind, bytes, limits.timeout)?
    };
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
    })
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
        Err(Isolation::Panicked(message)) => Err(ExtractError::Panicked {
            kind: kind.name(),
            message: one_line(&message),
        }),
        Err(Isolation::TimedOut(after)) => Err(ExtractError::TimedOut(after)),
        Err(Isolation::NoThread(why)) => Err(ExtractError::Read(format!(
            "cannot start an extraction thread: {why}"
        ))),
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

/// Text, Markdown or HTML from the file's bytes.
fn text_like(bytes: Vec<u8>, kind: FileKind) -> Result<ExtractedText, ExtractError> {
    let (raw, decoded_from) = decode_text(bytes, kind)?;
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
        pages: Vec::new(),
        paragraphs: Vec::new(),
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
    f.take(max_bytes + 1)
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

fn html_to_text(html: &str) -> Result<String, ExtractError> {
    // A very wide wrap width keeps each paragraph on one line; headings come out as `# ...`.
    html2text::config::plain_no_decorate()
        .link_footnotes(false)
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

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fuzz_text_decoding_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
            bom in proptest::sample::select(&[&b""[..], b"\xEF\xBB\xBF", b"\xFF\xFE", b"\xFE\xFF"][..]),
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
