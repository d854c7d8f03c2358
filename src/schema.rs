//! The schema rules every stored row obeys, in one place for the server's catalog and the
//! browser page: a column of a table is a tag or a field of one type, forever; new tags and
//! fields may be added at any time; a row that breaks a rule adds nothing.
//!
//! ```
//! use linegate::schema::{ColumnKind, FieldType, TableSchema};
//! use linegate::{validate, Precision};
//!
//! let mut table = TableSchema::default();
//! let first = validate(b"cpu,host=a usage=1i\n", Precision::Nanosecond, 0, true).unwrap();
//! assert_eq!(table.admit(&first.batch.rows().next().unwrap()), Ok(true));
//! assert_eq!(table.column("usage"), Some((ColumnKind::Field(FieldType::Integer), 1)));
//!
//! let later = validate(b"cpu,host=b usage=0.5,idle=2\n", Precision::Nanosecond, 0, true).unwrap();
//! let conflict = table.admit(&later.batch.rows().next().unwrap()).unwrap_err();
//! assert_eq!(conflict.column, "usage");
//! assert_eq!(conflict.existing, ColumnKind::Field(FieldType::Integer));
//! assert_eq!(conflict.found, ColumnKind::Field(FieldType::Float));
//! assert_eq!(table.column("idle"), None); // the row added nothing
//! ```

use std::collections::HashMap;

use crate::batch::Row;
use crate::lp::{Field, FieldValue, LineError, LineErrorKind, SchemaConflict, Tag};

/// The type of a field column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum FieldType {
    /// 64-bit float.
    Float,
    /// Signed 64-bit integer (`1i`).
    Integer,
    /// Unsigned 64-bit integer (`1u`).
    UInteger,
    /// UTF-8 string.
    String,
    /// Boolean.
    Boolean,
}

impl FieldType {
    /// Every type, in the order InfluxDB lists them.
    pub const ALL: [FieldType; 5] = [
        FieldType::Float,
        FieldType::Integer,
        FieldType::UInteger,
        FieldType::String,
        FieldType::Boolean,
    ];

    /// The type of a parsed value.
    pub const fn of(value: &FieldValue<'_>) -> FieldType {
        match value {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::UInteger(_) => FieldType::UInteger,
            FieldValue::String(_) => FieldType::String,
            FieldValue::Boolean(_) => FieldType::Boolean,
        }
    }

    /// The name users see (`SHOW FIELD KEYS`): `float`, `integer`, `unsigned`, `string`,
    /// `boolean`.
    pub const fn name(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::UInteger => "unsigned",
            FieldType::String => "string",
            FieldType::Boolean => "boolean",
        }
    }

    /// The type called [`FieldType::name`].
    pub fn from_name(name: &str) -> Option<FieldType> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// What a column of a table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// A tag (part of the series key).
    Tag,
    /// A field of this type.
    Field(FieldType),
}

impl ColumnKind {
    /// `tag` or the field type's name.
    pub const fn name(self) -> &'static str {
        match self {
            ColumnKind::Tag => "tag",
            ColumnKind::Field(t) => t.name(),
        }
    }

    /// As error messages say it: `a tag`, `an integer field`.
    pub const fn describe(self) -> &'static str {
        match self {
            ColumnKind::Tag => "a tag",
            ColumnKind::Field(FieldType::Float) => "a float field",
            ColumnKind::Field(FieldType::Integer) => "an integer field",
            ColumnKind::Field(FieldType::UInteger) => "an unsigned field",
            ColumnKind::Field(FieldType::String) => "a string field",
            ColumnKind::Field(FieldType::Boolean) => "a boolean field",
        }
    }
}

/// A row that writes a column with another kind or type than its table has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnConflict<'a> {
    /// The column, unescaped.
    pub column: String,
    /// The column's key as written in the body (its position locates the error).
    pub key: &'a str,
    /// What the table has.
    pub existing: ColumnKind,
    /// What the row writes.
    pub found: ColumnKind,
}

