//! The InfluxQL corpus: every statement of `tests/influxql/statements.txt`, run on InfluxDB
//! 1.6.7 by `scripts/influxql-corpus.sh` (answers in `corpus.json`), is run on the real
//! server over the same data; every answer must equal InfluxDB's (floats within 1e-9),
//! except the intended differences listed in [`DIFFERENCES`] with their reasons.

mod common;

use std::path::PathBuf;

use common::{temp_dir, Server, ADMIN};
use serde_json::Value;

/// Statements whose answer differs from 1.6.7's on purpose, and why (the README's table):
/// the statement, which of its occurrences in the corpus (1 = the first), the reason.
const DIFFERENCES: &[(&str, usize, &str)] = &[
    (
        "SELECT usage_user FROM cpu WHERE time >= '2026-01-01T01:00:00Z' AND time < '2026-01-01T01:05:00Z'",
        1,
        "points at the same time come in series-key order; 1.x uses the order series were created in",
    ),
    (
        "SELECT abs(delta), ceil(used_percent), floor(used_percent), round(used_percent) FROM mem WHERE host = 'server01' LIMIT 3",
        1,
        "abs() of a negative integer is positive; 1.6.7 returns it unchanged",
    ),
    ("SHOW SERIES CARDINALITY", 1, "cardinality estimates are refused (400, named); SHOW SERIES and count() give exact figures"),
    ("SHOW MEASUREMENT CARDINALITY", 1, "as SHOW SERIES CARDINALITY"),
    ("SHOW TAG KEY CARDINALITY", 1, "as SHOW SERIES CARDINALITY"),
    ("SHOW FIELD KEY CARDINALITY FROM cpu", 1, "as SHOW SERIES CARDINALITY"),
    ("SHOW USERS", 1, "linegate has tokens, not users: refused (400, named)"),
    ("SHOW CONTINUOUS QUERIES", 1, "linegate has no continuous queries: refused (400, named)"),
    (
        "SELECT count(usage_user) FROM cpu; SELECT * FROM cpu GROUP BY time(1m); SELECT count(used) FROM mem",
        1,
        "every statement runs and answers; 1.6.7 stops at the failing one and loses its error",
    ),
    (
        "SELECT count(usage_user) FROM cpu; SELECT * FROM cpu GROUP BY time(1m); SELECT count(used) FROM mem",
        2,
        "as above, chunked",
    ),
    (
        "SELECT * FROM cpu WHERE time > 'not a time'",
        1,
        "the error names the bad time ('invalid time: …') instead of Go types",
    ),
    (
        "SELECT mean(usage_user) FROM cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T01:00:00Z' GROUP BY time(0s)",
        1,
        "a zero GROUP BY time interval is refused; 1.6.7 answers one window",
    ),
    (
        "SELECT mean(message) FROM events",
        1,
        "the error says mean() reads numbers and names the field, instead of an internal iterator type",
    ),
    (
        "SHOW RETENTION POLICIES ON x",
        5,
        "after the default policy is dropped the database's own policy is the default again; \
         1.6.7 leaves no default",
    ),
    (
        "DELETE FROM cpu WHERE usage_user > 50",
        1,
        "the same refusal, naming the field, without 1.x's shard prefix",
    ),
];

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/influxql")
}

async fn load(server: &Server, db: &str, file: &str) {
    let body = std::fs::read(corpus_dir().join(file)).unwrap();
    let response = reqwest::Client::new()
        .post(server.url(&format!("/write?db={db}&precision=ns")))
        .bearer_auth(ADMIN)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(status, 204, "{file}: {}", response.text().await.unwrap());
}

/// JSON equality with floats compared to 1e-9 (relative), as answers computed in another
/// order differ in the last digit.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_statement_answers_as_influxdb_1_6_7() {
    let dir = temp_dir("influxql");
    let server = Server::start(dir.path(), &[]);
    load(&server, "corpus", "dataset.lp").await;
    load(&server, "corpus", "dataset-dups.lp").await;
    load(&server, "other", "dataset-other.lp").await;

    let corpus: Vec<Value> =
        serde_json::from_slice(&std::fs::read(corpus_dir().join("corpus.json")).unwrap()).unwrap();
    let only = std::env::var("INFLUXQL_CASE").ok();
    let client = reqwest::Client::new();
    let mut matched = 0;
    let mut occurrences: std::collections::HashMap<&str, usize> = Default::default();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    for case in &corpus {
        let q = case["q"].as_str().unwrap();
        let occurrence = occurrences.entry(q).or_default();
        *occurrence += 1;
        let occurrence = *occurrence;
        if only.as_deref().is_some_and(|o| !q.contains(o)) {
            continue;
        }
        let mut params: Vec<(String, String)> = case["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        params.push(("q".into(), q.to_owned()));
        let request = match case["method"].as_str() {
            Some("POST") => client.post(server.url("/query")),
            _ => client.get(server.url("/query")),
        };
        let response = request
            .query(&params)
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let answer: Value = if case.get("chunks").is_some() {
            Value::Array(
                text.lines()
                    .map(|l| serde_json::from_str(l).unwrap_or(Value::String(l.into())))
                    .collect(),
            )
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        let expected = case.get("chunks").unwrap_or(&case["body"]);
        let ok = status == case["status"].as_u64().unwrap() as u16 && same(&answer, expected);
        let intended = DIFFERENCES
            .iter()
            .any(|(s, n, _)| *s == q && *n == occurrence);
        match (ok, intended) {
            (true, false) => matched += 1,
            (true, true) => fixed.push(q.to_owned()),
            (false, true) => {}
            (false, false) => unexpected.push(format!(
                "{q}\n  params: {}\n  expected ({}): {}\n  linegate ({status}): {}",
                case["params"], case["status"], expected, answer
            )),
        }
    }
    server.stop();
    eprintln!(
        "{matched} statements answer as InfluxDB 1.6.7; {} intended differences; {} unexpected",
        DIFFERENCES.len(),
        unexpected.len()
    );
    assert!(
        fixed.is_empty(),
        "now answered as InfluxDB does, drop them from DIFFERENCES: {fixed:#?}"
    );
    assert!(
        unexpected.is_empty(),
        "{} answers differ from InfluxDB 1.6.7:\n\n{}",
        unexpected.len(),
        unexpected.join("\n\n")
    );
}
