//! The local rule while the team's Redis cannot be reached: this process spends at most its
//! share of what the team left in each window ([`LocalShare::of`]), the team's calls last
//! seen still counted.
//! Fail to a share, not open: the analyst goes on, batch work within its share of the share,
//! prefetch waits for the team budget to come back.

use std::time::Duration;

use tokio::time::Instant;

use crate::fetch::sharing::LocalShare;
use crate::fetch::{BudgetPolicy, Priority};

/// One endpoint's books while unreachable.
#[derive(Debug, Clone, Default)]
pub struct LocalRule {
    /// The team's calls as last seen on the shared log (this process's included), sorted.
    mirror: Vec<Instant>,
    /// This process's calls admitted since the fallback began, sorted.
    own: Vec<Instant>,
}

impl LocalRule {
    /// Starts the fallback from the team's calls last seen.
    pub fn new(mut mirror: Vec<Instant>) -> Self {
        mirror.sort();
        Self {
            mirror,
            own: Vec::new(),
        }
    }

    /// Calls admitted by this rule, oldest first (put back on the shared log on reconnect).
    pub fn own(&self) -> &[Instant] {
        &self.own
    }

    /// Whether a call of `priority` may start at `now` with `share_of` processes sharing the
    /// budget; else how long until it may (`None`: not until the team budget is back).
    pub fn decide(
        &self,
        policy: &BudgetPolicy,
        share_of: u32,
        priority: Priority,
        now: Instant,
    ) -> Result<(), Option<Duration>> {
        if priority == Priority::Prefetch {
            // Guesswork waits for the team: it would spend the share the analyst needs.
            return Err(None);
        }
        let n = share_of.max(1);
        if self.allows(policy, n, priority, now) {
            return Ok(());
        }
        // Room comes only when some call leaves some window: try those instants in order.
        let mut leaving: Vec<Instant> = policy
            .limits
            .0
            .iter()
            .flat_map(|w| {
                let reach = policy.reach(w.window);
                self.mirror.iter().chain(&self.own).map(move |t| *t + reach)
            })
            .filter(|t| *t > now)
            .collect();
        leaving.sort();
        leaving.dedup();
        leaving
            .into_iter()
            .find(|t| self.allows(policy, n, priority, *t))
            .map_or(Err(None), |t| Err(Some(t - now)))
    }

    fn allows(&self, policy: &BudgetPolicy, n: u32, priority: Priority, now: Instant) -> bool {
        let reserve = policy.reserve_for(priority);
        policy.limits.0.iter().all(|w| {
            let reach = policy.reach(w.window);
            let allowed = w.allowed(reserve);
            let team = in_window(&self.mirror, now, reach);
            let own = in_window(&self.own, now, reach);
            own < LocalShare::of(allowed, team, w.window, n).calls
        })
    }

    pub fn record(&mut self, at: Instant) {
        let i = self.own.partition_point(|t| *t <= at);
        self.own.insert(i, at);
    }

    /// A call admitted here that did not count after all.
    pub fn unrecord(&mut self, at: Instant) {
        if let Some(i) = self.own.iter().rposition(|t| *t == at) {
            self.own.remove(i);
        }
    }
}

/// Calls in `(now - reach, now]` (and any later: a clock conversion may put one there).
fn in_window(log: &[Instant], now: Instant, reach: Duration) -> u32 {
    let first = log.partition_point(|t| *t + reach <= now);
    u32::try_from(log.len() - first).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BudgetPolicy {
        BudgetPolicy {
            limits: "10/10s".parse().unwrap(),
            reserve: 0.2,
            slack: Duration::ZERO,
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[tokio::test(start_paused = true)]
    async fn each_process_spends_its_share_of_what_the_team_left() {
        let t0 = Instant::now();
        // The team spent 4 of 10 a second ago; two processes: 3 each for the analyst.
        let mut s = LocalRule::new(vec![t0 - secs(1); 4]);
        for _ in 0..3 {
            assert_eq!(s.decide(&policy(), 2, Priority::Foreground, t0), Ok(()));
            s.record(t0);
        }
        // The next call waits until the team's 4 leave (9 s): then (10 − 0) / 2 = 5 > 3.
        assert_eq!(
            s.decide(&policy(), 2, Priority::Foreground, t0),
            Err(Some(secs(9)))
        );
        // Batch keeps the reserve: (8 − 4) / 2 = 2, already spent 3.
        assert_eq!(
            s.decide(&policy(), 2, Priority::Batch, t0),
            Err(Some(secs(9)))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_team_window_admits_nothing_and_one_process_gets_at_least_one() {
        let t0 = Instant::now();
        let s = LocalRule::new(vec![t0; 10]);
        assert_eq!(
            s.decide(&policy(), 1, Priority::Foreground, t0),
            Err(Some(secs(10)))
        );
        // 1 left, 5 processes: floor(1 / 5) = 0, but at least one.
        let s = LocalRule::new(vec![t0; 9]);
        assert_eq!(s.decide(&policy(), 5, Priority::Foreground, t0), Ok(()));
        assert_eq!(s.decide(&policy(), 0, Priority::Foreground, t0), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn prefetch_waits_for_the_team_and_own_calls_leave_too() {
        let t0 = Instant::now();
        let mut s = LocalRule::new(Vec::new());
        assert_eq!(s.decide(&policy(), 2, Priority::Prefetch, t0), Err(None));
        for i in 0..4 {
            s.record(t0 + secs(i));
        }
        // Batch: 8 / 2 = 4 spent; the first own call leaves at 10 s.
        assert_eq!(
            s.decide(&policy(), 2, Priority::Batch, t0 + secs(4)),
            Err(Some(secs(6)))
        );
        s.unrecord(t0);
        assert_eq!(s.own().len(), 3);
        assert_eq!(
            s.decide(&policy(), 2, Priority::Batch, t0 + secs(4)),
            Ok(())
        );
    }
}
