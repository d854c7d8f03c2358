//! The in-memory buffer: accepted rows as Arrow record batches, per table, until they are
//! persisted to Parquet.
//!
//! Each request's rows are turned into one record batch per table by the request's own task
//! ([`to_record_batches`]), so the log thread only has to push finished batches. The buffer
//! has an *active* generation that receives new rows and zero or more *frozen* ones being
//! persisted; queries read all of them.
//!
//! The buffer also remembers the latest time of every series it has seen, so it knows when
//! a write may repeat a point (same series and time) already buffered or persisted: only
//! then do queries and persists need to merge duplicates ([`crate::dedup`]).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{
    new_null_array, ArrayBuilder, ArrayRef, BooleanBuilder, Float64Builder, Int64Builder,
    RecordBatch, StringBuilder, TimestampNanosecondArray, UInt64Builder,
};
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use linegate::lp::FieldValue;
use linegate::WriteBatch;
use smallvec::SmallVec;

use linegate::schema::{ColumnKind, FieldType};

use crate::catalog::TableDef;

/// Identifies a table across databases: (database id, table id).
pub type TableKey = (u32, u32);

/// A series' identity within its table: a hash of its tag set, the same whatever order the
/// tags were written in. A collision only makes a merge happen that was not needed.
pub type SeriesKey = u64;

/// A map keyed by series: a faster hash than the standard one, seeded per process.
pub type SeriesMap<V> = HashMap<SeriesKey, V, foldhash::fast::RandomState>;

/// The first and last time of a series in one request.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    first: i64,
    last: i64,
}

/// One request's rows of one table.
#[derive(Clone)]
pub struct TableRows {
    /// The table's catalog id.
    pub table_id: u32,
    /// The rows, in the table's schema.
    pub batch: RecordBatch,
    /// The time span of each series in `batch`.
    pub series: SeriesMap<Span>,
    /// Some series' times do not strictly increase within `batch` (it may repeat a point).
    pub unordered: bool,
}

/// Builds one record batch per table from the rows of `batch` that are not in `skip_rows`
/// (sorted row indexes), each in its table's full schema (absent columns are null).
pub fn to_record_batches(
    batch: &WriteBatch<'_>,
    tables: &[Option<Arc<TableDef>>],
    skip_rows: &[usize],
) -> Result<Vec<TableRows>, ArrowError> {
    // Rows per table, so each table's builders are allocated once at their final size.
    let counts = batch.rows_per_table();
    let mut builders: Vec<Option<TableBuilder<'_>>> = tables
        .iter()
        .zip(counts)
        .map(|(t, rows)| t.as_ref().map(|def| TableBuilder::new(def.clone(), rows)))
        .collect();
    let mut skip = skip_rows.iter().peekable();
    for (index, row) in batch.rows().enumerate() {
        if skip.peek() == Some(&&index) {
            skip.next();
            continue;
        }
        let Some(builder) = builders[row.table_index].as_mut() else {
            continue;
        };
        builder.push(row.key_set, row.tags, row.fields, row.time);
    }
    builders
        .into_iter()
        .flatten()
        .filter(|b| b.rows > 0)
        .map(|b| b.finish())
        .collect()
}

enum Column {
    Utf8(StringBuilder),
    Float(Float64Builder),
    Integer(Int64Builder),
    UInteger(UInt64Builder),
    Boolean(BooleanBuilder),
}

