//! The last value of every field of every series of a table, as rows: what InfluxQL's
//! `last()` of every series needs, without reading every point.
//!
//! A table's last rows hold, for each series and field, the point with the field's latest
//! time, that field alone set (one row per series when a series writes all its fields at
//! once). `last()` over them answers exactly what it answers over the whole table, so a
//! query that only asks for `last()` reads them, with the buffer, instead of the files.
//!
//! They cover what is persisted. A table's rows are made on the first such query (a scan of
//! its files) and kept up to date as each generation is persisted; a delete or drop forgets
//! them (the next query makes them again); compaction changes no value and expiry is the
//! query's filter, so neither touches them.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array, UInt64Array};
use arrow::compute::take;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::Result;
use datafusion::functions_aggregate::expr_fn::{first_value, max};
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::prelude::{col, DataFrame, Expr};

use crate::buffer::TableKey;
use crate::catalog::TIME_COLUMN;

/// Every table's last rows, and a count of the changes to persisted data (persists,
/// deletes), so rows made from a scan are kept only if nothing changed meanwhile.
#[derive(Default)]
pub struct LastValues {
    tables: HashMap<TableKey, Arc<RecordBatch>>,
    /// Per table, the last rows of the buffer's sealed batches, with those batches' ids.
    buffered: HashMap<TableKey, Buffered>,
    /// Counts the persists and deletes.
    changes: u64,
}

/// The last rows of a prefix of a table's sealed buffer batches, so a query reduces only
/// the batches sealed since.
#[derive(Clone)]
pub struct Buffered {
    /// The ids ([`batch_id`]) of the batches reduced, in write order.
    pub batches: Vec<usize>,
    /// Their last rows.
    pub rows: Arc<RecordBatch>,
}

/// A sealed batch's identity: the address of its time values, which never move.
pub fn batch_id(batch: &RecordBatch) -> usize {
    let time = batch.column(batch.num_columns() - 1).to_data();
    time.buffers().first().map_or(0, |b| b.as_ptr() as usize)
}

impl LastValues {
    /// The last rows of table `key`, if they are made.
    pub fn get(&self, key: TableKey) -> Option<Arc<RecordBatch>> {
        self.tables.get(&key).cloned()
    }

    /// The last rows of table `key`'s sealed buffer batches, as a query last kept them.
    pub fn buffered(&self, key: TableKey) -> Option<Buffered> {
        self.buffered.get(&key).cloned()
    }

    /// Keeps the last rows of table `key`'s sealed buffer batches for the next query, made
    /// from a buffer taken at change count `changes`, unless a persist or delete came since:
    /// the batches they name are then still buffered (so their ids cannot be reused).
    pub fn keep_buffered(&mut self, key: TableKey, buffered: Buffered, changes: u64) {
        if self.changes == changes {
            self.buffered.insert(key, buffered);
        }
    }

    /// The count of changes, taken with the files a scan reads.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Keeps rows made by a scan of the files as they were at change count `changes`,
    /// unless something changed since.
    pub fn keep(&mut self, key: TableKey, rows: Arc<RecordBatch>, changes: u64) {
        if self.changes == changes {
            self.tables.insert(key, rows);
        }
    }

    /// A generation was persisted: each table's rows become the update's when they are
    /// still the base it was made from (no base: they were not made, and stay so); rows
    /// that changed meanwhile are forgotten.
    pub fn persisted(&mut self, updates: Vec<Update>) {
        self.changes += 1;
        // The persisted batches leave the buffer.
        self.buffered.clear();
        for update in updates {
            let unchanged = match (self.tables.get(&update.key), &update.base) {
                (Some(current), Some(base)) => Arc::ptr_eq(current, base),
                (None, None) => true,
                _ => false,
            };
            match (unchanged, update.updated) {
                (true, Some(rows)) => {
                    self.tables.insert(update.key, rows);
                }
                // Not made before, and so not now.
                (true, None) if update.base.is_none() => {}
                // Changed meanwhile, or the update failed: made again on the next query.
                _ => {
                    self.tables.remove(&update.key);
                }
            }
        }
    }

