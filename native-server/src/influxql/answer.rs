//! Answers as InfluxDB 1.x gives them: `{"results":[{"statement_id":0,"series":[…]}]}`, one
//! JSON object per chunk when `chunked=true`, or CSV for `Accept: application/csv`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, RecordBatchOptions, StringArray,
    TimestampNanosecondArray, UInt64Array,
};
use arrow::datatypes::{Field, Schema};
use arrow::error::ArrowError;
use chrono_tz::Tz;
use serde_json::{json, Map, Value as Json};

/// One cell of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (a missing field, an empty window under `fill(null)`).
    Null,
    /// A float field or a float result.
    Float(f64),
    /// An integer.
    Integer(i64),
    /// An unsigned integer.
    Unsigned(u64),
    /// A string field or a tag.
    String(String),
    /// A boolean field.
    Boolean(bool),
    /// A time in nanoseconds, written as the request's `epoch` asks.
    Time(i64),
    /// Values an aggregate collected (`mode`, `percentile`, `distinct`): read while the
    /// answer is built, never part of one (written as null).
    List(Vec<Value>),
}

impl Value {
    /// The value as a float, for arithmetic and the numeric functions.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(v) => Some(v),
            Value::Integer(v) => Some(v as f64),
            Value::Unsigned(v) => Some(v as f64),
            Value::Time(v) => Some(v as f64),
            _ => None,
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    fn to_json(&self, epoch: Epoch, zone: Option<Tz>) -> Json {
        match self {
            Value::Null | Value::List(_) => Json::Null,
            Value::Float(v) => float(*v),
            Value::Integer(v) => json!(v),
            Value::Unsigned(v) => json!(v),
            Value::String(v) => json!(v),
            Value::Boolean(v) => json!(v),
            Value::Time(nanos) => epoch.format(*nanos, zone),
        }
    }

    fn to_csv(&self, epoch: Epoch, zone: Option<Tz>) -> String {
        match self {
            Value::Null => String::new(),
            Value::String(v) => csv_field(v),
            other => match other.to_json(epoch, zone) {
                Json::String(s) => s,
                json => json.to_string(),
            },
        }
    }
}

/// A float as Go's encoder writes it: whole numbers without `.0` (`12`, not `12.0`), so
/// clients that compare text see what 1.x sends; NaN and infinities (which JSON cannot
/// carry) as null.
fn float(v: f64) -> Json {
    if !v.is_finite() {
        return Json::Null;
    }
    // Exactly representable whole numbers within ±2^53 print as integers.
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        return json!(v as i64);
    }
    json!(v)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// How `time` is written: RFC 3339, or an integer in this many nanoseconds per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(Option<i64>);

impl Epoch {
    /// Times as integers in `unit` (the request's `epoch`); `None` → RFC 3339 strings.
    pub fn new(unit: Option<linegate::Precision>) -> Epoch {
        Epoch(unit.and_then(linegate::Precision::nanos_per_unit))
    }

    /// RFC 3339 in UTC (`Z`), or with `zone`'s offset when the query asked `tz()`.
    fn format(self, nanos: i64, zone: Option<Tz>) -> Json {
        let utc = chrono::DateTime::from_timestamp_nanos(nanos);
        match (self.0, zone) {
            // Go's integer division, as 1.x: toward zero, also before 1970.
            (Some(unit), _) => json!(nanos / unit),
            (None, None) => json!(rfc3339_nano(&utc)),
            (None, Some(zone)) => json!(rfc3339_nano(&utc.with_timezone(&zone))),
        }
    }
}

/// Go's `RFC3339Nano`, as 1.x writes times: the fraction without trailing zeros, `Z` for UTC.
fn rfc3339_nano<Z: chrono::TimeZone>(time: &chrono::DateTime<Z>) -> String
where
    Z::Offset: std::fmt::Display,
{
    use chrono::{Offset, Timelike};
    let mut text = time.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = time.nanosecond() % 1_000_000_000;
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    if time.offset().fix().local_minus_utc() == 0 {
        text.push('Z');
    } else {
        text.push_str(&time.format("%:z").to_string());
    }
    text
}

