//! Settings from the configuration file, the environment and flags, in that order of
//! precedence (flags win). clap folds each `MDE_*` variable into its flag, so "environment <
//! flags" is clap's rule and this module adds the file underneath.

pub mod console;
pub mod file;
pub mod flags;
pub mod team;

use std::path::PathBuf;
use std::time::Duration;

use crate::defender::cloud::Cloud;
use crate::fetch::{RateLimits, SchedulerConfig};
pub use file::{FileConfig, FileError, Layer};
use flags::GlobalArgs;
pub use team::TeamSetting;

/// What a console or a one-shot command needs to reach the API.
#[derive(Debug, Clone)]
pub struct Settings {
    pub api_url: String,
    /// The cloud, for its sign-in authority (also when `api_url` overrides its host).
    pub cloud: Cloud,
    pub limits: RateLimits,
    /// Share of each window prefetch and batch work leave to the analyst.
    pub reserve: f64,
    /// One request's whole time limit.
    pub timeout: Duration,
    /// The configuration file read, if any.
    pub config_file: Option<PathBuf>,
    /// The profile used, if any.
    pub profile: Option<String>,
    /// Which credential source to use (`MDE_SIGN_IN` still wins).
    pub sign_in: SignIn,
    /// The file's token scope (`MDE_SCOPE` still wins); `None` asks for
    /// [`crate::defender::auth::API_SCOPE`], whatever the cloud.
    pub token_scope: Option<String>,
    /// The directory of the database (cache and cases); `None` when no home is known.
    pub data_dir: Option<PathBuf>,
    /// How the cache is used: freshness per endpoint, `--no-cache`, `--offline`.
    pub cache: crate::fetch::CachePolicy,
    /// `--case NAME`: the case to record into.
    pub case: Option<String>,
    /// Fewer devices than this make an IP "rare".
    pub rare_below: u64,
    /// Most pages read of one list answer (`--max-pages`, the file's `max_pages`).
    pub max_pages: usize,
    /// The prevalence period (`lookBackHours`) an IP is shown over first: the file's
    /// `look_back`, else 30 days (the API's own default).
    pub look_back: crate::defender::LookBack,
    /// The screen's colours: `NO_COLOR` (any non-empty value) over the file's `theme`.
    pub palette: crate::app::Palette,
    /// Whether the console takes the mouse (clicks and wheel); off keeps the terminal's own
    /// text selection without holding Shift.
    pub mouse: bool,
    /// The colour of each role: the file's `[colors]` over the built-in ones.
    pub theme: crate::app::Theme,
    /// The keys: the file's `[keys]` over the defaults.
    pub keymap: crate::app::Keymap,
    /// The team's Redis for a shared budget; `None`: this process decides alone (or with this
    /// user's other processes, through the database).
    pub team_redis: Option<TeamSetting>,
    /// The clock answers are dated by: the system's. No file, variable or flag sets it; a
    /// test runs the whole console on a day of its choosing by setting it ahead.
    pub wall: crate::clock::Wall,
}

/// A credential source, chosen explicitly or `auto` (README, "Connecting to a real tenant").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignIn {
    #[default]
    Auto,
    Token,
    ClientSecret,
    AzureCli,
    DeviceCode,
}

impl std::str::FromStr for SignIn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "token" => Ok(Self::Token),
            "client-secret" => Ok(Self::ClientSecret),
            "azure-cli" => Ok(Self::AzureCli),
            "device-code" => Ok(Self::DeviceCode),
            other => Err(format!(
                "unknown sign-in '{other}' (expected auto, token, client-secret, azure-cli or device-code)"
            )),
        }
    }
}

impl Settings {
    /// Flags and environment only, as if no file existed.
    /// A broken `MDE_TEAM_REDIS` leaves the team setting unset here; [`Settings::resolve`]
    /// refuses it (and `doctor`, the one caller that falls back to this, reports that).
    pub fn from_args(global: &GlobalArgs) -> Self {
        let layer = Layer::default();
        let team = team_setting(global, &layer, None).unwrap_or_default();
        Self::merge(global, layer, None, None, team)
    }

    /// Reads the configuration file (`--config`, or the default one when it exists) and puts
    /// flags and environment over it.
    pub fn resolve(global: &GlobalArgs) -> Result<Self, FileError> {
        let path = match &global.config {
            Some(explicit) => Some(explicit.clone()),
            None => default_config_path().filter(|p| p.exists()),
        };
        let Some(path) = path else {
            if let Some(name) = &global.profile {
                return Err(FileError {
                    path: default_config_path().unwrap_or_else(|| "config.toml".into()),
                    message: format!(
                        "--profile {name} needs a configuration file, and there is none here \
                         (see assets/config.sample.toml)"
                    ),
                });
            }
            let layer = Layer::default();
            let team = team_setting(global, &layer, None)?;
            return Ok(Self::merge(global, layer, None, None, team));
        };
        let file = FileConfig::load(&path)?;
        let layer = file.layer(&path, global.profile.as_deref())?;
        let profile = global.profile.clone().or(file.default_profile.clone());
        let team = team_setting(global, &layer, Some(&path))?;
        Ok(Self::merge(global, layer, Some(path), profile, team))
    }

