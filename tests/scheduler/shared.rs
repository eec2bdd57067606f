//! Several schedulers on one set of shared books, under tokio's paused clock: the actor's side
//! of the `Ledger` protocol. The books here are a small pool in this file (one `Budget` per
//! endpoint behind a lock, a pause, a cache with an in-flight lock), standing for the team's
//! Redis; the Redis backend itself is tested against a real server in `team_redis.rs`.
//! What is proved: together the schedulers never exceed a window, the analyst's lookup in one
//! goes first while others batch, a 429 met by one pauses all, and two asking the same thing
//! at once cost one call.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mde_triage::defender::{
    ApiError, Call, CallFuture, Endpoint, ErrorKind, FetchKey, FetchValue, LookBack, Page,
    Transport,
};
use mde_triage::fetch::budget::Budget;
use mde_triage::fetch::{
    Ask, BudgetPolicy, FetchEvent, FetchHandle, FetchRequest, Ledger, LedgerFuture, Lookup,
    Priority, RateLimits, SchedulerConfig, Ticket, Verdict, spawn_shared,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Instant, sleep};

/// The books every scheduler of a test shares.
#[derive(Default)]
struct Books {
    budgets: HashMap<Endpoint, Budget>,
    /// (process, seq) → admission instant, so a take-back finds its call.
    admitted: HashMap<(u32, u64), Instant>,
    answers: HashMap<FetchKey, (FetchValue, DateTime<Utc>)>,
    locks: HashMap<FetchKey, u32>,
}

/// One process's handle on the books.
struct Pool {
    process: u32,
    policy: BudgetPolicy,
    books: Arc<Mutex<Books>>,
}

impl Pool {
    fn fleet(n: u32, policy: &BudgetPolicy) -> Vec<Arc<Pool>> {
        let mut books = Books::default();
        for e in Endpoint::ALL {
            books.budgets.insert(e, policy.budget());
        }
        let books = Arc::new(Mutex::new(books));
        (0..n)
            .map(|process| {
                Arc::new(Pool {
                    process,
                    policy: policy.clone(),
                    books: books.clone(),
                })
            })
            .collect()
    }
}

impl Ledger for Pool {
    fn admit(&self, ask: Ask) -> LedgerFuture<Verdict> {
        let now = Instant::now();
        let mut books = self.books.lock().unwrap();
        let reserve = self.policy.reserve_for(ask.priority);
        let budget = books.budgets.get_mut(&ask.endpoint).unwrap();
        let verdict = if let Some(p) = budget.paused_for(now) {
            Verdict::Paused(p)
        } else if budget.has_room(now, reserve) {
            budget.record(now);
            books.admitted.insert((self.process, ask.seq), now);
            Verdict::Admitted
        } else {
            Verdict::Wait(budget.next_free_at(now, reserve) - now)
        };
        Box::pin(std::future::ready(verdict))
    }

    fn take_back(&self, endpoint: Endpoint, seq: u64, pause: Option<Duration>) -> LedgerFuture<()> {
        let now = Instant::now();
        let mut books = self.books.lock().unwrap();
        let at = books.admitted.remove(&(self.process, seq));
        let budget = books.budgets.get_mut(&endpoint).unwrap();
        if let Some(at) = at {
            budget.unrecord(at);
        }
        if let Some(p) = pause {
            budget.pause(now, now + p);
        }
        Box::pin(std::future::ready(()))
    }

    fn shares_answers(&self) -> bool {
        true
    }

    fn lookup(&self, key: &FetchKey, fresh_after: Option<DateTime<Utc>>) -> LedgerFuture<Lookup> {
        let mut books = self.books.lock().unwrap();
        let hit = books
            .answers
            .get(key)
            .filter(|(_, at)| fresh_after.is_none_or(|f| *at >= f))
            .cloned();
        let answer = match (hit, books.locks.get(key)) {
            (Some((v, at)), _) => Lookup::Hit(v, at),
            (None, Some(holder)) if *holder != self.process => {
                Lookup::Busy(Duration::from_millis(100))
            }
            (None, _) => {
                books.locks.insert(key.clone(), self.process);
                Lookup::Yours
            }
        };
        Box::pin(std::future::ready(answer))
    }

    fn share(
        &self,
        key: &FetchKey,
        value: &FetchValue,
        at: DateTime<Utc>,
        _ttl: Duration,
    ) -> LedgerFuture<()> {
        let mut books = self.books.lock().unwrap();
        books.answers.insert(key.clone(), (value.clone(), at));
        books.locks.remove(key);
        Box::pin(std::future::ready(()))
    }

    fn release(&self, key: &FetchKey) -> LedgerFuture<()> {
        let mut books = self.books.lock().unwrap();
        if books.locks.get(key) == Some(&self.process) {
            books.locks.remove(key);
        }
        Box::pin(std::future::ready(()))
    }
}

