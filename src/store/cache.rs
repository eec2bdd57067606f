//! Cached answers and the log of recent calls, keyed by scope: the tenant and API they belong
//! to, so one tenant's answers never show up in another's console.

use chrono::{DateTime, Duration as Span, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::{Store, from_ms, to_ms};
use crate::defender::{Endpoint, FetchKey, FetchValue, IpStats, LookBack};

/// An IP's prevalence cached for one period, and when it was fetched.
pub type PeriodAnswer = (LookBack, Option<IpStats>, DateTime<Utc>);

/// Calls older than this are of no use to any window (the longest the API has is an hour).
const CALL_MEMORY: Span = Span::hours(2);

/// The stored form of a key: its endpoint's stable name and its subject (IP or alert id, and
/// a stats key's period: [`FetchKey::stored_subject`]).
pub fn key_parts(key: &FetchKey) -> (&'static str, String) {
    (key.endpoint().name(), key.stored_subject())
}

/// A value's stored form: its own serialisation, read back by [`decode`].
pub fn encode(value: &FetchValue) -> serde_json::Result<String> {
    serde_json::to_string(value)
}

/// Decodes with the same lenient model the API goes through ([`Endpoint::reader`]).
pub fn decode(endpoint: Endpoint, body: &str) -> serde_json::Result<FetchValue> {
    (endpoint.reader().stored)(body)
}

impl Store {
    /// The stored answer for `key` and when it was fetched. An entry that no longer decodes
    /// (written by a build with another model) is a miss, not an error.
    pub fn response(
        &self,
        scope: &str,
        key: &FetchKey,
    ) -> rusqlite::Result<Option<(FetchValue, DateTime<Utc>)>> {
        let (endpoint, subject) = key_parts(key);
        let row: Option<(String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT body, fetched_ms FROM responses
                 WHERE scope = ?1 AND endpoint = ?2 AND subject = ?3",
            )?
            .query_row(params![scope, endpoint, subject], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        Ok(
            row.and_then(|(body, ms)| match decode(key.endpoint(), &body) {
                Ok(value) => Some((value, from_ms(ms))),
                Err(e) => {
                    tracing::warn!(%key, error = %e, "cached answer unreadable; treated as a miss");
                    None
                }
            }),
        )
    }

    /// Every period `ip`'s prevalence is cached for, freshest first: a report says each
    /// figure's period. Rows are read back through [`FetchKey::stored_subject`], so a row
    /// only ever reads as the period it was stored under.
    pub fn cached_periods(
        &self,
        scope: &str,
        ip: std::net::IpAddr,
    ) -> rusqlite::Result<Vec<PeriodAnswer>> {
        let subject = ip.to_string();
        let mut stmt = self.conn.prepare_cached(
            "SELECT subject FROM responses WHERE scope = ?1 AND endpoint = ?2
             AND (subject = ?3 OR substr(subject, 1, length(?3) + 1) = ?3 || '@')",
        )?;
        let subjects = stmt
            .query_map(params![scope, Endpoint::IpStats.name(), subject], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        let mut found = Vec::new();
        for stored in subjects {
            let hours = match stored.strip_prefix(&format!("{subject}@")) {
                None => Some(LookBack::MONTH.hours()),
                Some(rest) => rest.strip_suffix('h').and_then(|h| h.parse().ok()),
            };
            // Kept only if it is how that period is stored: `1.2.3.4@720h` is no one's row.
            let Some(period) = hours
                .and_then(LookBack::from_hours)
                .filter(|p| FetchKey::IpStats(ip, *p).stored_subject() == stored)
            else {
                continue;
            };
            if let Some((FetchValue::Stats(s), at)) =
                self.response(scope, &FetchKey::IpStats(ip, period))?
            {
                found.push((period, s, at));
            }
        }
        found.sort_by(|a, b| b.2.cmp(&a.2).then(b.0.cmp(&a.0)));
        Ok(found)
    }

    pub fn put_response(
        &self,
        scope: &str,
        key: &FetchKey,
        value: &FetchValue,
        at: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        let (endpoint, subject) = key_parts(key);
        let body = encode(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
        self.conn
            .prepare_cached(
                "INSERT INTO responses (scope, endpoint, subject, body, fetched_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (scope, endpoint, subject)
                 DO UPDATE SET body = excluded.body, fetched_ms = excluded.fetched_ms
                 WHERE excluded.fetched_ms >= responses.fetched_ms",
            )?
            .execute(params![scope, endpoint, subject, body, to_ms(at)])?;
        Ok(())
    }

    /// A call sent at `at`, counted against the budget and against `case`, if any; or, with
    /// `sent: false`, taken back: the API refused it with a 429, and a refusal uses no quota.
    pub fn log_call(
        &self,
        scope: &str,
        endpoint: Endpoint,
        at: DateTime<Utc>,
        case: Option<super::CaseId>,
        sent: bool,
    ) -> rusqlite::Result<()> {
        let (sql, forget) = if sent {
            (
                "INSERT INTO calls (scope, endpoint, at_ms) VALUES (?1, ?2, ?3)",
                true,
            )
        } else {
            (
                "DELETE FROM calls WHERE id = (SELECT id FROM calls
                 WHERE scope = ?1 AND endpoint = ?2 AND at_ms = ?3 LIMIT 1)",
                false,
            )
        };
        self.conn
            .prepare_cached(sql)?
            .execute(params![scope, endpoint.name(), to_ms(at)])?;
        if forget {
            self.conn
                .prepare_cached("DELETE FROM calls WHERE scope = ?1 AND at_ms < ?2")?
                .execute(params![scope, to_ms(at - CALL_MEMORY)])?;
        }
        if let Some(case) = case {
            self.count_case_call(case, endpoint, if sent { 1 } else { -1 })?;
        }
        Ok(())
    }

    /// Calls sent since `since`, oldest first: what the budget must remember after a restart.
    pub fn calls_since(
        &self,
        scope: &str,
        since: DateTime<Utc>,
    ) -> rusqlite::Result<Vec<(Endpoint, DateTime<Utc>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT endpoint, at_ms FROM calls WHERE scope = ?1 AND at_ms >= ?2 ORDER BY at_ms",
        )?;
        let rows = stmt.query_map(params![scope, to_ms(since)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut calls = Vec::new();
        for row in rows {
            let (name, ms) = row?;
            if let Some(e) = Endpoint::from_name(&name) {
                calls.push((e, from_ms(ms)));
            }
        }
        Ok(calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::Alert;

    fn stats(n: u64) -> FetchValue {
        FetchValue::Stats(Some(IpStats {
            organization_prevalence: Some(n),
            ..IpStats::default()
        }))
    }

    fn prevalence(v: Option<(FetchValue, DateTime<Utc>)>) -> Option<u64> {
        match v {
            Some((FetchValue::Stats(Some(s)), _)) => s.prevalence(),
            _ => None,
        }
    }

    /// A row an older build wrote (bare IP, fetched without `lookBackHours`: 30 days) serves
    /// the 720-hour key and no other; each period is its own row.
    #[test]
    fn each_period_is_its_own_row_and_an_old_row_is_the_30_day_answer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.db")).unwrap().store;
        let ip: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Utc::now() - Span::minutes(10);
        store
            .conn
            .execute(
                "INSERT INTO responses (scope, endpoint, subject, body, fetched_ms)
                 VALUES ('s', 'ip_stats', '192.0.2.1', ?1, ?2)",
                params![encode(&stats(900)).unwrap(), to_ms(t0)],
            )
            .unwrap();
        let month = FetchKey::IpStats(ip, LookBack::MONTH);
        let week = FetchKey::IpStats(ip, LookBack::WEEK);
        assert_eq!(prevalence(store.response("s", &month).unwrap()), Some(900));
        assert_eq!(prevalence(store.response("s", &week).unwrap()), None);

        store
            .put_response("s", &week, &stats(40), t0 + Span::minutes(5))
            .unwrap();
        assert_eq!(prevalence(store.response("s", &week).unwrap()), Some(40));
        assert_eq!(prevalence(store.response("s", &month).unwrap()), Some(900));
        // A row under a subject no period is stored as is nobody's answer.
        store
            .conn
            .execute(
                "INSERT INTO responses (scope, endpoint, subject, body, fetched_ms)
                 VALUES ('s', 'ip_stats', '192.0.2.1@720h', ?1, ?2)",
                params![encode(&stats(1)).unwrap(), to_ms(t0)],
            )
            .unwrap();
        let periods: Vec<(u32, Option<u64>)> = store
            .cached_periods("s", ip)
            .unwrap()
            .into_iter()
            .map(|(p, s, _)| (p.hours(), s.and_then(|s| s.prevalence())))
            .collect();
        assert_eq!(
            periods,
            [(168, Some(40)), (720, Some(900))],
            "freshest first"
        );
        let other: std::net::IpAddr = "192.0.2.10".parse().unwrap();
        assert!(store.cached_periods("s", other).unwrap().is_empty());
    }

    #[test]
    fn an_alert_record_reads_back_as_stored() {
        let alert = Alert {
            id: "da1_2".into(),
            title: "Beaconing".into(),
            machine_id: Some("4f1e0c9a3b7d2e8f6a5c1b9d0e3f7a2c4b6d8e0f".into()),
            computer_dns_name: Some("ws-fin-07.contoso.local".into()),
            mitre_techniques: vec!["T1071".into()],
            ..Alert::default()
        };
        let value = FetchValue::Alert(Box::new(alert));
        let body = encode(&value).unwrap();
        assert_eq!(decode(Endpoint::Alert, &body).unwrap(), value);
        // An alert is not a list: a stored list under its name is unreadable, a miss.
        assert!(decode(Endpoint::Alert, "[]").is_err());
    }
}
