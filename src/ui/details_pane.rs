//! The opened alert: every field an analyst reads before deciding, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::format::time;
use crate::app::{Action, Focus, Remote, State, Theme};
use crate::defender::{Alert, FetchKey};

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let block = Block::bordered()
        .border_style(super::border(state, Focus::Details))
        .title(Line::from(" Alert ").style(theme.title()));
    let lines = match (state.location(), state.open_alert()) {
        (_, Some(alert)) => {
            let mut lines = casework(state, alert);
            lines.extend(describe(alert, theme, device_line(state, alert)));
            lines
        }
        (Some(loc), None) if loc.alert.is_some() => {
            vec![Line::styled(
                "The alert's details are not loaded (its IP's alert list is not here).",
                theme.muted(),
            )]
        }
        _ => vec![Line::styled(
            format!(
                "Select an alert and press {} to open it.",
                state.keymap.hint(Action::Submit)
            ),
            theme.muted(),
        )],
    };
    let lines = super::format::wrap(lines, block.inner(area).width);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((state.details_scroll, 0))
            .block(block),
        area,
    );
}

/// The alert's device as its record tells it, with the key that opens it; the alert's own
/// name for it while the record loads or when it cannot be read (the alert stays whole).
fn device_line(state: &State, alert: &Alert) -> Option<Vec<Line<'static>>> {
    let id = State::device_id_of(alert)?;
    let id = &id;
    let theme = &state.theme;
    let mut spans = vec![Span::styled(format!("{:<12}", "Device"), theme.label())];
    match state.device(id) {
        Some(d) => {
            spans.push(Span::styled(state.device_name(id), theme.title()));
            let risk = super::device_pane::risk_and_exposure(
                d.risk_score.as_deref(),
                d.exposure_level.as_deref(),
            );
            let facts: Vec<String> = [
                d.os_platform.clone(),
                d.health_status.clone(),
                risk.map(|r| format!("risk {r}")),
            ]
            .into_iter()
            .flatten()
            .filter(|f| !f.trim().is_empty())
            .collect();
            if !facts.is_empty() {
                spans.push(Span::raw(format!(" · {}", facts.join(" · "))));
            }
        }
        None => {
            spans.push(Span::raw(alert.device().unwrap_or(id.as_str()).to_owned()));
            let key = FetchKey::Device(id.clone());
            match state.remote(&key) {
                Remote::Failed { error } => {
                    // Why, and what to do (a missing permission is named): under the line.
                    let mut why =
                        super::format::failure(error, &key, theme, &state.keymap).into_iter();
                    spans.push(Span::styled(" · record not read", theme.muted()));
                    spans.push(Span::styled(
                        format!("  {} opens", state.keymap.hint(Action::Device)),
                        theme.muted(),
                    ));
                    let mut lines = vec![Line::from(spans)];
                    lines.extend(why.by_ref());
                    return Some(lines);
                }
                Remote::Loading { .. } => spans.push(Span::styled(" · loading…", theme.muted())),
                _ => {}
            }
        }
    }
    spans.push(Span::styled(
        format!("  {} opens", state.keymap.hint(Action::Device)),
        theme.muted(),
    ));
    let mut lines = vec![Line::from(spans)];
    // Its tags and when it was seen, under the line, as the device's page has them.
    if let Some(d) = state.device(id) {
        let seen = match (&d.first_seen, &d.last_seen) {
            (Some(f), Some(l)) => Some(format!(
                "seen {} → {}",
                f.format("%Y-%m-%d"),
                l.format("%Y-%m-%d")
            )),
            (None, Some(l)) => Some(format!("last seen {}", l.format("%Y-%m-%d"))),
            _ => None,
        };
        let tags =
            (!d.machine_tags.is_empty()).then(|| format!("tags {}", d.machine_tags.join(", ")));
        let more: Vec<String> = [tags, seen].into_iter().flatten().collect();
        if !more.is_empty() {
            lines.push(Line::from(vec![
                Span::raw(format!("{:<12}", "")),
                Span::styled(more.join(" · "), theme.muted()),
            ]));
        }
    }
    Some(lines)
}

