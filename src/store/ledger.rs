//! The local database as a [`Ledger`]: every process of one user on one data directory (a
//! console and an `expand`, say) admits its calls against the same books, live, each decision
//! one SQLite write transaction, so two processes cannot both take the last call of a window.
//!
//! The clock is the wall clock in milliseconds, read inside the transaction: all processes are
//! on one machine, and a time read before the write lock was won could be older than a row
//! another process wrote meanwhile.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use rusqlite::{OptionalExtension as _, Transaction, TransactionBehavior, params};
use tokio::time::Instant;

use super::{Store, StoreError};
use crate::defender::Endpoint;
use crate::fetch::policy::BudgetPolicy;
use crate::fetch::status::WindowStatus;
use crate::fetch::{
    Ask, Backend, Ledger, LedgerFuture, Link, SharedEndpoint, SharedStatus, Verdict,
};

/// A process seen this recently counts as a console sharing the budget.
const CONSOLE_SEEN_MS: i64 = 5 * 60 * 1000;
/// Rows of processes not seen for this long are removed.
const PROCESS_FORGET_MS: i64 = 60 * 60 * 1000;
/// `touch` writes at most this often.
const TOUCH_EVERY_MS: i64 = 1000;

/// The shared books on the local database. Cheap to clone.
#[derive(Clone)]
pub struct StoreLedger {
    core: Arc<Core>,
}

struct Core {
    /// A connection of its own, never the journal's: decisions do not queue behind writes.
    store: Mutex<Store>,
    scope: String,
    /// Random per ledger: the member prefix, and this process's row in `processes`.
    process: String,
    policy: BudgetPolicy,
    seen: Mutex<Seen>,
    /// A database error was logged and not yet followed by a success.
    failing: AtomicBool,
    last_touch_ms: AtomicI64,
}

/// The books as the last decision read them: enough to count every window at any later time
/// without asking the database (counts fall as calls leave their windows).
#[derive(Debug, Default)]
struct Seen {
    /// Whether that decision reached the database.
    ok: bool,
    consoles: u32,
    /// Per endpoint, admission times (ms) within the longest reach, and a pause's end.
    endpoints: Vec<(Endpoint, Vec<i64>, Option<i64>)>,
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn span(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}

impl StoreLedger {
    /// A ledger on `store` (a connection of its own: [`Store::reopen`]) for `scope`, the
    /// tenant's [`Settings::scope`](crate::config::Settings::scope): two tenants never share
    /// a budget. Registers this process at once, so other consoles count it.
    pub fn new(store: Store, scope: String, policy: BudgetPolicy) -> Self {
        let ledger = Self {
            core: Arc::new(Core {
                store: Mutex::new(store),
                scope,
                process: format!("{:016x}", fastrand::u64(..)),
                policy,
                seen: Mutex::new(Seen::default()),
                failing: AtomicBool::new(false),
                last_touch_ms: AtomicI64::new(i64::MIN),
            }),
        };
        ledger.core.settle(ledger.core.touch_with(now_ms));
        ledger
    }

    /// Opens the database at `path` for a ledger of its own (what a second process does).
    pub fn open(path: &Path, scope: String, policy: BudgetPolicy) -> Result<Self, StoreError> {
        Ok(Self::new(Store::open(path)?.store, scope, policy))
    }

    /// This ledger's process id, as its rows carry it.
    pub fn process(&self) -> &str {
        &self.core.process
    }

    /// [`Ledger::admit`] on this thread at the given time (ms since the epoch) instead of the
    /// wall clock: for tests, which must not wait for windows to pass. Errors are returned,
    /// not forgiven.
    pub fn admit_at(&self, ask: Ask, now_ms: i64) -> rusqlite::Result<Verdict> {
        self.core.admit_with(ask, || now_ms)
    }

    /// [`Ledger::take_back`] on this thread at the given time, as [`StoreLedger::admit_at`].
    pub fn take_back_at(
        &self,
        endpoint: Endpoint,
        seq: u64,
        pause: Option<Duration>,
        now_ms: i64,
    ) -> rusqlite::Result<()> {
        self.core.take_back_with(endpoint, seq, pause, || now_ms)
    }

    /// [`Ledger::status`] as of the given time.
    pub fn status_at(&self, now_ms: i64) -> SharedStatus {
        self.core.status_at(now_ms)
    }

    /// Says this process is alive (for the consoles count) without a decision; writes at most
    /// once a second, so an idle console may call it on every tick it already has.
    pub fn touch(&self) -> LedgerFuture<()> {
        let now = now_ms();
        let last = self.core.last_touch_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < TOUCH_EVERY_MS {
            return Box::pin(std::future::ready(()));
        }
        let core = self.core.clone();
        Box::pin(async move {
            let done = tokio::task::spawn_blocking({
                let core = core.clone();
                move || core.touch_with(now_ms)
            })
            .await;
            core.settle_joined(done);
        })
    }
}

impl Core {
    fn lock_store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn member(&self, seq: u64) -> String {
        format!("{}:{seq}", self.process)
    }

