//! E-mail (RFC 822 / MIME `.eml`): headers, body, and the attachments as separate files.
//!
//! The message is parsed with the `mail-parser` crate. The document's text starts with the
//! subject as a `#` heading (so every chunk's breadcrumb names the e-mail), then one line per
//! header (`From:`, `To:`, `Cc:`, `Date:`, and `Attachments:` listing the attachment names),
//! a blank line, and the body: the plain-text part when there is one, else the HTML part
//! converted to text by [`super::extract`].
//!
//! Attachments are returned as (name, bytes); [`super::extract`] extracts each one of a
//! supported type as its own document, named `mail.eml#name`.
//!
//! An mbox mailbox is split into its messages ([`split_mbox`]); each is an e-mail of its own,
//! named by its place ([`mbox_message_name`]), and the mailbox's own text lists them
//! ([`mbox_listing`]).

use super::types::{Body, ExtractError, Mail, MailInfo, safe_name};

/// Attachments beyond this many in one message are ignored.
pub const MAX_ATTACHMENTS: usize = 256;

/// The header lexsearch writes into each message it takes out of an Outlook data file: the
/// folder that holds it there (`Personal folders/Inbox/Lease`), shown as a `Folder:` line
/// under the subject.
pub const FOLDER_HEADER: &str = "X-Lexsearch-Folder";

/// Messages beyond this many in one mailbox are ignored (and said so in its listing).
pub const MAX_MESSAGES: usize = 100_000;

/// The messages of an mbox mailbox, in order (each `From ` line starts one; `>From ` quoting
/// undone), by mail-parser's reader. A file without a `From ` line is refused.
pub fn split_mbox(bytes: &[u8]) -> Result<Vec<Vec<u8>>, ExtractError> {
    let mut messages = Vec::new();
    for message in mail_parser::mailbox::mbox::MessageIterator::new(std::io::Cursor::new(bytes))
        .take(MAX_MESSAGES)
    {
        let message = message.map_err(|e| ExtractError::CorruptMail(e.to_string()))?;
        messages.push(message.unwrap_contents());
    }
    if messages.is_empty() {
        return Err(ExtractError::CorruptMail(
            "no message: an mbox mailbox starts each message with a `From ` line".into(),
        ));
    }
    Ok(messages)
}

/// The name of message `n` (from 1) of a mailbox of `count`: `0003.eml` ([`numbered_name`]).
pub fn mbox_message_name(n: usize, count: usize) -> String {
    numbered_name(n, count, "eml")
}

/// The name of item `n` (from 1) of `count` in a container, with `extension`: `0003.eml`,
/// as wide as the largest number and at least four digits, so that the names sort in order.
pub fn numbered_name(n: usize, count: usize, extension: &str) -> String {
    let width = count.to_string().len().max(4);
    format!("{n:0width$}.{extension}")
}

/// The text of a mailbox's own document: a heading and one line per message, its name and
/// title ("0003.eml: Re: Lease (from Ann Lee <ann@firm.example>, 2020-03-03T10:15:00Z)").
pub fn mbox_listing(messages: &[Vec<u8>]) -> String {
    let count = messages.len();
    let mut text = format!(
        "# Mailbox of {count} message{}\n",
        if count == 1 { "" } else { "s" }
    );
    for (i, message) in messages.iter().enumerate() {
        let name = mbox_message_name(i + 1, count);
        let title = mail_title(message).unwrap_or_else(|e| format!("not readable: {e}"));
        text.push_str(&format!("{name}: {title}\n"));
    }
    if count == MAX_MESSAGES {
        text.push_str(&format!(
            "(the first {MAX_MESSAGES} messages; the rest are not indexed)\n"
        ));
    }
    text
}

fn addresses(a: Option<&mail_parser::Address<'_>>) -> Option<String> {
    let list: Vec<String> = a?
        .iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(n), Some(e)) if !n.trim().is_empty() => format!("{} <{e}>", n.trim()),
            (_, Some(e)) => e.to_string(),
            (Some(n), None) => n.trim().to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    (!list.is_empty()).then(|| list.join(", "))
}

