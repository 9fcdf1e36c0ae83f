//! Required and excluded words in a query: `+arbitration`, `-mutual`, `+"force majeure"`,
//! `-"sole discretion"`, as web searches write them; and `breach w/5 warranty`, two words
//! at most five positions apart in either order, `breach /s warranty` in one sentence and
//! `breach /p warranty` in one paragraph, and `breach pre/5 warranty` with "breach" first
//! (`breach +s warranty`, `+p`: first in one sentence, paragraph), as legal research tools
//! write them; either side may be a quoted phrase (`"due process" /s "equal protection"`).
//!
//! `sent:2020-03` (a day, month or year, a range `sent:2019-11..2020-02-15`, or a comparison
//! `sent:>=2021`) keeps the e-mails sent then and their attachments
//! ([`SentWindow::parse`]); `from:ann@firm.example`, `from:"Ann Lee"`, `to:client.example`
//! keep the e-mails (and attachments) whose `From`, or `To` or `Cc`, holds those words;
//! `folder:"Sent Items"` those in a folder so named (an Outlook data file's, a Maildir's).
//!
//! Everything else in the query is free text, searched as before (a lawyer types `§ 7.2(a)?`
//! or `12-401` freely: only a `+` or `-` that starts a word is an operator, and a `-` only
//! before a letter, `§` or a quote). Required items stay in the text that is searched for;
//! excluded ones leave it, so that neither arm is drawn towards what the user ruled out.

use crate::index::keyword::{AtLeast, Conditions, MailField, Near, StoredChunk, Within};
use crate::index::root::Root;
use crate::index::sent::SentWindow;
use crate::ingest::segment::segments;
use crate::ingest::types::MailInfo;

/// A query split into the text searched for and the words or phrases every hit must hold
/// or must not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operators {
    /// The text both arms search for: the query without its excluded items, without the
    /// `+` of required ones and without connectors (the query itself when it has no operator).
    pub text: String,
    /// Words or phrases every hit must hold (`+word`, `+"a phrase"`), without the `+`.
    pub required: Vec<String>,
    /// Pairs of words every hit must have close together (`breach w/5 warranty`, `breach /s
    /// warranty`, `breach /p warranty`).
    pub near: Vec<Near>,
    /// Groups of words or phrases every hit holds one of at least (`+(sublease OR
    /// assignment)`, `cure AND (notice OR demand)`).
    pub any_required: Vec<Vec<String>>,
    /// Groups of pairs every hit has one of at least close together (`(breach OR default)
    /// w/5 notice`: breach w/5 notice, or default w/5 notice).
    pub any_near: Vec<Vec<Near>>,
    /// Words or phrases no hit may hold (`-word`, `-"a phrase"`), without the `-`.
    pub excluded: Vec<String>,
    /// Pairs no hit may have close together (`NOT (late w/3 fee)`, `-(late w/3 fee)`).
    pub excluded_near: Vec<Near>,
    /// Pairs whose first side every hit has somewhere the second is not that close to, as
    /// Lexis writes them (`indemnif! not w/5 negligen!`, `tax NOT /s income`).
    pub apart: Vec<Near>,
    /// Words, roots or phrases every hit holds at least so many times, as Lexis writes them
    /// (`atleast3(indemnif!)`, `atleast2("hold harmless")`); they stay in the text.
    pub at_least: Vec<AtLeast>,
    /// When the e-mail of every hit was sent, as written after `sent:` (each of them holds;
    /// [`sent_window`](Self::sent_window) reads them).
    pub sent: Vec<String>,
    /// Words or phrases the `From` of every hit's e-mail holds (`from:ann@firm.example`,
    /// `from:"Ann Lee"`), without `from:` and the quotes.
    pub from: Vec<String>,
    /// Words or phrases its `To` or `Cc` holds (`to:...`).
    pub to: Vec<String>,
    /// Words or phrases the folder that holds it holds (`folder:"Sent Items"`,
    /// [`MailInfo::folder`]).
    pub folder: Vec<String>,
    /// Header items no hit's e-mail meets (`-from:ann@firm.example`, `-to:opposing.example`,
    /// `-folder:"Deleted Items"`), without the `-`, the header and the quotes; a document
    /// that is no e-mail meets none of them.
    pub not_mail: Vec<(MailField, String)>,
    /// Words or phrases the headings over every hit hold (`heading:termination`,
    /// `heading:"events of default"`): its document's title and file name and the headings
    /// above it ([`Conditions::heading`]), without `heading:` and the quotes.
    pub heading: Vec<String>,
    /// Words or phrases the headings over no hit hold (`-heading:definitions`).
    pub not_heading: Vec<String>,
    /// Terms every hit defines (`define:"Event of Default"`, [`crate::index::define`]),
    /// without `define:` and the quotes; they stay in the text.
    pub define: Vec<String>,
    /// When no hit's e-mail was sent, as written after each `-sent:` (checked by
    /// [`sent_window`](Self::sent_window)).
    pub not_sent: Vec<String>,
    /// The windows of `not_sent` that could be read.
    not_sent_windows: Vec<SentWindow>,
    /// `like:FILE:LINE` (`like:"a file.txt:12"`): passages like the one at that place
    /// rather than like the text ([`crate::search::SearchRequest::like`]); the last one
    /// given, without `like:` and the quotes.
    pub like: Option<String>,
    /// Why a bracket beside `AND`, `NOT`, a sign or a connector could not be read as a
    /// group (`NOT (rent AND deposit)`, `a /p (b w/3 c)`, an unclosed `(`), which the search
    /// refuses rather than taking the bracket for a word.
    pub unread_group: Option<String>,
}

/// The header (`from:`, `to:` or `folder:`, in any case) that starts `word`, if any.
fn header_of(word: &str) -> Option<MailField> {
    MailField::ALL.into_iter().find(|h| {
        word.get(..h.prefix().len())
            .is_some_and(|w| w.eq_ignore_ascii_case(h.prefix()))
    })
}

/// How a query names the headings over a passage ([`Operators::heading`]).
const HEADING: &str = "heading:";

/// How a query asks for the definition of a term ([`Operators::define`]).
const DEFINE: &str = "define:";

/// Whether `word` starts with `field` (`heading:`, `define:`), in any case.
fn starts_with_field(word: &str, field: &str) -> bool {
    word.get(..field.len())
        .is_some_and(|w| w.eq_ignore_ascii_case(field))
}

/// Whether `word` starts with `heading:` (in any case).
fn heading_of(word: &str) -> bool {
    starts_with_field(word, HEADING)
}

/// Whether `word` starts with `define:` (in any case).
fn define_of(word: &str) -> bool {
    starts_with_field(word, DEFINE)
}

/// `define:"Disclosing Party"` for a query with `define:Disclosing Party`: a term written
/// without quotes whose next words are capitalized, as defined terms are (the words joined by
/// `of`, `and`, `or`, `for`, `the`, `to`, `in` too: `Event of Default`); what to suggest
/// when the one word finds no definition. `None` when there is no such term.
pub fn quoted_term(query: &str) -> Option<String> {
    let words: Vec<&str> = query.split_whitespace().collect();
    let at = words.iter().position(|w| {
        define_of(w) && !w[DEFINE.len()..].is_empty() && !w[DEFINE.len()..].starts_with('"')
    })?;
    let capital = |w: &str| w.starts_with(char::is_uppercase);
    let joining = |w: &str| matches!(w, "of" | "and" | "or" | "for" | "the" | "to" | "in");
    let mut term = vec![&words[at][DEFINE.len()..]];
    let mut rest = &words[at + 1..];
    while let Some(n) = (0..rest.len()).find(|&i| !joining(rest[i])) {
        if !capital(rest[n]) {
            break;
        }
        term.extend(&rest[..=n]);
        rest = &rest[n + 1..];
    }
    (term.len() > 1).then(|| format!("{DEFINE}\"{}\"", term.join(" ")))
}

/// A word or quoted phrase of the query, with the `+` or `-` that makes it an operator; or a
/// group of them in brackets (`(breach OR default)`), any of which will do.
#[derive(Clone)]
struct Piece<'a> {
    sign: Option<char>,
    /// The word, or the phrase inside its quotes.
    item: &'a str,
    /// As typed, without the sign.
    whole: &'a str,
    /// A group's words and phrases (empty for a word or phrase).
    alts: Vec<Piece<'a>>,
    /// Pairs in brackets joined by `OR` (`(late w/3 charge) OR (late w/3 fee)`), any of which
    /// will do; empty for anything else.
    pairs: Vec<(Piece<'a>, Within, Piece<'a>)>,
}

impl<'a> Piece<'a> {
    /// A word or phrase.
    fn new(sign: Option<char>, item: &'a str, whole: &'a str) -> Self {
        Piece {
            sign,
            item,
            whole,
            alts: Vec::new(),
            pairs: Vec::new(),
        }
    }

