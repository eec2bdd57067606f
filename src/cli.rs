//! The command line (DESIGN.md section 6). These names are a contract: scripts depend on them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::config::flags::GlobalArgs;

#[derive(Debug, Parser)]
#[command(
    name = "mde-triage",
    version,
    about = "Pivot through Microsoft Defender for Endpoint IPs and alerts, inside the API's rate limits."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `expand --via` also walks through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    /// Each alert's device and that device's alerts
    Devices,
}

/// What `alert --with` also reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlertWith {
    /// The alert's device: its record (for the machineId), then the machine: 2 calls
    Device,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The console against the configured tenant (the default)
    Tui,
    /// The console against a built-in simulated tenant: try it with no account
    Demo(DemoArgs),
    /// Run the simulated tenant alone; prints its URL and a token
    Sim(SimArgs),
    /// Prevalence and related alerts of one IP (2 API calls; --devices-at adds 1)
    ///
    /// Costs 2 calls per IP (its stats and its alerts), one more per further page of a long
    /// alert list; --devices-at adds 1 for an internal IP (none for a public one). The exit
    /// code is the IP's answer's: devices that could not be read are a warning (the JSON's
    /// `warnings` and one line on stderr), never the exit code.
    Ip {
        /// IPv4 or IPv6, as tickets write it (10[.]1[.]2[.]3, 1.2.3.4:443, hxxp://…); with
        /// --extract, text holding any number of IPs, or - (or nothing) for stdin
        #[arg(required_unless_present = "extract")]
        ip: Option<String>,
        /// Print JSON instead of a table (with --extract, one JSON object per line)
        #[arg(long)]
        json: bool,
        /// Find every IP in the text (a ticket, an e-mail, a log excerpt) and look up each
        #[arg(long)]
        extract: bool,
        /// Also the devices that held the IP within 15 minutes of this time (e.g.
        /// 2026-11-20T09:14:00Z, in the last 30 days); internal IPs only, a public one spends
        /// no call
        #[arg(long, value_name = "TIME")]
        devices_at: Option<String>,
        /// Prevalence period: whole hours or days, 1h to 720h, e.g. 48h, 7d, 30d
        /// [default: the config file's look_back, else 30d]
        #[arg(long, value_name = "PERIOD")]
        look_back: Option<crate::defender::LookBack>,
    },
    /// Related IPs of one alert (1 API call; --with device adds 2)
    ///
    /// Costs 1 call (the alert's IPs, one more per further page), so a script looping over
    /// 500 alerts spends 500. --with device adds 2: the alert's record (for its machineId,
    /// Alert.Read.All) and the device (Machine.Read.All). The exit code is the IPs' answer's:
    /// what --with could not read is a warning (the JSON's `warnings` and one line on stderr
    /// naming the permission or what a 404 means), never the exit code.
    Alert {
        /// Alert id, e.g. 636688558380765161_2136280442
        id: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Also read these, comma-separated (each costs calls; see above)
        #[arg(long = "with", value_enum, value_delimiter = ',', value_name = "LIST")]
        with: Vec<AlertWith>,
    },
    /// A device and its alerts (2 API calls; exit 4 when the API does not know it)
    ///
    /// Costs 2 calls (the device and its alerts), one more per further page of its alerts.
    /// Both are its answer, as its name says: alerts that cannot be read still print the
    /// device, and their error is the exit code.
    Device {
        /// Device (machine) id, e.g. 1e5bc9d7e413ddd7902c2932e418702b84d0cc07
        id: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Breadth-first pivot from seed IPs under the budget; one JSON line per node
    Expand {
        /// Seed IPs (defanged forms accepted), or - to read them from stdin, one per line
        #[arg(required = true)]
        seeds: Vec<String>,
        /// IP hops from the seeds: 0 looks up the seeds only, 1 also their alerts' IPs, ...
        #[arg(long, default_value_t = 1)]
        depth: u32,
        /// Hard stop: make at most this many requests
        #[arg(long, value_name = "N")]
        max_calls: Option<u64>,
        /// Print what the first level costs and the least time the budget allows; call nothing
        #[arg(long)]
        plan: bool,
        /// Seeds are every IP found in the text (stdin for -, or the arguments): a ticket, an
        /// e-mail, a log excerpt; what was skipped and why goes to stderr
        #[arg(long)]
        extract: bool,
        /// Also pivot through devices: each alert's device, that device's alerts and their
        /// IPs (device and dev-alerts calls; alert records when a list lacks the machine id)
        #[arg(long, value_enum, value_name = "WHAT")]
        via: Vec<Via>,
    },
    /// Check configuration, database, credentials, token, reachability, clock and permissions
    Doctor,
    /// List saved cases, most recent first
    Cases,
    /// Export a case for a ticket: Markdown, JSON or CSV
    Export {
        /// The case's name, as `cases` lists it
        #[arg(value_name = "CASE")]
        name: String,
        /// md (pastes into a ticket), json or csv
        #[arg(long, default_value = "md")]
        format: crate::report::Format,
        /// Write to this file instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args, Default)]
pub struct DemoArgs {
    /// Added to every simulated API answer, to feel a slow tenant
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of simulated API calls that fail with a 5xx (0.0 to 1.0)
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = crate::config::flags::probability)]
    pub fail_rate: f64,
}

#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to listen on; loopback unless you mean it
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Added to every API answer
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of API calls that fail with a 5xx (0.0 to 1.0)
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = crate::config::flags::probability)]
    pub fail_rate: f64,
    /// Serve a generated tenant of N internal IPs (10.0.0.1 up) and about as many alerts,
    /// instead of the demo story: for scale tests and benchmarks
    #[arg(long, value_name = "N")]
    pub synthetic: Option<usize>,
    /// Seed for --synthetic and fault injection
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
}
