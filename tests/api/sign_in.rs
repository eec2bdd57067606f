//! Sign-in asked once however many ask: askers share the attempt in progress, a refusal is kept
//! for the rest of the command and a transient failure is not; against the simulator's token
//! endpoint, or a stand-in authority for what the simulator never says (a redirect, a 503,
//! counts as strings, a megabyte of refusal).

use crate::support;
use crate::support::sim_with;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use axum::http::{HeaderName, Response, StatusCode, Uri};
use futures_util::future::join_all;
use mde_triage::defender::auth::{AppCredentials, ClientCredentials, Secret};
use mde_triage::defender::client::TokenSource;
use mde_triage::defender::device_code::DeviceCode;
use mde_triage::defender::{ApiError, ErrorKind};
use mde_triage::sim::SimConfig;

const SECRET: &str = "sim-secret";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn app(authority: &str, secret: &str) -> ClientCredentials {
    ClientCredentials::new(
        AppCredentials {
            authority: authority.to_owned(),
            tenant: "contoso".into(),
            client_id: "sim-client".into(),
            secret: Secret::new(secret),
        },
        Duration::from_secs(10),
    )
    .unwrap()
}

/// A device-code source at `authority` that counts the prompts it shows.
fn device(authority: &str) -> (DeviceCode, Arc<Mutex<Vec<String>>>) {
    let shown = Arc::new(Mutex::new(Vec::new()));
    let prompt = {
        let shown = shown.clone();
        Arc::new(move |m: &str| shown.lock().unwrap().push(m.to_owned()))
    };
    let source = DeviceCode::new(
        authority,
        "organizations",
        "sim-public",
        prompt,
        Duration::from_secs(10),
    )
    .unwrap();
    (source, shown)
}

