//! The scheduler task: one owner of the queue, the budgets and the calls in flight. It wakes
//! only for a command, a finished call, or the next instant something can change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::{Command, FetchEvent, FetchRequest, SchedulerConfig};
use crate::defender::{ApiError, Call, Endpoint, ErrorKind, FetchKey, FetchValue, Page, Transport};
use crate::fetch::budget::Budget;
use crate::fetch::status::{BudgetStatus, EndpointBudget, Priority, Ticket};

/// One logical request, possibly many calls (pages, retries).
#[derive(Debug)]
struct Job {
    key: FetchKey,
    call: Call,
    waiters: Vec<Ticket>,
    priority: Priority,
    /// Arrival order, for FIFO within a priority.
    seq: u64,
    /// Transient failures so far.
    failures: u32,
    /// Backoff: not before this instant.
    not_before: Option<Instant>,
    /// When the current call was sent.
    sent_at: Option<Instant>,
    /// Pages joined so far.
    acc: Option<FetchValue>,
    pages: usize,
    seen_links: HashSet<String>,
}

pub(super) struct Actor {
    transport: Arc<dyn Transport>,
    config: SchedulerConfig,
    budgets: HashMap<Endpoint, Budget>,
    queue: Vec<Job>,
    /// Keys in `queue`, so a new request finds out in O(1) that it coalesces with nothing.
    queued_keys: HashSet<FetchKey>,
    in_flight: HashMap<FetchKey, Job>,
    running: JoinSet<(FetchKey, Result<Page, ApiError>)>,
    events: mpsc::UnboundedSender<FetchEvent>,
    seq: u64,
    published: Option<BudgetStatus>,
}

