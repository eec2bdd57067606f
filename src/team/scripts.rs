//! The Lua scripts (`lua/*.lua`, one round trip each) and the key names they work on. Every
//! key lives under `mde:{<reg>}:`, one hash tag, so the multi-key scripts also run on a
//! Redis Cluster; every key the scripts write expires.

use std::sync::LazyLock;

use redis::aio::ConnectionManager;
use redis::{RedisResult, Script};

use crate::defender::{Endpoint, FetchKey};

struct Scripts {
    admit: Script,
    take_back: Script,
    reseed: Script,
    heartbeat: Script,
    lookup: Script,
    share: Script,
    settings: Script,
}

// `Script` keeps the SHA1; `invoke_async` sends EVALSHA and loads the script on NOSCRIPT (a
// restarted Redis), which `invoke_script` would not (redis-rs #1394).
static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    admit: Script::new(concat!(
        include_str!("lua/clock.lua"),
        include_str!("lua/admit.lua")
    )),
    take_back: Script::new(concat!(
        include_str!("lua/clock.lua"),
        include_str!("lua/take_back.lua")
    )),
    reseed: Script::new(concat!(
        include_str!("lua/clock.lua"),
        include_str!("lua/reseed.lua")
    )),
    heartbeat: Script::new(concat!(
        include_str!("lua/clock.lua"),
        include_str!("lua/heartbeat.lua")
    )),
    lookup: Script::new(include_str!("lua/lookup.lua")),
    share: Script::new(include_str!("lua/share.lua")),
    settings: Script::new(include_str!("lua/settings.lua")),
});

/// Every script by name: `doctor` loads each, which proves the server runs Lua and the
/// account may load scripts (EVALSHA reloads them with SCRIPT LOAD after a restart).
pub fn every() -> [(&'static str, &'static Script); 7] {
    let s = &*SCRIPTS;
    [
        ("admit", &s.admit),
        ("take_back", &s.take_back),
        ("reseed", &s.reseed),
        ("heartbeat", &s.heartbeat),
        ("lookup", &s.lookup),
        ("share", &s.share),
        ("settings", &s.settings),
    ]
}

/// The key names of one registration.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(reg: &str) -> Self {
        Self {
            prefix: format!("mde:{{{}}}:", sanitise(reg)),
        }
    }

    /// The endpoint's log of calls: member = call id, score = admission ms (Redis time).
    pub fn calls(&self, e: Endpoint) -> String {
        format!("{}calls:{}", self.prefix, e.name())
    }

    pub fn pause(&self, e: Endpoint) -> String {
        format!("{}pause:{}", self.prefix, e.name())
    }

    pub fn epoch(&self) -> String {
        format!("{}epoch", self.prefix)
    }

    pub fn consoles(&self) -> String {
        format!("{}consoles", self.prefix)
    }

    pub fn settings(&self) -> String {
        format!("{}settings", self.prefix)
    }

    pub fn answer(&self, key: &FetchKey) -> String {
        format!("{}answer:{}", self.prefix, subject(key))
    }

    pub fn inflight(&self, key: &FetchKey) -> String {
        format!("{}inflight:{}", self.prefix, subject(key))
    }
}

/// `<stable endpoint>:<ip or alert id>` (with a stats key's period, as the store writes it:
/// [`FetchKey::stored_subject`]), anything but `[A-Za-z0-9._:-]` percent-escaped: the subject
/// comes from server data and the analyst's input.
fn subject(key: &FetchKey) -> String {
    format!(
        "{}:{}",
        key.endpoint().name(),
        sanitise(&key.stored_subject())
    )
}

fn sanitise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b".:-_".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every window as the admit script takes it: allowed calls at the lane's level, reach in ms.
pub type WindowArgs = Vec<(u32, u64)>;

/// What the admit script said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdmitReply {
    Admitted { score: i64 },
    Wait { ms: i64 },
    Paused { ms: i64 },
    Reseed,
}

/// Who is asking, for the consoles count every admission and connect refreshes.
pub struct Console<'a> {
    pub process: &'a str,
    /// How long a console counts after it last said it was here.
    pub span_ms: u64,
    pub set_ttl_ms: u64,
}

pub struct AdmitArgs<'a> {
    pub endpoint: Endpoint,
    pub console: &'a Console<'a>,
    pub id: &'a str,
    pub now: Option<i64>,
    pub epoch: &'a str,
    pub grace_ms: u64,
    pub set_ttl_ms: u64,
    pub windows: &'a WindowArgs,
}

/// What an admission learnt besides its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub reply: AdmitReply,
    /// Redis's now, ms.
    pub now: i64,
    /// Consoles that said they were here within the span, the asker included.
    pub consoles: u32,
    /// The team's count per window (empty when paused or re-seeding).
    pub counts: Vec<u32>,
}

