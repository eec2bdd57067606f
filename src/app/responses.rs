//! Every answer this session, by request, and the tickets they are awaited on: the only writer
//! of both (as slumber's `RequestStore`), so the legal moves of a request are written here once.
//!
//! ```text
//! Idle ─begin─► Loading ─settle─► Ready ─begin(refresh)─► Ready{refreshing} ─settle─► Ready
//! Failed ─begin─► Loading         └─settle(error)─► Failed     (a failed refresh keeps the Ready)
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::remote::Remote;
use crate::defender::{ApiError, FetchKey, FetchValue};
use crate::fetch::{Origin, Ticket};

static IDLE: Remote<FetchValue> = Remote::Idle;

/// An answer, when the API gave it, and where it came from.
pub type Landing = (Result<FetchValue, ApiError>, DateTime<Utc>, Origin);

/// The answers, readable by all, written only through the transitions below.
#[derive(Debug, Default)]
pub struct Responses {
    map: HashMap<FetchKey, Remote<FetchValue>>,
    /// Moves on whenever an entry changes: views derived from answers know to recompute.
    generation: u64,
    next_ticket: u64,
}

/// What became of an answer handed to [`Responses::settle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Its ticket is no longer awaited (refreshed since, or never asked): dropped.
    Stale,
    /// The value is shown.
    Shown,
    /// A refresh failed: the older answer stays on screen, said to be older.
    KeptOlder(ApiError),
    /// The request failed; the error stands where the value would.
    Failed(ApiError),
}

