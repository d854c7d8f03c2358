//! Persistence: frozen buffer generations become Parquet files on the object store, listed in
//! a manifest that also says how much of the WAL they cover.
//!
//! Files hold one row per point (last write wins), one file per table per time window per
//! snapshot: in write order when no point was written twice, else sorted by series key (the
//! table's tags in series-key order) then time, as compaction's files always are; at
//! `<instance>/<db id>/<table id>/<YYYY-MM-DD>/<HHMM>/<n>.parquet`, where `<instance>` is a
//! random id made with the data directory, so servers can share a bucket.
//! A file counts only once the manifest lists it: the manifest is replaced atomically after
//! the files are written, and the WAL segments it covers are deleted after that. A crash in
//! between leaves at worst an unlisted file (removed at the next start) and a segment that
//! replays into the buffer again — never a lost or a doubled row.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::TimestampNanosecondType;
use arrow::error::ArrowError;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use crate::buffer::{adapt, TableBuffer};
use crate::catalog::{TableDef, TIME_COLUMN};
use crate::dedup;
use crate::fsutil;

/// One Parquet file of the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ParquetFile {
    /// The database's catalog id.
    pub database_id: u32,
    /// The table's catalog id.
    pub table_id: u32,
    /// Path inside the object store.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Smallest time, in nanoseconds.
    pub min_time: i64,
    /// Largest time, in nanoseconds.
    pub max_time: i64,
    /// Size in bytes.
    pub size: u64,
    /// Write order: the number of the persist that wrote its rows (for a compacted file, the
    /// newest of its inputs'). Among files that hold the same point, the higher wins.
    #[serde(default)]
    pub seq: u64,
    /// How many compactions its rows went through (0: written by a persist).
    #[serde(default)]
    pub level: u32,
    /// It may repeat a point of an earlier file (files written before this field existed
    /// are assumed to).
    #[serde(default = "assume_repeats")]
    pub repeats: bool,
    /// When it was written (wall clock, ns), which tells whether its day has settled.
    #[serde(default)]
    pub written_at: i64,
}

fn assume_repeats() -> bool {
    true
}

/// The list of persisted files and the WAL position they cover.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// WAL segments up to this number are fully in the files below.
    pub wal_persisted_through: u64,
    /// Number for the next file name.
    pub next_file: u64,
    /// [`ParquetFile::seq`] of the next persist.
    #[serde(default = "first_seq")]
    pub next_seq: u64,
    /// This data directory's prefix in the object store.
    #[serde(default)]
    pub instance: String,
    /// Every file. Queries hold them (`Arc`) while they read, so a compacted file is deleted
    /// only once no query reads it.
    pub files: Vec<Arc<ParquetFile>>,
    #[serde(skip)]
    path: PathBuf,
}

fn first_seq() -> u64 {
    1
}

impl Manifest {
    /// Loads the manifest, or an empty one if there is none yet.
    pub fn open(path: &Path) -> io::Result<Manifest> {
        let mut manifest: Manifest = fsutil::read_json_or_default(path)?;
        manifest.path = path.to_owned();
        if manifest.instance.is_empty() {
            let mut id = [0u8; 8];
            getrandom::fill(&mut id).map_err(|e| io::Error::other(e.to_string()))?;
            manifest.instance = id.iter().map(|b| format!("{b:02x}")).collect();
            manifest.save()?;
        }
        Ok(manifest)
    }

    /// Writes the manifest durably.
    pub fn save(&self) -> io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(io::Error::other)?;
        fsutil::write_atomic(&self.path, &bytes)
    }

    /// The files of one table, oldest write first.
    pub fn table_files(&self, database_id: u32, table_id: u32) -> Vec<Arc<ParquetFile>> {
        let mut files: Vec<Arc<ParquetFile>> = self
            .files
            .iter()
            .filter(|f| f.database_id == database_id && f.table_id == table_id)
            .cloned()
            .collect();
        files.sort_by_key(|f| f.seq);
        files
    }

    /// The largest persisted time of each table.
    pub fn latest_times(&self) -> std::collections::HashMap<(u32, u32), i64> {
        let mut latest = std::collections::HashMap::new();
        for f in &self.files {
            let t = latest
                .entry((f.database_id, f.table_id))
                .or_insert(i64::MIN);
            *t = (*t).max(f.max_time);
        }
        latest
    }
}

/// A table's rows for one time window, sorted and encoded.
pub struct Encoded {
    /// Start of the window, in nanoseconds.
    pub window: i64,
    /// The Parquet bytes.
    pub bytes: Bytes,
    /// Rows.
    pub rows: u64,
    /// Smallest time.
    pub min_time: i64,
    /// Largest time.
    pub max_time: i64,
}

