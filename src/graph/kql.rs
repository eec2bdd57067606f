//! KQL literals for the values we splice into hunting queries. Every value is typed before it
//! gets here (an `IpAddr`, a validated `DeviceId`, a `UtcSecond`), and still goes through one
//! escaper: a query is code, and one forgotten quote would let a value rewrite it.

use std::net::IpAddr;

use crate::defender::UtcSecond;

/// `s` as a double-quoted KQL string literal.
///
/// Kusto documents backslash escapes for the enclosing quote, tab (`\t`), newline (`\n`) and
/// the backslash itself (`\\`); `\r` is escaped the same way. Other control characters have no
/// documented escape, so they become U+FFFD: such a value can match nothing we look for, and a
/// raw control character inside a query is a parse surprise we do not need.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The spellings an IP may have in a hunting table's text column, as a KQL list for `in (…)`.
///
/// DeviceNetworkEvents types some addresses `FourToSixMapping` (FACTS §5, `RemoteIPType`), so an
/// IPv4 address may be stored as `::ffff:a.b.c.d`; both spellings are asked for. IPv6 is asked
/// in Rust's canonical form (compressed, lowercase); whether the tables store that form is
/// UNVERIFIED (FACTS names no example).
pub fn ip_spellings(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!(
            "{}, {}",
            string(&v4.to_string()),
            string(&format!("::ffff:{v4}"))
        ),
        IpAddr::V6(v6) => string(&v6.to_string()),
    }
}

/// `datetime(2026-11-01T09:45:00Z)`: whole seconds, UTC, the form KQL reads unambiguously.
pub fn datetime(at: UtcSecond) -> String {
    format!("datetime({at})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_backslashes_and_line_breaks_are_escaped() {
        assert_eq!(string("plain"), r#""plain""#);
        assert_eq!(string(r#"a"b"#), r#""a\"b""#);
        assert_eq!(string(r"a\b"), r#""a\\b""#);
        assert_eq!(string("a\nb\r\tc"), r#""a\nb\r\tc""#);
        // A backslash before a quote cannot un-escape it.
        assert_eq!(string(r#"\""#), r#""\\\"""#);
        assert_eq!(string("'single'"), r#""'single'""#);
    }

    #[test]
    fn an_injection_attempt_stays_one_literal() {
        let hostile = "x\" or 1==1 | take 100000 //";
        let lit = string(hostile);
        assert_eq!(lit, r#""x\" or 1==1 | take 100000 //""#);
        // Only the first and last quotes are unescaped.
        let bare_quotes = lit
            .char_indices()
            .filter(|&(i, c)| c == '"' && (i == 0 || !escaped_at(&lit, i)))
            .count();
        assert_eq!(bare_quotes, 2);
    }

    /// Whether the character at byte `i` follows an odd run of backslashes.
    fn escaped_at(s: &str, i: usize) -> bool {
        s[..i].chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
    }

    #[test]
    fn other_control_characters_are_replaced_not_spliced() {
        assert_eq!(
            string("a\u{0}b\u{1b}[2J\u{7f}"),
            "\"a\u{FFFD}b\u{FFFD}[2J\u{FFFD}\""
        );
    }

    #[test]
    fn ips_and_times_have_one_spelling() {
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(ip_spellings(v4), r#""203.0.113.7", "::ffff:203.0.113.7""#);
        let v6: IpAddr = "2001:DB8:0:0::1".parse().unwrap();
        assert_eq!(ip_spellings(v6), r#""2001:db8::1""#);
        let at = UtcSecond::new("2026-11-01T10:00:00.9Z".parse().unwrap());
        assert_eq!(datetime(at), "datetime(2026-11-01T10:00:00Z)");
    }
}
