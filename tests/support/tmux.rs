//! A real terminal for tests: a tmux server of the test's own, keys sent, the screen read back.
//! The same helper as tests/terminal.rs's, plus the exact screen (trailing blanks kept) and a
//! wait for the screen to stop changing. Skipped when tmux is absent, except on CI.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    session: String,
}

impl Tmux {
    pub fn start(cmd: &str, width: u16, height: u16) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            // On CI a missing tmux is a broken runner, not a reason to pass quietly.
            assert!(
                std::env::var_os("CI").is_none(),
                "tmux is required on CI for the terminal tests"
            );
            eprintln!("tmux not installed: skipping the terminal test");
            return None;
        }
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("mde-triage-tmux-{}-{n}", std::process::id());
        let ok = tmux(&session)
            .args(["new-session", "-d", "-s", &session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .args(["sh", "-c", &format!("{cmd}; echo EXITED=$?; sleep 30")])
            .env("MDE_TRIAGE_LOG", "warn")
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux new-session failed");
        Some(Self { session })
    }

    pub fn keys(&self, keys: &[&str]) {
        let status = tmux(&self.session)
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Every row of the pane as tmux holds it, trailing blanks included (`-N`).
    pub fn screen(&self) -> String {
        let out = tmux(&self.session)
            .args(["capture-pane", "-p", "-N", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `pred` holds (the program's own pace decides; 20 s at most).
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
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
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for `pred`, then until two captures in a row agree: a frame is written in several
    /// pieces, and a check should see the whole of it.
    pub fn wait_settled(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let mut last = self.wait_for(what, &pred);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            std::thread::sleep(Duration::from_millis(20));
            let now = self.screen();
            if now == last && pred(&now) {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: the screen never settled:\n{now}"
            );
            last = now;
        }
    }
}

/// `tmux -L <session> -u`: the test's own server socket, UTF-8 whatever the locale says.
fn tmux(session: &str) -> Command {
    let mut cmd = Command::new("tmux");
    cmd.args(["-L", session, "-u"]);
    cmd
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.session).arg("kill-server").status();
    }
}
