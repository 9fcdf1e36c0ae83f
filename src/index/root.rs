//! Root expanders and universal characters in a query word, as Westlaw writes them:
//! `negligen!` is any word that begins with "negligen" (negligence, negligent, negligently);
//! `wom*n` has exactly one character for each `*` inside a word (woman, women); `object**`
//! ends in up to that many (object, objects, objected). Words match case-insensitively and
//! whole, as the keyword index's `exact` field keeps them, before any stemming: `negligen!`
//! does not find "negligible", whose stem it shares.

/// A query word with `!` at its end or `*` in it, and at least two letters or digits before
/// the first of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// Lower case, without a final `!` and without trailing `*`s; an inner `*` stays.
    body: Vec<char>,
    /// What may follow `body`.
    tail: Tail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Nothing.
    None,
    /// Up to this many characters (trailing `*`s).
    UpTo(usize),
    /// Any number of characters (`!`).
    Any,
}

/// At least this many letters or digits come before the first `!` or `*`, so that a root
/// names a word rather than most of the index.
const LEAST_LETTERS: usize = 2;

impl Root {
    /// The root `word` is, if it is one (else it is an ordinary word).
    pub fn parse(word: &str) -> Option<Root> {
        let lower = word.to_lowercase();
        let (rest, any) = match lower.strip_suffix('!') {
            Some(rest) => (rest, true),
            None => (lower.as_str(), false),
        };
        let trimmed = rest.trim_end_matches('*');
        let stars = rest.len() - trimmed.len();
        let body: Vec<char> = if any { rest } else { trimmed }.chars().collect();
        let literal = body.iter().take_while(|&&c| c != '*').count();
        let wild = any || stars > 0 || literal < body.len();
        let tail = match (any, stars) {
            (true, _) => Tail::Any,
            (false, 0) => Tail::None,
            (false, n) => Tail::UpTo(n),
        };
        (wild && literal >= LEAST_LETTERS && body.iter().all(|&c| c == '*' || c.is_alphanumeric()))
            .then_some(Root { body, tail })
    }

    /// Whether `word` is written as a root (letters or digits with `*` in or after them, or
    /// `!` at the end) but with fewer than two letters or digits before its first wildcard
    /// (`*tion`, `r*nt`, `a!`): no root, and searched as its letters alone it would find
    /// other words, so a search refuses it.
    pub fn too_short(word: &str) -> bool {
        let body = word.strip_suffix('!').unwrap_or(word);
        let wild = word.ends_with('!') || body.contains('*');
        let literal = body.chars().take_while(|&c| c != '*').count();
        wild && literal < LEAST_LETTERS
            && body.chars().any(char::is_alphanumeric)
            && body.chars().all(|c| c == '*' || c.is_alphanumeric())
    }

    /// The letters before the first wildcard: every word the root matches begins with them.
    pub fn prefix(&self) -> String {
        self.body.iter().take_while(|&&c| c != '*').collect()
    }

    /// The root as a regular expression over whole words (tantivy's term automata match a
    /// term whole): `negligen!` is `negligen.*`, `wom*n` is `wom.n`, `object**` is
    /// `object.{0,2}`.
    pub fn regex(&self) -> String {
        // `parse` keeps only letters, digits and `*` in the body: nothing to escape.
        let mut re: String = self
            .body
            .iter()
            .map(|&c| if c == '*' { '.' } else { c })
            .collect();
        match self.tail {
            Tail::None => {}
            Tail::UpTo(n) => re.push_str(&format!(".{{0,{n}}}")),
            Tail::Any => re.push_str(".*"),
        }
        re
    }

    /// Whether `word` (lower case, as the index keeps it) is one the root stands for.
    pub fn matches(&self, word: &str) -> bool {
        let mut chars = word.chars();
        for &p in &self.body {
            match chars.next() {
                Some(c) if p == '*' || c == p => {}
                _ => return false,
            }
        }
        let rest = chars.count();
        match self.tail {
            Tail::None => rest == 0,
            Tail::UpTo(n) => rest <= n,
            Tail::Any => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matching<'a>(root: &str, words: &[&'a str]) -> Vec<&'a str> {
        let root = Root::parse(root).unwrap();
        words.iter().copied().filter(|w| root.matches(w)).collect()
    }

    #[test]
    fn an_exclamation_mark_stands_for_any_ending_and_a_star_for_one_character() {
        let words = [
            "negligence",
            "negligent",
            "negligently",
            "negligible",
            "neglect",
            "woman",
            "women",
            "womyn",
            "womens",
            "object",
            "objects",
            "objected",
            "objection",
        ];
        assert_eq!(
            matching("Negligen!", &words),
            ["negligence", "negligent", "negligently"]
        );
        assert_eq!(matching("wom*n", &words), ["woman", "women", "womyn"]);
        assert_eq!(
            matching("object**", &words),
            ["object", "objects", "objected"]
        );
        assert_eq!(matching("obj*ct!", &words).len(), 4);
        assert_eq!(Root::parse("negligen!").unwrap().prefix(), "negligen");
        assert_eq!(Root::parse("wom*n").unwrap().prefix(), "wom");
    }

    #[test]
    fn a_root_is_written_as_a_regex_over_whole_words() {
        // Through tantivy's term automata, keyword.rs's tests check that the index finds
        // exactly the words `matches` accepts.
        assert_eq!(Root::parse("Negligen!").unwrap().regex(), "negligen.*");
        assert_eq!(Root::parse("wom*n").unwrap().regex(), "wom.n");
        assert_eq!(Root::parse("object**").unwrap().regex(), "object.{0,2}");
        assert_eq!(Root::parse("obj*ct!").unwrap().regex(), "obj.ct.*");
    }

    #[test]
    fn words_without_a_wildcard_or_with_too_few_letters_before_it_are_not_roots() {
        for word in [
            "negligence",
            "a!",
            "*tion",
            "!",
            "12-401!",
            "§1983!",
            "ne!gligence",
            "Yes?!",
            "**",
        ] {
            assert_eq!(Root::parse(word), None, "{word}");
        }
        assert!(Root::parse("ab!").is_some());
        assert!(Root::parse("42u*").is_some());
        // Those written as roots, too short to be one, are told apart from ordinary words.
        for word in ["a!", "*tion", "r*nt", "5*", "x**"] {
            assert!(Root::too_short(word), "{word}");
        }
        for word in [
            "negligence",
            "!",
            "**",
            "12-401!",
            "Yes?!",
            "ab!",
            "wom*n",
            "§1983!",
        ] {
            assert!(!Root::too_short(word), "{word}");
        }
    }
}
