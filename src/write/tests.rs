use super::*;

use crate::auth::AuthScheme;

fn parts<'r>(method: &'r str, path: &'r str, query: Option<&'r str>) -> RequestParts<'r> {
    RequestParts {
        method,
        path,
        query,
        ..Default::default()
    }
}

fn parse_err(parts: &RequestParts<'_>) -> WriteError {
    match WriteRequest::parse(parts) {
        Err(e) => e,
        Ok(r) => panic!("{parts:?}: expected an error, got {r:?}"),
    }
}

fn invalid_utf8(line: u32, column: u32) -> Result<&'static str, WriteError> {
    Err(WriteError::InvalidUtf8 { line, column })
}

// ---------------------------------------------------------------------------------------
// utf8

#[test]
fn utf8_valid() {
    assert_eq!(utf8(b""), Ok(""));
    assert_eq!(utf8(b"cpu v=1\n"), Ok("cpu v=1\n"));
    assert_eq!(utf8("µ€𝄞\n".as_bytes()), Ok("µ€𝄞\n"));
}

#[test]
fn utf8_first_bad_byte_line_and_column() {
    assert_eq!(utf8(b"\xff"), invalid_utf8(1, 1));
    assert_eq!(utf8(b"abc\xff"), invalid_utf8(1, 4));
    assert_eq!(utf8(b"abc\xffdef\xfe"), invalid_utf8(1, 4));
    assert_eq!(utf8(b"\n\xff"), invalid_utf8(2, 1));
    assert_eq!(utf8(b"a\nb\n\xffc"), invalid_utf8(3, 1));
    assert_eq!(utf8(b"a\nbc\nxyz\xff\n\xff"), invalid_utf8(3, 4));
    // Blank lines count; CR is an ordinary byte of the line.
    assert_eq!(utf8(b"\n\n\n\n\xff"), invalid_utf8(5, 1));
    assert_eq!(utf8(b"a\r\nb\r\xff"), invalid_utf8(2, 3));
    // Columns are bytes: each é before the bad byte is two.
    assert_eq!(
        utf8(
            "éé"
                .as_bytes()
                .iter()
                .chain(b"\xff")
                .copied()
                .collect::<Vec<_>>()
                .as_slice()
        ),
        invalid_utf8(1, 5)
    );
    // A truncated sequence at the end points at its first byte.
    assert_eq!(utf8(b"a\nbc\xe2\x82"), invalid_utf8(2, 3));
    assert_eq!(utf8(b"x\xc3"), invalid_utf8(1, 2));
    // A lead byte followed by a non-continuation byte.
    assert_eq!(utf8(b"ab\xc3("), invalid_utf8(1, 3));
    // Overlong encodings and surrogates are invalid.
    assert_eq!(utf8(b"k=\xc0\x80"), invalid_utf8(1, 3));
    assert_eq!(utf8(b"k=\xe0\x80\x80"), invalid_utf8(1, 3));
    assert_eq!(utf8(b"k=\xed\xa0\x80"), invalid_utf8(1, 3));
    // Beyond U+10FFFF.
    assert_eq!(utf8(b"\xf4\x90\x80\x80"), invalid_utf8(1, 1));
    // A stray continuation byte.
    assert_eq!(utf8(b"ok\n\x80"), invalid_utf8(2, 1));
    // Latin-1 µ.
    assert_eq!(utf8(b"cpu,unit=\xb5s v=1"), invalid_utf8(1, 10));
}

