//! The current IP's related alerts, newest first; severity coloured and written out.
//! Only the rows in view are built, so 10,000 alerts cost what 30 do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

use super::format::{
    as_of, caveat_line, count, pending, short_date, short_time, tag_list, truncate,
};
use super::layout::Rows;
use crate::app::{Action, Focus, State, Theme};
use crate::case::Target;
use crate::defender::Severity;

pub fn render(state: &State, frame: &mut Frame<'_>, area: Rect) {
    let theme = &state.theme;
    let mut block = Block::bordered().border_style(super::border(state, Focus::Alerts));
    let Some(loc) = state.location() else {
        block = block.title(Line::from(" Alerts ").style(theme.title()));
        let text = vec![
            Line::from(format!(
                "Type an IP address above and press {}.",
                state.keymap.hint(Action::Submit)
            )),
            Line::styled(
                "You will see its prevalence and its related alerts here.",
                theme.muted(),
            ),
        ];
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    };
    let key = loc.subject.alerts_key();
    let remote = state.remote(&key);
    let all = state.alerts_at(&loc.subject).unwrap_or_default();
    let shown = state.shown_len();
    let title = format!(
        " Alerts · {} ",
        super::place_words::label(state, &loc.subject)
    );
    // The counts give way, from the right, before they could overwrite a digit of the IP.
    let room = (area.width as usize).saturating_sub(title.chars().count() + 3);
    block = block.title(Line::from(title).style(theme.title()));
    let caveats = state.caveats_of(&key);
    let cut = remote.value().is_some_and(|v| v.cut_reason().is_some());
    let border = (area.width as usize).saturating_sub(2);
    let mut caveat_width = 0;
    if !caveats.is_empty() {
        // What the list lacks is said where the list is: never a silent partial answer.
        let line = caveat_line(&caveats, border, theme);
        caveat_width = line.width();
        block = block.title_bottom(line);
    }
    if let Some(age) = as_of(remote, state.now) {
        let mut counts = severity_counts(all, shown, cut, theme);
        while counts
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>()
            > room
        {
            counts.pop();
        }
        block = block.title(Line::from(counts).right_aligned());
        // The age gives way to the caveats on a narrow border.
        let age = format!(" {age} ");
        // While a filter is typed, its prompt needs the border more than the age does.
        let prompt = if state.alert_filter.editing {
            filter_prompt(state, shown).chars().count()
                + state.alert_sort.label().chars().count()
                + 12
        } else {
            0
        };
        if caveat_width + prompt + age.chars().count() < border {
            block = block.title_bottom(Line::styled(age, theme.muted()).right_aligned());
        }
    }
    let filter = &state.alert_filter;
    if filter.editing || filter.is_active() || state.alert_sort != Default::default() {
        let mut spans = vec![ratatui::text::Span::styled(
            format!(" sorted by {} ", state.alert_sort.label()),
            theme.muted(),
        )];
        if filter.editing {
            // The filter being typed: a prompt with a cursor and how many rows it keeps.
            spans.push(ratatui::text::Span::styled(
                filter_prompt(state, shown),
                theme.focus(),
            ));
        } else if filter.is_active() {
            spans.push(ratatui::text::Span::styled(
                format!("/{} ", filter.input.value()),
                theme.warn(),
            ));
        }
        block = block.title_bottom(Line::from(spans));
    }
    if let Some(status) = pending(state, remote, &key) {
        frame.render_widget(Paragraph::new(status).block(block), area);
        return;
    }
    if shown == 0 && filter.is_active() {
        let text = vec![
            Line::from(format!(
                "No alert matches '{}'.",
                filter.input.value().trim()
            )),
            Line::styled("Esc after / clears the filter.", theme.muted()),
        ];
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    if shown == 0 && !caveats.is_empty() {
        let mut text = vec![Line::from("No readable alerts for this IP.")];
        text.extend(
            caveats
                .full
                .iter()
                .map(|c| Line::styled(format!("{c}."), theme.warn())),
        );
        text.push(Line::styled(
            format!(
                "The log file names each one; {} asks again.",
                state.keymap.hint(Action::Refresh)
            ),
            theme.muted(),
        ));
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    if shown == 0 {
        let text = vec![
            Line::from("No alerts for this IP."),
            Line::styled("That is an answer, not an error.", theme.muted()),
        ];
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let view = rows(state, area);
    let wide = view.area.width >= 76;
    let rows = view
        .in_view()
        .filter_map(|row| state.shown_at(row))
        .map(|a| {
            let mut cells = vec![
                Cell::from(severity_label(&a.severity)).style(theme.severity(&a.severity)),
                Cell::from(a.status.to_string()),
                Cell::from(if wide {
                    short_time(a.alert_creation_time.as_ref())
                } else {
                    // At 80 columns the title needs the room more than the minute does.
                    short_date(a.alert_creation_time.as_ref())
                }),
            ];
            if wide {
                cells.push(Cell::from(truncate(a.device().unwrap_or("—"), 24)));
            }
            let tags = crate::defender::parse_alert_id(&a.id)
                .map(|id| tag_list(state.tags_of(&Target::Alert(id))))
                .unwrap_or_default();
            let title = a.title.replace('\n', " ");
            cells.push(if tags.is_empty() {
                Cell::from(title)
            } else {
                Cell::from(Line::from(vec![
                    ratatui::text::Span::styled(format!("{tags} "), theme.warn()),
                    ratatui::text::Span::raw(title),
                ]))
            });
            Row::new(cells)
        });
    let mut widths = vec![
        Constraint::Length(6),
        Constraint::Length(10),
        // `2026-11-20 09:14` wide, `2026-11-20` at 80 columns: the date, not an age, so a
        // pasted screen and README's stay true on another day.
        Constraint::Length(if wide { 16 } else { 10 }),
    ];
    let mut header = vec!["Sev", "Status", "Created"];
    if wide {
        widths.push(Constraint::Length(24));
        header.push("Device");
    }
    widths.push(Constraint::Fill(1));
    header.push("Title");
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header()).height(HEADER))
        .row_highlight_style(if state.focus == Focus::Alerts {
            theme.selected()
        } else {
            theme.title()
        })
        .highlight_symbol("▶")
        .block(block);
    let mut table_state = TableState::default().with_selected(Some(view.selected_in_view()));
    frame.render_stateful_widget(table, area, &mut table_state);
}

/// The filter being typed: its text, a cursor, and how many rows it keeps.
fn filter_prompt(state: &State, shown: usize) -> String {
    format!(
        "/{}▏ {} match{} ",
        state.alert_filter.input.value(),
        count(shown as u64),
        if shown == 1 { "" } else { "es" }
    )
}

/// The table's header: one line of column names.
const HEADER: u16 = 1;

/// Where the table's rows are in a pane drawn at `area`: `render` draws them there and a click
/// is read from there. No rows without an IP looked up.
pub fn rows(state: &State, area: Rect) -> Rows {
    let selected = state.location().map_or(0, |loc| loc.alert_row);
    Rows::new(
        Block::bordered().inner(area),
        HEADER,
        state.shown_len(),
        selected,
    )
}

fn severity_label(s: &Severity) -> String {
    match s {
        Severity::Informational => "Info".into(),
        Severity::UnSpecified | Severity::Missing => "—".into(),
        other => truncate(other.as_str(), 6),
    }
}

/// " 7 alerts 3 High 2 Med 1 Low " for the pane title (" 2 of 7 alerts …" when filtered,
/// " 5,000+ alerts …" when the list was cut).
fn severity_counts(
    alerts: &[crate::defender::Alert],
    shown: usize,
    cut: bool,
    theme: &Theme,
) -> Vec<ratatui::text::Span<'static>> {
    let total = format!(
        "{}{}",
        count(alerts.len() as u64),
        if cut { "+" } else { "" }
    );
    let count = if shown == alerts.len() {
        format!(" {total} alerts ")
    } else {
        format!(" {shown} of {total} alerts ")
    };
    let mut spans = vec![ratatui::text::Span::raw(count)];
    for (sev, name) in [
        (Severity::High, "High"),
        (Severity::Medium, "Med"),
        (Severity::Low, "Low"),
    ] {
        let n = alerts.iter().filter(|a| a.severity == sev).count();
        if n > 0 {
            spans.push(ratatui::text::Span::styled(
                format!("{n} {name} "),
                theme.severity(&sev),
            ));
        }
    }
    spans
}
