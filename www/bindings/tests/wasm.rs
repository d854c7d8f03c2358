//! wasm-bindgen tests of the browser bindings, run under Node:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p linegate-wasm --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Object, Reflect};
use linegate_wasm::{check_request, gunzip, rfc3339, to_canonical, validate};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(key), value).unwrap();
    }
    object.into()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).unwrap()
}

fn number(value: &JsValue, key: &str) -> f64 {
    get(value, key).as_f64().unwrap()
}

fn string(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap()
}

#[wasm_bindgen_test]
fn valid_input_reports_counts_rows_and_schema() {
    let text = "cpu,host=a usage=0.5,cores=4i 1700000000\n# comment\n\ncpu,host=b usage=1 1700000001\nmem free=10u,ok=T 1700000002\n";
    let report = validate(
        text.into(),
        options(&[("precision", "s".into()), ("endpoint", "v1".into())]),
    )
    .unwrap();
    assert_eq!(number(&report, "lines"), 3.0);
    assert_eq!(number(&report, "points"), 3.0);
    assert_eq!(number(&report, "fields"), 5.0);
    assert_eq!(number(&report, "bytes"), text.len() as f64);
    assert_eq!(string(&report, "endpoint"), "/write");
    assert_eq!(Array::from(&get(&report, "errors")).length(), 0);
    let rows = Array::from(&get(&report, "rows"));
    assert_eq!(rows.length(), 3);
    let first = rows.get(0);
    assert_eq!(string(&first, "table"), "cpu");
    assert_eq!(string(&first, "timeNs"), "1700000000000000000");
    assert_eq!(string(&first, "timeRfc3339"), "2023-11-14T22:13:20Z");
    let field = Array::from(&get(&first, "fields")).get(1);
    assert_eq!(string(&field, "key"), "cores");
    assert_eq!(string(&field, "type"), "integer");
    assert_eq!(string(&field, "value"), "4");
    let tables = Array::from(&get(&report, "tables"));
    assert_eq!(tables.length(), 2);
    assert_eq!(number(&tables.get(0), "rows"), 2.0);
    assert_eq!(Array::from(&get(&report, "conflicts")).length(), 0);
}

#[wasm_bindgen_test]
fn bad_lines_carry_line_column_and_message() {
    let text = "cpu v=1\n\ncpu v=\ncpu v=1i 12.5\n";
    let report = validate(text.into(), JsValue::UNDEFINED).unwrap();
    let errors = Array::from(&get(&report, "errors"));
    assert_eq!(errors.length(), 2);
    let first = errors.get(0);
    assert_eq!(number(&first, "line"), 3.0);
    assert_eq!(number(&first, "column"), 7.0);
    assert_eq!(string(&first, "message"), "missing value for field 'v'");
    assert_eq!(string(&first, "originalLine"), "cpu v=");
    assert_eq!(number(&errors.get(1), "line"), 4.0);
    assert_eq!(number(&errors.get(1), "column"), 10.0);
}

#[wasm_bindgen_test]
fn conflicts_inside_the_batch_are_listed() {
    let report = validate("m,a=1 v=1\nm v=2i\nm a=3\n".into(), JsValue::UNDEFINED).unwrap();
    let conflicts = Array::from(&get(&report, "conflicts"));
    assert_eq!(conflicts.length(), 2);
    assert_eq!(number(&conflicts.get(0), "line"), 2.0);
    assert_eq!(string(&conflicts.get(0), "expected"), "float");
    assert_eq!(string(&conflicts.get(0), "found"), "integer");
    assert_eq!(string(&conflicts.get(1), "column"), "a");
    assert_eq!(string(&conflicts.get(1), "expected"), "tag");
}

/// The shared fixture and the lines it says break the schema (its first line).
pub fn schema_fixture() -> (&'static str, Vec<f64>) {
    let text = include_str!("../../../tests/fixtures/schema-conflicts.lp");
    let header = text.lines().next().unwrap();
    let (_, numbers) = header.split_once("Breaking:").unwrap();
    (
        text,
        numbers
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect(),
    )
}

