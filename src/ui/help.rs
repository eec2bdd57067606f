//! The `?` overlay, generated from the key map so it cannot drift from what keys do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Clear, Row, Table};

use crate::app::{KEYMAP, State};

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    // One column when every key fits in height, else two side by side (an 80×24 terminal
    // holds all of them that way), the help text cut to the room it has.
    let n = KEYMAP.len();
    let columns = if n as u16 + 2 <= area.height { 1 } else { 2 };
    let per_column = n.div_ceil(columns);
    let height = (per_column as u16 + 2).min(area.height);
    let width = (64 * columns as u16).min(area.width);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let column_width = (width.saturating_sub(2) as usize) / columns;
    // A label column of 9 and the table's one-column gaps between cells.
    let help_width = column_width.saturating_sub(9 + 2);
    let rows = (0..per_column).map(|r| {
        let mut cells = Vec::new();
        for c in 0..columns {
            if let Some(b) = KEYMAP.get(c * per_column + r) {
                cells.push(Cell::from(b.label));
                cells.push(Cell::from(super::format::truncate(b.help, help_width)));
            }
        }
        Row::new(cells)
    });
    let mut widths = Vec::new();
    for _ in 0..columns {
        widths.push(Constraint::Length(9));
        widths.push(Constraint::Length(help_width as u16));
    }
    let table = Table::new(rows, widths).block(
        Block::bordered()
            .border_style(theme.focus())
            .title(Line::from(" Keys ").style(theme.title()))
            .title_bottom(Line::styled(" Esc or ? to close ", theme.muted()).right_aligned()),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}
