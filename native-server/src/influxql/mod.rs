//! InfluxQL, for v1 `/query` and `/api/v3/query_influxql`.
//!
//! A request's text is parsed whole to an AST by [`linegate_influxql`] (a parse error answers
//! 400 before anything runs, as in 1.x) and checked against what its token may do; then the
//! statements run in turn, each answering its series or its own error:
//! - [`select`] runs a `SELECT`: its sources (measurements, subqueries), one DataFusion plan
//!   per measurement, the rows split into series; with
//!   - [`columns`]: what a name is in a measurement (tag, field, cast),
//!   - [`condition`]: `WHERE` as a time range and a DataFusion predicate,
//!   - [`plan`]: the projection expanded, named and planned as DataFusion columns,
//!   - [`shape`]: fill, transformations and the functions computed over the answer;
//! - [`show`] answers the `SHOW` statements and runs the database, retention-policy and
//!   delete statements;
//! - [`answer`] writes it all as 1.x's JSON (whole or chunked) or CSV.

mod answer;
mod columns;
mod condition;
mod plan;
mod select;
mod shape;
mod show;

use arrow::array::RecordBatch;
use datafusion::prelude::DataFrame;
use linegate_influxql::{Literal, Params, Statement};

pub use answer::{batch, chunks, csv, results, Epoch, Series, StatementError, StatementResult};

use crate::query::{self, QueryError};
use crate::store::{now_nanos, Store};

/// Why a statement failed.
#[derive(Debug)]
pub enum Error {
    /// The statement's own error, answered in its result as 1.x does.
    Statement(String),
    /// The token may not read what the statement reads: a statement error too.
    Forbidden(String),
    /// A persisted file cannot be read: the whole request fails (500) rather than answer
    /// with rows missing.
    Storage(String),
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Error {
        match query::planning(e) {
            QueryError::Storage(message) => Error::Storage(message),
            other => Error::Statement(other.message()),
        }
    }
}

impl From<QueryError> for Error {
    fn from(e: QueryError) -> Error {
        match e {
            QueryError::Storage(message) => Error::Storage(message),
            other => Error::Statement(other.message()),
        }
    }
}

/// What the request's token may do: which databases it reads (a statement may name others
/// than the request's), and beyond reading.
pub struct Access<'a> {
    /// An admin token (or a server without tokens): may create and drop databases and
    /// retention policies.
    pub admin: bool,
    /// Whether the token may read database `name`.
    pub may_read: &'a (dyn Fn(&str) -> bool + Sync),
    /// Whether the token may write database `name` (and so delete from it).
    pub may_write: &'a (dyn Fn(&str) -> bool + Sync),
}

/// The most rows one statement may read back from the store before it is refused: every
/// request's memory is bounded.
const MAX_ROWS: usize = 5_000_000;

/// One request's statements: the store, the request's database and one `now()` for all.
pub struct Run<'a> {
    /// The store read.
    pub store: &'a Store,
    /// The request's `db` (after DBRP mapping), used where a statement names none.
    pub database: Option<&'a str>,
    /// `now()` for every statement of the request.
    pub now: i64,
    /// Whether the request's token may read database `name`.
    pub may_read: &'a (dyn Fn(&str) -> bool + Sync),
}

impl Run<'_> {
    /// The database a statement reads: its own `ON`/`db.rp.` part, else the request's; an
    /// error when the token may not read it.
    fn database(&self, named: Option<&str>) -> Result<String, Error> {
        let name = named
            .or(self.database)
            .ok_or_else(|| Error::Statement("database name required".into()))?;
        // The database a v1 name maps to is the one read, and the one the token must read.
        let database = self.store.catalog().resolve(name).to_owned();
        self.readable(&database)?;
        Ok(database)
    }

    /// `Ok` when the token may read database `name`.
    fn readable(&self, name: &str) -> Result<(), Error> {
        if (self.may_read)(name) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "the token may not read database {name}"
            )))
        }
    }

    /// Runs a planned frame, refusing answers beyond [`MAX_ROWS`].
    async fn collect(&self, frame: DataFrame) -> Result<Vec<RecordBatch>, Error> {
        use futures::StreamExt;
        if tracing::enabled!(tracing::Level::DEBUG) {
            let plan = frame.clone().create_physical_plan().await?;
            let plan = datafusion::physical_plan::displayable(plan.as_ref()).indent(true);
            tracing::debug!(%plan, "InfluxQL plan");
        }
        let mut stream = frame.execute_stream().await?;
        let mut batches = Vec::new();
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows += batch.num_rows();
            if rows > MAX_ROWS {
                return Err(Error::Statement(format!(
                    "the statement reads more than {MAX_ROWS} rows: narrow its time range, \
                     aggregate, or add a LIMIT"
                )));
            }
            batches.push(batch);
        }
        Ok(batches)
    }
}

