//! # linegate — the InfluxDB write protocol, as a library
//!
//! linegate accepts what InfluxDB v1, v2 and v3 clients send to `/write`, `/api/v2/write`
//! and `/api/v3/write_lp`. This crate is the part every deployment shares: it takes the
//! pieces of an HTTP request and returns either a validated batch of rows or an error that
//! already knows its status code and the JSON body the client expects. It does no I/O and
//! has no runtime, so the same code runs natively, in a Cloudflare Worker and in a browser.
//!
//! The pipeline, in order:
//!
//! 1. **Route and credentials** — [`RequestParts`] → [`WriteRequest::parse`]: the endpoint,
//!    the token from `?p=` or `Authorization: Bearer|Token|Basic` ([`Credentials`]).
//!    Checking the token is the caller's job ([`TokenStore`], [`Scope::permits`]).
//! 2. **Parameters** — [`WriteParams`]: database (with v1 `rp` and v2 `bucket` mapping and
//!    InfluxDB's name rules), [`Precision`], `accept_partial`, `no_sync`.
//! 3. **Body** — [`BodyDecoder`]: identity or streaming gzip, size caps enforced while
//!    reading and inflating.
//! 4. **Line protocol** — [`lp::LineParser`]: a zero-copy validator with line-numbered
//!    errors; [`WriteBatch`] collects the accepted rows and re-encodes them canonically.
//! 5. **Outcome** — [`Accepted`] or [`WriteError`] with [`WriteError::status`] and
//!    [`WriteError::body`].
//!
//! Beside the write pipeline, the rules every shell shares: [`QueryRequest`] reads the
//! parameters of `/query` and `/api/v3/query_*` (the database they read is mapped as writes
//! map it: [`v1_database`], [`v2_database`]); [`schema::TableSchema`] holds a table's columns
//! and admits a row or says why not; [`error_body`] renders a request error in an endpoint's
//! shape.
//!
//! ```
//! use linegate::{RequestParts, WriteRequest, DEFAULT_MAX_BODY};
//!
//! let parts = RequestParts {
//!     method: "POST",
//!     path: "/write",
//!     query: Some("db=home&precision=s"),
//!     authorization: Some(b"Token my-token"),
//!     ..Default::default()
//! };
//! let request = WriteRequest::parse(&parts).unwrap();
//! assert_eq!(request.params.database, "home");
//! assert_eq!(request.credentials.as_ref().unwrap().token(), "my-token");
//!
//! let mut body = request.body_decoder(DEFAULT_MAX_BODY);
//! body.push(b"home,room=kitchen temp=72 1641024000\n").unwrap();
//! let body = body.finish().unwrap();
//! let accepted = request.validate(&body, 0).unwrap();
//! assert_eq!(
//!     accepted.batch.to_line_protocol(),
//!     "home,room=kitchen temp=72 1641024000000000000\n"
//! );
//!
//! // A bad line in a v1 write rejects the request with InfluxDB's body shape.
//! let error = request.validate(b"home,room=kitchen temp=\n", 0).unwrap_err();
//! assert_eq!(error.status(), 400);
//! assert_eq!(
//!     error.body(request.endpoint),
//!     r#"{"error":"line protocol parsing error","data":{"error_message":"missing value for field 'temp'","line_number":1,"original_line":"home,room=kitchen temp=","column":24}}"#
//! );
//! ```
//!
//! The crate has no features and no runtime: the browser bindings (`www/bindings`, crate
//! `linegate-wasm`), the Cloudflare Worker (`edge`, crate `linegate-edge`) and the native
//! server (`native-server`) are thin crates on top of it.
#![deny(missing_docs)]

pub mod auth;
mod batch;
pub mod body;
mod error;
mod json;
pub mod lp;
mod params;
mod precision;
mod query;
pub mod schema;
mod write;

pub use auth::{Access, AuthScheme, Credentials, Scope, TokenHash, TokenStore};
pub use batch::{Row, WriteBatch};
pub use body::{BodyDecoder, ContentEncoding, DEFAULT_MAX_BODY};
pub use error::{error_body, v2_code, WriteError};
pub use lp::{LineError, LineErrorKind};
pub use params::{
    check_database_name, query_pairs, v1_database, v2_database, Endpoint, WriteParams,
};
pub use precision::Precision;
pub use query::{QueryEndpoint, QueryFormat, QueryRequest, DEFAULT_CHUNK_SIZE};
pub use write::{utf8, validate, validate_text, Accepted, RequestParts, WriteRequest};
