//! The catalog: databases → tables → columns, and the schema rules every accepted row obeys.
//!
//! A column never changes kind or type; new tags and fields may be added to a table at any
//! time (new tags extend the series key); `time` is reserved. Rows are checked here, after
//! the core has parsed them, so a rejected row leaves no trace: the database, table or
//! column it would have created is not created. The catalog is saved atomically (temporary
//! file, fsync, rename) whenever it changes, before the write that changed it is logged.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use linegate::lp::LineErrorKind;
use linegate::schema::{ColumnKind, FieldType, TableSchema};
use linegate::{LineError, Row, WriteBatch};
use serde::{Deserialize, Serialize};

use crate::buffer::TableKey;
use crate::fsutil;

/// The name of every table's last column, the time of each row.
pub const TIME_COLUMN: &str = "time";

/// One table: its columns (the core's [`TableSchema`]: tags in series-key order, then
/// fields in creation order), then `time`; with an id and the Arrow schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableDef {
    /// Never reused, so files and log entries of a dropped table cannot come back.
    pub id: u32,
    /// The measurement name.
    pub name: String,
    /// The columns and the rules rows must obey.
    #[serde(flatten)]
    pub columns: TableSchema,
    #[serde(skip)]
    schema: Option<SchemaRef>,
}

impl TableDef {
    fn new(id: u32, name: String) -> TableDef {
        let mut table = TableDef {
            id,
            name,
            columns: TableSchema::default(),
            schema: None,
        };
        table.rebuild_schema();
        table
    }

    /// Rebuilds the Arrow schema after loading or a change.
    fn rebuild_schema(&mut self) {
        let tags = self.columns.tags();
        let fields = self.columns.fields();
        let mut columns: Vec<ArrowField> = Vec::with_capacity(self.columns.len() + 1);
        columns.extend(
            tags.iter().map(|t| {
                ArrowField::new(t, DataType::Utf8, true).with_metadata(column_type("tag"))
            }),
        );
        columns.extend(fields.iter().map(|(name, ty)| {
            let kind = match ty {
                FieldType::Float => "field::float",
                FieldType::Integer => "field::integer",
                FieldType::UInteger => "field::uinteger",
                FieldType::String => "field::string",
                FieldType::Boolean => "field::boolean",
            };
            ArrowField::new(name, arrow_type(*ty), true).with_metadata(column_type(kind))
        }));
        columns.push(
            ArrowField::new(TIME_COLUMN, time_type(), false)
                .with_metadata(column_type("timestamp")),
        );
        self.schema = Some(Arc::new(Schema::new(columns)));
    }

    /// The kind of column `name` and its index in [`TableDef::schema`].
    pub fn column(&self, name: &str) -> Option<(ColumnKind, usize)> {
        self.columns.column(name)
    }

    /// The Arrow schema: tags (Utf8), fields, then `time` (nanoseconds, UTC).
    pub fn schema(&self) -> SchemaRef {
        self.schema
            .clone()
            .expect("schema is built by rebuild_schema")
    }
}

/// A column's `iox::column::type` metadata, as InfluxDB 3 marks its columns: Flight clients
/// (influxdb3-js's `queryPoints`) tell tags from typed fields by it.
fn column_type(kind: &str) -> std::collections::HashMap<String, String> {
    std::collections::HashMap::from([(
        "iox::column::type".to_owned(),
        format!("iox::column_type::{kind}"),
    )])
}

/// The Arrow type a field column is stored as.
pub fn arrow_type(ty: FieldType) -> DataType {
    match ty {
        FieldType::Float => DataType::Float64,
        FieldType::Integer => DataType::Int64,
        FieldType::UInteger => DataType::UInt64,
        FieldType::String => DataType::Utf8,
        FieldType::Boolean => DataType::Boolean,
    }
}

/// The Arrow type of the `time` column.
pub fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, None)
}

/// One database and its tables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseDef {
    /// Never reused: a database dropped and created again is a new one.
    pub id: u32,
    /// The name clients use (`db` or `db/rp`).
    pub name: String,
    /// Tables by name.
    pub tables: BTreeMap<String, Arc<TableDef>>,
    /// How long points are kept (nanoseconds): older ones are refused at write, hidden from
    /// queries and deleted. `None`: forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<i64>,
    /// The shard-group duration InfluxQL's retention-policy statements gave (nanoseconds),
    /// shown by `SHOW RETENTION POLICIES`; linegate's files are laid out by day whatever it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_duration: Option<i64>,
}

