//! Whatever popup is open gets the keys, the clicks and the wheel before the panes, one
//! variant of [`Overlay`] at a time; the panes get them when none is.

use std::net::IpAddr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;

use super::update;
use crate::app::msg::{Cmd, Hit, Msg};
use crate::app::overlay::{Editor, Overlay, TreeView};
use crate::app::state::{Focus, State};
use crate::case::Target;
use crate::defender::{Alert, FetchKey, FetchValue};
use crate::fetch::{FetchEvent, Origin};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Answers every request `cmds` lead to: three alerts per IP, nothing else.
fn answer(state: &mut State, cmds: Vec<Cmd>) {
    let mut pending = cmds;
    while !pending.is_empty() {
        let mut next = Vec::new();
        for cmd in pending {
            let Cmd::Fetch(r) = cmd else { continue };
            let value = match &r.key {
                FetchKey::IpAlerts(_) => FetchValue::Alerts(
                    ["a1", "a2", "a3"]
                        .map(|id| Alert {
                            id: id.into(),
                            ..Default::default()
                        })
                        .to_vec()
                        .into(),
                ),
                FetchKey::Device(id) => FetchValue::Device(Box::new(crate::defender::Device {
                    id: id.to_string(),
                    ..Default::default()
                })),
                FetchKey::Alert(id) => FetchValue::Alert(Box::new(Alert {
                    id: id.to_string(),
                    ..Default::default()
                })),
                // Any other answer is empty, as the cache reads an empty list or a 404 back.
                other => {
                    let read = other.endpoint().reader().stored;
                    read("[]")
                        .or_else(|_| read("null"))
                        .expect("an empty list, or nothing")
                }
            };
            next.extend(update(
                state,
                Msg::Fetch(FetchEvent::Done {
                    key: r.key,
                    ticket: r.ticket,
                    result: Ok(value),
                    at: Default::default(),
                    origin: Origin::Network,
                }),
            ));
        }
        pending = next;
    }
}

/// Two IPs looked up, standing on the second with its three alerts, the first selected.
fn looked_up() -> State {
    let mut s = State::new(None, "api");
    for text in ["10.0.0.2", "10.0.0.1"] {
        s.focus = Focus::Input;
        s.input.set(text);
        let cmds = update(&mut s, key(KeyCode::Enter));
        answer(&mut s, cmds);
    }
    assert_eq!((s.focus, s.shown_len()), (Focus::Alerts, 3));
    s
}

fn every_overlay() -> Vec<Overlay> {
    vec![
        Overlay::Help,
        Overlay::Budget,
        Overlay::Tree(TreeView::default()),
        Overlay::Editor(Editor::Note {
            target: Target::Place(crate::case::Subject::Ip(ip("10.0.0.1"))),
            input: Input::default(),
        }),
        Overlay::Paste(vec![ip("10.0.0.7"), ip("10.0.0.8")], "2 IPs found".into()),
    ]
}

fn alert_row(s: &State) -> usize {
    s.location().unwrap().alert_row
}

#[test]
fn with_no_overlay_the_panes_get_keys_clicks_and_the_wheel() {
    let mut s = looked_up();
    update(&mut s, key(KeyCode::Char('j')));
    assert_eq!(alert_row(&s), 1);
    let hit = Hit {
        pane: Focus::Alerts,
        row: Some(2),
    };
    update(&mut s, Msg::Click(hit));
    assert_eq!(alert_row(&s), 2);
    update(
        &mut s,
        Msg::Wheel {
            at: hit,
            down: false,
        },
    );
    assert_eq!(alert_row(&s), 1);
}