#[wasm_bindgen_test]
fn the_page_refuses_the_rows_the_server_refuses() {
    // native-server/tests/server.rs checks the server against the same fixture.
    let (text, breaking) = schema_fixture();
    let report = validate(text.into(), JsValue::UNDEFINED).unwrap();
    let conflicts = Array::from(&get(&report, "conflicts"));
    let lines: Vec<f64> = conflicts.iter().map(|c| number(&c, "line")).collect();
    assert_eq!(lines, breaking);
}

#[wasm_bindgen_test]
fn precision_changes_times_and_first_line_offsets_numbers() {
    let ms = validate(
        "m v=1 1700000000000".into(),
        options(&[("precision", "ms".into())]),
    )
    .unwrap();
    let row = Array::from(&get(&ms, "rows")).get(0);
    assert_eq!(string(&row, "timeNs"), "1700000000000000000");
    let chunk = validate("m v=\n".into(), options(&[("firstLine", 101.into())])).unwrap();
    assert_eq!(
        number(&Array::from(&get(&chunk, "errors")).get(0), "line"),
        101.0
    );
    assert!(validate("m v=1".into(), options(&[("precision", "xs".into())])).is_err());
    assert!(validate("m v=1".into(), options(&[("endpoint", "v9".into())])).is_err());
}

#[wasm_bindgen_test]
fn canonical_output_and_gunzip() {
    let canonical = to_canonical(
        "m,z=1,a=2 b=T,s=\"x\" 1700000000\nbad\n".into(),
        options(&[("precision", "s".into())]),
    )
    .unwrap();
    assert_eq!(canonical, "m,a=2,z=1 b=true,s=\"x\" 1700000000000000000\n");
    // gzip of "m v=1\n" (made with Python's gzip, mtime 0).
    let gz: [u8; 26] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 85, 40, 179, 53, 228, 2, 0, 12, 245, 6, 128, 6, 0, 0,
        0,
    ];
    assert_eq!(gunzip(&gz, None).unwrap(), "m v=1\n");
    assert!(gunzip(b"not gzip", None).is_err());
}

#[wasm_bindgen_test]
fn text_of_any_script_is_encoded_and_non_text_is_refused() {
    // Two-, three- and four-byte characters (a surrogate pair in JavaScript) in names, tag
    // values and strings; the byte count is of the UTF-8.
    let text = "m\u{e9},h\u{f4}te=\u{6771}\u{4eac} s=\"\u{1f600}\" 1\n";
    let report = validate(text.into(), JsValue::UNDEFINED).unwrap();
    assert_eq!(number(&report, "points"), 1.0);
    assert_eq!(number(&report, "bytes"), text.len() as f64);
    let row = Array::from(&get(&report, "rows")).get(0);
    assert_eq!(string(&row, "table"), "m\u{e9}");
    let field = Array::from(&get(&row, "fields")).get(0);
    assert_eq!(string(&field, "value"), "\u{1f600}");
    // A lone surrogate cannot be UTF-8: TextEncoder writes U+FFFD for it.
    let lone = js_sys::JSON::parse(r#""m s=\"\ud800\" 1""#).unwrap();
    let report = validate(lone, JsValue::UNDEFINED).unwrap();
    let row = Array::from(&get(&report, "rows")).get(0);
    let field = Array::from(&get(&row, "fields")).get(0);
    assert_eq!(string(&field, "value"), "\u{fffd}");
    assert!(validate(JsValue::from(42), JsValue::UNDEFINED).is_err());
    assert!(to_canonical(JsValue::NULL, JsValue::UNDEFINED).is_err());
}

#[wasm_bindgen_test]
fn every_repeated_conflicting_row_is_listed() {
    // Lines 2 and 3 repeat each other's keys and types; both conflict with line 1.
    let text = "m v=1\nm v=2i\nm v=3i\nm v=4\n";
    let report = validate(text.into(), JsValue::UNDEFINED).unwrap();
    let conflicts = Array::from(&get(&report, "conflicts"));
    assert_eq!(conflicts.length(), 2);
    assert_eq!(number(&conflicts.get(0), "line"), 2.0);
    assert_eq!(number(&conflicts.get(1), "line"), 3.0);
}

#[wasm_bindgen_test]
fn rfc3339_formats() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_500_000_000), "1970-01-01T00:00:01.5Z");
    assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    assert_eq!(rfc3339(951_782_400_000_000_000), "2000-02-29T00:00:00Z");
}

