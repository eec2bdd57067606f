//! The actor's side of a [`Ledger`]: asking before each call, the shared cache's lookup and
//! in-flight lock before a job's first call, and the answers coming back. Without a ledger
//! none of this runs and the actor decides alone, on its own budget.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Actor, Job};
use crate::defender::{Endpoint, FetchKey, FetchValue};
use crate::fetch::cache::Origin;
use crate::fetch::ledger::{Ask, Ledger, Lookup, Verdict};
use crate::fetch::policy::BudgetPolicy;

/// Where a job stands with the shared cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claim {
    /// No shared cache: the job fetches for itself.
    Unshared,
    /// Not looked up yet: done right before its first call, so queued work holds no lock.
    Unchecked,
    /// The lookup is out.
    Checking,
    /// Someone else is fetching it: look again at this instant.
    BusyUntil(Instant),
    /// Ours to fetch: others wait for our answer, which we must share or release.
    Mine,
}

impl Claim {
    /// Whether the job may go to the budget.
    pub(super) fn may_call(self) -> bool {
        matches!(self, Claim::Unshared | Claim::Mine)
    }
}

/// A lane as the shared books see it: the analyst's (no reserve) or the reserve's.
pub(super) type Lane = (Endpoint, bool);

pub(super) fn lane(job: &Job) -> Lane {
    (job.key.endpoint(), BudgetPolicy::is_analysts(job.priority))
}

/// The ledger and what is out with it.
pub(super) struct Shared {
    pub(super) ledger: Arc<dyn Ledger>,
    /// Jobs whose next call the ledger is deciding on; they hold a slot meanwhile.
    pub(super) admitting: std::collections::HashMap<FetchKey, Job>,
    pub(super) asking: JoinSet<(FetchKey, Lane, Verdict)>,
    pub(super) looking: JoinSet<(FetchKey, Lookup)>,
    /// Take-backs, shares and releases: awaited before the actor ends, so a one-shot command
    /// does not exit holding a lock another process waits on.
    pub(super) side: JoinSet<()>,
    /// Per lane: not before this instant (the ledger said wait, or paused).
    pub(super) not_before: std::collections::HashMap<Lane, Instant>,
    /// Lanes with a question out: one at a time each, so a queue of thousands asks once.
    pub(super) asked: std::collections::HashSet<Lane>,
    pub(super) seq: u64,
    pub(super) watch: Option<tokio::sync::watch::Receiver<()>>,
}

impl Shared {
    pub(super) fn new(ledger: Arc<dyn Ledger>) -> Self {
        Self {
            watch: ledger.watch(),
            ledger,
            admitting: Default::default(),
            asking: JoinSet::new(),
            looking: JoinSet::new(),
            side: JoinSet::new(),
            not_before: Default::default(),
            asked: Default::default(),
            seq: 0,
        }
    }

    pub(super) fn idle(&self) -> bool {
        self.admitting.is_empty()
            && self.asking.is_empty()
            && self.looking.is_empty()
            && self.side.is_empty()
    }

    /// When work of `lane` may ask again, as far as the ledger said.
    pub(super) fn free_at(&self, lane: Lane) -> Option<Instant> {
        self.not_before.get(&lane).copied()
    }

    pub(super) fn release(&mut self, job: &Job) {
        if job.claim == Claim::Mine {
            self.side.spawn(self.ledger.release(&job.key));
        }
    }

    pub(super) fn take_back(&mut self, endpoint: Endpoint, seq: u64, pause: Option<Duration>) {
        self.side.spawn(self.ledger.take_back(endpoint, seq, pause));
    }
}

impl Actor {
    /// Sends `job`'s call to the ledger for a decision; the job holds a slot meanwhile.
    pub(super) fn ask(&mut self, mut job: Job) {
        let shared = self.shared.as_mut().expect("asked only with a ledger");
        let lane = lane(&job);
        let seq = *job.call_seq.get_or_insert_with(|| {
            shared.seq += 1;
            shared.seq
        });
        let ask = Ask {
            endpoint: job.key.endpoint(),
            priority: job.priority,
            seq,
        };
        let key = job.key.clone();
        let decision = shared.ledger.admit(ask);
        shared
            .asking
            .spawn(async move { (key, lane, decision.await) });
        shared.asked.insert(lane);
        shared.admitting.insert(job.key.clone(), job);
    }

