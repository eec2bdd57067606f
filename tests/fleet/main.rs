//! Fleets of real `mde-triage` processes on one team budget, judged by the order of the calls
//! the simulator saw and the floor the windows allow (their wall times are printed, and kept in
//! BENCHMARKS.md, never bounded above). Alone in their binary: a neighbouring test's processes
//! would share the windows' seconds on a small machine.

#[path = "../support/mod.rs"]
mod support;

mod team_e2e;
