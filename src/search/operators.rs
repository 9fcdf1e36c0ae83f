//! Required and excluded words in a query: `+arbitration`, `-mutual`, `+"force majeure"`,
//! `-"sole discretion"`, as web searches write them; and `breach w/5 warranty`, two words
//! at most five positions apart in either order, as legal research tools write it.
//!
//! Everything else in the query is free text, searched as before (a lawyer types `§ 7.2(a)?`
//! or `12-401` freely: only a `+` or `-` that starts a word is an operator, and a `-` only
//! before a letter, `§` or a quote). Required items stay in the text that is searched for;
//! excluded ones leave it, so that neither arm is drawn towards what the user ruled out.

use crate::index::keyword::{KeywordIndex, Near};

/// A query split into the text searched for and the words or phrases every hit must hold
/// or must not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operators {
    /// The text both arms search for: the query without its excluded items, without the
    /// `+` of required ones and without `w/N` (the query itself when it has no operator).
    pub text: String,
    /// Words or phrases every hit must hold (`+word`, `+"a phrase"`), without the `+`.
    pub required: Vec<String>,
    /// Pairs of words every hit must have close together (`breach w/5 warranty`).
    pub near: Vec<Near>,
    /// Words or phrases no hit may hold (`-word`, `-"a phrase"`), without the `-`.
    pub excluded: Vec<String>,
}

/// A word or quoted phrase of the query, with the `+` or `-` that makes it an operator.
struct Piece<'a> {
    sign: Option<char>,
    /// The word, or the phrase inside its quotes.
    item: &'a str,
    /// As typed, without the sign.
    whole: &'a str,
}

/// The query's words and quoted phrases, in order. A quote left open runs to the end.
fn pieces(query: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = query;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return out;
        }
        let sign = rest.chars().next().filter(|c| matches!(c, '+' | '-'));
        let after = sign.map_or(rest, |_| &rest[1..]);
        let sign = sign.filter(|&s| {
            after.chars().next().is_some_and(|next| {
                next == '"'
                    || next == '§'
                    || next.is_alphabetic()
                    || (s == '+' && next.is_alphanumeric())
            })
        });
        let front = if sign.is_some() { after } else { rest };
        let (item, tail) = match front.strip_prefix('"') {
            Some(inner) => match inner.find('"') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => (inner, ""),
            },
            None => {
                let end = front.find(char::is_whitespace).unwrap_or(front.len());
                (&front[..end], &front[end..])
            }
        };
        let whole = &front[..front.len() - tail.len()];
        // A sign before nothing (`-""`) is text.
        let sign = sign.filter(|_| !item.trim().is_empty());
        out.push(Piece { sign, item, whole });
        rest = tail;
    }
}

/// `N` of a `w/N` connector (1 to 9,999), in any case.
fn connector(word: &str) -> Option<u32> {
    let n = word
        .strip_prefix("w/")
        .or_else(|| word.strip_prefix("W/"))?;
    let n: u32 = n.parse().ok()?;
    (1..10_000).contains(&n).then_some(n)
}

impl Operators {
    /// Splits `query`.
    pub fn parse(query: &str) -> Self {
        let mut ops = Operators::default();
        let pieces = pieces(query);
        let mut text: Vec<&str> = Vec::new();
        let mut found = false;
        for (i, p) in pieces.iter().enumerate() {
            let plain = |q: Option<&Piece<'_>>| q.is_some_and(|q| q.sign.is_none());
            let within = plain(Some(p)).then(|| connector(p.whole)).flatten();
            match (p.sign, within) {
                // `a w/N b`: a and b stay in the text; the connector goes.
                (None, Some(n))
                    if i > 0 && plain(pieces.get(i - 1)) && plain(pieces.get(i + 1)) =>
                {
                    found = true;
                    ops.near.push(Near {
                        a: pieces[i - 1].item.trim().to_string(),
                        b: pieces[i + 1].item.trim().to_string(),
                        within: n,
                    });
                }
                (Some('+'), _) => {
                    found = true;
                    ops.required.push(p.item.trim().to_string());
                    text.push(p.whole);
                }
                (Some(_), _) => {
                    found = true;
                    ops.excluded.push(p.item.trim().to_string());
                }
                (None, _) => text.push(p.whole),
            }
        }
        ops.text = if found {
            text.join(" ")
        } else {
            query.to_string()
        };
        ops
    }

