//! PDF and DOCX files built in code, for tests (no external tools needed).
//!
//! Shared by the integration tests (through `tests/common`) and the unit tests of
//! `src/ingest/*.rs` (through `#[path]`), so both test the same fixtures, built here or
//! committed under `tests/fixtures`.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Cursor, Read, Write};

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

/// The bytes of the committed fixture `tests/fixtures/FOLDER/NAME` (files other programs
/// wrote, rebuilt by the `scripts/make-*-fixtures` scripts).
pub fn committed(folder: &str, name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(folder)
            .join(name),
    )
    .unwrap()
}

/// Options for [`pdf_with`].
#[derive(Debug, Clone, Default)]
pub struct PdfOptions<'a> {
    /// `/Title` in the information dictionary.
    pub title: Option<&'a str>,
    /// Encrypt with this user password (RC4, 128-bit).
    pub user_password: Option<&'a str>,
    /// Leave out the page's `/MediaBox` (a required entry: pdf-extract panics without it).
    pub no_media_box: bool,
}

/// A PDF whose pages hold the given lines, top to bottom, in 11 pt Helvetica (14 pt apart).
/// An empty line leaves a gap, which extractors read as a paragraph break.
pub fn pdf(pages: &[Vec<String>]) -> Vec<u8> {
    pdf_with(pages, &PdfOptions::default())
}

/// [`pdf`] with options.
pub fn pdf_with(pages: &[Vec<String>], opts: &PdfOptions<'_>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = helvetica(&mut doc);
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut kids = Vec::new();
    for lines in pages {
        let content = Content {
            operations: text_ops(lines),
        };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let mut page = dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources_id,
        };
        if !opts.no_media_box {
            page.set("MediaBox", vec![0.into(), 0.into(), 612.into(), 792.into()]);
        }
        kids.push(doc.add_object(page).into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    if let Some(title) = opts.title {
        let info = doc.add_object(dictionary! {
            "Title" => Object::string_literal(title),
        });
        doc.trailer.set("Info", info);
    }
    if let Some(password) = opts.user_password {
        // The file identifier is part of the encryption key.
        let id = Object::string_literal(b"0123456789abcdef".to_vec());
        doc.trailer.set("ID", vec![id.clone(), id]);
        let version = lopdf::EncryptionVersion::V2 {
            document: &doc,
            owner_password: "owner",
            user_password: password,
            key_length: 128,
            permissions: lopdf::Permissions::all(),
        };
        let state = lopdf::EncryptionState::try_from(version).unwrap();
        doc.encrypt(&state).unwrap();
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// Adds Helvetica in WinAnsiEncoding (a standard font: no file embedded); its id.
fn helvetica(doc: &mut Document) -> lopdf::ObjectId {
    doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    })
}

/// Encodes text for a WinAnsiEncoding font (Latin-1 plus a few typographic characters).
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{2014}' => 0x97,
            '\u{2013}' => 0x96,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            c if (c as u32) < 256 => c as u8,
            _ => b'?',
        })
        .collect()
}

/// Lines from string slices (for readable fixtures).
pub fn lines(ls: &[&str]) -> Vec<String> {
    ls.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// DOCX

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// Escapes text for XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A body paragraph.
pub fn p(text: &str) -> String {
    format!(
        r#"<w:p><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        esc(text)
    )
}

/// A paragraph with a style ("Heading1", "Title", ...).
pub fn styled(style: &str, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{}</w:t></w:r></w:p>"#,
        esc(text)
    )
}

/// A list item of list `num_id` at level `ilvl`.
pub fn item(num_id: u32, ilvl: u32, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr><w:r><w:t>{}</w:t></w:r></w:p>"#,
        esc(text)
    )
}

/// A paragraph with a footnote reference after `before`, then `after`.
pub fn with_footnote(before: &str, id: u32, after: &str) -> String {
    format!(
        r#"<w:p><w:r><w:t xml:space="preserve">{}</w:t></w:r><w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="{id}"/></w:r><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
        esc(before),
        esc(after)
    )
}

/// A table; each row a list of cell texts.
pub fn table(rows: &[&[&str]]) -> String {
    let mut x = String::from("<w:tbl><w:tblPr/>");
    for row in rows {
        x.push_str("<w:tr>");
        for cell in *row {
            x.push_str(&format!("<w:tc>{}</w:tc>", p(cell)));
        }
        x.push_str("</w:tr>");
    }
    x.push_str("</w:tbl>");
    x
}

