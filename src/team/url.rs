//! The team's Redis address: the four URL forms we accept, a password kept apart from
//! everything that prints (`Debug`, `Display`, errors), and the `redis` crate's connection info.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

pub use crate::defender::auth::Secret;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Tcp { host: String, port: u16, tls: bool },
    Unix(PathBuf),
}

#[derive(Clone, PartialEq, Eq)]
pub struct TeamUrl {
    pub address: Address,
    pub db: i64,
    pub username: Option<String>,
    password: Option<Secret>,
}

const FORMS: &str = "redis://[user[:password]@]host[:port][/db], rediss://… (TLS), \
                     redis+unix:///path/to.sock[?db=N] or unix:///path/to.sock[?db=N]";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad team Redis URL: {why} (accepted: {FORMS})")]
pub struct TeamUrlError {
    why: String,
}

fn bad(why: impl Into<String>) -> TeamUrlError {
    TeamUrlError { why: why.into() }
}

impl TeamUrl {
    /// Parses one of the accepted forms. The error never repeats the input (it may hold a
    /// password).
    pub fn parse(s: &str) -> Result<Self, TeamUrlError> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| bad("no scheme (like redis://)"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "redis" => Self::tcp(rest, false),
            "rediss" => Self::tcp(rest, true),
            "redis+unix" | "unix" => Self::unix(rest),
            _ => Err(bad(format!("unknown scheme '{}'", printable(scheme)))),
        }
    }

    /// Adds a password given apart from the URL (an env var or a file), or replaces the URL's.
    pub fn with_password(mut self, password: Option<Secret>) -> Self {
        if password.is_some() {
            self.password = password;
        }
        self
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    fn tcp(rest: &str, tls: bool) -> Result<Self, TeamUrlError> {
        let (authority, db) = match rest.split_once('/') {
            Some((a, path)) => (a, path),
            None => (rest, ""),
        };
        let db = match db.split(['?', '#']).next().unwrap_or_default() {
            "" => 0,
            n => n
                .parse()
                .map_err(|_| bad("the database after the host must be a number"))?,
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => {
                let (user, pass) = match u.split_once(':') {
                    Some((user, pass)) => (user, Some(pass)),
                    None => (u, None),
                };
                let user = decode(user)?;
                let pass = pass.map(decode).transpose()?;
                (
                    (!user.is_empty()).then_some(user),
                    pass.filter(|p| !p.is_empty()).map(Secret::new),
                )
            }
        };
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            address: Address::Tcp { host, port, tls },
            db,
            username,
            password,
        })
    }

    fn unix(rest: &str) -> Result<Self, TeamUrlError> {
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, q),
            None => (rest, ""),
        };
        if !path.starts_with('/') {
            return Err(bad("a unix socket needs an absolute path (three slashes)"));
        }
        let mut db = 0;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("db", n)) => {
                    db = n.parse().map_err(|_| bad("db=N must be a number"))?;
                }
                _ => return Err(bad("a unix socket URL takes only ?db=N")),
            }
        }
        Ok(Self {
            address: Address::Unix(PathBuf::from(decode(path)?)),
            db,
            username: None,
            password: None,
        })
    }

    /// The `redis` crate's view of this address, password included.
    pub(crate) fn connection_info(&self) -> redis::RedisResult<redis::ConnectionInfo> {
        use redis::IntoConnectionInfo as _;
        if matches!(self.address, Address::Tcp { tls: true, .. }) {
            crate::tls::install();
        }
        let addr = match &self.address {
            Address::Tcp { host, port, tls } if *tls => redis::ConnectionAddr::TcpTls {
                host: host.clone(),
                port: *port,
                insecure: false,
                tls_params: None,
            },
            Address::Tcp { host, port, .. } => redis::ConnectionAddr::Tcp(host.clone(), *port),
            Address::Unix(path) => redis::ConnectionAddr::Unix(path.clone()),
        };
        let mut settings = redis::RedisConnectionInfo::default().set_db(self.db);
        if let Some(user) = &self.username {
            settings = settings.set_username(user);
        }
        if let Some(pass) = &self.password {
            settings = settings.set_password(pass.expose());
        }
        Ok(addr.into_connection_info()?.set_redis_settings(settings))
    }
}

impl std::str::FromStr for TeamUrl {
    type Err = TeamUrlError;

    fn from_str(s: &str) -> Result<Self, TeamUrlError> {
        Self::parse(s)
    }
}

