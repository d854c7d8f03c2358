//! v1 `/query`: the InfluxQL that 1.x tools send most — `SHOW DATABASES`, `SHOW MEASUREMENTS`,
//! `SHOW TAG KEYS`, `SHOW FIELD KEYS` and `SELECT … FROM m [WHERE …] [ORDER BY time] [LIMIT n]`
//! with plain aggregates — answered in 1.x's JSON shape. `SELECT` is translated to SQL
//! (InfluxQL's quoting is SQL's; durations become intervals, `mean` becomes `avg`) and run
//! by [`crate::query`]. Anything else is a statement error naming what is not supported.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float64Type, Int64Type, TimeUnit, TimestampNanosecondType, UInt64Type,
};
use serde_json::{json, Map, Value};

use crate::query::{self, QueryError};
use crate::store::Store;

/// How `time` is written: RFC 3339, or an integer in this many nanoseconds per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(Option<i64>);

impl Epoch {
    /// Times as integers in `unit` (the request's `epoch`); `None` → RFC 3339 strings.
    pub fn new(unit: Option<linegate::Precision>) -> Epoch {
        Epoch(unit.and_then(linegate::Precision::nanos_per_unit))
    }

    fn format(self, nanos: i64) -> Value {
        match self.0 {
            Some(unit) => json!(nanos.div_euclid(unit)),
            None => json!(chrono::DateTime::from_timestamp_nanos(nanos)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        }
    }
}

/// Refuses the whole request before any statement runs when one of its `SELECT`s would write
/// (`SELECT … INTO`): a query never changes anything.
pub fn check_read_only(q: &str) -> Result<(), QueryError> {
    for statement in split_statements(q) {
        let select = statement
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("SELECT"));
        // A SELECT the translator cannot handle fails on its own when it runs.
        if let (true, Ok((sql, _))) = (select, to_sql(&statement)) {
            match query::parse_read_only(&sql) {
                Err(refused @ QueryError::NotReadOnly(_)) => return Err(refused),
                _ => continue,
            }
        }
    }
    Ok(())
}

/// Runs every statement of `q` and returns 1.x's `{"results":[…]}` body.
pub async fn run(store: &Store, database: Option<&str>, q: &str, epoch: Epoch) -> Value {
    let mut results = Vec::new();
    for (id, statement) in split_statements(q).into_iter().enumerate() {
        let mut result = json!({ "statement_id": id });
        match statement_result(store, database, &statement, epoch).await {
            Ok(series) if series.is_empty() => {}
            Ok(series) => result["series"] = json!(series),
            Err(message) => result["error"] = json!(message),
        }
        results.push(result);
    }
    json!({ "results": results })
}

