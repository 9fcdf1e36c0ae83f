//! Outlook messages (`.msg`): a compound file (OLE2) of MAPI properties, read with `cfb`.
//!
//! The properties used (MS-OXMSG, MS-OXPROPS) are the subject (`0x0037`), the sender's name
//! and address (`0x0C1A`, `0x5D01` or `0x0C1F`), the display To and Cc lists (`0x0E04`,
//! `0x0E03`), the plain-text body (`0x1000`), else the HTML body (`0x1013`), the submit or
//! delivery time (`0x0039`, `0x0E06`, in the fixed-size property stream) and, for each
//! attachment storage, its file name (`0x3707`, else `0x3704`) and bytes (`0x3701`). The
//! result is the same [`Mail`] as for `.eml`, so the text, title and attachments are built
//! the same way. An attached Outlook item (an embedded message, storage `0x3701` of type
//! `000D`) is copied out as a `.msg` of its own, so it is read like a nested `.eml`.

use std::io::{Cursor, Read, Write};

use super::types::{Body, ExtractError, Mail, MailInfo, safe_name, utf16le};

/// Attachments beyond this many in one message are ignored.
pub const MAX_ATTACHMENTS: usize = 256;

/// Largest stream read from a compound file (a property stream, a Word document part).
const MAX_STREAM: u64 = 64 * 1024 * 1024;

fn corrupt(what: impl std::fmt::Display) -> ExtractError {
    ExtractError::CorruptMail(format!("Outlook .msg: {what}"))
}

/// A compound file read from memory (`.msg`, and `.doc` in [`super::doc`]).
pub(super) type Cfb<'a> = cfb::CompoundFile<Cursor<&'a [u8]>>;

/// A stream's bytes, if the stream exists (bounded by [`MAX_STREAM`]).
pub(super) fn stream(cfb: &mut Cfb<'_>, path: &str) -> Option<Vec<u8>> {
    if !cfb.is_stream(path) {
        return None;
    }
    let s = cfb.open_stream(path).ok()?;
    let mut out = Vec::new();
    s.take(MAX_STREAM).read_to_end(&mut out).ok()?;
    Some(out)
}

/// A string property under `dir` (`""` for the message, or an attachment storage): the
/// Unicode (`001F`) stream, else the 8-bit (`001E`) one, decoded as Windows-1252.
fn string_prop(cfb: &mut Cfb<'_>, dir: &str, id: u16) -> Option<String> {
    if let Some(b) = stream(cfb, &format!("{dir}/__substg1.0_{id:04X}001F")) {
        return Some(utf16le(&b).trim_end_matches('\0').to_string());
    }
    let b = stream(cfb, &format!("{dir}/__substg1.0_{id:04X}001E"))?;
    let (s, _, _) = encoding_rs::WINDOWS_1252.decode(&b);
    Some(s.trim_end_matches('\0').to_string())
}

