//! Colours by meaning. Severity is also written out, never conveyed by colour alone.

use ratatui::style::{Color, Modifier, Style};

use crate::defender::Severity;

pub const BORDER: Style = Style::new().fg(Color::DarkGray);
pub const FOCUS: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const TITLE: Style = Style::new().add_modifier(Modifier::BOLD);
pub const MUTED: Style = Style::new().fg(Color::DarkGray);
pub const LABEL: Style = Style::new().fg(Color::Gray);
pub const OK: Style = Style::new().fg(Color::Green);
pub const WARN: Style = Style::new().fg(Color::Yellow);
pub const ERROR: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
pub const BANNER: Style = Style::new()
    .fg(Color::Black)
    .bg(Color::Yellow)
    .add_modifier(Modifier::BOLD);
pub const CURRENT: Style = Style::new().add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED));
pub const HEADER: Style = Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD);

pub fn severity(s: &Severity) -> Style {
    match s {
        Severity::High => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Severity::Medium => Style::new().fg(Color::Yellow),
        Severity::Low => Style::new().fg(Color::Cyan),
        _ => MUTED,
    }
}
