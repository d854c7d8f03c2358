//! Parses the Telegraf-like benchmark corpus once, for profilers:
//! `valgrind --tool=callgrind target/release/examples/profile_parse 100000`.

#[path = "../benches/corpus.rs"]
#[allow(dead_code)] // the example uses only one corpus
mod corpus;

use linegate::lp::LineParser;
use linegate::{Precision, WriteBatch};

fn main() {
    let mut args = std::env::args().skip(1);
    let lines: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let batch = args.next().as_deref() == Some("batch");
    let body = corpus::telegraf(lines);
    let mut parser = LineParser::new(&body, Precision::Nanosecond);
    let mut out = WriteBatch::new();
    let mut fields = 0;
    while let Some(line) = parser.next_line() {
        let line = line.expect("valid corpus");
        fields += line.fields.len();
        if batch {
            out.push(&line, 0);
        }
    }
    println!("{fields} fields, {} rows batched", out.len());
}
