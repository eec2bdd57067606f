//! Resident memory of a console holding 10,000 alerts for one IP, drawn once at 200×60.
//! Prints the process's VmRSS (Linux) before and after, so the figure is the whole process,
//! allocator and all, not an estimate.
//!
//!     cargo bench --bench memory

mod support;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // `cargo bench` passes --bench; a plain build-and-run (`cargo test --benches`) does not.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let before = rss_kib();
    let s = support::console(10_000);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    terminal.draw(|f| mde_triage::ui::draw(&s, f)).unwrap();
    let shown = s
        .shown_alerts(&mde_triage::app::Subject::Ip(support::IP.parse().unwrap()))
        .len();
    let after = rss_kib();
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "memory: {shown} alerts loaded and drawn at 200x60: RSS {:.1} MB (was {:.1} MB before loading)",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        ),
        _ => println!("memory: /proc/self/status not readable here (Linux only)"),
    }
}
