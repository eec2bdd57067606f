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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::defender::{Call, CallFuture, ErrorKind, LookBack, Page, Transport};
    use crate::fetch::{SchedulerConfig, spawn};

    /// Answers every call with an empty stats page, or never when `hang`; counts the calls.
    struct Counting {
        calls: AtomicUsize,
        hang: bool,
    }

    impl Transport for Counting {
        fn call(&self, _call: Call) -> CallFuture {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let hang = self.hang;
            Box::pin(async move {
                if hang {
                    std::future::pending::<()>().await;
                }
                Ok(Page {
                    value: FetchValue::Stats(None),
                    next: None,
                })
            })
        }
    }

    fn stats(last: u8) -> FetchKey {
        FetchKey::IpStats(
            std::net::IpAddr::from([192, 0, 2, last]),
            LookBack::default(),
        )
    }

    fn transport(hang: bool) -> Arc<Counting> {
        Arc::new(Counting {
            calls: AtomicUsize::new(0),
            hang,
        })
    }

    /// On the paused clock: a wait that would never end fails the test instead of hanging it.
    async fn within_a_minute(wait: impl Future<Output = Collected>) -> Collected {
        tokio::time::timeout(std::time::Duration::from_secs(60), wait)
            .await
            .expect("the wait ends")
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_asked_twice_is_one_call_and_one_answer_and_the_wait_ends() {
        let fake = transport(false);
        let (fetch, mut events) = spawn(fake.clone(), SchedulerConfig::default());
        let keys = vec![stats(1), stats(1), stats(2)];
        let got = within_a_minute(collect(
            &fetch,
            &mut events,
            keys,
            Priority::Foreground,
            |_| None,
        ))
        .await;
        assert_eq!(got.answers.len(), 2);
        assert!(got.answers.values().all(Result::is_ok));
        assert_eq!(got.cached_at, None, "no cache: nothing served from it");
        assert_eq!(fake.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_from_the_caller_ends_the_wait_for_every_key_still_unanswered() {
        let (fetch, mut events) = spawn(transport(true), SchedulerConfig::default());
        let mut asides = 0;
        let got = within_a_minute(collect(
            &fetch,
            &mut events,
            vec![stats(1), stats(2)],
            Priority::Foreground,
            |noted| {
                asides += 1;
                matches!(noted, Noted::Event(FetchEvent::Budget(_)))
                    .then(|| ApiError::new(ErrorKind::Throttled, "too long"))
            },
        ))
        .await;
        assert!(asides > 0);
        assert_eq!(got.answers.len(), 2);
        for result in got.answers.values() {
            assert!(matches!(result, Err(e) if e.kind == ErrorKind::Throttled));
        }
    }
}
