//! A real terminal for tests: a tmux server of the test's own, keys sent, the screen read back,
//! the pane's processes found. Skipped when tmux is absent, except on CI.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    session: String,
}

/// The prompt of [`Tmux::shell`] (a space follows it, which `capture-pane` trims).
pub const PROMPT: &str = "jobctl$";

impl Tmux {
    /// `cmd` under `sh -c`, which prints `EXITED=<status>` when it ends.
    pub fn start(cmd: &str, width: u16, height: u16) -> Option<Self> {
        let shell = format!("{cmd}; echo EXITED=$?; sleep 30");
        Self::spawn(&["sh", "-c", &shell], width, height)
    }

    /// An interactive bash with job control (so Ctrl-Z and `fg` work), prompting [`PROMPT`].
    pub fn shell(width: u16, height: u16) -> Option<Self> {
        let ps1 = format!("PS1={PROMPT} ");
        let argv = [
            "env",
            &ps1,
            "HISTFILE=/dev/null",
            "bash",
            "--norc",
            "--noprofile",
            "-i",
        ];
        let tmux = Self::spawn(&argv, width, height)?;
        tmux.wait_for("the shell's prompt", |s| s.contains(PROMPT));
        Some(tmux)
    }

    fn spawn(argv: &[&str], width: u16, height: u16) -> Option<Self> {
        if Command::new("tmux").arg("-V").output().is_err() {
            // On CI a missing tmux is a broken runner, not a reason to pass quietly.
            assert!(
                std::env::var_os("CI").is_none(),
                "tmux is required on CI for the terminal tests"
            );
            eprintln!("tmux not installed: skipping the terminal test");
            return None;
        }
        // One server per test: the tests of a file run at once.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("mde-triage-test-{}-{n}", std::process::id());
        // A server of its own: the test's options never touch the developer's tmux.
        let ok = tmux(&session)
            .args(["new-session", "-d", "-s", &session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .args(argv)
            // Accept OSC 52 from the program, as terminals that allow it do.
            .args([";", "set-option", "-s", "set-clipboard", "on"])
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

    /// Pastes `text` as a terminal does: with bracketed-paste markers when the program asked
    /// for them (`paste-buffer -p`), the text's own line breaks kept.
    pub fn paste(&self, text: &str) {
        let buffer = format!("{}-paste", self.session);
        let set = tmux(&self.session)
            .args(["set-buffer", "-b", &buffer, "--", text])
            .status()
            .unwrap();
        assert!(set.success());
        let pasted = tmux(&self.session)
            .args([
                "paste-buffer",
                "-p",
                "-d",
                "-b",
                &buffer,
                "-t",
                &self.session,
            ])
            .status()
            .unwrap();
        assert!(pasted.success());
    }

    /// The pane's rows, trailing blanks trimmed.
    pub fn screen(&self) -> String {
        self.capture(&[])
    }

    /// Every row of the pane as tmux holds it, trailing blanks included (`-N`).
    pub fn exact_screen(&self) -> String {
        self.capture(&["-N"])
    }

    fn capture(&self, flags: &[&str]) -> String {
        let out = tmux(&self.session)
            .args(["capture-pane", "-p"])
            .args(flags)
            .args(["-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    pub fn query(&self, format: &str) -> String {
        let out = tmux(&self.session)
            .args(["display-message", "-p", "-t", &self.session, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
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

    /// Waits for `pred`, then until two exact captures in a row agree: a frame is written in
    /// several pieces, and a check should see the whole of it.
    pub fn wait_settled(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_for(what, &pred);
        let mut last = self.exact_screen();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            std::thread::sleep(Duration::from_millis(20));
            let now = self.exact_screen();
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

    /// What the program last put on the clipboard through OSC 52 (tmux keeps it as a buffer).
    pub fn clipboard(&self) -> String {
        let out = tmux(&self.session).arg("show-buffer").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pid of the program the pane's shell runs, once it runs.
    pub fn program(&self) -> u32 {
        let shell: u32 = self
            .query("#{pane_pid}")
            .parse()
            .expect("tmux gives the pane's pid");
        let mut found = None;
        wait_until("the program's process", || {
            found = child_named(shell, "mde-triage");
            found.is_some()
        });
        found.unwrap()
    }

    /// Writes straight to the pane's terminal, as any other program on it could.
    pub fn scribble(&self, bytes: &str) {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut tty = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(self.query("#{pane_tty}"))
            .expect("the pane's tty opens");
        tty.write_all(bytes.as_bytes()).unwrap();
    }
}

/// `tmux -L <session> -u`: the test's own server socket, UTF-8 whatever the locale says.
fn tmux(session: &str) -> Command {
    let mut cmd = Command::new("tmux");
    cmd.args(["-L", session, "-u"]);
    cmd
}

/// The process `parent` started under `name`, if any yet.
fn child_named(parent: u32, name: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (comm, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
            let ppid: u32 = rest.split(' ').nth(1)?.parse().ok()?;
            (ppid == parent && comm == name).then_some(pid)
        })
}

/// The process's state as /proc tells it: `T` is stopped, `S` and `R` run; `None` once gone.
pub fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

/// Polls `cond` until it holds (20 s at most).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux(&self.session).arg("kill-server").status();
    }
}
