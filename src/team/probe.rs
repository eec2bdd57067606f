//! `doctor`'s look at the team's Redis before anyone relies on it: reachable, signed in, how
//! quick a round trip is, and whether it loads the admission scripts.

use std::time::Duration;

use tokio::time::Instant;

use super::scripts;
use super::url::TeamUrl;

/// What the probe saw.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Median of a few PINGs: what every admission decision adds to a call.
    pub latency: Duration,
    pub version: String,
    pub scripts: usize,
}

/// Connects, pings, reads the server version and loads every script; each step within
/// `deadline`. The error names the step and never the password.
pub async fn probe(url: &TeamUrl, deadline: Duration) -> Result<Probe, String> {
    let step = |what: &str, e: &dyn std::fmt::Display| format!("{what}: {e}");
    let info = url.connection_info().map_err(|e| step("address", &e))?;
    let client = redis::Client::open(info).map_err(|e| step("address", &e))?;
    let mut con = tokio::time::timeout(deadline, client.get_multiplexed_async_connection())
        .await
        .map_err(|_| format!("no connection within {} ms", deadline.as_millis()))?
        // A wrong password or ACL user fails here (WRONGPASS, NOAUTH).
        .map_err(|e| step("connect or sign in", &e))?;
    let mut pings = Vec::new();
    for _ in 0..5 {
        let sent = Instant::now();
        let _: String = tokio::time::timeout(deadline, redis::cmd("PING").query_async(&mut con))
            .await
            .map_err(|_| "PING did not answer in time".to_string())?
            .map_err(|e| step("PING", &e))?;
        pings.push(sent.elapsed());
    }
    pings.sort();
    let info: String = tokio::time::timeout(
        deadline,
        redis::cmd("INFO").arg("server").query_async(&mut con),
    )
    .await
    .map_err(|_| "INFO did not answer in time".to_string())?
    .map_err(|e| step("INFO server", &e))?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned();
    let every = scripts::every();
    for (name, script) in &every {
        tokio::time::timeout(deadline, script.load_async(&mut con))
            .await
            .map_err(|_| format!("loading script {name} did not answer in time"))?
            .map_err(|e| step(&format!("loading script {name}"), &e))?;
    }
    Ok(Probe {
        latency: pings[pings.len() / 2],
        version,
        scripts: every.len(),
    })
}
