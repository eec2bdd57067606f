//! The loop's link to the case in the database: turns the core's [`Record`]s into journal
//! writes stamped with the time, and asks for the report file.

use std::path::PathBuf;

use chrono::Utc;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::app::{Msg, Record};
use crate::store::{CaseId, Health, Journal, Write};

pub struct CaseWriter {
    pub journal: Journal,
    pub case: CaseId,
    /// The case's name, for the report's file name.
    pub name: String,
    /// Where `e` writes reports.
    pub reports: PathBuf,
    pub health: UnboundedReceiver<Health>,
}

impl CaseWriter {
    pub fn record(&self, record: Record) {
        let (case, at) = (self.case, Utc::now());
        self.journal.send(match record {
            Record::Visit(visit) => Write::Visit { case, visit, at },
            Record::Trail(json) => Write::Trail { case, json },
            Record::Draft(json) => Write::Draft { case, json },
            Record::Note { target, text } => Write::Note {
                case,
                target,
                text,
                at,
            },
            Record::Tag { target, tag, on } => Write::Tag {
                case,
                target,
                tag,
                on,
                at,
            },
        });
    }

    pub fn export(&self) {
        let now = Utc::now();
        let safe: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = format!("{safe}-{}.md", now.format("%Y%m%d-%H%M%S"));
        self.journal.send(Write::Export {
            case: self.case,
            path: self.reports.join(file),
            now,
        });
    }
}

/// The writer's news, as a message for the core.
pub fn health_msg(health: Health) -> Msg {
    match health {
        Health::Failing(why) => Msg::Saving(Some(why)),
        Health::Saving => Msg::Saving(None),
        Health::Exported(Ok(path)) => Msg::Notice(match (path.file_name(), path.parent()) {
            // The file's name first: on a narrow status bar the directory is what gets cut.
            (Some(name), Some(dir)) => format!(
                "report {} written in {}",
                name.to_string_lossy(),
                dir.display()
            ),
            _ => format!("report written to {}", path.display()),
        }),
        Health::Exported(Err(why)) => {
            Msg::Notice(format!("the report could not be written: {why}"))
        }
    }
}
