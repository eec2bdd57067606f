//! Calls that never answer, against the fake transport under tokio's paused clock: the
//! analyst never waits behind them, a hung lookup the analyst left gives way, `expand` uses
//! every slot, what is on screen never waits behind guesswork, and a stopped call's late answer
//! is never taken for the next calls.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mde_triage::defender::{Call, CallFuture, Endpoint, FetchKey, FetchValue, Transport};
use mde_triage::fetch::{FetchEvent, FetchHandle, Priority, SchedulerConfig, Ticket, spawn};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, sleep};

use crate::fake::*;

/// Answers every call after `latency`, except calls for `hung` keys: those never answer.
fn hanging(hung: Vec<FetchKey>, latency: Duration) -> Arc<Fake> {
    Fake::new(move |call, _| {
        let latency = if hung.contains(&call.key) {
            NEVER
        } else {
            latency
        };
        (latency, Ok(page(&call.key, None)))
    })
}

/// What the scheduler published counts every call the transport saw, stopped ones included:
/// they were sent, so they were spent. (The tests stay inside the first window.)
fn assert_every_call_counted(fake: &Fake, rx: &mut UnboundedReceiver<FetchEvent>) {
    let status = latest_status(rx);
    for e in Endpoint::ALL {
        let seen = fake.times_for(e).len();
        let b = status.endpoint(e).unwrap();
        assert_eq!(b.calls as usize, seen, "{e:?}: calls counted");
        assert_eq!(
            b.windows[0].used as usize, seen,
            "{e:?}: calls in the window"
        );
    }
    assert!(status.in_flight <= SchedulerConfig::default().max_in_flight);
}

/// `until_done`, but a scheduler that never answers fails the test (after 10 virtual
/// seconds, at once in real time) instead of hanging it.
async fn answers(rx: &mut UnboundedReceiver<FetchEvent>, origin: Instant, n: usize) -> Heard {
    tokio::time::timeout(Duration::from_secs(10), until_done(rx, origin, n))
        .await
        .unwrap_or_else(|_| panic!("{n} answers did not come"))
}

