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
