//! What the analyst types, checked before any call: IPs (plain or defanged) and alert ids.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Why typed input was refused; shown under the input box and by the CLI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("type an IP address, e.g. 10.209.67.177 or 2001:db8::1")]
    Empty,
    #[error("'{0}' is not an IPv4 or IPv6 address")]
    NotAnIp(String),
    #[error("an IP address must not carry a port or prefix: '{0}'")]
    HasSuffix(String),
    #[error("type an alert id, e.g. 636688558380765161_2136280442")]
    EmptyAlertId,
    #[error("alert ids use only letters, digits, '_' and '-': '{0}'")]
    BadAlertId(String),
    #[error("alert id is longer than {max} characters", max = AlertId::MAX_LEN)]
    AlertIdTooLong,
}

/// Parses an IPv4/IPv6 address, accepting surrounding spaces and the usual defanged forms
/// (`10[.]209[.]67[.]177`, `10(.)209(.)67(.)177`, `10{.}…`, `2001[:]db8[:][:]1`, `hxxp`-free).
pub fn parse_ip(raw: &str) -> Result<IpAddr, InputError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(InputError::Empty);
    }
    let refanged = refang(text);
    // IPv6 written as a URL host, e.g. [2001:db8::1]
    let candidate = refanged
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(&refanged);
    match candidate.parse::<IpAddr>() {
        Ok(ip) => Ok(ip),
        Err(_) if looks_like_ip_with_suffix(candidate) => Err(InputError::HasSuffix(shown(text))),
        Err(_) => Err(InputError::NotAnIp(shown(text))),
    }
}

/// Undoes defanging: brackets or parentheses around `.` and `:`, and the word `dot`.
fn refang(text: &str) -> String {
    let mut s = text.to_owned();
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[:]", ":"),
        ("(:)", ":"),
        ("{:}", ":"),
    ] {
        s = s.replace(from, to);
    }
    s
}

fn looks_like_ip_with_suffix(s: &str) -> bool {
    let (head, _) = s.split_once(['/', '%']).unwrap_or((s, ""));
    if head != s && head.parse::<IpAddr>().is_ok() {
        return true;
    }
    // 1.2.3.4:443
    s.rsplit_once(':')
        .is_some_and(|(h, p)| h.parse::<std::net::Ipv4Addr>().is_ok() && p.parse::<u16>().is_ok())
}

/// Echoes input in messages without letting it break the line or the terminal.
fn shown(text: &str) -> String {
    let s = super::sanitize::one_line(text);
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

/// A syntactically valid alert id (`da637472900382838869_1364969609`): safe to put in a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AlertId(String);

impl AlertId {
    pub const MAX_LEN: usize = 128;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AlertId {
    type Error = InputError;
    fn try_from(s: String) -> Result<Self, InputError> {
        parse_alert_id(&s)
    }
}

impl From<AlertId> for String {
    fn from(id: AlertId) -> String {
        id.0
    }
}

/// Validates an alert id: letters, digits, `_` and `-`, at most [`AlertId::MAX_LEN`].
pub fn parse_alert_id(raw: &str) -> Result<AlertId, InputError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(InputError::EmptyAlertId);
    }
    if s.len() > AlertId::MAX_LEN {
        return Err(InputError::AlertIdTooLong);
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(InputError::BadAlertId(shown(s)));
    }
    Ok(AlertId(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_defanged_ips_normalise() {
        for raw in [
            "10.209.67.177",
            "  10.209.67.177\t",
            "10[.]209[.]67[.]177",
            "10(.)209(.)67(.)177",
            "10{.}209{.}67{.}177",
        ] {
            assert_eq!(parse_ip(raw).unwrap().to_string(), "10.209.67.177", "{raw}");
        }
        assert_eq!(
            parse_ip("2001[:]db8[:][:]1").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(
            parse_ip("[2001:DB8::1]").unwrap().to_string(),
            "2001:db8::1"
        );
    }

    #[test]
    fn bad_ips_say_why() {
        assert_eq!(parse_ip("   "), Err(InputError::Empty));
        assert!(matches!(parse_ip("10.209.67"), Err(InputError::NotAnIp(_))));
        assert!(matches!(parse_ip("999.1.1.1"), Err(InputError::NotAnIp(_))));
        assert!(matches!(
            parse_ip("10.0.0.1/24"),
            Err(InputError::HasSuffix(_))
        ));
        assert!(matches!(
            parse_ip("10.0.0.1:443"),
            Err(InputError::HasSuffix(_))
        ));
        let e = parse_ip("evil\u{1b}[2Jtext").unwrap_err().to_string();
        assert!(!e.contains('\u{1b}'));
    }

    #[test]
    fn alert_ids_are_checked() {
        assert_eq!(
            parse_alert_id(" 636688558380765161_2136280442 ")
                .unwrap()
                .as_str(),
            "636688558380765161_2136280442"
        );
        assert!(parse_alert_id("da637308392288907382_-880718168").is_ok());
        assert_eq!(parse_alert_id(""), Err(InputError::EmptyAlertId));
        assert!(matches!(
            parse_alert_id("../../etc/passwd"),
            Err(InputError::BadAlertId(_))
        ));
        assert_eq!(
            parse_alert_id(&"a".repeat(129)),
            Err(InputError::AlertIdTooLong)
        );
    }
}
