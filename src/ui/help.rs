//! The `?` overlay, generated from the key map in force (defaults and the config file's
//! rebinds), so it shows the keys that really act.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Clear, Row, Table};

use super::layout::centered;
use crate::app::{Action, State};

/// The key column: room for the defaults' `Shift-Tab`, wider for longer rebinds up to a limit
/// past which the help text would have no room left.
const KEY_COLUMN: (usize, usize) = (9, 18);

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let bindings = state.keymap.bindings();
    // One column when every key fits in height, else two side by side (an 80×24 terminal
    // holds all of them that way), the help text cut to the room it has.
    let n = bindings.len();
    let columns = if n as u16 + 2 <= area.height { 1 } else { 2 };
    let per_column = n.div_ceil(columns);
    let height = (per_column as u16 + 2).min(area.height);
    let width = (64 * columns as u16).min(area.width);
    let popup = centered(area, width, height);
    let labels: Vec<String> = bindings.iter().map(|b| b.label()).collect();
    let key_width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(KEY_COLUMN.0, KEY_COLUMN.1);
    let column_width = (width.saturating_sub(2) as usize) / columns;
    // The key column and the table's one-column gaps between cells.
    let help_width = column_width.saturating_sub(key_width + 2);
    let rows = (0..per_column).map(|r| {
        let mut cells = Vec::new();
        for c in 0..columns {
            let i = c * per_column + r;
            if let (Some(b), Some(label)) = (bindings.get(i), labels.get(i)) {
                cells.push(Cell::from(super::format::truncate(label, key_width)));
                cells.push(Cell::from(super::format::truncate(b.help, help_width)));
            }
        }
        Row::new(cells)
    });
    let mut widths = Vec::new();
    for _ in 0..columns {
        widths.push(Constraint::Length(key_width as u16));
        widths.push(Constraint::Length(help_width as u16));
    }
    // " Esc or ? to close ", with whatever keys dismiss and help have now.
    let close = match state.keymap.either(&[Action::Dismiss, Action::Help]) {
        Some(keys) => format!(" {keys} to close "),
        None => " C-c quits ".to_owned(),
    };
    let table = Table::new(rows, widths).block(
        Block::bordered()
            .border_style(theme.focus())
            .title(Line::from(" Keys ").style(theme.title()))
            .title_bottom(Line::styled(close, theme.muted()).right_aligned()),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}
