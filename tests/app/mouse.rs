//! The mouse: a click lands on the row drawn under it, in every layout; a click selects, a
//! second click on the selected row opens or pivots; the wheel moves through the list under
//! the pointer; popups close on a click.

use crate::support;

use crossterm::event::KeyCode;
use mde_triage::app::{Cmd, Focus, Hit, Msg, Overlay, State, update};
use mde_triage::defender::{FetchKey, FetchValue};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use support::*;

/// The doc IP looked up with `n` alerts titled `Alert 0` (newest) … , and one opened so its
/// related IPs are listed.
fn looked_up(n: usize) -> State {
    looked_up_with(n, &[])
}

/// The same, each alert's related IPs being `ips` (the tenant's when empty).
fn looked_up_with(n: usize, ips: &[&str]) -> State {
    let mut s = State::new(Some("SIMULATED TENANT".into()), "127.0.0.1:1");
    let cmds = submitted(&mut s, DOC_IP);
    settle(&mut s, cmds, &|k| match k {
        FetchKey::IpAlerts(_) => {
            let base = doc_alerts().pop().unwrap();
            FetchValue::Alerts(
                (0..n)
                    .map(|i| {
                        let mut a = base.clone();
                        a.id = format!("da{i}_1");
                        a.title = format!("Alert {i}");
                        a.alert_creation_time = Some(at() - chrono::Duration::minutes(i as i64));
                        a
                    })
                    .collect(),
            )
        }
        FetchKey::AlertIps(_) if !ips.is_empty() => FetchValue::Ips(related(ips).into()),
        other => tenant(other),
    });
    s
}

/// Where `needle` is drawn: (column, row) of its first character.
fn find(screen: &str, needle: &str) -> (u16, u16) {
    for (y, line) in screen.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{needle:?} not on screen:\n{screen}");
}

fn hit_at(s: &State, w: u16, h: u16, needle: &str) -> Option<Hit> {
    let screen = render(s, w, h);
    let (x, y) = find(&screen, needle);
    mde_triage::ui::hit(s, Rect::new(0, 0, w, h), x, y)
}

fn click(s: &mut State, hit: Option<Hit>) -> Vec<Cmd> {
    update(s, Msg::Click(hit.expect("something is under the pointer")))
}

#[test]
fn a_click_lands_on_the_row_drawn_under_it_in_every_layout() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut s = looked_up(80);
        // Far down the list, so the table is scrolled: the hit must scroll the same way.
        for _ in 0..70 {
            update(&mut s, key(KeyCode::Down));
        }
        let screen = render(&s, w, h);
        assert!(!screen.contains("Alert 0 "), "{w}x{h} scrolled:\n{screen}");
        for row in [70, 69, 65] {
            let hit = hit_at(&s, w, h, &format!("Alert {row}"));
            assert_eq!(
                hit,
                Some(Hit {
                    pane: Focus::Alerts,
                    row: Some(row)
                }),
                "{w}x{h}"
            );
        }
        let header = hit_at(&s, w, h, "Sev ");
        assert_eq!(header.map(|h| (h.pane, h.row)), Some((Focus::Alerts, None)));

        // Open the selected alert: the related IPs are listed in their own pane.
        let cmds = update(&mut s, key(KeyCode::Enter));
        settle(&mut s, cmds, &tenant);
        let hit = hit_at(&s, w, h, "23.203.232.228");
        assert_eq!(
            hit,
            Some(Hit {
                pane: Focus::Ips,
                row: Some(1)
            }),
            "{w}x{h}"
        );
        let details = hit_at(&s, w, h, "Category");
        assert_eq!(details.map(|h| h.pane), Some(Focus::Details), "{w}x{h}");
    }
}

/// Each row drawn in `pane` as `prefix` and then its index: (column, line, index).
fn drawn(buffer: &Buffer, pane: Rect, prefix: &str) -> Vec<(u16, u16, usize)> {
    let prefix: Vec<char> = prefix.chars().collect();
    let mut rows = Vec::new();
    for y in pane.top()..pane.bottom() {
        let line: Vec<char> = (pane.left()..pane.right())
            .map(|x| buffer[(x, y)].symbol().chars().next().unwrap_or(' '))
            .collect();
        let Some(start) = line.windows(prefix.len()).position(|w| w == prefix) else {
            continue;
        };
        let digits: String = line[start + prefix.len()..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        rows.push((pane.x + start as u16, y, digits.parse().unwrap()));
    }
    rows
}

/// A click on a line where `pane` drew a row hits that row; on any other line of the pane, no
/// row. Drawing and hit-testing read one geometry per list, and this fails if they drift.
fn clicks_land_on_the_rows_drawn(s: &State, w: u16, h: u16, pane: Focus, prefix: &str) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| mde_triage::ui::draw(s, f)).unwrap();
    let area = Rect::new(0, 0, w, h);
    let panes = mde_triage::ui::layout::panes(area).unwrap();
    let rect = if pane == Focus::Alerts {
        panes.alerts
    } else {
        panes.ips
    };
    let rows = drawn(terminal.backend().buffer(), rect, prefix);
    assert!(rows.len() >= 2, "{w}x{h} {pane:?}: {rows:?}");
    for y in rect.top()..rect.bottom() {
        let row = rows.iter().find(|r| r.1 == y);
        let columns = match row {
            Some(&(x, ..)) => vec![x, rect.x + 1],
            None => vec![rect.x + 2],
        };
        for x in columns {
            let hit = mde_triage::ui::hit(s, area, x, y);
            let want = Hit {
                pane,
                row: row.map(|r| r.2),
            };
            assert_eq!(hit, Some(want), "{w}x{h} {pane:?} at ({x}, {y}): {rows:?}");
        }
    }
}

