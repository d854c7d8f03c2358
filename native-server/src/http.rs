//! HTTP: the routes, each a thin handler that turns a request into the core's or the store's
//! terms and the outcome back into InfluxDB's responses.
//!
//! | route | methods | token |
//! |---|---|---|
//! | `/write`, `/api/v2/write`, `/api/v3/write_lp` | POST | write on the database |
//! | `/api/v3/query_sql` | GET, POST | read on the database |
//! | `/query` (InfluxQL, 1.x JSON) | GET, POST | read on the database |
//! | `/api/v3/configure/database` | GET, POST, DELETE | admin |
//! | `/api/v3/configure/token` | POST | admin |
//! | `/arrow.flight.protocol.FlightService/*` (gRPC, [`flight`]) | POST | read on the database |
//! | `/ping` (GET, HEAD), `/health`, `/metrics`, `/` (the validation page) | GET | none |
//!
//! The token checks are extractors ([`Admin`], [`AuthorizedWrite`], [`AuthorizedQuery`]), so
//! a handler that names one cannot run unauthorized; every failure is an [`ApiError`],
//! rendered in the InfluxDB shape of the endpoint's clients.
//!
//! Every response carries `Access-Control-Allow-Origin: *` and `OPTIONS` preflights are
//! answered, so the browser page can send to the server from anywhere.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::Router;
use datafusion::common::ParamValues;
use futures::{StreamExt, TryStreamExt};
use linegate::{
    check_database_name, error_body, query_pairs, Access, Credentials, Endpoint, QueryEndpoint,
    QueryRequest, RequestParts, Scope, TokenStore, WriteError, WriteRequest,
};
use serde::Deserialize;

use crate::auth::{Grant, Permission, Tokens};
use crate::catalog::{format_duration, parse_duration};
use crate::flight;
use crate::influxql::{self, Epoch};
use crate::metrics::Metrics;
use crate::query::{self, QueryError};
use crate::store::Store;

/// What every handler shares.
pub struct AppState {
    /// The storage engine.
    pub store: Arc<Store>,
    /// The token store; `None` when the server runs `--without-auth`.
    pub tokens: Option<Arc<Tokens>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Cap on the raw and the decompressed write body.
    pub max_body: usize,
    /// How long a request body may send nothing before the request gets 408.
    pub body_timeout: std::time::Duration,
}

type Shared = State<Arc<AppState>>;

/// The server's routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/write", any(write))
        .route("/api/v2/write", any(write))
        .route("/api/v3/write_lp", any(write))
        .route("/ping", get(ping).head(ping))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/v3/query_sql", get(query_sql).post(query_sql))
        .route("/query", get(query_influxql).post(query_influxql))
        .route(
            "/api/v3/query_influxql",
            get(query_influxql_v3).post(query_influxql_v3),
        )
        .route(
            "/api/v3/configure/database",
            get(list_databases)
                .post(create_database)
                .delete(delete_database),
        )
        .route("/api/v3/configure/table", delete(delete_table))
        .route(
            "/api/v3/configure/dbrp",
            get(list_dbrps).post(create_dbrp).delete(delete_dbrp),
        )
        .route("/api/v3/configure/token", post(create_token))
        // gRPC (HTTP/2) on the same port, as InfluxDB 3 serves it.
        .route_service(
            &format!("{}{{*method}}", flight::PATH),
            flight::service(state.clone()),
        )
        .fallback(page)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Paths counted under their own name in `/metrics`; anything else is `other`.
const KNOWN_PATHS: &[&str] = &[
    "/write",
    "/api/v2/write",
    "/api/v3/write_lp",
    "/ping",
    "/health",
    "/metrics",
    "/api/v3/query_sql",
    "/query",
    "/api/v3/configure/database",
    "/api/v3/configure/token",
    "/",
];

/// Header bytes a request may carry (names, values and their separators), and header count.
/// Past these, 431 in the endpoint's JSON shape; HTTP/1.1 connections read up to 1 MiB of
/// head (`serve.rs`) so that the answer can be this one rather than hyper's bodiless 431.
const MAX_HEADER_BYTES: usize = 64 << 10;
const MAX_HEADERS: usize = 100;

