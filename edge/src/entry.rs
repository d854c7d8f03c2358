//! The Workers runtime glue: `fetch` and `scheduled`. Everything it decides comes from
//! [`super::map`] and the core; this file only moves bytes.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::{join_all, select, Either};
use futures_util::StreamExt;
use worker::{
    console_error, console_log, event, AbortController, Bucket, Context, Delay, Env, Fetch,
    Headers, HttpMetadata, Method, Request, RequestInit, Response, ScheduleContext, ScheduledEvent,
};

use super::map::{
    self, Answer, AuthMode, Delivery, Forwarded, Prepared, QueryApi, ReplayStep, RetryPolicy,
    Route, SpoolMeta, UpstreamOutcome,
};
use super::upstream::{self, Upstream};
use linegate::{
    error_body, Access, AuthScheme, ContentEncoding, Credentials, Endpoint, QueryRequest,
    RequestParts, Scope, WriteError, WriteRequest, DEFAULT_MAX_BODY,
};

/// Largest query body the edge reads to find the database.
const MAX_QUERY_BODY: usize = 1 << 20;

thread_local! {
    /// Per-isolate sequence for spool keys written in the same millisecond.
    static SEQUENCE: Cell<u32> = const { Cell::new(0) };
}

/// The worker's settings, from `[vars]` and secrets.
struct Config {
    mode: AuthMode,
    upstreams: Vec<Target>,
    max_body: usize,
    retry: RetryPolicy,
    retry_after: u32,
    gzip_level: u8,
    replay_budget_ms: u64,
    debug_memory: bool,
}

/// An upstream with its token (read from its secret).
struct Target {
    upstream: Upstream,
    token: Option<String>,
}

fn text_var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.trim().is_empty())
}

fn number_var(env: &Env, name: &str, default: u64) -> Result<u64, String> {
    match text_var(env, name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number, not {v:?}")),
    }
}

impl Config {
    fn read(env: &Env) -> Result<Config, String> {
        let mode = AuthMode::from_var(text_var(env, "AUTH_MODE").as_deref())?;
        let upstreams = upstream::from_vars(
            text_var(env, "UPSTREAMS").as_deref(),
            text_var(env, "UPSTREAM_URL").as_deref(),
        )?;
        let upstreams = upstreams
            .into_iter()
            .map(|upstream| {
                // In passthrough mode the client's own token travels instead.
                let token = match (&upstream.token_secret, mode) {
                    (Some(secret), AuthMode::Kv) => Some(
                        env.secret(secret)
                            .ok()
                            .map(|s| s.to_string())
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| {
                                format!("{secret} is not set (wrangler secret put {secret})")
                            })?,
                    ),
                    _ => None,
                };
                Ok(Target { upstream, token })
            })
            .collect::<Result<_, String>>()?;
        let defaults = RetryPolicy::default();
        Ok(Config {
            mode,
            upstreams,
            max_body: number_var(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY as u64)? as usize,
            retry: RetryPolicy {
                budget_ms: number_var(env, "RETRY_BUDGET_MS", defaults.budget_ms)?,
                timeout_ms: number_var(env, "UPSTREAM_TIMEOUT_MS", defaults.timeout_ms)?,
                first_backoff_ms: defaults.first_backoff_ms,
            },
            retry_after: number_var(env, "RETRY_AFTER_SECONDS", 10)? as u32,
            gzip_level: number_var(env, "GZIP_LEVEL", 1)?.min(10) as u8,
            replay_budget_ms: number_var(env, "REPLAY_BUDGET_MS", 20_000)?,
            debug_memory: text_var(env, "DEBUG_MEMORY").is_some(),
        })
    }

    /// The upstreams that take `database`, in configuration order.
    fn targets(&self, database: &str) -> Vec<&Target> {
        self.upstreams
            .iter()
            .filter(|t| t.upstream.takes(database))
            .collect()
    }

    /// The `Authorization` for `target`: its own token (KV mode) or the client's
    /// credentials (passthrough).
    fn upstream_authorization(&self, target: &Target, client: &ClientAuth) -> Option<String> {
        match self.mode {
            AuthMode::Kv => target
                .token
                .as_deref()
                .map(|t| target.upstream.authorization(t)),
            AuthMode::Passthrough => client.for_upstream(&target.upstream),
        }
    }
}

