//! The prevalence period: how many hours `GET /api/ips/{ip}/stats` searches back
//! (`lookBackHours`, 1 to 720; FACTS.md §8.6), read from what the analyst types (`48h`, `7d`).
//!
//! The API's answer outside 1..=720 is undocumented, so anything else is refused here, before
//! any call.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A period the stats endpoint accepts: whole hours, 1 to 720 (30 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct LookBack(u32);

/// Why a period was refused; shown by the CLI and at config load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookBackError {
    #[error("give a period such as 24h, 48h, 7d or 30d")]
    Empty,
    #[error("'{0}' is not a period: write whole hours or days, e.g. 48h, 7d or 30d (1h to 720h)")]
    Garbled(String),
    #[error("'{0}' is outside 1h to 720h (30 days), the most the API searches back")]
    OutOfRange(String),
}

impl LookBack {
    /// The most the API takes, and what it means when `lookBackHours` is omitted.
    pub const MAX_HOURS: u32 = 720;
    pub const DAY: LookBack = LookBack(24);
    pub const WEEK: LookBack = LookBack(24 * 7);
    /// 30 days: the API's own default.
    pub const MONTH: LookBack = LookBack(Self::MAX_HOURS);
    /// What the console's cycle key steps through, shortest first.
    pub const CYCLE: [LookBack; 3] = [Self::DAY, Self::WEEK, Self::MONTH];

    /// `hours` if the API takes it.
    pub fn from_hours(hours: u32) -> Option<LookBack> {
        (1..=Self::MAX_HOURS)
            .contains(&hours)
            .then_some(LookBack(hours))
    }

    pub fn hours(self) -> u32 {
        self.0
    }

    /// The next period of [`Self::CYCLE`] after this one (the first longer one, wrapping to
    /// the shortest), so a configured `48h` steps to 7 days.
    pub fn next(self) -> LookBack {
        Self::CYCLE
            .into_iter()
            .find(|p| p.0 > self.0)
            .unwrap_or(Self::CYCLE[0])
    }

    /// As the analyst reads it: `1 day`, `7 days`, `48 hours`, `1 hour`.
    pub fn long(self) -> String {
        let (n, unit) = self.parts();
        let unit = if unit == 'd' { "day" } else { "hour" };
        format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
    }

    /// For narrow places: `1d`, `7d`, `48h`.
    pub fn short(self) -> String {
        let (n, unit) = self.parts();
        format!("{n}{unit}")
    }

    /// Whole days when the hours make whole days, else hours.
    fn parts(self) -> (u32, char) {
        if self.0.is_multiple_of(24) {
            (self.0 / 24, 'd')
        } else {
            (self.0, 'h')
        }
    }
}

impl Default for LookBack {
    fn default() -> Self {
        Self::MONTH
    }
}

impl fmt::Display for LookBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.long())
    }
}

impl FromStr for LookBack {
    type Err = LookBackError;

    /// `48h`, `7d`, `30d`, `48` (hours), case and surrounding spaces aside; `7 days` and
    /// `48 hours` too, as the console writes them.
    fn from_str(raw: &str) -> Result<Self, LookBackError> {
        let text = raw.trim().to_ascii_lowercase();
        if text.is_empty() {
            return Err(LookBackError::Empty);
        }
        let shown = crate::defender::sanitize::one_line(raw.trim());
        let garbled = || LookBackError::Garbled(shown.clone());
        let digits = text.chars().take_while(char::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let per_unit = match unit.trim() {
            "" | "h" | "hour" | "hours" => 1,
            "d" | "day" | "days" => 24,
            _ => return Err(garbled()),
        };
        if number.is_empty() {
            return Err(garbled());
        }
        // Too many digits for a u32 is still a number: out of range, not garbled.
        let hours = number
            .parse::<u32>()
            .ok()
            .and_then(|n| n.checked_mul(per_unit));
        hours
            .and_then(LookBack::from_hours)
            .ok_or_else(|| LookBackError::OutOfRange(shown.clone()))
    }
}

impl TryFrom<u32> for LookBack {
    type Error = LookBackError;

