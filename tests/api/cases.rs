//! The database through the real binary against the simulator: answers cached across
//! restarts, offline mode, stale entries refreshed (or kept when the refresh fails), the
//! budget's memory of the last hour, two processes writing one case, files that are not ours
//! set aside, `cases` and `export`.

use crate::support;
use crate::support::sim_with;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mde_triage::sim::{SimConfig, SimHandle};
use serde_json::Value;
use support::{DOC_ALERT, DOC_IP};

/// A data directory of its own (and config and logs next to it).
fn home() -> PathBuf {
    tempfile::Builder::new()
        .prefix("mde-triage-cases-")
        .tempdir()
        .unwrap()
        .keep()
}

fn command(home: &Path, sim: &SimHandle, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mde-triage"));
    cmd.args(args)
        .env("MDE_TRIAGE_DATA_DIR", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("MDE_API_URL", &sim.url)
        .env("MDE_TOKEN", &sim.token)
        .env_remove("MDE_CASE")
        .env_remove("AZURE_TENANT_ID")
        .env("PATH", "")
        .env("MDE_TRIAGE_LOG", "off");
    cmd
}

/// Runs the binary off the async runtime, so the in-process simulator keeps serving.
async fn run(home: &Path, sim: &SimHandle, args: &[&str]) -> Output {
    let mut cmd = command(home, sim, args);
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn api_calls(sim: &SimHandle) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_lookup_after_a_restart_makes_no_request() {
    let sim = sim_with(SimConfig::default()).await;
    let home = home();
    let first = run(&home, &sim, &["ip", DOC_IP, "--json"]).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(api_calls(&sim), 2, "stats and alerts");

    let second = run(&home, &sim, &["ip", DOC_IP, "--json"]).await;
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(api_calls(&sim), 2, "served from the cache: no new request");
    assert_eq!(text(&first.stdout), text(&second.stdout), "the same answer");
    assert!(
        text(&second.stderr).contains("served from the cache (fetched just now)"),
        "and says how old it is: {}",
        text(&second.stderr)
    );
    assert!(!text(&first.stderr).contains("served from the cache"));

    // --no-cache asks the API again (and keeps the fresh answer).
    let fresh = run(&home, &sim, &["ip", DOC_IP, "--json", "--no-cache"]).await;
    assert!(fresh.status.success());
    assert_eq!(api_calls(&sim), 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_serves_the_cache_and_says_what_is_missing() {
    let sim = sim_with(SimConfig::default()).await;
    let home = home();
    assert!(
        run(&home, &sim, &["alert", DOC_ALERT])
            .await
            .status
            .success()
    );
    let calls = api_calls(&sim);

    let cached = run(&home, &sim, &["--offline", "alert", DOC_ALERT, "--json"]).await;
    assert!(cached.status.success(), "{}", text(&cached.stderr));
    let v: Value = serde_json::from_slice(&cached.stdout).unwrap();
    assert!(
        v["ips"]
            .as_array()
            .unwrap()
            .contains(&Value::from("104.80.104.128"))
    );

    let missing = run(&home, &sim, &["--offline", "ip", "203.0.113.9"]).await;
    assert_eq!(missing.status.code(), Some(15), "{}", text(&missing.stderr));
    assert!(text(&missing.stderr).contains("offline, and not in the cache"));
    assert_eq!(api_calls(&sim), calls, "offline never touches the network");
    sim.shutdown().await;
}

/// Moves every cached answer `minutes` into the past, as if fetched that long ago.
fn age_the_cache(home: &Path, minutes: i64) {
    let db = home.join("data").join(mde_triage::store::FILE_NAME);
    let conn = rusqlite::Connection::open(db).unwrap();
    let moved = conn
        .execute(
            "UPDATE responses SET fetched_ms = fetched_ms - ?1",
            [minutes * 60_000],
        )
        .unwrap();
    assert!(moved > 0, "there was something cached to age");
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_output_says_it_is_from_the_cache_and_how_old() {
    let sim = sim_with(SimConfig::default()).await;
    let home = home();
    let online = run(&home, &sim, &["ip", DOC_IP, "--json"]).await;
    assert!(online.status.success(), "{}", text(&online.stderr));
    assert!(
        run(&home, &sim, &["alert", DOC_ALERT])
            .await
            .status
            .success()
    );
    let calls = api_calls(&sim);
    age_the_cache(&home, 12);

    let table = run(&home, &sim, &["--offline", "ip", DOC_IP]).await;
    assert!(table.status.success(), "{}", text(&table.stderr));
    let out = text(&table.stdout);
    assert_eq!(
        out.lines().next(),
        Some("offline: from the cache, as of 12 min ago"),
        "the label comes first, with the age of the data: {out}"
    );
    assert!(out.contains("prevalence 63515 devices"), "{out}");
    let err = text(&table.stderr);
    assert!(
        err.contains("offline: served from the cache (fetched 12 min ago)"),
        "{err}"
    );
    assert!(
        !err.contains("--no-cache"),
        "offline, --no-cache would ask nothing either: {err}"
    );

    let alert = text(
        &run(&home, &sim, &["--offline", "alert", DOC_ALERT])
            .await
            .stdout,
    );
    assert_eq!(
        alert.lines().next(),
        Some("offline: from the cache, as of 12 min ago"),
        "{alert}"
    );

    // JSON keeps its stable shape: the same document as online, nothing added.
    let json = run(&home, &sim, &["--offline", "ip", DOC_IP, "--json"]).await;
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert_eq!(text(&json.stdout), text(&online.stdout));
    assert!(text(&json.stderr).contains("offline: served from the cache (fetched 12 min ago)"));
    assert_eq!(api_calls(&sim), calls, "offline never touches the network");
    sim.shutdown().await;
}

/// The same data directory, pointed at another simulator: its cached answers are that one's.
fn move_the_cache(home: &Path, from: &SimHandle, to: &SimHandle) {
    let db = home.join("data").join(mde_triage::store::FILE_NAME);
    let conn = rusqlite::Connection::open(db).unwrap();
    let moved = conn
        .execute(
            "UPDATE responses SET scope = replace(scope, ?1, ?2)",
            [from.url.trim_end_matches('/'), to.url.trim_end_matches('/')],
        )
        .unwrap();
    assert!(moved > 0, "there was something cached to move");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_refresh_gives_the_cached_answer_and_says_so() {
    let first_sim = sim_with(SimConfig::default()).await;
    let home = home();
    let first = run(&home, &first_sim, &["ip", DOC_IP, "--json"]).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    // Two hours on, both answers are stale; where they are refreshed, alerts are refused.
    age_the_cache(&home, 120);
    let sim = sim_with(SimConfig {
        roles: vec!["Ip.Read.All".into()],
        ..SimConfig::default()
    })
    .await;
    move_the_cache(&home, &first_sim, &sim);
    let again = run(&home, &sim, &["ip", DOC_IP, "--json"]).await;
    let err = text(&again.stderr);
    assert!(again.status.success(), "{err}");
    assert_eq!(api_calls(&sim), 2, "both stale answers were asked again");
    assert_eq!(
        text(&again.stdout),
        text(&first.stdout),
        "the fresh stats and the cached alerts"
    );
    let refused: Vec<&str> = err.lines().filter(|l| l.contains("refresh")).collect();
    assert_eq!(refused.len(), 1, "{err}");
    assert!(
        refused[0].starts_with(&format!(
            "mde-triage: alerts of {DOC_IP}: could not refresh ("
        )) && refused[0].ends_with("); using the cached answer"),
        "{err}"
    );
    // The stats came fresh; only the refused refresh speaks of the cache.
    assert!(!err.contains("served from the cache"), "{err}");
    first_sim.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_entry_is_refreshed() {
    let sim = sim_with(SimConfig::default()).await;
    let home = home();
    let config = home.join("config.toml");
    // Alerts never stay fresh; stats keep the default hour.
    std::fs::write(&config, "[settings]\ncache_ttl = { alerts = \"0s\" }\n").unwrap();
    let cfg = config.to_str().unwrap();
    assert!(
        run(&home, &sim, &["--config", cfg, "ip", DOC_IP])
            .await
            .status
            .success()
    );
    assert_eq!(api_calls(&sim), 2);
    let again = run(&home, &sim, &["--config", cfg, "ip", DOC_IP, "--json"]).await;
    assert!(again.status.success(), "{}", text(&again.stderr));
    let paths: Vec<String> = sim.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths.len(),
        3,
        "only the stale alerts were asked again: {paths:?}"
    );
    assert!(paths[2].ends_with("/alerts"), "{paths:?}");
    let v: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["stats"]["prevalence"], 63515);

    let bad = std::fs::write(&config, "[settings]\ncache_ttl = { alerts = \"soon\" }\n");
    bad.unwrap();
    let refused = run(&home, &sim, &["--config", cfg, "ip", DOC_IP]).await;
    assert_eq!(refused.status.code(), Some(11));
    assert!(
        text(&refused.stderr).contains("line 2"),
        "{}",
        text(&refused.stderr)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_within_the_hour_remembers_the_calls_made() {
    let sim = sim_with(SimConfig::default()).await;
    let plan = |home: PathBuf| {
        let sim = &sim;
        async move {
            let out = run(
                &home,
                sim,
                &[
                    "--rate-limit",
                    "3/1h",
                    "--reserve",
                    "0",
                    "expand",
                    "--plan",
                    "--depth",
                    "0",
                    "198.51.100.1",
                    "198.51.100.2",
                    "198.51.100.3",
                ],
            )
            .await;
            assert!(out.status.success(), "{}", text(&out.stderr));
            text(&out.stdout)
        }
    };
    let home = home();
    let before = plan(home.clone()).await;
    assert!(before.contains("need at least 0s"), "{before}");
    // One call per endpoint, in another process.
    let spent = run(&home, &sim, &["--rate-limit", "3/1h", "ip", DOC_IP]).await;
    assert!(spent.status.success());
    let after = plan(home.clone()).await;
    assert!(
        after.contains("need at least 59m") || after.contains("need at least 1h"),
        "3 calls with 1 of 3 spent: the third waits for the hour: {after}"
    );
    assert!(
        after.contains("1 call(s)") || after.contains("2 call(s)"),
        "{after}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_writing_one_case_lose_nothing() {
    let sim = sim_with(SimConfig {
        dataset: std::sync::Arc::new(mde_triage::sim::Dataset::synthetic(200, 7)),
        ..SimConfig::default()
    })
    .await;
    let home = home();
    let walk = |seed: &'static str| {
        let mut cmd = command(
            &home,
            &sim,
            &[
                "--case",
                "shared",
                "--rate-limit",
                "1000/1m",
                "expand",
                seed,
                "--depth",
                "2",
            ],
        );
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    let (a, b) = tokio::join!(walk("10.0.0.1"), walk("10.0.0.2"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        text(&a.stderr),
        text(&b.stderr)
    );
    let nodes = text(&a.stdout).lines().count() + text(&b.stdout).lines().count();
    assert!(nodes > 20, "a walk big enough to overlap: {nodes}");

    let export = run(&home, &sim, &["export", "shared", "--format", "json"]).await;
    assert!(export.status.success(), "{}", text(&export.stderr));
    let v: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(
        v["path"].as_array().unwrap().len(),
        nodes,
        "one step per node written"
    );
    let calls = v["calls"]["total"].as_u64().unwrap();
    assert!(
        calls as usize >= nodes / 2,
        "calls counted against the case: {calls}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_or_foreign_database_is_set_aside() {
    let sim = sim_with(SimConfig::default()).await;
    for (what, make) in [("corrupt", "garbage" as &str), ("foreign", "sqlite")] {
        let home = home();
        let data = home.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let db = data.join("mde-triage.db");
        if make == "garbage" {
            std::fs::write(&db, b"this is not a database, it is a grocery list").unwrap();
        } else {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute_batch(
                "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');",
            )
            .unwrap();
        }
        let out = run(&home, &sim, &["ip", DOC_IP]).await;
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains("moved to") && err.contains(what),
            "{what}: {err}"
        );
        let aside: Vec<_> = std::fs::read_dir(&data)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(&format!(".{what}-")))
            .collect();
        assert_eq!(
            aside.len(),
            1,
            "{what}: the old file is kept beside: {aside:?}"
        );
        // The fresh database works: the next run is served from it.
        let before = api_calls(&sim);
        assert!(run(&home, &sim, &["ip", DOC_IP]).await.status.success());
        assert_eq!(api_calls(&sim), before);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unusable_data_directory_leaves_the_tool_working_from_memory() {
    let sim = sim_with(SimConfig::default()).await;
    let home = home();
    // A file where the directory should be: cannot be created, by root or anyone.
    std::fs::write(home.join("data"), "not a directory").unwrap();
    let out = run(&home, &sim, &["ip", DOC_IP, "--json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("working from memory"), "{err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["stats"]["prevalence"], 63515);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cases_are_listed_and_exported() {
    let sim = sim_with(SimConfig::default()).await;
    let home = home();
    let none = run(&home, &sim, &["cases"]).await;
    assert!(
        text(&none.stdout).contains("No cases yet"),
        "{}",
        text(&none.stdout)
    );

    for args in [
        ["--case", "INC-1042", "ip", DOC_IP],
        ["--case", "INC-1042", "alert", DOC_ALERT],
        ["--case", "INC-1042", "ip", "104.80.104.128"],
    ] {
        let out = run(&home, &sim, &args).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let list = text(&run(&home, &sim, &["cases"]).await.stdout);
    let row = list
        .lines()
        .find(|l| l.starts_with("INC-1042"))
        .expect(&list);
    assert!(row.split_whitespace().any(|w| w == "3"), "3 steps: {row}");

    let md = run(&home, &sim, &["export", "INC-1042"]).await;
    assert!(md.status.success(), "{}", text(&md.stderr));
    let md = text(&md.stdout);
    assert!(md.contains("# Case INC-1042"), "{md}");
    assert!(md.contains("63,515") || md.contains("63515"), "{md}");
    assert!(
        md.contains("https://security.microsoft.com/alerts/"),
        "{md}"
    );

    let file = home.join("report.csv");
    let csv = run(
        &home,
        &sim,
        &[
            "export",
            "INC-1042",
            "--format",
            "csv",
            "-o",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let written = std::fs::read_to_string(&file).unwrap();
    let header = csv::Reader::from_reader(written.as_bytes())
        .headers()
        .unwrap()
        .clone();
    assert_eq!((&header[0], &header[1]), ("kind", "id"), "{written}");
    assert!(written.contains(DOC_IP) && written.contains(DOC_ALERT));

    let unknown = run(&home, &sim, &["export", "INC-9999"]).await;
    assert_eq!(unknown.status.code(), Some(16));
    assert!(text(&unknown.stderr).contains("no case named 'INC-9999'"));
    sim.shutdown().await;
}
