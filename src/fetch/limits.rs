//! Rate-limit specs like `100/1m,1500/1h`: what `--rate-limit` and the simulator accept.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// At most `limit` calls in any `window`-long span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u32,
    pub window: Duration,
}

impl Window {
    /// Calls a caller keeping `reserve` (a fraction of the window) untouched may make in it;
    /// at least one, so reserved work still moves.
    pub fn allowed(&self, reserve: f64) -> u32 {
        let kept = (f64::from(self.limit) * reserve.clamp(0.0, 1.0)).ceil() as u32;
        self.limit.saturating_sub(kept).max(1)
    }
}

/// Every window must have room for a call to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits(pub Vec<Window>);

impl RateLimits {
    /// The API's documented limits per endpoint: 100 a minute and 1,500 an hour.
    pub fn api_default() -> Self {
        "100/1m,1500/1h".parse().expect("built-in spec parses")
    }

    /// The longest window: how long call timestamps must be remembered.
    pub fn horizon(&self) -> Duration {
        self.0.iter().map(|w| w.window).max().unwrap_or_default()
    }
}

impl RateLimits {
    /// The windows as seen by work that keeps `reserve` for the analyst (prefetch, batch).
    pub fn share(&self, reserve: f64) -> RateLimits {
        RateLimits(
            self.0
                .iter()
                .map(|w| Window {
                    limit: w.allowed(reserve),
                    window: w.window,
                })
                .collect(),
        )
    }

    /// From a fresh budget, the earliest start of the last of `calls` back-to-back calls on one
    /// endpoint: call `i` waits until call `i - limit` has left each window. The floor for any
    /// plan, and the yardstick the benchmarks measure the scheduler against.
    pub fn min_time(&self, calls: usize) -> Duration {
        let mut starts: Vec<Duration> = Vec::with_capacity(calls);
        for i in 0..calls {
            let at = self
                .0
                .iter()
                .filter(|w| i >= w.limit as usize)
                .map(|w| starts[i - w.limit as usize] + w.window)
                .max()
                .unwrap_or_default();
            starts.push(at);
        }
        starts.last().copied().unwrap_or_default()
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::api_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad rate limit '{spec}': {why} (expected e.g. 100/1m,1500/1h)")]
pub struct LimitsError {
    spec: String,
    why: &'static str,
}

impl FromStr for RateLimits {
    type Err = LimitsError;

    fn from_str(spec: &str) -> Result<Self, LimitsError> {
        let err = |why| LimitsError {
            spec: spec.to_owned(),
            why,
        };
        let mut windows = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (count, span) = part
                .split_once('/')
                .ok_or_else(|| err("each window is COUNT/SPAN"))?;
            let limit: u32 = count
                .trim()
                .parse()
                .map_err(|_| err("the count must be a whole number"))?;
            if limit == 0 {
                return Err(err("a window must allow at least one call"));
            }
            let window = parse_span(span.trim())
                .ok_or_else(|| err("the span must be like 10s, 1m or 1h"))?;
            if window.is_zero() {
                return Err(err("a window must be longer than zero"));
            }
            windows.push(Window { limit, window });
        }
        if windows.is_empty() {
            return Err(err("no window given"));
        }
        windows.sort_by_key(|w| w.window);
        Ok(Self(windows))
    }
}

/// `10s`, `5m`, `1h`, `0s`: a span as the rate-limit spec and the config file write it.
pub fn parse_span(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = if digits.is_empty() {
        1
    } else {
        digits.parse().ok()?
    };
    let secs = match unit {
        "s" | "sec" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// `100/1m`: as the spec writes it.
impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.limit, crate::text::span(self.window))
    }
}

impl fmt::Display for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{w}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_specs() {
        let l: RateLimits = "1500/1h, 100/1m".parse().unwrap();
        assert_eq!(l.to_string(), "100/1m,1500/1h");
        assert_eq!(l.horizon(), Duration::from_secs(3600));
        assert_eq!(
            "20/10s".parse::<RateLimits>().unwrap().0[0].window,
            Duration::from_secs(10)
        );
        for bad in ["", "100", "0/1m", "10/1d", "x/1m", "10/0s"] {
            assert!(bad.parse::<RateLimits>().is_err(), "{bad}");
        }
    }

    #[test]
    fn minimum_time_for_a_backlog() {
        let l: RateLimits = "10/1m".parse().unwrap();
        assert_eq!(l.min_time(0), Duration::ZERO);
        assert_eq!(l.min_time(10), Duration::ZERO);
        assert_eq!(l.min_time(11), Duration::from_secs(60));
        assert_eq!(l.min_time(25), Duration::from_secs(120));
        // The hourly window binds after 100 calls even though the short one has room.
        let l: RateLimits = "10/5s,100/1h".parse().unwrap();
        assert_eq!(l.min_time(100), Duration::from_secs(45));
        assert_eq!(l.min_time(101), Duration::from_secs(3600));
    }
}