    /// The words or phrases it stands for: a group's, the sides of its pairs (each once), or
    /// itself.
    fn items(&self) -> Vec<&Piece<'a>> {
        if !self.pairs.is_empty() {
            let mut sides: Vec<&Piece<'a>> = Vec::new();
            for side in self.pairs.iter().flat_map(|(a, _, b)| [a, b]) {
                if !sides.iter().any(|s| s.item.trim() == side.item.trim()) {
                    sides.push(side);
                }
            }
            sides
        } else if self.alts.is_empty() {
            vec![self]
        } else {
            self.alts.iter().collect()
        }
    }
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
                    // `-(a OR b)`: a group.
                    || (next == '(' && after[1..].starts_with(|c: char| c.is_alphabetic() || c == '"'))
            })
        });
        let front = if sign.is_some() { after } else { rest };
        // `atleast3("hold harmless")`: one piece, the phrase in its brackets.
        if let Some(len) = at_least_phrase(front) {
            let (whole, tail) = front.split_at(len);
            out.push(Piece::new(sign, whole, whole));
            rest = tail;
            continue;
        }
        // `from:"Ann Lee"`, `-folder:"Deleted Items"`, `heading:"events of default"`,
        // `like:"a file.txt:12"`: the quotes hold the value.
        let quoted_header = header_of(front)
            .map(MailField::prefix)
            .or_else(|| heading_of(front).then_some(HEADING))
            .or_else(|| define_of(front).then_some(DEFINE))
            .or_else(|| like_of(front).filter(|_| sign.is_none()).map(|_| "like:"))
            .filter(|h| front[h.len()..].starts_with('"'))
            .map(str::len);
        if let Some(at) = quoted_header {
            let inner = &front[at + 1..];
            let end = inner.find('"').map_or(front.len(), |e| at + 1 + e + 1);
            let (whole, tail) = front.split_at(end);
            out.push(Piece::new(sign, whole, whole));
            rest = tail;
            continue;
        }
        let (item, tail) = match front.strip_prefix('"') {
            Some(inner) => match inner.find('"') {
                Some(end) => (&inner[..end], &inner[end + 1..]),
                None => (inner, ""),
            },
            None => {
                let end = front.find(char::is_whitespace).unwrap_or(front.len());
                let word = &front[..end];
                // A bracket that opens or closes a group is a piece of its own (`(breach`,
                // `default)`); one inside a word or around it is the word's (`(a)`, `7.2(a)`).
                let end = if word.len() > 1 && word.starts_with('(') && !word.contains(')') {
                    1
                } else if word.ends_with(')') && !word.contains('(') {
                    match word.trim_end_matches(')').len() {
                        0 => 1,
                        kept => kept,
                    }
                } else {
                    end
                };
                (&front[..end], &front[end..])
            }
        };
        let whole = &front[..front.len() - tail.len()];
        // A sign before nothing (`-""`) is text.
        let sign = sign.filter(|_| !item.trim().is_empty());
        // `5 %` is a rate, one piece, not Westlaw's `%` (BUT NOT).
        if let Some(prev) = out.last_mut().filter(|p| {
            whole == "%"
                && sign.is_none()
                && p.alts.is_empty()
                && p.whole.ends_with(|c: char| c.is_ascii_digit())
        }) {
            let start = prev.whole.as_ptr() as usize - query.as_ptr() as usize;
            let end = whole.as_ptr() as usize - query.as_ptr() as usize + whole.len();
            prev.whole = &query[start..end];
            prev.item = prev.whole;
        } else {
            out.push(Piece::new(sign, item, whole));
        }
        rest = tail;
    }
}

/// Whether `p` is an e-mail item (`from:`, `to:`, `folder:`, `sent:`), a `heading:` or
/// `define:` item or a `like:` place, which no group holds and `AND` does not require.
fn is_field(p: &Piece<'_>) -> bool {
    header_of(p.whole).is_some()
        || heading_of(p.whole)
        || define_of(p.whole)
        || sent_spec(p.whole).is_some()
        || like_of(p.whole).is_some()
}

/// Whether `p` is a connector (`w/5`, `/s`, `+s`, `pre/3`) or a Boolean word in capitals.
fn is_operator(p: &Piece<'_>) -> bool {
    connector_of(p).is_some() || p.alts.is_empty() && Boolean::of(p).is_some()
}

/// The connector `p` is: [`connector`] unsigned; signed with `+`, Westlaw's "the first word
/// before the second": `+s` (in one sentence), `+p` (in one paragraph), `+N` (at most N
/// positions on, N up to 255, so that `+1983` stays a number to require). Between two words
/// or phrases only; elsewhere `+s` or `+5` is the letter or number required.
fn connector_of(p: &Piece<'_>) -> Option<Within> {
    if !p.alts.is_empty() {
        return None;
    }
    match p.sign {
        None => connector(p.whole),
        Some('+') => match p.whole.to_ascii_lowercase().as_str() {
            "s" => Some(Within::SentenceBefore),
            "p" => Some(Within::ParagraphBefore),
            n => (n.parse::<u32>().ok())
                .filter(|n| (1..=255).contains(n) && !p.whole.starts_with('0'))
                .map(Within::Before),
        },
        Some(_) => None,
    }
}

/// Whether `p` is a word or phrase that conditions in brackets may join: unsigned, no
/// operator, bracket, e-mail item or `like:` place.
fn is_bracketable(p: &Piece<'_>) -> bool {
    p.sign.is_none() && !is_operator(p) && !matches!(p.whole, "(" | ")") && !is_field(p)
}

/// `pieces` with each run of two or more pairs in brackets joined by `OR` (`(late w/3 charge)
/// OR (late w/3 fee)`, `|` or `or` too) made one piece whose `pairs` are any of which will
/// do, as `(a OR b) w/3 c` is; when nothing beside the run but `AND` or text binds it (not
/// `NOT`, a connector or a sign of exclusion). One pair in brackets beside a connector
/// (`(breach /s warranty) /p notice`, `assign! /p (consent w/3 unreasonabl!)`) is made such a
/// piece too, a side of that connector, when nothing but text, `AND` or another connector is
/// on its other side; and one pair after `NOT` or signed `-` (`NOT (late w/3 fee)`,
/// `-(late w/3 fee)`), a pair to leave out, when no connector follows. Other brackets stay
/// pieces.
fn or_of_pairs<'a>(query: &'a str, pieces: Vec<Piece<'a>>) -> Vec<Piece<'a>> {
    let bare = |p: &Piece<'_>, b: &str| p.alts.is_empty() && p.whole == b;
    let word = is_bracketable;
    // The pair in brackets at `i`: `( a conn b )`.
    let pair_at = |i: usize| -> Option<(Piece<'a>, Within, Piece<'a>)> {
        let g = pieces.get(i..i + 5)?;
        let open = bare(&g[0], "(");
        (open && word(&g[1]) && word(&g[3]) && bare(&g[4], ")") && g[4].sign.is_none())
            .then_some(())?;
        connector_of(&g[2]).map(|within| (g[1].clone(), within, g[3].clone()))
    };
    let or = |p: Option<&Piece<'_>>| {
        p.is_some_and(|p| {
            p.sign.is_none() && p.alts.is_empty() && matches!(p.whole, "OR" | "or" | "|")
        })
    };
    let mut out: Vec<Piece<'a>> = Vec::with_capacity(pieces.len());
    let mut i = 0;
    while i < pieces.len() {
        let mut run = Vec::new();
        let mut end = i;
        while let Some(pair) = pair_at(end) {
            run.push(pair);
            end += 5;
            if !(or(pieces.get(end)) && pair_at(end + 1).is_some()) {
                break;
            }
            end += 1;
        }
        let before = i.checked_sub(1).map(|b| &pieces[b]);
        let after = pieces.get(end);
        let free = |p: Option<&Piece<'_>>| {
            p.is_none_or(|p| !is_operator(p) || Boolean::of(p) == Some(Boolean::And))
        };
        let connects = |p: Option<&Piece<'_>>| p.is_some_and(|p| connector_of(p).is_some());
        let not = |p: Option<&Piece<'_>>| {
            p.is_some_and(|p| p.sign.is_none() && Boolean::of(p) == Some(Boolean::Not))
        };
        // Only the first pair's bracket may be signed.
        let sign = pieces[i].sign;
        let unsigned_after_first = (1..run.len()).all(|k| pieces[i + 6 * k].sign.is_none());
        let side = run.len() == 1
            && sign != Some('-')
            && (connects(before) && (free(after) || connects(after))
                || connects(after) && free(before));
        let left_out = run.len() == 1
            && free(after)
            && (sign == Some('-') && free(before) || sign.is_none() && not(before));
        let any = run.len() >= 2 && sign != Some('-') && free(before) && free(after);
        if unsigned_after_first && (any || side || left_out) {
            let start = pieces[i].whole.as_ptr() as usize - query.as_ptr() as usize;
            let last = &pieces[end - 1];
            let stop = last.whole.as_ptr() as usize - query.as_ptr() as usize + last.whole.len();
            let span = &query[start..stop];
            out.push(Piece {
                pairs: run,
                ..Piece::new(sign.filter(|&s| s == '-'), span, span)
            });
            i = end;
        } else {
            out.push(pieces[i].clone());
            i += 1;
        }
    }
    out
}

/// `pieces` without the brackets around a conjunction (words or phrases each joined to the
/// next by a connector or `AND`) that is itself required: beside `AND` or signed `+`
/// (`lease AND (rent w/3 late)`, `(breach /s notice) & cure`, `+(rent w/3 late)`) or the
/// whole query. Every condition of such a group must hold anyway, so the brackets change
/// nothing; other brackets stay, for [`bracket_groups`] and [`unread_bracket`].
fn unbracket_conjunctions(pieces: Vec<Piece<'_>>) -> Vec<Piece<'_>> {
    let bare = |p: &Piece<'_>, b: &str| p.sign.is_none_or(|s| s == '+' && b == "(") && p.whole == b;
    let and = |p: Option<&Piece<'_>>| p.is_some_and(|p| Boolean::of(p) == Some(Boolean::And));
    let joins = |p: &Piece<'_>| connector_of(p).is_some() || Boolean::of(p) == Some(Boolean::And);
    let item = is_bracketable;
    let mut drop = vec![false; pieces.len()];
    for i in 0..pieces.len() {
        if !bare(&pieces[i], "(") {
            continue;
        }
        let Some(j) = (i + 1..pieces.len()).find(|&j| matches!(pieces[j].whole, "(" | ")")) else {
            continue;
        };
        let inner = &pieces[i + 1..j];
        let conjunction = bare(&pieces[j], ")")
            && inner.len() >= 3
            && inner
                .iter()
                .enumerate()
                .all(|(k, p)| if k % 2 == 0 { item(p) } else { joins(p) })
            && inner.len() % 2 == 1;
        let before = i.checked_sub(1).map(|b| &pieces[b]);
        let after = pieces.get(j + 1);
        let free = |p: Option<&Piece<'_>>| p.is_none_or(|p| !is_operator(p) || and(Some(p)));
        let required = pieces[i].sign == Some('+')
            || and(before)
            || and(after)
            || (before.is_none() && after.is_none());
        if conjunction && required && free(before) && free(after) {
            drop[i] = true;
            drop[j] = true;
        }
    }
    pieces
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(p, _)| p)
        .collect()
}

