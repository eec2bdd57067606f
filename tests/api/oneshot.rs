//! The one-shot commands as a script runs them: the real binary, configured by `MDE_API_URL`
//! and `MDE_TOKEN`, against the simulator over loopback. Output shapes and exit codes are the
//! stable contract README documents.

use crate::support;
use crate::support::sim_with;

use std::process::{Command, Output};

use mde_triage::sim::SimConfig;
use serde_json::Value;
use support::{DOC_ALERT, DOC_IP};

/// Runs the binary off the async runtime, so the in-process simulator keeps serving.
pub(crate) async fn run(url: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(args)
        .env("MDE_API_URL", url)
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        // No `az` to fall back on: the credential sources are exactly what the test sets.
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off")
        .env("NO_COLOR", "1");
    if let Some(t) = token {
        cmd.env("MDE_TOKEN", t);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_json_has_the_stable_shape() {
    let sim = sim_with(SimConfig::default()).await;
    // Defanged and padded, as pasted from a ticket.
    let out = run(
        &sim.url,
        Some(&sim.token),
        &["ip", " 10[.]209[.]67[.]177 ", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["ip"], DOC_IP);
    assert_eq!(v["stats"]["prevalence"], 63515);
    assert_eq!(v["stats"]["first_seen"], "2017-07-30T13:36:06Z");
    assert_eq!(v["stats"]["last_seen"], "2017-08-29T13:32:59Z");
    let alerts = v["alerts"].as_array().unwrap();
    let doc = alerts
        .iter()
        .find(|a| a["id"] == DOC_ALERT)
        .expect("the doc alert");
    for field in [
        "id", "title", "severity", "status", "category", "created", "device",
    ] {
        assert!(!doc[field].is_null(), "{field} present: {doc}");
    }
    assert_eq!(doc["severity"], "High");
    // Newest first.
    let created: Vec<&str> = alerts
        .iter()
        .map(|a| a["created"].as_str().unwrap())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted);
    let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 2, "one call per endpoint: {paths:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn not_seen_is_null_stats_whether_404_or_zero() {
    let sim = sim_with(SimConfig::default()).await;
    for ip in ["198.51.100.77", "23.203.232.228"] {
        let out = run(&sim.url, Some(&sim.token), &["ip", ip, "--json"]).await;
        assert!(out.status.success(), "{ip}: {}", stderr(&out));
        let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert!(v["stats"].is_null(), "{ip}: {v}");
        let table = run(&sim.url, Some(&sim.token), &["ip", ip]).await;
        assert!(
            stdout(&table).contains("not seen in the org"),
            "{}",
            stdout(&table)
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_table_is_readable() {
    let sim = sim_with(SimConfig::default()).await;
    let out = run(&sim.url, Some(&sim.token), &["ip", DOC_IP]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("prevalence 63515 devices"), "{text}");
    assert!(
        text.contains("SEVERITY") && text.contains(DOC_ALERT),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no escape sequences from server text"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_json_lists_its_ips() {
    let sim = sim_with(SimConfig::default()).await;
    let out = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT, "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    // `device` is always there, null unless `--with device` asks (`alert_device`).
    assert_eq!(
        v,
        serde_json::json!({
            "alert": DOC_ALERT,
            "ips": ["10.209.67.177", "104.80.104.128", "23.203.232.228"],
            "truncated": false,
            "unread": 0,
            "warnings": [],
            "device": null
        })
    );
    let table = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT]).await;
    assert!(
        stdout(&table).contains("3 related IPs"),
        "{}",
        stdout(&table)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_makes_no_request() {
    let sim = sim_with(SimConfig::default()).await;
    for args in [
        &["ip", "10.209.67.1777"][..],
        &["ip", "not-an-ip"],
        &["alert", "da1; rm -rf /"],
    ] {
        let out = run(&sim.url, Some(&sim.token), args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
        assert!(stdout(&out).is_empty());
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failure_has_its_exit_code() {
    let sim = sim_with(SimConfig::default()).await;
    let unknown = run(
        &sim.url,
        Some(&sim.token),
        &["alert", "da000000000000000000_1"],
    )
    .await;
    assert_eq!(unknown.status.code(), Some(4), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("not found"));

    let wrong = run(&sim.url, Some("wrong"), &["ip", DOC_IP]).await;
    assert_eq!(wrong.status.code(), Some(5), "{}", stderr(&wrong));
    assert!(!stderr(&wrong).contains("wrong\n") && stderr(&wrong).contains("token"));

    let none = run(&sim.url, None, &["ip", DOC_IP]).await;
    assert_eq!(none.status.code(), Some(11), "{}", stderr(&none));
    assert!(stderr(&none).contains("MDE_TOKEN"));
    sim.shutdown().await;

    // The forbidden path: a registration without Alert.Read.All.
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let out = run(&sim.url, Some(&sim.token), &["ip", DOC_IP]).await;
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    sim.shutdown().await;

    // A failing service: retried (visible on stderr), then a server error.
    let sim = sim_with(SimConfig {
        fail_rate: 1.0,
        ..SimConfig::default()
    })
    .await;
    let out = run(&sim.url, Some(&sim.token), &["alert", DOC_ALERT]).await;
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("retrying (2/3)") && err.contains("retrying (3/3)"),
        "{err}"
    );
    // The IPs alone (the device is asked only with `--with device`), tried 3 times.
    assert_eq!(sim.requests().len(), 3);
    sim.shutdown().await;

    // Nothing listening.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = run(&url, Some("t"), &["ip", DOC_IP]).await;
    assert_eq!(out.status.code(), Some(12), "{}", stderr(&out));
    assert!(stderr(&out).contains("could not reach the API"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_s_refusals_and_unreadable_answers_have_their_own_codes() {
    let empty = r#"{"value": []}"#.to_owned();
    let url = support::replay::replay(vec![
        (
            "/api/ips/10.0.0.1/stats",
            400,
            None,
            support::fixture("error-invalid-request-body.example.json"),
        ),
        ("/api/ips/10.0.0.1/alerts", 200, None, empty.clone()),
        // The documentation's own malformed example, as a server might send it.
        (
            "/api/alerts/da1_1/ips",
            200,
            None,
            support::fixture("alert-related-ips.example.json"),
        ),
        // An hourly quota spent: an hour to wait is more than a one-shot waits.
        (
            "/api/ips/10.0.0.3/stats",
            429,
            Some(("retry-after", "3600")),
            support::fixture("error-429-hourly.example.json"),
        ),
        ("/api/ips/10.0.0.3/alerts", 200, None, empty),
    ])
    .await;

    let out = run(&url, Some("t"), &["ip", "10.0.0.1"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("rejected the request as invalid (HTTP 400)"));

    let out = run(&url, Some("t"), &["alert", "da1_1"]).await;
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(stderr(&out).contains("could not read"), "{}", stderr(&out));

    let out = run(&url, Some("t"), &["ip", "10.0.0.3", "--json"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("throttled by the API")
            && err.contains("longer than a one-shot waits")
            && (err.contains("retry after 3600s") || err.contains("retry after 3599s")),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "no partial JSON: {}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_api_is_a_timeout_not_a_network_error() {
    let sim = sim_with(SimConfig {
        latency: std::time::Duration::from_secs(5),
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[settings]\ntimeout_secs = 1\n").unwrap();
    let config = config.to_string_lossy().into_owned();
    let out = run(
        &sim.url,
        Some(&sim.token),
        &["--config", &config, "alert", DOC_ALERT],
    )
    .await;
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("retrying (3/3)") && err.contains("did not answer in time"),
        "{err}"
    );
}

/// `mde-triage sim` started by hand as README shows, with its own flags; the one-shot commands
/// use the two export lines it prints.
#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_started_by_hand_serves_the_one_shot_commands() {
    use std::io::BufRead as _;
    let mut sim = Command::new(env!("CARGO_BIN_EXE_mde-triage"))
        .envs(support::isolated_env())
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "2/1h",
            "--latency-ms",
            "20",
        ])
        .env("MDE_TRIAGE_LOG", "off")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(sim.stdout.take().unwrap()).lines();
    let (mut url, mut token) = (None, None);
    while url.is_none() || token.is_none() {
        let line = lines
            .next()
            .expect("the simulator prints its URL and token")
            .unwrap();
        if let Some(v) = line.trim().strip_prefix("export MDE_API_URL=") {
            url = Some(v.to_owned());
        }
        if let Some(v) = line.trim().strip_prefix("export MDE_TOKEN=") {
            token = Some(v.to_owned());
        }
        assert!(
            !line.contains("limits") || line.contains("2/1h"),
            "its limits are said: {line}"
        );
    }
    let (url, token) = (url.unwrap(), token.unwrap());

    let out = run(&url, Some(&token), &["ip", DOC_IP, "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["stats"]["prevalence"], 63515);
    let out = run(&url, Some(&token), &["alert", DOC_ALERT, "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    // Its --rate-limit is its own: the stats endpoint's third call of the hour is refused
    // with a 429, which its request log shows.
    let out = run(&url, Some(&token), &["ip", "104.80.104.128", "--no-cache"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&url, Some(&token), &["ip", "23.203.232.228", "--no-cache"]).await;
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    mde_triage::tls::install();
    let log: Value = reqwest::get(format!("{url}/_sim/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("/stats?"))
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 429], "{log:#}");

    // Ctrl-C (SIGINT) stops it cleanly.
    Command::new("kill")
        .args(["-INT", &sim.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || sim.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// Runs the binary with `input` on its stdin, as `pbpaste | mde-triage ip --extract` does.
async fn run_piped(url: &str, token: &str, args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env())
        .args(args)
        .env("MDE_API_URL", url)
        .env("MDE_TOKEN", token)
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let input = input.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_extract_reads_a_ticket_and_looks_up_every_ip_in_order() {
    let sim = sim_with(SimConfig::default()).await;
    let ticket = "Hello SOC,\r\nthe firewall flagged hxxp://104[.]80[.]104[.]128:8080/x and \
                  ::ffff:10.209.67.177 (Windows log).\r\nAlso 104.80.104.128 again, and the \
                  range 10.0.0.0/8.\r\n";
    let out = run_piped(&sim.url, &sim.token, &["ip", "--extract", "--json"], ticket).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ips: Vec<&str> = lines.iter().map(|v| v["ip"].as_str().unwrap()).collect();
    assert_eq!(
        ips,
        ["104.80.104.128", DOC_IP],
        "one JSON line per IP, in order, once"
    );
    assert_eq!(
        lines[1]["stats"]["prevalence"], 63515,
        "the mapped form is the IPv4"
    );
    let err = stderr(&out);
    assert!(
        err.contains("2 IPs found · 1 skipped: 10.0.0.0/8 is a network (/8), not one host"),
        "{err}"
    );
    assert!(err.contains("port 8080 dropped"), "{err}");
    assert!(
        err.contains("::ffff:10.209.67.177: IPv4-mapped, looked up as 10.209.67.177"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_takes_a_pasted_form_and_refuses_an_ambiguous_one_before_any_call() {
    let sim = sim_with(SimConfig::default()).await;
    let out = run(
        &sim.url,
        Some(&sim.token),
        &["ip", "::ffff:10.209.67.177\r\n", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["ip"], DOC_IP);
    for (raw, says) in [
        ("010.209.67.177", "leading zeros"),
        ("2001:db8::1:443", "[2001:db8::1]:443"),
        ("10.0.0.0/8", "is a network"),
        ("1.2.3.4 5.6.7.8", "2 IPs found: give one IP"),
    ] {
        let out = run(&sim.url, Some(&sim.token), &["ip", raw]).await;
        assert_eq!(out.status.code(), Some(2), "{raw}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{raw}: {}", stderr(&out));
    }
    let calls = sim.requests().len();
    assert_eq!(calls, 2, "only the first lookup called the API");
}
