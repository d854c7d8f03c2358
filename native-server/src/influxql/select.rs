//! `SELECT`: an InfluxQL statement planned onto DataFusion, then shaped as 1.x answers it.
//!
//! DataFusion scans, filters and aggregates (the work that grows with the data); what is
//! InfluxQL's own and grows only with the answer — splitting rows into series, filling
//! empty windows ([`super::shape`]), per-series `LIMIT` — runs here over its rows.
//!
//! The plan of one measurement:
//! - raw: `filter → project(tags, time, referenced columns) → sort(tags, time)`;
//! - aggregate: `filter → aggregate(by tags [, date_bin(time)]) → sort(tags, window)`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float64Type, Int64Type, IntervalMonthDayNano, TimestampNanosecondType, UInt64Type,
};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::SortExpr;
use datafusion::prelude::{coalesce, col, lit, DataFrame, Expr as DfExpr, SessionContext};
use linegate::schema::FieldType;
use linegate_influxql::{Dimension, Expr, Fill, NameOrRegex, Source};

use super::answer::{Series, Value};
use super::columns::{column, Column, Table};
use super::condition::{is_time, predicate, quoted, timestamp, TimeRange};
use super::plan::{
    compile, expand, is_call, transform_name, Cell, Planner, Projected, SelectorTime, AGGREGATES,
    SELECTORS,
};
use super::shape::{
    evaluate, fill_values, fill_windows, integrals_across_windows, is_integral, percentile,
    run_transform, Rows,
};
use super::{Error, Run};
use crate::query;

/// What `GROUP BY` asks for, resolved against one measurement.
struct Grouping {
    tags: Vec<String>,
    window: Option<(i64, i64)>,
}

fn grouping(dimensions: &[Dimension], table: &Table) -> Result<Grouping, Error> {
    let mut tags: Vec<String> = Vec::new();
    let mut window = None;
    for dimension in dimensions {
        match dimension {
            Dimension::Time { interval, offset } => {
                if *interval <= 0 {
                    return Err(Error::Statement(
                        "GROUP BY time interval must be positive".into(),
                    ));
                }
                window = Some((*interval, offset.unwrap_or(0).rem_euclid(*interval)));
            }
            Dimension::Tag(tag) => tags.push(tag.clone()),
            Dimension::Wildcard => tags.extend(table.tags.iter().cloned()),
            Dimension::Regex(regex) => {
                let re = compile(&regex.0)?;
                tags.extend(table.tags.iter().filter(|t| re.is_match(t)).cloned());
            }
        }
    }
    tags.sort();
    tags.dedup();
    Ok(Grouping { tags, window })
}

