use super::*;

use Endpoint::{V1, V2, V3};

const V1_PREFIX: &str = "failed to deserialize db/rp/precision in request: ";
const V2_PREFIX: &str = "failed to deserialize org/bucket/precision in request: ";
const INVALID_CHAR: &str = "invalid character in database or rp name: must be ASCII, containing only letters, numbers, underscores, or hyphens";
const INVALID_RP: &str = "db name with invalid retention policy, if providing a retention policy name, must be of form '<db_name>/<rp_name>'";

/// The parameters of a query that must parse.
fn ok(endpoint: Endpoint, query: &str) -> WriteParams {
    match WriteParams::parse(endpoint, Some(query)) {
        Ok(params) => params,
        Err(e) => panic!("{endpoint:?} {query:?}: unexpected error {e:?}"),
    }
}

/// The message of a query that must fail with `InvalidParameter`.
fn err_of(endpoint: Endpoint, query: Option<&str>) -> String {
    match WriteParams::parse(endpoint, query) {
        Err(WriteError::InvalidParameter(m)) => m,
        other => panic!("{endpoint:?} {query:?}: expected InvalidParameter, got {other:?}"),
    }
}

fn err(endpoint: Endpoint, query: &str) -> String {
    err_of(endpoint, Some(query))
}

/// A query that names the database in the endpoint's own parameter.
fn with_db(endpoint: Endpoint, rest: &str) -> String {
    let db = match endpoint {
        V1 | V3 => "db=mydb",
        V2 => "bucket=mydb",
    };
    if rest.is_empty() {
        db.to_owned()
    } else {
        format!("{db}&{rest}")
    }
}

fn pairs(query: &str) -> Vec<(String, String)> {
    query_pairs(query)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

fn name_check(name: &str) -> Result<(), String> {
    check_database_name(name).map_err(|e| match e {
        WriteError::InvalidParameter(m) => m,
        other => panic!("{name:?}: unexpected {other:?}"),
    })
}

// ---------------------------------------------------------------------------------------
// Endpoint

#[test]
fn endpoint_paths_round_trip() {
    assert_eq!(V1.path(), "/write");
    assert_eq!(V2.path(), "/api/v2/write");
    assert_eq!(V3.path(), "/api/v3/write_lp");
    for endpoint in Endpoint::ALL {
        assert_eq!(Endpoint::from_path(endpoint.path()), Some(endpoint));
    }
    assert_eq!(Endpoint::ALL, [V1, V2, V3]);
}

#[test]
fn endpoint_from_path_is_exact() {
    for path in [
        "",
        "/",
        "write",
        "/write/",
        "//write",
        "/Write",
        "/WRITE",
        "/write?db=x",
        "/write ",
        " /write",
        "/writes",
        "/query",
        "/api/v2/write/",
        "/api/v2/Write",
        "/api/v2/write_lp",
        "api/v2/write",
        "/api/v3/write",
        "/api/v3/write_lp/",
        "/api/v3/WRITE_LP",
        "/api/v1/write",
        "/ping",
        "/health",
    ] {
        assert_eq!(Endpoint::from_path(path), None, "{path:?}");
    }
}

#[test]
fn endpoint_precision_lists() {
    let list = |e: Endpoint| e.precisions().collect::<Vec<_>>();
    assert_eq!(
        list(V1),
        [
            "n",
            "ns",
            "nanosecond",
            "u",
            "us",
            "µ",
            "microsecond",
            "ms",
            "millisecond",
            "s",
            "second",
            "m",
            "minute",
            "h",
            "hour"
        ]
    );
    assert_eq!(
        list(V2),
        [
            "n",
            "ns",
            "nanosecond",
            "u",
            "us",
            "microsecond",
            "ms",
            "millisecond",
            "s",
            "second",
            "m",
            "minute",
            "h",
            "hour"
        ]
    );
    assert_eq!(
        list(V3),
        [
            "auto",
            "n",
            "ns",
            "nanosecond",
            "u",
            "us",
            "µ",
            "microsecond",
            "ms",
            "millisecond",
            "s",
            "second",
            "m",
            "minute",
            "h",
            "hour"
        ]
    );
}

#[test]
fn default_precisions() {
    assert_eq!(V1.default_precision(), Precision::Nanosecond);
    assert_eq!(V2.default_precision(), Precision::Nanosecond);
    assert_eq!(V3.default_precision(), Precision::Auto);
}

// ---------------------------------------------------------------------------------------
// Precision per endpoint

/// Every spelling, and whether (V1, V2, V3) accept it.
const SPELLINGS: &[(&str, Precision, [bool; 3])] = &[
    ("n", Precision::Nanosecond, [true, true, true]),
    ("ns", Precision::Nanosecond, [true, true, true]),
    ("nanosecond", Precision::Nanosecond, [true, true, true]),
    ("u", Precision::Microsecond, [true, true, true]),
    ("us", Precision::Microsecond, [true, true, true]),
    ("µ", Precision::Microsecond, [true, false, true]),
    ("microsecond", Precision::Microsecond, [true, true, true]),
    ("ms", Precision::Millisecond, [true, true, true]),
    ("millisecond", Precision::Millisecond, [true, true, true]),
    ("s", Precision::Second, [true, true, true]),
    ("second", Precision::Second, [true, true, true]),
    ("m", Precision::Minute, [true, true, true]),
    ("minute", Precision::Minute, [true, true, true]),
    ("h", Precision::Hour, [true, true, true]),
    ("hour", Precision::Hour, [true, true, true]),
    ("auto", Precision::Auto, [false, false, true]),
];

#[test]
fn every_spelling_on_every_endpoint() {
    for &(spelling, precision, accepted) in SPELLINGS {
        for (endpoint, accepted) in Endpoint::ALL.into_iter().zip(accepted) {
            let direct = endpoint.parse_precision(spelling);
            let query = with_db(endpoint, &format!("precision={spelling}"));
            let parsed = WriteParams::parse(endpoint, Some(&query));
            if accepted {
                assert_eq!(direct, Ok(precision), "{endpoint:?} {spelling}");
                assert_eq!(
                    parsed.map(|p| p.precision),
                    Ok(precision),
                    "{endpoint:?} {spelling}"
                );
            } else {
                assert!(direct.is_err(), "{endpoint:?} {spelling}");
                let message = err(endpoint, &query);
                assert!(
                    message.contains(&format!("unknown variant `{spelling}`")),
                    "{endpoint:?}: {message}"
                );
            }
        }
    }
}

#[test]
fn every_spelling_is_in_the_table() {
    // The table above covers exactly the spellings the crate knows.
    let known: Vec<&str> = Precision::SPELLINGS.iter().map(|&(s, _)| s).collect();
    let tested: Vec<&str> = SPELLINGS.iter().map(|&(s, _, _)| s).collect();
    let mut known_sorted = known.clone();
    known_sorted.sort_unstable();
    let mut tested_sorted = tested.clone();
    tested_sorted.sort_unstable();
    assert_eq!(known_sorted, tested_sorted);
}

#[test]
fn unknown_precision_message_per_endpoint() {
    assert_eq!(
        err(V1, "db=x&precision=xs"),
        "failed to deserialize db/rp/precision in request: unknown variant `xs`, expected one of `n`, `ns`, `nanosecond`, `u`, `us`, `µ`, `microsecond`, `ms`, `millisecond`, `s`, `second`, `m`, `minute`, `h`, `hour`"
    );
    assert_eq!(
        err(V2, "bucket=x&precision=xs"),
        "failed to deserialize org/bucket/precision in request: unknown variant `xs`, expected one of `n`, `ns`, `nanosecond`, `u`, `us`, `microsecond`, `ms`, `millisecond`, `s`, `second`, `m`, `minute`, `h`, `hour`"
    );
    assert_eq!(
        err(V3, "db=x&precision=xs"),
        "serde error: unknown variant `xs`, expected one of `auto`, `n`, `ns`, `nanosecond`, `u`, `us`, `µ`, `microsecond`, `ms`, `millisecond`, `s`, `second`, `m`, `minute`, `h`, `hour`"
    );
    // The same text from parse_precision directly, and with the status of a bad request.
    let e = V1.parse_precision("auto").unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.message(V1).starts_with(
        "failed to deserialize db/rp/precision in request: unknown variant `auto`, expected one of `n`,"
    ));
    let e = V2.parse_precision("µ").unwrap_err();
    assert!(e.message(V2).starts_with(
        "failed to deserialize org/bucket/precision in request: unknown variant `µ`,"
    ));
}

