//! The InfluxDB error model: every failure knows its HTTP status and writes the JSON body
//! each endpoint's clients expect.
//!
//! | endpoint | request error | rejected line(s) |
//! |---|---|---|
//! | v1 `/write` | `{"error":"…"}` | `{"error":"line protocol parsing error","data":{…}}` |
//! | v2 `/api/v2/write` | `{"code":"invalid","message":"…"}` | `{"code":"invalid","message":"write buffer error: line protocol parse failed: …"}` |
//! | v3 `/api/v3/write_lp` | `{"error":"…"}` | `{"error":"partial write of line protocol occurred","data":[{…},…]}` |
//!
//! A line object is `{"error_message","line_number","original_line","column"}`.

use std::fmt;

use crate::json;
use crate::lp::LineError;
use crate::params::Endpoint;

/// Why a write request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteError {
    /// A missing or invalid query parameter; the message is InfluxDB's wording.
    InvalidParameter(String),
    /// An `Authorization` header that is not `Bearer|Token|Basic <credentials>`.
    MalformedAuthorization,
    /// No token, or one the server does not know.
    Unauthenticated,
    /// A valid token that does not grant this access to this database.
    Forbidden {
        /// The database the request named.
        database: String,
    },
    /// No route for this path.
    NotFound,
    /// The path exists but not for this method; answer with `Allow: POST, OPTIONS`.
    MethodNotAllowed,
    /// A `Content-Encoding` other than `gzip` or `identity`.
    UnsupportedEncoding(String),
    /// The raw or decompressed body is larger than the limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The gzip body could not be decoded.
    InvalidGzip(String),
    /// The decoded body is not UTF-8.
    InvalidUtf8 {
        /// 1-based physical line.
        line: u32,
        /// 1-based byte column.
        column: u32,
    },
    /// The body had no line to write (empty, blank or comments only).
    EmptyWrite,
    /// A bad line in an all-or-nothing write: nothing was stored.
    Line(LineError),
    /// Bad lines in a v3 partial write: the other lines were stored.
    PartialWrite(Vec<LineError>),
    /// Storage cannot take the write now; the client should retry after this many seconds.
    Unavailable {
        /// Seconds for `Retry-After`.
        retry_after: u32,
    },
    /// A failure inside the server; the message names no secret.
    Internal(String),
}

impl WriteError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            WriteError::InvalidParameter(_)
            | WriteError::MalformedAuthorization
            | WriteError::InvalidGzip(_)
            | WriteError::InvalidUtf8 { .. }
            | WriteError::EmptyWrite
            | WriteError::Line(_)
            | WriteError::PartialWrite(_) => 400,
            WriteError::Unauthenticated => 401,
            WriteError::Forbidden { .. } => 403,
            WriteError::NotFound => 404,
            WriteError::MethodNotAllowed => 405,
            WriteError::TooLarge { .. } => 413,
            WriteError::UnsupportedEncoding(_) => 415,
            WriteError::Internal(_) => 500,
            WriteError::Unavailable { .. } => 503,
        }
    }

    /// The `code` of a v2 error body.
    pub fn v2_code(&self) -> &'static str {
        match self.status() {
            400 => "invalid",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not found",
            405 => "method not allowed",
            413 => "request too large",
            415 => "unsupported media type",
            503 => "unavailable",
            _ => "internal error",
        }
    }

    /// Extra response headers: `Allow` for 405, `Retry-After` for 503.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            WriteError::MethodNotAllowed => vec![("Allow", "POST, OPTIONS".to_owned())],
            WriteError::Unavailable { retry_after } => {
                vec![("Retry-After", retry_after.to_string())]
            }
            _ => Vec::new(),
        }
    }

    /// The response body for a request to `endpoint` (always JSON).
    pub fn body(&self, endpoint: Endpoint) -> String {
        let mut out = String::with_capacity(128);
        match (endpoint, self) {
            (Endpoint::V2, _) => {
                out.push('{');
                json::key(&mut out, "code");
                json::string(&mut out, self.v2_code());
                out.push(',');
                json::key(&mut out, "message");
                json::string(&mut out, &self.message(endpoint));
                out.push('}');
            }
            (_, WriteError::Line(line)) => {
                out.push('{');
                json::key(&mut out, "error");
                json::string(&mut out, "line protocol parsing error");
                out.push(',');
                json::key(&mut out, "data");
                line_object(&mut out, line);
                out.push('}');
            }
            (_, WriteError::PartialWrite(lines)) => {
                out.push('{');
                json::key(&mut out, "error");
                json::string(&mut out, "partial write of line protocol occurred");
                out.push(',');
                json::key(&mut out, "data");
                out.push('[');
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    line_object(&mut out, line);
                }
                out.push_str("]}");
            }
            _ => {
                out.push('{');
                json::key(&mut out, "error");
                json::string(&mut out, &self.message(endpoint));
                out.push('}');
            }
        }
        out
    }

    /// The human-readable message, worded as the endpoint's clients know it.
    pub fn message(&self, endpoint: Endpoint) -> String {
        let v2 = endpoint == Endpoint::V2;
        match self {
            WriteError::InvalidParameter(m) | WriteError::Internal(m) => m.clone(),
            WriteError::MalformedAuthorization => "Authorization header was malformed, the request was not in the form of 'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and Basic".into(),
            WriteError::Unauthenticated if v2 => "unauthorized access".into(),
            WriteError::Unauthenticated => "the request was not authenticated".into(),
            WriteError::Forbidden { database } => {
                format!("token does not grant write access to database '{database}'")
            }
            WriteError::NotFound => "Not found".into(),
            WriteError::MethodNotAllowed => "method not allowed: use POST".into(),
            WriteError::UnsupportedEncoding(e) => format!(
                "unacceptable content-encoding: {e} (supported: gzip, identity)"
            ),
            WriteError::TooLarge { limit } => {
                format!("max request size ({limit} bytes) exceeded")
            }
            WriteError::InvalidGzip(e) => format!("error decoding gzip stream: {e}"),
            WriteError::InvalidUtf8 { line, column } => format!(
                "body content is not valid utf8: invalid utf-8 sequence at line {line}, column {column}"
            ),
            WriteError::EmptyWrite if v2 => "write buffer error: incoming write was empty".into(),
            WriteError::EmptyWrite => "incoming write was empty".into(),
            WriteError::Line(e) if v2 => {
                format!("write buffer error: line protocol parse failed: {e}")
            }
            WriteError::Line(e) => e.to_string(),
            WriteError::PartialWrite(lines) => {
                let mut m = String::from("partial write of line protocol occurred");
                for e in lines {
                    m.push_str("; ");
                    m.push_str(&e.to_string());
                }
                m
            }
            WriteError::Unavailable { .. } => {
                "storage is unavailable, retry later".into()
            }
        }
    }
}

