//! Differential test: linegate's line-protocol parser against `influxdb-line-protocol`, the
//! parser InfluxDB 3 uses (`parse_lines`).
//!
//! For generated lines, both parsers must agree on accept/reject and, when both accept, on
//! the measurement, the tags and fields (unescaped), the typed values (floats bit for bit)
//! and the timestamp (linegate in nanosecond precision, which leaves timestamps unchanged).
//!
//! linegate differs from InfluxDB on purpose in a few places (GUIDE §2 and the decisions
//! recorded in `src/lp`). Each difference has a predicate below, named after the decision.
//! A disagreement is tolerated only when one of them explains it; for the differences where
//! linegate accepts more, the line is rewritten into what InfluxDB needs and the two parsers
//! must then agree on the content too. Error messages are never compared (linegate has its
//! own).

use influxdb_line_protocol as influx;
use linegate::lp::{FieldValue, LineErrorKind, LineParser, MAX_STRING_BYTES};
use linegate::Precision;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

// ---------------------------------------------------------------------------------------------
// One shape for both parsers' results.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// The bits of the float, so that `-0.0 != 0.0` and every NaN payload counts.
    F64(u64),
    I64(i64),
    U64(u64),
    Str(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
struct Point {
    measurement: String,
    tags: Vec<(String, String)>,
    fields: Vec<(String, Value)>,
    timestamp: Option<i64>,
}

/// What one parser made of one logical line.
#[derive(Debug)]
enum Item<E> {
    Accept(Point),
    Reject(E),
}

type Ours = Item<linegate::LineError>;
type Theirs = Item<influx::Error>;

fn parse_ours(body: &str) -> Vec<Ours> {
    let mut parser = LineParser::new(body, Precision::Nanosecond);
    let mut items = Vec::new();
    while let Some(item) = parser.next_line() {
        items.push(match item {
            Ok(line) => Item::Accept(Point {
                measurement: line.measurement.as_str().into_owned(),
                tags: line
                    .tags
                    .iter()
                    .map(|t| (t.key.as_str().into_owned(), t.value.as_str().into_owned()))
                    .collect(),
                fields: line
                    .fields
                    .iter()
                    .map(|f| {
                        let value = match f.value {
                            FieldValue::Float(v) => Value::F64(v.to_bits()),
                            FieldValue::Integer(v) => Value::I64(v),
                            FieldValue::UInteger(v) => Value::U64(v),
                            FieldValue::String(s) => Value::Str(s.as_str().into_owned()),
                            FieldValue::Boolean(b) => Value::Bool(b),
                        };
                        (f.key.as_str().into_owned(), value)
                    })
                    .collect(),
                timestamp: line.timestamp,
            }),
            Err(e) => Item::Reject(e),
        });
    }
    items
}

fn parse_theirs(body: &str) -> Vec<Theirs> {
    influx::parse_lines(body)
        .map(|item| match item {
            Ok(line) => Item::Accept(Point {
                measurement: line.series.measurement.to_string(),
                tags: line
                    .series
                    .tag_set
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                fields: line
                    .field_set
                    .iter()
                    .map(|(k, v)| {
                        let value = match v {
                            influx::FieldValue::F64(v) => Value::F64(v.to_bits()),
                            influx::FieldValue::I64(v) => Value::I64(*v),
                            influx::FieldValue::U64(v) => Value::U64(*v),
                            influx::FieldValue::String(s) => Value::Str(s.to_string()),
                            influx::FieldValue::Boolean(b) => Value::Bool(*b),
                        };
                        (k.to_string(), value)
                    })
                    .collect(),
                timestamp: line.timestamp,
            }),
            Err(e) => Item::Reject(e),
        })
        .collect()
}

/// The single item a parser made of a line without `\n` (none for blank and comment lines).
fn single<E: std::fmt::Debug>(mut items: Vec<Item<E>>, line: &str) -> Option<Item<E>> {
    assert!(items.len() <= 1, "{line:?} gave {items:?}");
    items.pop()
}

// ---------------------------------------------------------------------------------------------
// The documented decisions.
//
// Where linegate accepts what InfluxDB rejects, each predicate rewrites the line into the
// form InfluxDB accepts (or returns `None` when the decision does not apply).
// ---------------------------------------------------------------------------------------------

/// GUIDE §2 "CRLF": a `\r` before the line end is stripped (linegate also accepts it at the
/// very end of the body, where the `\n` would be). InfluxDB keeps it and rejects the line.
fn crlf_line_ending(line: &str, _error: &influx::Error) -> Option<String> {
    line.strip_suffix('\r').map(str::to_owned)
}

/// GUIDE §2 "trailing spaces": accepted after the field set as after the timestamp. InfluxDB
/// 3 rejects `cpu v=1 ` with "trailing content: ` `".
fn trailing_space_without_timestamp(line: &str, error: &influx::Error) -> Option<String> {
    match error {
        influx::Error::CannotParseEntireLine { trailing_content }
            if !trailing_content.is_empty() && trailing_content.bytes().all(|c| c == b' ') =>
        {
            Some(line.trim_end_matches(' ').to_owned())
        }
        _ => None,
    }
}

/// Decision (found by this test): a single trailing comma is accepted after the last field
/// however many fields there are. InfluxDB's crate accepts it only after the *first* field
/// (`cpu a=1,` is fine, `cpu a=1,b=2,` is "trailing content: `,`"), an artefact of how its
/// separated-list combinator backtracks, not a rule anybody documents.
fn trailing_comma_after_any_field(line: &str, error: &influx::Error) -> Option<String> {
    match error {
        influx::Error::CannotParseEntireLine { trailing_content }
            if trailing_content.starts_with(',')
                && matches!(trailing_content.as_bytes().get(1), None | Some(b' ')) =>
        {
            let comma = line.len() - trailing_content.len();
            Some(format!("{}{}", &line[..comma], &line[comma + 1..]))
        }
        _ => None,
    }
}

/// The decisions where linegate accepts more than InfluxDB, in the order they are undone.
type AcceptDecision = fn(&str, &influx::Error) -> Option<String>;

const ACCEPTS_MORE: &[(&str, AcceptDecision)] = &[
    ("crlf_line_ending", crlf_line_ending),
    (
        "trailing_space_without_timestamp",
        trailing_space_without_timestamp,
    ),
    (
        "trailing_comma_after_any_field",
        trailing_comma_after_any_field,
    ),
];

fn has_duplicates<'a>(keys: impl Iterator<Item = &'a String>) -> bool {
    let keys: Vec<_> = keys.collect();
    keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k))
}

