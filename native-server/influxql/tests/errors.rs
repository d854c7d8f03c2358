//! Error messages, checked against InfluxDB 1.x's own parser tests (influxql/parser_test.go)
//! wherever 1.x has one, so clients that show 1.x's messages show the same text.

use linegate_influxql::{parse, ErrorKind, Position};

fn error(text: &str) -> String {
    match parse(text) {
        Ok(query) => panic!("{text:?} parsed: {query:?}"),
        Err(e) => e.message,
    }
}

#[track_caller]
fn check(cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (text, want) in cases {
        let got = match parse(text) {
            Ok(query) => format!("Ok({query:?})"),
            Err(e) => e.message,
        };
        if got != *want {
            failures.push(format!("{text:?}\n   want: {want}\n    got: {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The cases of 1.x's `TestParser_ParseStatement` error table that concern the statements
/// parsed here, verbatim.
#[test]
fn matches_influxdb_1x_error_table() {
    check(&[
        // 1.x's table parses "" as one statement; a whole query may be empty (see parse.rs).
        ("SELECT 1 FROM m;;x", "found x, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 18"),
        ("SELECT", "found EOF, expected identifier, string, number, bool at line 1, char 8"),
        ("blah blah", "found blah, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1"),
        ("SELECT field1 X", "found X, expected FROM at line 1, char 15"),
        ("SELECT field1 FROM \"series\" WHERE X +;", "found ;, expected identifier, string, number, bool at line 1, char 38"),
        ("SELECT field1 FROM myseries GROUP", "found EOF, expected BY at line 1, char 35"),
        ("SELECT field1 FROM myseries LIMIT", "found EOF, expected integer at line 1, char 35"),
        ("SELECT field1 FROM myseries LIMIT 10.5", "found 10.5, expected integer at line 1, char 35"),
        ("SELECT field1 FROM myseries OFFSET", "found EOF, expected integer at line 1, char 36"),
        ("SELECT field1 FROM myseries OFFSET 10.5", "found 10.5, expected integer at line 1, char 36"),
        ("SELECT field1 FROM myseries ORDER", "found EOF, expected BY at line 1, char 35"),
        ("SELECT field1 FROM myseries ORDER BY", "found EOF, expected identifier, ASC, DESC at line 1, char 38"),
        ("SELECT field1 FROM myseries ORDER BY /", "found /, expected identifier, ASC, DESC at line 1, char 38"),
        ("SELECT field1 FROM myseries ORDER BY 1", "found 1, expected identifier, ASC, DESC at line 1, char 38"),
        ("SELECT field1 FROM myseries ORDER BY time ASC,", "found EOF, expected identifier at line 1, char 47"),
        ("SELECT field1 FROM myseries ORDER BY time, field1", "only ORDER BY time supported at this time"),
        ("SELECT field1 AS", "found EOF, expected identifier at line 1, char 18"),
        ("SELECT field1 FROM 12", "found 12, expected identifier at line 1, char 20"),
        ("SELECT 10.5h FROM myseries", "found h, expected FROM at line 1, char 12"),
        ("SELECT distinct FROM myseries", "found FROM, expected identifier at line 1, char 17"),
        ("SELECT count(distinct) FROM myseries", "found ), expected (, identifier at line 1, char 22"),
        ("SELECT field1 from myseries WHERE host =~ 'asd' LIMIT 1", "found asd, expected regex at line 1, char 42"),
        ("SELECT value > 2 FROM cpu", "invalid operator > in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT value = 2 FROM cpu", "invalid operator = in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT s =~ /foo/ FROM cpu", "invalid operator =~ in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT mean(value) FROM cpu FILL + value", "fill must be a function call"),
        ("DELETE", "found EOF, expected FROM, WHERE at line 1, char 8"),
        ("DELETE FROM", "found EOF, expected identifier at line 1, char 13"),
        ("DELETE FROM &foo.myseries", "found &, expected identifier at line 1, char 13"),
        ("DELETE FROM ^foo.myseries", "found ^, expected identifier at line 1, char 13"),
        ("DELETE FROM *foo.myseries", "found *, expected identifier at line 1, char 13"),
        ("DELETE FROM myseries WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 28"),
        ("DELETE FROM foo..myseries", "database not supported at line 1, char 1"),
        ("DROP MEASUREMENT", "found EOF, expected identifier at line 1, char 18"),
        ("DROP SERIES", "found EOF, expected FROM, WHERE at line 1, char 13"),
        ("DROP SERIES FROM", "found EOF, expected identifier at line 1, char 18"),
        ("DROP SERIES FROM src WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 28"),
        ("DROP SERIES FROM \"foo\".myseries", "retention policy not supported at line 1, char 1"),
        ("DROP SERIES FROM foo..myseries", "database not supported at line 1, char 1"),
        ("SHOW CONTINUOUS", "found EOF, expected QUERIES at line 1, char 17"),
        ("SHOW RETENTION", "found EOF, expected POLICIES at line 1, char 16"),
        ("SHOW RETENTION ON", "found ON, expected POLICIES at line 1, char 16"),
        ("SHOW RETENTION POLICIES ON", "found EOF, expected identifier at line 1, char 28"),
        ("SHOW SHARD", "found EOF, expected GROUPS at line 1, char 12"),
        ("SHOW FOO", "found FOO, expected CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, MEASUREMENTS, QUERIES, RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, USERS at line 1, char 6"),
        ("SHOW GRANTS", "found EOF, expected FOR at line 1, char 13"),
        ("DROP CONTINUOUS", "found EOF, expected QUERY at line 1, char 17"),
        ("CREATE CONTINUOUS", "found EOF, expected QUERY at line 1, char 19"),
        ("DROP FOO", "found FOO, expected CONTINUOUS, DATABASE, MEASUREMENT, RETENTION, SERIES, SHARD, SUBSCRIPTION, USER at line 1, char 6"),
        ("CREATE FOO", "found FOO, expected CONTINUOUS, DATABASE, USER, RETENTION, SUBSCRIPTION at line 1, char 8"),
        ("CREATE DATABASE", "found EOF, expected identifier at line 1, char 17"),
        ("CREATE DATABASE \"testdb\" WITH", "found EOF, expected DURATION, NAME, REPLICATION, SHARD, FUTURE, PAST at line 1, char 31"),
        ("CREATE DATABASE \"testdb\" WITH DURATION", "found EOF, expected duration at line 1, char 40"),
        ("CREATE DATABASE \"testdb\" WITH REPLICATION", "found EOF, expected integer at line 1, char 43"),
        ("CREATE DATABASE \"testdb\" WITH NAME", "found EOF, expected identifier at line 1, char 36"),
        ("CREATE DATABASE \"testdb\" WITH SHARD", "found EOF, expected DURATION at line 1, char 37"),
        ("DROP DATABASE", "found EOF, expected identifier at line 1, char 15"),
        ("DROP RETENTION", "found EOF, expected POLICY at line 1, char 16"),
        ("DROP RETENTION POLICY", "found EOF, expected identifier at line 1, char 23"),
        ("DROP RETENTION POLICY \"1h.cpu\"", "found EOF, expected ON at line 1, char 31"),
        ("DROP RETENTION POLICY \"1h.cpu\" ON", "found EOF, expected identifier at line 1, char 35"),
        ("KILL", "found EOF, expected QUERY at line 1, char 6"),
        ("CREATE RETENTION", "found EOF, expected POLICY at line 1, char 18"),
        ("CREATE RETENTION POLICY", "found EOF, expected identifier at line 1, char 25"),
        ("CREATE RETENTION POLICY policy1", "found EOF, expected ON at line 1, char 33"),
        ("CREATE RETENTION POLICY policy1 ON", "found EOF, expected identifier at line 1, char 36"),
        ("CREATE RETENTION POLICY policy1 ON testdb", "found EOF, expected DURATION at line 1, char 43"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION", "found EOF, expected duration at line 1, char 52"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION bad", "found bad, expected duration at line 1, char 52"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION 1h", "found EOF, expected REPLICATION at line 1, char 54"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION", "found EOF, expected integer at line 1, char 67"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 3.14", "found 3.14, expected integer at line 1, char 67"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 0", "invalid value 0: must be 1 <= n <= 2147483647 at line 1, char 67"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION bad", "found bad, expected integer at line 1, char 67"),
        ("CREATE RETENTION POLICY policy1 ON testdb DURATION 1h REPLICATION 2 SHARD DURATION INF", "invalid duration INF for shard duration at line 1, char 84"),
        ("ALTER", "found EOF, expected RETENTION at line 1, char 7"),
        ("ALTER RETENTION", "found EOF, expected POLICY at line 1, char 17"),
        ("ALTER RETENTION POLICY", "found EOF, expected identifier at line 1, char 24"),
        ("ALTER RETENTION POLICY policy1", "found EOF, expected ON at line 1, char 32"),
        ("ALTER RETENTION POLICY policy1 ON", "found EOF, expected identifier at line 1, char 35"),
        ("ALTER RETENTION POLICY policy1 ON testdb", "found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT, FUTURE, PAST at line 1, char 42"),
        ("ALTER RETENTION POLICY policy1 ON testdb REPLICATION 1 REPLICATION 2", "found duplicate REPLICATION option at line 1, char 56"),
        ("ALTER RETENTION POLICY policy1 ON testdb DURATION 15251w", "overflowed duration 15251w: choose a smaller duration or INF at line 1, char 51"),
        ("ALTER RETENTION POLICY policy1 ON testdb DURATION INF SHARD DURATION INF", "invalid duration INF for shard duration at line 1, char 70"),
        ("SET", "found EOF, expected PASSWORD at line 1, char 5"),
        ("SET PASSWORD", "found EOF, expected FOR at line 1, char 14"),
        ("SET PASSWORD something", "found something, expected FOR at line 1, char 14"),
        ("$SHOW$DATABASES", "found $SHOW, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1"),
        ("SELECT * FROM cpu WHERE \"tagkey\" = $$", "empty bound parameter"),
    ]);
}

/// 1.x's `TestParser_ParseExpr` and compiler cases, wrapped in a statement.
#[test]
fn matches_influxdb_1x_expression_and_compile_errors() {
    check(&[
        (
            "SELECT -9223372036854775809 FROM m",
            "constant -9223372036854775809 underflows int64",
        ),
        (
            "SELECT -+1 FROM m",
            "found +, expected identifier, number, duration, ( at line 1, char 9",
        ),
        (
            "SELECT * FROM m WHERE time > now() - 1y",
            "invalid duration",
        ),
        (
            "SELECT value FROM cpu GROUP BY now()",
            "only time() calls allowed in dimensions",
        ),
        (
            "SELECT value FROM cpu GROUP BY time()",
            "time dimension expected 1 or 2 arguments",
        ),
        (
            "SELECT value FROM cpu GROUP BY time(5m, 30s, 1ms)",
            "time dimension expected 1 or 2 arguments",
        ),
        (
            "SELECT value FROM cpu GROUP BY time('unexpected')",
            "time dimension must have duration argument",
        ),
        (
            "SELECT value FROM cpu GROUP BY time(5m), time(1m)",
            "multiple time dimensions not allowed",
        ),
        (
            "SELECT value FROM cpu GROUP BY time(5m, unexpected())",
            "time dimension offset function must be now()",
        ),
        (
            "SELECT value FROM cpu GROUP BY time(5m, now(1m))",
            "time dimension offset now() function requires no arguments",
        ),
        (
            "SELECT value FROM cpu GROUP BY time(5m, b)",
            "time dimension offset must be duration or now()",
        ),
        (
            "SELECT value FROM cpu GROUP BY 'unexpected'",
            "only time and tag dimensions allowed",
        ),
        (
            "SELECT count(value) FROM foo group by time",
            "time() is a function and expects at least one argument",
        ),
        (
            "SELECT count(value) FROM foo group by time(b)",
            "time dimension must have duration argument",
        ),
        (
            "SELECT 1000000000000000000000000 FROM m",
            "unable to parse integer at line 1, char 8",
        ),
    ]);
}

#[test]
fn fill_errors() {
    check(&[
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill",
            "fill must be a function call",
        ),
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill()",
            "fill requires an argument, e.g.: 0, null, none, previous, linear",
        ),
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill(1, 2)",
            "fill requires an argument, e.g.: 0, null, none, previous, linear",
        ),
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill('x')",
            "expected number argument in fill()",
        ),
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill(NULL)",
            "expected number argument in fill()",
        ),
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill(nothing)",
            "expected number argument in fill()",
        ),
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill(1h)",
            "expected number argument in fill()",
        ),
        (
            "SELECT mean(v) FROM m GROUP BY time(1m) fill(null",
            "found EOF, expected ) at line 1, char 51",
        ),
    ]);
}

