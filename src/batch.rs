//! A validated batch: the accepted rows of one request, grouped by table, ready to store or
//! to forward as canonical line protocol.

use std::fmt::Write;
use std::ops::Range;

use crate::lp::{Field, FieldValue, Line, LpStr, Tag};

/// One accepted line: indexes into the batch's tables, tags and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowIndex {
    table: u32,
    tags: Range<u32>,
    fields: Range<u32>,
    time: i64,
    line_number: u32,
    key_set: u64,
    /// The fields' types, see [`field_types`].
    field_types: u64,
    offset: usize,
}

/// [`RowIndex::field_types`] of a row of more fields than fit in the signature.
const WIDE_TYPES: u64 = u64::MAX;

/// The types of up to 21 fields, three bits each (never zero, so the count is in it too):
/// rows with equal signatures have the same field types in the same order. Computed as the
/// line is copied into the batch, while its fields are in the cache: comparing the fields
/// of two rows later reads every field of the batch again (7.6% of the wasm report's time).
fn field_types(fields: &[Field<'_>]) -> u64 {
    if fields.len() > 21 {
        return WIDE_TYPES;
    }
    fields.iter().fold(0, |types, field| {
        let code = match field.value {
            FieldValue::Float(_) => 1,
            FieldValue::Integer(_) => 2,
            FieldValue::UInteger(_) => 3,
            FieldValue::String(_) => 4,
            FieldValue::Boolean(_) => 5,
        };
        types << 3 | code
    })
}

/// One accepted row, borrowed from a [`WriteBatch`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'b, 'a> {
    /// Index of the row's table in [`WriteBatch::tables`].
    pub table_index: usize,
    /// The table (measurement) name.
    pub table: LpStr<'a>,
    /// The tags, in input order.
    pub tags: &'b [Tag<'a>],
    /// The fields, in input order.
    pub fields: &'b [Field<'a>],
    /// Time in nanoseconds since the epoch.
    pub time: i64,
    /// The line of the body the row came from.
    pub line_number: u32,
    /// The line's [`Line::key_set`]: rows with equal `key_set` have the same keys in the
    /// same order.
    pub key_set: u64,
    /// Byte offset of the row's line in the body (see [`crate::LineError::locate`]).
    pub offset: usize,
    /// The fields' types (see `field_types`).
    field_types: u64,
}

impl Row<'_, '_> {
    /// Whether `other` has this row's table, keys (in order) and field types, so that any
    /// check of a row against a schema has the same outcome for both. Costs no string
    /// comparison: the keys are compared through [`Row::key_set`].
    pub fn same_shape(&self, other: &Row<'_, '_>) -> bool {
        self.shape() == other.shape()
            && (self.field_types != WIDE_TYPES
                || self.fields.iter().zip(other.fields).all(|(a, b)| {
                    std::mem::discriminant(&a.value) == std::mem::discriminant(&b.value)
                }))
    }

    fn shape(&self) -> Shape {
        Shape {
            table: self.table_index,
            key_set: self.key_set,
            field_types: self.field_types,
            fields: self.fields.len(),
        }
    }
}

/// What [`Row::same_shape`] compares, but for the field types of rows too wide for
/// `field_types`: read from a [`Row`] or straight from its index.
#[derive(PartialEq, Eq)]
struct Shape {
    table: usize,
    key_set: u64,
    field_types: u64,
    fields: usize,
}

impl RowIndex {
    fn shape(&self) -> Shape {
        Shape {
            table: self.table as usize,
            key_set: self.key_set,
            field_types: self.field_types,
            fields: self.fields.len(),
        }
    }
}

/// The accepted rows of a request, in input order, with their tables.
///
/// Everything borrows from the decoded body; tags and fields of all rows share two flat
/// vectors, so building a batch costs a few amortized pushes per line.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch<'a> {
    tables: Vec<LpStr<'a>>,
    rows: Vec<RowIndex>,
    tags: Vec<Tag<'a>>,
    fields: Vec<Field<'a>>,
}