/// GUIDE §2 "duplicate tag key in a line": rejected. InfluxDB's parser keeps both.
fn duplicate_tags(_line: &str, kind: &LineErrorKind, _column: usize, point: &Point) -> bool {
    matches!(kind, LineErrorKind::DuplicateTag(_))
        && has_duplicates(point.tags.iter().map(|t| &t.0))
}

/// GUIDE §2 "duplicate field key in a line": rejected (InfluxDB 3 rejects it in its
/// validator, after the parser this test compares with).
fn duplicate_fields(_line: &str, kind: &LineErrorKind, _column: usize, point: &Point) -> bool {
    matches!(kind, LineErrorKind::DuplicateField(_))
        && has_duplicates(point.fields.iter().map(|f| &f.0))
}

/// GUIDE §2 "schema": `time` is reserved as a tag or field key (InfluxDB 3 checks it in its
/// catalog, not in the parser).
fn time_is_reserved(_line: &str, kind: &LineErrorKind, _column: usize, point: &Point) -> bool {
    matches!(kind, LineErrorKind::ReservedName(_))
        && (point.tags.iter().any(|t| t.0 == "time") || point.fields.iter().any(|f| f.0 == "time"))
}

/// GUIDE §2 "schema": a tag and a field may not share a name (InfluxDB 3 rejects it in its
/// catalog).
fn tag_field_clash(_line: &str, kind: &LineErrorKind, _column: usize, point: &Point) -> bool {
    matches!(kind, LineErrorKind::TagFieldClash(_))
        && point
            .fields
            .iter()
            .any(|f| point.tags.iter().any(|t| t.0 == f.0))
}

/// linegate decision: an unescaped `,` inside a tag key or field key is rejected. InfluxDB
/// reads `cpu,a=1,,b=2` as tag key `,b` and `cpu a,b=1` as field key `a,b`. linegate stops
/// the key at the comma: the error is at that comma, or names the key that ends there.
fn comma_in_key(line: &str, kind: &LineErrorKind, column: usize, point: &Point) -> bool {
    let comma_in_a_key = point.tags.iter().any(|t| t.0.contains(','))
        || point.fields.iter().any(|f| f.0.contains(','));
    let at = |i: usize| line.as_bytes().get(i) == Some(&b',');
    let error_at_comma = match kind {
        LineErrorKind::MissingTagKey | LineErrorKind::MissingFieldKey => at(column - 1),
        LineErrorKind::TagWithoutEquals(key) | LineErrorKind::FieldWithoutEquals(key) => {
            at(column - 1 + key.len())
        }
        // The key before the comma ends in an escaped backslash (`a\\,b=1`).
        LineErrorKind::EndsWithBackslash => at(column),
        _ => false,
    };
    comma_in_a_key && error_at_comma
}

/// linegate decision: a float that overflows to infinity (`1e400`) is rejected. InfluxDB
/// stores `+inf`.
fn float_overflow_to_infinity(
    _line: &str,
    kind: &LineErrorKind,
    _column: usize,
    point: &Point,
) -> bool {
    matches!(kind, LineErrorKind::FloatOutOfRange { .. })
        && point
            .fields
            .iter()
            .any(|f| matches!(f.1, Value::F64(bits) if f64::from_bits(bits).is_infinite()))
}

