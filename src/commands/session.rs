//! The database side of a command: the store opened (or why not, said once), the case opened
//! or reopened, the scheduler's memory, and the writer closed cleanly at the end.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc::UnboundedReceiver;

use super::Failure;
use crate::case::SavedCase;
use crate::config::Settings;
use crate::fetch::Memory;
use crate::store::{CaseId, CaseMeta, Health, Journal, Store, StoreMemory, Writer};
use crate::tui::CaseWriter;

/// How long the end of a command waits for the scheduler's calls in flight to be saved.
const FINISH_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// The database for one command. Everything works without it, from memory.
pub struct Persistence {
    /// For the command's own reads (opening a case, exporting).
    store: Option<Store>,
    journal: Option<Journal>,
    writer: Option<Writer>,
    health: Option<UnboundedReceiver<Health>>,
    /// Which tenant answers and calls belong to.
    pub scope: String,
    /// Said to the analyst once: a file moved aside, or no database at all.
    pub warnings: Vec<String>,
}

impl Persistence {
    /// Opens the database `settings` names; on failure says why and goes on without it.
    pub fn open(settings: &Settings, scope: String) -> Self {
        let mut warnings = Vec::new();
        let opened = match settings.database() {
            Some(path) => match Store::open(&path) {
                Ok(o) => {
                    warnings.extend(o.warning);
                    Some(o.store)
                }
                Err(e) => {
                    warnings.push(format!(
                        "{e}; working from memory (nothing is cached or saved this run)"
                    ));
                    None
                }
            },
            None => {
                warnings.push(
                    "no data directory (set --data-dir); working from memory this run".into(),
                );
                None
            }
        };
        let (mut journal, mut writer, mut health) = (None, None, None);
        let store = opened.and_then(|store| match store.reopen() {
            Ok(writer_conn) => {
                let (j, w, h) = Journal::spawn(writer_conn);
                (journal, writer, health) = (Some(j), Some(w), Some(h));
                Some(store)
            }
            Err(e) => {
                warnings.push(format!("{e}; working from memory"));
                None
            }
        });
        for w in &warnings {
            tracing::warn!("{w}");
        }
        Self {
            store,
            journal,
            writer,
            health,
            scope,
            warnings,
        }
    }

    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// The scheduler's memory: cached answers, and calls counted against `case`.
    pub fn memory(&self, case: Option<CaseId>) -> Option<Arc<dyn Memory>> {
        let (store, journal) = (self.store.as_ref()?, self.journal.clone()?);
        let reader = store.reopen().ok()?;
        Some(Arc::new(StoreMemory::new(
            reader,
            journal,
            self.scope.clone(),
            case,
        )))
    }

    /// Opens (or creates) the case `name` and reads what it holds.
    pub fn open_case(
        &self,
        name: &str,
        meta: &CaseMeta,
    ) -> Result<Option<(CaseId, SavedCase)>, Failure> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let id = store
            .open_case(name, meta, Utc::now())
            .map_err(|e| Failure::config(e.to_string()))?;
        let saved = store
            .load_case(id)
            .map_err(|e| Failure::config(format!("cannot read case '{name}': {e}")))?;
        Ok(Some((id, saved)))
    }

    /// Journal writes for commands that record without the console.
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// The console's link to its case.
    pub fn recorder(
        &mut self,
        case: CaseId,
        name: &str,
        settings: &Settings,
    ) -> Option<CaseWriter> {
        Some(CaseWriter {
            journal: self.journal.clone()?,
            case,
            name: name.to_owned(),
            reports: settings.data_dir.as_ref()?.join("reports"),
            health: self.health.take()?,
        })
    }

    /// Commits what is pending and stops the writer: it waits (a few seconds at most) for
    /// the scheduler's last calls, whose answers are worth keeping.
    pub fn finish(self) {
        drop(self.journal);
        if let Some(w) = self.writer {
            w.finish(FINISH_GRACE);
        }
    }
}

/// The case the console records into when none is named: one per day (and profile), so
/// coming back the same day picks up where the analyst left.
pub fn default_case_name(settings: &Settings, demo: bool) -> String {
    let day = chrono::Local::now().format("%Y-%m-%d");
    match (demo, &settings.profile) {
        (true, _) => format!("demo-{day}"),
        (false, Some(p)) => format!("{day}-{p}"),
        (false, None) => day.to_string(),
    }
}

/// What a case records about where its data comes from.
pub fn case_meta(settings: &Settings, scope: &str, api_host: &str) -> CaseMeta {
    CaseMeta {
        scope: scope.to_owned(),
        api_host: api_host.to_owned(),
        portal: settings.cloud.portal.to_owned(),
        tenant_id: std::env::var("AZURE_TENANT_ID")
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    }
}