/// word/document.xml around the given body content.
pub fn document_xml(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>{body}<w:sectPr/></w:body></w:document>"#
    )
}

/// word/footnotes.xml with the two separator notes Word writes, then the given notes.
pub fn footnotes_xml(notes: &[(u32, &str)]) -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:footnotes xmlns:w="{W}"><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>"#
    );
    for (id, text) in notes {
        x.push_str(&format!(
            r#"<w:footnote w:id="{id}"><w:p><w:r><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> {}</w:t></w:r></w:p></w:footnote>"#,
            esc(text)
        ));
    }
    x.push_str("</w:footnotes>");
    x
}

/// A header or footer part with one paragraph.
pub fn header_xml(root: &str, text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:{root} xmlns:w="{W}">{}</w:{root}>"#,
        p(text)
    )
}

/// word/styles.xml with localised style ids (as a German Word writes them), so that
/// headings must be found by their built-in names.
pub fn styles_xml() -> String {
    let mut x = format!(r#"<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W}">"#);
    x.push_str(r#"<w:style w:type="paragraph" w:default="1" w:styleId="Standard"><w:name w:val="Normal"/></w:style>"#);
    x.push_str(r#"<w:style w:type="paragraph" w:styleId="Titel"><w:name w:val="Title"/><w:basedOn w:val="Standard"/></w:style>"#);
    for n in 1..=9 {
        x.push_str(&format!(
            r#"<w:style w:type="paragraph" w:styleId="berschrift{n}"><w:name w:val="heading {n}"/><w:basedOn w:val="Standard"/><w:pPr><w:outlineLvl w:val="{}"/></w:pPr></w:style>"#,
            n - 1
        ));
    }
    x.push_str(r#"<w:style w:type="paragraph" w:styleId="Klausel"><w:name w:val="Klausel"/><w:basedOn w:val="berschrift2"/></w:style>"#);
    x.push_str("</w:styles>");
    x
}

/// word/numbering.xml: list 1 is legal numbering "1." / "1.1" / "(a)", list 2 bullets.
pub fn numbering_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:numbering xmlns:w="{W}">
<w:abstractNum w:abstractNumId="10">
 <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
 <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>
 <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="20">
 <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="&#61623;"/></w:lvl>
</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="20"/></w:num>
</w:numbering>"#
    )
}

/// docProps/core.xml with a title.
pub fn core_xml(title: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title></cp:coreProperties>"#,
        esc(title)
    )
}

/// The package boilerplate: content types and the root relationship.
fn boilerplate() -> Vec<(String, String)> {
    vec![
        (
            "[Content_Types].xml".into(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#.into(),
        ),
        (
            "_rels/.rels".into(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#.into(),
        ),
    ]
}

/// A zip archive of the given entries (deflated).
pub fn zip(entries: &[(String, String)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A DOCX with the given word/document.xml and extra parts (name, content).
pub fn docx(document: &str, parts: &[(&str, String)]) -> Vec<u8> {
    let mut entries = boilerplate();
    entries.push(("word/document.xml".into(), document.to_string()));
    for (name, body) in parts {
        entries.push((name.to_string(), body.clone()));
    }
    zip(&entries)
}

/// Writes a "DOCX" whose word/document.xml unpacks to `bytes` zero bytes, streaming (the
/// archive is small; nothing of that size is ever held in memory).
pub fn write_zip_bomb(path: &std::path::Path, bytes: u64) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(bytes >= u64::from(u32::MAX));
    for (name, body) in boilerplate() {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.start_file("word/document.xml", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        w.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    w.finish().unwrap();
}

// E-mail

/// Base64 with line breaks every 76 characters, as MIME writes it.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in bytes.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An attachment: file name, MIME type, bytes.
pub type Attachment<'a> = (&'a str, &'a str, Vec<u8>);

/// An mbox mailbox of `messages` (RFC 822 bytes, as [`eml`] writes them): each after a
/// `From ` separator line, its own lines that start with `From ` quoted as `>From `, as mail
/// programs write them.
pub fn mbox(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = String::new();
    for m in messages {
        out.push_str("From MAILER-DAEMON Tue Mar  3 10:15:00 2020\n");
        for line in String::from_utf8_lossy(m).split_inclusive('\n') {
            let line = line.replace("\r\n", "\n");
            if line.starts_with("From ") {
                out.push('>');
            }
            out.push_str(&line);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// An RFC 822 message with the given headers (`From`, `To`, `Subject`, ...), a body of the
/// given MIME type (`text/plain` or `text/html`), and base64 attachments.
pub fn eml(
    headers: &[(&str, &str)],
    body_type: &str,
    body: &str,
    attachments: &[Attachment<'_>],
) -> Vec<u8> {
    let mut m = String::new();
    for (k, v) in headers {
        m.push_str(&format!("{k}: {v}\r\n"));
    }
    m.push_str("MIME-Version: 1.0\r\n");
    if attachments.is_empty() {
        m.push_str(&format!(
            "Content-Type: {body_type}; charset=utf-8\r\n\r\n{body}\r\n"
        ));
        return m.into_bytes();
    }
    let b = "==lexsearch-boundary==";
    m.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{b}\"\r\n\r\n"
    ));
    m.push_str(&format!(
        "--{b}\r\nContent-Type: {body_type}; charset=utf-8\r\n\r\n{body}\r\n"
    ));
    for (name, ctype, bytes) in attachments {
        if *ctype == "message/rfc822" {
            m.push_str(&format!(
                "--{b}\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\r\n{}\r\n",
                String::from_utf8_lossy(bytes)
            ));
        } else {
            m.push_str(&format!(
                "--{b}\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                base64(bytes)
            ));
        }
    }
    m.push_str(&format!("--{b}--\r\n"));
    m.into_bytes()
}

// Scanned PDFs (image only, no text layer)

/// The drawing operations of a page holding `lines` (Helvetica `F1`, as [`pdf`] lays them out).
fn text_ops(lines: &[String]) -> Vec<Operation> {
    let mut ops = Vec::new();
    let mut y = 760;
    for line in lines {
        if !line.is_empty() {
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Tf", vec!["F1".into(), 11.into()]));
            ops.push(Operation::new("Td", vec![72.into(), y.into()]));
            ops.push(Operation::new(
                "Tj",
                vec![Object::string_literal(win_ansi(line))],
            ));
            ops.push(Operation::new("ET", vec![]));
        }
        y -= 14;
    }
    ops
}

/// A one-page PDF: `title` across the top, then two columns of lines (left at x 72, right at
/// x 320, 11 pt Helvetica, 14 pt apart), drawn a column at a time or, with `by_rows`, each
/// line across the page (left part, then right), as some producers draw them.
pub fn two_column_pdf(title: &str, left: &[&str], right: &[&str], by_rows: bool) -> Vec<u8> {
    let show = |x: i64, y: i64, text: &str| {
        vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 11.into()]),
            Operation::new("Td", vec![x.into(), y.into()]),
            Operation::new("Tj", vec![Object::string_literal(win_ansi(text))]),
            Operation::new("ET", vec![]),
        ]
    };
    let y = |k: usize| 730 - 14 * k as i64;
    let mut ops = show(72, 760, title);
    if by_rows {
        for k in 0..left.len().max(right.len()) {
            if let Some(l) = left.get(k) {
                ops.extend(show(72, y(k), l));
            }
            if let Some(r) = right.get(k) {
                ops.extend(show(320, y(k), r));
            }
        }
    } else {
        for (k, l) in left.iter().enumerate() {
            ops.extend(show(72, y(k), l));
        }
        for (k, r) in right.iter().enumerate() {
            ops.extend(show(320, y(k), r));
        }
    }
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = helvetica(&mut doc);
    let resources = dictionary! { "Font" => dictionary! { "F1" => font_id } };
    let page = letter_page(&mut doc, pages_id, ops, resources);
    finish(doc, pages_id, vec![page])
}

/// Adds a US Letter page of `pages_id` drawn by `ops` with `resources`; its reference.
fn letter_page(
    doc: &mut Document,
    pages_id: lopdf::ObjectId,
    ops: Vec<Operation>,
    resources: lopdf::Dictionary,
) -> Object {
    let content = Content { operations: ops };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page = dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        "Resources" => resources,
    };
    doc.add_object(page).into()
}

/// A PDF whose pages are greyscale images (`width`, `height`, one byte per pixel), each
/// drawn over a whole US Letter page, with no text layer.
pub fn image_pdf(pages: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    text_then_image_pdf(&[], pages)
}

/// A PDF whose first pages hold the `text` lines (as [`pdf`]), followed by pages that are
/// the greyscale `images` (as [`image_pdf`]): a document partly scanned.
pub fn text_then_image_pdf(text: &[Vec<String>], images: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    if !text.is_empty() {
        let font_id = helvetica(&mut doc);
        for lines in text {
            let fonts = dictionary! { "Font" => dictionary! { "F1" => font_id } };
            kids.push(letter_page(&mut doc, pages_id, text_ops(lines), fonts));
        }
    }
    for (w, h, gray) in images {
        let mut image = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => i64::from(*w),
                "Height" => i64::from(*h),
                "ColorSpace" => "DeviceGray",
                "BitsPerComponent" => 8,
            },
            gray.clone(),
        );
        let _ = image.compress();
        let image_id = doc.add_object(image);
        let ops = vec![
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    612.into(),
                    0.into(),
                    0.into(),
                    792.into(),
                    0.into(),
                    0.into(),
                ],
            ),
            Operation::new("Do", vec!["Im1".into()]),
            Operation::new("Q", vec![]),
        ];
        let images = dictionary! { "XObject" => dictionary! { "Im1" => image_id } };
        kids.push(letter_page(&mut doc, pages_id, ops, images));
    }
    finish(doc, pages_id, kids)
}

