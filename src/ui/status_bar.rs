//! The bottom line: what the budget allows per endpoint, whose budget it is (the team's, or a
//! local share while the team's cannot be reached), work in progress, the last error.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::truncate;
use crate::app::team::{self, Sharing};
use crate::app::{Action, State};
use crate::fetch::Backend;
use crate::text::span;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    // What the analyst just did first, then what went wrong, then whether we can save.
    let (message, style) = match (&state.notice, &state.last_error, &state.save_error) {
        (Some(notice), ..) => (notice.clone(), theme.ok()),
        (None, Some(err), _) => (err.clone(), theme.error()),
        (None, None, Some(why)) => (format!("not saving: {why}"), theme.warn()),
        (None, None, None) => (
            format!("{} help ", state.keymap.hint(Action::Help)),
            theme.muted(),
        ),
    };
    // Every window of every endpoint when they fit beside the message; else each endpoint's
    // tightest, the one that will stop the next call, and the message keeps its room. Shared,
    // on a narrow terminal, then without the work in progress (the budget popup's bottom line
    // keeps it), and only then the short form of whose budget it is: "team budget
    // unreachable" is the sentence the analyst must not miss.
    let width = |spans: &[Span<'_>]| -> u16 {
        spans.iter().map(|s| s.content.chars().count() as u16).sum()
    };
    let message_width = message.chars().count() as u16;
    let fits = |spans: &[Span<'_>]| width(spans) + message_width < area.width;
    let mut left = budget_spans(state, Form::EveryWindow);
    let shared = !matches!(team::sharing(&state.budget), Sharing::Alone);
    for form in [Form::Tightest, Form::Short, Form::Shortest] {
        if fits(&left) || (!shared && form != Form::Tightest) {
            break;
        }
        left = budget_spans(state, form);
    }
    let left_width = width(&left);
    let [l, r] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    let room = r.width.saturating_sub(1) as usize;
    let right = Line::styled(truncate(&message, room), style);
    frame.render_widget(Paragraph::new(right.right_aligned()), r);
}

/// `stats 98/1m · ip-alerts ⏸ 42s · alert-ips 100/1m │ 1 running 0 queued`: calls left in each
/// endpoint's tightest window (or in each of its windows: `stats 98/1m 1498/1h`), or its 429
/// countdown. Shared, the team's calls left and pauses, after `team ×3` (or `shared ×2` for
/// this user's processes on one database); out of reach, this process's own on its share,
/// after `team budget unreachable · local share 50/min` (short: `team ✗ share 50/min`).
fn budget_spans(state: &State, form: Form) -> Vec<Span<'static>> {
    let every_window = form == Form::EveryWindow;
    let short = form == Form::Shortest;
    let theme = &state.theme;
    let b = &state.budget;
    let mut spans = vec![Span::raw(" ")];
    match team::sharing(b) {
        Sharing::Alone => {}
        Sharing::Team { consoles } => {
            spans.push(Span::styled(format!("team ×{consoles}"), theme.ok()));
            spans.push(Span::styled(" │ ", theme.muted()));
        }
        Sharing::Local { consoles } => {
            spans.push(Span::styled(format!("shared ×{consoles}"), theme.ok()));
            spans.push(Span::styled(" │ ", theme.muted()));
        }
        Sharing::Unreachable { backend, share } => {
            let text = match (short, backend) {
                (false, _) => format!(
                    "{} unreachable · local share {}",
                    team::books(backend),
                    share.rate()
                ),
                (true, Backend::Team) => format!("team ✗ share {}", share.rate()),
                (true, Backend::Local) => format!("shared ✗ share {}", share.rate()),
            };
            spans.push(Span::styled(text, theme.warn()));
            spans.push(Span::styled(" │ ", theme.muted()));
        }
    }
    for (i, e) in team::shown(b).iter().enumerate() {
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
        } else {
            let windows: Vec<_> = if every_window {
                e.windows.iter().collect()
            } else {
                e.tightest().into_iter().collect()
            };
            spans.push(Span::raw(e.endpoint.label().to_owned()));
            for w in windows {
                let style = if w.left() == 0 {
                    theme.error()
                } else if w.left() * 5 < w.limit {
                    theme.warn()
                } else {
                    ratatui::style::Style::new()
                };
                spans.push(Span::styled(
                    format!(" {}/{}", w.left(), span(w.window)),
                    style,
                ));
            }
        }
    }
    if b.endpoints.is_empty() {
        spans.push(Span::styled("…", theme.muted()));
    }
    if matches!(form, Form::Short | Form::Shortest) {
        spans.push(Span::raw(" "));
    } else {
        spans.push(Span::styled(
            format!(" │ {} running · {} queued ", b.in_flight, b.queued),
            theme.muted(),
        ));
    }
    spans
}

/// How much the left part says, from the most to the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    EveryWindow,
    Tightest,
    /// Shared only: without the work in progress.
    Short,
    /// Shared only: and the short form of whose budget it is.
    Shortest,
}
