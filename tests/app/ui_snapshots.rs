//! Screens as text snapshots (insta), one per pane state, at 80×24, 120×40 and 200×60, plus
//! tiny terminals. Styled assertions where colour carries meaning.

use crate::support;

use std::time::Duration;

use crossterm::event::KeyCode;
use mde_triage::app::{Msg, Overlay, State, update};
use mde_triage::defender::listing::Unread;
use mde_triage::defender::{ApiError, Cut, FetchKey, FetchValue, IpStats, Listing};
use mde_triage::fetch::{BudgetStatus, EndpointBudget, FetchEvent, WindowStatus};
use support::*;

/// Calls made on each endpoint, in `Endpoint::ALL`'s order; the status bar shows the three
/// device endpoints as one `dev` entry, the tightest of them (find-by-ip here), and the
/// single-alert endpoint, never called here, not at all.
pub fn budget() -> BudgetStatus {
    use mde_triage::defender::Endpoint;
    let used = [3, 2, 1, 4, 2, 7, 0];
    let window = |limit, secs, used| WindowStatus {
        limit,
        window: Duration::from_secs(secs),
        used,
    };
    BudgetStatus {
        endpoints: Endpoint::ALL
            .into_iter()
            .zip(used)
            .map(|(endpoint, used)| EndpointBudget {
                endpoint,
                windows: vec![window(100, 60, used), window(1500, 3600, used)],
                paused_for: None,
                calls: u64::from(used),
                throttled: 0,
                paused_total: Duration::ZERO,
            })
            .collect(),
        queued: 0,
        shared: None,
        in_flight: 0,
    }
}

fn fresh() -> State {
    let mut s = State::new(Some("SIMULATED TENANT".into()), "127.0.0.1:41234");
    update(&mut s, Msg::Fetch(FetchEvent::Budget(budget())));
    s
}

fn tenant(key: &FetchKey) -> FetchValue {
    match key {
        FetchKey::IpStats(i, _) if *i == ip(DOC_IP) => FetchValue::Stats(Some(doc_stats())),
        FetchKey::IpStats(i, _) if *i == ip("23.203.232.228") => FetchValue::Stats(None),
        FetchKey::IpStats(..) => FetchValue::Stats(Some(IpStats {
            organization_prevalence: Some(4120),
            ..doc_stats()
        })),
        FetchKey::IpAlerts(i) if *i == ip(DOC_IP) => FetchValue::Alerts(doc_alerts().into()),
        FetchKey::IpAlerts(_) => FetchValue::Alerts(Default::default()),
        FetchKey::AlertIps(_) => {
            FetchValue::Ips(related(&["104.80.104.128", "23.203.232.228"]).into())
        }
        FetchKey::DeviceAlerts(_)
        | FetchKey::Device(_)
        | FetchKey::DevicesAt(..)
        | FetchKey::Alert(_) => support::tenant(key),
    }
}

fn in_case(mut s: State) -> State {
    s.case = Some(mde_triage::app::CaseView::new("INC-1042"));
    s
}

fn looked_up(answer: bool) -> State {
    let mut s = fresh();
    type_text(&mut s, DOC_IP);
    let cmds = update(&mut s, key(KeyCode::Enter));
    if answer {
        settle(&mut s, cmds, &tenant);
    }
    s
}

fn alert_open() -> State {
    let mut s = looked_up(true);
    let row = s
        .alerts_of(ip(DOC_IP))
        .unwrap()
        .iter()
        .position(|a| a.id == DOC_ALERT)
        .unwrap();
    for _ in 0..row {
        update(&mut s, ch('j'));
    }
    let cmds = update(&mut s, key(KeyCode::Enter));
    settle(&mut s, cmds, &tenant);
    s
}

macro_rules! screens {
    ($($name:ident => $state:expr;)+) => {$(
        #[test]
        fn $name() {
            let s = $state;
            insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), render(&s, 80, 24));
            insta::assert_snapshot!(concat!(stringify!($name), "_120x40"), render(&s, 120, 40));
            insta::assert_snapshot!(concat!(stringify!($name), "_200x60"), render(&s, 200, 60));
        }
    )+};
}

