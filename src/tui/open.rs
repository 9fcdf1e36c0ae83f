//! Leaving the TUI for a moment: which program opens a hit (a PDF at its page), and copying
//! its place with OSC 52.
//!
//! Everything here is pure: the environment comes in as a lookup function, and the copy
//! sequence comes out as a string for the event loop to write.

use std::path::{Path, PathBuf};

use crate::search::Hit;

/// Where to open a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTarget {
    /// The document.
    pub path: PathBuf,
    /// 1-based line of the hit's pinpoint, else of its chunk (in the extracted text).
    pub line: u32,
    /// 1-based page of the hit's pinpoint, else of its chunk, for paged documents.
    pub page: Option<u32>,
    /// 1-based paragraph, for paragraph-numbered documents.
    pub paragraph: Option<u32>,
    /// Set for a document inside another file, which is opened from a copy taken out of it.
    pub inside: Option<Inside>,
}

/// A document inside another file (an e-mail's attachment `mail.eml#a.pdf`, a mailbox's
/// message `inbox.mbox#0003.eml`): no viewer can open it where it is, so it is opened from a
/// copy taken out of its file ([`Library::copy_to_open`](crate::library::Library::copy_to_open)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inside {
    /// The document, relative to the indexed folder.
    pub file: String,
    /// The indexed folder.
    pub root: PathBuf,
    /// The index folder the copy goes into; none for a remote index, whose copies are not
    /// taken.
    pub index: Option<PathBuf>,
}

impl OpenTarget {
    /// The place of `hit`: the line and page of its pinpoint when it has one, so that the
    /// editor or PDF viewer opens at the sentence that answers.
    pub fn of(hit: &Hit) -> Self {
        OpenTarget {
            path: hit.path.clone(),
            line: hit.cited_line(),
            page: hit.pinpoint.as_ref().and_then(|p| p.page).or(hit.page),
            paragraph: hit.paragraph,
            inside: None,
        }
    }

    /// This target, marked as [`Inside`] another file when `file` (relative to `root`, the
    /// folder indexed into `index`) is an attachment or a mailbox's message, or a Maildir's
    /// message file (opened from a copy named `.eml`, for the viewer to know it is mail).
    pub fn inside(self, root: &Path, index: Option<&Path>, file: &str) -> Self {
        let inner = crate::ingest::containers_of(Path::new(file))
            .next()
            .is_some();
        if !inner && !crate::ingest::walk::is_maildir_message(Path::new(file)) {
            return self;
        }
        OpenTarget {
            inside: Some(Inside {
                file: file.to_string(),
                root: root.to_path_buf(),
                index: index.map(Path::to_path_buf),
            }),
            ..self
        }
    }

    /// The document as messages name it: its path, or for a copy, what it is a copy of.
    pub fn shown(&self) -> String {
        match &self.inside {
            Some(inside) => format!("{} (from a copy)", inside.file),
            None => self.path.display().to_string(),
        }
    }

    /// Whether line numbers in the extracted text are lines of the file itself, so that an
    /// editor can jump to them: plain text and Markdown; not HTML, PDF, word processors'
    /// files, spreadsheets or e-mail (`.msg` is binary; an `.eml`'s lines are MIME's).
    pub fn is_plain_text(&self) -> bool {
        use crate::ingest::walk::FileKind;
        self.page.is_none()
            && self.paragraph.is_none()
            && matches!(
                FileKind::from_path(&self.path),
                Some(FileKind::Text | FileKind::Markdown)
            )
    }
}

fn has_ext(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// A program to run, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opener {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// A window of its own (a PDF viewer): started beside the TUI, which stays on screen,
    /// instead of run in the terminal with the TUI suspended until it exits.
    pub detached: bool,
}

/// The environment variable naming the program that opens PDFs at the hit's page.
pub const PDF_VIEWER_VAR: &str = "LEXSEARCH_PDF_VIEWER";

