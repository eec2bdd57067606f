//! The scheduler task: one owner of the queue, the budgets and the calls in flight. It wakes
//! only for a command, a finished call, or the next instant something can change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use chrono::{DateTime, Utc};

use super::{Command, FetchEvent, FetchRequest, SchedulerConfig};
use crate::defender::{ApiError, Call, Endpoint, ErrorKind, FetchKey, FetchValue, Page, Transport};
use crate::fetch::budget::Budget;
use crate::fetch::cache::{self, CacheUse, Memory, Origin};
use crate::fetch::policy::BudgetPolicy;
use crate::fetch::status::{BudgetStatus, EndpointBudget, Priority, Ticket};

mod finish;
mod job;
mod shared;
mod slots;
mod wake;
use job::Job;
use shared::{Claim, Shared};
use slots::Wire;
use wake::{changed, join_next, joined, sleep_until};

pub(super) struct Actor {
    transport: Arc<dyn Transport>,
    config: SchedulerConfig,
    /// The lanes, the reserve and the slack: `config`'s, read in one place.
    policy: BudgetPolicy,
    budgets: HashMap<Endpoint, Budget>,
    queue: Vec<Job>,
    /// Keys in `queue`, so a new request finds out in O(1) that it coalesces with nothing.
    queued_keys: HashSet<FetchKey>,
    in_flight: HashMap<FetchKey, Job>,
    running: JoinSet<(FetchKey, Result<Page, ApiError>)>,
    events: mpsc::UnboundedSender<FetchEvent>,
    seq: u64,
    published: Option<BudgetStatus>,
    memory: Option<Arc<dyn Memory>>,
    /// The shared books, when a ledger keeps them.
    shared: Option<Shared>,
}

