//! PowerPoint 97–2003 (`.ppt`, shows `.pps`, templates `.pot`): the binary format of
//! Microsoft's [MS-PPT] specification, read into the same slides as the `.pptx` reader
//! ([`super::slides`]).
//!
//! A `.ppt` is a compound file whose `PowerPoint Document` stream is a tree of records (an
//! 8-byte header: version and instance, type, length; a version of `0xF` marks a container).
//! Saved edits are appended, so the stream is read the way PowerPoint reads it: the `Current
//! User` stream points to the last `UserEditAtom`, whose chain of persist directories maps each
//! object's persist id to its offset, newest first. The document container's
//! `SlideListWithText` lists the slides in order, each with the text of its placeholders; each
//! slide's drawing holds its shapes' text boxes in order (inline text, or a reference to a
//! placeholder text of the list), and its `SlideAtom` names its notes page, whose drawing holds
//! the speaker notes. A text's type (its `TextHeaderAtom`) tells the title (title and
//! centred title) from the rest. Footers and headers come from `HeadersFooters` containers.
//!
//! Encrypted files and files without a readable edit chain (PowerPoint 95 and older, damaged
//! files) are refused with the reason.

use std::collections::{HashMap, HashSet};

use super::msg::{Cfb, stream};
use super::slides::{Deck, Slide};
use super::types::{ExtractError, latin1, u16_at, u32_at, utf16le};
use super::word::{Block, collapse, row_text};

const RT_DOCUMENT: u16 = 0x03E8;
const RT_SLIDE: u16 = 0x03EE;
const RT_SLIDE_ATOM: u16 = 0x03EF;
const RT_NOTES: u16 = 0x03F0;
const RT_SLIDE_PERSIST_ATOM: u16 = 0x03F3;
const RT_SLIDE_SHOW_SLIDE_INFO: u16 = 0x03F9;
const RT_OUTLINE_TEXT_REF: u16 = 0x0F9E;
const RT_TEXT_HEADER: u16 = 0x0F9F;
const RT_TEXT_CHARS: u16 = 0x0FA0;
const RT_TEXT_BYTES: u16 = 0x0FA8;
const RT_CSTRING: u16 = 0x0FBA;
const RT_HEADERS_FOOTERS: u16 = 0x0FD9;
const RT_SLIDE_LIST_WITH_TEXT: u16 = 0x0FF0;
const RT_USER_EDIT: u16 = 0x0FF5;
const RT_PERSIST_DIRECTORY: u16 = 0x1772;
const RT_CLIENT_TEXTBOX: u16 = 0xF00D;
const RT_GROUP: u16 = 0xF003;
const RT_SHAPE: u16 = 0xF004;
const RT_CHILD_ANCHOR: u16 = 0xF00F;
const RT_TERTIARY_OPT: u16 = 0xF122;
/// The shape property that marks a group as a table.
const TABLE_PROPERTIES: u16 = 0x03A0;
/// Field marks: slide number, date and time, generic date, header, footer (a `*` in the text
/// at the position the atom gives, which PowerPoint replaces when it shows the slide).
const FIELD_MARKS: [u16; 5] = [0x0FD8, 0x0FF7, 0x0FF8, 0x0FF9, 0x0FFA];

/// The `Current User` header token of an unencrypted and of an encrypted file.
const TOKEN_PLAIN: u32 = 0xE391_C05F;
const TOKEN_ENCRYPTED: u32 = 0xF3D1_C4DF;

/// Text types (`TextHeaderAtom`) that are a slide's title: title and centred title.
const TITLE_TYPES: [u32; 2] = [0, 6];

/// How deep records are followed (real files nest about 8 deep).
const MAX_DEPTH: usize = 24;

fn corrupt(reason: impl Into<String>) -> ExtractError {
    ExtractError::Corrupt {
        kind: "presentation",
        reason: reason.into(),
    }
}

/// One record: its instance, type and data.
#[derive(Debug, Clone, Copy)]
struct Rec<'a> {
    container: bool,
    instance: u16,
    typ: u16,
    data: &'a [u8],
}

