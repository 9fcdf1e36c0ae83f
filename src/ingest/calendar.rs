//! Calendars (iCalendar: `.ics`, `.ical`, `.ifb`, and vCalendar 1.0's `.vcs`) and address
//! books (vCard: `.vcf`, `.vcard`), parsed by Stalwart's `calcard` (forgiving of what
//! Outlook, Google and Apple write: folded lines, vCard 2.1's quoted-printable values and
//! charsets).
//!
//! Each event, task or journal entry, and each contact, is a section of its own headed by its
//! title (`# Lease signing`, `# Ann Lee`), so a hit's breadcrumb names it; under the heading, one
//! line for each field a reader looks for ("When: 2021-08-10 19:00 UTC – 19:30 UTC",
//! "Where:", "Organizer:", "Attendees:", "E-mail:", "Phone:" ...), then its description or
//! note. Alarms, time zone definitions, photos, keys and the stamps a program writes when it
//! exports (`DTSTAMP`, `UID`, `REV`) are left out.
//!
//! An Outlook data file's appointments and contacts ([`super::pst`]) carry their folder in a
//! property of lexsearch's own ([`FOLDER_PROPERTY`], written by [`with_folder`]), shown as a
//! `Folder:` line.

use calcard::common::PartialDateTime;
use calcard::icalendar::{
    ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName,
    ICalendarParameterValue, ICalendarProperty, ICalendarRecurrenceRule, ICalendarValue,
};
use calcard::vcard::{VCard, VCardEntry, VCardParameterName, VCardProperty, VCardValue};
use calcard::{Entry, Parser};

use super::types::{ExtractError, ExtractedText, Extractor};
use super::word::ordinal;

/// The property lexsearch adds to an Outlook item to name the folder that holds it.
pub const FOLDER_PROPERTY: &str = "X-LEXSEARCH-FOLDER";

/// The format's name in messages.
const KIND: &str = "calendar or contacts";

/// At most this many components are read of one file (a calendar of ten years of daily
/// entries has about 3,700).
const MAX_ENTRIES: usize = 100_000;

/// Calendars and address books.
#[derive(Debug, Clone, Copy, Default)]
pub struct CalendarExtractor;

impl Extractor for CalendarExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        extract_calendar(bytes)
    }
}

/// The text of a calendar or an address book (either may hold both).
pub fn extract_calendar(bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
    let (sections, name) = sections(bytes)?;
    // One item's title, else the calendar's own name (`X-WR-CALNAME`, `NAME`).
    let title = match sections.as_slice() {
        [one] => Some(one.title.clone()),
        _ => name,
    };
    let mut text = String::new();
    for s in &sections {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&s.text);
    }
    Ok(ExtractedText {
        text,
        title,
        ..ExtractedText::default()
    })
}

/// The title of a calendar item or contact (its first, when the file holds several): what an
/// Outlook data file's own document lists it by ("Lease signing (2021-08-10 19:00 UTC)").
pub fn calendar_title(bytes: &[u8]) -> Result<String, ExtractError> {
    let (sections, _) = sections(bytes)?;
    let first = sections.first().ok_or(ExtractError::Empty)?;
    Ok(match &first.when {
        Some(when) => format!("{} ({when})", first.title),
        None => first.title.clone(),
    })
}

/// `bytes` (an iCalendar or vCard object) with [`FOLDER_PROPERTY`] naming `folder` after its
/// first `BEGIN:` line.
pub fn with_folder(bytes: &[u8], folder: &str) -> Vec<u8> {
    let folder: String = folder
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let property = format!("{FOLDER_PROPERTY}:{}\r\n", escape(&folder));
    // After the first line that begins an object (blank lines or a byte-order mark may come
    // before it).
    let mut at = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        at += line.len();
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if line.len() >= 6 && line[..6].eq_ignore_ascii_case(b"BEGIN:") {
            break;
        }
    }
    let mut out = Vec::with_capacity(bytes.len() + property.len());
    out.extend_from_slice(&bytes[..at]);
    if at == bytes.len() && !bytes.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(property.as_bytes());
    out.extend_from_slice(&bytes[at..]);
    out
}

