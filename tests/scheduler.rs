//! The scheduler against a fake transport under tokio's paused clock: windows are never
//! exceeded, a backlog drains at the theoretical pace, priorities, coalescing, cancel, 429
//! pauses, retries and paging behave. Time here is virtual, so exact instants can be asserted.
//! Hand-picked cases first; at the end, `properties` checks the same promises for generated
//! limits, reserves, arrivals and priorities (proptest, 64 cases each).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mde_triage::defender::{
    ApiError, Call, CallFuture, Endpoint, ErrorKind, FetchKey, FetchValue, Next, Page, RelatedIp,
    Transport, parse_alert_id,
};
use mde_triage::fetch::{
    BudgetStatus, FetchEvent, FetchHandle, FetchRequest, Priority, RateLimits, SchedulerConfig,
    Ticket, spawn,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, sleep, sleep_until};

type Answer = (Duration, Result<Page, ApiError>);
type Responder = dyn Fn(&Call, usize) -> Answer + Send + Sync;

/// A latency that never ends: the call hangs until the scheduler drops it.
const NEVER: Duration = Duration::MAX;

/// Records every call with its virtual start time and answers through `respond`, which gets
/// the call and how many calls for the same key came before it.
struct Fake {
    start: Instant,
    respond: Box<Responder>,
    calls: Mutex<Vec<(Duration, Call)>>,
    per_key: Mutex<HashMap<FetchKey, usize>>,
    wire: Arc<Mutex<Wire>>,
}

/// What is on the wire, as the transport sees it: a call leaves it when answered or dropped.
#[derive(Default)]
struct Wire {
    now: usize,
    most: usize,
    /// Calls dropped before their answer came.
    stopped: usize,
    /// When each call in `calls` left the wire; `None` while it is on it.
    ended: Vec<Option<Duration>>,
}

impl Fake {
    fn new(respond: impl Fn(&Call, usize) -> Answer + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            respond: Box::new(respond),
            calls: Mutex::new(Vec::new()),
            per_key: Mutex::new(HashMap::new()),
            wire: Arc::default(),
        })
    }

    /// Every call answers `Ok` after `latency`.
    fn ok_after(latency: Duration) -> Arc<Self> {
        Self::new(move |call, _| (latency, Ok(page(&call.key, None))))
    }

    fn calls(&self) -> Vec<(Duration, Call)> {
        self.calls.lock().unwrap().clone()
    }

    fn times_for(&self, endpoint: Endpoint) -> Vec<Duration> {
        self.calls()
            .into_iter()
            .filter(|(_, c)| c.key.endpoint() == endpoint)
            .map(|(t, _)| t)
            .collect()
    }

    fn times_of(&self, key: &FetchKey) -> Vec<Duration> {
        self.calls()
            .into_iter()
            .filter(|(_, c)| c.key == *key)
            .map(|(t, _)| t)
            .collect()
    }

    /// Each call's start and end (`NEVER` while on the wire), in the order the calls started.
    fn spans(&self) -> Vec<(Duration, Duration, FetchKey)> {
        let ended = self.wire.lock().unwrap().ended.clone();
        self.calls()
            .into_iter()
            .zip(ended)
            .map(|((at, call), end)| (at, end.unwrap_or(NEVER), call.key))
            .collect()
    }

    /// The most calls on the wire at once so far.
    fn max_in_flight(&self) -> usize {
        self.wire.lock().unwrap().most
    }

    /// Calls on the wire now: a call the scheduler stopped has left it.
    fn on_the_wire(&self) -> usize {
        self.wire.lock().unwrap().now
    }

    /// Calls the scheduler dropped before their answer came.
    fn stopped(&self) -> usize {
        self.wire.lock().unwrap().stopped
    }
}

/// Takes a call off the wire when its future ends or is dropped, whichever comes first.
struct OnTheWire {
    index: usize,
    start: Instant,
    answered: bool,
    wire: Arc<Mutex<Wire>>,
}

impl Drop for OnTheWire {
    fn drop(&mut self) {
        let mut wire = self.wire.lock().unwrap();
        wire.ended[self.index] = Some(self.start.elapsed());
        wire.now -= 1;
        if !self.answered {
            wire.stopped += 1;
        }
    }
}