fn describe(a: &Alert, theme: &Theme, device: Option<Vec<Line<'static>>>) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::styled(a.title.replace('\n', " "), theme.title()),
        Line::from(vec![
            Span::styled(a.severity.to_string(), theme.severity(&a.severity)),
            Span::raw(format!(" · {} · {}", a.status, a.id)),
        ]),
    ];
    let field = |lines: &mut Vec<Line<'static>>, label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            lines.push(Line::from(vec![
                Span::styled(format!("{label:<12}"), theme.label()),
                Span::raw(v),
            ]));
        }
    };
    field(&mut lines, "Category", a.category.clone());
    field(
        &mut lines,
        "MITRE",
        (!a.mitre_techniques.is_empty()).then(|| a.mitre_techniques.join(", ")),
    );
    match device {
        Some(device) => lines.extend(device),
        None => field(&mut lines, "Device", a.device().map(str::to_owned)),
    }
    field(
        &mut lines,
        "User",
        a.related_user.as_ref().map(|u| u.display()),
    );
    field(
        &mut lines,
        "Created",
        Some(time(a.alert_creation_time.as_ref())),
    );
    field(
        &mut lines,
        "First event",
        a.first_event_time.as_ref().map(|t| time(Some(t))),
    );
    field(
        &mut lines,
        "Last event",
        a.last_event_time.as_ref().map(|t| time(Some(t))),
    );
    field(
        &mut lines,
        "Resolved",
        a.resolved_time.as_ref().map(|t| time(Some(t))),
    );
    field(&mut lines, "Source", a.detection_source.clone());
    field(
        &mut lines,
        "Threat",
        a.threat_family_name
            .clone()
            .or_else(|| a.threat_name.clone()),
    );
    field(&mut lines, "Incident", a.incident_id.map(|i| i.to_string()));
    field(
        &mut lines,
        "Inv. state",
        match (&a.investigation_state, a.investigation_id) {
            (Some(s), Some(id)) => Some(format!("{s} (#{id})")),
            (Some(s), None) => Some(s.clone()),
            (None, Some(id)) => Some(format!("#{id}")),
            (None, None) => None,
        },
    );
    field(&mut lines, "Dev. group", a.rbac_group_name.clone());
    field(
        &mut lines,
        "Updated",
        a.last_update_time.as_ref().map(|t| time(Some(t))),
    );
    field(&mut lines, "Assigned", a.assigned_to.clone());
    field(
        &mut lines,
        "Verdict",
        a.classification.clone().map(|c| match &a.determination {
            Some(d) => format!("{c} / {d}"),
            None => c,
        }),
    );
    if !a.description.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(a.description.lines().map(|l| Line::raw(l.to_owned())));
    }
    for c in &a.comments {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "{} · {}",
                c.created_by.as_deref().unwrap_or("?"),
                time(c.created_time.as_ref())
            ),
            theme.muted(),
        ));
        lines.push(Line::raw(c.comment.clone()));
    }
    if !a.evidence.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Evidence ({})", a.evidence.len()),
            theme.label(),
        ));
        lines.extend(a.evidence.iter().map(|e| evidence_line(e, theme)));
    }
    lines
}

/// `File  invoice.js  C:\Users\…  sha256 9f86d0…`: the fields an evidence entity has, in the
/// order an analyst reads them.
fn evidence_line(e: &crate::defender::model::Evidence, theme: &Theme) -> Line<'static> {
    let account = match (&e.domain_name, &e.account_name) {
        (Some(d), Some(u)) => Some(format!("{d}\\{u}")),
        (None, Some(u)) => Some(u.clone()),
        _ => None,
    };
    let parts: Vec<String> = [
        e.file_name.clone(),
        e.file_path.clone(),
        e.sha256.as_ref().map(|h| format!("sha256 {h}")),
        e.process_command_line.clone(),
        e.ip_address.clone(),
        e.url.clone(),
        account,
        e.detection_status.as_ref().map(|d| format!("({d})")),
    ]
    .into_iter()
    .flatten()
    .collect();
    Line::from(vec![
        Span::styled(
            format!("{:<12}", e.entity_type.as_deref().unwrap_or("Entity")),
            theme.label(),
        ),
        Span::raw(parts.join("  ")),
    ])
}

/// The analyst's tags and notes on the alert, above the API's fields: they matter most.
fn casework(state: &State, alert: &Alert) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let Ok(id) = crate::defender::parse_alert_id(&alert.id) else {
        return Vec::new();
    };
    let target = crate::case::Target::Alert(id);
    let mut lines = Vec::new();
    let tags = state.tags_of(&target);
    if !tags.is_empty() {
        lines.push(Line::styled(super::format::tag_list(tags), theme.warn()));
    }
    for note in state.notes_of(&target) {
        lines.push(Line::from(vec![
            ratatui::text::Span::styled(
                format!("{} ", note.at.format("%m-%d %H:%M")),
                theme.label(),
            ),
            ratatui::text::Span::raw(note.text.clone()),
        ]));
    }
    lines
}