    fn try_from(hours: u32) -> Result<Self, LookBackError> {
        LookBack::from_hours(hours).ok_or_else(|| LookBackError::OutOfRange(format!("{hours}h")))
    }
}

impl From<LookBack> for u32 {
    fn from(p: LookBack) -> u32 {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn what_the_analyst_types_reads_as_hours_or_a_clear_refusal() {
        let accepted = [
            ("48h", 48),
            ("7d", 168),
            ("30d", 720),
            ("1d", 24),
            ("1h", 1),
            ("720h", 720),
            ("48", 48),
            (" 7D ", 168),
            ("7 days", 168),
            ("48 hours", 48),
            ("1 day", 24),
            ("012h", 12),
        ];
        for (text, hours) in accepted {
            assert_eq!(
                text.parse::<LookBack>().map(LookBack::hours),
                Ok(hours),
                "{text:?}"
            );
        }
        let out_of_range = [
            "0",
            "0h",
            "0d",
            "721h",
            "31d",
            "721",
            "99999999999h",
            "4294967295d",
        ];
        for text in out_of_range {
            let e = text.parse::<LookBack>().unwrap_err();
            assert!(matches!(e, LookBackError::OutOfRange(_)), "{text:?}: {e:?}");
            assert!(e.to_string().contains("1h to 720h"), "{e}");
        }
        let garbled = [
            "abc", "-1h", "-5", "1.5d", "2,5h", "h", "d", "7w", "7dd", "1e3", "+7d", "7d x",
        ];
        for text in garbled {
            let e = text.parse::<LookBack>().unwrap_err();
            assert!(matches!(e, LookBackError::Garbled(_)), "{text:?}: {e:?}");
            assert!(e.to_string().contains("48h, 7d or 30d"), "{e}");
        }
        assert_eq!("  ".parse::<LookBack>(), Err(LookBackError::Empty));
    }

    #[test]
    fn periods_read_as_the_analyst_says_them() {
        let cases = [
            (24, "1 day", "1d"),
            (168, "7 days", "7d"),
            (720, "30 days", "30d"),
            (48, "2 days", "2d"),
            (36, "36 hours", "36h"),
            (1, "1 hour", "1h"),
        ];
        for (hours, long, short) in cases {
            let p = LookBack::from_hours(hours).unwrap();
            assert_eq!((p.long(), p.short()), (long.to_owned(), short.to_owned()));
            assert_eq!(p.to_string(), long);
        }
        assert_eq!(
            LookBack::default().long(),
            "30 days",
            "the API's own default"
        );
    }

    #[test]
    fn the_cycle_goes_a_day_a_week_a_month_and_round() {
        assert_eq!(LookBack::DAY.next(), LookBack::WEEK);
        assert_eq!(LookBack::WEEK.next(), LookBack::MONTH);
        assert_eq!(LookBack::MONTH.next(), LookBack::DAY);
        let two_days = LookBack::from_hours(48).unwrap();
        assert_eq!(
            two_days.next(),
            LookBack::WEEK,
            "a configured period joins the cycle"
        );
        assert_eq!(LookBack::from_hours(1).unwrap().next(), LookBack::DAY);
    }

    #[test]
    fn serde_refuses_what_the_parser_refuses() {
        assert_eq!(serde_json::to_string(&LookBack::WEEK).unwrap(), "168");
        assert_eq!(serde_json::from_str::<LookBack>("48").unwrap().hours(), 48);
        assert!(serde_json::from_str::<LookBack>("0").is_err());
        assert!(serde_json::from_str::<LookBack>("721").is_err());
    }

    proptest! {
        /// Every period reads back from both of its written forms, and any count of hours or
        /// days is accepted exactly when it is within 1..=720 hours.
        #[test]
        fn written_forms_read_back_and_the_range_is_exact(n in 0u32..2000, days in any::<bool>()) {
            let (text, hours) = if days { (format!("{n}d"), n * 24) } else { (format!("{n}h"), n) };
            let parsed = text.parse::<LookBack>();
            prop_assert_eq!(parsed.is_ok(), (1..=720).contains(&hours), "{}", text);
            if let Ok(p) = parsed {
                prop_assert_eq!(p.hours(), hours);
                prop_assert_eq!(p.short().parse::<LookBack>(), Ok(p));
                prop_assert_eq!(p.long().parse::<LookBack>(), Ok(p));
            }
        }
    }
}
