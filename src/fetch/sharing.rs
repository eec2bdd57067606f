//! How the budget is shared, read for the analyst from what the scheduler publishes: whether
//! the team's books are in use, the local share while they cannot be reached, and which
//! windows the status bar shows (the team's when shared, this process's otherwise). Plain
//! functions of [`BudgetStatus`]: the status bar, the budget popup and the one-shot commands'
//! stderr say the same thing.

use std::time::Duration;

use crate::defender::Endpoint;
use crate::fetch::{Backend, BudgetStatus, Link, SharedEndpoint, WindowStatus};
use crate::text::span;

/// Which books decide, for the analyst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// This process alone (no ledger, or the local database with no one else on it).
    Alone,
    /// The team's Redis, reached; `consoles` spent or held it in the last minutes.
    Team { consoles: u32 },
    /// This user's processes through the local database.
    Local { consoles: u32 },
    /// The shared books cannot be reached: deciding locally on a share.
    Unreachable { backend: Backend, share: LocalShare },
}

/// What this process may spend while the shared books cannot be reached: each window's limit
/// divided by the processes last seen (floor, at least 1). Said for one window: the minute's
/// if the limits have one, else the shortest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalShare {
    pub calls: u32,
    pub limit: u32,
    pub window: Duration,
    pub share_of: u32,
}

impl LocalShare {
    /// `50/min`, or `5/10s` for a window that is not a minute.
    pub fn rate(&self) -> String {
        format!("{}/{}", self.calls, per(self.window))
    }

    /// `100/min ÷ 2 processes seen`.
    pub fn why(&self) -> String {
        let processes = if self.share_of == 1 {
            "process"
        } else {
            "processes"
        };
        format!(
            "{}/{} ÷ {} {processes} seen",
            self.limit,
            per(self.window),
            self.share_of
        )
    }
}

fn per(window: Duration) -> String {
    if window == Duration::from_secs(60) {
        "min".to_owned()
    } else {
        span(window)
    }
}

pub fn sharing(b: &BudgetStatus) -> Sharing {
    let Some(shared) = &b.shared else {
        return Sharing::Alone;
    };
    match (shared.link, shared.backend) {
        (Link::Unreachable { share_of }, backend) => Sharing::Unreachable {
            backend,
            share: local_share(b, share_of),
        },
        (Link::Connected, Backend::Team) => Sharing::Team {
            consoles: shared.consoles,
        },
        (Link::Connected, Backend::Local) if shared.consoles > 1 => Sharing::Local {
            consoles: shared.consoles,
        },
        (Link::Connected, Backend::Local) => Sharing::Alone,
    }
}

/// The share of the window that names it: the tightest limit of that length on any endpoint,
/// from the shared books' windows, else this process's.
fn local_share(b: &BudgetStatus, share_of: u32) -> LocalShare {
    let share_of = share_of.max(1);
    let shared = b.shared.iter().flat_map(|s| &s.endpoints);
    let mut windows: Vec<WindowStatus> = shared.flat_map(|e| e.windows.iter().copied()).collect();
    if windows.is_empty() {
        windows = b
            .endpoints
            .iter()
            .flat_map(|e| e.windows.iter().copied())
            .collect();
    }
    let minute = Duration::from_secs(60);
    let window = if windows.iter().any(|w| w.window == minute) {
        minute
    } else {
        windows.iter().map(|w| w.window).min().unwrap_or(minute)
    };
    let limit = windows
        .iter()
        .filter(|w| w.window == window)
        .map(|w| w.limit)
        .min()
        .unwrap_or(0);
    LocalShare {
        calls: (limit / share_of).max(1),
        limit,
        window,
        share_of,
    }
}

/// The one-line notice for stderr and logs: `team budget unreachable · local share 50/min
/// (100/min ÷ 2 processes seen)`.
pub fn unreachable_sentence(backend: Backend, share: &LocalShare) -> String {
    format!(
        "{} unreachable · local share {} ({})",
        books(backend),
        share.rate(),
        share.why()
    )
}

/// What the shared books are called.
pub fn books(backend: Backend) -> &'static str {
    match backend {
        Backend::Team => "team budget",
        Backend::Local => "shared budget",
    }
}

/// One endpoint as the status bar shows it.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a> {
    pub endpoint: Endpoint,
    pub windows: &'a [WindowStatus],
    pub paused_for: Option<Duration>,
}

impl Shown<'_> {
    /// The window with the fewest calls left: the one that stops the next call.
    pub fn tightest(&self) -> Option<&WindowStatus> {
        self.windows.iter().min_by_key(|w| w.left())
    }
}

