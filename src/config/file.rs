//! The configuration file: TOML, strict. Unknown keys and bad values are refused with the
//! file, the line and what was expected, never ignored: a typo in a rate limit must not
//! silently fall back to the default and storm a shared registration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::time::Duration;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::console::{ColorsTable, KeysTable};
use crate::defender::Endpoint;
use crate::defender::cloud::Cloud;
use crate::fetch::RateLimits;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The profile used when `--profile` is not given.
    pub default_profile: Option<String>,
    /// Settings for every profile; a profile's own values win.
    #[serde(default)]
    pub settings: Layer,
    /// Named tenants.
    #[serde(default)]
    pub profiles: BTreeMap<String, Layer>,
}

/// One level of settings (the file's `[settings]`, or a profile). Every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    #[serde(default, deserialize_with = "parsed")]
    pub cloud: Option<Cloud>,
    #[serde(default, deserialize_with = "url")]
    pub api_url: Option<String>,
    #[serde(default, deserialize_with = "parsed")]
    pub rate_limit: Option<RateLimits>,
    #[serde(default, deserialize_with = "fraction")]
    pub reserve: Option<f64>,
    #[serde(default, deserialize_with = "timeout")]
    pub timeout_secs: Option<u64>,
    /// auto, token, client-secret, azure-cli or device-code.
    #[serde(default, deserialize_with = "parsed")]
    pub sign_in: Option<super::SignIn>,
    /// The token scope (`MDE_SCOPE` wins); unset, the one that works for every commercial host.
    #[serde(default, deserialize_with = "scope")]
    pub scope: Option<String>,
    /// Where the database (cache, cases) lives.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// How long cached answers stay fresh, per endpoint.
    #[serde(default)]
    pub cache_ttl: Option<TtlLayer>,
    /// An IP seen by fewer devices than this in the org is badged "rare".
    #[serde(default)]
    pub rare_below: Option<u64>,
    /// Most pages read of one list answer (1 to 10,000); a list cut there says so.
    #[serde(default, deserialize_with = "page_cap")]
    pub max_pages: Option<usize>,
    /// The prevalence period an IP is first shown over: `"24h"`, `"7d"`, `"30d"` (1h to 720h).
    #[serde(default, deserialize_with = "parsed")]
    pub look_back: Option<crate::defender::LookBack>,
    /// default, high-contrast or no-color (`NO_COLOR` in the environment wins).
    #[serde(default, deserialize_with = "parsed")]
    pub theme: Option<crate::app::Palette>,
    /// Whether the console takes the mouse (default true); false leaves the terminal's own
    /// text selection as it is.
    #[serde(default)]
    pub mouse: Option<bool>,
    /// Key bindings by action name: `copy = ["c"]` replaces copy's default keys.
    #[serde(default)]
    pub keys: KeysTable,
    /// Colours by role: `severity_high = "lightred"`.
    #[serde(default)]
    pub colors: ColorsTable,
    /// The team's Redis, for one budget across consoles (README, "Team budget").
    #[serde(default, deserialize_with = "team_redis")]
    pub team_redis: Option<super::team::TeamSetting>,
    /// A file holding the team Redis's password (relative to this file's directory).
    #[serde(default)]
    pub team_redis_password_file: Option<PathBuf>,
}

/// `cache_ttl = { ip_stats = "1h", ip_alerts = "10m", alert_ips = "1h" }`, keyed by
/// [`Endpoint::name`]; `"0s"` means always ask. An endpoint left out keeps its default.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TtlLayer(pub BTreeMap<Endpoint, Duration>);

/// The keys earlier builds read (`stats`, `alerts`), still read: a file that worked keeps
/// working. `alert_ips` was already the endpoint's name.
const OLD_TTL_KEYS: [(&str, Endpoint); 2] =
    [("stats", Endpoint::IpStats), ("alerts", Endpoint::IpAlerts)];

impl TtlLayer {
    fn over(self, base: Option<TtlLayer>) -> TtlLayer {
        let mut merged = base.unwrap_or_default().0;
        merged.extend(self.0);
        TtlLayer(merged)
    }

    /// These values over the defaults.
    pub fn resolve(&self) -> crate::fetch::Ttl {
        self.0
            .iter()
            .fold(crate::fetch::Ttl::default(), |ttl, (e, d)| ttl.with(*e, *d))
    }
}

impl<'de> Deserialize<'de> for TtlLayer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TtlVisitor)
    }
}

struct TtlVisitor;

impl<'de> Visitor<'de> for TtlVisitor {
    type Value = TtlLayer;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a table of endpoint = time span, e.g. { ip_alerts = \"10m\" }")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TtlLayer, A::Error> {
        let mut ttls = BTreeMap::new();
        while let Some(endpoint) = map.next_key_seed(TtlKey { taken: &ttls })? {
            let Span(ttl) = map.next_value()?;
            ttls.insert(endpoint, ttl);
        }
        Ok(TtlLayer(ttls))
    }
}

/// A `cache_ttl` key: an endpoint's name or an old key, refused when the table already set
/// that endpoint under its other name, so the two never race for which one wins.
struct TtlKey<'a> {
    taken: &'a BTreeMap<Endpoint, Duration>,
}

