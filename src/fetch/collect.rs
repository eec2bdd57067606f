//! One answer loop for callers that ask a fixed set of keys and wait for each final answer
//! (the one-shot commands, `doctor`): the requests sent, the answers read through
//! [`Answers`], and what is not an answer handed to the caller, who may end the wait.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::UnboundedReceiver;

use super::answers::{Answer, Answers, Heard};
use super::cache::Origin;
use super::scheduler::{FetchEvent, FetchHandle, FetchRequest};
use super::status::{Priority, Ticket};
use crate::defender::{ApiError, FetchKey, FetchValue};

/// Every answer asked for, and when the oldest of those served from the cache was fetched.
#[derive(Debug, Default)]
pub struct Collected {
    pub answers: HashMap<FetchKey, Result<FetchValue, ApiError>>,
    pub cached_at: Option<DateTime<Utc>>,
}

impl Collected {
    /// Both collections as one: `more`'s answers added, the older cache age kept.
    pub fn merge(&mut self, more: Collected) {
        self.answers.extend(more.answers);
        self.cached_at = match (self.cached_at, more.cached_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// What the loop met that is not a plain answer, for the caller to say or act on.
#[derive(Debug)]
pub enum Noted<'a> {
    /// The refresh of a stale cached answer failed: the cached answer stands.
    RefreshFailed(&'a FetchKey, &'a ApiError),
    /// A retry or the budget (never a `Done`).
    Event(&'a FetchEvent),
}

/// Asks the scheduler for `keys` at `priority` and waits for each one's final answer. Each
/// aside goes to `on_other`; when it returns an error (a pause longer than the caller will
/// wait), every key still unanswered gets that error and the wait ends.
pub async fn collect(
    fetch: &FetchHandle,
    events: &mut UnboundedReceiver<FetchEvent>,
    keys: Vec<FetchKey>,
    priority: Priority,
    mut on_other: impl FnMut(Noted<'_>) -> Option<ApiError>,
) -> Collected {
    // Asked once each: the same key twice is one answer, and the wait counts answers.
    let mut seen = HashSet::new();
    let keys: Vec<FetchKey> = keys
        .into_iter()
        .filter(|k| seen.insert(k.clone()))
        .collect();
    for (i, key) in keys.iter().enumerate() {
        fetch.request(FetchRequest::new(
            key.clone(),
            Ticket(i as u64 + 1),
            priority,
        ));
    }
    let mut out = Collected::default();
    let mut protocol = Answers::new();
    while out.answers.len() < keys.len() {
        let Some(event) = events.recv().await else {
            break;
        };
        let give_up = match protocol.take(event) {
            Heard::Answer(Answer {
                key,
                result,
                refresh_failed: Some(e),
                ..
            }) => {
                let said = on_other(Noted::RefreshFailed(&key, &e));
                // A late answer of an earlier round (after a long pause ended it) is not ours.
                if keys.contains(&key) {
                    out.answers.insert(key, result);
                }
                said
            }
            Heard::Answer(Answer {
                key,
                result,
                at,
                origin,
                ..
            }) => {
                if keys.contains(&key) {
                    if matches!(origin, Origin::Cache { .. }) && result.is_ok() {
                        out.cached_at = Some(out.cached_at.map_or(at, |o| o.min(at)));
                    }
                    out.answers.insert(key, result);
                }
                None
            }
            Heard::Other(event) => on_other(Noted::Event(&event)),
            Heard::Held => None,
        };
        if let Some(e) = give_up {
            for key in &keys {
                out.answers
                    .entry(key.clone())
                    .or_insert_with(|| Err(e.clone()));
            }
        }
    }
    out
}