/// The bytes of `doc` with the page tree `pages_id` of `kids` and a catalog.
fn finish(mut doc: Document, pages_id: lopdf::ObjectId, kids: Vec<Object>) -> Vec<u8> {
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A scanned version of [`pdf`]`(pages)`: each page rendered to a 200 dpi greyscale image
/// by poppler's `pdftoppm`, and the images wrapped into a new PDF without text. `None` when
/// `pdftoppm` is not installed.
pub fn scanned_pdf(pages: &[Vec<String>]) -> Option<Vec<u8>> {
    partly_scanned_pdf(&[], pages)
}

/// A PDF whose first pages hold the `text` lines with a text layer, followed by the `scanned`
/// pages as images without one (rendered as [`scanned_pdf`] does). `None` when `pdftoppm` is
/// not installed.
pub fn partly_scanned_pdf(text: &[Vec<String>], scanned: &[Vec<String>]) -> Option<Vec<u8>> {
    let pages = scanned;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("text.pdf");
    std::fs::write(&src, pdf(pages)).unwrap();
    let mut images = Vec::new();
    for n in 1..=pages.len() {
        let prefix = dir.path().join(format!("p{n}"));
        let status = std::process::Command::new("pdftoppm")
            .args([
                "-r",
                "200",
                "-gray",
                "-singlefile",
                "-f",
                &n.to_string(),
                "-l",
                &n.to_string(),
            ])
            .arg(&src)
            .arg(&prefix)
            .status()
            .ok()?;
        assert!(status.success(), "pdftoppm failed");
        images.push(parse_pgm(
            &std::fs::read(prefix.with_extension("pgm")).unwrap(),
        ));
    }
    Some(text_then_image_pdf(text, &images))
}

/// Width, height and pixels of a binary PGM (`P5`, 8-bit) image.
fn parse_pgm(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    // Header: "P5", width, height, maxval, each separated by whitespace, then one byte.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    let w: u32 = fields[1].parse().unwrap();
    let h: u32 = fields[2].parse().unwrap();
    let pixels = bytes[i + 1..i + 1 + (w * h) as usize].to_vec();
    (w, h, pixels)
}

// OpenDocument

/// An ODT file whose `office:text` holds `body` (ODF elements with the `text:`, `table:`
/// and `office:` prefixes), with `dc:title` when given.
pub fn odt(body: &str, title: Option<&str>) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.3"><office:body><office:text>{body}</office:text></office:body></office:document-content>"#
    );
    let meta = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta>{}</office:meta></office:document-meta>"#,
        title
            .map(|t| format!("<dc:title>{}</dc:title>", esc(t)))
            .unwrap_or_default()
    );
    zip(&[
        (
            "mimetype".into(),
            "application/vnd.oasis.opendocument.text".into(),
        ),
        ("content.xml".into(), content),
        ("meta.xml".into(), meta),
    ])
}

