//! The open popup gets keys, clicks, the wheel and pastes before the panes do: one arm per
//! [`Overlay`] in each, so a new popup is an arm here, its handler and its draw function.

use crossterm::event::KeyEvent;

use super::casework;
use super::keymap::Action;
use super::msg::Cmd;
use super::overlay::Overlay;
use super::paste;
use super::state::State;
use super::tree;

/// What the open popup did with a click or a wheel step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Routed {
    /// No popup wants it: the panes get it.
    Passed,
    /// The popup took it; `redraw` if that changed the screen.
    Taken { redraw: bool },
}

/// Returns whether the open popup took the key.
pub(super) fn key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) -> bool {
    match state.overlay {
        Overlay::None => false,
        Overlay::Help | Overlay::Budget => {
            info_key(state, key, cmds);
            true
        }
        Overlay::Tree(_) => {
            tree::key(state, key, cmds);
            true
        }
        Overlay::Editor(_) => {
            casework::editor_key(state, key, cmds);
            true
        }
        Overlay::Paste(..) => paste::offer_key(state, key, cmds),
    }
}

/// A click anywhere: closes the passive popups, and never edits or moves the tree.
pub(super) fn click(state: &mut State) -> Routed {
    match state.overlay {
        Overlay::None | Overlay::Paste(..) => Routed::Passed,
        Overlay::Help | Overlay::Budget => {
            state.overlay = Overlay::None;
            Routed::Taken { redraw: true }
        }
        Overlay::Tree(_) | Overlay::Editor(_) => Routed::Taken { redraw: false },
    }
}

/// A wheel step: moves the tree's cursor; the other popups keep the panes still.
pub(super) fn wheel(state: &mut State, down: bool) -> Routed {
    match state.overlay {
        Overlay::None | Overlay::Paste(..) => Routed::Passed,
        Overlay::Tree(_) => {
            tree::wheel(state, down);
            Routed::Taken { redraw: true }
        }
        Overlay::Help | Overlay::Budget | Overlay::Editor(_) => Routed::Taken { redraw: false },
    }
}

/// Bracketed paste: into the open editor, else into the input box.
pub(super) fn paste(state: &mut State, text: &str, cmds: &mut Vec<Cmd>) {
    match state.overlay {
        Overlay::Editor(_) => casework::paste(state, text, cmds),
        Overlay::None | Overlay::Help | Overlay::Budget | Overlay::Tree(_) | Overlay::Paste(..) => {
            paste::paste(state, text)
        }
    }
}

/// Keys while help or the budget is shown: each toggles its own, swaps for the other, and
/// Esc closes.
fn info_key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    state.notice = None;
    match state.keymap.action_for(&key) {
        Some(Action::Quit) => cmds.push(Cmd::Quit),
        Some(Action::Dismiss) => state.overlay = Overlay::None,
        Some(Action::Help) => toggle(state, Overlay::Help),
        Some(Action::Budget) => toggle(state, Overlay::Budget),
        _ => {}
    }
}

/// Opens `popup`, or closes it when it is the one open.
fn toggle(state: &mut State, popup: Overlay) {
    let open = std::mem::discriminant(&state.overlay) == std::mem::discriminant(&popup);
    state.overlay = if open { Overlay::None } else { popup };
}
