//! Gathers a case from the database into a [`CaseReport`]: the trail, and for every IP and
//! alert in it the latest cached answer with its age, tags and notes.

use std::collections::HashMap;

use super::{CaseId, Store};
use crate::case::Target;
use crate::defender::{Alert, FetchKey, FetchValue, parse_alert_id};
use crate::report::{
    AlertEntry, CaseReport, Dated, DeviceEntry, EndpointCalls, IpEntry, Note, PeriodStats, Step,
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
        let mut device_order: Vec<String> = Vec::new();
        let push = |list: &mut Vec<String>, id: &str| {
            if !list.iter().any(|x| x == id) {
                list.push(id.to_owned());
            }
        };
        for (_, ip, alert, device) in &visits {
            if let Some(ip) = ip {
                push(&mut ip_order, ip);
            }
            if let Some(a) = alert {
                push(&mut alert_order, a);
            }
            if let Some(d) = device {
                push(&mut device_order, d);
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
                Target::Device(id) => push(&mut device_order, id.as_str()),
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

        let mut devices = Vec::new();
        for id_text in &device_order {
            let Ok(id) = crate::defender::parse_device_id(id_text) else {
                continue;
            };
            let device = match self.response(&meta.scope, &FetchKey::Device(id.clone()))? {
                Some((FetchValue::Device(d), as_of)) => Some(Dated {
                    value: *d,
                    as_of,
                    caveats: Vec::new(),
                }),
                _ => None,
            };
            let target = Target::Device(id);
            devices.push(DeviceEntry {
                id: id_text.clone(),
                device,
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
                .map(|(at, ip, alert, device)| Step {
                    at,
                    ip,
                    alert,
                    device,
                })
                .collect(),
            ips,
            alerts,
            devices,
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use crate::case::Target;
    use crate::defender::{Device, FetchKey, FetchValue, parse_device_id};
    use crate::report::{Format, render};
    use crate::store::{CaseMeta, Store};

    /// A device's page, a note and a tag on it, and its cached record: each format has the
    /// device, and the path has its step, with a link to its portal page.
    #[test]
    fn a_device_of_the_case_is_in_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap().store;
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap();
        let meta = CaseMeta {
            scope: "s".into(),
            api_host: "api".into(),
            portal: "https://security.microsoft.com".into(),
            tenant_id: None,
        };
        let case = store.open_case("INC-7", &meta, at).unwrap();
        let id = "4f1e0c9a3b7d2e8f6a5c1b9d0e3f7a2c4b6d8e0f";
        let target = Target::Device(parse_device_id(id).unwrap());
        store
            .record_visit(case, (None, None, Some(id)), at)
            .unwrap();
        store
            .add_note(case, &target, "isolated at 11:45", at)
            .unwrap();
        store
            .set_tag(case, &target, "compromised", true, at)
            .unwrap();
        let record = Device {
            id: id.into(),
            computer_dns_name: Some("ws-fin-07.contoso.local".into()),
            health_status: Some("Active".into()),
            ..Device::default()
        };
        store
            .put_response(
                "s",
                &FetchKey::Device(parse_device_id(id).unwrap()),
                &FetchValue::Device(Box::new(record)),
                at,
            )
            .unwrap();
        let report = store.case_report(case).unwrap();
        assert_eq!(report.devices.len(), 1);
        assert_eq!(report.path[0].device.as_deref(), Some(id));
        let link = format!("https://security.microsoft.com/machines/v2/{id}/overview");
        let md = render(&report, Format::Markdown, at);
        assert!(
            md.contains("## Devices") && md.contains("ws-fin-07[.]contoso[.]local"),
            "{md}"
        );
        assert!(md.contains(&link) && md.contains("compromised"), "{md}");
        assert!(
            md.contains("isolated at 11:45") && md.contains("health Active"),
            "{md}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(&report, Format::Json, at)).unwrap();
        assert_eq!(json["path"][0]["device"], id);
        assert_eq!(json["devices"][0]["name"], "ws-fin-07.contoso.local");
        assert_eq!(json["devices"][0]["tags"][0], "compromised");
        assert_eq!(
            json["devices"][0]["record"]["device"]["healthStatus"],
            "Active"
        );
        let csv = render(&report, Format::Csv, at);
        let row = csv
            .lines()
            .find(|l| l.starts_with("\"device\""))
            .expect("a device row");
        assert!(row.contains(id) && row.contains("compromised"), "{row}");
    }
}
