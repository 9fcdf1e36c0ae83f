//! Snippets: the part of a chunk that best shows why it matched, with query terms marked.

use std::collections::HashSet;
use std::ops::Range;

use serde::Serialize;

use crate::index::keyword::{analyze, stemmed_analyzer};

/// A piece of a chunk's text with highlighted byte ranges (relative to `text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snippet {
    /// The excerpt, with `…` where it was cut.
    pub text: String,
    /// Byte ranges of `text` that match query terms, in order, not overlapping.
    pub highlights: Vec<Range<usize>>,
    /// Byte range of `text` that shows the hit's pinpoint (cut to the excerpt), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinpoint: Option<Range<usize>>,
}

/// The tokens of `text` (stemmed term and byte range) that match a token of `query`.
fn matches(text: &str, query: &str) -> Vec<(String, Range<usize>)> {
    let mut analyzer = stemmed_analyzer();
    let terms: HashSet<String> = analyze(&mut analyzer, query)
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| !STOP.contains(&t.as_str()))
        .collect();
    if terms.is_empty() {
        return Vec::new();
    }
    analyze(&mut analyzer, text)
        .into_iter()
        .filter(|(t, _)| terms.contains(t))
        .collect()
}

/// Byte ranges of `text` whose stemmed tokens are among `query`'s stemmed tokens.
pub fn highlight_ranges(text: &str, query: &str) -> Vec<Range<usize>> {
    matches(text, query).into_iter().map(|(_, r)| r).collect()
}

/// The stemmed query terms that occur in `text`, in order of first occurrence.
pub fn matched_terms(text: &str, query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (t, _) in matches(text, query) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Words too common to be worth highlighting.
pub(crate) const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "i", "if", "in",
    "is", "it", "my", "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "who",
    "will", "with",
];

/// Picks the window of about `width` characters with the most highlights and returns it.
pub fn snippet(text: &str, query: &str, width: usize) -> Snippet {
    cut(text, query, width, None)
}

/// Like [`snippet`], but the window starts at the `focus` byte range of `text` (the hit's
/// pinpoint), or shortly before it, and marks it in [`Snippet::pinpoint`].
pub fn snippet_around(text: &str, query: &str, width: usize, focus: Range<usize>) -> Snippet {
    cut(text, query, width, Some(focus))
}

