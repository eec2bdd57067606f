//! The real client against the real simulator over loopback: every status path the API has,
//! mapped to an answer or to the right error kind; paging; refusals that protect the token.

use crate::support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::defender::{
    ApiError, Call, ErrorKind, FetchKey, FetchValue, LookBack, Next, Page, Transport,
    parse_alert_id,
};
use mde_triage::fetch::{FetchEvent, FetchRequest, Priority, SchedulerConfig, Ticket, spawn};
use mde_triage::sim::{self, SimConfig, SimHandle};
use support::{DOC_ALERT, DOC_IP, ip};

async fn sim_with(config: SimConfig) -> SimHandle {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    sim::start(any, config).await.expect("the simulator binds")
}

fn client_for(url: &str, token: &str) -> Client {
    client_with_timeout(url, token, Duration::from_secs(10))
}

fn client_with_timeout(url: &str, token: &str, timeout: Duration) -> Client {
    Client::new(
        ClientConfig {
            base_url: url.to_owned(),
            timeout,
        },
        Arc::new(StaticToken::new(token)),
    )
    .expect("a loopback URL is accepted")
}

async fn get(client: &Client, key: FetchKey) -> Result<Page, ApiError> {
    client.call(Call::first(key)).await
}

fn stats_of(page: Page) -> Option<mde_triage::defender::IpStats> {
    match page.value {
        FetchValue::Stats(s) => s,
        other => panic!("stats expected, got {other:?}"),
    }
}

fn alerts_of(page: &Page) -> Vec<String> {
    match &page.value {
        FetchValue::Alerts(a) => a.iter().map(|a| a.id.clone()).collect(),
        other => panic!("alerts expected, got {other:?}"),
    }
}

#[tokio::test]
async fn stats_carry_the_documented_values() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, &sim.token);
    let stats = stats_of(
        get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stats.prevalence(), Some(63515));
    assert_eq!(
        stats.org_first_seen.unwrap().to_rfc3339(),
        "2017-07-30T13:36:06+00:00"
    );
    assert_eq!(
        stats.org_last_seen.unwrap().to_rfc3339(),
        "2017-08-29T13:32:59+00:00"
    );
    // The legacy shape (prevalence as a string under `orgPrevalence`) reads the same.
    let legacy = stats_of(
        get(
            &client,
            FetchKey::IpStats(ip("104.80.104.128"), LookBack::MONTH),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(legacy.prevalence(), Some(4120));
    sim.shutdown().await;
}

#[tokio::test]
async fn not_seen_in_the_org_is_an_answer_whether_404_or_zero() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, &sim.token);
    // 404 from the stats endpoint: no stats, not an error.
    let page = get(
        &client,
        FetchKey::IpStats(ip("198.51.100.77"), LookBack::MONTH),
    )
    .await
    .unwrap();
    assert_eq!(stats_of(page), None);
    // 200 with zero prevalence and null times.
    let zero = stats_of(
        get(
            &client,
            FetchKey::IpStats(ip("23.203.232.228"), LookBack::MONTH),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(zero.prevalence(), Some(0));
    assert!(!zero.seen_in_org());
    assert_eq!(zero.org_first_seen, None);
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [404, 200]);
    sim.shutdown().await;
}

#[tokio::test]
async fn related_alerts_and_ips_follow_the_story() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, &sim.token);
    let page = get(&client, FetchKey::IpAlerts(ip(DOC_IP))).await.unwrap();
    assert!(alerts_of(&page).contains(&DOC_ALERT.to_owned()));
    // A valid IP nobody saw: an empty list, not an error (FACTS.md section 2).
    let page = get(&client, FetchKey::IpAlerts(ip("192.0.2.200")))
        .await
        .unwrap();
    assert!(alerts_of(&page).is_empty());

    let page = get(
        &client,
        FetchKey::AlertIps(parse_alert_id(DOC_ALERT).unwrap()),
    )
    .await
    .unwrap();
    let FetchValue::Ips(ips) = page.value else {
        panic!()
    };
    let ips: Vec<&str> = ips.iter().map(|r| r.id.as_str()).collect();
    assert!(ips.contains(&"104.80.104.128") && ips.contains(&"23.203.232.228"));
    sim.shutdown().await;
}

