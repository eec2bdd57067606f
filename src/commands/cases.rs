//! `cases` and `export`: what is saved, and a case's report for a ticket.

use std::io::Write as _;
use std::path::Path;

use super::{Failure, exit};
use crate::config::Settings;
use crate::report::{self, Format};
use crate::store::Store;

fn open(settings: &Settings) -> Result<Store, Failure> {
    let path = settings
        .database()
        .ok_or_else(|| Failure::config("no data directory is known; pass --data-dir"))?;
    let opened = Store::open(&path).map_err(|e| Failure::config(e.to_string()))?;
    if let Some(w) = opened.warning {
        eprintln!("mde-triage: {w}");
    }
    Ok(opened.store)
}

/// `mde-triage cases`: one line per case, most recent first.
pub fn list(settings: &Settings) -> Result<(), Failure> {
    let store = open(settings)?;
    let cases = store
        .list_cases()
        .map_err(|e| Failure::config(format!("cannot read the cases: {e}")))?;
    let mut out = std::io::stdout().lock();
    if cases.is_empty() {
        let _ = writeln!(
            out,
            "No cases yet in {}. The console records one per day; name one with --case NAME.",
            store.path().display()
        );
        return Ok(());
    }
    let width = cases
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:<16}  {:>6}  {:>5}  {:>4}  {:>5}  SOURCE",
        "CASE", "UPDATED (UTC)", "STEPS", "NOTES", "TAGS", "CALLS"
    );
    for c in cases {
        let _ = writeln!(
            out,
            "{:<width$}  {:<16}  {:>6}  {:>5}  {:>4}  {:>5}  {}",
            c.name,
            c.updated.format("%Y-%m-%d %H:%M"),
            c.visits,
            c.notes,
            c.tags,
            c.calls,
            c.api_host
        );
    }
    Ok(())
}

/// `mde-triage export CASE --format md|json|csv [-o FILE]`.
pub fn export(
    settings: &Settings,
    name: &str,
    format: Format,
    output: Option<&Path>,
) -> Result<(), Failure> {
    let store = open(settings)?;
    let id = store
        .find_case(name)
        .map_err(|e| Failure::config(format!("cannot read the cases: {e}")))?
        .ok_or_else(|| {
            Failure::new(
                exit::NO_CASE,
                format!("no case named '{name}' (`mde-triage cases` lists them)"),
            )
        })?;
    let report = store
        .case_report(id)
        .map_err(|e| Failure::config(format!("cannot read case '{name}': {e}")))?;
    let text = report::render(&report, format, chrono::Utc::now());
    match output {
        Some(path) => {
            // Written next to its final name, then renamed: a failed export never leaves half
            // a report where a ticket might pick it up.
            let tmp = path.with_extension(format!("{}.partial", format.extension()));
            std::fs::write(&tmp, &text)
                .and_then(|()| std::fs::rename(&tmp, path))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    Failure::new(
                        exit::INTERNAL,
                        format!("cannot write {}: {e}", path.display()),
                    )
                })?;
            eprintln!("mde-triage: case '{name}' written to {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        }
    }
    Ok(())
}
