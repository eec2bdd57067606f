//! What is under the mouse pointer: the pane, and the list row, found with the same layout and
//! the same row geometry (each list pane's `rows`) the panes are drawn with, so a click lands
//! on the row it points at.

use ratatui::layout::{Position, Rect};

use super::layout::panes;
use super::{alerts_pane, ips_pane};
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
        Focus::Alerts => alerts_pane::rows(state, rect).row_at(at),
        Focus::Ips => ips_pane::rows(state, rect).row_at(at),
        Focus::Input | Focus::Details => None,
    };
    Some(Hit {
        pane,
        row: list_row,
    })
}
