//! findbyip keys the API could only refuse (a public IP, a time outside its 30 days) are
//! answered by the scheduler itself: an input error, no call, nothing taken from the budget.

use std::time::Duration;

use chrono::Utc;
use mde_triage::defender::{Endpoint, ErrorKind, FetchKey, UtcSecond};
use mde_triage::fetch::Priority;
use tokio::time::Instant;

use crate::fake::*;

#[tokio::test(start_paused = true)]
async fn a_findbyip_the_api_could_only_refuse_spends_no_call_and_no_budget() {
    let fake = Fake::ok_after(Duration::from_millis(50));
    let origin = Instant::now();
    let (handle, mut rx) = start(&fake, config("100/1m"));
    let now = Utc::now();
    let hour_ago = UtcSecond::new(now - chrono::Duration::hours(1));
    let public = FetchKey::DevicesAt("8.8.8.8".parse().unwrap(), hour_ago);
    let old = FetchKey::DevicesAt(
        "10.0.0.9".parse().unwrap(),
        UtcSecond::new(now - chrono::Duration::days(31)),
    );
    let fine = FetchKey::DevicesAt("10.0.0.9".parse().unwrap(), hour_ago);
    ask(&handle, public.clone(), 1, Priority::Foreground);
    ask(&handle, old.clone(), 2, Priority::Foreground);
    ask(&handle, fine.clone(), 3, Priority::Foreground);
    let heard = until_done(&mut rx, origin, 3).await;
    for (ticket, key) in [(1, &public), (2, &old)] {
        let done = heard.done_for(ticket);
        let e = done[0].result.as_ref().unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{key}");
        assert_eq!(done[0].at, Duration::ZERO, "answered at once: {key}");
    }
    assert!(heard.done_for(3)[0].result.is_ok());
    let called: Vec<FetchKey> = fake.calls().into_iter().map(|(_, c)| c.key).collect();
    assert_eq!(called, [fine], "only the answerable key was called");
    let status = latest_status(&mut rx);
    let used = status
        .endpoints
        .iter()
        .find(|e| e.endpoint == Endpoint::FindByIp)
        .map(|e| e.windows[0].used);
    assert_eq!(
        used,
        Some(1),
        "the refused keys took nothing from the window"
    );
}