impl<'de> DeserializeSeed<'de> for TtlKey<'_> {
    type Value = Endpoint;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Endpoint, D::Error> {
        let s = String::deserialize(d)?;
        let endpoint = Endpoint::from_name(&s).or_else(|| {
            OLD_TTL_KEYS
                .iter()
                .find(|(old, _)| *old == s)
                .map(|(_, e)| *e)
        });
        match endpoint {
            Some(e) if self.taken.contains_key(&e) => Err(de::Error::custom(format!(
                "'{s}' sets {} a second time (an old key and a new one name the same endpoint)",
                e.name()
            ))),
            Some(e) => Ok(e),
            None => {
                let names = Endpoint::ALL.map(Endpoint::name);
                Err(de::Error::custom(format!(
                    "unknown endpoint '{s}' in cache_ttl (expected {})",
                    names.join(", ")
                )))
            }
        }
    }
}

/// A time span: `"90s"`, `"10m"`, `"1h"`.
struct Span(Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::fetch::limits::parse_span(s.trim())
            .map(Span)
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "'{s}' is not a time span (expected e.g. \"90s\", \"10m\" or \"1h\"; \"0s\" always asks the API)"
                ))
            })
    }
}

/// A file that could not be used, said with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub message: String,
}

impl FileConfig {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError {
            path: path.to_owned(),
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, FileError> {
        let file: Self = toml::from_str(text).map_err(|e| FileError {
            path: path.to_owned(),
            message: describe(&e, text),
        })?;
        // Each table was checked as it was read; a profile against `[settings]` only now.
        for profile in file.profiles.values() {
            let line_of = |at| line_at(text, at);
            if let Some((at, why)) = profile.keys.clash_with(&file.settings.keys, line_of) {
                return Err(FileError {
                    path: path.to_owned(),
                    message: format!("{}{why}", position(text, at)),
                });
            }
        }
        Ok(file)
    }

    /// The profile's values over `[settings]`; `None` names the default profile, if any.
    pub fn layer(&self, path: &Path, profile: Option<&str>) -> Result<Layer, FileError> {
        let Some(name) = profile.or(self.default_profile.as_deref()) else {
            return Ok(self.settings.clone());
        };
        let Some(p) = self.profiles.get(name) else {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            return Err(FileError {
                path: path.to_owned(),
                message: format!(
                    "no profile '{name}' (profiles here: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        };
        Ok(p.clone().over(&self.settings))
    }
}

impl Layer {
    /// This layer's values, with `base` filling the gaps.
    pub fn over(self, base: &Layer) -> Layer {
        Layer {
            cloud: self.cloud.or(base.cloud),
            api_url: self.api_url.or_else(|| base.api_url.clone()),
            rate_limit: self.rate_limit.or_else(|| base.rate_limit.clone()),
            reserve: self.reserve.or(base.reserve),
            timeout_secs: self.timeout_secs.or(base.timeout_secs),
            sign_in: self.sign_in.or(base.sign_in),
            scope: self.scope.or_else(|| base.scope.clone()),
            data_dir: self.data_dir.or_else(|| base.data_dir.clone()),
            rare_below: self.rare_below.or(base.rare_below),
            max_pages: self.max_pages.or(base.max_pages),
            look_back: self.look_back.or(base.look_back),
            theme: self.theme.or(base.theme),
            mouse: self.mouse.or(base.mouse),
            keys: self.keys.over(&base.keys),
            colors: self.colors.over(&base.colors),
            team_redis: self.team_redis.or_else(|| base.team_redis.clone()),
            team_redis_password_file: self
                .team_redis_password_file
                .or_else(|| base.team_redis_password_file.clone()),
            cache_ttl: match self.cache_ttl {
                Some(own) => Some(own.over(base.cache_ttl.clone())),
                None => base.cache_ttl.clone(),
            },
        }
    }
}

/// "line 4, column 14: ..." from the TOML error, on one line, without the snippet.
fn describe(e: &toml::de::Error, text: &str) -> String {
    let position = e.span().map(|span| position(text, span.start));
    format!("{}{}", position.unwrap_or_default(), e.message().trim())
}

/// The line of a byte offset into the file, from 1.
fn line_at(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// "line 4, column 14: " for a byte offset into the file.
fn position(text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = line_at(text, at);
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("line {line}, column {column}: ")
}

fn parsed<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(serde::de::Error::custom)
}

fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    match reqwest::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => Ok(Some(s.trim().to_owned())),
        _ => Err(serde::de::Error::custom(format!(
            "'{s}' is not an http(s) URL (expected e.g. https://eu.api.security.microsoft.com)"
        ))),
    }
}

fn team_redis<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<super::team::TeamSetting>, D::Error> {
    let s = String::deserialize(d)?;
    super::team::parse("team_redis", &s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn scope<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    crate::defender::auth::parse_scope(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn fraction<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = f64::deserialize(d)?;
    if (0.0..=1.0).contains(&v) {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format!(
            "{v} is not a fraction between 0.0 and 1.0 (e.g. 0.2 keeps a fifth of each window)"
        )))
    }
}

fn timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = u64::deserialize(d)?;
    if (1..=600).contains(&v) {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format!(
            "{v} is not a timeout between 1 and 600 seconds"
        )))
    }
}

fn page_cap<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let v = u64::deserialize(d)?;
    if (1..=10_000).contains(&v) {
        Ok(Some(v as usize))
    } else {
        Err(serde::de::Error::custom(format!(
            "{v} is not a page cap between 1 and 10000"
        )))
    }
}
