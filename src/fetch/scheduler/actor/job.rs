//! A job: one logical request as the actor carries it through the queue, the shared books and
//! the wire, with what its calls so far have given.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::shared::Claim;
use super::slots::{Stopped, Wire};
use crate::defender::{Call, FetchKey, FetchValue};
use crate::fetch::status::{Priority, Ticket};

/// One logical request, possibly many calls (pages, retries).
#[derive(Debug)]
pub(super) struct Job {
    pub(super) key: FetchKey,
    pub(super) call: Call,
    pub(super) waiters: Vec<Ticket>,
    pub(super) priority: Priority,
    /// Arrival order, for FIFO within a priority.
    pub(super) seq: u64,
    /// Transient failures so far.
    pub(super) failures: u32,
    /// Backoff: not before this instant.
    pub(super) not_before: Option<Instant>,
    /// When the current call was sent, on both clocks (the wall one for the call log).
    pub(super) sent_at: Option<(Instant, DateTime<Utc>)>,
    /// The task carrying the current call, so the slot can be taken back and a late answer
    /// from a call stopped that way told apart from the answer to the job's next call.
    pub(super) task: Option<Wire>,
    /// The call the slot rule stopped after it had left, while the job waits to go again:
    /// its answer may still land, and is then the job's (`Actor::landed_late`).
    pub(super) stopped: Option<Stopped>,
    /// Pages joined so far.
    pub(super) acc: Option<FetchValue>,
    /// Next links followed, so a link back to one of them ends the walk.
    pub(super) seen_links: HashSet<String>,
    /// Whether a 401 already had its one retry with a fresh token.
    pub(super) renewed: bool,
    /// The current call's number on the shared books, from its first question to the ledger
    /// until it is answered, so asking again cannot count it twice.
    pub(super) call_seq: Option<u64>,
    /// Where the job stands with the shared cache.
    pub(super) claim: Claim,
    /// The analyst asked for a fresh answer (`r`).
    pub(super) refresh: bool,
    /// When the job was asked for: an answer fetched since serves a refresh.
    pub(super) asked_at: DateTime<Utc>,
}
