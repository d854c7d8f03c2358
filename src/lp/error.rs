//! What can be wrong with one line, and where.

use core::fmt;

use crate::precision::Precision;

/// Longest piece of input quoted inside a message.
const QUOTE_LIMIT: usize = 64;

/// Longest `original_line` carried by an error (InfluxDB 3 cuts at 20 bytes).
pub const ORIGINAL_LINE_LIMIT: usize = 256;

/// Why a line was rejected. The `String`s are quoted input (cut to 64 bytes); they are built
/// only on the error path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineErrorKind {
    /// The line starts with `,` or a space where the measurement should be.
    MissingMeasurement,
    /// A `,` after the measurement or a tag is not followed by a tag key.
    MissingTagKey,
    /// A tag key is not followed by `=`.
    TagWithoutEquals(String),
    /// `key=` with nothing after it.
    MissingTagValue(String),
    /// A tab where the grammar needs a space (line protocol separates with spaces only).
    TabSeparator,
    /// A line with a measurement but no field set.
    MissingFields,
    /// A field set with an empty key (`cpu =1`, `cpu a=1,,b=2`).
    MissingFieldKey,
    /// A field key is not followed by `=`.
    FieldWithoutEquals(String),
    /// `key=` with nothing after it.
    MissingFieldValue(String),
    /// A value that is not a number, boolean or double-quoted string.
    InvalidFieldValue {
        /// The field key.
        key: String,
        /// The text of the value.
        value: String,
    },
    /// An `i` integer outside the int64 range.
    IntegerOutOfRange {
        /// The field key.
        key: String,
        /// The text of the value.
        value: String,
    },
    /// A `u` integer outside the uint64 range, or negative.
    UnsignedOutOfRange {
        /// The field key.
        key: String,
        /// The text of the value.
        value: String,
    },
    /// A float too large for a 64-bit float (`1e400`).
    FloatOutOfRange {
        /// The field key.
        key: String,
        /// The text of the value.
        value: String,
    },
    /// A string value without its closing `"`.
    UnterminatedString(String),
    /// A name or string value longer than [`crate::lp::MAX_STRING_BYTES`].
    TooLong,
    /// A measurement, tag key, tag value or field key whose text ends in a backslash.
    EndsWithBackslash,
    /// The timestamp is not `-?[0-9]+`.
    InvalidTimestamp(String),
    /// The timestamp does not fit in an int64.
    TimestampOutOfRange(String),
    /// The timestamp does not fit in int64 nanoseconds once converted from its precision.
    TimestampOverflow {
        /// The timestamp as written.
        timestamp: i64,
        /// The precision it was converted from.
        precision: Precision,
    },
    /// Something after the field set and timestamp.
    TrailingContent(String),
    /// A carriage return that is not part of a CRLF line ending.
    StrayCarriageReturn,
    /// A NUL byte in the measurement.
    NulInMeasurement,
    /// The same field key twice in one line.
    DuplicateField(String),
    /// The same tag key twice in one line.
    DuplicateTag(String),
    /// A tag or field named `time`.
    ReservedName(String),
    /// A key used both as a tag and as a field.
    TagFieldClash(String),
    /// The line gives a column another kind or type than the table already has
    /// (checked by a store against its catalog, not by the parser). Boxed: rare and large.
    SchemaConflict(Box<SchemaConflict>),
    /// The point is older than its database keeps points (checked by a store, which names
    /// the retention period, e.g. `30d`).
    BeyondRetention(String),
    /// The line would give its table more tags and fields than a store allows (checked by
    /// the store, which names the table and its limit).
    TooManyColumns {
        /// The table.
        table: String,
        /// The most tags and fields one table may have.
        limit: usize,
    },
    /// What another server (the storage behind an edge) said about the line, as it said it.
    Reported(String),
}

/// A column written with another kind or type than its table has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaConflict {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// What the table has, e.g. `an integer field`.
    pub existing: String,
    /// What the line has, e.g. `a string field`.
    pub found: String,
}

/// Quotes at most [`QUOTE_LIMIT`] bytes of `text`, cut on a character boundary.
pub(crate) fn quote(text: &str) -> String {
    if text.len() <= QUOTE_LIMIT {
        return text.to_owned();
    }
    let mut end = QUOTE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut quoted = text[..end].to_owned();
    quoted.push('…');
    quoted
}

