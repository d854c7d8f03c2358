//! Arrow Flight on the HTTP port: InfluxDB 3's query protocol, which its client libraries
//! speak (`DoGet` with a JSON ticket), and Flight SQL, which generic clients speak (ADBC,
//! JDBC, Grafana's SQL data source).
//!
//! Both run the same plans as `/api/v3/query_sql` and `/api/v3/query_influxql` and take the
//! same tokens: the `authorization` metadata (`Bearer`, `Token`, or `Basic` with the token as
//! password) must read the database. Nothing here writes: Flight SQL updates and ingest are
//! refused, and InfluxQL statements that change something get `PERMISSION_DENIED`.
//!
//! Flight SQL keeps no state between calls. A statement's or a prepared statement's handle is
//! the ticket itself (database, query, bound parameters), so a client that goes away leaves
//! nothing behind.

use std::pin::Pin;
use std::sync::{Arc, LazyLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::ipc::writer::IpcWriteOptions;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::sql::metadata::{
    GetCatalogsBuilder, GetDbSchemasBuilder, GetTablesBuilder, SqlInfoData, SqlInfoDataBuilder,
};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, Any, Command, DoPutPreparedStatementResult,
    ProstMessageExt, SqlInfo, TicketStatementQuery,
};
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightEndpoint, FlightInfo,
    HandshakeRequest, HandshakeResponse, IpcMessage, PollInfo, PutResult, SchemaAsIpc,
    SchemaResult, Ticket,
};
use datafusion::common::{ParamValues, ScalarValue};
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use linegate::{Access, Credentials, WriteError};
use prost::Message;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use tonic::{Request, Response, Status, Streaming};

use crate::http::{authorize, AppState};
use crate::influxql;
use crate::query::{self, QueryError, CATALOG, SCHEMA};

/// The Flight service, ready to mount on the HTTP router.
pub fn service(state: Arc<AppState>) -> FlightServiceServer<Flight> {
    FlightServiceServer::new(Flight { state })
}

/// The gRPC path prefix the service answers under.
pub const PATH: &str = "/arrow.flight.protocol.FlightService/";

/// Answers Flight and Flight SQL calls from the store.
pub struct Flight {
    state: Arc<AppState>,
}

/// A query as InfluxDB 3's clients put it in a `DoGet` ticket; also the handle of a Flight
/// SQL statement or prepared statement, its parameters bound.
#[derive(Debug, Serialize, Deserialize)]
struct QueryTicket {
    database: String,
    sql_query: String,
    #[serde(default)]
    query_type: Language,
    /// Placeholder values by name (`host` for `$host`, `1` for `$1`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    params: Map<String, Json>,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Language {
    #[default]
    Sql,
    #[serde(rename = "influxql")]
    InfluxQl,
}

impl QueryTicket {
    fn decode(bytes: &[u8]) -> Result<QueryTicket, Status> {
        serde_json::from_slice(bytes)
            .map_err(|e| Status::invalid_argument(format!("invalid ticket: {e}")))
    }

    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The parameters as DataFusion binds them: by position when every name is a number.
    fn param_values(&self) -> Result<ParamValues, Status> {
        let mut values = Vec::with_capacity(self.params.len());
        for (name, value) in &self.params {
            values.push((name.clone(), scalar(name, value)?));
        }
        let positions: Option<Vec<usize>> =
            values.iter().map(|(name, _)| name.parse().ok()).collect();
        match positions {
            Some(mut positions) if !values.is_empty() => {
                positions.sort_unstable();
                if positions.iter().enumerate().any(|(i, p)| *p != i + 1) {
                    return Err(Status::invalid_argument(
                        "positional parameters must be numbered 1, 2, … without gaps",
                    ));
                }
                values.sort_by_key(|(name, _)| name.parse::<usize>().unwrap_or(0));
                Ok(ParamValues::List(
                    values.into_iter().map(|(_, v)| v.into()).collect(),
                ))
            }
            _ => Ok(ParamValues::Map(
                values.into_iter().map(|(n, v)| (n, v.into())).collect(),
            )),
        }
    }
}

