//! The note and tag editors: a box over the panes naming what the note or tag is for.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::layout::centered;
use crate::app::{Editor, State};
use crate::case::VERDICTS;

pub fn render(state: &State, editor: &Editor, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let (title, about, input, help) = match editor {
        Editor::Note { target, input } => (
            " Note ",
            format!("on {target}"),
            input,
            "Enter keeps it · Esc leaves it as a draft · saved as you type",
        ),
        Editor::Tag { target, input } => (
            " Tag ",
            format!("on {target}"),
            input,
            "1–4 pick (again to remove) · or type a tag and Enter · Esc cancels",
        ),
        Editor::HeldAt { ip, input } => (
            " Who held it ",
            format!("the device(s) that had {ip} within 15 min of (UTC)"),
            input,
            "e.g. 2026-11-20 09:14 · Enter asks · empty: the alert's time · Esc",
        ),
    };
    let width = area.width.saturating_sub(4).min(72);
    let mut lines = vec![Line::styled(about, theme.title())];
    if let Editor::Tag { target, .. } = editor {
        let tags = state.tags_of(target);
        let mut picks = Vec::new();
        for (i, v) in VERDICTS.iter().enumerate() {
            let style = if tags.iter().any(|t| t == v) {
                theme.ok()
            } else {
                theme.label()
            };
            picks.push(Span::styled(format!("{} {v}  ", i + 1), style));
        }
        lines.push(Line::from(picks));
        if !tags.is_empty() {
            lines.push(Line::styled(
                format!("now: {}", tags.join(", ")),
                theme.muted(),
            ));
        }
    }
    let inner_width = width.saturating_sub(2).max(1) as usize;
    let scroll = input.visual_scroll(inner_width.saturating_sub(1));
    let value: String = input.value().chars().skip(scroll).collect();
    let input_row = lines.len() as u16;
    lines.push(Line::from(value));
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = centered(area, width, height);
    let block = Block::bordered()
        .border_style(theme.focus())
        .title(Line::from(title).style(theme.title()))
        .title_bottom(Line::styled(format!(" {help} "), theme.muted()).right_aligned());
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        popup,
    );
    let x = input.visual_cursor().saturating_sub(scroll) as u16;
    if inner.height > input_row {
        frame.set_cursor_position(Position::new(
            inner.x + x.min(inner.width.saturating_sub(1)),
            inner.y + input_row,
        ));
    }
}
