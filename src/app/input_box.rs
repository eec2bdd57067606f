//! The IP input's memory and its paste: Up/Down walk the IPs looked up before (this session
//! and the reopened case's trail), and a pasted list of indicators is offered as a queue.

use std::net::IpAddr;

use crossterm::event::{KeyCode, KeyEvent};
use tui_input::Input;

use super::history::Location;
use super::msg::Cmd;
use super::state::{Focus, State};
use crate::defender::{FetchKey, parse_ip};
use crate::fetch::Priority;

/// Most IPs kept for Up/Down.
const HISTORY: usize = 100;

/// A looked-up IP becomes the newest entry of the input's history.
pub fn remember(state: &mut State, ip: IpAddr) {
    let text = ip.to_string();
    state.input_history.retain(|h| *h != text);
    state.input_history.push(text);
    if state.input_history.len() > HISTORY {
        state.input_history.remove(0);
    }
    state.input_history_pos = None;
}

/// Up (`older = true`) or Down in the input: the previous or next IP looked up.
pub fn walk(state: &mut State, older: bool) {
    let n = state.input_history.len();
    if n == 0 {
        return;
    }
    let pos = match (state.input_history_pos, older) {
        (None, true) => Some(n - 1),
        (None, false) => None,
        (Some(0), true) => Some(0),
        (Some(i), true) => Some(i - 1),
        (Some(i), false) if i + 1 < n => Some(i + 1),
        (Some(_), false) => None,
    };
    state.input_history_pos = pos;
    state.input = Input::new(
        pos.map(|i| state.input_history[i].clone())
            .unwrap_or_default(),
    );
    state.input_error = None;
}

/// Pasted text: one indicator goes into the input; several valid IPs are offered as a queue.
pub fn paste(state: &mut State, text: &str) {
    let ips: Vec<IpAddr> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '|'))
        .filter_map(|part| parse_ip(part).ok())
        .fold(Vec::new(), |mut acc, ip| {
            if !acc.contains(&ip) {
                acc.push(ip);
            }
            acc
        });
    state.focus = Focus::Input;
    state.input_error = None;
    state.dirty = true;
    if ips.len() >= 2 {
        state.notice = Some(format!(
            "{} IPs pasted: Enter looks them all up (the first now, the rest queued) · Esc keeps only the first",
            ips.len()
        ));
        state.paste_offer = Some(ips);
        return;
    }
    // One line, no controls: a pasted indicator often carries a trailing newline.
    let flat: String = crate::defender::sanitize::one_line(text).trim().to_owned();
    state.input = Input::new(format!("{}{}", state.input.value(), flat));
}

/// Keys while a pasted list waits for an answer. Returns whether the key was the answer.
pub fn offer_key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) -> bool {
    let Some(ips) = state.paste_offer.take() else {
        return false;
    };
    state.notice = None;
    match key.code {
        KeyCode::Enter => {
            for ip in ips.iter().skip(1) {
                // Their answers fill the store in the background; Up/Down or the trail reach
                // them later without waiting.
                for key in [FetchKey::IpStats(*ip), FetchKey::IpAlerts(*ip)] {
                    super::update::ensure(state, key, Priority::Prefetch, cmds);
                }
                remember(state, *ip);
            }
            state.input.reset();
            super::update::go(state, Location::ip(ips[0]), cmds);
            remember(state, ips[0]);
            state.focus = Focus::Alerts;
            state.notice = Some(format!(
                "{} more IPs queued: Up in the input box brings them back",
                ips.len() - 1
            ));
            true
        }
        KeyCode::Esc => {
            state.input = Input::new(ips[0].to_string());
            true
        }
        // Anything else: the offer lapses and the key does what it always does.
        _ => false,
    }
}
