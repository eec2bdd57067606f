//! The JSON shapes scripts read from `ip`, `alert` and `expand`: stable, documented in README.

use serde::Serialize;

use crate::defender::{Alert, IpStats};

#[derive(Debug, Serialize)]
pub struct StatsJson {
    pub prevalence: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

impl From<&IpStats> for StatsJson {
    fn from(s: &IpStats) -> Self {
        Self {
            prevalence: s.prevalence().unwrap_or(0),
            first_seen: s
                .org_first_seen
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            last_seen: s
                .org_last_seen
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AlertJson {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub category: Option<String>,
    pub created: Option<String>,
    pub device: Option<String>,
    pub user: Option<String>,
    pub detection_source: Option<String>,
    pub mitre_techniques: Vec<String>,
    pub incident_id: Option<i64>,
}

impl From<&Alert> for AlertJson {
    fn from(a: &Alert) -> Self {
        Self {
            id: a.id.clone(),
            title: a.title.clone(),
            severity: a.severity.as_str().to_owned(),
            status: a.status.as_str().to_owned(),
            category: a.category.clone(),
            created: a
                .alert_creation_time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            device: a.device().map(str::to_owned),
            user: a.related_user.as_ref().map(|u| u.display()),
            detection_source: a.detection_source.clone(),
            mitre_techniques: a.mitre_techniques.clone(),
            incident_id: a.incident_id,
        }
    }
}