fn line_object(out: &mut String, line: &LineError) {
    out.push('{');
    json::key(out, "error_message");
    json::string(out, &line.kind.to_string());
    out.push(',');
    json::key(out, "line_number");
    out.push_str(&line.line.to_string());
    out.push(',');
    json::key(out, "original_line");
    json::string(out, &line.original_line);
    out.push(',');
    json::key(out, "column");
    out.push_str(&line.column.to_string());
    out.push('}');
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Endpoint::V3))
    }
}

impl std::error::Error for WriteError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lp::LineErrorKind;

    fn line() -> LineError {
        LineError {
            line: 2,
            column: 12,
            kind: LineErrorKind::MissingFieldValue("v".into()),
            original_line: "mixed,k=b v= 1700000".into(),
        }
    }

    #[test]
    fn bodies_per_endpoint() {
        let e = WriteError::Line(line());
        assert_eq!(
            e.body(Endpoint::V1),
            r#"{"error":"line protocol parsing error","data":{"error_message":"missing value for field 'v'","line_number":2,"original_line":"mixed,k=b v= 1700000","column":12}}"#
        );
        assert_eq!(
            e.body(Endpoint::V2),
            r#"{"code":"invalid","message":"write buffer error: line protocol parse failed: line 2, column 12: missing value for field 'v'"}"#
        );
        let p = WriteError::PartialWrite(vec![line(), line()]);
        assert_eq!(
            p.body(Endpoint::V3),
            format!(
                r#"{{"error":"partial write of line protocol occurred","data":[{0},{0}]}}"#,
                r#"{"error_message":"missing value for field 'v'","line_number":2,"original_line":"mixed,k=b v= 1700000","column":12}"#
            )
        );
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn request_errors() {
        let cases: Vec<(WriteError, u16, &str, &str)> = vec![
            (
                WriteError::Unauthenticated,
                401,
                r#"{"error":"the request was not authenticated"}"#,
                r#"{"code":"unauthorized","message":"unauthorized access"}"#,
            ),
            (
                WriteError::TooLarge { limit: 10485760 },
                413,
                r#"{"error":"max request size (10485760 bytes) exceeded"}"#,
                r#"{"code":"request too large","message":"max request size (10485760 bytes) exceeded"}"#,
            ),
            (
                WriteError::EmptyWrite,
                400,
                r#"{"error":"incoming write was empty"}"#,
                r#"{"code":"invalid","message":"write buffer error: incoming write was empty"}"#,
            ),
            (
                WriteError::UnsupportedEncoding("br".into()),
                415,
                r#"{"error":"unacceptable content-encoding: br (supported: gzip, identity)"}"#,
                r#"{"code":"unsupported media type","message":"unacceptable content-encoding: br (supported: gzip, identity)"}"#,
            ),
            (
                WriteError::Forbidden {
                    database: "db".into(),
                },
                403,
                r#"{"error":"token does not grant write access to database 'db'"}"#,
                r#"{"code":"forbidden","message":"token does not grant write access to database 'db'"}"#,
            ),
            (
                WriteError::MethodNotAllowed,
                405,
                r#"{"error":"method not allowed: use POST"}"#,
                r#"{"code":"method not allowed","message":"method not allowed: use POST"}"#,
            ),
            (
                WriteError::Unavailable { retry_after: 5 },
                503,
                r#"{"error":"storage is unavailable, retry later"}"#,
                r#"{"code":"unavailable","message":"storage is unavailable, retry later"}"#,
            ),
        ];
        for (e, status, v1, v2) in cases {
            assert_eq!(e.status(), status, "{e:?}");
            assert_eq!(e.body(Endpoint::V1), v1);
            assert_eq!(e.body(Endpoint::V3), v1);
            assert_eq!(e.body(Endpoint::V2), v2);
        }
        assert_eq!(
            WriteError::MethodNotAllowed.headers(),
            vec![("Allow", "POST, OPTIONS".to_owned())]
        );
        assert_eq!(
            WriteError::Unavailable { retry_after: 5 }.headers(),
            vec![("Retry-After", "5".to_owned())]
        );
    }
}
