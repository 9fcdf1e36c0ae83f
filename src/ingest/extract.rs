//! Turning a file into text.
//!
//! For UTF-8 text and Markdown the extracted text *is* the file's bytes, so byte offsets in the
//! index point into the file exactly (evaluation against labelled spans relies on it). Text in
//! another encoding is decoded to UTF-8 (offsets then refer to the decoded text, and the
//! document records which encoding it was). HTML is rendered to text with its headings kept
//! as Markdown `#` lines, so the chunker sees the structure.

use std::fs;
use std::io::Read;

use super::walk::{FileKind, SourceFile};

/// Default largest file that is read, in bytes.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 200 * 1024 * 1024;

/// The text of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The text; byte offsets of chunks refer to it.
    pub text: String,
    /// A title for the document, when the format carries one (HTML `<title>`).
    pub title: Option<String>,
    /// The encoding the file was decoded from, when it was not UTF-8.
    pub decoded_from: Option<&'static str>,
    /// blake3 hash of the file's bytes, hex.
    pub content_hash: String,
    /// Byte range of each page in `text`, in order (empty for formats without pages).
    pub pages: Vec<std::ops::Range<usize>>,
    /// Byte range of each numbered paragraph in `text`, in order (empty for formats that do
    /// not number paragraphs; DOCX does).
    pub paragraphs: Vec<std::ops::Range<usize>>,
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
}

/// Reads and extracts one file. `max_bytes` guards against huge files.
pub fn extract(file: &SourceFile, max_bytes: u64) -> Result<Extracted, ExtractError> {
    let bytes = read_limited(file, max_bytes)?;
    let content_hash = blake3::hash(&bytes).to_hex().to_string();
    let (text, title, decoded_from) = match file.kind {
        FileKind::Text | FileKind::Markdown => {
            let (text, enc) = decode_text(bytes, file.kind)?;
            (text, None, enc)
        }
        FileKind::Html => {
            let (raw, enc) = decode_text(bytes, file.kind)?;
            let title = html_title(&raw);
            (html_to_text(&raw)?, title, enc)
        }
    };
    if text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(Extracted {
        text,
        title,
        decoded_from,
        content_hash,
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
}