/// The API as every process of a test sees it: one log of calls, with their virtual start,
/// and an optional 429 for the n-th call.
struct Api {
    start: Instant,
    latency: Duration,
    calls: Mutex<Vec<(Duration, FetchKey)>>,
    throttle_call: Option<usize>,
}

impl Api {
    fn new(latency: Duration, throttle_call: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            latency,
            calls: Mutex::new(Vec::new()),
            throttle_call,
        })
    }

    fn calls(&self) -> Vec<(Duration, FetchKey)> {
        self.calls.lock().unwrap().clone()
    }
}

impl Transport for Api {
    fn call(&self, call: Call) -> CallFuture {
        let (latency, throttle) = (self.latency, self.throttle_call);
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((self.start.elapsed(), call.key.clone()));
            calls.len()
        };
        Box::pin(async move {
            sleep(latency).await;
            if throttle == Some(n) {
                let mut e = ApiError::new(ErrorKind::Throttled, "API calls quota exceeded!");
                e.retry_after = Some(Duration::from_secs(30));
                return Err(e);
            }
            let value = match call.key {
                FetchKey::IpStats(..) => FetchValue::Stats(None),
                FetchKey::IpAlerts(_) | FetchKey::DeviceAlerts(_) => {
                    FetchValue::Alerts(Default::default())
                }
                FetchKey::AlertIps(_) => FetchValue::Ips(Default::default()),
                FetchKey::Device(_) => FetchValue::Device(Default::default()),
                FetchKey::DevicesAt(..) => FetchValue::Devices(Default::default()),
                FetchKey::Alert(_) => FetchValue::Alert(Default::default()),
            };
            Ok(Page::last(value))
        })
    }
}

fn policy() -> BudgetPolicy {
    let limits: RateLimits = "10/10s".parse().unwrap();
    SchedulerConfig {
        limits,
        ..SchedulerConfig::default()
    }
    .policy()
}

fn ip(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
}

fn start(api: &Arc<Api>, pool: &Arc<Pool>) -> (FetchHandle, UnboundedReceiver<FetchEvent>) {
    let config = SchedulerConfig {
        limits: pool.policy.limits.clone(),
        ..SchedulerConfig::default()
    };
    spawn_shared(api.clone(), config, None, Some(pool.clone()))
}

