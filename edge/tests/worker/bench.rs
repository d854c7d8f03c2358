//! The edge's CPU work for one 5 000-line batch, in whatever build runs it: gzip body
//! decode, validation, canonical re-encoding and gzip for the upstream (`map::prepare`).
//! Not a timed test: ignored by default, run by `scripts/bench-worker.sh` with
//! `--release ... -- --include-ignored edge_cpu` (natively and as wasm under Node).

use linegate::{RequestParts, WriteRequest, DEFAULT_MAX_BODY};
use linegate_edge::map;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// `n` Telegraf-like lines (cpu, mem, disk, net; tags sorted and nanoseconds, as Telegraf
/// writes them), the same on every run.
pub fn telegraf_batch(n: usize) -> String {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let mut out = String::with_capacity(n * 200);
    for i in 0..n {
        let host = next(100);
        let dc = ["us-west-1", "us-west-2", "eu-central-1"][next(3) as usize];
        let time = 1_700_000_000_000_000_000u64 + i as u64 * 10_000_000;
        let line = match i % 4 {
            0 => format!(
                "cpu,cpu=cpu{},dc={dc},host=server{host} usage_user={}.{},usage_system={}.{},usage_idle={}.{},usage_nice=0,usage_iowait=0.{},usage_irq=0,usage_softirq=0.{},usage_steal=0,usage_guest=0,usage_guest_nice=0 {time}",
                next(16), next(100), next(1_000_000_000_000), next(20), next(1000), next(900), next(10_000_000_000_000), next(99), next(99)
            ),
            1 => format!(
                "mem,dc={dc},host=server{host} total=17179869184i,available={}i,used={}i,free={}i,used_percent={}.{},cached={}i,buffered={}i {time}",
                next(1 << 34), next(1 << 34), next(1 << 32), next(100), next(1_000_000), next(1 << 32), next(1 << 28)
            ),
            2 => format!(
                "disk,dc={dc},device=nvme0n1p{},fstype=ext4,host=server{host},mode=rw,path=/data{} total=1000204886016i,free={}i,used={}i,used_percent={}.{},inodes_total=61054976i,inodes_free={}i,inodes_used={}i {time}",
                next(4), next(4), next(1 << 39), next(1 << 39), next(100), next(10_000), next(61_054_976), next(1_000_000)
            ),
            _ => format!(
                "net,dc={dc},host=server{host},interface=eth{} bytes_sent={}i,bytes_recv={}i,packets_sent={}i,packets_recv={}i,err_in=0i,err_out=0i,drop_in={}i,drop_out=0i {time}",
                next(2), next(1 << 40), next(1 << 40), next(1 << 30), next(1 << 30), next(100)
            ),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1000.0
    }
}

fn report(text: &str) {
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::console_log!("{}", text);
    #[cfg(not(target_arch = "wasm32"))]
    println!("{text}");
}

/// Milliseconds per batch: the best of 5 rounds of `runs` batches.
fn time_per_batch(runs: usize, mut f: impl FnMut() -> usize) -> f64 {
    let mut best = f64::MAX;
    let mut sink = 0;
    for _ in 0..5 {
        let started = now_ms();
        for _ in 0..runs {
            sink += f();
        }
        best = best.min((now_ms() - started) / runs as f64);
    }
    assert!(sink > 0);
    best
}

#[test]
#[ignore = "benchmark: scripts/bench-worker.sh"]
fn edge_cpu_for_a_5000_line_batch() {
    let text = telegraf_batch(5000);
    let gz = linegate::body::gzip(text.as_bytes(), 6);
    let target = if cfg!(target_arch = "wasm32") {
        "wasm"
    } else {
        "native"
    };
    for (label, body, encoding) in [
        ("plain", text.as_bytes(), None),
        ("gzip", &gz[..], Some(&b"gzip"[..])),
    ] {
        let parts = RequestParts {
            method: "POST",
            path: "/api/v2/write",
            query: Some("bucket=bench&precision=ns"),
            authorization: Some(b"Token t"),
            content_encoding: encoding,
        };
        let request = WriteRequest::parse(&parts).unwrap();
        let ms = time_per_batch(40, || {
            let mut decoder = request.body_decoder(DEFAULT_MAX_BODY);
            decoder.push(body).unwrap();
            let body = decoder.finish().unwrap();
            let prepared = map::prepare(&request, &body, 0, 1, encoding.map(|_| &gz[..])).unwrap();
            assert_eq!(prepared.line_numbers.len(), 5000);
            prepared.payload.len()
        });
        let decode_ms = time_per_batch(40, || {
            let mut decoder = request.body_decoder(DEFAULT_MAX_BODY);
            decoder.push(body).unwrap();
            decoder.finish().unwrap().len()
        });
        let validate_ms = time_per_batch(40, || {
            let mut decoder = request.body_decoder(DEFAULT_MAX_BODY);
            decoder.push(body).unwrap();
            let body = decoder.finish().unwrap();
            request.validate(&body, 0).unwrap().batch.len()
        });
        let decoded = {
            let mut decoder = request.body_decoder(DEFAULT_MAX_BODY);
            decoder.push(body).unwrap();
            decoder.finish().unwrap()
        };
        let accepted = request.validate(&decoded, 0).unwrap();
        let canonical_ms = time_per_batch(40, || accepted.batch.to_line_protocol().len());
        let canonical = accepted.batch.to_line_protocol();
        let gzip_ms = time_per_batch(40, || linegate::body::gzip(canonical.as_bytes(), 1).len());
        report(&format!(
            "edge cpu ({target}, {label} body of {} bytes, 5000 lines): decode {decode_ms:.2} ms; decode+validate {validate_ms:.2} ms; decode+validate+canonical+gzip {ms:.2} ms per batch (canonical {canonical_ms:.2} ms, gzip level 1 {gzip_ms:.2} ms)",
            body.len()
        ));
    }
}

/// Writes the benchmark batch to `$BENCH_BATCH_OUT`, so that the latency benchmark through
/// `wrangler dev` (tests/worker/bench-edge.mjs) sends the same lines.
#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore = "used by scripts/bench-worker.sh"]
fn dump_bench_batch() {
    let path = std::env::var("BENCH_BATCH_OUT").expect("BENCH_BATCH_OUT");
    std::fs::write(path, telegraf_batch(5000)).unwrap();
}