/// Per endpoint, the windows that decide: the shared books' while they are reached and used,
/// this process's otherwise (alone, or on its local share). Shared or out of reach, the longer
/// pause of the two: a pause the team last saw still holds.
pub fn shown(b: &BudgetStatus) -> Vec<Shown<'_>> {
    let sharing = sharing(b);
    let use_shared = matches!(sharing, Sharing::Team { .. } | Sharing::Local { .. });
    b.endpoints
        .iter()
        .map(|own| {
            let team = shared_of(b, own.endpoint).filter(|_| sharing != Sharing::Alone);
            let pause = own.paused_for.max(team.and_then(|t| t.paused_for));
            match team {
                Some(t) if use_shared && !t.windows.is_empty() => Shown {
                    endpoint: own.endpoint,
                    windows: &t.windows,
                    paused_for: pause,
                },
                _ => Shown {
                    endpoint: own.endpoint,
                    windows: &own.windows,
                    paused_for: pause,
                },
            }
        })
        .collect()
}

/// The shared books' view of one endpoint, if they keep one.
pub fn shared_of(b: &BudgetStatus, endpoint: Endpoint) -> Option<&SharedEndpoint> {
    b.shared
        .as_ref()?
        .endpoints
        .iter()
        .find(|e| e.endpoint == endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::{EndpointBudget, SharedStatus};

    fn w(limit: u32, secs: u64, used: u32) -> WindowStatus {
        WindowStatus {
            limit,
            window: Duration::from_secs(secs),
            used,
        }
    }

    fn status(link: Link, backend: Backend, consoles: u32) -> BudgetStatus {
        BudgetStatus {
            endpoints: vec![EndpointBudget {
                endpoint: Endpoint::IpStats,
                windows: vec![w(100, 60, 3), w(1500, 3600, 3)],
                paused_for: None,
                calls: 3,
                throttled: 0,
                paused_total: Duration::ZERO,
            }],
            shared: Some(SharedStatus {
                backend,
                link,
                consoles,
                endpoints: vec![SharedEndpoint {
                    endpoint: Endpoint::IpStats,
                    windows: vec![w(100, 60, 40), w(1500, 3600, 900)],
                    paused_for: Some(Duration::from_secs(9)),
                }],
            }),
            ..BudgetStatus::default()
        }
    }

    #[test]
    fn the_share_is_the_minute_limit_over_the_processes_seen_floored_and_at_least_one() {
        let share = |share_of| {
            let b = status(Link::Unreachable { share_of }, Backend::Team, 3);
            match sharing(&b) {
                Sharing::Unreachable { share, .. } => share,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(share(2).rate(), "50/min");
        assert_eq!(share(3).rate(), "33/min", "floor");
        assert_eq!(share(0).rate(), "100/min", "never divided by zero");
        assert_eq!(share(500).rate(), "1/min", "at least one");
        assert_eq!(share(2).why(), "100/min ÷ 2 processes seen");
        let sentence = unreachable_sentence(Backend::Team, &share(2));
        assert_eq!(
            sentence,
            "team budget unreachable · local share 50/min (100/min ÷ 2 processes seen)"
        );
        // No minute window: the shortest one names the share.
        let mut b = status(Link::Unreachable { share_of: 2 }, Backend::Team, 2);
        b.shared.as_mut().unwrap().endpoints[0].windows = vec![w(10, 10, 0), w(200, 3600, 0)];
        let Sharing::Unreachable { share, .. } = sharing(&b) else {
            panic!()
        };
        assert_eq!(share.rate(), "5/10s");
    }

    #[test]
    fn the_bar_shows_the_team_windows_when_shared_and_its_own_otherwise() {
        let team = status(Link::Connected, Backend::Team, 3);
        assert_eq!(sharing(&team), Sharing::Team { consoles: 3 });
        let shown_team = shown(&team);
        assert_eq!(
            shown_team[0].tightest().unwrap().left(),
            60,
            "the team's 40 of 100"
        );
        assert_eq!(shown_team[0].paused_for, Some(Duration::from_secs(9)));
        let down = status(Link::Unreachable { share_of: 2 }, Backend::Team, 3);
        assert_eq!(
            shown(&down)[0].tightest().unwrap().left(),
            97,
            "this process's own"
        );
        let alone = status(Link::Connected, Backend::Local, 1);
        assert_eq!(sharing(&alone), Sharing::Alone);
        assert_eq!(shown(&alone)[0].tightest().unwrap().left(), 97);
        let two = status(Link::Connected, Backend::Local, 2);
        assert_eq!(sharing(&two), Sharing::Local { consoles: 2 });
        assert_eq!(sharing(&BudgetStatus::default()), Sharing::Alone);
    }
}
