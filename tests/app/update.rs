//! Pure `update` tests: messages in, state and commands out. No terminal, no network.

use crate::support;

use crossterm::event::KeyCode;
use mde_triage::app::{Cmd, Focus, Msg, Overlay, Remote, State, update};
use mde_triage::defender::{ApiError, ErrorKind, FetchKey, FetchValue, LookBack};
use mde_triage::fetch::{BudgetStatus, CacheUse, FetchEvent, Priority};
use support::*;

#[test]
fn submitting_an_ip_asks_for_stats_and_alerts_in_the_foreground() {
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    let keys: Vec<_> = fetches(&cmds)
        .into_iter()
        .map(|r| (r.key, r.priority))
        .collect();
    assert_eq!(
        keys,
        vec![
            (
                FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH),
                Priority::Foreground
            ),
            (FetchKey::IpAlerts(ip(DOC_IP)), Priority::Foreground)
        ]
    );
    assert_eq!(s.focus, Focus::Alerts);
    assert_eq!(s.input.value(), "");
    assert!(
        s.remote(&FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
            .is_loading()
    );
    assert!(s.animating(), "a spinner runs while loading");
}

#[test]
fn defanged_input_is_normalised_and_invalid_input_makes_no_call() {
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, " 10[.]209[.]67[.]177 ");
    assert_eq!(
        fetches(&cmds)[0].key,
        FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH)
    );

    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, "10.209.67");
    assert!(fetches(&cmds).is_empty());
    assert!(
        s.input
            .error()
            .unwrap()
            .contains("not an IPv4 or IPv6 address")
    );
    assert_eq!(
        s.focus,
        Focus::Input,
        "the analyst can fix the input in place"
    );
    assert_eq!(s.input.value(), "10.209.67", "nothing typed is lost");
    update(&mut s, key(KeyCode::Backspace));
    assert_eq!(s.input.error(), None, "editing clears the complaint");
}

#[test]
fn keys_typed_into_the_input_are_text_but_ctrl_c_quits() {
    let mut s = State::new(None, "api");
    assert_eq!(s.focus, Focus::Input, "a fresh console waits for an IP");
    let cmds = type_text(&mut s, "q[]jk?/");
    assert!(cmds.is_empty(), "no Quit among {cmds:?}");
    assert_eq!(s.input.value(), "q[]jk?/");
    assert_eq!(update(&mut s, ctrl('c')), vec![Cmd::Quit]);
}

#[test]
fn the_whole_pivot_loop_and_free_back_forward() {
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    let prefetch = answer_all(&mut s, cmds, &tenant);
    assert_eq!(
        s.stats_of(ip(DOC_IP)).flatten().unwrap().prevalence(),
        Some(63515)
    );
    // The related IPs of the newest alerts were fetched ahead (both alerts here).
    assert_eq!(fetches(&prefetch).len(), 2);
    answer_all(&mut s, prefetch, &tenant);
    assert!(!s.animating(), "idle once everything arrived");

    // Alerts are newest first; find the doc alert's row and open it.
    let row = s
        .alerts_of(ip(DOC_IP))
        .unwrap()
        .iter()
        .position(|a| a.id == DOC_ALERT)
        .unwrap();
    for _ in 0..row {
        update(&mut s, ch('j'));
    }
    // Its related IPs are already here (prefetched): only each one's prevalence is asked
    // for, as Visible work, and the alert's device for its line in the alert pane.
    let follow = update(&mut s, key(KeyCode::Enter));
    assert_eq!(s.focus, Focus::Ips);
    assert_eq!(s.open_alert().unwrap().id, DOC_ALERT);
    let visible: Vec<_> = fetches(&follow)
        .into_iter()
        .map(|r| (r.key, r.priority))
        .collect();
    assert_eq!(
        visible,
        vec![
            (
                FetchKey::IpStats(ip("104.80.104.128"), LookBack::MONTH),
                Priority::Visible
            ),
            (
                FetchKey::IpStats(ip("23.203.232.228"), LookBack::MONTH),
                Priority::Visible
            ),
            (FetchKey::Device(device(DOC_DEVICE)), Priority::Visible),
        ]
    );
    answer_all(&mut s, follow, &tenant);

    // Pivot to 104.80.104.128: its stats are already here, only its alerts are asked for.
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        fetches(&cmds)
            .iter()
            .map(|r| r.key.clone())
            .collect::<Vec<_>>(),
        vec![FetchKey::IpAlerts(ip("104.80.104.128"))]
    );
    answer_all(&mut s, cmds, &tenant);
    assert_eq!(
        s.location().unwrap().subject.ip(),
        Some(ip("104.80.104.128"))
    );
    assert_eq!(s.history.entries().len(), 3);

    // Back twice, forward twice: no API call at all, and selections are restored.
    assert!(fetches(&update(&mut s, key(KeyCode::Backspace))).is_empty());
    assert_eq!(
        s.location().unwrap().alert.as_ref().unwrap().as_str(),
        DOC_ALERT
    );
    assert_eq!(s.focus, Focus::Ips);
    assert!(fetches(&update(&mut s, ch('['))).is_empty());
    assert_eq!(s.location().unwrap().subject.ip(), Some(ip(DOC_IP)));
    assert_eq!(
        s.location().unwrap().alert_row,
        row,
        "the selection is where it was"
    );
    assert!(fetches(&update(&mut s, ch(']'))).is_empty());
    assert!(fetches(&update(&mut s, ch(']'))).is_empty());
    assert_eq!(
        s.location().unwrap().subject.ip(),
        Some(ip("104.80.104.128"))
    );
    assert!(
        !update(&mut s, ch(']'))
            .iter()
            .any(|c| matches!(c, Cmd::Fetch(_))),
        "nothing past the end"
    );
}

