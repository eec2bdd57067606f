//! The local database as the ledger of one user's processes: two ledgers on one file (two
//! connections, as two processes would hold) share every window, the reserve, the pause and
//! nothing across tenants; threads on their own connections never overspend; and one process
//! alone decides exactly what its own `Budget` decides.

mod properties;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mde_triage::defender::Endpoint;
use mde_triage::fetch::budget::Budget;
use mde_triage::fetch::{Ask, BudgetPolicy, Ledger, Priority, Verdict};
use mde_triage::store::StoreLedger;
use proptest::prelude::*;
use tokio::time::Instant;

/// Some fixed wall-clock time: the tests drive the ledger's clock themselves.
const T0: i64 = 1_780_000_000_000;
const SCOPE: &str = "https://api.example profile=- tenant=t1";

fn policy(limits: &str, reserve: f64, slack_ms: u64) -> BudgetPolicy {
    BudgetPolicy {
        limits: limits.parse().unwrap(),
        reserve,
        slack: Duration::from_millis(slack_ms),
    }
}

fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mde-triage.db");
    (dir, path)
}

fn ledger(path: &Path, scope: &str, policy: &BudgetPolicy) -> StoreLedger {
    StoreLedger::open(path, scope.into(), policy.clone()).unwrap()
}

fn ask(endpoint: Endpoint, priority: Priority, seq: u64) -> Ask {
    Ask {
        endpoint,
        priority,
        seq,
    }
}

