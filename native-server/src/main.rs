//! `linegate`: the native server and command-line tool.
//!
//! # Layout
//! - `main` — command-line parsing; each subcommand lives in its own module.
//! - [`validate`] — `linegate validate`: checks line-protocol files offline.
#![deny(missing_docs)]

mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// linegate: an InfluxDB-compatible write path.
#[derive(Parser)]
#[command(name = "linegate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check line protocol in a file (plain or gzip) or standard input (`-`).
    Validate(validate::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Validate(args) => validate::run(args),
    }
}
