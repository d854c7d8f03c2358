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

use crate::auth::Access;
use crate::json;
use crate::lp::LineError;
use crate::params::Endpoint;

/// How many bad lines an answer lists, as InfluxDB 3 (the count of the rest follows: a body
/// of millions of bad lines must not answer a gigabyte of errors).
pub const MAX_LISTED_LINES: usize = 100;

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
        /// What the request wanted to do there.
        access: Access,
    },
    /// No route for this path.
    NotFound,
    /// The path exists but not for this method; answer with `Allow: POST, OPTIONS`.
    MethodNotAllowed,
    /// A `Content-Encoding` other than `gzip` or `identity`.
    UnsupportedEncoding(String),
    /// The body stopped arriving: nothing for this long (408).
    BodyTimeout {
        /// How long the server waited, in seconds.
        seconds: u64,
    },
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
    /// Storage is out of space (507): nothing of the write was stored, and writes are taken
    /// again once space returns. The message says what is full.
    InsufficientStorage(String),
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
            WriteError::BodyTimeout { .. } => 408,
            WriteError::TooLarge { .. } => 413,
            WriteError::UnsupportedEncoding(_) => 415,
            WriteError::Internal(_) => 500,
            WriteError::Unavailable { .. } => 503,
            WriteError::InsufficientStorage(_) => 507,
        }
    }

    /// The `code` of a v2 error body.
    pub fn v2_code(&self) -> &'static str {
        v2_code(self.status())
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
                return error_body(endpoint, self.status(), &self.message(endpoint))
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
                for (i, line) in lines.iter().take(MAX_LISTED_LINES).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    line_object(&mut out, line);
                }
                out.push(']');
                if let Some(more) = lines.len().checked_sub(MAX_LISTED_LINES).filter(|n| *n > 0) {
                    out.push(',');
                    json::key(&mut out, "more_errors");
                    out.push_str(&more.to_string());
                }
                out.push('}');
            }
            _ => return error_body(endpoint, self.status(), &self.message(endpoint)),
        }
        out
    }

    /// The human-readable message, worded as the endpoint's clients know it.
    pub fn message(&self, endpoint: Endpoint) -> String {
        let v2 = endpoint == Endpoint::V2;
        match self {
            WriteError::InvalidParameter(m)
            | WriteError::Internal(m)
            | WriteError::InsufficientStorage(m) => m.clone(),
            WriteError::MalformedAuthorization => "Authorization header was malformed, the request was not in the form of 'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and Basic".into(),
            WriteError::Unauthenticated if v2 => "unauthorized access".into(),
            WriteError::Unauthenticated => "the request was not authenticated".into(),
            WriteError::Forbidden { database, access } => {
                let access = match access {
                    Access::Read => "read",
                    Access::Write => "write",
                };
                format!("token does not grant {access} access to database '{database}'")
            }
            WriteError::NotFound => "Not found".into(),
            WriteError::MethodNotAllowed => "method not allowed: use POST".into(),
            WriteError::UnsupportedEncoding(e) => format!(
                "unacceptable content-encoding: {e} (supported: gzip, identity)"
            ),
            WriteError::TooLarge { limit } => {
                format!("max request size ({limit} bytes) exceeded")
            }
            WriteError::BodyTimeout { seconds } => {
                format!("the request body sent nothing for {seconds} s")
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
                for e in lines.iter().take(MAX_LISTED_LINES) {
                    m.push_str("; ");
                    m.push_str(&e.to_string());
                }
                if let Some(more) = lines.len().checked_sub(MAX_LISTED_LINES).filter(|n| *n > 0) {
                    m.push_str(&format!("; and {more} more bad lines"));
                }
                m
            }
            WriteError::Unavailable { .. } => {
                "storage is unavailable, retry later".into()
            }
        }
    }
}

/// The `code` of a v2 error body for an HTTP status (InfluxDB 2.x's names).
pub fn v2_code(status: u16) -> &'static str {
    match status {
        400 => "invalid",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        405 => "method not allowed",
        408 => "request timeout",
        413 => "request too large",
        415 => "unsupported media type",
        422 => "unprocessable entity",
        // 2.x has no code of its own for 507; "unavailable" tells clients to retry later.
        503 | 507 => "unavailable",
        _ if status < 500 => "invalid",
        _ => "internal error",
    }
}

