//! The worker's decisions as plain functions: no runtime, no I/O, testable anywhere.
//!
//! The runtime entry calls these with strings and bytes it got from the `worker` crate and
//! turns their results back into responses, fetches, KV and R2 calls.

use std::borrow::Cow;

use linegate::body::gzip;
use linegate::lp::{self, LineError, LineErrorKind};
use linegate::{
    error_body, Access, Credentials, Endpoint, QueryEndpoint, Scope, WriteError, WriteRequest,
};

/// What a request path is, at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// One of the three write endpoints.
    Write(Endpoint),
    /// `/ping`: 204, no token.
    Ping,
    /// `/health`: 200, no token.
    Health,
    /// A query endpoint, forwarded upstream after auth.
    Query(QueryApi),
    /// Anything else: 404.
    NotFound,
}

/// The query endpoints the edge forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryApi {
    /// v1 `/query` (InfluxQL; `p` query parameter honoured).
    V1,
    /// `/api/v3/query_sql`.
    Sql,
    /// `/api/v3/query_influxql`.
    InfluxQl,
    /// Another `/api/v3/query_*` path; the upstream decides what it is.
    OtherV3,
}

impl QueryApi {
    /// How the core reads the request's parameters. Another v3 query path is read as
    /// `/api/v3/query_influxql` is: a `db`, no `rp`.
    pub fn endpoint(self) -> QueryEndpoint {
        match self {
            QueryApi::V1 => QueryEndpoint::V1,
            QueryApi::Sql => QueryEndpoint::Sql,
            QueryApi::InfluxQl | QueryApi::OtherV3 => QueryEndpoint::InfluxQl,
        }
    }
}

/// Routes a path (exact matches, as InfluxDB).
pub fn route(path: &str) -> Route {
    if let Some(endpoint) = Endpoint::from_path(path) {
        return Route::Write(endpoint);
    }
    match path {
        "/ping" => Route::Ping,
        "/health" => Route::Health,
        "/query" => Route::Query(QueryApi::V1),
        "/api/v3/query_sql" => Route::Query(QueryApi::Sql),
        "/api/v3/query_influxql" => Route::Query(QueryApi::InfluxQl),
        p if p.len() > "/api/v3/query_".len()
            && p.starts_with("/api/v3/query_")
            && !p["/api/v3/query_".len()..].contains('/') =>
        {
            Route::Query(QueryApi::OtherV3)
        }
        _ => Route::NotFound,
    }
}

/// Headers of the `/ping` answer (204), as InfluxDB sends them.
pub fn ping_headers() -> [(&'static str, &'static str); 2] {
    [
        (
            "X-Influxdb-Version",
            concat!("linegate-edge-", env!("CARGO_PKG_VERSION")),
        ),
        ("X-Influxdb-Build", "linegate-edge"),
    ]
}

/// The `/health` body (200, `application/json`).
pub fn health_body() -> &'static str {
    concat!(
        r#"{"name":"linegate-edge","message":"ready for queries and writes","status":"pass","version":""#,
        env!("CARGO_PKG_VERSION"),
        r#""}"#
    )
}

/// How the edge authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Tokens are checked against the `TOKENS` KV namespace; the upstream gets
    /// `UPSTREAM_TOKEN`.
    Kv,
    /// The client's `Authorization` header (or `p`) goes to the upstream unchanged and the
    /// upstream decides. Nothing is spooled in this mode: the edge cannot know whether a
    /// token is good while storage is down, so it answers 503 instead of acknowledging.
    Passthrough,
}

impl AuthMode {
    /// Reads the `AUTH_MODE` variable: unset, empty or `kv` → [`AuthMode::Kv`];
    /// `passthrough` → [`AuthMode::Passthrough`]; anything else is a configuration error.
    pub fn from_var(value: Option<&str>) -> Result<AuthMode, String> {
        match value.map(str::trim) {
            None | Some("") | Some("kv") => Ok(AuthMode::Kv),
            Some("passthrough") => Ok(AuthMode::Passthrough),
            Some(other) => Err(format!(
                "AUTH_MODE must be \"kv\" or \"passthrough\", not {other:?}"
            )),
        }
    }
}

