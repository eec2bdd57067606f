//! The prevalence period in the console: `p` cycles it for the IP on screen, each period is its
//! own request (asked once), back and forward keep each IP's period without a call, and the
//! pane says which period its figure is for.

use crate::support;

use crossterm::event::KeyCode;
use mde_triage::app::{Cmd, Msg, State, update};
use mde_triage::defender::{FetchKey, FetchValue, IpStats, LookBack};
use mde_triage::fetch::{FetchEvent, Priority};
use support::*;

/// The demo's shape, with fewer devices over a shorter period.
fn tenant_by_period(key: &FetchKey) -> FetchValue {
    match key {
        FetchKey::IpStats(_, period) => FetchValue::Stats(Some(IpStats {
            organization_prevalence: Some(match period.hours() {
                24 => 12,
                168 => 2107,
                _ => 63515,
            }),
            ..doc_stats()
        })),
        other => tenant(other),
    }
}

fn looked_up(s: &mut State, text: &str) {
    let cmds = submitted(s, text);
    settle(s, cmds, &tenant_by_period);
}

/// The stats keys `cmds` fetch, with their priorities.
fn stats_asked(cmds: &[Cmd]) -> Vec<(FetchKey, Priority)> {
    fetches(cmds)
        .into_iter()
        .filter(|r| matches!(r.key, FetchKey::IpStats(..)))
        .map(|r| (r.key, r.priority))
        .collect()
}

fn prevalence_on_screen(s: &State) -> Option<u64> {
    let loc = s.location()?;
    s.stats_of(loc.subject.ip()?)??.prevalence()
}

#[test]
fn p_cycles_the_period_of_the_ip_on_screen_and_each_period_is_asked_once() {
    let mut s = State::new(None, "api");
    looked_up(&mut s, DOC_IP);
    assert_eq!(
        s.period_of(ip(DOC_IP)),
        LookBack::MONTH,
        "the API's default first"
    );
    assert_eq!(prevalence_on_screen(&s), Some(63515));

    // 30 days → 1 day → 7 days → 30 days: two calls, then none.
    let mut calls = Vec::new();
    for (expected, devices) in [(LookBack::DAY, 12), (LookBack::WEEK, 2107)] {
        let cmds = update(&mut s, ch('p'));
        let asked = stats_asked(&cmds);
        assert_eq!(
            asked,
            [(
                FetchKey::IpStats(ip(DOC_IP), expected),
                Priority::Foreground
            )]
        );
        assert!(
            s.remote(&FetchKey::IpStats(ip(DOC_IP), expected))
                .is_loading()
        );
        calls.extend(asked);
        settle(&mut s, cmds, &tenant_by_period);
        assert_eq!(s.period_of(ip(DOC_IP)), expected);
        assert_eq!(prevalence_on_screen(&s), Some(devices));
    }
    assert_eq!(calls.len(), 2);
    let back_to_month = update(&mut s, ch('p'));
    assert!(
        fetches(&back_to_month).is_empty(),
        "30 days is already here"
    );
    assert_eq!(prevalence_on_screen(&s), Some(63515));
    let again = update(&mut s, ch('p'));
    assert!(fetches(&again).is_empty(), "so is 1 day");
    assert_eq!(prevalence_on_screen(&s), Some(12));
}

#[test]
fn back_and_forward_keep_each_ip_s_period_without_a_call() {
    let mut s = State::new(None, "api");
    looked_up(&mut s, DOC_IP);
    let cmds = update(&mut s, ch('p'));
    settle(&mut s, cmds, &tenant_by_period);
    // Another IP starts at the default, whatever the last one was left at.
    looked_up(&mut s, "104.80.104.128");
    assert_eq!(s.period_of(ip("104.80.104.128")), LookBack::MONTH);

    for step in [KeyCode::Backspace, KeyCode::Right, KeyCode::Left] {
        let cmds = update(&mut s, key(step));
        assert!(fetches(&cmds).is_empty(), "{step:?} costs no call");
    }
    assert_eq!(s.location().unwrap().subject.ip(), Some(ip(DOC_IP)));
    assert_eq!(s.period_of(ip(DOC_IP)), LookBack::DAY);
    assert_eq!(prevalence_on_screen(&s), Some(12));
}

#[test]
fn a_configured_period_is_where_a_new_ip_starts_and_joins_the_cycle() {
    let mut s = State::new(None, "api");
    s.look_back = LookBack::from_hours(48).unwrap();
    let cmds = submitted(&mut s, DOC_IP);
    assert_eq!(
        stats_asked(&cmds),
        [(
            FetchKey::IpStats(ip(DOC_IP), s.look_back),
            Priority::Foreground
        )]
    );
    settle(&mut s, cmds, &tenant_by_period);
    let cmds = update(&mut s, ch('p'));
    assert_eq!(
        stats_asked(&cmds),
        [(
            FetchKey::IpStats(ip(DOC_IP), LookBack::WEEK),
            Priority::Foreground
        )],
        "48 hours steps to the next period longer than it"
    );
}

#[test]
fn the_cycle_key_is_rebindable_and_idle_without_an_ip() {
    let mut s = State::new(None, "api");
    // By its name in the config file, as any action.
    s.keymap = keymap_from("[settings.keys]\nperiod = [\"F6\"]\n");
    let cmds = update(&mut s, key(KeyCode::Esc));
    assert!(fetches(&cmds).is_empty());
    let cmds = update(&mut s, key(KeyCode::F(6)));
    assert!(fetches(&cmds).is_empty(), "no IP, no call");
    assert_eq!(
        s.notice.as_deref(),
        Some("the period is an IP's prevalence: look up an IP first")
    );

    looked_up(&mut s, DOC_IP);
    assert!(
        fetches(&update(&mut s, ch('p'))).is_empty(),
        "p is no longer it"
    );
    let cmds = update(&mut s, key(KeyCode::F(6)));
    assert_eq!(
        stats_asked(&cmds),
        [(
            FetchKey::IpStats(ip(DOC_IP), LookBack::DAY),
            Priority::Foreground
        )]
    );
}

/// A week's prevalence on screen, cycled to from the month: the pane's title names the period
/// (in short when narrow) and its bottom border the key.
fn week_on_screen() -> State {
    let mut s = State::new(Some("SIMULATED TENANT".into()), "127.0.0.1:41234");
    update(
        &mut s,
        Msg::Fetch(FetchEvent::Budget(
            mde_triage::fetch::BudgetStatus::default(),
        )),
    );
    looked_up(&mut s, DOC_IP);
    for _ in 0..2 {
        let cmds = update(&mut s, ch('p'));
        settle(&mut s, cmds, &tenant_by_period);
    }
    s
}

#[test]
fn the_stats_pane_names_its_period() {
    let s = week_on_screen();
    let small = render(&s, 80, 24);
    assert!(small.contains("Prevalence · 7 days"), "{small}");
    assert!(small.contains("devices 2,107"), "{small}");
    insta::assert_snapshot!("period_week_80x24", small);
    let wide = render(&s, 200, 60);
    assert!(wide.contains("Prevalence · 7 days"), "{wide}");
    insta::assert_snapshot!("period_week_200x60", wide);
}