/// A request-level error body in the endpoint's shape: `{"error":…}` for v1 and v3,
/// `{"code":…,"message":…}` for v2.
pub fn error_body(endpoint: Endpoint, status: u16, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 40);
    out.push('{');
    if endpoint == Endpoint::V2 {
        json::key(&mut out, "code");
        json::string(&mut out, v2_code(status));
        out.push(',');
        json::key(&mut out, "message");
    } else {
        json::key(&mut out, "error");
    }
    json::string(&mut out, message);
    out.push('}');
    out
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

    #[test]
    fn request_error_bodies_for_any_status() {
        assert_eq!(
            error_body(Endpoint::V3, 403, "no \"way\""),
            r#"{"error":"no \"way\""}"#
        );
        assert_eq!(
            error_body(Endpoint::V2, 422, "x"),
            r#"{"code":"unprocessable entity","message":"x"}"#
        );
        assert_eq!(v2_code(429), "invalid");
        assert_eq!(v2_code(502), "internal error");
    }
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
                WriteError::BodyTimeout { seconds: 30 },
                408,
                r#"{"error":"the request body sent nothing for 30 s"}"#,
                r#"{"code":"request timeout","message":"the request body sent nothing for 30 s"}"#,
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
                    access: Access::Write,
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

    const MALFORMED: &str = "Authorization header was malformed, the request was not in the form of 'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and Basic";

    /// Status, v1/v3 body, v2 body.
    fn check(e: &WriteError, status: u16, v1: &str, v2: &str) {
        assert_eq!(e.status(), status, "{e:?}");
        assert_eq!(e.body(Endpoint::V1), v1, "{e:?}");
        assert_eq!(e.body(Endpoint::V3), v1, "{e:?}");
        assert_eq!(e.body(Endpoint::V2), v2, "{e:?}");
    }

    #[test]
    fn more_request_errors() {
        check(
            &WriteError::InvalidParameter("missing bucket value".into()),
            400,
            r#"{"error":"missing bucket value"}"#,
            r#"{"code":"invalid","message":"missing bucket value"}"#,
        );
        check(
            &WriteError::MalformedAuthorization,
            400,
            &format!(r#"{{"error":"{MALFORMED}"}}"#),
            &format!(r#"{{"code":"invalid","message":"{MALFORMED}"}}"#),
        );
        check(
            &WriteError::InvalidGzip("unexpected end of file".into()),
            400,
            r#"{"error":"error decoding gzip stream: unexpected end of file"}"#,
            r#"{"code":"invalid","message":"error decoding gzip stream: unexpected end of file"}"#,
        );
        check(
            &WriteError::InvalidUtf8 { line: 3, column: 7 },
            400,
            r#"{"error":"body content is not valid utf8: invalid utf-8 sequence at line 3, column 7"}"#,
            r#"{"code":"invalid","message":"body content is not valid utf8: invalid utf-8 sequence at line 3, column 7"}"#,
        );
        check(
            &WriteError::NotFound,
            404,
            r#"{"error":"Not found"}"#,
            r#"{"code":"not found","message":"Not found"}"#,
        );
        check(
            &WriteError::Internal("wal append failed".into()),
            500,
            r#"{"error":"wal append failed"}"#,
            r#"{"code":"internal error","message":"wal append failed"}"#,
        );
        check(
            &WriteError::EmptyWrite,
            400,
            r#"{"error":"incoming write was empty"}"#,
            r#"{"code":"invalid","message":"write buffer error: incoming write was empty"}"#,
        );
    }

    #[test]
    fn every_variant_has_its_status_and_v2_code() {
        let cases: Vec<(WriteError, u16, &str)> = vec![
            (WriteError::InvalidParameter(String::new()), 400, "invalid"),
            (WriteError::MalformedAuthorization, 400, "invalid"),
            (WriteError::Unauthenticated, 401, "unauthorized"),
            (
                WriteError::Forbidden {
                    database: "d".into(),
                    access: Access::Write,
                },
                403,
                "forbidden",
            ),
            (WriteError::NotFound, 404, "not found"),
            (WriteError::MethodNotAllowed, 405, "method not allowed"),
            (
                WriteError::UnsupportedEncoding("br".into()),
                415,
                "unsupported media type",
            ),
            (WriteError::TooLarge { limit: 1 }, 413, "request too large"),
            (WriteError::InvalidGzip(String::new()), 400, "invalid"),
            (
                WriteError::InvalidUtf8 { line: 1, column: 1 },
                400,
                "invalid",
            ),
            (WriteError::EmptyWrite, 400, "invalid"),
            (WriteError::Line(line()), 400, "invalid"),
            (WriteError::PartialWrite(vec![line()]), 400, "invalid"),
            (
                WriteError::Unavailable { retry_after: 1 },
                503,
                "unavailable",
            ),
            (WriteError::Internal(String::new()), 500, "internal error"),
            (
                WriteError::InsufficientStorage("full".into()),
                507,
                "unavailable",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status(), status, "{e:?}");
            assert_eq!(e.v2_code(), code, "{e:?}");
            // Display is the v3 wording, and std::error::Error is implemented.
            assert_eq!(e.to_string(), e.message(Endpoint::V3), "{e:?}");
            let dynamic: &dyn std::error::Error = &e;
            assert_eq!(dynamic.to_string(), e.message(Endpoint::V3));
            // Only 405 and 503 carry extra headers.
            if !matches!(
                e,
                WriteError::MethodNotAllowed | WriteError::Unavailable { .. }
            ) {
                assert_eq!(e.headers(), vec![], "{e:?}");
            }
            // Every body is a JSON object.
            for endpoint in Endpoint::ALL {
                let body = e.body(endpoint);
                assert!(body.starts_with('{') && body.ends_with('}'), "{body}");
            }
        }
    }

    #[test]
    fn unauthenticated_wording_per_endpoint() {
        let e = WriteError::Unauthenticated;
        assert_eq!(e.message(Endpoint::V1), "the request was not authenticated");
        assert_eq!(e.message(Endpoint::V3), "the request was not authenticated");
        assert_eq!(e.message(Endpoint::V2), "unauthorized access");
    }

    #[test]
    fn messages_are_json_escaped() {
        check(
            &WriteError::InvalidParameter("a \"quoted\" name\nand\\more\ttab\r".into()),
            400,
            r#"{"error":"a \"quoted\" name\nand\\more\ttab\r"}"#,
            r#"{"code":"invalid","message":"a \"quoted\" name\nand\\more\ttab\r"}"#,
        );
        check(
            &WriteError::Internal("nul\0 bell\u{7} esc\u{1b} del\u{7f} µ / €".into()),
            500,
            // DEL and non-ASCII are written as they are, as serde_json does.
            "{\"error\":\"nul\\u0000 bell\\u0007 esc\\u001b del\u{7f} µ / €\"}",
            "{\"code\":\"internal error\",\"message\":\"nul\\u0000 bell\\u0007 esc\\u001b del\u{7f} µ / €\"}",
        );
        check(
            &WriteError::UnsupportedEncoding("x\"y".into()),
            415,
            r#"{"error":"unacceptable content-encoding: x\"y (supported: gzip, identity)"}"#,
            r#"{"code":"unsupported media type","message":"unacceptable content-encoding: x\"y (supported: gzip, identity)"}"#,
        );
        check(
            &WriteError::Forbidden {
                database: "we'ird\"db".into(),
                access: Access::Write,
            },
            403,
            r#"{"error":"token does not grant write access to database 'we'ird\"db'"}"#,
            r#"{"code":"forbidden","message":"token does not grant write access to database 'we'ird\"db'"}"#,
        );
        // A parameter error built from user input.
        let e = crate::params::WriteParams::parse(Endpoint::V1, Some("db=a%22b%0A")).unwrap_err();
        assert_eq!(
            e.body(Endpoint::V1),
            r#"{"error":"namespace name 'a\"b\n' contains invalid character, character number 1 is not allowed"}"#
        );
    }

    #[test]
    fn line_objects_are_json_escaped() {
        let e = WriteError::Line(LineError {
            line: 7,
            column: 3,
            kind: LineErrorKind::MissingFieldValue("q\"k".into()),
            original_line: "m,t=\"x\" q\"k=\\\tz".into(),
        });
        assert_eq!(
            e.body(Endpoint::V1),
            r#"{"error":"line protocol parsing error","data":{"error_message":"missing value for field 'q\"k'","line_number":7,"original_line":"m,t=\"x\" q\"k=\\\tz","column":3}}"#
        );
        assert_eq!(
            e.body(Endpoint::V2),
            r#"{"code":"invalid","message":"write buffer error: line protocol parse failed: line 7, column 3: missing value for field 'q\"k'"}"#
        );
    }

    #[test]
    fn line_errors_on_v3() {
        // All-or-nothing on v3 (accept_partial=false) answers like v1.
        let e = WriteError::Line(line());
        assert_eq!(e.body(Endpoint::V3), e.body(Endpoint::V1));
        assert_eq!(
            e.message(Endpoint::V3),
            "line 2, column 12: missing value for field 'v'"
        );
    }

    #[test]
    fn partial_writes() {
        let p = WriteError::PartialWrite(vec![line()]);
        assert_eq!(
            p.body(Endpoint::V2),
            r#"{"code":"invalid","message":"partial write of line protocol occurred; line 2, column 12: missing value for field 'v'"}"#
        );
        assert_eq!(
            p.message(Endpoint::V3),
            "partial write of line protocol occurred; line 2, column 12: missing value for field 'v'"
        );
        let empty = WriteError::PartialWrite(vec![]);
        assert_eq!(
            empty.body(Endpoint::V3),
            r#"{"error":"partial write of line protocol occurred","data":[]}"#
        );
        assert_eq!(
            empty.message(Endpoint::V3),
            "partial write of line protocol occurred"
        );
        let mut other = line();
        other.line = 5;
        other.column = 1;
        other.kind = LineErrorKind::MissingMeasurement;
        other.original_line = " x".into();
        let many = WriteError::PartialWrite(vec![line(); 250]);
        let body = many.body(Endpoint::V3);
        assert_eq!(body.matches("line_number").count(), MAX_LISTED_LINES);
        assert!(body.ends_with(r#"],"more_errors":150}"#), "{body}");
        let message = many.message(Endpoint::V1);
        assert_eq!(message.matches("missing value").count(), MAX_LISTED_LINES);
        assert!(message.ends_with("; and 150 more bad lines"), "{message}");
        let two = WriteError::PartialWrite(vec![line(), other]);
        assert_eq!(
            two.body(Endpoint::V3),
            r#"{"error":"partial write of line protocol occurred","data":[{"error_message":"missing value for field 'v'","line_number":2,"original_line":"mixed,k=b v= 1700000","column":12},{"error_message":"missing measurement: a line must start with its name","line_number":5,"original_line":" x","column":1}]}"#
        );
    }
}
