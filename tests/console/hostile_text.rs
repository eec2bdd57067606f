//! Server text built to break the frame (marks with no base, emoji sequences, format, private-use,
//! unassigned and non-characters, line separators, wide and width-disputed characters) is drawn
//! by the real binary in tmux, at 80×24 and 120×40, while the list is scrolled and every alert
//! opened: after each step every row is exactly as wide as the terminal and every pane's borders
//! stand whole in their columns. The widths come from what tmux holds, read back with
//! capture-pane; the panes' places from the screen before any server text arrived.

use crate::support;

use std::collections::BTreeSet;

use mde_triage::defender::sanitize::one_line;
use proptest::prelude::*;
use ratatui::buffer::{Buffer, CellWidth};
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthChar;

use support::tmux::Tmux;

const IP: &str = "10.20.30.40";
const ALERTS: usize = 40;

/// Every class of character that has broken a terminal frame, one or two to a piece.
const HOSTILE: &[&str] = &[
    "\u{301}\u{20DD}mark first",
    "family 👨\u{200D}👩\u{200D}👧\u{200D}👦 and 👨\u{200D}💻",
    "tones 👍🏻👋🏿 ✌🏽 a🏾",
    "flags 🇫🇷🇩🇪 lone 🇦",
    "one\u{2028}two\u{2029}three",
    "private \u{E000}\u{F8FF}\u{F0000}",
    "nonchars \u{FFFF}\u{FDD0}\u{FFFE}\u{1FFFE}",
    "format \u{2061}\u{00AD}\u{0600}42\u{200E}\u{FEFF}\u{FFF9}",
    "vs ❤\u{FE0F} ☺\u{FE0E} ⌚\u{FE0E} ‘\u{FE01}",
    "wide 中文標題ＦＵＬＬ　",
    "keycap 1\u{FE0F}\u{20E3}#\u{FE0F}\u{20E3}",
    "jamo \u{1100}\u{1161}\u{11A8} \u{1161} filler\u{3164}\u{115F}\u{FFA0}",
    "unassigned \u{0378}\u{05FF}\u{0E5C}",
    "tags 🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
    "bengali কা tamil கா khmer ក\u{17D2}ក",
    "prepend \u{0D4E}x caret\u{A8FA}",
    "\u{1b}[31mred\u{1b}[0m\u{1b}]0;pwn\u{7} esc",
    "bidi \u{202E}gnp.exe",
    "zalgo x\u{300}\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}",
    "\u{FE0F}\u{200D}\u{1160}joiner first",
    "disputed ☰☷ ㉈ 𝌆 ៘",
    "kana ｶﾞｷﾟ",
];

/// Text that starts a title (the list shows only its first columns).
const LEADS: &[&str] = &["\u{301}\u{302}", "\u{FE0F}", "\u{1161}", "\u{20E3}", ""];

fn piece(i: usize) -> &'static str {
    HOSTILE[i % HOSTILE.len()]
}

fn alert_id(i: usize) -> String {
    format!("hostile-{i:02}")
}

/// Forty alerts, newest first in `i` order, each field carrying other pieces.
fn alerts() -> String {
    let severities = ["High", "Medium", "Low", "Informational"];
    let value: Vec<_> = (0..ALERTS)
        .map(|i| {
            let lead = LEADS[i % LEADS.len()];
            serde_json::json!({
                "id": alert_id(i),
                "title": format!("{lead}#{i:02} {}", piece(i)),
                "description": format!(
                    "{}\n\u{301}{}\n\t\u{302}{}\n{}\n長い説明文が折り返されて次の行に続きます。{}",
                    piece(i + 1), piece(i + 2), piece(i + 3), piece(i + 4), piece(i + 5)
                ),
                "severity": severities[i % severities.len()],
                "status": "New",
                "category": format!("{}Malware", piece(i + 6)),
                "computerDnsName": format!("{}host-{i}", piece(i + 7)),
                "threatFamilyName": piece(i + 8),
                "detectionSource": piece(i + 9),
                "mitreTechniques": ["T1110", piece(i + 10)],
                "relatedUser": {"userName": piece(i + 11), "domainName": piece(i + 12)},
                "alertCreationTime": format!("2026-11-20T{:02}:{:02}:00Z", 23 - i / 60, 59 - i % 60),
            })
        })
        .collect();
    serde_json::json!({ "value": value }).to_string()
}

