//! Outlook data files (`.pst`, and the offline store `.ost`): each message an e-mail of its
//! own, with its attachments.
//!
//! The file is read by libpst's `readpst` (Debian's `pst-utils`), run as a child process
//! under [`super::program`] like Tesseract: it writes each e-mail as an RFC 822 file
//! (`-e`: MIME with its attachments; `-8`: bodies in UTF-8 when the store has them; `-D`:
//! deleted items too; `-b`: no RTF copy of the body as an attachment; `-t eajc`: e-mail,
//! appointments, journal entries and contacts; `-cv`: contacts as vCards; `-j 0`: one
//! process, as its parallel jobs number a folder's messages in a different order about one
//! run in ten) into a temporary folder, one folder per Outlook folder and `1.eml`, `2.ics`,
//! `3.vcf` ... in each, in the store's order (appointments and journal entries as iCalendar
//! files, contacts as vCards).
//! [`export`] reads them back in folder order and removes the folder; nothing of it stays on
//! disk. readpst draws its MIME boundaries at random and stamps the calendar objects of meeting
//! requests with the time of the export; the numbers are renumbered in order and the stamps
//! set from the item ([`steady_bytes`]), so that the same message gives the same bytes
//! every time.
//!
//! Its messages are named by their place among the file's messages, like a mailbox's
//! (`0003.eml`, [`super::mail::mbox_message_name`]), and read as `.eml` by [`super::mail`],
//! each with a first header of lexsearch's own naming its folder ([`FOLDER_HEADER`]: a
//! `Folder:` line of its text). Calendar items and contacts are numbered apart, among their
//! own kind (`0001.ics`, `0001.vcf`), so that the messages keep the names they had before
//! lexsearch read the others; they are read by [`super::calendar`], their folder in a property
//! of lexsearch's own ([`super::calendar::FOLDER_PROPERTY`]). The file's own document
//! ([`listing`]) lists every item under the folder that holds it, so that the name of a
//! folder (`Sent Items`, `Privileged`) finds its messages.
//!
//! readpst reads the Unicode and ANSI PST formats and Outlook 2013's 4 KiB-page `.ost`; no
//! library crate read both test files (`outlook-pst` refuses the EDRM Enron PST and every
//! `.ost`), see docs/formats.md.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::calendar::{calendar_title, with_folder};
use super::mail::{FOLDER_HEADER, MAX_MESSAGES, mail_title, numbered_name};
use super::program::{ProgramError, find_program, run};
use super::types::{ExtractError, ExtractedText, Extractor};

/// The program that reads Outlook data files.
pub const PROGRAM: &str = "readpst";

/// What to do when [`PROGRAM`] is not installed.
pub const INSTALL_HINT: &str = "`apt install pst-utils` (Debian, Ubuntu), `dnf install libpst` (Fedora) or `brew install libpst` (macOS), then index again";

/// The format's name in messages.
const KIND: &str = "Outlook data (.pst, .ost)";

/// Folders are followed this deep below the file's top folder.
const MAX_FOLDER_DEPTH: usize = 64;

/// What an item of an Outlook data file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemKind {
    /// An e-mail (and a meeting request, which is one), read as `.eml`.
    Message,
    /// An appointment or a journal entry, read as iCalendar (`.ics`).
    Calendar,
    /// A contact, read as a vCard (`.vcf`).
    Contact,
}

impl ItemKind {
    /// The extension readpst gives it, and lexsearch's name of it.
    pub fn extension(self) -> &'static str {
        match self {
            ItemKind::Message => "eml",
            ItemKind::Calendar => "ics",
            ItemKind::Contact => "vcf",
        }
    }

    /// The kind of a file readpst wrote, by its extension.
    fn of(extension: &str) -> Option<Self> {
        [ItemKind::Message, ItemKind::Calendar, ItemKind::Contact]
            .into_iter()
            .find(|k| k.extension() == extension)
    }

    /// What the listing calls `n` of them ("3 messages", "1 contact").
    fn counted(self, n: usize) -> String {
        let (one, many) = match self {
            ItemKind::Message => ("message", "messages"),
            ItemKind::Calendar => ("calendar item", "calendar items"),
            ItemKind::Contact => ("contact", "contacts"),
        };
        format!("{n} {}", if n == 1 { one } else { many })
    }
}