    /// Forgets the rows of the tables `doomed` selects (a delete or drop changed them).
    pub fn forget(&mut self, doomed: impl Fn(TableKey) -> bool) {
        self.changes += 1;
        self.tables.retain(|key, _| !doomed(*key));
        self.buffered.retain(|key, _| !doomed(*key));
    }
}

/// A table's last rows before a persist (`base`) and with its generation taken in.
pub struct Update {
    /// The table.
    pub key: TableKey,
    /// The rows the update was made from, if they were made.
    pub base: Option<Arc<RecordBatch>>,
    /// The rows with the generation's; `None` if there was no base or it failed.
    pub updated: Option<Arc<RecordBatch>>,
}

/// The name of the column that orders rows of equal time: a later source wins.
pub const RANK: &str = "__rank";

/// Reduces `frame` (a table's columns — tags, fields, `time` — and a [`RANK`] column) to
/// its last rows, in `schema` (the table's).
pub async fn reduce(frame: DataFrame, schema: &SchemaRef, tag_count: usize) -> Result<RecordBatch> {
    let fields: Vec<&Arc<Field>> = schema.fields()[tag_count..schema.fields().len() - 1]
        .iter()
        .collect();
    let tags: Vec<Expr> = schema.fields()[..tag_count]
        .iter()
        .map(|f| col(quoted(f.name())))
        .collect();
    let order = vec![
        col(TIME_COLUMN).sort(false, false),
        col(RANK).sort(false, false),
    ];
    let mut aggregates = Vec::with_capacity(fields.len() * 2);
    for (i, field) in fields.iter().enumerate() {
        let value = col(quoted(field.name()));
        let present = value.clone().is_not_null();
        aggregates.push(
            first_value(value, vec![])
                .order_by(order.clone())
                .filter(present.clone())
                .build()?
                .alias(format!("__v{i}")),
        );
        aggregates.push(
            max(col(TIME_COLUMN))
                .filter(present)
                .build()?
                .alias(format!("__t{i}")),
        );
    }
    let wide = frame.aggregate(tags, aggregates)?.collect().await?;
    rows(&wide, schema, tag_count, fields.len())
}

/// Turns the aggregate's rows (tags, then a value and a time per field) into table rows:
/// one per series and distinct time, holding the fields whose last point it is.
fn rows(
    wide: &[RecordBatch],
    schema: &SchemaRef,
    tag_count: usize,
    field_count: usize,
) -> Result<RecordBatch> {
    let mut batches = Vec::new();
    for batch in wide {
        // (row of `batch`, time) → the output row, per field.
        let mut picks: Vec<(u32, i64)> = Vec::new();
        let mut cells: Vec<Vec<Option<u32>>> = vec![Vec::new(); field_count];
        for row in 0..batch.num_rows() {
            let first = picks.len();
            for f in 0..field_count {
                let times = batch.column(tag_count + 2 * f + 1);
                if times.is_null(row) {
                    continue;
                }
                let time = times
                    .as_any()
                    .downcast_ref::<arrow::array::TimestampNanosecondArray>()
                    .map_or(0, |t| t.value(row));
                let at = match picks[first..].iter().position(|&(_, t)| t == time) {
                    Some(i) => first + i,
                    None => {
                        picks.push((row as u32, time));
                        for column in cells.iter_mut() {
                            column.push(None);
                        }
                        picks.len() - 1
                    }
                };
                cells[f][at] = Some(row as u32);
            }
        }
        let series = UInt32Array::from_iter_values(picks.iter().map(|(row, _)| *row));
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        for t in 0..tag_count {
            columns.push(take(batch.column(t), &series, None)?);
        }
        for (f, column) in cells.iter().enumerate() {
            let indices = UInt32Array::from(column.clone());
            columns.push(take(batch.column(tag_count + 2 * f), &indices, None)?);
        }
        let times: Vec<i64> = picks.iter().map(|(_, t)| *t).collect();
        columns.push(Arc::new(arrow::array::TimestampNanosecondArray::from(
            times,
        )));
        batches.push(RecordBatch::try_new(schema.clone(), columns)?);
    }
    if batches.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    Ok(arrow::compute::concat_batches(schema, &batches)?)
}

