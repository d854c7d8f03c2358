//! Parse throughput: linegate against InfluxDB's own parser (`influxdb-line-protocol` 2.0),
//! same corpora, same run. `cargo bench --bench parse [-- LINES]`.

#[allow(dead_code)] // the ingest corpus is for scripts/bench-ingest.sh
mod corpus;

use std::hint::black_box;
use std::time::{Duration, Instant};

use linegate::lp::{FieldValue, LineParser};
use linegate::{Precision, WriteBatch};

/// Runs of each parser per corpus.
const RUNS: usize = 9;

/// How long one run of `f` takes.
fn time<F: FnMut() -> u64>(mut f: F) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

/// linegate: every line fully validated, every value typed.
fn linegate_parse(body: &str) -> u64 {
    let mut parser = LineParser::new(body, Precision::Nanosecond);
    let mut sum = 0u64;
    while let Some(line) = parser.next_line() {
        let line = line.expect("corpus is valid");
        for field in line.fields {
            sum = sum.wrapping_add(match field.value {
                FieldValue::Float(v) => v.to_bits(),
                FieldValue::Integer(v) => v as u64,
                FieldValue::UInteger(v) => v,
                FieldValue::Boolean(v) => v as u64,
                FieldValue::String(s) => s.raw().len() as u64,
            });
        }
        sum = sum.wrapping_add(line.timestamp.unwrap_or(0) as u64);
    }
    sum
}

/// linegate as the server runs it: the corpus cut into requests of 5 000 lines, each
/// validated into a fresh [`WriteBatch`].
fn linegate_batch(requests: &[&str]) -> u64 {
    let mut fields = 0;
    for body in requests {
        let mut parser = LineParser::new(body, Precision::Nanosecond);
        let mut batch = WriteBatch::new();
        while let Some(line) = parser.next_line() {
            let line = line.expect("corpus is valid");
            batch.push(&line, 0);
        }
        fields += batch.field_count() as u64;
    }
    fields
}

/// Splits `body` into chunks of `lines` lines.
fn requests(body: &str, lines: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let end = rest
            .match_indices('\n')
            .nth(lines - 1)
            .map_or(rest.len(), |(i, _)| i + 1);
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// InfluxDB's parser, values typed the same way.
fn influxdb_parse(body: &str) -> u64 {
    use influxdb_line_protocol::FieldValue as F;
    let mut sum = 0u64;
    for line in influxdb_line_protocol::parse_lines(body) {
        let line = line.expect("corpus is valid");
        for (_, value) in &line.field_set {
            sum = sum.wrapping_add(match value {
                F::F64(v) => v.to_bits(),
                F::I64(v) => *v as u64,
                F::U64(v) => *v,
                F::Boolean(v) => *v as u64,
                F::String(s) => s.len() as u64,
            });
        }
        sum = sum.wrapping_add(line.timestamp.unwrap_or(0) as u64);
    }
    sum
}

fn main() {
    let lines: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    println!("| corpus | parser | MB/s | lines/s | vs InfluxDB |");
    println!("|---|---|---:|---:|---:|");
    for (name, body) in [
        ("telegraf cpu", corpus::telegraf(lines)),
        ("mixed", corpus::mixed(lines)),
    ] {
        let mb = body.len() as f64 / 1e6;
        let count = body.lines().count() as f64;
        // The same number of runs for each, interleaved, so that both see the same
        // moments of a shared machine; the fastest run of each counts.
        let chunks = requests(&body, 5000);
        let (mut influx, mut ours, mut batch) = (Duration::MAX, Duration::MAX, Duration::MAX);
        for _ in 0..RUNS {
            influx = influx.min(time(|| influxdb_parse(&body)));
            ours = ours.min(time(|| linegate_parse(&body)));
            batch = batch.min(time(|| linegate_batch(&chunks)));
        }
        for (parser, time) in [
            ("linegate (validate, typed values)", ours),
            ("linegate (validate + batch per 5 000-line request)", batch),
            ("influxdb-line-protocol 2.0", influx),
        ] {
            let secs = time.as_secs_f64();
            println!(
                "| {name} ({:.0} B/line) | {parser} | {:.0} | {:.2} M | {:.1}× |",
                body.len() as f64 / count,
                mb / secs,
                count / secs / 1e6,
                influx.as_secs_f64() / secs
            );
        }
    }
}
