//! `GET /v1.0/security/alerts_v2/{id}` and its list pages (FACTS §2), read into the MDE model's
//! [`Alert`] so screens, one-shots and cases read the same on both sources, plus what only
//! Graph says: the IPs and the device its evidence names (one call where MDE needs three).
//!
//! What Graph cannot say that MDE said (FACTS §7): `investigationId` (no such field);
//! `incidentId` as a number (it is a string; one that is no number stays in
//! [`GraphAlert::incident_id`] only); `machineId`/`computerDnsName`/`rbacGroupName` come from
//! the evidence's device at alert time, absent when the alert has no `deviceEvidence`;
//! `relatedUser` from `userEvidence` (or the device's logged-on users); `classification` and
//! `determination` read `unknown` or `null` until someone sets them, shown as not set; four
//! `determination` members carry other names (see [`super::enums`]). Alerts that are tuned,
//! standalone, from Intune or from a Sentinel workspace not onboarded are not in `alerts_v2`.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::defender::fields::{Fields, read_logged};
use crate::defender::listing::{Item, Listing};
use crate::defender::model::{Alert, AlertComment, RelatedIp, RelatedUser};
use crate::defender::{ApiError, Next};

use super::enums;
use super::evidence::{self, DeviceEvidence, EvidenceTally, GraphIp};
use super::hunting_results::not_a;

/// Where alerts live, under the Graph base.
pub const ALERTS_PATH: &str = "/v1.0/security/alerts_v2";

/// One `alerts_v2` alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GraphAlert {
    /// The alert as the MDE model holds it; `evidence` lists every item, read or not.
    pub alert: Alert,
    /// Graph's incident id, a string (MDE's was a number).
    pub incident_id: Option<String>,
    /// The id in the product that raised it; equals `id` for MDE alerts, differs elsewhere.
    pub provider_alert_id: Option<String>,
    /// `microsoftDefenderForEndpoint`, … as sent.
    pub service_source: Option<String>,
    pub product_name: Option<String>,
    pub alert_web_url: Option<String>,
    /// Addresses from the evidence, first origin kept per address, in evidence order.
    pub related_ips: Vec<GraphIp>,
    /// Every `deviceEvidence` item; [`Self::device`] picks the alert's device.
    pub devices: Vec<DeviceEvidence>,
    pub evidence_tally: EvidenceTally,
}

impl GraphAlert {
    pub fn read(f: &mut Fields<'_>) -> Self {
        let incident_id = f.id_text("incidentId");
        let mut alert = Alert {
            id: f.text("id"),
            title: f.text("title"),
            description: f.text("description"),
            severity: f
                .opt_text("severity")
                .map(|s| enums::severity(&s))
                .unwrap_or_default(),
            status: f
                .opt_text("status")
                .map(|s| enums::status(&s))
                .unwrap_or_default(),
            category: f.opt_text("category"),
            classification: f
                .opt_text("classification")
                .and_then(|s| enums::classification(&s)),
            determination: f
                .opt_text("determination")
                .and_then(|s| enums::determination(&s)),
            investigation_state: f
                .opt_text("investigationState")
                .and_then(|s| enums::investigation_state(&s)),
            detection_source: f
                .opt_text("detectionSource")
                .and_then(|s| enums::detection_source(&s)),
            threat_family_name: f.opt_text("threatFamilyName"),
            threat_name: f.opt_text("threatDisplayName"),
            assigned_to: f.opt_text("assignedTo"),
            aad_tenant_id: f.opt_text("tenantId"),
            incident_id: incident_id.as_deref().and_then(|s| s.trim().parse().ok()),
            investigation_id: None,
            alert_creation_time: f.time("createdDateTime"),
            first_event_time: f.time("firstActivityDateTime"),
            last_event_time: f.time("lastActivityDateTime"),
            last_update_time: f.time("lastUpdateDateTime"),
            resolved_time: f.time("resolvedDateTime"),
            mitre_techniques: f.text_list("mitreTechniques"),
            comments: f.records("comments", comment, Some(comment_text)),
            ..Alert::default()
        };
        let items = f.records("evidence", evidence::read_item, None);
        let mut out = Self {
            incident_id,
            provider_alert_id: f.opt_text("providerAlertId"),
            service_source: f.opt_text("serviceSource"),
            product_name: f.opt_text("productName"),
            alert_web_url: f.opt_text("alertWebUrl"),
            ..Self::default()
        };
        let mut seen = HashSet::new();
        let mut users: Vec<RelatedUser> = Vec::new();
        for item in items {
            match (&item.kind, item.known) {
                (Some(kind), true) => {
                    *out.evidence_tally.read.entry(kind.clone()).or_default() += 1
                }
                (Some(kind), false) => {
                    *out.evidence_tally.not_read.entry(kind.clone()).or_default() += 1
                }
                (None, _) => out.evidence_tally.untyped += 1,
            }
            for ip in item.ips {
                if seen.insert(ip.ip.clone()) {
                    out.related_ips.push(ip);
                }
            }
            out.devices.extend(item.device);
            users.extend(item.user);
            if item.kind.is_some() {
                alert.evidence.push(item.evidence);
            }
        }
        // Items that were no object at all: the field reader noted and left them out.
        out.evidence_tally.untyped += f
            .odd
            .iter()
            .filter(|o| !o.kept && is_item_of(&o.field, "evidence"))
            .count();
        if let Some(device) = out.device() {
            alert.machine_id = device.mde_device_id.clone();
            alert.computer_dns_name = device.device_dns_name.clone().or(device.host_name.clone());
            alert.rbac_group_name = device.rbac_group_name.clone();
        }
        alert.related_user = users.into_iter().next().or_else(|| {
            out.device()
                .and_then(|d| d.logged_on_users.first().cloned())
        });
        out.alert = alert;
        out
    }

