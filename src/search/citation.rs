//! Citations of a paragraph of a section (`§ 42-3505.01(c-1)`, `Section 7.2(a)(ii)`): the
//! section's number and the paragraph's labels, by which a search puts the chunk holding that
//! paragraph first and pinpoints it, and `lexsearch show --section "(c-1)(2)"` prints it.

use std::ops::Range;

/// A paragraph a query cites: the number of its section and its labels, outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cited<'a> {
    /// The section's number as cited (`42-3505.01`, `7.2`).
    pub number: &'a str,
    /// The paragraph's labels with their brackets (`(c-1)`, `(2)`).
    pub labels: Vec<&'a str>,
}

/// The first citation of a paragraph in `query`: a number (starting with a digit, made of
/// letters, digits, `.`, `-` and `:`) with bracketed labels after it, as statutes and
/// contracts cite them (`§ 42-3505.01(c-1)`, `Section 7.2(a)(ii)`, `1983(b)`).
pub fn cited_paragraph(query: &str) -> Option<Cited<'_>> {
    query.split_whitespace().find_map(|w| {
        let w = w
            .trim_start_matches(['"', '\'', '“', '§'])
            .trim_end_matches([',', ';', ':', '?', '!', '.', '"', '\'', '”']);
        let (number, chain) = w.split_at(w.find('(')?);
        let number_like = number.starts_with(|c: char| c.is_ascii_digit())
            && number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
        let labels = labels_of(chain)?;
        number_like.then_some(Cited { number, labels })
    })
}

/// The bracketed labels of `chain` (`(c-1)(2)`), each with its brackets; `None` when it is no
/// such chain (empty, text outside brackets, or a label of other than letters, digits, `-`
/// and `.`).
pub fn labels_of(chain: &str) -> Option<Vec<&str>> {
    let chain = chain.trim();
    let mut labels = Vec::new();
    let mut at = 0;
    while at < chain.len() {
        let rest = chain[at..].strip_prefix('(')?;
        let end = rest.find(')')?;
        let inner = &rest[..end];
        let plain = |c: char| c.is_alphanumeric() || c == '-' || c == '.';
        if inner.is_empty() || !inner.chars().all(plain) {
            return None;
        }
        labels.push(&chain[at..at + end + 2]);
        at += end + 2;
    }
    (!labels.is_empty()).then_some(labels)
}

/// Whether `heading` (a document's title or a breadcrumb heading: `D.C. Code § 42-3505.01.
/// Evictions.`, `Section 7.2 Term`) names the section `number`, as one of its words.
pub fn names_number(heading: &str, number: &str) -> bool {
    heading
        .split(|c: char| !(c.is_alphanumeric() || ".-:".contains(c)))
        .any(|w| w.trim_end_matches(['.', ':']) == number)
}

/// The byte range of the paragraph `labels` name in `text`: the first line that starts with
/// the first label, to the next line indented no deeper; then, inside it, the line that starts
/// with the next label, and so on. `None` when a label is not found.
pub fn labelled_paragraph(text: &str, labels: &[&str]) -> Option<Range<usize>> {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut within = 0..text.len();
    for label in labels {
        let mut at = within.start;
        let mut start: Option<(usize, usize)> = None;
        let mut end = within.end;
        for line in text[within.clone()].split_inclusive('\n') {
            let body = line.trim_start();
            match start {
                None if body.starts_with(label) => start = Some((at, indent(line))),
                Some((_, depth)) if !body.trim().is_empty() && indent(line) <= depth => {
                    end = at;
                    break;
                }
                _ => {}
            }
            at += line.len();
        }
        within = start?.0..end;
    }
    (!labels.is_empty()).then_some(within)
}

/// The passage of `text` that pinpoints the paragraph `labels` name: its first line, with the
/// line after it when the first holds little more than its label (`(c-1)` over `(1) It shall
/// be ...`); the innermost label found, when the chunk holds only the outer ones.
pub fn pinpointed(text: &str, labels: &[&str]) -> Option<Range<usize>> {
    let range = (1..=labels.len())
        .rev()
        .find_map(|n| labelled_paragraph(text, &labels[..n]))?;
    let lines: Vec<Range<usize>> = text[range.clone()]
        .split_inclusive('\n')
        .scan(range.start, |at, line| {
            let start = *at;
            *at += line.len();
            Some(start..start + line.trim_end().len())
        })
        .filter(|r| !text[r.clone()].trim().is_empty())
        .take(2)
        .collect();
    let first = lines.first()?.clone();
    let start = first.start + (text[first.clone()].len() - text[first.clone()].trim_start().len());
    let end = match lines.get(1) {
        Some(next) if text[first.clone()].split_whitespace().count() < 5 => next.end,
        _ => first.end,
    };
    Some(start..end)
}

