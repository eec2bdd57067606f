//! The heartbeat: once a second on a task of its own, this process says it is here, counts
//! the consoles, keeps its epoch marker alive, and reads the team's use, pauses and calls (the
//! mirror the fallback starts from). While the team is unreachable it probes instead, with a
//! jittered backoff, and steps back onto the shared books when Redis answers.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::RedisResult;
use tokio::time::Instant;

use super::books::{DEADLINE, HEARTBEAT, State, TeamBooks};
use super::scripts::{self, HeartbeatArgs};
use crate::defender::Endpoint;
use crate::fetch::{Backend, Link, SharedEndpoint, SharedStatus, WindowStatus};

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

pub fn spawn(inner: &Arc<TeamBooks>) {
    tokio::spawn(run(Arc::downgrade(inner)));
}

async fn run(weak: Weak<TeamBooks>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        // Holds the ledger only while working: dropping the ledger ends the task.
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let connected = matches!(inner.lock().link, Link::Connected);
        let delay = if connected {
            match tokio::time::timeout(DEADLINE, inner.beat()).await {
                Ok(Ok(())) => HEARTBEAT,
                Ok(Err(e)) => inner.failed(&e.to_string()),
                Err(_) => inner.failed("no heartbeat answer within 500 ms"),
            }
        } else {
            match tokio::time::timeout(DEADLINE, inner.connect()).await {
                Ok(Ok(())) => {
                    backoff = FIRST_BACKOFF;
                    Duration::ZERO
                }
                _ => {
                    // Jittered, so consoles that lost Redis together do not storm it together.
                    let d = backoff.mul_f64(0.5 + fastrand::f64() * 0.5);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    d
                }
            }
        };
        drop(inner);
        tokio::time::sleep(delay).await;
    }
}

impl TeamBooks {
    fn failed(&self, why: &str) -> Duration {
        let mut st = self.lock();
        self.unreachable(&mut st, why);
        self.publish(&mut st);
        FIRST_BACKOFF
    }

    /// One heartbeat round trip; re-seeds when the epoch marker is gone or not ours.
    pub async fn beat(&self) -> RedisResult<()> {
        let mut con = self.connection()?;
        let reaches = self.reaches_ms();
        let (epoch, from) = {
            let st = self.lock();
            let mut from = [None; Endpoint::ALL.len()];
            for (i, e) in Endpoint::ALL.into_iter().enumerate() {
                from[i] = st
                    .mirror
                    .get(&e)
                    .and_then(|m| m.calls.back().map(|(s, _)| *s));
            }
            (st.epoch.clone(), from)
        };
        let sent = Instant::now();
        let console = self.console();
        let args = HeartbeatArgs {
            console: &console,
            epoch: &epoch,
            marker_ttl_ms: self.key_ttl_ms(),
            reaches: &reaches,
            from,
        };
        let reply = scripts::heartbeat(&mut con, &self.keys, args).await?;
        if !reply.epoch_ok {
            self.reseed().await?;
        }
        let mut st = self.lock();
        self.measured(&mut st, sent, reply.now);
        st.consoles = reply.consoles.max(1);
        let oldest = reply.now - self.longest_reach().as_millis() as i64;
        for (e, seen) in Endpoint::ALL.into_iter().zip(reply.endpoints) {
            let view = st.team.entry(e).or_default();
            view.counts = seen.counts;
            view.counted_at = reply.now;
            view.pause_end = seen.pause_end;
            let mirror = st.mirror.entry(e).or_default();
            // Read from the newest score we had, inclusive: skip the calls we hold already.
            let last = mirror.calls.back().map(|(s, _)| *s);
            let held: Vec<String> = mirror
                .calls
                .iter()
                .rev()
                .take_while(|(s, _)| Some(*s) == last)
                .map(|(_, m)| m.clone())
                .collect();
            for call in seen.calls {
                if Some(call.0) == last && held.contains(&call.1) {
                    continue;
                }
                mirror.calls.push_back(call);
            }
            while mirror.calls.front().is_some_and(|(s, _)| *s <= oldest) {
                mirror.calls.pop_front();
            }
        }
        // Our calls that left every window are of no use to a re-seed.
        let oldest_own: Vec<String> = st
            .own
            .iter()
            .filter(|(_, c)| self.redis_ms(&st, c.at) <= oldest)
            .map(|(id, _)| id.clone())
            .collect();
        for id in oldest_own {
            st.own.remove(&id);
        }
        self.publish(&mut st);
        Ok(())
    }

    pub async fn check_settings(&self) -> RedisResult<()> {
        let mut con = self.connection()?;
        let ours = [
            ("limits", self.policy.limits.to_string()),
            ("reserve", self.policy.reserve.to_string()),
            ("slack_ms", self.policy.slack.as_millis().to_string()),
        ];
        let day = Duration::from_secs(86_400).as_millis() as u64;
        let team = scripts::settings(&mut con, &self.keys, day, &ours).await?;
        let mut st = self.lock();
        st.settings_checked = true;
        for (field, mine) in &ours {
            let theirs = team.iter().find(|(f, _)| f == field).map(|(_, v)| v);
            if let Some(theirs) = theirs.filter(|t| *t != mine) {
                let w = format!(
                    "the team's Redis holds {field} {theirs}; this console has {mine}: each \
                     process admits by its own {field} against the one shared log"
                );
                tracing::warn!("{w}");
                st.warnings.push(w);
            }
        }
        Ok(())
    }

    pub fn status(&self, st: &State) -> SharedStatus {
        let now = Instant::now();
        let endpoints = Endpoint::ALL
            .into_iter()
            .map(|e| {
                let view = st.team.get(&e);
                let windows = self
                    .policy
                    .limits
                    .0
                    .iter()
                    .enumerate()
                    .map(|(i, w)| WindowStatus {
                        limit: w.limit,
                        window: w.window,
                        used: view.and_then(|v| v.counts.get(i).copied()).unwrap_or(0),
                    })
                    .collect();
                let team_pause = view
                    .and_then(|v| v.pause_end)
                    .map(|p| self.instant_of(st, p));
                let paused_for = team_pause
                    .into_iter()
                    .chain(st.local_pause.get(&e).copied())
                    .filter(|p| *p > now)
                    .max()
                    .map(|p| p - now);
                SharedEndpoint {
                    endpoint: e,
                    windows,
                    paused_for,
                }
            })
            .collect();
        SharedStatus {
            backend: Backend::Team,
            link: st.link,
            consoles: st.consoles.max(1),
            endpoints,
        }
    }

    /// Tells `watch()` when what the status shows changed.
    pub fn publish(&self, st: &mut State) {
        let status = self.status(st);
        if st.published.as_ref() != Some(&status) {
            st.published = Some(status);
            self.changed.send_modify(|_| {});
        }
    }
}