impl Actor {
    pub(super) fn new(
        transport: Arc<dyn Transport>,
        config: SchedulerConfig,
        events: mpsc::UnboundedSender<FetchEvent>,
    ) -> Self {
        let budgets = Endpoint::ALL
            .iter()
            .map(|e| {
                (
                    *e,
                    Budget::new(config.limits.clone()).with_slack(config.slack),
                )
            })
            .collect();
        Self {
            transport,
            config,
            budgets,
            queue: Vec::new(),
            queued_keys: HashSet::new(),
            in_flight: HashMap::new(),
            running: JoinSet::new(),
            events,
            seq: 0,
            published: None,
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut open = true;
        loop {
            let now = Instant::now();
            self.dispatch(now);
            self.publish(now);
            if !open && self.queue.is_empty() && self.running.is_empty() {
                break;
            }
            let wake = self.next_wake(now);
            tokio::select! {
                biased;
                cmd = commands.recv(), if open => match cmd {
                    Some(Command::Request(r)) => self.request(r),
                    Some(Command::Cancel(t)) => self.cancel(t),
                    Some(Command::Reprioritize(t, p)) => self.reprioritize(t, p),
                    None => open = false,
                },
                Some(done) = self.running.join_next(), if !self.running.is_empty() => match done {
                    Ok((key, result)) => self.finished(key, result, Instant::now()),
                    // A panicking transport is a bug: let it take the scheduler down loudly.
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => {}
                },
                () = sleep_until(wake) => {}
            }
        }
    }

    fn request(&mut self, r: FetchRequest) {
        let queued = self.queued_keys.contains(&r.key);
        let existing = self.in_flight.get_mut(&r.key).or_else(|| {
            queued
                .then(|| self.queue.iter_mut().find(|j| j.key == r.key))
                .flatten()
        });
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
            acc: None,
            pages: 0,
            seen_links: HashSet::new(),
        });
    }

    fn cancel(&mut self, ticket: Ticket) {
        for job in self.queue.iter_mut().chain(self.in_flight.values_mut()) {
            job.waiters.retain(|t| *t != ticket);
        }
        // Queued work nobody waits for is dropped; a call in flight finishes and is discarded.
        self.queue.retain(|j| !j.waiters.is_empty());
        self.queued_keys = self.queue.iter().map(|j| j.key.clone()).collect();
    }

    fn reprioritize(&mut self, ticket: Ticket, priority: Priority) {
        for job in self.queue.iter_mut().chain(self.in_flight.values_mut()) {
            if !job.waiters.contains(&ticket) {
                continue;
            }
            if priority > job.priority || job.waiters == [ticket] {
                // In flight, the priority still matters for its next page or retry.
                job.priority = priority;
            }
        }
    }

    fn reserve_for(&self, priority: Priority) -> f64 {
        if priority >= Priority::Visible {
            0.0
        } else {
            self.config.reserve
        }
    }

    /// When work of `priority` could start on `endpoint`, as far as the budget goes.
    fn free_at(&self, endpoint: Endpoint, priority: Priority, now: Instant) -> Instant {
        self.budgets[&endpoint].next_free_at(now, self.reserve_for(priority))
    }

    /// The budget's answer for every endpoint and reserve class, computed once per decision
    /// instead of once per queued job: the queue can hold thousands of batch requests.
    fn free_table(&self, now: Instant) -> FreeTable {
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

    /// Starts the best startable jobs: highest priority, then oldest; a full or paused endpoint
    /// never blocks the others.
    fn dispatch(&mut self, now: Instant) {
        while self.running.len() < self.config.max_in_flight && !self.queue.is_empty() {
            let free = self.free_table(now);
            let best = self
                .queue
                .iter()
                .enumerate()
                .filter(|(_, j)| free.ready_at(j) <= now)
                .max_by_key(|(_, j)| (j.priority, std::cmp::Reverse(j.seq)))
                .map(|(i, _)| i);
            let Some(i) = best else { break };
            let mut job = self.queue.swap_remove(i);
            self.queued_keys.remove(&job.key);
            if let Some(b) = self.budgets.get_mut(&job.key.endpoint()) {
                b.record(now);
            }
            job.sent_at = Some(now);
            let (key, call, transport) =
                (job.key.clone(), job.call.clone(), self.transport.clone());
            self.running
                .spawn(async move { (key, transport.call(call).await) });
            self.in_flight.insert(job.key.clone(), job);
        }
    }

    /// Puts a job (back) in the queue.
    fn enqueue(&mut self, job: Job) {
        self.queued_keys.insert(job.key.clone());
        self.queue.push(job);
    }

    fn finished(&mut self, key: FetchKey, result: Result<Page, ApiError>, now: Instant) {
        let Some(mut job) = self.in_flight.remove(&key) else {
            return;
        };
        if job.waiters.is_empty() {
            return; // everyone moved on
        }
        match result {
            Ok(page) => {
                let value = match job.acc.take() {
                    Some(mut acc) => {
                        acc.append(page.value);
                        acc
                    }
                    None => page.value,
                };
                job.pages += 1;
                match page.next_link {
                    Some(link)
                        if job.pages < self.config.max_pages
                            && job.seen_links.insert(link.clone()) =>
                    {
                        job.acc = Some(value);
                        job.call = Call {
                            key: job.key.clone(),
                            next_link: Some(link),
                        };
                        job.failures = 0;
                        self.enqueue(job);
                    }
                    Some(_) => {
                        tracing::warn!(%key, pages = job.pages, "stopped following next-page links (cap or loop)");
                        self.complete(job, Ok(value));
                    }
                    None => self.complete(job, Ok(value)),
                }
            }
            Err(e) if e.kind == ErrorKind::Throttled => {
                let budget = self
                    .budgets
                    .get_mut(&key.endpoint())
                    .expect("every endpoint has a budget");
                let pause = e.retry_after.filter(|d| !d.is_zero()).unwrap_or_else(|| {
                    budget
                        .wait_for_room(now)
                        .max(self.config.min_throttle_pause)
                });
                tracing::info!(%key, secs = pause.as_secs_f64(), "429: pausing endpoint");
                budget.pause(now, now + pause);
                if let Some(at) = job.sent_at {
                    budget.unrecord(at);
                }
                self.enqueue(job); // a 429 is not a failed attempt; it waits its turn
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
            Err(e) => self.complete(job, Err(e)),
        }
    }

    /// Sends the answer to every waiting ticket.
    fn complete(&mut self, job: Job, result: Result<FetchValue, ApiError>) {
        let at = chrono::Utc::now();
        for ticket in job.waiters {
            let _ = self.events.send(FetchEvent::Done {
                key: job.key.clone(),
                ticket,
                result: result.clone(),
                at,
            });
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

    fn next_wake(&self, now: Instant) -> Option<Instant> {
        let free = self.free_table(now);
        let job_ready = self.queue.iter().map(|j| free.ready_at(j)).min();
        let window_change = self
            .budgets
            .values()
            .filter_map(|b| b.next_change(now))
            .min();
        // While paused, tick each second so the countdown moves.
        let countdown = self
            .budgets
            .values()
            .any(|b| b.paused(now))
            .then(|| now + Duration::from_secs(1));
        [job_ready, window_change, countdown]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .min()
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
            in_flight: self.running.len(),
        };
        if self.published.as_ref() != Some(&status) {
            let _ = self.events.send(FetchEvent::Budget(status.clone()));
            self.published = Some(status);
        }
    }
}

/// Per endpoint: when the analyst's work and when reserved work may next start.
#[derive(Default)]
struct FreeTable(Vec<(Endpoint, Instant, Instant)>);

impl FreeTable {
    /// When `job` could start, given its backoff and its endpoint's budget.
    fn ready_at(&self, job: &Job) -> Instant {
        let endpoint = job.key.endpoint();
        let (_, analyst, reserved) = self
            .0
            .iter()
            .find(|(e, ..)| *e == endpoint)
            .copied()
            .expect("every endpoint is in the table");
        let free = if job.priority >= Priority::Visible {
            analyst
        } else {
            reserved
        };
        job.not_before.map_or(free, |nb| nb.max(free))
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