/// A JSON parameter as a SQL value.
fn scalar(name: &str, value: &Json) -> Result<ScalarValue, Status> {
    Ok(match value {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Json::String(s) => ScalarValue::Utf8(Some(s.clone())),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => ScalarValue::Int64(Some(i)),
            (None, Some(u), _) => ScalarValue::UInt64(Some(u)),
            (None, None, Some(f)) => ScalarValue::Float64(Some(f)),
            _ => return Err(Status::invalid_argument(format!("parameter {name}: {n}"))),
        },
        Json::Array(_) | Json::Object(_) => {
            return Err(Status::invalid_argument(format!(
                "parameter {name}: only strings, numbers, booleans and null can be bound"
            )))
        }
    })
}

/// One row of a prepared statement's bound parameters as the handle's JSON: column `i` binds
/// the statement's `i`-th parameter (`$1`, `$2`, … then named ones, as [`parameter_schema`]
/// lists them; clients name the columns as they like). Times become RFC 3339 strings, which
/// DataFusion casts back.
fn bound_params(batch: &RecordBatch, parameters: &Schema) -> Result<Map<String, Json>, Status> {
    if batch.num_columns() != parameters.fields().len() {
        return Err(Status::invalid_argument(format!(
            "the statement has {} parameters, {} were bound",
            parameters.fields().len(),
            batch.num_columns()
        )));
    }
    if batch.num_rows() != 1 {
        return Err(Status::invalid_argument(format!(
            "bind one row of parameters, not {}",
            batch.num_rows()
        )));
    }
    let mut params = Map::new();
    for (i, column) in batch.columns().iter().enumerate() {
        let value = ScalarValue::try_from_array(column, 0)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let json = match value {
            v if v.is_null() => Json::Null,
            ScalarValue::Boolean(Some(b)) => Json::Bool(b),
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => Json::String(s),
            ScalarValue::Float32(Some(f)) => number(f64::from(f))?,
            ScalarValue::Float64(Some(f)) => number(f)?,
            ScalarValue::Int8(Some(i)) => Json::from(i),
            ScalarValue::Int16(Some(i)) => Json::from(i),
            ScalarValue::Int32(Some(i)) => Json::from(i),
            ScalarValue::Int64(Some(i)) => Json::from(i),
            ScalarValue::UInt8(Some(u)) => Json::from(u),
            ScalarValue::UInt16(Some(u)) => Json::from(u),
            ScalarValue::UInt32(Some(u)) => Json::from(u),
            ScalarValue::UInt64(Some(u)) => Json::from(u),
            v @ (ScalarValue::TimestampSecond(..)
            | ScalarValue::TimestampMillisecond(..)
            | ScalarValue::TimestampMicrosecond(..)
            | ScalarValue::TimestampNanosecond(..)) => {
                let nanos = match v.cast_to(&DataType::Timestamp(TimeUnit::Nanosecond, None)) {
                    Ok(ScalarValue::TimestampNanosecond(Some(n), _)) => n,
                    _ => return Err(Status::invalid_argument("a time parameter is out of range")),
                };
                Json::String(
                    chrono::DateTime::from_timestamp_nanos(nanos)
                        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                )
            }
            other => {
                return Err(Status::invalid_argument(format!(
                    "parameter ${}: {} cannot be bound",
                    i + 1,
                    other.data_type()
                )))
            }
        };
        let name = parameters.field(i).name().trim_start_matches('$');
        params.insert(name.to_owned(), json);
    }
    Ok(params)
}

fn number(f: f64) -> Result<Json, Status> {
    serde_json::Number::from_f64(f)
        .map(Json::Number)
        .ok_or_else(|| Status::invalid_argument("NaN and infinity cannot be bound"))
}

