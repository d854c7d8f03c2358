//! Every construct the parser accepts, with the exact AST expected.

use linegate_influxql::*;

// ----- builders ---------------------------------------------------------------------------

fn var(name: &str) -> Expr {
    Expr::VarRef {
        name: name.into(),
        data_type: None,
    }
}
fn typed(name: &str, data_type: VarType) -> Expr {
    Expr::VarRef {
        name: name.into(),
        data_type: Some(data_type),
    }
}
fn int(v: i64) -> Expr {
    Expr::Literal(Literal::Integer(v))
}
fn float(v: f64) -> Expr {
    Expr::Literal(Literal::Float(v))
}
fn string(v: &str) -> Expr {
    Expr::Literal(Literal::String(v.into()))
}
fn dur(ns: i64) -> Expr {
    Expr::Literal(Literal::Duration(ns))
}
fn re(p: &str) -> Regex {
    Regex(p.into())
}
fn re_lit(p: &str) -> Expr {
    Expr::Literal(Literal::Regex(re(p)))
}
fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        name: name.into(),
        args,
    }
}
fn now() -> Expr {
    call("now", vec![])
}
fn bin(left: Expr, op: BinaryOp, right: Expr) -> Expr {
    Expr::Binary {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}
fn paren(e: Expr) -> Expr {
    Expr::Paren(Box::new(e))
}
fn field(expr: Expr) -> Field {
    Field { expr, alias: None }
}
fn aliased(expr: Expr, alias: &str) -> Field {
    Field {
        expr,
        alias: Some(alias.into()),
    }
}
fn m(name: &str) -> Measurement {
    Measurement {
        database: None,
        retention_policy: None,
        name: NameOrRegex::Name(name.into()),
    }
}
fn qm(db: Option<&str>, rp: Option<&str>, name: NameOrRegex) -> Measurement {
    Measurement {
        database: db.map(Into::into),
        retention_policy: rp.map(Into::into),
        name,
    }
}
fn name(n: &str) -> NameOrRegex {
    NameOrRegex::Name(n.into())
}
fn src(name: &str) -> Source {
    Source::Measurement(m(name))
}
fn select(fields: Vec<Field>, from: Vec<Source>) -> Select {
    Select {
        fields,
        into: None,
        from,
        condition: None,
        group_by: vec![],
        fill: None,
        descending: false,
        limit: None,
        offset: None,
        slimit: None,
        soffset: None,
        timezone: None,
    }
}

const NS: i64 = 1;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
const MIN: i64 = 60 * S;
const H: i64 = 60 * MIN;
const D: i64 = 24 * H;
const W: i64 = 7 * D;

use BinaryOp::*;

#[track_caller]
fn one(text: &str) -> Statement {
    let query = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(query.statements.len(), 1, "{text:?}");
    query.statements.into_iter().next().unwrap()
}

#[track_caller]
fn sel(text: &str) -> Select {
    match one(text) {
        Statement::Select(s) => *s,
        other => panic!("{text:?} is not a SELECT: {other:?}"),
    }
}

/// The expression of `SELECT <expr> FROM m`.
#[track_caller]
fn field_expr(expr: &str) -> Expr {
    let s = sel(&format!("SELECT {expr} FROM m"));
    assert_eq!(s.fields.len(), 1);
    s.fields.into_iter().next().unwrap().expr
}

/// The condition of `SELECT v FROM m WHERE <cond>`.
#[track_caller]
fn cond(text: &str) -> Expr {
    sel(&format!("SELECT v FROM m WHERE {text}"))
        .condition
        .expect("a condition")
}

// ----- SELECT fields --------------------------------------------------------------------

#[test]
fn simplest_select() {
    assert_eq!(
        sel("SELECT value FROM cpu"),
        select(vec![field(var("value"))], vec![src("cpu")])
    );
    assert_eq!(sel("select value from cpu"), sel("SELECT value FROM cpu"));
    assert_eq!(sel("SeLeCt value FrOm cpu"), sel("SELECT value FROM cpu"));
}

#[test]
fn wildcards() {
    assert_eq!(field_expr("*"), Expr::Wildcard(None));
    assert_eq!(field_expr("*::field"), Expr::Wildcard(Some(VarType::Field)));
    assert_eq!(field_expr("*::tag"), Expr::Wildcard(Some(VarType::Tag)));
    assert_eq!(field_expr("*::FIELD"), Expr::Wildcard(Some(VarType::Field)));
}

#[test]
fn field_casts() {
    assert_eq!(field_expr("v::field"), typed("v", VarType::Field));
    assert_eq!(field_expr("v::tag"), typed("v", VarType::Tag));
    assert_eq!(field_expr("v::float"), typed("v", VarType::Float));
    assert_eq!(field_expr("v::integer"), typed("v", VarType::Integer));
    assert_eq!(field_expr("v::unsigned"), typed("v", VarType::Unsigned));
    assert_eq!(field_expr("v::string"), typed("v", VarType::String));
    assert_eq!(field_expr("v::boolean"), typed("v", VarType::Boolean));
    assert_eq!(field_expr("v::Float"), typed("v", VarType::Float));
    assert_eq!(
        field_expr("\"my field\"::integer"),
        typed("my field", VarType::Integer)
    );
    assert_eq!(
        field_expr("mean(v::float)"),
        call("mean", vec![typed("v", VarType::Float)])
    );
}

#[test]
fn regex_fields() {
    assert_eq!(field_expr("/usage_.*/"), Expr::RegexRef(re("usage_.*")));
    assert_eq!(
        field_expr("mean(/u.*/)"),
        call("mean", vec![Expr::RegexRef(re("u.*"))])
    );
    assert_eq!(
        field_expr("top(/u.*/, 3)"),
        call("top", vec![Expr::RegexRef(re("u.*")), int(3)])
    );
    assert_eq!(
        field_expr("f(x, /a/)"),
        call("f", vec![var("x"), Expr::RegexRef(re("a"))])
    );
    let s = sel("SELECT /a/, b, /c/ AS x FROM m");
    assert_eq!(
        s.fields,
        vec![
            field(Expr::RegexRef(re("a"))),
            field(var("b")),
            aliased(Expr::RegexRef(re("c")), "x")
        ]
    );
}

#[test]
fn aliases() {
    let s = sel("SELECT mean(v) AS avg, max(v) as \"the max\", v AS \"select\" FROM m");
    assert_eq!(
        s.fields,
        vec![
            aliased(call("mean", vec![var("v")]), "avg"),
            aliased(call("max", vec![var("v")]), "the max"),
            aliased(var("v"), "select"),
        ]
    );
}

#[test]
fn several_fields_with_odd_spacing() {
    let s = sel("SELECT a,b , c  ,\td FROM m");
    assert_eq!(
        s.fields,
        vec![
            field(var("a")),
            field(var("b")),
            field(var("c")),
            field(var("d"))
        ]
    );
}

#[test]
fn quoted_identifiers() {
    assert_eq!(field_expr("\"usage user\""), var("usage user"));
    assert_eq!(field_expr(r#""a\"b""#), var("a\"b"));
    assert_eq!(field_expr(r#""a\\b""#), var("a\\b"));
    assert_eq!(field_expr(r#""a\nb""#), var("a\nb"));
    assert_eq!(field_expr(r#""a'b""#), var("a'b"));
    assert_eq!(field_expr("\"from\""), var("from"));
    assert_eq!(field_expr("\"time\""), var("time"));
    assert_eq!(field_expr("\"\""), var(""));
    assert_eq!(field_expr("\"ünïcödé\""), var("ünïcödé"));
    assert_eq!(field_expr("_under_score9"), var("_under_score9"));
    assert_eq!(field_expr("\"true\""), var("true"));
}

#[test]
fn segmented_references_join() {
    assert_eq!(field_expr("cpu.usage"), var("cpu.usage"));
    assert_eq!(field_expr("\"cpu\".\"usage\""), var("cpu.usage"));
}

#[test]
fn literals() {
    assert_eq!(field_expr("42"), int(42));
    assert_eq!(field_expr("0"), int(0));
    assert_eq!(field_expr("1.5"), float(1.5));
    assert_eq!(field_expr(".25"), float(0.25));
    assert_eq!(field_expr("100."), float(100.0));
    assert_eq!(field_expr("1e3"), float(1000.0));
    assert_eq!(field_expr("2.5E-2"), float(0.025));
    assert_eq!(field_expr("1e+2"), float(100.0));
    assert_eq!(field_expr("'text'"), string("text"));
    assert_eq!(field_expr("true"), Expr::Literal(Literal::Boolean(true)));
    assert_eq!(field_expr("FALSE"), Expr::Literal(Literal::Boolean(false)));
    assert_eq!(field_expr("9223372036854775807"), int(i64::MAX));
    assert_eq!(
        field_expr("9223372036854775808"),
        Expr::Literal(Literal::Unsigned(9_223_372_036_854_775_808))
    );
    assert_eq!(
        field_expr("18446744073709551615"),
        Expr::Literal(Literal::Unsigned(u64::MAX))
    );
    assert_eq!(field_expr("10s"), dur(10 * S));
}

#[test]
fn string_escapes() {
    assert_eq!(field_expr(r"'it\'s'"), string("it's"));
    assert_eq!(field_expr(r"'back\\slash'"), string("back\\slash"));
    assert_eq!(field_expr(r"'new\nline'"), string("new\nline"));
    assert_eq!(field_expr(r#"'dq\"'"#), string("dq\""));
    assert_eq!(field_expr("''"), string(""));
    assert_eq!(
        field_expr("'2026-01-01T00:00:00Z'"),
        string("2026-01-01T00:00:00Z")
    );
    assert_eq!(field_expr("'a \"b\" c'"), string("a \"b\" c"));
}

#[test]
fn unary_minus_and_plus() {
    assert_eq!(field_expr("-7"), int(-7));
    assert_eq!(field_expr("-0.25"), float(-0.25));
    assert_eq!(field_expr("-.5"), float(-0.5));
    assert_eq!(field_expr("-1h"), dur(-H));
    assert_eq!(field_expr("+7"), int(7));
    assert_eq!(field_expr("- 7"), int(-7));
    assert_eq!(field_expr("-9223372036854775808"), int(i64::MIN));
    assert_eq!(
        field_expr("+9223372036854775808"),
        Expr::Literal(Literal::Unsigned(1 << 63))
    );
    // On anything but a literal, 1.x multiplies by -1 (or 1).
    assert_eq!(field_expr("-v"), bin(int(-1), Mul, var("v")));
    assert_eq!(field_expr("+v"), bin(int(1), Mul, var("v")));
    assert_eq!(
        field_expr("-mean(v)"),
        bin(int(-1), Mul, call("mean", vec![var("v")]))
    );
    assert_eq!(
        field_expr("-(a + b)"),
        bin(int(-1), Mul, paren(bin(var("a"), Add, var("b"))))
    );
    assert_eq!(
        field_expr("a - -b"),
        bin(var("a"), Sub, bin(int(-1), Mul, var("b")))
    );
    assert_eq!(field_expr("a * -2"), bin(var("a"), Mul, int(-2)));
    assert_eq!(
        field_expr("-a * b"),
        bin(bin(int(-1), Mul, var("a")), Mul, var("b"))
    );
}

#[test]
fn arithmetic_precedence() {
    assert_eq!(
        field_expr("a + b * c"),
        bin(var("a"), Add, bin(var("b"), Mul, var("c")))
    );
    assert_eq!(
        field_expr("a * b + c"),
        bin(bin(var("a"), Mul, var("b")), Add, var("c"))
    );
    assert_eq!(
        field_expr("a - b - c"),
        bin(bin(var("a"), Sub, var("b")), Sub, var("c"))
    );
    assert_eq!(
        field_expr("a / b / c"),
        bin(bin(var("a"), Div, var("b")), Div, var("c"))
    );
    assert_eq!(
        field_expr("a % b * c"),
        bin(bin(var("a"), Mod, var("b")), Mul, var("c"))
    );
    // `&` binds like `*`; `|` and `^` like `+`.
    assert_eq!(
        field_expr("a | b & c"),
        bin(var("a"), BitOr, bin(var("b"), BitAnd, var("c")))
    );
    assert_eq!(
        field_expr("a ^ b | c"),
        bin(bin(var("a"), BitXor, var("b")), BitOr, var("c"))
    );
    assert_eq!(
        field_expr("a & b ^ c"),
        bin(bin(var("a"), BitAnd, var("b")), BitXor, var("c"))
    );
    assert_eq!(
        field_expr("(a + b) * c"),
        bin(paren(bin(var("a"), Add, var("b"))), Mul, var("c"))
    );
    assert_eq!(
        field_expr("a + b * c - d / e"),
        bin(
            bin(var("a"), Add, bin(var("b"), Mul, var("c"))),
            Sub,
            bin(var("d"), Div, var("e"))
        )
    );
    assert_eq!(field_expr("((v))"), paren(paren(var("v"))));
    assert_eq!(field_expr("v/2"), bin(var("v"), Div, int(2)));
    assert_eq!(
        field_expr("mean(v) / 1024 / 1024"),
        bin(
            bin(call("mean", vec![var("v")]), Div, int(1024)),
            Div,
            int(1024)
        )
    );
}

#[test]
fn calls() {
    assert_eq!(field_expr("now()"), now());
    assert_eq!(field_expr("NOW()"), now());
    assert_eq!(field_expr("MEAN(v)"), call("mean", vec![var("v")]));
    assert_eq!(
        field_expr("derivative(mean(x), 1s)"),
        call("derivative", vec![call("mean", vec![var("x")]), dur(S)])
    );
    assert_eq!(
        field_expr("non_negative_derivative(max(\"bytes\"), 10s) * 8"),
        bin(
            call(
                "non_negative_derivative",
                vec![call("max", vec![var("bytes")]), dur(10 * S)]
            ),
            Mul,
            int(8)
        )
    );
    assert_eq!(
        field_expr("top(x, host, 3)"),
        call("top", vec![var("x"), var("host"), int(3)])
    );
    assert_eq!(
        field_expr("percentile(x, 95)"),
        call("percentile", vec![var("x"), int(95)])
    );
    assert_eq!(
        field_expr("percentile(x, 99.9)"),
        call("percentile", vec![var("x"), float(99.9)])
    );
    assert_eq!(
        field_expr("count(distinct(x))"),
        call("count", vec![call("distinct", vec![var("x")])])
    );
    assert_eq!(
        field_expr("count(DISTINCT x)"),
        call("count", vec![call("distinct", vec![var("x")])])
    );
    assert_eq!(field_expr("DISTINCT x"), call("distinct", vec![var("x")]));
    assert_eq!(
        field_expr("distinct(\"x\")"),
        call("distinct", vec![var("x")])
    );
    assert_eq!(
        field_expr("f( x , y )"),
        call("f", vec![var("x"), var("y")])
    );
    assert_eq!(field_expr("\"Mean\"(v)"), call("mean", vec![var("v")]));
    assert_eq!(
        field_expr("holt_winters_with_fit(first(v), 10, 4)"),
        call(
            "holt_winters_with_fit",
            vec![call("first", vec![var("v")]), int(10), int(4)]
        )
    );
    // A space before `(` makes a name, not a call, as in 1.x.
    assert!(parse("SELECT mean (v) FROM m").is_err());
}

// ----- INTO, FROM ---------------------------------------------------------------------------

#[test]
fn into_targets() {
    assert_eq!(sel("SELECT v INTO dst FROM m").into, Some(m("dst")));
    assert_eq!(
        sel("SELECT v INTO rp.dst FROM m").into,
        Some(qm(None, Some("rp"), name("dst")))
    );
    assert_eq!(
        sel("SELECT v INTO db.rp.dst FROM m").into,
        Some(qm(Some("db"), Some("rp"), name("dst")))
    );
    assert_eq!(
        sel("SELECT v INTO \"db\"..dst FROM m").into,
        Some(qm(Some("db"), None, name("dst")))
    );
    // `:MEASUREMENT` (the source's name) leaves the name empty.
    assert_eq!(
        sel("SELECT * INTO db.rp.:MEASUREMENT FROM /.*/").into,
        Some(qm(Some("db"), Some("rp"), name("")))
    );
    assert_eq!(sel("SELECT v FROM m").into, None);
}

#[test]
fn from_forms() {
    let from = |text: &str| sel(&format!("SELECT v FROM {text}")).from;
    assert_eq!(from("cpu"), vec![src("cpu")]);
    assert_eq!(from("\"cpu load\""), vec![src("cpu load")]);
    assert_eq!(from(r#""a\"b""#), vec![src("a\"b")]);
    assert_eq!(from("\"select\""), vec![src("select")]);
    assert_eq!(
        from("rp.cpu"),
        vec![Source::Measurement(qm(None, Some("rp"), name("cpu")))]
    );
    assert_eq!(
        from("db.rp.cpu"),
        vec![Source::Measurement(qm(Some("db"), Some("rp"), name("cpu")))]
    );
    assert_eq!(
        from("db..cpu"),
        vec![Source::Measurement(qm(Some("db"), None, name("cpu")))]
    );
    assert_eq!(
        from("\"db\".\"rp\".\"cpu\""),
        vec![Source::Measurement(qm(Some("db"), Some("rp"), name("cpu")))]
    );
    assert_eq!(
        from("\"my.db\".\"autogen\".\"a.b\""),
        vec![Source::Measurement(qm(
            Some("my.db"),
            Some("autogen"),
            name("a.b")
        ))]
    );
    assert_eq!(
        from("/cpu.*/"),
        vec![Source::Measurement(qm(
            None,
            None,
            NameOrRegex::Regex(re("cpu.*"))
        ))]
    );
    assert_eq!(
        from("db.rp./cpu/"),
        vec![Source::Measurement(qm(
            Some("db"),
            Some("rp"),
            NameOrRegex::Regex(re("cpu"))
        ))]
    );
    assert_eq!(
        from("db../cpu/"),
        vec![Source::Measurement(qm(
            Some("db"),
            None,
            NameOrRegex::Regex(re("cpu"))
        ))]
    );
    assert_eq!(
        from("rp./cpu/"),
        vec![Source::Measurement(qm(
            None,
            Some("rp"),
            NameOrRegex::Regex(re("cpu"))
        ))]
    );
    assert_eq!(
        from("cpu, mem ,disk"),
        vec![src("cpu"), src("mem"), src("disk")]
    );
    assert_eq!(
        from("cpu, /^mem/"),
        vec![
            src("cpu"),
            Source::Measurement(qm(None, None, NameOrRegex::Regex(re("^mem"))))
        ]
    );
}

#[test]
fn regex_escapes() {
    let from = |text: &str| sel(&format!("SELECT v FROM {text}")).from;
    let regex = |p: &str| {
        vec![Source::Measurement(qm(
            None,
            None,
            NameOrRegex::Regex(re(p)),
        ))]
    };
    assert_eq!(from(r"/a\/b/"), regex("a/b"));
    assert_eq!(from(r"/a\.b\d+/"), regex(r"a\.b\d+"));
    assert_eq!(from(r"/^cpu$/"), regex("^cpu$"));
    // 1.x reads `\\/` as a backslash followed by an escaped slash.
    assert_eq!(from(r"/a\\/b/"), regex(r"a\/b"));
    assert_eq!(from("//"), regex(""));
}

#[test]
fn subqueries() {
    let s = sel(
        "SELECT max(m) FROM (SELECT mean(v) AS m FROM cpu GROUP BY host) WHERE time > now() - 1h",
    );
    let mut inner = select(
        vec![aliased(call("mean", vec![var("v")]), "m")],
        vec![src("cpu")],
    );
    inner.group_by = vec![Dimension::Tag("host".into())];
    assert_eq!(s.from, vec![Source::Subquery(Box::new(inner.clone()))]);
    assert_eq!(
        s.condition,
        Some(bin(var("time"), Gt, bin(now(), Sub, dur(H))))
    );

    let s = sel("SELECT * FROM (SELECT * FROM (SELECT v FROM a)), b");
    let innermost = select(vec![field(var("v"))], vec![src("a")]);
    let middle = select(
        vec![field(Expr::Wildcard(None))],
        vec![Source::Subquery(Box::new(innermost))],
    );
    assert_eq!(s.from, vec![Source::Subquery(Box::new(middle)), src("b")]);

    let s = sel("SELECT v FROM ( SELECT v FROM a LIMIT 1 )");
    let mut limited = select(vec![field(var("v"))], vec![src("a")]);
    limited.limit = Some(1);
    assert_eq!(s.from, vec![Source::Subquery(Box::new(limited))]);
}

// ----- WHERE --------------------------------------------------------------------------------

#[test]
fn comparisons() {
    assert_eq!(cond("a = 1"), bin(var("a"), Eq, int(1)));
    assert_eq!(cond("a != 1"), bin(var("a"), NotEq, int(1)));
    assert_eq!(cond("a <> 1"), bin(var("a"), NotEq, int(1)));
    assert_eq!(cond("a < 1"), bin(var("a"), Lt, int(1)));
    assert_eq!(cond("a <= 1"), bin(var("a"), LtEq, int(1)));
    assert_eq!(cond("a > 1"), bin(var("a"), Gt, int(1)));
    assert_eq!(cond("a >= 1"), bin(var("a"), GtEq, int(1)));
    assert_eq!(cond("a=1"), bin(var("a"), Eq, int(1)));
    assert_eq!(
        cond("host = 'server01'"),
        bin(var("host"), Eq, string("server01"))
    );
    assert_eq!(cond("\"host\"='a b'"), bin(var("host"), Eq, string("a b")));
    assert_eq!(
        cond("ok = true"),
        bin(var("ok"), Eq, Expr::Literal(Literal::Boolean(true)))
    );
    assert_eq!(cond("v > -1.5"), bin(var("v"), Gt, float(-1.5)));
    assert_eq!(
        cond("a + 1 > b * 2"),
        bin(bin(var("a"), Add, int(1)), Gt, bin(var("b"), Mul, int(2)))
    );
    assert_eq!(
        cond("host::tag = 'a'"),
        bin(typed("host", VarType::Tag), Eq, string("a"))
    );
}

#[test]
fn regex_conditions() {
    assert_eq!(
        cond("host =~ /^server\\d+$/"),
        bin(var("host"), EqRegex, re_lit("^server\\d+$"))
    );
    assert_eq!(
        cond("host !~ /a\\/b/"),
        bin(var("host"), NotEqRegex, re_lit("a/b"))
    );
    assert_eq!(cond("host=~/x/"), bin(var("host"), EqRegex, re_lit("x")));
    assert_eq!(
        cond("host =~ /a/ AND b = 1"),
        bin(
            bin(var("host"), EqRegex, re_lit("a")),
            And,
            bin(var("b"), Eq, int(1))
        )
    );
    // Elsewhere `/` divides.
    assert_eq!(
        cond("a / 2 > 1"),
        bin(bin(var("a"), Div, int(2)), Gt, int(1))
    );
    assert_eq!(
        cond("a/b/c = 1"),
        bin(bin(bin(var("a"), Div, var("b")), Div, var("c")), Eq, int(1))
    );
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        cond("a = 1 OR b = 2 AND c = 3"),
        bin(
            bin(var("a"), Eq, int(1)),
            Or,
            bin(bin(var("b"), Eq, int(2)), And, bin(var("c"), Eq, int(3)))
        )
    );
    assert_eq!(
        cond("a = 1 AND b = 2 OR c = 3"),
        bin(
            bin(bin(var("a"), Eq, int(1)), And, bin(var("b"), Eq, int(2))),
            Or,
            bin(var("c"), Eq, int(3))
        )
    );
    assert_eq!(
        cond("(a = 1 OR b = 2) and c = 3"),
        bin(
            paren(bin(
                bin(var("a"), Eq, int(1)),
                Or,
                bin(var("b"), Eq, int(2))
            )),
            And,
            bin(var("c"), Eq, int(3))
        )
    );
    assert_eq!(
        cond("a = 1 and b = 2 and c = 3"),
        bin(
            bin(bin(var("a"), Eq, int(1)), And, bin(var("b"), Eq, int(2))),
            And,
            bin(var("c"), Eq, int(3))
        )
    );
}

#[test]
fn time_conditions() {
    assert_eq!(
        cond("time > now() - 1h"),
        bin(var("time"), Gt, bin(now(), Sub, dur(H)))
    );
    assert_eq!(
        cond("time >= '2026-01-01T00:00:00Z' AND time <= '2026-01-02'"),
        bin(
            bin(var("time"), GtEq, string("2026-01-01T00:00:00Z")),
            And,
            bin(var("time"), LtEq, string("2026-01-02"))
        )
    );
    assert_eq!(
        cond("time > 1767222000000000000"),
        bin(var("time"), Gt, int(1_767_222_000_000_000_000))
    );
    // Grafana's $timeFilter.
    assert_eq!(
        cond("time >= 1767218400000ms and time <= 1767222000000ms"),
        bin(
            bin(var("time"), GtEq, dur(1_767_218_400_000 * MS)),
            And,
            bin(var("time"), LtEq, dur(1_767_222_000_000 * MS))
        )
    );
    assert_eq!(
        cond("time > 1767222000s"),
        bin(var("time"), Gt, dur(1_767_222_000 * S))
    );
    assert_eq!(
        cond("time > now() - 7d + 1h"),
        bin(
            var("time"),
            Gt,
            bin(bin(now(), Sub, dur(7 * D)), Add, dur(H))
        )
    );
}

#[test]
fn durations() {
    let d = |text: &str| match field_expr(text) {
        Expr::Literal(Literal::Duration(ns)) => ns,
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(d("1ns"), NS);
    assert_eq!(d("1u"), US);
    assert_eq!(d("1µ"), US);
    assert_eq!(d("1ms"), MS);
    assert_eq!(d("1s"), S);
    assert_eq!(d("10m"), 10 * MIN);
    assert_eq!(d("1h"), H);
    assert_eq!(d("1d"), D);
    assert_eq!(d("1w"), W);
    assert_eq!(d("1h30m"), H + 30 * MIN);
    assert_eq!(d("30ms3000u"), 30 * MS + 3000 * US);
    assert_eq!(
        d("2w3d4h5m6s7ms8u9ns"),
        2 * W + 3 * D + 4 * H + 5 * MIN + 6 * S + 7 * MS + 8 * US + 9
    );
    assert_eq!(d("0s"), 0);
    assert_eq!(d("9223372036854775807ns"), i64::MAX);
    assert_eq!(d("15250w"), 15250 * W);
    assert_eq!(d("-5m30s"), -(5 * MIN + 30 * S));
    for bad in ["1x", "10n", "1y", "1hh", "1h5", "1M", "1µs"] {
        let err = parse(&format!("SELECT {bad} FROM m")).unwrap_err();
        assert_eq!(err.message, "invalid duration", "{bad}");
    }
    let err = parse("SELECT 9223372036854775807ns1ns FROM m").unwrap_err();
    assert_eq!(
        err.message,
        "overflowed duration 1ns: choose a smaller duration or INF"
    );
}

// ----- GROUP BY, fill, ORDER BY, LIMIT, tz -------------------------------------------------

#[test]
fn group_by() {
    let g = |text: &str| sel(&format!("SELECT mean(v) FROM m GROUP BY {text}")).group_by;
    assert_eq!(
        g("time(1m)"),
        vec![Dimension::Time {
            interval: MIN,
            offset: None
        }]
    );
    assert_eq!(
        g("time(1h, 15m)"),
        vec![Dimension::Time {
            interval: H,
            offset: Some(15 * MIN)
        }]
    );
    assert_eq!(
        g("time(1h,-15m)"),
        vec![Dimension::Time {
            interval: H,
            offset: Some(-15 * MIN)
        }]
    );
    assert_eq!(
        g("TIME(10s)"),
        vec![Dimension::Time {
            interval: 10 * S,
            offset: None
        }]
    );
    assert_eq!(g("host"), vec![Dimension::Tag("host".into())]);
    assert_eq!(g("\"host name\""), vec![Dimension::Tag("host name".into())]);
    assert_eq!(g("host::tag"), vec![Dimension::Tag("host".into())]);
    assert_eq!(g("*"), vec![Dimension::Wildcard]);
    assert_eq!(g("/^h/"), vec![Dimension::Regex(re("^h"))]);
    assert_eq!(
        g("time(1m), \"host\", region ,/dc.*/"),
        vec![
            Dimension::Time {
                interval: MIN,
                offset: None
            },
            Dimension::Tag("host".into()),
            Dimension::Tag("region".into()),
            Dimension::Regex(re("dc.*")),
        ]
    );
    assert_eq!(
        g("host, time(5m)"),
        vec![
            Dimension::Tag("host".into()),
            Dimension::Time {
                interval: 5 * MIN,
                offset: None
            }
        ]
    );
}

#[test]
fn grafana_group_by_with_fill() {
    let s = sel("SELECT mean(\"value\") FROM \"cpu\" WHERE $timeFilter GROUP BY time(1m), \"host\" fill(null)".replace("$timeFilter", "time >= now() - 6h").as_str());
    assert_eq!(
        s.group_by,
        vec![
            Dimension::Time {
                interval: MIN,
                offset: None
            },
            Dimension::Tag("host".into())
        ]
    );
    assert_eq!(s.fill, Some(Fill::Null));
}

#[test]
fn fill_options() {
    let f = |text: &str| sel(&format!("SELECT mean(v) FROM m GROUP BY time(1m) {text}")).fill;
    assert_eq!(f(""), None);
    assert_eq!(f("fill(null)"), Some(Fill::Null));
    assert_eq!(f("fill(none)"), Some(Fill::None));
    assert_eq!(f("fill(previous)"), Some(Fill::Previous));
    assert_eq!(f("fill(linear)"), Some(Fill::Linear));
    assert_eq!(f("FILL(0)"), Some(Fill::Value(Literal::Integer(0))));
    assert_eq!(f("fill(-1)"), Some(Fill::Value(Literal::Integer(-1))));
    assert_eq!(f("fill(2.5)"), Some(Fill::Value(Literal::Float(2.5))));
    assert_eq!(f("fill(-0.5)"), Some(Fill::Value(Literal::Float(-0.5))));
    assert_eq!(f("fill(\"none\")"), Some(Fill::None));
    // fill without GROUP BY is still syntax 1.x accepts.
    assert_eq!(
        sel("SELECT v FROM m fill(0)").fill,
        Some(Fill::Value(Literal::Integer(0)))
    );
}

#[test]
fn order_by() {
    let o = |text: &str| sel(&format!("SELECT v FROM m {text}")).descending;
    assert!(!o(""));
    assert!(!o("ORDER BY time"));
    assert!(!o("ORDER BY time ASC"));
    assert!(o("ORDER BY time DESC"));
    assert!(o("order by time desc"));
    assert!(o("ORDER BY \"time\" DESC"));
    assert!(o("ORDER BY DESC"));
    assert!(!o("ORDER BY ASC"));
}

#[test]
fn limits_and_offsets() {
    let s = sel("SELECT v FROM m LIMIT 10 OFFSET 20 SLIMIT 3 SOFFSET 4");
    assert_eq!(
        (s.limit, s.offset, s.slimit, s.soffset),
        (Some(10), Some(20), Some(3), Some(4))
    );
    let s = sel("SELECT v FROM m OFFSET 5");
    assert_eq!((s.limit, s.offset), (None, Some(5)));
    let s = sel("SELECT v FROM m SLIMIT 1");
    assert_eq!((s.limit, s.slimit, s.soffset), (None, Some(1), None));
    let s = sel("SELECT v FROM m LIMIT 0");
    assert_eq!(s.limit, Some(0));
    // 1.x saturates an oversized count.
    let s = sel("SELECT v FROM m LIMIT 99999999999999999999999");
    assert_eq!(s.limit, Some(i64::MAX as u64));
}

#[test]
fn timezone() {
    assert_eq!(
        sel("SELECT v FROM m tz('America/Chicago')").timezone,
        Some("America/Chicago".into())
    );
    assert_eq!(
        sel("SELECT v FROM m TZ('UTC')").timezone,
        Some("UTC".into())
    );
    assert_eq!(sel("SELECT v FROM m").timezone, None);
}

#[test]
fn every_clause_together() {
    let s = sel(
        "SELECT mean(\"usage_user\") AS \"mean\" INTO \"archive\" FROM \"telegraf\".\"autogen\".\"cpu\" \
         WHERE \"host\" =~ /^web/ AND time >= now() - 1h GROUP BY time(10s, 5s), \"host\" fill(previous) \
         ORDER BY time DESC LIMIT 100 OFFSET 10 SLIMIT 5 SOFFSET 1 tz('Europe/Paris')",
    );
    assert_eq!(
        s,
        Select {
            fields: vec![aliased(call("mean", vec![var("usage_user")]), "mean")],
            into: Some(m("archive")),
            from: vec![Source::Measurement(qm(
                Some("telegraf"),
                Some("autogen"),
                name("cpu")
            ))],
            condition: Some(bin(
                bin(var("host"), EqRegex, re_lit("^web")),
                And,
                bin(var("time"), GtEq, bin(now(), Sub, dur(H)))
            )),
            group_by: vec![
                Dimension::Time {
                    interval: 10 * S,
                    offset: Some(5 * S)
                },
                Dimension::Tag("host".into())
            ],
            fill: Some(Fill::Previous),
            descending: true,
            limit: Some(100),
            offset: Some(10),
            slimit: Some(5),
            soffset: Some(1),
            timezone: Some("Europe/Paris".into()),
        }
    );
}

#[test]
fn what_clients_send() {
    // Grafana's query editor.
    let s = sel("SELECT mean(\"usage_idle\") FROM \"cpu\" WHERE (\"host\" = 'a') AND time >= 1767218400000ms and time <= 1767222000000ms GROUP BY time(10s) fill(null)");
    assert_eq!(
        s.condition,
        Some(bin(
            bin(
                paren(bin(var("host"), Eq, string("a"))),
                And,
                bin(var("time"), GtEq, dur(1_767_218_400_000 * MS))
            ),
            And,
            bin(var("time"), LtEq, dur(1_767_222_000_000 * MS))
        ))
    );
    // Chronograf.
    let s = sel("SELECT mean(\"usage_user\") AS \"mean_usage_user\" FROM \"telegraf\".\"autogen\".\"cpu\" WHERE time > :dashboardTime: GROUP BY time(:interval:) FILL(null)".replace(":dashboardTime:", "now() - 15m").replace(":interval:", "10s").as_str());
    assert_eq!(s.fill, Some(Fill::Null));
    // The influx CLI's first queries.
    assert_eq!(one("SHOW DATABASES"), Statement::ShowDatabases);
    assert_eq!(
        one("show retention policies on \"telegraf\""),
        Statement::ShowRetentionPolicies {
            on: Some("telegraf".into())
        }
    );
    // node-influx / influxdb-python.
    assert_eq!(
        one("CREATE DATABASE \"mydb\""),
        Statement::CreateDatabase {
            name: "mydb".into(),
            policy: None
        }
    );
    let s = sel("select * from \"cpu\" where \"host\" = 'h' order by time desc limit 1");
    assert!(s.descending);
    assert_eq!(s.limit, Some(1));
}

// ----- multiple statements, comments ------------------------------------------------------

#[test]
fn statements_and_separators() {
    assert_eq!(parse("").unwrap().statements, vec![]);
    assert_eq!(parse("  \n\t ").unwrap().statements, vec![]);
    assert_eq!(parse(";").unwrap().statements, vec![]);
    assert_eq!(parse("-- nothing").unwrap().statements, vec![]);
    let q = parse("SHOW DATABASES; SELECT v FROM m;\n").unwrap();
    assert_eq!(q.statements.len(), 2);
    assert_eq!(q.statements[0], Statement::ShowDatabases);
    let q = parse("SHOW DATABASES;;SHOW DATABASES").unwrap();
    assert_eq!(
        q.statements,
        vec![Statement::ShowDatabases, Statement::ShowDatabases]
    );
}

#[test]
fn comments() {
    assert_eq!(
        sel("SELECT v -- the value\nFROM m /* the measurement */ WHERE /* x */ a = 1 -- end"),
        {
            let mut s = select(vec![field(var("v"))], vec![src("m")]);
            s.condition = Some(bin(var("a"), Eq, int(1)));
            s
        }
    );
    assert_eq!(
        one("/* lead */ SHOW DATABASES /* ** trail **/"),
        Statement::ShowDatabases
    );
    assert_eq!(
        cond("a = 1 --c\r\nAND b = 2"),
        bin(bin(var("a"), Eq, int(1)), And, bin(var("b"), Eq, int(2)))
    );
}

#[test]
fn keywords_need_quotes_to_be_names() {
    assert!(parse("SELECT value FROM select").is_err());
    assert!(parse("SELECT from FROM m").is_err());
    assert_eq!(
        sel("SELECT \"from\" FROM \"select\"").from,
        vec![src("select")]
    );
    // `time`, `fill`, `tz`, `now` are plain names.
    assert_eq!(field_expr("time"), var("time"));
    assert_eq!(field_expr("fill"), var("fill"));
}

// ----- SHOW ---------------------------------------------------------------------------------

#[test]
fn show_measurements() {
    assert_eq!(
        one("SHOW MEASUREMENTS"),
        Statement::ShowMeasurements(ShowMeasurements::default())
    );
    let Statement::ShowMeasurements(s) = one(
        "SHOW MEASUREMENTS ON db WITH MEASUREMENT =~ /cpu.*/ WHERE host = 'a' LIMIT 10 OFFSET 5",
    ) else {
        panic!()
    };
    assert_eq!(
        s,
        ShowMeasurements {
            show: Show {
                on: Some("db".into()),
                from: vec![],
                condition: Some(bin(var("host"), Eq, string("a"))),
                limit: Some(10),
                offset: Some(5),
            },
            with_measurement: Some((EqRegex, NameOrRegex::Regex(re("cpu.*")))),
        }
    );
    let with = |text: &str| match one(&format!("SHOW MEASUREMENTS WITH MEASUREMENT {text}")) {
        Statement::ShowMeasurements(s) => s.with_measurement,
        other => panic!("{other:?}"),
    };
    assert_eq!(with("= cpu"), Some((Eq, name("cpu"))));
    assert_eq!(with("!= \"cpu\""), Some((NotEq, name("cpu"))));
    assert_eq!(
        with("!~ /^c/"),
        Some((NotEqRegex, NameOrRegex::Regex(re("^c"))))
    );
    assert_eq!(with("= db.rp.cpu"), Some((Eq, name("cpu"))));
    let Statement::ShowMeasurements(s) = one("SHOW MEASUREMENTS ORDER BY time DESC LIMIT 1") else {
        panic!()
    };
    assert_eq!(s.show.limit, Some(1));
}

#[test]
fn show_tag_keys() {
    assert_eq!(
        one("SHOW TAG KEYS"),
        Statement::ShowTagKeys(Show::default())
    );
    assert_eq!(
        one("SHOW TAG KEYS ON \"db\" FROM cpu, /m.*/ WHERE host = 'a' LIMIT 2 OFFSET 1"),
        Statement::ShowTagKeys(Show {
            on: Some("db".into()),
            from: vec![m("cpu"), qm(None, None, NameOrRegex::Regex(re("m.*")))],
            condition: Some(bin(var("host"), Eq, string("a"))),
            limit: Some(2),
            offset: Some(1),
        })
    );
}

#[test]
fn show_tag_values() {
    let key = |text: &str| match one(&format!("SHOW TAG VALUES WITH KEY {text}")) {
        Statement::ShowTagValues(s) => s.key,
        other => panic!("{other:?}"),
    };
    assert_eq!(key("= \"host\""), TagKeys::Eq("host".into()));
    assert_eq!(key("= host"), TagKeys::Eq("host".into()));
    assert_eq!(key("!= host"), TagKeys::NotEq("host".into()));
    assert_eq!(key("=~ /h.*/"), TagKeys::Regex(re("h.*")));
    assert_eq!(key("!~ /h.*/"), TagKeys::NotRegex(re("h.*")));
    assert_eq!(
        key("IN (\"a\", \"b\",c)"),
        TagKeys::In(vec!["a".into(), "b".into(), "c".into()])
    );
    assert_eq!(
        one("SHOW TAG VALUES ON db FROM cpu WITH KEY = \"host\" WHERE \"region\" = 'eu' LIMIT 5 OFFSET 2"),
        Statement::ShowTagValues(ShowTagValues {
            show: Show {
                on: Some("db".into()),
                from: vec![m("cpu")],
                condition: Some(bin(var("region"), Eq, string("eu"))),
                limit: Some(5),
                offset: Some(2),
            },
            key: TagKeys::Eq("host".into()),
        })
    );
}

#[test]
fn show_field_keys_series_and_policies() {
    assert_eq!(
        one("SHOW FIELD KEYS"),
        Statement::ShowFieldKeys(Show::default())
    );
    assert_eq!(
        one("SHOW FIELD KEYS ON db FROM rp.cpu LIMIT 1 OFFSET 2"),
        Statement::ShowFieldKeys(Show {
            on: Some("db".into()),
            from: vec![qm(None, Some("rp"), name("cpu"))],
            condition: None,
            limit: Some(1),
            offset: Some(2),
        })
    );
    assert_eq!(one("SHOW SERIES"), Statement::ShowSeries(Show::default()));
    assert_eq!(
        one("SHOW SERIES ON db FROM cpu WHERE host = 'a' LIMIT 3"),
        Statement::ShowSeries(Show {
            on: Some("db".into()),
            from: vec![m("cpu")],
            condition: Some(bin(var("host"), Eq, string("a"))),
            limit: Some(3),
            offset: None,
        })
    );
    assert_eq!(
        one("SHOW RETENTION POLICIES"),
        Statement::ShowRetentionPolicies { on: None }
    );
    assert_eq!(
        one("SHOW RETENTION POLICIES ON db"),
        Statement::ShowRetentionPolicies {
            on: Some("db".into())
        }
    );
    assert_eq!(one("show databases"), Statement::ShowDatabases);
}

// ----- DDL, DELETE ------------------------------------------------------------------------

#[test]
fn create_and_drop_database() {
    assert_eq!(
        one("CREATE DATABASE db"),
        Statement::CreateDatabase {
            name: "db".into(),
            policy: None
        }
    );
    assert_eq!(
        one("CREATE DATABASE db WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h NAME \"rp one\""),
        Statement::CreateDatabase {
            name: "db".into(),
            policy: Some(PolicySpec {
                duration: Some(D),
                replication: Some(1),
                shard_duration: Some(H),
                name: Some("rp one".into()),
                default: false,
            }),
        }
    );
    assert_eq!(
        one("CREATE DATABASE db WITH DURATION INF"),
        Statement::CreateDatabase {
            name: "db".into(),
            policy: Some(PolicySpec {
                duration: Some(0),
                ..PolicySpec::default()
            }),
        }
    );
    assert_eq!(
        one("CREATE DATABASE db WITH NAME rp"),
        Statement::CreateDatabase {
            name: "db".into(),
            policy: Some(PolicySpec {
                name: Some("rp".into()),
                ..PolicySpec::default()
            }),
        }
    );
    assert_eq!(
        one("DROP DATABASE \"my db\""),
        Statement::DropDatabase {
            name: "my db".into()
        }
    );
}

#[test]
fn retention_policies() {
    assert_eq!(
        one("CREATE RETENTION POLICY \"one_week\" ON db DURATION 1w REPLICATION 1 SHARD DURATION 1d DEFAULT"),
        Statement::CreateRetentionPolicy {
            name: "one_week".into(),
            database: "db".into(),
            policy: PolicySpec {
                duration: Some(W),
                replication: Some(1),
                shard_duration: Some(D),
                name: None,
                default: true,
            },
        }
    );
    assert_eq!(
        one("CREATE RETENTION POLICY rp ON db DURATION INF REPLICATION 3"),
        Statement::CreateRetentionPolicy {
            name: "rp".into(),
            database: "db".into(),
            policy: PolicySpec {
                duration: Some(0),
                replication: Some(3),
                ..PolicySpec::default()
            },
        }
    );
    assert_eq!(
        one("ALTER RETENTION POLICY rp ON db DURATION 2d"),
        Statement::AlterRetentionPolicy {
            name: "rp".into(),
            database: "db".into(),
            policy: PolicySpec {
                duration: Some(2 * D),
                ..PolicySpec::default()
            },
        }
    );
    assert_eq!(
        one("ALTER RETENTION POLICY default ON db DEFAULT SHARD DURATION 2h REPLICATION 2 DURATION INF"),
        Statement::AlterRetentionPolicy {
            name: "default".into(),
            database: "db".into(),
            policy: PolicySpec {
                duration: Some(0),
                replication: Some(2),
                shard_duration: Some(2 * H),
                name: None,
                default: true,
            },
        }
    );
    assert_eq!(
        one("DROP RETENTION POLICY \"rp\" ON \"db\""),
        Statement::DropRetentionPolicy {
            name: "rp".into(),
            database: "db".into()
        }
    );
}

#[test]
fn drops_and_deletes() {
    assert_eq!(
        one("DROP MEASUREMENT cpu"),
        Statement::DropMeasurement { name: "cpu".into() }
    );
    assert_eq!(
        one("DROP MEASUREMENT \"a b\""),
        Statement::DropMeasurement { name: "a b".into() }
    );
    assert_eq!(
        one("DROP SERIES FROM cpu WHERE host = 'a'"),
        Statement::DropSeries(Delete {
            from: vec![m("cpu")],
            condition: Some(bin(var("host"), Eq, string("a")))
        })
    );
    assert_eq!(
        one("DROP SERIES FROM cpu, /^m/"),
        Statement::DropSeries(Delete {
            from: vec![m("cpu"), qm(None, None, NameOrRegex::Regex(re("^m")))],
            condition: None
        })
    );
    assert_eq!(
        one("DROP SERIES WHERE host = 'a'"),
        Statement::DropSeries(Delete {
            from: vec![],
            condition: Some(bin(var("host"), Eq, string("a")))
        })
    );
    assert_eq!(
        one("DELETE FROM cpu WHERE time < '2020-01-01'"),
        Statement::Delete(Delete {
            from: vec![m("cpu")],
            condition: Some(bin(var("time"), Lt, string("2020-01-01")))
        })
    );
    assert_eq!(
        one("DELETE FROM cpu"),
        Statement::Delete(Delete {
            from: vec![m("cpu")],
            condition: None
        })
    );
    assert_eq!(
        one("DELETE WHERE time < now() - 30d"),
        Statement::Delete(Delete {
            from: vec![],
            condition: Some(bin(var("time"), Lt, bin(now(), Sub, dur(30 * D))))
        })
    );
    // DELETE allows a retention policy (DROP SERIES does not).
    assert_eq!(
        one("DELETE FROM rp.cpu"),
        Statement::Delete(Delete {
            from: vec![qm(None, Some("rp"), name("cpu"))],
            condition: None
        })
    );
}

#[test]
fn bound_parameters_stand_for_values() {
    let params: Params = [
        ("host".to_owned(), Literal::String("a'b".into())),
        ("n".to_owned(), Literal::Integer(3)),
        ("x".to_owned(), Literal::Float(1.5)),
        ("on".to_owned(), Literal::Boolean(true)),
    ]
    .into_iter()
    .collect();
    let query = parse_with_params(
        "SELECT v FROM m WHERE host = $host AND n > $n OR x < $x OR b = $on",
        &params,
    )
    .unwrap();
    let Statement::Select(select) = &query.statements[0] else {
        panic!("a SELECT");
    };
    assert_eq!(
        select.condition,
        Some(bin(
            bin(
                bin(
                    bin(var("host"), Eq, string("a'b")),
                    And,
                    bin(var("n"), Gt, int(3))
                ),
                Or,
                bin(var("x"), Lt, Expr::Literal(Literal::Float(1.5)))
            ),
            Or,
            bin(var("b"), Eq, Expr::Literal(Literal::Boolean(true)))
        ))
    );
    let missing = parse_with_params("SELECT v FROM m WHERE host = $other", &params).unwrap_err();
    assert_eq!(missing.to_string(), "missing parameter: other");
    assert_eq!(
        parse("SELECT v FROM m WHERE host = $host")
            .unwrap_err()
            .to_string(),
        "missing parameter: host"
    );
}
