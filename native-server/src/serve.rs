//! `linegate serve`: configuration, start-up and graceful shutdown.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::ObjectStore;

use crate::auth::Tokens;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::store::{Store, StoreConfig};

/// Where Parquet files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectStoreKind {
    /// `<data-dir>/parquet/` on the local disk.
    File,
    /// In memory: persisted data is gone when the process ends (tests, demos).
    Memory,
    /// Any S3-compatible store (AWS, Cloudflare R2, MinIO …).
    S3,
}

/// Arguments of `linegate serve` (names follow `influxdb3 serve` where it has them).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "LINEGATE_HTTP_BIND", default_value = "127.0.0.1:8181")]
    http_bind: SocketAddr,
    /// Directory for the WAL, the catalog, tokens and (with `--object-store file`) Parquet.
    #[arg(long, env = "LINEGATE_DATA_DIR", default_value = "./linegate-data")]
    data_dir: PathBuf,
    /// Where Parquet files are written.
    #[arg(
        long,
        value_enum,
        env = "LINEGATE_OBJECT_STORE",
        default_value = "file"
    )]
    object_store: ObjectStoreKind,
    /// S3 bucket (with `--object-store s3`).
    #[arg(long, env = "LINEGATE_BUCKET")]
    bucket: Option<String>,
    /// S3 endpoint, e.g. `https://<account>.r2.cloudflarestorage.com` (default: AWS).
    #[arg(long, env = "AWS_ENDPOINT")]
    aws_endpoint: Option<String>,
    /// S3 access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    aws_access_key_id: Option<String>,
    /// S3 secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    aws_secret_access_key: Option<String>,
    /// S3 region (`auto` for R2).
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    aws_default_region: String,
    /// Allow plain-HTTP S3 endpoints (local MinIO and the like).
    #[arg(long, env = "AWS_ALLOW_HTTP")]
    aws_allow_http: bool,
    /// Largest accepted write body, raw and after gzip decoding, in bytes.
    #[arg(long, env = "LINEGATE_MAX_HTTP_REQUEST_SIZE", default_value_t = linegate::DEFAULT_MAX_BODY)]
    max_http_request_size: usize,
    /// File holding the admin token; created with a new token (mode 0600) if missing.
    /// Default: `<data-dir>/admin-token`.
    #[arg(long, env = "LINEGATE_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,
    /// Accept every request without a token. Only for trusted networks.
    #[arg(long)]
    without_auth: bool,
    /// Persist the buffer to Parquet when it holds this many MiB (fractions too: `0.02`
    /// persists after every few KiB, as a very busy server's many small persists do).
    #[arg(long, default_value_t = 128.0)]
    persist_buffer_mib: f64,
    /// Persist the buffer when its oldest row is this many seconds old.
    #[arg(long, default_value_t = 60)]
    persist_interval_secs: u64,
    /// Hold writes while this many MiB wait in memory, and refuse them with 503 if no persist makes room within 2 s (default: 2 × the persist size, which keeps a 10 M-line load under 1 GiB RSS).
    #[arg(long)]
    max_buffer_mib: Option<usize>,
    /// Time window of one Parquet file, in minutes; must divide a day (1, 5, 10 … 1440).
    #[arg(long, default_value_t = 10)]
    gen1_duration_mins: u64,
    /// Merge all Parquet files of a past day into one when none of them was written for
    /// this many seconds (within a day, files are merged four at a time all along).
    #[arg(long, default_value_t = 60)]
    compact_after_secs: u64,
    /// Serve HTTPS (and gRPC over TLS) with this PEM certificate chain; needs `--tls-key`.
    #[arg(long, env = "LINEGATE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, env = "LINEGATE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The most tags and fields a table may have: a line adding more is rejected (InfluxDB 3
    /// Core's limit by default).
    #[arg(long, default_value_t = crate::catalog::DEFAULT_MAX_COLUMNS)]
    max_columns_per_table: usize,
    /// Close a connection that sends no complete request head (HTTP/1.1) for this many
    /// seconds: a new one, or one idle between requests. Slow-header clients cannot pile up.
    /// A client that reads none of its answer for as long is closed too.
    #[arg(long, default_value_t = 30)]
    idle_timeout_secs: u64,
    /// Answer 408 to a request whose body sends nothing for this many seconds, or that,
    /// past them, averages under 1,000 bytes a second.
    #[arg(long, default_value_t = 30)]
    body_timeout_secs: u64,
    /// After SIGTERM or Ctrl-C, wait this many seconds for requests in flight, then close
    /// the connections still open (a client holding one open cannot keep the server up).
    #[arg(long, default_value_t = 10)]
    shutdown_timeout_secs: u64,
    /// Never merge Parquet files (to measure what compaction gains).
    #[arg(long)]
    no_compaction: bool,
}