#[test]
fn a_key_goes_to_the_open_overlay() {
    for overlay in every_overlay() {
        let mut s = looked_up();
        s.overlay = overlay.clone();
        let cmds = update(&mut s, key(KeyCode::Char(' ')));
        assert!(!cmds.contains(&Cmd::Quit));
        let cmds = update(&mut s, key(KeyCode::Char('j')));
        match overlay {
            Overlay::None => unreachable!(),
            Overlay::Help | Overlay::Budget => {
                assert!(s.overlay.covers_panes(), "{overlay:?} stays open");
                update(&mut s, key(KeyCode::Esc));
                assert!(matches!(s.overlay, Overlay::None), "Esc closes {overlay:?}");
            }
            Overlay::Tree(_) => {
                let tree = s.overlay.tree().expect("the tree stays open");
                assert!(
                    tree.collapsed
                        .contains(&crate::app::Subject::Ip(ip("10.0.0.2"))),
                    "Space folded"
                );
                assert_eq!(tree.row, 1, "j moved the tree's cursor");
            }
            Overlay::Editor(_) => match s.overlay.editor() {
                Some(Editor::Note { input, .. }) => assert_eq!(input.value(), " j"),
                other => panic!("the editor took the keys: {other:?}"),
            },
            Overlay::Paste(..) => {
                // Any key but Enter or Esc lapses the offer and then does what it always does.
                assert!(matches!(s.overlay, Overlay::None));
                assert_eq!(
                    alert_row(&s),
                    1,
                    "j reached the table once the offer lapsed"
                );
                assert!(cmds.is_empty());
                continue;
            }
        }
        assert_eq!(alert_row(&s), 0, "{overlay:?}: the table never saw j");
    }
    // Enter answers the paste offer, instead of opening the selected alert.
    let mut s = looked_up();
    s.overlay = Overlay::Paste(vec![ip("10.0.0.7"), ip("10.0.0.8")], "2 IPs found".into());
    update(&mut s, key(KeyCode::Enter));
    assert!(matches!(s.overlay, Overlay::None));
    assert_eq!(s.location().unwrap().subject.ip(), Some(ip("10.0.0.7")));
    assert_eq!(s.location().unwrap().alert, None);
}

#[test]
fn a_click_goes_to_the_open_overlay() {
    let hit = Hit {
        pane: Focus::Alerts,
        row: Some(2),
    };
    for overlay in every_overlay() {
        let mut s = looked_up();
        s.overlay = overlay.clone();
        s.dirty = false;
        update(&mut s, Msg::Click(hit));
        match overlay {
            Overlay::None => unreachable!(),
            Overlay::Help | Overlay::Budget => {
                assert!(
                    matches!(s.overlay, Overlay::None),
                    "a click closes {overlay:?}"
                );
                assert!(s.dirty);
                assert_eq!(alert_row(&s), 0, "the closing click selects nothing");
            }
            Overlay::Tree(_) | Overlay::Editor(_) => {
                assert!(s.overlay.covers_panes(), "{overlay:?} stays open");
                assert!(!s.dirty, "nothing changed");
                assert_eq!(alert_row(&s), 0);
            }
            Overlay::Paste(..) => {
                assert!(s.overlay.pasted().is_some(), "the offer still waits");
                assert_eq!(alert_row(&s), 2, "the click reached the table");
            }
        }
    }
}

#[test]
fn the_wheel_goes_to_the_open_overlay() {
    let at = Hit {
        pane: Focus::Alerts,
        row: None,
    };
    for overlay in every_overlay() {
        let mut s = looked_up();
        s.overlay = overlay.clone();
        s.dirty = false;
        update(&mut s, Msg::Wheel { at, down: true });
        match overlay {
            Overlay::None => unreachable!(),
            Overlay::Tree(_) => {
                assert_eq!(
                    s.overlay.tree().map(|t| t.row),
                    Some(1),
                    "the tree scrolled"
                );
                assert!(s.dirty);
                assert_eq!(alert_row(&s), 0);
            }
            Overlay::Help | Overlay::Budget | Overlay::Editor(_) => {
                assert!(s.overlay.covers_panes(), "{overlay:?} stays open");
                assert!(!s.dirty);
                assert_eq!(alert_row(&s), 0, "{overlay:?} keeps the panes still");
            }
            Overlay::Paste(..) => {
                assert!(s.overlay.pasted().is_some());
                assert_eq!(alert_row(&s), 1, "the wheel reached the table");
            }
        }
    }
}

#[test]
fn a_paste_goes_to_the_open_editor_else_to_the_input_box() {
    for overlay in every_overlay() {
        let mut s = looked_up();
        s.overlay = overlay.clone();
        update(&mut s, Msg::Paste("10.0.0.9".into()));
        match &s.overlay {
            Overlay::Editor(Editor::Note { input, .. }) => {
                assert_eq!(input.value(), "10.0.0.9");
                assert_eq!(s.input.value(), "");
            }
            _ => assert_eq!(s.input.value(), "10.0.0.9", "{overlay:?}"),
        }
    }
}