impl Column {
    fn new(kind: ColumnKind, capacity: usize) -> Column {
        match kind {
            ColumnKind::Tag | ColumnKind::Field(FieldType::String) => {
                Column::Utf8(StringBuilder::with_capacity(capacity, capacity * 8))
            }
            ColumnKind::Field(FieldType::Float) => {
                Column::Float(Float64Builder::with_capacity(capacity))
            }
            ColumnKind::Field(FieldType::Integer) => {
                Column::Integer(Int64Builder::with_capacity(capacity))
            }
            ColumnKind::Field(FieldType::UInteger) => {
                Column::UInteger(UInt64Builder::with_capacity(capacity))
            }
            ColumnKind::Field(FieldType::Boolean) => {
                Column::Boolean(BooleanBuilder::with_capacity(capacity))
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Utf8(b) => b.len(),
            Column::Float(b) => b.len(),
            Column::Integer(b) => b.len(),
            Column::UInteger(b) => b.len(),
            Column::Boolean(b) => b.len(),
        }
    }

    /// Pads with nulls up to `rows` (rows that did not have this column).
    fn pad(&mut self, rows: usize) {
        let missing = rows - self.len();
        if missing == 0 {
            return;
        }
        match self {
            Column::Utf8(b) => b.append_nulls(missing),
            Column::Float(b) => b.append_nulls(missing),
            Column::Integer(b) => b.append_nulls(missing),
            Column::UInteger(b) => b.append_nulls(missing),
            Column::Boolean(b) => b.append_nulls(missing),
        }
    }

    fn push_field(&mut self, value: &FieldValue<'_>) {
        match (self, value) {
            (Column::Float(b), FieldValue::Float(v)) => b.append_value(*v),
            (Column::Integer(b), FieldValue::Integer(v)) => b.append_value(*v),
            (Column::UInteger(b), FieldValue::UInteger(v)) => b.append_value(*v),
            (Column::Boolean(b), FieldValue::Boolean(v)) => b.append_value(*v),
            (Column::Utf8(b), FieldValue::String(s)) => b.append_value(s.as_str()),
            // The catalog admitted the row, so kinds match; a mismatch would be a bug, and
            // a null is the safe outcome.
            (column, _) => column.pad(column.len() + 1),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Utf8(b) => Arc::new(b.finish()),
            Column::Float(b) => Arc::new(b.finish()),
            Column::Integer(b) => Arc::new(b.finish()),
            Column::UInteger(b) => Arc::new(b.finish()),
            Column::Boolean(b) => Arc::new(b.finish()),
        }
    }
}

/// Column builders for one table of one request.
struct TableBuilder<'a> {
    def: Arc<TableDef>,
    columns: Vec<Column>,
    time: Vec<i64>,
    rows: usize,
    /// The keys of the previous row and their column indexes: consecutive rows usually
    /// have the same keys, so the name lookup is skipped.
    last_keys: Vec<&'a str>,
    /// The parser's number for `last_keys` ([`linegate::Row::key_set`]): a row with the
    /// same number has the same keys, known without comparing them.
    last_key_set: Option<u64>,
    last_columns: Vec<usize>,
    last_series: SeriesHashing,
    /// The previous row's keys name every column of the table, so no column needs padding.
    last_complete: bool,
    series: SeriesMap<Span>,
    unordered: bool,
}

/// Hashes series keys: fixed, so that a series has the same key in every request.
const SERIES_HASH: foldhash::fast::FixedState =
    foldhash::fast::FixedState::with_seed(0x6c69_6e65_6761_7465);

/// How the [`SeriesKey`] of rows with given tag keys is made: the tag values are hashed in
/// the order of their keys, after a hash of the sorted keys, so tag order does not matter.
/// Worked out once per run of rows with the same keys, which leaves a row one hash of its
/// tag values.
#[derive(Default)]
struct SeriesHashing {
    /// Tag positions in the row, by key.
    order: Vec<usize>,
    /// The hash of the sorted keys.
    keys: u64,
}

