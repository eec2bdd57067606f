//! The case through the real loop: reopened where it was at no cost, `e` writing its report,
//! and offline serving the cache with its age.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_case_is_where_it_was_and_costs_no_request() {
    let sim = demo_sim().await;
    let data = tempfile::tempdir().unwrap();

    let (mut console, db) = Console::wired(&sim, data.path(), "INC-7", false);
    console
        .wait_for("the case", |s| s.contains("case INC-7"))
        .await;
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    console.press(KeyCode::Tab); // details: no alert open, so the note is on the IP
    console.press(KeyCode::Char('n'));
    console.type_text("seen on the proxy too");
    console.press(KeyCode::Enter);
    console
        .wait_for("the note", |s| s.contains("notes 1"))
        .await;
    // Stats, alerts, and the prefetch of the three newest alerts' IPs: all answered (and so
    // cached) before quitting. Work still queued at quit is dropped, and would be asked again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sim.requests().len() < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:#?}",
            sim.requests()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    let calls = sim.requests().len();
    assert_eq!(calls, 5, "{:#?}", sim.requests());

    // A new process, the same case: the same place, from the cache, with its age and note.
    let (mut console, db) = Console::wired(&sim, data.path(), "INC-7", false);
    let screen = console
        .wait_for("the place it was left", |s| {
            s.contains("Alerts · 10.209.67.177") && s.contains("63,515") && s.contains("· cached")
        })
        .await;
    assert!(screen.contains("as of just now · cached"), "{screen}");
    assert!(
        screen.contains("notes 1 · seen on the proxy too"),
        "{screen}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.requests().len(), calls, "nothing asked again");
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_writes_the_case_report_with_the_path_the_data_and_the_note() {
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
    let data = tempfile::tempdir().unwrap();

    let (mut console, db) = Console::wired(&sim, data.path(), "INC-9", false);
    console
        .wait_for("the case", |s| s.contains("case INC-9"))
        .await;
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    (0..alert_row).for_each(|_| console.press(KeyCode::Char('j')));
    console.press(KeyCode::Enter);
    console
        .wait_for("the opened alert", |s| {
            s.contains("Enter: pivot") && s.contains(DOC_ALERT)
        })
        .await;
    // Opening moved the focus to the related IPs; the details pane is about the open alert.
    console.press(KeyCode::BackTab);
    console.press(KeyCode::Char('n'));
    console.type_text("cradle fetched stage two from 104.80.104.128");
    console.press(KeyCode::Enter);
    console
        .wait_for("the note", |s| s.contains("note saved on alert"))
        .await;

    console.press(KeyCode::Char('e'));
    let screen = console
        .wait_for("the report's notice", |s| s.contains(".md written in"))
        .await;
    // The notice names the file first (the directory is what a narrow bar cuts).
    let notice = screen
        .lines()
        .find_map(|l| l.split_once("report INC-9-").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("the notice names the case's file:\n{screen}"));
    let file = format!("INC-9-{}", &notice[..notice.find(".md").unwrap() + 3]);
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();

    let path = data.path().join("reports").join(&file);
    let md = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(md.starts_with("# Case INC-9\n"), "{md}");
    // The pivot path: the IP, then the alert opened from it, in order.
    let path_section = &md[md.find("## Pivot path").expect(&md)..md.find("## IPs").expect(&md)];
    let steps: Vec<&str> = path_section
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(steps.len(), 2, "{path_section}");
    assert!(
        steps[0].starts_with("1. ") && steps[0].contains("[10.209.67.177]("),
        "{path_section}"
    );
    assert!(
        steps[1].starts_with("2. ") && steps[1].contains(&format!("→ alert [{DOC_ALERT}](")),
        "{path_section}"
    );
    assert!(
        md.contains("- Prevalence over 30 days: 63,515 device(s) in the org"),
        "the IP's prevalence: {md}"
    );
    assert!(
        md.contains("### Suspicious PowerShell download cradle")
            && md.contains(&format!(
                "- Alert: [{DOC_ALERT}](https://security.microsoft.com/alerts/{DOC_ALERT}"
            )),
        "the alert opened: {md}"
    );
    let alert_section = &md[md.find("## Alerts").expect(&md)..];
    assert!(
        alert_section.contains(": cradle fetched stage two from 104.80.104.128"),
        "the note, under the alert it is about: {alert_section}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_console_says_so_and_serves_the_cache_with_its_age() {
    let sim = demo_sim().await;
    let data = tempfile::tempdir().unwrap();

    // Online first, to fill the cache.
    let (mut console, db) = Console::wired(&sim, data.path(), "warm", false);
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    console
        .wait_for("prevalence and alerts", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    // As if fetched 12 minutes ago, so the age shown is the stored one.
    let conn = rusqlite::Connection::open(data.path().join(mde_triage::store::FILE_NAME)).unwrap();
    let aged = conn
        .execute(
            "UPDATE responses SET fetched_ms = fetched_ms - 12 * 60000",
            [],
        )
        .unwrap();
    assert!(aged >= 2, "stats and alerts were cached");
    drop(conn);
    let calls = sim.requests().len();

    // Another case, so the lookup is typed rather than restored.
    let (mut console, db) = Console::wired(&sim, data.path(), "cold", true);
    let screen = console
        .wait_for("the title bar", |s| s.contains("case cold"))
        .await;
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("OFFLINE · cache only"),
        "{screen}"
    );
    console.type_text(DOC_IP);
    console.press(KeyCode::Enter);
    let screen = console
        .wait_for("the cached answer", |s| {
            s.contains("63,515") && s.contains("Sev ")
        })
        .await;
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("OFFLINE · cache only"),
        "{screen}"
    );
    // The stats pane (the left column, under the input) gives the answer's age and source.
    let stats_pane: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("┌ Prevalence"))
        .take_while(|l| !l.starts_with('└'))
        .collect();
    assert!(
        stats_pane
            .iter()
            .any(|l| l.starts_with("│as of 12 min ago · cached")),
        "{screen}"
    );
    console.press(KeyCode::Char('q'));
    console.run.await.unwrap().unwrap();
    db.finish();
    assert_eq!(
        sim.requests().len(),
        calls,
        "offline: nothing reached the network: {:#?}",
        &sim.requests()[calls..]
    );
    sim.shutdown().await;
}