impl Transport for Fake {
    fn call(&self, call: Call) -> CallFuture {
        let at = self.start.elapsed();
        let nth = {
            let mut per_key = self.per_key.lock().unwrap();
            let n = per_key.entry(call.key.clone()).or_default();
            *n += 1;
            *n - 1
        };
        let (latency, result) = (self.respond)(&call, nth);
        let mut calls = self.calls.lock().unwrap();
        calls.push((at, call));
        let guard = {
            let mut wire = self.wire.lock().unwrap();
            wire.ended.push(None);
            wire.now += 1;
            wire.most = wire.most.max(wire.now);
            OnTheWire {
                index: calls.len() - 1,
                start: self.start,
                answered: false,
                wire: self.wire.clone(),
            }
        };
        Box::pin(async move {
            // Moved whole (not just the field written below), so dropping the call drops it.
            let mut guard = guard;
            if latency == NEVER {
                std::future::pending::<()>().await;
            }
            sleep(latency).await;
            guard.answered = true;
            result
        })
    }
}

fn page(key: &FetchKey, next_link: Option<&str>) -> Page {
    let value = match key {
        FetchKey::IpStats(_) => FetchValue::Stats(None),
        FetchKey::IpAlerts(_) => FetchValue::Alerts(Default::default()),
        FetchKey::AlertIps(_) => FetchValue::Ips(Default::default()),
    };
    Page {
        value,
        next: next_link.map(|l| Next::Follow(l.to_owned())),
    }
}

fn ips_page(ips: &[&str], next_link: Option<&str>) -> Page {
    let ips = ips
        .iter()
        .map(|s| serde_json::from_value::<RelatedIp>(serde_json::json!({ "id": s })).unwrap())
        .collect();
    Page {
        value: FetchValue::Ips(ips),
        next: next_link.map(|l| Next::Follow(l.to_owned())),
    }
}

fn addr(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
}

fn stats(n: u32) -> FetchKey {
    FetchKey::IpStats(addr(n))
}

fn alerts(n: u32) -> FetchKey {
    FetchKey::IpAlerts(addr(n))
}

fn alert_ips(n: u32) -> FetchKey {
    FetchKey::AlertIps(parse_alert_id(&format!("da{n}")).unwrap())
}

/// Exact windows (no slack), so tests can assert exact instants; the slack has its own test.
fn config(spec: &str) -> SchedulerConfig {
    SchedulerConfig {
        limits: spec.parse::<RateLimits>().unwrap(),
        slack: Duration::ZERO,
        ..SchedulerConfig::default()
    }
}

fn start(
    fake: &Arc<Fake>,
    config: SchedulerConfig,
) -> (FetchHandle, UnboundedReceiver<FetchEvent>) {
    spawn(fake.clone() as Arc<dyn Transport>, config)
}

fn ask(handle: &FetchHandle, key: FetchKey, ticket: u64, priority: Priority) {
    handle.request(FetchRequest::new(key, Ticket(ticket), priority));
}

#[derive(Debug)]
struct Done {
    at: Duration,
    key: FetchKey,
    ticket: Ticket,
    result: Result<FetchValue, ApiError>,
}

/// Everything the scheduler said, split by kind, each with its virtual arrival time.
#[derive(Debug, Default)]
struct Heard {
    done: Vec<Done>,
    retrying: Vec<(Duration, u32, u32, ErrorKind)>,
    budgets: Vec<(Duration, BudgetStatus)>,
}

impl Heard {
    fn hear(&mut self, origin: Instant, event: FetchEvent) {
        let at = origin.elapsed();
        match event {
            FetchEvent::Done {
                key,
                ticket,
                result,
                ..
            } => self.done.push(Done {
                at,
                key,
                ticket,
                result,
            }),
            FetchEvent::Retrying {
                attempt,
                max,
                error,
                ..
            } => self.retrying.push((at, attempt, max, error.kind)),
            FetchEvent::Budget(b) => self.budgets.push((at, b)),
        }
    }

    fn done_for(&self, ticket: u64) -> Vec<&Done> {
        self.done
            .iter()
            .filter(|d| d.ticket == Ticket(ticket))
            .collect()
    }
}

/// Listens until `n` answers have arrived.
async fn until_done(rx: &mut UnboundedReceiver<FetchEvent>, origin: Instant, n: usize) -> Heard {
    let mut heard = Heard::default();
    while heard.done.len() < n {
        let event = rx.recv().await.expect("the scheduler stopped early");
        heard.hear(origin, event);
    }
    heard
}

/// Drops the handle and listens until the scheduler finishes its work and stops.
async fn until_closed(
    handle: FetchHandle,
    rx: &mut UnboundedReceiver<FetchEvent>,
    origin: Instant,
) -> Heard {
    drop(handle);
    let mut heard = Heard::default();
    while let Some(event) = rx.recv().await {
        heard.hear(origin, event);
    }
    heard
}