#[test]
fn precision_is_case_sensitive() {
    for spelling in [
        "N",
        "NS",
        "Ns",
        "nS",
        "U",
        "US",
        "Us",
        "MS",
        "Ms",
        "S",
        "M",
        "H",
        "Second",
        "SECOND",
        "Nanosecond",
        "MicroSecond",
        "Hour",
        "Minute",
        "Auto",
        "AUTO",
        "Μ", // Greek capital mu
    ] {
        for endpoint in Endpoint::ALL {
            let message = err(
                endpoint,
                &with_db(endpoint, &format!("precision={spelling}")),
            );
            assert!(
                message.contains(&format!("unknown variant `{spelling}`,")),
                "{endpoint:?} {spelling}: {message}"
            );
        }
    }
}

#[test]
fn precision_lookalikes_are_rejected() {
    for spelling in [
        "",
        " s",
        "s ",
        "s\t",
        "ns\0",
        "μ", // U+03BC GREEK SMALL LETTER MU, not U+00B5 MICRO SIGN
        "µs",
        "nanoseconds",
        "seconds",
        "sec",
        "mins",
        "hours",
        "hr",
        "d",
        "w",
        "1",
        "0",
        "1s",
        "autos",
    ] {
        for endpoint in Endpoint::ALL {
            let message = err(
                endpoint,
                &with_db(endpoint, &format!("precision={spelling}")),
            );
            assert!(
                message.contains(&format!("unknown variant `{spelling}`, expected one of")),
                "{endpoint:?} {spelling:?}: {message}"
            );
        }
    }
    // `precision` with no `=` at all is the empty value.
    assert!(err(V1, "db=x&precision").contains("unknown variant ``, expected one of `n`"));
    assert!(err(V3, "db=x&precision").contains("unknown variant ``, expected one of `auto`"));
}

