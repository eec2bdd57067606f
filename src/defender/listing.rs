//! A list answer as the API gave it, pages joined, with everything that is not in it said:
//! elements that could not be read, repeats left out, and why the walk stopped early if it did.
//! Nothing is dropped without a count or a reason here.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ErrorKind;
use super::fields::{Fields, OddField, read_logged, type_name};
use super::model::{Alert, RelatedIp};

/// Items of one list answer; derefs to the items, so views read it as a slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// Elements that could not be read at all (no record where one was expected).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
    /// Elements left out because an earlier one had the same id.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub repeats: usize,
    /// Pages read.
    #[serde(default = "one")]
    pub pages: usize,
    /// Set when the walk stopped before the API's last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<Cut>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn one() -> usize {
    1
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Self::of(Vec::new())
    }
}

impl<T> std::ops::Deref for Listing<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T> From<Vec<T>> for Listing<T> {
    /// A complete list of one page, nothing unread: what tests and the simulator build.
    fn from(items: Vec<T>) -> Self {
        Self::of(items)
    }
}

impl<T> FromIterator<T> for Listing<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::of(iter.into_iter().collect())
    }
}

impl<T> IntoIterator for Listing<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Listing<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T> std::ops::DerefMut for Listing<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.items
    }
}

/// One element that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// 1-based page and position, as the analyst would count them.
    pub page: usize,
    pub item: usize,
    /// The JSON type found instead of a record.
    pub found: String,
}

/// Why a list is known or feared to be incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Cut {
    /// The page cap was reached and the API named a further page.
    PageCap,
    /// The API's next-page link led back to a page already read.
    Loop,
    /// The API's next-page link was not followed: it pointed elsewhere.
    Refused { link: String, why: String },
    /// A later page failed; the pages before it are kept.
    Failed { kind: ErrorKind, message: String },
}

/// What a list is made of, for the walk: its element's name and identity.
pub trait Item: Sized {
    /// "alert", "IP": how the analyst counts these.
    const NOUN: &'static str;
    fn read(f: &mut Fields<'_>) -> Self;
    /// Its id, for leaving out repeats; an empty id is never a repeat.
    fn id(&self) -> &str;
    /// The nearest honest reading of a bare string element, if there is one.
    fn from_text(_: &str) -> Option<Self> {
        None
    }
}

impl Item for Alert {
    const NOUN: &'static str = "alert";
    fn read(f: &mut Fields<'_>) -> Self {
        Alert::read(f)
    }
    fn id(&self) -> &str {
        &self.id
    }
}

impl Item for RelatedIp {
    const NOUN: &'static str = "IP";
    fn read(f: &mut Fields<'_>) -> Self {
        RelatedIp::read(f)
    }
    fn id(&self) -> &str {
        &self.id
    }
    /// `["1.2.3.4"]` for `[{"id": "1.2.3.4"}]`: the string is the IP.
    fn from_text(s: &str) -> Option<Self> {
        Some(Self {
            id: super::sanitize::one_line(s),
        })
    }
}

impl<T> Listing<T> {
    pub fn of(items: Vec<T>) -> Self {
        Self {
            items,
            unread: Vec::new(),
            repeats: 0,
            pages: 1,
            cut: None,
        }
    }
}

impl<T: Item> Listing<T> {
    /// Reads one page's `value` array element by element: one odd element never costs its
    /// neighbours. Odd fields are logged with their names.
    pub fn read_page(values: &[Value]) -> Self {
        let mut listing = Self::of(Vec::with_capacity(values.len()));
        for (i, v) in values.iter().enumerate() {
            let item = match v {
                Value::Object(map) => {
                    let (item, odd) = read_logged(map, T::read);
                    log_odd(T::NOUN, item.id(), i + 1, &odd);
                    Some(item)
                }
                Value::String(s) => T::from_text(s),
                _ => None,
            };
            match item {
                Some(item) => listing.items.push(item),
                None => {
                    tracing::warn!(
                        item = i + 1,
                        found = type_name(v),
                        "unreadable {} in a list",
                        T::NOUN
                    );
                    listing.unread.push(Unread {
                        page: 1,
                        item: i + 1,
                        found: type_name(v).to_owned(),
                    });
                }
            }
        }
        listing.leave_out_repeats(0);
        listing
    }

    /// Joins the next page: its unread elements are renumbered to their page, and an id
    /// already listed is left out (and counted).
    pub fn append(&mut self, mut next: Listing<T>) {
        let from = self.items.len();
        for u in &mut next.unread {
            u.page += self.pages;
        }
        self.unread.append(&mut next.unread);
        self.items.append(&mut next.items);
        self.repeats += next.repeats;
        self.pages += next.pages;
        if next.cut.is_some() {
            self.cut = next.cut;
        }
        self.leave_out_repeats(from);
    }

