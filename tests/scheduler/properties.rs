//! Property tests: the fake transport under generated limits, reserves, arrival patterns,
//! priorities and latencies. Each case runs on a runtime of its own whose clock starts paused,
//! so time is virtual and exact. What each property expects is worked out here from the
//! definition of a sliding window, never by asking the scheduler's own budget code.

mod inputs;
mod windows;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use mde_triage::defender::{ApiError, Endpoint, ErrorKind, FetchKey};
use mde_triage::fetch::{FetchEvent, Priority, SchedulerConfig, Ticket};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::FileFailurePersistence;
use tokio::time::{Instant, sleep, sleep_until};

use crate::fake::*;
use inputs::{config, *};
use windows::*;

/// Enough to find the corners (a window of one call, a reserve that rounds to a whole
/// call, an outer window that binds first) while the whole file still runs in seconds.
const CASES: u32 = 64;

/// Runs one case on a fresh current-thread runtime with the clock paused: tokio jumps to
/// the next timer whenever every task waits, as `#[tokio::test(start_paused = true)]` does.
fn paused<T>(case: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds")
        .block_on(case)
}

proptest! {
    #![proptest_config(ProptestConfig {
        // A failing case is kept beside this file (properties.regressions) and
        // tried first on every later run.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::with_cases(CASES)
    })]

    /// Any limits, reserve, arrivals, priorities and latencies: no window of any endpoint
    /// ever holds more calls than its limit, counting every call the transport saw, at
    /// every instant; at most `max_in_flight` calls are on the wire; a key is never called
    /// again while a call for it is on the wire (identical requests share it); every
    /// ticket gets exactly one answer, for its own key.
    #[test]
    fn no_window_is_ever_exceeded(
        limits in limits(),
        reserve in reserve(),
        arrivals in arrivals(90, 15),
        latencies in vec(0u64..400, 1..8),
    ) {
        paused(async {
            let fake = fake_with_latencies(latencies);
            let origin = Instant::now();
            let cfg = config(&limits, reserve);
            let max_in_flight = cfg.max_in_flight;
            let (handle, mut rx) = start(&fake, cfg);
            let asked = send(&handle, &arrivals, origin, |_, a| key(a.endpoint, a.id)).await;
            let heard = until_closed(handle, &mut rx, origin).await;

            assert_windows(&fake, &limits, "all calls")?;
            prop_assert!(fake.max_in_flight() <= max_in_flight);
            let spans = fake.spans();
            // A call stopped to free its slot goes again: only answered calls are bounded.
            prop_assert!(
                spans.len() - fake.stopped() <= asked.len(),
                "more answered calls than requests"
            );
            for (i, (start, end, key)) in spans.iter().enumerate() {
                for (again, _, other) in &spans[i + 1..] {
                    prop_assert!(
                        other != key || again >= end,
                        "{} called again at {:?} while its call of {:?} was on the wire \
                         until {:?}",
                        key, again, start, end
                    );
                }
            }
            for (ticket, (key, _)) in asked.iter().enumerate() {
                let done = heard.done_for(ticket as u64);
                prop_assert_eq!(done.len(), 1, "ticket {} answered once", ticket);
                prop_assert_eq!(&done[0].key, key);
                prop_assert!(done[0].result.is_ok());
            }
            Ok(())
        })?;
    }

    /// Prefetch and Batch work never eat into the reserve: at every instant, the
    /// low-priority calls in each window number at most the share above the reserve
    /// (`share_of`), whatever the analyst's work around them. Keys are all distinct
    /// here, so each call's priority is the one its request was sent with.
    #[test]
    fn batch_and_prefetch_never_eat_into_the_reserve(
        limits in limits(),
        reserve in reserve(),
        arrivals in arrivals(90, 1),
        latencies in vec(0u64..400, 1..8),
    ) {
        paused(async {
            let fake = fake_with_latencies(latencies);
            let origin = Instant::now();
            let (handle, mut rx) = start(&fake, config(&limits, reserve));
            let distinct = |i: usize, a: &Arrival| key(a.endpoint, i as u32);
            let asked = send(&handle, &arrivals, origin, distinct).await;
            let heard = until_closed(handle, &mut rx, origin).await;

            let low: Vec<&FetchKey> = asked
                .iter()
                .zip(&arrivals)
                .filter(|(_, a)| a.priority < Priority::Visible)
                .map(|((key, _), _)| key)
                .collect();
            for endpoint in Endpoint::ALL {
                let starts: Vec<Duration> = fake
                    .calls()
                    .into_iter()
                    .filter(|(_, c)| c.key.endpoint() == endpoint && low.contains(&&c.key))
                    .map(|(t, _)| t)
                    .collect();
                for w in &limits.0 {
                    let share = share_of(w.limit, reserve);
                    let (most, at) = busiest(&starts, w.window);
                    prop_assert!(
                        most <= share,
                        "{:?}: {} low-priority calls in the {:?} up to {:?}; their share of \
                         {} is {} with a reserve of {}",
                        endpoint, most, w.window, at, w.limit, share, reserve
                    );
                }
            }
            assert_windows(&fake, &limits, "all calls")?;
            prop_assert_eq!(heard.done.len(), asked.len(), "every request answered");
            Ok(())
        })?;
    }

    /// K foreground calls queued at once on one endpoint start exactly when the windows
    /// first allow each of them (so the last one at the theoretical minimum), whatever the
    /// reserve, which is not the analyst's to keep. The minimum comes from `first_room`,
    /// a search over the definition, not from the code under test.
    #[test]
    fn a_foreground_backlog_drains_at_the_theoretical_minimum(
        limits in limits(),
        reserve in reserve(),
        k in 1usize..=80,
        endpoint in 0usize..3,
    ) {
        let mut ideal: Vec<Duration> = Vec::with_capacity(k);
        for _ in 0..k {
            let from = ideal.last().copied().unwrap_or_default();
            ideal.push(first_room(&ideal, from, &limits));
        }
        paused(async {
            let fake = Fake::ok_after(Duration::ZERO);
            let origin = Instant::now();
            let (handle, mut rx) = start(&fake, config(&limits, reserve));
            for i in 0..k {
                ask(&handle, key(endpoint, i as u32), i as u64, Priority::Foreground);
            }
            let heard = until_done(&mut rx, origin, k).await;
            prop_assert_eq!(heard.done.len(), k);

            let mut starts = fake.times_for(key(endpoint, 0).endpoint());
            starts.sort();
            prop_assert_eq!(
                starts.last(),
                ideal.last(),
                "the last of {} calls under {} vs the theoretical minimum",
                k,
                &limits
            );
            prop_assert_eq!(starts, ideal, "each call at the first instant the windows allow");
            Ok(())
        })?;
    }

    /// A foreground request asked behind a queue of Batch and Prefetch work that fills
    /// the windows starts at the first instant every window has room for it (the next
    /// free slot, counting the calls already made), and no queued work goes before it.
    #[test]
    fn a_foreground_request_overtakes_a_full_batch_queue(
        limits in limits(),
        // Mostly none: with a reserve, queued work leaves the analyst room and the request
        // goes at once; without one the windows are full and it must wait for a slot.
        reserve in prop_oneof![2 => Just(0.0), 1 => reserve()],
        secs in 0u64..30,
        endpoint in 0usize..3,
        lows in vec(low_priority(), 1..6),
    ) {
        // Half a second past a whole one: calls start on whole seconds here (windows are
        // whole seconds, answers instant), so nothing else starts at the very instant the
        // analyst asks, and "before" and "after" the request are unambiguous.
        let asked_at = Duration::from_secs(secs) + Duration::from_millis(500);
        // More queued work than the innermost window can let through by then, and while
        // the request waits none of it may go: the queue is still full when it starts.
        let inner = limits.0[0];
        let n = u64::from(inner.limit) * (secs / inner.window.as_secs() + 2) + 1;
        paused(async {
            let fake = Fake::ok_after(Duration::ZERO);
            let origin = Instant::now();
            let (handle, mut rx) = start(&fake, config(&limits, reserve));
            for i in 0..n {
                ask(&handle, key(endpoint, i as u32), i, lows[i as usize % lows.len()]);
            }
            sleep_until(origin + asked_at).await;
            let analyst = key(endpoint, 1_000_000);
            ask(&handle, analyst.clone(), 1_000_000, Priority::Foreground);
            loop {
                let event = rx.recv().await.expect("the scheduler stopped early");
                if matches!(event, FetchEvent::Done { ticket: Ticket(1_000_000), .. }) {
                    break;
                }
            }

            let calls = fake.calls();
            let started = calls
                .iter()
                .find(|(_, c)| c.key == analyst)
                .map(|(t, _)| *t)
                .expect("the analyst's call was made");
            let before: Vec<Duration> = calls
                .iter()
                .filter(|(t, c)| c.key != analyst && *t < asked_at)
                .map(|(t, _)| *t)
                .collect();
            let jumped: Vec<Duration> = calls
                .iter()
                .filter(|(t, c)| c.key != analyst && *t >= asked_at && *t < started)
                .map(|(t, _)| *t)
                .collect();
            prop_assert!(
                jumped.is_empty(),
                "queued work went ahead of the analyst (asked at {:?}, started {:?}): {:?}",
                asked_at, started, jumped
            );
            let slot = first_room(&before, asked_at, &limits);
            prop_assert_eq!(
                started, slot,
                "asked at {:?} under {} with reserve {}: the next free slot",
                asked_at, &limits, reserve
            );
            prop_assert!(
                (calls.len() as u64) <= n,
                "setup: the queue had emptied by the time the analyst's call started"
            );
            Ok(())
        })?;
    }

    /// One call answered 429 with `Retry-After: N`: its endpoint stays silent for exactly
    /// N seconds from the answer, the refused call goes again at that instant, with
    /// everything asked of that endpoint meanwhile; the other endpoints carry on
    /// untouched; the pause is published. Limits and concurrency are generous, so the
    /// pause is the only thing that can hold a call back.
    #[test]
    fn a_429_pauses_exactly_as_long_as_it_says(
        retry_after in 1u64..=60,
        latency in 0u64..500,
        arrivals in arrivals(40, 1),
        victim in any::<Index>(),
    ) {
        let victim = victim.index(arrivals.len());
        let refused = key(arrivals[victim].endpoint, victim as u32);
        let paused_endpoint = refused.endpoint();
        let wait = Duration::from_secs(retry_after);
        let latency = Duration::from_millis(latency);
        paused(async {
            let fake = Fake::new({
                let refused = refused.clone();
                move |call, nth| {
                    if call.key == refused && nth == 0 {
                        let mut e = ApiError::new(ErrorKind::Throttled, "429");
                        e.status = Some(429);
                        e.retry_after = Some(wait);
                        (latency, Err(e))
                    } else {
                        (latency, Ok(page(&call.key, None)))
                    }
                }
            });
            let origin = Instant::now();
            let cfg = SchedulerConfig {
                max_in_flight: 1000,
                ..config(&"1000/1s".parse().unwrap(), 0.2)
            };
            let (handle, mut rx) = start(&fake, cfg);
            let distinct = |i: usize, a: &Arrival| key(a.endpoint, i as u32);
            let asked = send(&handle, &arrivals, origin, distinct).await;
            let heard = until_closed(handle, &mut rx, origin).await;

            let tries = fake.times_of(&refused);
            let answered = tries[0] + latency;
            let resume = answered + wait;
            prop_assert_eq!(
                &tries,
                &vec![tries[0], resume],
                "the refused call goes again at the end of the pause"
            );
            let early: Vec<Duration> = fake
                .times_for(paused_endpoint)
                .into_iter()
                .filter(|t| *t > answered && *t < resume)
                .collect();
            prop_assert!(
                early.is_empty(),
                "calls inside the pause {:?}..{:?}: {:?}",
                answered, resume, early
            );
            for (i, (key, at)) in asked.iter().enumerate() {
                let first = fake.times_of(key)[0];
                let held = key.endpoint() == paused_endpoint && *at >= answered && *at < resume;
                if i == victim {
                    continue;
                } else if held && *at == answered {
                    // Asked the instant the 429 came back: either may be seen first.
                    prop_assert!(first == *at || first == resume, "{} at {:?}", key, first);
                } else if held {
                    prop_assert_eq!(first, resume, "{} asked during the pause", key);
                } else {
                    prop_assert_eq!(first, *at, "{} is not held back", key);
                }
            }
            // Events are read after the run, so their order is what tells: the first status
            // that shows the pause is the one published as the 429 arrived.
            let shown = heard
                .budgets
                .iter()
                .find_map(|(_, b)| b.endpoint(paused_endpoint)?.paused_for);
            prop_assert_eq!(shown, Some(wait), "the countdown starts at Retry-After");
            prop_assert_eq!(heard.done.len(), asked.len(), "nothing is lost");
            prop_assert!(heard.done.iter().all(|d| d.result.is_ok()));
            Ok(())
        })?;
    }

    /// Any mix of lower-lane calls, hung, slow or cancelled, in any number of slots: each
    /// of up to `max_in_flight` Foreground requests (one lookup's panes, hung or not) is
    /// sent at the very instant it is asked, the wire never holds more than
    /// `max_in_flight` calls, and the budget counts every call the transport saw.
    #[test]
    fn a_foreground_request_never_waits_for_a_slot(
        max_in_flight in 1usize..=6,
        lowers in vec(lower(), 0..=12),
        after in 0u64..1000,
        panes in 1usize..=6,
        panes_hang in any::<bool>(),
    ) {
        let panes = panes.min(max_in_flight);
        let pane = |p: usize| key(p % 3, 1000 + p as u32);
        let mut latency: HashMap<FetchKey, Duration> = lowers
            .iter()
            .enumerate()
            .map(|(i, l)| (key(l.endpoint, i as u32), l.latency.map_or(NEVER, Duration::from_millis)))
            .collect();
        for p in 0..panes {
            latency.insert(pane(p), if panes_hang { NEVER } else { Duration::from_millis(50) });
        }
        paused(async {
            let fake = Fake::new(move |call, _| (latency[&call.key], Ok(page(&call.key, None))));
            let origin = Instant::now();
            let cfg = SchedulerConfig {
                max_in_flight,
                ..config(&"1000/1m".parse().unwrap(), 0.2)
            };
            let (handle, mut rx) = start(&fake, cfg);
            for (i, l) in lowers.iter().enumerate() {
                ask(&handle, key(l.endpoint, i as u32), i as u64, l.priority);
            }
            sleep(Duration::from_millis(after)).await;
            for (i, _) in lowers.iter().enumerate().filter(|(_, l)| l.cancelled) {
                handle.cancel(Ticket(i as u64));
            }
            let asked_at = origin.elapsed();
            for p in 0..panes {
                ask(&handle, pane(p), 1000 + p as u64, Priority::Foreground);
            }
            settle().await;

            for p in 0..panes {
                prop_assert_eq!(
                    fake.times_of(&pane(p)),
                    vec![asked_at],
                    "pane {} of {} in {} slots", p, panes, max_in_flight
                );
            }
            prop_assert!(fake.max_in_flight() <= max_in_flight);
            let status = latest_status(&mut rx);
            for e in Endpoint::ALL {
                let seen = fake.times_for(e).len() as u64;
                prop_assert_eq!(status.endpoint(e).unwrap().calls, seen, "{:?}", e);
            }
            Ok(())
        })?;
    }
}
