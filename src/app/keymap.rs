//! Key bindings: the defaults with the config file's rebinds applied, one map that both
//! dispatch and the help overlay read, so help shows the keys that really act.

mod defaults;
mod parse;

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use defaults::DEFAULTS;
pub use parse::{KEY_SYNTAX, bindable};

/// What a key asks for. A config file names it by [`Action::name`] (serde's snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    Period,
    Copy,
    Open,
    Tree,
    Device,
    HeldAt,
    Export,
    Budget,
    Dismiss,
    Suspend,
}

/// A key: its code, and whether Ctrl must be held. Shift is not part of it: terminals differ
/// on reporting it, so `?` is the character, whatever it took to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Self {
        Self { code, ctrl: false }
    }

    pub const fn ctrl(ch: char) -> Self {
        Self {
            code: KeyCode::Char(ch),
            ctrl: true,
        }
    }

    /// The key a press stands for (Alt combinations stand for none).
    pub fn pressed(event: &KeyEvent) -> Option<Self> {
        if event.modifiers.contains(KeyModifiers::ALT) {
            return None;
        }
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let code = match event.code {
            // Ctrl-D and Ctrl-Shift-D are one key to a legacy terminal; bindings hold the former.
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            code => code,
        };
        Some(Self { code, ctrl })
    }
}

/// Ctrl-C: it always quits, from anywhere, and no config can take it.
pub const INTERRUPT: Key = Key::ctrl('c');

/// One action and the keys that do it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    /// Empty when a rebind took every key this action had.
    pub keys: Vec<Key>,
    pub help: &'static str,
}

impl Binding {
    /// How help writes the keys: `Bksp [ ←`, `PgDn C-d`, or `unbound`.
    pub fn label(&self) -> String {
        if self.keys.is_empty() {
            return "unbound".to_owned();
        }
        let labels: Vec<String> = self.keys.iter().map(Key::to_string).collect();
        labels.join(" ")
    }
}

/// Actions given new keys, as the config file's `[keys]` tables say.
pub type Rebinds = BTreeMap<Action, Vec<Key>>;

/// The key map in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            bindings: DEFAULTS
                .iter()
                .map(|&(action, keys, help)| Binding {
                    action,
                    keys: keys.to_vec(),
                    help,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with `rebinds` applied: a listed action's keys replace its defaults, and a
    /// key it claims leaves whichever action had it, so one key never means two things. The
    /// config refuses a key claimed twice and Ctrl-C; here they are settled quietly anyway
    /// (the later action in `Action` order wins; Ctrl-C stays with quit).
    pub fn with_rebinds(rebinds: &Rebinds) -> Self {
        let mut map = Self::default();
        for (action, keys) in rebinds {
            for b in &mut map.bindings {
                b.keys.retain(|k| !keys.contains(k));
                if b.action == *action {
                    b.keys = keys.iter().copied().filter(|k| *k != INTERRUPT).collect();
                }
            }
        }
        if let Some(quit) = map.bindings.iter_mut().find(|b| b.action == Action::Quit)
            && !quit.keys.contains(&INTERRUPT)
        {
            quit.keys.push(INTERRUPT);
        }
        map
    }

    /// In help order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    pub fn keys_of(&self, action: Action) -> &[Key] {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .map_or(&[], |b| &b.keys)
    }

    /// The key a hint on screen names for `action`: its first key as help writes it (`Esc`,
    /// `C-d`), so a rebind shows where it matters. Unbound, the action's name in the config
    /// file (`<refresh>`), which says what to bind.
    pub fn hint(&self, action: Action) -> String {
        self.keys_of(action)
            .first()
            .map_or_else(|| format!("<{}>", action.name()), Key::to_string)
    }

    /// `Esc or ?`: the first key of each of `actions` that has one; `None` when none has.
    pub fn either(&self, actions: &[Action]) -> Option<String> {
        let keys: Vec<String> = actions
            .iter()
            .filter_map(|a| self.keys_of(*a).first().map(Key::to_string))
            .collect();
        (!keys.is_empty()).then(|| keys.join(" or "))
    }

    /// The action bound to a key press, if any.
    pub fn action_for(&self, event: &KeyEvent) -> Option<Action> {
        let key = Key::pressed(event)?;
        self.bindings
            .iter()
            .find(|b| b.keys.contains(&key))
            .map(|b| b.action)
    }
}

