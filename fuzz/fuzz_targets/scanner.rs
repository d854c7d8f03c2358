//! Fuzzes the line-protocol scanner.
//!
//! Input: the first byte picks the precision, the rest is the body (skipped unless UTF-8).
//! Every item the parser yields is checked against the invariants the crate documents (lines
//! with one key-set number have the same keys), and the accepted lines are re-encoded
//! through `WriteBatch::to_line_protocol` and parsed again: the canonical text must parse
//! without error to the same rows, and re-encoding it must give the same text (the
//! canonical form is a fixed point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use linegate::lp::{FieldValue, Line, LineParser, ORIGINAL_LINE_LIMIT};
use linegate::{Precision, WriteBatch};

const PRECISIONS: [Precision; 7] = [
    Precision::Auto,
    Precision::Hour,
    Precision::Minute,
    Precision::Second,
    Precision::Millisecond,
    Precision::Microsecond,
    Precision::Nanosecond,
];

/// A field value detached from the body and the parser, comparable exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    /// Floats compare by bits.
    Float(u64),
    Integer(i64),
    UInteger(u64),
    String(String),
    Boolean(bool),
}

impl From<&FieldValue<'_>> for Value {
    fn from(value: &FieldValue<'_>) -> Self {
        match value {
            FieldValue::Float(v) => Value::Float(v.to_bits()),
            FieldValue::Integer(v) => Value::Integer(*v),
            FieldValue::UInteger(v) => Value::UInteger(*v),
            FieldValue::String(s) => Value::String(s.as_str().into_owned()),
            FieldValue::Boolean(v) => Value::Boolean(*v),
        }
    }
}

/// An accepted line with its escapes resolved: what a reader of the batch sees.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    measurement: String,
    /// Sorted by key: tag order does not matter.
    tags: Vec<(String, String)>,
    /// In input order.
    fields: Vec<(String, Value)>,
    time: i64,
}

impl Snapshot {
    fn new(line: &Line<'_, '_>, time: i64) -> Self {
        let mut tags: Vec<(String, String)> = line
            .tags
            .iter()
            .map(|t| (t.key.as_str().into_owned(), t.value.as_str().into_owned()))
            .collect();
        tags.sort();
        Snapshot {
            measurement: line.measurement.as_str().into_owned(),
            tags,
            fields: line
                .fields
                .iter()
                .map(|f| (f.key.as_str().into_owned(), Value::from(&f.value)))
                .collect(),
            time,
        }
    }
}

/// The invariants of one accepted line.
fn check_line(body: &str, line: &Line<'_, '_>) {
    assert!(line.line_number >= 1);
    assert!(
        line.offset < body.len(),
        "offset {} past the body",
        line.offset
    );
    assert!(!line.measurement.raw().is_empty(), "empty measurement");
    assert!(
        !line.measurement.as_str().is_empty(),
        "empty measurement value"
    );
    assert!(!line.fields.is_empty(), "line without fields");
    // The line starts where the parser says, with its measurement.
    assert!(body[line.offset..].starts_with(line.measurement.raw()));
    for (i, tag) in line.tags.iter().enumerate() {
        assert!(!tag.key.raw().is_empty(), "empty tag key");
        assert!(!tag.value.raw().is_empty(), "empty tag value");
        assert!(tag.key.as_str() != "time", "tag named time accepted");
        assert!(
            line.tags[..i]
                .iter()
                .all(|t| t.key.as_str() != tag.key.as_str()),
            "duplicate tag {:?} accepted",
            tag.key
        );
    }
    for (i, field) in line.fields.iter().enumerate() {
        assert!(!field.key.raw().is_empty(), "empty field key");
        assert!(!field.raw_value.is_empty(), "empty raw field value");
        assert!(field.key.as_str() != "time", "field named time accepted");
        assert!(
            line.fields[..i]
                .iter()
                .all(|f| f.key.as_str() != field.key.as_str()),
            "duplicate field {:?} accepted",
            field.key
        );
        assert!(
            line.tags
                .iter()
                .all(|t| t.key.as_str() != field.key.as_str()),
            "key {:?} used as tag and field",
            field.key
        );
        if let FieldValue::Float(v) = field.value {
            assert!(v.is_finite(), "non-finite float accepted");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = std::str::from_utf8(rest) else {
        return;
    };
    let precision = PRECISIONS[selector as usize % PRECISIONS.len()];

    let mut parser = LineParser::new(body, precision);
    let mut batch = WriteBatch::new();
    let mut expected = Vec::new();
    let mut last_line = 1u32;
    // Key-set numbers seen, with their keys: equal numbers must mean equal keys, in order.
    let mut key_sets: Vec<(u64, Vec<String>)> = Vec::new();
    let newlines = body.bytes().filter(|&c| c == b'\n').count() as u32;
    while let Some(item) = parser.next_line() {
        let line_number = match item {
            Ok(line) => {
                check_line(body, &line);
                let keys = line.tags.iter().map(|t| t.key.raw());
                let keys: Vec<String> = keys
                    .chain(line.fields.iter().map(|f| f.key.raw()))
                    .map(str::to_owned)
                    .collect();
                match key_sets.iter().find(|(n, _)| *n == line.key_set) {
                    Some((_, seen)) => assert_eq!(seen, &keys, "key set {} reused", line.key_set),
                    None => key_sets.push((line.key_set, keys)),
                }
                let time = line.timestamp.unwrap_or(0);
                batch.push(&line, time);
                expected.push(Snapshot::new(&line, time));
                line.line_number
            }
            Err(error) => {
                assert!(error.line >= 1, "line 0 in {error:?}");
                assert!(error.column >= 1, "column 0 in {error:?}");
                assert!(
                    error.original_line.len() <= ORIGINAL_LINE_LIMIT,
                    "original_line of {} bytes",
                    error.original_line.len()
                );
                assert!(!error.original_line.contains('\n'));
                // Formatting must not panic.
                let _ = error.to_string();
                error.line
            }
        };
        assert!(
            line_number >= last_line,
            "line numbers went back from {last_line} to {line_number}"
        );
        assert!(
            line_number <= newlines + 1,
            "line {line_number} past the body"
        );
        last_line = line_number;
    }
    assert_eq!(batch.len(), expected.len());

    // Round trip through the canonical encoding.
    let text = batch.to_line_protocol();
    let mut parser = LineParser::new(&text, Precision::Nanosecond);
    let mut again = WriteBatch::new();
    let mut count = 0;
    while let Some(item) = parser.next_line() {
        let line = match item {
            Ok(line) => line,
            Err(error) => {
                panic!("canonical text does not parse: {error}\ntext: {text:?}\nbody: {body:?}")
            }
        };
        let time = line
            .timestamp
            .unwrap_or_else(|| panic!("canonical line without timestamp: {text:?}"));
        assert!(
            count < expected.len(),
            "more lines after the round trip: {text:?}"
        );
        let got = Snapshot::new(&line, time);
        assert_eq!(
            got, expected[count],
            "row {count} changed in the round trip\ntext: {text:?}\nbody: {body:?}"
        );
        again.push(&line, time);
        count += 1;
    }
    assert_eq!(
        count,
        expected.len(),
        "lines lost in the round trip: {text:?}"
    );
    assert_eq!(
        again.to_line_protocol(),
        text,
        "canonical form is not a fixed point"
    );
});
