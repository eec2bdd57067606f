//! Microsoft Graph security, the second source (issue 21): the MDE API retires on 2027-02-01.
//! This is the pure layer: hunting requests and their KQL, hunting answers read into typed
//! rows, `alerts_v2` read into the MDE model, and Graph's errors. No network, no scheduler.
//!
//! Facts and their sources: `../shared/graph-api/FACTS.md` (copied examples in
//! `tests/fixtures/graph/`).

pub mod hunting_request;
pub mod kql;
pub mod queries;

pub use hunting_request::{HUNTING_PATH, HuntingRequest};
pub use queries::Hunt;