    /// The longest a row counts against any window: older rows are of no use.
    fn horizon_ms(&self) -> i64 {
        self.policy
            .limits
            .0
            .iter()
            .map(|w| ms(self.policy.reach(w.window)))
            .max()
            .unwrap_or(0)
    }

    /// One decision, one `BEGIN IMMEDIATE` transaction: the write lock is taken before the
    /// first read, so no other process decides between our count and our insert.
    fn admit_with(&self, ask: Ask, clock: impl FnOnce() -> i64) -> rusqlite::Result<Verdict> {
        let mut store = self.lock_store();
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = clock();
        let verdict = self.decide(&tx, ask, now)?;
        self.touch_in(&tx, now)?;
        let seen = self.read_seen(&tx, now)?;
        tx.commit()?;
        self.keep(seen, now);
        Ok(verdict)
    }

    fn decide(&self, tx: &Transaction<'_>, ask: Ask, now: i64) -> rusqlite::Result<Verdict> {
        let endpoint = ask.endpoint.stable_name();
        let scope = self.scope.as_str();
        let paused: Option<i64> = tx
            .prepare_cached(
                "SELECT until_ms FROM pauses WHERE scope = ?1 AND endpoint = ?2 AND until_ms > ?3",
            )?
            .query_row(params![scope, endpoint, now], |r| r.get(0))
            .optional()?;
        if let Some(until) = paused {
            return Ok(Verdict::Paused(span(until - now)));
        }
        let member = self.member(ask.seq);
        let known = tx
            .prepare_cached(
                "SELECT 1 FROM admissions WHERE scope = ?1 AND endpoint = ?2 AND member = ?3",
            )?
            .exists(params![scope, endpoint, member])?;
        if known {
            // A retry of a call already on the books (after a timeout): it counts once.
            return Ok(Verdict::Admitted);
        }
        // Trim before counting: rows past every window would only refuse calls for nothing.
        tx.prepare_cached(
            "DELETE FROM admissions WHERE scope = ?1 AND endpoint = ?2 AND at_ms <= ?3",
        )?
        .execute(params![scope, endpoint, now - self.horizon_ms()])?;

        let reserve = self.policy.reserve_for(ask.priority);
        let mut free_at: Option<i64> = None;
        for w in &self.policy.limits.0 {
            let reach = ms(self.policy.reach(w.window));
            let allowed = i64::from(w.allowed(reserve));
            let used: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM admissions
                     WHERE scope = ?1 AND endpoint = ?2 AND at_ms > ?3",
                )?
                .query_row(params![scope, endpoint, now - reach], |r| r.get(0))?;
            if used >= allowed {
                // Room comes when the allowed-th newest call leaves this window.
                let leaving: i64 = tx
                    .prepare_cached(
                        "SELECT at_ms FROM admissions WHERE scope = ?1 AND endpoint = ?2
                         ORDER BY at_ms DESC LIMIT 1 OFFSET ?3",
                    )?
                    .query_row(params![scope, endpoint, allowed - 1], |r| r.get(0))?;
                free_at = free_at.max(Some(leaving + reach));
            }
        }
        if let Some(at) = free_at {
            return Ok(Verdict::Wait(span(at - now)));
        }
        tx.prepare_cached(
            "INSERT INTO admissions (scope, endpoint, member, at_ms) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![scope, endpoint, member, now])?;
        Ok(Verdict::Admitted)
    }

    /// Takes the call off the books and, for a 429, pauses the endpoint for everyone, keeping
    /// a later pause already set: all in one transaction.
    fn take_back_with(
        &self,
        endpoint: Endpoint,
        seq: u64,
        pause: Option<Duration>,
        clock: impl FnOnce() -> i64,
    ) -> rusqlite::Result<()> {
        let mut store = self.lock_store();
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = clock();
        let name = endpoint.stable_name();
        tx.prepare_cached(
            "DELETE FROM admissions WHERE scope = ?1 AND endpoint = ?2 AND member = ?3",
        )?
        .execute(params![self.scope, name, self.member(seq)])?;
        if let Some(d) = pause {
            tx.prepare_cached(
                "INSERT INTO pauses (scope, endpoint, until_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope, endpoint) DO UPDATE
                 SET until_ms = max(until_ms, excluded.until_ms)",
            )?
            .execute(params![self.scope, name, now.saturating_add(ms(d))])?;
        }
        self.touch_in(&tx, now)?;
        let seen = self.read_seen(&tx, now)?;
        tx.commit()?;
        self.keep(seen, now);
        Ok(())
    }

    fn touch_with(&self, clock: impl FnOnce() -> i64) -> rusqlite::Result<()> {
        let mut store = self.lock_store();
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = clock();
        self.touch_in(&tx, now)?;
        let seen = self.read_seen(&tx, now)?;
        tx.commit()?;
        self.keep(seen, now);
        Ok(())
    }