#[test]
fn tz_errors() {
    check(&[
        ("SELECT v FROM m tz", "tz must be a function call"),
        ("SELECT v FROM m tz()", "tz requires exactly one argument"),
        (
            "SELECT v FROM m tz('a', 'b')",
            "tz requires exactly one argument",
        ),
        (
            "SELECT v FROM m tz(Europe)",
            "expected string argument in tz()",
        ),
        (
            "SELECT v FROM m tz('UTC') LIMIT 1",
            "found LIMIT, expected ; at line 1, char 27",
        ),
    ]);
}

#[test]
fn order_by_errors() {
    check(&[
        (
            "SELECT v FROM m ORDER BY host",
            "only ORDER BY time supported at this time",
        ),
        (
            "SELECT v FROM m ORDER BY \"Time\"",
            "only ORDER BY time supported at this time",
        ),
        (
            "SELECT v FROM m ORDER BY time DESC, host",
            "only ORDER BY time supported at this time",
        ),
        (
            "SELECT v FROM m ORDER time",
            "found time, expected BY at line 1, char 23",
        ),
    ]);
}

#[test]
fn clause_order_is_1x_order() {
    check(&[
        (
            "SELECT v FROM m LIMIT 1 ORDER BY time",
            "found ORDER, expected ; at line 1, char 25",
        ),
        (
            "SELECT v FROM m OFFSET 1 LIMIT 1",
            "found LIMIT, expected ; at line 1, char 26",
        ),
        (
            "SELECT v FROM m SOFFSET 1 SLIMIT 1",
            "found SLIMIT, expected ; at line 1, char 27",
        ),
        (
            "SELECT v FROM m fill(none) GROUP BY host",
            "found GROUP, expected ; at line 1, char 28",
        ),
        (
            "SELECT v FROM m WHERE a = 1 WHERE b = 2",
            "found WHERE, expected ; at line 1, char 29",
        ),
        (
            "SELECT v FROM m; SELECT",
            "found EOF, expected identifier, string, number, bool at line 1, char 25",
        ),
        (
            "SELECT v FROM m SELECT v FROM m",
            "found SELECT, expected ; at line 1, char 17",
        ),
    ]);
}

