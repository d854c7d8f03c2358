//! Arrow Flight on the server's HTTP port, through arrow-flight's own gRPC clients over
//! 127.0.0.1: InfluxDB 3's JSON tickets (SQL and InfluxQL), Flight SQL's listings,
//! statements and prepared statements, and the same token scopes as HTTP.

mod common;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampNanosecondArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_client::FlightServiceClient;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    CommandGetDbSchemas, CommandGetTables, CommandStatementUpdate, ProstMessageExt,
};
use arrow_flight::{FlightData, FlightDescriptor, FlightInfo, Ticket};
use common::{temp_dir, Server, ADMIN};
use futures::TryStreamExt;
use prost::Message;
use std::sync::Arc;
use tonic::transport::Channel;
use tonic::Code;

/// Every field type, tags, nanosecond times.
const POINTS: &str = "\
cpu,host=a,region=eu usage=1.5,count=3i,big=18446744073709551615u,note=\"quote \\\" é ✓\",ok=true 1700000000000000001
cpu,host=b,region=us usage=-0.25,count=-4i,big=0u,note=\"b\",ok=false 1700000001999999999
";

async fn write(server: &Server, db: &str, body: &str) {
    let answer = reqwest::Client::new()
        .post(server.url(&format!("/api/v3/write_lp?db={db}")))
        .bearer_auth(ADMIN)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204, "{}", answer.text().await.unwrap());
}

async fn create_token(server: &Server, body: &str) -> String {
    let answer = reqwest::Client::new()
        .post(server.url("/api/v3/configure/token"))
        .bearer_auth(ADMIN)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let created: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    created["token"].as_str().unwrap().to_owned()
}

async fn channel(server: &Server) -> Channel {
    Channel::from_shared(server.base.clone())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// `DoGet` with InfluxDB 3's JSON ticket, as its client libraries send it.
async fn ticket_query(
    server: &Server,
    authorization: &str,
    ticket: serde_json::Value,
) -> Result<Vec<RecordBatch>, tonic::Status> {
    let mut client = FlightServiceClient::new(channel(server).await);
    let mut request = tonic::Request::new(Ticket::new(ticket.to_string()));
    request
        .metadata_mut()
        .insert("authorization", authorization.parse().unwrap());
    let stream = client.do_get(request).await?.into_inner();
    let batches = arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(
        stream.map_err(|s| s.into()),
    )
    .try_collect::<Vec<_>>()
    .await
    .map_err(|e| match e {
        FlightError::Tonic(status) => *status,
        other => tonic::Status::unknown(other.to_string()),
    })?;
    Ok(batches)
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", batch.schema()))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| {
            panic!(
                "column {name} is {}",
                batch.column_by_name(name).unwrap().data_type()
            )
        })
}

fn one(batches: &[RecordBatch]) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
}