    fn touch_in(&self, tx: &Transaction<'_>, now: i64) -> rusqlite::Result<()> {
        tx.prepare_cached(
            "INSERT INTO processes (scope, process, seen_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope, process) DO UPDATE SET seen_ms = max(seen_ms, excluded.seen_ms)",
        )?
        .execute(params![self.scope, self.process, now])?;
        // Housekeeping that keeps the small tables small; the indexes make both cheap.
        tx.prepare_cached("DELETE FROM processes WHERE scope = ?1 AND seen_ms <= ?2")?
            .execute(params![self.scope, now - PROCESS_FORGET_MS])?;
        tx.prepare_cached("DELETE FROM pauses WHERE scope = ?1 AND until_ms <= ?2")?
            .execute(params![self.scope, now])?;
        Ok(())
    }

    /// Every endpoint's rows and pause, and the consoles, as of `now`.
    fn read_seen(&self, tx: &Transaction<'_>, now: i64) -> rusqlite::Result<Seen> {
        let horizon = self.horizon_ms();
        let consoles: i64 = tx
            .prepare_cached("SELECT count(*) FROM processes WHERE scope = ?1 AND seen_ms > ?2")?
            .query_row(params![self.scope, now - CONSOLE_SEEN_MS], |r| r.get(0))?;
        let mut endpoints = Vec::with_capacity(Endpoint::ALL.len());
        for endpoint in Endpoint::ALL {
            let name = endpoint.stable_name();
            let times = tx
                .prepare_cached(
                    "SELECT at_ms FROM admissions WHERE scope = ?1 AND endpoint = ?2 AND at_ms > ?3
                     ORDER BY at_ms",
                )?
                .query_map(params![self.scope, name, now - horizon], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            let pause: Option<i64> = tx
                .prepare_cached(
                    "SELECT until_ms FROM pauses
                     WHERE scope = ?1 AND endpoint = ?2 AND until_ms > ?3",
                )?
                .query_row(params![self.scope, name, now], |r| r.get(0))
                .optional()?;
            endpoints.push((endpoint, times, pause));
        }
        Ok(Seen {
            ok: true,
            consoles: u32::try_from(consoles).unwrap_or(u32::MAX).max(1),
            endpoints,
        })
    }

    fn keep(&self, seen: Seen, now: i64) {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = seen;
        self.last_touch_ms.fetch_max(now, Ordering::Relaxed);
    }

    /// A decision that failed on the database is decided as if this process were alone (the
    /// caller admits; the actor's own budget still holds this process to the limits): a broken
    /// disk must never stop the analyst. Said once until the database answers again.
    fn settle<T>(&self, result: rusqlite::Result<T>) -> Option<T> {
        match result {
            Ok(v) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("the shared budget in the local database works again");
                }
                Some(v)
            }
            Err(e) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %super::describe(&e),
                        "the shared budget in the local database failed; deciding alone"
                    );
                }
                self.seen.lock().unwrap_or_else(|p| p.into_inner()).ok = false;
                None
            }
        }
    }

    fn settle_joined<T>(
        &self,
        joined: Result<rusqlite::Result<T>, tokio::task::JoinError>,
    ) -> Option<T> {
        match joined {
            Ok(result) => self.settle(result),
            Err(e) => {
                tracing::warn!(error = %e, "a shared budget decision did not finish; deciding alone");
                None
            }
        }
    }

    fn status_at(&self, now: i64) -> SharedStatus {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let instant_now = Instant::now();
        SharedStatus {
            backend: Backend::Local,
            link: if seen.ok {
                Link::Connected
            } else {
                Link::Unreachable { share_of: 1 }
            },
            consoles: seen.consoles.max(1),
            endpoints: seen
                .endpoints
                .iter()
                .map(|(endpoint, times, pause)| SharedEndpoint {
                    endpoint: *endpoint,
                    windows: self
                        .policy
                        .limits
                        .0
                        .iter()
                        .map(|w| {
                            let from = now - ms(self.policy.reach(w.window));
                            let first = times.partition_point(|t| *t <= from);
                            WindowStatus {
                                limit: w.limit,
                                window: w.window,
                                used: u32::try_from(times.len() - first).unwrap_or(u32::MAX),
                            }
                        })
                        .collect(),
                    paused_until: pause
                        .filter(|u| *u > now)
                        .map(|u| instant_now + span(u - now)),
                })
                .collect(),
        }
    }
}

impl Ledger for StoreLedger {
    fn admit(&self, ask: Ask) -> LedgerFuture<Verdict> {
        let core = self.core.clone();
        Box::pin(async move {
            let joined = tokio::task::spawn_blocking({
                let core = core.clone();
                move || core.admit_with(ask, now_ms)
            })
            .await;
            core.settle_joined(joined).unwrap_or(Verdict::Admitted)
        })
    }

    fn take_back(&self, endpoint: Endpoint, seq: u64, pause: Option<Duration>) -> LedgerFuture<()> {
        let core = self.core.clone();
        Box::pin(async move {
            let joined = tokio::task::spawn_blocking({
                let core = core.clone();
                move || core.take_back_with(endpoint, seq, pause, now_ms)
            })
            .await;
            core.settle_joined(joined);
        })
    }

    fn status(&self) -> Option<SharedStatus> {
        Some(self.core.status_at(now_ms()))
    }
}