#[test]
fn lexical_errors() {
    check(&[
        (
            "SELECT 'abc FROM m",
            "found abc FROM m, expected identifier, string, number, bool at line 1, char 7",
        ),
        (
            "SELECT \"abc FROM m",
            "found abc FROM m, expected identifier, string, number, bool at line 1, char 7",
        ),
        (
            "SELECT 'a\\qb' FROM m",
            "found \\q, expected identifier, string, number, bool at line 1, char 11",
        ),
        (
            "SELECT v FROM m WHERE a = 'x\ny'",
            "found x, expected identifier, string, number, bool at line 1, char 26",
        ),
        (
            "SELECT v FROM m WHERE a ! 1",
            "found !, expected ; at line 1, char 25",
        ),
        (
            "SELECT v FROM m WHERE a =~ /x",
            "bad regex:  at line 1, char 27",
        ),
        (
            "SELECT v FROM m WHERE a =~ /x\n/",
            "bad regex:  at line 1, char 27",
        ),
        ("SELECT v FROM /cpu", "bad regex:  at line 1, char 14"),
        (
            "SELECT v FROM m WHERE a =~ 'x'",
            "found x, expected regex at line 1, char 27",
        ),
        (
            "SELECT v FROM m WHERE a = /x/",
            "found /, expected identifier, string, number, bool at line 1, char 27",
        ),
        (
            "SELECT v FROM m /* open",
            "found ILLEGAL, expected ; at line 1, char 17",
        ),
        ("SELECT v FROM m WHERE time > 10x", "invalid duration"),
        ("SELECT v FROM m WHERE time > 10n", "invalid duration"),
        (
            "SELECT v FROM m WHERE time > 1.5h",
            "found h, expected ; at line 1, char 33",
        ),
        (
            "SELECT v FROM m WHERE time > 15251w",
            "overflowed duration 15251w: choose a smaller duration or INF",
        ),
        (
            "SELECT v FROM m WHERE time > 9223372036854775808ns",
            "invalid duration",
        ),
        (
            "SELECT v FROM m WHERE time > 1e999",
            "unable to parse number at line 1, char 30",
        ),
        ("SELECT $x FROM m", "missing parameter: x"),
        (
            "SELECT v FROM a.b.c.d",
            "too many segments in \"a\".\"b\".\"c\".d at line 1, char 1",
        ),
        (
            "SELECT v FROM m\r\nWHERE",
            "found EOF, expected identifier, string, number, bool at line 2, char 7",
        ),
        (
            "SELECT v\n  FROM",
            "found EOF, expected identifier at line 2, char 8",
        ),
    ]);
}

