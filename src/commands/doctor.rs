//! `doctor`: is everything in place to work against the tenant? One line per check, each
//! pass or fail with a remedy; exit 0 only when all pass. The permission probes go through
//! the scheduler like any call and each spends one call of that endpoint's budget.

mod team;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{Failure, credential_source, exit};
use crate::cli::GlobalArgs;
use crate::config::Settings;
use crate::defender::client::TokenSource;
use crate::defender::{Endpoint, ErrorKind, UtcSecond, jwt};
use crate::fetch::Priority;

/// Clocks further apart than this break token validation (Entra ID allows five minutes).
const MAX_SKEW: Duration = Duration::from_secs(300);

struct Check {
    name: &'static str,
    ok: bool,
    /// Passes, but something is not as it should be: said, and not counted as a failure.
    warning: bool,
    detail: String,
    remedy: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            ok: true,
            warning: false,
            detail: detail.into(),
            remedy: None,
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, remedy: impl Into<String>) -> Self {
        Self {
            name,
            ok: true,
            warning: true,
            detail: detail.into(),
            remedy: Some(remedy.into()),
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, remedy: impl Into<String>) -> Self {
        Self {
            name,
            ok: false,
            warning: false,
            detail: detail.into(),
            remedy: Some(remedy.into()),
        }
    }

    fn line(&self) -> String {
        let mark = match (self.ok, self.warning) {
            (true, false) => "[ ok ]",
            (true, true) => "[warn]",
            (false, _) => "[FAIL]",
        };
        let remedy = self
            .remedy
            .as_ref()
            .map_or(String::new(), |r| format!(" → {r}"));
        format!("{mark} {:<16} {}{remedy}", self.name, self.detail)
    }
}

/// Prints each check as it completes (a slow one should not hide the ones before it).
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, check: Check) {
        println!("{}", check.line());
        self.checks.push(check);
    }
}

pub async fn run(global: &GlobalArgs) -> Result<(), Failure> {
    let mut report = Report { checks: Vec::new() };
    let settings = config_check(global, &mut report);
    database_check(&settings, &mut report);
    let source = match credential_source(&settings) {
        Ok((source, about)) => {
            report.add(Check::pass("credentials", about));
            Some(source)
        }
        Err(e) => {
            report.add(Check::fail(
                "credentials",
                e.message,
                "see README, \"Connecting to a real tenant\"",
            ));
            None
        }
    };
    let token_ok = match &source {
        Some(source) => token_check(&settings, source.as_ref(), &mut report).await,
        None => false,
    };
    team::team_check(&settings, &mut report).await;
    let reachable = reach_check(&settings, &mut report).await;
    match (&source, reachable) {
        (Some(source), true) => permission_checks(&settings, source.clone(), &mut report).await,
        _ => report.add(Check::fail(
            "permissions",
            "not probed",
            if token_ok {
                "make the API host reachable first"
            } else {
                "fix the credentials first"
            },
        )),
    }
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(
            exit::DOCTOR,
            format!("{failed} of {} checks failed", report.checks.len()),
        ))
    }
}

/// Where the cache and cases live, and what the budget remembers for this tenant.
fn database_check(settings: &Settings, report: &mut Report) {
    let Some(path) = settings.database() else {
        report.add(Check::fail(
            "database",
            "no data directory is known",
            "pass --data-dir DIR (or MDE_TRIAGE_DATA_DIR); meanwhile nothing is cached or saved",
        ));
        return;
    };
    match crate::store::Store::open(&path) {
        Ok(opened) => {
            let store = opened.store;
            let cases = store.list_cases().map(|c| c.len()).unwrap_or(0);
            let hour = chrono::Utc::now() - chrono::Duration::hours(1);
            let calls = store
                .calls_since(&settings.scope(), hour)
                .map(|c| c.len())
                .unwrap_or(0);
            let moved = opened
                .warning
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            report.add(Check::pass(
                "database",
                format!(
                    "{}: {cases} case(s); {calls} call(s) to this tenant in the last hour{moved}",
                    path.display()
                ),
            ));
        }
        Err(e) => report.add(Check::fail(
            "database",
            e.to_string(),
            "pass --data-dir DIR with a writable directory; meanwhile nothing is cached or saved",
        )),
    }
}

