//! Queries read and nothing else, whatever the token: every statement that would change
//! something or touch a file is refused with a 4xx over `/api/v3/query_sql` and `/query`,
//! and the file system shows that nothing was created, changed or read.

mod common;

use std::path::Path;

use common::{temp_dir, Server, ADMIN};
use reqwest::{Client, StatusCode};
use serde_json::Value;

const SECRET: &str = "TOP-SECRET-MARKER-5f1c";

struct Answer {
    status: StatusCode,
    body: String,
}

async fn answer(request: reqwest::RequestBuilder, token: &str) -> Answer {
    let response = request.bearer_auth(token).send().await.unwrap();
    Answer {
        status: response.status(),
        body: response.text().await.unwrap(),
    }
}

async fn get(server: &Server, path: &str, token: &str, params: &[(&str, &str)]) -> Answer {
    answer(Client::new().get(server.url(path)).query(params), token).await
}

async fn post_form(server: &Server, path: &str, token: &str, params: &[(&str, &str)]) -> Answer {
    answer(Client::new().post(server.url(path)).form(params), token).await
}

async fn write(server: &Server, db: &str, lines: &str) {
    let response = Client::new()
        .post(server.url(&format!("/api/v3/write_lp?db={db}")))
        .bearer_auth(ADMIN)
        .body(lines.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn token(server: &Server, database: &str, permission: &str) -> String {
    let response = Client::new()
        .post(server.url("/api/v3/configure/token"))
        .bearer_auth(ADMIN)
        .body(format!(
            r#"{{"database":"{database}","permission":"{permission}"}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// The names and contents of the files directly in `dir`.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn queries_never_write_or_touch_files_with_any_token() {
    let data = temp_dir("readonly-data");
    let outside = temp_dir("readonly-files");
    let existing = outside.path().join("existing.csv");
    let secret = outside.path().join("secret.csv");
    let created = outside.path().join("created.csv");
    std::fs::write(&existing, "original\n").unwrap();
    std::fs::write(&secret, format!("value\n{SECRET}\n")).unwrap();
    let before = listing(outside.path());

    let server = Server::start(data.path(), &[]);
    write(&server, "b", "cpu,host=h1 usage=1.5 1700000000000000000\n").await;
    write(
        &server,
        "a",
        "secret_table,k=v msg=\"TOP\" 1700000000000000000\n",
    )
    .await;
    let read = token(&server, "b", "read").await;
    let write_only = token(&server, "b", "write").await;

    let (existing, secret, created) = (
        existing.display().to_string(),
        secret.display().to_string(),
        created.display().to_string(),
    );
    // (statement, what the refusal names; None where it is refused for another reason)
    let statements: Vec<(String, Option<&str>)> = vec![
        (
            format!("COPY (SELECT 'x' AS x) TO '{created}' STORED AS CSV"),
            Some("COPY"),
        ),
        (
            format!("COPY (SELECT 'x' AS x) TO '{existing}' STORED AS CSV"),
            Some("COPY"),
        ),
        (
            format!("COPY cpu TO '{created}' STORED AS PARQUET"),
            Some("COPY"),
        ),
        (
            format!("EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{created}' STORED AS CSV"),
            Some("COPY"),
        ),
        (
            format!("CREATE EXTERNAL TABLE leak STORED AS CSV LOCATION '{secret}'"),
            Some("CREATE EXTERNAL TABLE"),
        ),
        (
            "CREATE TABLE copy AS SELECT * FROM cpu".into(),
            Some("CREATE TABLE"),
        ),
        (
            "CREATE VIEW v AS SELECT * FROM cpu".into(),
            Some("CREATE VIEW"),
        ),
        (
            "INSERT INTO cpu (host, usage, time) VALUES ('h2', 9.0, 0)".into(),
            Some("INSERT"),
        ),
        ("DELETE FROM cpu".into(), Some("DELETE")),
        ("UPDATE cpu SET usage = 0".into(), Some("UPDATE")),
        ("DROP TABLE cpu".into(), Some("DROP TABLE")),
        (
            "SET datafusion.execution.batch_size = 1".into(),
            Some("SET"),
        ),
        ("SELECT * INTO copy FROM cpu".into(), Some("SELECT INTO")),
        (
            "SELECT 1 AS x UNION ALL SELECT 2 INTO copy".into(),
            Some("SELECT INTO"),
        ),
        // One statement per query: a second one is not run, read-only or not.
        ("SELECT 1; DROP TABLE cpu".into(), None),
        ("SELECT 1 AS x; SELECT 2 AS y".into(), None),
        // Another database's table, and files named as tables: not found, not read.
        ("SELECT * FROM secret_table".into(), None),
        ("SELECT * FROM a.public.secret_table".into(), None),
        (format!("SELECT * FROM '{secret}'"), None),
        (format!("SELECT * FROM \"{secret}\""), None),
    ];

    for (who, token) in [
        ("read", &read),
        ("write", &write_only),
        ("admin", &ADMIN.into()),
    ] {
        for (sql, refusal) in &statements {
            for answer in [
                get(
                    &server,
                    "/api/v3/query_sql",
                    token,
                    &[("db", "b"), ("q", sql)],
                )
                .await,
                post_form(
                    &server,
                    "/api/v3/query_sql",
                    token,
                    &[("db", "b"), ("q", sql)],
                )
                .await,
            ] {
                assert!(
                    answer.status.is_client_error(),
                    "{who}: {sql}: {} {}",
                    answer.status,
                    answer.body
                );
                assert!(
                    !answer.body.contains(SECRET),
                    "{who}: {sql}: {}",
                    answer.body
                );
                assert!(
                    !answer.body.contains("TOP"),
                    "{who}: {sql}: {}",
                    answer.body
                );
                let body: Value = serde_json::from_str(&answer.body)
                    .unwrap_or_else(|e| panic!("{who}: {sql}: not JSON ({e}): {}", answer.body));
                let message = body["error"].as_str().unwrap_or_default();
                if who == "write" {
                    // A write-only token cannot read at all.
                    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{sql}: {message}");
                } else if let Some(what) = refusal {
                    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{sql}: {message}");
                    assert_eq!(
                        message,
                        format!("only read-only queries are allowed: {what}"),
                        "{who}: {sql}"
                    );
                }
            }
        }
    }

    // `SELECT … INTO` over v1 `/query` is refused as a whole, before any statement runs.
    for q in [
        "SELECT * INTO copy FROM cpu",
        "SELECT usage INTO \"b\".\"autogen\".\"copy\" FROM cpu",
        "SELECT * FROM cpu; SELECT * INTO copy FROM cpu",
    ] {
        for token in [&read, &ADMIN.to_owned()] {
            for answer in [
                get(&server, "/query", token, &[("db", "b"), ("q", q)]).await,
                post_form(&server, "/query", token, &[("db", "b"), ("q", q)]).await,
            ] {
                assert_eq!(
                    answer.status,
                    StatusCode::BAD_REQUEST,
                    "{q}: {}",
                    answer.body
                );
                let body: Value = serde_json::from_str(&answer.body).unwrap();
                assert_eq!(
                    body["error"], "only read-only queries are allowed: SELECT INTO",
                    "{q}"
                );
            }
        }
    }

    // Nothing outside the data directory was created, changed or read into an answer.
    assert_eq!(listing(outside.path()), before);
    assert!(!Path::new(&created).exists());

    // Nothing inside changed either: the table is whole, and no table was added.
    let rows = get(
        &server,
        "/api/v3/query_sql",
        &read,
        &[("db", "b"), ("q", "SELECT host, usage FROM cpu")],
    )
    .await;
    assert_eq!(rows.status, StatusCode::OK, "{}", rows.body);
    assert_eq!(rows.body, r#"[{"host":"h1","usage":1.5}]"#);
    let tables = get(
        &server,
        "/api/v3/query_sql",
        &read,
        &[
            ("db", "b"),
            (
                "q",
                "SELECT table_name FROM information_schema.tables \
                 WHERE table_schema = 'iox' ORDER BY table_name",
            ),
        ],
    )
    .await;
    assert_eq!(tables.status, StatusCode::OK, "{}", tables.body);
    assert_eq!(tables.body, r#"[{"table_name":"cpu"}]"#);
    let show = get(
        &server,
        "/api/v3/query_sql",
        &read,
        &[("db", "b"), ("q", "SHOW TABLES")],
    )
    .await;
    assert_eq!(show.status, StatusCode::OK, "{}", show.body);
    assert!(!show.body.contains("secret_table"), "{}", show.body);

    // The read-only rules do not get in the way of reading.
    let explain = get(
        &server,
        "/api/v3/query_sql",
        &read,
        &[("db", "b"), ("q", "EXPLAIN SELECT count(*) FROM cpu")],
    )
    .await;
    assert_eq!(explain.status, StatusCode::OK, "{}", explain.body);
    server.stop();
}
