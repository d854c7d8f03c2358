//! InfluxDB's data model over the real server: a point written again is one point (the later
//! write wins field by field), in one request, across requests, persists, restarts, crashes
//! and compactions.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{parquet_files, temp_dir, Server, ADMIN};
use serde_json::{json, Value};

/// 2020-01-01T00:00:00Z in seconds: a day long over, so its files are merged into one.
const T: i64 = 1_577_836_800;

async fn write(server: &Server, db: &str, body: &str) {
    let response = reqwest::Client::new()
        .post(server.url(&format!("/api/v3/write_lp?db={db}&precision=second")))
        .bearer_auth(ADMIN)
        .body(body.replace('T', &T.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
}

/// The body of an answer, as text.
async fn text(
    request: impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
) -> String {
    request.await.unwrap().text().await.unwrap()
}

async fn rows(server: &Server, db: &str, sql: &str) -> Value {
    let response = reqwest::Client::new()
        .get(server.url("/api/v3/query_sql"))
        .query(&[("db", db), ("q", sql)])
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{sql}");
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

/// The points of table `m` without their (equal) time, by host then region.
async fn points(server: &Server) -> Value {
    let Value::Array(mut points) = rows(server, "lww", "SELECT * FROM m").await else {
        panic!("not an array");
    };
    for point in &mut points {
        assert_eq!(point["time"], "2020-01-01T00:00:00");
        point.as_object_mut().unwrap().remove("time");
    }
    let key = |p: &Value| {
        let tag = |k: &str| p[k].as_str().unwrap_or("").to_owned();
        (tag("host"), tag("region"))
    };
    points.sort_by_key(key);
    Value::Array(points)
}

/// Waits until the store's Parquet files are `wanted` of them; the files.
fn wait_for_files(server: &Server, wanted: impl Fn(&[PathBuf]) -> bool) -> Vec<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let files = parquet_files(&server.data_dir);
        if wanted(&files) {
            return files;
        }
        assert!(Instant::now() < deadline, "{files:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_point_written_twice_reads_back_once_with_merged_fields() {
    let dir = temp_dir("lww");
    let fast = ["--persist-interval-secs", "1", "--compact-after-secs", "1"];
    let server = Server::start(dir.path(), &fast);

    // One request repeats a point: one row, both fields.
    write(
        &server,
        "lww",
        "m,host=a f=1,g=1 T\nm,host=b f=1 T\nm,host=b g=2 T",
    )
    .await;
    let expected = json!([
        {"host": "a", "f": 1.0, "g": 1.0},
        {"host": "b", "f": 1.0, "g": 2.0},
    ]);
    assert_eq!(points(&server).await, expected);

    // A second request replaces f and keeps g.
    write(&server, "lww", "m,host=a f=2 T").await;
    let expected = json!([
        {"host": "a", "f": 2.0, "g": 1.0},
        {"host": "b", "f": 1.0, "g": 2.0},
    ]);
    assert_eq!(points(&server).await, expected);

    // Persisted, then written again: the buffer and the file hold the same point.
    let first = wait_for_files(&server, |f| f.len() == 1);
    assert_eq!(points(&server).await, expected);
    write(&server, "lww", "m,host=a h=3i T\nm,region=x,host=c f=1 T").await;
    let expected = json!([
        {"host": "a", "f": 2.0, "g": 1.0, "h": 3},
        {"host": "b", "f": 1.0, "g": 2.0},
        {"host": "c", "region": "x", "f": 1.0},
    ]);
    assert_eq!(points(&server).await, expected);

    // The second persist leaves two files of a day long over; compaction makes them one.
    let merged = wait_for_files(&server, |f| f.len() == 1 && f != first);
    assert_eq!(points(&server).await, expected);

    // Tags in another order are the same series; a tag added later makes a new one.
    write(
        &server,
        "lww",
        "m,host=c,region=x f=5 T\nm,host=a,region=y f=9 T",
    )
    .await;
    // A crash: the last write is only in the WAL.
    server.kill();
    let server = Server::start(dir.path(), &fast);
    let expected = json!([
        {"host": "a", "f": 2.0, "g": 1.0, "h": 3},
        {"host": "a", "region": "y", "f": 9.0},
        {"host": "b", "f": 1.0, "g": 2.0},
        {"host": "c", "region": "x", "f": 5.0},
    ]);
    assert_eq!(points(&server).await, expected);
    let count = rows(&server, "lww", "SELECT count(*) AS n FROM m").await;
    assert_eq!(count, json!([{"n": 4}]));

    // After the persist and the compaction, still four points, in one file.
    wait_for_files(&server, |f| f.len() == 1 && f != merged);
    assert_eq!(points(&server).await, expected);
    server.stop();
    let server = Server::start(dir.path(), &fast);
    assert_eq!(points(&server).await, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_skip_the_files_outside_their_time_range() {
    let dir = temp_dir("prune");
    let server = Server::start(dir.path(), &["--persist-interval-secs", "1"]);
    // Two days, each persisted into its own file.
    write(&server, "lww", "m,host=a f=1 T").await;
    let day = 86_400;
    let body = format!("m,host=a f=2 {}", T + day);
    let response = reqwest::Client::new()
        .post(server.url("/api/v3/write_lp?db=lww&precision=second"))
        .bearer_auth(ADMIN)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    wait_for_files(&server, |f| f.len() == 2);
    // The first day's file is gone from disk: a query of the second day never opens it,
    // while a query of both days fails on it.
    let files = parquet_files(&server.data_dir);
    let first = files
        .iter()
        .find(|p| p.to_string_lossy().contains("2020-01-01"))
        .unwrap();
    std::fs::remove_file(first).unwrap();
    let second_day = format!(
        "SELECT f FROM m WHERE time >= to_timestamp({}) AND time < to_timestamp({})",
        T + day,
        T + 2 * day
    );
    assert_eq!(rows(&server, "lww", &second_day).await, json!([{"f": 2.0}]));
    let response = reqwest::Client::new()
        .get(server.url("/api/v3/query_sql"))
        .query(&[("db", "lww"), ("q", "SELECT f FROM m")])
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_refuses_old_points_then_hides_and_deletes_expired_ones() {
    let dir = temp_dir("retention");
    let server = Server::start(dir.path(), &["--persist-interval-secs", "1"]);
    let client = reqwest::Client::new();
    let create = |body: Value| {
        client
            .post(server.url("/api/v3/configure/database"))
            .bearer_auth(ADMIN)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let bad = create(json!({"db": "ret", "retention_period": "3 parsecs"}))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let created = create(json!({"db": "ret", "retention_period": "4s"}))
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    let listed = text(
        client
            .get(server.url("/api/v3/configure/database"))
            .bearer_auth(ADMIN)
            .send(),
    )
    .await;
    assert!(listed.contains(r#""retention_period":"4s""#), "{listed}");

    // A point of 2020 is refused by line; the current one is stored.
    let response = client
        .post(server.url("/api/v3/write_lp?db=ret&precision=second"))
        .bearer_auth(ADMIN)
        .body(format!("m,host=a f=1 {T}\nm,host=a f=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["data"][0]["line_number"], 1, "{body}");
    let message = body["data"][0]["error_message"].as_str().unwrap();
    assert!(message.contains("beyond retention policy"), "{message}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    // The same over v1, where the whole body is beyond retention.
    let response = client
        .post(server.url(&format!("/write?db=ret&p={ADMIN}&precision=s")))
        .body(format!("m,host=b f=1 {T}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("beyond retention policy"));
    assert_eq!(
        rows(&server, "ret", "SELECT count(*) AS n FROM m").await,
        json!([{"n": 1}])
    );

    // Persisted, then expired: hidden from queries at once, and the file is deleted.
    wait_for_files(&server, |f| f.len() == 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while rows(&server, "ret", "SELECT count(*) AS n FROM m").await != json!([{"n": 0}]) {
        assert!(Instant::now() < deadline, "the point never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_for_files(&server, |f| f.is_empty());
    assert_eq!(
        rows(&server, "ret", "SELECT count(*) AS n FROM m").await,
        json!([{"n": 0}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_table_is_gone_with_its_files_and_stays_gone_after_a_crash() {
    let dir = temp_dir("drop");
    let fast = ["--persist-interval-secs", "1"];
    let server = Server::start(dir.path(), &fast);
    write(&server, "lww", "m,host=a f=1 T\nn,host=a f=1 T").await;
    wait_for_files(&server, |f| f.len() == 2);
    // More rows of m, only in the buffer and the WAL.
    write(&server, "lww", "m,host=b f=2 T").await;
    let drop = |table: &str| {
        reqwest::Client::new()
            .delete(server.url(&format!("/api/v3/configure/table?db=lww&table={table}")))
            .bearer_auth(ADMIN)
            .send()
    };
    assert_eq!(drop("m").await.unwrap().status(), 200);
    assert_eq!(drop("m").await.unwrap().status(), 404);
    wait_for_files(&server, |f| f.len() == 1);
    let tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'iox'";
    assert_eq!(
        rows(&server, "lww", tables).await,
        json!([{"table_name": "n"}])
    );

    server.kill();
    let server = Server::start(dir.path(), &fast);
    assert_eq!(
        rows(&server, "lww", tables).await,
        json!([{"table_name": "n"}])
    );
    // Written again, m is a new table holding only the new rows.
    write(&server, "lww", "m,host=c f=3 T").await;
    assert_eq!(
        rows(&server, "lww", "SELECT host, f FROM m").await,
        json!([{"host": "c", "f": 3.0}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dbrp_mappings_route_v1_and_v2_writes_and_v1_queries() {
    let dir = temp_dir("dbrp");
    let server = Server::start(dir.path(), &[]);
    let client = reqwest::Client::new();
    let admin = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let request = client.request(method, server.url(path)).bearer_auth(ADMIN);
        match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(body.to_string()),
            None => request,
        }
        .send()
    };
    use reqwest::Method;
    for (db, retention) in [("metrics", None), ("metrics_weekly", Some("7d"))] {
        let body = json!({"db": db, "retention_period": retention});
        let created = admin(Method::POST, "/api/v3/configure/database", Some(body));
        assert_eq!(created.await.unwrap().status(), 200);
    }
    let map = |rp: &str, target: &str| {
        admin(
            Method::POST,
            "/api/v3/configure/dbrp",
            Some(json!({"db": "telegraf", "rp": rp, "target": target})),
        )
    };
    assert_eq!(map("autogen", "metrics").await.unwrap().status(), 200);
    assert_eq!(map("Weekly", "metrics_weekly").await.unwrap().status(), 200);
    assert_eq!(map("x", "nowhere").await.unwrap().status(), 404);
    let listed = text(admin(Method::GET, "/api/v3/configure/dbrp", None)).await;
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    for path in [
        format!("/write?db=telegraf&p={ADMIN}&precision=s"),
        format!("/write?db=telegraf&rp=weekly&p={ADMIN}&precision=s"),
        "/api/v2/write?bucket=telegraf/WEEKLY&precision=s".to_owned(),
    ] {
        let response = client
            .post(server.url(&path))
            .header("Authorization", format!("Token {ADMIN}"))
            .body(format!("m,path={} f=1", path.len()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{path}");
    }
    let count = |db| rows(&server, db, "SELECT count(*) AS n FROM m");
    assert_eq!(count("metrics").await, json!([{"n": 1}]));
    assert_eq!(count("metrics_weekly").await, json!([{"n": 2}]));
    let v1 = text(
        client
            .get(server.url("/query"))
            .query(&[
                ("db", "telegraf"),
                ("p", ADMIN),
                ("q", "SELECT count(f) FROM m"),
            ])
            .send(),
    )
    .await;
    let v1: Value = serde_json::from_str(&v1).unwrap();
    assert_eq!(v1["results"][0]["series"][0]["values"][0][1], 1, "{v1}");
    let policies = text(
        client
            .get(server.url("/query"))
            .query(&[("p", ADMIN), ("q", "SHOW RETENTION POLICIES ON telegraf")])
            .send(),
    )
    .await;
    assert!(
        policies.contains(
            r#"["autogen","0s","168h0m0s",1,true],["weekly","168h0m0s","24h0m0s",1,false]"#
        ),
        "{policies}"
    );
    let removed = admin(
        Method::DELETE,
        "/api/v3/configure/dbrp?db=telegraf&rp=weekly",
        None,
    );
    assert_eq!(removed.await.unwrap().status(), 200);
    let listed = text(admin(Method::GET, "/api/v3/configure/dbrp", None)).await;
    assert!(!listed.contains("weekly"), "{listed}");
}

/// `SELECT last(f) … GROUP BY host` over `/query`, as (host, time in s, value) rows.
async fn lasts(server: &Server, q: &str) -> Vec<(String, i64, f64)> {
    let body = text(
        reqwest::Client::new()
            .get(server.url("/query"))
            .query(&[("db", "last"), ("epoch", "s"), ("q", q)])
            .bearer_auth(ADMIN)
            .send(),
    )
    .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    let mut out = Vec::new();
    for series in body["results"][0]["series"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let host = series["tags"]["host"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for row in series["values"].as_array().unwrap() {
            out.push((
                host.clone(),
                row[0].as_i64().unwrap() - T,
                row[1].as_f64().unwrap(),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn last_of_every_series_stays_exact_across_persists_rewrites_restarts_and_deletes() {
    let dir = temp_dir("last");
    let fast = ["--persist-interval-secs", "1"];
    let server = Server::start(dir.path(), &fast);
    let q = "SELECT last(f) FROM m GROUP BY host";
    let at = |t: i64| (T + t).to_string();
    write(
        &server,
        "last",
        &format!(
            "m,host=a f=1 {}\nm,host=a f=2 {}\nm,host=b f=5 {}\nm,host=b g=1 {}",
            at(0),
            at(10),
            at(5),
            at(20)
        ),
    )
    .await;
    let expected = vec![("a".to_owned(), 10, 2.0), ("b".to_owned(), 5, 5.0)];
    assert_eq!(lasts(&server, q).await, expected, "from the buffer");

    // Persisted; the first query makes the last rows from the file.
    let persisted = wait_for_files(&server, |f| f.len() == 1);
    assert_eq!(lasts(&server, q).await, expected, "from the last rows");

    // A later point, and a rewrite of a's persisted point at the same time: both win.
    write(
        &server,
        "last",
        &format!("m,host=b f=7 {}\nm,host=a f=3 {}", at(30), at(10)),
    )
    .await;
    let expected = vec![("a".to_owned(), 10, 3.0), ("b".to_owned(), 30, 7.0)];
    assert_eq!(lasts(&server, q).await, expected, "last rows and buffer");
    // Persisted again: the last rows take the generation in.
    wait_for_files(&server, |f| {
        f.len() == 2 || (f.len() == 1 && f != persisted)
    });
    assert_eq!(lasts(&server, q).await, expected, "after a persist");

    // A tag filter still reads the last rows; a time filter reads the points.
    let only_b = vec![("b".to_owned(), 30, 7.0)];
    assert_eq!(
        lasts(
            &server,
            "SELECT last(f) FROM m WHERE host = 'b' GROUP BY host"
        )
        .await,
        only_b
    );
    let before = format!(
        "SELECT last(f) FROM m WHERE time < {}s GROUP BY host",
        T + 30
    );
    assert_eq!(
        lasts(&server, &before).await,
        vec![("a".to_owned(), 10, 3.0), ("b".to_owned(), 5, 5.0)]
    );

    // A delete forgets the last rows: b's previous point is its last again.
    let delete = format!("DELETE FROM m WHERE host = 'b' AND time >= {}s", T + 30);
    let answer = text(
        reqwest::Client::new()
            .post(server.url("/query"))
            .query(&[("db", "last"), ("q", delete.as_str())])
            .bearer_auth(ADMIN)
            .send(),
    )
    .await;
    assert_eq!(answer, r#"{"results":[{"statement_id":0}]}"#);
    let expected = vec![("a".to_owned(), 10, 3.0), ("b".to_owned(), 5, 5.0)];
    assert_eq!(lasts(&server, q).await, expected, "after a delete");

    // And across a restart, made again from the files.
    server.stop();
    let server = Server::start(dir.path(), &["--persist-interval-secs", "3600"]);
    assert_eq!(lasts(&server, q).await, expected, "after a restart");

    // Big requests seal buffer batches, whose last rows a query keeps for the next: what
    // was sealed since is taken in, a rewritten point included.
    let big = |from: i64, extra: &str| {
        let mut body: String = (from..from + 5000)
            .map(|t| format!("m,host=c f={t} {}\n", at(100 + t)))
            .collect();
        body.push_str(extra);
        body
    };
    write(&server, "last", &big(0, "")).await;
    let mut expected = expected;
    expected.push(("c".to_owned(), 100 + 4999, 4999.0));
    assert_eq!(lasts(&server, q).await, expected, "one sealed batch");
    write(
        &server,
        "last",
        &big(5000, &format!("m,host=a f=4 {}", at(10))),
    )
    .await;
    expected[0] = ("a".to_owned(), 10, 4.0);
    expected[2] = ("c".to_owned(), 100 + 9999, 9999.0);
    assert_eq!(lasts(&server, q).await, expected, "a batch sealed since");
    assert_eq!(lasts(&server, q).await, expected, "nothing new");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delete_reads_files_written_before_the_table_grew() {
    let dir = temp_dir("delete-old-schema");
    let fast = ["--persist-interval-secs", "1"];
    let server = Server::start(dir.path(), &fast);
    let at = |t: i64| (T + t).to_string();
    write(&server, "grow", &format!("m,host=a f=1 {}", at(0))).await;
    let first = wait_for_files(&server, |f| f.len() == 1);
    // A tag and a field the first file does not have.
    write(
        &server,
        "grow",
        &format!("m,host=b,dc=x f=2,g=3i {}", at(1)),
    )
    .await;
    wait_for_files(&server, |f| f.len() == 2 || (f.len() == 1 && f != first));
    let delete = "DELETE FROM m WHERE dc = 'x' OR host = 'a'";
    let answer = text(
        reqwest::Client::new()
            .post(server.url("/query"))
            .query(&[("db", "grow"), ("q", delete)])
            .bearer_auth(ADMIN)
            .send(),
    )
    .await;
    assert_eq!(answer, r#"{"results":[{"statement_id":0}]}"#);
    assert_eq!(
        rows(&server, "grow", "SELECT count(*) AS n FROM m").await,
        json!([{"n": 0}])
    );
}

/// The WAL records of a segment file: (start, length of header and payload).
fn wal_records(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut records = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let length = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        records.push((at, 8 + length));
        at += 8 + length;
    }
    records
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_wal_record_loses_only_itself_and_a_torn_tail_is_cut() {
    let dir = temp_dir("wal-damage");
    let server = Server::start(dir.path(), &["--persist-interval-secs", "3600"]);
    for batch in 1..=5 {
        write(
            &server,
            "damage",
            &format!("m,batch={batch} v={batch}i T\n"),
        )
        .await;
    }
    server.kill();

    let wal = dir.path().join("wal");
    let segment = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wal"))
        .expect("a WAL segment");
    let mut bytes = std::fs::read(&segment).unwrap();
    let records = wal_records(&bytes);
    assert_eq!(records.len(), 5, "one record a write");
    // Batch 2's record damaged in the middle of the segment, and half a record at the end,
    // as a crash during an append leaves it.
    let (start, length) = records[1];
    bytes[start + length - 4] ^= 0x20;
    let (start, length) = records[4];
    bytes.extend_from_within(start..start + length / 2);
    std::fs::write(&segment, &bytes).unwrap();

    let server = Server::start(dir.path(), &["--persist-interval-secs", "3600"]);
    assert_eq!(
        rows(&server, "damage", "SELECT batch, v FROM m ORDER BY batch").await,
        json!([
            {"batch": "1", "v": 1},
            {"batch": "3", "v": 3},
            {"batch": "4", "v": 4},
            {"batch": "5", "v": 5}
        ])
    );
    let mut kept = segment.clone().into_os_string();
    kept.push(".corrupt");
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        bytes,
        "the segment as found is kept"
    );
    assert_eq!(
        std::fs::metadata(&segment).unwrap().len() as usize,
        records[4].0 + records[4].1,
        "the torn tail is cut"
    );
    write(&server, "damage", "m,batch=6 v=6i T\n").await;
    server.kill();
    let server = Server::start(dir.path(), &["--persist-interval-secs", "3600"]);
    assert_eq!(
        rows(&server, "damage", "SELECT count(*) AS n FROM m").await,
        json!([{"n": 5}])
    );
}