/// One line: header values may hold folded or encoded line breaks.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The headers a search result shows of a parsed message; one with none of the usual
/// headers is refused.
fn mail_info(msg: &mail_parser::Message<'_>) -> Result<MailInfo, ExtractError> {
    use mail_parser::HeaderName;
    // RFC 5322 requires From and Date; a file with none of the usual headers is not mail.
    let known = [
        HeaderName::From,
        HeaderName::To,
        HeaderName::Subject,
        HeaderName::Date,
        HeaderName::MessageId,
    ];
    if !known.into_iter().any(|h| msg.header(h).is_some()) {
        return Err(ExtractError::CorruptMail(
            "no From, To, Subject, Date or Message-ID header; not an RFC 822 message".into(),
        ));
    }
    Ok(MailInfo {
        from: addresses(msg.from()).map(|s| flat(&s)),
        to: addresses(msg.to()).map(|s| flat(&s)),
        cc: addresses(msg.cc()).map(|s| flat(&s)),
        date: msg.date().map(mail_parser::DateTime::to_rfc3339),
        subject: msg.subject().map(flat).filter(|s| !s.is_empty()),
        folder: msg
            .header(FOLDER_HEADER)
            .and_then(mail_parser::HeaderValue::as_text)
            .map(flat)
            .filter(|s| !s.is_empty()),
    })
}

/// The title [`parse_mail`] gives the e-mail `bytes` ([`MailInfo::title`]), from its headers
/// alone: its body and attachments are not decoded. For the lists of a mailbox's or data
/// file's messages.
pub fn mail_title(bytes: &[u8]) -> Result<String, ExtractError> {
    let msg = mail_parser::MessageParser::default()
        .parse_headers(bytes)
        .ok_or_else(|| ExtractError::CorruptMail("not an RFC 822 message".into()))?;
    Ok(mail_info(&msg)?.title())
}