impl ColumnConflict<'_> {
    /// The line error for this conflict in `row` of table `table`, located in `body` (the
    /// text the row was parsed from).
    pub fn line_error(&self, table: &str, body: &str, row: &Row<'_, '_>) -> LineError {
        let pos = (self.key.as_ptr() as usize).saturating_sub(body.as_ptr() as usize);
        LineError::locate(
            body,
            row.offset,
            row.line_number,
            pos,
            LineErrorKind::SchemaConflict(Box::new(SchemaConflict {
                table: table.to_owned(),
                column: self.column.clone(),
                existing: self.existing.describe().to_owned(),
                found: self.found.describe().to_owned(),
            })),
        )
    }
}

/// The columns of one table: tags in series-key order (the order they were first
/// written), then fields in the order they were first written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(try_from = "Columns")
)]
pub struct TableSchema {
    tags: Vec<String>,
    fields: Vec<(String, FieldType)>,
    #[cfg_attr(feature = "serde", serde(skip))]
    index: HashMap<String, (ColumnKind, usize)>,
}

/// A [`TableSchema`] as stored, before its rules are checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct Columns {
    tags: Vec<String>,
    fields: Vec<(String, FieldType)>,
}

#[cfg(feature = "serde")]
impl TryFrom<Columns> for TableSchema {
    type Error = String;

    fn try_from(columns: Columns) -> Result<TableSchema, String> {
        TableSchema::from_columns(columns.tags, columns.fields)
    }
}

impl TableSchema {
    /// A schema with these columns; refused when a name appears twice.
    pub fn from_columns(
        tags: Vec<String>,
        fields: Vec<(String, FieldType)>,
    ) -> Result<TableSchema, String> {
        let mut schema = TableSchema {
            tags,
            fields,
            index: HashMap::new(),
        };
        schema.reindex();
        if schema.index.len() != schema.tags.len() + schema.fields.len() {
            return Err("a column name appears twice".into());
        }
        Ok(schema)
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (i, tag) in self.tags.iter().enumerate() {
            self.index.insert(tag.clone(), (ColumnKind::Tag, i));
        }
        let tags = self.tags.len();
        for (i, (name, ty)) in self.fields.iter().enumerate() {
            self.index
                .insert(name.clone(), (ColumnKind::Field(*ty), tags + i));
        }
    }

    /// Tag columns, in series-key order.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Field columns and their types, in the order they were first written.
    pub fn fields(&self) -> &[(String, FieldType)] {
        &self.fields
    }

    /// Number of columns (tags and fields; `time` is not counted).
    pub fn len(&self) -> usize {
        self.tags.len() + self.fields.len()
    }

    /// Whether the table has no column yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kind of column `name` and its position: tags first, then fields.
    pub fn column(&self, name: &str) -> Option<(ColumnKind, usize)> {
        self.index.get(name).copied()
    }

    /// Whether `row` fits the table as it is: every column exists with the row's kind.
    pub fn fits(&self, row: &Row<'_, '_>) -> bool {
        row.tags
            .iter()
            .all(|t| self.kind_of(&t.key.as_str()) == Some(ColumnKind::Tag))
            && row.fields.iter().all(|f| {
                self.kind_of(&f.key.as_str()) == Some(ColumnKind::Field(FieldType::of(&f.value)))
            })
    }

    fn kind_of(&self, name: &str) -> Option<ColumnKind> {
        self.index.get(name).map(|&(kind, _)| kind)
    }

    /// Checks `row` and adds the columns it brings. `Ok(true)` when columns were added;
    /// on a conflict nothing of the row is kept. (A row never names a column twice: the
    /// parser refuses duplicate keys and a tag and field of one name.)
    pub fn admit<'a>(&mut self, row: &Row<'_, 'a>) -> Result<bool, ColumnConflict<'a>> {
        self.admit_columns(row.tags, row.fields)
    }