/// Picks the program that opens `target`. Plain text: `$VISUAL` or `$EDITOR` at the line
/// (`+LINE file`, or the editor's own form for VS Code, Sublime Text, Helix and Zed), else
/// `$PAGER +LINE file`. A PDF hit with a page: `$LEXSEARCH_PDF_VIEWER`, else the desktop's
/// default PDF application (`default_pdf`, the program its entry runs), at the page when it
/// is a viewer that can be told one ([`pdf_at_page`]). Everything else goes to the system
/// opener (`xdg-open`, `open` on macOS), which cannot be told a page.
pub fn opener(
    target: &OpenTarget,
    env: &dyn Fn(&str) -> Option<String>,
    default_pdf: &dyn Fn() -> Option<String>,
) -> Opener {
    let path = target.path.display().to_string();
    let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    if target.is_plain_text() {
        if let Some(editor) = set("VISUAL").or_else(|| set("EDITOR")) {
            return at_line(&editor, &path, target.line);
        }
        if let Some(pager) = set("PAGER") {
            return at_line(&pager, &path, target.line);
        }
    }
    if let (Some(page), true) = (target.page, has_ext(&target.path, &["pdf"])) {
        if let Some(viewer) = set(PDF_VIEWER_VAR) {
            return pdf_at_page(&viewer, &target.path, page).unwrap_or_else(|| Opener {
                program: viewer.split_whitespace().next().unwrap_or_default().into(),
                args: viewer
                    .split_whitespace()
                    .skip(1)
                    .map(str::to_string)
                    .chain([path.clone()])
                    .collect(),
                detached: true,
            });
        }
        if let Some(viewer) = default_pdf().and_then(|v| pdf_at_page(&v, &target.path, page)) {
            return viewer;
        }
    }
    Opener {
        program: if cfg!(target_os = "macos") {
            "open".into()
        } else {
            "xdg-open".into()
        },
        args: vec![path],
        detached: false,
    }
}