/// The 32-byte ASCII steps: a bad byte or a multi-byte character at every offset around
/// the steps' boundaries gives the same answer as the standard library.
#[test]
fn utf8_matches_std_around_the_ascii_steps() {
    for len in 0..100 {
        for at in 0..len {
            for insert in [
                &b"\xff"[..],
                "é".as_bytes(),
                "𝄞".as_bytes(),
                b"\xe2\x82",
                b"\x80",
            ] {
                let mut body = vec![b'a'; len];
                body[len / 2] = b'\n';
                body.splice(at..at, insert.iter().copied());
                let expected = std::str::from_utf8(&body);
                match (utf8(&body), expected) {
                    (Ok(text), Ok(std)) => assert_eq!(text, std),
                    (Err(_), Err(e)) => {
                        let at = e.valid_up_to();
                        let line_start = body[..at]
                            .iter()
                            .rposition(|&c| c == b'\n')
                            .map_or(0, |i| i + 1);
                        let line = 1 + body[..at].iter().filter(|&&c| c == b'\n').count();
                        let column = at - line_start + 1;
                        assert_eq!(utf8(&body), invalid_utf8(line as u32, column as u32));
                    }
                    (got, std) => panic!("{len} {at} {insert:?}: {got:?} against {std:?}"),
                }
                let ascii = super::ascii_prefix(&body);
                assert!(ascii <= at && ascii % 32 == 0, "{len} {at}");
            }
        }
    }
}

#[test]
fn utf8_error_on_a_long_body() {
    let mut body = Vec::new();
    for _ in 0..1000 {
        body.extend_from_slice(b"cpu,host=a v=1 1\n");
    }
    body.extend_from_slice(b"cpu,host=\xff v=1\n");
    assert_eq!(utf8(&body), invalid_utf8(1001, 10));
    let e = utf8(&body).unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(
        e.message(Endpoint::V1),
        "body content is not valid utf8: invalid utf-8 sequence at line 1001, column 10"
    );
}

// ---------------------------------------------------------------------------------------
// WriteRequest::parse: routing

#[test]
fn unknown_paths_are_404() {
    for path in [
        "",
        "/",
        "/writes",
        "/write/",
        "/WRITE",
        "/query",
        "/ping",
        "/api/v2/write/",
        "/api/v3/write",
        "/api/v3/write_lp/",
        "/write?db=x",
    ] {
        for method in ["POST", "GET"] {
            let e = parse_err(&parts(method, path, Some("db=x")));
            assert_eq!(e, WriteError::NotFound, "{method} {path:?}");
            assert_eq!(e.status(), 404);
        }
    }
}