impl DatabaseDef {
    /// The oldest time still kept at wall-clock time `now`, if points expire.
    pub fn retention_cutoff(&self, now: i64) -> Option<i64> {
        self.retention.map(|period| now.saturating_sub(period))
    }
}

/// Parses a duration as InfluxDB writes them (`30d`, `1h30m`, `500ms`, `2w`) into
/// nanoseconds; `None` if it is not one or is not positive.
pub fn parse_duration(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let value: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let nanos: i64 = match &rest[..unit] {
            "ns" => 1,
            "u" | "us" | "µ" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "w" => 604_800_000_000_000,
            _ => return None,
        };
        total = total.checked_add(value.checked_mul(nanos)?)?;
        rest = &rest[unit..];
    }
    (total > 0).then_some(total)
}

/// A duration in the largest unit that holds it whole (`30d`, `90m`, `4s`).
pub fn format_duration(nanos: i64) -> String {
    const UNITS: [(&str, i64); 7] = [
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ];
    let (unit, size) = UNITS
        .into_iter()
        .find(|&(_, size)| nanos % size == 0)
        .unwrap_or(("ns", 1));
    format!("{}{unit}", nanos / size)
}

/// A v1 database and retention policy mapped to a database of the store (InfluxDB's DBRP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dbrp {
    /// The v1 database.
    pub db: String,
    /// The v1 retention policy.
    pub rp: String,
    /// The database writes and queries through the pair reach.
    pub target: String,
}

/// The schema of everything stored.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Catalog {
    next_id: u32,
    databases: BTreeMap<String, DatabaseDef>,
    /// DBRP mappings by the name the pair maps to without one ([`linegate::v1_database`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    dbrps: BTreeMap<String, Dbrp>,
    #[serde(skip)]
    path: PathBuf,
    /// The most tags and fields a table may have (a setting, not saved).
    #[serde(skip)]
    max_columns: usize,
}

/// InfluxDB 3 Core's limit of tags and fields per table.
pub const DEFAULT_MAX_COLUMNS: usize = 500;

/// The outcome of checking a batch against the catalog.
#[derive(Debug, Default)]
pub struct Admitted {
    /// The database's id.
    pub database_id: u32,
    /// For each table of the batch (by its index in [`WriteBatch::tables`]), its definition
    /// after the batch's changes.
    pub tables: Vec<Option<Arc<TableDef>>>,
    /// Rows (by index) that break the schema, in input order.
    pub rejected_rows: Vec<usize>,
    /// Their errors, in the same order.
    pub errors: Vec<LineError>,
}

impl Catalog {
    /// Loads the catalog at `path`, or starts an empty one if there is no file yet.
    pub fn open(path: &Path) -> io::Result<Catalog> {
        let mut catalog: Catalog = fsutil::read_json_or_default(path)?;
        catalog.path = path.to_owned();
        catalog.max_columns = DEFAULT_MAX_COLUMNS;
        for db in catalog.databases.values_mut() {
            for table in db.tables.values_mut() {
                Arc::make_mut(table).rebuild_schema();
            }
        }
        Ok(catalog)
    }

    /// Sets the most tags and fields a table may have; tables that already have more keep
    /// them, and take no new column.
    pub fn set_max_columns(&mut self, limit: usize) {
        self.max_columns = limit;
    }

