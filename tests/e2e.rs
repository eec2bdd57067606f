//! End to end: the real loop (`tui::run`) with scripted keys, the real scheduler and HTTP client,
//! against the simulator on 127.0.0.1:0. Waits on screen text and the simulator's request log,
//! never on bare sleeps.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use mde_triage::app::{Remote, State};
use mde_triage::commands::console::{Wired, wire};
use mde_triage::commands::session::Persistence;
use mde_triage::defender::client::{Client, ClientConfig, StaticToken};
use mde_triage::defender::{Call, FetchKey, FetchValue, Transport};
use mde_triage::fetch::{SchedulerConfig, spawn};
use mde_triage::sim::{self, SimConfig};
use ratatui::Terminal;
use support::watched::WatchedBackend;
use support::*;
use tokio::sync::{mpsc, watch};

struct Console {
    keys: mpsc::UnboundedSender<std::io::Result<Event>>,
    screen: watch::Receiver<String>,
    run: tokio::task::JoinHandle<anyhow::Result<State>>,
}

impl Console {
    fn start(sim: &sim::SimHandle) -> Self {
        let client = Client::new(
            ClientConfig {
                base_url: sim.url.clone(),
                timeout: Duration::from_secs(10),
            },
            Arc::new(StaticToken::new(sim.token.clone())),
        )
        .unwrap();
        let (fetch, events) = spawn(Arc::new(client), SchedulerConfig::default());
        let (backend, screen) = WatchedBackend::new(120, 40);
        let (keys, rx) = mpsc::unbounded_channel();
        let input =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
            );
        let state = State::new(Some("SIMULATED TENANT".into()), sim.url.clone());
        let run = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            mde_triage::tui::run(&mut terminal, Box::pin(input), state, fetch, events, None).await
        });
        Self { keys, screen, run }
    }

    /// The console as `demo` wires it: the case `case` in the database under `data`, the
    /// cache and the budget's memory behind the scheduler; `--offline` when `offline`.
    fn wired(
        sim: &sim::SimHandle,
        data: &std::path::Path,
        case: &str,
        offline: bool,
    ) -> (Self, Persistence) {
        Self::wired_at(sim, data, case, offline, (120, 40))
    }

    /// [`Console::wired`] on a screen of `(width, height)`.
    fn wired_at(
        sim: &sim::SimHandle,
        data: &std::path::Path,
        case: &str,
        offline: bool,
        (width, height): (u16, u16),
    ) -> (Self, Persistence) {
        let global = mde_triage::cli::GlobalArgs {
            data_dir: Some(data.to_owned()),
            case: Some(case.to_owned()),
            offline,
            ..Default::default()
        };
        let settings = mde_triage::config::Settings::from_args(&global);
        let wired = wire(
            &settings,
            Arc::new(StaticToken::new(sim.token.clone())),
            &sim.url,
            Some("SIMULATED TENANT".into()),
            "demo".into(),
            None,
        )
        .unwrap();
        let (backend, screen) = WatchedBackend::new(width, height);
        let (keys, rx) = mpsc::unbounded_channel();
        let input =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
            );
        let Wired {
            state,
            fetch,
            events,
            recorder,
            db,
        } = wired;
        let run = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            mde_triage::tui::run(
                &mut terminal,
                Box::pin(input),
                state,
                fetch,
                events,
                recorder,
            )
            .await
        });
        (Self { keys, screen, run }, db)
    }

    fn press(&self, code: KeyCode) {
        self.keys
            .send(Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))))
            .unwrap();
    }

    /// A left click at the first character of `needle` on `screen`.
    fn click_on(&self, screen: &str, needle: &str) {
        let (column, row) = screen
            .lines()
            .enumerate()
            .find_map(|(y, line)| {
                line.find(needle)
                    .map(|b| (line[..b].chars().count() as u16, y as u16))
            })
            .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{screen}"));
        self.keys
            .send(Ok(Event::Mouse(crossterm::event::MouseEvent {
                kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
                column,
                row,
                modifiers: KeyModifiers::NONE,
            })))
            .unwrap();
    }

    fn type_text(&self, text: &str) {
        text.chars().for_each(|c| self.press(KeyCode::Char(c)));
    }

    /// Waits until the screen satisfies `pred`; fails with the last screen after 10 s.
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let found =
            match tokio::time::timeout(Duration::from_secs(10), self.screen.wait_for(|s| pred(s)))
                .await
            {
                Ok(Ok(screen)) => Some(screen.clone()),
                _ => None,
            };
        found
            .unwrap_or_else(|| panic!("waiting for {what}; screen was:\n{}", *self.screen.borrow()))
    }
}

