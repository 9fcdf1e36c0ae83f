//! Walking a document folder.
//!
//! Hidden files and folders (names starting with `.`, but for a Maildir's Maildir++ folders
//! such as `.Sent`), the owner files Microsoft Office keeps
//! beside an open document (`~$name.docx`), the index's own folder, and whatever the folder's
//! [`IGNORE_FILE`] names (gitignore syntax) are skipped; symbolic links are followed, and link
//! loops are reported instead of followed forever.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

use super::Skipped;

/// The formats lexsearch can extract, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// Plain text (`.txt`, `.text`).
    Text,
    /// Markdown (`.md`, `.markdown`).
    Markdown,
    /// HTML (`.html`, `.htm`).
    Html,
    /// PDF with a text layer (`.pdf`).
    Pdf,
    /// Word document, Office Open XML (`.docx`; also `.docm`, and templates `.dotx`, `.dotm`).
    Docx,
    /// E-mail, RFC 822 / MIME (`.eml`, and the message files of a Maildir:
    /// `INBOX/cur/1700000000.M1P2.host:2,S`); its attachments become documents of their own.
    Eml,
    /// OpenDocument text (`.odt`, and templates `.ott`).
    Odt,
    /// Outlook message (`.msg`); its attachments become documents of their own.
    Msg,
    /// Mailbox (`.mbox`, `.mbx`: Thunderbird, Apple Mail and Google Takeout exports): each
    /// message is a document of its own (`inbox.mbox#0003.eml`), with its attachments.
    Mbox,
    /// Rich Text Format (`.rtf`).
    Rtf,
    /// Word 97–2003 binary document (`.doc`, and templates `.dot`).
    Doc,
    /// Spreadsheet (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`, and templates `.xltx`, `.xltm`,
    /// `.xlt`, `.ots`).
    #[serde(rename = "spreadsheet")]
    Sheet,
    /// Comma- or tab-separated values (`.csv`, `.tsv`): a spreadsheet's rows as text.
    Csv,
    /// Presentation (`.pptx`, `.pptm`, `.ppsx`, `.ppsm`, `.potx`, `.potm`, `.ppt`, `.pps`,
    /// `.pot`, `.odp`, `.otp`): a page per slide.
    #[serde(rename = "presentation")]
    Slides,
    /// WordPerfect 5.x or 6 and later (`.wpd`, `.wp`, `.wp5`, `.wp6`, and templates `.wpt`).
    Wpd,
    /// Outlook data file (`.pst`, and the offline store `.ost`), read by libpst's `readpst`:
    /// each message is a document of its own (`archive.pst#0003.eml`), with its attachments,
    /// and so is each calendar item (`archive.pst#0001.ics`) and contact
    /// (`archive.pst#0001.vcf`).
    Pst,
    /// Calendar, iCalendar (`.ics`, `.ical`, `.ifb`) or vCalendar 1.0 (`.vcs`): each event,
    /// task or journal entry a section.
    Calendar,
    /// Address book, vCard (`.vcf`, `.vcard`): each contact a section.
    Contacts,
}

impl FileKind {
    /// The revision of this kind's reader: raised when the reader comes to extract the same
    /// file differently, so that a later run reads again the documents an older reader
    /// extracted ([`DocRecord::read_by_an_older_reader`](crate::store::DocRecord::read_by_an_older_reader)).
    /// Spreadsheets: 1 since numbers are written as their number formats show them; e-mails
    /// and Outlook data files: 1 since messages keep their folder ([`crate::ingest::types::MailInfo::folder`]);
    /// e-mails, Outlook messages, mailboxes and Outlook data files: 2 (1 for `.msg` and
    /// mailboxes) since calendars and vCards attached to a message are read, and an Outlook
    /// data file's calendar items and contacts. HTML pages: 1 since site navigation and the
    /// page footer are left out, 2 since a page's banner beside its `main` is too (an e-mail's
    /// HTML body rarely has a `main`, and e-mails are not read again for it).
    pub fn reader_revision(self) -> u32 {
        match self {
            FileKind::Html => 2,
            FileKind::Sheet => 1,
            FileKind::Eml | FileKind::Pst => 2,
            FileKind::Msg | FileKind::Mbox => 1,
            _ => 0,
        }
    }