    fn merge(
        global: &GlobalArgs,
        file: Layer,
        config_file: Option<PathBuf>,
        profile: Option<String>,
        team_redis: Option<TeamSetting>,
    ) -> Self {
        // Within a level the explicit URL beats the cloud name; a higher level beats both.
        let from_flags = global
            .api_url
            .clone()
            .or_else(|| global.cloud.map(|c| c.api_url.to_owned()));
        let from_file = file
            .api_url
            .clone()
            .or_else(|| file.cloud.map(|c| c.api_url.to_owned()));
        let cloud = global.cloud.or(file.cloud).unwrap_or_default();
        Self {
            wall: crate::clock::Wall::system(),
            api_url: from_flags
                .or(from_file)
                .unwrap_or_else(|| cloud.api_url.to_owned()),
            cloud,
            limits: global
                .rate_limit
                .clone()
                .or(file.rate_limit)
                .unwrap_or_default(),
            reserve: global
                .reserve
                .or(file.reserve)
                .unwrap_or(SchedulerConfig::default().reserve),
            timeout: Duration::from_secs(file.timeout_secs.unwrap_or(30)),
            config_file,
            profile,
            sign_in: file.sign_in.unwrap_or_default(),
            token_scope: file.scope,
            data_dir: global
                .data_dir
                .clone()
                .or(file.data_dir)
                .or_else(crate::store::default_dir),
            cache: crate::fetch::CachePolicy {
                ttl: file.cache_ttl.unwrap_or_default().resolve(),
                bypass: global.no_cache,
                offline: global.offline,
            },
            case: global.case.clone(),
            rare_below: file.rare_below.unwrap_or(crate::insight::RARE_BELOW),
            look_back: file.look_back.unwrap_or_default(),
            max_pages: global
                .max_pages
                .or(file.max_pages)
                .unwrap_or(SchedulerConfig::default().max_pages),
            palette: if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                crate::app::Palette::NoColor
            } else {
                file.theme.unwrap_or_default()
            },
            mouse: file.mouse.unwrap_or(true),
            theme: crate::app::Theme::with_choices(&file.colors.0),
            keymap: crate::app::Keymap::with_rebinds(&file.keys.rebinds()),
            team_redis,
        }
    }
}

/// The team setting from the flag, `MDE_TEAM_REDIS(_PASSWORD)` and the file's layer. A broken
/// environment value is blamed on the environment, a password file on the configuration file.
fn team_setting(
    global: &GlobalArgs,
    layer: &Layer,
    path: Option<&std::path::Path>,
) -> Result<Option<TeamSetting>, FileError> {
    let env = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let env_url = env("MDE_TEAM_REDIS")
        .map(|u| team::parse("MDE_TEAM_REDIS", &u))
        .transpose()
        .map_err(|message| FileError {
            path: "environment".into(),
            message,
        })?;
    let env_password = env("MDE_TEAM_REDIS_PASSWORD");
    team::resolve(&team::Sources {
        flag: global.team_redis.as_ref(),
        env: env_url.as_ref(),
        env_password: env_password.as_deref(),
        file: layer.team_redis.as_ref(),
        password_file: layer.team_redis_password_file.as_deref(),
        base: path.and_then(std::path::Path::parent),
    })
    .map_err(|message| FileError {
        path: path.map_or_else(|| "configuration".into(), ToOwned::to_owned),
        message,
    })
}

impl Settings {
    /// Which tenant cached answers and remembered calls belong to: the API, the profile and
    /// the tenant id when known. Answers from one tenant never serve another.
    pub fn scope(&self) -> String {
        let tenant = std::env::var("AZURE_TENANT_ID").unwrap_or_default();
        format!(
            "{} profile={} tenant={}",
            self.api_url.trim_end_matches('/'),
            self.profile.as_deref().unwrap_or("-"),
            if tenant.trim().is_empty() {
                "-"
            } else {
                tenant.trim()
            }
        )
    }

    /// The database file, if there is a directory for it.
    pub fn database(&self) -> Option<PathBuf> {
        self.data_dir
            .as_ref()
            .map(|d| d.join(crate::store::FILE_NAME))
    }
}

/// `config.toml` in the platform's configuration directory (on Linux
/// `~/.config/mde-triage/config.toml`).
pub fn default_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mde-triage").map(|d| d.config_dir().join("config.toml"))
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