fn routes() -> Vec<support::replay::Canned> {
    let stats = serde_json::json!({
        "ipAddress": IP, "orgPrevalence": "3",
        "orgFirstSeen": "2026-10-01T00:00:00Z", "orgLastSeen": "2026-11-20T00:00:00Z",
    });
    let ip_path = |end: &str| -> &'static str { format!("/api/ips/{IP}/{end}").leak() };
    let mut routes = vec![
        (ip_path("stats"), 200, None, stats.to_string()),
        (ip_path("alerts"), 200, None, alerts()),
    ];
    for i in 0..ALERTS {
        let path: &'static str = format!("/api/alerts/{}/ips", alert_id(i)).leak();
        routes.push((path, 200, None, r#"{"value": []}"#.to_owned()));
    }
    routes
}

/// One row as tmux's cells: a zero-width character belongs to the cell before it, a wide one
/// takes two (the second empty, as capture-pane leaves it).
fn cells(row: &str) -> Vec<String> {
    let mut cells: Vec<String> = Vec::new();
    for c in row.chars() {
        match c.width().unwrap_or(1) {
            0 => match cells.iter_mut().rev().find(|cell| !cell.is_empty()) {
                Some(cell) => cell.push(c),
                None => cells.push(c.to_string()),
            },
            w => {
                cells.push(c.to_string());
                cells.extend((1..w).map(|_| String::new()));
            }
        }
    }
    cells
}

/// A bordered pane: left and right border columns, top and bottom border rows.
type Pane = (usize, usize, usize, usize);

/// No row is wider than `width`; every pane found has whole corners and vertical borders.
/// capture-pane leaves out the cells of a row never written (blank since the screen was
/// cleared), so a shorter row is padded; a row that lost columns shows in its borders instead.
fn frame(screen: &str, width: usize, height: usize) -> Result<BTreeSet<Pane>, String> {
    let mut rows: Vec<Vec<String>> = screen.lines().map(cells).collect();
    if rows.len() != height {
        return Err(format!("{} rows, not {height}", rows.len()));
    }
    for (y, row) in rows.iter_mut().enumerate() {
        if row.len() > width {
            return Err(format!("row {y} is {} columns, not {width}", row.len()));
        }
        row.resize(width, " ".to_owned());
    }
    let at = |x: usize, y: usize| rows[y][x].as_str();
    let mut panes = BTreeSet::new();
    for top in 0..height {
        for left in 0..width {
            if at(left, top) != "┌" {
                continue;
            }
            let right = (left + 1..width)
                .find(|&x| at(x, top) == "┐")
                .ok_or(format!("row {top}: ┌ at column {left} has no ┐"))?;
            let bottom = (top + 1..height)
                .find(|&y| at(left, y) != "│")
                .filter(|&y| at(left, y) == "└")
                .ok_or(format!("the pane at {left},{top}: its left border breaks"))?;
            for y in top + 1..bottom {
                if at(right, y) != "│" {
                    return Err(format!(
                        "the pane at {left},{top}: row {y} has {:?} where its right border was",
                        at(right, y)
                    ));
                }
            }
            if at(right, bottom) != "┘" {
                return Err(format!(
                    "the pane at {left},{top}: no ┘ at {right},{bottom}"
                ));
            }
            panes.insert((left, right, top, bottom));
        }
    }
    Ok(panes)
}

struct Run {
    tmux: Tmux,
    width: usize,
    height: usize,
    panes: BTreeSet<Pane>,
    steps: usize,
}

impl Run {
    /// Waits for `what` on a settled screen, then checks the frame against the panes' places.
    fn check(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        let screen = self.tmux.wait_settled(what, pred);
        match frame(&screen, self.width, self.height) {
            Ok(panes) if panes == self.panes => self.steps += 1,
            Ok(panes) => panic!(
                "{}×{}, after {what}: panes {panes:?}, not {:?}:\n{screen}",
                self.width, self.height, self.panes
            ),
            Err(e) => panic!(
                "{}×{}, after {what}: {e}:\n{screen}",
                self.width, self.height
            ),
        }
    }
}

/// The row the list's highlight symbol is on.
fn selected_row(screen: &str) -> Option<&str> {
    screen.lines().find(|l| l.contains('▶'))
}

fn scroll_through_hostile_alerts(width: u16, height: u16) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = runtime.block_on(support::replay::replay(routes()));
    let env: String = support::isolated_env()
        .into_iter()
        .filter(|(k, _)| *k != "MDE_TRIAGE_DATA_DIR")
        .map(|(k, v)| format!("{k}='{}' ", v.display()))
        .collect();
    let data = tempfile::tempdir().unwrap();
    let command = format!(
        "env {env}MDE_API_URL='{url}' MDE_TOKEN=anything {} --data-dir '{}' tui",
        env!("CARGO_BIN_EXE_mde-triage"),
        data.path().display()
    );
    let Some(tmux) = Tmux::start(&command, width, height) else {
        return;
    };
    let (width, height) = (usize::from(width), usize::from(height));
    let before = tmux.wait_settled("the console", |s| s.contains("Type an IP address"));
    let panes = frame(&before, width, height).expect("the frame before any server text");
    assert!(panes.len() >= 4, "four panes at least:\n{before}");
    let mut run = Run {
        tmux,
        width,
        height,
        panes,
        steps: 0,
    };
    run.tmux.keys(&[IP, "Enter"]);
    run.check("the lookup", |s| {
        s.contains("40 alerts") && s.contains("#00")
    });
    for i in 0..ALERTS {
        if i > 0 {
            run.tmux.keys(&[if i % 2 == 0 { "j" } else { "Down" }]);
            let tag = format!("#{i:02}");
            run.check(&format!("row {i}"), |s| {
                selected_row(s).is_some_and(|r| r.contains(&tag))
            });
        }
        // Open it: the details pane shows every field; focus goes to the related IPs.
        run.tmux.keys(&["Enter"]);
        let id = alert_id(i);
        // The details pane's second line; the title bar names the alert too.
        let status_line = format!("New · {id}");
        run.check(&format!("alert {id} opened"), |s| s.contains(&status_line));
        if i % 3 == 0 {
            // Through the description, a page at a time, then back to the list.
            run.tmux.keys(&["BTab", "PageDown"]);
            run.check(&format!("alert {id} scrolled"), |s| {
                !s.contains(&status_line)
            });
            run.tmux.keys(&["PageUp", "BTab"]);
            run.check(&format!("alert {id} back at the top"), |s| {
                s.contains(&status_line)
            });
        } else {
            run.tmux.keys(&["BTab", "BTab"]);
        }
    }
    // And a page at a time from the top, then the bottom.
    run.tmux.keys(&["Home"]);
    run.check("the first row", |s| {
        selected_row(s).is_some_and(|r| r.contains("#00"))
    });
    for page in 1..ALERTS / 10 {
        run.tmux.keys(&["PageDown"]);
        let tag = format!("#{:02}", page * 10);
        run.check(&format!("page {page}"), |s| {
            selected_row(s).is_some_and(|r| r.contains(&tag))
        });
    }
    run.tmux.keys(&["End"]);
    let last = format!("#{:02}", ALERTS - 1);
    run.check("the last row", |s| {
        selected_row(s).is_some_and(|r| r.contains(&last))
    });
    assert!(run.steps > ALERTS * 2, "{} checked screens", run.steps);
    run.tmux.keys(&["q"]);
    run.tmux.wait_for("exit", |s| s.contains("EXITED=0"));
}

#[test]
fn hostile_text_keeps_the_frame_at_80x24() {
    scroll_through_hostile_alerts(80, 24);
}

#[test]
fn hostile_text_keeps_the_frame_at_120x40() {
    scroll_through_hostile_alerts(120, 40);
}

proptest! {
    /// What ratatui reserves for cleaned text, cluster by cluster (`Buffer::set_stringn`, and
    /// the width the screen diff skips by), is what a terminal advances, character by character.
    #[test]
    fn ratatui_reserves_the_columns_a_terminal_draws(
        text in prop::collection::vec(
            prop_oneof![
                1 => any::<char>(),
                3 => prop::sample::select(HOSTILE.concat().chars().collect::<Vec<_>>()),
            ],
            0..40,
        )
    ) {
        let s = one_line(&text.into_iter().collect::<String>());
        let per_char: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
        let mut buf = Buffer::empty(Rect::new(0, 0, 200, 1));
        let (x, _) = buf.set_stringn(0, 0, &s, 200, Style::default());
        prop_assert_eq!(usize::from(x), per_char, "{:?}", s);
        let cells: usize = s.graphemes(true).map(|g| usize::from(g.cell_width())).sum();
        prop_assert_eq!(cells, per_char, "{:?}", s);
    }
}