/// One item readpst wrote.
#[derive(Debug)]
struct Item {
    /// The folder that holds it.
    folder: String,
    /// What it is.
    kind: ItemKind,
    /// Its name inside the data file (`0003.eml`, `0001.ics`).
    name: String,
    /// The file readpst wrote.
    path: PathBuf,
}

/// The items readpst wrote of one data file, in a temporary folder removed with it: read
/// one at a time, so that a large file is never held in memory whole.
#[derive(Debug)]
pub struct Export {
    _dir: tempfile::TempDir,
    /// Each item, folder by folder (folders in name order, items in the data file's order).
    items: Vec<Item>,
}

impl Export {
    /// How many items it has (at most [`MAX_MESSAGES`] of each kind).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The folder that holds item `i`, from the file's top folder down, joined by `/`
    /// (`Personal folders/Inbox/Lease`).
    pub fn folder(&self, i: usize) -> &str {
        &self.items[i].folder
    }

    /// The name of item `i` inside the data file: `0003.eml` for its third message, numbered
    /// from 1 like a mailbox's, `0001.ics` for its first calendar item, `0001.vcf` for its
    /// first contact.
    pub fn name(&self, i: usize) -> &str {
        &self.items[i].name
    }

    /// What item `i` is.
    pub fn kind(&self, i: usize) -> ItemKind {
        self.items[i].kind
    }

    /// Where the item named `name` is.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.items.iter().position(|m| m.name == name)
    }

    /// The size of item `i` as readpst wrote it, in bytes (0 if it cannot be read).
    pub fn size(&self, i: usize) -> u64 {
        std::fs::metadata(&self.items[i].path).map_or(0, |m| m.len())
    }

    /// Item `i`: a message as an RFC 822 file, with its attachments ([`steady_bytes`]
    /// applied), and its folder in a first header of lexsearch's own ([`FOLDER_HEADER`]),
    /// which the message's text shows as a `Folder:` line; a calendar item or contact as
    /// iCalendar or vCard, its folder in a property of lexsearch's own
    /// ([`with_folder`]).
    pub fn read(&self, i: usize) -> Result<Vec<u8>, ExtractError> {
        let item = &self.items[i];
        let bytes = std::fs::read(&item.path)
            .map_err(|e| ExtractError::Read(format!("{}: {e}", item.path.display())))?;
        let bytes = steady_bytes(bytes);
        if item.kind != ItemKind::Message {
            return Ok(with_folder(&bytes, &item.folder));
        }
        // A folder's name on one line, whatever it holds.
        let folder: String = item
            .folder
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let mut out = format!("{FOLDER_HEADER}: {folder}\r\n").into_bytes();
        out.extend_from_slice(&bytes);
        Ok(out)
    }

    /// The text of the data file's own document ([`listing`]), each item read for its
    /// title.
    pub fn listing(&self) -> String {
        let titles: Vec<Listed<'_>> = (0..self.len())
            .map(|i| {
                let title = self
                    .read(i)
                    .and_then(|m| match self.kind(i) {
                        ItemKind::Message => mail_title(&m),
                        _ => calendar_title(&m),
                    })
                    .unwrap_or_else(|e| format!("not readable: {e}"));
                Listed {
                    folder: self.folder(i),
                    name: self.name(i),
                    kind: self.kind(i),
                    title,
                }
            })
            .collect();
        listing(&titles)
    }
}

/// An item as a data file's own document lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed<'a> {
    /// The folder that holds it.
    pub folder: &'a str,
    /// Its name inside the data file.
    pub name: &'a str,
    /// What it is.
    pub kind: ItemKind,
    /// Its title: a message's subject, sender and date; a calendar item's title and time;
    /// a contact's name.
    pub title: String,
}

fn missing() -> ExtractError {
    ExtractError::MissingProgram {
        kind: KIND,
        program: PROGRAM,
        hint: INSTALL_HINT,
    }
}

/// The messages of the Outlook data file at `path`. `timeout` bounds readpst's run.
pub fn export(path: &Path, timeout: Duration) -> Result<Export, ExtractError> {
    let program = find_program(PROGRAM).ok_or_else(missing)?;
    export_with(&program, path, timeout)
}

