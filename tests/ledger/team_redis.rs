//! The team budget on a real `redis-server`: admission at lane levels, exact waits, the shared
//! pause and cache, and the faults (down at start, hung, killed and restarted empty). Each test
//! starts its own throwaway server (tests/support/redis.rs) and skips where none is installed.

use crate::support;

use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt as _;
use mde_triage::defender::{Endpoint, FetchKey, FetchValue, LookBack};
use mde_triage::fetch::{Ask, BudgetPolicy, Ledger, Link, Lookup, Priority, Verdict};
use mde_triage::team::{DEADLINE, Secret, TeamLedger, TeamUrl, calls_key, key_prefix};
use proptest::prelude::*;
use support::redis::RedisServer;
use tokio::time::Instant;

pub(crate) const REG: &str = "test-reg";
pub(crate) const EP: Endpoint = Endpoint::IpStats;

pub(crate) fn policy(spec: &str, reserve: f64, slack_ms: u64) -> BudgetPolicy {
    BudgetPolicy {
        limits: spec.parse().unwrap(),
        reserve,
        slack: Duration::from_millis(slack_ms),
    }
}

pub(crate) async fn ledger(server: &RedisServer, p: &BudgetPolicy) -> TeamLedger {
    let url = TeamUrl::parse(&server.url()).unwrap();
    TeamLedger::start(url, REG.into(), p.clone(), Vec::new()).await
}

pub(crate) fn ask(seq: u64, priority: Priority) -> Ask {
    Ask {
        endpoint: EP,
        priority,
        seq,
    }
}

/// The most one Redis operation may hold a decision, on tokio's paused clock: the deadline,
/// and the millisecond tokio's timers round a deadline up to.
const ONE_DEADLINE: Duration = DEADLINE.saturating_add(Duration::from_millis(1));

/// A virtual Redis clock well past the epoch marker's grace.
fn virtual_start() -> i64 {
    Utc::now().timestamp_millis() + 60_000
}

/// Asks until admitted, waiting what the ledger says (the grace after a new epoch, a pause).
pub(crate) async fn until_admitted(l: &TeamLedger, a: Ask) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match l.admit(a).await {
            Verdict::Admitted => return,
            Verdict::Wait(d) | Verdict::Paused(d) => {
                assert!(Instant::now() + d < deadline, "not admitted within 10 s");
                tokio::time::sleep(d).await;
            }
        }
    }
}

/// Waits until `cond` holds, polling every 20 ms, for at most `secs`.
pub(crate) async fn eventually(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "{what} within {secs} s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn zcard(server: &RedisServer) -> usize {
    server.cli(&["ZCARD", &calls_key(REG, EP)]).parse().unwrap()
}

#[test]
fn the_test_server_stops_resumes_and_restarts_empty() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    assert_eq!(server.cli(&["SET", "k", "v"]), "OK");
    server.pause();
    server.resume();
    assert_eq!(server.cli(&["GET", "k"]), "v");
    server.restart_empty();
    assert_eq!(server.cli(&["EXISTS", "k"]), "0");
}

#[tokio::test]
async fn the_reserve_applies_to_the_teams_counts_and_the_wait_is_exact() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let p = policy("10/10s", 0.2, 0);
    let (a, b) = (ledger(&server, &p).await, ledger(&server, &p).await);
    let t = virtual_start();
    // Two processes spend 4 batch calls each, 100 ms apart: 8 of 10, batch's whole level.
    for i in 0..8u64 {
        let l = if i % 2 == 0 { &a } else { &b };
        let v = l
            .admit_at(ask(i, Priority::Batch), t + 100 * i as i64)
            .await;
        assert_eq!(v, Verdict::Admitted, "batch call {i}");
    }
    let now = t + 1_000;
    // The 8th newest (the first, at t) leaves the window at t + 10 s.
    assert_eq!(
        a.admit_at(ask(100, Priority::Batch), now).await,
        Verdict::Wait(Duration::from_millis(9_000))
    );
    // The analyst's lane still has the reserve, in the other process.
    for seq in [101, 102] {
        assert_eq!(
            b.admit_at(ask(seq, Priority::Foreground), now).await,
            Verdict::Admitted
        );
    }
    // Full at the analyst's level too: the 10th newest (at t) leaves at t + 10 s.
    assert_eq!(
        a.admit_at(ask(103, Priority::Visible), now + 500).await,
        Verdict::Wait(Duration::from_millis(8_500))
    );
    let shared = b.status().unwrap();
    assert_eq!(shared.endpoints[0].windows[0].used, 10, "the team's use");
    assert_eq!(zcard(&server), 10);
}