/// The 431 for a request whose headers are over [`MAX_HEADER_BYTES`] or [`MAX_HEADERS`].
fn headers_too_large(request: &Request) -> Option<Response> {
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if bytes <= MAX_HEADER_BYTES && headers.len() <= MAX_HEADERS {
        return None;
    }
    let endpoint = Endpoint::from_path(request.uri().path()).unwrap_or(Endpoint::V3);
    let message = format!(
        "request header fields too large: {} headers, {bytes} bytes (at most {MAX_HEADERS} headers, {MAX_HEADER_BYTES} bytes)",
        headers.len()
    );
    let body = error_body(endpoint, 431, &message);
    Some(
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
    )
}

/// CORS, header limits and request counting around every route.
async fn observe(State(state): Shared, request: Request, next: Next) -> Response {
    let path = KNOWN_PATHS
        .iter()
        .find(|p| **p == request.uri().path())
        .copied()
        .unwrap_or("other");
    let mut response = if let Some(refused) = headers_too_large(&request) {
        refused
    } else if request.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, HEAD, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type, Content-Encoding, Accept"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        preflight
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Some(WriteErrorKind(kind)) = response.extensions().get::<WriteErrorKind>() {
        state.metrics.write_error(kind);
    }
    state.metrics.request(path, response.status().as_u16());
    response
}

/// A failed request, as InfluxDB answers it.
#[derive(Debug)]
pub enum ApiError {
    /// A core error, in the body shape of the endpoint's clients.
    Core(WriteError, Endpoint),
    /// Any other failure: `{"error": message}`.
    Status(StatusCode, String),
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::Status(status, message.into())
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> ApiError {
        let status = match &error {
            QueryError::DatabaseNotFound(_) => StatusCode::NOT_FOUND,
            QueryError::Invalid(_) | QueryError::NotReadOnly(_) => StatusCode::BAD_REQUEST,
            QueryError::Forbidden(_) => StatusCode::FORBIDDEN,
            QueryError::Storage(message) => {
                tracing::error!(%message, "query failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::Status(status, error.message())
    }
}

/// Marks a failed write's response so that [`observe`] counts it by kind.
#[derive(Clone, Copy)]
struct WriteErrorKind(&'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body, extra) = match &self {
            ApiError::Core(error, endpoint) => (
                StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                error.body(*endpoint),
                error.headers(),
            ),
            ApiError::Status(status, message) => (
                *status,
                error_body(Endpoint::V3, status.as_u16(), message),
                Vec::new(),
            ),
        };
        let mut response =
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        for (name, value) in extra {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        if let ApiError::Core(error, _) = &self {
            if let WriteError::Internal(message) = error {
                tracing::error!(%message, "request failed");
            }
            response
                .extensions_mut()
                .insert(WriteErrorKind(error_kind(error)));
        }
        response
    }
}

fn error_kind(error: &WriteError) -> &'static str {
    match error {
        WriteError::InvalidParameter(_) => "parameter",
        WriteError::MalformedAuthorization | WriteError::Unauthenticated => "unauthenticated",
        WriteError::Forbidden { .. } => "forbidden",
        WriteError::NotFound | WriteError::MethodNotAllowed => "route",
        WriteError::UnsupportedEncoding(_) => "encoding",
        WriteError::TooLarge { .. } => "too_large",
        WriteError::InvalidGzip(_) => "gzip",
        WriteError::InvalidUtf8 { .. } => "utf8",
        WriteError::EmptyWrite => "empty",
        WriteError::Line(_) => "line",
        WriteError::PartialWrite(_) => "partial",
        WriteError::Unavailable { .. } => "busy",
        WriteError::Internal(_) => "internal",
        _ => "other",
    }
}

fn request_parts(parts: &Parts) -> RequestParts<'_> {
    RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        authorization: parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes()),
        content_encoding: parts
            .headers
            .get(header::CONTENT_ENCODING)
            .map(|v| v.as_bytes()),
    }
}

/// The request's token: `?p=` (on `/write` and `/query`) or the `Authorization` header.
fn credentials(parts: &Parts) -> Result<Option<Credentials>, WriteError> {
    let request = request_parts(parts);
    Credentials::from_request(request.path, request.query, request.authorization)
}

/// Checks `credentials` for `access` to `database`, or for any valid token when the request
/// names no database. `Ok` when the server runs without auth.
pub fn authorize(
    state: &AppState,
    credentials: Option<&Credentials>,
    database: Option<&str>,
    access: Access,
) -> Result<(), WriteError> {
    let Some(tokens) = &state.tokens else {
        return Ok(());
    };
    match database {
        Some(db) => tokens.authorize(credentials, db, access),
        None => credentials
            .and_then(|c| tokens.scope(&c.hash()))
            .map(|_| ())
            .ok_or(WriteError::Unauthenticated),
    }
}

