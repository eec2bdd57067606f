//! `update`: the only place state changes, and only a dispatcher: each [`Msg`] goes to its
//! handler. Pure: it reads no clock and does no I/O; it returns the [`Cmd`]s for the loop to
//! run, and marks the state dirty when the screen may now read differently.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEventKind;

use super::msg::{Cmd, Msg};
use super::remote::Remote;
use super::state::State;
use super::{keys, mouse, navigate, popup};

pub fn update(state: &mut State, msg: Msg) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    let changed = match msg {
        Msg::Start => {
            navigate::arrive(state, &mut cmds);
            false
        }
        Msg::Key(key) if key.kind == KeyEventKind::Release => false,
        Msg::Key(key) => {
            keys::on_key(state, key, &mut cmds);
            true
        }
        Msg::Paste(text) => {
            popup::paste(state, &text, &mut cmds);
            true
        }
        Msg::Click(hit) => mouse::click(state, hit, &mut cmds),
        Msg::Wheel { at, down } => mouse::wheel(state, at, down),
        Msg::Clock(now) => clock(state, now),
        Msg::Saving(problem) => {
            state.save_error = problem;
            true
        }
        Msg::Notice(message) => {
            state.notice = Some(message);
            true
        }
        Msg::Resize => true,
        Msg::Tick => {
            state.spinner = state.spinner.wrapping_add(1);
            true
        }
        Msg::Fetch(event) => navigate::on_fetch_event(state, event, &mut cmds),
    };
    if changed {
        state.dirty = true;
    }
    state.refresh_rows();
    cmds
}

#[cfg(test)]
mod tests;

/// The clock moved: redraw only if an age on screen now reads differently (the answer).
fn clock(state: &mut State, now: DateTime<Utc>) -> bool {
    let before = shown_ages(state);
    state.now = Some(now);
    shown_ages(state) != before
}

fn shown_ages(state: &State) -> Vec<String> {
    state
        .visible_keys()
        .iter()
        .filter_map(|k| match state.remote(k) {
            Remote::Ready { as_of, .. } => Some(crate::text::age(*as_of, state.now?)),
            _ => None,
        })
        .collect()
}
