//! Names for requests: the unit of dedupe, cache and budget, shared by the console and the
//! scheduler without either knowing the other.

use std::fmt;
use std::net::IpAddr;

use super::input::AlertId;
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
    Alerts(Vec<Alert>),
    Ips(Vec<RelatedIp>),
}

impl FetchValue {
    /// Joins a later page onto this one. Stats are never paged; a later stats page replaces.
    pub fn append(&mut self, next: FetchValue) {
        match (self, next) {
            (FetchValue::Alerts(a), FetchValue::Alerts(b)) => a.extend(b),
            (FetchValue::Ips(a), FetchValue::Ips(b)) => a.extend(b),
            (this, other) => *this = other,
        }
    }
}