/// Runs a `SELECT`. Each measurement it names is planned on its own; their series come in
/// measurement order, each's by tags, and `SLIMIT`/`SOFFSET` count across them.
pub async fn select(
    run: &Run<'_>,
    select: &linegate_influxql::Select,
) -> Result<Vec<Series>, Error> {
    // Each measurement read, with the session that reads it: the database's, or one over a
    // subquery's answer.
    let mut sources: Vec<(Table, Arc<SessionContext>, Option<String>)> = Vec::new();
    let mut databases: BTreeMap<String, Arc<SessionContext>> = BTreeMap::new();
    for source in &select.from {
        let m = match source {
            Source::Measurement(m) => m,
            Source::Subquery(inner) => {
                // The outer query's tag dimensions reach into the subquery, as in 1.x, so
                // its points keep the tags the outer query groups by.
                let mut inner = inner.as_ref().clone();
                for dimension in &select.group_by {
                    let tag = !matches!(dimension, Dimension::Time { .. });
                    if tag && !inner.group_by.contains(dimension) {
                        inner.group_by.push(dimension.clone());
                    }
                }
                let answer = Box::pin(self::select(run, &inner)).await?;
                sources.extend(derived(&answer)?.into_iter().map(|(t, c)| (t, c, None)));
                continue;
            }
        };
        let named = m
            .database
            .as_deref()
            .map(|db| linegate::v1_database(db, m.retention_policy.as_deref()));
        let database = run.database(named.as_deref())?;
        let tables: Vec<Table> = {
            let catalog = run.store.catalog();
            let Some(db) = catalog.database(&database) else {
                return Err(Error::Statement(format!("database not found: {database}")));
            };
            let pattern = match &m.name {
                NameOrRegex::Regex(regex) => Some(compile(&regex.0)?),
                NameOrRegex::Name(_) => None,
            };
            db.tables
                .values()
                .filter(|table| match (&m.name, &pattern) {
                    (NameOrRegex::Name(name), _) => *name == table.name,
                    (_, Some(re)) => re.is_match(&table.name),
                    (_, None) => false,
                })
                .map(|t| Table::new(t))
                .collect()
        };
        if tables.is_empty() {
            continue;
        }
        let ctx = match databases.get(&database) {
            Some(ctx) => ctx.clone(),
            None => {
                let ctx = Arc::new(query::context(run.store, &database)?);
                databases.insert(database.clone(), ctx.clone());
                ctx
            }
        };
        sources.extend(
            tables
                .into_iter()
                .map(|t| (t, ctx.clone(), Some(database.clone()))),
        );
    }
    sources.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    // `*` and regexes expand against the columns of every measurement read, so all series
    // of the answer have the same columns, as in 1.x.
    let mut all = Table {
        name: String::new(),
        tags: Vec::new(),
        fields: Vec::new(),
    };
    for (table, _, _) in &sources {
        for tag in &table.tags {
            if !all.tags.contains(tag) {
                all.tags.push(tag.clone());
            }
        }
        for (field, ty) in &table.fields {
            if all.field(field).is_none() {
                all.fields.push((field.clone(), *ty));
            }
        }
    }
    let mut series = Vec::new();
    for (table, ctx, database) in &sources {
        // `last()` of every series reads the table's last rows, not all its points.
        let last = match database {
            Some(database) if reads_only_last(select, table) => {
                query::last_values_context(run.store, database, &table.name).await?
            }
            _ => None,
        };
        let ctx = last.as_ref().unwrap_or(ctx);
        series.extend(measurement(run, ctx, table, &all, select).await?);
    }
    let skip = select.soffset.unwrap_or(0) as usize;
    Ok(match select.slimit {
        Some(limit) if limit > 0 => series.into_iter().skip(skip).take(limit as usize).collect(),
        _ => series.into_iter().skip(skip).collect(),
    })
}

/// Whether a statement asks only for `last()` of fields (beside tags), over all time and
/// filtered by tags at most: then a table's last rows answer it exactly.
fn reads_only_last(select: &linegate_influxql::Select, table: &Table) -> bool {
    fn tags_only(expr: &Expr, table: &Table) -> bool {
        match expr {
            Expr::VarRef { name, .. } => table.tags.contains(name),
            Expr::Literal(_) => true,
            Expr::Paren(inner) => tags_only(inner, table),
            Expr::Binary { left, right, .. } => tags_only(left, table) && tags_only(right, table),
            _ => false,
        }
    }
    let calls_last = select.fields.iter().all(|field| match &field.expr {
        Expr::Call { name, args } => {
            name == "last"
                && matches!(
                    args.as_slice(),
                    [Expr::VarRef { .. } | Expr::Wildcard(_) | Expr::RegexRef(_)]
                )
        }
        Expr::VarRef { name, .. } => table.tags.contains(name),
        _ => false,
    });
    let any_call = select
        .fields
        .iter()
        .any(|f| matches!(f.expr, Expr::Call { .. }));
    calls_last
        && any_call
        && select
            .group_by
            .iter()
            .all(|d| !matches!(d, Dimension::Time { .. }))
        && select
            .condition
            .as_ref()
            .is_none_or(|c| tags_only(c, table))
}

/// The zone `tz()` names.
pub fn zone(name: &str) -> Result<chrono_tz::Tz, Error> {
    name.parse()
        .map_err(|_| Error::Statement(format!("unable to find time zone {name}")))
}

