//! Messages into the core, and commands out of it.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::defender::{ApiError, FetchKey, FetchValue};
use crate::fetch::{BudgetStatus, FetchRequest, Priority, Ticket};

/// Everything that can change [`super::State`].
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// Bracketed paste: the whole text at once.
    Paste(String),
    /// The terminal changed size; only a redraw is needed.
    Resize,
    /// An answer from the scheduler. `at` is when it arrived, stamped by the loop.
    Fetched {
        key: FetchKey,
        ticket: Ticket,
        result: Result<FetchValue, ApiError>,
        at: DateTime<Utc>,
    },
    /// The scheduler retries `key` after a transient failure.
    Retrying {
        key: FetchKey,
        attempt: u32,
        max: u32,
        error: ApiError,
    },
    Budget(BudgetStatus),
    /// Animation step (spinner); sent only while something animates.
    Tick,
}

/// Side effects the loop runs for the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Fetch(FetchRequest),
    /// The view this ticket serves came into sight (raise) or was left (lower; its answer still
    /// fills the store, so coming back costs nothing). Never starts a call.
    Reprioritize(Ticket, Priority),
    Quit,
}
