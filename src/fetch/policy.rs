//! The budget policy in one place: which lanes may spend the analyst's reserve, how long a call
//! stays on the books past its window, and what that lets a run of calls cost in time. The
//! scheduler's actor, `expand --plan` and the budget view all read it, so they cannot drift.

use std::time::Duration;

use tokio::time::Instant;

use super::budget::{Budget, reach_with};
use super::limits::RateLimits;
use super::status::Priority;

#[derive(Debug, Clone, PartialEq)]
pub struct BudgetPolicy {
    /// Per-endpoint windows.
    pub limits: RateLimits,
    /// Share of each window that guesswork and batch work leave for the analyst.
    pub reserve: f64,
    /// Longest margin a call stays counted past its window (see [`BudgetPolicy::reach`]).
    pub slack: Duration,
}

impl BudgetPolicy {
    /// Whether work of `priority` is the analyst's: what they asked for or see on screen. It
    /// may spend every window whole; anything else leaves the reserve untouched.
    pub fn is_analysts(priority: Priority) -> bool {
        priority >= Priority::Visible
    }

    /// The share of each window work of `priority` must leave untouched.
    pub fn reserve_for(&self, priority: Priority) -> f64 {
        if Self::is_analysts(priority) {
            0.0
        } else {
            self.reserve
        }
    }

    /// How long a call counts against `window` under this policy (see [`reach_with`]).
    pub fn reach(&self, window: Duration) -> Duration {
        reach_with(self.slack, window)
    }

    /// An empty budget for one endpoint under this policy.
    pub fn budget(&self) -> Budget {
        Budget::new(self.limits.clone()).with_slack(self.slack)
    }

    /// When the last of `calls` back-to-back calls of `priority` could start, counted from
    /// `now`, on the budget the scheduler keeps (slack included), after the calls made at
    /// `earlier`.
    pub fn least_time(
        &self,
        priority: Priority,
        earlier: impl IntoIterator<Item = Instant>,
        calls: usize,
        now: Instant,
    ) -> Duration {
        let mut budget = self.budget();
        for at in earlier {
            budget.remember(at);
        }
        let reserve = self.reserve_for(priority);
        let mut t = now;
        for _ in 0..calls {
            t = budget.next_free_at(t, reserve);
            budget.record(t);
        }
        t - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(slack_ms: u64) -> BudgetPolicy {
        BudgetPolicy {
            limits: "10/10s".parse().unwrap(),
            reserve: 0.2,
            slack: Duration::from_millis(slack_ms),
        }
    }

    #[test]
    fn only_the_analysts_lanes_spend_the_reserve() {
        let p = policy(0);
        assert_eq!(p.reserve_for(Priority::Foreground), 0.0);
        assert_eq!(p.reserve_for(Priority::Visible), 0.0);
        assert_eq!(p.reserve_for(Priority::Prefetch), 0.2);
        assert_eq!(p.reserve_for(Priority::Batch), 0.2);
    }

    #[test]
    fn the_least_time_counts_the_reserve_and_the_slack() {
        let now = Instant::now();
        // Batch may use 8 of 10: the 9th call waits a whole window.
        assert_eq!(
            policy(0).least_time(Priority::Batch, [], 9, now),
            Duration::from_secs(10)
        );
        assert_eq!(
            policy(0).least_time(Priority::Foreground, [], 10, now),
            Duration::ZERO
        );
        // 1% of the window, capped by the slack: the planner waits what the scheduler waits.
        assert_eq!(
            policy(50).least_time(Priority::Batch, [], 9, now),
            Duration::from_millis(10_050)
        );
    }

    #[test]
    fn a_call_stays_the_larger_of_one_percent_and_50_ms_capped_by_the_slack() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert_eq!(
            policy(500).reach(s(60)),
            s(60) + ms(500),
            "1% = 600 ms, capped"
        );
        assert_eq!(policy(500).reach(s(10)), s(10) + ms(100), "1%");
        assert_eq!(policy(500).reach(s(1)), s(1) + ms(50), "1% = 10 ms < 50 ms");
        assert_eq!(
            policy(20).reach(s(1)),
            s(1) + ms(20),
            "the cap wins over the floor"
        );
        assert_eq!(policy(0).reach(s(10)), s(10), "no slack, no margin");
    }
}
