//! `tui` and `demo`: the console against a tenant, or against the in-process simulator.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::{Failure, connect, credentials, host_of};
use crate::app::State;
use crate::cli::DemoArgs;
use crate::config::Settings;
use crate::defender::client::StaticToken;
use crate::sim::{self, SimConfig};

/// The console against the configured tenant.
pub async fn tui(settings: &Settings) -> Result<(), Failure> {
    let tokens = credentials(settings)?;
    // Sign in before the screen switches: a device code must be readable, and a refused
    // sign-in is better said once on stderr than in every pane.
    tokens.token().await?;
    let (fetch, events) = connect(&settings.api_url, tokens, settings)?;
    let state = State::new(None, host_of(&settings.api_url));
    crate::tui::run_in_terminal(state, fetch, events).await?;
    Ok(())
}

/// The console against the simulator on `127.0.0.1:0`, through the real HTTP client, with a
/// loud banner so simulated data is never mistaken for a tenant's.
pub async fn demo(settings: &Settings, args: &DemoArgs) -> Result<(), Failure> {
    let config = SimConfig {
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        ..SimConfig::default()
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let sim = sim::start(addr, config).await.map_err(|e| {
        Failure::new(
            super::exit::INTERNAL,
            format!("cannot start the simulator: {e}"),
        )
    })?;
    tracing::info!(url = %sim.url, "demo simulator started");
    let tokens = Arc::new(StaticToken::new(sim.token.clone()));
    let (fetch, events) = connect(&sim.url, tokens, settings)?;
    let state = State::new(Some("SIMULATED TENANT".into()), host_of(&sim.url));
    let result = crate::tui::run_in_terminal(state, fetch, events).await;
    tracing::info!(requests = sim.requests().len(), "demo simulator answered");
    sim.shutdown().await;
    result.map_err(Failure::from)
}
