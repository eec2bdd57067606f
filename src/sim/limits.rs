//! The simulator's own limiter, the referee: a deliberately naive sliding log, written apart
//! from the client's `fetch::budget` (no binary search, no slack, no reserve, no pause), so that
//! a misreading of a window the two shared would still fail a test.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::fetch::limits::RateLimits;

/// Every call admitted in the last longest window, per endpoint.
#[derive(Debug)]
pub struct Referee {
    windows: Vec<(u32, Duration)>,
    calls: VecDeque<Instant>,
}

/// Why a call was refused: the full window that frees last, and how long until every window
/// has room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub limit: u32,
    pub window: Duration,
    pub wait: Duration,
}

impl Referee {
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            windows: limits.0.iter().map(|w| (w.limit, w.window)).collect(),
            calls: VecDeque::new(),
        }
    }

    /// Admits a call arriving at `now` when every window `(now - window, now]` holds fewer
    /// than `limit` calls; a refused call is not counted (MDE does not count it either).
    pub fn admit(&mut self, now: Instant) -> Result<(), Refusal> {
        let longest = self.windows.iter().map(|w| w.1).max().unwrap_or_default();
        while self.calls.front().is_some_and(|t| now - *t >= longest) {
            self.calls.pop_front();
        }
        // Every full window is checked: the wait named is the one after which all have room,
        // so a client that honours it is not refused again.
        let mut refusal: Option<Refusal> = None;
        for &(limit, window) in &self.windows {
            let inside: Vec<Instant> = self
                .calls
                .iter()
                .copied()
                .filter(|t| now - *t < window)
                .collect();
            if inside.len() >= limit as usize {
                // Room comes when the call `limit` places from the newest leaves the window.
                let leaving = inside[inside.len() - limit as usize];
                let wait = leaving + window - now;
                if refusal.is_none_or(|r| wait > r.wait) {
                    refusal = Some(Refusal {
                        limit,
                        window,
                        wait,
                    });
                }
            }
        }
        if let Some(r) = refusal {
            return Err(r);
        }
        self.calls.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::budget::Budget;
    use proptest::prelude::*;

    fn limits() -> impl Strategy<Value = RateLimits> {
        prop::collection::vec((1u32..6, 1u64..40), 1..4).prop_map(|ws| {
            let spec: Vec<String> = ws.iter().map(|(n, s)| format!("{n}/{s}s")).collect();
            spec.join(",").parse().unwrap()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// The client's budget and the referee read every window the same way: without
        /// slack they admit exactly the same calls, and with slack the client never admits a
        /// call the referee refuses (it is only ever stricter).
        #[test]
        fn the_client_and_the_referee_agree(
            limits in limits(),
            gaps in prop::collection::vec(0u64..4000, 1..120),
            slack_ms in 0u64..500,
        ) {
            let start = Instant::now();
            let mut referee = Referee::new(&limits);
            let mut exact = Budget::new(limits.clone());
            let mut slack = Referee::new(&limits);
            let mut careful = Budget::new(limits.clone()).with_slack(Duration::from_millis(slack_ms));
            let mut now = start;
            for gap in gaps {
                now += Duration::from_millis(gap);
                let client = exact.has_room(now, 0.0);
                let judged = referee.admit(now);
                prop_assert_eq!(client, judged.is_ok(), "at {:?}", now - start);
                if client {
                    exact.record(now);
                }
                if let Err(r) = judged {
                    // The wait named is exactly when the budget sees room again.
                    prop_assert_eq!(exact.next_free_at(now, 0.0), now + r.wait);
                }
                if careful.has_room(now, 0.0) {
                    careful.record(now);
                    prop_assert!(slack.admit(now).is_ok(), "slack budget overspent at {:?}", now - start);
                }
            }
        }
    }

    #[test]
    fn a_full_window_names_itself_and_the_wait() {
        let mut r = Referee::new(&"2/10s,3/1m".parse().unwrap());
        let t = Instant::now();
        assert!(r.admit(t).is_ok());
        assert!(r.admit(t + Duration::from_secs(1)).is_ok());
        let refusal = r.admit(t + Duration::from_secs(2)).unwrap_err();
        assert_eq!((refusal.limit, refusal.wait), (2, Duration::from_secs(8)));
        assert!(r.admit(t + Duration::from_secs(10)).is_ok());
        let refusal = r.admit(t + Duration::from_secs(30)).unwrap_err();
        assert_eq!((refusal.limit, refusal.wait), (3, Duration::from_secs(30)));
    }
}
