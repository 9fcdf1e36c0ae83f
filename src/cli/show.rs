//! `lexsearch show`: the text of an indexed document at a place a hit names (its section,
//! a page, lines, or all of it), or its outline, read as the index read it
//! ([`crate::search::documents`], the same reader as the MCP server's `get_passage`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::output::{print_json, shown, shown_path};
use super::{Outcome, names_in_index};
use crate::search::Searcher;
use crate::search::documents::{DefinedTerms, Documents, Outline, Passage, PassageRequest};

/// Arguments of `lexsearch show`.
#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    /// Where: `FILE:LINE` as a hit prints it (the section holding that line, from its
    /// heading to the next: `leases/a.txt:71`), `FILE:FIRST-LAST` (those lines),
    /// `FILE#page=N` (that page of a PDF, as the TUI copies it), `"FILE ¶ N"` (the section
    /// holding that paragraph of a Word document, as hits print it; also `FILE#para=N`),
    /// `"FILE § 7.1"` (the section under the first heading so numbered or named, as
    /// --section), or `FILE` (all of it). FILE as a hit names it, from the indexed folder or
    /// this folder, or its full path
    #[arg(value_name = "PLACE")]
    place: String,
    /// The section under the document's first heading numbered or named so, whole: `7.1`,
    /// `7` (ARTICLE 7), `IV`, `B` (Exhibit B), or the heading's first words (`"Section 7.1"`,
    /// `"Article 7"`, `Definitions`), or a statute's paragraph by its labels (`"(c-1)(2)"`:
    /// from that line to the next indented no deeper), or a citation as a passage writes it
    /// (`"Section 7.2(b)"`: that paragraph of that section; `"§ 42-3401.03(17)"`, a section
    /// the document does not hold: read from the indexed file that is that section of a
    /// code, the one whose title names it); `--outline` lists the headings
    #[arg(long, value_name = "LABEL", conflicts_with_all = ["outline", "terms"])]
    section: Option<String>,
    /// The document's headings (articles, sections, clauses) with their lines (and pages),
    /// instead of its text
    #[arg(long, conflicts_with = "terms")]
    outline: bool,
    /// The terms the document defines (`"Affiliate" means`, `(the "Services")`, `is an
    /// "Event of Default"`), each with the line and sentence of its first definition: its
    /// glossary. `search 'define:"Event of Default"'` finds a term's definitions everywhere
    #[arg(long)]
    terms: bool,
    /// The index: its folder, or the folder indexed (default: .lexsearch in this folder or
    /// the nearest one above)
    #[arg(long, value_name = "PATH")]
    index: Option<PathBuf>,
    /// Print the passage or outline as JSON (as the MCP server's get_passage and
    /// get_document_outline answer; docs/json.md)
    #[arg(long)]
    json: bool,
}

/// What a place names in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// All of it.
    Whole,
    /// The section holding this line.
    Section(u32),
    /// These lines, inclusive.
    Lines(u32, u32),
    /// This page.
    Page(u32),
    /// The section holding this numbered paragraph (Word).
    Paragraph(u32),
    /// The section under the first heading numbered or named so.
    Heading(String),
}

