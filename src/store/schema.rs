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
    // 5: places by kind and id. A visit names its place's kind (`Subject::kind`) and id, or
    // none for an alert looked up on its own; notes and tags take any kind. No CHECK lists a
    // kind any more: the code reads rows through `Subject::parse`/`Target::parse`, which skip
    // a kind they do not know, so a new kind of place needs no rebuild. Rows kept; builds up
    // to 4 never wrote a visit with both an IP and a device.
    r#"
    CREATE TABLE visits_v5 (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        at_ms   INTEGER NOT NULL,
        kind    TEXT,                  -- the place's kind; null for an alert on its own
        subject TEXT,                  -- the place's id
        alert   TEXT,                  -- the alert opened there, if any
        CHECK ((kind IS NULL) = (subject IS NULL)),
        CHECK (subject IS NOT NULL OR alert IS NOT NULL)
    );
    INSERT INTO visits_v5 (id, case_id, at_ms, kind, subject, alert)
        SELECT id, case_id, at_ms,
               CASE WHEN ip IS NOT NULL THEN 'ip' WHEN device IS NOT NULL THEN 'device' END,
               coalesce(ip, device), alert
          FROM visits;
    DROP TABLE visits;
    ALTER TABLE visits_v5 RENAME TO visits;
    CREATE INDEX visits_by_case ON visits (case_id, id);

    CREATE TABLE notes_v5 (
        id      INTEGER PRIMARY KEY,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        kind    TEXT NOT NULL,         -- Target::kind
        target  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL,
        text    TEXT NOT NULL
    );
    INSERT INTO notes_v5 SELECT id, case_id, kind, target, at_ms, text FROM notes;
    DROP TABLE notes;
    ALTER TABLE notes_v5 RENAME TO notes;
    CREATE INDEX notes_by_case ON notes (case_id, id);

    CREATE TABLE tags_v5 (
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        kind    TEXT NOT NULL,
        target  TEXT NOT NULL,
        tag     TEXT NOT NULL,
        at_ms   INTEGER NOT NULL,
        PRIMARY KEY (case_id, kind, target, tag)
    ) WITHOUT ROWID;
    INSERT INTO tags_v5 SELECT case_id, kind, target, tag, at_ms FROM tags;
    DROP TABLE tags;
    ALTER TABLE tags_v5 RENAME TO tags;
    "#,
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// What we found at the path.
#[derive(Debug, PartialEq, Eq)]
pub enum FileKind {
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
pub fn inspect(conn: &Connection) -> rusqlite::Result<FileKind> {
    let snapshot = conn.unchecked_transaction()?;
    let app: i32 = snapshot.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version: i64 = snapshot.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = snapshot.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    snapshot.finish()?;
    Ok(match (app, version) {
        (APPLICATION_ID, v) if v > latest() => FileKind::Newer(v),
        (APPLICATION_ID, v) => FileKind::Ours(v),
        (0, 0) if tables == 0 => FileKind::Ours(0),
        _ => FileKind::Foreign,
    })
}

/// Makes an empty file into one of schema `version` exactly as the build that wrote that version
/// left it: the start of every test of a migration from an older file.
pub fn create_as_of(conn: &mut Connection, version: usize) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for (i, sql) in MIGRATIONS.iter().take(version).enumerate() {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()
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
mod tests;
