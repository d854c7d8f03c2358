//! Writes a benchmark corpus to stdout: `cargo run --release --example gen_corpus -- telegraf 1000000`.
//!
//! Kinds: `telegraf` (lines 10 s apart), `ingest` (the same lines 1 ms apart, so a million
//! span 17 minutes, like a fleet's writes), `fleet` (100 hosts × 8 cpus every 10 s, for the
//! dashboard queries), `day` (100 hosts every 10 s from a UTC midnight, for the long run)
//! and `mixed`.

#[path = "../benches/corpus.rs"]
mod corpus;

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "telegraf".into());
    let lines: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let body = match kind.as_str() {
        "mixed" => corpus::mixed(lines),
        "ingest" => corpus::telegraf_every(lines, 1_000_000),
        "fleet" => corpus::fleet(lines),
        // 100 hosts, one cpu each, from 2023-11-14T00:00:00Z: a day is 864,000 lines.
        "day" => corpus::fleet_of(lines, 1, 1_699_920_000),
        _ => corpus::telegraf(lines),
    };
    std::io::stdout()
        .write_all(body.as_bytes())
        .expect("stdout");
}
