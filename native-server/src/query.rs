//! Queries: SQL with DataFusion over a database's Parquet files and buffered rows, answered
//! like InfluxDB 3's `/api/v3/query_sql` (JSON array, JSON lines, CSV or a pretty table).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::RecordBatch;
use datafusion::common::config::Dialect;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::execution::context::{SessionConfig, SessionContext};
use datafusion::prelude::ParquetReadOptions;
use object_store::ObjectStoreExt;
use url::Url;

use crate::buffer::adapt;
use crate::store::Store;

/// The URL under which the store's object store is registered with DataFusion.
const STORE_URL: &str = "linegate://store/";

/// The output formats of `/api/v3/query_sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A JSON array of row objects (the default).
    Json,
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header row.
    Csv,
    /// A text table.
    Pretty,
}

impl Format {
    /// Parses the `format` parameter.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "jsonl" => Some(Format::JsonLines),
            "csv" => Some(Format::Csv),
            "pretty" => Some(Format::Pretty),
            _ => None,
        }
    }

    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::JsonLines => "application/jsonl",
            Format::Csv => "text/csv",
            Format::Pretty => "text/plain; charset=utf-8",
        }
    }
}

/// Why a query failed.
#[derive(Debug)]
pub enum QueryError {
    /// No such database (404).
    DatabaseNotFound(String),
    /// The query could not be planned or run (400).
    Invalid(String),
    /// A persisted file cannot be read (500): rows would be missing, so no answer is given.
    Storage(String),
}

/// Runs `sql` against database `database` and returns its result batches.
pub async fn run(store: &Store, database: &str, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
    let sources = store
        .sources(database)
        .ok_or_else(|| QueryError::DatabaseNotFound(database.to_owned()))?;
    let config = SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(2);
    let ctx = SessionContext::new_with_config(config);
    let url = Url::parse(STORE_URL).expect("constant URL");
    ctx.register_object_store(&url, store.objects().clone());
    let invalid = |e: datafusion::error::DataFusionError| QueryError::Invalid(e.to_string());
    // The tables the statement names: only their files need to be there.
    let state = ctx.state();
    let statement = state
        .sql_to_statement(sql, &Dialect::default())
        .map_err(invalid)?;
    let referenced: HashSet<String> = state
        .resolve_table_references(&statement)
        .map_err(invalid)?
        .iter()
        .map(|t| t.table().to_owned())
        .collect();
    for source in sources {
        let batches = source
            .batches
            .iter()
            .map(|b| adapt(b, &source.schema))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| QueryError::Invalid(e.to_string()))?;
        let memory = MemTable::try_new(source.schema.clone(), vec![batches]).map_err(invalid)?;
        let mut frame = ctx.read_table(Arc::new(memory)).map_err(invalid)?;
        if !source.files.is_empty() {
            if referenced.contains(&source.name) {
                // DataFusion takes a path it cannot find for an empty directory; a listed
                // file that is gone must fail the query, not silently drop its rows.
                futures::future::try_join_all(source.files.iter().map(|p| async move {
                    store
                        .objects()
                        .head(&object_store::path::Path::from(p.as_str()))
                        .await
                        .map_err(|e| {
                            QueryError::Storage(format!("persisted file {p} cannot be read: {e}"))
                        })
                }))
                .await?;
            }
            let paths: Vec<String> = source
                .files
                .iter()
                .map(|p| format!("{STORE_URL}{p}"))
                .collect();
            let files = ctx
                .read_parquet(paths, ParquetReadOptions::default().schema(&source.schema))
                .await
                .map_err(invalid)?;
            frame = files.union(frame).map_err(invalid)?;
        }
        ctx.register_table(TableReference::bare(source.name), frame.into_view())
            .map_err(invalid)?;
    }
    let frame = ctx.sql(sql).await.map_err(invalid)?;
    frame.collect().await.map_err(invalid)
}

/// Encodes result batches in `format`.
pub fn encode(batches: &[RecordBatch], format: Format) -> Result<Vec<u8>, QueryError> {
    let refs: Vec<&RecordBatch> = batches.iter().collect();
    let failed = |e: arrow::error::ArrowError| QueryError::Invalid(e.to_string());
    let mut out = Vec::new();
    match format {
        Format::Json => {
            let mut writer = arrow::json::ArrayWriter::new(&mut out);
            writer.write_batches(&refs).map_err(failed)?;
            writer.finish().map_err(failed)?;
            if out.is_empty() {
                out.extend_from_slice(b"[]");
            }
        }
        Format::JsonLines => {
            let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
            writer.write_batches(&refs).map_err(failed)?;
            writer.finish().map_err(failed)?;
        }
        Format::Csv => {
            let mut writer = arrow::csv::Writer::new(&mut out);
            for batch in batches {
                writer.write(batch).map_err(failed)?;
            }
        }
        Format::Pretty => {
            let table = arrow::util::pretty::pretty_format_batches(batches).map_err(failed)?;
            out = format!("{table}\n").into_bytes();
        }
    }
    Ok(out)
}
