//! The database's schema and its migrations, numbered by SQLite's `user_version`.
//!
//! Written by hand rather than with `rusqlite_migration`: its current release needs Rust 1.95,
//! above this crate's floor, and the whole mechanism is one ordered list applied in one
//! transaction.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id`: marks the file as ours ("MDET"), so a foreign SQLite file found at
/// our path is recognised and set aside instead of being written into.
pub const APPLICATION_ID: i32 = 0x4D44_4554;

/// Each entry moves the schema from version `i` to `i + 1`. Append only; never edit a shipped
/// entry.
const MIGRATIONS: &[&str] = &[
    // 1: response cache, call log, cases.
    r#"
    CREATE TABLE responses (
        scope      TEXT NOT NULL,      -- which tenant and API the answer came from
        endpoint   TEXT NOT NULL,      -- stats | ip-alerts | alert-ips
        subject    TEXT NOT NULL,      -- the IP or alert id
        body       TEXT NOT NULL,      -- the answer as JSON
        fetched_ms INTEGER NOT NULL,
        PRIMARY KEY (scope, endpoint, subject)
    ) WITHOUT ROWID;

    -- Calls of the last hour or so, for the budget's memory across restarts.
    CREATE TABLE calls (
        id       INTEGER PRIMARY KEY,
        scope    TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        at_ms    INTEGER NOT NULL
    );
    CREATE INDEX calls_by_time ON calls (scope, at_ms);

    CREATE TABLE cases (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        scope      TEXT NOT NULL,
        api_host   TEXT NOT NULL,
        portal     TEXT NOT NULL,
        tenant_id  TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        trail      TEXT,               -- JSON: where the console was (entries and cursor)
        draft      TEXT                -- JSON: a note being typed, saved per keystroke
    );

    CREATE TABLE visits (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        at_ms   INTEGER NOT NULL,
        ip      TEXT,                  -- null for an alert looked up on its own
        alert   TEXT,
        CHECK (ip IS NOT NULL OR alert IS NOT NULL)
    );
    CREATE INDEX visits_by_case ON visits (case_id, id);

    CREATE TABLE notes (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        kind    TEXT NOT NULL CHECK (kind IN ('ip', 'alert')),
        target  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL,
        text    TEXT NOT NULL
    );
    CREATE INDEX notes_by_case ON notes (case_id, id);

    CREATE TABLE tags (
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        kind    TEXT NOT NULL CHECK (kind IN ('ip', 'alert')),
        target  TEXT NOT NULL,
        tag     TEXT NOT NULL,
        at_ms   INTEGER NOT NULL,
        PRIMARY KEY (case_id, kind, target, tag)
    ) WITHOUT ROWID;

    -- Calls a case spent, per endpoint: kept for the report after the call log is pruned.
    CREATE TABLE case_calls (
        case_id  INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        endpoint TEXT NOT NULL,
        calls    INTEGER NOT NULL,
        PRIMARY KEY (case_id, endpoint)
    ) WITHOUT ROWID;
    "#,
    // 2: the admission ledger this user's processes share (store/local_books.rs). Apart from
    // `calls`, which is this process's history as the journal writes it.
    r#"
    CREATE TABLE admissions (
        scope    TEXT NOT NULL,
        endpoint TEXT NOT NULL,        -- Endpoint::name()
        member   TEXT NOT NULL,        -- "<process id>:<seq>": a retry is not a second call
        at_ms    INTEGER NOT NULL,
        PRIMARY KEY (scope, endpoint, member)
    ) WITHOUT ROWID;
    -- Every decision counts each window: calls of one endpoint after a time.
    CREATE INDEX admissions_by_time ON admissions (scope, endpoint, at_ms);

    -- A 429 seen by any process: nobody sends to the endpoint until then.
    CREATE TABLE pauses (
        scope    TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        until_ms INTEGER NOT NULL,
        PRIMARY KEY (scope, endpoint)
    ) WITHOUT ROWID;

    -- Processes sharing the ledger, for the consoles the budget view counts.
    CREATE TABLE processes (
        scope   TEXT NOT NULL,
        process TEXT NOT NULL,
        seen_ms INTEGER NOT NULL,
        PRIMARY KEY (scope, process)
    ) WITHOUT ROWID;
    "#,
    // 3: the cache, the call log and a case's calls name the endpoint by Endpoint::name(),
    // as the ledger does, no longer by the screen label: renaming what the status bar says
    // must not orphan stored rows. The labels here are those builds up to 2 wrote.
    r#"
    UPDATE responses SET endpoint = CASE endpoint
        WHEN 'stats' THEN 'ip_stats' WHEN 'ip-alerts' THEN 'ip_alerts'
        WHEN 'alert-ips' THEN 'alert_ips' ELSE endpoint END;
    UPDATE calls SET endpoint = CASE endpoint
        WHEN 'stats' THEN 'ip_stats' WHEN 'ip-alerts' THEN 'ip_alerts'
        WHEN 'alert-ips' THEN 'alert_ips' ELSE endpoint END;
    UPDATE case_calls SET endpoint = CASE endpoint
        WHEN 'stats' THEN 'ip_stats' WHEN 'ip-alerts' THEN 'ip_alerts'
        WHEN 'alert-ips' THEN 'alert_ips' ELSE endpoint END;
    "#,
    // 4: devices in cases: a visit may be a device's page, and notes and tags may be on a
    // device. SQLite cannot change a CHECK: the three tables are rebuilt, rows kept.
    r#"
    CREATE TABLE visits_v4 (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        at_ms   INTEGER NOT NULL,
        ip      TEXT,                  -- null for an alert looked up on its own
        alert   TEXT,
        device  TEXT,                  -- a device's page, or the device an alert was opened on
        CHECK (ip IS NOT NULL OR alert IS NOT NULL OR device IS NOT NULL)
    );
    INSERT INTO visits_v4 (id, case_id, at_ms, ip, alert)
        SELECT id, case_id, at_ms, ip, alert FROM visits;
    DROP TABLE visits;
    ALTER TABLE visits_v4 RENAME TO visits;
    CREATE INDEX visits_by_case ON visits (case_id, id);

    CREATE TABLE notes_v4 (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        kind    TEXT NOT NULL CHECK (kind IN ('ip', 'alert', 'device')),
        target  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL,
        text    TEXT NOT NULL
    );
    INSERT INTO notes_v4 SELECT id, case_id, kind, target, at_ms, text FROM notes;
    DROP TABLE notes;
    ALTER TABLE notes_v4 RENAME TO notes;
    CREATE INDEX notes_by_case ON notes (case_id, id);

    CREATE TABLE tags_v4 (
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        kind    TEXT NOT NULL CHECK (kind IN ('ip', 'alert', 'device')),
        target  TEXT NOT NULL,
        tag     TEXT NOT NULL,
        at_ms   INTEGER NOT NULL,
        PRIMARY KEY (case_id, kind, target, tag)
    ) WITHOUT ROWID;
    INSERT INTO tags_v4 SELECT case_id, kind, target, tag, at_ms FROM tags;
    DROP TABLE tags;
    ALTER TABLE tags_v4 RENAME TO tags;
    "#,
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// What we found at the path.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// Our file, at this version (0: a new, empty file).
    Ours(i64),
    /// Our file, from a newer mde-triage: leave it alone.
    Newer(i64),
    /// Some other program's SQLite database.
    Foreign,
}

