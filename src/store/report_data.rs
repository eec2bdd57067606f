//! Gathers a case from the database into a [`CaseReport`]: the trail, and for every place and
//! alert in it the latest cached answer with its age, tags and notes. One loop over the case's
//! targets, one arm per kind: a new kind of place is pointed at by the compiler here.

use std::collections::HashMap;
use std::net::IpAddr;

use super::{CaseId, Store, TrailStep};
use crate::case::{Subject, Target};
use crate::defender::{Alert, AlertId, DeviceId, FetchKey};
use crate::report::{
    AlertEntry, CaseReport, Dated, EndpointCalls, Note, PeriodStats, Place, PlaceEntry, PlaceFacts,
    Step,
};

/// A target's tags and notes in this case.
struct Marks {
    tags: Vec<String>,
    notes: Vec<Note>,
}

impl Store {
    pub fn case_report(&self, case: CaseId) -> rusqlite::Result<CaseReport> {
        let (name, meta, created, updated) = self.case_meta(case)?;
        let visits = self.visits(case)?;
        let notes = self.notes(case)?;
        let tags = self.tags(case)?;

        // Every target in order of first appearance: the trail, then anything only noted or
        // tagged. Places come before alerts, whose fields are read from the places' lists.
        let mut order: Vec<Target> = Vec::new();
        let trail = visits.iter().flat_map(|s| {
            let place = s.visit.subject.clone().map(Target::Place);
            place
                .into_iter()
                .chain(s.visit.alert.clone().map(Target::Alert))
        });
        let marked = notes
            .iter()
            .map(|(t, _)| t)
            .chain(tags.iter().map(|(t, _)| t));
        for target in trail.chain(marked.cloned()) {
            if !order.contains(&target) {
                order.push(target);
            }
        }
        order.sort_by_key(|t| matches!(t, Target::Alert(_)));

        let marks = |t: &Target| Marks {
            tags: tags
                .iter()
                .filter(|(x, _)| x == t)
                .map(|(_, tag)| tag.clone())
                .collect(),
            notes: notes
                .iter()
                .filter(|(x, _)| x == t)
                .map(|(_, n)| Note {
                    at: n.at,
                    text: n.text.clone(),
                })
                .collect(),
        };

        let scope = meta.scope.as_str();
        let mut known_alerts: HashMap<String, Alert> = HashMap::new();
        let (mut places, mut alerts) = (Vec::new(), Vec::new());
        for target in &order {
            let marks = marks(target);
            match target {
                Target::Place(subject) => {
                    let facts = match subject {
                        Subject::Ip(ip) => self.ip_facts(scope, *ip, &mut known_alerts)?,
                        Subject::Device(id) => self.device_facts(scope, id)?,
                    };
                    places.push(PlaceEntry {
                        id: subject.id(),
                        facts,
                        tags: marks.tags,
                        notes: marks.notes,
                    });
                }
                Target::Alert(id) => {
                    alerts.push(self.alert_entry(scope, id, &known_alerts, marks)?)
                }
            }
        }

        Ok(CaseReport {
            case: name,
            created,
            updated,
            tenant_id: meta.tenant_id,
            api_host: meta.api_host,
            portal: meta.portal,
            path: visits.iter().map(step).collect(),
            places,
            alerts,
            // The endpoints the case spent calls on: six columns of mostly zeros say less.
            calls: self
                .case_calls(case)?
                .into_iter()
                .filter(|(_, calls)| *calls > 0)
                .map(|(e, calls)| EndpointCalls {
                    endpoint: e.label().to_owned(),
                    calls,
                })
                .collect(),
        })
    }

    /// An IP: its prevalence over each period the analyst looked at (freshest first) and its
    /// alerts, whose fields the alerts of the case are read from.
    fn ip_facts(
        &self,
        scope: &str,
        ip: IpAddr,
        known_alerts: &mut HashMap<String, Alert>,
    ) -> rusqlite::Result<PlaceFacts> {
        let stats = self
            .cached_periods(scope, ip)?
            .into_iter()
            .map(|(look_back, value, as_of)| PeriodStats {
                look_back,
                stats: Dated {
                    value,
                    as_of,
                    caveats: Vec::new(),
                },
            })
            .collect();
        let alerts = match self.response(scope, &FetchKey::IpAlerts(ip))? {
            Some((value, as_of)) => value.into_alerts().map(|mut a| {
                crate::defender::model::newest_first(&mut a);
                for alert in &a {
                    known_alerts
                        .entry(alert.id.clone())
                        .or_insert_with(|| alert.clone());
                }
                Dated {
                    caveats: a.caveats(),
                    value: a.items,
                    as_of,
                }
            }),
            None => None,
        };
        Ok(PlaceFacts::Ip { stats, alerts })
    }

    /// A device: its record as last cached.
    fn device_facts(&self, scope: &str, id: &DeviceId) -> rusqlite::Result<PlaceFacts> {
        let device = match self.response(scope, &FetchKey::Device(id.clone()))? {
            Some((value, as_of)) => value.into_device().map(|value| Dated {
                value: Box::new(value),
                as_of,
                caveats: Vec::new(),
            }),
            None => None,
        };
        Ok(PlaceFacts::Device { device })
    }

    /// An alert: its fields from whichever place's list held it, and its related IPs.
    fn alert_entry(
        &self,
        scope: &str,
        id: &AlertId,
        known_alerts: &HashMap<String, Alert>,
        Marks { tags, notes }: Marks,
    ) -> rusqlite::Result<AlertEntry> {
        let ips = match self.response(scope, &FetchKey::AlertIps(id.clone()))? {
            Some((value, as_of)) => value.into_ips().map(|list| Dated {
                caveats: list.caveats(),
                value: list.items.into_iter().map(|i| i.id).collect(),
                as_of,
            }),
            None => None,
        };
        Ok(AlertEntry {
            id: id.to_string(),
            alert: known_alerts.get(id.as_str()).cloned(),
            ips,
            tags,
            notes,
        })
    }
}

/// A step of the trail: its place under its kind, for each format to name.
fn step(s: &TrailStep) -> Step {
    Step {
        at: s.at,
        place: s.visit.subject.as_ref().map(Place::from),
        alert: s.visit.alert.as_ref().map(ToString::to_string),
    }
}

#[cfg(test)]
mod tests;