/// `viewer` (a command line: program and arguments) opening the PDF `path` at the 1-based
/// `page`, when it can be told one: `{file}` and `{page}` in the command line are replaced
/// (the file is added at the end when there is no `{file}`); otherwise the program is known
/// by name (zathura, Evince, Atril, Xreader, Okular, qpdfview, MuPDF, sioyek, Firefox,
/// Chromium and Chrome). `None` for another program.
pub fn pdf_at_page(viewer: &str, path: &Path, page: u32) -> Option<Opener> {
    let mut words = viewer.split_whitespace().map(str::to_string);
    let program = words.next()?;
    let mut args: Vec<String> = words.collect();
    let file = path.display().to_string();
    let page_text = page.to_string();
    if args
        .iter()
        .any(|a| a.contains("{page}") || a.contains("{file}"))
    {
        let has_file = args.iter().any(|a| a.contains("{file}"));
        for a in &mut args {
            *a = a.replace("{page}", &page_text).replace("{file}", &file);
        }
        if !has_file {
            args.push(file);
        }
        return Some(Opener {
            program,
            args,
            detached: true,
        });
    }
    let name = Path::new(&program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let tail: Vec<String> = match name.as_str() {
        "zathura" => vec![format!("--page={page}"), file],
        "evince" | "atril" | "xreader" => vec![format!("--page-index={page}"), file],
        "okular" | "sioyek" => vec!["--page".into(), page_text, file],
        "qpdfview" => vec![format!("{file}#{page}")],
        "mupdf" | "mupdf-gl" | "mupdf-x11" => vec![file, page_text],
        "firefox"
        | "firefox-esr"
        | "chromium"
        | "chromium-browser"
        | "google-chrome"
        | "google-chrome-stable" => vec![format!("{}#page={page}", file_url(path))],
        _ => return None,
    };
    args.extend(tail);
    Some(Opener {
        program,
        args,
        detached: true,
    })
}

/// The program a freedesktop `.desktop` entry runs: the first word of the `Exec` line of its
/// `[Desktop Entry]` group (quotes removed; an `env VAR=value` prefix skipped).
pub fn desktop_exec_program(entry: &str) -> Option<String> {
    let mut in_main = false;
    for line in entry.lines().map(str::trim) {
        if line.starts_with('[') {
            in_main = line == "[Desktop Entry]";
        } else if in_main && let Some(exec) = line.strip_prefix("Exec=") {
            let mut words = exec.split_whitespace().map(|w| w.trim_matches('"'));
            let mut program = words.next()?;
            if program == "env" {
                program = words.find(|w| !w.contains('='))?;
            }
            return Some(program.to_string());
        }
    }
    None
}

/// `file://` URL of an absolute path, bytes outside the unreserved set and `/`
/// percent-encoded.
fn file_url(path: &Path) -> String {
    let mut url = String::from("file://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

fn at_line(command: &str, path: &str, line: u32) -> Opener {
    let mut words = command.split_whitespace().map(str::to_string);
    let program = words.next().unwrap_or_default();
    let mut args: Vec<String> = words.collect();
    let name = Path::new(&program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match name {
        "code" | "code-insiders" | "codium" => {
            args.push("-g".into());
            args.push(format!("{path}:{line}"));
        }
        "subl" | "hx" | "helix" | "zed" => args.push(format!("{path}:{line}")),
        _ => {
            args.push(format!("+{line}"));
            args.push(path.to_string());
        }
    }
    Opener {
        program,
        args,
        detached: false,
    }
}

/// What `y` copies: `path:line` for plain text, `path#page=N` for paged documents (the PDF
/// open-parameter form), `path ¶ N` for paragraph-numbered ones; the line and page of the
/// hit's pinpoint where it has one, as [`OpenTarget::of`] opens it.
pub fn place_text(hit: &Hit) -> String {
    let target = OpenTarget::of(hit);
    let path = target.path.display();
    match (target.page, target.paragraph) {
        (Some(p), _) => format!("{path}#page={p}"),
        (None, Some(n)) => format!("{path} ¶ {n}"),
        (None, None) => format!("{path}:{}", target.line),
    }
}

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures::hit;

    #[test]
    fn an_editor_opens_at_the_pinpoint_line_the_list_shows() {
        let mut h = hit(1, "lease.txt", "Rent is due.\nThe deposit is returned.");
        h.line = 40;
        assert_eq!(OpenTarget::of(&h).line, 40);
        assert_eq!(h.place_label(), "line 40");
        h.pinpoint = Some(crate::search::pinpoint::Pinpoint {
            start_byte: 13,
            end_byte: 37,
            line: 41,
            page: None,
            text: "The deposit is returned.".into(),
            score: 0.5,
        });
        assert_eq!(OpenTarget::of(&h).line, 41);
        assert_eq!(h.place_label(), "line 41", "shown where it opens");
        h.path = PathBuf::from("/d/lease.txt");
        assert_eq!(place_text(&h), "/d/lease.txt:41", "copied as opened");
    }

    #[test]
    fn a_pdf_opens_at_the_page_of_the_pinpoint_when_the_chunk_runs_over_two() {
        let mut h = hit(1, "lease.pdf", "Rent is due.\nThe deposit is returned.");
        (h.page, h.page_end) = (Some(3), Some(4));
        assert_eq!(OpenTarget::of(&h).page, Some(3));
        h.pinpoint = Some(crate::search::pinpoint::Pinpoint {
            start_byte: 13,
            end_byte: 37,
            line: 2,
            page: Some(4),
            text: "The deposit is returned.".into(),
            score: 0.5,
        });
        assert_eq!(OpenTarget::of(&h).page, Some(4));
        assert_eq!(h.place_label(), "p. 4 (pp. 3–4)");
        h.path = PathBuf::from("/d/lease.pdf");
        assert_eq!(place_text(&h), "/d/lease.pdf#page=4", "copied as opened");
    }

    #[test]
    fn a_presentation_hit_is_placed_by_its_slide() {
        let mut h = hit(1, "board deck.pptx", "Termination fee.");
        h.page = Some(2);
        assert_eq!(h.place_label(), "slide 2");
        h.page_end = Some(3);
        assert_eq!(h.place_label(), "slides 2–3");
        // An attachment is named by its own extension.
        h.file = "offer.eml#deck.ppt".into();
        h.page_end = None;
        assert_eq!(h.place_label(), "slide 2");
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn target(path: &str, line: u32, page: Option<u32>) -> OpenTarget {
        OpenTarget {
            path: PathBuf::from(path),
            line,
            page,
            paragraph: None,
            inside: None,
        }
    }

    #[test]
    fn text_opens_in_the_editor_at_the_line() {
        let t = target("/d/lease.txt", 43, None);
        let o = opener(&t, &env(&[("EDITOR", "vim"), ("PAGER", "less")]), &none);
        assert_eq!(o.program, "vim");
        assert_eq!(o.args, ["+43", "/d/lease.txt"]);
        let o = opener(
            &t,
            &env(&[("VISUAL", "code --wait"), ("EDITOR", "vim")]),
            &none,
        );
        assert_eq!(o.program, "code");
        assert_eq!(o.args, ["--wait", "-g", "/d/lease.txt:43"]);
        let o = opener(&t, &env(&[("EDITOR", " "), ("PAGER", "less -R")]), &none);
        assert_eq!(o.program, "less");
        assert_eq!(o.args, ["-R", "+43", "/d/lease.txt"]);
        let o = opener(&t, &env(&[]), &none);
        assert_eq!(o.args, ["/d/lease.txt"]);
    }

    #[test]
    fn pdf_and_html_go_to_the_system_opener_without_a_known_viewer() {
        let vars = [("EDITOR", "vim")];
        let o = opener(&target("/d/a.pdf", 300, Some(12)), &env(&vars), &none);
        assert_ne!(o.program, "vim");
        assert_eq!(
            (o.args.as_slice(), o.detached),
            (["/d/a.pdf".to_string()].as_slice(), false)
        );
        // Only text and Markdown open in the editor: other files' lines are not the
        // extracted text's, or they are binary.
        for file in [
            "/d/a.HTML",
            "/d/note.msg",
            "/d/thread.eml",
            "/d/Mail/cur/1700000000.M1P2.host:2,S",
            "/d/inbox.mbox",
            "/d/brief.rtf",
            "/d/brief.wpd",
            "/d/log.xlsx",
            "/d/load.csv",
        ] {
            let o = opener(&target(file, 3, None), &env(&vars), &none);
            assert_ne!(o.program, "vim", "{file}");
        }
        for file in ["/d/a.txt", "/d/b.MD"] {
            let o = opener(&target(file, 3, None), &env(&vars), &none);
            assert_eq!(o.program, "vim", "{file}");
        }
        // A default application that cannot be told a page is left to the system opener.
        let o = opener(&target("/d/a.pdf", 1, Some(2)), &env(&[]), &|| {
            Some("/usr/bin/libreoffice --draw".into())
        });
        assert_eq!(o.args, ["/d/a.pdf"]);
    }

    fn none() -> Option<String> {
        None
    }

    #[test]
    fn a_pdf_opens_at_the_hit_page_in_a_viewer_that_can_be_told_one() {
        let pdf = target("/d/Lease 2024.pdf", 300, Some(12));
        let at = |viewer: &str| {
            let o = pdf_at_page(viewer, &pdf.path, 12).unwrap();
            assert!(o.detached);
            (o.program, o.args)
        };
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let file = "/d/Lease 2024.pdf";
        assert_eq!(at("zathura").1, args(&["--page=12", file]));
        assert_eq!(at("/usr/bin/evince").1, args(&["--page-index=12", file]));
        assert_eq!(
            at("okular --unique").1,
            args(&["--unique", "--page", "12", file])
        );
        assert_eq!(at("qpdfview").1, args(&["/d/Lease 2024.pdf#12"]));
        assert_eq!(at("mupdf").1, args(&[file, "12"]));
        assert_eq!(
            at("firefox").1,
            args(&["file:///d/Lease%202024.pdf#page=12"])
        );
        // A command line of the user's own, with placeholders.
        assert_eq!(
            at("my-viewer -p {page} {file} --fit"),
            ("my-viewer".into(), args(&["-p", "12", file, "--fit"]))
        );
        assert_eq!(at("pdfv --page={page}").1, args(&["--page=12", file]));
        assert_eq!(pdf_at_page("libreoffice", &pdf.path, 12), None);

        // $LEXSEARCH_PDF_VIEWER comes first, then the desktop's default.
        let desktop = || Some("/usr/bin/evince".to_string());
        let o = opener(&pdf, &env(&[(PDF_VIEWER_VAR, "zathura")]), &desktop);
        assert_eq!(
            (o.program.as_str(), o.args[0].as_str()),
            ("zathura", "--page=12")
        );
        let o = opener(&pdf, &env(&[]), &desktop);
        assert_eq!(o.args, args(&["--page-index=12", file]));
        // A viewer of the user's that lexsearch does not know still opens the file.
        let o = opener(&pdf, &env(&[(PDF_VIEWER_VAR, "acroread -x")]), &desktop);
        assert_eq!(
            (o.program.as_str(), o.args.clone(), o.detached),
            ("acroread", args(&["-x", file]), true)
        );
        // Not a PDF page: the page-less system opener.
        let o = opener(
            &target("/d/a.docx", 3, None),
            &env(&[(PDF_VIEWER_VAR, "zathura")]),
            &desktop,
        );
        assert!(!o.detached);
    }

    #[test]
    fn the_desktop_entry_names_its_program() {
        let evince = "[Desktop Entry]\nName=Document Viewer\nExec=evince %U\n\
                      [Desktop Action new-window]\nExec=evince --new-window\n";
        assert_eq!(desktop_exec_program(evince).as_deref(), Some("evince"));
        let env = "[Desktop Action x]\nExec=other\n[Desktop Entry]\n\
                   Exec=env GDK_BACKEND=x11 \"/opt/zathura/bin/zathura\" %f\n";
        assert_eq!(
            desktop_exec_program(env).as_deref(),
            Some("/opt/zathura/bin/zathura")
        );
        assert_eq!(desktop_exec_program("[Desktop Entry]\nName=x\n"), None);
    }

    #[test]
    fn places_and_osc52() {
        let mut h = hit(1, "lease.txt", "x");
        h.path = PathBuf::from("/d/lease.txt");
        h.line = 43;
        assert_eq!(place_text(&h), "/d/lease.txt:43");
        h.page = Some(12);
        assert_eq!(place_text(&h), "/d/lease.txt#page=12");
        h.page = None;
        h.paragraph = Some(7);
        assert_eq!(place_text(&h), "/d/lease.txt ¶ 7");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64("§".as_bytes()), "wqc=");
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
