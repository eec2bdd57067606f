//! The team ledger's local decisions while Redis cannot be reached: what the process knows
//! of the team's calls (the mirror, its own, and what Redis last counted beyond them), and the
//! share it may spend (see [`LocalRule`]); batch held while the team was never reached.

use std::time::Duration;

use tokio::time::Instant;

use super::books::{At, HEARTBEAT, OwnCall, State, TeamBooks};
use super::share::LocalRule;
use crate::defender::Endpoint;
use crate::fetch::{Ask, BudgetPolicy, Priority, Verdict};

impl TeamBooks {
    /// The local rule (see [`LocalRule`]), started from the team's calls last seen.
    pub(super) fn local_admit(&self, st: &mut State, ask: Ask, id: &str) -> Verdict {
        let now = Instant::now();
        // The team's pause as last seen, and any 429 of ours since: Redis's key rules while
        // connected.
        if let Some(p) = st
            .local_pause
            .get(&ask.endpoint)
            .copied()
            .filter(|p| *p > now)
        {
            return Verdict::Paused(p - now);
        }
        if let Some(wait) = self.unmet_team_wait(st, ask.priority, now) {
            return Verdict::Wait(wait);
        }
        let n = self.share_of(st);
        if !st.share.contains_key(&ask.endpoint) {
            let mut seen = self.last_seen(st, ask.endpoint);
            seen.extend(self.counted_unseen(st, ask.endpoint, &seen));
            st.share.insert(ask.endpoint, LocalRule::new(seen));
        }
        let share = st.share.get_mut(&ask.endpoint).expect("just made");
        match share.decide(&self.policy, n, ask.priority, now) {
            Ok(()) => {
                share.record(now);
                let call = OwnCall {
                    endpoint: ask.endpoint,
                    at: At::Local(now),
                };
                st.own.insert(id.to_string(), call);
                Verdict::Admitted
            }
            Err(Some(wait)) => Verdict::Wait(wait),
            Err(None) => Verdict::Wait(HEARTBEAT),
        }
    }

    /// How long batch work waits before spending on a guess. A process that has never reached
    /// the team knows neither its calls nor how many share them, and no peer counts it in
    /// theirs: what it spends is on top of the team's full share. So batch waits for the first
    /// contact, asking again each heartbeat, for one shortest window from start: a Redis slow
    /// to answer at start (seen: over 500 ms with three consoles starting under build load)
    /// is met in that time, and the team's calls it never saw leave that window. After it,
    /// the outage is real for every console, and batch spends its share of a guessed
    /// `UNKNOWN_SHARE` (books.rs). The analyst never waits here.
    fn unmet_team_wait(&self, st: &State, priority: Priority, now: Instant) -> Option<Duration> {
        if st.connected_once || BudgetPolicy::is_analysts(priority) {
            return None;
        }
        let shortest = self.policy.limits.0.iter().map(|w| w.window).min()?;
        let until = self.base + self.policy.reach(shortest);
        (until > now).then(|| (until - now).min(HEARTBEAT))
    }

    /// The team's calls as last seen on `endpoint`: the mirror, our calls it has not caught
    /// up with, and (never connected) the calls given at start.
    fn last_seen(&self, st: &State, endpoint: Endpoint) -> Vec<Instant> {
        let calls = st.mirror.get(&endpoint).map(|m| &m.calls);
        let newest = calls
            .and_then(|c| c.back().map(|(s, _)| *s))
            .unwrap_or(i64::MIN);
        let mut seen: Vec<Instant> = calls
            .into_iter()
            .flatten()
            .map(|(s, _)| self.instant_of(st, *s))
            .collect();
        for call in st.own.values().filter(|c| c.endpoint == endpoint) {
            let ms = self.redis_ms(st, call.at);
            let unseen = match call.at {
                At::Redis(_) => ms > newest,
                At::Local(_) => false,
                At::Wall(_) => !st.connected_once,
            };
            if unseen {
                seen.push(self.instant_of(st, ms));
            }
        }
        seen
    }

    /// Calls Redis counted at our last round trip that `seen` does not hold: those the team
    /// made since the heartbeat last read the log (up to a second's worth, and a burst of a
    /// whole window when consoles start together). Per window, as many as the count exceeds
    /// what we hold, each placed as late as it can have been made, so none leaves a window
    /// early: at the count's time for the shortest window, and for each longer one just
    /// outside the window before it.
    fn counted_unseen(&self, st: &State, endpoint: Endpoint, seen: &[Instant]) -> Vec<Instant> {
        let Some(view) = st.team.get(&endpoint).filter(|v| !v.counts.is_empty()) else {
            return Vec::new();
        };
        let at = self.instant_of(st, view.counted_at);
        let mut windows: Vec<(Duration, u32)> = self
            .policy
            .limits
            .0
            .iter()
            .zip(&view.counts)
            .map(|(w, counted)| (self.policy.reach(w.window), *counted))
            .collect();
        windows.sort_by_key(|(reach, _)| *reach);
        let mut placed: Vec<Instant> = Vec::new();
        let mut shorter = Duration::ZERO;
        for (reach, counted) in windows {
            let held = seen
                .iter()
                .chain(&placed)
                .filter(|t| **t <= at && **t + reach > at)
                .count();
            let missing = (counted as usize).saturating_sub(held);
            let when = at.checked_sub(shorter).unwrap_or(at);
            placed.extend(std::iter::repeat_n(when, missing));
            shorter = reach;
        }
        placed
    }
}