/// The record whose header starts at `at` of `b` (its data cut at the end of `b`).
fn record(b: &[u8], at: usize) -> Option<Rec<'_>> {
    let ver_inst = u16_at(b, at)?;
    let typ = u16_at(b, at + 2)?;
    let len = u32_at(b, at + 4)? as usize;
    let start = at.checked_add(8)?;
    let end = start.saturating_add(len).min(b.len());
    Some(Rec {
        container: ver_inst & 0xF == 0xF,
        instance: ver_inst >> 4,
        typ,
        data: b.get(start..end)?,
    })
}

/// The records directly inside a container's data, in order.
fn children(data: &[u8]) -> impl Iterator<Item = Rec<'_>> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let r = record(data, at)?;
        at = at.checked_add(8 + r.data.len())?;
        Some(r)
    })
}

/// Every record of a type under `data`, depth first in order.
fn find_all<'a>(data: &'a [u8], typ: u16, depth: usize, out: &mut Vec<Rec<'a>>) {
    if depth > MAX_DEPTH {
        return;
    }
    for r in children(data) {
        if r.typ == typ {
            out.push(r);
        } else if r.container {
            find_all(r.data, typ, depth + 1, out);
        }
    }
}

/// The text of a `TextCharsAtom` (UTF-16) or `TextBytesAtom` (the low bytes of UTF-16, so
/// ISO 8859-1).
fn atom_text(r: &Rec<'_>) -> Option<String> {
    match r.typ {
        RT_TEXT_CHARS => Some(utf16le(r.data)),
        RT_TEXT_BYTES => Some(latin1(r.data)),
        _ => None,
    }
}

/// Blanks the field mark at character `pos` of `text` (the placeholder `*` of a slide number
/// or date field), so that [`paragraphs`] drops it.
fn blank_field(text: &mut String, pos: Option<u32>) {
    let Some(pos) = pos else { return };
    if let Some((at, c)) = text.char_indices().nth(pos as usize)
        && c == '*'
    {
        text.replace_range(at..at + 1, "\0");
    }
}

/// A text body's paragraphs: PowerPoint ends a paragraph with `\r` and breaks a line with a
/// vertical tab; other control characters (field marks) are dropped.
fn paragraphs(text: &str) -> Vec<String> {
    text.split('\r')
        .map(|p| {
            let p: String = p
                .chars()
                .map(|c| if c == '\u{b}' { ' ' } else { c })
                .filter(|c| !c.is_control() || *c == '\t')
                .collect();
            collapse(&p)
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// The persist-id → stream-offset map of the edit chain starting at the `UserEditAtom` at
/// `at`, newest edit first; and the document container's persist id.
fn persist_map(doc: &[u8], mut at: usize) -> Result<(HashMap<u32, usize>, u32), ExtractError> {
    let mut map = HashMap::new();
    let mut seen = HashSet::new();
    let mut doc_ref = None;
    loop {
        let edit = record(doc, at)
            .filter(|r| r.typ == RT_USER_EDIT && r.data.len() >= 28)
            .ok_or_else(|| corrupt("no UserEditAtom where the edit chain points"))?;
        doc_ref.get_or_insert(u32_at(edit.data, 16).unwrap_or(0));
        let dir_at = u32_at(edit.data, 12).unwrap_or(0) as usize;
        let dir = record(doc, dir_at)
            .filter(|r| r.typ == RT_PERSIST_DIRECTORY)
            .ok_or_else(|| corrupt("no persist directory where an edit points"))?;
        let mut i = 0usize;
        while let Some(entry) = u32_at(dir.data, i) {
            let first = entry & 0x000F_FFFF;
            let count = (entry >> 20) as usize;
            for k in 0..count {
                let Some(offset) = u32_at(dir.data, i + 4 + 4 * k) else {
                    break;
                };
                // Newer edits come first and win.
                map.entry(first + k as u32).or_insert(offset as usize);
            }
            i += 4 + 4 * count;
        }
        let last = u32_at(edit.data, 8).unwrap_or(0) as usize;
        if last == 0 || !seen.insert(last) || seen.len() > 10_000 {
            break;
        }
        at = last;
    }
    Ok((map, doc_ref.unwrap_or(0)))
}

/// A slide (or notes page) as `SlideListWithText` lists it: its persist id, its id, and the
/// texts of its placeholders with their types.
#[derive(Debug, Default)]
struct Listed {
    persist: u32,
    id: u32,
    texts: Vec<(u32, String)>,
}

/// The entries of a `SlideListWithText` container.
fn listed(list: &[u8]) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    let mut kind = 4u32;
    for r in children(list) {
        match r.typ {
            RT_SLIDE_PERSIST_ATOM => out.push(Listed {
                persist: u32_at(r.data, 0).unwrap_or(0),
                id: u32_at(r.data, 12).unwrap_or(0),
                texts: Vec::new(),
            }),
            RT_TEXT_HEADER => kind = u32_at(r.data, 0).unwrap_or(4),
            RT_TEXT_CHARS | RT_TEXT_BYTES => {
                if let (Some(entry), Some(text)) = (out.last_mut(), atom_text(&r)) {
                    entry.texts.push((kind, text));
                }
            }
            t if FIELD_MARKS.contains(&t) => {
                if let Some((_, text)) = out.last_mut().and_then(|e| e.texts.last_mut()) {
                    blank_field(text, u32_at(r.data, 0));
                }
            }
            _ => {}
        }
    }
    out
}

/// One text of a drawing: its type (`TextHeaderAtom`), the text, and for a table row, which
/// table (the row's cells already joined by ` | `).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text {
    kind: u32,
    text: String,
    table: Option<usize>,
}

/// Walks a drawing's shapes in order: text boxes into `out`, tables as rows.
struct Drawing<'a> {
    listed: &'a [(u32, String)],
    used: Vec<bool>,
    out: Vec<Text>,
    tables: usize,
}

