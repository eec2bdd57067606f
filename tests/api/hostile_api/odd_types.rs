//! For every field of the alert model and every JSON type in its place, the rest of the list
//! survives and the count of unread elements is right.

use chrono::{TimeZone, Utc};
use mde_triage::defender::client::decode_page;
use mde_triage::defender::model::{AlertComment, Evidence, RelatedUser};
use mde_triage::defender::{Alert, FetchKey, FetchValue, Severity, Status};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Every field set: a struct literal without `..`, so a new field must be added here.
fn full() -> Alert {
    let t = Utc.with_ymd_and_hms(2026, 11, 20, 9, 14, 0).unwrap();
    Alert {
        id: "da000001_1".into(),
        title: "Suspicious connection".into(),
        description: "A process connected out".into(),
        severity: Severity::High,
        status: Status::New,
        category: Some("CommandAndControl".into()),
        classification: Some("TruePositive".into()),
        determination: Some("Malware".into()),
        investigation_state: Some("Running".into()),
        detection_source: Some("WindowsDefenderAtp".into()),
        threat_family_name: Some("Cobalt".into()),
        threat_name: Some("Beacon".into()),
        assigned_to: Some("analyst@contoso.com".into()),
        machine_id: Some("m1".into()),
        computer_dns_name: Some("ws-1.contoso.com".into()),
        rbac_group_name: Some("Servers".into()),
        aad_tenant_id: Some("t1".into()),
        incident_id: Some(4242),
        investigation_id: Some(7),
        alert_creation_time: Some(t),
        first_event_time: Some(t),
        last_event_time: Some(t),
        last_update_time: Some(t),
        resolved_time: Some(t),
        mitre_techniques: vec!["T1059".into()],
        related_user: Some(RelatedUser {
            user_name: Some("bob".into()),
            domain_name: Some("CONTOSO".into()),
        }),
        comments: vec![AlertComment {
            comment: "seen".into(),
            created_by: Some("amy".into()),
            created_time: Some(t),
        }],
        evidence: vec![Evidence {
            entity_type: Some("File".into()),
            file_name: Some("a.exe".into()),
            ..Evidence::default()
        }],
    }
}

fn full_json() -> serde_json::Map<String, Value> {
    match serde_json::to_value(full()).unwrap() {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(42),
        json!(-1.5),
        json!("text"),
        json!("4242"),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({"x": {"y": [1]}}),
    ]
}

fn decode(list: &[Value]) -> mde_triage::defender::Listing<Alert> {
    let body = json!({ "value": list }).to_string();
    let key = FetchKey::IpAlerts("10.1.2.3".parse().unwrap());
    match decode_page(&key, body.as_bytes()).unwrap().value {
        FetchValue::Alerts(l) => l,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_model_reads_back_what_it_writes() {
    let list = decode(&[Value::Object(full_json())]);
    assert_eq!(list.items, [full()]);
}

/// One element of a generated list: a clean alert, the odd one, or something that is no
/// record at all.
#[derive(Debug, Clone)]
enum Element {
    Clean,
    Odd,
    NotARecord(Value),
}

fn element() -> impl Strategy<Value = Element> {
    prop_oneof![
        3 => Just(Element::Clean),
        1 => prop::sample::select(vec![
            json!("an alert?"), json!(5), json!(false), json!([{"id": "x"}]), Value::Null,
        ])
        .prop_map(Element::NotARecord),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn one_odd_field_costs_only_that_field(
        field in prop::sample::select(full_json().keys().cloned().collect::<Vec<_>>()),
        odd in prop::sample::select(odd_values()),
        mut elements in prop::collection::vec(element(), 0..8),
        at in any::<prop::sample::Index>(),
    ) {
        elements.insert(at.index(elements.len() + 1), Element::Odd);
        let mut json = Vec::new();
        for (i, e) in elements.iter().enumerate() {
            let mut record = full_json();
            record.insert("id".into(), json!(format!("da{i:06}_1")));
            json.push(match e {
                Element::Clean => Value::Object(record),
                Element::Odd => {
                    record.insert(field.clone(), odd.clone());
                    Value::Object(record)
                }
                Element::NotARecord(v) => v.clone(),
            });
        }
        let list = decode(&json);
        let records = elements.iter().filter(|e| !matches!(e, Element::NotARecord(_))).count();
        prop_assert_eq!(list.items.len(), records);
        prop_assert_eq!(list.unread.len(), elements.len() - records);
        prop_assert_eq!(list.repeats, 0);
        let mut items = list.items.iter();
        for (i, e) in elements.iter().enumerate() {
            let expected_id = format!("da{i:06}_1");
            match e {
                Element::Clean => {
                    let got = items.next().unwrap();
                    prop_assert_eq!(got, &Alert { id: expected_id, ..full() });
                }
                Element::Odd => {
                    // Every other field is exactly the clean reading.
                    let got = serde_json::to_value(items.next().unwrap()).unwrap();
                    let mut want = full_json();
                    want.insert("id".into(), json!(expected_id));
                    for (k, v) in want {
                        if k != field {
                            prop_assert_eq!(&got[&k], &v, "field {} after odd {}", k, field);
                        }
                    }
                }
                Element::NotARecord(_) => {}
            }
        }
    }
}