#[wasm_bindgen_test]
fn chunks_share_the_schema_and_can_carry_canonical_text() {
    let first = validate(
        "m,a=1 v=1 1\n".into(),
        options(&[("canonical", true.into())]),
    )
    .unwrap();
    // v3's default precision is auto: 1 is read as seconds.
    assert_eq!(string(&first, "canonical"), "m,a=1 v=1 1000000000\n");
    // The second chunk continues the schema of the first: its conflicts name its lines.
    let second = validate(
        "m v=2i 2\nm a=3 3\nn x=1 4\n".into(),
        options(&[("schema", get(&first, "tables")), ("firstLine", 2.into())]),
    )
    .unwrap();
    assert!(get(&second, "canonical").is_undefined());
    let conflicts = Array::from(&get(&second, "conflicts"));
    assert_eq!(conflicts.length(), 2);
    assert_eq!(number(&conflicts.get(0), "line"), 2.0);
    assert_eq!(string(&conflicts.get(0), "expected"), "float");
    assert_eq!(number(&conflicts.get(1), "line"), 3.0);
    assert_eq!(string(&conflicts.get(1), "expected"), "tag");
    let tables = Array::from(&get(&second, "tables"));
    assert_eq!(tables.length(), 2);
    assert_eq!(string(&tables.get(0), "name"), "m");
    assert_eq!(number(&tables.get(0), "rows"), 3.0);
    assert_eq!(string(&tables.get(1), "name"), "n");
    let bad = js_sys::JSON::parse(r#"[{"name":"m","fields":[["v","decimal"]]}]"#).unwrap();
    assert!(validate("m v=1".into(), options(&[("schema", bad)])).is_err());
}

#[wasm_bindgen_test]
fn check_request_reports_parameters_or_the_servers_error() {
    let ok = check_request(
        "/write",
        Some("db=home&rp=autogen&precision=s&p=secret".into()),
        None,
        Some("gzip".into()),
    )
    .unwrap();
    assert_eq!(get(&ok, "ok"), JsValue::TRUE);
    assert_eq!(string(&ok, "database"), "home");
    assert_eq!(string(&ok, "precision"), "s");
    assert_eq!(string(&ok, "auth"), "p");
    assert_eq!(get(&ok, "acceptPartial"), JsValue::FALSE);
    let v3 = check_request(
        "/api/v3/write_lp",
        Some("db=home".into()),
        Some("Bearer abc".into()),
        None,
    )
    .unwrap();
    assert_eq!(string(&v3, "auth"), "Bearer");
    assert_eq!(get(&v3, "acceptPartial"), JsValue::TRUE);
    let missing = check_request("/api/v2/write", Some("org=x".into()), None, None).unwrap();
    assert_eq!(get(&missing, "ok"), JsValue::FALSE);
    assert_eq!(number(&missing, "status"), 400.0);
    assert!(string(&missing, "body").starts_with('{'));
    let malformed = check_request(
        "/api/v3/write_lp",
        Some("db=a".into()),
        Some("Bearer".into()),
        None,
    )
    .unwrap();
    assert_eq!(number(&malformed, "status"), 400.0);
    let encoding = check_request("/write", Some("db=a".into()), None, Some("br".into())).unwrap();
    assert_eq!(number(&encoding, "status"), 415.0);
}

/// The report built line by line (no canonical text) is the report built from the core's
/// batch (with canonical text), but for the canonical text itself.
#[wasm_bindgen_test]
fn the_streamed_report_is_the_batch_report() {
    let wide = |ty: &str| {
        let fields: Vec<String> = (0..25)
            .map(|i| format!("f{i}={}", if i == 24 { ty } else { "1" }))
            .collect();
        format!("wide,t=1 {} 5\n", fields.join(","))
    };
    let texts = [
        "cpu,host=a usage=0.5,cores=4i 1700000000\n# comment\n\ncpu,host=b usage=1 1700000001\nmem free=10u,ok=T 1700000002\n".to_string(),
        "m v=1\nm v=1i\nm v=2\nn v=\"s\"\nm,t=1 v=3\nm v=1i\nm v=4\nn v=1\nm v=5 9\n".to_string(),
        "cpu,host=a v=1 1\nbad line\ncpu,host=a v=2 2\ncpu,host=a,v=x v=3 3\ncpu v=1,v=2\n\ncpu,host=a v=4\n".to_string(),
        "we\\ ird,t\\=k=v\\,1 f\\ x=\"q\\\"s\" 1\nwe\\ ird,t\\=k=v\\,2 f\\ x=1 2\nwe\\ ird,t\\=k=v v=t\n".to_string(),
        wide("1") + &wide("1") + &wide("1i") + &wide("1") + &wide("t"),
        "a x=1\nb x=1\na x=2\nc,x=1 y=1\nb x=1i\na x=3\nc y=2\n".to_string(),
        String::new(),
        "# only a comment\n\n".to_string(),
    ];
    let seed = validate(
        "m v=1i\nother,host=a v=1\n".into(),
        options(&[("maxRows", 0.into())]),
    )
    .unwrap();
    for text in &texts {
        for max_rows in [0, 2, 1000] {
            for with_seed in [false, true] {
                let mut pairs = vec![
                    ("maxRows", JsValue::from(max_rows)),
                    ("now", JsValue::from(1_700_000_000_000_000_000.0)),
                    ("firstLine", JsValue::from(7)),
                    ("precision", JsValue::from("s")),
                ];
                if with_seed {
                    pairs.push(("schema", get(&seed, "tables")));
                }
                let streamed = validate(text.as_str().into(), options(&pairs)).unwrap();
                pairs.push(("canonical", JsValue::TRUE));
                let batch = validate(text.as_str().into(), options(&pairs)).unwrap();
                assert!(get(&batch, "canonical").is_string());
                Reflect::delete_property(&batch.clone().into(), &JsValue::from_str("canonical"))
                    .unwrap();
                let json = |v: &JsValue| String::from(js_sys::JSON::stringify(v).unwrap());
                assert_eq!(
                    json(&streamed),
                    json(&batch),
                    "{text:?} {max_rows} {with_seed}"
                );
            }
        }
    }
}

/// Floats that take Eisel-Lemire (more than 2^53 as a mantissa; in a simd128 build its
/// 128-bit products come from SIMD lanes) parse to the standard library's values.
#[wasm_bindgen_test]
fn full_precision_floats_match_the_standard_library() {
    let values = [
        "1428.4285714285713",
        "857.1428571428571",
        "0.30000000000000004",
        "123456.78901234567",
        "9007199254740993",
        "18446744073709551615",
        "1.7976931348623157e308",
        "2.2250738585072014e-308",
        "4.9406564584124654e-324",
        "3.141592653589793238462643383279",
        "7.2057594037927933e16",
        "-0.000123456789012345678",
    ];
    let text: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("m f{i}={v}\n"))
        .collect();
    let report = validate(text.as_str().into(), options(&[])).unwrap();
    let rows = Array::from(&get(&report, "rows"));
    assert_eq!(rows.length() as usize, values.len());
    for (i, v) in values.iter().enumerate() {
        let field = Array::from(&get(&rows.get(i as u32), "fields")).get(0);
        let expected = v.parse::<f64>().unwrap().to_string();
        assert_eq!(string(&field, "value"), expected, "{v}");
    }
}
