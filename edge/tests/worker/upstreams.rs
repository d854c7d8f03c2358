//! The `UPSTREAMS` configuration, each write API's URLs and credentials, and how the answers
//! of several upstreams make one.

use linegate::lp::{LineError, LineErrorKind};
use linegate::{Endpoint, WriteError};
use linegate_edge::map::{self, Answer, Delivery, Forwarded, UpstreamOutcome};
use linegate_edge::upstream::{self, Api, Upstream};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn one(json: &str) -> Upstream {
    let mut list = upstream::parse(json).unwrap();
    assert_eq!(list.len(), 1);
    list.remove(0)
}

#[test]
fn a_list_of_upstreams_each_with_its_api_databases_token_and_org() {
    let list = upstream::parse(
        r#"[{"url": "http://127.0.0.1:8181/", "api": "v3", "databases": ["*"], "token_secret": "LOCAL"},
            {"url": "https://cloud.example", "api": "v2", "org": "acme", "databases": ["telegraf*", "app"],
             "token_secret": "CLOUD", "name": "cloud"},
            {"url": "http://10.0.0.5:8086", "api": "v1", "databases": ["legacy"]}]"#,
    )
    .unwrap();
    assert_eq!(
        list[0],
        Upstream {
            name: "v3-127.0.0.1-8181".into(),
            url: "http://127.0.0.1:8181".into(),
            api: Api::V3,
            databases: vec!["*".into()],
            token_secret: Some("LOCAL".into()),
            org: None,
        }
    );
    assert_eq!(list[1].name, "cloud");
    assert_eq!(list[1].org.as_deref(), Some("acme"));
    assert_eq!(list[2].name, "v1-10.0.0.5-8086");
    assert_eq!(list[2].token_secret, None);

    let names = |db: &str| -> Vec<&str> {
        upstream::for_database(&list, db)
            .iter()
            .map(|u| u.name.as_str())
            .collect()
    };
    assert_eq!(names("telegraf"), ["v3-127.0.0.1-8181", "cloud"]);
    assert_eq!(names("telegraf_eu/weekly"), ["v3-127.0.0.1-8181", "cloud"]);
    assert_eq!(names("legacy"), ["v3-127.0.0.1-8181", "v1-10.0.0.5-8086"]);
    assert_eq!(names("other"), ["v3-127.0.0.1-8181"]);
}