impl<'a> WriteBatch<'a> {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a validated line; `time` is its timestamp in nanoseconds (the caller supplies
    /// the ingest time for lines without one).
    #[inline]
    pub fn push(&mut self, line: &Line<'_, 'a>, time: i64) {
        let table = match self.rows.last() {
            Some(last) if self.tables[last.table as usize] == line.measurement => last.table,
            _ => match self.tables.iter().position(|t| *t == line.measurement) {
                Some(i) => i as u32,
                None => {
                    self.tables.push(line.measurement);
                    (self.tables.len() - 1) as u32
                }
            },
        };
        let tags_start = self.tags.len() as u32;
        self.tags.extend_from_slice(line.tags);
        let fields_start = self.fields.len() as u32;
        self.fields.extend_from_slice(line.fields);
        self.rows.push(RowIndex {
            table,
            tags: tags_start..self.tags.len() as u32,
            fields: fields_start..self.fields.len() as u32,
            time,
            line_number: line.line_number,
            key_set: line.key_set,
            field_types: field_types(line.fields),
            offset: line.offset,
        });
    }

    /// Reserves room for the rest of a body, `rest` bytes, if its lines are like the last
    /// row's, which took `line_bytes`: growing step by step would copy the batch about
    /// twice over. Reserves at most eight times `rest` bytes, in case the guess is wrong.
    pub(crate) fn reserve_for_rest(&mut self, rest: usize, line_bytes: usize) {
        let Some(last) = self.rows.last() else {
            return;
        };
        let tags = (last.tags.end - last.tags.start) as usize;
        let fields = (last.fields.end - last.fields.start) as usize;
        let row_bytes =
            size_of::<RowIndex>() + tags * size_of::<Tag>() + fields * size_of::<Field>();
        // A quarter more than the guess: lines vary in length, and falling just short of
        // the room needed costs a copy of the whole batch.
        let rows = rest / line_bytes.max(1);
        let rows = (rows + rows / 4).min(8 * rest / row_bytes);
        self.rows.reserve(rows);
        self.tags.reserve(rows * tags);
        self.fields.reserve(rows * fields);
    }

    /// The tables that have rows, in order of first appearance.
    pub fn tables(&self) -> &[LpStr<'a>] {
        &self.tables
    }

    /// Number of rows (points).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Number of field values over all rows.
    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// How many rows each table has, indexed like [`WriteBatch::tables`] (cheaper than
    /// counting [`WriteBatch::rows`], which builds each row's view).
    pub fn rows_per_table(&self) -> Vec<usize> {
        let mut counts = vec![0; self.tables.len()];
        for row in &self.rows {
            if let Some(count) = counts.get_mut(row.table as usize) {
                *count += 1;
            }
        }
        counts
    }

    /// The rows whose shape differs from the row just before them ([`Row::same_shape`]), in
    /// input order, the first row included: a check against a schema, whose outcome depends
    /// only on a row's shape, needs to see these alone. The rows skipped cost no view.
    pub fn shape_changes(&self) -> impl Iterator<Item = Row<'_, 'a>> + '_ {
        let mut previous: Option<&RowIndex> = None;
        self.rows.iter().filter_map(move |r| {
            let changed = previous.is_none_or(|p| !self.same_shape(p, r));
            previous = Some(r);
            changed.then(|| self.row(r))
        })
    }

    /// [`Row::same_shape`] on the rows' indexes.
    fn same_shape(&self, a: &RowIndex, b: &RowIndex) -> bool {
        a.shape() == b.shape()
            && (a.field_types != WIDE_TYPES || self.row(a).same_shape(&self.row(b)))
    }

    /// The rows in input order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = Row<'_, 'a>> + '_ {
        self.rows.iter().map(|r| self.row(r))
    }

    /// The rows of the table at `table_index`, in input order.
    pub fn table_rows(&self, table_index: usize) -> impl Iterator<Item = Row<'_, 'a>> + '_ {
        self.rows
            .iter()
            .filter(move |r| r.table as usize == table_index)
            .map(|r| self.row(r))
    }

    fn row(&self, r: &RowIndex) -> Row<'_, 'a> {
        Row {
            table_index: r.table as usize,
            table: self.tables[r.table as usize],
            tags: &self.tags[r.tags.start as usize..r.tags.end as usize],
            fields: &self.fields[r.fields.start as usize..r.fields.end as usize],
            time: r.time,
            line_number: r.line_number,
            key_set: r.key_set,
            offset: r.offset,
            field_types: r.field_types,
        }
    }

    /// The batch as canonical line protocol: one line per row, tags sorted by key, booleans
    /// as `true`/`false`, single spaces, nanosecond timestamps, `\n` endings. Names and
    /// numbers keep their original spelling, which parses to the same values.
    pub fn to_line_protocol(&self) -> String {
        let mut out = String::with_capacity(self.rows.len() * 64);
        self.write_line_protocol(&mut out);
        out
    }

    /// Appends the canonical line protocol of the batch to `out`.
    pub fn write_line_protocol(&self, out: &mut String) {
        let mut order: Vec<usize> = Vec::new();
        for row in self.rows() {
            out.push_str(row.table.raw());
            order.clear();
            order.extend(0..row.tags.len());
            if !row
                .tags
                .windows(2)
                .all(|w| w[0].key.as_str() <= w[1].key.as_str())
            {
                order.sort_by(|&a, &b| row.tags[a].key.as_str().cmp(&row.tags[b].key.as_str()));
            }
            for &i in &order {
                let tag = &row.tags[i];
                out.push(',');
                out.push_str(tag.key.raw());
                out.push('=');
                out.push_str(tag.value.raw());
            }
            for (i, field) in row.fields.iter().enumerate() {
                out.push(if i == 0 { ' ' } else { ',' });
                out.push_str(field.key.raw());
                out.push('=');
                match field.value {
                    FieldValue::Boolean(true) => out.push_str("true"),
                    FieldValue::Boolean(false) => out.push_str("false"),
                    _ => out.push_str(field.raw_value),
                }
            }
            let _ = writeln!(out, " {}", row.time);
        }
    }
}