fn decode(s: &str) -> Result<String, TeamUrlError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| bad("a percent-escape that is not UTF-8"))
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`; the port defaults to 6379.
fn split_host_port(s: &str) -> Result<(String, u16), TeamUrlError> {
    let port = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| bad("the port must be 1 to 65535"))
    };
    if let Some(v6) = s.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("an IPv6 host needs its closing ']'"))?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((host.to_string(), port(p)?)),
            None if after.is_empty() => Ok((host.to_string(), 6379)),
            None => Err(bad("text after the IPv6 host")),
        };
    }
    match s.split_once(':') {
        Some((h, p)) => Ok((h.to_string(), port(p)?)),
        None => Ok((s.to_string(), 6379)),
    }
}

/// A scheme as typed, for an error: letters and a few marks only.
fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+-.".contains(*c))
        .take(20)
        .collect()
}

impl fmt::Display for TeamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.address {
            Address::Tcp { host, port, tls } => {
                f.write_str(if *tls { "rediss://" } else { "redis://" })?;
                match (&self.username, &self.password) {
                    (Some(u), Some(_)) => write!(f, "{u}:***@")?,
                    (Some(u), None) => write!(f, "{u}@")?,
                    (None, Some(_)) => f.write_str(":***@")?,
                    (None, None) => {}
                }
                if host.contains(':') {
                    write!(f, "[{host}]:{port}")?;
                } else {
                    write!(f, "{host}:{port}")?;
                }
                if self.db != 0 {
                    write!(f, "/{}", self.db)?;
                }
                Ok(())
            }
            Address::Unix(path) => {
                write!(f, "redis+unix://{}", path.display())?;
                if self.db != 0 {
                    write!(f, "?db={}", self.db)?;
                }
                if self.password.is_some() {
                    f.write_str(" (password ***)")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for TeamUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TeamUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_forms_parse() {
        let u = TeamUrl::parse("redis://alice:s%40cret@host.example:6380/2").unwrap();
        assert_eq!(
            u.address,
            Address::Tcp {
                host: "host.example".into(),
                port: 6380,
                tls: false
            }
        );
        assert_eq!((u.db, u.username.as_deref()), (2, Some("alice")));
        assert_eq!(u.password.as_ref().unwrap().expose(), "s@cret");
        let u = TeamUrl::parse("rediss://[::1]").unwrap();
        assert_eq!(
            u.address,
            Address::Tcp {
                host: "::1".into(),
                port: 6379,
                tls: true
            }
        );
        assert_eq!(u.to_string(), "rediss://[::1]:6379");
        let u = TeamUrl::parse("redis+unix:///run/redis.sock?db=3").unwrap();
        assert_eq!(u.address, Address::Unix("/run/redis.sock".into()));
        assert_eq!(u.db, 3);
        assert_eq!(u.to_string(), "redis+unix:///run/redis.sock?db=3");
        assert!(TeamUrl::parse("unix:///tmp/r.sock").is_ok());
        assert_eq!(
            TeamUrl::parse("redis://:pw@h").unwrap().to_string(),
            "redis://:***@h:6379"
        );
    }

    #[test]
    fn the_password_never_prints() {
        let u = TeamUrl::parse("redis://alice:hunter2@host:6379").unwrap();
        assert_eq!(u.to_string(), "redis://alice:***@host:6379");
        assert!(!format!("{u:?}").contains("hunter2"));
        let u = u.with_password(Some(Secret::new("other")));
        assert_eq!(u.password.as_ref().unwrap().expose(), "other");
        assert!(!format!("{u:?} {u}").contains("other"));
        let u = TeamUrl::parse("unix:///s.sock")
            .unwrap()
            .with_password(Some(Secret::new("pw")));
        assert!(u.has_password() && !format!("{u:?}").contains("pw"));
        assert_eq!(format!("{:?}", Secret::new("x")), "Secret(<redacted>)");
        assert_eq!(Secret::new("x").to_string(), "***");
    }

    #[test]
    fn other_schemes_and_malformed_urls_say_what_is_accepted() {
        for bad in [
            "http://host",
            "host:6379",
            "redis://",
            "redis://h:99999",
            "redis://h/x",
            "unix://relative.sock",
            "unix:///s.sock?pass=x",
            "redis://[::1",
        ] {
            let e = TeamUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains("redis+unix:///"), "{bad}: {e}");
        }
        let e = TeamUrl::parse("http://u:topsecret@h")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("topsecret"), "{e}");
    }
}
