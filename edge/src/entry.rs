//! The Workers runtime glue: `fetch` and `scheduled`. Everything it decides comes from
//! [`super::map`] and the core; this file only moves bytes.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use worker::{
    console_error, console_log, event, AbortController, Bucket, Context, Delay, Env, Fetch,
    Headers, HttpMetadata, Method, Request, RequestInit, Response, ScheduleContext, ScheduledEvent,
};

use super::map::{
    self, Answer, AuthMode, Forwarded, Prepared, QueryApi, ReplayStep, RetryPolicy, Route,
    SpoolMeta, UpstreamOutcome,
};
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
    upstream: String,
    upstream_token: String,
    max_body: usize,
    retry: RetryPolicy,
    retry_after: u32,
    gzip_level: u8,
    replay_budget_ms: u64,
    debug_memory: bool,
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
        let upstream = text_var(env, "UPSTREAM_URL").ok_or("UPSTREAM_URL is not set")?;
        let upstream_token = env
            .secret("UPSTREAM_TOKEN")
            .ok()
            .map(|s| s.to_string())
            .unwrap_or_default();
        if mode == AuthMode::Kv && upstream_token.is_empty() {
            return Err("UPSTREAM_TOKEN is not set (wrangler secret put UPSTREAM_TOKEN)".into());
        }
        let defaults = RetryPolicy::default();
        Ok(Config {
            mode,
            upstream,
            upstream_token,
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

/// Checks a write's token in KV: the upstream `Authorization` to use, or the error.
async fn authenticate(
    env: &Env,
    config: &Config,
    credentials: Option<&Credentials>,
    database: &str,
) -> Result<String, WriteError> {
    token_scope(env, config, credentials)
        .await?
        .permits(database, Access::Write)?;
    Ok(format!("Bearer {}", config.upstream_token))
}

/// The `Authorization` to hand upstream in passthrough mode: the client's header as it came,
/// or `Bearer <token>` for a v1 `p` parameter (the v3 write API does not read `p`).
fn passthrough_authorization(
    header: Option<&str>,
    credentials: Option<&Credentials>,
) -> Option<String> {
    match (header, credentials) {
        (_, Some(c)) if c.scheme == AuthScheme::QueryParam => Some(format!("Bearer {}", c.token())),
        (Some(h), _) => Some(h.to_owned()),
        _ => None,
    }
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
    let upstream_auth = match config.mode {
        AuthMode::Kv => match authenticate(
            env,
            config,
            request.credentials.as_ref(),
            &request.params.database,
        )
        .await
        {
            Ok(auth) => Some(auth),
            Err(e) => return error_response(&e, endpoint),
        },
        AuthMode::Passthrough => {
            passthrough_authorization(authorization.as_deref(), request.credentials.as_ref())
        }
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
    let accept_partial = map::upstream_accept_partial(endpoint, request.params.accept_partial);
    let url = map::upstream_write_url(
        &config.upstream,
        &request.params.database,
        accept_partial,
        request.params.no_sync,
    );
    let forwarded = Forwarded {
        endpoint,
        line_numbers,
        body: &body,
        rejected: &rejected,
    };

    let started = now_ms();
    let mut attempt = 0;
    while let Some(next) = config.retry.next(attempt, now_ms() - started) {
        attempt += 1;
        if next.delay_ms > 0 {
            Delay::from(Duration::from_millis(next.delay_ms)).await;
        }
        match post(&url, upstream_auth.as_deref(), &payload, next.timeout_ms).await {
            Ok((status, text)) => match map::map_upstream(status, &text, &forwarded) {
                UpstreamOutcome::Answer(answer) => return respond(answer),
                UpstreamOutcome::StorageDown => {
                    console_log!("storage answered {status} (attempt {attempt})")
                }
            },
            Err(e) => console_log!("storage unreachable (attempt {attempt}): {e}"),
        }
    }

    // Storage is down. Without a token check of our own there is nothing we may acknowledge.
    let unavailable = WriteError::Unavailable {
        retry_after: config.retry_after,
    };
    if config.mode == AuthMode::Passthrough {
        return error_response(&unavailable, endpoint);
    }
    let meta = SpoolMeta {
        database: request.params.database.clone(),
        accept_partial,
        no_sync: request.params.no_sync,
        lines: forwarded.line_numbers.len(),
    };
    match spool(env, &meta, payload).await {
        Ok(key) => {
            console_log!("storage down: spooled {} lines as {key}", meta.lines);
            let mut answer = Answer::stored(endpoint, &rejected);
            answer.headers.push(("X-Linegate-Spooled", key));
            respond(answer)
        }
        Err(e) => {
            console_error!("storage down and the spool failed: {e}");
            error_response(&unavailable, endpoint)
        }
    }
}

/// With `DEBUG_MEMORY` set, logs the size of the wasm linear memory (it only grows, so the
/// last figure is the isolate's peak); the end-to-end test reads it.
fn log_memory(config: &Config) {
    if config.debug_memory {
        let bytes = core::arch::wasm32::memory_size(0) * 65536;
        console_log!("wasm memory: {bytes} bytes");
    }
}

/// Puts a batch into the spool; the key once R2 has it.
async fn spool(env: &Env, meta: &SpoolMeta, payload: Vec<u8>) -> worker::Result<String> {
    let bucket = env.bucket("SPOOL")?;
    let sequence = SEQUENCE.with(|s| {
        let n = s.get();
        s.set(n.wrapping_add(1));
        n
    });
    let random = (js_sys::Math::random() * 4_294_967_296.0) as u32;
    let key = map::spool_key(now_ms(), sequence, random);
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
    let headers = Headers::new();
    if let Some(auth) = authorization {
        headers.set("Authorization", auth)?;
    }
    headers.set("Content-Encoding", "gzip")?;
    headers.set("Content-Type", "text/plain; charset=utf-8")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(js_sys::Uint8Array::from(payload).into()));
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
/// hand the request to the upstream and its answer back unchanged.
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
    let (upstream_auth, upstream_query) = match config.mode {
        AuthMode::Kv => {
            match authorize_query(
                env,
                config,
                credentials.as_ref(),
                api,
                query,
                content_type.as_deref(),
                &body,
            )
            .await
            {
                Ok(()) => (
                    Some(format!("Bearer {}", config.upstream_token)),
                    query.map(|q| map::strip_credentials(q).into_owned()),
                ),
                Err(answer) => return respond(answer),
            }
        }
        AuthMode::Passthrough => (authorization.clone(), query.map(str::to_owned)),
    };
    let url = map::upstream_query_url(&config.upstream, path, upstream_query.as_deref());
    let headers = Headers::new();
    if let Some(auth) = &upstream_auth {
        headers.set("Authorization", auth)?;
    }
    for name in ["Content-Type", "Accept"] {
        if let Some(value) = req.headers().get(name)? {
            headers.set(name, &value)?;
        }
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if !body.is_empty() {
        init.with_body(Some(js_sys::Uint8Array::from(&body[..]).into()));
    }
    let request = Request::new_with_init(&url, &init)?;
    let result = with_timeout(config.retry.timeout_ms, |signal| async move {
        Fetch::Request(request).send_with_signal(&signal).await
    })
    .await;
    match result {
        Ok(response) => Ok(response),
        Err(e) => {
            console_log!("query: storage unreachable: {e}");
            error_response(
                &WriteError::Unavailable {
                    retry_after: config.retry_after,
                },
                error_endpoint,
            )
        }
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
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), Answer> {
    let endpoint = Endpoint::V3;
    let request = QueryRequest::parse(api.endpoint(), query, content_type, body)
        .map_err(|e| Answer::error(&e, endpoint))?;
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
    let Some(database) = request.database else {
        return Err(forbidden(
            "this token is limited to databases: name one with the db parameter",
        ));
    };
    scope
        .permits(&database, Access::Read)
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
    match replay(&env).await {
        Ok((stored, dead, left)) => {
            if stored + dead > 0 || left {
                console_log!(
                    "spool replay: {stored} stored, {dead} dead-lettered, {}",
                    if left {
                        "some left for the next run"
                    } else {
                        "spool empty"
                    }
                );
            }
        }
        Err(e) => console_error!("spool replay failed: {e}"),
    }
}

/// Replays the spool in key (arrival) order until it is empty, storage fails, or the run's
/// time budget is used. Each batch is deleted only after storage accepted it.
async fn replay(env: &Env) -> worker::Result<(usize, usize, bool)> {
    let config = Config::read(env).map_err(worker::Error::RustError)?;
    if config.mode == AuthMode::Passthrough {
        return Ok((0, 0, false));
    }
    let bucket = env.bucket("SPOOL")?;
    let auth = format!("Bearer {}", config.upstream_token);
    let started = now_ms();
    let (mut stored, mut dead) = (0, 0);
    loop {
        let listed = bucket
            .list()
            .prefix(map::SPOOL_PREFIX)
            .limit(100)
            .execute()
            .await?;
        let objects = listed.objects();
        if objects.is_empty() {
            return Ok((stored, dead, false));
        }
        for object in objects {
            if now_ms() - started > config.replay_budget_ms {
                return Ok((stored, dead, true));
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
                        let url = map::upstream_write_url(
                            &config.upstream,
                            &meta.database,
                            meta.accept_partial,
                            meta.no_sync,
                        );
                        match post(&url, Some(&auth), &payload, config.retry.timeout_ms).await {
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
                    stored += 1;
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
                    dead += 1;
                }
                ReplayStep::Stop => return Ok((stored, dead, true)),
            }
        }
    }
}