/// No `window`-long span holds more than `limit` call starts.
fn assert_within(times: &[Duration], limits: &RateLimits, what: &str) {
    let mut times = times.to_vec();
    times.sort();
    for w in &limits.0 {
        let limit = w.limit as usize;
        for pair in times.windows(limit + 1) {
            assert!(
                pair[limit] - pair[0] >= w.window,
                "{what}: {} calls within {:?} (limit {}/{:?}): {:?}",
                limit + 1,
                pair[limit] - pair[0],
                w.limit,
                w.window,
                pair
            );
        }
    }
}

/// The earliest start of each of `k` back-to-back calls that every window allows: call `i`
/// may start once call `i - limit` has left that window.
fn theoretical_starts(k: usize, limits: &RateLimits) -> Vec<Duration> {
    let mut starts: Vec<Duration> = Vec::with_capacity(k);
    for i in 0..k {
        let at = limits
            .0
            .iter()
            .filter(|w| i >= w.limit as usize)
            .map(|w| starts[i - w.limit as usize] + w.window)
            .max()
            .unwrap_or_default();
        starts.push(at);
    }
    starts
}

#[tokio::test(start_paused = true)]
async fn a_backlog_drains_at_the_theoretical_minimum() {
    for (spec, k) in [("10/1m", 25), ("3/1s,10/10s", 37), ("10/5s,100/1h", 120)] {
        let fake = Fake::ok_after(Duration::ZERO);
        let origin = Instant::now();
        let cfg = config(spec);
        let limits = cfg.limits.clone();
        let (handle, mut rx) = start(&fake, cfg);
        for i in 0..k {
            ask(&handle, stats(i), u64::from(i), Priority::Foreground);
        }
        let heard = until_done(&mut rx, origin, k as usize).await;
        let times = fake.times_for(Endpoint::IpStats);
        let theory = theoretical_starts(k as usize, &limits);
        let last = *times.iter().max().unwrap();
        let ideal = *theory.last().unwrap();
        assert!(
            last >= ideal,
            "{spec}: faster than the windows allow ({last:?} < {ideal:?})"
        );
        assert!(
            last - ideal <= Duration::from_millis(1),
            "{spec}: last call at {last:?}, theoretical minimum {ideal:?}"
        );
        assert_within(&times, &limits, spec);
        assert_eq!(heard.done.len(), k as usize);
    }
    // The figures the test relies on, worked by hand: 25 calls at 10 a minute start at 0, 60
    // and 120 s; 120 calls at 10/5s and 100/1h wait an hour for the 101st.
    let limits = "10/1m".parse().unwrap();
    assert_eq!(
        theoretical_starts(25, &limits)[24],
        Duration::from_secs(120)
    );
    let limits = "10/5s,100/1h".parse().unwrap();
    assert_eq!(
        theoretical_starts(101, &limits)[100],
        Duration::from_secs(3600)
    );
}

#[tokio::test(start_paused = true)]
async fn foreground_overtakes_a_full_batch_queue() {
    // With the reserve, batch work leaves room: the analyst's request goes at once.
    let fake = Fake::ok_after(Duration::from_millis(50));
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("10/1m"));
    for i in 0..30 {
        ask(&handle, stats(i), u64::from(i), Priority::Batch);
    }
    sleep(Duration::from_secs(1)).await;
    assert_eq!(fake.calls().len(), 8, "batch keeps 20% of the window");
    ask(&handle, stats(100), 100, Priority::Foreground);
    let heard = until_done(&mut rx, origin, 9).await;
    assert_eq!(fake.times_of(&stats(100)), vec![Duration::from_secs(1)]);
    assert!(heard.done_for(100)[0].at <= Duration::from_millis(1050));

    // Without a reserve the window is full; the analyst waits only for the next free slot,
    // ahead of everything queued, and the other priorities follow in order.
    // One call at a time, so the log shows the order of dispatch.
    let fake = Fake::ok_after(Duration::ZERO);
    let origin = Instant::now();
    let (handle, mut rx) = start(
        &fake,
        SchedulerConfig {
            reserve: 0.0,
            max_in_flight: 1,
            ..config("10/1m")
        },
    );
    for i in 0..30 {
        ask(&handle, stats(i), u64::from(i), Priority::Batch);
    }
    sleep(Duration::from_secs(1)).await;
    ask(&handle, stats(201), 201, Priority::Prefetch);
    ask(&handle, stats(202), 202, Priority::Visible);
    ask(&handle, stats(203), 203, Priority::Foreground);
    until_done(&mut rx, origin, 13).await;
    let calls = fake.calls();
    let order: Vec<&FetchKey> = calls[10..13].iter().map(|(_, c)| &c.key).collect();
    assert_eq!(order, vec![&stats(203), &stats(202), &stats(201)]);
    assert_eq!(calls[10].0, Duration::from_secs(60));
}