impl fmt::Display for LineErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use LineErrorKind::*;
        match self {
            MissingMeasurement => f.write_str("missing measurement: a line must start with its name"),
            MissingTagKey => f.write_str("missing tag key after ','"),
            TagWithoutEquals(k) => write!(
                f,
                "tag key '{k}' must be followed by '=' and a value (escape ',', '=' and ' ' in keys with '\\')"
            ),
            MissingTagValue(k) => write!(f, "missing value for tag '{k}'"),
            TabSeparator => f.write_str("tab found where a space is required: line protocol separates measurement, fields and timestamp with spaces"),
            MissingFields => f.write_str("missing field set: a line needs at least one field, like 'value=1'"),
            MissingFieldKey => f.write_str("missing field key"),
            FieldWithoutEquals(k) => write!(
                f,
                "field key '{k}' must be followed by '=' and a value (escape ',', '=' and ' ' in keys with '\\')"
            ),
            MissingFieldValue(k) => write!(f, "missing value for field '{k}'"),
            InvalidFieldValue { key, value } => write!(
                f,
                "invalid value '{value}' for field '{key}': expected a float (1.5), integer (1i), unsigned (1u), boolean (true) or double-quoted string"
            ),
            IntegerOutOfRange { key, value } => write!(
                f,
                "integer '{value}' for field '{key}' is out of range for a signed 64-bit integer"
            ),
            UnsignedOutOfRange { key, value } => write!(
                f,
                "unsigned integer '{value}' for field '{key}' is out of range for an unsigned 64-bit integer"
            ),
            FloatOutOfRange { key, value } => write!(
                f,
                "float '{value}' for field '{key}' is out of range for a 64-bit float"
            ),
            UnterminatedString(k) => write!(f, "string value of field '{k}' has no closing '\"'"),
            TooLong => write!(
                f,
                "name or string value is longer than {} bytes",
                super::MAX_STRING_BYTES
            ),
            EndsWithBackslash => f.write_str(
                "measurements, tag keys and values, and field keys may not end with a backslash",
            ),
            InvalidTimestamp(t) => write!(
                f,
                "invalid timestamp '{t}': expected an integer (digits only, optional '-')"
            ),
            TimestampOutOfRange(t) => {
                write!(f, "timestamp '{t}' is out of range for a signed 64-bit integer")
            }
            TimestampOverflow { timestamp, precision } => write!(
                f,
                "timestamp {timestamp} is out of range for precision '{precision}': it does not fit in 64-bit nanoseconds"
            ),
            TrailingContent(t) => write!(f, "unexpected content after the timestamp: '{t}'"),
            StrayCarriageReturn => {
                f.write_str("carriage return ('\\r') is only allowed right before a newline")
            }
            NulInMeasurement => f.write_str("measurement contains a NUL byte"),
            DuplicateField(k) => write!(f, "field '{k}' appears more than once in the line"),
            DuplicateTag(k) => write!(f, "duplicate tags: tag '{k}' appears more than once in the line"),
            ReservedName(k) => write!(f, "'{k}' is a reserved column name"),
            TagFieldClash(k) => write!(f, "'{k}' is used both as a tag and as a field"),
            SchemaConflict(c) => write!(
                f,
                "schema conflict: column '{}' of table '{}' is {}, this line writes {}",
                c.column, c.table, c.existing, c.found
            ),
            BeyondRetention(period) => write!(
                f,
                "point beyond retention policy: the database keeps points for {period}"
            ),
            TooManyColumns { table, limit } => write!(
                f,
                "too many columns: table '{table}' may have at most {limit} tags and fields"
            ),
            Reported(message) => f.write_str(message),
        }
    }
}

/// A rejected line: where it is in the body, why, and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based physical line number in the decoded body (blank and comment lines count).
    pub line: u32,
    /// 1-based byte column within that physical line where the problem was found.
    pub column: u32,
    /// What is wrong.
    pub kind: LineErrorKind,
    /// The physical line as sent (without its line ending), cut to
    /// [`ORIGINAL_LINE_LIMIT`] bytes on a character boundary.
    pub original_line: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for LineError {}

impl LineError {
    /// Builds the error for byte `pos` of `body`, where the line containing `pos` starts at or
    /// after `line_start`, which is on physical line `line_number` (a [`crate::Row`]'s
    /// `offset` and `line_number`). Stores use it for errors they find after parsing.
    pub fn locate(
        body: &str,
        line_start: usize,
        line_number: u32,
        pos: usize,
        kind: LineErrorKind,
    ) -> LineError {
        let bytes = body.as_bytes();
        let pos = pos.min(bytes.len());
        let mut start = line_start.min(pos);
        let mut line = line_number;
        for (i, &c) in bytes[start..pos].iter().enumerate() {
            if c == b'\n' {
                line += 1;
                start = line_start + i + 1;
            }
        }
        let end = bytes[pos..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        LineError {
            line,
            column: (pos - start + 1) as u32,
            kind,
            original_line: original_line(&bytes[start..end]),
        }
    }
}

/// A physical line as errors quote it: without its `\r`, cut to [`ORIGINAL_LINE_LIMIT`]
/// bytes on a character boundary (invalid UTF-8 shown as U+FFFD).
pub fn original_line(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = String::from_utf8_lossy(line);
    let mut cut = text.len().min(ORIGINAL_LINE_LIMIT);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}
