//! Devices in a real terminal (tmux), the real binary against the simulator in this process:
//! IP → alert → its device → another of the device's alerts → one of its IPs, then back along
//! the trail to the start, read from the simulator's own log: nothing asked again. Skipped when tmux is absent, except on CI.

use crate::support;

use support::tmux::Tmux;

/// The rows of the pane titled `title`, below its header row, as the screen shows them.
fn rows_below<'a>(screen: &'a str, title: &str) -> Vec<&'a str> {
    screen
        .lines()
        .skip_while(|l| !l.contains(title))
        .skip(2)
        .take_while(|l| !l.contains('└'))
        .collect()
}

/// The addresses in the Related IPs pane, in order: its column starts where its box does.
fn related_ips(screen: &str) -> Vec<String> {
    let mut lines = screen.lines().skip_while(|l| !l.contains("┌ Related IPs"));
    let Some(title) = lines.next() else {
        return Vec::new();
    };
    let Some(at) = title.find("┌ Related IPs") else {
        return Vec::new();
    };
    let col = title[..at].chars().count();
    lines
        .take_while(|l| !l.contains('└'))
        .filter_map(|l| {
            let row: String = l.chars().skip(col + 1).collect();
            let first = row
                .trim_start_matches(['▶', ' '])
                .split_whitespace()
                .next()?;
            first
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| ip.to_string())
        })
        .collect()
}

/// Moves the cursor of the list titled `title` from the row marked ▶ to row `to`.
fn select(tmux: &Tmux, screen: &str, title: &str, to: usize) {
    let rows = rows_below(screen, title);
    let from = rows.iter().position(|l| l.contains('▶')).unwrap_or(0);
    let key = if to > from { "j" } else { "k" };
    for _ in 0..from.abs_diff(to) {
        tmux.keys(&[key]);
    }
}

/// What only one place of the trail shows.
type Place = fn(&str) -> bool;

#[test]
fn ip_alert_device_alert_ip_and_back_to_the_start_with_no_call() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The story told today, as `demo` tells it: the binary reads the real clock, and who
    // held the cradle's IP is then asked on any day, as it is in the demo.
    let told_now = mde_triage::sim::Dataset::demo_on(chrono::Utc::now());
    let sim = runtime
        .block_on(mde_triage::sim::start(
            "127.0.0.1:0".parse().unwrap(),
            mde_triage::sim::SimConfig {
                dataset: std::sync::Arc::new(told_now),
                ..mde_triage::sim::SimConfig::default()
            },
        ))
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_mde-triage");
    let data = tempfile::tempdir().expect("a temporary directory");
    let command = format!(
        "env MDE_TRIAGE_DATA_DIR='{}' MDE_API_URL='{}' MDE_TOKEN='{}' {bin} tui 2>/dev/null",
        data.path().display(),
        sim.url,
        sim.token
    );
    let Some(tmux) = Tmux::start(&command, 120, 40) else {
        return;
    };
    tmux.wait_for("the console", |s| s.contains("IP address"));
    tmux.keys(&["10.209.67.177", "Enter"]);
    tmux.wait_for("the lookup", |s| {
        s.contains("63,515") && s.contains("Suspicious PowerShell")
    });
    // Open the cradle, whose device is ws-fin-07: its line in the alert pane, then `d`.
    let screen = tmux.screen();
    let row = rows_below(&screen, "Alerts · 10.209.67.177")
        .iter()
        .position(|l| l.contains("Suspicious PowerShell"))
        .expect("the cradle is listed");
    select(&tmux, &screen, "Alerts · 10.209.67.177", row);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the alert's device line", |s| {
        s.contains("ws-fin-07") && s.contains("d opens")
    });
    tmux.keys(&["d"]);
    let screen = tmux.wait_for("the device's page and its alerts", |s| {
        s.contains("┌ Device")
            && rows_below(s, "Alerts · ws-fin-07")
                .iter()
                .any(|l| l.contains("Suspicious PowerShell"))
    });
    assert!(
        screen.contains("health Active") && screen.contains("Windows11"),
        "{screen}"
    );
    // Another of its alerts, then the first IP it names.
    let row = rows_below(&screen, "Alerts · ws-fin-07")
        .iter()
        .position(|l| l.contains("ws-fin-07") && !l.contains("Suspicious PowerShell"))
        .expect("another alert on ws-fin-07");
    select(&tmux, &screen, "Alerts · ws-fin-07", row);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("its related IPs", |s| {
        s.contains("Enter: pivot") && !related_ips(s).is_empty()
    });
    assert!(!screen.contains("· Suspicious PowerShell"), "{screen}");
    // An IP other than the one we started from.
    let ips = related_ips(&screen);
    let row = ips
        .iter()
        .position(|ip| ip != "10.209.67.177")
        .unwrap_or_else(|| panic!("an IP to pivot to:\n{screen}"));
    let ip = ips[row].clone();
    for _ in 0..row {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["Enter"]);
    tmux.wait_for("the pivot", |s| s.contains(&format!("Alerts · {ip}")));
    let calls = sim.requests().len();

    // Back: the alert on the device, the device, the cradle, the first IP. Not one call. Each
    // step waits for what only that place shows (keys are read in order, screens are not).
    let steps: [(&str, Place); 4] = [
        ("the device's alert", |s| {
            s.contains("Alerts · ws-fin-07") && s.contains("Enter: pivot")
        }),
        ("the device", |s| {
            s.contains("Alerts · ws-fin-07") && s.contains("Open an alert")
        }),
        ("the cradle", |s| {
            s.contains("Alerts · 10.209.67.177") && s.contains("d opens")
        }),
        ("the start", |s| {
            s.contains("Alerts · 10.209.67.177") && s.contains("Select an alert and press")
        }),
    ];
    for (what, here) in steps {
        tmux.keys(&["BSpace"]);
        tmux.wait_for(what, here);
    }
    // Every place on the way back was fetched on the way there: a request for any of it
    // again is a call back made. (The pivot's own work may still land meanwhile: its alerts,
    // their IPs fetched ahead; those are first requests, not repeats.)
    let log = sim.requests();
    let (there, since) = log.split_at(calls);
    let again: Vec<&str> = since
        .iter()
        .map(|r| r.path.as_str())
        .filter(|p| there.iter().any(|r| r.path == *p))
        .collect();
    assert!(
        again.is_empty(),
        "back along the trail made calls: {again:?}"
    );
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("EXITED="));
    assert!(screen.contains("EXITED=0"), "{screen}");
}