#[tokio::test(start_paused = true)]
async fn identical_requests_share_one_call() {
    let fake = Fake::ok_after(Duration::from_millis(300));
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("1/1m"));
    ask(&handle, stats(1), 1, Priority::Foreground);
    ask(&handle, alerts(0), 30, Priority::Foreground); // fills the alerts window
    sleep(Duration::from_millis(100)).await;
    ask(&handle, stats(1), 2, Priority::Visible); // joins the call in flight
    ask(&handle, alerts(1), 3, Priority::Foreground);
    ask(&handle, alerts(1), 4, Priority::Foreground); // joins it while it is still queued
    ask(&handle, alert_ips(1), 5, Priority::Batch);
    ask(&handle, alert_ips(1), 5, Priority::Batch); // the same ticket twice: one answer
    let heard = until_closed(handle, &mut rx, origin).await;
    assert_eq!(fake.times_of(&stats(1)).len(), 1);
    assert_eq!(fake.times_of(&alerts(1)).len(), 1);
    assert_eq!(fake.times_of(&alert_ips(1)).len(), 1);
    for ticket in [1, 2, 3, 4, 5, 30] {
        assert_eq!(heard.done_for(ticket).len(), 1, "ticket {ticket}");
    }
    assert_eq!(fake.times_of(&alerts(1)), vec![Duration::from_secs(60)]);
}

#[tokio::test(start_paused = true)]
async fn cancelled_work_is_dropped_and_stale_answers_never_arrive() {
    let fake = Fake::ok_after(Duration::from_secs(1));
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("1/1m"));
    ask(&handle, stats(1), 1, Priority::Foreground); // on the wire
    ask(&handle, stats(2), 2, Priority::Foreground); // queued behind the full window
    ask(&handle, alerts(3), 3, Priority::Foreground); // another endpoint, on the wire
    ask(&handle, alerts(3), 4, Priority::Foreground); // shares that call
    sleep(Duration::from_millis(500)).await;
    handle.cancel(Ticket(1));
    handle.cancel(Ticket(2));
    handle.cancel(Ticket(3));
    let heard = until_closed(handle, &mut rx, origin).await;
    assert!(heard.done_for(1).is_empty(), "the stale answer is dropped");
    assert!(heard.done_for(2).is_empty());
    assert!(heard.done_for(3).is_empty());
    assert_eq!(heard.done_for(4).len(), 1, "the other waiter still gets it");
    assert!(
        fake.times_of(&stats(2)).is_empty(),
        "queued work nobody waits for is never sent"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_its_endpoint_exactly_as_long_as_it_says() {
    let throttled = || {
        let mut e = ApiError::new(ErrorKind::Throttled, "API calls quota exceeded!");
        e.status = Some(429);
        e.retry_after = Some(Duration::from_secs(7));
        e
    };
    let fake = Fake::new(move |call, nth| {
        let latency = Duration::from_millis(100);
        if call.key == stats(1) && nth == 0 {
            (latency, Err(throttled()))
        } else {
            (latency, Ok(page(&call.key, None)))
        }
    });
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    ask(&handle, stats(1), 1, Priority::Foreground);
    for i in 0..5u32 {
        sleep(Duration::from_secs(1)).await;
        ask(
            &handle,
            stats(10 + i),
            u64::from(10 + i),
            Priority::Foreground,
        );
        ask(&handle, alerts(i), u64::from(20 + i), Priority::Foreground);
    }
    let heard = until_closed(handle, &mut rx, origin).await;

    let resume = Duration::from_millis(7100); // answered at 0.1 s, Retry-After 7 s
    let stats_times = fake.times_for(Endpoint::IpStats);
    assert_eq!(stats_times[0], Duration::ZERO);
    assert!(
        stats_times[1..].iter().all(|t| *t >= resume),
        "nothing reaches a paused endpoint: {stats_times:?}"
    );
    assert_eq!(fake.times_of(&stats(1)), vec![Duration::ZERO, resume]);
    let alert_times = fake.times_for(Endpoint::IpAlerts);
    let expected: Vec<Duration> = (1..=5).map(Duration::from_secs).collect();
    assert_eq!(alert_times, expected, "other endpoints carry on");
    assert_eq!(heard.done.len(), 11, "nothing is lost");
    assert!(heard.done.iter().all(|d| d.result.is_ok()));

    // The pause is published as a countdown, once a second, and counted.
    let countdown: Vec<u64> = heard
        .budgets
        .iter()
        .filter_map(|(_, b)| b.endpoint(Endpoint::IpStats)?.paused_for)
        .map(|d| d.as_secs_f64().round() as u64)
        .collect();
    assert_eq!(countdown.first(), Some(&7));
    assert!(
        countdown.contains(&3) && countdown.contains(&1),
        "{countdown:?}"
    );
    let last = &heard.budgets.last().unwrap().1;
    assert_eq!(last.endpoint(Endpoint::IpStats).unwrap().throttled, 1);
    assert_eq!(last.paused_for(), None);
}

#[tokio::test(start_paused = true)]
async fn a_429_without_retry_after_waits_for_room_and_at_least_the_minimum() {
    let fake = Fake::new(|call, nth| {
        if nth == 0 {
            (
                Duration::ZERO,
                Err(ApiError::new(ErrorKind::Throttled, "429")),
            )
        } else {
            (Duration::ZERO, Ok(page(&call.key, None)))
        }
    });
    let origin = Instant::now();
    // The budget has room, so the pause is the configured minimum.
    let (handle, mut rx) = start(&fake, config("5/10s"));
    ask(&handle, stats(1), 1, Priority::Foreground);
    until_closed(handle, &mut rx, origin).await;
    assert_eq!(
        fake.times_of(&stats(1)),
        vec![Duration::ZERO, Duration::from_secs(5)]
    );

    // The window is full after the 429: the pause lasts until the oldest call leaves it.
    let fake = Fake::new(|call, nth| {
        if call.key == stats(2) && nth == 0 {
            (
                Duration::ZERO,
                Err(ApiError::new(ErrorKind::Throttled, "429")),
            )
        } else {
            (Duration::ZERO, Ok(page(&call.key, None)))
        }
    });
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("2/30s"));
    ask(&handle, stats(1), 1, Priority::Foreground);
    ask(&handle, stats(2), 2, Priority::Foreground);
    until_closed(handle, &mut rx, origin).await;
    assert_eq!(
        fake.times_of(&stats(2)),
        vec![Duration::ZERO, Duration::from_secs(30)]
    );
}

