//! Tokens from the Azure CLI's own session (`az login` done beforehand): the analyst's
//! delegated identity, no app secret to handle. `az` is slow (a Python start-up per call), so
//! its answer is cached like any other token and asked for again only near expiry.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::auth::TokenCache;
use super::client::{TokenFuture, TokenSource};
use super::error::{ApiError, ErrorKind};
use super::sanitize;

/// The resource the CLI is asked for: the legacy one works for every API host (FACTS.md 4).
pub const RESOURCE: &str = "https://api.securitycenter.microsoft.com";

/// `az account get-access-token`, cached.
pub struct AzureCli {
    program: PathBuf,
    /// What `--resource` asks for: [`RESOURCE`], or an overriding scope without `/.default`.
    resource: String,
    cache: TokenCache,
}

impl std::fmt::Debug for AzureCli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureCli")
            .field("program", &self.program)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: String,
    /// Unix seconds; recent CLIs print it (`expires_on`).
    #[serde(default, rename = "expires_on")]
    expires_on: Option<serde_json::Value>,
}

impl AzureCli {
    /// The CLI found on `PATH`, if any.
    pub fn find() -> Option<Self> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join("az"))
            .find(|p| is_executable(p))
            .map(Self::new)
    }

    /// The CLI at `program`, e.g. one found elsewhere than on `PATH`.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            resource: RESOURCE.to_owned(),
            cache: TokenCache::default(),
        }
    }

    /// Asks for the resource of `scope` (see [`super::auth::parse_scope`]) instead of
    /// [`RESOURCE`]: the CLI takes the resource, the v2.0 endpoint the same with `/.default`.
    pub fn with_scope(mut self, scope: &str) -> Self {
        self.resource = scope.strip_suffix("/.default").unwrap_or(scope).to_owned();
        self
    }

    /// The `az` program found.
    pub fn program(&self) -> &Path {
        &self.program
    }

    async fn fetch(&self) -> Result<(String, Duration), ApiError> {
        let program = self.program.clone();
        let resource = self.resource.clone();
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(program)
                .args([
                    "account",
                    "get-access-token",
                    "--resource",
                    &resource,
                    "--output",
                    "json",
                ])
                .stdin(std::process::Stdio::null())
                .output()
        })
        .await
        .map_err(|e| ApiError::new(ErrorKind::SignIn, format!("az did not run: {e}")))?
        .map_err(|e| ApiError::new(ErrorKind::SignIn, format!("az did not run: {e}")))?;
        if !output.status.success() {
            // az prints "ERROR: ..." lines, the first of which says what to do.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("no message");
            return Err(ApiError::new(
                ErrorKind::SignIn,
                format!(
                    "az account get-access-token failed: {} (is `az login` done?)",
                    sanitize::one_line(first.trim_start_matches("ERROR: "))
                ),
            ));
        }
        let token: CliToken = serde_json::from_slice(&output.stdout).map_err(|e| {
            ApiError::new(
                ErrorKind::SignIn,
                format!(
                    "az printed something other than a token: {}",
                    super::auth::unquoted(&e)
                ),
            )
        })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let lifetime = token
            .expires_on
            .as_ref()
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .map(|at| Duration::from_secs(at.saturating_sub(now)))
            // Older CLIs give only a local time without a zone: ask again in five minutes.
            .unwrap_or(Duration::from_secs(300));
        tracing::info!(secs = lifetime.as_secs(), "token from the Azure CLI");
        Ok((token.access_token, lifetime))
    }
}

impl TokenSource for AzureCli {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.cache.get(|| self.fetch()))
    }

    fn invalidate(&self, token: &str) -> bool {
        self.cache.forget(token);
        true
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.with_extension("cmd").is_file() || path.is_file()
}
