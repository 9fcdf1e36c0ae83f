//! Sentences and paragraphs of legal text.
//!
//! [`segments`] cuts text into sentences (or clauses) in a way that respects legal writing:
//! abbreviations such as `U.S.C.` or `Inc.`, citations such as `§ 12-406(d)`, enumeration
//! labels such as `(a)` or `1.2.3`, list items. [`paragraph_starts`] finds where paragraphs
//! begin. Pinpoints choose among the segments of a hit; the keyword index numbers the sentence
//! and paragraph of every word with them, for `a /s b` and `a /p b`.

use std::ops::Range;

/// Abbreviations after which a period does not end a sentence (lower case, without the final
/// period): common ones, and those of citations as the Bluebook writes them (`Fed. R. Civ.
/// P. 56(a)`, `Cal. Civ. Code § 1542`, `Mass. Gen. Laws ch. 93A`, `Jan. 5, 2020`, `n. 4`,
/// `cert. denied`), leaving out those that are also words a sentence may end with (`App.`,
/// `So.`, `Ill.`, `Pet.`).
const ABBREVIATIONS: &[&str] = &[
    "admin", "aff", "ala", "amend", "ann", "apr", "ariz", "ark", "art", "arts", "approx", "assn",
    "aug", "ave", "bankr", "bd", "br", "bros", "cal", "cert", "cf", "ch", "chs", "cir", "civ",
    "cl", "co", "colo", "compl", "cong", "conn", "const", "corp", "crim", "ct", "cty", "dec",
    "decl", "def", "defs", "del", "dept", "dist", "div", "dkt", "dr", "e.g", "ed", "educ", "eg",
    "envtl", "esq", "et al", "etc", "evid", "ex", "exh", "fam", "feb", "fed", "fig", "fla", "ga",
    "gen", "govt", "hosp", "i.e", "id", "ie", "inc", "ind", "indus", "ins", "jan", "jr", "jul",
    "jun", "juv", "kan", "ky", "l", "ltd", "mar", "mass", "md", "mem", "mfg", "mich", "minn", "mo",
    "mont", "mot", "mr", "mrs", "ms", "mt", "mun", "n", "natl", "neb", "nev", "nn", "no", "nos",
    "nov", "oct", "okla", "op", "opp", "p", "pa", "para", "paras", "pl", "pls", "pp", "proc",
    "prof", "pt", "pub", "reg", "regs", "resp", "rev", "rptr", "sch", "sched", "sec", "secs",
    "sep", "sept", "servs", "sess", "sr", "st", "stat", "subch", "subd", "subsec", "super", "supp",
    "sys", "tenn", "tex", "tit", "tr", "transp", "twp", "univ", "util", "v", "va", "viz", "vol",
    "vs", "vt", "wash", "wis", "wyo",
];

/// Whether `word` is a reporter's series or an edition (`2d`, `3d`, `4th`, `21st`), which
/// follows an abbreviation in a citation (`Cal. App. 4th`, `So. 3d`).
fn is_series(word: &str) -> bool {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&word[digits..], "d" | "st" | "nd" | "rd" | "th")
}

/// Whether `word` (the text before a period, without it) is an enumeration label such as `1`,
/// `1.2.3`, `a`, `iv` or `(ii)`.
fn is_label(word: &str) -> bool {
    let w = word.trim_start_matches('(').trim_end_matches(')');
    if w.is_empty() {
        return false;
    }
    let numeric = w
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let letter = w.chars().count() == 1 && w.chars().all(|c| c.is_ascii_alphabetic());
    let roman = w.len() <= 6 && w.chars().all(|c| "ivxlcdmIVXLCDM".contains(c));
    numeric || letter || roman
}

