//! The one SQLite database (bundled SQLite, WAL): response cache, the budget's memory of
//! recent calls, cases with their trail, notes and tags, and the admission ledger this user's
//! processes share.
//!
//! Every table but the ledger's is written through [`journal::Journal`], a thread that owns its
//! own connection and commits in transactions; the scheduler reads the cache on another
//! connection (in WAL, readers never wait for writers). The ledger ([`local_books::StoreLedger`])
//! decides on a connection of its own, one transaction per decision. A file that is not ours, or is corrupt, is moved aside and
//! a fresh one started; a directory we cannot write leaves the tool working from memory.

pub mod cache;
pub mod cases;
pub mod journal;
pub mod local_books;
pub mod memory;
pub mod report_data;
pub mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use crate::case::SavedCase;
pub use cases::{CaseError, CaseId, CaseMeta, CaseSummary, TrailStep};
pub use journal::{Health, Journal, Write, Writer};
pub use local_books::StoreLedger;
pub use memory::StoreMemory;

/// Long enough for another console's write to finish, short enough not to freeze anything.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The file's name inside the data directory.
pub const FILE_NAME: &str = "mde-triage.db";

/// An open database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Why the database cannot be used. The tool then works from memory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the database {}: {reason}", path.display())]
    Unavailable { path: PathBuf, reason: String },
    #[error(
        "the database {} was written by a newer mde-triage (schema {found}, this build knows {known}); \
         update mde-triage, or pass --data-dir to use another directory",
        path.display()
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
}

/// An open store, and what had to be done to open it.
#[derive(Debug)]
pub struct Opened {
    pub store: Store,
    /// Said once to the analyst: a corrupt or foreign file was moved aside.
    pub warning: Option<String>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`. A corrupt or foreign file is renamed
    /// to `<name>.corrupt-<time>` or `<name>.foreign-<time>` and a fresh one started.
    pub fn open(path: &Path) -> Result<Opened, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(path, &e.to_string()))?;
        }
        match Self::try_open(path) {
            Ok(store) => Ok(Opened {
                store,
                warning: None,
            }),
            Err(Refused::Unusable(what)) => {
                let aside = set_aside(path, what).map_err(|e| {
                    let what = what.describe();
                    unavailable(
                        path,
                        &format!("it is {what} and cannot be moved aside: {e}"),
                    )
                })?;
                let warning = format!(
                    "the database {} was {}; it was moved to {} and a new one started",
                    path.display(),
                    what.describe(),
                    aside.display()
                );
                tracing::warn!("{warning}");
                let store = Self::try_open(path).map_err(|r| r.into_error(path))?;
                Ok(Opened {
                    store,
                    warning: Some(warning),
                })
            }
            Err(other) => Err(other.into_error(path)),
        }
    }

    /// Another connection to the same file, for a second thread.
    pub fn reopen(&self) -> Result<Store, StoreError> {
        Self::try_open(&self.path).map_err(|r| r.into_error(&self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn try_open(path: &Path) -> Result<Store, Refused> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // journal_mode is the first statement that reads the header: a file that is not a
        // database fails here.
        use_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        match schema::inspect(&conn)? {
            schema::FileKind::Foreign => return Err(Refused::Unusable(Unusable::Foreign)),
            schema::FileKind::Newer(v) => return Err(Refused::Newer(v)),
            schema::FileKind::Ours(v) => {
                if v > 0 {
                    let ok: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
                    if ok != "ok" {
                        return Err(Refused::Unusable(Unusable::Corrupt));
                    }
                }
                schema::migrate(&mut conn, v)?;
            }
        }
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }
}

/// Puts the file in WAL mode. Two connections switching a new file at once race for an
/// exclusive lock, and SQLite answers the loser BUSY at once, without calling the busy handler
/// (seen: 4 of 60 runs of six threads opening one new file). So the wait the busy timeout would
/// give is given here: retry, with a growing pause, for as long as that timeout.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            done => return done.map(drop),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked)
    )
}

/// Where the database lives: `--data-dir`/`MDE_TRIAGE_DATA_DIR`/config `data_dir`, else the
/// platform's data directory (on Linux `~/.local/share/mde-triage`).
pub fn default_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "mde-triage").map(|d| d.data_dir().to_owned())
}

enum Refused {
    /// Corrupt or foreign: set it aside and start again.
    Unusable(Unusable),
    Newer(i64),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for Refused {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => Refused::Unusable(Unusable::NotADatabase),
            Some(ErrorCode::DatabaseCorrupt) => Refused::Unusable(Unusable::Corrupt),
            _ => Refused::Sqlite(e),
        }
    }
}

impl Refused {
    fn into_error(self, path: &Path) -> StoreError {
        match self {
            Refused::Unusable(what) => unavailable(path, what.describe()),
            Refused::Newer(found) => StoreError::Newer {
                path: path.to_owned(),
                found,
                known: schema::latest(),
            },
            Refused::Sqlite(e) => unavailable(path, &describe(&e)),
        }
    }
}

fn unavailable(path: &Path, reason: &str) -> StoreError {
    StoreError::Unavailable {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// SQLite's failure as the analyst should read it.
pub fn describe(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => "the disk is full".into(),
        Some(ErrorCode::ReadOnly) => "the file or its directory is read-only".into(),
        Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied) => {
            "it cannot be opened (check the directory exists and is writable)".into()
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            "another process held it locked for too long".into()
        }
        _ => e.to_string(),
    }
}

/// A file we must not write into.
#[derive(Debug, Clone, Copy)]
enum Unusable {
    NotADatabase,
    Corrupt,
    Foreign,
}

impl Unusable {
    fn describe(self) -> &'static str {
        match self {
            Self::NotADatabase => "not a database",
            Self::Corrupt => "corrupt",
            Self::Foreign => "another program's database",
        }
    }

    /// The suffix the file is moved aside with.
    fn label(self) -> &'static str {
        match self {
            Self::Foreign => "foreign",
            Self::NotADatabase | Self::Corrupt => "corrupt",
        }
    }
}

/// Renames the file (and its WAL and shared-memory companions) out of the way.
fn set_aside(path: &Path, what: Unusable) -> std::io::Result<PathBuf> {
    let label = what.label();
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let aside = PathBuf::from(format!("{}.{label}-{stamp}", path.display()));
    std::fs::rename(path, &aside)?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", path.display()));
        if side.exists() {
            let _ = std::fs::rename(&side, format!("{}{suffix}", aside.display()));
        }
    }
    Ok(aside)
}

fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
