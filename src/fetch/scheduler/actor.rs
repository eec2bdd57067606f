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
use crate::defender::{
    ApiError, Call, Cut, Endpoint, ErrorKind, FetchKey, FetchValue, Next, Page, Transport,
};
use crate::fetch::budget::Budget;
use crate::fetch::cache::{self, CacheUse, Memory, Origin};
use crate::fetch::policy::BudgetPolicy;
use crate::fetch::status::{BudgetStatus, EndpointBudget, Priority, Ticket};

mod slots;
use slots::Wire;

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
    /// When the current call was sent, on both clocks (the wall one for the call log).
    sent_at: Option<(Instant, DateTime<Utc>)>,
    /// The task carrying the current call, so the slot can be taken back and a late answer
    /// from a call stopped that way told apart from the answer to the job's next call.
    task: Option<Wire>,
    /// Pages joined so far.
    acc: Option<FetchValue>,
    /// Next links followed, so a link back to one of them ends the walk.
    seen_links: HashSet<String>,
    /// Whether a 401 already had its one retry with a fresh token.
    renewed: bool,
}

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
}

impl Actor {
    pub(super) fn new(
        transport: Arc<dyn Transport>,
        config: SchedulerConfig,
        events: mpsc::UnboundedSender<FetchEvent>,
        memory: Option<Arc<dyn Memory>>,
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
                self.queue.clear();
                self.queued_keys.clear();
            }
            self.dispatch(now);
            self.publish(now);
            if (!open || !listened) && self.queue.is_empty() && self.running.is_empty() {
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
                Some(done) = self.running.join_next_with_id(), if !self.running.is_empty() => match done {
                    Ok((id, (key, result))) if self.is_current(&key, id) => {
                        self.finished(key, result, Instant::now());
                    }
                    // A call stopped to free its slot, that answered before it could be
                    // stopped: its job is queued again (or was dropped), so this is no answer.
                    Ok(_) => {}
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
            self.send_done(r.key, r.ticket, Err(error), Utc::now(), Origin::Network);
            return;
        }
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
            task: None,
            acc: None,
            seen_links: HashSet::new(),
            renewed: false,
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
        let fresh = policy.offline || cache::fresh(policy.ttl.of(r.key.endpoint()), at, Utc::now());
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

    /// When work of `priority` could start on `endpoint`, as far as the budget goes.
    fn free_at(&self, endpoint: Endpoint, priority: Priority, now: Instant) -> Instant {
        self.budgets[&endpoint].next_free_at(now, self.policy.reserve_for(priority))
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
    /// never blocks the others. With every slot taken, the best job may take one back by the
    /// slot rule (`SchedulerConfig::max_in_flight`, `victim`).
    fn dispatch(&mut self, now: Instant) {
        while !self.queue.is_empty() {
            let free = self.free_table(now);
            let best = self
                .queue
                .iter()
                .enumerate()
                .filter(|(_, j)| free.ready_at(j) <= now)
                .max_by_key(|(_, j)| (j.priority, std::cmp::Reverse(j.seq)))
                .map(|(i, _)| i);
            let Some(i) = best else { break };
            if self.in_flight.len() >= self.config.max_in_flight {
                let Some(victim) = self.victim(self.queue[i].priority) else {
                    break; // the best cannot take a slot, so nothing queued can
                };
                self.take_slot(&victim);
            }
            let mut job = self.queue.swap_remove(i);
            self.queued_keys.remove(&job.key);
            if let Some(b) = self.budgets.get_mut(&job.key.endpoint()) {
                b.record(now);
            }
            let wall = Utc::now();
            if let Some(m) = &self.memory {
                m.call(job.key.endpoint(), wall, true);
            }
            job.sent_at = Some((now, wall));
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

    fn finished(&mut self, key: FetchKey, result: Result<Page, ApiError>, now: Instant) {
        let Some(mut job) = self.in_flight.remove(&key) else {
            return;
        };
        if job.waiters.is_empty() {
            return; // everyone moved on
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
                if let Some((at, wall)) = job.sent_at {
                    budget.unrecord(at);
                    if let Some(m) = &self.memory {
                        m.call(key.endpoint(), wall, false);
                    }
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

    /// Sends the answer to every waiting ticket, and keeps a good one for next time.
    fn complete(&mut self, job: Job, result: Result<FetchValue, ApiError>) {
        let at = Utc::now();
        let failed_page = result
            .as_ref()
            .is_ok_and(|v| matches!(v.cut_reason(), Some(Cut::Failed { .. })));
        // A list cut by a failed page is shown, not kept: the next look should try again.
        if let (Some(m), Ok(value), false) = (&self.memory, &result, failed_page) {
            m.remember(&job.key, value, at);
        }
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
            // Not `running`: a stopped call's task stays there until it is joined.
            in_flight: self.in_flight.len(),
            shared: None,
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
        let free = if BudgetPolicy::is_analysts(job.priority) {
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
