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
//! | `/ping` (GET, HEAD), `/health`, `/metrics`, `/` (the validation page) | GET | none |
//!
//! Every response carries `Access-Control-Allow-Origin: *` and `OPTIONS` preflights are
//! answered, so the browser page can send to the server from anywhere.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use futures::StreamExt;
use linegate::{
    check_database_name, query_pairs, Access, Credentials, Endpoint, RequestParts, Scope,
    TokenStore, WriteError, WriteRequest,
};
use serde::Deserialize;

use crate::auth::{Grant, Permission, Tokens};
use crate::influxql::{self, Epoch};
use crate::metrics::Metrics;
use crate::query::{self, Format, QueryError};
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
            "/api/v3/configure/database",
            get(list_databases)
                .post(create_database)
                .delete(delete_database),
        )
        .route("/api/v3/configure/token", post(create_token))
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

/// CORS and request counting around every route.
async fn observe(State(state): Shared, request: Request, next: Next) -> Response {
    let path = KNOWN_PATHS
        .iter()
        .find(|p| **p == request.uri().path())
        .copied()
        .unwrap_or("other");
    let mut response = if request.method() == Method::OPTIONS {
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
    state.metrics.request(path, response.status().as_u16());
    response
}

/// A core error as the endpoint's clients expect it.
fn error_response(error: &WriteError, endpoint: Endpoint) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, error.body(endpoint)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in error.headers() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// `{"error": message}` with a status, for the non-write routes.
fn json_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
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

fn parts<'r>(
    method: &'r Method,
    uri: &'r axum::http::Uri,
    headers: &'r HeaderMap,
) -> RequestParts<'r> {
    RequestParts {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        authorization: headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()),
        content_encoding: headers.get(header::CONTENT_ENCODING).map(|v| v.as_bytes()),
    }
}

/// The three write endpoints.
async fn write(State(state): Shared, request: Request) -> Response {
    let (head, body) = request.into_parts();
    let endpoint = Endpoint::from_path(head.uri.path()).unwrap_or(Endpoint::V3);
    let outcome = async {
        let request = WriteRequest::parse(&parts(&head.method, &head.uri, &head.headers))?;
        if let Some(tokens) = &state.tokens {
            tokens.authorize(
                request.credentials.as_ref(),
                &request.params.database,
                Access::Write,
            )?;
        }
        let mut decoder = request.body_decoder(state.max_body);
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                WriteError::InvalidParameter(format!("error reading the request body: {e}"))
            })?;
            decoder.push(&chunk)?;
        }
        let body = decoder.finish()?;
        state.store.write(&request, body).await
    }
    .await;
    match outcome {
        Ok(rejected) if rejected.is_empty() => StatusCode::NO_CONTENT.into_response(),
        Ok(rejected) => {
            let error = WriteError::PartialWrite(rejected);
            state.metrics.write_error(error_kind(&error));
            error_response(&error, endpoint)
        }
        Err(error) => {
            state.metrics.write_error(error_kind(&error));
            if let WriteError::Internal(message) = &error {
                tracing::error!(%message, "write failed");
            }
            error_response(&error, endpoint)
        }
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
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(state): Shared) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Why a request was refused before its handler did anything: a status and a message.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        json_error(self.0, &self.1)
    }
}

/// Checks the request's token for `access` to `database`, or for admin when `database` is
/// `None`. `Ok` when the server runs without auth.
fn authorize(
    state: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    database: Option<&str>,
    access: Access,
) -> Result<(), Refusal> {
    let Some(tokens) = &state.tokens else {
        return Ok(());
    };
    let refuse = |e: WriteError| {
        Refusal(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED),
            e.message(Endpoint::V3),
        )
    };
    let request = parts(method, uri, headers);
    let credentials = Credentials::from_request(request.path, request.query, request.authorization)
        .map_err(refuse)?;
    match database {
        Some(db) => tokens
            .authorize(credentials.as_ref(), db, access)
            .map_err(refuse),
        None => {
            let credentials = credentials
                .ok_or(WriteError::Unauthenticated)
                .map_err(refuse)?;
            match tokens.scope(&credentials.hash()) {
                Some(Scope::Admin) => Ok(()),
                Some(_) => Err(Refusal(
                    StatusCode::FORBIDDEN,
                    "this operation needs an admin token".into(),
                )),
                None => Err(refuse(WriteError::Unauthenticated)),
            }
        }
    }
}