/// The client's credentials as they came, for passthrough mode.
struct ClientAuth {
    header: Option<String>,
    credentials: Option<Credentials>,
}

impl ClientAuth {
    /// The client's header unchanged, or a `p` parameter in the upstream's own scheme.
    fn for_upstream(&self, upstream: &Upstream) -> Option<String> {
        match (&self.header, &self.credentials) {
            (_, Some(c)) if c.scheme == AuthScheme::QueryParam => {
                Some(upstream.authorization(c.token()))
            }
            (Some(h), _) => Some(h.clone()),
            _ => None,
        }
    }
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Turns an [`Answer`] into a response.
fn respond(answer: Answer) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &answer.headers {
        headers.set(name, value)?;
    }
    if answer.body.is_empty() {
        return Ok(Response::builder()
            .with_status(answer.status)
            .with_headers(headers)
            .empty());
    }
    headers.set("Content-Type", "application/json")?;
    Ok(Response::builder()
        .with_status(answer.status)
        .with_headers(headers)
        .fixed(answer.body.into_bytes()))
}

fn error_response(error: &WriteError, endpoint: Endpoint) -> worker::Result<Response> {
    respond(Answer::error(error, endpoint))
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let config = match Config::read(&env) {
        Ok(config) => config,
        Err(message) => {
            console_error!("linegate edge configuration: {message}");
            return error_response(&WriteError::Internal(message), Endpoint::V3);
        }
    };
    let url = req.url()?;
    let path = url.path().to_owned();
    let query = url.query().map(str::to_owned);
    let method = req.method();
    match map::route(&path) {
        Route::Write(endpoint) => {
            let response = write(req, &env, &config, endpoint, &path, query.as_deref()).await;
            log_memory(&config);
            response
        }
        Route::Ping | Route::Health if !matches!(method, Method::Get | Method::Head) => {
            let mut answer = Answer::error(&WriteError::MethodNotAllowed, Endpoint::V3);
            answer.headers = vec![("Allow", "GET, HEAD".to_owned())];
            answer.body = error_body(Endpoint::V3, 405, "method not allowed: use GET");
            respond(answer)
        }
        Route::Ping => {
            let headers = Headers::new();
            for (name, value) in map::ping_headers() {
                headers.set(name, value)?;
            }
            Ok(Response::builder()
                .with_status(204)
                .with_headers(headers)
                .empty())
        }
        Route::Health => {
            let headers = Headers::new();
            headers.set("Content-Type", "application/json")?;
            Ok(Response::builder()
                .with_headers(headers)
                .fixed(map::health_body().as_bytes().to_vec()))
        }
        Route::Query(api) => forward_query(req, &env, &config, api, &path, query.as_deref()).await,
        Route::NotFound => error_response(&WriteError::NotFound, Endpoint::V3),
    }
}

/// The scope KV holds for the request's token: 401 without a token or for an unknown one,
/// 500 for a value that is not a scope (fail closed).
async fn token_scope(
    env: &Env,
    config: &Config,
    credentials: Option<&Credentials>,
) -> Result<Scope, WriteError> {
    let key = map::token_key(credentials)?;
    let kv = env
        .kv("TOKENS")
        .map_err(|_| WriteError::Internal("the TOKENS KV namespace is not bound".into()))?;
    let stored = kv.get(&key).text().await.map_err(|e| {
        console_error!("TOKENS lookup failed: {e}");
        WriteError::Unavailable {
            retry_after: config.retry_after,
        }
    })?;
    map::scope(stored.as_deref())
}

