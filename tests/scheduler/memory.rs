//! The scheduler with a memory (cache and call log) under tokio's paused clock: fresh answers
//! cost no call, stale ones are shown then refreshed, offline never calls, the calls of the
//! last hour count after a restart, and calls are logged (429s taken back).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mde_triage::defender::{
    ApiError, Call, CallFuture, Endpoint, ErrorKind, FetchKey, FetchValue, LookBack, Page,
    Transport,
};
use mde_triage::fetch::{
    CachePolicy, FetchEvent, FetchRequest, Memory, Origin, Priority, SchedulerConfig, Ticket,
    spawn_with_memory,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// Answers every call with empty stats after 100 ms, or a 429 while `throttle` is set.
#[derive(Default)]
struct Api {
    calls: Mutex<Vec<FetchKey>>,
    throttle: Mutex<bool>,
}

impl Transport for Api {
    fn call(&self, call: Call) -> CallFuture {
        self.calls.lock().unwrap().push(call.key.clone());
        let throttled = std::mem::take(&mut *self.throttle.lock().unwrap());
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if throttled {
                return Err(ApiError::from_response(429, Some("5"), b""));
            }
            Ok(Page {
                value: FetchValue::Stats(None),
                next: None,
            })
        })
    }
}

/// A memory in a few maps, recording what the scheduler asks of it.
#[derive(Default)]
struct Remembered {
    answers: Mutex<HashMap<FetchKey, (FetchValue, DateTime<Utc>)>>,
    past_calls: Vec<(Endpoint, DateTime<Utc>)>,
    logged: Mutex<Vec<(Endpoint, bool)>>,
}

impl Memory for Remembered {
    fn lookup(&self, key: &FetchKey) -> Option<(FetchValue, DateTime<Utc>)> {
        self.answers.lock().unwrap().get(key).cloned()
    }
    fn remember(&self, key: &FetchKey, value: &FetchValue, at: DateTime<Utc>) {
        self.answers
            .lock()
            .unwrap()
            .insert(key.clone(), (value.clone(), at));
    }
    fn calls_since(&self, since: DateTime<Utc>) -> Vec<(Endpoint, DateTime<Utc>)> {
        self.past_calls
            .iter()
            .filter(|(_, at)| *at >= since)
            .copied()
            .collect()
    }
    fn call(&self, endpoint: Endpoint, _at: DateTime<Utc>, sent: bool) {
        self.logged.lock().unwrap().push((endpoint, sent));
    }
}

fn key(n: u8) -> FetchKey {
    FetchKey::IpStats(IpAddr::from([203, 0, 113, n]), LookBack::MONTH)
}

fn cached(age_minutes: i64) -> (FetchValue, DateTime<Utc>) {
    (
        FetchValue::Stats(None),
        Utc::now() - chrono::Duration::minutes(age_minutes),
    )
}

struct Run {
    api: Arc<Api>,
    memory: Arc<Remembered>,
    fetch: mde_triage::fetch::FetchHandle,
    events: UnboundedReceiver<FetchEvent>,
}

fn start(memory: Remembered, cache: CachePolicy, limits: &str) -> Run {
    let api = Arc::new(Api::default());
    let memory = Arc::new(memory);
    let config = SchedulerConfig {
        limits: limits.parse().unwrap(),
        cache,
        ..SchedulerConfig::default()
    };
    let (fetch, events) = spawn_with_memory(api.clone(), config, Some(memory.clone()));
    Run {
        api,
        memory,
        fetch,
        events,
    }
}

