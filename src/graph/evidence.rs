//! An `alerts_v2` alert's evidence (FACTS §2.5): polymorphic items told apart by
//! `@odata.type`, 48 types in the v1.0 schema and new ones without notice. The types the pivot
//! loop needs are read (addresses, the device, files, processes, users, URLs); every other item
//! is still listed under its type name and counted, never dropped.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::defender::Device;
use crate::defender::device::DeviceIp;
use crate::defender::fields::Fields;
use crate::defender::model::{Evidence, RelatedUser};

use super::enums;

/// Where a related IP was found in the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IpOrigin {
    /// `ipEvidence.ipAddress`: what MDE's `/alerts/{id}/ips` is documented to map to.
    IpEvidence,
    /// `networkConnectionEvidence.sourceAddress`.
    ConnectionSource,
    /// `networkConnectionEvidence.destinationAddress`.
    ConnectionDestination,
    /// `dnsEvidence`: a resolved address, the DNS server or the asking host.
    Dns,
    /// `nicEvidence.ipAddress`.
    Nic,
}

/// An IP the alert's evidence names. Graph says more than MDE did (roles, verdict, country);
/// whether the set equals MDE's `/alerts/{id}/ips` is UNVERIFIED (FACTS §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphIp {
    /// As sent (sanitised); [`Self::addr`] parses it.
    pub ip: String,
    pub origin: IpOrigin,
    pub country: Option<String>,
    pub verdict: Option<String>,
    pub roles: Vec<String>,
}

impl GraphIp {
    pub fn addr(&self) -> Option<IpAddr> {
        self.ip.trim().parse().ok()
    }
}

/// `deviceEvidence`: the device as it was when the alert fired ("during the time of the
/// alert"), not as it is now. Graph has no device resource; DeviceInfo hunting says "now", for
/// devices seen in the last 30 days.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceEvidence {
    pub mde_device_id: Option<String>,
    pub azure_ad_device_id: Option<String>,
    pub device_dns_name: Option<String>,
    pub host_name: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub os_platform: Option<String>,
    pub os_build: Option<i64>,
    pub version: Option<String>,
    pub health_status: Option<String>,
    pub risk_score: Option<String>,
    /// An Int32 in the schema; kept as text as the MDE model keeps it.
    pub rbac_group_id: Option<String>,
    pub rbac_group_name: Option<String>,
    pub onboarding_status: Option<String>,
    pub defender_av_status: Option<String>,
    pub ip_interfaces: Vec<String>,
    pub last_ip_address: Option<String>,
    pub last_external_ip_address: Option<String>,
    pub logged_on_users: Vec<RelatedUser>,
    pub tags: Vec<String>,
    pub roles: Vec<String>,
    pub detailed_roles: Vec<String>,
}

