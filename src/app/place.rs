//! One recipe for what a place shows: every answer its panes read, in which lane it is asked,
//! whether `r` asks it again, and which answer it waits for. Arriving, refreshing, the follow-ups
//! of a landed answer, demoting work left behind and the ages on screen all read this list, so a
//! new pane or a new kind of place is one arm here.

use super::history::Location;
use super::state::State;
use crate::case::Subject;
use crate::defender::FetchKey;
use crate::fetch::Priority;

/// One answer a place shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub key: FetchKey,
    /// The lane it is asked in: what the analyst asked for is Foreground, what merely appears
    /// beside it is Visible.
    pub priority: Priority,
    /// Whether `r` asks again even when the answer is in (else only when it failed).
    pub on_refresh: bool,
    /// The answer this need was read from, if any: it appears only once that answer is in, and
    /// is asked when it lands.
    pub after: Option<FetchKey>,
}

impl Need {
    fn main(key: FetchKey) -> Self {
        Self {
            key,
            priority: Priority::Foreground,
            on_refresh: true,
            after: None,
        }
    }

    fn beside(key: FetchKey, after: Option<FetchKey>) -> Self {
        Self {
            key,
            priority: Priority::Visible,
            on_refresh: false,
            after,
        }
    }
}

/// What `loc` shows, in the order it is asked. Each key once, in its highest lane.
pub fn needs(state: &State, loc: &Location) -> Vec<Need> {
    let mut needs = vec![
        Need::main(head_key(state, &loc.subject)),
        Need::main(loc.subject.alerts_key()),
    ];
    if let Some(id) = &loc.alert {
        let lists = super::related::lists(id);
        needs.extend(lists.iter().cloned().map(Need::main));
        // What the pivot list shows of each place beside it, once its list is in.
        for list in lists {
            for place in state.related_in(&list).into_iter().filter_map(|r| r.place) {
                needs.push(Need::beside(head_key(state, &place), Some(list.clone())));
            }
        }
        // The opened alert's record comes with the subject's list: its device (for its line
        // in the alert pane) and, on an internal IP's page, the device that held the IP then.
        // Devices are never fetched ahead of being shown, so Visible, not Prefetch.
        let list = Some(loc.subject.alerts_key());
        if let Some(device) = state.alert_at(loc).and_then(State::device_id_of) {
            needs.push(Need::beside(FetchKey::Device(device), list.clone()));
        }
        if let Ok(key) = state.holders_key_at(loc) {
            needs.push(Need::beside(key, list));
        }
    }
    dedupe(needs)
}

/// The answer at the top of a place's page, which the pivot list also shows beside a place it
/// names: an IP's prevalence over its period, a device's record (its name).
pub fn head_key(state: &State, place: &Subject) -> FetchKey {
    match place {
        Subject::Ip(ip) => state.stats_key(*ip),
        Subject::Device(id) => FetchKey::Device(id.clone()),
    }
}

/// The first mention of a key wins: the list is built with the higher lanes first.
fn dedupe(needs: Vec<Need>) -> Vec<Need> {
    let mut seen: Vec<Need> = Vec::with_capacity(needs.len());
    for need in needs {
        if !seen.iter().any(|n| n.key == need.key) {
            seen.push(need);
        }
    }
    seen
}

impl State {
    /// What the current place shows ([`needs`]); nothing before the first place.
    pub fn needs(&self) -> Vec<Need> {
        self.location()
            .map(|loc| needs(self, loc))
            .unwrap_or_default()
    }

    /// The requests whose state is on screen now.
    pub fn visible_keys(&self) -> Vec<FetchKey> {
        self.needs().into_iter().map(|n| n.key).collect()
    }
}
