//! Counters for `/metrics`, in Prometheus' text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the fsync latency histogram buckets.
const FSYNC_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0];

/// Everything the server counts. Cheap to update from any thread.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    write_errors: Mutex<BTreeMap<&'static str, u64>>,
    lines: AtomicU64,
    points: AtomicU64,
    fields: AtomicU64,
    bytes: AtomicU64,
    wal_bytes: AtomicU64,
    fsyncs: AtomicU64,
    fsync_appends: AtomicU64,
    fsync_buckets: [AtomicU64; FSYNC_BUCKETS.len()],
    fsync_nanos: AtomicU64,
    buffer_bytes: AtomicU64,
    buffer_rows: AtomicU64,
    persisted_files: AtomicU64,
    persisted_rows: AtomicU64,
    rejected_busy: AtomicU64,
}

impl Metrics {
    /// Counts a finished HTTP request by route and status.
    pub fn request(&self, path: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests.entry((path.to_owned(), status)).or_default() += 1;
    }

    /// Counts a failed write by kind.
    pub fn write_error(&self, kind: &'static str) {
        let mut errors = self.write_errors.lock().unwrap_or_else(|e| e.into_inner());
        *errors.entry(kind).or_default() += 1;
    }

    /// Counts a stored write: lines read, points and fields stored, decoded body bytes.
    pub fn write(&self, lines: u64, points: u64, fields: u64, bytes: u64) {
        self.lines.fetch_add(lines, Relaxed);
        self.points.fetch_add(points, Relaxed);
        self.fields.fetch_add(fields, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
    }

    /// Counts bytes appended to the WAL.
    pub fn wal_bytes(&self, bytes: usize) {
        self.wal_bytes.fetch_add(bytes as u64, Relaxed);
    }

    /// Records one group-commit fsync covering `appends` writes.
    pub fn wal_fsync(&self, took: Duration, appends: usize) {
        self.fsyncs.fetch_add(1, Relaxed);
        self.fsync_appends.fetch_add(appends as u64, Relaxed);
        self.fsync_nanos.fetch_add(took.as_nanos() as u64, Relaxed);
        let seconds = took.as_secs_f64();
        for (bucket, &bound) in self.fsync_buckets.iter().zip(&FSYNC_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
    }

    /// Sets the in-memory buffer's size.
    pub fn buffer(&self, bytes: usize, rows: usize) {
        self.buffer_bytes.store(bytes as u64, Relaxed);
        self.buffer_rows.store(rows as u64, Relaxed);
    }

    /// Counts Parquet files written.
    pub fn persisted(&self, files: usize, rows: usize) {
        self.persisted_files.fetch_add(files as u64, Relaxed);
        self.persisted_rows.fetch_add(rows as u64, Relaxed);
    }

    /// Counts a write refused with 503 because persistence is behind.
    pub fn busy(&self) {
        self.rejected_busy.fetch_add(1, Relaxed);
    }

    /// The current values in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, kind: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        counter(
            "linegate_write_lines_total",
            "Lines read from write bodies.",
            "counter",
            self.lines.load(Relaxed),
        );
        counter(
            "linegate_write_points_total",
            "Points stored.",
            "counter",
            self.points.load(Relaxed),
        );
        counter(
            "linegate_write_fields_total",
            "Field values stored.",
            "counter",
            self.fields.load(Relaxed),
        );
        counter(
            "linegate_write_bytes_total",
            "Decoded write body bytes stored.",
            "counter",
            self.bytes.load(Relaxed),
        );
        counter(
            "linegate_wal_bytes_total",
            "Bytes appended to the write-ahead log.",
            "counter",
            self.wal_bytes.load(Relaxed),
        );
        counter(
            "linegate_wal_fsync_appends_total",
            "Writes acknowledged by group-commit fsyncs.",
            "counter",
            self.fsync_appends.load(Relaxed),
        );
        counter(
            "linegate_buffer_bytes",
            "Bytes of rows held in memory, not yet in Parquet.",
            "gauge",
            self.buffer_bytes.load(Relaxed),
        );
        counter(
            "linegate_buffer_rows",
            "Rows held in memory, not yet in Parquet.",
            "gauge",
            self.buffer_rows.load(Relaxed),
        );
        counter(
            "linegate_persisted_files_total",
            "Parquet files written.",
            "counter",
            self.persisted_files.load(Relaxed),
        );
        counter(
            "linegate_persisted_rows_total",
            "Rows written to Parquet.",
            "counter",
            self.persisted_rows.load(Relaxed),
        );
        counter(
            "linegate_write_busy_total",
            "Writes refused with 503 because persistence fell behind.",
            "counter",
            self.rejected_busy.load(Relaxed),
        );

        out.push_str("# HELP linegate_wal_fsync_seconds Latency of write-ahead log fsyncs.\n");
        out.push_str("# TYPE linegate_wal_fsync_seconds histogram\n");
        for (bucket, bound) in self.fsync_buckets.iter().zip(FSYNC_BUCKETS) {
            let _ = writeln!(
                out,
                "linegate_wal_fsync_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.fsyncs.load(Relaxed);
        let _ = writeln!(
            out,
            "linegate_wal_fsync_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "linegate_wal_fsync_seconds_sum {}",
            self.fsync_nanos.load(Relaxed) as f64 / 1e9
        );
        let _ = writeln!(out, "linegate_wal_fsync_seconds_count {count}");

        out.push_str("# HELP linegate_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE linegate_http_requests_total counter\n");
        for ((path, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "linegate_http_requests_total{{path=\"{}\",status=\"{status}\"}} {n}",
                escape(path)
            );
        }
        out.push_str("# HELP linegate_write_errors_total Rejected writes by kind.\n");
        out.push_str("# TYPE linegate_write_errors_total counter\n");
        for (kind, n) in self
            .write_errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "linegate_write_errors_total{{kind=\"{kind}\"}} {n}");
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.request("/write", 204);
        m.request("/write", 204);
        m.write_error("line");
        m.wal_fsync(Duration::from_micros(1500), 3);
        let text = m.render();
        assert!(text.contains("linegate_http_requests_total{path=\"/write\",status=\"204\"} 2\n"));
        assert!(text.contains("linegate_write_errors_total{kind=\"line\"} 1\n"));
        assert!(text.contains("linegate_wal_fsync_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("linegate_wal_fsync_seconds_bucket{le=\"0.002\"} 1\n"));
        assert!(text.contains("linegate_wal_fsync_seconds_count 1\n"));
    }
}
