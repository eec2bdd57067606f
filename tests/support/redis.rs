//! A throwaway `redis-server` for tests: its own temporary directory and unix socket, no
//! persistence, killed on drop; stopped, resumed, killed and restarted empty on demand.
//! Skipped (one printed line) where `redis-server` is not installed, except on CI.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a fresh server may take to answer `PING`: generous, the machine is shared.
const READY: Duration = Duration::from_secs(10);

pub struct RedisServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// A loopback TCP port besides the socket, for tests and benches that want TCP.
    port: Option<u16>,
    /// A loopback TLS port, its certificate signed by a CA of the test's own (`ca.pem`).
    tls_port: Option<u16>,
}

impl RedisServer {
    /// A server on a unix socket only (`--port 0`: no TCP listener, so no port race).
    pub fn start() -> Option<Self> {
        Self::launch(false)
    }

    /// A server on the unix socket and a loopback TCP port.
    pub fn start_with_tcp() -> Option<Self> {
        Self::launch(true)
    }

    /// A server on the unix socket and a TLS port on loopback, with a certificate for
    /// `localhost` from a throwaway CA (`ca_file`). `None` (one line) without `openssl`.
    pub fn start_with_tls() -> Option<Self> {
        if Command::new("openssl").arg("version").output().is_err() {
            println!("skipped: openssl not installed (it makes the test's certificates)");
            return None;
        }
        let mut server = Self::launch(false)?;
        server.kill();
        make_certificates(server.dir.path());
        server.tls_port = Some(free_port());
        server.spawn();
        Some(server)
    }

    /// `rediss://localhost:PORT` when started with [`RedisServer::start_with_tls`].
    pub fn tls_url(&self) -> Option<String> {
        self.tls_port.map(|p| format!("rediss://localhost:{p}"))
    }

    /// The PEM file of the CA that signed the TLS certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn launch(tcp: bool) -> Option<Self> {
        if !installed() {
            // On CI a missing redis-server is a broken runner (`.ci/run` installs it).
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is required on CI for the team tests (.ci/run installs it)"
            );
            println!("skipped: redis-server not installed");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("mde-redis-")
            .tempdir()
            .expect("a temporary directory");
        let port = tcp.then(free_port);
        let mut server = Self {
            child: None,
            dir,
            port,
            tls_port: None,
        };
        server.spawn();
        Some(server)
    }

    /// `redis+unix:///…/r.sock`, the socket's URL.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// `redis://127.0.0.1:PORT` when started with [`RedisServer::start_with_tcp`].
    pub fn tcp_url(&self) -> Option<String> {
        self.port.map(|p| format!("redis://127.0.0.1:{p}"))
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("r.sock")
    }

    /// SIGSTOP: the server holds its connections but answers nothing (a hang).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT: answers again, data intact.
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// kill -9: connections drop, data gone (no persistence). Waits until the process is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server if it runs, then starts a new, empty one on the same socket (and port).
    pub fn restart_empty(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Runs one command through `redis-cli` on the socket and returns its output, trimmed
    /// (for tests that look at keys directly: ZCARD, PTTL, SCAN).
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .arg("-s")
            .arg(self.socket())
            .args(args)
            .output()
            .expect("redis-cli runs");
        assert!(out.status.success(), "redis-cli {args:?} failed");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[allow(unsafe_code, reason = "kill(2) has no safe wrapper in std")]
    fn signal(&self, sig: libc::c_int) {
        let child = self.child.as_ref().expect("the server runs");
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        // SAFETY: kill(2) on our own child's pid, which we have not reaped (it is in `child`).
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
    }

    fn spawn(&mut self) {
        let socket = self.socket();
        // A stale socket file from a killed server: redis-server replaces it, but make sure.
        let _ = std::fs::remove_file(&socket);
        let port = self.port.unwrap_or(0).to_string();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port])
            .args(["--bind", "127.0.0.1"])
            .arg("--unixsocket")
            .arg(&socket)
            .args(["--unixsocketperm", "700"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(self.tls_args())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("redis-server starts");
        let deadline = Instant::now() + READY;
        loop {
            if ping(&socket) {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("redis-server exited before answering PING: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING within {READY:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.child = Some(child);
    }
}

impl RedisServer {
    fn tls_args(&self) -> Vec<String> {
        let Some(port) = self.tls_port else {
            return Vec::new();
        };
        let file = |name: &str| self.dir.path().join(name).display().to_string();
        vec![
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            file("server.pem"),
            "--tls-key-file".into(),
            file("server.key"),
            "--tls-ca-cert-file".into(),
            file("ca.pem"),
            "--tls-auth-clients".into(),
            "no".into(),
        ]
    }
}

/// A CA and a server certificate for `localhost` and 127.0.0.1 signed by it, in `dir`.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=mde-triage test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too: no need to continue it first.
        self.kill();
    }
}

fn installed() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `PING` over the socket in RESP; true on `+PONG`.
fn ping(socket: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// A loopback port free a moment ago (the server binds it right after).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    l.local_addr().unwrap().port()
}
