//! The team ledger's fallback on a real `redis-server`: what a process knows of the team when
//! Redis goes away (the count and consoles its last admission read, not only the heartbeat's
//! older view), what it gives back to a Redis that lost its data (peers' calls it saw, a peer
//! that ended included), and batch work held while a process has never reached the team.

use std::time::Duration;

use mde_triage::fetch::{Ledger, Priority, Verdict};
use tokio::time::Instant;

use super::support::redis::RedisServer;
use super::team_redis::{ask, eventually, ledger, policy, until_admitted, zcard};

/// Asks batch calls until one is not admitted; how many were.
async fn batch_admitted(l: &impl Ledger, first_seq: u64) -> usize {
    let mut admitted = 0;
    for seq in first_seq..first_seq + 20 {
        match l.admit(ask(seq, Priority::Batch)).await {
            Verdict::Admitted => admitted += 1,
            _ => return admitted,
        }
    }
    admitted
}

#[tokio::test]
async fn calls_the_team_counted_since_the_last_heartbeat_hold_the_fallback() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // Batch may spend 8 of 10 a minute.
    let p = policy("10/1m", 0.2, 0);
    let a = ledger(&server, &p).await;
    let b = ledger(&server, &p).await;
    until_admitted(&a, ask(1, Priority::Batch)).await;
    for seq in 0..5 {
        until_admitted(&b, ask(seq, Priority::Batch)).await;
    }
    // Within a heartbeat of b's calls: only this admission's reply tells a of them (7 counted,
    // two consoles).
    until_admitted(&a, ask(2, Priority::Batch)).await;
    server.pause();
    // Alone now, a must count the 7: of the one batch call left, its share is the floor of one.
    // From its own two calls and a count of one console, it would take six.
    assert_eq!(batch_admitted(&a, 3).await, 1);
    server.resume();
    eventually(15, "the call made alone on the log once back", || {
        zcard(&server) == 8
    })
    .await;
}

#[tokio::test]
async fn a_redis_restarted_empty_gets_back_the_calls_of_a_peer_that_ended() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let p = policy("100/1m", 0.0, 0);
    let a = ledger(&server, &p).await;
    {
        let b = ledger(&server, &p).await;
        for seq in 0..3 {
            until_admitted(&b, ask(seq, Priority::Foreground)).await;
        }
    }
    until_admitted(&a, ask(0, Priority::Foreground)).await;
    // a's heartbeat, once a second, reads the log into what it remembers of the team.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.restart_empty();
    eventually(15, "the log re-seeded with the ended peer's calls", || {
        zcard(&server) == 4
    })
    .await;
    // Re-adding is idempotent: another round of heartbeats adds nothing.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(zcard(&server), 4);
}

#[tokio::test(start_paused = true)]
async fn batch_waits_for_a_team_it_never_reached_for_one_short_window() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    server.kill();
    let p = policy("10/2s", 0.2, 0);
    let a = ledger(&server, &p).await;
    let started = Instant::now();
    // The analyst is never held.
    assert_eq!(
        a.admit(ask(1, Priority::Foreground)).await,
        Verdict::Admitted
    );
    // Batch asks again each heartbeat (a Redis slow at start is met in that time) ...
    match a.admit(ask(2, Priority::Batch)).await {
        Verdict::Wait(d) => assert!(d > Duration::ZERO && d <= Duration::from_secs(1), "{d:?}"),
        v => panic!("batch spent before the team was ever reached: {v:?}"),
    }
    // ... and after one shortest window spends its share of a guessed two consoles: 8 / 2.
    tokio::time::sleep_until(started + Duration::from_secs(2)).await;
    assert_eq!(batch_admitted(&a, 3).await, 4);
}
