//! The Machine entity (FACTS.md 8.5), read as leniently as an alert: `rbacGroupId` comes as a
//! number though documented as a String, names and groups may be `""` or null, enum-like
//! fields are an open set kept as sent, unknown fields are normal. Every string is sanitised
//! as it is read.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::fields::{Fields, deserialize_via_fields};
use super::listing::Item;

/// `GET /api/machines/{id}`, and each element of `findbyip`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: String,
    /// May be `""` (a device that never reported its name).
    pub computer_dns_name: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub os_platform: Option<String>,
    pub version: Option<String>,
    pub os_build: Option<i64>,
    /// "Last IP on local NIC on the machine".
    pub last_ip_address: Option<String>,
    /// "Last IP through which the machine accessed the internet".
    pub last_external_ip_address: Option<String>,
    pub health_status: Option<String>,
    pub risk_score: Option<String>,
    pub exposure_level: Option<String>,
    pub device_value: Option<String>,
    pub machine_tags: Vec<String>,
    /// Null when the device is in no device group.
    pub rbac_group_name: Option<String>,
    /// Documented as a String, sent as a number; kept as text.
    pub rbac_group_id: Option<String>,
    pub aad_device_id: Option<String>,
    pub is_aad_joined: Option<bool>,
    pub ip_addresses: Vec<DeviceIp>,
}

impl Device {
    /// Reads every field on its own; the JSON names are the serialised ones.
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self {
            id: f.text("id"),
            computer_dns_name: f.opt_text("computerDnsName"),
            first_seen: f.time("firstSeen"),
            last_seen: f.time("lastSeen"),
            os_platform: f.opt_text("osPlatform"),
            version: f.opt_text("version"),
            os_build: f.int("osBuild"),
            last_ip_address: f.opt_text("lastIpAddress"),
            last_external_ip_address: f.opt_text("lastExternalIpAddress"),
            health_status: f.opt_text("healthStatus"),
            risk_score: f.opt_text("riskScore"),
            exposure_level: f.opt_text("exposureLevel"),
            device_value: f.opt_text("deviceValue"),
            machine_tags: f.text_list("machineTags"),
            rbac_group_name: f.opt_text("rbacGroupName"),
            rbac_group_id: f.id_text("rbacGroupId"),
            aad_device_id: f.opt_text("aadDeviceId"),
            is_aad_joined: f.flag("isAadJoined"),
            ip_addresses: f.records("ipAddresses", DeviceIp::read, None),
        }
    }

    /// The name to show: the DNS name, else the id (a blank name is no name).
    pub fn name(&self) -> &str {
        self.computer_dns_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.id)
    }
}

/// One adapter address a device reports; the list holds loopback, link-local, IPv6 and
/// adapters that are down, as the device sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceIp {
    pub ip_address: Option<String>,
    pub mac_address: Option<String>,
    /// `Ethernet`, `SoftwareLoopback`, ... (only in real captures).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `Up`, `Down`, ...
    pub operational_status: Option<String>,
}

impl DeviceIp {
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self {
            ip_address: f.opt_text("ipAddress"),
            mac_address: f.opt_text("macAddress"),
            kind: f.opt_text("type"),
            operational_status: f.opt_text("operationalStatus"),
        }
    }
}

impl Item for Device {
    const NOUN: &'static str = "device";
    fn read(f: &mut Fields<'_>) -> Self {
        Device::read(f)
    }
    fn id(&self) -> &str {
        &self.id
    }
}

deserialize_via_fields!(Device, Device::read);
deserialize_via_fields!(DeviceIp, DeviceIp::read);

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> (Device, Vec<super::super::fields::OddField>) {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        super::super::fields::read_logged(v.as_object().unwrap(), Device::read)
    }

    #[test]
    fn odd_but_observed_shapes_read_without_loss() {
        let (d, odd) = read(
            r#"{"id":"ab12","computerDnsName":"","rbacGroupId":140,"rbacGroupName":null,
                "aadDeviceId":null,"isAadJoined":true,"osBuild":19045,"machineTags":[],
                "healthStatus":"SomethingNew","riskScore":"Medium","extra":{"x":1},
                "ipAddresses":[{"ipAddress":"10.0.0.5","macAddress":null,"type":"Ethernet",
                                "operationalStatus":"Up"}]}"#,
        );
        assert!(odd.is_empty(), "{odd:?}");
        assert_eq!(d.name(), "ab12", "a blank name shows the id");
        assert_eq!(d.rbac_group_id.as_deref(), Some("140"));
        assert_eq!(d.rbac_group_name, None);
        assert_eq!(d.is_aad_joined, Some(true));
        assert_eq!(d.os_build, Some(19045));
        assert_eq!(d.health_status.as_deref(), Some("SomethingNew"));
        assert_eq!(d.ip_addresses[0].kind.as_deref(), Some("Ethernet"));
        assert_eq!(d.ip_addresses[0].mac_address, None);
    }

    #[test]
    fn server_text_is_sanitised_and_round_trips() {
        let (d, _) =
            read(r#"{"id":"x","computerDnsName":"evil\u202e\u001b[2Jhost","rbacGroupId":"7"}"#);
        let name = d.name();
        assert!(
            !name.contains('\u{202e}') && !name.contains('\u{1b}'),
            "{name}"
        );
        let back: Device = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
}