#[test]
fn the_single_upstream_url_is_a_one_item_list() {
    let list = upstream::from_vars(None, Some("http://127.0.0.1:8181")).unwrap();
    assert_eq!(
        list,
        [Upstream {
            name: String::new(),
            url: "http://127.0.0.1:8181".into(),
            api: Api::V3,
            databases: vec!["*".into()],
            token_secret: Some("UPSTREAM_TOKEN".into()),
            org: None,
        }]
    );
    // Its spool is the one that was there before upstreams had names.
    assert_eq!(list[0].spool_prefix(), "spool/");
    assert_eq!(
        one(r#"[{"url":"http://s","api":"v1","databases":["*"],"name":"eu"}]"#).spool_prefix(),
        "spool/eu/"
    );
}

#[test]
fn a_bad_configuration_says_what_to_fix() {
    let err = |upstreams: Option<&str>, url: Option<&str>| {
        upstream::from_vars(upstreams, url).unwrap_err()
    };
    assert_eq!(err(None, None), "UPSTREAMS is not set");
    assert_eq!(
        err(Some("[]"), Some("http://s")),
        "set UPSTREAMS or UPSTREAM_URL, not both"
    );
    assert!(err(Some("[{"), None).starts_with("UPSTREAMS is not valid JSON"));
    assert!(err(Some("[]"), None).contains("non-empty JSON list"));
    assert!(err(Some("{}"), None).contains("non-empty JSON list"));
    assert!(err(None, Some("127.0.0.1:8181")).contains("http:// or https:// URL"));
    let cases = [
        (r#"[1]"#, "UPSTREAMS[0]: not a JSON object"),
        (
            r#"[{"api":"v3","databases":["*"]}]"#,
            "UPSTREAMS[0]: \"url\" is missing",
        ),
        (
            r#"[{"url":"http://s","databases":["*"]}]"#,
            "UPSTREAMS[0]: \"api\" is missing (\"v1\", \"v2\" or \"v3\")",
        ),
        (
            r#"[{"url":"http://s","api":"v4","databases":["*"]}]"#,
            "UPSTREAMS[0]: \"api\" must be \"v1\", \"v2\" or \"v3\", not \"v4\"",
        ),
        (
            r#"[{"url":"http://s","api":"v3"}]"#,
            "UPSTREAMS[0]: \"databases\" must be a non-empty list of names or patterns ([\"*\"] for all)",
        ),
        (
            r#"[{"url":"http://s","api":"v3","databases":[""]}]"#,
            "UPSTREAMS[0]: \"databases\" must list non-empty names or patterns",
        ),
        (
            r#"[{"url":"http://s","api":"v3","databases":["*"],"token":"x"}]"#,
            "UPSTREAMS[0]: unknown key \"token\" (known: name, url, api, databases, token_secret, org)",
        ),
        (
            r#"[{"url":"http://s","api":"v3","databases":["*"],"org":"acme"}]"#,
            "UPSTREAMS[0]: \"org\" is only for \"api\": \"v2\"",
        ),
        (
            r#"[{"url":"http://s?db=x","api":"v3","databases":["*"]}]"#,
            "UPSTREAMS[0]: \"url\" must be a base URL, without a query, fragment or spaces: \"http://s?db=x\"",
        ),
        (
            r#"[{"url":"http://s","api":"v3","databases":["*"],"name":"1st"}]"#,
            "UPSTREAMS[0]: \"name\" \"1st\" must start with a letter and hold only letters, digits, '-', '_' and '.'",
        ),
        (
            r#"[{"url":"http://s","api":"v3","databases":["a"]},{"url":"http://s/","api":"v3","databases":["b"]}]"#,
            "UPSTREAMS[1]: another upstream is named \"v3-s\": give each a distinct \"name\"",
        ),
    ];
    for (json, message) in cases {
        assert_eq!(err(Some(json), None), message, "{json}");
    }
}

#[test]
fn database_patterns() {
    for (pattern, name, expected) in [
        ("*", "anything/rp", true),
        ("metrics", "metrics", true),
        ("metrics", "metrics2", false),
        ("metrics", "metrics/rp", false),
        ("metrics*", "metrics/rp", true),
        ("*/weekly", "a/weekly", true),
        ("*/weekly", "a/daily", false),
        ("m?trics", "metrics", true),
        ("m?trics", "mtrics", false),
        ("a*b*c", "a__b__b__c", true),
        ("a*b*c", "a__b__c_", false),
        ("**", "", true),
        ("é*", "été", true),
    ] {
        assert_eq!(
            upstream::matches(pattern, name),
            expected,
            "{pattern} ~ {name}"
        );
    }
    // No exponential backtracking.
    let long = "a".repeat(10_000);
    assert!(!upstream::matches("*a*a*a*a*a*a*b", &long));
}

#[test]
fn each_api_gets_its_own_url() {
    let v3 = one(r#"[{"url":"http://127.0.0.1:8181/","api":"v3","databases":["*"]}]"#);
    assert_eq!(
        v3.write_url("metrics", true, false),
        "http://127.0.0.1:8181/api/v3/write_lp?db=metrics&precision=nanosecond&accept_partial=true"
    );
    assert_eq!(
        v3.write_url("db/rp", false, true),
        "http://127.0.0.1:8181/api/v3/write_lp?db=db%2Frp&precision=nanosecond&accept_partial=false&no_sync=true"
    );
    assert_eq!(
        v3.write_url("a b&c=d_é~", true, false),
        "http://127.0.0.1:8181/api/v3/write_lp?db=a+b%26c%3Dd_%C3%A9%7E&precision=nanosecond&accept_partial=true"
    );

    let v2 = one(r#"[{"url":"https://c.example","api":"v2","org":"a&b","databases":["*"]}]"#);
    assert_eq!(
        v2.write_url("db/rp", true, true),
        "https://c.example/api/v2/write?bucket=db%2Frp&org=a%26b&precision=ns"
    );
    let v2_no_org = one(r#"[{"url":"https://c.example","api":"v2","databases":["*"]}]"#);
    assert_eq!(
        v2_no_org.write_url("db", false, false),
        "https://c.example/api/v2/write?bucket=db&precision=ns"
    );

    let v1 = one(r#"[{"url":"http://old:8086","api":"v1","databases":["*"]}]"#);
    assert_eq!(
        v1.write_url("db/weekly", true, true),
        "http://old:8086/write?db=db&rp=weekly&precision=ns"
    );
    assert_eq!(
        v1.write_url("db", false, false),
        "http://old:8086/write?db=db&precision=ns"
    );

    // Queries: `/query` everywhere, the v3 query API only on v3.
    assert!(v1.answers_query("/query") && v2.answers_query("/query"));
    assert!(!v1.answers_query("/api/v3/query_sql") && !v2.answers_query("/api/v3/query_sql"));
    assert!(v3.answers_query("/api/v3/query_sql"));
    assert_eq!(
        v3.query_url("/api/v3/query_sql", Some("db=a&q=x")),
        "http://127.0.0.1:8181/api/v3/query_sql?db=a&q=x"
    );
    assert_eq!(v1.query_url("/query", Some("")), "http://old:8086/query");
}

#[test]
fn each_api_gets_the_token_in_its_own_scheme() {
    let with = |api: &str| {
        one(&format!(
            r#"[{{"url":"http://s","api":"{api}","databases":["*"]}}]"#
        ))
    };
    assert_eq!(with("v3").authorization("tok"), "Bearer tok");
    assert_eq!(with("v2").authorization("tok"), "Token tok");
    // base64("linegate:tok") and base64("admin:secret").
    assert_eq!(with("v1").authorization("tok"), "Basic bGluZWdhdGU6dG9r");
    assert_eq!(
        with("v1").authorization("admin:secret"),
        "Basic YWRtaW46c2VjcmV0"
    );
}

#[test]
fn v1_storage_gets_its_database_created() {
    let v1 = one(r#"[{"url":"http://old:8086","api":"v1","databases":["*"]}]"#);
    assert_eq!(
        v1.create_database(r#"we"ird\db"#),
        Some((
            "http://old:8086/query".into(),
            "q=CREATE+DATABASE+%22we%5C%22ird%5C%5Cdb%22".into()
        ))
    );
    assert_eq!(v1.create_database("db/weekly"), None);
    let v3 = one(r#"[{"url":"http://s","api":"v3","databases":["*"]}]"#);
    assert_eq!(v3.create_database("db"), None);
    assert!(map::database_missing(
        404,
        r#"{"error":"database not found: \"edge1\""}"#
    ));
    assert!(!map::database_missing(404, r#"{"error":"Not found"}"#));
    assert!(!map::database_missing(400, "database not found"));
}

fn rejected_line() -> LineError {
    LineError {
        line: 2,
        column: 1,
        kind: LineErrorKind::Reported("bad".into()),
        original_line: "x".into(),
    }
}

#[test]
fn replicas_answer_as_one() {
    let refused = Answer {
        status: 400,
        headers: Vec::new(),
        body: r#"{"error":"type conflict"}"#.into(),
    };
    let spooled = |key: &str| Delivery::Spooled(key.into());
    for endpoint in [Endpoint::V1, Endpoint::V2, Endpoint::V3] {
        let combine = |deliveries: &[Delivery]| map::combine(endpoint, &[], deliveries, 7);
        assert_eq!(
            combine(&[Delivery::Stored, Delivery::Stored]),
            Answer::no_content()
        );
        let mut answer = Answer::no_content();
        answer
            .headers
            .push(("X-Linegate-Spooled", "spool/a/1, spool/b/2".into()));
        assert_eq!(
            combine(&[spooled("spool/a/1"), Delivery::Stored, spooled("spool/b/2")]),
            answer
        );
        let unavailable = Answer::error(&WriteError::Unavailable { retry_after: 7 }, endpoint);
        assert_eq!(combine(&[Delivery::Stored, Delivery::Failed]), unavailable);
        assert_eq!(combine(&[]), unavailable);
        assert_eq!(
            combine(&[
                Delivery::Failed,
                Delivery::Refused(refused.clone()),
                Delivery::Stored
            ]),
            refused
        );
        // The edge's own rejected lines (a v3 partial write) survive replication.
        assert_eq!(
            map::combine(endpoint, &[rejected_line()], &[Delivery::Stored], 7).status,
            400
        );
    }
}

#[test]
fn a_v1_storage_refusal_is_told_in_the_client_endpoint_shape() {
    // InfluxDB 1.x's answer to a type conflict: no line numbers, the message as it is.
    let body = "cpu v=1\n";
    let forwarded = Forwarded {
        endpoint: Endpoint::V2,
        line_numbers: vec![1],
        body: body.as_bytes(),
        rejected: &[],
    };
    let answer = r#"{"error":"partial write: field type conflict: input field \"v\" on measurement \"cpu\" is type float, already exists as type string dropped=1"}"#;
    let UpstreamOutcome::Answer(mapped) = map::map_upstream(400, answer, &forwarded) else {
        panic!("a 400 is an answer");
    };
    assert_eq!(mapped.status, 400);
    let json: serde_json::Value = serde_json::from_str(&mapped.body).unwrap();
    assert_eq!(json["code"], "invalid");
    assert_eq!(
        json["message"],
        r#"partial write: field type conflict: input field "v" on measurement "cpu" is type float, already exists as type string dropped=1"#
    );
}
