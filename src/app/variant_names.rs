//! The names of a unit enum's variants as its serde derive spells them (`rename_all`), so an
//! enum named in the config file (`Action`, `Role`) lists its variants once, in its own body.

use serde::de::value::{Error, StrDeserializer};
use serde::de::{DeserializeOwned, Deserializer, Error as _, IntoDeserializer, Visitor};

/// Every variant's name, in declaration order: the list serde's derive hands to
/// `deserialize_enum`, asked of a deserializer that only listens for it.
pub fn names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut heard = None;
    let _ = T::deserialize(Listener(&mut heard));
    heard.expect("the type derives Deserialize for an enum")
}

/// The variant named `name`, as the config file writes it.
pub fn parse<T: DeserializeOwned>(name: &str) -> Option<T> {
    let d: StrDeserializer<'_, Error> = name.into_deserializer();
    T::deserialize(d).ok()
}

/// Every variant, in declaration order.
pub fn all<T: DeserializeOwned>() -> impl Iterator<Item = T> {
    names::<T>()
        .iter()
        .map(|name| parse(name).expect("a variant's own name parses"))
}

/// Keeps the variant names an enum's derived `Deserialize` offers, and refuses everything.
struct Listener<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for Listener<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(Error::custom("not an enum"))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        *self.0 = Some(variants);
        Err(Error::custom("only listening"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Shade {
        Light,
        DarkGray,
        #[serde(rename = "ink")]
        Black,
    }

    #[test]
    fn names_are_serde_s_in_declaration_order() {
        assert_eq!(names::<Shade>(), ["light", "dark_gray", "ink"]);
        assert_eq!(parse::<Shade>("dark_gray"), Some(Shade::DarkGray));
        assert_eq!(parse::<Shade>("black"), None);
        let all: Vec<Shade> = all().collect();
        assert_eq!(all, [Shade::Light, Shade::DarkGray, Shade::Black]);
    }
}
