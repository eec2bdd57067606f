//! The one-shot commands' stderr line when the team's budget cannot be reached: said once
//! when the link drops (again after it came back and dropped anew), with the local share the
//! process now spends, so the operator of a script knows why it runs slower and alone.

use crate::fetch::BudgetStatus;
use crate::fetch::sharing::{self, Sharing};

/// Watches the published budgets; [`TeamNotice::observe`] says what to print, if anything.
#[derive(Debug, Default)]
pub struct TeamNotice {
    told: bool,
}

impl TeamNotice {
    /// `Some(line)` for stderr when `b` is the first budget of an outage.
    pub fn observe(&mut self, b: &BudgetStatus) -> Option<String> {
        match sharing::sharing(b) {
            Sharing::Unreachable { backend, share } if !self.told => {
                self.told = true;
                Some(format!(
                    "mde-triage: {}",
                    sharing::unreachable_sentence(backend, &share)
                ))
            }
            Sharing::Unreachable { .. } => None,
            _ => {
                self.told = false;
                None
            }
        }
    }

    /// Prints the line, if `b` calls for one.
    pub fn tell(&mut self, b: &BudgetStatus) {
        if let Some(line) = self.observe(b) {
            eprintln!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::defender::Endpoint;
    use crate::fetch::{Backend, EndpointBudget, Link, SharedStatus, WindowStatus};

    fn budget(link: Option<Link>) -> BudgetStatus {
        BudgetStatus {
            endpoints: vec![EndpointBudget {
                endpoint: Endpoint::IpStats,
                windows: vec![WindowStatus {
                    limit: 100,
                    window: Duration::from_secs(60),
                    used: 0,
                }],
                paused_for: None,
                calls: 0,
                throttled: 0,
                paused_total: Duration::ZERO,
            }],
            shared: link.map(|link| SharedStatus {
                backend: Backend::Team,
                link,
                consoles: 3,
                endpoints: Vec::new(),
            }),
            ..BudgetStatus::default()
        }
    }

    #[test]
    fn said_once_per_outage_with_the_share() {
        let down = Some(Link::Unreachable { share_of: 3 });
        let up = Some(Link::Connected);
        let events = [None, up, down, down, down, up, up, down, down];
        let mut notice = TeamNotice::default();
        let said: Vec<(usize, String)> = events
            .iter()
            .enumerate()
            .filter_map(|(i, link)| notice.observe(&budget(*link)).map(|l| (i, l)))
            .collect();
        let line = "mde-triage: team budget unreachable · local share 33/min \
                    (100/min ÷ 3 processes seen)";
        assert_eq!(said, [(2, line.to_owned()), (7, line.to_owned())]);
    }
}
