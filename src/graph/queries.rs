//! The KQL the pivot loop sends to `runHuntingQuery`: one query per question, column names as
//! the Defender schema reference spells them (FACTS §5), windows in the query itself (FACTS §7).
//!
//! Composed here, not copied from Microsoft, and never run against a tenant: the simulator's own
//! evaluator is what checks them. Values enter only through [`super::kql`].

use std::net::IpAddr;

use crate::defender::{DeviceId, LookBack, UtcSecond};

use super::hunting_request::HuntingRequest;
use super::kql;

/// Hunting sees 30 days and no more (FACTS §4.3), whatever the query asks.
pub const HUNTING_WINDOW: &str = "30d";

/// Connections listed per IP, newest first; the total before the cut comes with them.
pub const CONNECTION_ROWS: usize = 100;

/// Alerts listed per IP or device, newest first. MDE listed them all; a page that comes back
/// this full says more may exist.
pub const ALERT_ROWS: usize = 200;

/// Devices listed as holders of one internal IP in the ±15-minute window.
pub const HOLDER_ROWS: usize = 100;

/// A question the pivot loop asks the hunting tables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hunt {
    /// An IP's prevalence over the period and who talked to it: one call for both (the issue's
    /// goal of one hunting call per IP page).
    IpActivity { ip: IpAddr, period: LookBack },
    /// Alerts whose evidence names the IP (AlertEvidence joined to AlertInfo).
    IpAlerts { ip: IpAddr },
    /// Alerts whose evidence names the device.
    DeviceAlerts { device: DeviceId },
    /// The device's latest DeviceInfo record.
    DeviceInfo { device: DeviceId },
    /// Which devices held an internal IP within 15 minutes of a time (MDE's `findbyip`).
    IpHolders { ip: IpAddr, at: UtcSecond },
}

impl Hunt {
    /// The request to send.
    pub fn request(&self) -> HuntingRequest {
        HuntingRequest::new(self.query())
    }

    /// The query text.
    pub fn query(&self) -> String {
        match self {
            Self::IpActivity { ip, period } => ip_activity(*ip, *period),
            Self::IpAlerts { ip } => alerts_where(
                &format!(
                    "RemoteIP in ({ips}) or LocalIP in ({ips})",
                    ips = kql::ip_spellings(*ip)
                ),
                "isnotempty(DeviceId)",
            ),
            Self::DeviceAlerts { device } => {
                let id = format!("DeviceId == {}", kql::string(device.as_str()));
                alerts_where(&id, &id)
            }
            Self::DeviceInfo { device } => device_info(device),
            Self::IpHolders { ip, at } => ip_holders(*ip, *at),
        }
    }
}

/// One scan of DeviceNetworkEvents answers both halves of the IP page; rows are told apart by
/// `Part`: one `prevalence` row (always there: `summarize` without `by` answers an empty input
/// with zeros), one `total` row (distinct device × process × port before the cut), and up to
/// [`CONNECTION_ROWS`] `connection` rows. `materialize` keeps the scan from running twice
/// against the tenant's CPU quota.
///
/// `Devices` is `dcount`, an estimate exact only for small sets (FACTS §7), and counts devices
/// with any event to the IP, inbound or failed ones too: not quite MDE's
/// `organizationPrevalence` ("devices that opened a connection").
fn ip_activity(ip: IpAddr, period: LookBack) -> String {
    format!(
        r#"let hits = materialize(DeviceNetworkEvents
    | where Timestamp > ago({period})
    | where RemoteIP in ({ips}));
let connections = hits
    | summarize Count = count(), FirstSeen = min(Timestamp), LastSeen = max(Timestamp)
        by DeviceId, DeviceName, InitiatingProcessFileName, RemotePort;
union
    (hits
    | summarize Devices = dcount(DeviceId), FirstSeen = min(Timestamp), LastSeen = max(Timestamp)
    | extend Part = "prevalence"),
    (connections
    | summarize Total = count()
    | extend Part = "total"),
    (connections
    | top {rows} by LastSeen desc
    | extend Part = "connection")"#,
        period = period.short(),
        ips = kql::ip_spellings(ip),
        rows = CONNECTION_ROWS,
    )
}

/// Alerts whose evidence rows match `evidence`, newest first, one row each: AlertInfo's latest
/// record (an alert may have several) with its first record's time as `Created`, and the device
/// from the alert's evidence rows matching `device` (the latest, when there are several).
/// AlertInfo has no status: Graph says it only through `alerts_v2`.
fn alerts_where(evidence: &str, device: &str) -> String {
    format!(
        r#"let matched = AlertEvidence
    | where Timestamp > ago({window})
    | where {evidence}
    | summarize by AlertId;
let devices = AlertEvidence
    | where Timestamp > ago({window})
    | where AlertId in (matched) and {device}
    | summarize arg_max(Timestamp, DeviceId, DeviceName) by AlertId
    | project AlertId, DeviceId, DeviceName;
AlertInfo
| where Timestamp > ago({window})
| where AlertId in (matched)
| summarize Created = min(Timestamp), arg_max(Timestamp, Title, Severity, Category, ServiceSource, DetectionSource, AttackTechniques) by AlertId
| join kind=leftouter devices on AlertId
| project AlertId, Title, Severity, Category, ServiceSource, DetectionSource, Created, DeviceId, DeviceName, AttackTechniques
| top {rows} by Created desc"#,
        window = HUNTING_WINDOW,
        rows = ALERT_ROWS,
    )
}

