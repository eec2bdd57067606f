//! The alerts table as the analyst arranged it: sorted by time, severity or status, and
//! filtered as they type. Selections index into this view, never into the API's list.

use tui_input::Input;

use crate::defender::{Alert, Status};

/// How the alerts table is ordered; `s` cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertSort {
    /// Newest first, as the API's answer is kept.
    #[default]
    Newest,
    /// Worst first, newest first within a severity.
    Severity,
    /// New, then in progress, then resolved; newest first within a status.
    Status,
}

impl AlertSort {
    pub fn next(self) -> Self {
        match self {
            Self::Newest => Self::Severity,
            Self::Severity => Self::Status,
            Self::Status => Self::Newest,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Severity => "severity",
            Self::Status => "status",
        }
    }
}

/// The filter typed after `/` in the alerts table.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub input: Input,
    /// Keys go to the filter while it is being typed.
    pub editing: bool,
}

impl AlertFilter {
    pub fn is_active(&self) -> bool {
        !self.input.value().trim().is_empty()
    }
}

fn status_rank(s: &Status) -> u8 {
    match s {
        Status::New => 0,
        Status::InProgress => 1,
        Status::Resolved => 3,
        _ => 2,
    }
}

/// Whether `a` matches the (lower-case) words of a filter: each word in its title, device,
/// category or user.
fn matches(a: &Alert, words: &[String]) -> bool {
    let user = a.related_user.as_ref().map(|u| u.display());
    let fields = [
        Some(a.title.as_str()),
        a.device(),
        a.category.as_deref(),
        user.as_deref(),
    ];
    words.iter().all(|w| {
        fields
            .iter()
            .flatten()
            .any(|f| f.to_lowercase().contains(w.as_str()))
    })
}

/// The table's rows for the current place, as indices into its alert list: computed in
/// `update` when the list, the order or the filter changes, so drawing a frame and moving the
/// cursor cost the same with ten alerts or ten thousand.
#[derive(Debug, Clone, Default)]
pub struct AlertRows {
    /// What the rows were computed from: place, order, filter, and the store's generation.
    key: Option<RowsKey>,
    rows: Vec<usize>,
}

/// What the rows are computed from: the place, the order, the filter's text, and the
/// answers' generation.
pub(crate) type RowsKey = (super::history::Subject, AlertSort, String, u64);

impl AlertRows {
    /// The rows, if they were computed from exactly `key`.
    pub(crate) fn cached(&self, key: &RowsKey) -> Option<&[usize]> {
        (self.key.as_ref() == Some(key)).then_some(self.rows.as_slice())
    }

    /// Recomputes the rows when `key` moved on.
    pub(crate) fn refresh(&mut self, key: RowsKey, all: &[Alert], filter: &AlertFilter) {
        if self.cached(&key).is_none() {
            self.rows = Self::compute(all, key.1, filter);
            self.key = Some(key);
        }
    }

    /// The indices of `all` the table shows: filtered, then sorted.
    pub(crate) fn compute(all: &[Alert], sort: AlertSort, filter: &AlertFilter) -> Vec<usize> {
        let words: Vec<String> = filter
            .input
            .value()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut rows: Vec<usize> = (0..all.len())
            .filter(|&i| words.is_empty() || matches(&all[i], &words))
            .collect();
        // Stable sorts: the newest-first order stays within equal keys.
        match sort {
            AlertSort::Newest => {}
            AlertSort::Severity => rows.sort_by_key(|&i| std::cmp::Reverse(all[i].severity.rank())),
            AlertSort::Status => rows.sort_by_key(|&i| status_rank(&all[i].status)),
        }
        rows
    }
}