    /// Whether the query requires or excludes anything.
    pub fn constrains(&self) -> bool {
        !self.required.is_empty() || !self.near.is_empty() || !self.excluded.is_empty()
    }

    /// Whether a chunk of this `text` meets the query's requirements and exclusions, as the
    /// keyword index finds them ([`KeywordIndex::holds`], [`KeywordIndex::holds_near`]).
    pub fn admits(&self, text: &str) -> bool {
        self.required.iter().all(|r| KeywordIndex::holds(text, r))
            && self.near.iter().all(|n| KeywordIndex::holds_near(text, n))
            && !self.excluded.iter().any(|x| KeywordIndex::holds(text, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> (String, Vec<String>, Vec<String>) {
        let o = Operators::parse(q);
        (o.text, o.required, o.excluded)
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn a_query_without_operators_is_left_exactly_as_typed() {
        for q in [
            "security deposit returned",
            "§ 7.2(a)?  interest",
            "42 U.S.C. § 1983",
            "D.C. Code § 12-401 - limits",
            "rate of -5 % or more",
            "\"force majeure\" notice",
            "non-compete  ",
        ] {
            let o = Operators::parse(q);
            assert_eq!(o.text, q);
            assert!(!o.constrains(), "{q}");
        }
    }

    #[test]
    fn plus_requires_and_minus_excludes_words_and_phrases() {
        assert_eq!(
            parse("indemnification +third-party -mutual"),
            (
                "indemnification third-party".into(),
                strings(&["third-party"]),
                strings(&["mutual"])
            )
        );
        assert_eq!(
            parse("+\"force majeure\" notice -\"sole discretion\" -§1983"),
            (
                "\"force majeure\" notice".into(),
                strings(&["force majeure"]),
                strings(&["sole discretion", "§1983"])
            )
        );
        // A + may require a number; a quote left open runs to the end.
        assert_eq!(
            parse("statute +1983 -\"qualified immunity"),
            (
                "statute 1983".into(),
                strings(&["1983"]),
                strings(&["qualified immunity"])
            )
        );
        // Only excluded words: nothing is left to search for.
        assert_eq!(parse(" -arbitration ").0, "");
        // Signs alone or empty quotes are text.
        assert_eq!(parse("a - b + c -\"\"").1, Vec::<String>::new());
    }

    #[test]
    fn w_n_joins_the_words_on_either_side() {
        let o = Operators::parse("breach w/5 warranty notice W/12 cure -waiver");
        assert_eq!(o.text, "breach warranty notice cure");
        let near = |a: &str, b: &str, within| Near {
            a: a.into(),
            b: b.into(),
            within,
        };
        assert_eq!(
            o.near,
            [near("breach", "warranty", 5), near("notice", "cure", 12)]
        );
        assert_eq!(o.excluded, ["waiver"]);
        // Chained: each pair.
        let o = Operators::parse("a w/2 b w/3 c");
        assert_eq!(o.near, [near("a", "b", 2), near("b", "c", 3)]);
        assert_eq!(o.text, "a b c");
        // Not a connector: at either end, beside an operator, w/0, or words like "w/o".
        for q in [
            "w/5 breach",
            "breach w/5",
            "+breach w/5 warranty",
            "a w/0 b",
            "with w/o",
        ] {
            assert!(Operators::parse(q).near.is_empty(), "{q}");
        }
        assert_eq!(Operators::parse("with w/o").text, "with w/o");
    }
}
