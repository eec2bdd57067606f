//! The API's entities (FACTS.md sections 1–3), read field by field through
//! [`Fields`](super::fields::Fields): open enums keep unknown values, prevalence comes as a
//! number or a string under two names, timestamps may be null or carry seven fractional digits,
//! a field of an unexpected type is unknown rather than fatal, unknown fields are ignored.
//! Every string is sanitised as it is read.
//!
//! The simulator serialises the same types, so they round-trip.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fields::{Fields, deserialize_via_fields};

/// `GET /api/ips/{ip}/stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpStats {
    pub ip_address: Option<String>,
    /// The current name and type (a number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_prevalence: Option<u64>,
    /// The legacy name, documented and observed as a string (`"63515"`); real replies may carry
    /// both names.
    #[serde(
        serialize_with = "count_as_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub org_prevalence: Option<u64>,
    pub org_first_seen: Option<DateTime<Utc>>,
    pub org_last_seen: Option<DateTime<Utc>>,
}

impl IpStats {
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self {
            ip_address: f.opt_text("ipAddress"),
            organization_prevalence: f.count("organizationPrevalence"),
            org_prevalence: f.count("orgPrevalence"),
            org_first_seen: f.time("orgFirstSeen"),
            org_last_seen: f.time("orgLastSeen"),
        }
    }

    /// Distinct devices in the org that connected to this IP, whichever field carried it.
    pub fn prevalence(&self) -> Option<u64> {
        self.organization_prevalence.or(self.org_prevalence)
    }

    /// Zero prevalence and a 404 both mean the org never saw this IP.
    pub fn seen_in_org(&self) -> bool {
        self.prevalence().unwrap_or(0) > 0
    }
}

fn count_as_string<S: serde::Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_str(&n.to_string()),
        None => s.serialize_none(),
    }
}

/// An alert, as `GET /api/ips/{ip}/alerts` and `GET /api/alerts/{id}` return it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub status: Status,
    pub category: Option<String>,
    pub classification: Option<String>,
    pub determination: Option<String>,
    pub investigation_state: Option<String>,
    pub detection_source: Option<String>,
    pub threat_family_name: Option<String>,
    pub threat_name: Option<String>,
    pub assigned_to: Option<String>,
    pub machine_id: Option<String>,
    pub computer_dns_name: Option<String>,
    pub rbac_group_name: Option<String>,
    pub aad_tenant_id: Option<String>,
    pub incident_id: Option<i64>,
    pub investigation_id: Option<i64>,
    pub alert_creation_time: Option<DateTime<Utc>>,
    pub first_event_time: Option<DateTime<Utc>>,
    pub last_event_time: Option<DateTime<Utc>>,
    pub last_update_time: Option<DateTime<Utc>>,
    pub resolved_time: Option<DateTime<Utc>>,
    /// Documented as a String, observed as a list.
    pub mitre_techniques: Vec<String>,
    /// Documented as a String, observed as an object or null.
    pub related_user: Option<RelatedUser>,
    pub comments: Vec<AlertComment>,
    pub evidence: Vec<Evidence>,
}

