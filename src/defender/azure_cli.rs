//! Tokens from the Azure CLI's own session (`az login` done beforehand): the analyst's
//! delegated identity, no app secret to handle. `az` is slow (a Python start-up per call), so
//! its answer is cached like any other token and asked for again only near expiry.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
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
    /// Unix seconds, a number or a string; recent CLIs print it.
    #[serde(
        default,
        rename = "expires_on",
        deserialize_with = "super::fields::opt_count"
    )]
    expires_on: Option<u64>,
    /// The local time without a zone, e.g. "2026-12-01 23:14:05.000000"; every CLI prints it.
    /// Kept as any JSON value so an odd one costs only the expiry, not the token.
    #[serde(default, rename = "expiresOn")]
    expires_on_local: Option<serde_json::Value>,
}

/// How long a token whose expiry cannot be read is used: asking `az` again every few minutes
/// costs little, a token used past its end costs a failed call.
const UNKNOWN_LIFETIME: Duration = Duration::from_secs(300);

impl CliToken {
    /// How long the token lives from `now`: `expires_on` when present, else `expiresOn` read
    /// as a time in `zone` (the machine's, where `az` ran), else [`UNKNOWN_LIFETIME`].
    fn lifetime<Tz: TimeZone>(&self, now: DateTime<Utc>, zone: &Tz) -> Duration {
        let until = |at: DateTime<Utc>| (at - now).to_std().unwrap_or_default();
        if let Some(at) = self.expires_on.and_then(|s| i64::try_from(s).ok()) {
            return DateTime::from_timestamp(at, 0).map_or(Duration::ZERO, until);
        }
        let local = self
            .expires_on_local
            .as_ref()
            .and_then(|v| v.as_str())
            .and_then(|s| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok())
            // A time that occurs twice (clocks going back) is taken at its first: earlier is safer.
            .and_then(|t| zone.from_local_datetime(&t).earliest());
        match local {
            Some(at) => until(at.with_timezone(&Utc)),
            None => {
                tracing::warn!("az printed no readable expiry; asking it again in five minutes");
                UNKNOWN_LIFETIME
            }
        }
    }
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
                    super::error::shorten(&sanitize::one_line(first.trim_start_matches("ERROR: ")))
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
        let lifetime = token.lifetime(Utc::now(), &Local);
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

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    fn lifetime(json: &str, zone: &FixedOffset) -> Duration {
        let token: CliToken = serde_json::from_str(json).unwrap();
        // 2026-12-01 22:14:05 UTC.
        let now = DateTime::from_timestamp(1_796_163_245, 0).unwrap();
        token.lifetime(now, zone)
    }

    #[test]
    fn the_expiry_is_read_from_expires_on_else_the_local_expires_on() {
        let utc = FixedOffset::east_opt(0).unwrap();
        let paris = FixedOffset::east_opt(3600).unwrap();
        let hour = Duration::from_secs(3600);
        let cases = [
            // Newer CLIs: unix seconds, as a number or a string, over the local time.
            (
                r#"{"accessToken": "t", "expires_on": 1796166845, "expiresOn": "1999-01-01 00:00:00.000000"}"#,
                utc,
                hour,
            ),
            (
                r#"{"accessToken": "t", "expires_on": "1796166845"}"#,
                paris,
                hour,
            ),
            // Older CLIs: the local time only, so the zone decides.
            (
                r#"{"accessToken": "t", "expiresOn": "2026-12-01 23:14:05.000000"}"#,
                utc,
                hour,
            ),
            (
                r#"{"accessToken": "t", "expiresOn": "2026-12-01 23:14:05.000000"}"#,
                paris,
                Duration::ZERO,
            ),
            (
                r#"{"accessToken": "t", "expiresOn": "2026-12-02 00:14:05"}"#,
                paris,
                hour,
            ),
            // Garbled: ask again in five minutes.
            (
                r#"{"accessToken": "t", "expiresOn": "tomorrow-ish"}"#,
                utc,
                UNKNOWN_LIFETIME,
            ),
            (
                r#"{"accessToken": "t", "expiresOn": 17}"#,
                utc,
                UNKNOWN_LIFETIME,
            ),
            (
                r#"{"accessToken": "t", "expires_on": "later", "expiresOn": "2026-12-01 22:44:05.5"}"#,
                utc,
                hour / 2 + Duration::from_millis(500),
            ),
            (r#"{"accessToken": "t"}"#, utc, UNKNOWN_LIFETIME),
        ];
        for (json, zone, expected) in cases {
            assert_eq!(lifetime(json, &zone), expected, "{json} in {zone}");
        }
    }
}
