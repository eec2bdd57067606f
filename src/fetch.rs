//! The only road to the network: a scheduler task that keeps every endpoint inside the API's
//! sliding-window limits, coalesces identical requests, and pauses on 429.
//!
//! Nothing here knows about the console; it takes [`FetchRequest`]s and answers with
//! [`FetchEvent`]s.

pub mod answers;
pub mod budget;
pub mod cache;
pub mod collect;
pub mod ledger;
pub mod limits;
pub mod policy;
pub mod scheduler;
pub mod sharing;
pub mod status;

pub use answers::{Answer, Answers, Heard};
pub use cache::{CachePolicy, CacheUse, Memory, Origin, Ttl};
pub use collect::{Collected, Noted, collect};
pub use ledger::{Ask, Ledger, LedgerFuture, Lookup, Verdict};
pub use limits::{RateLimits, Window};
pub use policy::BudgetPolicy;
pub use scheduler::{
    FetchEvent, FetchHandle, FetchRequest, SchedulerConfig, spawn, spawn_shared, spawn_with_memory,
};
pub use status::{
    Backend, BudgetStatus, EndpointBudget, Link, Priority, SharedEndpoint, SharedStatus, Ticket,
    WindowStatus,
};