impl DeviceEvidence {
    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            mde_device_id: f.opt_text("mdeDeviceId"),
            azure_ad_device_id: f.opt_text("azureAdDeviceId"),
            device_dns_name: f.opt_text("deviceDnsName"),
            host_name: f.opt_text("hostName"),
            first_seen: f.time("firstSeenDateTime"),
            os_platform: f.opt_text("osPlatform"),
            os_build: f.int("osBuild"),
            version: f.opt_text("version"),
            health_status: f.opt_text("healthStatus"),
            risk_score: f.opt_text("riskScore"),
            rbac_group_id: f.id_text("rbacGroupId"),
            rbac_group_name: f.opt_text("rbacGroupName"),
            onboarding_status: f.opt_text("onboardingStatus"),
            defender_av_status: f.opt_text("defenderAvStatus"),
            ip_interfaces: f.text_list("ipInterfaces"),
            last_ip_address: f.opt_text("lastIpAddress"),
            last_external_ip_address: f.opt_text("lastExternalIpAddress"),
            logged_on_users: f.records("loggedOnUsers", logged_on_user, None),
            tags: f.text_list("tags"),
            roles: f.text_list("roles"),
            detailed_roles: f.text_list("detailedRoles"),
        }
    }

    /// Whether the evidence calls this the alert's main device.
    pub fn is_main(&self) -> bool {
        self.detailed_roles
            .iter()
            .any(|r| r.eq_ignore_ascii_case("Main device"))
    }

    /// The MDE device record as far as the evidence fills it. Graph cannot say `lastSeen`,
    /// `exposureLevel`, `deviceValue` or `isAadJoined` here (FACTS §7): they stay empty, for
    /// the screen to say so. The evidence's `tags` are taken as the device's tags (UNVERIFIED:
    /// the schema calls them the evidence's custom tags; the example's `"Test Machine"` reads
    /// like a device tag).
    pub fn to_device(&self) -> Device {
        Device {
            id: self.mde_device_id.clone().unwrap_or_default(),
            computer_dns_name: self.device_dns_name.clone().or(self.host_name.clone()),
            first_seen: self.first_seen,
            last_seen: None,
            os_platform: self.os_platform.clone(),
            version: self.version.clone(),
            os_build: self.os_build,
            last_ip_address: self.last_ip_address.clone(),
            last_external_ip_address: self.last_external_ip_address.clone(),
            health_status: self.health_status.as_deref().and_then(enums::pascal_case),
            risk_score: self.risk_score.as_deref().and_then(enums::pascal_case),
            exposure_level: None,
            device_value: None,
            machine_tags: self.tags.clone(),
            rbac_group_name: self.rbac_group_name.clone(),
            rbac_group_id: self.rbac_group_id.clone(),
            aad_device_id: self.azure_ad_device_id.clone(),
            is_aad_joined: None,
            ip_addresses: self
                .ip_interfaces
                .iter()
                .map(|ip| DeviceIp {
                    ip_address: Some(ip.clone()),
                    ..DeviceIp::default()
                })
                .collect(),
        }
    }
}

/// `loggedOnUser{accountName, domainName}` as the MDE model's user.
fn logged_on_user(f: &mut Fields<'_>) -> RelatedUser {
    RelatedUser {
        user_name: f.opt_text("accountName"),
        domain_name: f.opt_text("domainName"),
    }
}

/// How many evidence items of each kind an alert carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceTally {
    /// Items of the types read here, by type name (`deviceEvidence`).
    pub read: BTreeMap<String, usize>,
    /// Items of types this build does not read, by the type name sent: listed, not read.
    pub not_read: BTreeMap<String, usize>,
    /// Items that were no object, or carried no `@odata.type`.
    pub untyped: usize,
}

impl EvidenceTally {
    /// One clause per thing the analyst should know, empty when everything was read.
    pub fn caveats(&self) -> Vec<String> {
        let mut out = Vec::new();
        let other: usize = self.not_read.values().sum();
        if other > 0 {
            let names: Vec<&str> = self.not_read.keys().map(String::as_str).collect();
            out.push(format!(
                "{other} evidence item(s) of types not read here ({})",
                names.join(", ")
            ));
        }
        if self.untyped > 0 {
            out.push(format!(
                "{} evidence item(s) without a type could not be read",
                self.untyped
            ));
        }
        out
    }
}

/// The types read here (the part after `#microsoft.graph.security.`).
const READ: [&str; 11] = [
    "deviceEvidence",
    "ipEvidence",
    "networkConnectionEvidence",
    "dnsEvidence",
    "nicEvidence",
    "userEvidence",
    "fileEvidence",
    "processEvidence",
    "urlEvidence",
    "registryKeyEvidence",
    "registryValueEvidence",
];

/// What one evidence item gave.
#[derive(Debug, Clone, Default)]
pub(crate) struct Item {
    /// The type name, short form; `None` when the item had none.
    pub kind: Option<String>,
    /// Whether the type is one of [`READ`].
    pub known: bool,
    pub evidence: Evidence,
    pub ips: Vec<GraphIp>,
    pub device: Option<DeviceEvidence>,
    pub user: Option<RelatedUser>,
}