// Outlook .msg

/// What [`msg`] writes.
#[derive(Debug, Clone, Default)]
pub struct MsgFixture<'a> {
    /// Subject (`0x0037`).
    pub subject: &'a str,
    /// Sender name (`0x0C1A`).
    pub sender_name: &'a str,
    /// Sender SMTP address (`0x5D01`).
    pub sender_email: &'a str,
    /// Display To (`0x0E04`).
    pub to: &'a str,
    /// Display Cc (`0x0E03`); left out when empty.
    pub cc: &'a str,
    /// Plain-text body (`0x1000`).
    pub body: &'a str,
    /// Submit time (`0x0039`), a Windows FILETIME.
    pub filetime: u64,
    /// Attachments: long file name (`0x3707`) and bytes (`0x3701`).
    pub attachments: Vec<(&'a str, Vec<u8>)>,
    /// Attached Outlook items: display name (`0x3001`) and a `.msg` (made by [`msg`]) stored
    /// as an embedded message (storage `0x3701000D`, 24-byte property header).
    pub embedded: Vec<(&'a str, Vec<u8>)>,
}

/// An Outlook .msg (compound file of MAPI properties, as MS-OXMSG lays it out), written with
/// the `cfb` crate.
pub fn msg(m: &MsgFixture<'_>) -> Vec<u8> {
    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }
    let mut c = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    let put = |c: &mut cfb::CompoundFile<Cursor<Vec<u8>>>, path: String, bytes: &[u8]| {
        c.create_stream(&path).unwrap().write_all(bytes).unwrap();
    };
    for (id, value) in [
        (0x0037, m.subject),
        (0x0C1A, m.sender_name),
        (0x5D01, m.sender_email),
        (0x0E04, m.to),
        (0x0E03, m.cc),
        (0x1000, m.body),
    ] {
        if !value.is_empty() {
            put(&mut c, format!("/__substg1.0_{id:04X}001F"), &utf16(value));
        }
    }
    // Fixed-size properties: 32-byte header, then one 16-byte entry (PT_SYSTIME 0x0039).
    let mut props = vec![0u8; 32];
    props.extend_from_slice(&((0x0039u32 << 16) | 0x0040).to_le_bytes());
    props.extend_from_slice(&6u32.to_le_bytes());
    props.extend_from_slice(&m.filetime.to_le_bytes());
    put(&mut c, "/__properties_version1.0".into(), &props);
    for (i, (name, data)) in m.attachments.iter().enumerate() {
        let dir = format!("/__attach_version1.0_#{i:08X}");
        c.create_storage(&dir).unwrap();
        put(&mut c, format!("{dir}/__substg1.0_3707001F"), &utf16(name));
        put(&mut c, format!("{dir}/__substg1.0_37010102"), data);
    }
    for (j, (name, bytes)) in m.embedded.iter().enumerate() {
        let dir = format!("/__attach_version1.0_#{:08X}", m.attachments.len() + j);
        c.create_storage(&dir).unwrap();
        put(&mut c, format!("{dir}/__substg1.0_3001001F"), &utf16(name));
        let root = format!("{dir}/__substg1.0_3701000D");
        c.create_storage(&root).unwrap();
        let mut inner = cfb::CompoundFile::open(Cursor::new(bytes.as_slice())).unwrap();
        let entries: Vec<(String, bool)> = inner
            .walk()
            .map(|e| (e.path().to_string_lossy().into_owned(), e.is_storage()))
            .collect();
        for (path, is_storage) in entries {
            if path == "/" {
                continue;
            }
            if is_storage {
                c.create_storage(format!("{root}{path}")).unwrap();
                continue;
            }
            let mut data = Vec::new();
            inner
                .open_stream(&path)
                .unwrap()
                .read_to_end(&mut data)
                .unwrap();
            if path == "/__properties_version1.0" {
                data.drain(24..32); // an embedded message's header is 24 bytes
            }
            put(&mut c, format!("{root}{path}"), &data);
        }
    }
    c.flush().unwrap();
    c.into_inner().into_inner()
}

