//! Every credential source against the simulator's token endpoint (the Azure CLI as a fake
//! `az`): end to end through the binary, the automatic order, a wrong secret or a declined
//! device code (one sign-in request for the whole command), a secret file, one refresh however
//! many requests wait, expiry (the CLI's local `expiresOn` included), a 401 mid-session (one
//! renewal, then a clear error), the scope override, and no secret or issued token in any
//! output, log or `Debug`. (`sign_in.rs` has the stand-in authorities.)

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use mde_triage::defender::auth::{AppCredentials, ClientCredentials, Secret};
use mde_triage::defender::azure_cli::AzureCli;
use mde_triage::defender::client::{Client, ClientConfig, TokenSource};
use mde_triage::defender::device_code::DeviceCode;
use mde_triage::defender::{ApiError, ErrorKind, FetchKey, FetchValue};
use mde_triage::fetch::{FetchEvent, FetchRequest, Priority, SchedulerConfig, Ticket, spawn};
use mde_triage::sim::{self, SimConfig, SimHandle};
use support::{DOC_IP, ip};

/// One answer through the scheduler, as every command gets one: the one retry of a 401 with a
/// fresh token is the scheduler's, a call on the books like any other.
async fn via_scheduler(client: &Client, key: FetchKey) -> Result<FetchValue, ApiError> {
    let (handle, mut events) = spawn(Arc::new(client.clone()), SchedulerConfig::default());
    handle.request(FetchRequest::new(key, Ticket(1), Priority::Foreground));
    loop {
        match events.recv().await {
            Some(FetchEvent::Done { result, .. }) => return result,
            Some(_) => {}
            None => panic!("the scheduler stopped without an answer"),
        }
    }
}

const SECRET: &str = "sim-secret";

