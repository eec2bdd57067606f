//! Mouse clicks and the wheel. A click focuses the pane under it and selects the row it points
//! at; a click on the row already selected opens it, as Enter would. The wheel moves through
//! the list (or scrolls the alert) under the pointer. The loop finds what is under the pointer
//! (`ui::hit`, from the layout the screen was drawn with); this decides what it means.

use super::msg::Cmd;
use super::selection::{move_selection, select, selected_row};
use super::state::{Focus, State};
use super::update;

/// A pane, and the row of its list, under the pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub pane: Focus,
    pub row: Option<usize>,
}

/// Lines the alert's details scroll per wheel step; lists move one row, to stay precise.
const DETAILS_STEP: isize = 3;

pub(super) fn click(state: &mut State, hit: Hit, cmds: &mut Vec<Cmd>) {
    // A popup has the keys; a click elsewhere closes the passive ones, and never edits.
    if state.editor.is_some() || state.tree.is_some() {
        return;
    }
    state.dirty = true;
    if state.show_help || state.show_budget {
        (state.show_help, state.show_budget) = (false, false);
        return;
    }
    state.notice = None;
    // A filter being typed is kept, as Enter would keep it.
    state.alert_filter.editing = false;
    let selected = selected_row(state, hit.pane);
    match (hit.pane, hit.row) {
        (Focus::Alerts | Focus::Ips, Some(row))
            if state.focus == hit.pane && selected == Some(row) =>
        {
            update::submit(state, cmds);
        }
        (Focus::Alerts | Focus::Ips, Some(row)) => {
            state.focus = hit.pane;
            select(state, hit.pane, row);
        }
        (pane, _) => state.focus = pane,
    }
}

pub(super) fn wheel(state: &mut State, hit: Hit, down: bool) {
    let sign = if down { 1 } else { -1 };
    let tree_rows = state.tree.is_some().then(|| state.tree_rows().len());
    if let (Some(tree), Some(rows)) = (state.tree.as_mut(), tree_rows) {
        tree.row = (tree.row as isize + sign).clamp(0, rows.saturating_sub(1) as isize) as usize;
        state.dirty = true;
        return;
    }
    if state.popup() || hit.pane == Focus::Input {
        return;
    }
    state.dirty = true;
    state.focus = hit.pane;
    let step = if hit.pane == Focus::Details {
        DETAILS_STEP
    } else {
        1
    };
    move_selection(state, sign * step);
}