/// One series of an answer: a measurement (or a `SHOW` listing), its tag set, its rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// The measurement, or what a `SHOW` lists; `None` for `SHOW RETENTION POLICIES`.
    pub name: Option<String>,
    /// The `GROUP BY` tags of this series (empty: none, and no `tags` key is written).
    pub tags: BTreeMap<String, String>,
    /// Column names, `time` first when there is one.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub values: Vec<Vec<Value>>,
    /// `tz()`: times are written with this zone's offset.
    pub zone: Option<Tz>,
}

impl Series {
    fn to_json(&self, epoch: Epoch, values: &[Vec<Value>], partial: bool) -> Json {
        let mut object = Map::new();
        if let Some(name) = &self.name {
            object.insert("name".into(), json!(name));
        }
        if !self.tags.is_empty() {
            object.insert("tags".into(), json!(self.tags));
        }
        object.insert("columns".into(), json!(self.columns));
        // 1.x leaves `values` out of an empty listing.
        if !values.is_empty() {
            let rows: Vec<Json> = values
                .iter()
                .map(|row| Json::Array(row.iter().map(|v| v.to_json(epoch, self.zone)).collect()))
                .collect();
            object.insert("values".into(), Json::Array(rows));
        }
        if partial {
            object.insert("partial".into(), json!(true));
        }
        Json::Object(object)
    }
}

/// What one statement answered: its series, or its error.
pub type StatementResult = Result<Vec<Series>, StatementError>;

/// A statement's error, answered in its result as 1.x does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementError {
    /// The message, in 1.x's words.
    pub message: String,
    /// The token may not read what the statement reads (Flight answers
    /// `PERMISSION_DENIED`; `/query` answers it like any statement error).
    pub forbidden: bool,
}

impl From<String> for StatementError {
    fn from(message: String) -> StatementError {
        StatementError {
            message,
            forbidden: false,
        }
    }
}

impl From<&str> for StatementError {
    fn from(message: &str) -> StatementError {
        StatementError::from(message.to_owned())
    }
}

/// The whole body: `{"results":[…]}`.
pub fn results(results: &[StatementResult], epoch: Epoch) -> Json {
    let results: Vec<Json> = results
        .iter()
        .enumerate()
        .map(|(id, result)| statement_json(id, result, epoch))
        .collect();
    json!({ "results": results })
}

fn statement_json(id: usize, result: &StatementResult, epoch: Epoch) -> Json {
    let mut object = json!({ "statement_id": id });
    match result {
        Ok(series) if series.is_empty() => {}
        Ok(series) => {
            let series: Vec<Json> = series
                .iter()
                .map(|s| s.to_json(epoch, &s.values, false))
                .collect();
            object["series"] = Json::Array(series);
        }
        Err(error) => object["error"] = json!(error.message),
    }
    object
}

/// `chunked=true`: one body per chunk of at most `size` rows of one series, as 1.x streams
/// them — every chunk but a series' last is `partial`, and the statement is `partial` until
/// its last chunk.
pub fn chunks(results: &[StatementResult], epoch: Epoch, size: usize) -> Vec<Json> {
    let size = size.max(1);
    let mut bodies = Vec::new();
    for (id, result) in results.iter().enumerate() {
        let series = match result {
            Ok(series) if !series.is_empty() => series,
            other => {
                bodies.push(json!({ "results": [statement_json(id, other, epoch)] }));
                continue;
            }
        };
        for (n, s) in series.iter().enumerate() {
            let last_series = n + 1 == series.len();
            let pieces: Vec<&[Vec<Value>]> = if s.values.is_empty() {
                vec![&[]]
            } else {
                s.values.chunks(size).collect()
            };
            for (k, rows) in pieces.iter().enumerate() {
                let last_piece = k + 1 == pieces.len();
                let mut object = json!({
                    "statement_id": id,
                    "series": [s.to_json(epoch, rows, !last_piece)],
                });
                if !(last_piece && last_series) {
                    object["partial"] = json!(true);
                }
                bodies.push(json!({ "results": [object] }));
            }
        }
    }
    bodies
}

