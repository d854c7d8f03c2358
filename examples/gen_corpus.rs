//! Writes a benchmark corpus to stdout: `cargo run --release --example gen_corpus -- telegraf 1000000`.
//!
//! Kinds: `telegraf` (lines 10 s apart), `ingest` (the same lines 1 ms apart, so a million
//! span 17 minutes, like a fleet's writes), `fleet` (100 hosts × 8 cpus every 10 s, for the
//! dashboard queries) and `mixed`.

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
        _ => corpus::telegraf(lines),
    };
    std::io::stdout()
        .write_all(body.as_bytes())
        .expect("stdout");
}
