//! Query requests: what `/query` (InfluxDB 1.x, InfluxQL), `/api/v3/query_sql` and
//! `/api/v3/query_influxql` ask for, read once for the server and the edge alike.
//!
//! Parameters come from the query string and, for `POST`, from a form body, a JSON object
//! body (v3), or a raw body taken as `q` (v1). A parameter given more than once must carry
//! the same value every time: the edge authorizes the database the storage will read, so
//! no two readers may disagree about which one it is.

use std::borrow::Cow;

use crate::error::WriteError;
use crate::params::{query_pairs, v1_database};
use crate::precision::Precision;

/// Which query API a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryEndpoint {
    /// InfluxDB 1.x `/query`: InfluxQL, answered in 1.x's JSON shape.
    V1,
    /// InfluxDB 3 `/api/v3/query_sql`.
    Sql,
    /// InfluxDB 3 `/api/v3/query_influxql`.
    InfluxQl,
}

impl QueryEndpoint {
    /// All query endpoints.
    pub const ALL: [QueryEndpoint; 3] = [
        QueryEndpoint::V1,
        QueryEndpoint::Sql,
        QueryEndpoint::InfluxQl,
    ];

    /// The endpoint served at `path` (exact match).
    pub fn from_path(path: &str) -> Option<QueryEndpoint> {
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// The request path.
    pub const fn path(self) -> &'static str {
        match self {
            QueryEndpoint::V1 => "/query",
            QueryEndpoint::Sql => "/api/v3/query_sql",
            QueryEndpoint::InfluxQl => "/api/v3/query_influxql",
        }
    }

    /// Whether the statement is InfluxQL.
    pub const fn influxql(self) -> bool {
        !matches!(self, QueryEndpoint::Sql)
    }
}

/// The output format of the v3 query endpoints (`format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryFormat {
    /// A JSON array of row objects (the default).
    Json,
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header row.
    Csv,
    /// A text table.
    Pretty,
}

impl QueryFormat {
    /// Parses the `format` parameter.
    pub fn from_name(name: &str) -> Option<QueryFormat> {
        match name {
            "json" => Some(QueryFormat::Json),
            "jsonl" => Some(QueryFormat::JsonLines),
            "csv" => Some(QueryFormat::Csv),
            "pretty" => Some(QueryFormat::Pretty),
            _ => None,
        }
    }

    /// The response's content type.
    pub const fn content_type(self) -> &'static str {
        match self {
            QueryFormat::Json => "application/json",
            QueryFormat::JsonLines => "application/jsonl",
            QueryFormat::Csv => "text/csv",
            QueryFormat::Pretty => "text/plain; charset=utf-8",
        }
    }
}

/// 1.x's default `chunk_size`.
pub const DEFAULT_CHUNK_SIZE: usize = 10_000;

/// A query request's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequest {
    /// The endpoint it came in on.
    pub endpoint: QueryEndpoint,
    /// The database the statement reads, after the v1 `rp` mapping ([`v1_database`]);
    /// `None` when the request names none (`SHOW DATABASES` needs none).
    pub database: Option<String>,
    /// The statement text.
    pub q: String,
    /// v1 `epoch`: times as integers in this unit; `None` → RFC 3339 strings.
    pub epoch: Option<Precision>,
    /// v3 `format` (JSON when absent).
    pub format: QueryFormat,
    /// v1 `pretty=true`: indented JSON.
    pub pretty: bool,
    /// v1 `chunked=true`: the answer streams as one JSON object per chunk.
    pub chunked: bool,
    /// v1 `chunk_size`: rows per chunk.
    pub chunk_size: usize,
    /// `params`: the statement's bound parameters, a JSON object (`{"host":"a"}` binds
    /// InfluxQL's `$host`), as the request gave it.
    pub params: Option<String>,
}