async fn write(
    mut req: Request,
    env: &Env,
    config: &Config,
    endpoint: Endpoint,
    path: &str,
    query: Option<&str>,
) -> worker::Result<Response> {
    let method = req.method().to_string();
    let authorization = req.headers().get("Authorization")?;
    let content_encoding = req.headers().get("Content-Encoding")?;
    let parts = RequestParts {
        method: &method,
        path,
        query,
        authorization: authorization.as_deref().map(str::as_bytes),
        content_encoding: content_encoding.as_deref().map(str::as_bytes),
    };
    let request = match WriteRequest::parse(&parts) {
        Ok(request) => request,
        Err(e) => return error_response(&e, endpoint),
    };
    let database = &request.params.database;
    if config.mode == AuthMode::Kv {
        let permitted = token_scope(env, config, request.credentials.as_ref())
            .await
            .and_then(|scope| scope.permits(database, Access::Write));
        if let Err(e) = permitted {
            return error_response(&e, endpoint);
        }
    }
    let targets = config.targets(database);
    if targets.is_empty() {
        let message = format!("database not found: no upstream takes database {database:?}");
        return respond(Answer {
            status: 404,
            headers: Vec::new(),
            body: error_body(endpoint, 404, &message),
        });
    }
    let client = ClientAuth {
        header: authorization.clone(),
        credentials: request.credentials.clone(),
    };

    let mut decoder = request.body_decoder(config.max_body);
    let content_length = req
        .headers()
        .get("Content-Length")?
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Err(e) = decoder.check_content_length(content_length) {
        return error_response(&e, endpoint);
    }
    // A gzip body is also kept as it came: forwarded unchanged when already canonical.
    let mut raw_gzip = (request.encoding == ContentEncoding::Gzip).then(Vec::new);
    let mut failed = None;
    if let Ok(mut stream) = req.stream() {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if failed.is_some() {
                // Read the rest (at most the raw cap, Content-Length was checked) so that
                // the client gets the answer instead of a reset connection.
                continue;
            }
            if let Err(e) = decoder.push(&chunk) {
                failed = Some(e);
                raw_gzip = None;
                continue;
            }
            if let Some(raw) = raw_gzip.as_mut() {
                raw.extend_from_slice(&chunk);
            }
        }
    }
    if let Some(e) = failed {
        return error_response(&e, endpoint);
    }
    let body = match decoder.finish() {
        Ok(body) => body,
        Err(e) => return error_response(&e, endpoint),
    };
    let prepared = match map::prepare(
        &request,
        &body,
        now_ms() as i64 * 1_000_000,
        config.gzip_level,
        raw_gzip.as_deref(),
    ) {
        Ok(prepared) => prepared,
        Err(e) => return error_response(&e, endpoint),
    };
    if prepared.line_numbers.is_empty() {
        // Every line was rejected (v3 partial): nothing to store.
        return respond(Answer::stored(endpoint, &prepared.rejected));
    }
    let Prepared {
        payload,
        line_numbers,
        rejected,
    } = prepared;
    let meta = SpoolMeta {
        database: database.clone(),
        accept_partial: map::upstream_accept_partial(endpoint, request.params.accept_partial),
        no_sync: request.params.no_sync,
        lines: line_numbers.len(),
    };
    let forwarded = Forwarded {
        endpoint,
        line_numbers,
        body: &body,
        rejected: &rejected,
    };
    // Every upstream at once: one slow or dead storage never holds up the others.
    let deliveries = join_all(targets.iter().map(|target| {
        deliver(
            env,
            config,
            target,
            config.upstream_authorization(target, &client),
            &meta,
            &payload,
            &forwarded,
        )
    }))
    .await;
    respond(map::combine(
        endpoint,
        &rejected,
        &deliveries,
        config.retry_after,
    ))
}