#[tokio::test(start_paused = true)]
async fn transient_failures_retry_with_backoff_then_fail_clearly() {
    for kind in [ErrorKind::Server, ErrorKind::Timeout, ErrorKind::Network] {
        let fake = Fake::new(move |_, _| (Duration::ZERO, Err(ApiError::new(kind, "boom"))));
        let origin = Instant::now();
        let (handle, mut rx) = start(&fake, config("100/1m"));
        ask(&handle, stats(1), 1, Priority::Foreground);
        let heard = until_closed(handle, &mut rx, origin).await;
        let times = fake.times_of(&stats(1));
        assert_eq!(times.len(), 3, "{kind:?}: three attempts in all");
        let (first, second) = (times[1] - times[0], times[2] - times[1]);
        assert!(
            (Duration::from_millis(500)..=Duration::from_secs(1)).contains(&first),
            "{first:?}"
        );
        assert!(
            (Duration::from_secs(1)..=Duration::from_secs(2)).contains(&second),
            "{second:?}"
        );
        let attempts: Vec<(u32, u32)> = heard.retrying.iter().map(|r| (r.1, r.2)).collect();
        assert_eq!(attempts, vec![(2, 3), (3, 3)], "shown as retrying 2/3, 3/3");
        let done = heard.done_for(1);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].result.as_ref().unwrap_err().kind, kind);
    }
}

#[tokio::test(start_paused = true)]
async fn final_errors_cost_one_call() {
    for kind in [
        ErrorKind::InvalidInput,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::Decode,
    ] {
        let fake = Fake::new(move |_, _| (Duration::ZERO, Err(ApiError::new(kind, "no"))));
        let origin = Instant::now();
        let (handle, mut rx) = start(&fake, config("100/1m"));
        ask(&handle, alert_ips(1), 1, Priority::Foreground);
        let heard = until_closed(handle, &mut rx, origin).await;
        assert_eq!(fake.calls().len(), 1, "{kind:?}");
        assert!(heard.retrying.is_empty());
        assert_eq!(heard.done_for(1)[0].result.as_ref().unwrap_err().kind, kind);
    }
}

