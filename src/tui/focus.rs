//! Which part of the screen takes the keys, and what else decides a key's meaning.
//!
//! These types are shared by the state ([`super::app`]), the keymap ([`super::keymap`]) and
//! the drawing ([`super::ui`]), so they live here, below all three, and none of those
//! modules needs another one for them.

/// Which part of the screen takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The query line: every printable character is typed into the query.
    #[default]
    Query,
    /// The results list: single-letter keys are commands.
    Results,
    /// The path filter line, while it is being edited.
    Filter,
}

/// The page of the help overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpPage {
    /// Every key binding ([`HELP`](super::keymap::HELP)).
    Keys,
    /// What a query can say: required and excluded words, connectors, roots, e-mail
    /// conditions ([`SYNTAX`](super::keymap::SYNTAX)).
    Syntax,
}

impl HelpPage {
    /// The other page.
    pub fn flipped(self) -> Self {
        match self {
            HelpPage::Keys => HelpPage::Syntax,
            HelpPage::Syntax => HelpPage::Keys,
        }
    }
}

/// What decides the meaning of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyContext {
    /// The focused part of the screen.
    pub focus: Focus,
    /// Whether the help overlay is shown.
    pub help: bool,
    /// Whether the query is empty (then `?` shows the help).
    pub query_empty: bool,
}
