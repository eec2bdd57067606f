//! What the server answers, against the fake transport under tokio's paused clock: a 429
//! pauses its endpoint as long as it says (or until there is room), a refused call does not use
//! the window, transient failures retry with backoff, final errors cost one call, and pages are
//! followed each through the budget, stopping at a loop and at the cap.

use std::time::Duration;

use mde_triage::defender::{ApiError, Endpoint, ErrorKind, FetchValue};
use mde_triage::fetch::{Priority, SchedulerConfig};
use tokio::time::{Instant, sleep};

use crate::fake::*;

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