/// `place` split into its file and the part of it asked for.
fn parse_place(place: &str) -> anyhow::Result<(&str, Part)> {
    let bad = |why: &str| {
        anyhow::anyhow!(
            "{place:?}: {why}; give FILE:LINE as a hit prints it (leases/a.txt:71), \
             FILE:FIRST-LAST, FILE#page=N, \"FILE ¶ N\", \"FILE § 7.1\" or FILE"
        )
    };
    let numbered = |n: &str, what: &str| {
        n.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad(&format!("{what} are numbered from 1")))
    };
    // A section by its heading's number (`lease.txt § 7.1`).
    if let Some((file, label)) = place.rsplit_once('§') {
        if label.trim().is_empty() {
            return Err(bad("give the number or name of a heading after §"));
        }
        return Ok((file.trim_end(), Part::Heading(label.trim().to_string())));
    }
    // A Word document's paragraph as hits print it (`msa.docx ¶ 7`) or as a fragment.
    let paragraph = place
        .rsplit_once('¶')
        .or_else(|| place.rsplit_once("#para="));
    if let Some((file, n)) = paragraph {
        let n = numbered(n, "paragraphs")?;
        return Ok((file.trim_end(), Part::Paragraph(n)));
    }
    if let Some((file, page)) = place.rsplit_once("#page=") {
        return Ok((file, Part::Page(numbered(page, "pages")?)));
    }
    let Some((file, lines)) = place.rsplit_once(':') else {
        return Ok((place, Part::Whole));
    };
    let number = |s: &str| s.trim().parse::<u32>().ok();
    let part = match lines.split_once('-') {
        Some((a, b)) => match (number(a), number(b)) {
            (Some(a), Some(b)) if a >= 1 && b >= a => Part::Lines(a, b),
            (Some(_), Some(_)) => return Err(bad("lines are numbered from 1, first to last")),
            _ => return Ok((place, Part::Whole)),
        },
        None => match number(lines) {
            Some(0) => return Err(bad("lines are numbered from 1")),
            Some(line) => Part::Section(line),
            // A colon in the file's own name (`Re: lease.txt`).
            None => return Ok((place, Part::Whole)),
        },
    };
    Ok((file, part))
}

/// `file` as the index names it: as given when the index has it, else a path from this
/// folder (or a full path) made relative to the indexed folder.
fn indexed_name(docs: &Documents, file: &str) -> anyhow::Result<String> {
    let files = docs.files()?;
    let names = names_in_index(file, docs.root());
    Ok(names
        .iter()
        .find(|n| files.contains_key(n.as_str()))
        .unwrap_or(&names[0])
        .clone())
}

/// Runs `lexsearch show`.
pub(super) fn run(args: ShowArgs) -> anyhow::Result<Outcome> {
    let (file, part) = match args.section {
        Some(label) => match parse_place(&args.place)? {
            (file, Part::Whole) => (file, Part::Heading(label)),
            _ => anyhow::bail!(
                "--section names the part of FILE to show: give FILE alone, not {:?}",
                args.place
            ),
        },
        None => parse_place(&args.place)?,
    };
    for (asked, what) in [
        (args.outline, "--outline shows a whole document's headings"),
        (args.terms, "--terms lists a whole document's defined terms"),
    ] {
        if asked && part != Part::Whole {
            anyhow::bail!("{what}: give FILE alone, not {:?}", args.place);
        }
    }
    let index_dir = crate::library::locate_index(args.index.as_deref(), Path::new("."))?;
    let searcher = Searcher::open(&index_dir)
        .with_context(|| format!("opening index {}", index_dir.display()))?;
    let docs = Documents::new(searcher);
    let name = indexed_name(&docs, file)?;
    if args.terms {
        let terms = docs.defined_terms(&name)?;
        if args.json {
            print_json(&terms)?;
        } else {
            print_terms(&terms)?;
        }
        return Ok(Outcome::Ok);
    }
    if args.outline {
        let outline = docs.outline(&name)?;
        if args.json {
            print_json(&outline)?;
        } else {
            print_outline(&outline)?;
        }
        return Ok(Outcome::Ok);
    }
    let passage = match part {
        Part::Whole => docs.text(&name)?,
        Part::Section(line) => docs.section(&name, line)?,
        Part::Page(page) => docs.page(&name, page)?,
        Part::Paragraph(n) => docs.paragraph_section(&name, n)?,
        Part::Heading(label) => docs.heading_section(&name, &label)?,
        Part::Lines(first, last) => docs.passage(&PassageRequest {
            file: name.clone(),
            start_line: Some(first.into()),
            end_line: Some(last.into()),
            ..PassageRequest::default()
        })?,
    };
    if args.json {
        print_json(&passage)?;
    } else {
        print_passage(&passage)?;
    }
    Ok(Outcome::Ok)
}

/// "lines 71–78", "line 5", with "p. 3" or "pp. 3–4" where the document has pages.
fn where_in(p: &Passage) -> String {
    let mut s = if p.end_line > p.line {
        format!("lines {}–{} of {}", p.line, p.end_line, p.document_lines)
    } else {
        format!("line {} of {}", p.line, p.document_lines)
    };
    match (p.page, p.page_end) {
        (Some(a), Some(b)) => s.push_str(&format!(", pp. {a}–{b}")),
        (Some(a), None) => s.push_str(&format!(", p. {a}")),
        _ => {}
    }
    s
}

