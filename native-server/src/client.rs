//! The command-line client: `create token`, `create database`, `show databases`,
//! `delete database`, `write` (bulk import) and `query` against a running server.

use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::StatusCode;
use tokio::sync::mpsc;

/// Where the server is and how to authenticate.
#[derive(clap::Args, Debug, Clone)]
pub struct Connection {
    /// The server's URL.
    #[arg(long, env = "LINEGATE_HOST", default_value = "http://127.0.0.1:8181")]
    host: String,
    /// The token to send (`Authorization: Bearer`).
    #[arg(long, env = "LINEGATE_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl Connection {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.host.trim_end_matches('/'))
    }

    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let request = client.request(method, self.url(path));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}

/// `linegate create …`
#[derive(clap::Subcommand, Debug)]
pub enum Create {
    /// Create a token and print it (it is shown only this once).
    Token {
        /// An admin token (everything).
        #[arg(long, conflicts_with_all = ["database", "permission"])]
        admin: bool,
        /// The database the token is for.
        #[arg(long, required_unless_present = "admin")]
        database: Option<String>,
        /// `read`, `write` or `read,write`.
        #[arg(long, default_value = "write")]
        permission: String,
        /// A name to recognise the token by.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Create an empty database.
    Database {
        /// The database name.
        name: String,
        /// Keep points this long (`30d`, `12h`, `1w`); older ones are refused at write,
        /// hidden from queries and deleted. Default: forever.
        #[arg(long)]
        retention_period: Option<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Map a v1 database and retention policy to a database (InfluxDB's DBRP): v1 and v2
    /// writes and queries naming the pair reach it.
    Dbrp {
        #[command(flatten)]
        pair: DbrpPair,
        /// The database they reach.
        #[arg(long)]
        target: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// The v1 pair a DBRP mapping maps.
#[derive(clap::Args, Debug)]
pub struct DbrpPair {
    /// The v1 database.
    #[arg(long)]
    db: String,
    /// The v1 retention policy (`autogen`: the database without one).
    #[arg(long)]
    rp: String,
}

/// `linegate show …`
#[derive(clap::Subcommand, Debug)]
pub enum Show {
    /// List the databases (with their retention period when they have one).
    Databases {
        #[command(flatten)]
        connection: Connection,
    },
    /// List the DBRP mappings.
    Dbrp {
        #[command(flatten)]
        connection: Connection,
    },
}

/// `linegate delete …`
#[derive(clap::Subcommand, Debug)]
pub enum Delete {
    /// Delete a database with all its data.
    Database {
        /// The database name.
        name: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Delete a DBRP mapping.
    Dbrp {
        #[command(flatten)]
        pair: DbrpPair,
        #[command(flatten)]
        connection: Connection,
    },
    /// Delete a table (a measurement) with all its data.
    Table {
        /// The table name.
        name: String,
        /// Its database.
        #[arg(long)]
        database: String,
        #[command(flatten)]
        connection: Connection,
    },
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

/// Sends one admin request and prints the outcome.
async fn admin(
    connection: &Connection,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<String, String> {
    let client = reqwest::Client::new();
    let mut request = connection.request(&client, method, path);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("cannot reach {}: {e}", connection.host))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(text)
    } else {
        Err(format!("{status}: {text}"))
    }
}

fn finish(outcome: Result<(), String>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("linegate: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `linegate create …`.
pub fn create(command: Create) -> ExitCode {
    finish(runtime().block_on(async {
        match command {
            Create::Token { admin: is_admin, database, permission, name, connection } => {
                let body = if is_admin {
                    serde_json::json!({ "admin": true, "name": name })
                } else {
                    serde_json::json!({ "database": database, "permission": permission, "name": name })
                };
                let text = admin(&connection, reqwest::Method::POST, "/api/v3/configure/token", Some(body)).await?;
                let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                let token = json["token"].as_str().ok_or("the server sent no token")?;
                eprintln!("New token (shown only this once; store it safely):");
                println!("{token}");
                Ok(())
            }
            Create::Database { name, retention_period, connection } => {
                let body = serde_json::json!({ "db": name, "retention_period": retention_period });
                admin(&connection, reqwest::Method::POST, "/api/v3/configure/database", Some(body)).await?;
                eprintln!("database '{name}' created");
                Ok(())
            }
            Create::Dbrp { pair: DbrpPair { db, rp }, target, connection } => {
                let body = serde_json::json!({ "db": db, "rp": rp, "target": target });
                admin(&connection, reqwest::Method::POST, "/api/v3/configure/dbrp", Some(body)).await?;
                eprintln!("'{db}' with retention policy '{rp}' now reaches database '{target}'");
                Ok(())
            }
        }
    }))
}

/// `linegate query`: a statement in SQL or InfluxQL, as `influxdb3 query` runs it.
#[derive(clap::Args, Debug)]
pub struct QueryArgs {
    /// The database to query.
    #[arg(long, short = 'd', env = "LINEGATE_DATABASE")]
    database: String,
    /// The statement's language.
    #[arg(long, short = 'l', value_enum, default_value = "sql")]
    language: Language,
    /// How the answer is printed.
    #[arg(long, value_enum, default_value = "pretty")]
    format: Format,
    /// The statement.
    query: String,
    #[command(flatten)]
    connection: Connection,
}

/// A query language.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum Language {
    Sql,
    Influxql,
}

/// An answer format of the v3 query API.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum Format {
    Pretty,
    Json,
    Jsonl,
    Csv,
}

/// Runs `linegate query`: prints the answer in the chosen format.
pub fn query(args: QueryArgs) -> ExitCode {
    finish(runtime().block_on(async {
        let path = match args.language {
            Language::Sql => "/api/v3/query_sql",
            Language::Influxql => "/api/v3/query_influxql",
        };
        let format = match args.format {
            Format::Pretty => "pretty",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        };
        let body = serde_json::json!({ "db": args.database, "q": args.query, "format": format });
        let text = admin(&args.connection, reqwest::Method::POST, path, Some(body)).await?;
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
        Ok(())
    }))
}

/// Runs `linegate show …`.
pub fn show(command: Show) -> ExitCode {
    finish(runtime().block_on(async {
        let (connection, path) = match command {
            Show::Databases { connection } => (connection, "/api/v3/configure/database"),
            Show::Dbrp { connection } => (connection, "/api/v3/configure/dbrp"),
        };
        let text = admin(&connection, reqwest::Method::GET, path, None).await?;
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| e.to_string())?;
        for item in list {
            let text = |key: &str| item[key].as_str().unwrap_or("").to_owned();
            match (item.get("iox::database"), item.get("retention_period")) {
                (Some(_), Some(_)) => println!(
                    "{}\tretention {}",
                    text("iox::database"),
                    text("retention_period")
                ),
                (Some(_), None) => println!("{}", text("iox::database")),
                _ => println!("{}\t{}\t-> {}", text("db"), text("rp"), text("target")),
            }
        }
        Ok(())
    }))
}

/// Runs `linegate delete …`.
pub fn delete(command: Delete) -> ExitCode {
    finish(runtime().block_on(async {
        match command {
            Delete::Database { name, connection } => {
                let path = format!("/api/v3/configure/database?db={}", urlencode(&name));
                admin(&connection, reqwest::Method::DELETE, &path, None).await?;
                eprintln!("database '{name}' deleted");
            }
            Delete::Dbrp {
                pair: DbrpPair { db, rp },
                connection,
            } => {
                let path = format!(
                    "/api/v3/configure/dbrp?db={}&rp={}",
                    urlencode(&db),
                    urlencode(&rp)
                );
                admin(&connection, reqwest::Method::DELETE, &path, None).await?;
                eprintln!("mapping of '{db}' with retention policy '{rp}' deleted");
            }
            Delete::Table {
                name,
                database,
                connection,
            } => {
                let path = format!(
                    "/api/v3/configure/table?db={}&table={}",
                    urlencode(&database),
                    urlencode(&name)
                );
                admin(&connection, reqwest::Method::DELETE, &path, None).await?;
                eprintln!("table '{name}' of database '{database}' deleted");
            }
        }
        Ok(())
    }))
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Which write endpoint `linegate write` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Api {
    /// `/write?db=…` (InfluxDB 1.x and everything compatible).
    V1,
    /// `/api/v2/write?bucket=…`.
    V2,
    /// `/api/v3/write_lp?db=…` (partial writes: bad lines are reported, the rest stored).
    V3,
}

/// Arguments of `linegate write`.
#[derive(clap::Args, Debug)]
pub struct WriteArgs {
    /// The database to write to.
    #[arg(long, short = 'd')]
    database: String,
    /// Timestamp precision of the input (`auto` on v3 by default, else nanoseconds).
    #[arg(long)]
    precision: Option<String>,
    /// Lines per request.
    #[arg(long, default_value_t = 5000)]
    batch_lines: usize,
    /// Requests in flight (one keep-alive connection each).
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Write endpoint to use.
    #[arg(long, value_enum, default_value = "v3")]
    api: Api,
    /// No progress bar (for scripts).
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    connection: Connection,
    /// Line protocol to import, plain or gzip; `-` reads standard input.
    file: PathBuf,
}

/// One request's worth of lines.
struct Batch {
    first_line: u64,
    lines: u64,
    /// Shared, so a retry sends it again without a copy.
    body: bytes::Bytes,
}

#[derive(Default)]
struct Totals {
    lines: AtomicU64,
    bad_lines: AtomicU64,
    failed_batches: AtomicU64,
    bytes: AtomicU64,
}

/// Runs `linegate write`: streams the file in batches of whole lines over a few keep-alive
/// connections; bad lines are reported with their line numbers in the file.
pub fn write(args: WriteArgs) -> ExitCode {
    finish(runtime().block_on(import(args)))
}

async fn import(args: WriteArgs) -> Result<(), String> {
    let name = args.file.display().to_string();
    let (reader, total) = open_input(&args.file).map_err(|e| format!("{name}: {e}"))?;
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        let bar = match total {
            Some(n) => ProgressBar::new(n),
            None => ProgressBar::no_length(),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg} ETA {eta}",
            )
            .expect("constant template"),
        );
        bar
    };
    let path = write_path(&args)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let totals = Arc::new(Totals::default());
    let started = Instant::now();
    let (send, receive) = mpsc::channel::<Batch>(args.concurrency * 2);
    let receive = Arc::new(tokio::sync::Mutex::new(receive));
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (client, connection, path, totals, receive, progress, name) = (
            client.clone(),
            args.connection.clone(),
            path.clone(),
            totals.clone(),
            receive.clone(),
            progress.clone(),
            name.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let Some(batch) = receive.lock().await.recv().await else {
                    return Ok::<(), String>(());
                };
                let bytes = batch.body.len() as u64;
                send_batch(
                    &client,
                    &connection,
                    &path,
                    batch,
                    &totals,
                    &progress,
                    &name,
                )
                .await?;
                totals.bytes.fetch_add(bytes, Relaxed);
                progress.inc(bytes);
                let lines = totals.lines.load(Relaxed);
                let rate = lines as f64 / started.elapsed().as_secs_f64().max(1e-9);
                progress.set_message(format!("{lines} lines, {rate:.0} lines/s"));
            }
        }));
    }
    let batch_lines = args.batch_lines.max(1);
    let reading = tokio::task::spawn_blocking(move || read_batches(reader, batch_lines, send));
    let read_result = reading.await.map_err(|e| e.to_string())?;
    let mut failure = read_result.err().map(|e| format!("{name}: {e}"));
    for worker in workers {
        if let Err(e) = worker.await.map_err(|e| e.to_string()).and_then(|r| r) {
            failure.get_or_insert(e);
        }
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let lines = totals.lines.load(Relaxed);
    let bad = totals.bad_lines.load(Relaxed);
    eprintln!(
        "{lines} lines ({} bytes) in {elapsed:.2} s: {:.0} lines/s; {bad} bad lines, {} failed requests",
        totals.bytes.load(Relaxed),
        lines as f64 / elapsed.max(1e-9),
        totals.failed_batches.load(Relaxed),
    );
    if let Some(message) = failure {
        return Err(message);
    }
    if bad > 0 || totals.failed_batches.load(Relaxed) > 0 {
        return Err("some lines were not written".into());
    }
    Ok(())
}