/// The written points, every value and type exact.
fn check_points(batch: &RecordBatch) {
    assert_eq!(batch.num_rows(), 2);
    let times = column::<TimestampNanosecondArray>(batch, "time");
    assert_eq!(
        times.values(),
        &[1_700_000_000_000_000_001, 1_700_000_001_999_999_999]
    );
    let host = column::<StringArray>(batch, "host");
    assert_eq!((host.value(0), host.value(1)), ("a", "b"));
    let usage = column::<Float64Array>(batch, "usage");
    assert_eq!(usage.values(), &[1.5, -0.25]);
    assert_eq!(column::<Int64Array>(batch, "count").values(), &[3, -4]);
    assert_eq!(column::<UInt64Array>(batch, "big").values(), &[u64::MAX, 0]);
    let note = column::<StringArray>(batch, "note");
    assert_eq!(note.value(0), "quote \" é ✓");
    let ok = column::<BooleanArray>(batch, "ok");
    assert!(ok.value(0) && !ok.value(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn influxdb3_tickets_read_sql_and_influxql() {
    let dir = temp_dir("flight-ticket");
    let server = Server::start(dir.path(), &[]);
    write(&server, "fa", POINTS).await;
    let bearer = format!("Bearer {ADMIN}");

    let sql = serde_json::json!({
        "database": "fa",
        "sql_query": "SELECT * FROM cpu ORDER BY time",
        "query_type": "sql",
    });
    let batches = ticket_query(&server, &bearer, sql).await.unwrap();
    check_points(&one(&batches));

    // Named parameters, as the clients' `query_parameters` send them.
    let with_params = serde_json::json!({
        "database": "fa",
        "sql_query": "SELECT host FROM cpu WHERE region = $region AND count < $limit",
        "query_type": "sql",
        "params": {"region": "us", "limit": 0},
    });
    let batch = one(&ticket_query(&server, &bearer, with_params).await.unwrap());
    assert_eq!(column::<StringArray>(&batch, "host").value(0), "b");
    assert_eq!(batch.num_rows(), 1);

    // InfluxQL: the measurement as the first column, then time, as InfluxDB 3 answers.
    let influxql = serde_json::json!({
        "database": "fa",
        "sql_query": "SELECT usage, count, big, note, ok FROM cpu WHERE host = 'a'",
        "query_type": "influxql",
    });
    let batch = one(&ticket_query(&server, &bearer, influxql).await.unwrap());
    assert_eq!(batch.schema().field(0).name(), "iox::measurement");
    assert_eq!(batch.schema().field(1).name(), "time");
    assert_eq!(
        column::<StringArray>(&batch, "iox::measurement").value(0),
        "cpu"
    );
    assert_eq!(
        column::<TimestampNanosecondArray>(&batch, "time").value(0),
        1_700_000_000_000_000_001
    );
    assert_eq!(column::<UInt64Array>(&batch, "big").value(0), u64::MAX);
    assert_eq!(
        column::<StringArray>(&batch, "note").value(0),
        "quote \" é ✓"
    );

    // Token, Basic (the token as password) work as on HTTP; an empty answer has its schema.
    let basic = format!("Basic {}", base64_encode(&format!("any:{ADMIN}")));
    for auth in [format!("Token {ADMIN}"), basic] {
        let empty = serde_json::json!({
            "database": "fa",
            "sql_query": "SELECT host FROM cpu WHERE host = 'nobody'",
        });
        let batches = ticket_query(&server, &auth, empty).await.unwrap();
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
    }

    // Errors are gRPC statuses with the HTTP API's messages.
    let bad = serde_json::json!({"database": "fa", "sql_query": "SELEC 1"});
    let status = ticket_query(&server, &bearer, bad).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let missing = serde_json::json!({"database": "nope", "sql_query": "SELECT 1"});
    let status = ticket_query(&server, &bearer, missing).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("database not found: nope"));

    // Nothing changes over Flight, even with the admin token.
    for (query_type, q) in [
        ("influxql", "DROP MEASUREMENT cpu"),
        ("influxql", "DELETE FROM cpu"),
        ("sql", "DELETE FROM cpu"),
        ("sql", "COPY cpu TO '/tmp/x.parquet'"),
    ] {
        let ticket =
            serde_json::json!({"database": "fa", "sql_query": q, "query_type": query_type});
        let status = ticket_query(&server, &bearer, ticket).await.unwrap_err();
        assert!(
            matches!(
                status.code(),
                Code::PermissionDenied | Code::InvalidArgument
            ),
            "{q}: {status:?}"
        );
    }
    let all = serde_json::json!({"database": "fa", "sql_query": "SELECT * FROM cpu"});
    assert_eq!(
        one(&ticket_query(&server, &bearer, all).await.unwrap()).num_rows(),
        2
    );

    // HTTP still answers on the same port.
    let ping = reqwest::get(server.url("/ping")).await.unwrap();
    assert_eq!(ping.status(), 204);
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_scoped_as_on_http() {
    let dir = temp_dir("flight-scope");
    let server = Server::start(dir.path(), &[]);
    write(&server, "fa", POINTS).await;
    write(&server, "fb", POINTS).await;
    let reader = create_token(&server, r#"{"database":"fa","permission":"read"}"#).await;
    let auth = format!("Bearer {reader}");
    let ticket = |db: &str| serde_json::json!({"database": db, "sql_query": "SELECT * FROM cpu"});

    assert_eq!(
        one(&ticket_query(&server, &auth, ticket("fa")).await.unwrap()).num_rows(),
        2
    );
    let status = ticket_query(&server, &auth, ticket("fb"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // InfluxQL naming the other database inside the statement: refused the same way.
    let qualified = serde_json::json!({"database": "fa", "sql_query": "SELECT * FROM fb..cpu",
        "query_type": "influxql"});
    let status = ticket_query(&server, &auth, qualified).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = ticket_query(&server, "Bearer apiv3_wrong", ticket("fa"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = ticket_query(&server, "Bearer", ticket("fa"))
        .await
        .unwrap_err();
    assert_ne!(status.code(), Code::Ok);

    // Flight SQL: the database in the header, the same scope.
    let mut client = FlightSqlServiceClient::new(channel(&server).await);
    client.set_token(reader.clone());
    client.set_header("database", "fb");
    let error = client
        .execute("SELECT * FROM cpu".into(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, FlightError::Tonic(s) if s.code() == Code::PermissionDenied),
        "{error}"
    );
    client.set_header("database", "fa");
    let info = client
        .execute("SELECT * FROM cpu".into(), None)
        .await
        .unwrap();
    assert_eq!(one(&fetch(&mut client, info).await).num_rows(), 2);
    server.stop();
}

async fn fetch(client: &mut FlightSqlServiceClient<Channel>, info: FlightInfo) -> Vec<RecordBatch> {
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let ticket = endpoint.ticket.expect("a ticket");
        let stream = client.do_get(ticket).await.unwrap();
        batches.extend(stream.try_collect::<Vec<_>>().await.unwrap());
    }
    batches
}

fn strings(batch: &RecordBatch, name: &str) -> Vec<String> {
    let array = column::<StringArray>(batch, name);
    (0..array.len())
        .map(|i| array.value(i).to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn flight_sql_lists_queries_and_prepares() {
    let dir = temp_dir("flight-sql");
    let server = Server::start(dir.path(), &[]);
    write(&server, "fa", POINTS).await;
    write(&server, "fa", "mem,host=a used=1i 1700000000000000000\n").await;
    let mut client = FlightSqlServiceClient::new(channel(&server).await);
    client.set_token(ADMIN.into());
    client.set_header("database", "fa");

    let info = client.get_catalogs().await.unwrap();
    assert_eq!(
        strings(&one(&fetch(&mut client, info).await), "catalog_name"),
        ["public"]
    );

    let info = client
        .get_db_schemas(CommandGetDbSchemas::default())
        .await
        .unwrap();
    let schemas = strings(&one(&fetch(&mut client, info).await), "db_schema_name");
    assert!(schemas.contains(&"iox".to_owned()), "{schemas:?}");

    let info = client
        .get_tables(CommandGetTables {
            db_schema_filter_pattern: Some("iox".into()),
            include_schema: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let tables = one(&fetch(&mut client, info).await);
    assert_eq!(strings(&tables, "table_name"), ["cpu", "mem"]);
    assert_eq!(strings(&tables, "table_type"), ["BASE TABLE", "BASE TABLE"]);
    // The included schema is the table's, as IPC.
    let ipc = tables
        .column_by_name("table_schema")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow::array::BinaryArray>()
        .unwrap()
        .value(0)
        .to_vec();
    let schema = Schema::try_from(arrow_flight::IpcMessage(ipc.into())).unwrap();
    assert!(schema.field_with_name("usage").is_ok(), "{schema:?}");

    let info = client.get_sql_info(vec![]).await.unwrap();
    assert!(one(&fetch(&mut client, info).await).num_rows() > 0);
    let info = client.get_table_types().await.unwrap();
    assert_eq!(
        strings(&one(&fetch(&mut client, info).await), "table_type"),
        ["BASE TABLE", "VIEW"]
    );

    // A statement, qualified as the listings name it.
    let info = client
        .execute("SELECT * FROM public.iox.cpu ORDER BY time".into(), None)
        .await
        .unwrap();
    check_points(&one(&fetch(&mut client, info).await));

    // Prepared statements, with `$1` and with `?`, a parameter of each kind.
    for sql in [
        "SELECT host, usage FROM cpu WHERE region = $1 AND time > $2",
        "SELECT host, usage FROM cpu WHERE region = ? AND time > ?",
    ] {
        let mut prepared = client.prepare(sql.into(), None).await.unwrap();
        let parameters = prepared.parameter_schema().unwrap().clone();
        assert_eq!(parameters.fields().len(), 2, "{sql}: {parameters:?}");
        let schema = Arc::new(Schema::new(vec![
            Field::new("region", DataType::Utf8, false),
            Field::new(
                "after",
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                false,
            ),
        ]));
        let values: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["us"])),
            Arc::new(TimestampNanosecondArray::from(vec![
                1_700_000_000_000_000_000,
            ])),
        ];
        prepared
            .set_parameters(RecordBatch::try_new(schema, values).unwrap())
            .unwrap();
        let info = prepared.execute().await.unwrap();
        let batch = one(&fetch(&mut client, info).await);
        assert_eq!(strings(&batch, "host"), ["b"], "{sql}");
        assert_eq!(column::<Float64Array>(&batch, "usage").value(0), -0.25);
        prepared.close().await.unwrap();
    }

    // A named parameter binds by position too; a wrong count is refused.
    let mut prepared = client
        .prepare("SELECT host FROM cpu WHERE region = $region".into(), None)
        .await
        .unwrap();
    let one_string = |value: &str| {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8, false)]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(StringArray::from(vec![value])) as ArrayRef],
        )
        .unwrap()
    };
    prepared.set_parameters(one_string("eu")).unwrap();
    let info = prepared.execute().await.unwrap();
    assert_eq!(
        strings(&one(&fetch(&mut client, info).await), "host"),
        ["a"]
    );
    let mut two = client
        .prepare(
            "SELECT host FROM cpu WHERE region = $1 AND host = $2".into(),
            None,
        )
        .await
        .unwrap();
    two.set_parameters(one_string("eu")).unwrap();
    assert!(
        two.execute().await.is_err(),
        "one value bound to two parameters"
    );

    // Updates are refused: Flight here only reads.
    let update = CommandStatementUpdate {
        query: "INSERT INTO cpu VALUES (1)".into(),
        transaction_id: None,
    };
    let descriptor = FlightDescriptor::new_cmd(update.as_any().encode_to_vec());
    let data = FlightData {
        flight_descriptor: Some(descriptor),
        ..Default::default()
    };
    let refused = client.do_put(futures::stream::iter([data])).await;
    let refused = match refused {
        Ok(mut results) => results.message().await.err(),
        Err(e) => Some(tonic::Status::unknown(e.to_string())),
    };
    assert!(
        refused.is_some(),
        "an update over Flight SQL was not refused"
    );
    server.stop();
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
