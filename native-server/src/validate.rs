//! `linegate validate`: the core's validator over a file, with compiler-style errors.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use linegate::lp::LineParser;
use linegate::Endpoint;

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
    let input = match crate::client::open_input(&args.file) {
        Ok((input, _)) => input,
        Err(e) => {
            eprintln!("linegate: {name}: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let stats = match check(input, precision, |e: &str| {
        let _ = writeln!(out, "{name}:{e}");
    }) {
        Ok(stats) => stats,
        Err(Failure::Read(e)) => {
            let _ = out.flush();
            eprintln!("linegate: {name}: {e}");
            return ExitCode::from(2);
        }
        Err(Failure::Utf8(e)) => {
            let _ = out.flush();
            eprintln!("{name}: {}", e.message(endpoint));
            return ExitCode::from(1);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let _ = writeln!(
        out,
        "{} lines, {} points, {} fields, {} errors, {} bytes in {:.3} s ({:.0} MB/s)",
        stats.lines,
        stats.points,
        stats.fields,
        stats.errors,
        stats.bytes,
        seconds,
        stats.bytes as f64 / seconds.max(1e-9) / 1e6
    );
    let _ = out.flush();
    if stats.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Input is read and checked this much at a time (whole lines), so memory stays bounded
/// whatever the file's size: a chunk, plus the longest line.
const CHUNK: usize = 8 << 20;

enum Failure {
    Read(io::Error),
    Utf8(linegate::WriteError),
}

/// Checks `input` chunk by chunk, calling `report` with `line:column: message` for each bad
/// line (line numbers of the whole input).
fn check(
    mut input: Box<dyn BufRead + Send>,
    precision: linegate::Precision,
    mut report: impl FnMut(&str),
) -> Result<Stats, Failure> {
    let mut stats = Stats::default();
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK + (64 << 10));
    // The physical line number of `buffer`'s first byte.
    let mut first_line = 1u64;
    loop {
        // Fill up to a chunk, then to the end of the line in progress.
        let mut at_end = false;
        while buffer.len() < CHUNK {
            let available = input.fill_buf().map_err(Failure::Read)?;
            if available.is_empty() {
                at_end = true;
                break;
            }
            let take = available.len().min(CHUNK - buffer.len());
            buffer.extend_from_slice(&available[..take]);
            input.consume(take);
        }
        if !at_end
            && input
                .read_until(b'\n', &mut buffer)
                .map_err(Failure::Read)?
                == 0
        {
            at_end = true;
        }
        stats.bytes += buffer.len() as u64;
        let text = linegate::utf8(&buffer).map_err(|e| match e {
            linegate::WriteError::InvalidUtf8 { line, column } => {
                Failure::Utf8(linegate::WriteError::InvalidUtf8 {
                    line: (first_line + line as u64 - 1).min(u32::MAX as u64) as u32,
                    column,
                })
            }
            other => Failure::Utf8(other),
        })?;
        // A bad last line may be a string with a newline in it that the next chunk
        // finishes: it is checked again with that chunk (from this offset).
        let mut carry_from_line = None;
        let mut parser = LineParser::new(text, precision);
        let mut last_error: Option<linegate::LineError> = None;
        while let Some(line) = parser.next_line() {
            if let Some(e) = last_error.take() {
                stats.lines += 1;
                stats.errors += 1;
                report(&located(&e, first_line));
            }
            match line {
                Ok(line) => {
                    stats.lines += 1;
                    stats.points += 1;
                    stats.fields += line.fields.len() as u64;
                }
                Err(e) => last_error = Some(e),
            }
        }
        if let Some(e) = last_error {
            // Carried at most a chunk's worth: a longer line is bad whatever follows.
            let start = start_of_line(&buffer, e.line);
            if at_end || buffer.len() - start > CHUNK {
                stats.lines += 1;
                stats.errors += 1;
                report(&located(&e, first_line));
            } else {
                carry_from_line = Some(start);
            }
        }
        if at_end {
            return Ok(stats);
        }
        let keep_from = carry_from_line.unwrap_or(buffer.len());
        stats.bytes -= (buffer.len() - keep_from) as u64;
        first_line += buffer[..keep_from].iter().filter(|&&b| b == b'\n').count() as u64;
        buffer.drain(..keep_from);
    }
}

/// `line:column: message`, with the line counted from the input's start.
fn located(e: &linegate::LineError, first_line: u64) -> String {
    format!(
        "{}:{}: {}",
        first_line + e.line as u64 - 1,
        e.column,
        e.kind
    )
}

/// The offset where physical line `line` (1-based) of `bytes` starts.
fn start_of_line(bytes: &[u8], line: u32) -> usize {
    if line <= 1 {
        return 0;
    }
    bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(line as usize - 2)
        .map_or(bytes.len(), |(i, _)| i + 1)
}

#[derive(Default)]
struct Stats {
    lines: u64,
    points: u64,
    fields: u64,
    errors: u64,
    bytes: u64,
}