impl SeriesHashing {
    fn new(tags: &[linegate::lp::Tag<'_>]) -> SeriesHashing {
        let mut order: Vec<usize> = (0..tags.len()).collect();
        order.sort_by_cached_key(|&i| tags[i].key.as_str());
        let keys = SERIES_HASH.hash_one(
            order
                .iter()
                .map(|&i| tags[i].key.as_str())
                .collect::<Vec<_>>(),
        );
        SeriesHashing { order, keys }
    }

    fn key(&self, tags: &[linegate::lp::Tag<'_>]) -> SeriesKey {
        let mut hasher = SERIES_HASH.build_hasher();
        hasher.write_u64(self.keys);
        for &i in &self.order {
            if let Some(tag) = tags.get(i) {
                tag.value.as_str().hash(&mut hasher);
            }
        }
        hasher.finish()
    }
}

impl<'a> TableBuilder<'a> {
    fn new(def: Arc<TableDef>, capacity: usize) -> TableBuilder<'a> {
        let tags = def.columns.tags().iter().map(|_| ColumnKind::Tag);
        let fields = def
            .columns
            .fields()
            .iter()
            .map(|&(_, ty)| ColumnKind::Field(ty));
        let columns = tags
            .chain(fields)
            .map(|kind| Column::new(kind, capacity))
            .collect();
        TableBuilder {
            def,
            columns,
            time: Vec::with_capacity(capacity),
            rows: 0,
            last_keys: Vec::new(),
            last_key_set: None,
            last_columns: Vec::new(),
            last_series: SeriesHashing::default(),
            last_complete: false,
            // Sized for a series per row, the usual batch (one point per series): growing
            // step by step rehashed it a dozen times per request.
            series: SeriesMap::with_capacity_and_hasher(capacity, Default::default()),
            unordered: false,
        }
    }

    fn push(
        &mut self,
        key_set: u64,
        tags: &[linegate::lp::Tag<'a>],
        fields: &[linegate::lp::Field<'a>],
        time: i64,
    ) {
        let keys = tags
            .iter()
            .map(|t| t.key.raw())
            .chain(fields.iter().map(|f| f.key.raw()));
        if self.last_key_set != Some(key_set) {
            if !keys.clone().eq(self.last_keys.iter().copied()) {
                self.start_key_run(keys, tags, fields);
            }
            self.last_key_set = Some(key_set);
        }
        let pad = !self.last_complete;
        let row = self.rows;
        let (tag_columns, field_columns) = self.last_columns.split_at(tags.len());
        // Indexed rather than zipped: `Zip::new` was not inlined here and cost more than
        // the loop bodies' bounds checks.
        for (i, tag) in tags.iter().enumerate() {
            let Some(column) = tag_columns.get(i).and_then(|&c| self.columns.get_mut(c)) else {
                continue;
            };
            if pad {
                column.pad(row);
            }
            if let Column::Utf8(b) = column {
                b.append_value(tag.value.as_str());
            }
        }
        for (i, field) in fields.iter().enumerate() {
            let Some(column) = field_columns.get(i).and_then(|&c| self.columns.get_mut(c)) else {
                continue;
            };
            if pad {
                column.pad(row);
            }
            column.push_field(&field.value);
        }
        self.time.push(time);
        self.rows += 1;
        match self.series.entry(self.last_series.key(tags)) {
            Entry::Occupied(mut seen) => {
                let span = seen.get_mut();
                self.unordered |= time <= span.last;
                span.first = span.first.min(time);
                span.last = span.last.max(time);
            }
            Entry::Vacant(new) => {
                new.insert(Span {
                    first: time,
                    last: time,
                });
            }
        }
    }

    /// Works out, once per run of rows with new keys, what those rows share: their column
    /// indexes, the series hashing and whether they fill every column.
    fn start_key_run(
        &mut self,
        keys: impl Iterator<Item = &'a str>,
        tags: &[linegate::lp::Tag<'a>],
        fields: &[linegate::lp::Field<'a>],
    ) {
        self.last_keys.clear();
        self.last_keys.extend(keys);
        self.last_columns.clear();
        for tag in tags {
            self.last_columns.push(self.index(&tag.key.as_str()));
        }
        for field in fields {
            self.last_columns.push(self.index(&field.key.as_str()));
        }
        self.last_series = SeriesHashing::new(tags);
        let mut named = vec![false; self.columns.len()];
        for &c in &self.last_columns {
            if let Some(n) = named.get_mut(c) {
                *n = true;
            }
        }
        self.last_complete =
            self.last_columns.len() == self.columns.len() && named.iter().all(|&n| n);
        if self.last_complete {
            // Columns a previous row lacked are padded when their next value comes;
            // rows that fill every column skip that, so catch up here, once.
            for column in &mut self.columns {
                column.pad(self.rows);
            }
        }
    }

    /// The column index of `name`; out of range (ignored) if unknown, which the catalog rules out.
    fn index(&self, name: &str) -> usize {
        self.def.column(name).map_or(usize::MAX, |(_, i)| i)
    }

    fn finish(mut self) -> Result<TableRows, ArrowError> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len() + 1);
        for column in &mut self.columns {
            column.pad(self.rows);
            arrays.push(column.finish());
        }
        arrays.push(Arc::new(TimestampNanosecondArray::from(std::mem::take(
            &mut self.time,
        ))));
        Ok(TableRows {
            table_id: self.def.id,
            batch: RecordBatch::try_new(self.def.schema(), arrays)?,
            series: self.series,
            unordered: self.unordered,
        })
    }
}

/// `batch` in `schema`: columns matched by name, missing ones null (tables only grow).
pub fn adapt(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.schema() == *schema {
        return Ok(batch.clone());
    }
    let columns = schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) if column.data_type() == field.data_type() => column.clone(),
            _ => new_null_array(field.data_type(), batch.num_rows()),
        })
        .collect();
    RecordBatch::try_new(schema.clone(), columns)
}

