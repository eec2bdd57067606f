//! What each subcommand does, and how its failures become exit codes.

pub mod books;
pub mod cases;
pub mod console;
pub mod credentials;
pub mod device;
pub mod doctor;
pub mod expand;
pub mod json;
pub mod oneshot;
pub mod output;
pub mod session;
pub mod simulator;
pub mod team_notice;
pub mod wiring;

use std::fmt;

use crate::defender::{ApiError, InputError};
pub use credentials::{credential_source, credentials};

/// Exit codes that are not an API error kind (those are in `ErrorKind::exit_code`).
pub mod exit {
    pub const INTERNAL: u8 = 1;
    /// Bad usage or invalid input caught before any call (clap uses 2 for usage too).
    pub const INPUT: u8 = 2;
    /// Missing token, unusable URL or other configuration problem.
    pub const CONFIG: u8 = 11;
    // 3 to 10, 12, 13 and 15 are the API error kinds' (`ErrorKind::exit_code`: 12 a network
    // failure, 15 offline and not in the cache).
    /// `doctor` found at least one problem.
    pub const DOCTOR: u8 = 14;
    /// No such case (`export`).
    pub const NO_CASE: u8 = 16;
    /// Stopped by Ctrl-C after flushing what was done (128 + SIGINT, as shells expect).
    pub const INTERRUPTED: u8 = 130;
}

/// A command's failure: one clear sentence and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(exit::CONFIG, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Self::new(e.kind.exit_code(), e.sentence())
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Self::new(exit::INPUT, e.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::new(exit::INTERNAL, format!("{e:#}"))
    }
}

/// `--extract`: every IP in `text`, with what was found and skipped (and why) and what each
/// lookup reads past said on stderr; text with no IP is an input error.
pub fn extract(text: &str, none: &str) -> Result<Vec<crate::defender::indicator::Found>, Failure> {
    let reading = crate::defender::indicator::read(text);
    eprintln!("mde-triage: {}", reading.summary());
    say_read_past(&reading.found);
    if reading.found.is_empty() {
        return Err(Failure::new(exit::INPUT, none));
    }
    Ok(reading.found)
}

/// What looking up each address reads past (a port, a mapped IPv4), on stderr.
pub fn say_read_past(found: &[crate::defender::indicator::Found]) {
    for f in found.iter().filter(|f| !f.notes.is_empty()) {
        eprintln!("mde-triage: {}", f.said());
    }
}

/// The host part of a URL, for the title bar.
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| url.to_owned())
}
