//! The scheduler's pace and lanes, against the fake transport under tokio's paused clock: a
//! backlog drains at the theoretical minimum, the analyst overtakes a full batch queue,
//! identical requests share a call, cancelled work is dropped, the status counts, lowered and
//! raised work, the slack, and the plan `expand --plan` makes.

use std::time::Duration;

use mde_triage::defender::{Endpoint, FetchKey};
use mde_triage::fetch::{Priority, RateLimits, SchedulerConfig, Ticket};
use tokio::time::{Instant, sleep, sleep_until};

use crate::fake::*;

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
