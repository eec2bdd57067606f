//! A console standing on one IP with many alerts loaded, shared by the render and memory
//! benches so both measure the same thing.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mde_triage::app::{Cmd, Msg, State, update};
use mde_triage::defender::{Alert, FetchKey, FetchValue, IpStats, Severity, Status};
use mde_triage::fetch::{FetchEvent, Origin};

pub const IP: &str = "10.209.67.177";

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// `n` alerts of mixed severity and status, a different device every few, 37 s apart.
pub fn alerts(n: usize) -> Vec<Alert> {
    let start = chrono::Utc::now() - chrono::Duration::days(30);
    (0..n)
        .map(|i| Alert {
            id: format!("da{i:018}_{}", 1_000_000 + i),
            title: format!("Suspicious activity number {i} on a device of the finance team"),
            description: "A process made a connection to a host that few devices talk to. \
                          Review the process tree and the network events around it."
                .into(),
            severity: [Severity::Low, Severity::Medium, Severity::High][i % 3].clone(),
            status: [Status::New, Status::InProgress, Status::Resolved][i % 3].clone(),
            category: Some("CommandAndControl".into()),
            computer_dns_name: Some(format!("ws-{:05}.contoso.local", i % 5000)),
            mitre_techniques: vec!["T1071".into(), "T1105".into()],
            alert_creation_time: Some(start + chrono::Duration::seconds(i as i64 * 37)),
            ..Alert::default()
        })
        .collect()
}

/// The console after typing `IP`, with its stats and `n` alerts answered.
pub fn console(n: usize) -> State {
    let mut s = State::new(Some("SIMULATED TENANT".into()), "127.0.0.1:41234");
    let mut cmds = Vec::new();
    for c in IP.chars() {
        cmds.extend(update(&mut s, key(KeyCode::Char(c))));
    }
    cmds.extend(update(&mut s, key(KeyCode::Enter)));
    let mut list = Some(alerts(n));
    for cmd in cmds {
        if let Cmd::Fetch(r) = cmd {
            let value = match r.key {
                FetchKey::IpStats(..) => FetchValue::Stats(Some(IpStats {
                    organization_prevalence: Some(63515),
                    ..IpStats::default()
                })),
                FetchKey::IpAlerts(_) => FetchValue::Alerts(list.take().unwrap_or_default().into()),
                FetchKey::AlertIps(_) => FetchValue::Ips(Default::default()),
                FetchKey::DeviceAlerts(_) => FetchValue::Alerts(Default::default()),
                FetchKey::Device(_) => FetchValue::Device(Default::default()),
                FetchKey::DevicesAt(..) => FetchValue::Devices(Default::default()),
                FetchKey::Alert(_) => FetchValue::Alert(Default::default()),
            };
            update(
                &mut s,
                Msg::Fetch(FetchEvent::Done {
                    key: r.key,
                    ticket: r.ticket,
                    result: Ok(value),
                    at: chrono::Utc::now(),
                    origin: Origin::Network,
                }),
            );
        }
    }
    s
}
