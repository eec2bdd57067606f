//! The IP input, with a live validity hint and the reason a submission was refused; boxed, or
//! one borderless line in the compact layout.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{Action, Focus, State};
use crate::case::Subject;
use crate::defender::InputError;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    if area.height < 3 {
        return one_line(state, frame, area);
    }
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
    frame.render_widget(block, area);
    field(state, frame, inner);
}

/// The compact form: `IP ▸ value` and the hint on the right, no border (two rows saved for
/// the lists on a 24-row terminal).
fn one_line(state: &State, frame: &mut Frame<'_>, area: Rect) {
    // A paste waiting for its answer takes the whole line: the keys first, then what it held,
    // cut with an ellipsis rather than overwritten by a hint.
    if let Some(said) = state.overlay.paste_said() {
        let keymap = &state.keymap;
        let line = format!(
            "{} all · {} first · {said}",
            keymap.hint(Action::Submit),
            keymap.hint(Action::Dismiss)
        );
        let room = area.width.saturating_sub(5) as usize;
        let line = if line.chars().count() > room {
            let kept: String = line.chars().take(room.saturating_sub(1)).collect();
            format!("{kept}…")
        } else {
            line
        };
        let [label, value] =
            Layout::horizontal([Constraint::Length(5), Constraint::Fill(1)]).areas(area);
        frame.render_widget(
            Paragraph::new(Span::styled("IP ▸ ", state.theme.focus())),
            label,
        );
        frame.render_widget(Paragraph::new(Span::styled(line, state.theme.ok())), value);
        return;
    }
    let (hint, hint_style) = hint(state);
    let hint_width = (hint.chars().count() as u16 + 1).min(area.width / 2);
    let [label, value, hint_area] = Layout::horizontal([
        Constraint::Length(5),
        Constraint::Fill(1),
        Constraint::Length(hint_width),
    ])
    .areas(area);
    let label_style = if state.focus == Focus::Input && !state.popup() {
        state.theme.focus()
    } else {
        state.theme.title()
    };
    frame.render_widget(Paragraph::new(Span::styled("IP ▸ ", label_style)), label);
    field(state, frame, value);
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(hint, hint_style)).right_aligned()),
        hint_area,
    );
}

/// The text being typed (scrolled to keep the cursor in sight) and the cursor, or how to start.
fn field(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let width = area.width.max(1) as usize;
    let scroll = state.input.text().visual_scroll(width.saturating_sub(1));
    let text = if let Some(said) = state.overlay.paste_said() {
        // A paste waiting for Enter or Esc: what it held, where the analyst is looking.
        Line::styled(said.to_owned(), state.theme.ok())
    } else if state.input.value().is_empty() && state.focus != Focus::Input {
        Line::styled(
            format!(
                "press {} to type an IP (10.1.2.3, 2001:db8::1, 10[.]1[.]2[.]3)",
                state.keymap.hint(Action::FocusInput)
            ),
            state.theme.muted(),
        )
    } else {
        Line::from(state.input.value().to_owned())
    };
    frame.render_widget(Paragraph::new(text).scroll((0, scroll as u16)), area);
    if state.focus == Focus::Input && !state.popup() {
        let x = state.input.text().visual_cursor().saturating_sub(scroll) as u16;
        frame.set_cursor_position(Position::new(
            area.x + x.min(area.width.saturating_sub(1)),
            area.y,
        ));
    }
}

fn hint(state: &State) -> (String, ratatui::style::Style) {
    let theme = &state.theme;
    if let Some(ips) = state.overlay.pasted() {
        let keymap = &state.keymap;
        let all = if ips.len() == 1 { "it" } else { "them all" };
        return (
            format!(
                "{} looks {all} up · Esc keeps only the first",
                keymap.hint(Action::Submit)
            ),
            theme.muted(),
        );
    }
    if let Some(err) = state.input.error() {
        return (format!("✗ {err}"), theme.error());
    }
    let value = state.input.value();
    if let Some(said) = state.input.read_past().filter(|_| value.is_empty()) {
        return (said.to_owned(), theme.ok());
    }
    if value.trim().is_empty() {
        let hint = if state.focus == Focus::Input {
            let keymap = &state.keymap;
            format!(
                "{} to look up · {} to leave",
                keymap.hint(Action::Submit),
                keymap.hint(Action::Dismiss)
            )
        } else {
            String::new()
        };
        return (hint, theme.muted());
    }
    // What Enter would look up, read as Enter reads it.
    match Subject::parse_typed(value) {
        Ok(typed) => (
            super::place_words::typed_hint(&typed.subject, value),
            theme.ok(),
        ),
        // Refused or several: the reason, before Enter is even pressed.
        Err(e @ (InputError::Refused(_) | InputError::Several(_))) => (e.to_string(), theme.warn()),
        Err(_) => ("not an IP address yet".into(), theme.warn()),
    }
}
