//! The Microsoft Defender for Endpoint API: what we ask, what comes back, and what can go wrong.
//!
//! Nothing here knows about the console or the scheduler: `app/` names requests with
//! [`FetchKey`], `fetch/` drives a [`Transport`], and `sim/` shares these model types.

pub mod auth;
pub mod azure_cli;
pub mod client;
pub mod cloud;
pub mod device;
pub mod device_code;
mod entra;
pub mod error;
pub mod fields;
pub mod findbyip;
pub mod indicator;
pub mod input;
pub mod jwt;
pub mod key;
pub mod listing;
pub mod look_back;
pub mod model;
pub mod portal;
pub mod sanitize;
pub mod team_id;
pub mod transport;

pub use device::{Device, DeviceIp};
pub use error::{ApiError, ErrorKind};
pub use findbyip::UtcSecond;
pub use input::{AlertId, DeviceId, InputError, parse_alert_id, parse_device_id, parse_ip};
pub use key::{Endpoint, FetchKey, FetchValue, NotFound};
pub use listing::{Cut, Listing};
pub use look_back::{LookBack, LookBackError};
pub use model::{Alert, IpStats, RelatedIp, Severity, Status};
pub use transport::{Call, CallFuture, Next, Page, Transport};

/// The commercial API host; `--api-url` / `MDE_API_URL` override it.
pub const DEFAULT_API_URL: &str = "https://api.security.microsoft.com";
