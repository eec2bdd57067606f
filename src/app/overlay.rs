//! Whatever popup holds the keys, as one value: at most one is open, and keys, the mouse and
//! drawing all read it first (`popup` routes input to its handler, `ui` draws it). A popup is
//! one arm here, its handler, and its draw function.

use std::collections::BTreeSet;
use std::net::IpAddr;

use tui_input::Input;

use crate::case::Target;

/// The popup that holds the keys, with its own state.
#[derive(Debug, Clone, Default)]
pub enum Overlay {
    #[default]
    None,
    /// `?`: the keys.
    Help,
    /// `b`: the budget per endpoint.
    Budget,
    /// `g`: the investigation tree.
    Tree(TreeView),
    /// A note or tag being typed.
    Editor(Editor),
    /// Several IPs pasted at once, waiting for Enter (look them all up) or Esc, with what the
    /// paste held (`3 IPs found · 1 skipped: …`). Drawn in the input box and the status bar:
    /// the panes stay in view and clicks reach them.
    Paste(Vec<IpAddr>, String),
}

impl Overlay {
    /// Whether it is drawn over the panes, which then lose their focus highlight.
    pub fn covers_panes(&self) -> bool {
        match self {
            Self::None | Self::Paste(..) => false,
            Self::Help | Self::Budget | Self::Tree(_) | Self::Editor(_) => true,
        }
    }

    pub fn tree(&self) -> Option<&TreeView> {
        match self {
            Self::Tree(tree) => Some(tree),
            _ => None,
        }
    }

    pub fn editor(&self) -> Option<&Editor> {
        match self {
            Self::Editor(editor) => Some(editor),
            _ => None,
        }
    }

    /// What a paste waiting for an answer held, found and skipped.
    pub fn paste_said(&self) -> Option<&str> {
        match self {
            Self::Paste(_, said) => Some(said),
            _ => None,
        }
    }

    /// The IPs of a paste waiting for an answer.
    pub fn pasted(&self) -> Option<&Vec<IpAddr>> {
        match self {
            Self::Paste(ips, _) => Some(ips),
            _ => None,
        }
    }
}

/// The tree's own state while it is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeView {
    /// The row under the cursor.
    pub row: usize,
    /// IPs and devices whose alerts are folded away.
    pub collapsed: BTreeSet<super::history::Subject>,
}

/// A small editor over the panes.
#[derive(Debug, Clone)]
pub enum Editor {
    /// A note; its text is saved as a draft on every change.
    Note { target: Target, input: Input },
    /// A tag: 1–4 pick a verdict, or type one.
    Tag { target: Target, input: Input },
    /// The time to ask which device held an internal IP at (findbyip).
    HeldAt { ip: std::net::IpAddr, input: Input },
}
