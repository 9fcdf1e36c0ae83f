//! Keys to actions, given the focus. The help overlay is drawn from [`HELP`], which lists
//! every binding below; a test checks that the two agree.
//!
//! The query line takes every printable character (a lawyer types `§ 7.2(a)?` freely), so
//! single-letter commands act only when the results list has the focus.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::focus::{Focus, KeyContext};

/// The key help, by section: key names and what they do. Short enough for two columns in an
/// 80-column terminal; docs/tui.md says the same at more length.
pub const HELP: &[(&str, &[(&str, &str)])] = &[
    (
        "Anywhere",
        &[
            ("Tab S-Tab", "next / previous mode"),
            ("F1", "this help"),
            ("Ctrl-F", "filter by path glob"),
            ("Ctrl-R", "reranking on / off"),
            ("S-↑ S-↓", "scroll the preview"),
            ("PgUp PgDn", "page through results"),
            ("Esc Ctrl-C", "quit"),
        ],
    ),
    (
        "Query line",
        &[
            ("typing", "search as you type"),
            ("↓ Enter", "go to the results"),
            ("↑ Ctrl-P", "earlier queries"),
            ("Ctrl-N", "later queries"),
            ("← → Home End", "move the cursor"),
            ("Bksp Del", "delete a character"),
            ("Ctrl-W Ctrl-U", "delete word / line"),
            ("?", "help (empty query)"),
        ],
    ),
    (
        "Results list",
        &[
            ("↑ ↓ k j", "previous / next hit"),
            ("Home End g G", "first / last hit"),
            ("Enter o", "open file at the hit"),
            ("y", "copy path:line"),
            ("m", "passages like this"),
            ("r", "section it refers to"),
            ("/", "filter by path glob"),
            ("J K Ctrl-D/U", "preview: line, ½ page"),
            ("i Bksp", "back to the query"),
            ("? q", "help / quit"),
        ],
    ),
    (
        "Filter line",
        &[
            ("typing", "glob: * and ?"),
            ("Enter ↓", "keep, search its files"),
            ("Esc", "restore the old filter"),
            ("Ctrl-U", "clear the filter"),
        ],
    ),
];

/// The help's second page (`Tab` in the help): what a query can say, by section, with an
/// example of each and what it does, as [`Operators`](crate::search::operators::Operators)
/// reads them (a test parses every example); docs/tui.md and the README say the same at more
/// length.
pub const SYNTAX: &[(&str, &[(&str, &str)])] = &[
    (
        "Words",
        &[
            ("+word", "in every hit"),
            ("-word", "in no hit"),
            ("+\"a phrase\"", "phrase in every hit"),
            ("-\"a phrase\"", "phrase in no hit"),
            ("negligen!", "any ending: negligent…"),
            ("wom*n", "one letter: women"),
            ("object**", "up to two more letters"),
            ("+\"due proc!\"", "a root in a phrase"),
            ("a AND b", "as +a +b"),
            ("a NOT b", "as a -b"),
            ("atleast3(a)", "a 3 times or more"),
            ("heading:a", "under a heading with a"),
        ],
    ),
    (
        "Free text",
        &[
            ("\"a phrase\"", "exact ones rank first"),
            ("§ 7.2(a)?", "typed as it is"),
            ("12-401", "a - inside is text"),
            ("like:a.txt:12", "like line 12 of a.txt"),
            ("define:a", "where a is defined"),
        ],
    ),
    (
        "Near: a, b words or \"phrases\"",
        &[
            ("a w/5 b", "at most 5 words apart"),
            ("a pre/5 b", "a first, 5 words on"),
            ("a /s b", "in one sentence"),
            ("a /p b", "in one paragraph"),
            ("a +s b", "a first, one sentence"),
            ("a +p b", "a first, one paragraph"),
            ("a not w/5 b", "an a with no b w/5"),
            ("\"a b\" /s c", "a phrase as a side"),
            ("(a OR b) /s c", "a or b, one sentence"),
            ("(a /s b) /p c", "the pair, c near it"),
            ("a -(b /s c)", "a, not b /s c"),
        ],
    ),
    (
        "E-mail",
        &[
            ("sent:2020-03", "sent that month"),
            ("sent:2019..", "sent from 2019 on"),
            ("sent:<2021", "sent before 2021"),
            ("from:\"A Lee\"", "From holds it"),
            ("to:firm.com", "To or Cc holds it"),
            ("folder:sent", "in a folder so named"),
        ],
    ),
];

