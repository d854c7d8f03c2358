//! Tests of the worker's mapping code (`linegate_edge::map`): plain functions, so they run
//! natively (`cargo test -p linegate-edge`) and as wasm-bindgen tests under Node
//! (`CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test
//! -p linegate-edge --target wasm32-unknown-unknown`).
//! The end-to-end test through `wrangler dev` is `tests/worker/e2e.mjs` at the root.

mod bench;
mod upstreams;

use linegate::{
    Access, AuthScheme, Credentials, Endpoint, RequestParts, Scope, WriteError, WriteRequest,
};
use linegate_edge::map::{self, Answer, AuthMode, Forwarded, Route, SpoolMeta, UpstreamOutcome};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn routes() {
    assert_eq!(map::route("/write"), Route::Write(Endpoint::V1));
    assert_eq!(map::route("/api/v2/write"), Route::Write(Endpoint::V2));
    assert_eq!(map::route("/api/v3/write_lp"), Route::Write(Endpoint::V3));
    assert_eq!(map::route("/ping"), Route::Ping);
    assert_eq!(map::route("/health"), Route::Health);
    assert_eq!(map::route("/query"), Route::Query(map::QueryApi::V1));
    assert_eq!(
        map::route("/api/v3/query_sql"),
        Route::Query(map::QueryApi::Sql)
    );
    assert_eq!(
        map::route("/api/v3/query_influxql"),
        Route::Query(map::QueryApi::InfluxQl)
    );
    assert_eq!(
        map::route("/api/v3/query_other"),
        Route::Query(map::QueryApi::OtherV3)
    );
    for path in [
        "/",
        "/write/",
        "/metrics",
        "/api/v3/query_",
        "/api/v3/query_sql/x",
        "/api/v3/configure/token",
        "/api/v2/query",
        "/WRITE",
    ] {
        assert_eq!(map::route(path), Route::NotFound, "{path}");
    }
}

#[test]
fn ping_and_health() {
    let headers = map::ping_headers();
    assert_eq!(headers[0].0, "X-Influxdb-Version");
    assert!(headers[0].1.starts_with("linegate-edge-"));
    assert_eq!(headers[1], ("X-Influxdb-Build", "linegate-edge"));
    let health: serde_json::Value = serde_json::from_str(map::health_body()).unwrap();
    assert_eq!(health["status"], "pass");
}

#[test]
fn auth_mode() {
    assert_eq!(AuthMode::from_var(None), Ok(AuthMode::Kv));
    assert_eq!(AuthMode::from_var(Some("")), Ok(AuthMode::Kv));
    assert_eq!(AuthMode::from_var(Some("kv")), Ok(AuthMode::Kv));
    assert_eq!(
        AuthMode::from_var(Some(" passthrough ")),
        Ok(AuthMode::Passthrough)
    );
    assert!(AuthMode::from_var(Some("none"))
        .unwrap_err()
        .contains("\"none\""));
}