/// The KV key of a request's token: the lower-case hex SHA-256 of the token.
/// No token → 401.
pub fn token_key(credentials: Option<&Credentials>) -> Result<String, WriteError> {
    credentials
        .map(|c| c.hash().to_hex())
        .ok_or(WriteError::Unauthenticated)
}

/// Parses a scope as stored in KV under a token's hash:
///
/// - `admin` (plain text) or `{"admin":true}`: everything;
/// - `{"read":["db1"],"write":["db1","db2"]}`: those databases (`"*"` means all); other
///   keys (e.g. `"description"`) are ignored.
///
/// `None` when the value is none of these.
pub fn parse_scope(stored: &str) -> Option<Scope> {
    let stored = stored.trim();
    if stored == "admin" {
        return Some(Scope::Admin);
    }
    let value: serde_json::Value = serde_json::from_str(stored).ok()?;
    let object = value.as_object()?;
    match object.get("admin") {
        Some(serde_json::Value::Bool(true)) => return Some(Scope::Admin),
        Some(serde_json::Value::Bool(false)) | None => {}
        Some(_) => return None,
    }
    let mut grants: Vec<(String, Vec<Access>)> = Vec::new();
    for (key, access) in [("read", Access::Read), ("write", Access::Write)] {
        let Some(list) = object.get(key) else {
            continue;
        };
        for db in list.as_array()? {
            let db = db.as_str()?;
            match grants.iter_mut().find(|(name, _)| name == db) {
                Some((_, accesses)) => accesses.push(access),
                None => grants.push((db.to_owned(), vec![access])),
            }
        }
    }
    Some(Scope::Databases(grants))
}

/// The scope of a token from what KV holds for it: nothing → 401, an unreadable value
/// → 500 (fail closed, and the operator sees why).
pub fn scope(stored: Option<&str>) -> Result<Scope, WriteError> {
    let stored = stored.ok_or(WriteError::Unauthenticated)?;
    parse_scope(stored).ok_or_else(|| {
        WriteError::Internal("the token's scope in the TOKENS namespace is not valid".into())
    })
}

/// A write's CPU work at the edge, once authenticated and decoded: validated, re-encoded as
/// canonical line protocol with nanosecond timestamps and gzip-compressed for the upstream.
#[derive(Debug)]
pub struct Prepared {
    /// The gzip canonical batch; empty when no line was accepted.
    pub payload: Vec<u8>,
    /// Line `i + 1` of the payload is line `line_numbers[i]` of the client's body.
    pub line_numbers: Vec<u32>,
    /// Lines rejected at the edge (a v3 partial write).
    pub rejected: Vec<LineError>,
}

/// Validates a decoded body (`now` in nanoseconds for lines without a timestamp) and
/// prepares the upstream payload; the error to answer when the request fails as a whole.
///
/// `client_gzip` is the client's raw body when it came gzip-compressed: if the body is
/// already canonical (as Telegraf writes it: sorted tags, nanoseconds, no comments), that
/// gzip is forwarded as it is instead of compressing the same bytes again.
pub fn prepare(
    request: &WriteRequest,
    body: &[u8],
    now: i64,
    gzip_level: u8,
    client_gzip: Option<&[u8]>,
) -> Result<Prepared, WriteError> {
    let accepted = request.validate(body, now)?;
    if accepted.batch.is_empty() {
        return Ok(Prepared {
            payload: Vec::new(),
            line_numbers: Vec::new(),
            rejected: accepted.rejected,
        });
    }
    let line_numbers = accepted.batch.rows().map(|r| r.line_number).collect();
    let canonical = accepted.batch.to_line_protocol();
    let payload = match client_gzip {
        Some(raw) if canonical.as_bytes() == body => raw.to_vec(),
        _ => gzip(canonical.as_bytes(), gzip_level),
    };
    Ok(Prepared {
        payload,
        line_numbers,
        rejected: accepted.rejected,
    })
}

