//! The team ledger's state machine: admission on the shared log while Connected, the local
//! share while Unreachable, and the step back (own calls re-added, epoch adopted).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use redis::RedisResult;
use redis::aio::ConnectionManager;
use tokio::sync::watch;
use tokio::time::Instant;

use super::scripts::{
    self, AdmitArgs, AdmitReply, Admitted, Console, Keys, ReseedArgs, WindowArgs,
};
use super::share::LocalRule;
use crate::defender::Endpoint;
use crate::fetch::sharing::{LocalShare, unreachable_sentence};
use crate::fetch::{Ask, Backend, BudgetPolicy, Link, Priority, SharedStatus, Verdict};

/// The most any Redis operation may hold a decision.
pub const DEADLINE: Duration = Duration::from_millis(500);
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// After a Redis lost its data (a process that knew the old epoch makes the new marker), no
/// reserved work (prefetch, batch) is admitted until every live process has had a heartbeat
/// to notice and re-add its calls: one interval plus a round trip's margin. A marker made on a
/// Redis that never had this registration starts no grace. The analyst's lanes do not wait: they are what the reserve is kept for, so
/// a lookup in that second spends at most a call or two of it, where waiting would hold the
/// analyst's first lookup on a fresh or restarted Redis for 1.2 s (measured: 1,224 ms).
pub const GRACE: Duration = Duration::from_millis(1200);
/// Keys outlive the longest reach by this much.
const MARGIN: Duration = Duration::from_secs(60);
/// A console counts in the share for this long after its last heartbeat.
pub const CONSOLE_SPAN: Duration = Duration::from_secs(300);
/// Processes assumed to share the budget when we never reached the team.
const UNKNOWN_SHARE: u32 = 2;

/// This process's side of the team's books: the shared log's keys and link, the policy it
/// admits by, and what it knows of the team while Redis is reached or not.
pub struct TeamBooks {
    pub keys: Keys,
    pub policy: BudgetPolicy,
    /// This process's id in call ids and the consoles set: pid plus a random part.
    pub process: String,
    pub con: Option<ConnectionManager>,
    /// The local origin Redis times are converted against.
    pub base: Instant,
    pub state: Mutex<State>,
    pub changed: watch::Sender<()>,
}

pub struct State {
    pub link: Link,
    pub connected_once: bool,
    pub settings_checked: bool,
    /// The epoch marker's value we adopted (empty: none yet).
    pub epoch: String,
    pub consoles: u32,
    /// Redis ms minus local ms (since `base`), measured at round trips.
    pub offset_ms: i64,
    /// Redis ms minus wall-clock ms, for the calls given at start.
    pub skew_ms: i64,
    /// This process's calls within the horizon, by call id.
    pub own: HashMap<String, OwnCall>,
    pub share: HashMap<Endpoint, LocalRule>,
    pub local_pause: HashMap<Endpoint, Instant>,
    pub team: HashMap<Endpoint, TeamView>,
    pub mirror: HashMap<Endpoint, Mirror>,
    pub warnings: Vec<String>,
    /// What to print once: "team budget unreachable · local share …".
    pub notice: Option<String>,
    /// This outage was logged.
    pub outage_said: bool,
    pub published: Option<SharedStatus>,
}

#[derive(Debug, Clone)]
pub struct OwnCall {
    pub endpoint: Endpoint,
    pub at: At,
}

/// When a call of ours was admitted, on whichever clock we knew it.
#[derive(Debug, Clone, Copy)]
pub enum At {
    Redis(i64),
    Local(Instant),
    Wall(i64),
}

#[derive(Debug, Clone, Default)]
pub struct TeamView {
    /// The team's calls per window of the policy, as Redis counted them at `counted_at`.
    pub counts: Vec<u32>,
    /// Redis ms.
    pub counted_at: i64,
    pub pause_end: Option<i64>,
}

/// The team's calls as last read: Redis ms and call id, ascending.
#[derive(Debug, Clone, Default)]
pub struct Mirror {
    pub calls: VecDeque<(i64, String)>,
}