    /// Drops items from `from` on whose id came earlier.
    fn leave_out_repeats(&mut self, from: usize) {
        let mut seen: HashSet<String> = self.items[..from]
            .iter()
            .map(|i| i.id().to_owned())
            .filter(|id| !id.is_empty())
            .collect();
        let before = self.items.len();
        let mut index = 0;
        self.items.retain(|item| {
            index += 1;
            index <= from || item.id().is_empty() || seen.insert(item.id().to_owned())
        });
        let dropped = before - self.items.len();
        if dropped > 0 {
            tracing::warn!(
                dropped,
                "the API listed the same {} more than once",
                T::NOUN
            );
        }
        self.repeats += dropped;
    }

    /// What the analyst must know about this list beyond its items, one clause each:
    /// `["1 alert could not be read", "list cut at 50 pages"]`.
    pub fn caveats(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.unread.is_empty() {
            let n = self.unread.len();
            out.push(format!(
                "{n} {}{} could not be read",
                T::NOUN,
                if n == 1 { "" } else { "s" }
            ));
        }
        if let Some(cut) = &self.cut {
            out.push(cut.describe(self.pages));
        }
        out
    }
}

impl<T: Item> Listing<T> {
    /// The same caveats in a few words each, for a narrow border: `["1 unreadable", "cut at
    /// 50 pages"]`.
    pub fn short_caveats(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.unread.is_empty() {
            out.push(format!("{} unreadable", self.unread.len()));
        }
        if let Some(cut) = &self.cut {
            out.push(match cut {
                Cut::PageCap => format!("cut at {} pages", self.pages),
                Cut::Loop => format!("link loop after {} pages", self.pages),
                Cut::Refused { .. } => format!("link refused after {} pages", self.pages),
                Cut::Failed { .. } => format!("page {} failed", self.pages + 1),
            });
        }
        out
    }
}

impl Cut {
    /// One clause for a pane, stderr or a report.
    pub fn describe(&self, pages: usize) -> String {
        let pl = if pages == 1 { "page" } else { "pages" };
        match self {
            Self::PageCap => format!("list cut at {pages} {pl} (max_pages)"),
            Self::Loop => {
                format!("the API's next-page link repeated a page; stopped after {pages} {pl}")
            }
            Self::Refused { link, why } => {
                format!("next-page link not followed after {pages} {pl}: {why}: {link}")
            }
            Self::Failed { message, .. } => {
                format!(
                    "page {} failed, the first {pages} {pl} are shown: {message}",
                    pages + 1
                )
            }
        }
    }

    /// The one-shot commands' exit code: a cap or a loop is a complete run (the flag and stderr
    /// say it); a refused link or a failed page is the error it was.
    pub fn exit_code(&self) -> Option<u8> {
        match self {
            Self::PageCap | Self::Loop => None,
            Self::Refused { .. } => Some(ErrorKind::Protocol.exit_code()),
            Self::Failed { kind, .. } => Some(kind.exit_code()),
        }
    }
}

impl fmt::Display for Unread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "page {}, item {}: {} instead of a record",
            self.page, self.item, self.found
        )
    }
}

fn log_odd(noun: &str, id: &str, item: usize, odd: &[OddField]) {
    for o in odd {
        tracing::warn!(
            %noun, id, item, field = %o.field, found = o.found, kept = o.kept,
            "field of an unexpected type"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odd_elements_are_counted_and_neighbours_kept() {
        let page = json!([{"id": "a"}, "x", 5, null, {"id": "b"}, {"id": "a"}]);
        let l = Listing::<Alert>::read_page(page.as_array().unwrap());
        let ids: Vec<_> = l.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(l.unread.len(), 3);
        assert_eq!(l.repeats, 1);
        assert_eq!(l.caveats(), ["3 alerts could not be read"]);
    }

    #[test]
    fn pages_join_with_their_numbers_and_without_repeats() {
        let mut l = Listing::<RelatedIp>::read_page(json!([{"id": "1.1.1.1"}]).as_array().unwrap());
        let next =
            Listing::<RelatedIp>::read_page(json!(["1.1.1.1", "2.2.2.2", 7]).as_array().unwrap());
        l.append(next);
        let ids: Vec<_> = l.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["1.1.1.1", "2.2.2.2"]);
        assert_eq!((l.pages, l.repeats), (2, 1));
        assert_eq!(
            l.unread[0].to_string(),
            "page 2, item 3: number instead of a record"
        );
    }
}
