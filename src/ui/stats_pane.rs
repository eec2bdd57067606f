//! Prevalence of the current IP: devices in the org that talked to it, first and last seen.

use std::net::IpAddr;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::{as_of, count, pending, tag_list, time};
use crate::app::{Action, Holders, Remote, State, Subject};
use crate::case::Target;
use crate::defender::FetchKey;
use crate::defender::findbyip::Refused;

/// The IP's prevalence; with no IP, the pane before any place ([`super::place_words`] picks).
pub fn render(state: &State, ip: Option<IpAddr>, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let block = Block::bordered().border_style(theme.border());
    let Some(ip) = ip else {
        let block = block.title(Line::from(" Prevalence ").style(theme.title()));
        let text = vec![Line::styled("No IP yet.", theme.muted())];
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    // The period the figure counts over, said where the figure is; short when narrow.
    let period = state.period_of(ip);
    let room = usize::from(area.width.saturating_sub(2));
    let title = [
        format!(" Prevalence · {} ", period.long()),
        format!(" Prevalence · {} ", period.short()),
        format!(" {} ", period.short()),
    ]
    .into_iter()
    .find(|t| super::format::width(t) <= room)
    .unwrap_or_default();
    let cycle = format!(" {}: period ", state.keymap.hint(Action::Period));
    let block = block
        .title(Line::from(title).style(theme.title()))
        .title_bottom(Line::styled(cycle, theme.muted()).right_aligned());
    let key = state.stats_key(ip);
    let remote = state.remote(&key);
    let mut lines = vec![
        Line::styled(ip.to_string(), theme.title()),
        Line::from(super::format::badge_spans(state, ip, false)),
    ];
    if let Some(status) = pending(state, remote, &key) {
        lines.extend(status);
    } else if let Remote::Ready { .. } = remote {
        match state.stats_of(ip).flatten() {
            Some(stats) if stats.seen_in_org() => {
                let n = stats.prevalence().unwrap_or(0);
                lines.push(Line::from(vec![
                    Span::styled("devices ", theme.label()),
                    Span::styled(count(n), theme.title()),
                ]));
                lines.push(field("first", &time(stats.org_first_seen.as_ref()), theme));
                lines.push(field("last ", &time(stats.org_last_seen.as_ref()), theme));
            }
            // A 404 and a zero count both mean the org never talked to it.
            _ => {
                lines.push(Line::styled("not seen in the org", theme.warn()));
                lines.push(Line::styled(
                    "no device connected to it in the look-back window",
                    theme.muted(),
                ));
            }
        }
        lines.extend(as_of(remote, state.now).map(|s| Line::styled(s, theme.muted())));
    }
    lines.extend(holders(state));
    // The analyst's own words on this IP: its tags, and its latest note.
    let target = Target::Place(Subject::Ip(ip));
    let tags = state.tags_of(&target);
    if !tags.is_empty() {
        lines.push(Line::styled(tag_list(tags), theme.warn()));
    }
    let notes: Vec<_> = state.notes_of(&target).collect();
    if let Some(last) = notes.last() {
        lines.push(Line::from(vec![
            Span::styled(format!("notes {} · ", notes.len()), theme.label()),
            Span::raw(last.text.clone()),
        ]));
    }
    // Our own wrap: ratatui's lets a wide character overhang the border (see format::wrap).
    let lines = super::format::wrap(lines, block.inner(area).width);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn field(label: &str, value: &str, theme: &crate::app::Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label} "), theme.label()),
        Span::raw(value.to_owned()),
    ])
}

/// Which device held this internal IP when the opened alert happened (findbyip, ±15 min), or
/// why that is not asked: said, never silently left out. A public IP's page says nothing.
fn holders(state: &State) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let key = match state.holders_key() {
        Ok(key) => key,
        Err(Holders::Refused(Refused::NotInternal { .. })) => return Vec::new(),
        Err(Holders::Refused(why)) => {
            return vec![Line::styled(
                format!("held by: not asked, {why}"),
                theme.muted(),
            )];
        }
        // Nothing to ask at a time until an alert is open.
        Err(Holders::NoAlert) => return Vec::new(),
    };
    let FetchKey::DevicesAt(_, at) = &key else {
        return Vec::new();
    };
    let (from, to) = at.window();
    let mut lines = vec![Line::from(vec![
        Span::styled("held ", theme.label()),
        Span::raw(format!(
            "{}–{}",
            from.format("%m-%d %H:%M"),
            to.format("%H:%M")
        )),
    ])];
    let remote = state.remote(&key);
    if let Some(status) = pending(state, remote, &key) {
        lines.extend(status);
    } else if let Some(devices) = state.holders(&key) {
        if devices.is_empty() {
            lines.push(Line::styled("by no device the API knows", theme.muted()));
        }
        for d in devices {
            let name = d.name().trim();
            let name = if name.is_empty() { "(unnamed)" } else { name };
            lines.push(Line::from(vec![
                Span::styled("by ", theme.label()),
                Span::styled(name.to_owned(), theme.title()),
            ]));
        }
    }
    lines
}
