//! A fleet of real processes: `mde-triage sim` on a free loopback port with scaled limits, and
//! client processes (`expand`, `ip`, ...) each on its own data directory, optionally sharing a
//! team Redis. What happened is read from the simulator's own request log (`/_sim/requests`),
//! never from the clients: calls per endpoint, 429s, each request's arrival, and the floor the
//! windows allow for the union of the calls. Used by `tests/fleet/team_e2e.rs` and
//! `benches/team_fleet.rs` (which includes this file by path).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mde_triage::defender::Endpoint;
use mde_triage::fetch::RateLimits;
use mde_triage::sim::LoggedRequest;

pub const BIN: &str = env!("CARGO_BIN_EXE_mde-triage");

/// Milliseconds since the Unix epoch: the clock the simulator stamps arrivals with.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `mde-triage sim` as a child process; killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
    pub token: String,
    /// The spec both the simulator and every client get.
    pub limits: RateLimits,
}

impl Sim {
    /// Starts the simulator with `limits` on a free port; `synthetic` serves a generated tenant
    /// of that many IPs (`--seed 7`) instead of the demo story.
    pub fn start(limits: &str, synthetic: Option<usize>) -> Sim {
        let mut cmd = Command::new(BIN);
        cmd.args(["sim", "--listen", "127.0.0.1:0", "--rate-limit", limits])
            .env("MDE_TRIAGE_LOG", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(n) = synthetic {
            cmd.args(["--synthetic", &n.to_string(), "--seed", "7"]);
        }
        let mut child = cmd.spawn().expect("the simulator starts");
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (mut url, mut token) = (None, None);
        let mut line = String::new();
        // It prints its URL and token, then blocks until stopped: read until both are seen.
        while url.is_none() || token.is_none() {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                panic!("the simulator exited before printing its URL and token");
            }
            let l = line.trim();
            if let Some(u) = l.strip_prefix("export MDE_API_URL=") {
                url = Some(u.to_owned());
            } else if let Some(t) = l.strip_prefix("export MDE_TOKEN=") {
                token = Some(t.to_owned());
            }
        }
        // Keep reading: the simulator prints more, and a closed pipe would stop it.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Sim {
            child,
            url: url.unwrap_or_default(),
            token: token.unwrap_or_default(),
            limits: limits.parse().expect("a valid rate-limit spec"),
        }
    }

    /// Every request answered so far, oldest first, from the simulator's own log.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let authority = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(authority).expect("the simulator listens");
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        write!(
            stream,
            "GET /_sim/requests HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        )
        .expect("request sent");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("answer read");
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("request log: {e}: {body}"))
    }

    /// Polls the request log until `done` holds, or panics after `within`.
    pub fn wait_for(
        &self,
        within: Duration,
        what: &str,
        done: impl Fn(&[LoggedRequest]) -> bool,
    ) -> Vec<LoggedRequest> {
        let deadline = Instant::now() + within;
        loop {
            let log = self.requests();
            if done(&log) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "not seen within {within:?}: {what}; {} requests logged",
                log.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client process on its own data directory; killed on drop if still running.
pub struct Running {
    child: Option<Child>,
    started: Instant,
    /// When it was spawned, on the simulator's clock.
    pub started_unix_ms: u64,
    _home: tempfile::TempDir,
}

/// A client process that ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Spawn to exit.
    pub wall: Duration,
    pub started_unix_ms: u64,
}

impl Finished {
    /// Panics with its stderr unless it exited 0.
    pub fn ok(self) -> Self {
        assert!(self.status.success(), "{:?}: {}", self.status, self.stderr);
        self
    }

    /// Its stdout's lines, sorted: `expand` writes nodes in the order answers come.
    pub fn sorted_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.stdout.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    }
}

/// Starts `mde-triage --rate-limit <sim's limits> <args>` against `sim`, on a fresh data
/// directory and fresh config/state directories (no developer's config is read), with
/// `MDE_TEAM_REDIS` set to `team` when given.
pub fn spawn(sim: &Sim, team: Option<&str>, args: &[&str]) -> Running {
    let home = tempfile::Builder::new()
        .prefix("mde-fleet-")
        .tempdir()
        .expect("a temporary directory");
    let mut cmd = Command::new(BIN);
    cmd.arg("--rate-limit")
        .arg(sim.limits.to_string())
        .arg("--data-dir")
        .arg(home.path().join("data"))
        .args(args)
        .env("MDE_API_URL", &sim.url)
        .env("MDE_TOKEN", &sim.token)
        .env("MDE_TRIAGE_LOG", "off")
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("XDG_DATA_HOME", home.path().join("xdg-data"))
        .env_remove("MDE_TEAM_REDIS")
        .env_remove("MDE_TEAM_REDIS_PASSWORD")
        .env_remove("MDE_RESERVE")
        .env_remove("MDE_PROFILE")
        .env_remove("MDE_TRIAGE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = team {
        cmd.env("MDE_TEAM_REDIS", url);
    }
    let started_unix_ms = unix_ms();
    let started = Instant::now();
    let child = cmd.spawn().expect("the client starts");
    Running {
        child: Some(child),
        started,
        started_unix_ms,
        _home: home,
    }
}

