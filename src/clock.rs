//! The wall clock that dates answers and bounds what may be asked (findbyip's 30 days): the
//! system's, or one set a fixed span ahead, so a test can run the whole console on a day of its
//! choosing. Budgets keep the real clock: their times are shared with other processes.

use chrono::{DateTime, TimeDelta, Utc};

/// The system clock, read `ahead` later.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wall {
    ahead: TimeDelta,
}

impl Wall {
    /// The system's clock as it is.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system's clock, `by` later (or earlier, for a negative span).
    pub fn ahead(by: TimeDelta) -> Self {
        Self { ahead: by }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.ahead
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_ahead_reads_the_system_s_plus_its_span() {
        let (before, ahead, after) = (
            Utc::now(),
            Wall::ahead(TimeDelta::days(90)).now(),
            Utc::now(),
        );
        assert!(ahead >= before + TimeDelta::days(90) && ahead <= after + TimeDelta::days(90));
        let system = Wall::system().now();
        assert!(system >= before && system <= Utc::now());
    }
}