#[test]
fn other_methods_are_405() {
    for endpoint in Endpoint::ALL {
        for method in [
            "GET", "PUT", "HEAD", "DELETE", "PATCH", "OPTIONS", "post", "Post", "", "POST ",
        ] {
            let e = parse_err(&parts(method, endpoint.path(), Some("db=x&bucket=x")));
            assert_eq!(e, WriteError::MethodNotAllowed, "{method:?} {endpoint:?}");
            assert_eq!(e.status(), 405);
            assert_eq!(e.headers(), vec![("Allow", "POST, OPTIONS".to_owned())]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// WriteRequest::parse: which error wins

#[test]
fn route_and_method_come_before_credentials_and_parameters() {
    let mut p = parts("GET", "/write", None);
    p.authorization = Some(b"bearer malformed");
    p.content_encoding = Some(b"br");
    assert_eq!(parse_err(&p), WriteError::MethodNotAllowed);
    p.path = "/nowhere";
    assert_eq!(parse_err(&p), WriteError::NotFound);
}

#[test]
fn credentials_come_before_parameters() {
    for endpoint in Endpoint::ALL {
        let mut p = parts("POST", endpoint.path(), None);
        p.authorization = Some(b"bearer x");
        p.content_encoding = Some(b"br");
        assert_eq!(
            parse_err(&p),
            WriteError::MalformedAuthorization,
            "{endpoint:?}"
        );
        p.query = Some("precision=xs");
        assert_eq!(
            parse_err(&p),
            WriteError::MalformedAuthorization,
            "{endpoint:?}"
        );
    }
    // On /write a `p` token means the header is not read, so the parameters decide.
    let mut p = parts("POST", "/write", Some("p=tok&precision=s"));
    p.authorization = Some(b"bearer x");
    assert_eq!(
        parse_err(&p),
        WriteError::InvalidParameter(
            "failed to deserialize db/rp/precision in request: missing field `db`".into()
        )
    );
}

#[test]
fn parameters_come_before_encoding() {
    let cases = [
        (Endpoint::V1, None, "no db destination provided"),
        (Endpoint::V2, None, "no org/bucket destination provided"),
        (Endpoint::V3, None, "missing query parameter 'db'"),
        (Endpoint::V2, Some("org=o"), "missing bucket value"),
        (Endpoint::V3, Some("db="), "db name cannot be empty"),
    ];
    for (endpoint, query, message) in cases {
        let mut p = parts("POST", endpoint.path(), query);
        p.authorization = Some(b"Token ok");
        p.content_encoding = Some(b"br");
        assert_eq!(
            parse_err(&p),
            WriteError::InvalidParameter(message.into()),
            "{endpoint:?}"
        );
    }
}

#[test]
fn encoding_comes_last() {
    for (endpoint, query) in [
        (Endpoint::V1, "db=x"),
        (Endpoint::V2, "bucket=x"),
        (Endpoint::V3, "db=x"),
    ] {
        let mut p = parts("POST", endpoint.path(), Some(query));
        p.authorization = Some(b"Bearer ok");
        p.content_encoding = Some(b"x-gzip");
        let e = parse_err(&p);
        assert_eq!(e, WriteError::UnsupportedEncoding("x-gzip".into()));
        assert_eq!(e.status(), 415);
    }
}

// ---------------------------------------------------------------------------------------
// WriteRequest::parse: success

#[test]
fn parsed_requests() {
    let mut p = parts(
        "POST",
        "/write",
        Some("db=home&rp=week&precision=s&u=me&p=tok"),
    );
    p.authorization = Some(b"Bearer ignored");
    p.content_encoding = Some(b"gzip");
    let r = WriteRequest::parse(&p).unwrap();
    assert_eq!(r.endpoint, Endpoint::V1);
    assert_eq!(
        r.credentials,
        Some(Credentials::new(AuthScheme::QueryParam, "tok"))
    );
    assert_eq!(r.params.database, "home/week");
    assert_eq!(r.params.precision, Precision::Second);
    assert!(!r.params.accept_partial);
    assert!(!r.params.no_sync);
    assert_eq!(r.encoding, ContentEncoding::Gzip);
    assert!(r.all_or_nothing());

    let mut p = parts(
        "POST",
        "/api/v2/write",
        Some("org=o&bucket=b/autogen&p=tok"),
    );
    p.authorization = Some(b"Token t2");
    let r = WriteRequest::parse(&p).unwrap();
    assert_eq!(r.endpoint, Endpoint::V2);
    assert_eq!(
        r.credentials,
        Some(Credentials::new(AuthScheme::Token, "t2"))
    );
    assert_eq!(r.params.database, "b");
    assert_eq!(r.params.precision, Precision::Nanosecond);
    assert_eq!(r.encoding, ContentEncoding::Identity);
    assert!(r.all_or_nothing());

    // No token at all is not a parse error: authentication is the shell's job.
    let r = WriteRequest::parse(&parts("POST", "/api/v3/write_lp", Some("db=d&p=tok"))).unwrap();
    assert_eq!(r.endpoint, Endpoint::V3);
    assert_eq!(r.credentials, None);
    assert_eq!(r.params.precision, Precision::Auto);
    assert!(r.params.accept_partial);
    assert!(!r.all_or_nothing());

    let r = WriteRequest::parse(&parts(
        "POST",
        "/api/v3/write_lp",
        Some("db=d&accept_partial=false&no_sync=true"),
    ))
    .unwrap();
    assert!(r.all_or_nothing());
    assert!(r.params.no_sync);
}

#[test]
fn request_debug_hides_the_token() {
    let mut p = parts("POST", "/write", Some("db=x"));
    p.authorization = Some(b"Bearer super-secret-token");
    let r = WriteRequest::parse(&p).unwrap();
    let debug = format!("{r:?}");
    assert!(!debug.contains("super-secret"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

#[test]
fn body_decoder_follows_the_request() {
    use std::io::Write;
    let mut p = parts("POST", "/write", Some("db=x"));
    p.content_encoding = Some(b"GZIP");
    let r = WriteRequest::parse(&p).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b"cpu v=1\n").unwrap();
    let gz = e.finish().unwrap();
    let mut d = r.body_decoder(100);
    d.push(&gz).unwrap();
    assert_eq!(d.finish(), Ok(b"cpu v=1\n".to_vec()));
    // The limit is the one given.
    let mut d = r.body_decoder(gz.len() - 1);
    assert_eq!(
        d.push(&gz),
        Err(WriteError::TooLarge {
            limit: gz.len() - 1
        })
    );
    let r = WriteRequest::parse(&parts("POST", "/write", Some("db=x"))).unwrap();
    let mut d = r.body_decoder(3);
    assert_eq!(d.push(b"abcd"), Err(WriteError::TooLarge { limit: 3 }));
}

// ---------------------------------------------------------------------------------------
// validate

#[test]
fn empty_bodies() {
    for body in [
        &b""[..],
        b"\n",
        b"\n\n\n",
        b"# only a comment\n",
        b"\n# c\n\n",
    ] {
        for accept_partial in [false, true] {
            let e = validate(body, Precision::Nanosecond, 0, !accept_partial).unwrap_err();
            assert_eq!(e, WriteError::EmptyWrite, "{body:?}");
        }
    }
}

#[test]
fn utf8_is_checked_before_lines() {
    let body = b"not line protocol at all\ncpu v=1 \xff\n";
    assert_eq!(
        validate(body, Precision::Nanosecond, 0, true).unwrap_err(),
        WriteError::InvalidUtf8 { line: 2, column: 9 }
    );
}

#[test]
fn all_or_nothing_versus_partial() {
    let body = b"cpu v=1 1\ncpu\ncpu v=3 3\nmem\n";
    // All or nothing: the first bad line.
    match validate(body, Precision::Nanosecond, 0, true) {
        Err(WriteError::Line(e)) => {
            assert_eq!(e.line, 2);
            assert_eq!(e.original_line, "cpu");
        }
        other => panic!("{other:?}"),
    }
    // Partial: the good rows and every bad line.
    let accepted = validate(body, Precision::Nanosecond, 0, false).unwrap();
    assert_eq!(accepted.batch.len(), 2);
    assert_eq!(
        accepted.rejected.iter().map(|e| e.line).collect::<Vec<_>>(),
        [2, 4]
    );
    match accepted.error() {
        Some(WriteError::PartialWrite(lines)) => assert_eq!(lines, accepted.rejected),
        other => panic!("{other:?}"),
    }
    // Nothing rejected: no error, 204.
    let accepted = validate(b"cpu v=1 1\n", Precision::Nanosecond, 0, false).unwrap();
    assert_eq!(accepted.error(), None);
    // Only bad lines, partial: still a partial-write answer (as 3.x), with no rows.
    let accepted = validate(b"cpu\n", Precision::Nanosecond, 0, false).unwrap();
    assert!(accepted.batch.is_empty());
    assert_eq!(accepted.rejected.len(), 1);
}

#[test]
fn missing_timestamps_take_the_truncated_ingest_time() {
    let now = 1_700_000_123_456_789_012;
    let accepted = validate(b"cpu v=1\n", Precision::Second, now, true).unwrap();
    assert_eq!(
        accepted.batch.to_line_protocol(),
        "cpu v=1 1700000123000000000\n"
    );
    let r = WriteRequest::parse(&parts("POST", "/api/v3/write_lp", Some("db=d"))).unwrap();
    let accepted = r.validate(b"cpu v=1\ncpu v=2 1700000000\n", now).unwrap();
    assert_eq!(
        accepted.batch.to_line_protocol(),
        "cpu v=1 1700000123456789012\ncpu v=2 1700000000000000000\n"
    );
}

#[test]
fn rows_have_the_same_shape_only_with_the_same_table_keys_and_types() {
    let body = "m,a=1 x=1,y=2 1\nm,a=2 x=3,y=4 2\nm,a=3 x=5i,y=6 3\nm,b=1 x=1,y=2 4\n\
                n,a=1 x=1,y=2 5\nm,a=4 y=1,x=2 6\nm,a\\ b=1 x=1,y=2 7\nm,a\\ b=2 x=1,y=2 8\n";
    let accepted = validate_text(body, Precision::Second, 0, true).unwrap();
    let rows: Vec<_> = accepted.batch.rows().collect();
    let same = |i: usize, j: usize| rows[i].same_shape(&rows[j]);
    assert!(same(0, 1), "same keys and types");
    assert!(!same(1, 2), "an integer where a float was");
    assert!(!same(0, 3), "another tag key");
    assert!(!same(0, 4), "another table");
    assert!(!same(0, 5), "the same keys in another order");
    // Escaped keys are not numbered as repeats (a new set each time): never the same shape,
    // which only costs the caller its shortcut.
    assert!(!same(6, 7));
    // The same text through two parsers: numbers from different parsers never meet.
    let again = validate_text(body, Precision::Second, 0, true).unwrap();
    let first_again = again.batch.rows().next().unwrap();
    assert!(!rows[0].same_shape(&first_again));
}

/// Rows of more fields than the type signature holds compare their fields one by one.
#[test]
fn wide_rows_have_the_same_shape_only_with_the_same_types() {
    for fields in [20, 21, 22, 40] {
        let line = |types: &dyn Fn(usize) -> &'static str| {
            let fields: Vec<String> = (0..fields).map(|i| format!("f{i}={}", types(i))).collect();
            format!("m,a=1 {}\n", fields.join(","))
        };
        let body = line(&|_| "1")
            + &line(&|_| "1")
            + &line(&|i| if i == 0 { "1i" } else { "1" })
            + &line(&|i| if i + 1 == fields { "t" } else { "1" });
        let accepted = validate_text(&body, Precision::Second, 0, true).unwrap();
        let rows: Vec<_> = accepted.batch.rows().collect();
        assert!(rows[0].same_shape(&rows[1]), "{fields}");
        assert!(!rows[1].same_shape(&rows[2]), "{fields}: first field");
        assert!(!rows[1].same_shape(&rows[3]), "{fields}: last field");
    }
}

#[test]
fn rows_per_table_counts_each_table_in_order_of_first_appearance() {
    let body = b"mem v=1 1\ncpu v=1 1\nbad\nmem v=2 2\nmem v=3 3\ndisk v=1 1\n";
    let accepted = validate(body, Precision::Nanosecond, 0, false).unwrap();
    let names: Vec<&str> = accepted.batch.tables().iter().map(|t| t.raw()).collect();
    assert_eq!(names, ["mem", "cpu", "disk"]);
    assert_eq!(accepted.batch.rows_per_table(), [3, 1, 1]);
    let counted: Vec<usize> = (0..3)
        .map(|t| accepted.batch.rows().filter(|r| r.table_index == t).count())
        .collect();
    assert_eq!(counted, [3, 1, 1]);
}

#[test]
fn shape_changes_are_the_rows_unlike_the_row_before() {
    let wide: String = (0..25).map(|i| format!("f{i}=1,")).collect::<String>();
    let wide = wide.trim_end_matches(',');
    let body = format!(
        "cpu,h=a v=1 1\ncpu,h=b v=2 2\ncpu,h=c v=3i 3\nmem v=1 1\nmem v=2 2\ncpu,h=a v=1 4\n\
         w {wide} 1\nw {wide} 2\nw {} 3\n",
        wide.replacen("f0=1", "f0=1i", 1)
    );
    let accepted = validate(body.as_bytes(), Precision::Nanosecond, 0, true).unwrap();
    let rows: Vec<_> = accepted.batch.rows().collect();
    let expected: Vec<u32> = rows
        .iter()
        .enumerate()
        .filter(|(i, row)| *i == 0 || !rows[i - 1].same_shape(row))
        .map(|(_, row)| row.line_number)
        .collect();
    let changes: Vec<u32> = accepted
        .batch
        .shape_changes()
        .map(|r| r.line_number)
        .collect();
    assert_eq!(changes, expected);
    assert_eq!(changes, [1, 3, 4, 6, 7, 9]);
}
