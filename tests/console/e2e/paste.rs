//! Pastes through the real loop, as analysts paste from tickets, chat and logs: a line with its
//! CRLF and invisible characters, a ticket paragraph with several IPs and a network, and the
//! IPv4-mapped form Windows logs write.

use super::*;

fn calls_to(sim: &sim::SimHandle, ip: &str) -> usize {
    let stats = format!("/api/ips/{ip}/stats?lookBackHours=720");
    sim.requests().iter().filter(|r| r.path == stats).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_line_keeps_no_crlf_or_invisibles_and_is_looked_up() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.paste("\u{200b}10.209.67.177\u{feff}\r\n");
    let screen = console
        .wait_for("the pasted IP, clean and valid", |s| s.contains("✓ IPv4"))
        .await;
    assert!(
        !screen.contains('\u{fffd}'),
        "no replacement character:\n{screen}"
    );
    console.press(KeyCode::Enter);
    console
        .wait_for("the lookup", |s| s.contains("Alerts · 10.209.67.177"))
        .await;
    wait_for_requests(
        &sim,
        &["/api/ips/10.209.67.177/stats?lookBackHours=720".to_owned()],
    )
    .await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_ticket_offers_every_ip_says_what_it_skipped_and_queues_the_rest() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.paste(
        "Ticket 4711\r\nBeaconing from 10[.]209[.]67[.]177 to hxxp://104.80.104.128:8080/a \
         and ::ffff:23.203.232.228.\r\nThe range 10.0.0.0/8 is ours.\r\n",
    );
    console
        .wait_for("what was found and skipped", |s| {
            s.contains("3 IPs found · 1 skipped: 10.0.0.0/8 is a network (/8), not one host")
                && s.contains("Enter looks them all up · Esc keeps only the first")
        })
        .await;
    assert_eq!(sim.requests().len(), 0, "nothing is asked before Enter");
    console.press(KeyCode::Enter);
    console
        .wait_for("the first looked up", |s| {
            s.contains("Alerts · 10.209.67.177")
        })
        .await;
    wait_for_requests(
        &sim,
        &[
            "/api/ips/10.209.67.177/stats?lookBackHours=720".to_owned(),
            "/api/ips/104.80.104.128/stats?lookBackHours=720".to_owned(),
            "/api/ips/23.203.232.228/stats?lookBackHours=720".to_owned(),
        ],
    )
    .await;
    assert_eq!(calls_to(&sim, "10.0.0.0"), 0, "the network is never asked");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_ipv6_is_looked_up_as_its_ipv4_and_the_screen_says_so() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.paste("::ffff:10.209.67.177\r\n");
    console.press(KeyCode::Enter);
    console
        .wait_for("the IPv4's lookup, said", |s| {
            s.contains("Alerts · 10.209.67.177")
                && s.contains("::ffff:10.209.67.177: IPv4-mapped, looked up as 10.209.67.177")
        })
        .await;
    assert_eq!(calls_to(&sim, "::ffff:10.209.67.177"), 0);
    sim.shutdown().await;
}
