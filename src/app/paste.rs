//! Pasted text outside an editor: one indicator goes into the input box; several valid IPs are
//! offered as a queue (the [`Overlay::Paste`] popup) until Enter looks them all up or Esc keeps
//! only the first.

use crossterm::event::{KeyCode, KeyEvent};

use super::history::Location;
use super::msg::Cmd;
use super::navigate;
use super::overlay::Overlay;
use super::state::{Focus, State};
use crate::defender::{FetchKey, indicator};
use crate::fetch::Priority;

/// Bracketed paste into the input box: a ticket, an e-mail or a list is read for every IP in
/// it. Several, or one beside something refused, are offered as a queue with what was found
/// and skipped; a lone indicator goes into the box, its line break and invisibles gone.
pub(super) fn paste(state: &mut State, text: &str) {
    let reading = indicator::read(text);
    state.focus = Focus::Input;
    state.input.clear_error();
    let ips = reading.ips();
    if ips.len() >= 2 || (!ips.is_empty() && !reading.skipped.is_empty()) {
        state.notice = Some(format!(
            "{} · Enter looks {} up (the first now, the rest queued) · Esc keeps only the first",
            reading.summary(),
            if ips.len() == 1 { "it" } else { "them all" },
        ));
        // The offer takes the keys: a filter being typed is kept, as a click would keep it.
        state.alert_filter.editing = false;
        state.overlay = Overlay::Paste(ips, reading.summary());
        return;
    }
    // Nothing to look up and several refused: say each, the box would say only one.
    if ips.is_empty() && reading.skipped.len() > 1 {
        state.notice = Some(reading.summary());
    }
    state.input.append(&indicator::tidy(text));
}

/// Keys while a pasted list waits for an answer. Returns whether the key was the answer.
pub(super) fn offer_key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) -> bool {
    let ips = match std::mem::take(&mut state.overlay) {
        Overlay::Paste(ips, _) => ips,
        other => {
            state.overlay = other;
            return false;
        }
    };
    state.notice = None;
    match key.code {
        KeyCode::Enter => {
            for ip in ips.iter().skip(1) {
                // Their answers fill the store in the background; Up/Down or the trail reach
                // them later without waiting.
                for key in [state.stats_key(*ip), FetchKey::IpAlerts(*ip)] {
                    navigate::ensure(state, key, Priority::Prefetch, cmds);
                }
                state.input.remember(*ip);
            }
            state.input.clear();
            navigate::go(state, Location::ip(ips[0]), cmds);
            state.input.remember(ips[0]);
            state.focus = Focus::Alerts;
            state.notice = Some(format!(
                "{} more IPs queued: Up in the input box brings them back",
                ips.len() - 1
            ));
            true
        }
        KeyCode::Esc => {
            state.input.set(ips[0].to_string());
            true
        }
        // Anything else: the offer lapses and the key does what it always does.
        _ => false,
    }
}
