//! README stays true: its key table is the default key map, its config error is the one printed,
//! and the commands it documents parse.

use clap::Parser as _;
use mde_triage::app::Keymap;
use mde_triage::cli::Cli;
use mde_triage::config::FileConfig;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

fn key_table() -> String {
    let mut table = String::from("| key | action |\n|---|---|\n");
    // The defaults: what a fresh install does, whatever a config file may rebind.
    for b in Keymap::default().bindings() {
        let label = b.label().replace('|', "\\|");
        table.push_str(&format!("| `{label}` | {} |\n", b.help));
    }
    table
}

#[test]
fn the_key_table_is_the_key_map() {
    let table = key_table();
    assert!(
        readme().contains(&table),
        "README's key table drifted from src/app/keymap.rs; paste this under '## Keys':\n\n{table}"
    );
}

#[test]
fn the_documented_config_error_is_the_one_printed() {
    // The fields a layer accepts are listed in that message: it follows `Layer`, and so must
    // README.
    let path = std::path::Path::new("/home/me/.config/mde-triage/config.toml");
    let err = FileConfig::parse(path, "[settings]\nrate_limt = \"10/1m\"\n").unwrap_err();
    let printed = format!("mde-triage: {err}");
    assert!(
        readme().contains(&printed),
        "README's example under 'Configuration file' drifted; it prints:\n{printed}"
    );
}

#[test]
fn documented_command_lines_parse() {
    for line in [
        "mde-triage demo --latency-ms 800 --fail-rate 0.2",
        "mde-triage sim --listen 127.0.0.1:8080 --rate-limit 10/5s,100/1h --synthetic 600",
        "mde-triage ip 10[.]209[.]67[.]177 --json",
        "mde-triage ip 10.209.67.177 --look-back 7d",
        "mde-triage alert 636688558380765161_2136280442 --json",
        "mde-triage alert 636688558380765161_2136280442 --json --with device",
        "mde-triage ip --extract --json",
        "mde-triage expand 10.209.67.177 --depth 2 --max-calls 200",
        "mde-triage expand - --plan",
        "mde-triage --rate-limit 20/10s,200/1h tui",
        "mde-triage --cloud eu tui",
        "mde-triage cases",
        "mde-triage export INC-1042",
        "mde-triage export INC-1042 --format csv -o inc-1042.csv",
        "mde-triage export INC-1042 --format json",
    ] {
        let args = line.split_whitespace();
        assert!(Cli::try_parse_from(args).is_ok(), "{line}");
        let bin_less = line.trim_start_matches("mde-triage ");
        assert!(readme().contains(bin_less), "README shows: {line}");
    }
}
