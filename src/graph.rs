//! Microsoft Graph security, the second source (issue 21): the MDE API retires on 2027-02-01.
//! This is the pure layer: hunting requests and their KQL, hunting answers read into typed
//! rows, `alerts_v2` read into the MDE model, and Graph's errors. No network, no scheduler.
//!
//! Facts and their sources: `../shared/graph-api/FACTS.md` (copied examples in
//! `tests/fixtures/graph/`).

pub mod alert_rows;
pub mod alert_v2;
pub mod device_rows;
pub mod enums;
pub mod error;
pub mod evidence;
pub mod hunting_request;
pub mod hunting_results;
pub mod ip_activity;
pub mod kql;
pub mod queries;

pub use alert_rows::{AlertRow, AlertRows};
pub use alert_v2::{ALERTS_PATH, GraphAlert, decode_alert, decode_alert_page};
pub use device_rows::{DeviceRow, HolderRow, Rows, read_devices, read_holders};
pub use error::{Cause, GraphError, from_graph_response};
pub use evidence::{DeviceEvidence, EvidenceTally, GraphIp, IpOrigin};
pub use hunting_request::{HUNTING_PATH, HuntingRequest};
pub use hunting_results::{Caveat, Column, HuntingResults, ROW_CAP, decode_results};
pub use ip_activity::{Connection, IpActivity};
pub use queries::Hunt;

#[cfg(test)]
mod tests;
