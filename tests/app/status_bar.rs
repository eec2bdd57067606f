//! The status bar with seven endpoints: the three device endpoints as one `dev` entry (the
//! tightest of them), the single-alert endpoint only once called, never wider than the
//! terminal at 80 and 100 columns.

use crate::support;
use crate::ui_snapshots::budget;

use std::time::Duration;

use mde_triage::app::{Msg, State, update};
use mde_triage::defender::Endpoint;
use mde_triage::fetch::{BudgetStatus, FetchEvent};
use support::render;

fn with(b: BudgetStatus) -> State {
    let mut s = State::new(Some("SIMULATED TENANT".into()), "127.0.0.1:41234");
    update(&mut s, Msg::Fetch(FetchEvent::Budget(b)));
    s
}

fn bar(s: &State, width: u16) -> String {
    let text = render(s, width, 24);
    text.lines().last().unwrap_or_default().to_owned()
}

#[test]
fn seven_endpoints_fit_80_and_100_columns_with_the_message_whole() {
    let s = with(budget());
    for width in [80, 100] {
        let line = bar(&s, width);
        assert!(line.chars().count() <= width as usize, "{width}: {line}");
        assert!(
            line.ends_with("? help"),
            "{width}: the message is whole: {line}"
        );
        for shown in [
            "stats 97/1m",
            "ip-alerts 98/1m",
            "alert-ips 99/1m",
            "dev 93/1m",
        ] {
            assert!(line.contains(shown), "{width}: {shown}: {line}");
        }
        for label in ["device", "dev-alerts", "find-by-ip"] {
            assert!(!line.contains(label), "{width}: one dev entry: {line}");
        }
        assert!(
            !line.contains("alert "),
            "{width}: the alert record endpoint, never called, is left out: {line}"
        );
    }
    assert!(bar(&s, 100).contains("│ 0 running · 0 queued"));
    let wide = bar(&s, 200);
    assert!(wide.contains("dev 93/1m 1493/1h │"), "{wide}");
}

#[test]
fn dev_shows_the_device_endpoint_that_stops_calls_first() {
    let mut b = budget();
    b.endpoints
        .iter_mut()
        .find(|x| x.endpoint == Endpoint::Machine)
        .unwrap()
        .windows[0]
        .used = 99;
    assert!(bar(&with(b.clone()), 80).contains("dev 1/1m"));
    // A pause outranks any count, whichever device endpoint it is on.
    b.endpoints
        .iter_mut()
        .find(|x| x.endpoint == Endpoint::MachineAlerts)
        .unwrap()
        .paused_for = Some(Duration::from_secs(30));
    let line = bar(&with(b), 80);
    assert!(line.contains("dev ⏸ 30s"), "{line}");
    assert!(line.chars().count() <= 80, "{line}");
}

fn alert_used(b: &mut mde_triage::fetch::BudgetStatus, used: u32) {
    let e = b
        .endpoints
        .iter_mut()
        .find(|x| x.endpoint == Endpoint::Alert)
        .expect("the budget lists the alert endpoint");
    for w in &mut e.windows {
        w.used = used;
    }
}

#[test]
fn the_alert_endpoint_shows_once_called_and_still_fits() {
    let mut b = budget();
    alert_used(&mut b, 2);
    let s = with(b.clone());
    for width in [80, 100] {
        let line = bar(&s, width);
        assert!(line.chars().count() <= width as usize, "{width}: {line}");
        assert!(line.ends_with("? help"), "{width}: {line}");
        for shown in ["alert-ips 99/1m", "dev 93/1m"] {
            assert!(line.contains(shown), "{width}: {shown}: {line}");
        }
    }
    assert!(bar(&s, 100).contains("alert 98/1m"), "{}", bar(&s, 100));
    // At 80 a healthy `alert` gives way before `dev` does; low, it comes back.
    assert!(!bar(&s, 80).contains("alert 98/1m"), "{}", bar(&s, 80));
    let mut low = b.clone();
    alert_used(&mut low, 95);
    let line = bar(&with(low), 80);
    assert!(line.contains("alert 5/1m"), "{line}");
    assert!(line.chars().count() <= 80, "{line}");
    assert!(bar(&s, 200).contains("alert 98/1m 1498/1h"));
    // Paused, it says so, and within 80 columns.
    b.endpoints
        .iter_mut()
        .find(|x| x.endpoint == Endpoint::Alert)
        .unwrap()
        .paused_for = Some(Duration::from_secs(12));
    let line = bar(&with(b), 80);
    assert!(line.contains("alert ⏸ 12s"), "{line}");
    assert!(line.chars().count() <= 80, "{line}");
}

#[test]
fn a_paused_alert_endpoint_shows_even_when_never_counted() {
    let mut b = budget();
    b.endpoints
        .iter_mut()
        .find(|x| x.endpoint == Endpoint::Alert)
        .unwrap()
        .paused_for = Some(Duration::from_secs(40));
    let line = bar(&with(b), 80);
    assert!(line.contains("alert ⏸ 40s"), "{line}");
}