fn config_check(global: &GlobalArgs, report: &mut Report) -> Settings {
    match Settings::resolve(global) {
        Ok(settings) => {
            let detail = match (&settings.config_file, &settings.profile) {
                (Some(path), Some(p)) => format!("{} (profile {p})", path.display()),
                (Some(path), None) => path.display().to_string(),
                (None, _) => "no file: defaults, environment and flags".into(),
            };
            report.add(Check::pass(
                "config",
                format!(
                    "{detail}; API {} ({} cloud), {} per endpoint",
                    settings.api_url, settings.cloud, settings.limits
                ),
            ));
            settings
        }
        Err(e) => {
            report.add(Check::fail(
                "config",
                e.to_string(),
                "fix the file (assets/config.sample.toml shows every key); checks go on with defaults",
            ));
            Settings::from_args(global)
        }
    }
}

/// Gets a token and reads what it says; `true` when one was obtained.
async fn token_check(settings: &Settings, source: &dyn TokenSource, report: &mut Report) -> bool {
    let token = match tokio::time::timeout(Duration::from_secs(60), source.token()).await {
        Ok(Ok(token)) => token,
        Ok(Err(e)) => {
            let remedy = match e.kind {
                ErrorKind::SignIn => "check the tenant, client id and secret (or `az login`)",
                _ => "check the network path to the sign-in authority",
            };
            report.add(Check::fail("token", e.sentence(), remedy));
            return false;
        }
        Err(_) => {
            report.add(Check::fail(
                "token",
                "no token within 60 s",
                "check the network path to the sign-in authority",
            ));
            return false;
        }
    };
    team_key_check(settings, &token, report);
    let Some(claims) = jwt::claims(&token) else {
        report.add(Check::pass(
            "token",
            "acquired (opaque: its permissions are checked by the probes below)",
        ));
        return true;
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let expiry = match claims.exp {
        Some(exp) if exp <= now => {
            report.add(Check::fail(
                "token",
                "expired",
                "get a fresh token (MDE_TOKEN), or use a sign-in source that renews it",
            ));
            return true;
        }
        Some(exp) => format!(
            "expires in {}",
            crate::text::duration(Duration::from_secs(exp - now))
        ),
        None => "no expiry claim".into(),
    };
    let permissions = claims.permissions();
    let shown = if permissions.is_empty() {
        "none".to_owned()
    } else {
        permissions.join(", ")
    };
    let detail = format!("acquired, {expiry}; permissions: {shown}");
    let mut missing: Vec<&str> = Vec::new();
    for p in Endpoint::ALL.map(Endpoint::permission) {
        if !claims.grants(p) && !missing.contains(&p) {
            missing.push(p);
        }
    }
    let audience_ok = claims.aud.as_deref().is_none_or(|aud| {
        aud.contains("securitycenter") || aud == "fc780465-2017-40d4-a0c5-307022471b92"
    });
    if !audience_ok {
        report.add(Check::fail(
            "token",
            format!("{detail}; audience {}", claims.aud.unwrap_or_default()),
            "request the token for https://api.securitycenter.microsoft.com/.default (another audience gets 403)",
        ));
    } else if !missing.is_empty() {
        report.add(Check::fail(
            "token",
            format!("{detail}; missing {}", missing.join(", ")),
            "grant the WindowsDefenderATP permission(s) to the app, with admin consent",
        ));
    } else {
        report.add(Check::pass("token", detail));
    }
    true
}

/// With a team budget, whether the team is keyed on the app too: an opaque token cannot say
/// which app it belongs to.
fn team_key_check(settings: &Settings, token: &str, report: &mut Report) {
    if settings.team_redis.is_none() {
        return;
    }
    if let Some(why) = super::credentials::team_id(settings, token).warning() {
        report.add(Check::warn(
            "team identity",
            why,
            "sign in with a token that is a JWT (the Azure CLI, device code, a client secret), \
             or give each app registration a Redis of its own",
        ));
    }
}

/// The API host answers at all, and its clock agrees with ours.
async fn reach_check(settings: &Settings, report: &mut Report) -> bool {
    crate::tls::install();
    let http = match reqwest::Client::builder()
        .timeout(settings.timeout.min(Duration::from_secs(15)))
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            report.add(Check::fail(
                "API host",
                e.to_string(),
                "report this as a bug",
            ));
            return false;
        }
    };
    let started = std::time::Instant::now();
    let response = match http.get(&settings.api_url).send().await {
        Ok(r) => r,
        Err(e) => {
            let what = if e.is_timeout() {
                "no answer in time".to_owned()
            } else {
                format!(
                    "cannot connect: {}",
                    crate::defender::client::root_cause(&e)
                )
            };
            report.add(Check::fail(
                "API host",
                format!("{}: {what}", settings.api_url),
                "check --cloud / --api-url, proxy and firewall",
            ));
            return false;
        }
    };
    report.add(Check::pass(
        "API host",
        format!(
            "{} answered HTTP {} in {} ms",
            settings.api_url,
            response.status().as_u16(),
            started.elapsed().as_millis()
        ),
    ));
    let date = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok());
    match date {
        None => report.add(Check::pass("clock", "not checked (the host sent no Date)")),
        Some(theirs) => {
            let skew = (chrono::Utc::now() - theirs.to_utc()).num_seconds();
            let detail = format!("{skew:+} s from the API host's clock");
            if skew.unsigned_abs() <= MAX_SKEW.as_secs() {
                report.add(Check::pass("clock", detail));
            } else {
                report.add(Check::fail(
                    "clock",
                    detail,
                    "set the system clock (NTP): tokens are refused beyond five minutes",
                ));
            }
        }
    }
    true
}

