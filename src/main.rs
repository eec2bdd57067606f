//! Entry point: parse the command line, set up logging, run the subcommand, map failure to an
//! exit code.

use std::process::ExitCode;

use clap::Parser as _;
use mde_triage::cli::{Cli, Command};
use mde_triage::commands::{Failure, cases, console, doctor, exit, expand, oneshot, simulator};
use mde_triage::config::{self, Settings};

fn main() -> ExitCode {
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
        Command::Ip { ip, json, extract } => {
            oneshot::ip(&settings, ip.as_deref(), json, extract).await
        }
        Command::Alert { id, json } => oneshot::alert(&settings, &id, json).await,
        Command::Expand {
            seeds,
            depth,
            max_calls,
            plan,
        } => {
            let options = expand::Options {
                depth,
                max_calls,
                limits: settings.limits.clone(),
                reserve: settings.reserve,
            };
            expand::run(&settings, &seeds, options, plan).await
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
/// `MDE_TRIAGE_LOG` (e.g. `debug`), default `info`. No log directory means no logs, not a failure.
fn init_logging(to_stderr: bool) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("MDE_TRIAGE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    if to_stderr {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        return None;
    }
    let dir = config::log_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let (writer, guard) =
        tracing_appender::non_blocking(tracing_appender::rolling::daily(dir, "mde-triage.log"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer)
        .init();
    Some(guard)
}