/// Whether the line starting at `rest` opens a list item: `(a)`, `(ii)`, `1.`, `1.2.3`, `a.`,
/// `•`, `-`, `*`, `§`.
fn starts_list_item(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '\t']);
    if rest.starts_with(['•', '◦', '▪', '-', '–', '*', '§']) {
        return true;
    }
    if let Some(inner) = rest.strip_prefix('(') {
        if let Some(close) = inner.find(')') {
            return close <= 6 && is_label(&inner[..close]);
        }
        return false;
    }
    let word: &str = rest
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or_default();
    let Some(label) = word.strip_suffix(['.', ')']) else {
        return false;
    };
    // "1.", "1.2.3", "a)", "iv." — but not an ordinary word that ends a line.
    (label.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !label.is_empty())
        || (is_label(label) && label.len() <= 4)
}

/// The word before byte `end` of `text` (letters, digits, periods, parentheses).
fn word_before(text: &str, end: usize) -> &str {
    let start = text[..end]
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '(' | ')' | '-' | '§')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    &text[start..end]
}

/// Whether the period at byte `dot` of `text` ends a sentence, given the segment began at
/// `seg_start`.
fn period_ends_sentence(text: &str, seg_start: usize, dot: usize, after: &str) -> bool {
    let word = word_before(text, dot);
    let bare = word.trim_start_matches(['(', '§']);
    let lower = bare.to_lowercase();
    // A lower-case word next continues the sentence ("e.g. the", "Sec. 4 of").
    let next = after.trim_start().chars().next();
    if next.is_some_and(|c| c.is_lowercase()) {
        return false;
    }
    if ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    // "et al.", a two-word abbreviation.
    if lower == "al" && text[..dot].to_lowercase().ends_with("et al") {
        return false;
    }
    // Dotted abbreviations and initials: "U.S.C.", "U.S.", "J.", "N.Y."
    if bare.contains('.') && bare.chars().any(char::is_alphabetic) {
        return false;
    }
    if bare.chars().count() == 1 && bare.chars().all(char::is_uppercase) {
        return false;
    }
    // An enumeration label opening the segment ("1.", "2.1.", "(a).", "iv.", also after the
    // `#`s of a Markdown heading: "## 7. Disclaimers") is not a sentence.
    let before =
        text[seg_start..dot - word.len()].trim_matches(|c: char| c.is_whitespace() || c == '#');
    if before.is_empty() && is_label(bare) {
        return false;
    }
    // A reporter's series next (`Cal. App. 4th 12`) continues the citation.
    let next_word = after
        .trim_start()
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default();
    if is_series(next_word) {
        return false;
    }
    // A section number followed by a digit or § ("Sec. 12. 3" is unusual) stays together when
    // the word is a bare number and the next character is a digit.
    if next.is_some_and(|c| c.is_ascii_digit()) && bare.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    !bare.is_empty() || word.ends_with(')')
}

