//! Every credential source against the simulator's token endpoint (the Azure CLI as a fake
//! `az`): end to end through the binary, the automatic order, a wrong secret or a declined
//! device code (one sign-in request for the whole command), a secret file, one refresh however
//! many requests wait, expiry (the CLI's local `expiresOn` included), a 401 mid-session (one
//! renewal, then a clear error), the scope override, and no secret or issued token in any
//! output, log or `Debug`. (`sign_in.rs` has the stand-in authorities.) Here, what the files
//! under `auth/` share: the simulator, the binary with app credentials, clients and a fake `az`.

mod azure_cli;
mod binary;
mod order;
mod renewal;
mod scope;

use crate::support;
use crate::support::sim_with;

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
use mde_triage::sim::{SimConfig, SimHandle};
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
    let revoked = crate::support::http()
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
    let answer: serde_json::Value = crate::support::http()
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

fn quick_device_codes() -> SimConfig {
    // The simulated user approves after two polls, and asks for no wait between them.
    SimConfig {
        device_code_interval: 0,
        device_code_polls: 2,
        ..SimConfig::default()
    }
}