/// WordPerfect documents built in code: the byte layout of WordPerfect 6 and later
/// (`.wpd`) and of WordPerfect 5.x (`.wp`), as `src/ingest/wpd.rs` reads it and as
/// LibreOffice's WordPerfect import (libwpd) reads it too.
pub mod wp {
    /// The characters the fixtures write that are not ASCII: (character, set, code) in
    /// WordPerfect's character sets (the same codes in 5.x and 6).
    const CODES: [(char, u8, u8); 9] = [
        ('§', 4, 6),
        ('¶', 4, 5),
        ('“', 4, 32),
        ('”', 4, 31),
        ('—', 4, 34),
        ('€', 4, 72),
        ('é', 1, 41),
        ('ü', 1, 71),
        ('’', 1, 9),
    ];

    fn code(c: char) -> (u8, u8) {
        let (_, set, code) = CODES
            .iter()
            .find(|(ch, _, _)| *ch == c)
            .unwrap_or_else(|| panic!("no WordPerfect code for {c:?} in the fixtures"));
        (*set, *code)
    }

    /// WordPerfect 6 text: ASCII as itself, other characters as extended-character groups
    /// (`F0 code set F0`), spaces as soft spaces (`0x80`), as WordPerfect writes them.
    pub fn text6(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for c in s.chars() {
            match c {
                ' ' => out.push(0x80),
                '!'..='~' => out.push(c as u8),
                _ => {
                    let (set, code) = code(c);
                    out.extend([0xF0, code, set, 0xF0]);
                }
            }
        }
        out
    }

