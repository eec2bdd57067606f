//! When the simulated tenant's story happens: told at an instant, each of its times the same
//! distance before it as in the asset, so a story told "now" never ages past the API's 30 days.

use chrono::{DateTime, Duration, SubsecRound, Utc};

use super::dataset::{Dataset, IpEntry, SimAlert};
use super::devices::{Hold, SimDevice};
use crate::defender::{Alert, Device};

impl Dataset {
    /// The instant the story is told at; the simulator's clock starts there.
    pub fn told_at(&self) -> DateTime<Utc> {
        self.told_at
    }

    /// The same story told at `now` (cut to whole seconds, so the same offsets every day):
    /// every time moves by `now - told_at` but the documentation's own ones (`fixed`).
    pub fn retold_at(self, now: DateTime<Utc>) -> Self {
        let by = now.trunc_subsecs(0) - self.told_at;
        self.shifted(by)
    }

    /// The demo told on the day of `now`: at the last instant a whole number of days after
    /// the asset's own `toldAt` that is not after `now`. Its dates move with the day; its
    /// times of day stay, and so does README's screen but for its dates.
    pub fn demo_on(now: DateTime<Utc>) -> Self {
        let demo = Self::demo();
        let days = (now - demo.told_at).num_seconds().div_euclid(86_400);
        let at = demo.told_at + Duration::days(days);
        demo.retold_at(at)
    }

    /// Where a time of the story as the asset writes it (told at its `toldAt`) falls in this
    /// telling: what tests position themselves with, instead of the real clock.
    pub fn as_told(&self, written: DateTime<Utc>) -> DateTime<Utc> {
        written + (self.told_at - self.written_at)
    }

    fn shifted(mut self, by: Duration) -> Self {
        // Every part of the story named, no `..`: a new kind of record does not compile until
        // it is retold here, and then not until it says which of its times move.
        let Dataset {
            ips,
            alerts,
            devices,
            told_at,
            written_at: _,
        } = &mut self;
        ips.values_mut().for_each(|e| e.retell(by));
        alerts.retell(by);
        devices.retell(by);
        *told_at += by;
        self
    }
}

/// A record of the story with times in it, moved by `by` when the story is retold. The
/// simulator's own records name every field (no `..`), so a field added to one does not
/// compile until it is said whether it is a time of the story.
pub(super) trait Retell {
    fn retell(&mut self, by: Duration);
}

impl<T: Retell> Retell for Vec<T> {
    fn retell(&mut self, by: Duration) {
        self.iter_mut().for_each(|r| r.retell(by));
    }
}

/// Moves a time of the story, if there is one (a kind's own records use it too).
pub(super) fn move_by(t: &mut Option<DateTime<Utc>>, by: Duration) {
    if let Some(t) = t {
        *t += by;
    }
}

impl Retell for IpEntry {
    fn retell(&mut self, by: Duration) {
        let IpEntry {
            ip: _,
            prevalence: _,
            first_seen,
            last_seen,
            shape: _,
            not_found: _,
            fixed,
        } = self;
        // The documentation's own times stay as written.
        if !*fixed {
            move_by(first_seen, by);
            move_by(last_seen, by);
        }
    }
}

impl Retell for SimAlert {
    fn retell(&mut self, by: Duration) {
        let SimAlert {
            alert,
            related_ips: _,
        } = self;
        // The API's record: its times are these (its other fields are the API's to grow).
        let Alert {
            alert_creation_time,
            first_event_time,
            last_event_time,
            last_update_time,
            resolved_time,
            comments,
            ..
        } = alert;
        for t in [
            alert_creation_time,
            first_event_time,
            last_event_time,
            last_update_time,
            resolved_time,
        ] {
            move_by(t, by);
        }
        for c in comments {
            move_by(&mut c.created_time, by);
        }
    }
}

impl Retell for SimDevice {
    fn retell(&mut self, by: Duration) {
        let SimDevice { device, holds } = self;
        // The API's record, as for an alert.
        let Device {
            first_seen,
            last_seen,
            ..
        } = device;
        move_by(first_seen, by);
        move_by(last_seen, by);
        holds.retell(by);
    }
}