/// Whether the upstream should get `accept_partial=true`: v3 as the client asked, v1 and
/// v2 never (they are all-or-nothing).
pub fn upstream_accept_partial(endpoint: Endpoint, client_accept_partial: bool) -> bool {
    endpoint == Endpoint::V3 && client_accept_partial
}

/// Physical line `line_number` (1-based) of `body`, quoted as the core quotes lines.
pub fn original_line(body: &[u8], line_number: u32) -> String {
    body.split(|&b| b == b'\n')
        .nth(line_number.saturating_sub(1) as usize)
        .map(lp::original_line)
        .unwrap_or_default()
}

/// What was forwarded, so that the upstream's answer can be told in the client's terms.
#[derive(Debug)]
pub struct Forwarded<'a> {
    /// The client's endpoint.
    pub endpoint: Endpoint,
    /// Line `i + 1` of the forwarded body came from the client's line `line_numbers[i]`.
    pub line_numbers: Vec<u32>,
    /// The client's decoded body.
    pub body: &'a [u8],
    /// Lines the edge already rejected (a v3 partial write).
    pub rejected: &'a [LineError],
}

/// What to do with an upstream answer to a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamOutcome {
    /// Stored: answer this (204 with an empty body, or 400 with the edge's own rejected lines).
    Answer(Answer),
    /// Storage is down (5xx, 408, 429): retry, then spool.
    StorageDown,
}

/// A response to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body; empty for 204.
    pub body: String,
}