/// One probe per endpoint, through the scheduler; an answer or a 404 proves the permission.
async fn permission_checks(settings: &Settings, source: Arc<dyn TokenSource>, report: &mut Report) {
    // The probes are calls like any other: on the shared books when there are some.
    let Ok((fetch, mut events)) = super::wiring::probes(settings, source).await else {
        report.add(Check::fail(
            "permissions",
            "cannot build the client",
            "check --api-url",
        ));
        return;
    };
    // Nothing real is looked up (`Endpoint::probe`); findbyip's an hour ago.
    let probe_at = UtcSecond::new(chrono::Utc::now() - chrono::Duration::hours(1));
    let probes = Endpoint::ALL.map(|e| (e, e.probe(probe_at), e.permission()));
    let keys = probes.iter().map(|(_, key, _)| key.clone()).collect();
    // Each probe's own answer is the check: retries and pauses are waited out, unsaid.
    let mut answers =
        crate::fetch::collect(&fetch, &mut events, keys, Priority::Foreground, |_| None)
            .await
            .answers;
    for (endpoint, key, permission) in probes {
        let name = endpoint.label();
        let grant = match endpoint.newest_docs_permission() {
            Some(newer) => format!(
                "grant the WindowsDefenderATP application permission {permission}, with admin consent (the newest docs list only {newer} for this call)"
            ),
            None => format!(
                "grant the WindowsDefenderATP application permission {permission}, with admin consent"
            ),
        };
        let check = match answers.remove(&key) {
            Some(Ok(_)) => Check::pass(name, format!("{permission} works (probe spent 1 call)")),
            Some(Err(e)) if e.kind == ErrorKind::NotFound => {
                Check::pass(name, format!("{permission} works (probe spent 1 call)"))
            }
            Some(Err(e)) if e.kind == ErrorKind::Forbidden => Check::fail(
                name,
                format!("{permission} missing: {}", e.sentence()),
                grant,
            ),
            Some(Err(e)) if e.kind == ErrorKind::Unauthorized => Check::fail(
                name,
                e.sentence(),
                "the API refused the token: check its tenant and audience",
            ),
            Some(Err(e)) => {
                Check::fail(name, e.sentence(), "try again; if it persists, see the log")
            }
            None => Check::fail(name, "no answer", "try again"),
        };
        report.add(check);
    }
}
