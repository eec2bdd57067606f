//! Reading an access token's claims (not verifying it: the API does that). `doctor` uses them
//! to say which permissions and audience a token carries before any call is spent.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The claims `doctor` reports. Entra ID puts app permissions in `roles` (app-only tokens) and
/// delegated ones in `scp` (space-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Expiry, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// The app, in v1 tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// The app, in v2 tokens (which carry no `appid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
}

impl Claims {
    /// Permissions, app or delegated, as one list.
    pub fn permissions(&self) -> Vec<String> {
        let mut all = self.roles.clone();
        if let Some(scp) = &self.scp {
            all.extend(scp.split_whitespace().map(str::to_owned));
        }
        all
    }

    /// Whether `needed` (e.g. `Ip.Read.All`) is granted, directly or through its ReadWrite form.
    pub fn grants(&self, needed: &str) -> bool {
        let read_write = needed.replace(".Read", ".ReadWrite");
        let delegated = needed.trim_end_matches(".All");
        self.permissions()
            .iter()
            .any(|p| p == needed || *p == read_write || p == delegated)
    }

    /// `header.payload.signature` with an unsigned header: the simulator's tokens.
    pub fn to_unsigned_token(&self, signature: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        format!("{header}.{payload}.{signature}")
    }
}

/// The payload of a JWT, if `token` is one. Opaque tokens give `None`.
pub fn claims(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_grants() {
        let c = Claims {
            aud: Some("https://api.securitycenter.microsoft.com".into()),
            roles: vec!["Ip.Read.All".into(), "Alert.ReadWrite.All".into()],
            exp: Some(1_800_000_000),
            ..Claims::default()
        };
        let token = c.to_unsigned_token("sig");
        assert_eq!(claims(&token), Some(c.clone()));
        assert!(c.grants("Ip.Read.All"));
        assert!(c.grants("Alert.Read.All"), "ReadWrite covers Read");
        let delegated = Claims {
            scp: Some("Ip.Read Alert.Read".into()),
            ..Claims::default()
        };
        assert!(delegated.grants("Ip.Read.All"));
        assert_eq!(claims("opaque-token"), None);
    }
}
