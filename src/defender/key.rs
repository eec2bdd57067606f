//! Names for requests: the unit of dedupe, cache and budget, shared by the console and the
//! scheduler without either knowing the other.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::error::{ApiError, ErrorKind};
use super::findbyip::UtcSecond;
use super::input::{AlertId, DeviceId, parse_alert_id, parse_device_id};
use super::listing::Listing;
use super::look_back::LookBack;

/// One logical request. Identical keys are coalesced by the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FetchKey {
    /// An IP's prevalence over a period: one period's answer says nothing of another's.
    IpStats(IpAddr, LookBack),
    IpAlerts(IpAddr),
    AlertIps(AlertId),
    /// One device by its id (`GET /api/machines/{id}`).
    Device(DeviceId),
    /// A device's alerts (`GET /api/machines/{id}/alerts`).
    DeviceAlerts(DeviceId),
    /// The devices seen with an internal IP around a time (findbyip); build it through
    /// [`FetchKey::devices_at`], so a public IP or an old time never becomes a call.
    DevicesAt(IpAddr, UtcSecond),
    /// One alert's record (`GET /api/alerts/{id}`): its machine id when only the id is known.
    Alert(AlertId),
}

/// The API's rate limits are counted per endpoint. Every fact about an endpoint (its route,
/// its persisted name, its permission, how long its answers keep, what its 404 means) is
/// written here once, in an exhaustive match: a new endpoint does not compile until each is
/// said, and every reader (client, store, config, simulator, doctor, the panes' hints) asks
/// here rather than keeping its own table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    IpStats,
    IpAlerts,
    AlertIps,
    Machine,
    MachineAlerts,
    FindByIp,
    Alert,
}

/// What a 404 from an endpoint means.
#[derive(Debug, Clone, PartialEq)]
pub enum NotFound {
    /// An answer, not a failure, and this one: for stats, the org never saw the IP.
    Answer(FetchValue),
    /// A failure; the text says what the analyst should read into it.
    Missing(&'static str),
}

impl Endpoint {
    /// In declaration order, so `e as usize` is `e`'s index here (checked by a test).
    pub const ALL: [Endpoint; 7] = [
        Endpoint::IpStats,
        Endpoint::IpAlerts,
        Endpoint::AlertIps,
        Endpoint::Machine,
        Endpoint::MachineAlerts,
        Endpoint::FindByIp,
        Endpoint::Alert,
    ];

    /// The endpoint declared after this one. No wildcard: a new variant does not compile until
    /// it is placed here, and then the check below does not compile until [`Endpoint::ALL`]
    /// holds it (every budget, cache slot, status entry and probe iterates `ALL`).
    const fn next(self) -> Option<Endpoint> {
        match self {
            Endpoint::IpStats => Some(Endpoint::IpAlerts),
            Endpoint::IpAlerts => Some(Endpoint::AlertIps),
            Endpoint::AlertIps => Some(Endpoint::Machine),
            Endpoint::Machine => Some(Endpoint::MachineAlerts),
            Endpoint::MachineAlerts => Some(Endpoint::FindByIp),
            Endpoint::FindByIp => Some(Endpoint::Alert),
            Endpoint::Alert => None,
        }
    }

    /// Short label for the screen (status bar, budget view, doctor's check names): text
    /// only, free to change; never stored.
    pub fn label(self) -> &'static str {
        match self {
            Self::IpStats => "stats",
            Self::IpAlerts => "ip-alerts",
            Self::AlertIps => "alert-ips",
            Self::Machine => "device",
            Self::MachineAlerts => "dev-alerts",
            Self::FindByIp => "find-by-ip",
            Self::Alert => "alert",
        }
    }

