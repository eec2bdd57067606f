//! Where tokens come from. Automatic order (README, "Connecting to a real tenant"):
//! 1. `MDE_TOKEN`, a ready bearer token;
//! 2. app-only client credentials: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//!    `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_SECRET_FILE`;
//! 3. the Azure CLI's session, when `az` is on `PATH`.
//!
//! Device-code sign-in is never guessed (it needs the analyst at a browser): it, or any other
//! source, is chosen with `MDE_SIGN_IN` or the config file's `sign_in`. Secrets come from the
//! environment or a file only: never from a flag, so they stay out of shell history and `ps`.
//!
//! The sources that sign in ask for `MDE_SCOPE`, else the file's `scope`, else the legacy
//! resource's scope, for every cloud: Microsoft documents no scope for the government clouds
//! (FACTS.md section 4), so their analysts set it rather than the program guessing.

use std::sync::Arc;

use super::Failure;
use crate::config::{Settings, SignIn};
use crate::defender::auth::{API_SCOPE, AppCredentials, ClientCredentials, Secret, parse_scope};
use crate::defender::azure_cli::AzureCli;
use crate::defender::client::{StaticToken, TokenSource};
use crate::defender::device_code::{DEFAULT_PUBLIC_CLIENT, DeviceCode, Prompt};

type Source = (Arc<dyn TokenSource>, String);

/// The token source for `settings`. Offline, none is read: nothing will be sent.
pub fn credentials(settings: &Settings) -> Result<Arc<dyn TokenSource>, Failure> {
    if settings.cache.offline {
        return Ok(Arc::new(NoSignIn));
    }
    credential_source(settings).map(|(source, _)| source)
}

/// `--offline`: the scheduler never calls, so a token is never asked for; if it were, the
/// answer is a clear refusal rather than a sign-in.
struct NoSignIn;

impl TokenSource for NoSignIn {
    fn token(&self) -> crate::defender::client::TokenFuture<'_> {
        Box::pin(async {
            Err(crate::defender::ApiError::new(
                crate::defender::ErrorKind::Offline,
                "offline: no sign-in",
            ))
        })
    }
}

/// [`credentials`], with a line saying which source was chosen (for `doctor`).
pub fn credential_source(settings: &Settings) -> Result<Source, Failure> {
    let choice = match var("MDE_SIGN_IN") {
        Some(v) => v
            .parse::<SignIn>()
            .map_err(|e| Failure::config(format!("MDE_SIGN_IN: {e}")))?,
        None => settings.sign_in,
    };
    // Checked whatever the source, so that a typo is never silently ignored.
    let scope = match var("MDE_SCOPE") {
        Some(v) => parse_scope(&v).map_err(|e| Failure::config(format!("MDE_SCOPE: {e}")))?,
        None => settings
            .token_scope
            .clone()
            .unwrap_or_else(|| API_SCOPE.to_owned()),
    };
    match choice {
        SignIn::Token => token().ok_or_else(|| {
            Failure::config("sign-in is set to token but MDE_TOKEN is empty or unset")
        }),
        SignIn::ClientSecret => client_secret(settings, &scope)?.ok_or_else(|| {
            Failure::config(
                "sign-in is set to client-secret: set AZURE_TENANT_ID and AZURE_CLIENT_ID (and \
                 AZURE_CLIENT_SECRET or AZURE_CLIENT_SECRET_FILE)",
            )
        }),
        SignIn::AzureCli => azure_cli(&scope)
            .ok_or_else(|| Failure::config("sign-in is set to azure-cli but `az` is not on PATH")),
        SignIn::DeviceCode => device_code(settings, &scope),
        SignIn::Auto => {
            if let Some(source) = token() {
                return Ok(source);
            }
            if let Some(source) = client_secret(settings, &scope)? {
                return Ok(source);
            }
            azure_cli(&scope).ok_or_else(|| {
                Failure::config(
                    "no credentials: set MDE_TOKEN to a bearer token, or AZURE_TENANT_ID, \
                     AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_SECRET_FILE) for \
                     an app registration, or install the Azure CLI and run `az login`, or set \
                     MDE_SIGN_IN=device-code; or try `mde-triage demo`",
                )
            })
        }
    }
}

/// The team this process spends for (README, "Team budget"): the configured tenant and app
/// when a client secret signs in, else what `token` (one it was given) says. Which source
/// signs in is decided as in [`credential_source`].
pub fn team_id(settings: &Settings, token: &str) -> crate::defender::team_id::TeamId {
    use crate::defender::team_id::{Basis, TeamId};
    let choice = var("MDE_SIGN_IN")
        .and_then(|v| v.parse::<SignIn>().ok())
        .unwrap_or(settings.sign_in);
    let app = match choice {
        SignIn::ClientSecret => true,
        SignIn::Auto => crate::config::token_from_env().is_none(),
        _ => false,
    };
    let tenant = var("AZURE_TENANT_ID");
    let basis = match (app, &tenant, var("AZURE_CLIENT_ID")) {
        (true, Some(tenant), Some(client_id)) => {
            return TeamId::of(
                &settings.api_url,
                Basis::App {
                    tenant,
                    client_id: &client_id,
                },
                None,
            );
        }
        _ => Basis::Token(token),
    };
    TeamId::of(&settings.api_url, basis, tenant.as_deref())
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn authority(settings: &Settings) -> String {
    var("AZURE_AUTHORITY_HOST").unwrap_or_else(|| settings.cloud.authority.to_owned())
}

fn token() -> Option<Source> {
    let token = crate::config::token_from_env()?;
    Some((
        Arc::new(StaticToken::new(token)),
        "MDE_TOKEN (a ready bearer token)".into(),
    ))
}

/// `None` when the app's tenant and id are not both set.
fn client_secret(settings: &Settings, scope: &str) -> Result<Option<Source>, Failure> {
    let (Some(tenant), Some(client_id)) = (var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID")) else {
        return Ok(None);
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
    let authority = authority(settings);
    let about = format!(
        "app registration {client_id} in tenant {tenant}, signing in at {authority}, scope {scope}"
    );
    let source = ClientCredentials::new(
        AppCredentials {
            authority,
            tenant,
            client_id,
            secret,
        },
        settings.timeout,
    )
    .map_err(|e| Failure::config(e.sentence()))?
    .with_scope(scope);
    Ok(Some((Arc::new(source), about)))
}

fn azure_cli(scope: &str) -> Option<Source> {
    let cli = AzureCli::find()?.with_scope(scope);
    tracing::info!(?cli, "credentials: the Azure CLI's session");
    let about = format!(
        "the Azure CLI's session ({}), scope {scope}",
        cli.program().display()
    );
    Some((Arc::new(cli), about))
}

/// The code and URL go to stderr, before any screen is drawn.
fn device_code(settings: &Settings, scope: &str) -> Result<Source, Failure> {
    let tenant = var("AZURE_TENANT_ID").unwrap_or_else(|| "organizations".into());
    let client_id = var("AZURE_CLIENT_ID").unwrap_or_else(|| DEFAULT_PUBLIC_CLIENT.into());
    let authority = authority(settings);
    let prompt: Prompt = Arc::new(|message: &str| eprintln!("mde-triage: {message}"));
    let source = DeviceCode::new(&authority, &tenant, &client_id, prompt, settings.timeout)
        .map_err(|e| Failure::config(e.sentence()))?
        .with_scope(scope);
    let about = format!(
        "device-code sign-in as a user of {tenant} (client {client_id}) at {authority}, scope {scope}"
    );
    Ok((Arc::new(source), about))
}