/// `Accept: application/csv`: `name,tags,<columns>` rows, statements one after another,
/// separated by a blank line as 1.x writes them.
pub fn csv(results: &[StatementResult], epoch: Epoch) -> Result<String, String> {
    let mut out = String::new();
    for result in results {
        let series = result.as_ref().map_err(|e| e.message.clone())?;
        if !out.is_empty() && !series.is_empty() {
            out.push('\n'); // statements are separated by a blank line
        }
        let mut header: Option<&[String]> = None;
        for s in series {
            if header != Some(s.columns.as_slice()) {
                if header.is_some() {
                    out.push('\n');
                }
                out.push_str("name,tags");
                for column in &s.columns {
                    out.push(',');
                    out.push_str(&csv_field(column));
                }
                out.push('\n');
                header = Some(&s.columns);
            }
            let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let prefix = format!(
                "{},{}",
                csv_field(s.name.as_deref().unwrap_or("")),
                csv_field(&tags.join(","))
            );
            for row in &s.values {
                out.push_str(&prefix);
                for value in row {
                    out.push(',');
                    out.push_str(&value.to_csv(epoch, s.zone));
                }
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Every series as rows of one Arrow batch, as InfluxDB 3's `/api/v3/query_influxql`
/// answers: `iox::measurement`, `time`, then the other columns and the `GROUP BY` tags in
/// order of appearance. A column's type is its values' (integers with floats: float).
pub fn batch(series: &[Series]) -> Result<RecordBatch, ArrowError> {
    let mut names: Vec<String> = vec!["iox::measurement".into(), "time".into()];
    for s in series {
        for name in s.columns.iter().chain(s.tags.keys()) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    let rows: usize = series.iter().map(|s| s.values.len()).sum();
    let mut columns: Vec<Vec<Value>> = vec![Vec::with_capacity(rows); names.len()];
    for s in series {
        for row in &s.values {
            for (i, name) in names.iter().enumerate() {
                let value = if i == 0 {
                    Value::String(s.name.clone().unwrap_or_default())
                } else if let Some(at) = s.columns.iter().position(|c| c == name) {
                    row.get(at).cloned().unwrap_or(Value::Null)
                } else if let Some(tag) = s.tags.get(name) {
                    Value::String(tag.clone())
                } else {
                    Value::Null
                };
                columns[i].push(value);
            }
        }
    }
    let arrays: Vec<ArrayRef> = columns.iter().map(|values| array(values)).collect();
    let fields: Vec<Field> = names
        .iter()
        .zip(&arrays)
        .map(|(name, a)| Field::new(name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    )
}

/// One column's values as an Arrow array of the type they share.
fn array(values: &[Value]) -> ArrayRef {
    let present = || values.iter().filter(|v| !v.is_null());
    let all = |f: fn(&Value) -> bool| present().all(f);
    if present().next().is_some() && all(|v| matches!(v, Value::Time(_))) {
        let times = values.iter().map(|v| match v {
            Value::Time(t) => Some(*t),
            _ => None,
        });
        return Arc::new(TimestampNanosecondArray::from_iter(times));
    }
    if present().next().is_some() && all(|v| matches!(v, Value::Integer(_))) {
        return Arc::new(Int64Array::from_iter(values.iter().map(|v| match v {
            Value::Integer(i) => Some(*i),
            _ => None,
        })));
    }
    if present().next().is_some() && all(|v| matches!(v, Value::Unsigned(_))) {
        return Arc::new(UInt64Array::from_iter(values.iter().map(|v| match v {
            Value::Unsigned(u) => Some(*u),
            _ => None,
        })));
    }
    if present().next().is_some() && all(|v| matches!(v, Value::Boolean(_))) {
        return Arc::new(BooleanArray::from_iter(values.iter().map(|v| match v {
            Value::Boolean(b) => Some(*b),
            _ => None,
        })));
    }
    if present().next().is_some()
        && all(|v| matches!(v, Value::Float(_) | Value::Integer(_) | Value::Unsigned(_)))
    {
        return Arc::new(Float64Array::from_iter(values.iter().map(Value::as_f64)));
    }
    Arc::new(StringArray::from_iter(values.iter().map(|v| match v {
        Value::Null | Value::List(_) => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_json(Epoch(None), None).to_string()),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> Series {
        Series {
            name: Some("cpu".into()),
            tags: BTreeMap::from([("host".into(), "a".into())]),
            columns: vec!["time".into(), "mean".into()],
            values: vec![
                vec![Value::Time(60_000_000_000), Value::Float(1.5)],
                vec![Value::Time(120_000_000_000), Value::Float(2.0)],
                vec![Value::Time(180_000_000_000), Value::Null],
            ],
            zone: None,
        }
    }

    #[test]
    fn results_are_shaped_like_1x() {
        let body = results(
            &[Ok(vec![cpu()]), Ok(vec![]), Err("boom".into())],
            Epoch(None),
        );
        assert_eq!(
            body,
            json!({"results": [
                {"statement_id": 0, "series": [{"name": "cpu", "tags": {"host": "a"},
                    "columns": ["time", "mean"],
                    "values": [["1970-01-01T00:01:00Z", 1.5], ["1970-01-01T00:02:00Z", 2],
                               ["1970-01-01T00:03:00Z", null]]}]},
                {"statement_id": 1},
                {"statement_id": 2, "error": "boom"},
            ]})
        );
        assert_eq!(
            body.to_string().matches("2.0").count(),
            0,
            "whole floats print as 1.x"
        );
    }

    #[test]
    fn epochs() {
        let ms = Epoch::new(Some(linegate::Precision::Millisecond));
        assert_eq!(Value::Time(1_500_000_000).to_json(ms, None), json!(1500));
        let s = Epoch::new(Some(linegate::Precision::Second));
        assert_eq!(
            Value::Time(-1).to_json(s, None),
            json!(0),
            "toward zero, as 1.x"
        );
        assert_eq!(
            Value::Time(-1_700_000_000_000_000_001).to_json(s, None),
            json!(-1_700_000_000)
        );
        assert_eq!(
            Value::Time(1_500_000).to_json(Epoch(None), None),
            json!("1970-01-01T00:00:00.0015Z")
        );
        let chicago = Some(chrono_tz::America::Chicago);
        assert_eq!(
            Value::Time(1_767_225_600_000_000_001).to_json(Epoch(None), chicago),
            json!("2025-12-31T18:00:00.000000001-06:00")
        );
    }

    #[test]
    fn chunks_split_series_and_mark_partial() {
        let bodies = chunks(&[Ok(vec![cpu(), cpu()])], Epoch(Some(1)), 2);
        assert_eq!(bodies.len(), 4);
        assert_eq!(bodies[0]["results"][0]["partial"], json!(true));
        assert_eq!(bodies[0]["results"][0]["series"][0]["partial"], json!(true));
        assert_eq!(bodies[1]["results"][0]["series"][0].get("partial"), None);
        assert_eq!(bodies[1]["results"][0]["partial"], json!(true));
        assert_eq!(bodies[3]["results"][0].get("partial"), None);
        assert_eq!(
            bodies[3]["results"][0]["series"][0]["values"][0][0],
            json!(180_000_000_000i64)
        );
    }

    #[test]
    fn csv_has_name_and_tags_columns() {
        let text = csv(&[Ok(vec![cpu()])], Epoch(Some(1))).unwrap();
        assert_eq!(
            text,
            "name,tags,time,mean\ncpu,host=a,60000000000,1.5\ncpu,host=a,120000000000,2\ncpu,host=a,180000000000,\n"
        );
    }
}
