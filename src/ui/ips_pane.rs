//! The opened alert's pivot list (`app::related`): its related IPs, each with its prevalence as
//! it arrives. Each kind of place a row can lead to is drawn by
//! [`super::place_words::related_cells`].

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

use super::format::{caveat_line, count, pending, spinner};
use super::layout::Rows;
use crate::app::{Action, Focus, Remote, State};
use crate::case::Target;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let block = Block::bordered()
        .border_style(super::border(state, Focus::Ips))
        .title(Line::from(" Related IPs ").style(theme.title()));
    let Some(loc) = state.location() else {
        frame.render_widget(block, area);
        return;
    };
    let Some(id) = &loc.alert else {
        let text = vec![Line::styled(
            "Open an alert to see the IPs it involves.",
            theme.muted(),
        )];
        frame.render_widget(
            Paragraph::new(super::format::wrap(text, block.inner(area).width)).block(block),
            area,
        );
        return;
    };
    // The pane waits on the alert's first related list, as the pivot list does.
    let Some(key) = crate::app::related::lists(id).into_iter().next() else {
        frame.render_widget(block, area);
        return;
    };
    if let Some(status) = pending(state, state.remote(&key), &key) {
        frame.render_widget(
            Paragraph::new(super::format::wrap(status, block.inner(area).width)).block(block),
            area,
        );
        return;
    }
    let related = state.related_of(id).unwrap_or_default();
    let caveats = state.caveats_of(&key);
    let block = if caveats.is_empty() {
        block
    } else {
        block.title_bottom(caveat_line(
            &caveats,
            (area.width as usize).saturating_sub(2),
            theme,
        ))
    };
    if related.is_empty() {
        let mut text = vec![Line::from(if caveats.is_empty() {
            "No related IPs for this alert."
        } else {
            "No readable related IPs for this alert."
        })];
        text.extend(
            caveats
                .full
                .iter()
                .map(|c| Line::styled(format!("{c}."), theme.warn())),
        );
        frame.render_widget(
            Paragraph::new(super::format::wrap(text, block.inner(area).width)).block(block),
            area,
        );
        return;
    }
    let pivot = format!(" {}: pivot ", state.keymap.hint(Action::Submit));
    let block = block.title_bottom(Line::styled(pivot, theme.muted()).right_aligned());
    let view = rows(state, area);
    let rows = related[view.in_view()].iter().map(|row| {
        let mut spans = vec![Span::raw(row.written.clone())];
        let (text, style) = match &row.place {
            None => ("not an IP".to_owned(), theme.error()),
            Some(place) => {
                let tags = super::format::tag_list(state.tags_of(&Target::Place(place.clone())));
                if !tags.is_empty() {
                    spans.push(Span::styled(format!(" {tags}"), theme.warn()));
                }
                super::place_words::related_cells(state, place, &mut spans)
            }
        };
        Row::new(vec![
            Cell::from(Line::from(spans)),
            Cell::from(text).style(style),
        ])
    });
    let table = Table::new(rows, [Constraint::Fill(1), Constraint::Length(12)])
        .row_highlight_style(if state.focus == Focus::Ips {
            theme.selected()
        } else {
            theme.title()
        })
        .highlight_symbol("▶")
        .block(block);
    let mut table_state = TableState::default().with_selected(Some(view.selected_in_view()));
    frame.render_stateful_widget(table, area, &mut table_state);
}

/// Where the list's rows are in a pane drawn at `area`: `render` draws them there and a click
/// is read from there. No rows until an opened alert's IPs are in.
pub fn rows(state: &State, area: Rect) -> Rows {
    let loc = state.location();
    let len = state.related_len();
    let selected = loc.map_or(0, |loc| loc.ip_row);
    Rows::new(Block::bordered().inner(area), 0, len, selected)
}

pub(super) fn prevalence(state: &State, ip: std::net::IpAddr) -> (String, ratatui::style::Style) {
    let theme = &state.theme;
    match state.remote(&state.stats_key(ip)) {
        Remote::Idle => ("".into(), theme.muted()),
        Remote::Loading { .. } => (spinner(state.spinner).into(), theme.muted()),
        Remote::Failed { .. } => ("error".into(), theme.error()),
        Remote::Ready { .. } => match state.stats_of(ip).flatten().and_then(|s| s.prevalence()) {
            Some(n) if n > 0 => (format!("{} dev", count(n)), theme.label()),
            _ => ("not seen".into(), theme.warn()),
        },
    }
}