/// `batch`, the `source`-th in write order, with a [`RANK`] column that orders its rows
/// after every earlier source's and after each other, so that the later write wins a tie
/// (a point written twice in one request lands twice in one batch).
pub fn ranked(batch: &RecordBatch, source: u64) -> Result<RecordBatch> {
    let mut fields: Vec<Arc<Field>> = batch.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(RANK, DataType::UInt64, false)));
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let ranks = (0..batch.num_rows() as u64).map(|row| (source << 32) | row);
    columns.push(Arc::new(UInt64Array::from_iter_values(ranks)));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Float64Array, StringArray, TimestampNanosecondArray};
    use arrow::datatypes::{Float64Type, TimeUnit};
    use datafusion::prelude::SessionContext;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("host", DataType::Utf8, true),
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Float64, true),
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
        ]))
    }

    fn batch(hosts: &[&str], a: &[Option<f64>], b: &[Option<f64>], times: &[i64]) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(hosts.to_vec())),
                Arc::new(Float64Array::from(a.to_vec())),
                Arc::new(Float64Array::from(b.to_vec())),
                Arc::new(TimestampNanosecondArray::from(times.to_vec())),
            ],
        )
        .unwrap()
    }

    async fn reduced(sources: Vec<RecordBatch>) -> RecordBatch {
        let ctx = SessionContext::new();
        let ranked: Vec<RecordBatch> = sources
            .iter()
            .enumerate()
            .map(|(i, b)| ranked(b, i as u64).unwrap())
            .collect();
        let frame = ctx.read_batches(ranked).unwrap();
        let out = reduce(frame, &schema(), 1).await.unwrap();
        let ctx = SessionContext::new();
        let frame = ctx
            .read_batch(out)
            .unwrap()
            .sort(vec![
                col("host").sort(true, false),
                col("time").sort(true, false),
            ])
            .unwrap();
        arrow::compute::concat_batches(&schema(), &frame.collect().await.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn within_one_batch_the_later_row_wins_a_tie() {
        let one = batch(&["x", "x"], &[Some(1.0), Some(2.0)], &[None, None], &[5, 5]);
        let rows = reduced(vec![one]).await;
        assert_eq!(rows.num_rows(), 1);
        assert_eq!(rows.column(1).as_primitive::<Float64Type>().value(0), 2.0);
    }

    #[tokio::test]
    async fn each_field_keeps_its_latest_point_and_a_later_source_wins_a_tie() {
        let old = batch(
            &["x", "x", "y"],
            &[Some(1.0), Some(2.0), Some(5.0)],
            &[Some(10.0), None, Some(50.0)],
            &[1, 2, 1],
        );
        let new = batch(&["y"], &[Some(6.0)], &[None], &[1]);
        let rows = reduced(vec![old, new]).await;
        // x: a's last is at 2, b's at 1 → two rows; y: both at 1 → one row, a from the later source.
        assert_eq!(rows.num_rows(), 3);
        let hosts = rows.column(0).as_string::<i32>();
        let a = rows.column(1).as_primitive::<Float64Type>();
        let b = rows.column(2).as_primitive::<Float64Type>();
        let row = |i: usize| {
            (
                hosts.value(i).to_owned(),
                a.is_valid(i).then(|| a.value(i)),
                b.is_valid(i).then(|| b.value(i)),
            )
        };
        assert_eq!(row(0), ("x".into(), None, Some(10.0)));
        assert_eq!(row(1), ("x".into(), Some(2.0), None));
        assert_eq!(row(2), ("y".into(), Some(6.0), Some(50.0)));
    }
}
