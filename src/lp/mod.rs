//! Line protocol: a zero-copy scanner and validator.
//!
//! [`LineParser`] walks a UTF-8 body one line at a time. Each [`Line`] borrows its names and
//! string values from the body (escapes are resolved only when asked, see [`LpStr`]) and its
//! tag and field lists from the parser's reusable scratch space, so a valid line costs no
//! allocation. Every line is fully validated: grammar, escapes, typed values with range
//! checks, duplicate tags and fields, the reserved `time` name, tag/field name clashes, and
//! the timestamp converted to nanoseconds.
//!
//! ```
//! use linegate::lp::{FieldValue, LineParser};
//! use linegate::Precision;
//!
//! let body = "cpu,host=a usage=0.5,cores=4i 1700000000\n# a comment\nmem free=\n";
//! let mut parser = LineParser::new(body, Precision::Second);
//! let line = parser.next_line().unwrap().unwrap();
//! assert_eq!(line.measurement.as_str(), "cpu");
//! assert_eq!(line.fields[1].value, FieldValue::Integer(4));
//! assert_eq!(line.timestamp, Some(1_700_000_000_000_000_000));
//! let error = parser.next_line().unwrap().unwrap_err();
//! assert_eq!((error.line, error.column), (3, 10));
//! assert_eq!(error.kind.to_string(), "missing value for field 'free'");
//! assert!(parser.next_line().is_none());
//! ```

mod error;
mod lemire;
mod number;
mod scan;

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

pub use error::{original_line, LineError, LineErrorKind, SchemaConflict, ORIGINAL_LINE_LIMIT};

use crate::precision::Precision;
use error::quote;
use number::{parse_number, parse_timestamp, Number, NumberError};
use scan::{ByteSet, Pattern};

/// Longest measurement, key, tag value or string value accepted, in bytes after unescaping
/// (as InfluxDB 3).
pub const MAX_STRING_BYTES: usize = 1 << 20;

/// Which escapes apply to a piece of text; they differ by position in the line.
///
/// A whole word (`repr(usize)`), so that an [`LpStr`] has no padding: with a one-byte tag,
/// moving a name or a [`FieldValue`] wrote the byte and read it back as part of a wider
/// load, which the CPU cannot forward from the store: a stall on every name, about 5% of
/// the parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Escapes {
    /// The raw text contains no escape sequence: raw text and value are the same.
    None,
    /// Measurement: `\,` `\ ` `\\`.
    Measurement,
    /// Tag key, tag value or field key: `\,` `\=` `\ ` `\\`.
    Key,
    /// String field value: `\"` `\\`.
    String,
}

/// A name or string value as written in the body, with escapes resolved on demand.
#[derive(Clone, Copy)]
pub struct LpStr<'a> {
    raw: &'a str,
    escapes: Escapes,
}

impl<'a> LpStr<'a> {
    /// Text without any escape sequence.
    pub const fn plain(raw: &'a str) -> Self {
        LpStr {
            raw,
            escapes: Escapes::None,
        }
    }

    /// The text exactly as written in the body (without the quotes of a string value).
    #[inline]
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Which escapes the raw text uses.
    pub fn escapes(&self) -> Escapes {
        self.escapes
    }

    /// The value: borrowed when the raw text has no escapes, unescaped otherwise.
    ///
    /// Inline (in other crates too): the storage calls it for every tag value.
    #[inline]
    pub fn as_str(&self) -> Cow<'a, str> {
        match self.escapes {
            Escapes::None => Cow::Borrowed(self.raw),
            _ => Cow::Owned(self.unescaped()),
        }
    }

    /// The text with its escapes resolved (a copy).
    fn unescaped(&self) -> String {
        let special: &[u8] = match self.escapes {
            Escapes::None => b"",
            Escapes::Measurement => b", \\",
            Escapes::Key => b",= \\",
            Escapes::String => b"\"\\",
        };
        let mut out = String::with_capacity(self.raw.len());
        let mut rest = self.raw;
        while let Some(i) = rest.find('\\') {
            out.push_str(&rest[..i]);
            match rest.as_bytes().get(i + 1) {
                Some(c) if special.contains(c) => {
                    out.push(*c as char);
                    rest = &rest[i + 2..];
                }
                _ => {
                    out.push('\\');
                    rest = &rest[i + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Whether two texts have the same value (escapes resolved).
    pub fn same_value(&self, other: &LpStr<'_>) -> bool {
        if self.escapes == Escapes::None && other.escapes == Escapes::None {
            self.raw == other.raw
        } else {
            self.as_str() == other.as_str()
        }
    }

    fn is(&self, value: &str) -> bool {
        // Fix: the raw text may only stand for the value when it has no escapes
        // (`a\,b` is `a,b`, not `a\,b`).
        if self.escapes == Escapes::None {
            self.raw == value
        } else {
            self.as_str() == value
        }
    }
}

impl fmt::Debug for LpStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.as_str(), f)
    }
}

impl fmt::Display for LpStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

impl PartialEq for LpStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.same_value(other)
    }
}

