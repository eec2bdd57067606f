//! The database's one writer: a thread with its own connection that takes [`Write`]s from a
//! channel and commits them in transactions, so no async task ever waits on the disk and two
//! processes sharing the file take turns through SQLite's busy timeout.

use std::sync::{Arc, Weak, mpsc};
use std::thread::JoinHandle;

use super::{CaseId, Store, describe};
use crate::case::Target;
use crate::defender::{Endpoint, FetchKey, FetchValue};
use chrono::{DateTime, Utc};

/// Most writes committed in one transaction.
const BATCH: usize = 256;

/// One change to the database.
#[derive(Debug, Clone)]
pub enum Write {
    Response {
        scope: String,
        key: FetchKey,
        value: FetchValue,
        at: DateTime<Utc>,
    },
    Call {
        scope: String,
        endpoint: Endpoint,
        at: DateTime<Utc>,
        case: Option<CaseId>,
        /// False: the call was refused with a 429 and is taken back.
        sent: bool,
    },
    Visit {
        case: CaseId,
        visit: crate::case::Visit,
        at: DateTime<Utc>,
    },
    Trail {
        case: CaseId,
        json: String,
    },
    Draft {
        case: CaseId,
        json: Option<String>,
    },
    Note {
        case: CaseId,
        target: Target,
        text: String,
        at: DateTime<Utc>,
    },
    Tag {
        case: CaseId,
        target: Target,
        tag: String,
        on: bool,
        at: DateTime<Utc>,
    },
    /// Commit what came before, and end the thread (sent by [`Writer::finish`] only).
    Stop,
    /// Writes the case report (Markdown) to `path`, after every write sent before it.
    Export {
        case: CaseId,
        path: std::path::PathBuf,
        now: DateTime<Utc>,
    },
}

/// What the writer tells the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// A write failed: what the analyst typed is kept in memory only.
    Failing(String),
    /// Writes succeed again.
    Saving,
    /// The report asked for is written (`Ok(path)`), or why not.
    Exported(Result<std::path::PathBuf, String>),
}

/// Sends writes to the writer thread. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Journal {
    tx: mpsc::Sender<Write>,
    /// Counts the journals alive, so [`Writer::finish`] knows when the last one is gone.
    _alive: Arc<()>,
}

/// The writer thread; [`Writer::finish`] waits until every write sent has been committed.
#[derive(Debug)]
pub struct Writer {
    handle: JoinHandle<()>,
    /// To tell the thread to stop (it blocks on the channel, so it never wakes idle).
    tx: mpsc::Sender<Write>,
    alive: Weak<()>,
}

impl Journal {
    /// Starts the writer on `store`. Health changes arrive on the returned receiver.
    pub fn spawn(
        store: Store,
    ) -> (
        Journal,
        Writer,
        tokio::sync::mpsc::UnboundedReceiver<Health>,
    ) {
        let (tx, rx) = mpsc::channel();
        let (health_tx, health_rx) = tokio::sync::mpsc::unbounded_channel();
        let handle = std::thread::Builder::new()
            .name("mde-triage-db".into())
            .spawn(move || write_loop(store, rx, health_tx))
            .expect("spawning the database thread");
        let alive = Arc::new(());
        let writer = Writer {
            handle,
            tx: tx.clone(),
            alive: Arc::downgrade(&alive),
        };
        (Journal { tx, _alive: alive }, writer, health_rx)
    }

    pub fn send(&self, write: Write) {
        // Fails only after `Writer::finish` gave up waiting: such a late write is dropped.
        let _ = self.tx.send(write);
    }
}

impl Writer {
    /// Waits until every [`Journal`] is gone (a scheduler finishing its last calls still
    /// holds one) and all they sent is committed, but no longer than `grace`: after that,
    /// what is pending is committed and later writes are dropped.
    pub fn finish(self, grace: std::time::Duration) {
        // Polled here, at exit only: the writer thread itself never wakes while idle.
        let deadline = std::time::Instant::now() + grace;
        while self.alive.strong_count() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.tx.send(Write::Stop);
        let _ = self.handle.join();
    }
}

fn write_loop(
    mut store: Store,
    rx: mpsc::Receiver<Write>,
    health: tokio::sync::mpsc::UnboundedSender<Health>,
) {
    let mut failing = false;
    while let Ok(first) = rx.recv() {
        if let Write::Stop = first {
            return;
        }
        if let Write::Export { case, path, now } = first {
            let _ = health.send(Health::Exported(export(&store, case, &path, now)));
            continue;
        }
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                // An export waits for the writes before it: it starts the next batch.
                Ok(Write::Export { case, path, now }) => {
                    commit(&mut store, &batch, &mut failing, &health);
                    batch.clear();
                    let _ = health.send(Health::Exported(export(&store, case, &path, now)));
                }
                Ok(Write::Stop) => {
                    commit(&mut store, &batch, &mut failing, &health);
                    return;
                }
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        commit(&mut store, &batch, &mut failing, &health);
    }
}

