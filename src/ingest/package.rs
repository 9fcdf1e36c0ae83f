//! Zip packages read from memory, as Office Open XML (DOCX, PPTX) and OpenDocument (ODT,
//! ODP) files are: a cap on the entries listed ([`MAX_ENTRIES`]) and on the bytes unpacked,
//! all parts together ([`MAX_UNPACKED_BYTES`]), so that a zip bomb is refused instead of
//! filling memory; and what the formats' XML parts share (relationships, attributes,
//! character references, `dc:title`).

use std::io::{Cursor, Read};

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::types::ExtractError;
use super::word::collapse;

/// Most bytes unpacked from one package, all parts read together.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

/// Most entries a package may list.
pub const MAX_ENTRIES: usize = 10_000;

/// The zip archive, with what is left of the unpacking budget and the format's own error.
pub(super) struct Package<'a> {
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    budget: u64,
    corrupt: fn(String) -> ExtractError,
}

impl<'a> Package<'a> {
    /// Opens `bytes` as a zip archive; `corrupt` makes the format's error from a reason.
    pub(super) fn open(
        bytes: &'a [u8],
        corrupt: fn(String) -> ExtractError,
    ) -> Result<Self, ExtractError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| corrupt(format!("not a zip archive ({e})")))?;
        if zip.len() > MAX_ENTRIES {
            return Err(corrupt(format!(
                "{} entries in the archive, over the limit of {MAX_ENTRIES}",
                zip.len()
            )));
        }
        Ok(Package {
            zip,
            budget: MAX_UNPACKED_BYTES,
            corrupt,
        })
    }

    /// Whether the archive holds an entry of this name.
    pub(super) fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// Entry names, in archive order.
    pub(super) fn names(&self) -> Vec<String> {
        self.zip
            .file_names()
            .filter_map(Result::ok)
            .map(std::borrow::Cow::into_owned)
            .collect()
    }

    /// Unpacks one entry as text, charging it to the budget; `None` if there is no such entry.
    pub(super) fn read(&mut self, name: &str) -> Result<Option<String>, ExtractError> {
        if !self.has(name) {
            return Ok(None);
        }
        let corrupt = self.corrupt;
        let mut entry = self
            .zip
            .by_name(name)
            .map_err(|e| corrupt(format!("{name}: {e}")))?;
        let over = ExtractError::Unpacked {
            limit: MAX_UNPACKED_BYTES,
        };
        // The declared size may lie; the read below is bounded either way.
        if entry.size() > self.budget {
            return Err(over);
        }
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        (&mut entry)
            .take(self.budget + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt(format!("{name}: {e}")))?;
        if bytes.len() as u64 > self.budget {
            return Err(over);
        }
        self.budget -= bytes.len() as u64;
        xml_text(bytes)
            .map(Some)
            .map_err(|why| corrupt(format!("{name}: {why}")))
    }

    /// The relationships of `part` (from `dir/_rels/name.rels`), their targets resolved to
    /// entry names; none when the part has no relationships file or it cannot be read.
    pub(super) fn relationships(&mut self, part: &str) -> Vec<Relationship> {
        let (dir, name) = part.rsplit_once('/').unwrap_or(("", part));
        let rels = if dir.is_empty() {
            format!("_rels/{name}.rels")
        } else {
            format!("{dir}/_rels/{name}.rels")
        };
        match self.read(&rels) {
            Ok(Some(xml)) => relationships(&xml, dir),
            _ => Vec::new(),
        }
    }
}

/// Office Open XML's markup compatibility (`mc:AlternateContent`, whose `mc:Fallback` copies
/// the choice before it).
pub(super) const MC_NS: &str = "http://schemas.openxmlformats.org/markup-compatibility/2006";

/// OpenDocument's namespaces that text and tables are written in.
pub(super) const TEXT_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";
pub(super) const TABLE_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:table:1.0";
pub(super) const OFFICE_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";
pub(super) const STYLE_NS: &str = "urn:oasis:names:tc:opendocument:xmlns:style:1.0";

/// Whether an element's resolved namespace is `want`.
pub(super) fn ns_is(ns: &ResolveResult<'_>, want: &str) -> bool {
    matches!(ns, ResolveResult::Bound(n) if n.0 == want)
}

/// Whether an element is markup compatibility's (`mc:`).
pub(super) fn is_mc(ns: &ResolveResult<'_>) -> bool {
    ns_is(ns, MC_NS)
}

/// Where a walk through an XML part is: how deep, and which element (with everything in it)
/// is being skipped. Shared by the DOCX, ODT and presentation walkers.
#[derive(Debug, Default)]
pub(super) struct Nesting {
    depth: usize,
    skip_from: Option<usize>,
}

impl Nesting {
    /// Enters an element; the root's depth is 1.
    pub(super) fn enter(&mut self) {
        self.depth += 1;
    }

    /// The depth of the innermost open element (0 outside the root).
    pub(super) fn depth(&self) -> usize {
        self.depth
    }

    /// Whether the walk is inside a skipped element.
    pub(super) fn skipping(&self) -> bool {
        self.skip_from.is_some()
    }

    /// Skips the element just entered, and everything in it, until it ends.
    pub(super) fn skip(&mut self) {
        self.skip_from.get_or_insert(self.depth);
    }