    /// A hard return: the end of a paragraph (WordPerfect 6).
    pub const HARD_EOL6: u8 = 0xCC;
    /// A soft return: where a line wrapped (WordPerfect 6).
    pub const SOFT_EOL6: u8 = 0xCF;
    /// A soft hyphen at a line's end (WordPerfect 6).
    pub const SOFT_HYPHEN6: u8 = 0x83;

    /// A WordPerfect 6 variable-length group: `id`, subgroup, total size, flags (bit 7:
    /// prefix packet ids follow), the ids, the size of the contents, the contents, then the
    /// size and `id` again.
    pub fn group6(id: u8, sub: u8, prefix_ids: &[u16], contents: &[u8]) -> Vec<u8> {
        let ids = if prefix_ids.is_empty() {
            0
        } else {
            1 + 2 * prefix_ids.len()
        };
        let size = 1 + 1 + 2 + 1 + ids + 2 + contents.len() + 2 + 1;
        let size16 = u16::try_from(size).unwrap();
        let mut out = vec![id, sub];
        out.extend(size16.to_le_bytes());
        if prefix_ids.is_empty() {
            out.push(0);
        } else {
            out.push(0x80);
            out.push(u8::try_from(prefix_ids.len()).unwrap());
            for p in prefix_ids {
                out.extend(p.to_le_bytes());
            }
        }
        out.extend(u16::try_from(contents.len()).unwrap().to_le_bytes());
        out.extend(contents);
        out.extend(size16.to_le_bytes());
        out.push(id);
        out
    }

    /// A WordPerfect 6 end-of-line group (`0xD0`) of the given subgroup (`0x0A` a table
    /// cell, `0x0B` a row with its first cell, `0x11` the table's end), without cell data.
    pub fn eol6(sub: u8) -> Vec<u8> {
        group6(0xD0, sub, &[], &[0, 0])
    }

    /// A tab (WordPerfect 6 tab group, `0xE0`).
    pub fn tab6() -> Vec<u8> {
        group6(0xE0, 0x11, &[], &[0, 0, 0, 0])
    }

    /// The start (`kind` 0) or end (1) of text that an edit removed (the undo group, `0xF1`):
    /// WordPerfect keeps it for undo, and it is not part of the document.
    pub fn undo6(kind: u8) -> Vec<u8> {
        vec![0xF1, kind, 1, 0, 0xF1]
    }

    /// The data of a WordPerfect 6 "general text" prefix packet: one block of text (notes,
    /// headers, text boxes and comments keep their text there).
    pub fn text_packet6(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(1u16.to_le_bytes());
        out.extend(u32::try_from(text.len()).unwrap().to_le_bytes());
        out.extend(u32::try_from(text.len()).unwrap().to_le_bytes());
        out.extend(text);
        out
    }

    /// The data of a WordPerfect 6 extended document summary packet with its descriptive
    /// name (tag 17): the document's title.
    pub fn summary_packet6(title: &str) -> Vec<u8> {
        let wchars = |s: &str| -> Vec<u8> {
            let mut out = Vec::new();
            for c in s.chars() {
                let w = if c.is_ascii() {
                    c as u16
                } else {
                    let (set, code) = code(c);
                    u16::from(set) << 8 | u16::from(code)
                };
                out.extend(w.to_le_bytes());
            }
            out.extend([0, 0]);
            out
        };
        let mut group = Vec::new();
        group.extend(17u16.to_le_bytes());
        group.extend([0, 0]);
        group.extend(wchars("Descriptive Name"));
        group.extend(wchars(title));
        let mut out = Vec::new();
        out.extend(u16::try_from(group.len() + 2).unwrap().to_le_bytes());
        out.extend(group);
        out
    }