/// A request made with an admin token (or to a server without auth).
pub struct Admin;

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Admin, ApiError> {
        let Some(tokens) = &state.tokens else {
            return Ok(Admin);
        };
        let refuse = |e: WriteError| ApiError::Core(e, Endpoint::V3);
        let credentials = credentials(parts).map_err(refuse)?;
        match credentials.and_then(|c| tokens.scope(&c.hash())) {
            Some(Scope::Admin) => Ok(Admin),
            Some(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this operation needs an admin token",
            )),
            None => Err(refuse(WriteError::Unauthenticated)),
        }
    }
}

/// A write request whose token may write its database; its body is still to be read.
pub struct AuthorizedWrite(WriteRequest);

impl FromRequestParts<Arc<AppState>> for AuthorizedWrite {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<AuthorizedWrite, ApiError> {
        let endpoint = Endpoint::from_path(parts.uri.path()).unwrap_or(Endpoint::V3);
        let mut request =
            WriteRequest::parse(&request_parts(parts)).map_err(|e| ApiError::Core(e, endpoint))?;
        // A DBRP mapping sends the v1 pair to its database; the token must reach that one.
        request.params.database = state
            .store
            .catalog()
            .resolve(&request.params.database)
            .to_owned();
        authorize(
            state,
            request.credentials.as_ref(),
            Some(&request.params.database),
            Access::Write,
        )
        .map_err(|e| ApiError::Core(e, endpoint))?;
        Ok(AuthorizedWrite(request))
    }
}

/// A query request whose token may read its database (any valid token when it names none),
/// with the credentials it came with, for statements that need more than reading.
pub struct AuthorizedQuery(QueryRequest, Option<Credentials>);

impl FromRequest<Arc<AppState>> for AuthorizedQuery {
    type Rejection = ApiError;

    async fn from_request(
        request: Request,
        state: &Arc<AppState>,
    ) -> Result<AuthorizedQuery, ApiError> {
        let (parts, body) = request.into_parts();
        let refuse = |e: WriteError| ApiError::Core(e, Endpoint::V3);
        let endpoint = QueryEndpoint::from_path(parts.uri.path()).unwrap_or(QueryEndpoint::Sql);
        let credentials = credentials(&parts).map_err(refuse)?;
        let body = read_body(body, state.max_body, state.body_timeout)
            .await
            .map_err(refuse)?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let mut query = QueryRequest::parse(endpoint, parts.uri.query(), content_type, &body)
            .map_err(refuse)?;
        if let Some(database) = &mut query.database {
            *database = state.store.catalog().resolve(database).to_owned();
        }
        authorize(
            state,
            credentials.as_ref(),
            query.database.as_deref(),
            Access::Read,
        )
        .map_err(refuse)?;
        Ok(AuthorizedQuery(query, credentials))
    }
}

/// Slowest average a body may arrive at, past its first `--body-timeout-secs` (as Apache's
/// `mod_reqtimeout` `MinRate`): each 1,000 bytes received buy one more second.
const BODY_MIN_BYTES_PER_SEC: u64 = 1000;

/// How long a body may take: `timeout` between chunks, and in all `timeout` plus a second
/// per [`BODY_MIN_BYTES_PER_SEC`] received, so a client that drips a byte now and then
/// cannot hold a request open for hours.
struct BodyClock {
    timeout: std::time::Duration,
    started: tokio::time::Instant,
    received: u64,
}

impl BodyClock {
    fn new(timeout: std::time::Duration) -> BodyClock {
        BodyClock {
            timeout,
            started: tokio::time::Instant::now(),
            received: 0,
        }
    }

    /// The next chunk of a body, or [`WriteError::BodyTimeout`] when it does not come in
    /// time.
    async fn next_chunk<S>(&mut self, stream: &mut S) -> Result<Option<S::Item>, WriteError>
    where
        S: futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin,
    {
        let overall = self.started
            + self.timeout
            + std::time::Duration::from_secs(self.received / BODY_MIN_BYTES_PER_SEC);
        let deadline = overall.min(tokio::time::Instant::now() + self.timeout);
        let next = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| WriteError::BodyTimeout {
                seconds: self.timeout.as_secs(),
            })?;
        if let Some(Ok(chunk)) = &next {
            self.received += chunk.len() as u64;
        }
        Ok(next)
    }
}