    /// Leaves an element: its depth, or `None` when it was skipped or lies inside a skipped
    /// one (the skip ends with the skipped element).
    pub(super) fn leave(&mut self) -> Option<usize> {
        let at = self.depth;
        self.depth = at.saturating_sub(1);
        match self.skip_from {
            Some(from) => {
                if at == from {
                    self.skip_from = None;
                }
                None
            }
            None => Some(at),
        }
    }
}

/// XML bytes as text: UTF-8 (byte-order mark dropped) or UTF-16 with a byte-order mark.
pub(super) fn xml_text(bytes: Vec<u8>) -> Result<String, String> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(&bytes) {
        if enc == encoding_rs::UTF_8 {
            return String::from_utf8(bytes[bom..].to_vec()).map_err(|_| "not UTF-8".into());
        }
        let (text, _, bad) = enc.decode(&bytes);
        return if bad {
            Err(format!("not valid {}", enc.name()))
        } else {
            Ok(text.into_owned())
        };
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8".into())
}

/// One relationship of an Office Open XML part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Relationship {
    /// Its id (`rId3`), which the part's XML refers to.
    pub(super) id: String,
    /// Its type URI (`…/relationships/slide`).
    pub(super) kind: String,
    /// The entry it points to, resolved against the part's folder; `None` for an external
    /// target (a hyperlink).
    pub(super) target: Option<String>,
}

/// The relationships of a `.rels` part whose source part lies in `dir`.
pub(super) fn relationships(xml: &str, dir: &str) -> Vec<Relationship> {
    let mut reader = NsReader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "Relationship" => {
                let (Some(id), Some(kind), Some(target)) =
                    (attr(&e, "Id"), attr(&e, "Type"), attr(&e, "Target"))
                else {
                    continue;
                };
                let external = attr(&e, "TargetMode").is_some_and(|m| m == "External");
                out.push(Relationship {
                    id,
                    kind,
                    target: (!external).then(|| resolve(dir, &target)),
                });
            }
            Ok(Event::Eof) | Err(_) => return out,
            _ => {}
        }
    }
}

/// A relationship's target as an entry name: absolute (`/ppt/slides/slide1.xml`) or relative
/// to `dir` (`../notesSlides/notesSlide1.xml`), with `.` and `..` applied.
pub(super) fn resolve(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// An attribute's value by local name (`w:val` → "val"), entities resolved.
pub(super) fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes().with_checks(false).flatten().find_map(|a| {
        (a.key.local_name().as_ref() == local).then(|| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .map_or_else(|_| a.value.to_string(), |v| v.into_owned())
        })
    })
}

/// `dc:title` of Office's docProps/core.xml or OpenDocument's meta.xml, whitespace
/// collapsed.
pub(super) fn dc_title(xml: &str) -> Option<String> {
    let mut reader = NsReader::from_str(xml);
    let mut in_title = false;
    let mut title = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == "title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == "title" => break,
            Event::Text(t) if in_title => title.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_title => push_ref(&mut title, &r),
            Event::Eof => break,
            _ => {}
        }
    }
    let title = collapse(&title);
    (!title.is_empty()).then_some(title)
}

/// Appends an entity or character reference (`&amp;`, `&#x2014;`); unknown ones are dropped
/// (the parts declare no entities of their own).
pub(super) fn push_ref(out: &mut String, r: &BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        out.push(c);
    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r.xml10_content()) {
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_element_hides_what_it_holds_until_its_own_end() {
        let mut n = Nesting::default();
        n.enter(); // <root>
        n.enter(); // <skipped>
        n.skip();
        n.enter(); // <inner>
        assert!(n.skipping());
        // A nested skip does not move where the skip ends.
        n.skip();
        assert_eq!(n.leave(), None); // </inner>
        assert_eq!(n.leave(), None); // </skipped>
        assert!(!n.skipping());
        assert_eq!(n.depth(), 1);
        assert_eq!(n.leave(), Some(1)); // </root>
        assert_eq!(n.depth(), 0);
    }

    #[test]
    fn relationship_targets_resolve_against_the_part_folder() {
        assert_eq!(
            resolve("ppt/slides", "../notesSlides/notesSlide1.xml"),
            "ppt/notesSlides/notesSlide1.xml"
        );
        assert_eq!(resolve("ppt", "slides/slide1.xml"), "ppt/slides/slide1.xml");
        assert_eq!(resolve("ppt/slides", "/ppt/media/a.png"), "ppt/media/a.png");
        assert_eq!(resolve("", "./word/document.xml"), "word/document.xml");
        assert_eq!(resolve("a", "../../../x.xml"), "x.xml");
    }

    #[test]
    fn relationships_give_id_type_and_resolved_target_and_skip_external_ones() {
        let xml = r#"<?xml version="1.0"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Id="rId2" Type="http://x/relationships/notesSlide" Target="../notesSlides/notesSlide7.xml"/>
  <Relationship Id="rId9" Type="http://x/relationships/hyperlink" Target="https://example.com/a&amp;b" TargetMode="External"/>
  <Relationship Id="bad" Type="http://x/relationships/slide"/>
</Relationships>"#;
        let rels = relationships(xml, "ppt/slides");
        assert_eq!(
            rels,
            vec![
                Relationship {
                    id: "rId2".into(),
                    kind: "http://x/relationships/notesSlide".into(),
                    target: Some("ppt/notesSlides/notesSlide7.xml".into()),
                },
                Relationship {
                    id: "rId9".into(),
                    kind: "http://x/relationships/hyperlink".into(),
                    target: None,
                },
            ]
        );
    }
}