#[tokio::test]
async fn old_calls_are_trimmed_before_counting_and_a_retry_counts_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // 1% of 10 s is 100 ms, capped at 50 ms: each call stays 10.05 s.
    let p = policy("3/10s", 0.0, 50);
    let a = ledger(&server, &p).await;
    let t = virtual_start();
    for seq in 0..3 {
        assert_eq!(
            a.admit_at(ask(seq, Priority::Batch), t).await,
            Verdict::Admitted
        );
    }
    // The same call asked again (a retry after a timeout): admitted, not counted again.
    assert_eq!(
        a.admit_at(ask(2, Priority::Batch), t + 1).await,
        Verdict::Admitted
    );
    assert_eq!(zcard(&server), 3);
    assert_eq!(
        a.admit_at(ask(3, Priority::Batch), t + 10_049).await,
        Verdict::Wait(Duration::from_millis(1))
    );
    // Exactly one reach later the three have left: admitted, and they are gone from the set.
    assert_eq!(
        a.admit_at(ask(4, Priority::Batch), t + 10_050).await,
        Verdict::Admitted
    );
    assert_eq!(zcard(&server), 1, "trimmed before counting");
}

#[tokio::test]
async fn a_taken_back_call_is_refunded() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let p = policy("2/1m", 0.0, 0);
    let a = ledger(&server, &p).await;
    let t = virtual_start();
    for seq in 0..2 {
        assert_eq!(
            a.admit_at(ask(seq, Priority::Foreground), t).await,
            Verdict::Admitted
        );
    }
    assert!(matches!(
        a.admit_at(ask(2, Priority::Foreground), t + 10).await,
        Verdict::Wait(_)
    ));
    a.take_back_at(EP, 1, None, t + 20).await;
    assert_eq!(zcard(&server), 1);
    assert_eq!(
        a.admit_at(ask(2, Priority::Foreground), t + 30).await,
        Verdict::Admitted
    );
}

#[tokio::test]
async fn a_pause_set_by_one_stops_the_other_until_it_ends_and_the_longer_wins() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let p = policy("100/1m", 0.0, 0);
    let (a, b) = (ledger(&server, &p).await, ledger(&server, &p).await);
    until_admitted(&a, ask(1, Priority::Foreground)).await;
    // On a virtual Redis clock: the instants are exact, however slow the machine.
    let t = virtual_start();
    a.take_back_at(EP, 1, Some(Duration::from_millis(1_500)), t)
        .await;
    b.take_back_at(EP, 99, Some(Duration::from_millis(200)), t + 10)
        .await;
    let end = server.cli(&["GET", &format!("{}pause:ip_stats", key_prefix(REG))]);
    assert_eq!(end, (t + 1_500).to_string(), "the longer pause holds");
    assert_eq!(
        b.admit_at(ask(2, Priority::Foreground), t + 100).await,
        Verdict::Paused(Duration::from_millis(1_400))
    );
    assert_eq!(
        b.admit_at(ask(2, Priority::Foreground), t + 1_499).await,
        Verdict::Paused(Duration::from_millis(1)),
        "not admitted before the pause ended"
    );
    assert_eq!(
        b.admit_at(ask(2, Priority::Foreground), t + 1_500).await,
        Verdict::Admitted
    );
}

fn doc_value() -> FetchValue {
    FetchValue::Stats(None)
}