screens! {
    start => fresh();
    typing_invalid => { let mut s = fresh(); type_text(&mut s, "10.209.67"); s };
    typing_defanged => { let mut s = fresh(); type_text(&mut s, "10[.]209[.]67[.]177"); s };
    submitted_invalid => { let mut s = fresh(); type_text(&mut s, "10.0.0.1/24"); update(&mut s, key(KeyCode::Enter)); s };
    ticket_pasted => { let mut s = fresh(); update(&mut s, mde_triage::app::Msg::Paste("Hi,\r\nbeacons to 185[.]220[.]101[.]4 and hxxp://45.9.148.114:8080/g\r\nthe range 10.0.0.0/8 is ours\r\n".into())); s };
    loading => looked_up(false);
    ip_ready => looked_up(true);
    alert_opened => alert_open();
    help => { let mut s = alert_open(); update(&mut s, ch('?')); s };
    note_editor => {
        let mut s = in_case(alert_open());
        update(&mut s, key(KeyCode::BackTab)); // details: the open alert
        update(&mut s, ch('n'));
        type_text(&mut s, "same cradle as INC-1031; [notify] the owner");
        s
    };
    tag_editor => {
        let mut s = in_case(alert_open());
        update(&mut s, ch('t'));
        update(&mut s, ch('2'));
        update(&mut s, ch('t'));
        s
    };
    tree => {
        let mut s = alert_open();
        let cmds = update(&mut s, key(KeyCode::Enter)); // pivot to the first related IP
        settle(&mut s, cmds, &tenant);
        update(&mut s, ch('g'));
        s
    };
    alerts_filtered => {
        let mut s = looked_up(true);
        update(&mut s, ch('/'));
        type_text(&mut s, "defender");
        s
    };
    alerts_by_severity => {
        let mut s = looked_up(true);
        update(&mut s, ch('s'));
        update(&mut s, ch('j'));
        s
    };
    offline_cached => {
        let mut s = fresh();
        s.offline = true;
        s.case = Some(mde_triage::app::CaseView::new("INC-1042"));
        type_text(&mut s, DOC_IP);
        let cmds = update(&mut s, key(KeyCode::Enter));
        for r in fetches(&cmds) {
            update(&mut s, Msg::Fetch(FetchEvent::Done {
                result: Ok(tenant(&r.key)),
                key: r.key,
                ticket: r.ticket,
                at: at() - chrono::Duration::minutes(12),
                origin: mde_triage::fetch::Origin::Cache { refreshing: false },
            }));
        }
        update(&mut s, Msg::Clock(at()));
        s
    };
    not_seen_and_no_alerts => {
        let mut s = fresh();
        type_text(&mut s, "198.51.100.7");
        let cmds = update(&mut s, key(KeyCode::Enter));
        answer_all(&mut s, cmds, &|k| match k {
            FetchKey::IpStats(..) => FetchValue::Stats(None),
            _ => FetchValue::Alerts(Default::default()),
        });
        s
    };
    errors => {
        let mut s = fresh();
        type_text(&mut s, DOC_IP);
        let cmds = update(&mut s, key(KeyCode::Enter));
        for (i, r) in fetches(&cmds).into_iter().enumerate() {
            let error = if i == 0 {
                ApiError::from_response(403, None, br#"{"error":{"code":"Forbidden","message":"Missing role","target":"43f4cb08"}}"#)
            } else {
                ApiError::from_response(500, None, b"")
            };
            update(&mut s, Msg::Fetch(FetchEvent::Done { key: r.key, ticket: r.ticket, result: Err(error), at: at(), origin: mde_triage::fetch::Origin::Network }));
        }
        s
    };
    partial_lists => {
        // A cut list with an unreadable element, and an alert whose IP list has only unreadable
        // elements: each pane says what it lacks, and "no IPs" is never claimed.
        let mut s2 = fresh();
        type_text(&mut s2, DOC_IP);
        let cmds = update(&mut s2, key(KeyCode::Enter));
        settle(&mut s2, cmds, &|k| match k {
            FetchKey::IpAlerts(_) => {
                let mut list: Listing<_> = doc_alerts().into();
                list.pages = 50;
                list.unread.push(Unread { page: 3, item: 7, found: "string".into() });
                list.cut = Some(Cut::PageCap);
                FetchValue::Alerts(list)
            }
            FetchKey::AlertIps(_) => {
                let mut list = Listing::default();
                list.unread.push(Unread { page: 1, item: 1, found: "number".into() });
                FetchValue::Ips(list)
            }
            k => tenant(k),
        });
        let cmds = update(&mut s2, key(KeyCode::Enter));
        settle(&mut s2, cmds, &|k| match k {
            FetchKey::AlertIps(_) => {
                let mut list = Listing::default();
                list.unread.push(Unread { page: 1, item: 1, found: "number".into() });
                FetchValue::Ips(list)
            }
            k => tenant(k),
        });
        s2
    };
    throttled => throttled_state();
    budget_popup => { let mut s = throttled_state(); update(&mut s, ch('b')); s };
}

fn throttled_state() -> State {
    let mut s = looked_up(false);
    let mut b = budget();
    b.endpoints[1].paused_for = Some(Duration::from_secs(42));
    b.endpoints[1].paused_total = Duration::from_secs(78);
    b.endpoints[1].throttled = 2;
    b.endpoints[0].windows[0].used = 100;
    b.queued = 3;
    update(&mut s, Msg::Fetch(FetchEvent::Budget(b)));
    s
}

#[test]
fn tiny_terminals_do_not_panic_and_say_so() {
    let s = alert_open();
    for (w, h) in [(20, 6), (1, 1), (59, 15), (0, 0)] {
        let text = render(&s, w, h);
        if w >= 20 {
            assert!(text.contains("too small"), "{w}x{h}: {text}");
        }
    }
    insta::assert_snapshot!("tiny_20x6", render(&s, 20, 6));
}

#[test]
fn hostile_server_text_cannot_reach_the_terminal() {
    let mut s = fresh();
    type_text(&mut s, DOC_IP);
    let cmds = update(&mut s, key(KeyCode::Enter));
    let body = r#"{"value":[{"id":"1_2","severity":"High","title":"evil\u001b]0;pwned\u0007 \u202etxt.exe\u200b","alertCreationTime":"2026-11-20T10:00:00Z"}]}"#;
    let alerts: mde_triage::defender::model::ODataList<mde_triage::defender::Alert> =
        serde_json::from_str(body).unwrap();
    answer_all(&mut s, cmds, &|k| match k {
        FetchKey::IpStats(..) => FetchValue::Stats(Some(doc_stats())),
        _ => FetchValue::Alerts(alerts.value.clone().into()),
    });
    let text = render(&s, 120, 40);
    assert!(text.contains("evil \u{FFFD}txt.exe\u{FFFD}"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}') && !text.contains('\u{200b}'));
}

#[test]
fn severity_is_coloured_and_written() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::Color;
    let s = looked_up(true);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| mde_triage::ui::draw(&s, f)).unwrap();
    let buf = terminal.backend().buffer();
    let text = screen_text(buf);
    let (y, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("High") && l.contains("│▶") || l.contains(" High "))
        .unwrap();
    let x = line
        .chars()
        .position(|_| true)
        .map(|_| line.find("High").unwrap())
        .unwrap();
    let col = line[..x].chars().count() as u16;
    assert_eq!(buf[(col, y as u16)].fg, Color::Red, "High is red: {line}");
}