/// A text value as iCalendar and vCard write it (`\\`, `\;`, `\,` escaped).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ';' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One event, task, journal entry or contact, as text.
struct Section {
    title: String,
    when: Option<String>,
    text: String,
}

/// The sections of `bytes`, in order, and the name of its first calendar. A file of neither
/// format, or with nothing in it, is refused.
fn sections(bytes: &[u8]) -> Result<(Vec<Section>, Option<String>), ExtractError> {
    let input = decode(bytes);
    let mut parser = Parser::new(&input);
    let mut out = Vec::new();
    let mut objects = 0usize;
    let mut name = None;
    loop {
        match parser.entry() {
            Entry::ICalendar(cal) => {
                objects += 1;
                // The calendar's own properties are its first component's.
                let own = cal.components.first().map(|c| c.entries.as_slice());
                let folder = own.and_then(|e| other_text(e, FOLDER_PROPERTY));
                if name.is_none() {
                    name = own.and_then(|e| {
                        other_text(e, "X-WR-CALNAME").or_else(|| {
                            e.iter()
                                .find(|e| e.name == ICalendarProperty::Name)
                                .and_then(|e| e.values.first()?.as_text().map(one_line))
                        })
                    });
                }
                for c in &cal.components {
                    if let Some(s) = calendar_section(c, folder.as_deref()) {
                        out.push(s);
                    }
                }
            }
            Entry::VCard(card) => {
                objects += 1;
                out.push(contact_section(&card));
            }
            Entry::Eof => break,
            Entry::TooManyComponents => break,
            // Lines outside any object, and objects cut short, are passed over: what can be
            // read is kept.
            _ => {}
        }
        if out.len() >= MAX_ENTRIES {
            break;
        }
    }
    // (One calendar may hold more than the limit.)
    out.truncate(MAX_ENTRIES);
    let full = out.len() == MAX_ENTRIES;
    if let Some(last) = out.last_mut().filter(|_| full) {
        last.text.push_str(&format!(
            "\n(the first {MAX_ENTRIES} items of this file; the rest are not indexed)\n"
        ));
    }
    if objects == 0 {
        return Err(ExtractError::Corrupt {
            kind: KIND,
            reason: "no BEGIN:VCALENDAR or BEGIN:VCARD object in it".into(),
        });
    }
    if out.is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok((out, name.filter(|n| !n.is_empty())))
}

/// UTF-8 as the formats prescribe; anything else (vCard 2.1 from older Outlook) as
/// Windows-1252.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0,
    }
}

/// The text of property `name` (an `X-` property) among `entries`.
fn other_text(entries: &[ICalendarEntry], name: &str) -> Option<String> {
    entries
        .iter()
        .find(|e| matches!(&e.name, ICalendarProperty::Other(n) if n.eq_ignore_ascii_case(name)))
        .and_then(|e| e.values.first())
        .and_then(ICalendarValue::as_text)
        .map(one_line)
}

