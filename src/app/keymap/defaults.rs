//! The default keys and their help lines, in the order of the help overlay and of README's key
//! table (a test keeps README equal to this).

use crossterm::event::KeyCode;

use super::{Action, INTERRUPT, Key};

const fn c(ch: char) -> Key {
    Key::plain(KeyCode::Char(ch))
}

const fn k(code: KeyCode) -> Key {
    Key::plain(code)
}

/// The defaults, in the order of the help overlay (and README's key table).
pub(super) static DEFAULTS: &[(Action, &[Key], &str)] = &[
    (
        Action::FocusInput,
        &[c('i'), c('/')],
        "type an IP (/ in the alerts table filters it)",
    ),
    (
        Action::Submit,
        &[k(KeyCode::Enter)],
        "look up IP · open alert · pivot to IP",
    ),
    (Action::NextPane, &[k(KeyCode::Tab)], "next pane"),
    (Action::PrevPane, &[k(KeyCode::BackTab)], "previous pane"),
    (Action::Down, &[c('j'), k(KeyCode::Down)], "move down"),
    (Action::Up, &[c('k'), k(KeyCode::Up)], "move up"),
    (
        Action::PageDown,
        &[k(KeyCode::PageDown), Key::ctrl('d')],
        "page down",
    ),
    (
        Action::PageUp,
        &[k(KeyCode::PageUp), Key::ctrl('u')],
        "page up",
    ),
    (Action::Top, &[k(KeyCode::Home)], "first row"),
    (Action::Bottom, &[k(KeyCode::End)], "last row"),
    (
        Action::Back,
        &[k(KeyCode::Backspace), c('['), k(KeyCode::Left)],
        "back along the trail (no API call)",
    ),
    (
        Action::Forward,
        &[c(']'), k(KeyCode::Right)],
        "forward along the trail (no API call)",
    ),
    (
        Action::Refresh,
        &[c('r')],
        "refresh what is on screen from the API",
    ),
    (
        Action::Sort,
        &[c('s')],
        "sort alerts: newest, severity, status",
    ),
    (
        Action::Period,
        &[c('p')],
        "prevalence period: 1 day, 7 days, 30 days",
    ),
    (
        Action::Copy,
        &[c('y')],
        "copy the selected IP or alert id (OSC 52)",
    ),
    (
        Action::Open,
        &[c('o')],
        "open the selected IP or alert in the portal",
    ),
    (
        Action::Device,
        &[c('d')],
        "the alert's device: its record and its alerts",
    ),
    (
        Action::HeldAt,
        &[c('w')],
        "which device held this internal IP at a time you type",
    ),
    (
        Action::Tree,
        &[c('g')],
        "investigation tree: IPs, devices and alerts visited",
    ),
    (
        Action::Note,
        &[c('n')],
        "note on the selected IP, alert or device",
    ),
    (
        Action::Tag,
        &[c('t')],
        "tag it: malicious, suspicious, benign, …",
    ),
    (Action::Export, &[c('e')], "export the case as Markdown"),
    (
        Action::Budget,
        &[c('b')],
        "budget per endpoint: windows, calls, 429s, pauses",
    ),
    (Action::Help, &[c('?')], "this help"),
    (
        Action::Dismiss,
        &[k(KeyCode::Esc)],
        "close a popup · leave the input",
    ),
    (
        Action::Suspend,
        &[Key::ctrl('z')],
        "suspend to the shell (fg comes back)",
    ),
    (
        Action::Quit,
        &[c('q'), INTERRUPT],
        "quit (C-c works anywhere)",
    ),
];