/// `pieces` with each group in brackets beside an operator (`(breach OR default) w/5
/// notice`, `cure AND (notice OR demand)`, `NOT (sublease OR assignment)`, `+(a b)`) made one
/// piece whose `alts` are its words and phrases: joined by `OR` (also `or` and `|`, as Lexis
/// writes it) or by spaces alone (as Westlaw does). A group of anything else (a connector,
/// `AND`, `NOT`, an e-mail item, another bracket) stays pieces, as does one beside no
/// operator (`(the "Lease")` is text). Whether any was made.
fn bracket_groups<'a>(query: &'a str, pieces: Vec<Piece<'a>>) -> (Vec<Piece<'a>>, bool) {
    let bracket = |p: &Piece<'_>, b: &str| p.alts.is_empty() && p.whole == b;
    let mut out: Vec<Piece<'a>> = Vec::with_capacity(pieces.len());
    let mut made = false;
    let mut i = 0;
    while i < pieces.len() {
        let open = &pieces[i];
        let close = bracket(open, "(")
            .then(|| {
                pieces[i + 1..]
                    .iter()
                    .position(|p| bracket(p, ")") || bracket(p, "("))
            })
            .flatten()
            .map(|at| i + 1 + at)
            .filter(|&j| bracket(&pieces[j], ")") && pieces[j].sign.is_none());
        let group = close.and_then(|j| {
            let inner = &pieces[i + 1..j];
            let or = |p: &Piece<'_>| {
                p.sign.is_none() && matches!(p.whole, "OR" | "or" | "|") && p.alts.is_empty()
            };
            let alts: Vec<Piece<'a>> = inner.iter().filter(|p| !or(p)).cloned().collect();
            let plain = |p: &Piece<'_>| {
                p.sign.is_none()
                    && !is_operator(p)
                    && !matches!(p.whole, "and" | "not")
                    && !is_field(p)
            };
            let beside = (open.sign.is_some() || i > 0 && is_operator(&pieces[i - 1]))
                || pieces.get(j + 1).is_some_and(is_operator);
            (beside && !alts.is_empty() && alts.iter().all(plain)).then(|| {
                let start = open.whole.as_ptr() as usize - query.as_ptr() as usize;
                let end = pieces[j].whole.as_ptr() as usize - query.as_ptr() as usize + 1;
                (
                    j,
                    Piece {
                        sign: open.sign,
                        item: &query[start..end],
                        whole: &query[start..end],
                        alts,
                        pairs: Vec::new(),
                    },
                )
            })
        });
        match group {
            Some((j, g)) => {
                out.push(g);
                made = true;
                i = j + 1;
            }
            None => {
                out.push(pieces[i].clone());
                i += 1;
            }
        }
    }
    (out, made)
}

/// The connector `word` is, in any case: `w/N` or `/N` (N from 1 to 9,999), `/s` or `w/s`
/// (one sentence), `/p` or `w/p` (one paragraph), `pre/N` (the first word before the
/// second), as Lexis and Westlaw write them.
fn connector(word: &str) -> Option<Within> {
    let lower = word.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix("pre/") {
        let n: u32 = n.parse().ok()?;
        return (1..10_000).contains(&n).then_some(Within::Before(n));
    }
    let rest = lower
        .strip_prefix('w')
        .unwrap_or(&lower)
        .strip_prefix('/')?;
    match rest {
        "s" => Some(Within::Sentence),
        "p" => Some(Within::Paragraph),
        n => {
            let n: u32 = n.parse().ok()?;
            (1..10_000).contains(&n).then_some(Within::Words(n))
        }
    }
}

/// A Boolean word of a query: `AND` (`&`), `OR` (`|`), `NOT` (`BUT NOT`, Westlaw's `%`), as
/// Lexis, Westlaw and web searches write them (`5 % or more` is a rate: [`pieces`] makes
/// `5 %` one piece).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Boolean {
    And,
    Or,
    Not,
    /// `BUT` before `NOT`.
    But,
}

impl Boolean {
    /// The Boolean word `p` is: unsigned, unquoted, in capitals (`and` is a word).
    fn of(p: &Piece<'_>) -> Option<Self> {
        if p.sign.is_some() {
            return None;
        }
        match p.whole {
            "AND" | "&" => Some(Self::And),
            "OR" | "|" => Some(Self::Or),
            "NOT" | "%" => Some(Self::Not),
            "BUT" => Some(Self::But),
            _ => None,
        }
    }
}

/// Whether `word` is a verb that English puts before "not" (`does NOT pay`, `shall NOT
/// disclose`), or a word that does ("whether NOT"): the `NOT` after it is the sentence's.
fn is_auxiliary(word: &str) -> bool {
    const AUXILIARIES: &[&str] = &[
        "am", "are", "be", "been", "can", "could", "did", "do", "does", "had", "has", "have", "if",
        "is", "may", "might", "must", "need", "ought", "shall", "should", "was", "were", "whether",
        "why", "will", "would",
    ];
    let word = word
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    AUXILIARIES.contains(&word.as_str())
}

/// Whether `query` is a passage of two sentences or more, the first ending in a period (cut
/// as [`segments`] cuts legal text, so `U.S.C.` or `Fed. R. Civ. P.` ends none, and the `!` of
/// a root such as `indemnif!` does not count).
fn is_passage(query: &str) -> bool {
    let cuts = segments(query, false);
    cuts.len() > 1
        && cuts[..cuts.len() - 1]
            .iter()
            .any(|r| query[r.clone()].ends_with('.'))
}

/// `pieces` with their Boolean words read and left out: the item after `NOT` (`BUT NOT`,
/// `AND NOT`) is excluded, as if written `-item`; the items on either side of `AND` (`&`) are
/// required, as if written `+item`, unless `OR` (`|`) joins them to another; `OR` only goes,
/// since any word may match anyway. Whether any was read.
///
/// They are read only when the query has a word with a small letter besides them, so that a
/// clause pasted in capitals (`SHALL NOT BE LIABLE`, `EXPRESS OR IMPLIED`) stays text; one
/// at an end, or beside another that does not follow it (`a AND OR b`), stays a word; and so
/// does a `NOT` that a sentence stresses (`does NOT pay`, `agrees NOT to compete`). A query
/// that is a passage ([`is_passage`]), pasted to find its like, reads none: its headings in
/// capitals (`INSURANCE AND INDEMNITY`) are text.
/// An item beside a connector (`a w/5 b AND c`) keeps the connector's reading.
fn read_boolean_words<'a>(query: &str, pieces: Vec<Piece<'a>>) -> (Vec<Piece<'a>>, bool) {
    let kinds: Vec<Option<Boolean>> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Boolean::of(p).filter(|&b| {
                b != Boolean::But
                    || pieces
                        .get(i + 1)
                        .and_then(Boolean::of)
                        .is_some_and(|n| n == Boolean::Not)
            })
        })
        .collect();
    let lower = pieces.iter().zip(&kinds).any(|(p, k)| {
        k.is_none() && connector(p.whole).is_none() && p.item.chars().any(char::is_lowercase)
    });
    if !lower || kinds.iter().all(Option::is_none) || is_passage(query) {
        return (pieces, false);
    }
    let item = |i: usize| kinds.get(i).is_some_and(Option::is_none);
    // A piece that a connector joins, or that is one, keeps that reading.
    let joined = |i: usize| {
        let is_connector = |j: usize| pieces.get(j).and_then(connector_of).is_some();
        is_connector(i) || (i > 0 && is_connector(i - 1)) || is_connector(i + 1)
    };
    let mut sign: Vec<Option<char>> = pieces.iter().map(|p| p.sign).collect();
    let mut read = vec![false; pieces.len()];
    let or_side = |i: usize| {
        (i > 0 && kinds[i - 1] == Some(Boolean::Or)) || kinds.get(i + 1) == Some(&Some(Boolean::Or))
    };
    for (i, kind) in kinds.iter().enumerate() {
        let Some(kind) = *kind else { continue };
        let before = i.checked_sub(1).filter(|&b| item(b));
        let after = Some(i + 1).filter(|&a| item(a));
        match kind {
            Boolean::Not => {
                let Some(a) = after else { continue };
                let p = &pieces[a];
                let negation = (i.checked_sub(1)).is_some_and(|b| {
                    kinds[b].is_none() && pieces[b].sign.is_none() && is_auxiliary(pieces[b].whole)
                }) || ["to", "be"].contains(&p.whole.to_lowercase().as_str());
                if joined(a) || like_of(p.whole).is_some() || negation {
                    continue;
                }
                read[i] = true;
                if i > 0 && kinds[i - 1] == Some(Boolean::But) {
                    read[i - 1] = true;
                }
                if sign[a].is_none() {
                    sign[a] = Some('-');
                }
            }
            Boolean::And => {
                let not_after = kinds.get(i + 1) == Some(&Some(Boolean::Not));
                let (Some(b), true) = (before, after.is_some() || not_after) else {
                    continue;
                };
                read[i] = true;
                for j in [Some(b), after].into_iter().flatten() {
                    let p = &pieces[j];
                    if sign[j].is_none() && !is_field(p) && !joined(j) && !or_side(j) {
                        sign[j] = Some('+');
                    }
                }
            }
            Boolean::Or => {
                if before.is_some() && after.is_some() {
                    read[i] = true;
                }
            }
            Boolean::But => {}
        }
    }
    if !read.contains(&true) {
        return (pieces, false);
    }
    let out = pieces
        .into_iter()
        .zip(sign)
        .zip(read)
        .filter(|(_, read)| !read)
        .map(|((p, sign), _)| Piece { sign, ..p })
        .collect();
    (out, true)
}

/// Why the query cannot be searched as written, when a bracket that no group was made of
/// stands beside an operator: signed by a sign, `AND` or `NOT` (`-(`, `+)`), a side of a
/// connector (`) /p`), or beside `OR` (`(a w/3 b) OR (c w/3 d)`). Taken for a word, it would
/// turn the query's meaning around: `NOT (rent AND deposit)` would require both words.
/// Called on the pieces before the Boolean words are read (for `OR`) and after (for the
/// signs `AND` and `NOT` give).
fn unread_bracket(query: &str, pieces: &[Piece<'_>]) -> Option<String> {
    let bare = |p: &Piece<'_>| p.alts.is_empty() && matches!(p.whole, "(" | ")");
    let connects = |j: Option<usize>| {
        j.and_then(|j| pieces.get(j))
            .is_some_and(|p| connector_of(p).is_some())
    };
    let or = |j: Option<usize>| {
        j.and_then(|j| pieces.get(j))
            .is_some_and(|p| Boolean::of(p) == Some(Boolean::Or))
    };
    let (_, b) = pieces.iter().enumerate().find(|&(i, p)| {
        bare(p)
            && (p.sign.is_some()
                || connects(Some(i + 1)) && i + 2 < pieces.len()
                || i >= 2 && connects(i.checked_sub(1))
                || p.whole == "(" && or(i.checked_sub(1))
                || p.whole == ")" && or(Some(i + 1)))
    })?;
    let at = b.whole.as_ptr() as usize - query.as_ptr() as usize;
    let group = matching_bracket(query, at).map(|other| &query[at.min(other)..=at.max(other)]);
    Some(match group {
        Some(group) => format!(
            "{group:?} is not read as a group: brackets beside NOT, OR or a connector hold only \
             words or phrases joined by OR, or one pair (`(breach /s warranty) /p notice`), \
             and beside AND those or conditions all joined by connectors or AND (`lease AND \
             (late w/3 fee)`); groups do not nest. Write connectors one after another without \
             brackets (`a /p b w/3 c` keeps the hits with a /p b and b w/3 c)"
        ),
        None if b.whole == "(" => format!(
            "the \"(\" of {:?} is not closed: close the group with \")\", or leave the bracket out",
            query[at..].trim_end()
        ),
        None => format!(
            "the \")\" of {:?} closes no \"(\": open the group with \"(\", or leave the bracket out",
            query[..=at].trim_start()
        ),
    })
}

/// The byte offset of the bracket that closes (or opens) the one at `at` in `query`, counting
/// nested ones and passing over quoted phrases.
fn matching_bracket(query: &str, at: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut brackets = Vec::new();
    for (i, c) in query.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' | ')' if !quoted => brackets.push((i, c)),
            _ => {}
        }
    }
    let forward = query[at..].starts_with('(');
    let ordered: Box<dyn Iterator<Item = &(usize, char)>> = if forward {
        Box::new(brackets.iter().filter(|(i, _)| *i >= at))
    } else {
        Box::new(brackets.iter().rev().filter(|(i, _)| *i <= at))
    };
    for &(i, c) in ordered {
        depth += if (c == '(') == forward { 1 } else { -1 };
        if depth == 0 {
            return Some(i);
        }
    }
    None
}