#[test]
fn no_color_drops_every_colour_and_high_contrast_brightens() {
    use mde_triage::app::Palette;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Color, Modifier};
    let draw = |palette: Palette| {
        let mut s = looked_up(true);
        s.palette = palette;
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|f| mde_triage::ui::draw(&s, f)).unwrap();
        terminal.backend().buffer().clone()
    };
    let (plain, none, bright) = (
        draw(Palette::Default),
        draw(Palette::NoColor),
        draw(Palette::HighContrast),
    );
    assert_eq!(screen_text(&plain), screen_text(&none), "the same words");
    assert!(
        none.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    assert!(plain.content.iter().any(|c| c.fg == Color::DarkGray));
    assert!(!bright.content.iter().any(|c| c.fg == Color::DarkGray));
    // Severity keeps its word and its weight without colour.
    let text = screen_text(&none);
    let (y, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("▶High"))
        .unwrap();
    let x = line[..line.find("High").unwrap()].chars().count() as u16;
    assert!(none[(x, y as u16)].modifier.contains(Modifier::BOLD));
    assert_eq!(bright[(x, y as u16)].fg, Color::LightRed);
}

#[test]
fn help_shows_the_keys_as_rebound() {
    let mut s = alert_open();
    s.keymap = keymap_from(
        "[settings.keys]\ncopy = [\"c\"]\nback = [\"Backspace\", \"h\"]\nhelp = [\"F1\", \"?\"]\n",
    );
    update(&mut s, key(KeyCode::F(1)));
    assert!(matches!(s.overlay, Overlay::Help), "F1 opens help now");
    let text = render(&s, 120, 40);
    // The key cell of a row: what the popup's border and the help text enclose.
    let keys_of = |help: &str| {
        let line = text.lines().find(|l| l.contains(help)).unwrap();
        let before = &line[..line.find(help).unwrap()];
        before.rsplit('│').next().unwrap().trim().to_owned()
    };
    assert_eq!(keys_of("copy the selected IP"), "c", "{text}");
    assert_eq!(keys_of("back along the trail"), "Bksp h", "{text}");
    assert_eq!(keys_of("this help"), "F1 ?", "{text}");
    assert_eq!(keys_of("next pane"), "Tab", "untouched: {text}");
    assert!(text.contains(" Esc or F1 to close "), "{text}");
}

