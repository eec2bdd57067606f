//! The API's entities, decoded leniently (FACTS.md sections 1–3): open enums keep unknown
//! values, prevalence comes as a number or a string under two names, timestamps may be null or
//! carry seven fractional digits, unknown fields are ignored. Every string is sanitised here.
//!
//! The simulator serialises the same types, so they round-trip.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lenient::{opt_count, opt_text, opt_time, text, text_list};

/// `GET /api/ips/{ip}/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IpStats {
    #[serde(deserialize_with = "opt_text")]
    pub ip_address: Option<String>,
    /// The current name and type (a number).
    #[serde(
        deserialize_with = "opt_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub organization_prevalence: Option<u64>,
    /// The legacy name, documented and observed as a string (`"63515"`); real replies may carry
    /// both names.
    #[serde(
        deserialize_with = "opt_count",
        serialize_with = "super::lenient::count_as_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub org_prevalence: Option<u64>,
    #[serde(deserialize_with = "opt_time")]
    pub org_first_seen: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "opt_time")]
    pub org_last_seen: Option<DateTime<Utc>>,
}

impl IpStats {
    /// Distinct devices in the org that connected to this IP, whichever field carried it.
    pub fn prevalence(&self) -> Option<u64> {
        self.organization_prevalence.or(self.org_prevalence)
    }

    /// Zero prevalence and a 404 both mean the org never saw this IP.
    pub fn seen_in_org(&self) -> bool {
        self.prevalence().unwrap_or(0) > 0
    }
}

/// An alert, as `GET /api/ips/{ip}/alerts` and `GET /api/alerts/{id}` return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Alert {
    #[serde(deserialize_with = "text")]
    pub id: String,
    #[serde(deserialize_with = "text")]
    pub title: String,
    #[serde(deserialize_with = "text")]
    pub description: String,
    pub severity: Severity,
    pub status: Status,
    #[serde(deserialize_with = "opt_text")]
    pub category: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub classification: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub determination: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub investigation_state: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub detection_source: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub threat_family_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub threat_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub assigned_to: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub machine_id: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub computer_dns_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub rbac_group_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub aad_tenant_id: Option<String>,
    pub incident_id: Option<i64>,
    pub investigation_id: Option<i64>,
    #[serde(deserialize_with = "opt_time")]
    pub alert_creation_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "opt_time")]
    pub first_event_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "opt_time")]
    pub last_event_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "opt_time")]
    pub last_update_time: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "opt_time")]
    pub resolved_time: Option<DateTime<Utc>>,
    /// Documented as a String, observed as a list.
    #[serde(deserialize_with = "text_list")]
    pub mitre_techniques: Vec<String>,
    /// Documented as a String, observed as an object or null.
    pub related_user: Option<RelatedUser>,
    pub comments: Vec<AlertComment>,
    pub evidence: Vec<Evidence>,
}

/// Orders alerts newest first, the order every view and report uses.
pub fn newest_first(alerts: &mut [Alert]) {
    alerts.sort_by_key(|a| std::cmp::Reverse(a.alert_creation_time));
}

impl Alert {
    /// The device to show: its DNS name, else its machine id.
    pub fn device(&self) -> Option<&str> {
        self.computer_dns_name
            .as_deref()
            .or(self.machine_id.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RelatedUser {
    #[serde(deserialize_with = "opt_text")]
    pub user_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub domain_name: Option<String>,
}

impl RelatedUser {
    /// `DOMAIN\user`, the way analysts read accounts.
    pub fn display(&self) -> String {
        match (&self.domain_name, &self.user_name) {
            (Some(d), Some(u)) => format!("{d}\\{u}"),
            (None, Some(u)) => u.clone(),
            (Some(d), None) => format!("{d}\\?"),
            (None, None) => String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlertComment {
    #[serde(deserialize_with = "text")]
    pub comment: String,
    #[serde(deserialize_with = "opt_text")]
    pub created_by: Option<String>,
    #[serde(deserialize_with = "opt_time")]
    pub created_time: Option<DateTime<Utc>>,
}

/// One piece of alert evidence; only the fields worth showing are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Evidence {
    #[serde(deserialize_with = "opt_text")]
    pub entity_type: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub file_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub file_path: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub sha256: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub process_command_line: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub ip_address: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub url: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub account_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub domain_name: Option<String>,
    #[serde(deserialize_with = "opt_text")]
    pub detection_status: Option<String>,
}

/// One element of `GET /api/alerts/{id}/ips`: only `id`, the IP as a string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RelatedIp {
    #[serde(deserialize_with = "text")]
    pub id: String,
}

impl RelatedIp {
    pub fn addr(&self) -> Option<std::net::IpAddr> {
        self.id.trim().parse().ok()
    }
}

/// The OData collection envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ODataList<T> {
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    #[serde(
        rename = "@odata.nextLink",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
}

macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($variant,)+
            /// A value this build does not know; kept as sent.
            Other(String),
            #[default]
            Missing,
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => stringify!($variant),)+
                    Self::Other(s) => s,
                    Self::Missing => "",
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $(stringify!($variant) => Self::$variant,)+
                    "" => Self::Missing,
                    other => Self::Other(super::sanitize::one_line(other)),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    Self::Missing => s.serialize_none(),
                    other => s.serialize_str(other.as_str()),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Option::<String>::deserialize(d)?.as_deref().map(Self::from).unwrap_or_default())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(if matches!(self, Self::Missing) { "-" } else { self.as_str() })
            }
        }
    };
}

open_enum!(
    /// Alert severity; `rank` orders it for sorting and colour.
    Severity { UnSpecified, Informational, Low, Medium, High }
);
open_enum!(
    /// Alert status.
    Status { Unknown, New, InProgress, Resolved }
);

impl Severity {
    /// Higher is worse; unknown values sort with "unspecified".
    pub fn rank(&self) -> u8 {
        match self {
            Self::High => 4,
            Self::Medium => 3,
            Self::Low => 2,
            Self::Informational => 1,
            _ => 0,
        }
    }
}
