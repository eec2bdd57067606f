//! Idle is idle: the real loop under tokio's paused clock draws once at start, animates only
//! while something loads, and draws nothing at all through a quiet minute.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use mde_triage::app::State;
use mde_triage::defender::{Call, CallFuture, FetchKey, FetchValue, Page, Transport};
use mde_triage::fetch::{SchedulerConfig, spawn};
use ratatui::Terminal;
use support::watched::WatchedBackend;
use tokio::sync::mpsc;
use tokio::time::sleep;

/// Answers every call after one (virtual) second.
struct SlowApi;

impl Transport for SlowApi {
    fn call(&self, call: Call) -> CallFuture {
        Box::pin(async move {
            sleep(Duration::from_secs(1)).await;
            let value = match call.key {
                FetchKey::IpStats(..) => FetchValue::Stats(None),
                FetchKey::IpAlerts(_) | FetchKey::DeviceAlerts(_) => {
                    FetchValue::Alerts(Default::default())
                }
                FetchKey::AlertIps(_) => FetchValue::Ips(Default::default()),
                FetchKey::Device(_) => FetchValue::Device(Default::default()),
                FetchKey::DevicesAt(..) => FetchValue::Devices(Default::default()),
                FetchKey::Alert(_) => FetchValue::Alert(Default::default()),
            };
            Ok(Page { value, next: None })
        })
    }
}

fn frames(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}

#[tokio::test(start_paused = true)]
async fn nothing_is_redrawn_while_nothing_changes() {
    let (fetch, events) = spawn(Arc::new(SlowApi), SchedulerConfig::default());
    let (backend, screen) = WatchedBackend::new(100, 30);
    let counter = backend.frames.clone();
    let (keys, rx) = mpsc::unbounded_channel::<std::io::Result<Event>>();
    let input =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) });
    let state = State::new(None, "https://api.security.microsoft.com");
    let run = tokio::spawn(async move {
        let mut terminal = Terminal::new(backend).unwrap();
        mde_triage::tui::run(&mut terminal, Box::pin(input), state, fetch, events, None).await
    });
    let press = |code| {
        keys.send(Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))))
            .unwrap()
    };

    // The first frame, and one more when the scheduler's first budget status arrives.
    sleep(Duration::from_secs(1)).await;
    let settled = frames(&counter);
    assert!(settled <= 2, "{settled} frames at start");
    sleep(Duration::from_secs(60)).await;
    assert_eq!(frames(&counter), settled, "nothing drawn in a quiet minute");

    "10.1.2.3".chars().for_each(|c| press(KeyCode::Char(c)));
    sleep(Duration::from_millis(10)).await;
    let typed = frames(&counter);
    assert!(
        (settled + 1..=settled + 8).contains(&typed),
        "typing draws, at most once per key: {settled} → {typed}"
    );

    press(KeyCode::Enter);
    sleep(Duration::from_secs(2)).await;
    let loaded = frames(&counter);
    assert!(
        loaded > typed + 3,
        "the spinner animates while loading: {typed} → {loaded}"
    );
    assert!(
        screen.borrow().contains("not seen in the org"),
        "{}",
        *screen.borrow()
    );

    // The two calls leave the one-minute window a minute later: the status bar's count goes
    // back up, which is one honest frame. After that, ten quiet minutes draw nothing.
    sleep(Duration::from_secs(61)).await;
    let after_window = frames(&counter);
    assert!(after_window <= loaded + 1, "{loaded} → {after_window}");
    assert!(screen.borrow().contains("100/1m"), "{}", *screen.borrow());
    sleep(Duration::from_secs(600)).await;
    assert_eq!(frames(&counter), after_window, "idle again: no frames");

    press(KeyCode::Char('q'));
    run.await.unwrap().unwrap();
}
