//! Key bindings: one table that both dispatch and the help overlay read, so help never drifts.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for. Named so a config file can rebind by name later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    FocusInput,
    Submit,
    NextPane,
    PrevPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Back,
    Forward,
    Refresh,
    Note,
    Tag,
    Sort,
    Copy,
    Open,
    Tree,
    Export,
    Budget,
    Dismiss,
}

/// A key: its code, and whether Ctrl must be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn k(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn c(ch: char) -> Key {
    Key {
        code: KeyCode::Char(ch),
        ctrl: false,
    }
}

const fn ctrl(ch: char) -> Key {
    Key {
        code: KeyCode::Char(ch),
        ctrl: true,
    }
}

/// One row of the key map.
#[derive(Debug)]
pub struct Binding {
    pub action: Action,
    pub keys: &'static [Key],
    /// How the keys are written in help.
    pub label: &'static str,
    pub help: &'static str,
}

/// The key map. Order is the order of the help overlay.
pub static KEYMAP: &[Binding] = &[
    Binding {
        action: Action::FocusInput,
        keys: &[c('i'), c('/')],
        label: "i /",
        help: "type an IP (/ in the alerts table filters it)",
    },
    Binding {
        action: Action::Submit,
        keys: &[k(KeyCode::Enter)],
        label: "Enter",
        help: "look up IP · open alert · pivot to IP",
    },
    Binding {
        action: Action::NextPane,
        keys: &[k(KeyCode::Tab)],
        label: "Tab",
        help: "next pane",
    },
    Binding {
        action: Action::PrevPane,
        keys: &[k(KeyCode::BackTab)],
        label: "Shift-Tab",
        help: "previous pane",
    },
    Binding {
        action: Action::Down,
        keys: &[c('j'), k(KeyCode::Down)],
        label: "j ↓",
        help: "move down",
    },
    Binding {
        action: Action::Up,
        keys: &[c('k'), k(KeyCode::Up)],
        label: "k ↑",
        help: "move up",
    },
    Binding {
        action: Action::PageDown,
        keys: &[k(KeyCode::PageDown), ctrl('d')],
        label: "PgDn C-d",
        help: "page down",
    },
    Binding {
        action: Action::PageUp,
        keys: &[k(KeyCode::PageUp), ctrl('u')],
        label: "PgUp C-u",
        help: "page up",
    },
    Binding {
        action: Action::Top,
        keys: &[k(KeyCode::Home)],
        label: "Home",
        help: "first row",
    },
    Binding {
        action: Action::Bottom,
        keys: &[k(KeyCode::End)],
        label: "End",
        help: "last row",
    },
    Binding {
        action: Action::Back,
        keys: &[k(KeyCode::Backspace), c('['), k(KeyCode::Left)],
        label: "Bksp [ ←",
        help: "back along the trail (no API call)",
    },
    Binding {
        action: Action::Forward,
        keys: &[c(']'), k(KeyCode::Right)],
        label: "] →",
        help: "forward along the trail (no API call)",
    },
    Binding {
        action: Action::Refresh,
        keys: &[c('r')],
        label: "r",
        help: "refresh what is on screen from the API",
    },
    Binding {
        action: Action::Sort,
        keys: &[c('s')],
        label: "s",
        help: "sort alerts: newest, severity, status",
    },
    Binding {
        action: Action::Copy,
        keys: &[c('y')],
        label: "y",
        help: "copy the selected IP or alert id (OSC 52)",
    },
    Binding {
        action: Action::Open,
        keys: &[c('o')],
        label: "o",
        help: "open the selected IP or alert in the portal",
    },
    Binding {
        action: Action::Tree,
        keys: &[c('g')],
        label: "g",
        help: "investigation tree: every IP and alert visited",
    },
    Binding {
        action: Action::Note,
        keys: &[c('n')],
        label: "n",
        help: "note on the selected IP or alert",
    },
    Binding {
        action: Action::Tag,
        keys: &[c('t')],
        label: "t",
        help: "tag it: malicious, suspicious, benign, …",
    },
    Binding {
        action: Action::Export,
        keys: &[c('e')],
        label: "e",
        help: "export the case as Markdown",
    },
    Binding {
        action: Action::Budget,
        keys: &[c('b')],
        label: "b",
        help: "budget per endpoint: windows, calls, 429s, pauses",
    },
    Binding {
        action: Action::Help,
        keys: &[c('?')],
        label: "?",
        help: "this help",
    },
    Binding {
        action: Action::Dismiss,
        keys: &[k(KeyCode::Esc)],
        label: "Esc",
        help: "close a popup · leave the input",
    },
    Binding {
        action: Action::Quit,
        keys: &[c('q'), ctrl('c')],
        label: "q C-c",
        help: "quit (C-c works anywhere)",
    },
];

/// The action bound to a key press, ignoring Shift (terminals differ on reporting it).
pub fn action_for(event: &KeyEvent) -> Option<Action> {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    if event.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    KEYMAP
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|key| key.code == event.code && key.ctrl == ctrl)
        })
        .map(|b| b.action)
}

/// Ctrl-C quits from anywhere, the input box included.
pub fn is_interrupt(event: &KeyEvent) -> bool {
    event.modifiers.contains(KeyModifiers::CONTROL) && event.code == KeyCode::Char('c')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_key_and_keys_are_unique() {
        let mut seen = Vec::new();
        for b in KEYMAP {
            assert!(!b.keys.is_empty(), "{:?}", b.action);
            for key in b.keys {
                assert!(!seen.contains(key), "{key:?} bound twice");
                seen.push(*key);
            }
        }
    }

    #[test]
    fn lookup_respects_ctrl() {
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(action_for(&q), Some(Action::Quit));
        let cd = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(action_for(&cd), Some(Action::PageDown));
        let d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE);
        assert_eq!(action_for(&d), None);
        let help = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&help), Some(Action::Help));
    }
}
