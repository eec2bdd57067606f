//! Where admission decisions are made when this process is not the only one spending the
//! budget: the team's shared log on Redis, or the local database that the processes of one
//! user share. One question (may a call of this lane start on this endpoint now?), one
//! answer, whatever the backend; the scheduler's actor asks it before every call.
//!
//! Without a ledger the actor decides alone on its own [`Budget`](super::budget::Budget),
//! as it always did: that is what the paused-clock tests drive.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::status::{Priority, SharedStatus};
use crate::defender::{Endpoint, FetchKey, FetchValue};
use chrono::{DateTime, Utc};

/// A future a ledger hands the actor; it runs on a task of its own.
pub type LedgerFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One admission question. `seq` is unique within this process and stays the same when the
/// same call is asked about again (after a timeout, say), so the shared log can tell a retry
/// from a second call and never counts one call twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    pub endpoint: Endpoint,
    pub priority: Priority,
    pub seq: u64,
}

/// The ledger's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The call is on the shared books: send it now.
    Admitted,
    /// Not now: ask again after this long (when the fullest window at this lane's level has
    /// room, as far as the ledger knows).
    Wait(Duration),
    /// The endpoint is paused for everyone sharing the budget (a 429 somewhere), this long.
    Paused(Duration),
}

/// What a shared cache says about a key before anyone spends a call on it.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// An answer someone fetched at `at`: serve it, no call.
    Hit(FetchValue, DateTime<Utc>),
    /// Nobody has it and nobody is fetching it: fetch it; others asking now wait for us.
    Yours,
    /// Someone else is fetching it: look again after this long.
    Busy(Duration),
}

/// A backend the actor asks. Methods return futures so the actor's loop never waits on a
/// network or a disk: it goes on with other work while a decision is out.
pub trait Ledger: Send + Sync + 'static {
    /// May the call start now? Admitted calls are on the shared books from this moment.
    fn admit(&self, ask: Ask) -> LedgerFuture<Verdict>;

    /// The admitted call `seq` did not count: never sent (`pause: None`), or refused by the
    /// API with a 429 (`pause: Some`), which also pauses `endpoint` for everyone for that long.
    fn take_back(&self, endpoint: Endpoint, seq: u64, pause: Option<Duration>) -> LedgerFuture<()>;

    /// Whether [`Ledger::lookup`] means anything: a shared cache with an in-flight lock.
    fn shares_answers(&self) -> bool {
        false
    }

    /// The shared cache's answer for `key` fetched at or after `fresh_after` (`None`: any
    /// age), or the right to fetch it. Called before the first call of a job.
    fn lookup(&self, _key: &FetchKey, _fresh_after: Option<DateTime<Utc>>) -> LedgerFuture<Lookup> {
        Box::pin(std::future::ready(Lookup::Yours))
    }

    /// Puts the answer we fetched (after [`Lookup::Yours`]) in the shared cache for `ttl`, and
    /// lets go of the in-flight lock.
    fn share(
        &self,
        _key: &FetchKey,
        _value: &FetchValue,
        _at: DateTime<Utc>,
        _ttl: Duration,
    ) -> LedgerFuture<()> {
        Box::pin(std::future::ready(()))
    }

    /// Lets go of the in-flight lock without an answer (the fetch failed or was dropped).
    fn release(&self, _key: &FetchKey) -> LedgerFuture<()> {
        Box::pin(std::future::ready(()))
    }

    /// What the ledger knows of the shared budget now, for the status bar and the budget view.
    fn status(&self) -> Option<SharedStatus> {
        None
    }

    /// Changes of [`Ledger::status`] that happen without the actor asking (another process
    /// spent calls, the connection dropped): the actor republishes on each.
    fn watch(&self) -> Option<tokio::sync::watch::Receiver<()>> {
        None
    }
}
