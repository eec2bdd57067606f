//! How far the walk is and how long it needs at least: the figures the walk reports, the time
//! floor under the budget, and their display on stderr (a bar on a terminal, else a line).

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::time::Duration;

use super::Summary;
use crate::defender::FetchKey;
use crate::fetch::{BudgetStatus, RateLimits};

/// Where the walk stands, for the progress display.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Nodes written so far.
    pub nodes: u64,
    /// Requests issued so far, and how many of them have not answered yet.
    pub requested: u64,
    pub waiting: u64,
    /// Calls sent (pages and retries included), per the scheduler.
    pub calls: u64,
    /// At least this long for the requests still waiting, given the budget now.
    pub eta: Duration,
    pub paused_for: Option<Duration>,
}

/// A floor for the time the waiting requests need: per endpoint, the calls beyond what its
/// windows have left now must wait for whole windows to pass.
pub(super) fn eta(
    waiting: &HashSet<FetchKey>,
    budget: &BudgetStatus,
    limits: &RateLimits,
) -> Duration {
    let mut per_endpoint: HashMap<_, usize> = HashMap::new();
    for key in waiting {
        *per_endpoint.entry(key.endpoint()).or_default() += 1;
    }
    per_endpoint
        .into_iter()
        .map(|(endpoint, n)| {
            let left = budget
                .endpoint(endpoint)
                .and_then(|b| b.tightest())
                .map_or(usize::MAX, |w| w.left() as usize);
            let beyond = n.saturating_sub(left);
            let wait = if beyond == 0 {
                Duration::ZERO
            } else {
                limits.min_time(beyond + 1)
            };
            wait.max(budget.paused_for().unwrap_or_default())
        })
        .max()
        .unwrap_or_default()
}

/// A progress bar on a terminal; otherwise a quiet line every few seconds.
pub(super) struct ProgressDisplay {
    bar: Option<indicatif::ProgressBar>,
    last_line: std::time::Instant,
}

impl ProgressDisplay {
    pub(super) fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} requests · {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            last_line: std::time::Instant::now(),
        }
    }

    pub(super) fn update(&mut self, p: &Progress) {
        let pause = p.paused_for.map_or(String::new(), |d| {
            format!(" · throttled, waiting {}", crate::text::duration(d))
        });
        let msg = format!(
            "{} nodes · {} calls · at least {} left{pause}",
            p.nodes,
            p.calls,
            crate::text::duration(p.eta)
        );
        match &self.bar {
            Some(bar) => {
                bar.set_length(p.requested);
                bar.set_position(p.requested - p.waiting);
                bar.set_message(msg);
            }
            None if self.last_line.elapsed() >= Duration::from_secs(5) => {
                self.last_line = std::time::Instant::now();
                eprintln!(
                    "mde-triage expand: {}/{} requests answered · {msg}",
                    p.requested - p.waiting,
                    p.requested
                );
            }
            None => {}
        }
    }

    pub(super) fn finish(&self, s: &Summary) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let skipped = if s.skipped > 0 {
            format!("; {} call(s) not made (--max-calls)", s.skipped)
        } else {
            String::new()
        };
        eprintln!(
            "mde-triage expand: {} nodes, {} calls{skipped}",
            s.nodes, s.calls
        );
    }
}
