//! Reads the API's loosely typed JSON one field at a time. A field of an unexpected type costs
//! that field alone (kept as unknown, or read the nearest honest way: `"4242"` as 4242), never
//! its record or the record's neighbours in a list; every odd field is noted with its name.
//!
//! The model's `Deserialize` impls go through here too, so the cache and the simulator's
//! dataset read exactly as the API's answers do.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::sanitize::clean;

/// A field that did not carry the type the model expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OddField {
    /// The JSON name, with its path inside the record: `comments[1].createdTime`.
    pub field: String,
    /// The JSON type found: `null`, `boolean`, `number`, `string`, `list` or `object`.
    pub found: &'static str,
    /// Whether a value was still read from it (`"4242"` as 4242) or it was left unknown.
    pub kept: bool,
}

/// One JSON object being read, and the odd fields met so far (nested records included).
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
    pub odd: Vec<OddField>,
}

/// The JSON type of `v`, as the notes name it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self {
            map,
            path: String::new(),
            odd: Vec::new(),
        }
    }

    fn nested(&self, map: &'a Map<String, Value>, path: String) -> Self {
        Self {
            map,
            path,
            odd: Vec::new(),
        }
    }

    /// The field's value; `null` reads as absent, which every field allows.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn note(&mut self, name: &str, found: &Value, kept: bool) {
        let field = if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        };
        self.odd.push(OddField {
            field,
            found: type_name(found),
            kept,
        });
    }

    /// Text; a number or boolean is kept as its JSON text, a list of scalars joined.
    pub fn opt_text(&mut self, name: &str) -> Option<String> {
        let v = self.get(name)?;
        match v {
            Value::String(s) => Some(clean(s)),
            Value::Number(_) | Value::Bool(_) => {
                self.note(name, v, true);
                Some(v.to_string())
            }
            Value::Array(items) if items.iter().all(is_scalar) => {
                self.note(name, v, true);
                Some(clean(
                    &items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
                ))
            }
            _ => {
                self.note(name, v, false);
                None
            }
        }
    }

    pub fn text(&mut self, name: &str) -> String {
        self.opt_text(name).unwrap_or_default()
    }

    /// An identifier the docs type as a String and the API sends as a number
    /// (`rbacGroupId`: `140`): both are normal, neither is noted.
    pub fn id_text(&mut self, name: &str) -> Option<String> {
        match self.get(name)? {
            Value::Number(n) => Some(n.to_string()),
            _ => self.opt_text(name),
        }
    }

    /// A boolean, sent as `true` or `"true"`; anything else is unknown.
    pub fn flag(&mut self, name: &str) -> Option<bool> {
        let v = self.get(name)?;
        let read = match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.trim().to_ascii_lowercase().parse().ok(),
            _ => None,
        };
        if !v.is_boolean() {
            self.note(name, v, read.is_some());
        }
        read
    }

    /// A non-negative count, sent as `63515` or `"63515"`.
    pub fn count(&mut self, name: &str) -> Option<u64> {
        let v = self.get(name)?;
        let read = match v {
            Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if read.is_none() || !v.is_number() {
            self.note(name, v, read.is_some());
        }
        read
    }

    /// A signed integer, sent as a number or a string of digits.
    pub fn int(&mut self, name: &str) -> Option<i64> {
        let v = self.get(name)?;
        let read = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if read.is_none() || !v.is_number() {
            self.note(name, v, read.is_some());
        }
        read
    }

    /// RFC 3339 with any number of fractional digits; a zone-less time is taken as UTC.
    /// Anything else is unknown: a bare number could be seconds or milliseconds.
    pub fn time(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let v = self.get(name)?;
        let read = v.as_str().and_then(parse_time);
        if read.is_none() {
            self.note(name, v, false);
        }
        read
    }

    /// A list of strings; one comma-separated string (the documented type of
    /// `mitreTechniques`) is split.
    pub fn text_list(&mut self, name: &str) -> Vec<String> {
        let Some(v) = self.get(name) else {
            return Vec::new();
        };
        match v {
            Value::Array(items) => {
                if !items.iter().all(|i| i.is_string() || i.is_null()) {
                    self.note(name, v, true);
                }
                items
                    .iter()
                    .filter(|i| is_scalar(i) && !i.is_null())
                    .map(|i| clean(&scalar_text(i)))
                    .collect()
            }
            Value::String(s) => s
                .split(',')
                .map(|t| clean(t.trim()))
                .filter(|t| !t.is_empty())
                .collect(),
            _ => {
                self.note(name, v, false);
                Vec::new()
            }
        }
    }

    /// A nested record; `scalar` reads the nearest honest meaning of a bare string.
    pub fn record<T>(
        &mut self,
        name: &str,
        read: fn(&mut Fields<'_>) -> T,
        scalar: Option<fn(String) -> T>,
    ) -> Option<T> {
        let v = self.get(name)?;
        match (v, scalar) {
            (Value::Object(map), _) => Some(self.read_nested(map, name.to_owned(), read)),
            (Value::String(s), Some(from)) => {
                self.note(name, v, true);
                Some(from(clean(s)))
            }
            _ => {
                self.note(name, v, false);
                None
            }
        }
    }

    /// A list of nested records; one record where a list was expected is read as a list of
    /// one, and an element that is no record is noted and left out.
    pub fn records<T>(
        &mut self,
        name: &str,
        read: fn(&mut Fields<'_>) -> T,
        scalar: Option<fn(String) -> T>,
    ) -> Vec<T> {
        let Some(v) = self.get(name) else {
            return Vec::new();
        };
        match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{name}[{i}]");
                    match (item, scalar) {
                        (Value::Object(map), _) => out.push(self.read_nested(map, path, read)),
                        (Value::Null, _) => {}
                        (Value::String(s), Some(from)) => {
                            self.note(&path, item, true);
                            out.push(from(clean(s)));
                        }
                        _ => self.note(&path, item, false),
                    }
                }
                out
            }
            Value::Object(map) => {
                self.note(name, v, true);
                vec![self.read_nested(map, name.to_owned(), read)]
            }
            Value::String(s) if scalar.is_some() => {
                self.note(name, v, true);
                scalar.map(|from| vec![from(clean(s))]).unwrap_or_default()
            }
            _ => {
                self.note(name, v, false);
                Vec::new()
            }
        }
    }

    /// An open enum's text; a number is kept as its text (an unknown value, shown as sent).
    pub fn open<T: for<'s> From<&'s str> + Default>(&mut self, name: &str) -> T {
        self.opt_text(name)
            .map(|s| T::from(s.as_str()))
            .unwrap_or_default()
    }

    fn read_nested<T>(
        &mut self,
        map: &'a Map<String, Value>,
        name: String,
        read: fn(&mut Fields<'_>) -> T,
    ) -> T {
        let path = if self.path.is_empty() {
            name
        } else {
            format!("{}.{name}", self.path)
        };
        let mut inner = self.nested(map, path);
        let value = read(&mut inner);
        self.odd.append(&mut inner.odd);
        value
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// For serde-derived answers (tokens, device codes): a non-negative count sent as `3599` or
/// `"3599"`; anything else reads as absent.
pub fn opt_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    use serde::Deserialize as _;
    let v = Value::deserialize(d)?;
    let map = Map::from_iter([("n".to_owned(), v)]);
    Ok(Fields::new(&map).count("n"))
}

/// Reads one record with `read`, logging its odd fields under `what` (e.g. "alert 1234").
pub fn read_logged<T>(
    map: &Map<String, Value>,
    read: fn(&mut Fields<'_>) -> T,
) -> (T, Vec<OddField>) {
    let mut fields = Fields::new(map);
    let value = read(&mut fields);
    (value, fields.odd)
}

/// Implements `Deserialize` for a model type through its field reader: a record must be a JSON
/// object; inside it nothing fails.
macro_rules! deserialize_via_fields {
    ($ty:ty, $read:path) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match serde_json::Value::deserialize(d)? {
                    serde_json::Value::Object(map) => {
                        Ok($crate::defender::fields::read_logged(&map, $read).0)
                    }
                    other => Err(serde::de::Error::custom(format!(
                        "expected an object, found {}",
                        $crate::defender::fields::type_name(&other)
                    ))),
                }
            }
        }
    };
}
pub(crate) use deserialize_via_fields;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with<T>(v: Value, f: impl FnOnce(&mut Fields<'_>) -> T) -> (T, Vec<OddField>) {
        let map = v.as_object().unwrap().clone();
        let mut fields = Fields::new(&map);
        let out = f(&mut fields);
        (out, fields.odd)
    }

    #[test]
    fn numbers_sent_as_strings_are_read_and_noted() {
        let (n, odd) = with(json!({"incidentId": "4242"}), |f| f.int("incidentId"));
        assert_eq!(n, Some(4242));
        assert_eq!(odd[0].field, "incidentId");
        assert_eq!(odd[0].found, "string");
        assert!(odd[0].kept);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_unknown_and_noted() {
        let (t, odd) = with(json!({"title": {"x": 1}}), |f| f.opt_text("title"));
        assert_eq!(t, None);
        assert_eq!(odd.len(), 1);
        assert!(!odd[0].kept);
        let (t, odd) = with(json!({"title": null}), |f| f.opt_text("title"));
        assert_eq!((t, odd.len()), (None, 0), "null is absent, not odd");
    }

    #[test]
    fn nested_paths_are_named() {
        let (n, odd) = with(json!({"comments": [{"createdTime": 5}, 7]}), |f| {
            f.records(
                "comments",
                |f| f.time("createdTime"),
                None::<fn(String) -> Option<DateTime<Utc>>>,
            )
        });
        assert_eq!(n.len(), 1);
        let names: Vec<_> = odd.iter().map(|o| o.field.as_str()).collect();
        assert_eq!(names, ["comments[0].createdTime", "comments[1]"]);
    }
}
