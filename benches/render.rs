//! Drawing cost with a big table: 10,000 alerts for one IP at 200×60, as a frame after an
//! answer arrives, and as a key press (j) handled and drawn, in the newest, severity-sorted
//! and filtered views. And with 100 alerts, to show that rows off screen cost (almost) nothing.
//!
//!     cargo bench --bench render

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::KeyCode;
use mde_triage::app::{State, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::{console, key};

fn draw(terminal: &mut Terminal<TestBackend>, s: &State) {
    terminal.draw(|f| mde_triage::ui::draw(s, f)).unwrap();
}

fn bench(c: &mut Criterion) {
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    for (n, label) in [(10_000, "10k"), (100, "100")] {
        let mut s = console(n);
        c.bench_function(&format!("frame_200x60_{label}_alerts"), |b| {
            b.iter(|| draw(&mut terminal, &s))
        });
        c.bench_function(&format!("key_j_and_frame_200x60_{label}_alerts"), |b| {
            b.iter(|| {
                update(&mut s, key(KeyCode::Char('j')));
                draw(&mut terminal, &s)
            })
        });
    }
    let mut s = console(10_000);
    update(&mut s, key(KeyCode::Char('s')));
    c.bench_function("frame_200x60_10k_alerts_by_severity", |b| {
        b.iter(|| draw(&mut terminal, &s))
    });
    update(&mut s, key(KeyCode::Char('/')));
    for ch in "finance 77".chars() {
        update(&mut s, key(KeyCode::Char(ch)));
    }
    c.bench_function("frame_200x60_10k_alerts_filtered", |b| {
        b.iter(|| draw(&mut terminal, &s))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