    /// A WordPerfect 6.1 document: the 16-byte header, the index of prefix packets (`type`,
    /// data), their data, then `body`. Packet ids count from 1 in the order given.
    pub fn document6(body: &[u8], packets: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let index_at = 0x20usize;
        let n = packets.len() + 1;
        let mut data_at = index_at + 14 * n;
        let mut index = vec![2u8, 0];
        index.extend(u16::try_from(n).unwrap().to_le_bytes());
        index.extend([0u8; 10]);
        let mut data: Vec<u8> = Vec::new();
        for (kind, bytes) in packets {
            index.push(0);
            index.push(*kind);
            index.extend(1u16.to_le_bytes());
            index.extend(0u16.to_le_bytes());
            index.extend(u32::try_from(bytes.len()).unwrap().to_le_bytes());
            index.extend(u32::try_from(data_at).unwrap().to_le_bytes());
            data.extend(bytes);
            data_at += bytes.len();
        }
        let mut out = vec![0u8; index_at];
        out[0..4].copy_from_slice(b"\xffWPC");
        out[4..8].copy_from_slice(&u32::try_from(data_at).unwrap().to_le_bytes());
        out[8..12].copy_from_slice(&[1, 0x0A, 2, 1]);
        out[14..16].copy_from_slice(&u16::try_from(index_at).unwrap().to_le_bytes());
        out[20..24].copy_from_slice(&u32::try_from(data_at + body.len()).unwrap().to_le_bytes());
        out.extend(index);
        out.extend(data);
        out.extend(body);
        out
    }

    /// A lease in WordPerfect 6: a title in the document summary, a running header,
    /// paragraphs with section signs and typographic quotes, a soft-hyphenated word, a
    /// wrapped line, a deleted draft phrase kept only for undo, a footnote, an endnote, a
    /// comment (left out), a two-row table and a tab.
    pub fn lease6() -> Vec<u8> {
        let para = |s: &str| {
            let mut v = text6(s);
            v.push(HARD_EOL6);
            v
        };
        let mut body = Vec::new();
        body.extend(group6(0xD6, 0x00, &[2], &[0x03])); // header A on every page
        body.extend(para("ARTICLE 1 DEFINITIONS"));
        body.extend(text6("1.1"));
        body.extend(tab6());
        body.extend(text6("“Premises” means Suite 400 of the Building"));
        body.extend(group6(0xD7, 0x00, &[3], &[])); // footnote on: the number follows
        body.extend(text6("1"));
        body.extend(group6(0xD7, 0x01, &[], &[]));
        body.extend(text6("."));
        body.push(HARD_EOL6);
        body.extend(text6("§ 2.1 The Tenant shall pay rent of €1,000 within "));
        body.extend(undo6(0));
        body.extend(text6("ninety "));
        body.extend(undo6(1));
        body.extend(text6("thirty days of each invoice, main"));
        body.push(SOFT_HYPHEN6);
        body.extend(text6("tenance included, to the"));
        body.push(SOFT_EOL6);
        body.extend(text6("Landlord’s agent"));
        body.extend(group6(0xD4, 0x1D, &[4], &[])); // a comment
        body.extend(text6("."));
        body.push(HARD_EOL6);
        body.extend(eol6(0x0B));
        body.extend(text6("Rent"));
        body.extend(eol6(0x0A));
        body.extend(text6("€1,000"));
        body.extend(eol6(0x0B));
        body.extend(text6("Deposit"));
        body.push(0xC6); // a cell, in its one-byte form
        body.extend(text6("€2,000"));
        body.extend(eol6(0x11));
        body.extend(text6("§ 3 Governing law"));
        body.extend(group6(0xD7, 0x02, &[5], &[])); // endnote on
        body.extend(text6("1"));
        body.extend(group6(0xD7, 0x03, &[], &[]));
        body.push(HARD_EOL6);
        let note = |s: &str| text_packet6(&para(s));
        document6(
            &body,
            &[
                (0x12, summary_packet6("Commercial Lease — Suite 400")),
                (0x08, note("Lease No. 42 — Confidential")),
                (0x08, note("As shown on the plan in Schedule A.")),
                (0x08, note("Check the suite number with the client.")),
                (0x08, note("The laws of the District of Columbia apply.")),
            ],
        )
    }

