//! Fuzzes the whole write path: request parts → `WriteRequest::parse` → `BodyDecoder`
//! (1–3 chunks, 64 KiB cap) → `validate`, and every error's status and JSON bodies.
//!
//! Input layout (easy to write by hand, see `fuzz/seeds.sh`):
//!
//! ```text
//! byte 0  flags: bits 0-1 method (0,1 POST; 2 GET; 3 "post")
//!                bits 2-3 path (/write, /api/v2/write, /api/v3/write_lp, /other)
//!                bit 4 query present, bit 5 Authorization present,
//!                bit 6 Content-Encoding present
//! byte 1  chunks: 1 + (b % 3) chunks; bits 2-4 and 5-7 place the cuts in eighths
//! then    query 0xFF authorization 0xFF content-encoding 0xFF body
//! ```
//!
//! The query is taken lossily as UTF-8. The body is everything after the third 0xFF (it
//! may contain 0xFF itself). Missing sections are empty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linegate::{ContentEncoding, Endpoint, RequestParts, WriteError, WriteRequest};

const LIMIT: usize = 64 * 1024;
const NOW: i64 = 1_700_000_000_000_000_000;
const METHODS: [&str; 4] = ["POST", "POST", "GET", "post"];
const PATHS: [&str; 4] = ["/write", "/api/v2/write", "/api/v3/write_lp", "/other"];
const SEPARATOR: u8 = 0xFF;

fn check_error(error: &WriteError) {
    let status = error.status();
    assert!(
        (400..=599).contains(&status),
        "status {status} for {error:?}"
    );
    assert!(!error.v2_code().is_empty());
    let _ = error.headers();
    let _ = error.to_string();
    for endpoint in Endpoint::ALL {
        let _ = error.message(endpoint);
        let body = error.body(endpoint);
        let json: serde_json::Value = match serde_json::from_str(&body) {
            Ok(json) => json,
            Err(e) => panic!("{endpoint:?} body is not JSON ({e}): {body:?}"),
        };
        let object = json
            .as_object()
            .unwrap_or_else(|| panic!("{endpoint:?} body is not an object: {body}"));
        if endpoint == Endpoint::V2 {
            assert!(object.get("code").is_some_and(|v| v.is_string()), "{body}");
            assert!(
                object.get("message").is_some_and(|v| v.is_string()),
                "{body}"
            );
        } else {
            assert!(object.get("error").is_some_and(|v| v.is_string()), "{body}");
        }
    }
}

/// Splits `data` at the first three separators: query, authorization, encoding, body.
fn sections(data: &[u8]) -> [&[u8]; 4] {
    let mut out: [&[u8]; 4] = [&[]; 4];
    let mut rest = data;
    for slot in out.iter_mut().take(3) {
        match rest.iter().position(|&c| c == SEPARATOR) {
            Some(i) => {
                *slot = &rest[..i];
                rest = &rest[i + 1..];
            }
            None => {
                *slot = rest;
                rest = &[];
            }
        }
    }
    out[3] = rest;
    out
}

/// Cuts the body into 1–3 chunks as byte 1 says.
fn chunks(body: &[u8], control: u8) -> Vec<&[u8]> {
    let count = 1 + control % 3;
    let mut cuts = [
        body.len() * ((control >> 2) & 7) as usize / 8,
        body.len() * ((control >> 5) & 7) as usize / 8,
    ];
    cuts.sort();
    match count {
        1 => vec![body],
        2 => vec![&body[..cuts[0]], &body[cuts[0]..]],
        _ => vec![&body[..cuts[0]], &body[cuts[0]..cuts[1]], &body[cuts[1]..]],
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (flags, control) = (data[0], data[1]);
    let [query, authorization, encoding, body] = sections(&data[2..]);
    let query = String::from_utf8_lossy(query);
    let parts = RequestParts {
        method: METHODS[(flags & 3) as usize],
        path: PATHS[((flags >> 2) & 3) as usize],
        query: (flags & 0x10 != 0).then_some(&*query),
        authorization: (flags & 0x20 != 0).then_some(authorization),
        content_encoding: (flags & 0x40 != 0).then_some(encoding),
    };

    let request = match WriteRequest::parse(&parts) {
        Ok(request) => request,
        Err(error) => return check_error(&error),
    };
    assert_eq!(request.endpoint.path(), parts.path);
    assert_eq!(parts.method, "POST");

    let mut decoder = request.body_decoder(LIMIT);
    for chunk in chunks(body, control) {
        if let Err(error) = decoder.push(chunk) {
            assert!(
                request.encoding == ContentEncoding::Gzip || body.len() > LIMIT,
                "identity body of {} bytes refused: {error:?}",
                body.len()
            );
            return check_error(&error);
        }
    }
    let decoded = match decoder.finish() {
        Ok(decoded) => decoded,
        Err(error) => return check_error(&error),
    };
    assert!(decoded.len() <= LIMIT, "decoded {} bytes", decoded.len());
    if request.encoding == ContentEncoding::Identity {
        assert_eq!(decoded, body, "identity decoding changed the body");
    }

    match request.validate(&decoded, NOW) {
        Err(error) => check_error(&error),
        Ok(accepted) => {
            assert!(!accepted.batch.is_empty() || !accepted.rejected.is_empty());
            if request.all_or_nothing() {
                assert!(accepted.rejected.is_empty());
            }
            for row in accepted.batch.rows() {
                assert!(!row.fields.is_empty());
            }
            let _ = accepted.batch.to_line_protocol();
            if let Some(error) = accepted.error() {
                check_error(&error);
            }
        }
    }
});