impl PartialEq<&str> for LpStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.is(other)
    }
}

/// A typed field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// `1.5`, `1`, `-2e3`.
    Float(f64),
    /// `1i`.
    Integer(i64),
    /// `1u`.
    UInteger(u64),
    /// `"text"`.
    String(LpStr<'a>),
    /// `t`, `true`, `F`, `FALSE` …
    Boolean(bool),
}

impl FieldValue<'_> {
    /// The type's name as users see it ([`crate::schema::FieldType::name`]).
    pub fn type_name(&self) -> &'static str {
        crate::schema::FieldType::of(self).name()
    }
}

/// `key=value` in the tag set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tag<'a> {
    /// The tag key.
    pub key: LpStr<'a>,
    /// The tag value.
    pub value: LpStr<'a>,
}

/// `key=value` in the field set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field<'a> {
    /// The field key.
    pub key: LpStr<'a>,
    /// The parsed value.
    pub value: FieldValue<'a>,
    /// The value exactly as written (a string with its quotes), reused when re-encoding.
    pub raw_value: &'a str,
}

/// One valid line. Tags and fields are in input order.
#[derive(Debug, Clone, Copy)]
pub struct Line<'p, 'a> {
    /// The measurement (table) name.
    pub measurement: LpStr<'a>,
    /// The tag set.
    pub tags: &'p [Tag<'a>],
    /// The field set, never empty.
    pub fields: &'p [Field<'a>],
    /// The timestamp in nanoseconds, if the line had one.
    pub timestamp: Option<i64>,
    /// 1-based physical line number where the line starts.
    pub line_number: u32,
    /// Names the line's list of tag and field keys: lines with the same `key_set` have the
    /// same keys in the same order (each parser numbers the lists it sees, from a block of
    /// numbers of its own), so work done per key for one line can be reused for the next.
    pub key_set: u64,
    /// Byte offset of the line's first character in the body.
    pub offset: usize,
}

/// The bytes that end each kind of name (a backslash starts an escape), and a field value.
static MEASUREMENT_STOP: ByteSet = ByteSet::new(b" \t\n,\\\0");
static TAG_KEY_STOP: ByteSet = ByteSet::new(b" \t\n,=\\");
static TAG_VALUE_STOP: ByteSet = ByteSet::new(b" \t\n,\\");
static FIELD_KEY_STOP: ByteSet = ByteSet::new(b" \t\n,=\\");
static VALUE_STOP: ByteSet = ByteSet::new(b" \t\n\r,");

/// Which key [`LineParser::key`] reads.
#[derive(Clone, Copy)]
enum KeyKind {
    Tag,
    Field,
}

/// A located problem inside the line being parsed. The kind is boxed: errors are rare, and
/// a small `Fail` keeps every step's result small on the valid path.
struct Fail {
    pos: usize,
    kind: Box<LineErrorKind>,
}

type Step<T> = Result<T, Fail>;

fn fail<T>(pos: usize, kind: LineErrorKind) -> Step<T> {
    Err(Fail {
        pos,
        kind: Box::new(kind),
    })
}

/// The next parser's block of [`Line::key_set`] numbers: 2^32 of them per parser, so that
/// numbers from different parsers never meet.
static KEY_SET_BLOCKS: AtomicU64 = AtomicU64::new(0);

/// Walks a body line by line. See the [module documentation](self).
pub struct LineParser<'a> {
    body: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line_number: u32,
    precision: Precision,
    tags: Vec<Tag<'a>>,
    fields: Vec<Field<'a>>,
    fingerprints: Vec<u64>,
    /// The key sets of recent lines, by measurement (see [`KnownKeys`]).
    known: Vec<KnownKeys>,
    /// The entry of `known` the last line used, tried first.
    last_known: usize,
    /// The entry of `known` replaced next when all are taken.
    next_slot: usize,
    /// Number of the current line's list of keys (see [`Line::key_set`]).
    key_set: u64,
    /// The next unused key-set number.
    next_key_set: u64,
}

