//! The flags every command takes (before or after the subcommand): the top layer of the
//! settings. Defined here, beside the layers they override, so the settings never reach up into
//! the command line; `cli.rs` flattens them into its parser.

use std::path::PathBuf;

use clap::Args;

use crate::defender::cloud::Cloud;
use crate::fetch::RateLimits;

/// Accepted before or after the subcommand.
#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// API base URL [default: https://api.security.microsoft.com]
    #[arg(long, global = true, env = "MDE_API_URL", value_name = "URL")]
    pub api_url: Option<String>,
    /// Per-endpoint call budget, e.g. 100/1m,1500/1h (the API's limits) or 20/10s,200/1h;
    /// for `sim`, the simulated API's own limits
    #[arg(long, global = true, env = "MDE_RATE_LIMIT", value_name = "SPEC")]
    pub rate_limit: Option<RateLimits>,
    /// Share of each window kept for the analyst: prefetch and batch work (`expand`) only
    /// spend above it. 0.0 to 1.0 [default: 0.2]
    #[arg(long, global = true, env = "MDE_RESERVE", value_name = "FRACTION", value_parser = probability)]
    pub reserve: Option<f64>,
    /// Most pages read of one list answer (@odata.nextLink); a list cut there says so in the
    /// pane, in --json ("truncated": true) and on stderr. 1 to 10000 [default: 50]
    #[arg(long, global = true, env = "MDE_MAX_PAGES", value_name = "N", value_parser = page_cap)]
    pub max_pages: Option<usize>,
    /// Configuration file [default: config.toml in the platform's config directory, if present]
    #[arg(long, global = true, env = "MDE_TRIAGE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Named tenant profile from the configuration file
    #[arg(long, global = true, env = "MDE_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// API cloud or region: public, us, eu, uk, au, swa, ina, aea, legacy, gcc, gcc-high, dod
    #[arg(long, global = true, env = "MDE_CLOUD", value_name = "NAME")]
    pub cloud: Option<Cloud>,
    /// Case to record into (reopened if it exists). The console records into today's case
    /// when none is named; `ip`, `alert` and `expand` record only with this flag
    #[arg(long, global = true, env = "MDE_CASE", value_name = "NAME", value_parser = case_name)]
    pub case: Option<String>,
    /// Ask the API for everything instead of serving cached answers (answers are still stored)
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// Never touch the network: serve cached answers whatever their age
    #[arg(long, global = true, conflicts_with = "no_cache")]
    pub offline: bool,
    /// Directory of the database (cache and cases)
    /// [default: the platform's data directory, e.g. ~/.local/share/mde-triage]
    #[arg(long, global = true, env = "MDE_TRIAGE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The team's Redis, so every console and script on this app registration shares one
    /// budget, one 429 pause and one cache: redis://HOST[:PORT], rediss://…, unix:///PATH.
    /// Also MDE_TEAM_REDIS; the password never goes here (MDE_TEAM_REDIS_PASSWORD, or the
    /// file's team_redis_password_file)
    #[arg(long, global = true, value_name = "URL", value_parser = TeamUrl)]
    pub team_redis: Option<crate::config::team::TeamSetting>,
}

/// `--team-redis`: its refusal is ours alone, because clap's own would repeat the value, and
/// the value may carry a password. It has no `env`: `MDE_TEAM_REDIS` may carry one (the
/// environment is not the command line) and is read with the configuration.
#[derive(Clone)]
struct TeamUrl;

impl clap::builder::TypedValueParser for TeamUrl {
    type Value = crate::config::team::TeamSetting;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let refuse = |why: String| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{why}\n"))
                .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse("--team-redis: the URL is not UTF-8".to_owned()))?;
        crate::config::team::parse_flag(text).map_err(refuse)
    }
}

/// A case name: printable, one line, not too long (it names report files too).
fn case_name(s: &str) -> Result<String, String> {
    let name = s.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(format!(
            "'{s}' is not a usable case name (1 to 80 printable characters)"
        ));
    }
    Ok(name.to_owned())
}

fn page_cap(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(format!("'{s}' is not a page cap between 1 and 10000")),
    }
}

/// A share between 0 and 1 (the reserve; the simulator's fault rates).
pub fn probability(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("'{s}' is not a probability between 0.0 and 1.0")),
    }
}
