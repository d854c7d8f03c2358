//! Where batches go: the storages behind the edge, each with its write API, its token and the
//! databases it takes.
//!
//! Configured as one JSON variable, `UPSTREAMS`:
//!
//! ```json
//! [{"url": "https://store.example", "api": "v3", "databases": ["*"], "token_secret": "STORE_TOKEN"},
//!  {"url": "https://eu-central-1-1.aws.cloud2.influxdata.com", "api": "v2", "org": "acme",
//!   "databases": ["telegraf*"], "token_secret": "CLOUD_TOKEN"}]
//! ```
//!
//! A database that several upstreams take is replicated to each of them. The older single
//! `UPSTREAM_URL` (with the `UPSTREAM_TOKEN` secret) still works: it is a one-item list of a
//! v3 upstream taking every database.

use std::collections::HashSet;

use base64::Engine as _;

/// The write API an upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// InfluxDB 1.x: `/write?db=…&rp=…&precision=ns`, Basic auth (1.x, VictoriaMetrics,
    /// QuestDB, and the v1 compatibility API of every later InfluxDB).
    V1,
    /// InfluxDB 2.x: `/api/v2/write?bucket=…&org=…&precision=ns`, `Token` auth (2.x, Cloud
    /// Serverless and Dedicated, Clustered).
    V2,
    /// InfluxDB 3: `/api/v3/write_lp?db=…&precision=nanosecond`, `Bearer` auth (linegate's
    /// server, InfluxDB 3 Core and Enterprise).
    V3,
}

/// One storage behind the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Names its spool (`spool/<name>/…` in R2); from `name`, else made from `api` and
    /// `url`. Empty for the single `UPSTREAM_URL`, whose spool is `spool/` itself.
    pub name: String,
    /// Base URL, without a trailing `/`.
    pub url: String,
    /// Its write API.
    pub api: Api,
    /// The databases it takes: exact names or patterns where `*` is any run of characters
    /// and `?` any one; `db/rp` for a retention policy other than the default.
    pub databases: Vec<String>,
    /// The secret holding its token; `None`: no token (or the client's, in passthrough).
    pub token_secret: Option<String>,
    /// The v2 organization (`org=`), if any.
    pub org: Option<String>,
}

/// Why the configuration cannot be used: the message says what to fix.
pub type ConfigError = String;

const KEYS: [&str; 6] = ["name", "url", "api", "databases", "token_secret", "org"];

/// Reads the upstreams from the `UPSTREAMS` and `UPSTREAM_URL` variables (unset or blank
/// = `None`). Exactly one of them must be set.
pub fn from_vars(
    upstreams: Option<&str>,
    upstream_url: Option<&str>,
) -> Result<Vec<Upstream>, ConfigError> {
    match (upstreams, upstream_url) {
        (Some(_), Some(_)) => Err("set UPSTREAMS or UPSTREAM_URL, not both".into()),
        (None, None) => Err("UPSTREAMS is not set".into()),
        (None, Some(url)) => Ok(vec![Upstream {
            name: String::new(),
            url: base_url(url, "UPSTREAM_URL")?,
            api: Api::V3,
            databases: vec!["*".into()],
            token_secret: Some("UPSTREAM_TOKEN".into()),
            org: None,
        }]),
        (Some(json), None) => parse(json),
    }
}

/// Parses `UPSTREAMS`: a non-empty JSON list of upstream objects with distinct names.
pub fn parse(json: &str) -> Result<Vec<Upstream>, ConfigError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("UPSTREAMS is not valid JSON: {e}"))?;
    let list = value
        .as_array()
        .filter(|list| !list.is_empty())
        .ok_or("UPSTREAMS must be a non-empty JSON list of upstream objects")?;
    let mut upstreams = Vec::with_capacity(list.len());
    let mut names = HashSet::new();
    for (i, item) in list.iter().enumerate() {
        let upstream = parse_one(item).map_err(|e| format!("UPSTREAMS[{i}]: {e}"))?;
        if !names.insert(upstream.name.clone()) {
            return Err(format!(
                "UPSTREAMS[{i}]: another upstream is named {:?}: give each a distinct \"name\"",
                upstream.name
            ));
        }
        upstreams.push(upstream);
    }
    Ok(upstreams)
}

fn parse_one(item: &serde_json::Value) -> Result<Upstream, ConfigError> {
    let object = item.as_object().ok_or("not a JSON object")?;
    if let Some(key) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!("unknown key {key:?} (known: {})", KEYS.join(", ")));
    }
    let text = |key: &str| -> Result<Option<&str>, ConfigError> {
        match object.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim())),
            Some(_) => Err(format!("\"{key}\" must be a non-empty string")),
        }
    };
    let url = base_url(text("url")?.ok_or("\"url\" is missing")?, "\"url\"")?;
    let api = match text("api")?.ok_or("\"api\" is missing (\"v1\", \"v2\" or \"v3\")")? {
        "v1" => Api::V1,
        "v2" => Api::V2,
        "v3" => Api::V3,
        other => {
            return Err(format!(
                "\"api\" must be \"v1\", \"v2\" or \"v3\", not {other:?}"
            ))
        }
    };
    let databases: Vec<String> = match object.get("databases") {
        Some(serde_json::Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(|d| d.as_str().filter(|d| !d.is_empty()).map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("\"databases\" must list non-empty names or patterns")?,
        _ => {
            return Err(
                "\"databases\" must be a non-empty list of names or patterns ([\"*\"] for all)"
                    .into(),
            )
        }
    };
    let name = match text("name")? {
        Some(name) => {
            let good = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !good {
                return Err(format!(
                    "\"name\" {name:?} must start with a letter and hold only letters, digits, '-', '_' and '.'"
                ));
            }
            name.to_owned()
        }
        None => default_name(api, &url),
    };
    let org = text("org")?.map(str::to_owned);
    if org.is_some() && api != Api::V2 {
        return Err("\"org\" is only for \"api\": \"v2\"".into());
    }
    Ok(Upstream {
        name,
        url,
        api,
        databases,
        token_secret: text("token_secret")?.map(str::to_owned),
        org,
    })
}

/// `http(s)://…` without a trailing `/`, query or fragment.
fn base_url(url: &str, what: &str) -> Result<String, ConfigError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .filter(|rest| !rest.is_empty())
        .ok_or_else(|| format!("{what} must be an http:// or https:// URL, not {url:?}"))?;
    if rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "{what} must be a base URL, without a query, fragment or spaces: {url:?}"
        ));
    }
    Ok(url.to_owned())
}

