//! mde-triage: a keyboard-driven console for pivoting through Microsoft Defender for Endpoint
//! IPs and alerts under the API's rate limits.

pub mod defender;
pub mod fetch;
pub mod sim;
