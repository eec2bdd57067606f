//! Which pane has the keys and which row is selected in each list: moved by keys, the wheel
//! and clicks, and kept inside the lists as their contents change.

use super::state::{Focus, State};

/// Rows moved by PageUp/PageDown.
pub(super) const PAGE: usize = 10;

/// The row selected in `pane`'s list, if it has one.
pub(super) fn selected_row(state: &State, pane: Focus) -> Option<usize> {
    let loc = state.location()?;
    match pane {
        Focus::Alerts => Some(loc.alert_row),
        Focus::Ips => Some(loc.ip_row),
        Focus::Input | Focus::Details => None,
    }
}

/// Selects `row` in `pane`'s list (a pane without one is left alone).
pub(super) fn select(state: &mut State, pane: Focus, row: usize) {
    if let Some(loc) = state.history.current_mut() {
        match pane {
            Focus::Alerts => loc.alert_row = row,
            Focus::Ips => loc.ip_row = row,
            Focus::Input | Focus::Details => {}
        }
    }
}

pub(super) fn select_alert_row(state: &mut State, row: usize) {
    select(state, Focus::Alerts, row);
}

pub(super) fn cycle_focus(state: &mut State, forward: bool) {
    let order = Focus::ORDER;
    let i = order.iter().position(|f| *f == state.focus).unwrap_or(0);
    let n = order.len();
    state.focus = order[if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }];
}

pub(super) fn move_selection(state: &mut State, delta: isize) {
    if state.focus == Focus::Details {
        let scroll = state.details_scroll as isize + delta;
        state.details_scroll = scroll.clamp(0, u16::MAX as isize) as u16;
        return;
    }
    let (alerts_len, ips_len) = list_lengths(state);
    let focus = state.focus;
    let Some(loc) = state.history.current_mut() else {
        return;
    };
    let (row, len) = match focus {
        Focus::Alerts => (&mut loc.alert_row, alerts_len),
        Focus::Ips => (&mut loc.ip_row, ips_len),
        _ => return,
    };
    if len > 0 {
        *row = (*row as isize)
            .saturating_add(delta)
            .clamp(0, len as isize - 1) as usize;
    }
}

fn list_lengths(state: &State) -> (usize, usize) {
    if state.location().is_none() {
        return (0, 0);
    }
    (state.shown_len(), state.related_len())
}

/// Keeps selections inside their lists. A list not loaded yet (0 rows) leaves its selection
/// alone: a restored or revisited place keeps its row while its data is on the way.
pub(super) fn clamp_selection(state: &mut State) {
    let (alerts_len, ips_len) = list_lengths(state);
    if let Some(loc) = state.history.current_mut() {
        if alerts_len > 0 {
            loc.alert_row = loc.alert_row.min(alerts_len - 1);
        }
        if ips_len > 0 {
            loc.ip_row = loc.ip_row.min(ips_len - 1);
        }
    }
}