impl Args {
    fn object_store(&self) -> Result<Arc<dyn ObjectStore>, String> {
        Ok(match self.object_store {
            ObjectStoreKind::File => {
                let dir = self.data_dir.join("parquet");
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir).map_err(|e| e.to_string())?)
            }
            ObjectStoreKind::Memory => Arc::new(InMemory::new()),
            ObjectStoreKind::S3 => {
                let bucket = self
                    .bucket
                    .as_deref()
                    .ok_or("--object-store s3 needs --bucket (or LINEGATE_BUCKET)")?;
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(&self.aws_default_region)
                    .with_allow_http(self.aws_allow_http);
                if let Some(endpoint) = &self.aws_endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(key) = &self.aws_access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &self.aws_secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                Arc::new(builder.build().map_err(|e| e.to_string())?)
            }
        })
    }
}

/// Runs the server until SIGTERM or ctrl-c.
pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("linegate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(%message, "linegate stopped");
            eprintln!("linegate: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A persist's file window in minutes: it must divide a day, so no file spans two UTC days
/// (compaction merges a table's files day by day).
fn gen1_minutes(minutes: u64) -> Result<u64, String> {
    match minutes {
        m if m > 0 && (24 * 60) % m == 0 => Ok(m),
        m => Err(format!(
            "--gen1-duration-mins {m} does not divide a day (1440 minutes): try 1, 5, 10, 15, 30, 60 or 1440"
        )),
    }
}

async fn serve(args: Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|e| format!("{}: {e}", args.data_dir.display()))?;
    // One server per data directory: a second one would replay the same WAL and overwrite
    // the first one's manifest. The lock goes with the process, however it ends.
    let lock_path = args.data_dir.join("lock");
    let data_dir_lock =
        std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    data_dir_lock.try_lock().map_err(|_| {
        format!(
            "{} is in use by another linegate server (it holds {})",
            args.data_dir.display(),
            lock_path.display()
        )
    })?;
    let objects = args.object_store()?;
    let metrics = Arc::new(Metrics::default());
    let persist_bytes = ((args.persist_buffer_mib * (1 << 20) as f64) as usize).max(1);
    let config = StoreConfig {
        data_dir: args.data_dir.clone(),
        persist_bytes,
        persist_interval: Duration::from_secs(args.persist_interval_secs.max(1)),
        max_buffer_bytes: args
            .max_buffer_mib
            .map_or(2 * persist_bytes, |m| m.max(1) << 20),
        // Below the 5 s request timeout of Telegraf and the client libraries.
        busy_wait: Duration::from_secs(2),
        gen1_duration: Duration::from_secs(gen1_minutes(args.gen1_duration_mins)? * 60),
        compact_after: Duration::from_secs(args.compact_after_secs),
        compaction: !args.no_compaction,
        max_columns: args.max_columns_per_table.max(1),
    };
    let store = Store::open(config, objects, metrics.clone())
        .await
        .map_err(|e| format!("opening the store failed: {e}"))?;

    let tokens = if args.without_auth {
        tracing::warn!("AUTHENTICATION IS OFF (--without-auth): anyone who can reach this port can write, query and delete");
        None
    } else {
        let tokens =
            Tokens::open(&args.data_dir).map_err(|e| format!("loading tokens failed: {e}"))?;
        let file = args
            .admin_token_file
            .clone()
            .unwrap_or_else(|| args.data_dir.join("admin-token"));
        match tokens.admin_from_file(&file) {
            // Shown once, and only on a terminal: stdout and stderr may be log files.
            Ok(Some(token)) if std::io::stdout().is_terminal() => println!(
                "\nNew admin token (saved to {}, shown only this once):\n\n    {token}\n",
                file.display()
            ),
            Ok(Some(_)) => tracing::info!(
                file = %file.display(),
                "new admin token saved (not shown: standard output is not a terminal)"
            ),
            Ok(None) => tracing::info!(file = %file.display(), "admin token loaded"),
            Err(e) => return Err(format!("admin token file {}: {e}", file.display())),
        }
        Some(Arc::new(tokens))
    };

    store.spawn_persister();
    let state = Arc::new(AppState {
        store: store.clone(),
        tokens,
        metrics,
        max_body: args.max_http_request_size,
        body_timeout: Duration::from_secs(args.body_timeout_secs.max(1)),
    });
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(args.http_bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.http_bind))?;
    tracing::info!(address = %args.http_bind, tls = tls.is_some(), data_dir = %args.data_dir.display(), object_store = ?args.object_store, "linegate is listening");
    let idle_timeout = Duration::from_secs(args.idle_timeout_secs.max(1));
    let deadline = Duration::from_secs(args.shutdown_timeout_secs);
    serve_connections(listener, tls, http::router(state), idle_timeout, deadline).await;
    tracing::info!("shutting down: persisting the buffer and closing the WAL");
    store.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves one connection until it ends or graceful shutdown closes it. A client that goes
/// away mid-request is not the server's error; one that stops reading its answer for
/// `write_timeout` is dropped.
async fn serve_one<S>(
    builder: hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    stream: S,
    service: hyper_util::service::TowerToHyperService<axum::Router>,
    watcher: hyper_util::server::graceful::Watcher,
    write_timeout: Duration,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
    stream.set_write_timeout(Some(write_timeout));
    let io = hyper_util::rt::TokioIo::new(Box::pin(stream));
    let connection = builder.serve_connection_with_upgrades(io, service);
    let _ = watcher.watch(connection.into_owned()).await;
}

/// Waits (within `timeout`) until the first bytes of a plain connection tell HTTP/1.1 from
/// HTTP/2's 24-byte preface; `false` if they do not come, or the client leaves.
async fn says_its_version(stream: &tokio::net::TcpStream, timeout: Duration) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let deadline = tokio::time::Instant::now() + timeout;
    let mut first = [0u8; 24];
    loop {
        let n = match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        if n == PREFACE.len() || first[..n] != PREFACE[..n] {
            return true;
        }
        // A part of the preface: peek again shortly, without spinning.
        tokio::time::sleep(Duration::from_millis(10)).await;
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
    }
}

