//! What the properties generate (limits, reserves, lanes, arrivals) and the fake transport,
//! configuration and pacing each case runs with.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mde_triage::defender::FetchKey;
use mde_triage::fetch::{FetchHandle, Priority, RateLimits, SchedulerConfig, Window};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::time::{Instant, sleep};

use crate::fake::*;

/// One to three windows. The innermost allows 1 to 20 calls per 1 to 30 s; each outer one
/// spans 2 to 6 times the one inside it and allows more calls, yet fewer than that many
/// times as many, so it can bind while the inner one still has room (as 1,500/1h does
/// under 100/1m).
pub fn limits() -> impl Strategy<Value = RateLimits> {
    (1u32..=20, 1u64..=30, vec((2u32..=6, 0u32..=100), 0..=2)).prop_map(|(limit, secs, outer)| {
        let mut windows = vec![Window {
            limit,
            window: Duration::from_secs(secs),
        }];
        for (times, pct) in outer {
            let inner = windows[windows.len() - 1];
            let lo = inner.limit + 1;
            let hi = (inner.limit * times - 1).max(lo);
            windows.push(Window {
                limit: lo + (hi - lo) * pct / 100,
                window: inner.window * times,
            });
        }
        RateLimits(windows)
    })
}

/// The share of each window kept for the analyst: 0 to 50%, in whole percents.
pub fn reserve() -> impl Strategy<Value = f64> {
    (0u32..=50).prop_map(|pct| f64::from(pct) / 100.0)
}

pub fn priority() -> impl Strategy<Value = Priority> {
    proptest::sample::select(vec![
        Priority::Batch,
        Priority::Prefetch,
        Priority::Visible,
        Priority::Foreground,
    ])
}

pub fn low_priority() -> impl Strategy<Value = Priority> {
    proptest::sample::select(vec![Priority::Batch, Priority::Prefetch])
}

/// A request below Foreground made before the analyst's: its lane and endpoint, whether
/// its answer never comes (else it takes up to 400 ms), and whether it is cancelled just
/// before the analyst asks.
#[derive(Debug, Clone)]
pub struct Lower {
    pub priority: Priority,
    pub endpoint: usize,
    pub latency: Option<u64>,
    pub cancelled: bool,
}

pub fn lower() -> impl Strategy<Value = Lower> {
    let lane =
        proptest::sample::select(vec![Priority::Batch, Priority::Prefetch, Priority::Visible]);
    let latency = prop_oneof![1 => Just(None), 1 => (0u64..400).prop_map(Some)];
    (lane, 0usize..3, latency, proptest::bool::weighted(0.2)).prop_map(
        |(priority, endpoint, latency, cancelled)| Lower {
            priority,
            endpoint,
            latency,
            cancelled,
        },
    )
}

/// One request: the pause before it, its endpoint (0 stats, 1 IP alerts, 2 alert IPs),
/// which of a few keys, and who asks.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub after: Duration,
    pub endpoint: usize,
    pub id: u32,
    pub priority: Priority,
}

/// Up to `max` requests in bursts (no pause: most of them) and lulls (up to 3 s), over
/// `ids` keys per endpoint, so equal keys meet in the queue and on the wire.
pub fn arrivals(max: usize, ids: u32) -> impl Strategy<Value = Vec<Arrival>> {
    let gap = prop_oneof![3 => Just(0u64), 2 => 1u64..3000];
    let one =
        (gap, 0usize..3, 0..ids, priority()).prop_map(|(ms, endpoint, id, priority)| Arrival {
            after: Duration::from_millis(ms),
            endpoint,
            id,
            priority,
        });
    vec(one, 1..=max)
}

pub fn key(endpoint: usize, id: u32) -> FetchKey {
    match endpoint {
        0 => stats(id),
        1 => alerts(id),
        _ => alert_ips(id),
    }
}

/// Answers every call `Ok`, the n-th call (of all) after the n-th of `latencies`, cycled.
pub fn fake_with_latencies(latencies: Vec<u64>) -> Arc<Fake> {
    let n = AtomicUsize::new(0);
    Fake::new(move |call, _| {
        let i = n.fetch_add(1, Ordering::Relaxed);
        let latency = Duration::from_millis(latencies[i % latencies.len()]);
        (latency, Ok(page(&call.key, None)))
    })
}

/// Exact windows: no slack, so instants can be compared to the definition.
pub fn config(limits: &RateLimits, reserve: f64) -> SchedulerConfig {
    SchedulerConfig {
        limits: limits.clone(),
        reserve,
        slack: Duration::ZERO,
        ..SchedulerConfig::default()
    }
}

/// Sends each arrival at its time, ticket = its index; returns each one's key and when it
/// was asked.
pub async fn send(
    handle: &FetchHandle,
    arrivals: &[Arrival],
    origin: Instant,
    key_of: impl Fn(usize, &Arrival) -> FetchKey,
) -> Vec<(FetchKey, Duration)> {
    let mut asked = Vec::with_capacity(arrivals.len());
    for (i, a) in arrivals.iter().enumerate() {
        if !a.after.is_zero() {
            sleep(a.after).await;
        }
        let key = key_of(i, a);
        ask(handle, key.clone(), i as u64, a.priority);
        asked.push((key, origin.elapsed()));
    }
    asked
}
