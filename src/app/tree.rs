//! The investigation tree (`g`): every IP and device visited, the alerts opened from it, and
//! each alert's related IPs, with the ones pivoted to marked. Collapsible per IP or device;
//! Enter jumps there.

use crossterm::event::{KeyCode, KeyEvent};

use super::history::{Location, Subject};
use super::keymap::Action;
use super::msg::Cmd;
use super::navigate;
use super::overlay::Overlay;
use super::state::State;
use crate::defender::AlertId;

/// What one row of the tree stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A visited IP or device.
    Subject(Subject),
    /// An alert opened from the IP's or device's list.
    Alert(Subject, AlertId),
    /// A place the alert names (its pivot list); `visited` when the analyst pivoted there.
    Related { place: Subject, visited: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub depth: u8,
    pub node: Node,
    /// Whether this is the place the console stands on now.
    pub current: bool,
}

impl Node {
    /// Where Enter on this row goes.
    pub fn location(&self) -> Location {
        match self {
            Node::Subject(place) | Node::Related { place, .. } => Location::of(place.clone()),
            Node::Alert(subject, id) => Location {
                subject: subject.clone(),
                alert: Some(id.clone()),
                alert_row: 0,
                ip_row: 0,
            },
        }
    }
}

impl State {
    /// The tree's rows, from the trail: IPs and devices in the order first visited.
    pub fn tree_rows(&self) -> Vec<Row> {
        let entries = self.history.entries();
        let here = self.location();
        let mut subjects: Vec<&Subject> = Vec::new();
        for e in entries {
            if !subjects.contains(&&e.subject) {
                subjects.push(&e.subject);
            }
        }
        let collapsed = self.overlay.tree().map(|t| &t.collapsed);
        let mut rows = Vec::new();
        for subject in subjects {
            rows.push(Row {
                depth: 0,
                node: Node::Subject(subject.clone()),
                current: here.is_some_and(|h| h.subject == *subject && h.alert.is_none()),
            });
            if collapsed.is_some_and(|c| c.contains(subject)) {
                continue;
            }
            let mut opened: Vec<&AlertId> = Vec::new();
            for e in entries.iter().filter(|e| e.subject == *subject) {
                if let Some(id) = &e.alert
                    && !opened.contains(&id)
                {
                    opened.push(id);
                }
            }
            for id in opened {
                rows.push(Row {
                    depth: 1,
                    node: Node::Alert(subject.clone(), id.clone()),
                    current: here
                        .is_some_and(|h| h.subject == *subject && h.alert.as_ref() == Some(id)),
                });
                let places = self.related_of(id).unwrap_or_default();
                for place in places.into_iter().filter_map(|r| r.place) {
                    rows.push(Row {
                        depth: 2,
                        node: Node::Related {
                            visited: entries.iter().any(|e| e.subject == place),
                            place,
                        },
                        current: false,
                    });
                }
            }
        }
        rows
    }
}

/// Keys in the tree: move, fold an IP, jump with Enter, leave with Esc or g.
pub(super) fn key(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    let rows = state.tree_rows();
    let action = state.keymap.action_for(&key);
    let Overlay::Tree(tree) = &mut state.overlay else {
        return;
    };
    let node = rows.get(tree.row).map(|r| r.node.clone());
    match (action, key.code) {
        (Some(Action::Quit), _) => cmds.push(Cmd::Quit),
        (Some(Action::Dismiss | Action::Tree), _) => state.overlay = Overlay::None,
        (Some(Action::Down), _) => tree.row = (tree.row + 1).min(rows.len().saturating_sub(1)),
        (Some(Action::Up), _) => tree.row = tree.row.saturating_sub(1),
        (_, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
            if let Some(Node::Subject(subject)) = node {
                let fold = match key.code {
                    KeyCode::Left => true,
                    KeyCode::Right => false,
                    _ => !tree.collapsed.contains(&subject),
                };
                if fold {
                    tree.collapsed.insert(subject);
                } else {
                    tree.collapsed.remove(&subject);
                }
            }
        }
        (Some(Action::Submit), _) => {
            if let Some(node) = node {
                state.overlay = Overlay::None;
                navigate::go(state, node.location(), cmds);
            }
        }
        _ => {}
    }
}

/// A wheel step moves the tree's cursor, as Up and Down do.
pub(super) fn wheel(state: &mut State, down: bool) {
    let rows = state.tree_rows().len();
    if let Overlay::Tree(tree) = &mut state.overlay {
        let sign = if down { 1 } else { -1 };
        tree.row = (tree.row as isize + sign).clamp(0, rows.saturating_sub(1) as isize) as usize;
    }
}
