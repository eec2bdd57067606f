//! Job control in the real loop (`tui::run`) with a recording stand-in for the terminal side:
//! Ctrl-Z, a SIGTSTP and a SIGCONT each reach it once and are followed by a redraw of the whole
//! screen (cleared, every cell drawn again), and a failed suspend is said on the status bar.
//! The real terminal's side (raw mode, stop, `fg`) is `terminal.rs`'s, in tmux.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use mde_triage::app::State;
use mde_triage::defender::{ApiError, Call, CallFuture, ErrorKind, Transport};
use mde_triage::fetch::{SchedulerConfig, spawn};
use mde_triage::tui::{JobControl, JobSignal, LoopIo, effects};
use ratatui::Terminal;
use support::watched::WatchedBackend;
use tokio::sync::{mpsc, watch};

/// No lookup is made here; any call would be a bug worth seeing.
struct NoApi;

impl Transport for NoApi {
    fn call(&self, _call: Call) -> CallFuture {
        Box::pin(async { Err(ApiError::new(ErrorKind::Network, "no API in this test")) })
    }
}

/// Records what the loop asks of the terminal; signals come from the test.
struct Recording {
    asked: Arc<Mutex<Vec<&'static str>>>,
    signals: mpsc::UnboundedReceiver<JobSignal>,
    fail: bool,
}

impl JobControl for Recording {
    fn suspend(&mut self) -> Result<(), String> {
        self.asked.lock().unwrap().push("suspend");
        if self.fail {
            return Err("not suspended: EPERM".into());
        }
        Ok(())
    }

    fn retake(&mut self) -> Result<(), String> {
        self.asked.lock().unwrap().push("retake");
        Ok(())
    }

    fn poll_signal(&mut self, cx: &mut Context<'_>) -> Poll<JobSignal> {
        match self.signals.poll_recv(cx) {
            Poll::Ready(Some(signal)) => Poll::Ready(signal),
            _ => Poll::Pending,
        }
    }
}

struct Console {
    keys: mpsc::UnboundedSender<std::io::Result<Event>>,
    signals: mpsc::UnboundedSender<JobSignal>,
    asked: Arc<Mutex<Vec<&'static str>>>,
    screen: watch::Receiver<String>,
    clears: Arc<AtomicUsize>,
    run: tokio::task::JoinHandle<anyhow::Result<State>>,
}

impl Console {
    fn start(fail: bool) -> Self {
        let (fetch, events) = spawn(Arc::new(NoApi), SchedulerConfig::default());
        let (backend, screen) = WatchedBackend::new(100, 30);
        let clears = backend.clears.clone();
        let (keys, rx) = mpsc::unbounded_channel();
        let input =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|e| (e, rx)) },
            );
        let (signals, signal_rx) = mpsc::unbounded_channel();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let job = Recording {
            asked: asked.clone(),
            signals: signal_rx,
            fail,
        };
        let state = State::new(Some("SIMULATED TENANT".into()), "https://api.example");
        let run = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            let edges = LoopIo {
                recorder: None,
                effects: Box::new(effects::NoEffects),
                job: Box::new(job),
                wall: mde_triage::clock::Wall::system(),
            };
            mde_triage::tui::run(&mut terminal, Box::pin(input), state, fetch, events, edges).await
        });
        Self {
            keys,
            signals,
            asked,
            screen,
            clears,
            run,
        }
    }

    fn press(&self, code: KeyCode, modifiers: KeyModifiers) {
        let key = KeyEvent::new(code, modifiers);
        self.keys.send(Ok(Event::Key(key))).unwrap();
    }

    /// Waits (10 s at most) until the screen shows what `pred` wants.
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let wait = self.screen.wait_for(|s| pred(s));
        if let Ok(screen) = tokio::time::timeout(Duration::from_secs(10), wait).await {
            return screen.unwrap().clone();
        }
        panic!("waiting for {what}; screen:\n{}", *self.screen.borrow())
    }

    /// Waits until the loop has asked `n` things of the terminal, and says what they were.
    async fn asked(&self, n: usize) -> Vec<&'static str> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let asked = self.asked.lock().unwrap().clone();
            if asked.len() >= n || tokio::time::Instant::now() > deadline {
                return asked;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The next whole-screen clear, and the screen once drawn whole after it.
    async fn redrawn_whole(&mut self, clears_before: usize, whole: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.clears.load(Ordering::SeqCst) == clears_before {
            assert!(tokio::time::Instant::now() < deadline, "no clear came");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // A cleared TestBackend is blank: only drawing every cell again gives the frame back.
        self.wait_for("the whole frame again", |s| s == whole).await;
    }
}

#[tokio::test]
async fn ctrl_z_sigtstp_and_sigcont_each_reach_the_terminal_once_and_redraw_it_all() {
    let mut console = Console::start(false);
    let whole = console
        .wait_for("the console", |s| {
            s.contains("SIMULATED TENANT") && s.contains("? help")
        })
        .await;

    let clears = console.clears.load(Ordering::SeqCst);
    console.press(KeyCode::Char('z'), KeyModifiers::CONTROL);
    assert_eq!(console.asked(1).await, ["suspend"]);
    console.redrawn_whole(clears, &whole).await;

    let clears = console.clears.load(Ordering::SeqCst);
    console.signals.send(JobSignal::Stop).unwrap();
    assert_eq!(console.asked(2).await, ["suspend", "suspend"]);
    console.redrawn_whole(clears, &whole).await;

    // Nothing in the state changed: only the SIGCONT makes this frame.
    let clears = console.clears.load(Ordering::SeqCst);
    console.signals.send(JobSignal::Continued).unwrap();
    assert_eq!(console.asked(3).await, ["suspend", "suspend", "retake"]);
    console.redrawn_whole(clears, &whole).await;

    // The input box has the focus: z is text, Ctrl-Z never was.
    console.press(KeyCode::Char('z'), KeyModifiers::NONE);
    console
        .wait_for("z typed", |s| {
            s.lines().nth(2).is_some_and(|l| l.contains("│z"))
        })
        .await;
    assert_eq!(console.asked(3).await.len(), 3);
    console.press(KeyCode::Char('c'), KeyModifiers::CONTROL);
    console.run.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_suspend_that_fails_is_said_on_the_status_bar() {
    let mut console = Console::start(true);
    console
        .wait_for("the console", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.press(KeyCode::Char('z'), KeyModifiers::CONTROL);
    console
        .wait_for("the reason", |s| s.contains("not suspended: EPERM"))
        .await;
    console.press(KeyCode::Char('c'), KeyModifiers::CONTROL);
    console.run.await.unwrap().unwrap();
}
