//! The `b` popup: per endpoint, each window's use, calls this session, answers reused from the
//! session's store, 429s received and time paused. The limits are shared by every tool on the
//! same app registration and tenant, which is why a 429 can come before our own count is full.
//! With the team's books (or this user's processes sharing one database), each endpoint gets
//! two rows: the team's use and shared pause ("team"; "seen", as last seen, while the team's
//! books cannot be reached; "all", this user's processes), then this console's own ("own").

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Row, Table};

use super::layout::centered;
use crate::app::{Action, State};
use crate::fetch::sharing::{self, Sharing};
use crate::fetch::{BudgetStatus, EndpointBudget, WindowStatus};
use crate::text::{duration, span};

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let b = &state.budget;
    let sharing = sharing::sharing(b);
    let shared = !matches!(sharing, Sharing::Alone) && b.shared.is_some();
    let mut header = vec!["endpoint"];
    if shared {
        header.push("whose");
    }
    header.extend(["used/limit·window", "calls", "reused", "429s", "paused"]);
    let header = Row::new(header).style(theme.muted());
    let mut rows = Vec::new();
    for e in &b.endpoints {
        let own = own_cells(state, e);
        let own_style = if e.paused_for.is_some() {
            theme.warn()
        } else {
            ratatui::style::Style::new()
        };
        if !shared {
            let mut cells = vec![e.endpoint.label().to_owned()];
            cells.extend(own);
            rows.push(Row::new(cells).style(own_style));
            continue;
        }
        let (team_row, team_paused) = team_cells(b, e);
        let team_style = if team_paused {
            theme.warn()
        } else {
            ratatui::style::Style::new()
        };
        rows.push(Row::new(team_row).style(team_style));
        let mut cells = vec![String::new(), "own".to_owned()];
        cells.extend(own);
        rows.push(Row::new(cells).style(own_style));
    }
    let per_endpoint = if shared { 2 } else { 1 };
    let width = if shared { 110 } else { 96 }.min(area.width);
    let height = (b.endpoints.len() as u16 * per_endpoint + 3).min(area.height);
    let popup = centered(area, width, height);
    // Shared, the columns are as narrow as their headers, so that two windows still fit at
    // 80 columns beside the "whose" column.
    let widths = if shared {
        vec![
            Constraint::Length(10),
            Constraint::Length(5),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(6),
            Constraint::Length(4),
            Constraint::Length(17),
        ]
    } else {
        vec![
            Constraint::Length(10),
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(18),
        ]
    };
    let title = match sharing {
        Sharing::Alone => " Budget · shared by every tool on this app registration ".to_owned(),
        Sharing::Team { consoles } => {
            format!(" Budget · team: {consoles} console(s) seen in the last minutes ")
        }
        Sharing::Local { consoles } => {
            format!(" Budget · shared by {consoles} processes on this database ")
        }
        Sharing::Unreachable { backend, share } => {
            let full = format!(
                " Budget · {} ",
                sharing::unreachable_sentence(backend, &share)
            );
            if full.chars().count() + 2 <= usize::from(width) {
                full
            } else {
                format!(
                    " Budget · {} unreachable · local share {} ",
                    sharing::books(backend),
                    share.rate()
                )
            }
        }
    };
    let title_style = if matches!(sharing, Sharing::Unreachable { .. }) {
        theme.warn()
    } else {
        theme.title()
    };
    // With whatever keys dismiss and the budget have now, as help does.
    let close = match state.keymap.either(&[Action::Dismiss, Action::Budget]) {
        Some(keys) => format!("{keys} to close"),
        None => "C-c quits".to_owned(),
    };
    let table = Table::new(rows, widths).header(header).block(
        Block::bordered()
            .border_style(theme.focus())
            .title(Line::from(title).style(title_style))
            .title_bottom(
                Line::styled(
                    format!(" {} running · {} queued · {close} ", b.in_flight, b.queued),
                    theme.muted(),
                )
                .right_aligned(),
            ),
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(table, popup);
}

fn windows_cell(windows: &[WindowStatus]) -> String {
    windows
        .iter()
        .map(|w| format!("{}/{}·{}", w.used, w.limit, span(w.window)))
        .collect::<Vec<_>>()
        .join("  ")
}

/// This process's own figures: its windows, calls, answers reused, 429s and time paused.
fn own_cells(state: &State, e: &EndpointBudget) -> Vec<String> {
    let paused = match e.paused_for {
        Some(left) => format!("{} ({} left)", duration(e.paused_total), duration(left)),
        None => duration(e.paused_total),
    };
    vec![
        windows_cell(&e.windows),
        e.calls.to_string(),
        state
            .store_hits
            .get(&e.endpoint)
            .copied()
            .unwrap_or(0)
            .to_string(),
        e.throttled.to_string(),
        paused,
    ]
}

/// The team's row of an endpoint: its use of each window as last seen and the shared pause
/// (a countdown); the per-process counts are on the console's own row. Whether it is paused.
fn team_cells(b: &BudgetStatus, e: &EndpointBudget) -> (Vec<String>, bool) {
    let books = match sharing::sharing(b) {
        // Last seen before the link dropped.
        Sharing::Unreachable { .. } => "seen",
        Sharing::Local { .. } => "all",
        _ => "team",
    };
    let shared = sharing::shared_of(b, e.endpoint);
    let windows = shared.map_or_else(|| "not seen yet".to_owned(), |s| windows_cell(&s.windows));
    let pause = shared.and_then(|s| s.paused_for);
    let paused = pause.map_or_else(
        || "-".to_owned(),
        |left| format!("⏸ {} left", duration(left)),
    );
    let cells = vec![
        e.endpoint.label().to_owned(),
        books.to_owned(),
        windows,
        String::new(),
        String::new(),
        String::new(),
        paused,
    ];
    (cells, pause.is_some())
}