#[test]
fn hints_in_popups_and_the_status_bar_name_the_keys_as_rebound() {
    let mut s = alert_open();
    s.keymap = keymap_from(
        "[settings.keys]\nhelp = [\"F1\"]\nbudget = [\"F2\"]\ndismiss = [\"x\"]\nsubmit = [\"C-j\"]\n",
    );
    let text = render(&s, 120, 40);
    assert!(text.lines().last().unwrap().ends_with(" F1 help"), "{text}");
    assert!(text.contains(" C-j: pivot "), "{text}");
    update(&mut s, key(KeyCode::F(2)));
    assert!(
        matches!(s.overlay, mde_triage::app::Overlay::Budget),
        "F2 opens the budget now"
    );
    let text = render(&s, 120, 40);
    assert!(text.contains(" x or F2 to close "), "{text}");
    update(&mut s, ch('x'));
    update(&mut s, ch('g'));
    let text = render(&s, 120, 40);
    assert!(
        text.contains(" C-j: go there · Space/←/→: fold · x or g: close "),
        "{text}"
    );
}

#[test]
fn a_configured_severity_colour_reaches_the_screen_and_no_color_still_wins() {
    use mde_triage::app::Palette;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::Color;
    let theme = theme_from("[settings.colors]\nseverity_high = \"#ff00ff\"\nfocus = \"208\"\n");
    let draw = |palette: Palette| {
        let mut s = looked_up(true);
        s.theme = theme;
        s.palette = palette;
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|f| mde_triage::ui::draw(&s, f)).unwrap();
        terminal.backend().buffer().clone()
    };
    let (plain, bright, none) = (
        draw(Palette::Default),
        draw(Palette::HighContrast),
        draw(Palette::NoColor),
    );
    let text = screen_text(&plain);
    let (y, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("▶High"))
        .unwrap();
    let x = line[..line.find("High").unwrap()].chars().count() as u16;
    let magenta = Color::Rgb(0xff, 0x00, 0xff);
    assert_eq!(
        plain[(x, y as u16)].fg,
        magenta,
        "High is the configured colour: {line}"
    );
    // The alerts pane has the keys: its border is the configured focus colour.
    let (border_y, border) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("┌ Alerts"))
        .unwrap();
    let corner = border[..border.find("┌ Alerts").unwrap()].chars().count() as u16;
    assert_eq!(
        plain[(corner, border_y as u16)].fg,
        Color::Indexed(208),
        "{border}"
    );
    assert_eq!(bright[(x, y as u16)].fg, magenta, "a chosen colour is kept");
    assert!(
        none.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "NO_COLOR wins over the file"
    );
}

#[test]
fn the_ip_and_the_current_step_are_never_cut_at_any_width() {
    // On a narrow screen the pane's counts and the title bar's host and case give way; the
    // address the analyst reads must never lose a digit (10.209.67.17 is another host).
    let s = in_case(alert_open());
    for width in 60..=220 {
        let screen = render(&s, width, 30);
        let alerts = screen
            .lines()
            .find(|l| l.contains("Alerts · "))
            .unwrap_or_else(|| panic!("{width}: no alerts pane:\n{screen}"));
        assert!(
            alerts.contains("Alerts · 10.209.67.177 "),
            "{width}: {alerts}"
        );
        let title = screen.lines().next().unwrap();
        assert!(title.contains("636688558"), "{width}: {title}");
    }
}
