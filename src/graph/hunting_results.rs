//! Reads a `runHuntingQuery` answer (FACTS §4.2): `schema`/`Schema` with `name`/`Name` and
//! `type`/`Type`, `results`/`Results` of open rows whose keys may be cased unlike the schema
//! (Learn's 2026 example sends `timestamp` for `Timestamp`). Rows are matched to columns by
//! name, case-insensitively. Only a body that is no hunting answer at all fails; inside one, an
//! odd row or value costs itself and is counted in a [`Caveat`], never dropped in silence.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::defender::ApiError;
use crate::defender::fields::{Fields, OddField, read_logged, type_name};
use crate::defender::sanitize::one_line;

/// Rows a hunting answer holds at most (FACTS §4.3); an answer this long may have been cut.
pub const ROW_CAP: usize = 100_000;

/// One column of the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    /// `String`, `DateTime`, `Int64`, … as sent; informative only, values are read by what
    /// they are.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// What the analyst must know about an answer beyond its rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "caveat", rename_all = "snake_case")]
pub enum Caveat {
    /// As many rows as the service ever returns: more may exist.
    RowCap { rows: usize },
    /// Rows that were no JSON object.
    UnreadRows { count: usize },
    /// Schema entries without a usable name.
    UnreadColumns { count: usize },
    /// No schema came: rows were read by their own keys.
    NoSchema,
    /// Row keys the schema does not name (at most a few names kept).
    ExtraKeys { names: Vec<String>, rows: usize },
    /// Rows lacking a column the schema names.
    MissingCells { rows: usize },
    /// Values of an unexpected type, left unknown or read the nearest honest way.
    OddValues { count: usize },
    /// Rows of a kind the reader does not know (e.g. an unknown `Part`).
    UnknownRows { count: usize },
    /// Rows without an id, which nothing can pivot from (AlertInfo's DLP rows have `""`).
    RowsWithoutId { count: usize },
    /// A part of the answer the query always yields was absent.
    MissingPart { part: String },
    /// As many rows as the query asks for: more may exist.
    QueryLimit { rows: usize },
}

impl fmt::Display for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RowCap { rows } => {
                write!(f, "{rows} rows, the service's cap: the answer may be cut")
            }
            Self::UnreadRows { count } => write!(f, "{count} row(s) could not be read"),
            Self::UnreadColumns { count } => {
                write!(f, "{count} column(s) of the schema could not be read")
            }
            Self::NoSchema => f.write_str("no schema came with the rows"),
            Self::ExtraKeys { names, rows } => write!(
                f,
                "{rows} row(s) carry keys the schema does not name ({})",
                names.join(", ")
            ),
            Self::MissingCells { rows } => write!(f, "{rows} row(s) lack some columns"),
            Self::OddValues { count } => write!(f, "{count} value(s) of an unexpected type"),
            Self::UnknownRows { count } => write!(f, "{count} row(s) of an unknown kind"),
            Self::RowsWithoutId { count } => write!(f, "{count} row(s) without an id left out"),
            Self::MissingPart { part } => write!(f, "the answer lacks its {part}"),
            Self::QueryLimit { rows } => {
                write!(f, "{rows} rows, the most asked for: more may exist")
            }
        }
    }
}

/// A hunting answer: its columns and its rows as sent, with what was odd about them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HuntingResults {
    pub columns: Vec<Column>,
    pub rows: Vec<Map<String, Value>>,
    pub caveats: Vec<Caveat>,
}

/// How many unknown key names a caveat keeps: enough to recognise, bounded for a hostile body.
const NAMES_KEPT: usize = 5;