    /// [`Self::admit`] for a row's tags and fields as they are, such as a parsed
    /// [`crate::lp::Line`]'s before any batch holds them.
    pub fn admit_columns<'a>(
        &mut self,
        tags: &[Tag<'a>],
        fields: &[Field<'a>],
    ) -> Result<bool, ColumnConflict<'a>> {
        let mut new_tags: Vec<String> = Vec::new();
        let mut new_fields: Vec<(String, FieldType)> = Vec::new();
        let conflict = |key: &crate::lp::LpStr<'a>, existing, found| ColumnConflict {
            column: key.as_str().into_owned(),
            key: key.raw(),
            existing,
            found,
        };
        for tag in tags {
            let name = tag.key.as_str();
            match self.kind_of(&name) {
                Some(ColumnKind::Tag) => {}
                Some(kind) => return Err(conflict(&tag.key, kind, ColumnKind::Tag)),
                None => new_tags.push(name.into_owned()),
            }
        }
        for field in fields {
            let name = field.key.as_str();
            let found = ColumnKind::Field(FieldType::of(&field.value));
            match self.kind_of(&name) {
                Some(kind) if kind == found => {}
                Some(kind) => return Err(conflict(&field.key, kind, found)),
                None => new_fields.push((name.into_owned(), FieldType::of(&field.value))),
            }
        }
        if new_tags.is_empty() && new_fields.is_empty() {
            return Ok(false);
        }
        self.tags.extend(new_tags);
        self.fields.extend(new_fields);
        self.reindex();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{validate, Precision};

    fn admit_all(table: &mut TableSchema, body: &str) -> Vec<(u32, String, &'static str)> {
        let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, true).unwrap();
        accepted
            .batch
            .rows()
            .filter_map(|row| {
                table.admit(&row).err().map(|c| {
                    let error = c.line_error("t", body, &row);
                    (error.line, c.column, c.found.name())
                })
            })
            .collect()
    }

    #[test]
    fn kinds_and_types_never_change_and_conflicts_add_nothing() {
        let mut table = TableSchema::default();
        let conflicts = admit_all(
            &mut table,
            "t,a=1 f=1i\nt f=2i,g=true\nt,f=x h=1\nt a=1\nt,new=1 f=\"s\"\nt,b=1 u=1u\n",
        );
        assert_eq!(
            conflicts,
            [
                (3, "f".to_owned(), "tag"),
                (4, "a".to_owned(), "float"),
                (5, "f".to_owned(), "string"),
            ]
        );
        assert_eq!(table.tags(), ["a", "b"]);
        assert_eq!(
            table.fields(),
            [
                ("f".to_owned(), FieldType::Integer),
                ("g".to_owned(), FieldType::Boolean),
                ("u".to_owned(), FieldType::UInteger),
            ]
        );
        assert_eq!(
            table.column("u"),
            Some((ColumnKind::Field(FieldType::UInteger), 4))
        );
        assert_eq!(table.column("h"), None);
        assert_eq!(table.column("new"), None);
    }

    #[test]
    fn conflicts_are_located_at_the_key() {
        let mut table = TableSchema::default();
        let body = "t f=1i\n\nt g=1,f=\"x\"\n";
        let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, true).unwrap();
        let rows: Vec<_> = accepted.batch.rows().collect();
        table.admit(&rows[0]).unwrap();
        let error = table
            .admit(&rows[1])
            .unwrap_err()
            .line_error("t", body, &rows[1]);
        assert_eq!((error.line, error.column), (3, 7));
        assert_eq!(
            error.kind.to_string(),
            "schema conflict: column 'f' of table 't' is an integer field, this line writes a string field"
        );
    }

    #[test]
    fn fits_only_when_nothing_changes() {
        let mut table = TableSchema::default();
        admit_all(&mut table, "t,a=1 f=1\n");
        let fits = |body: &str| {
            let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, true).unwrap();
            let row = accepted.batch.rows().next().unwrap();
            table.fits(&row)
        };
        assert!(fits("t,a=2 f=3\n"));
        assert!(fits("t f=3\n"));
        assert!(!fits("t,b=2 f=3\n"));
        assert!(!fits("t f=3i\n"));
    }

    #[test]
    fn names_and_duplicates() {
        for ty in FieldType::ALL {
            assert_eq!(FieldType::from_name(ty.name()), Some(ty));
        }
        assert_eq!(ColumnKind::Tag.describe(), "a tag");
        assert!(
            TableSchema::from_columns(vec!["a".into()], vec![("a".into(), FieldType::Float)])
                .is_err()
        );
    }
}