/// A TLS acceptor for `cert` (a PEM chain) and `key`, offering HTTP/2 (gRPC) and HTTP/1.1.
fn tls_acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::{crypto::ring, ServerConfig};

    let failed = |path: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| failed(cert, &e))?;
    if chain.is_empty() {
        return Err(failed(cert, &"no certificate in the file"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| failed(key, &e))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| failed(cert, &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until SIGTERM or Ctrl-C, each (after its TLS handshake, when `tls`)
/// served as HTTP/1.1 or HTTP/2 (gRPC) as its first bytes say; then waits up to `deadline`
/// for the requests in flight and closes the connections still open.
async fn serve_connections(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    idle_timeout: Duration,
    deadline: Duration,
) {
    use hyper_util::rt::{TokioExecutor, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let mut builder = Builder::new(TokioExecutor::new());
    // Heads up to 1 MiB and 1000 headers are read, so that one over the router's limits
    // gets its JSON 431 (http.rs) rather than hyper's empty one.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout)
        .max_buf_size(1 << 20)
        .max_headers(1000);
    // HTTP/2 peers that stop answering pings are dropped.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(idle_timeout)
        .keep_alive_timeout(Duration::from_secs(20));
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut tasks = tokio::task::JoinSet::new();
    let mut signal = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let (builder, watcher, tls) = (builder.clone(), connections.watcher(), tls.clone());
        while tasks.try_join_next().is_some() {} // forget the connections that ended
        tasks.spawn(async move {
            // A connection that does not say which HTTP it speaks (or does not finish its
            // TLS handshake) within the idle timeout is closed: until then no HTTP timer
            // runs.
            match tls {
                None => {
                    if !says_its_version(&stream, idle_timeout).await {
                        return;
                    }
                    serve_one(builder, stream, service, watcher, idle_timeout).await;
                }
                Some(tls) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(idle_timeout, tls.accept(stream)).await
                    else {
                        return;
                    };
                    // After TLS, ALPN has said it.
                    let builder = if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                        builder.http2_only()
                    } else {
                        builder.http1_only()
                    };
                    serve_one(builder, stream, service, watcher, idle_timeout).await;
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => {}
        () = tokio::time::sleep(deadline) => {
            tracing::warn!(
                "connections still open {} s after the signal are closed",
                deadline.as_secs()
            );
            // Their requests stop here too (a query still running, a body still arriving).
            tasks.abort_all();
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