/// `v3-store.example-8181`: the API and the URL's host, port and path, as letters, digits,
/// `.` and `-`.
fn default_name(api: Api, url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let mut name = String::from(match api {
        Api::V1 => "v1-",
        Api::V2 => "v2-",
        Api::V3 => "v3-",
    });
    for c in rest.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    name.trim_end_matches('-').to_owned()
}

/// Whether `name` matches `pattern` (`*`: any run of characters, `?`: any one).
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative glob with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The upstreams that take `database`, in configuration order.
pub fn for_database<'a>(upstreams: &'a [Upstream], database: &str) -> Vec<&'a Upstream> {
    upstreams.iter().filter(|u| u.takes(database)).collect()
}

impl Upstream {
    /// Whether this upstream takes `database`.
    pub fn takes(&self, database: &str) -> bool {
        self.databases.iter().any(|p| matches(p, database))
    }

    /// The R2 prefix of its spool: `spool/<name>/` (`spool/` for the single `UPSTREAM_URL`,
    /// as before there were several).
    pub fn spool_prefix(&self) -> String {
        if self.name.is_empty() {
            crate::map::SPOOL_PREFIX.to_owned()
        } else {
            format!("{}{}/", crate::map::SPOOL_PREFIX, self.name)
        }
    }

    /// The URL a canonical (nanosecond) batch for `database` is POSTed to. `accept_partial`
    /// and `no_sync` exist only in the v3 API.
    pub fn write_url(&self, database: &str, accept_partial: bool, no_sync: bool) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let path = match self.api {
            Api::V1 => {
                let (db, rp) = split_retention_policy(database);
                query.append_pair("db", db);
                if let Some(rp) = rp {
                    query.append_pair("rp", rp);
                }
                query.append_pair("precision", "ns");
                "/write"
            }
            Api::V2 => {
                query.append_pair("bucket", database);
                if let Some(org) = &self.org {
                    query.append_pair("org", org);
                }
                query.append_pair("precision", "ns");
                "/api/v2/write"
            }
            Api::V3 => {
                query
                    .append_pair("db", database)
                    .append_pair("precision", "nanosecond")
                    .append_pair(
                        "accept_partial",
                        if accept_partial { "true" } else { "false" },
                    );
                if no_sync {
                    query.append_pair("no_sync", "true");
                }
                "/api/v3/write_lp"
            }
        };
        format!("{}{path}?{}", self.url, query.finish())
    }

    /// The `Authorization` header carrying `token` in this API's own scheme: `Basic` for v1
    /// (the token as password, or `user:password` as written when it holds a `:`, as
    /// InfluxDB 1.x wants), `Token` for v2, `Bearer` for v3.
    pub fn authorization(&self, token: &str) -> String {
        match self.api {
            Api::V1 => {
                let pair = if token.contains(':') {
                    token.to_owned()
                } else {
                    format!("linegate:{token}")
                };
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Api::V2 => format!("Token {token}"),
            Api::V3 => format!("Bearer {token}"),
        }
    }

    /// Whether this upstream answers a query path: `/query` (InfluxQL, v1 API) every API
    /// has; the `/api/v3/query_*` paths only v3.
    pub fn answers_query(&self, path: &str) -> bool {
        path == "/query" || self.api == Api::V3
    }

    /// The URL of a forwarded query.
    pub fn query_url(&self, path: &str, query: Option<&str>) -> String {
        let mut url = format!("{}{path}", self.url);
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(q);
        }
        url
    }

    /// For a v1 upstream, the `/query` request that creates `database` (InfluxDB 1.x wants a
    /// database to exist before writes; later APIs create it on the first write): the URL
    /// and the form body. `None` for other APIs, or for a retention policy of its own
    /// (the edge creates databases, not retention policies).
    pub fn create_database(&self, database: &str) -> Option<(String, String)> {
        if self.api != Api::V1 || database.contains('/') {
            return None;
        }
        let quoted = database.replace('\\', "\\\\").replace('"', "\\\"");
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &format!("CREATE DATABASE \"{quoted}\""))
            .finish();
        Some((format!("{}/query", self.url), body))
    }
}

/// `db/rp` → (`db`, `Some(rp)`); `db` → (`db`, `None`).
fn split_retention_policy(database: &str) -> (&str, Option<&str>) {
    match database.split_once('/') {
        Some((db, rp)) => (db, Some(rp)),
        None => (database, None),
    }
}
