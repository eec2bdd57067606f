//! Colours by role, as the config file's `[colors]` chose them over the built-in ones. Only the
//! colour of each role is data; which roles are bold or reversed is drawing (`ui::theme`).

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::Color;
use serde::Deserialize;

use super::variant_names;

/// A meaning that has a colour on screen. A config file names it by serde's snake_case of the
/// variant (`severity_high`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The border of the pane with the keys, and of popups.
    Focus,
    /// Other pane borders.
    Border,
    /// Hints, ages, placeholders: what can be skipped.
    Muted,
    /// Field names and table headers.
    Label,
    Ok,
    Warn,
    Error,
    /// The loud `SIMULATED TENANT` / `OFFLINE` label.
    BannerFg,
    BannerBg,
    SeverityHigh,
    SeverityMedium,
    SeverityLow,
    /// Informational and unspecified alerts.
    SeverityInformational,
}

impl Role {
    /// Every role, in declaration order.
    pub fn all() -> impl Iterator<Item = Role> {
        variant_names::all()
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        variant_names::parse(s).ok_or_else(|| {
            format!(
                "unknown colour role '{s}' (expected one of {})",
                variant_names::names::<Self>().join(", ")
            )
        })
    }
}

/// What a colour may look like, for error messages.
pub const COLOR_SYNTAX: &str = "a name such as red, lightred, darkgray, gray, white or reset, \
    \"#rrggbb\", or an index \"0\" to \"255\"";

/// A colour as the config file writes it: whatever ratatui's `Color::from_str` takes (names
/// ignore case, `-`, `_` and spaces; `bright` means `light`; `grey` is `gray`), and nothing else.
pub fn parse_color(s: &str) -> Result<Color, String> {
    Color::from_str(s).map_err(|_| format!("'{s}' is not a colour (expected {COLOR_SYNTAX})"))
}

/// Colours chosen per role in the config file.
pub type ColorChoices = BTreeMap<Role, Color>;

/// The colour of every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub focus: Color,
    pub border: Color,
    pub muted: Color,
    pub label: Color,
    pub ok: Color,
    pub warn: Color,
    pub error: Color,
    pub banner_fg: Color,
    pub banner_bg: Color,
    pub severity_high: Color,
    pub severity_medium: Color,
    pub severity_low: Color,
    pub severity_informational: Color,
}

impl Default for Theme {
    /// The look the console always had: the 16 ANSI colours, so the terminal's own scheme
    /// decides the exact shades.
    fn default() -> Self {
        Self {
            focus: Color::Cyan,
            border: Color::DarkGray,
            muted: Color::DarkGray,
            label: Color::Gray,
            ok: Color::Green,
            warn: Color::Yellow,
            error: Color::Red,
            banner_fg: Color::Black,
            banner_bg: Color::Yellow,
            severity_high: Color::Red,
            severity_medium: Color::Yellow,
            severity_low: Color::Cyan,
            severity_informational: Color::DarkGray,
        }
    }
}

impl Theme {
    /// The built-in colours with `choices` over them.
    pub fn with_choices(choices: &ColorChoices) -> Self {
        let mut theme = Self::default();
        for (role, color) in choices {
            *theme.slot(*role) = *color;
        }
        theme
    }

    pub fn get(&self, role: Role) -> Color {
        // A copy: one match in `slot` then serves reading and writing.
        let mut copy = *self;
        *copy.slot(role)
    }

    fn slot(&mut self, role: Role) -> &mut Color {
        match role {
            Role::Focus => &mut self.focus,
            Role::Border => &mut self.border,
            Role::Muted => &mut self.muted,
            Role::Label => &mut self.label,
            Role::Ok => &mut self.ok,
            Role::Warn => &mut self.warn,
            Role::Error => &mut self.error,
            Role::BannerFg => &mut self.banner_fg,
            Role::BannerBg => &mut self.banner_bg,
            Role::SeverityHigh => &mut self.severity_high,
            Role::SeverityMedium => &mut self.severity_medium,
            Role::SeverityLow => &mut self.severity_low,
            Role::SeverityInformational => &mut self.severity_informational,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_in_every_documented_form() {
        assert_eq!(parse_color("red"), Ok(Color::Red));
        assert_eq!(parse_color("LightRed"), Ok(Color::LightRed));
        assert_eq!(parse_color("dark-grey"), Ok(Color::DarkGray));
        assert_eq!(parse_color("#ff8800"), Ok(Color::Rgb(255, 136, 0)));
        assert_eq!(parse_color("208"), Ok(Color::Indexed(208)));
        for bad in ["purple", "256", "#f80", "", "rgb(1,2,3)"] {
            let err = parse_color(bad).unwrap_err();
            assert!(
                err.contains("is not a colour (expected a name such as red"),
                "{err}"
            );
        }
    }

    #[test]
    fn choices_override_only_their_role() {
        let theme =
            Theme::with_choices(&ColorChoices::from([(Role::SeverityHigh, Color::Magenta)]));
        assert_eq!(theme.severity_high, Color::Magenta);
        assert_eq!(theme.get(Role::SeverityHigh), Color::Magenta);
        assert_eq!(theme.error, Theme::default().error);
        let names: Vec<&str> = variant_names::names::<Role>().to_vec();
        assert_eq!(names.len(), 13);
        assert!(names.contains(&"banner_fg") && names.contains(&"severity_informational"));
        for (role, name) in Role::all().zip(names) {
            assert_eq!(name.parse::<Role>(), Ok(role));
            // Every role reaches its own colour.
            let theme = Theme::with_choices(&ColorChoices::from([(role, Color::Indexed(99))]));
            assert_eq!(theme.get(role), Color::Indexed(99), "{name}");
        }
        assert!(
            "focuss"
                .parse::<Role>()
                .unwrap_err()
                .starts_with("unknown colour role 'focuss' (expected one of focus, border")
        );
    }
}