/// What the server tells Flight SQL clients about itself.
static SQL_INFO: LazyLock<SqlInfoData> = LazyLock::new(|| {
    let mut info = SqlInfoDataBuilder::new();
    info.append(SqlInfo::FlightSqlServerName, "linegate");
    info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    info.append(SqlInfo::FlightSqlServerArrowVersion, "1.3");
    info.append(SqlInfo::FlightSqlServerReadOnly, true);
    info.append(SqlInfo::FlightSqlServerSql, true);
    info.append(SqlInfo::FlightSqlServerSubstrait, false);
    info.append(SqlInfo::FlightSqlServerTransaction, 0i32);
    info.append(SqlInfo::FlightSqlServerCancel, false);
    info.append(SqlInfo::SqlDdlCatalog, false);
    info.append(SqlInfo::SqlDdlSchema, false);
    info.append(SqlInfo::SqlDdlTable, false);
    info.append(SqlInfo::SqlIdentifierCase, 3i32); // case-insensitive unless quoted
    info.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    info.append(SqlInfo::SqlQuotedIdentifierCase, 1i32); // case-sensitive
    info.append(SqlInfo::SqlAllTablesAreSelectable, true);
    info.append(SqlInfo::SqlNullOrdering, 2i32); // nulls sort high (at the end)
    info.append(SqlInfo::SqlSearchStringEscape, "\\");
    info.append(SqlInfo::SqlMaxColumnNameLength, 0i64); // no limit
    info.build().unwrap_or_else(|_| {
        // Unreachable: the values above match their declared types.
        SqlInfoDataBuilder::new()
            .build()
            .expect("an empty SqlInfo set builds")
    })
});

/// The table types [`CommandGetTables`](arrow_flight::sql::CommandGetTables) lists.
const TABLE_TYPES: [&str; 2] = ["BASE TABLE", "VIEW"];

/// The database a Flight SQL call reads: its `database` metadata, or the other names
/// InfluxDB 3 accepts for it.
fn database_header<T>(request: &Request<T>) -> Result<String, Status> {
    ["database", "bucket-name", "bucket", "iox-namespace-name"]
        .iter()
        .find_map(|key| request.metadata().get(*key)?.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            Status::invalid_argument(
                "no database: send its name in the `database` header (gRPC metadata)",
            )
        })
}

type Stream<T> = Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send + 'static>>;