    /// The endpoint's one name in persisted and shared keys (the local database, the team's
    /// Redis) and in the config file's `cache_ttl`: stable, never the screen label, so
    /// renaming what the status bar says orphans nothing.
    pub fn name(self) -> &'static str {
        match self {
            Self::IpStats => "ip_stats",
            Self::IpAlerts => "ip_alerts",
            Self::AlertIps => "alert_ips",
            Self::Machine => "machine",
            Self::MachineAlerts => "machine_alerts",
            Self::FindByIp => "find_by_ip",
            Self::Alert => "alert",
        }
    }

    /// The endpoint named `name` (see [`Self::name`]).
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The route as the API documents it; `{...}` is the key's subject (an IP, alert or device
    /// id). findbyip's route is an OData function call in one segment, filled by
    /// [`FetchKey::segments`].
    pub fn route(self) -> &'static str {
        match self {
            Self::IpStats => "/api/ips/{ip}/stats",
            Self::IpAlerts => "/api/ips/{ip}/alerts",
            Self::AlertIps => "/api/alerts/{id}/ips",
            Self::Machine => "/api/machines/{id}",
            Self::MachineAlerts => "/api/machines/{id}/alerts",
            Self::FindByIp => "/api/machines/findbyip(ip='{IP}',timestamp={TimeStamp})",
            Self::Alert => "/api/alerts/{id}",
        }
    }

    /// The application permission the call needs (FACTS.md sections 1-3 and 8); its
    /// ReadWrite form also serves. The newest pages list only `Machine.ReadWrite.All` for the
    /// two machine reads and `Alert.ReadWrite.All` for a machine's alerts (FACTS.md 8.1, 8.2,
    /// 8.4, unverified): the least that older pages document is asked for here.
    pub fn permission(self) -> &'static str {
        match self {
            Self::IpStats | Self::AlertIps => "Ip.Read.All",
            Self::IpAlerts | Self::MachineAlerts | Self::Alert => "Alert.Read.All",
            Self::Machine | Self::FindByIp => "Machine.Read.All",
        }
    }

    /// A request to this endpoint about nothing real, which `doctor` makes to learn whether
    /// the permission is held: an answer or a 404 proves it. Documentation addresses and ids
    /// that cannot exist; findbyip's at `at` (an hour ago, say: it takes the last 30 days).
    pub fn probe(self, at: UtcSecond) -> FetchKey {
        // 192.0.2.1 is a documentation address (RFC 5737); findbyip takes internal IPs only,
        // and 10.0.0.0 is the network's own address, never a host's.
        let ip = IpAddr::from([192, 0, 2, 1]);
        let internal = IpAddr::from([10, 0, 0, 0]);
        let alert = || parse_alert_id("da000000000000000000_0").expect("a valid id");
        let device =
            || parse_device_id("0000000000000000000000000000000000000000").expect("a valid id");
        match self {
            Self::IpStats => FetchKey::IpStats(ip, LookBack::default()),
            Self::IpAlerts => FetchKey::IpAlerts(ip),
            Self::AlertIps => FetchKey::AlertIps(alert()),
            Self::Machine => FetchKey::Device(device()),
            Self::MachineAlerts => FetchKey::DeviceAlerts(device()),
            Self::FindByIp => FetchKey::DevicesAt(internal, at),
            Self::Alert => FetchKey::Alert(alert()),
        }
    }

    /// The permission the newest documentation pages list instead (FACTS.md 8.1, 8.2, 8.4:
    /// only the ReadWrite forms), unverified: said with a 403 so an admin knows what else to
    /// try.
    pub fn newest_docs_permission(self) -> Option<&'static str> {
        match self {
            Self::IpStats | Self::IpAlerts | Self::AlertIps | Self::Alert => None,
            Self::Machine | Self::FindByIp => Some("Machine.ReadWrite.All"),
            Self::MachineAlerts => Some("Alert.ReadWrite.All"),
        }
    }

    /// How long an answer stays fresh unless `cache_ttl` says otherwise. Prevalence and an
    /// alert's IPs change slowly; an IP's alerts are what moves during an incident, and so
    /// are a device's. A device's details (health, risk, last seen) change within the hour.
    /// Who held an IP at a past time should not change, but a time within the last minutes
    /// (its window reaching past now, reports still arriving) may: an hour, not more. An
    /// alert's record moves with its triage (status, assignee, classification), as an IP's
    /// alerts do: ten minutes; its machine id, what the client reads it for, never changes.
    pub fn default_ttl(self) -> Duration {
        match self {
            Self::IpStats | Self::AlertIps | Self::Machine | Self::FindByIp => {
                Duration::from_secs(3600)
            }
            Self::IpAlerts | Self::MachineAlerts | Self::Alert => Duration::from_secs(600),
        }
    }

    /// What a 404 means here. For stats the org never saw the IP (older docs; the newest say
    /// 200 with a zero count, which means the same). An IP's alerts answer an unknown IP with
    /// an empty list today; older docs said 404.
    pub fn not_found(self) -> NotFound {
        match self {
            Self::IpStats => NotFound::Answer(FetchValue::Stats(None)),
            Self::IpAlerts => NotFound::Missing("the API does not know this IP"),
            Self::AlertIps => NotFound::Missing("unknown alert, or outside the retention period"),
            Self::Machine => NotFound::Missing(
                "device not found: outside retention, or a transient 404 the API is known to give (FACTS 8.8)",
            ),
            Self::MachineAlerts => NotFound::Missing(
                "device not found: outside retention, or a transient 404; its alerts cannot be listed",
            ),
            // Older docs: "If no machine found - 404 Not Found"; newer ones a 200 with an
            // empty list. Both mean no device had the IP then.
            Self::FindByIp => NotFound::Answer(FetchValue::Devices(Listing::default())),
            Self::Alert => NotFound::Missing("unknown alert, or outside the retention period"),
        }
    }
}