#[test]
fn a_stale_answer_is_dropped_after_refresh() {
    let mut s = State::new(None, "api");
    let first = submitted(&mut s, DOC_IP);
    let old = fetches(&first);
    answer_all(&mut s, first, &tenant);
    let refresh = fetches(&update(&mut s, ch('r')));
    assert_eq!(refresh.len(), 2, "r asks again for what is on screen");
    assert!(
        refresh.iter().all(|r| r.cache == CacheUse::Refresh),
        "r asks the API, not the cache"
    );
    assert!(
        fetches(&update(&mut s, ch('r'))).is_empty(),
        "what is on its way is not asked twice"
    );
    let stats_key = FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH);
    // The answer on screen stays there while the fresh one is on its way.
    assert!(matches!(
        s.remote(&stats_key),
        Remote::Ready { refreshing: Some(t), .. } if *t == refresh[0].ticket
    ));
    // An answer for the old ticket arrives late: ignored, the old answer stays, still waiting.
    update(
        &mut s,
        fetched(stats_key.clone(), old[0].ticket, FetchValue::Stats(None)),
    );
    assert_eq!(s.stats_of(ip(DOC_IP)), Some(Some(&doc_stats())));
    assert!(s.remote(&stats_key).is_busy());
    update(
        &mut s,
        fetched(
            stats_key.clone(),
            refresh[0].ticket,
            FetchValue::Stats(Some(doc_stats())),
        ),
    );
    assert!(matches!(
        s.remote(&stats_key),
        Remote::Ready {
            refreshing: None,
            ..
        }
    ));
}

#[test]
fn failures_are_shown_and_r_retries_them() {
    let mut s = State::new(None, "api");
    let reqs = fetches(&submitted(&mut s, DOC_IP));
    let err = ApiError::from_response(
        403,
        None,
        br#"{"error":{"code":"Forbidden","message":"no"}}"#,
    );
    update(
        &mut s,
        Msg::Fetch(FetchEvent::Done {
            key: reqs[1].key.clone(),
            ticket: reqs[1].ticket,
            result: Err(err),
            at: at(),
            origin: mde_triage::fetch::Origin::Network,
        }),
    );
    assert!(
        matches!(s.remote(&reqs[1].key), Remote::Failed { error } if error.kind == ErrorKind::Forbidden)
    );
    assert!(s.last_error.as_deref().unwrap().contains("access denied"));
    // Back and forth does not hammer a failing endpoint; r does retry it.
    let again = fetches(&update(&mut s, ch('r')));
    assert!(again.iter().any(|r| r.key == reqs[1].key));
    assert_eq!(s.last_error, None);
}