/// Batches below this many rows are merged before they are kept, so many tiny writes do
/// not cost a record batch each.
const SMALL_BATCH_ROWS: usize = 4096;
const MERGE_AT_ROWS: usize = 32 * 1024;
const MERGE_AT_COUNT: usize = 64;

/// The rows of one table in one generation.
#[derive(Clone)]
pub struct TableBuffer {
    batches: Vec<RecordBatch>,
    small: Vec<RecordBatch>,
    small_rows: usize,
    merged_bytes: usize,
    /// Rows held.
    pub rows: usize,
    /// Bytes held (Arrow buffers).
    pub bytes: usize,
    /// The smallest time held.
    pub min_time: i64,
    /// The largest time held.
    pub max_time: i64,
    /// Some row may repeat a point (series and time) written before it, here or earlier.
    pub repeats: bool,
}

impl Default for TableBuffer {
    fn default() -> Self {
        TableBuffer {
            batches: Vec::new(),
            small: Vec::new(),
            small_rows: 0,
            merged_bytes: 0,
            rows: 0,
            bytes: 0,
            min_time: i64::MAX,
            max_time: i64::MIN,
            repeats: false,
        }
    }
}

impl TableBuffer {
    fn push(&mut self, rows: TableRows, repeats: bool) {
        for span in rows.series.values() {
            self.min_time = self.min_time.min(span.first);
            self.max_time = self.max_time.max(span.last);
        }
        self.repeats |= repeats;
        let batch = rows.batch;
        self.rows += batch.num_rows();
        if batch.num_rows() >= SMALL_BATCH_ROWS {
            // Batches stay in write order, which is what last-write-wins goes by.
            if !self.small.is_empty() {
                self.merge_small();
            }
            self.merged_bytes += batch.get_array_memory_size();
            self.batches.push(batch);
        } else {
            self.small_rows += batch.num_rows();
            self.small.push(batch);
            if self.small.len() >= MERGE_AT_COUNT || self.small_rows >= MERGE_AT_ROWS {
                self.merge_small();
            }
        }
        self.bytes = self.merged_bytes
            + self
                .small
                .iter()
                .map(|b| b.get_array_memory_size())
                .sum::<usize>();
    }

    fn merge_small(&mut self) {
        let schema = self.small[self.small.len() - 1].schema();
        let merged = self
            .small
            .iter()
            .map(|b| adapt(b, &schema))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|adapted| concat_batches(&schema, &adapted));
        // On failure (it cannot happen: the schemas were just aligned) the small batches stay.
        if let Ok(merged) = merged {
            self.small.clear();
            self.small_rows = 0;
            self.merged_bytes += merged.get_array_memory_size();
            self.batches.push(merged);
        }
    }

    /// All record batches, in write order.
    pub fn batches(&self) -> impl Iterator<Item = &RecordBatch> {
        self.batches.iter().chain(&self.small)
    }

    /// The batches that no longer change (more only ever follow them), in write order.
    pub fn sealed(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// The small recent batches, after [`TableBuffer::sealed`]; they are merged as more come.
    pub fn recent(&self) -> &[RecordBatch] {
        &self.small
    }
}

/// The times each series was written at since the start, per table, which tells whether a
/// write may repeat a point; for a series not seen since the start, everything up to the
/// latest persisted time of its table counts as written.
///
/// A series keeps a few disjoint spans, not just its latest time, so that requests arriving
/// out of order (a loader with several connections) are not taken for repeats; past
/// [`MAX_SPANS`] the two oldest spans are joined, which can only make the check
/// more cautious. The oldest, not the closest: a late request fills a recent gap, and a
/// series' gaps are all about as wide (joining the closest instead took 84 of the 600
/// requests of a two-connection load for repeats, which made every persist merge).
#[derive(Default)]
pub struct Latest {
    series: HashMap<TableKey, SeriesMap<Written>>,
    /// The largest persisted time per table when the store opened.
    pub persisted: HashMap<TableKey, i64>,
}

/// The spans of time a series was written in: sorted, disjoint, inclusive. Held inline in
/// the series map: one cache miss per series per request instead of two.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Written(SmallVec<[(i64, i64); MAX_SPANS + 1]>);

