//! Cases: an investigation's trail, the places visited, notes, tags and calls spent.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, params};

use super::{Store, from_ms, to_ms};
use crate::case::{Note, SavedCase, Subject, Target, Visit};
use crate::defender::Endpoint;

/// A case's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseId(pub i64);

/// Where a case's data comes from, fixed when it is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseMeta {
    /// Cache scope: the tenant and API (see [`crate::store::cache`]).
    pub scope: String,
    /// For the report's header, e.g. `api.security.microsoft.com` or `SIMULATED TENANT`.
    pub api_host: String,
    pub portal: String,
    pub tenant_id: Option<String>,
}

/// One step of a case's trail as stored: when, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailStep {
    pub at: DateTime<Utc>,
    pub visit: Visit,
}

/// One line of `mde-triage cases`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub name: String,
    pub api_host: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub visits: u64,
    pub notes: u64,
    pub tags: u64,
    pub calls: u64,
}

/// Opening a case recorded for another tenant would mix their data.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(
        "case '{name}' belongs to another tenant or API ({theirs}); name another case with --case"
    )]
    OtherScope { name: String, theirs: String },
    #[error("{0}")]
    Db(#[from] rusqlite::Error),
}

impl Store {
    /// The case called `name`, created if new. A case is bound to one scope.
    pub fn open_case(
        &self,
        name: &str,
        meta: &CaseMeta,
        at: DateTime<Utc>,
    ) -> Result<CaseId, CaseError> {
        self.conn
            .prepare_cached(
                "INSERT INTO cases (name, scope, api_host, portal, tenant_id, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (name) DO NOTHING",
            )?
            .execute(params![
                name,
                meta.scope,
                meta.api_host,
                meta.portal,
                meta.tenant_id,
                to_ms(at)
            ])?;
        let (id, scope, host): (i64, String, String) = self.conn.query_row(
            "SELECT id, scope, api_host FROM cases WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        if scope != meta.scope {
            return Err(CaseError::OtherScope {
                name: name.to_owned(),
                theirs: host,
            });
        }
        if let Some(tid) = &meta.tenant_id {
            self.conn.execute(
                "UPDATE cases SET tenant_id = ?2 WHERE id = ?1 AND tenant_id IS NULL",
                params![id, tid],
            )?;
        }
        Ok(CaseId(id))
    }

