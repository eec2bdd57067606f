//! The team budget on Redis: one shared exact sliding log per endpoint for every console and
//! script on one app registration, one 429 pause, one cache with an in-flight lock. See
//! `../shared/TEAM.md` for the pattern and the failure policy; `books` is the state machine,
//! `heartbeat` the task that keeps the view current, `share` the rule while Redis is away.

mod books;
mod fallback;
mod heartbeat;
pub mod probe;
mod scripts;
pub mod share;
pub mod url;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::defender::{Endpoint, FetchKey, FetchValue};
use crate::fetch::{Ask, BudgetPolicy, Ledger, LedgerFuture, Link, Lookup, SharedStatus, Verdict};
pub use books::DEADLINE;
use books::{At, OwnCall, State, TeamBooks};
pub use url::{Secret, TeamUrl, TeamUrlError};

/// How long an in-flight lock holds when its holder never answers (it died).
const LOCK: Duration = Duration::from_secs(60);
/// A Busy asker looks again after at most this long.
const BUSY_CAP: Duration = Duration::from_millis(250);

/// The team's Redis as a [`Ledger`]. Cheap to clone; the heartbeat task ends when the last
/// clone is dropped.
#[derive(Clone)]
pub struct TeamLedger {
    inner: Arc<TeamBooks>,
}

/// The key of `endpoint`'s shared log for registration `reg` (for `doctor` and tests).
pub fn calls_key(reg: &str, endpoint: Endpoint) -> String {
    scripts::Keys::new(reg).calls(endpoint)
}

/// The prefix of every key of registration `reg`.
pub fn key_prefix(reg: &str) -> String {
    scripts::Keys::new(reg)
        .epoch()
        .trim_end_matches("epoch")
        .to_string()
}

impl TeamLedger {
    /// Connects within about 500 ms or starts Unreachable and keeps trying in the background;
    /// never fails. `own_calls` are this process's calls of the last hour (the local call
    /// log), put on the shared log so a restarted console is not counted as fresh.
    pub async fn start(
        url: TeamUrl,
        reg: String,
        policy: BudgetPolicy,
        own_calls: Vec<(Endpoint, DateTime<Utc>)>,
    ) -> TeamLedger {
        let con = build(&url);
        let base = Instant::now();
        let process = format!("{}-{:08x}", std::process::id(), fastrand::u32(..));
        let mut own = HashMap::new();
        for (i, (endpoint, at)) in own_calls.into_iter().enumerate() {
            let at = At::Wall(at.timestamp_millis());
            own.insert(format!("{process}:s{i}"), OwnCall { endpoint, at });
        }
        let state = State {
            link: Link::Unreachable { share_of: 2 },
            connected_once: false,
            settings_checked: false,
            epoch: String::new(),
            consoles: 1,
            offset_ms: Utc::now().timestamp_millis(),
            skew_ms: 0,
            own,
            share: HashMap::new(),
            local_pause: HashMap::new(),
            team: HashMap::new(),
            mirror: HashMap::new(),
            warnings: Vec::new(),
            notice: None,
            outage_said: false,
            published: None,
        };
        let inner = Arc::new(TeamBooks {
            keys: scripts::Keys::new(&reg),
            policy,
            process,
            con,
            base,
            state: Mutex::new(state),
            changed: watch::channel(()).0,
        });
        let why = match tokio::time::timeout(DEADLINE, inner.connect()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("no answer within 500 ms".to_string()),
        };
        if let Some(why) = why {
            let mut st = inner.lock();
            inner.unreachable(&mut st, &why);
            inner.publish(&mut st);
        }
        heartbeat::spawn(&inner);
        TeamLedger { inner }
    }

    /// Connected, or deciding locally on a share.
    pub fn link(&self) -> Link {
        self.inner.lock().link
    }

    /// Settings of this console that differ from the team's (first writer wins the record;
    /// each process still admits by its own).
    pub fn warnings(&self) -> Vec<String> {
        self.inner.lock().warnings.clone()
    }