#[test]
fn select_errors() {
    check(&[
        ("SELECT v, FROM m", "found FROM, expected identifier, string, number, bool at line 1, char 11"),
        ("SELECT mean(v FROM m", "found FROM, expected ) at line 1, char 15"),
        ("SELECT (v FROM m", "found FROM, expected ) at line 1, char 11"),
        ("SELECT v::bogus FROM m", "found bogus, expected float, integer, unsigned, string, boolean, field, tag at line 1, char 11"),
        ("SELECT v::1 FROM m", "found 1, expected float, integer, string, boolean, field, tag at line 1, char 11"),
        ("SELECT *::float FROM m", "found float, expected field, tag at line 1, char 11"),
        ("SELECT a AND b FROM m", "invalid operator AND in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT 1 + (a <> b) FROM m", "invalid operator != in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT mean(a < b) FROM m", "invalid operator < in SELECT clause at line 1, char 8; operator is intended for WHERE clause"),
        ("SELECT v FROM (SHOW DATABASES)", "found SHOW, expected SELECT at line 1, char 16"),
        ("SELECT v FROM (SELECT v FROM m", "found EOF, expected ) at line 1, char 32"),
        ("SELECT v FROM m GROUP BY", "found EOF, expected identifier, string, number, bool at line 1, char 26"),
        ("SELECT v FROM m GROUP BY time(1m),", "found EOF, expected identifier, string, number, bool at line 1, char 36"),
        ("SELECT v FROM m GROUP BY (host)", "only time and tag dimensions allowed"),
        ("SELECT v FROM m GROUP BY time(1m, now())", "GROUP BY time() offset now() is not supported"),
        ("SELECT v INTO FROM m", "found FROM, expected identifier at line 1, char 15"),
        ("SELECT v INTO db.:foo FROM m", "found foo, expected MEASUREMENT at line 1, char 19"),
        ("SELECT v FROM m LIMIT -1", "found -, expected integer at line 1, char 23"),
        ("SELECT v FROM m WHERE", "found EOF, expected identifier, string, number, bool at line 1, char 23"),
        ("SELECT v FROM m WHERE (a = 1", "found EOF, expected ) at line 1, char 29"),
        ("SELECT v FROM m WHERE a = -'x'", "found x, expected identifier, number, duration, ( at line 1, char 27"),
    ]);
}

