//! Devices in the console: `d` from an alert opens its device (record and alerts), an alert
//! of the device opens and pivots as any other, and the whole trail walks back with no call.
//! Snapshots of a device's page at the smallest and a wide size.

use crate::support;

use crossterm::event::KeyCode;
use mde_triage::app::{Focus, State, Subject, update};
use mde_triage::defender::FetchKey;
use mde_triage::fetch::Priority;
use support::*;

/// `text` looked up, every answer in, the clock at `now`.
fn looked_up_at(text: &str, now: Option<chrono::DateTime<chrono::Utc>>) -> State {
    let mut s = State::new(None, "api");
    s.now = now;
    let cmds = submitted(&mut s, text);
    settle(&mut s, cmds, &tenant);
    s
}

fn here_row(s: &State) -> usize {
    s.location().unwrap().alert_row
}

fn keys_of(cmds: &[mde_triage::app::Cmd]) -> Vec<(FetchKey, Priority)> {
    fetches(cmds)
        .into_iter()
        .map(|r| (r.key, r.priority))
        .collect()
}

#[test]
fn ip_alert_device_alert_ip_and_back_to_the_start_with_no_call() {
    let mut s = doc_alert_open();
    // The device's record came with the alert (its line in the alert pane): `d` asks only for
    // the device's alerts, in the analyst's lane.
    let cmds = update(&mut s, ch('d'));
    assert_eq!(
        keys_of(&cmds),
        vec![(
            FetchKey::DeviceAlerts(device(DOC_DEVICE)),
            Priority::Foreground
        )]
    );
    settle(&mut s, cmds, &tenant);
    let here = s.location().unwrap();
    assert_eq!(here.subject, Subject::Device(device(DOC_DEVICE)));
    assert_eq!(here.alert, None);
    assert_eq!(s.focus, Focus::Alerts);
    assert_eq!(s.shown_len(), 2, "the device's alerts are listed");
    assert_eq!(here_row(&s), 0, "a new page starts at its first row");

    // Another alert of the device: opened as from an IP's list, its IPs asked for.
    let other = s
        .shown_alerts(&Subject::Device(device(DOC_DEVICE)))
        .iter()
        .position(|a| a.id != DOC_ALERT)
        .unwrap();
    for _ in 0..other {
        update(&mut s, ch('j'));
    }
    // Its IPs were fetched ahead when the device's alerts arrived, and its device is the one
    // on screen: opening it costs nothing.
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(
        keys_of(&cmds)
            .iter()
            .all(|(k, _)| matches!(k, FetchKey::IpStats(..))),
        "{cmds:?}"
    );
    settle(&mut s, cmds, &tenant);
    let opened = s.open_alert().unwrap().id.clone();
    assert_ne!(opened, DOC_ALERT);
    assert_eq!(s.focus, Focus::Ips);

    // Pivot to its first related IP: a place like any other.
    let cmds = update(&mut s, key(KeyCode::Enter));
    settle(&mut s, cmds, &tenant);
    assert_eq!(
        s.location().unwrap().subject,
        Subject::Ip(ip("104.80.104.128"))
    );
    assert_eq!(s.history.entries().len(), 5);

    // Back to the start: four steps, not one call.
    let places: Vec<String> = (0..4)
        .map(|_| {
            let cmds = update(&mut s, key(KeyCode::Backspace));
            assert!(fetches(&cmds).is_empty(), "{cmds:?}");
            let here = s.location().unwrap();
            format!(
                "{}{}",
                here.subject,
                here.alert.as_ref().map_or("", |_| " + alert")
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            format!("device {DOC_DEVICE} + alert"),
            format!("device {DOC_DEVICE}"),
            format!("{DOC_IP} + alert"),
            DOC_IP.to_string(),
        ]
    );
    // And forward again, free too, to the device's page.
    for _ in 0..2 {
        assert!(fetches(&update(&mut s, ch(']'))).is_empty());
    }
    assert_eq!(
        s.location().unwrap().subject,
        Subject::Device(device(DOC_DEVICE))
    );
}

#[test]
fn enter_on_the_alert_pane_opens_the_device_and_d_without_an_alert_says_why() {
    let mut s = doc_alert_open();
    update(&mut s, key(KeyCode::Tab));
    while s.focus != Focus::Details {
        update(&mut s, key(KeyCode::Tab));
    }
    let cmds = update(&mut s, key(KeyCode::Enter));
    settle(&mut s, cmds, &tenant);
    assert_eq!(
        s.location().unwrap().subject,
        Subject::Device(device(DOC_DEVICE))
    );

    let mut empty = State::new(None, "api");
    update(&mut empty, key(KeyCode::Esc));
    let cmds = update(&mut empty, ch('d'));
    assert!(fetches(&cmds).is_empty());
    assert!(empty.location().is_none());
    assert!(
        empty.notice.as_deref().unwrap_or("").contains("alert"),
        "{:?}",
        empty.notice
    );
}

#[test]
fn a_device_s_page() {
    let mut s = doc_alert_open();
    let cmds = update(&mut s, ch('d'));
    settle(&mut s, cmds, &tenant);
    for (w, h) in [(80, 24), (200, 60)] {
        insta::assert_snapshot!(format!("device_page_{w}x{h}"), render(&s, w, h));
    }
}

#[test]
fn an_internal_ip_s_holder_at_the_alert_s_time_is_asked_once_and_a_public_ip_never() {
    // The clock a day after the docs' alert: its time is within the API's 30 days.
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    settle(&mut s, cmds, &tenant);
    let alert = s
        .alerts_of(ip(DOC_IP))
        .unwrap()
        .iter()
        .find(|a| a.id == DOC_ALERT)
        .unwrap()
        .clone();
    let at = alert
        .first_event_time
        .or(alert.alert_creation_time)
        .unwrap();
    s.now = Some(at + chrono::Duration::days(1));
    let row = s
        .shown_alerts(&Subject::Ip(ip(DOC_IP)))
        .iter()
        .position(|a| a.id == DOC_ALERT)
        .unwrap();
    for _ in 0..row {
        update(&mut s, ch('j'));
    }
    let cmds = update(&mut s, key(KeyCode::Enter));
    let asked: Vec<_> = keys_of(&cmds)
        .into_iter()
        .filter(|(k, _)| matches!(k, FetchKey::DevicesAt(..)))
        .collect();
    let expected = FetchKey::devices_at(ip(DOC_IP), at, s.now.unwrap()).unwrap();
    assert_eq!(asked, vec![(expected, Priority::Visible)]);
    settle(&mut s, cmds, &tenant);
    let screen = render(&s, 120, 40);
    assert!(
        screen.contains("held ") && screen.contains("by no device the API knows"),
        "{screen}"
    );

    // 23.203.232.228 is public: its page never asks who held it, whatever is open.
    let s2 = looked_up_at("23.203.232.228", s.now);
    assert!(s2.holders_key().is_err());
    assert!(!render(&s2, 120, 40).contains("held "));

    // Thirty-one days on, the same alert's time is past what the API looks back: said, not asked.
    let mut late = s;
    late.now = Some(at + chrono::Duration::days(31));
    assert!(matches!(
        late.holders_key(),
        Err(mde_triage::app::Holders::Refused(_))
    ));
    assert!(render(&late, 120, 40).contains("not asked"));
}

#[test]
fn in_a_case_a_device_s_page_is_a_visit_and_can_be_tagged() {
    let mut s = doc_alert_open();
    s.case = Some(mde_triage::app::CaseView::new("incident-42"));
    let cmds = update(&mut s, ch('d'));
    let visit = mde_triage::app::Record::Visit(mde_triage::case::Visit::place(Subject::Device(
        mde_triage::defender::parse_device_id(DOC_DEVICE).unwrap(),
    )));
    assert!(
        cmds.contains(&mde_triage::app::Cmd::Record(visit)),
        "{cmds:?}"
    );
    settle(&mut s, cmds, &tenant);
    // With nothing selected in a list, the page's own subject is the target: the device.
    while s.focus != Focus::Details {
        update(&mut s, key(KeyCode::Tab));
    }
    update(&mut s, ch('t'));
    let cmds = update(&mut s, ch('1'));
    let target = mde_triage::case::Target::Place(Subject::Device(device(DOC_DEVICE)));
    assert!(
        cmds.contains(&mde_triage::app::Cmd::Record(
            mde_triage::app::Record::Tag {
                target: target.clone(),
                tag: "malicious".into(),
                on: true,
            }
        )),
        "{cmds:?}"
    );
    assert_eq!(s.tags_of(&target), ["malicious".to_owned()]);
    assert!(render(&s, 80, 24).contains("[malicious]"));
}

#[test]
fn w_asks_who_held_an_internal_ip_at_a_typed_time_and_refuses_what_it_cannot_ask() {
    let typed: chrono::DateTime<chrono::Utc> = "2026-11-20T09:14:00Z".parse().unwrap();
    let mut s = looked_up_at(DOC_IP, Some(typed + chrono::Duration::days(2)));
    assert!(s.holders_key().is_err(), "no alert open, no time given");
    update(&mut s, ch('w'));
    assert!(s.overlay.editor().is_some(), "the time editor is open");
    // Not a time: nothing asked, the editor stays with the text to fix.
    type_text(&mut s, "yesterday");
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(fetches(&cmds).is_empty());
    assert!(s.overlay.editor().is_some());
    assert!(
        s.notice.as_deref().unwrap_or("").contains("not a time"),
        "{:?}",
        s.notice
    );
    for _ in 0.."yesterday".len() {
        update(&mut s, key(KeyCode::Backspace));
    }
    type_text(&mut s, "2026-11-20 09:14");
    let cmds = update(&mut s, key(KeyCode::Enter));
    let expected = FetchKey::devices_at(ip(DOC_IP), typed, s.now.unwrap()).unwrap();
    assert_eq!(keys_of(&cmds), vec![(expected, Priority::Foreground)]);
    assert!(s.overlay.editor().is_none());
    settle(&mut s, cmds, &tenant);
    let screen = render(&s, 120, 40);
    assert!(
        screen.contains("held 11-20 08:59–09:29") && screen.contains("by no device"),
        "{screen}"
    );

    // A public IP: no editor, said why.
    let mut public = looked_up_at("23.203.232.228", s.now);
    let cmds = update(&mut public, ch('w'));
    assert!(fetches(&cmds).is_empty() && public.overlay.editor().is_none());
    assert!(
        public
            .notice
            .as_deref()
            .unwrap_or("")
            .contains("internal IPs only"),
        "{:?}",
        public.notice
    );
}
