//! The IP input, with a live validity hint and the reason a submission was refused.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{Focus, State};
use crate::defender::parse_ip;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let (hint, style) = hint(state);
    let block = Block::bordered()
        .border_style(super::border(state, Focus::Input))
        .title(Line::from(" IP address ").style(theme.title()))
        .title_bottom(
            Line::from(Span::styled(
                if hint.is_empty() {
                    hint
                } else {
                    format!(" {hint} ")
                },
                style,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    let width = inner.width.max(1) as usize;
    let scroll = state.input.visual_scroll(width.saturating_sub(1));
    let text = if state.input.value().is_empty() && state.focus != Focus::Input {
        Line::styled(
            "press i to type an IP (10.1.2.3, 2001:db8::1, 10[.]1[.]2[.]3)",
            theme.muted(),
        )
    } else {
        Line::from(state.input.value().to_owned())
    };
    frame.render_widget(
        Paragraph::new(text).scroll((0, scroll as u16)).block(block),
        area,
    );
    if state.focus == Focus::Input && !state.popup() {
        let x = state.input.visual_cursor().saturating_sub(scroll) as u16;
        frame.set_cursor_position(Position::new(
            inner.x + x.min(inner.width.saturating_sub(1)),
            inner.y,
        ));
    }
}

fn hint(state: &State) -> (String, ratatui::style::Style) {
    let theme = &state.theme;
    if let Some(err) = &state.input_error {
        return (format!("✗ {err}"), theme.error());
    }
    let value = state.input.value();
    if value.trim().is_empty() {
        let hint = if state.focus == Focus::Input {
            "Enter to look up · Esc to leave"
        } else {
            ""
        };
        return (hint.into(), theme.muted());
    }
    match parse_ip(value) {
        Ok(ip) if ip.to_string() != value.trim() => (format!("✓ {ip}"), theme.ok()),
        Ok(ip) => (
            format!("✓ IPv{}", if ip.is_ipv4() { 4 } else { 6 }),
            theme.ok(),
        ),
        Err(_) => ("not an IP address yet".into(), theme.warn()),
    }
}