#[test]
fn precision_percent_and_plus_decoding() {
    // %C2%B5 is the UTF-8 of µ (U+00B5).
    assert_eq!(
        ok(V1, "db=x&precision=%C2%B5").precision,
        Precision::Microsecond
    );
    assert_eq!(
        ok(V1, "db=x&precision=%c2%b5").precision,
        Precision::Microsecond
    );
    assert_eq!(ok(V1, "db=x&precision=µ").precision, Precision::Microsecond);
    assert_eq!(
        ok(V3, "db=x&precision=%C2%B5").precision,
        Precision::Microsecond
    );
    assert!(err(V2, "bucket=x&precision=%C2%B5").contains("unknown variant `µ`"));
    // Latin-1 µ alone is not UTF-8: it decodes to U+FFFD and is unknown.
    assert!(err(V1, "db=x&precision=%B5").contains("unknown variant `\u{FFFD}`"));
    // Percent-encoded ASCII.
    assert_eq!(
        ok(V1, "db=x&precision=%6Ds").precision,
        Precision::Millisecond
    );
    assert_eq!(ok(V3, "db=x&%70recision=s").precision, Precision::Second);
    // `+` is a space, so it never names a precision.
    assert!(err(V1, "db=x&precision=s+").contains("unknown variant `s `"));
    assert!(err(V1, "db=x&precision=%2Bs").contains("unknown variant `+s`"));
}

#[test]
fn default_precision_when_absent() {
    assert_eq!(ok(V1, "db=x").precision, Precision::Nanosecond);
    assert_eq!(ok(V2, "bucket=x").precision, Precision::Nanosecond);
    assert_eq!(ok(V3, "db=x").precision, Precision::Auto);
    // A differently spelled key does not set it.
    assert_eq!(ok(V1, "db=x&Precision=s").precision, Precision::Nanosecond);
    assert_eq!(ok(V3, "db=x&precision_=s").precision, Precision::Auto);
}

// ---------------------------------------------------------------------------------------
// Missing destination

#[test]
fn no_query_string_at_all() {
    assert_eq!(err_of(V1, None), "no db destination provided");
    assert_eq!(err_of(V2, None), "no org/bucket destination provided");
    assert_eq!(err_of(V3, None), "missing query parameter 'db'");
}

#[test]
fn query_string_without_destination() {
    for query in [
        "",
        "&",
        "&&&",
        "precision=s",
        "u=x&p=y",
        "=",
        "db2=x",
        "DB=x",
    ] {
        assert_eq!(
            err(V1, query),
            "failed to deserialize db/rp/precision in request: missing field `db`",
            "{query:?}"
        );
        assert_eq!(err(V2, query), "missing bucket value", "{query:?}");
        assert_eq!(
            err(V3, query),
            "serde error: missing field `db`",
            "{query:?}"
        );
    }
    // Each endpoint reads only its own destination parameter.
    assert_eq!(err(V2, "db=x"), "missing bucket value");
    assert_eq!(
        err(V1, "bucket=x"),
        "failed to deserialize db/rp/precision in request: missing field `db`"
    );
    assert_eq!(err(V3, "bucket=x"), "serde error: missing field `db`");
}

#[test]
fn empty_destination() {
    assert_eq!(
        err(V1, "db="),
        "namespace name  length must be between 1 and 64 characters"
    );
    assert_eq!(
        err(V1, "db"),
        "namespace name  length must be between 1 and 64 characters"
    );
    assert_eq!(err(V2, "bucket="), "missing bucket value");
    assert_eq!(err(V2, "bucket"), "missing bucket value");
    assert_eq!(err(V3, "db="), "db name cannot be empty");
    assert_eq!(err(V3, "db"), "db name cannot be empty");
}

