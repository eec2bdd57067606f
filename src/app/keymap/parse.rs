//! Keys and actions as a config file writes them, and keys as help shows them. Help's labels
//! parse back to the same key, so a binding copied from the `?` overlay works in the file.

use std::fmt;
use std::str::FromStr;

use crossterm::event::KeyCode;

use super::{Action, INTERRUPT, Key};
use crate::app::variant_names;

/// What a key may look like, for error messages.
pub const KEY_SYNTAX: &str = "a single character such as \"x\" or \"?\", or one of Enter, Esc, \
    Tab, Shift-Tab, Backspace, Up, Down, Left, Right, Home, End, PageUp, PageDown, Delete, \
    Insert, Space, F1 to F12; either may follow ctrl- or C-";

impl Action {
    /// Every action, in declaration order.
    pub fn all() -> impl Iterator<Item = Action> {
        variant_names::all()
    }

    /// Its name in the config file: serde's snake_case of the variant.
    pub fn name(self) -> &'static str {
        // Serde lists the variants in declaration order, which is their discriminants' order.
        variant_names::names::<Self>()[self as usize]
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        variant_names::parse(s).ok_or_else(|| {
            format!(
                "unknown action '{s}' (expected one of {})",
                variant_names::names::<Self>().join(", ")
            )
        })
    }
}

/// Named keys, lower-case, with the spellings help uses among them.
const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("return", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("escape", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("shift-tab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("bksp", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("↑", KeyCode::Up),
    ("down", KeyCode::Down),
    ("↓", KeyCode::Down),
    ("left", KeyCode::Left),
    ("←", KeyCode::Left),
    ("right", KeyCode::Right),
    ("→", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pgup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("pgdn", KeyCode::PageDown),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("ins", KeyCode::Insert),
    ("space", KeyCode::Char(' ')),
];

impl FromStr for Key {
    type Err = String;

    /// `x`, `?`, `Enter`, `PageDown`, `F5`, `ctrl-d`, `C-u`. Names ignore case; a single
    /// character does not (`X` is Shift-x).
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a key (expected {KEY_SYNTAX})");
        let prefix = ["ctrl-", "c-"].into_iter().find(|p| {
            s.len() > p.len() && s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p))
        });
        let (ctrl, rest) = match prefix {
            Some(p) => (true, &s[p.len()..]),
            None => (false, s),
        };
        let name = rest.to_lowercase();
        let code = if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == name) {
            *code
        } else if let Some(n) = (1..=12u8).find(|n| name == format!("f{n}")) {
            KeyCode::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                // Ctrl with a letter arrives lower-case whatever Shift did.
                (Some(ch), None) if ctrl => KeyCode::Char(ch.to_ascii_lowercase()),
                (Some(ch), None) => KeyCode::Char(ch),
                _ => return Err(bad()),
            }
        };
        Ok(Key { code, ctrl })
    }
}

/// A key a config file may bind: any key but Ctrl-C.
pub fn bindable(s: &str) -> Result<Key, String> {
    let key: Key = s.parse()?;
    if key == INTERRUPT {
        return Err(format!("'{s}' is reserved: Ctrl-C always quits"));
    }
    Ok(key)
}

impl fmt::Display for Key {
    /// Help's spelling, short for its narrow key column: `C-d`, `PgDn`, `Bksp`, `←`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("C-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Bksp"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        s.parse().unwrap()
    }

    #[test]
    fn characters_names_and_ctrl() {
        assert_eq!(key("x"), Key::plain(KeyCode::Char('x')));
        assert_eq!(key("X"), Key::plain(KeyCode::Char('X')));
        assert_eq!(key("?"), Key::plain(KeyCode::Char('?')));
        assert_eq!(key("c"), Key::plain(KeyCode::Char('c')));
        assert_eq!(key("-"), Key::plain(KeyCode::Char('-')));
        assert_eq!(key(" "), key("Space"));
        assert_eq!(key("enter"), Key::plain(KeyCode::Enter));
        assert_eq!(key("Shift-Tab"), key("BackTab"));
        assert_eq!(key("PAGEDOWN"), Key::plain(KeyCode::PageDown));
        assert_eq!(key("F12"), Key::plain(KeyCode::F(12)));
        assert_eq!(key("f"), Key::plain(KeyCode::Char('f')));
        assert_eq!(key("ctrl-d"), Key::ctrl('d'));
        assert_eq!(key("C-D"), Key::ctrl('d'));
        assert_eq!(
            key("Ctrl-Up"),
            Key {
                code: KeyCode::Up,
                ctrl: true
            }
        );
        assert_eq!(key("C--"), Key::ctrl('-'));
    }

    #[test]
    fn bad_keys_say_what_a_key_looks_like() {
        for bad in [
            "", "ctrl-", "C-", "F13", "F0", "F01", "shift-x", "PageDn", "xy", "alt-x",
        ] {
            let err = bad.parse::<Key>().unwrap_err();
            assert!(
                err.contains("is not a key (expected a single character"),
                "{bad}: {err}"
            );
        }
        assert!(bindable("ctrl-c").unwrap_err().contains("reserved"));
        assert!(bindable("C-C").unwrap_err().contains("reserved"));
        assert_eq!(bindable("c"), Ok(Key::plain(KeyCode::Char('c'))));
    }

    #[test]
    fn labels_parse_back_to_their_key() {
        for b in super::super::Keymap::default().bindings() {
            for k in &b.keys {
                assert_eq!(key(&k.to_string()), *k, "{k}");
            }
        }
        for k in ["Space", "F5", "Del", "Ins", "C-↑", "Esc", "Home", "End"] {
            assert_eq!(key(k).to_string(), k);
        }
    }

    #[test]
    fn action_names_are_snake_case_and_round_trip() {
        let names: Vec<&str> = Action::all().map(Action::name).collect();
        assert_eq!(names.len(), 28);
        assert_eq!(names[..4], ["quit", "help", "focus_input", "submit"]);
        assert!(names.contains(&"page_down") && names.contains(&"prev_pane"));
        assert!(
            names.contains(&"period"),
            "the prevalence period's key is rebindable"
        );
        for action in Action::all() {
            assert_eq!(action.name().parse::<Action>(), Ok(action));
        }
        let err = "copyy".parse::<Action>().unwrap_err();
        assert!(err.starts_with("unknown action 'copyy' (expected one of quit, help, focus_input"));
    }
}
