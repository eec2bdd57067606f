//! What the analyst types, checked before any call: IPs (plain or defanged), alert ids and
//! device ids.

use std::net::IpAddr;

use super::indicator::{Found, shown};

/// Why typed input was refused; shown under the input box and by the CLI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("type an IP address, e.g. 10.209.67.177 or 2001:db8::1")]
    Empty,
    #[error("'{0}' is not an IPv4 or IPv6 address")]
    NotAnIp(String),
    /// Looked like an address and was refused: the reason, with the text.
    #[error("{0}")]
    Refused(String),
    /// More than one IP, or one and something refused: where one was expected.
    #[error("{0}: give one IP")]
    Several(String),
    #[error("type an alert id, e.g. 636688558380765161_2136280442")]
    EmptyAlertId,
    #[error("alert ids use only letters, digits, '_' and '-': '{0}'")]
    BadAlertId(String),
    #[error("alert id is longer than {max} characters", max = AlertId::MAX_LEN)]
    AlertIdTooLong,
    #[error("type a device id, e.g. 1e5bc9d7e413ddd7902c2932e418702b84d0cc07")]
    EmptyDeviceId,
    #[error("device ids use only letters, digits, '.', '_' and '-', not first '.': '{0}'")]
    BadDeviceId(String),
    #[error("device id is longer than {max} characters", max = DeviceId::MAX_LEN)]
    DeviceIdTooLong,
    /// Refused by a kind's own reader, in its words: `'a..b' is not a domain name, e.g.
    /// contoso.com`. Its text is shown as [`shown`] makes it safe.
    #[error("'{text}' is not {what}, e.g. {example}")]
    NotA {
        what: &'static str,
        text: String,
        example: &'static str,
    },
}

/// Reads text that should hold one IP (the input box, `ip IP`) with every convention
/// [`super::indicator`] knows; text holding several, or one refused, says so.
pub fn parse_ip(raw: &str) -> Result<IpAddr, InputError> {
    read_one(raw).map(|found| found.ip)
}

/// Like [`parse_ip`], with what was read past (a port, the IPv6 form of an IPv4).
pub fn read_one(raw: &str) -> Result<Found, InputError> {
    if super::indicator::refanged_is_blank(raw) {
        return Err(InputError::Empty);
    }
    let mut reading = super::indicator::read(raw);
    match (reading.found.len(), reading.skipped.len()) {
        (1, 0) => Ok(reading.found.remove(0)),
        (0, 1) => Err(InputError::Refused(reading.skipped[0].to_string())),
        (0, 0) => Err(InputError::NotAnIp(shown(raw))),
        _ => Err(InputError::Several(reading.summary())),
    }
}

/// An id that is safe to put in a path: a newtype over checked text, built only through its
/// parse function (serde too), written back as the plain string. One definition for every kind
/// of id a route takes: a kind's id is declared beside the kind as `crate::path_id!(..)`
/// (exported for that, so it names everything by its full path).
#[doc(hidden)]
#[macro_export]
macro_rules! path_id {
    ($(#[$meta:meta])* $name:ident, max = $max:expr, parse = $parse:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::defender::input::InputError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

path_id!(
    /// A syntactically valid alert id (`da637472900382838869_1364969609`).
    AlertId,
    max = 128,
    parse = parse_alert_id
);

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

path_id!(
    /// A syntactically valid device id: the 40-hex machine id, or the computer name the API
    /// also accepts (FACTS.md 8.2), so dots are allowed; never a leading dot (no `..` segment).
    /// A DNS name is at most 253 characters.
    DeviceId,
    max = 253,
    parse = parse_device_id
);

/// Validates a device id: letters, digits, `.`, `_` and `-`, not starting with `.`.
pub fn parse_device_id(raw: &str) -> Result<DeviceId, InputError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(InputError::EmptyDeviceId);
    }
    if s.len() > DeviceId::MAX_LEN {
        return Err(InputError::DeviceIdTooLong);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if s.starts_with('.') || !s.chars().all(allowed) {
        return Err(InputError::BadDeviceId(shown(s)));
    }
    Ok(DeviceId(s.to_owned()))
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
        assert!(matches!(parse_ip("999.1.1.1"), Err(InputError::Refused(_))));
        let e = parse_ip("10.0.0.1/24").unwrap_err().to_string();
        assert!(e.contains("is a network (/24)"), "{e}");
        assert_eq!(parse_ip("10.0.0.1:443").unwrap().to_string(), "10.0.0.1");
        let e = parse_ip("1.2.3.4 5.6.7.8").unwrap_err().to_string();
        assert_eq!(e, "2 IPs found: give one IP");
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

    #[test]
    fn device_ids_are_checked() {
        let hex = "1e5bc9d7e413ddd7902c2932e418702b84d0cc07";
        assert_eq!(parse_device_id(&format!(" {hex} ")).unwrap().as_str(), hex);
        assert!(parse_device_id("mymachine1.contoso.com").is_ok());
        assert_eq!(parse_device_id(" "), Err(InputError::EmptyDeviceId));
        for bad in ["..", "../x", "a/b", "a b", "a\u{202e}b", "x'y"] {
            assert!(
                matches!(parse_device_id(bad), Err(InputError::BadDeviceId(_))),
                "{bad}"
            );
        }
        assert_eq!(
            parse_device_id(&"a".repeat(254)),
            Err(InputError::DeviceIdTooLong)
        );
    }
}
