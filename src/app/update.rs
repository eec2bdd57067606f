//! `update`: the only place state changes. Pure: it reads no clock and does no I/O; it returns
//! the [`Cmd`]s for the loop to run.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

use super::casework;
use super::history::Location;
use super::keymap::{Action, is_interrupt};
use super::msg::{Cmd, Msg, Record};
use super::remote::Remote;
use super::selection::{PAGE, clamp_selection, cycle_focus, move_selection, select_alert_row};
use super::state::{Focus, State};
use crate::defender::{FetchKey, FetchValue, RelatedIp, parse_ip};
use crate::fetch::{FetchEvent, FetchRequest, Origin, Priority};

pub fn update(state: &mut State, msg: Msg) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    match msg {
        Msg::Start => arrive(state, &mut cmds),
        Msg::Key(key) => on_key(state, key, &mut cmds),
        Msg::Paste(text) if state.editor.is_some() => casework::paste(state, &text, &mut cmds),
        Msg::Paste(text) => super::input_box::paste(state, &text),
        Msg::Click(hit) => super::mouse::click(state, hit, &mut cmds),
        Msg::Wheel { at, down } => super::mouse::wheel(state, at, down),
        Msg::Clock(now) => casework::clock(state, now),
        Msg::Saving(problem) => {
            state.save_error = problem;
            state.dirty = true;
        }
        Msg::Notice(message) => {
            state.notice = Some(message);
            state.dirty = true;
        }
        Msg::Resize => state.dirty = true,
        Msg::Tick => {
            state.spinner = state.spinner.wrapping_add(1);
            state.dirty = true;
        }
        Msg::Fetch(event) => on_fetch_event(state, event, &mut cmds),
    }
    state.refresh_rows();
    cmds
}

