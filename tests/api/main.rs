//! The client, the simulator and the commands over loopback: the API's contract and its
//! documented examples, sign-in, hostile servers, `expand`, the one-shot commands, `doctor`,
//! the database through the binary, and the exports.

#[path = "../support/mod.rs"]
mod support;

mod alert_device;
mod alert_record;
mod auth;
mod cases;
mod client_contract;
mod device_examples;
mod device_oneshot;
mod devices;
mod doctor;
mod examples_decode;
mod expand;
mod expand_devices;
mod graph_contract;
mod hostile_api;
mod oneshot;
mod period;
mod report;
mod report_hostile;
mod sign_in;
