//! `linegate`: the native server and command-line tool.
//!
//! # Layout
//! A write travels down this list from `http` to `compact`; a query goes from `http` (or
//! `flight`) to `query` (or `influxql`) and `table`, which reads what `buffer` and `persist` hold.
//! - `main` — command-line parsing; each subcommand lives in its own module.
//! - [`serve`] — `linegate serve`: configuration, start-up, graceful shutdown.
//! - [`http`] — the routes: thin handlers between HTTP and the core or the store; the token
//!   checks are extractors, every failure one `ApiError` in InfluxDB's shape.
//! - [`auth`] — tokens: generated, stored hashed, compared in constant time.
//! - [`store`] — the write path and the read path meet here: catalog → WAL → buffer → Parquet.
//! - [`catalog`] — databases (with their retention), tables and DBRP mappings, with ids and
//!   persistence around the core's schema rules (`linegate::schema`).
//! - [`wal`] — the write-ahead log: CRC-framed records, group-commit fsync, replay.
//! - [`buffer`] — accepted rows as Arrow record batches until they are persisted.
//! - [`persist`] — Parquet files on the object store and the manifest that lists them.
//! - [`dedup`] — last write wins: one row per point, merged field by field.
//! - [`compact`] — which small files of a table's day are merged into one, and when.
//! - [`query`] — SQL over Parquet and the buffer with DataFusion, read-only whatever the
//!   token: one query statement, no DDL, DML, `COPY` or file access.
//! - [`table`] — one table as DataFusion scans it: only the files its time range needs,
//!   sources that may hold the same point merged.
//! - [`influxql`] — InfluxQL (v1 `/query`, `/api/v3/query_influxql`): parsed to an AST by
//!   the `linegate-influxql` crate, `SELECT` planned onto DataFusion, answers in 1.x's shape.
//! - [`flight`] — Arrow Flight on the HTTP port: InfluxDB 3's JSON tickets and Flight SQL,
//!   answered from the same plans and tokens as the HTTP query routes.
//! - [`last`] — the last value of every series and field, kept as generations persist, so
//!   InfluxQL's `last()` of every series does not read every point.
//! - [`metrics`] — counters for `/metrics`.
//! - [`client`] — `create`, `show`, `delete`, `write` and `query` against a running server.
//! - [`validate`] — `linegate validate`: checks line-protocol files offline.
//! - [`fsutil`] — atomic file replacement.
#![deny(missing_docs)]

mod auth;
mod buffer;
mod catalog;
mod client;
mod compact;
mod dedup;
mod flight;
mod fsutil;
mod http;
mod influxql;
mod last;
mod metrics;
mod persist;
mod query;
mod serve;
mod store;
mod table;
mod validate;
mod wal;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Freed memory is kept for reuse: a persist allocates and frees hundreds of megabytes,
/// which glibc's allocator would map and unmap each time, a page fault per page
/// (README, "Ingest").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (15 in its `mimalloc.h`, v2 and v3 alike), which the
/// Rust bindings do not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed memory to the system only after it lay unused for 10 s (mimalloc's default
/// is 1 s): under steady ingest each request's and each persist's memory is reused within
/// seconds, and every page given back costs a fault when it is taken again (a 3 M-line
/// load: 153,000 faults with 1 s, 86,000 with 10 s, which is just the peak's first touch).
fn keep_freed_memory() {
    // SAFETY: sets one of mimalloc's options; any value is valid for this one.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10_000) };
}

/// linegate: an InfluxDB-compatible write path.
#[derive(Parser)]
#[command(name = "linegate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: InfluxDB v1/v2/v3 writes into a local columnar store.
    Serve(serve::Args),
    /// Import line protocol (plain or gzip) into a running server.
    Write(client::WriteArgs),
    /// Create a token or a database on a running server.
    #[command(subcommand)]
    Create(client::Create),
    /// List databases of a running server.
    #[command(subcommand)]
    Show(client::Show),
    /// Delete a database from a running server.
    #[command(subcommand)]
    Delete(client::Delete),
    /// Check line protocol in a file (plain or gzip) or standard input (`-`).
    Validate(validate::Args),
    /// Run a SQL or InfluxQL query against a running server and print the answer.
    Query(client::QueryArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_)) {
        keep_freed_memory();
        init_logging();
    }
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Write(args) => client::write(args),
        Command::Create(command) => client::create(command),
        Command::Show(command) => client::show(command),
        Command::Delete(command) => client::delete(command),
        Command::Validate(args) => validate::run(args),
        Command::Query(args) => client::query(args),
    }
}

/// Structured logs on stderr; `LOG_FILTER` or `RUST_LOG` picks the level (default `info`).
fn init_logging() {
    let filter = std::env::var("LOG_FILTER")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
