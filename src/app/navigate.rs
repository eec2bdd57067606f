//! Going places and what they need: a visit asks for what the new place shows (only what the
//! store lacks), work left behind waits, `r` asks again, and each answer that lands brings its
//! follow-ups (the related IPs' stats, the newest alerts' related IPs).

use super::history::{Location, Subject};
use super::msg::{Cmd, Record};
use super::remote::Remote;
use super::responses::{Landing, Settled};
use super::selection::clamp_selection;
use super::state::{Focus, State};
use crate::defender::{FetchKey, FetchValue};
use crate::fetch::{FetchEvent, FetchRequest, Priority, Ticket};

/// Enter (or a click on the selected row): open the alert, or pivot to the IP.
pub(super) fn submit(state: &mut State, cmds: &mut Vec<Cmd>) {
    match state.focus {
        Focus::Alerts => open_selected_alert(state, cmds),
        Focus::Ips => pivot_to_selected(state, cmds),
        // The alert pane's device line: Enter there opens the device, as `d` does.
        Focus::Details if state.open_alert().is_some() => open_device(state, cmds),
        Focus::Input | Focus::Details => {}
    }
}

fn open_selected_alert(state: &mut State, cmds: &mut Vec<Cmd>) {
    let Some(loc) = state.location().cloned() else {
        return;
    };
    let Some(alert) = state.selected_alert() else {
        return;
    };
    let Ok(id) = crate::defender::parse_alert_id(&alert.id) else {
        state.last_error = Some(format!(
            "alert id '{}' is not one the API accepts",
            alert.id
        ));
        return;
    };
    go(
        state,
        Location {
            alert: Some(id),
            ip_row: 0,
            ..loc
        },
        cmds,
    );
    state.focus = Focus::Ips;
}

fn pivot_to_selected(state: &mut State, cmds: &mut Vec<Cmd>) {
    let Some(row) = state.selected_related() else {
        return;
    };
    match row.place {
        Some(place) => {
            go(state, Location::of(place), cmds);
            state.focus = Focus::Alerts;
        }
        None => {
            state.last_error = Some(format!(
                "'{}' is not an IP address; cannot pivot",
                row.written
            ))
        }
    }
}

/// Visits a new place and asks for what it shows.
pub(super) fn go(state: &mut State, loc: Location, cmds: &mut Vec<Cmd>) {
    let before = state.visible_keys();
    let visit = Record::Visit(crate::case::Visit {
        subject: Some(loc.subject.clone()),
        alert: loc.alert.clone(),
    });
    if state.history.visit(loc) && state.case.is_some() {
        cmds.push(Cmd::Record(visit));
    }
    arrived(state, &before, cmds);
}

/// Back (`forward = false`) or forward in the trail, if there is somewhere to go.
pub(super) fn step(state: &mut State, forward: bool, cmds: &mut Vec<Cmd>) {
    let before = state.visible_keys();
    let moved = if forward {
        state.history.forward()
    } else {
        state.history.back()
    };
    if moved {
        arrived(state, &before, cmds);
    }
}

/// The trail moved from where `before` was on screen: show the new place and keep the trail.
fn arrived(state: &mut State, before: &[FetchKey], cmds: &mut Vec<Cmd>) {
    arrive(state, cmds);
    demote_left_behind(state, before, cmds);
    save_trail(state, cmds);
}

/// Keeps where the console is, so a reopened case comes back to the same screen.
fn save_trail(state: &State, cmds: &mut Vec<Cmd>) {
    if state.case.is_some() {
        cmds.push(Cmd::Record(Record::Trail(state.history.to_json())));
    }
}

/// Work still loading for a view the analyst left waits behind what is on screen now.
fn demote_left_behind(state: &State, before: &[FetchKey], cmds: &mut Vec<Cmd>) {
    let now = state.visible_keys();
    for key in before.iter().filter(|k| !now.contains(k)) {
        if let Some(ticket) = state.remote(key).awaited() {
            cmds.push(Cmd::Reprioritize(ticket, Priority::Prefetch));
        }
    }
}

/// Shows the current location, fetching only what the store lacks.
pub(super) fn arrive(state: &mut State, cmds: &mut Vec<Cmd>) {
    state.details_scroll = 0;
    // A filter belongs to the table it was typed for.
    state.alert_filter = Default::default();
    let Some(loc) = state.location().cloned() else {
        return;
    };
    state.focus = if loc.alert.is_some() {
        Focus::Ips
    } else {
        Focus::Alerts
    };
    for need in super::place::needs(state, &loc) {
        // What is read from an answer not yet in is asked when that answer lands.
        ensure(state, need.key, need.priority, cmds);
    }
}

/// `d`: the device of the opened alert (else of the selected one), its record and alerts.
pub(super) fn open_device(state: &mut State, cmds: &mut Vec<Cmd>) {
    let alert = state.open_alert().or_else(|| state.selected_alert());
    let Some(alert) = alert else {
        state.notice = Some("open or select an alert to see its device".into());
        return;
    };
    match State::device_id_of(alert) {
        Some(id) => {
            go(state, Location::device(id), cmds);
            state.focus = Focus::Alerts;
        }
        None => {
            state.last_error = Some(format!(
                "alert {} names no device the API can look up",
                alert.id
            ))
        }
    }
}

/// Alerts whose related IPs are fetched ahead, newest first, when an IP's alerts arrive.
const PREFETCH_ALERTS: usize = 3;

