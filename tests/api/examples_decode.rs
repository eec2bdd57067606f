//! Every example body from the API's documentation (copied to `tests/fixtures/`) through the
//! client's decoder and error mapping. Three of the documentation's own examples are malformed
//! JSON: they must give a clear decode error, never a panic, also when served over HTTP.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use mde_triage::defender::client::{Client, ClientConfig, StaticToken, decode_page};
use mde_triage::defender::{
    Alert, ApiError, Call, ErrorKind, FetchKey, FetchValue, LookBack, Severity, Status, Transport,
    parse_alert_id,
};
use support::replay::replay;
use support::{DOC_ALERT, DOC_IP, fixture, ip};

fn stats_key() -> FetchKey {
    FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH)
}

fn alerts_key() -> FetchKey {
    FetchKey::IpAlerts(ip(DOC_IP))
}

fn ips_key() -> FetchKey {
    FetchKey::AlertIps(parse_alert_id(DOC_ALERT).unwrap())
}

fn stats_from(name: &str) -> mde_triage::defender::IpStats {
    match decode_page(&stats_key(), fixture(name).as_bytes())
        .unwrap()
        .value
    {
        FetchValue::Stats(Some(s)) => s,
        other => panic!("{name}: {other:?}"),
    }
}

fn alerts_from(name: &str) -> Vec<Alert> {
    match decode_page(&alerts_key(), fixture(name).as_bytes())
        .unwrap()
        .value
    {
        FetchValue::Alerts(a) => a.items,
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn every_fixture_is_covered_here() {
    // A new fixture must be given a test below (the device ones: device_examples.rs); this
    // list is the checklist.
    let covered = [
        "alert-machine.example.json",
        "alert-related-ips.example.json",
        "error-429-hourly.example.json",
        "error-429.example.json",
        "error-invalid-request-body.example.json",
        "error-machine-not-found.observed.example.json",
        "error-resource-not-found.example.json",
        "findbyip.legacy-2017.example.json",
        "findbyip.legacy-doc.example.json",
        "get-alert.example.json",
        "ip-related-alerts.example.json",
        "ip-related-alerts.legacy-2017.example.json",
        "ip-stats.example.json",
        "ip-stats.legacy-doc.example.json",
        "ip-stats.observed-third-party.example.json",
        "list-alerts-expand-evidence.example.json",
        "list-alerts.example.json",
        "machine-alerts.legacy-2017.example.json",
        "machine.example.json",
        "machine.observed-third-party.example.json",
        "token-response.example.json",
    ];
    assert_eq!(crate::support::fixture_names(""), covered);
}

#[test]
fn stats_in_each_documented_and_observed_shape() {
    let current = stats_from("ip-stats.example.json");
    assert_eq!(current.prevalence(), Some(63515));
    assert_eq!(
        current.org_first_seen.unwrap().to_rfc3339(),
        "2017-07-30T13:36:06+00:00"
    );
    assert_eq!(
        current.org_last_seen.unwrap().to_rfc3339(),
        "2017-08-29T13:32:59+00:00"
    );
    // Legacy: `orgPrevalence` as a string.
    let legacy = stats_from("ip-stats.legacy-doc.example.json");
    assert_eq!(legacy.organization_prevalence, None);
    assert_eq!(legacy.prevalence(), Some(63515));
    // Observed: both names, zero, null times: "not seen in the org".
    let both = stats_from("ip-stats.observed-third-party.example.json");
    assert_eq!(both.prevalence(), Some(0));
    assert!(!both.seen_in_org());
    assert_eq!((both.org_first_seen, both.org_last_seen), (None, None));
}

#[test]
fn related_alerts_current_and_legacy() {
    let alerts = alerts_from("ip-related-alerts.example.json");
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.id, "441688558380765161_2136280442");
    assert_eq!(
        (&a.severity, &a.status),
        (&Severity::Low, &Status::InProgress)
    );
    assert!(a.alert_creation_time.is_some());

    let legacy = alerts_from("ip-related-alerts.legacy-2017.example.json");
    assert_eq!(legacy[0].id, "636692391408655573_2010598859");
    assert_eq!(legacy[0].status, Status::New);
}

#[test]
fn a_single_alert_with_mitre_list_and_user_object() {
    let alert: Alert = serde_json::from_str(&fixture("get-alert.example.json")).unwrap();
    assert_eq!(alert.id, "da637472900382838869_1364969609");
    assert_eq!(alert.mitre_techniques, ["T1064", "T1085", "T1220"]);
    assert!(alert.related_user.is_some());
    // Seven fractional digits in its timestamps parse.
    assert!(alert.alert_creation_time.is_some());
}

#[test]
fn the_malformed_documentation_examples_give_decode_errors() {
    for (name, key) in [
        ("alert-related-ips.example.json", ips_key()),
        ("list-alerts.example.json", alerts_key()),
        ("list-alerts-expand-evidence.example.json", alerts_key()),
    ] {
        let body = fixture(name);
        let err = decode_page(&key, body.as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Decode, "{name}");
        // The message says where it broke and shows a short, clean excerpt.
        assert!(err.message.contains("line"), "{name}: {}", err.message);
        assert!(err.message.chars().count() < 300, "{name}: {}", err.message);
        assert!(!err.message.contains('\n'));
        assert!(
            err.sentence()
                .starts_with("the API sent a response we could not read")
        );
    }
}

#[test]
fn error_bodies_map_by_status_with_their_correlation_id() {
    let e = ApiError::from_response(
        400,
        None,
        fixture("error-invalid-request-body.example.json").as_bytes(),
    );
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert_eq!(e.message, "Request body is incorrect");
    assert_eq!(
        e.target.as_deref(),
        Some("1fa66c0f-18bd-4133-b378-36d76f3a2ba0")
    );

    let e = ApiError::from_response(
        404,
        None,
        fixture("error-resource-not-found.example.json").as_bytes(),
    );
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(
        e.sentence()
            .contains("43f4cb08-8fac-4b65-9db1-745c2ae65f3a")
    );

    // Real throttling replies carry the code "429" as a string; the status decides.
    let e = ApiError::from_response(429, None, fixture("error-429.example.json").as_bytes());
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.retry_after, Some(Duration::from_secs(60)));
    let e = ApiError::from_response(
        429,
        Some("12"),
        fixture("error-429-hourly.example.json").as_bytes(),
    );
    assert_eq!(
        e.retry_after,
        Some(Duration::from_secs(12)),
        "the header wins"
    );
    let e = ApiError::from_response(
        429,
        None,
        fixture("error-429-hourly.example.json").as_bytes(),
    );
    assert_eq!(e.retry_after, Some(Duration::from_secs(3600)));
}

