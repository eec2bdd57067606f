//! Cached answers and the log of recent calls, keyed by scope: the tenant and API they belong
//! to, so one tenant's answers never show up in another's console.

use chrono::{DateTime, Duration as Span, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::{Store, from_ms, to_ms};
use crate::defender::{Alert, Device, Endpoint, FetchKey, FetchValue, IpStats, Listing, RelatedIp};

/// Calls older than this are of no use to any window (the longest the API has is an hour).
const CALL_MEMORY: Span = Span::hours(2);

/// The stored form of a key: its endpoint's stable name and its subject (IP or alert id).
pub fn key_parts(key: &FetchKey) -> (&'static str, String) {
    (key.endpoint().name(), key.subject())
}

pub fn encode(value: &FetchValue) -> serde_json::Result<String> {
    match value {
        FetchValue::Stats(s) => serde_json::to_string(s),
        FetchValue::Alerts(a) => serde_json::to_string(a),
        FetchValue::Ips(i) => serde_json::to_string(i),
        FetchValue::Device(d) => serde_json::to_string(d),
        FetchValue::Devices(d) => serde_json::to_string(d),
        FetchValue::Alert(a) => serde_json::to_string(a),
    }
}

/// Decodes with the same lenient model the API goes through.
pub fn decode(endpoint: Endpoint, body: &str) -> serde_json::Result<FetchValue> {
    Ok(match endpoint {
        Endpoint::IpStats => FetchValue::Stats(serde_json::from_str::<Option<IpStats>>(body)?),
        Endpoint::IpAlerts => FetchValue::Alerts(listing::<Alert>(body)?),
        Endpoint::AlertIps => FetchValue::Ips(listing::<RelatedIp>(body)?),
        Endpoint::Machine => FetchValue::Device(Box::new(serde_json::from_str::<Device>(body)?)),
        Endpoint::MachineAlerts => FetchValue::Alerts(listing::<Alert>(body)?),
        Endpoint::FindByIp => FetchValue::Devices(listing::<Device>(body)?),
        Endpoint::Alert => FetchValue::Alert(Box::new(serde_json::from_str::<Alert>(body)?)),
    })
}

/// A stored list with what it says of itself, or a bare array as earlier builds stored it.
fn listing<T: serde::de::DeserializeOwned>(body: &str) -> serde_json::Result<Listing<T>> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Stored<T> {
        Listing(Listing<T>),
        Bare(Vec<T>),
    }
    Ok(match serde_json::from_str(body)? {
        Stored::Listing(l) => l,
        Stored::Bare(items) => Listing::of(items),
    })
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
