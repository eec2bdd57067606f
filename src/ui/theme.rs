//! Styles by meaning, from the theme's colour for each role. The colours are the config file's
//! to choose (`app::Theme`); which roles are bold, underlined or reversed is fixed here, so
//! severity, focus and selection still show when colour is off. Severity is also written out,
//! never conveyed by colour alone.

use ratatui::style::{Modifier, Style};

use crate::app::Theme;
use crate::defender::Severity;

impl Theme {
    /// The border of the pane with the keys, and of popups.
    pub fn focus(&self) -> Style {
        Style::new().fg(self.focus).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> Style {
        Style::new().fg(self.border)
    }

    /// Titles keep the terminal's own colour: bold says enough.
    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn muted(&self) -> Style {
        Style::new().fg(self.muted)
    }

    pub fn label(&self) -> Style {
        Style::new().fg(self.label)
    }

    /// A table's column names: labels, in bold.
    pub fn header(&self) -> Style {
        Style::new().fg(self.label).add_modifier(Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        Style::new().fg(self.ok)
    }

    pub fn warn(&self) -> Style {
        Style::new().fg(self.warn)
    }

    pub fn error(&self) -> Style {
        Style::new().fg(self.error).add_modifier(Modifier::BOLD)
    }

    /// The selected row: reverse video works in every palette, `NO_COLOR` included.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn banner(&self) -> Style {
        Style::new()
            .fg(self.banner_fg)
            .bg(self.banner_bg)
            .add_modifier(Modifier::BOLD)
    }

    /// Where the analyst is on the trail.
    pub fn current(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED))
    }

    pub fn severity(&self, s: &Severity) -> Style {
        match s {
            Severity::High => Style::new()
                .fg(self.severity_high)
                .add_modifier(Modifier::BOLD),
            Severity::Medium => Style::new().fg(self.severity_medium),
            Severity::Low => Style::new().fg(self.severity_low),
            _ => Style::new().fg(self.severity_informational),
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;

    /// The built-in theme is the look the constants had, style for style.
    #[test]
    fn the_default_theme_is_the_old_look() {
        let t = Theme::default();
        assert_eq!(t.border(), Style::new().fg(Color::DarkGray));
        assert_eq!(
            t.focus(),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.muted(), Style::new().fg(Color::DarkGray));
        assert_eq!(t.label(), Style::new().fg(Color::Gray));
        assert_eq!(
            t.header(),
            Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.ok(), Style::new().fg(Color::Green));
        assert_eq!(t.warn(), Style::new().fg(Color::Yellow));
        assert_eq!(
            t.error(),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        );
        assert_eq!(
            t.banner(),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(
            t.severity(&Severity::High),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        );
        assert_eq!(
            t.severity(&Severity::Medium),
            Style::new().fg(Color::Yellow)
        );
        assert_eq!(t.severity(&Severity::Low), Style::new().fg(Color::Cyan));
        assert_eq!(t.severity(&Severity::Informational), t.muted());
    }
}