#[test]
fn token_key_matches_sha256sum() {
    // Known vector: SHA-256("abc").
    let creds = Credentials::new(AuthScheme::Token, "abc");
    assert_eq!(
        map::token_key(Some(&creds)).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(map::token_key(None), Err(WriteError::Unauthenticated));
    // Every way of presenting the token gives the same key.
    for (authorization, query) in [
        (Some("Bearer abc"), None),
        (Some("Token abc"), None),
        (Some("Basic dXNlcjphYmM="), None), // user:abc
        (None, Some("db=x&u=user&p=abc")),
    ] {
        let parts = RequestParts {
            method: "POST",
            path: "/write",
            query: Some(query.unwrap_or("db=x")),
            authorization: authorization.map(str::as_bytes),
            ..Default::default()
        };
        let request = WriteRequest::parse(&parts).unwrap();
        assert_eq!(
            map::token_key(request.credentials.as_ref()).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "{authorization:?} {query:?}"
        );
    }
}

#[test]
fn scopes_from_kv() {
    assert_eq!(map::parse_scope("admin"), Some(Scope::Admin));
    assert_eq!(map::parse_scope(" admin\n"), Some(Scope::Admin));
    assert_eq!(map::parse_scope(r#"{"admin":true}"#), Some(Scope::Admin));
    assert_eq!(
        map::parse_scope(r#"{"read":["a","b"],"write":["a"],"description":"telegraf"}"#),
        Some(Scope::Databases(vec![
            ("a".into(), vec![Access::Read, Access::Write]),
            ("b".into(), vec![Access::Read]),
        ]))
    );
    assert_eq!(
        map::parse_scope(r#"{"admin":false,"write":["*"]}"#),
        Some(Scope::Databases(vec![("*".into(), vec![Access::Write])]))
    );
    assert_eq!(map::parse_scope("{}"), Some(Scope::Databases(vec![])));
    for bad in [
        "",
        "root",
        "[]",
        r#"{"admin":"yes"}"#,
        r#"{"write":"a"}"#,
        r#"{"write":[1]}"#,
    ] {
        assert_eq!(map::parse_scope(bad), None, "{bad}");
    }
}

/// What the entry does with a KV value: its scope, then the access.
fn authorize(stored: Option<&str>, database: &str, access: Access) -> Result<(), WriteError> {
    map::scope(stored)?.permits(database, access)
}

#[test]
fn writes_queries_and_tokens_name_one_database() {
    // What `db=MyDb&rp=MyRP` writes, the same parameters read, and a token for it covers both.
    let write = |query: &str| {
        WriteRequest::parse(&RequestParts {
            method: "POST",
            path: if query.starts_with("bucket") {
                "/api/v2/write"
            } else {
                "/write"
            },
            query: Some(query),
            ..Default::default()
        })
        .unwrap()
        .params
        .database
    };
    let read = |query: &str| {
        linegate::QueryRequest::parse(map::QueryApi::V1.endpoint(), Some(query), None, b"")
            .unwrap()
            .database
            .unwrap()
    };
    assert_eq!(write("db=MyDb&rp=MyRP"), "MyDb/myrp");
    assert_eq!(write("bucket=MyDb/MyRP"), "MyDb/myrp");
    assert_eq!(read("db=MyDb&rp=MyRP&q=SELECT+1"), "MyDb/myrp");
    let scope = r#"{"read":["MyDb/myrp"],"write":["MyDb/myrp"]}"#;
    assert_eq!(
        authorize(Some(scope), &write("db=MyDb&rp=MyRP"), Access::Write),
        Ok(())
    );
    assert_eq!(
        authorize(Some(scope), &read("db=MyDb&rp=MyRP&q=x"), Access::Read),
        Ok(())
    );
}

#[test]
fn authorize_from_kv_value() {
    let rw = r#"{"read":["metrics"],"write":["metrics"]}"#;
    assert_eq!(authorize(Some(rw), "metrics", Access::Write), Ok(()));
    assert_eq!(authorize(Some(rw), "metrics", Access::Read), Ok(()));
    let ro = r#"{"read":["metrics"]}"#;
    let forbidden = authorize(Some(ro), "metrics", Access::Write).unwrap_err();
    assert_eq!(forbidden.status(), 403);
    assert_eq!(
        forbidden.body(Endpoint::V2),
        r#"{"code":"forbidden","message":"token does not grant write access to database 'metrics'"}"#
    );
    assert_eq!(
        authorize(Some(rw), "other", Access::Write)
            .unwrap_err()
            .status(),
        403
    );
    assert_eq!(authorize(Some("admin"), "any", Access::Write), Ok(()));
    assert_eq!(
        authorize(None, "metrics", Access::Write),
        Err(WriteError::Unauthenticated)
    );
    let broken = authorize(Some("{not json"), "metrics", Access::Write).unwrap_err();
    assert_eq!(broken.status(), 500);
    assert!(!broken.body(Endpoint::V3).contains("not json"));
}

#[test]
fn upstream_accept_partial_only_for_v3_clients_that_ask() {
    assert!(!map::upstream_accept_partial(Endpoint::V1, true));
    assert!(!map::upstream_accept_partial(Endpoint::V2, true));
    assert!(map::upstream_accept_partial(Endpoint::V3, true));
    assert!(!map::upstream_accept_partial(Endpoint::V3, false));
}

#[cfg(not(target_arch = "wasm32"))]
fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[cfg(target_arch = "wasm32")]
fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut decoder = linegate::BodyDecoder::new(linegate::ContentEncoding::Gzip, usize::MAX);
    decoder.push(data).unwrap();
    decoder.finish().unwrap()
}

#[test]
fn gzip_round_trips() {
    let text = "cpu,host=a usage=1.5 1700000000000000000\n".repeat(1000);
    for level in [1, 6] {
        let packed = linegate::body::gzip(text.as_bytes(), level);
        assert!(packed.len() < text.len() / 10, "{}", packed.len());
        assert_eq!(gunzip(&packed), text.as_bytes());
    }
    assert_eq!(gunzip(&linegate::body::gzip(b"", 1)), b"");
}

#[test]
fn original_lines() {
    let body = b"# comment\r\ncpu v=1\r\n\nmem free=2\n";
    assert_eq!(map::original_line(body, 1), "# comment");
    assert_eq!(map::original_line(body, 2), "cpu v=1");
    assert_eq!(map::original_line(body, 3), "");
    assert_eq!(map::original_line(body, 4), "mem free=2");
    assert_eq!(map::original_line(body, 9), "");
    let long = format!("m v=\"{}\"", "é".repeat(300));
    let cut = map::original_line(long.as_bytes(), 1);
    assert!(cut.len() <= 256 && cut.len() >= 254, "{}", cut.len());
    assert!(long.starts_with(&cut));
}

/// The edge's own processing of a body, as the worker does it.
fn forward(
    body: &'static str,
    endpoint: Endpoint,
    query: &str,
) -> (String, Vec<u32>, Vec<linegate::LineError>) {
    let parts = RequestParts {
        method: "POST",
        path: endpoint.path(),
        query: Some(query),
        ..Default::default()
    };
    let request = WriteRequest::parse(&parts).unwrap();
    let accepted = request.validate(body.as_bytes(), 42).unwrap();
    let lines = accepted.batch.rows().map(|r| r.line_number).collect();
    (accepted.batch.to_line_protocol(), lines, accepted.rejected)
}

#[test]
fn success_maps_to_204_or_the_edge_rejections() {
    let body = "cpu v=1 1\n";
    let (_, line_numbers, rejected) = forward(body, Endpoint::V1, "db=a");
    let forwarded = Forwarded {
        endpoint: Endpoint::V1,
        line_numbers,
        body: body.as_bytes(),
        rejected: &rejected,
    };
    assert_eq!(
        map::map_upstream(204, "", &forwarded),
        UpstreamOutcome::Answer(Answer::no_content())
    );

    let body = "cpu v=1 1\ncpu v= 2\n";
    let (_, line_numbers, rejected) = forward(body, Endpoint::V3, "db=a");
    assert_eq!(rejected.len(), 1);
    let forwarded = Forwarded {
        endpoint: Endpoint::V3,
        line_numbers,
        body: body.as_bytes(),
        rejected: &rejected,
    };
    let UpstreamOutcome::Answer(answer) = map::map_upstream(204, "", &forwarded) else {
        panic!()
    };
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body,
        WriteError::PartialWrite(rejected.clone()).body(Endpoint::V3)
    );
}

#[test]
fn storage_down_statuses() {
    let forwarded = Forwarded {
        endpoint: Endpoint::V2,
        line_numbers: vec![1],
        body: b"cpu v=1",
        rejected: &[],
    };
    for status in [500, 502, 503, 504, 408, 429] {
        assert!(map::storage_down(status));
        assert_eq!(
            map::map_upstream(status, "", &forwarded),
            UpstreamOutcome::StorageDown
        );
    }
    for status in [200, 204, 400, 401, 403, 404, 413, 422] {
        assert!(!map::storage_down(status));
    }
}

#[test]
fn upstream_partial_errors_refer_to_the_client_body() {
    // Comments, blank lines and an edge-rejected line shift the forwarded numbering: the
    // upstream's line 2 is the client's line 5.
    let body = "# header\ncpu,host=a v=1i 1\n\ncpu v= 3\ncpu,zone=z,host=b v=\"text\" 2\n";
    let (canonical, line_numbers, rejected) = forward(body, Endpoint::V3, "db=a&precision=s");
    assert_eq!(line_numbers, vec![2, 5]);
    assert_eq!(
        canonical,
        "cpu,host=a v=1i 1000000000\ncpu,host=b,zone=z v=\"text\" 2000000000\n"
    );
    let upstream_body = r#"{"error":"partial write of line protocol occurred","data":[{"error_message":"schema conflict: column 'v' of table 'cpu' is a integer field, this line writes a string field","line_number":2,"original_line":"cpu,host=b,zone=z v=\"text\" 2000000000","column":19}]}"#;
    let forwarded = Forwarded {
        endpoint: Endpoint::V3,
        line_numbers,
        body: body.as_bytes(),
        rejected: &rejected,
    };
    let UpstreamOutcome::Answer(answer) = map::map_upstream(400, upstream_body, &forwarded) else {
        panic!()
    };
    assert_eq!(answer.status, 400);
    let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(json["error"], "partial write of line protocol occurred");
    let data = json["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["line_number"], 4);
    assert_eq!(data[0]["original_line"], "cpu v= 3");
    assert_eq!(data[1]["line_number"], 5);
    assert_eq!(data[1]["original_line"], "cpu,zone=z,host=b v=\"text\" 2");
    // The upstream pointed at `v="text"` in its canonical line; the client's line has it at 19.
    assert_eq!(data[1]["column"], 19);
    assert!(data[1]["error_message"]
        .as_str()
        .unwrap()
        .starts_with("schema conflict"));
}

#[test]
fn upstream_line_error_in_each_endpoint_shape() {
    let body = "\ncpu v=1i 1\nmem v=1 1\n";
    let upstream_body = r#"{"error":"line protocol parsing error","data":{"error_message":"schema conflict","line_number":2,"original_line":"mem v=1 1","column":5}}"#;
    for endpoint in Endpoint::ALL {
        let query = match endpoint {
            Endpoint::V2 => "bucket=a&precision=ns",
            _ => "db=a&precision=ns",
        };
        let (_, line_numbers, rejected) = forward(body, endpoint, query);
        assert_eq!(line_numbers, vec![2, 3]);
        let forwarded = Forwarded {
            endpoint,
            line_numbers,
            body: body.as_bytes(),
            rejected: &rejected,
        };
        let UpstreamOutcome::Answer(answer) = map::map_upstream(400, upstream_body, &forwarded)
        else {
            panic!()
        };
        assert_eq!(answer.status, 400);
        let expected = match endpoint {
            Endpoint::V2 => {
                r#"{"code":"invalid","message":"write buffer error: line protocol parse failed: line 3, column 5: schema conflict"}"#
            }
            _ => {
                r#"{"error":"line protocol parsing error","data":{"error_message":"schema conflict","line_number":3,"original_line":"mem v=1 1","column":5}}"#
            }
        };
        assert_eq!(answer.body, expected, "{endpoint:?}");
    }
}

#[test]
fn other_upstream_errors_keep_status_and_message() {
    let forwarded = Forwarded {
        endpoint: Endpoint::V2,
        line_numbers: vec![1],
        body: b"cpu v=1",
        rejected: &[],
    };
    let UpstreamOutcome::Answer(answer) = map::map_upstream(
        401,
        r#"{"error":"the request was not authenticated"}"#,
        &forwarded,
    ) else {
        panic!()
    };
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body,
        r#"{"code":"unauthorized","message":"the request was not authenticated"}"#
    );
    let forwarded = Forwarded {
        endpoint: Endpoint::V1,
        ..forwarded
    };
    let UpstreamOutcome::Answer(answer) = map::map_upstream(413, "too big\n", &forwarded) else {
        panic!()
    };
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (413, r#"{"error":"too big"}"#)
    );
    let UpstreamOutcome::Answer(answer) = map::map_upstream(404, "", &forwarded) else {
        panic!()
    };
    assert_eq!(answer.body, r#"{"error":"storage answered 404"}"#);
    // A line number the edge never sent is not invented: the message is kept instead.
    let UpstreamOutcome::Answer(answer) = map::map_upstream(
        400,
        r#"{"error":"partial write of line protocol occurred","data":[{"error_message":"x","line_number":7,"original_line":"","column":1}]}"#,
        &forwarded,
    ) else {
        panic!()
    };
    assert_eq!(
        answer.body,
        r#"{"error":"partial write of line protocol occurred"}"#
    );
}

#[test]
fn columns_follow_the_token() {
    assert_eq!(map::map_column(Some("a b"), 3, "a b"), 3);
    assert_eq!(map::map_column(None, 7, "x"), 7);
    assert_eq!(
        map::map_column(Some("m,a=1,b=2 v=1 5"), 11, "m,b=2,a=1 v=1 5000"),
        11
    );
    assert_eq!(
        map::map_column(Some("m,a=1,b=2 f=1 5"), 11, "m,b=2,a=1   f=1 5"),
        13
    );
    assert_eq!(
        map::map_column(Some("m,a=1,b=2 f=1 5"), 7, "m,b=2,a=1 f=1 5"),
        3
    );
    assert_eq!(map::map_column(Some("m zz=1"), 3, "m yy=1"), 1);
}

#[test]
fn error_answers_use_the_core_shapes() {
    let e = WriteError::Unavailable { retry_after: 10 };
    let answer = Answer::error(&e, Endpoint::V2);
    assert_eq!(answer.status, 503);
    assert_eq!(answer.headers, vec![("Retry-After", "10".to_owned())]);
    assert_eq!(
        answer.body,
        r#"{"code":"unavailable","message":"storage is unavailable, retry later"}"#
    );
    assert_eq!(Answer::stored(Endpoint::V1, &[]), Answer::no_content());
}

#[test]
fn retry_policy_stays_within_the_budget() {
    let policy = map::RetryPolicy {
        budget_ms: 3000,
        timeout_ms: 10_000,
        first_backoff_ms: 100,
    };
    let first = policy.next(0, 0).unwrap();
    assert_eq!((first.delay_ms, first.timeout_ms), (0, 10_000));
    // Connection refused at once: back-offs 100, 200, 400, 800, then 1600 would end at
    // 3100 > 3000.
    let mut elapsed = 0;
    let mut delays = Vec::new();
    let mut attempt = 1;
    while let Some(next) = policy.next(attempt, elapsed) {
        delays.push(next.delay_ms);
        elapsed += next.delay_ms;
        assert!(elapsed + next.timeout_ms <= policy.budget_ms);
        attempt += 1;
    }
    assert_eq!(delays, vec![100, 200, 400, 800]);
    // A slow first attempt leaves no room for another.
    assert_eq!(policy.next(1, 2_900), None);
    // Timeouts are cut to what is left.
    assert_eq!(policy.next(1, 1_000).unwrap().timeout_ms, 1_900);
    // Back-off is capped.
    let long = map::RetryPolicy {
        budget_ms: 1_000_000,
        ..policy
    };
    assert_eq!(
        long.next(30, 0).unwrap().delay_ms,
        map::RetryPolicy::MAX_BACKOFF_MS
    );
}

#[test]
fn spool_keys_sort_in_arrival_order() {
    let keys = [
        map::spool_key("spool/", 1_700_000_000_000, 7, 0xffff_ffff),
        map::spool_key("spool/", 1_700_000_000_000, 8, 0),
        map::spool_key("spool/", 1_700_000_000_001, 0, 5),
        map::spool_key("spool/", 17_000_000_000_000, 0, 5),
    ];
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, keys);
    assert_eq!(keys[0], "spool/001700000000000-00000007-ffffffff");
    assert_eq!(
        map::dead_key(&keys[0]),
        "dead/001700000000000-00000007-ffffffff"
    );
    let named = map::spool_key("spool/eu/", 1_700_000_000_000, 7, 1);
    assert_eq!(named, "spool/eu/001700000000000-00000007-00000001");
    assert_eq!(
        map::dead_key(&named),
        "dead/eu/001700000000000-00000007-00000001"
    );
}

#[test]
fn spool_metadata_round_trips() {
    let meta = SpoolMeta {
        database: "db/rp".into(),
        accept_partial: true,
        no_sync: false,
        lines: 5000,
    };
    let pairs = meta.to_pairs();
    let back = SpoolMeta::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(back, Some(meta));
    assert_eq!(SpoolMeta::from_pairs([("lines", "3")]), None);
}

#[test]
fn replay_steps() {
    assert_eq!(map::replay_step(Some(204)), map::ReplayStep::Delete);
    assert_eq!(map::replay_step(Some(400)), map::ReplayStep::DeadLetter);
    assert_eq!(map::replay_step(Some(401)), map::ReplayStep::DeadLetter);
    assert_eq!(map::replay_step(Some(503)), map::ReplayStep::Stop);
    assert_eq!(map::replay_step(Some(429)), map::ReplayStep::Stop);
    assert_eq!(map::replay_step(None), map::ReplayStep::Stop);
}

#[test]
fn scoped_tokens_run_single_read_only_unqualified_queries() {
    use map::QueryApi::{InfluxQl, Sql, V1};
    for q in [
        "SELECT mean(usage) FROM cpu WHERE time > now() - 1h GROUP BY time(5m)",
        "select * from \"cpu\" where host = 'a.b' and v > 1.5",
        "SHOW MEASUREMENTS",
        "SHOW TAG VALUES WITH KEY = \"host\"",
        "SELECT * FROM cpu;",
        "SELECT v FROM cpu WHERE time > '2023-11-14T22:13:20.000Z' LIMIT 10",
    ] {
        assert!(map::scoped_query_allowed(V1, q), "{q}");
        assert!(map::scoped_query_allowed(InfluxQl, q), "{q}");
    }
    for q in [
        "SELECT * FROM other.autogen.cpu",
        "SELECT * FROM other..cpu",
        "SELECT * FROM \"other\".\"autogen\".\"cpu\"",
        "SELECT * FROM \"other\"..cpu",
        "SELECT * INTO copy FROM cpu",
        "SHOW MEASUREMENTS ON other",
        "DROP DATABASE edge",
        "CREATE DATABASE x",
        "SELECT * FROM cpu; DROP MEASUREMENT cpu",
        "DELETE FROM cpu",
        "",
        "SELECT 'unterminated",
    ] {
        assert!(!map::scoped_query_allowed(V1, q), "{q}");
    }
    assert!(map::scoped_query_allowed(Sql, "SELECT cpu.v FROM cpu"));
    assert!(map::scoped_query_allowed(
        Sql,
        "WITH t AS (SELECT 1) SELECT * FROM t"
    ));
    assert!(map::scoped_query_allowed(Sql, "select count(*) from cpu"));
    for q in [
        "INSERT INTO cpu VALUES (1)",
        "DROP TABLE cpu",
        "SELECT 1; DROP TABLE cpu",
    ] {
        assert!(!map::scoped_query_allowed(Sql, q), "{q}");
    }
}

#[test]
fn credentials_are_stripped_from_forwarded_queries() {
    assert_eq!(map::strip_credentials("db=a&q=x"), "db=a&q=x");
    assert_eq!(map::strip_credentials("db=a&u=me&p=secret&q=x"), "db=a&q=x");
    assert_eq!(map::strip_credentials("p=secret"), "");
    assert_eq!(map::strip_credentials("pp=1&up=2"), "pp=1&up=2");
}

#[test]
fn prepare_validates_normalizes_and_compresses() {
    let parts = RequestParts {
        method: "POST",
        path: "/api/v3/write_lp",
        query: Some("db=a&precision=ms"),
        ..Default::default()
    };
    let request = WriteRequest::parse(&parts).unwrap();
    let body = b"# c\ncpu,b=2,a=1 v=1 1700000000000\nbad\ncpu v=T\n";
    let prepared = map::prepare(&request, body, 5_000_000_000, 1, None).unwrap();
    assert_eq!(prepared.line_numbers, vec![2, 4]);
    assert_eq!(prepared.rejected.len(), 1);
    assert_eq!(prepared.rejected[0].line, 3);
    assert_eq!(
        gunzip(&prepared.payload),
        b"cpu,a=1,b=2 v=1 1700000000000000000\ncpu v=true 5000000000\n"
    );
    let none = map::prepare(&request, b"bad\n", 0, 1, None).unwrap();
    assert!(none.payload.is_empty() && none.line_numbers.is_empty());
    assert_eq!(none.rejected.len(), 1);
    let parts = RequestParts {
        path: "/write",
        query: Some("db=a"),
        ..parts
    };
    let request = WriteRequest::parse(&parts).unwrap();
    let error = map::prepare(&request, b"cpu v=1\nbad\n", 0, 1, None).unwrap_err();
    assert_eq!(error.status(), 400);
}

#[test]
fn bench_batch_is_valid_line_protocol() {
    let text = bench::telegraf_batch(5000);
    assert_eq!(text.lines().count(), 5000);
    let parts = RequestParts {
        method: "POST",
        path: "/write",
        query: Some("db=a"),
        ..Default::default()
    };
    let request = WriteRequest::parse(&parts).unwrap();
    assert_eq!(
        request.validate(text.as_bytes(), 0).unwrap().batch.len(),
        5000
    );
}

#[test]
fn canonical_gzip_bodies_are_forwarded_as_they_came() {
    let parts = RequestParts {
        method: "POST",
        path: "/api/v2/write",
        query: Some("bucket=a"),
        content_encoding: Some(b"gzip"),
        ..Default::default()
    };
    let request = WriteRequest::parse(&parts).unwrap();
    let canonical = b"cpu,a=1,b=2 v=1.5,ok=true 1700000000000000000\n";
    let client = linegate::body::gzip(canonical, 9);
    let prepared = map::prepare(&request, canonical, 0, 1, Some(&client)).unwrap();
    assert_eq!(prepared.payload, client);
    // Not canonical (unsorted tags, `T`): re-encoded and compressed here.
    let other = b"cpu,b=2,a=1 v=1.5,ok=T 1700000000000000000\n";
    let client = linegate::body::gzip(other, 9);
    let prepared = map::prepare(&request, other, 0, 1, Some(&client)).unwrap();
    assert_ne!(prepared.payload, client);
    assert_eq!(gunzip(&prepared.payload), canonical);
}