impl TeamBooks {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This process as the consoles count knows it.
    pub fn console(&self) -> Console<'_> {
        Console {
            process: &self.process,
            span_ms: CONSOLE_SPAN.as_millis() as u64,
            set_ttl_ms: (CONSOLE_SPAN * 2).as_millis() as u64,
        }
    }

    pub fn call_id(&self, seq: u64) -> String {
        format!("{}:{seq}", self.process)
    }

    pub fn local_ms(&self, t: Instant) -> i64 {
        i64::try_from(t.saturating_duration_since(self.base).as_millis()).unwrap_or(i64::MAX)
    }

    pub fn instant_of(&self, st: &State, redis_ms: i64) -> Instant {
        let local = redis_ms - st.offset_ms;
        if local >= 0 {
            self.base + Duration::from_millis(local as u64)
        } else {
            self.base
                .checked_sub(Duration::from_millis(local.unsigned_abs()))
                .unwrap_or(self.base)
        }
    }

    pub fn redis_ms(&self, st: &State, at: At) -> i64 {
        match at {
            At::Redis(ms) => ms,
            At::Local(t) => self.local_ms(t) + st.offset_ms,
            At::Wall(ms) => ms + st.skew_ms,
        }
    }

    /// Re-measures the clocks from Redis's `now` read between `sent` and now. Small moves are
    /// ignored so converted instants (pause ends) stay put between heartbeats.
    pub fn measured(&self, st: &mut State, sent: Instant, redis_now: i64) {
        let back = Instant::now();
        let mid = sent + (back - sent) / 2;
        let offset = redis_now - self.local_ms(mid);
        if (offset - st.offset_ms).abs() > 20 {
            st.offset_ms = offset;
        }
        let wall = chrono::Utc::now().timestamp_millis() - (back - mid).as_millis() as i64;
        st.skew_ms = redis_now - wall;
    }

    pub fn reaches_ms(&self) -> Vec<u64> {
        self.policy
            .limits
            .0
            .iter()
            .map(|w| self.policy.reach(w.window).as_millis() as u64)
            .collect()
    }

    pub fn longest_reach(&self) -> Duration {
        self.policy.reach(self.policy.limits.horizon())
    }

    pub fn key_ttl_ms(&self) -> u64 {
        (self.longest_reach() + MARGIN).as_millis() as u64
    }

    fn windows(&self, priority: Priority) -> WindowArgs {
        let reserve = self.policy.reserve_for(priority);
        self.policy
            .limits
            .0
            .iter()
            .map(|w| {
                let reach = self.policy.reach(w.window).as_millis() as u64;
                (w.allowed(reserve), reach)
            })
            .collect()
    }

    pub fn share_of(&self, st: &State) -> u32 {
        if st.connected_once {
            st.consoles.max(1)
        } else {
            UNKNOWN_SHARE
        }
    }

    /// One decision; never holds the caller longer than [`DEADLINE`].
    pub async fn admit(self: &Arc<Self>, ask: Ask, now: Option<i64>) -> Verdict {
        let id = self.call_id(ask.seq);
        {
            let mut st = self.lock();
            if matches!(st.link, Link::Unreachable { .. }) {
                let v = self.local_admit(&mut st, ask, &id);
                self.publish(&mut st);
                return v;
            }
        }
        let why = match tokio::time::timeout(DEADLINE, self.remote_admit(ask, &id, now)).await {
            Ok(Ok(v)) => return v,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} ms", DEADLINE.as_millis()),
        };
        let mut st = self.lock();
        self.unreachable(&mut st, &why);
        // An ambiguous failure: the call may be on the log already. Counting it here too
        // over-counts (the safe side); the same id re-added on reconnect counts once there.
        let v = self.local_admit(&mut st, ask, &id);
        self.publish(&mut st);
        v
    }

    async fn remote_admit(&self, ask: Ask, id: &str, now: Option<i64>) -> RedisResult<Verdict> {
        let mut con = self.connection()?;
        let windows = self.windows(ask.priority);
        let mut retried = false;
        for _ in 0..3 {
            let epoch = self.lock().epoch.clone();
            let sent = Instant::now();
            let console = self.console();
            let args = AdmitArgs {
                endpoint: ask.endpoint,
                console: &console,
                id,
                now,
                epoch: &epoch,
                grace_ms: if BudgetPolicy::is_analysts(ask.priority) {
                    0
                } else {
                    GRACE.as_millis() as u64
                },
                set_ttl_ms: self.key_ttl_ms(),
                windows: &windows,
            };
            let Admitted {
                reply,
                now: redis_now,
                consoles,
                counts,
            } = match scripts::admit(&mut con, &self.keys, args).await {
                Ok(r) => r,
                // Retry once with the same call id: a call admitted by the first try is
                // found by its id and not counted twice.
                Err(e) if !retried && !e.is_timeout() => {
                    retried = true;
                    tracing::debug!("team admit failed, retrying once: {e}");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let verdict = {
                let mut st = self.lock();
                if now.is_none() {
                    self.measured(&mut st, sent, redis_now);
                }
                st.consoles = consoles.max(1);
                if !counts.is_empty() {
                    let view = st.team.entry(ask.endpoint).or_default();
                    view.counts = counts;
                    view.counted_at = redis_now;
                }
                let verdict = match reply {
                    AdmitReply::Admitted { score } => {
                        let call = OwnCall {
                            endpoint: ask.endpoint,
                            at: At::Redis(score),
                        };
                        st.own.insert(id.to_string(), call);
                        Some(Verdict::Admitted)
                    }
                    AdmitReply::Wait { ms } => Some(Verdict::Wait(millis(ms))),
                    AdmitReply::Paused { ms } => {
                        st.team.entry(ask.endpoint).or_default().pause_end = Some(redis_now + ms);
                        Some(Verdict::Paused(millis(ms)))
                    }
                    AdmitReply::Reseed => None,
                };
                if verdict.is_some() {
                    self.publish(&mut st);
                }
                verdict
            };
            match verdict {
                Some(v) => return Ok(v),
                None => self.reseed().await?,
            }
        }
        Ok(Verdict::Wait(GRACE))
    }

    pub fn connection(&self) -> RedisResult<ConnectionManager> {
        self.con.clone().ok_or_else(|| {
            redis::RedisError::from((redis::ErrorKind::Client, "no Redis client was built"))
        })
    }

    /// The shared books cannot be reached: decide locally from now on, and say so once.
    pub fn unreachable(&self, st: &mut State, why: &str) {
        if matches!(st.link, Link::Unreachable { .. }) && st.outage_said {
            return;
        }
        let share_of = self.share_of(st);
        st.link = Link::Unreachable { share_of };
        st.share.clear();
        let now = Instant::now();
        let ends: Vec<(Endpoint, i64)> = st
            .team
            .iter()
            .filter_map(|(e, v)| v.pause_end.map(|p| (*e, p)))
            .collect();
        for (e, end) in ends {
            let until = self.instant_of(st, end);
            if until > now {
                st.local_pause.insert(e, until);
            }
        }
        let windows = self.policy.limits.0.iter().map(|w| (w.limit, w.window));
        let text = unreachable_sentence(Backend::Team, &LocalShare::named(windows, share_of));
        tracing::warn!("{text} ({why})");
        st.notice = Some(text);
        st.outage_said = true;
    }

    /// Puts our calls of the last horizon on the shared log and adopts the epoch marker. Back
    /// after having adopted an epoch (an outage, or a Redis that lost its data), the team's
    /// calls we last read go back too, by their own ids: a peer that ended since cannot re-add
    /// its own, and the log would otherwise forget them while they still count at Microsoft.
    /// Added only where missing, so nothing counts twice; a call its owner took back since is
    /// counted again until it leaves the window (the safe side).
    pub async fn reseed(&self) -> RedisResult<()> {
        let mut con = self.connection()?;
        let (calls, candidate, restart) = {
            let st = self.lock();
            let mut by: HashMap<Endpoint, Vec<(String, i64)>> = HashMap::new();
            for (id, call) in &st.own {
                by.entry(call.endpoint)
                    .or_default()
                    .push((id.clone(), self.redis_ms(&st, call.at)));
            }
            if !st.epoch.is_empty() {
                for (e, mirror) in &st.mirror {
                    let list = by.entry(*e).or_default();
                    let peers = mirror
                        .calls
                        .iter()
                        .filter(|(_, id)| !st.own.contains_key(id));
                    list.extend(peers.map(|(score, id)| (id.clone(), *score)));
                }
            }
            let calls: Vec<_> = Endpoint::ALL
                .into_iter()
                .map(|e| (e, by.remove(&e).unwrap_or_default()))
                .collect();
            // Having adopted an epoch before means this Redis lost its data (or we were cut
            // off): a marker we create then starts the grace. A first connect creates one
            // without: no peer of ours can have calls to re-add on a Redis that never had this
            // registration, and the team's first batch should not wait a second for nobody.
            let restart = !st.epoch.is_empty();
            (calls, format!("{:016x}", fastrand::u64(..)), restart)
        };
        let sent = Instant::now();
        let ttl = self.key_ttl_ms();
        let console = self.console();
        let args = ReseedArgs {
            console: &console,
            candidate: &candidate,
            restart,
            marker_ttl_ms: ttl,
            set_ttl_ms: ttl,
            calls: &calls,
        };
        let (marker, redis_now, consoles) = scripts::reseed(&mut con, &self.keys, args).await?;
        let mut st = self.lock();
        self.measured(&mut st, sent, redis_now);
        st.consoles = consoles.max(1);
        // What we re-added is on the log at these scores now.
        for (_, list) in calls {
            for (id, ms) in list {
                if let Some(c) = st.own.get_mut(&id) {
                    c.at = At::Redis(ms);
                }
            }
        }
        st.epoch = marker;
        Ok(())
    }

    /// Back on the shared books: our calls re-added, the team's settings compared.
    pub async fn connect(&self) -> RedisResult<()> {
        self.reseed().await?;
        if !self.lock().settings_checked {
            self.check_settings().await?;
        }
        let mut st = self.lock();
        st.link = Link::Connected;
        st.connected_once = true;
        st.share.clear();
        st.outage_said = false;
        self.publish(&mut st);
        Ok(())
    }
}

pub fn millis(ms: i64) -> Duration {
    Duration::from_millis(ms.max(0) as u64)
}
