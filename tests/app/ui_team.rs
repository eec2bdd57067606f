//! The team budget on screen: the status bar and the budget popup when the team's Redis is
//! reached, when it is not (the local share), and for this user's processes sharing one
//! database. Snapshots at 80×24 and 200×60; when nothing is shared the screens are those of
//! `ui_snapshots`, unchanged.

use crate::support;

use std::time::Duration;

use crossterm::event::KeyCode;
use mde_triage::app::{Msg, State, update};
use mde_triage::defender::Endpoint;
use mde_triage::fetch::{
    Backend, BudgetStatus, EndpointBudget, FetchEvent, Link, SharedEndpoint, SharedStatus,
    WindowStatus,
};
use support::*;

fn windows(minute: u32, hour: u32) -> Vec<WindowStatus> {
    vec![
        WindowStatus {
            limit: 100,
            window: Duration::from_secs(60),
            used: minute,
        },
        WindowStatus {
            limit: 1500,
            window: Duration::from_secs(3600),
            used: hour,
        },
    ]
}

/// This console made a few calls; the team, on `link`, many more, with a shared pause on
/// ip-alerts.
fn budget(backend: Backend, link: Link, consoles: u32) -> BudgetStatus {
    let own = |endpoint, used: u32| EndpointBudget {
        endpoint,
        windows: windows(used, used),
        paused_for: None,
        calls: u64::from(used),
        throttled: 0,
        paused_total: Duration::ZERO,
    };
    let team = |endpoint, minute, hour, paused_for| SharedEndpoint {
        endpoint,
        windows: windows(minute, hour),
        paused_for,
    };
    BudgetStatus {
        endpoints: vec![
            own(Endpoint::IpStats, 3),
            own(Endpoint::IpAlerts, 2),
            own(Endpoint::AlertIps, 1),
            own(Endpoint::Machine, 2),
            own(Endpoint::MachineAlerts, 1),
            own(Endpoint::FindByIp, 1),
        ],
        queued: 2,
        in_flight: 1,
        shared: Some(SharedStatus {
            backend,
            link,
            consoles,
            endpoints: vec![
                team(Endpoint::IpStats, 91, 640, None),
                team(Endpoint::IpAlerts, 100, 700, Some(Duration::from_secs(42))),
                team(Endpoint::AlertIps, 12, 130, None),
                team(Endpoint::Machine, 30, 200, None),
                team(Endpoint::MachineAlerts, 8, 60, None),
                team(Endpoint::FindByIp, 55, 300, None),
            ],
        }),
    }
}

fn looked_up(b: BudgetStatus) -> State {
    let mut s = State::new(Some("SIMULATED TENANT".into()), "127.0.0.1:41234");
    update(&mut s, Msg::Fetch(FetchEvent::Budget(b)));
    type_text(&mut s, DOC_IP);
    let cmds = update(&mut s, key(KeyCode::Enter));
    settle(&mut s, cmds, &tenant);
    s
}

fn with_popup(mut s: State) -> State {
    update(&mut s, ch('b'));
    s
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

#[test]
fn team_connected() {
    let s = looked_up(budget(Backend::Team, Link::Connected, 3));
    let narrow = render(&s, 80, 24);
    let bar = last_line(&narrow);
    assert!(bar.starts_with(" team ×3 │ "), "{bar}");
    // The team's calls left, not this console's: 9 of the minute's 100 on stats, and the
    // shared pause on ip-alerts.
    assert!(
        bar.contains("stats 9/1m") && bar.contains("ip-alerts ⏸ 42s"),
        "{bar}"
    );
    insta::assert_snapshot!("team_connected_80x24", narrow);
    insta::assert_snapshot!("team_connected_200x60", render(&s, 200, 60));
    let s = with_popup(s);
    let narrow = render(&s, 80, 24);
    assert!(narrow.contains("team: 3 console(s) seen"), "{narrow}");
    assert!(
        narrow.contains("91/100·1m") && narrow.contains("3/100·1m"),
        "{narrow}"
    );
    assert!(narrow.contains("⏸ 42s left"), "{narrow}");
    insta::assert_snapshot!("team_connected_popup_80x24", narrow);
    insta::assert_snapshot!("team_connected_popup_200x60", render(&s, 200, 60));
}

#[test]
fn team_unreachable() {
    let s = looked_up(budget(Backend::Team, Link::Unreachable { share_of: 2 }, 2));
    let wide = render(&s, 200, 60);
    let bar = last_line(&wide);
    assert!(
        bar.starts_with(" team budget unreachable · local share 50/min │ "),
        "{bar}"
    );
    // Deciding locally: this console's own windows.
    assert!(bar.contains("stats 97/1m 1497/1h"), "{bar}");
    let narrow = render(&s, 80, 24);
    let bar = last_line(&narrow);
    assert!(bar.starts_with(" team ✗ share 50/min │ "), "{bar}");
    assert!(bar.ends_with("? help"), "the message keeps its room: {bar}");
    insta::assert_snapshot!("team_unreachable_80x24", narrow);
    insta::assert_snapshot!("team_unreachable_200x60", wide);
    let s = with_popup(s);
    let wide = render(&s, 200, 60);
    assert!(
        wide.contains("team budget unreachable · local share 50/min (100/min ÷ 2 processes seen)"),
        "{wide}"
    );
    insta::assert_snapshot!("team_unreachable_popup_80x24", render(&s, 80, 24));
    insta::assert_snapshot!("team_unreachable_popup_200x60", wide);
}

#[test]
fn processes_sharing_one_database() {
    let s = looked_up(budget(Backend::Local, Link::Connected, 2));
    let narrow = render(&s, 80, 24);
    assert!(
        last_line(&narrow).starts_with(" shared ×2 │ stats"),
        "{narrow}"
    );
    let s = with_popup(s);
    let wide = render(&s, 200, 60);
    assert!(
        wide.contains("shared by 2 processes on this database"),
        "{wide}"
    );
    insta::assert_snapshot!("local_shared_popup_200x60", wide);
}

#[test]
fn one_process_on_the_database_looks_as_if_nothing_were_shared() {
    let mut alone = budget(Backend::Local, Link::Connected, 1);
    let s = looked_up(alone.clone());
    alone.shared = None;
    let unshared = looked_up(alone);
    assert_eq!(render(&s, 120, 40), render(&unshared, 120, 40));
    let (s, unshared) = (with_popup(s), with_popup(unshared));
    assert_eq!(render(&s, 120, 40), render(&unshared, 120, 40));
}
