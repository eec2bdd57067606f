//! What each subcommand does, and how its failures become exit codes.

pub mod console;
pub mod doctor;
pub mod expand;
pub mod json;
pub mod oneshot;
pub mod simulator;

use std::fmt;
use std::sync::Arc;

use crate::config::Settings;
use crate::defender::auth::{AppCredentials, ClientCredentials, Secret};
use crate::defender::azure_cli::AzureCli;
use crate::defender::client::{Client, ClientConfig, StaticToken, TokenSource};
use crate::defender::{ApiError, InputError};
use crate::fetch::{FetchEvent, FetchHandle, SchedulerConfig};

/// Exit codes that are not an API error kind (those are in `ErrorKind::exit_code`).
pub mod exit {
    pub const INTERNAL: u8 = 1;
    /// Bad usage or invalid input caught before any call (clap uses 2 for usage too).
    pub const INPUT: u8 = 2;
    /// Missing token, unusable URL or other configuration problem.
    pub const CONFIG: u8 = 11;
    /// The subcommand exists in the contract but not yet in this build.
    pub const UNAVAILABLE: u8 = 12;
    /// `doctor` found at least one problem.
    pub const DOCTOR: u8 = 14;
    /// Stopped by Ctrl-C after flushing what was done (128 + SIGINT, as shells expect).
    pub const INTERRUPTED: u8 = 130;
}

/// A command's failure: one clear sentence and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(exit::CONFIG, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Self::new(e.kind.exit_code(), e.sentence())
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Self::new(exit::INPUT, e.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::new(exit::INTERNAL, format!("{e:#}"))
    }
}

/// Where tokens come from, tried in this order (README, "Credentials"):
/// 1. `MDE_TOKEN`, a ready bearer token;
/// 2. app-only client credentials: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
///    `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_SECRET_FILE`, signing in at `AZURE_AUTHORITY_HOST`
///    (default: the cloud's authority);
/// 3. the Azure CLI's session, when `az` is on `PATH`.
///
/// Secrets come from the environment or a file only: never from a flag, so they stay out of
/// shell history and `ps`.
pub fn credentials(settings: &Settings) -> Result<Arc<dyn TokenSource>, Failure> {
    credential_source(settings).map(|(source, _)| source)
}

/// [`credentials`], with a line saying which source was chosen (for `doctor`).
pub fn credential_source(settings: &Settings) -> Result<(Arc<dyn TokenSource>, String), Failure> {
    if let Some(token) = crate::config::token_from_env() {
        return Ok((
            Arc::new(StaticToken::new(token)),
            "MDE_TOKEN (a ready bearer token)".into(),
        ));
    }
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if var("MDE_SIGN_IN").is_some_and(|v| v.eq_ignore_ascii_case("device-code")) {
        return device_code(settings, &var);
    }
    let (Some(tenant), Some(client_id)) = (var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID")) else {
        if let Some(cli) = AzureCli::find() {
            tracing::info!(?cli, "credentials: the Azure CLI's session");
            let about = format!("the Azure CLI's session ({})", cli.program().display());
            return Ok((Arc::new(cli), about));
        }
        return Err(Failure::config(
            "no credentials: set MDE_TOKEN to a bearer token, or AZURE_TENANT_ID, AZURE_CLIENT_ID \
             and AZURE_CLIENT_SECRET (or AZURE_CLIENT_SECRET_FILE) for an app registration, or \
             install the Azure CLI and run `az login`; or try `mde-triage demo`",
        ));
    };
    let secret = match (var("AZURE_CLIENT_SECRET"), var("AZURE_CLIENT_SECRET_FILE")) {
        (Some(secret), _) => Secret::new(secret),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Failure::config(format!("cannot read AZURE_CLIENT_SECRET_FILE {path}: {e}"))
            })?;
            Secret::new(text.trim())
        }
        (None, None) => {
            return Err(Failure::config(
                "AZURE_TENANT_ID and AZURE_CLIENT_ID are set but no secret: set \
                 AZURE_CLIENT_SECRET or AZURE_CLIENT_SECRET_FILE",
            ));
        }
    };
    let authority =
        var("AZURE_AUTHORITY_HOST").unwrap_or_else(|| settings.cloud.authority.to_owned());
    let about =
        format!("app registration {client_id} in tenant {tenant}, signing in at {authority}");
    let source = ClientCredentials::new(
        AppCredentials {
            authority,
            tenant,
            client_id,
            secret,
        },
        settings.timeout,
    )
    .map_err(|e| Failure::config(e.sentence()))?;
    Ok((Arc::new(source), about))
}

/// Delegated sign-in by device code, asked for with `MDE_SIGN_IN=device-code`: the code and
/// URL go to stderr, before any screen is drawn.
fn device_code(
    settings: &Settings,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<(Arc<dyn TokenSource>, String), Failure> {
    let tenant = var("AZURE_TENANT_ID").unwrap_or_else(|| "organizations".into());
    let client_id = var("AZURE_CLIENT_ID")
        .unwrap_or_else(|| crate::defender::device_code::DEFAULT_PUBLIC_CLIENT.into());
    let authority =
        var("AZURE_AUTHORITY_HOST").unwrap_or_else(|| settings.cloud.authority.to_owned());
    let prompt: crate::defender::device_code::Prompt = Arc::new(|message: &str| {
        eprintln!("mde-triage: {message}");
    });
    let source = crate::defender::device_code::DeviceCode::new(
        &authority,
        &tenant,
        &client_id,
        prompt,
        settings.timeout,
    )
    .map_err(|e| Failure::config(e.sentence()))?;
    let about =
        format!("device-code sign-in as a user of {tenant} (client {client_id}) at {authority}");
    Ok((Arc::new(source), about))
}

/// Builds the HTTP client and starts the scheduler in front of it: the only road to the API.
pub fn connect(
    api_url: &str,
    tokens: Arc<dyn TokenSource>,
    settings: &Settings,
) -> Result<
    (
        FetchHandle,
        tokio::sync::mpsc::UnboundedReceiver<FetchEvent>,
    ),
    Failure,
> {
    let client = Client::new(
        ClientConfig {
            base_url: api_url.to_owned(),
            timeout: settings.timeout,
        },
        tokens,
    )
    .map_err(|e| Failure::config(e.sentence()))?;
    let config = SchedulerConfig {
        limits: settings.limits.clone(),
        reserve: settings.reserve,
        ..SchedulerConfig::default()
    };
    Ok(crate::fetch::spawn(Arc::new(client), config))
}

/// The host part of a URL, for the title bar.
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| url.to_owned())
}
