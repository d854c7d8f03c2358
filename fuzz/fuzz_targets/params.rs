//! Fuzzes the query-string mappers: `WriteParams::parse` for each write endpoint and
//! `QueryRequest::parse` for each query endpoint, over an arbitrary query string (and, for
//! queries, a form or JSON body).
//!
//! Input layout: byte 0 bit 0 picks a form or a JSON content type for the body; then query
//! 0xFF body.
//!
//! Checked: no panic; errors are 400 with JSON bodies; a database found passes
//! `check_database_name`, and a v1 `rp` other than the default ends up as `db/rp`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linegate::{check_database_name, Endpoint, QueryEndpoint, QueryRequest, WriteError, WriteParams};

fn check_error(error: &WriteError) {
    assert_eq!(error.status(), 400, "{error:?}");
    for endpoint in Endpoint::ALL {
        let body = error.body(endpoint);
        assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok(), "{body}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (query, body) = match rest.iter().position(|&b| b == 0xFF) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let query = String::from_utf8_lossy(query);
    for endpoint in Endpoint::ALL {
        match WriteParams::parse(endpoint, Some(&query)) {
            Err(error) => check_error(&error),
            Ok(params) => {
                assert!(check_database_name(&params.database).is_ok(), "{params:?}");
                assert!(params.database.matches('/').count() <= 1, "{params:?}");
                if endpoint != Endpoint::V3 {
                    assert!(params.accept_partial == false && !params.no_sync, "{params:?}");
                }
            }
        }
    }
    let content_type = if flags & 1 == 0 {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    for endpoint in [QueryEndpoint::V1, QueryEndpoint::Sql, QueryEndpoint::InfluxQl] {
        match QueryRequest::parse(endpoint, Some(&query), Some(content_type), body) {
            Err(error) => check_error(&error),
            Ok(request) => {
                assert!(!request.q.trim().is_empty());
                assert!(request.chunk_size > 0);
            }
        }
    }
});
