//! The real server over real HTTP on 127.0.0.1: auth forms, parameters, encodings, error
//! bodies, partial and all-or-nothing writes, schema rules, queries, admin routes, CORS.

mod common;

use std::io::Write;

use common::{temp_dir, Server, ADMIN};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn send(
    server: &Server,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = Client::new().request(method, server.url(path)).body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

async fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    send(server, Method::POST, path, headers, body.to_owned()).await
}

const BEARER: (&str, &str) = ("Authorization", "Bearer apiv3_test-admin-token");

/// Rows of `sql` in database `db`, as JSON objects.
async fn query(server: &Server, db: &str, sql: &str) -> Vec<Value> {
    let path = format!(
        "/api/v3/query_sql?db={}&q={}",
        urlencode(db),
        urlencode(sql)
    );
    let answer = send(server, Method::GET, &path, &[BEARER], "").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    match answer.json() {
        Value::Array(rows) => rows,
        other => panic!("expected an array: {other}"),
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn count(server: &Server, db: &str, table: &str) -> i64 {
    let rows = query(
        server,
        db,
        &format!("SELECT count(*) AS n FROM \"{table}\""),
    )
    .await;
    rows[0]["n"].as_i64().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn every_auth_form_and_its_failures() {
    let dir = temp_dir("auth");
    let server = Server::start(dir.path(), &[]);
    let body = "home,room=kitchen temp=21.5 1700000000\n";
    let basic = format!("Basic {}", base64_encode(&format!("anyuser:{ADMIN}")));
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/write?db=auth&precision=s", vec![BEARER]),
        (
            "/write?db=auth&precision=s",
            vec![("Authorization", "Token apiv3_test-admin-token")],
        ),
        (
            "/write?db=auth&precision=s",
            vec![("Authorization", basic.as_str())],
        ),
        (
            "/write?db=auth&precision=s&u=someone&p=apiv3_test-admin-token",
            vec![],
        ),
        (
            "/api/v2/write?bucket=auth&org=o&precision=s",
            vec![("Authorization", "Token apiv3_test-admin-token")],
        ),
        ("/api/v3/write_lp?db=auth&precision=second", vec![BEARER]),
    ];
    for (i, (path, headers)) in cases.iter().enumerate() {
        let line = format!("home,room=kitchen,case={i} temp=21.5 1700000000\n");
        let answer = post(&server, path, headers, &line).await;
        assert_eq!(
            answer.status,
            StatusCode::NO_CONTENT,
            "{path} {headers:?}: {}",
            answer.body
        );
        assert!(answer.body.is_empty());
    }
    assert_eq!(count(&server, "auth", "home").await, 6);

    // Missing and wrong tokens: 401 with each endpoint's body; a wrong `p` wins over a good header.
    let v1 = post(&server, "/write?db=auth", &[], body).await;
    assert_eq!(v1.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v1.json(),
        json!({"error": "the request was not authenticated"})
    );
    let v2 = post(
        &server,
        "/api/v2/write?bucket=auth",
        &[("Authorization", "Token nope")],
        body,
    )
    .await;
    assert_eq!(v2.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v2.json(),
        json!({"code": "unauthorized", "message": "unauthorized access"})
    );
    let p_wins = post(&server, "/write?db=auth&p=wrong", &[BEARER], body).await;
    assert_eq!(p_wins.status, StatusCode::UNAUTHORIZED);
    // Malformed header: 400.
    let malformed = post(
        &server,
        "/api/v3/write_lp?db=auth",
        &[("Authorization", "Basic !!!")],
        body,
    )
    .await;
    assert_eq!(
        malformed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        malformed.body
    );
    let lowercase = post(
        &server,
        "/api/v3/write_lp?db=auth",
        &[("Authorization", "bearer apiv3_test-admin-token")],
        body,
    )
    .await;
    assert_eq!(
        lowercase.status,
        StatusCode::BAD_REQUEST,
        "scheme words are case-sensitive"
    );

    // A database-scoped write token: 204 on its database, 403 elsewhere and for queries.
    let created = post(
        &server,
        "/api/v3/configure/token",
        &[BEARER],
        r#"{"database":"auth","permission":"write"}"#,
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let token = created.json()["token"].as_str().unwrap().to_owned();
    let scoped = format!("Bearer {token}");
    let ok = post(
        &server,
        "/api/v3/write_lp?db=auth",
        &[("Authorization", &scoped)],
        "m f=1\n",
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    let elsewhere = post(
        &server,
        "/api/v3/write_lp?db=other",
        &[("Authorization", &scoped)],
        "m f=1\n",
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::FORBIDDEN,
        "{}",
        elsewhere.body
    );
    let read = send(
        &server,
        Method::GET,
        "/api/v3/query_sql?db=auth&q=SELECT%201",
        &[("Authorization", &scoped)],
        "",
    )
    .await;
    assert_eq!(read.status, StatusCode::FORBIDDEN);
    let admin_only = post(
        &server,
        "/api/v3/configure/token",
        &[("Authorization", &scoped)],
        r#"{"admin":true}"#,
    )
    .await;
    assert_eq!(admin_only.status, StatusCode::FORBIDDEN);
    // The forbidden write left no trace.
    let dbs = send(
        &server,
        Method::GET,
        "/api/v3/configure/database",
        &[BEARER],
        "",
    )
    .await;
    assert!(!dbs.body.contains("\"other\""), "{}", dbs.body);
    // The token is stored hashed only.
    let stored = std::fs::read_to_string(dir.path().join("tokens.json")).unwrap();
    assert!(!stored.contains(&token) && !stored.contains(ADMIN));
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn parameters_precision_rp_bucket_and_ignored_ones() {
    let dir = temp_dir("params");
    let server = Server::start(dir.path(), &[]);
    let writes = [
        (
            "/write?db=p&precision=s&consistency=one",
            "m,via=v1s f=1 1700000000",
        ),
        ("/write?db=p&precision=ms", "m,via=v1ms f=1 1700000000000"),
        ("/write?db=p&precision=u", "m,via=v1u f=1 1700000000000000"),
        ("/write?db=p", "m,via=v1ns f=1 1700000000000000000"),
        ("/write?db=p&rp=autogen&precision=h", "m,via=v1h f=1 472222"),
        (
            "/api/v2/write?bucket=p/autogen&org=any&precision=ms",
            "m,via=v2ms f=1 1700000000000",
        ),
        (
            "/api/v2/write?bucket=p&orgID=123&precision=us",
            "m,via=v2us f=1 1700000000000000",
        ),
        ("/api/v3/write_lp?db=p", "m,via=v3auto f=1 1700000000"),
        (
            "/api/v3/write_lp?db=p&precision=millisecond",
            "m,via=v3ms f=1 1700000000000",
        ),
        (
            "/write?db=p&rp=weekly&precision=s",
            "m,via=rp f=1 1700000000",
        ),
    ];
    for (path, line) in writes {
        let answer = post(
            &server,
            path,
            &[
                BEARER,
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Zap-Trace-Span", "x"),
            ],
            line,
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::NO_CONTENT,
            "{path}: {}",
            answer.body
        );
    }
    let rows = query(
        &server,
        "p",
        "SELECT via, CAST(time AS BIGINT) AS t FROM m ORDER BY via",
    )
    .await;
    assert_eq!(rows.len(), 9);
    for row in &rows {
        let expected = if row["via"] == "v1h" {
            1_699_999_200_000_000_000i64
        } else {
            1_700_000_000_000_000_000
        };
        assert_eq!(row["t"].as_i64().unwrap(), expected, "{row}");
    }
    // rp other than autogen/default is its own database `db/rp`.
    assert_eq!(count(&server, "p/weekly", "m").await, 1);

    let bad = post(&server, "/write?db=p&precision=xs", &[BEARER], "m f=1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.json()["error"].as_str().unwrap().contains("xs"),
        "{}",
        bad.body
    );
    let no_db = post(&server, "/write", &[BEARER], "m f=1").await;
    assert_eq!(no_db.status, StatusCode::BAD_REQUEST);
    // An empty org is ignored, as InfluxDB 3 does (Telegraf sends it empty).
    let empty_org = post(&server, "/api/v2/write?bucket=p&org=", &[BEARER], "m f=1").await;
    assert_eq!(
        empty_org.status,
        StatusCode::NO_CONTENT,
        "{}",
        empty_org.body
    );
    let bad_name = post(
        &server,
        "/api/v3/write_lp?db=bad%20name",
        &[BEARER],
        "m f=1",
    )
    .await;
    assert_eq!(bad_name.status, StatusCode::BAD_REQUEST);

    // no_sync answers before the fsync; the row is there all the same.
    let nosync = post(
        &server,
        "/api/v3/write_lp?db=p&no_sync=true",
        &[BEARER],
        "ns f=1 1",
    )
    .await;
    assert_eq!(nosync.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&server, "p", "ns").await, 1);
}

#[tokio::test]
async fn gzip_encodings_and_size_limits() {
    let dir = temp_dir("gzip");
    let server = Server::start(dir.path(), &["--max-http-request-size", "1048576"]);
    let body = (0..1000)
        .map(|i| format!("g,i={} f={i} {i}\n", i % 7))
        .collect::<String>();
    let answer = send(
        &server,
        Method::POST,
        "/api/v2/write?bucket=gz",
        &[BEARER, ("Content-Encoding", "GZip")],
        gzip(body.as_bytes()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let identity = post(
        &server,
        "/write?db=gz",
        &[BEARER, ("Content-Encoding", "identity")],
        "g,i=x f=1 5000",
    )
    .await;
    assert_eq!(identity.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&server, "gz", "g").await, 1001);

    let corrupt = send(
        &server,
        Method::POST,
        "/write?db=gz",
        &[BEARER, ("Content-Encoding", "gzip")],
        b"\x1f\x8b\x08\x00garbage".to_vec(),
    )
    .await;
    assert_eq!(corrupt.status, StatusCode::BAD_REQUEST, "{}", corrupt.body);
    let unsupported = post(
        &server,
        "/write?db=gz",
        &[BEARER, ("Content-Encoding", "br")],
        "g f=1",
    )
    .await;
    assert_eq!(unsupported.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(unsupported.json()["error"].as_str().unwrap().contains("br"));

    // A gzip bomb: 64 MiB of zeros in ~64 KiB; stops at the 1 MiB cap.
    let bomb = gzip(&vec![b'0'; 64 << 20]);
    let answer = send(
        &server,
        Method::POST,
        "/api/v3/write_lp?db=gz",
        &[BEARER, ("Content-Encoding", "gzip")],
        bomb,
    )
    .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.body
    );
    let raw = "g f=1 1\n".repeat(200_000);
    let answer = post(&server, "/api/v3/write_lp?db=gz", &[BEARER], &raw).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        count(&server, "gz", "g").await,
        1001,
        "nothing of the refused bodies was stored"
    );

    let not_utf8 = send(
        &server,
        Method::POST,
        "/write?db=gz",
        &[BEARER],
        b"g f=1\ng,t=\xff f=2\n".to_vec(),
    )
    .await;
    assert_eq!(not_utf8.status, StatusCode::BAD_REQUEST);
    assert!(not_utf8.body.contains("line 2"), "{}", not_utf8.body);
}

#[tokio::test]
async fn error_bodies_partial_and_all_or_nothing() {
    let dir = temp_dir("errors");
    let server = Server::start(dir.path(), &[]);
    let body = "cpu,host=a usage=1 1\n\n# comment\ncpu,host=b usage= 2\ncpu,host=c usage=3 3\n";

    let v1 = post(&server, "/write?db=e", &[BEARER], body).await;
    assert_eq!(v1.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v1.json(),
        json!({"error": "line protocol parsing error", "data": {
            "error_message": "missing value for field 'usage'", "line_number": 4,
            "original_line": "cpu,host=b usage= 2", "column": 18}})
    );
    let v2 = post(&server, "/api/v2/write?bucket=e", &[BEARER], body).await;
    assert_eq!(v2.status, StatusCode::BAD_REQUEST);
    assert_eq!(v2.json()["code"], "invalid");
    assert!(
        v2.json()["message"]
            .as_str()
            .unwrap()
            .contains("line 4, column 18"),
        "{}",
        v2.body
    );
    // All-or-nothing: neither good line of the v1/v2 bodies was stored — not even the database.
    let dbs = send(
        &server,
        Method::GET,
        "/api/v3/configure/database",
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(dbs.json(), json!([]));

    let v3 = post(&server, "/api/v3/write_lp?db=e", &[BEARER], body).await;
    assert_eq!(v3.status, StatusCode::BAD_REQUEST);
    let v3 = v3.json();
    assert_eq!(v3["error"], "partial write of line protocol occurred");
    assert_eq!(v3["data"][0]["line_number"], 4);
    assert_eq!(
        count(&server, "e", "cpu").await,
        2,
        "v3 stores the good lines"
    );

    let strict = post(
        &server,
        "/api/v3/write_lp?db=e&accept_partial=false",
        &[BEARER],
        "cpu,host=z usage=9 9\ncpu usage=x\n",
    )
    .await;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&server, "e", "cpu").await, 2);

    let empty = post(&server, "/api/v3/write_lp?db=e", &[BEARER], "\n# nothing\n").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);

    let get = send(&server, Method::GET, "/write?db=e", &[BEARER], "").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(get.headers["allow"], "POST, OPTIONS");
    let missing = post(&server, "/nope", &[BEARER], "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_server_refuses_the_rows_the_page_refuses() {
    // www/bindings/tests/wasm.rs checks the page against the same fixture.
    let text = include_str!("../../tests/fixtures/schema-conflicts.lp");
    let (_, numbers) = text
        .lines()
        .next()
        .unwrap()
        .split_once("Breaking:")
        .unwrap();
    let breaking: Vec<u64> = numbers
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let dir = temp_dir("schema-fixture");
    let server = Server::start(dir.path(), &[]);
    let answer = post(
        &server,
        "/api/v3/write_lp?db=fx&precision=s",
        &[BEARER],
        text,
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    let refused: Vec<u64> = answer.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["line_number"].as_u64().unwrap())
        .collect();
    assert_eq!(refused, breaking);
    server.stop();
}

#[tokio::test]
async fn schema_rules_across_requests() {
    let dir = temp_dir("schema");
    let server = Server::start(dir.path(), &[]);
    let ok = post(
        &server,
        "/api/v3/write_lp?db=s",
        &[BEARER],
        "m,t=a f=1i,s=\"x\" 1\n",
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    // A field changing type, in v1: the whole request is refused.
    let conflict = post(
        &server,
        "/write?db=s",
        &[BEARER],
        "m,t=b f=2i 2\nm,t=c f=2.5 3\n",
    )
    .await;
    assert_eq!(conflict.status, StatusCode::BAD_REQUEST);
    let data = &conflict.json()["data"];
    assert_eq!(data["line_number"], 2);
    assert_eq!(data["column"], 7);
    assert!(
        data["error_message"]
            .as_str()
            .unwrap()
            .contains("column 'f' of table 'm' is an integer field"),
        "{data}"
    );
    assert_eq!(count(&server, "s", "m").await, 1);
    // A tag named like a field, in v3 partial: that line only.
    let clash = post(
        &server,
        "/api/v3/write_lp?db=s",
        &[BEARER],
        "m,f=x g=1 4\nm,t=d f=3i,n=true 5\n",
    )
    .await;
    assert_eq!(clash.status, StatusCode::BAD_REQUEST);
    assert_eq!(clash.json()["data"][0]["line_number"], 1);
    assert_eq!(count(&server, "s", "m").await, 2);
    // The rejected line's new column `g` was not created; `n` was, and new tags join later.
    let ok = post(
        &server,
        "/api/v3/write_lp?db=s",
        &[BEARER],
        "m,t=e,region=eu f=4i 6\n",
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let columns = query(&server, "s", "SELECT column_name FROM information_schema.columns WHERE table_name = 'm' ORDER BY ordinal_position").await;
    let names: Vec<&str> = columns
        .iter()
        .map(|c| c["column_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["t", "region", "f", "s", "n", "time"]);
    let time = post(&server, "/api/v3/write_lp?db=s", &[BEARER], "m time=1 7\n").await;
    assert_eq!(time.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn ping_health_metrics_cors_and_admin_routes() {
    let dir = temp_dir("misc");
    let server = Server::start(dir.path(), &[]);
    for method in [Method::GET, Method::HEAD] {
        let ping = send(&server, method, "/ping", &[], "").await;
        assert_eq!(ping.status, StatusCode::NO_CONTENT);
        assert!(ping.headers.contains_key("x-influxdb-version"));
        assert_eq!(ping.headers["x-influxdb-build"], "linegate");
    }
    // The validation page and its wasm, embedded in the binary.
    let page = send(&server, Method::GET, "/", &[], "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        page.body.contains("<title>"),
        "{}",
        &page.body[..page.body.len().min(200)]
    );
    let wasm = send(&server, Method::GET, "/pkg/linegate_bg.wasm", &[], "").await;
    assert_eq!(wasm.status, StatusCode::OK);
    assert_eq!(wasm.headers["content-type"], "application/wasm");
    let health = send(&server, Method::GET, "/health", &[], "").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "pass");

    let preflight = send(
        &server,
        Method::OPTIONS,
        "/api/v3/write_lp",
        &[
            ("Origin", "http://example.test"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    )
    .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers["access-control-allow-origin"], "*");
    assert!(preflight.headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Authorization"));

    let create = post(
        &server,
        "/api/v3/configure/database",
        &[BEARER],
        r#"{"db":"made"}"#,
    )
    .await;
    assert_eq!(create.status, StatusCode::OK, "{}", create.body);
    let again = post(
        &server,
        "/api/v3/configure/database",
        &[BEARER],
        r#"{"db":"made"}"#,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let w = post(&server, "/api/v3/write_lp?db=made", &[BEARER], "m f=1 1").await;
    assert_eq!(w.status, StatusCode::NO_CONTENT);
    assert_eq!(w.headers["access-control-allow-origin"], "*");
    let list = send(
        &server,
        Method::GET,
        "/api/v3/configure/database",
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(list.json(), json!([{"iox::database": "made"}]));
    let delete = send(
        &server,
        Method::DELETE,
        "/api/v3/configure/database?db=made",
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(delete.status, StatusCode::OK);
    let gone = send(
        &server,
        Method::GET,
        "/api/v3/query_sql?db=made&q=SELECT%201",
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let unauthenticated = send(&server, Method::GET, "/api/v3/configure/database", &[], "").await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);

    let metrics = send(&server, Method::GET, "/metrics", &[], "").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .body
            .contains("linegate_http_requests_total{path=\"/api/v3/write_lp\",status=\"204\"} 2"),
        "{}",
        metrics.body
    ); // the preflight and the write
    assert!(metrics.body.contains("linegate_write_points_total 1"));
    assert!(metrics.body.contains("linegate_wal_fsync_seconds_count"));

    let csv = send(
        &server,
        Method::POST,
        "/api/v3/query_sql",
        &[BEARER, ("Content-Type", "application/json")],
        r#"{"db":"nope","q":"SELECT 1"}"#,
    )
    .await;
    assert_eq!(csv.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn parquet_files_hold_every_value_type_and_timestamp() {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Float64Type, Int64Type, TimestampNanosecondType, UInt64Type};

    let dir = temp_dir("parquet");
    let server = Server::start(dir.path(), &[]);
    let body = "weather,city=Oslo,station=1 temp=-3.5,count=7i,total=18446744073709551615u,desc=\"snow \\\"heavy\\\"\",ok=t 1700000000000000001\n\
                weather,city=Bergen temp=4.25,count=-9223372036854775808i,ok=FALSE 1700000000000000002\n\
                weather,city=Oslo,station=1 temp=-4 1699999999000000000\n";
    let answer = post(
        &server,
        "/api/v3/write_lp?db=pq&precision=ns",
        &[BEARER],
        body,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    server.stop(); // SIGTERM persists the buffer

    let files = common::parquet_files(&dir.path().join("parquet"));
    assert_eq!(files.len(), 1, "{files:?}");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&files[0]).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        ["city", "station", "temp", "count", "total", "desc", "ok", "time"]
    );
    // Sorted by series key (city, station) then time.
    let city = batch.column(0).as_string::<i32>();
    let time = batch.column(7).as_primitive::<TimestampNanosecondType>();
    assert_eq!(
        [city.value(0), city.value(1), city.value(2)],
        ["Bergen", "Oslo", "Oslo"]
    );
    assert_eq!(
        [time.value(0), time.value(1), time.value(2)],
        [
            1700000000000000002,
            1699999999000000000,
            1700000000000000001
        ]
    );
    let temp = batch.column(2).as_primitive::<Float64Type>();
    assert_eq!(
        [temp.value(0), temp.value(1), temp.value(2)],
        [4.25, -4.0, -3.5]
    );
    let count = batch.column(3).as_primitive::<Int64Type>();
    assert_eq!(count.value(0), i64::MIN);
    assert!(count.is_null(1));
    assert_eq!(count.value(2), 7);
    assert_eq!(
        batch.column(4).as_primitive::<UInt64Type>().value(2),
        u64::MAX
    );
    assert_eq!(
        batch.column(5).as_string::<i32>().value(2),
        "snow \"heavy\""
    );
    let ok = batch.column(6).as_boolean();
    assert!(!ok.value(0) && ok.is_null(1) && ok.value(2));

    // Restarted, the data is read back from Parquet.
    let server = Server::start(dir.path(), &[]);
    let rows = query(
        &server,
        "pq",
        "SELECT city, temp FROM weather ORDER BY time",
    )
    .await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], json!({"city": "Oslo", "temp": -4.0}));
    // And the WAL was emptied by the snapshot.
    let wal_records: u64 = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(wal_records, 0);
}

#[tokio::test]
async fn cli_admin_commands_and_bulk_import() {
    let dir = temp_dir("cli");
    let server = Server::start(dir.path(), &[]);
    let bin = env!("CARGO_BIN_EXE_linegate");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .args(args)
            .args(["--host", &server.base])
            .env("LINEGATE_TOKEN", ADMIN)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(run(&["create", "database", "imports"]).0, Some(0));
    let (code, stdout, _) = run(&["show", "databases"]);
    assert_eq!((code, stdout.as_str()), (Some(0), "imports\n"));
    let (code, token, _) = run(&[
        "create",
        "token",
        "--database",
        "imports",
        "--permission",
        "write",
    ]);
    assert_eq!(code, Some(0));
    let token = token.trim().to_owned();
    assert!(token.starts_with("apiv3_"));

    // 12 000 lines, gzip, with two bad lines; imported with the scoped token.
    let mut text = String::new();
    for i in 1..=12_000u32 {
        if i == 7 || i == 11_999 {
            text.push_str("imp,host=h value=oops\n");
        } else {
            text.push_str(&format!(
                "imp,host=h{} value={i}i {}\n",
                i % 10,
                1_700_000_000 + i
            ));
        }
    }
    let file = dir.path().join("data.lp.gz");
    std::fs::write(&file, gzip(text.as_bytes())).unwrap();
    let out = std::process::Command::new(bin)
        .args([
            "write",
            "--database",
            "imports",
            "--precision",
            "s",
            "--quiet",
            "--host",
            &server.base,
            "--token",
            &token,
        ])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:7:18: invalid value 'oops'", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains(":11999:18:"), "{stderr}");
    assert_eq!(count(&server, "imports", "imp").await, 11_998);

    assert_eq!(run(&["delete", "database", "imports"]).0, Some(0));
    let (_, stdout, _) = run(&["show", "databases"]);
    assert_eq!(stdout, "");
    let (code, _, stderr) = run(&["create", "database", "bad name"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("400"), "{stderr}");
}

#[tokio::test]
async fn one_database_mapping_for_v1_v2_writes_and_v1_queries() {
    let dir = temp_dir("mapping");
    let server = Server::start(dir.path(), &[]);
    for (path, line) in [
        ("/write?db=MyDb&rp=MyRP&precision=s", "m,via=v1 f=1 1"),
        (
            "/api/v2/write?bucket=MyDb/MyRP&precision=s",
            "m,via=v2 f=2 2",
        ),
    ] {
        let w = post(&server, path, &[BEARER], line).await;
        assert_eq!(w.status, StatusCode::NO_CONTENT, "{path}: {}", w.body);
    }
    let q = urlencode("SELECT * FROM m");
    for rp in ["MyRP", "myrp"] {
        let answer = send(
            &server,
            Method::GET,
            &format!("/query?db=MyDb&rp={rp}&epoch=s&q={q}"),
            &[BEARER],
            "",
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            answer.json()["results"][0]["series"][0]["values"],
            json!([[1, 1, "v1"], [2, 2, "v2"]]),
            "rp={rp}"
        );
    }
    assert_eq!(count(&server, "MyDb/myrp", "m").await, 2);
    server.stop();
}

#[tokio::test]
async fn v1_query_answers_influxql_in_the_1x_shape() {
    let dir = temp_dir("influxql");
    let server = Server::start(dir.path(), &[]);
    let body =
        "home,room=kitchen temp=72,hum=35.5 1641024000\nhome,room=living temp=70.5 1641024060\n";
    let w = post(&server, "/write?db=home&precision=s", &[BEARER], body).await;
    assert_eq!(w.status, StatusCode::NO_CONTENT);

    // The seeds' forms: Basic with an empty user, and `p` in the query string.
    let basic = format!("Basic {}", base64_encode(&format!(":{ADMIN}")));
    let q = urlencode("SELECT * FROM home");
    let answer = send(
        &server,
        Method::GET,
        &format!("/query?db=home&q={q}"),
        &[("Authorization", basic.as_str())],
        "",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"results": [{"statement_id": 0, "series": [{
            "name": "home",
            "columns": ["time", "hum", "room", "temp"],
            "values": [["2022-01-01T08:00:00Z", 35.5, "kitchen", 72], ["2022-01-01T08:01:00Z", null, "living", 70.5]]
        }]}]})
    );
    let q = urlencode("SHOW DATABASES; SELECT mean(temp) FROM home WHERE time > now() - 10000d; SHOW MEASUREMENTS; SHOW FIELD KEYS; DROP DATABASE home");
    let answer = send(
        &server,
        Method::GET,
        &format!("/query?db=home&epoch=s&p={ADMIN}&q={q}"),
        &[],
        "",
    )
    .await;
    let results = &answer.json()["results"];
    assert_eq!(results[0]["series"][0]["values"], json!([["home"]]));
    assert_eq!(results[1]["series"][0]["columns"], json!(["time", "mean"]));
    assert_eq!(results[1]["series"][0]["values"][0][1], json!(71.25));
    assert_eq!(results[2]["series"][0]["values"], json!([["home"]]));
    assert_eq!(
        results[3]["series"][0]["values"],
        json!([["hum", "float"], ["temp", "float"]])
    );
    assert_eq!(
        results[4],
        json!({"statement_id": 4}),
        "DROP DATABASE answers nothing"
    );
    let q = urlencode("SHOW DATABASES");
    let after = send(
        &server,
        Method::GET,
        &format!("/query?q={q}"),
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(
        after.json()["results"][0]["series"][0],
        json!({"name": "databases", "columns": ["name"]}),
        "{}",
        after.body
    );

    let denied = send(
        &server,
        Method::GET,
        &format!("/query?db=home&q={q}&p=wrong"),
        &[],
        "",
    )
    .await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let missing = send(&server, Method::GET, "/query?db=home", &[BEARER], "").await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn v1_query_binds_params_as_1x() {
    let dir = temp_dir("influxql-params");
    let server = Server::start(dir.path(), &[]);
    let body = "cpu,host=a v=1i 1\ncpu,host=b v=2i 2\ncpu,host=a v=3i 3\n";
    let w = post(&server, "/write?db=d&precision=s", &[BEARER], body).await;
    assert_eq!(w.status, StatusCode::NO_CONTENT);
    let q = urlencode("SELECT v FROM cpu WHERE host = $h AND v > $min");
    let params = urlencode(r#"{"h":"a","min":1}"#);
    // influxdb-python sends `params` in the query string, node-influx in a POST form.
    let get = send(
        &server,
        Method::GET,
        &format!("/query?db=d&epoch=s&q={q}&params={params}"),
        &[BEARER],
        "",
    )
    .await;
    let form = send(
        &server,
        Method::POST,
        "/query?db=d&epoch=s",
        &[
            BEARER,
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("q={q}&params={params}"),
    )
    .await;
    for answer in [get, form] {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            answer.json()["results"][0]["series"][0]["values"],
            json!([[3, 3]])
        );
    }
    let missing = send(
        &server,
        Method::GET,
        &format!("/query?db=d&q={q}&params={}", urlencode(r#"{"h":"a"}"#)),
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json(),
        json!({"error": "error parsing query: missing parameter: min"})
    );
    let broken = send(
        &server,
        Method::GET,
        &format!("/query?db=d&q={q}&params=%7Bnope"),
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(
        broken.body.contains("error parsing query parameters"),
        "{}",
        broken.body
    );
}

#[test]
fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let dir = temp_dir("lock");
    let first = Server::start(dir.path(), &[]);
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_linegate"))
        .args(["serve", "--http-bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--admin-token-file")
        .arg(dir.path().join("test-admin-token"))
        .output()
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("is in use by another linegate server"),
        "{stderr}"
    );
    // The first one is untouched; once it is gone, the directory is free again.
    first.stop();
    let again = Server::start(dir.path(), &[]);
    again.stop();
}

#[tokio::test]
async fn query_sql_streams_every_format_over_many_batches() {
    let dir = temp_dir("formats");
    let server = Server::start(dir.path(), &[]);
    // More rows than one DataFusion batch (8,192), so the answer comes in several.
    let rows = 20_000;
    let body: String = (0..rows)
        .map(|i| {
            format!(
                "m,host=h{} v={i}i {}\n",
                i % 7,
                1_700_000_000_000_000_000i64 + i
            )
        })
        .collect();
    let written = post(&server, "/api/v3/write_lp?db=f", &[BEARER], &body).await;
    assert_eq!(written.status, StatusCode::NO_CONTENT, "{}", written.body);
    let server_ref = &server;
    let get = |format: &'static str| {
        let path = format!(
            "/api/v3/query_sql?db=f&format={format}&q={}",
            urlencode("SELECT host, v FROM m ORDER BY time")
        );
        async move { send(server_ref, Method::GET, &path, &[BEARER], "").await }
    };

    let json = get("json").await;
    assert_eq!(json.status, StatusCode::OK);
    let array = json.json();
    let array = array.as_array().unwrap();
    assert_eq!(array.len(), rows as usize);
    assert_eq!(array[19_999], json!({"host": "h0", "v": 19_999}));

    let lines = get("jsonl").await;
    assert_eq!(lines.headers["content-type"], "application/jsonl");
    let objects: Vec<Value> = lines
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), rows as usize);
    assert_eq!(objects[8_192], json!({"host": "h2", "v": 8_192}));

    let csv = get("csv").await;
    let csv_lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        csv_lines.len(),
        rows as usize + 1,
        "one header, then every row"
    );
    assert_eq!(csv_lines[0], "host,v");
    assert_eq!(csv_lines.iter().filter(|l| **l == "host,v").count(), 1);
    assert_eq!(csv_lines[rows as usize], "h0,19999");

    // No rows: an empty JSON array, an empty body for the others.
    let none = send(
        &server,
        Method::GET,
        &format!(
            "/api/v3/query_sql?db=f&q={}",
            urlencode("SELECT v FROM m WHERE v < 0")
        ),
        &[BEARER],
        "",
    )
    .await;
    assert_eq!(none.body, "[]");
    server.stop();
}

#[tokio::test]
async fn a_scoped_token_reads_only_its_databases_through_influxql() {
    let dir = temp_dir("influxql-scope");
    let server = Server::start(dir.path(), &[]);
    for db in ["a", "b"] {
        let path = format!("/api/v3/write_lp?db={db}");
        let written = post(
            &server,
            &path,
            &[BEARER],
            "cpu,host=h v=1 1700000000000000000",
        )
        .await;
        assert_eq!(written.status, StatusCode::NO_CONTENT);
    }
    let created = post(
        &server,
        "/api/v3/configure/token",
        &[BEARER],
        r#"{"database":"a","permission":"read"}"#,
    )
    .await;
    let token = created.json()["token"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {token}");
    let influxql = |q: &str| {
        let path = format!("/query?db=a&q={}", urlencode(q));
        let auth = auth.clone();
        let server = &server;
        async move { send(server, Method::GET, &path, &[("Authorization", &auth)], "").await }
    };

    let own = influxql("SELECT v FROM cpu").await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("\"values\":[["), "{}", own.body);
    // The other database's name is not listed, and naming it reads nothing of it.
    let listed = influxql("SHOW DATABASES").await;
    assert_eq!(
        listed.json()["results"][0]["series"][0]["values"],
        json!([["a"]])
    );
    for q in [
        "SELECT v FROM b.autogen.cpu",
        "SHOW MEASUREMENTS ON b",
        "SHOW TAG VALUES ON b WITH KEY = host",
        "SHOW RETENTION POLICIES ON b",
        "SELECT * FROM (SELECT v FROM b..cpu)",
    ] {
        let answer = influxql(q).await;
        let error = answer.json()["results"][0]["error"].clone();
        assert_eq!(
            error,
            json!("the token may not read database b"),
            "{q}: {}",
            answer.body
        );
        assert!(!answer.body.contains("\"values\""), "{q}: {}", answer.body);
    }
    // A v1 name mapped to b is b: naming it reads nothing either.
    let mapped = post(
        &server,
        "/api/v3/configure/dbrp",
        &[BEARER],
        r#"{"db":"a","rp":"autogen","target":"b"}"#,
    )
    .await;
    assert!(mapped.status.is_success(), "{}", mapped.body);
    for q in ["SHOW MEASUREMENTS ON a", "SELECT v FROM a.autogen.cpu"] {
        let path = format!("/query?q={}", urlencode(q));
        let answer = send(&server, Method::GET, &path, &[("Authorization", &auth)], "").await;
        let error = answer.json()["results"][0]["error"].clone();
        assert_eq!(
            error,
            json!("the token may not read database b"),
            "{q}: {}",
            answer.body
        );
    }
    server.stop();
}

/// Reads what the server sends until it closes the connection (or 10 s pass).
fn read_until_closed(stream: &mut std::net::TcpStream) -> (String, std::time::Duration) {
    use std::io::Read;
    let started = std::time::Instant::now();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_clients_are_cut_off_and_cannot_hold_the_server_up() {
    use std::io::Write as _;
    let dir = temp_dir("slow");
    let server = Server::start(
        dir.path(),
        &[
            "--idle-timeout-secs",
            "1",
            "--body-timeout-secs",
            "1",
            "--shutdown-timeout-secs",
            "1",
        ],
    );
    let address = ("127.0.0.1", server.port);

    // Headers that never end, and a connection that never sends a request: closed.
    let mut slow_headers = std::net::TcpStream::connect(address).unwrap();
    slow_headers
        .write_all(b"POST /write?db=slow HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let silent = std::net::TcpStream::connect(address).unwrap();
    // Half of HTTP/2's preface, then nothing.
    let mut half_preface = std::net::TcpStream::connect(address).unwrap();
    half_preface.write_all(b"PRI * HTTP/2.0\r\n").unwrap();
    // A keep-alive connection idle after its request.
    let mut idle = std::net::TcpStream::connect(address).unwrap();
    idle.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // A body that stops: 408 in the endpoint's JSON shape, nothing stored.
    let mut slow_body = std::net::TcpStream::connect(address).unwrap();
    slow_body
        .write_all(
            format!(
                "POST /api/v2/write?bucket=slow HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Token {ADMIN}\r\nContent-Length: 100\r\n\r\nm v=1"
            )
            .as_bytes(),
        )
        .unwrap();
    // Meanwhile the server answers others at once.
    let ping = reqwest::get(server.url("/ping")).await.unwrap();
    assert_eq!(ping.status(), StatusCode::NO_CONTENT);

    let (answer, took) = tokio::task::spawn_blocking(move || read_until_closed(&mut slow_body))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(
            r#"{"code":"request timeout","message":"the request body sent nothing for 1 s"}"#
        ),
        "{answer}"
    );
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    for mut stream in [
        slow_headers,
        silent.try_clone().unwrap(),
        idle,
        half_preface,
    ] {
        let (answer, took) = tokio::task::spawn_blocking(move || read_until_closed(&mut stream))
            .await
            .unwrap();
        assert!(
            took < std::time::Duration::from_secs(5),
            "closed after {took:?}: {answer}"
        );
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 204"),
            "{answer}"
        );
    }
    let dbs = send(
        &server,
        Method::GET,
        "/api/v3/configure/database",
        &[BEARER],
        "",
    )
    .await;
    assert!(!dbs.body.contains("slow"), "{}", dbs.body);

    // A client in the middle of a request when SIGTERM comes holds the server up for at
    // most --shutdown-timeout-secs.
    let mut lingering = std::net::TcpStream::connect(address).unwrap();
    lingering
        .write_all(b"POST /write?db=slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        .unwrap();
    drop(silent);
    let started = std::time::Instant::now();
    server.stop();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(lingering);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_drips_is_cut_off() {
    use std::io::Write as _;
    let dir = temp_dir("drip");
    let server = Server::start(dir.path(), &["--body-timeout-secs", "2"]);
    let mut drip = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    drip.write_all(
        format!(
            "POST /write?db=drip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\
             Content-Length: 100\r\n\r\n"
        )
        .as_bytes(),
    )
    .unwrap();
    // One byte every 300 ms: never 2 s without one, but far below 1,000 bytes a second.
    let mut writer = drip.try_clone().unwrap();
    std::thread::spawn(move || {
        for _ in 0..99 {
            std::thread::sleep(std::time::Duration::from_millis(300));
            if writer.write_all(b"m").is_err() {
                return;
            }
        }
    });
    let (answer, took) = tokio::task::spawn_blocking(move || read_until_closed(&mut drip))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_reading_its_answer_is_cut_off() {
    use std::io::Write as _;
    let dir = temp_dir("stops-reading");
    let server = Server::start(dir.path(), &["--idle-timeout-secs", "1"]);
    // 40 MB of JSON lines: more than the socket buffers on both sides hold.
    for part in 0..5 {
        let body: String = (part * 80_000..(part + 1) * 80_000)
            .map(|i| format!("m,host=h{} payload=\"{:060}\" {i}\n", i % 100, i))
            .collect();
        let path = "/api/v3/write_lp?db=big&precision=second";
        let w = post(&server, path, &[BEARER], &body).await;
        assert_eq!(w.status, StatusCode::NO_CONTENT, "{}", w.body);
    }

    let mut reader = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    reader
        .write_all(
            format!(
                "GET /api/v3/query_sql?db=big&format=jsonl&q=SELECT%20*%20FROM%20m HTTP/1.1\r\n\
                 Host: x\r\nAuthorization: Bearer {ADMIN}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    // It reads nothing for a while; the server answers others meanwhile.
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let ping = reqwest::get(server.url("/ping")).await.unwrap();
        assert_eq!(ping.status(), StatusCode::NO_CONTENT);
    }
    let (answer, _) = tokio::task::spawn_blocking(move || read_until_closed(&mut reader))
        .await
        .unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    assert!(
        !answer.ends_with("0\r\n\r\n") && answer.len() < 30_000_000,
        "the whole answer came ({} bytes): the connection was not cut",
        answer.len()
    );
}

#[tokio::test]
async fn over_large_headers_get_431_in_the_endpoint_shape() {
    let dir = temp_dir("headers");
    let server = Server::start(dir.path(), &[]);
    let big = "x".repeat(70_000);
    let v2 = send(
        &server,
        Method::POST,
        "/api/v2/write?bucket=b",
        &[BEARER, ("X-Padding", big.as_str())],
        "m v=1",
    )
    .await;
    assert_eq!(v2.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(v2.json()["code"], "invalid");
    assert!(
        v2.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("request header fields too large: 5 headers, 70"),
        "{}",
        v2.body
    );
    let names: Vec<String> = (0..150).map(|i| format!("x-h{i}")).collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    let v1 = send(&server, Method::POST, "/write?db=b", &many, "m v=1").await;
    assert_eq!(v1.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(
        v1.json()["error"].as_str().unwrap().contains("153 headers"),
        "{}",
        v1.body
    );
    let ok = send(
        &server,
        Method::GET,
        "/ping",
        &[("X-Padding", &big[..1000])],
        "",
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_table_takes_at_most_its_column_limit() {
    let dir = temp_dir("columns");
    let server = Server::start(dir.path(), &["--max-columns-per-table", "3"]);
    let v3 = "/api/v3/write_lp?db=wide&precision=second";
    let ok = post(&server, v3, &[BEARER], "m,t=a f=1,g=2 1").await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    // A fourth column is refused by line; the line's siblings and the old columns still go in.
    let answer = post(
        &server,
        v3,
        &[BEARER],
        "m,t=b f=3 2\nm,t=c h=4 3\nm,t=d g=5 4",
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.json()["data"],
        json!([{
            "error_message": "too many columns: table 'm' may have at most 3 tags and fields",
            "line_number": 2,
            "original_line": "m,t=c h=4 3",
            "column": 1,
        }])
    );
    // A hostile line of 100,000 tags is one rejected line, and the table stays as it was.
    let mut wide = String::from("m");
    for i in 0..100_000 {
        wide.push_str(&format!(",k{i}=v"));
    }
    wide.push_str(" f=1 5");
    let answer = post(&server, "/write?db=wide&precision=s", &[BEARER], &wide).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("too many columns"), "{}", answer.body);
    let rows = query(&server, "wide", "SELECT * FROM m ORDER BY time").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].as_object().unwrap().len(),
        4,
        "t, f, g and time: {rows:?}"
    );
    server.stop();
}

/// `curl` with `args`, its output (status line and body with `-i`).
fn curl(args: &[&str]) -> String {
    let output = std::process::Command::new("curl")
        .args(["-s", "-S", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn https_with_a_self_signed_certificate() {
    let dir = temp_dir("tls");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let server = Server::start(
        &dir.path().join("data"),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let base = format!("https://localhost:{}", server.port);
    let resolve = format!("localhost:{}:127.0.0.1", server.port);
    let cacert = cert.to_str().unwrap();
    let bearer = format!("Authorization: Bearer {ADMIN}");

    // curl trusting the certificate, `localhost` resolved to 127.0.0.1.
    let trusting = |args: &[&str]| {
        let mut all = vec!["--cacert", cacert, "--resolve", resolve.as_str()];
        all.extend_from_slice(args);
        curl(&all)
    };
    let ping = trusting(&["-i", &format!("{base}/ping")]);
    assert!(ping.starts_with("HTTP/2 204"), "{ping}");
    let write = trusting(&[
        "-i",
        "-H",
        &bearer,
        "--data-binary",
        "home,room=attic temp=21.5 1700000000",
        &format!("{base}/api/v2/write?bucket=tls&precision=s"),
    ]);
    assert!(write.starts_with("HTTP/2 204"), "{write}");
    let read = trusting(&[
        "--http1.1",
        "-H",
        &bearer,
        &format!("{base}/api/v3/query_sql?db=tls&q=SELECT%20room,temp%20FROM%20home"),
    ]);
    assert_eq!(read, r#"[{"room":"attic","temp":21.5}]"#);
    // Without the certificate, and in plain HTTP, nothing is answered.
    let untrusted = curl(&["--resolve", &resolve, &format!("{base}/ping")]);
    assert!(untrusted.contains("certificate"), "{untrusted}");
    let plain = curl(&["-i", &format!("http://127.0.0.1:{}/ping", server.port)]);
    assert!(!plain.contains("204"), "{plain}");
    server.stop();
}