/// How many measurements' key sets a parser keeps: batches often interleave a few
/// measurements (Telegraf's cpu, mem, disk and net; a logger's temperature and humidity).
const KNOWN_KEY_SETS: usize = 4;

/// The keys of a recent line that passed [`LineParser::check_names`], none with escapes,
/// each kept with its `=` as a [`Pattern`]: a later line of the same measurement is read by
/// comparing its keys with these, and when all are equal its names need no check.
struct KnownKeys {
    measurement: Pattern,
    /// Tag keys, then field keys.
    keys: Vec<Pattern>,
    tags: usize,
    key_set: u64,
}

impl<'a> LineParser<'a> {
    /// A parser over `body`, whose timestamps are in `precision`.
    pub fn new(body: &'a str, precision: Precision) -> Self {
        LineParser {
            body,
            bytes: body.as_bytes(),
            pos: 0,
            line_number: 1,
            precision,
            tags: Vec::with_capacity(16),
            fields: Vec::with_capacity(32),
            fingerprints: Vec::with_capacity(48),
            known: Vec::new(),
            last_known: 0,
            next_slot: 0,
            key_set: 0,
            next_key_set: KEY_SET_BLOCKS.fetch_add(1 << 32, Ordering::Relaxed),
        }
    }

    /// The physical line number the parser has reached.
    pub fn line_number(&self) -> u32 {
        self.line_number
    }