#[tokio::test(start_paused = true)]
async fn pages_are_followed_each_through_the_budget() {
    let fake = Fake::new(|call, _| {
        let p = match call.next_link.as_deref() {
            None => ips_page(&["10.0.0.1"], Some("https://x/p2")),
            Some("https://x/p2") => ips_page(&["10.0.0.2"], Some("https://x/p3")),
            Some(_) => ips_page(&["10.0.0.3"], None),
        };
        (Duration::from_millis(10), Ok(p))
    });
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("2/10s"));
    ask(&handle, alert_ips(1), 1, Priority::Foreground);
    let heard = until_closed(handle, &mut rx, origin).await;
    let FetchValue::Ips(ips) = heard.done_for(1)[0].result.clone().unwrap() else {
        panic!("IPs expected")
    };
    let ids: Vec<&str> = ips.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    // The third page waits for the window like any other call.
    let times = fake.times_of(&alert_ips(1));
    assert_eq!(times.len(), 3);
    assert_eq!(times[2], Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn paging_stops_at_a_loop_and_at_the_cap() {
    // A next link seen before ends the answer with what arrived.
    let fake = Fake::new(|_, nth| {
        let ip = format!("10.0.1.{nth}");
        (
            Duration::ZERO,
            Ok(ips_page(&[&ip], Some("https://x/again"))),
        )
    });
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    ask(&handle, alert_ips(1), 1, Priority::Foreground);
    let heard = until_closed(handle, &mut rx, origin).await;
    assert_eq!(fake.calls().len(), 2);
    let Ok(FetchValue::Ips(ips)) = &heard.done_for(1)[0].result else {
        panic!()
    };
    assert_eq!(ips.len(), 2);

    // Endless fresh links stop at the page cap.
    let fake = Fake::new(|_, nth| {
        let link = format!("https://x/p{nth}");
        (Duration::ZERO, Ok(ips_page(&["10.0.0.9"], Some(&link))))
    });
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    ask(&handle, alert_ips(2), 1, Priority::Foreground);
    until_closed(handle, &mut rx, origin).await;
    assert_eq!(fake.calls().len(), SchedulerConfig::default().max_pages);
}

#[tokio::test(start_paused = true)]
async fn the_status_counts_calls_and_queue() {
    let fake = Fake::ok_after(Duration::from_millis(100));
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("3/1m,5/1h"));
    for i in 0..5 {
        ask(&handle, stats(i), u64::from(i), Priority::Foreground);
    }
    sleep(Duration::from_secs(1)).await;
    let status = latest_status(&mut rx);
    let b = status.endpoint(Endpoint::IpStats).unwrap();
    assert_eq!(b.calls, 3);
    assert_eq!(
        b.windows
            .iter()
            .map(|w| (w.used, w.limit))
            .collect::<Vec<_>>(),
        vec![(3, 3), (3, 5)]
    );
    assert_eq!((status.queued, status.in_flight), (2, 0));
    // A minute later the minute window has emptied and the rest went out.
    sleep_until(origin + Duration::from_secs(61)).await;
    let status = latest_status(&mut rx);
    let b = status.endpoint(Endpoint::IpStats).unwrap();
    assert_eq!(b.calls, 5);
    assert_eq!(
        b.windows.iter().map(|w| w.used).collect::<Vec<_>>(),
        vec![2, 5]
    );
    assert_eq!((status.queued, status.in_flight), (0, 0));
    drop(handle);
}

/// The last budget status published so far.
fn latest_status(rx: &mut UnboundedReceiver<FetchEvent>) -> BudgetStatus {
    let mut last = None;
    while let Ok(event) = rx.try_recv() {
        if let FetchEvent::Budget(b) = event {
            last = Some(b);
        }
    }
    last.expect("a status was published")
}