/// [`export`] of a data file held in memory (one attached to an e-mail): written to a
/// temporary file first, as readpst reads only files.
pub fn export_bytes(bytes: &[u8], timeout: Duration) -> Result<Export, ExtractError> {
    let program = find_program(PROGRAM).ok_or_else(missing)?;
    let file = tempfile::Builder::new()
        .prefix("lexsearch-pst-")
        .suffix(".pst")
        .tempfile()
        .map_err(|e| ExtractError::Read(format!("cannot write a temporary copy: {e}")))?;
    std::fs::write(file.path(), bytes)
        .map_err(|e| ExtractError::Read(format!("cannot write a temporary copy: {e}")))?;
    export_with(&program, file.path(), timeout)
}

/// How long readpst may take on a file of `size` bytes: `base`, plus a second for every
/// 4 MiB (it reads about 250 MB/s here; a slow disk or a busy machine gets forty times less).
pub fn budget(base: Duration, size: u64) -> Duration {
    base + Duration::from_secs(size / (4 << 20))
}

fn corrupt(reason: impl Into<String>) -> ExtractError {
    ExtractError::Corrupt {
        kind: "Outlook data",
        reason: reason.into(),
    }
}

/// [`export`] with `program` as readpst.
pub fn export_with(program: &Path, path: &Path, timeout: Duration) -> Result<Export, ExtractError> {
    let out = tempfile::Builder::new()
        .prefix("lexsearch-pst-")
        .tempdir()
        .map_err(|e| ExtractError::Read(format!("cannot make a temporary folder: {e}")))?;
    let mut cmd = Command::new(program);
    cmd.args([
        "-e", "-8", "-D", "-b", "-t", "eajc", "-cv", "-j", "0", "-q", "-o",
    ])
    .arg(out.path())
    .arg("--")
    .arg(path);
    match run(&mut cmd, timeout) {
        Ok(_) => {}
        Err(ProgramError::TimedOut(t)) => return Err(ExtractError::TimedOut(t)),
        Err(ProgramError::Start(e)) => {
            return Err(ExtractError::Read(format!("cannot start {PROGRAM}: {e}")));
        }
        // Not the file's fault (a Ctrl-C reaches readpst too): read again by the next run.
        Err(e @ ProgramError::Stopped(_)) => {
            return Err(ExtractError::Read(format!("{PROGRAM} was {e}")));
        }
        Err(e) => return Err(corrupt(format!("{PROGRAM} could not read it ({e})"))),
    }
    let mut found = Vec::new();
    collect(out.path(), "", 0, &mut found)?;
    found.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    // Each kind numbered among its own, up to MAX_MESSAGES of it.
    let mut counts = std::collections::HashMap::new();
    found.retain(|(_, _, kind, _)| {
        let n = counts.entry(*kind).or_insert(0usize);
        *n += 1;
        *n <= MAX_MESSAGES
    });
    let mut seen = std::collections::HashMap::new();
    let items = found
        .into_iter()
        .map(|(folder, _, kind, path)| {
            let n = seen.entry(kind).or_insert(0usize);
            *n += 1;
            Item {
                name: numbered_name(*n, counts[&kind].min(MAX_MESSAGES), kind.extension()),
                folder,
                kind,
                path,
            }
        })
        .collect();
    Ok(Export { _dir: out, items })
}

/// `eml` with what readpst writes anew on every export made steady, so that the same message
/// always gives the same bytes (and the same text: an attachment's name is in it). The random
/// numbers it draws (its MIME boundaries, `--boundary-LibPST-iamunique-1470529320_-_-`, and
/// the names it gives a meeting request's calendar part, `"i848728562.ics"`) are numbered in
/// the order they first appear (`...-iamunique-0_-_-`, `"i0.ics"`, ...): each distinct number
/// gets a distinct one, in all its places at once, so the message's structure is kept. The
/// `DTSTAMP` of the calendar objects it writes (`PRODID:LibPST`), the time of the export, is
/// set to the item's last change (`LAST-MOD`), else its creation (`CREATED`), else the epoch.
pub fn steady_bytes(eml: Vec<u8>) -> Vec<u8> {
    steady_stamps(steady_numbers(eml))
}