#[test]
fn show_and_ddl_errors() {
    check(&[
        (
            "SHOW TAG",
            "found EOF, expected KEY, KEYS, VALUES at line 1, char 10",
        ),
        (
            "SHOW FIELD",
            "found EOF, expected KEY, KEYS at line 1, char 12",
        ),
        (
            "SHOW MEASUREMENT",
            "found EOF, expected EXACT, CARDINALITY at line 1, char 18",
        ),
        (
            "SHOW TAG VALUES",
            "found EOF, expected WITH at line 1, char 17",
        ),
        (
            "SHOW TAG VALUES FROM cpu WITH",
            "found EOF, expected KEY at line 1, char 31",
        ),
        (
            "SHOW TAG VALUES WITH KEY",
            "found EOF, expected IN, =, =~ at line 1, char 26",
        ),
        (
            "SHOW TAG VALUES WITH KEY = 'host'",
            "found host, expected identifier at line 1, char 27",
        ),
        (
            "SHOW TAG VALUES WITH KEY =~ host",
            "found host, expected regex at line 1, char 29",
        ),
        (
            "SHOW TAG VALUES WITH KEY IN host",
            "found host, expected ( at line 1, char 29",
        ),
        (
            "SHOW TAG VALUES WITH KEY IN (a, b",
            "found EOF, expected ) at line 1, char 35",
        ),
        (
            "SHOW MEASUREMENTS WITH",
            "found EOF, expected MEASUREMENT at line 1, char 24",
        ),
        (
            "SHOW MEASUREMENTS WITH MEASUREMENT",
            "found EOF, expected =, !=, =~, !~ at line 1, char 36",
        ),
        (
            "SHOW MEASUREMENTS WITH MEASUREMENT < x",
            "found <, expected =, !=, =~, !~ at line 1, char 36",
        ),
        (
            "SHOW MEASUREMENTS ON 'db'",
            "found db, expected identifier or * at line 1, char 21",
        ),
        (
            "SHOW FIELD KEYS WHERE a = 1",
            "found WHERE, expected ; at line 1, char 17",
        ),
        (
            "SHOW SERIES LIMIT x",
            "found x, expected integer at line 1, char 19",
        ),
        (
            "SHOW DATABASES ON db",
            "found ON, expected ; at line 1, char 16",
        ),
        (
            "CREATE DATABASE db WITH DURATION 1x",
            "invalid duration at line 1, char 34",
        ),
        (
            "CREATE DATABASE db WITH REPLICATION 99999999999",
            "invalid value 99999999999: must be 1 <= n <= 2147483647 at line 1, char 37",
        ),
        (
            "CREATE DATABASE db WITH REPLICATION 99999999999999999999",
            "strconv.Atoi: parsing \"99999999999999999999\": value out of range at line 1, char 37",
        ),
        (
            "CREATE DATABASE select",
            "found SELECT, expected identifier at line 1, char 17",
        ),
        (
            "DROP MEASUREMENT /cpu/",
            "found /, expected identifier at line 1, char 18",
        ),
        (
            "ALTER RETENTION POLICY rp ON db SHARD 1h",
            "found 1h, expected DURATION at line 1, char 39",
        ),
        (
            "ALTER RETENTION POLICY rp ON db DEFAULT DEFAULT",
            "found duplicate DEFAULT option at line 1, char 41",
        ),
    ]);
}

