//! The `?` overlay, generated from the key map so it cannot drift from what keys do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Row, Table};

use super::theme;
use crate::app::KEYMAP;

pub fn render(frame: &mut Frame<'_>, area: Rect) {
    let height = (KEYMAP.len() as u16 + 4).min(area.height);
    let width = 64.min(area.width);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let rows = KEYMAP.iter().map(|b| Row::new(vec![b.label, b.help]));
    let table = Table::new(rows, [Constraint::Length(12), Constraint::Fill(1)]).block(
        Block::bordered()
            .border_style(theme::FOCUS)
            .title(Line::from(" Keys ").style(theme::TITLE))
            .title_bottom(Line::styled(" Esc or ? to close ", theme::MUTED).right_aligned()),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}
