//! The top line: the program, a loud banner for simulated data, the API host, and the trail.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::short_id;
use crate::app::State;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let mut head = vec![Span::styled(" mde-triage ", theme.title())];
    if let Some(banner) = &state.banner {
        head.push(Span::styled(format!(" {banner} "), theme.banner()));
        head.push(Span::raw(" "));
    }
    if state.offline {
        head.push(Span::styled(" OFFLINE · cache only ", theme.banner()));
        head.push(Span::raw(" "));
    }
    // Where the analyst stands matters more than the host or the case's name: on a narrow
    // screen those give way, the case first, before the current step of the trail would.
    let host = Span::styled(format!("{} ", state.api_host), theme.muted());
    let case = state
        .case
        .as_ref()
        .map(|c| Span::styled(format!("case {} ", c.name), theme.label()));
    let options = [
        vec![Some(host.clone()), case],
        vec![Some(host), None],
        vec![None, None],
    ];
    let mut line = Vec::new();
    for extra in options {
        let mut spans = head.clone();
        spans.extend(extra.into_iter().flatten());
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let (trail, current_shown) = trail(state, (area.width as usize).saturating_sub(used));
        spans.extend(trail);
        line = spans;
        if current_shown {
            break;
        }
    }
    frame.render_widget(Paragraph::new(Line::from(line)), area);
}

/// `a › b › c`, the current step underlined, forward steps dimmed; the oldest steps give way
/// when space runs out. Also says whether the current step found room.
fn trail(state: &State, room: usize) -> (Vec<Span<'static>>, bool) {
    let theme = &state.theme;
    let entries = state.history.entries();
    if entries.is_empty() {
        return (
            vec![Span::styled("type an IP to start", theme.muted())],
            true,
        );
    }
    let cursor = state.history.cursor();
    let mut parts: Vec<Span<'static>> = Vec::new();
    let mut width = 0;
    let mut current_shown = false;
    for (i, loc) in entries.iter().enumerate().rev() {
        let text = match &loc.alert {
            Some(id) => short_id(id.as_str(), 14),
            None => super::place_words::in_trail(&loc.subject),
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
        current_shown |= i == cursor;
    }
    (parts, current_shown)
}
