//! `sim`: the simulated tenant alone, for scripts, the one-shot commands and other consoles.

use std::time::Duration;

use super::Failure;
use crate::cli::SimArgs;
use crate::sim::{self, SimConfig};

pub async fn run(args: &SimArgs, limits: Option<crate::fetch::RateLimits>) -> Result<(), Failure> {
    let config = SimConfig {
        limits: limits.unwrap_or_default(),
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        seed: args.seed,
        // The demo told today, as `demo` tells it: the clients that ask read the same clock.
        // A synthetic tenant keeps its dates: it is compared across runs and has no devices
        // for findbyip to age out of.
        dataset: std::sync::Arc::new(match args.synthetic {
            Some(n) => sim::Dataset::synthetic(n, args.seed),
            None => sim::Dataset::demo_on(chrono::Utc::now()),
        }),
        ..SimConfig::default()
    };
    let limits_text = config.limits.to_string();
    let sim = sim::start(args.listen, config).await.map_err(|e| {
        Failure::new(
            super::exit::CONFIG,
            format!("cannot listen on {}: {e}", args.listen),
        )
    })?;
    println!(
        "mde-triage simulator: SIMULATED TENANT on {} (limits {limits_text} per endpoint)",
        sim.url
    );
    println!("  export MDE_API_URL={}", sim.url);
    println!("  export MDE_TOKEN={}", sim.token);
    println!("  request log: {}/_sim/requests", sim.url);
    println!("Ctrl-C to stop.");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    wait_for_stop().await;
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