/// The device's latest DeviceInfo record (FACTS §7, Q4): a device silent for 30 days has none.
fn device_info(device: &DeviceId) -> String {
    format!(
        r#"DeviceInfo
| where Timestamp > ago({window})
| where DeviceId == {id}
| summarize arg_max(Timestamp, *) by DeviceId
| project DeviceId, DeviceName, OSPlatform, OSVersion, OSBuild, PublicIP, MachineGroup, OnboardingStatus, SensorHealthState, ExposureLevel, AssetValue, AadDeviceId, IsAzureADJoined, LoggedOnUsers, DeviceManualTags, Timestamp"#,
        window = HUNTING_WINDOW,
        id = kql::string(device.as_str()),
    )
}

/// Devices whose adapters held the IP within 15 minutes of `at` (FACTS §7, Q7).
/// `IPAddresses` is a string holding a JSON array (FACTS §5), hence `todynamic`; the cheap
/// substring test first keeps most rows out of the expansion.
fn ip_holders(ip: IpAddr, at: UtcSecond) -> String {
    let (from, to) = at.window();
    format!(
        r#"DeviceNetworkInfo
| where Timestamp between ({from} .. {to})
| where IPAddresses contains {ip}
| mv-expand Address = todynamic(IPAddresses)
| where tostring(Address.IPAddress) == {ip}
| summarize FirstSeen = min(Timestamp), LastSeen = max(Timestamp), arg_max(Timestamp, DeviceName, NetworkAdapterName, MacAddress) by DeviceId
| project DeviceId, DeviceName, FirstSeen, LastSeen, NetworkAdapterName, MacAddress
| top {rows} by LastSeen desc"#,
        from = kql::datetime(UtcSecond::new(from)),
        to = kql::datetime(UtcSecond::new(to)),
        ip = kql::string(&ip.to_string()),
        rows = HOLDER_ROWS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::parse_device_id;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn device() -> DeviceId {
        parse_device_id("73e7e2de709dff64ef64b1d0c30e67fab63279db").unwrap()
    }

    #[test]
    fn ip_activity_golden() {
        let q = Hunt::IpActivity {
            ip: ip("203.0.113.7"),
            period: LookBack::WEEK,
        };
        insta::assert_snapshot!(q.query());
    }

    #[test]
    fn ip_activity_period_and_ipv6() {
        let q = Hunt::IpActivity {
            ip: ip("2001:db8::7"),
            period: LookBack::DAY,
        }
        .query();
        assert!(q.contains("ago(1d)"), "{q}");
        assert!(q.contains(r#"RemoteIP in ("2001:db8::7")"#), "{q}");
        let month = Hunt::IpActivity {
            ip: ip("10.0.0.1"),
            period: LookBack::MONTH,
        }
        .query();
        assert!(month.contains("ago(30d)"), "{month}");
        let odd = LookBack::from_hours(48).unwrap();
        let q = Hunt::IpActivity {
            ip: ip("10.0.0.1"),
            period: odd,
        }
        .query();
        assert!(q.contains("ago(2d)"), "{q}");
    }

    #[test]
    fn ip_alerts_golden() {
        insta::assert_snapshot!(
            Hunt::IpAlerts {
                ip: ip("203.0.113.7")
            }
            .query()
        );
    }

    #[test]
    fn device_alerts_golden() {
        insta::assert_snapshot!(Hunt::DeviceAlerts { device: device() }.query());
    }

    #[test]
    fn device_info_golden() {
        insta::assert_snapshot!(Hunt::DeviceInfo { device: device() }.query());
    }

    #[test]
    fn ip_holders_golden() {
        let at = UtcSecond::new("2026-11-01T10:00:00Z".parse().unwrap());
        insta::assert_snapshot!(
            Hunt::IpHolders {
                ip: ip("10.1.2.3"),
                at
            }
            .query()
        );
    }

    #[test]
    fn a_device_name_id_is_quoted_as_one_literal() {
        // Device ids may be computer names with dots and dashes (input.rs); still one literal.
        let id = parse_device_id("host-1.contoso.com").unwrap();
        let q = Hunt::DeviceInfo { device: id }.query();
        assert!(
            q.contains(r#"| where DeviceId == "host-1.contoso.com""#),
            "{q}"
        );
    }

    #[test]
    fn the_request_carries_the_query_and_no_timespan() {
        let r = Hunt::DeviceInfo { device: device() }.request();
        let body: serde_json::Value = serde_json::from_str(&r.body()).unwrap();
        assert!(body["Query"].as_str().unwrap().starts_with("DeviceInfo\n"));
        assert!(body.get("Timespan").is_none());
    }
}
