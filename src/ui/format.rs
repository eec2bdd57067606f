//! Small formatting helpers shared by the panes.

use chrono::{DateTime, Utc};
use ratatui::buffer::CellWidth;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

use crate::app::{Action, Keymap, Remote, State, Theme};
use crate::defender::{ApiError, ErrorKind, FetchKey, NotFound};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn spinner(tick: usize) -> &'static str {
    SPINNER[tick % SPINNER.len()]
}

/// 63515 → "63,515".
pub fn count(n: u64) -> String {
    crate::text::thousands(n)
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

/// A creation time's date alone, for narrow tables.
pub fn short_date(t: Option<&DateTime<Utc>>) -> String {
    t.map_or_else(|| "—".to_owned(), |t| t.format("%Y-%m-%d").to_string())
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
        Some(now) => format!("as of {}", crate::text::age(*as_of, now)),
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

/// Cuts `s` to `max` columns with an ellipsis, measured as ratatui lays cells out (a wide
/// character takes two; a cluster is never split).
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    let mut t = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = usize::from(g.cell_width());
        if used + w + 1 > max {
            break;
        }
        t.push_str(g);
        used += w;
    }
    if max > 0 {
        t.push('…');
    }
    t
}

/// Columns `s` takes on screen, cluster by cluster as ratatui draws it.
pub fn width(s: &str) -> usize {
    s.graphemes(true)
        .filter(|g| !g.contains(char::is_control))
        .map(|g| usize::from(g.cell_width()))
        .sum()
}

/// Word-wraps `lines` to `max` columns, breaking inside a word only when it is longer than a
/// line. ratatui's own wrap (0.30) lets a wide character that arrives with one column left
/// stick out over the pane's border, so panes showing server text wrap here instead.
pub fn wrap(lines: Vec<Line<'static>>, max: u16) -> Vec<Line<'static>> {
    let max = usize::from(max.max(1));
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        // As ratatui does, a character wider than the pane is not drawn at all.
        let cells: Vec<(String, Style)> = line
            .spans
            .iter()
            .flat_map(|span| {
                span.content
                    .graphemes(true)
                    .filter(|g| !g.contains(char::is_control))
                    .filter(|g| usize::from(g.cell_width()) <= max)
                    .map(|g| (g.to_owned(), span.style))
            })
            .collect();
        let rows = wrap_cells(&cells, max);
        out.extend(rows.into_iter().map(|row| {
            let mut l = Line::from(spans_of(row)).style(line.style);
            l.alignment = line.alignment;
            l
        }));
    }
    out
}

/// The rows of one line: each a run of `cells`, at most `max` columns.
fn wrap_cells(cells: &[(String, Style)], max: usize) -> Vec<&[(String, Style)]> {
    let is_space = |g: &str| g.chars().all(char::is_whitespace);
    let mut rows = Vec::new();
    let (mut start, mut used) = (0, 0);
    // Where the row may break: just after its last space.
    let mut after_space = None;
    for (i, (g, _)) in cells.iter().enumerate() {
        let w = usize::from(g.cell_width());
        if used + w > max {
            if is_space(g) {
                // The space the row breaks at goes with the break.
                rows.push(&cells[start..i]);
                (start, used, after_space) = (i + 1, 0, None);
                continue;
            }
            let end = after_space.filter(|&b| b > start).unwrap_or(i);
            rows.push(&cells[start..end]);
            start = end;
            used = cells[start..i]
                .iter()
                .map(|(g, _)| usize::from(g.cell_width()))
                .sum();
            after_space = None;
            if used + w > max {
                rows.push(&cells[start..i]);
                (start, used) = (i, 0);
            }
        }
        used += w;
        if is_space(g) {
            after_space = Some(i + 1);
        }
    }
    if start < cells.len() || rows.is_empty() {
        rows.push(&cells[start..]);
    }
    rows
}

/// Consecutive cells of one style as one span.
fn spans_of(row: &[(String, Style)]) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (g, style) in row {
        match spans.last_mut() {
            Some(last) if last.style == *style => last.content.to_mut().push_str(g),
            _ => spans.push(Span::styled(g.clone(), *style)),
        }
    }
    spans
}

/// What a pane says when it has no value to show: idle, loading, or failed.
pub fn pending<T>(state: &State, remote: &Remote<T>, key: &FetchKey) -> Option<Vec<Line<'static>>> {
    let (tick, theme) = (state.spinner, &state.theme);
    // Waiting out a 429 is not loading: say the pause and its countdown (DESIGN §7).
    if let (Remote::Loading { .. }, Some(left)) = (remote, state.paused_for(key)) {
        return Some(vec![
            Line::styled(
                format!("⏸ paused {} (429)", crate::text::duration(left)),
                theme.warn(),
            ),
            Line::styled(format!("{key}: asked when the pause ends"), theme.muted()),
        ]);
    }
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
        Remote::Failed { error } => Some(failure(error, key, theme, &state.keymap)),
    }
}

