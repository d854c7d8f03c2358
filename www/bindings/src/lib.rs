//! # linegate-wasm — the linegate core in the browser
//!
//! wasm-bindgen bindings of the `linegate` core for the validation page (`www/`): the tab
//! validates line protocol with the same code as the server and the edge. Every rule is the
//! core's; this crate converts between JavaScript values and the core's types.
//!
//! ```js
//! import init, { validate, toCanonical } from "./pkg/linegate.js";
//! await init();
//! const result = validate("cpu,host=a usage=0.5 1700000000\n", { endpoint: "v3" });
//! // { lines: 1, points: 1, fields: 1, bytes: 33, errors: [], rows: [...], tables: [...] }
//! ```

#![deny(missing_docs)]

use js_sys::{JsString, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use linegate::lp::{Escapes, Field, FieldValue, LineParser, LpStr, Tag};
use linegate::schema::{FieldType, TableSchema};
use linegate::{
    Accepted, AuthScheme, BodyDecoder, ContentEncoding, Endpoint, LineError, Precision,
    RequestParts, Row, WriteBatch, WriteRequest,
};

#[wasm_bindgen]
extern "C" {
    /// The host's `TextEncoder` (browsers, Node and Workers all have one).
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method, js_name = encodeInto)]
    fn encode_into(this: &TextEncoder, source: &JsString, target: &Uint8Array) -> EncodeResult;

    /// `{ read, written }`: UTF-16 units read and bytes written by `encodeInto`.
    type EncodeResult;
    #[wasm_bindgen(method, getter)]
    fn read(this: &EncodeResult) -> u32;
    #[wasm_bindgen(method, getter)]
    fn written(this: &EncodeResult) -> u32;
}

thread_local! {
    static ENCODER: TextEncoder = TextEncoder::new();
}

/// The UTF-8 of a JavaScript string, encoded by the host straight into wasm memory.
///
/// A `&str` argument would go through wasm-bindgen's glue, which copies ASCII one
/// character at a time in JavaScript: that copy took longer than validating the text.
/// `encodeInto` runs natively, at memory speed.
fn utf8_of(text: &JsValue) -> Result<Vec<u8>, JsError> {
    let text: &JsString = text
        .dyn_ref()
        .ok_or_else(|| JsError::new("the text to validate must be a string"))?;
    let mut rest = text.clone();
    // One byte per UTF-16 unit for ASCII; more is reserved when the text turns out not to be.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.length() as usize);
    loop {
        let spare = bytes.spare_capacity_mut();
        // SAFETY: the view covers the vector's spare capacity, and nothing allocates in
        // wasm memory (which could move or grow it) until encodeInto has returned.
        let target = unsafe { Uint8Array::view_mut_raw(spare.as_mut_ptr().cast(), spare.len()) };
        let result = ENCODER.with(|encoder| encoder.encode_into(&rest, &target));
        let written = (result.written() as usize).min(spare.len());
        // SAFETY: encodeInto initialized the first `written` bytes of the spare capacity.
        unsafe { bytes.set_len(bytes.len() + written) };
        let (read, length) = (result.read(), rest.length());
        if read >= length {
            break;
        }
        rest = rest.slice(read, length);
        bytes.reserve(3 * rest.length() as usize);
    }
    Ok(bytes)
}

/// The text of [`utf8_of`]'s bytes. encodeInto writes UTF-8 only (a lone surrogate becomes
/// U+FFFD); checked all the same, by the core's check (an ASCII fast path: the standard
/// library's reads four bytes a step in wasm32), with the standard library's message.
fn text_of(bytes: &[u8]) -> Result<&str, JsError> {
    linegate::utf8(bytes).map_err(|_| match std::str::from_utf8(bytes) {
        Err(e) => JsError::new(&e.to_string()),
        Ok(_) => JsError::new("invalid UTF-8"),
    })
}

/// Options read from the JavaScript object passed to [`validate`] and [`to_canonical`].
struct Options {
    endpoint: Endpoint,
    precision: Precision,
    max_rows: usize,
    now: i64,
    first_line: u32,
    /// Tables seen in earlier chunks: the schema this chunk is checked against.
    schema: Vec<KnownTable>,
    /// Whether the report carries the canonical line protocol of the accepted lines.
    canonical: bool,
}

