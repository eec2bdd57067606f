//! The scheduler under tokio's paused clock, where time is virtual and exact instants can be
//! asserted: against a fake transport (hand-picked cases, then properties over generated
//! limits, reserves, arrivals and priorities), with a memory, and several on shared books.

mod answers;
mod devices;
mod fake;
mod hung;
mod late;
mod memory;
mod pacing;
mod properties;
mod shared;