    /// "team budget unreachable · local share 50/1m,750/1h", once per outage, for stderr.
    pub fn take_notice(&self) -> Option<String> {
        self.inner.lock().notice.take()
    }

    /// Tests only (feature `test-hooks`): one decision at a virtual Redis time `now_ms`
    /// instead of Redis's `TIME`.
    #[cfg(any(test, feature = "test-hooks"))]
    pub async fn admit_at(&self, ask: Ask, now_ms: i64) -> Verdict {
        self.inner.admit(ask, Some(now_ms)).await
    }

    /// Tests only (feature `test-hooks`): [`Ledger::take_back`] at a virtual Redis time.
    #[cfg(any(test, feature = "test-hooks"))]
    pub async fn take_back_at(
        &self,
        endpoint: Endpoint,
        seq: u64,
        pause: Option<Duration>,
        now_ms: i64,
    ) {
        take_back(self.inner.clone(), endpoint, seq, pause, Some(now_ms)).await;
    }
}

/// The client, or `None` (every operation then fails, and the ledger stays on its share).
fn build(url: &TeamUrl) -> Option<redis::aio::ConnectionManager> {
    let made = url
        .connection_info()
        .and_then(redis::Client::open)
        .and_then(|client| {
            // Our own deadline decides; the crate's retries only shorten a reconnect.
            let config = redis::aio::ConnectionManagerConfig::new()
                .set_response_timeout(Some(DEADLINE))
                .set_connection_timeout(Some(Duration::from_millis(400)))
                .set_number_of_retries(1)
                .set_min_delay(Duration::from_millis(100))
                .set_max_delay(Duration::from_secs(1));
            redis::aio::ConnectionManager::new_lazy_with_config(client, config)
        });
    match made {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("team budget unreachable: cannot set up a client for {url}: {e}");
            None
        }
    }
}