/// Reads one evidence item by its `@odata.type`, compared case-insensitively.
pub(crate) fn read_item(f: &mut Fields<'_>) -> Item {
    let Some(full) = f.opt_text("@odata.type") else {
        return Item::default();
    };
    let short = full
        .trim()
        .trim_start_matches('#')
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    let known = READ.iter().find(|k| k.eq_ignore_ascii_case(&short));
    let mut item = Item {
        kind: Some(known.map(|k| (*k).to_owned()).unwrap_or(short)),
        known: known.is_some(),
        ..Item::default()
    };
    let verdict = f.opt_text("verdict");
    let roles = f.text_list("roles");
    let ip = |ip: String, origin| GraphIp {
        ip,
        origin,
        country: None,
        verdict: verdict.clone(),
        roles: roles.clone(),
    };
    match known.copied() {
        Some("deviceEvidence") => item.device = Some(DeviceEvidence::read(f)),
        Some("ipEvidence") => {
            if let Some(addr) = f.opt_text("ipAddress") {
                item.ips.push(GraphIp {
                    country: f.opt_text("countryLetterCode"),
                    ..ip(addr, IpOrigin::IpEvidence)
                });
            }
        }
        Some("networkConnectionEvidence") => {
            for (name, origin) in [
                ("sourceAddress", IpOrigin::ConnectionSource),
                ("destinationAddress", IpOrigin::ConnectionDestination),
            ] {
                if let Some(Some(addr)) = f.record(name, address, None) {
                    item.ips.push(ip(addr, origin));
                }
            }
        }
        Some("dnsEvidence") => {
            let mut found: Vec<String> = f
                .records("ipAddresses", address, None)
                .into_iter()
                .flatten()
                .collect();
            for name in ["dnsServerIp", "hostIpAddress"] {
                found.extend(f.record(name, address, None).flatten());
            }
            item.ips
                .extend(found.into_iter().map(|a| ip(a, IpOrigin::Dns)));
            item.evidence.url = f.opt_text("domainName");
        }
        Some("nicEvidence") => {
            if let Some(Some(addr)) = f.record("ipAddress", address, None) {
                item.ips.push(ip(addr, IpOrigin::Nic));
            }
        }
        Some("userEvidence") => item.user = f.record("userAccount", account, None),
        Some("fileEvidence") => {
            if let Some(file) = f.record("fileDetails", file_details, None) {
                item.evidence = file;
            }
            item.evidence.detection_status = f.opt_text("detectionStatus");
        }
        Some("processEvidence") => {
            if let Some(file) = f.record("imageFile", file_details, None) {
                item.evidence = file;
            }
            item.evidence.process_command_line = f.opt_text("processCommandLine");
            item.evidence.detection_status = f.opt_text("detectionStatus");
            item.user = f.record("userAccount", account, None);
        }
        Some("urlEvidence") => item.evidence.url = f.opt_text("url"),
        Some("registryKeyEvidence" | "registryValueEvidence") => {
            item.evidence.file_path = f.opt_text("registryKey");
        }
        _ => {}
    }
    if let Some(user) = &item.user {
        item.evidence.account_name = user.user_name.clone();
        item.evidence.domain_name = user.domain_name.clone();
    }
    if let [one] = item.ips.as_slice() {
        item.evidence.ip_address = Some(one.ip.clone());
    }
    item.evidence.entity_type = item.kind.as_deref().map(entity_type);
    item
}

/// `deviceEvidence` → `Device`: the words MDE's evidence used for the same entities.
fn entity_type(kind: &str) -> String {
    let bare = kind.strip_suffix("Evidence").unwrap_or(kind);
    match bare {
        "device" => "Machine".to_owned(),
        "networkConnection" => "NetworkConnection".to_owned(),
        other => enums::pascal_case(other).unwrap_or_default(),
    }
}

/// An `ipEvidence` nested in another item: its address.
fn address(f: &mut Fields<'_>) -> Option<String> {
    f.opt_text("ipAddress")
}

fn account(f: &mut Fields<'_>) -> RelatedUser {
    RelatedUser {
        user_name: f.opt_text("accountName"),
        domain_name: f.opt_text("domainName"),
    }
}

fn file_details(f: &mut Fields<'_>) -> Evidence {
    Evidence {
        file_name: f.opt_text("fileName"),
        file_path: f.opt_text("filePath"),
        sha256: f.opt_text("sha256"),
        ..Evidence::default()
    }
}