    /// The alert's device: the one the evidence calls "Main device", else the first.
    pub fn device(&self) -> Option<&DeviceEvidence> {
        self.devices
            .iter()
            .find(|d| d.is_main())
            .or(self.devices.first())
    }

    /// The related IPs as MDE's `/alerts/{id}/ips` listed them: `[{"id": ip}]`.
    pub fn related_ip_list(&self) -> Listing<RelatedIp> {
        self.related_ips
            .iter()
            .map(|ip| RelatedIp { id: ip.ip.clone() })
            .collect()
    }
}

/// Whether `field` names an element of the list `list` at the record's top level.
fn is_item_of(field: &str, list: &str) -> bool {
    field
        .strip_prefix(list)
        .and_then(|rest| rest.strip_prefix('['))
        .is_some_and(|rest| rest.ends_with(']') && !rest.contains('.'))
}

/// The schema's `{comment, createdByDisplayName, createdDateTime}`, or the examples'
/// `createdBy`/`createdTime` (FACTS §3.2).
fn comment(f: &mut Fields<'_>) -> AlertComment {
    AlertComment {
        comment: f.text("comment"),
        created_by: f
            .opt_text("createdByDisplayName")
            .or_else(|| f.opt_text("createdBy")),
        created_time: f.time("createdDateTime").or_else(|| f.time("createdTime")),
    }
}

fn comment_text(comment: String) -> AlertComment {
    AlertComment {
        comment,
        ..AlertComment::default()
    }
}

impl Item for GraphAlert {
    const NOUN: &'static str = "alert";
    fn read(f: &mut Fields<'_>) -> Self {
        GraphAlert::read(f)
    }
    fn id(&self) -> &str {
        &self.alert.id
    }
}

/// Decodes `GET /security/alerts_v2/{id}`. A body that is no object is a Decode error naming
/// what came; inside the object nothing fails.
pub fn decode_alert(body: &[u8]) -> Result<GraphAlert, ApiError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| ApiError::from_json(&e, body))?;
    match &json {
        Value::Object(map) => Ok(read_alert(map)),
        other => Err(not_a(other, "an alert record", body)),
    }
}

fn read_alert(map: &Map<String, Value>) -> GraphAlert {
    read_logged(map, GraphAlert::read).0
}

/// Decodes one `GET /security/alerts_v2` page: `{"value": [...], "@odata.nextLink": "..."}`.
/// The link comes back as [`Next::Follow`] unjudged, as [`crate::defender::client::decode_page`]
/// does: only the client knows the origin to judge it against (same origin, no token to a
/// foreign one). A link that is no string is refused here, with why.
pub fn decode_alert_page(body: &[u8]) -> Result<(Listing<GraphAlert>, Option<Next>), ApiError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| ApiError::from_json(&e, body))?;
    let Value::Object(map) = &json else {
        return Err(not_a(&json, "an object with a 'value' list", body));
    };
    let values = match map.get("value") {
        Some(Value::Array(values)) => values.as_slice(),
        Some(Value::Null) => &[],
        Some(other) => return Err(not_a(other, "a 'value' list", body)),
        None => return Err(not_a(&json, "an object with a 'value' list", body)),
    };
    let next = match map.get("@odata.nextLink") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(Next::Follow(s.clone())),
        Some(other) => Some(Next::Refused {
            link: crate::defender::sanitize::one_line(&other.to_string())
                .chars()
                .take(160)
                .collect(),
            why: format!(
                "a {} instead of a link",
                crate::defender::fields::type_name(other)
            ),
        }),
    };
    Ok((Listing::read_page(values), next))
}