#[tokio::test]
async fn server_text_with_escape_sequences_arrives_defused() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, &sim.token);
    let page = get(&client, FetchKey::IpAlerts(ip("10.20.30.40")))
        .await
        .unwrap();
    let FetchValue::Alerts(alerts) = page.value else {
        panic!()
    };
    let hostile = alerts
        .iter()
        .find(|a| a.title.starts_with("Suspicious service created"))
        .expect("the demo tenant's hostile alert");
    for text in [&hostile.title, &hostile.description] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "control characters left in {text:?}"
        );
        assert!(!text.contains('\u{202e}'), "bidi override left in {text:?}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unknown_alert_is_not_found_with_its_correlation_id() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, &sim.token);
    let err = get(
        &client,
        FetchKey::AlertIps(parse_alert_id("da000000000000000000_1").unwrap()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.status, Some(404));
    assert!(err.target.as_deref().is_some_and(|t| t.contains("-sim0-")));
    assert!(err.message.contains("not found"), "{}", err.message);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_request_maps_to_invalid_input() {
    // The client never sends an invalid IP (it is a typed key); the API's 400 is still mapped
    // by status when something else the API dislikes gets through.
    let sim = sim_with(SimConfig::default()).await;
    mde_triage::tls::install();
    let http = crate::support::http();
    for path in [
        "/api/ips/10.1.2/stats",
        "/api/ips/10.1.2.3/stats?lookBackHours=0",
    ] {
        let response = http
            .get(format!("{}{path}", sim.url))
            .bearer_auth(&sim.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.bytes().await.unwrap();
        let err = ApiError::from_response(status, None, &body);
        assert_eq!((status, err.kind), (400, ErrorKind::InvalidInput), "{path}");
        assert!(err.target.is_some());
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, "not-the-token");
    let err = get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Unauthorized, Some(401)));
    assert!(
        !err.sentence().contains("not-the-token"),
        "the token never appears in errors"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_permission_is_forbidden() {
    let sim = sim_with(SimConfig {
        roles: vec!["Alert.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let client = client_for(&sim.url, &sim.token);
    let err = get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Forbidden, Some(403)));
    assert!(err.message.contains("Ip.Read.All"), "{}", err.message);
    // The endpoint whose permission is granted still answers.
    assert!(get(&client, FetchKey::IpAlerts(ip(DOC_IP))).await.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn over_the_limit_is_throttled_with_retry_after() {
    let sim = sim_with(SimConfig {
        limits: "2/1m".parse().unwrap(),
        ..SimConfig::default()
    })
    .await;
    let client = client_for(&sim.url, &sim.token);
    for _ in 0..2 {
        get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
            .await
            .unwrap();
    }
    let err = get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Throttled, Some(429)));
    let wait = err.retry_after.expect("Retry-After is read");
    assert!(
        (Duration::from_secs(55)..=Duration::from_secs(60)).contains(&wait),
        "{wait:?}"
    );
    assert!(err.message.contains("quota exceeded"), "{}", err.message);
    // The limit is per endpoint: another endpoint still answers.
    assert!(get(&client, FetchKey::IpAlerts(ip(DOC_IP))).await.is_ok());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failing_service_is_a_server_error() {
    let sim = sim_with(SimConfig {
        fail_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    let client = client_for(&sim.url, &sim.token);
    let err = get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Server, Some(500)));
    assert!(err.kind.is_transient());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let sim = sim_with(SimConfig {
        latency: Duration::from_secs(5),
        ..SimConfig::default()
    })
    .await;
    let client = client_with_timeout(&sim.url, &sim.token, Duration::from_millis(200));
    let err = get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert_eq!(err.status, None);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_closed_port_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = client_for(&url, "t");
    let err = get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network);
    assert!(err.message.contains("connect"), "{}", err.message);
}

#[tokio::test]
async fn pages_are_followed_through_the_scheduler() {
    let sim = sim_with(SimConfig {
        page_size: 1,
        ..SimConfig::default()
    })
    .await;
    let client = client_for(&sim.url, &sim.token);
    // One page by hand: the link is on the same origin.
    let first = get(&client, FetchKey::IpAlerts(ip("203.0.113.66")))
        .await
        .unwrap();
    let Some(Next::Follow(link)) = first.next.clone() else {
        panic!("a next link to follow with page_size 1: {:?}", first.next)
    };
    assert!(link.starts_with(&sim.url), "{link}");

    // All pages through the scheduler: three alerts, three calls, in the right order.
    let (handle, mut events) = spawn(Arc::new(client), SchedulerConfig::default());
    handle.request(FetchRequest::new(
        FetchKey::IpAlerts(ip("203.0.113.66")),
        Ticket(1),
        Priority::Foreground,
    ));
    let result = loop {
        if let Some(FetchEvent::Done { result, .. }) = events.recv().await {
            break result;
        }
    };
    let FetchValue::Alerts(alerts) = result.unwrap() else {
        panic!()
    };
    assert_eq!(alerts.len(), 3);
    // Pages arrive in the API's order (newest first) and are joined in that order.
    let created: Vec<_> = alerts.iter().map(|a| a.alert_creation_time).collect();
    let mut newest_first = created.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, newest_first);
    let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths[1..],
        [
            "/api/ips/203.0.113.66/alerts",
            "/api/ips/203.0.113.66/alerts?$skip=1",
            "/api/ips/203.0.113.66/alerts?$skip=2",
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, &sim.token);
    for link in [
        "https://evil.example/api/ips/10.0.0.1/alerts?$skip=1",
        "http://127.0.0.2:1/api/ips/10.0.0.1/alerts",
        "not a url",
    ] {
        let err = client
            .call(Call {
                key: FetchKey::IpAlerts(ip(DOC_IP)),
                next_link: Some(link.into()),
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "{link}");
    }
    assert!(sim.requests().is_empty(), "nothing was sent anywhere");
    sim.shutdown().await;
}

#[test]
fn a_token_never_goes_over_plain_http_to_a_remote_host() {
    let make = |url: &str| {
        Client::new(
            ClientConfig {
                base_url: url.into(),
                timeout: Duration::from_secs(1),
            },
            Arc::new(StaticToken::new("secret-token")),
        )
    };
    let err = make("http://api.security.microsoft.com").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("https"), "{}", err.message);
    assert!(make("ftp://127.0.0.1").is_err());
    assert!(make("not a url").is_err());
    for ok in [
        "https://api.security.microsoft.com",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://localhost:8080",
    ] {
        assert!(make(ok).is_ok(), "{ok}");
    }
    // Debug output of the client and its token source never shows the token.
    let client = make("https://api.security.microsoft.com").unwrap();
    assert!(!format!("{client:?}").contains("secret-token"));
    assert!(!format!("{:?}", StaticToken::new("secret-token")).contains("secret-token"));
}

#[tokio::test]
async fn the_token_endpoint_answers_like_entra_id() {
    let sim = sim_with(SimConfig::default()).await;
    mde_triage::tls::install();
    let http = crate::support::http();
    let post = |secret: &'static str| {
        http.post(format!(
            "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            sim.url
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client"),
            ("client_secret", secret),
            ("scope", "https://api.securitycenter.microsoft.com/.default"),
        ])
        .send()
    };
    let ok: serde_json::Value = post("sim-secret").await.unwrap().json().await.unwrap();
    assert_eq!(ok["token_type"], "Bearer");
    let issued = ok["access_token"].as_str().unwrap();
    let claims = mde_triage::defender::jwt::claims(issued).expect("JWT-shaped");
    assert_eq!(
        claims.roles,
        ["Ip.Read.All", "Alert.Read.All", "Machine.Read.All"]
    );
    let bad = post("wrong").await.unwrap();
    assert_eq!(bad.status(), 401);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );
    // The token it issued works on the API.
    let client = client_for(&sim.url, ok["access_token"].as_str().unwrap());
    assert!(
        get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
            .await
            .is_ok()
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_request_log_is_served_for_tests_and_scripts() {
    let sim = sim_with(SimConfig::default()).await;
    let client = client_for(&sim.url, &sim.token);
    get(&client, FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH))
        .await
        .unwrap();
    let _ = get(
        &client,
        FetchKey::IpStats(ip("198.51.100.77"), LookBack::MONTH),
    )
    .await;
    let log: Vec<sim::LoggedRequest> = reqwest::get(format!("{}/_sim/requests", sim.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seen: Vec<(&str, u16)> = log.iter().map(|r| (r.path.as_str(), r.status)).collect();
    assert_eq!(
        seen,
        [
            ("/api/ips/10.209.67.177/stats?lookBackHours=720", 200),
            ("/api/ips/198.51.100.77/stats?lookBackHours=720", 404)
        ]
    );
    assert_eq!(sim.requests(), log, "the log route does not log itself");
    sim.shutdown().await;
}