/// Decision (found by this test): a backslash before a NUL in a measurement does not make
/// the NUL part of the name. InfluxDB rejects a NUL in a measurement but lets `\<NUL>`
/// through because its fallback for unknown escapes takes any character.
fn escaped_nul_in_measurement(
    _line: &str,
    kind: &LineErrorKind,
    _column: usize,
    point: &Point,
) -> bool {
    matches!(kind, LineErrorKind::EndsWithBackslash) && point.measurement.contains("\\\0")
}

/// linegate decision: names and string values are limited to 1 MiB after unescaping, as the
/// InfluxDB 3 binary (`large-strings`); the 2.0 crate has no limit at all.
fn over_string_limit(_line: &str, kind: &LineErrorKind, _column: usize, point: &Point) -> bool {
    let over = |s: &String| s.len() > MAX_STRING_BYTES;
    matches!(kind, LineErrorKind::TooLong)
        && (over(&point.measurement)
            || point.tags.iter().any(|t| over(&t.0) || over(&t.1))
            || point
                .fields
                .iter()
                .any(|f| over(&f.0) || matches!(&f.1, Value::Str(s) if over(s))))
}

type RejectDecision = fn(&str, &LineErrorKind, usize, &Point) -> bool;

/// The decisions where linegate rejects what InfluxDB's parser accepts.
const REJECTS_MORE: &[(&str, RejectDecision)] = &[
    ("duplicate_tags", duplicate_tags),
    ("duplicate_fields", duplicate_fields),
    ("time_is_reserved", time_is_reserved),
    ("tag_field_clash", tag_field_clash),
    ("comma_in_key", comma_in_key),
    ("float_overflow_to_infinity", float_overflow_to_infinity),
    ("escaped_nul_in_measurement", escaped_nul_in_measurement),
    ("over_string_limit", over_string_limit),
];

// ---------------------------------------------------------------------------------------------
// Comparing one line.
// ---------------------------------------------------------------------------------------------

/// How a line was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Agree,
    Decision(&'static str),
}

/// Compares the parsers on a line without `\n`; `Err` describes an unexplained difference.
fn compare_line(line: &str) -> Result<Verdict, String> {
    assert!(!line.contains('\n'));
    let ours = single(parse_ours(line), line);
    let theirs = single(parse_theirs(line), line);
    match (&ours, &theirs) {
        (None, None) | (Some(Item::Reject(_)), Some(Item::Reject(_))) => Ok(Verdict::Agree),
        (Some(Item::Accept(a)), Some(Item::Accept(b))) if a == b => Ok(Verdict::Agree),
        (Some(Item::Reject(e)), Some(Item::Accept(point))) => {
            let column = e.column as usize;
            REJECTS_MORE
                .iter()
                .find(|(_, applies)| applies(line, &e.kind, column, point))
                .map(|(name, _)| Verdict::Decision(name))
                .ok_or_else(|| {
                    format!("{line:?}: linegate rejects ({e}), InfluxDB accepts {point:?}")
                })
        }
        (None | Some(Item::Accept(_)), Some(Item::Reject(error))) => {
            // Undo the decisions one by one until InfluxDB accepts, then compare.
            let mut text = line.to_owned();
            let mut error = error.to_string();
            let mut theirs = theirs;
            let mut first = None;
            while let Some(Item::Reject(current)) = &theirs {
                let Some((name, rewritten)) = ACCEPTS_MORE
                    .iter()
                    .find_map(|(name, undo)| undo(&text, current).map(|t| (*name, t)))
                else {
                    return Err(format!(
                        "{line:?}: linegate accepts {ours:?}, InfluxDB rejects {text:?} ({error})"
                    ));
                };
                first.get_or_insert(name);
                text = rewritten;
                theirs = single(parse_theirs(&text), &text);
                if let Some(Item::Reject(e)) = &theirs {
                    error = e.to_string();
                }
            }
            let same = match (&ours, &theirs) {
                (None, None) => true,
                (Some(Item::Accept(a)), Some(Item::Accept(b))) => a == b,
                _ => false,
            };
            if same {
                Ok(Verdict::Decision(first.unwrap()))
            } else {
                Err(format!(
                    "{line:?}: linegate gives {ours:?}, InfluxDB gives {theirs:?} for {text:?}"
                ))
            }
        }
        _ => Err(format!("{line:?}: linegate {ours:?}, InfluxDB {theirs:?}")),
    }
}

#[track_caller]
fn assert_agree(line: &str) {
    assert_eq!(compare_line(line), Ok(Verdict::Agree), "{line:?}");
}