fn on_key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    state.dirty = true;
    if is_interrupt(&key) {
        cmds.push(Cmd::Quit);
        return;
    }
    if state.keymap.action_for(&key) == Some(Action::Suspend) {
        // Ctrl-Z suspends from anywhere, editors included, as in less and vim; a plain
        // character bound to it stays text where text is typed.
        let text =
            matches!(key.code, KeyCode::Char(_)) && !key.modifiers.contains(KeyModifiers::CONTROL);
        let typing =
            state.editor.is_some() || state.alert_filter.editing || state.focus == Focus::Input;
        if !(text && typing) {
            cmds.push(Cmd::Suspend);
            return;
        }
    }
    if state.editor.is_some() {
        casework::editor_key(state, key, cmds);
        return;
    }
    if state.alert_filter.editing {
        filter_key(state, key);
        return;
    }
    if super::input_box::offer_key(state, key, cmds) {
        return;
    }
    if state.tree.is_some() {
        tree_key(state, key, cmds);
        return;
    }
    state.notice = None;
    let action = state.keymap.action_for(&key);
    if state.popup() {
        match action {
            Some(Action::Quit) => cmds.push(Cmd::Quit),
            Some(Action::Dismiss) => (state.show_help, state.show_budget) = (false, false),
            Some(Action::Help) => {
                state.show_help = !state.show_help;
                state.show_budget = false;
            }
            Some(Action::Budget) => {
                state.show_budget = !state.show_budget;
                state.show_help = false;
            }
            _ => {}
        }
        return;
    }
    if state.focus == Focus::Input {
        // A plain character is always text here, whatever it is bound to: q, [, j and friends
        // type. Keys no one types (Enter, Esc, Tab, arrows, Ctrl-…) keep these actions.
        let typed =
            matches!(key.code, KeyCode::Char(_)) && !key.modifiers.contains(KeyModifiers::CONTROL);
        match action.filter(|_| !typed) {
            Some(Action::Submit) => submit_input(state, cmds),
            Some(Action::Dismiss) => state.focus = Focus::Alerts,
            Some(Action::NextPane | Action::PrevPane) => {
                cycle_focus(state, action == Some(Action::NextPane))
            }
            // Up and down walk back through the IPs looked up.
            Some(Action::Up) => super::input_box::walk(state, true),
            Some(Action::Down) => super::input_box::walk(state, false),
            _ => {
                if state.input.handle_event(&Event::Key(key)).is_some() {
                    state.input_error = None;
                }
            }
        }
        return;
    }
    let Some(action) = action else { return };
    match action {
        Action::Quit => cmds.push(Cmd::Quit),
        Action::Help => state.show_help = true,
        Action::Budget => state.show_budget = true,
        Action::FocusInput if state.focus == Focus::Alerts && key.code == KeyCode::Char('/') => {
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
        Action::Back => {
            let before = state.visible_keys();
            if state.history.back() {
                arrive(state, cmds);
                demote_left_behind(state, &before, cmds);
                casework::save_trail(state, cmds);
            }
        }
        Action::Forward => {
            let before = state.visible_keys();
            if state.history.forward() {
                arrive(state, cmds);
                demote_left_behind(state, &before, cmds);
                casework::save_trail(state, cmds);
            }
        }
        Action::Refresh => refresh(state, cmds),
        Action::Note => casework::open_note(state),
        Action::Tree => {
            let rows = state.tree_rows();
            state.tree = Some(super::tree::TreeView {
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
        Action::Submit => submit(state, cmds),
    }
}

/// Enter (or a click on the selected row): open the alert, or pivot to the IP.
pub(super) fn submit(state: &mut State, cmds: &mut Vec<Cmd>) {
    match state.focus {
        Focus::Alerts => open_selected_alert(state, cmds),
        Focus::Ips => pivot_to_selected_ip(state, cmds),
        Focus::Input | Focus::Details => {}
    }
}

/// Keys in the investigation tree: move, fold an IP, jump with Enter, leave with Esc or g.
fn tree_key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    use super::tree::Node;
    let rows = state.tree_rows();
    let Some(tree) = state.tree.as_mut() else {
        return;
    };
    let node = rows.get(tree.row).map(|r| r.node.clone());
    match (state.keymap.action_for(&key), key.code) {
        (Some(Action::Quit), _) => cmds.push(Cmd::Quit),
        (Some(Action::Dismiss | Action::Tree), _) => state.tree = None,
        (Some(Action::Down), _) => tree.row = (tree.row + 1).min(rows.len().saturating_sub(1)),
        (Some(Action::Up), _) => tree.row = tree.row.saturating_sub(1),
        (_, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
            if let Some(Node::Ip(ip)) = node {
                let fold = match key.code {
                    KeyCode::Left => true,
                    KeyCode::Right => false,
                    _ => !tree.collapsed.contains(&ip),
                };
                if fold {
                    tree.collapsed.insert(ip);
                } else {
                    tree.collapsed.remove(&ip);
                }
            }
        }
        (Some(Action::Submit), _) => {
            if let Some(node) = node {
                state.tree = None;
                go(state, node.location(), cmds);
            }
        }
        _ => {}
    }
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
    let tenant = state.tenant_id.as_deref();
    match target {
        crate::case::Target::Ip(ip) => {
            crate::defender::portal::ip_link(&state.portal, tenant, &ip.to_string())
        }
        crate::case::Target::Alert(id) => {
            crate::defender::portal::alert_link(&state.portal, tenant, id.as_str())
        }
    }
}

fn submit_input(state: &mut State, cmds: &mut Vec<Cmd>) {
    match parse_ip(state.input.value()) {
        Ok(ip) => {
            state.input.reset();
            state.input_error = None;
            super::input_box::remember(state, ip);
            go(state, Location::ip(ip), cmds);
            state.focus = Focus::Alerts;
        }
        Err(e) => state.input_error = Some(e.to_string()),
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

fn pivot_to_selected_ip(state: &mut State, cmds: &mut Vec<Cmd>) {
    let Some(loc) = state.location() else { return };
    let Some(id) = &loc.alert else { return };
    let Some(entry) = state.related_ips_of(id).and_then(|ips| ips.get(loc.ip_row)) else {
        return;
    };
    match entry.addr() {
        Some(ip) => {
            go(state, Location::ip(ip), cmds);
            state.focus = Focus::Alerts;
        }
        None => {
            state.last_error = Some(format!("'{}' is not an IP address; cannot pivot", entry.id))
        }
    }
}

/// Visits a new place and asks for what it shows.
pub(super) fn go(state: &mut State, loc: Location, cmds: &mut Vec<Cmd>) {
    let before = state.visible_keys();
    let visit = Record::Visit {
        ip: loc.ip.to_string(),
        alert: loc.alert.as_ref().map(ToString::to_string),
    };
    if state.history.visit(loc) && state.case.is_some() {
        cmds.push(Cmd::Record(visit));
    }
    arrive(state, cmds);
    demote_left_behind(state, &before, cmds);
    casework::save_trail(state, cmds);
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
fn arrive(state: &mut State, cmds: &mut Vec<Cmd>) {
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
    ensure(state, FetchKey::IpStats(loc.ip), Priority::Foreground, cmds);
    ensure(
        state,
        FetchKey::IpAlerts(loc.ip),
        Priority::Foreground,
        cmds,
    );
    if let Some(id) = loc.alert {
        ensure(
            state,
            FetchKey::AlertIps(id.clone()),
            Priority::Foreground,
            cmds,
        );
        related_stats(state, &id, cmds);
    }
}

/// Alerts whose related IPs are fetched ahead, newest first, when an IP's alerts arrive.
const PREFETCH_ALERTS: usize = 3;

/// The related IPs of the focused IP's newest alerts: the likely next step. Prefetch priority
/// only spends budget above the analyst's reserve.
fn prefetch_newest_alerts(state: &mut State, ip: std::net::IpAddr, cmds: &mut Vec<Cmd>) {
    let ids: Vec<_> = state
        .alerts_of(ip)
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

/// The prevalence of each related IP, as the analyst will want it next to the list.
fn related_stats(state: &mut State, id: &crate::defender::AlertId, cmds: &mut Vec<Cmd>) {
    let ips: Vec<_> = state
        .related_ips_of(id)
        .map(|ips| ips.iter().filter_map(RelatedIp::addr).collect())
        .unwrap_or_default();
    for ip in ips {
        ensure(state, FetchKey::IpStats(ip), Priority::Visible, cmds);
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
    let ticket = state.ticket();
    let request = FetchRequest::new(key.clone(), ticket, priority);
    let request = if refresh { request.refresh() } else { request };
    state.generation += 1;
    match state.store.get_mut(&key) {
        Some(Remote::Ready { refreshing, .. }) => *refreshing = Some(ticket),
        _ => {
            state.store.insert(
                key,
                Remote::Loading {
                    ticket,
                    retry: None,
                },
            );
        }
    }
    cmds.push(Cmd::Fetch(request));
}

/// `r`: asks again for what is on screen; related IPs' stats only where they failed.
fn refresh(state: &mut State, cmds: &mut Vec<Cmd>) {
    let Some(loc) = state.location().cloned() else {
        return;
    };
    let mut main = vec![FetchKey::IpStats(loc.ip), FetchKey::IpAlerts(loc.ip)];
    if let Some(id) = &loc.alert {
        main.push(FetchKey::AlertIps(id.clone()));
    }
    for key in state.visible_keys() {
        let failed = matches!(state.remote(&key), Remote::Failed { .. });
        if (main.contains(&key) || failed) && !state.remote(&key).is_busy() {
            fetch(state, key, Priority::Foreground, true, cmds);
        }
    }
    state.last_error = None;
}

fn on_fetch_event(state: &mut State, event: FetchEvent, cmds: &mut Vec<Cmd>) {
    match event {
        FetchEvent::Budget(budget) => {
            if state.budget != budget {
                state.budget = budget;
                state.dirty = true;
            }
        }
        FetchEvent::Retrying {
            key,
            attempt,
            max,
            error,
        } => {
            if let Some(Remote::Loading { retry, .. }) = state.store.get_mut(&key) {
                *retry = Some((attempt, max));
                state.last_error = Some(format!("{key}: {error} (retrying {attempt}/{max})"));
                state.dirty = true;
            }
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

/// An answer, when the API gave it, and where it came from.
type Answer = (
    Result<FetchValue, crate::defender::ApiError>,
    chrono::DateTime<chrono::Utc>,
    Origin,
);

/// A ticket's answer lands in the store, unless the ticket is no longer awaited. A stale
/// cached answer is shown at once and marked refreshing; the fresh one replaces it, or, if the
/// refresh fails, the stale one stays, said to be older.
fn on_done(
    state: &mut State,
    key: FetchKey,
    ticket: crate::fetch::Ticket,
    (result, at, origin): Answer,
    cmds: &mut Vec<Cmd>,
) {
    if state.remote(&key).awaited() != Some(ticket) {
        return; // stale: refreshed since, or never asked
    }
    let previous = state.store.remove(&key);
    state.generation += 1;
    let remote = match (result, previous) {
        (Ok(mut value), _) => {
            if let FetchValue::Alerts(alerts) = &mut value {
                // Newest first; rows keep this order so selections stay put.
                crate::defender::model::newest_first(alerts);
            }
            let (cached, refreshing) = match origin {
                Origin::Network => (false, None),
                Origin::Cache { refreshing } => (true, refreshing.then_some(ticket)),
            };
            Remote::Ready {
                value,
                as_of: at,
                cached,
                refreshing,
            }
        }
        // A refresh that failed leaves the older answer on screen, said to be older.
        (
            Err(error),
            Some(Remote::Ready {
                value,
                as_of,
                cached,
                ..
            }),
        ) => {
            state.last_error = Some(format!("{key}: could not refresh: {error}"));
            Remote::Ready {
                value,
                as_of,
                cached,
                refreshing: None,
            }
        }
        (Err(error), _) => {
            state.last_error = Some(format!("{key}: {error}"));
            Remote::Failed { error }
        }
    };
    state.store.insert(key.clone(), remote);
    if state.visible_keys().contains(&key) {
        state.dirty = true;
    }
    if let (FetchKey::AlertIps(id), Some(loc)) = (&key, state.location())
        && loc.alert.as_ref() == Some(id)
    {
        related_stats(state, &id.clone(), cmds);
    }
    if let (FetchKey::IpAlerts(ip), Some(loc)) = (&key, state.location())
        && loc.ip == *ip
    {
        prefetch_newest_alerts(state, *ip, cmds);
    }
    clamp_selection(state);
}
