//! Fleets of real `mde-triage` processes on one team budget, timed against the floor the windows
//! allow. Alone in their binary: they measure wall time, which a neighbouring test's processes
//! would eat on a small machine.

#[path = "../support/mod.rs"]
mod support;

mod team_e2e;
