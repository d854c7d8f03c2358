//! Last write wins: a point is its table, tag set and time. Written again, the later write's
//! fields replace the earlier ones and the fields it does not carry are kept, as in InfluxDB.
//!
//! One merge serves every layer: a buffer generation when it is persisted, files when they
//! are compacted, and the sources a query reads when they may hold the same point.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, RecordBatch, TimestampNanosecondArray};
use arrow::compute::interleave;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::row::{Row, RowConverter, SortField};
use foldhash::fast::RandomState;

use crate::buffer::adapt;

/// Sorts the rows of `batches` (oldest write first, each in `schema` or an older version of
/// it) by series key then time, and merges the rows of one point: each field keeps its
/// latest non-null value. The first `tag_count` columns are the tags and the last is time.
pub fn merge(
    schema: &SchemaRef,
    tag_count: usize,
    batches: Vec<RecordBatch>,
) -> Result<RecordBatch, ArrowError> {
    Ok(merge_by_window(schema, tag_count, batches, None)?.batch)
}

/// The result of [`merge_by_window`].
pub struct Merged {
    /// One row per point, sorted by window, then series key, then time.
    pub batch: RecordBatch,
    /// Each window's start (ns) and its rows in `batch`, in time order.
    pub windows: Vec<(i64, std::ops::Range<usize>)>,
}

/// [`merge`], with the points grouped by time window of `window` nanoseconds first (when
/// given), so that each window's rows are one slice of the result.
///
/// The rows are gathered straight from the inputs into the result (Arrow's `interleave`):
/// a merge holds its rows about twice, the inputs and the result, and copies them once.
pub fn merge_by_window(
    schema: &SchemaRef,
    tag_count: usize,
    batches: Vec<RecordBatch>,
    window: Option<i64>,
) -> Result<Merged, ArrowError> {
    let inputs = batches
        .iter()
        .map(|b| adapt(b, schema))
        .collect::<Result<Vec<_>, _>>()?;
    drop(batches);
    let time = schema.fields().len() - 1;
    let rows: usize = inputs.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        return Ok(Merged {
            batch: RecordBatch::new_empty(schema.clone()),
            windows: Vec::new(),
        });
    }
    let mut times = Vec::with_capacity(rows);
    // Where each row is: (input, row in that input), by row number across the inputs.
    let mut place = Vec::with_capacity(rows);
    for (i, input) in inputs.iter().enumerate() {
        let column = input
            .column(time)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .ok_or_else(|| ArrowError::SchemaError("the time column is not a timestamp".into()))?;
        times.extend_from_slice(column.values());
        place.extend((0..input.num_rows()).map(|r| (i, r)));
    }
    let tags: Vec<&[ArrayRef]> = inputs.iter().map(|b| &b.columns()[..tag_count]).collect();
    let (order, runs) = point_order(&tags, &times)?;
    // The row each point takes its tags and time from: the last of its run.
    let ends = runs
        .iter()
        .skip(1)
        .copied()
        .chain(std::iter::once(order.len()));
    let mut points: Vec<(usize, usize)> = runs.iter().copied().zip(ends).collect();
    let windows = match window {
        Some(width) => group_by_window(
            &mut points,
            |(_, end)| times[order[end - 1] as usize],
            width,
        ),
        None => vec![(0, 0..points.len())],
    };
    let last: Vec<(usize, usize)> = points
        .iter()
        .map(|&(_, end)| place[order[end - 1] as usize])
        .collect();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for c in 0..schema.fields().len() {
        let arrays: Vec<&dyn Array> = inputs.iter().map(|b| b.column(c).as_ref()).collect();
        let merges = c >= tag_count
            && c != time
            && points.len() < rows
            && arrays.iter().any(|a| a.null_count() > 0);
        let column = if merges {
            // Each point's field from the last row of its run where it is not null.
            let latest: Vec<(usize, usize)> = points
                .iter()
                .map(|&(start, end)| {
                    let run = &order[start..end];
                    let valid = |&&i: &&u32| {
                        let (input, row) = place[i as usize];
                        arrays[input].is_valid(row)
                    };
                    place[*run.iter().rev().find(valid).unwrap_or(&run[run.len() - 1]) as usize]
                })
                .collect();
            interleave(&arrays, &latest)?
        } else {
            interleave(&arrays, &last)?
        };
        columns.push(column);
    }
    Ok(Merged {
        batch: RecordBatch::try_new(schema.clone(), columns)?,
        windows,
    })
}