/// The related IPs of the focused IP's newest alerts: the likely next step. Prefetch priority
/// only spends budget above the analyst's reserve.
fn prefetch_newest_alerts(state: &mut State, subject: &Subject, cmds: &mut Vec<Cmd>) {
    let ids: Vec<_> = state
        .alerts_at(subject)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| crate::defender::parse_alert_id(&a.id).ok())
        .take(PREFETCH_ALERTS)
        .collect();
    for id in ids {
        let key = FetchKey::AlertIps(id);
        if matches!(state.remote(&key), Remote::Idle) {
            fetch(state, key, Priority::Prefetch, false, cmds);
        }
    }
}

/// Requests `key` unless it is loaded, loading, or failed (failures wait for `r`). A loaded
/// answer reused counts as a store hit; work already queued is raised to `priority`.
pub(super) fn ensure(state: &mut State, key: FetchKey, priority: Priority, cmds: &mut Vec<Cmd>) {
    let remote = state.remote(&key);
    if let Some(ticket) = remote.awaited() {
        // Already asked (say, prefetched, or left behind and now back): raise it.
        cmds.push(Cmd::Reprioritize(ticket, priority));
    }
    match remote {
        Remote::Ready { .. } => {
            *state.store_hits.entry(key.endpoint()).or_default() += 1;
        }
        _ if remote.is_settled_or_pending() => {}
        _ => fetch(state, key, priority, false, cmds),
    }
}

/// Asks for `key`. `refresh` bypasses the cache (`r`); an answer already shown stays on screen
/// until the new one arrives.
fn fetch(state: &mut State, key: FetchKey, priority: Priority, refresh: bool, cmds: &mut Vec<Cmd>) {
    let Some(ticket) = state.responses.begin(key.clone(), refresh) else {
        return;
    };
    let request = FetchRequest::new(key, ticket, priority);
    cmds.push(Cmd::Fetch(if refresh {
        request.refresh()
    } else {
        request
    }));
}

/// `p`: the IP on screen over the next period (1 day, 7 days, 30 days, round). A period
/// already fetched costs no call; the one left, if still loading, waits behind.
pub(super) fn cycle_period(state: &mut State, cmds: &mut Vec<Cmd>) {
    let Some(ip) = state.location().and_then(|l| l.subject.ip()) else {
        state.notice = Some("the period is an IP's prevalence: look up an IP first".into());
        return;
    };
    let before = state.visible_keys();
    let period = state.period_of(ip).next();
    state.periods.insert(ip, period);
    ensure(state, state.stats_key(ip), Priority::Foreground, cmds);
    demote_left_behind(state, &before, cmds);
}

/// `r`: asks again for what is on screen; related IPs' stats only where they failed.
pub(super) fn refresh(state: &mut State, cmds: &mut Vec<Cmd>) {
    let Some(loc) = state.location().cloned() else {
        return;
    };
    for need in super::place::needs(state, &loc) {
        let remote = state.remote(&need.key);
        let failed = matches!(remote, Remote::Failed { .. });
        if (need.on_refresh || failed) && !remote.is_busy() {
            fetch(state, need.key, Priority::Foreground, true, cmds);
        }
    }
    state.last_error = None;
}

/// Word from the scheduler. Returns whether anything on screen changed.
pub(super) fn on_fetch_event(state: &mut State, event: FetchEvent, cmds: &mut Vec<Cmd>) -> bool {
    match event {
        FetchEvent::Budget(budget) => {
            let changed = state.budget != budget;
            state.budget = budget;
            changed
        }
        FetchEvent::Retrying {
            key,
            attempt,
            max,
            error,
        } => {
            let shown = state.responses.retrying(&key, attempt, max);
            if shown {
                state.last_error = Some(format!("{key}: {error} (retrying {attempt}/{max})"));
            }
            shown
        }
        FetchEvent::Done {
            key,
            ticket,
            result,
            at,
            origin,
        } => on_done(state, key, ticket, (result, at, origin), cmds),
    }
}

/// An answer lands (unless its ticket is no longer awaited) and brings its follow-ups.
/// Returns whether it is on screen.
fn on_done(
    state: &mut State,
    key: FetchKey,
    ticket: Ticket,
    (result, at, origin): Landing,
    cmds: &mut Vec<Cmd>,
) -> bool {
    let result = result.map(|mut value| {
        if let FetchValue::Alerts(alerts) = &mut value {
            // Newest first; rows keep this order so selections stay put.
            crate::defender::model::newest_first(alerts);
        }
        value
    });
    match state
        .responses
        .settle(key.clone(), ticket, (result, at, origin))
    {
        Settled::Stale => return false,
        Settled::Shown => {}
        Settled::KeptOlder(error) => {
            state.last_error = Some(format!("{key}: could not refresh: {error}"));
        }
        Settled::Failed(error) => state.last_error = Some(format!("{key}: {error}")),
    }
    let visible = state.visible_keys().contains(&key);
    if let Some(loc) = state.location()
        && key == loc.subject.alerts_key()
    {
        let subject = loc.subject.clone();
        prefetch_newest_alerts(state, &subject, cmds);
    }
    // The needs read from this answer can be asked now: the related IPs' prevalence once the
    // list is in, the opened alert's device once the subject's alerts are.
    for need in state.needs() {
        if need.after.as_ref() == Some(&key) {
            ensure(state, need.key, need.priority, cmds);
        }
    }
    clamp_selection(state);
    visible
}