/// Waits (virtual time) until `want` answers came on `rx`; returns when each came.
async fn answers(rx: &mut UnboundedReceiver<FetchEvent>, want: usize) -> Vec<(Ticket, Duration)> {
    let t0 = Instant::now();
    let mut got = Vec::new();
    while got.len() < want {
        match tokio::time::timeout(Duration::from_secs(3600), rx.recv()).await {
            Ok(Some(FetchEvent::Done { ticket, result, .. })) => {
                result.expect("every answer is good here");
                got.push((ticket, t0.elapsed()));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("only {} of {want} answers came", got.len()),
        }
    }
    got
}

/// The most calls of `endpoint` that started in any `window`-long span.
fn most_in_window(calls: &[(Duration, FetchKey)], endpoint: Endpoint, window: Duration) -> usize {
    let times: Vec<Duration> = calls
        .iter()
        .filter(|(_, k)| k.endpoint() == endpoint)
        .map(|(t, _)| *t)
        .collect();
    times
        .iter()
        .map(|t0| {
            times
                .iter()
                .filter(|t| **t >= *t0 && **t < *t0 + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn three_schedulers_on_one_book_never_exceed_a_window_together() {
    let policy = policy();
    let api = Api::new(Duration::from_millis(20), None);
    let pools = Pool::fleet(3, &policy);
    let mut runs = Vec::new();
    for (p, pool) in pools.iter().enumerate() {
        let (fetch, rx) = start(&api, pool);
        for i in 0..12 {
            let key = FetchKey::IpStats(ip(p as u32 * 100 + i), LookBack::MONTH);
            fetch.request(FetchRequest::new(key, Ticket(i as u64), Priority::Batch));
        }
        runs.push((fetch, rx));
    }
    for (_, rx) in &mut runs {
        answers(rx, 12).await;
    }
    let calls = api.calls();
    assert_eq!(
        calls.len(),
        36,
        "one call per request, none lost or doubled"
    );
    // Batch keeps the 20% reserve: 8 of 10 in any 10 s, for the three together.
    assert_eq!(
        most_in_window(&calls, Endpoint::IpStats, Duration::from_secs(10)),
        8
    );
    // And it goes at the pace the shared books allow: 36 calls at 8 per window (plus slack)
    // need four more windows after the first.
    let last = calls.iter().map(|(t, _)| *t).max().unwrap();
    let floor = policy.least_time(Priority::Batch, [], 36, Instant::now());
    assert!(last >= Duration::from_secs(40), "{last:?}");
    assert!(
        last <= floor + Duration::from_millis(100),
        "{last:?} vs {floor:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_analyst_in_one_console_goes_first_while_others_batch() {
    let policy = policy();
    let api = Api::new(Duration::from_millis(20), None);
    let pools = Pool::fleet(3, &policy);
    let mut batchers = Vec::new();
    for (p, pool) in pools.iter().take(2).enumerate() {
        let (fetch, rx) = start(&api, pool);
        for i in 0..40 {
            let key = FetchKey::IpStats(ip(p as u32 * 100 + i), LookBack::MONTH);
            fetch.request(FetchRequest::new(key, Ticket(i as u64), Priority::Batch));
        }
        batchers.push((fetch, rx));
    }
    // Halfway into the second window, the batch has used its share: the analyst still has
    // the reserve, at once.
    sleep(Duration::from_secs(15)).await;
    let (analyst, mut rx) = start(&api, &pools[2]);
    let key = FetchKey::IpStats(ip(999), LookBack::MONTH);
    analyst.request(FetchRequest::new(
        key.clone(),
        Ticket(1),
        Priority::Foreground,
    ));
    let got = answers(&mut rx, 1).await;
    assert!(
        got[0].1 <= Duration::from_millis(50),
        "the analyst's lookup waited {:?}",
        got[0].1
    );
    let calls = api.calls();
    let mine = calls.iter().find(|(_, k)| *k == key).unwrap().0;
    assert!(mine < Duration::from_millis(15_050), "{mine:?}");
    assert!(most_in_window(&calls, Endpoint::IpStats, Duration::from_secs(10)) <= 10);
}

#[tokio::test(start_paused = true)]
async fn a_429_met_by_one_pauses_every_console() {
    let policy = policy();
    // The second call anyone makes is refused for 30 s.
    let api = Api::new(Duration::from_millis(20), Some(2));
    let pools = Pool::fleet(2, &policy);
    let (a, mut rx_a) = start(&api, &pools[0]);
    a.request(FetchRequest::new(
        FetchKey::IpStats(ip(1), LookBack::MONTH),
        Ticket(1),
        Priority::Foreground,
    ));
    a.request(FetchRequest::new(
        FetchKey::IpStats(ip(2), LookBack::MONTH),
        Ticket(2),
        Priority::Foreground,
    ));
    answers(&mut rx_a, 1).await;
    sleep(Duration::from_secs(1)).await;
    let (b, mut rx_b) = start(&api, &pools[1]);
    b.request(FetchRequest::new(
        FetchKey::IpStats(ip(3), LookBack::MONTH),
        Ticket(3),
        Priority::Foreground,
    ));
    answers(&mut rx_b, 1).await;
    answers(&mut rx_a, 1).await;
    let calls = api.calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    // After the refusal (at ~0 s), nobody sends to the endpoint for 30 s.
    for (t, k) in &calls[2..] {
        assert!(
            *t >= Duration::from_secs(30),
            "{k} sent at {t:?}, inside the pause"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn two_consoles_asking_the_same_thing_at_once_cost_one_call() {
    let policy = policy();
    let api = Api::new(Duration::from_millis(500), None);
    let pools = Pool::fleet(2, &policy);
    let (a, mut rx_a) = start(&api, &pools[0]);
    let (b, mut rx_b) = start(&api, &pools[1]);
    let key = FetchKey::IpAlerts(ip(7));
    a.request(FetchRequest::new(
        key.clone(),
        Ticket(1),
        Priority::Foreground,
    ));
    b.request(FetchRequest::new(
        key.clone(),
        Ticket(1),
        Priority::Foreground,
    ));
    answers(&mut rx_a, 1).await;
    let got = answers(&mut rx_b, 1).await;
    assert_eq!(
        api.calls().len(),
        1,
        "the second waited for the first's answer"
    );
    assert!(got[0].1 < Duration::from_millis(800), "{:?}", got[0].1);
    // The lock is gone and the answer is shared: a third ask is served without a call.
    let (c, mut rx_c) = start(&api, &pools[1]);
    c.request(FetchRequest::new(key, Ticket(2), Priority::Foreground));
    answers(&mut rx_c, 1).await;
    assert_eq!(api.calls().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_waits_for_the_call_in_flight_but_not_for_an_old_answer() {
    let policy = policy();
    let api = Api::new(Duration::from_millis(500), None);
    let pools = Pool::fleet(2, &policy);
    let key = FetchKey::IpAlerts(ip(8));
    let (a, mut rx_a) = start(&api, &pools[0]);
    a.request(FetchRequest::new(
        key.clone(),
        Ticket(1),
        Priority::Foreground,
    ));
    answers(&mut rx_a, 1).await;
    // `r` in another console asks the API again: an answer from before it does not serve.
    sleep(Duration::from_secs(5)).await;
    let (b, mut rx_b) = start(&api, &pools[1]);
    b.request(FetchRequest::new(key, Ticket(1), Priority::Foreground).refresh());
    answers(&mut rx_b, 1).await;
    assert_eq!(
        api.calls().len(),
        2,
        "a refresh is not served an answer older than itself"
    );
}