impl QueryRequest {
    /// Reads a query request to `endpoint`: its query string (`None` when the URL has no
    /// `?`), and for `POST` its `Content-Type` and body.
    pub fn parse(
        endpoint: QueryEndpoint,
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<QueryRequest, WriteError> {
        let invalid = |m: String| WriteError::InvalidParameter(m);
        let mut pairs: Vec<Pair<'_>> = query.map(|q| query_pairs(q).collect()).unwrap_or_default();
        if !body.is_empty() {
            let content_type = content_type.unwrap_or("").trim_start().to_ascii_lowercase();
            if content_type.starts_with("application/x-www-form-urlencoded") {
                let text = std::str::from_utf8(body)
                    .map_err(|_| invalid("the form body is not UTF-8".into()))?;
                pairs.extend(query_pairs(text));
            } else if content_type.starts_with("application/json") || endpoint != QueryEndpoint::V1
            {
                pairs.extend(json_pairs(body)?);
            } else if !pairs.iter().any(|(k, _)| k == "q") {
                // 1.x clients may POST the statement itself.
                pairs.push(("q".into(), String::from_utf8_lossy(body)));
            }
        }
        let one = |key: &str| -> Result<Option<&str>, WriteError> {
            let mut values = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
            let first = values.next();
            if values.any(|v| Some(v) != first) {
                return Err(invalid(format!(
                    "the parameter '{key}' is given more than once with different values"
                )));
            }
            Ok(first.map(|v| v.as_ref()).filter(|v| !v.is_empty()))
        };
        let database = match endpoint {
            QueryEndpoint::V1 => {
                let rp = one("rp")?;
                one("db")?.map(|db| v1_database(db, rp))
            }
            QueryEndpoint::Sql | QueryEndpoint::InfluxQl => one("db")?.map(str::to_owned),
        };
        let q = one("q")?.filter(|q| !q.trim().is_empty());
        let Some(q) = q else {
            return Err(invalid(match endpoint {
                QueryEndpoint::V1 => "missing required parameter \"q\"".into(),
                _ => "missing query parameter 'q'".into(),
            }));
        };
        if database.is_none() && endpoint == QueryEndpoint::Sql {
            return Err(invalid("missing query parameter 'db'".into()));
        }
        let epoch = match one("epoch")? {
            None => None,
            Some(unit) => Some(epoch_unit(unit).ok_or_else(|| {
                invalid(format!(
                    "invalid epoch '{unit}': expected one of ns, u, µ, ms, s, m, h"
                ))
            })?),
        };
        let format = match one("format")? {
            None => QueryFormat::Json,
            Some(name) => QueryFormat::from_name(name).ok_or_else(|| {
                invalid(format!(
                    "unknown format '{name}': expected json, jsonl, csv or pretty"
                ))
            })?,
        };
        let chunk_size = match one("chunk_size")? {
            None => DEFAULT_CHUNK_SIZE,
            Some(n) => match n.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => return Err(invalid(format!("invalid chunk_size '{n}'"))),
            },
        };
        Ok(QueryRequest {
            endpoint,
            database,
            q: q.to_owned(),
            epoch,
            format,
            pretty: one("pretty")? == Some("true"),
            chunked: one("chunked")? == Some("true"),
            chunk_size,
            params: one("params")?.map(str::to_owned),
        })
    }
}

/// 1.x's `epoch` units.
fn epoch_unit(unit: &str) -> Option<Precision> {
    match unit {
        "ns" | "n" => Some(Precision::Nanosecond),
        "u" | "µ" | "us" => Some(Precision::Microsecond),
        "ms" => Some(Precision::Millisecond),
        "s" => Some(Precision::Second),
        "m" => Some(Precision::Minute),
        "h" => Some(Precision::Hour),
        _ => None,
    }
}

