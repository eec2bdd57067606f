//! The status bar with six endpoints: the three device endpoints as one `dev` entry (the
//! tightest of them), never wider than the terminal at 80 and 100 columns.

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
fn six_endpoints_fit_80_and_100_columns_with_the_message_whole() {
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