/// Encodes one table's buffered rows as one Parquet file per time window of `window`
/// nanoseconds.
///
/// When a row may repeat a point, the rows are merged first (one row per point, sorted by
/// series key then time; [`dedup::merge_by_window`]). Otherwise — every series written in
/// time order, the usual case — each point is already there once and the rows are written
/// in write order, as they are: sorting them is left to compaction, which merges files
/// anyway, and the persist only copies the rows into Parquet.
pub fn encode_table(
    def: &TableDef,
    buffer: &TableBuffer,
    window: i64,
) -> Result<Vec<Encoded>, ArrowError> {
    let schema = def.schema();
    if buffer.repeats {
        let batches: Vec<RecordBatch> = buffer.batches().cloned().collect();
        let merged =
            dedup::merge_by_window(&schema, def.columns.tags().len(), batches, Some(window))?;
        return merged
            .windows
            .into_iter()
            .map(|(start, rows)| {
                let rows = merged.batch.slice(rows.start, rows.len());
                encode(def, &[rows], start, RowOrder::SeriesKey)
            })
            .collect();
    }
    let mut windows: BTreeMap<i64, Vec<RecordBatch>> = BTreeMap::new();
    for batch in buffer.batches() {
        split_by_window(&adapt(batch, &schema)?, window, &mut windows)?;
    }
    windows
        .into_iter()
        .map(|(start, batches)| encode(def, &batches, start, RowOrder::Written))
        .collect()
}

/// Adds the rows of `batch` to `windows` (keyed by window start), keeping their order; a
/// batch within one window (most are: a request covers seconds) is added whole.
fn split_by_window(
    batch: &RecordBatch,
    width: i64,
    windows: &mut BTreeMap<i64, Vec<RecordBatch>>,
) -> Result<(), ArrowError> {
    let times = batch
        .column(batch.num_columns() - 1)
        .as_primitive::<TimestampNanosecondType>()
        .values();
    let (order, ranges) = dedup::window_order(times.iter().copied(), width);
    if let [(start, _)] = ranges[..] {
        windows.entry(start).or_default().push(batch.clone());
        return Ok(());
    }
    for (start, rows) in ranges {
        let rows = UInt32Array::from(order[rows].to_vec());
        windows
            .entry(start)
            .or_default()
            .push(take_record_batch(batch, &rows)?);
    }
    Ok(())
}

/// How the rows of a file are ordered, which decides the statistics worth writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOrder {
    /// By series key, then time (merged or compacted): a row group or page holds few
    /// series, so the tags' min/max let a query skip it.
    SeriesKey,
    /// As written: every page mixes all series, so min/max of tags and fields would span
    /// nearly all values and skip nothing. Only time keeps statistics: computing the
    /// others took a fifth of the encoding (tags compared as bytes, value by value).
    Written,
}

/// Encodes rows of table `def` (in its schema) as one Parquet file of the window starting at
/// `window`.
pub fn encode(
    def: &TableDef,
    batches: &[RecordBatch],
    window: i64,
    order: RowOrder,
) -> Result<Encoded, ArrowError> {
    let (mut min_time, mut max_time, mut rows) = (i64::MAX, i64::MIN, 0);
    for batch in batches {
        let times = batch
            .column(batch.num_columns() - 1)
            .as_primitive::<TimestampNanosecondType>();
        for &t in times.values() {
            min_time = min_time.min(t);
            max_time = max_time.max(t);
        }
        rows += batch.num_rows() as u64;
    }
    let props = writer_properties(def, order);
    // Room for the whole file at once (it is smaller than the rows in memory): growing the
    // buffer by doubling copied it about twice.
    let room = batches.iter().map(|b| b.get_array_memory_size()).sum();
    let mut writer = ArrowWriter::try_new(Vec::with_capacity(room), def.schema(), Some(props))?;
    for batch in batches {
        writer.write(batch)?;
    }
    let bytes = writer.into_inner()?;
    Ok(Encoded {
        window,
        bytes: Bytes::from(bytes),
        rows,
        min_time,
        max_time,
    })
}

/// Snappy, one row group per million rows, and dictionary encoding only for tags (few
/// distinct values per series key, where it pays); fields are written plain, which saves
/// hashing every value of every field. Times are delta-encoded and not compressed: deltas
/// of a few bits take a third of the room of Snappy over plain times, for less work.
fn writer_properties(def: &TableDef, order: RowOrder) -> WriterProperties {
    let time = ColumnPath::from(TIME_COLUMN);
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .set_dictionary_enabled(false)
        .set_column_encoding(time.clone(), Encoding::DELTA_BINARY_PACKED)
        .set_column_compression(time.clone(), Compression::UNCOMPRESSED);
    for tag in def.columns.tags() {
        props = props.set_column_dictionary_enabled(ColumnPath::from(tag.as_str()), true);
    }
    if order == RowOrder::Written {
        props = props
            .set_statistics_enabled(EnabledStatistics::None)
            .set_column_statistics_enabled(time, EnabledStatistics::Page);
    }
    props.build()
}

/// The object-store path of file number `n` of a table's window.
pub fn file_path(instance: &str, database_id: u32, table_id: u32, window: i64, n: u64) -> String {
    let start = chrono::DateTime::from_timestamp_nanos(window);
    format!(
        "{instance}/{database_id}/{table_id}/{}/{n:010}.parquet",
        start.format("%Y-%m-%d/%H%M")
    )
}