#[test]
fn missing_destination_errors_are_400() {
    for (endpoint, query) in [
        (V1, None),
        (V2, None),
        (V3, None),
        (V1, Some("")),
        (V2, Some("")),
        (V3, Some("")),
    ] {
        let e = WriteParams::parse(endpoint, query).unwrap_err();
        assert_eq!(e.status(), 400, "{endpoint:?} {query:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Successful parses and defaults

#[test]
fn full_parse_per_endpoint() {
    assert_eq!(
        ok(V1, "db=mydb"),
        WriteParams {
            database: "mydb".into(),
            precision: Precision::Nanosecond,
            accept_partial: false,
            no_sync: false,
        }
    );
    assert_eq!(
        ok(V2, "org=o&bucket=mydb&precision=s"),
        WriteParams {
            database: "mydb".into(),
            precision: Precision::Second,
            accept_partial: false,
            no_sync: false,
        }
    );
    assert_eq!(
        ok(V3, "db=mydb"),
        WriteParams {
            database: "mydb".into(),
            precision: Precision::Auto,
            accept_partial: true,
            no_sync: false,
        }
    );
    assert_eq!(
        ok(
            V3,
            "no_sync=true&accept_partial=false&precision=ms&db=a-b_c/rp_1"
        ),
        WriteParams {
            database: "a-b_c/rp_1".into(),
            precision: Precision::Millisecond,
            accept_partial: false,
            no_sync: true,
        }
    );
}

#[test]
fn parameter_order_and_empty_pairs_do_not_matter() {
    assert_eq!(ok(V1, "&precision=s&&db=x&"), ok(V1, "db=x&precision=s"));
    assert_eq!(ok(V1, "precision=s&db=x").database, "x");
    assert_eq!(ok(V2, "precision=s&bucket=x&org=o").database, "x");
}

// ---------------------------------------------------------------------------------------
// v1 rp

#[test]
fn v1_rp_that_means_the_database_itself() {
    for rp in [
        "", "''", "%27%27", "autogen", "AUTOGEN", "AutoGen", "autoGEN", "default", "DEFAULT",
        "Default",
    ] {
        assert_eq!(
            ok(V1, &format!("db=mydb&rp={rp}")).database,
            "mydb",
            "{rp:?}"
        );
    }
    assert_eq!(ok(V1, "db=mydb&rp").database, "mydb");
}

#[test]
fn v1_named_rp_is_a_separate_database() {
    assert_eq!(ok(V1, "db=mydb&rp=other").database, "mydb/other");
    assert_eq!(ok(V1, "rp=other&db=mydb").database, "mydb/other");
    assert_eq!(ok(V1, "db=mydb&rp=my_rp").database, "mydb/my_rp");
    assert_eq!(ok(V1, "db=mydb&rp=a-b").database, "mydb/a-b");
    assert_eq!(ok(V1, "db=mydb&rp=1").database, "mydb/1");
    // Lower-cased, as InfluxDB's RetentionPolicy deserializer does; the db keeps its case.
    assert_eq!(ok(V1, "db=MyDb&rp=MyRP").database, "MyDb/myrp");
    assert_eq!(ok(V1, "db=MyDb&rp=%41").database, "MyDb/a");
    // Only the whole value is special.
    assert_eq!(ok(V1, "db=mydb&rp=autogen2").database, "mydb/autogen2");
    assert_eq!(ok(V1, "db=mydb&rp=default_").database, "mydb/default_");
    // A single quote is not the empty `''`.
    assert_eq!(
        err(V1, "db=mydb&rp='"),
        "namespace name 'mydb/'' contains invalid character, character number 5 is not allowed"
    );
}

#[test]
fn v1_rp_goes_through_the_name_rules() {
    // db already holding a `/`: the concatenation has two and is rejected.
    assert_eq!(err(V1, "db=foo/bar&rp=my_rp"), INVALID_RP);
    assert_eq!(err(V1, "db=foo/my_rp&rp=my_rp"), INVALID_RP);
    let e = WriteParams::parse(V1, Some("db=foo/bar&rp=my_rp")).unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(
        e.body(V1),
        r#"{"error":"db name with invalid retention policy, if providing a retention policy name, must be of form '<db_name>/<rp_name>'"}"#
    );
    // ... unless the rp means "the database itself".
    assert_eq!(ok(V1, "db=foo/bar&rp=autogen").database, "foo/bar");
    assert_eq!(ok(V1, "db=foo/bar").database, "foo/bar");
    // An rp with a character the namespace rule rejects, counted in chars of `db/rp`.
    assert_eq!(
        err(V1, "db=db&rp=a.b"),
        "namespace name 'db/a.b' contains invalid character, character number 4 is not allowed"
    );
    assert_eq!(
        err(V1, "db=db&rp=+autogen"),
        "namespace name 'db/ autogen' contains invalid character, character number 3 is not allowed"
    );
    // An empty db with an rp: `/x` starts with a slash.
    assert_eq!(
        err(V1, "db=&rp=x"),
        "db name did not start with a number or letter"
    );
    // The 64-byte rule counts the whole `db/rp`.
    let db = "d".repeat(60);
    assert_eq!(
        ok(V1, &format!("db={db}&rp=abc")).database,
        format!("{db}/abc")
    );
    assert_eq!(
        err(V1, &format!("db={db}&rp=abcd")),
        format!("namespace name {db}/abcd length must be between 1 and 64 characters")
    );
    // An rp of `/` leaves a trailing slash.
    assert_eq!(err(V1, "db=db&rp=%2F"), INVALID_RP);
}

#[test]
fn rp_is_ignored_outside_v1() {
    assert_eq!(ok(V2, "bucket=b&rp=other").database, "b");
    assert_eq!(ok(V3, "db=d&rp=other").database, "d");
    assert_eq!(ok(V2, "bucket=b&rp=1&rp=2").database, "b");
    assert_eq!(ok(V3, "db=d&rp=1&rp=2").database, "d");
}

// ---------------------------------------------------------------------------------------
// v2 bucket and org

#[test]
fn v2_bucket_mapping() {
    assert_eq!(ok(V2, "bucket=db").database, "db");
    assert_eq!(ok(V2, "bucket=db/autogen").database, "db");
    assert_eq!(ok(V2, "bucket=db/default").database, "db");
    assert_eq!(ok(V2, "bucket=db%2Fautogen").database, "db");
    assert_eq!(ok(V2, "bucket=db/rp").database, "db/rp");
    // The retention part is v1's `rp`: lower-cased, so v1 and v2 reach the same database.
    assert_eq!(ok(V2, "bucket=db/Rp").database, "db/rp");
    assert_eq!(ok(V2, "bucket=MyDb/MyRP").database, "MyDb/myrp");
    assert_eq!(ok(V1, "db=MyDb&rp=MyRP").database, "MyDb/myrp");
    assert_eq!(ok(V2, "bucket=db/AUTOGEN").database, "db");
    assert_eq!(ok(V2, "bucket=db/Default").database, "db");
    assert_eq!(ok(V2, "bucket=db/autogen2").database, "db/autogen2");
    // A second slash is not split off: the name is rejected.
    assert_eq!(err(V2, "bucket=db/autogen/x"), INVALID_RP);
    assert_eq!(err(V2, "bucket=a/b/autogen"), INVALID_RP);
    assert_eq!(err(V2, "bucket=db/"), INVALID_RP);
    // No database before the slash.
    assert_eq!(
        err(V2, "bucket=/autogen"),
        "namespace name  length must be between 1 and 64 characters"
    );
    assert_eq!(
        err(V2, "bucket=/rp"),
        "db name did not start with a number or letter"
    );
}

#[test]
fn v2_org() {
    assert_eq!(ok(V2, "org=o&bucket=b").database, "b");
    assert_eq!(ok(V2, "org=my+org&bucket=b").database, "b");
    // An empty org is ignored too (InfluxDB 3 answers 204; Telegraf and the v2 clients
    // send it empty when no organization is configured).
    assert_eq!(ok(V2, "org=&bucket=b").database, "b");
    assert_eq!(ok(V2, "org&bucket=b").database, "b");
    assert_eq!(ok(V2, "bucket=b&org=").database, "b");
    // A missing bucket is reported first.
    assert_eq!(err(V2, "org="), "missing bucket value");
    // orgID is ignored, even empty or repeated.
    assert_eq!(ok(V2, "orgID=&bucket=b").database, "b");
    assert_eq!(ok(V2, "orgID=1&orgID=2&bucket=b").database, "b");
    assert_eq!(ok(V2, "orgID=0123456789abcdef&bucket=b").database, "b");
}

#[test]
fn org_is_ignored_outside_v2() {
    assert_eq!(ok(V1, "db=d&org=").database, "d");
    assert_eq!(ok(V3, "db=d&org=&org=").database, "d");
}

// ---------------------------------------------------------------------------------------
// Ignored parameters and duplicates

#[test]
fn ignored_parameters() {
    for endpoint in Endpoint::ALL {
        let query = with_db(
            endpoint,
            "consistency=one&consistency=all&u=me&u=you&orgID=&orgID=x&foo=1&foo=2&=x&=y&bar",
        );
        assert_eq!(ok(endpoint, &query).database, "mydb", "{endpoint:?}");
    }
    // Values that would be invalid if read.
    assert_eq!(ok(V1, "db=x&consistency=bogus").database, "x");
    assert_eq!(ok(V2, "bucket=x&bucket_id=%%%").database, "x");
}

#[test]
fn duplicate_recognized_keys() {
    for (query, key) in [
        ("db=a&db=b", "db"),
        ("db=a&db=a", "db"),
        ("db=a&db=", "db"),
        ("db=a&rp=x&rp=y", "rp"),
        ("db=a&rp=&rp=", "rp"),
        ("db=a&precision=s&precision=s", "precision"),
        ("db=a&p=x&p=y", "p"),
        ("db=a&d%62=b", "db"),
    ] {
        assert_eq!(
            err(V1, query),
            format!("{V1_PREFIX}duplicate field `{key}`"),
            "{query}"
        );
    }
    for (query, key) in [
        ("bucket=a&bucket=b", "bucket"),
        ("bucket=a&org=x&org=x", "org"),
        ("bucket=a&org=&org=", "org"),
        ("bucket=a&precision=s&precision=ms", "precision"),
    ] {
        assert_eq!(
            err(V2, query),
            format!("{V2_PREFIX}duplicate field `{key}`"),
            "{query}"
        );
    }
    for (query, key) in [
        ("db=a&db=b", "db"),
        ("db=a&precision=s&precision=s", "precision"),
        (
            "db=a&accept_partial=true&accept_partial=true",
            "accept_partial",
        ),
        ("db=a&no_sync=false&no_sync=true", "no_sync"),
    ] {
        assert_eq!(
            err(V3, query),
            format!("serde error: duplicate field `{key}`"),
            "{query}"
        );
    }
}

#[test]
fn duplicates_of_keys_an_endpoint_ignores() {
    // `p` is only a v1 parameter; `db` is not a v2 one; the bools are v3 only.
    assert_eq!(ok(V2, "bucket=a&p=x&p=y&db=1&db=2").database, "a");
    assert_eq!(ok(V3, "db=a&p=x&p=y&bucket=1&bucket=2").database, "a");
    assert_eq!(
        ok(
            V1,
            "db=a&accept_partial=true&accept_partial=x&no_sync=1&no_sync=2"
        )
        .database,
        "a"
    );
    assert_eq!(
        ok(
            V2,
            "bucket=a&accept_partial=x&accept_partial=y&no_sync=&no_sync="
        )
        .database,
        "a"
    );
}

#[test]
fn errors_are_reported_in_query_order() {
    // Like serde: the first bad parameter wins, and any bad value wins over a missing db.
    assert!(err(V1, "precision=xs&db=a&db=b").contains("unknown variant `xs`"));
    assert_eq!(
        err(V1, "db=a&db=b&precision=xs"),
        format!("{V1_PREFIX}duplicate field `db`")
    );
    assert!(err(V1, "precision=xs").contains("unknown variant `xs`"));
    assert!(err(V2, "precision=xs").contains("unknown variant `xs`"));
    assert!(err(V3, "precision=xs").contains("unknown variant `xs`"));
    assert!(err(V1, "precision=xs&precision=s").contains("unknown variant `xs`"));
    assert_eq!(
        err(V1, "precision=s&precision=xs"),
        format!("{V1_PREFIX}duplicate field `precision`")
    );
    const BAD_BOOL: &str = "serde error: provided string was not `true` or `false`";
    assert_eq!(err(V3, "accept_partial=1"), BAD_BOOL);
    assert_eq!(err(V3, "no_sync=1&db="), BAD_BOOL);
    assert_eq!(err(V3, "db=_x&no_sync=yes"), BAD_BOOL);
    assert_eq!(err(V3, "accept_partial=1&precision=xs"), BAD_BOOL);
    assert!(err(V3, "precision=xs&accept_partial=1").contains("unknown variant `xs`"));
    // The name rules come after the query string is read.
    assert!(err(V1, "db=bad!&precision=xs").contains("unknown variant `xs`"));
    assert!(err(V2, "bucket=&precision=xs").contains("unknown variant `xs`"));
    assert_eq!(err(V2, "org=&bucket=&precision=s"), "missing bucket value");
}

// ---------------------------------------------------------------------------------------
// v3 booleans

#[test]
fn v3_booleans() {
    assert!(ok(V3, "db=x").accept_partial);
    assert!(!ok(V3, "db=x").no_sync);
    assert!(ok(V3, "db=x&accept_partial=true").accept_partial);
    assert!(!ok(V3, "db=x&accept_partial=false").accept_partial);
    assert!(ok(V3, "db=x&no_sync=true").no_sync);
    assert!(!ok(V3, "db=x&no_sync=false").no_sync);
    assert!(ok(V3, "db=x&no_sync=%74rue").no_sync);
    for value in [
        "", "1", "0", "TRUE", "True", "FALSE", "False", "yes", "no", "on", "off", "t", "f",
        "true ", "+true", "true+", "%20true", "tru", "truee",
    ] {
        for key in ["accept_partial", "no_sync"] {
            assert_eq!(
                err(V3, &format!("db=x&{key}={value}")),
                "serde error: provided string was not `true` or `false`",
                "{key}={value:?}"
            );
        }
    }
    // A key with no `=` is the empty value.
    assert_eq!(
        err(V3, "db=x&no_sync"),
        "serde error: provided string was not `true` or `false`"
    );
}

#[test]
fn v1_v2_booleans_are_ignored_and_always_false() {
    for endpoint in [V1, V2] {
        for rest in [
            "accept_partial=true",
            "no_sync=true",
            "accept_partial=true&no_sync=true",
            "accept_partial=1&no_sync=yes",
            "accept_partial=&no_sync=",
        ] {
            let params = ok(endpoint, &with_db(endpoint, rest));
            assert!(!params.accept_partial, "{endpoint:?} {rest}");
            assert!(!params.no_sync, "{endpoint:?} {rest}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// v1/v2 namespace rule (1..=64 bytes of alphanumerics and `/ _ -`)

#[test]
fn v1_v2_namespace_rule() {
    for (endpoint, key) in [(V1, "db"), (V2, "bucket")] {
        let q = |name: &str| format!("{key}={name}");
        // Bad characters, numbered from 0 in chars.
        assert_eq!(
            err(endpoint, &q("ban'anas")),
            "namespace name 'ban'anas' contains invalid character, character number 3 is not allowed"
        );
        assert_eq!(
            err(endpoint, &q("bad!name")),
            "namespace name 'bad!name' contains invalid character, character number 3 is not allowed"
        );
        assert_eq!(
            err(endpoint, &q("a.b")),
            "namespace name 'a.b' contains invalid character, character number 1 is not allowed"
        );
        assert_eq!(
            err(endpoint, &q("a+b")),
            "namespace name 'a b' contains invalid character, character number 1 is not allowed"
        );
        assert_eq!(
            err(endpoint, &q("%00")),
            "namespace name '\0' contains invalid character, character number 0 is not allowed"
        );
        assert_eq!(
            err(endpoint, &q("é!")),
            "namespace name 'é!' contains invalid character, character number 1 is not allowed"
        );
        // Unicode letters pass this rule and fail the ASCII one.
        assert_eq!(err(endpoint, &q("café")), INVALID_CHAR);
        assert_eq!(err(endpoint, &q("caf%C3%A9")), INVALID_CHAR);
        // Underscore and hyphen pass this rule and fail "starts with a letter or digit".
        assert_eq!(
            err(endpoint, &q("_x")),
            "db name did not start with a number or letter"
        );
        assert_eq!(
            err(endpoint, &q("-x")),
            "db name did not start with a number or letter"
        );
        // Length: bytes, 64 allowed.
        let name = "a".repeat(64);
        assert_eq!(ok(endpoint, &q(&name)).database, name);
        let name = "a".repeat(65);
        assert_eq!(
            err(endpoint, &q(&name)),
            format!("namespace name {name} length must be between 1 and 64 characters")
        );
        let name = "é".repeat(32); // 64 bytes: passes the length rule
        assert_eq!(err(endpoint, &q(&name)), INVALID_CHAR);
        let name = "é".repeat(33); // 33 chars, 66 bytes
        assert_eq!(
            err(endpoint, &q(&name)),
            format!("namespace name {name} length must be between 1 and 64 characters")
        );
        // Length is checked before characters.
        let name = "!".repeat(65);
        assert_eq!(
            err(endpoint, &q(&name)),
            format!("namespace name {name} length must be between 1 and 64 characters")
        );
        // Percent-decoded before the check.
        assert_eq!(ok(endpoint, &q("my%2Ddb")).database, "my-db");
    }
}

#[test]
fn v3_has_no_64_byte_rule() {
    let name = "a".repeat(511);
    assert_eq!(ok(V3, &format!("db={name}")).database, name);
    assert_eq!(
        err(V3, &format!("db={}", "a".repeat(512))),
        "db name too long: max 511"
    );
    assert_eq!(err(V3, "db=ban'anas"), INVALID_CHAR);
    assert_eq!(err(V3, "db=caf%C3%A9"), INVALID_CHAR);
    assert_eq!(
        err(V3, "db=_x"),
        "db name did not start with a number or letter"
    );
    assert_eq!(ok(V3, "db=a/b").database, "a/b");
    assert_eq!(err(V3, "db=a/b/c"), INVALID_RP);
}

// ---------------------------------------------------------------------------------------
// check_database_name

#[test]
fn database_name_rule() {
    for name in [
        "a",
        "Z",
        "0",
        "9lives",
        "my-db_1",
        "a/b",
        "a/_",
        "a/-",
        "a-/b_",
        "A-_9/x_-",
        "x/y1",
        "db/autogen",
    ] {
        assert_eq!(name_check(name), Ok(()), "{name:?}");
    }
    let cases: &[(&str, &str)] = &[
        ("", "db name cannot be empty"),
        ("_", "db name did not start with a number or letter"),
        ("-a", "db name did not start with a number or letter"),
        ("/a", "db name did not start with a number or letter"),
        ("/", "db name did not start with a number or letter"),
        (" a", "db name did not start with a number or letter"),
        (".a", "db name did not start with a number or letter"),
        ("a/", INVALID_RP),
        ("a//b", INVALID_RP),
        ("a/b/", INVALID_RP),
        ("a/b/c", INVALID_RP),
        ("a b", INVALID_CHAR),
        ("a.b", INVALID_CHAR),
        ("a'b", INVALID_CHAR),
        ("a\0", INVALID_CHAR),
        ("a\n", INVALID_CHAR),
        ("a\t", INVALID_CHAR),
        ("a\\b", INVALID_CHAR),
        ("a:b", INVALID_CHAR),
        ("a/b.c", INVALID_CHAR),
        // Non-ASCII anywhere wins over the first-character rule.
        ("é", INVALID_CHAR),
        ("aé", INVALID_CHAR),
        ("_é", INVALID_CHAR),
        ("a/é", INVALID_CHAR),
        ("\u{FFFD}", INVALID_CHAR),
        // A second slash is found before a later bad character, and vice versa.
        ("a//.", INVALID_RP),
        ("a./b/c", INVALID_CHAR),
    ];
    for &(name, message) in cases {
        assert_eq!(name_check(name), Err(message.to_owned()), "{name:?}");
    }
    // Length: bytes, 511 allowed; checked before everything but emptiness.
    assert_eq!(name_check(&"a".repeat(511)), Ok(()));
    let long = format!("{}/{}", "a".repeat(255), "b".repeat(255));
    assert_eq!(long.len(), 511);
    assert_eq!(name_check(&long), Ok(()));
    for name in ["a".repeat(512), "_".repeat(512), "é".repeat(256)] {
        assert_eq!(
            name_check(&name),
            Err("db name too long: max 511".to_owned())
        );
    }
    assert_eq!(name_check(&"é".repeat(255)), Err(INVALID_CHAR.to_owned()));
    assert_eq!(check_database_name("").unwrap_err().status(), 400);
}

// ---------------------------------------------------------------------------------------
// query_pairs and decoding

#[test]
fn query_pairs_splitting() {
    assert_eq!(pairs(""), []);
    assert_eq!(pairs("&"), []);
    assert_eq!(pairs("&&&"), []);
    assert_eq!(pairs("a=1"), [pair("a", "1")]);
    assert_eq!(pairs("a=1&b=2"), [pair("a", "1"), pair("b", "2")]);
    assert_eq!(pairs("&a=1&&b=2&"), [pair("a", "1"), pair("b", "2")]);
    assert_eq!(pairs("a"), [pair("a", "")]);
    assert_eq!(pairs("a="), [pair("a", "")]);
    assert_eq!(pairs("=a"), [pair("", "a")]);
    assert_eq!(pairs("="), [pair("", "")]);
    assert_eq!(pairs("a=b=c"), [pair("a", "b=c")]);
    assert_eq!(pairs("a==b"), [pair("a", "=b")]);
    assert_eq!(pairs("a=1;b=2"), [pair("a", "1;b=2")]);
    assert_eq!(pairs("a=1&a=2"), [pair("a", "1"), pair("a", "2")]);
    assert_eq!(pairs("a=?b"), [pair("a", "?b")]);
    assert_eq!(pairs("a=#b"), [pair("a", "#b")]);
}

#[test]
fn query_pairs_decoding() {
    assert_eq!(pairs("a+b=c+d"), [pair("a b", "c d")]);
    assert_eq!(pairs("a=++"), [pair("a", "  ")]);
    assert_eq!(pairs("%41=%7e"), [pair("A", "~")]);
    assert_eq!(pairs("%61%62=%63"), [pair("ab", "c")]);
    assert_eq!(pairs("a=%2B"), [pair("a", "+")]);
    assert_eq!(pairs("a=%26b%3Dc"), [pair("a", "&b=c")]);
    assert_eq!(pairs("a=%25"), [pair("a", "%")]);
    assert_eq!(pairs("a=%2525"), [pair("a", "%25")]);
    assert_eq!(pairs("a=%00"), [pair("a", "\0")]);
    assert_eq!(pairs("a=%C2%B5"), [pair("a", "µ")]);
    assert_eq!(pairs("a=%c2%b5"), [pair("a", "µ")]);
    assert_eq!(pairs("a=%C2%b5"), [pair("a", "µ")]);
    assert_eq!(pairs("a=%E2%82%AC"), [pair("a", "€")]);
    assert_eq!(pairs("a=µ€"), [pair("a", "µ€")]);
    // Invalid UTF-8 after decoding becomes U+FFFD.
    assert_eq!(pairs("a=%FF"), [pair("a", "\u{FFFD}")]);
    assert_eq!(pairs("a=%C2"), [pair("a", "\u{FFFD}")]);
    assert_eq!(pairs("a=x%C2y"), [pair("a", "x\u{FFFD}y")]);
}

#[test]
fn query_pairs_malformed_percent_stays_as_written() {
    for (raw, decoded) in [
        ("%", "%"),
        ("%%", "%%"),
        ("%4", "%4"),
        ("a%", "a%"),
        ("a%4", "a%4"),
        ("%zz", "%zz"),
        ("%4g", "%4g"),
        ("%g4", "%g4"),
        ("%%41", "%A"),
        ("%4%41", "%4A"),
        ("100%", "100%"),
        ("%+", "% "),
        ("%+1", "% 1"),
        ("% 1", "% 1"),
        ("%-1", "%-1"),
        ("%é", "%é"),
        ("%4é", "%4é"),
    ] {
        assert_eq!(pairs(&format!("k={raw}")), [pair("k", decoded)], "{raw:?}");
        assert_eq!(pairs(&format!("{raw}=v")), [pair(decoded, "v")], "{raw:?}");
    }
}

#[test]
fn query_pairs_borrow_when_nothing_to_decode() {
    let mut it = query_pairs("db=plain&x=a+b&y=%41");
    let (k, v) = it.next().unwrap();
    assert!(matches!(k, Cow::Borrowed("db")));
    assert!(matches!(v, Cow::Borrowed("plain")));
    let (k, v) = it.next().unwrap();
    assert!(matches!(k, Cow::Borrowed("x")));
    assert!(matches!(v, Cow::Owned(ref s) if s == "a b"));
    let (_, v) = it.next().unwrap();
    assert!(matches!(v, Cow::Owned(ref s) if s == "A"));
    assert!(it.next().is_none());
}

#[test]
fn decoding_applies_to_every_parameter() {
    assert_eq!(ok(V1, "%64%62=my%5Fdb").database, "my_db");
    assert_eq!(ok(V1, "db=d&%72%70=%72%70").database, "d/rp");
    assert_eq!(ok(V2, "%62ucket=b%2Fdefault").database, "b");
    assert!(!ok(V3, "db=d&accept%5Fpartial=false").accept_partial);
    assert_eq!(
        err(V1, "db=a%26b"),
        "namespace name 'a&b' contains invalid character, character number 1 is not allowed"
    );
    // A malformed escape stays and is then a bad character.
    assert_eq!(
        err(V1, "db=a%zz"),
        "namespace name 'a%zz' contains invalid character, character number 1 is not allowed"
    );
    assert_eq!(err(V3, "db=a%"), INVALID_CHAR);
}

// ---------------------------------------------------------------------------------------
// password_param

#[test]
fn password_param_cases() {
    assert_eq!(password_param(None), None);
    assert_eq!(password_param(Some("")), None);
    assert_eq!(password_param(Some("db=x")), None);
    assert_eq!(password_param(Some("p=tok")), Some("tok".into()));
    assert_eq!(password_param(Some("u=me&p=tok")), Some("tok".into()));
    assert_eq!(password_param(Some("p=tok&u=me")), Some("tok".into()));
    assert_eq!(
        password_param(Some("db=x&p=tok&precision=s")),
        Some("tok".into())
    );
    assert_eq!(password_param(Some("p=")), Some(String::new()));
    assert_eq!(password_param(Some("p")), Some(String::new()));
    assert_eq!(password_param(Some("p=a%2Bb")), Some("a+b".into()));
    assert_eq!(password_param(Some("p=a+b")), Some("a b".into()));
    assert_eq!(password_param(Some("p=a=b")), Some("a=b".into()));
    assert_eq!(password_param(Some("%70=tok")), Some("tok".into()));
    assert_eq!(password_param(Some("p=%FF")), Some("\u{FFFD}".into()));
    // Not `p`.
    assert_eq!(password_param(Some("P=tok")), None);
    assert_eq!(password_param(Some("pp=tok")), None);
    assert_eq!(password_param(Some("p%20=tok")), None);
    assert_eq!(password_param(Some("u=tok")), None);
    // Two `p`s are ambiguous: no token from the query.
    assert_eq!(password_param(Some("p=a&p=b")), None);
    assert_eq!(password_param(Some("p=a&p=a")), None);
    assert_eq!(password_param(Some("p=a&p=")), None);
    assert_eq!(password_param(Some("p=a&%70=b")), None);
}