    /// Writes the catalog durably (temporary file, fsync, rename, fsync of the directory).
    pub fn save(&self) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        fsutil::write_atomic(&self.path, &bytes)
    }

    /// The database called `name`.
    pub fn database(&self, name: &str) -> Option<&DatabaseDef> {
        self.databases.get(name)
    }

    /// The database with this id.
    pub fn database_by_id(&self, id: u32) -> Option<&DatabaseDef> {
        self.databases.values().find(|db| db.id == id)
    }

    /// All databases, by name.
    pub fn databases(&self) -> impl Iterator<Item = &DatabaseDef> {
        self.databases.values()
    }

    /// Creates an empty database keeping points for `retention` ns (forever if `None`);
    /// `false` if it already exists. Saves on change.
    pub fn create_database(&mut self, name: &str, retention: Option<i64>) -> io::Result<bool> {
        if self.databases.contains_key(name) {
            return Ok(false);
        }
        self.insert_database(name).retention = retention;
        self.save()?;
        Ok(true)
    }

    fn insert_database(&mut self, name: &str) -> &mut DatabaseDef {
        self.next_id += 1;
        let id = self.next_id;
        self.databases
            .entry(name.to_owned())
            .or_insert_with(|| DatabaseDef {
                id,
                name: name.to_owned(),
                tables: BTreeMap::new(),
                retention: None,
                shard_duration: None,
            })
    }

    /// Sets how long database `name` keeps points (`None`: forever) and, if given, the
    /// shard-group duration it shows; `false` if there is no such database. Saves.
    pub fn set_retention(
        &mut self,
        name: &str,
        retention: Option<i64>,
        shard_duration: Option<i64>,
    ) -> io::Result<bool> {
        let Some(db) = self.databases.get_mut(name) else {
            return Ok(false);
        };
        db.retention = retention;
        if shard_duration.is_some() {
            db.shard_duration = shard_duration;
        }
        self.save()?;
        Ok(true)
    }

    /// Drops a database; returns it so its data can be removed. Saves on change.
    pub fn delete_database(&mut self, name: &str) -> io::Result<Option<DatabaseDef>> {
        let removed = self.databases.remove(name);
        if removed.is_some() {
            self.save()?;
        }
        Ok(removed)
    }

    /// The database a request's database name reaches: the target of a DBRP mapping of that
    /// name, or the name itself.
    pub fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        self.dbrps.get(name).map_or(name, |m| m.target.as_str())
    }

    /// Maps the v1 pair (`db`, `rp`) to the existing database `target`, replacing an earlier
    /// mapping of the pair. Saves.
    pub fn create_dbrp(
        &mut self,
        db: &str,
        rp: &str,
        target: &str,
    ) -> io::Result<Result<(), String>> {
        if !self.databases.contains_key(target) {
            return Ok(Err(format!("database not found: {target}")));
        }
        let mapping = Dbrp {
            db: db.to_owned(),
            // As the write and query mapping reads it.
            rp: rp.to_lowercase(),
            target: target.to_owned(),
        };
        self.dbrps
            .insert(linegate::v1_database(db, Some(rp)), mapping);
        self.save()?;
        Ok(Ok(()))
    }

    /// Removes the mapping of (`db`, `rp`); `false` if there is none. Saves on change.
    pub fn delete_dbrp(&mut self, db: &str, rp: &str) -> io::Result<bool> {
        if self
            .dbrps
            .remove(&linegate::v1_database(db, Some(rp)))
            .is_none()
        {
            return Ok(false);
        }
        self.save()?;
        Ok(true)
    }

    /// Every DBRP mapping.
    pub fn dbrps(&self) -> impl Iterator<Item = &Dbrp> {
        self.dbrps.values()
    }

    /// Drops table `table` of database `database`; (database id, table id) so its data can
    /// be removed, `None` if there is no such table. Ids are never reused, so rows still
    /// tagged with the old id are recognized as gone. Saves on change.
    pub fn delete_table(&mut self, database: &str, table: &str) -> io::Result<Option<TableKey>> {
        let Some(db) = self.databases.get_mut(database) else {
            return Ok(None);
        };
        let Some(def) = db.tables.remove(table) else {
            return Ok(None);
        };
        let key = (db.id, def.id);
        self.save()?;
        Ok(Some(key))
    }

    /// The admission of `batch` when every row fits database `database`'s tables as they
    /// are (the steady state); `None` when something would change or a row conflicts.
    pub fn admit_unchanged(&self, database: &str, batch: &WriteBatch<'_>) -> Option<Admitted> {
        check_existing(self.databases.get(database)?, batch)
    }

    /// Checks every row of `batch` against database `database`, creating what the accepted
    /// rows need (the database itself on first write, tables, columns) and saving the
    /// catalog if anything changed.
    ///
    /// With `all_or_nothing`, the first conflicting row fails the whole batch and nothing is
    /// changed; otherwise conflicting rows are listed in [`Admitted`] and skipped.
    pub fn admit(
        &mut self,
        database: &str,
        body: &str,
        batch: &WriteBatch<'_>,
        all_or_nothing: bool,
    ) -> Result<Admitted, AdmitError> {
        // Steady state: every column already exists with the right type, nothing to change.
        if let Some(db) = self.databases.get(database) {
            if let Some(admitted) = check_existing(db, batch) {
                return Ok(admitted);
            }
        }
        let mut db = match self.databases.get(database) {
            Some(db) => db.clone(),
            None => {
                let id = self.next_id + 1;
                DatabaseDef {
                    id,
                    name: database.to_owned(),
                    tables: BTreeMap::new(),
                    retention: None,
                    shard_duration: None,
                }
            }
        };
        let mut next_id = self.next_id.max(db.id);
        let mut admitted = Admitted {
            database_id: db.id,
            tables: vec![None; batch.tables().len()],
            ..Admitted::default()
        };
        for (index, row) in batch.rows().enumerate() {
            match admit_row(&mut db, &mut next_id, &row, body, self.max_columns) {
                Ok(()) => {}
                Err(error) if all_or_nothing => return Err(AdmitError::Line(error)),
                Err(error) => {
                    admitted.rejected_rows.push(index);
                    admitted.errors.push(error);
                }
            }
        }
        if admitted.rejected_rows.len() == batch.len() && !self.databases.contains_key(database) {
            // Nothing was accepted: no trace, not even the database.
            return Ok(admitted);
        }
        for (i, name) in batch.tables().iter().enumerate() {
            admitted.tables[i] = db.tables.get(name.as_str().as_ref()).cloned();
        }
        self.next_id = next_id;
        self.databases.insert(database.to_owned(), db);
        self.save().map_err(AdmitError::Io)?;
        Ok(admitted)
    }
}

