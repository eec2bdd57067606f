//! Names for requests: the unit of dedupe, cache and budget, shared by the console and the
//! scheduler without either knowing the other.

use std::fmt;
use std::net::IpAddr;

use super::input::AlertId;
use super::listing::{Cut, Listing};
use super::model::{Alert, IpStats, RelatedIp};

/// One logical request. Identical keys are coalesced by the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FetchKey {
    IpStats(IpAddr),
    IpAlerts(IpAddr),
    AlertIps(AlertId),
}

/// The API's rate limits are counted per endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    IpStats,
    IpAlerts,
    AlertIps,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Endpoint::IpStats, Endpoint::IpAlerts, Endpoint::AlertIps];

    /// Short label for the status bar.
    pub fn label(self) -> &'static str {
        match self {
            Self::IpStats => "stats",
            Self::IpAlerts => "ip-alerts",
            Self::AlertIps => "alert-ips",
        }
    }

    /// The endpoint's name in shared and persisted keys (the team's Redis): stable, never
    /// the screen label, so renaming what the status bar says orphans nothing.
    pub fn stable_name(self) -> &'static str {
        match self {
            Self::IpStats => "ip_stats",
            Self::IpAlerts => "ip_alerts",
            Self::AlertIps => "alert_ips",
        }
    }

    /// The route as the API documents it.
    pub fn route(self) -> &'static str {
        match self {
            Self::IpStats => "/api/ips/{ip}/stats",
            Self::IpAlerts => "/api/ips/{ip}/alerts",
            Self::AlertIps => "/api/alerts/{id}/ips",
        }
    }
}

impl FetchKey {
    pub fn endpoint(&self) -> Endpoint {
        match self {
            Self::IpStats(_) => Endpoint::IpStats,
            Self::IpAlerts(_) => Endpoint::IpAlerts,
            Self::AlertIps(_) => Endpoint::AlertIps,
        }
    }

    /// Path segments after the base URL; the client percent-encodes each one.
    pub fn segments(&self) -> [String; 4] {
        match self {
            Self::IpStats(ip) => ["api".into(), "ips".into(), ip.to_string(), "stats".into()],
            Self::IpAlerts(ip) => ["api".into(), "ips".into(), ip.to_string(), "alerts".into()],
            Self::AlertIps(id) => ["api".into(), "alerts".into(), id.to_string(), "ips".into()],
        }
    }
}

impl fmt::Display for FetchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IpStats(ip) => write!(f, "stats of {ip}"),
            Self::IpAlerts(ip) => write!(f, "alerts of {ip}"),
            Self::AlertIps(id) => write!(f, "IPs of alert {id}"),
        }
    }
}

/// A complete answer for a key (all pages joined).
#[derive(Debug, Clone, PartialEq)]
pub enum FetchValue {
    /// `None`: the API answered 404, which for stats means "not seen in the org".
    Stats(Option<IpStats>),
    Alerts(Listing<Alert>),
    Ips(Listing<RelatedIp>),
}

impl FetchValue {
    /// Joins a later page onto this one. Stats are never paged; a later stats page replaces.
    pub fn append(&mut self, next: FetchValue) {
        match (self, next) {
            (FetchValue::Alerts(a), FetchValue::Alerts(b)) => a.append(b),
            (FetchValue::Ips(a), FetchValue::Ips(b)) => a.append(b),
            (this, other) => *this = other,
        }
    }

    /// Says that the walk over this list's pages stopped early, and why.
    pub fn cut(&mut self, cut: Cut) {
        match self {
            FetchValue::Alerts(a) => a.cut = Some(cut),
            FetchValue::Ips(a) => a.cut = Some(cut),
            FetchValue::Stats(_) => {}
        }
    }

    /// Pages read for this answer.
    pub fn pages(&self) -> usize {
        match self {
            FetchValue::Alerts(a) => a.pages,
            FetchValue::Ips(a) => a.pages,
            FetchValue::Stats(_) => 1,
        }
    }

    /// What is missing from this answer or may be, one clause each (empty when complete).
    pub fn caveats(&self) -> Vec<String> {
        match self {
            FetchValue::Alerts(a) => a.caveats(),
            FetchValue::Ips(a) => a.caveats(),
            FetchValue::Stats(_) => Vec::new(),
        }
    }

    /// [`Self::caveats`] in a few words each, for narrow places.
    pub fn short_caveats(&self) -> Vec<String> {
        match self {
            FetchValue::Alerts(a) => a.short_caveats(),
            FetchValue::Ips(a) => a.short_caveats(),
            FetchValue::Stats(_) => Vec::new(),
        }
    }

    /// Why the list stopped early, if it did.
    pub fn cut_reason(&self) -> Option<&Cut> {
        match self {
            FetchValue::Alerts(a) => a.cut.as_ref(),
            FetchValue::Ips(a) => a.cut.as_ref(),
            FetchValue::Stats(_) => None,
        }
    }
}
