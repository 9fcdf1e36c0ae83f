//! Where a text defines a term (`define:"Event of Default"`): the places contracts,
//! statutes and policies give a defined term its meaning, as a reader looks for them.
//!
//! A definition is the term in quotes (straight or curly, or in bold) followed by a verb that
//! defines (`"Affiliate" means`, `“Services” shall have the meaning`, `"Lender" or "Bank"
//! refers to`), in quotes inside brackets (`(the “Services”)`, `(each, a "Party")`), in
//! quotes after a word that names it (`is an "Event of Default"`, `hereinafter "Buyer"`), or
//! the term alone opening a line of a list of definitions (`1.4 Affiliate means ...`,
//! `Confidential Information: ...`) or a sentence (`... of this Agreement. Business Day
//! means ...`), or named in running text (`the term Affiliate means`, `Affiliate, as used
//! herein, means`). Case does not count, and a word of four letters or more
//! may be singular or plural (`Events of Default` finds `"Event of Default"`, `Parties`
//! finds `"Party"`).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{LazyLock, Mutex, PoisonError};

use regex::Regex;

/// Quotes that open a term: straight and curly double quotes, a curly single one, guillemets.
const OPEN: &str = r#"["“‘«]"#;
/// Quotes that close one.
const CLOSE: &str = r#"["”’»]"#;
/// Those and a straight single quote, for a term asked for by name (in a scan of a whole
/// text, too often an apostrophe).
const OPEN_ANY: &str = r#"["“‘'«]"#;
/// Quotes that close one of those.
const CLOSE_ANY: &str = r#"["”’'»]"#;
/// Bold around or inside the quotes (Markdown).
const BOLD: &str = r"(?:\*\*|__)?";
/// The verb after a defined term: `means`, `shall mean`, `has the meaning`, `refers to`,
/// `includes`, `is defined`.
const VERB: &str = r"\s*[,:]?\s*(?:shall\s+|will\s+|also\s+)?(?:means?|ha(?:s|ve)\s+the\s+meanings?|refers?\s+to|includes?|(?:is|are)\s+defined)\b";
/// A list item's label before a term opening its line: `1.4`, `(b)`, `a.`.
const LABEL: &str = r"(?:\(?[0-9A-Za-z]{1,4}[.)]|[0-9]+(?:\.[0-9]+)*\.?)";
/// The words that name a term before it in quotes: `is an "Event of Default"`.
const NAMING: &str =
    r"\b(?i:is|are|constitutes?|be|called|hereinafter|referred\s+to\s+as)\s+(?i:an?\s+|the\s+)?";

/// Running text that names a term without quotes before its verb: `As used herein, the term`
/// before it, `, as used in this Agreement,` after it.
const AS_USED: &str = r"\s*,\s*as\s+used\s+(?:herein|in\s+[^,\n]{1,60})\s*,";
/// `the term` or `the terms` before a term named in running text.
const THE_TERM: &str = r"\bthe\s+terms?\s+";
/// A term in capitals opening a sentence or a line without quotes: `Business Day`,
/// `Event of Default` (up to six words).
const TITLED: &str = r"\p{Lu}[\p{L}-]*(?:[\t ]+(?:of|and|or|the|\p{Lu}[\p{L}-]*)){0,5}";
/// Words in capitals that open a sentence before `means` without being a term (`It means`,
/// `This means`).
const NOT_TERMS: &[&str] = &[
    "it", "this", "that", "these", "those", "such", "there", "which", "what", "who", "he", "she",
    "they", "we", "you", "each", "any", "all", "no", "the", "or", "and", "of", "one", "where",
    "here", "then", "thus", "also", "other",
];

/// Whether the `means` that ends `found` in `text` is the noun (`Authorized means of
/// notice`, `One means of accounting`), not the verb of a definition.
fn means_a_noun(text: &str, found: &Range<usize>) -> bool {
    let means = text[..found.end].ends_with("means") || text[..found.end].ends_with("MEANS");
    let after = text[found.end..].trim_start();
    means && (after.starts_with("of ") || after.starts_with("OF ") || after.starts_with("by "))
}

/// `found` without the stop and spaces before a sentence that defines a term (`. Business
/// Day means`): a definition starts at its first word.
fn from_sentence_start(text: &str, found: Range<usize>) -> Range<usize> {
    let rest = text[found.clone()].trim_start_matches(['.', ';', ' ', '\t']);
    found.end - rest.len()..found.end
}