/// Reorders `points` (sorted by series then time) by window of `width` nanoseconds,
/// keeping their order within a window; returns each window's start and range.
fn group_by_window(
    points: &mut Vec<(usize, usize)>,
    time: impl Fn((usize, usize)) -> i64,
    width: i64,
) -> Vec<(i64, std::ops::Range<usize>)> {
    let (order, windows) = window_order(points.iter().map(|&p| time(p)), width);
    if windows.len() > 1 {
        *points = order.iter().map(|&i| points[i as usize]).collect();
    }
    windows
}

/// The positions of `times` ordered by window of `width` nanoseconds (a stable counting
/// sort), and each window's start and range in that order, earliest window first. When
/// every time is in one window (the usual case) the order is left empty: it is the
/// positions as they are.
pub fn window_order(
    times: impl Iterator<Item = i64>,
    width: i64,
) -> (Vec<u32>, Vec<(i64, std::ops::Range<usize>)>) {
    let width = width.max(1);
    let of_time: Vec<i64> = times.map(|t| t.div_euclid(width)).collect();
    if let Some(&first) = of_time.first() {
        if of_time.iter().all(|&w| w == first) {
            return (Vec::new(), vec![(first * width, 0..of_time.len())]);
        }
    }
    let mut starts = of_time.clone();
    starts.sort_unstable();
    starts.dedup();
    let index: Vec<usize> = of_time
        .iter()
        .map(|w| starts.binary_search(w).unwrap_or_else(|i| i))
        .collect();
    let (order, ends) = bucket_order(&index, starts.len());
    let windows = starts
        .iter()
        .zip(
            std::iter::once(0)
                .chain(ends.iter().copied())
                .zip(ends.iter().copied()),
        )
        .map(|(&w, (start, end))| (w * width, start..end))
        .collect();
    (order, windows)
}

/// A counting sort: the indexes of `buckets` (each below `count`) ordered by bucket, in
/// their original order within one, and where each bucket's indexes end.
fn bucket_order(buckets: &[usize], count: usize) -> (Vec<u32>, Vec<usize>) {
    let mut ends = vec![0usize; count];
    for &b in buckets {
        ends[b] += 1;
    }
    for b in 1..count {
        ends[b] += ends[b - 1];
    }
    let mut next: Vec<usize> = std::iter::once(0).chain(ends.iter().copied()).collect();
    let mut order = vec![0u32; buckets.len()];
    for (i, &b) in buckets.iter().enumerate() {
        order[next[b]] = i as u32;
        next[b] += 1;
    }
    (order, ends)
}