/// Parses an e-mail. Malformed input that has no header at all is refused.
pub fn parse_mail(bytes: &[u8]) -> Result<Mail, ExtractError> {
    use mail_parser::MimeHeaders;
    let msg = mail_parser::MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| ExtractError::CorruptMail("not an RFC 822 message".into()))?;
    let info = mail_info(&msg)?;
    let mut attachments = Vec::new();
    for (i, part) in msg.attachments().enumerate().take(MAX_ATTACHMENTS) {
        let name = part
            .attachment_name()
            .map(str::to_string)
            .or_else(|| {
                part.message()
                    .and_then(|m| m.subject())
                    .map(|s| format!("{}.eml", flat(s)))
            })
            .unwrap_or_default();
        attachments.push((safe_name(&name, i), part.contents().to_vec()));
    }
    let body = if let Some(text) = msg.text_bodies().next().filter(|p| !p.is_text_html()) {
        Body::Text(text.text_contents().unwrap_or_default().to_string())
    } else if let Some(html) = msg.html_bodies().next() {
        Body::Html(html.text_contents().unwrap_or_default().to_string())
    } else {
        Body::None
    };
    Ok(Mail::new(info, body, attachments))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &str = "From: Ann Lee <ann@firm.example>\r\n\
To: bob@client.example, Carl <carl@client.example>\r\n\
Cc: records@firm.example\r\n\
Subject: Re: Lease =?utf-8?q?d=C3=A9p=C3=B4t?= dispute\r\n\
Date: Tue, 3 Mar 2020 10:15:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
The landlord kept the security deposit.\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
Content-Disposition: attachment; filename=\"../notes/x#1.txt\"\r\n\
\r\n\
Attached note.\r\n\
--b1--\r\n";

    #[test]
    fn headers_body_and_attachments_are_read() {
        let m = parse_mail(MAIL.as_bytes()).unwrap();
        assert_eq!(m.info.subject.as_deref(), Some("Re: Lease dépôt dispute"));
        assert_eq!(m.info.from.as_deref(), Some("Ann Lee <ann@firm.example>"));
        assert_eq!(
            m.info.to.as_deref(),
            Some("bob@client.example, Carl <carl@client.example>")
        );
        assert_eq!(m.info.date.as_deref(), Some("2020-03-03T10:15:00Z"));
        assert_eq!(
            m.body,
            Body::Text("The landlord kept the security deposit.".into())
        );
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].0, "_notes_x_1.txt");
        assert_eq!(m.attachments[0].1, b"Attached note.");
        assert!(
            m.header_text
                .starts_with("# Re: Lease dépôt dispute\nFrom: Ann Lee")
        );
        assert!(m.header_text.contains("Attachments: _notes_x_1.txt\n"));
        assert_eq!(
            m.title,
            "Re: Lease dépôt dispute (from Ann Lee <ann@firm.example>, 2020-03-03T10:15:00Z)"
        );
    }

    /// `messages` as an mbox mailbox: a `From ` line before each, `From ` lines quoted.
    fn mailbox(messages: &[&str]) -> Vec<u8> {
        let mut out = String::new();
        for m in messages {
            out.push_str("From ann@firm.example Tue Mar  3 10:15:00 2020\n");
            for line in m.split_inclusive('\n') {
                if line.starts_with("From ") {
                    out.push('>');
                }
                out.push_str(line);
            }
            out.push('\n');
        }
        out.into_bytes()
    }

    #[test]
    fn a_mailbox_splits_into_its_messages_in_order_with_from_lines_unquoted() {
        let second =
            "From: Bob <bob@client.example>\nSubject: Reply\n\nAgreed.\nFrom now on, by e-mail.\n";
        let bytes = mailbox(&[MAIL, second]);
        let messages = split_mbox(&bytes).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(
            parse_mail(&messages[0]).unwrap().info.subject.as_deref(),
            Some("Re: Lease dépôt dispute")
        );
        let reply = parse_mail(&messages[1]).unwrap();
        assert_eq!(
            reply.body,
            Body::Text("Agreed.\nFrom now on, by e-mail.\n\n".into())
        );
        let listing = mbox_listing(&messages);
        assert_eq!(
            listing,
            "# Mailbox of 2 messages\n\
             0001.eml: Re: Lease dépôt dispute (from Ann Lee <ann@firm.example>, 2020-03-03T10:15:00Z)\n\
             0002.eml: Reply (from Bob <bob@client.example>)\n"
        );
    }

    #[test]
    fn message_names_sort_in_mailbox_order_at_any_size() {
        assert_eq!(mbox_message_name(3, 12), "0003.eml");
        assert_eq!(mbox_message_name(42, 12_000), "00042.eml");
        assert_eq!(mbox_message_name(12_000, 12_000), "12000.eml");
    }

    #[test]
    fn a_file_without_a_from_line_is_not_a_mailbox() {
        for bytes in [&b""[..], MAIL.as_bytes(), b"\n\n"] {
            assert!(matches!(
                split_mbox(bytes),
                Err(ExtractError::CorruptMail(_))
            ));
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        /// Any bytes give messages or an error, never a panic; a mailbox's messages come
        /// back whole whatever follows them.
        #[test]
        fn fuzz_mailbox_splitting_never_panics(
            raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
        ) {
            if let Ok(messages) = split_mbox(&raw) {
                let _ = mbox_listing(&messages);
            }
            let mut bytes = mailbox(&[MAIL]);
            bytes.extend_from_slice(&raw);
            let messages = split_mbox(&bytes).unwrap();
            proptest::prop_assert!(messages[0].starts_with(b"From: Ann Lee"));
        }
    }

    #[test]
    fn the_folder_an_outlook_data_file_kept_a_message_in_is_shown_under_its_subject_and_kept() {
        let bytes = format!("{FOLDER_HEADER}: Personal folders/Sent Items\r\n{MAIL}");
        let m = parse_mail(bytes.as_bytes()).unwrap();
        assert_eq!(
            m.info.folder.as_deref(),
            Some("Personal folders/Sent Items")
        );
        assert_eq!(parse_mail(MAIL.as_bytes()).unwrap().info.folder, None);
        assert!(
            m.header_text.starts_with(
                "# Re: Lease dépôt dispute\nFolder: Personal folders/Sent Items\nFrom: Ann Lee"
            ),
            "{}",
            m.header_text
        );
        assert!(
            !parse_mail(MAIL.as_bytes())
                .unwrap()
                .header_text
                .contains("Folder:")
        );
    }

    #[test]
    fn the_title_from_the_headers_alone_is_the_parsed_message_s() {
        let no_subject = "From: Bob <bob@client.example>\r\n\r\nAgreed.\r\n";
        let no_sender = "Subject: Re: Lease\r\nDate: Tue, 3 Mar 2020 10:15:00 +0000\r\n\r\nOk.\r\n";
        for bytes in [MAIL, no_subject, no_sender] {
            let parsed = parse_mail(bytes.as_bytes()).unwrap();
            assert_eq!(mail_title(bytes.as_bytes()).unwrap(), parsed.title);
        }
        assert_eq!(
            mail_title(no_subject.as_bytes()).unwrap(),
            "(no subject) (from Bob <bob@client.example>)"
        );
        assert!(matches!(
            mail_title(b"\x00\x01 just bytes"),
            Err(ExtractError::CorruptMail(_))
        ));
    }

    #[test]
    fn text_without_headers_is_refused() {
        assert!(matches!(
            parse_mail(b"\x00\x01\x02 just bytes"),
            Err(ExtractError::CorruptMail(_))
        ));
    }
}
