//! The pure core and its settings, with no network and no terminal: `update`, the screens as
//! snapshots, keys, mouse, the tree, casework, the configuration and README's promises.

#[path = "../support/mod.rs"]
mod support;

mod casework;
mod config;
mod devices;
mod mouse;
mod period;
mod place;
mod readme;
mod status_bar;
mod table_and_input;
mod tree;
mod ui_snapshots;
mod ui_team;
mod update;