fn write_path(args: &WriteArgs) -> Result<String, String> {
    let db = urlencode(&args.database);
    let mut path = match args.api {
        Api::V1 => format!("/write?db={db}"),
        Api::V2 => format!("/api/v2/write?bucket={db}&org=linegate"),
        Api::V3 => format!("/api/v3/write_lp?db={db}"),
    };
    if let Some(p) = &args.precision {
        path.push_str("&precision=");
        path.push_str(&urlencode(p));
    }
    Ok(path)
}

/// The input as a byte stream (gzip inflated) and its size when known.
pub(crate) fn open_input(file: &PathBuf) -> io::Result<(Box<dyn BufRead + Send>, Option<u64>)> {
    let (raw, size): (Box<dyn Read + Send>, Option<u64>) = if file.as_os_str() == "-" {
        (Box::new(io::stdin()), None)
    } else {
        let f = std::fs::File::open(file)?;
        let size = f.metadata()?.len();
        (Box::new(f), Some(size))
    };
    let mut reader = BufReader::with_capacity(1 << 20, raw);
    let gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if gzip {
        // Progress counts decoded bytes, whose total is unknown.
        let decoder = flate2::read::MultiGzDecoder::new(reader);
        Ok((Box::new(BufReader::with_capacity(1 << 20, decoder)), None))
    } else {
        Ok((Box::new(reader), size))
    }
}

