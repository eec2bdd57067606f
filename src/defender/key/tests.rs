//! The endpoint facts and request keys, checked.

use super::*;

#[test]
fn all_lists_each_endpoint_at_its_own_index() {
    for (i, e) in Endpoint::ALL.into_iter().enumerate() {
        assert_eq!(e as usize, i, "{e:?}");
    }
}

#[test]
fn names_are_distinct_from_each_other_and_read_back() {
    for e in Endpoint::ALL {
        assert_eq!(Endpoint::from_name(e.name()), Some(e));
        let same = Endpoint::ALL
            .iter()
            .filter(|o| o.name() == e.name())
            .count();
        assert_eq!(same, 1, "{e:?}");
    }
    assert_eq!(
        Endpoint::from_name("ip-alerts"),
        None,
        "a label is not a name"
    );
}

#[test]
fn each_endpoint_s_facts_are_those_facts_md_documents() {
    use Endpoint::*;
    // FACTS.md sections 1-3: the permission, and whether a 404 is an answer.
    // One row per endpoint, checked when it compiles: a new endpoint does not build until its
    // facts are written here.
    let facts: [(Endpoint, &str, &str, bool); Endpoint::ALL.len()] = [
        (IpStats, "/api/ips/{ip}/stats", "Ip.Read.All", true),
        (IpAlerts, "/api/ips/{ip}/alerts", "Alert.Read.All", false),
        (AlertIps, "/api/alerts/{id}/ips", "Ip.Read.All", false),
        (Machine, "/api/machines/{id}", "Machine.Read.All", false),
        (
            MachineAlerts,
            "/api/machines/{id}/alerts",
            "Alert.Read.All",
            false,
        ),
        (
            FindByIp,
            "/api/machines/findbyip(ip='{IP}',timestamp={TimeStamp})",
            "Machine.Read.All",
            true,
        ),
        // FACTS.md section 1, "Get alert": 404 if not found.
        (Alert, "/api/alerts/{id}", "Alert.Read.All", false),
    ];
    let listed: Vec<Endpoint> = facts.iter().map(|f| f.0).collect();
    assert_eq!(listed, Endpoint::ALL, "each endpoint once, in order");
    for (e, route, permission, answer) in facts {
        assert_eq!(e.route(), route, "{e:?}");
        assert_eq!(e.permission(), permission, "{e:?}");
        let is_answer = matches!(e.not_found(), NotFound::Answer(_));
        assert_eq!(is_answer, answer, "{e:?}");
    }
}

#[test]
fn segments_fill_the_route_with_the_subject() {
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let id = super::super::input::parse_alert_id("da1_2").unwrap();
    assert_eq!(
        FetchKey::IpStats(ip, LookBack::WEEK).segments(),
        ["api", "ips", "192.0.2.1", "stats"]
    );
    assert_eq!(
        FetchKey::IpAlerts(ip).segments(),
        ["api", "ips", "192.0.2.1", "alerts"]
    );
    assert_eq!(
        FetchKey::AlertIps(id.clone()).segments(),
        ["api", "alerts", "da1_2", "ips"]
    );
    assert_eq!(FetchKey::Alert(id).segments(), ["api", "alerts", "da1_2"]);
    let dev = super::super::input::parse_device_id("1e5bc9d7").unwrap();
    assert_eq!(
        FetchKey::Device(dev.clone()).segments(),
        ["api", "machines", "1e5bc9d7"]
    );
    assert_eq!(
        FetchKey::DeviceAlerts(dev).segments(),
        ["api", "machines", "1e5bc9d7", "alerts"]
    );
    let at = UtcSecond::new("2026-11-20T09:14:00.5Z".parse().unwrap());
    assert_eq!(
        FetchKey::DevicesAt("10.248.240.38".parse().unwrap(), at).segments(),
        [
            "api",
            "machines",
            "findbyip(ip='10.248.240.38',timestamp=2026-11-20T09:14:00Z)"
        ]
    );
}

#[test]
fn stats_keys_differ_by_period_in_the_query_and_the_stored_subject() {
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let two_days = LookBack::from_hours(48).unwrap();
    let week = FetchKey::IpStats(ip, LookBack::WEEK);
    let month = FetchKey::IpStats(ip, LookBack::MONTH);
    assert_ne!(week, month);
    assert_eq!(week.query(), [("lookBackHours", "168".to_owned())]);
    assert_eq!(month.query(), [("lookBackHours", "720".to_owned())]);
    assert_eq!(week.stored_subject(), "192.0.2.1@168h");
    assert_eq!(
        FetchKey::IpStats(ip, two_days).stored_subject(),
        "192.0.2.1@48h"
    );
    // What builds before periods stored: their rows were 30-day answers.
    assert_eq!(month.stored_subject(), "192.0.2.1");
    assert_eq!(FetchKey::IpAlerts(ip).stored_subject(), "192.0.2.1");
    assert!(FetchKey::IpAlerts(ip).query().is_empty());
    assert_eq!(week.to_string(), "stats of 192.0.2.1 over 7d");
}

/// Keys that ask different things of `e`: an exhaustive match, so a new endpoint does not
/// compile here until it names the keys its cache rows must tell apart.
fn distinct_keys_of(e: Endpoint) -> Vec<FetchKey> {
    let ips: [IpAddr; 2] = ["192.0.2.1".parse().unwrap(), "10.0.0.1".parse().unwrap()];
    let alerts = ["da1_2", "da3_4"].map(|a| super::super::input::parse_alert_id(a).unwrap());
    let devices =
        ["1e5bc9d7", "ws-fin-07"].map(|d| super::super::input::parse_device_id(d).unwrap());
    match e {
        Endpoint::IpStats => ips
            .iter()
            .flat_map(|ip| {
                let two_days = LookBack::from_hours(48).unwrap();
                [LookBack::DAY, two_days, LookBack::WEEK, LookBack::MONTH]
                    .map(|p| FetchKey::IpStats(*ip, p))
            })
            .collect(),
        Endpoint::IpAlerts => ips.map(FetchKey::IpAlerts).into(),
        Endpoint::AlertIps => alerts.map(FetchKey::AlertIps).into(),
        Endpoint::Machine => devices.map(FetchKey::Device).into(),
        Endpoint::MachineAlerts => devices.map(FetchKey::DeviceAlerts).into(),
        Endpoint::FindByIp => ips
            .iter()
            .flat_map(|ip| {
                ["2026-11-20T09:14:00Z", "2026-11-20T09:15:00Z"]
                    .map(|t| FetchKey::DevicesAt(*ip, UtcSecond::new(t.parse().unwrap())))
            })
            .collect(),
        Endpoint::Alert => alerts.map(FetchKey::Alert).into(),
    }
}

#[test]
fn different_questions_never_share_a_cache_row() {
    let keys: Vec<FetchKey> = Endpoint::ALL
        .into_iter()
        .flat_map(distinct_keys_of)
        .collect();
    let mut rows = std::collections::HashMap::new();
    for key in &keys {
        assert!(distinct_keys_of(key.endpoint()).contains(key), "{key:?}");
        let row = (key.endpoint().name(), key.stored_subject());
        if let Some(other) = rows.insert(row.clone(), key) {
            panic!("{other} and {key} share the row {row:?}");
        }
    }
}
