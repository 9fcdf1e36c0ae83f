//! Required and excluded words in a query: `+arbitration`, `-mutual`, `+"force majeure"`,
//! `-"sole discretion"`, as web searches write them.
//!
//! Everything else in the query is free text, searched as before (a lawyer types `§ 7.2(a)?`
//! or `12-401` freely: only a `+` or `-` that starts a word is an operator, and a `-` only
//! before a letter, `§` or a quote). Required items stay in the text that is searched for;
//! excluded ones leave it, so that neither arm is drawn towards what the user ruled out.

/// A query split into the text searched for and the words or phrases every hit must hold
/// or must not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operators {
    /// The text both arms search for: the query without its excluded items and without the
    /// `+` of required ones (the query itself when it has no operator).
    pub text: String,
    /// Words or phrases every hit must hold (`+word`, `+"a phrase"`), without the `+`.
    pub required: Vec<String>,
    /// Words or phrases no hit may hold (`-word`, `-"a phrase"`), without the `-`.
    pub excluded: Vec<String>,
}

impl Operators {
    /// Splits `query`. A quote left open runs to the end of the query.
    pub fn parse(query: &str) -> Self {
        let mut ops = Operators::default();
        let mut text: Vec<&str> = Vec::new();
        let mut rest = query;
        let mut found = false;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let sign = rest.chars().next().filter(|c| matches!(c, '+' | '-'));
            let after = sign.map_or(rest, |_| &rest[1..]);
            let operand = sign.and_then(|s| {
                let next = after.chars().next()?;
                let starts = next == '"'
                    || next == '§'
                    || next.is_alphabetic()
                    || (s == '+' && next.is_alphanumeric());
                starts.then_some(s)
            });
            // The item or word at the front, and what follows it.
            let front = if operand.is_some() { after } else { rest };
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
            match operand {
                Some(sign) if !item.trim().is_empty() => {
                    found = true;
                    if sign == '+' {
                        ops.required.push(item.trim().to_string());
                        text.push(whole);
                    } else {
                        ops.excluded.push(item.trim().to_string());
                    }
                }
                _ => text.push(whole),
            }
            rest = tail;
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
        !self.required.is_empty() || !self.excluded.is_empty()
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
}