#[tokio::test]
async fn the_shared_cache_answers_hit_busy_or_yours() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let p = policy("100/1m", 0.0, 0);
    let (a, b) = (ledger(&server, &p).await, ledger(&server, &p).await);
    let key = FetchKey::IpStats("10.1.2.3".parse().unwrap(), LookBack::MONTH);
    assert!(a.shares_answers());
    assert!(matches!(a.lookup(&key, None).await, Lookup::Yours));
    match b.lookup(&key, None).await {
        Lookup::Busy(d) => assert!(d <= Duration::from_millis(250)),
        other => panic!("{other:?}"),
    }
    let at = Utc::now() - chrono::Duration::seconds(30);
    a.share(&key, &doc_value(), at, Duration::from_secs(60))
        .await;
    match b.lookup(&key, None).await {
        Lookup::Hit(v, when) => {
            assert_eq!(v, doc_value());
            assert_eq!(when.timestamp_millis(), at.timestamp_millis());
        }
        other => panic!("{other:?}"),
    }
    // Fresher than what is stored is asked for: b may fetch it, and a now waits for b.
    let fresh = Some(at + chrono::Duration::seconds(1));
    assert!(matches!(b.lookup(&key, fresh).await, Lookup::Yours));
    assert!(matches!(a.lookup(&key, fresh).await, Lookup::Busy(_)));
    b.release(&key).await;
    assert!(
        matches!(a.lookup(&key, fresh).await, Lookup::Yours),
        "released"
    );
    // Only the holder's release lets go.
    b.release(&key).await;
    assert!(matches!(b.lookup(&key, fresh).await, Lookup::Busy(_)));
}

#[tokio::test]
async fn redis_down_at_start_admits_the_analyst_locally_then_re_adds_on_connect() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    server.kill();
    let p = policy("10/1m", 0.2, 0);
    // On tokio's paused clock while it starts: the time it may hold a start is the deadline,
    // measured exactly instead of against a loaded machine's wall clock.
    tokio::time::pause();
    let started = Instant::now();
    let a = ledger(&server, &p).await;
    assert!(started.elapsed() <= ONE_DEADLINE, "{:?}", started.elapsed());
    tokio::time::resume();
    assert_eq!(a.link(), Link::Unreachable { share_of: 2 });
    let notice = a.take_notice().expect("said once");
    assert!(
        notice.contains("team budget unreachable") && notice.contains("5/min"),
        "{notice}"
    );
    assert!(a.take_notice().is_none(), "once");
    assert_eq!(
        a.admit(ask(1, Priority::Foreground)).now_or_never(),
        Some(Verdict::Admitted),
        "decided at once, no wait on a dead Redis"
    );
    assert!(
        matches!(a.admit(ask(2, Priority::Prefetch)).await, Verdict::Wait(_)),
        "prefetch waits"
    );
    server.restart_empty();
    let watched = a.clone();
    eventually(10, "connected", || watched.link() == Link::Connected).await;
    assert_eq!(
        zcard(&server),
        1,
        "the call admitted locally is on the shared log"
    );
}

#[tokio::test]
async fn a_hung_redis_costs_one_deadline_then_decisions_are_local() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let p = policy("100/1m", 0.0, 0);
    let a = ledger(&server, &p).await;
    until_admitted(&a, ask(1, Priority::Foreground)).await;
    server.pause();
    // On tokio's paused clock for this one decision: Redis never answers, so the runtime's
    // clock jumps to the next timer, and what the decision cost is exact.
    tokio::time::pause();
    let asked = Instant::now();
    assert_eq!(
        a.admit(ask(2, Priority::Foreground)).await,
        Verdict::Admitted
    );
    let took = asked.elapsed();
    tokio::time::resume();
    assert!(took <= ONE_DEADLINE, "{took:?}");
    assert!(matches!(a.link(), Link::Unreachable { .. }));
    assert!(a.take_notice().unwrap().contains("team budget unreachable"));
    assert_eq!(
        a.admit(ask(3, Priority::Foreground)).now_or_never(),
        Some(Verdict::Admitted),
        "local and immediate"
    );
    server.resume();
    let watched = a.clone();
    eventually(15, "connected again", || watched.link() == Link::Connected).await;
    assert_eq!(
        zcard(&server),
        3,
        "calls admitted during the hang re-added once"
    );
}