/// One decoded `key=value` parameter.
type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The string (and boolean) members of a JSON object body, as parameters.
fn json_pairs(body: &[u8]) -> Result<Vec<Pair<'static>>, WriteError> {
    let not_object =
        || WriteError::InvalidParameter("the request body is not a JSON object".into());
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| not_object())?;
    let object = value.as_object().ok_or_else(not_object)?;
    Ok(object
        .iter()
        .filter_map(|(key, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                // `params` is an object in a JSON body; kept as its JSON text.
                serde_json::Value::Object(_) => value.to_string(),
                _ => return None,
            };
            Some((Cow::Owned(key.clone()), Cow::Owned(text)))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(endpoint: QueryEndpoint, query: &str) -> Result<QueryRequest, WriteError> {
        QueryRequest::parse(endpoint, Some(query), None, b"")
    }

    #[test]
    fn params_come_from_the_query_string_a_form_or_a_json_body() {
        let r = parse(
            QueryEndpoint::V1,
            "db=d&q=SELECT+1&params=%7B%22h%22%3A%22a%22%7D",
        )
        .unwrap();
        assert_eq!(r.params.as_deref(), Some(r#"{"h":"a"}"#));
        assert_eq!(parse(QueryEndpoint::V1, "q=SELECT+1").unwrap().params, None);
        let body = br#"{"db":"d","q":"SELECT 1","params":{"h":"a","n":1}}"#;
        let r = QueryRequest::parse(
            QueryEndpoint::InfluxQl,
            None,
            Some("application/json"),
            body,
        )
        .unwrap();
        let params: serde_json::Value = serde_json::from_str(r.params.as_deref().unwrap()).unwrap();
        assert_eq!(params, serde_json::json!({"h": "a", "n": 1}));
    }

    #[test]
    fn v1_database_follows_the_write_mapping() {
        let r = parse(QueryEndpoint::V1, "db=MyDb&rp=MyRP&q=SELECT+1").unwrap();
        assert_eq!(r.database.as_deref(), Some("MyDb/myrp"));
        for rp in ["", "autogen", "AutoGen", "default"] {
            let r = parse(QueryEndpoint::V1, &format!("db=MyDb&rp={rp}&q=x")).unwrap();
            assert_eq!(r.database.as_deref(), Some("MyDb"), "rp={rp}");
        }
        // v3 endpoints have no rp.
        let r = parse(QueryEndpoint::Sql, "db=MyDb&rp=x&q=SELECT+1").unwrap();
        assert_eq!(r.database.as_deref(), Some("MyDb"));
    }

    #[test]
    fn form_json_and_raw_bodies() {
        let form = QueryRequest::parse(
            QueryEndpoint::V1,
            Some("db=a&epoch=ms"),
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"q=SHOW+DATABASES&pretty=true&chunked=true&chunk_size=5",
        )
        .unwrap();
        assert_eq!(form.q, "SHOW DATABASES");
        assert_eq!(form.epoch, Some(Precision::Millisecond));
        assert!(form.pretty && form.chunked);
        assert_eq!(form.chunk_size, 5);
        let json = QueryRequest::parse(
            QueryEndpoint::Sql,
            None,
            Some("application/json"),
            br#"{"db":"a","q":"SELECT 1","format":"csv"}"#,
        )
        .unwrap();
        assert_eq!(
            (json.database.as_deref(), json.q.as_str(), json.format),
            (Some("a"), "SELECT 1", QueryFormat::Csv)
        );
        let raw =
            QueryRequest::parse(QueryEndpoint::V1, Some("db=a"), None, b"SELECT * FROM m").unwrap();
        assert_eq!(raw.q, "SELECT * FROM m");
        assert!(QueryRequest::parse(QueryEndpoint::Sql, None, None, b"[1]").is_err());
    }

    #[test]
    fn one_rule_for_duplicates() {
        assert!(parse(QueryEndpoint::V1, "db=a&db=a&q=x").is_ok());
        let e = parse(QueryEndpoint::V1, "db=a&db=b&q=x").unwrap_err();
        assert_eq!(
            e.message(crate::Endpoint::V1),
            "the parameter 'db' is given more than once with different values"
        );
        let e = QueryRequest::parse(
            QueryEndpoint::V1,
            Some("db=a&q=x"),
            Some("application/x-www-form-urlencoded"),
            b"db=b",
        )
        .unwrap_err();
        assert_eq!(e.status(), 400);
    }

    fn db_of(query: Option<&str>, content_type: Option<&str>, body: &[u8]) -> Option<String> {
        QueryRequest::parse(QueryEndpoint::V1, query, content_type, body)
            .unwrap()
            .database
    }

    #[test]
    fn where_the_database_comes_from() {
        assert_eq!(db_of(Some("db=a&q=SELECT+1"), None, b""), Some("a".into()));
        assert_eq!(
            db_of(
                Some("q=x"),
                Some("application/json"),
                br#"{"db":"b","q":"x"}"#
            ),
            Some("b".into())
        );
        assert_eq!(
            db_of(
                None,
                Some("application/x-www-form-urlencoded; charset=utf-8"),
                b"q=SHOW+MEASUREMENTS&db=c%20d"
            ),
            Some("c d".into())
        );
        assert_eq!(
            db_of(Some("db=a&rp=autogen&q=x"), None, b""),
            Some("a".into())
        );
        assert_eq!(
            db_of(Some("db=a&rp=week&q=x"), None, b""),
            Some("a/week".into())
        );
        assert_eq!(db_of(Some("db=&q=x"), None, b""), None);
        // A raw body is the statement, never parameters.
        assert_eq!(db_of(Some("q=x"), Some("text/plain"), b"db=x"), None);
        // No ambiguity about the database: the edge checks the one storage reads.
        for (query, content_type, body) in [
            (Some("db=a&db=b&q=x"), None, &b""[..]),
            (
                Some("db=a&q=x"),
                Some("application/x-www-form-urlencoded"),
                &b"db=b"[..],
            ),
            (
                Some("db=a&q=x"),
                Some("application/json"),
                &br#"{"db":"b"}"#[..],
            ),
            (Some("db=a&rp=x&rp=y&q=x"), None, &b""[..]),
            (Some("q=x"), Some("application/json"), &b"{bad"[..]),
        ] {
            let e = QueryRequest::parse(QueryEndpoint::V1, query, content_type, body).unwrap_err();
            assert_eq!(e.status(), 400, "{query:?} {body:?}");
        }
    }

    #[test]
    fn required_and_invalid_parameters() {
        let e = parse(QueryEndpoint::V1, "db=a").unwrap_err();
        assert_eq!(
            e.message(crate::Endpoint::V1),
            "missing required parameter \"q\""
        );
        assert!(parse(QueryEndpoint::V1, "q=SHOW+DATABASES").is_ok());
        assert!(parse(QueryEndpoint::Sql, "q=SELECT+1").is_err());
        assert!(parse(QueryEndpoint::InfluxQl, "q=SHOW+DATABASES").is_ok());
        assert!(parse(QueryEndpoint::V1, "q=x&epoch=d").is_err());
        assert!(parse(QueryEndpoint::Sql, "db=a&q=x&format=xml").is_err());
        assert!(parse(QueryEndpoint::V1, "q=x&chunk_size=0").is_err());
        assert_eq!(
            parse(QueryEndpoint::V1, "q=x").unwrap().chunk_size,
            DEFAULT_CHUNK_SIZE
        );
    }
}