/// The passage with a heading line (file, place, breadcrumb) and each line numbered.
fn print_passage(p: &Passage) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{}  {}", shown_path(&p.path), where_in(p))?;
    if !p.breadcrumb.is_empty() {
        write!(out, "  ({})", shown(&p.breadcrumb.join(" > ")))?;
    }
    writeln!(out)?;
    let width = p.end_line.to_string().len();
    for (i, line) in p.text.lines().enumerate() {
        let n = p.line as usize + i;
        writeln!(out, "{n:>width$} │ {}", shown(line))?;
    }
    if p.truncated {
        writeln!(
            out,
            "(cut at {} bytes: `lexsearch show FILE:FIRST-LAST` prints any lines)",
            p.text.len()
        )?;
    }
    Ok(())
}

/// The defined terms, each with its line (and page) and the sentence defining it.
fn print_terms(t: &DefinedTerms) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}  {} defined term{}",
        shown_path(&t.path),
        t.terms.len(),
        if t.terms.len() == 1 { "" } else { "s" }
    )?;
    let width = t
        .terms
        .iter()
        .map(|d| d.line.to_string().len())
        .max()
        .unwrap_or(1);
    for d in &t.terms {
        let page = d.page.map_or(String::new(), |p| format!("p. {p}  "));
        let sentence: String = d.text.split_whitespace().collect::<Vec<_>>().join(" ");
        writeln!(
            out,
            "{:>width$}  {page}\"{}\"  {}",
            d.line,
            shown(&d.term),
            shown(&sentence)
        )?;
    }
    if t.terms.is_empty() {
        writeln!(
            out,
            "(no defined terms: no \"Term\" means ..., (the \"Term\") or is a \"Term\" in it)"
        )?;
    }
    Ok(())
}

/// The headings, indented by level, each with its line (and page).
fn print_outline(o: &Outline) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}  {} headings, {} lines{}",
        shown_path(&o.path),
        o.headings.len(),
        o.document_lines,
        if o.pages > 0 {
            format!(", {} pages", o.pages)
        } else {
            String::new()
        }
    )?;
    let width = o.document_lines.to_string().len();
    for h in &o.headings {
        let page = h.page.map_or(String::new(), |p| format!("p. {p}  "));
        writeln!(
            out,
            "{:>width$}  {page}{}{}",
            h.entry.line,
            "  ".repeat(usize::from(h.entry.level.saturating_sub(1))),
            shown(&h.entry.heading)
        )?;
    }
    if o.headings.is_empty() {
        writeln!(
            out,
            "(no headings: the chunker found no articles, sections or numbered clauses)"
        )?;
    }
    if o.truncated {
        writeln!(out, "(the list stops at {} headings)", o.headings.len())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_name_a_section_lines_a_page_or_the_whole_file() {
        let ok = |s| parse_place(s).unwrap();
        assert_eq!(ok("leases/a.txt:71"), ("leases/a.txt", Part::Section(71)));
        assert_eq!(ok("a.txt:3-9"), ("a.txt", Part::Lines(3, 9)));
        assert_eq!(ok("/m/brief.pdf#page=12"), ("/m/brief.pdf", Part::Page(12)));
        assert_eq!(ok("a.txt"), ("a.txt", Part::Whole));
        assert_eq!(ok("msa.docx ¶ 7"), ("msa.docx", Part::Paragraph(7)));
        assert_eq!(ok("msa.docx#para=7"), ("msa.docx", Part::Paragraph(7)));
        assert_eq!(
            ok("lease.txt § 7.1"),
            ("lease.txt", Part::Heading("7.1".into()))
        );
        // A colon that is part of the name.
        assert_eq!(ok("Re: lease.eml"), ("Re: lease.eml", Part::Whole));
        for bad in [
            "a.txt:0",
            "a.txt:9-3",
            "a.pdf#page=0",
            "a.pdf#page=x",
            "a.docx ¶ 0",
            "a.txt §",
        ] {
            let err = parse_place(bad).unwrap_err().to_string();
            assert!(err.contains("FILE:LINE as a hit prints it"), "{bad}: {err}");
        }
    }
}