/// The Markdown report of `case`, written to `path` (its directory created).
fn export(
    store: &Store,
    case: CaseId,
    path: &std::path::Path,
    now: DateTime<Utc>,
) -> Result<std::path::PathBuf, String> {
    let report = store.case_report(case).map_err(|e| describe(&e))?;
    let text = crate::report::render(&report, crate::report::Format::Markdown, now);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path.to_owned())
}

fn commit(
    store: &mut Store,
    batch: &[Write],
    failing: &mut bool,
    health: &tokio::sync::mpsc::UnboundedSender<Health>,
) {
    if batch.is_empty() {
        return;
    }
    {
        let result = store.apply(batch).or_else(|e| {
            // One bad write must not take the others down with it: try them one by one.
            tracing::warn!(error = %e, "batch write failed; retrying one by one");
            let mut last = Ok(());
            for w in batch {
                if let Err(e) = store.apply(std::slice::from_ref(w)) {
                    tracing::warn!(error = %e, write = ?w, "write lost");
                    last = Err(e);
                }
            }
            last
        });
        match result {
            Err(e) if !*failing => {
                *failing = true;
                let _ = health.send(Health::Failing(describe(&e)));
            }
            Ok(()) if *failing => {
                *failing = false;
                let _ = health.send(Health::Saving);
            }
            _ => {}
        }
    }
}

impl Store {
    /// Applies `writes` in one transaction: all of them or none.
    pub fn apply(&mut self, writes: &[Write]) -> rusqlite::Result<()> {
        // BEGIN IMMEDIATE takes the write lock now, so the busy timeout covers the wait
        // instead of failing at the first write.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = writes.iter().try_for_each(|w| self.apply_one(w));
        match result {
            Ok(()) => self.conn.execute_batch("COMMIT"),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn apply_one(&self, w: &Write) -> rusqlite::Result<()> {
        match w {
            Write::Response {
                scope,
                key,
                value,
                at,
            } => self.put_response(scope, key, value, *at),
            Write::Call {
                scope,
                endpoint,
                at,
                case,
                sent,
            } => self.log_call(scope, *endpoint, *at, *case, *sent),
            Write::Visit { case, visit, at } => self.record_visit(*case, visit, *at),
            Write::Trail { case, json } => self.save_trail(*case, json),
            Write::Draft { case, json } => self.save_draft(*case, json.as_deref()),
            Write::Note {
                case,
                target,
                text,
                at,
            } => self.add_note(*case, target, text, *at),
            Write::Tag {
                case,
                target,
                tag,
                on,
                at,
            } => self.set_tag(*case, target, tag, *on, *at),
            // Handled by the writer loop, outside any transaction.
            Write::Export { .. } | Write::Stop => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Target;

    fn note(case: CaseId, text: &str) -> Write {
        Write::Note {
            case,
            target: Target::Place(crate::case::Subject::Ip("10.0.0.1".parse().unwrap())),
            text: text.into(),
            at: Utc::now(),
        }
    }

    #[test]
    fn a_failing_disk_is_reported_once_and_a_healthy_writer_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap().store;
        let meta = super::super::CaseMeta {
            scope: "s".into(),
            api_host: "h".into(),
            portal: "p".into(),
            tenant_id: None,
        };
        let case = store.open_case("c", &meta, Utc::now()).unwrap();
        let writer_conn = store.reopen().unwrap();
        // What a read-only file or a full disk does to every write: SQLite refuses it.
        writer_conn
            .conn
            .pragma_update(None, "query_only", true)
            .unwrap();
        let (journal, writer, mut health) = Journal::spawn(writer_conn);
        journal.send(note(case, "lost to the disk"));
        journal.send(note(case, "this one too"));
        let said = health.blocking_recv().unwrap();
        assert!(
            matches!(&said, Health::Failing(why) if why.contains("read-only")),
            "{said:?}"
        );
        drop(journal);
        writer.finish(std::time::Duration::from_secs(5));
        assert!(health.try_recv().is_err(), "said once, not per write");
        assert!(store.notes(case).unwrap().is_empty());

        // A healthy writer commits everything it was sent before it finishes.
        let (journal, writer, _health) = Journal::spawn(store.reopen().unwrap());
        for i in 0..600 {
            journal.send(note(case, &format!("note {i}")));
        }
        drop(journal);
        writer.finish(std::time::Duration::from_secs(5));
        assert_eq!(store.notes(case).unwrap().len(), 600);
    }
}