/// The action for `key`, or `None` when it means nothing here.
pub fn map_key(key: KeyEvent, cx: KeyContext) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    if ctrl && !alt && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if cx.help {
        // Tab and the arrows turn the page; any other key closes the help, which never acts
        // behind it.
        return Some(match key.code {
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => Action::FlipHelp,
            _ => Action::CloseHelp,
        });
    }
    match key.code {
        KeyCode::F(1) => return Some(Action::ToggleHelp),
        KeyCode::Char('r') if ctrl && !alt => return Some(Action::ToggleRerank),
        KeyCode::Tab => return Some(Action::NextMode),
        KeyCode::BackTab => return Some(Action::PrevMode),
        KeyCode::Char('f') if ctrl && !alt && cx.focus != Focus::Filter => {
            return Some(Action::EditFilter);
        }
        KeyCode::Up if shift => return Some(Action::ScrollPreview(-1)),
        KeyCode::Down if shift => return Some(Action::ScrollPreview(1)),
        KeyCode::PageUp if cx.focus != Focus::Filter => return Some(Action::PageUp),
        KeyCode::PageDown if cx.focus != Focus::Filter => return Some(Action::PageDown),
        _ => {}
    }
    match cx.focus {
        Focus::Query => query_key(key, cx, ctrl, alt),
        Focus::Results => results_key(key, ctrl, alt),
        Focus::Filter => filter_key(key, ctrl, alt),
    }
}

/// A character to type: plain, shifted, or AltGr (which some terminals send as Ctrl+Alt).
fn typed(key: &KeyEvent, ctrl: bool, alt: bool) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if ctrl == alt => Some(c),
        _ => None,
    }
}

fn query_key(key: KeyEvent, cx: KeyContext, ctrl: bool, alt: bool) -> Option<Action> {
    if let Some(c) = typed(&key, ctrl, alt) {
        return Some(if c == '?' && cx.query_empty {
            Action::ToggleHelp
        } else {
            Action::Insert(c)
        });
    }
    if ctrl {
        return match key.code {
            KeyCode::Char('u') => Some(Action::ClearLine),
            KeyCode::Char('w') | KeyCode::Backspace => Some(Action::DeleteWord),
            // Some terminals send Backspace as Ctrl-H.
            KeyCode::Char('h') => Some(Action::Backspace),
            KeyCode::Char('a') => Some(Action::CursorHome),
            KeyCode::Char('e') => Some(Action::CursorEnd),
            KeyCode::Char('p') => Some(Action::HistoryPrev),
            KeyCode::Char('n') => Some(Action::HistoryNext),
            _ => None,
        };
    }
    match key.code {
        KeyCode::Esc => Some(Action::Quit),
        KeyCode::Enter | KeyCode::Down => Some(Action::FocusResults),
        KeyCode::Up => Some(Action::HistoryPrev),
        KeyCode::Backspace if alt => Some(Action::DeleteWord),
        KeyCode::Backspace => Some(Action::Backspace),
        KeyCode::Delete => Some(Action::Delete),
        KeyCode::Left => Some(Action::CursorLeft),
        KeyCode::Right => Some(Action::CursorRight),
        KeyCode::Home => Some(Action::CursorHome),
        KeyCode::End => Some(Action::CursorEnd),
        _ => None,
    }
}

