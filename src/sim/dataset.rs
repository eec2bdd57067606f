//! The simulated tenant's data: the demo story in `assets/demo-tenant.json`, or a synthetic
//! tenant of any size for scale tests.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Deserialize;

use super::devices::SimDevice;
use crate::defender::{Alert, IpStats, Severity, Status};

const DEMO: &str = include_str!("../../assets/demo-tenant.json");

/// Which fields carry the prevalence, as the API has sent it over the years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// `organizationPrevalence` as a number (today's docs).
    #[default]
    Current,
    /// `orgPrevalence` as a string (2018–2020 docs).
    Legacy,
    /// Both, as observed in a real reply.
    Both,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpEntry {
    pub ip: IpAddr,
    #[serde(default)]
    pub prevalence: u64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    #[serde(default)]
    pub shape: Shape,
    /// Answer stats with 404 instead of a zero count.
    #[serde(default)]
    pub not_found: bool,
    /// Its times are the documentation's own: they stay as written whenever the story is told.
    #[serde(default)]
    pub fixed: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimAlert {
    pub alert: Alert,
    pub related_ips: Vec<IpAddr>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    told_at: DateTime<Utc>,
    ips: Vec<IpEntry>,
    alerts: Vec<SimAlert>,
    #[serde(default)]
    devices: Vec<SimDevice>,
}

/// What the stats endpoint answers for an IP.
pub enum StatsAnswer {
    Found(IpStats),
    NotFound,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub(super) ips: HashMap<IpAddr, IpEntry>,
    /// Newest first.
    pub(super) alerts: Vec<SimAlert>,
    /// The devices the alerts name, with the internal IPs each held and when.
    pub(super) devices: Vec<SimDevice>,
    /// The instant the story is told at: the simulator's clock when it starts serving it.
    pub(super) told_at: DateTime<Utc>,
    /// The instant it was written as told at, before any retelling.
    pub(super) written_at: DateTime<Utc>,
}

impl Dataset {
    /// The demo incident (see the comment at the top of the asset), told at the asset's own
    /// `toldAt`: the dates as written, for tests that pin them.
    pub fn demo() -> Self {
        // Every part of the file named: a new kind of record in the story does not compile
        // until it is handed to the tenant.
        let File {
            told_at,
            ips,
            alerts,
            devices,
        } = serde_json::from_str(DEMO).expect("the embedded demo tenant is valid JSON");
        Self::from_parts(ips, alerts, devices, told_at)
    }

    /// The demo incident told at `now`: the same story, the same distance before `now`
    /// whatever the day (see [`Dataset::retold_at`]).
    pub fn demo_at(now: DateTime<Utc>) -> Self {
        Self::demo().retold_at(now)
    }

    fn from_parts(
        ips: Vec<IpEntry>,
        mut alerts: Vec<SimAlert>,
        devices: Vec<SimDevice>,
        told_at: DateTime<Utc>,
    ) -> Self {
        alerts.sort_by_key(|a| std::cmp::Reverse(a.alert.alert_creation_time));
        Self {
            ips: ips.into_iter().map(|e| (e.ip, e)).collect(),
            alerts,
            devices,
            told_at,
            written_at: told_at,
        }
    }

    /// A deterministic tenant with `n_ips` internal IPs and about as many alerts, each alert
    /// linking two or three of them.
    pub fn synthetic(n_ips: usize, seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let start = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let ip = |i: usize| IpAddr::V4(Ipv4Addr::from(0x0A00_0000u32 + 1 + i as u32));
        let ips = (0..n_ips)
            .map(|i| IpEntry {
                ip: ip(i),
                prevalence: rng.u64(1..5000),
                first_seen: Some(start + Duration::minutes(rng.i64(0..100_000))),
                last_seen: Some(start + Duration::minutes(rng.i64(100_000..400_000))),
                shape: Shape::Current,
                not_found: false,
                fixed: false,
            })
            .collect();
        let severities = [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Informational,
        ];
        let statuses = [Status::New, Status::InProgress, Status::Resolved];
        let alerts = (0..n_ips)
            .map(|i| {
                let related = (0..rng.usize(2..=3))
                    .map(|_| ip(rng.usize(0..n_ips.max(1))))
                    .collect();
                SimAlert {
                    alert: Alert {
                        id: format!("da6386{:014}_{}", i, rng.u32(..)),
                        title: format!("Synthetic alert {i}"),
                        severity: severities[rng.usize(..severities.len())].clone(),
                        status: statuses[rng.usize(..statuses.len())].clone(),
                        category: Some("SuspiciousActivity".into()),
                        computer_dns_name: Some(format!(
                            "host-{:05}.contoso.local",
                            rng.usize(0..n_ips.max(1))
                        )),
                        alert_creation_time: Some(start + Duration::minutes(rng.i64(0..400_000))),
                        ..Alert::default()
                    },
                    related_ips: related,
                }
            })
            .collect();
        // Told as its last minute ends, like the demo a little after its last event.
        Self::from_parts(ips, alerts, Vec::new(), start + Duration::minutes(400_000))
    }

    /// The stats of `ip` over the `hours` before its last sighting (the API's `lookBackHours`;
    /// 720 when omitted). The dataset holds the 30-day picture; a shorter window is cut from
    /// it (see [`windowed`]), so the demo's figures for 30 days are its own.
    pub fn stats(&self, ip: IpAddr, hours: u32) -> StatsAnswer {
        let Some(e) = self.ips.get(&ip) else {
            // Never seen: the shape a real reply had (both fields, zero, null times).
            return StatsAnswer::Found(shaped(ip, 0, None, None, Shape::Both));
        };
        if e.not_found {
            return StatsAnswer::NotFound;
        }
        let (n, first) = windowed(e, hours);
        StatsAnswer::Found(shaped(ip, n, first, e.last_seen, e.shape))
    }

    /// Alerts whose related IPs include `ip`, newest first.
    pub fn alerts_of(&self, ip: IpAddr) -> Vec<&Alert> {
        self.alerts
            .iter()
            .filter(|a| a.related_ips.contains(&ip))
            .map(|a| &a.alert)
            .collect()
    }

    pub fn alert(&self, id: &str) -> Option<&SimAlert> {
        self.alerts.iter().find(|a| a.alert.id == id)
    }
}

/// The devices and first sighting within the `hours` that end at the last sighting. The
/// dataset's figures are the 30 days' (720 hours, kept as they are: tests and the demo rely on
/// them), with devices taken as spread evenly over those 30 days (from the first sighting if
/// later): a shorter window sees its share of them (at least the one seen last), first seen no
/// earlier than its start. Deterministic, so tests can pin it; how the real service counts is
/// not documented (FACTS.md §8.6).
fn windowed(e: &IpEntry, hours: u32) -> (u64, Option<DateTime<Utc>>) {
    let (Some(first), Some(last)) = (e.first_seen, e.last_seen) else {
        return (e.prevalence, e.first_seen);
    };
    let month = last - Duration::hours(720);
    let counted_from = first.max(month);
    let start = last - Duration::hours(i64::from(hours));
    let span = (last - counted_from).num_seconds();
    if start <= counted_from || span <= 0 || e.prevalence == 0 {
        return (e.prevalence, e.first_seen);
    }
    let covered = (last - start).num_seconds() as u128;
    let share = (u128::from(e.prevalence) * covered).div_ceil(span as u128);
    (share.clamp(1, u128::from(e.prevalence)) as u64, Some(start))
}

fn shaped(
    ip: IpAddr,
    n: u64,
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
    shape: Shape,
) -> IpStats {
    IpStats {
        ip_address: Some(ip.to_string()),
        organization_prevalence: (shape != Shape::Legacy).then_some(n),
        org_prevalence: (shape != Shape::Current).then_some(n),
        org_first_seen: first,
        org_last_seen: last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_holds_the_documentation_examples() {
        let d = Dataset::demo();
        let StatsAnswer::Found(s) = d.stats("10.209.67.177".parse().unwrap(), 720) else {
            panic!()
        };
        assert_eq!(s.prevalence(), Some(63515));
        assert_eq!(
            s.org_first_seen.unwrap().to_rfc3339(),
            "2017-07-30T13:36:06+00:00"
        );
        let a = d.alert("636688558380765161_2136280442").unwrap();
        for ip in ["104.80.104.128", "23.203.232.228"] {
            assert!(a.related_ips.contains(&ip.parse().unwrap()));
        }
        let rare: IpAddr = "203.0.113.66".parse().unwrap();
        let devices: std::collections::HashSet<_> =
            d.alerts_of(rare).iter().map(|a| a.device()).collect();
        assert_eq!(
            devices.len(),
            3,
            "the rare IP is shared by alerts on three devices"
        );
    }

    #[test]
    fn synthetic_is_deterministic() {
        let a = Dataset::synthetic(500, 7);
        let b = Dataset::synthetic(500, 7);
        assert_eq!(a.alerts.len(), 500);
        assert_eq!(a.alerts[0].alert.id, b.alerts[0].alert.id);
    }

    #[test]
    fn a_shorter_window_sees_fewer_devices_since_its_start() {
        let d = Dataset::demo();
        let at = |hours| match d.stats("10.209.67.177".parse().unwrap(), hours) {
            StatsAnswer::Found(s) => (s.prevalence().unwrap(), s.org_first_seen.unwrap()),
            StatsAnswer::NotFound => panic!("found in the demo"),
        };
        let (month, first) = at(720);
        let (week, week_first) = at(168);
        let (day, day_first) = at(24);
        assert_eq!(month, 63515, "30 days is the dataset's own picture");
        assert!(day < week && week < month, "{day} < {week} < {month}");
        assert!(day >= 1);
        assert_eq!(first.to_rfc3339(), "2017-07-30T13:36:06+00:00");
        let last = "2017-08-29T13:32:59Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(week_first, last - Duration::hours(168));
        assert_eq!(day_first, last - Duration::hours(24));
        assert_eq!(at(24), at(24), "the same window, the same answer");
        // Seen over more than 30 days: 30 days is still the dataset's own figure.
        let long = d.ips.values().find(|e| {
            matches!((e.first_seen, e.last_seen), (Some(f), Some(l)) if l - f > Duration::days(31))
                && e.prevalence > 1
                && !e.not_found
        });
        let long = long.expect("the demo has an IP seen for longer than 30 days");
        let StatsAnswer::Found(s) = d.stats(long.ip, 720) else {
            panic!("found")
        };
        assert_eq!(s.prevalence(), Some(long.prevalence));
        assert_eq!(s.org_first_seen, long.first_seen);
        let StatsAnswer::Found(s) = d.stats(long.ip, 168) else {
            panic!("found")
        };
        assert!(s.prevalence().unwrap() < long.prevalence);
    }
}
