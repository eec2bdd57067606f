//! Drawing: a pure function of [`State`]. One `render` per screen region.
//!
//! ```text
//! ┌ title: mde-triage · SIMULATED TENANT · api host · trail a › b › c ──────────┐
//! ┌ IP input ─────────────────────────────────────────────────────────────────┐
//! ┌ Prevalence ───────┐┌ Alerts of the IP ───────────────────────────────────┐
//! │                   ││ sev  status  created  device  title                 │
//! └───────────────────┘└─────────────────────────────────────────────────────┘
//! ┌ Alert details ───────────────────────────┐┌ Related IPs ─────────────────┐
//! └──────────────────────────────────────────┘└──────────────────────────────┘
//!  status bar: budget per endpoint · in flight · queued · last error · help
//! ```

mod alerts_pane;
mod budget_popup;
mod details_pane;
mod editor_popup;
mod format;
mod help;
mod input_pane;
mod ips_pane;
mod palette;
mod stats_pane;
mod status_bar;
pub mod theme;
mod title_bar;
mod tree_popup;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{Focus, State};

/// Below this the panes cannot say anything useful; a message replaces them.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

pub fn draw(state: &State, frame: &mut Frame<'_>) {
    draw_panes(state, frame);
    palette::apply(state.palette, frame.buffer_mut());
}

fn draw_panes(state: &State, frame: &mut Frame<'_>) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let [title, input, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Min(8),
        Constraint::Length(1),
    ])
    .areas(area);
    let [ip_half, alert_half] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(body);
    let stats_width = if area.width >= 120 { 34 } else { 28 };
    let [stats, alerts] =
        Layout::horizontal([Constraint::Length(stats_width), Constraint::Min(20)]).areas(ip_half);
    let [details, ips] =
        Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
            .areas(alert_half);

    title_bar::render(state, frame, title);
    input_pane::render(state, frame, input);
    stats_pane::render(state, frame, stats);
    alerts_pane::render(state, frame, alerts);
    details_pane::render(state, frame, details);
    ips_pane::render(state, frame, ips);
    status_bar::render(state, frame, status);
    if state.show_help {
        help::render(state, frame, area);
    }
    if state.show_budget {
        budget_popup::render(state, frame, area);
    }
    tree_popup::render(state, frame, area);
    editor_popup::render(state, frame, area);
}

fn too_small(frame: &mut Frame<'_>, area: Rect) {
    let text = vec![
        Line::from("mde-triage: terminal too small"),
        Line::from(format!(
            "{}×{}, need {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from("enlarge it, or q to quit"),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

/// A pane's border style: highlighted when it has the keys.
fn border(state: &State, pane: Focus) -> ratatui::style::Style {
    let theme = &state.theme;
    if state.focus == pane && !state.popup() {
        theme.focus()
    } else {
        theme.border()
    }
}
