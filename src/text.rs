//! Numbers and times as the console, the commands and the reports write them for people: one
//! spelling everywhere, so a count or an age reads the same on screen, on stderr and in a ticket.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// "12 min ago", "3 h ago", "2 days ago": how old an answer is, as the console says it.
pub fn age(as_of: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - as_of).num_seconds().max(0);
    match secs {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        _ => match secs / 86400 {
            1 => "1 day ago".to_owned(),
            d => format!("{d} days ago"),
        },
    }
}

/// 63515 → `63,515`: counts as the console and reports write them.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A wait or a time spent, for people: `0s`, `42s`, `2m 05s`, `1h 02m` (rounded up to the
/// second, so a wait never reads shorter than it is).
pub fn duration(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}

/// A window's length as the rate-limit spec writes it (`fetch::limits::parse_span` reads it
/// back): `60s` → `1m`, `3600s` → `1h`, else seconds.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_like_a_person_would_say_them() {
        assert_eq!(duration(Duration::ZERO), "0s");
        assert_eq!(duration(Duration::from_millis(200)), "1s");
        assert_eq!(duration(Duration::from_secs(125)), "2m 05s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h 02m");
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        assert_eq!(span(Duration::from_secs(3600)), "1h");
        assert_eq!(span(Duration::from_secs(120)), "2m");
        assert_eq!(span(Duration::from_secs(90)), "90s");
    }
}
