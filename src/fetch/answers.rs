//! The answer protocol for callers that want one final answer per request (the one-shot
//! commands, `expand`, `doctor`): a stale cached answer is held while its refresh runs, and
//! stands in for the fresh one only if the refresh fails.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::cache::Origin;
use super::scheduler::FetchEvent;
use super::status::Ticket;
use crate::defender::{ApiError, FetchKey, FetchValue};

/// Reads the scheduler's events; holds what is not final yet. One per stream of events.
#[derive(Debug, Default)]
pub struct Answers {
    /// Stale cached answers whose refresh is under way, by the ticket the refresh answers.
    stale: HashMap<Ticket, (FetchValue, DateTime<Utc>)>,
}

/// What one event meant.
#[derive(Debug)]
pub enum Heard {
    /// The last word for one ticket.
    Answer(Answer),
    /// A stale cached answer, held until its refresh answers.
    Held,
    /// Not an answer (a retry, the budget): the event, for the caller. Never a `Done`.
    Other(FetchEvent),
}

/// A request's final answer.
#[derive(Debug)]
pub struct Answer {
    pub key: FetchKey,
    pub ticket: Ticket,
    /// The fresh answer; or, when `refresh_failed`, the stale cached one.
    pub result: Result<FetchValue, ApiError>,
    /// When the API gave `result` (long ago, for a cached one).
    pub at: DateTime<Utc>,
    /// Where `result` came from.
    pub origin: Origin,
    /// The refresh of a stale cached answer failed, for this reason: `result` is that answer.
    pub refresh_failed: Option<ApiError>,
}

impl Answers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next event from the scheduler.
    pub fn take(&mut self, event: FetchEvent) -> Heard {
        let FetchEvent::Done {
            key,
            ticket,
            result,
            at,
            origin,
        } = event
        else {
            return Heard::Other(event);
        };
        if matches!(origin, Origin::Cache { refreshing: true }) {
            // The scheduler serves the cache only with a value; an error here would be final.
            if let Ok(value) = result {
                self.stale.insert(ticket, (value, at));
                return Heard::Held;
            }
            return Heard::Answer(Answer {
                key,
                ticket,
                result,
                at,
                origin,
                refresh_failed: None,
            });
        }
        let answer = match (result, self.stale.remove(&ticket)) {
            (Err(error), Some((value, cached_at))) => Answer {
                key,
                ticket,
                result: Ok(value),
                at: cached_at,
                origin: Origin::Cache { refreshing: true },
                refresh_failed: Some(error),
            },
            (result, _) => Answer {
                key,
                ticket,
                result,
                at,
                origin,
                refresh_failed: None,
            },
        };
        Heard::Answer(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::{ErrorKind, IpStats, LookBack};

    fn key() -> FetchKey {
        FetchKey::IpStats("192.0.2.7".parse().unwrap(), LookBack::MONTH)
    }

    fn stats(prevalence: u64) -> FetchValue {
        FetchValue::Stats(Some(IpStats {
            org_prevalence: Some(prevalence),
            ..IpStats::default()
        }))
    }

    fn done(result: Result<FetchValue, ApiError>, at: i64, origin: Origin) -> FetchEvent {
        FetchEvent::Done {
            key: key(),
            ticket: Ticket(1),
            result,
            at: DateTime::from_timestamp(at, 0).unwrap(),
            origin,
        }
    }

    fn answer(heard: Heard) -> Answer {
        match heard {
            Heard::Answer(a) => a,
            other => panic!("not an answer: {other:?}"),
        }
    }

    const STALE: Origin = Origin::Cache { refreshing: true };

    #[test]
    fn a_stale_answer_waits_for_its_refresh_and_the_fresh_one_wins() {
        let mut answers = Answers::new();
        assert!(matches!(
            answers.take(done(Ok(stats(1)), 100, STALE)),
            Heard::Held
        ));
        let a = answer(answers.take(done(Ok(stats(2)), 200, Origin::Network)));
        assert_eq!((a.key, a.ticket), (key(), Ticket(1)));
        assert!(matches!(a.result, Ok(v) if v == stats(2)));
        assert_eq!((a.at.timestamp(), a.origin), (200, Origin::Network));
        assert!(a.refresh_failed.is_none());
    }

    #[test]
    fn a_failed_refresh_gives_the_stale_answer_and_says_why() {
        let mut answers = Answers::new();
        answers.take(done(Ok(stats(1)), 100, STALE));
        let failure = ApiError::new(ErrorKind::Server, "503");
        let a = answer(answers.take(done(Err(failure), 200, Origin::Network)));
        assert!(matches!(a.result, Ok(v) if v == stats(1)));
        assert_eq!((a.at.timestamp(), a.origin), (100, STALE));
        assert_eq!(a.refresh_failed.map(|e| e.kind), Some(ErrorKind::Server));
        // Held once, given once: a later failure for the ticket is just a failure.
        let again = answer(answers.take(done(
            Err(ApiError::new(ErrorKind::Server, "503")),
            300,
            Origin::Network,
        )));
        assert!(again.result.is_err() && again.refresh_failed.is_none());
    }

    #[test]
    fn fresh_cached_answers_and_failures_without_a_stale_one_are_final_at_once() {
        let mut answers = Answers::new();
        let fresh = Origin::Cache { refreshing: false };
        let a = answer(answers.take(done(Ok(stats(1)), 100, fresh)));
        assert_eq!(a.origin, fresh);
        let failure = ApiError::new(ErrorKind::Forbidden, "no");
        let a = answer(answers.take(done(Err(failure), 100, Origin::Network)));
        assert!(a.result.is_err() && a.refresh_failed.is_none());
        let budget = FetchEvent::Budget(Default::default());
        assert!(matches!(
            answers.take(budget),
            Heard::Other(FetchEvent::Budget(_))
        ));
    }
}
