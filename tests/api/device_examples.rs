//! The documentation's device bodies (FACTS.md 8.0, copied to `tests/fixtures/`) served raw
//! over HTTP to the real client: the valid legacy ones decode, the current docs' own
//! `"Windows10" "Windows11"` examples are a clear malformed-JSON error, never a panic; a
//! machine's alerts follow no foreign or endless next link.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::defender::{
    Call, ErrorKind, FetchKey, FetchValue, Next, Transport, UtcSecond, parse_device_id,
};

use crate::support::replay::replay;
use crate::support::{fixture, ip};

/// The docs' example machine id.
const DOC_MACHINE: &str = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
const OBSERVED: &str = "556b3952acb0bff29816d267822305781cc183ec";

fn client(url: &str) -> Client {
    Client::new(
        ClientConfig {
            base_url: url.to_owned(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new("t")),
    )
    .unwrap()
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// findbyip's path for `ip` an hour ago; the replay server matches it literally.
fn findbyip(ip_text: &str) -> (FetchKey, &'static str) {
    let key = FetchKey::devices_at(
        ip(ip_text),
        Utc::now() - chrono::Duration::hours(1),
        Utc::now(),
    )
    .unwrap();
    let FetchKey::DevicesAt(_, at) = &key else {
        unreachable!()
    };
    let path = leak(format!(
        "/api/machines/findbyip(ip='{ip_text}',timestamp={at})"
    ));
    (key, path)
}

#[tokio::test]
async fn documented_and_observed_device_bodies_decode_or_fail_clearly() {
    let device = |id: &str| FetchKey::Device(parse_device_id(id).unwrap());
    let alerts = |id: &str| FetchKey::DeviceAlerts(parse_device_id(id).unwrap());
    let (legacy_doc, legacy_doc_path) = findbyip("10.248.240.38");
    let (legacy_2017, legacy_2017_path) = findbyip("10.248.240.39");
    let url = replay(vec![
        (
            leak(format!("/api/machines/{DOC_MACHINE}")),
            200,
            None,
            fixture("machine.example.json"),
        ),
        (
            "/api/machines/mymachine1.contoso.com",
            200,
            None,
            fixture("alert-machine.example.json"),
        ),
        (
            leak(format!("/api/machines/{OBSERVED}")),
            200,
            None,
            fixture("machine.observed-third-party.example.json"),
        ),
        (
            "/api/machines/xxxxxx",
            404,
            None,
            fixture("error-machine-not-found.observed.example.json"),
        ),
        (
            leak(format!("/api/machines/{DOC_MACHINE}/alerts")),
            200,
            None,
            fixture("machine-alerts.legacy-2017.example.json"),
        ),
        (
            legacy_doc_path,
            200,
            None,
            fixture("findbyip.legacy-doc.example.json"),
        ),
        (
            legacy_2017_path,
            200,
            None,
            fixture("findbyip.legacy-2017.example.json"),
        ),
    ])
    .await;
    let c = client(&url);
    let call = |key: FetchKey| c.call(Call::first(key));

    // The current docs' machine (and alert-machine) example: two strings with no comma.
    for id in [DOC_MACHINE, "mymachine1.contoso.com"] {
        let e = call(device(id)).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Decode, "{id}");
        assert!(
            e.message.contains("\"Windows10\" \"Windows11\""),
            "{id}: the excerpt shows where: {}",
            e.message
        );
        assert!(
            e.sentence().contains("unexpected response body"),
            "{}",
            e.sentence()
        );
    }

    // A real capture: extra fields, a numeric rbacGroupId, nulls, every adapter.
    let FetchValue::Device(d) = call(device(OBSERVED)).await.unwrap().value else {
        panic!("a device")
    };
    assert_eq!(d.name(), "se-pov-desktop");
    assert_eq!(
        (d.rbac_group_id.as_deref(), d.rbac_group_name.as_deref()),
        (Some("0"), None)
    );
    assert_eq!(
        (d.aad_device_id.as_deref(), d.is_aad_joined),
        (None, Some(true))
    );
    assert_eq!(d.exposure_level.as_deref(), Some("High"));
    assert!(d.ip_addresses.len() >= 3);

    let e = call(device("xxxxxx")).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, Some(404)));
    assert!(
        e.message.contains("Machine xxxxxx was not found"),
        "{}",
        e.message
    );

    let FetchValue::Alerts(a) = call(alerts(DOC_MACHINE)).await.unwrap().value else {
        panic!("alerts")
    };
    assert_eq!(a.len(), 1);
    assert_eq!(
        a[0].machine_id.as_deref(),
        Some(DOC_MACHINE),
        "an alert names its machine"
    );

    let FetchValue::Devices(found) = call(legacy_doc).await.unwrap().value else {
        panic!("devices")
    };
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name(), "mymachine1.contoso.com");
    assert_eq!(found[0].rbac_group_id.as_deref(), Some("140"));
    assert!(found.unread.is_empty());
    let FetchValue::Devices(found) = call(legacy_2017).await.unwrap().value else {
        panic!("devices")
    };
    assert!(!found.is_empty() && found.unread.is_empty(), "{found:?}");
}