/// An event, task or journal entry as a section; other components (time zones, alarms,
/// free/busy) give none.
fn calendar_section(c: &ICalendarComponent, folder: Option<&str>) -> Option<Section> {
    let kind = match c.component_type {
        ICalendarComponentType::VEvent => "Calendar event",
        ICalendarComponentType::VTodo => "Task",
        ICalendarComponentType::VJournal => "Journal entry",
        _ => return None,
    };
    let texts = |p: ICalendarProperty| -> Vec<String> {
        text_values(c, p)
            .map(one_line)
            .filter(|t| !t.is_empty())
            .collect()
    };
    let first = |p: ICalendarProperty| texts(p).into_iter().next();
    let title = first(ICalendarProperty::Summary).unwrap_or_else(|| "(no title)".into());
    let mut lines = Vec::new();
    let start = c.property(&ICalendarProperty::Dtstart).and_then(date_of);
    let end = c
        .property(&ICalendarProperty::Dtend)
        .or_else(|| c.property(&ICalendarProperty::Due))
        .and_then(date_of);
    lines.push(kind.to_string());
    let when = if c.component_type == ICalendarComponentType::VTodo {
        // A task: when it starts, if it says, and when it is due.
        if let Some(s) = &start {
            lines.push(format!("Starts: {s}"));
        }
        if let Some(e) = &end {
            lines.push(format!("Due: {e}"));
        }
        end.map(|e| format!("due {e}")).or(start)
    } else {
        let when = match (&start, &end) {
            (Some(s), Some(e)) if s == e => Some(s.clone()),
            (Some(s), Some(e)) => Some(format!("{s} – {}", shorter_end(s, e))),
            (Some(s), None) => Some(s.clone()),
            (None, Some(e)) => Some(format!("until {e}")),
            (None, None) => None,
        };
        if let Some(w) = &when {
            lines.push(format!("When: {w}"));
        }
        when
    };
    for e in c
        .entries
        .iter()
        .filter(|e| e.name == ICalendarProperty::Rrule)
    {
        if let Some(ICalendarValue::RecurrenceRule(r)) = e.values.first() {
            lines.push(format!("Repeats: {}", recurrence(r)));
        }
    }
    let mut field = |label: &str, values: Vec<String>| {
        if !values.is_empty() {
            lines.push(format!("{label}: {}", values.join(", ")));
        }
    };
    field("Where", texts(ICalendarProperty::Location));
    field("Organizer", people(c, ICalendarProperty::Organizer));
    field("Attendees", people(c, ICalendarProperty::Attendee));
    field(
        "Status",
        texts(ICalendarProperty::Status)
            .iter()
            .map(|s| s.to_lowercase())
            .collect(),
    );
    // LibPST writes `CATEGORIES:NONE` for an item without any.
    let categories = texts(ICalendarProperty::Categories);
    field(
        "Categories",
        categories
            .into_iter()
            .filter(|c| !c.eq_ignore_ascii_case("none"))
            .collect(),
    );
    field("Link", texts(ICalendarProperty::Url));
    if let Some(f) = folder {
        field("Folder", vec![one_line(f)]);
    }
    let mut text = format!("# {title}\n{}\n", lines.join("\n"));
    for body in texts_kept(c, ICalendarProperty::Description)
        .into_iter()
        .chain(texts_kept(c, ICalendarProperty::Comment))
    {
        text.push('\n');
        text.push_str(body.trim_end());
        text.push('\n');
    }
    Some(Section { title, when, text })
}

/// The text values of property `p` of `c`, as they are.
fn text_values(c: &ICalendarComponent, p: ICalendarProperty) -> impl Iterator<Item = &str> {
    c.entries
        .iter()
        .filter(move |e| e.name == p)
        .flat_map(|e| e.values.iter().filter_map(ICalendarValue::as_text))
}

/// The values of `p` with their line breaks (descriptions, comments).
fn texts_kept(c: &ICalendarComponent, p: ICalendarProperty) -> Vec<String> {
    text_values(c, p)
        .map(|t| t.replace("\r\n", "\n"))
        .filter(|t| !t.trim().is_empty())
        .collect()
}

/// The organizer or attendees: `Name <address>` (or either alone), with a reply other than
/// "needs action" (`(accepted)`, `(declined)`).
fn people(c: &ICalendarComponent, p: ICalendarProperty) -> Vec<String> {
    c.entries
        .iter()
        .filter(|e| e.name == p)
        .filter_map(|e| {
            let name = e
                .parameter(&ICalendarParameterName::Cn)
                .and_then(ICalendarParameterValue::as_text)
                .map(one_line)
                .filter(|n| !n.is_empty());
            let address = e.calendar_address().map(one_line).filter(|a| !a.is_empty());
            let mut who = match (name, address) {
                (Some(n), Some(a)) if n != a => format!("{n} <{a}>"),
                (Some(n), _) => n,
                (None, Some(a)) => a,
                (None, None) => return None,
            };
            if let Some(reply) = e
                .parameter(&ICalendarParameterName::Partstat)
                .and_then(ICalendarParameterValue::as_text)
                .filter(|s| !s.eq_ignore_ascii_case("NEEDS-ACTION"))
            {
                who.push_str(&format!(" ({})", reply.to_lowercase()));
            }
            Some(who)
        })
        .collect()
}

