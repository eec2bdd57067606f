//! End to end: the real loop (`tui::run`) with scripted keys, the real scheduler and HTTP client,
//! against the simulator on 127.0.0.1:0. Waits on screen text and the simulator's request log,
//! never on bare sleeps. Here, the scripted console and the simulator the files under `e2e/` use.

mod cases;
mod lookups;
mod ninety_days;
mod paste;
mod period;

use crate::support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mde_triage::clock::Wall;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use mde_triage::app::{Remote, State};
use mde_triage::commands::console::wire;
use mde_triage::commands::session::Persistence;
use mde_triage::commands::wiring::Wiring;
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
        Self::wired_at(sim, data, case, offline, (120, 40), Wall::system())
    }

    /// [`Console::wired`] on a screen of `(width, height)`, its loop, scheduler and client on
    /// the clock `wall`.
    fn wired_at(
        sim: &sim::SimHandle,
        data: &std::path::Path,
        case: &str,
        offline: bool,
        (width, height): (u16, u16),
        wall: Wall,
    ) -> (Self, Persistence) {
        let global = mde_triage::cli::GlobalArgs {
            data_dir: Some(data.to_owned()),
            case: Some(case.to_owned()),
            offline,
            ..Default::default()
        };
        let mut settings = mde_triage::config::Settings::from_args(&global);
        settings.wall = wall;
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
        let (
            state,
            recorder,
            Wiring {
                fetch,
                events,
                recording,
            },
        ) = wired;
        let db = recording.db;
        let run = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            let edges = mde_triage::tui::LoopIo {
                recorder,
                effects: Box::new(mde_triage::tui::effects::NoEffects),
                job: Box::new(mde_triage::tui::job::Detached),
                wall,
            };
            mde_triage::tui::run(&mut terminal, Box::pin(input), state, fetch, events, edges).await
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

    /// A bracketed paste, as the terminal delivers one: the whole text in one event.
    fn paste(&self, text: &str) {
        self.keys.send(Ok(Event::Paste(text.to_owned()))).unwrap();
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
    sim_with(demo_config()).await
}

/// The demo as `demo` runs it: the story told today. The console and its scheduler read the
/// real clock, so the story is told on the day they read; it is the same story any day.
fn demo_config() -> SimConfig {
    SimConfig {
        dataset: Arc::new(sim::Dataset::demo_on(Utc::now())),
        ..SimConfig::default()
    }
}

/// `screen` with every date the story shows moved by `days`: `YYYY-MM-DD` anywhere but after
/// a letter, digit or dash (a case's name), and `MM-DD` after "held " (the year the one
/// that puts it on or before `now`, as the console shows only past windows). The
/// documentation's own dates (`fixed`) stay: they never move with the story.
fn dates_moved(screen: &str, days: i64, now: DateTime<Utc>, fixed: &[&str]) -> String {
    use chrono::{Datelike, NaiveDate};
    let by = chrono::Duration::days(days);
    let mut out = String::new();
    let mut rest = screen;
    while let Some(c) = rest.chars().next() {
        let before = out.chars().next_back();
        let free = !before.is_some_and(|b| b.is_alphanumeric() || b == '-');
        // Digits and dashes where the shape says, nothing else (chrono alone skips spaces).
        let shaped = |text: &str, shape: &str| {
            text.len() == shape.len()
                && text.chars().zip(shape.chars()).all(|(c, s)| match s {
                    '9' => c.is_ascii_digit(),
                    _ => c == s,
                })
        };
        let full = rest
            .get(..10)
            .filter(|d| free && shaped(d, "9999-99-99") && !fixed.contains(d))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let held = rest
            .get(..5)
            .filter(|d| out.ends_with("held ") && shaped(d, "99-99"))
            .and_then(|d| {
                let (m, day) = d.split_once('-')?;
                let on = |y| NaiveDate::from_ymd_opt(y, m.parse().ok()?, day.parse().ok()?);
                let y = now.year();
                on(y)
                    .filter(|d| *d <= now.date_naive())
                    .or_else(|| on(y - 1))
            });
        if let Some(d) = full {
            out.push_str(&(d + by).format("%Y-%m-%d").to_string());
            rest = &rest[10..];
        } else if let Some(d) = held {
            out.push_str(&(d + by).format("%m-%d").to_string());
            rest = &rest[5..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The documentation's own dates as the screens show them (10.209.67.177's first and last
/// sighting, 2017): they stay whatever day the story is told.
fn docs_dates() -> Vec<String> {
    let sim::dataset::StatsAnswer::Found(s) = sim::Dataset::demo().stats(ip(DOC_IP), 720) else {
        panic!("the docs' IP is in the demo")
    };
    [s.org_first_seen, s.org_last_seen]
        .iter()
        .flatten()
        .map(|t| t.format("%Y-%m-%d").to_string())
        .collect()
}

/// README's screen, as documented: the demo told at its asset's own instant.
fn readme_screen() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## The screen").unwrap();
    let block = &readme[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    block[..block.find("```").unwrap()]
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
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
        FetchValue::Devices(devices) => devices.iter().position(|d| d.id == item).unwrap(),
        FetchValue::Stats(_) | FetchValue::Device(_) | FetchValue::Alert(_) => unreachable!(),
    }
}