impl Answer {
    /// 204 No Content.
    pub fn no_content() -> Answer {
        Answer {
            status: 204,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// The answer for a core error on `endpoint`.
    pub fn error(error: &WriteError, endpoint: Endpoint) -> Answer {
        Answer {
            status: error.status(),
            headers: error.headers(),
            body: error.body(endpoint),
        }
    }

    /// The answer once the batch is stored: 204, or the edge's rejected lines (400).
    pub fn stored(endpoint: Endpoint, rejected: &[LineError]) -> Answer {
        if rejected.is_empty() {
            Answer::no_content()
        } else {
            Answer::error(&WriteError::PartialWrite(rejected.to_vec()), endpoint)
        }
    }
}

/// Whether an upstream status means storage cannot take the write now.
pub fn storage_down(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

/// Maps the upstream's answer to a forwarded write back to the client's endpoint: line
/// numbers and original lines refer to the client's body; edge-rejected lines are merged
/// in line order.
pub fn map_upstream(
    status: u16,
    upstream_body: &str,
    forwarded: &Forwarded<'_>,
) -> UpstreamOutcome {
    if storage_down(status) {
        return UpstreamOutcome::StorageDown;
    }
    let endpoint = forwarded.endpoint;
    if (200..300).contains(&status) {
        return UpstreamOutcome::Answer(Answer::stored(endpoint, forwarded.rejected));
    }
    let parsed: Option<serde_json::Value> = serde_json::from_str(upstream_body).ok();
    let data = parsed.as_ref().and_then(|v| v.get("data"));
    // A line storage rejected, told in the client's body's numbering.
    let to_client = |item: &serde_json::Value| -> Option<LineError> {
        let forwarded_line = item.get("line_number")?.as_u64()? as usize;
        let line_number = *forwarded.line_numbers.get(forwarded_line.checked_sub(1)?)?;
        let message = item.get("error_message")?.as_str()?.to_owned();
        let upstream_line = item.get("original_line").and_then(|v| v.as_str());
        let upstream_column = item.get("column").and_then(|v| v.as_u64()).unwrap_or(1) as u32;
        let original_line = original_line(forwarded.body, line_number);
        let column = map_column(upstream_line, upstream_column, &original_line);
        Some(LineError {
            line: line_number,
            column,
            kind: LineErrorKind::Reported(message),
            original_line,
        })
    };
    let body = match data {
        Some(serde_json::Value::Array(items)) => {
            let mapped: Option<Vec<LineError>> = items.iter().map(to_client).collect();
            mapped.map(|mapped| {
                let mut lines = forwarded.rejected.to_vec();
                lines.extend(mapped);
                lines.sort_by_key(|l| l.line);
                WriteError::PartialWrite(lines).body(endpoint)
            })
        }
        Some(item @ serde_json::Value::Object(_)) => {
            to_client(item).map(|line| WriteError::Line(line).body(endpoint))
        }
        _ => None,
    };
    let body = body.unwrap_or_else(|| {
        let message = parsed
            .as_ref()
            .and_then(|v| v.get("error").or_else(|| v.get("message")))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let text = upstream_body.trim();
                if text.is_empty() {
                    format!("storage answered {status}")
                } else {
                    original_line(text.as_bytes(), 1)
                }
            });
        error_body(endpoint, status, &message)
    });
    UpstreamOutcome::Answer(Answer {
        status,
        headers: Vec::new(),
        body,
    })
}

/// The column in the client's line for an error the upstream found at `column` of its
/// (canonical) line: the same column when the lines are equal, else where the upstream's
/// token (up to the next space or comma) appears in the client's line, else 1.
pub fn map_column(upstream_line: Option<&str>, column: u32, client_line: &str) -> u32 {
    let Some(upstream_line) = upstream_line else {
        return column;
    };
    if upstream_line == client_line {
        return column;
    }
    let start = (column.max(1) - 1) as usize;
    let token = upstream_line
        .get(start..)
        .map(|rest| {
            let end = rest.find([' ', ',']).unwrap_or(rest.len());
            &rest[..end]
        })
        .unwrap_or("");
    if token.is_empty() {
        return 1;
    }
    client_line.find(token).map_or(1, |i| i as u32 + 1)
}

/// Timing of the attempts to reach storage within one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wall time for all attempts, back-offs included (`RETRY_BUDGET_MS`).
    pub budget_ms: u64,
    /// Longest wait for one answer (`UPSTREAM_TIMEOUT_MS`).
    pub timeout_ms: u64,
    /// The first back-off; each later one doubles, up to [`RetryPolicy::MAX_BACKOFF_MS`].
    pub first_backoff_ms: u64,
}

/// One attempt to reach storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Wait this long before it.
    pub delay_ms: u64,
    /// Give up on its answer after this long.
    pub timeout_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget_ms: 3_000,
            timeout_ms: 10_000,
            first_backoff_ms: 100,
        }
    }
}

impl RetryPolicy {
    /// Longest back-off between two attempts.
    pub const MAX_BACKOFF_MS: u64 = 2_000;
    /// An attempt is not started with less time than this left in the budget.
    pub const MIN_ATTEMPT_MS: u64 = 200;

    /// The attempt number `attempt` (0 = the first) when `elapsed_ms` of the budget are
    /// gone, or `None` when the budget does not allow it. The first attempt always runs,
    /// with the full per-attempt timeout; later ones are cut to what the budget has left.
    pub fn next(&self, attempt: u32, elapsed_ms: u64) -> Option<Attempt> {
        if attempt == 0 {
            return Some(Attempt {
                delay_ms: 0,
                timeout_ms: self.timeout_ms,
            });
        }
        let delay_ms = self
            .first_backoff_ms
            .saturating_mul(1u64 << (attempt - 1).min(20))
            .min(Self::MAX_BACKOFF_MS);
        let left = self.budget_ms.checked_sub(elapsed_ms + delay_ms)?;
        if left < Self::MIN_ATTEMPT_MS {
            return None;
        }
        Some(Attempt {
            delay_ms,
            timeout_ms: self.timeout_ms.min(left),
        })
    }
}

