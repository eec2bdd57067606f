//! The fake transport the scheduler tests run against (every call recorded with its virtual
//! start, answered after a latency of the test's choosing), the keys and pages they ask for,
//! and what they listen with. Time is tokio's paused clock, so exact instants can be asserted.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mde_triage::defender::{
    ApiError, Call, CallFuture, Endpoint, ErrorKind, FetchKey, FetchValue, LookBack, Next, Page,
    RelatedIp, Transport, parse_alert_id,
};
use mde_triage::fetch::{
    BudgetStatus, FetchEvent, FetchHandle, FetchRequest, Priority, RateLimits, SchedulerConfig,
    Ticket, spawn,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, sleep};

pub type Answer = (Duration, Result<Page, ApiError>);
pub type Responder = dyn Fn(&Call, usize) -> Answer + Send + Sync;

/// A latency that never ends: the call hangs until the scheduler drops it.
pub const NEVER: Duration = Duration::MAX;

/// Records every call with its virtual start time and answers through `respond`, which gets
/// the call and how many calls for the same key came before it.
pub struct Fake {
    start: Instant,
    respond: Box<Responder>,
    calls: Mutex<Vec<(Duration, Call)>>,
    per_key: Mutex<HashMap<FetchKey, usize>>,
    wire: Arc<Mutex<Wire>>,
}

/// What is on the wire, as the transport sees it: a call leaves it when answered or dropped.
#[derive(Default)]
pub struct Wire {
    now: usize,
    most: usize,
    /// Calls dropped before their answer came.
    stopped: usize,
    /// When each call in `calls` left the wire; `None` while it is on it.
    ended: Vec<Option<Duration>>,
}

impl Fake {
    pub fn new(respond: impl Fn(&Call, usize) -> Answer + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            respond: Box::new(respond),
            calls: Mutex::new(Vec::new()),
            per_key: Mutex::new(HashMap::new()),
            wire: Arc::default(),
        })
    }

    /// Every call answers `Ok` after `latency`.
    pub fn ok_after(latency: Duration) -> Arc<Self> {
        Self::new(move |call, _| (latency, Ok(page(&call.key, None))))
    }

    pub fn calls(&self) -> Vec<(Duration, Call)> {
        self.calls.lock().unwrap().clone()
    }

    pub fn times_for(&self, endpoint: Endpoint) -> Vec<Duration> {
        self.calls()
            .into_iter()
            .filter(|(_, c)| c.key.endpoint() == endpoint)
            .map(|(t, _)| t)
            .collect()
    }

    pub fn times_of(&self, key: &FetchKey) -> Vec<Duration> {
        self.calls()
            .into_iter()
            .filter(|(_, c)| c.key == *key)
            .map(|(t, _)| t)
            .collect()
    }

    /// Each call's start and end (`NEVER` while on the wire), in the order the calls started.
    pub fn spans(&self) -> Vec<(Duration, Duration, FetchKey)> {
        let ended = self.wire.lock().unwrap().ended.clone();
        self.calls()
            .into_iter()
            .zip(ended)
            .map(|((at, call), end)| (at, end.unwrap_or(NEVER), call.key))
            .collect()
    }

    /// The most calls on the wire at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.wire.lock().unwrap().most
    }

    /// Calls on the wire now: a call the scheduler stopped has left it.
    pub fn on_the_wire(&self) -> usize {
        self.wire.lock().unwrap().now
    }

    /// Calls the scheduler dropped before their answer came.
    pub fn stopped(&self) -> usize {
        self.wire.lock().unwrap().stopped
    }
}