/// The most spans a series keeps: every request adds one, so a loader with up to seven
/// requests in flight fills its gaps before they are joined (four took a 4-connection load's
/// requests for repeats). 144 bytes a series.
const MAX_SPANS: usize = 8;

impl Written {
    /// Adds `span`; whether it meets a span written before.
    fn add(&mut self, (first, last): (i64, i64)) -> bool {
        let spans = &mut self.0;
        let at = match spans.last() {
            // The usual case: after everything written so far.
            Some(&(_, end)) if end < first => spans.len(),
            _ => spans.partition_point(|&(_, end)| end < first),
        };
        let repeats = spans.get(at).is_some_and(|&(start, _)| start <= last);
        if repeats {
            // Join every span the new one meets.
            let mut end = at;
            while end < spans.len() && spans[end].0 <= last {
                end += 1;
            }
            spans[at] = (spans[at].0.min(first), spans[end - 1].1.max(last));
            spans.drain(at + 1..end);
        } else {
            spans.insert(at, (first, last));
        }
        if spans.len() > MAX_SPANS {
            // Join the two oldest: a late request fills a recent gap, if any.
            spans[0].1 = spans[1].1;
            spans.remove(1);
        }
        repeats
    }
}

impl Latest {
    /// Records `rows` of table `key`; whether they may repeat a point written before.
    fn record(&mut self, key: TableKey, rows: &TableRows) -> bool {
        let floor = self.persisted.get(&key).copied();
        let series = self.series.entry(key).or_default();
        let mut repeats = rows.unordered;
        for (&s, span) in &rows.series {
            let written = series
                .entry(s)
                .or_insert_with(|| Written(floor.map(|f| (i64::MIN, f)).into_iter().collect()));
            repeats |= written.add((span.first, span.last));
        }
        repeats
    }
}

/// The rows received between two WAL rotations.
pub struct Generation {
    /// Rows per table.
    pub tables: HashMap<TableKey, TableBuffer>,
    /// Rows held.
    pub rows: usize,
    /// Bytes held.
    pub bytes: usize,
    /// When the first row arrived.
    pub since: Option<Instant>,
    /// The last WAL segment whose records are all in this generation (set when frozen).
    pub last_segment: u64,
}

impl Generation {
    fn new() -> Generation {
        Generation {
            tables: HashMap::new(),
            rows: 0,
            bytes: 0,
            since: None,
            last_segment: 0,
        }
    }

    /// Adds a request's rows for database `database_id`.
    fn push(&mut self, database_id: u32, rows: Vec<TableRows>, latest: &mut Latest) {
        self.since.get_or_insert_with(Instant::now);
        for table_rows in rows {
            let key = (database_id, table_rows.table_id);
            let repeats = latest.record(key, &table_rows);
            let table = self.tables.entry(key).or_default();
            let (rows, bytes) = (table.rows, table.bytes);
            table.push(table_rows, repeats);
            self.rows += table.rows - rows;
            self.bytes = self.bytes + table.bytes - bytes.min(table.bytes);
        }
    }

    /// Drops the rows of a database (it was deleted).
    fn remove_database(&mut self, database_id: u32) {
        self.tables.retain(|(db, _), _| *db != database_id);
        self.rows = self.tables.values().map(|t| t.rows).sum();
        self.bytes = self.tables.values().map(|t| t.bytes).sum();
    }
}

/// The active generation and the frozen ones still being persisted.
pub struct Buffers {
    /// Receives new rows.
    pub active: Generation,
    /// Oldest first; each is removed once its Parquet files are in the manifest.
    pub frozen: Vec<Arc<Generation>>,
    /// The latest time of each series, across generations.
    pub latest: Latest,
    /// The last rows of the persisted data, kept in step with the generations persisted.
    pub last: crate::last::LastValues,
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            active: Generation::new(),
            frozen: Vec::new(),
            latest: Latest::default(),
            last: Default::default(),
        }
    }
}

impl Buffers {
    /// Adds a request's rows for database `database_id` to the active generation.
    pub fn push(&mut self, database_id: u32, rows: Vec<TableRows>) {
        self.active.push(database_id, rows, &mut self.latest);
    }

    /// Drops the active rows of a database and what is known of its series (it was deleted).
    pub fn remove_database(&mut self, database_id: u32) {
        self.active.remove_database(database_id);
        self.latest.series.retain(|(db, _), _| *db != database_id);
        self.latest
            .persisted
            .retain(|(db, _), _| *db != database_id);
    }

