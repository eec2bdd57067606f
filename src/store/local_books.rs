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

use super::{Store, StoreError};
use crate::defender::Endpoint;
use crate::fetch::policy::BudgetPolicy;
use crate::fetch::status::WindowStatus;
use crate::fetch::{
    Ask, Backend, Ledger, LedgerFuture, Link, SharedEndpoint, SharedStatus, Verdict,
};

mod books;

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
                    paused_for: pause.filter(|u| *u > now).map(|u| span(u - now)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Priority;

    fn policy(limits: &str, slack_ms: u64) -> BudgetPolicy {
        BudgetPolicy {
            limits: limits.parse().unwrap(),
            reserve: 0.2,
            slack: Duration::from_millis(slack_ms),
        }
    }

    fn ledger(dir: &tempfile::TempDir, p: BudgetPolicy) -> StoreLedger {
        StoreLedger::open(&dir.path().join("t.db"), "s".into(), p).unwrap()
    }

    fn query_only(l: &StoreLedger, on: bool) {
        l.core
            .lock_store()
            .conn
            .pragma_update(None, "query_only", on)
            .unwrap();
    }

    #[test]
    fn a_call_stays_on_the_books_a_margin_past_its_window() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        // 1% of the window, at least 50 ms, never more than the policy's slack.
        assert_eq!(policy("1/10s", 200).reach(s(10)), ms(10_100));
        assert_eq!(policy("1/1s", 200).reach(s(1)), ms(1_050));
        assert_eq!(policy("1/1s", 20).reach(s(1)), ms(1_020));
        assert_eq!(policy("1/1h", 200).reach(s(3600)), s(3600) + ms(200));
        assert_eq!(policy("1/1s", 0).reach(s(1)), s(1));
    }

    #[tokio::test]
    async fn a_broken_database_admits_as_if_alone_and_says_so_until_it_works_again() {
        let dir = tempfile::tempdir().unwrap();
        let l = ledger(&dir, policy("1/1h", 0));
        let ask = |seq| Ask {
            endpoint: Endpoint::IpStats,
            priority: Priority::Batch,
            seq,
        };
        assert_eq!(l.status().unwrap().link, Link::Connected);
        // What a read-only file or a full disk does to every write.
        query_only(&l, true);
        for seq in 0..3 {
            assert_eq!(l.admit(ask(seq)).await, Verdict::Admitted, "never stops");
        }
        l.take_back(Endpoint::IpStats, 0, Some(Duration::from_secs(60)))
            .await;
        assert_eq!(
            l.status().unwrap().link,
            Link::Unreachable { share_of: 1 },
            "the status says this process decides alone"
        );
        query_only(&l, false);
        assert_eq!(l.admit(ask(3)).await, Verdict::Admitted);
        assert!(matches!(l.admit(ask(4)).await, Verdict::Wait(_)));
        let status = l.status().unwrap();
        assert_eq!(status.link, Link::Connected);
        assert_eq!(status.backend, Backend::Local);
        assert!(!l.core.failing.load(Ordering::Relaxed));
    }

    #[tokio::test]
    async fn touch_writes_at_most_once_a_second() {
        let dir = tempfile::tempdir().unwrap();
        let l = ledger(&dir, policy("1/1m", 0));
        let seen = || -> i64 {
            l.core
                .lock_store()
                .conn
                .query_row("SELECT seen_ms FROM processes", [], |r| r.get(0))
                .unwrap()
        };
        l.core
            .lock_store()
            .conn
            .execute("UPDATE processes SET seen_ms = 1", [])
            .unwrap();
        // Touched a moment ago (as far as the ledger knows): no write.
        l.core
            .last_touch_ms
            .store(now_ms() + 10_000, Ordering::Relaxed);
        l.touch().await;
        assert_eq!(seen(), 1);
        // Touched long ago: written.
        l.core.last_touch_ms.store(0, Ordering::Relaxed);
        l.touch().await;
        assert!(seen() > 1);
        assert_eq!(l.status().unwrap().consoles, 1);
    }
}
