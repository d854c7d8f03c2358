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