/// A subquery's answer as tables to query again: one per measurement, its `GROUP BY` tags
/// as tags and its columns as fields, in a session of its own.
fn derived(answer: &[Series]) -> Result<Vec<(Table, Arc<SessionContext>)>, Error> {
    let mut by_name: BTreeMap<&str, Vec<Series>> = BTreeMap::new();
    for s in answer {
        by_name
            .entry(s.name.as_deref().unwrap_or_default())
            .or_default()
            .push(s.clone());
    }
    let mut tables = Vec::new();
    for (name, series) in by_name {
        let failed = |e: arrow::error::ArrowError| Error::Statement(e.to_string());
        let batch = super::answer::batch(&series).map_err(failed)?;
        // The measurement is the table's name, not a column.
        let batch = batch
            .project(&(1..batch.num_columns()).collect::<Vec<_>>())
            .map_err(failed)?;
        let mut table = Table {
            name: name.to_owned(),
            tags: Vec::new(),
            fields: Vec::new(),
        };
        for s in &series {
            for tag in s.tags.keys() {
                if !table.tags.contains(tag) {
                    table.tags.push(tag.clone());
                }
            }
        }
        for field in batch.schema().fields() {
            if field.name() == "time" || table.tags.contains(field.name()) {
                continue;
            }
            let ty = match field.data_type() {
                DataType::Float64 => FieldType::Float,
                DataType::Int64 => FieldType::Integer,
                DataType::UInt64 => FieldType::UInteger,
                DataType::Boolean => FieldType::Boolean,
                _ => FieldType::String,
            };
            table.fields.push((field.name().clone(), ty));
        }
        let ctx = SessionContext::new();
        ctx.register_batch(quoted(name), batch)?;
        tables.push((table, Arc::new(ctx)));
    }
    Ok(tables)
}

/// Runs one `SELECT` over one measurement and returns its series, shaped and limited.
async fn measurement(
    db: &Run<'_>,
    ctx: &SessionContext,
    table: &Table,
    all: &Table,
    select: &linegate_influxql::Select,
) -> Result<Vec<Series>, Error> {
    let now = db.now;
    let range = TimeRange::of(select.condition.as_ref(), now)?;
    let mut grouping = grouping(&select.group_by, table)?;
    let zone = match &select.timezone {
        Some(name) => Some(zone(name)?),
        None => None,
    };
    // Windows start on the zone's local boundaries (a day at local midnight); the offset is
    // the zone's at the start of the range.
    if let (Some(zone), Some((interval, offset))) = (zone, grouping.window) {
        use chrono::Offset;
        let at = chrono::DateTime::from_timestamp_nanos(range.lower.unwrap_or(now));
        let local = at.with_timezone(&zone).offset().fix().local_minus_utc() as i64;
        let shifted = offset - local * 1_000_000_000;
        grouping.window = Some((interval, shifted.rem_euclid(interval)));
    }
    let projected = expand(&select.fields, all, &grouping.tags)?;
    let projected: Vec<Projected> = projected
        .into_iter()
        .filter(|p| !is_time(&p.expr))
        .collect();
    let aggregate = projected.iter().any(|p| is_call(&p.expr, AGGREGATES));
    if grouping.window.is_some() && !aggregate {
        if let Some(name) = projected.iter().find_map(|p| transform_name(&p.expr)) {
            return Err(Error::Statement(format!(
                "aggregate function required inside the call to {name}"
            )));
        }
        return Err(Error::Statement(
            "GROUP BY requires at least one aggregate function".into(),
        ));
    }
    // Nothing to read (only tags, or names the measurement lacks): no rows, as in 1.x.
    if !projected.iter().any(|p| reads_field(&p.expr, table)) {
        return Ok(vec![]);
    }
    let mut planner = Planner {
        table,
        aggregate,
        columns: Vec::new(),
        selector_time: SelectorTime::None,
        selector: None,
        multi_row: None,
        counts: Vec::new(),
    };
    if let Some((name, args)) = lone_selector(&projected) {
        let (_, value, _) = planner.field_argument(&name, &args)?;
        let time = col("time");
        let order = match name.as_str() {
            "last" => vec![time.sort(false, false)],
            "min" | "bottom" => vec![value.clone().sort(true, false), time.sort(true, false)],
            "max" | "top" => vec![value.clone().sort(false, false), time.sort(true, false)],
            _ => vec![time.sort(true, false)],
        };
        let many = matches!(name.as_str(), "top" | "bottom");
        planner.selector = Some((order, value.is_not_null(), many));
        if grouping.window.is_none() && !many {
            planner.selector_time = SelectorTime::Wanted;
        }
    }
    let cells: Vec<Cell> = projected
        .iter()
        .map(|p| planner.cell(&p.expr))
        .collect::<Result<_, _>>()?;
    // Transformations over windows reach back before the first window answered: one
    // window for a difference, n − 1 for a moving average of n.
    let reach_back = match grouping.window {
        Some((interval, _)) => {
            interval.saturating_mul(cells.iter().map(Cell::windows_back).max().unwrap_or(0))
        }
        None => 0,
    };

    let frame = ctx.table(quoted(&table.name)).await.map_err(Error::from)?;
    let (frame, data_names) = plan(frame, table, select, &grouping, &planner, reach_back, now)?;
    let batches = db.collect(frame).await?;
    let time_column = if aggregate {
        grouping.window.is_some().then_some("__window")
    } else {
        Some("time")
    };
    let groups = split_series(&batches, grouping.tags.len(), time_column, &data_names)?;
    let fill = select.fill.clone().unwrap_or(Fill::Null);
    let groups = if let (Some((interval, offset)), true) = (grouping.window, fill != Fill::None) {
        // An empty window counts 0 points under fill(null), as in 1.x.
        let mut empty = vec![Value::Null; data_names.len()];
        if fill == Fill::Null {
            for &i in &planner.counts {
                empty[i] = Value::Integer(0);
            }
        }
        let read = TimeRange {
            lower: range.lower.map(|l| l.saturating_sub(reach_back)),
            upper: range.upper,
        };
        fill_windows(groups, interval, offset, read, now, &empty)
    } else {
        groups
    };

    let shaping = Shaping {
        table,
        projected: &projected,
        cells: &cells,
        planner: &planner,
        window: grouping.window,
        range,
        fill,
    };
    let columns: Vec<String> = std::iter::once("time".to_owned())
        .chain(projected.iter().map(|p| p.name.clone()))
        .collect();
    let mut series = Vec::new();
    for group in groups {
        let mut values = shaping.rows(&group);
        if select.descending {
            values.reverse();
        }
        let offset = select.offset.unwrap_or(0) as usize;
        let values: Vec<Vec<Value>> = match select.limit {
            Some(limit) if limit > 0 => values
                .into_iter()
                .skip(offset)
                .take(limit as usize)
                .collect(),
            _ => values.into_iter().skip(offset).collect(),
        };
        if values.is_empty() {
            continue;
        }
        let tags = grouping.tags.iter().cloned().zip(group.tags).collect();
        series.push(Series {
            name: Some(table.name.clone()),
            tags,
            columns: columns.clone(),
            values,
            zone,
        });
    }
    Ok(series)
}

