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

use super::types::{Body, ExtractError, Mail, MailInfo, safe_name};

/// Attachments beyond this many in one message are ignored.
pub const MAX_ATTACHMENTS: usize = 256;

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
        subject,
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

    #[test]
    fn text_without_headers_is_refused() {
        assert!(matches!(
            parse_mail(b"\x00\x01\x02 just bytes"),
            Err(ExtractError::CorruptMail(_))
        ));
    }
}
