//! The console running: the real loop (`tui::run`) with scripted keys and a stand-in terminal,
//! and the real binary in a real terminal (tmux).

#[path = "../support/mod.rs"]
mod support;

mod devices_tmux;
mod e2e;
mod hostile_text;
mod idle;
mod job_control;
mod terminal;
