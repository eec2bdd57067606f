//! A sliding window by its definition, which is what each property holds the scheduler to:
//! never by asking the scheduler's own budget code.

use std::time::Duration;

use mde_triage::defender::Endpoint;
use mde_triage::fetch::RateLimits;
use proptest::prelude::*;

use crate::fake::*;

/// Calls started in the window `(t - span, t]`: a call leaves a window exactly one span
/// after it started.
pub fn in_window(starts: &[Duration], t: Duration, span: Duration) -> usize {
    starts.iter().filter(|s| **s <= t && **s + span > t).count()
}

/// The most calls any `span`-long stretch holds, and the instant it ends. The count only
/// grows when a call starts, so looking at every start looks at every instant.
pub fn busiest(starts: &[Duration], span: Duration) -> (usize, Duration) {
    starts
        .iter()
        .map(|t| (in_window(starts, *t, span), *t))
        .max()
        .unwrap_or_default()
}

/// The first instant from `from` at which every window has room for one more call beside
/// `placed`. Room only appears when some call leaves some window, so the candidates are
/// `from` and those instants.
pub fn first_room(placed: &[Duration], from: Duration, limits: &RateLimits) -> Duration {
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
pub fn share_of(limit: u32, reserve: f64) -> usize {
    let kept = (f64::from(limit) * reserve).ceil() as u32;
    limit.saturating_sub(kept).max(1) as usize
}

pub fn assert_windows(fake: &Fake, limits: &RateLimits, what: &str) -> Result<(), TestCaseError> {
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