impl Actor {
    pub(super) fn new(
        transport: Arc<dyn Transport>,
        config: SchedulerConfig,
        events: mpsc::UnboundedSender<FetchEvent>,
        memory: Option<Arc<dyn Memory>>,
        ledger: Option<Arc<dyn crate::fetch::Ledger>>,
    ) -> Self {
        let policy = config.policy();
        let mut budgets: HashMap<Endpoint, Budget> = Endpoint::ALL
            .iter()
            .map(|e| (*e, policy.budget()))
            .collect();
        if let Some(memory) = &memory {
            remember_recent_calls(memory.as_ref(), &mut budgets, &config);
        }
        Self {
            transport,
            policy,
            config,
            budgets,
            queue: Vec::new(),
            queued_keys: HashSet::new(),
            in_flight: HashMap::new(),
            running: JoinSet::new(),
            events,
            seq: 0,
            published: None,
            memory,
            shared: ledger.map(Shared::new),
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut open = true;
        loop {
            let now = Instant::now();
            let listened = !self.events.is_closed();
            if !listened {
                // Nobody will read an answer: start nothing more. Calls already on the wire
                // finish, so what they cost is kept in the cache.
                for job in std::mem::take(&mut self.queue) {
                    if let Some(shared) = self.shared.as_mut() {
                        shared.release(&job);
                    }
                }
                self.queued_keys.clear();
            }
            self.dispatch(now);
            self.publish(now);
            let shared_idle = self.shared.as_ref().is_none_or(Shared::idle);
            if (!open || !listened)
                && self.queue.is_empty()
                && self.running.is_empty()
                && shared_idle
            {
                break;
            }
            let wake = self.next_wake(now);
            let shared = self.shared.as_mut();
            let (asking, looking, side, watch) = match shared {
                Some(s) => (
                    Some(&mut s.asking),
                    Some(&mut s.looking),
                    Some(&mut s.side),
                    s.watch.as_mut(),
                ),
                None => (None, None, None, None),
            };
            tokio::select! {
                biased;
                Some(done) = join_next(asking) => {
                    let (key, lane, verdict) = joined(done);
                    self.verdict(key, lane, verdict, Instant::now());
                }
                Some(done) = join_next(looking) => {
                    let (key, lookup) = joined(done);
                    self.looked_up(key, lookup, Instant::now());
                }
                Some(done) = join_next(side) => joined(done),
                changed = changed(watch) => if changed.is_err() {
                    // The ledger's status sender is gone: nothing more will change it.
                    if let Some(s) = self.shared.as_mut() { s.watch = None; }
                },
                cmd = commands.recv(), if open => match cmd {
                    Some(Command::Request(r)) => self.request(r),
                    Some(Command::Cancel(t)) => self.cancel(t),
                    Some(Command::Reprioritize(t, p)) => self.reprioritize(t, p),
                    None => open = false,
                },
                Some(done) = self.running.join_next_with_id(), if !self.running.is_empty() => match done {
                    Ok((id, (key, result))) if self.is_current(&key, id) => {
                        self.finished(key, result, Instant::now());
                    }
                    // A call stopped to free its slot, that answered before it could be
                    // stopped: its job's answer while the job still waits to go again.
                    Ok((id, (key, result))) => self.landed_late(key, id, result, Instant::now()),
                    // A panicking transport is a bug: let it take the scheduler down loudly.
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => {}
                },
                () = sleep_until(wake) => {}
            }
        }
    }

    fn request(&mut self, mut r: FetchRequest) {
        if let Some(served) = self.serve_cached(&r) {
            match served {
                Served::Fresh => return,
                // Stale: shown already; the refresh waits behind the analyst's work.
                Served::Stale => r.priority = r.priority.min(Priority::Prefetch),
            }
        }
        if self.config.cache.offline {
            let error = ApiError::new(
                ErrorKind::Offline,
                format!("no cached answer for {}", r.key),
            );
            self.send_done(
                r.key,
                r.ticket,
                Err(error),
                self.config.wall.now(),
                Origin::Network,
            );
            return;
        }
        // A call the API could only refuse (findbyip for a public IP, or outside its 30 days)
        // is answered here: no budget, no lane, no call.
        let wall = self.config.wall.now();
        if let Err(error) = r.key.refused(wall) {
            self.send_done(r.key, r.ticket, Err(error), wall, Origin::Network);
            return;
        }
        let queued = self.queued_keys.contains(&r.key);
        let existing = self.in_flight.get_mut(&r.key).or_else(|| {
            queued
                .then(|| self.queue.iter_mut().find(|j| j.key == r.key))
                .flatten()
        });
        let existing = match existing {
            Some(job) => Some(job),
            None => self
                .shared
                .as_mut()
                .and_then(|s| s.admitting.get_mut(&r.key)),
        };
        if let Some(job) = existing {
            if !job.waiters.contains(&r.ticket) {
                job.waiters.push(r.ticket);
            }
            job.priority = job.priority.max(r.priority);
            return;
        }
        self.seq += 1;
        self.enqueue(Job {
            call: Call::first(r.key.clone()),
            key: r.key,
            waiters: vec![r.ticket],
            priority: r.priority,
            seq: self.seq,
            failures: 0,
            not_before: None,
            sent_at: None,
            task: None,
            stopped: None,
            acc: None,
            seen_links: HashSet::new(),
            renewed: false,
            call_seq: None,
            claim: match &self.shared {
                Some(s) if s.ledger.shares_answers() => Claim::Unchecked,
                _ => Claim::Unshared,
            },
            refresh: r.cache == CacheUse::Refresh,
            asked_at: self.config.wall.now(),
        });
    }

    /// Answers from the cache when it may: `None` when the request must go to the API.
    fn serve_cached(&self, r: &FetchRequest) -> Option<Served> {
        let policy = self.config.cache;
        let memory = self.memory.as_ref()?;
        let wanted = policy.offline || (!policy.bypass && r.cache == CacheUse::Prefer);
        if !wanted {
            return None;
        }
        let (value, at) = memory.lookup(&r.key)?;
        let fresh = policy.offline
            || cache::fresh(policy.ttl.of(r.key.endpoint()), at, self.config.wall.now());
        let origin = Origin::Cache { refreshing: !fresh };
        self.send_done(r.key.clone(), r.ticket, Ok(value), at, origin);
        Some(if fresh { Served::Fresh } else { Served::Stale })
    }

    fn send_done(
        &self,
        key: FetchKey,
        ticket: Ticket,
        result: Result<FetchValue, ApiError>,
        at: DateTime<Utc>,
        origin: Origin,
    ) {
        let _ = self.events.send(FetchEvent::Done {
            key,
            ticket,
            result,
            at,
            origin,
        });
    }

    /// Every job the actor holds: queued, asking the ledger, or on the wire.
    fn jobs_mut(&mut self) -> impl Iterator<Item = &mut Job> {
        let admitting = self.shared.as_mut().map(|s| s.admitting.values_mut());
        self.queue
            .iter_mut()
            .chain(self.in_flight.values_mut())
            .chain(admitting.into_iter().flatten())
    }

    fn cancel(&mut self, ticket: Ticket) {
        for job in self.jobs_mut() {
            job.waiters.retain(|t| *t != ticket);
        }
        // Queued work nobody waits for is dropped (its lock on the shared cache given back);
        // a call in flight finishes and is discarded.
        let (kept, dropped): (Vec<Job>, Vec<Job>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|j| !j.waiters.is_empty());
        self.queue = kept;
        if let Some(shared) = self.shared.as_mut() {
            for job in &dropped {
                shared.release(job);
            }
        }
        self.queued_keys = self.queue.iter().map(|j| j.key.clone()).collect();
    }

    fn reprioritize(&mut self, ticket: Ticket, priority: Priority) {
        for job in self.jobs_mut() {
            if !job.waiters.contains(&ticket) {
                continue;
            }
            if priority > job.priority || job.waiters == [ticket] {
                // In flight, the priority still matters for its next page or retry.
                job.priority = priority;
            }
        }
    }

    /// Starts the best startable jobs: highest priority, then oldest; a full or paused endpoint
    /// never blocks the others. With every slot taken, the best job may take one back by the
    /// slot rule (`SchedulerConfig::max_in_flight`, `victim`).
    fn dispatch(&mut self, now: Instant) {
        while !self.queue.is_empty() {
            let free = self.free_table(now);
            let asked = self.shared.as_ref().map(|s| &s.asked);
            let best = self
                .queue
                .iter()
                .enumerate()
                .filter(|(_, j)| free.ready_at(j) <= now)
                // One question out per lane; a job being looked up waits for the answer.
                .filter(|(_, j)| asked.is_none_or(|a| !a.contains(&shared::lane(j))))
                .filter(|(_, j)| j.claim != Claim::Checking)
                .max_by_key(|(_, j)| (j.priority, std::cmp::Reverse(j.seq)))
                .map(|(i, _)| i);
            let Some(i) = best else { break };
            if !self.queue[i].claim.may_call() {
                // Before its first call, the shared cache may have it, or someone may be
                // fetching it: asked right now, when the budget would let it go.
                self.look_up(i);
                continue;
            }
            let admitting = self.shared.as_ref().map_or(0, |s| s.admitting.len());
            if self.in_flight.len() + admitting >= self.config.max_in_flight {
                let Some(victim) = self.victim(self.queue[i].priority) else {
                    break; // the best cannot take a slot, so nothing queued can
                };
                self.take_slot(&victim);
            }
            let job = self.queue.swap_remove(i);
            self.queued_keys.remove(&job.key);
            if self.shared.is_some() {
                self.ask(job);
            } else {
                self.start(job, now);
            }
        }
    }

    /// Sends the job's call: on the books from now on.
    fn start(&mut self, mut job: Job, now: Instant) {
        {
            if let Some(b) = self.budgets.get_mut(&job.key.endpoint()) {
                b.record(now);
            }
            let wall = Utc::now();
            if let Some(m) = &self.memory {
                m.call(job.key.endpoint(), wall, true);
            }
            job.sent_at = Some((now, wall));
            // A new call is out: an earlier stopped one's answer is no longer the job's.
            job.stopped = None;
            let (key, call, transport) =
                (job.key.clone(), job.call.clone(), self.transport.clone());
            job.task = Some(Wire::spawn(&mut self.running, async move {
                (key, transport.call(call).await)
            }));
            self.in_flight.insert(job.key.clone(), job);
        }
    }

    /// Puts a job (back) in the queue.
    fn enqueue(&mut self, job: Job) {
        self.queued_keys.insert(job.key.clone());
        self.queue.push(job);
    }

    fn publish(&mut self, now: Instant) {
        let status = BudgetStatus {
            endpoints: Endpoint::ALL
                .iter()
                .map(|e| {
                    let b = &self.budgets[e];
                    EndpointBudget {
                        endpoint: *e,
                        windows: b.status(now),
                        paused_for: b.paused_for(now),
                        calls: b.calls,
                        throttled: b.throttled,
                        paused_total: b.paused_total,
                    }
                })
                .collect(),
            queued: self.queue.len(),
            // Not `running`: a stopped call's task stays there until it is joined.
            in_flight: self.in_flight.len(),
            shared: self.shared.as_ref().and_then(|s| s.ledger.status()),
        };
        if self.published.as_ref() != Some(&status) {
            let _ = self.events.send(FetchEvent::Budget(status.clone()));
            self.published = Some(status);
        }
    }
}

/// What the cache did for a request.
enum Served {
    /// A fresh answer: nothing more to do.
    Fresh,
    /// A stale answer: a refresh follows.
    Stale,
}

/// Puts the calls of the last hour (this tenant, any process, earlier runs included) back on
/// the books, so a restart does not overspend the hourly window.
fn remember_recent_calls(
    memory: &dyn Memory,
    budgets: &mut HashMap<Endpoint, Budget>,
    config: &SchedulerConfig,
) {
    let horizon = config.limits.horizon() + config.slack;
    let (now, wall) = (Instant::now(), Utc::now());
    let since = wall - chrono::Duration::from_std(horizon).unwrap_or(chrono::Duration::hours(1));
    let calls = memory.calls_since(since);
    for (endpoint, at) in &calls {
        let ago = (wall - *at).to_std().unwrap_or(Duration::ZERO);
        // Right after boot the monotonic clock may not reach back that far: such a call is
        // counted as made at the earliest instant we can name.
        let instant = now.checked_sub(ago).unwrap_or(now);
        if let Some(b) = budgets.get_mut(endpoint) {
            b.remember(instant);
        }
    }
    if !calls.is_empty() {
        tracing::info!(
            calls = calls.len(),
            "budget: remembered calls from the last hour"
        );
    }
}