impl Alert {
    /// Reads every field on its own; the JSON names are the serialised ones (a round-trip test
    /// holds the two together).
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self {
            id: f.text("id"),
            title: f.text("title"),
            description: f.text("description"),
            severity: f.open("severity"),
            status: f.open("status"),
            category: f.opt_text("category"),
            classification: f.opt_text("classification"),
            determination: f.opt_text("determination"),
            investigation_state: f.opt_text("investigationState"),
            detection_source: f.opt_text("detectionSource"),
            threat_family_name: f.opt_text("threatFamilyName"),
            threat_name: f.opt_text("threatName"),
            assigned_to: f.opt_text("assignedTo"),
            machine_id: f.opt_text("machineId"),
            computer_dns_name: f.opt_text("computerDnsName"),
            rbac_group_name: f.opt_text("rbacGroupName"),
            aad_tenant_id: f.opt_text("aadTenantId"),
            incident_id: f.int("incidentId"),
            investigation_id: f.int("investigationId"),
            alert_creation_time: f.time("alertCreationTime"),
            first_event_time: f.time("firstEventTime"),
            last_event_time: f.time("lastEventTime"),
            last_update_time: f.time("lastUpdateTime"),
            resolved_time: f.time("resolvedTime"),
            mitre_techniques: f.text_list("mitreTechniques"),
            related_user: f.record("relatedUser", RelatedUser::read, Some(RelatedUser::parse)),
            comments: f.records("comments", AlertComment::read, Some(AlertComment::text)),
            evidence: f.records("evidence", Evidence::read, None),
        }
    }

    /// The device to show: its DNS name, else its machine id.
    pub fn device(&self) -> Option<&str> {
        self.computer_dns_name
            .as_deref()
            .or(self.machine_id.as_deref())
    }
}

/// Orders alerts newest first, the order every view and report uses.
pub fn newest_first(alerts: &mut [Alert]) {
    alerts.sort_by_key(|a| std::cmp::Reverse(a.alert_creation_time));
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedUser {
    pub user_name: Option<String>,
    pub domain_name: Option<String>,
}

impl RelatedUser {
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self {
            user_name: f.opt_text("userName"),
            domain_name: f.opt_text("domainName"),
        }
    }

    /// The documented type is a String: `DOMAIN\user`, or a bare user name.
    pub fn parse(s: String) -> Self {
        match s.split_once('\\') {
            Some((d, u)) => Self {
                user_name: (!u.is_empty()).then(|| u.to_owned()),
                domain_name: (!d.is_empty()).then(|| d.to_owned()),
            },
            None => Self {
                user_name: Some(s),
                domain_name: None,
            },
        }
    }

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

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertComment {
    pub comment: String,
    pub created_by: Option<String>,
    pub created_time: Option<DateTime<Utc>>,
}

impl AlertComment {
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self {
            comment: f.text("comment"),
            created_by: f.opt_text("createdBy"),
            created_time: f.time("createdTime"),
        }
    }

    /// A bare string where a comment record was expected: it is the comment's text.
    fn text(comment: String) -> Self {
        Self {
            comment,
            ..Self::default()
        }
    }
}

/// One piece of alert evidence; only the fields worth showing are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    pub entity_type: Option<String>,
    pub file_name: Option<String>,
    pub file_path: Option<String>,
    pub sha256: Option<String>,
    pub process_command_line: Option<String>,
    pub ip_address: Option<String>,
    pub url: Option<String>,
    pub account_name: Option<String>,
    pub domain_name: Option<String>,
    pub detection_status: Option<String>,
}

impl Evidence {
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self {
            entity_type: f.opt_text("entityType"),
            file_name: f.opt_text("fileName"),
            file_path: f.opt_text("filePath"),
            sha256: f.opt_text("sha256"),
            process_command_line: f.opt_text("processCommandLine"),
            ip_address: f.opt_text("ipAddress"),
            url: f.opt_text("url"),
            account_name: f.opt_text("accountName"),
            domain_name: f.opt_text("domainName"),
            detection_status: f.opt_text("detectionStatus"),
        }
    }
}

/// One element of `GET /api/alerts/{id}/ips`: only `id`, the IP as a string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelatedIp {
    pub id: String,
}

impl RelatedIp {
    pub fn read(f: &mut Fields<'_>) -> Self {
        Self { id: f.text("id") }
    }

    pub fn addr(&self) -> Option<std::net::IpAddr> {
        self.id.trim().parse().ok()
    }
}

deserialize_via_fields!(IpStats, IpStats::read);
deserialize_via_fields!(Alert, Alert::read);
deserialize_via_fields!(RelatedUser, RelatedUser::read);
deserialize_via_fields!(AlertComment, AlertComment::read);
deserialize_via_fields!(Evidence, Evidence::read);
deserialize_via_fields!(RelatedIp, RelatedIp::read);

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
