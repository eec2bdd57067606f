//! What the actor does with a call's answer: join the pages (or follow the next link through
//! the budget again), pause the endpoint on a 429, retry a transient failure after a backoff,
//! and send the outcome to everyone waiting.

use std::time::Duration;

use tokio::time::Instant;

use super::{Actor, Job};
use crate::defender::{ApiError, Call, Cut, ErrorKind, FetchKey, FetchValue, Next, Page};
use crate::fetch::FetchEvent;
use crate::fetch::cache::Origin;

impl Actor {
    /// Takes the answer to the call in flight for `key`.
    pub(super) fn finished(&mut self, key: FetchKey, result: Result<Page, ApiError>, now: Instant) {
        if let Some(job) = self.in_flight.remove(&key) {
            self.answered(job, result, now);
        }
    }

    /// Takes the answer to `job`'s last call, off the wire.
    pub(super) fn answered(&mut self, mut job: Job, result: Result<Page, ApiError>, now: Instant) {
        let key = job.key.clone();
        // The call is answered: the next one (a page, a retry) is a new call on the books.
        let seq = job.call_seq.take();
        if job.waiters.is_empty() {
            // Everyone moved on; another process waiting on our lock fetches it itself.
            if let Some(shared) = self.shared.as_mut() {
                shared.release(&job);
            }
            return;
        }
        match result {
            Ok(page) => {
                let mut value = match job.acc.take() {
                    Some(mut acc) => {
                        acc.append(page.value);
                        acc
                    }
                    None => page.value,
                };
                let cut = match page.next {
                    None => None,
                    Some(Next::Follow(link)) if job.seen_links.contains(&link) => Some(Cut::Loop),
                    Some(Next::Follow(_)) if value.pages() >= self.config.max_pages => {
                        Some(Cut::PageCap)
                    }
                    Some(Next::Follow(link)) => {
                        // Every page is a call: back in the queue, through the budget.
                        job.seen_links.insert(link.clone());
                        job.acc = Some(value);
                        job.call = Call {
                            key: job.key.clone(),
                            next_link: Some(link),
                        };
                        job.failures = 0;
                        self.enqueue(job);
                        return;
                    }
                    Some(Next::Loop) => Some(Cut::Loop),
                    Some(Next::Refused { link, why }) => Some(Cut::Refused { link, why }),
                };
                if let Some(cut) = cut {
                    tracing::warn!(%key, pages = value.pages(), ?cut, "stopped following next-page links");
                    value.cut(cut);
                }
                self.complete(job, Ok(value));
            }
            Err(e) if e.kind == ErrorKind::Unauthorized && e.fresh_token && !job.renewed => {
                // The token source dropped the refused token: one more try with a fresh one,
                // as a call of its own on the books.
                tracing::info!(%key, "401: trying once more with a fresh token");
                job.renewed = true;
                self.enqueue(job);
            }
            Err(e) if e.kind == ErrorKind::Throttled => {
                self.throttled(job, e.retry_after, seq, now)
            }
            Err(e) if e.kind.is_transient() && job.failures + 1 < self.config.max_attempts => {
                job.failures += 1;
                // "retrying 2/3": the attempt about to be made, of the attempts allowed.
                let _ = self.events.send(FetchEvent::Retrying {
                    key: key.clone(),
                    attempt: job.failures + 1,
                    max: self.config.max_attempts,
                    error: e,
                });
                job.not_before = Some(now + self.backoff(job.failures));
                self.enqueue(job);
            }
            Err(mut e) => {
                if e.kind == ErrorKind::Unauthorized && job.renewed {
                    // Saying that renewing did not help points the analyst at the tenant,
                    // consent or scope instead of at waiting.
                    e.message = format!("{} (a renewed token was refused too)", e.message);
                }
                match job.acc.take() {
                    // A later page failed: what the earlier pages gave is kept, and the cut said.
                    Some(mut acc) => {
                        acc.cut(Cut::Failed {
                            kind: e.kind,
                            message: e.message,
                        });
                        self.complete(job, Ok(acc));
                    }
                    None => self.complete(job, Err(e)),
                }
            }
        }
    }

    /// A 429: the endpoint pauses (the whole team's with it, on shared books), the refused
    /// call comes off the books, and the job waits its turn again; a 429 is not a failed
    /// attempt.
    fn throttled(
        &mut self,
        job: Job,
        retry_after: Option<Duration>,
        seq: Option<u64>,
        now: Instant,
    ) {
        let key = &job.key;
        let budget = self
            .budgets
            .get_mut(&key.endpoint())
            .expect("every endpoint has a budget");
        let pause = retry_after.filter(|d| !d.is_zero()).unwrap_or_else(|| {
            budget
                .wait_for_room(now)
                .max(self.config.min_throttle_pause)
        });
        tracing::info!(%key, secs = pause.as_secs_f64(), "429: pausing endpoint");
        budget.pause(now, now + pause);
        if let (Some(shared), Some(seq)) = (self.shared.as_mut(), seq) {
            // Off the shared books too, and the whole team pauses.
            shared.take_back(key.endpoint(), seq, Some(pause));
            for analysts in [true, false] {
                shared
                    .not_before
                    .insert((key.endpoint(), analysts), now + pause);
            }
        }
        if let Some((at, wall)) = job.sent_at {
            budget.unrecord(at);
            if let Some(m) = &self.memory {
                m.call(key.endpoint(), wall, false);
            }
        }
        self.enqueue(job);
    }

    /// Sends the answer to every waiting ticket, and keeps a good one for next time.
    fn complete(&mut self, job: Job, result: Result<FetchValue, ApiError>) {
        let at = self.config.wall.now();
        let failed_page = result
            .as_ref()
            .is_ok_and(|v| matches!(v.cut_reason(), Some(Cut::Failed { .. })));
        // A list cut by a failed page is shown, not kept: the next look should try again.
        if let (Some(m), Ok(value), false) = (&self.memory, &result, failed_page) {
            m.remember(&job.key, value, at);
        }
        let kept = match &result {
            Ok(value) if !failed_page => Some((value, at)),
            _ => None,
        };
        self.settle_claim(&job, kept);
        for ticket in job.waiters {
            self.send_done(job.key.clone(), ticket, result.clone(), at, Origin::Network);
        }
    }

    /// Capped exponential backoff with jitter in [½, 1] of the step, so consoles sharing a
    /// registration do not retry in lockstep.
    fn backoff(&self, failures: u32) -> Duration {
        let step = self
            .config
            .first_backoff
            .saturating_mul(1 << failures.saturating_sub(1).min(16));
        let step = step.min(self.config.max_backoff);
        step.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}
