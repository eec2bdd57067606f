//! The report as the store gathers it: a device in every format, and one golden case of
//! every kind of place, interleaved, pinned in each format.

use chrono::{TimeZone as _, Utc};

use crate::case::{Subject, Target, Visit};
use crate::defender::{Device, FetchKey, FetchValue, parse_device_id};
use crate::report::{Format, Place, PlaceEntry, render};
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
    let target = Target::Place(Subject::Device(parse_device_id(id).unwrap()));
    store
        .record_visit(
            case,
            &Visit::place(Subject::Device(parse_device_id(id).unwrap())),
            at,
        )
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
    let places: Vec<_> = report.places.iter().map(PlaceEntry::place).collect();
    assert_eq!(places, vec![Place::Device(id.into())]);
    assert_eq!(report.path[0].place, Some(Place::Device(id.into())));
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
    let json: serde_json::Value = serde_json::from_str(&render(&report, Format::Json, at)).unwrap();
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

/// Places of both kinds, interleaved on the trail, each with what a report can say of it, and
/// alerts opened at a place or on their own: every section, row and step of each format,
/// pinned. The kinds' sections keep their order (IPs, alerts, devices) whatever the visits'.
#[test]
fn a_case_of_every_kind_of_place_is_golden_in_every_format() {
    use crate::defender::{Alert, IpStats, LookBack, RelatedIp, parse_alert_id};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("g.db")).unwrap().store;
    let t = |m: u32| Utc.with_ymd_and_hms(2026, 11, 23, 9, m, 0).unwrap();
    let meta = CaseMeta {
        scope: "s".into(),
        api_host: "api.security.microsoft.com".into(),
        portal: "https://security.microsoft.com".into(),
        tenant_id: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
    };
    let case = store.open_case("INC-9", &meta, t(0)).unwrap();
    let ws = Subject::Device(parse_device_id("4f1e0c9a3b7d2e8f6a5c1b9d0e3f7a2c4b6d8e0f").unwrap());
    let srv = Subject::Device(parse_device_id("srv-build-02").unwrap());
    let ip = Subject::Ip("10.0.0.1".parse().unwrap());
    let v6 = Subject::Ip("2001:db8::7".parse().unwrap());
    let quiet = Subject::Ip("23.203.232.228".parse().unwrap());
    let alert = |id: &str| parse_alert_id(id).unwrap();
    let visits = [
        Visit::place(ws.clone()),
        Visit::place(ip.clone()),
        Visit {
            subject: Some(ip.clone()),
            alert: Some(alert("da1_1")),
        },
        Visit {
            subject: Some(ws.clone()),
            alert: Some(alert("da2_2")),
        },
        Visit::place(v6.clone()),
        Visit::alert(alert("da3_3")),
    ];
    for (i, v) in visits.iter().enumerate() {
        store.record_visit(case, v, t(1 + i as u32)).unwrap();
    }
    let mark = |s: &Subject| Target::Place(s.clone());
    store.add_note(case, &mark(&ws), "isolated", t(10)).unwrap();
    store
        .set_tag(case, &mark(&ws), "compromised", true, t(11))
        .unwrap();
    store.set_tag(case, &mark(&ip), "c2", true, t(12)).unwrap();
    store
        .add_note(case, &mark(&srv), "same build agent", t(13))
        .unwrap();
    store
        .set_tag(case, &mark(&quiet), "benign", true, t(14))
        .unwrap();
    store
        .add_note(case, &Target::Alert(alert("da1_1")), "true positive", t(15))
        .unwrap();

    let put = |key: FetchKey, value: FetchValue, m: u32| {
        store.put_response("s", &key, &value, t(m)).unwrap();
    };
    let Subject::Ip(addr) = ip else {
        unreachable!()
    };
    let stats = IpStats {
        organization_prevalence: Some(42),
        org_first_seen: Some(t(0) - chrono::Duration::days(30)),
        org_last_seen: Some(t(0)),
        ..IpStats::default()
    };
    put(
        FetchKey::IpStats(addr, LookBack::MONTH),
        FetchValue::Stats(Some(stats)),
        2,
    );
    put(
        FetchKey::IpStats(addr, LookBack::DAY),
        FetchValue::Stats(None),
        3,
    );
    let found = Alert {
        id: "da1_1".into(),
        title: "Beacon to a rare host".into(),
        computer_dns_name: Some("ws-fin-07.contoso.local".into()),
        alert_creation_time: Some(t(0)),
        ..Alert::default()
    };
    put(
        FetchKey::IpAlerts(addr),
        FetchValue::Alerts(vec![found].into()),
        2,
    );
    put(
        FetchKey::AlertIps(alert("da1_1")),
        FetchValue::Ips(
            vec![RelatedIp {
                id: "10.0.0.1".into(),
            }]
            .into(),
        ),
        3,
    );
    let Subject::Device(ws_id) = &ws else {
        unreachable!()
    };
    let record = Device {
        id: ws_id.to_string(),
        computer_dns_name: Some("ws-fin-07.contoso.local".into()),
        os_platform: Some("Windows11".into()),
        health_status: Some("Active".into()),
        risk_score: Some("High".into()),
        last_ip_address: Some("10.0.0.1".into()),
        machine_tags: vec!["finance".into()],
        first_seen: Some(t(0) - chrono::Duration::days(90)),
        last_seen: Some(t(0)),
        ..Device::default()
    };
    put(
        FetchKey::Device(ws_id.clone()),
        FetchValue::Device(Box::new(record)),
        1,
    );

    let report = store.case_report(case).unwrap();
    let now = t(30);
    insta::assert_snapshot!("places_md", render(&report, Format::Markdown, now));
    insta::assert_snapshot!("places_json", render(&report, Format::Json, now));
    insta::assert_snapshot!("places_csv", render(&report, Format::Csv, now));
}
