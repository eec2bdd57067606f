//! The device endpoints against the simulator over loopback: a machine by id, its alerts
//! (paged), and findbyip, with the real status codes, the per-endpoint limits, and the calls
//! the client refuses to make (a public IP, a time outside the API's 30 days).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::defender::{
    ApiError, Call, Device, ErrorKind, FetchKey, FetchValue, Next, Page, Transport, UtcSecond,
    parse_device_id,
};
use mde_triage::fetch::{FetchEvent, FetchRequest, Priority, SchedulerConfig, Ticket, spawn};
use mde_triage::sim::{self, Dataset, SimConfig, SimHandle};

use crate::support::ip;

pub const FIN_07: &str = "4f1e0c9a3b7d2e8f6a5c1b9d0e3f7a2c4b6d8e0f";
pub const EXEC_01: &str = "1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c";
/// The internal IP the demo's DHCP moved from ws-fin-07 to ws-exec-01.
pub const MOVED_IP: &str = "10.20.40.15";

async fn sim_with(config: SimConfig) -> SimHandle {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    sim::start(any, config).await.expect("the simulator binds")
}

fn client(sim: &SimHandle) -> Client {
    Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(&sim.token)),
    )
    .unwrap()
}

async fn get(client: &Client, key: FetchKey) -> Result<Page, ApiError> {
    client.call(Call::first(key)).await
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The demo story told now, as `demo` tells it. The client refuses findbyip by the real
/// clock, so the story is told at the instant it reads: its times are where they are any day,
/// found with [`Dataset::as_told`].
pub fn told_now() -> Arc<Dataset> {
    Arc::new(Dataset::demo_at(Utc::now()))
}

fn api_calls(sim: &SimHandle) -> Vec<String> {
    sim.requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/api/"))
        .collect()
}

fn device_of(page: Page) -> Device {
    match page.value {
        FetchValue::Device(d) => *d,
        other => panic!("a device expected, got {other:?}"),
    }
}

fn names(page: Page) -> Vec<String> {
    match page.value {
        FetchValue::Devices(d) => d.iter().map(|d| d.name().to_owned()).collect(),
        other => panic!("devices expected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_machine_by_id_carries_its_record_leniently_read() {
    let sim = sim_with(SimConfig::default()).await;
    let c = client(&sim);
    let d = device_of(
        get(&c, FetchKey::Device(parse_device_id(FIN_07).unwrap()))
            .await
            .unwrap(),
    );
    assert_eq!(d.id, FIN_07);
    assert_eq!(d.name(), "ws-fin-07.contoso.local");
    assert_eq!(d.os_platform.as_deref(), Some("Windows11"));
    assert_eq!(d.rbac_group_id.as_deref(), Some("140"), "sent as a number");
    assert_eq!(d.is_aad_joined, Some(true));
    assert_eq!(d.machine_tags, ["Finance", "Isolated"]);
    assert!(d.ip_addresses.iter().any(|a| a.mac_address.is_none()));
    // A device without a group: null name, group 0, no AAD id.
    let hr = device_of(
        get(
            &c,
            FetchKey::Device(parse_device_id("9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b").unwrap()),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        (hr.rbac_group_name, hr.rbac_group_id, hr.aad_device_id),
        (None, Some("0".into()), None)
    );
    assert_eq!(
        api_calls(&sim),
        [
            format!("/api/machines/{FIN_07}"),
            "/api/machines/9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b".into()
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_machine_is_a_404_that_says_retention_or_transient() {
    let sim = sim_with(SimConfig::default()).await;
    let c = client(&sim);
    let unknown = parse_device_id("ffffffffffffffffffffffffffffffffffffffff").unwrap();
    let e = get(&c, FetchKey::Device(unknown.clone()))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
    assert!(e.message.contains("was not found"), "{}", e.message);
    let e = get(&c, FetchKey::DeviceAlerts(unknown)).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_machine_s_alerts_are_its_own_and_pages_are_joined_by_the_scheduler() {
    let sim = sim_with(SimConfig {
        page_size: 1,
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim);
    let key = FetchKey::DeviceAlerts(parse_device_id(FIN_07).unwrap());
    let first = get(&c, key.clone()).await.unwrap();
    let Some(Next::Follow(link)) = first.next.clone() else {
        panic!("a next link with page_size 1: {:?}", first.next)
    };
    assert!(
        link.starts_with(&format!("{}/api/machines/{FIN_07}/alerts", sim.url)),
        "{link}"
    );

    let (handle, mut events) = spawn(Arc::new(c), SchedulerConfig::default());
    handle.request(FetchRequest::new(key, Ticket(1), Priority::Foreground));
    let result = loop {
        if let Some(FetchEvent::Done { result, .. }) = events.recv().await {
            break result;
        }
    };
    let FetchValue::Alerts(alerts) = result.unwrap() else {
        panic!("alerts expected")
    };
    assert_eq!(alerts.len(), 3, "ws-fin-07 has three alerts in the demo");
    assert!(
        alerts
            .iter()
            .all(|a| a.machine_id.as_deref() == Some(FIN_07))
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.id == "636688558380765161_2136280442")
    );
    assert_eq!(alerts.pages, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn findbyip_answers_who_held_the_ip_then_across_a_dhcp_move() {
    let story = told_now();
    let sim = sim_with(SimConfig {
        dataset: story.clone(),
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim);
    let now = Utc::now();
    // The cradle's alert on ws-fin-07, and ws-exec-01's alert that night.
    let cradle = story.as_told(t("2026-11-20T09:14:22.4411306Z"));
    let night = story.as_told(t("2026-11-21T03:13:20.7710045Z"));
    let at_cradle = FetchKey::devices_at(ip(MOVED_IP), cradle, now).unwrap();
    let at_night = FetchKey::devices_at(ip(MOVED_IP), night, now).unwrap();
    assert_eq!(
        names(get(&c, at_cradle).await.unwrap()),
        ["ws-fin-07.contoso.local"]
    );
    assert_eq!(
        names(get(&c, at_night).await.unwrap()),
        ["ws-exec-01.contoso.local"]
    );
    // An IPv6 unique-local address, quoted like any other.
    let v6 = FetchKey::devices_at(ip("fd00:20:30::52"), night, now).unwrap();
    assert_eq!(
        names(get(&c, v6).await.unwrap()),
        ["srv-build-02.contoso.local"]
    );
    // Nobody had it: 200 with an empty list.
    let nobody = FetchKey::devices_at(ip("10.99.99.99"), night, now).unwrap();
    assert!(names(get(&c, nobody).await.unwrap()).is_empty());
    // The route as documented: the IP quoted, the time unquoted, whole seconds, UTC.
    let calls = api_calls(&sim);
    assert_eq!(
        calls[0],
        format!(
            "/api/machines/findbyip(ip='{MOVED_IP}',timestamp={})",
            UtcSecond::new(cradle)
        )
    );
    let time = calls[0].split("timestamp=").nth(1).unwrap();
    assert!(time.ends_with("Z)") && !time.contains('.'), "{time}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_public_ip_or_a_time_outside_30_days_spends_no_call() {
    let sim = sim_with(SimConfig::default()).await;
    let c = client(&sim);
    let now = Utc::now();
    let hour_ago = now - chrono::Duration::hours(1);
    // Built by hand, past FetchKey::devices_at's checks: the client refuses all the same.
    for (key, says) in [
        (
            FetchKey::DevicesAt(ip("104.80.104.128"), UtcSecond::new(hour_ago)),
            "internal IPs only",
        ),
        (
            FetchKey::DevicesAt(
                ip(MOVED_IP),
                UtcSecond::new(now - chrono::Duration::days(31)),
            ),
            "30 days",
        ),
        (
            FetchKey::DevicesAt(
                ip(MOVED_IP),
                UtcSecond::new(now + chrono::Duration::hours(1)),
            ),
            "in the future",
        ),
    ] {
        let e = get(&c, key.clone()).await.unwrap_err();
        assert_eq!((e.kind, e.status), (ErrorKind::InvalidInput, None), "{key}");
        assert!(e.message.contains(says), "{key}: {}", e.message);
    }
    let refused = FetchKey::devices_at(ip("8.8.8.8"), hour_ago, now).unwrap_err();
    assert!(refused.to_string().contains("public"), "{refused}");
    assert!(
        api_calls(&sim).is_empty(),
        "no call made: {:?}",
        api_calls(&sim)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_simulator_answers_400_to_an_old_or_malformed_findbyip() {
    let sim = sim_with(SimConfig::default()).await;
    let http = crate::support::http();
    let ask = |args: &str| {
        http.get(format!("{}/api/machines/findbyip({args})", sim.url))
            .bearer_auth(&sim.token)
            .send()
    };
    // Old by the tenant's clock (its story's instant), not by the day the test runs.
    let told_at = SimConfig::default().dataset.told_at();
    let old = (told_at - chrono::Duration::days(40)).format("%Y-%m-%dT%H:%M:%SZ");
    for args in [
        format!("ip='{MOVED_IP}',timestamp={old}"),
        format!("ip={MOVED_IP},timestamp=2026-11-20T09:14:00Z"),
        format!("ip='{MOVED_IP}',timestamp='2026-11-20T09:14:00Z'"),
        "ip='not-an-ip',timestamp=2026-11-20T09:14:00Z".to_owned(),
    ] {
        let r = ask(&args).await.unwrap();
        assert_eq!(r.status(), 400, "{args}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["message"].is_string(), "{args}: {body}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn each_device_endpoint_has_its_own_window_and_answers_429_past_it() {
    let sim = sim_with(SimConfig {
        limits: "1/1m".parse().unwrap(),
        dataset: told_now(),
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim);
    let device = FetchKey::Device(parse_device_id(FIN_07).unwrap());
    get(&c, device.clone()).await.unwrap();
    let e = get(&c, device).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Throttled, Some(429)));
    assert!(e.retry_after.is_some_and(|w| w <= Duration::from_secs(60)));
    // The machine's window is full; its alerts and findbyip have their own.
    get(&c, FetchKey::DeviceAlerts(parse_device_id(FIN_07).unwrap()))
        .await
        .unwrap();
    let key = FetchKey::devices_at(
        ip(MOVED_IP),
        Utc::now() - chrono::Duration::hours(2),
        Utc::now(),
    )
    .unwrap();
    get(&c, key.clone()).await.unwrap();
    let e = get(&c, key).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    sim.shutdown().await;
}

#[tokio::test]
async fn without_machine_read_the_machine_calls_are_forbidden_and_say_which_permission() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into(), "Alert.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim);
    let e = get(&c, FetchKey::Device(parse_device_id(FIN_07).unwrap()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.message.contains("Machine.Read.All"), "{}", e.message);
    // A machine's alerts need an Alert permission, not a Machine one.
    get(
        &c,
        FetchKey::DeviceAlerts(parse_device_id(EXEC_01).unwrap()),
    )
    .await
    .unwrap();
    sim.shutdown().await;
}