/// Splits the input into batches of `batch_lines` physical lines.
fn read_batches(
    mut reader: Box<dyn BufRead + Send>,
    batch_lines: usize,
    send: mpsc::Sender<Batch>,
) -> io::Result<()> {
    let mut line_number = 1u64;
    loop {
        let mut body = Vec::with_capacity(batch_lines * 256);
        let mut lines = 0u64;
        while lines < batch_lines as u64 {
            let read = reader.read_until(b'\n', &mut body)?;
            if read == 0 {
                break;
            }
            lines += 1;
        }
        if lines == 0 {
            return Ok(());
        }
        let batch = Batch {
            first_line: line_number,
            lines,
            body: body.into(),
        };
        line_number += lines;
        if send.blocking_send(batch).is_err() {
            return Ok(()); // the senders stopped after an error
        }
    }
}

/// Sends one batch, retrying while the server is busy or unreachable.
async fn send_batch(
    client: &reqwest::Client,
    connection: &Connection,
    path: &str,
    batch: Batch,
    totals: &Totals,
    progress: &ProgressBar,
    name: &str,
) -> Result<(), String> {
    let mut delay = Duration::from_millis(100);
    for attempt in 0.. {
        let response = connection
            .request(client, reqwest::Method::POST, path)
            .body(batch.body.clone())
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) if attempt < 8 => {
                progress.suspend(|| eprintln!("linegate: {e}; retrying"));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                continue;
            }
            Err(e) => return Err(format!("cannot reach {}: {e}", connection.host)),
        };
        let status = response.status();
        if status == StatusCode::NO_CONTENT || status.is_success() {
            totals.lines.fetch_add(batch.lines, Relaxed);
            return Ok(());
        }
        if (status == StatusCode::SERVICE_UNAVAILABLE || status.is_server_error()) && attempt < 30 {
            let wait = response
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(delay, Duration::from_secs);
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(Duration::from_secs(5));
            continue;
        }
        let text = response.text().await.unwrap_or_default();
        if status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
            || status == StatusCode::NOT_FOUND
        {
            return Err(format!("{status}: {text}"));
        }
        report_bad_lines(&text, &batch, totals, progress, name);
        return Ok(());
    }
    unreachable!("the retry loop returns")
}