fn cut(text: &str, query: &str, width: usize, focus: Option<Range<usize>>) -> Snippet {
    if width == 0 {
        return Snippet {
            text: String::new(),
            highlights: Vec::new(),
            pinpoint: None,
        };
    }
    let marks = highlight_ranges(text, query);
    let text_chars = text.chars().count();
    if text_chars <= width {
        return Snippet {
            text: text.to_string(),
            highlights: marks,
            pinpoint: focus.filter(|f| f.start < f.end && f.end <= text.len()),
        };
    }
    // Byte budget approximated from the character width; then snapped to char boundaries.
    let budget = text
        .char_indices()
        .nth(width)
        .map_or(text.len(), |(i, _)| i);
    let mut best = (0usize, 0usize); // (count, start)
    for (i, m) in marks.iter().enumerate() {
        let start = m.start.saturating_sub(budget / 4);
        let count = marks[i..]
            .iter()
            .take_while(|r| r.end <= start + budget)
            .count();
        if count > best.0 {
            best = (count, start);
        }
    }
    let anchor = match &focus {
        // A little context before the pinpoint when the pinpoint leaves room for it.
        Some(f) => {
            let room = budget.saturating_sub(f.end.saturating_sub(f.start));
            f.start.saturating_sub((room / 4).min(60))
        }
        None => best.1,
    };
    let mut start = floor_boundary(text, anchor.min(text.len().saturating_sub(budget)));
    // Begin at a word (a pinpoint begins at its own first byte).
    if start > 0
        && focus.as_ref().is_none_or(|f| f.start != start)
        && let Some((space, c)) = text[start..]
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
        && space < 30
    {
        start += space + c.len_utf8();
    }
    let mut end = floor_boundary(text, (start + budget).min(text.len()));
    if end < text.len()
        && let Some(space) = text[..end].rfind(char::is_whitespace)
        && space > start
    {
        end = space;
    }
    let prefix = if start > 0 { "…" } else { "" };
    let suffix = if end < text.len() { "…" } else { "" };
    let body = text[start..end].trim();
    let lead = text[start..end].len() - text[start..end].trim_start().len();
    let offset = start + lead;
    let highlights = marks
        .into_iter()
        .filter(|r| r.start >= offset && r.end <= offset + body.len())
        .map(|r| r.start - offset + prefix.len()..r.end - offset + prefix.len())
        .collect();
    let pinpoint = focus.and_then(|f| {
        let a = f.start.max(offset);
        let b = f.end.min(offset + body.len());
        (a < b).then(|| a - offset + prefix.len()..b - offset + prefix.len())
    });
    Snippet {
        text: format!("{prefix}{body}{suffix}"),
        highlights,
        pinpoint,
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_match_stemmed_query_terms_but_not_stopwords() {
        let text = "The Landlord shall return the Security Deposit to Tenant.";
        let marks = highlight_ranges(text, "can the landlord keep my deposits");
        let words: Vec<&str> = marks.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(words, vec!["Landlord", "Deposit"]);
    }

    #[test]
    fn long_text_is_cut_around_the_densest_highlights() {
        let text = format!(
            "{} the deposit is returned within thirty days {}",
            "filler ".repeat(100),
            "tail ".repeat(100)
        );
        let s = snippet(&text, "deposit returned", 80);
        assert!(
            s.text.starts_with('…') && s.text.ends_with('…'),
            "{}",
            s.text
        );
        assert!(s.text.chars().count() <= 84, "{}", s.text);
        let words: Vec<&str> = s.highlights.iter().map(|r| &s.text[r.clone()]).collect();
        assert_eq!(words, vec!["deposit", "returned"]);
    }

    #[test]
    fn matched_terms_are_listed_once_in_text_order() {
        let text = "Deposits: the landlord holds the deposit; the landlord returns it.";
        assert_eq!(
            matched_terms(text, "landlord deposit zebra"),
            vec!["deposit", "landlord"]
        );
    }

    #[test]
    fn cuts_never_split_a_character() {
        // Non-breaking spaces and multi-byte letters around every possible cut.
        let text = "§\u{a0}Überlassung der Mietsache\u{a0}— Kaution ".repeat(20);
        for width in [1, 5, 17, 40, 80] {
            let s = snippet(&text, "kaution mietsache", width);
            for r in &s.highlights {
                assert!(s.text.is_char_boundary(r.start) && s.text.is_char_boundary(r.end));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn snippets_of_any_text_never_panic(text in "\\PC{0,300}", query in "\\PC{0,20}", width in 0usize..120) {
            let s = snippet(&text, &query, width);
            for r in &s.highlights {
                proptest::prop_assert!(s.text.get(r.clone()).is_some());
            }
        }
    }

    #[test]
    fn a_snippet_around_a_pinpoint_shows_and_marks_it() {
        let answer = "The deposit is returned within thirty days.";
        let text = format!(
            "{} {answer} {}",
            "Filler words here. ".repeat(30),
            "Tail words. ".repeat(30)
        );
        let at = text.find(answer).unwrap();
        let s = snippet_around(&text, "deposit", 120, at..at + answer.len());
        let p = s.pinpoint.clone().expect("the pinpoint is in the window");
        assert_eq!(&s.text[p], answer);
        let words: Vec<&str> = s.highlights.iter().map(|r| &s.text[r.clone()]).collect();
        assert_eq!(words, vec!["deposit"]);
    }

    proptest::proptest! {
        #[test]
        fn snippets_around_any_focus_never_panic(text in "\\PC{0,300}", a in 0usize..300, len in 0usize..300, width in 0usize..120) {
            let start = floor_boundary(&text, a.min(text.len()));
            let end = floor_boundary(&text, (start + len).min(text.len()));
            let s = snippet_around(&text, "x", width, start..end);
            if let Some(p) = s.pinpoint {
                proptest::prop_assert!(s.text.get(p).is_some());
            }
        }
    }

    #[test]
    fn short_text_is_kept_whole() {
        let s = snippet("§ 4.3 Return of Deposit.", "deposit", 200);
        assert_eq!(s.text, "§ 4.3 Return of Deposit.");
        assert_eq!(&s.text[s.highlights[0].clone()], "Deposit");
    }
}
