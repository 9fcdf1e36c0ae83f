//! Leaving the TUI for a moment: which program opens a hit, and copying its place with OSC 52.
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
    /// 1-based page, for paged documents.
    pub page: Option<u32>,
    /// 1-based paragraph, for paragraph-numbered documents.
    pub paragraph: Option<u32>,
}

impl OpenTarget {
    /// The place of `hit`: the line of its pinpoint when it has one, so that the editor opens
    /// at the sentence that answers.
    pub fn of(hit: &Hit) -> Self {
        OpenTarget {
            path: hit.path.clone(),
            line: hit.pinpoint.as_ref().map_or(hit.line, |p| p.line),
            page: hit.page,
            paragraph: hit.paragraph,
        }
    }

    /// Whether line numbers in the extracted text are lines of the file itself, so that an
    /// editor can jump to them (plain text and Markdown; not HTML, PDF or DOCX).
    pub fn is_plain_text(&self) -> bool {
        self.page.is_none() && self.paragraph.is_none() && !has_ext(&self.path, &["html", "htm"])
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
}

/// Picks the program that opens `target`. Plain text: `$VISUAL` or `$EDITOR` at the line
/// (`+LINE file`, or the editor's own form for VS Code, Sublime Text, Helix and Zed), else
/// `$PAGER +LINE file`. Everything else, or when neither is set, goes to the system opener
/// (`xdg-open`, `open` on macOS), which cannot be told a page.
pub fn opener(target: &OpenTarget, env: &dyn Fn(&str) -> Option<String>) -> Opener {
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
    Opener {
        program: if cfg!(target_os = "macos") {
            "open".into()
        } else {
            "xdg-open".into()
        },
        args: vec![path],
    }
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
    Opener { program, args }
}

/// What `y` copies: `path:line` for plain text, `path#page=N` for paged documents (the PDF
/// open-parameter form), `path ¶ N` for paragraph-numbered ones.
pub fn place_text(hit: &Hit) -> String {
    let path = hit.path.display();
    match (hit.page, hit.paragraph) {
        (Some(p), _) => format!("{path}#page={p}"),
        (None, Some(n)) => format!("{path} ¶ {n}"),
        (None, None) => format!("{path}:{}", hit.line),
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
    fn an_editor_opens_at_the_pinpoint_line() {
        let mut h = hit(1, "lease.txt", "Rent is due.\nThe deposit is returned.");
        h.line = 40;
        assert_eq!(OpenTarget::of(&h).line, 40);
        h.pinpoint = Some(crate::search::pinpoint::Pinpoint {
            start_byte: 13,
            end_byte: 37,
            line: 41,
            text: "The deposit is returned.".into(),
            score: 0.5,
        });
        assert_eq!(OpenTarget::of(&h).line, 41);
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
        }
    }

    #[test]
    fn text_opens_in_the_editor_at_the_line() {
        let t = target("/d/lease.txt", 43, None);
        let o = opener(&t, &env(&[("EDITOR", "vim"), ("PAGER", "less")]));
        assert_eq!(o.program, "vim");
        assert_eq!(o.args, ["+43", "/d/lease.txt"]);
        let o = opener(&t, &env(&[("VISUAL", "code --wait"), ("EDITOR", "vim")]));
        assert_eq!(o.program, "code");
        assert_eq!(o.args, ["--wait", "-g", "/d/lease.txt:43"]);
        let o = opener(&t, &env(&[("EDITOR", " "), ("PAGER", "less -R")]));
        assert_eq!(o.program, "less");
        assert_eq!(o.args, ["-R", "+43", "/d/lease.txt"]);
        let o = opener(&t, &env(&[]));
        assert_eq!(o.args, ["/d/lease.txt"]);
    }

    #[test]
    fn pdf_and_html_go_to_the_system_opener() {
        let vars = [("EDITOR", "vim")];
        let o = opener(&target("/d/a.pdf", 300, Some(12)), &env(&vars));
        assert_ne!(o.program, "vim");
        assert_eq!(o.args, ["/d/a.pdf"]);
        let o = opener(&target("/d/a.HTML", 3, None), &env(&vars));
        assert_ne!(o.program, "vim");
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
