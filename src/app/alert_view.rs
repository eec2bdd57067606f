//! The alerts table as the analyst arranged it: sorted by time, severity or status, and
//! filtered as they type. Selections index into this view, never into the API's list.

use std::net::IpAddr;

use tui_input::Input;

use super::state::State;
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
    key: Option<(IpAddr, AlertSort, String, u64)>,
    rows: Vec<usize>,
}

impl State {
    /// The alerts of `ip` as the table shows them: filtered, then sorted.
    pub fn shown_alerts(&self, ip: IpAddr) -> Vec<&Alert> {
        let Some(all) = self.alerts_of(ip) else {
            return Vec::new();
        };
        match self.cached_rows(ip) {
            Some(rows) => rows.iter().map(|&i| &all[i]).collect(),
            None => self.compute_rows(ip).into_iter().map(|i| &all[i]).collect(),
        }
    }

    /// How many rows the table has, and the alert at `row`, for the current place: from the
    /// rows computed in `update`, without walking the list.
    pub fn shown_len(&self) -> usize {
        let Some(loc) = self.location() else { return 0 };
        match self.cached_rows(loc.ip) {
            Some(rows) => rows.len(),
            None => self.compute_rows(loc.ip).len(),
        }
    }

    pub fn shown_at(&self, row: usize) -> Option<&Alert> {
        let loc = self.location()?;
        let all = self.alerts_of(loc.ip)?;
        let i = match self.cached_rows(loc.ip) {
            Some(rows) => *rows.get(row)?,
            None => *self.compute_rows(loc.ip).get(row)?,
        };
        all.get(i)
    }

    /// The alert under the cursor in the table.
    pub fn selected_alert(&self) -> Option<&Alert> {
        self.shown_at(self.location()?.alert_row)
    }

    fn rows_key(&self, ip: IpAddr) -> (IpAddr, AlertSort, String, u64) {
        (
            ip,
            self.alert_sort,
            self.alert_filter.input.value().to_owned(),
            self.responses.generation(),
        )
    }

    fn cached_rows(&self, ip: IpAddr) -> Option<&[usize]> {
        let rows = &self.alert_rows;
        (rows.key.as_ref() == Some(&self.rows_key(ip))).then_some(rows.rows.as_slice())
    }

    fn compute_rows(&self, ip: IpAddr) -> Vec<usize> {
        let Some(all) = self.alerts_of(ip) else {
            return Vec::new();
        };
        let words: Vec<String> = self
            .alert_filter
            .input
            .value()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut rows: Vec<usize> = (0..all.len())
            .filter(|&i| words.is_empty() || matches(&all[i], &words))
            .collect();
        // Stable sorts: the newest-first order stays within equal keys.
        match self.alert_sort {
            AlertSort::Newest => {}
            AlertSort::Severity => rows.sort_by_key(|&i| std::cmp::Reverse(all[i].severity.rank())),
            AlertSort::Status => rows.sort_by_key(|&i| status_rank(&all[i].status)),
        }
        rows
    }

    /// Brings the table's rows up to date; `update` calls it after every message.
    pub(super) fn refresh_rows(&mut self) {
        let Some(ip) = self.location().map(|l| l.ip) else {
            return;
        };
        if self.cached_rows(ip).is_none() {
            self.alert_rows = AlertRows {
                key: Some(self.rows_key(ip)),
                rows: self.compute_rows(ip),
            };
        }
    }
}
