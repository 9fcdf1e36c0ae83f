//! PDF and DOCX files built in code, for tests (no external tools needed).
//!
//! Shared by the integration tests (through `tests/common`) and the unit tests of
//! `src/ingest/{pdf,docx}.rs` (through `#[path]`), so both test the same fixtures.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Cursor, Read, Write};

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

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
