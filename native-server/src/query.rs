//! Queries: SQL with DataFusion over a database's Parquet files and buffered rows, answered
//! like InfluxDB 3's `/api/v3/query_sql` (JSON array, JSON lines, CSV or a pretty table).
//!
//! A query reads and nothing else, whatever the token: the statement must be a query (a
//! `SELECT` without `INTO`, `EXPLAIN` of one, `SHOW TABLES`, `SHOW COLUMNS`), the plan is checked
//! again with DDL, DML and statements disallowed, the session sees only the requested
//! database's tables and the store's own object store (no local file system, no spilling to
//! disk). Only the admin API changes anything.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use datafusion::common::{ParamValues, ScalarValue, TableReference};
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{col, lit};
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{self, SetExpr, Statement};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use url::Url;

use linegate::QueryFormat;

use crate::catalog::TIME_COLUMN;
use crate::last;
use crate::store::{Store, TableSource};
use crate::table::{MissingFile, StoredTable};

/// Why a query failed.
#[derive(Debug)]
pub enum QueryError {
    /// No such database (404).
    DatabaseNotFound(String),
    /// The query could not be planned or run (400).
    Invalid(String),
    /// The statement would change something or touch a file (400); names what it is.
    NotReadOnly(String),
    /// A persisted file cannot be read (500): rows would be missing, so no answer is given.
    Storage(String),
    /// The token may not do what the statement does (403).
    Forbidden(String),
}

impl QueryError {
    /// The message of the `{"error": …}` body.
    pub fn message(&self) -> String {
        match self {
            QueryError::DatabaseNotFound(db) => format!("database not found: {db}"),
            QueryError::Invalid(message)
            | QueryError::Storage(message)
            | QueryError::Forbidden(message) => message.clone(),
            QueryError::NotReadOnly(what) => {
                format!("only read-only queries are allowed: {what}")
            }
        }
    }
}

/// Parses `sql` as one DataFusion statement and refuses anything but a read-only query.
pub fn parse_read_only(sql: &str) -> Result<DfStatement, QueryError> {
    let mut statements =
        DFParser::parse_sql(sql).map_err(|e| QueryError::Invalid(e.to_string()))?;
    let statement = match (statements.pop_front(), statements.is_empty()) {
        (Some(statement), true) => statement,
        _ => {
            return Err(QueryError::Invalid(
                "a query is exactly one statement".into(),
            ))
        }
    };
    refuse_writes(&statement)?;
    Ok(statement)
}

/// `Ok` for the statements that only read; otherwise the name of what the statement does.
fn refuse_writes(statement: &DfStatement) -> Result<(), QueryError> {
    let refused = |what: &str| Err(QueryError::NotReadOnly(what.to_owned()));
    match statement {
        DfStatement::Statement(statement) => match statement.as_ref() {
            Statement::Query(query) => refuse_select_into(query),
            Statement::Explain { statement, .. } => {
                refuse_writes(&DfStatement::Statement(statement.clone()))
            }
            Statement::ShowTables { .. } | Statement::ShowColumns { .. } => Ok(()),
            other => refused(&statement_name(other)),
        },
        DfStatement::Explain(explain) => refuse_writes(&explain.statement),
        DfStatement::CreateExternalTable(_) => refused("CREATE EXTERNAL TABLE"),
        DfStatement::CopyTo(_) => refused("COPY"),
        DfStatement::Reset(_) => refused("RESET"),
    }
}

/// `SELECT … INTO` creates a table; it may hide in any branch of a set operation.
fn refuse_select_into(query: &ast::Query) -> Result<(), QueryError> {
    fn check(body: &SetExpr) -> Result<(), QueryError> {
        match body {
            SetExpr::Select(select) if select.into.is_some() => {
                Err(QueryError::NotReadOnly("SELECT INTO".into()))
            }
            SetExpr::Query(query) => check(&query.body),
            SetExpr::SetOperation { left, right, .. } => check(left).and(check(right)),
            SetExpr::Insert(_) => Err(QueryError::NotReadOnly("INSERT".into())),
            SetExpr::Update(_) => Err(QueryError::NotReadOnly("UPDATE".into())),
            SetExpr::Delete(_) => Err(QueryError::NotReadOnly("DELETE".into())),
            SetExpr::Merge(_) => Err(QueryError::NotReadOnly("MERGE".into())),
            _ => Ok(()),
        }
    }
    check(&query.body)
}

