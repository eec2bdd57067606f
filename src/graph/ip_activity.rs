//! The IP page's one hunting answer ([`Hunt::IpActivity`](super::queries::Hunt)) read into
//! prevalence and connections.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::defender::IpStats;
use crate::defender::fields::Fields;

use super::hunting_results::{Caveat, HuntingResults};

/// An IP's prevalence over the period, and who talked to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IpActivity {
    /// Distinct devices with any DeviceNetworkEvents row to the IP: KQL's `dcount`, an estimate
    /// exact only for small sets, and not only "devices that opened a connection" as MDE's
    /// prevalence was (FACTS §7). Show it as "≈".
    pub devices: Option<u64>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Newest first, at most [`super::queries::CONNECTION_ROWS`].
    pub connections: Vec<Connection>,
    /// Distinct device × process × port rows before the cut.
    pub connections_total: Option<u64>,
    pub caveats: Vec<Caveat>,
}

/// Who talked to the IP: one device, process and port over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub device_id: String,
    pub device_name: Option<String>,
    /// The initiating process's file name.
    pub process: Option<String>,
    pub remote_port: Option<u16>,
    /// Events over the period.
    pub count: Option<u64>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// What one row of the answer is, by its `Part` column.
enum Part {
    Prevalence {
        devices: Option<u64>,
        first: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
    },
    Total(Option<u64>),
    Connection(Connection),
    Unknown,
}

const COLUMNS: [&str; 10] = [
    "Part",
    "Devices",
    "FirstSeen",
    "LastSeen",
    "Total",
    "DeviceId",
    "DeviceName",
    "InitiatingProcessFileName",
    "RemotePort",
    "Count",
];

fn part(f: &mut Fields<'_>) -> Part {
    let kind = f.opt_text("Part").unwrap_or_default();
    match kind.trim().to_ascii_lowercase().as_str() {
        "prevalence" => Part::Prevalence {
            devices: f.count("Devices"),
            first: f.time("FirstSeen"),
            last: f.time("LastSeen"),
        },
        "total" => Part::Total(f.count("Total")),
        "connection" => Part::Connection(Connection {
            device_id: f.text("DeviceId"),
            device_name: f.opt_text("DeviceName"),
            process: f.opt_text("InitiatingProcessFileName"),
            remote_port: f.int("RemotePort").and_then(|p| u16::try_from(p).ok()),
            count: f.count("Count"),
            first: f.time("FirstSeen"),
            last: f.time("LastSeen"),
        }),
        _ => Part::Unknown,
    }
}

impl IpActivity {
    /// Reads the answer; a missing prevalence or total row is said, not guessed (an empty
    /// answer is not "prevalence 0": the query always yields that row).
    pub fn read(results: &HuntingResults) -> Self {
        let mut out = Self {
            caveats: results.caveats.clone(),
            ..Self::default()
        };
        let (mut prevalence, mut total, mut unknown) = (false, false, 0);
        for row in results.read_rows(&COLUMNS, &[], part, &mut out.caveats) {
            match row {
                Part::Prevalence {
                    devices,
                    first,
                    last,
                } if !prevalence => {
                    prevalence = true;
                    out.devices = devices;
                    out.first_seen = first;
                    out.last_seen = last;
                }
                Part::Total(n) if !total => {
                    total = true;
                    out.connections_total = n;
                }
                Part::Connection(c) => out.connections.push(c),
                _ => unknown += 1,
            }
        }
        // A union's rows come in no promised order.
        out.connections.sort_by(|a, b| {
            b.last
                .cmp(&a.last)
                .then(b.count.cmp(&a.count))
                .then(a.device_id.cmp(&b.device_id))
        });
        if unknown > 0 {
            out.caveats.push(Caveat::UnknownRows { count: unknown });
        }
        for (seen, part) in [(prevalence, "prevalence"), (total, "connections total")] {
            if !seen {
                out.caveats.push(Caveat::MissingPart { part: part.into() });
            }
        }
        out
    }

    /// Connections left out by the query's cut, when the total says so.
    pub fn connections_cut(&self) -> Option<u64> {
        let shown = self.connections.len() as u64;
        self.connections_total
            .filter(|&t| t > shown)
            .map(|t| t - shown)
    }

    /// The prevalence as the MDE model holds it, for the screens that show MDE's. `devices`
    /// is an estimate (see the field).
    pub fn to_ip_stats(&self, ip: std::net::IpAddr) -> IpStats {
        IpStats {
            ip_address: Some(ip.to_string()),
            organization_prevalence: self.devices,
            org_prevalence: None,
            org_first_seen: self.first_seen,
            org_last_seen: self.last_seen,
        }
    }
}
