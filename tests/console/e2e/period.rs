//! The prevalence period through the real loop: `p` steps the IP on screen through 1 day,
//! 7 days and 30 days, the pane says which, and each period reaches the simulator once.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p_steps_the_period_and_each_period_is_asked_once() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("30 days first", |s| {
            s.contains("Prevalence · 30 days") && s.contains("63,515")
        })
        .await;
    for period in ["1 day", "7 days", "30 days", "1 day"] {
        console.press(KeyCode::Char('p'));
        let title = format!("Prevalence · {period}");
        let screen = console
            .wait_for(&title, |s| s.contains(&title) && s.contains("devices "))
            .await;
        assert_eq!(screen.contains("63,515"), period == "30 days", "{screen}");
    }
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    let stats: Vec<String> = sim
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/api/ips/10.209.67.177/stats"))
        .collect();
    assert_eq!(
        stats,
        [
            "/api/ips/10.209.67.177/stats?lookBackHours=720",
            "/api/ips/10.209.67.177/stats?lookBackHours=24",
            "/api/ips/10.209.67.177/stats?lookBackHours=168",
        ],
        "back to a period seen costs no call"
    );
    sim.shutdown().await;
}
