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

use super::types::{ExtractError, MailInfo};

/// Attachments beyond this many in one message are ignored.
pub const MAX_ATTACHMENTS: usize = 256;

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

/// Parses an e-mail. Malformed input that has no header at all is refused.
pub fn parse_mail(bytes: &[u8]) -> Result<Mail, ExtractError> {
    use mail_parser::{HeaderName, MimeHeaders};
    let msg = mail_parser::MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| ExtractError::CorruptMail("not an RFC 822 message".into()))?;
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
    let subject = msg.subject().map(flat).filter(|s| !s.is_empty());
    let info = MailInfo {
        from: addresses(msg.from()).map(|s| flat(&s)),
        to: addresses(msg.to()).map(|s| flat(&s)),
        cc: addresses(msg.cc()).map(|s| flat(&s)),
        date: msg.date().map(mail_parser::DateTime::to_rfc3339),
        subject: subject.clone(),
    };
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
    let shown_subject = subject.clone().unwrap_or_else(|| "(no subject)".into());
    let mut header_text = format!("# {shown_subject}\n");
    for (label, value) in [
        ("From", &info.from),
        ("To", &info.to),
        ("Cc", &info.cc),
        ("Date", &info.date),
    ] {
        if let Some(v) = value {
            header_text.push_str(&format!("{label}: {v}\n"));
        }
    }
    if !attachments.is_empty() {
        let names: Vec<&str> = attachments.iter().map(|(n, _)| n.as_str()).collect();
        header_text.push_str(&format!("Attachments: {}\n", names.join(", ")));
    }
    let mut title = shown_subject;
    match (&info.from, &info.date) {
        (Some(f), Some(d)) => title.push_str(&format!(" (from {f}, {d})")),
        (Some(f), None) => title.push_str(&format!(" (from {f})")),
        (None, Some(d)) => title.push_str(&format!(" ({d})")),
        (None, None) => {}
    }
    Ok(Mail {
        header_text,
        title,
        info,
        body,
        attachments,
    })
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

    #[test]
    fn text_without_headers_is_refused() {
        assert!(matches!(
            parse_mail(b"\x00\x01\x02 just bytes"),
            Err(ExtractError::CorruptMail(_))
        ));
    }
}
