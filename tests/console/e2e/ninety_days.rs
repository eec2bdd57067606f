//! The demo never ages: README's screen drawn by the console's core on a clock 90 days ahead,
//! answered by the simulator telling the story on that clock, is README's screen with its
//! story dates moved 90 days. The core takes its clock as a message, so here it is any instant,
//! the story's own included (`lookups` runs the whole wired console 90 days ahead of today).

use super::*;

use mde_triage::app::{Cmd, Msg, update};
use mde_triage::fetch::{FetchEvent, Origin};

/// The story's instant as README shows it, and the same clock 90 days on.
fn clocks() -> [DateTime<Utc>; 2] {
    let written = sim::Dataset::demo().told_at();
    [written, written + chrono::Duration::days(90)]
}

/// README's keys (the docs' IP, Enter, the High alert one row down, Enter) through `update`
/// on the clock `now`, each fetch answered by a simulator telling the story at `now`,
/// answered at `now` as the scheduler would stamp it; the screen at 100×30.
async fn readme_screen_at(now: DateTime<Utc>) -> String {
    let sim = sim_with(SimConfig {
        dataset: Arc::new(sim::Dataset::demo_at(now)),
        ..SimConfig::default()
    })
    .await;
    let client = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(sim.token.clone())),
    )
    .unwrap()
    // The client judges findbyip's 30 days by the story's clock.
    .with_wall(mde_triage::clock::Wall::ahead(now - Utc::now()));
    let mut state = State::new(
        Some("SIMULATED TENANT".into()),
        "http://127.0.0.1:41234".to_owned(),
    );
    let mut msgs = vec![Msg::Clock(now), Msg::Start];
    msgs.extend(DOC_IP.chars().map(ch));
    msgs.extend([key(KeyCode::Enter), ch('j'), key(KeyCode::Enter)]);
    for msg in msgs {
        let mut pending = update(&mut state, msg);
        while !pending.is_empty() {
            let mut next = Vec::new();
            for cmd in pending {
                let Cmd::Fetch(r) = cmd else { continue };
                let result = client
                    .call(Call::first(r.key.clone()))
                    .await
                    .map(|p| p.value);
                let done = FetchEvent::Done {
                    key: r.key,
                    ticket: r.ticket,
                    result,
                    at: now,
                    origin: Origin::Network,
                };
                next.extend(update(&mut state, Msg::Fetch(done)));
            }
            pending = next;
        }
    }
    sim.shutdown().await;
    render(&state, 100, 30)
}

/// Every row between the title and the status bar: the title names a case and the status bar
/// the budget, which only the wired loop has (`lookups` compares those).
fn panes(screen: &str) -> String {
    let rows: Vec<&str> = screen.lines().collect();
    rows[1..rows.len() - 1].join("\n")
}

#[tokio::test]
async fn readme_s_screen_90_days_later_is_the_same_with_its_dates_moved() {
    let [written, later] = clocks();
    let fixed = docs_dates();
    let fixed: Vec<&str> = fixed.iter().map(String::as_str).collect();
    let today = readme_screen_at(written).await;
    let then = readme_screen_at(later).await;
    assert!(
        then.contains("by no device the API knows"),
        "who held the IP is asked 90 days on too:\n{then}"
    );
    assert_eq!(
        panes(&dates_moved(&today, 90, written, &fixed)),
        panes(&then),
        "90 days on, the demo draws:\n{then}"
    );
    assert_eq!(
        panes(&today),
        panes(&readme_screen()),
        "README's screen drifted; told at {written} the demo draws:\n{today}"
    );
}