#[test]
fn the_token_response_example_is_well_formed() {
    // Read by the auth issue's token client; here only its shape is pinned.
    let v: serde_json::Value =
        serde_json::from_str(&fixture("token-response.example.json")).unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].is_number() || v["expires_in"].is_string());
}

fn client(url: &str) -> Client {
    Client::new(
        ClientConfig {
            base_url: url.into(),
            timeout: Duration::from_secs(5),
        },
        Arc::new(StaticToken::new("t")),
    )
    .unwrap()
}

#[tokio::test]
async fn malformed_and_odd_bodies_over_http_give_clear_errors() {
    let doc_ips = format!("/api/alerts/{DOC_ALERT}/ips");
    let doc_ips: &'static str = Box::leak(doc_ips.into_boxed_str());
    let huge = format!(
        "{{\"value\": [{}]}}",
        "{\"id\": \"10.0.0.1\"},".repeat(1_100_000)
    );
    let url = replay(vec![
        (doc_ips, 200, None, fixture("alert-related-ips.example.json")),
        (
            "/api/ips/10.209.67.177/alerts",
            200,
            None,
            fixture("list-alerts.example.json"),
        ),
        (
            "/api/ips/10.209.67.177/stats",
            502,
            Some(("content-type", "text/html")),
            "<html><body>Bad Gateway\u{1b}[2J</body></html>".into(),
        ),
        (
            "/api/ips/10.0.0.3/stats",
            403,
            None,
            r#"{"error":{"code":"Forbidden","message":"\u001b]0;owned\u0007Missing application roles. API required roles: Ip.Read.All","target":"t-403"}}"#.into(),
        ),
        (
            "/api/ips/10.0.0.4/stats",
            429,
            None,
            fixture("error-429.example.json"),
        ),
        ("/api/ips/10.0.0.5/stats", 200, None, String::new()),
        ("/api/ips/10.0.0.6/alerts", 200, None, huge),
        ("/api/ips/10.0.0.7/stats", 418, None, "teapot".into()),
    ])
    .await;
    let c = client(&url);
    let call = |key: FetchKey| c.call(Call::first(key));

    let e = call(ips_key()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(
        e.message.contains(r#""id": "23.203.232.228 }"#),
        "the excerpt shows where it broke: {}",
        e.message
    );

    let e = call(alerts_key()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);

    let e = call(stats_key()).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Server, Some(502)));
    assert!(!e.sentence().contains('\u{1b}'));

    let e = call(FetchKey::IpStats(ip("10.0.0.3"), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.message.contains("Ip.Read.All"));
    assert!(!e.message.chars().any(char::is_control), "{:?}", e.message);

    let e = call(FetchKey::IpStats(ip("10.0.0.4"), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Throttled);
    assert_eq!(e.retry_after, Some(Duration::from_secs(60)));

    let e = call(FetchKey::IpStats(ip("10.0.0.5"), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode, "an empty 200 body");

    let e = call(FetchKey::IpAlerts(ip("10.0.0.6"))).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Decode);
    assert!(e.message.contains("larger than"), "{}", e.message);

    let e = call(FetchKey::IpStats(ip("10.0.0.7"), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Protocol, Some(418)));
}

#[test]
fn values_the_documentation_does_not_list_are_kept_not_rejected() {
    // A newer service may send a severity, status or classification this build never heard
    // of: the alert still decodes, the value is kept as sent (sanitised), and nothing else
    // about the alert is lost.
    let mut v: serde_json::Value =
        serde_json::from_str(&fixture("get-alert.example.json")).unwrap();
    v["severity"] = "Critical".into();
    v["status"] = "Reopened\u{1b}[31m".into();
    v["classification"] = "SecurityTesting".into();
    v["brandNewField"] = serde_json::json!({"nested": [1, 2]});
    let alert: Alert = serde_json::from_value(v).unwrap();
    assert_eq!(alert.severity, Severity::Other("Critical".into()));
    assert_eq!(alert.severity.as_str(), "Critical");
    assert_eq!(alert.status, Status::Other("Reopened".into()));
    assert_eq!(alert.id, "da637472900382838869_1364969609");
    // And it round-trips as the same text, for the JSON output and the report.
    assert_eq!(
        serde_json::to_value(&alert.severity).unwrap(),
        serde_json::json!("Critical")
    );
}