#[track_caller]
fn assert_decision(line: &str, decision: &'static str) {
    assert_eq!(
        compare_line(line),
        Ok(Verdict::Decision(decision)),
        "{line:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Generators.
// ---------------------------------------------------------------------------------------------

fn concat(parts: Vec<String>) -> String {
    parts.concat()
}

// `prop_oneof!` forks the random generator for every alternative listed before the one it
// picks, which is slow in debug builds: constant choices go through `pick` instead, and
// the heaviest alternative comes first.

/// One of `options`, each as likely as its weight.
fn pick(options: &[(usize, &'static str)]) -> impl Strategy<Value = String> {
    let list: Vec<&'static str> = options
        .iter()
        .flat_map(|&(weight, text)| std::iter::repeat_n(text, weight))
        .collect();
    prop::sample::select(list).prop_map(str::to_owned)
}

/// Each of `options` equally likely.
fn one_of(options: &[&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(options.to_vec()).prop_map(str::to_owned)
}

/// Strings of `len` characters from `set`.
fn chars(set: &'static str, len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(set.chars().collect::<Vec<_>>()), len)
        .prop_map(|c| c.into_iter().collect())
}

const DIGITS: &str = "0123456789";

// Every generator takes `n`, the weight of each kind of mistake against a few dozen for
// the well-formed choices: lines come both nearly clean (`n = 1`) and noisy (`n = 6`).

/// A piece of a name: mostly letters, sometimes an escape or a character with a meaning.
fn name_piece(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        40 => chars("abcdef", 1..4),
        2 * n => one_of(&[r"\,", r"\ ", r"\=", r"\\", r"\", r#"\""#, r"\a", "\\\t", "\\é"]),
        n => one_of(&[
            ",", "=", " ", "\"", "#", "\t", "\0", "\\\0", "\r", "é", "温度", "time", "x", "Z",
            "_", ".", "0", "-",
        ]),
    ]
}

fn name(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        40 => prop::collection::vec(name_piece(n), 1..4).prop_map(concat),
        n => Just(String::new()),
    ]
}

/// Keys: varied enough to be mostly distinct, and sometimes from a small set so that
/// duplicates, clashes and `time` turn up.
fn key(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        40 => chars("abcdefgh", 1..3),
        2 * n => one_of(&["a", "b", "time", r"a\ b", "a b", r"x\\y", r"x\y"]),
        n => name(n),
    ]
}

fn digits(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        30 => chars(DIGITS, 1..4),
        10 => (chars("0", 0..4), chars("123456789", 1..2), chars(DIGITS, 0..26))
            .prop_map(|(zeros, first, rest)| format!("{zeros}{first}{rest}")),
        3 * n => one_of(&[
            "",
            "9223372036854775807",
            "9223372036854775808",
            "9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "9007199254740993",
            "179769313486231570000",
        ]),
    ]
}

fn number(n: u32) -> impl Strategy<Value = String> {
    let n_ = n as usize;
    let sign = move || pick(&[(30, ""), (10, "-"), (n_, "+")]);
    let fraction = move || {
        prop_oneof![
            30 => pick(&[(40, ""), (n_, ".")]),
            15 => chars(DIGITS, 1..5).prop_map(|d| format!(".{d}")),
            5 => chars(DIGITS, 15..23).prop_map(|d| format!(".{d}")),
        ]
    };
    let exponent = move || {
        let digits = prop_oneof![
            30 => chars(DIGITS, 1..3),
            10 => one_of(&[
                "300", "307", "308", "309", "320", "323", "324", "330", "400", "0000001",
            ]),
            n => Just(String::new()),
        ];
        prop_oneof![
            30 => Just(String::new()),
            10 => (one_of(&["e", "E"]), pick(&[(2, ""), (1, "+"), (1, "-")]), digits)
                .prop_map(|(e, sign, digits)| format!("{e}{sign}{digits}")),
        ]
    };
    let suffix = pick(&[
        (40, ""),
        (15, "i"),
        (15, "u"),
        (n_, "I"),
        (n_, "U"),
        (n_, "x"),
        (n_, "e"),
        (n_, "."),
    ]);
    let float = (sign(), digits(n), fraction(), exponent())
        .prop_map(|(sign, int, frac, exp)| format!("{sign}{int}{frac}{exp}"));
    let integer =
        (pick(&[(3, ""), (1, "-")]), digits(n)).prop_map(|(sign, int)| format!("{sign}{int}i"));
    let unsigned = digits(n).prop_map(|int| format!("{int}u"));
    // Any mix of the parts: `1.5i`, `-3u`, `+1`, `1.e5`, `5.` …
    let anything = (sign(), digits(n), fraction(), exponent(), suffix)
        .prop_map(|(sign, int, frac, exp, suffix)| format!("{sign}{int}{frac}{exp}{suffix}"));
    prop_oneof![
        20 => float,
        8 => integer,
        8 => unsigned,
        2 * n => anything,
    ]
}

fn boolean(n: u32) -> impl Strategy<Value = String> {
    let n = n as usize;
    let mut options: Vec<(usize, &'static str)> = [
        "t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE",
    ]
    .iter()
    .map(|&b| (4, b))
    .collect();
    options.extend(
        [
            "tRue", "TRue", "tru", "fAlse", "FALSe", "truex", "t1", "yes", "Tr",
        ]
        .iter()
        .map(|&b| (n, b)),
    );
    pick(&options)
}

fn string_value(n: u32) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        8 => chars("abcdefghijklmnopqrstuvwxyz ", 1..5),
        6 => one_of(&[
            r#"\""#, r"\\", r"\", r"\n", ",", "=", " ", "\t", "é", "#", "\r", "'", "\0",
        ]),
    ];
    let close = pick(&[(40, "\""), (n as usize, "")]);
    (prop::collection::vec(piece, 0..5), close)
        .prop_map(|(pieces, close)| format!("\"{}{close}", pieces.concat()))
}

fn field_value(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        24 => number(n),
        9 => boolean(n),
        9 => string_value(n),
        n => one_of(&[
            "", "NaN", "nan", "inf", "-inf", "Infinity", ".5", "\"", "t\"", "x", "-", "1 2",
            "\"a\"b", "1,",
        ]),
    ]
}