/// `n` askers at once: every future is polled before any attempt can finish, so all of them
/// are waiting while the first one's request is out.
async fn ask_at_once(source: &dyn TokenSource, n: usize) -> Vec<Result<String, ApiError>> {
    join_all((0..n).map(|_| source.token())).await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_askers_share_one_refusal_and_it_is_kept() {
    let sim = sim_with(SimConfig::default()).await;
    let source = app(&sim.url, "wrong-secret-Zq8~value");
    let answers = ask_at_once(&source, 8).await;
    let first = answers[0].clone().unwrap_err();
    assert_eq!(first.kind, ErrorKind::SignIn);
    assert!(first.message.contains("AADSTS7000215"), "{first}");
    for a in &answers {
        assert_eq!(a.as_ref().unwrap_err(), &first);
    }
    // Later askers get the same refusal without a request.
    assert_eq!(source.token().await.unwrap_err(), first);
    assert_eq!(sim.sign_in_requests(), ["client_credentials"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_askers_share_one_device_code_prompt_and_its_refusal() {
    let sim = sim_with(SimConfig {
        device_code_interval: 0,
        device_code_polls: 1,
        device_code_declined: true,
        ..SimConfig::default()
    })
    .await;
    let (source, shown) = device(&sim.url);
    let answers = ask_at_once(&source, 4).await;
    assert!(answers.iter().all(|a| {
        a.as_ref()
            .is_err_and(|e| e.message.contains("authorization_declined"))
    }));
    assert!(source.token().await.is_err());
    assert_eq!(shown.lock().unwrap().len(), 1, "one prompt");
    assert_eq!(
        sim.sign_in_requests(),
        ["devicecode", DEVICE_GRANT, DEVICE_GRANT],
        "one code, polled until declined"
    );
    sim.shutdown().await;
}

/// One answer of a stand-in authority: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

/// A stand-in authority: `answer(path, n)` says how to answer the `n`th request (from 0) to
/// `path`. Every request's path is kept, in order. Answers wait until [`Authority::open`].
struct Authority {
    url: String,
    hits: Arc<Mutex<Vec<String>>>,
    open: tokio::sync::watch::Sender<bool>,
}

impl Authority {
    /// Answers at once.
    async fn start(answer: impl Fn(&str, usize) -> Answer + Send + Sync + 'static) -> Self {
        let authority = Self::held(answer).await;
        authority.open();
        authority
    }

    /// Answers once opened.
    async fn held(answer: impl Fn(&str, usize) -> Answer + Send + Sync + 'static) -> Self {
        let hits = Arc::new(Mutex::new(Vec::<String>::new()));
        let answer = Arc::new(answer);
        let seen = hits.clone();
        let (open, opened) = tokio::sync::watch::channel(false);
        let router = axum::Router::new().fallback(move |uri: Uri| {
            let (seen, answer, mut opened) = (seen.clone(), answer.clone(), opened.clone());
            async move {
                let _ = opened.wait_for(|open| *open).await;
                let path = uri.path().to_owned();
                let n = {
                    let mut seen = seen.lock().unwrap();
                    let n = seen.iter().filter(|p| **p == path).count();
                    seen.push(path.clone());
                    n
                };
                let (status, headers, body) = answer(&path, n);
                let mut response =
                    Response::builder().status(StatusCode::from_u16(status).unwrap());
                for (name, value) in headers {
                    response = response.header(HeaderName::from_static(name), value);
                }
                response
                    .header("content-type", "application/json; charset=utf-8")
                    .body(axum::body::Body::from(body))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, hits, open }
    }

    fn open(&self) {
        self.open.send_replace(true);
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

fn token_answer() -> String {
    r#"{"token_type": "Bearer", "expires_in": "3599", "access_token": "at-from-the-stand-in"}"#
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transient_failure_is_shared_by_those_waiting_and_not_kept() {
    let authority = Authority::held(|_, n| match n {
        0 => (
            503,
            vec![],
            r#"{"error":"temporarily_unavailable","error_description":"AADSTS90033: A transient error has occurred. Please try again.\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 3"}"#.to_owned(),
        ),
        _ => (200, vec![], token_answer()),
    })
    .await;
    let source = app(&authority.url, SECRET);
    let mut askers = std::pin::pin!(ask_at_once(&source, 8));
    // One poll starts them all; the first one's request then waits for the stand-in, so the
    // others are sure to be waiting for it (on a loaded machine it could be answered first).
    let first_poll = std::future::poll_fn(|cx| Poll::Ready(askers.as_mut().poll(cx))).await;
    assert!(first_poll.is_pending());
    authority.open();
    let answers = askers.await;
    for a in &answers {
        let e = a.as_ref().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server, "{e}");
        assert!(e.kind.is_transient());
    }
    assert_eq!(
        authority.hits().len(),
        1,
        "the waiters shared the one attempt"
    );
    // The next asker tries again, and its token is then kept.
    assert_eq!(source.token().await.unwrap(), "at-from-the-stand-in");
    assert_eq!(source.token().await.unwrap(), "at-from-the-stand-in");
    assert_eq!(authority.hits().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_from_the_token_endpoint_is_not_followed_nor_its_query_shown() {
    let authority = Authority::start(|path, _| match path {
        "/contoso/oauth2/v2.0/token" => (
            307,
            vec![("location", "/elsewhere?client_secret=LEAKY#frag".to_owned())],
            String::new(),
        ),
        "/organizations/oauth2/v2.0/devicecode" => (
            302,
            vec![(
                "location",
                "https://someone:LEAKY-pw@login.evil.example/steal?code=LEAKY".to_owned(),
            )],
            String::new(),
        ),
        _ => (200, vec![], token_answer()),
    })
    .await;
    let source = app(&authority.url, SECRET);
    let e = source.token().await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Protocol, Some(307)), "{e}");
    let sentence = e.sentence();
    assert!(
        sentence.contains(&format!(
            "the token endpoint redirected to {}/elsewhere; not followed",
            authority.url
        )),
        "{sentence}"
    );
    // Final: the rest of the command is not sent there either.
    assert_eq!(source.token().await.unwrap_err(), e);

    let (device, shown) = device(&authority.url);
    let e = device.token().await.unwrap_err();
    let sentence = e.sentence();
    assert!(
        sentence.contains("redirected to https://login.evil.example/steal;"),
        "{sentence}"
    );
    assert!(shown.lock().unwrap().is_empty());
    for text in [sentence, format!("{e:?}")] {
        assert!(!text.contains("LEAKY") && !text.contains(SECRET), "{text}");
    }
    assert_eq!(
        authority.hits(),
        [
            "/contoso/oauth2/v2.0/token",
            "/organizations/oauth2/v2.0/devicecode"
        ],
        "nothing followed the redirects"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_answers_with_counts_as_strings_are_read() {
    let authority = Authority::start(|path, n| {
        if path.ends_with("/devicecode") {
            let code = r#"{"device_code": "dc-1", "user_code": "ABCD-EFGH", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": "900", "interval": "0", "message": "To sign in, enter the code ABCD-EFGH."}"#;
            (200, vec![], code.to_owned())
        } else if n == 0 {
            let pending = r#"{"error": "authorization_pending", "error_description": "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling."}"#;
            (400, vec![], pending.to_owned())
        } else {
            (200, vec![], token_answer())
        }
    })
    .await;
    let (source, shown) = device(&authority.url);
    assert_eq!(source.token().await.unwrap(), "at-from-the-stand-in");
    assert_eq!(
        shown.lock().unwrap().as_slice(),
        ["To sign in, enter the code ABCD-EFGH."]
    );
    assert_eq!(authority.hits().len(), 3, "{:?}", authority.hits());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_megabyte_of_sign_in_refusal_is_one_readable_line_on_stderr() {
    let authority = Authority::start(|_, _| {
        let body = serde_json::json!({
            "error": "invalid_request",
            "error_description": format!(
                "AADSTS900144: {}\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 3",
                "The request body is odd. ".repeat(40_000)
            ),
        });
        (400, vec![], body.to_string())
    })
    .await;
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.envs(support::isolated_env());
    cmd.args(["ip", support::DOC_IP])
        .env_remove("MDE_TOKEN")
        .env_remove("MDE_SIGN_IN")
        .env_remove("MDE_SCOPE")
        .env_remove("AZURE_CLIENT_SECRET_FILE")
        .env("MDE_API_URL", &authority.url)
        .env("AZURE_AUTHORITY_HOST", &authority.url)
        .env("AZURE_TENANT_ID", "contoso")
        .env("AZURE_CLIENT_ID", "sim-client")
        .env("AZURE_CLIENT_SECRET", SECRET)
        .env("PATH", "")
        .env("XDG_STATE_HOME", home.path())
        .env("MDE_TRIAGE_LOG", "debug");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.chars().count() < 700, "{} characters", err.len());
    assert!(
        err.contains("invalid_request: AADSTS900144: The request body is odd."),
        "{err}"
    );
    let more: usize = err
        .trim()
        .rsplit_once("… (")
        .and_then(|(_, note)| note.strip_suffix(" more characters)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the cut is said: {err}"));
    assert!(more > 990_000, "{more}");
    assert_eq!(authority.hits().len(), 1, "asked once for both endpoints");
    // The log has more of it, and still no secret.
    let log = files_under(home.path());
    assert!(
        log.contains("a sign-in refusal was cut for display"),
        "{log:.300}"
    );
    assert!(!log.contains(SECRET));
}

/// Every file under `dir`, concatenated.
fn files_under(dir: &std::path::Path) -> String {
    let mut text = String::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                dirs.push(e.path());
            } else {
                text.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    text
}
