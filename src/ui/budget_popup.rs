//! The `b` popup: per endpoint, each window's use, calls this session, answers reused from the
//! session's store, 429s received and time paused. The limits are shared by every tool on the
//! same app registration and tenant, which is why a 429 can come before our own count is full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Row, Table};

use crate::app::State;
use crate::fetch::limits::{human, span};

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let b = &state.budget;
    let header = Row::new([
        "endpoint",
        "used/limit·window",
        "calls",
        "reused",
        "429s",
        "paused",
    ])
    .style(theme.muted());
    let rows = b.endpoints.iter().map(|e| {
        let windows = e
            .windows
            .iter()
            .map(|w| format!("{}/{}·{}", w.used, w.limit, span(w.window)))
            .collect::<Vec<_>>()
            .join("  ");
        let paused = match e.paused_for {
            Some(left) => format!("{} ({} left)", human(e.paused_total), human(left)),
            None => human(e.paused_total),
        };
        let row = Row::new([
            e.endpoint.label().to_owned(),
            windows,
            e.calls.to_string(),
            state
                .store_hits
                .get(&e.endpoint)
                .copied()
                .unwrap_or(0)
                .to_string(),
            e.throttled.to_string(),
            paused,
        ]);
        if e.paused_for.is_some() {
            row.style(theme.warn())
        } else {
            row
        }
    });
    let width = 96.min(area.width);
    let height = (b.endpoints.len() as u16 + 3).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(18),
        ],
    )
    .header(header)
    .block(
        Block::bordered()
            .border_style(theme.focus())
            .title(
                Line::from(" Budget · shared by every tool on this app registration ")
                    .style(theme.title()),
            )
            .title_bottom(
                Line::styled(
                    format!(
                        " {} running · {} queued · Esc or b to close ",
                        b.in_flight, b.queued
                    ),
                    theme.muted(),
                )
                .right_aligned(),
            ),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}
