//! The store as the scheduler's [`Memory`]: reads on a connection of its own, writes through
//! the journal, everything under one scope (tenant and API) and, when given, one case.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::{CaseId, Journal, Store, Write};
use crate::defender::{Endpoint, FetchKey, FetchValue};
use crate::fetch::Memory;

pub struct StoreMemory {
    reader: Mutex<Store>,
    journal: Journal,
    scope: String,
    /// Calls are counted against this case, for its report.
    case: Option<CaseId>,
}

impl StoreMemory {
    pub fn new(reader: Store, journal: Journal, scope: String, case: Option<CaseId>) -> Self {
        Self {
            reader: Mutex::new(reader),
            journal,
            scope,
            case,
        }
    }

    fn read<T>(&self, what: &str, f: impl FnOnce(&Store) -> rusqlite::Result<T>) -> Option<T> {
        let store = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        match f(&store) {
            Ok(v) => Some(v),
            Err(e) => {
                // A failed read is a miss: the API still answers.
                tracing::warn!(error = %e, "reading {what} from the database failed");
                None
            }
        }
    }
}

impl Memory for StoreMemory {
    fn lookup(&self, key: &FetchKey) -> Option<(FetchValue, DateTime<Utc>)> {
        self.read("the cache", |s| s.response(&self.scope, key))
            .flatten()
    }

    fn remember(&self, key: &FetchKey, value: &FetchValue, at: DateTime<Utc>) {
        self.journal.send(Write::Response {
            scope: self.scope.clone(),
            key: key.clone(),
            value: value.clone(),
            at,
        });
    }

    fn calls_since(&self, since: DateTime<Utc>) -> Vec<(Endpoint, DateTime<Utc>)> {
        self.read("the call log", |s| s.calls_since(&self.scope, since))
            .unwrap_or_default()
    }

    fn call(&self, endpoint: Endpoint, at: DateTime<Utc>, sent: bool) {
        self.journal.send(Write::Call {
            scope: self.scope.clone(),
            endpoint,
            at,
            case: self.case,
            sent,
        });
    }
}