    /// WordPerfect 5 text: ASCII as itself, other characters as extended characters
    /// (`C0 code set C0`).
    pub fn text5(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for c in s.chars() {
            if c.is_ascii() {
                out.push(c as u8);
            } else {
                let (set, code) = code(c);
                out.extend([0xC0, code, set, 0xC0]);
            }
        }
        out
    }

    /// A WordPerfect 5 variable-length group: `id`, subgroup, the size of what follows, the
    /// contents, then the size, subgroup and `id` again.
    pub fn group5(id: u8, sub: u8, contents: &[u8]) -> Vec<u8> {
        let size = u16::try_from(contents.len() + 4).unwrap();
        let mut out = vec![id, sub];
        out.extend(size.to_le_bytes());
        out.extend(contents);
        out.extend(size.to_le_bytes());
        out.push(sub);
        out.push(id);
        out
    }

    /// The contents of a WordPerfect 5 table definition (group `0xD2`, subgroup `0x0B`) for
    /// `columns` columns of 3 inches: the old and new column counts, gutters, offsets, then
    /// each column's width, attributes and alignment.
    pub fn table_definition5(columns: u8) -> Vec<u8> {
        let n = usize::from(columns);
        let mut out = vec![0u8, 0, columns, 0];
        out.extend(vec![0u8; 20 + 5 * n]);
        out.extend([0, 0, columns, 0]);
        out.extend([0u8; 4 + 2 + 2 + 10 + 2]);
        for _ in 0..n {
            out.extend(3600u16.to_le_bytes());
        }
        out.extend(vec![0u8; 3 * n]);
        out
    }

    /// A WordPerfect 5.1 document: the 16-byte header, then `body`.
    pub fn document5(body: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; 16];
        out[0..4].copy_from_slice(b"\xffWPC");
        out[4..8].copy_from_slice(&16u32.to_le_bytes());
        out[8..12].copy_from_slice(&[1, 0x0A, 0, 1]);
        out.extend(body);
        out
    }

    /// The lease in WordPerfect 5.1: a header and a footnote with their text inline, a
    /// soft return, a soft hyphen, a tab, extended characters and a two-row table.
    pub fn lease5() -> Vec<u8> {
        let mut body = Vec::new();
        let mut header = vec![0u8; 7];
        header.push(0x01); // every page
        header.extend([0u8; 10]);
        header.extend(text5("Lease No. 42 — Confidential"));
        header.push(0x0A);
        body.extend(group5(0xD5, 0x00, &header));
        body.extend(text5("ARTICLE 1 DEFINITIONS\n"));
        body.extend(text5("1.1"));
        body.extend([0xC1, 0, 0, 0, 0, 0, 0, 0, 0xC1]); // a tab
        body.extend(text5("“Premises” means Suite 400 of the Building"));
        let mut note = vec![0u8, 1, 0, 0]; // flags, number 1, no more pages
        note.extend([0u8; 11]);
        note.extend(text5("As shown on the plan in Schedule A.\n"));
        body.extend(group5(0xD6, 0x00, &note));
        body.extend(text5(".\n"));
        body.extend(text5(
            "§ 2.1 The Tenant shall pay rent of €1,000 within thirty days",
        ));
        body.extend(text5(" of each invoice, main"));
        body.push(0xAD); // soft hyphen at a line's end
        body.extend(text5("tenance included, to the"));
        body.push(0x0D); // soft return
        body.extend(text5("Landlord’s agent.\n"));
        body.extend(group5(0xD2, 0x0B, &table_definition5(2)));
        body.extend(group5(0xDC, 0x01, &[0; 2]));
        body.extend(group5(0xDC, 0x00, &[0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]));
        body.extend(text5("Rent"));
        body.extend(group5(0xDC, 0x00, &[0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]));
        body.extend(text5("€1,000"));
        body.extend(group5(0xDC, 0x01, &[0; 2]));
        body.extend(group5(0xDC, 0x00, &[0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]));
        body.extend(text5("Deposit"));
        body.extend(group5(0xDC, 0x00, &[0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]));
        body.extend(text5("€2,000"));
        body.extend(group5(0xDC, 0x02, &[0; 2]));
        body.extend(text5("§ 3 Governing law\n"));
        document5(&body)
    }
}