    /// The kind for a path's extension (case-insensitive), or `None` if unsupported. A
    /// Maildir's message file, which has none, is an e-mail ([`is_maildir_message`]).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "txt" | "text" => Some(FileKind::Text),
            "md" | "markdown" => Some(FileKind::Markdown),
            "html" | "htm" | "xhtml" => Some(FileKind::Html),
            "pdf" => Some(FileKind::Pdf),
            // Macro-enabled documents and templates (a precedent bank keeps its forms as
            // templates) are the same formats.
            "docx" | "docm" | "dotx" | "dotm" => Some(FileKind::Docx),
            "eml" => Some(FileKind::Eml),
            "odt" | "ott" => Some(FileKind::Odt),
            "msg" => Some(FileKind::Msg),
            "mbox" | "mbx" => Some(FileKind::Mbox),
            "pst" | "ost" => Some(FileKind::Pst),
            "rtf" => Some(FileKind::Rtf),
            "doc" | "dot" => Some(FileKind::Doc),
            "wpd" | "wp" | "wp5" | "wp6" | "wpt" => Some(FileKind::Wpd),
            "csv" | "tsv" | "tab" => Some(FileKind::Csv),
            "ics" | "ical" | "icalendar" | "ifb" | "vcs" => Some(FileKind::Calendar),
            "vcf" | "vcard" => Some(FileKind::Contacts),
            "pptx" | "pptm" | "ppsx" | "ppsm" | "potx" | "potm" | "ppt" | "pps" | "pot" | "odp"
            | "otp" => Some(FileKind::Slides),
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" | "xltx" | "xltm" | "xlt" | "ots" => {
                Some(FileKind::Sheet)
            }
            _ => is_maildir_message(path).then_some(FileKind::Eml),
        }
    }

    /// A short lowercase name ("text", "markdown", "html", "pdf", "docx", "eml", ...).
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Text => "text",
            FileKind::Markdown => "markdown",
            FileKind::Html => "html",
            FileKind::Pdf => "pdf",
            FileKind::Docx => "docx",
            FileKind::Eml => "eml",
            FileKind::Odt => "odt",
            FileKind::Msg => "msg",
            FileKind::Mbox => "mbox",
            FileKind::Pst => "pst",
            FileKind::Rtf => "rtf",
            FileKind::Doc => "doc",
            FileKind::Wpd => "wpd",
            FileKind::Sheet => "spreadsheet",
            FileKind::Csv => "csv",
            FileKind::Slides => "presentation",
            FileKind::Calendar => "calendar",
            FileKind::Contacts => "contacts",
        }
    }
}

/// A file found by the walk, with what is needed to decide whether it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path as reached from the walk root (root joined with `rel`).
    pub path: PathBuf,
    /// Path relative to the walk root: the document's identity in the index.
    pub rel: PathBuf,
    /// Format, from the extension.
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: u64,
}

