//! Mouse clicks and the wheel. The open popup has them first (`popup::click`, `popup::wheel`),
//! as it has the keys. Otherwise a click focuses the pane under it and selects the row it points
//! at; a click on the row already selected opens it, as Enter would. The wheel moves through
//! the list (or scrolls the alert) under the pointer. The loop finds what is under the pointer
//! (`ui::hit`, from the layout the screen was drawn with); this decides what it means.

use super::msg::{Cmd, Hit};
use super::navigate;
use super::popup::{self, Routed};
use super::selection::{move_selection, select, selected_row};
use super::state::{Focus, State};

/// Lines the alert's details scroll per wheel step; lists move one row, to stay precise.
const DETAILS_STEP: isize = 3;

/// Returns whether the screen changed.
pub(super) fn click(state: &mut State, hit: Hit, cmds: &mut Vec<Cmd>) -> bool {
    if let Routed::Taken { redraw } = popup::click(state) {
        return redraw;
    }
    state.notice = None;
    // A filter being typed is kept, as Enter would keep it.
    state.alert_filter.editing = false;
    let selected = selected_row(state, hit.pane);
    match (hit.pane, hit.row) {
        (Focus::Alerts | Focus::Ips, Some(row))
            if state.focus == hit.pane && selected == Some(row) =>
        {
            navigate::submit(state, cmds);
        }
        (Focus::Alerts | Focus::Ips, Some(row)) => {
            state.focus = hit.pane;
            select(state, hit.pane, row);
        }
        (pane, _) => state.focus = pane,
    }
    true
}

/// Returns whether the screen changed.
pub(super) fn wheel(state: &mut State, hit: Hit, down: bool) -> bool {
    if let Routed::Taken { redraw } = popup::wheel(state, down) {
        return redraw;
    }
    if hit.pane == Focus::Input {
        return false;
    }
    state.focus = hit.pane;
    let sign = if down { 1 } else { -1 };
    let step = if hit.pane == Focus::Details {
        DETAILS_STEP
    } else {
        1
    };
    move_selection(state, sign * step);
    true
}