impl Flight {
    /// The credentials of a call's `authorization` metadata.
    fn credentials<T>(&self, request: &Request<T>) -> Result<Option<Credentials>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .map(|v| v.as_bytes());
        Credentials::from_request("", None, header).map_err(refused)
    }

    /// Checks that the call may read `database` (by its name or a v1 mapping); the
    /// database's own name.
    fn authorize_read<T>(&self, request: &Request<T>, database: &str) -> Result<String, Status> {
        let credentials = self.credentials(request)?;
        let database = self.state.store.catalog().resolve(database).to_owned();
        authorize(
            &self.state,
            credentials.as_ref(),
            Some(&database),
            Access::Read,
        )
        .map_err(refused)?;
        Ok(database)
    }

    /// Checks that the call carries a valid token, whatever it may read.
    fn authenticate<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let credentials = self.credentials(request)?;
        authorize(&self.state, credentials.as_ref(), None, Access::Read).map_err(refused)
    }

    /// The schema of a SQL query's answer, from its plan.
    async fn sql_schema(&self, ticket: &QueryTicket) -> Result<SchemaRef, Status> {
        let (_, plan) = query::plan(&self.state.store, &ticket.database, &ticket.sql_query)
            .await
            .map_err(query_error)?;
        Ok(Arc::new(plan.schema().as_arrow().clone()))
    }

    /// Runs a query ticket, its answer streamed as Flight data.
    async fn answer<T: Sync>(
        &self,
        request: &Request<T>,
        ticket: QueryTicket,
    ) -> Result<Stream<FlightData>, Status> {
        match ticket.query_type {
            Language::Sql => {
                let params = ticket.param_values()?;
                let store = &self.state.store;
                let stream = query::stream(store, &ticket.database, &ticket.sql_query, params)
                    .await
                    .map_err(query_error)?;
                let schema = stream.schema();
                let batches = stream.map_err(|e| FlightError::from_external_error(Box::new(e)));
                Ok(encode(schema, batches.boxed()))
            }
            Language::InfluxQl => {
                let batch = self.influxql(request, &ticket).await?;
                Ok(encode(batch.schema(), stream::iter([Ok(batch)]).boxed()))
            }
        }
    }

    /// Runs InfluxQL with read access only; its series as one batch with an
    /// `iox::measurement` column, as InfluxDB 3 answers over Flight.
    async fn influxql<T: Sync>(
        &self,
        request: &Request<T>,
        ticket: &QueryTicket,
    ) -> Result<RecordBatch, Status> {
        let no_writes = |_: &str| false;
        let credentials = self.credentials(request)?;
        let may_read = |database: &str| {
            authorize(
                &self.state,
                credentials.as_ref(),
                Some(database),
                Access::Read,
            )
            .is_ok()
        };
        let access = influxql::Access {
            admin: false,
            may_read: &may_read,
            may_write: &no_writes,
        };
        let params = influxql::params_from_json(&ticket.params).map_err(query_error)?;
        let results = influxql::run(
            &self.state.store,
            Some(&ticket.database),
            &ticket.sql_query,
            &params,
            &access,
        )
        .await
        .map_err(query_error)?;
        let mut series = Vec::new();
        for result in results {
            series.extend(result.map_err(|e| match e.forbidden {
                true => Status::permission_denied(e.message),
                false => Status::invalid_argument(e.message),
            })?);
        }
        let batch =
            influxql::batch(&series).map_err(|e| Status::invalid_argument(e.to_string()))?;
        self.mark_columns(&ticket.database, &series, batch)
    }

    /// Gives the columns read as stored (same name and type as a column of one of the
    /// answer's measurements) that column's `iox::column::type` metadata, as InfluxDB 3 does:
    /// clients tell tags from fields by it.
    fn mark_columns(
        &self,
        database: &str,
        series: &[influxql::Series],
        batch: RecordBatch,
    ) -> Result<RecordBatch, Status> {
        let tables: Vec<SchemaRef> = {
            let catalog = self.state.store.catalog();
            let Some(db) = catalog.database(database) else {
                return Ok(batch);
            };
            let mut names: Vec<&str> = series.iter().filter_map(|s| s.name.as_deref()).collect();
            names.dedup();
            names
                .iter()
                .filter_map(|name| db.tables.get(*name).map(|t| t.schema()))
                .collect()
        };
        let fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|field| {
                let stored = tables.iter().find_map(|schema| {
                    let column = schema.field_with_name(field.name()).ok()?;
                    (column.data_type() == field.data_type()).then(|| column.metadata().clone())
                });
                field
                    .as_ref()
                    .clone()
                    .with_metadata(stored.unwrap_or_default())
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        RecordBatch::try_new(schema, batch.columns().to_vec()).map_err(internal)
    }

    /// A Flight SQL metadata listing, as one batch.
    async fn listing(
        &self,
        command: &Command,
        database: Option<&str>,
    ) -> Result<RecordBatch, Status> {
        match command {
            Command::CommandGetSqlInfo(c) => c.clone().into_builder(&SQL_INFO).build(),
            Command::CommandGetCatalogs(c) => {
                let mut builder: GetCatalogsBuilder = (*c).into_builder();
                builder.append(CATALOG);
                builder.build()
            }
            Command::CommandGetDbSchemas(c) => {
                let mut builder: GetDbSchemasBuilder = c.clone().into_builder();
                builder.append(CATALOG, "information_schema");
                builder.append(CATALOG, SCHEMA);
                builder.build()
            }
            Command::CommandGetTableTypes(c) => {
                let mut builder = (*c).into_builder();
                for table_type in TABLE_TYPES {
                    builder.append(table_type);
                }
                builder.build()
            }
            Command::CommandGetTables(c) => {
                let database = database.ok_or_else(|| {
                    Status::invalid_argument("no database: send it in the `database` header")
                })?;
                let mut builder: GetTablesBuilder = c.clone().into_builder();
                let ctx = query::context(&self.state.store, database).map_err(query_error)?;
                let catalog = ctx
                    .catalog(CATALOG)
                    .ok_or_else(|| Status::internal("the catalog is missing"))?;
                for (schema_name, table_type) in
                    [("information_schema", "VIEW"), (SCHEMA, "BASE TABLE")]
                {
                    let Some(schema) = catalog.schema(schema_name) else {
                        continue;
                    };
                    let mut names = schema.table_names();
                    names.sort();
                    for name in names {
                        let table = schema
                            .table(&name)
                            .await
                            .map_err(|e| Status::internal(e.to_string()))?;
                        if let Some(table) = table {
                            builder
                                .append(CATALOG, schema_name, &name, table_type, &table.schema())
                                .map_err(internal)?;
                        }
                    }
                }
                builder.build()
            }
            _ => {
                return Err(Status::unimplemented(
                    "this Flight SQL command is not supported",
                ))
            }
        }
        .map_err(internal)
    }

    /// A listing command's schema (known before it runs).
    fn listing_schema(command: &Command) -> Option<SchemaRef> {
        Some(match command {
            Command::CommandGetSqlInfo(c) => c.clone().into_builder(&SQL_INFO).schema(),
            Command::CommandGetCatalogs(c) => (*c).into_builder().schema(),
            Command::CommandGetDbSchemas(c) => c.clone().into_builder().schema(),
            Command::CommandGetTableTypes(c) => (*c).into_builder().schema(),
            Command::CommandGetTables(c) => c.clone().into_builder().schema(),
            _ => return None,
        })
    }

    /// The ticket in a Flight SQL statement or prepared statement handle, the database
    /// authorized for this call.
    fn handle_ticket<T>(&self, request: &Request<T>, handle: &[u8]) -> Result<QueryTicket, Status> {
        let mut ticket = QueryTicket::decode(handle)?;
        ticket.database = self.authorize_read(request, &ticket.database)?;
        Ok(ticket)
    }
}

