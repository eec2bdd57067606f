//! Small formatting helpers shared by the panes.

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};

use crate::app::{Remote, Theme};
use crate::defender::{ApiError, ErrorKind, FetchKey};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn spinner(tick: usize) -> &'static str {
    SPINNER[tick % SPINNER.len()]
}

/// 63515 → "63,515".
pub fn count(n: u64) -> String {
    crate::report::thousands(n)
}

pub fn time(t: Option<&DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
    )
}

/// Compact, for table cells: "2026-11-20 09:14".
pub fn short_time(t: Option<&DateTime<Utc>>) -> String {
    t.map_or_else(
        || "—".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// "as of 12 min ago · cached": an answer's age, once the clock is known; where it came from
/// when that was the cache; and that a fresher one is on its way.
pub fn as_of<T>(remote: &Remote<T>, now: Option<DateTime<Utc>>) -> Option<String> {
    let Remote::Ready {
        as_of,
        cached,
        refreshing,
        ..
    } = remote
    else {
        return None;
    };
    let mut s = match now {
        Some(now) => format!("as of {}", crate::report::age(*as_of, now)),
        None => format!("as of {}", as_of.format("%H:%M:%S UTC")),
    };
    if *cached {
        s.push_str(" · cached");
    }
    if refreshing.is_some() {
        s.push_str(" · refreshing");
    }
    Some(s)
}

/// `[malicious, needs review]`, or nothing.
/// " ⚠ 1 alert could not be read · list cut at 50 pages ", for a pane's bottom border of
/// `room` columns: in full when it fits, else in a few words (" ⚠ 1 unreadable · cut at 50
/// pages "). What a list lacks is never the part that gives way.
pub fn caveat_line(caveats: &crate::app::Caveats, room: usize, theme: &Theme) -> Line<'static> {
    let full = format!(" ⚠ {} ", caveats.full.join(" · "));
    let text = if full.chars().count() <= room {
        full
    } else {
        format!(" ⚠ {} ", caveats.short.join(" · "))
    };
    Line::styled(text, theme.warn())
}

pub fn tag_list(tags: &[String]) -> String {
    if tags.is_empty() {
        String::new()
    } else {
        format!("[{}]", tags.join(", "))
    }
}

/// `636688558380765161_2136280442` → `636688…0442` when space is short.
pub fn short_id(id: &str, max: usize) -> String {
    let n = id.chars().count();
    if n <= max || max < 6 {
        return id.to_owned();
    }
    let head: String = id.chars().take(max - 5).collect();
    let tail: String = id.chars().skip(n - 4).collect();
    format!("{head}…{tail}")
}

/// Cuts `s` to `max` columns with an ellipsis (char-based; the panes hold narrow text).
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else if max == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// What a pane says when it has no value to show: idle, loading, or failed.
pub fn pending<T>(
    remote: &Remote<T>,
    key: &FetchKey,
    tick: usize,
    theme: &Theme,
) -> Option<Vec<Line<'static>>> {
    match remote {
        Remote::Ready { .. } => None,
        Remote::Idle => Some(vec![Line::styled("not requested", theme.muted())]),
        Remote::Loading { retry: None, .. } => Some(vec![Line::from(format!(
            "{} loading {key}…",
            spinner(tick)
        ))]),
        Remote::Loading {
            retry: Some((n, max)),
            ..
        } => Some(vec![
            Line::from(format!("{} loading {key}…", spinner(tick))),
            Line::styled(format!("server trouble, retrying {n}/{max}"), theme.warn()),
        ]),
        Remote::Failed { error } => Some(failure(error, key, theme)),
    }
}

/// An error as the analyst should read it, with what to do about it.
pub fn failure(error: &ApiError, key: &FetchKey, theme: &Theme) -> Vec<Line<'static>> {
    let hint = match error.kind {
        ErrorKind::Unauthorized => "check the token (MDE_TOKEN) and the tenant; r to retry",
        ErrorKind::SignIn => "check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret; r to retry",
        ErrorKind::Forbidden => match key {
            FetchKey::IpAlerts(_) => "the app needs the Alert.Read.All permission",
            _ => "the app needs the Ip.Read.All permission",
        },
        ErrorKind::NotFound => "unknown alert, or outside the retention period",
        ErrorKind::Throttled => "over the API quota; r to retry after the countdown",
        ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Network => "r to retry",
        ErrorKind::InvalidInput => "the API refused this value",
        ErrorKind::Decode | ErrorKind::Protocol => "the answer was unusable; r to retry",
        ErrorKind::Offline => "offline mode: only answers already in the cache are shown",
    };
    vec![
        Line::from(vec![
            Span::styled("✗ ", theme.error()),
            Span::styled(error.sentence(), theme.error()),
        ]),
        Line::styled(hint, theme.muted()),
    ]
}

/// `public · rare · shared ×3` (or `pub rare ×3` when `short`), each styled by what it means:
/// a public, rare or shared address is worth a look; the others are muted.
pub fn badge_spans(
    state: &crate::app::State,
    ip: std::net::IpAddr,
    short: bool,
) -> Vec<Span<'static>> {
    let theme = &state.theme;
    use crate::app::Badge;
    use crate::insight::IpClass;
    let mut spans = Vec::new();
    for (i, b) in state.badges(ip).iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(if short { " " } else { " · " }, theme.muted()));
        }
        let style = match b {
            Badge::Class(IpClass::Public) => theme.label(),
            Badge::Class(_) => theme.muted(),
            Badge::Rare(_) | Badge::Shared(_) => theme.warn(),
        };
        spans.push(Span::styled(
            if short { b.short() } else { b.text() },
            style,
        ));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(63515), "63,515");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(
            short_id("636688558380765161_2136280442", 12),
            "6366885…0442"
        );
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