/// The query with the curly double quotes a word processor types (“…”, „…“, ‟…″) made
/// straight, when it has any, so that a phrase pasted from a brief or typed in Word is a
/// quoted phrase (`+“force majeure”`, `“due process” /s “equal protection”`). Single curly
/// quotes stay: ’ is the apostrophe of “Tenant’s”.
pub fn straight_quotes(query: &str) -> Option<String> {
    const CURLY: [char; 5] = ['“', '”', '„', '‟', '″'];
    query.contains(CURLY).then(|| query.replace(CURLY, "\""))
}

/// Whether `word` is Lexis's `atleastN(item)` (in any case): `None` when it does not start so
/// (`atleast` and a bracket), else how many times, what it asks for (a phrase without its
/// quotes) and that as typed (a phrase in its quotes), or `Err` when it is not written as N
/// from 1 to 999 and one word, root or quoted phrase in the brackets.
fn at_least_of(word: &str) -> Option<Result<(u32, &str, &str), ()>> {
    let head = word.get(..7)?;
    let (n, rest) = word[7..].split_once('(')?;
    if !head.eq_ignore_ascii_case("atleast") {
        return None;
    }
    let times = n
        .parse::<u32>()
        .ok()
        .filter(|t| (1..1000).contains(t) && !n.starts_with('0'));
    let plain = |i: &str| !i.trim().is_empty() && !i.contains(|c: char| "()\"".contains(c));
    let item = rest.strip_suffix(')').and_then(|typed| {
        match typed.strip_prefix('"').and_then(|i| i.strip_suffix('"')) {
            Some(phrase) => plain(phrase).then(|| (phrase.trim(), typed)),
            None => plain(typed).then_some((typed, typed)),
        }
    });
    Some(
        times
            .zip(item)
            .map(|(t, (i, typed))| (t, i, typed))
            .ok_or(()),
    )
}

/// The length of Lexis's `atleastN("a phrase")` (in any case) at the start of `front`: one
/// piece of the query, its space inside the quotes.
fn at_least_phrase(front: &str) -> Option<usize> {
    let head = front.get(..7)?;
    if !head.eq_ignore_ascii_case("atleast") {
        return None;
    }
    let open = 7 + front[7..].bytes().take_while(u8::is_ascii_digit).count();
    let inner = front[open..].strip_prefix("(\"")?;
    let close = inner.find("\")")?;
    Some(open + 2 + close + 2)
}

/// Whether `p` is the word `not`, in any case, unsigned.
fn is_not_word(p: &Piece<'_>) -> bool {
    p.sign.is_none() && p.alts.is_empty() && p.whole.eq_ignore_ascii_case("not")
}

/// What follows `like:` (in any case) at the start of `word`, when it starts so.
fn like_of(word: &str) -> Option<&str> {
    let head = word.get(..5)?;
    head.eq_ignore_ascii_case("like:").then(|| &word[5..])
}

/// What follows `sent:` (in any case) at the start of `word`, when something does.
fn sent_spec(word: &str) -> Option<&str> {
    let head = word.get(..5)?;
    (head.eq_ignore_ascii_case("sent:") && word.len() > 5).then(|| &word[5..])
}

impl Operators {
    /// Splits `query`.
    pub fn parse(query: &str) -> Self {
        let mut ops = Operators::default();
        let pieces = unbracket_conjunctions(or_of_pairs(query, pieces(query)));
        let (pieces, grouped) = bracket_groups(query, pieces);
        let beside_or = unread_bracket(query, &pieces);
        let (pieces, mut found) = read_boolean_words(query, pieces);
        found |= grouped;
        ops.unread_group = beside_or.or_else(|| unread_bracket(query, &pieces));
        // `a not w/5 b` (Lexis): a pair apart; `not`, the connector and `b` leave the text.
        let mut apart = vec![false; pieces.len()];
        // `not w/5 b` with nothing before it: what should be apart from b is missing.
        if let [not, conn, ..] = pieces.as_slice()
            && is_not_word(not)
            && connector_of(conn).is_some()
        {
            ops.unread_group.get_or_insert_with(|| {
                format!(
                    "{:?} is not read: `not {}` needs a word or phrase before it, found where \
                     the one after it is not that close (`indemnif! not w/5 negligen!`)",
                    query.trim(),
                    conn.whole
                )
            });
        }
        for i in 2..pieces.len().saturating_sub(1) {
            let Some(within) = connector_of(&pieces[i]).filter(|_| is_not_word(&pieces[i - 1]))
            else {
                continue;
            };
            let (a, b) = (&pieces[i - 2], &pieces[i + 1]);
            let one = |p: &Piece<'_>| is_bracketable(p) && p.alts.is_empty() && p.pairs.is_empty();
            if !one(a) || !one(b) {
                ops.unread_group.get_or_insert_with(|| {
                    format!(
                        "{:?} is not read: `not {}` takes one word or phrase on each side \
                         (`indemnif! not w/5 negligen!`); write a group's words one by one",
                        query.trim(),
                        pieces[i].whole
                    )
                });
                continue;
            }
            ops.apart.push(Near {
                a: a.item.trim().to_string(),
                b: b.item.trim().to_string(),
                within,
            });
            found = true;
            apart[i - 1] = true;
            apart[i] = true;
            apart[i + 1] = true;
        }
        let mut text: Vec<&str> = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            if apart[i] {
                continue;
            }
            let plain = |q: Option<&Piece<'_>>| q.is_some_and(|q| q.sign.is_none());
            // `+s`, `+p` and `+5` (Westlaw's "before, in one sentence / paragraph / within
            // 5") are connectors between two words, not the letter or number required.
            let within = connector_of(p);
            // `sent:...` unquoted: a window of days, not text (`-sent:...`: of e-mails left
            // out; `+sent:...` is `sent:...`).
            if !p.whole.starts_with('"')
                && p.alts.is_empty()
                && let Some(spec) = sent_spec(p.whole)
            {
                found = true;
                if p.sign == Some('-') {
                    ops.not_sent.push(spec.to_string());
                    ops.not_sent_windows.extend(SentWindow::parse(spec).ok());
                } else {
                    ops.sent.push(spec.to_string());
                }
                continue;
            }
            // `like:FILE:LINE`: the passage whose like is searched for, not text.
            if p.sign.is_none()
                && let Some(place) = like_of(p.whole)
            {
                let place = place.trim_matches('"').trim();
                if !place.is_empty() {
                    found = true;
                    ops.like = Some(place.to_string());
                    continue;
                }
            }
            // `atleast3(indemnif!)`: the item, held that many times at least; it stays in the
            // text. Left out (`-atleast3(...)`) it has no Lexis reading: refused.
            match at_least_of(p.whole).filter(|_| p.alts.is_empty()) {
                Some(Ok(_)) if p.sign == Some('-') => {
                    ops.unread_group.get_or_insert_with(|| {
                        format!(
                            "{:?} is not read: atleast keeps the hits holding a word that many \
                             times; it cannot be left out",
                            p.whole
                        )
                    });
                    continue;
                }
                Some(Ok((times, item, typed))) => {
                    found = true;
                    ops.at_least.push(AtLeast {
                        item: item.to_string(),
                        times,
                    });
                    text.push(typed);
                    continue;
                }
                Some(Err(())) => {
                    ops.unread_group.get_or_insert_with(|| {
                        format!(
                            "{:?} is not read: write atleastN(word), N from 1 to 999 and one \
                             word, root or quoted phrase in the brackets \
                             (`atleast3(indemnif!)`, `atleast2(\"hold harmless\")`)",
                            p.whole
                        )
                    });
                }
                None => {}
            }
            // `from:...`, `to:...` and `folder:...`: words of the e-mail's headers, not text
            // (`-from:...`: of e-mails left out; `+from:...` is `from:...`).
            if let Some(h) = header_of(p.whole) {
                let value = p.whole[h.prefix().len()..].trim_matches('"').trim();
                if !value.is_empty() {
                    found = true;
                    let value = value.to_string();
                    match (p.sign, h) {
                        (Some('-'), _) => ops.not_mail.push((h, value)),
                        (_, MailField::From) => ops.from.push(value),
                        (_, MailField::To) => ops.to.push(value),
                        (_, MailField::Folder) => ops.folder.push(value),
                    }
                    continue;
                }
            }
            // `heading:(a OR b)`, `define:""`: no group, no empty phrase; refused.
            let field = [HEADING, DEFINE]
                .into_iter()
                .find(|f| starts_with_field(p.whole, f));
            if let Some(f) = field {
                let after = &p.whole[f.len()..];
                if after.starts_with('(')
                    || after.starts_with('"') && after.trim_matches('"').trim().is_empty()
                {
                    ops.unread_group.get_or_insert_with(|| {
                        format!(
                            "{:?} is not read: {f} takes one word, or a phrase in quotes \
                             ({f}\"events of default\")",
                            p.whole
                        )
                    });
                    found = true;
                    continue;
                }
            }
            // `heading:...`: words of the headings over the passage, not text (`-heading:...`:
            // of passages left out; `+heading:...` is `heading:...`); no root.
            if heading_of(p.whole) {
                let value = p.whole[HEADING.len()..].trim_matches('"').trim();
                if value.split_whitespace().any(|w| Root::parse(w).is_some()) {
                    ops.unread_group.get_or_insert_with(|| {
                        format!(
                            "{:?} is not read: heading: takes whole words or a phrase \
                             (`heading:termination`, `heading:\"events of default\"`), matched \
                             stemmed, not a root with `!` or `*`",
                            p.whole
                        )
                    });
                }
                if !value.is_empty() {
                    found = true;
                    let value = value.to_string();
                    match p.sign {
                        Some('-') => ops.not_heading.push(value),
                        _ => ops.heading.push(value),
                    }
                    continue;
                }
            }
            // `define:"Event of Default"`: the passages defining the term, which stays in the
            // text (as a phrase); left out, it has no reading: refused.
            if define_of(p.whole) {
                let value = p.whole[DEFINE.len()..].trim_matches('"').trim();
                if !value.is_empty() {
                    if p.sign == Some('-') {
                        ops.unread_group.get_or_insert_with(|| {
                            format!(
                                "{:?} is not read: define: keeps the passages that define a \
                                 term; it cannot be left out",
                                p.whole
                            )
                        });
                    }
                    found = true;
                    ops.define.push(value.to_string());
                    text.push(&p.whole[DEFINE.len()..]);
                    continue;
                }
            }
            let items = |p: &Piece<'_>| -> Vec<String> {
                p.items()
                    .into_iter()
                    .map(|q| q.item.trim().to_string())
                    .collect()
            };
            // `(a w/3 b) OR (c w/3 d)`: any of the pairs; their words stay in the text. A
            // pair beside a connector holds too, and the connector below joins its words.
            if !p.pairs.is_empty() {
                found = true;
                let pairs: Vec<Near> = (p.pairs.iter())
                    .map(|(a, within, b)| Near {
                        a: a.item.trim().to_string(),
                        b: b.item.trim().to_string(),
                        within: *within,
                    })
                    .collect();
                // `NOT (late w/3 fee)`: a pair to leave out; its words leave the text.
                if p.sign == Some('-') {
                    ops.excluded_near.extend(pairs);
                    continue;
                }
                match <[Near; 1]>::try_from(pairs) {
                    Ok([pair]) => ops.near.push(pair),
                    Err(pairs) => ops.any_near.push(pairs),
                }
                text.extend(p.pairs.iter().flat_map(|(a, _, b)| [a.whole, b.whole]));
                continue;
            }
            match (p.sign, within) {
                // `a w/N b`, `a /s b`, `a /p b`: a and b stay in the text; the connector goes.
                // A group on a side: any of its pairs.
                (_, Some(n)) if i > 0 && plain(pieces.get(i - 1)) && plain(pieces.get(i + 1)) => {
                    found = true;
                    let mut pairs: Vec<Near> = Vec::new();
                    for a in items(&pieces[i - 1]) {
                        for b in items(&pieces[i + 1]) {
                            pairs.push(Near {
                                a: a.clone(),
                                b,
                                within: n,
                            });
                        }
                    }
                    match <[Near; 1]>::try_from(pairs) {
                        Ok([pair]) => ops.near.push(pair),
                        Err(pairs) => ops.any_near.push(pairs),
                    }
                }
                (Some('+'), _) => {
                    found = true;
                    match <[String; 1]>::try_from(items(p)) {
                        Ok([item]) => ops.required.push(item),
                        Err(any) => ops.any_required.push(any),
                    }
                    text.extend(p.items().into_iter().map(|q| q.whole));
                }
                (Some(_), _) => {
                    found = true;
                    ops.excluded.extend(items(p));
                }
                (None, _) => text.extend(p.items().into_iter().map(|q| q.whole)),
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
        !self.required.is_empty()
            || !self.near.is_empty()
            || !self.any_required.is_empty()
            || !self.any_near.is_empty()
            || !self.excluded.is_empty()
            || !self.excluded_near.is_empty()
            || !self.apart.is_empty()
            || !self.at_least.is_empty()
            || !self.sent.is_empty()
            || !self.from.is_empty()
            || !self.to.is_empty()
            || !self.folder.is_empty()
            || !self.not_mail.is_empty()
            || !self.not_sent.is_empty()
            || !self.heading.is_empty()
            || !self.not_heading.is_empty()
            || !self.define.is_empty()
    }

