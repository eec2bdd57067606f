//! What a key does. The open popup has it first (`popup::key`); then the alerts filter or the
//! input box when one is being typed in; then the keymap's action for the focused pane.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

use super::casework;
use super::history::Location;
use super::keymap::{Action, is_interrupt};
use super::msg::Cmd;
use super::navigate;
use super::overlay::{Overlay, TreeView};
use super::popup;
use super::selection::{PAGE, cycle_focus, move_selection, select_alert_row};
use super::state::{Focus, State};

/// A key pressed (or repeated); releases never get here.
pub(super) fn on_key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    if is_interrupt(&key) {
        cmds.push(Cmd::Quit);
        return;
    }
    if state.keymap.action_for(&key) == Some(Action::Suspend) {
        // Ctrl-Z suspends from anywhere, editors included, as in less and vim; a plain
        // character bound to it stays text where text is typed.
        let text = is_text(&key);
        let typing = matches!(state.overlay, Overlay::Editor(_))
            || state.alert_filter.editing
            || state.focus == Focus::Input;
        if !(text && typing) {
            cmds.push(Cmd::Suspend);
            return;
        }
    }
    if popup::key(state, key, cmds) {
        return;
    }
    // The filter is typed in the alerts pane, not over it: a typing mode, like the input box.
    if state.alert_filter.editing {
        filter_key(state, key);
        return;
    }
    state.notice = None;
    let action = state.keymap.action_for(&key);
    if state.focus == Focus::Input {
        input_key(state, key, action, cmds);
        return;
    }
    let Some(action) = action else { return };
    match action {
        Action::Quit => cmds.push(Cmd::Quit),
        Action::Help => state.overlay = Overlay::Help,
        Action::Budget => state.overlay = Overlay::Budget,
        // `/` filters a table that lists something; with nothing listed it would type into an
        // invisible filter, so it goes to the IP box as `i` does.
        Action::FocusInput
            if state.focus == Focus::Alerts
                && key.code == KeyCode::Char('/')
                && alerts_listed(state) =>
        {
            state.alert_filter.editing = true
        }
        Action::FocusInput => state.focus = Focus::Input,
        Action::Sort => {
            state.alert_sort = state.alert_sort.next();
            select_alert_row(state, 0);
        }
        Action::Dismiss => {}
        Action::Suspend => {} // taken above, before any pane or popup sees the key
        Action::NextPane => cycle_focus(state, true),
        Action::PrevPane => cycle_focus(state, false),
        Action::Down => move_selection(state, 1),
        Action::Up => move_selection(state, -1),
        Action::PageDown => move_selection(state, PAGE as isize),
        Action::PageUp => move_selection(state, -(PAGE as isize)),
        Action::Top => move_selection(state, isize::MIN / 2),
        Action::Bottom => move_selection(state, isize::MAX / 2),
        Action::Back => navigate::step(state, false, cmds),
        Action::Forward => navigate::step(state, true, cmds),
        Action::Refresh => navigate::refresh(state, cmds),
        Action::Device => navigate::open_device(state, cmds),
        Action::HeldAt => casework::open_held_at(state),
        Action::Period => navigate::cycle_period(state, cmds),
        Action::Note => casework::open_note(state),
        Action::Tree => {
            let rows = state.tree_rows();
            state.overlay = Overlay::Tree(TreeView {
                row: rows.iter().position(|r| r.current).unwrap_or(0),
                ..Default::default()
            });
        }
        Action::Copy | Action::Open => match casework::selected_target(state) {
            Some(target) => cmds.push(if action == Action::Copy {
                Cmd::Copy(target.id())
            } else {
                Cmd::Open(portal_link(state, &target))
            }),
            None => state.notice = Some("look up an IP first".into()),
        },
        Action::Tag => casework::open_tag(state),
        Action::Export => casework::export(state, cmds),
        Action::Submit => navigate::submit(state, cmds),
    }
}