/// Row indexes sorted by series key then time, stably (the rows of one point stay in write
/// order), and where each point's rows start among them.
///
/// Rows are not compared with each other: each row's tag set is looked up among the
/// distinct series (a hash of its bytes in Arrow's row format), only the distinct series
/// are sorted, rows are placed by series rank (a counting sort, which keeps write order) and
/// a series' times are sorted only when they are out of order. A buffer or a day holds few
/// series and many rows, so this costs a hash per row instead of `n log n` string
/// comparisons.
fn point_order(tags: &[&[ArrayRef]], times: &[i64]) -> Result<(Vec<u32>, Vec<usize>), ArrowError> {
    let rows = times.len();
    let mut ids: Vec<u32> = vec![0; rows];
    let mut rank = vec![0u32];
    if let Some(first) = tags.first().filter(|t| !t.is_empty()) {
        let converter = RowConverter::new(
            first
                .iter()
                .map(|t| SortField::new(t.data_type().clone()))
                .collect(),
        )?;
        let mut keys = converter.empty_rows(rows, rows * 16);
        for columns in tags {
            converter.append(&mut keys, columns)?;
        }
        let mut distinct: HashMap<Row<'_>, u32, RandomState> = HashMap::default();
        for (i, id) in ids.iter_mut().enumerate() {
            let next = distinct.len() as u32;
            *id = *distinct.entry(keys.row(i)).or_insert(next);
        }
        let mut by_key: Vec<(Row<'_>, u32)> = distinct.into_iter().collect();
        by_key.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        rank = vec![0; by_key.len()];
        for (r, &(_, id)) in by_key.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
    }
    let ranks: Vec<usize> = ids.iter().map(|&id| rank[id as usize] as usize).collect();
    drop(ids);
    let (mut order, ends) = bucket_order(&ranks, rank.len());
    let mut runs = Vec::with_capacity(order.len());
    let mut start = 0;
    for end in ends {
        let series = &mut order[start..end];
        let time = |i: u32| times[i as usize];
        if !series.windows(2).all(|w| time(w[0]) <= time(w[1])) {
            series.sort_by_key(|&i| time(i)); // stable
        }
        for i in start..end {
            if i == start || time(order[i]) != time(order[i - 1]) {
                runs.push(i);
            }
        }
        start = end;
    }
    Ok((order, runs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        AsArray, Float64Array, Int64Array, StringArray, TimestampNanosecondArray, UInt32Array,
    };
    use arrow::datatypes::TimestampNanosecondType;
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
    fn no_rows_merge_to_none() {
        assert_eq!(merge(&schema(), 1, vec![]).unwrap().num_rows(), 0);
        let empty = batch(&[], &[], &[], &[]);
        let merged = merge_by_window(&schema(), 1, vec![empty], Some(10)).unwrap();
        assert_eq!((merged.batch.num_rows(), merged.windows.len()), (0, 0));
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

    #[test]
    fn merges_like_a_map_of_points_applied_in_write_order() {
        // A reference: each point (tags, time) keeps each field's latest non-null value.
        type Point = (Option<String>, Option<String>, i64);
        type Fields = (Option<f64>, Option<i64>);
        let schema = Arc::new(Schema::new(vec![
            Field::new("host", DataType::Utf8, true),
            Field::new("dc", DataType::Utf8, true),
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Int64, true),
            Field::new(
                "time",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
        ]));
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..50 {
            let mut expected: std::collections::BTreeMap<Point, Fields> = Default::default();
            let mut batches = Vec::new();
            for _ in 0..1 + next(4) {
                let rows = next(40) as usize;
                let mut cols: (Vec<_>, Vec<_>, Vec<_>, Vec<_>, Vec<_>) = Default::default();
                for _ in 0..rows {
                    let host = ["x", "y", "z"].get(next(4) as usize).map(|h| h.to_string());
                    let dc = ["east", "west"]
                        .get(next(3) as usize)
                        .map(|d| d.to_string());
                    let a = (next(3) > 0).then(|| next(100) as f64);
                    let b = (next(3) > 0).then(|| next(100) as i64);
                    let time = next(6) as i64 - 2;
                    let point = expected
                        .entry((host.clone(), dc.clone(), time))
                        .or_default();
                    point.0 = a.or(point.0);
                    point.1 = b.or(point.1);
                    cols.0.push(host);
                    cols.1.push(dc);
                    cols.2.push(a);
                    cols.3.push(b);
                    cols.4.push(time);
                }
                batches.push(
                    RecordBatch::try_new(
                        schema.clone(),
                        vec![
                            Arc::new(StringArray::from(cols.0)),
                            Arc::new(StringArray::from(cols.1)),
                            Arc::new(Float64Array::from(cols.2)),
                            Arc::new(Int64Array::from(cols.3)),
                            Arc::new(TimestampNanosecondArray::from(cols.4)),
                        ],
                    )
                    .unwrap(),
                );
            }
            let by_window =
                merge_by_window(&(schema.clone() as SchemaRef), 2, batches.clone(), Some(3))
                    .unwrap();
            let merged = merge(&(schema.clone() as SchemaRef), 2, batches).unwrap();
            // By window, the same points: each window's rows are those of `merged` in its
            // time range, in the same order.
            let mut start = 0;
            for (window, rows) in &by_window.windows {
                assert_eq!(rows.start, start);
                start = rows.end;
                let part = by_window.batch.slice(rows.start, rows.len());
                let in_window: Vec<u32> = (0..merged.num_rows() as u32)
                    .filter(|&i| {
                        let t = merged.column(4).as_primitive::<TimestampNanosecondType>();
                        t.value(i as usize).div_euclid(3) * 3 == *window
                    })
                    .collect();
                let expected =
                    arrow::compute::take_record_batch(&merged, &UInt32Array::from(in_window))
                        .unwrap();
                assert_eq!(part, expected);
            }
            assert_eq!(start, merged.num_rows());
            let host = merged.column(0).as_string::<i32>();
            let dc = merged.column(1).as_string::<i32>();
            let a = merged.column(2).as_primitive::<Float64Type>();
            let b = merged.column(3).as_primitive::<Int64Type>();
            let time = merged
                .column(4)
                .as_primitive::<arrow::datatypes::TimestampNanosecondType>();
            let got: Vec<(Point, Fields)> = (0..merged.num_rows())
                .map(|i| {
                    let text = |c: &arrow::array::StringArray| {
                        c.is_valid(i).then(|| c.value(i).to_string())
                    };
                    (
                        (text(host), text(dc), time.value(i)),
                        (
                            a.is_valid(i).then(|| a.value(i)),
                            b.is_valid(i).then(|| b.value(i)),
                        ),
                    )
                })
                .collect();
            // Sorted by tags (nulls first) then time, one row per point, merged fields.
            assert_eq!(got, expected.into_iter().collect::<Vec<_>>());
        }
    }
}
