//! The case side of the pure core: cached answers and their refresh, notes with drafts saved
//! per keystroke, tags, the trail recorded and restored, ages kept true by the clock.

use crate::support;

use chrono::Duration;
use crossterm::event::KeyCode;
use mde_triage::app::{Cmd, Editor, Focus, Msg, Record, Remote, State, update};
use mde_triage::case::{SavedCase, Subject, Target, Visit};
use mde_triage::defender::{ApiError, FetchKey, FetchValue, LookBack};
use mde_triage::fetch::{FetchEvent, Origin};
use support::*;

fn in_case() -> State {
    let mut s = State::new(None, "api");
    s.case = Some(mde_triage::app::CaseView::new("incident-42"));
    s
}

fn records(cmds: &[Cmd]) -> Vec<Record> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::Record(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn answered(s: &mut State, text: &str) {
    let cmds = submitted(s, text);
    settle(s, cmds, &tenant);
}

#[test]
fn a_cached_answer_shows_at_once_and_its_refresh_replaces_it() {
    let mut s = State::new(None, "api");
    let reqs = fetches(&submitted(&mut s, DOC_IP));
    let stats = reqs[0].clone();
    let old = at() - Duration::minutes(90);
    update(
        &mut s,
        Msg::Fetch(FetchEvent::Done {
            key: stats.key.clone(),
            ticket: stats.ticket,
            result: Ok(FetchValue::Stats(Some(doc_stats()))),
            at: old,
            origin: Origin::Cache { refreshing: true },
        }),
    );
    assert!(matches!(
        s.remote(&stats.key),
        Remote::Ready { cached: true, refreshing: Some(t), as_of, .. } if *t == stats.ticket && *as_of == old
    ));
    assert!(!s.remote(&stats.key).is_loading(), "no spinner over data");
    // The refresh fails: the older answer stands, and the status bar says so.
    update(
        &mut s,
        Msg::Fetch(FetchEvent::Done {
            key: stats.key.clone(),
            ticket: stats.ticket,
            result: Err(ApiError::from_response(503, None, b"")),
            at: at(),
            origin: Origin::Network,
        }),
    );
    assert!(matches!(
        s.remote(&stats.key),
        Remote::Ready { cached: true, refreshing: None, as_of, .. } if *as_of == old
    ));
    assert!(
        s.last_error
            .as_deref()
            .unwrap()
            .contains("could not refresh")
    );
    // `r` asks again; the fresh answer replaces the cached one.
    let again = fetches(&update(&mut s, ch('r')));
    let fresh = again.iter().find(|r| r.key == stats.key).unwrap();
    update(
        &mut s,
        fetched(
            fresh.key.clone(),
            fresh.ticket,
            FetchValue::Stats(Some(doc_stats())),
        ),
    );
    assert!(matches!(
        s.remote(&stats.key),
        Remote::Ready {
            cached: false,
            refreshing: None,
            ..
        }
    ));
}

#[test]
fn ages_are_redrawn_only_when_they_read_differently() {
    let mut s = State::new(None, "api");
    answered(&mut s, DOC_IP);
    update(&mut s, Msg::Clock(at()));
    s.dirty = false;
    update(&mut s, Msg::Clock(at() + Duration::seconds(20)));
    assert!(!s.dirty, "still 'just now'");
    update(&mut s, Msg::Clock(at() + Duration::minutes(12)));
    assert!(s.dirty, "now '12 min ago'");
    let screen = render(&s, 120, 40);
    assert!(screen.contains("as of 12 min ago"), "{screen}");
}

#[test]
fn visits_and_the_trail_are_recorded_back_and_forward_too() {
    let mut s = in_case();
    let cmds = submitted(&mut s, DOC_IP);
    assert!(records(&cmds).contains(&Record::Visit(Visit::place(Subject::Ip(ip(DOC_IP))))));
    settle(&mut s, cmds, &tenant);
    let open = update(&mut s, key(KeyCode::Enter));
    let recs = records(&open);
    assert!(
        recs.iter()
            .any(|r| matches!(r, Record::Visit(Visit { alert: Some(_), .. })))
    );
    assert!(recs.iter().any(|r| matches!(r, Record::Trail(_))));
    let back = records(&update(&mut s, ch('[')));
    assert!(
        matches!(back.as_slice(), [Record::Trail(json)] if json.contains("\"cursor\":0")),
        "back is not a new visit, but where we are is kept: {back:?}"
    );
    // Without a case nothing is recorded.
    let mut plain = State::new(None, "api");
    assert!(records(&submitted(&mut plain, DOC_IP)).is_empty());
}

#[test]
fn a_note_is_saved_as_a_draft_on_every_keystroke_then_kept() {
    let mut s = in_case();
    answered(&mut s, DOC_IP);
    assert_eq!(s.focus, Focus::Alerts);
    update(&mut s, ch('n'));
    let Some(Editor::Note { target, .. }) = s.overlay.editor() else {
        panic!("n opens the note editor")
    };
    let alert = target.clone();
    assert!(matches!(alert, Target::Alert(_)), "the selected alert");
    // Keys that act elsewhere are plain text here.
    let typed = type_text(&mut s, "q[beacon]");
    let drafts: Vec<_> = records(&typed)
        .into_iter()
        .filter(|r| matches!(r, Record::Draft(Some(_))))
        .collect();
    assert_eq!(drafts.len(), 9, "one draft per keystroke");
    assert!(!typed.contains(&Cmd::Quit));
    let done = records(&update(&mut s, key(KeyCode::Enter)));
    assert!(done.contains(&Record::Note {
        target: alert.clone(),
        text: "q[beacon]".into()
    }));
    assert!(done.contains(&Record::Draft(None)), "the draft is cleared");
    assert!(s.overlay.editor().is_none());
    assert_eq!(s.notes_of(&alert).count(), 1);
}

#[test]
fn esc_keeps_a_note_as_a_draft_and_n_brings_it_back() {
    let mut s = in_case();
    answered(&mut s, DOC_IP);
    update(&mut s, ch('n'));
    type_text(&mut s, "half a thought");
    let left = records(&update(&mut s, key(KeyCode::Esc)));
    assert!(left.is_empty(), "the saved draft stays saved: {left:?}");
    assert!(s.overlay.editor().is_none());
    update(&mut s, key(KeyCode::Tab)); // elsewhere now
    update(&mut s, ch('n'));
    match s.overlay.editor() {
        Some(Editor::Note { input, .. }) => assert_eq!(input.value(), "half a thought"),
        other => panic!("the draft is back: {other:?}"),
    }
}

#[test]
fn tags_toggle_with_digits_and_free_text_is_allowed() {
    let mut s = in_case();
    answered(&mut s, DOC_IP);
    update(&mut s, key(KeyCode::Tab)); // details: no alert open, so the IP is the target
    assert_eq!(s.focus, Focus::Details);
    update(&mut s, ch('t'));
    let on = records(&update(&mut s, ch('1')));
    let doc = Target::Place(Subject::Ip(ip(DOC_IP)));
    assert_eq!(
        on,
        vec![Record::Tag {
            target: doc.clone(),
            tag: "malicious".into(),
            on: true
        }]
    );
    assert_eq!(s.tags_of(&doc), ["malicious".to_owned()]);
    update(&mut s, ch('t'));
    type_text(&mut s, "  c2 beacon ");
    update(&mut s, key(KeyCode::Enter));
    assert_eq!(
        s.tags_of(&doc),
        ["malicious".to_owned(), "c2 beacon".to_owned()]
    );
    update(&mut s, ch('t'));
    let off = records(&update(&mut s, ch('1')));
    assert!(matches!(off.as_slice(), [Record::Tag { on: false, .. }]));
    assert_eq!(s.tags_of(&doc), ["c2 beacon".to_owned()]);
    let screen = render(&s, 120, 40);
    assert!(screen.contains("[c2 beacon]"), "{screen}");
}

#[test]
fn a_reopened_case_comes_back_where_it_was_with_its_draft() {
    let mut before = in_case();
    answered(&mut before, DOC_IP);
    update(&mut before, ch('j'));
    update(&mut before, key(KeyCode::Enter)); // open the second alert
    let trail = before.history.to_json();
    let draft = serde_json::json!({
        "target": {"kind": "ip", "id": DOC_IP},
        "text": "seen in the proxy logs too"
    })
    .to_string();
    let mut s = State::new(None, "api");
    s.reopen(
        "incident-42",
        SavedCase {
            trail: Some(trail),
            draft: Some(draft),
            notes: vec![],
            tags: vec![(Target::Place(Subject::Ip(ip(DOC_IP))), "suspicious".into())],
        },
    );
    assert_eq!(s.history, before.history);
    assert!(
        matches!(s.overlay.editor(), Some(Editor::Note { input, .. }) if input.value() == "seen in the proxy logs too")
    );
    let start = fetches(&update(&mut s, Msg::Start));
    let keys: Vec<_> = start.iter().map(|r| r.key.clone()).collect();
    assert!(keys.contains(&FetchKey::IpStats(ip(DOC_IP), LookBack::MONTH)));
    assert!(
        keys.iter().any(|k| matches!(k, FetchKey::AlertIps(_))),
        "{keys:?}"
    );
    // Stats arrive before the alerts: the row the analyst was on is kept, not reset to 0.
    let (stats, rest): (Vec<_>, Vec<_>) = start
        .into_iter()
        .partition(|r| matches!(r.key, FetchKey::IpStats(..)));
    for r in stats.into_iter().chain(rest) {
        update(&mut s, fetched(r.key.clone(), r.ticket, tenant(&r.key)));
    }
    assert_eq!(s.location().unwrap().alert_row, 1);
    // A damaged trail is ignored rather than trusted.
    let mut t = State::new(None, "api");
    t.reopen(
        "x",
        SavedCase {
            trail: Some(r#"{"entries":[],"cursor":3}"#.into()),
            ..SavedCase::default()
        },
    );
    assert!(t.location().is_none());
}

#[test]
fn badges_say_class_rarity_and_sharing() {
    use mde_triage::app::Badge;
    use mde_triage::insight::IpClass;
    let mut s = State::new(None, "api");
    answered(&mut s, DOC_IP);
    assert_eq!(s.badges(ip(DOC_IP)), vec![Badge::Class(IpClass::Private)]);
    // The prefetch of both alerts' IPs is in: each lists 104.80.104.128.
    let shared_ip = ip("104.80.104.128");
    assert_eq!(
        s.badges(shared_ip),
        vec![Badge::Class(IpClass::Public), Badge::Shared(2)]
    );
    // Opening an alert loads its IPs' prevalence: three devices is rare.
    let reqs = fetches(&update(&mut s, key(KeyCode::Enter)));
    for r in &reqs {
        let value = match &r.key {
            FetchKey::IpStats(i, _) if *i == shared_ip => {
                FetchValue::Stats(Some(mde_triage::defender::IpStats {
                    organization_prevalence: Some(3),
                    ..doc_stats()
                }))
            }
            k => tenant(k),
        };
        update(&mut s, fetched(r.key.clone(), r.ticket, value));
    }
    assert_eq!(
        s.badges(shared_ip),
        vec![
            Badge::Class(IpClass::Public),
            Badge::Rare(3),
            Badge::Shared(2)
        ]
    );
    let screen = render(&s, 120, 40);
    assert!(
        screen.contains("104.80.104.128 pub rare ×2") && screen.contains("│private"),
        "{screen}"
    );
    s.rare_below = 3;
    assert!(
        !s.badges(shared_ip).contains(&Badge::Rare(3)),
        "the threshold is the config's"
    );
}
