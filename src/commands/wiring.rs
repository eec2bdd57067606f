//! The composition root of every command that calls the API: the HTTP client and the scheduler
//! in front of it, the books it admits calls on, and the database with the case recorded into.
//! The console, the one-shots, `expand` and `doctor` are wired here and nowhere else.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc::UnboundedReceiver;

use super::Failure;
use super::session::{Persistence, case_meta};
use crate::case::SavedCase;
use crate::config::Settings;
use crate::defender::client::{Client, ClientConfig, TokenSource};
use crate::fetch::{FetchEvent, FetchHandle, Ledger, Memory, SchedulerConfig};
use crate::store::{CaseId, CaseMeta};

/// A command wired to the API: the scheduler (the only road to it), its events, and what the
/// command records.
pub struct Wiring {
    pub fetch: FetchHandle,
    pub events: UnboundedReceiver<FetchEvent>,
    pub recording: Recording,
}

impl Wiring {
    /// A command that records (`ip`, `alert`, `device`, `expand`): the books `settings` ask
    /// for opened, what they could not do said on stderr, then the scheduler with the
    /// recording's memory.
    pub async fn recorded(
        settings: &Settings,
        tokens: Arc<dyn TokenSource>,
        recording: Recording,
    ) -> Result<Self, Failure> {
        let books = super::books::open(settings, &tokens, &recording.db.scope).await;
        books.say();
        Self::connected(settings, tokens, &settings.api_url, recording, books.ledger)
    }

    /// The scheduler in front of `api_url`, with `recording`'s memory and `ledger`'s books.
    pub fn connected(
        settings: &Settings,
        tokens: Arc<dyn TokenSource>,
        api_url: &str,
        recording: Recording,
        ledger: Option<Arc<dyn Ledger>>,
    ) -> Result<Self, Failure> {
        let (fetch, events) = connect(api_url, tokens, settings, recording.memory(), ledger)?;
        Ok(Self {
            fetch,
            events,
            recording,
        })
    }
}

/// `doctor`'s probes: the scheduler on the shared books when there are some, with no memory
/// (a cached answer proves no permission).
pub async fn probes(
    settings: &Settings,
    tokens: Arc<dyn TokenSource>,
) -> Result<(FetchHandle, UnboundedReceiver<FetchEvent>), Failure> {
    let books = super::books::open(settings, &tokens, &settings.scope()).await;
    connect(&settings.api_url, tokens, settings, None, books.ledger)
}

/// The scheduler's settings from the command's: one place, so the books and the scheduler
/// read one policy.
pub fn scheduler_config(settings: &Settings) -> SchedulerConfig {
    SchedulerConfig {
        limits: settings.limits.clone(),
        reserve: settings.reserve,
        max_pages: settings.max_pages,
        cache: settings.cache,
        wall: settings.wall,
        ..SchedulerConfig::default()
    }
}

/// Builds the HTTP client and starts the scheduler in front of it: the only road to the API.
/// With `memory`, the scheduler serves cached answers and remembers the calls of the last hour;
/// with `ledger` (see [`books`](super::books)), every call is admitted on books shared with
/// other processes.
fn connect(
    api_url: &str,
    tokens: Arc<dyn TokenSource>,
    settings: &Settings,
    memory: Option<Arc<dyn Memory>>,
    ledger: Option<Arc<dyn Ledger>>,
) -> Result<(FetchHandle, UnboundedReceiver<FetchEvent>), Failure> {
    let client = Client::new(
        ClientConfig {
            base_url: api_url.to_owned(),
            timeout: settings.timeout,
        },
        tokens,
    )
    .map_err(|e| Failure::config(e.sentence()))?
    .with_wall(settings.wall);
    Ok(crate::fetch::spawn_shared(
        Arc::new(client),
        scheduler_config(settings),
        memory,
        ledger,
    ))
}

/// The database of a command and the case it records into, if any.
pub struct Recording {
    pub db: Persistence,
    pub case: Option<CaseId>,
}

impl Recording {
    /// For a one-shot command or `expand`: the cache always, a case only when `--case` names
    /// one; what the database could not do said on stderr.
    pub fn open(settings: &Settings) -> Result<Self, Failure> {
        let db = Persistence::open(settings, settings.scope());
        for w in &db.warnings {
            eprintln!("mde-triage: {w}");
        }
        let case = match &settings.case {
            Some(name) => {
                let meta = case_meta(settings, &db.scope, &super::host_of(&settings.api_url));
                db.open_case(name, &meta)?.map(|(id, _)| id)
            }
            None => None,
        };
        Ok(Self { db, case })
    }

    /// For the console: the database under `scope` and the case `name` reopened where it was
    /// left (or created), with what it holds.
    pub fn console(
        settings: &Settings,
        scope: String,
        name: &str,
        meta: &CaseMeta,
    ) -> Result<(Self, Option<SavedCase>), Failure> {
        let db = Persistence::open(settings, scope);
        let (case, saved) = db.open_case(name, meta)?.unzip();
        Ok((Self { db, case }, saved))
    }

    pub fn memory(&self) -> Option<Arc<dyn Memory>> {
        self.db.memory(self.case)
    }

    /// Adds a step to the case's trail, if one is being recorded.
    pub fn visit(&self, visit: crate::case::Visit) {
        if let (Some(case), Some(journal)) = (self.case, self.db.journal()) {
            journal.send(crate::store::Write::Visit {
                case,
                visit,
                at: Utc::now(),
            });
        }
    }

    pub fn finish(self) {
        self.db.finish();
    }
}