/// The stamps of [`steady_bytes`].
fn steady_stamps(eml: Vec<u8>) -> Vec<u8> {
    // readpst writes UID, DTSTAMP, then CREATED and LAST-MOD when the item has them, a few
    // lines after its PRODID; a calendar attached by the sender is left as it is.
    static STAMP: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(
            r"(PRODID:LibPST[^\n]*\n(?:[A-Z][^\n]*\n){0,8}?DTSTAMP:)[0-9]{8}T[0-9]{6}Z(\r?\n(?:CREATED:([0-9]{8}T[0-9]{6}Z)\r?\n)?(?:LAST-MOD:([0-9]{8}T[0-9]{6}Z))?)",
        )
        .expect("valid")
    });
    let out = STAMP.replace_all(&eml, |c: &regex::bytes::Captures<'_>| {
        let mut out = c[1].to_vec();
        let stamp = c.get(4).or_else(|| c.get(3));
        out.extend_from_slice(stamp.map_or(&b"19700101T000000Z"[..], |m| m.as_bytes()));
        out.extend_from_slice(&c[2]);
        out
    });
    match out {
        std::borrow::Cow::Borrowed(_) => eml,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// The numbers of [`steady_bytes`].
fn steady_numbers(eml: Vec<u8>) -> Vec<u8> {
    static DRAWN: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
        regex::bytes::Regex::new(r#"(boundary-LibPST-iamunique-|"i)([0-9]+)(_-_-|\.ics")"#)
            .expect("valid")
    });
    let mut seen: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let out = DRAWN.replace_all(&eml, |c: &regex::bytes::Captures<'_>| {
        let key = (c[1].to_vec(), c[2].to_vec());
        let n = match seen.iter().position(|s| *s == key) {
            Some(n) => n,
            None => {
                seen.push(key);
                seen.len() - 1
            }
        };
        let mut out = c[1].to_vec();
        out.extend_from_slice(n.to_string().as_bytes());
        out.extend_from_slice(&c[3]);
        out
    });
    match out {
        std::borrow::Cow::Borrowed(_) => eml,
        std::borrow::Cow::Owned(o) => o,
    }
}

/// The `N.eml`, `N.ics` and `N.vcf` files under `dir` (the folder `folder` of the data file)
/// and its subfolders, as (folder, N, kind, path).
fn collect(
    dir: &Path,
    folder: &str,
    depth: usize,
    out: &mut Vec<(String, u64, ItemKind, PathBuf)>,
) -> Result<(), ExtractError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ExtractError::Read(format!("{}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| ExtractError::Read(format!("{}: {e}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            if depth < MAX_FOLDER_DEPTH {
                let inner = if folder.is_empty() {
                    name
                } else {
                    format!("{folder}/{name}")
                };
                collect(&path, &inner, depth + 1, out)?;
            }
        } else if let Some((n, kind)) = name
            .rsplit_once('.')
            .and_then(|(n, ext)| Some((n.parse().ok()?, ItemKind::of(ext)?)))
        {
            out.push((folder.to_string(), n, kind, path));
        }
    }
    Ok(())
}

/// The text of a data file's own document from each item's folder, name and title, in
/// order: a heading that counts them, then each folder as a heading of its own with one line
/// per item, its name and title ("0003.eml: eRequest (from Carl Carter,
/// 2001-01-30T12:44:00Z)", "0001.ics: Closing (2021-08-10 19:00 UTC – 19:30 UTC)").
pub fn listing(items: &[Listed<'_>]) -> String {
    let folders = {
        let mut f: Vec<&str> = items.iter().map(|m| m.folder).collect();
        f.dedup();
        f.len()
    };
    let count = |kind: ItemKind| items.iter().filter(|m| m.kind == kind).count();
    // Messages are always counted; calendar items and contacts when there are some.
    let mut counted = vec![ItemKind::Message.counted(count(ItemKind::Message))];
    for kind in [ItemKind::Calendar, ItemKind::Contact] {
        if count(kind) > 0 {
            counted.push(kind.counted(count(kind)));
        }
    }
    let counted = match counted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => counted.concat(),
    };
    let mut text = format!(
        "# Outlook data file of {counted} in {folders} folder{}\n",
        if folders == 1 { "" } else { "s" },
    );
    let mut current = None;
    for item in items {
        if current != Some(item.folder) {
            current = Some(item.folder);
            let shown = if item.folder.is_empty() {
                "(top folder)"
            } else {
                item.folder
            };
            text.push_str(&format!("\n## {shown}\n"));
        }
        text.push_str(&format!("{}: {}\n", item.name, item.title));
    }
    for kind in [ItemKind::Message, ItemKind::Calendar, ItemKind::Contact] {
        if count(kind) == MAX_MESSAGES {
            text.push_str(&format!(
                "\n(the first {}; the rest are not indexed)\n",
                kind.counted(MAX_MESSAGES)
            ));
        }
    }
    text
}

