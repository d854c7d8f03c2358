//! Counters for `/metrics`, in Prometheus' text format (the `prometheus-client` crate).

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds (seconds) of the fsync latency histogram buckets.
const FSYNC_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    path: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: &'static str,
}

/// Everything the server counts. Cheap to update from any thread.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    write_errors: Family<ErrorLabels, Counter>,
    lines: Counter,
    points: Counter,
    fields: Counter,
    bytes: Counter,
    wal_bytes: Counter,
    fsync_appends: Counter,
    fsync_seconds: Histogram,
    buffer_bytes: Gauge,
    buffer_rows: Gauge,
    persisted_files: Counter,
    persisted_rows: Counter,
    rejected_busy: Counter,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let metrics = Metrics {
            registry: Registry::default(),
            requests: Family::default(),
            write_errors: Family::default(),
            lines: Counter::default(),
            points: Counter::default(),
            fields: Counter::default(),
            bytes: Counter::default(),
            wal_bytes: Counter::default(),
            fsync_appends: Counter::default(),
            fsync_seconds: Histogram::new(FSYNC_BUCKETS),
            buffer_bytes: Gauge::default(),
            buffer_rows: Gauge::default(),
            persisted_files: Counter::default(),
            persisted_rows: Counter::default(),
            rejected_busy: Counter::default(),
        };
        let mut registry = Registry::default();
        // Counters are exposed with the `_total` suffix.
        let counters = [
            (
                "linegate_write_lines",
                "Lines read from write bodies",
                &metrics.lines,
            ),
            ("linegate_write_points", "Points stored", &metrics.points),
            (
                "linegate_write_fields",
                "Field values stored",
                &metrics.fields,
            ),
            (
                "linegate_write_bytes",
                "Decoded write body bytes stored",
                &metrics.bytes,
            ),
            (
                "linegate_wal_bytes",
                "Bytes appended to the write-ahead log",
                &metrics.wal_bytes,
            ),
            (
                "linegate_wal_fsync_appends",
                "Writes acknowledged by group-commit fsyncs",
                &metrics.fsync_appends,
            ),
            (
                "linegate_persisted_files",
                "Parquet files written",
                &metrics.persisted_files,
            ),
            (
                "linegate_persisted_rows",
                "Rows written to Parquet",
                &metrics.persisted_rows,
            ),
            (
                "linegate_write_busy",
                "Writes refused with 503 because persistence fell behind",
                &metrics.rejected_busy,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        registry.register(
            "linegate_buffer_bytes",
            "Bytes of rows held in memory, not yet in Parquet",
            metrics.buffer_bytes.clone(),
        );
        registry.register(
            "linegate_buffer_rows",
            "Rows held in memory, not yet in Parquet",
            metrics.buffer_rows.clone(),
        );
        registry.register(
            "linegate_wal_fsync_seconds",
            "Latency of write-ahead log fsyncs",
            metrics.fsync_seconds.clone(),
        );
        registry.register(
            "linegate_http_requests",
            "HTTP requests by route and status",
            metrics.requests.clone(),
        );
        registry.register(
            "linegate_write_errors",
            "Rejected writes by kind",
            metrics.write_errors.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }
}

impl Metrics {
    /// Counts a finished HTTP request by route and status.
    pub fn request(&self, path: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                path: path.to_owned(),
                status,
            })
            .inc();
    }

    /// Counts a failed write by kind.
    pub fn write_error(&self, kind: &'static str) {
        self.write_errors.get_or_create(&ErrorLabels { kind }).inc();
    }

    /// Counts a stored write: lines read, points and fields stored, decoded body bytes.
    pub fn write(&self, lines: u64, points: u64, fields: u64, bytes: u64) {
        self.lines.inc_by(lines);
        self.points.inc_by(points);
        self.fields.inc_by(fields);
        self.bytes.inc_by(bytes);
    }

    /// Counts bytes appended to the WAL.
    pub fn wal_bytes(&self, bytes: usize) {
        self.wal_bytes.inc_by(bytes as u64);
    }

    /// Records one group-commit fsync covering `appends` writes.
    pub fn wal_fsync(&self, took: Duration, appends: usize) {
        self.fsync_appends.inc_by(appends as u64);
        self.fsync_seconds.observe(took.as_secs_f64());
    }

    /// Sets the in-memory buffer's size.
    pub fn buffer(&self, bytes: usize, rows: usize) {
        self.buffer_bytes.set(bytes as i64);
        self.buffer_rows.set(rows as i64);
    }

    /// Counts Parquet files written.
    pub fn persisted(&self, files: usize, rows: usize) {
        self.persisted_files.inc_by(files as u64);
        self.persisted_rows.inc_by(rows as u64);
    }

    /// Counts a write refused with 503 because persistence is behind.
    pub fn busy(&self) {
        self.rejected_busy.inc();
    }

    /// The current values in Prometheus' text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

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
        m.write(10, 9, 18, 300);
        m.buffer(4096, 9);
        let text = m.render();
        for expected in [
            "linegate_http_requests_total{path=\"/write\",status=\"204\"} 2\n",
            "linegate_write_errors_total{kind=\"line\"} 1\n",
            "linegate_wal_fsync_seconds_bucket{le=\"0.001\"} 0\n",
            "linegate_wal_fsync_seconds_bucket{le=\"0.002\"} 1\n",
            "linegate_wal_fsync_seconds_count 1\n",
            "linegate_wal_fsync_appends_total 3\n",
            "linegate_write_points_total 9\n",
            "linegate_buffer_bytes 4096\n",
            "# TYPE linegate_buffer_rows gauge\n",
        ] {
            assert!(text.contains(expected), "{expected} not in\n{text}");
        }
    }
}