#[test]
fn unsupported_statements_say_so() {
    for (text, what) in [
        ("SHOW USERS", "SHOW USERS"),
        ("show stats", "SHOW STATS"),
        ("SHOW SHARDS", "SHOW SHARDS"),
        ("SHOW SHARD GROUPS", "SHOW SHARD GROUPS"),
        ("SHOW DIAGNOSTICS", "SHOW DIAGNOSTICS"),
        ("SHOW SUBSCRIPTIONS", "SHOW SUBSCRIPTIONS"),
        ("SHOW QUERIES", "SHOW QUERIES"),
        ("SHOW CONTINUOUS QUERIES", "SHOW CONTINUOUS QUERIES"),
        ("SHOW GRANTS FOR bob", "SHOW GRANTS"),
        (
            "SHOW MEASUREMENT CARDINALITY",
            "SHOW MEASUREMENT CARDINALITY",
        ),
        (
            "SHOW MEASUREMENT EXACT CARDINALITY",
            "SHOW MEASUREMENT CARDINALITY",
        ),
        ("SHOW SERIES CARDINALITY", "SHOW SERIES CARDINALITY"),
        (
            "SHOW SERIES EXACT CARDINALITY ON db",
            "SHOW SERIES CARDINALITY",
        ),
        (
            "SHOW TAG VALUES CARDINALITY WITH KEY = host",
            "SHOW TAG VALUES CARDINALITY",
        ),
        ("SHOW TAG KEY CARDINALITY", "SHOW TAG KEY CARDINALITY"),
        ("SHOW FIELD KEY CARDINALITY", "SHOW FIELD KEY CARDINALITY"),
        ("SHOW TAG KEYS WITH KEY = host", "SHOW TAG KEYS WITH KEY"),
        (
            "SHOW TAG KEYS SLIMIT 1",
            "SHOW TAG KEYS with SLIMIT or SOFFSET",
        ),
        ("SHOW MEASUREMENTS ON *", "SHOW MEASUREMENTS ON *"),
        ("SHOW MEASUREMENTS ON db.rp", "SHOW MEASUREMENTS ON db.rp"),
        ("CREATE USER bob WITH PASSWORD 'x'", "CREATE USER"),
        (
            "CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT 1 END",
            "CREATE CONTINUOUS QUERY",
        ),
        (
            "CREATE SUBSCRIPTION s ON db.rp DESTINATIONS ALL 'x'",
            "CREATE SUBSCRIPTION",
        ),
        ("DROP USER bob", "DROP USER"),
        ("DROP SHARD 1", "DROP SHARD"),
        ("DROP SUBSCRIPTION s ON db.rp", "DROP SUBSCRIPTION"),
        ("DROP CONTINUOUS QUERY cq ON db", "DROP CONTINUOUS QUERY"),
        ("GRANT ALL TO bob", "GRANT"),
        ("REVOKE ALL FROM bob", "REVOKE"),
        ("EXPLAIN SELECT * FROM m", "EXPLAIN"),
        ("EXPLAIN ANALYZE SELECT * FROM m", "EXPLAIN"),
        ("KILL QUERY 12", "KILL QUERY"),
        ("SET PASSWORD FOR bob = 'x'", "SET PASSWORD"),
        (
            "CREATE DATABASE db WITH FUTURE LIMIT 1h",
            "FUTURE/PAST LIMIT",
        ),
        (
            "CREATE RETENTION POLICY rp ON db DURATION 1h REPLICATION 1 PAST LIMIT 1h",
            "FUTURE/PAST LIMIT",
        ),
        (
            "ALTER RETENTION POLICY rp ON db FUTURE LIMIT 1h",
            "FUTURE/PAST LIMIT",
        ),
        (
            "SELECT v FROM m GROUP BY time(1h, '2020-01-01T00:00:00Z')",
            "GROUP BY time() offset as a time string",
        ),
    ] {
        let err = parse(text).expect_err(text);
        assert_eq!(err.kind, ErrorKind::Unsupported, "{text}");
        assert_eq!(err.message, format!("{what} is not supported"), "{text}");
        assert_eq!(err.position, None, "{text}");
    }
}

#[test]
fn syntax_errors_carry_their_position() {
    let err = parse("SELECT * FROM").unwrap_err();
    assert_eq!(
        err.message,
        "found EOF, expected identifier at line 1, char 15"
    );
    assert_eq!(err.position, Some(Position { line: 1, char: 15 }));
    assert_eq!(err.kind, ErrorKind::Syntax);
    assert_eq!(err.to_string(), err.message);

    let err = parse("SELECT v FROM m ORDER BY host").unwrap_err();
    assert_eq!(err.position, None);

    let err = parse("SELECT\n  a = 1 FROM m").unwrap_err();
    assert_eq!(err.position, Some(Position { line: 2, char: 3 }));
}

#[test]
fn error_is_a_std_error() {
    fn takes(_: &dyn std::error::Error) {}
    takes(&parse("SELECT").unwrap_err());
    assert_eq!(
        error("SELECT"),
        "found EOF, expected identifier, string, number, bool at line 1, char 8"
    );
}
