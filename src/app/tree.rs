//! The investigation tree (`g`): every IP visited, the alerts opened from it, and each alert's
//! related IPs, with the ones pivoted to marked. Collapsible per IP; Enter jumps there.

use std::net::IpAddr;

use crossterm::event::{KeyCode, KeyEvent};

use super::history::Location;
use super::keymap::Action;
use super::msg::Cmd;
use super::navigate;
use super::overlay::Overlay;
use super::state::State;
use crate::defender::AlertId;

/// What one row of the tree stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A visited IP.
    Ip(IpAddr),
    /// An alert opened from `ip`.
    Alert(IpAddr, AlertId),
    /// One of the alert's related IPs; `visited` when the analyst pivoted there.
    Related { ip: IpAddr, visited: bool },
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
            Node::Ip(ip) | Node::Related { ip, .. } => Location::ip(*ip),
            Node::Alert(ip, id) => Location {
                alert: Some(id.clone()),
                ..Location::ip(*ip)
            },
        }
    }
}

impl State {
    /// The tree's rows, from the trail: IPs in the order first visited.
    pub fn tree_rows(&self) -> Vec<Row> {
        let entries = self.history.entries();
        let here = self.location();
        let mut ips: Vec<IpAddr> = Vec::new();
        for e in entries {
            if !ips.contains(&e.ip) {
                ips.push(e.ip);
            }
        }
        let collapsed = self.overlay.tree().map(|t| &t.collapsed);
        let mut rows = Vec::new();
        for ip in ips {
            rows.push(Row {
                depth: 0,
                node: Node::Ip(ip),
                current: here.is_some_and(|h| h.ip == ip && h.alert.is_none()),
            });
            if collapsed.is_some_and(|c| c.contains(&ip)) {
                continue;
            }
            let mut opened: Vec<&AlertId> = Vec::new();
            for e in entries.iter().filter(|e| e.ip == ip) {
                if let Some(id) = &e.alert
                    && !opened.contains(&id)
                {
                    opened.push(id);
                }
            }
            for id in opened {
                rows.push(Row {
                    depth: 1,
                    node: Node::Alert(ip, id.clone()),
                    current: here.is_some_and(|h| h.ip == ip && h.alert.as_ref() == Some(id)),
                });
                for related in self.related_ips_of(id).unwrap_or_default() {
                    let Some(r) = related.addr() else { continue };
                    rows.push(Row {
                        depth: 2,
                        node: Node::Related {
                            ip: r,
                            visited: entries.iter().any(|e| e.ip == r),
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
            if let Some(Node::Ip(ip)) = node {
                let fold = match key.code {
                    KeyCode::Left => true,
                    KeyCode::Right => false,
                    _ => !tree.collapsed.contains(&ip),
                };
                if fold {
                    tree.collapsed.insert(ip);
                } else {
                    tree.collapsed.remove(&ip);
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