impl Responses {
    pub fn get(&self, key: &FetchKey) -> &Remote<FetchValue> {
        self.map.get(key).unwrap_or(&IDLE)
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn iter(&self) -> impl Iterator<Item = (&FetchKey, &Remote<FetchValue>)> {
        self.map.iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &Remote<FetchValue>> {
        self.map.values()
    }

    /// A request for `key` goes out: Idle or Failed become Loading; a Ready answer stays shown,
    /// refreshing, when `refresh` asks past the cache. Anything already awaited is left alone
    /// (`None`: no request to send).
    pub fn begin(&mut self, key: FetchKey, refresh: bool) -> Option<Ticket> {
        let remote = self.get(&key);
        let legal = match remote {
            Remote::Idle | Remote::Failed { .. } => true,
            Remote::Ready {
                refreshing: None, ..
            } => refresh,
            Remote::Loading { .. } | Remote::Ready { .. } => false,
        };
        if !legal {
            tracing::debug!(%key, ?remote, refresh, "begin ignored: not a legal move");
            return None;
        }
        self.next_ticket += 1;
        let ticket = Ticket(self.next_ticket);
        self.generation += 1;
        match self.map.get_mut(&key) {
            Some(Remote::Ready { refreshing, .. }) => *refreshing = Some(ticket),
            _ => {
                self.map.insert(
                    key,
                    Remote::Loading {
                        ticket,
                        retry: None,
                    },
                );
            }
        }
        Some(ticket)
    }

    /// The scheduler retries a transient failure: a Loading entry says which attempt it is on.
    /// Returns whether the entry showed it.
    pub fn retrying(&mut self, key: &FetchKey, attempt: u32, max: u32) -> bool {
        match self.map.get_mut(key) {
            Some(Remote::Loading { retry, .. }) => {
                *retry = Some((attempt, max));
                true
            }
            other => {
                tracing::debug!(%key, ?other, "retrying ignored: nothing loading");
                false
            }
        }
    }

    /// A ticket's answer lands, unless the ticket is no longer awaited. A stale cached answer
    /// is shown at once and marked refreshing (the same ticket brings the fresh one); a failed
    /// refresh leaves the older answer on screen.
    pub fn settle(&mut self, key: FetchKey, ticket: Ticket, answer: Landing) -> Settled {
        if self.get(&key).awaited() != Some(ticket) {
            tracing::debug!(%key, ?ticket, "answer dropped: its ticket is not awaited");
            return Settled::Stale;
        }
        let (result, at, origin) = answer;
        let previous = self.map.remove(&key);
        self.generation += 1;
        let (remote, settled) = match (result, previous) {
            (Ok(value), _) => {
                let (cached, refreshing) = match origin {
                    Origin::Network => (false, None),
                    Origin::Cache { refreshing } => (true, refreshing.then_some(ticket)),
                };
                let ready = Remote::Ready {
                    value,
                    as_of: at,
                    cached,
                    refreshing,
                };
                (ready, Settled::Shown)
            }
            (
                Err(error),
                Some(Remote::Ready {
                    value,
                    as_of,
                    cached,
                    ..
                }),
            ) => {
                let ready = Remote::Ready {
                    value,
                    as_of,
                    cached,
                    refreshing: None,
                };
                (ready, Settled::KeptOlder(error))
            }
            (Err(error), _) => (
                Remote::Failed {
                    error: error.clone(),
                },
                Settled::Failed(error),
            ),
        };
        self.map.insert(key, remote);
        settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::{ErrorKind, LookBack};
    use crate::fetch::Origin;

    fn key() -> FetchKey {
        FetchKey::IpStats("10.0.0.1".parse().unwrap(), LookBack::MONTH)
    }

    fn value(devices: u64) -> FetchValue {
        FetchValue::Stats(Some(crate::defender::IpStats {
            organization_prevalence: Some(devices),
            ..Default::default()
        }))
    }

    fn ok(v: FetchValue, origin: Origin) -> Landing {
        (Ok(v), DateTime::<Utc>::default(), origin)
    }

    fn err() -> Landing {
        (
            Err(ApiError::new(ErrorKind::Server, "boom")),
            DateTime::<Utc>::default(),
            Origin::Network,
        )
    }

    #[test]
    fn an_answer_lands_on_its_ticket_and_a_stale_one_is_dropped() {
        let mut r = Responses::default();
        let first = r.begin(key(), false).unwrap();
        assert!(r.get(&key()).is_loading());
        assert_eq!(
            r.begin(key(), true),
            None,
            "already awaited: no second request"
        );
        assert_eq!(
            r.settle(key(), Ticket(first.0 + 7), ok(value(1), Origin::Network)),
            Settled::Stale
        );
        assert!(
            r.get(&key()).is_loading(),
            "a stranger's answer changes nothing"
        );
        assert_eq!(
            r.settle(key(), first, ok(value(1), Origin::Network)),
            Settled::Shown
        );
        assert_eq!(r.get(&key()).value(), Some(&value(1)));
        assert_eq!(
            r.settle(key(), first, ok(value(2), Origin::Network)),
            Settled::Stale,
            "a ticket lands once"
        );
        assert_eq!(r.get(&key()).value(), Some(&value(1)));
    }

    #[test]
    fn a_refresh_keeps_the_old_value_visible_until_the_new_one_lands() {
        let mut r = Responses::default();
        let t = r.begin(key(), false).unwrap();
        r.settle(key(), t, ok(value(1), Origin::Network));
        assert_eq!(
            r.begin(key(), false),
            None,
            "loaded: only a refresh asks again"
        );
        let again = r.begin(key(), true).unwrap();
        assert_ne!(again, t);
        assert_eq!(r.get(&key()).value(), Some(&value(1)), "still shown");
        assert_eq!(r.get(&key()).awaited(), Some(again));
        assert!(r.get(&key()).is_busy());
        // A refresh that fails keeps the older answer, no longer refreshing.
        let kept = r.settle(key(), again, err());
        assert!(matches!(kept, Settled::KeptOlder(_)), "{kept:?}");
        assert_eq!(r.get(&key()).value(), Some(&value(1)));
        assert_eq!(r.get(&key()).awaited(), None);
        let third = r.begin(key(), true).unwrap();
        r.settle(key(), third, ok(value(2), Origin::Network));
        assert_eq!(r.get(&key()).value(), Some(&value(2)));
    }

    #[test]
    fn a_stale_cached_answer_shows_and_waits_for_the_fresh_one_on_the_same_ticket() {
        let mut r = Responses::default();
        let t = r.begin(key(), false).unwrap();
        let shown = r.settle(key(), t, ok(value(1), Origin::Cache { refreshing: true }));
        assert_eq!(shown, Settled::Shown);
        assert!(matches!(
            r.get(&key()),
            Remote::Ready { cached: true, refreshing: Some(x), .. } if *x == t
        ));
        r.settle(key(), t, ok(value(2), Origin::Network));
        assert!(matches!(
            r.get(&key()),
            Remote::Ready {
                cached: false,
                refreshing: None,
                ..
            }
        ));
    }

    #[test]
    fn generation_moves_on_every_landing_and_request_but_not_on_a_dropped_answer() {
        let mut r = Responses::default();
        let g0 = r.generation();
        let t = r.begin(key(), false).unwrap();
        let g1 = r.generation();
        assert!(g1 > g0);
        r.settle(key(), Ticket(999), ok(value(1), Origin::Network));
        assert_eq!(r.generation(), g1, "a stale answer changes nothing");
        r.settle(key(), t, err());
        let g2 = r.generation();
        assert!(g2 > g1, "a failure lands too");
        assert!(matches!(r.get(&key()), Remote::Failed { .. }));
        let t = r.begin(key(), false).unwrap();
        assert!(r.get(&key()).is_loading(), "Failed → Loading");
        r.settle(key(), t, ok(value(1), Origin::Network));
        assert!(r.generation() > g2);
    }

    #[test]
    fn retrying_is_shown_only_while_loading() {
        let mut r = Responses::default();
        assert!(!r.retrying(&key(), 1, 3), "nothing asked");
        let t = r.begin(key(), false).unwrap();
        assert!(r.retrying(&key(), 1, 3));
        assert!(matches!(
            r.get(&key()),
            Remote::Loading {
                retry: Some((1, 3)),
                ..
            }
        ));
        r.settle(key(), t, ok(value(1), Origin::Network));
        assert!(!r.retrying(&key(), 2, 3), "landed: the retry is old news");
    }
}