impl Drawing<'_> {
    fn walk(&mut self, data: &[u8], depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for r in children(data) {
            match r.typ {
                RT_GROUP if is_table(r.data) => self.table(r.data, depth),
                RT_CLIENT_TEXTBOX => {
                    let texts = self.textbox(r.data);
                    self.out.extend(texts);
                }
                _ if r.container => self.walk(r.data, depth + 1),
                _ => {}
            }
        }
    }

    /// The texts of one `OfficeArtClientTextbox`: inline, or the placeholder text of the
    /// slide list an `OutlineTextRefAtom` points to.
    fn textbox(&mut self, data: &[u8]) -> Vec<Text> {
        let mut out: Vec<Text> = Vec::new();
        let mut kind = 4u32;
        for r in children(data) {
            match r.typ {
                RT_TEXT_HEADER => kind = u32_at(r.data, 0).unwrap_or(4),
                RT_TEXT_CHARS | RT_TEXT_BYTES => {
                    if let Some(text) = atom_text(&r) {
                        out.push(Text {
                            kind,
                            text,
                            table: None,
                        });
                    }
                }
                RT_OUTLINE_TEXT_REF => {
                    let i = u32_at(r.data, 0).unwrap_or(u32::MAX) as usize;
                    if let Some((kind, text)) = self.listed.get(i) {
                        out.push(Text {
                            kind: *kind,
                            text: text.clone(),
                            table: None,
                        });
                        self.used[i] = true;
                    }
                }
                t if FIELD_MARKS.contains(&t) => {
                    if let Some(last) = out.last_mut() {
                        blank_field(&mut last.text, u32_at(r.data, 0));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// A table: a group of cell shapes, each placed by its child anchor; cells with the same
    /// top edge make a row, ordered by their left edge.
    fn table(&mut self, group: &[u8], depth: usize) {
        let mut cells: Vec<(i32, i32, String)> = Vec::new();
        for shape in children(group).filter(|r| r.typ == RT_SHAPE).skip(1) {
            let anchor = children(shape.data).find(|r| r.typ == RT_CHILD_ANCHOR);
            let (Some(left), Some(top)) = (
                anchor.and_then(|a| u32_at(a.data, 0)),
                anchor.and_then(|a| u32_at(a.data, 4)),
            ) else {
                continue;
            };
            let mut text = String::new();
            for b in children(shape.data).filter(|r| r.typ == RT_CLIENT_TEXTBOX) {
                for t in self.textbox(b.data) {
                    for p in paragraphs(&t.text) {
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        text.push_str(&p);
                    }
                }
            }
            if children(shape.data).any(|r| r.typ == RT_CLIENT_TEXTBOX) {
                cells.push((top as i32, left as i32, text));
            }
        }
        if cells.is_empty() {
            // Not laid out as cells after all: read its shapes as any group's.
            return self.walk(group, depth + 1);
        }
        cells.sort_by_key(|c| (c.0, c.1));
        self.tables += 1;
        for row in cells.chunk_by(|a, b| a.0 == b.0) {
            let texts: Vec<String> = row.iter().map(|c| c.2.clone()).collect();
            if let Some(text) = row_text(&texts) {
                self.out.push(Text {
                    kind: 4,
                    text,
                    table: Some(self.tables),
                });
            }
        }
    }
}

/// Whether a group shape is a table: its own shape's tertiary properties hold
/// `tableProperties` (0x03A0), as PowerPoint and LibreOffice write them.
fn is_table(group: &[u8]) -> bool {
    let Some(own) = children(group).find(|r| r.typ == RT_SHAPE) else {
        return false;
    };
    children(own.data)
        .filter(|r| r.typ == RT_TERTIARY_OPT)
        .any(|opt| {
            (0..usize::from(opt.instance))
                .any(|k| u16_at(opt.data, 6 * k).is_some_and(|id| id & 0x3FFF == TABLE_PROPERTIES))
        })
}

/// The texts of a slide's or notes page's drawing, in shape order, with their types: inline
/// text, or the placeholder text of `listed` an `OutlineTextRefAtom` points to; a table's rows.
/// Listed texts no shape refers to follow.
fn drawing_texts(container: &[u8], listed: &[(u32, String)]) -> Vec<Text> {
    let mut d = Drawing {
        listed,
        used: vec![false; listed.len()],
        out: Vec::new(),
        tables: 0,
    };
    d.walk(container, 0);
    let mut out = d.out;
    for ((kind, text), used) in listed.iter().zip(d.used) {
        if !used {
            out.push(Text {
                kind: *kind,
                text: text.clone(),
                table: None,
            });
        }
    }
    out
}

/// The header and footer texts (`CString` instances 1 and 2) of the `HeadersFooters`
/// containers under `data`.
fn running_texts(data: &[u8], out: &mut Vec<String>) {
    let mut found = Vec::new();
    find_all(data, RT_HEADERS_FOOTERS, 0, &mut found);
    for hf in found {
        for r in children(hf.data) {
            if r.typ == RT_CSTRING && matches!(r.instance, 1 | 2) {
                let text = atom_text(&Rec {
                    typ: RT_TEXT_CHARS,
                    ..r
                })
                .unwrap_or_default();
                let text = collapse(&text);
                if !text.is_empty() && !out.contains(&text) {
                    out.push(text);
                }
            }
        }
    }
}

/// Reads the slides of a `.ppt` (see the module docs).
pub(super) fn read_ppt(cfb: &mut Cfb<'_>) -> Result<Deck, ExtractError> {
    let user = stream(cfb, "/Current User").ok_or_else(|| ExtractError::Unsupported {
        kind: "presentation",
        reason: "no Current User stream: PowerPoint 4.0 or older, or not a PowerPoint file; \
                 save it as .pptx"
            .into(),
    })?;
    let token = u32_at(&user, 12);
    if token == Some(TOKEN_ENCRYPTED) {
        return Err(ExtractError::Encrypted {
            kind: "presentation",
        });
    }
    if token != Some(TOKEN_PLAIN) {
        return Err(ExtractError::Unsupported {
            kind: "presentation",
            reason: "not a PowerPoint 97–2003 file (PowerPoint 95 or older?); save it as .pptx"
                .into(),
        });
    }
    let doc = stream(cfb, "/PowerPoint Document")
        .ok_or_else(|| corrupt("no PowerPoint Document stream"))?;
    let edit_at = u32_at(&user, 16).unwrap_or(0) as usize;
    let (persist, doc_ref) = persist_map(&doc, edit_at)?;
    let object = |id: u32, typ: u16| {
        persist
            .get(&id)
            .and_then(|&at| record(&doc, at))
            .filter(|r| r.typ == typ)
    };
    let document = object(doc_ref, RT_DOCUMENT)
        .ok_or_else(|| corrupt("no document container where the persist directory points"))?;
    let mut slides = Vec::new();
    let mut notes = Vec::new();
    for r in children(document.data).filter(|r| r.typ == RT_SLIDE_LIST_WITH_TEXT) {
        match r.instance {
            0 => slides.extend(listed(r.data)),
            2 => notes.extend(listed(r.data)),
            _ => {}
        }
    }
    let notes_by_id: HashMap<u32, &Listed> = notes.iter().map(|n| (n.id, n)).collect();
    let mut deck = Deck::default();
    running_texts(document.data, &mut deck.running);
    for entry in &slides {
        let container = object(entry.persist, RT_SLIDE);
        let data = container.map_or(&[][..], |c| c.data);
        let texts = drawing_texts(data, &entry.texts);
        let atom = children(data).find(|r| r.typ == RT_SLIDE_ATOM);
        let hidden = children(data)
            .find(|r| r.typ == RT_SLIDE_SHOW_SLIDE_INFO)
            .and_then(|r| u16_at(r.data, 10))
            .is_some_and(|flags| flags & 0x0004 != 0);
        let mut slide = Slide {
            hidden,
            ..Slide::default()
        };
        let mut title = Vec::new();
        for t in texts {
            if t.table.is_some() {
                slide.blocks.push(Block {
                    text: t.text,
                    table: t.table,
                    note: 0,
                });
                continue;
            }
            for p in paragraphs(&t.text) {
                if TITLE_TYPES.contains(&t.kind) {
                    title.push(p);
                } else {
                    slide.blocks.push(Block {
                        text: p,
                        table: None,
                        note: 0,
                    });
                }
            }
        }
        slide.title = (!title.is_empty()).then(|| title.join(" "));
        // The notes page: `SlideAtom.notesIdRef` names it by its id in the notes list.
        let notes_id = atom.and_then(|a| u32_at(a.data, 16)).unwrap_or(0);
        if notes_id != 0
            && let Some(n) = notes_by_id.get(&notes_id)
            && let Some(page) = object(n.persist, RT_NOTES)
        {
            for t in drawing_texts(page.data, &n.texts) {
                if t.table.is_some() {
                    slide.notes.push(t.text);
                } else {
                    slide.notes.extend(paragraphs(&t.text));
                }
            }
        }
        running_texts(data, &mut deck.running);
        deck.slides.push(slide);
    }
    Ok(deck)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A record: version and instance, type, data.
    fn rec(container: bool, instance: u16, typ: u16, data: &[u8]) -> Vec<u8> {
        let ver_inst = (instance << 4) | if container { 0xF } else { 0 };
        let mut out = ver_inst.to_le_bytes().to_vec();
        out.extend(typ.to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(data);
        out
    }

    fn atom(typ: u16, data: &[u8]) -> Vec<u8> {
        rec(false, 0, typ, data)
    }

    fn container(typ: u16, children: &[Vec<u8>]) -> Vec<u8> {
        rec(true, 0, typ, &children.concat())
    }

    fn u32s(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn chars(s: &str) -> Vec<u8> {
        atom(
            RT_TEXT_CHARS,
            &s.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<_>>(),
        )
    }

    fn text_header(kind: u32) -> Vec<u8> {
        atom(RT_TEXT_HEADER, &u32s(&[kind]))
    }

    fn textbox(children: &[Vec<u8>]) -> Vec<u8> {
        // As PowerPoint nests it: drawing, group, shape, client text box.
        container(
            0x040C,
            &[container(
                0xF002,
                &[container(
                    0xF003,
                    &[container(0xF004, &[container(RT_CLIENT_TEXTBOX, children)])],
                )],
            )],
        )
    }

    /// A compound file with the given streams.
    fn compound(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write;
        let mut c = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
        for (name, data) in streams {
            c.create_stream(name).unwrap().write_all(data).unwrap();
        }
        c.flush().unwrap();
        c.into_inner().into_inner()
    }

    /// A one-slide presentation saved twice: the first save's document container has an old
    /// title, the second's (which its persist directory maps instead) the current one.
    fn two_saves(token: u32) -> Vec<u8> {
        let (user, doc) = two_saves_streams(token);
        compound(&[("/Current User", user), ("/PowerPoint Document", doc)])
    }

    /// The `Current User` and `PowerPoint Document` streams of [`two_saves`].
    fn two_saves_streams(token: u32) -> (Vec<u8>, Vec<u8>) {
        let mut doc = Vec::new();
        let at = |doc: &mut Vec<u8>, bytes: Vec<u8>| {
            let offset = doc.len() as u32;
            doc.extend(bytes);
            offset
        };
        let slide_list = |title: &str| {
            rec(
                true,
                0,
                RT_SLIDE_LIST_WITH_TEXT,
                &[
                    atom(RT_SLIDE_PERSIST_ATOM, &u32s(&[2, 0, 1, 256, 0])),
                    text_header(0),
                    chars(title),
                ]
                .concat(),
            )
        };
        // The first save: document 1 and its edit.
        let old_doc = at(&mut doc, container(RT_DOCUMENT, &[slide_list("Old title")]));
        let old_dir = at(
            &mut doc,
            atom(RT_PERSIST_DIRECTORY, &u32s(&[1 | (1 << 20), old_doc])),
        );
        let old_edit = at(
            &mut doc,
            atom(RT_USER_EDIT, &u32s(&[0, 0, 0, old_dir, 1, 4, 0])),
        );
        // The second save: the slide, its notes page, a new document 1.
        let slide_atom = {
            let mut d = vec![0u8; 24];
            d[16..20].copy_from_slice(&0x100u32.to_le_bytes());
            atom(RT_SLIDE_ATOM, &d)
        };
        let mut show = vec![0u8; 16];
        show[10] = 0x04; // hidden
        let slide = at(
            &mut doc,
            container(
                RT_SLIDE,
                &[
                    slide_atom,
                    atom(RT_SLIDE_SHOW_SLIDE_INFO, &show),
                    textbox(&[text_header(0), atom(RT_OUTLINE_TEXT_REF, &u32s(&[0]))]),
                    textbox(&[
                        text_header(4),
                        atom(RT_TEXT_BYTES, b"Escrow of 10% \xA7 2.3\rSlide *"),
                        atom(0x0FD8, &u32s(&[26])),
                    ]),
                ],
            ),
        );
        let notes = at(
            &mut doc,
            container(
                RT_NOTES,
                &[textbox(&[
                    text_header(2),
                    chars("Mention the escrow.\rThen the cap."),
                ])],
            ),
        );
        let new_doc = at(
            &mut doc,
            container(
                RT_DOCUMENT,
                &[
                    slide_list("Deal\u{b}Terms"),
                    rec(
                        true,
                        2,
                        RT_SLIDE_LIST_WITH_TEXT,
                        &atom(RT_SLIDE_PERSIST_ATOM, &u32s(&[3, 0, 0, 0x100, 0])),
                    ),
                    container(
                        RT_HEADERS_FOOTERS,
                        &[rec(
                            false,
                            2,
                            RT_CSTRING,
                            &"Privileged"
                                .encode_utf16()
                                .flat_map(u16::to_le_bytes)
                                .collect::<Vec<_>>(),
                        )],
                    ),
                ],
            ),
        );
        let dir = at(
            &mut doc,
            atom(
                RT_PERSIST_DIRECTORY,
                &u32s(&[1 | (3 << 20), new_doc, slide, notes]),
            ),
        );
        let edit = at(
            &mut doc,
            atom(RT_USER_EDIT, &u32s(&[0, 0, old_edit, dir, 1, 4, 0])),
        );
        let user = atom(0x0FF6, &u32s(&[0x14, token, edit]));
        (user, doc)
    }

    fn read(bytes: &[u8]) -> Result<Deck, ExtractError> {
        let mut c = cfb::CompoundFile::open(std::io::Cursor::new(bytes)).unwrap();
        read_ppt(&mut c)
    }

    #[test]
    fn the_newest_save_is_read_with_placeholder_and_box_text_notes_and_footers() {
        let deck = read(&two_saves(TOKEN_PLAIN)).unwrap();
        assert_eq!(deck.slides.len(), 1);
        let s = &deck.slides[0];
        assert_eq!(s.title.as_deref(), Some("Deal Terms"));
        assert!(s.hidden);
        let blocks: Vec<&str> = s.blocks.iter().map(|b| b.text.as_str()).collect();
        // The slide-number field's `*` is left out; TextBytes are ISO 8859-1.
        assert_eq!(blocks, ["Escrow of 10% \u{a7} 2.3", "Slide"]);
        assert_eq!(s.notes, ["Mention the escrow.", "Then the cap."]);
        assert_eq!(deck.running, ["Privileged"]);
    }

    /// A cell shape of a table group: its child anchor and its text.
    fn cell(left: u32, top: u32, text: &str) -> Vec<u8> {
        container(
            RT_SHAPE,
            &[
                atom(RT_CHILD_ANCHOR, &u32s(&[left, top, left + 100, top + 50])),
                container(RT_CLIENT_TEXTBOX, &[text_header(4), chars(text)]),
            ],
        )
    }

    #[test]
    fn a_table_group_is_read_as_rows_of_cells_by_their_anchors() {
        // The group's own shape marks it as a table (tertiary property 0x03A0, one entry).
        let own = container(
            RT_SHAPE,
            &[rec(false, 1, RT_TERTIARY_OPT, &[0xA0, 0x03, 0, 0, 0, 0])],
        );
        // Cells stored out of order; a line shape without text; an empty cell.
        let line = container(RT_SHAPE, &[atom(RT_CHILD_ANCHOR, &u32s(&[0, 0, 300, 0]))]);
        let table = container(
            RT_GROUP,
            &[
                own,
                cell(100, 50, "Seller"),
                line,
                cell(0, 0, "Deliverable"),
                cell(100, 0, "Party"),
                cell(0, 50, "Officer's\rcertificate"),
                cell(0, 100, ""),
                cell(100, 100, "Buyer"),
            ],
        );
        let texts = drawing_texts(&container(0x040C, &[table]), &[]);
        let rows: Vec<(&str, Option<usize>)> =
            texts.iter().map(|t| (t.text.as_str(), t.table)).collect();
        assert_eq!(
            rows,
            [
                ("Deliverable | Party", Some(1)),
                ("Officer's certificate | Seller", Some(1)),
                (" | Buyer", Some(1)),
            ]
        );
        // A group without the mark is read shape by shape.
        let plain = container(
            RT_GROUP,
            &[container(RT_SHAPE, &[]), cell(0, 0, "A"), cell(9, 0, "B")],
        );
        let texts = drawing_texts(&container(0x040C, &[plain]), &[]);
        assert_eq!(
            texts.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["A", "B"]
        );
    }

    #[test]
    fn encrypted_and_older_files_are_refused_with_the_reason() {
        assert_eq!(
            read(&two_saves(TOKEN_ENCRYPTED)).unwrap_err(),
            ExtractError::Encrypted {
                kind: "presentation"
            }
        );
        let older = read(&two_saves(0x1234_5678)).unwrap_err().to_string();
        assert!(older.contains("PowerPoint 95 or older"), "{older}");
        let no_user = compound(&[("/PowerPoint Document", vec![0; 64])]);
        assert!(
            read(&no_user)
                .unwrap_err()
                .to_string()
                .contains("PowerPoint 4.0")
        );
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        /// A damaged document stream (bytes overwritten, cut short) gives slides or an
        /// error, never a panic or a loop.
        #[test]
        fn fuzz_damaged_document_streams_are_read_or_refused(
            hits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
            cut in any::<prop::sample::Index>(),
        ) {
            let (user, mut doc) = two_saves_streams(TOKEN_PLAIN);
            for (at, b) in hits {
                let i = at.index(doc.len());
                doc[i] = b;
            }
            doc.truncate(cut.index(doc.len() + 1));
            let _ = read(&compound(&[("/Current User", user), ("/PowerPoint Document", doc)]));
        }
    }
}
