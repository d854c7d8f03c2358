//! `linegate validate`: the core's validator over a file, with compiler-style errors.

use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use linegate::lp::LineParser;
use linegate::{BodyDecoder, ContentEncoding, Endpoint};

/// Arguments of `linegate validate`.
#[derive(clap::Args)]
pub struct Args {
    /// Timestamp precision of the input (the endpoint's spellings; default: the endpoint's).
    #[arg(long)]
    precision: Option<String>,
    /// Validate as this endpoint would: v1 (/write), v2 (/api/v2/write) or v3 (/api/v3/write_lp).
    #[arg(long, default_value = "v3", value_parser = ["v1", "v2", "v3"])]
    endpoint: String,
    /// The file to check; `-` reads standard input. Gzip input is detected and inflated.
    file: PathBuf,
}

/// Runs the command; exit status 1 if any line is bad, 2 if the input cannot be read.
pub fn run(args: Args) -> ExitCode {
    let endpoint = match args.endpoint.as_str() {
        "v1" => Endpoint::V1,
        "v2" => Endpoint::V2,
        _ => Endpoint::V3,
    };
    let precision = match &args.precision {
        None => endpoint.default_precision(),
        Some(p) => match endpoint.parse_precision(p) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("linegate: {}", e.message(endpoint));
                return ExitCode::from(2);
            }
        },
    };
    let name = args.file.display().to_string();
    let input = match read_input(&args.file) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("linegate: {name}: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let body = match linegate::utf8(&input) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("{name}: {}", e.message(endpoint));
            return ExitCode::from(1);
        }
    };
    let mut stats = Stats::default();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut parser = LineParser::new(body, precision);
    while let Some(line) = parser.next_line() {
        stats.lines += 1;
        match line {
            Ok(line) => {
                stats.points += 1;
                stats.fields += line.fields.len() as u64;
            }
            Err(e) => {
                stats.errors += 1;
                let _ = writeln!(out, "{name}:{}:{}: {}", e.line, e.column, e.kind);
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = writeln!(
        out,
        "{} lines, {} points, {} fields, {} errors, {} bytes in {:.3} s ({:.0} MB/s)",
        stats.lines,
        stats.points,
        stats.fields,
        stats.errors,
        input.len(),
        seconds,
        input.len() as f64 / seconds.max(1e-9) / 1e6
    );
    let _ = out.flush();
    if stats.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Default)]
struct Stats {
    lines: u64,
    points: u64,
    fields: u64,
    errors: u64,
}

/// Reads the whole input, inflating it with the core's decoder if it is gzip.
fn read_input(path: &PathBuf) -> io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    if path.as_os_str() == "-" {
        io::stdin().lock().read_to_end(&mut raw)?;
    } else {
        raw = std::fs::read(path)?;
    }
    if raw.starts_with(&[0x1f, 0x8b]) {
        return BodyDecoder::decode(ContentEncoding::Gzip, usize::MAX - 1, &raw)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
    }
    Ok(raw)
}