/// Where spooled batches live in the `SPOOL` bucket.
pub const SPOOL_PREFIX: &str = "spool/";
/// Where a spooled batch goes when storage refused it for good (a 4xx on replay).
pub const DEAD_PREFIX: &str = "dead/";

/// The R2 key of a batch in the spool at `prefix` ([`crate::upstream::Upstream::spool_prefix`]).
/// Keys sort in arrival order (R2 lists in key order): milliseconds since the epoch, then a
/// per-isolate sequence, then a random part so that isolates never collide.
pub fn spool_key(prefix: &str, now_ms: u64, sequence: u32, random: u32) -> String {
    format!("{prefix}{now_ms:015}-{sequence:08}-{random:08x}")
}

/// The dead-letter key for a spooled batch's key.
pub fn dead_key(spool_key: &str) -> String {
    format!(
        "{DEAD_PREFIX}{}",
        spool_key.strip_prefix(SPOOL_PREFIX).unwrap_or(spool_key)
    )
}

/// What a spooled batch needs besides its (gzip, canonical) body, kept as R2 custom metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolMeta {
    /// Target database.
    pub database: String,
    /// `accept_partial` for the upstream.
    pub accept_partial: bool,
    /// `no_sync` for the upstream.
    pub no_sync: bool,
    /// Number of lines (for operators).
    pub lines: usize,
}

impl SpoolMeta {
    /// As R2 custom metadata pairs.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        vec![
            ("db".into(), self.database.clone()),
            ("accept_partial".into(), self.accept_partial.to_string()),
            ("no_sync".into(), self.no_sync.to_string()),
            ("lines".into(), self.lines.to_string()),
        ]
    }

    /// From R2 custom metadata; `None` without a database.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<SpoolMeta> {
        let mut meta = SpoolMeta {
            database: String::new(),
            accept_partial: false,
            no_sync: false,
            lines: 0,
        };
        for (key, value) in pairs {
            match key {
                "db" => meta.database = value.to_owned(),
                "accept_partial" => meta.accept_partial = value == "true",
                "no_sync" => meta.no_sync = value == "true",
                "lines" => meta.lines = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        (!meta.database.is_empty()).then_some(meta)
    }
}

/// What the replay does with a spooled batch after trying to store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayStep {
    /// Stored: delete it and go on.
    Delete,
    /// Refused for good (4xx): move it to [`DEAD_PREFIX`] and go on.
    DeadLetter,
    /// Storage still down (no answer, 5xx, 408, 429): keep it and stop this run, so the
    /// order is kept.
    Stop,
}

/// The replay step for an upstream status (`None`: no answer).
pub fn replay_step(status: Option<u16>) -> ReplayStep {
    match status {
        Some(s) if (200..300).contains(&s) => ReplayStep::Delete,
        Some(s) if !storage_down(s) => ReplayStep::DeadLetter,
        _ => ReplayStep::Stop,
    }
}