/// The file number in a path made by [`file_path`].
fn file_number(path: &str) -> Option<u64> {
    path.rsplit('/')
        .next()?
        .strip_suffix(".parquet")?
        .parse()
        .ok()
}

/// Reads a whole Parquet file of the store.
pub async fn read(store: &Arc<dyn ObjectStore>, path: &str) -> Result<Vec<RecordBatch>, String> {
    let failed = |e: &dyn std::fmt::Display| format!("persisted file {path} cannot be read: {e}");
    let bytes = store
        .get(&ObjectPath::from(path))
        .await
        .map_err(|e| failed(&e))?
        .bytes()
        .await
        .map_err(|e| failed(&e))?;
    ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.build())
        .map_err(|e| failed(&e))?
        .map(|batch| batch.map_err(|e| failed(&e)))
        .collect()
}

/// Writes `bytes` at `path` in the store.
pub async fn put(
    store: &Arc<dyn ObjectStore>,
    path: &str,
    bytes: Bytes,
) -> object_store::Result<()> {
    store
        .put(&ObjectPath::from(path), bytes.into())
        .await
        .map(|_| ())
}

/// Deletes the files of this instance the manifest does not list: written by a snapshot or
/// compaction that was interrupted before its manifest was saved, or replaced by a
/// compaction or dropped with a database but not yet deleted when the process stopped. Only
/// this instance's prefix is listed, so other servers' files in a shared bucket are safe.
/// Fails if the store cannot be listed (a wrong endpoint or bucket is reported at start-up,
/// not at the first snapshot).
pub async fn remove_unlisted(
    store: &Arc<dyn ObjectStore>,
    manifest: &Manifest,
) -> object_store::Result<usize> {
    let listed: HashSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let prefix = ObjectPath::from(manifest.instance.as_str());
    let all: Vec<_> = store.list(Some(&prefix)).try_collect().await?;
    let mut removed = 0;
    for object in all {
        let path = object.location.as_ref();
        let unlisted = !listed.contains(path) && file_number(path).is_some();
        if unlisted {
            store.delete(&object.location).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Deletes the given files from the store (a dropped database's).
pub async fn remove_files(
    store: &Arc<dyn ObjectStore>,
    files: &[Arc<ParquetFile>],
) -> object_store::Result<()> {
    for file in files {
        match store.delete(&ObjectPath::from(file.path.as_str())).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, TimestampNanosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    #[test]
    fn a_batch_across_windows_splits_in_row_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("v", DataType::Int64, false),
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
        ]));
        let batch = |v: Vec<i64>, t: Vec<i64>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(v)),
                    Arc::new(TimestampNanosecondArray::from(t)),
                ],
            )
            .unwrap()
        };
        let mut windows = BTreeMap::new();
        split_by_window(
            &batch(vec![1, 2, 3, 4], vec![5, 12, 9, -1]),
            10,
            &mut windows,
        )
        .unwrap();
        split_by_window(&batch(vec![5], vec![0]), 10, &mut windows).unwrap();
        let values = |start: i64| -> Vec<i64> {
            windows[&start]
                .iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_primitive::<arrow::datatypes::Int64Type>()
                        .values()
                        .to_vec()
                })
                .collect()
        };
        assert_eq!(windows.keys().copied().collect::<Vec<_>>(), [-10, 0, 10]);
        assert_eq!(values(-10), [4]);
        assert_eq!(
            values(0),
            [1, 3, 5],
            "row order kept, the one-window batch whole"
        );
        assert_eq!(values(10), [2]);
    }

    #[test]
    fn statistics_beyond_time_only_where_rows_are_sorted_by_series() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = crate::catalog::Catalog::open(&dir.path().join("catalog.json")).unwrap();
        let body = "cpu,host=b usage=1 1\ncpu,host=a usage=2 2\n";
        let accepted =
            linegate::validate(body.as_bytes(), linegate::Precision::Nanosecond, 0, true).unwrap();
        catalog.admit("db", body, &accepted.batch, true).unwrap();
        let def = &catalog.database("db").unwrap().tables["cpu"];
        let batch = RecordBatch::try_new(
            def.schema(),
            vec![
                Arc::new(arrow::array::StringArray::from(vec!["b", "a"])),
                Arc::new(arrow::array::Float64Array::from(vec![1.0, 2.0])),
                Arc::new(TimestampNanosecondArray::from(vec![1, 2])),
            ],
        )
        .unwrap();
        let statistics = |order| {
            let file = encode(def, std::slice::from_ref(&batch), 0, order).unwrap();
            let reader =
                parquet::file::serialized_reader::SerializedFileReader::new(file.bytes).unwrap();
            let group = parquet::file::reader::FileReader::metadata(&reader)
                .row_group(0)
                .clone();
            group
                .columns()
                .iter()
                .map(|c| c.statistics().is_some())
                .collect::<Vec<_>>()
        };
        // host, usage, time
        assert_eq!(statistics(RowOrder::SeriesKey), [true, true, true]);
        assert_eq!(statistics(RowOrder::Written), [false, false, true]);
    }
}