/// Why [`Catalog::admit`] refused a batch.
#[derive(Debug)]
pub enum AdmitError {
    /// A row breaks the schema in an all-or-nothing write.
    Line(LineError),
    /// The catalog could not be saved.
    Io(io::Error),
}

/// The read-only check: `Some` when every row fits the existing tables as they are.
fn check_existing(db: &DatabaseDef, batch: &WriteBatch<'_>) -> Option<Admitted> {
    let mut tables = Vec::with_capacity(batch.tables().len());
    for name in batch.tables() {
        tables.push(Some(db.tables.get(name.as_str().as_ref())?.clone()));
    }
    for row in batch.shape_changes() {
        let table = tables[row.table_index].as_ref()?;
        if !table.columns.fits(&row) {
            return None;
        }
    }
    Some(Admitted {
        database_id: db.id,
        tables,
        ..Admitted::default()
    })
}

/// Checks one row and adds what it needs; on a conflict nothing of the row is kept.
fn admit_row(
    db: &mut DatabaseDef,
    next_id: &mut u32,
    row: &Row<'_, '_>,
    body: &str,
    max_columns: usize,
) -> Result<(), LineError> {
    let table_name = row.table.as_str();
    if let Some(table) = db.tables.get(table_name.as_ref()) {
        if table.columns.fits(row) {
            return Ok(());
        }
    }
    let (mut changed, id) = match db.tables.get(table_name.as_ref()) {
        Some(table) => ((**table).clone(), *next_id),
        None => (
            TableDef::new(*next_id + 1, table_name.clone().into_owned()),
            *next_id + 1,
        ),
    };
    changed
        .columns
        .admit(row)
        .map_err(|conflict| conflict.line_error(&table_name, body, row))?;
    // Every new column costs every later write to the table; a hostile line of 100,000
    // tags must not make a table of 100,000 columns.
    if changed.columns.len() > max_columns {
        let kind = LineErrorKind::TooManyColumns {
            table: table_name.into_owned(),
            limit: max_columns,
        };
        return Err(LineError::locate(
            body,
            row.offset,
            row.line_number,
            row.offset,
            kind,
        ));
    }
    changed.rebuild_schema();
    *next_id = id;
    db.tables.insert(table_name.into_owned(), Arc::new(changed));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_influxdb_writes_them() {
        let h = 3_600_000_000_000;
        assert_eq!(parse_duration("30d"), Some(30 * 24 * h));
        assert_eq!(parse_duration("1h30m"), Some(h + h / 2));
        assert_eq!(parse_duration("2w"), Some(14 * 24 * h));
        assert_eq!(parse_duration("500ms"), Some(500_000_000));
        for bad in ["", "d", "30", "30x", "0s", "-1d", "1.5h", "99999999999w"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(30 * 24 * h), "30d");
        assert_eq!(format_duration(h + h / 2), "90m");
        assert_eq!(format_duration(4_000_000_000), "4s");
    }
    use linegate::{validate, Precision};

    fn catalog() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&dir.path().join("catalog.json")).unwrap();
        (dir, catalog)
    }

    fn admit(
        catalog: &mut Catalog,
        body: &str,
        all_or_nothing: bool,
    ) -> Result<Admitted, AdmitError> {
        let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, true).unwrap();
        catalog.admit("db", body, &accepted.batch, all_or_nothing)
    }

    #[test]
    fn creates_tables_and_columns_in_series_key_order() {
        let (_dir, mut catalog) = catalog();
        admit(&mut catalog, "cpu,host=a,region=x usage=1,n=2i 1\n", true).unwrap();
        admit(&mut catalog, "cpu,dc=1 usage=2 2\n", true).unwrap();
        let table = &catalog.database("db").unwrap().tables["cpu"];
        assert_eq!(table.columns.tags(), ["host", "region", "dc"]);
        assert_eq!(
            table.columns.fields(),
            [
                ("usage".to_owned(), FieldType::Float),
                ("n".to_owned(), FieldType::Integer)
            ]
        );
        let names: Vec<_> = table
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["host", "region", "dc", "usage", "n", "time"]);
    }

    #[test]
    fn type_conflict_across_requests_is_a_located_line_error() {
        let (_dir, mut catalog) = catalog();
        admit(&mut catalog, "m f=1i\n", true).unwrap();
        let Err(AdmitError::Line(error)) = admit(&mut catalog, "m f=2i\nm g=1,f=\"x\"\n", true)
        else {
            panic!("expected a conflict")
        };
        assert_eq!((error.line, error.column), (2, 7));
        assert_eq!(
            error.kind.to_string(),
            "schema conflict: column 'f' of table 'm' is an integer field, this line writes a string field"
        );
        // All-or-nothing: `g` from the failed batch was not added.
        assert_eq!(
            catalog.database("db").unwrap().tables["m"]
                .columns
                .fields()
                .len(),
            1
        );
    }

    #[test]
    fn tag_and_field_may_not_share_a_name_across_lines() {
        let (_dir, mut catalog) = catalog();
        admit(&mut catalog, "m,a=1 f=1\n", true).unwrap();
        let admitted = admit(&mut catalog, "m a=2\nm f=3\n", false).unwrap();
        assert_eq!(admitted.rejected_rows, [0]);
        assert!(admitted.errors[0].to_string().contains("is a tag"));
    }

    #[test]
    fn partial_write_keeps_good_rows_and_no_trace_of_bad_ones() {
        let (_dir, mut catalog) = catalog();
        admit(&mut catalog, "m f=1\n", true).unwrap();
        let admitted = admit(&mut catalog, "m f=1i,new=1\nm f=2\n", false).unwrap();
        assert_eq!(admitted.rejected_rows, [0]);
        let table = &catalog.database("db").unwrap().tables["m"];
        assert!(table.column("new").is_none(), "rejected row added a column");
    }

    #[test]
    fn rejected_first_write_creates_no_database() {
        let (_dir, mut catalog) = catalog();
        let body = "m f=1\nm f=1i\n";
        let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, false).unwrap();
        // Both rows in one batch: the first defines f as float, the second conflicts.
        let admitted = catalog
            .admit("fresh", body, &accepted.batch, false)
            .unwrap();
        assert_eq!(admitted.rejected_rows, [1]);
        assert!(catalog.database("fresh").is_some());
        let body = "m f=1i\n";
        let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, false).unwrap();
        let Err(AdmitError::Line(_)) = catalog.admit("fresh", body, &accepted.batch, true) else {
            panic!()
        };
    }

    #[test]
    fn saved_catalog_reloads_with_ids() {
        let (dir, mut catalog) = catalog();
        admit(&mut catalog, "m,t=1 f=1\n", true).unwrap();
        let reloaded = Catalog::open(&dir.path().join("catalog.json")).unwrap();
        let db = reloaded.database("db").unwrap();
        assert_eq!(db.id, catalog.database("db").unwrap().id);
        assert_eq!(
            db.tables["m"].column("f"),
            Some((ColumnKind::Field(FieldType::Float), 1))
        );
        let ids: Vec<u32> = vec![db.id, db.tables["m"].id];
        assert_eq!(ids, [1, 2]);
    }
}