fn owned_pairs(query: &str) -> Vec<(String, String)> {
    query_pairs(query)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[derive(Deserialize, Default)]
struct QueryParams {
    db: Option<String>,
    q: Option<String>,
    format: Option<String>,
}

/// Reads `db`, `q` and `format` from the query string and, for POST, a JSON or form body.
fn query_params(
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<QueryParams, String> {
    let mut params = QueryParams::default();
    let mut apply = |pairs: Vec<(String, String)>| {
        for (key, value) in pairs {
            match key.as_str() {
                "db" => params.db = Some(value),
                "q" => params.q = Some(value),
                "format" => params.format = Some(value),
                _ => {}
            }
        }
    };
    apply(owned_pairs(uri.query().unwrap_or("")));
    if !body.is_empty() {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json");
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
            apply(owned_pairs(text));
        } else {
            let json: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| format!("the request body is not a JSON object: {e}"))?;
            let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            apply(
                ["db", "q", "format"]
                    .iter()
                    .filter_map(|k| field(k).map(|v| (k.to_string(), v)))
                    .collect(),
            );
        }
    }
    Ok(params)
}

async fn query_sql(
    State(state): Shared,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match query_params(&uri, &headers, &body) {
        Ok(p) => p,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, &message),
    };
    let (Some(db), Some(q)) = (params.db.filter(|d| !d.is_empty()), params.q) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "missing query parameters 'db' and 'q'",
        );
    };
    let Some(format) = Format::parse(params.format.as_deref().unwrap_or("json")) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "unknown format: expected json, jsonl, csv or pretty",
        );
    };
    if let Err(response) = authorize(&state, &method, &uri, &headers, Some(&db), Access::Read) {
        return response.into_response();
    }
    let result = query::run(&state.store, &db, &q)
        .await
        .and_then(|batches| query::encode(&batches, format));
    match result {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, format.content_type())],
            body,
        )
            .into_response(),
        Err(QueryError::DatabaseNotFound(db)) => {
            json_error(StatusCode::NOT_FOUND, &format!("database not found: {db}"))
        }
        Err(QueryError::Invalid(message)) => json_error(StatusCode::BAD_REQUEST, &message),
        Err(QueryError::Storage(message)) => {
            tracing::error!(%message, "query failed");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, &message)
        }
    }
}