pub async fn admit(
    con: &mut ConnectionManager,
    keys: &Keys,
    a: AdmitArgs<'_>,
) -> RedisResult<Admitted> {
    let mut inv = SCRIPTS.admit.prepare_invoke();
    inv.key(keys.calls(a.endpoint))
        .key(keys.pause(a.endpoint))
        .key(keys.epoch())
        .key(keys.consoles())
        .arg(a.id)
        .arg(a.now.map(|n| n.to_string()).unwrap_or_default())
        .arg(a.epoch)
        .arg(a.grace_ms)
        .arg(a.set_ttl_ms)
        .arg(a.windows.len());
    for (allowed, reach) in a.windows {
        inv.arg(*allowed).arg(*reach);
    }
    inv.arg(a.console.process)
        .arg(a.console.span_ms)
        .arg(a.console.set_ttl_ms);
    let r: Vec<i64> = inv.invoke_async(con).await?;
    let (kind, value, now, consoles) = (r[0], r[1], r[2], r[3]);
    let counts = r[4..].iter().map(|c| *c as u32).collect();
    let reply = match kind {
        0 => AdmitReply::Admitted { score: value },
        1 => AdmitReply::Wait { ms: value },
        2 => AdmitReply::Paused { ms: value },
        _ => AdmitReply::Reseed,
    };
    Ok(Admitted {
        reply,
        now,
        consoles: u32::try_from(consoles).unwrap_or(1),
        counts,
    })
}

/// Takes call `id` off the log; with a pause, pauses the endpoint (the longer pause wins).
/// Returns the pause's end (0: none) and Redis's now, in ms.
pub async fn take_back(
    con: &mut ConnectionManager,
    keys: &Keys,
    endpoint: Endpoint,
    id: &str,
    pause_ms: Option<u64>,
    now: Option<i64>,
) -> RedisResult<(i64, i64)> {
    SCRIPTS
        .take_back
        .key(keys.calls(endpoint))
        .key(keys.pause(endpoint))
        .arg(id)
        .arg(pause_ms.map(|p| p.to_string()).unwrap_or_default())
        .arg(now.map(|n| n.to_string()).unwrap_or_default())
        .invoke_async(con)
        .await
}

pub struct ReseedArgs<'a> {
    pub console: &'a Console<'a>,
    /// A new epoch id, used only if the marker is missing.
    pub candidate: &'a str,
    /// We adopted an epoch before: the Redis lost its data, so the grace starts now.
    pub restart: bool,
    pub marker_ttl_ms: u64,
    pub set_ttl_ms: u64,
    /// Per endpoint: member, score.
    pub calls: &'a [(Endpoint, Vec<(String, i64)>)],
}

/// Re-adds our calls and returns the epoch marker, Redis's now and the consoles count.
pub async fn reseed(
    con: &mut ConnectionManager,
    keys: &Keys,
    a: ReseedArgs<'_>,
) -> RedisResult<(String, i64, u32)> {
    let mut inv = SCRIPTS.reseed.prepare_invoke();
    inv.key(keys.epoch())
        .key(keys.consoles())
        .arg(a.candidate)
        .arg("")
        .arg(a.marker_ttl_ms)
        .arg(a.set_ttl_ms)
        .arg(u8::from(a.restart))
        .arg(a.console.process)
        .arg(a.console.span_ms)
        .arg(a.console.set_ttl_ms);
    for (e, list) in a.calls {
        inv.key(keys.calls(*e)).arg(list.len());
        for (member, score) in list {
            inv.arg(member).arg(*score);
        }
    }
    inv.invoke_async(con).await
}

pub struct HeartbeatArgs<'a> {
    pub console: &'a Console<'a>,
    pub epoch: &'a str,
    pub marker_ttl_ms: u64,
    pub reaches: &'a [u64],
    /// Per endpoint of [`Endpoint::ALL`], the lowest score to read (`None`: all).
    pub from: [Option<i64>; Endpoint::ALL.len()],
}

