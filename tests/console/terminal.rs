//! The real binary in a real terminal (tmux): `demo` starts, answers a lookup, opens an alert,
//! pivots, goes back, shows the tree, quits, and the terminal is left as found (alternate
//! screen off, cursor shown, mouse given back), and `y` reaches the terminal's clipboard.
//! A panic in a background task also restores it and ends the process. Job control: Ctrl-Z
//! and `kill -TSTP` stop it as a shell's job with the terminal given back, `fg` brings it back
//! whole, and a `kill -CONT` after a `kill -STOP` redraws a screen scribbled on meanwhile.
//! Skipped when tmux is absent, except on CI.

use crate::support;

use std::process::Command;

use support::tmux::{PROMPT, Tmux, state, wait_until};

#[test]
fn demo_runs_in_a_real_terminal_and_restores_it() {
    let (_data, command) = demo_command();
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
    // Escape, then q once the editor is gone: sent together, a loaded machine can deliver
    // them in one read, which is Alt-q, not Esc and q.
    second.keys(&["Escape"]);
    second.wait_for("the editor closed", |s| !s.contains("┌ Note "));
    second.keys(&["q"]);
    second.wait_for("exit", |s| s.contains("EXITED=0"));
}

/// The console's whole frame at 100×30: the title bar, every pane, the status bar, each of the
/// 30 rows drawn, and nothing else's text on it.
fn whole(screen: &str) -> bool {
    let drawn = screen.lines().filter(|l| !l.trim().is_empty()).count();
    let panes = [
        "┌ IP address",
        "┌ Prevalence",
        "┌ Alerts",
        "┌ Alert ",
        "┌ Related IPs",
    ];
    drawn == 30
        && screen
            .lines()
            .next()
            .is_some_and(|l| l.contains("SIMULATED TENANT"))
        && panes.iter().all(|p| screen.contains(p))
        && screen.lines().last().is_some_and(|l| l.ends_with("? help"))
        && !screen.contains(PROMPT)
        && !screen.contains("GARBLED")
}