async fn take_back(
    inner: Arc<TeamBooks>,
    endpoint: Endpoint,
    seq: u64,
    pause: Option<Duration>,
    now: Option<i64>,
) {
    let id = inner.call_id(seq);
    let connected = {
        let mut st = inner.lock();
        if let Some(OwnCall {
            at: At::Local(t), ..
        }) = st.own.remove(&id)
            && let Some(share) = st.share.get_mut(&endpoint)
        {
            share.unrecord(t);
        }
        if let Some(d) = pause {
            let until = Instant::now() + d;
            let p = st.local_pause.entry(endpoint).or_insert(until);
            *p = (*p).max(until);
        }
        inner.publish(&mut st);
        matches!(st.link, Link::Connected)
    };
    if !connected {
        return;
    }
    let pause_ms = pause.map(|d| d.as_millis() as u64);
    let work = async {
        let mut con = inner.connection()?;
        scripts::take_back(&mut con, &inner.keys, endpoint, &id, pause_ms, now).await
    };
    let why = match tokio::time::timeout(DEADLINE, work).await {
        Ok(Ok((end, _))) => {
            let mut st = inner.lock();
            if end > 0 {
                st.team.entry(endpoint).or_default().pause_end = Some(end);
            }
            inner.publish(&mut st);
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 500 ms".to_string(),
    };
    let mut st = inner.lock();
    inner.unreachable(&mut st, &why);
    inner.publish(&mut st);
}

/// The shared cache's stored form: the fetch time first, so the lookup script reads it
/// without decoding the answer.
fn document(value: &FetchValue, at: DateTime<Utc>) -> serde_json::Result<String> {
    Ok(format!(
        r#"{{"at_ms":{},"at":{},"value":{}}}"#,
        at.timestamp_millis(),
        serde_json::to_string(&at.to_rfc3339())?,
        crate::store::cache::encode(value)?
    ))
}

fn undocument(endpoint: Endpoint, doc: &str) -> Option<(FetchValue, DateTime<Utc>)> {
    #[derive(serde::Deserialize)]
    struct Doc {
        at: DateTime<Utc>,
        value: serde_json::Value,
    }
    let d: Doc = serde_json::from_str(doc).ok()?;
    let value = crate::store::cache::decode(endpoint, &d.value.to_string()).ok()?;
    Some((value, d.at))
}

impl Ledger for TeamLedger {
    fn admit(&self, ask: Ask) -> LedgerFuture<Verdict> {
        let inner = self.inner.clone();
        Box::pin(async move { inner.admit(ask, None).await })
    }

    fn take_back(&self, endpoint: Endpoint, seq: u64, pause: Option<Duration>) -> LedgerFuture<()> {
        Box::pin(take_back(self.inner.clone(), endpoint, seq, pause, None))
    }

    fn shares_answers(&self) -> bool {
        true
    }

    fn lookup(&self, key: &FetchKey, fresh_after: Option<DateTime<Utc>>) -> LedgerFuture<Lookup> {
        let inner = self.inner.clone();
        let key = key.clone();
        Box::pin(async move {
            if !matches!(inner.lock().link, Link::Connected) {
                // No shared cache to ask: fetch it ourselves, on the local share.
                return Lookup::Yours;
            }
            let work = async {
                let mut con = inner.connection()?;
                let fresh = fresh_after.map(|t| t.timestamp_millis());
                let (lock, cap) = (LOCK.as_millis() as u64, BUSY_CAP.as_millis() as u64);
                scripts::lookup(
                    &mut con,
                    &inner.keys,
                    &key,
                    fresh,
                    &inner.process,
                    lock,
                    cap,
                )
                .await
            };
            let why = match tokio::time::timeout(DEADLINE, work).await {
                Ok(Ok(scripts::LookupReply::Hit(doc))) => {
                    return match undocument(key.endpoint(), &doc) {
                        Some((value, at)) => Lookup::Hit(value, at),
                        // Written by a build with another model: a miss; our answer replaces it.
                        None => Lookup::Yours,
                    };
                }
                Ok(Ok(scripts::LookupReply::Busy { ms })) => {
                    return Lookup::Busy(books::millis(ms));
                }
                Ok(Ok(scripts::LookupReply::Yours)) => return Lookup::Yours,
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer within 500 ms".to_string(),
            };
            let mut st = inner.lock();
            inner.unreachable(&mut st, &why);
            inner.publish(&mut st);
            Lookup::Yours
        })
    }

    fn share(
        &self,
        key: &FetchKey,
        value: &FetchValue,
        at: DateTime<Utc>,
        ttl: Duration,
    ) -> LedgerFuture<()> {
        let doc = match document(value, at) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!("team cache: cannot encode {key}: {e}");
                None
            }
        };
        let ttl_ms = ttl.as_millis() as u64;
        cache_write(self.inner.clone(), key.clone(), doc.map(|d| (d, ttl_ms)))
    }

    fn release(&self, key: &FetchKey) -> LedgerFuture<()> {
        cache_write(self.inner.clone(), key.clone(), None)
    }

    fn status(&self) -> Option<SharedStatus> {
        let st = self.inner.lock();
        Some(self.inner.status(&st))
    }

    fn watch(&self) -> Option<watch::Receiver<()>> {
        Some(self.inner.changed.subscribe())
    }
}

fn cache_write(
    inner: Arc<TeamBooks>,
    key: FetchKey,
    doc: Option<(String, u64)>,
) -> LedgerFuture<()> {
    Box::pin(async move {
        if !matches!(inner.lock().link, Link::Connected) {
            return;
        }
        let work = async {
            let mut con = inner.connection()?;
            let doc = doc.as_ref().map(|(d, ttl)| (d.as_str(), *ttl));
            scripts::share(&mut con, &inner.keys, &key, doc, &inner.process).await
        };
        let why = match tokio::time::timeout(DEADLINE, work).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 500 ms".to_string(),
        };
        let mut st = inner.lock();
        inner.unreachable(&mut st, &why);
        inner.publish(&mut st);
    })
}
