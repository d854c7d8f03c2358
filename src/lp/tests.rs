use super::*;

use LineErrorKind as K;

// ---------------------------------------------------------------------------------------------
// Helpers: parse a body and turn every item into owned values that are easy to compare.
// ---------------------------------------------------------------------------------------------

/// A field value with its strings resolved.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Float(f64),
    Int(i64),
    UInt(u64),
    Str(String),
    Bool(bool),
}

/// An accepted line with its names resolved.
#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    measurement: String,
    tags: Vec<(String, String)>,
    fields: Vec<(String, V)>,
    timestamp: Option<i64>,
    line_number: u32,
    offset: usize,
}

fn value(value: &FieldValue<'_>) -> V {
    match value {
        FieldValue::Float(v) => V::Float(*v),
        FieldValue::Integer(v) => V::Int(*v),
        FieldValue::UInteger(v) => V::UInt(*v),
        FieldValue::String(s) => V::Str(s.as_str().into_owned()),
        FieldValue::Boolean(b) => V::Bool(*b),
    }
}

fn owned(line: &Line<'_, '_>) -> Parsed {
    Parsed {
        measurement: line.measurement.as_str().into_owned(),
        tags: line
            .tags
            .iter()
            .map(|t| (t.key.as_str().into_owned(), t.value.as_str().into_owned()))
            .collect(),
        fields: line
            .fields
            .iter()
            .map(|f| (f.key.as_str().into_owned(), value(&f.value)))
            .collect(),
        timestamp: line.timestamp,
        line_number: line.line_number,
        offset: line.offset,
    }
}

fn parse_with(body: &str, precision: Precision) -> Vec<Result<Parsed, LineError>> {
    let mut parser = LineParser::new(body, precision);
    let mut out = Vec::new();
    while let Some(item) = parser.next_line() {
        out.push(item.map(|line| owned(&line)));
        assert!(out.len() <= body.len() + 1, "parser does not advance");
    }
    // The end is sticky.
    assert!(parser.next_line().is_none());
    out
}

fn parse(body: &str) -> Vec<Result<Parsed, LineError>> {
    parse_with(body, Precision::Nanosecond)
}

/// The single accepted line of `body`.
fn ok(body: &str) -> Parsed {
    let mut items = parse(body);
    assert_eq!(items.len(), 1, "{body:?}: {items:?}");
    match items.remove(0) {
        Ok(line) => line,
        Err(e) => panic!("{body:?} rejected: {e} ({e:?})"),
    }
}

/// The single error of `body`.
fn err(body: &str) -> LineError {
    let mut items = parse(body);
    assert_eq!(items.len(), 1, "{body:?}: {items:?}");
    match items.remove(0) {
        Ok(line) => panic!("{body:?} accepted: {line:?}"),
        Err(e) => e,
    }
}

/// `body` is one rejected line; checks where and why.
#[track_caller]
fn assert_err(body: &str, line: u32, column: u32, kind: LineErrorKind) {
    let e = err(body);
    assert_eq!(
        (e.line, e.column, &e.kind),
        (line, column, &kind),
        "{body:?}: {e}"
    );
}

/// The value of the single field of `cpu v=<text>`.
fn field(text: &str) -> V {
    let line = ok(&format!("cpu v={text}"));
    assert_eq!(line.fields.len(), 1, "{text:?}");
    assert_eq!(line.fields[0].0, "v");
    line.fields[0].1.clone()
}

/// The error for `cpu v=<text>`; all value errors are reported at the value (column 7).
#[track_caller]
fn field_err(text: &str) -> LineErrorKind {
    let e = err(&format!("cpu v={text}"));
    assert_eq!((e.line, e.column), (1, 7), "{text:?}: {e}");
    e.kind
}

fn invalid(value: &str) -> LineErrorKind {
    K::InvalidFieldValue {
        key: "v".into(),
        value: value.into(),
    }
}

fn s(text: &str) -> String {
    text.to_owned()
}

fn tags(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (s(k), s(v))).collect()
}

