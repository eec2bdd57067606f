//! Everything the console shows, owned by one task. Panes derive their content from the
//! answers in `responses` and the current [`Location`]; nothing here is written by background
//! tasks.

mod devices;

pub use devices::Holders;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::alert_view::{AlertRows, RowsKey};
use super::history::{History, Location, Subject};
use super::input_box::InputBox;
use super::overlay::Overlay;
use super::remote::Remote;
use super::responses::Responses;
use crate::case::{Note, Target};
use crate::defender::{Alert, FetchKey, FetchValue, IpStats, LookBack};
use crate::fetch::BudgetStatus;

/// What an answer lacks, in full and in a few words, for the room a pane has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caveats {
    pub full: Vec<String>,
    pub short: Vec<String>,
}

impl Caveats {
    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }
}

/// Which pane keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    Input,
    Alerts,
    Details,
    Ips,
}

impl Focus {
    pub const ORDER: [Focus; 4] = [Focus::Input, Focus::Alerts, Focus::Details, Focus::Ips];
}

/// The console's whole state.
#[derive(Debug, Default)]
pub struct State {
    /// A loud banner, e.g. `SIMULATED TENANT`; `None` for a real tenant.
    pub banner: Option<String>,
    /// Where the API is, for the title bar.
    pub api_host: String,
    /// The IP input box: its text, its complaint, its memory.
    pub input: InputBox,
    pub focus: Focus,
    pub history: History,
    /// Every answer this session, by request. Back/forward read from here: no API call.
    pub responses: Responses,
    pub budget: BudgetStatus,
    /// The latest failure, for the status bar.
    pub last_error: Option<String>,
    /// The popup that holds the keys, if any.
    pub overlay: Overlay,
    /// Answers reused from this session's store instead of calling again, per endpoint.
    pub store_hits: HashMap<crate::defender::Endpoint, u64>,
    pub details_scroll: u16,
    /// Advances on each animation tick.
    pub spinner: usize,
    /// The wall clock as of the last [`super::Msg::Clock`], for ages; `None` before the first.
    pub now: Option<DateTime<Utc>>,
    /// `--offline`: answers come only from the cache, and the title bar says so.
    pub offline: bool,
    /// The case being recorded, if any.
    pub case: Option<CaseView>,
    /// A note left with Esc, waiting for `n`.
    pub draft: Option<NoteDraft>,
    /// A passing message (report written, draft kept).
    pub notice: Option<String>,
    /// Why saving to the database fails, while it does.
    pub save_error: Option<String>,
    /// Fewer devices than this in the org make an IP "rare".
    pub rare_below: u64,
    /// The prevalence period an IP is first shown over (`look_back` in the config file).
    pub look_back: LookBack,
    /// The period chosen for an IP with the cycle key, kept for the session: back and
    /// forward show each IP over the period it was left at, already fetched.
    pub periods: HashMap<IpAddr, LookBack>,
    /// A time the analyst gave (`w`) to ask which device held an internal IP, for the
    /// session; else the opened alert's time is used.
    pub held_at: HashMap<IpAddr, DateTime<Utc>>,
    /// How colours are shown: the theme, high contrast, or none (`NO_COLOR`).
    pub palette: Palette,
    /// The colour of each role, as the config file chose them.
    pub theme: super::theme::Theme,
    /// The keys in force: the defaults with the config file's rebinds.
    pub keymap: super::keymap::Keymap,
    /// The Defender portal and tenant, for `o`.
    pub portal: String,
    pub tenant_id: Option<String>,
    /// The alerts table's order (`s`) and filter (`/` in the table).
    pub alert_sort: super::alert_view::AlertSort,
    pub alert_filter: super::alert_view::AlertFilter,
    pub(crate) alert_rows: super::alert_view::AlertRows,
    /// Set when something visible changed; the loop redraws and clears it.
    pub dirty: bool,
}

impl State {
    pub fn new(banner: Option<String>, api_host: impl Into<String>) -> Self {
        Self {
            banner,
            api_host: api_host.into(),
            dirty: true,
            rare_below: crate::insight::RARE_BELOW,
            portal: crate::defender::cloud::Cloud::public().portal.to_owned(),
            ..Self::default()
        }
    }

    pub fn location(&self) -> Option<&Location> {
        self.history.current()
    }

    pub fn remote(&self, key: &FetchKey) -> &Remote<FetchValue> {
        self.responses.get(key)
    }