/// A whole (query) body, at most `limit` bytes, in the time a [`BodyClock`] gives it.
async fn read_body(
    body: Body,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, WriteError> {
    let mut stream = body.into_data_stream();
    let mut clock = BodyClock::new(timeout);
    let mut out = Vec::new();
    while let Some(chunk) = clock.next_chunk(&mut stream).await? {
        let chunk = chunk.map_err(|e| {
            WriteError::InvalidParameter(format!("error reading the request body: {e}"))
        })?;
        if out.len() + chunk.len() > limit {
            return Err(WriteError::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The three write endpoints.
async fn write(
    State(state): Shared,
    AuthorizedWrite(request): AuthorizedWrite,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let endpoint = request.endpoint;
    let fail = |e: WriteError| ApiError::Core(e, endpoint);
    let mut decoder = request.body_decoder(state.max_body);
    decoder
        .check_content_length(http_body::Body::size_hint(&body).exact())
        .map_err(fail)?;
    let mut stream = body.into_data_stream();
    let mut clock = BodyClock::new(state.body_timeout);
    while let Some(chunk) = clock.next_chunk(&mut stream).await.map_err(fail)? {
        let chunk = chunk.map_err(|e| {
            fail(WriteError::InvalidParameter(format!(
                "error reading the request body: {e}"
            )))
        })?;
        decoder.push(&chunk).map_err(fail)?;
    }
    let body = decoder.finish().map_err(fail)?;
    let rejected = state.store.write(&request, body).await.map_err(fail)?;
    if rejected.is_empty() {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(fail(WriteError::PartialWrite(rejected)))
    }
}

/// `/ping`: no token needed, clients probe it before they authenticate.
async fn ping() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            ("X-Influxdb-Version", env!("CARGO_PKG_VERSION")),
            ("X-Influxdb-Build", "linegate"),
        ],
    )
        .into_response()
}

async fn health() -> Response {
    let body = serde_json::json!({
        "name": "linegate",
        "message": "ready for queries and writes",
        "status": "pass",
        "checks": [],
        "version": env!("CARGO_PKG_VERSION"),
    });
    json_response(StatusCode::OK, body.to_string())
}

async fn metrics(State(state): Shared) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `/api/v3/query_sql`: SQL, answered in the requested format.
async fn query_sql(
    State(state): Shared,
    AuthorizedQuery(request, _): AuthorizedQuery,
) -> Result<Response, ApiError> {
    let database = request.database.unwrap_or_default();
    let no_params = ParamValues::List(Vec::new());
    let mut batches = query::stream(&state.store, &database, &request.q, no_params).await?;
    // An error before the first batch (a missing file) is still the answer's status.
    let first = batches.next().await.transpose().map_err(query::planning)?;
    // Past the first batch the status is sent: an error can only cut the answer short.
    let body = query::encode_stream(first, batches, request.format).map_err(|e| {
        tracing::warn!(message = %e.message(), "query failed while its answer was streamed");
        std::io::Error::other(e.message())
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, request.format.content_type())],
        Body::from_stream(body),
    )
        .into_response())
}

/// v1 `/query`: InfluxQL, answered in 1.x's JSON shape (whole, or one object per line when
/// `chunked=true`), or as CSV for `Accept: application/csv`.
async fn query_influxql(
    State(state): Shared,
    headers: HeaderMap,
    AuthorizedQuery(request, credentials): AuthorizedQuery,
) -> Result<Response, ApiError> {
    let results = run_influxql(&state, &request, credentials.as_ref()).await?;
    let epoch = Epoch::new(request.epoch);
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/csv") || v.contains("text/csv"));
    if wants_csv {
        let body = influxql::csv(&results, epoch)
            .map_err(|message| ApiError::new(StatusCode::BAD_REQUEST, message))?;
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/csv")],
            body,
        )
            .into_response());
    }
    let encode = |json: &serde_json::Value| {
        if request.pretty {
            serde_json::to_string_pretty(json).unwrap_or_default()
        } else {
            json.to_string()
        }
    };
    let body = if request.chunked {
        let mut body = String::new();
        for chunk in influxql::chunks(&results, epoch, request.chunk_size) {
            body.push_str(&encode(&chunk));
            body.push('\n');
        }
        body
    } else {
        encode(&influxql::results(&results, epoch))
    };
    Ok(json_response(StatusCode::OK, body))
}