/// An error as the analyst should read it, with what to do about it (retrying with the
/// refresh key in force).
pub fn failure(
    error: &ApiError,
    key: &FetchKey,
    theme: &Theme,
    keymap: &Keymap,
) -> Vec<Line<'static>> {
    let endpoint = key.endpoint();
    let retry = format!("{} to retry", keymap.hint(Action::Refresh));
    let hint = match error.kind {
        ErrorKind::Unauthorized => format!("check the token (MDE_TOKEN) and the tenant; {retry}"),
        ErrorKind::SignIn => {
            format!("check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret; {retry}")
        }
        ErrorKind::Forbidden => match endpoint.newest_docs_permission() {
            None => format!("the app needs the {} permission", endpoint.permission()),
            Some(newest) => format!(
                "the app needs the {} permission (the newest docs list only {newest} for \
                 this call: grant it if Read is refused)",
                endpoint.permission()
            ),
        },
        ErrorKind::NotFound => match endpoint.not_found() {
            NotFound::Missing(meaning) => meaning.to_owned(),
            // Such a 404 is read as an answer and never gets here.
            NotFound::Answer(_) => "not found".to_owned(),
        },
        ErrorKind::Throttled => format!("over the API quota; {retry} after the countdown"),
        ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Network => retry,
        ErrorKind::InvalidInput => "the API refused this value".to_owned(),
        ErrorKind::Decode | ErrorKind::Protocol => format!("the answer was unusable; {retry}"),
        ErrorKind::Offline => {
            "offline mode: only answers already in the cache are shown".to_owned()
        }
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
    use crate::defender::LookBack;

    #[test]
    fn short_date_is_the_day_alone() {
        let t: DateTime<Utc> = "2018-11-25T16:19:00Z".parse().unwrap();
        assert_eq!(short_date(Some(&t)), "2018-11-25");
        assert_eq!(short_date(None), "—");
    }

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
        assert_eq!(truncate("中文標題", 5), "中文…");
        assert_eq!(truncate("中文標題", 8), "中文標題");
        assert_eq!(truncate("e\u{301}e\u{301}e", 2), "e\u{301}…");
    }

    #[test]
    fn a_failure_hint_says_what_the_key_s_endpoint_needs_and_what_its_404_means() {
        let ip = "192.0.2.1".parse().unwrap();
        let alert = crate::defender::parse_alert_id("da1_2").unwrap();
        let hint = |kind, key: &FetchKey| {
            failure(
                &ApiError::new(kind, "x"),
                key,
                &Theme::default(),
                &Keymap::default(),
            )[1]
            .to_string()
        };
        let keys = [
            FetchKey::IpStats(ip, LookBack::MONTH),
            FetchKey::IpAlerts(ip),
            FetchKey::AlertIps(alert.clone()),
        ];
        for key in &keys {
            let needed = key.endpoint().permission();
            assert_eq!(
                hint(ErrorKind::Forbidden, key),
                format!("the app needs the {needed} permission")
            );
        }
        assert_eq!(
            hint(ErrorKind::Forbidden, &FetchKey::IpAlerts(ip)),
            "the app needs the Alert.Read.All permission"
        );
        assert_eq!(
            hint(ErrorKind::NotFound, &FetchKey::AlertIps(alert)),
            "unknown alert, or outside the retention period"
        );
        assert_eq!(
            hint(ErrorKind::NotFound, &FetchKey::IpAlerts(ip)),
            "the API does not know this IP"
        );
    }

    fn rows(lines: Vec<Line<'static>>, max: u16) -> Vec<String> {
        wrap(lines, max).iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_never_sticks_out() {
        assert_eq!(rows(vec![Line::raw("ab cd ef")], 5), ["ab cd", "ef"]);
        assert_eq!(rows(vec![Line::raw("abcdefgh")], 3), ["abc", "def", "gh"]);
        // A wide character with one column left goes to the next row.
        assert_eq!(
            rows(vec![Line::raw(format!("{}中文", "a".repeat(9)))], 10),
            ["aaaaaaaaa", "中文"]
        );
        // A run of CJK is one word, as in ratatui's wrap.
        assert_eq!(
            rows(vec![Line::raw("x 中中中中中")], 9),
            ["x ", "中中中中", "中"]
        );
        assert_eq!(rows(vec![Line::raw("abcde fg")], 5), ["abcde", "fg"]);
        assert_eq!(rows(vec![Line::raw(""), Line::raw("a")], 4), ["", "a"]);
    }

    #[test]
    fn wrapping_keeps_styles_and_text() {
        let label = Style::new().bold();
        let line = Line::from(vec![
            Span::styled("Device      ", label),
            Span::raw("中文標題ＦＵＬＬ"),
        ]);
        let wrapped = wrap(vec![line], 16);
        assert_eq!(wrapped.len(), 2, "{wrapped:?}");
        assert_eq!(wrapped[0].spans[0].style, label);
        let text: String = wrapped.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, "Device      中文標題ＦＵＬＬ");
    }

    proptest::proptest! {
        #[test]
        fn wrapped_rows_fit_and_lose_only_the_spaces_they_break_at(
            words in proptest::collection::vec("[a-z]{0,7}|[中文標題]{1,5}|[ ]{1,2}|👍", 0..20),
            max in 2u16..20,
        ) {
            let text: String = words.concat();
            let rows = rows(vec![Line::raw(text.clone())], max);
            for row in &rows {
                proptest::prop_assert!(width(row) <= usize::from(max), "{row:?} in {max}");
            }
            let kept: String = rows.concat().chars().filter(|c| *c != ' ').collect();
            let all: String = text.chars().filter(|c| *c != ' ').collect();
            proptest::prop_assert_eq!(kept, all);
        }
    }
}
