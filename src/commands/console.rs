//! `tui` and `demo`: the console against a tenant, or against the in-process simulator, with
//! its case opened (or reopened where it was left) and its answers cached.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::session::{case_meta, default_case_name};
use super::wiring::{Recording, Wiring};
use super::{Failure, credentials, host_of};
use crate::app::{CaseView, State};
use crate::cli::DemoArgs;
use crate::config::Settings;
use crate::defender::client::{StaticToken, TokenSource};
use crate::sim::{self, SimConfig};

/// The console against the configured tenant.
pub async fn tui(settings: &Settings) -> Result<(), Failure> {
    let tokens = credentials(settings)?;
    if !settings.cache.offline {
        // Sign in before the screen switches: a device code must be readable, and a refused
        // sign-in is better said once on stderr than in every pane.
        tokens.token().await?;
    }
    console(settings, tokens, &settings.api_url, None, settings.scope()).await
}

/// The console against the simulator on `127.0.0.1:0`, through the real HTTP client, with a
/// loud banner so simulated data is never mistaken for a tenant's.
pub async fn demo(settings: &Settings, args: &DemoArgs) -> Result<(), Failure> {
    let config = SimConfig {
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        // Told today: the story is as recent whatever the day (the console reads the same
        // clock), at README's times of day.
        dataset: Arc::new(sim::Dataset::demo_on(chrono::Utc::now())),
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
    // The simulator's port changes each run; its data does not. One scope keeps the demo's
    // cache and cases apart from every real tenant's.
    let result = console(
        settings,
        tokens,
        &sim.url,
        Some("SIMULATED TENANT".into()),
        "demo".into(),
    )
    .await;
    tracing::info!(requests = sim.requests().len(), "demo simulator answered");
    sim.shutdown().await;
    result
}

/// Everything a console needs: its state (with the case reopened, today's unless `--case`
/// names one), the link that records the case, and the wiring (the scheduler with the cache
/// behind it). Tests drive `tui::run` with it.
pub fn wire(
    settings: &Settings,
    tokens: Arc<dyn TokenSource>,
    api_url: &str,
    banner: Option<String>,
    scope: String,
    ledger: Option<Arc<dyn crate::fetch::Ledger>>,
) -> Result<(State, Option<crate::tui::CaseWriter>, Wiring), Failure> {
    let name = settings
        .case
        .clone()
        .unwrap_or_else(|| default_case_name(settings, banner.is_some()));
    let api_host = banner.clone().unwrap_or_else(|| host_of(api_url));
    let meta = case_meta(settings, &scope, &api_host);
    let (recording, saved) = Recording::console(settings, scope, &name, &meta)?;
    let mut wiring = Wiring::connected(settings, tokens, api_url, recording, ledger)?;

    let mut state = State::new(banner, host_of(api_url));
    state.offline = settings.cache.offline;
    state.rare_below = settings.rare_below;
    state.look_back = settings.look_back;
    state.palette = settings.palette;
    state.theme = settings.theme;
    state.keymap = settings.keymap.clone();
    state.portal = meta.portal.clone();
    state.tenant_id = meta.tenant_id.clone();
    let db = &mut wiring.recording.db;
    let recorder = match (wiring.recording.case, saved) {
        (Some(id), Some(saved)) => {
            state.reopen(&name, saved);
            db.recorder(id, &name, settings)
        }
        _ => {
            // No database: the case lives in memory, and the status bar says why.
            state.case = Some(CaseView::new(&name));
            None
        }
    };
    if let Some(w) = db.warnings.first() {
        state.save_error = Some(w.clone());
    }
    Ok((state, recorder, wiring))
}

async fn console(
    settings: &Settings,
    tokens: Arc<dyn TokenSource>,
    api_url: &str,
    banner: Option<String>,
    scope: String,
) -> Result<(), Failure> {
    let books = super::books::open(settings, &tokens, &scope).await;
    let (state, recorder, wiring) = wire(settings, tokens, api_url, banner, scope, books.ledger)?;
    let Wiring {
        fetch,
        events,
        recording: mut rec,
    } = wiring;
    rec.db.warnings.extend(books.warnings);
    let result = crate::tui::run_in_terminal(
        state,
        fetch,
        events,
        recorder,
        settings.mouse,
        settings.wall,
    )
    .await;
    let warnings = std::mem::take(&mut rec.db.warnings);
    rec.finish();
    for w in warnings {
        eprintln!("mde-triage: {w}");
    }
    result.map_err(Failure::from)
}
