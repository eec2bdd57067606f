//! The API as hostile or broken servers send it: long and endless paging, repeated pages, links
//! to other paths and origins, redirects, a failing later page, elements and fields of odd
//! types. The real binary (and the real client under the scheduler) over loopback; nothing is
//! lost, invented or hidden without a word.

mod odd_types;

use crate::support;

use std::process::{Command, Output};
use std::sync::Arc;

use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::defender::{Endpoint, FetchKey, FetchValue};
use mde_triage::fetch::{FetchEvent, FetchRequest, Priority, SchedulerConfig, Ticket, spawn};
use serde_json::{Value, json};
use support::hostile::{Reply, alerts, page_of, serve};

const IP: &str = "10.1.2.3";

/// Runs `mde-triage ip IP --json` (plus `extra`) against `url`.
async fn ip_json(url: &str, extra: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", IP, "--json", "--no-cache"])
        .args(extra)
        .env("MDE_API_URL", url)
        .env("MDE_TOKEN", "test-token")
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off")
        .env("NO_COLOR", "1");
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is no JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stats_reply() -> Reply {
    Reply::json(json!({"ipAddress": IP, "organizationPrevalence": 3}))
}

/// `pages` pages of `per` alerts, each linking to the next by `?page=N`.
fn paged(pages: usize, per: usize) -> impl Fn(&str, &str) -> Reply + Send + Sync {
    move |base: &str, target: &str| {
        if target.contains("/stats?") {
            return stats_reply();
        }
        let n = page_of(target);
        let mut body = json!({ "value": alerts((n - 1) * per, per) });
        if n < pages {
            body["@odata.nextLink"] =
                Value::String(format!("{base}/api/ips/{IP}/alerts?page={}", n + 1));
        }
        Reply::json(body)
    }
}

fn alert_requests(log: &[String]) -> usize {
    log.iter().filter(|r| r.contains("/alerts")).count()
}

fn ids(v: &Value) -> Vec<String> {
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn fifteen_pages_come_back_whole() {
    let server = serve(paged(15, 100)).await;
    let out = ip_json(&server.url, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(ids(&v).len(), 1500);
    assert_eq!(v["truncated"], false);
    assert_eq!(v["warnings"], json!([]));
    assert_eq!(alert_requests(&server.requests()), 15);
    assert!(!stderr(&out).contains("cut"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_cap_is_said_in_json_and_on_stderr() {
    let server = serve(paged(15, 100)).await;
    let out = ip_json(&server.url, &["--max-pages", "10"]).await;
    // A cap is the run the analyst configured: exit 0, and the cut said everywhere.
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(ids(&v).len(), 1000);
    assert_eq!(v["truncated"], true);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("list cut at 10 pages"),
        "{v}"
    );
    assert!(
        stderr(&out).contains("list cut at 10 pages"),
        "{}",
        stderr(&out)
    );
    assert_eq!(alert_requests(&server.requests()), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_chain_of_links_stops_at_the_default_cap() {
    let server = serve(paged(usize::MAX, 2)).await;
    let out = ip_json(&server.url, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["truncated"], true);
    assert_eq!(ids(&v).len(), 100);
    assert_eq!(alert_requests(&server.requests()), 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_page_ends_the_walk_and_no_alert_is_listed_twice() {
    // Page 3 links back to page 2; page 2 also repeats two alerts of page 1.
    let server = serve(|base: &str, target: &str| {
        if target.contains("/stats?") {
            return stats_reply();
        }
        let n = page_of(target);
        let value = match n {
            1 => alerts(0, 5),
            2 => [alerts(3, 2), alerts(5, 5)].concat(),
            _ => alerts(10, 5),
        };
        let next = if n == 3 { 2 } else { n + 1 };
        Reply::json(json!({
            "value": value,
            "@odata.nextLink": format!("{base}/api/ips/{IP}/alerts?page={next}"),
        }))
    })
    .await;
    let out = ip_json(&server.url, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    let mut got = ids(&v);
    assert_eq!(got.len(), 15, "{got:?}");
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 15, "every id once");
    assert_eq!(v["truncated"], true, "a looping server may hold more");
    assert!(stderr(&out).contains("repeated a page"), "{}", stderr(&out));
    assert_eq!(alert_requests(&server.requests()), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_next_link_elsewhere_is_refused_and_named() {
    let cases: [(&str, &str); 5] = [
        ("{base}/api/alerts?$top=100", "another path"),
        ("{base}/api/ips/10.9.9.9/alerts?page=2", "another path"),
        (
            "http://127.0.0.2:9/api/ips/10.1.2.3/alerts?page=2",
            "another origin",
        ),
        (
            "https://{host}/api/ips/10.1.2.3/alerts?page=2",
            "another origin",
        ),
        (
            "http://analyst:pw@{host}/api/ips/10.1.2.3/alerts?page=2",
            "user name or password",
        ),
    ];
    for (link, why) in cases {
        let server = serve(move |base: &str, target: &str| {
            if target.contains("/stats?") {
                return stats_reply();
            }
            let host = base.trim_start_matches("http://");
            let link = link.replace("{base}", base).replace("{host}", host);
            Reply::json(json!({ "value": alerts(0, 3), "@odata.nextLink": link }))
        })
        .await;
        let out = ip_json(&server.url, &[]).await;
        assert_eq!(out.status.code(), Some(10), "{link}: {}", stderr(&out));
        let v = json_of(&out);
        assert_eq!(ids(&v).len(), 3, "{link}: the first page is kept and shown");
        assert_eq!(v["truncated"], true);
        let err = stderr(&out);
        assert!(err.contains(why), "{link}: {err}");
        assert!(err.contains("/api/"), "{link}: the target is named: {err}");
        assert!(
            !err.contains("pw@"),
            "{link}: a password is never repeated: {err}"
        );
        assert_eq!(
            server.requests().len(),
            2,
            "{link}: only stats and page 1: {:?}",
            server.requests()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_are_not_followed_and_name_their_target() {
    let elsewhere = serve(|_: &str, _: &str| Reply::json(json!({ "value": alerts(0, 9) }))).await;
    let foreign = format!("{}/api/ips/{IP}/alerts", elsewhere.url);
    for (status, to) in [
        (302, foreign.clone()),
        (301, format!("https://127.0.0.1:1/api/ips/{IP}/alerts")),
        (307, format!("/api/ips/{IP}/alerts?again")),
        (308, String::from("/api/ips/10.1.2.3/alerts")),
    ] {
        let to2 = to.clone();
        let server = serve(move |_: &str, target: &str| {
            if target.contains("/stats?") {
                return stats_reply();
            }
            Reply::redirect(status, &to2)
        })
        .await;
        let out = ip_json(&server.url, &[]).await;
        assert_eq!(out.status.code(), Some(10), "{status}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("redirect"), "{err}");
        assert!(err.contains(&to), "{status}: the target is named: {err}");
        // One request per endpoint: a redirect is final, never retried or followed.
        assert_eq!(
            server.requests().len(),
            2,
            "{status}: {:?}",
            server.requests()
        );
    }
    assert!(
        elsewhere.requests().is_empty(),
        "nothing reached the other origin"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_later_page_keeps_the_earlier_ones() {
    let server = serve(|base: &str, target: &str| {
        if target.contains("/stats?") {
            return stats_reply();
        }
        match page_of(target) {
            1 => Reply::json(json!({
                "value": alerts(0, 4),
                "@odata.nextLink": format!("{base}/api/ips/{IP}/alerts?page=2"),
            })),
            _ => Reply::status(
                500,
                r#"{"error":{"code":"InternalError","message":"boom"}}"#,
            ),
        }
    })
    .await;
    let out = ip_json(&server.url, &[]).await;
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(ids(&v).len(), 4);
    assert_eq!(v["truncated"], true);
    assert!(stderr(&out).contains("page 2 failed"), "{}", stderr(&out));
    // Page 1, then page 2 three times (two retries).
    assert_eq!(alert_requests(&server.requests()), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_odd_alert_costs_only_itself() {
    let server = serve(|_: &str, target: &str| {
        if target.contains("/stats?") {
            return Reply::json(json!({"ipAddress": 7, "organizationPrevalence": "12"}));
        }
        Reply::json(json!({ "value": [
            {"id": "a1_1", "title": "clean", "severity": "High"},
            "not an alert",
            {"id": "a2_1", "title": {"nested": true}, "incidentId": "4242",
             "relatedUser": "CONTOSO\\bob", "comments": null, "mitreTechniques": "T1059, T1003",
             "evidence": {"entityType": "File"}, "severity": 3},
            17,
            {"id": "a3_1", "title": "also clean", "alertCreationTime": 1700000000},
        ]}))
    })
    .await;
    let out = ip_json(&server.url, &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(
        v["stats"]["prevalence"], 12,
        "a count sent as a string is read"
    );
    let by_id = |id: &str| {
        v["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing: {v}"))
    };
    assert_eq!(by_id("a1_1")["title"], "clean");
    assert_eq!(by_id("a3_1")["title"], "also clean");
    let odd = by_id("a2_1");
    assert_eq!(odd["incident_id"], 4242);
    assert_eq!(odd["user"], "CONTOSO\\bob");
    assert_eq!(odd["mitre_techniques"], json!(["T1059", "T1003"]));
    assert_eq!(odd["severity"], "3", "an unknown value is kept as sent");
    assert_eq!(v["unread"], 2);
    assert_eq!(v["truncated"], false);
    assert_eq!(v["warnings"], json!(["2 alerts could not be read"]));
    assert!(stderr(&out).contains("2 alerts could not be read"));
}

/// Through the real client and the scheduler: every request the server saw is a call in the
/// budget, pages and a redirect included.
#[tokio::test(flavor = "multi_thread")]
async fn every_request_is_a_call_on_the_books() {
    for server in [
        serve(paged(7, 3)).await,
        serve(|_: &str, _: &str| Reply::redirect(302, "/api/ips/10.1.2.3/alerts")).await,
    ] {
        let client = Client::new(
            ClientConfig {
                base_url: server.url.clone(),
                timeout: std::time::Duration::from_secs(5),
            },
            Arc::new(StaticToken::new("t")),
        )
        .unwrap();
        let (handle, mut events) = spawn(Arc::new(client), SchedulerConfig::default());
        let key = FetchKey::IpAlerts(IP.parse().unwrap());
        handle.request(FetchRequest::new(key, Ticket(1), Priority::Foreground));
        // The scheduler publishes the budget as each call starts, so by the answer the last
        // figure it published counts every request made for it.
        let mut calls = 0;
        let done = loop {
            match events.recv().await.expect("an answer") {
                FetchEvent::Budget(b) => {
                    calls = b.endpoint(Endpoint::IpAlerts).map_or(0, |e| e.calls);
                }
                FetchEvent::Done { result, .. } => break result,
                FetchEvent::Retrying { .. } => {}
            }
        };
        assert_eq!(
            calls,
            server.requests().len() as u64,
            "{:?}",
            server.requests()
        );
        if let Ok(FetchValue::Alerts(list)) = &done {
            assert_eq!(list.len(), 21);
            assert_eq!(list.pages, 7);
        }
    }
}
