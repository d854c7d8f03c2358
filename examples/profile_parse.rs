//! Parses the Telegraf-like benchmark corpus, for profilers:
//! `valgrind --tool=callgrind target/release/examples/profile_parse 100000`, or
//! `perf record -e cpu-clock target/release/examples/profile_parse 1000000 20` (20 passes,
//! so that parsing outweighs generating the corpus). `batch` as a third argument also
//! builds a `WriteBatch` per pass.

#[path = "../benches/corpus.rs"]
#[allow(dead_code)] // the example uses only one corpus
mod corpus;

use linegate::lp::LineParser;
use linegate::{Precision, WriteBatch};

fn main() {
    let mut args = std::env::args().skip(1);
    let lines: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let passes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let batch = args.next().as_deref() == Some("batch");
    let body = corpus::telegraf(lines);
    let mut fields = 0;
    let mut rows = 0;
    let mut fastest = f64::MAX;
    for _ in 0..passes {
        let start = std::time::Instant::now();
        let mut parser = LineParser::new(&body, Precision::Nanosecond);
        let mut out = WriteBatch::new();
        while let Some(line) = parser.next_line() {
            let line = line.expect("valid corpus");
            fields += line.fields.len();
            if batch {
                out.push(&line, 0);
            }
        }
        rows += out.len();
        fastest = fastest.min(start.elapsed().as_secs_f64());
    }
    let mb = body.len() as f64 / 1e6;
    println!(
        "{fields} fields, {rows} rows batched, fastest pass {:.0} MB/s",
        mb / fastest
    );
}