/// Gets a batch to one upstream: straight to storage when its spool is empty, else (or
/// when storage stays down for the retry budget) into its spool, behind the batches there.
async fn deliver(
    env: &Env,
    config: &Config,
    target: &Target,
    authorization: Option<String>,
    meta: &SpoolMeta,
    payload: &[u8],
    forwarded: &Forwarded<'_>,
) -> Delivery {
    let upstream = &target.upstream;
    let label = upstream_label(upstream);
    if config.mode == AuthMode::Kv {
        // Storage must see batches in the order the edge acknowledged them: while older
        // ones wait in the spool, a new one waits behind them. If R2 cannot say, the spool
        // is the safe side too.
        match spool_pending(env, upstream).await {
            Ok(false) => {}
            Ok(true) => return spool_or_fail(env, upstream, meta, payload, "queued").await,
            Err(e) => {
                console_error!("{label}: cannot list its spool: {e}");
                return spool_or_fail(env, upstream, meta, payload, "queued").await;
            }
        }
    }
    let url = upstream.write_url(&meta.database, meta.accept_partial, meta.no_sync);
    let auth = authorization.as_deref();
    let started = now_ms();
    let mut attempt = 0;
    while let Some(next) = config.retry.next(attempt, now_ms() - started) {
        attempt += 1;
        if next.delay_ms > 0 {
            Delay::from(Duration::from_millis(next.delay_ms)).await;
        }
        match post_write(
            upstream,
            auth,
            &url,
            &meta.database,
            payload,
            next.timeout_ms,
        )
        .await
        {
            Ok((status, _)) if (200..300).contains(&status) => return Delivery::Stored,
            Ok((status, text)) => match map::map_upstream(status, &text, forwarded) {
                UpstreamOutcome::Answer(answer) => return Delivery::Refused(answer),
                UpstreamOutcome::StorageDown => {
                    console_log!("{label} answered {status} (attempt {attempt})")
                }
            },
            Err(e) => console_log!("{label} unreachable (attempt {attempt}): {e}"),
        }
    }
    // Storage is down. Without a token check of our own there is nothing we may acknowledge.
    if config.mode == AuthMode::Passthrough {
        return Delivery::Failed;
    }
    spool_or_fail(env, upstream, meta, payload, "storage down").await
}

/// How logs name an upstream: its name, or its URL for the single `UPSTREAM_URL`.
fn upstream_label(upstream: &Upstream) -> &str {
    if upstream.name.is_empty() {
        &upstream.url
    } else {
        &upstream.name
    }
}

async fn spool_or_fail(
    env: &Env,
    upstream: &Upstream,
    meta: &SpoolMeta,
    payload: &[u8],
    why: &str,
) -> Delivery {
    let label = upstream_label(upstream);
    match spool(env, upstream, meta, payload.to_vec()).await {
        Ok(key) => {
            console_log!("{label}: {why}: spooled {} lines as {key}", meta.lines);
            Delivery::Spooled(key)
        }
        Err(e) => {
            console_error!("{label}: {why} and the spool failed: {e}");
            Delivery::Failed
        }
    }
}

/// Whether the upstream's spool holds a batch.
async fn spool_pending(env: &Env, upstream: &Upstream) -> worker::Result<bool> {
    let listed = env
        .bucket("SPOOL")?
        .list()
        .prefix(upstream.spool_prefix())
        .limit(1)
        .execute()
        .await?;
    Ok(!listed.objects().is_empty())
}

/// POSTs a batch; when a v1 storage answers that the database does not exist, creates it
/// (as later InfluxDB APIs do on a first write) and POSTs once more.
async fn post_write(
    upstream: &Upstream,
    authorization: Option<&str>,
    url: &str,
    database: &str,
    payload: &[u8],
    timeout_ms: u64,
) -> worker::Result<(u16, String)> {
    let (status, text) = post(url, authorization, payload, timeout_ms).await?;
    if !map::database_missing(status, &text) {
        return Ok((status, text));
    }
    let Some((query_url, form)) = upstream.create_database(database) else {
        return Ok((status, text));
    };
    let (created, answer) = send(
        &query_url,
        authorization,
        "application/x-www-form-urlencoded",
        None,
        form.as_bytes(),
        timeout_ms,
    )
    .await?;
    if !(200..300).contains(&created) {
        console_error!(
            "{}: CREATE DATABASE answered {created}: {answer}",
            upstream.url
        );
        return Ok((status, text));
    }
    post(url, authorization, payload, timeout_ms).await
}

/// With `DEBUG_MEMORY` set, logs the size of the wasm linear memory (it only grows, so the
/// last figure is the isolate's peak); the end-to-end test reads it.
fn log_memory(config: &Config) {
    if config.debug_memory {
        let bytes = core::arch::wasm32::memory_size(0) * 65536;
        console_log!("wasm memory: {bytes} bytes");
    }
}

