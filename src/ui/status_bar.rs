//! The bottom line: what the budget allows per endpoint, whose budget it is (the team's, or a
//! local share while the team's cannot be reached), work in progress, the last error.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::truncate;
use crate::app::{Action, State};
use crate::defender::Endpoint;
use crate::fetch::Backend;
use crate::fetch::sharing::{self, Sharing};
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
    // tightest, the one that will stop the next call, and the message keeps its room: then
    // without the work in progress (the budget popup's bottom line keeps it), then, shared,
    // the short form of whose budget it is ("team budget unreachable" is the sentence the
    // analyst must not miss), then `alert` left out while it is healthy, and last `dev` too.
    let width = |spans: &[Span<'_>]| -> u16 {
        spans.iter().map(|s| s.content.chars().count() as u16).sum()
    };
    let message_width = message.chars().count() as u16;
    let fits = |spans: &[Span<'_>]| width(spans) + message_width < area.width;
    let mut left = budget_spans(state, Form::EveryWindow);
    for form in [
        Form::Tightest,
        Form::Short,
        Form::Shortest,
        Form::Tiny,
        Form::Tiniest,
    ] {
        if fits(&left) {
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

/// `stats 98/1m · ip-alerts ⏸ 42s · alert-ips 100/1m · dev 97/1m │ 1 running 0 queued`: calls
/// left in each endpoint's tightest window, or its 429 countdown; the three device endpoints
/// (`device`, `dev-alerts`, `find-by-ip`) as one `dev` entry, the tightest of them (a pause
/// first), which is what stops the next device call: seven endpoints do not fit 80 columns
/// beside a message, and the budget popup lists each. The single-alert endpoint (`alert`)
/// shows only once it has been called or paused, and at the narrowest only when low. In the widest form every window
/// (`stats 98/1m 1498/1h`). Shared, the team's calls left and pauses, after `team ×3` (or `shared ×2` for
/// this user's processes on one database); out of reach, this process's own on its share,
/// after `team budget unreachable · local share 50/min` (short: `team ✗ share 50/min`).
fn budget_spans(state: &State, form: Form) -> Vec<Span<'static>> {
    let every_window = form == Form::EveryWindow;
    let short = form >= Form::Shortest;
    let theme = &state.theme;
    let b = &state.budget;
    let mut spans = vec![Span::raw(" ")];
    match sharing::sharing(b) {
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
                    sharing::books(backend),
                    share.rate()
                ),
                (true, Backend::Team) => format!("team ✗ share {}", share.rate()),
                (true, Backend::Local) => format!("shared ✗ share {}", share.rate()),
            };
            spans.push(Span::styled(text, theme.warn()));
            spans.push(Span::styled(" │ ", theme.muted()));
        }
    }
    let shown = sharing::shown(b);
    // At the narrowest, `alert` and then `dev` only when they are what will stop a call soon
    // (paused, or under a fifth of a window): the popup keeps the rest.
    let healthy = |d: &sharing::Shown<'_>| {
        d.paused_for.is_none() && d.tightest().is_none_or(|w| w.left() * 5 >= w.limit)
    };
    let mut entries: Vec<(&str, &sharing::Shown<'_>)> = Vec::new();
    let mut dev: Option<&sharing::Shown<'_>> = None;
    for e in &shown {
        match group(e.endpoint) {
            Group::Own => entries.push((e.endpoint.label(), e)),
            Group::WhenUsed if used(e) && (form < Form::Tiny || !healthy(e)) => {
                entries.push((e.endpoint.label(), e));
            }
            Group::WhenUsed => {}
            Group::Device if dev.is_none_or(|d| tighter(e, d)) => dev = Some(e),
            Group::Device => {}
        }
    }
    if let Some(d) = dev.filter(|d| form < Form::Tiniest || !healthy(d)) {
        entries.push(("dev", d));
    }
    for (i, (label, e)) in entries.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.muted()));
        }
        if let Some(p) = e.paused_for {
            spans.push(Span::styled(
                format!("{label} ⏸ {}s", p.as_secs_f64().ceil() as u64),
                theme.warn(),
            ));
        } else {
            let windows: Vec<_> = if every_window {
                e.windows.iter().collect()
            } else {
                e.tightest().into_iter().collect()
            };
            spans.push(Span::raw(label.to_owned()));
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
    if form >= Form::Short {
        spans.push(Span::raw(" "));
    } else {
        spans.push(Span::styled(
            format!(" │ {} running · {} queued ", b.in_flight, b.queued),
            theme.muted(),
        ));
    }
    spans
}

/// How an endpoint shows on the bar.
enum Group {
    /// Always, under its own label.
    Own,
    /// Under its own label once it has been called (or paused): what the console seldom asks
    /// (an alert's record, read by the one-shots and `expand`), so a fresh session does not
    /// spend width on it.
    WhenUsed,
    /// Within `dev`, the tightest of the three device endpoints.
    Device,
}

/// No wildcard: a new endpoint does not compile until it is placed. A default would be wrong
/// for some: an alert's list of another kind of place is asked each time an alert opens, so
/// "once used" shows it always, and at 100 columns the bar's counts no longer fit (the third
/// walk saw exactly that).
fn group(e: Endpoint) -> Group {
    match e {
        Endpoint::IpStats | Endpoint::IpAlerts | Endpoint::AlertIps => Group::Own,
        Endpoint::Alert => Group::WhenUsed,
        Endpoint::Machine | Endpoint::MachineAlerts | Endpoint::FindByIp => Group::Device,
    }
}

/// A call counted in one of its windows, or a pause.
fn used(e: &sharing::Shown<'_>) -> bool {
    e.paused_for.is_some() || e.windows.iter().any(|w| w.used > 0)
}

/// Whether `a` stops calls sooner than `b`: the longer pause, else the fewer calls left.
fn tighter(a: &sharing::Shown<'_>, b: &sharing::Shown<'_>) -> bool {
    match (a.paused_for, b.paused_for) {
        (Some(x), Some(y)) => x > y,
        (Some(_), None) => true,
        (None, Some(_)) => false,
        (None, None) => {
            let left = |s: &sharing::Shown<'_>| s.tightest().map_or(u32::MAX, |w| w.left());
            left(a) < left(b)
        }
    }
}

/// How much the left part says, from the most to the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Form {
    EveryWindow,
    Tightest,
    /// Without the work in progress.
    Short,
    /// And the short form of whose budget it is (shared).
    Shortest,
    /// And `alert` only when it is paused or low.
    Tiny,
    /// And `dev` only when a device endpoint is paused or low.
    Tiniest,
}