fn field(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        40 => (key(n), field_value(n)).prop_map(|(k, v)| format!("{k}={v}")),
        n => key(n),
    ]
}

fn tag(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        40 => (key(n), name(n)).prop_map(|(k, v)| format!(",{k}={v}")),
        n => key(n).prop_map(|k| format!(",{k}")),
        n => Just(",".to_owned()),
    ]
}

fn field_set(n: u32) -> impl Strategy<Value = String> {
    let n_ = n as usize;
    let separator = pick(&[(40, ","), (n_, ",,"), (n_, ", ")]);
    let trailing = pick(&[(30, ""), (n_ + 1, ","), (n_, ",,")]);
    let fields = prop_oneof![
        40 => prop::collection::vec((field(n), separator), 1..4),
        n => Just(Vec::new()),
    ];
    (fields, trailing).prop_map(|(fields, trailing)| {
        let mut out = String::new();
        for (i, (field, separator)) in fields.iter().enumerate() {
            if i > 0 {
                out.push_str(separator);
            }
            out.push_str(field);
        }
        out.push_str(&trailing);
        out
    })
}

fn timestamp(n: u32) -> impl Strategy<Value = String> {
    let n_ = n as usize;
    let before = pick(&[(40, " "), (n_, "  "), (n_, "\t")]);
    let sign = pick(&[(30, ""), (10, "-"), (n_, "+")]);
    let suffix = pick(&[(40, ""), (n_, ".5"), (n_, "e9"), (n_, "x"), (n_, "i")]);
    let after = pick(&[(40, ""), (n_, " "), (n_, "  "), (n_, " 5")]);
    prop_oneof![
        4 => (before, sign, digits(n), suffix, after)
            .prop_map(|(b, s, d, x, a)| format!("{b}{s}{d}{x}{a}")),
        3 => Just(String::new()),
    ]
}

/// Lines shaped like line protocol, with mistakes of every kind mixed in.
fn line_with_noise(n: u32) -> impl Strategy<Value = String> {
    let n_ = n as usize;
    let leading = pick(&[(40, ""), (n_, " "), (n_, "\t "), (n_, "#")]);
    let separator = pick(&[(40, " "), (n_, "  "), (n_, "\t"), (n_, "")]);
    let ending = pick(&[(40, ""), (n_, "\r"), (n_, " "), (n_, " \r"), (n_, "\r\r")]);
    (
        leading,
        name(n),
        prop::collection::vec(tag(n), 0..4),
        separator,
        field_set(n),
        timestamp(n),
        ending,
    )
        .prop_map(|(lead, measurement, tags, sep, fields, ts, end)| {
            format!("{lead}{measurement}{}{sep}{fields}{ts}{end}", tags.concat())
        })
}

fn structured_line() -> impl Strategy<Value = String> {
    prop_oneof![line_with_noise(1), line_with_noise(6)]
}

/// Character soup from the characters that matter to the grammar.
fn random_line() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        'a', 'b', 'c', 't', 'f', 'i', 'u', 'e', 'E', 'T', 'F', '0', '1', '5', '9', ' ', ' ', ',',
        ',', '=', '=', '"', '\\', '\t', '.', '-', '+', '#', '\r', 'é',
    ]);
    prop::collection::vec(chars, 0..24).prop_map(|c| c.into_iter().collect())
}

const CASES: u32 = 20_000;

fn config() -> Config {
    Config {
        // `PROPTEST_CASES=1000000 cargo test --release --test differential` for a long run.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(CASES),
        failure_persistence: None,
        // Much faster than ChaCha in debug builds; the quality is plenty for this.
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    }
}

fn deterministic_runner() -> TestRunner {
    TestRunner::new_with_rng(config(), TestRng::deterministic_rng(RngAlgorithm::XorShift))
}

fn check(line: &str) -> Result<(), TestCaseError> {
    compare_line(line).map(|_| ()).map_err(TestCaseError::fail)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn structured_lines_agree(line in structured_line()) {
        check(&line)?;
    }

    #[test]
    fn random_lines_agree(line in random_line()) {
        check(&line)?;
    }
}