/// Puts a batch into the upstream's spool; the key once R2 has it.
async fn spool(
    env: &Env,
    upstream: &Upstream,
    meta: &SpoolMeta,
    payload: Vec<u8>,
) -> worker::Result<String> {
    let bucket = env.bucket("SPOOL")?;
    let sequence = SEQUENCE.with(|s| {
        let n = s.get();
        s.set(n.wrapping_add(1));
        n
    });
    let random = (js_sys::Math::random() * 4_294_967_296.0) as u32;
    let key = map::spool_key(&upstream.spool_prefix(), now_ms(), sequence, random);
    put_batch(&bucket, &key, meta.to_pairs(), payload).await?;
    Ok(key)
}

async fn put_batch(
    bucket: &Bucket,
    key: &str,
    meta: Vec<(String, String)>,
    payload: Vec<u8>,
) -> worker::Result<()> {
    bucket
        .put(key, payload)
        .http_metadata(HttpMetadata {
            content_type: Some("text/plain; charset=utf-8".into()),
            content_encoding: Some("gzip".into()),
            ..Default::default()
        })
        .custom_metadata(meta.into_iter().collect::<HashMap<_, _>>())
        .execute()
        .await?;
    Ok(())
}

/// POSTs a gzip batch upstream; the status and body, or why there was none in time.
async fn post(
    url: &str,
    authorization: Option<&str>,
    payload: &[u8],
    timeout_ms: u64,
) -> worker::Result<(u16, String)> {
    send(
        url,
        authorization,
        "text/plain; charset=utf-8",
        Some("gzip"),
        payload,
        timeout_ms,
    )
    .await
}

/// POSTs `body`; the status and the answer's text, or why there was none in time.
async fn send(
    url: &str,
    authorization: Option<&str>,
    content_type: &str,
    content_encoding: Option<&str>,
    body: &[u8],
    timeout_ms: u64,
) -> worker::Result<(u16, String)> {
    let headers = Headers::new();
    if let Some(auth) = authorization {
        headers.set("Authorization", auth)?;
    }
    if let Some(encoding) = content_encoding {
        headers.set("Content-Encoding", encoding)?;
    }
    headers.set("Content-Type", content_type)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(js_sys::Uint8Array::from(body).into()));
    let request = Request::new_with_init(url, &init)?;
    with_timeout(timeout_ms, |signal| async move {
        let mut response = Fetch::Request(request).send_with_signal(&signal).await?;
        let text = response.text().await.unwrap_or_default();
        Ok((response.status_code(), text))
    })
    .await
}

/// Runs a fetch with an abort signal that fires after `timeout_ms`.
async fn with_timeout<T, F, Fut>(timeout_ms: u64, f: F) -> worker::Result<T>
where
    F: FnOnce(worker::AbortSignal) -> Fut,
    Fut: std::future::Future<Output = worker::Result<T>>,
{
    let controller = AbortController::default();
    let work = Box::pin(f(controller.signal()));
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    match select(work, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            controller.abort();
            Err(worker::Error::RustError(format!(
                "no answer within {timeout_ms} ms"
            )))
        }
    }
}