/// `/api/v3/query_influxql`: the same engine as `/query`, answered as `/api/v3/query_sql`
/// answers (rows with an `iox::measurement` column, in the requested format); a statement's
/// error is the request's.
async fn query_influxql_v3(
    State(state): Shared,
    AuthorizedQuery(request, credentials): AuthorizedQuery,
) -> Result<Response, ApiError> {
    let results = run_influxql(&state, &request, credentials.as_ref()).await?;
    let mut series = Vec::new();
    for result in results {
        series.extend(result.map_err(|e| {
            let status = match e.forbidden {
                true => StatusCode::FORBIDDEN,
                false => StatusCode::BAD_REQUEST,
            };
            ApiError::new(status, e.message)
        })?);
    }
    let failed =
        |e: arrow::error::ArrowError| ApiError::new(StatusCode::BAD_REQUEST, e.to_string());
    let batch = influxql::batch(&series).map_err(failed)?;
    let body = query::encode(&[batch], request.format)?;
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, request.format.content_type())],
        body,
    )
        .into_response())
}

/// Runs a request's InfluxQL with what its credentials may do beyond reading.
async fn run_influxql(
    state: &AppState,
    request: &QueryRequest,
    credentials: Option<&Credentials>,
) -> Result<Vec<influxql::StatementResult>, QueryError> {
    let may_write =
        |database: &str| authorize(state, credentials, Some(database), Access::Write).is_ok();
    let may_read =
        |database: &str| authorize(state, credentials, Some(database), Access::Read).is_ok();
    let access = influxql::Access {
        admin: is_admin(state, credentials),
        may_read: &may_read,
        may_write: &may_write,
    };
    let params = influxql::bound_parameters(request.params.as_deref())?;
    influxql::run(
        &state.store,
        request.database.as_deref(),
        &request.q,
        &params,
        &access,
    )
    .await
}

/// Whether these credentials are the admin's (always, on a server without tokens).
fn is_admin(state: &AppState, credentials: Option<&Credentials>) -> bool {
    match &state.tokens {
        None => true,
        Some(tokens) => credentials
            .and_then(|c| tokens.scope(&c.hash()))
            .is_some_and(|scope| matches!(scope, Scope::Admin)),
    }
}

async fn list_databases(State(state): Shared, _: Admin) -> Response {
    let names: Vec<serde_json::Value> = state
        .store
        .catalog()
        .databases()
        .map(|db| match db.retention {
            Some(period) => serde_json::json!({
                "iox::database": db.name,
                "retention_period": format_duration(period),
            }),
            None => serde_json::json!({ "iox::database": db.name }),
        })
        .collect();
    json_response(StatusCode::OK, serde_json::Value::from(names).to_string())
}

#[derive(Deserialize)]
struct DatabaseBody {
    db: String,
    /// `30d`, `12h`…; absent or null: forever.
    #[serde(default)]
    retention_period: Option<String>,
}

async fn create_database(
    State(state): Shared,
    _: Admin,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let Ok(DatabaseBody {
        db,
        retention_period,
    }) = serde_json::from_slice(&body)
    else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "expected a JSON body like {\"db\": \"name\", \"retention_period\": \"30d\"}",
        ));
    };
    check_database_name(&db).map_err(|e| ApiError::Core(e, Endpoint::V3))?;
    let retention = match retention_period.as_deref() {
        None => None,
        Some(text) => Some(parse_duration(text).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "invalid retention_period '{text}': expected a duration like 30d, 12h or 1w"
                ),
            )
        })?),
    };
    match state.store.create_database(&db, retention) {
        Ok(true) => Ok(StatusCode::OK),
        Ok(false) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "attempted to create a resource that already exists",
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("saving the catalog failed: {e}"),
        )),
    }
}

/// The query-string parameter `name` of an admin request, which must be there.
fn required(uri: &axum::http::Uri, name: &str) -> Result<String, ApiError> {
    query_pairs(uri.query().unwrap_or(""))
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("missing query parameter '{name}'"),
            )
        })
}

async fn delete_database(
    State(state): Shared,
    _: Admin,
    uri: axum::http::Uri,
) -> Result<StatusCode, ApiError> {
    let db = required(&uri, "db")?;
    let deleted = state.store.delete_database(&db).await;
    removed(deleted, || format!("database not found: {db}"))
}

