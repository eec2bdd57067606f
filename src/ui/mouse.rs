//! What is under the mouse pointer: the pane, and the list row, found with the same layout and
//! the same scrolling the panes are drawn with, so a click lands on the row it points at.

use ratatui::layout::{Position, Rect};

use super::layout::{first_row, panes};
use crate::app::{Focus, Hit, State};

/// The pane (and list row, if any) at `(column, row)` of a screen of size `area`.
pub fn hit(state: &State, area: Rect, column: u16, row: u16) -> Option<Hit> {
    let p = panes(area)?;
    let at = Position::new(column, row);
    let (pane, rect) = [
        (Focus::Input, p.input),
        (Focus::Alerts, p.alerts),
        (Focus::Details, p.details),
        (Focus::Ips, p.ips),
    ]
    .into_iter()
    .find(|(_, r)| r.contains(at))?;
    let list_row = match pane {
        Focus::Alerts => alerts_row(state, rect, at),
        Focus::Ips => ips_row(state, rect, at),
        Focus::Input | Focus::Details => None,
    };
    Some(Hit {
        pane,
        row: list_row,
    })
}

/// Inside the border, and the pointer's offset from the inner top.
fn inner_line(rect: Rect, at: Position) -> Option<(Rect, usize)> {
    let inner = rect.inner(ratatui::layout::Margin::new(1, 1));
    inner
        .contains(at)
        .then(|| (inner, usize::from(at.y - inner.y)))
}

fn alerts_row(state: &State, rect: Rect, at: Position) -> Option<usize> {
    let loc = state.location()?;
    let shown = state.shown_len();
    let (inner, line) = inner_line(rect, at)?;
    // The first line is the table's header.
    let line = line.checked_sub(1)?;
    let rows = usize::from(inner.height.saturating_sub(1)).max(1);
    let index = first_row(loc.alert_row.min(shown.checked_sub(1)?), rows) + line;
    (index < shown).then_some(index)
}

fn ips_row(state: &State, rect: Rect, at: Position) -> Option<usize> {
    let loc = state.location()?;
    let len = state.related_ips_of(loc.alert.as_ref()?)?.len();
    let (inner, line) = inner_line(rect, at)?;
    let rows = usize::from(inner.height).max(1);
    let index = first_row(loc.ip_row.min(len.checked_sub(1)?), rows) + line;
    (index < len).then_some(index)
}