    /// The period `ip`'s prevalence is shown over: the one cycled to, else the default.
    pub fn period_of(&self, ip: IpAddr) -> LookBack {
        self.periods.get(&ip).copied().unwrap_or(self.look_back)
    }

    /// The request for `ip`'s prevalence over the period it is shown over.
    pub fn stats_key(&self, ip: IpAddr) -> FetchKey {
        FetchKey::IpStats(ip, self.period_of(ip))
    }

    /// Stats of `ip` over its period: `Some(None)` means the API said 404 (not seen in the
    /// org).
    pub fn stats_of(&self, ip: IpAddr) -> Option<Option<&IpStats>> {
        self.remote(&self.stats_key(ip)).value()?.as_stats()
    }

    /// The alerts of `ip`, newest first, once loaded.
    pub fn alerts_of(&self, ip: IpAddr) -> Option<&[Alert]> {
        self.alerts_at(&Subject::Ip(ip))
    }

    /// The alerts of an IP or a device, newest first, once loaded.
    pub fn alerts_at(&self, subject: &Subject) -> Option<&[Alert]> {
        Some(self.remote(&subject.alerts_key()).value()?.as_alerts()?)
    }

    /// What the answer for `key` lacks or may lack, one clause each: unread elements, a cut.
    pub fn caveats_of(&self, key: &FetchKey) -> Caveats {
        self.remote(key)
            .value()
            .map(|v| Caveats {
                full: v.caveats(),
                short: v.short_caveats(),
            })
            .unwrap_or_default()
    }

    /// The alert opened at the current location, if its data is loaded.
    pub fn open_alert(&self) -> Option<&Alert> {
        self.alert_at(self.location()?)
    }

    /// The alert opened at `loc`, if its subject's list is loaded.
    pub fn alert_at(&self, loc: &Location) -> Option<&Alert> {
        let id = loc.alert.as_ref()?;
        self.alerts_at(&loc.subject)?
            .iter()
            .find(|a| a.id == id.as_str())
    }

    /// How long the endpoint that answers `key` is paused after a 429: this console's pause or
    /// the team's, whichever ends later, as last published (republished each second while one
    /// runs, so it counts down without a clock read here).
    pub fn paused_for(&self, key: &FetchKey) -> Option<std::time::Duration> {
        let endpoint = key.endpoint();
        let own = self.budget.endpoint(endpoint).and_then(|b| b.paused_for);
        let team = self
            .budget
            .shared
            .as_ref()
            .and_then(|s| s.endpoints.iter().find(|e| e.endpoint == endpoint))
            .and_then(|e| e.paused_for);
        own.max(team)
    }

    /// Whether something on screen animates (spinner or countdown): the loop ticks only then.
    pub fn animating(&self) -> bool {
        self.budget.paused_for().is_some()
            || self
                .visible_keys()
                .iter()
                .any(|k| self.remote(k).is_loading())
    }

    /// Whether a popup is drawn over the panes.
    pub fn popup(&self) -> bool {
        self.overlay.covers_panes()
    }

    /// What to say about `ip` at a glance: its class, "rare" when few devices in the org saw
    /// it, "shared ×N" when N alerts loaded in this case list it among their related IPs.
    pub fn badges(&self, ip: IpAddr) -> Vec<Badge> {
        let mut badges = vec![Badge::Class(crate::insight::IpClass::of(ip))];
        if let Some(Some(stats)) = self.stats_of(ip)
            && let Some(n) = stats.prevalence()
            && n > 0
            && n < self.rare_below
        {
            badges.push(Badge::Rare(n));
        }
        let text = ip.to_string();
        let shared = self
            .responses
            .iter()
            .filter(|(k, _)| matches!(k, FetchKey::AlertIps(_)))
            .filter_map(|(_, r)| r.value()?.as_ips())
            .filter(|ips| ips.iter().any(|i| i.id.trim() == text))
            .count();
        if shared >= 2 {
            badges.push(Badge::Shared(shared));
        }
        badges
    }

    /// Tags on `target` in this case.
    pub fn tags_of(&self, target: &Target) -> &[String] {
        self.case
            .as_ref()
            .and_then(|c| c.tags.get(target))
            .map_or(&[], Vec::as_slice)
    }

    /// Notes on `target` in this case, oldest first.
    pub fn notes_of<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = &'a Note> + 'a {
        self.case
            .iter()
            .flat_map(|c| c.notes.iter())
            .filter(move |(t, _)| t == target)
            .map(|(_, n)| n)
    }
}

