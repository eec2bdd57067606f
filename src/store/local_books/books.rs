//! The ledger's SQL: one decision, a take-back, a heartbeat, and the read of the books that
//! the status counts from, each inside a transaction its caller opened or opens here.

use std::time::Duration;

use rusqlite::{OptionalExtension as _, Transaction, TransactionBehavior, params};

use super::{CONSOLE_SEEN_MS, Core, PROCESS_FORGET_MS, Seen, ms, span};
use crate::defender::Endpoint;
use crate::fetch::{Ask, Verdict};

/// Admissions are kept at least this long, whatever this process's windows (the API's longest
/// is an hour; the call log keeps as long).
const KEEP_AT_LEAST_MS: i64 = 2 * 60 * 60 * 1000;

impl Core {
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
    pub(super) fn admit_with(
        &self,
        ask: Ask,
        clock: impl FnOnce() -> i64,
    ) -> rusqlite::Result<Verdict> {
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
        let endpoint = ask.endpoint.name();
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
        // Trim before counting. Never sooner than two hours: a process with shorter windows
        // (`--rate-limit 10/10s`) must not erase what another's hourly window still counts.
        // Each count below is a range of its own window, so older rows cost nothing but room.
        tx.prepare_cached(
            "DELETE FROM admissions WHERE scope = ?1 AND endpoint = ?2 AND at_ms <= ?3",
        )?
        .execute(params![
            scope,
            endpoint,
            now - self.horizon_ms().max(KEEP_AT_LEAST_MS)
        ])?;

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
    pub(super) fn take_back_with(
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
        let name = endpoint.name();
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

    pub(super) fn touch_with(&self, clock: impl FnOnce() -> i64) -> rusqlite::Result<()> {
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
            let name = endpoint.name();
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
}
