//! Settings from flags and environment (flags win). The configuration file, profiles and clouds
//! arrive with the real-tenant work; the precedence stays file < environment < flags.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::GlobalArgs;
use crate::defender::DEFAULT_API_URL;
use crate::fetch::RateLimits;

/// What a console or a one-shot command needs to reach the API.
#[derive(Debug, Clone)]
pub struct Settings {
    pub api_url: String,
    pub limits: RateLimits,
    /// Share of each window prefetch and batch work leave to the analyst.
    pub reserve: f64,
    /// One request's whole time limit.
    pub timeout: Duration,
}

impl Settings {
    pub fn from_args(global: &GlobalArgs) -> Self {
        Self {
            // clap already folded MDE_API_URL into the flag.
            api_url: global
                .api_url
                .clone()
                .unwrap_or_else(|| DEFAULT_API_URL.to_owned()),
            limits: global.rate_limit.clone().unwrap_or_default(),
            reserve: global
                .reserve
                .unwrap_or(crate::fetch::SchedulerConfig::default().reserve),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The bearer token from `MDE_TOKEN`: never from a flag, so it stays out of shell history and
/// `ps`.
pub fn token_from_env() -> Option<String> {
    std::env::var("MDE_TOKEN")
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Where logs go: the platform's state (or local data) directory, never the terminal.
pub fn log_dir() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "mde-triage")?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .join("logs"),
    )
}