/// A date or time as a reader writes it: `2021-08-10` for a day, `2021-08-10 19:00 UTC`,
/// `2021-08-10 09:00 America/Denver` (its `TZID`), or `2021-08-10 09:00` in floating time.
fn date_of(e: &ICalendarEntry) -> Option<String> {
    let d = e.values.first()?.as_partial_date_time()?;
    let mut s = day_of(d)?;
    if let (Some(h), Some(m)) = (d.hour, d.minute) {
        s.push_str(&format!(" {h:02}:{m:02}"));
        if let Some(tz) = e
            .parameter(&ICalendarParameterName::Tzid)
            .and_then(ICalendarParameterValue::as_text)
        {
            s.push(' ');
            s.push_str(&one_line(tz));
        } else if let Some(th) = d.tz_hour {
            let tm = d.tz_minute.unwrap_or(0);
            if th == 0 && tm == 0 {
                s.push_str(" UTC");
            } else {
                let sign = if d.tz_minus { '-' } else { '+' };
                s.push_str(&format!(" {sign}{th:02}:{tm:02}"));
            }
        }
    }
    Some(s)
}

/// `YYYY-MM-DD` (or as much of it as there is).
fn day_of(d: &PartialDateTime) -> Option<String> {
    Some(match (d.year, d.month, d.day) {
        (Some(y), Some(m), Some(day)) => format!("{y:04}-{m:02}-{day:02}"),
        (Some(y), Some(m), None) => format!("{y:04}-{m:02}"),
        (Some(y), None, None) => format!("{y:04}"),
        (None, Some(m), Some(day)) => format!("--{m:02}-{day:02}"),
        _ => return None,
    })
}

/// The end of a span without the day it shares with its start (`19:30 UTC` after
/// `2021-08-10 19:00 UTC`).
fn shorter_end<'a>(start: &str, end: &'a str) -> &'a str {
    match (start.split_once(' '), end.split_once(' ')) {
        (Some((sd, _)), Some((ed, rest))) if sd == ed => rest,
        _ => end,
    }
}

/// A recurrence rule in words: "daily, 3 times", "every 2 weeks on MO, WE until 2022-01-01".
fn recurrence(r: &ICalendarRecurrenceRule) -> String {
    use calcard::icalendar::ICalendarFrequency as F;
    let (one, many) = match r.freq {
        F::Yearly => ("yearly", "years"),
        F::Monthly => ("monthly", "months"),
        F::Weekly => ("weekly", "weeks"),
        F::Daily => ("daily", "days"),
        F::Hourly => ("hourly", "hours"),
        F::Minutely => ("every minute", "minutes"),
        F::Secondly => ("every second", "seconds"),
    };
    let mut s = match r.interval {
        Some(n) if n > 1 => format!("every {n} {many}"),
        _ => one.to_string(),
    };
    if !r.byday.is_empty() {
        let days: Vec<String> = r.byday.iter().map(|d| weekday(&d.to_string())).collect();
        s.push_str(&format!(" on {}", days.join(", ")));
    }
    if !r.bymonthday.is_empty() {
        let days: Vec<String> = r.bymonthday.iter().map(ToString::to_string).collect();
        s.push_str(&format!(" on day {}", days.join(", ")));
    }
    if let Some(n) = r.count {
        s.push_str(&format!(", {n} time{}", if n == 1 { "" } else { "s" }));
    }
    if let Some(u) = r.until.as_ref().and_then(day_of) {
        s.push_str(&format!(" until {u}"));
    }
    s
}