/// An Outlook data file held in memory (attached to an e-mail): the list of its messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct PstExtractor;

impl Extractor for PstExtractor {
    fn extract(&self, bytes: &[u8]) -> Result<ExtractedText, ExtractError> {
        let export = export_bytes(bytes, budget(Duration::from_secs(30), bytes.len() as u64))?;
        Ok(ExtractedText {
            text: export.listing(),
            ..ExtractedText::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for readpst at `dir/readpst` that writes what the shell commands `body`
    /// write into the folder after `-o` (as `$out`), then exits with `status`.
    fn fake_readpst(dir: &Path, body: &str, status: i32) -> PathBuf {
        let program = dir.join("readpst");
        let script = format!(
            "#!/bin/sh\nwhile [ \"$1\" != -o ]; do shift; done\nout=$2\n{body}\nexit {status}\n"
        );
        std::fs::write(&program, script).unwrap();
        let mut perms = std::fs::metadata(&program).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&program, perms).unwrap();
        program
    }

    #[test]
    fn messages_come_back_by_folder_then_in_the_file_s_order_and_are_listed_under_their_folder() {
        let dir = tempfile::tempdir().unwrap();
        // What readpst leaves: a folder per Outlook folder, `N.eml` in each (10 after 9).
        let mail = |subject: &str| {
            format!(
                "printf 'From: Ann Lee <ann@firm.example>\\r\\nSubject: {subject}\\r\\n\\r\\nBody.\\r\\n'"
            )
        };
        let program = fake_readpst(
            dir.path(),
            &format!(
                "mkdir -p \"$out/Mail/Inbox\" \"$out/Mail/Sent Items\"\n\
                 {} > \"$out/Mail/Inbox/10.eml\"\n\
                 {} > \"$out/Mail/Inbox/9.eml\"\n\
                 {} > \"$out/Mail/Sent Items/1.eml\"\n\
                 echo 'not a message' > \"$out/Mail/Inbox/notes.txt\"",
                mail("Re: Lease renewal"),
                mail("Lease renewal"),
                mail("Signed lease"),
            ),
            0,
        );
        let pst = dir.path().join("archive.pst");
        std::fs::write(&pst, b"!BDN").unwrap();
        let export = export_with(&program, &pst, Duration::from_secs(10)).unwrap();
        assert_eq!(export.len(), 3);
        assert_eq!(
            (0..3).map(|i| export.folder(i)).collect::<Vec<_>>(),
            ["Mail/Inbox", "Mail/Inbox", "Mail/Sent Items"]
        );
        assert_eq!(export.find("0002.eml"), Some(1));
        assert_eq!(export.find("0004.eml"), None);
        let second = String::from_utf8(export.read(1).unwrap()).unwrap();
        assert!(
            second.starts_with("X-Lexsearch-Folder: Mail/Inbox\r\nFrom: Ann Lee"),
            "{second}"
        );
        assert!(second.contains("Subject: Re: Lease renewal"), "{second}");
        assert_eq!(
            export.listing(),
            "# Outlook data file of 3 messages in 2 folders\n\
             \n## Mail/Inbox\n\
             0001.eml: Lease renewal (from Ann Lee <ann@firm.example>)\n\
             0002.eml: Re: Lease renewal (from Ann Lee <ann@firm.example>)\n\
             \n## Mail/Sent Items\n\
             0003.eml: Signed lease (from Ann Lee <ann@firm.example>)\n"
        );
        // The temporary folder goes with the export.
        let written = export.items[0].path.clone();
        assert!(written.is_file());
        drop(export);
        assert!(!written.exists());
    }

    #[test]
    fn calendar_items_and_contacts_are_numbered_apart_so_that_messages_keep_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let event = |summary: &str| {
            format!(
                "printf 'BEGIN:VCALENDAR\\nVERSION:2.0\\nPRODID:LibPST v0.6.76\\nBEGIN:VEVENT\\n\
                 DTSTAMP:20261205T225000Z\\nCREATED:20210812T202846Z\\nSUMMARY:{summary}\\n\
                 DTSTART;VALUE=DATE-TIME:20210810T190000Z\\nEND:VEVENT\\nEND:VCALENDAR\\n'"
            )
        };
        // readpst numbers a folder's items together, whatever their kind.
        let program = fake_readpst(
            dir.path(),
            &format!(
                "mkdir -p \"$out/Calendar\" \"$out/Contacts\" \"$out/Inbox\"\n\
                 {} > \"$out/Calendar/1.ics\"\n\
                 printf 'Subject: Accepted: Closing\\r\\n\\r\\nYes.\\r\\n' > \"$out/Calendar/2.eml\"\n\
                 {} > \"$out/Calendar/3.ics\"\n\
                 printf 'BEGIN:VCARD\\nVERSION:3.0\\nFN:Ann Lee\\nORG:Firm LLP\\nEND:VCARD\\n' > \"$out/Contacts/1.vcf\"\n\
                 printf 'Subject: Lease\\r\\n\\r\\nBody.\\r\\n' > \"$out/Inbox/1.eml\"",
                event("Closing"),
                event("Signing"),
            ),
            0,
        );
        let pst = dir.path().join("archive.pst");
        std::fs::write(&pst, b"!BDN").unwrap();
        let export = export_with(&program, &pst, Duration::from_secs(10)).unwrap();
        let names: Vec<(&str, ItemKind)> = (0..export.len())
            .map(|i| (export.name(i), export.kind(i)))
            .collect();
        assert_eq!(
            names,
            [
                ("0001.ics", ItemKind::Calendar),
                ("0001.eml", ItemKind::Message),
                ("0002.ics", ItemKind::Calendar),
                ("0001.vcf", ItemKind::Contact),
                ("0002.eml", ItemKind::Message),
            ]
        );
        // A calendar item carries its folder in a property of lexsearch's own, and the time
        // of the export readpst stamps it with is the item's own.
        let item = String::from_utf8(export.read(2).unwrap()).unwrap();
        assert!(
            item.starts_with("BEGIN:VCALENDAR\nX-LEXSEARCH-FOLDER:Calendar\r\nVERSION:2.0"),
            "{item}"
        );
        assert!(item.contains("DTSTAMP:20210812T202846Z"), "{item}");
        assert_eq!(
            export.listing(),
            "# Outlook data file of 2 messages, 2 calendar items and 1 contact in 3 folders\n\
             \n## Calendar\n\
             0001.ics: Closing (2021-08-10 19:00 UTC)\n\
             0001.eml: Accepted: Closing\n\
             0002.ics: Signing (2021-08-10 19:00 UTC)\n\
             \n## Contacts\n\
             0001.vcf: Ann Lee\n\
             \n## Inbox\n\
             0002.eml: Lease\n"
        );
    }

    #[test]
    fn readpst_s_random_boundaries_are_numbered_in_order_keeping_the_structure() {
        let eml = b"Content-Type: multipart/mixed;\r\n\tboundary=\"--boundary-LibPST-iamunique-1470529320_-_-\"\r\n\r\n\
----boundary-LibPST-iamunique-1470529320_-_-\r\nContent-Type: message/rfc822\r\n\r\n\
Content-Type: multipart/mixed; boundary=\"--boundary-LibPST-iamunique-0_-_-\"\r\n\r\n\
----boundary-LibPST-iamunique-0_-_-\r\n\r\nInner.\r\n----boundary-LibPST-iamunique-0_-_---\r\n\
----boundary-LibPST-iamunique-1470529320_-_---\r\n";
        let steady = steady_bytes(eml.to_vec());
        let text = String::from_utf8(steady.clone()).unwrap();
        // The outer boundary becomes 0 and the inner one (which was 0) 1, everywhere.
        assert_eq!(text.matches("iamunique-0_-_-").count(), 3, "{text}");
        assert_eq!(text.matches("iamunique-1_-_-").count(), 3, "{text}");
        assert!(!text.contains("1470529320"));
        assert_eq!(
            text.replace("iamunique-0_", "A")
                .replace("iamunique-1_", "B"),
            String::from_utf8(eml.to_vec())
                .unwrap()
                .replace("iamunique-1470529320_", "A")
                .replace("iamunique-0_", "B")
        );
        // Another draw of the same message gives the same bytes.
        let again = String::from_utf8(eml.to_vec())
            .unwrap()
            .replace("1470529320", "99");
        assert_eq!(steady_bytes(again.into_bytes()), steady);
        // So does a meeting request's calendar part, named at random.
        let invite = |n: &str| {
            format!(
                "Content-Type: text/calendar; name=\"i{n}.ics\"\r\n\
                 Content-Disposition: attachment; filename=\"i{n}.ics\"\r\n"
            )
            .into_bytes()
        };
        let steady = steady_bytes(invite("848728562"));
        assert_eq!(steady, steady_bytes(invite("762413132")));
        assert_eq!(steady, invite("0"));
    }

    #[test]
    fn the_time_readpst_stamps_a_meeting_request_with_is_the_item_s_own() {
        let calendar = |stamp: &str, dates: &str| {
            format!(
                "Content-Type: text/calendar; method=\"REQUEST\"\n\nBEGIN:VCALENDAR\n\
                 VERSION:2.0\nPRODID:LibPST v0.6.76\nMETHOD:REQUEST\nBEGIN:VEVENT\n\
                 ORGANIZER;CN=\"ann@firm.example\":MAILTO:ann@firm.example\nUID:0xaba4\n\
                 DTSTAMP:{stamp}\n{dates}SUMMARY:Closing\nEND:VEVENT\nEND:VCALENDAR\n"
            )
        };
        let steady = |stamp: &str, dates: &str| {
            String::from_utf8(steady_bytes(calendar(stamp, dates).into_bytes())).unwrap()
        };
        let both = "CREATED:20210812T203155Z\nLAST-MOD:20210813T090000Z\n";
        // Two exports a second apart give the same bytes: the item's last change.
        assert_eq!(
            steady("20261205T201812Z", both),
            calendar("20210813T090000Z", both)
        );
        assert_eq!(
            steady("20261205T201813Z", both),
            steady("20261205T201812Z", both)
        );
        // Else its creation, else the epoch.
        let created = "CREATED:20210812T203155Z\n";
        assert_eq!(
            steady("20261205T201812Z", created),
            calendar("20210812T203155Z", created)
        );
        assert_eq!(
            steady("20261205T201812Z", ""),
            calendar("19700101T000000Z", "")
        );
        // A calendar that readpst did not write (the sender's) keeps its stamp.
        let theirs = calendar("20200101T000000Z", both).replace("LibPST v0.6.76", "-//Acme//EN");
        assert_eq!(
            String::from_utf8(steady_bytes(theirs.clone().into_bytes())).unwrap(),
            theirs
        );
    }

    #[test]
    fn a_missing_reader_a_file_it_cannot_read_or_an_interrupted_one_is_said_so() {
        let dir = tempfile::tempdir().unwrap();
        let pst = dir.path().join("archive.pst");
        std::fs::write(&pst, b"!BDN not really").unwrap();
        let err = export_with(
            &dir.path().join("no-readpst"),
            &pst,
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert!(matches!(err, ExtractError::Read(_)), "{err}");
        assert!(!err.lasting());
        // A reader that fails (as readpst does on a damaged file: exit 1, "Error opening
        // File") names itself and what it said, and the file is not read again unchanged.
        let failing = fake_readpst(dir.path(), "echo 'Error opening File' >&2", 1);
        let err = export_with(&failing, &pst, Duration::from_secs(10)).unwrap_err();
        assert!(err.lasting());
        let shown = err.to_string();
        assert!(shown.contains("readpst could not read it"), "{shown}");
        assert!(shown.contains("Error opening File"), "{shown}");
        // A reader ended by a signal (a Ctrl-C reaches it too) says nothing of the file: it
        // is read again.
        // (SIGTERM: a background shell may ignore SIGINT, see program.rs's test.)
        let interrupted = fake_readpst(dir.path(), "kill -TERM $$", 0);
        let err = export_with(&interrupted, &pst, Duration::from_secs(10)).unwrap_err();
        assert!(!err.lasting(), "{err}");
        assert!(err.to_string().contains("readpst was stopped by"), "{err}");
        let missing = ExtractError::MissingProgram {
            kind: KIND,
            program: PROGRAM,
            hint: INSTALL_HINT,
        };
        assert!(!missing.lasting());
        assert!(missing.to_string().contains("apt install pst-utils"));
    }
}