/// `demo` typed at the shell's prompt, with its own data directory.
fn demo_at_the_prompt(tmux: &Tmux, data: &std::path::Path) -> u32 {
    let bin = env!("CARGO_BIN_EXE_mde-triage");
    let command = format!("env MDE_TRIAGE_DATA_DIR='{}' {bin} demo", data.display());
    tmux.keys(&["-l", &command]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the console", whole);
    let pid = tmux.program();
    assert_ne!(state(pid), Some('T'));
    pid
}

/// Stopped as a job: the terminal is the shell's again, as on exit.
fn stopped_at_the_prompt(tmux: &Tmux, pid: u32) {
    wait_until("the console stopped", || state(pid) == Some('T'));
    let screen = tmux.wait_for("the shell's prompt", |s| {
        s.contains("Stopped") && s.trim_end().ends_with(PROMPT)
    });
    assert!(!screen.contains("┌ Prevalence"), "{screen}");
    assert_eq!(tmux.query("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.query("#{mouse_any_flag}"), "0", "mouse given back");
    assert_eq!(tmux.query("#{cursor_flag}"), "1", "cursor visible");
}

/// `fg`: the console takes the terminal again and draws all of it (the alternate screen comes
/// back empty, so a diff against the last frame would leave it blank).
fn back_with_fg(tmux: &Tmux, pid: u32) {
    tmux.keys(&["-l", "fg"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the console redrawn", whole);
    assert_ne!(state(pid), Some('T'));
    assert_eq!(tmux.query("#{alternate_on}"), "1", "alternate screen again");
    assert_eq!(tmux.query("#{mouse_any_flag}"), "1", "the mouse again");
}

/// Keys reach the console (raw mode: no Enter needed for `q`), and it leaves as it should.
fn works_then_quits(tmux: &Tmux, pid: u32) {
    tmux.keys(&["10[.]209[.]67[.]177", "Enter"]);
    tmux.wait_for("the lookup", |s| {
        s.contains("63,515") && s.contains("Alerts · 10.209.67.177")
    });
    tmux.keys(&["q"]);
    wait_until("the console gone", || state(pid).is_none());
    tmux.keys(&["-l", "echo EXITED=$?"]);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the exit status", |s| s.contains("EXITED=0"));
    assert_eq!(tmux.query("#{alternate_on}"), "0", "alternate screen left");
    assert_eq!(tmux.query("#{cursor_flag}"), "1", "cursor visible again");
    assert_eq!(tmux.query("#{mouse_any_flag}"), "0", "mouse given back");
}

#[test]
fn ctrl_z_stops_the_console_as_a_job_and_fg_brings_it_back_whole() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let Some(tmux) = Tmux::shell(100, 30) else {
        return;
    };
    let pid = demo_at_the_prompt(&tmux, data.path());
    // The input box has the focus: Ctrl-Z is no text there.
    tmux.keys(&["C-z"]);
    stopped_at_the_prompt(&tmux, pid);
    back_with_fg(&tmux, pid);
    works_then_quits(&tmux, pid);
}

#[test]
fn sigtstp_from_outside_suspends_the_same_way() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let Some(tmux) = Tmux::shell(100, 30) else {
        return;
    };
    let pid = demo_at_the_prompt(&tmux, data.path());
    kill("-TSTP", pid);
    stopped_at_the_prompt(&tmux, pid);
    back_with_fg(&tmux, pid);
    // Twice: the handler is back in place after the first stop.
    kill("-TSTP", pid);
    stopped_at_the_prompt(&tmux, pid);
    back_with_fg(&tmux, pid);
    works_then_quits(&tmux, pid);
}

#[test]
fn sigcont_after_a_stop_from_outside_redraws_a_scribbled_screen() {
    // No job-control shell here (`sh -c`): nothing but the signals touches the console.
    let (_data, command) = demo_command();
    let Some(tmux) = Tmux::start(&command, 100, 30) else {
        return;
    };
    tmux.wait_for("the console", whole);
    let pid = tmux.program();
    kill("-STOP", pid);
    wait_until("the console stopped", || state(pid) == Some('T'));
    // What another program on the terminal might do meanwhile: clear it and write.
    tmux.scribble("\x1b[2J\x1b[HGARBLED");
    tmux.wait_for("the scribble", |s| {
        s.contains("GARBLED") && !s.contains("SIMULATED TENANT")
    });
    // Idle, the console draws nothing by itself: only the SIGCONT makes it redraw.
    kill("-CONT", pid);
    tmux.wait_for("the console redrawn", whole);
    assert_eq!(tmux.query("#{alternate_on}"), "1");
    assert_eq!(tmux.query("#{mouse_any_flag}"), "1");
    tmux.keys(&["10[.]209[.]67[.]177", "Enter"]);
    tmux.wait_for("the lookup", |s| s.contains("63,515"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=0"), "{screen}");
}

fn kill(signal: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill {signal} {pid}");
}

#[test]
fn a_ticket_paragraph_pasted_into_the_terminal_offers_every_ip_and_says_what_it_skipped() {
    let (_data, command) = demo_command();
    let Some(tmux) = Tmux::start(&command, 110, 30) else {
        return;
    };
    tmux.wait_for("the console", |s| s.contains("SIMULATED TENANT"));
    // A ticket as it arrives from a mail client: CRLF line breaks, defanged, a URL with a
    // port, the IPv4-mapped form Windows logs write, and a network.
    tmux.paste(
        "Hello SOC,\r\nwe saw 10[.]209[.]67[.]177 talk to hxxp://104.80.104.128:8080/a\r\n\
         and ::ffff:23.203.232.228 (Event 5156). The range 10.0.0.0/8 is ours.\r\n",
    );
    let screen = tmux.wait_for("what the paste held", |s| {
        s.contains("3 IPs found · 1 skipped: 10.0.0.0/8 is a network (/8), not one host")
    });
    assert!(
        screen.contains("Enter looks them all up"),
        "the offer says what Enter does:\n{screen}"
    );
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first IP looked up", |s| {
        s.contains("63,515") && s.contains("Alerts · 10.209.67.177")
    });
    // The others were queued: Up in the input box walks back past the one shown to them.
    tmux.keys(&["i", "Up", "Up"]);
    tmux.wait_for("a queued IP in the input box", |s| {
        s.contains("23.203.232.228") || s.contains("104.80.104.128")
    });
    tmux.keys(&["C-c"]);
    tmux.wait_for("a clean exit", |s| s.contains("EXITED=0"));
}

/// `demo` on a data directory of its own (the case and cache must not come from an earlier
/// run), as a shell command line; the directory lives as long as the returned guard.
fn demo_command() -> (tempfile::TempDir, String) {
    let bin = env!("CARGO_BIN_EXE_mde-triage");
    let data = tempfile::tempdir().expect("a temporary directory");
    let command = format!(
        "env MDE_TRIAGE_DATA_DIR='{}' {bin} demo",
        data.path().display()
    );
    (data, command)
}