    /// The next non-blank, non-comment line, or `None` at the end of the body.
    ///
    /// After an error the parser resumes at the next line.
    #[allow(clippy::should_implement_trait)]
    pub fn next_line(&mut self) -> Option<Result<Line<'_, 'a>, LineError>> {
        let b = self.bytes;
        // Skip blank lines, leading whitespace and comments.
        loop {
            while let Some(b' ' | b'\t') = b.get(self.pos) {
                self.pos += 1;
            }
            match b.get(self.pos) {
                None => return None,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line_number += 1;
                }
                Some(b'\r') if matches!(b.get(self.pos + 1), None | Some(b'\n')) => {
                    self.pos += 1;
                }
                Some(b'#') => {
                    if self.skip_rest_of_line(self.pos) {
                        self.line_number += 1;
                    }
                }
                Some(_) => break,
            }
        }
        let start = self.pos;
        let line_number = self.line_number;
        self.tags.clear();
        self.fields.clear();
        match self.parse_line(start) {
            Ok((measurement, timestamp, end, newlines)) => {
                self.pos = end;
                self.line_number += newlines;
                Some(Ok(Line {
                    measurement,
                    tags: &self.tags,
                    fields: &self.fields,
                    timestamp,
                    line_number,
                    key_set: self.key_set,
                    offset: start,
                }))
            }
            Err(Fail { pos, kind }) => {
                let pos = pos.clamp(start, self.bytes.len());
                // Fix: columns and the original line count from the physical line's start,
                // including any leading whitespace skipped above.
                let line_start = self.bytes[..start]
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(0, |i| i + 1);
                let error = LineError::locate(self.body, line_start, line_number, pos, *kind);
                let before = count_newlines(&self.bytes[start..pos]);
                let ended = self.skip_rest_of_line(pos);
                self.line_number = line_number + before + ended as u32;
                Some(Err(error))
            }
        }
    }

    /// Moves past the next `\n` at or after `from`; returns whether there was one.
    fn skip_rest_of_line(&mut self, from: usize) -> bool {
        match self.bytes[from..].iter().position(|&c| c == b'\n') {
            Some(i) => {
                self.pos = from + i + 1;
                true
            }
            None => {
                self.pos = self.bytes.len();
                false
            }
        }
    }

    /// Parses the line starting at `start`. Returns the measurement, timestamp (ns), the
    /// position after the line ending, and how many newlines were consumed.
    fn parse_line(&mut self, start: usize) -> Step<(LpStr<'a>, Option<i64>, usize, u32)> {
        let b = self.bytes;
        // Measurement, and the known keys of a recent line of it.
        let (measurement, mut pos, known) = self.measurement(start)?;
        if measurement.raw.is_empty() {
            return fail(start, LineErrorKind::MissingMeasurement);
        }
        let (known_tags, known_keys): (usize, &[Pattern]) =
            known.map_or((0, &[]), |i| (self.known[i].tags, &self.known[i].keys));
        // Keys found equal to the known ones at the same index.
        let mut same_keys = 0;
        // Tag set.
        while b.get(pos) == Some(&b',') {
            let expected = expected_key(known_keys, self.tags.len(), known_tags);
            let (key, value_start, same) = self.key(pos + 1, KeyKind::Tag, expected)?;
            same_keys += same as usize;
            let (value, after_value) = self.name(value_start, &TAG_VALUE_STOP, Escapes::Key)?;
            if value.raw.is_empty() {
                return fail(value_start, LineErrorKind::MissingTagValue(quote(key.raw)));
            }
            self.tags.push(Tag { key, value });
            pos = after_value;
        }
        match b.get(pos) {
            Some(b' ') => {}
            Some(b'\t') => return fail(pos, LineErrorKind::TabSeparator),
            Some(0) => return fail(pos, LineErrorKind::NulInMeasurement),
            _ => return fail(pos, LineErrorKind::MissingFields),
        }
        pos = skip_spaces(b, pos);
        if at_line_end(b, pos) {
            return fail(pos, LineErrorKind::MissingFields);
        }
        // Field set.
        let mut newlines = 0;
        loop {
            let index = known_tags + self.fields.len();
            let expected = expected_key(known_keys, index, known_keys.len());
            let (key, value_start, same) = match self.key(pos, KeyKind::Field, expected) {
                Ok(key) => key,
                // A trailing comma after the last field is accepted (InfluxDB accepts it
                // after one field). Checked only here, where the key is missing.
                Err(_)
                    if !self.fields.is_empty()
                        && (b.get(pos) == Some(&b' ') || at_line_end(b, pos)) =>
                {
                    break
                }
                Err(fail) => return Err(fail),
            };
            same_keys += same as usize;
            let (value, value_end) = self.field_value(key, value_start, &mut newlines)?;
            self.fields.push(Field {
                key,
                value,
                raw_value: self.slice(value_start, value_end),
            });
            pos = value_end;
            // A value ends at a separator or the line end.
            match b.get(pos) {
                Some(b',') => pos += 1,
                None | Some(b' ' | b'\n' | b'\r') => break,
                Some(b'\t') => return fail(pos, LineErrorKind::TabSeparator),
                Some(_) => {
                    let value = quote(self.slice(value_start, token_end(b, pos)));
                    let key = quote(key.raw);
                    return fail(value_start, LineErrorKind::InvalidFieldValue { key, value });
                }
            }
        }
        // Timestamp.
        let mut timestamp = None;
        if b.get(pos) == Some(&b' ') {
            pos = skip_spaces(b, pos);
            if !at_line_end(b, pos) {
                let ts_start = pos;
                let (ts, end) = match parse_timestamp(b, pos) {
                    Ok(parsed) => parsed,
                    Err(e) => {
                        let text = quote(self.slice(ts_start, token_end(b, ts_start)));
                        return fail(
                            ts_start,
                            match e {
                                NumberError::Syntax => LineErrorKind::InvalidTimestamp(text),
                                _ => LineErrorKind::TimestampOutOfRange(text),
                            },
                        );
                    }
                };
                if !matches!(b.get(end), None | Some(b' ' | b'\n' | b'\r')) {
                    let text = quote(self.slice(ts_start, token_end(b, ts_start)));
                    return fail(ts_start, LineErrorKind::InvalidTimestamp(text));
                }
                let Some(nanos) = self.precision.to_nanos(ts) else {
                    let precision = self.precision;
                    let kind = LineErrorKind::TimestampOverflow {
                        timestamp: ts,
                        precision,
                    };
                    return fail(ts_start, kind);
                };
                timestamp = Some(nanos);
                pos = skip_spaces(b, end);
            }
        }
        // Line end.
        let end = match b.get(pos) {
            None => pos,
            Some(b'\n') => {
                newlines += 1;
                pos + 1
            }
            Some(b'\r') => match b.get(pos + 1) {
                None => pos + 1,
                Some(b'\n') => {
                    newlines += 1;
                    pos + 2
                }
                Some(_) => return fail(pos, LineErrorKind::StrayCarriageReturn),
            },
            Some(b'\t') => return fail(pos, LineErrorKind::TabSeparator),
            Some(_) => {
                let text = quote(self.slice(pos, line_end(b, pos)));
                return fail(pos, LineErrorKind::TrailingContent(text));
            }
        };
        // Most lines repeat the keys of a recent line of their measurement (Telegraf,
        // client libraries): then there is nothing new to check.
        let repeated = same_keys == known_keys.len()
            && same_keys == self.tags.len() + self.fields.len()
            && self.tags.len() == known_tags;
        let known = match known {
            Some(i) if repeated => Some(i),
            _ => {
                self.key_set = self.next_key_set;
                self.next_key_set = self.next_key_set.wrapping_add(1);
                let escaped = self.check_names()?;
                if escaped || measurement.escapes != Escapes::None {
                    None
                } else {
                    self.remember_keys(measurement, known)
                }
            }
        };
        if let Some(i) = known {
            self.key_set = self.known[i].key_set;
            self.last_known = i;
        }
        Ok((measurement, timestamp, end, newlines))
    }

    /// The measurement at `start`, the position after it and the entry of `known` with the
    /// same measurement, if any.
    #[inline(always)]
    fn measurement(&self, start: usize) -> Step<(LpStr<'a>, usize, Option<usize>)> {
        let b = self.bytes;
        // Fast path: a known measurement, followed by a byte that ends it. Scanning would
        // stop at the same place. The last line's first, then the others.
        let is_at = |known: &KnownKeys| {
            let end = start + known.measurement.len();
            b.get(end).is_some_and(|&next| {
                MEASUREMENT_STOP.contains(next)
                    && next != b'\\'
                    && known.measurement.is_at(b, start)
            })
        };
        let found = match self.known.get(self.last_known) {
            Some(known) if is_at(known) => Some(self.last_known),
            _ => self.known.iter().position(is_at),
        };
        if let Some(i) = found {
            let end = start + self.known[i].measurement.len();
            return Ok((LpStr::plain(self.slice(start, end)), end, found));
        }
        let (measurement, end) = self.name(start, &MEASUREMENT_STOP, Escapes::Measurement)?;
        Ok((measurement, end, None))
    }

    /// A tag or field key at `start` and the `=` after it. Returns the key, the position
    /// of its value and whether it is `expected`.
    #[inline(always)]
    fn key(
        &self,
        start: usize,
        kind: KeyKind,
        expected: Option<&Pattern>,
    ) -> Step<(LpStr<'a>, usize, bool)> {
        // Fast path: the previous line's key at this index, with its `=`. That key has no
        // escapes and no stop bytes, so scanning would stop at the same `=`.
        if let Some(expected) = expected {
            if expected.is_at(self.bytes, start) {
                let len = expected.len() - 1;
                return Ok((
                    LpStr::plain(self.slice(start, start + len)),
                    start + len + 1,
                    true,
                ));
            }
        }
        let stops = match kind {
            KeyKind::Tag => &TAG_KEY_STOP,
            KeyKind::Field => &FIELD_KEY_STOP,
        };
        let (key, end) = self.name(start, stops, Escapes::Key)?;
        if key.raw.is_empty() {
            return fail(
                start,
                match kind {
                    KeyKind::Tag => LineErrorKind::MissingTagKey,
                    KeyKind::Field => LineErrorKind::MissingFieldKey,
                },
            );
        }
        if self.bytes.get(end) != Some(&b'=') {
            let name = quote(key.raw);
            return fail(
                start,
                match kind {
                    KeyKind::Tag => LineErrorKind::TagWithoutEquals(name),
                    KeyKind::Field => LineErrorKind::FieldWithoutEquals(name),
                },
            );
        }
        Ok((key, end + 1, false))
    }

    /// Scans a name from `pos` up to a stop byte, honouring backslash escapes.
    #[inline(always)]
    fn name(&self, start: usize, stops: &ByteSet, kind: Escapes) -> Step<(LpStr<'a>, usize)> {
        let b = self.bytes;
        let mut pos = stops.find(b, start);
        let mut escaped = false;
        // Backslashes are rare: only a name with one has more to scan and check.
        let mut backslashes = false;
        while b.get(pos) == Some(&b'\\') {
            backslashes = true;
            let escapable: &[u8] = if kind == Escapes::Measurement {
                b", \\"
            } else {
                b",= \\"
            };
            match b.get(pos + 1) {
                Some(c) if escapable.contains(c) => {
                    escaped = true;
                    pos += 2;
                }
                // Fix: a backslash before a tab stands for itself and the tab stays in the
                // name, as in InfluxDB (it was rejected as ending in a backslash).
                Some(b'\t') => pos += 2,
                // Any other backslash stands for itself.
                _ => pos += 1,
            }
            pos = stops.find(b, pos);
        }
        if backslashes && b[pos - 1] == b'\\' {
            return fail(pos - 1, LineErrorKind::EndsWithBackslash);
        }
        let raw = self.slice(start, pos);
        let escapes = if escaped { kind } else { Escapes::None };
        let text = LpStr { raw, escapes };
        // Fix: the limit applies to the unescaped value, as in InfluxDB 3 (raw text longer
        // than the limit was rejected even when its value fit).
        if raw.len() > MAX_STRING_BYTES && text.as_str().len() > MAX_STRING_BYTES {
            return fail(start, LineErrorKind::TooLong);
        }
        Ok((text, pos))
    }

    /// Parses the value of field `key` at `pos`; returns it and the position after it.
    #[inline(always)]
    fn field_value(
        &self,
        key: LpStr<'a>,
        pos: usize,
        newlines: &mut u32,
    ) -> Step<(FieldValue<'a>, usize)> {
        let b = self.bytes;
        let value = match b.get(pos) {
            Some(b'0'..=b'9' | b'-') => match parse_number(b, pos) {
                Ok((number, end)) => {
                    let value = match number {
                        Number::Float(v) => FieldValue::Float(v),
                        Number::Integer(v) => FieldValue::Integer(v),
                        Number::UInteger(v) => FieldValue::UInteger(v),
                    };
                    (value, end)
                }
                Err(e) => {
                    let key = quote(key.raw);
                    let value = quote(self.slice(pos, token_end(b, pos)));
                    let kind = match e {
                        NumberError::Syntax => LineErrorKind::InvalidFieldValue { key, value },
                        NumberError::IntegerRange => {
                            LineErrorKind::IntegerOutOfRange { key, value }
                        }
                        NumberError::UIntegerRange | NumberError::NegativeUInteger => {
                            LineErrorKind::UnsignedOutOfRange { key, value }
                        }
                        NumberError::FloatRange => LineErrorKind::FloatOutOfRange { key, value },
                    };
                    return fail(pos, kind);
                }
            },
            Some(b'"') => {
                let (text, end, lines) = self.string(key, pos)?;
                *newlines += lines;
                (FieldValue::String(text), end)
            }
            Some(b't' | b'T' | b'f' | b'F') => {
                let end = token_end(b, pos);
                let value = match &b[pos..end] {
                    b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
                    b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
                    _ => {
                        return fail(
                            pos,
                            LineErrorKind::InvalidFieldValue {
                                key: quote(key.raw),
                                value: quote(self.slice(pos, end)),
                            },
                        )
                    }
                };
                (FieldValue::Boolean(value), end)
            }
            None | Some(b' ' | b',' | b'\n' | b'\r' | b'\t') => {
                return fail(pos, LineErrorKind::MissingFieldValue(quote(key.raw)))
            }
            Some(_) => {
                return fail(
                    pos,
                    LineErrorKind::InvalidFieldValue {
                        key: quote(key.raw),
                        value: quote(self.slice(pos, token_end(b, pos))),
                    },
                )
            }
        };
        Ok(value)
    }

    /// Scans a double-quoted string value at `open` (the `"`). Returns the text between the
    /// quotes, the position after the closing quote and the newlines inside.
    fn string(&self, key: LpStr<'a>, open: usize) -> Step<(LpStr<'a>, usize, u32)> {
        let b = self.bytes;
        let start = open + 1;
        let mut pos = start;
        let mut escaped = false;
        loop {
            match b[pos.min(b.len())..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\')
            {
                None => return fail(open, LineErrorKind::UnterminatedString(quote(key.raw))),
                Some(i) => {
                    pos += i;
                    if b[pos] == b'"' {
                        break;
                    }
                    if matches!(b.get(pos + 1), Some(b'"' | b'\\')) {
                        escaped = true;
                    }
                    pos += 2;
                }
            }
        }
        let raw = self.slice(start, pos);
        let lines = count_newlines(raw.as_bytes());
        let escapes = if escaped {
            Escapes::String
        } else {
            Escapes::None
        };
        let text = LpStr { raw, escapes };
        // Fix: the limit applies to the unescaped value, as in InfluxDB 3.
        if raw.len() > MAX_STRING_BYTES && text.as_str().len() > MAX_STRING_BYTES {
            return fail(start, LineErrorKind::TooLong);
        }
        Ok((text, pos + 1, lines))
    }

    /// The per-line rules: no duplicate tags or fields, `time` reserved, no tag/field clash.
    ///
    /// Keys are compared by a fingerprint first, so a line with n keys costs n²/2 integer
    /// comparisons and a string comparison only where fingerprints match. Returns whether a
    /// key has escapes.
    fn check_names(&mut self) -> Step<bool> {
        let tags = self.tags.len();
        let mut fingerprints = std::mem::take(&mut self.fingerprints);
        fingerprints.clear();
        let keys = self
            .tags
            .iter()
            .map(|t| &t.key)
            .chain(self.fields.iter().map(|f| &f.key));
        let mut escaped = false;
        for key in keys {
            escaped |= key.escapes != Escapes::None;
            fingerprints.push(fingerprint(key.as_str().as_bytes()));
        }
        let result = self.check_fingerprints(&fingerprints, tags);
        self.fingerprints = fingerprints;
        result.map(|()| escaped)
    }

    /// Keeps the keys of the line just checked, which have no escapes, for later lines of
    /// its measurement: in entry `known` (which has the measurement), else in a free entry
    /// or the one filled longest ago. Returns the entry.
    fn remember_keys(&mut self, measurement: LpStr<'a>, known: Option<usize>) -> Option<usize> {
        let raw = measurement.raw;
        let measurement = Pattern::new(self.bytes, self.offset_of(raw), raw.len())?;
        let slot = known.unwrap_or_else(|| match self.known.len() {
            free if free < KNOWN_KEY_SETS => free,
            _ => {
                let slot = self.next_slot;
                self.next_slot = (slot + 1) % KNOWN_KEY_SETS;
                slot
            }
        });
        // The replaced entry's vector, reused.
        let mut keys = (self.known.get_mut(slot))
            .map(|entry| std::mem::take(&mut entry.keys))
            .unwrap_or_default();
        keys.clear();
        let names = self.tags.iter().map(|t| t.key.raw);
        for key in names.chain(self.fields.iter().map(|f| f.key.raw)) {
            // Every key here is followed by its `=` in the body.
            match Pattern::new(self.bytes, self.offset_of(key), key.len() + 1) {
                Some(pattern) => keys.push(pattern),
                None => {
                    // Never expected; an entry without keys matches no line.
                    keys.clear();
                    break;
                }
            }
        }
        let entry = KnownKeys {
            measurement,
            keys,
            tags: self.tags.len(),
            key_set: self.key_set,
        };
        match self.known.get_mut(slot) {
            Some(replaced) => *replaced = entry,
            None => self.known.push(entry),
        }
        Some(slot)
    }

    /// The key at `i` of the line's tags then fields.
    fn key_at(&self, i: usize, tags: usize) -> &LpStr<'a> {
        if i < tags {
            &self.tags[i].key
        } else {
            &self.fields[i - tags].key
        }
    }

    /// The error for key `j` repeating key `i < j` (tags come before fields).
    fn repeated(&self, i: usize, j: usize, tags: usize) -> Step<()> {
        let name = quote(&self.key_at(j, tags).as_str());
        let kind = if j < tags {
            LineErrorKind::DuplicateTag(name)
        } else if i >= tags {
            LineErrorKind::DuplicateField(name)
        } else {
            LineErrorKind::TagFieldClash(name)
        };
        fail(self.offset_of(self.key_at(j, tags).raw), kind)
    }

    /// Compares the keys whose value fingerprints match.
    fn check_fingerprints(&self, fingerprints: &[u64], tags: usize) -> Step<()> {
        if fingerprints.len() > WIDE_LINE_KEYS {
            return self.check_wide(tags);
        }
        let key = |i: usize| self.key_at(i, tags);
        let time = fingerprint(b"time");
        for (j, &fp) in fingerprints.iter().enumerate() {
            if fp == time && key(j).is("time") {
                return fail(
                    self.offset_of(key(j).raw),
                    LineErrorKind::ReservedName("time".into()),
                );
            }
            // Earlier fields first, then tags, so a field repeated and clashing reports the
            // repetition.
            let earlier = fingerprints[..j].iter().enumerate().rev();
            for (i, &other) in earlier {
                if other == fp && key(i).same_value(key(j)) {
                    return self.repeated(i, j, tags);
                }
            }
        }
        Ok(())
    }

    /// [`Self::check_fingerprints`] for a line of many keys: sorted by value, a hostile line
    /// of 100,000 keys costs n log n comparisons, not n²/2. Same answer: the first key that
    /// repeats an earlier one, or is `time`, named with the nearest earlier one.
    #[cold]
    fn check_wide(&self, tags: usize) -> Step<()> {
        let n = tags + self.fields.len();
        let values: Vec<Cow<'a, str>> = (0..n).map(|i| self.key_at(i, tags).as_str()).collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_unstable_by(|&a, &b| values[a].cmp(&values[b]).then(a.cmp(&b)));
        // (j, i): key j repeats key i, the nearest earlier one of the same value.
        let mut first_repeat: Option<(usize, usize)> = None;
        for pair in order.windows(2) {
            let (i, j) = (pair[0], pair[1]);
            if values[i] == values[j] && first_repeat.is_none_or(|(first, _)| j < first) {
                first_repeat = Some((j, i));
            }
        }
        let time = values.iter().position(|v| v == "time");
        match (time, first_repeat) {
            (Some(t), repeat) if repeat.is_none_or(|(j, _)| t <= j) => fail(
                self.offset_of(self.key_at(t, tags).raw),
                LineErrorKind::ReservedName("time".into()),
            ),
            (_, Some((j, i))) => self.repeated(i, j, tags),
            _ => Ok(()),
        }
    }

    /// Byte offset of text borrowed from the body.
    #[inline(always)]
    fn offset_of(&self, text: &'a str) -> usize {
        text.as_ptr() as usize - self.body.as_ptr() as usize
    }

    /// `body[start..end]`, clamped to the body.
    ///
    /// Every caller passes positions just after an ASCII byte (or the body's start) and at
    /// an ASCII byte (or the body's end): the scanner only stops at ASCII bytes, and a
    /// number ends where its digits end, before an ASCII byte or a UTF-8 lead byte. Such
    /// positions are always character boundaries, so the boundary checks of `str::get`
    /// (a tenth of the parse time) are skipped; debug builds, tests and the fuzzers check them.
    #[inline(always)]
    fn slice(&self, start: usize, end: usize) -> &'a str {
        let end = end.min(self.body.len());
        let start = start.min(end);
        debug_assert!(self.body.is_char_boundary(start) && self.body.is_char_boundary(end));
        // SAFETY: `start <= end <= body.len()`, and both are character boundaries (above).
        unsafe { self.body.get_unchecked(start..end) }
    }
}