#[tokio::test(start_paused = true)]
async fn the_analyst_never_waits_behind_hung_calls() {
    let hung = [
        (stats(1), Priority::Visible),
        (stats(2), Priority::Prefetch),
        (stats(3), Priority::Batch),
        (stats(4), Priority::Prefetch),
    ];
    let fake = hanging(
        hung.iter().map(|(k, _)| k.clone()).collect(),
        Duration::from_millis(100),
    );
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    for (i, (key, priority)) in hung.iter().enumerate() {
        ask(&handle, key.clone(), i as u64, *priority);
    }
    sleep(Duration::from_secs(1)).await;
    assert_eq!(
        fake.on_the_wire(),
        4,
        "every slot holds a call that never answers"
    );

    // Three panes of one lookup start together, at the instant they are asked, each in the
    // slot of the lowest lane's oldest call: Batch, then the Prefetch calls in order.
    for n in 0..3 {
        ask(&handle, alerts(n), 10 + u64::from(n), Priority::Foreground);
    }
    settle().await;
    let second = Duration::from_secs(1);
    for n in 0..3 {
        assert_eq!(fake.times_of(&alerts(n)), [second], "pane {n} waited");
    }
    let ended: Vec<(FetchKey, Duration)> = fake
        .spans()
        .into_iter()
        .filter(|(_, end, _)| *end != NEVER)
        .map(|(_, end, key)| (key, end))
        .collect();
    assert_eq!(
        ended,
        [(stats(2), second), (stats(3), second), (stats(4), second)], // in order sent
        "stopped: the Batch call and both Prefetch calls, at once; what is on screen kept"
    );
    assert_eq!(fake.on_the_wire(), 4);
    // A fourth pane takes the last lower slot, the on-screen one.
    ask(&handle, alerts(3), 13, Priority::Foreground);
    settle().await;
    assert_eq!(
        fake.times_of(&alerts(3)),
        [second + Duration::from_millis(1)]
    );
    assert_eq!(fake.max_in_flight(), 4, "a stopped call has left the wire");

    let heard = answers(&mut rx, origin, 4).await;
    assert!(
        heard
            .done
            .iter()
            .all(|d| d.at <= Duration::from_millis(1101))
    );
    settle().await;
    // The stopped work goes again as slots free up, in lane order, and hangs again.
    let again: Vec<(Duration, FetchKey)> = fake
        .calls()
        .into_iter()
        .skip(8)
        .map(|(t, c)| (t, c.key))
        .collect();
    let (t1, t2) = (Duration::from_millis(1100), Duration::from_millis(1101));
    assert_eq!(
        again,
        [
            (t1, stats(1)),
            (t1, stats(2)),
            (t1, stats(4)),
            (t2, stats(3))
        ]
    );
    assert_every_call_counted(&fake, &mut rx);
    assert_eq!(
        fake.times_for(Endpoint::IpStats).len(),
        8,
        "4 calls, each sent twice"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hung_lookup_the_analyst_left_gives_way_to_the_next() {
    // The analyst's lookup: four panes, and not one answer comes.
    let old = [stats(1), alerts(1), alert_ips(1), stats(2)];
    let fake = hanging(old.to_vec(), Duration::from_millis(100));
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    for (i, key) in old.iter().enumerate() {
        ask(&handle, key.clone(), i as u64 + 1, Priority::Foreground);
    }
    sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.on_the_wire(), 4);

    // While the analyst still waits for it, the old lookup keeps its slots.
    ask(&handle, stats(5), 5, Priority::Foreground);
    settle().await;
    assert!(fake.times_of(&stats(5)).is_empty());
    // Moving on, the console lowers what it left (or cancels it): the next lookup starts at
    // that instant. Its request was already queued, as the console sends it first.
    let moved_on = origin.elapsed();
    handle.reprioritize(Ticket(1), Priority::Prefetch);
    handle.cancel(Ticket(2));
    ask(&handle, alerts(5), 6, Priority::Foreground);
    handle.cancel(Ticket(3));
    handle.cancel(Ticket(4));
    settle().await;
    assert_eq!(fake.times_of(&stats(5)), [moved_on]);
    assert_eq!(fake.times_of(&alerts(5)), [moved_on]);

    let heard = answers(&mut rx, origin, 2).await;
    assert_eq!(
        heard.done_for(5)[0].at,
        moved_on + Duration::from_millis(100)
    );
    // What was lowered went again at once, in the slot of a call nobody waits for any more;
    // cancelled calls are never sent again.
    assert_eq!(fake.times_of(&stats(1)), [Duration::ZERO, moved_on]);
    assert_eq!(fake.times_of(&alerts(1)), [Duration::ZERO]);
    assert_eq!(fake.times_of(&alert_ips(1)), [Duration::ZERO]);
    assert!(heard.done_for(2).is_empty() && heard.done_for(3).is_empty());
    assert_eq!(
        fake.on_the_wire(),
        2,
        "stats(1) again, and stats(2) whose slot nobody needs"
    );
    assert_every_call_counted(&fake, &mut rx);
    assert!(fake.max_in_flight() <= 4);
}

#[tokio::test(start_paused = true)]
async fn expand_uses_every_slot_and_guesswork_never_stops_it() {
    // No slot is kept idle for an analyst who is not there: Batch alone runs four at a time.
    let fake = Fake::ok_after(Duration::from_millis(100));
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    for i in 0..12 {
        ask(&handle, stats(i), u64::from(i), Priority::Batch);
    }
    answers(&mut rx, origin, 12).await;
    assert_eq!(fake.max_in_flight(), 4);
    let ms: Vec<u128> = fake
        .times_for(Endpoint::IpStats)
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(ms, [0, 0, 0, 0, 100, 100, 100, 100, 200, 200, 200, 200]);
    drop(handle);

    // Prefetch waits behind Batch, hung or not: no one waits on either, so stopping one
    // would only spend a call. It does take the slot of a call nobody waits for.
    let hung: Vec<FetchKey> = (0..4).map(alerts).collect();
    let fake = hanging(hung.clone(), Duration::ZERO);
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    for (i, key) in hung.iter().enumerate() {
        ask(&handle, key.clone(), i as u64, Priority::Batch);
    }
    ask(&handle, stats(9), 9, Priority::Prefetch);
    sleep(Duration::from_secs(1)).await;
    assert!(fake.times_of(&stats(9)).is_empty());
    handle.cancel(Ticket(2));
    let heard = answers(&mut rx, origin, 1).await;
    assert_eq!(fake.times_of(&stats(9)), [Duration::from_secs(1)]);
    assert_eq!(heard.done_for(9).len(), 1);
    assert_eq!(
        fake.times_of(&alerts(2)),
        [Duration::ZERO],
        "not sent again"
    );
    assert_every_call_counted(&fake, &mut rx);
}

#[tokio::test(start_paused = true)]
async fn what_is_on_screen_never_waits_behind_guesswork() {
    // Guesswork and bulk work fill every slot and hang; the analyst's own lookup too.
    let hung = [
        (stats(1), Priority::Prefetch),
        (stats(2), Priority::Batch),
        (stats(3), Priority::Prefetch),
        (alerts(1), Priority::Foreground),
    ];
    let fake = hanging(
        hung.iter().map(|(k, _)| k.clone()).collect(),
        Duration::ZERO,
    );
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    for (i, (key, priority)) in hung.iter().enumerate() {
        ask(&handle, key.clone(), i as u64, *priority);
    }
    sleep(Duration::from_secs(1)).await;
    // Two on-screen panes start at once, in the slots of Batch, then of the older Prefetch.
    ask(&handle, stats(10), 10, Priority::Visible);
    ask(&handle, stats(11), 11, Priority::Visible);
    let heard = answers(&mut rx, origin, 2).await;
    assert!(heard.done.iter().all(|d| d.at == Duration::from_secs(1)));
    // Both stopped calls went again as the panes' answers freed their slots.
    assert_eq!(
        fake.times_of(&stats(2)),
        [Duration::ZERO, Duration::from_secs(1)]
    );
    assert_eq!(
        fake.times_of(&stats(1)),
        [Duration::ZERO, Duration::from_secs(1)]
    );
    assert_eq!(fake.times_of(&stats(3)), [Duration::ZERO]);
    assert_eq!(
        fake.times_of(&alerts(1)),
        [Duration::ZERO],
        "the lookup kept its slot"
    );
    assert_every_call_counted(&fake, &mut rx);
    drop(handle);

    // On-screen work never stops the analyst's lookup: it waits until the lookup is left.
    let hung: Vec<FetchKey> = (0..4).map(alerts).collect();
    let fake = hanging(hung.clone(), Duration::ZERO);
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    for (i, key) in hung.iter().enumerate() {
        ask(&handle, key.clone(), i as u64, Priority::Foreground);
    }
    ask(&handle, stats(9), 9, Priority::Visible);
    sleep(Duration::from_secs(1)).await;
    assert!(fake.times_of(&stats(9)).is_empty());
    handle.reprioritize(Ticket(0), Priority::Prefetch);
    answers(&mut rx, origin, 1).await;
    assert_eq!(fake.times_of(&stats(9)), [Duration::from_secs(1)]);
}

/// The first call's answer is already in when the scheduler takes its slot back: the call
/// itself sends, before answering, an analyst's request (which stops it) that is cancelled
/// at once (so its slot goes back to the stopped job, sent again).
struct Racing {
    handle: OnceLock<FetchHandle>,
    calls: Mutex<Vec<Call>>,
}

impl Transport for Racing {
    fn call(&self, call: Call) -> CallFuture {
        let first = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(call.clone());
            calls.len() == 1
        };
        let handle = self
            .handle
            .get()
            .expect("set before the first request")
            .clone();
        Box::pin(async move {
            match (&call.key, call.next_link.as_deref()) {
                (FetchKey::IpStats(..), _) => std::future::pending().await,
                (_, None) => {
                    if first {
                        ask(&handle, stats(1), 2, Priority::Foreground);
                        handle.cancel(Ticket(2));
                    }
                    Ok(ips_page(&["10.0.0.1"], Some("page2")))
                }
                (_, Some(_)) => Ok(ips_page(&["10.0.0.2"], None)),
            }
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_stopped_calls_late_answer_is_never_taken_for_the_next_calls() {
    let racing = Arc::new(Racing {
        handle: OnceLock::new(),
        calls: Mutex::new(Vec::new()),
    });
    let origin = Instant::now();
    let cfg = SchedulerConfig {
        max_in_flight: 1,
        ..config("100/1m")
    };
    let (handle, mut rx) = spawn(racing.clone() as Arc<dyn Transport>, cfg);
    racing.handle.set(handle.clone()).unwrap();
    ask(&handle, alert_ips(1), 1, Priority::Prefetch);
    let heard = answers(&mut rx, origin, 1).await;
    let Ok(FetchValue::Ips(ips)) = &heard.done_for(1)[0].result else {
        panic!("{:?}", heard.done);
    };
    let ids: Vec<&str> = ips.iter().map(|ip| ip.id.as_str()).collect();
    assert_eq!(ids, ["10.0.0.1", "10.0.0.2"], "each page once, in order");
    let links: Vec<Option<String>> = racing
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.next_link.clone())
        .collect();
    assert_eq!(
        links,
        [None, None, Some("page2".into())],
        "the stopped first page went again"
    );
}
