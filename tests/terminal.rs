//! The real binary in a real terminal (tmux): `demo` starts, answers a lookup, opens an alert,
//! pivots, goes back, shows the tree, quits, and the terminal is left as found (alternate
//! screen off, cursor shown, mouse given back), and `y` reaches the terminal's clipboard.
//! A panic in a background task also restores it and ends the process. Skipped when tmux is
//! absent, except on CI.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(cmd: &str, width: u16, height: u16) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            // On CI a missing tmux is a broken runner, not a reason to pass quietly.
            assert!(
                std::env::var_os("CI").is_none(),
                "tmux is required on CI for the terminal test"
            );
            eprintln!("tmux not installed: skipping the terminal test");
            return None;
        }
        // One server per test: the tests of this file run at once.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("mde-triage-test-{}-{n}", std::process::id());
        // A server of its own: the test's options never touch the developer's tmux.
        let ok = tmux(&session)
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .args(["sh", "-c", &format!("{cmd}; echo EXITED=$?; sleep 30")])
            // Accept OSC 52 from the program, as terminals that allow it do.
            .args([";", "set-option", "-s", "set-clipboard", "on"])
            .env("MDE_TRIAGE_LOG", "warn")
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux new-session failed");
        Some(Self { session })
    }

    fn keys(&self, keys: &[&str]) {
        let status = tmux(&self.session)
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = tmux(&self.session)
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn query(&self, format: &str) -> String {
        let out = tmux(&self.session)
            .args(["display-message", "-p", "-t", &self.session, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Polls the screen until `pred` holds (the program's own pace decides; 20 s at most).
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `tmux -L <session>`: the test's own server socket.
fn tmux(session: &str) -> Command {
    let mut cmd = Command::new("tmux");
    cmd.args(["-L", session]);
    cmd
}

impl Tmux {
    /// What the program last put on the clipboard through OSC 52 (tmux keeps it as a buffer).
    fn clipboard(&self) -> String {
        let out = tmux(&self.session).arg("show-buffer").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.session).arg("kill-server").status();
    }
}

#[test]
fn demo_runs_in_a_real_terminal_and_restores_it() {
    let bin = env!("CARGO_BIN_EXE_mde-triage");
    // Its own data directory: the demo's case and cache must not come from an earlier run.
    let data = tempfile::tempdir().expect("a temporary directory");
    let command = format!(
        "env MDE_TRIAGE_DATA_DIR='{}' {bin} demo",
        data.path().display()
    );
    let Some(tmux) = Tmux::start(&command, 100, 30) else {
        return;
    };
    tmux.wait_for("the console", |s| s.contains("SIMULATED TENANT"));
    assert_eq!(
        tmux.query("#{alternate_on}"),
        "1",
        "the console uses the alternate screen"
    );
    tmux.keys(&["10[.]209[.]67[.]177", "Enter"]);
    tmux.wait_for("the lookup", |s| {
        s.contains("63,515") && s.contains("Alerts · 10.209.67.177")
    });
    // y puts the selected alert's id on the clipboard, by OSC 52.
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("the copy", |s| s.contains("copied "));
    let copied = tmux.clipboard();
    assert!(
        mde_triage::defender::parse_alert_id(&copied).is_ok()
            && screen.contains(&format!("copied {}", &copied[..10])),
        "clipboard {copied:?}; screen:\n{screen}"
    );
    assert_eq!(
        tmux.query("#{mouse_any_flag}"),
        "1",
        "the console takes the mouse"
    );
    // Open the High alert (second newest in the demo story), pivot to an IP it names, back.
    tmux.keys(&["j", "Enter"]);
    tmux.wait_for("the alert's related IPs", |s| {
        s.contains("Enter: pivot") && s.contains("104.80.104.128")
    });
    let screen = tmux.screen();
    let row = screen
        .lines()
        .skip_while(|l| !l.contains("Related IPs"))
        .skip(1)
        .position(|l| l.contains("104.80.104.128"))
        .expect("104.80.104.128 in the Related IPs pane");
    for _ in 0..row {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["Enter"]);
    tmux.wait_for("the pivot", |s| s.contains("Alerts · 104.80.104.128"));
    tmux.keys(&["BSpace"]);
    tmux.wait_for("back at the alert", |s| {
        s.contains("Alerts · 10.209.67.177") && s.contains("Enter: pivot")
    });
    tmux.keys(&["g"]);
    tmux.wait_for("the investigation tree", |s| {
        s.contains("Investigation") && s.contains("you are here") && s.contains("104.80.104.128")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the tree closed", |s| !s.contains("Investigation"));
    tmux.keys(&["?"]);
    tmux.wait_for("help", |s| s.contains("back along the trail"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=0"), "{screen}");
    assert_eq!(tmux.query("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.query("#{cursor_flag}"), "1", "cursor visible again");
    assert_eq!(tmux.query("#{mouse_any_flag}"), "0", "mouse given back");
}

#[test]
fn a_panic_in_a_background_task_restores_the_terminal_and_ends_the_process() {
    // Debug builds (the tests') panic a background task on request once the screen is up.
    let bin = env!("CARGO_BIN_EXE_mde-triage");
    let data = tempfile::tempdir().expect("a temporary directory");
    let command = format!(
        "env MDE_TRIAGE_DATA_DIR='{}' MDE_TRIAGE_TEST_PANIC=task {bin} demo 2>/dev/null",
        data.path().display()
    );
    let Some(tmux) = Tmux::start(&command, 100, 30) else {
        return;
    };
    let screen = tmux.wait_for("exit", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=101"), "{screen}");
    assert!(
        !screen.contains("SIMULATED TENANT"),
        "the console is gone:\n{screen}"
    );
    assert_eq!(tmux.query("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.query("#{cursor_flag}"), "1", "cursor visible again");
    assert_eq!(tmux.query("#{mouse_any_flag}"), "0", "mouse given back");
}

#[test]
fn expand_on_a_terminal_shows_a_progress_bar_with_what_the_budget_allows() {
    // The simulator lives in this process; `expand` runs in tmux, its stderr a terminal, with a
    // budget so small that the bar has time to be read: one batch call per 2 s per endpoint.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = runtime
        .block_on(mde_triage::sim::start(
            "127.0.0.1:0".parse().unwrap(),
            mde_triage::sim::SimConfig::default(),
        ))
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_mde-triage");
    let data = tempfile::tempdir().expect("a temporary directory");
    let command = format!(
        "env MDE_TRIAGE_DATA_DIR='{}' MDE_API_URL='{}' MDE_TOKEN='{}' {bin} \
         --rate-limit 2/2s,100/1h expand 10.209.67.177 --max-calls 6 > /dev/null",
        data.path().display(),
        sim.url,
        sim.token
    );
    let Some(tmux) = Tmux::start(&command, 120, 10) else {
        return;
    };
    let bar = tmux.wait_for("the progress bar", |s| s.contains("requests ·"));
    assert!(
        bar.contains("calls · at least") && bar.contains("left"),
        "an estimate from the budget:\n{bar}"
    );
    let screen = tmux.wait_for("the end", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=0"), "{screen}");
    assert!(
        screen.contains("mde-triage expand:") && screen.contains("call(s) not made (--max-calls)"),
        "{screen}"
    );
    assert!(
        !screen.contains("requests ·"),
        "the bar is cleared at the end:\n{screen}"
    );
    assert_eq!(sim.requests().len(), 6, "--max-calls is a hard stop");
}

#[test]
fn a_note_being_typed_survives_a_crash_and_comes_back_on_restart() {
    let bin = env!("CARGO_BIN_EXE_mde-triage");
    let data = tempfile::tempdir().expect("a temporary directory");
    let start = |panic: &str| {
        format!(
            "env MDE_TRIAGE_DATA_DIR='{}' {panic} {bin} demo 2>/dev/null",
            data.path().display()
        )
    };
    // The crash comes 4 s after start, in the middle of typing.
    let Some(first) = Tmux::start(&start("MDE_TRIAGE_TEST_PANIC=task:4000"), 100, 30) else {
        return;
    };
    first.wait_for("the console", |s| s.contains("SIMULATED TENANT"));
    first.keys(&["10.209.67.177", "Enter"]);
    first.wait_for("the lookup", |s| s.contains("63,515"));
    first.keys(&["n"]);
    first.wait_for("the note editor", |s| s.contains("┌ Note "));
    first.keys(&["-l", "seen in the proxy logs too"]);
    first.wait_for("the typed note", |s| s.contains("proxy logs too"));
    let screen = first.wait_for("the crash", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=101"), "{screen}");
    drop(first);

    let Some(second) = Tmux::start(&start(""), 100, 30) else {
        return;
    };
    let screen = second.wait_for("the note, back in its editor", |s| {
        s.contains("┌ Note ") && s.contains("seen in the proxy logs too")
    });
    assert!(screen.contains("10.209.67.177"), "{screen}");
    second.keys(&["Escape"]);
    second.keys(&["q"]);
    second.wait_for("exit", |s| s.contains("EXITED=0"));
}