/// The bound parameters of a request, from its `params` JSON object, as 1.x binds them:
/// a number without fraction or exponent is an integer, any other a float; strings and
/// booleans are themselves.
pub fn bound_parameters(json: Option<&str>) -> Result<Params, QueryError> {
    let Some(json) = json else {
        return Ok(Params::new());
    };
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| QueryError::Invalid(format!("error parsing query parameters: {e}")))?;
    params_from_json(&object)
}

/// [`bound_parameters`] of an already parsed JSON object (a Flight ticket's `params`).
pub fn params_from_json(
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<Params, QueryError> {
    use serde_json::Value as J;
    object
        .iter()
        .map(|(name, value)| {
            let literal = match value {
                J::String(s) => Literal::String(s.clone()),
                J::Bool(b) => Literal::Boolean(*b),
                J::Number(n) => match n.as_i64() {
                    Some(i) => Literal::Integer(i),
                    None => Literal::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                other => {
                    return Err(QueryError::Invalid(format!(
                    "error parsing query parameters: unable to bind parameter {name:?} to {other}"
                )))
                }
            };
            Ok((name.clone(), literal))
        })
        .collect()
}

/// Parses and runs every statement of `q`. `Err` refuses the whole request before anything
/// runs (a parse error, a `SELECT … INTO`, a statement the token may not run) or fails it
/// (an unreadable file); statement errors are answered in their results.
pub async fn run(
    store: &Store,
    database: Option<&str>,
    q: &str,
    params: &Params,
    access: &Access<'_>,
) -> Result<Vec<StatementResult>, QueryError> {
    let parsed = linegate_influxql::parse_with_params(q, params)
        .map_err(|e| QueryError::Invalid(format!("error parsing query: {e}")))?;
    let run = Run {
        store,
        database,
        now: now_nanos(),
        may_read: access.may_read,
    };
    for statement in &parsed.statements {
        authorize(&run, statement, access)?;
    }
    let mut results = Vec::with_capacity(parsed.statements.len());
    for statement in &parsed.statements {
        let result = match statement {
            Statement::Select(select) => select::select(&run, select).await,
            other => show::run(&run, other).await,
        };
        results.push(match result {
            Ok(series) => Ok(series),
            Err(Error::Statement(message)) => Err(message.into()),
            Err(Error::Forbidden(message)) => Err(StatementError {
                message,
                forbidden: true,
            }),
            Err(Error::Storage(message)) => return Err(QueryError::Storage(message)),
        });
    }
    Ok(results)
}

/// A query never changes anything unless its token may: `SELECT … INTO` is refused outright,
/// the delete statements need a token that writes the database, the database and retention
/// policy statements an admin token.
fn authorize(run: &Run<'_>, statement: &Statement, access: &Access<'_>) -> Result<(), QueryError> {
    let forbidden = |what: &str| {
        Err(QueryError::Forbidden(format!(
            "{what} needs a token that may {}",
            if matches!(
                statement,
                Statement::DropMeasurement { .. } | Statement::DropSeries(_) | Statement::Delete(_)
            ) {
                "write the database"
            } else {
                "administer the server (an admin token)"
            }
        )))
    };
    match statement {
        Statement::Select(select) if select.into.is_some() => {
            Err(QueryError::NotReadOnly("SELECT INTO".into()))
        }
        // 1.x checks the zone as it parses.
        Statement::Select(select)
            if select
                .timezone
                .as_deref()
                .is_some_and(|name| select::zone(name).is_err()) =>
        {
            Err(QueryError::Invalid(format!(
                "error parsing query: unable to find time zone {}",
                select.timezone.as_deref().unwrap_or_default()
            )))
        }
        Statement::CreateDatabase { .. } if !access.admin => forbidden("CREATE DATABASE"),
        Statement::DropDatabase { .. } if !access.admin => forbidden("DROP DATABASE"),
        Statement::CreateRetentionPolicy { .. } if !access.admin => {
            forbidden("CREATE RETENTION POLICY")
        }
        Statement::AlterRetentionPolicy { .. } if !access.admin => {
            forbidden("ALTER RETENTION POLICY")
        }
        Statement::DropRetentionPolicy { .. } if !access.admin => {
            forbidden("DROP RETENTION POLICY")
        }
        Statement::DropMeasurement { .. } | Statement::DropSeries(_) | Statement::Delete(_) => {
            let database = run.database(None).map_err(|e| match e {
                Error::Statement(m) | Error::Storage(m) => QueryError::Invalid(m),
                Error::Forbidden(m) => QueryError::Forbidden(m),
            })?;
            if access.admin || (access.may_write)(&database) {
                Ok(())
            } else {
                forbidden(match statement {
                    Statement::DropMeasurement { .. } => "DROP MEASUREMENT",
                    Statement::DropSeries(_) => "DROP SERIES",
                    _ => "DELETE",
                })
            }
        }
        _ => Ok(()),
    }
}