/// The keywords that name a refused statement, as a user would write them.
fn statement_name(statement: &Statement) -> String {
    match statement {
        Statement::Insert(_) => "INSERT".into(),
        Statement::Update { .. } => "UPDATE".into(),
        Statement::Delete(_) => "DELETE".into(),
        Statement::Merge { .. } => "MERGE".into(),
        Statement::Copy { .. } => "COPY".into(),
        Statement::CreateTable(_) => "CREATE TABLE".into(),
        Statement::CreateView { .. } => "CREATE VIEW".into(),
        Statement::Drop { object_type, .. } => format!("DROP {object_type}"),
        Statement::Truncate { .. } => "TRUNCATE".into(),
        Statement::Set(_) => "SET".into(),
        // Every other statement shows its kind as its first keywords.
        other => other
            .to_string()
            .split_whitespace()
            .take_while(|w| w.chars().all(|c| c.is_ascii_uppercase()))
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The catalog every database's tables are in, as InfluxDB 3 names it.
pub const CATALOG: &str = "public";
/// The schema every database's tables are in, as InfluxDB 3 names it.
pub const SCHEMA: &str = "iox";

/// The only object store a query can reach: the store's own, under [`crate::table::STORE_URL`].
#[derive(Debug)]
struct StoreOnly(Arc<dyn ObjectStore>);

impl ObjectStoreRegistry for StoreOnly {
    fn register_store(&self, _: &Url, _: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        // Nothing is ever added: a query cannot name a file system or a bucket.
        None
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if url.scheme() == "linegate" && url.host_str() == Some("store") {
            Ok(self.0.clone())
        } else {
            Err(datafusion::error::DataFusionError::Plan(format!(
                "queries read only the database's own tables, not {url}"
            )))
        }
    }
}

/// A session over nothing but the store's objects, with no disk to spill to.
fn session(store: &Store) -> Result<SessionContext, QueryError> {
    let runtime = RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(StoreOnly(store.objects().clone())))
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
        )
        .build_arc()
        .map_err(|e| QueryError::Invalid(e.to_string()))?;
    let config = SessionConfig::new()
        .with_information_schema(true)
        // InfluxDB 3's names, which Flight SQL clients list and qualify tables with.
        .with_default_catalog_and_schema(CATALOG, SCHEMA)
        .with_target_partitions(2);
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

/// Runs `sql` against database `database` with its placeholders bound to `params`, its
/// result batches coming as they are made, so an answer of any size streams in bounded
/// memory.
pub async fn stream(
    store: &Store,
    database: &str,
    sql: &str,
    params: ParamValues,
) -> Result<SendableRecordBatchStream, QueryError> {
    let (ctx, plan) = plan(store, database, sql).await?;
    let plan = plan.with_param_values(params).map_err(planning)?;
    let frame = ctx.execute_logical_plan(plan).await.map_err(planning)?;
    frame.execute_stream().await.map_err(planning)
}

/// Plans `sql`, a read-only statement, against database `database`: the session and the
/// plan, its placeholders (`$1`, `$name`, or `?` in order) still unbound.
pub async fn plan(
    store: &Store,
    database: &str,
    sql: &str,
) -> Result<(SessionContext, LogicalPlan), QueryError> {
    let mut statement = parse_read_only(sql)?;
    number_question_marks(&mut statement);
    let ctx = context(store, database)?;
    let state = ctx.state();
    let plan = state.statement_to_plan(statement).await.map_err(planning)?;
    // The plan is checked too, so nothing the statement check missed can write.
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(planning)?;
    Ok((ctx, plan))
}

/// JDBC and ODBC clients write placeholders as `?`; DataFusion numbers them (`$1`, `$2`, …)
/// in the order they appear.
fn number_question_marks(statement: &mut DfStatement) {
    let DfStatement::Statement(statement) = statement else {
        return;
    };
    let mut next = 0;
    let _ = ast::visit_expressions_mut(statement.as_mut(), |expr| {
        if let ast::Expr::Value(value) = expr {
            if let ast::Value::Placeholder(name) = &mut value.value {
                if name == "?" {
                    next += 1;
                    *name = format!("${next}");
                }
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

/// A read-only session in which each table of `database` is registered under its name,
/// its expired rows already hidden.
pub fn context(store: &Store, database: &str) -> Result<SessionContext, QueryError> {
    let sources = store
        .sources(database)
        .ok_or_else(|| QueryError::DatabaseNotFound(database.to_owned()))?;
    let ctx = session(store)?;
    for source in sources {
        let (name, cutoff) = (source.name.clone(), source.cutoff);
        let table = Arc::new(StoredTable::new(source, store.objects().clone()));
        register(&ctx, &name, table, cutoff)?;
    }
    Ok(ctx)
}

/// A read-only session in which table `table` of `database` is only its last rows (see
/// [`crate::last`]) and its buffered rows: what `last()` of every series needs, a row or
/// so per series. The last rows are made from the files on first use. `None` if there is
/// no such table.
pub async fn last_values_context(
    store: &Store,
    database: &str,
    table: &str,
) -> Result<Option<SessionContext>, QueryError> {
    let Some(found) = store.last_source(database, table) else {
        return Ok(None);
    };
    let source = found.source;
    let schema = source.schema.clone();
    let tag_count = source.tag_count;
    let rows = match found.rows {
        Some(rows) => rows,
        None => {
            // Made from the files alone: the buffer is read as it is below.
            let files = TableSource {
                buffers: Vec::new(),
                ..source.clone()
            };
            let frame = session(store)?
                .read_table(Arc::new(StoredTable::new(files, store.objects().clone())))
                .and_then(|frame| frame.with_column(last::RANK, lit(0u64)))
                .map_err(planning)?;
            let rows = Arc::new(
                last::reduce(frame, &schema, tag_count)
                    .await
                    .map_err(planning)?,
            );
            store.keep_last(found.key, rows.clone(), found.changes);
            rows
        }
    };
    let adapt = |b: &RecordBatch| {
        crate::buffer::adapt(b, &schema).map_err(|e| QueryError::Invalid(e.to_string()))
    };
    let repeats = source.buffers.iter().any(|b| b.repeats);
    if repeats && source.buffers.len() > 1 {
        // Several generations and a repeated point: every batch in write order (each
        // generation's sealed batches, then its recent ones), reduced together.
        let mut sources = vec![adapt(&rows)?];
        for buffer in &source.buffers {
            for batch in buffer.sealed().iter().chain(buffer.recent()) {
                sources.push(adapt(batch)?);
            }
        }
        let rows = reduce_sources(store, &schema, tag_count, sources).await?;
        return register_last_rows(store, &source, vec![rows]).map(Some);
    }
    // The sealed buffer batches: the last rows a previous query kept for a prefix of them,
    // with the batches sealed since.
    let sealed: Vec<&RecordBatch> = source.buffers.iter().flat_map(|b| b.sealed()).collect();
    let ids: Vec<usize> = sealed.iter().map(|b| last::batch_id(b)).collect();
    let (mut pending, done) = match found.buffered {
        Some(kept) if ids.starts_with(&kept.batches) => {
            (vec![adapt(&kept.rows)?], kept.batches.len())
        }
        _ => (Vec::new(), 0),
    };
    for batch in &sealed[done..] {
        pending.push(adapt(batch)?);
    }
    let sealed_rows = match pending.len() {
        0 => None,
        1 if done > 0 => pending.pop(),
        _ => Some(reduce_sources(store, &schema, tag_count, pending).await?),
    };
    if let Some(rows) = &sealed_rows {
        let rows = Arc::new(rows.clone());
        let buffered = last::Buffered { batches: ids, rows };
        store.keep_last_buffered(found.key, buffered, found.changes);
    }
    // The persisted last rows, then the buffer's, then its recent batches. When the buffer
    // may repeat a point they are reduced together, so the later write wins the tie;
    // otherwise no two of them share a series and time, and `last()` picks from them as
    // they are.
    let mut sources = vec![adapt(&rows)?];
    sources.extend(sealed_rows);
    for buffer in &source.buffers {
        for batch in buffer.recent() {
            sources.push(adapt(batch)?);
        }
    }
    let batches = if repeats {
        vec![reduce_sources(store, &schema, tag_count, sources).await?]
    } else {
        sources
    };
    register_last_rows(store, &source, batches).map(Some)
}

/// A session in which `source`'s table is `batches` (its last rows), retention applied.
fn register_last_rows(
    store: &Store,
    source: &TableSource,
    batches: Vec<RecordBatch>,
) -> Result<SessionContext, QueryError> {
    let schema = source.schema.clone();
    let ctx = session(store)?;
    // Two partitions, so both cores read the buffered rows.
    let mut partitions = vec![Vec::new(), Vec::new()];
    for (i, batch) in batches.into_iter().enumerate() {
        partitions[i % 2].push(batch);
    }
    let table = Arc::new(MemTable::try_new(schema, partitions).map_err(planning)?);
    register(&ctx, &source.name, table, source.cutoff)?;
    Ok(ctx)
}

/// Registers `table` as `name`, its rows older than `cutoff` (the database's retention)
/// invisible at once; the filter reaches the scan, which then skips expired files too.
fn register(
    ctx: &SessionContext,
    name: &str,
    table: Arc<dyn TableProvider>,
    cutoff: Option<i64>,
) -> Result<(), QueryError> {
    let table = match cutoff {
        None => table,
        Some(cutoff) => {
            let oldest = lit(ScalarValue::TimestampNanosecond(Some(cutoff), None));
            ctx.read_table(table)
                .and_then(|frame| frame.filter(col(TIME_COLUMN).gt_eq(oldest)))
                .map_err(planning)?
                .into_view()
        }
    };
    ctx.register_table(TableReference::bare(name), table)
        .map_err(planning)?;
    Ok(())
}

/// The last rows of `sources` (a table's batches, in `schema`), a later one winning a tie.
async fn reduce_sources(
    store: &Store,
    schema: &SchemaRef,
    tag_count: usize,
    sources: Vec<RecordBatch>,
) -> Result<RecordBatch, QueryError> {
    let ranked = sources
        .iter()
        .enumerate()
        .map(|(i, b)| last::ranked(b, i as u64))
        .collect::<datafusion::error::Result<Vec<_>>>()
        .map_err(planning)?;
    let frame = session(store)?.read_batches(ranked).map_err(planning)?;
    last::reduce(frame, schema, tag_count)
        .await
        .map_err(planning)
}

/// A DataFusion error as the query's error: a missing file is the store's fault (500),
/// anything else the query's (400).
pub fn planning(e: datafusion::error::DataFusionError) -> QueryError {
    match e.find_root() {
        datafusion::error::DataFusionError::External(inner) => {
            match inner.downcast_ref::<MissingFile>() {
                Some(missing) => QueryError::Storage(missing.to_string()),
                None => QueryError::Invalid(e.to_string()),
            }
        }
        _ => QueryError::Invalid(e.to_string()),
    }
}

/// Encodes result batches in `format` as they come: `first` (already read, so that an
/// error before any row is the answer's status) and then the rest of `batches`. A pretty
/// table needs every row's width, so it is made at the end.
pub fn encode_stream(
    first: Option<RecordBatch>,
    batches: SendableRecordBatchStream,
    format: QueryFormat,
) -> BoxStream<'static, Result<Bytes, QueryError>> {
    let batches = futures::stream::iter(first.map(Ok))
        .chain(batches)
        .map_err(planning);
    if format == QueryFormat::Pretty {
        return futures::stream::once(async move {
            let batches: Vec<RecordBatch> = batches.try_collect().await?;
            encode(&batches, format).map(Bytes::from)
        })
        .boxed();
    }
    let encoder = Encoder {
        format,
        json: arrow::json::ArrayWriter::new(Vec::new()),
        rows: 0,
    };
    futures::stream::unfold(Some((batches, encoder)), |state| async move {
        let (mut batches, mut encoder) = state?;
        match batches.next().await {
            Some(Ok(batch)) => {
                let chunk = encoder.batch(&batch);
                Some((chunk, Some((batches, encoder))))
            }
            Some(Err(e)) => Some((Err(e), None)),
            None => Some((encoder.finish(), None)),
        }
    })
    .boxed()
}

/// The state of a streamed answer: the JSON array's writer (its `[` and commas), and how
/// many rows went out (the CSV header goes with the first).
struct Encoder {
    format: QueryFormat,
    json: arrow::json::ArrayWriter<Vec<u8>>,
    rows: usize,
}

impl Encoder {
    fn batch(&mut self, batch: &RecordBatch) -> Result<Bytes, QueryError> {
        // arrow's CSV writer would write a header for an empty batch, and again later.
        if batch.num_rows() == 0 {
            return Ok(Bytes::new());
        }
        let failed = |e: arrow::error::ArrowError| QueryError::Invalid(e.to_string());
        let mut out = Vec::new();
        match self.format {
            QueryFormat::Json => {
                self.json.write(batch).map_err(failed)?;
                out = std::mem::take(self.json.get_mut());
            }
            QueryFormat::JsonLines => {
                let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
                writer.write(batch).map_err(failed)?;
                writer.finish().map_err(failed)?;
            }
            QueryFormat::Csv | QueryFormat::Pretty => {
                let mut writer = arrow::csv::WriterBuilder::new()
                    .with_header(self.rows == 0)
                    .build(&mut out);
                writer.write(batch).map_err(failed)?;
            }
        }
        self.rows += batch.num_rows();
        Ok(Bytes::from(out))
    }

    fn finish(mut self) -> Result<Bytes, QueryError> {
        if self.format != QueryFormat::Json {
            return Ok(Bytes::new());
        }
        if self.rows == 0 {
            return Ok(Bytes::from_static(b"[]"));
        }
        self.json
            .finish()
            .map_err(|e| QueryError::Invalid(e.to_string()))?;
        Ok(Bytes::from(self.json.into_inner()))
    }
}

/// Encodes result batches in `format`.
pub fn encode(batches: &[RecordBatch], format: QueryFormat) -> Result<Vec<u8>, QueryError> {
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    let failed = |e: arrow::error::ArrowError| QueryError::Invalid(e.to_string());
    let mut out = Vec::new();
    match format {
        QueryFormat::Json => {
            let mut writer = arrow::json::ArrayWriter::new(&mut out);
            writer.write_batches(&refs).map_err(failed)?;
            writer.finish().map_err(failed)?;
            if out.is_empty() {
                out.extend_from_slice(b"[]");
            }
        }
        QueryFormat::JsonLines => {
            let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
            writer.write_batches(&refs).map_err(failed)?;
            writer.finish().map_err(failed)?;
        }
        QueryFormat::Csv => {
            let mut writer = arrow::csv::Writer::new(&mut out);
            for batch in batches {
                writer.write(batch).map_err(failed)?;
            }
        }
        QueryFormat::Pretty => {
            let table = arrow::util::pretty::pretty_format_batches(batches).map_err(failed)?;
            out = format!("{table}\n").into_bytes();
        }
    }
    Ok(out)
}