    pub fn find_case(&self, name: &str) -> rusqlite::Result<Option<CaseId>> {
        self.conn
            .query_row("SELECT id FROM cases WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map(|id| id.map(CaseId))
    }

    /// Every case, most recently worked on first.
    pub fn list_cases(&self) -> rusqlite::Result<Vec<CaseSummary>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.name, c.api_host, c.created_ms, c.updated_ms,
                (SELECT count(*) FROM visits v WHERE v.case_id = c.id),
                (SELECT count(*) FROM notes n WHERE n.case_id = c.id),
                (SELECT count(*) FROM tags t WHERE t.case_id = c.id),
                (SELECT coalesce(sum(calls), 0) FROM case_calls k WHERE k.case_id = c.id)
             FROM cases c ORDER BY c.updated_ms DESC, c.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CaseSummary {
                name: r.get(0)?,
                api_host: r.get(1)?,
                created: from_ms(r.get(2)?),
                updated: from_ms(r.get(3)?),
                visits: r.get::<_, i64>(4)? as u64,
                notes: r.get::<_, i64>(5)? as u64,
                tags: r.get::<_, i64>(6)? as u64,
                calls: r.get::<_, i64>(7)? as u64,
            })
        })?;
        rows.collect()
    }

    fn touch(&self, case: CaseId, at: DateTime<Utc>) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("UPDATE cases SET updated_ms = max(updated_ms, ?2) WHERE id = ?1")?
            .execute(params![case.0, to_ms(at)])?;
        Ok(())
    }

    /// Adds a step to the trail: the place by its kind and id, so a new kind of place needs no
    /// new column.
    pub fn record_visit(
        &self,
        case: CaseId,
        visit: &Visit,
        at: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        let (kind, id) = match &visit.subject {
            Some(s) => (Some(s.kind().name()), Some(s.id())),
            None => (None, None),
        };
        let alert = visit.alert.as_ref().map(ToString::to_string);
        self.conn
            .prepare_cached(
                "INSERT INTO visits (case_id, at_ms, kind, subject, alert) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![case.0, to_ms(at), kind, id, alert])?;
        self.touch(case, at)
    }

    /// The trail in visit order. A step this build cannot read (a kind from a newer build) is
    /// left out and logged, never misread.
    pub fn visits(&self, case: CaseId) -> rusqlite::Result<Vec<TrailStep>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at_ms, kind, subject, alert FROM visits WHERE case_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([case.0], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, kind, id, alert) = row?;
            let subject = match (kind, id) {
                (Some(kind), Some(id)) => match Subject::parse(&kind, &id) {
                    Some(s) => Some(s),
                    None => {
                        tracing::warn!(kind, "a step of the trail this build cannot read");
                        continue;
                    }
                },
                _ => None,
            };
            let alert = match alert.map(|a| crate::defender::parse_alert_id(&a)) {
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => {
                    tracing::warn!("a step of the trail names an alert id the API refuses");
                    continue;
                }
                None => None,
            };
            out.push(TrailStep {
                at: from_ms(at),
                visit: Visit { subject, alert },
            });
        }
        Ok(out)
    }

    pub fn save_trail(&self, case: CaseId, trail: &str) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("UPDATE cases SET trail = ?2 WHERE id = ?1")?
            .execute(params![case.0, trail])?;
        Ok(())
    }

    pub fn save_draft(&self, case: CaseId, draft: Option<&str>) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("UPDATE cases SET draft = ?2 WHERE id = ?1")?
            .execute(params![case.0, draft])?;
        Ok(())
    }

    pub fn add_note(
        &self,
        case: CaseId,
        target: &Target,
        text: &str,
        at: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO notes (case_id, kind, target, at_ms, text) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![case.0, target.kind(), target.id(), to_ms(at), text])?;
        self.touch(case, at)
    }

    pub fn set_tag(
        &self,
        case: CaseId,
        target: &Target,
        tag: &str,
        on: bool,
        at: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        if on {
            self.conn
                .prepare_cached(
                    "INSERT INTO tags (case_id, kind, target, tag, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![case.0, target.kind(), target.id(), tag, to_ms(at)])?;
        } else {
            self.conn
                .prepare_cached(
                    "DELETE FROM tags WHERE case_id = ?1 AND kind = ?2 AND target = ?3 AND tag = ?4",
                )?
                .execute(params![case.0, target.kind(), target.id(), tag])?;
        }
        self.touch(case, at)
    }

    pub(super) fn count_case_call(
        &self,
        case: super::CaseId,
        endpoint: Endpoint,
        delta: i64,
    ) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO case_calls (case_id, endpoint, calls) VALUES (?1, ?2, max(?3, 0))
                 ON CONFLICT (case_id, endpoint) DO UPDATE SET calls = max(calls + ?3, 0)",
            )?
            .execute(params![case.0, endpoint.name(), delta])?;
        Ok(())
    }

    /// Calls spent per endpoint, in `Endpoint::ALL` order.
    pub fn case_calls(&self, case: CaseId) -> rusqlite::Result<Vec<(Endpoint, u64)>> {
        let mut out = Vec::new();
        for e in Endpoint::ALL {
            let n: Option<i64> = self
                .conn
                .query_row(
                    "SELECT calls FROM case_calls WHERE case_id = ?1 AND endpoint = ?2",
                    params![case.0, e.name()],
                    |r| r.get(0),
                )
                .optional()?;
            out.push((e, n.unwrap_or(0) as u64));
        }
        Ok(out)
    }

    /// What the console restores when a case is reopened.
    pub fn load_case(&self, case: CaseId) -> rusqlite::Result<SavedCase> {
        let (trail, draft) = self.conn.query_row(
            "SELECT trail, draft FROM cases WHERE id = ?1",
            [case.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(SavedCase {
            trail,
            draft,
            notes: self.notes(case)?,
            tags: self.tags(case)?,
        })
    }

    pub fn notes(&self, case: CaseId) -> rusqlite::Result<Vec<(Target, Note)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, target, at_ms, text FROM notes WHERE case_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([case.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, id, at, text) = row?;
            if let Some(t) = Target::parse(&kind, &id) {
                out.push((
                    t,
                    Note {
                        at: from_ms(at),
                        text,
                    },
                ));
            }
        }
        Ok(out)
    }

    pub fn tags(&self, case: CaseId) -> rusqlite::Result<Vec<(Target, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, target, tag FROM tags WHERE case_id = ?1 ORDER BY at_ms, tag",
        )?;
        let rows = stmt.query_map([case.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, id, tag) = row?;
            if let Some(t) = Target::parse(&kind, &id) {
                out.push((t, tag));
            }
        }
        Ok(out)
    }

    /// The case's fixed facts.
    pub fn case_meta(
        &self,
        case: CaseId,
    ) -> rusqlite::Result<(String, CaseMeta, DateTime<Utc>, DateTime<Utc>)> {
        self.conn.query_row(
            "SELECT name, scope, api_host, portal, tenant_id, created_ms, updated_ms
             FROM cases WHERE id = ?1",
            [case.0],
            |r| {
                Ok((
                    r.get(0)?,
                    CaseMeta {
                        scope: r.get(1)?,
                        api_host: r.get(2)?,
                        portal: r.get(3)?,
                        tenant_id: r.get(4)?,
                    },
                    from_ms(r.get(5)?),
                    from_ms(r.get(6)?),
                ))
            },
        )
    }
}