/// Known key `index`, if below `limit` (keys of one kind).
#[inline(always)]
fn expected_key(keys: &[Pattern], index: usize, limit: usize) -> Option<&Pattern> {
    if index < limit {
        keys.get(index)
    } else {
        None
    }
}

#[inline(always)]
fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos) == Some(&b' ') {
        pos += 1;
    }
    pos
}

/// Whether `pos` is at the end of a line: end of body, `\n`, or `\r` ending the line.
#[inline(always)]
fn at_line_end(b: &[u8], pos: usize) -> bool {
    match b.get(pos) {
        None | Some(b'\n') => true,
        Some(b'\r') => matches!(b.get(pos + 1), None | Some(b'\n')),
        _ => false,
    }
}

/// End of the token at `pos`: the next separator or line end.
fn token_end(b: &[u8], pos: usize) -> usize {
    VALUE_STOP.find(b, pos)
}

/// End of the physical line containing `pos`, before any `\r\n`.
fn line_end(b: &[u8], pos: usize) -> usize {
    let end = b[pos.min(b.len())..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |i| pos + i);
    if end > pos && b[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// Lines with more keys than this are checked for repeats by sorting (see `check_wide`).
const WIDE_LINE_KEYS: usize = 64;

/// A cheap hash of a key: equal keys have equal fingerprints.
#[inline(always)]
fn fingerprint(key: &[u8]) -> u64 {
    let n = key.len();
    let (head, tail) = if n >= 8 {
        let mut head = [0u8; 8];
        let mut tail = [0u8; 8];
        head.copy_from_slice(&key[..8]);
        tail.copy_from_slice(&key[n - 8..]);
        (u64::from_le_bytes(head), u64::from_le_bytes(tail))
    } else {
        let mut head = [0u8; 8];
        head[..n].copy_from_slice(key);
        (u64::from_le_bytes(head), 0)
    };
    head ^ tail.rotate_left(29) ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

fn count_newlines(b: &[u8]) -> u32 {
    b.iter().filter(|&&c| c == b'\n').count() as u32
}

#[cfg(test)]
mod tests;