/// Whether a token limited to some databases may run this query: a single read-only
/// statement (InfluxQL: `SELECT`/`SHOW`/`EXPLAIN` without `INTO`, `ON <db>` or a qualified
/// `db.rp.measurement`; SQL: `SELECT`/`WITH`/`SHOW`/`EXPLAIN`/`DESCRIBE`). The edge hands
/// the upstream its own token, so it must not let a scoped token reach another database or
/// change anything. Conservative: a query it cannot vouch for is refused (403).
pub fn scoped_query_allowed(api: QueryApi, q: &str) -> bool {
    let influxql = matches!(api, QueryApi::V1 | QueryApi::InfluxQl);
    let first_words: &[&str] = if influxql {
        &["SELECT", "SHOW", "EXPLAIN"]
    } else {
        &["SELECT", "WITH", "SHOW", "EXPLAIN", "DESCRIBE"]
    };
    let bytes = q.as_bytes();
    let mut words = 0;
    let mut i = 0;
    let mut prev_word_is_ident = false;
    let mut prev = b' ';
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' => {
                // Skip the literal or quoted identifier (backslash escapes a character).
                let quote = c;
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    return false;
                }
                prev_word_is_ident = quote == b'"';
                prev = quote;
                i += 1;
                continue;
            }
            b';' if !q[i + 1..].trim().is_empty() => return false,
            b'.' if influxql => {
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                if prev == b'"'
                    || prev == b'.'
                    || next == b'.'
                    || next == b'"'
                    || (prev_word_is_ident && (prev.is_ascii_alphanumeric() || prev == b'_'))
                {
                    return false;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &q[start..i];
                if words == 0 && !first_words.iter().any(|w| w.eq_ignore_ascii_case(word)) {
                    return false;
                }
                if influxql
                    && (word.eq_ignore_ascii_case("INTO") || word.eq_ignore_ascii_case("ON"))
                {
                    return false;
                }
                words += 1;
                prev_word_is_ident = true;
                prev = bytes[i - 1];
                continue;
            }
            c if c.is_ascii_digit() => {
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                prev_word_is_ident = false;
                prev = b'0';
                continue;
            }
            _ => {}
        }
        if !c.is_ascii_whitespace() {
            prev_word_is_ident = false;
        }
        prev = c;
        i += 1;
    }
    words > 0
}

/// A query string without the `p` and `u` parameters (the client's v1 credentials, which
/// must not travel upstream when the edge authenticates).
pub fn strip_credentials(query: &str) -> Cow<'_, str> {
    let is_credential = |pair: &&str| {
        let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
        key == "p" || key == "u"
    };
    if !query.split('&').any(|pair| is_credential(&pair)) {
        return Cow::Borrowed(query);
    }
    Cow::Owned(
        query
            .split('&')
            .filter(|pair| !pair.is_empty() && !is_credential(pair))
            .collect::<Vec<_>>()
            .join("&"),
    )
}

/// What became of a batch at one upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Storage took it.
    Stored,
    /// Durably in the upstream's spool under this key (storage down, or its spool was not
    /// empty and the batch queues behind it).
    Spooled(String),
    /// Storage refused it for good (a 4xx): this answer, already in the client's terms.
    Refused(Answer),
    /// Storage down and nothing durable holds the batch for it.
    Failed,
}

/// The one answer to a write sent to several upstreams (in configuration order):
///
/// - a refusal by any storage is the answer (the first one), since the client must learn
///   that storage will not take its data;
/// - else, if any upstream neither stored nor spooled the batch, 503: the client retries,
///   and the replays are idempotent (explicit timestamps, last write wins), so the copies
///   that did land are not doubled;
/// - else 204 (or the edge's own rejected lines), naming the spool keys in
///   `X-Linegate-Spooled`.
pub fn combine(
    endpoint: Endpoint,
    rejected: &[LineError],
    deliveries: &[Delivery],
    retry_after: u32,
) -> Answer {
    if let Some(refused) = deliveries.iter().find_map(|d| match d {
        Delivery::Refused(answer) => Some(answer),
        _ => None,
    }) {
        return refused.clone();
    }
    if deliveries.is_empty() || deliveries.contains(&Delivery::Failed) {
        return Answer::error(&WriteError::Unavailable { retry_after }, endpoint);
    }
    let mut answer = Answer::stored(endpoint, rejected);
    let keys: Vec<&str> = deliveries
        .iter()
        .filter_map(|d| match d {
            Delivery::Spooled(key) => Some(key.as_str()),
            _ => None,
        })
        .collect();
    if !keys.is_empty() {
        answer.headers.push(("X-Linegate-Spooled", keys.join(", ")));
    }
    answer
}

/// Whether an upstream's answer says the database does not exist (InfluxDB 1.x's 404
/// `database not found`): the edge then creates it and tries again.
pub fn database_missing(status: u16, body: &str) -> bool {
    status == 404 && body.contains("database not found")
}
