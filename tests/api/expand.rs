//! `expand` against the simulator: each node once, depth honoured, `--max-calls` a hard stop,
//! seeds from stdin; and the real binary's JSON lines.

use crate::support;
use crate::support::sim_with;

use std::collections::HashSet;
use std::io::Write as _;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use mde_triage::commands::expand::{Node, Options, Summary, extract_seeds, read_seeds, walk};
use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::fetch::{RateLimits, SchedulerConfig, spawn};
use mde_triage::sim::{SimConfig, SimHandle};
use serde_json::Value;
use support::{DOC_IP, ip};

/// Walks against `sim` and returns the nodes as JSON values.
pub(crate) async fn expand(
    sim: &SimHandle,
    seeds: &[IpAddr],
    options: Options,
) -> (Vec<Value>, Summary) {
    expand_at(&sim.url, &sim.token, seeds, options).await
}

/// Walks against the API at `url` (the simulator, or canned answers).
pub(crate) async fn expand_at(
    url: &str,
    token: &str,
    seeds: &[IpAddr],
    options: Options,
) -> (Vec<Value>, Summary) {
    let client = Client::new(
        ClientConfig {
            base_url: url.to_owned(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(token)),
    )
    .unwrap();
    let limits = RateLimits::default();
    let (fetch, mut events) = spawn(
        Arc::new(client),
        SchedulerConfig {
            limits: limits.clone(),
            ..SchedulerConfig::default()
        },
    );
    let mut nodes = Vec::new();
    let summary = walk(
        &fetch,
        &mut events,
        seeds,
        options,
        |n: &Node| nodes.push(serde_json::to_value(n).unwrap()),
        |_| {},
        std::future::pending(),
    )
    .await;
    (nodes, summary)
}

pub(crate) fn of_type<'a>(nodes: &'a [Value], t: &str) -> Vec<&'a Value> {
    nodes.iter().filter(|n| n["type"] == t).collect()
}

#[tokio::test]
async fn depth_two_over_the_demo_story_visits_each_node_once() {
    let sim = sim_with(SimConfig::default()).await;
    let (nodes, summary) = expand(
        &sim,
        &[ip(DOC_IP)],
        Options {
            depth: 2,
            max_calls: None,
            limits: RateLimits::default(),
            reserve: 0.2,
            look_back: mde_triage::defender::LookBack::MONTH,
            via_devices: false,
        },
    )
    .await;
    let ips: Vec<&str> = of_type(&nodes, "ip")
        .iter()
        .map(|n| n["ip"].as_str().unwrap())
        .collect();
    let alerts: Vec<&str> = of_type(&nodes, "alert")
        .iter()
        .map(|n| n["alert"].as_str().unwrap())
        .collect();
    assert_eq!(
        ips.len(),
        ips.iter().collect::<HashSet<_>>().len(),
        "IPs once"
    );
    assert_eq!(
        alerts.len(),
        alerts.iter().collect::<HashSet<_>>().len(),
        "alerts once"
    );
    // Depth 0: the seed; 1: its alerts' IPs; 2: theirs (the rare shared IP and the IPv6 host).
    let depth_of = |ip: &str| {
        of_type(&nodes, "ip")
            .into_iter()
            .find(|n| n["ip"] == ip)
            .map(|n| n["depth"].as_u64().unwrap())
    };
    assert_eq!(depth_of(DOC_IP), Some(0));
    assert_eq!(depth_of("104.80.104.128"), Some(1));
    assert_eq!(depth_of("10.20.30.40"), Some(1));
    assert_eq!(depth_of("203.0.113.66"), Some(2));
    assert_eq!(depth_of("2001:db8:4a1c::17"), Some(2));
    // IPs at the last depth are looked up but their alerts are not opened.
    let last: HashSet<&str> = ["203.0.113.66", "2001:db8:4a1c::17"].into();
    let opened_from_last = of_type(&nodes, "alert")
        .iter()
        .filter(|a| a["depth"] == 2)
        .count();
    assert_eq!(opened_from_last, 0, "{last:?}");
    // Every request the walk made reached the simulator exactly once.
    let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len() as u64, summary.requested);
    assert_eq!(paths.len(), paths.iter().collect::<HashSet<_>>().len());
    assert_eq!(summary.nodes as usize, nodes.len());
    let seed = &of_type(&nodes, "ip")[0];
    assert_eq!(seed["stats"]["prevalence"], 63515);
    sim.shutdown().await;
}