/// The lone selector of a projection (its name and arguments), when it has exactly one
/// call that aggregates and that call selects a point.
fn lone_selector(projected: &[Projected]) -> Option<(String, Vec<Expr>)> {
    let mut calls = projected.iter().filter(|p| is_call(&p.expr, AGGREGATES));
    match (calls.next().map(|p| &p.expr), calls.next()) {
        (Some(Expr::Call { name, args }), None) if SELECTORS.contains(&name.as_str()) => {
            Some((name.clone(), args.clone()))
        }
        _ => None,
    }
}

/// The DataFusion plan of one measurement: filtered, then aggregated by the `GROUP BY`
/// tags and window or projected with time; sorted by series and time. Also the names of
/// the planner's columns in its answer.
fn plan(
    mut frame: DataFrame,
    table: &Table,
    select: &linegate_influxql::Select,
    grouping: &Grouping,
    planner: &Planner<'_>,
    reach_back: i64,
    now: i64,
) -> Result<(DataFrame, Vec<String>), Error> {
    if let Some(cond) = &select.condition {
        frame = frame.filter(predicate(table, cond, now, reach_back)?)?;
    }
    let tag_exprs: Vec<DfExpr> = grouping
        .tags
        .iter()
        .map(|t| {
            let value = if table.is_tag(t) {
                coalesce(vec![col(quoted(t)), lit("")])
            } else {
                lit("")
            };
            value.alias(format!("__tag_{t}"))
        })
        .collect();
    let mut sort: Vec<SortExpr> = grouping
        .tags
        .iter()
        .map(|t| col(quoted(&format!("__tag_{t}"))).sort(true, false))
        .collect();
    let data_names: Vec<String> = (0..planner.columns.len())
        .map(|i| format!("__c{i}"))
        .collect();
    let data = planner
        .columns
        .iter()
        .zip(&data_names)
        .map(|((_, e), n)| e.clone().alias(n));
    if planner.aggregate {
        let mut group = tag_exprs;
        if let Some((interval, offset)) = grouping.window {
            let stride = lit(ScalarValue::IntervalMonthDayNano(Some(
                IntervalMonthDayNano::new(0, 0, interval),
            )));
            let bin =
                datafusion::functions::expr_fn::date_bin(stride, col("time"), timestamp(offset));
            group.push(bin.alias("__window"));
            sort.push(col("__window").sort(true, false));
        }
        frame = frame.aggregate(group, data.collect())?;
    } else {
        // Points at the same time come in series-key order, as 1.x merges series.
        let mut series_key: Vec<&String> = table
            .tags
            .iter()
            .filter(|t| !grouping.tags.contains(t))
            .collect();
        series_key.sort();
        let mut select_list = tag_exprs;
        select_list.push(col("time"));
        select_list.extend(data);
        select_list.extend(
            series_key
                .iter()
                .map(|t| col(quoted(t)).alias(format!("__key_{t}"))),
        );
        frame = frame.select(select_list)?;
        sort.push(col("time").sort(true, false));
        sort.extend(
            series_key
                .iter()
                .map(|t| col(quoted(&format!("__key_{t}"))).sort(true, true)),
        );
    }
    if !sort.is_empty() {
        frame = frame.sort(sort)?;
    }
    Ok((frame, data_names))
}