/// Reads the three marks in one read transaction: read one by one, another process's
/// migration could commit between them, and a new file half-seen (no id yet, a version, tables)
/// looked foreign and was moved aside under the feet of the process that had just made it.
pub fn inspect(conn: &Connection) -> rusqlite::Result<Found> {
    let snapshot = conn.unchecked_transaction()?;
    let app: i32 = snapshot.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i64 = snapshot.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = snapshot.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    snapshot.finish()?;
    Ok(match (app, version) {
        (APPLICATION_ID, v) if v > latest() => Found::Newer(v),
        (APPLICATION_ID, v) => Found::Ours(v),
        (0, 0) if tables == 0 => Found::Ours(0),
        _ => Found::Foreign,
    })
}

/// Brings an empty or older file to the latest schema, all steps in one transaction: a crash
/// halfway leaves the file as it was.
pub fn migrate(conn: &mut Connection, from: i64) -> rusqlite::Result<()> {
    if from >= latest() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have migrated while we waited for the write lock.
    let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(now as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::LookBack;

    #[test]
    fn a_file_of_the_first_schema_migrates_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // The file as the build before the ledger left it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            conn.execute(
                "INSERT INTO calls (scope, endpoint, at_ms) VALUES ('s', 'stats', 1)",
                [],
            )
            .unwrap();
            assert_eq!(inspect(&conn).unwrap(), Found::Ours(1));
        }
        let store = crate::store::Store::open(&path).unwrap().store;
        assert_eq!(inspect(&store.conn).unwrap(), Found::Ours(latest()));
        assert!(latest() >= 2);
        let calls: i64 = store
            .conn
            .query_row("SELECT count(*) FROM calls", [], |r| r.get(0))
            .unwrap();
        assert_eq!(calls, 1, "the call log survives the migration");
        for table in ["admissions", "pauses", "processes"] {
            let n: i64 = store
                .conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 0, "{table} exists and starts empty");
        }
    }

    #[test]
    fn a_file_of_the_second_schema_keeps_its_cache_call_log_and_case_calls() {
        use crate::defender::{Endpoint, FetchKey, FetchValue, Listing, parse_alert_id};
        use crate::store::cache::encode;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v2.db");
        let now = chrono::Utc::now();
        let ip = "192.0.2.1".parse().unwrap();
        let alert = parse_alert_id("da1_2").unwrap();
        let ips = encode(&FetchValue::Ips(Listing::of(Vec::new()))).unwrap();
        let alerts = encode(&FetchValue::Alerts(Listing::of(Vec::new()))).unwrap();
        {
            // The file as builds up to 2 left it: rows keyed by the screen label.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(MIGRATIONS[1]).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            let ms = crate::store::to_ms(now);
            let insert = "INSERT INTO responses (scope, endpoint, subject, body, fetched_ms)
                          VALUES ('s', ?1, ?2, ?3, ?4)";
            conn.execute(insert, rusqlite::params!["stats", "192.0.2.1", "null", ms])
                .unwrap();
            conn.execute(
                insert,
                rusqlite::params!["ip-alerts", "192.0.2.1", alerts, ms],
            )
            .unwrap();
            conn.execute(insert, rusqlite::params!["alert-ips", "da1_2", ips, ms])
                .unwrap();
            for label in ["stats", "ip-alerts", "ip-alerts", "alert-ips"] {
                conn.execute(
                    "INSERT INTO calls (scope, endpoint, at_ms) VALUES ('s', ?1, ?2)",
                    rusqlite::params![label, ms],
                )
                .unwrap();
            }
            conn.execute_batch(
                "INSERT INTO cases (id, name, scope, api_host, portal, created_ms, updated_ms)
                 VALUES (7, 'c', 's', 'h', 'p', 0, 0);
                 INSERT INTO case_calls (case_id, endpoint, calls)
                 VALUES (7, 'stats', 1), (7, 'ip-alerts', 2), (7, 'alert-ips', 3);",
            )
            .unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap().store;
        assert_eq!(inspect(&store.conn).unwrap(), Found::Ours(latest()));

        for key in [
            FetchKey::IpStats(ip, LookBack::MONTH),
            FetchKey::IpAlerts(ip),
            FetchKey::AlertIps(alert),
        ] {
            let hit = store.response("s", &key).unwrap();
            assert!(hit.is_some(), "the cached {key} survives the migration");
        }
        let mut calls: Vec<Endpoint> = store
            .calls_since("s", now - chrono::Duration::minutes(1))
            .unwrap()
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        calls.sort();
        assert_eq!(
            calls,
            [
                Endpoint::IpStats,
                Endpoint::IpAlerts,
                Endpoint::IpAlerts,
                Endpoint::AlertIps
            ],
            "the call log survives the migration"
        );
        let mut spent = store.case_calls(crate::store::CaseId(7)).unwrap();
        spent.retain(|(_, n)| *n > 0);
        assert_eq!(
            spent,
            [
                (Endpoint::IpStats, 1),
                (Endpoint::IpAlerts, 2),
                (Endpoint::AlertIps, 3)
            ],
            "a case's calls survive the migration"
        );
        let labelled: i64 = store
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM responses WHERE endpoint LIKE '%-%' OR endpoint = 'stats')
                      + (SELECT count(*) FROM calls WHERE endpoint LIKE '%-%' OR endpoint = 'stats')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(labelled, 0, "no row is left under a screen label");
    }

    /// Consoles started together on a new data directory: each opens the one file, none
    /// finds it foreign or busy and moves it aside. Before the marks were read in one
    /// transaction, about 4 in 100 rounds of six openers lost the file this way.
    #[test]
    fn openers_racing_on_a_new_file_all_get_the_same_database() {
        for round in 0..25 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(crate::store::FILE_NAME);
            std::thread::scope(|s| {
                let openers: Vec<_> = (0..6)
                    .map(|_| s.spawn(|| crate::store::Store::open(&path)))
                    .collect();
                for opener in openers {
                    let opened = opener.join().unwrap();
                    let opened = opened.unwrap_or_else(|e| panic!("round {round}: {e}"));
                    assert_eq!(opened.warning, None, "round {round}");
                }
            });
            let names: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
                .collect();
            assert_eq!(names, [crate::store::FILE_NAME], "round {round}");
        }
    }

    /// A file of schema 3 (before devices in cases): its visits, notes and tags survive the
    /// rebuild, and the tables now take a device.
    #[test]
    fn a_file_of_schema_3_keeps_its_case_rows_and_takes_devices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for (i, sql) in MIGRATIONS.iter().take(3).enumerate() {
                tx.execute_batch(sql).unwrap();
                tx.pragma_update(None, "user_version", i as i64 + 1)
                    .unwrap();
            }
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            tx.execute_batch(
                "INSERT INTO cases (id, name, scope, api_host, portal, created_ms, updated_ms)
                     VALUES (1, 'INC-1', 's', 'api', 'https://p', 1, 1);
                 INSERT INTO visits (case_id, at_ms, ip, alert) VALUES (1, 2, '10.0.0.1', NULL);
                 INSERT INTO notes (case_id, kind, target, at_ms, text)
                     VALUES (1, 'ip', '10.0.0.1', 3, 'seen twice');
                 INSERT INTO tags (case_id, kind, target, tag, at_ms)
                     VALUES (1, 'ip', '10.0.0.1', 'benign', 4);",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let store = crate::store::Store::open(&path).unwrap().store;
        let case = crate::store::CaseId(1);
        assert_eq!(store.visits(case).unwrap().len(), 1);
        assert_eq!(store.notes(case).unwrap().len(), 1);
        assert_eq!(store.tags(case).unwrap().len(), 1);
        let device = crate::case::Target::Device(crate::defender::parse_device_id("ws-1").unwrap());
        let at = crate::store::from_ms(5);
        store.add_note(case, &device, "isolated", at).unwrap();
        store
            .set_tag(case, &device, "compromised", true, at)
            .unwrap();
        store
            .record_visit(case, (None, None, Some("ws-1")), at)
            .unwrap();
        assert_eq!(store.notes(case).unwrap().len(), 2);
        assert_eq!(store.tags(case).unwrap().len(), 2);
        assert_eq!(store.visits(case).unwrap()[1].3.as_deref(), Some("ws-1"));
    }
}
