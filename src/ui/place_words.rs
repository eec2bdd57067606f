//! How each kind of place reads on screen: its pane at the top, its name in titles, the trail
//! and the tree, and its row in an alert's pivot list. One match per use, each naming every
//! kind, so a new kind of place does not compile until it is said here, and nowhere else.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;

use super::format::{badge_spans, count, short_id};
use crate::app::{State, Subject};
use crate::defender::input::read_one;

/// The pane at the top of a place's page (the IP's prevalence, the device's record); the
/// prevalence pane's empty state before any place.
pub fn head_pane(state: &State, frame: &mut Frame<'_>, area: Rect) {
    match state.location().map(|l| &l.subject) {
        Some(Subject::Ip(ip)) => super::stats_pane::render(state, Some(*ip), frame, area),
        Some(Subject::Device(id)) => super::device_pane::render(state, id, frame, area),
        None => super::stats_pane::render(state, None, frame, area),
    }
}

/// What the input box says under text that reads as `subject`, before Enter: for an IP, what
/// was read past (a port, a defanged form) or which version it is.
pub fn typed_hint(subject: &Subject, text: &str) -> String {
    match subject {
        Subject::Ip(ip) => match read_one(text) {
            Ok(found) if !found.notes.is_empty() => {
                format!("✓ {} · {}", found.ip, found.notes_text())
            }
            _ if ip.to_string() != text.trim() => format!("✓ {ip}"),
            _ => format!("✓ IPv{}", if ip.is_ipv4() { 4 } else { 6 }),
        },
        Subject::Device(id) => format!("✓ device {id}"),
    }
}

/// How a place reads in titles: the IP, or the device's name once its record is in.
pub fn label(state: &State, subject: &Subject) -> String {
    match subject {
        Subject::Ip(ip) => ip.to_string(),
        Subject::Device(id) => state.device_name(id),
    }
}

/// A place in the title bar's trail, short: the bar holds several.
pub fn in_trail(subject: &Subject) -> String {
    match subject {
        Subject::Ip(ip) => ip.to_string(),
        Subject::Device(id) => format!("dev {}", short_id(id.as_str(), 14)),
    }
}

/// A visited place heading its branch of the tree, after its fold mark: what it is and, for
/// an IP, its badges and prevalence once known.
pub fn tree_head(state: &State, subject: &Subject, fold: &str, spans: &mut Vec<Span<'static>>) {
    let theme = &state.theme;
    match subject {
        Subject::Device(id) => spans.push(Span::styled(
            format!("{fold} device {} ", state.device_name(id)),
            theme.title(),
        )),
        Subject::Ip(ip) => {
            spans.push(Span::styled(format!("{fold} {ip} "), theme.title()));
            spans.extend(badge_spans(state, *ip, false));
            if let Some(Some(stats)) = state.stats_of(*ip) {
                let n = stats.prevalence().unwrap_or(0);
                spans.push(Span::styled(
                    if n > 0 {
                        format!("  {} dev", count(n))
                    } else {
                        "  not seen".to_owned()
                    },
                    theme.label(),
                ));
            }
        }
    }
}

/// A place an opened alert names, under the alert in the tree, after its visited mark.
pub fn tree_related(
    state: &State,
    place: &Subject,
    mark: &str,
    style: Style,
    spans: &mut Vec<Span<'static>>,
) {
    match place {
        Subject::Ip(ip) => {
            spans.push(Span::styled(format!("{mark} {ip} "), style));
            spans.extend(badge_spans(state, *ip, true));
        }
        Subject::Device(id) => spans.push(Span::styled(
            format!("{mark} device {} ", state.device_name(id)),
            style,
        )),
    }
}

/// A row of the pivot list: badges after the place's name, and what its second cell says
/// (an IP's prevalence as it arrives, a device's name).
pub fn related_cells(
    state: &State,
    place: &Subject,
    spans: &mut Vec<Span<'static>>,
) -> (String, Style) {
    match place {
        Subject::Ip(ip) => {
            spans.push(Span::raw(" "));
            spans.extend(badge_spans(state, *ip, true));
            super::ips_pane::prevalence(state, *ip)
        }
        Subject::Device(id) => (state.device_name(id), state.theme.label()),
    }
}
