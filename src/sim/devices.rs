//! The simulated tenant's devices: each a Machine record with the internal IPs it held and
//! when (DHCP moves addresses), so "which device had this IP then" has an answer that depends
//! on the time asked.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::dataset::Dataset;
use crate::defender::findbyip::WINDOW;
use crate::defender::{Alert, Device};

/// One internal IP held by a device from `from` until `until` (open ends: always).
#[derive(Debug, Clone, Deserialize)]
pub struct Hold {
    pub ip: IpAddr,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Hold {
    /// Whether the hold overlaps `[from, to]`.
    fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| f <= to) && self.until.is_none_or(|u| u >= from)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimDevice {
    pub device: Device,
    #[serde(default)]
    pub holds: Vec<Hold>,
}

impl Dataset {
    /// The device with this id; the API also takes a computer name (FACTS.md 8.2), matched
    /// without case as DNS names are.
    pub fn device(&self, id: &str) -> Option<&Device> {
        self.devices.iter().map(|d| &d.device).find(|d| {
            d.id.eq_ignore_ascii_case(id)
                || d.computer_dns_name
                    .as_deref()
                    .is_some_and(|n| !n.is_empty() && n.eq_ignore_ascii_case(id))
        })
    }

    /// The alerts on a device, newest first.
    pub fn alerts_on(&self, device_id: &str) -> Vec<&Alert> {
        self.alerts
            .iter()
            .map(|a| &a.alert)
            .filter(|a| a.machine_id.as_deref() == Some(device_id))
            .collect()
    }

    /// The devices that held `ip` within the API's window around `at`.
    pub fn devices_at(&self, ip: IpAddr, at: DateTime<Utc>) -> Vec<&Device> {
        let (from, to) = (at - WINDOW, at + WINDOW);
        self.devices
            .iter()
            .filter(|d| d.holds.iter().any(|h| h.ip == ip && h.overlaps(from, to)))
            .map(|d| &d.device)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn every_alert_names_a_device_the_tenant_knows() {
        let d = Dataset::demo();
        assert!(!d.devices.is_empty());
        for a in &d.alerts {
            let id = a.alert.machine_id.as_deref().unwrap_or_default();
            let device = d
                .device(id)
                .unwrap_or_else(|| panic!("{}: {id}", a.alert.id));
            assert_eq!(
                device.computer_dns_name, a.alert.computer_dns_name,
                "{}",
                a.alert.id
            );
        }
        let ids: HashSet<_> = d.devices.iter().map(|x| x.device.id.as_str()).collect();
        assert_eq!(ids.len(), d.devices.len(), "no device twice");
    }

    #[test]
    fn the_dhcp_move_gives_two_devices_at_two_times() {
        let d = Dataset::demo();
        let ip: IpAddr = "10.20.40.15".parse().unwrap();
        let before = d.devices_at(ip, t("2026-11-20T09:14:22Z"));
        let after = d.devices_at(ip, t("2026-11-21T03:13:20Z"));
        assert_eq!(before.len(), 1);
        assert_eq!(after.len(), 1);
        assert_ne!(before[0].id, after[0].id);
        assert_eq!(before[0].name(), "ws-fin-07.contoso.local");
        assert_eq!(after[0].name(), "ws-exec-01.contoso.local");
        assert!(
            d.devices_at("10.99.99.99".parse().unwrap(), t("2026-11-20T09:14:22Z"))
                .is_empty()
        );
    }
}