/// The answer to an admin removal: 200, 404 with `missing()` if there was nothing to remove,
/// or 500 with what failed.
fn removed<E: std::fmt::Display>(
    outcome: Result<bool, E>,
    missing: impl FnOnce() -> String,
) -> Result<StatusCode, ApiError> {
    match outcome {
        Ok(true) => Ok(StatusCode::OK),
        Ok(false) => Err(ApiError::new(StatusCode::NOT_FOUND, missing())),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the change could not be saved: {e}"),
        )),
    }
}

async fn list_dbrps(State(state): Shared, _: Admin) -> Response {
    let mappings: Vec<serde_json::Value> = state
        .store
        .catalog()
        .dbrps()
        .map(|m| serde_json::json!({ "db": m.db, "rp": m.rp, "target": m.target }))
        .collect();
    json_response(
        StatusCode::OK,
        serde_json::Value::from(mappings).to_string(),
    )
}

#[derive(Deserialize)]
struct DbrpBody {
    db: String,
    rp: String,
    target: String,
}

async fn create_dbrp(State(state): Shared, _: Admin, body: Bytes) -> Result<StatusCode, ApiError> {
    let Ok(DbrpBody { db, rp, target }) = serde_json::from_slice(&body) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "expected a JSON body like {\"db\": \"telegraf\", \"rp\": \"autogen\", \"target\": \"name\"}",
        ));
    };
    let saved =
        tokio::task::block_in_place(|| state.store.catalog().create_dbrp(&db, &rp, &target));
    match saved {
        Ok(Ok(())) => Ok(StatusCode::OK),
        Ok(Err(message)) => Err(ApiError::new(StatusCode::NOT_FOUND, message)),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("saving the catalog failed: {e}"),
        )),
    }
}

async fn delete_dbrp(
    State(state): Shared,
    _: Admin,
    uri: axum::http::Uri,
) -> Result<StatusCode, ApiError> {
    let (db, rp) = (required(&uri, "db")?, required(&uri, "rp")?);
    let deleted = tokio::task::block_in_place(|| state.store.catalog().delete_dbrp(&db, &rp));
    removed(deleted, || {
        format!("no mapping for database {db} and retention policy {rp}")
    })
}

async fn delete_table(
    State(state): Shared,
    _: Admin,
    uri: axum::http::Uri,
) -> Result<StatusCode, ApiError> {
    let (db, table) = (required(&uri, "db")?, required(&uri, "table")?);
    let deleted = state.store.delete_table(&db, &table).await;
    removed(deleted, || {
        format!("table not found: {table} in database {db}")
    })
}

#[derive(Deserialize)]
struct TokenBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    database: Option<String>,
    /// `read`, `write` or `read,write`.
    #[serde(default)]
    permission: Option<String>,
}

async fn create_token(State(state): Shared, _: Admin, body: Bytes) -> Result<Response, ApiError> {
    let Some(tokens) = state.tokens.clone() else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the server runs without authentication; it has no tokens",
        ));
    };
    let request: TokenBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("invalid token request: {e}"),
        )
    })?;
    let grant = if request.admin {
        Grant::Admin
    } else {
        let Some(database) = request.database.filter(|d| !d.is_empty()) else {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "a token needs \"admin\": true or a \"database\"",
            ));
        };
        let mut permissions = Vec::new();
        for p in request.permission.as_deref().unwrap_or("write").split(',') {
            match p.trim() {
                "read" => permissions.push(Permission::Read),
                "write" => permissions.push(Permission::Write),
                other => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("unknown permission '{other}': expected read, write or read,write"),
                    ))
                }
            }
        }
        Grant::Database {
            database,
            permissions,
        }
    };
    let name = request.name.unwrap_or_else(|| "token".to_owned());
    // Saving the token file is an fsync: blocking work, kept off the async executor's core.
    let created = tokio::task::block_in_place(|| tokens.create(&name, grant));
    let token = created.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("saving the token failed: {e}"),
        )
    })?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "name": name, "token": token }).to_string(),
    )
        .into_response())
}

/// The browser validation page (`www/`), embedded in the binary.
#[derive(rust_embed::RustEmbed)]
#[folder = "../www/"]
#[allow_missing = true]
#[exclude = "*.md"]
struct Page;

async fn page(method: Method, uri: axum::http::Uri) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not found");
    if method != Method::GET && method != Method::HEAD {
        return Err(not_found());
    }
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let file = Page::get(path).ok_or_else(not_found)?;
    let content_type = match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type)],
        Body::from(file.data.into_owned()),
    )
        .into_response())
}
