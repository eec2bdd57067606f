//! The budget shared beyond one process: the local database as the ledger of one user's
//! processes, and the team's ledger on a real `redis-server`. (The timed fleets on it are
//! `tests/fleet/`.)

#[path = "../support/mod.rs"]
mod support;

mod shared_local;
mod store_ledger;
mod team_fallback;
mod team_redis;
