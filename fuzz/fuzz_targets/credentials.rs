//! Fuzzes the credential parser: `Credentials::from_request` over a path, a query string and
//! an `Authorization` header, and `from_header` alone.
//!
//! Input layout: byte 0 picks the path (bits 0-1: /write, /query, /api/v2/write,
//! /api/v3/write_lp), bit 2 query present, bit 3 header present; then query 0xFF header.
//!
//! Checked: no panic; errors are 400 or 401 with JSON bodies; a token found hashes to what
//! `TokenHash::of` gives; `Bearer`, `Token` and `Basic` headers made from a token (visible
//! ASCII; for `Basic`, without `:`) give that token back.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use linegate::{AuthScheme, Credentials, Endpoint, TokenHash};

const PATHS: [&str; 4] = ["/write", "/query", "/api/v2/write", "/api/v3/write_lp"];

fn check_error(error: &linegate::WriteError) {
    assert!(matches!(error.status(), 400 | 401), "{error:?}");
    for endpoint in Endpoint::ALL {
        let body = error.body(endpoint);
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok(), "{body}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (query, header) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let query = String::from_utf8_lossy(query);
    let path = PATHS[(flags & 3) as usize];
    let query = (flags & 4 != 0).then_some(&*query);
    let header = (flags & 8 != 0).then_some(header);
    match Credentials::from_request(path, query, header) {
        Err(error) => check_error(&error),
        Ok(None) => assert!(header.is_none(), "a header gave no credentials"),
        Ok(Some(credentials)) => {
            assert!(credentials.hash().ct_eq(&TokenHash::of(credentials.token())));
            let _ = format!("{credentials:?}");
        }
    }
    if let Some(header) = header {
        if let Err(error) = Credentials::from_header(header) {
            check_error(&error);
        }
    }
    // Round trips: a token of visible ASCII comes back from each scheme's header.
    if let Ok(token) = std::str::from_utf8(rest) {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()) {
            for (scheme, header) in [
                (AuthScheme::Bearer, format!("Bearer {token}")),
                (AuthScheme::Token, format!("Token {token}")),
                (
                    AuthScheme::Basic,
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("user:{token}"))
                    ),
                ),
            ] {
                if scheme == AuthScheme::Basic && token.contains(':') {
                    continue; // the token is what follows the last `:`
                }
                let parsed = Credentials::from_header(header.as_bytes())
                    .unwrap_or_else(|e| panic!("{header:?} refused: {e:?}"));
                assert_eq!((parsed.scheme, parsed.token()), (scheme, token), "{header:?}");
            }
        }
    }
});
