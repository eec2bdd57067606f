//! serde helpers for the API's loose typing: sanitised strings, counts as numbers or strings,
//! timestamps that may be null or odd. Never fail a whole response over one odd field.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serializer};

use super::sanitize::clean;

pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|s| clean(&s))
        .unwrap_or_default())
}

pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| clean(&s)))
}

pub fn text_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<Option<String>>),
        One(String),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::Many(v)) => v.into_iter().flatten().map(|s| clean(&s)).collect(),
        // A single comma-separated string, as the docs' type would suggest.
        Some(OneOrMany::One(s)) => s
            .split(',')
            .map(|t| clean(t.trim()))
            .filter(|t| !t.is_empty())
            .collect(),
    })
}

/// A non-negative count sent as `63515` or `"63515"`; anything else reads as absent.
pub fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))
        }
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

pub fn count_as_string<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(n) => s.serialize_str(&n.to_string()),
        None => s.serialize_none(),
    }
}

/// RFC 3339 with any number of fractional digits; a zone-less time is taken as UTC; anything
/// unreadable becomes `None` rather than failing the response.
pub fn opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(s) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Some(t.and_utc()));
    }
    tracing::warn!(value = %clean(s), "unreadable timestamp from the API");
    Ok(None)
}