/// Decodes a `runHuntingQuery` 200 body. Malformed JSON, a body that is no object, or one with
/// no `results` list is a Decode error that names what was wrong; nothing panics.
pub fn decode_results(body: &[u8]) -> Result<HuntingResults, ApiError> {
    let json: Value = serde_json::from_slice(body).map_err(|e| ApiError::from_json(&e, body))?;
    let Value::Object(top) = &json else {
        return Err(not_a(&json, "a hunting result object", body));
    };
    let rows = match either_case(top, "results") {
        Some(Value::Array(rows)) => rows.as_slice(),
        Some(Value::Null) => &[],
        Some(other) => return Err(not_a(other, "a 'results' list", body)),
        None => return Err(not_a(&json, "a hunting result with 'results'", body)),
    };
    let mut out = HuntingResults::default();
    match either_case(top, "schema") {
        Some(Value::Array(cols)) => {
            let mut unread = 0;
            for c in cols {
                match column(c) {
                    Some(col) => out.columns.push(col),
                    None => unread += 1,
                }
            }
            if unread > 0 {
                out.caveats.push(Caveat::UnreadColumns { count: unread });
            }
        }
        None | Some(Value::Null) => out.caveats.push(Caveat::NoSchema),
        Some(other) => return Err(not_a(other, "a 'schema' list", body)),
    }
    let (mut unread, mut missing, mut extra_rows) = (0, 0, 0);
    let mut extra_names: Vec<String> = Vec::new();
    for row in rows {
        let Value::Object(map) = row else {
            unread += 1;
            continue;
        };
        if !out.columns.is_empty() {
            let extra: Vec<&String> = map
                .keys()
                .filter(|k| !out.columns.iter().any(|c| c.name.eq_ignore_ascii_case(k)))
                .collect();
            if !extra.is_empty() {
                extra_rows += 1;
                for k in extra {
                    let k = one_line(k);
                    if extra_names.len() < NAMES_KEPT && !extra_names.contains(&k) {
                        extra_names.push(k);
                    }
                }
            }
            if out.columns.iter().any(|c| lookup(map, &c.name).is_none()) {
                missing += 1;
            }
        }
        out.rows.push(map.clone());
    }
    if unread > 0 {
        tracing::warn!(unread, "hunting rows that are no object");
        out.caveats.push(Caveat::UnreadRows { count: unread });
    }
    if extra_rows > 0 {
        out.caveats.push(Caveat::ExtraKeys {
            names: extra_names,
            rows: extra_rows,
        });
    }
    if missing > 0 {
        out.caveats.push(Caveat::MissingCells { rows: missing });
    }
    if rows.len() >= ROW_CAP {
        out.caveats.push(Caveat::RowCap { rows: rows.len() });
    }
    Ok(out)
}

impl HuntingResults {
    /// Reads every row with `read`, which names columns as the schema reference spells them;
    /// each row's keys are matched to `columns` case-insensitively first. Cells of the `json`
    /// columns that are strings holding a JSON list or object (the Defender tables type their
    /// JSON columns as strings, FACTS §4.2) are read as that JSON. Odd values are logged and
    /// counted into `caveats`.
    pub fn read_rows<T>(
        &self,
        columns: &[&str],
        json: &[&str],
        read: fn(&mut Fields<'_>) -> T,
        caveats: &mut Vec<Caveat>,
    ) -> Vec<T> {
        let mut odd_count = 0;
        let out = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let named = by_columns(row, columns, json);
                let (value, odd) = read_logged(&named, read);
                log_odd(i + 1, &odd);
                odd_count += odd.len();
                value
            })
            .collect();
        if odd_count > 0 {
            caveats.push(Caveat::OddValues { count: odd_count });
        }
        out
    }
}

/// The value under `name`, exact case first, then any case.
pub(crate) fn lookup<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A top-level key in either casing (`schema`/`Schema`); the lowercase one, Graph's, wins.
fn either_case<'a>(map: &'a Map<String, Value>, lower: &str) -> Option<&'a Value> {
    lookup(map, lower)
}

fn column(c: &Value) -> Option<Column> {
    let Value::Object(m) = c else { return None };
    let name = match lookup(m, "name") {
        Some(Value::String(s)) if !s.trim().is_empty() => one_line(s),
        _ => return None,
    };
    let kind = match lookup(m, "type") {
        Some(Value::String(s)) => Some(one_line(s)),
        _ => None,
    };
    Some(Column { name, kind })
}

/// The row re-keyed by the reader's column names, JSON-in-string cells parsed.
fn by_columns(row: &Map<String, Value>, columns: &[&str], json: &[&str]) -> Map<String, Value> {
    columns
        .iter()
        .filter_map(|&name| {
            let v = lookup(row, name)?;
            let v = if json.contains(&name) {
                json_in_string(v)
            } else {
                v.clone()
            };
            Some((name.to_owned(), v))
        })
        .collect()
}

/// `"[\"a\",\"b\"]"` as the list it holds; any other value as it is.
fn json_in_string(v: &Value) -> Value {
    if let Value::String(s) = v {
        let t = s.trim_start();
        if (t.starts_with('[') || t.starts_with('{'))
            && let Ok(parsed) = serde_json::from_str::<Value>(s)
        {
            return parsed;
        }
    }
    v.clone()
}

fn log_odd(row: usize, odd: &[OddField]) {
    for o in odd {
        tracing::warn!(
            row, field = %o.field, found = o.found, kept = o.kept,
            "hunting value of an unexpected type"
        );
    }
}

/// A Decode error naming what was expected and what came.
pub(crate) fn not_a(found: &Value, wanted: &str, body: &[u8]) -> ApiError {
    ApiError::decode(
        format!("expected {wanted}, found {}", type_name(found)),
        body,
    )
}
