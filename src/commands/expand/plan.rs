//! `expand --plan`: what the first level costs and the least time the budget allows for it,
//! said before anything is called.

use std::net::IpAddr;
use std::time::Duration;

use super::Options;
use crate::defender::Endpoint;

/// What `--plan` says: the first level's cost and the least time the budget allows for it,
/// counting the calls already made in the last hour (`recent`: endpoint and how long ago).
pub fn plan(seeds: &[IpAddr], options: &Options, recent: &[(Endpoint, Duration)]) -> String {
    let n = seeds.len();
    let share = options.batch_limits();
    let capped = options.max_calls.map_or(String::new(), |m| {
        format!(" (--max-calls {m} caps the walk)")
    });
    let spent = if recent.is_empty() {
        String::new()
    } else {
        format!(
            " ({} call(s) of the last hour, remembered from earlier runs, count against it)",
            recent.len()
        )
    };
    let devices = if options.via_devices {
        " With --via devices each new alert's device costs 2 calls (device, dev-alerts), \
         and 1 more (alert) when its list lacks the machine id; a device's alerts cost as \
         alerts do."
    } else {
        ""
    };
    let least = [Endpoint::IpStats, Endpoint::IpAlerts]
        .into_iter()
        .map(|e| least_time(options, recent, e, n))
        .max()
        .unwrap_or_default();
    format!(
        "level 0: {n} seed IP(s) cost {} calls ({n} stats, {n} ip-alerts); batch work may use \
         {share} of the {} per endpoint (the rest is kept for the analyst; see --reserve), so \
         they need at least {}{spent}.\nLater levels depend on the answers: each new alert costs \
         1 call (alert-ips), each new IP 2; depth {} set{capped}.{devices} Nothing was called.",
        2 * n,
        options.limits,
        crate::text::duration(least),
        options.depth,
    )
}

/// When the last of `calls` back-to-back batch calls to `endpoint` could start, on the same
/// budget the scheduler keeps, seeded with the calls already made.
fn least_time(
    options: &Options,
    recent: &[(Endpoint, Duration)],
    endpoint: Endpoint,
    calls: usize,
) -> Duration {
    let now = tokio::time::Instant::now();
    let earlier = recent
        .iter()
        .filter(|(e, _)| *e == endpoint)
        .map(|(_, ago)| now.checked_sub(*ago).unwrap_or(now));
    options
        .policy()
        .least_time(crate::fetch::Priority::Batch, earlier, calls, now)
}
