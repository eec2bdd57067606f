//! The router built from the endpoint facts: every endpoint served at its route, as itself.

use super::*;

/// A path for `route` with every placeholder filled (`{ip}`, findbyip's `{IP}`).
fn filled(route: &str) -> String {
    let mut path = String::new();
    let mut inside = false;
    for c in route.chars() {
        match c {
            '{' => inside = true,
            '}' => {
                inside = false;
                path.push('x');
            }
            _ if !inside => path.push(c),
            _ => {}
        }
    }
    path
}

#[test]
fn findbyip_shares_the_machines_place_as_a_function_call() {
    assert_eq!(
        place(Endpoint::FindByIp.route()),
        (
            "/api/machines/{subject}".to_owned(),
            Subject::Function("findbyip")
        )
    );
    assert_eq!(
        place(Endpoint::IpStats.route()),
        ("/api/ips/{subject}/stats".to_owned(), Subject::Any)
    );
    let served = &places()["/api/machines/{subject}"];
    let args = "ip='10.1.2.3',timestamp=2026-11-20T09:14:22Z";
    assert_eq!(
        pick(served, &format!("findbyip({args})")),
        Some((Endpoint::FindByIp, args))
    );
    for id in ["findbyip", "findbyip(x", "xfindbyip(x)", "ws-fin-07"] {
        assert_eq!(pick(served, id), Some((Endpoint::Machine, id)), "{id}");
    }
}

#[test]
fn every_endpoint_is_picked_at_its_own_place() {
    let places = places();
    for endpoint in Endpoint::ALL {
        let (path, subject) = place(endpoint.route());
        let raw = match subject {
            Subject::Any => "x".to_owned(),
            Subject::Function(name) => format!("{name}(x)"),
        };
        assert_eq!(
            pick(&places[&path], &raw),
            Some((endpoint, "x")),
            "{endpoint:?}"
        );
    }
}

/// Each endpoint's second call in a day is refused on its own budget: every endpoint is
/// routed, gated as itself (not as a neighbour sharing its place), and none is left to 404.
#[tokio::test]
async fn every_endpoint_is_served_at_its_route_on_its_own_budget() {
    crate::tls::install();
    let config = SimConfig {
        limits: "1/24h".parse().expect("a valid window"),
        ..SimConfig::default()
    };
    let sim = crate::sim::start(([127, 0, 0, 1], 0).into(), config)
        .await
        .expect("binds a loopback port");
    let http = reqwest::Client::new();
    for endpoint in Endpoint::ALL {
        let url = format!("{}{}", sim.url, filled(endpoint.route()));
        let mut statuses = Vec::new();
        for _ in 0..2 {
            let answer = http
                .get(&url)
                .bearer_auth(&sim.token)
                .send()
                .await
                .expect("the simulator answers");
            statuses.push(answer.status().as_u16());
        }
        assert_ne!(statuses[0], 429, "{endpoint:?} at {url}: {statuses:?}");
        assert_eq!(statuses[1], 429, "{endpoint:?} at {url}: {statuses:?}");
    }
    sim.shutdown().await;
}
