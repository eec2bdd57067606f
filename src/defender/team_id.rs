//! Which team a process belongs to: Microsoft counts the limits per app registration and tenant
//! on one API host, so those three, hashed, name the shared budget (`reg` in the team's Redis
//! keys). Two registrations never share a budget or see each other's cache; two analysts on
//! one registration always do, whatever token each holds.

use sha2::{Digest, Sha256};

use super::jwt;

/// What the sign-in tells us about the caller.
#[derive(Debug, Clone, Copy)]
pub enum Basis<'a> {
    /// A client secret: the configured tenant and app (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`).
    App { tenant: &'a str, client_id: &'a str },
    /// A bearer token (`MDE_TOKEN`, the Azure CLI, device code): its `tid` and `appid`/`azp`.
    Token(&'a str),
}

/// The team a process spends for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamId {
    /// The short stable name of the registration: the hash of host, tenant and app.
    pub reg: String,
    pub host: String,
    pub tenant: Option<String>,
    pub app: Option<String>,
    /// The token was no JWT: the team is keyed on the host and the configured tenant only.
    pub opaque: bool,
}

impl TeamId {
    /// The team of a process signing in on `basis` against `api_url`; `configured_tenant`
    /// (`AZURE_TENANT_ID`) stands in for a tenant the token does not name.
    pub fn of(api_url: &str, basis: Basis<'_>, configured_tenant: Option<&str>) -> TeamId {
        let host = api_host(api_url);
        let configured = configured_tenant.map(str::trim).filter(|t| !t.is_empty());
        let (tenant, app, opaque) = match basis {
            Basis::App { tenant, client_id } => {
                (Some(tenant.to_owned()), Some(client_id.to_owned()), false)
            }
            Basis::Token(token) => match jwt::claims(token) {
                Some(c) => (
                    c.tid.or_else(|| configured.map(str::to_owned)),
                    c.appid.or(c.azp),
                    false,
                ),
                None => (configured.map(str::to_owned), None, true),
            },
        };
        let norm = |s: Option<String>| {
            s.map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
        };
        let (tenant, app) = (norm(tenant), norm(app));
        TeamId {
            reg: team_registration(&host, tenant.as_deref(), app.as_deref()),
            host,
            tenant,
            app,
            opaque,
        }
    }

    /// What `doctor` says when the team is keyed on less than it should be.
    pub fn warning(&self) -> Option<String> {
        self.opaque.then(|| {
            "the token is opaque (no JWT), so the team budget keys on host and tenant only: \
             consoles signing in as different apps would share one budget wrongly"
                .to_owned()
        })
    }
}

/// The first 16 hex digits of SHA-256 over the host, tenant and app (each lowercased; none is
/// empty): stable across processes, machines and builds, unlike `std`'s hasher, and short
/// enough for a Redis key. Says nothing of the tenant to whoever reads the keys.
pub fn team_registration(api_host: &str, tenant: Option<&str>, app: Option<&str>) -> String {
    let mut h = Sha256::new();
    for part in [Some(api_host), tenant, app] {
        h.update(part.unwrap_or("").trim().to_ascii_lowercase().as_bytes());
        // A separator no part contains, so ("ab", "c") and ("a", "bc") differ.
        h.update([0]);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The host (and a port other than the scheme's) of the API URL, lowercased.
fn api_host(api_url: &str) -> String {
    match reqwest::Url::parse(api_url.trim()) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}:{p}", h.to_ascii_lowercase()),
            (Some(h), None) => h.to_ascii_lowercase(),
            _ => api_url.trim().to_ascii_lowercase(),
        },
        Err(_) => api_url.trim().to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defender::jwt::Claims;

    const API: &str = "https://api.security.microsoft.com";
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    fn token(app: &str, exp: u64, via_azp: bool) -> String {
        let mut c = Claims {
            tid: Some(TENANT.into()),
            exp: Some(exp),
            ..Claims::default()
        };
        if via_azp {
            c.azp = Some(app.into());
        } else {
            c.appid = Some(app.into());
        }
        c.to_unsigned_token("sig")
    }

    #[test]
    fn two_apps_are_two_teams() {
        let a = TeamId::of(API, Basis::Token(&token("app-a", 1, false)), None);
        let b = TeamId::of(API, Basis::Token(&token("app-b", 1, false)), None);
        assert_ne!(a.reg, b.reg);
        assert_eq!(a.reg.len(), 16);
        assert!(a.reg.chars().all(|c| c.is_ascii_hexdigit()));
        let other_tenant =
            team_registration("api.security.microsoft.com", Some("t2"), Some("app-a"));
        assert_ne!(a.reg, other_tenant);
        let other_host = TeamId::of(
            "https://eu.api.security.microsoft.com",
            Basis::Token(&token("app-a", 1, false)),
            None,
        );
        assert_ne!(a.reg, other_host.reg);
    }

    #[test]
    fn one_app_is_one_team_whatever_the_token_or_the_sign_in() {
        let first = TeamId::of(API, Basis::Token(&token("app-a", 1, false)), None);
        let renewed = TeamId::of(API, Basis::Token(&token("app-a", 2, false)), None);
        assert_ne!(token("app-a", 1, false), token("app-a", 2, false));
        assert_eq!(first.reg, renewed.reg);
        // A v2 token names the app in `azp`; a client secret names it in the configuration.
        let v2 = TeamId::of(API, Basis::Token(&token("app-a", 3, true)), None);
        assert_eq!(first.reg, v2.reg);
        let secret = TeamId::of(
            "https://API.security.microsoft.com/",
            Basis::App {
                tenant: &TENANT.to_ascii_uppercase(),
                client_id: "APP-A",
            },
            None,
        );
        assert_eq!(
            first.reg, secret.reg,
            "case and a trailing slash do not matter"
        );
        assert_eq!(first.warning(), None);
    }

    #[test]
    fn an_opaque_token_keys_on_host_and_tenant_and_warns() {
        let a = TeamId::of(API, Basis::Token("opaque-one"), Some(TENANT));
        let b = TeamId::of(API, Basis::Token("opaque-two"), Some(TENANT));
        assert!(a.opaque);
        assert_eq!(a.reg, b.reg);
        assert_eq!(a.app, None);
        assert_eq!(a.tenant.as_deref(), Some(TENANT));
        let w = a.warning().unwrap();
        assert!(w.contains("host and tenant only"), "{w}");
        let jwt = TeamId::of(API, Basis::Token(&token("app-a", 1, false)), Some(TENANT));
        assert_ne!(
            a.reg, jwt.reg,
            "an app named is another team than none named"
        );
    }
}