/// The pattern of `word` singular or plural: `Part(?:y|ies)` for `Party` or `Parties`,
/// `Services?` for `Service` or `Services`; a word shorter than four letters as it is.
fn singular_or_plural(word: &str) -> String {
    let long = word.chars().count() >= 4;
    let consonant_y =
        |stem: &str| stem.ends_with(|c: char| c.is_alphabetic() && !"aeiouAEIOU".contains(c));
    if let Some(stem) = word
        .strip_suffix("ies")
        .or_else(|| word.strip_suffix("IES"))
        .filter(|_| long)
    {
        format!("{}(?:y|ies)", regex::escape(stem))
    } else if let Some(stem) = (word.strip_suffix(['y', 'Y'])).filter(|s| long && consonant_y(s)) {
        format!("{}(?:y|ies)", regex::escape(stem))
    } else if let Some(stem) = word
        .strip_suffix(['s', 'S'])
        .filter(|s| s.chars().count() >= 3)
    {
        format!("{}s?", regex::escape(stem))
    } else if long && word.ends_with(char::is_alphabetic) {
        format!("{}s?", regex::escape(word))
    } else {
        regex::escape(word)
    }
}

/// Other names of the same thing, in quotes, between a term and its verb (`"Lender" or
/// "Bank" means`).
fn other_names(open: &str, close: &str) -> String {
    format!(r#"(?:\s*(?:,|or|and)\s*{open}[^"“”‘’«»\n]{{1,60}}{close})*"#)
}

/// The places a term is defined, found by one compiled pattern.
#[derive(Debug, Clone)]
pub struct Definition {
    pattern: Regex,
}

impl Definition {
    /// The pattern for `term` (its words as typed, any white space between them); `None`
    /// for a term without a letter or digit.
    pub fn new(term: &str) -> Option<Self> {
        // Compiled once per term, not once per hit a remote index's search checks
        // ([`defines`]); a few dozen terms kept.
        static COMPILED: LazyLock<Mutex<HashMap<String, Option<Definition>>>> =
            LazyLock::new(Mutex::default);
        let mut compiled = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(d) = compiled.get(term) {
            return d.clone();
        }
        let d = Self::compile(term);
        if compiled.len() >= 64 {
            compiled.clear();
        }
        compiled.insert(term.to_string(), d.clone());
        d
    }

    /// [`new`](Self::new), compiled.
    fn compile(term: &str) -> Option<Self> {
        if !term.chars().any(char::is_alphanumeric) {
            return None;
        }
        // Each word of four letters or more singular or plural: `Event of Default` and
        // `Events of Default`, `Service` and `Services`, `Party` and `Parties` alike.
        let parts: Vec<String> = term.split_whitespace().map(singular_or_plural).collect();
        let term = format!(r"(?:{})\b", parts.join(r"\s+"));
        let quoted =
            format!(r"(?:{BOLD}{OPEN_ANY}{BOLD}{term}{BOLD},?{CLOSE_ANY}{BOLD}|\*\*{term}\*\*)");
        let before_verb = format!("{quoted}{}{VERB}", other_names(OPEN_ANY, CLOSE_ANY));
        // `(the “Services”)`, `(“Acme,” “we” or “us”)`; not `(see "Schedule A" below)`.
        let in_brackets = format!(
            r"\([^()\n]{{0,80}}?{quoted}\s*(?:\)|(?:,|or\b|and\b|{OPEN_ANY})[^()\n]{{0,80}}?\))"
        );
        let named = format!("{NAMING}{quoted}");
        let listed = format!(
            r"^[\t ]*(?:{LABEL}[\t ]+)?{term}[\t ]*(?::|[\t ]+(?:shall\s+)?(?:means?|has\s+the\s+meaning)\b)"
        );
        // `the term Affiliate means`, `Affiliate, as used herein, means`, and `. Affiliate
        // means` opening a sentence in running text.
        let running = format!(
            r"(?:{THE_TERM}{term}(?:{AS_USED})?|{term}{AS_USED}){VERB}|[.;][\t ]+{term}[\t ]+(?:shall\s+)?means\b"
        );
        let pattern = format!("(?im){before_verb}|{in_brackets}|{named}|{listed}|{running}");
        // Built from escaped words: it always compiles; a term too long for the regex
        // engine's size limit defines nothing.
        Regex::new(&pattern)
            .ok()
            .map(|pattern| Definition { pattern })
    }

    /// The byte ranges of `text` where the term is defined, in order (a sentence that
    /// defines it from its start: the end of the sentence before is not included).
    pub fn places(&self, text: &str) -> Vec<Range<usize>> {
        (self.pattern.find_iter(text))
            .map(|m| m.range())
            .filter(|found| !means_a_noun(text, found))
            .map(|found| from_sentence_start(text, found))
            .collect()
    }

    /// Whether `text` defines the term.
    pub fn in_text(&self, text: &str) -> bool {
        (self.pattern.find_iter(text)).any(|m| !means_a_noun(text, &m.range()))
    }
}

/// Whether `text` defines `term` ([`Definition`]).
pub fn defines(text: &str, term: &str) -> bool {
    Definition::new(term).is_some_and(|d| d.in_text(text))
}

/// The terms `text` defines, each once (the first definition; case aside), in text order:
/// the term as written and the byte range of its definition. Found as [`Definition`] finds
/// one term, but for a term in single straight quotes (too often an apostrophe) and a list's
/// `Term:` (too often any label); a term is one to eight words.
pub fn defined_terms(text: &str) -> Vec<(String, Range<usize>)> {
    const TERM: &str = r#"[\p{L}\p{N}][^"“”‘’«»\n()]{0,60}?"#;
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
        let quoted =
            |name: &str| format!(r"{BOLD}{OPEN}{BOLD}(?P<{name}>{TERM}){BOLD},?{CLOSE}{BOLD}");
        let pattern = format!(
            r"(?m){}{}{VERB}|(?P<brackets>\([^()\n]{{0,80}}?{OPEN}[^()\n]{{0,160}}?\))|{NAMING}{}|(?:^[\t ]*(?:{LABEL}[\t ]+)?|[.;][\t ]+)(?P<listed>{TITLED})[\t ]+(?:shall\s+)?means\b|(?i:{THE_TERM})(?P<running>{TITLED})(?:{AS_USED})?{VERB}|(?P<as_used>{TITLED}){AS_USED}{VERB}",
            quoted("verb"),
            other_names(OPEN, CLOSE),
            quoted("named"),
        );
        Regex::new(&pattern).expect("the pattern of definitions compiles")
    });
    static IN_BRACKETS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(r"{OPEN}(?P<t>{TERM}),?{CLOSE}"))
            .expect("the pattern of quoted terms compiles")
    });
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for caps in PATTERN.captures_iter(text) {
        let whole = caps.get(0).map_or(0..0, |m| m.range());
        if means_a_noun(text, &whole) {
            continue;
        }
        let terms: Vec<&str> = if let Some(b) = caps.name("brackets") {
            (IN_BRACKETS.captures_iter(b.as_str()))
                .filter_map(|c| c.name("t").map(|t| t.as_str()))
                .collect()
        } else {
            let unquoted = ["listed", "running", "as_used"];
            ["verb", "named", "listed", "running", "as_used"]
                .iter()
                .filter_map(|n| caps.name(n).map(|t| (n, t.as_str())))
                // `It means`, `This means`: no term (in quotes, `"Other Taxes"` is one).
                .filter(|(n, t)| {
                    let first = t.split_whitespace().next().unwrap_or("");
                    !unquoted.contains(n) || !NOT_TERMS.contains(&first.to_lowercase().as_str())
                })
                .map(|(_, t)| t)
                .collect()
        };
        for term in terms {
            // In brackets, a term is followed by the bracket's end, a comma, `or`, `and` or
            // another term: `(see "Schedule A" below)` names no term.
            if let Some(b) = caps.name("brackets") {
                let after = b.as_str().split_once(term).map_or("", |(_, a)| a);
                let after = after
                    .trim_start_matches([',', '"', '”', '’', '»', '*', '_'])
                    .trim_start();
                let ends = [")", ",", "or ", "and ", "\"", "“", "‘", "«"];
                if !ends.iter().any(|e| after.starts_with(e)) {
                    continue;
                }
            }
            let term = term.trim().trim_end_matches(',');
            let words = term.split_whitespace().count();
            if (1..=8).contains(&words) && seen.insert(term.to_lowercase()) {
                out.push((term.to_string(), from_sentence_start(text, whole.clone())));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_is_defined_by_a_verb_brackets_a_naming_word_or_a_list() {
        let defined = [
            (
                "“Confidential Information” means all non-public information",
                "Confidential Information",
            ),
            (
                "\"Affiliate\" shall mean any entity that controls",
                "affiliate",
            ),
            (
                "The term \"Affiliate\" or \"Affiliates\" has the meaning given in Rule 405.",
                "Affiliate",
            ),
            ("“Lender” or “Bank” refers to First National.", "Lender"),
            ("**Services** means the work in each SOW.", "Services"),
            ("as described in Exhibit A (the “Services”).", "Services"),
            (
                "Juniper Lantern Travel, Inc. (“Juniper Lantern,” “we,” “us” or “our”) operates",
                "Juniper Lantern",
            ),
            (
                "Acme Corp. (each, a \"Party\" and together, the \"Parties\")",
                "Parties",
            ),
            ("Acme Corp. (each, a \"Party\")", "parties"),
            ("“Parties” means Acme and Bo.", "Party"),
            ("the \"Company\" shall mean Acme.", "Companies"),
            (
                "Each of the following is an \"Event of Default\":",
                "Events of Default",
            ),
            (
                "shall constitute an “Event of Default” hereunder",
                "Event of Default",
            ),
            ("1.4 Affiliate means any entity", "Affiliate"),
            (
                "(b) Business Day: a day other than Saturday",
                "business day",
            ),
            // Named in running text, without quotes.
            (
                "As used herein, the term Affiliate means any entity",
                "Affiliate",
            ),
            (
                "Affiliate, as used in this Agreement, shall mean any entity",
                "affiliates",
            ),
            (
                "in effect on the date hereof. Business Day means a day",
                "Business Day",
            ),
        ];
        for (text, term) in defined {
            assert!(defines(text, term), "{term:?} in {text:?}");
        }
        let not_defined = [
            // Used, not defined.
            (
                "The Receiving Party shall protect Confidential Information.",
                "Confidential Information",
            ),
            ("Any Affiliate may receive the Services.", "Services"),
            ("subject to the \"Services\" of the Provider", "Services"),
            (
                "the Services described in Section 2 (as amended)",
                "Services",
            ),
            ("(see \"Services\" below)", "Services"),
            // Another term that starts so.
            (
                "\"Service Credits\" means the credits in Schedule B.",
                "Services",
            ),
            ("(the \"Serviceable Area\")", "Service"),
            ("The term of this Lease is five years.", "Lease"),
            ("on each Business Day, which means a day", "Business Day"),
            (
                "inquiries. Authorized means of notice include mail.",
                "Authorized",
            ),
        ];
        for (text, term) in not_defined {
            assert!(!defines(text, term), "{term:?} in {text:?}");
        }
    }

    #[test]
    fn the_terms_a_text_defines_are_listed_once_in_order() {
        let text = "Acme Corp. (the \"Company\") and Bo Lee (“Employee,” “you”) agree.\n\
                    1.1 \"Affiliate\" or \"Affiliates\" means any entity controlling the Company.\n\
                    1.2 Business Day means a day banks are open.\n\
                    Each of the following is an \"Event of Default\": (a) nonpayment.\n\
                    The Company's affiliates (as defined above) and the Employee's \"Affiliate\" \
                    shall mean the same.\n\
                    Note: the Tenant's 'Premises' are leased (see \"Schedule A\" below).";
        let terms: Vec<String> = defined_terms(text).into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            terms,
            [
                "Company",
                "Employee",
                "you",
                "Affiliate",
                "Business Day",
                "Event of Default"
            ]
        );
        let (_, at) = &defined_terms(text)[3];
        assert!(text[at.clone()].starts_with("\"Affiliate\" or \"Affiliates\" means"));
    }

    #[test]
    fn terms_named_in_running_text_are_listed_from_their_sentence() {
        let text = "Acme leases the Premises. \"Other Taxes\" means levies. Permitted Use means retail sales. It means no \
                    food. One means of sale is online. As used herein, the term Business Day shall mean a weekday. \
                    Landlord, as used in this Lease, means Acme. This Lease means the whole.";
        let terms = defined_terms(text);
        let names: Vec<&str> = terms.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            names,
            ["Other Taxes", "Permitted Use", "Business Day", "Landlord"]
        );
        assert!(text[terms[1].1.clone()].starts_with("Permitted Use means"));
        let d = Definition::new("permitted use").unwrap();
        assert!(text[d.places(text)[0].clone()].starts_with("Permitted Use means"));
    }

    #[test]
    fn the_places_are_those_of_the_definition() {
        let text = "Tenant shall pay Rent. \"Rent\" means Base Rent and all other charges.";
        let d = Definition::new("rent").unwrap();
        let places = d.places(text);
        assert_eq!(places.len(), 1);
        assert!(text[places[0].clone()].starts_with("\"Rent\" means"));
        assert!(Definition::new("  ").is_none() && Definition::new("…").is_none());
    }
}