#[test]
fn retries_and_budget_reach_the_state() {
    let mut s = State::new(None, "api");
    let reqs = fetches(&submitted(&mut s, DOC_IP));
    let err = ApiError::from_response(503, None, b"");
    update(
        &mut s,
        Msg::Fetch(FetchEvent::Retrying {
            key: reqs[0].key.clone(),
            attempt: 1,
            max: 3,
            error: err,
        }),
    );
    assert!(matches!(
        s.remote(&reqs[0].key),
        Remote::Loading {
            retry: Some((1, 3)),
            ..
        }
    ));
    s.dirty = false;
    update(
        &mut s,
        Msg::Fetch(FetchEvent::Budget(BudgetStatus {
            queued: 2,
            in_flight: 1,
            endpoints: vec![],
            shared: None,
        })),
    );
    assert!(s.dirty);
    assert_eq!(s.budget.queued, 2);
}

#[test]
fn help_overlay_takes_keys_until_closed() {
    let mut s = State::new(None, "api");
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, ch('?'));
    assert!(matches!(s.overlay, Overlay::Help));
    update(&mut s, ch('j'));
    assert!(matches!(s.overlay, Overlay::Help));
    update(&mut s, key(KeyCode::Esc));
    assert!(!matches!(s.overlay, Overlay::Help));
    update(&mut s, ch('?'));
    assert_eq!(update(&mut s, ch('q')), vec![Cmd::Quit]);
}

#[test]
fn tab_cycles_panes_and_pasting_lands_in_the_input() {
    let mut s = State::new(None, "api");
    update(&mut s, key(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Alerts);
    update(&mut s, key(KeyCode::BackTab));
    update(&mut s, key(KeyCode::BackTab));
    assert_eq!(s.focus, Focus::Ips);
    update(&mut s, Msg::Paste("10[.]209[.]67[.]177\n".into()));
    assert_eq!(s.focus, Focus::Input);
    assert_eq!(s.input.value(), "10[.]209[.]67[.]177");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert_eq!(fetches(&cmds).len(), 2);
}

#[test]
fn budget_popup_opens_with_b_and_swaps_with_help() {
    let mut s = State::new(None, "api");
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, ch('b'));
    assert!(matches!(s.overlay, Overlay::Budget) && !matches!(s.overlay, Overlay::Help));
    update(&mut s, ch('?'));
    assert!(
        matches!(s.overlay, Overlay::Help) && !matches!(s.overlay, Overlay::Budget),
        "one popup at a time"
    );
    update(&mut s, ch('b'));
    assert!(matches!(s.overlay, Overlay::Budget));
    update(&mut s, ch('b'));
    assert!(!s.popup(), "b toggles");
}

#[test]
fn the_newest_alerts_related_ips_are_prefetched_behind_the_analyst() {
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    let follow = answer_all(&mut s, cmds, &tenant);
    let prefetch: Vec<_> = fetches(&follow)
        .into_iter()
        .map(|r| (r.key, r.priority))
        .collect();
    let mut newest = doc_alerts();
    mde_triage::defender::model::newest_first(&mut newest);
    let expected: Vec<_> = newest
        .iter()
        .take(3)
        .map(|a| (FetchKey::AlertIps(alert_id(&a.id)), Priority::Prefetch))
        .collect();
    assert_eq!(prefetch, expected);
    // Opening a prefetched alert that is still loading raises it; it does not ask again.
    update(&mut s, key(KeyCode::Home));
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        fetches(&cmds)
            .iter()
            .all(|r| !matches!(r.key, FetchKey::AlertIps(_))),
        "{cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Cmd::Reprioritize(_, Priority::Foreground)))
    );
}

#[test]
fn leaving_a_view_lowers_its_work_and_reuse_is_counted() {
    let mut s = State::new(None, "api");
    let first = submitted(&mut s, DOC_IP);
    answer_all(&mut s, first, &tenant);
    // A second IP, still loading when the analyst goes back.
    let second = submitted(&mut s, "10.0.0.9");
    let loading: Vec<_> = fetches(&second).into_iter().map(|r| r.ticket).collect();
    assert_eq!(loading.len(), 2);
    let cmds = update(&mut s, ch('['));
    let lowered: Vec<_> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Reprioritize(t, Priority::Prefetch) => Some(*t),
            _ => None,
        })
        .collect();
    assert_eq!(lowered, loading);
    assert!(fetches(&cmds).is_empty(), "back costs no call");
    let hits: u64 = s.store_hits.values().sum();
    assert_eq!(hits, 2, "stats and alerts of the first IP reused");
}

