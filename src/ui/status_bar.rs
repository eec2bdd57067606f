//! The bottom line: what the budget allows per endpoint, work in progress, the last error.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::truncate;
use crate::app::State;
use crate::fetch::limits::span;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let left = budget_spans(state);
    let left_width: u16 = left.iter().map(|s| s.content.chars().count() as u16).sum();
    let [l, r] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    let room = r.width.saturating_sub(1) as usize;
    // What the analyst just did first, then what went wrong, then whether we can save.
    let right = match (&state.notice, &state.last_error, &state.save_error) {
        (Some(notice), ..) => Line::styled(truncate(notice, room), theme.ok()),
        (None, Some(err), _) => Line::styled(truncate(err, room), theme.error()),
        (None, None, Some(why)) => {
            Line::styled(truncate(&format!("not saving: {why}"), room), theme.warn())
        }
        (None, None, None) => Line::styled("? help ", theme.muted()),
    };
    frame.render_widget(Paragraph::new(right.right_aligned()), r);
}

/// `stats 98/1m · ip-alerts ⏸ 42s · alert-ips 100/1m │ 1 running 0 queued`: calls left in each
/// endpoint's tightest window, or its 429 countdown.
fn budget_spans(state: &State) -> Vec<Span<'static>> {
    let theme = &state.theme;
    let b = &state.budget;
    let mut spans = vec![Span::raw(" ")];
    for (i, e) in b.endpoints.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.muted()));
        }
        if let Some(p) = e.paused_for {
            spans.push(Span::styled(
                format!(
                    "{} ⏸ {}s",
                    e.endpoint.label(),
                    p.as_secs_f64().ceil() as u64
                ),
                theme.warn(),
            ));
        } else if let Some(w) = e.tightest() {
            let style = if w.left() == 0 {
                theme.error()
            } else if w.left() * 5 < w.limit {
                theme.warn()
            } else {
                ratatui::style::Style::new()
            };
            spans.push(Span::styled(
                format!("{} {}/{}", e.endpoint.label(), w.left(), span(w.window)),
                style,
            ));
        }
    }
    if b.endpoints.is_empty() {
        spans.push(Span::styled("…", theme.muted()));
    }
    spans.push(Span::styled(
        format!(" │ {} running · {} queued ", b.in_flight, b.queued),
        theme.muted(),
    ));
    spans
}