impl Retell for Hold {
    fn retell(&mut self, by: Duration) {
        let Hold { ip: _, from, until } = self;
        move_by(from, by);
        move_by(until, by);
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::sim::dataset::StatsAnswer;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn stats(d: &Dataset, ip: &str) -> crate::defender::IpStats {
        match d.stats(ip.parse().unwrap(), 720) {
            StatsAnswer::Found(s) => s,
            StatsAnswer::NotFound => panic!("{ip} is found"),
        }
    }

    #[test]
    fn a_story_told_90_days_later_is_the_same_story_90_days_later() {
        let now = t("2026-12-07T12:00:00Z");
        let (today, later) = (
            Dataset::demo_at(now),
            Dataset::demo_at(now + Duration::days(90)),
        );
        assert_eq!(today.told_at(), now);
        assert_eq!(later.told_at() - today.told_at(), Duration::days(90));
        let moved = |a: Option<DateTime<Utc>>| a.map(|a| a + Duration::days(90));
        for (a, b) in today.alerts.iter().zip(&later.alerts) {
            assert_eq!(a.alert.id, b.alert.id, "the same order");
            assert_eq!(
                moved(a.alert.alert_creation_time),
                b.alert.alert_creation_time
            );
            assert_eq!(moved(a.alert.resolved_time), b.alert.resolved_time);
            assert_eq!(a.related_ips, b.related_ips);
        }
        for ip in ["104.80.104.128", "203.0.113.66", "10.20.30.40"] {
            let (a, b) = (stats(&today, ip), stats(&later, ip));
            assert_eq!(a.prevalence(), b.prevalence(), "{ip}");
            assert_eq!(moved(a.org_first_seen), b.org_first_seen, "{ip}");
            assert_eq!(moved(a.org_last_seen), b.org_last_seen, "{ip}");
        }
        // The documentation's own example keeps the documentation's dates.
        let (a, b) = (
            stats(&today, "10.209.67.177"),
            stats(&later, "10.209.67.177"),
        );
        assert_eq!(
            (a.org_first_seen, a.org_last_seen),
            (b.org_first_seen, b.org_last_seen)
        );
        assert_eq!(a.org_first_seen, Some(t("2017-07-30T13:36:06Z")));
        // Who held the moved IP at the cradle's time and that night, either day.
        let ip: IpAddr = "10.20.40.15".parse().unwrap();
        for d in [&today, &later] {
            let cradle = d.as_told(t("2026-11-20T09:14:22Z"));
            let night = d.as_told(t("2026-11-21T03:13:20Z"));
            assert_eq!(
                d.devices_at(ip, cradle)[0].name(),
                "ws-fin-07.contoso.local"
            );
            assert_eq!(
                d.devices_at(ip, night)[0].name(),
                "ws-exec-01.contoso.local"
            );
        }
    }

    #[test]
    fn the_story_ends_a_few_days_before_it_is_told_whatever_the_day() {
        let now = t("2027-03-07T08:13:59.123456789Z");
        let d = Dataset::demo_at(now);
        assert_eq!(d.told_at(), t("2027-03-07T08:13:59Z"), "whole seconds");
        let last = d
            .alerts
            .iter()
            .filter_map(|a| a.alert.alert_creation_time)
            .chain(d.devices.iter().filter_map(|x| x.device.last_seen))
            .max()
            .unwrap();
        let before = d.told_at() - last;
        assert!(
            before > Duration::days(1) && before < Duration::days(4),
            "{before}"
        );
        let cradle = d.alert("636688558380765161_2136280442").unwrap();
        let cradle_at = cradle.alert.alert_creation_time.unwrap();
        assert!(d.told_at() - cradle_at < Duration::days(7));
        assert_eq!(cradle_at, d.as_told(t("2026-11-20T09:14:22.4411306Z")));
    }

    #[test]
    fn told_on_a_day_the_story_keeps_its_times_of_day() {
        let written = Dataset::demo().told_at();
        for now in [
            t("2027-03-07T08:13:59Z"),
            t("2026-12-07T12:00:00Z"),
            t("2026-12-07T11:59:59Z"),
            written,
            written - Duration::seconds(1),
        ] {
            let d = Dataset::demo_on(now);
            let since = now - d.told_at();
            assert!(
                since >= Duration::zero() && since < Duration::days(1),
                "{now}"
            );
            assert_eq!(d.told_at().time(), written.time(), "{now}");
        }
        assert_eq!(Dataset::demo_on(written).told_at(), written);
    }
}