#[derive(Debug, Clone, Default)]
pub struct HeartbeatEndpoint {
    pub pause_end: Option<i64>,
    pub counts: Vec<u32>,
    /// The calls read, ascending: score (Redis ms) and member (call id).
    pub calls: Vec<(i64, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct HeartbeatReply {
    pub now: i64,
    pub consoles: u32,
    pub epoch_ok: bool,
    pub endpoints: Vec<HeartbeatEndpoint>,
}

pub async fn heartbeat(
    con: &mut ConnectionManager,
    keys: &Keys,
    a: HeartbeatArgs<'_>,
) -> RedisResult<HeartbeatReply> {
    let mut inv = SCRIPTS.heartbeat.prepare_invoke();
    inv.key(keys.consoles()).key(keys.epoch());
    for e in Endpoint::ALL {
        inv.key(keys.calls(e)).key(keys.pause(e));
    }
    inv.arg(a.console.process)
        .arg(a.epoch)
        .arg(a.marker_ttl_ms)
        .arg(a.console.span_ms)
        .arg(a.console.set_ttl_ms)
        .arg(a.reaches.len());
    for r in a.reaches {
        inv.arg(*r);
    }
    for from in a.from {
        inv.arg(from.map_or_else(|| "-inf".to_string(), |f| f.to_string()));
    }
    let r: Vec<redis::Value> = inv.invoke_async(con).await?;
    let int = |i: usize| -> RedisResult<i64> {
        let v = r.get(i).ok_or_else(|| short_reply(i))?;
        Ok(redis::from_redis_value_ref(v)?)
    };
    let mut reply = HeartbeatReply {
        now: int(0)?,
        consoles: int(1)? as u32,
        epoch_ok: int(2)? == 1,
        endpoints: Vec::new(),
    };
    let k = a.reaches.len();
    let mut i = 3;
    for _ in Endpoint::ALL {
        let pause = int(i)?;
        let counts = (0..k)
            .map(|w| int(i + 1 + w).map(|c| c as u32))
            .collect::<RedisResult<_>>()?;
        let m = int(i + 1 + k)? as usize;
        let scores = i + 2 + k;
        let members = scores + m;
        let calls = (0..m)
            .map(|j| {
                let member = r.get(members + j).ok_or_else(|| short_reply(members + j))?;
                Ok((int(scores + j)?, redis::from_redis_value_ref(member)?))
            })
            .collect::<RedisResult<_>>()?;
        i = members + m;
        reply.endpoints.push(HeartbeatEndpoint {
            pause_end: (pause > 0).then_some(pause),
            counts,
            calls,
        });
    }
    Ok(reply)
}

fn short_reply(at: usize) -> redis::RedisError {
    redis::RedisError::from((
        redis::ErrorKind::Client,
        "the heartbeat script's reply is shorter than expected",
        format!("no element {at}"),
    ))
}

/// What the lookup script said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupReply {
    Hit(String),
    Busy { ms: i64 },
    Yours,
}

pub async fn lookup(
    con: &mut ConnectionManager,
    keys: &Keys,
    key: &FetchKey,
    fresh_after_ms: Option<i64>,
    process: &str,
    lock_ms: u64,
    busy_cap_ms: u64,
) -> RedisResult<LookupReply> {
    let (kind, ms, answer): (i64, i64, String) = SCRIPTS
        .lookup
        .key(keys.answer(key))
        .key(keys.inflight(key))
        .arg(fresh_after_ms.map(|f| f.to_string()).unwrap_or_default())
        .arg(process)
        .arg(lock_ms)
        .arg(busy_cap_ms)
        .invoke_async(con)
        .await?;
    Ok(match kind {
        1 => LookupReply::Hit(answer),
        2 => LookupReply::Busy { ms },
        _ => LookupReply::Yours,
    })
}

/// Stores `doc` for `ttl_ms` (`None`: a release) and drops our lock on `key`.
pub async fn share(
    con: &mut ConnectionManager,
    keys: &Keys,
    key: &FetchKey,
    doc: Option<(&str, u64)>,
    process: &str,
) -> RedisResult<()> {
    let (doc, ttl) = doc.unwrap_or(("", 0));
    let _: i64 = SCRIPTS
        .share
        .key(keys.answer(key))
        .key(keys.inflight(key))
        .arg(doc)
        .arg(ttl)
        .arg(process)
        .invoke_async(con)
        .await?;
    Ok(())
}

/// Writes `fields` where the team has none yet and returns what the team holds.
pub async fn settings(
    con: &mut ConnectionManager,
    keys: &Keys,
    ttl_ms: u64,
    fields: &[(&str, String)],
) -> RedisResult<Vec<(String, String)>> {
    let mut inv = SCRIPTS.settings.prepare_invoke();
    inv.key(keys.settings()).arg(ttl_ms);
    for (f, v) in fields {
        inv.arg(*f).arg(v);
    }
    let flat: Vec<String> = inv.invoke_async(con).await?;
    Ok(flat
        .chunks_exact(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::{FetchKey, LookBack};

    /// The team's shared answers are per period, as the local cache's are; a 30-day answer
    /// keeps the key builds before periods shared (they asked without `lookBackHours`).
    #[test]
    fn shared_answer_keys_hold_the_period() {
        let keys = Keys::new("tenant/app");
        let ip = "2001:db8::1".parse().unwrap();
        let at = |p| keys.answer(&FetchKey::IpStats(ip, p));
        assert_eq!(
            at(LookBack::MONTH),
            "mde:{tenant%2Fapp}:answer:ip_stats:2001:db8::1"
        );
        assert_eq!(
            at(LookBack::WEEK),
            "mde:{tenant%2Fapp}:answer:ip_stats:2001:db8::1%40168h"
        );
        assert_ne!(at(LookBack::DAY), at(LookBack::WEEK));
        assert_eq!(
            keys.inflight(&FetchKey::IpStats(ip, LookBack::DAY)),
            "mde:{tenant%2Fapp}:inflight:ip_stats:2001:db8::1%4024h"
        );
    }
}