/// Record batches as a Flight data stream, the schema first even when no batch follows.
fn encode(
    schema: SchemaRef,
    batches: BoxStream<'static, Result<RecordBatch, FlightError>>,
) -> Stream<FlightData> {
    FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(batches)
        .map_err(flight_status)
        .boxed()
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

fn flight_status(e: FlightError) -> Status {
    match e {
        FlightError::Tonic(status) => *status,
        FlightError::ExternalError(e) => match e.downcast::<datafusion::error::DataFusionError>() {
            Ok(e) => query_error(query::planning(*e)),
            Err(e) => Status::internal(e.to_string()),
        },
        other => Status::internal(other.to_string()),
    }
}

/// A refused token as gRPC says it: missing or unknown → `UNAUTHENTICATED`, out of scope →
/// `PERMISSION_DENIED`.
fn refused(e: WriteError) -> Status {
    match e {
        WriteError::Forbidden { .. } => Status::permission_denied(e.to_string()),
        WriteError::Unauthenticated => Status::unauthenticated(e.to_string()),
        other => Status::invalid_argument(other.to_string()),
    }
}

fn query_error(e: QueryError) -> Status {
    let message = e.message();
    match e {
        QueryError::DatabaseNotFound(_) => Status::not_found(message),
        QueryError::Invalid(_) | QueryError::NotReadOnly(_) => Status::invalid_argument(message),
        QueryError::Forbidden(_) => Status::permission_denied(message),
        QueryError::Storage(_) => Status::internal(message),
    }
}

fn decode_command(bytes: &[u8]) -> Result<Command, Status> {
    let any = Any::decode(bytes)
        .map_err(|e| Status::invalid_argument(format!("invalid command: {e}")))?;
    Command::try_from(any).map_err(|e| Status::invalid_argument(e.to_string()))
}

fn schema_ipc(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: arrow::error::ArrowError| Status::internal(e.to_string()))?;
    Ok(bytes)
}

fn info(
    schema: &Schema,
    descriptor: FlightDescriptor,
    ticket: Vec<u8>,
) -> Result<FlightInfo, Status> {
    Ok(FlightInfo::new()
        .try_with_schema(schema)
        .map_err(|e| Status::internal(e.to_string()))?
        .with_endpoint(FlightEndpoint::new().with_ticket(Ticket::new(ticket)))
        .with_descriptor(descriptor))
}

#[async_trait::async_trait]
impl FlightService for Flight {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoExchangeStream = Stream<FlightData>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;