/// The generators must reach the interesting cases, or the properties prove little.
#[test]
fn generators_cover_the_grammar() {
    use proptest::strategy::ValueTree;
    use std::collections::{BTreeMap, BTreeSet};

    let mut runner = deterministic_runner();
    let (mut accepted, mut rejected) = (0, 0);
    let mut decisions = BTreeMap::new();
    let mut kinds = BTreeSet::new();
    let mut types = BTreeSet::new();
    let strategy = structured_line();
    for _ in 0..CASES {
        let line = strategy.new_tree(&mut runner).unwrap().current();
        match compare_line(&line) {
            Ok(Verdict::Agree) => {}
            Ok(Verdict::Decision(name)) => *decisions.entry(name).or_insert(0) += 1,
            Err(e) => panic!("{e}"),
        }
        for item in parse_ours(&line) {
            match item {
                Item::Accept(point) => {
                    accepted += 1;
                    types.extend(point.fields.iter().map(|(_, v)| match v {
                        Value::F64(_) => "float",
                        Value::I64(_) => "integer",
                        Value::U64(_) => "unsigned",
                        Value::Str(_) => "string",
                        Value::Bool(_) => "boolean",
                    }));
                }
                Item::Reject(e) => {
                    rejected += 1;
                    let kind = format!("{:?}", e.kind);
                    kinds.insert(kind.split(['(', ' ']).next().unwrap_or("").to_owned());
                }
            }
        }
    }
    eprintln!("accepted {accepted}, rejected {rejected}, decisions {decisions:?}, kinds {kinds:?}");
    assert!(accepted > CASES / 10, "only {accepted} accepted lines");
    assert!(rejected > CASES / 10, "only {rejected} rejected lines");
    assert_eq!(types.len(), 5, "field types generated: {types:?}");
    let every_decision = ACCEPTS_MORE
        .iter()
        .map(|(name, _)| *name)
        .chain(REJECTS_MORE.iter().map(|(name, _)| *name));
    for name in every_decision.filter(|name| *name != "over_string_limit") {
        assert!(
            decisions.contains_key(name),
            "{name} never exercised: {decisions:?}"
        );
    }
    assert!(kinds.len() >= 18, "error kinds reached: {kinds:?}");
}

// ---------------------------------------------------------------------------------------------
// Multi-line bodies.
// ---------------------------------------------------------------------------------------------

/// Decisions "unterminated string value: error at its quote, parsing resumes at the next
/// physical line" and GUIDE §2 "correct physical line numbers": linegate ends a line at
/// every `\n` that is not inside a string field value, and finds string values by the
/// grammar. InfluxDB's splitter, a port of Go's `scanLine`, guesses where strings are
/// (spec §7.1): an unterminated string, a `"` in a comment or — after leading whitespace —
/// in a measurement or tag, and a backslash right before the `\n` make it join the next
/// physical line to this one, or end a line inside what the grammar reads as a string.
/// True when `line` may be split differently depending on what follows it.
fn line_splitting_differs(line: &str) -> bool {
    let influx_joins_the_next_line = influx::split_lines(&format!("{line}\nm v=1")).count() != 2;
    // An unterminated string may find its closing quote on a later line.
    let string_left_open = parse_ours(line).iter().any(|item| {
        matches!(item, Item::Reject(e) if matches!(e.kind, LineErrorKind::UnterminatedString(_)))
    });
    influx_joins_the_next_line || string_left_open
}

/// The accepted points of a body, in order.
fn accepted<E>(items: &[Item<E>]) -> Vec<&Point> {
    items
        .iter()
        .filter_map(|item| match item {
            Item::Accept(point) => Some(point),
            Item::Reject(_) => None,
        })
        .collect()
}

fn rejected<E>(items: &[Item<E>]) -> usize {
    items.len() - accepted(items).len()
}

/// linegate's line numbers of the accepted lines of a body.
fn accepted_line_numbers(body: &str) -> Vec<u32> {
    let mut parser = LineParser::new(body, Precision::Nanosecond);
    let mut numbers = Vec::new();
    while let Some(item) = parser.next_line() {
        if let Ok(line) = item {
            numbers.push(line.line_number);
        }
    }
    numbers
}

/// One physical line (or several, for a string with newlines) of a generated body.
#[derive(Debug, Clone)]
enum Segment {
    /// Accepted by both parsers alike.
    Valid(String),
    /// Rejected by both.
    Invalid(String),
    /// Blank or a comment: no item from either.
    Nothing(String),
}

impl Segment {
    fn text(&self) -> &str {
        match self {
            Segment::Valid(t) | Segment::Invalid(t) | Segment::Nothing(t) => t,
        }
    }
}

/// A generated line, sorted by how both parsers treat it on its own. Lines on which they
/// differ (documented decisions, checked by the single-line properties) or that the two
/// may split differently from the next line are replaced by a plain valid line.
fn classified(line: String) -> Segment {
    let fallback = || Segment::Valid("m v=1".to_owned());
    if line_splitting_differs(&line) {
        return fallback();
    }
    match (compare_line(&line), single(parse_ours(&line), &line)) {
        (Ok(Verdict::Agree), Some(Item::Accept(_))) => Segment::Valid(line),
        (Ok(Verdict::Agree), Some(Item::Reject(_))) => Segment::Invalid(line),
        (Ok(Verdict::Agree), None) => Segment::Nothing(line),
        _ => fallback(),
    }
}

