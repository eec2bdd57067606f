//! How the budget is shared, read for the analyst from what the scheduler publishes: whether
//! the shared books are in use, the local share while they cannot be reached, and which
//! windows the status bar shows (the team's when shared, this process's otherwise). Plain
//! functions of [`BudgetStatus`]: the status bar, the budget popup and the one-shot commands'
//! stderr say the same thing. The share itself ([`LocalShare::of`]) is the one the team's
//! books admit by while Redis is away (`team/share.rs`), and its sentence the one they log.

use std::time::Duration;

use super::{Backend, BudgetStatus, Link, SharedEndpoint, WindowStatus};
use crate::defender::Endpoint;
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

/// What this process may spend of one window while the shared books cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalShare {
    /// Calls this process may make in the window.
    pub calls: u32,
    /// The window's limit at the lane's level.
    pub limit: u32,
    pub window: Duration,
    /// The processes last seen sharing the budget (at least 1).
    pub share_of: u32,
}

impl LocalShare {
    /// The local rule, the one place it is written: of a window of `limit` calls of which the
    /// team was last seen to spend `spent`, each of `share_of` processes may spend an equal
    /// part of what is left (floor), at least one call while anything is left, none once the
    /// team filled it.
    pub fn of(limit: u32, spent: u32, window: Duration, share_of: u32) -> LocalShare {
        let share_of = share_of.max(1);
        let calls = if limit > spent {
            ((limit - spent) / share_of).max(1)
        } else {
            0
        };
        LocalShare {
            calls,
            limit,
            window,
            share_of,
        }
    }

    /// The share a sentence names, of a window the team left: the minute's if the limits
    /// have one, else the shortest, and the tightest limit of that length.
    pub fn named(windows: impl IntoIterator<Item = (u32, Duration)>, share_of: u32) -> LocalShare {
        let windows: Vec<(u32, Duration)> = windows.into_iter().collect();
        let minute = Duration::from_secs(60);
        let window = if windows.iter().any(|(_, w)| *w == minute) {
            minute
        } else {
            windows.iter().map(|(_, w)| *w).min().unwrap_or(minute)
        };
        let limit = windows
            .iter()
            .filter(|(_, w)| *w == window)
            .map(|(l, _)| *l)
            .min()
            .unwrap_or(0);
        LocalShare::of(limit, 0, window, share_of)
    }

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

/// The share of the window that names it, from the shared books' windows, else this
/// process's. The books' counts of the team's calls are their last view, which stops sliding
/// while they are away: the share is the rule's of a window the team left, what the rule
/// admits once those calls have aged out of it (within one window).
fn local_share(b: &BudgetStatus, share_of: u32) -> LocalShare {
    let shared = b.shared.iter().flat_map(|s| &s.endpoints);
    let mut windows: Vec<WindowStatus> = shared.flat_map(|e| e.windows.iter().copied()).collect();
    if windows.is_empty() {
        windows = b
            .endpoints
            .iter()
            .flat_map(|e| e.windows.iter().copied())
            .collect();
    }
    LocalShare::named(windows.iter().map(|w| (w.limit, w.window)), share_of)
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
    fn the_rule_shares_what_the_team_left_and_nothing_of_a_full_window() {
        let minute = Duration::from_secs(60);
        assert_eq!(LocalShare::of(100, 0, minute, 2).calls, 50);
        assert_eq!(
            LocalShare::of(100, 91, minute, 2).calls,
            4,
            "(100 - 91) / 2"
        );
        assert_eq!(LocalShare::of(100, 99, minute, 5).calls, 1, "at least one");
        assert_eq!(LocalShare::of(100, 100, minute, 1).calls, 0, "full");
        assert_eq!(LocalShare::of(100, 120, minute, 1).calls, 0, "over-full");
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