#[test]
fn a_rebound_key_does_its_action_and_the_old_key_no_longer_does() {
    let mut s = State::new(None, "api");
    s.keymap = keymap_from(
        "[settings.keys]\ncopy = [\"c\"]\nback = [\"Backspace\", \"h\"]\ndismiss = [\"Esc\", \"x\"]\n",
    );
    let cmds = submitted(&mut s, DOC_IP);
    settle(&mut s, cmds, &tenant);
    let cmds = submitted(&mut s, "104.80.104.128");
    settle(&mut s, cmds, &tenant);
    assert_eq!(s.focus, Focus::Alerts);
    assert_eq!(s.history.entries().len(), 2);

    // Back is Backspace and h now: [ and ← were replaced.
    update(&mut s, ch('['));
    update(&mut s, key(KeyCode::Left));
    assert_eq!(
        s.location().unwrap().subject.ip(),
        Some(ip("104.80.104.128")),
        "[ and ← do nothing"
    );
    assert!(
        fetches(&update(&mut s, ch('h'))).is_empty(),
        "back calls nothing"
    );
    assert_eq!(s.location().unwrap().subject.ip(), Some(ip(DOC_IP)));

    // Copy moved from y to c.
    assert_eq!(s.focus, Focus::Alerts);
    let selected = s.selected_alert().unwrap().id.clone();
    assert_eq!(update(&mut s, ch('c')), vec![Cmd::Copy(selected)]);
    assert_eq!(update(&mut s, ch('y')), vec![], "y no longer copies");

    // A character stays text in the input, whatever it is bound to; Esc still leaves.
    update(&mut s, ch('i'));
    type_text(&mut s, "x");
    assert_eq!((s.focus, s.input.value()), (Focus::Input, "x"));
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.focus, Focus::Alerts);
    // Out of the input, x dismisses: here it closes the help.
    update(&mut s, ch('?'));
    assert!(matches!(s.overlay, Overlay::Help));
    update(&mut s, ch('x'));
    assert!(!matches!(s.overlay, Overlay::Help));
}

#[test]
fn ctrl_z_suspends_from_anywhere_and_a_rebind_moves_it() {
    let mut s = State::new(None, "api");
    // In the input box, where every plain key is text.
    type_text(&mut s, "10.2");
    assert_eq!(update(&mut s, ctrl('z')), vec![Cmd::Suspend]);
    assert_eq!(s.input.value(), "10.2", "nothing typed is lost");
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    settle(&mut s, cmds, &tenant);
    // Over a popup and in the note editor alike; the draft survives.
    update(&mut s, ch('?'));
    assert_eq!(update(&mut s, ctrl('z')), vec![Cmd::Suspend]);
    assert!(
        matches!(s.overlay, Overlay::Help),
        "help is still open on fg"
    );
    update(&mut s, key(KeyCode::Esc));
    update(&mut s, ch('n'));
    type_text(&mut s, "seen");
    assert_eq!(update(&mut s, ctrl('z')), vec![Cmd::Suspend]);
    assert!(s.overlay.editor().is_some());
    update(&mut s, key(KeyCode::Esc));

    // Rebound by name: F9 and z suspend now, Ctrl-Z does nothing.
    let mut s = State::new(None, "api");
    s.keymap = keymap_from("[settings.keys]\nsuspend = [\"F9\", \"z\"]\n");
    assert_eq!(update(&mut s, key(KeyCode::F(9))), vec![Cmd::Suspend]);
    assert_eq!(update(&mut s, ctrl('z')), vec![]);
    // z is text in the input box, and suspends out of it.
    type_text(&mut s, "z");
    assert_eq!(s.input.value(), "z");
    update(&mut s, key(KeyCode::Esc));
    assert_eq!(s.focus, Focus::Alerts);
    assert_eq!(update(&mut s, ch('z')), vec![Cmd::Suspend]);
}