/// The case as the console shows it: its name, notes and tags (the trail is `State::history`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseView {
    pub name: String,
    pub notes: Vec<(Target, Note)>,
    pub tags: BTreeMap<Target, Vec<String>>,
}

impl CaseView {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// A note being typed, as saved between keystrokes so a crash loses nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDraft {
    pub target: Target,
    pub text: String,
}

/// How the screen uses colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Palette {
    #[default]
    Default,
    /// Dim greys and colours brightened, for projectors and tired eyes.
    HighContrast,
    /// `NO_COLOR` set: no colour at all; bold, underline and reverse video stay.
    NoColor,
}

impl std::str::FromStr for Palette {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "default" => Ok(Self::Default),
            "high-contrast" => Ok(Self::HighContrast),
            "no-color" | "none" => Ok(Self::NoColor),
            other => Err(format!(
                "unknown theme '{other}' (expected default, high-contrast or no-color)"
            )),
        }
    }
}

/// A short fact about an IP, shown next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Badge {
    Class(crate::insight::IpClass),
    /// Seen by this few devices in the org.
    Rare(u64),
    /// Among the related IPs of this many alerts loaded in the case.
    Shared(usize),
}

impl Badge {
    pub fn text(&self) -> String {
        match self {
            Self::Class(c) => c.label().to_owned(),
            Self::Rare(_) => "rare".to_owned(),
            Self::Shared(n) => format!("shared ×{n}"),
        }
    }

    /// For lists, where every column counts: `pub`, `priv`, `rare`, `×3`.
    pub fn short(&self) -> String {
        use crate::insight::IpClass;
        match self {
            Self::Class(c) => match c {
                IpClass::Public => "pub",
                IpClass::Private => "priv",
                IpClass::Loopback => "lo",
                IpClass::LinkLocal => "link",
                IpClass::Cgnat => "cgnat",
                IpClass::Documentation => "doc",
                IpClass::Multicast => "mcast",
                IpClass::Reserved => "rsvd",
            }
            .to_owned(),
            Self::Rare(_) => "rare".to_owned(),
            Self::Shared(n) => format!("×{n}"),
        }
    }
}

/// The alerts table's rows, kept in `alert_rows` (see [`AlertRows`]).
impl State {
    /// The alerts of an IP or device as the table shows them: filtered, then sorted.
    pub fn shown_alerts(&self, subject: &Subject) -> Vec<&Alert> {
        let Some(all) = self.alerts_at(subject) else {
            return Vec::new();
        };
        self.rows_of(subject).iter().map(|&i| &all[i]).collect()
    }

    /// How many rows the table has, and the alert at `row`, for the current place: from the
    /// rows computed in `update`, without walking the list.
    pub fn shown_len(&self) -> usize {
        self.location()
            .map_or(0, |loc| self.rows_of(&loc.subject).len())
    }

    pub fn shown_at(&self, row: usize) -> Option<&Alert> {
        let loc = self.location()?;
        let all = self.alerts_at(&loc.subject)?;
        all.get(*self.rows_of(&loc.subject).get(row)?)
    }

    /// The alert under the cursor in the table.
    pub fn selected_alert(&self) -> Option<&Alert> {
        self.shown_at(self.location()?.alert_row)
    }

    fn rows_key(&self, subject: &Subject) -> RowsKey {
        (
            subject.clone(),
            self.alert_sort,
            self.alert_filter.input.value().to_owned(),
            self.responses.generation(),
        )
    }

    /// The rows computed in `update` when they are current, else computed now.
    fn rows_of(&self, subject: &Subject) -> std::borrow::Cow<'_, [usize]> {
        match self.alert_rows.cached(&self.rows_key(subject)) {
            Some(rows) => std::borrow::Cow::Borrowed(rows),
            None => std::borrow::Cow::Owned(AlertRows::compute(
                self.alerts_at(subject).unwrap_or_default(),
                self.alert_sort,
                &self.alert_filter,
            )),
        }
    }

    /// Brings the table's rows up to date; `update` calls it after every message.
    pub(super) fn refresh_rows(&mut self) {
        let Some(subject) = self.location().map(|l| l.subject.clone()) else {
            return;
        };
        let key = self.rows_key(&subject);
        // Read through the field, not `alerts_at`, so the borrow of `alert_rows` is a disjoint one.
        let all = self
            .responses
            .get(&subject.alerts_key())
            .value()
            .and_then(FetchValue::as_alerts)
            .map_or(&[][..], |a| &a[..]);
        self.alert_rows.refresh(key, all, &self.alert_filter);
    }
}