/// Takes a call off the wire when its future ends or is dropped, whichever comes first.
pub struct OnTheWire {
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

pub fn page(key: &FetchKey, next_link: Option<&str>) -> Page {
    let value = match key {
        FetchKey::IpStats(..) => FetchValue::Stats(None),
        FetchKey::IpAlerts(_) | FetchKey::DeviceAlerts(_) => FetchValue::Alerts(Default::default()),
        FetchKey::AlertIps(_) => FetchValue::Ips(Default::default()),
        FetchKey::Device(_) => FetchValue::Device(Default::default()),
        FetchKey::DevicesAt(..) => FetchValue::Devices(Default::default()),
        FetchKey::Alert(_) => FetchValue::Alert(Default::default()),
    };
    Page {
        value,
        next: next_link.map(|l| Next::Follow(l.to_owned())),
    }
}

pub fn ips_page(ips: &[&str], next_link: Option<&str>) -> Page {
    let ips = ips
        .iter()
        .map(|s| serde_json::from_value::<RelatedIp>(serde_json::json!({ "id": s })).unwrap())
        .collect();
    Page {
        value: FetchValue::Ips(ips),
        next: next_link.map(|l| Next::Follow(l.to_owned())),
    }
}

pub fn addr(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
}

pub fn stats(n: u32) -> FetchKey {
    FetchKey::IpStats(addr(n), LookBack::MONTH)
}

pub fn alerts(n: u32) -> FetchKey {
    FetchKey::IpAlerts(addr(n))
}

pub fn alert_ips(n: u32) -> FetchKey {
    FetchKey::AlertIps(parse_alert_id(&format!("da{n}")).unwrap())
}

/// Exact windows (no slack), so tests can assert exact instants; the slack has its own test.
pub fn config(spec: &str) -> SchedulerConfig {
    SchedulerConfig {
        limits: spec.parse::<RateLimits>().unwrap(),
        slack: Duration::ZERO,
        ..SchedulerConfig::default()
    }
}

pub fn start(
    fake: &Arc<Fake>,
    config: SchedulerConfig,
) -> (FetchHandle, UnboundedReceiver<FetchEvent>) {
    spawn(fake.clone() as Arc<dyn Transport>, config)
}

pub fn ask(handle: &FetchHandle, key: FetchKey, ticket: u64, priority: Priority) {
    handle.request(FetchRequest::new(key, Ticket(ticket), priority));
}

#[derive(Debug)]
pub struct Done {
    pub at: Duration,
    pub key: FetchKey,
    pub ticket: Ticket,
    pub result: Result<FetchValue, ApiError>,
}

/// Everything the scheduler said, split by kind, each with its virtual arrival time.
#[derive(Debug, Default)]
pub struct Heard {
    pub done: Vec<Done>,
    pub retrying: Vec<(Duration, u32, u32, ErrorKind)>,
    pub budgets: Vec<(Duration, BudgetStatus)>,
}

impl Heard {
    pub fn hear(&mut self, origin: Instant, event: FetchEvent) {
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

    pub fn done_for(&self, ticket: u64) -> Vec<&Done> {
        self.done
            .iter()
            .filter(|d| d.ticket == Ticket(ticket))
            .collect()
    }
}

/// Listens until `n` answers have arrived.
pub async fn until_done(
    rx: &mut UnboundedReceiver<FetchEvent>,
    origin: Instant,
    n: usize,
) -> Heard {
    let mut heard = Heard::default();
    while heard.done.len() < n {
        let event = rx.recv().await.expect("the scheduler stopped early");
        heard.hear(origin, event);
    }
    heard
}

/// Drops the handle and listens until the scheduler finishes its work and stops.
pub async fn until_closed(
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
pub fn assert_within(times: &[Duration], limits: &RateLimits, what: &str) {
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
pub fn theoretical_starts(k: usize, limits: &RateLimits) -> Vec<Duration> {
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

/// The last budget status published so far.
pub fn latest_status(rx: &mut UnboundedReceiver<FetchEvent>) -> BudgetStatus {
    let mut last = None;
    while let Ok(event) = rx.try_recv() {
        if let FetchEvent::Budget(b) = event {
            last = Some(b);
        }
    }
    last.expect("a status was published")
}

/// Lets every task run at this instant; the paused clock then moves on by 1 ms.
pub async fn settle() {
    sleep(Duration::from_millis(1)).await;
}