#[test]
fn every_row_drawn_is_the_row_hit_at_every_size_and_scroll() {
    let ips: Vec<String> = (0..30).map(|i| format!("10.9.0.{i}")).collect();
    let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
    for (w, h) in [(80, 24), (100, 29), (120, 40), (160, 30), (200, 60)] {
        for down in [0, 3, 17, 79] {
            let mut s = looked_up_with(80, &ips);
            for _ in 0..down {
                update(&mut s, key(KeyCode::Down));
            }
            clicks_land_on_the_rows_drawn(&s, w, h, Focus::Alerts, "Alert ");
            let cmds = update(&mut s, key(KeyCode::Enter));
            settle(&mut s, cmds, &|k| match k {
                FetchKey::AlertIps(_) => FetchValue::Ips(related(&ips).into()),
                other => tenant(other),
            });
            assert_eq!(s.focus, Focus::Ips);
            for _ in 0..down.min(29) {
                update(&mut s, key(KeyCode::Down));
            }
            clicks_land_on_the_rows_drawn(&s, w, h, Focus::Ips, "10.9.0.");
        }
    }
}

#[test]
fn nothing_is_hit_outside_the_panes_or_on_a_tiny_screen() {
    let s = looked_up(3);
    let area = Rect::new(0, 0, 80, 24);
    // The title bar and the status bar are not panes.
    assert_eq!(mde_triage::ui::hit(&s, area, 5, 0), None);
    assert_eq!(mde_triage::ui::hit(&s, area, 5, 23), None);
    // Below the last alert: the pane, but no row.
    let (x, y) = find(&render(&s, 80, 24), "Alert 2");
    let below = mde_triage::ui::hit(&s, area, x, y + 1);
    assert_eq!(
        below,
        Some(Hit {
            pane: Focus::Alerts,
            row: None
        })
    );
    assert_eq!(mde_triage::ui::hit(&s, Rect::new(0, 0, 40, 10), 5, 5), None);
}

#[test]
fn a_click_selects_and_a_second_click_opens_then_pivots() {
    let mut s = looked_up(5);
    update(&mut s, key(KeyCode::Tab)); // focus away from the table
    let hit = hit_at(&s, 120, 40, "Alert 3");
    let cmds = click(&mut s, hit);
    assert!(fetches(&cmds).is_empty(), "a first click only selects");
    assert_eq!(s.focus, Focus::Alerts);
    assert_eq!(s.location().unwrap().alert_row, 3);

    let cmds = click(&mut s, hit);
    let asked: Vec<FetchKey> = fetches(&cmds).into_iter().map(|r| r.key).collect();
    assert!(
        asked.contains(&FetchKey::AlertIps(alert_id("da3_1"))),
        "the second click opens the alert: {asked:?}"
    );
    settle(&mut s, cmds, &tenant);
    assert_eq!(s.focus, Focus::Ips);

    let hit = hit_at(&s, 120, 40, "23.203.232.228");
    let cmds = click(&mut s, hit);
    assert!(fetches(&cmds).is_empty());
    assert_eq!(s.location().unwrap().ip_row, 1);
    let cmds = click(&mut s, hit);
    settle(&mut s, cmds, &tenant);
    assert_eq!(
        s.location().unwrap().subject.ip(),
        Some(ip("23.203.232.228")),
        "pivoted"
    );
    assert_eq!(s.history.entries().len(), 3, "lookup, alert, pivot");
}

#[test]
fn the_wheel_moves_the_list_under_the_pointer_and_scrolls_the_details() {
    let mut s = looked_up(10);
    let over_alerts = hit_at(&s, 120, 40, "Alert 1").unwrap();
    for _ in 0..4 {
        update(
            &mut s,
            Msg::Wheel {
                at: over_alerts,
                down: true,
            },
        );
    }
    assert_eq!(s.location().unwrap().alert_row, 4);
    update(
        &mut s,
        Msg::Wheel {
            at: over_alerts,
            down: false,
        },
    );
    assert_eq!(s.location().unwrap().alert_row, 3);

    let details = Hit {
        pane: Focus::Details,
        row: None,
    };
    update(
        &mut s,
        Msg::Wheel {
            at: details,
            down: true,
        },
    );
    assert_eq!((s.focus, s.details_scroll), (Focus::Details, 3));
    // The input has nothing to scroll, and keeps its text.
    let input = Hit {
        pane: Focus::Input,
        row: None,
    };
    update(
        &mut s,
        Msg::Wheel {
            at: input,
            down: true,
        },
    );
    assert_eq!(s.focus, Focus::Details);
}

#[test]
fn a_click_closes_help_and_never_reaches_an_open_editor() {
    let mut s = looked_up(3);
    let hit = hit_at(&s, 120, 40, "Alert 2");
    update(&mut s, ch('?'));
    assert!(matches!(s.overlay, Overlay::Help));
    click(&mut s, hit);
    assert!(!matches!(s.overlay, Overlay::Help), "a click closes help");
    assert_eq!(
        s.location().unwrap().alert_row,
        0,
        "the click that closes help selects nothing"
    );

    update(&mut s, ch('n'));
    assert!(s.overlay.editor().is_some());
    click(&mut s, hit);
    assert!(
        s.overlay.editor().is_some(),
        "the note being typed stays open"
    );
    assert_eq!(s.location().unwrap().alert_row, 0);

    // A click on the input focuses it, ready to type.
    update(&mut s, key(KeyCode::Esc));
    let input = hit_at(&s, 120, 40, "IP address");
    click(&mut s, input);
    assert_eq!(s.focus, Focus::Input);
}