/// Cuts `text` into sentences (and clauses at `;` when `clauses`), as byte ranges trimmed of
/// surrounding whitespace, in order, not overlapping. Boundaries: `.`, `?`, `!` (and `;`)
/// followed by white space (after any closing quotes or brackets), except after legal
/// abbreviations, initials and enumeration labels; a blank line; a line that opens a list item
/// (`(a)`, `(ii)`, `1.`, `1.2.3`, `•`, `-`); a colon that ends a line. Segments without a letter
/// or digit (stray punctuation) join the segment before them.
pub fn segments(text: &str, clauses: bool) -> Vec<Range<usize>> {
    let mut cuts: Vec<usize> = Vec::new(); // byte offsets where a new segment starts
    let mut seg_start = 0usize;
    let bytes = text.as_bytes();
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end = i + c.len_utf8();
        let cut_at = match c {
            '.' | '?' | '!' | ';' | ':' => {
                // Skip closing quotes and brackets.
                let mut j = end;
                let rest = &text[end..];
                let closers: usize = rest
                    .chars()
                    .take_while(|ch| matches!(ch, '"' | '\'' | ')' | ']' | '”' | '’' | '»'))
                    .map(char::len_utf8)
                    .sum();
                j += closers;
                let after = &text[j..];
                let followed_by_space = after.chars().next().is_some_and(char::is_whitespace);
                if !followed_by_space {
                    None
                } else {
                    let ends = match c {
                        '.' => period_ends_sentence(text, seg_start, i, after),
                        '?' | '!' => true,
                        ';' => clauses,
                        // A colon ends a segment only when a line (a list) follows.
                        _ => after
                            .split('\n')
                            .next()
                            .is_some_and(|l| l.trim().is_empty() && after.contains('\n')),
                    };
                    ends.then_some(j)
                }
            }
            '\n' => {
                let rest = &text[end..];
                let next_line = rest.split('\n').next().unwrap_or_default();
                let blank = next_line.trim().is_empty() && rest.contains('\n');
                (blank || starts_list_item(rest)).then_some(end)
            }
            _ => None,
        };
        if let Some(at) = cut_at {
            // Skip white space to the next segment's first byte.
            let mut k = at;
            while k < bytes.len() && (bytes[k] as char).is_ascii_whitespace() {
                k += 1;
            }
            if k > seg_start
                && k < text.len()
                && text[seg_start..at]
                    .trim()
                    .chars()
                    .any(char::is_alphanumeric)
            {
                cuts.push(k);
                seg_start = k;
            }
            while iter.peek().is_some_and(|(p, _)| *p < k) {
                iter.next();
            }
        }
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut starts = vec![0];
    starts.extend(cuts);
    for (n, &s) in starts.iter().enumerate() {
        let e = starts.get(n + 1).copied().unwrap_or(text.len());
        let piece = &text[s..e];
        let lead = piece.len() - piece.trim_start().len();
        let trimmed = piece.trim();
        if trimmed.is_empty() {
            continue;
        }
        let range = s + lead..s + lead + trimmed.len();
        match out.last_mut() {
            Some(last) if !trimmed.chars().any(char::is_alphanumeric) => {
                last.end = range.end;
            }
            _ => out.push(range),
        }
    }
    out
}