impl Running {
    /// Waits for it to exit, at most `within` (then kills it and panics: a process that never
    /// ends is the failure). Its pipes are read meanwhile, so a full pipe cannot stall it.
    pub fn finish_within(mut self, within: Duration) -> Finished {
        let mut child = self.child.take().expect("not finished twice");
        let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                if let Some(mut p) = pipe {
                    let _ = p.read_to_end(&mut text);
                }
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
        let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
        let deadline = self.started + within;
        let status = loop {
            if let Some(status) = child.try_wait().expect("the client runs") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err.join().unwrap_or_default();
                panic!("a client did not finish within {within:?}; its stderr: {stderr}");
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let wall = self.started.elapsed();
        Finished {
            status,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
            wall,
            started_unix_ms: self.started_unix_ms,
        }
    }

    /// [`Running::finish_within`] a generous minute.
    pub fn finish(self) -> Finished {
        self.finish_within(Duration::from_secs(60))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for every process, each on a thread of its own so that their pipes drain together.
pub fn finish_all(fleet: Vec<Running>) -> Vec<Finished> {
    let waits: Vec<_> = fleet
        .into_iter()
        .map(|r| std::thread::spawn(move || r.finish()))
        .collect();
    waits
        .into_iter()
        .map(|w| w.join().expect("a client finished in time"))
        .collect()
}

/// The fleet's wall time: from the first spawn to the last exit.
pub fn fleet_wall(done: &[Finished]) -> Duration {
    let first = done.iter().map(|f| f.started_unix_ms).min().unwrap_or(0);
    done.iter()
        .map(|f| Duration::from_millis(f.started_unix_ms - first) + f.wall)
        .max()
        .unwrap_or_default()
}

/// The endpoint a logged path was counted against, as the simulator counts it.
pub fn endpoint_of(path: &str) -> Option<Endpoint> {
    let path = path.split('?').next().unwrap_or(path);
    if path.starts_with("/api/ips/") && path.ends_with("/stats") {
        Some(Endpoint::IpStats)
    } else if path.starts_with("/api/ips/") && path.ends_with("/alerts") {
        Some(Endpoint::IpAlerts)
    } else if path.starts_with("/api/alerts/") {
        Some(Endpoint::AlertIps)
    } else {
        None
    }
}

/// What the simulator saw of one endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointTally {
    /// Calls it answered and counted (anything but a 429).
    pub calls: usize,
    pub refused: usize,
}

/// What the simulator saw, per endpoint, in `Endpoint::ALL`'s order.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub endpoints: Vec<(Endpoint, EndpointTally)>,
}

impl Tally {
    pub fn of(log: &[LoggedRequest]) -> Tally {
        let endpoints = Endpoint::ALL
            .iter()
            .map(|e| {
                let mut t = EndpointTally::default();
                for r in log.iter().filter(|r| endpoint_of(&r.path) == Some(*e)) {
                    if r.status == 429 {
                        t.refused += 1;
                    } else {
                        t.calls += 1;
                    }
                }
                (*e, t)
            })
            .collect();
        Tally { endpoints }
    }

    pub fn calls(&self) -> usize {
        self.endpoints.iter().map(|(_, t)| t.calls).sum()
    }

    pub fn refused(&self) -> usize {
        self.endpoints.iter().map(|(_, t)| t.refused).sum()
    }

    pub fn of_endpoint(&self, e: Endpoint) -> EndpointTally {
        self.endpoints
            .iter()
            .find(|(x, _)| *x == e)
            .map(|(_, t)| *t)
            .unwrap_or_default()
    }

    /// The least time the union of these calls needs: on each endpoint, its counted calls
    /// back to back under the windows batch work may use (`share(reserve)`: the reserve is
    /// kept for the analyst), the busiest endpoint's time. No run can beat it.
    pub fn floor(&self, limits: &RateLimits, reserve: f64) -> Duration {
        let share = limits.share(reserve);
        self.endpoints
            .iter()
            .map(|(_, t)| share.min_time(t.calls))
            .max()
            .unwrap_or_default()
    }
}

/// Calls the simulator counted, per endpoint, as `stats/alerts/alert-ips` for a table.
pub fn per_endpoint(t: &Tally) -> String {
    t.endpoints
        .iter()
        .map(|(_, e)| e.calls.to_string())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// `count` distinct IPs of the generated tenant for client `i` (`10.0.0.x` upward), so that
/// clients never share a seed and each `expand --depth 0` makes exactly one stats and one
/// alerts call per seed.
pub fn seeds_for(i: usize, count: usize) -> Vec<String> {
    (0..count)
        .map(|k| {
            let n = 1 + i * count + k;
            format!("10.0.{}.{}", n / 256, n % 256)
        })
        .collect()
}