/// Prints `FILE:LINE:COL: message` for each line a 400 names; counts the batch's stored lines.
fn report_bad_lines(
    text: &str,
    batch: &Batch,
    totals: &Totals,
    progress: &ProgressBar,
    name: &str,
) {
    let json: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let items: Vec<&serde_json::Value> = match &json["data"] {
        serde_json::Value::Array(items) => items.iter().collect(),
        serde_json::Value::Object(_) => vec![&json["data"]],
        _ => Vec::new(),
    };
    let partial = json["error"].as_str() == Some("partial write of line protocol occurred");
    progress.suspend(|| {
        if items.is_empty() {
            eprintln!(
                "{name}:{}-{}: batch rejected: {}",
                batch.first_line,
                batch.first_line + batch.lines - 1,
                json["message"]
                    .as_str()
                    .or(json["error"].as_str())
                    .unwrap_or(text)
            );
        }
        for item in &items {
            let line = item["line_number"].as_u64().unwrap_or(1) + batch.first_line - 1;
            let column = item["column"]
                .as_u64()
                .map(|c| format!("{c}:"))
                .unwrap_or_default();
            eprintln!(
                "{name}:{line}:{column} {}",
                item["error_message"].as_str().unwrap_or("rejected")
            );
        }
    });
    let bad = items.len().max(1) as u64;
    totals.bad_lines.fetch_add(bad, Relaxed);
    if partial {
        totals
            .lines
            .fetch_add(batch.lines.saturating_sub(bad), Relaxed);
    } else {
        totals.failed_batches.fetch_add(1, Relaxed);
    }
}
