//! Entry point: parse the command line, set up logging, run the subcommand, map failure to an
//! exit code.

#![deny(clippy::unwrap_used)]

use std::process::ExitCode;

use clap::Parser as _;
use mde_triage::cli::{AlertWith, Cli, Command, Via};
use mde_triage::commands::{
    Failure, cases, console, device, doctor, exit, expand, oneshot, simulator,
};
use mde_triage::config::{self, Settings};

fn main() -> ExitCode {
    mde_triage::tls::install();
    let cli = Cli::parse();
    let to_stderr = matches!(cli.command, Some(Command::Sim(_)));
    let _log_guard = init_logging(to_stderr);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mde-triage: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("mde-triage: {failure}");
            ExitCode::from(failure.code)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Failure> {
    // `doctor` reports a broken configuration as one of its checks instead of stopping on it.
    if matches!(cli.command, Some(Command::Doctor)) {
        return doctor::run(&cli.global).await;
    }
    // The simulator needs no tenant settings; everything else reads the file, if any.
    let settings = if matches!(cli.command, Some(Command::Sim(_))) {
        Settings::from_args(&cli.global)
    } else {
        Settings::resolve(&cli.global).map_err(|e| Failure::config(e.to_string()))?
    };
    match cli.command.unwrap_or(Command::Tui) {
        Command::Tui => console::tui(&settings).await,
        Command::Demo(args) => console::demo(&settings, &args).await,
        Command::Sim(args) => simulator::run(&args, cli.global.rate_limit.clone()).await,
        Command::Ip {
            ip,
            json,
            extract,
            devices_at,
            look_back,
        } => {
            oneshot::ip(
                &settings,
                ip.as_deref(),
                json,
                extract,
                devices_at.as_deref(),
                look_back,
            )
            .await
        }
        Command::Alert { id, json, with } => {
            oneshot::alert(&settings, &id, json, with.contains(&AlertWith::Device)).await
        }
        Command::Device { id, json } => device::device(&settings, &id, json).await,
        Command::Expand {
            seeds,
            depth,
            max_calls,
            plan,
            extract,
            via,
        } => {
            let options = expand::Options {
                depth,
                max_calls,
                limits: settings.limits.clone(),
                reserve: settings.reserve,
                look_back: settings.look_back,
                via_devices: via.contains(&Via::Devices),
            };
            expand::run(&settings, &seeds, options, plan, extract).await
        }
        Command::Doctor => doctor::run(&cli.global).await,
        Command::Cases => cases::list(&settings),
        Command::Export {
            name,
            format,
            output,
        } => cases::export(&settings, &name, format, output.as_deref()),
    }
}

/// Logs go to a daily file (never the TUI's screen), or to stderr for the simulator. Level from
/// `MDE_TRIAGE_LOG` (see [`log_filter`]), default `info`. No log directory means no logs, not a
/// failure.
fn init_logging(to_stderr: bool) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let filter = log_filter(std::env::var("MDE_TRIAGE_LOG").ok().as_deref());
    let logs = tracing_subscriber::registry().with(filter);
    let layer = tracing_subscriber::fmt::layer().log_internal_errors(true);
    if to_stderr {
        logs.with(layer.with_writer(std::io::stderr)).init();
        return None;
    }
    let dir = config::log_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let (writer, guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::daily(dir, "mde-triage.log"));
    logs.with(layer.with_ansi(false).with_writer(writer)).init();
    Some(guard)
}

/// `MDE_TRIAGE_LOG` as a filter: comma-separated `level` or `target=level` directives (e.g.
/// `debug` or `warn,mde_triage::fetch=trace`). Unset or unreadable means `info`, set but empty
/// means nothing is logged, and one bad directive means `info` again, as `EnvFilter` did.
/// (`Targets` keeps the build free of regex; span and field filters are not read.)
fn log_filter(var: Option<&str>) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    let info = || Targets::new().with_default(LevelFilter::INFO);
    let Some(var) = var else {
        return info();
    };
    let directives: Vec<&str> = var.split(',').filter(|d| !d.is_empty()).collect();
    if directives.is_empty() {
        return Targets::new();
    }
    directives.join(",").parse().unwrap_or_else(|_| info())
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::log_filter;

    /// The most verbose level `var` lets through for `target`, if any.
    fn level(var: Option<&str>, target: &str) -> Option<Level> {
        let filter = log_filter(var);
        [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ]
        .into_iter()
        .find(|l| filter.would_enable(target, l))
    }

    #[test]
    fn the_log_variable_reads_levels_and_targets_and_falls_back_to_info() {
        assert_eq!(level(None, "mde_triage"), Some(Level::INFO));
        assert_eq!(level(Some("debug"), "mde_triage"), Some(Level::DEBUG));
        assert_eq!(level(Some("off"), "mde_triage"), None);
        let mixed = Some("warn,mde_triage::fetch=trace,");
        assert_eq!(level(mixed, "mde_triage::fetch::actor"), Some(Level::TRACE));
        assert_eq!(level(mixed, "mde_triage::tui"), Some(Level::WARN));
        assert_eq!(level(Some("a=b=c"), "mde_triage"), Some(Level::INFO));
        assert_eq!(level(Some(""), "mde_triage"), None);
    }
}