/// A part of its own document, or a section of the index, that a passage refers to:
/// `Section 9.3`, `§ 42-3505.01(c)`, `Article IV`, `Exhibit B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossReference {
    /// As the passage writes it (`Section 9.3(b)`), for showing.
    pub cited: String,
    /// The kind of part, as a heading writes it: `Section` (also for `§`), `Article`,
    /// `Clause`, `Exhibit`, `Schedule`, `Annex`, `Appendix`.
    pub kind: &'static str,
    /// Its number or letter (`9.3`, `42-3505.01`, `IV`, `B`).
    pub number: String,
    /// The paragraph's labels after the number, with their brackets (`(c)`, `(17)`).
    pub paragraph: Vec<String>,
}

impl CrossReference {
    /// The labels to look its heading up by, in order
    /// ([`crate::search::documents::Documents::heading_section`]): the kind with the number
    /// (`Section 9.3`, `Exhibit B`), then for a section, clause or article the number alone
    /// (`9.3`), which finds headings that do not say "Section".
    pub fn headings(&self) -> Vec<String> {
        let mut labels = vec![format!("{} {}", self.kind, self.number)];
        if matches!(self.kind, "Section" | "Article" | "Clause") {
            labels.push(self.number.clone());
        }
        labels
    }
}

/// The parts of a document or sections of a code that `text` refers to, in order, each once:
/// sections (`Section`, `Sections`, `Sec.`, `§`, `§§`), articles, clauses, exhibits,
/// schedules, annexes and appendices with a number (`9.3`, `42-3505.01`, `IV`, `B`, `A-1`),
/// with a paragraph's labels after it (`§ 42-3401.03(17)`); each number of a plural's list
/// (`Sections 9.3 and 9.4`, `§§ 42-3401.03, 42-3502.14`, `Exhibits A through C`: a range's
/// ends). A part's name that begins its line is a heading, not a reference.
pub fn cross_references(text: &str) -> Vec<CrossReference> {
    scan(text, false)
}

/// The part or section that `label` cites, written alone (`§ 42-3401.03(17)`,
/// `Section 9.3(b)`, `Article IV`, `Exhibit B`; a number alone, `42-3401.03(17)`, is a
/// section's).
pub fn reference_in(label: &str) -> Option<CrossReference> {
    let label = label.trim();
    match label.starts_with(|c: char| c.is_ascii_digit()) {
        true => scan(&format!("§ {label}"), true),
        false => scan(label, true),
    }
    .into_iter()
    .next()
}

/// The next item of a list of numbers after a plural (`, 4.2`, ` and 4.3(b)`, ` through C`),
/// at the start of what it is matched against.
fn list_item() -> &'static regex::Regex {
    static ITEM: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    ITEM.get_or_init(|| {
        regex::Regex::new(
            r"(?x)
            ^\s*(?:,\s*(?:and\s+|or\s+)?|(?:and|or|through|to)\s+|&\s*)
            (?P<number>
                [0-9](?:[0-9A-Za-z.:\-]*[0-9A-Za-z])?
              | [IVXLC]+\b
              | [A-Z](?:-[0-9]+)?\b
            )
            (?P<labels>(?:\([0-9A-Za-z.\-]{1,6}\))*)",
        )
        .expect("a valid pattern")
    })
}

