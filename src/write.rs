//! The whole write path from request parts to outcome, shared by every shell.

use crate::auth::Credentials;
use crate::batch::WriteBatch;
use crate::body::{BodyDecoder, ContentEncoding};
use crate::error::WriteError;
use crate::lp::{LineError, LineParser};
use crate::params::{Endpoint, WriteParams};
use crate::precision::Precision;

/// The parts of an HTTP request the core needs. Shells fill it from their own request type.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestParts<'r> {
    /// The method, e.g. `POST`.
    pub method: &'r str,
    /// The path without the query string.
    pub path: &'r str,
    /// The query string without `?`; `None` when the URL has no `?`.
    pub query: Option<&'r str>,
    /// The `Authorization` header value.
    pub authorization: Option<&'r [u8]>,
    /// The `Content-Encoding` header value.
    pub content_encoding: Option<&'r [u8]>,
}

/// A write request whose route, credentials, parameters and encoding are understood.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// The endpoint it came in on.
    pub endpoint: Endpoint,
    /// The token it presented, if any (not yet checked: see [`crate::TokenStore`]).
    pub credentials: Option<Credentials>,
    /// Its parameters.
    pub params: WriteParams,
    /// How its body is encoded.
    pub encoding: ContentEncoding,
}

impl WriteRequest {
    /// Reads a write request: 404 for another path, 405 for another method, then
    /// credentials (400 if malformed), parameters (400) and encoding (415).
    pub fn parse(parts: &RequestParts<'_>) -> Result<WriteRequest, WriteError> {
        let endpoint = Endpoint::from_path(parts.path).ok_or(WriteError::NotFound)?;
        if parts.method != "POST" {
            return Err(WriteError::MethodNotAllowed);
        }
        let credentials = Credentials::from_request(parts.path, parts.query, parts.authorization)?;
        let params = WriteParams::parse(endpoint, parts.query)?;
        let encoding = ContentEncoding::from_header(parts.content_encoding)?;
        Ok(WriteRequest {
            endpoint,
            credentials,
            params,
            encoding,
        })
    }

    /// A decoder for this request's body, capped at `limit` bytes raw and decoded.
    pub fn body_decoder(&self, limit: usize) -> BodyDecoder {
        BodyDecoder::new(self.encoding, limit)
    }

    /// Whether a bad line rejects the whole request (v1, v2, and v3 with
    /// `accept_partial=false`).
    pub fn all_or_nothing(&self) -> bool {
        !self.params.accept_partial
    }

    /// Validates a decoded body. `now` is the ingest time in nanoseconds, used for lines
    /// without a timestamp.
    ///
    /// All-or-nothing requests fail on the first bad line; partial ones return the good
    /// rows together with every rejected line, and the shell answers
    /// [`Accepted::error`] after storing the rows.
    pub fn validate<'b>(&self, body: &'b [u8], now: i64) -> Result<Accepted<'b>, WriteError> {
        validate(body, self.params.precision, now, self.all_or_nothing())
    }

    /// [`WriteRequest::validate`] for a body already checked with [`utf8`].
    pub fn validate_text<'b>(&self, body: &'b str, now: i64) -> Result<Accepted<'b>, WriteError> {
        validate_text(body, self.params.precision, now, self.all_or_nothing())
    }
}

/// The outcome of a validated body.
#[derive(Debug, Default)]
pub struct Accepted<'a> {
    /// The rows to store.
    pub batch: WriteBatch<'a>,
    /// The lines that were rejected (only in a partial write).
    pub rejected: Vec<LineError>,
}

impl Accepted<'_> {
    /// The error to answer once the batch is stored: a partial write if lines were
    /// rejected, otherwise none (204).
    pub fn error(&self) -> Option<WriteError> {
        if self.rejected.is_empty() {
            None
        } else {
            Some(WriteError::PartialWrite(self.rejected.clone()))
        }
    }
}

/// Validates a decoded body: UTF-8, then every line (see [`LineParser`]).
pub fn validate(
    body: &[u8],
    precision: Precision,
    now: i64,
    all_or_nothing: bool,
) -> Result<Accepted<'_>, WriteError> {
    validate_text(utf8(body)?, precision, now, all_or_nothing)
}

/// [`validate`] for a body already known to be UTF-8 (a JavaScript string, or one a caller
/// has checked with [`utf8`] because it needs the text too).
pub fn validate_text(
    body: &str,
    precision: Precision,
    now: i64,
    all_or_nothing: bool,
) -> Result<Accepted<'_>, WriteError> {
    let default_time = precision.truncate(now);
    let mut accepted = Accepted::default();
    let mut parser = LineParser::new(body, precision);
    let mut first_offset = None;
    while let Some(line) = parser.next_line() {
        match line {
            Ok(line) => {
                let time = line.timestamp.unwrap_or(default_time);
                accepted.batch.push(&line, time);
                match first_offset {
                    None => first_offset = Some(line.offset),
                    Some(first) if accepted.batch.len() == 2 => {
                        let rest = body.len() - line.offset;
                        accepted.batch.reserve_for_rest(rest, line.offset - first);
                    }
                    Some(_) => {}
                }
            }
            Err(error) if all_or_nothing => return Err(WriteError::Line(error)),
            Err(error) => accepted.rejected.push(error),
        }
    }
    if accepted.batch.is_empty() && accepted.rejected.is_empty() {
        return Err(WriteError::EmptyWrite);
    }
    Ok(accepted)
}

/// Checks that the body is UTF-8, naming the line and column of the first bad byte.
pub fn utf8(body: &[u8]) -> Result<&str, WriteError> {
    let ascii = ascii_prefix(body);
    let checked = std::str::from_utf8(&body[ascii..]).map(|_| {
        // SAFETY: `body[..ascii]` is ASCII (`ascii_prefix`) and `body[ascii..]` is UTF-8
        // (just checked); an ASCII prefix ends at a character boundary, so the whole body is
        // UTF-8. Checking the whole body again would double the cost this saves.
        unsafe { std::str::from_utf8_unchecked(body) }
    });
    checked.map_err(|e| {
        let at = ascii + e.valid_up_to();
        let line_start = body[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        WriteError::InvalidUtf8 {
            line: 1 + body[..at].iter().filter(|&&c| c == b'\n').count() as u32,
            column: (at - line_start + 1) as u32,
        }
    })
}

/// The length of an ASCII prefix of `body`, a multiple of 32 bytes: the standard
/// library's check reads a word at a time (four bytes in wasm32); this reads 32 bytes a
/// step, four 64-bit words folded into one test. Text is mostly ASCII.
pub(crate) fn ascii_prefix(body: &[u8]) -> usize {
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let mut ascii = 0;
    for chunk in body.chunks_exact(32) {
        let mut any = 0;
        for word in chunk.chunks_exact(8) {
            // Never fails (exact chunks of 8); a non-ASCII word would only end the prefix.
            any |= u64::from_le_bytes(word.try_into().unwrap_or([0x80; 8]));
        }
        if any & HIGHS != 0 {
            break;
        }
        ascii += 32;
    }
    ascii
}

#[cfg(test)]
mod tests;