/// A plain character, which is text wherever text is typed.
fn is_text(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_)) && !key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Keys in the input box.
fn input_key(state: &mut State, key: KeyEvent, action: Option<Action>, cmds: &mut Vec<Cmd>) {
    // A plain character is always text here, whatever it is bound to: q, [, j and friends
    // type. Keys no one types (Enter, Esc, Tab, arrows, Ctrl-…) keep these actions.
    match action.filter(|_| !is_text(&key)) {
        Some(Action::Submit) => {
            if let Some(typed) = state.input.submit() {
                navigate::go(state, Location::of(typed.subject), cmds);
                state.focus = Focus::Alerts;
                // `::ffff:10.209.67.177` is looked up as 10.209.67.177: said, not silent.
                if let Some(said) = typed.read_past {
                    state.notice = Some(said);
                }
            }
        }
        Some(Action::Dismiss) => state.focus = Focus::Alerts,
        Some(Action::NextPane | Action::PrevPane) => {
            cycle_focus(state, action == Some(Action::NextPane))
        }
        // Up and down walk back through the IPs looked up.
        Some(Action::Up) => state.input.walk(true),
        Some(Action::Down) => state.input.walk(false),
        _ => state.input.type_key(key),
    }
}

/// Whether the alerts table has alerts to filter (before any filter).
fn alerts_listed(state: &State) -> bool {
    state
        .location()
        .and_then(|at| state.alerts_at(&at.subject))
        .is_some_and(|alerts| !alerts.is_empty())
}

/// Keys while the alerts filter is typed: Enter keeps it, Esc clears it.
fn filter_key(state: &mut State, key: KeyEvent) {
    match key.code {
        KeyCode::Enter => state.alert_filter.editing = false,
        KeyCode::Esc => state.alert_filter = Default::default(),
        _ => {
            if state
                .alert_filter
                .input
                .handle_event(&Event::Key(key))
                .is_some_and(|c| c.value)
            {
                select_alert_row(state, 0);
            }
        }
    }
}

fn portal_link(state: &State, target: &crate::case::Target) -> String {
    target.portal_link(&state.portal, state.tenant_id.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Subject;

    fn press(state: &mut State, code: KeyCode) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        on_key(state, KeyEvent::new(code, KeyModifiers::NONE), &mut cmds);
        cmds
    }

    /// Types `text` into the input box and presses Enter.
    fn submit(state: &mut State, text: &str) -> Vec<Cmd> {
        state.focus = Focus::Input;
        for c in text.chars() {
            press(state, KeyCode::Char(c));
        }
        press(state, KeyCode::Enter)
    }

    #[test]
    fn enter_looks_up_the_ip_typed_and_says_what_it_read_past() {
        let mut s = State::new(None, "api");
        let cmds = submit(&mut s, "::ffff:10.209.67.177");
        let ip = Subject::Ip("10.209.67.177".parse().unwrap());
        assert_eq!(s.location().map(|l| &l.subject), Some(&ip));
        assert!(cmds.iter().any(|c| matches!(c, Cmd::Fetch(_))));
        let said = "::ffff:10.209.67.177: IPv4-mapped, looked up as 10.209.67.177";
        assert_eq!(
            (s.notice.as_deref(), s.input.read_past()),
            (Some(said), Some(said))
        );
        assert_eq!(s.input.history(), ["10.209.67.177"]);
        assert_eq!((s.focus, s.input.value()), (Focus::Alerts, ""));
    }

    #[test]
    fn a_device_id_typed_is_refused_as_not_an_ip() {
        let mut s = State::new(None, "api");
        let hex = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
        let cmds = submit(&mut s, hex);
        assert!(cmds.is_empty());
        assert_eq!(s.location(), None);
        let refused = format!("'{hex}' is not an IPv4 or IPv6 address");
        assert_eq!(s.input.error(), Some(refused.as_str()));
        assert_eq!((s.focus, s.input.value()), (Focus::Input, hex));
    }
}
