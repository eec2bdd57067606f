//! How colours reach the screen: as the theme chose them, brighter for high contrast, or not
//! at all for `NO_COLOR` (no-color.org). Applied to the finished frame, so every pane follows
//! without knowing, and meaning never rests on colour alone: severity is written, focus and
//! selection also show as bold and reverse video, which survive.

use ratatui::buffer::Buffer;
use ratatui::style::Color;

use crate::app::Palette;

pub fn apply(palette: Palette, buf: &mut Buffer) {
    match palette {
        Palette::Default => {}
        Palette::NoColor => {
            for cell in &mut buf.content {
                cell.fg = Color::Reset;
                cell.bg = Color::Reset;
            }
        }
        Palette::HighContrast => {
            for cell in &mut buf.content {
                cell.fg = brighter(cell.fg);
                cell.bg = match cell.bg {
                    Color::Yellow => Color::LightYellow,
                    other => other,
                };
            }
        }
    }
}

/// Dim greys become readable, colours their light variants.
fn brighter(c: Color) -> Color {
    match c {
        Color::DarkGray => Color::Gray,
        Color::Gray => Color::White,
        Color::Red => Color::LightRed,
        Color::Yellow => Color::LightYellow,
        Color::Green => Color::LightGreen,
        Color::Cyan => Color::LightCyan,
        other => other,
    }
}
