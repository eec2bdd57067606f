//! Device rows from hunting: a device's latest DeviceInfo record
//! ([`Hunt::DeviceInfo`](super::queries::Hunt)) and the holders of an internal IP
//! (`IpHolders`, DeviceNetworkInfo). Both see the last 30 days only (FACTS §7): a device
//! silent longer has no row, which is not "no such device".

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::defender::Device;
use crate::defender::fields::Fields;
use crate::defender::model::RelatedUser;

use super::enums;
use super::hunting_results::{Caveat, HuntingResults};
use super::queries::HOLDER_ROWS;

/// A device as DeviceInfo last recorded it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceRow {
    pub device_id: String,
    pub device_name: Option<String>,
    pub os_platform: Option<String>,
    pub os_version: Option<String>,
    pub os_build: Option<i64>,
    pub public_ip: Option<String>,
    pub machine_group: Option<String>,
    pub onboarding_status: Option<String>,
    pub sensor_health_state: Option<String>,
    pub exposure_level: Option<String>,
    pub asset_value: Option<String>,
    pub aad_device_id: Option<String>,
    pub is_aad_joined: Option<bool>,
    /// `LoggedOnUsers`: a JSON list in a string (`[{"UserName":…,"DomainName":…}]`).
    pub logged_on_users: Vec<RelatedUser>,
    pub manual_tags: Vec<String>,
    /// The record's time: "last date and time recorded for the device".
    pub last_seen: Option<DateTime<Utc>>,
}

const DEVICE_COLUMNS: [&str; 16] = [
    "DeviceId",
    "DeviceName",
    "OSPlatform",
    "OSVersion",
    "OSBuild",
    "PublicIP",
    "MachineGroup",
    "OnboardingStatus",
    "SensorHealthState",
    "ExposureLevel",
    "AssetValue",
    "AadDeviceId",
    "IsAzureADJoined",
    "LoggedOnUsers",
    "DeviceManualTags",
    "Timestamp",
];

impl DeviceRow {
    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            device_id: f.text("DeviceId"),
            device_name: f.opt_text("DeviceName"),
            os_platform: f.opt_text("OSPlatform"),
            os_version: f.opt_text("OSVersion"),
            os_build: f.int("OSBuild"),
            public_ip: f.opt_text("PublicIP"),
            machine_group: f.opt_text("MachineGroup"),
            onboarding_status: f.opt_text("OnboardingStatus"),
            sensor_health_state: f.opt_text("SensorHealthState"),
            exposure_level: f.opt_text("ExposureLevel"),
            asset_value: f.opt_text("AssetValue"),
            aad_device_id: f.opt_text("AadDeviceId").filter(|s| !s.trim().is_empty()),
            is_aad_joined: f.flag("IsAzureADJoined"),
            logged_on_users: f.records("LoggedOnUsers", user, None),
            manual_tags: f.text_list("DeviceManualTags"),
            last_seen: f.time("Timestamp"),
        }
    }

    /// The MDE device record as far as DeviceInfo fills it: `healthStatus` ≈
    /// `SensorHealthState`, `rbacGroupName` ≈ `MachineGroup`, `lastExternalIpAddress` ≈
    /// `PublicIP` (FACTS §7). Graph cannot say here: `riskScore` (only an alert's
    /// `deviceEvidence` has it), `firstSeen`, `rbacGroupId`, `lastIpAddress` and the adapters
    /// (DeviceNetworkInfo has those).
    pub fn to_device(&self) -> Device {
        Device {
            id: self.device_id.clone(),
            computer_dns_name: self.device_name.clone(),
            last_seen: self.last_seen,
            os_platform: self.os_platform.clone(),
            version: self.os_version.clone(),
            os_build: self.os_build,
            last_external_ip_address: self.public_ip.clone(),
            health_status: self
                .sensor_health_state
                .as_deref()
                .and_then(enums::pascal_case),
            exposure_level: self.exposure_level.clone(),
            device_value: self.asset_value.clone(),
            machine_tags: self.manual_tags.clone(),
            rbac_group_name: self.machine_group.clone(),
            aad_device_id: self.aad_device_id.clone(),
            is_aad_joined: self.is_aad_joined,
            ..Device::default()
        }
    }
}

/// One element of `LoggedOnUsers`; MDE's docs spell the keys `UserName`/`DomainName`.
fn user(f: &mut Fields<'_>) -> RelatedUser {
    RelatedUser {
        user_name: f.opt_text("UserName").or_else(|| f.opt_text("userName")),
        domain_name: f
            .opt_text("DomainName")
            .or_else(|| f.opt_text("domainName")),
    }
}

/// A device that held the internal IP within 15 minutes of the time asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HolderRow {
    pub device_id: String,
    pub device_name: Option<String>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub adapter: Option<String>,
    pub mac_address: Option<String>,
}

const HOLDER_COLUMNS: [&str; 6] = [
    "DeviceId",
    "DeviceName",
    "FirstSeen",
    "LastSeen",
    "NetworkAdapterName",
    "MacAddress",
];

impl HolderRow {
    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            device_id: f.text("DeviceId"),
            device_name: f.opt_text("DeviceName"),
            first_seen: f.time("FirstSeen"),
            last_seen: f.time("LastSeen"),
            adapter: f.opt_text("NetworkAdapterName"),
            mac_address: f.opt_text("MacAddress"),
        }
    }

    /// As MDE's `findbyip` listed it: the device's id and name.
    pub fn to_device(&self) -> Device {
        Device {
            id: self.device_id.clone(),
            computer_dns_name: self.device_name.clone(),
            ..Device::default()
        }
    }
}

/// Typed rows of one hunting answer, and what the analyst must know about them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rows<T> {
    pub rows: Vec<T>,
    pub caveats: Vec<Caveat>,
}

/// DeviceInfo rows; the query asks one per device, rows without an id are left out and counted.
pub fn read_devices(results: &HuntingResults) -> Rows<DeviceRow> {
    let mut caveats = results.caveats.clone();
    let rows = results.read_rows(
        &DEVICE_COLUMNS,
        &["LoggedOnUsers", "DeviceManualTags"],
        DeviceRow::read,
        &mut caveats,
    );
    with_ids(rows, caveats, |d| &d.device_id, usize::MAX)
}

/// Holders of an IP, newest first.
pub fn read_holders(results: &HuntingResults) -> Rows<HolderRow> {
    let mut caveats = results.caveats.clone();
    let rows = results.read_rows(&HOLDER_COLUMNS, &[], HolderRow::read, &mut caveats);
    let mut out = with_ids(rows, caveats, |h| &h.device_id, HOLDER_ROWS);
    out.rows.sort_by_key(|h| std::cmp::Reverse(h.last_seen));
    out
}

fn with_ids<T>(
    rows: Vec<T>,
    mut caveats: Vec<Caveat>,
    id: fn(&T) -> &String,
    limit: usize,
) -> Rows<T> {
    let total = rows.len();
    let rows: Vec<T> = rows
        .into_iter()
        .filter(|r| !id(r).trim().is_empty())
        .collect();
    if rows.len() < total {
        caveats.push(Caveat::RowsWithoutId {
            count: total - rows.len(),
        });
    }
    if total >= limit {
        caveats.push(Caveat::QueryLimit { rows: total });
    }
    Rows { rows, caveats }
}
