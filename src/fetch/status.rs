//! Plain data the scheduler publishes and the console reads: no clocks, no channels.

use std::time::Duration;

use crate::defender::Endpoint;

/// Identifies one request from the console, so a stale answer can be recognised and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ticket(pub u64);

/// Who is waiting for an answer; higher runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// `expand` and other bulk work.
    Batch,
    /// Guesswork about what the analyst opens next.
    Prefetch,
    /// On screen now, not directly asked for.
    Visible,
    /// The analyst just asked.
    Foreground,
}

/// One sliding window's use, as of when the status was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowStatus {
    pub limit: u32,
    pub window: Duration,
    pub used: u32,
}

impl WindowStatus {
    pub fn left(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// One endpoint's budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointBudget {
    pub endpoint: Endpoint,
    pub windows: Vec<WindowStatus>,
    /// Time left in a pause after a 429, as of publication. The scheduler republishes every
    /// second while paused, so the console can show a countdown without reading a clock.
    pub paused_for: Option<Duration>,
    /// Calls sent to this endpoint since start (retries and pages included).
    pub calls: u64,
    /// 429 answers received since start.
    pub throttled: u64,
    /// Time paused after 429s since start.
    pub paused_total: Duration,
}

impl EndpointBudget {
    /// The tightest window: the fewest calls left.
    pub fn tightest(&self) -> Option<&WindowStatus> {
        self.windows.iter().min_by_key(|w| w.left())
    }
}

/// What the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BudgetStatus {
    pub endpoints: Vec<EndpointBudget>,
    /// Requests waiting for budget or a free slot.
    pub queued: usize,
    /// Requests on the wire now.
    pub in_flight: usize,
    /// The shared books, when a ledger keeps them (the team's Redis, or the local database
    /// shared with this user's other processes). Per-endpoint figures above are this
    /// process's own.
    pub shared: Option<SharedStatus>,
}

impl BudgetStatus {
    pub fn endpoint(&self, e: Endpoint) -> Option<&EndpointBudget> {
        self.endpoints.iter().find(|b| b.endpoint == e)
    }

    /// The longest pause in force, if any endpoint is paused.
    pub fn paused_for(&self) -> Option<Duration> {
        self.endpoints.iter().filter_map(|e| e.paused_for).max()
    }
}

/// How the budget is shared, for the analyst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedStatus {
    pub backend: Backend,
    pub link: Link,
    /// Processes that spent or held this budget in the last minutes, this one included.
    pub consoles: u32,
    pub endpoints: Vec<SharedEndpoint>,
}

/// Which kind of ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The team's Redis.
    Team,
    /// The local database, shared by this user's processes on one data directory.
    Local,
}

/// Whether the shared books can be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connected,
    /// Deciding locally on a conservative share until the backend answers again: each
    /// window's limit divided by `share_of` (the processes last seen, at least 1).
    Unreachable {
        share_of: u32,
    },
}

/// One endpoint as the shared books see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedEndpoint {
    pub endpoint: Endpoint,
    /// The whole team's use of each window (this process's calls included), as last seen.
    pub windows: Vec<WindowStatus>,
    /// Time left in a pause every process honours, as of [`Ledger::status`](super::Ledger::status)'s call (the actor
    /// asks again each second while one runs, so the console shows a countdown without a clock).
    pub paused_for: Option<Duration>,
}
