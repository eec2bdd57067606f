//! What the one-shot commands (`ip`, `alert`, `device`) say: their answers collected with
//! stderr told why they wait, the cache's age, and stdout written as a table or JSON.

use std::io::Write as _;

use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

use super::Failure;
use crate::config::Settings;
use crate::defender::{ApiError, FetchKey};
use crate::fetch::{Collected, FetchEvent, FetchHandle, Noted, Priority};

/// Asks the scheduler for `keys` and waits for every answer, telling stderr about retries and
/// throttling so a script's operator knows why it waits.
pub async fn collect(
    fetch: &FetchHandle,
    events: &mut UnboundedReceiver<FetchEvent>,
    keys: Vec<FetchKey>,
) -> Collected {
    let mut pause_announced = false;
    let mut team = super::team_notice::TeamNotice::default();
    crate::fetch::collect(fetch, events, keys, Priority::Foreground, |noted| {
        match noted {
            Noted::RefreshFailed(key, e) => {
                eprintln!("mde-triage: {key}: could not refresh ({e}); using the cached answer");
            }
            Noted::Event(FetchEvent::Retrying {
                key,
                attempt,
                max,
                error,
            }) => {
                eprintln!("mde-triage: {key}: {error}; retrying ({attempt}/{max})");
            }
            Noted::Event(FetchEvent::Budget(b)) => {
                team.tell(b);
                match b.paused_for() {
                    // An hourly quota spent: say when to come back rather than hang.
                    Some(p) if p > LONGEST_WAIT => return Some(too_long_a_pause(p)),
                    Some(p) if !pause_announced => {
                        eprintln!(
                            "mde-triage: throttled by the API; waiting {}s",
                            p.as_secs_f64().ceil()
                        );
                        pause_announced = true;
                    }
                    None => pause_announced = false,
                    _ => {}
                }
            }
            Noted::Event(FetchEvent::Done { .. }) => {}
        }
        None
    })
    .await
}

/// A one-shot waits out a short 429 pause, as a script would only retry; a longer one (an
/// hourly quota spent, often by another tool on the same registration) ends it with exit code
/// 7 and when to try again.
const LONGEST_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

fn too_long_a_pause(pause: std::time::Duration) -> ApiError {
    let mut e = ApiError::new(
        crate::defender::ErrorKind::Throttled,
        format!(
            "the endpoint is paused for longer than a one-shot waits ({} s); try again later",
            LONGEST_WAIT.as_secs()
        ),
    );
    e.retry_after = Some(pause);
    e
}

/// Says on stderr that the output came from the cache, and how old it is. Offline, the table
/// says so too (the line returned): there the cache serves answers whatever their age, so the
/// age belongs with the data, not only on stderr, which a pipe or a ticket paste leaves
/// behind. Online, a cached answer is within its time-to-live, and the note on stderr is
/// enough. JSON keeps its stable shape either way.
pub fn say_cached(
    settings: &Settings,
    cached_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<String> {
    let age = crate::text::age(cached_at?, chrono::Utc::now());
    if settings.cache.offline {
        // No "--no-cache asks the API" here: offline, nothing is asked whatever the flags.
        eprintln!("mde-triage: offline: served from the cache (fetched {age})");
        Some(format!("offline: from the cache, as of {age}"))
    } else {
        eprintln!("mde-triage: served from the cache (fetched {age}); --no-cache asks the API");
        None
    }
}

/// One compact JSON object: `--extract` prints one line per IP, for `jq` and line tools.
pub fn json_line<T: Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::new(super::exit::INTERNAL, e.to_string()))
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(super::exit::INTERNAL, e.to_string()))?;
    print_lines(&[text])
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a message.
pub fn print_lines(lines: &[String]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(())
}