/// v1 `/query`: InfluxQL, answered in 1.x's JSON shape.
async fn query_influxql(
    State(state): Shared,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut pairs = owned_pairs(uri.query().unwrap_or(""));
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        pairs.extend(owned_pairs(std::str::from_utf8(&body).unwrap_or("")));
    } else if !body.is_empty() && !pairs.iter().any(|(k, _)| k == "q") {
        pairs.push(("q".into(), String::from_utf8_lossy(&body).into_owned()));
    }
    let get = |key: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let Some(q) = get("q").filter(|q| !q.trim().is_empty()) else {
        return json_error(StatusCode::BAD_REQUEST, "missing required parameter \"q\"");
    };
    let epoch = match Epoch::parse(get("epoch")) {
        Ok(e) => e,
        Err(message) => return json_error(StatusCode::BAD_REQUEST, &message),
    };
    let database = get("db")
        .filter(|d| !d.is_empty())
        .map(|db| match get("rp") {
            None | Some("" | "autogen" | "default") => db.to_owned(),
            Some(rp) => format!("{db}/{rp}"),
        });
    if let Err(response) = match &database {
        Some(db) => authorize(&state, &method, &uri, &headers, Some(db), Access::Read),
        None => authorize_any(&state, &method, &uri, &headers),
    } {
        return response.into_response();
    }
    let result = influxql::run(&state.store, database.as_deref(), q, epoch).await;
    let body = if get("pretty") == Some("true") {
        serde_json::to_string_pretty(&result).unwrap_or_default()
    } else {
        result.to_string()
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// Any valid token (for statements that name no database, like `SHOW DATABASES`).
fn authorize_any(
    state: &AppState,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let Some(tokens) = &state.tokens else {
        return Ok(());
    };
    let request = parts(method, uri, headers);
    let unauthorized = || Refusal(StatusCode::UNAUTHORIZED, "unauthorized access".into());
    match Credentials::from_request(request.path, request.query, request.authorization) {
        Ok(Some(credentials)) if tokens.scope(&credentials.hash()).is_some() => Ok(()),
        _ => Err(unauthorized()),
    }
}

async fn list_databases(
    State(state): Shared,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&state, &method, &uri, &headers, None, Access::Read) {
        return response.into_response();
    }
    let names: Vec<serde_json::Value> = state
        .store
        .catalog()
        .databases()
        .map(|db| serde_json::json!({ "iox::database": db.name }))
        .collect();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::Value::from(names).to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct DatabaseBody {
    db: String,
}

async fn create_database(
    State(state): Shared,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = authorize(&state, &method, &uri, &headers, None, Access::Write) {
        return response.into_response();
    }
    let Ok(DatabaseBody { db }) = serde_json::from_slice(&body) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "expected a JSON body like {\"db\": \"name\"}",
        );
    };
    if let Err(e) = check_database_name(&db) {
        return json_error(StatusCode::BAD_REQUEST, &e.message(Endpoint::V3));
    }
    match state.store.create_database(&db) {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => json_error(
            StatusCode::CONFLICT,
            "attempted to create a resource that already exists",
        ),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("saving the catalog failed: {e}"),
        ),
    }
}

async fn delete_database(
    State(state): Shared,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&state, &method, &uri, &headers, None, Access::Write) {
        return response.into_response();
    }
    let Some((_, db)) = owned_pairs(uri.query().unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == "db")
    else {
        return json_error(StatusCode::BAD_REQUEST, "missing query parameter 'db'");
    };
    match state.store.delete_database(&db).await {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => json_error(StatusCode::NOT_FOUND, &format!("database not found: {db}")),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("deleting the database failed: {e}"),
        ),
    }
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

async fn create_token(
    State(state): Shared,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(tokens) = state.tokens.clone() else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "the server runs without authentication; it has no tokens",
        );
    };
    if let Err(response) = authorize(&state, &method, &uri, &headers, None, Access::Write) {
        return response.into_response();
    }
    let request: TokenBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("invalid token request: {e}"),
            )
        }
    };
    let grant = if request.admin {
        Grant::Admin
    } else {
        let Some(database) = request.database.filter(|d| !d.is_empty()) else {
            return json_error(
                StatusCode::BAD_REQUEST,
                "a token needs \"admin\": true or a \"database\"",
            );
        };
        let mut permissions = Vec::new();
        for p in request.permission.as_deref().unwrap_or("write").split(',') {
            match p.trim() {
                "read" => permissions.push(Permission::Read),
                "write" => permissions.push(Permission::Write),
                other => {
                    return json_error(
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "unknown permission '{other}': expected read, write or read,write"
                        ),
                    )
                }
            }
        }
        Grant::Database {
            database,
            permissions,
        }
    };
    let name = request.name.unwrap_or_else(|| "token".to_owned());
    match tokens.create(&name, grant) {
        Ok(token) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            serde_json::json!({ "name": name, "token": token }).to_string(),
        )
            .into_response(),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("saving the token failed: {e}"),
        ),
    }
}

/// The browser validation page (`www/`), embedded in the binary.
#[derive(rust_embed::RustEmbed)]
#[folder = "../www/"]
#[allow_missing = true]
#[exclude = "*.md"]
struct Page;

async fn page(method: Method, uri: axum::http::Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return json_error(StatusCode::NOT_FOUND, "not found");
    }
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    let Some(file) = Page::get(path) else {
        return json_error(StatusCode::NOT_FOUND, "not found");
    };
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
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type)],
        Body::from(file.data.into_owned()),
    )
        .into_response()
}