fn rows(path: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// What one `Budget` holding every admitted call says at `now` (ms): the referee.
fn budget_says(budget: &Budget, base: Instant, now: i64, reserve: f64) -> Verdict {
    let at = base + Duration::from_millis((now - T0) as u64);
    if budget.has_room(at, reserve) {
        Verdict::Admitted
    } else {
        Verdict::Wait(budget.next_free_at(at, reserve) - at)
    }
}

#[test]
fn two_processes_asking_in_turns_get_what_one_budget_of_both_would_give() {
    let (_dir, path) = db();
    let p = policy("3/10s,5/1m", 0.2, 0);
    let ledgers = [ledger(&path, SCOPE, &p), ledger(&path, SCOPE, &p)];
    let base = Instant::now();
    let mut pooled = p.budget();
    let mut admitted = 0;
    for i in 0..60u64 {
        let now = T0 + i as i64 * 1_500;
        let priority = if i % 3 == 0 {
            Priority::Foreground
        } else {
            Priority::Batch
        };
        let got = ledgers[(i % 2) as usize]
            .admit_at(ask(Endpoint::IpStats, priority, i), now)
            .unwrap();
        let want = budget_says(&pooled, base, now, p.reserve_for(priority));
        assert_eq!(got, want, "ask {i} at +{} ms", now - T0);
        if got == Verdict::Admitted {
            pooled.record(base + Duration::from_millis((now - T0) as u64));
            admitted += 1;
        }
    }
    assert!(
        admitted >= 10,
        "the test must reach full windows ({admitted})"
    );
    // Neither window ever held more than its limit, counted over both processes.
    let status = pooled.status(base + Duration::from_secs(90));
    assert!(status.iter().all(|w| w.used <= w.limit));
}

#[test]
fn the_reserve_applies_to_the_pooled_counts() {
    let (_dir, path) = db();
    let p = policy("10/1m", 0.2, 0);
    let (a, b) = (ledger(&path, SCOPE, &p), ledger(&path, SCOPE, &p));
    let e = Endpoint::IpAlerts;
    for seq in 0..4 {
        assert_eq!(
            a.admit_at(ask(e, Priority::Batch, seq), T0),
            Ok(Verdict::Admitted)
        );
        assert_eq!(
            b.admit_at(ask(e, Priority::Batch, seq), T0),
            Ok(Verdict::Admitted)
        );
    }
    // 8 of 10 spent by both: batch work of either stops, the analyst of the other goes on.
    assert_eq!(
        a.admit_at(ask(e, Priority::Batch, 4), T0),
        Ok(Verdict::Wait(Duration::from_secs(60)))
    );
    assert_eq!(
        b.admit_at(ask(e, Priority::Prefetch, 4), T0 + 1),
        Ok(Verdict::Wait(Duration::from_millis(59_999)))
    );
    assert_eq!(
        b.admit_at(ask(e, Priority::Foreground, 5), T0 + 2),
        Ok(Verdict::Admitted)
    );
    assert_eq!(
        b.admit_at(ask(e, Priority::Visible, 6), T0 + 3),
        Ok(Verdict::Admitted)
    );
    assert!(matches!(
        a.admit_at(ask(e, Priority::Foreground, 7), T0 + 4),
        Ok(Verdict::Wait(_))
    ));
    // Another endpoint has its own windows.
    assert_eq!(
        a.admit_at(ask(Endpoint::IpStats, Priority::Batch, 8), T0),
        Ok(Verdict::Admitted)
    );
}

#[test]
fn the_wait_is_exactly_what_the_budget_says_for_the_same_log() {
    let (_dir, path) = db();
    // 1% of 10 s is 100 ms, capped at 40 ms: each call stays on the books 10.04 s.
    let p = policy("4/10s,6/1m", 0.0, 40);
    let (a, b) = (ledger(&path, SCOPE, &p), ledger(&path, SCOPE, &p));
    let base = Instant::now();
    let mut budget = p.budget();
    let times = [0, 700, 2_300, 2_301, 9_000, 10_050];
    let mut waits = Vec::new();
    for (seq, &dt) in times.iter().enumerate() {
        let now = T0 + dt;
        let who = if seq % 2 == 0 { &a } else { &b };
        let got = who
            .admit_at(
                ask(Endpoint::AlertIps, Priority::Foreground, seq as u64),
                now,
            )
            .unwrap();
        assert_eq!(got, budget_says(&budget, base, now, 0.0), "at +{dt} ms");
        match got {
            Verdict::Admitted => budget.record(base + Duration::from_millis(dt as u64)),
            Verdict::Wait(d) => waits.push(d),
            Verdict::Paused(_) => unreachable!(),
        }
    }
    // The 10 s window is full at +9000: the oldest of the four leaves at 10.04 s.
    assert_eq!(waits.first(), Some(&Duration::from_millis(1_040)));
}

#[test]
fn the_same_call_asked_again_counts_once() {
    let (_dir, path) = db();
    let p = policy("2/1m", 0.0, 0);
    let (a, b) = (ledger(&path, SCOPE, &p), ledger(&path, SCOPE, &p));
    let e = Endpoint::IpStats;
    assert_eq!(
        a.admit_at(ask(e, Priority::Foreground, 7), T0),
        Ok(Verdict::Admitted)
    );
    assert_eq!(
        a.admit_at(ask(e, Priority::Foreground, 7), T0 + 5),
        Ok(Verdict::Admitted)
    );
    assert_eq!(rows(&path, "SELECT count(*) FROM admissions"), 1);
    // Another process's seq 7 is another call.
    assert_eq!(
        b.admit_at(ask(e, Priority::Foreground, 7), T0 + 6),
        Ok(Verdict::Admitted)
    );
    assert!(matches!(
        b.admit_at(ask(e, Priority::Foreground, 8), T0 + 7),
        Ok(Verdict::Wait(_))
    ));
    // Already on the books, a retry is still admitted when the window is full.
    assert_eq!(
        a.admit_at(ask(e, Priority::Foreground, 7), T0 + 8),
        Ok(Verdict::Admitted)
    );
}

#[test]
fn a_take_back_refunds_and_a_429_pauses_every_process() {
    let (_dir, path) = db();
    let p = policy("2/1m", 0.0, 0);
    let (a, b) = (ledger(&path, SCOPE, &p), ledger(&path, SCOPE, &p));
    let e = Endpoint::IpAlerts;
    let fg = |seq| ask(e, Priority::Foreground, seq);
    assert_eq!(a.admit_at(fg(1), T0), Ok(Verdict::Admitted));
    assert_eq!(a.admit_at(fg(2), T0), Ok(Verdict::Admitted));
    assert!(matches!(b.admit_at(fg(1), T0 + 1), Ok(Verdict::Wait(_))));
    // Never sent: off the books, the other process has the room.
    a.take_back_at(e, 1, None, T0 + 2).unwrap();
    assert_eq!(b.admit_at(fg(1), T0 + 3), Ok(Verdict::Admitted));
    // Refused with a 429: refunded too, and the endpoint paused for everyone.
    a.take_back_at(e, 2, Some(Duration::from_secs(30)), T0 + 10_000)
        .unwrap();
    assert_eq!(
        b.admit_at(fg(2), T0 + 10_000),
        Ok(Verdict::Paused(Duration::from_secs(30)))
    );
    // A shorter pause does not shorten the one in force.
    b.take_back_at(e, 1, Some(Duration::from_secs(5)), T0 + 20_000)
        .unwrap();
    assert_eq!(
        a.admit_at(fg(3), T0 + 20_000),
        Ok(Verdict::Paused(Duration::from_secs(20)))
    );
    let shared = a.status_at(T0 + 20_000);
    let paused = shared.endpoints.iter().find(|s| s.endpoint == e).unwrap();
    assert!(paused.paused_for.is_some(), "the status shows the pause");
    // Other endpoints are not paused; the pause ends when it says.
    assert_eq!(
        a.admit_at(ask(Endpoint::IpStats, Priority::Foreground, 4), T0 + 20_000),
        Ok(Verdict::Admitted)
    );
    assert_eq!(
        a.admit_at(fg(5), T0 + 39_999),
        Ok(Verdict::Paused(Duration::from_millis(1)))
    );
    assert_eq!(a.admit_at(fg(5), T0 + 40_000), Ok(Verdict::Admitted));
    assert_eq!(
        rows(
            &path,
            "SELECT count(*) FROM admissions WHERE endpoint = 'ip_alerts'"
        ),
        1
    );
}

#[test]
fn a_process_with_shorter_windows_keeps_the_rows_a_longer_window_counts() {
    let (_dir, path) = db();
    let hourly = ledger(&path, SCOPE, &policy("2/1h", 0.0, 0));
    let quick = ledger(&path, SCOPE, &policy("5/10s", 0.0, 0));
    let e = Endpoint::IpStats;
    let fg = |seq| ask(e, Priority::Foreground, seq);
    assert_eq!(hourly.admit_at(fg(1), T0), Ok(Verdict::Admitted));
    // Long after its own 10 s window, the quick one decides (and trims).
    assert_eq!(quick.admit_at(fg(1), T0 + 600_000), Ok(Verdict::Admitted));
    assert_eq!(
        hourly.admit_at(fg(2), T0 + 600_001),
        Ok(Verdict::Wait(Duration::from_millis(2_999_999))),
        "both calls still count in the hour"
    );
}

#[test]
fn two_tenants_never_share_a_budget() {
    let (_dir, path) = db();
    let p = policy("1/1m", 0.0, 0);
    let one = ledger(&path, SCOPE, &p);
    let other = ledger(&path, "https://api.example profile=- tenant=t2", &p);
    let e = Endpoint::IpStats;
    assert_eq!(
        one.admit_at(ask(e, Priority::Foreground, 1), T0),
        Ok(Verdict::Admitted)
    );
    one.take_back_at(Endpoint::IpAlerts, 99, Some(Duration::from_secs(60)), T0)
        .unwrap();
    assert_eq!(
        other.admit_at(ask(e, Priority::Foreground, 1), T0),
        Ok(Verdict::Admitted)
    );
    assert_eq!(
        other.admit_at(ask(Endpoint::IpAlerts, Priority::Foreground, 2), T0),
        Ok(Verdict::Admitted),
        "one tenant's pause is not the other's"
    );
    assert!(matches!(
        one.admit_at(ask(e, Priority::Foreground, 2), T0),
        Ok(Verdict::Wait(_))
    ));
    let counts = |l: &StoreLedger| {
        let s = l.status_at(T0);
        let stats = s.endpoints.iter().find(|x| x.endpoint == e).unwrap();
        (s.consoles, stats.windows[0].used)
    };
    assert_eq!(
        counts(&one),
        (1, 1),
        "each tenant sees its own console and call"
    );
    assert_eq!(counts(&other), (1, 1));
}

#[test]
fn the_status_counts_every_process_and_its_windows_empty_with_time() {
    let (_dir, path) = db();
    let p = policy("5/10s,20/1m", 0.0, 0);
    let (a, b) = (ledger(&path, SCOPE, &p), ledger(&path, SCOPE, &p));
    let e = Endpoint::AlertIps;
    a.admit_at(ask(e, Priority::Foreground, 1), T0).unwrap();
    b.admit_at(ask(e, Priority::Foreground, 1), T0 + 5_000)
        .unwrap();
    let used = |at: i64| {
        let s = b.status_at(at);
        assert_eq!(s.consoles, 2);
        let w = &s
            .endpoints
            .iter()
            .find(|x| x.endpoint == e)
            .unwrap()
            .windows;
        (w[0].used, w[1].used)
    };
    assert_eq!(used(T0 + 5_000), (2, 2));
    // No decision since: the last one's rows still count down exactly.
    assert_eq!(used(T0 + 10_000), (1, 2));
    assert_eq!(used(T0 + 60_000), (0, 1));
    assert_eq!(used(T0 + 65_000), (0, 0));
}

#[test]
fn threads_on_their_own_connections_never_overspend() {
    const THREADS: u64 = 6;
    const ASKS: u64 = 25;
    let (_dir, path) = db();
    // Windows longer than the test: every admission falls in one of each.
    let p = policy("10/1h,11/2h", 0.2, 0);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (path, p) = (path.clone(), p.clone());
                s.spawn(move || {
                    // Each thread is a process: its own connection, its own runtime, and
                    // the ledger's own path (spawn_blocking, the wall clock).
                    let ledger = ledger(&path, SCOPE, &p);
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    let priority = if t % 2 == 0 {
                        Priority::Batch
                    } else {
                        Priority::Foreground
                    };
                    let mut admitted = Vec::new();
                    for seq in 0..ASKS {
                        let v = rt.block_on(ledger.admit(ask(Endpoint::IpStats, priority, seq)));
                        assert!(!matches!(v, Verdict::Paused(_)));
                        if v == Verdict::Admitted {
                            admitted.push(format!("{}:{seq}", ledger.process()));
                        }
                    }
                    (priority, admitted)
                })
            })
            .collect();
        let mut by_lane: HashMap<Priority, usize> = HashMap::new();
        let mut members = Vec::new();
        for h in handles {
            let (priority, admitted) = h.join().unwrap();
            *by_lane.entry(priority).or_default() += admitted.len();
            members.extend(admitted);
        }
        let total: usize = by_lane.values().sum();
        assert_eq!(total, 10, "the hourly window is spent exactly, never more");
        assert!(
            by_lane[&Priority::Batch] <= 8,
            "batch left the reserve: {by_lane:?}"
        );
        // The table holds exactly the admitted calls, each once.
        assert_eq!(rows(&path, "SELECT count(*) FROM admissions"), 10);
        let conn = rusqlite::Connection::open(&path).unwrap();
        for m in &members {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM admissions WHERE member = ?1",
                    [m],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "{m}");
        }
        assert_eq!(
            rows(&path, "SELECT count(*) FROM processes"),
            THREADS as i64,
            "every process registered"
        );
    });
}

#[test]
fn a_database_from_before_the_ledger_migrates_and_keeps_its_call_log() {
    let (_dir, path) = db();
    {
        // The file of the build before the ledger: schema 1, with a call in its log.
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        mde_triage::store::schema::create_as_of(&mut conn, 1).unwrap();
        conn.execute_batch("INSERT INTO calls (scope, endpoint, at_ms) VALUES ('s', 'stats', 1);")
            .unwrap();
    }
    let p = policy("1/1m", 0.0, 0);
    let l = ledger(&path, SCOPE, &p);
    assert_eq!(
        l.admit_at(ask(Endpoint::IpStats, Priority::Batch, 1), T0),
        Ok(Verdict::Admitted)
    );
    assert_eq!(
        rows(&path, "PRAGMA user_version"),
        mde_triage::store::schema::latest()
    );
    assert_eq!(rows(&path, "SELECT count(*) FROM calls"), 1);
    assert_eq!(rows(&path, "SELECT count(*) FROM admissions"), 1);
}