/// The references in `text`; with `headings`, also those that begin a line.
fn scan(text: &str, headings: bool) -> Vec<CrossReference> {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        regex::Regex::new(
            r"(?x)
            (?:^|[^\p{L}\p{N}])
            (?P<kind>(?i:sections?|sec\.|articles?|art\.|clauses?|exhibits?|schedules?|annex(?:es)?|appendix|appendices)|§§?)
            \s*
            (?P<number>
                [0-9](?:[0-9A-Za-z.:\-]*[0-9A-Za-z])?   # 9.3, 42-3505.01, 12a
              | [IVXLC]+\b                            # IV
              | [A-Z](?:-[0-9]+)?\b                    # B, A-1
            )
            (?P<labels>(?:\([0-9A-Za-z.\-]{1,6}\))*)",
        )
        .expect("a valid pattern")
    });
    let mut found: Vec<CrossReference> = Vec::new();
    for c in pattern.captures_iter(text) {
        let number = &c["number"];
        let kind = match c["kind"].to_lowercase().trim_end_matches('.') {
            "§" | "§§" | "sec" | "section" | "sections" => "Section",
            "art" | "article" | "articles" => "Article",
            "clause" | "clauses" => "Clause",
            "exhibit" | "exhibits" => "Exhibit",
            "schedule" | "schedules" => "Schedule",
            "appendix" | "appendices" => "Appendix",
            _ => "Annex",
        };
        // A lone capital after a section sign or "Section" is a sentence's next word (`§ A`
        // is no citation), and roman numerals number articles.
        if kind == "Section" && number.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
            continue;
        }
        let start = c.name("kind").map_or(0, |m| m.start());
        let end = c.get(0).map_or(start, |m| m.end());
        // One that begins its line is a heading (the passage's own), not a reference.
        if !headings
            && text[..start]
                .rsplit('\n')
                .next()
                .is_some_and(|l| l.trim().is_empty())
        {
            continue;
        }
        let mut push = |cited: String, number: &str, labels: &str| {
            let reference = CrossReference {
                cited,
                kind,
                number: number.to_string(),
                paragraph: (labels_of(labels).unwrap_or_default().into_iter())
                    .map(str::to_string)
                    .collect(),
            };
            let same = |f: &CrossReference| {
                (f.kind, &f.number, &f.paragraph) == (kind, &reference.number, &reference.paragraph)
            };
            if !found.iter().any(same) {
                found.push(reference);
            }
        };
        let written = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        push(written(&text[start..end]), number, &c["labels"]);
        // A plural's list: `Sections 4.1, 4.2 and 4.3(b)`, `§§ 42-3401.03 and 42-3502.14`,
        // `Exhibits A through C` (a range's ends).
        let written_kind = &c["kind"];
        let plural = written_kind == "§§"
            || written_kind.ends_with(['s', 'S']) && !written_kind.eq_ignore_ascii_case("annex");
        let mut at = end;
        while plural && let Some(item) = list_item().captures(&text[at..]) {
            let (number, labels) = (&item["number"], &item["labels"]);
            if kind == "Section" && number.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
                break;
            }
            let sign = if written_kind.starts_with('§') {
                "§"
            } else {
                kind
            };
            push(format!("{sign} {number}{labels}"), number, labels);
            at += item.get(0).map_or(0, |m| m.end());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUTE: &str = "D.C. Code § 42-3505.01. Evictions.\n\n  (a) No tenant shall be \
                           evicted.\n  (c) A housing provider may recover possession.\n  \
                           (c-1)\n    (1) It shall be a defense.\n    (2) If the tenant has an \
                           order.\n  (d) A natural person.\n";

    #[test]
    fn a_citation_of_a_paragraph_is_its_sections_number_and_its_labels() {
        let c = cited_paragraph("what does § 42-3505.01(c-1)(2) say?").unwrap();
        assert_eq!((c.number, c.labels), ("42-3505.01", vec!["(c-1)", "(2)"]));
        let c = cited_paragraph("Section 7.2(a) notice").unwrap();
        assert_eq!((c.number, c.labels), ("7.2", vec!["(a)"]));
        for none in [
            "§ 42-3505.01",
            "the (a) clause",
            "x(a)",
            "7.2()",
            "7.2(a",
            "7.2(a)b",
        ] {
            assert_eq!(cited_paragraph(none), None, "{none}");
        }
    }

    #[test]
    fn a_passage_refers_to_sections_articles_and_exhibits_of_its_document() {
        let text = "Section 9.1 Rent.\n  Except as provided in Section 9.3(b) and Sections 4.1 \
                    and 4.2, and subject to § 42-3505.01(c-1)(2), ARTICLE IV and Exhibit B, the \
                    Tenant (see section 9.3(b)) shall pay. Schedule A-1 lists them; art. 7 \
                    governs. § Section";
        let found: Vec<(String, Vec<String>, Vec<String>)> = cross_references(text)
            .into_iter()
            .map(|r| (r.cited.clone(), r.headings(), r.paragraph))
            .collect();
        let strings = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            found,
            [
                (
                    "Section 9.3(b)".into(),
                    strings(&["Section 9.3", "9.3"]),
                    strings(&["(b)"])
                ),
                (
                    "Sections 4.1".into(),
                    strings(&["Section 4.1", "4.1"]),
                    vec![]
                ),
                (
                    "Section 4.2".into(),
                    strings(&["Section 4.2", "4.2"]),
                    vec![]
                ),
                (
                    "§ 42-3505.01(c-1)(2)".into(),
                    strings(&["Section 42-3505.01", "42-3505.01"]),
                    strings(&["(c-1)", "(2)"])
                ),
                ("ARTICLE IV".into(), strings(&["Article IV", "IV"]), vec![]),
                ("Exhibit B".into(), strings(&["Exhibit B"]), vec![]),
                ("Schedule A-1".into(), strings(&["Schedule A-1"]), vec![]),
                ("art. 7".into(), strings(&["Article 7", "7"]), vec![]),
            ]
        );
        // A heading (a part's name beginning its line, `Section 9.1` above), words that only
        // begin like a part's name, and plain prose refer to nothing.
        assert!(cross_references("the subsections 2 and articles of faith, annexed A").is_empty());
        assert!(cross_references("No section, no article.").is_empty());
        // Each number of a plural's list, a range by its ends; a list ends at what is none.
        let listed = |text: &str| -> Vec<String> {
            cross_references(text)
                .into_iter()
                .map(|r| r.cited)
                .collect()
        };
        assert_eq!(
            listed("under §§ 42-3401.03(17), 42-3502.14 and 42-3505.01 of this title"),
            ["§§ 42-3401.03(17)", "§ 42-3502.14", "§ 42-3505.01"]
        );
        assert_eq!(
            listed("see Exhibits A through C, and Articles IV or V. Section 2 and 3 apply"),
            [
                "Exhibits A",
                "Exhibit C",
                "Articles IV",
                "Article V",
                "Section 2"
            ]
        );
        assert_eq!(listed("as Sections 4.1 and The Tenant"), ["Sections 4.1"]);
    }

    #[test]
    fn a_citation_written_alone_names_its_part() {
        let cited =
            |label: &str| reference_in(label).map(|r| (r.kind, r.number, r.paragraph, r.cited));
        let strings = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            cited("§ 42-3401.03(17)"),
            Some((
                "Section",
                "42-3401.03".into(),
                strings(&["(17)"]),
                "§ 42-3401.03(17)".into()
            ))
        );
        assert_eq!(
            cited(" 42-3401.03(17) ").map(|c| (c.0, c.1, c.2)),
            Some(("Section", "42-3401.03".into(), strings(&["(17)"])))
        );
        assert_eq!(cited("Exhibit B").map(|c| c.0), Some("Exhibit"));
        assert_eq!(cited("Definitions"), None);
    }

    #[test]
    fn a_heading_names_a_section_by_one_of_its_words() {
        assert!(names_number(
            "D.C. Code § 42-3505.01. Evictions.",
            "42-3505.01"
        ));
        assert!(names_number("Section 7.2 Term", "7.2"));
        assert!(!names_number("Section 7.21 Term", "7.2"));
        assert!(!names_number(
            "D.C. Code § 42-3505.011. Other.",
            "42-3505.01"
        ));
    }

    #[test]
    fn a_chain_of_bracketed_labels_names_a_paragraph_of_a_statute() {
        let para = |label: &str| {
            let labels = labels_of(label)?;
            labelled_paragraph(STATUTE, &labels).map(|r| STATUTE[r].trim().to_string())
        };
        assert_eq!(
            para("(c-1)").as_deref(),
            Some("(c-1)\n    (1) It shall be a defense.\n    (2) If the tenant has an order.")
        );
        assert_eq!(
            para("(c-1)(2)").as_deref(),
            Some("(2) If the tenant has an order.")
        );
        assert_eq!(
            para("(a)").as_deref(),
            Some("(a) No tenant shall be evicted.")
        );
        assert_eq!(para("(d)").as_deref(), Some("(d) A natural person."));
        for missing in ["(e)", "(c-1)(3)", "c-1", "(c-1) x", "()"] {
            assert_eq!(para(missing), None, "{missing}");
        }
    }

    #[test]
    fn a_pinpoint_of_a_paragraph_is_its_first_line_or_two() {
        let pin = |labels: &[&str]| pinpointed(STATUTE, labels).map(|r| &STATUTE[r]);
        assert_eq!(
            pin(&["(c-1)"]),
            Some("(c-1)\n    (1) It shall be a defense.")
        );
        assert_eq!(
            pin(&["(c-1)", "(2)"]),
            Some("(2) If the tenant has an order.")
        );
        // A label the chunk does not hold: the paragraph around it.
        assert_eq!(
            pin(&["(c-1)", "(9)"]),
            Some("(c-1)\n    (1) It shall be a defense.")
        );
        assert_eq!(pin(&["(a)"]), Some("(a) No tenant shall be evicted."));
        assert_eq!(pin(&["(e)"]), None);
    }
}
