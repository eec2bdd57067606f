//! mde-triage: a keyboard-driven console for pivoting through Microsoft Defender for Endpoint
//! IPs and alerts under the API's rate limits.
//!
//! `defender` speaks the API, `fetch` schedules every call, `app` is the pure console core,
//! `ui` draws it, `tui` runs the loop, `sim` is the simulated tenant, `commands` wires them.

// A panic in the console or a one-shot command is a bug report; errors say what went wrong.
#![deny(clippy::unwrap_used)]

pub mod app;
pub mod case;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod defender;
pub mod fetch;
pub mod graph;
pub mod insight;
pub mod report;
pub mod sim;
pub mod store;
pub mod team;
pub mod text;
pub mod tls;
pub mod tui;
pub mod ui;