fn results_key(key: KeyEvent, ctrl: bool, alt: bool) -> Option<Action> {
    if ctrl {
        return match key.code {
            KeyCode::Char('d') => Some(Action::ScrollPreviewHalfPage(true)),
            KeyCode::Char('u') => Some(Action::ScrollPreviewHalfPage(false)),
            _ => None,
        };
    }
    if alt {
        return None;
    }
    match key.code {
        KeyCode::Esc | KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
        KeyCode::Home | KeyCode::Char('g') => Some(Action::First),
        KeyCode::End | KeyCode::Char('G') => Some(Action::Last),
        KeyCode::Enter | KeyCode::Char('o') => Some(Action::Open),
        KeyCode::Char('y') => Some(Action::Copy),
        KeyCode::Char('m') => Some(Action::MoreLike),
        KeyCode::Char('r') => Some(Action::FollowReference),
        KeyCode::Char('/') => Some(Action::EditFilter),
        KeyCode::Char('J') => Some(Action::ScrollPreview(1)),
        KeyCode::Char('K') => Some(Action::ScrollPreview(-1)),
        KeyCode::Char('i') | KeyCode::Backspace => Some(Action::FocusQuery),
        KeyCode::Char('?') => Some(Action::ToggleHelp),
        _ => None,
    }
}

