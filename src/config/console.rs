//! The console's own tables in the configuration file: `[keys]` (key bindings by action name)
//! and `[colors]` (colours by role). Each entry is checked where it is read, so a mistake is
//! reported at its own line, like every other bad value in the file.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use ratatui::style::Color;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::app::keymap::{Action, Key, Rebinds, bindable};
use crate::app::theme::{ColorChoices, Role, parse_color};

/// `[keys]`: `copy = ["c"]`, `back = ["Backspace", "h"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeysTable(pub BTreeMap<Action, Listed>);

/// One action's keys, and where in the file they are listed (bytes), to point at a clash
/// between a profile and `[settings]` found after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub keys: Vec<Key>,
    pub at: Range<usize>,
}

/// `[colors]`: `severity_high = "lightred"`, `focus = "#00afff"`, `muted = "244"`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColorsTable(pub ColorChoices);

impl KeysTable {
    /// What the key map needs.
    pub fn rebinds(&self) -> Rebinds {
        self.0.iter().map(|(a, l)| (*a, l.keys.clone())).collect()
    }

    /// These rebinds over `base`'s, per action.
    pub fn over(self, base: &KeysTable) -> KeysTable {
        let mut merged = base.0.clone();
        merged.extend(self.0);
        KeysTable(merged)
    }

    /// A key this table (a profile's) gives to one action while `base` (`[settings]`) gives it
    /// to another the profile leaves alone: where, and what to say. Refused like a clash in one
    /// table, rather than settled quietly, because either way one action would lose a key its
    /// author chose.
    pub fn clash_with(
        &self,
        base: &KeysTable,
        line_of: impl Fn(usize) -> usize,
    ) -> Option<(usize, String)> {
        for (action, listed) in &self.0 {
            for (other, theirs) in &base.0 {
                if self.0.contains_key(other) {
                    continue;
                }
                if let Some(key) = listed.keys.iter().find(|k| theirs.keys.contains(k)) {
                    let (name, other) = (action.name(), other.name());
                    return Some((
                        listed.at.start,
                        format!(
                            "'{key}' is bound to both {name} and {other} (line {}, [settings]); \
                             a key does one thing: give {other} other keys in this profile too",
                            line_of(theirs.at.start)
                        ),
                    ));
                }
            }
        }
        None
    }
}

impl ColorsTable {
    /// These colours over `base`'s, per role.
    pub fn over(self, base: &ColorsTable) -> ColorsTable {
        let mut merged = base.0.clone();
        merged.extend(self.0);
        ColorsTable(merged)
    }
}

impl<'de> Deserialize<'de> for KeysTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(KeysVisitor)
    }
}

struct KeysVisitor;

impl<'de> Visitor<'de> for KeysVisitor {
    type Value = KeysTable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of action = [keys], e.g. copy = [\"c\"]")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeysTable, A::Error> {
        let mut listed = BTreeMap::new();
        while let Some(Named::<Action>(action)) = map.next_key()? {
            let keys = map.next_value_seed(KeyList {
                action,
                taken: &listed,
            })?;
            listed.insert(action, keys);
        }
        Ok(KeysTable(listed))
    }
}

/// A name parsed by `FromStr`, its error said where the name is.
struct Named<T>(T);

impl<'de, T: std::str::FromStr<Err = String>> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(Named).map_err(de::Error::custom)
    }
}

/// One action's keys, checked against the actions listed before it in the same table.
struct KeyList<'a> {
    action: Action,
    taken: &'a BTreeMap<Action, Listed>,
}

impl<'de> DeserializeSeed<'de> for KeyList<'_> {
    type Value = Listed;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Listed, D::Error> {
        let name = self.action.name();
        let texts = toml::Spanned::<KeyTexts>::deserialize(d)?;
        let at = texts.span();
        let mut keys = Vec::new();
        for text in &texts.get_ref().0 {
            let key = bindable(text).map_err(de::Error::custom)?;
            if let Some((other, _)) = self.taken.iter().find(|(_, l)| l.keys.contains(&key)) {
                return Err(de::Error::custom(format!(
                    "'{text}' is bound to both {} and {name} (a key does one thing)",
                    other.name()
                )));
            }
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err(de::Error::custom(format!(
                "no keys for {name} (expected at least one, e.g. {name} = [\"x\"])"
            )));
        }
        Ok(Listed { keys, at })
    }
}

/// The strings of a key list, before they are read as keys.
struct KeyTexts(Vec<String>);

impl<'de> Deserialize<'de> for KeyTexts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(KeyTextsVisitor)
    }
}

struct KeyTextsVisitor;

impl<'de> Visitor<'de> for KeyTextsVisitor {
    type Value = KeyTexts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of keys such as [\"x\", \"ctrl-d\", \"PageDown\"]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KeyTexts, A::Error> {
        let mut texts = Vec::new();
        while let Some(text) = seq.next_element::<String>()? {
            texts.push(text);
        }
        Ok(KeyTexts(texts))
    }
}

impl<'de> Deserialize<'de> for ColorsTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ColorsVisitor)
    }
}

struct ColorsVisitor;

impl<'de> Visitor<'de> for ColorsVisitor {
    type Value = ColorsTable;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of role = colour, e.g. severity_high = \"lightred\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ColorsTable, A::Error> {
        let mut choices = ColorChoices::new();
        while let Some(Named::<Role>(role)) = map.next_key()? {
            let ColorValue(color) = map.next_value()?;
            choices.insert(role, color);
        }
        Ok(ColorsTable(choices))
    }
}

/// A colour: a string in ratatui's forms, or a bare palette index (`208`), which people write.
struct ColorValue(Color);

impl<'de> Deserialize<'de> for ColorValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ColorValue(Color::Reset))
    }
}

impl Visitor<'_> for ColorValue {
    type Value = ColorValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::app::theme::COLOR_SYNTAX)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<ColorValue, E> {
        parse_color(s).map(ColorValue).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<ColorValue, E> {
        u8::try_from(n)
            .map(|i| ColorValue(Color::Indexed(i)))
            .map_err(|_| E::custom(format!("{n} is not a colour index (expected 0 to 255)")))
    }
}