#[tokio::test]
async fn a_redis_restarted_empty_is_re_seeded_and_the_grace_holds() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let p = policy("100/1m", 0.0, 0);
    let a = ledger(&server, &p).await;
    for seq in 0..3 {
        until_admitted(&a, ask(seq, Priority::Foreground)).await;
    }
    server.restart_empty();
    let srv = &server;
    let deadline = Instant::now() + Duration::from_secs(15);
    while srv.cli(&["EXISTS", &format!("{}epoch", key_prefix(REG))]) != "1" || zcard(srv) != 3 {
        assert!(Instant::now() < deadline, "re-seeded within 15 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let marker = server.cli(&["GET", &format!("{}epoch", key_prefix(REG))]);
    let created: i64 = marker.rsplit(':').next().unwrap().parse().unwrap();
    // 100 ms after the new marker, no reserved work spends: every process gets a heartbeat to
    // re-add its calls first. The analyst's lookup does not wait for it.
    assert_eq!(
        a.admit_at(ask(10, Priority::Batch), created + 100).await,
        Verdict::Wait(Duration::from_millis(1_100))
    );
    assert_eq!(
        a.admit_at(ask(11, Priority::Foreground), created + 100)
            .await,
        Verdict::Admitted
    );
    assert_eq!(
        a.admit_at(ask(10, Priority::Batch), created + 1_200).await,
        Verdict::Admitted
    );
}

#[tokio::test]
async fn every_key_expires_and_the_password_never_prints() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = TeamUrl::parse(&server.url())
        .unwrap()
        .with_password(Some(Secret::new("hunter2")));
    assert!(!format!("{url:?} {url}").contains("hunter2"));
    let p = policy("100/1m", 0.0, 0);
    let a = ledger(&server, &p).await;
    until_admitted(&a, ask(1, Priority::Foreground)).await;
    a.take_back(EP, 1, Some(Duration::from_secs(5))).await;
    let key = FetchKey::IpStats("10.9.9.9".parse().unwrap(), LookBack::MONTH);
    assert!(matches!(a.lookup(&key, None).await, Lookup::Yours));
    let other = FetchKey::IpStats("10.9.9.8".parse().unwrap(), LookBack::MONTH);
    assert!(matches!(a.lookup(&other, None).await, Lookup::Yours));
    a.share(&other, &doc_value(), Utc::now(), Duration::from_secs(30))
        .await;
    until_admitted(
        &a,
        Ask {
            endpoint: Endpoint::AlertIps,
            priority: Priority::Batch,
            seq: 2,
        },
    )
    .await;
    let watched = a.clone();
    eventually(5, "a heartbeat", || watched.status().unwrap().consoles >= 1).await;
    let keys = server.cli(&["--scan", "--pattern", "mde:*"]);
    let keys: Vec<&str> = keys.lines().collect();
    assert!(keys.len() >= 6, "{keys:?}");
    for k in keys {
        let pttl: i64 = server.cli(&["PTTL", k]).parse().unwrap();
        assert!(pttl > 0, "{k} has no expiry ({pttl})");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Three processes asking on random lanes at random (virtual) times never put more than
    /// a window's limit in any span of the log, and each decision is the one `Budget` makes
    /// fed the same admitted calls.
    #[test]
    fn three_ledgers_never_overspend_and_agree_with_the_budget(
        asks in proptest::collection::vec((0usize..3, 0u8..4, 0i64..400), 1..60)
    ) {
        let Some(server) = RedisServer::start() else {
            return Ok(());
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let p = policy("4/1s,7/3s", 0.25, 40);
        rt.block_on(async {
            let mut ledgers = Vec::new();
            for _ in 0..3 {
                ledgers.push(ledger(&server, &p).await);
            }
            let mut budget = p.budget();
            let base = Instant::now();
            let start = virtual_start();
            let mut t = start;
            for (seq, (who, lane, dt)) in asks.iter().enumerate() {
                t += dt;
                let priority = [Priority::Batch, Priority::Prefetch, Priority::Visible, Priority::Foreground][*lane as usize];
                let v = ledgers[*who].admit_at(ask(seq as u64, priority), t).await;
                let at = base + Duration::from_millis((t - start) as u64);
                let room = budget.has_room(at, p.reserve_for(priority));
                assert_eq!(v == Verdict::Admitted, room, "ask {seq} at +{} ms on {priority:?}: {v:?}", t - start);
                if room {
                    budget.record(at);
                }
            }
        });
        let log = server.cli(&["ZRANGE", &calls_key(REG, EP), "0", "-1", "WITHSCORES"]);
        let scores: Vec<i64> = log.lines().skip(1).step_by(2).map(|s| s.parse().unwrap()).collect();
        for w in &p.limits.0 {
            let span = w.window.as_millis() as i64;
            for (i, s) in scores.iter().enumerate() {
                let inside = scores[i..].iter().take_while(|x| **x < s + span).count();
                prop_assert!(inside as u32 <= w.limit, "{inside} calls within {span} ms from {s}");
            }
        }
    }
}
