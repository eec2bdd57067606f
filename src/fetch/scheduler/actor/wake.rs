//! When the actor can next act: when each endpoint's budget lets work of each class start,
//! the instant the run loop must wake for, and the waits its `select!` is made of.

use tokio::task::JoinSet;
use tokio::time::Instant;

use std::time::Duration;

use super::shared::Claim;
use super::{Actor, Job};
use crate::defender::Endpoint;
use crate::fetch::policy::BudgetPolicy;
use crate::fetch::status::Priority;

impl Actor {
    /// When work of `priority` could start on `endpoint`, as far as the budget goes.
    fn free_at(&self, endpoint: Endpoint, priority: Priority, now: Instant) -> Instant {
        let own = self.budgets[&endpoint].next_free_at(now, self.policy.reserve_for(priority));
        let lane = (endpoint, BudgetPolicy::is_analysts(priority));
        match self.shared.as_ref().and_then(|s| s.free_at(lane)) {
            Some(shared) => own.max(shared),
            None => own,
        }
    }

    /// The budget's answer for every endpoint and reserve class, computed once per decision
    /// instead of once per queued job: the queue can hold thousands of batch requests.
    pub(super) fn free_table(&self, now: Instant) -> FreeTable {
        let mut table = FreeTable::default();
        for e in Endpoint::ALL {
            table.0.push((
                e,
                self.free_at(e, Priority::Foreground, now),
                self.free_at(e, Priority::Batch, now),
            ));
        }
        table
    }

    /// The next instant something can change without a message: a job becomes ready, a
    /// window slides, a shared lookup is due again, a countdown ticks.
    pub(super) fn next_wake(&self, now: Instant) -> Option<Instant> {
        let free = self.free_table(now);
        let job_ready = self.queue.iter().map(|j| free.ready_at(j)).min();
        // A job someone else is fetching looks the shared cache up again.
        let look_again = self
            .queue
            .iter()
            .filter_map(|j| match j.claim {
                Claim::BusyUntil(t) => Some(t),
                _ => None,
            })
            .min();
        let window_change = self
            .budgets
            .values()
            .filter_map(|b| b.next_change(now))
            .min();
        // While paused, tick each second so the countdown moves.
        let shared_pause = self.published.as_ref().is_some_and(|p| {
            p.shared
                .as_ref()
                .is_some_and(|s| s.endpoints.iter().any(|e| e.paused_for.is_some()))
        });
        let countdown = (shared_pause || self.budgets.values().any(|b| b.paused(now)))
            .then(|| now + Duration::from_secs(1));
        [job_ready, look_again, window_change, countdown]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
    }
}

/// Per endpoint: when the analyst's work and when reserved work may next start.
#[derive(Default)]
pub(super) struct FreeTable(Vec<(Endpoint, Instant, Instant)>);

impl FreeTable {
    /// When `job` could start, given its backoff and its endpoint's budget.
    pub(super) fn ready_at(&self, job: &Job) -> Instant {
        let endpoint = job.key.endpoint();
        let (_, analyst, reserved) = self
            .0
            .iter()
            .find(|(e, ..)| *e == endpoint)
            .copied()
            .expect("every endpoint is in the table");
        let free = if BudgetPolicy::is_analysts(job.priority) {
            analyst
        } else {
            reserved
        };
        let free = match job.claim {
            Claim::BusyUntil(t) => t.max(free),
            _ => free,
        };
        job.not_before.map_or(free, |nb| nb.max(free))
    }
}

/// The next finished task of `set`; never, without one.
pub(super) async fn join_next<T: 'static>(
    set: Option<&mut JoinSet<T>>,
) -> Option<Result<T, tokio::task::JoinError>> {
    match set {
        Some(set) => set.join_next().await,
        None => std::future::pending().await,
    }
}

/// A ledger's task's output. Its tasks are never aborted, so an error is a panic, and a
/// panicking ledger is a bug: it takes the scheduler down loudly.
pub(super) fn joined<T>(done: Result<T, tokio::task::JoinError>) -> T {
    match done {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

pub(super) async fn changed(
    watch: Option<&mut tokio::sync::watch::Receiver<()>>,
) -> Result<(), tokio::sync::watch::error::RecvError> {
    match watch {
        Some(w) => w.changed().await,
        None => std::future::pending().await,
    }
}

pub(super) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