async fn statement_result(
    store: &Store,
    database: Option<&str>,
    statement: &str,
    epoch: Epoch,
) -> Result<Vec<Value>, String> {
    let words: Vec<String> = statement
        .split_whitespace()
        .take(3)
        .map(|w| w.to_ascii_uppercase())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if words.starts_with(&["SHOW", "DATABASES"]) {
        let values: Vec<Value> = store
            .catalog()
            .databases()
            .map(|db| json!([db.name]))
            .collect();
        return Ok(vec![
            json!({"name": "databases", "columns": ["name"], "values": values}),
        ]);
    }
    if words.starts_with(&["SHOW", "RETENTION", "POLICIES"]) {
        let on = statement
            .split_whitespace()
            .skip_while(|w| !w.eq_ignore_ascii_case("ON"))
            .nth(1)
            .map(|w| w.trim_matches('"'));
        let name = on
            .or(database)
            .ok_or("database name required: add the 'db' parameter")?;
        return retention_policies(store, name);
    }
    let database = database.ok_or("database name required: add the 'db' parameter")?;
    let db = store
        .catalog()
        .database(database)
        .cloned()
        .ok_or_else(|| format!("database not found: {database}"))?;
    let from = measurement(statement);
    let tables = db
        .tables
        .values()
        .filter(|t| from.as_deref().is_none_or(|m| m == t.name));
    match words.as_slice() {
        ["SHOW", "MEASUREMENTS", ..] => {
            let values: Vec<Value> = db.tables.keys().map(|t| json!([t])).collect();
            if values.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![
                json!({"name": "measurements", "columns": ["name"], "values": values}),
            ])
        }
        ["SHOW", "TAG", "KEYS"] => Ok(tables
            .filter(|t| !t.columns.tags().is_empty())
            .map(|t| {
                let mut keys = t.columns.tags().to_vec();
                keys.sort();
                let values: Vec<Value> = keys.iter().map(|k| json!([k])).collect();
                json!({"name": t.name, "columns": ["tagKey"], "values": values})
            })
            .collect()),
        ["SHOW", "FIELD", "KEYS"] => Ok(tables
            .map(|t| {
                let mut fields = t.columns.fields().to_vec();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                let values: Vec<Value> = fields
                    .iter()
                    .map(|(name, ty)| json!([name, ty.name()]))
                    .collect();
                json!({"name": t.name, "columns": ["fieldKey", "fieldType"], "values": values})
            })
            .collect()),
        ["SELECT", ..] => {
            let table = from.ok_or("a SELECT needs FROM <measurement>")?;
            if !db.tables.contains_key(&table) {
                return Ok(vec![]); // 1.x answers an empty result for an unknown measurement
            }
            let (sql, aggregate) = to_sql(statement)?;
            let batches = query::run(store, database, &sql)
                .await
                .map_err(|e| match e {
                    QueryError::Invalid(message) => format!("error in statement: {message}"),
                    other => other.message(),
                })?;
            Ok(series(&table, &batches, aggregate, epoch)
                .into_iter()
                .collect())
        }
        _ => Err(format!(
            "statement not supported by linegate: {}",
            statement.chars().take(60).collect::<String>()
        )),
    }
}

/// `SHOW RETENTION POLICIES ON name`: the database's own (`autogen`, the default) and the
/// DBRP mappings of `name`, with the retention period of the database each reaches.
fn retention_policies(store: &Store, name: &str) -> Result<Vec<Value>, String> {
    let catalog = store.catalog();
    let duration = |database: &str| {
        let period = catalog.database(database).and_then(|db| db.retention);
        go_duration(period.unwrap_or(0))
    };
    // A mapping of the default policy replaces the database's own.
    let is_default = |rp: &str| linegate::v1_database(name, Some(rp)) == name;
    let mappings: Vec<_> = catalog.dbrps().filter(|m| m.db == name).collect();
    let mut values = Vec::new();
    if catalog.database(name).is_some() && !mappings.iter().any(|m| is_default(&m.rp)) {
        values.push(json!(["autogen", duration(name), "168h0m0s", 1, true]));
    }
    for mapping in mappings {
        let default = is_default(&mapping.rp);
        values.push(json!([
            mapping.rp,
            duration(&mapping.target),
            "168h0m0s",
            1,
            default
        ]));
    }
    if values.is_empty() {
        return Err(format!("database not found: {name}"));
    }
    Ok(vec![json!({
        "columns": ["name", "duration", "shardGroupDuration", "replicaN", "default"],
        "values": values,
    })])
}

