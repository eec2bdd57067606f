//! A device's page, in the place of an IP's prevalence: what the analyst asks of a machine
//! before its alerts (name, OS, health, risk and exposure, tags, when seen, its addresses).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::{as_of, pending, time};
use crate::app::{Remote, State, Theme};
use crate::case::Target;
use crate::defender::{Device, DeviceId, FetchKey};

pub fn render(state: &State, id: &DeviceId, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Line::from(" Device ").style(theme.title()));
    let key = FetchKey::Device(id.clone());
    let remote = state.remote(&key);
    let mut lines = Vec::new();
    if let Some(status) = pending(state, remote, &key) {
        lines.push(Line::styled(id.to_string(), theme.title()));
        lines.extend(status);
    } else if let (Remote::Ready { .. }, Some(device)) = (remote, state.device(id)) {
        lines.push(Line::styled(state.device_name(id), theme.title()));
        lines.extend(casework(state, id));
        lines.extend(describe(device, theme));
        lines.extend(as_of(remote, state.now).map(|s| Line::styled(s, theme.muted())));
    }
    let lines = super::format::wrap(lines, block.inner(area).width);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The analyst's tags and latest note on the device, first: they matter most.
fn casework(state: &State, id: &DeviceId) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let target = Target::Place(crate::case::Subject::Device(id.clone()));
    let mut lines = Vec::new();
    let tags = state.tags_of(&target);
    if !tags.is_empty() {
        lines.push(Line::styled(super::format::tag_list(tags), theme.warn()));
    }
    let notes: Vec<_> = state.notes_of(&target).collect();
    if let Some(last) = notes.last() {
        lines.push(Line::from(vec![
            Span::styled(format!("notes {} · ", notes.len()), theme.label()),
            Span::raw(last.text.clone()),
        ]));
    }
    lines
}

/// The device's record under its name, most telling first: a narrow pane cuts from the bottom.
pub fn describe(d: &Device, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let os = [d.os_platform.as_deref(), d.version.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let mut field = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            lines.push(Line::from(vec![
                Span::styled(format!("{label} "), theme.label()),
                Span::raw(v),
            ]));
        }
    };
    field("health", d.health_status.clone());
    field(
        "risk",
        risk_and_exposure(d.risk_score.as_deref(), d.exposure_level.as_deref()),
    );
    field("os", Some(os));
    field(
        "tags",
        (!d.machine_tags.is_empty()).then(|| d.machine_tags.join(", ")),
    );
    field("group", d.rbac_group_name.clone());
    field("ip", d.last_ip_address.clone());
    field("ext", d.last_external_ip_address.clone());
    field("first", d.first_seen.as_ref().map(|t| time(Some(t))));
    field("last", d.last_seen.as_ref().map(|t| time(Some(t))));
    field("id", Some(d.id.clone()));
    lines
}

/// `High · exposure Medium`: risk first, the exposure only when the API gave one.
pub fn risk_and_exposure(risk: Option<&str>, exposure: Option<&str>) -> Option<String> {
    match (risk, exposure) {
        (Some(r), Some(e)) => Some(format!("{r} · exposure {e}")),
        (Some(r), None) => Some(r.to_owned()),
        (None, Some(e)) => Some(format!("exposure {e}")),
        (None, None) => None,
    }
}
