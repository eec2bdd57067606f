//! Shared test helpers: keys, fixtures, and a rendered screen as text.
#![allow(dead_code)]

pub mod fleet;
pub mod hostile;
pub mod redis;
pub mod replay;
pub mod tmux;
pub mod watched;

use std::net::IpAddr;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use mde_triage::app::{Cmd, Msg, State, update};
use mde_triage::defender::model::ODataList;
use mde_triage::defender::{
    Alert, AlertId, FetchKey, FetchValue, IpStats, RelatedIp, parse_alert_id,
};
use mde_triage::fetch::{FetchEvent, FetchRequest, Ticket};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub const DOC_IP: &str = "10.209.67.177";
pub const DOC_ALERT: &str = "636688558380765161_2136280442";
/// The device the docs' alert names (`machineId` in get-alert.example.json).
pub const DOC_DEVICE: &str = "111e6dd8c833c8a052ea231ec1b19adaf497b625";

/// The simulator on a free loopback port.
pub async fn sim_with(config: mde_triage::sim::SimConfig) -> mde_triage::sim::SimHandle {
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    mde_triage::sim::start(any, config).await.unwrap()
}

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `.json` files in `tests/fixtures/{dir}` (`""` for the top), sorted: what a checklist of
/// covered examples is compared with.
pub fn fixture_names(dir: &str) -> Vec<String> {
    let dir = format!("{}/tests/fixtures/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut present: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    present.sort();
    present
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn alert_id(s: &str) -> AlertId {
    parse_alert_id(s).unwrap()
}

pub fn device(s: &str) -> mde_triage::defender::DeviceId {
    mde_triage::defender::parse_device_id(s).unwrap()
}

/// A fixed "now" so snapshots do not depend on the clock.
pub fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 14, 2, 11).unwrap()
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Types `text` into whatever has focus.
pub fn type_text(state: &mut State, text: &str) -> Vec<Cmd> {
    text.chars().flat_map(|c| update(state, ch(c))).collect()
}

pub fn fetches(cmds: &[Cmd]) -> Vec<FetchRequest> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::Fetch(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// The doc's stats example (63515 devices).
pub fn doc_stats() -> IpStats {
    serde_json::from_str(&fixture("ip-stats.example.json")).unwrap()
}

/// Alerts for the doc IP: the doc's example alert plus the doc's alert id, with times.
pub fn doc_alerts() -> Vec<Alert> {
    let list: ODataList<Alert> =
        serde_json::from_str(&fixture("ip-related-alerts.example.json")).unwrap();
    let mut alerts = list.value;
    let mut doc: Alert = serde_json::from_str(&fixture("get-alert.example.json")).unwrap();
    doc.id = DOC_ALERT.into();
    doc.severity = mde_triage::defender::Severity::High;
    alerts.push(doc);
    alerts
}

pub fn related(ips: &[&str]) -> Vec<RelatedIp> {
    ips.iter().map(|i| RelatedIp { id: (*i).into() }).collect()
}

/// Focuses the input, types `text` and submits it.
pub fn submitted(state: &mut State, text: &str) -> Vec<Cmd> {
    let mut cmds = update(state, key(KeyCode::Esc));
    cmds.extend(update(state, ch('i')));
    cmds.extend(type_text(state, text));
    cmds.extend(update(state, key(KeyCode::Enter)));
    cmds
}

/// A device as `GET /api/machines/{id}` reads: the doc alert's device for its id, the name
/// the docs' alert gives it.
pub fn doc_device(id: &str) -> mde_triage::defender::Device {
    mde_triage::defender::Device {
        id: id.to_owned(),
        computer_dns_name: Some("temp123.middleeast.corp.microsoft.com".into()),
        os_platform: Some("Windows10".into()),
        version: Some("1709".into()),
        health_status: Some("Active".into()),
        risk_score: Some("Medium".into()),
        exposure_level: Some("Low".into()),
        machine_tags: vec!["finance".into(), "vip".into()],
        last_ip_address: Some("10.209.67.177".into()),
        first_seen: "2018-08-02T14:55:03Z".parse().ok(),
        last_seen: "2021-01-26T20:40:00Z".parse().ok(),
        ..Default::default()
    }
}

/// The demo's shape: the doc IP has the doc alerts; the doc alert has two related IPs.
pub fn tenant(key: &FetchKey) -> FetchValue {
    match key {
        FetchKey::IpStats(..) => FetchValue::Stats(Some(doc_stats())),
        FetchKey::IpAlerts(i) if *i == ip(DOC_IP) => FetchValue::Alerts(doc_alerts().into()),
        FetchKey::IpAlerts(_) => FetchValue::Alerts(Default::default()),
        FetchKey::AlertIps(_) => {
            FetchValue::Ips(related(&["104.80.104.128", "23.203.232.228"]).into())
        }
        // The doc alert's device has the doc alerts too (its other alert pivots on).
        FetchKey::DeviceAlerts(d) if d.as_str() == DOC_DEVICE => {
            let mut alerts = doc_alerts();
            for a in &mut alerts {
                a.machine_id = Some(DOC_DEVICE.into());
            }
            FetchValue::Alerts(alerts.into())
        }
        FetchKey::DeviceAlerts(_) => FetchValue::Alerts(Default::default()),
        FetchKey::Device(d) => FetchValue::Device(Box::new(doc_device(d.as_str()))),
        FetchKey::DevicesAt(..) => FetchValue::Devices(Default::default()),
        FetchKey::Alert(_) => FetchValue::Alert(Default::default()),
    }
}

/// Selects alert `id` in the alerts table of the place on screen (about `subject`), opens it,
/// and lets [`tenant`] answer all that leads to.
pub fn open_alert(s: &mut State, subject: &mde_triage::app::Subject, id: &str) {
    let row = s
        .shown_alerts(subject)
        .iter()
        .position(|a| a.id == id)
        .expect("the alert is listed");
    for _ in 0..row {
        update(s, ch('j'));
    }
    let cmds = update(s, key(KeyCode::Enter));
    settle(s, cmds, &tenant);
    assert_eq!(s.open_alert().map(|a| a.id.as_str()), Some(id));
}

/// The doc IP looked up and the doc alert opened, every answer in.
pub fn doc_alert_open() -> State {
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    settle(&mut s, cmds, &tenant);
    open_alert(&mut s, &mde_triage::app::Subject::Ip(ip(DOC_IP)), DOC_ALERT);
    s
}

/// A plain HTTP client for asking the simulator directly. TLS's provider is installed first,
/// as the program does before any client: whichever test runs first must not be the one whose
/// client finds none.
pub fn http() -> reqwest::Client {
    mde_triage::tls::install();
    reqwest::Client::new()
}

/// Answers every fetch in `cmds` from `answer`, as the scheduler would.
pub fn answer_all(
    state: &mut State,
    cmds: Vec<Cmd>,
    answer: &dyn Fn(&FetchKey) -> FetchValue,
) -> Vec<Cmd> {
    let mut follow_ups = Vec::new();
    for r in fetches(&cmds) {
        let value = answer(&r.key);
        follow_ups.extend(update(
            state,
            Msg::Fetch(FetchEvent::Done {
                key: r.key,
                ticket: r.ticket,
                result: Ok(value),
                at: at(),
                origin: mde_triage::fetch::Origin::Network,
            }),
        ));
    }
    follow_ups
}

/// Answers `cmds` and every request they lead to, until nothing more is asked.
pub fn settle(state: &mut State, cmds: Vec<Cmd>, answer: &dyn Fn(&FetchKey) -> FetchValue) {
    let mut pending = cmds;
    while !fetches(&pending).is_empty() {
        pending = answer_all(state, pending, answer);
    }
}

pub fn fetched(key: FetchKey, ticket: Ticket, value: FetchValue) -> Msg {
    Msg::Fetch(FetchEvent::Done {
        key,
        ticket,
        result: Ok(value),
        at: at(),
        origin: mde_triage::fetch::Origin::Network,
    })
}

/// The screen as text, one line per row (trailing spaces trimmed).
pub fn render(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| mde_triage::ui::draw(state, f)).unwrap();
    screen_text(terminal.backend().buffer())
}

pub fn screen_text(buffer: &ratatui::buffer::Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Environment that gives the binary its own fresh data, config and log directories, so tests
/// never read or write the developer's cache and cases, nor each other's.
pub fn isolated_env() -> Vec<(&'static str, std::path::PathBuf)> {
    let dir = tempfile::Builder::new()
        .prefix("mde-triage-test-")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    vec![
        ("MDE_TRIAGE_DATA_DIR", dir.join("data")),
        ("XDG_CONFIG_HOME", dir.join("config")),
        ("XDG_STATE_HOME", dir.join("state")),
        ("XDG_DATA_HOME", dir.join("xdg-data")),
    ]
}

/// The `[settings]` of a config file, read and checked as the program reads it.
pub fn config_layer(text: &str) -> mde_triage::config::Layer {
    let path = std::path::Path::new("config.toml");
    let file = mde_triage::config::FileConfig::parse(path, text).unwrap();
    file.layer(path, None).unwrap()
}

/// The key map a config file's `[settings.keys]` makes.
pub fn keymap_from(text: &str) -> mde_triage::app::Keymap {
    mde_triage::app::Keymap::with_rebinds(&config_layer(text).keys.rebinds())
}

/// The theme a config file's `[settings.colors]` makes.
pub fn theme_from(text: &str) -> mde_triage::app::Theme {
    mde_triage::app::Theme::with_choices(&config_layer(text).colors.0)
}
