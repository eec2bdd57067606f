//! Alert rows from hunting ([`Hunt::IpAlerts`](super::queries::Hunt) and `DeviceAlerts`):
//! AlertInfo's display strings (`"Medium"`, `"Microsoft Data Loss Prevention"`), not Graph's
//! camelCase enums (FACTS §5), read into the MDE model's [`Alert`].

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::defender::Alert;
use crate::defender::fields::Fields;

use super::enums;
use super::hunting_results::{Caveat, HuntingResults};
use super::queries::ALERT_ROWS;

/// One alert as hunting sees it: no status (AlertInfo has none; `alerts_v2` says it), and only
/// alerts whose evidence landed in the last 30 days (FACTS §7).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertRow {
    pub alert_id: String,
    pub title: Option<String>,
    /// As sent (`"Medium"`); [`Self::to_alert`] maps it onto the MDE member.
    pub severity: Option<String>,
    pub category: Option<String>,
    pub service_source: Option<String>,
    pub detection_source: Option<String>,
    /// AlertInfo's first record of the alert: the nearest hunting has to its creation time.
    pub created: Option<DateTime<Utc>>,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    /// `AttackTechniques`: a JSON list in a string, or `""`.
    pub techniques: Vec<String>,
}

const COLUMNS: [&str; 10] = [
    "AlertId",
    "Title",
    "Severity",
    "Category",
    "ServiceSource",
    "DetectionSource",
    "Created",
    "DeviceId",
    "DeviceName",
    "AttackTechniques",
];

impl AlertRow {
    fn read(f: &mut Fields<'_>) -> Self {
        Self {
            alert_id: f.text("AlertId"),
            title: f.opt_text("Title"),
            severity: f.opt_text("Severity"),
            category: f.opt_text("Category"),
            service_source: f.opt_text("ServiceSource"),
            detection_source: f.opt_text("DetectionSource"),
            created: f.time("Created"),
            device_id: f.opt_text("DeviceId").filter(|s| !s.trim().is_empty()),
            device_name: f.opt_text("DeviceName").filter(|s| !s.trim().is_empty()),
            techniques: f.text_list("AttackTechniques"),
        }
    }

    /// The MDE model's alert, as far as hunting fills it: status stays unknown (`Missing`),
    /// the screen says Graph gives it only on the alert's own page.
    pub fn to_alert(&self) -> Alert {
        Alert {
            id: self.alert_id.clone(),
            title: self.title.clone().unwrap_or_default(),
            severity: self
                .severity
                .as_deref()
                .map(enums::severity)
                .unwrap_or_default(),
            category: self.category.clone(),
            detection_source: self.detection_source.clone(),
            machine_id: self.device_id.clone(),
            computer_dns_name: self.device_name.clone(),
            alert_creation_time: self.created,
            mitre_techniques: self.techniques.clone(),
            ..Alert::default()
        }
    }
}

/// Alerts from one hunting answer, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AlertRows {
    pub alerts: Vec<AlertRow>,
    pub caveats: Vec<Caveat>,
}

impl AlertRows {
    /// Rows without an alert id are left out and counted; a full page says more may exist.
    pub fn read(results: &HuntingResults) -> Self {
        let mut caveats = results.caveats.clone();
        let rows = results.read_rows(
            &COLUMNS,
            &["AttackTechniques"],
            AlertRow::read,
            &mut caveats,
        );
        let total = rows.len();
        let mut alerts: Vec<AlertRow> = rows
            .into_iter()
            .filter(|r| !r.alert_id.trim().is_empty())
            .collect();
        if alerts.len() < total {
            caveats.push(Caveat::RowsWithoutId {
                count: total - alerts.len(),
            });
        }
        if total >= ALERT_ROWS {
            caveats.push(Caveat::QueryLimit { rows: total });
        }
        alerts.sort_by_key(|a| std::cmp::Reverse(a.created));
        Self { alerts, caveats }
    }
}