/// What turns one series' DataFusion rows into its answer rows.
struct Shaping<'a> {
    table: &'a Table,
    projected: &'a [Projected],
    cells: &'a [Cell],
    planner: &'a Planner<'a>,
    window: Option<(i64, i64)>,
    range: TimeRange,
    fill: Fill,
}

impl Shaping<'_> {
    /// The answer rows of one series: `time`, then a value per projected column; filled,
    /// transformed, and without the rows 1.x leaves out.
    fn rows(&self, group: &Rows) -> Vec<Vec<Value>> {
        let aggregate = self.planner.aggregate;
        let mut values: Vec<Vec<Value>> = Vec::new();
        for (time, data) in &group.rows {
            let row_time = if !aggregate || self.window.is_some() {
                *time
            } else {
                self.point_time(data)
            };
            if let Some(multi) = &self.planner.multi_row {
                for k in multi.picks(data) {
                    // The k-th point of every list column, the other columns as they are.
                    let point: Vec<Value> = data
                        .iter()
                        .map(|v| match v {
                            Value::List(items) => items.get(k).cloned().unwrap_or(Value::Null),
                            other => other.clone(),
                        })
                        .collect();
                    let mut row = Vec::with_capacity(self.cells.len() + 1);
                    row.push(Value::Time(multi.time(data, k).unwrap_or(row_time)));
                    row.extend(self.cells.iter().map(|cell| evaluate(cell, &point)));
                    values.push(row);
                }
                continue;
            }
            if aggregate && self.window.is_none() && !points(data, &self.planner.counts) {
                continue; // no point of the group had the fields: no row, as in 1.x
            }
            let mut row = Vec::with_capacity(self.cells.len() + 1);
            row.push(Value::Time(row_time));
            row.extend(self.cells.iter().map(|cell| evaluate(cell, data)));
            values.push(row);
        }
        if let Some((interval, _)) = self.window {
            integrals_across_windows(self.cells, &group.rows, &mut values, interval);
            fill_values(&mut values, &self.fill);
        }
        let transforms: Vec<usize> = self
            .cells
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, Cell::Transform(_)))
            .map(|(i, _)| i + 1)
            .collect();
        if !transforms.is_empty() {
            self.transform(group, &mut values, &transforms);
        } else if !aggregate {
            // 1.x leaves out raw rows whose selected fields are all null.
            let field_columns: Vec<usize> = self
                .projected
                .iter()
                .enumerate()
                .filter(|(_, p)| reads_field(&p.expr, self.table))
                .map(|(i, _)| i + 1)
                .collect();
            values.retain(|row| field_columns.iter().any(|&i| !row[i].is_null()));
        } else if self.planner.selector_time != SelectorTime::None {
            // A lone selector over an empty group selects nothing.
            values.retain(|row| row.iter().skip(1).any(|v| !v.is_null()));
        }
        values
    }

    /// The time of an aggregate row outside `GROUP BY time`: the selected point's for a
    /// lone selector, else the query's lower bound, else 0.
    fn point_time(&self, data: &[Value]) -> i64 {
        let default = self.range.lower.unwrap_or(0);
        match self.planner.selector_time {
            SelectorTime::Column(column) => match data.get(column) {
                Some(Value::Time(t)) => *t,
                _ => default,
            },
            SelectorTime::Percentile(column, p) => match data.get(column) {
                Some(Value::List(times)) => match percentile(times, p) {
                    Some(Value::Time(t)) => t,
                    _ => default,
                },
                _ => default,
            },
            // 1.x answers a lone integral at time 0, whatever the range.
            SelectorTime::None if is_integral(self.cells) => 0,
            SelectorTime::None | SelectorTime::Wanted => default,
        }
    }

    /// Runs the transformations (in `columns`) over the series' rows in time order, then
    /// drops the rows they answer nothing for and the windows read only to reach back.
    fn transform(&self, group: &Rows, values: &mut Vec<Vec<Value>>, columns: &[usize]) {
        for &i in columns {
            let Cell::Transform(transform) = &self.cells[i - 1] else {
                continue;
            };
            let inputs: Vec<(i64, Value)> = group
                .rows
                .iter()
                .zip(values.iter())
                .map(|((_, data), row)| {
                    let t = match row.first() {
                        Some(Value::Time(t)) => *t,
                        _ => 0,
                    };
                    (t, evaluate(&transform.input, data))
                })
                .collect();
            let outputs = run_transform(transform, &inputs);
            for (row, out) in values.iter_mut().zip(outputs) {
                row[i] = out;
            }
        }
        values.retain(|row| columns.iter().any(|&i| !row[i].is_null()));
        if let (Some(first), Some((interval, offset))) = (self.range.lower, self.window) {
            let first = first - (first - offset).rem_euclid(interval);
            values.retain(|row| matches!(row.first(), Some(Value::Time(t)) if *t >= first));
        }
    }
}