/// A duration as InfluxDB 1.x prints it (`720h0m0s`, `0s` for forever).
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let seconds = nanos / 1_000_000_000;
    format!(
        "{}h{}m{}s",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Splits on `;` outside quotes.
fn split_statements(q: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in q.chars() {
        match (quote, c) {
            (None, ';') => {
                statements.push(std::mem::take(&mut current));
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            _ => {}
        }
        current.push(c);
    }
    statements.push(current);
    statements
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The measurement after `FROM`: bare or double-quoted; `db.rp.m` gives `m`.
fn measurement(statement: &str) -> Option<String> {
    measurement_span(statement).map(|(_, name)| name)
}

/// Where the `FROM` target is in `statement`, and the measurement it names.
fn measurement_span(statement: &str) -> Option<(std::ops::Range<usize>, String)> {
    let upper = statement.to_ascii_uppercase();
    let from = upper.find(" FROM ")? + 6;
    let start = from + (statement[from..].len() - statement[from..].trim_start().len());
    let mut name = String::new();
    let mut parts = Vec::new();
    let mut end = start;
    let mut chars = statement[start..].char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c == '"' {
            chars.next();
            for (j, c) in chars.by_ref() {
                end = start + j + c.len_utf8();
                if c == '"' {
                    break;
                }
                name.push(c);
            }
            continue;
        } else if c == '.' {
            parts.push(std::mem::take(&mut name));
        } else if c.is_alphanumeric() || c == '_' || c == '-' {
            name.push(c);
        } else {
            break;
        }
        chars.next();
        end = start + i + c.len_utf8();
    }
    parts.push(name);
    let name = parts.pop().filter(|n| !n.is_empty())?;
    Some((start..end, name))
}

const AGGREGATES: &[&str] = &[
    "count(", "sum(", "mean(", "avg(", "min(", "max(", "median(", "stddev(",
];

/// Translates a SELECT to SQL; `true` when it aggregates (no `time` column in the rows).
fn to_sql(statement: &str) -> Result<(String, bool), String> {
    let lower = statement.to_ascii_lowercase();
    if lower.contains(" group by ") {
        return Err(
            "GROUP BY is not supported by linegate's InfluxQL yet; use /api/v3/query_sql".into(),
        );
    }
    let projection_end = lower
        .find(" from ")
        .ok_or("a SELECT needs FROM <measurement>")?;
    let projection = &lower[6..projection_end];
    let aggregate = AGGREGATES.iter().any(|a| projection.contains(a));
    // `FROM db.rp."m"` → `FROM "m"`: the database is the request's.
    let (span, name) = measurement_span(statement).ok_or("a SELECT needs FROM <measurement>")?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let statement = format!(
        "{}{quoted}{}",
        &statement[..span.start],
        &statement[span.end..]
    );
    let mut sql = rewrite_durations(&statement);
    sql = replace_word(&sql, "mean(", "avg(");
    if !aggregate && !lower.contains(" order by ") {
        match sql.to_ascii_lowercase().rfind(" limit ") {
            Some(i) => sql.insert_str(i, " ORDER BY time"),
            None => sql.push_str(" ORDER BY time"),
        }
    }
    Ok((sql, aggregate))
}

fn replace_word(text: &str, from: &str, to: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, _) in lower.match_indices(from) {
        out.push_str(&text[last..i]);
        out.push_str(to);
        last = i + from.len();
    }
    out.push_str(&text[last..]);
    out
}

/// `now() - 1h` → `now() - INTERVAL '1 hours'`, outside quotes.
fn rewrite_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let starts_number = quote.is_none()
            && c.is_ascii_digit()
            && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '.');
        if starts_number {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = rest[digits..]
                .find(|c: char| !c.is_alphabetic())
                .map_or(&rest[digits..], |n| &rest[digits..digits + n]);
            let name = match unit {
                "ns" => "nanoseconds",
                "u" | "µ" => "microseconds",
                "ms" => "milliseconds",
                "s" => "seconds",
                "m" => "minutes",
                "h" => "hours",
                "d" => "days",
                "w" => "weeks",
                _ => "",
            };
            let taken = if name.is_empty() {
                out.push_str(&rest[..digits]);
                digits
            } else {
                out.push_str(&format!("INTERVAL '{} {name}'", &rest[..digits]));
                digits + unit.len()
            };
            prev = rest[..taken].chars().last();
            rest = &rest[taken..];
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '\'' || c == '"' => quote = Some(c),
            _ => {}
        }
        out.push(c);
        prev = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The result batches as one 1.x series: `time` first, then the other columns.