async fn sim_with(config: SimConfig) -> SimHandle {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    sim::start(any, config).await.unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mde-triage-auth-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary with app credentials in its environment and its own state directory for logs.
async fn run(
    sim: &SimHandle,
    secret: Option<&str>,
    extra: &[(&str, String)],
    home: &PathBuf,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", DOC_IP, "--json"])
        .env_remove("MDE_TOKEN")
        .env_remove("MDE_SCOPE")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("AZURE_CLIENT_SECRET_FILE")
        .env("MDE_API_URL", &sim.url)
        .env("AZURE_AUTHORITY_HOST", &sim.url)
        .env("AZURE_TENANT_ID", "contoso.onmicrosoft.com")
        .env("AZURE_CLIENT_ID", "sim-client")
        .env("MDE_TRIAGE_LOG", "trace")
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"));
    if let Some(s) = secret {
        cmd.env("AZURE_CLIENT_SECRET", s);
    }
    cmd.envs(extra.iter().map(|(k, v)| (*k, v.as_str())));
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn paths(sim: &SimHandle) -> Vec<(String, u16)> {
    sim.requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect()
}

/// Every log file written under `home`, concatenated.
fn logs(home: &Path) -> String {
    let mut text = String::new();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                text.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_end_to_end_through_the_binary() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("e2e");
    let out = run(&sim, Some(SECRET), &[], &home).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["prevalence"], 63515);
    let log = paths(&sim);
    assert_eq!(
        log[0],
        ("/contoso.onmicrosoft.com/oauth2/v2.0/token".into(), 200)
    );
    assert_eq!(log.len(), 3, "one sign-in for both calls: {log:?}");
    let written = logs(&home);
    assert!(written.contains("signed in"), "the log says so");
    assert!(!written.contains(SECRET), "the secret is never logged");
    assert_eq!(sim.issued_secrets().len(), 1, "one access token");
    for (what, text) in [
        ("the log", written),
        ("stdout", String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
    ] {
        assert!(!text.contains(SECRET), "{what} shows the client secret");
        assert_no_issued_secret(&sim, what, &text);
    }
    sim.shutdown().await;
}

/// Fails if `text` holds any token or code the simulator issued, whole or its random part (a
/// token cut short, as an excerpt of a body would be, still gives away its signature).
fn assert_no_issued_secret(sim: &SimHandle, what: &str, text: &str) {
    for secret in sim.issued_secrets() {
        let random = secret.rsplit('.').next().unwrap_or(&secret);
        assert!(
            !text.contains(&secret) && !text.contains(random),
            "{what} shows a token or code the simulator issued"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_one_sentence_and_its_own_exit_code() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("wrong");
    let wrong = "wrong-secret-Zq8~value";
    let out = run(&sim, Some(wrong), &[], &home).await;
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("sign-in refused by Entra ID"), "{err}");
    assert!(
        err.contains("AADSTS7000215: Invalid client secret provided."),
        "{err}"
    );
    assert!(!err.contains("Trace ID"), "noise stripped: {err}");
    assert!(!err.contains(wrong) && !logs(&home).contains(wrong));
    assert!(out.stdout.is_empty());
    // Nothing reached the API.
    assert!(paths(&sim).iter().all(|(p, _)| !p.starts_with("/api/")));
    // `ip` asks two endpoints at once: both wait on the one sign-in and share its refusal.
    assert_eq!(sim.sign_in_requests(), ["client_credentials"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_device_code_is_one_prompt_and_one_code_for_the_whole_command() {
    let sim = sim_with(SimConfig {
        device_code_declined: true,
        ..quick_device_codes()
    })
    .await;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", DOC_IP])
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env("MDE_SIGN_IN", "device-code")
        .env("AZURE_AUTHORITY_HOST", &sim.url)
        .env("MDE_API_URL", &sim.url)
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("To sign in, use a web browser").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains(
            "authorization_declined: AADSTS70000: The end user denied the authorization request."
        ),
        "{err}"
    );
    assert!(
        !err.contains("Trace ID") && !err.contains("Correlation ID"),
        "{err}"
    );
    // The code, polled until the simulated user declined (two "pending" answers, then no).
    let poll = "urn:ietf:params:oauth:grant-type:device_code";
    assert_eq!(sim.sign_in_requests(), ["devicecode", poll, poll, poll]);
    assert!(paths(&sim).iter().all(|(p, _)| !p.starts_with("/api/")));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_secret_can_come_from_a_file() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("file");
    let file = home.join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let extra = [("AZURE_CLIENT_SECRET_FILE", file.display().to_string())];
    let out = run(&sim, None, &extra, &home).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let missing = [("AZURE_CLIENT_SECRET_FILE", "/nonexistent/secret".to_owned())];
    let out = run(&sim, None, &missing, &home).await;
    assert_eq!(out.status.code(), Some(11));
    sim.shutdown().await;
}

fn client(sim: &SimHandle, secret: &str) -> (Client, Arc<ClientCredentials>) {
    let tokens = Arc::new(
        ClientCredentials::new(
            AppCredentials {
                authority: sim.url.clone(),
                tenant: "contoso".into(),
                client_id: "sim-client".into(),
                secret: Secret::new(secret),
            },
            Duration::from_secs(10),
        )
        .unwrap(),
    );
    let client = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        tokens.clone(),
    )
    .unwrap();
    (client, tokens)
}

/// A client for the simulator's API with `tokens`.
fn api_client(sim: &SimHandle, tokens: Arc<dyn TokenSource>) -> Client {
    Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        tokens,
    )
    .unwrap()
}

/// Revokes every token the simulator issued, as a secret rotation or revoked consent does.
async fn revoke(sim: &SimHandle) {
    mde_triage::tls::install();
    let revoked = reqwest::Client::new()
        .post(format!("{}/_sim/revoke", sim.url))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
}

/// A token from the simulator's token endpoint, as another tool's sign-in (`az`'s) would get:
/// accepted by the API, and revoked by [`revoke`].
async fn mint(sim: &SimHandle) -> String {
    mde_triage::tls::install();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/contoso/oauth2/v2.0/token", sim.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client"),
            ("client_secret", SECRET),
            ("scope", "https://api.securitycenter.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

/// The statuses of the API calls (sign-ins left out), in order.
fn api_statuses(sim: &SimHandle) -> Vec<u16> {
    paths(sim)
        .into_iter()
        .filter(|(p, _)| p.starts_with("/api/"))
        .map(|(_, s)| s)
        .collect()
}

fn token_posts(sim: &SimHandle) -> usize {
    paths(sim)
        .iter()
        .filter(|(p, _)| p.ends_with("/token"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_sign_in_however_many_requests_wait() {
    let sim = sim_with(SimConfig::default()).await;
    let (client, _) = client(&sim, SECRET);
    let calls: Vec<_> = (1..=10)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                via_scheduler(&c, FetchKey::IpStats(ip(&format!("10.0.0.{i}")))).await
            })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().is_ok());
    }
    assert_eq!(token_posts(&sim), 1);
    // Still valid: later calls reuse it.
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    assert_eq!(token_posts(&sim), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_past_its_refresh_point_is_renewed_before_use() {
    // A zero lifetime puts the refresh point at the moment of issue: every call signs in
    // again first (the simulator still accepts each token for its clock-skew allowance).
    let sim = sim_with(SimConfig {
        token_lifetime: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let (client, _) = client(&sim, SECRET);
    for _ in 0..3 {
        via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
            .await
            .unwrap();
    }
    assert_eq!(token_posts(&sim), 3);
    assert!(paths(&sim).iter().all(|(_, status)| *status == 200));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_mid_session_renews_the_token_once() {
    let sim = sim_with(SimConfig::default()).await;
    let (client, _) = client(&sim, SECRET);
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    let statuses: Vec<u16> = paths(&sim).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, [200, 200, 401, 200, 200], "{:?}", paths(&sim));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_seen_by_many_waiting_requests_renews_the_token_once() {
    // Slow answers: all ten requests are out with the revoked token before the first 401
    // comes back, so (barring a stalled machine) all ten see one.
    let sim = sim_with(SimConfig {
        latency: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let (client, _) = client(&sim, SECRET);
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    revoke(&sim).await;
    let calls: Vec<_> = (1..=10)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move {
                via_scheduler(&c, FetchKey::IpStats(ip(&format!("10.0.0.{i}")))).await
            })
        })
        .collect();
    for c in calls {
        assert!(c.await.unwrap().is_ok());
    }
    // However many refusals, one renewal: the first to see a 401 renews, the others wait for
    // it (or find it done) and retry with the fresh token.
    let statuses = api_statuses(&sim);
    let refused = statuses.iter().filter(|s| **s == 401).count();
    assert!((1..=10).contains(&refused), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 11);
    assert_eq!(
        token_posts(&sim),
        2,
        "{refused} refusals: {:?}",
        paths(&sim)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_refusals_are_not_retried_and_plain_http_is_refused() {
    let sim = sim_with(SimConfig::default()).await;
    let (client, _) = client(&sim, "nope");
    let err = via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap_err();
    assert_eq!(err.kind.exit_code(), 13);
    assert_eq!(token_posts(&sim), 1);
    sim.shutdown().await;
    let remote = ClientCredentials::new(
        AppCredentials {
            authority: "http://login.example.com".into(),
            tenant: "t".into(),
            client_id: "c".into(),
            secret: Secret::new("s3cr3t"),
        },
        Duration::from_secs(1),
    );
    assert!(remote.unwrap_err().message.contains("https"));
}

#[test]
fn debug_output_never_shows_a_secret() {
    let creds = AppCredentials {
        authority: "https://login.microsoftonline.com".into(),
        tenant: "t".into(),
        client_id: "c".into(),
        secret: Secret::new("s3cr3t-value"),
    };
    assert!(!format!("{creds:?}").contains("s3cr3t-value"));
    let source = ClientCredentials::new(creds, Duration::from_secs(1)).unwrap();
    assert!(!format!("{source:?}").contains("s3cr3t-value"));
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_output_of_signed_in_sources_never_shows_a_token() {
    let sim = sim_with(quick_device_codes()).await;
    let device = Arc::new(
        DeviceCode::new(
            &sim.url,
            "organizations",
            "sim-public",
            Arc::new(|_: &str| {}),
            Duration::from_secs(10),
        )
        .unwrap(),
    );
    let client = api_client(&sim, device.clone());
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    // Renewing with the refresh token puts a second pair in memory.
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    assert_eq!(
        sim.issued_secrets().len(),
        5,
        "a code, then two token pairs"
    );
    assert_no_issued_secret(&sim, "DeviceCode's Debug", &format!("{device:?}"));
    assert_no_issued_secret(&sim, "Client's Debug", &format!("{client:?}"));

    let home = scratch("az-debug");
    let bin = fake_az_from_file(&home);
    set_az_answer(&home, &mint(&sim).await);
    let cli = Arc::new(AzureCli::new(bin.join("az")));
    let token = cli.token().await.unwrap();
    let shown = format!("{cli:?}");
    assert!(shown.contains("AzureCli"), "{shown}");
    assert!(!shown.contains(&token), "AzureCli's Debug shows its token");
    assert_no_issued_secret(&sim, "AzureCli's Debug", &shown);
    sim.shutdown().await;
}

/// A token endpoint whose answers are cut short (a proxy's doing): what does arrive holds a
/// token, or the device code.
async fn garbled_authority(code_answer: &'static str) -> String {
    use axum::routing::post;
    let router = axum::Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async {
                r#"{"token_type": "Bearer", "expires_in": 3599, "refresh_token": "sim-rt-LEAKY-refresh", "access_token": "sim-at-LEAKY-access"#
            }),
        )
        .route(
            "/{tenant}/oauth2/v2.0/devicecode",
            post(move || async move { code_answer }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn a_garbled_sign_in_answer_is_described_never_quoted() {
    let whole_code = r#"{"device_code": "sim-dc-LEAKY-code", "message": "Enter the code.", "interval": 0, "expires_in": 900}"#;
    let cut_code =
        r#"{"message": "Enter the code.", "interval": 0, "device_code": "sim-dc-LEAKY-code"#;
    let mut errors = Vec::new();
    let url = garbled_authority(whole_code).await;
    let app = ClientCredentials::new(
        AppCredentials {
            authority: url.clone(),
            tenant: "contoso".into(),
            client_id: "sim-client".into(),
            secret: Secret::new(SECRET),
        },
        Duration::from_secs(10),
    )
    .unwrap();
    errors.push(app.token().await.unwrap_err());
    for url in [url, garbled_authority(cut_code).await] {
        let device = DeviceCode::new(
            &url,
            "organizations",
            "sim-public",
            Arc::new(|_: &str| {}),
            Duration::from_secs(10),
        )
        .unwrap();
        errors.push(device.token().await.unwrap_err());
    }
    let home = scratch("az-garbled");
    let bin = fake_az(
        &home,
        r#"{"expires_on": 1, "accessToken": "sim-at-LEAKY-az"#,
        true,
    );
    errors.push(AzureCli::new(bin.join("az")).token().await.unwrap_err());
    for e in errors {
        let sentence = e.sentence();
        assert!(
            sentence.contains("at line 1, column") || sentence.contains("at line 2, column"),
            "where it broke: {sentence}"
        );
        assert!(
            sentence.contains("(not shown: it may hold a token)"),
            "{sentence}"
        );
        assert!(!sentence.contains("LEAKY"), "{sentence}");
        assert!(!format!("{e:?}").contains("LEAKY"), "{e:?}");
    }
}

/// The resource `az` is asked for unless a scope says otherwise.
const RESOURCE: &str = "https://api.securitycenter.microsoft.com";

/// A stand-in `az` that checks its arguments, counts its calls, and prints `answer` (or fails).
fn fake_az(dir: &Path, answer: &str, ok: bool) -> PathBuf {
    let body = if ok {
        // Builtins only: PATH holds nothing but this directory.
        format!("printf '%s\\n' '{answer}'")
    } else {
        format!("echo \"{answer}\" >&2; exit 1")
    };
    az_script(dir, RESOURCE, &body)
}

/// A stand-in `az` that prints whatever [`set_az_answer`] last put in `dir`: what a real `az`
/// hands out changes as its session does.
fn fake_az_from_file(dir: &Path) -> PathBuf {
    let body = format!(
        "read -r answer < '{}'\nprintf '%s\\n' \"$answer\"",
        dir.join("answer").display()
    );
    az_script(dir, RESOURCE, &body)
}

/// The fake `az`'s next answer: `token`, valid for an hour.
fn set_az_answer(dir: &Path, token: &str) {
    let in_an_hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let answer = format!(r#"{{"accessToken": "{token}", "expires_on": {in_an_hour}}}"#);
    std::fs::write(dir.join("answer"), format!("{answer}\n")).unwrap();
}

/// How many times the fake `az` in `dir` ran.
fn az_calls(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("calls"))
        .unwrap_or_default()
        .lines()
        .count()
}

/// An `az` script in `dir/bin` that refuses any arguments but a token request for `resource`,
/// counts its runs in `dir/calls`, then runs `body`.
fn az_script(dir: &Path, resource: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\n\
         echo call >> '{calls}'\n\
         [ \"$*\" = 'account get-access-token --resource {resource} --output json' ] || {{ echo \"ERROR: unexpected arguments $*\" >&2; exit 2; }}\n\
         {body}\n",
        calls = dir.join("calls").display(),
    );
    let az = bin.join("az");
    std::fs::write(&az, script).unwrap();
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

async fn run_with_az(sim: &SimHandle, bin: &Path, args: &[&str]) -> Output {
    run_with_az_and(sim, bin, args, &[]).await
}

/// [`run_with_az`] with more variables set.
async fn run_with_az_and(
    sim: &SimHandle,
    bin: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(args)
        .env_remove("MDE_SCOPE")
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env("PATH", bin)
        .env("MDE_API_URL", &sim.url)
        // Logs beside the fake `az`, away from its answer file (which holds the token).
        .env("XDG_STATE_HOME", bin.with_file_name("state"))
        .env("MDE_TRIAGE_LOG", "trace")
        .envs(env.iter().copied());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_azure_cli_session_is_used_when_nothing_else_is_set() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az");
    let in_an_hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let answer = format!(
        r#"{{"accessToken": "{}", "expiresOn": "2026-11-23 03:00:00.000000", "expires_on": {in_an_hour}, "tokenType": "Bearer"}}"#,
        sim.token
    );
    let bin = fake_az(&home, &answer, true);
    let out = run_with_az(&sim, &bin, &["ip", DOC_IP, "--json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Two API calls, one `az` run: the token is cached.
    let calls = std::fs::read_to_string(home.join("calls")).unwrap();
    assert_eq!(calls.lines().count(), 1);
    assert_eq!(paths(&sim).len(), 2);
    let written = logs(&home.join("state"));
    assert!(written.contains("token from the Azure CLI"), "{written}");
    for text in [written, String::from_utf8_lossy(&out.stderr).into_owned()] {
        assert!(!text.contains(&sim.token), "az's token never shows");
    }

    // A token at the end of its life is asked for again before each use.
    let now = in_an_hour - 3600;
    let answer = format!(r#"{{"accessToken": "{}", "expires_on": {now}}}"#, sim.token);
    let home = scratch("az-expiring");
    let bin = fake_az(&home, &answer, true);
    let out = run_with_az(&sim, &bin, &["ip", DOC_IP]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = std::fs::read_to_string(home.join("calls")).unwrap();
    assert_eq!(calls.lines().count(), 2, "one `az` run per call");
    sim.shutdown().await;
}

/// The lifetime `az`'s token was given, from the log line "token from the Azure CLI secs=N".
fn az_lifetime_logged(state: &Path) -> u64 {
    let written = logs(state);
    written
        .lines()
        .filter(|l| l.contains("token from the Azure CLI"))
        .find_map(|l| {
            l.split("secs=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no lifetime logged: {written}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_older_azure_cli_expiry_in_local_time_is_read_in_the_local_zone() {
    let sim = sim_with(SimConfig::default()).await;
    // Twelve hours west of UTC (POSIX spelling: no time-zone data needed): read as UTC, the
    // expiry would be eleven hours gone.
    let zone = chrono::FixedOffset::west_opt(12 * 3600).unwrap();
    let expires_on = (chrono::Utc::now() + chrono::Duration::hours(1))
        .with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S%.6f");
    for (expiry, lifetimes) in [
        (expires_on.to_string(), 3300..=3600),
        // Unreadable: asked again in five minutes.
        ("the first of December".to_owned(), 300..=300),
    ] {
        let home = scratch("az-local-time");
        let answer = format!(
            r#"{{"accessToken": "{}", "expiresOn": "{expiry}", "tokenType": "Bearer"}}"#,
            sim.token
        );
        let bin = fake_az(&home, &answer, true);
        let out = run_with_az_and(&sim, &bin, &["ip", DOC_IP], &[("TZ", "XYZ+12")]).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lifetime = az_lifetime_logged(&home.join("state"));
        assert!(lifetimes.contains(&lifetime), "{expiry}: {lifetime}s");
        assert_eq!(az_calls(&home), 1);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_azure_cli_without_a_session_says_what_to_do() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az-out");
    let bin = fake_az(
        &home,
        "ERROR: Please run 'az login' to setup account.",
        false,
    );
    let out = run_with_az(&sim, &bin, &["ip", DOC_IP]).await;
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Please run 'az login' to setup account."),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(paths(&sim).is_empty(), "nothing reached the API");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_mid_session_renews_an_azure_cli_token_once() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az-401");
    let bin = fake_az_from_file(&home);
    set_az_answer(&home, &mint(&sim).await);
    let client = api_client(&sim, Arc::new(AzureCli::new(bin.join("az"))));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    revoke(&sim).await;
    // After the revocation `az` signs in again and hands out a token the API accepts.
    set_az_answer(&home, &mint(&sim).await);
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    assert_eq!(api_statuses(&sim), [200, 401, 200], "{:?}", paths(&sim));
    assert_eq!(az_calls(&home), 2, "asked again once, after the 401");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_refused_again_after_its_renewal_is_one_clear_unauthorized_error() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("az-401-twice");
    let bin = fake_az_from_file(&home);
    // `az` keeps serving the token it cached, revoked or not, until that token's expiry.
    set_az_answer(&home, &mint(&sim).await);
    let client = api_client(&sim, Arc::new(AzureCli::new(bin.join("az"))));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    revoke(&sim).await;
    let err = via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.kind.exit_code(), 5);
    let sentence = err.sentence();
    assert!(
        sentence.starts_with(
            "not signed in: the token is missing, invalid or expired (HTTP 401): The access \
             token has expired. (a renewed token was refused too)"
        ),
        "{sentence}"
    );
    // One renewal, then the answer: no loop of sign-ins and refusals.
    assert_eq!(api_statuses(&sim), [200, 401, 401], "{:?}", paths(&sim));
    assert_eq!(az_calls(&home), 2);
    sim.shutdown().await;
}

/// `doctor`'s line for `check`, e.g. "[ ok ] credentials      MDE_TOKEN (...)".
fn doctor_line(out: &Output, check: &str) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.get(7..).is_some_and(|l| l.starts_with(check)))
        .unwrap_or_else(|| panic!("no {check} line: {}", String::from_utf8_lossy(&out.stdout)))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_tries_mde_token_then_the_client_secret_then_the_azure_cli() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("order");
    let bin = fake_az_from_file(&home);
    set_az_answer(&home, &sim.token);
    // Every source set at once; each run takes away the ones before the expected pick.
    let doctor = |unset: &'static [&'static str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
        cmd.envs(support::isolated_env());
        cmd.arg("doctor")
            .env_remove("MDE_SIGN_IN")
            .env("MDE_TOKEN", &sim.token)
            .env("AZURE_TENANT_ID", "contoso")
            .env("AZURE_CLIENT_ID", "sim-client")
            .env("AZURE_CLIENT_SECRET", SECRET)
            .env("AZURE_AUTHORITY_HOST", &sim.url)
            .env("PATH", &bin)
            .env("MDE_API_URL", &sim.url)
            .env("MDE_TRIAGE_LOG", "off");
        for var in unset {
            cmd.env_remove(var);
        }
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let out = doctor(&[]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let credentials = doctor_line(&out, "credentials");
    assert!(credentials.contains("MDE_TOKEN"), "{credentials}");
    assert_eq!(
        (token_posts(&sim), az_calls(&home)),
        (0, 0),
        "MDE_TOKEN used"
    );

    let out = doctor(&["MDE_TOKEN"]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let credentials = doctor_line(&out, "credentials");
    assert!(
        credentials.contains("app registration sim-client in tenant contoso"),
        "{credentials}"
    );
    assert_eq!(
        (token_posts(&sim), az_calls(&home)),
        (1, 0),
        "the app signed in"
    );

    let out = doctor(&["MDE_TOKEN", "AZURE_TENANT_ID", "AZURE_CLIENT_ID"])
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let credentials = doctor_line(&out, "credentials");
    assert!(
        credentials.contains("the Azure CLI's session"),
        "{credentials}"
    );
    assert_eq!((token_posts(&sim), az_calls(&home)), (1, 1), "az asked");
    sim.shutdown().await;
}

fn quick_device_codes() -> SimConfig {
    // The simulated user approves after two polls, and asks for no wait between them.
    SimConfig {
        device_code_interval: 0,
        device_code_polls: 2,
        ..SimConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_sign_in_shows_the_code_polls_and_then_renews_without_asking() {
    let sim = sim_with(SimConfig {
        token_lifetime: Duration::ZERO, // every later call renews
        ..quick_device_codes()
    })
    .await;
    let shown = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let prompt = {
        let shown = shown.clone();
        Arc::new(move |m: &str| shown.lock().unwrap().push(m.to_owned()))
    };
    let source = Arc::new(
        DeviceCode::new(
            &sim.url,
            "organizations",
            "sim-public",
            prompt,
            Duration::from_secs(10),
        )
        .unwrap(),
    );
    let client = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        source,
    )
    .unwrap();
    for _ in 0..3 {
        via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
            .await
            .unwrap();
    }
    let shown = shown.lock().unwrap().clone();
    assert_eq!(shown.len(), 1, "asked once: {shown:?}");
    assert!(
        shown[0].contains("https://microsoft.com/devicelogin")
            && shown[0].contains("enter the code")
    );
    let log: Vec<(String, u16)> = paths(&sim);
    let device = "/organizations/oauth2/v2.0/devicecode".to_owned();
    let token = "/organizations/oauth2/v2.0/token".to_owned();
    let stats = format!("/api/ips/{DOC_IP}/stats");
    assert_eq!(
        log,
        [
            (device, 200),
            (token.clone(), 400), // authorization_pending
            (token.clone(), 400),
            (token.clone(), 200),
            (stats.clone(), 200),
            (token.clone(), 200), // refresh token, no new code
            (stats.clone(), 200),
            (token, 200),
            (stats, 200),
        ]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_mid_session_renews_a_device_code_token_with_the_refresh_token() {
    let sim = sim_with(quick_device_codes()).await;
    let shown = Arc::new(std::sync::Mutex::new(0usize));
    let prompt = {
        let shown = shown.clone();
        Arc::new(move |_: &str| *shown.lock().unwrap() += 1)
    };
    let source = DeviceCode::new(
        &sim.url,
        "organizations",
        "sim-public",
        prompt,
        Duration::from_secs(10),
    )
    .unwrap();
    let client = api_client(&sim, Arc::new(source));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    let signed_in = paths(&sim).len();
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    let stats = format!("/api/ips/{DOC_IP}/stats");
    assert_eq!(
        paths(&sim)[signed_in..],
        [
            (stats.clone(), 401),
            ("/organizations/oauth2/v2.0/token".to_owned(), 200), // the refresh token
            (stats, 200),
        ]
    );
    assert_eq!(*shown.lock().unwrap(), 1, "the analyst is not asked again");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_through_the_binary_prints_the_code_on_stderr() {
    let sim = sim_with(quick_device_codes()).await;
    let home = scratch("device-code");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", DOC_IP, "--json"])
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env("MDE_SIGN_IN", "device-code")
        .env("AZURE_TENANT_ID", "contoso")
        .env("AZURE_AUTHORITY_HOST", &sim.url)
        .env("MDE_API_URL", &sim.url)
        .env("PATH", "")
        .env("XDG_STATE_HOME", home.join("state"))
        .env("MDE_TRIAGE_LOG", "trace");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("To sign in, use a web browser to open the page"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["prevalence"], 63515);
    // The device code, the access token and the refresh token stay in memory.
    assert_eq!(sim.issued_secrets().len(), 3);
    let written = logs(&home);
    assert!(written.contains("signed in (device code)"), "{written}");
    assert_no_issued_secret(&sim, "the log", &written);
    assert_no_issued_secret(&sim, "stderr", &err);
    assert_no_issued_secret(&sim, "stdout", &String::from_utf8_lossy(&out.stdout));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_sign_in_choice_is_obeyed_and_a_bad_one_named() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("choice");
    std::fs::create_dir_all(home.join("config/mde-triage")).unwrap();
    std::fs::write(
        home.join("config/mde-triage/config.toml"),
        "[settings]\nsign_in = \"azure-cli\"\n",
    )
    .unwrap();
    let run = |extra: Option<&'static str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
        cmd.envs(support::isolated_env());
        cmd.args(["ip", DOC_IP])
            .env("MDE_TOKEN", &sim.token)
            .env("MDE_API_URL", &sim.url)
            .env_remove("MDE_SIGN_IN")
            .env("PATH", "")
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("MDE_TRIAGE_LOG", "off");
        if let Some(choice) = extra {
            cmd.env("MDE_SIGN_IN", choice);
        }
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    // The file asks for the Azure CLI: MDE_TOKEN is not used behind its back.
    let out = run(None).await.unwrap();
    assert_eq!(out.status.code(), Some(11));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sign-in is set to azure-cli but `az` is not on PATH"),
        "{err}"
    );
    // The environment overrides the file.
    let out = run(Some("token")).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(Some("kerberos")).await.unwrap();
    assert_eq!(out.status.code(), Some(11));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("MDE_SIGN_IN: unknown sign-in 'kerberos'"),
        "{err}"
    );
    sim.shutdown().await;
}

/// A scope other than the default, as a government tenant's analyst would set it.
const GOV_SCOPE: &str = "https://api-gcc.securitycenter.microsoft.us/.default";
const DEFAULT_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_override_reaches_the_token_endpoint_from_the_environment_or_the_file() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("scope");
    let ok = |out: &Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    ok(&run(&sim, Some(SECRET), &[], &home).await);
    assert_eq!(sim.requested_scopes(), [DEFAULT_SCOPE], "the default");
    let gov = [("MDE_SCOPE", GOV_SCOPE.to_owned())];
    ok(&run(&sim, Some(SECRET), &gov, &home).await);
    // The file's `scope`, and the environment over it.
    let file_scope = "https://mde.example.org/.default";
    std::fs::create_dir_all(home.join("config/mde-triage")).unwrap();
    std::fs::write(
        home.join("config/mde-triage/config.toml"),
        format!("[settings]\nscope = \"{file_scope}\"\n"),
    )
    .unwrap();
    ok(&run(&sim, Some(SECRET), &[], &home).await);
    ok(&run(&sim, Some(SECRET), &gov, &home).await);
    assert_eq!(
        sim.requested_scopes(),
        [DEFAULT_SCOPE, GOV_SCOPE, file_scope, GOV_SCOPE]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_override_reaches_the_device_code_and_azure_cli_sign_ins() {
    let sim = sim_with(quick_device_codes()).await;
    // Device code through the binary: the code is asked for with the scope.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", DOC_IP])
        .env_remove("MDE_TOKEN")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env("MDE_SIGN_IN", "device-code")
        .env("MDE_SCOPE", GOV_SCOPE)
        .env("AZURE_AUTHORITY_HOST", &sim.url)
        .env("MDE_API_URL", &sim.url)
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sim.requested_scopes(), [GOV_SCOPE]);
    // And renewing with the refresh token asks for it again.
    let device = DeviceCode::new(
        &sim.url,
        "organizations",
        "sim-public",
        Arc::new(|_: &str| {}),
        Duration::from_secs(10),
    )
    .unwrap()
    .with_scope(GOV_SCOPE);
    let client = api_client(&sim, Arc::new(device));
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    revoke(&sim).await;
    via_scheduler(&client, FetchKey::IpStats(ip(DOC_IP)))
        .await
        .unwrap();
    assert_eq!(sim.requested_scopes(), [GOV_SCOPE; 3]);

    // The Azure CLI is asked for the scope's resource; the fake refuses any other.
    let home = scratch("az-scope");
    let answer = format!(r#"{{"accessToken": "{}"}}"#, sim.token);
    let bin = az_script(
        &home,
        "https://api-gcc.securitycenter.microsoft.us",
        &format!("printf '%s\\n' '{answer}'"),
    );
    let out = run_with_az_and(&sim, &bin, &["ip", DOC_IP], &[("MDE_SCOPE", GOV_SCOPE)]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(az_calls(&home), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_scope_in_the_environment_is_named_before_any_call() {
    let sim = sim_with(SimConfig::default()).await;
    let home = scratch("bad-scope");
    for bad in [
        "https://api.securitycenter.microsoft.com",
        "http://api.securitycenter.microsoft.com/.default",
        "api://fc780465-2017-40d4-a0c5-307022471b92/.default",
    ] {
        let out = run(&sim, Some(SECRET), &[("MDE_SCOPE", bad.to_owned())], &home).await;
        assert_eq!(out.status.code(), Some(11));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "mde-triage: MDE_SCOPE: '{bad}' is not a token scope (expected an https URL \
                 ending in /.default, e.g. {DEFAULT_SCOPE})\n"
            )
        );
    }
    assert!(paths(&sim).is_empty(), "nothing was sent");
    sim.shutdown().await;
}