    /// The ledger's decision on a job's call.
    pub(super) fn verdict(&mut self, key: FetchKey, lane: Lane, verdict: Verdict, now: Instant) {
        let shared = self.shared.as_mut().expect("verdicts only with a ledger");
        shared.asked.remove(&lane);
        let Some(mut job) = shared.admitting.remove(&key) else {
            return;
        };
        match verdict {
            Verdict::Admitted if job.waiters.is_empty() => {
                // Everyone moved on while the ledger decided: the call is not sent, so it is
                // taken back, and whoever waits on our lock may fetch it themselves.
                let seq = job.call_seq.take().expect("asked calls carry a seq");
                shared.take_back(key.endpoint(), seq, None);
                shared.release(&job);
            }
            Verdict::Admitted => {
                shared.not_before.remove(&lane);
                self.start(job, now);
            }
            Verdict::Wait(d) => {
                shared.not_before.insert(lane, now + d);
                self.enqueue(job);
            }
            Verdict::Paused(d) => {
                for analysts in [true, false] {
                    shared
                        .not_before
                        .insert((key.endpoint(), analysts), now + d);
                }
                if let Some(b) = self.budgets.get_mut(&key.endpoint()) {
                    b.hold(now, now + d);
                }
                self.enqueue(job);
            }
        }
    }

    /// Looks the best startable job up in the shared cache before it spends a call.
    pub(super) fn look_up(&mut self, i: usize) {
        let Some(shared) = self.shared.as_mut() else {
            return;
        };
        let job = &mut self.queue[i];
        job.claim = super::shared::Claim::Checking;
        let policy = self.config.cache;
        // A fresh answer by the TTL serves, unless the analyst asked for a new one (`r`) or
        // `--no-cache` holds: then only an answer fetched after the request counts, which is
        // what waiting on another process's call in flight gives.
        let fresh_after = if policy.bypass || job.refresh {
            job.asked_at
        } else {
            let ttl = policy.ttl.of(job.key.endpoint());
            self.config.wall.now()
                - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::zero())
        };
        let key = job.key.clone();
        let lookup = shared.ledger.lookup(&key, Some(fresh_after));
        shared.looking.spawn(async move { (key, lookup.await) });
    }

    /// The shared cache's answer for a queued job.
    pub(super) fn looked_up(&mut self, key: FetchKey, lookup: Lookup, now: Instant) {
        let Some(i) = self.queue.iter().position(|j| j.key == key) else {
            // Dropped while we looked (nobody waits any more): give the lock back.
            if let (Lookup::Yours, Some(shared)) = (&lookup, self.shared.as_mut()) {
                shared.side.spawn(shared.ledger.release(&key));
            }
            return;
        };
        match lookup {
            Lookup::Hit(value, at) => {
                let job = self.queue.swap_remove(i);
                self.queued_keys.remove(&job.key);
                self.served_by_team(job, value, at);
            }
            Lookup::Yours => self.queue[i].claim = Claim::Mine,
            Lookup::Busy(d) => self.queue[i].claim = Claim::BusyUntil(now + d),
        }
    }

    fn served_by_team(&mut self, job: Job, value: FetchValue, at: chrono::DateTime<Utc>) {
        if let Some(m) = &self.memory {
            m.remember(&job.key, &value, at);
        }
        for ticket in job.waiters {
            self.send_done(
                job.key.clone(),
                ticket,
                Ok(value.clone()),
                at,
                Origin::Cache { refreshing: false },
            );
        }
    }

    /// After a job's last call: our answer to the shared cache, or the lock given back.
    pub(super) fn settle_claim(
        &mut self,
        job: &Job,
        kept: Option<(&FetchValue, chrono::DateTime<Utc>)>,
    ) {
        let Some(shared) = self.shared.as_mut() else {
            return;
        };
        if job.claim != Claim::Mine {
            return;
        }
        match kept {
            Some((value, at)) => {
                let ttl = self.config.cache.ttl.of(job.key.endpoint());
                shared
                    .side
                    .spawn(shared.ledger.share(&job.key, value, at, ttl));
            }
            None => {
                shared.side.spawn(shared.ledger.release(&job.key));
            }
        }
    }
}