impl FetchKey {
    /// The findbyip key for `ip` at `at`, or why that call would be wasted (a public IP, a
    /// time outside the API's 30 days); `now` is the caller's clock.
    pub fn devices_at(
        ip: IpAddr,
        at: chrono::DateTime<chrono::Utc>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<FetchKey, super::findbyip::Refused> {
        let at = UtcSecond::new(at);
        super::findbyip::check(ip, at, now)?;
        Ok(FetchKey::DevicesAt(ip, at))
    }

    /// Why this call would be wasted, as an input error: a findbyip key for a public IP, or
    /// a time outside the API's 30 days (a 400, or nothing documented for a public IP). The
    /// scheduler answers such a key without spending budget, and the client never sends it.
    pub fn refused(&self, now: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
        match self {
            Self::DevicesAt(ip, at) => super::findbyip::check(*ip, *at, now)
                .map_err(|e| ApiError::new(ErrorKind::InvalidInput, e.to_string())),
            // Any IP or id the API may know: nothing to judge before the call.
            Self::IpStats(..)
            | Self::IpAlerts(_)
            | Self::AlertIps(_)
            | Self::Device(_)
            | Self::DeviceAlerts(_)
            | Self::Alert(_) => Ok(()),
        }
    }

    pub fn endpoint(&self) -> Endpoint {
        match self {
            Self::IpStats(..) => Endpoint::IpStats,
            Self::IpAlerts(_) => Endpoint::IpAlerts,
            Self::AlertIps(_) => Endpoint::AlertIps,
            Self::Device(_) => Endpoint::Machine,
            Self::DeviceAlerts(_) => Endpoint::MachineAlerts,
            Self::DevicesAt(..) => Endpoint::FindByIp,
            Self::Alert(_) => Endpoint::Alert,
        }
    }

    /// What the key asks about (the IP, alert or device id; an IP and a time), as the store
    /// and the team's keys spell it.
    pub fn subject(&self) -> String {
        match self {
            Self::IpStats(ip, _) | Self::IpAlerts(ip) => ip.to_string(),
            Self::AlertIps(id) | Self::Alert(id) => id.to_string(),
            Self::Device(id) | Self::DeviceAlerts(id) => id.to_string(),
            Self::DevicesAt(ip, at) => format!("{ip}@{at}"),
        }
    }

    /// Query parameters the call sends. The period always goes explicitly (FACTS.md §8.6):
    /// what the service does when it is omitted is a documented default, not ours to rely on.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::IpStats(_, period) => vec![("lookBackHours", period.hours().to_string())],
            Self::IpAlerts(_)
            | Self::AlertIps(_)
            | Self::Alert(_)
            | Self::Device(_)
            | Self::DeviceAlerts(_)
            | Self::DevicesAt(..) => Vec::new(),
        }
    }

    /// The subject in persisted and shared keys (the local cache, the team's Redis): the
    /// [`Self::subject`], and for stats the period as `@<hours>h`, except for 720 hours, the
    /// bare IP. Builds before periods fetched stats without `lookBackHours`, which the API
    /// reads as 30 days: their rows are 720-hour answers and keep serving as such, and no
    /// other period can be served one of them.
    ///
    /// Every key is named: a new key does not compile until it says whether its subject
    /// alone tells its answers apart.
    pub fn stored_subject(&self) -> String {
        match self {
            Self::IpStats(_, period) if *period == LookBack::MONTH => self.subject(),
            Self::IpStats(ip, period) => format!("{ip}@{}h", period.hours()),
            Self::IpAlerts(_)
            | Self::AlertIps(_)
            | Self::Device(_)
            | Self::DeviceAlerts(_)
            | Self::DevicesAt(..)
            | Self::Alert(_) => self.subject(),
        }
    }

    /// Path segments after the base URL: the endpoint's route with the subject in its place.
    /// The client percent-encodes each one (`'`, `(`, `=`, `,` and `:` stay as they are).
    pub fn segments(&self) -> Vec<String> {
        if let Self::DevicesAt(ip, at) = self {
            // The IP in single quotes, the time unquoted (FACTS.md 8.1).
            let call = format!("findbyip(ip='{ip}',timestamp={at})");
            return vec!["api".into(), "machines".into(), call];
        }
        let subject = self.subject();
        self.endpoint()
            .route()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                if s.starts_with('{') {
                    subject.clone()
                } else {
                    s.to_owned()
                }
            })
            .collect()
    }
}

impl fmt::Display for FetchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IpStats(ip, period) => write!(f, "stats of {ip} over {}", period.short()),
            Self::IpAlerts(ip) => write!(f, "alerts of {ip}"),
            Self::AlertIps(id) => write!(f, "IPs of alert {id}"),
            Self::Device(id) => write!(f, "device {id}"),
            Self::DeviceAlerts(id) => write!(f, "alerts of device {id}"),
            Self::DevicesAt(ip, at) => write!(f, "devices with {ip} at {at}"),
            Self::Alert(id) => write!(f, "alert {id}"),
        }
    }
}

/// `Endpoint::ALL` is every variant, each at its own index, in declaration order: walked
/// through [`Endpoint::next`] at compile time.
const _: () = {
    let mut at = Some(Endpoint::IpStats);
    let mut i = 0;
    while let Some(e) = at {
        assert!(i < Endpoint::ALL.len(), "Endpoint::ALL misses an endpoint");
        assert!(Endpoint::ALL[i] as usize == e as usize && e as usize == i);
        at = e.next();
        i += 1;
    }
    assert!(
        i == Endpoint::ALL.len(),
        "Endpoint::ALL lists an endpoint twice"
    );
};

mod read;
mod value;

pub use read::Reader;
pub use value::FetchValue;

#[cfg(test)]
mod tests;
