//! Lookups through the real loop: the pivot loop with a free way back, invalid input that asks
//! nothing, server failures shown in their pane, the mouse, keys never slowed by a slow API,
//! and README's screen as the demo draws it.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pivot_loop_against_the_simulator_with_free_back() {
    let sim = demo_sim().await;
    let probe = Client::new(
        ClientConfig {
            base_url: sim.url.clone(),
            timeout: Duration::from_secs(10),
        },
        Arc::new(StaticToken::new(sim.token.clone())),
    )
    .unwrap();
    let alert_row = row_of(&probe, FetchKey::IpAlerts(ip(DOC_IP)), DOC_ALERT).await;
    let ip_row = row_of(
        &probe,
        FetchKey::AlertIps(alert_id(DOC_ALERT)),
        "104.80.104.128",
    )
    .await;

    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;

    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    assert!(
        screen.contains("2017-07-30 13:36:06Z") && screen.contains("2017-08-29 13:32:59Z"),
        "{screen}"
    );

    (0..alert_row).for_each(|_| console.press(KeyCode::Char('j')));
    console.press(KeyCode::Enter);
    console
        .wait_for("the alert's related IPs", |s| {
            s.contains("104.80.104.128") && s.contains("23.203.232.228")
        })
        .await;
    let screen = console
        .wait_for("the related IPs' prevalence", |s| !s.contains("loading"))
        .await;
    assert!(
        screen.contains(DOC_ALERT),
        "details show the opened alert:\n{screen}"
    );

    (0..ip_row).for_each(|_| console.press(KeyCode::Char('j')));
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("the pivot", |s| {
            s.contains("Alerts · 104.80.104.128") && !s.contains("loading")
        })
        .await;
    assert!(
        screen.lines().next().unwrap().contains("› 104.80.104.128"),
        "breadcrumb:\n{screen}"
    );

    // Prefetch: the related IPs of the newest alerts of each IP the analyst stood on (three
    // at most) are fetched ahead, in the background. Wait until they are in, then nothing
    // else may be asked.
    let mut prefetched = Vec::new();
    for seen in [DOC_IP, "104.80.104.128"] {
        let page = probe
            .call(Call::first(FetchKey::IpAlerts(ip(seen))))
            .await
            .unwrap();
        let FetchValue::Alerts(mut alerts) = page.value else {
            panic!()
        };
        mde_triage::defender::model::newest_first(&mut alerts);
        prefetched.extend(
            alerts
                .iter()
                .take(3)
                .map(|a| format!("/api/alerts/{}/ips", a.id)),
        );
    }
    wait_for_requests(&sim, &prefetched).await;

    let asked = sim.requests().len();
    console.press(KeyCode::Backspace);
    console.press(KeyCode::Backspace);
    let screen = console
        .wait_for("back at the first IP", |s| {
            s.contains("Alerts · 10.209.67.177")
        })
        .await;
    assert!(screen.contains("63,515"));
    console.press(KeyCode::Char(']'));
    console
        .wait_for("forward to the alert", |s| s.contains("Enter: pivot"))
        .await;
    console.press(KeyCode::Char('['));
    console
        .wait_for("back again", |s| !s.contains("Enter: pivot"))
        .await;
    console.press(KeyCode::Char('q'));
    let state = console.run.await.unwrap().unwrap();

    // Back and forward asked nothing: no new request reached the simulator and none is pending.
    assert_eq!(
        sim.requests().len(),
        asked,
        "{:#?}",
        &sim.requests()[asked..]
    );
    assert!(
        state
            .responses
            .values()
            .all(|r| matches!(r, Remote::Ready { .. }))
    );
    let paths: Vec<_> = sim.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.as_str() == "/api/ips/10.209.67.177/stats?lookBackHours=720")
            .count(),
        1,
        "{paths:#?}"
    );
    // The opened alert was among the prefetched ones: the console asked for its related IPs
    // once (the other request in the log is this test's probe, made before the console ran).
    let doc_ips = format!("/api/alerts/{DOC_ALERT}/ips");
    assert!(prefetched.contains(&doc_ips));
    assert_eq!(
        paths.iter().filter(|p| **p == doc_ips).count(),
        2,
        "{paths:#?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_makes_no_request_and_the_console_stays_usable() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.type_text("10.209.67.1777");
    console.press(KeyCode::Enter);
    console
        .wait_for("the complaint", |s| {
            s.contains("is not an IPv4 or IPv6 address")
        })
        .await;
    console.press(KeyCode::Backspace);
    console.press(KeyCode::Enter);
    console
        .wait_for("the lookup", |s| s.contains("Alerts · 10.209.67.177"))
        .await;
    console
        .keys
        .send(Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        ))))
        .unwrap();
    console.run.await.unwrap().unwrap();
    assert!(sim.requests().iter().all(|r| !r.path.contains("1777")));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_failures_show_in_the_pane_not_as_a_crash() {
    let config = SimConfig {
        fail_rate: 1.0,
        ..demo_config()
    };
    let sim = sim_with(config).await;
    let mut console = Console::start(&sim);
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    // Under the real clock the scheduler's backoff takes a few seconds; the pane says so first.
    console
        .wait_for("a retry notice", |s| s.contains("retrying"))
        .await;
    // The console answers keys while the scheduler waits to retry.
    console.press(KeyCode::Char('?'));
    console
        .wait_for("help during the backoff", |s| {
            s.contains("back along the trail")
        })
        .await;
    console.press(KeyCode::Esc);
    // After the last attempt: the error, said plainly, in the pane.
    console
        .wait_for("the final error in both panes", |s| {
            s.matches("the API had a server error").count() >= 2 && !s.contains("retrying")
        })
        .await;
    let calls = sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/ips/"))
        .count();
    assert_eq!(calls, 6, "three attempts each for stats and alerts");
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mouse_opens_an_alert_and_pivots_through_the_real_loop() {
    let sim = demo_sim().await;
    let mut console = Console::start(&sim);
    console
        .wait_for("the start screen", |s| s.contains("SIMULATED TENANT"))
        .await;
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("the alerts", |s| s.contains("Suspicious PowerShell d"))
        .await;
    // One click selects the row, a second on the same row opens the alert.
    console.click_on(&screen, "Suspicious PowerShell d");
    console.click_on(&screen, "Suspicious PowerShell d");
    let screen = console
        .wait_for("the opened alert's related IPs", |s| {
            s.contains("Enter: pivot") && s.contains("104.80.104.128")
        })
        .await;
    assert!(screen.contains(DOC_ALERT), "{screen}");
    console.click_on(&screen, "104.80.104.128");
    console.click_on(&screen, "104.80.104.128");
    let screen = console
        .wait_for("the pivot", |s| s.contains("Alerts · 104.80.104.128"))
        .await;
    assert!(
        screen.lines().next().unwrap().contains("› 104.80.104.128"),
        "breadcrumb:\n{screen}"
    );
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_never_slows_the_keys() {
    // Every answer takes 3 s (`sim --latency-ms 3000`): the console keeps answering keys, and
    // the panes say what they wait for.
    let config = SimConfig {
        latency: Duration::from_secs(3),
        ..demo_config()
    };
    let sim = sim_with(config).await;
    let mut console = Console::start(&sim);
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("the loading panes", |s| s.contains("loading"))
        .await;
    console.press(KeyCode::Char('?'));
    console
        .wait_for("help while the API is slow", |s| {
            s.contains("back along the trail")
        })
        .await;
    assert!(
        sim.requests().is_empty(),
        "help came before any answer: {:?}",
        sim.requests()
    );
    console.press(KeyCode::Esc);
    console.press(KeyCode::Char('b'));
    console
        .wait_for("the budget popup, still before the answers", |s| {
            s.contains("429s") || s.contains("paused")
        })
        .await;
    assert!(sim.requests().is_empty());
    console.press(KeyCode::Esc);
    console
        .wait_for("the answers, in the end", |s| s.contains("63,515"))
        .await;
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    sim.shutdown().await;
}

/// README's capture drawn by the demo on a clock `ahead` of today's: at 100×30, after typing
/// 10.209.67.177 and opening its High alert. The story is told as `demo` tells it on that
/// clock's day, so ages and times of day are README's and its story dates (not the
/// documentation's 2017 ones) move by the whole days since the asset's instant. The port
/// varies; the case's name is README's own. Returns the screen drawn and README's, its dates
/// moved as the story's were.
async fn readme_screen_on(ahead: chrono::TimeDelta) -> (String, String) {
    let documented = readme_screen();
    let case = documented
        .lines()
        .next()
        .and_then(|l| l.split("case ").nth(1))
        .and_then(|l| l.split(' ').next())
        .expect("the capture names its case");
    // The story's day is reckoned here, not by the console's clock: a console that missed
    // the span would ask a story told in its future, and be refused.
    let now = Utc::now() + ahead;
    let story = sim::Dataset::demo_on(now);
    let days = (story.told_at() - sim::Dataset::demo().told_at()).num_days();
    let sim = sim_with(SimConfig {
        dataset: Arc::new(story),
        ..SimConfig::default()
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let (mut console, db) = Console::wired_at(
        &sim,
        data.path(),
        case,
        false,
        (100, 30),
        Wall::ahead(ahead),
    );
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("the alerts", |s| s.contains("Suspicious PowerShell d"))
        .await;
    console.press(KeyCode::Char('j'));
    console.press(KeyCode::Enter);
    let port = sim.url.rsplit(':').next().unwrap().to_owned();
    let screen = console
        .wait_for("the alert opened and everything in", |s| {
            s.contains("Enter: pivot")
                && s.contains("not seen")
                && s.contains("0 running · 0 queued")
                && s.contains("by no device")
        })
        .await;
    let drawn: String = screen
        .lines()
        .map(|l| {
            format!(
                "{}\n",
                l.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:41234")
            )
        })
        .collect();
    let fixed = docs_dates();
    let fixed: Vec<&str> = fixed.iter().map(String::as_str).collect();
    let documented = dates_moved(&documented, days, now, &fixed);
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    sim.shutdown().await;
    (drawn, documented)
}

/// `screen` with the status bar's digits masked. The budget's figures may differ by a call:
/// with every slot taken, a prefetch still on the wire can be stopped for what the analyst
/// opens and is made again later, counted honestly (an answer that came back before its job
/// went again is used, not asked twice). Its words and layout must still be the README's.
fn budget_digits(screen: &str) -> String {
    let (panes, status) = screen.trim_end().rsplit_once('\n').unwrap_or(("", screen));
    let status: String = status
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    format!("{panes}\n{status}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_screen_is_what_the_demo_draws() {
    let (drawn, documented) = readme_screen_on(chrono::TimeDelta::zero()).await;
    assert_eq!(
        budget_digits(&drawn),
        budget_digits(&documented),
        "README's screen drifted; the console draws:\n{drawn}"
    );
}

/// The whole console (loop, scheduler, client, simulator) on a clock 90 days ahead draws the
/// same screen, its story dates 90 days later: the demo never ages, and nothing on it reads
/// the real date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninety_days_on_the_demo_draws_the_readme_screen_still() {
    let (drawn, documented) = readme_screen_on(chrono::TimeDelta::days(90)).await;
    assert!(drawn.contains("by no device the API knows"), "{drawn}");
    assert_eq!(
        budget_digits(&drawn),
        budget_digits(&documented),
        "90 days on, README's screen drifted; the console draws:\n{drawn}"
    );
}
