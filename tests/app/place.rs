//! What a place needs, read from one recipe (`app::place::needs`): each key once, in its
//! highest lane, with what `r` asks again and which answer each waits for; and a pane whose
//! answer waits out a 429 says the pause, not "loading".

use crate::support;

use std::time::Duration;

use mde_triage::app::place::Need;
use mde_triage::app::{Msg, State, Subject, update};
use mde_triage::defender::{Endpoint, FetchKey, LookBack, parse_alert_id, parse_device_id};
use mde_triage::fetch::{
    Backend, BudgetStatus, FetchEvent, Link, Priority, SharedEndpoint, SharedStatus,
};
use support::*;

fn need(key: FetchKey, priority: Priority, on_refresh: bool, after: Option<FetchKey>) -> Need {
    Need {
        key,
        priority,
        on_refresh,
        after,
    }
}

#[test]
fn an_ip_with_an_alert_open_needs_its_answers_and_those_read_from_them() {
    let s = doc_alert_open();
    let alert = parse_alert_id(DOC_ALERT).unwrap();
    let ips = FetchKey::AlertIps(alert.clone());
    let list = FetchKey::IpAlerts(ip(DOC_IP));
    let stats = |text| FetchKey::IpStats(ip(text), LookBack::MONTH);
    assert_eq!(
        s.needs(),
        vec![
            need(stats(DOC_IP), Priority::Foreground, true, None),
            need(list.clone(), Priority::Foreground, true, None),
            need(ips.clone(), Priority::Foreground, true, None),
            need(
                stats("104.80.104.128"),
                Priority::Visible,
                false,
                Some(ips.clone())
            ),
            need(stats("23.203.232.228"), Priority::Visible, false, Some(ips)),
            // The opened alert's device, read from the IP's list. No clock yet: who held the
            // IP is not asked.
            need(
                FetchKey::Device(parse_device_id(DOC_DEVICE).unwrap()),
                Priority::Visible,
                false,
                Some(list),
            ),
        ]
    );
    assert_eq!(
        s.visible_keys(),
        s.needs().into_iter().map(|n| n.key).collect::<Vec<_>>()
    );
}

#[test]
fn on_a_device_s_page_its_record_is_needed_once_in_the_analyst_s_lane() {
    let mut s = doc_alert_open();
    let cmds = update(&mut s, ch('d'));
    settle(&mut s, cmds, &tenant);
    // Open the device's own copy of the doc alert: its device is the page's head.
    let device_page = Subject::Device(parse_device_id(DOC_DEVICE).unwrap());
    open_alert(&mut s, &device_page, DOC_ALERT);
    assert!(s.open_alert().is_some());
    let device = FetchKey::Device(parse_device_id(DOC_DEVICE).unwrap());
    let needs = s.needs();
    let of_device: Vec<_> = needs.iter().filter(|n| n.key == device).collect();
    assert_eq!(of_device.len(), 1, "{needs:?}");
    assert_eq!(
        (of_device[0].priority, of_device[0].on_refresh),
        (Priority::Foreground, true)
    );
}

#[test]
fn a_pane_waiting_out_a_429_says_the_pause_and_counts_down() {
    let mut s = State::new(None, "api");
    // Asked, never answered: the alerts pane waits.
    let _ = submitted(&mut s, DOC_IP);
    let loading = render(&s, 120, 40);
    assert!(
        loading.contains("loading alerts of 10.209.67.177"),
        "{loading}"
    );

    // Another console's 429 paused ip-alerts for the team, longer than this console's own.
    let paused = |left: u64| BudgetStatus {
        shared: Some(SharedStatus {
            backend: Backend::Team,
            link: Link::Connected,
            consoles: 2,
            endpoints: vec![SharedEndpoint {
                endpoint: Endpoint::IpAlerts,
                windows: Vec::new(),
                paused_for: Some(Duration::from_secs(left)),
            }],
        }),
        ..BudgetStatus::default()
    };
    update(&mut s, Msg::Fetch(FetchEvent::Budget(paused(90))));
    let text = render(&s, 120, 40);
    assert!(text.contains("⏸ paused 1m 30s (429)"), "{text}");
    assert!(!text.contains("loading alerts of"), "{text}");
    // The prevalence's endpoint is not paused: that pane still loads.
    assert!(text.contains("loading"), "{text}");

    update(&mut s, Msg::Fetch(FetchEvent::Budget(paused(42))));
    assert!(render(&s, 120, 40).contains("⏸ paused 42s (429)"));
    // The pause over, the pane loads again.
    update(
        &mut s,
        Msg::Fetch(FetchEvent::Budget(BudgetStatus::default())),
    );
    assert!(render(&s, 120, 40).contains("loading alerts of 10.209.67.177"));
}
