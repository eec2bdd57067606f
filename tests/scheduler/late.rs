//! The slot rule against a call whose answer is already in when its slot is taken back, under
//! tokio's paused clock: that answer is its job's, so the call is never made twice.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use mde_triage::defender::{Call, CallFuture, Endpoint, FetchKey, FetchValue, Transport};
use mde_triage::fetch::{FetchHandle, Priority, SchedulerConfig, spawn};
use tokio::time::{Instant, sleep};

use crate::fake::*;

/// One slot. The first alert-IPs call answers at once, but sends the analyst's lookup of
/// `stats(1)` first: the lookup takes the prefetch's slot while the prefetch's answer is
/// already in, not yet read. The lookup's own call takes 100 ms.
struct Crowded {
    handle: OnceLock<FetchHandle>,
    calls: Mutex<Vec<Call>>,
    /// Whether the first alert-IPs page names a next page.
    paged: bool,
}

impl Transport for Crowded {
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
        let next = self.paged.then_some("page2");
        Box::pin(async move {
            match (&call.key, call.next_link.as_deref()) {
                (FetchKey::IpStats(..), _) => {
                    sleep(Duration::from_millis(100)).await;
                    Ok(page(&call.key, None))
                }
                (_, None) => {
                    if first {
                        ask(&handle, stats(1), 2, Priority::Foreground);
                    }
                    Ok(ips_page(&["10.0.0.1"], next))
                }
                (_, Some(_)) => Ok(ips_page(&["10.0.0.2"], None)),
            }
        })
    }
}

/// Runs the scene; the calls the transport saw (key and next link), and when and with which
/// IPs the prefetch was answered.
async fn scene(paged: bool) -> (Vec<(FetchKey, Option<String>)>, Duration, Vec<String>) {
    let crowded = Arc::new(Crowded {
        handle: OnceLock::new(),
        calls: Mutex::new(Vec::new()),
        paged,
    });
    let origin = Instant::now();
    let cfg = SchedulerConfig {
        max_in_flight: 1,
        ..config("100/1m")
    };
    let (handle, mut rx) = spawn(crowded.clone() as Arc<dyn Transport>, cfg);
    crowded.handle.set(handle.clone()).unwrap();
    ask(&handle, alert_ips(1), 1, Priority::Prefetch);
    let mut heard = until_done(&mut rx, origin, 2).await;
    // Whatever else the scheduler would do, it does within a second. (The transport holds a
    // handle, so the scheduler never stops: what it said is read as it is.)
    sleep(Duration::from_secs(1)).await;
    while let Ok(event) = rx.try_recv() {
        heard.hear(origin, event);
    }
    let status = &heard.budgets.last().expect("a status was published").1;
    assert_eq!(heard.done.len(), 2, "one answer each: {:?}", heard.done);
    let lookup = heard.done_for(2);
    assert_eq!(
        lookup[0].at,
        Duration::from_millis(100),
        "the lookup went at once"
    );
    let prefetch = heard.done_for(1)[0];
    let Ok(FetchValue::Ips(ips)) = &prefetch.result else {
        panic!("{:?}", prefetch.result);
    };
    let ips = ips.iter().map(|ip| ip.id.clone()).collect();
    let calls: Vec<(FetchKey, Option<String>)> = crowded
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| (c.key.clone(), c.next_link.clone()))
        .collect();
    // Each call the transport saw is counted once, the stopped one included: it was sent.
    for e in [Endpoint::AlertIps, Endpoint::IpStats] {
        let seen = calls.iter().filter(|(k, _)| k.endpoint() == e).count();
        assert_eq!(status.endpoint(e).unwrap().calls as usize, seen, "{e:?}");
    }
    (calls, prefetch.at, ips)
}

#[tokio::test(start_paused = true)]
async fn a_stopped_prefetch_whose_answer_came_back_is_not_requested_again() {
    let (calls, at, ips) = scene(false).await;
    assert_eq!(
        calls,
        [(alert_ips(1), None), (stats(1), None)],
        "the prefetch's call is made once"
    );
    assert_eq!(at, Duration::ZERO, "answered with the answer already in");
    assert_eq!(ips, ["10.0.0.1"]);
}

#[tokio::test(start_paused = true)]
async fn a_stopped_first_page_that_came_back_goes_on_with_the_next_page() {
    let (calls, at, ips) = scene(true).await;
    assert_eq!(
        calls,
        [
            (alert_ips(1), None),
            (stats(1), None),
            (alert_ips(1), Some("page2".into()))
        ],
        "the first page once, then the next page once the lookup leaves the slot"
    );
    assert_eq!(at, Duration::from_millis(100));
    assert_eq!(ips, ["10.0.0.1", "10.0.0.2"]);
}