    /// Freezes the active generation as covering WAL segments up to `last_segment`.
    pub fn freeze(&mut self, last_segment: u64) -> Arc<Generation> {
        let mut frozen = std::mem::replace(&mut self.active, Generation::new());
        frozen.last_segment = last_segment;
        let frozen = Arc::new(frozen);
        self.frozen.push(frozen.clone());
        frozen
    }

    /// Bytes held in every generation.
    pub fn bytes(&self) -> usize {
        self.active.bytes + self.frozen.iter().map(|g| g.bytes).sum::<usize>()
    }

    /// Rows held in every generation.
    pub fn rows(&self) -> usize {
        self.active.rows + self.frozen.iter().map(|g| g.rows).sum::<usize>()
    }

    /// One table's rows in each generation that has some, oldest generation first.
    pub fn table(&self, key: TableKey) -> Vec<TableBuffer> {
        self.frozen
            .iter()
            .map(|g| &**g)
            .chain(std::iter::once(&self.active))
            .filter_map(|g| g.tables.get(&key).cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Float64Type, Int64Type};
    use linegate::{validate, Precision};

    /// Removes the test's catalog directory when dropped.
    struct Dir(std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn build(body: &str) -> (Vec<TableRows>, Catalog, Dir) {
        let dir = std::env::temp_dir().join(format!(
            "linegate-buffer-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut catalog = Catalog::open(&dir.join("catalog.json")).unwrap();
        let accepted = validate(body.as_bytes(), Precision::Nanosecond, 99, false).unwrap();
        let admitted = catalog.admit("db", body, &accepted.batch, false).unwrap();
        let batches =
            to_record_batches(&accepted.batch, &admitted.tables, &admitted.rejected_rows).unwrap();
        (batches, catalog, Dir(dir))
    }

    #[test]
    fn rows_become_typed_columns_with_nulls_for_missing_values() {
        let (batches, _, _dir) = build(
            "cpu,host=a usage=1.5,n=2i 10\n\
             mem free=3u 11\n\
             cpu,host=b,dc=x n=3i,s=\"q\\\"t\",ok=true 12\n\
             cpu,h\\ x=esc\\,aped usage=2\n",
        );
        assert_eq!(batches.len(), 2);
        let cpu = &batches[0].batch;
        let names: Vec<_> = cpu
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            ["host", "dc", "h x", "usage", "n", "s", "ok", "time"]
        );
        assert_eq!(cpu.num_rows(), 3);
        let host = cpu.column(0).as_string::<i32>();
        assert_eq!(
            (host.value(0), host.value(1), host.is_null(2)),
            ("a", "b", true)
        );
        assert_eq!(cpu.column(2).as_string::<i32>().value(2), "esc,aped");
        let usage = cpu.column(3).as_primitive::<Float64Type>();
        assert_eq!(
            (usage.value(0), usage.is_null(1), usage.value(2)),
            (1.5, true, 2.0)
        );
        let n = cpu.column(4).as_primitive::<Int64Type>();
        assert_eq!((n.value(0), n.value(1), n.is_null(2)), (2, 3, true));
        assert_eq!(cpu.column(5).as_string::<i32>().value(1), "q\"t");
        assert!(cpu.column(6).as_boolean().value(1));
        let time = cpu
            .column(7)
            .as_primitive::<arrow::datatypes::TimestampNanosecondType>();
        assert_eq!((time.value(0), time.value(1), time.value(2)), (10, 12, 99));
    }

    #[test]
    fn a_full_row_after_a_partial_one_keeps_every_column_in_line() {
        // The first, third and fourth rows fill every column; the second lacks `t` and `b`.
        let (rows, _, _dir) = build("m,t=x a=1,b=2 1\nm a=3 2\nm,t=y a=4,b=5 3\nm,t=z a=6,b=7 4\n");
        let m = &rows[0].batch;
        let t = m.column(0).as_string::<i32>();
        let b = m.column(2).as_primitive::<Float64Type>();
        assert_eq!(
            (0..4)
                .map(|i| t.is_valid(i).then(|| t.value(i)))
                .collect::<Vec<_>>(),
            [Some("x"), None, Some("y"), Some("z")]
        );
        assert_eq!(
            (0..4)
                .map(|i| b.is_valid(i).then(|| b.value(i)))
                .collect::<Vec<_>>(),
            [Some(2.0), None, Some(5.0), Some(7.0)]
        );
    }

    #[test]
    fn small_batches_merge_and_keep_every_row() {
        let (batches, catalog, _dir) = build("m,t=a f=1 1\n");
        let def = &catalog.database("db").unwrap().tables["m"];
        let mut generation = Generation::new();
        for _ in 0..200 {
            generation.push(1, batches.clone(), &mut Latest::default());
        }
        let table = &generation.tables[&(1, def.id)];
        assert_eq!(table.rows, 200);
        assert!(table.batches.len() <= 4, "{} batches", table.batches.len());
        let total: usize = table.batches().map(|b| b.num_rows()).sum();
        assert_eq!(total, 200);
        assert_eq!(generation.rows, 200);
        assert!(generation.bytes > 0);
    }

    #[test]
    fn a_write_that_may_repeat_a_point_is_flagged_whatever_the_tag_order() {
        let mut buffers = Buffers::default();
        let (first, catalog, _dir) = build("m,a=1,b=2 f=1 10\nm,a=2 f=1 10\n");
        let key = (1, catalog.database("db").unwrap().tables["m"].id);
        buffers.push(1, first);
        assert!(!buffers.active.tables[&key].repeats, "new series");
        let (later, _, _dir2) = build("m,a=1,b=2 f=2 11\n");
        buffers.push(1, later);
        assert!(!buffers.active.tables[&key].repeats, "a later time");
        let (again, _, _dir3) = build("m,b=2,a=1 g=2 11\n");
        buffers.push(1, again);
        assert!(
            buffers.active.tables[&key].repeats,
            "the same point, tags reordered"
        );
        buffers.freeze(1);
        let (older, _, _dir4) = build("m,a=2 f=3 9\n");
        buffers.push(1, older);
        assert!(
            !buffers.active.tables[&key].repeats,
            "an earlier time never written is a new point"
        );
        let (again, _, _dir6) = build("m,a=2 f=3 10\n");
        buffers.push(1, again);
        let tables = buffers.table(key);
        assert_eq!(tables.len(), 2);
        assert!(
            tables[1].repeats,
            "a point of a series in a frozen generation, written again"
        );
        assert_eq!((tables[0].min_time, tables[0].max_time), (10, 11));
        let (within, _, _dir5) = build("n,a=1 f=1 5\nn,a=1 f=2 5\n");
        assert!(within[0].unordered, "one request repeating a point");
    }

    #[test]
    fn out_of_order_requests_are_not_repeats_but_overlaps_are() {
        let mut written = Written::default();
        assert!(!written.add((50, 60)), "first");
        assert!(!written.add((40, 49)), "an earlier request, arriving later");
        assert!(!written.add((61, 70)), "a later one");
        assert!(written.add((45, 45)), "inside a span");
        assert!(written.add((69, 80)), "overlapping the last");
        assert!(!written.add((100, 110)));
        assert!(!written.add((0, 1)));
        assert!(!written.add((200, 210)));
        assert!(!written.add((300, 310)));
        assert!(written.0.len() <= MAX_SPANS, "{:?}", written.0);
        assert!(
            written.add((105, 105)),
            "joined spans still cover what was written"
        );
    }

    #[test]
    fn a_late_request_fills_a_recent_gap_however_many_came_before() {
        let mut written = Written::default();
        for start in (0..1000).step_by(10).filter(|&s| s != 970) {
            assert!(!written.add((start, start + 5)), "{start}");
        }
        assert!(!written.add((970, 975)), "the late request");
        assert!(written.add((972, 972)), "now written");
        assert!(written.add((3, 3)), "joined spans still cover the oldest");
    }

    #[test]
    fn adapt_fills_columns_added_later_with_nulls() {
        let (first, mut catalog, _dir) = build("m,a=1 f=1 1\n");
        let body = "m,b=2 g=2i 2\n";
        let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, true).unwrap();
        let admitted = catalog.admit("db", body, &accepted.batch, true).unwrap();
        let schema = admitted.tables[0].as_ref().unwrap().schema();
        let adapted = adapt(&first[0].batch, &schema).unwrap();
        assert_eq!(adapted.num_columns(), 5);
        assert_eq!(adapted.column_by_name("b").unwrap().null_count(), 1);
        assert_eq!(
            adapted
                .column_by_name("a")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "1"
        );
    }
}