/// `/query` and `/api/v3/query_*`: authenticate (read access to the named database), then
/// hand the request to the first upstream that takes the database and answers the path (the
/// next one when it is down), and its answer back unchanged.
async fn forward_query(
    mut req: Request,
    env: &Env,
    config: &Config,
    api: QueryApi,
    path: &str,
    query: Option<&str>,
) -> worker::Result<Response> {
    let error_endpoint = Endpoint::V3;
    let method = req.method();
    if !matches!(method, Method::Get | Method::Post) {
        let mut answer = Answer::error(&WriteError::MethodNotAllowed, error_endpoint);
        answer.headers = vec![("Allow", "GET, POST".to_owned())];
        answer.body = error_body(error_endpoint, 405, "method not allowed: use GET or POST");
        return respond(answer);
    }
    let authorization = req.headers().get("Authorization")?;
    let content_type = req.headers().get("Content-Type")?;
    let credentials =
        match Credentials::from_request(path, query, authorization.as_deref().map(str::as_bytes)) {
            Ok(c) => c,
            Err(e) => return error_response(&e, error_endpoint),
        };
    let body = if method == Method::Post {
        let body = req.bytes().await.unwrap_or_default();
        if body.len() > MAX_QUERY_BODY {
            return error_response(
                &WriteError::TooLarge {
                    limit: MAX_QUERY_BODY,
                },
                error_endpoint,
            );
        }
        body
    } else {
        Vec::new()
    };
    let parsed = QueryRequest::parse(api.endpoint(), query, content_type.as_deref(), &body);
    let upstream_query = match config.mode {
        AuthMode::Kv => {
            let request = match parsed.as_ref() {
                Ok(request) => request,
                Err(e) => return error_response(e, error_endpoint),
            };
            if let Err(answer) =
                authorize_query(env, config, credentials.as_ref(), api, request).await
            {
                return respond(answer);
            }
            query.map(|q| map::strip_credentials(q).into_owned())
        }
        AuthMode::Passthrough => query.map(str::to_owned),
    };
    let database = parsed.ok().and_then(|request| request.database);
    let client = ClientAuth {
        header: authorization,
        credentials,
    };
    let candidates: Vec<&Target> = config
        .upstreams
        .iter()
        .filter(|t| {
            t.upstream.answers_query(path)
                && database.as_deref().is_none_or(|d| t.upstream.takes(d))
        })
        .collect();
    if candidates.is_empty() {
        let message = match &database {
            Some(d) => format!("no upstream that answers {path} takes database {d:?}"),
            None => format!("no upstream answers {path}"),
        };
        return respond(Answer {
            status: 404,
            headers: Vec::new(),
            body: error_body(error_endpoint, 404, &message),
        });
    }
    let mut last = None;
    for target in candidates {
        let headers = Headers::new();
        if let Some(auth) = config.upstream_authorization(target, &client) {
            headers.set("Authorization", &auth)?;
        }
        for name in ["Content-Type", "Accept"] {
            if let Some(value) = req.headers().get(name)? {
                headers.set(name, &value)?;
            }
        }
        let mut init = RequestInit::new();
        init.with_method(method.clone()).with_headers(headers);
        if !body.is_empty() {
            init.with_body(Some(js_sys::Uint8Array::from(&body[..]).into()));
        }
        let url = target.upstream.query_url(path, upstream_query.as_deref());
        let request = Request::new_with_init(&url, &init)?;
        let result = with_timeout(config.retry.timeout_ms, |signal| async move {
            Fetch::Request(request).send_with_signal(&signal).await
        })
        .await;
        let label = upstream_label(&target.upstream);
        match result {
            Ok(response) if response.status_code() < 500 => return Ok(response),
            Ok(response) => {
                console_log!("query: {label} answered {}", response.status_code());
                last = Some(response);
            }
            Err(e) => console_log!("query: {label} unreachable: {e}"),
        }
    }
    match last {
        Some(response) => Ok(response),
        None => error_response(
            &WriteError::Unavailable {
                retry_after: config.retry_after,
            },
            error_endpoint,
        ),
    }
}