    /// What every hit must meet, for the keyword index; `sent` is
    /// [`sent_window`](Self::sent_window)'s answer.
    pub fn conditions(&self, sent: Option<SentWindow>) -> Conditions<'_> {
        Conditions {
            required: &self.required,
            near: &self.near,
            any_required: &self.any_required,
            any_near: &self.any_near,
            excluded: &self.excluded,
            excluded_near: &self.excluded_near,
            apart: &self.apart,
            at_least: &self.at_least,
            sent,
            from: &self.from,
            to: &self.to,
            folder: &self.folder,
            not_mail: &self.not_mail,
            not_sent: &self.not_sent_windows,
            heading: &self.heading,
            not_heading: &self.not_heading,
            define: &self.define,
        }
    }

    /// The days every hit's e-mail was sent in (all `sent:` windows at once); `None` without
    /// `sent:`, or why one (or one of `-sent:`) cannot be read or they leave no day.
    pub fn sent_window(&self) -> Result<Option<SentWindow>, String> {
        for spec in &self.not_sent {
            SentWindow::parse(spec).map_err(|e| format!("-{e}"))?;
        }
        let mut window: Option<SentWindow> = None;
        for spec in &self.sent {
            let w = SentWindow::parse(spec)?;
            window = Some(window.map_or(w, |x| x.and(w)));
        }
        match window {
            Some(w) if w.is_empty() => Err(format!(
                "{} leave no day between them",
                self.sent
                    .iter()
                    .map(|s| format!("sent:{s}"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
            w => Ok(w),
        }
    }

    /// Whether a chunk of this `text` (of an e-mail with these headers, if any) meets the
    /// query's conditions as the keyword index finds them ([`Conditions::admit`]), but for
    /// `heading:`, which [`admits_chunk`](Self::admits_chunk) checks too. `sent` is
    /// [`sent_window`](Self::sent_window)'s answer.
    pub fn admits(&self, text: &str, mail: Option<&MailInfo>, sent: Option<SentWindow>) -> bool {
        self.conditions(sent).admit(text, mail)
    }

    /// Whether `chunk` meets the query's conditions, its headings included, as the keyword
    /// index finds them ([`Conditions::admit_chunk`]).
    pub fn admits_chunk(&self, chunk: &StoredChunk, sent: Option<SentWindow>) -> bool {
        self.conditions(sent).admit_chunk(chunk)
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
    fn like_names_a_place_and_leaves_the_rest_as_it_was() {
        let ops = Operators::parse("like:leases/a.txt:27 -rent sent:2020");
        assert_eq!(ops.like.as_deref(), Some("leases/a.txt:27"));
        assert_eq!(ops.excluded, ["rent"]);
        assert_eq!(ops.sent, ["2020"]);
        assert_eq!(ops.text, "");
        assert!(ops.constrains());
        let quoted = Operators::parse("LIKE:\"my lease.txt:3\" deposit");
        assert_eq!(quoted.like.as_deref(), Some("my lease.txt:3"));
        assert_eq!(quoted.text, "deposit");
        assert!(!quoted.constrains(), "like: is no condition on the text");
        // A bare `like:` is a word.
        assert_eq!(Operators::parse("like: it").like, None);
        assert_eq!(Operators::parse("like: it").text, "like: it");
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
    fn capital_and_or_not_read_as_lexis_and_westlaw_write_them() {
        let o = Operators::parse("termination NOT convenience");
        assert_eq!(o.text, "termination");
        assert_eq!(o.excluded, ["convenience"]);
        assert!(o.required.is_empty());
        // AND requires both sides; `&`, `BUT NOT` and `AND NOT` as Westlaw and Lexis write them.
        let o = Operators::parse("indemnif! AND \"hold harmless\" BUT NOT mutual");
        assert_eq!(o.text, "indemnif! \"hold harmless\"");
        assert_eq!(o.required, ["indemnif!", "hold harmless"]);
        assert_eq!(o.excluded, ["mutual"]);
        // Westlaw's `%` is BUT NOT.
        let o = Operators::parse("assign! % consent");
        assert_eq!(
            (o.text.as_str(), &o.excluded[..]),
            ("assign!", &strings(&["consent"])[..])
        );
        let o = Operators::parse("lease % (late w/3 fee)");
        assert_eq!(o.text, "lease");
        assert_eq!(o.excluded_near.len(), 1);
        let o = Operators::parse("lease & assignment BUT NOT sublet AND NOT consent");
        assert_eq!(o.required, ["lease", "assignment"]);
        assert_eq!(o.excluded, ["sublet", "consent"]);
        assert_eq!(o.text, "lease assignment");
        let o = Operators::parse("a AND b AND c");
        assert_eq!(o.required, ["a", "b", "c"]);
        // OR leaves its sides as they were (any may match), and keeps AND from requiring them.
        let o = Operators::parse("breach OR default AND notice | demand");
        assert_eq!(o.text, "breach default notice demand");
        assert!(o.required.is_empty() && o.excluded.is_empty());
        let o = Operators::parse("breach OR default AND cure");
        assert_eq!(o.required, ["cure"]);
        assert!(o.any_required.is_empty());
        let o = Operators::parse("(breach OR default) AND cure");
        assert_eq!(o.required, ["cure"]);
        assert_eq!(o.any_required, [strings(&["breach", "default"])]);
        // NOT before a header leaves those e-mails out; a connector keeps its sides.
        let o = Operators::parse("wire NOT from:ann@firm.example");
        assert_eq!(
            o.not_mail,
            [(MailField::From, "ann@firm.example".to_string())]
        );
        let o = Operators::parse("breach w/5 warranty AND damages");
        assert_eq!(o.near.len(), 1);
        assert_eq!(o.required, ["damages"]);
        assert_eq!(o.text, "breach warranty damages");
    }

    #[test]
    fn a_group_in_brackets_beside_an_operator_is_any_of_its_words() {
        let near = |a: &str, b: &str| Near {
            a: a.into(),
            b: b.into(),
            within: Within::Words(5),
        };
        // Joined by OR (Lexis, in either case), `|`, or spaces (Westlaw).
        for q in [
            "(breach OR default) w/5 notice",
            "(breach or default) w/5 notice",
            "(breach | default) w/5 notice",
            "(breach default) w/5 notice",
        ] {
            let o = Operators::parse(q);
            assert_eq!(
                o.any_near,
                [vec![near("breach", "notice"), near("default", "notice")]],
                "{q}"
            );
            assert!(o.near.is_empty() && o.required.is_empty(), "{q}");
            assert_eq!(o.text, "breach default notice", "{q}");
        }
        // Both sides: every pair; a phrase may be one of them.
        let o = Operators::parse("(breach OR \"event of default\") /s (notice OR cure)");
        let pairs: Vec<(&str, &str)> = o.any_near[0]
            .iter()
            .map(|n| (n.a.as_str(), n.b.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("breach", "notice"),
                ("breach", "cure"),
                ("event of default", "notice"),
                ("event of default", "cure"),
            ]
        );
        assert_eq!(o.text, "breach \"event of default\" notice cure");
        // AND or + on a group: one of its words; NOT or - on it: none of them.
        let o = Operators::parse("cure AND (notice OR demand) NOT (sublease OR assignment)");
        assert_eq!(o.required, ["cure"]);
        assert_eq!(o.any_required, [strings(&["notice", "demand"])]);
        assert_eq!(o.excluded, ["sublease", "assignment"]);
        assert_eq!(o.text, "cure notice demand");
        let o = Operators::parse("lease +(sublet OR \"assign this lease\") -(oral OR verbal)");
        assert_eq!(o.any_required, [strings(&["sublet", "assign this lease"])]);
        assert_eq!(o.excluded, ["oral", "verbal"]);
        assert!(o.admits("Tenant may not sublet.", None, None));
        assert!(!o.admits("Tenant may not sublet by oral consent.", None, None));
        assert!(!o.admits("Tenant may not assign.", None, None));
        // A word in brackets is that word.
        let o = Operators::parse("(breach) w/5 notice");
        let (a, _) = o.near[0].sides().unwrap();
        assert_eq!(a, crate::index::keyword::Side::Word("breach".into()));
    }

    #[test]
    fn brackets_beside_no_operator_or_around_a_label_stay_text() {
        for q in [
            "the Tenant (as defined below) shall pay",
            "§ 7.2(a) notice",
            "notice under (a) and (b)",
            "(breach OR default",
            "breach OR default) w/5",
        ] {
            let o = Operators::parse(q);
            assert!(!o.constrains(), "{q}");
            assert!(o.any_near.is_empty(), "{q}");
        }
        assert_eq!(Operators::parse("§ 7.2(a) notice").text, "§ 7.2(a) notice");
        // A label in brackets beside a connector is a word of its side.
        let o = Operators::parse("section (a) w/5 notice");
        assert_eq!(o.near[0].a, "(a)");
        // A group holding more than a pair, AND or an e-mail item is not read as one.
        for q in [
            "(breach w/5 notice /s default) /p cure",
            "(breach AND notice) /p cure",
            "(from:ann OR lease) AND cure",
        ] {
            assert!(Operators::parse(q).any_near.is_empty(), "{q}");
            assert!(Operators::parse(q).any_required.is_empty(), "{q}");
        }
        for q in [
            "the Tenant (as defined below) shall pay",
            "(breach OR default",
        ] {
            assert_eq!(Operators::parse(q).unread_group, None, "{q}");
        }
    }

    #[test]
    fn a_bracket_beside_an_operator_that_makes_no_group_is_refused_not_taken_for_a_word() {
        // Taken for a word, `-(` would have required both words and excluded a bracket.
        for (q, group) in [
            ("NOT (rent AND deposit) lease", "(rent AND deposit)"),
            (
                "(breach w/5 notice /s default) /p cure",
                "(breach w/5 notice /s default)",
            ),
            ("NOT (breach w/5 notice) /p cure", "(breach w/5 notice)"),
            ("(tenant AND landlord) w/5 deposit", "(tenant AND landlord)"),
            ("(from:ann OR lease) AND cure", "(from:ann OR lease)"),
            // A group inside another is named.
            ("(deposit OR (rent w/3 late)) AND tenant", "(rent w/3 late)"),
            ("NOT (late w/3 fee) /p lease", "(late w/3 fee)"),
            ("rent OR (late w/3 fee)", "(late w/3 fee)"),
            ("(late w/3 fee rent) AND lease", "(late w/3 fee rent)"),
        ] {
            let why = Operators::parse(q).unread_group.unwrap_or_default();
            assert!(
                why.starts_with(&format!("{group:?} is not read as a group")),
                "{q}: {why}"
            );
        }
        let open = Operators::parse("lease AND (rent OR deposit").unread_group;
        assert!(
            open.unwrap_or_default()
                .contains("\"(rent OR deposit\" is not closed")
        );
        let close = Operators::parse("rent OR deposit) AND lease").unread_group;
        assert!(close.unwrap_or_default().contains("closes no \"(\""));
        // Brackets that make a group, or stand beside no operator, are read as before.
        for q in [
            "(breach OR default) w/5 notice",
            "cure AND (notice OR demand)",
            "§ 7.2(a) w/5 notice",
            "breach OR default) w/5",
            "notice under (a) and (b)",
        ] {
            assert_eq!(Operators::parse(q).unread_group, None, "{q}");
        }
    }

    #[test]
    fn curly_double_quotes_pasted_from_a_word_processor_quote_a_phrase() {
        let straight = |q: &str| straight_quotes(q).unwrap_or_else(|| q.to_string());
        let o = Operators::parse(&straight("+“force majeure” notice"));
        assert_eq!(o.required, ["force majeure"]);
        let o = Operators::parse(&straight("“due process” /s „equal protection“"));
        assert_eq!(
            (o.near[0].a.as_str(), o.near[0].b.as_str()),
            ("due process", "equal protection")
        );
        // The apostrophe stays; a query without curly quotes is left as it is.
        assert_eq!(straight_quotes("the Tenant’s ‘sole discretion’"), None);
    }

    #[test]
    fn pairs_in_brackets_joined_by_or_keep_the_hits_with_any_of_them() {
        let near = |a: &str, within: Within, b: &str| Near {
            a: a.into(),
            b: b.into(),
            within,
        };
        let either = [
            near("late", Within::Words(3), "charge"),
            near("late fee", Within::Sentence, "interest"),
        ];
        for q in [
            "(late w/3 charge) OR (\"late fee\" /s interest)",
            "(late w/3 charge) | (\"late fee\" /s interest)",
            "rent AND (late w/3 charge) OR (\"late fee\" /s interest)",
        ] {
            let o = Operators::parse(q);
            assert_eq!(o.unread_group, None, "{q}");
            assert_eq!(o.any_near, [either.to_vec()], "{q}");
            assert!(o.near.is_empty(), "{q}");
            assert!(
                o.text.contains("late charge \"late fee\" interest"),
                "{q}: {}",
                o.text
            );
        }
        assert_eq!(
            Operators::parse("rent AND (late w/3 charge) OR (late w/3 fee)").required,
            ["rent"]
        );
        // Beside NOT or a connector they are refused, as other brackets are.
        for q in [
            "NOT (late w/3 charge) OR (late w/3 fee) rent",
            "(late w/3 charge) OR (late w/3 fee) /p rent",
        ] {
            assert!(Operators::parse(q).unread_group.is_some(), "{q}");
        }
    }

    #[test]
    fn a_pair_in_brackets_beside_a_connector_holds_and_its_words_are_that_close_to_the_other_side()
    {
        let near = |a: &str, within: Within, b: &str| Near {
            a: a.into(),
            b: b.into(),
            within,
        };
        let o = Operators::parse("(breach /s warranty) /p notice");
        assert_eq!(o.unread_group, None);
        assert_eq!(o.near, [near("breach", Within::Sentence, "warranty")]);
        assert_eq!(
            o.any_near,
            [vec![
                near("breach", Within::Paragraph, "notice"),
                near("warranty", Within::Paragraph, "notice"),
            ]]
        );
        assert_eq!(o.text, "breach warranty notice");
        // The group on the right, a root, and the order a `pre/N` asks for.
        let o = Operators::parse("assign! /p (consent w/3 unreasonabl!)");
        assert_eq!(o.unread_group, None);
        assert_eq!(o.near, [near("consent", Within::Words(3), "unreasonabl!")]);
        assert_eq!(
            o.any_near,
            [vec![
                near("assign!", Within::Paragraph, "consent"),
                near("assign!", Within::Paragraph, "unreasonabl!"),
            ]]
        );
        let o = Operators::parse("(\"due process\" /s hearing) pre/10 notice");
        assert_eq!(o.near, [near("due process", Within::Sentence, "hearing")]);
        assert_eq!(
            o.any_near,
            [vec![
                near("due process", Within::Before(10), "notice"),
                near("hearing", Within::Before(10), "notice"),
            ]]
        );
        // Pairs on both sides, a chain after a group, and AND beside it.
        let o = Operators::parse("(a /s b) /p (c w/3 d) w/5 e AND lease");
        assert_eq!(o.unread_group, None);
        assert_eq!(
            o.near,
            [
                near("a", Within::Sentence, "b"),
                near("c", Within::Words(3), "d"),
            ]
        );
        assert_eq!(
            o.any_near,
            [
                vec![
                    near("a", Within::Paragraph, "c"),
                    near("a", Within::Paragraph, "d"),
                    near("b", Within::Paragraph, "c"),
                    near("b", Within::Paragraph, "d"),
                ],
                vec![
                    near("c", Within::Words(5), "e"),
                    near("d", Within::Words(5), "e"),
                ],
            ]
        );
        assert_eq!(o.required, ["lease"]);
    }

    #[test]
    fn a_pair_in_brackets_after_not_or_minus_is_left_out() {
        let late_fee = Near {
            a: "late".into(),
            b: "fee".into(),
            within: Within::Words(3),
        };
        for q in [
            "lease NOT (late w/3 fee)",
            "NOT (late w/3 fee) lease",
            "lease BUT NOT (late w/3 fee)",
            "lease AND NOT (late w/3 fee)",
            "lease -(late w/3 fee)",
        ] {
            let o = Operators::parse(q);
            assert_eq!(o.unread_group, None, "{q}");
            assert_eq!(o.excluded_near, std::slice::from_ref(&late_fee), "{q}");
            assert!(o.near.is_empty() && o.any_near.is_empty(), "{q}");
            assert_eq!(o.text, "lease", "{q}");
            assert!(o.constrains(), "{q}");
            assert!(o.admits("The lease has a late charge.", None, None), "{q}");
            assert!(!o.admits("The lease has a late fee.", None, None), "{q}");
            assert!(
                o.admits(
                    "The lease fee is due at noon, and rent is never late.",
                    None,
                    None
                ),
                "{q}"
            );
        }
        // Two pairs after NOT, or a connector after the pair: refused, not guessed.
        for q in [
            "lease NOT (late w/3 fee) OR (late w/3 charge)",
            "lease NOT (late w/3 fee) /p rent",
        ] {
            assert!(Operators::parse(q).unread_group.is_some(), "{q}");
        }
    }

    #[test]
    fn not_before_a_connector_keeps_the_first_word_where_the_second_is_not_that_close() {
        let apart = |a: &str, within, b: &str| Near {
            a: a.into(),
            b: b.into(),
            within,
        };
        for (q, pair, text) in [
            (
                "indemnif! not w/5 negligen!",
                apart("indemnif!", Within::Words(5), "negligen!"),
                "indemnif!",
            ),
            (
                "tax NOT /s income",
                apart("tax", Within::Sentence, "income"),
                "tax",
            ),
            (
                "\"hold harmless\" not /p \"gross negligence\" waiver",
                apart("hold harmless", Within::Paragraph, "gross negligence"),
                "\"hold harmless\" waiver",
            ),
        ] {
            let o = Operators::parse(q);
            assert_eq!(o.unread_group, None, "{q}");
            assert_eq!(o.apart, [pair], "{q}");
            assert!(o.near.is_empty() && o.excluded.is_empty(), "{q}");
            assert_eq!(o.text, text, "{q}");
            assert!(o.constrains(), "{q}");
        }
        let o = Operators::parse("indemnif! not w/5 negligen!");
        // Without the second word, or with it far off, or with one of the first words far
        // from it: kept.
        assert!(o.admits("Seller shall indemnify Buyer.", None, None));
        assert!(o.admits(
            "Seller shall indemnify Buyer for all losses of every kind and nature, save negligence.",
            None,
            None
        ));
        assert!(o.admits(
            "Seller shall indemnify Buyer against negligence. Buyer may in all other cases seek indemnification.",
            None,
            None
        ));
        // Every first word that close to the second, or no first word at all: left out.
        assert!(!o.admits(
            "Seller shall indemnify Buyer against negligence.",
            None,
            None
        ));
        assert!(!o.admits("Seller is liable for negligence.", None, None));
        // A group on a side is refused, not guessed.
        for q in [
            "(indemnif! OR defend) not w/5 negligen!",
            "indemnif! not w/5 (negligen! OR fault)",
        ] {
            assert!(Operators::parse(q).unread_group.is_some(), "{q}");
        }
        assert!(Operators::parse("not w/5 negligen!").unread_group.is_some());
        // `not` before no connector stays a word of the text.
        let o = Operators::parse("tenant may not sublet");
        assert!(o.apart.is_empty() && !o.constrains());
    }

    #[test]
    fn atleast_keeps_the_hits_holding_a_word_that_many_times() {
        let o = Operators::parse("atleast3(indemnif!) insurance");
        assert_eq!(
            o.at_least,
            [AtLeast {
                item: "indemnif!".into(),
                times: 3
            }]
        );
        assert_eq!(o.text, "indemnif! insurance");
        assert!(o.admits(
            "Each party shall indemnify the other; a party indemnified keeps its indemnification.",
            None,
            None
        ));
        assert!(!o.admits("Each party shall indemnify the other.", None, None));
        // In capitals, beside AND, as Lexis writes it.
        let o = Operators::parse("ATLEAST2(rent) AND deposit");
        assert_eq!(o.at_least.len(), 1);
        assert_eq!(o.required, ["deposit"]);
        // A phrase in quotes: counted whole, searched as a phrase.
        let o = Operators::parse("atleast2(\"hold harmless\") indemnity");
        assert_eq!(o.unread_group, None);
        assert_eq!(
            o.at_least,
            [AtLeast {
                item: "hold harmless".into(),
                times: 2
            }]
        );
        assert_eq!(o.text, "\"hold harmless\" indemnity");
        assert!(o.admits(
            "Seller shall hold harmless Buyer, and Buyer shall hold Seller harmless and hold \
             harmless its agents.",
            None,
            None
        ));
        assert!(!o.admits(
            "Seller shall hold harmless Buyer; Buyer shall hold Seller harmless.",
            None,
            None
        ));
        // No count, a count out of range, an empty or unclosed phrase, two items, or left
        // out: refused, not guessed.
        for q in [
            "atleast0(rent)",
            "atleast(rent)",
            "atleast1000(rent)",
            "atleast3(\"\")",
            "atleast3(\"hold harmless",
            "atleast3(hold harmless)",
            "-atleast2(rent)",
            "-atleast2(\"hold harmless\")",
        ] {
            assert!(Operators::parse(q).unread_group.is_some(), "{q}");
        }
        // A word that only starts so is text.
        assert!(!Operators::parse("atleastone rent").constrains());
    }

    #[test]
    fn brackets_around_conditions_that_must_all_hold_change_nothing() {
        let near = |a: &str, within: Within, b: &str| Near {
            a: a.into(),
            b: b.into(),
            within,
        };
        let late_fee = near("late", Within::Words(3), "fee");
        for q in [
            "lease AND (late w/3 fee)",
            "(late w/3 fee) & lease",
            "+(late w/3 fee) +lease",
            "(late w/3 fee AND lease)",
        ] {
            let o = Operators::parse(q);
            assert_eq!(o.unread_group, None, "{q}");
            assert_eq!(o.required, ["lease"], "{q}");
            assert_eq!(o.near, std::slice::from_ref(&late_fee), "{q}");
            assert!(o.any_near.is_empty() && o.any_required.is_empty(), "{q}");
        }
        let o = Operators::parse("(tenant /s sublet!) AND (landlord /p consent)");
        assert_eq!(
            o.near,
            [
                near("tenant", Within::Sentence, "sublet!"),
                near("landlord", Within::Paragraph, "consent")
            ]
        );
        assert_eq!(Operators::parse("(late w/3 fee)").near, [late_fee]);
        let o = Operators::parse("lease AND (rent AND deposit)");
        assert_eq!(o.required, ["lease", "rent", "deposit"]);
    }

    #[test]
    fn boolean_words_in_a_capitals_clause_in_small_letters_or_at_an_end_stay_text() {
        for q in [
            "SHALL NOT BE LIABLE",
            "MERCHANTABILITY AND FITNESS, EXPRESS OR IMPLIED",
            "notice and cure or not",
            "termination NOT",
            "AND termination",
            "cure OR",
            "BUT termination",
            "rate of 5 % or more",
            "interest at 1.5 % per month",
            "rent %",
            // A passage pasted to find its like: its headings in capitals are text.
            "ARTICLE 6 INSURANCE AND INDEMNITY Section 6.1 Insurance. Tenant shall carry \
             insurance. ARTICLE 7 ASSIGNMENT AND SUBLETTING Tenant shall not assign.",
            "what if the tenant does NOT pay rent?",
            "the employee shall NOT disclose",
            "agrees NOT to compete",
            "may NOT be assigned",
        ] {
            let o = Operators::parse(q);
            assert!(!o.constrains(), "{q}");
            assert_eq!(o.text, q);
        }
        // `&` between words is AND (a firm's name holds both anyway).
        assert_eq!(
            Operators::parse("Johnson & Johnson").required,
            ["Johnson", "Johnson"]
        );
        // One sentence with citation abbreviations is no passage: AND is read.
        assert_eq!(
            Operators::parse("42 U.S.C. § 1983 AND Fed. R. Civ. P. 12 immunity").required,
            ["1983", "Fed."]
        );
    }

    #[test]
    fn w_n_joins_the_words_on_either_side() {
        let o = Operators::parse("breach w/5 warranty notice W/12 cure -waiver");
        assert_eq!(o.text, "breach warranty notice cure");
        let near = |a: &str, b: &str, n| Near {
            a: a.into(),
            b: b.into(),
            within: Within::Words(n),
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

    #[test]
    fn s_and_p_join_words_in_one_sentence_or_paragraph() {
        let o = Operators::parse("indemnify /s negligence W/P cure fees w/s costs");
        assert_eq!(o.text, "indemnify negligence cure fees costs");
        let within: Vec<(&str, Within, &str)> = o
            .near
            .iter()
            .map(|n| (n.a.as_str(), n.within, n.b.as_str()))
            .collect();
        assert_eq!(
            within,
            [
                ("indemnify", Within::Sentence, "negligence"),
                ("negligence", Within::Paragraph, "cure"),
                ("fees", Within::Sentence, "costs"),
            ]
        );
        assert_eq!(o.near[1].within.to_string(), "/p");
        let o = Operators::parse("negligence +s injury cure +P notice");
        let within: Vec<Within> = o.near.iter().map(|n| n.within).collect();
        assert_eq!(within, [Within::SentenceBefore, Within::ParagraphBefore]);
        assert_eq!(o.text, "negligence injury cure notice");
        assert!(o.required.is_empty());
        // At an end, `+s` is the letter required, as any `+` word.
        assert_eq!(Operators::parse("notice +s").required, ["s"]);
        // Westlaw's `/N` and `+N`; `+N` past 255, or at an end, is a number required.
        let o = Operators::parse("breach /5 warranty notice +3 cure");
        let within: Vec<Within> = o.near.iter().map(|n| n.within).collect();
        assert_eq!(within, [Within::Words(5), Within::Before(3)]);
        assert_eq!(o.text, "breach warranty notice cure");
        assert!(o.required.is_empty());
        assert_eq!(Operators::parse("section +1983 claims").required, ["1983"]);
        assert_eq!(Operators::parse("claims under +5").required, ["5"]);
        assert!(Operators::parse("a +0 b").near.is_empty());
        let o = Operators::parse("breach PRE/3 warranty");
        assert_eq!(o.near[0].within, Within::Before(3));
        assert_eq!(o.text, "breach warranty");
        assert!(Operators::parse("a pre/0 b").near.is_empty());
        // A signature's "/s/", "and/or", and a connector at an end stay text.
        for q in ["Seller /s/ Ann Lee", "and/or /x", "/s breach", "breach /p"] {
            let o = Operators::parse(q);
            assert!(o.near.is_empty(), "{q}");
            assert_eq!(o.text, q);
        }
    }

    #[test]
    fn sent_keeps_a_window_of_days_out_of_the_text() {
        let o = Operators::parse("wire instructions sent:2020-03 SENT:<=2020-03-15 +escrow");
        assert_eq!(o.text, "wire instructions escrow");
        assert_eq!(o.sent, strings(&["2020-03", "<=2020-03-15"]));
        assert!(o.constrains());
        let w = o.sent_window().unwrap().unwrap();
        assert_eq!((w.from, w.until), (20200300, 20200316));
        let mail = |date: &str| MailInfo {
            date: Some(date.into()),
            ..MailInfo::default()
        };
        let march_10 = mail("2020-03-10T09:00:00+01:00");
        assert!(o.admits("the escrow", Some(&march_10), Some(w)));
        assert!(!o.admits("the escrow", Some(&mail("2020-03-16T09:00:00Z")), Some(w)));
        assert!(
            !o.admits("the escrow", None, Some(w)),
            "a document with no date"
        );
        // Quoted, or a word that only starts like it, is text.
        for q in ["\"sent:2020\" memo", "sent: 2020 memo", "resent:2020 memo"] {
            let o = Operators::parse(q);
            assert!(o.sent.is_empty(), "{q}");
            assert_eq!(o.text, q);
        }
    }

    #[test]
    fn sent_windows_that_cannot_be_read_or_leave_no_day_are_refused() {
        let e = Operators::parse("memo sent:3/5/2020")
            .sent_window()
            .unwrap_err();
        assert!(
            e.contains("sent:3/5/2020") && e.contains("sent:2020-03-05"),
            "{e}"
        );
        let e = Operators::parse("memo sent:2020 sent:2021")
            .sent_window()
            .unwrap_err();
        assert_eq!(e, "sent:2020 and sent:2021 leave no day between them");
        assert_eq!(Operators::parse("memo").sent_window(), Ok(None));
    }

    #[test]
    fn from_and_to_take_a_word_an_address_or_a_quoted_name() {
        let o = Operators::parse(
            "wire instructions from:ann@firm.example TO:\"Bob Roe\" to:client.example sent:2020",
        );
        assert_eq!(o.text, "wire instructions");
        assert_eq!(o.from, strings(&["ann@firm.example"]));
        assert_eq!(o.to, strings(&["Bob Roe", "client.example"]));
        assert!(o.constrains());
        let mail = MailInfo {
            from: Some("Ann Lee <ann@firm.example>".into()),
            to: Some("Bob Roe <bob@client.example>".into()),
            date: Some("2020-03-05T10:00:00Z".into()),
            ..MailInfo::default()
        };
        let window = o.sent_window().unwrap();
        assert!(o.admits("the wire", Some(&mail), window));
        let cc = MailInfo {
            to: Some("someone@else.example".into()),
            cc: Some("Bob Roe <bob@client.example>".into()),
            ..mail.clone()
        };
        assert!(
            o.admits("the wire", Some(&cc), window),
            "Cc counts as a recipient"
        );
        let other = MailInfo {
            from: Some("Carl Poe <carl@court.example>".into()),
            ..mail.clone()
        };
        assert!(!o.admits("the wire", Some(&other), window));
        assert!(!o.admits("the wire", None, window), "not an e-mail");
        // A header with nothing after it is text ("subject to: the lease").
        let o = Operators::parse("subject to: the lease");
        assert!(o.to.is_empty() && !o.constrains());
        assert_eq!(o.text, "subject to: the lease");
    }

    #[test]
    fn heading_keeps_the_passages_under_a_heading_that_holds_its_words() {
        let o = Operators::parse(
            "notice heading:termination Heading:\"events of default\" -heading:definitions",
        );
        assert_eq!(o.text, "notice");
        assert_eq!(o.heading, strings(&["termination", "events of default"]));
        assert_eq!(o.not_heading, strings(&["definitions"]));
        assert!(o.constrains() && o.required.is_empty() && o.excluded.is_empty());
        let passage = |crumbs: &[&str], text: &str| StoredChunk {
            chunk_id: crate::ids::ChunkId(1),
            doc_id: crate::ids::DocId(1),
            path: "msa.txt".into(),
            title: "Master Services Agreement".into(),
            breadcrumb: crumbs.iter().map(|c| c.to_string()).collect(),
            text: text.into(),
            range: 0..text.len(),
            line: 1,
            place: Default::default(),
            mail: None,
            page_breaks: Vec::new(),
        };
        let o = Operators::parse("notice heading:terminate -heading:definitions");
        assert!(o.admits_chunk(
            &passage(&["9. Termination"], "Notice of termination."),
            None
        ));
        assert!(!o.admits_chunk(&passage(&["9. Term"], "Notice of termination."), None));
        assert!(!o.admits_chunk(
            &passage(&["1. Definitions", "Termination"], "Notice means..."),
            None
        ));
        // Required words still count beside it; `+heading:` is `heading:`.
        let o = Operators::parse("+cure +heading:termination");
        assert_eq!(
            (o.required.clone(), o.heading.clone()),
            (strings(&["cure"]), strings(&["termination"]))
        );
        assert!(!o.admits_chunk(
            &passage(&["9. Termination"], "Notice of termination."),
            None
        ));
        // With nothing after it, or inside a phrase, it is text.
        for q in ["heading: notice", "\"heading:notice\""] {
            let o = Operators::parse(q);
            assert!(o.heading.is_empty() && !o.constrains(), "{q}: {o:?}");
        }
        // A root, a group or an empty phrase is refused, not searched as its letters.
        for q in [
            "notice heading:terminat!",
            "notice -heading:\"wom*n owned\"",
            "notice heading:(termination OR expiry)",
            "notice heading:\"\"",
            "define:(Services OR Terms)",
            "define:\"",
        ] {
            assert!(Operators::parse(q).unread_group.is_some(), "{q}");
        }
        // A group does not take it, nor AND require it as a word.
        let o = Operators::parse("notice AND heading:termination");
        assert_eq!(
            (o.required.clone(), o.heading.clone()),
            (strings(&["notice"]), strings(&["termination"]))
        );
    }

    #[test]
    fn define_keeps_the_passages_that_define_a_term_and_searches_for_it() {
        let o = Operators::parse("define:\"Event of Default\" notice");
        assert_eq!(o.define, strings(&["Event of Default"]));
        assert_eq!(o.text, "\"Event of Default\" notice");
        assert!(o.constrains() && o.unread_group.is_none());
        assert!(o.admits(
            "Each of the following is an \"Event of Default\": (a) ...",
            None,
            None
        ));
        assert!(!o.admits(
            "Upon an Event of Default, Lender may accelerate.",
            None,
            None
        ));
        // Alone it is a whole query; `-define:` is refused.
        let o = Operators::parse("Define:Services");
        assert_eq!(
            (o.text.as_str(), &o.define[..]),
            ("Services", &strings(&["Services"])[..])
        );
        assert!(Operators::parse("rent -define:Rent").unread_group.is_some());
    }

    #[test]
    fn a_term_of_capitalized_words_without_quotes_is_suggested_in_them() {
        assert_eq!(
            quoted_term("define:Disclosing Party obligations").as_deref(),
            Some("define:\"Disclosing Party\"")
        );
        assert_eq!(
            quoted_term("notice define:Event of Default").as_deref(),
            Some("define:\"Event of Default\"")
        );
        for q in [
            "define:Rent lease",
            "define:\"Event of Default\"",
            "define:Rent",
            "Event of Default",
        ] {
            assert_eq!(quoted_term(q), None, "{q}");
        }
    }

    #[test]
    fn folder_keeps_the_e_mails_of_a_folder_whose_name_holds_its_words() {
        let o = Operators::parse("lease folder:\"sent items\" Folder:privileged");
        assert_eq!(o.text, "lease");
        assert_eq!(o.folder, strings(&["sent items", "privileged"]));
        assert!(o.from.is_empty() && o.to.is_empty() && o.constrains());
        let in_folder = |folder: Option<&str>| MailInfo {
            folder: folder.map(String::from),
            ..MailInfo::default()
        };
        let sent = in_folder(Some("Personal folders/MLOKAY (Privileged)/Sent Items"));
        assert!(o.admits("the lease", Some(&sent), None));
        for other in [
            in_folder(Some("Personal folders/MLOKAY (Privileged)/Inbox")),
            in_folder(Some("Personal folders/Sent Items")),
            in_folder(None),
        ] {
            assert!(!o.admits("the lease", Some(&other), None), "{other:?}");
        }
        assert!(!o.admits("the lease", None, None), "not an e-mail");
        // `-folder:`, `-from:`, `-to:` leave e-mails out (quoted or not; `+folder:` is
        // `folder:`); a document that is no e-mail is not left out.
        let o = Operators::parse(
            "lease -folder:\"Deleted Items\" -FROM:ann@firm.example -to:opposing +folder:inbox",
        );
        assert_eq!(o.text, "lease");
        assert_eq!(
            o.not_mail,
            [
                (MailField::Folder, "Deleted Items".to_string()),
                (MailField::From, "ann@firm.example".to_string()),
                (MailField::To, "opposing".to_string()),
            ]
        );
        assert_eq!(o.folder, strings(&["inbox"]));
        assert!(o.excluded.is_empty() && o.constrains());
        let o = Operators::parse("lease -folder:\"Deleted Items\" -from:ann");
        let mail = |folder: &str, from: &str| MailInfo {
            folder: Some(folder.into()),
            from: Some(from.into()),
            ..MailInfo::default()
        };
        assert!(o.admits("the lease", Some(&mail("Inbox", "Bob Roe")), None));
        assert!(o.admits("the lease", None, None), "not an e-mail");
        assert!(!o.admits("the lease", Some(&mail("Deleted Items", "Bob Roe")), None));
        assert!(!o.admits("the lease", Some(&mail("Inbox", "Ann Lee")), None));
        // `-sent:` leaves out the e-mails sent then.
        let o = Operators::parse("lease -sent:2020-03 +sent:2020");
        assert_eq!(o.not_sent, strings(&["2020-03"]));
        assert_eq!(o.sent, strings(&["2020"]));
        assert_eq!(o.text, "lease");
        let window = o.sent_window().unwrap();
        let on = |date: &str| MailInfo {
            date: Some(date.into()),
            ..MailInfo::default()
        };
        assert!(o.admits("the lease", Some(&on("2020-04-01T09:00:00Z")), window));
        assert!(!o.admits("the lease", Some(&on("2020-03-31T09:00:00Z")), window));
        assert!(
            Operators::parse("lease -sent:2020-03").admits("the lease", None, None),
            "not an e-mail"
        );
        assert_eq!(
            Operators::parse("lease -sent:3/5/2020")
                .sent_window()
                .unwrap_err()
                .split(':')
                .next(),
            Some("-sent")
        );
        // A Maildir++ folder's levels are words too; words in a row, stemmed.
        let o = Operators::parse("folder:clients/acme");
        assert!(o.admits("", Some(&in_folder(Some("Clients/Acme"))), None));
        assert!(!o.admits("", Some(&in_folder(Some("Acme/Clients"))), None));
    }
}