/// Whether an aggregate row saw any point: a count above 0 or a value other than null.
fn points(data: &[Value], counts: &[usize]) -> bool {
    data.iter().enumerate().any(|(i, v)| match v {
        Value::Null => false,
        Value::Integer(0) if counts.contains(&i) => false,
        Value::List(items) => !items.is_empty(),
        _ => true,
    })
}

fn reads_field(expr: &Expr, table: &Table) -> bool {
    match expr {
        Expr::VarRef { name, data_type } => {
            matches!(
                column(table, name, *data_type),
                Column::Field(_) | Column::Cast(..)
            )
        }
        Expr::Call { args, .. } => args.iter().any(|a| reads_field(a, table)),
        Expr::Binary { left, right, .. } => reads_field(left, table) || reads_field(right, table),
        Expr::Paren(inner) => reads_field(inner, table),
        _ => false,
    }
}

/// Splits sorted batches into series by their leading tag columns.
fn split_series(
    batches: &[RecordBatch],
    tag_count: usize,
    time_column: Option<&str>,
    data: &[String],
) -> Result<Vec<Rows>, Error> {
    let mut groups: Vec<Rows> = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let index = |name: &str| {
            schema
                .index_of(name)
                .map_err(|e| Error::Statement(e.to_string()))
        };
        let tags: Vec<Arc<dyn Array>> = (0..tag_count).map(|i| batch.column(i).clone()).collect();
        let time = match time_column {
            Some(name) => Some(batch.column(index(name)?).clone()),
            None => None,
        };
        let data: Vec<Arc<dyn Array>> = data
            .iter()
            .map(|n| index(n).map(|i| batch.column(i).clone()))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let key: Vec<String> = tags
                .iter()
                .map(|a| match cell(a.as_ref(), row) {
                    Value::String(s) => s,
                    _ => String::new(),
                })
                .collect();
            let t = match time.as_ref().map(|a| cell(a.as_ref(), row)) {
                Some(Value::Time(t)) => t,
                _ => 0,
            };
            let values: Vec<Value> = data.iter().map(|a| cell(a.as_ref(), row)).collect();
            match groups.last_mut() {
                Some(last) if last.tags == key => last.rows.push((t, values)),
                _ => groups.push(Rows {
                    tags: key,
                    rows: vec![(t, values)],
                }),
            }
        }
    }
    Ok(groups)
}

/// One Arrow cell as an answer value.
pub fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Int64 => Value::Integer(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt64 => Value::Unsigned(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Boolean => Value::Boolean(array.as_boolean().value(row)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_owned()),
        DataType::Timestamp(_, _) => match array.as_primitive_opt::<TimestampNanosecondType>() {
            Some(times) => Value::Time(times.value(row)),
            None => Value::Null,
        },
        DataType::Dictionary(_, _) => {
            match arrow::compute::cast(&array.slice(row, 1), &DataType::Utf8) {
                Ok(single) => cell(single.as_ref(), 0),
                Err(_) => Value::Null,
            }
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>().value(row);
            Value::List((0..list.len()).map(|i| cell(list.as_ref(), i)).collect())
        }
        _ => Value::Null,
    }
}
