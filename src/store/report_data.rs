//! Gathers a case from the database into a [`CaseReport`]: the trail, and for every IP and
//! alert in it the latest cached answer with its age, tags and notes.

use std::collections::HashMap;

use super::{CaseId, Store};
use crate::case::Target;
use crate::defender::{Alert, FetchKey, FetchValue, parse_alert_id};
use crate::report::{
    AlertEntry, CaseReport, Dated, EndpointCalls, IpEntry, Note, PeriodStats, Step,
};

impl Store {
    pub fn case_report(&self, case: CaseId) -> rusqlite::Result<CaseReport> {
        let (name, meta, created, updated) = self.case_meta(case)?;
        let visits = self.visits(case)?;
        let notes = self.notes(case)?;
        let tags = self.tags(case)?;

        // IPs and alerts in order of first appearance: the trail, then anything only noted or
        // tagged.
        let mut ip_order: Vec<String> = Vec::new();
        let mut alert_order: Vec<String> = Vec::new();
        let push = |list: &mut Vec<String>, id: &str| {
            if !list.iter().any(|x| x == id) {
                list.push(id.to_owned());
            }
        };
        for (_, ip, alert) in &visits {
            if let Some(ip) = ip {
                push(&mut ip_order, ip);
            }
            if let Some(a) = alert {
                push(&mut alert_order, a);
            }
        }
        for target in notes
            .iter()
            .map(|(t, _)| t)
            .chain(tags.iter().map(|(t, _)| t))
        {
            match target {
                Target::Ip(ip) => push(&mut ip_order, &ip.to_string()),
                Target::Alert(id) => push(&mut alert_order, id.as_str()),
            }
        }

        let notes_of = |t: &Target| -> Vec<Note> {
            notes
                .iter()
                .filter(|(x, _)| x == t)
                .map(|(_, n)| Note {
                    at: n.at,
                    text: n.text.clone(),
                })
                .collect()
        };
        let tags_of = |t: &Target| -> Vec<String> {
            tags.iter()
                .filter(|(x, _)| x == t)
                .map(|(_, tag)| tag.clone())
                .collect()
        };

        let mut known_alerts: HashMap<String, Alert> = HashMap::new();
        let mut ips = Vec::new();
        for ip_text in &ip_order {
            let Ok(ip) = ip_text.parse() else { continue };
            // Each period the analyst looked at, freshest first.
            let stats: Vec<PeriodStats> = self
                .cached_periods(&meta.scope, ip)?
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
            let alerts = match self.response(&meta.scope, &FetchKey::IpAlerts(ip))? {
                Some((FetchValue::Alerts(mut a), as_of)) => {
                    crate::defender::model::newest_first(&mut a);
                    for alert in &a {
                        known_alerts
                            .entry(alert.id.clone())
                            .or_insert_with(|| alert.clone());
                    }
                    Some(Dated {
                        caveats: a.caveats(),
                        value: a.items,
                        as_of,
                    })
                }
                _ => None,
            };
            let target = Target::Ip(ip);
            ips.push(IpEntry {
                ip: ip_text.clone(),
                stats,
                alerts,
                tags: tags_of(&target),
                notes: notes_of(&target),
            });
        }

        let mut alerts = Vec::new();
        for id_text in &alert_order {
            let Ok(id) = parse_alert_id(id_text) else {
                continue;
            };
            let related = match self.response(&meta.scope, &FetchKey::AlertIps(id.clone()))? {
                Some((FetchValue::Ips(list), as_of)) => Some(Dated {
                    caveats: list.caveats(),
                    value: list.items.into_iter().map(|i| i.id).collect(),
                    as_of,
                }),
                _ => None,
            };
            let target = Target::Alert(id);
            alerts.push(AlertEntry {
                id: id_text.clone(),
                alert: known_alerts.get(id_text).cloned(),
                ips: related,
                tags: tags_of(&target),
                notes: notes_of(&target),
            });
        }

        Ok(CaseReport {
            case: name,
            created,
            updated,
            tenant_id: meta.tenant_id,
            api_host: meta.api_host,
            portal: meta.portal,
            path: visits
                .into_iter()
                .map(|(at, ip, alert)| Step { at, ip, alert })
                .collect(),
            ips,
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
}