/// The next answer, skipping budget news.
async fn answer(
    events: &mut UnboundedReceiver<FetchEvent>,
) -> (Result<FetchValue, ApiError>, Origin) {
    loop {
        match events.recv().await.expect("the scheduler runs") {
            FetchEvent::Done { result, origin, .. } => return (result, origin),
            _ => continue,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_fresh_answer_costs_no_call_and_a_stale_one_is_refreshed() {
    let memory = Remembered::default();
    memory.answers.lock().unwrap().insert(key(1), cached(5));
    memory.answers.lock().unwrap().insert(key(2), cached(120));
    let mut r = start(memory, CachePolicy::default(), "100/1m");

    r.fetch
        .request(FetchRequest::new(key(1), Ticket(1), Priority::Foreground));
    let (result, origin) = answer(&mut r.events).await;
    assert!(result.is_ok());
    assert_eq!(origin, Origin::Cache { refreshing: false });

    r.fetch
        .request(FetchRequest::new(key(2), Ticket(2), Priority::Foreground));
    assert_eq!(
        answer(&mut r.events).await.1,
        Origin::Cache { refreshing: true }
    );
    assert_eq!(
        answer(&mut r.events).await.1,
        Origin::Network,
        "then the refresh"
    );
    assert_eq!(*r.api.calls.lock().unwrap(), vec![key(2)]);
    let (_, at) = r.memory.lookup(&key(2)).unwrap();
    assert!(
        Utc::now() - at < chrono::Duration::minutes(1),
        "the fresh answer is kept"
    );

    // `r` asks the API even for a fresh answer.
    r.fetch
        .request(FetchRequest::new(key(1), Ticket(3), Priority::Foreground).refresh());
    assert_eq!(answer(&mut r.events).await.1, Origin::Network);
    assert_eq!(r.api.calls.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn no_cache_asks_the_api_and_offline_never_does() {
    let memory = Remembered::default();
    memory.answers.lock().unwrap().insert(key(1), cached(5));
    let bypass = CachePolicy {
        bypass: true,
        ..CachePolicy::default()
    };
    let mut r = start(memory, bypass, "100/1m");
    r.fetch
        .request(FetchRequest::new(key(1), Ticket(1), Priority::Foreground));
    assert_eq!(answer(&mut r.events).await.1, Origin::Network);
    assert_eq!(r.api.calls.lock().unwrap().len(), 1);

    let memory = Remembered::default();
    memory
        .answers
        .lock()
        .unwrap()
        .insert(key(1), cached(60 * 24 * 30));
    let offline = CachePolicy {
        offline: true,
        ..CachePolicy::default()
    };
    let mut r = start(memory, offline, "100/1m");
    r.fetch
        .request(FetchRequest::new(key(1), Ticket(1), Priority::Foreground));
    assert_eq!(
        answer(&mut r.events).await.1,
        Origin::Cache { refreshing: false },
        "a month old, and served: offline has nothing better"
    );
    r.fetch
        .request(FetchRequest::new(key(9), Ticket(2), Priority::Foreground).refresh());
    let (result, _) = answer(&mut r.events).await;
    assert_eq!(result.unwrap_err().kind, ErrorKind::Offline);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        r.api.calls.lock().unwrap().is_empty(),
        "offline never calls"
    );
}

#[tokio::test(start_paused = true)]
async fn calls_of_the_last_hour_count_after_a_restart() {
    let ago = |m| Utc::now() - chrono::Duration::minutes(m);
    let memory = Remembered {
        // Two of three calls spent 10 and 20 minutes ago, one too old to matter.
        past_calls: vec![
            (Endpoint::IpStats, ago(90)),
            (Endpoint::IpStats, ago(20)),
            (Endpoint::IpStats, ago(10)),
        ],
        ..Remembered::default()
    };
    let mut r = start(memory, CachePolicy::default(), "3/1h");
    let t0 = Instant::now();
    for n in 1..=2 {
        r.fetch.request(FetchRequest::new(
            key(n),
            Ticket(n.into()),
            Priority::Foreground,
        ));
    }
    assert!(answer(&mut r.events).await.0.is_ok());
    assert!(t0.elapsed() < Duration::from_secs(1), "one call was left");
    assert!(answer(&mut r.events).await.0.is_ok());
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(40 * 60) && waited < Duration::from_secs(41 * 60),
        "the next waits for the call of 20 minutes ago to leave the hour: {waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn calls_are_logged_and_a_429_is_taken_back() {
    let mut r = start(Remembered::default(), CachePolicy::default(), "100/1m");
    *r.api.throttle.lock().unwrap() = true;
    r.fetch
        .request(FetchRequest::new(key(1), Ticket(1), Priority::Foreground));
    assert!(
        answer(&mut r.events).await.0.is_ok(),
        "retried after the pause"
    );
    assert_eq!(
        *r.memory.logged.lock().unwrap(),
        vec![
            (Endpoint::IpStats, true),
            (Endpoint::IpStats, false),
            (Endpoint::IpStats, true)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn with_nobody_listening_queued_work_is_dropped() {
    let r = start(Remembered::default(), CachePolicy::default(), "1/1m");
    for n in 1..=3 {
        r.fetch.request(FetchRequest::new(
            key(n),
            Ticket(n.into()),
            Priority::Prefetch,
        ));
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(r.events); // the console quit
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(
        r.api.calls.lock().unwrap().len(),
        1,
        "only the call already started"
    );
    assert_eq!(
        r.memory.answers.lock().unwrap().len(),
        1,
        "and its answer kept"
    );
}