fn filter_key(key: KeyEvent, ctrl: bool, alt: bool) -> Option<Action> {
    if let Some(c) = typed(&key, ctrl, alt) {
        return Some(Action::Insert(c));
    }
    if ctrl {
        return match key.code {
            KeyCode::Char('u') | KeyCode::Char('w') => Some(Action::ClearLine),
            _ => None,
        };
    }
    match key.code {
        KeyCode::Esc => Some(Action::CancelFilter),
        KeyCode::Enter | KeyCode::Down => Some(Action::ApplyFilter),
        KeyCode::Backspace => Some(Action::Backspace),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(focus: Focus, query_empty: bool) -> KeyContext {
        KeyContext {
            focus,
            help: false,
            query_empty,
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn with(code: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, m)
    }

    #[test]
    fn the_query_line_takes_every_printable_character() {
        for c in "§ 7.2(a)?qjky/gGio".chars() {
            assert_eq!(
                map_key(key(KeyCode::Char(c)), cx(Focus::Query, false)),
                Some(Action::Insert(c)),
                "{c}"
            );
        }
        assert_eq!(
            map_key(
                with(KeyCode::Char('A'), KeyModifiers::SHIFT),
                cx(Focus::Query, false)
            ),
            Some(Action::Insert('A'))
        );
        // AltGr, as some terminals report it.
        assert_eq!(
            map_key(
                with(
                    KeyCode::Char('@'),
                    KeyModifiers::CONTROL | KeyModifiers::ALT
                ),
                cx(Focus::Query, false)
            ),
            Some(Action::Insert('@'))
        );
        assert_eq!(
            map_key(key(KeyCode::Char('?')), cx(Focus::Query, true)),
            Some(Action::ToggleHelp)
        );
    }

    #[test]
    fn letters_are_commands_only_in_the_results_list() {
        let r = cx(Focus::Results, false);
        assert_eq!(map_key(key(KeyCode::Char('j')), r), Some(Action::Down));
        assert_eq!(map_key(key(KeyCode::Char('k')), r), Some(Action::Up));
        assert_eq!(map_key(key(KeyCode::Char('q')), r), Some(Action::Quit));
        assert_eq!(map_key(key(KeyCode::Char('y')), r), Some(Action::Copy));
        assert_eq!(map_key(key(KeyCode::Char('m')), r), Some(Action::MoreLike));
        assert_eq!(
            map_key(key(KeyCode::Char('r')), r),
            Some(Action::FollowReference)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('/')), r),
            Some(Action::EditFilter)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('?')), r),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('i')), r),
            Some(Action::FocusQuery)
        );
        assert_eq!(map_key(key(KeyCode::Enter), r), Some(Action::Open));
        assert_eq!(map_key(key(KeyCode::Char('x')), r), None);
    }

    #[test]
    fn global_keys_work_in_every_focus() {
        for focus in [Focus::Query, Focus::Results, Focus::Filter] {
            let c = cx(focus, false);
            assert_eq!(map_key(key(KeyCode::Tab), c), Some(Action::NextMode));
            assert_eq!(map_key(key(KeyCode::F(1)), c), Some(Action::ToggleHelp));
            assert_eq!(
                map_key(with(KeyCode::Char('r'), KeyModifiers::CONTROL), c),
                Some(Action::ToggleRerank)
            );
            assert_eq!(
                map_key(with(KeyCode::Char('c'), KeyModifiers::CONTROL), c),
                Some(Action::Quit)
            );
        }
        assert_eq!(
            map_key(key(KeyCode::Esc), cx(Focus::Query, false)),
            Some(Action::Quit)
        );
        assert_eq!(
            map_key(key(KeyCode::Esc), cx(Focus::Filter, false)),
            Some(Action::CancelFilter)
        );
        assert_eq!(
            map_key(
                with(KeyCode::Char('f'), KeyModifiers::CONTROL),
                cx(Focus::Query, false)
            ),
            Some(Action::EditFilter)
        );
    }

    #[test]
    fn tab_and_the_arrows_turn_the_help_page_and_any_other_key_closes_it() {
        let c = KeyContext {
            focus: Focus::Query,
            help: true,
            query_empty: true,
        };
        for code in [
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Left,
            KeyCode::Right,
        ] {
            assert_eq!(map_key(key(code), c), Some(Action::FlipHelp), "{code:?}");
        }
        assert_eq!(map_key(key(KeyCode::Char('a')), c), Some(Action::CloseHelp));
        assert_eq!(map_key(key(KeyCode::Esc), c), Some(Action::CloseHelp));
        assert_eq!(map_key(key(KeyCode::F(1)), c), Some(Action::CloseHelp));
        assert_eq!(
            map_key(with(KeyCode::Char('c'), KeyModifiers::CONTROL), c),
            Some(Action::Quit)
        );
    }

    #[test]
    fn the_help_names_every_bound_key() {
        let text: String = HELP
            .iter()
            .flat_map(|(_, keys)| keys.iter().map(|(k, _)| format!(" {k} ")))
            .collect();
        for (_, keys) in HELP.iter().chain(SYNTAX) {
            for (k, d) in *keys {
                assert!(
                    k.chars().count() <= 13 && d.chars().count() <= 22,
                    "{k}: {d}"
                );
            }
        }
        for name in [
            "Tab", "S-Tab", "F1", "Ctrl-F", "Ctrl-R", "S-↑", "S-↓", "PgUp", "PgDn", "Esc",
            "Ctrl-C", "↓", "Enter", "←", "→", "Home", "End", "Bksp", "Del", "Ctrl-W", "Ctrl-U",
            "?", "k j", "g G", " o", "y", "m", "r", "/", "J K", "Ctrl-D", "i ", "q", "Ctrl-P",
            "Ctrl-N",
        ] {
            assert!(text.contains(name), "help lacks {name:?}");
        }
    }

    /// Every example of the syntax page means what the page says, as the search reads it.
    #[test]
    fn every_syntax_example_is_read_as_the_help_says() {
        use crate::index::keyword::Within;
        use crate::index::root::Root;
        use crate::search::operators::Operators;
        for (section, examples) in SYNTAX {
            for (example, what) in *examples {
                let ops = Operators::parse(example);
                let why = format!("{section}: {example} ({what}): {ops:?}");
                match *section {
                    "Words" if example.contains(" AND ") => {
                        assert_eq!((ops.text.as_str(), ops.required.len()), ("a b", 2), "{why}");
                    }
                    "Words" if example.starts_with("atleast") => {
                        assert_eq!(ops.text, "a", "{why}");
                        assert_eq!(
                            ops.at_least
                                .iter()
                                .map(|a| (a.item.as_str(), a.times))
                                .collect::<Vec<_>>(),
                            [("a", 3)],
                            "{why}"
                        );
                    }
                    "Words" if example.starts_with("heading:") => {
                        assert_eq!(ops.heading, ["a"], "{why}");
                        assert!(ops.text.is_empty(), "{why}");
                    }
                    "Words" if example.contains(" NOT ") => {
                        assert_eq!(
                            (ops.text.as_str(), &ops.excluded[..]),
                            ("a", &["b".to_string()][..]),
                            "{why}"
                        );
                    }
                    "Words" => match example.chars().next() {
                        Some('+') => {
                            assert_eq!(ops.required.len(), 1, "{why}");
                            // A root inside the phrase stands for its words.
                            let words = ops.required[0].split(' ');
                            let roots = words.filter(|w| Root::parse(w).is_some()).count();
                            assert_eq!(roots > 0, what.contains("root"), "{why}");
                        }
                        Some('-') => assert_eq!(ops.excluded.len(), 1, "{why}"),
                        _ => assert!(!ops.constrains() && Root::parse(example).is_some(), "{why}"),
                    },
                    // `a not w/5 b`: a pair apart; `a -(b /s c)`: a pair left out. The text is a.
                    "Near: a, b words or \"phrases\""
                        if example.contains(" not ") || example.contains("-(") =>
                    {
                        let (pairs, expected) = if example.contains(" not ") {
                            (&ops.apart, "a w/5 b")
                        } else {
                            (&ops.excluded_near, "b /s c")
                        };
                        let pairs: Vec<String> = (pairs.iter())
                            .map(|n| format!("{} {} {}", n.a, n.within, n.b))
                            .collect();
                        assert_eq!(
                            (ops.text.as_str(), &pairs[..]),
                            ("a", &[expected.to_string()][..]),
                            "{why}"
                        );
                    }
                    "Near: a, b words or \"phrases\"" if example.starts_with('(') => {
                        let pairs: Vec<String> = (ops.any_near.iter().flatten())
                            .map(|n| format!("{} {} {}", n.a, n.within, n.b))
                            .collect();
                        let held: Vec<String> = (ops.near.iter())
                            .map(|n| format!("{} {} {}", n.a, n.within, n.b))
                            .collect();
                        if what.contains("pair") {
                            // The pair holds, and c is near one of its words.
                            assert_eq!(held, ["a /s b"], "{why}");
                            assert_eq!(pairs, ["a /p c", "b /p c"], "{why}");
                        } else {
                            assert!(held.is_empty(), "{why}");
                            assert_eq!(pairs, ["a /s c", "b /s c"], "{why}");
                        }
                    }
                    "Near: a, b words or \"phrases\"" => {
                        assert_eq!(ops.near.len(), 1, "{why}");
                        let near = &ops.near[0];
                        let mut pieces = example.rsplit(' ');
                        let (b, connector) = (pieces.next().unwrap(), pieces.next().unwrap());
                        let a: Vec<&str> = pieces.collect();
                        assert_eq!(near.within.to_string(), connector, "{why}");
                        assert_eq!(near.b, b, "{why}");
                        let a: String = a.into_iter().rev().collect::<Vec<_>>().join(" ");
                        assert_eq!(near.a, a.trim_matches('"'), "{why}");
                        assert!(near.sides().is_ok(), "{why}");
                        let ordered = matches!(
                            near.within,
                            Within::Before(_) | Within::SentenceBefore | Within::ParagraphBefore
                        );
                        assert_eq!(ordered, what.contains("a first"), "{why}");
                    }
                    "E-mail" => {
                        if example.starts_with("sent:") {
                            assert!(ops.sent_window().unwrap().is_some(), "{why}");
                        } else {
                            assert_eq!(
                                ops.from.len()
                                    + ops.to.len()
                                    + ops.folder.len()
                                    + ops.not_mail.len(),
                                1,
                                "{why}"
                            );
                        }
                    }
                    "Free text" if example.starts_with("define:") => {
                        assert_eq!(
                            (ops.text.as_str(), &ops.define[..]),
                            ("a", &["a".to_string()][..]),
                            "{why}"
                        );
                    }
                    "Free text" if example.starts_with("like:") => {
                        assert_eq!(ops.like.as_deref(), Some("a.txt:12"), "{why}");
                        assert!(ops.text.is_empty() && !ops.constrains(), "{why}");
                    }
                    "Free text" => {
                        assert!(!ops.constrains(), "{why}");
                        assert_eq!(ops.text, *example, "{why}");
                    }
                    other => panic!("a test for section {other:?}"),
                }
            }
        }
    }
}