/// A repeatable pseudo-random source for generated tests: `next(n)` is below `n`.
fn xorshift(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

/// The timestamp (ns) of `cpu v=1 <ts>` in `precision`.
fn timestamp_in(precision: Precision, ts: &str) -> Result<Option<i64>, LineError> {
    let mut items = parse_with(&format!("cpu v=1 {ts}"), precision);
    assert_eq!(items.len(), 1);
    items.remove(0).map(|line| line.timestamp)
}

// ---------------------------------------------------------------------------------------------
// A whole line.
// ---------------------------------------------------------------------------------------------

#[test]
fn simple_line() {
    assert_eq!(
        ok("cpu,host=a,region=west usage=0.5,cores=4i,name=\"x\",on=t 1700000000000000000"),
        Parsed {
            measurement: s("cpu"),
            tags: tags(&[("host", "a"), ("region", "west")]),
            fields: vec![
                (s("usage"), V::Float(0.5)),
                (s("cores"), V::Int(4)),
                (s("name"), V::Str(s("x"))),
                (s("on"), V::Bool(true)),
            ],
            timestamp: Some(1_700_000_000_000_000_000),
            line_number: 1,
            offset: 0,
        }
    );
}

#[test]
fn line_without_tags_or_timestamp() {
    let line = ok("m v=1");
    assert_eq!(line.measurement, "m");
    assert!(line.tags.is_empty());
    assert_eq!(line.fields, vec![(s("v"), V::Float(1.0))]);
    assert_eq!(line.timestamp, None);
}

#[test]
fn borrowed_parts_point_into_the_body() {
    let body = "cpu,host=a v=1.50,w=\"s\" 5";
    let mut parser = LineParser::new(body, Precision::Nanosecond);
    let line = parser.next_line().unwrap().unwrap();
    assert_eq!(line.measurement.raw(), "cpu");
    assert_eq!(line.measurement.escapes(), Escapes::None);
    assert_eq!(line.tags[0].key.raw(), "host");
    assert_eq!(line.tags[0].value.raw(), "a");
    assert_eq!(line.fields[0].raw_value, "1.50");
    assert_eq!(line.fields[1].raw_value, "\"s\"");
    match line.fields[1].value {
        FieldValue::String(text) => assert_eq!(text.raw(), "s"),
        other => panic!("{other:?}"),
    }
    // Zero-copy: the measurement is a slice of the body.
    assert_eq!(line.measurement.raw().as_ptr(), body.as_ptr());
}

#[test]
fn fields_and_tags_keep_input_order() {
    let line = ok("m,z=1,a=2,m=3 zf=1,af=2,mf=3");
    assert_eq!(line.tags, tags(&[("z", "1"), ("a", "2"), ("m", "3")]));
    let keys: Vec<_> = line.fields.iter().map(|f| f.0.clone()).collect();
    assert_eq!(keys, ["zf", "af", "mf"]);
}

// ---------------------------------------------------------------------------------------------
// Measurement.
// ---------------------------------------------------------------------------------------------

#[test]
fn measurement_escapes() {
    let mut parser = LineParser::new(r"c\,p\ u\\x v=1", Precision::Nanosecond);
    let line = parser.next_line().unwrap().unwrap();
    assert_eq!(line.measurement.raw(), r"c\,p\ u\\x");
    assert_eq!(line.measurement.escapes(), Escapes::Measurement);
    assert_eq!(line.measurement.as_str(), r"c,p u\x");
}

#[test]
fn measurement_other_backslashes_are_literal() {
    // `\=` is not an escape in a measurement, nor is `\p` or `\"`.
    let mut parser = LineParser::new(r#"c\pu\=x\"y v=1"#, Precision::Nanosecond);
    let line = parser.next_line().unwrap().unwrap();
    assert_eq!(line.measurement.escapes(), Escapes::None);
    assert_eq!(line.measurement.as_str(), r#"c\pu\=x\"y"#);
    // Mixed with a real escape, the literal ones stay.
    assert_eq!(ok(r"a\=b\,c v=1").measurement, r"a\=b,c");
}

#[test]
fn measurement_allows_equals_quote_and_hash() {
    assert_eq!(ok(r#"c=p"u#x v=1"#).measurement, r#"c=p"u#x"#);
    assert_eq!(ok(r#""cpu" v=1"#).measurement, r#""cpu""#);
    assert_eq!(ok("=1 v=1").measurement, "=1");
}

#[test]
fn measurement_backslash_before_tab_is_literal() {
    // As InfluxDB: the character after an unknown escape belongs to the name.
    let line = ok("cpu\\\tx v=1");
    assert_eq!(line.measurement, "cpu\\\tx");
    let line = ok("cpu,t=a\\\tb v=1");
    assert_eq!(line.tags, tags(&[("t", "a\\\tb")]));
    let line = ok("cpu,a\\\tb=1 v\\\tw=1");
    assert_eq!(line.tags, tags(&[("a\\\tb", "1")]));
    assert_eq!(line.fields[0].0, "v\\\tw");
}

#[test]
fn measurement_ends_with_backslash() {
    assert_err(r"cpu\", 1, 4, K::EndsWithBackslash);
    assert_err(r"cpu\ ", 1, 6, K::MissingFields);
    // An escaped backslash at the end counts too (as InfluxDB).
    assert_err(r"cpu\\ v=1", 1, 5, K::EndsWithBackslash);
    assert_err(r"cpu\\,t=1 v=1", 1, 5, K::EndsWithBackslash);
    // A backslash before a newline does not continue the line.
    let items = parse("cpu\\\nx v=1");
    assert_eq!(items.len(), 2);
    let e = items[0].as_ref().unwrap_err();
    assert_eq!((e.line, e.column, &e.kind), (1, 4, &K::EndsWithBackslash));
    assert_eq!(items[1].as_ref().unwrap().measurement, "x");
    // Nor does a backslash before a NUL.
    assert_err("cpu\\\0x v=1", 1, 4, K::EndsWithBackslash);
}

#[test]
fn measurement_missing() {
    assert_err(",host=a v=1", 1, 1, K::MissingMeasurement);
    assert_err(",", 1, 1, K::MissingMeasurement);
    assert_err("  ,v=1", 1, 3, K::MissingMeasurement);
}

#[test]
fn measurement_with_nul() {
    assert_err("cpu\0 v=1", 1, 4, K::NulInMeasurement);
    assert_err("\0 v=1", 1, 1, K::MissingMeasurement);
    // NUL is fine in keys, values and strings.
    let line = ok("cpu,a\0=b\0 c\0=\"d\0\"");
    assert_eq!(line.tags, tags(&[("a\0", "b\0")]));
    assert_eq!(line.fields, vec![(s("c\0"), V::Str(s("d\0")))]);
}

#[test]
fn non_ascii_names() {
    let line = ok("温度,地点=北京 值=1");
    assert_eq!(line.measurement, "温度");
    assert_eq!(line.tags, tags(&[("地点", "北京")]));
    assert_eq!(line.fields, vec![(s("值"), V::Float(1.0))]);
    let line = ok("é\\ è,ü=ñ 😀=\"ü\\\"\" 1");
    assert_eq!(line.measurement, "é è");
    assert_eq!(line.fields, vec![(s("😀"), V::Str(s("ü\"")))]);
    // Columns count bytes: 温度 is 6 bytes, 值 3.
    assert_err("温度 值=", 1, 12, K::MissingFieldValue(s("值")));
}

// ---------------------------------------------------------------------------------------------
// Tag set.
// ---------------------------------------------------------------------------------------------

#[test]
fn tag_escapes() {
    let line = ok(r"cpu,a\,b\=c\ d\\e=x\,y\=z\ w\\v v=1");
    assert_eq!(line.tags, tags(&[(r"a,b=c d\e", r"x,y=z w\v")]));
    let mut parser = LineParser::new(r"cpu,a\,b=x v=1", Precision::Nanosecond);
    let line = parser.next_line().unwrap().unwrap();
    assert_eq!(line.tags[0].key.escapes(), Escapes::Key);
    assert_eq!(line.tags[0].key.raw(), r"a\,b");
    assert_eq!(line.tags[0].value.escapes(), Escapes::None);
}

#[test]
fn tag_other_backslashes_are_literal() {
    let line = ok(r#"cpu,a\b=c\d\"e v=1"#);
    assert_eq!(line.tags, tags(&[(r"a\b", r#"c\d\"e"#)]));
}

#[test]
fn equals_allowed_in_tag_values() {
    assert_eq!(ok("cpu,a=b=c v=1").tags, tags(&[("a", "b=c")]));
    assert_eq!(ok("cpu,a==b v=1").tags, tags(&[("a", "=b")]));
    assert_eq!(ok("cpu,a=b= v=1").tags, tags(&[("a", "b=")]));
}

#[test]
fn tag_special_characters_allowed() {
    let line = ok(r#"cpu,"k"="v",#=# v=1"#);
    assert_eq!(line.tags, tags(&[(r#""k""#, r#""v""#), ("#", "#")]));
}

#[test]
fn tag_ends_with_backslash() {
    assert_err(r"cpu,a\\=1 v=1", 1, 7, K::EndsWithBackslash);
    assert_err(r"cpu,a=b\\ v=1", 1, 9, K::EndsWithBackslash);
    assert_err(r"cpu,a=b\", 1, 8, K::EndsWithBackslash);
    assert_err(r"cpu,a\", 1, 6, K::EndsWithBackslash);
}

#[test]
fn tag_errors() {
    assert_err("cpu,", 1, 5, K::MissingTagKey);
    assert_err("cpu,=a v=1", 1, 5, K::MissingTagKey);
    assert_err("cpu, v=1", 1, 5, K::MissingTagKey);
    assert_err("cpu,host=a,", 1, 12, K::MissingTagKey);
    assert_err("cpu,host=a, v=1", 1, 12, K::MissingTagKey);
    assert_err("cpu,host=a,,b=1 v=1", 1, 12, K::MissingTagKey);
    assert_err("cpu,host", 1, 5, K::TagWithoutEquals(s("host")));
    assert_err("cpu,host v=1", 1, 5, K::TagWithoutEquals(s("host")));
    assert_err("cpu,a,b=1 v=1", 1, 5, K::TagWithoutEquals(s("a")));
    assert_err("cpu,host=", 1, 10, K::MissingTagValue(s("host")));
    assert_err("cpu,host= v=1", 1, 10, K::MissingTagValue(s("host")));
    assert_err("cpu,host=,a=b v=1", 1, 10, K::MissingTagValue(s("host")));
    assert_err("cpu,host=a", 1, 11, K::MissingFields);
    assert_err("cpu,host=a ", 1, 12, K::MissingFields);
}

#[test]
fn tag_key_in_message_is_raw() {
    assert_err(r"cpu,a\ b", 1, 5, K::TagWithoutEquals(s(r"a\ b")));
}

// ---------------------------------------------------------------------------------------------
// Separators and whitespace.
// ---------------------------------------------------------------------------------------------

#[test]
fn tabs_are_not_separators() {
    assert_err("cpu\tv=1", 1, 4, K::TabSeparator);
    assert_err("cpu,a=b\tv=1", 1, 8, K::TabSeparator);
    assert_err("cpu v=1\t123", 1, 8, K::TabSeparator);
    assert_err("cpu v=1,w=2\t", 1, 12, K::TabSeparator);
    assert_err("cpu v=1 123 \t", 1, 13, K::TabSeparator);
    assert_err("cpu v=1 123\t", 1, 9, K::InvalidTimestamp(s("123")));
    assert_err("cpu \tv=1", 1, 5, K::MissingFieldKey);
    assert_err("cpu v=1,\tw=2", 1, 9, K::MissingFieldKey);
    assert_err("cpu v\t=1", 1, 5, K::FieldWithoutEquals(s("v")));
}

#[test]
fn several_spaces_between_parts() {
    let line = ok("cpu,a=b    v=1    5");
    assert_eq!(line.tags, tags(&[("a", "b")]));
    assert_eq!(line.timestamp, Some(5));
}

#[test]
fn leading_whitespace_is_skipped() {
    let line = ok("   \t \tcpu v=1");
    assert_eq!(line.measurement, "cpu");
    assert_eq!(line.offset, 6);
    // Columns and the original line count from the physical line's start.
    let items = parse("a v=1\n  \t cpu v=");
    let e = items[1].as_ref().unwrap_err();
    assert_eq!((e.line, e.column), (2, 11));
    assert_eq!(e.original_line, "  \t cpu v=");
}

#[test]
fn trailing_spaces_are_accepted() {
    // linegate decision (GUIDE §2): InfluxDB 3 rejects `cpu v=1 `.
    assert_eq!(ok("cpu v=1 ").timestamp, None);
    assert_eq!(ok("cpu v=1    ").timestamp, None);
    assert_eq!(ok("cpu v=1 5   ").timestamp, Some(5));
    assert_eq!(ok("cpu v=1,   ").fields.len(), 1);
    assert_eq!(ok("cpu v=\"a\"  \n").fields.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Field set.
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_fields() {
    assert_err("cpu", 1, 4, K::MissingFields);
    assert_err("cpu ", 1, 5, K::MissingFields);
    assert_err("cpu   ", 1, 7, K::MissingFields);
    assert_err("cpu \n", 1, 5, K::MissingFields);
    assert_err("cpu\n", 1, 4, K::MissingFields);
    assert_err("cpu \r\n", 1, 5, K::MissingFields);
}

#[test]
fn field_key_errors() {
    assert_err("cpu =1", 1, 5, K::MissingFieldKey);
    assert_err("cpu v=1,,w=2", 1, 9, K::MissingFieldKey);
    assert_err("cpu v=1,,", 1, 9, K::MissingFieldKey);
    assert_err("cpu ,v=1", 1, 5, K::MissingFieldKey);
    assert_err("cpu v", 1, 5, K::FieldWithoutEquals(s("v")));
    assert_err("cpu v 1", 1, 5, K::FieldWithoutEquals(s("v")));
    assert_err("cpu v=1,w", 1, 9, K::FieldWithoutEquals(s("w")));
    assert_err("cpu a,b=1", 1, 5, K::FieldWithoutEquals(s("a")));
    assert_err(r"cpu v\\=1", 1, 7, K::EndsWithBackslash);
    assert_err(r"cpu v\", 1, 6, K::EndsWithBackslash);
}

#[test]
fn field_key_escapes() {
    let line = ok(r"cpu a\,b\=c\ d\\e\f=1");
    assert_eq!(line.fields, vec![(s(r"a,b=c d\e\f"), V::Float(1.0))]);
    let line = ok(r#"cpu "k"=1,#=2"#);
    assert_eq!(line.fields[0].0, r#""k""#);
    assert_eq!(line.fields[1].0, "#");
}

#[test]
fn missing_field_values() {
    assert_err("cpu v=", 1, 7, K::MissingFieldValue(s("v")));
    assert_err("cpu v= 1", 1, 7, K::MissingFieldValue(s("v")));
    assert_err("cpu v=,w=1", 1, 7, K::MissingFieldValue(s("v")));
    assert_err("cpu v=\n", 1, 7, K::MissingFieldValue(s("v")));
    assert_err("cpu v=\r\n", 1, 7, K::MissingFieldValue(s("v")));
    assert_err("cpu v=\t", 1, 7, K::MissingFieldValue(s("v")));
    assert_err("cpu v=1,w=", 1, 11, K::MissingFieldValue(s("w")));
}

#[test]
fn trailing_comma_in_field_set() {
    assert_eq!(ok("cpu v=1,").fields.len(), 1);
    assert_eq!(ok("cpu v=1,w=2,").fields.len(), 2);
    assert_eq!(ok("cpu v=1, 123").timestamp, Some(123));
    assert_eq!(ok("cpu v=1,\n").fields.len(), 1);
    assert_eq!(ok("cpu v=1,\r\n").fields.len(), 1);
    assert_err("cpu v=1,,", 1, 9, K::MissingFieldKey);
    assert_err("cpu v=1,, 5", 1, 9, K::MissingFieldKey);
}

#[test]
fn quoted_key_is_cut_in_messages() {
    let key = "k".repeat(100);
    let e = err(&format!("cpu {key}="));
    let mut expected = "k".repeat(64);
    expected.push('…');
    assert_eq!(e.kind, K::MissingFieldValue(expected));
    assert_eq!(e.column, 106);
}

// ---------------------------------------------------------------------------------------------
// Field values: floats.
// ---------------------------------------------------------------------------------------------

#[test]
fn floats_of_every_form() {
    for text in [
        "0",
        "1",
        "-1",
        "12",
        "007",
        "1.5",
        "-1.5",
        "0.0",
        "00.50",
        "-007.25",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "1E-5",
        "-1e5",
        "1.5e3",
        "1.5E+3",
        "-1.5e-3",
        "1e0",
        "1e0000005",
        "1e22",
        "1e23",
        "1e-22",
        "1e-400",
        "4.9e-324",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "9007199254740993",
        "123456789012345678901234567890",
        "0.1",
        "0.30000000000000004",
        "3.141592653589793",
        "0.000000000000000000000000001",
    ] {
        let expected: f64 = text.parse().unwrap();
        match field(text) {
            V::Float(v) => assert_eq!(v.to_bits(), expected.to_bits(), "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn negative_zero_keeps_its_sign() {
    for text in ["-0", "-0.0", "-0e5", "-0.000"] {
        match field(text) {
            V::Float(v) => assert_eq!(v.to_bits(), (-0.0f64).to_bits(), "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn float_syntax_errors() {
    for text in [
        ".5", "-.5", "5.", "-5.", "1.e5", "+1", "+1.5", "NaN", "nan", "inf", "-inf", "Infinity",
        "1e", "1e+", "1e-", "1E", "1.5e", "--1", "-", "1_000", "0x10", "1.5.5", "1e5.5", "1.5x",
        "1e5e5", "1f", "1d", "i", "-i", "e5",
    ] {
        assert_eq!(field_err(text), invalid(text), "{text}");
    }
}

#[test]
fn float_overflow_is_rejected() {
    // linegate decision: InfluxDB stores +inf.
    for text in ["1e400", "-1e400", "1.8e308", "99999e99999"] {
        assert_eq!(
            field_err(text),
            K::FloatOutOfRange {
                key: s("v"),
                value: s(text)
            },
            "{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Field values: integers.
// ---------------------------------------------------------------------------------------------

#[test]
fn integers() {
    assert_eq!(field("0i"), V::Int(0));
    assert_eq!(field("-0i"), V::Int(0));
    assert_eq!(field("1i"), V::Int(1));
    assert_eq!(field("-1i"), V::Int(-1));
    assert_eq!(field("0042i"), V::Int(42));
    assert_eq!(field("9223372036854775807i"), V::Int(i64::MAX));
    assert_eq!(field("-9223372036854775808i"), V::Int(i64::MIN));
    assert_eq!(field("0009223372036854775807i"), V::Int(i64::MAX));
    assert_eq!(
        field("999999999999999999i"),
        V::Int(999_999_999_999_999_999)
    );
    assert_eq!(
        field("-999999999999999999i"),
        V::Int(-999_999_999_999_999_999)
    );
}

#[test]
fn integer_range_errors() {
    for text in [
        "9223372036854775808i",
        "-9223372036854775809i",
        "99999999999999999999999i",
    ] {
        assert_eq!(
            field_err(text),
            K::IntegerOutOfRange {
                key: s("v"),
                value: s(text)
            },
            "{text}"
        );
    }
}

#[test]
fn integer_syntax_errors() {
    for text in ["1I", "+1i", "1.0i", "1e3i", "1ii", "1i1", "1i-"] {
        assert_eq!(field_err(text), invalid(text), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Field values: unsigned integers.
// ---------------------------------------------------------------------------------------------

#[test]
fn unsigned_integers() {
    assert_eq!(field("0u"), V::UInt(0));
    assert_eq!(field("1u"), V::UInt(1));
    assert_eq!(field("18446744073709551615u"), V::UInt(u64::MAX));
    assert_eq!(field("00018446744073709551615u"), V::UInt(u64::MAX));
    assert_eq!(
        field("9999999999999999999u"),
        V::UInt(9_999_999_999_999_999_999)
    );
}

#[test]
fn unsigned_range_errors() {
    for text in [
        "18446744073709551616u",
        "99999999999999999999999u",
        "-1u",
        "-0u",
    ] {
        assert_eq!(
            field_err(text),
            K::UnsignedOutOfRange {
                key: s("v"),
                value: s(text)
            },
            "{text}"
        );
    }
}

#[test]
fn unsigned_syntax_errors() {
    for text in ["1U", "+1u", "1.5u", "1e3u", "1uu", "1u1"] {
        assert_eq!(field_err(text), invalid(text), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Field values: booleans.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_boolean_spelling() {
    for text in ["t", "T", "true", "True", "TRUE"] {
        assert_eq!(field(text), V::Bool(true), "{text}");
    }
    for text in ["f", "F", "false", "False", "FALSE"] {
        assert_eq!(field(text), V::Bool(false), "{text}");
    }
    let line = ok("cpu a=t,b=F,c=TRUE 5");
    assert_eq!(
        line.fields,
        vec![
            (s("a"), V::Bool(true)),
            (s("b"), V::Bool(false)),
            (s("c"), V::Bool(true)),
        ]
    );
}

#[test]
fn boolean_misspellings() {
    for text in [
        "tRue", "TRue", "truE", "tru", "fAlse", "FALSe", "fals", "truex", "t1", "T_", "yes", "no",
        "on", "off", "y", "n", "true\"",
    ] {
        assert_eq!(field_err(text), invalid(text), "{text}");
    }
    assert_err("cpu v=true=1", 1, 7, invalid("true=1"));
}

// ---------------------------------------------------------------------------------------------
// Field values: strings.
// ---------------------------------------------------------------------------------------------

#[test]
fn string_escapes() {
    assert_eq!(field(r#""a\"b\\c\d\,e""#), V::Str(s(r#"a"b\c\d\,e"#)));
    assert_eq!(field(r#""\\""#), V::Str(s(r"\")));
    assert_eq!(field(r#""\\\"""#), V::Str(s(r#"\""#)));
}

#[test]
fn string_raw_and_escape_kind() {
    let mut parser = LineParser::new(r#"cpu a="x\"y",b="p\q",c="""#, Precision::Nanosecond);
    let line = parser.next_line().unwrap().unwrap();
    let strings: Vec<_> = line
        .fields
        .iter()
        .map(|f| match f.value {
            FieldValue::String(text) => (text.raw(), text.escapes(), f.raw_value),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        strings,
        [
            (r#"x\"y"#, Escapes::String, r#""x\"y""#),
            (r"p\q", Escapes::None, r#""p\q""#),
            ("", Escapes::None, r#""""#),
        ]
    );
}

#[test]
fn empty_string() {
    assert_eq!(field(r#""""#), V::Str(s("")));
    assert_eq!(ok(r#"cpu a="",b="" 1"#).fields.len(), 2);
}

#[test]
fn strings_may_hold_separators() {
    assert_eq!(field(r#""a,b=c d	e#f""#), V::Str(s("a,b=c d\te#f")));
    assert_eq!(field("\"a\rb\""), V::Str(s("a\rb")));
}

#[test]
fn string_must_be_followed_by_a_separator() {
    assert_err(r#"cpu v="abc"x"#, 1, 7, invalid(r#""abc"x"#));
    assert_err(r#"cpu v="a""b""#, 1, 7, invalid(r#""a""b""#));
    assert_err(r#"cpu v=x"abc""#, 1, 7, invalid(r#"x"abc""#));
}

#[test]
fn string_with_newlines_keeps_line_numbers() {
    let body = "cpu v=\"a\nb\nc\" 5\nmem w=1\nbad\n";
    let items = parse(body);
    assert_eq!(items.len(), 3);
    let first = items[0].as_ref().unwrap();
    assert_eq!(first.fields, vec![(s("v"), V::Str(s("a\nb\nc")))]);
    assert_eq!((first.line_number, first.timestamp), (1, Some(5)));
    let second = items[1].as_ref().unwrap();
    assert_eq!((second.line_number, second.offset), (4, 16));
    let third = items[2].as_ref().unwrap_err();
    assert_eq!((third.line, third.column), (5, 4));
    assert_eq!(third.kind, K::MissingFields);
}

#[test]
fn error_after_multiline_string_is_located_on_its_physical_line() {
    let body = "cpu a=\"x\ny\",b=bad\ncpu c=1";
    let items = parse(body);
    assert_eq!(items.len(), 2);
    let e = items[0].as_ref().unwrap_err();
    assert_eq!((e.line, e.column), (2, 6));
    assert_eq!(
        e.kind,
        K::InvalidFieldValue {
            key: s("b"),
            value: s("bad")
        }
    );
    assert_eq!(e.original_line, "y\",b=bad");
    assert_eq!(items[1].as_ref().unwrap().line_number, 3);
}

#[test]
fn unterminated_string() {
    // An error at the opening quote; parsing resumes at the next physical line.
    let body = "cpu a=\"abc\ncpu b=1\n";
    let items = parse(body);
    assert_eq!(items.len(), 2);
    let e = items[0].as_ref().unwrap_err();
    assert_eq!((e.line, e.column), (1, 7));
    assert_eq!(e.kind, K::UnterminatedString(s("a")));
    assert_eq!(e.original_line, "cpu a=\"abc");
    let line = items[1].as_ref().unwrap();
    assert_eq!((line.measurement.as_str(), line.line_number), ("cpu", 2));

    assert_err("cpu v=\"", 1, 7, K::UnterminatedString(s("v")));
    assert_err(r#"cpu v="a\""#, 1, 7, K::UnterminatedString(s("v")));
    assert_err(r#"cpu v="a\"#, 1, 7, K::UnterminatedString(s("v")));
    assert_err(r#"cpu v=1,w="a\\\""#, 1, 11, K::UnterminatedString(s("w")));
}

#[test]
fn unterminated_string_error_on_a_later_line() {
    let items = parse("a v=1\nb v=\"x\nc v=2");
    assert_eq!(items.len(), 3);
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(
        (e.line, e.column, &e.kind),
        (2, 5, &K::UnterminatedString(s("v")))
    );
    assert_eq!(items[2].as_ref().unwrap().line_number, 3);
}

// ---------------------------------------------------------------------------------------------
// Per-line rules (GUIDE §2).
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_tags() {
    assert_err("cpu,a=1,a=2 v=1", 1, 9, K::DuplicateTag(s("a")));
    assert_err("cpu,a=1,b=1,a=1 v=1", 1, 13, K::DuplicateTag(s("a")));
    // Equal only after unescaping: a literal backslash and an escaped one.
    assert_err(r"cpu,a\b=1,a\\b=2 v=1", 1, 11, K::DuplicateTag(s(r"a\b")));
    // Different after unescaping.
    assert_eq!(ok(r"cpu,a\,b=1,a\\\,b=2 v=1").tags.len(), 2);
    // Tags are checked before fields.
    assert_err("cpu,a=1,a=2 b=1,b=2", 1, 9, K::DuplicateTag(s("a")));
}

#[test]
fn duplicate_fields() {
    assert_err("cpu v=1,v=2", 1, 9, K::DuplicateField(s("v")));
    assert_err("cpu v=1,w=1,v=1i", 1, 13, K::DuplicateField(s("v")));
    assert_err(r"cpu a\b=1,a\\b=2", 1, 11, K::DuplicateField(s(r"a\b")));
    assert_err(r"cpu a\ b=1,a\ b=2", 1, 12, K::DuplicateField(s("a b")));
}

#[test]
fn time_is_reserved() {
    assert_err("cpu,time=1 v=1", 1, 5, K::ReservedName(s("time")));
    assert_err("cpu time=1", 1, 5, K::ReservedName(s("time")));
    assert_err("cpu v=1,time=2", 1, 9, K::ReservedName(s("time")));
    assert_err("cpu,a=1,time=1 v=1", 1, 9, K::ReservedName(s("time")));
    // Only the exact name.
    assert_eq!(ok("cpu,Time=1 TIME=1,times=2").tags.len(), 1);
    assert_eq!(ok("time,a=time v=\"time\"").measurement, "time");
}

#[test]
fn tag_field_clash() {
    assert_err("cpu,a=1 a=2", 1, 9, K::TagFieldClash(s("a")));
    assert_err("cpu,a=1,b=1 c=1,b=2", 1, 17, K::TagFieldClash(s("b")));
    assert_err(r"cpu,a\b=1 a\\b=2", 1, 11, K::TagFieldClash(s(r"a\b")));
}

#[test]
fn comma_in_keys_is_rejected() {
    // linegate decision: InfluxDB takes `,b` as a tag key and `,w` as a field key.
    assert_err("cpu,a=1,,b=2 v=1", 1, 9, K::MissingTagKey);
    assert_err("cpu v=1,,w=2", 1, 9, K::MissingFieldKey);
    // Escaped, it is fine.
    let line = ok(r"cpu,a\,b=1 c\,d=2");
    assert_eq!(line.tags, tags(&[("a,b", "1")]));
    assert_eq!(line.fields[0].0, "c,d");
}

// ---------------------------------------------------------------------------------------------
// Timestamps.
// ---------------------------------------------------------------------------------------------

#[test]
fn timestamps() {
    let ts = |t: &str| timestamp_in(Precision::Nanosecond, t).unwrap();
    assert_eq!(ts("0"), Some(0));
    assert_eq!(ts("-0"), Some(0));
    assert_eq!(ts("123"), Some(123));
    assert_eq!(ts("-123"), Some(-123));
    assert_eq!(ts("000123"), Some(123));
    assert_eq!(ts("9223372036854775807"), Some(i64::MAX));
    assert_eq!(ts("-9223372036854775808"), Some(i64::MIN));
    assert_eq!(ts("1700000000000000000"), Some(1_700_000_000_000_000_000));
    assert_eq!(ok("cpu v=1").timestamp, None);
}

#[test]
fn timestamp_range_errors() {
    for text in [
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999",
    ] {
        assert_err(
            &format!("cpu v=1 {text}"),
            1,
            9,
            K::TimestampOutOfRange(s(text)),
        );
    }
}

#[test]
fn timestamp_syntax_errors() {
    for text in [
        "12.5", "1e9", "123abc", "abc", "+1", "--1", "-", "1_000", "0x10", "5i", "\"5\"", "#c",
    ] {
        assert_err(
            &format!("cpu v=1 {text}"),
            1,
            9,
            K::InvalidTimestamp(s(text)),
        );
    }
    assert_err("cpu v=1   12.5", 1, 11, K::InvalidTimestamp(s("12.5")));
    // The quoted text stops at a comma.
    assert_err("cpu v=1 1,2", 1, 9, K::InvalidTimestamp(s("1")));
}

#[test]
fn content_after_the_timestamp() {
    assert_err("cpu v=1 123 456", 1, 13, K::TrailingContent(s("456")));
    assert_err("cpu v=1 123   4 5", 1, 15, K::TrailingContent(s("4 5")));
    assert_err("cpu v=1 123 x\r\n", 1, 13, K::TrailingContent(s("x")));
}

#[test]
fn spaces_around_the_timestamp() {
    assert_eq!(ok("cpu v=1  5").timestamp, Some(5));
    assert_eq!(ok("cpu v=1 5  ").timestamp, Some(5));
    assert_eq!(ok("cpu v=1     5     \n").timestamp, Some(5));
}

// ---------------------------------------------------------------------------------------------
// Precision.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_precision() {
    let ns = 1_700_000_000_000_000_000;
    for (precision, text, expected) in [
        (Precision::Nanosecond, "1700000000000000000", ns),
        (Precision::Microsecond, "1700000000000000", ns),
        (Precision::Millisecond, "1700000000000", ns),
        (Precision::Second, "1700000000", ns),
        (Precision::Minute, "28333333", 1_699_999_980_000_000_000),
        (Precision::Hour, "472222", 1_699_999_200_000_000_000),
        (Precision::Second, "-1", -1_000_000_000),
        (Precision::Second, "0", 0),
        (Precision::Hour, "-1", -3_600_000_000_000),
        (Precision::Second, "9223372036", 9_223_372_036_000_000_000),
        (Precision::Minute, "153722867", 9_223_372_020_000_000_000),
        (Precision::Hour, "2562047", 9_223_369_200_000_000_000),
        (
            Precision::Millisecond,
            "-9223372036854",
            -9_223_372_036_854_000_000,
        ),
        (Precision::Nanosecond, "-9223372036854775808", i64::MIN),
    ] {
        assert_eq!(
            timestamp_in(precision, text).unwrap(),
            Some(expected),
            "{precision:?} {text}"
        );
    }
}

#[test]
fn auto_precision() {
    let ns = 1_700_000_000_000_000_000;
    for (text, expected) in [
        ("1700000000", ns),
        ("1700000000000", ns),
        ("1700000000000000", ns),
        ("1700000000000000000", ns),
        ("-1700000000", -ns),
        ("0", 0),
        ("4999999999", 4_999_999_999_000_000_000),
        ("5000000000", 5_000_000_000_000_000),
        ("4999999999999", 4_999_999_999_999_000_000),
        ("5000000000000", 5_000_000_000_000_000),
        ("5000000000000000", 5_000_000_000_000_000),
        ("9223372036854775807", i64::MAX),
        ("-9223372036854775808", i64::MIN),
    ] {
        assert_eq!(
            timestamp_in(Precision::Auto, text).unwrap(),
            Some(expected),
            "auto {text}"
        );
    }
    // Each line decides on its own.
    let items = parse_with("a v=1 1700000000\nb v=1 1700000000000\n", Precision::Auto);
    let times: Vec<_> = items
        .iter()
        .map(|i| i.as_ref().unwrap().timestamp)
        .collect();
    assert_eq!(times, [Some(ns), Some(ns)]);
}

#[test]
fn precision_overflow() {
    for (precision, timestamp) in [
        (Precision::Second, 9_223_372_037),
        (Precision::Second, -9_223_372_037),
        (Precision::Millisecond, 9_223_372_036_855),
        (Precision::Microsecond, 9_223_372_036_854_776),
        (Precision::Minute, 153_722_868),
        (Precision::Hour, 2_562_048),
        (Precision::Hour, -2_562_048),
        (Precision::Hour, i64::MAX),
    ] {
        let e = timestamp_in(precision, &timestamp.to_string()).unwrap_err();
        assert_eq!(
            (e.line, e.column, e.kind),
            (
                1,
                9,
                K::TimestampOverflow {
                    timestamp,
                    precision
                }
            ),
            "{precision:?} {timestamp}"
        );
    }
    let e = timestamp_in(Precision::Second, "9223372037").unwrap_err();
    assert_eq!(
        e.kind.to_string(),
        "timestamp 9223372037 is out of range for precision 's': it does not fit in 64-bit nanoseconds"
    );
}

#[test]
fn precision_does_not_touch_values() {
    let line = parse_with("cpu v=5i 2", Precision::Hour).remove(0).unwrap();
    assert_eq!(line.fields[0].1, V::Int(5));
    assert_eq!(line.timestamp, Some(7_200_000_000_000));
    let line = parse_with("cpu v=5i", Precision::Hour).remove(0).unwrap();
    assert_eq!(line.timestamp, None);
}

// ---------------------------------------------------------------------------------------------
// Line endings, comments and blank lines.
// ---------------------------------------------------------------------------------------------

#[test]
fn crlf_line_endings() {
    let items = parse("a v=1\r\nb v=2 5\r\nc v=t\r\nd v=\"x\"\r\ne v=1 \r\n\r\nf v=1,\r\n");
    let lines: Vec<_> = items
        .iter()
        .map(|i| {
            let l = i.as_ref().unwrap();
            (l.measurement.clone(), l.line_number)
        })
        .collect();
    assert_eq!(
        lines,
        [
            (s("a"), 1),
            (s("b"), 2),
            (s("c"), 3),
            (s("d"), 4),
            (s("e"), 5),
            (s("f"), 7)
        ]
    );
    assert_eq!(items[1].as_ref().unwrap().timestamp, Some(5));
    assert_eq!(items[2].as_ref().unwrap().fields[0].1, V::Bool(true));
    // A final `\r` without `\n` ends the line too.
    assert_eq!(ok("cpu v=1\r").fields.len(), 1);
    assert_eq!(ok("cpu v=1 5\r").timestamp, Some(5));
}

#[test]
fn crlf_errors_do_not_show_the_carriage_return() {
    let items = parse("a v=1\r\ncpu v=\r\nb v=2\r\n");
    assert_eq!(items.len(), 3);
    let e = items[1].as_ref().unwrap_err();
    assert_eq!((e.line, e.column), (2, 7));
    assert_eq!(e.kind, K::MissingFieldValue(s("v")));
    assert_eq!(e.original_line, "cpu v=");
    assert_eq!(items[2].as_ref().unwrap().line_number, 3);
}

#[test]
fn lone_carriage_returns() {
    let e = err("cpu v=1\rcpu v=2\n");
    assert_eq!((e.line, e.column, &e.kind), (1, 8, &K::StrayCarriageReturn));
    assert_eq!(e.original_line, "cpu v=1\rcpu v=2");
    assert_err("cpu v=1 123\rx", 1, 12, K::StrayCarriageReturn);
    // Elsewhere a carriage return is an ordinary character (as in InfluxDB).
    assert_eq!(ok("cpu v=1,\rw=2").fields[1].0, "\rw");
    assert_eq!(ok("c\rpu,t=\r v=1").tags, tags(&[("t", "\r")]));
    assert_err("cpu v=t\r\r\n", 1, 8, K::StrayCarriageReturn);
    // Recovery on the next line.
    let items = parse("cpu v=1\r5\nb v=2");
    assert!(items[0].is_err());
    assert_eq!(items[1].as_ref().unwrap().line_number, 2);
}

#[test]
fn comments() {
    let items = parse("# comment\n   # indented\n\t# tabbed\ncpu v=1\n#last");
    assert_eq!(items.len(), 1);
    let line = items[0].as_ref().unwrap();
    assert_eq!((line.line_number, line.offset), (4, 34));
    // A comment with a quote does not swallow the next lines (InfluxDB's would).
    let items = parse("# x y=\"z\ncpu v=1\n# \"\nmem v=2");
    let lines: Vec<_> = items
        .iter()
        .map(|i| i.as_ref().unwrap().line_number)
        .collect();
    assert_eq!(lines, [2, 4]);
    // `#` inside a line is literal.
    assert_eq!(ok("cpu#1,t=#2 v=1").measurement, "cpu#1");
    assert_err("cpu v=1 # comment", 1, 9, K::InvalidTimestamp(s("#")));
    assert!(parse("#").is_empty());
    assert!(parse("# only\r\n#comments\n").is_empty());
}

#[test]
fn blank_lines() {
    assert!(parse("").is_empty());
    assert!(parse("\n\n  \n\t\n \r\n\r\n").is_empty());
    let items = parse("\n\n  \n\t\ncpu v=1\n\n");
    assert_eq!(items.len(), 1);
    let line = items[0].as_ref().unwrap();
    assert_eq!((line.line_number, line.offset), (5, 7));
}

#[test]
fn parser_line_number() {
    let mut parser = LineParser::new("a v=1\n\nb v=\nc v=\"x\ny\"\n", Precision::Nanosecond);
    assert_eq!(parser.line_number(), 1);
    assert!(parser.next_line().unwrap().is_ok());
    assert_eq!(parser.line_number(), 2);
    assert!(parser.next_line().unwrap().is_err());
    assert_eq!(parser.line_number(), 4);
    assert!(parser.next_line().unwrap().is_ok());
    assert_eq!(parser.line_number(), 6);
    assert!(parser.next_line().is_none());
    let mut parser = LineParser::new("a v=1", Precision::Nanosecond);
    assert!(parser.next_line().unwrap().is_ok());
    assert_eq!(parser.line_number(), 1);
}

// ---------------------------------------------------------------------------------------------
// Errors in multi-line bodies: location, original line and recovery.
// ---------------------------------------------------------------------------------------------

#[test]
fn errors_in_a_multi_line_body() {
    let body = "cpu v=1\n\n# c\ncpu v=\ncpu v=\"a\nb\" 5\nmem x=1 12.5\n  mem y=2\n\tm,t z=1\n";
    let items = parse(body);
    let summary: Vec<_> = items
        .iter()
        .map(|item| match item {
            Ok(line) => (line.line_number, 0, None, String::new()),
            Err(e) => (
                e.line,
                e.column,
                Some(e.kind.clone()),
                e.original_line.clone(),
            ),
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, 0, None, s("")),
            (4, 7, Some(K::MissingFieldValue(s("v"))), s("cpu v=")),
            (5, 0, None, s("")),
            (
                7,
                9,
                Some(K::InvalidTimestamp(s("12.5"))),
                s("mem x=1 12.5")
            ),
            (8, 0, None, s("")),
            (9, 4, Some(K::TagWithoutEquals(s("t"))), s("\tm,t z=1")),
        ]
    );
}

#[test]
fn recovery_after_every_kind_of_error() {
    for bad in [
        ",a=1 v=1",
        "cpu",
        "cpu,",
        "cpu,a",
        "cpu,a=",
        "cpu\tv=1",
        "cpu =1",
        "cpu v",
        "cpu v=",
        "cpu v=x",
        "cpu v=1e400",
        "cpu v=99999999999999999999i",
        "cpu v=-1u",
        "cpu v=\"x",
        "cpu\\",
        "cpu v=1 x",
        "cpu v=1 99999999999999999999",
        "cpu v=1 1 2",
        "cpu v=1\rx",
        "cpu\0 v=1",
        "cpu v=1,v=2",
        "cpu,a=1,a=1 v=1",
        "cpu time=1",
        "cpu,a=1 a=1",
    ] {
        let body = format!("{bad}\nok v=1\n");
        let items = parse(&body);
        assert_eq!(items.len(), 2, "{bad:?}: {items:?}");
        let e = items[0].as_ref().unwrap_err();
        assert_eq!(e.line, 1, "{bad:?}");
        assert_eq!(e.original_line, bad, "{bad:?}");
        let line = items[1].as_ref().unwrap();
        assert_eq!(
            (line.measurement.as_str(), line.line_number),
            ("ok", 2),
            "{bad:?}"
        );
    }
}

#[test]
fn error_before_a_multiline_string_resumes_on_the_next_physical_line() {
    // The parser does not look ahead for string boundaries once a line is bad: the rest of
    // the string is read as a line of its own (and rejected here).
    let items = parse("cpu a=bad,b=\"x\ny\"\ncpu c=1");
    assert_eq!(items.len(), 3);
    let e = items[0].as_ref().unwrap_err();
    assert_eq!((e.line, e.column), (1, 7));
    let e = items[1].as_ref().unwrap_err();
    assert_eq!((e.line, e.column, &e.kind), (2, 3, &K::MissingFields));
    assert_eq!(items[2].as_ref().unwrap().line_number, 3);
}

#[test]
fn original_line_is_cut_to_256_bytes() {
    let long = format!("{} v=", "m".repeat(300));
    let e = err(&long);
    assert_eq!(e.original_line.len(), ORIGINAL_LINE_LIMIT);
    assert!(long.starts_with(&e.original_line));
    assert_eq!(e.column, 304);

    // A two-byte character straddling byte 256 is left out whole.
    let long = format!("a{} v=", "é".repeat(200));
    let e = err(&long);
    assert_eq!(e.original_line.len(), 255);
    assert!(long.starts_with(&e.original_line));

    // Exactly 256 bytes is kept whole.
    let line = format!("{} v=", "m".repeat(253));
    assert_eq!(err(&line).original_line, line);
}

#[test]
fn line_error_display() {
    let e = err("\n\ncpu v=");
    assert_eq!(
        e.to_string(),
        "line 3, column 7: missing value for field 'v'"
    );
}

// ---------------------------------------------------------------------------------------------
// LpStr.
// ---------------------------------------------------------------------------------------------

fn lp(raw: &str, escapes: Escapes) -> LpStr<'_> {
    LpStr { raw, escapes }
}

#[test]
fn lp_str_unescapes_per_context() {
    let raw = r#"a\,b\ c\\d\=e\x\"f"#;
    assert_eq!(lp(raw, Escapes::None).as_str(), raw);
    assert_eq!(lp(raw, Escapes::Measurement).as_str(), r#"a,b c\d\=e\x\"f"#);
    assert_eq!(lp(raw, Escapes::Key).as_str(), r#"a,b c\d=e\x\"f"#);
    assert_eq!(lp(raw, Escapes::String).as_str(), r#"a\,b\ c\d\=e\x"f"#);
    // A backslash at the end stays.
    assert_eq!(lp(r"ab\", Escapes::Key).as_str(), r"ab\");
    assert_eq!(lp(r"\\\\", Escapes::Key).as_str(), r"\\");
    assert_eq!(lp(r"\\\", Escapes::String).as_str(), r"\\");
    assert_eq!(lp("é\\,ü", Escapes::Key).as_str(), "é,ü");
}

#[test]
fn lp_str_borrows_without_escapes() {
    assert!(matches!(
        LpStr::plain("a\\,b").as_str(),
        Cow::Borrowed("a\\,b")
    ));
    assert_eq!(LpStr::plain("x").escapes(), Escapes::None);
    assert_eq!(LpStr::plain("x").raw(), "x");
}

#[test]
fn lp_str_same_value() {
    assert!(lp(r"a\ b", Escapes::Key).same_value(&LpStr::plain("a b")));
    assert!(LpStr::plain("a b").same_value(&lp(r"a\ b", Escapes::Key)));
    assert!(lp(r"a\b", Escapes::None).same_value(&lp(r"a\\b", Escapes::Key)));
    assert!(!lp(r"a\=b", Escapes::Measurement).same_value(&lp(r"a\=b", Escapes::Key)));
    assert!(!LpStr::plain("a").same_value(&LpStr::plain("b")));
    assert!(lp(r"a\,b", Escapes::Key) == lp(r"a\,b", Escapes::Measurement));
    assert!(lp(r"a\,b", Escapes::Key) != LpStr::plain(r"a\,b"));
}

#[test]
fn lp_str_compares_with_str_by_value() {
    let key = lp(r"a\,b", Escapes::Key);
    assert!(key == "a,b");
    assert!(key != r"a\,b");
    assert!(LpStr::plain(r"a\,b") == r"a\,b");
    assert!(lp(r"ti\me", Escapes::None) != "time");
}

#[test]
fn lp_str_display_and_debug_show_the_value() {
    let key = lp(r"a\ b", Escapes::Key);
    assert_eq!(key.to_string(), "a b");
    assert_eq!(format!("{key:?}"), "\"a b\"");
}

#[test]
fn field_value_type_names() {
    let text = LpStr::plain("x");
    assert_eq!(FieldValue::Float(1.0).type_name(), "float");
    assert_eq!(FieldValue::Integer(1).type_name(), "integer");
    assert_eq!(FieldValue::UInteger(1).type_name(), "unsigned");
    assert_eq!(FieldValue::String(text).type_name(), "string");
    assert_eq!(FieldValue::Boolean(true).type_name(), "boolean");
}

// ---------------------------------------------------------------------------------------------
// Size limit.
// ---------------------------------------------------------------------------------------------

#[test]
fn names_up_to_the_limit() {
    let name = "m".repeat(MAX_STRING_BYTES);
    let line = ok(&format!("{name} v=1"));
    assert_eq!(line.measurement.len(), MAX_STRING_BYTES);
    assert_err(&format!("m{name} v=1"), 1, 1, K::TooLong);
    assert_err(&format!("cpu,t=m{name} v=1"), 1, 7, K::TooLong);
    assert_err(&format!("cpu,m{name}=t v=1"), 1, 5, K::TooLong);
    assert_err(&format!("cpu m{name}=1"), 1, 5, K::TooLong);
}

#[test]
fn strings_up_to_the_limit() {
    let text = "s".repeat(MAX_STRING_BYTES);
    match field(&format!("\"{text}\"")) {
        V::Str(value) => assert_eq!(value.len(), MAX_STRING_BYTES),
        other => panic!("{other:?}"),
    }
    assert_err(&format!("cpu v=\"s{text}\""), 1, 8, K::TooLong);
    // Over 64 KiB is fine (the InfluxDB 3 binary enables `large-strings`).
    assert_eq!(
        field(&format!("\"{}\"", "s".repeat(70_000))),
        V::Str("s".repeat(70_000))
    );
}

#[test]
fn the_limit_applies_to_unescaped_values() {
    // Raw text over the limit whose value fits.
    let escaped = r"\,".repeat(MAX_STRING_BYTES / 2 + 1);
    let line = ok(&format!("cpu,t={escaped} v=1"));
    assert_eq!(line.tags[0].1.len(), MAX_STRING_BYTES / 2 + 1);
    let escaped = r#"\""#.repeat(MAX_STRING_BYTES / 2 + 1);
    assert_eq!(
        field(&format!("\"{escaped}\"")),
        V::Str("\"".repeat(MAX_STRING_BYTES / 2 + 1))
    );
    // Unescaped value one byte over.
    let escaped = format!("{}m", r"\ ".repeat(MAX_STRING_BYTES));
    assert_err(&format!("{escaped} v=1"), 1, 1, K::TooLong);
    let escaped = format!("{}s", r"\\".repeat(MAX_STRING_BYTES));
    assert_err(&format!("cpu v=\"{escaped}\""), 1, 8, K::TooLong);
}

#[test]
fn control_bytes_inside_names_are_part_of_them() {
    // The name scanner tests all bytes up to ' ' at once and then checks the byte it found:
    // a control byte that ends nothing must stay in the name, at every offset in a word.
    for pad in 0..10 {
        let name = format!("{}a\rb\x01c\x1fd", "x".repeat(pad));
        let line = ok(&format!("m\x02{name},t\x03{name}=v{name} f\x04{name}=1 1"));
        assert_eq!(line.measurement, format!("m\x02{name}"));
        assert_eq!(
            line.tags,
            tags(&[(&format!("t\x03{name}"), &format!("v{name}"))])
        );
        assert_eq!(line.fields, vec![(format!("f\x04{name}"), V::Float(1.0))]);
    }
}

#[test]
fn repeated_lines_with_one_key_changed_are_checked_again() {
    // The second line repeats the first's keys but one, which makes a duplicate: the
    // shortcut for repeated keys must not hide it.
    let results = parse("m,a=1 x=1,y=2 1\nm,a=1 x=1,x=2 2\nm,a=1 x=1,y=2 3\n");
    assert!(results[0].is_ok());
    assert_eq!(
        results[1].as_ref().unwrap_err().kind,
        K::DuplicateField(s("x"))
    );
    assert!(results[2].is_ok());
}

/// The parser keeps the keys of a few recent measurements: a line whose keys equal a known
/// set but one is checked again, in any interleaving and after the set was replaced.
#[test]
fn interleaved_measurements_are_checked_like_lines_alone() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    // Six measurements (more than the parser keeps), each with key sets that differ by one
    // key, make a duplicate, use `time` or escapes; one measurement name has an escape, two
    // share a prefix, one is longer than 16 bytes.
    let measurements = [
        "cpu",
        "cpu_total",
        "mem",
        "disk",
        r"d\ isk",
        "a_measurement_of_20b",
    ];
    let bodies = [
        "a=1,b=2 x=1,y=2i",
        "a=1,b=2 x=1,y=2i,z=T",
        "a=1,b=2 x=1,x=2i",
        "a=1,a=2 x=1,y=2i",
        "a=1,b=2 x=1,a=2i",
        "a=1,b=2 x=1,time=2i",
        r"a=1,b\ c=2 x=1,y=2i",
        r"a=1,b\ c=2 x=1,b\ c=2i",
        "b=2 x=1,y=2i",
        "a=1,b=2 x=1",
    ];
    for _ in 0..200 {
        let lines: Vec<String> = (0..40)
            .map(|i| {
                let m = measurements[next(measurements.len())];
                format!("{m},{} {i}\n", bodies[next(bodies.len())])
            })
            .collect();
        let body = lines.concat();
        let mut parser = LineParser::new(&body, Precision::Nanosecond);
        let mut seen: Vec<(u64, Vec<String>)> = Vec::new();
        for (i, text) in lines.iter().enumerate() {
            let item = parser.next_line().expect("a line per line");
            let alone = parse(text).remove(0);
            match item {
                Ok(line) => {
                    let mut got = owned(&line);
                    got.offset -= lines[..i].concat().len();
                    got.line_number -= i as u32;
                    assert_eq!(Ok(got), alone, "line {i}: {text}");
                    // Equal key-set numbers mean equal keys, in order.
                    let keys = line.tags.iter().map(|t| t.key.raw);
                    let keys: Vec<String> = keys
                        .chain(line.fields.iter().map(|f| f.key.raw))
                        .map(str::to_owned)
                        .collect();
                    if let Some((_, earlier)) = seen.iter().find(|(n, _)| *n == line.key_set) {
                        assert_eq!(earlier, &keys, "line {i}: {text}");
                    }
                    seen.push((line.key_set, keys));
                }
                Err(e) => {
                    let alone = alone.expect_err("rejected alone too");
                    assert_eq!((e.kind, e.column), (alone.kind, alone.column), "{text}");
                }
            }
        }
        assert!(parser.next_line().is_none());
    }
}

/// Lines with more keys than the quadratic check takes: the sorted check answers as it
/// would — the first key repeating an earlier one (named with the nearest earlier), or
/// `time` — against a brute-force reference, over many generated lines.
#[test]
fn wide_lines_report_the_same_repeat_as_narrow_ones() {
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    // Keys that share their first and last 8 bytes (one fingerprint), escapes, and `time`.
    let pool: Vec<String> = (0..400)
        .map(|i| format!("abcdefgh{i}\\ x{}ijklmnop", i % 3))
        .chain(["time".to_owned(), r"a\,b".to_owned()])
        .collect();
    for round in 0..300 {
        let (tags, fields) = (1 + next(80), 1 + next(80));
        let mut keys: Vec<&str> = Vec::new();
        for _ in 0..tags + fields {
            // Mostly distinct keys; some rounds repeat one or hold `time`.
            let k = if round % 3 == 0 {
                next(pool.len())
            } else {
                next(380)
            };
            keys.push(&pool[k]);
        }
        let mut line = String::from("m");
        let mut columns = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            line.push(if i == tags { ' ' } else { ',' });
            columns.push(line.len() as u32 + 1);
            line.push_str(key);
            line.push_str("=1");
        }
        let unescaped = |k: &str| k.replace("\\ ", " ").replace("\\,", ",");
        let expected = (0..keys.len()).find_map(|j| {
            if unescaped(keys[j]) == "time" {
                return Some((j, K::ReservedName(s("time"))));
            }
            let i = (0..j)
                .rev()
                .find(|&i| unescaped(keys[i]) == unescaped(keys[j]))?;
            let name = unescaped(keys[j]);
            Some((
                j,
                if j < tags {
                    K::DuplicateTag(name)
                } else if i >= tags {
                    K::DuplicateField(name)
                } else {
                    K::TagFieldClash(name)
                },
            ))
        });
        match (expected, &parse(&line)[0]) {
            (None, Ok(parsed)) => {
                assert_eq!(parsed.tags.len() + parsed.fields.len(), tags + fields)
            }
            (Some((j, kind)), Err(e)) => {
                assert_eq!(
                    (e.column, &e.kind),
                    (columns[j], &kind),
                    "round {round}: {line}"
                )
            }
            (expected, got) => panic!("round {round}: expected {expected:?}, got {got:?}: {line}"),
        }
    }
}

/// A hostile line of 100,000 distinct keys sharing one fingerprint is checked by sorting.
#[test]
fn a_line_of_many_keys_is_checked_quickly() {
    let mut tags = String::from("m");
    for i in 0..100_000 {
        tags.push_str(&format!(",abcdefgh{i}ijklmnop=1"));
    }
    // Quadratic, this took minutes (n²/2 = 5·10⁹ comparisons).
    assert_eq!(ok(&format!("{tags} v=1")).tags.len(), 100_000);
    let e = err(&format!("{tags},abcdefgh7ijklmnop=2 v=1"));
    assert_eq!(e.kind, K::DuplicateTag(s("abcdefgh7ijklmnop")));
}
