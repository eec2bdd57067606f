//! A value that arrives over the network, with the state of its arrival.

use chrono::{DateTime, Utc};

use crate::defender::ApiError;
use crate::fetch::Ticket;

/// One pane's data. A result whose ticket does not match `Loading { ticket }` is stale and is
/// dropped (the analyst refreshed or the request was replaced).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Remote<T> {
    #[default]
    Idle,
    Loading {
        ticket: Ticket,
        /// `(attempt, max)` while the scheduler retries a transient failure.
        retry: Option<(u32, u32)>,
    },
    Ready {
        value: T,
        /// When the API gave this answer (long ago, for a cached one).
        as_of: DateTime<Utc>,
        /// Served from the cache rather than asked for in this session.
        cached: bool,
        /// A fresher answer is on its way for this ticket; the value stays shown meanwhile.
        refreshing: Option<Ticket>,
    },
    Failed {
        error: ApiError,
    },
}

impl<T> Remote<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Ready { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self, Self::Loading { .. })
    }

    /// Loading, or shown while a fresher answer is on its way.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Self::Loading { .. }
                | Self::Ready {
                    refreshing: Some(_),
                    ..
                }
        )
    }

    /// The ticket an answer is awaited for, if any.
    pub fn awaited(&self) -> Option<Ticket> {
        match self {
            Self::Loading { ticket, .. } => Some(*ticket),
            Self::Ready { refreshing, .. } => *refreshing,
            _ => None,
        }
    }

    /// Whether the data is here or on its way: no new request is needed.
    pub fn is_settled_or_pending(&self) -> bool {
        !matches!(self, Self::Idle)
    }
}