#[tokio::test]
async fn max_calls_is_a_hard_stop() {
    let sim = sim_with(SimConfig::default()).await;
    let (nodes, summary) = expand(
        &sim,
        &[ip(DOC_IP)],
        Options {
            depth: 3,
            max_calls: Some(5),
            limits: RateLimits::default(),
            reserve: 0.2,
            look_back: mde_triage::defender::LookBack::MONTH,
            via_devices: false,
        },
    )
    .await;
    assert_eq!(sim.requests().len(), 5);
    assert_eq!(summary.requested, 5);
    assert!(summary.skipped > 0);
    assert!(!nodes.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn errors_become_part_of_the_node() {
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    let (nodes, _) = expand(
        &sim,
        &[ip(DOC_IP)],
        Options {
            depth: 1,
            max_calls: None,
            limits: RateLimits::default(),
            reserve: 0.2,
            look_back: mde_triage::defender::LookBack::MONTH,
            via_devices: false,
        },
    )
    .await;
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["stats"]["prevalence"], 63515);
    let error = nodes[0]["error"].as_str().unwrap();
    assert!(error.starts_with("alerts: access denied"), "{error}");
    sim.shutdown().await;
}

#[test]
fn seeds_from_stdin_skip_comments_and_blanks_and_accept_defanged_forms() {
    let stdin =
        "# from the ticket\n\n10[.]209[.]67[.]177\n 203.0.113.66  # shared\n2001[:]db8[:][:]1\n";
    let seeds = read_seeds(&["-".into()], stdin.as_bytes()).unwrap();
    assert_eq!(seeds, [ip(DOC_IP), ip("203.0.113.66"), ip("2001:db8::1")]);
    let err = read_seeds(&["-".into()], "10.0.0.1\nnope\n".as_bytes()).unwrap_err();
    assert!(err.message.contains("stdin line 2"), "{}", err.message);
    assert_eq!(err.code, 2);
    assert!(read_seeds(&["-".into()], "# nothing\n".as_bytes()).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_writes_json_lines_and_plans_without_calling() {
    let sim = sim_with(SimConfig::default()).await;
    let run = |args: Vec<&'static str>, stdin: &'static str| {
        let (url, token) = (sim.url.clone(), sim.token.clone());
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_mde-triage"))
                .envs(support::isolated_env())
                .args(args)
                .env("MDE_API_URL", url)
                .env("MDE_TOKEN", token)
                .env("MDE_TRIAGE_LOG", "off")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(stdin.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
    };
    let plan = run(
        vec!["expand", "--plan", "-"],
        "10.209.67.177\n203.0.113.66\n",
    )
    .await
    .unwrap();
    assert!(plan.status.success());
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("2 seed IP(s) cost 4 calls"), "{text}");
    assert!(
        text.contains("80/1m,1200/1h of the 100/1m,1500/1h"),
        "{text}"
    );
    let plan = run(
        vec![
            "--rate-limit",
            "10/5s",
            "--reserve",
            "0.5",
            "expand",
            "--plan",
            "10.0.0.1",
        ],
        "",
    )
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("may use 5/5s of the 10/5s"), "{text}");
    assert!(sim.requests().is_empty(), "--plan calls nothing");

    let out = run(vec!["expand", "10[.]209[.]67[.]177", "--depth", "1"], "")
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    assert_eq!(lines[0]["type"], "ip");
    assert_eq!(lines[0]["depth"], 0);
    assert!(lines.iter().any(|n| n["type"] == "alert"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nodes,") && stderr.contains("calls"),
        "{stderr}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_cleanly_and_keeps_what_was_written() {
    // Slow answers and a tight budget: the walk is still going when the signal comes.
    let sim = sim_with(SimConfig {
        latency: Duration::from_millis(200),
        ..SimConfig::default()
    })
    .await;
    let (url, token) = (sim.url.clone(), sim.token.clone());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mde-triage"))
            .envs(support::isolated_env())
            .args(["--rate-limit", "2/1m", "expand", DOC_IP, "--depth", "3"])
            .env("MDE_API_URL", url)
            .env("MDE_TOKEN", token)
            .env("MDE_TRIAGE_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for the first node on stdout, then interrupt.
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        let output = child.wait_with_output().unwrap();
        (first, rest, output)
    })
    .await
    .unwrap();
    let (first, rest, output) = out;
    assert_eq!(output.status.code(), Some(130));
    let node: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(node["ip"], DOC_IP);
    for line in rest.lines() {
        serde_json::from_str::<Value>(line).expect("every line written is whole");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    sim.shutdown().await;
}

#[test]
fn extract_takes_every_ip_of_a_ticket_as_seeds_in_order_once() {
    let ticket = "Hi,\r\nbeacons to 185[.]220[.]101[.]4 and hxxp://45.9.148.114:8080/g # see \
                  above\r\nagain 185.220.101.4; the range 10.0.0.0/8 is ours\r\n";
    let seeds = extract_seeds(&["-".into()], ticket.as_bytes()).unwrap();
    assert_eq!(seeds, [ip("185.220.101.4"), ip("45.9.148.114")]);
    // Arguments are text too, read after stdin.
    let seeds = extract_seeds(
        &["-".into(), "::ffff:10.209.67.177".into()],
        ticket.as_bytes(),
    )
    .unwrap();
    assert_eq!(seeds.last(), Some(&ip(DOC_IP)));
    let err = extract_seeds(&["-".into()], "no address here, 10.0.0.0/8".as_bytes()).unwrap_err();
    assert_eq!(err.code, 2);
}
