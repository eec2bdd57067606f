//! `doctor` through the binary against the simulator: all checks pass on a good setup, and
//! each broken piece fails its own check with a remedy while the others still run.

use crate::support;
use crate::support::sim_with;

use std::path::PathBuf;
use std::process::{Command, Output};

use mde_triage::sim::SimConfig;

fn home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mde-triage-doctor-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn doctor(url: &str, env: &[(&str, &str)], home: &PathBuf) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.arg("doctor")
        .env("MDE_API_URL", url)
        .env_remove("MDE_TOKEN")
        .env_remove("MDE_SCOPE")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env("PATH", "")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("MDE_TRIAGE_LOG", "off")
        .envs(env.iter().copied());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn line<'a>(lines: &'a [String], check: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l[7..].starts_with(check))
        .unwrap_or_else(|| panic!("no {check} line in {lines:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_check_passes_on_a_good_setup_and_probes_cost_one_call_per_endpoint() {
    let sim = sim_with(SimConfig::default()).await;
    let out = doctor(&sim.url, &[("MDE_TOKEN", &sim.token)], &home("good")).await;
    let all = lines(&out);
    assert!(out.status.success(), "{all:#?}");
    assert_eq!(all.len(), 13, "{all:#?}");
    assert!(all.iter().all(|l| l.starts_with("[ ok ]")), "{all:#?}");
    for probe in ["device", "dev-alerts", "find-by-ip"] {
        assert!(
            line(&all, probe).contains("Machine.Read.All works")
                || line(&all, probe).contains("Alert.Read.All works"),
            "{all:#?}"
        );
    }
    assert!(line(&all, "database").contains("0 case(s)"), "{all:#?}");
    assert!(
        line(&all, "token").contains("permissions: Ip.Read.All, Alert.Read.All, Machine.Read.All")
    );
    // Same machine, same clock: the skew reads as a second at most.
    let clock = line(&all, "clock");
    let skew: i64 = clock
        .split_whitespace()
        .find(|w| w.starts_with('+') || w.starts_with('-'))
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("a skew in {clock}"));
    assert!(skew.abs() <= 1, "{clock}");
    let api: Vec<String> = sim
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/api/"))
        .collect();
    assert_eq!(api.len(), 7, "one probe per endpoint: {api:?}");
    assert!(
        api.contains(&"/api/alerts/da000000000000000000_0".to_owned()),
        "the alert record is probed with an id that cannot exist: {api:?}"
    );
    // findbyip is probed with an internal address no host holds (a network's own), in time.
    assert!(
        api.iter()
            .any(|p| p.starts_with("/api/machines/findbyip(ip='10.0.0.0',timestamp=")),
        "{api:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_permission_is_named_with_its_remedy() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let out = doctor(&sim.url, &[("MDE_TOKEN", &sim.token)], &home("role")).await;
    assert_eq!(out.status.code(), Some(14));
    let all = lines(&out);
    let token = line(&all, "token");
    assert!(
        token.starts_with("[FAIL]") && token.contains("missing Alert.Read.All"),
        "{token}"
    );
    let probe = line(&all, "ip-alerts");
    assert!(probe.starts_with("[FAIL]"), "{probe}");
    assert!(
        probe.contains("grant the WindowsDefenderATP application permission Alert.Read.All"),
        "{probe}"
    );
    assert!(line(&all, "stats").starts_with("[ ok ]"));
    // The machine reads need Machine.Read.All; the newest docs list only its ReadWrite form.
    let device = line(&all, "device");
    assert!(
        device.starts_with("[FAIL]")
            && device.contains("permission Machine.Read.All")
            && device.contains("the newest docs list only Machine.ReadWrite.All"),
        "{device}"
    );
    assert!(
        line(&all, "dev-alerts").contains("Alert.ReadWrite.All"),
        "{all:#?}"
    );
    // The alert record needs Alert.Read.All too, not an Ip permission.
    let record = line(&all, "alert ");
    assert!(
        record.starts_with("[FAIL]") && record.contains("permission Alert.Read.All"),
        "{record}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("6 of 13 checks failed"), "{err}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_fails_the_token_check_and_skips_nothing_else() {
    let sim = sim_with(SimConfig::default()).await;
    let env = [
        ("AZURE_TENANT_ID", "contoso"),
        ("AZURE_CLIENT_ID", "sim-client"),
        ("AZURE_CLIENT_SECRET", "not-it"),
        ("AZURE_AUTHORITY_HOST", sim.url.as_str()),
    ];
    let out = doctor(&sim.url, &env, &home("secret")).await;
    assert_eq!(out.status.code(), Some(14));
    let all = lines(&out);
    assert!(line(&all, "credentials").contains("app registration sim-client"));
    let token = line(&all, "token");
    assert!(
        token.contains("AADSTS7000215") && token.contains("check the tenant, client id and secret"),
        "{token}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("not-it"));
    assert!(line(&all, "API host").starts_with("[ ok ]"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_credentials_a_broken_config_and_an_unreachable_host_each_fail_their_check() {
    let dir = home("broken");
    let config = dir.join("broken.toml");
    std::fs::write(&config, "[settings]\nrate_limit = \"lots\"\n").unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = doctor(
        &url,
        &[("MDE_TRIAGE_CONFIG", config.to_str().unwrap())],
        &dir,
    )
    .await;
    assert_eq!(out.status.code(), Some(14));
    let all = lines(&out);
    let cfg = line(&all, "config");
    assert!(
        cfg.starts_with("[FAIL]") && cfg.contains("line 2, column 14"),
        "{cfg}"
    );
    assert!(line(&all, "credentials").contains("no credentials"));
    let host = line(&all, "API host");
    assert!(
        host.starts_with("[FAIL]") && host.contains("cannot connect"),
        "{host}"
    );
    assert!(line(&all, "permissions").contains("not probed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_ten_minutes_off_fails_the_clock_check() {
    let sim = sim_with(SimConfig {
        clock_offset_secs: 600,
        ..SimConfig::default()
    })
    .await;
    let out = doctor(&sim.url, &[("MDE_TOKEN", &sim.token)], &home("clock")).await;
    assert_eq!(out.status.code(), Some(14));
    let all = lines(&out);
    let clock = line(&all, "clock");
    assert!(
        clock.starts_with("[FAIL]")
            && ["-599 s", "-600 s", "-601 s"]
                .iter()
                .any(|s| clock.contains(s)),
        "{clock}"
    );
    assert!(clock.contains("set the system clock"), "{clock}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_credentials_line_names_the_scope_asked_for_and_no_token_shows() {
    let sim = sim_with(SimConfig::default()).await;
    let app = [
        ("AZURE_TENANT_ID", "contoso"),
        ("AZURE_CLIENT_ID", "sim-client"),
        ("AZURE_CLIENT_SECRET", "sim-secret"),
        ("AZURE_AUTHORITY_HOST", sim.url.as_str()),
    ];
    let default = "https://api.securitycenter.microsoft.com/.default";
    let gov = "https://api-gov.securitycenter.microsoft.us/.default";
    let out = doctor(&sim.url, &app, &home("scope-default")).await;
    let all = lines(&out);
    assert!(out.status.success(), "{all:#?}");
    let credentials = line(&all, "credentials");
    assert!(
        credentials.ends_with(&format!("signing in at {}, scope {default}", sim.url)),
        "{credentials}"
    );
    let with_gov: Vec<(&str, &str)> = app.iter().copied().chain([("MDE_SCOPE", gov)]).collect();
    let out = doctor(&sim.url, &with_gov, &home("scope-gov")).await;
    let all = lines(&out);
    assert!(out.status.success(), "{all:#?}");
    assert!(
        line(&all, "credentials").ends_with(&format!("scope {gov}")),
        "{all:#?}"
    );
    // What the line says is what was asked for.
    assert_eq!(sim.requested_scopes(), [default, gov]);
    let secrets = sim.issued_secrets();
    assert_eq!(secrets.len(), 2);
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        assert!(secrets.iter().all(|s| !text.contains(s.as_str())), "{text}");
    }
    // A scope that is not one fails the credentials check, with what was expected.
    let bad: Vec<(&str, &str)> = app
        .iter()
        .copied()
        .chain([("MDE_SCOPE", "https://api-gov.securitycenter.microsoft.us")])
        .collect();
    let out = doctor(&sim.url, &bad, &home("scope-bad")).await;
    assert_eq!(out.status.code(), Some(14));
    let all = lines(&out);
    let credentials = line(&all, "credentials");
    assert!(
        credentials.starts_with("[FAIL]")
            && credentials.contains(
                "MDE_SCOPE: 'https://api-gov.securitycenter.microsoft.us' is not a token scope \
                 (expected an https URL ending in /.default"
            ),
        "{credentials}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opaque_token_with_a_team_budget_is_warned_about_and_a_jwt_is_not() {
    let sim = sim_with(SimConfig::default()).await;
    // Nothing listens there: doctor does not reach the team Redis for this check.
    let team = ("MDE_TEAM_REDIS", "redis://127.0.0.1:1");
    let out = doctor(
        &sim.url,
        &[("MDE_TOKEN", "an-opaque-token"), team],
        &home("team-opaque"),
    )
    .await;
    let all = lines(&out);
    let warned = line(&all, "team identity");
    assert!(warned.starts_with("[warn]"), "{warned}");
    assert!(
        warned.contains("keys on host and tenant only")
            && warned.contains("different apps would share one budget wrongly"),
        "{warned}"
    );
    // The same opaque token with no team budget: nothing to warn about.
    let out = doctor(
        &sim.url,
        &[("MDE_TOKEN", "an-opaque-token")],
        &home("solo-opaque"),
    )
    .await;
    assert!(
        !lines(&out)
            .iter()
            .any(|l| l.contains("host and tenant only"))
    );
    // A JWT names its app: no warning. The Redis that is not there is its own failed check,
    // and the only one: the API's checks still pass (the probes fall back to a local share).
    let out = doctor(
        &sim.url,
        &[("MDE_TOKEN", &sim.token), team],
        &home("team-jwt"),
    )
    .await;
    let all = lines(&out);
    assert!(
        !all.iter().any(|l| l.contains("host and tenant only")),
        "{all:#?}"
    );
    let failed: Vec<_> = all.iter().filter(|l| l.starts_with("[FAIL]")).collect();
    assert_eq!(failed.len(), 1, "{all:#?}");
    assert!(
        failed[0].contains("team budget") && failed[0].contains("127.0.0.1:1"),
        "{all:#?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_checks_the_team_redis_sign_in_latency_and_scripts() {
    let Some(redis) = support::redis::RedisServer::start() else {
        return;
    };
    let sim = sim_with(SimConfig::default()).await;
    let url = redis.url();
    let out = doctor(
        &sim.url,
        &[("MDE_TOKEN", &sim.token), ("MDE_TEAM_REDIS", &url)],
        &home("team-up"),
    )
    .await;
    let all = lines(&out);
    let team = line(&all, "team budget");
    assert!(team.starts_with("[ ok ]"), "{all:#?}");
    assert!(
        team.contains("Redis ") && team.contains("round trip") && team.contains("7 scripts loaded"),
        "{team}"
    );
    assert!(out.status.success(), "{all:#?}");
    // The probes were calls on the team's books: the shared log holds them.
    let calls = redis.cli(&["--scan", "--pattern", "mde:*:calls:*"]);
    assert!(
        !calls.trim().is_empty(),
        "no shared log after doctor's probes"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_redis_over_tls_is_reached_and_its_certificate_checked() {
    let Some(redis) = support::redis::RedisServer::start_with_tls() else {
        return;
    };
    let sim = sim_with(SimConfig::default()).await;
    let url = redis.tls_url().unwrap();
    let ca = redis.ca_file().display().to_string();
    // Signed by the team's own CA, trusted the way any internal CA is: SSL_CERT_FILE.
    let out = doctor(
        &sim.url,
        &[
            ("MDE_TOKEN", &sim.token),
            ("MDE_TEAM_REDIS", &url),
            ("SSL_CERT_FILE", &ca),
        ],
        &home("team-tls"),
    )
    .await;
    let all = lines(&out);
    let team = line(&all, "team budget");
    assert!(
        team.starts_with("[ ok ]") && team.contains("rediss://localhost:"),
        "{all:#?}"
    );
    // Not trusted: refused, and the refusal says why.
    let out = doctor(
        &sim.url,
        &[("MDE_TOKEN", &sim.token), ("MDE_TEAM_REDIS", &url)],
        &home("team-tls-untrusted"),
    )
    .await;
    let all = lines(&out);
    let team = line(&all, "team budget");
    assert!(team.starts_with("[FAIL]"), "{all:#?}");
    assert!(team.to_lowercase().contains("certificate"), "{team}");
    sim.shutdown().await;
}
