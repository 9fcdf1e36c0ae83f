//! Styles, in colour or (under `NO_COLOR`) in monochrome with modifiers only.

use ratatui::style::{Color, Modifier, Style};

/// The TUI's styles. Monochrome uses bold, dim, reversed and underline, never a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// A theme with colours (`true`) or without.
    pub fn new(color: bool) -> Self {
        Theme { color }
    }

    /// Colour unless `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub fn from_env() -> Self {
        Theme::new(std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
    }

    /// Whether colours are used.
    pub fn color(&self) -> bool {
        self.color
    }

    fn pick(&self, color: Style, mono: Style) -> Style {
        if self.color { color } else { mono }
    }

    /// Plain text.
    pub fn text(&self) -> Style {
        Style::new()
    }

    /// Secondary text: breadcrumbs, hints, placeholders.
    pub fn dim(&self) -> Style {
        self.pick(
            Style::new().fg(Color::DarkGray),
            Style::new().add_modifier(Modifier::DIM),
        )
    }

    /// The prompt, focused borders, the chunk bar.
    pub fn accent(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Borders of panes without the focus.
    pub fn border(&self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new())
    }

    /// The selected hit.
    pub fn selected(&self) -> Style {
        self.pick(
            Style::new().bg(Color::Blue).fg(Color::White),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    /// Query terms in the preview.
    pub fn highlight(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
    }

    /// The hit's pinpoint (the sentence that answers) in the preview.
    pub fn pinpoint(&self) -> Style {
        self.pick(
            Style::new()
                .fg(Color::White)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )
    }

    /// The chunk's own text in the preview.
    pub fn chunk(&self) -> Style {
        Style::new()
    }

    /// Document text around the chunk.
    pub fn context(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Gray).add_modifier(Modifier::DIM),
            Style::new().add_modifier(Modifier::DIM),
        )
    }

    /// File names in the results list.
    pub fn file(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// The score bar.
    pub fn bar(&self) -> Style {
        self.pick(Style::new().fg(Color::Cyan), Style::new())
    }

    /// Which arms found a hit.
    pub fn arms(&self, keyword: bool, semantic: bool) -> Style {
        let color = match (keyword, semantic) {
            (true, true) => Color::Green,
            (true, false) => Color::Yellow,
            _ => Color::Magenta,
        };
        self.pick(Style::new().fg(color), Style::new())
    }

    /// Error messages.
    pub fn error(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }

    /// Information messages.
    pub fn info(&self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// The status bar.
    pub fn status(&self) -> Style {
        self.pick(
            Style::new().bg(Color::DarkGray).fg(Color::White),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    /// Key names in the help overlay.
    pub fn key(&self) -> Style {
        self.pick(
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::BOLD),
        )
    }
}
