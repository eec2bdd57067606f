//! The single-alert endpoint (`GET /api/alerts/{id}`) over loopback: the simulator's record
//! with its machine id, a 404, a 429 on its own window (not the alert-IPs one it was once
//! counted on), and the documentation's example served raw.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::defender::{
    Alert, ApiError, Call, Endpoint, ErrorKind, FetchKey, FetchValue, Page, Transport,
};
use mde_triage::sim::{self, SimConfig, SimHandle};

use crate::devices::FIN_07;
use crate::support::replay::replay;
use crate::support::{alert_id, fixture};

/// The demo's first alert, on ws-fin-07.
const CRADLE: &str = "636688558380765161_2136280442";

async fn sim_with(config: SimConfig) -> SimHandle {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    sim::start(any, config).await.expect("the simulator binds")
}

fn client(url: &str, token: &str) -> Client {
    Client::new(
        ClientConfig {
            base_url: url.to_owned(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(token)),
    )
    .unwrap()
}

async fn get(client: &Client, key: FetchKey) -> Result<Page, ApiError> {
    client.call(Call::first(key)).await
}

fn alert_of(page: Page) -> Alert {
    match page.value {
        FetchValue::Alert(a) => *a,
        other => panic!("an alert expected, got {other:?}"),
    }
}

#[tokio::test]
async fn an_alert_s_record_names_its_machine() {
    let sim = sim_with(SimConfig::default()).await;
    let c = client(&sim.url, &sim.token);
    let a = alert_of(get(&c, FetchKey::Alert(alert_id(CRADLE))).await.unwrap());
    assert_eq!(a.id, CRADLE);
    assert_eq!(a.machine_id.as_deref(), Some(FIN_07));
    assert_eq!(a.title, "Suspicious PowerShell download cradle");
    let paths: Vec<String> = sim
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/api/"))
        .collect();
    assert_eq!(paths, [format!("/api/alerts/{CRADLE}")]);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_alert_is_a_404_read_as_unknown_or_outside_retention() {
    let sim = sim_with(SimConfig::default()).await;
    let c = client(&sim.url, &sim.token);
    let e = get(&c, FetchKey::Alert(alert_id("da000000000000000000_0")))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
    assert!(matches!(
        Endpoint::Alert.not_found(),
        mde_triage::defender::NotFound::Missing(why) if why.contains("retention")
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_alert_endpoint_has_its_own_window_apart_from_alert_ips() {
    let sim = sim_with(SimConfig {
        limits: "1/1m".parse().unwrap(),
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim.url, &sim.token);
    // The alert-IPs window spent first: the record is still served, on its own window.
    get(&c, FetchKey::AlertIps(alert_id(CRADLE))).await.unwrap();
    let ips = get(&c, FetchKey::AlertIps(alert_id(CRADLE)))
        .await
        .unwrap_err();
    assert_eq!(ips.status, Some(429));
    get(&c, FetchKey::Alert(alert_id(CRADLE))).await.unwrap();
    let e = get(&c, FetchKey::Alert(alert_id(CRADLE)))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Throttled, Some(429)));
    assert!(e.retry_after.is_some_and(|w| w <= Duration::from_secs(60)));
    sim.shutdown().await;
}

#[tokio::test]
async fn without_alert_read_the_record_is_forbidden_and_says_which_permission() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into(), "Machine.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let c = client(&sim.url, &sim.token);
    let e = get(&c, FetchKey::Alert(alert_id(CRADLE)))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.message.contains("Alert.Read.All"), "{}", e.message);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_documented_alert_served_raw_decodes_and_odd_bodies_fail_clearly() {
    const DOC: &str = "da637472900382838869_1364969609";
    let url = replay(vec![
        (
            "/api/alerts/da637472900382838869_1364969609",
            200,
            None,
            fixture("get-alert.example.json"),
        ),
        ("/api/alerts/da1_1", 200, None, "[]".into()),
        ("/api/alerts/da1_2", 200, None, "{\"id\": \"da1_2\",".into()),
        (
            "/api/alerts/da1_3",
            404,
            None,
            fixture("error-resource-not-found.example.json"),
        ),
    ])
    .await;
    let c = client(&url, "t");
    let a = alert_of(get(&c, FetchKey::Alert(alert_id(DOC))).await.unwrap());
    assert_eq!(a.id, DOC);
    assert_eq!(
        a.machine_id.as_deref(),
        Some("111e6dd8c833c8a052ea231ec1b19adaf497b625")
    );
    assert_eq!(
        a.computer_dns_name.as_deref(),
        Some("temp123.middleeast.corp.microsoft.com")
    );
    assert_eq!(a.mitre_techniques, ["T1064", "T1085", "T1220"]);
    assert!(!a.evidence.is_empty(), "Get alert fills the evidence");

    let e = get(&c, FetchKey::Alert(alert_id("da1_1")))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(e.message.contains("an alert record"), "{}", e.message);
    let e = get(&c, FetchKey::Alert(alert_id("da1_2")))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode, "{}", e.message);
    let e = get(&c, FetchKey::Alert(alert_id("da1_3")))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
}
