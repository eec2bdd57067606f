//! The investigation tree (`g`) in the pure core: built from the trail, folded per IP, and
//! Enter jumps to the row's place without calling the API again.

use crate::support;

use crossterm::event::KeyCode;
use mde_triage::app::tree::Node;
use mde_triage::app::{Cmd, State, Subject, update};
use support::*;

/// Doc IP → the doc alert → pivot to 104.80.104.128.
fn walked() -> State {
    let mut s = State::new(None, "api");
    let cmds = submitted(&mut s, DOC_IP);
    settle(&mut s, cmds, &tenant);
    let row = s
        .shown_alerts(&Subject::Ip(ip(DOC_IP)))
        .iter()
        .position(|a| a.id == DOC_ALERT)
        .unwrap();
    (0..row).for_each(|_| {
        update(&mut s, ch('j'));
    });
    let cmds = update(&mut s, key(KeyCode::Enter));
    settle(&mut s, cmds, &tenant);
    let cmds = update(&mut s, key(KeyCode::Enter)); // first related IP
    settle(&mut s, cmds, &tenant);
    s
}

#[test]
fn the_tree_is_the_trail_as_a_graph() {
    let s = walked();
    let nodes: Vec<(u8, Node)> = s
        .tree_rows()
        .into_iter()
        .map(|r| (r.depth, r.node))
        .collect();
    assert_eq!(
        nodes,
        vec![
            (0, Node::Subject(Subject::Ip(ip(DOC_IP)))),
            (1, Node::Alert(Subject::Ip(ip(DOC_IP)), alert_id(DOC_ALERT))),
            (
                2,
                Node::Related {
                    place: Subject::Ip(ip("104.80.104.128")),
                    visited: true
                }
            ),
            (
                2,
                Node::Related {
                    place: Subject::Ip(ip("23.203.232.228")),
                    visited: false
                }
            ),
            (0, Node::Subject(Subject::Ip(ip("104.80.104.128")))),
        ]
    );
    assert!(s.tree_rows()[4].current, "where the console stands");
}

#[test]
fn g_opens_it_space_folds_and_enter_goes_there_for_free() {
    let mut s = walked();
    update(&mut s, ch('g'));
    assert_eq!(
        s.overlay.tree().unwrap().row,
        4,
        "the cursor starts where we are"
    );
    let screen = render(&s, 120, 40);
    assert!(
        screen.contains("Investigation") && screen.contains("◀ you are here"),
        "{screen}"
    );
    // Fold the doc IP: its alert and related IPs go.
    (0..4).for_each(|_| {
        update(&mut s, ch('k'));
    });
    update(&mut s, key(KeyCode::Char(' ')));
    assert_eq!(s.tree_rows().len(), 2);
    update(&mut s, key(KeyCode::Char(' ')));
    assert_eq!(s.tree_rows().len(), 5);
    // Enter on the alert: back at the doc alert, no request (all of it is in the store).
    update(&mut s, ch('j'));
    let cmds = update(&mut s, key(KeyCode::Enter));
    assert!(fetches(&cmds).is_empty(), "{cmds:?}");
    assert!(s.overlay.tree().is_none());
    let here = s.location().unwrap();
    assert_eq!(
        (here.subject.ip(), here.alert.clone()),
        (Some(ip(DOC_IP)), Some(alert_id(DOC_ALERT)))
    );
    // Esc closes it too; keys in it never type into the input or quit on q's neighbours.
    let mut cmds = update(&mut s, ch('g'));
    cmds.extend(update(&mut s, key(KeyCode::Esc)));
    assert!(
        s.overlay.tree().is_none() && !cmds.contains(&Cmd::Quit),
        "{cmds:?}"
    );
}