impl SourceFile {
    /// An indexed file opened again at `path` (`rel` is its indexed name, which gives its
    /// kind as the walker took it: a link's own name), to be read as the index run read it;
    /// the reason as text when it is of no kind lexsearch reads or cannot be reached.
    pub fn reopened(path: &Path, rel: &Path) -> Result<Self, String> {
        let kind = FileKind::from_path(rel).ok_or("not a supported kind of file")?;
        let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        Ok(SourceFile {
            path: path.to_path_buf(),
            rel: rel.to_path_buf(),
            kind,
            size,
            mtime_ns: 0,
        })
    }
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct WalkOutput {
    /// Files of a supported kind, sorted by relative path.
    pub files: Vec<SourceFile>,
    /// Entries that could not be read (permissions, link loops, vanished files).
    pub skipped: Vec<Skipped>,
    /// Number of files ignored because their extension is not supported.
    pub unsupported: usize,
    /// Files and folders left out by the folder's [`IGNORE_FILE`] (a folder counts once).
    pub ignored: usize,
}

/// The file at the root of an indexed folder that names what not to index, one pattern a
/// line with gitignore's syntax: `drafts/`, `*.bak.docx`, `!keep.txt`, `/old`, `# comments`.
pub const IGNORE_FILE: &str = ".lexsearchignore";

/// The patterns of `root`'s [`IGNORE_FILE`] (none when it is absent), and a note for each
/// line that could not be read as a pattern.
fn ignore_patterns(root: &Path) -> (Gitignore, Vec<Skipped>) {
    let file = root.join(IGNORE_FILE);
    if !file.is_file() {
        return (Gitignore::empty(), Vec::new());
    }
    let mut builder = GitignoreBuilder::new(root);
    let mut notes = Vec::new();
    if let Some(err) = builder.add(&file) {
        // The note names the file already.
        let err = match err {
            ignore::Error::WithPath { err, .. } => *err,
            err => err,
        };
        notes.push(Skipped {
            path: file.clone(),
            reason: format!("{err} (the other patterns apply)"),
        });
    }
    let patterns = builder.build().unwrap_or_else(|err| {
        notes.push(Skipped {
            path: file,
            reason: format!("{err}: no pattern applies"),
        });
        Gitignore::empty()
    });
    (patterns, notes)
}

/// Whether `path` names a message file of a Maildir (Dovecot, Courier, mutt, mbsync,
/// Thunderbird's maildir storage): a file of its `cur/` or `new/` folder named, as the format
/// names them, by its delivery time in seconds and more after a dot
/// (`1700000000.M123P456.host:2,S`). Files of `tmp/` are still being delivered.
pub fn is_maildir_message(path: &Path) -> bool {
    let in_maildir = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|f| f == "cur" || f == "new");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let time = name.split('.').next().unwrap_or_default();
    in_maildir
        && name.len() > time.len() + 1
        && time.len() >= 9
        && time.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `dir` is a Maildir++ subfolder (`.Sent`, `.Archive.2020`): a hidden folder with a
/// `cur/` folder, inside a Maildir (a folder with its own `cur/`). Walked despite its name.
fn is_maildir_subfolder(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.parent().is_some_and(|p| p.join("cur").is_dir())
}

/// The folder of a Maildir's message file (`None` for other files): a Maildir++ subfolder's
/// name without its dot, its dots as levels (`.Sent` is `Sent`, `.Clients.Acme` is
/// `Clients/Acme`), else the Maildir's own folder name (`Maildir`, or Thunderbird's `Inbox`).
pub fn maildir_folder(path: &Path) -> Option<String> {
    if !is_maildir_message(path) {
        return None;
    }
    let dir = path.parent()?.parent()?;
    let name = dir.file_name()?.to_string_lossy();
    Some(match name.strip_prefix('.') {
        Some(sub) if is_maildir_subfolder(dir) => sub.replace('.', "/"),
        _ => name.into_owned(),
    })
}

/// Why a file or folder whose name is not UTF-8 is left out, and what to do about it.
fn not_utf8_reason(is_dir: bool) -> String {
    let what = if is_dir {
        "folder name is not valid UTF-8 (an old Windows or Mac encoding?), so the index \
         cannot record its files' names: nothing in it is indexed"
    } else {
        "file name is not valid UTF-8 (an old Windows or Mac encoding?), so the index \
         cannot record it"
    };
    format!(
        "{what}; rename it, for instance with `convmv -f cp1252 -t utf-8 -r --notest` on \
         the folder (convmv's -f names the old encoding)"
    )
}

/// Whether a file or folder name is one Office keeps beside an open document (`~$name.docx`:
/// the owner's name, not the document).
fn is_office_owner_file(name: &str) -> bool {
    name.starts_with("~$")
}

/// Lists the indexable files under `root`, skipping hidden entries and every path in `exclude`.
/// Symbolic links are followed when they lead to a place inside `root`; one that leads out of
/// it is followed only with `links_out` (`--follow-links`), and otherwise reported as skipped:
/// a link to a home folder must not pull that folder into an index of a case file.
pub fn walk(root: &Path, exclude: &[PathBuf], links_out: bool) -> WalkOutput {
    let (patterns, notes) = ignore_patterns(root);
    let mut out = WalkOutput {
        skipped: notes,
        ..WalkOutput::default()
    };
    let mut ignored = 0;
    let mut unsupported = 0;
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut left_out = Vec::new();
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            let Some(name) = e.file_name().to_str() else {
                // An index names each document by its path, as UTF-8 text (catalog, keyword
                // index, JSON): a name that is not cannot be recorded, so it is reported, a
                // folder once for everything in it.
                let is_dir = e.file_type().is_dir();
                if is_dir || FileKind::from_path(e.path()).is_some() {
                    left_out.push(Skipped {
                        path: e.path().to_path_buf(),
                        reason: not_utf8_reason(is_dir),
                    });
                } else {
                    unsupported += 1;
                }
                return false;
            };
            let hidden = name.starts_with('.')
                && !(e.file_type().is_dir() && is_maildir_subfolder(e.path()));
            if hidden || is_office_owner_file(name) || exclude.iter().any(|x| e.path() == x) {
                return false;
            }
            let ignore = patterns
                .matched(e.path(), e.file_type().is_dir())
                .is_ignore();
            ignored += usize::from(ignore);
            if !ignore && !links_out && e.path_is_symlink() {
                // A link whose target cannot be resolved is left to the walk to report.
                if let Ok(target) = e.path().canonicalize()
                    && !target.starts_with(&real_root)
                {
                    left_out.push(Skipped {
                        path: e.path().to_path_buf(),
                        reason: format!(
                            "symbolic link to {}, outside the indexed folder: not followed \
                             (index with --follow-links to include what it leads to)",
                            target.display()
                        ),
                    });
                    return false;
                }
            }
            !ignore
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = err.path().unwrap_or(root).to_path_buf();
                let dangling = err
                    .io_error()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
                    .then(|| std::fs::read_link(&path).ok())
                    .flatten();
                let reason = if let Some(ancestor) = err.loop_ancestor() {
                    format!(
                        "symbolic link loop (it leads back to {}); not followed",
                        ancestor.display()
                    )
                } else if let Some(target) = dangling {
                    format!(
                        "symbolic link to {}, which is not there (moved or deleted?): \
                         not followed",
                        target.display()
                    )
                } else {
                    match err.io_error() {
                        Some(io) => format!("cannot read: {io}"),
                        None => err.to_string(),
                    }
                };
                out.skipped.push(Skipped { path, reason });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(kind) = FileKind::from_path(entry.path()) else {
            out.unsupported += 1;
            continue;
        };
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(err) => {
                out.skipped.push(Skipped {
                    path: entry.path().to_path_buf(),
                    reason: format!("cannot read metadata: {err}"),
                });
                continue;
            }
        };
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_path_buf();
        out.files.push(SourceFile {
            path: entry.path().to_path_buf(),
            rel,
            kind,
            size: meta.len(),
            mtime_ns,
        });
    }
    out.ignored = ignored;
    out.unsupported += unsupported;
    out.skipped.extend(left_out);
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn templates_and_macro_enabled_documents_are_read_as_their_format() {
        for (name, kind) in [
            ("nda.DOTX", FileKind::Docx),
            ("form.dotm", FileKind::Docx),
            ("memo.docm", FileKind::Docx),
            ("precedent.dot", FileKind::Doc),
            ("brief.WPD", FileKind::Wpd),
            ("pleading.wp5", FileKind::Wpd),
            ("letterhead.wpt", FileKind::Wpd),
            ("privilege log.XLSX", FileKind::Sheet),
            ("closing checklist.xltx", FileKind::Sheet),
            ("schedules.ods", FileKind::Sheet),
            ("board deck.PPTX", FileKind::Slides),
            ("closing.odp", FileKind::Slides),
            ("training.ppsx", FileKind::Slides),
            ("hearing dates.ICS", FileKind::Calendar),
            ("outlook export.vcs", FileKind::Calendar),
            ("opposing counsel.vcf", FileKind::Contacts),
            ("1998 offering.ppt", FileKind::Slides),
            ("production.CSV", FileKind::Csv),
            ("load file.tsv", FileKind::Csv),
            ("lease.ott", FileKind::Odt),
        ] {
            assert_eq!(FileKind::from_path(Path::new(name)), Some(kind), "{name}");
        }
    }

    #[test]
    fn a_maildir_message_file_is_an_e_mail_and_other_files_without_a_known_extension_are_not() {
        for (path, kind) in [
            (
                "Mail/INBOX/cur/1700000000.M123P456.mx.example:2,S",
                Some(FileKind::Eml),
            ),
            (
                "Mail/INBOX/new/1700000000.M123P456.mx.example",
                Some(FileKind::Eml),
            ),
            (
                "Maildir/.Sent/cur/1700000001.12345.host,S=2048:2,RS",
                Some(FileKind::Eml),
            ),
            (
                "Mail/cur/1700000000.M1P2.host:2,S#lease.pdf",
                Some(FileKind::Pdf),
            ),
            // Still being delivered, or not named as Maildir names messages.
            ("tmp/1700000000.M123P456.mx.example", None),
            ("Mail/INBOX/cur/dovecot-uidlist", None),
            ("Mail/INBOX/cur/1700000000", None),
            ("Mail/INBOX/cur/17000.M1.host", None),
            ("Mail/INBOX/1700000000.M123P456.mx.example", None),
            ("new/20240101.pdf", Some(FileKind::Pdf)),
        ] {
            assert_eq!(FileKind::from_path(Path::new(path)), kind, "{path}");
        }
        assert_eq!(
            crate::ingest::containers_of(Path::new("Mail/cur/1700000000.M1P2.host:2,S#a.pdf"))
                .collect::<Vec<_>>(),
            [PathBuf::from("Mail/cur/1700000000.M1P2.host:2,S")]
        );
    }

    #[test]
    fn a_maildir_and_its_maildir_plus_plus_folders_are_walked_and_their_tmp_and_index_files_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let message = "1700000000.M1P2.host:2,S";
        for folder in ["Mail", "Mail/.Sent", "Mail/.Sent.2020"] {
            for sub in ["cur", "new", "tmp"] {
                fs::create_dir_all(root.join(folder).join(sub)).unwrap();
            }
            fs::write(root.join(folder).join("cur").join(message), "From: a\n\nx").unwrap();
            fs::write(root.join(folder).join("tmp").join(message), "half").unwrap();
            fs::write(root.join(folder).join("dovecot-uidlist"), "3 V1").unwrap();
        }
        fs::write(root.join("Mail/new/1700000009.M9P9.host"), "From: b\n\nnew").unwrap();
        // A hidden folder that is no Maildir's stays hidden.
        fs::create_dir_all(root.join(".cache/cur")).unwrap();
        fs::write(root.join(".cache/cur").join(message), "cached").unwrap();
        let out = walk(root, &[], false);
        let files: Vec<String> = out
            .files
            .iter()
            .map(|f| f.rel.display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                format!("Mail/.Sent/cur/{message}"),
                format!("Mail/.Sent.2020/cur/{message}"),
                format!("Mail/cur/{message}"),
                "Mail/new/1700000009.M9P9.host".to_string(),
            ]
        );
        assert!(out.files.iter().all(|f| f.kind == FileKind::Eml));
        let folders: Vec<Option<String>> =
            out.files.iter().map(|f| maildir_folder(&f.path)).collect();
        assert_eq!(
            folders,
            [Some("Sent"), Some("Sent/2020"), Some("Mail"), Some("Mail")]
                .map(|f| f.map(String::from))
        );
        // Not a Maildir's message; a hidden folder outside a Maildir keeps its name.
        assert_eq!(maildir_folder(&root.join("Mail/notes.txt")), None);
        assert_eq!(
            maildir_folder(Path::new(".Drafts/cur/1700000000.M1P2.host:2,S")).as_deref(),
            Some(".Drafts")
        );
    }

    #[test]
    fn walk_skips_hidden_excluded_and_unsupported_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("b.MD"), "b").unwrap();
        fs::write(root.join("c.bin"), "c").unwrap();
        fs::write(root.join("e.PDF"), "%PDF").unwrap();
        fs::write(root.join("f.docx"), "PK").unwrap();
        fs::write(root.join("g.DOC"), "Word 97").unwrap();
        fs::write(root.join("h.key"), "Keynote slides").unwrap();
        fs::write(root.join(".hidden.txt"), "h").unwrap();
        fs::create_dir(root.join(".lexsearch")).unwrap();
        fs::write(root.join(".lexsearch/x.txt"), "x").unwrap();
        fs::create_dir(root.join("idx")).unwrap();
        fs::write(root.join("idx/y.txt"), "y").unwrap();
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::write(root.join("sub/deeper/d.html"), "<p>d</p>").unwrap();

        let out = walk(root, &[root.join("idx")], false);
        let rels: Vec<_> = out.files.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(
            rels,
            vec![
                PathBuf::from("a.txt"),
                PathBuf::from("b.MD"),
                PathBuf::from("e.PDF"),
                PathBuf::from("f.docx"),
                PathBuf::from("g.DOC"),
                PathBuf::from("sub/deeper/d.html")
            ]
        );
        assert_eq!(out.files[1].kind, FileKind::Markdown);
        assert_eq!(out.files[2].kind, FileKind::Pdf);
        assert_eq!(out.files[3].kind, FileKind::Docx);
        assert_eq!(out.files[4].kind, FileKind::Doc);
        assert_eq!(out.unsupported, 2);
        assert!(out.skipped.is_empty());
    }

    #[test]
    fn walk_leaves_out_what_the_ignore_file_names_and_office_owner_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in [
            "a.txt",
            "~$a.docx",
            "drafts/x.txt",
            "drafts/y.md",
            "old/keep.txt",
            "old/z.txt",
            "sub/old/deep.txt",
            "sub/notes.bak.md",
        ] {
            let path = root.join(f);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "text").unwrap();
        }
        // Patterns as in a .gitignore: a folder anywhere, an anchored folder's files with
        // one let back in, a glob, a comment and a blank line.
        fs::write(
            root.join(IGNORE_FILE),
            "# not for search\ndrafts/\n/old/*\n!/old/keep.txt\n\n*.bak.md\n",
        )
        .unwrap();
        let out = walk(root, &[], false);
        let rels: Vec<_> = out.files.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(
            rels,
            ["a.txt", "old/keep.txt", "sub/old/deep.txt"].map(PathBuf::from)
        );
        // drafts/ (once, not walked into), old/z.txt, sub/notes.bak.md.
        assert_eq!(out.ignored, 3);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    }

    #[test]
    fn a_bad_ignore_pattern_is_reported_and_the_others_apply() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("b.txt"), "b").unwrap();
        fs::write(root.join(IGNORE_FILE), "{a,b\nb.txt\n").unwrap();
        let out = walk(root, &[], false);
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.files[0].rel, PathBuf::from("a.txt"));
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].path, root.join(IGNORE_FILE));
        assert!(
            out.skipped[0].reason.contains("the other patterns apply"),
            "{}",
            out.skipped[0].reason
        );
    }

    #[cfg(unix)]
    #[test]
    fn walk_survives_a_symlink_loop_and_reports_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("loop")).unwrap();
        std::os::unix::fs::symlink(root, root.join("loop/back")).unwrap();
        fs::write(root.join("loop/a.txt"), "a").unwrap();
        let out = walk(root, &[], false);
        assert_eq!(out.files.len(), 1);
        assert!(out.skipped.iter().any(|s| s.reason.contains("loop")));
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_a_file_that_is_gone_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.txt"), "a").unwrap();
        std::os::unix::fs::symlink(root.join("moved.pdf"), root.join("b.pdf")).unwrap();
        let out = walk(root, &[], false);
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        let reason = &out.skipped[0].reason;
        assert!(
            reason.starts_with(&format!(
                "symbolic link to {}, which is not there",
                root.join("moved.pdf").display()
            )),
            "{reason}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_the_folder_are_followed_and_links_out_of_it_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let (root, elsewhere) = (dir.path().join("case"), dir.path().join("home"));
        fs::create_dir_all(root.join("pleadings")).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(root.join("pleadings/complaint.txt"), "c").unwrap();
        fs::write(elsewhere.join("diary.txt"), "private").unwrap();
        std::os::unix::fs::symlink(root.join("pleadings"), root.join("filed")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("home")).unwrap();
        std::os::unix::fs::symlink(elsewhere.join("diary.txt"), root.join("diary.txt")).unwrap();
        let rels = |out: &WalkOutput| -> Vec<String> {
            out.files
                .iter()
                .map(|f| f.rel.display().to_string())
                .collect()
        };
        let out = walk(&root, &[], false);
        assert_eq!(
            rels(&out),
            ["filed/complaint.txt", "pleadings/complaint.txt"]
        );
        let left_out: Vec<&Path> = out.skipped.iter().map(|s| s.path.as_path()).collect();
        assert_eq!(left_out, [root.join("diary.txt"), root.join("home")]);
        assert!(
            out.skipped[0].reason.contains("outside the indexed folder")
                && out.skipped[0].reason.contains("--follow-links"),
            "{}",
            out.skipped[0].reason
        );
        let out = walk(&root, &[], true);
        assert_eq!(
            rels(&out),
            [
                "diary.txt",
                "filed/complaint.txt",
                "home/diary.txt",
                "pleadings/complaint.txt"
            ]
        );
        assert!(out.skipped.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_reported_with_the_fix_not_indexed() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // "Vertrag München.txt" and a folder "Akten März" as Latin-1 bytes.
        let file = root.join(OsStr::from_bytes(b"Vertrag M\xfcnchen.txt"));
        let folder = root.join(OsStr::from_bytes(b"Akten M\xe4rz"));
        fs::write(&file, "Section 1. Term.").unwrap();
        fs::create_dir(&folder).unwrap();
        fs::write(folder.join("lease.txt"), "Section 2. Rent.").unwrap();
        fs::write(root.join(OsStr::from_bytes(b"photo \xe9t\xe9.jpg")), "x").unwrap();
        fs::write(root.join("nda.txt"), "Section 3. Secrets.").unwrap();
        let out = walk(root, &[], false);
        let files: Vec<&Path> = out.files.iter().map(|f| f.rel.as_path()).collect();
        assert_eq!(files, [Path::new("nda.txt")]);
        let skipped: Vec<&Path> = out.skipped.iter().map(|s| s.path.as_path()).collect();
        assert_eq!(skipped, [folder.as_path(), file.as_path()]);
        assert!(
            out.skipped[0]
                .reason
                .contains("folder name is not valid UTF-8")
        );
        assert!(
            out.skipped[1]
                .reason
                .contains("file name is not valid UTF-8")
        );
        assert!(out.skipped.iter().all(|s| s.reason.contains("rename it")));
        // The photo is of no kind lexsearch reads: counted, not reported.
        assert_eq!(out.unsupported, 1);
    }
}