/// Ctrl-C quits from anywhere, the input box included.
pub fn is_interrupt(event: &KeyEvent) -> bool {
    event.modifiers.contains(KeyModifiers::CONTROL) && event.code == KeyCode::Char('c')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(ch: char) -> Key {
        Key::plain(KeyCode::Char(ch))
    }

    fn k(code: KeyCode) -> Key {
        Key::plain(code)
    }

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn every_action_has_a_default_key_and_keys_are_unique() {
        let map = Keymap::default();
        let mut seen = Vec::new();
        for action in Action::all() {
            assert!(!map.keys_of(action).is_empty(), "{action:?}");
        }
        for b in map.bindings() {
            for key in &b.keys {
                assert!(!seen.contains(key), "{key:?} bound twice");
                seen.push(*key);
            }
        }
        assert_eq!(map.bindings().len(), Action::all().count());
    }

    #[test]
    fn lookup_respects_ctrl_and_ignores_shift() {
        let map = Keymap::default();
        let q = press(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action_for(&q), Some(Action::Quit));
        let cd = press(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(map.action_for(&cd), Some(Action::PageDown));
        let shifted = press(
            KeyCode::Char('D'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(map.action_for(&shifted), Some(Action::PageDown));
        let d = press(KeyCode::Char('d'), KeyModifiers::NONE);
        assert_eq!(map.action_for(&d), Some(Action::Device));
        let x = press(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(map.action_for(&x), None);
        let help = press(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(map.action_for(&help), Some(Action::Help));
        let alt = press(KeyCode::Char('q'), KeyModifiers::ALT);
        assert_eq!(map.action_for(&alt), None);
    }

    #[test]
    fn a_rebind_replaces_defaults_and_takes_its_keys_from_others() {
        let rebinds = Rebinds::from([
            (Action::Copy, vec![c('c')]),
            (Action::Back, vec![k(KeyCode::Backspace), c('h')]),
            (Action::Note, vec![c('y')]),
        ]);
        let map = Keymap::with_rebinds(&rebinds);
        assert_eq!(map.keys_of(Action::Copy), &[c('c')]);
        assert_eq!(map.keys_of(Action::Note), &[c('y')], "y left copy for note");
        assert_eq!(map.keys_of(Action::Back), &[k(KeyCode::Backspace), c('h')]);
        let bindings = map.bindings();
        let back = bindings.iter().find(|b| b.action == Action::Back).unwrap();
        assert_eq!(back.label(), "Bksp h");
        // `[` and ← were back's defaults: replaced, so they do nothing now.
        let bracket = press(KeyCode::Char('['), KeyModifiers::NONE);
        assert_eq!(map.action_for(&bracket), None);
    }

    #[test]
    fn ctrl_c_stays_with_quit_and_a_key_can_leave_an_action_unbound() {
        let map = Keymap::with_rebinds(&Rebinds::from([
            (Action::Quit, vec![c('x')]),
            (Action::Export, vec![c('?')]),
        ]));
        assert_eq!(map.keys_of(Action::Quit), &[c('x'), INTERRUPT]);
        let help = map.bindings().iter().find(|b| b.action == Action::Help);
        assert_eq!(help.unwrap().label(), "unbound");
    }

    #[test]
    fn hints_name_the_first_key_in_force() {
        let map = Keymap::default();
        assert_eq!(map.hint(Action::Help), "?");
        assert_eq!(map.hint(Action::PageDown), "PgDn");
        assert_eq!(
            map.either(&[Action::Dismiss, Action::Budget]).as_deref(),
            Some("Esc or b")
        );
        let map = Keymap::with_rebinds(&Rebinds::from([
            (Action::Budget, vec![k(KeyCode::F(2)), c('b')]),
            (Action::Export, vec![k(KeyCode::Esc), c('r')]),
        ]));
        assert_eq!(map.hint(Action::Budget), "F2");
        assert_eq!(map.hint(Action::Refresh), "<refresh>", "r went to export");
        assert_eq!(
            map.either(&[Action::Dismiss, Action::Budget]).as_deref(),
            Some("F2"),
            "Esc went to export"
        );
        assert_eq!(map.either(&[Action::Dismiss, Action::Refresh]), None);
    }

    #[test]
    fn default_labels_are_those_of_the_readme() {
        let labels: Vec<String> = Keymap::default()
            .bindings()
            .iter()
            .map(Binding::label)
            .collect();
        assert!(labels.contains(&"Bksp [ ←".to_owned()), "{labels:?}");
        assert!(labels.contains(&"PgDn C-d".to_owned()), "{labels:?}");
        assert!(labels.contains(&"Shift-Tab".to_owned()), "{labels:?}");
        assert!(labels.contains(&"q C-c".to_owned()), "{labels:?}");
    }
}