fn get(options: &JsValue, key: &str) -> Option<JsValue> {
    if !options.is_object() {
        return None;
    }
    js_sys::Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

impl Options {
    fn read(options: &JsValue) -> Result<Options, JsError> {
        let endpoint = match get(options, "endpoint")
            .and_then(|v| v.as_string())
            .as_deref()
        {
            None | Some("v3") => Endpoint::V3,
            Some("v1") => Endpoint::V1,
            Some("v2") => Endpoint::V2,
            Some(other) => return Err(JsError::new(&format!("unknown endpoint '{other}'"))),
        };
        let precision = match get(options, "precision").and_then(|v| v.as_string()) {
            None => endpoint.default_precision(),
            Some(p) if p.is_empty() => endpoint.default_precision(),
            Some(p) => endpoint
                .parse_precision(&p)
                .map_err(|e| JsError::new(&e.message(endpoint)))?,
        };
        let number = |key: &str| get(options, key).and_then(|v| v.as_f64());
        Ok(Options {
            endpoint,
            precision,
            max_rows: number("maxRows").map_or(1000, |n| n.max(0.0) as usize),
            now: number("now").map_or_else(|| (js_sys::Date::now() * 1e6) as i64, |n| n as i64),
            first_line: number("firstLine").map_or(1, |n| n.max(1.0) as u32),
            schema: match get(options, "schema") {
                None => Vec::new(),
                Some(value) => serde_wasm_bindgen::from_value::<Vec<TableSeed>>(value)
                    .map_err(|e| JsError::new(&format!("invalid schema: {e}")))?
                    .into_iter()
                    .map(TableSeed::into_known)
                    .collect::<Result<_, _>>()?,
            },
            canonical: get(options, "canonical").is_some_and(|v| v.is_truthy()),
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    endpoint: &'static str,
    precision: &'static str,
    lines: u32,
    points: u32,
    fields: u32,
    bytes: usize,
    errors: Vec<ErrorReport>,
    rows: Vec<RowReport>,
    tables: Vec<TableReport>,
    conflicts: Vec<Conflict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    canonical: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorReport {
    line: u32,
    column: u32,
    message: String,
    original_line: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RowReport {
    line: u32,
    table: String,
    tags: Vec<(String, String)>,
    fields: Vec<FieldReport>,
    /// Nanoseconds as a decimal string (JavaScript numbers lose precision past 2^53).
    time_ns: String,
    time_rfc3339: String,
}

#[derive(Serialize)]
struct FieldReport {
    key: String,
    r#type: &'static str,
    value: String,
}

#[derive(Serialize)]
struct TableReport {
    name: String,
    tags: Vec<String>,
    fields: Vec<(String, &'static str)>,
    rows: u32,
}

/// A table of an earlier chunk's report (`tables`), passed back in as `schema`.
#[derive(Deserialize)]
struct TableSeed {
    name: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    fields: Vec<(String, String)>,
    #[serde(default)]
    rows: u32,
}

impl TableSeed {
    fn into_known(self) -> Result<KnownTable, JsError> {
        let fields = self
            .fields
            .into_iter()
            .map(|(key, ty)| match FieldType::from_name(&ty) {
                Some(ty) => Ok((key, ty)),
                None => Err(JsError::new(&format!(
                    "invalid schema: unknown type '{ty}' of field '{key}'"
                ))),
            })
            .collect::<Result<_, _>>()?;
        let columns = TableSchema::from_columns(self.tags, fields)
            .map_err(|e| JsError::new(&format!("invalid schema of table '{}': {e}", self.name)))?;
        Ok(KnownTable {
            name: self.name,
            columns,
            rows: self.rows,
        })
    }
}

/// A table as the core's schema rules see it, with the rows counted so far.
struct KnownTable {
    name: String,
    columns: TableSchema,
    rows: u32,
}

impl KnownTable {
    /// The index of table `name` in `tables`, added (empty) if it is not there yet.
    fn index(tables: &mut Vec<KnownTable>, name: &str) -> usize {
        match tables.iter().position(|known| known.name == name) {
            Some(i) => i,
            None => {
                tables.push(KnownTable {
                    name: name.to_owned(),
                    columns: TableSchema::default(),
                    rows: 0,
                });
                tables.len() - 1
            }
        }
    }

    fn report(self) -> TableReport {
        TableReport {
            tags: self.columns.tags().to_vec(),
            fields: self
                .columns
                .fields()
                .iter()
                .map(|(name, ty)| (name.clone(), ty.name()))
                .collect(),
            name: self.name,
            rows: self.rows,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Conflict {
    line: u32,
    table: String,
    column: String,
    expected: &'static str,
    found: &'static str,
}

fn value_text(value: &FieldValue<'_>) -> String {
    match value {
        FieldValue::Float(v) => v.to_string(),
        FieldValue::Integer(v) => v.to_string(),
        FieldValue::UInteger(v) => v.to_string(),
        FieldValue::Boolean(v) => v.to_string(),
        FieldValue::String(s) => s.as_str().into_owned(),
    }
}

/// Schema of each table seen in `seed` (earlier chunks) and the batch, and the lines of the
/// batch that break the core's schema rules (as the server would refuse them).
fn schema(batch: &WriteBatch<'_>, seed: Vec<KnownTable>) -> (Vec<TableReport>, Vec<Conflict>) {
    let mut tables = seed;
    let index: Vec<usize> = batch
        .tables()
        .iter()
        .map(|t| KnownTable::index(&mut tables, &t.as_str()))
        .collect();
    let mut conflicts = Vec::new();
    // The previous row, if it was admitted.
    let mut previous: Option<Row<'_, '_>> = None;
    for row in batch.rows() {
        let table = &mut tables[index[row.table_index]];
        table.rows += 1;
        // A row with the previous row's table, keys and field types adds nothing new.
        if previous.is_some_and(|p| p.same_shape(&row)) {
            continue;
        }
        match table.columns.admit(&row) {
            Ok(_) => previous = Some(row),
            Err(conflict) => {
                conflicts.push(Conflict {
                    line: row.line_number,
                    table: table.name.clone(),
                    column: conflict.column,
                    expected: conflict.existing.name(),
                    found: conflict.found.name(),
                });
                previous = None;
            }
        }
    }
    (
        tables.into_iter().map(KnownTable::report).collect(),
        conflicts,
    )
}

/// Validates `text` as the chosen endpoint would.
///
/// Options: `endpoint` (`"v1"`, `"v2"`, `"v3"`; default v3), `precision` (default: the
/// endpoint's), `maxRows` (rows returned in `rows`, default 1000), `now` (ingest time in
/// ns for lines without a timestamp; default the clock), `firstLine` (line number of the
/// first line, for validating a large text in chunks), `schema` (the `tables` of the
/// previous chunk's report: tables and conflicts then cover every chunk so far),
/// `canonical` (true: the report's `canonical` holds the accepted lines as canonical line
/// protocol, as [`to_canonical`] would return them).
#[wasm_bindgen]
pub fn validate(text: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let mut options = Options::read(&options)?;
    let bytes = utf8_of(&text)?;
    let text = text_of(&bytes)?;
    let report = if options.canonical {
        batch_report(text, &mut options)
    } else {
        streamed_report(text, &mut options)
    };
    report
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(|e| JsError::new(&e.to_string()))
}

fn error_report(e: LineError, offset: u32) -> ErrorReport {
    ErrorReport {
        line: e.line + offset,
        column: e.column,
        message: e.kind.to_string(),
        original_line: e.original_line,
    }
}

fn row_report(
    line_number: u32,
    table: &LpStr<'_>,
    tags: &[Tag<'_>],
    fields: &[Field<'_>],
    time: i64,
) -> RowReport {
    RowReport {
        line: line_number,
        table: table.as_str().into_owned(),
        tags: tags
            .iter()
            .map(|t| (t.key.as_str().into_owned(), t.value.as_str().into_owned()))
            .collect(),
        fields: fields
            .iter()
            .map(|f| FieldReport {
                key: f.key.as_str().into_owned(),
                r#type: f.value.type_name(),
                value: value_text(&f.value),
            })
            .collect(),
        time_ns: time.to_string(),
        time_rfc3339: rfc3339(time),
    }
}

/// The report from the core's batch of the accepted lines, which the canonical text needs.
fn batch_report(text: &str, options: &mut Options) -> Report {
    let Accepted { batch, rejected } = accept(text, options);
    let offset = options.first_line - 1;
    let lines = (batch.len() + rejected.len()) as u32;
    let errors = rejected
        .into_iter()
        .map(|e| error_report(e, offset))
        .collect();
    let rows = batch
        .rows()
        .take(options.max_rows)
        .map(|row| {
            let line = row.line_number + offset;
            row_report(line, &row.table, row.tags, row.fields, row.time)
        })
        .collect();
    let (tables, mut conflicts) = schema(&batch, std::mem::take(&mut options.schema));
    for conflict in &mut conflicts {
        conflict.line += offset;
    }
    Report {
        endpoint: options.endpoint.path(),
        precision: options.precision.as_str(),
        lines,
        points: batch.len() as u32,
        fields: batch.field_count() as u32,
        bytes: text.len(),
        errors,
        rows,
        tables,
        conflicts,
        canonical: options.canonical.then(|| batch.to_line_protocol()),
    }
}

/// Whether two names have the same value; names without escapes compared byte by byte
/// in place (`==` on `LpStr` was an out-of-line call and a `memcmp` call per line).
#[inline(always)]
fn same_name(a: &LpStr<'_>, b: &LpStr<'_>) -> bool {
    if a.escapes() == Escapes::None && b.escapes() == Escapes::None {
        let (a, b) = (a.raw().as_bytes(), b.raw().as_bytes());
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
    } else {
        a == b
    }
}

/// The same report as [`batch_report`] without the canonical text, built line by line as
/// the parser yields them: no batch is built, so the tags and fields of every line are not
/// copied into one (about 530 bytes a Telegraf line, written to memory the caches cannot
/// hold for a 10 MB text: a tenth of the report's time) nor read again for the schema.
///
/// The same rules in the same order as [`validate_text`](linegate::validate_text) and
/// [`schema`]: lines without a timestamp take `now` in the precision; tables in order of
/// first appearance after the seed's; a row of the previous admitted row's table, keys
/// (`key_set`) and field types is not checked again.
fn streamed_report(text: &str, options: &mut Options) -> Report {
    let offset = options.first_line - 1;
    let default_time = options.precision.truncate(options.now);
    let mut tables = std::mem::take(&mut options.schema);
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut conflicts = Vec::new();
    let (mut points, mut fields) = (0u32, 0u32);
    // The table of the previous line, and the table and keys of the previous admitted row
    // with its field types.
    let mut last_table: Option<(LpStr<'_>, usize)> = None;
    let mut admitted: Option<(usize, u64)> = None;
    let mut admitted_types: Vec<FieldType> = Vec::new();
    let mut parser = LineParser::new(text, options.precision);
    while let Some(line) = parser.next_line() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                errors.push(error_report(e, offset));
                continue;
            }
        };
        points += 1;
        fields += line.fields.len() as u32;
        let time = line.timestamp.unwrap_or(default_time);
        if rows.len() < options.max_rows {
            let number = line.line_number + offset;
            rows.push(row_report(
                number,
                &line.measurement,
                line.tags,
                line.fields,
                time,
            ));
        }
        let table = match last_table {
            Some((name, i)) if same_name(&name, &line.measurement) => i,
            _ => {
                let i = KnownTable::index(&mut tables, &line.measurement.as_str());
                last_table = Some((line.measurement, i));
                i
            }
        };
        let known = &mut tables[table];
        known.rows += 1;
        let same_types = || {
            line.fields.len() == admitted_types.len()
                && line
                    .fields
                    .iter()
                    .zip(&admitted_types)
                    .all(|(f, &t)| FieldType::of(&f.value) == t)
        };
        if admitted == Some((table, line.key_set)) && same_types() {
            continue;
        }
        match known.columns.admit_columns(line.tags, line.fields) {
            Ok(_) => {
                admitted = Some((table, line.key_set));
                admitted_types.clear();
                admitted_types.extend(line.fields.iter().map(|f| FieldType::of(&f.value)));
            }
            Err(conflict) => {
                conflicts.push(Conflict {
                    line: line.line_number + offset,
                    table: known.name.clone(),
                    column: conflict.column,
                    expected: conflict.existing.name(),
                    found: conflict.found.name(),
                });
                admitted = None;
            }
        }
    }
    Report {
        endpoint: options.endpoint.path(),
        precision: options.precision.as_str(),
        lines: points + errors.len() as u32,
        points,
        fields,
        bytes: text.len(),
        errors,
        rows,
        tables: tables.into_iter().map(KnownTable::report).collect(),
        conflicts,
        canonical: None,
    }
}

/// The accepted lines of `text` as canonical line protocol with nanosecond timestamps.
#[wasm_bindgen(js_name = toCanonical)]
pub fn to_canonical(text: JsValue, options: JsValue) -> Result<String, JsError> {
    let options = Options::read(&options)?;
    let bytes = utf8_of(&text)?;
    Ok(accept(text_of(&bytes)?, &options).batch.to_line_protocol())
}

/// The core's partial-write validation of `text`; an empty text is simply no lines here.
fn accept<'a>(text: &'a str, options: &Options) -> Accepted<'a> {
    linegate::validate_text(text, options.precision, options.now, false).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestReport {
    ok: bool,
    /// The status the server answers before reading the body: 0 when the request is fine.
    status: u16,
    /// The JSON body of that answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    precision: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accept_partial: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    no_sync: Option<bool>,
    /// `Bearer`, `Token`, `Basic`, `p` or absent (no credentials).
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<&'static str>,
}

/// Checks a write request's route, credentials, parameters and encoding as the server does
/// before it reads the body: `path` (such as `/write`), `query` (without `?`), the
/// `Authorization` and `Content-Encoding` header values. The method is POST.
///
/// Returns `{ ok, status, body, message }` with the server's error (status 0 when fine) and,
/// when fine, `endpoint`, `database`, `precision`, `acceptPartial`, `noSync` and `auth`.
#[wasm_bindgen(js_name = checkRequest)]
pub fn check_request(
    path: &str,
    query: Option<String>,
    authorization: Option<String>,
    content_encoding: Option<String>,
) -> Result<JsValue, JsError> {
    let parts = RequestParts {
        method: "POST",
        path,
        query: query.as_deref(),
        authorization: authorization.as_deref().map(str::as_bytes),
        content_encoding: content_encoding.as_deref().map(str::as_bytes),
    };
    let report = match WriteRequest::parse(&parts) {
        Ok(request) => RequestReport {
            ok: true,
            status: 0,
            body: None,
            message: None,
            endpoint: Some(request.endpoint.path()),
            database: Some(request.params.database.clone()),
            precision: Some(request.params.precision.as_str()),
            accept_partial: Some(request.params.accept_partial),
            no_sync: Some(request.params.no_sync),
            auth: request.credentials.as_ref().map(|c| match c.scheme {
                AuthScheme::Bearer => "Bearer",
                AuthScheme::Token => "Token",
                AuthScheme::Basic => "Basic",
                AuthScheme::QueryParam => "p",
            }),
        },
        Err(error) => {
            let endpoint = Endpoint::from_path(path).unwrap_or(Endpoint::V3);
            RequestReport {
                ok: false,
                status: error.status(),
                body: Some(error.body(endpoint)),
                message: Some(error.message(endpoint)),
                endpoint: None,
                database: None,
                precision: None,
                accept_partial: None,
                no_sync: None,
                auth: None,
            }
        }
    };
    report
        .serialize(&serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true))
        .map_err(|e| JsError::new(&e.to_string()))
}

/// Inflates a gzip file (such as a `.lp.gz` upload) with the core's decoder.
#[wasm_bindgen(js_name = gunzip)]
pub fn gunzip(bytes: &[u8], limit: Option<f64>) -> Result<String, JsError> {
    let limit = limit.map_or(256 << 20, |l| l as usize);
    let decoded = BodyDecoder::decode(ContentEncoding::Gzip, limit, bytes)
        .map_err(|e| JsError::new(&e.message(Endpoint::V3)))?;
    String::from_utf8(decoded).map_err(|e| {
        let err = linegate::utf8(e.as_bytes()).err();
        JsError::new(&err.map_or_else(|| e.to_string(), |e| e.message(Endpoint::V3)))
    })
}

/// RFC 3339 UTC with nanoseconds, e.g. `2023-11-14T22:13:20.000000001Z`.
pub fn rfc3339(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if frac != 0 {
        out.push_str(&format!(".{frac:09}"));
        while out.ends_with('0') {
            out.pop();
        }
    }
    out.push('Z');
    out
}
