//! The real binary in a real terminal (tmux): `demo` starts, answers a lookup, quits, and the
//! terminal is left as found (alternate screen off, cursor shown). Skipped when tmux is absent,
//! except on CI.

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
        let session = format!("mde-triage-test-{}", std::process::id());
        let ok = Command::new("tmux")
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
            .env("MDE_TRIAGE_LOG", "warn")
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux new-session failed");
        Some(Self { session })
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn query(&self, format: &str) -> String {
        let out = Command::new("tmux")
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

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
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
    tmux.keys(&["?"]);
    tmux.wait_for("help", |s| s.contains("back along the trail"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=0"), "{screen}");
    assert_eq!(tmux.query("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.query("#{cursor_flag}"), "1", "cursor visible again");
}