/// A day of a rule in words: `MO` is "Monday", `2SU` "the 2nd Sunday", `-1FR` "the last
/// Friday".
fn weekday(code: &str) -> String {
    let at = code.len().saturating_sub(2);
    let at = if code.is_char_boundary(at) { at } else { 0 };
    let (n, day) = code.split_at(at);
    let day = match day {
        "MO" => "Monday",
        "TU" => "Tuesday",
        "WE" => "Wednesday",
        "TH" => "Thursday",
        "FR" => "Friday",
        "SA" => "Saturday",
        "SU" => "Sunday",
        _ => return code.to_string(),
    };
    match n.trim_start_matches('+').parse::<i32>() {
        Ok(-1) => format!("the last {day}"),
        Ok(n) if n < 0 => format!("the {} from last {day}", ordinal(n.unsigned_abs())),
        Ok(n) => format!("the {} {day}", ordinal(n.unsigned_abs())),
        Err(_) => day.to_string(),
    }
}

/// A contact as a section: its name as heading, then its organization, title, addresses,
/// numbers and note.
fn contact_section(card: &VCard) -> Section {
    let values = |p: VCardProperty| -> Vec<(&VCardEntry, String)> {
        card.entries
            .iter()
            .filter(|e| e.name == p)
            .filter_map(|e| {
                let parts: Vec<String> = e
                    .values
                    .iter()
                    .filter_map(|v| match v {
                        VCardValue::Text(t) => Some(one_line(t)),
                        VCardValue::Component(parts) => Some(
                            parts
                                .iter()
                                .map(|p| one_line(p))
                                .filter(|p| !p.is_empty())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                        VCardValue::PartialDateTime(d) => day_of(d),
                        _ => None,
                    })
                    .filter(|t| !t.is_empty())
                    .collect();
                (!parts.is_empty()).then(|| (e, parts.join(", ")))
            })
            .collect()
    };
    let plain =
        |p: VCardProperty| -> Vec<String> { values(p).into_iter().map(|(_, v)| v).collect() };
    let typed = |p: VCardProperty| -> Vec<String> {
        values(p)
            .into_iter()
            .map(|(e, v)| match types_of(e) {
                Some(t) => format!("{v} ({t})"),
                None => v,
            })
            .collect()
    };
    // The name: FN, else N's given and family names, else the organization or an address.
    let structured = card
        .entries
        .iter()
        .find(|e| e.name == VCardProperty::N)
        .map(|e| {
            let parts: Vec<String> = e
                .values
                .iter()
                .map(|v| match v {
                    VCardValue::Text(t) => one_line(t),
                    VCardValue::Component(c) => {
                        c.iter().map(|p| one_line(p)).collect::<Vec<_>>().join(" ")
                    }
                    _ => String::new(),
                })
                .collect();
            // N is family; given; additional; prefixes; suffixes.
            let at = |i: usize| parts.get(i).map(String::as_str).unwrap_or("");
            [at(3), at(1), at(2), at(0), at(4)]
                .iter()
                .filter(|p| !p.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|n| !n.is_empty());
    let title = plain(VCardProperty::Fn)
        .into_iter()
        .next()
        .or(structured)
        .or_else(|| plain(VCardProperty::Org).into_iter().next())
        .or_else(|| plain(VCardProperty::Email).into_iter().next())
        .unwrap_or_else(|| "(no name)".into());
    let mut lines = vec!["Contact".to_string()];
    let mut field = |label: &str, values: Vec<String>| {
        if !values.is_empty() {
            lines.push(format!("{label}: {}", values.join("; ")));
        }
    };
    field("Also known as", plain(VCardProperty::Nickname));
    field("Organization", plain(VCardProperty::Org));
    field("Job title", plain(VCardProperty::Title));
    field("Role", plain(VCardProperty::Role));
    field("E-mail", typed(VCardProperty::Email));
    field("Phone", typed(VCardProperty::Tel));
    field("Address", typed(VCardProperty::Adr));
    field("Website", plain(VCardProperty::Url));
    field("Birthday", plain(VCardProperty::Bday));
    field("Categories", plain(VCardProperty::Categories));
    field(
        "Folder",
        plain(VCardProperty::Other(FOLDER_PROPERTY.to_string())),
    );
    let mut text = format!("# {title}\n{}\n", lines.join("\n"));
    for e in card
        .entries
        .iter()
        .filter(|e| e.name == VCardProperty::Note)
    {
        for v in &e.values {
            if let VCardValue::Text(t) = v
                && !t.trim().is_empty()
            {
                text.push('\n');
                text.push_str(t.replace("\r\n", "\n").trim_end());
                text.push('\n');
            }
        }
    }
    Section {
        title,
        when: None,
        text,
    }
}

/// The kinds of a vCard value (`work`, `home`, `cell`), from its `TYPE` parameters.
fn types_of(e: &VCardEntry) -> Option<String> {
    let kinds: Vec<String> = e
        .params
        .iter()
        .filter(|p| p.name == VCardParameterName::Type)
        .filter_map(|p| p.value.as_text())
        .map(|t| t.to_lowercase())
        .filter(|t| !matches!(t.as_str(), "internet" | "pref" | "voice" | "x400"))
        .collect();
    (!kinds.is_empty()).then(|| kinds.join(", "))
}

/// `s` on one line, its runs of white space single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::fixtures::committed;
    use proptest::prelude::*;

    #[test]
    fn a_meeting_request_reads_as_its_title_time_place_people_and_description() {
        let x = extract_calendar(&committed("calendar", "hearing.ics")).unwrap();
        assert_eq!(
            x.text,
            "# Deposition preparation\n\
             Calendar event\n\
             When: 2021-08-13 16:00 America/Denver – 16:30 America/Denver\n\
             Repeats: every 2 weeks on Monday, Wednesday until 2021-12-31\n\
             Where: Courtroom 4; Denver District Court\n\
             Organizer: Ed Brooks <ed@firm.example>\n\
             Attendees: Ann Lee <ann@firm.example> (accepted), carl@client.example\n\
             Status: confirmed\n\
             \n\
             Prepare the witnesses for the deposition of the landlord, and review the escrow \
             agreement.\nBring the zebracorn exhibit.\n\
             \n\
             # File the answer to the counterclaim\n\
             Task\n\
             Due: 2021-09-01\n\
             Status: needs-action\n"
        );
        // Two items: the calendar's own name is the title.
        assert_eq!(x.title.as_deref(), Some("Acme v. Beta"));
        assert_eq!(
            calendar_title(&committed("calendar", "hearing.ics")).unwrap(),
            "Deposition preparation (2021-08-13 16:00 America/Denver – 16:30 America/Denver)"
        );
    }

    #[test]
    fn contacts_read_as_name_organization_numbers_addresses_and_note_in_any_vcard_version() {
        let x = extract_calendar(&committed("calendar", "counsel.vcf")).unwrap();
        // vCard 2.1's quoted-printable UTF-8 note is decoded and its soft break joined; the
        // photo, the revision stamp and the mailing label (the address again) are left out.
        assert_eq!(
            x.text,
            "# Ann Lee\n\
             Contact\n\
             Organization: Firm LLP, Litigation\n\
             Job title: Partner\n\
             E-mail: ann@firm.example\n\
             Phone: +1 (555) 010-2000 (work); +1 555 010 3000 (cell)\n\
             Address: 100 Main Street, Springfield, IL, 62701, United States of America (work)\n\
             \n\
             Opposing counsel in Acme v. Beta; prefers letters to calls. Meets at the Café \
             Zebracorn.\n\
             \n\
             # Carl Carter\n\
             Contact\n\
             E-mail: carl@client.example (work)\n"
        );
        assert_eq!(x.title, None);
        let one = b"BEGIN:VCARD\nVERSION:3.0\nN:Lee;Ann;;Dr.;\nEND:VCARD\n";
        let x = extract_calendar(one).unwrap();
        assert_eq!(x.title.as_deref(), Some("Dr. Ann Lee"));
    }

    #[test]
    fn an_outlook_item_s_folder_is_a_line_of_its_text_and_its_export_stamps_are_left_out() {
        let item = b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:LibPST v0.6.76\nBEGIN:VEVENT\n\
            UID:0x9d74\nDTSTAMP:20261205T225000Z\nSUMMARY:repeats for 3 days\n\
            DTSTART;VALUE=DATE-TIME:20210810T190000Z\nDTEND;VALUE=DATE-TIME:20210810T193000Z\n\
            RRULE:FREQ=DAILY;COUNT=3\nCATEGORIES:NONE\nEND:VEVENT\nEND:VCALENDAR\n";
        let x = extract_calendar(&with_folder(item, "Top of Personal Folders/Calendar")).unwrap();
        assert_eq!(
            x.text,
            "# repeats for 3 days\n\
             Calendar event\n\
             When: 2021-08-10 19:00 UTC – 19:30 UTC\n\
             Repeats: daily, 3 times\n\
             Folder: Top of Personal Folders/Calendar\n"
        );
        let card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nEND:VCARD\r\n";
        let x = extract_calendar(&with_folder(card, "Contacts; Firm, LLP")).unwrap();
        assert_eq!(x.text, "# Ann Lee\nContact\nFolder: Contacts; Firm, LLP\n");
    }

    #[test]
    fn a_file_of_neither_format_or_with_no_item_is_refused_saying_so() {
        let err = extract_calendar(b"Meeting notes, 3 May.\n").unwrap_err();
        assert!(err.to_string().contains("no BEGIN:VCALENDAR"), "{err}");
        let empty = b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VTIMEZONE\nTZID:UTC\nEND:VTIMEZONE\nEND:VCALENDAR\n";
        assert_eq!(extract_calendar(empty), Err(ExtractError::Empty));
        // Windows-1252 (older Outlook) is read as such.
        let x = extract_calendar(b"BEGIN:VCARD\nVERSION:2.1\nFN:Jos\xe9 Garc\xeda\nEND:VCARD\n")
            .unwrap();
        assert_eq!(x.title.as_deref(), Some("José García"));
    }

    #[test]
    fn a_calendar_past_the_limit_keeps_its_first_items_and_says_the_rest_are_not_indexed() {
        let mut ics = String::from("BEGIN:VCALENDAR\nVERSION:2.0\n");
        for i in 0..=MAX_ENTRIES {
            ics.push_str(&format!("BEGIN:VEVENT\nSUMMARY:Hearing {i}\nEND:VEVENT\n"));
        }
        ics.push_str("END:VCALENDAR\n");
        let text = extract_calendar(ics.as_bytes()).unwrap().text;
        assert_eq!(text.matches("Calendar event").count(), MAX_ENTRIES);
        assert!(text.contains(&format!("# Hearing {}\n", MAX_ENTRIES - 1)));
        assert!(!text.contains(&format!("# Hearing {MAX_ENTRIES}\n")));
        assert!(
            text.ends_with("(the first 100000 items of this file; the rest are not indexed)\n"),
            "{}",
            &text[text.len() - 200..]
        );
    }

    #[test]
    fn a_rule_s_days_are_named_as_a_reader_says_them() {
        assert_eq!(weekday("MO"), "Monday");
        assert_eq!(weekday("2SU"), "the 2nd Sunday");
        assert_eq!(weekday("+3TH"), "the 3rd Thursday");
        assert_eq!(weekday("-1FR"), "the last Friday");
        assert_eq!(weekday("-2WE"), "the 2nd from last Wednesday");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(21), "21st");
    }

    proptest! {
        #![proptest_config(crate::ingest::fuzz_config())]

        #[test]
        fn fuzz_calendar_and_contacts_reading_never_panics(
            cut in 0usize..2000,
            flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..12),
            raw in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            for seed in [committed("calendar", "hearing.ics"), committed("calendar", "counsel.vcf")] {
                let mut b = seed.clone();
                for &(i, v) in &flips {
                    let n = b.len();
                    b[i % n] = v;
                }
                b.truncate(cut.min(b.len()));
                for bytes in [b, raw.clone()] {
                    if let Ok(x) = extract_calendar(&bytes) {
                        prop_assert!(!x.text.is_empty());
                    }
                    let _ = calendar_title(&bytes);
                }
            }
        }
    }
}