/// The demo tenant's simulator on 127.0.0.1:0, with the real API's limits.
async fn demo_sim() -> sim::SimHandle {
    sim_with(SimConfig::default()).await
}

/// A simulator on 127.0.0.1:0 as `config` says (faults, latency, limits).
async fn sim_with(config: SimConfig) -> sim::SimHandle {
    sim::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config)
        .await
        .unwrap()
}

/// Waits until the simulator has answered each of `paths` (10 s at most).
async fn wait_for_requests(sim: &sim::SimHandle, paths: &[String]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
        let missing: Vec<&String> = paths.iter().filter(|p| !log.contains(p)).collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never requested: {missing:?}; log: {log:#?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Row of `item` in a list as the console orders it.
async fn row_of(client: &Client, key: FetchKey, item: &str) -> usize {
    match client.call(Call::first(key)).await.unwrap().value {
        FetchValue::Alerts(mut alerts) => {
            mde_triage::defender::model::newest_first(&mut alerts);
            alerts.iter().position(|a| a.id == item).unwrap()
        }
        FetchValue::Ips(ips) => ips.iter().position(|i| i.id == item).unwrap(),
        FetchValue::Stats(_) => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pivot_loop_against_the_simulator_with_free_back() {
    let sim = demo_sim().await;
    let probe = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(sim.token.clone())),
    )
    .unwrap();
    let alert_row = row_of(&probe, FetchKey::IpAlerts(ip(DOC_IP)), DOC_ALERT).await;
    let ip_row = row_of(
        &probe,
        FetchKey::AlertIps(alert_id(DOC_ALERT)),
        "104.80.104.128",
    )
    .await;

    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;

    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    assert!(
        screen.contains("2017-07-30 13:36:06Z") && screen.contains("2017-08-29 13:32:59Z"),
        "{screen}"
    );

    (0..alert_row).for_each(|_| console.press(KeyCode::Char('j')));
    console.press(KeyCode::Enter);
    console
        .wait_for("the alert's related IPs", |s| {
            s.contains("104.80.104.128") && s.contains("23.203.232.228")
        })
        .await;
    let screen = console
        .wait_for("the related IPs' prevalence", |s| !s.contains("loading"))
        .await;
    assert!(
        screen.contains(DOC_ALERT),
        "details show the opened alert:\n{screen}"
    );

    (0..ip_row).for_each(|_| console.press(KeyCode::Char('j')));
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("the pivot", |s| {
            s.contains("Alerts · 104.80.104.128") && !s.contains("loading")
        })
        .await;
    assert!(
        screen.lines().next().unwrap().contains("› 104.80.104.128"),
        "breadcrumb:\n{screen}"
    );

    // Prefetch: the related IPs of the newest alerts of each IP the analyst stood on (three
    // at most) are fetched ahead, in the background. Wait until they are in, then nothing
    // else may be asked.
    let mut prefetched = Vec::new();
    for seen in [DOC_IP, "104.80.104.128"] {
        let page = probe
            .call(Call::first(FetchKey::IpAlerts(ip(seen))))
            .await
            .unwrap();
        let FetchValue::Alerts(mut alerts) = page.value else {
            panic!()
        };
        mde_triage::defender::model::newest_first(&mut alerts);
        prefetched.extend(
            alerts
                .iter()
                .take(3)
                .map(|a| format!("/api/alerts/{}/ips", a.id)),
        );
    }
    wait_for_requests(&sim, &prefetched).await;

    let asked = sim.requests().len();
    console.press(KeyCode::Backspace);
    console.press(KeyCode::Backspace);
    let screen = console
        .wait_for("back at the first IP", |s| {
            s.contains("Alerts · 10.209.67.177")
        })
        .await;
    assert!(screen.contains("63,515"));
    console.press(KeyCode::Char(']'));
    console
        .wait_for("forward to the alert", |s| s.contains("Enter: pivot"))
        .await;
    console.press(KeyCode::Char('['));
    console
        .wait_for("back again", |s| !s.contains("Enter: pivot"))
        .await;
    console.press(KeyCode::Char('q'));
    let state = console.run.await.unwrap().unwrap();

    // Back and forward asked nothing: no new request reached the simulator and none is pending.
    assert_eq!(
        sim.requests().len(),
        asked,
        "{:#?}",
        &sim.requests()[asked..]
    );
    assert!(
        state
            .responses
            .values()
            .all(|r| matches!(r, Remote::Ready { .. }))
    );
    let paths: Vec<_> = sim.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.as_str() == "/api/ips/10.209.67.177/stats")
            .count(),
        1,
        "{paths:#?}"
    );
    // The opened alert was among the prefetched ones: the console asked for its related IPs
    // once (the other request in the log is this test's probe, made before the console ran).
    let doc_ips = format!("/api/alerts/{DOC_ALERT}/ips");
    assert!(prefetched.contains(&doc_ips));
    assert_eq!(
        paths.iter().filter(|p| **p == doc_ips).count(),
        2,
        "{paths:#?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_makes_no_request_and_the_console_stays_usable() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.type_text("10.209.67.1777");
    console.press(KeyCode::Enter);
    console
        .wait_for("the complaint", |s| {
            s.contains("is not an IPv4 or IPv6 address")
        })
        .await;
    console.press(KeyCode::Backspace);
    console.press(KeyCode::Enter);
    console
        .wait_for("the lookup", |s| s.contains("Alerts · 10.209.67.177"))
        .await;
    console
        .keys
        .send(Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        ))))
        .unwrap();
    console.run.await.unwrap().unwrap();
    assert!(sim.requests().iter().all(|r| !r.path.contains("1777")));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_failures_show_in_the_pane_not_as_a_crash() {
    let config = SimConfig {
        fail_rate: 1.0,
        ..SimConfig::default()
    };
    let sim = sim_with(config).await;
    let mut console = Console::start(&sim);
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    // Under the real clock the scheduler's backoff takes a few seconds; the pane says so first.
    console
        .wait_for("a retry notice", |s| s.contains("retrying"))
        .await;
    // The console answers keys while the scheduler waits to retry.
    console.press(KeyCode::Char('?'));
    console
        .wait_for("help during the backoff", |s| {
            s.contains("back along the trail")
        })
        .await;
    console.press(KeyCode::Esc);
    // After the last attempt: the error, said plainly, in the pane.
    console
        .wait_for("the final error in both panes", |s| {
            s.matches("the API had a server error").count() >= 2 && !s.contains("retrying")
        })
        .await;
    let calls = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/ips/"))
        .count();
    assert_eq!(calls, 6, "three attempts each for stats and alerts");
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_case_is_where_it_was_and_costs_no_request() {
    let sim = demo_sim().await;
    let data = tempfile::tempdir().unwrap();

    let (mut console, db) = Console::wired(&sim, data.path(), "INC-7", false);
    console
        .wait_for("the case", |s| s.contains("case INC-7"))
        .await;
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    console.press(KeyCode::Tab); // details: no alert open, so the note is on the IP
    console.press(KeyCode::Char('n'));
    console.type_text("seen on the proxy too");
    console.press(KeyCode::Enter);
    console
        .wait_for("the note", |s| s.contains("notes 1"))
        .await;
    // Stats, alerts, and the prefetch of the three newest alerts' IPs: all answered (and so
    // cached) before quitting. Work still queued at quit is dropped, and would be asked again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sim.requests().len() < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:#?}",
            sim.requests()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    let calls = sim.requests().len();
    assert_eq!(calls, 5, "{:#?}", sim.requests());

    // A new process, the same case: the same place, from the cache, with its age and note.
    let (mut console, db) = Console::wired(&sim, data.path(), "INC-7", false);
    let screen = console
        .wait_for("the place it was left", |s| {
            s.contains("Alerts · 10.209.67.177") && s.contains("63,515") && s.contains("· cached")
        })
        .await;
    assert!(screen.contains("as of just now · cached"), "{screen}");
    assert!(
        screen.contains("notes 1 · seen on the proxy too"),
        "{screen}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.requests().len(), calls, "nothing asked again");
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mouse_opens_an_alert_and_pivots_through_the_real_loop() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("the alerts", |s| s.contains("Suspicious PowerShell d"))
        .await;
    // One click selects the row, a second on the same row opens the alert.
    console.click_on(&screen, "Suspicious PowerShell d");
    console.click_on(&screen, "Suspicious PowerShell d");
    let screen = console
        .wait_for("the opened alert's related IPs", |s| {
            s.contains("Enter: pivot") && s.contains("104.80.104.128")
        })
        .await;
    assert!(screen.contains(DOC_ALERT), "{screen}");
    console.click_on(&screen, "104.80.104.128");
    console.click_on(&screen, "104.80.104.128");
    let screen = console
        .wait_for("the pivot", |s| s.contains("Alerts · 104.80.104.128"))
        .await;
    assert!(
        screen.lines().next().unwrap().contains("› 104.80.104.128"),
        "breadcrumb:\n{screen}"
    );
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_writes_the_case_report_with_the_path_the_data_and_the_note() {
    let sim = demo_sim().await;
    let probe = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(sim.token.clone())),
    )
    .unwrap();
    let alert_row = row_of(&probe, FetchKey::IpAlerts(ip(DOC_IP)), DOC_ALERT).await;
    let data = tempfile::tempdir().unwrap();

    let (mut console, db) = Console::wired(&sim, data.path(), "INC-9", false);
    console
        .wait_for("the case", |s| s.contains("case INC-9"))
        .await;
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    (0..alert_row).for_each(|_| console.press(KeyCode::Char('j')));
    console.press(KeyCode::Enter);
    console
        .wait_for("the opened alert", |s| {
            s.contains("Enter: pivot") && s.contains(DOC_ALERT)
        })
        .await;
    // Opening moved the focus to the related IPs; the details pane is about the open alert.
    console.press(KeyCode::BackTab);
    console.press(KeyCode::Char('n'));
    console.type_text("cradle fetched stage two from 104.80.104.128");
    console.press(KeyCode::Enter);
    console
        .wait_for("the note", |s| s.contains("note saved on alert"))
        .await;

    console.press(KeyCode::Char('e'));
    let screen = console
        .wait_for("the report's notice", |s| s.contains(".md written in"))
        .await;
    // The notice names the file first (the directory is what a narrow bar cuts).
    let notice = screen
        .lines()
        .find_map(|l| l.split_once("report INC-9-").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("the notice names the case's file:\n{screen}"));
    let file = format!("INC-9-{}", &notice[..notice.find(".md").unwrap() + 3]);
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();

    let path = data.path().join("reports").join(&file);
    let md = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(md.starts_with("# Case INC-9\n"), "{md}");
    // The pivot path: the IP, then the alert opened from it, in order.
    let path_section = &md[md.find("## Pivot path").expect(&md)..md.find("## IPs").expect(&md)];
    let steps: Vec<&str> = path_section
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(steps.len(), 2, "{path_section}");
    assert!(
        steps[0].starts_with("1. ") && steps[0].contains("[10.209.67.177]("),
        "{path_section}"
    );
    assert!(
        steps[1].starts_with("2. ") && steps[1].contains(&format!("→ alert [{DOC_ALERT}](")),
        "{path_section}"
    );
    assert!(
        md.contains("- Prevalence: 63,515 device(s) in the org"),
        "the IP's prevalence: {md}"
    );
    assert!(
        md.contains("### Suspicious PowerShell download cradle")
            && md.contains(&format!(
                "- Alert: [{DOC_ALERT}](https://security.microsoft.com/alerts/{DOC_ALERT}"
            )),
        "the alert opened: {md}"
    );
    let alert_section = &md[md.find("## Alerts").expect(&md)..];
    assert!(
        alert_section.contains(": cradle fetched stage two from 104.80.104.128"),
        "the note, under the alert it is about: {alert_section}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_console_says_so_and_serves_the_cache_with_its_age() {
    let sim = demo_sim().await;
    let data = tempfile::tempdir().unwrap();

    // Online first, to fill the cache.
    let (mut console, db) = Console::wired(&sim, data.path(), "warm", false);
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    // As if fetched 12 minutes ago, so the age shown is the stored one.
    let conn = rusqlite::Connection::open(data.path().join(mde_triage::store::FILE_NAME)).unwrap();
    let aged = conn
        .execute(
            "UPDATE responses SET fetched_ms = fetched_ms - 12 * 60000",
            [],
        )
        .unwrap();
    assert!(aged >= 2, "stats and alerts were cached");
    drop(conn);
    let calls = sim.requests().len();

    // Another case, so the lookup is typed rather than restored.
    let (mut console, db) = Console::wired(&sim, data.path(), "cold", true);
    let screen = console
        .wait_for("the title bar", |s| s.contains("case cold"))
        .await;
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("OFFLINE · cache only"),
        "{screen}"
    );
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("the cached answer", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("OFFLINE · cache only"),
        "{screen}"
    );
    // The stats pane (the left column, under the input) gives the answer's age and source.
    let stats_pane: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("┌ Prevalence"))
        .take_while(|l| !l.starts_with('└'))
        .collect();
    assert!(
        stats_pane
            .iter()
            .any(|l| l.starts_with("│as of 12 min ago · cached")),
        "{screen}"
    );
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    assert_eq!(
        sim.requests().len(),
        calls,
        "offline: nothing reached the network: {:#?}",
        &sim.requests()[calls..]
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_never_slows_the_keys() {
    // Every answer takes 3 s (`sim --latency-ms 3000`): the console keeps answering keys, and
    // the panes say what they wait for.
    let config = SimConfig {
        latency: Duration::from_secs(3),
        ..SimConfig::default()
    };
    let sim = sim_with(config).await;
    let mut console = Console::start(&sim);
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("the loading panes", |s| s.contains("loading"))
        .await;
    console.press(KeyCode::Char('?'));
    console
        .wait_for("help while the API is slow", |s| {
            s.contains("back along the trail")
        })
        .await;
    assert!(
        sim.requests().is_empty(),
        "help came before any answer: {:?}",
        sim.requests()
    );
    console.press(KeyCode::Esc);
    console.press(KeyCode::Char('b'));
    console
        .wait_for("the budget popup, still before the answers", |s| {
            s.contains("429s") || s.contains("paused")
        })
        .await;
    assert!(sim.requests().is_empty());
    console.press(KeyCode::Esc);
    console
        .wait_for("the answers, in the end", |s| s.contains("63,515"))
        .await;
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_screen_is_what_the_demo_draws() {
    // README's capture: the demo at 100×30 after typing 10.209.67.177 and opening its High
    // alert. The port and the case's date vary; everything else must be what the console
    // draws today, so the README cannot drift from the screen.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## The screen").unwrap();
    let block = &readme[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let documented = &block[..block.find("```").unwrap()];
    let case = documented
        .lines()
        .next()
        .and_then(|l| l.split("case ").nth(1))
        .and_then(|l| l.split(' ').next())
        .expect("the capture names its case");

    let sim = demo_sim().await;
    let data = tempfile::tempdir().unwrap();
    let (mut console, db) = Console::wired_at(&sim, data.path(), case, false, (100, 30));
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("the alerts", |s| s.contains("Suspicious PowerShell d"))
        .await;
    console.press(KeyCode::Char('j'));
    console.press(KeyCode::Enter);
    let port = sim.url.rsplit(':').next().unwrap().to_owned();
    let screen = console
        .wait_for("the alert opened and everything in", |s| {
            s.contains("Enter: pivot")
                && s.contains("not seen")
                && s.contains("0 running · 0 queued")
        })
        .await;
    let drawn: String = screen
        .lines()
        .map(|l| {
            format!(
                "{}\n",
                l.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:41234")
            )
        })
        .collect();
    let documented: String = documented
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    assert_eq!(
        drawn.trim_end(),
        documented.trim_end(),
        "README's screen drifted; the console draws:\n{drawn}"
    );
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    sim.shutdown().await;
}