/// A non-empty trimmed string property.
fn text_prop(cfb: &mut Cfb<'_>, dir: &str, id: u16) -> Option<String> {
    string_prop(cfb, dir, id)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// A time property (`PT_SYSTIME`) of the message, from the fixed-size property stream: an
/// 32-byte header, then 16-byte entries (tag, flags, 8-byte value).
fn time_prop(props: &[u8], id: u16) -> Option<u64> {
    let body = props.get(32..)?;
    body.chunks_exact(16).find_map(|e| {
        let tag = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
        ((tag >> 16) as u16 == id && (tag & 0xFFFF) == 0x0040)
            .then(|| u64::from_le_bytes([e[8], e[9], e[10], e[11], e[12], e[13], e[14], e[15]]))
    })
}

/// A Windows FILETIME (100 ns since 1601-01-01 UTC) as RFC 3339 in UTC.
pub fn filetime_to_rfc3339(ft: u64) -> Option<String> {
    let secs = i64::try_from(ft / 10_000_000).ok()? - 11_644_473_600;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::dates::civil_from_days(days);
    if !(1601..=9999).contains(&y) {
        return None;
    }
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// The message stored under `root` (an attachment's `__substg1.0_3701000D` storage) as a
/// `.msg` file of its own: the storage tree copied to a new compound file's root, with the
/// property stream's header widened from an embedded message's 24 bytes to a top-level
/// message's 32 (MS-OXMSG 2.4.1). `None` if it cannot be read or is too large.
fn embedded_as_msg(cfb: &mut Cfb<'_>, root: &str) -> Option<Vec<u8>> {
    let entries: Vec<(String, bool)> = cfb
        .walk_storage(root)
        .ok()?
        .map(|e| (e.path().to_string_lossy().into_owned(), e.is_storage()))
        .collect();
    let mut out = cfb::CompoundFile::create(Cursor::new(Vec::new())).ok()?;
    let mut total = 0u64;
    for (path, is_storage) in entries {
        let rel = path.strip_prefix(root)?;
        if rel.is_empty() || rel == "/" {
            continue;
        }
        if is_storage {
            out.create_storage(rel).ok()?;
            continue;
        }
        let mut bytes = stream(cfb, &path)?;
        if rel == "/__properties_version1.0" && bytes.len() >= 24 {
            bytes.splice(24..24, [0u8; 8]);
        }
        total += bytes.len() as u64;
        if total > MAX_STREAM {
            return None;
        }
        out.create_stream(rel).ok()?.write_all(&bytes).ok()?;
    }
    out.flush().ok()?;
    Some(out.into_inner().into_inner())
}

/// Parses an Outlook message.
pub fn parse_msg(bytes: &[u8]) -> Result<Mail, ExtractError> {
    let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| corrupt(format!("not a compound file ({e})")))?;
    let subject = text_prop(&mut cfb, "", 0x0037);
    let sender_name = text_prop(&mut cfb, "", 0x0C1A);
    let sender_addr = text_prop(&mut cfb, "", 0x5D01).or_else(|| text_prop(&mut cfb, "", 0x0C1F));
    let from = match (sender_name, sender_addr) {
        (Some(n), Some(a)) if n != a => Some(format!("{n} <{a}>")),
        (n, a) => a.or(n),
    };
    let to = text_prop(&mut cfb, "", 0x0E04);
    let cc = text_prop(&mut cfb, "", 0x0E03);
    if subject.is_none() && from.is_none() && to.is_none() {
        return Err(corrupt("no subject, sender or recipients"));
    }
    let date = stream(&mut cfb, "/__properties_version1.0").and_then(|p| {
        time_prop(&p, 0x0039)
            .or_else(|| time_prop(&p, 0x0E06))
            .and_then(filetime_to_rfc3339)
    });
    let body = if let Some(t) = string_prop(&mut cfb, "", 0x1000).filter(|t| !t.trim().is_empty()) {
        Body::Text(t)
    } else if let Some(h) = stream(&mut cfb, "/__substg1.0_10130102")
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .or_else(|| string_prop(&mut cfb, "", 0x1013))
    {
        Body::Html(h)
    } else {
        Body::None
    };
    let storages: Vec<String> = cfb
        .read_root_storage()
        .filter(|e| e.is_storage() && e.name().starts_with("__attach_version1.0_#"))
        .map(|e| e.path().to_string_lossy().into_owned())
        .take(MAX_ATTACHMENTS)
        .collect();
    let mut attachments = Vec::new();
    for (i, dir) in storages.iter().enumerate() {
        let name = text_prop(&mut cfb, dir, 0x3707)
            .or_else(|| text_prop(&mut cfb, dir, 0x3704))
            .unwrap_or_default();
        if let Some(data) = stream(&mut cfb, &format!("{dir}/__substg1.0_37010102")) {
            attachments.push((safe_name(&name, i), data));
            continue;
        }
        let embedded = format!("{dir}/__substg1.0_3701000D");
        if !cfb.is_storage(&embedded) {
            continue; // an OLE object: not read
        }
        let Some(data) = embedded_as_msg(&mut cfb, &embedded) else {
            continue;
        };
        // Outlook names an attached item by its display name (0x3001), e.g. its subject.
        let name = Some(name)
            .filter(|n| !n.is_empty())
            .or_else(|| text_prop(&mut cfb, dir, 0x3001))
            .or_else(|| text_prop(&mut cfb, &embedded, 0x0037))
            .unwrap_or_else(|| "message".into());
        let name = if name.to_ascii_lowercase().ends_with(".msg") {
            name
        } else {
            format!("{name}.msg")
        };
        attachments.push((safe_name(&name, i), data));
    }
    let info = MailInfo {
        from,
        to,
        cc,
        date,
        subject,
        folder: None,
    };
    Ok(Mail::new(info, body, attachments))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::{MsgFixture, msg};

    #[test]
    fn properties_body_and_attachments_are_read() {
        let bytes = msg(&MsgFixture {
            subject: "Deposition schedule",
            sender_name: "Ann Lee",
            sender_email: "ann@firm.example",
            to: "Bob Roe",
            cc: "",
            body: "The deposition is moved to Friday.",
            // 2020-03-03T10:15:00Z
            filetime: 132_277_041_000_000_000,
            attachments: vec![("notice.txt", b"Notice of deposition.".to_vec())],
            embedded: vec![(
                "Re: Deposition schedule",
                msg(&MsgFixture {
                    subject: "Re: Deposition schedule",
                    sender_name: "Bob Roe",
                    sender_email: "bob@client.example",
                    to: "Ann Lee",
                    body: "Friday works for the custodian.",
                    filetime: 132_277_041_000_000_000 + 36_000_000_000,
                    attachments: vec![("exhibit.txt", b"Exhibit A.".to_vec())],
                    ..MsgFixture::default()
                }),
            )],
        });
        let m = parse_msg(&bytes).unwrap();
        assert_eq!(m.info.subject.as_deref(), Some("Deposition schedule"));
        assert_eq!(m.info.from.as_deref(), Some("Ann Lee <ann@firm.example>"));
        assert_eq!(m.info.to.as_deref(), Some("Bob Roe"));
        assert_eq!(m.info.cc, None);
        assert_eq!(m.info.date.as_deref(), Some("2020-03-03T10:15:00Z"));
        assert_eq!(
            m.body,
            Body::Text("The deposition is moved to Friday.".into())
        );
        assert_eq!(m.attachments.len(), 2);
        assert_eq!(
            m.attachments[0],
            ("notice.txt".to_string(), b"Notice of deposition.".to_vec())
        );
        // The attached Outlook item comes out as a .msg of its own, read like any .msg.
        let (name, bytes) = &m.attachments[1];
        assert_eq!(name, "Re: Deposition schedule.msg");
        let inner = parse_msg(bytes).unwrap();
        assert_eq!(
            inner.info.from.as_deref(),
            Some("Bob Roe <bob@client.example>")
        );
        assert_eq!(inner.info.date.as_deref(), Some("2020-03-03T11:15:00Z"));
        assert_eq!(
            inner.body,
            Body::Text("Friday works for the custodian.".into())
        );
        assert_eq!(
            inner.attachments,
            [("exhibit.txt".to_string(), b"Exhibit A.".to_vec())]
        );
    }

    #[test]
    fn filetimes_convert_to_utc_dates() {
        assert_eq!(
            filetime_to_rfc3339(116_444_736_000_000_000).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            filetime_to_rfc3339(132_277_041_000_000_000).as_deref(),
            Some("2020-03-03T10:15:00Z")
        );
    }

    #[test]
    fn not_a_compound_file_is_malformed_mail() {
        assert!(
            parse_msg(b"From: x\r\n\r\nhi")
                .unwrap_err()
                .to_string()
                .contains(".msg")
        );
    }
}

/// Our own property decoding, fuzzed directly (outside any isolation, so a panic fails).
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_msg_times_names_and_headers_never_panic(
            ft in any::<u64>(),
            props in proptest::collection::vec(any::<u8>(), 0..200),
            id in any::<u16>(),
            name in ".{0,40}",
            subject in proptest::option::of(".{0,40}"),
        ) {
            if let Some(t) = filetime_to_rfc3339(ft) {
                prop_assert_eq!(t.len(), 20);
            }
            let _ = time_prop(&props, id);
            let safe = safe_name(&name, 3);
            prop_assert!(!safe.is_empty() && !safe.contains(['/', '\\', '#']));
            let m = Mail::new(
                MailInfo { subject, ..MailInfo::default() },
                Body::None,
                vec![(safe, Vec::new())],
            );
            prop_assert!(m.header_text.starts_with("# "));
        }
    }
}