    /// Clients that handshake before their calls are told whether their token is valid;
    /// every later call carries it again.
    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        self.authenticate(&request)?;
        let reply = HandshakeResponse::default();
        Ok(Response::new(stream::iter([Ok(reply)]).boxed()))
    }

    async fn list_flights(
        &self,
        _: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        Err(Status::unimplemented(
            "list_flights: query with a ticket or Flight SQL",
        ))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let descriptor = request.get_ref().clone();
        let command = decode_command(&descriptor.cmd)?;
        let info = match &command {
            Command::CommandStatementQuery(statement) => {
                let database = database_header(&request)?;
                let ticket = QueryTicket {
                    database: self.authorize_read(&request, &database)?,
                    sql_query: statement.query.clone(),
                    query_type: Language::Sql,
                    params: Map::new(),
                };
                let schema = self.sql_schema(&ticket).await?;
                let handle = TicketStatementQuery {
                    statement_handle: ticket.encode().into(),
                };
                info(&schema, descriptor, handle.as_any().encode_to_vec())?
            }
            Command::CommandPreparedStatementQuery(prepared) => {
                let ticket = self.handle_ticket(&request, &prepared.prepared_statement_handle)?;
                let schema = self.sql_schema(&ticket).await?;
                info(&schema, descriptor, prepared.as_any().encode_to_vec())?
            }
            listing => {
                let schema = Self::listing_schema(listing).ok_or_else(|| {
                    Status::unimplemented("this Flight SQL command is not supported")
                })?;
                if matches!(listing, Command::CommandGetTables(_)) {
                    self.authorize_read(&request, &database_header(&request)?)?;
                } else {
                    self.authenticate(&request)?;
                }
                info(
                    &schema,
                    descriptor,
                    command.clone().into_any().encode_to_vec(),
                )?
            }
        };
        Ok(Response::new(info))
    }

    async fn poll_flight_info(
        &self,
        _: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        Err(Status::unimplemented(
            "poll_flight_info: use get_flight_info",
        ))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let info = self.get_flight_info(request).await?.into_inner();
        Ok(Response::new(SchemaResult {
            schema: info.schema,
        }))
    }

    /// InfluxDB 3's JSON ticket, or a ticket this service handed out in a `FlightInfo`.
    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let bytes = request.get_ref().ticket.clone();
        if bytes.first() == Some(&b'{') {
            let ticket = self.handle_ticket(&request, &bytes)?;
            return Ok(Response::new(self.answer(&request, ticket).await?));
        }
        let command = decode_command(&bytes)?;
        let stream = match &command {
            Command::TicketStatementQuery(statement) => {
                let ticket = self.handle_ticket(&request, &statement.statement_handle)?;
                self.answer(&request, ticket).await?
            }
            Command::CommandPreparedStatementQuery(prepared) => {
                let ticket = self.handle_ticket(&request, &prepared.prepared_statement_handle)?;
                self.answer(&request, ticket).await?
            }
            listing => {
                let database = match listing {
                    Command::CommandGetTables(_) => {
                        Some(self.authorize_read(&request, &database_header(&request)?)?)
                    }
                    _ => {
                        self.authenticate(&request)?;
                        None
                    }
                };
                let batch = self.listing(listing, database.as_deref()).await?;
                encode(batch.schema(), stream::iter([Ok(batch)]).boxed())
            }
        };
        Ok(Response::new(stream))
    }

    /// Binds a prepared statement's parameters: the answer is its new handle, which carries
    /// them. Everything else a client might put (rows, updates) is refused: queries read.
    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        let credentials = self.credentials(&request)?;
        let mut data = request.into_inner();
        let first = data
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("do_put without data"))?;
        let descriptor = first
            .flight_descriptor
            .clone()
            .ok_or_else(|| Status::invalid_argument("do_put without a descriptor"))?;
        let Command::CommandPreparedStatementQuery(prepared) = decode_command(&descriptor.cmd)?
        else {
            return Err(Status::unimplemented(
                "Flight SQL here only reads: write line protocol to /api/v3/write_lp",
            ));
        };
        let mut ticket = QueryTicket::decode(&prepared.prepared_statement_handle)?;
        let database = self
            .state
            .store
            .catalog()
            .resolve(&ticket.database)
            .to_owned();
        authorize(
            &self.state,
            credentials.as_ref(),
            Some(&database),
            Access::Read,
        )
        .map_err(refused)?;
        let flight_data = stream::iter([Ok(first)])
            .chain(data)
            .map_err(|status| FlightError::Tonic(Box::new(status)));
        // One batch of one row binds the parameters; a client streaming more is stopped at
        // the second batch, so a call holds at most one message.
        let mut batches = FlightRecordBatchStream::new_from_flight_data(flight_data);
        let parameters = batches.try_next().await.map_err(flight_status)?;
        if batches.try_next().await.map_err(flight_status)?.is_some() {
            return Err(Status::invalid_argument("bind one batch of parameters"));
        }
        ticket.params = match parameters {
            None => Map::new(),
            Some(batch) => {
                let (_, plan) = query::plan(&self.state.store, &database, &ticket.sql_query)
                    .await
                    .map_err(query_error)?;
                bound_params(&batch, &parameter_schema(&plan)?)?
            }
        };
        let result = DoPutPreparedStatementResult {
            prepared_statement_handle: Some(ticket.encode().into()),
        };
        let reply = PutResult {
            app_metadata: result.encode_to_vec().into(),
        };
        Ok(Response::new(stream::iter([Ok(reply)]).boxed()))
    }

    async fn do_exchange(
        &self,
        _: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented("do_exchange is not supported"))
    }

    /// Flight SQL's prepared statements: creating one plans it (its answer's and its
    /// parameters' schemas); closing one has nothing to free.
    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let action = request.get_ref().clone();
        let any = Any::decode(action.body.as_ref())
            .map_err(|e| Status::invalid_argument(format!("invalid action: {e}")))?;
        match action.r#type.as_str() {
            "CreatePreparedStatement" => {
                let create: ActionCreatePreparedStatementRequest = any
                    .unpack()
                    .map_err(|e| Status::invalid_argument(e.to_string()))?
                    .ok_or_else(|| {
                        Status::invalid_argument("expected a CreatePreparedStatement request")
                    })?;
                let database = database_header(&request)?;
                let ticket = QueryTicket {
                    database: self.authorize_read(&request, &database)?,
                    sql_query: create.query,
                    query_type: Language::Sql,
                    params: Map::new(),
                };
                let (_, plan) = query::plan(&self.state.store, &ticket.database, &ticket.sql_query)
                    .await
                    .map_err(query_error)?;
                let dataset = plan.schema().as_arrow().clone();
                let parameters = parameter_schema(&plan)?;
                let result = ActionCreatePreparedStatementResult {
                    prepared_statement_handle: ticket.encode().into(),
                    dataset_schema: schema_ipc(&dataset)?,
                    parameter_schema: schema_ipc(&parameters)?,
                };
                let reply = arrow_flight::Result {
                    body: result.as_any().encode_to_vec().into(),
                };
                Ok(Response::new(stream::iter([Ok(reply)]).boxed()))
            }
            "ClosePreparedStatement" => {
                let _: Option<ActionClosePreparedStatementRequest> = any
                    .unpack()
                    .map_err(|e| Status::invalid_argument(e.to_string()))?;
                self.authenticate(&request)?;
                Ok(Response::new(stream::empty().boxed()))
            }
            other => Err(Status::unimplemented(format!(
                "action {other} is not supported"
            ))),
        }
    }

    async fn list_actions(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        let actions = [
            (
                "CreatePreparedStatement",
                "Plans a SQL query with placeholders",
            ),
            (
                "ClosePreparedStatement",
                "Forgets a prepared statement (nothing is held)",
            ),
        ]
        .map(|(name, description)| {
            Ok(ActionType {
                r#type: name.into(),
                description: description.into(),
            })
        });
        Ok(Response::new(stream::iter(actions).boxed()))
    }
}

/// A prepared statement's parameters as Flight SQL describes them: `$1`, `$2`, … in order,
/// then named ones, each with the type DataFusion inferred (or null when it could not).
fn parameter_schema(plan: &datafusion::logical_expr::LogicalPlan) -> Result<Schema, Status> {
    let types = plan
        .get_parameter_types()
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let mut names: Vec<&String> = types.keys().collect();
    names.sort_by_key(|name| {
        let position = name.trim_start_matches('$').parse::<usize>().ok();
        (position.is_none(), position, name.to_string())
    });
    let fields: Vec<Field> = names
        .into_iter()
        .map(|name| {
            let data_type = types[name].clone().unwrap_or(DataType::Null);
            Field::new(name.as_str(), data_type, true)
        })
        .collect();
    Ok(Schema::new(fields))
}