/// Checks a query's token in KV: admin tokens may run anything; tokens limited to
/// databases must name one they may read and run a single read-only statement
/// ([`map::scoped_query_allowed`]), since the upstream sees the edge's own token.
async fn authorize_query(
    env: &Env,
    config: &Config,
    credentials: Option<&Credentials>,
    api: QueryApi,
    request: &QueryRequest,
) -> Result<(), Answer> {
    let endpoint = Endpoint::V3;
    let scope = token_scope(env, config, credentials)
        .await
        .map_err(|e| Answer::error(&e, endpoint))?;
    if scope == Scope::Admin {
        return Ok(());
    }
    let forbidden = |message: &str| Answer {
        status: 403,
        headers: Vec::new(),
        body: error_body(endpoint, 403, message),
    };
    let Some(database) = &request.database else {
        return Err(forbidden(
            "this token is limited to databases: name one with the db parameter",
        ));
    };
    scope
        .permits(database, Access::Read)
        .map_err(|e| Answer::error(&e, endpoint))?;
    if !map::scoped_query_allowed(api, &request.q) {
        return Err(forbidden(
            "this token may only run a single read-only query on its own databases (no INTO, ON or db.rp.measurement names)",
        ));
    }
    Ok(())
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let config = match Config::read(&env) {
        Ok(config) => config,
        Err(message) => {
            console_error!("spool replay: linegate edge configuration: {message}");
            return;
        }
    };
    if config.mode == AuthMode::Passthrough {
        return; // nothing is spooled in passthrough mode
    }
    let started = now_ms();
    // Each upstream's spool on its own: a dead storage stops only its own replay.
    let runs = join_all(
        config
            .upstreams
            .iter()
            .map(|target| replay(&env, &config, target, started)),
    )
    .await;
    for (target, run) in config.upstreams.iter().zip(runs) {
        let label = upstream_label(&target.upstream);
        match run {
            Ok(Replayed {
                stored,
                dead,
                left: more,
            }) => {
                if stored + dead > 0 || more {
                    console_log!(
                        "{label}: spool replay: {stored} stored, {dead} dead-lettered, {}",
                        if more {
                            "some left for the next run"
                        } else {
                            "spool empty"
                        }
                    );
                }
            }
            Err(e) => console_error!("{label}: spool replay failed: {e}"),
        }
    }
}

/// What one replay run did with an upstream's spool.
struct Replayed {
    stored: usize,
    dead: usize,
    left: bool,
}

/// Replays an upstream's spool in key (arrival) order until it is empty, storage fails, or
/// the run's time budget is used. Each batch is deleted only after storage accepted it.
async fn replay(
    env: &Env,
    config: &Config,
    target: &Target,
    started: u64,
) -> worker::Result<Replayed> {
    let upstream = &target.upstream;
    let bucket = env.bucket("SPOOL")?;
    let auth = target.token.as_deref().map(|t| upstream.authorization(t));
    let prefix = upstream.spool_prefix();
    let mut run = Replayed {
        stored: 0,
        dead: 0,
        left: false,
    };
    loop {
        let listed = bucket.list().prefix(&prefix).limit(100).execute().await?;
        let objects = listed.objects();
        if objects.is_empty() {
            return Ok(run);
        }
        for object in objects {
            if now_ms() - started > config.replay_budget_ms {
                run.left = true;
                return Ok(run);
            }
            let key = object.key();
            let Some(object) = bucket.get(&key).execute().await? else {
                continue; // another run took it
            };
            let meta = object.custom_metadata().unwrap_or_default();
            let payload = match object.body() {
                Some(body) => body.bytes().await?,
                None => Vec::new(),
            };
            let step =
                match SpoolMeta::from_pairs(meta.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                    None => ReplayStep::DeadLetter,
                    Some(meta) => {
                        let url =
                            upstream.write_url(&meta.database, meta.accept_partial, meta.no_sync);
                        let timeout = config.retry.timeout_ms;
                        match post_write(
                            upstream,
                            auth.as_deref(),
                            &url,
                            &meta.database,
                            &payload,
                            timeout,
                        )
                        .await
                        {
                            Ok((status, text)) => {
                                let step = map::replay_step(Some(status));
                                if step == ReplayStep::DeadLetter {
                                    console_error!(
                                        "spooled {key} refused by storage ({status}): {text}"
                                    );
                                }
                                step
                            }
                            Err(e) => {
                                console_log!("spool replay: storage unreachable: {e}");
                                map::replay_step(None)
                            }
                        }
                    }
                };
            match step {
                ReplayStep::Delete => {
                    bucket.delete(&key).await?;
                    run.stored += 1;
                }
                ReplayStep::DeadLetter => {
                    put_batch(
                        &bucket,
                        &map::dead_key(&key),
                        meta.into_iter().collect(),
                        payload,
                    )
                    .await?;
                    bucket.delete(&key).await?;
                    run.dead += 1;
                }
                ReplayStep::Stop => {
                    run.left = true;
                    return Ok(run);
                }
            }
        }
    }
}
