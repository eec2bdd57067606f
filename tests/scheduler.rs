//! The scheduler against a fake transport under tokio's paused clock: windows are never
//! exceeded, a backlog drains at the theoretical pace, priorities, coalescing, cancel, 429
//! pauses, retries and paging behave. Time here is virtual, so exact instants can be asserted.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mde_triage::defender::{
    ApiError, Call, CallFuture, Endpoint, ErrorKind, FetchKey, FetchValue, Page, RelatedIp,
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

/// Records every call with its virtual start time and answers through `respond`, which gets
/// the call and how many calls for the same key came before it.
struct Fake {
    start: Instant,
    respond: Box<Responder>,
    calls: Mutex<Vec<(Duration, Call)>>,
    per_key: Mutex<HashMap<FetchKey, usize>>,
    in_flight: Arc<Mutex<(usize, usize)>>,
}

impl Fake {
    fn new(respond: impl Fn(&Call, usize) -> Answer + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            respond: Box::new(respond),
            calls: Mutex::new(Vec::new()),
            per_key: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Mutex::new((0, 0))),
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

    fn max_in_flight(&self) -> usize {
        self.in_flight.lock().unwrap().1
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
        self.calls.lock().unwrap().push((at, call));
        {
            let mut f = self.in_flight.lock().unwrap();
            f.0 += 1;
            f.1 = f.1.max(f.0);
        }
        let in_flight = self.in_flight.clone();
        Box::pin(async move {
            sleep(latency).await;
            in_flight.lock().unwrap().0 -= 1;
            result
        })
    }
}

fn page(key: &FetchKey, next_link: Option<&str>) -> Page {
    let value = match key {
        FetchKey::IpStats(_) => FetchValue::Stats(None),
        FetchKey::IpAlerts(_) => FetchValue::Alerts(Vec::new()),
        FetchKey::AlertIps(_) => FetchValue::Ips(Vec::new()),
    };
    Page {
        value,
        next_link: next_link.map(str::to_owned),
    }
}

fn ips_page(ips: &[&str], next_link: Option<&str>) -> Page {
    let ips = ips
        .iter()
        .map(|s| serde_json::from_value::<RelatedIp>(serde_json::json!({ "id": s })).unwrap())
        .collect();
    Page {
        value: FetchValue::Ips(ips),
        next_link: next_link.map(str::to_owned),
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
async fn random_arrivals_never_exceed_any_window() {
    let specs = ["3/1s,10/10s", "5/2s", "10/1m,40/1h", "1/1s", "20/10s,30/1m"];
    for (round, spec) in specs.iter().enumerate() {
        let mut rng = fastrand::Rng::with_seed(0x5eed + round as u64);
        let fake = Fake::new({
            let seed = rng.u64(..);
            let rng = Mutex::new(fastrand::Rng::with_seed(seed));
            move |call, _| {
                let ms = rng.lock().unwrap().u64(0..400);
                (Duration::from_millis(ms), Ok(page(&call.key, None)))
            }
        });
        let origin = Instant::now();
        let cfg = config(spec);
        let limits = cfg.limits.clone();
        let max_in_flight = cfg.max_in_flight;
        let (handle, mut rx) = start(&fake, cfg);
        let n = 90u64;
        let mut asked = HashMap::new();
        for ticket in 0..n {
            // Bursts and lulls: most requests arrive together, some after a pause.
            if rng.u8(..) < 60 {
                sleep(Duration::from_millis(rng.u64(0..3000))).await;
            }
            let which = rng.u32(0..15);
            let key = match rng.u8(0..3) {
                0 => stats(which),
                1 => alerts(which),
                _ => alert_ips(which),
            };
            let priority = [
                Priority::Batch,
                Priority::Prefetch,
                Priority::Visible,
                Priority::Foreground,
            ][rng.usize(0..4)];
            asked.insert(ticket, key.clone());
            ask(&handle, key, ticket, priority);
        }
        let heard = until_closed(handle, &mut rx, origin).await;
        for endpoint in Endpoint::ALL {
            assert_within(
                &fake.times_for(endpoint),
                &limits,
                &format!("{spec} {endpoint:?}"),
            );
        }
        for ticket in 0..n {
            let done = heard.done_for(ticket);
            assert_eq!(done.len(), 1, "{spec}: ticket {ticket} answered once");
            assert_eq!(done[0].key, asked[&ticket]);
            assert!(done[0].result.is_ok());
        }
        assert!(
            fake.max_in_flight() <= max_in_flight,
            "{spec}: in-flight bound"
        );
        // Coalescing made fewer calls than requests whenever keys repeated at once.
        assert!(fake.calls().len() as u64 <= n);
    }
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
