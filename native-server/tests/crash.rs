//! Crash safety: SIGKILL the server while clients write, restart it, and check that every
//! batch that got a 204 is stored exactly once and no batch is stored in part.
//!
//! Writers also send earlier batches again with one more field, as a client retrying after a
//! timeout does: the points stay one each (last write wins), and a repeat that got a 204
//! carries the new field on every point. The points are of a day long over, so every
//! persist is followed by a compaction of that day: the kills land in persists, compactions
//! and replays alike.
//!
//! `CRASH_KILLS` sets the number of kill/restart rounds (default 3; `scripts/crash-loop.sh`
//! runs 20 or more against the release binary).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{temp_dir, Server};

const LINES_PER_BATCH: u64 = 500;
const WRITERS: usize = 4;

/// The points of `batch`; `again` adds a field, as a repeated write.
fn batch_body(batch: u64, again: bool) -> String {
    let mut body = String::with_capacity(64 * LINES_PER_BATCH as usize);
    let extra = if again { ",again=true" } else { "" };
    for i in 0..LINES_PER_BATCH {
        body.push_str(&format!(
            "crash,batch={batch},host=h{} value={i}i,payload=\"{}\"{extra} {}\n",
            i % 5,
            "x".repeat(40),
            1_700_000_000_000_000_000u64 + batch * 1_000_000 + i
        ));
    }
    body
}

/// Per batch: its points, and how many carry the field of the repeated write.
type Stored = BTreeMap<u64, (u64, u64)>;

async fn stored_batches(server: &Server) -> Stored {
    let sql = "SELECT batch, count(*) AS n, count(again) AS again FROM crash GROUP BY batch";
    let url = server.url(&format!(
        "/api/v3/query_sql?db=crash&q={}",
        url::form_urlencoded::byte_serialize(sql.as_bytes()).collect::<String>()
    ));
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(common::ADMIN)
        .send()
        .await
        .unwrap();
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return BTreeMap::new(); // nothing acknowledged yet
    }
    assert!(response.status().is_success());
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&response.text().await.unwrap()).unwrap();
    rows.iter()
        .map(|r| {
            (
                r["batch"].as_str().unwrap().parse().unwrap(),
                (r["n"].as_u64().unwrap(), r["again"].as_u64().unwrap()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_batch_survives_sigkill() {
    let kills: usize = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(3);
    let dir = temp_dir("crash");
    // Small buffers so snapshots (Parquet + WAL deletion) happen while the kills land.
    let flags = ["--persist-buffer-mib", "1", "--persist-interval-secs", "1"];
    let next_batch = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let repeated = Arc::new(Mutex::new(BTreeSet::new()));
    for round in 0..kills {
        let acked_before = acknowledged.lock().unwrap().len();
        let server = Server::start(dir.path(), &flags);
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for _ in 0..WRITERS {
            let (url, stop, next_batch, acknowledged, repeated) = (
                server.url("/api/v3/write_lp?db=crash&precision=ns"),
                stop.clone(),
                next_batch.clone(),
                acknowledged.clone(),
                repeated.clone(),
            );
            writers.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let fresh = next_batch.fetch_add(1, Ordering::Relaxed);
                    // Every fourth write repeats an earlier batch, acknowledged or not.
                    let (batch, again) = match fresh % 4 {
                        3 => (fresh / 2, true),
                        _ => (fresh, false),
                    };
                    let sent = client
                        .post(&url)
                        .bearer_auth(common::ADMIN)
                        .body(batch_body(batch, again))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == reqwest::StatusCode::NO_CONTENT => {
                            acknowledged.lock().unwrap().insert(batch);
                            if again {
                                repeated.lock().unwrap().insert(batch);
                            }
                        }
                        Ok(r) if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Ok(r) => panic!("unexpected {}", r.status()),
                        Err(_) => break, // the server is gone
                    }
                }
            }));
        }
        // Let the writers run until this round has an acknowledged batch (a loaded machine
        // can take a while to start the server), then a varying while; then kill without
        // warning.
        let waited = std::time::Instant::now();
        while acknowledged.lock().unwrap().len() == acked_before {
            assert!(
                waited.elapsed() < Duration::from_secs(60),
                "round {round}: no write was acknowledged within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(400 + 137 * (round as u64 % 7))).await;
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.unwrap();
        }

        let server = Server::start(dir.path(), &flags);
        let stored = stored_batches(&server).await;
        let acked = acknowledged.lock().unwrap().clone();
        for batch in &acked {
            assert_eq!(
                stored.get(batch).map(|s| s.0),
                Some(LINES_PER_BATCH),
                "round {round}: acknowledged batch {batch} is missing or incomplete"
            );
        }
        for batch in repeated.lock().unwrap().iter() {
            assert_eq!(
                stored[batch].1, LINES_PER_BATCH,
                "round {round}: the acknowledged repeat of batch {batch} is not on every point"
            );
        }
        for (batch, (rows, again)) in &stored {
            assert_eq!(
                *rows, LINES_PER_BATCH,
                "round {round}: batch {batch} stored in part or twice"
            );
            assert!(
                *again == 0 || *again == LINES_PER_BATCH,
                "round {round}: the repeat of batch {batch} is on {again} points"
            );
        }
        eprintln!(
            "round {round}: {} batches acknowledged, {} stored",
            acked.len(),
            stored.len()
        );
        server.kill();
    }
}
