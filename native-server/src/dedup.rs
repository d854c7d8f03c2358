//! Last write wins: a point is its table, tag set and time. Written again, the later write's
//! fields replace the earlier ones and the fields it does not carry are kept, as in InfluxDB.
//!
//! One merge serves every layer: a buffer generation when it is persisted, files when they
//! are compacted, and the sources a query reads when they may hold the same point.

use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take, take_record_batch};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::row::{RowConverter, Rows, SortField};

use crate::buffer::adapt;

/// Sorts the rows of `batches` (oldest write first, each in `schema` or an older version of
/// it) by series key then time, and merges the rows of one point: each field keeps its
/// latest non-null value. The first `tag_count` columns are the tags and the last is time.
pub fn merge(
    schema: &SchemaRef,
    tag_count: usize,
    batches: Vec<RecordBatch>,
) -> Result<RecordBatch, ArrowError> {
    let adapted = batches
        .iter()
        .map(|b| adapt(b, schema))
        .collect::<Result<Vec<_>, _>>()?;
    drop(batches);
    // The inputs are dropped once copied: a merge holds its rows about twice, not three times.
    let all = match adapted.as_slice() {
        [one] => one.clone(),
        _ => concat_batches(schema, &adapted)?,
    };
    drop(adapted);
    let time = all.num_columns() - 1;
    let keys: Vec<ArrayRef> = (0..tag_count)
        .chain(std::iter::once(time))
        .map(|i| all.column(i).clone())
        .collect();
    // Keys are encoded once into Arrow's row format, so each comparison is a `memcmp` rather
    // than a per-column dynamic one (several times faster on string tags).
    let converter = RowConverter::new(
        keys.iter()
            .map(|k| SortField::new(k.data_type().clone()))
            .collect(),
    )?;
    let rows = converter.convert_columns(&keys)?;
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    let row = |i: u32| rows.row(i as usize);
    if !order.windows(2).all(|w| row(w[0]) <= row(w[1])) {
        // Stable: the rows of one point stay in write order.
        order.sort_by(|&a, &b| row(a).cmp(&row(b)));
    }
    let runs = point_runs(&rows, &order);
    if runs.len() == order.len() {
        return take_record_batch(&all, &UInt32Array::from(order));
    }
    merge_runs(&all, tag_count, &order, &runs)
}

/// Where each point's rows start in `order` (sorted), as a list of run starts.
fn point_runs(rows: &Rows, order: &[u32]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(order.len());
    for (i, pair) in std::iter::once(None)
        .chain(order.windows(2).map(Some))
        .enumerate()
    {
        match pair {
            Some(w) if rows.row(w[0] as usize) == rows.row(w[1] as usize) => {}
            _ => starts.push(i),
        }
    }
    starts
}

/// One row per run: tags and time from the run's last row, each field from the last row of
/// the run where it is not null.
fn merge_runs(
    all: &RecordBatch,
    tag_count: usize,
    order: &[u32],
    starts: &[usize],
) -> Result<RecordBatch, ArrowError> {
    let ends = starts
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(order.len()));
    let runs: Vec<(usize, usize)> = starts.iter().copied().zip(ends).collect();
    let last: UInt32Array = runs.iter().map(|&(_, end)| order[end - 1]).collect();
    let time = all.num_columns() - 1;
    let mut columns = Vec::with_capacity(all.num_columns());
    for (c, column) in all.columns().iter().enumerate() {
        let picked = if c < tag_count || c == time || column.null_count() == 0 {
            take(column, &last, None)?
        } else {
            let latest: UInt32Array = runs
                .iter()
                .map(|&(start, end)| {
                    let run = &order[start..end];
                    run.iter()
                        .rev()
                        .copied()
                        .find(|&i| column.is_valid(i as usize))
                        .unwrap_or(run[run.len() - 1])
                })
                .collect();
            take(column, &latest, None)?
        };
        columns.push(picked);
    }
    RecordBatch::try_new(all.schema(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Float64Array, Int64Array, StringArray, TimestampNanosecondArray};
    use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, TimeUnit};
    use std::sync::Arc;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("host", DataType::Utf8, true),
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Int64, true),
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
        ]))
    }

    fn batch(
        host: &[Option<&str>],
        a: &[Option<f64>],
        b: &[Option<i64>],
        t: &[i64],
    ) -> RecordBatch {
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(StringArray::from(host.to_vec())),
                Arc::new(Float64Array::from(a.to_vec())),
                Arc::new(Int64Array::from(b.to_vec())),
                Arc::new(TimestampNanosecondArray::from(t.to_vec())),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_later_write_replaces_the_fields_it_carries_and_keeps_the_others() {
        let first = batch(
            &[Some("x"), Some("y")],
            &[Some(1.0), Some(5.0)],
            &[Some(10), None],
            &[1, 1],
        );
        let second = batch(&[Some("x")], &[None], &[Some(20)], &[1]);
        let third = batch(&[Some("x")], &[Some(3.0)], &[None], &[1]);
        let merged = merge(&schema(), 1, vec![first, second, third]).unwrap();
        assert_eq!(merged.num_rows(), 2);
        let host = merged.column(0).as_string::<i32>();
        let a = merged.column(1).as_primitive::<Float64Type>();
        let b = merged.column(2).as_primitive::<Int64Type>();
        assert_eq!((host.value(0), a.value(0), b.value(0)), ("x", 3.0, 20));
        assert_eq!((host.value(1), a.value(1), b.is_null(1)), ("y", 5.0, true));
    }

    #[test]
    fn a_missing_tag_is_a_different_series_and_times_sort_within_a_series() {
        let rows = batch(
            &[Some("x"), None, Some("x"), None],
            &[Some(1.0), Some(2.0), Some(3.0), Some(4.0)],
            &[None, None, None, None],
            &[5, 5, 2, 5],
        );
        let merged = merge(&schema(), 1, vec![rows]).unwrap();
        assert_eq!(merged.num_rows(), 3);
        let a = merged.column(1).as_primitive::<Float64Type>();
        let time = merged
            .column(3)
            .as_primitive::<arrow::datatypes::TimestampNanosecondType>();
        // Nulls sort first; the two untagged rows at time 5 are one point, the later wins.
        assert_eq!(merged.column(0).null_count(), 1);
        assert_eq!((a.value(0), time.value(0)), (4.0, 5));
        assert_eq!((a.value(1), time.value(1)), (3.0, 2));
        assert_eq!((a.value(2), time.value(2)), (1.0, 5));
    }

    #[test]
    fn rows_without_duplicates_are_only_sorted() {
        let rows = batch(
            &[Some("b"), Some("a")],
            &[Some(1.0), Some(2.0)],
            &[Some(1), Some(2)],
            &[1, 1],
        );
        let merged = merge(&schema(), 1, vec![rows]).unwrap();
        assert_eq!(merged.num_rows(), 2);
        assert_eq!(merged.column(0).as_string::<i32>().value(0), "a");
    }
}