/// Byte offsets where the paragraphs of `text` after the first begin: the first byte of a line
/// after a blank one, and of a line that opens a list item (`(a)`, `(ii)`, `1.`, `1.2.3`, `•`,
/// `-`, `§`), without its indent. [`segments`] cuts a sentence at both, so no sentence spans
/// two paragraphs; a wrapped line (PDF) continues its paragraph.
pub fn paragraph_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut seen_text = false;
    let mut after_blank = false;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let here = at;
        at += line.len();
        let trimmed = line.trim_start();
        if trimmed.trim_end().is_empty() {
            after_blank = seen_text;
            continue;
        }
        if seen_text && (after_blank || starts_list_item(line)) {
            starts.push(here + line.len() - trimmed.len());
        }
        seen_text = true;
        after_blank = false;
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        segments(text, false)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn sentences_end_at_periods_questions_and_exclamations() {
        assert_eq!(
            split("The term is two years. Either party may end it! Is notice needed? Yes."),
            vec![
                "The term is two years.",
                "Either party may end it!",
                "Is notice needed?",
                "Yes."
            ]
        );
    }

    #[test]
    fn legal_abbreviations_and_citations_do_not_end_a_sentence() {
        let text = "Claims arise under 42 U.S.C. § 1983 and Sec. 4 of the Act. \
                    Acme Inc. and Beta Corp. agree, e.g. on fees, as in Doe v. Roe, No. 12-406(d). \
                    See D.C. Code § 12-406(d). The end.";
        assert_eq!(
            split(text),
            vec![
                "Claims arise under 42 U.S.C. § 1983 and Sec. 4 of the Act.",
                "Acme Inc. and Beta Corp. agree, e.g. on fees, as in Doe v. Roe, No. 12-406(d).",
                "See D.C. Code § 12-406(d).",
                "The end."
            ]
        );
        // Citations as the Bluebook abbreviates them.
        let text = "Dismissal is proper. Fed. R. Civ. P. 12(b)(6). The release in Cal. Civ. \
                    Code § 1542 is waived. See Smith v. Jones, 12 Cal. App. 4th 100, 104 n. 3 \
                    (1993), cert. denied, Jan. 5, 1994. Mass. Gen. Laws ch. 93A applies. \
                    Tenant may not keep a pet. Rent is due.";
        assert_eq!(
            split(text),
            vec![
                "Dismissal is proper.",
                "Fed. R. Civ. P. 12(b)(6).",
                "The release in Cal. Civ. Code § 1542 is waived.",
                "See Smith v. Jones, 12 Cal. App. 4th 100, 104 n. 3 (1993), cert. denied, \
                 Jan. 5, 1994.",
                "Mass. Gen. Laws ch. 93A applies.",
                "Tenant may not keep a pet.",
                "Rent is due."
            ]
        );
    }

    #[test]
    fn enumeration_labels_stay_with_their_text() {
        let text = "1. Definitions. The terms below apply.\n2.1. Term. This lasts a year.";
        assert_eq!(
            split(text),
            vec![
                "1. Definitions.",
                "The terms below apply.",
                "2.1. Term.",
                "This lasts a year."
            ]
        );
        // A Markdown heading (as DOCX headings reach the index) keeps its number too.
        assert_eq!(
            split("## 7. Disclaimers\n\nThe service is provided as is."),
            vec!["## 7. Disclaimers", "The service is provided as is."]
        );
    }

    #[test]
    fn list_items_on_their_own_lines_are_segments() {
        let text = "The Recipient shall:\n(a) keep the information secret;\n(ii) return it on request; and\n• notify the Discloser.";
        assert_eq!(
            split(text),
            vec![
                "The Recipient shall:",
                "(a) keep the information secret;",
                "(ii) return it on request; and",
                "• notify the Discloser."
            ]
        );
    }

    #[test]
    fn wrapped_lines_of_one_sentence_stay_together_but_blank_lines_cut() {
        let text = "This Agreement shall be governed\nby the laws of New York\n\nNOTICES\nAll notices in writing.";
        assert_eq!(
            split(text),
            vec![
                "This Agreement shall be governed\nby the laws of New York",
                "NOTICES\nAll notices in writing."
            ]
        );
    }

    #[test]
    fn clauses_cut_at_semicolons_only_when_asked() {
        let text =
            "Information that is public; that was known before; or that is received lawfully.";
        assert_eq!(segments(text, false).len(), 1);
        let parts: Vec<&str> = segments(text, true).into_iter().map(|r| &text[r]).collect();
        assert_eq!(
            parts,
            vec![
                "Information that is public;",
                "that was known before;",
                "or that is received lawfully."
            ]
        );
    }

    #[test]
    fn quotes_after_a_period_belong_to_the_sentence() {
        let text = "It is called the \"Agreement.\" The parties sign it.";
        assert_eq!(
            split(text),
            vec!["It is called the \"Agreement.\"", "The parties sign it."]
        );
    }

    #[test]
    fn paragraphs_begin_after_blank_lines_and_at_list_items_but_not_at_wrapped_lines() {
        let text = "  Rent is due monthly.\nLate rent bears interest\nat 5%.\n\n\n   Notices go by mail.\n(a) to the tenant;\n2. to the landlord.\nTrailing words\n";
        let starts: Vec<&str> = paragraph_starts(text)
            .into_iter()
            .map(|s| &text[s..s + 7])
            .collect();
        assert_eq!(starts, vec!["Notices", "(a) to ", "2. to t"]);
        assert!(paragraph_starts("\n\nOne paragraph\nonly.\n\n").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn segments_are_ordered_trimmed_ranges_on_char_boundaries(text in "\\PC{0,300}", clauses: bool) {
            let segs = segments(&text, clauses);
            let mut last = 0;
            for r in &segs {
                proptest::prop_assert!(r.start >= last && r.start < r.end && r.end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                let s = &text[r.clone()];
                proptest::prop_assert_eq!(s, s.trim());
                last = r.end;
            }
        }
    }
}