/// A valid line whose string value holds newlines (and things that look like comments,
/// blank lines and separators).
fn multiline_string_line() -> impl Strategy<Value = Segment> {
    let piece = prop_oneof![
        4 => chars("abcxyz ", 1..4),
        4 => one_of(&[
            "\n", "\n#x y=\\\"1", "\n\n", "\n  ", r#"\""#, r"\\", ",", "=", "\r\n", "é", "\nm v=2",
        ]),
    ];
    prop::collection::vec(piece, 0..5)
        .prop_map(|pieces| Segment::Valid(format!("ms,t=x s=\"{}\",v=1i 7", pieces.concat())))
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        8 => structured_line().prop_map(classified),
        2 => multiline_string_line(),
        1 => one_of(&["", "  ", "\t", "# c", "  # a comment, with=signs", "#", "#x y=1"])
            .prop_map(Segment::Nothing),
    ]
}

fn body() -> impl Strategy<Value = (Vec<Segment>, bool)> {
    (prop::collection::vec(segment(), 1..6), any::<bool>())
}

proptest! {
    #![proptest_config(config())]

    /// Bodies of several lines: the same lines accepted, with the same content, the same
    /// number rejected, and linegate's line numbers are the physical ones.
    #[test]
    fn bodies_agree((segments, final_newline) in body()) {
        let mut text = String::new();
        let mut expected_numbers = Vec::new();
        let mut expected_rejections = 0;
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            let number = 1 + text.bytes().filter(|&c| c == b'\n').count() as u32;
            match segment {
                Segment::Valid(_) => expected_numbers.push(number),
                Segment::Invalid(_) => expected_rejections += 1,
                Segment::Nothing(_) => {}
            }
            text.push_str(segment.text());
        }
        if final_newline {
            text.push('\n');
        }
        let ours = parse_ours(&text);
        let theirs = parse_theirs(&text);
        prop_assert_eq!(accepted(&ours), accepted(&theirs), "{:?}", text);
        prop_assert_eq!(rejected(&ours), expected_rejections, "{:?}", text);
        prop_assert_eq!(rejected(&theirs), expected_rejections, "{:?}", text);
        prop_assert_eq!(accepted_line_numbers(&text), expected_numbers, "{:?}", text);
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed cases.
// ---------------------------------------------------------------------------------------------

#[test]
fn agreements_by_example() {
    for line in [
        "cpu,host=a,region=west usage=0.5,cores=4i,n=18446744073709551615u,s=\"x\",b=t 1",
        r"c\,p\ u\\x\=y,t\,k\=e\ y=v\,a\=l\ u\\e f\,k\=e\ y=1",
        r#"m s="a\"b\\c\d""#,
        "温度,地点=北京 值=1",
        "cpu v=-0",
        "cpu v=1 -0",
        "cpu v=1,",
        "cpu v=1, 5",
        "cpu v=1 5 ",
        "cpu v=1e-400",
        "cpu v=1.7976931348623157e308",
        "cpu\\\tx,t=a\\\tb f\\\tg=1",
        "  \tcpu v=1",
        "# comment",
        "cpu#1 v=1",
        "cpu v=1 1e9",
        "cpu v=1 12.5",
        "cpu v=5.",
        "cpu v=.5",
        "cpu v=tRue",
        "cpu v=-1u",
        "cpu v=9223372036854775808i",
        "cpu v=1 9223372036854775808",
        "cpu\tv=1",
        "cpu,a=1,",
        "cpu\\ v=1",
        "cpu v=1\rx",
        "cpu v=\"a",
    ] {
        assert_agree(line);
    }
}

#[test]
fn decisions_by_example() {
    for (line, decision) in [
        ("cpu v=1\r", "crlf_line_ending"),
        ("cpu v=1 5\r", "crlf_line_ending"),
        ("cpu v=1 \r", "crlf_line_ending"),
        ("cpu v=1 ", "trailing_space_without_timestamp"),
        ("cpu v=1,w=2,", "trailing_comma_after_any_field"),
        ("cpu v=1,w=2, 5", "trailing_comma_after_any_field"),
        ("cpu,a=1,a=2 v=1", "duplicate_tags"),
        (r"cpu,a\b=1,a\\b=2 v=1", "duplicate_tags"),
        ("cpu v=1,v=2", "duplicate_fields"),
        ("cpu time=1", "time_is_reserved"),
        ("cpu,time=1 v=1", "time_is_reserved"),
        ("cpu,a=1 a=2", "tag_field_clash"),
        ("cpu,a=1,,b=2 v=1", "comma_in_key"),
        ("cpu,a,b=1 v=1", "comma_in_key"),
        ("cpu a,b=1", "comma_in_key"),
        ("cpu ,a=1", "comma_in_key"),
        (r"cpu,a\\,b=1 v=1", "comma_in_key"),
        ("cpu v=1e400", "float_overflow_to_infinity"),
        ("cpu v=-1e400", "float_overflow_to_infinity"),
        ("cpu\\\0x v=1", "escaped_nul_in_measurement"),
    ] {
        assert_decision(line, decision);
    }
}

#[test]
fn long_strings() {
    // Over 64 KiB: both accept (InfluxDB 3 enables `large-strings`).
    assert_agree(&format!("m s=\"{}\"", "x".repeat(70_000)));
    assert_agree(&format!("{} v=1", "m".repeat(70_000)));
    // Over 1 MiB: linegate rejects, the 2.0 crate has no limit.
    let big = "x".repeat(MAX_STRING_BYTES + 1);
    assert_decision(&format!("m s=\"{big}\""), "over_string_limit");
    assert_decision(&format!("m,t={big} v=1"), "over_string_limit");
}

/// Compares the accepted lines and the number of rejected ones.
#[track_caller]
fn assert_same_lines(body: &str) {
    let ours = parse_ours(body);
    let theirs = parse_theirs(body);
    assert_eq!(accepted(&ours), accepted(&theirs), "{body:?}");
    assert_eq!(rejected(&ours), rejected(&theirs), "{body:?}");
}

#[test]
fn fixed_bodies_accept_the_same_lines() {
    for body in [
        "cpu v=1\n\n# c\ncpu v=\ncpu v=\"a\nb\" 5\nmem x=1 12.5\nmem y=2\n",
        "a v=1\nb v=2\nc v=3",
        "\n\n\n  \n\t\n",
        "# only\n# comments",
        "m s=\"line 1\nline 2\n# not a comment\n\nm v=2\",n=1i 5\nm v=3\n",
        "bad\nm v=1\nbad v=\nm v=2 x\nm v=3\n",
        "  m v=1\n\tm v=2\n  # c\nm v=3",
        "温度,地点=北京 值=1\n温度,地点=上海 值=2i\n",
        "m a=1,b=\"x,y=z w\",c=t 1\nm a=2,b=\"\\\"\",c=F 2\n",
        "m v=1 1\nm v=2 2\nm v=3 3\nm v=4 4\nm v=5 5\nm v=6 6\nm v=7 7\n",
    ] {
        assert_same_lines(body);
    }
}

#[test]
fn bodies_where_line_splitting_differs() {
    // Decision `line_splitting_differs` (see there): linegate's lines are the physical ones
    // and its strings are where the grammar puts them. A quote in a comment:
    let body = "# x y=\"z\ncpu v=1\ncpu v=2";
    assert!(line_splitting_differs("# x y=\"z"));
    assert_eq!(accepted_line_numbers(body), [2, 3]);
    let theirs = parse_theirs(body);
    assert_eq!((rejected(&theirs), accepted(&theirs).len()), (1, 0));
    // An unterminated string: linegate rejects its line only.
    let body = "cpu v=\"abc\ncpu v=2\ncpu v=3";
    assert!(line_splitting_differs("cpu v=\"abc"));
    let ours = parse_ours(body);
    assert_eq!(
        (rejected(&ours), accepted_line_numbers(body)),
        (1, vec![2, 3])
    );
    assert_eq!(rejected(&parse_theirs(body)), 1);
    assert_eq!(accepted(&parse_theirs(body)).len(), 0);
    // A backslash before the newline.
    let body = "cpu\\\nx v=1";
    assert!(line_splitting_differs("cpu\\"));
    assert_eq!(accepted_line_numbers(body), [2]);
    let theirs = parse_theirs(body);
    assert_eq!(accepted(&theirs)[0].measurement, "cpu\\\nx");
    // A quote in a measurement after leading whitespace: InfluxDB sees a string from there
    // and joins the next line.
    let body = "  c=d\"e v=1\nm v=2";
    assert!(line_splitting_differs("  c=d\"e v=1"));
    assert_eq!(accepted_line_numbers(body), [1, 2]);
    assert_eq!(parse_theirs(body).len(), 1);
    // The same quote makes InfluxDB end a line inside what the grammar reads as a string
    // (`a=" 0⏎ms,t=x s="`), so it accepts the second line, which linegate does not.
    let body = " aa=\" a=\" 0\nms,t=x s=\" \",v=1i 7";
    assert!(line_splitting_differs(" aa=\" a=\" 0"));
    let ours = parse_ours(body);
    assert_eq!((rejected(&ours), accepted(&ours).len()), (1, 0));
    match &ours[0] {
        Item::Reject(e) => {
            assert_eq!((e.line, e.column), (2, 12));
            assert!(matches!(e.kind, LineErrorKind::InvalidTimestamp(_)), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let theirs = parse_theirs(body);
    assert_eq!((rejected(&theirs), accepted(&theirs).len()), (1, 1));
}