#[tokio::test]
async fn findbyip_s_404_is_no_device_and_its_400_an_input_error() {
    let (none, none_path) = findbyip("10.1.1.1");
    let (bad, bad_path) = findbyip("10.1.1.2");
    let url = replay(vec![
        (
            none_path,
            404,
            None,
            fixture("error-resource-not-found.example.json"),
        ),
        (
            bad_path,
            400,
            None,
            fixture("error-invalid-request-body.example.json"),
        ),
    ])
    .await;
    let c = client(&url);
    let FetchValue::Devices(found) = c.call(Call::first(none)).await.unwrap().value else {
        panic!("an answer")
    };
    assert!(
        found.is_empty(),
        "older docs: 404 when no machine was found"
    );
    let e = c.call(Call::first(bad)).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::InvalidInput, Some(400)));
}

#[tokio::test]
async fn a_machine_s_alerts_follow_no_foreign_or_endless_next_link() {
    let page = |link: &str| {
        format!(
            r#"{{"value": [{{"id": "a1", "machineId": "{DOC_MACHINE}"}}], "@odata.nextLink": "{link}"}}"#
        )
    };
    let url = replay(vec![
        (
            "/api/machines/m1/alerts",
            200,
            None,
            page("https://evil.example/api/machines/m1/alerts?$skip=1"),
        ),
        (
            "/api/machines/m2/alerts",
            200,
            None,
            page("/api/machines/m2/alerts"),
        ),
        (
            "/api/machines/m3/alerts",
            200,
            None,
            page("/api/ips/10.0.0.1/alerts?$skip=1"),
        ),
    ])
    .await;
    let c = client(&url);
    let first = |id: &str| {
        c.call(Call::first(FetchKey::DeviceAlerts(
            parse_device_id(id).unwrap(),
        )))
    };
    let p = first("m1").await.unwrap();
    assert!(
        matches!(&p.next, Some(Next::Refused { why, .. }) if why == "another origin"),
        "{:?}",
        p.next
    );
    let p = first("m2").await.unwrap();
    assert_eq!(p.next, Some(Next::Loop));
    let p = first("m3").await.unwrap();
    assert!(
        matches!(&p.next, Some(Next::Refused { why, .. }) if why == "another path"),
        "{:?}",
        p.next
    );
}

#[test]
fn findbyip_keys_cut_the_time_to_seconds() {
    let now = Utc::now();
    let second = UtcSecond::new(now - chrono::Duration::minutes(5)).time();
    let key = |ms| {
        FetchKey::devices_at(
            ip("10.0.0.9"),
            second + chrono::Duration::milliseconds(ms),
            now,
        )
    };
    let a = key(100).unwrap();
    assert_eq!(
        a,
        FetchKey::DevicesAt(ip("10.0.0.9"), UtcSecond::new(second))
    );
    assert_eq!(
        Ok(a),
        key(900),
        "one second, one key: one cache entry, one call"
    );
}
