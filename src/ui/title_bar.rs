//! The top line: the program, a loud banner for simulated data, the API host, and the trail.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::short_id;
use crate::app::State;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let mut spans = vec![Span::styled(" mde-triage ", theme.title())];
    if let Some(banner) = &state.banner {
        spans.push(Span::styled(format!(" {banner} "), theme.banner()));
        spans.push(Span::raw(" "));
    }
    if state.offline {
        spans.push(Span::styled(" OFFLINE · cache only ", theme.banner()));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(format!("{} ", state.api_host), theme.muted()));
    if let Some(case) = &state.case {
        spans.push(Span::styled(format!("case {} ", case.name), theme.label()));
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = (area.width as usize).saturating_sub(used);
    spans.extend(trail(state, room));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// `a › b › c`, the current step underlined, forward steps dimmed; the oldest steps give way
/// when space runs out.
fn trail(state: &State, room: usize) -> Vec<Span<'static>> {
    let theme = &state.theme;
    let entries = state.history.entries();
    if entries.is_empty() {
        return vec![Span::styled("type an IP to start", theme.muted())];
    }
    let cursor = state.history.cursor();
    let mut parts: Vec<Span<'static>> = Vec::new();
    let mut width = 0;
    for (i, loc) in entries.iter().enumerate().rev() {
        let text = match &loc.alert {
            Some(id) => short_id(id.as_str(), 14),
            None => loc.ip.to_string(),
        };
        let style = if i == cursor {
            theme.current()
        } else if i > cursor {
            theme.muted()
        } else {
            ratatui::style::Style::new()
        };
        let sep = if parts.is_empty() { 0 } else { 3 };
        if width + text.chars().count() + sep + 2 > room {
            parts.insert(0, Span::styled("… › ", theme.muted()));
            break;
        }
        if !parts.is_empty() {
            parts.insert(0, Span::styled(" › ", theme.muted()));
        }
        width += text.chars().count() + sep;
        parts.insert(0, Span::styled(text, style));
    }
    parts
}
