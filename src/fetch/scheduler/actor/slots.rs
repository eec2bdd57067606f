//! The slot rule: which call in flight gives its slot back when every slot is taken, and how
//! a call is stopped. Documented on `SchedulerConfig::max_in_flight`; kept here, in one place.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use tokio::task::{AbortHandle, Id, JoinSet};
use tokio::time::Instant;

use super::Actor;
use crate::defender::{ApiError, FetchKey, Page};
use crate::fetch::policy::BudgetPolicy;
use crate::fetch::status::Priority;

impl Actor {
    /// The slot rule (documented on `SchedulerConfig::max_in_flight`): the call in flight that
    /// gives its slot to a job of `priority` when every slot is taken; `None`: the job waits.
    /// The oldest call of a lane goes first: the likeliest to hang.
    pub(super) fn victim(&self, priority: Priority) -> Option<FetchKey> {
        self.in_flight
            .values()
            .filter(|j| {
                j.waiters.is_empty()
                    || (BudgetPolicy::is_analysts(priority) && j.priority < priority)
            })
            .min_by_key(|j| {
                (
                    !j.waiters.is_empty(),
                    j.priority,
                    j.sent_at.map(|s| s.0),
                    j.seq,
                )
            })
            .map(|j| j.key.clone())
    }

    /// Stops the call of `key` so its slot is free at once. A call sent stays spent in the
    /// budget and the call log; a job someone still waits for goes back to its place in the
    /// queue (same `seq`, pages and failures kept) and costs one more call later, unless the
    /// stopped call's answer lands first (`landed_late`).
    pub(super) fn take_slot(&mut self, key: &FetchKey) {
        let Some(mut job) = self.in_flight.remove(key) else {
            return;
        };
        if let Some(task) = job.task.take() {
            task.handle.abort();
            if task.started() {
                // The call left, and its answer may already be in: kept so that an answer
                // landing while the job waits is taken instead of sending the call again.
                job.stopped = Some(Stopped {
                    id: task.handle.id(),
                    sent_at: job.sent_at,
                    call_seq: job.call_seq,
                });
            } else if let Some((at, wall)) = job.sent_at {
                // Stopped before its task ever ran (started and stopped by commands of one
                // burst): the call never left, so it is taken off the books.
                if let Some(b) = self.budgets.get_mut(&key.endpoint()) {
                    b.unrecord(at);
                    b.calls = b.calls.saturating_sub(1);
                }
                if let Some(m) = &self.memory {
                    m.call(key.endpoint(), wall, false);
                }
                if let (Some(shared), Some(seq)) = (self.shared.as_mut(), job.call_seq) {
                    shared.take_back(key.endpoint(), seq, None);
                }
            }
        }
        job.sent_at = None;
        job.call_seq = None;
        if job.waiters.is_empty() {
            tracing::debug!(%key, "stopped a call nobody waits for, to free its slot");
            return;
        }
        tracing::info!(%key, priority = ?job.priority, "stopped a call to free its slot for the analyst; it goes again later");
        self.enqueue(job);
    }

    /// The answer of a call `take_slot` stopped after it had left (it came back before the
    /// stop could end it). While its job still waits in the queue, that answer is the job's:
    /// the call was made and counted once, and is not made again. A job sent again since, or
    /// dropped, has no use for it.
    pub(super) fn landed_late(
        &mut self,
        key: FetchKey,
        id: Id,
        result: Result<Page, ApiError>,
        now: Instant,
    ) {
        if !self.queued_keys.contains(&key) {
            return;
        }
        let Some(i) = self
            .queue
            .iter()
            .position(|j| j.key == key && j.stopped.as_ref().is_some_and(|s| s.id == id))
        else {
            return;
        };
        let mut job = self.queue.swap_remove(i);
        self.queued_keys.remove(&key);
        if let Some(stopped) = job.stopped.take() {
            // Back as it was on the wire, so a 429 in that answer comes off the books as any.
            job.sent_at = stopped.sent_at;
            job.call_seq = stopped.call_seq;
        }
        tracing::debug!(%key, "a stopped call's answer came back: it answers its job");
        self.answered(job, result, now);
    }

    /// Whether `id` carries the current call of `key`'s job (not one stopped by `take_slot`).
    pub(super) fn is_current(&self, key: &FetchKey, id: Id) -> bool {
        self.in_flight
            .get(key)
            .and_then(|j| j.task.as_ref())
            .is_some_and(|t| t.handle.id() == id)
    }
}

/// A call stopped by the slot rule after it had left: its task, and what the job's books
/// said of it while it was on the wire.
#[derive(Debug)]
pub(super) struct Stopped {
    id: Id,
    sent_at: Option<(Instant, DateTime<Utc>)>,
    call_seq: Option<u64>,
}

/// A call's task, and whether it has run yet: until then, nothing was sent.
#[derive(Debug)]
pub(super) struct Wire {
    handle: AbortHandle,
    started: Arc<AtomicBool>,
}

impl Wire {
    /// Spawns `call` on `running`, noting when it first runs.
    pub(super) fn spawn<T: Send + 'static>(
        running: &mut JoinSet<T>,
        call: impl Future<Output = T> + Send + 'static,
    ) -> Self {
        let started = Arc::new(AtomicBool::new(false));
        let ran = started.clone();
        let handle = running.spawn(async move {
            ran.store(true, Ordering::Relaxed);
            call.await
        });
        Self { handle, started }
    }

    fn started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }
}