#[tokio::test(start_paused = true)]
async fn a_refused_call_does_not_use_the_window() {
    // Another console spent the registration's budget: our first call is refused. The refusal
    // is not counted, so after the pause our own window still has room for both calls.
    let fake = Fake::new(|call, nth| {
        if call.key == stats(1) && nth == 0 {
            let mut e = ApiError::new(ErrorKind::Throttled, "429");
            e.retry_after = Some(Duration::from_secs(2));
            (Duration::ZERO, Err(e))
        } else {
            (Duration::ZERO, Ok(page(&call.key, None)))
        }
    });
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("2/1h"));
    ask(&handle, stats(1), 1, Priority::Foreground);
    sleep(Duration::from_millis(500)).await;
    ask(&handle, stats(2), 2, Priority::Foreground);
    let heard = until_closed(handle, &mut rx, origin).await;
    assert_eq!(heard.done.len(), 2);
    assert_eq!(
        fake.times_of(&stats(1)),
        vec![Duration::ZERO, Duration::from_secs(2)]
    );
    assert_eq!(fake.times_of(&stats(2)), vec![Duration::from_secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn left_work_is_lowered_and_work_back_in_sight_is_raised() {
    // One call at a time, so the log shows the order of dispatch.
    let fake = Fake::ok_after(Duration::ZERO);
    let origin = Instant::now();
    let (handle, mut rx) = start(
        &fake,
        SchedulerConfig {
            reserve: 0.0,
            max_in_flight: 1,
            ..config("1/1m")
        },
    );
    ask(&handle, stats(0), 100, Priority::Foreground); // fills the window
    ask(&handle, stats(1), 1, Priority::Visible); // the analyst leaves this view...
    ask(&handle, stats(2), 2, Priority::Visible);
    ask(&handle, stats(3), 3, Priority::Batch); // ...and comes back to this one
    ask(&handle, stats(4), 4, Priority::Batch);
    ask(&handle, stats(2), 5, Priority::Visible); // stats(2) has two waiters
    sleep(Duration::from_secs(1)).await;
    handle.reprioritize(Ticket(1), Priority::Prefetch);
    handle.reprioritize(Ticket(2), Priority::Batch); // another ticket still wants it: kept
    handle.reprioritize(Ticket(4), Priority::Foreground);
    handle.reprioritize(Ticket(99), Priority::Foreground); // unknown: starts nothing
    let heard = until_closed(handle, &mut rx, origin).await;
    let order: Vec<FetchKey> = fake.calls().into_iter().map(|(_, c)| c.key).collect();
    assert_eq!(order, [stats(0), stats(4), stats(2), stats(1), stats(3)]);
    assert_eq!(heard.done.len(), 6, "lowered work is still answered");
    assert!(heard.done_for(99).is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_default_slack_keeps_windows_apart_on_the_servers_clock() {
    let fake = Fake::ok_after(Duration::ZERO);
    let origin = Instant::now();
    let cfg = SchedulerConfig {
        limits: "2/5s,10/1m".parse().unwrap(),
        ..SchedulerConfig::default()
    };
    let (handle, mut rx) = start(&fake, cfg);
    for i in 0..5 {
        ask(&handle, stats(i), u64::from(i), Priority::Foreground);
    }
    until_closed(handle, &mut rx, origin).await;
    // 1% of 5 s: each pair of calls starts 5.05 s after the previous pair.
    let ms: Vec<u128> = fake
        .times_for(Endpoint::IpStats)
        .iter()
        .map(Duration::as_millis)
        .collect();
    assert_eq!(ms, [0, 0, 5050, 5050, 10100]);
}

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

/// Lets every task run at this instant; the paused clock then moves on by 1 ms.
async fn settle() {
    sleep(Duration::from_millis(1)).await;
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
                (FetchKey::IpStats(_), _) => std::future::pending().await,
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

/// Property tests: the fake above under generated limits, reserves, arrival patterns,
/// priorities and latencies. Each case runs on a runtime of its own whose clock starts paused,
/// so time is virtual and exact. What each property expects is worked out here from the
/// definition of a sliding window, never by asking the scheduler's own budget code.
mod properties {
    use super::*;

    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use mde_triage::fetch::Window;
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;
    use proptest::test_runner::FileFailurePersistence;

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

    /// One to three windows. The innermost allows 1 to 20 calls per 1 to 30 s; each outer one
    /// spans 2 to 6 times the one inside it and allows more calls, yet fewer than that many
    /// times as many, so it can bind while the inner one still has room (as 1,500/1h does
    /// under 100/1m).
    fn limits() -> impl Strategy<Value = RateLimits> {
        (1u32..=20, 1u64..=30, vec((2u32..=6, 0u32..=100), 0..=2)).prop_map(
            |(limit, secs, outer)| {
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
            },
        )
    }

    /// The share of each window kept for the analyst: 0 to 50%, in whole percents.
    fn reserve() -> impl Strategy<Value = f64> {
        (0u32..=50).prop_map(|pct| f64::from(pct) / 100.0)
    }

    fn priority() -> impl Strategy<Value = Priority> {
        proptest::sample::select(vec![
            Priority::Batch,
            Priority::Prefetch,
            Priority::Visible,
            Priority::Foreground,
        ])
    }

    fn low_priority() -> impl Strategy<Value = Priority> {
        proptest::sample::select(vec![Priority::Batch, Priority::Prefetch])
    }

    /// A request below Foreground made before the analyst's: its lane and endpoint, whether
    /// its answer never comes (else it takes up to 400 ms), and whether it is cancelled just
    /// before the analyst asks.
    #[derive(Debug, Clone)]
    struct Lower {
        priority: Priority,
        endpoint: usize,
        latency: Option<u64>,
        cancelled: bool,
    }

    fn lower() -> impl Strategy<Value = Lower> {
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
    struct Arrival {
        after: Duration,
        endpoint: usize,
        id: u32,
        priority: Priority,
    }

    /// Up to `max` requests in bursts (no pause: most of them) and lulls (up to 3 s), over
    /// `ids` keys per endpoint, so equal keys meet in the queue and on the wire.
    fn arrivals(max: usize, ids: u32) -> impl Strategy<Value = Vec<Arrival>> {
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

    fn key(endpoint: usize, id: u32) -> FetchKey {
        match endpoint {
            0 => stats(id),
            1 => alerts(id),
            _ => alert_ips(id),
        }
    }

    /// Answers every call `Ok`, the n-th call (of all) after the n-th of `latencies`, cycled.
    fn fake_with_latencies(latencies: Vec<u64>) -> Arc<Fake> {
        let n = AtomicUsize::new(0);
        Fake::new(move |call, _| {
            let i = n.fetch_add(1, Ordering::Relaxed);
            let latency = Duration::from_millis(latencies[i % latencies.len()]);
            (latency, Ok(page(&call.key, None)))
        })
    }

    /// Exact windows: no slack, so instants can be compared to the definition.
    fn config(limits: &RateLimits, reserve: f64) -> SchedulerConfig {
        SchedulerConfig {
            limits: limits.clone(),
            reserve,
            slack: Duration::ZERO,
            ..SchedulerConfig::default()
        }
    }

    /// Sends each arrival at its time, ticket = its index; returns each one's key and when it
    /// was asked.
    async fn send(
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

    /// Calls started in the window `(t - span, t]`: a call leaves a window exactly one span
    /// after it started.
    fn in_window(starts: &[Duration], t: Duration, span: Duration) -> usize {
        starts.iter().filter(|s| **s <= t && **s + span > t).count()
    }

    /// The most calls any `span`-long stretch holds, and the instant it ends. The count only
    /// grows when a call starts, so looking at every start looks at every instant.
    fn busiest(starts: &[Duration], span: Duration) -> (usize, Duration) {
        starts
            .iter()
            .map(|t| (in_window(starts, *t, span), *t))
            .max()
            .unwrap_or_default()
    }

    /// The first instant from `from` at which every window has room for one more call beside
    /// `placed`. Room only appears when some call leaves some window, so the candidates are
    /// `from` and those instants.
    fn first_room(placed: &[Duration], from: Duration, limits: &RateLimits) -> Duration {
        let mut candidates: Vec<Duration> = placed
            .iter()
            .flat_map(|s| limits.0.iter().map(move |w| *s + w.window))
            .filter(|t| *t > from)
            .collect();
        candidates.push(from);
        candidates.sort();
        candidates
            .into_iter()
            .find(|t| {
                limits
                    .0
                    .iter()
                    .all(|w| in_window(placed, *t, w.window) < w.limit as usize)
            })
            .expect("every call leaves every window in the end")
    }

    /// What work that keeps `reserve` may use of a window of `limit` calls, as `limits.rs`
    /// defines it: the reserve is rounded up to whole calls, and at least one call is left,
    /// so reserved work still moves.
    fn share_of(limit: u32, reserve: f64) -> usize {
        let kept = (f64::from(limit) * reserve).ceil() as u32;
        limit.saturating_sub(kept).max(1) as usize
    }

    fn assert_windows(fake: &Fake, limits: &RateLimits, what: &str) -> Result<(), TestCaseError> {
        for endpoint in Endpoint::ALL {
            let starts = fake.times_for(endpoint);
            for w in &limits.0 {
                let (most, at) = busiest(&starts, w.window);
                prop_assert!(
                    most <= w.limit as usize,
                    "{}: {:?} saw {} calls in the {:?} up to {:?}; the limit is {} ({})",
                    what,
                    endpoint,
                    most,
                    w.window,
                    at,
                    w.limit,
                    limits
                );
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            // A failing case is kept beside this file (tests/scheduler.regressions) and
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
}

/// `expand --plan` and the scheduler read one policy: the least time the policy gives for a
/// run of batch calls is when the scheduler starts the last of them, reserve and slack
/// included (the planner once planned without the slack the scheduler keeps).
#[tokio::test(start_paused = true)]
async fn the_plan_and_the_run_keep_one_budget_policy() {
    for (spec, slack_ms, k) in [
        ("10/10s", 200, 23),
        ("3/1s,10/10s", 50, 19),
        ("5/2s", 0, 12),
    ] {
        let cfg = SchedulerConfig {
            limits: spec.parse::<RateLimits>().unwrap(),
            slack: Duration::from_millis(slack_ms),
            reserve: 0.2,
            ..SchedulerConfig::default()
        };
        let planned = cfg
            .policy()
            .least_time(Priority::Batch, [], k, Instant::now());
        let fake = Fake::ok_after(Duration::ZERO);
        let (handle, mut rx) = start(&fake, cfg);
        for i in 0..k as u32 {
            ask(&handle, stats(i), u64::from(i), Priority::Batch);
        }
        until_done(&mut rx, Instant::now(), k).await;
        let last = *fake.times_for(Endpoint::IpStats).iter().max().unwrap();
        let off = last.abs_diff(planned);
        assert!(
            off <= Duration::from_millis(1),
            "{spec}, slack {slack_ms} ms: planned {planned:?}, the run's last call at {last:?}"
        );
    }
}