fn series(name: &str, batches: &[RecordBatch], aggregate: bool, epoch: Epoch) -> Option<Value> {
    let schema = batches.first()?.schema();
    let time = schema.index_of("time").ok().filter(|&i| {
        matches!(
            schema.field(i).data_type(),
            DataType::Timestamp(TimeUnit::Nanosecond, _)
        )
    });
    let mut order: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| Some(i) != time)
        .collect();
    if time.is_none() || !aggregate {
        order.sort_by(|&a, &b| schema.field(a).name().cmp(schema.field(b).name()));
    }
    let mut columns = vec![json!("time")];
    columns.extend(order.iter().map(|&i| json!(schema.field(i).name())));
    let mut values = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            let mut out = Vec::with_capacity(order.len() + 1);
            out.push(match time {
                Some(t) => epoch.format(
                    batch
                        .column(t)
                        .as_primitive::<TimestampNanosecondType>()
                        .value(row),
                ),
                None => epoch.format(0),
            });
            for &i in &order {
                out.push(cell(batch.column(i).as_ref(), row, epoch));
            }
            values.push(Value::Array(out));
        }
    }
    if values.is_empty() {
        return None;
    }
    let mut series = Map::new();
    series.insert("name".into(), json!(name));
    series.insert("columns".into(), Value::Array(columns));
    series.insert("values".into(), Value::Array(values));
    Some(Value::Object(series))
}

fn cell(array: &dyn Array, row: usize, epoch: Epoch) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(row);
            // 1.x writes whole floats as integers and NaN as null.
            if v.is_nan() {
                Value::Null
            } else if v.fract() == 0.0 && v.abs() < 9.0e15 {
                json!(v as i64)
            } else {
                json!(v)
            }
        }
        DataType::Int64 => json!(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt64 => json!(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Boolean => json!(array.as_boolean().value(row)),
        DataType::Utf8 => json!(array.as_string::<i32>().value(row)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            epoch.format(array.as_primitive::<TimestampNanosecondType>().value(row))
        }
        _ => match arrow::util::display::array_value_to_string(array, row) {
            Ok(text) => json!(text),
            Err(_) => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_outside_quotes() {
        assert_eq!(
            split_statements("SHOW DATABASES; SELECT * FROM \"a;b\" WHERE t = 'x;y';"),
            ["SHOW DATABASES", "SELECT * FROM \"a;b\" WHERE t = 'x;y'"]
        );
    }

    #[test]
    fn measurement_names() {
        assert_eq!(
            measurement("SELECT * FROM cpu WHERE x=1").as_deref(),
            Some("cpu")
        );
        assert_eq!(
            measurement("select * from \"my m\"").as_deref(),
            Some("my m")
        );
        assert_eq!(
            measurement("SELECT * FROM db.autogen.cpu").as_deref(),
            Some("cpu")
        );
        assert_eq!(measurement("SELECT 1"), None);
    }

    #[test]
    fn durations_become_intervals_outside_quotes() {
        assert_eq!(
            rewrite_durations("SELECT * FROM m WHERE time > now() - 1h AND t = '5m' AND v1m > 2"),
            "SELECT * FROM m WHERE time > now() - INTERVAL '1 hours' AND t = '5m' AND v1m > 2"
        );
        assert_eq!(
            rewrite_durations("x > 10 AND y < 2.5"),
            "x > 10 AND y < 2.5"
        );
    }

    #[test]
    fn selects_are_ordered_by_time_and_mean_is_avg() {
        assert_eq!(
            to_sql("SELECT usage FROM cpu LIMIT 3").unwrap(),
            (
                "SELECT usage FROM \"cpu\" ORDER BY time LIMIT 3".to_owned(),
                false
            )
        );
        assert_eq!(
            to_sql("SELECT MEAN(usage) FROM cpu").unwrap(),
            ("SELECT avg(usage) FROM \"cpu\"".to_owned(), true)
        );
        assert!(to_sql("SELECT mean(x) FROM m GROUP BY time(1m)").is_err());
        assert_eq!(
            to_sql("SELECT * FROM db.autogen.\"my m\" WHERE time > now() - 5m")
                .unwrap()
                .0,
            "SELECT * FROM \"my m\" WHERE time > now() - INTERVAL '5 minutes' ORDER BY time"
        );
    }

    #[test]
    fn epochs() {
        assert_eq!(
            Epoch::new(Some(linegate::Precision::Millisecond)).format(1_500_000_000),
            json!(1500)
        );
        assert_eq!(
            Epoch::new(None).format(1_500_000_000),
            json!("1970-01-01T00:00:01.500Z")
        );
    }
}
