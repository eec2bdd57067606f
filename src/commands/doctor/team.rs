//! `doctor`'s team-budget check: the Redis URL, sign-in, a round trip's latency, and that the
//! server loads the admission scripts. Only with `team_redis` set.

use std::time::Duration;

use super::{Check, Report};
use crate::config::Settings;
use crate::team::TeamUrl;
use crate::team::probe::probe;

/// Longest wait for each step: a team Redis slower than this is as good as down.
const DEADLINE: Duration = Duration::from_secs(2);

pub(super) async fn team_check(settings: &Settings, report: &mut Report) {
    let Some(setting) = &settings.team_redis else {
        return;
    };
    let url = match TeamUrl::parse(&setting.url) {
        Ok(url) => url.with_password(setting.password.clone()),
        Err(e) => {
            report.add(Check::fail(
                "team budget",
                e.to_string(),
                "set team_redis to redis://, rediss://, redis+unix:// or unix:// (README, \"Team budget\")",
            ));
            return;
        }
    };
    match probe(&url, DEADLINE).await {
        Ok(p) => {
            let slow = p.latency > Duration::from_millis(50);
            let detail = format!(
                "{url}: Redis {}, round trip {:.2} ms, {} scripts loaded",
                p.version,
                p.latency.as_secs_f64() * 1000.0,
                p.scripts
            );
            report.add(if slow {
                Check::warn(
                    "team budget",
                    detail,
                    "every call waits one round trip for its admission: put Redis nearer the consoles",
                )
            } else {
                Check::pass("team budget", detail)
            });
        }
        Err(why) => report.add(Check::fail(
            "team budget",
            format!("{url}: {why}"),
            "start Redis or fix team_redis / its password; meanwhile each console keeps a local share of the budget",
        )),
    }
}
