//! Which shared books a command's scheduler keeps: the team's Redis when `team_redis` is set,
//! else the local database that this user's processes on one data directory share, else none
//! (the scheduler decides alone, from memory). Whatever goes wrong here is said and the
//! command goes on with the next best: the analyst's lookups never wait on it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::config::Settings;
use crate::defender::client::TokenSource;
use crate::fetch::{BudgetPolicy, Ledger};
use crate::store::{Store, StoreLedger};
use crate::team::{TeamLedger, TeamUrl};

/// How long we wait for a token to tell the team (tenant + app) before going on without it.
const SIGN_IN_WAIT: Duration = Duration::from_secs(20);

/// The ledger a command's scheduler asks, and what to tell the analyst about it.
pub struct Books {
    pub ledger: Option<Arc<dyn Ledger>>,
    pub warnings: Vec<String>,
}

impl Books {
    /// Tells a one-shot command's user what the books could not do (stderr: stdout is data).
    pub fn say(&self) {
        for w in &self.warnings {
            eprintln!("mde-triage: {w}");
        }
    }
}

/// Opens the books `settings` ask for, for the tenant `scope`.
pub async fn open(settings: &Settings, tokens: &Arc<dyn TokenSource>, scope: &str) -> Books {
    let policy = super::wiring::scheduler_config(settings).policy();
    let mut warnings = Vec::new();
    if let Some(team) = team(settings, tokens, scope, &policy, &mut warnings).await {
        // Read on connecting, before the first call: settings that differ from the team's.
        warnings.extend(team.warnings());
        return Books {
            ledger: Some(team),
            warnings,
        };
    }
    let ledger = settings.database().and_then(|path| {
        match StoreLedger::open(&path, scope.to_owned(), policy) {
            Ok(l) => Some(Arc::new(l) as Arc<dyn Ledger>),
            Err(e) => {
                // The store says the same when it opens: no second sentence for it here.
                tracing::warn!("shared local budget unavailable: {e}");
                None
            }
        }
    });
    Books { ledger, warnings }
}

/// The team's books, when configured and the team can be told apart.
async fn team(
    settings: &Settings,
    tokens: &Arc<dyn TokenSource>,
    scope: &str,
    policy: &BudgetPolicy,
    warnings: &mut Vec<String>,
) -> Option<Arc<TeamLedger>> {
    let setting = settings.team_redis.as_ref()?;
    let url = match TeamUrl::parse(&setting.url) {
        Ok(url) => url.with_password(setting.password.clone()),
        Err(e) => {
            warnings.push(format!(
                "team budget off: {e}; this process keeps its budget alone"
            ));
            return None;
        }
    };
    // The team is the API host + tenant + app: read from the configuration, or from the
    // token's claims. Without a token we cannot tell which registration's budget to share,
    // and sharing the wrong one is worse than sharing none.
    let token = match tokio::time::timeout(SIGN_IN_WAIT, tokens.token()).await {
        Ok(Ok(token)) => token,
        Ok(Err(e)) => {
            warnings.push(format!(
                "team budget off this run: cannot tell the app registration without a token ({})",
                e.sentence()
            ));
            return None;
        }
        Err(_) => {
            warnings.push(
                "team budget off this run: no token within 20 s to tell the app registration"
                    .into(),
            );
            return None;
        }
    };
    let id = super::credentials::team_id(settings, &token);
    if let Some(w) = id.warning() {
        tracing::warn!("{w}");
    }
    let own_calls = own_calls(settings, scope, policy);
    let ledger = TeamLedger::start(url, id.reg, policy.clone(), own_calls).await;
    Some(Arc::new(ledger))
}

/// This data directory's calls still inside the longest window: what this process puts back
/// on the team's log if Redis lost it.
fn own_calls(
    settings: &Settings,
    scope: &str,
    policy: &BudgetPolicy,
) -> Vec<(crate::defender::Endpoint, chrono::DateTime<Utc>)> {
    let Some(path) = settings.database() else {
        return Vec::new();
    };
    let Ok(opened) = Store::open(&path) else {
        return Vec::new();
    };
    let horizon = policy.reach(policy.limits.horizon());
    let since =
        Utc::now() - chrono::Duration::from_std(horizon).unwrap_or(chrono::Duration::hours(1));
    opened.store.calls_since(scope, since).unwrap_or_default()
}
