//! The scheduler's interface: requests in, events out. The task itself is in `actor`.

mod actor;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::cache::{CachePolicy, CacheUse, Memory, Origin};
use super::limits::RateLimits;
use super::status::{BudgetStatus, Priority, Ticket};
use crate::defender::{ApiError, FetchKey, FetchValue, Transport};

/// Tuning knobs; defaults follow DESIGN.md section 4.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Per-endpoint windows.
    pub limits: RateLimits,
    /// Requests on the wire at once, all endpoints together. Every lane may use every slot,
    /// and the analyst never waits behind a call that hangs: when all are taken, a job whose
    /// budget allows it to start takes a slot back at once, from (1) a call nobody waits for
    /// any more (cancelled: its answer would be thrown away), else, for Visible and Foreground
    /// work only, (2) a call of a strictly lower lane, the lowest lane first and the oldest
    /// call within it. The stopped call stays spent in the budget (it was sent; one stopped
    /// before its task ever ran is taken back) and its job goes back to its place in the
    /// queue, to be sent again; an answer the stopped call still brings back before then is
    /// the job's, so a call is never made twice for it. So Foreground work starts at
    /// once unless every slot holds Foreground work someone still waits for (a lookup the
    /// analyst left is lowered or cancelled, so it gives way), and Visible (what is on
    /// screen) never waits behind guesswork. No slot is kept idle for the analyst: `expand`
    /// (Batch only) runs on all of them, and a lookup during one costs at most one re-sent
    /// Batch call per slot it takes. Prefetch never stops Batch: neither is awaited.
    pub max_in_flight: usize,
    /// Most pages followed for one key (`@odata.nextLink`): thousands of alerts, and a bound on
    /// what an endless chain of links can spend. A list cut there says so ([`Cut::PageCap`]).
    ///
    /// [`Cut::PageCap`]: crate::defender::Cut::PageCap
    pub max_pages: usize,
    /// Attempts for transient failures (5xx, timeouts, network), the first included.
    pub max_attempts: u32,
    /// Share of each window that Prefetch and Batch work leave for the analyst.
    pub reserve: f64,
    /// Backoff before the first retry; doubles per attempt, jittered, capped at `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Shortest pause after a 429 that names no `Retry-After`.
    pub min_throttle_pause: Duration,
    /// Longest margin a call stays counted past its window (1% of the window up to this), so
    /// jitter between our clock and the server's cannot make two windows overlap there.
    pub slack: Duration,
    /// Cache freshness, `--no-cache` and `--offline`; used only with a [`Memory`].
    pub cache: CachePolicy,
    /// The clock answers are dated by and findbyip's window is judged by (the system's but in
    /// tests that run a day of their choosing).
    pub wall: crate::clock::Wall,
}

impl SchedulerConfig {
    /// The budget policy these settings make: every place that admits or plans calls reads it.
    pub fn policy(&self) -> crate::fetch::BudgetPolicy {
        crate::fetch::BudgetPolicy {
            limits: self.limits.clone(),
            reserve: self.reserve,
            slack: self.slack,
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            limits: RateLimits::default(),
            max_in_flight: 4,
            max_pages: 50,
            max_attempts: 3,
            reserve: 0.2,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            min_throttle_pause: Duration::from_secs(5),
            slack: Duration::from_millis(200),
            cache: CachePolicy::default(),
            wall: crate::clock::Wall::system(),
        }
    }
}

/// Ask for `key` on behalf of `ticket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub key: FetchKey,
    pub ticket: Ticket,
    pub priority: Priority,
    pub cache: CacheUse,
}

impl FetchRequest {
    pub fn new(key: FetchKey, ticket: Ticket, priority: Priority) -> Self {
        Self {
            key,
            ticket,
            priority,
            cache: CacheUse::Prefer,
        }
    }

    /// Asks the API even when the cache has a fresh answer.
    pub fn refresh(mut self) -> Self {
        self.cache = CacheUse::Refresh;
        self
    }
}

/// What the scheduler tells its owner.
#[derive(Debug, Clone)]
pub enum FetchEvent {
    /// An answer for one waiting ticket (one event per coalesced ticket). Final, unless
    /// `origin` is a stale cached answer being refreshed: then another `Done` follows.
    Done {
        key: FetchKey,
        ticket: Ticket,
        result: Result<FetchValue, ApiError>,
        /// When the answer was fetched from the API (long ago, for a cached one).
        at: DateTime<Utc>,
        origin: Origin,
    },
    /// A transient failure; attempt number `attempt` (of `max` allowed) comes after a backoff.
    Retrying {
        key: FetchKey,
        attempt: u32,
        max: u32,
        error: ApiError,
    },
    /// The budget changed (a call started or left a window, a pause began or ticked).
    Budget(BudgetStatus),
}

/// Cheap to clone; the scheduler stops when every handle is dropped.
#[derive(Debug, Clone)]
pub struct FetchHandle {
    tx: mpsc::UnboundedSender<Command>,
}

#[derive(Debug)]
pub(super) enum Command {
    Request(FetchRequest),
    Cancel(Ticket),
    Reprioritize(Ticket, Priority),
}

impl FetchHandle {
    pub fn request(&self, request: FetchRequest) {
        let _ = self.tx.send(Command::Request(request));
    }

    /// The ticket's owner moved on: drop the ticket, and the call if nobody else waits for it.
    pub fn cancel(&self, ticket: Ticket) {
        let _ = self.tx.send(Command::Cancel(ticket));
    }

    /// The ticket's view came into sight or left it: queued work for it moves to `priority`
    /// (lowered only where no other ticket waits). Never starts work: a ticket already
    /// answered is left alone, so raising costs no duplicate call.
    pub fn reprioritize(&self, ticket: Ticket, priority: Priority) {
        let _ = self.tx.send(Command::Reprioritize(ticket, priority));
    }
}

/// Starts the scheduler task on the current tokio runtime, with no memory between runs.
pub fn spawn(
    transport: Arc<dyn Transport>,
    config: SchedulerConfig,
) -> (FetchHandle, mpsc::UnboundedReceiver<FetchEvent>) {
    spawn_with_memory(transport, config, None)
}

/// Starts the scheduler with a cache and a call log: answers still fresh are served without a
/// call, and the calls of the last hour (any process, same tenant) count against the budget.
pub fn spawn_with_memory(
    transport: Arc<dyn Transport>,
    config: SchedulerConfig,
    memory: Option<Arc<dyn Memory>>,
) -> (FetchHandle, mpsc::UnboundedReceiver<FetchEvent>) {
    spawn_shared(transport, config, memory, None)
}

/// Starts the scheduler with its memory and, with `ledger`, books shared with other processes:
/// every call is admitted by the ledger (the team's Redis, or the local database this user's
/// processes share), and answers are shared through it when it keeps a cache.
pub fn spawn_shared(
    transport: Arc<dyn Transport>,
    config: SchedulerConfig,
    memory: Option<Arc<dyn Memory>>,
    ledger: Option<Arc<dyn crate::fetch::Ledger>>,
) -> (FetchHandle, mpsc::UnboundedReceiver<FetchEvent>) {
    let (tx, commands) = mpsc::unbounded_channel();
    let (events, rx) = mpsc::unbounded_channel();
    tokio::spawn(actor::Actor::new(transport, config, events, memory, ledger).run(commands));
    (FetchHandle { tx }, rx)
}
