//! `SELECT`: an InfluxQL statement planned onto DataFusion, then shaped as 1.x answers it.
//!
//! DataFusion scans, filters and aggregates (the work that grows with the data); what is
//! InfluxQL's own and grows only with the answer — splitting rows into series, filling
//! empty windows, the transformations over consecutive rows (`derivative`, `difference`,
//! …), per-series `LIMIT` — runs here over the aggregated rows.
//!
//! The plan of one measurement:
//! - raw: `filter → project(tags, time, referenced columns) → sort(tags, time)`;
//! - aggregate: `filter → aggregate(by tags [, date_bin(time)]) → sort(tags, window)`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float64Type, Int64Type, IntervalMonthDayNano, TimestampNanosecondType, UInt64Type,
};
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{cast, ExprFunctionExt, Operator, SortExpr};
use datafusion::prelude::{coalesce, col, lit, DataFrame, Expr as DfExpr, SessionContext};
use linegate::schema::FieldType;
use linegate_influxql::{BinaryOp, Dimension, Expr, Fill, Literal, NameOrRegex, Source, VarType};

use super::answer::{Series, Value};
use super::{Error, Run};
use crate::catalog::TableDef;
use crate::query;

/// The columns of one measurement: what `*`, regexes and names resolve against.
#[derive(Debug, Clone)]
pub struct Table {
    /// The measurement.
    pub name: String,
    /// Tag keys in series-key order.
    pub tags: Vec<String>,
    /// Fields and their types, in creation order.
    pub fields: Vec<(String, FieldType)>,
}

impl Table {
    /// The columns of a stored table.
    pub fn new(def: &TableDef) -> Table {
        Table {
            name: def.name.clone(),
            tags: def.columns.tags().to_vec(),
            fields: def.columns.fields().to_vec(),
        }
    }

    fn is_tag(&self, name: &str) -> bool {
        self.tags.iter().any(|t| t == name)
    }

    fn field(&self, name: &str) -> Option<FieldType> {
        self.fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, ty)| *ty)
    }
}

/// What a name refers to in a measurement.
enum Column {
    Tag,
    Field(FieldType),
    /// A numeric field read as another numeric type (`usage::integer` truncates).
    Cast(FieldType, DataType),
    Missing,
}

fn column(table: &Table, name: &str, data_type: Option<VarType>) -> Column {
    let tag = table.is_tag(name);
    let field = table.field(name);
    match (data_type, tag, field) {
        (Some(VarType::Tag), true, _) => Column::Tag,
        (Some(VarType::Tag), false, _) => Column::Missing,
        (Some(VarType::Field), _, Some(ty)) => Column::Field(ty),
        (Some(VarType::Field), _, None) => Column::Missing,
        (Some(cast), _, Some(ty)) if cast_matches(cast, ty) => Column::Field(ty),
        (Some(VarType::Float), _, Some(ty)) if numeric(ty) => {
            Column::Cast(FieldType::Float, DataType::Float64)
        }
        (Some(VarType::Integer), _, Some(ty)) if numeric(ty) => {
            Column::Cast(FieldType::Integer, DataType::Int64)
        }
        (Some(_), _, _) => Column::Missing,
        (None, _, Some(ty)) => Column::Field(ty),
        (None, true, None) => Column::Tag,
        (None, false, None) => Column::Missing,
    }
}

fn cast_matches(cast: VarType, ty: FieldType) -> bool {
    matches!(
        (cast, ty),
        (VarType::Float, FieldType::Float)
            | (VarType::Integer, FieldType::Integer)
            | (VarType::Unsigned, FieldType::UInteger)
            | (VarType::String, FieldType::String)
            | (VarType::Boolean, FieldType::Boolean)
    )
}

fn numeric(ty: FieldType) -> bool {
    matches!(
        ty,
        FieldType::Float | FieldType::Integer | FieldType::UInteger
    )
}

// ---------------------------------------------------------------------------------------
// WHERE

/// The time range a condition's top-level `AND`s allow (inclusive nanoseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// The earliest time, if bounded.
    pub lower: Option<i64>,
    /// The latest time, if bounded.
    pub upper: Option<i64>,
}

impl TimeRange {
    /// The bounds `condition` sets on `time`.
    pub fn of(condition: Option<&Expr>, now: i64) -> Result<TimeRange, Error> {
        let mut range = TimeRange {
            lower: None,
            upper: None,
        };
        if let Some(condition) = condition {
            range.narrow(condition, now)?;
        }
        Ok(range)
    }

    fn narrow(&mut self, expr: &Expr, now: i64) -> Result<(), Error> {
        match expr {
            Expr::Paren(inner) => self.narrow(inner, now),
            Expr::Binary {
                left,
                op: BinaryOp::And,
                right,
            } => {
                self.narrow(left, now)?;
                self.narrow(right, now)
            }
            Expr::Binary { left, op, right } => {
                let Some((op, other)) = time_comparison(left, *op, right) else {
                    return Ok(());
                };
                let t = time_value(other, now)?;
                let (lower, upper) = match op {
                    BinaryOp::Gt => (Some(t.saturating_add(1)), None),
                    BinaryOp::GtEq => (Some(t), None),
                    BinaryOp::Lt => (None, Some(t.saturating_sub(1))),
                    BinaryOp::LtEq => (None, Some(t)),
                    BinaryOp::Eq => (Some(t), Some(t)),
                    _ => (None, None),
                };
                if let Some(lower) = lower {
                    self.lower = Some(self.lower.map_or(lower, |l| l.max(lower)));
                }
                if let Some(upper) = upper {
                    self.upper = Some(self.upper.map_or(upper, |u| u.min(upper)));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn is_time(expr: &Expr) -> bool {
    matches!(expr, Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time"))
}

/// `time op x` or `x op time`, as `time op' x`.
fn time_comparison<'a>(
    left: &'a Expr,
    op: BinaryOp,
    right: &'a Expr,
) -> Option<(BinaryOp, &'a Expr)> {
    let flipped = match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        BinaryOp::Eq | BinaryOp::NotEq => op,
        _ => return None,
    };
    if is_time(left) {
        Some((op, right))
    } else if is_time(right) {
        Some((flipped, left))
    } else {
        None
    }
}

/// A time written in a condition: an RFC 3339 string, an integer or duration (nanoseconds
/// since the epoch), `now()`, or a sum or difference of these.
pub fn time_value(expr: &Expr, now: i64) -> Result<i64, Error> {
    match expr {
        Expr::Paren(inner) => time_value(inner, now),
        Expr::Literal(Literal::String(text)) => parse_time(text),
        Expr::Literal(Literal::Integer(n)) => Ok(*n),
        Expr::Literal(Literal::Duration(n)) => Ok(*n),
        Expr::Literal(Literal::Float(f)) => Ok(*f as i64),
        Expr::Call { name, args } if name == "now" && args.is_empty() => Ok(now),
        Expr::Binary { left, op, right } => {
            let (a, b) = (time_value(left, now)?, time_value(right, now)?);
            match op {
                BinaryOp::Add => Ok(a.saturating_add(b)),
                BinaryOp::Sub => Ok(a.saturating_sub(b)),
                _ => Err(Error::Statement(
                    "invalid operation in time expression".into(),
                )),
            }
        }
        _ => Err(Error::Statement(
            "invalid time comparison: expected a time string, integer, duration or now()".into(),
        )),
    }
}

/// RFC 3339 (`2026-01-01T00:00:00Z`, with fractions or an offset), `2026-01-01 00:00:00`
/// and `2026-01-01`, as 1.x accepts them.
fn parse_time(text: &str) -> Result<i64, Error> {
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
        })
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| Error::Statement(format!("invalid time: '{text}'")))?;
    parsed
        .timestamp_nanos_opt()
        .ok_or_else(|| Error::Statement(format!("time out of range: '{text}'")))
}

fn timestamp(nanos: i64) -> DfExpr {
    lit(ScalarValue::TimestampNanosecond(Some(nanos), None))
}

/// A `WHERE` condition as a DataFusion predicate over `table`: a missing tag reads as the
/// empty string, a missing field as null (so comparisons with it are false), as in 1.x.
pub fn condition(table: &Table, expr: &Expr, now: i64) -> Result<DfExpr, Error> {
    predicate(table, expr, now, 0)
}

/// [`condition`], with lower time bounds moved `earlier` nanoseconds back: transformations
/// over windows start from the window before the first one answered.
fn predicate(table: &Table, expr: &Expr, now: i64, earlier: i64) -> Result<DfExpr, Error> {
    match expr {
        Expr::Paren(inner) => predicate(table, inner, now, earlier),
        Expr::Binary { left, op, right } => match op {
            BinaryOp::And => {
                Ok(predicate(table, left, now, earlier)?
                    .and(predicate(table, right, now, earlier)?))
            }
            BinaryOp::Or => Ok(
                predicate(table, left, now, earlier)?.or(predicate(table, right, now, earlier)?)
            ),
            BinaryOp::EqRegex | BinaryOp::NotEqRegex => {
                let Expr::Literal(Literal::Regex(regex)) = right.as_ref() else {
                    return Err(Error::Statement(
                        "expected a regular expression on the right of =~ or !~".into(),
                    ));
                };
                let value = operand(table, left, now)?;
                let matched =
                    datafusion::functions::expr_fn::regexp_like(value, lit(regex.0.clone()), None);
                // A missing field matches neither `=~` nor `!~`.
                Ok(match op {
                    BinaryOp::EqRegex => coalesce(vec![matched, lit(false)]),
                    _ => coalesce(vec![!matched, lit(false)]),
                })
            }
            _ => {
                if let Some((op, other)) = time_comparison(left, *op, right) {
                    let mut t = time_value(other, now)?;
                    if matches!(op, BinaryOp::Gt | BinaryOp::GtEq) {
                        t = t.saturating_sub(earlier);
                    }
                    let t = timestamp(t);
                    return Ok(DfExpr::BinaryExpr(
                        datafusion::logical_expr::BinaryExpr::new(
                            Box::new(col("time")),
                            operator(op)?,
                            Box::new(t),
                        ),
                    ));
                }
                if let (Some(a), Some(b)) = (kind(table, left), kind(table, right)) {
                    if a != b {
                        // A number never equals or orders with a string, as in 1.x.
                        return Ok(lit(false));
                    }
                }
                let (l, r) = (operand(table, left, now)?, operand(table, right, now)?);
                let compared = DfExpr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
                    Box::new(l),
                    operator(*op)?,
                    Box::new(r),
                ));
                Ok(coalesce(vec![compared, lit(false)]))
            }
        },
        Expr::Literal(Literal::Boolean(b)) => Ok(lit(*b)),
        Expr::VarRef { .. } => Ok(coalesce(vec![
            operand(table, expr, now)?.eq(lit(true)),
            lit(false),
        ])),
        _ => Err(Error::Statement(format!(
            "invalid condition: {}",
            describe(expr)
        ))),
    }
}

/// What kind of value an operand is, when it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Boolean,
}

fn kind(table: &Table, expr: &Expr) -> Option<Kind> {
    match expr {
        Expr::Paren(inner) => kind(table, inner),
        Expr::VarRef { name, data_type } => match column(table, name, *data_type) {
            Column::Tag => Some(Kind::Text),
            Column::Field(FieldType::String) => Some(Kind::Text),
            Column::Field(FieldType::Boolean) => Some(Kind::Boolean),
            Column::Field(_) | Column::Cast(..) => Some(Kind::Number),
            Column::Missing => None,
        },
        Expr::Literal(Literal::String(_)) => Some(Kind::Text),
        Expr::Literal(Literal::Boolean(_)) => Some(Kind::Boolean),
        Expr::Literal(Literal::Regex(_)) => None,
        Expr::Literal(_) => Some(Kind::Number),
        Expr::Binary { .. } => Some(Kind::Number),
        _ => None,
    }
}

/// One side of a comparison in a condition.
fn operand(table: &Table, expr: &Expr, now: i64) -> Result<DfExpr, Error> {
    match expr {
        Expr::Paren(inner) => operand(table, inner, now),
        Expr::VarRef { name, data_type } => Ok(match column(table, name, *data_type) {
            Column::Tag => coalesce(vec![col(quoted(name)), lit("")]),
            Column::Field(_) => col(quoted(name)),
            Column::Cast(_, to) => cast(col(quoted(name)), to),
            Column::Missing if data_type.is_none() || *data_type == Some(VarType::Tag) => lit(""),
            Column::Missing => lit(ScalarValue::Null),
        }),
        Expr::Literal(literal) => Ok(match literal {
            Literal::Integer(v) => lit(*v),
            Literal::Unsigned(v) => lit(*v),
            Literal::Float(v) => lit(*v),
            Literal::String(v) => lit(v.clone()),
            Literal::Boolean(v) => lit(*v),
            Literal::Duration(v) => lit(*v),
            Literal::Regex(_) => {
                return Err(Error::Statement(
                    "a regular expression can only follow =~ or !~".into(),
                ))
            }
        }),
        Expr::Binary { left, op, right } => Ok(DfExpr::BinaryExpr(
            datafusion::logical_expr::BinaryExpr::new(
                Box::new(operand(table, left, now)?),
                operator(*op)?,
                Box::new(operand(table, right, now)?),
            ),
        )),
        Expr::Call { name, args } if name == "now" && args.is_empty() => Ok(timestamp(now)),
        other => Err(Error::Statement(format!(
            "invalid condition: {}",
            describe(other)
        ))),
    }
}

fn operator(op: BinaryOp) -> Result<Operator, Error> {
    Ok(match op {
        BinaryOp::Add => Operator::Plus,
        BinaryOp::Sub => Operator::Minus,
        BinaryOp::Mul => Operator::Multiply,
        BinaryOp::Div => Operator::Divide,
        BinaryOp::Mod => Operator::Modulo,
        BinaryOp::BitAnd => Operator::BitwiseAnd,
        BinaryOp::BitOr => Operator::BitwiseOr,
        BinaryOp::BitXor => Operator::BitwiseXor,
        BinaryOp::Eq => Operator::Eq,
        BinaryOp::NotEq => Operator::NotEq,
        BinaryOp::Lt => Operator::Lt,
        BinaryOp::LtEq => Operator::LtEq,
        BinaryOp::Gt => Operator::Gt,
        BinaryOp::GtEq => Operator::GtEq,
        BinaryOp::And => Operator::And,
        BinaryOp::Or => Operator::Or,
        BinaryOp::EqRegex | BinaryOp::NotEqRegex => {
            return Err(Error::Statement("unexpected regex operator".into()))
        }
    })
}

/// DataFusion folds unquoted names to lower case; InfluxQL's names are case-sensitive.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn describe(expr: &Expr) -> String {
    match expr {
        Expr::VarRef { name, .. } => name.clone(),
        Expr::Call { name, .. } => format!("{name}()"),
        Expr::Literal(l) => format!("{l:?}"),
        Expr::Wildcard(_) => "*".into(),
        Expr::RegexRef(r) => format!("/{}/", r.0),
        Expr::Paren(inner) => describe(inner),
        Expr::Binary { .. } => "expression".into(),
    }
}

// ---------------------------------------------------------------------------------------
// Projection

/// The InfluxQL functions that fold many points into one (or a few).
const AGGREGATES: &[&str] = &[
    "count",
    "distinct",
    "mean",
    "median",
    "mode",
    "spread",
    "stddev",
    "sum",
    "first",
    "last",
    "min",
    "max",
    "percentile",
    "top",
    "bottom",
    "integral",
];

/// Functions over consecutive rows of a series.
const TRANSFORMS: &[&str] = &[
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "cumulative_sum",
    "elapsed",
];

/// Row-wise math functions.
const MATH: &[&str] = &[
    "abs", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "exp", "ln", "log", "log2",
    "log10", "sqrt", "pow", "floor", "ceil", "round",
];

/// Selectors return a point of the data: alone in a query, their time is that point's.
const SELECTORS: &[&str] = &["first", "last", "min", "max", "percentile", "top", "bottom"];

/// A projected column after `*` and regexes are expanded: its expression and its name.
struct Projected {
    expr: Expr,
    name: String,
}

/// 1.x's default column name: the call or reference names of the expression joined by `_`.
fn default_name(expr: &Expr) -> String {
    fn names(expr: &Expr, out: &mut Vec<String>) {
        match expr {
            Expr::VarRef { name, .. } => out.push(name.clone()),
            Expr::Call { name, .. } => out.push(name.clone()),
            Expr::Binary { left, right, .. } => {
                names(left, out);
                names(right, out);
            }
            Expr::Paren(inner) => names(inner, out),
            _ => {}
        }
    }
    match expr {
        Expr::Call { name, .. } => name.clone(),
        Expr::Paren(inner) => default_name(inner),
        other => {
            let mut out = Vec::new();
            names(other, &mut out);
            out.join("_")
        }
    }
}

/// Expands `*`, `*::field`, `/regex/` in the projection and in call arguments (`mean(*)`
/// becomes `mean_<field>` for each numeric field), and names every column as 1.x does
/// (`mean`, `mean_1`, …).
fn expand(
    fields: &[linegate_influxql::Field],
    table: &Table,
    grouped: &[String],
) -> Result<Vec<Projected>, Error> {
    let mut out: Vec<(Expr, Option<String>, String)> = Vec::new();
    for field in fields {
        match &field.expr {
            Expr::Wildcard(kind) => {
                let mut columns: Vec<(String, Expr)> = Vec::new();
                if *kind != Some(VarType::Tag) {
                    for (name, _) in &table.fields {
                        columns.push((name.clone(), var(name, Some(VarType::Field))));
                    }
                }
                if *kind != Some(VarType::Field) {
                    for tag in table.tags.iter().filter(|t| !grouped.contains(t)) {
                        columns.push((tag.clone(), var(tag, Some(VarType::Tag))));
                    }
                }
                columns.sort_by(|a, b| a.0.cmp(&b.0));
                for (name, expr) in columns {
                    out.push((expr, None, name));
                }
            }
            Expr::RegexRef(regex) => {
                let re = compile(&regex.0)?;
                let mut columns: Vec<(String, Expr)> = table
                    .fields
                    .iter()
                    .filter(|(name, _)| re.is_match(name))
                    .map(|(name, _)| (name.clone(), var(name, Some(VarType::Field))))
                    .chain(
                        table
                            .tags
                            .iter()
                            .filter(|t| re.is_match(t) && !grouped.contains(t))
                            .map(|t| (t.clone(), var(t, Some(VarType::Tag)))),
                    )
                    .collect();
                columns.sort_by(|a, b| a.0.cmp(&b.0));
                for (name, expr) in columns {
                    out.push((expr, None, name));
                }
            }
            Expr::Call { name, args } if wildcard_argument(args) => {
                let re = match &args[0] {
                    Expr::RegexRef(r) => Some(compile(&r.0)?),
                    _ => None,
                };
                // Each function takes the field types it can read, as 1.x expands `*`.
                let takes = |ty: FieldType| match name.as_str() {
                    "count" | "distinct" | "first" | "last" | "mode" => true,
                    "min" | "max" => numeric(ty) || ty == FieldType::Boolean,
                    _ => numeric(ty),
                };
                let mut matching: Vec<&String> = table
                    .fields
                    .iter()
                    .filter(|(f, ty)| re.as_ref().is_none_or(|re| re.is_match(f)) && takes(*ty))
                    .map(|(f, _)| f)
                    .collect();
                matching.sort();
                for f in matching {
                    let mut args = args.clone();
                    args[0] = var(f, Some(VarType::Field));
                    let expr = Expr::Call {
                        name: name.clone(),
                        args,
                    };
                    let column = format!("{name}_{f}");
                    out.push((
                        expr,
                        field.alias.clone().map(|a| format!("{a}_{f}")),
                        column,
                    ));
                }
            }
            Expr::Call { name, args } if matches!(name.as_str(), "top" | "bottom") => {
                out.push((field.expr.clone(), field.alias.clone(), name.clone()));
                // The tags `top(f, tag…, n)` names are answered as columns too.
                for arg in args.iter().skip(1).take(args.len().saturating_sub(2)) {
                    if let Expr::VarRef { name: tag, .. } = arg {
                        out.push((var(tag, Some(VarType::Tag)), None, tag.clone()));
                    }
                }
            }
            expr => out.push((expr.clone(), field.alias.clone(), default_name(expr))),
        }
    }
    // Aliases are taken first; generated names that clash get `_1`, `_2`, … as in 1.x.
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    for (_, alias, _) in &out {
        if let Some(alias) = alias {
            *taken.entry(alias.clone()).or_default() += 1;
        }
    }
    let mut projected = Vec::with_capacity(out.len());
    for (expr, alias, generated) in out {
        let name = match alias {
            Some(alias) => alias,
            None => {
                let mut name = generated.clone();
                if let Some(&count) = taken.get(&generated) {
                    let mut n = count;
                    loop {
                        let candidate = format!("{generated}_{n}");
                        if !taken.contains_key(&candidate) {
                            taken.insert(generated.clone(), n + 1);
                            name = candidate;
                            break;
                        }
                        n += 1;
                    }
                }
                *taken.entry(name.clone()).or_default() += 1;
                name
            }
        };
        projected.push(Projected { expr, name });
    }
    Ok(projected)
}

fn transform_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Call { name, .. } if TRANSFORMS.contains(&name.as_str()) => Some(name),
        Expr::Paren(inner) => transform_name(inner),
        _ => None,
    }
}

fn wildcard_argument(args: &[Expr]) -> bool {
    matches!(args.first(), Some(Expr::Wildcard(_) | Expr::RegexRef(_)))
}

fn var(name: &str, data_type: Option<VarType>) -> Expr {
    Expr::VarRef {
        name: name.to_owned(),
        data_type,
    }
}

/// Compiles an InfluxQL regex (Go's RE2 syntax, which the `regex` crate shares).
pub fn compile(pattern: &str) -> Result<regex::Regex, Error> {
    regex::Regex::new(pattern).map_err(|e| Error::Statement(format!("invalid regex: {e}")))
}

fn is_call(expr: &Expr, list: &[&str]) -> bool {
    match expr {
        Expr::Call { name, args } => {
            list.contains(&name.as_str()) || args.iter().any(|a| is_call(a, list))
        }
        Expr::Binary { left, right, .. } => is_call(left, list) || is_call(right, list),
        Expr::Paren(inner) => is_call(inner, list),
        _ => false,
    }
}

/// A row-wise expression over one output row: columns of the DataFusion answer, literals,
/// arithmetic, math functions, and transformations computed across the series' rows.
#[derive(Debug, Clone)]
enum Cell {
    Column(usize),
    Literal(Value),
    Binary(Box<Cell>, BinaryOp, Box<Cell>),
    Math(String, Vec<Cell>),
    /// Spread: max − min.
    Spread(usize, usize),
    /// The most frequent of the values collected in a list column.
    Mode(usize),
    /// The nearest-rank percentile of a sorted list column.
    Percentile(usize, f64),
    /// The area under the points of a value list and a time list (in time order), per unit.
    Integral(usize, usize, i64),
    Transform(Box<Transform>),
}

impl Cell {
    /// How many windows before the first answered this cell's transformation reads.
    fn windows_back(&self) -> i64 {
        match self {
            Cell::Transform(t) => match t.function.as_str() {
                "moving_average" => t.argument - 1,
                "cumulative_sum" => 0,
                _ => 1,
            },
            Cell::Binary(l, _, r) => l.windows_back().max(r.windows_back()),
            Cell::Math(_, args) => args.iter().map(Cell::windows_back).max().unwrap_or(0),
            _ => 0,
        }
    }
}

#[derive(Debug, Clone)]
struct Transform {
    function: String,
    input: Cell,
    /// derivative and elapsed: the unit; moving_average: the window (points).
    argument: i64,
}

/// Where the time of the point a lone selector picked is, when that is the row's time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SelectorTime {
    /// Rows take the window start, the query's lower bound or 0.
    None,
    /// A lone selector outside `GROUP BY time`, not yet planned.
    Wanted,
    /// In this column.
    Column(usize),
    /// At the percentile's rank in this list column.
    Percentile(usize, f64),
}

/// Builds the DataFusion side of a projection: the columns to read or aggregate, and the
/// cells that turn them into output values.
struct Planner<'a> {
    table: &'a Table,
    aggregate: bool,
    /// Raw: the columns read, by name. Aggregate: the aggregate expressions.
    columns: Vec<(String, DfExpr)>,
    /// Where a lone selector's point time is (outside `GROUP BY time`).
    selector_time: SelectorTime,
    /// The ordering and filter of the lone selector, for its companion columns; whether it
    /// selects many points (`top`, `bottom`), so companions are collected as lists.
    selector: Option<(Vec<SortExpr>, DfExpr, bool)>,
    /// The call that answers many rows per group (`distinct`, `top`, `bottom`).
    multi_row: Option<MultiRow>,
    /// The columns that count points (0, not null, in an empty window).
    counts: Vec<usize>,
}

/// A function answering several rows per group, from list columns collected in order.
#[derive(Debug, Clone)]
enum MultiRow {
    /// Each distinct value, at the group's time.
    Distinct { list: usize },
    /// The `n` first points of the sorted lists (one per tag combination of the `tags`
    /// lists, if any), each at its own time, in time order.
    Top {
        times: usize,
        tags: Vec<usize>,
        n: usize,
    },
}

impl MultiRow {
    /// The positions in the lists of the rows to answer.
    fn picks(&self, data: &[Value]) -> Vec<usize> {
        let list = |i: usize| match data.get(i) {
            Some(Value::List(items)) => items.as_slice(),
            _ => &[],
        };
        match self {
            MultiRow::Distinct { list: i } => {
                let items = list(*i);
                (0..items.len())
                    .filter(|&k| !items[..k].contains(&items[k]))
                    .collect()
            }
            MultiRow::Top { times, tags, n } => {
                let times = list(*times);
                let mut seen: Vec<Vec<&Value>> = Vec::new();
                let mut picks = Vec::new();
                for k in 0..times.len() {
                    if picks.len() == *n {
                        break;
                    }
                    if !tags.is_empty() {
                        let key: Vec<&Value> = tags
                            .iter()
                            .map(|&t| list(t).get(k).unwrap_or(&Value::Null))
                            .collect();
                        if seen.contains(&key) {
                            continue;
                        }
                        seen.push(key);
                    }
                    picks.push(k);
                }
                picks.sort_by_key(|&k| match times.get(k) {
                    Some(Value::Time(t)) => *t,
                    _ => 0,
                });
                picks
            }
        }
    }

    /// The time of the row at `k`, when it is the point's own.
    fn time(&self, data: &[Value], k: usize) -> Option<i64> {
        match self {
            MultiRow::Distinct { .. } => None,
            MultiRow::Top { times, .. } => match data.get(*times) {
                Some(Value::List(items)) => match items.get(k) {
                    Some(Value::Time(t)) => Some(*t),
                    _ => None,
                },
                _ => None,
            },
        }
    }
}

impl Planner<'_> {
    fn column_index(&mut self, name: String, expr: DfExpr) -> usize {
        if let Some(i) = self.columns.iter().position(|(n, _)| *n == name) {
            return i;
        }
        self.columns.push((name, expr));
        self.columns.len() - 1
    }

    fn cell(&mut self, expr: &Expr) -> Result<Cell, Error> {
        match expr {
            Expr::Paren(inner) => self.cell(inner),
            Expr::Literal(l) => Ok(Cell::Literal(match l {
                Literal::Integer(v) => Value::Integer(*v),
                Literal::Unsigned(v) => Value::Unsigned(*v),
                Literal::Float(v) => Value::Float(*v),
                Literal::String(v) => Value::String(v.clone()),
                Literal::Boolean(v) => Value::Boolean(*v),
                Literal::Duration(v) => Value::Integer(*v),
                Literal::Regex(_) => {
                    return Err(Error::Statement(
                        "unexpected regex in the field list".into(),
                    ))
                }
            })),
            Expr::Binary { left, op, right } => Ok(Cell::Binary(
                Box::new(self.cell(left)?),
                *op,
                Box::new(self.cell(right)?),
            )),
            Expr::VarRef { name, data_type } => {
                if self.aggregate {
                    // Beside a lone selector, a reference reads the selected point.
                    let Some((order, filter, many)) = self.selector.clone() else {
                        return Err(Error::Statement(
                            "mixing aggregate and non-aggregate queries is not supported".into(),
                        ));
                    };
                    let value = self.reference(name, *data_type);
                    let expr = if many {
                        let value = coalesce(vec![value, lit("")]);
                        agg::array_agg(value)
                            .order_by(order)
                            .filter(filter)
                            .build()?
                    } else {
                        selected(value, order, filter)?
                    };
                    Ok(Cell::Column(
                        self.column_index(format!("__with_{name}"), expr),
                    ))
                } else {
                    let value = self.reference(name, *data_type);
                    Ok(Cell::Column(self.column_index(name.clone(), value)))
                }
            }
            Expr::Call { name, args } => self.call(name, args),
            Expr::Wildcard(_) | Expr::RegexRef(_) => Err(Error::Statement(
                "a wildcard or regex can only be a whole field or a call's first argument".into(),
            )),
        }
    }

    fn reference(&self, name: &str, data_type: Option<VarType>) -> DfExpr {
        match column(self.table, name, data_type) {
            Column::Tag => col(quoted(name)),
            Column::Field(_) => col(quoted(name)),
            Column::Cast(_, to) => cast(col(quoted(name)), to),
            Column::Missing => lit(ScalarValue::Null),
        }
    }

    /// The field an aggregate reads: its first argument, which must name a field.
    fn field_argument(
        &self,
        function: &str,
        args: &[Expr],
    ) -> Result<(String, DfExpr, Option<FieldType>), Error> {
        match args.first() {
            Some(Expr::VarRef { name, data_type }) => match column(self.table, name, *data_type) {
                Column::Field(ty) | Column::Cast(ty, _) => {
                    let numeric_only = matches!(
                        function,
                        "mean"
                            | "median"
                            | "stddev"
                            | "sum"
                            | "spread"
                            | "percentile"
                            | "integral"
                            | "top"
                            | "bottom"
                    );
                    if numeric_only && !numeric(ty) {
                        return Err(Error::Statement(format!(
                            "{function}() reads numbers; {name} is a {} field",
                            ty.name()
                        )));
                    }
                    Ok((name.clone(), self.reference(name, *data_type), Some(ty)))
                }
                // An aggregate of a tag or a missing field reads nothing, as in 1.x.
                _ => Ok((name.clone(), lit(ScalarValue::Float64(None)), None)),
            },
            Some(Expr::Call { name, args: inner }) if function == "count" && name == "distinct" => {
                self.field_argument(name, inner)
            }
            _ => Err(Error::Statement(format!(
                "expected field argument in {function}()"
            ))),
        }
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> Result<Cell, Error> {
        if MATH.contains(&name) {
            let cells = args
                .iter()
                .map(|a| self.cell(a))
                .collect::<Result<_, _>>()?;
            return Ok(Cell::Math(name.to_owned(), cells));
        }
        if TRANSFORMS.contains(&name) {
            return self.transform(name, args);
        }
        if !AGGREGATES.contains(&name) {
            return Err(Error::Statement(format!("undefined function {name}()")));
        }
        if !self.aggregate {
            return Err(Error::Statement(format!(
                "{name}() needs an aggregate query"
            )));
        }
        let (field, value, _) = self.field_argument(name, args)?;
        let present = value.clone().is_not_null();
        let time = col("time");
        let key = |what: &str| format!("__{what}_{field}");
        let by_time = |asc: bool| vec![time.clone().sort(asc, false)];
        let index = match name {
            "count" => {
                let distinct =
                    matches!(args.first(), Some(Expr::Call { name, .. }) if name == "distinct");
                let index = if distinct {
                    let expr = agg::count(value).distinct().build()?;
                    self.column_index(key("count_distinct"), expr)
                } else {
                    self.column_index(key("count"), agg::count(value))
                };
                self.counts.push(index);
                index
            }
            "sum" => self.column_index(key("sum"), agg::sum(value)),
            "mean" => self.column_index(key("mean"), agg::avg(cast(value, DataType::Float64))),
            "median" => {
                self.column_index(key("median"), agg::median(cast(value, DataType::Float64)))
            }
            "stddev" => {
                self.column_index(key("stddev"), agg::stddev(cast(value, DataType::Float64)))
            }
            "spread" => {
                let max = self.column_index(key("max"), agg::max(value.clone()));
                let min = self.column_index(key("min"), agg::min(value));
                return Ok(Cell::Spread(max, min));
            }
            "mode" => {
                let list = agg::array_agg(value)
                    .order_by(by_time(true))
                    .filter(present)
                    .build()?;
                return Ok(Cell::Mode(self.column_index(key("list_by_time"), list)));
            }
            "distinct" => {
                // In the order the values first appear, as 1.x answers them.
                let list = agg::array_agg(value)
                    .order_by(by_time(true))
                    .filter(present)
                    .build()?;
                let i = self.column_index(key("distinct"), list);
                self.multi_row = Some(MultiRow::Distinct { list: i });
                return Ok(Cell::Column(i));
            }
            "integral" => {
                let unit = match args.get(1) {
                    None => 1_000_000_000,
                    Some(Expr::Literal(Literal::Duration(unit))) if *unit > 0 => *unit,
                    Some(_) => {
                        return Err(Error::Statement(
                            "second argument must be a duration".into(),
                        ))
                    }
                };
                let collect = |e: DfExpr| {
                    agg::array_agg(e)
                        .order_by(by_time(true))
                        .filter(present.clone())
                        .build()
                };
                let values = self.column_index(key("integral_values"), collect(value.clone())?);
                let times = self.column_index(key("integral_times"), collect(time.clone())?);
                return Ok(Cell::Integral(values, times, unit));
            }
            "top" | "bottom" => {
                if args.len() < 2 {
                    return Err(Error::Statement(format!(
                        "invalid number of arguments for {name}, expected at least 2, got {}",
                        args.len()
                    )));
                }
                let n = match args.last() {
                    Some(Expr::Literal(Literal::Integer(n))) if *n > 0 => *n as usize,
                    _ => {
                        return Err(Error::Statement(format!(
                            "expected integer as last argument in {name}()"
                        )))
                    }
                };
                let order = vec![
                    value.clone().sort(name == "bottom", false),
                    time.clone().sort(true, false),
                ];
                let collect = |e: DfExpr| {
                    agg::array_agg(e)
                        .order_by(order.clone())
                        .filter(present.clone())
                        .build()
                };
                let values =
                    self.column_index(key(&format!("{name}_values")), collect(value.clone())?);
                let times = self.column_index(key(&format!("{name}_times")), collect(time)?);
                let mut tags = Vec::new();
                for arg in &args[1..args.len() - 1] {
                    let Expr::VarRef { name: tag, .. } = arg else {
                        return Err(Error::Statement(format!(
                            "only fields or tags are allowed in {name}(), found {}",
                            describe(arg)
                        )));
                    };
                    let tag_value =
                        coalesce(vec![self.reference(tag, Some(VarType::Tag)), lit("")]);
                    tags.push(
                        self.column_index(format!("__{name}_tag_{tag}"), collect(tag_value)?),
                    );
                }
                self.multi_row = Some(MultiRow::Top { times, tags, n });
                return Ok(Cell::Column(values));
            }
            "first" | "last" | "min" | "max" | "percentile" => {
                let order = match name {
                    "first" => by_time(true),
                    "last" => by_time(false),
                    "min" => vec![
                        value.clone().sort(true, false),
                        time.clone().sort(true, false),
                    ],
                    _ => vec![
                        value.clone().sort(false, false),
                        time.clone().sort(true, false),
                    ],
                };
                if name == "percentile" {
                    if args.len() != 2 {
                        return Err(Error::Statement(format!(
                            "invalid number of arguments for percentile, expected 2, got {}",
                            args.len()
                        )));
                    }
                    let p = match args.get(1) {
                        Some(Expr::Literal(Literal::Integer(p))) => *p as f64,
                        Some(Expr::Literal(Literal::Float(p))) => *p,
                        _ => {
                            return Err(Error::Statement(
                                "expected float argument in percentile()".into(),
                            ))
                        }
                    };
                    let sorted = vec![
                        value.clone().sort(true, false),
                        time.clone().sort(true, false),
                    ];
                    let values = agg::array_agg(value)
                        .order_by(sorted.clone())
                        .filter(present.clone())
                        .build()?;
                    let times = agg::array_agg(time)
                        .order_by(sorted)
                        .filter(present)
                        .build()?;
                    let v = self.column_index(key(&format!("pct_values_{p}")), values);
                    let t = self.column_index(key(&format!("pct_times_{p}")), times);
                    if self.selector_time == SelectorTime::Wanted {
                        self.selector_time = SelectorTime::Percentile(t, p);
                    }
                    return Ok(Cell::Percentile(v, p));
                }
                let expr = match name {
                    "min" => agg::min(value),
                    "max" => agg::max(value),
                    _ => selected(value, order.clone(), present.clone())?,
                };
                let i = self.column_index(key(name), expr);
                if self.selector_time == SelectorTime::Wanted {
                    let t = selected(time, order, present)?;
                    let t = self.column_index(key(&format!("{name}_time")), t);
                    self.selector_time = SelectorTime::Column(t);
                }
                i
            }
            other => {
                return Err(Error::Statement(format!(
                    "{other}() is not supported by linegate yet"
                )))
            }
        };
        Ok(Cell::Column(index))
    }

    fn transform(&mut self, name: &str, args: &[Expr]) -> Result<Cell, Error> {
        let Some(first) = args.first() else {
            return Err(Error::Statement(format!(
                "invalid number of arguments for {name}, expected at least 1, got 0"
            )));
        };
        if self.aggregate && !is_call(first, AGGREGATES) {
            return Err(Error::Statement(format!(
                "aggregate function required inside the call to {name}"
            )));
        }
        let input = self.cell(first)?;
        let argument = match (name, args.get(1)) {
            ("moving_average", Some(Expr::Literal(Literal::Integer(n)))) if *n > 0 => *n,
            ("moving_average", _) => {
                return Err(Error::Statement(
                    "second argument for moving_average must be an integer".into(),
                ))
            }
            (_, Some(Expr::Literal(Literal::Duration(unit)))) if *unit > 0 => *unit,
            (_, None) if name == "elapsed" => 1,
            (_, None) => 1_000_000_000,
            (_, Some(_)) if name.contains("derivative") || name == "elapsed" => {
                return Err(Error::Statement(format!(
                    "second argument to {name} must be a duration"
                )))
            }
            _ => 0,
        };
        Ok(Cell::Transform(Box::new(Transform {
            function: name.to_owned(),
            input,
            argument,
        })))
    }
}

/// `value` of the first row in `order` among those `filter` keeps: a selector's point and
/// its companions. (The builder's `order_by` replaces `first_value`'s own ordering.)
fn selected(
    value: DfExpr,
    order: Vec<SortExpr>,
    filter: DfExpr,
) -> datafusion::error::Result<DfExpr> {
    agg::first_value(value, vec![])
        .order_by(order)
        .filter(filter)
        .build()
}

// ---------------------------------------------------------------------------------------
// Running one measurement

/// What `GROUP BY` asks for, resolved against one measurement.
struct Grouping {
    tags: Vec<String>,
    window: Option<(i64, i64)>,
}

fn grouping(dimensions: &[Dimension], table: &Table) -> Result<Grouping, Error> {
    let mut tags: Vec<String> = Vec::new();
    let mut window = None;
    for dimension in dimensions {
        match dimension {
            Dimension::Time { interval, offset } => {
                if *interval <= 0 {
                    return Err(Error::Statement(
                        "GROUP BY time interval must be positive".into(),
                    ));
                }
                window = Some((*interval, offset.unwrap_or(0).rem_euclid(*interval)));
            }
            Dimension::Tag(tag) => tags.push(tag.clone()),
            Dimension::Wildcard => tags.extend(table.tags.iter().cloned()),
            Dimension::Regex(regex) => {
                let re = compile(&regex.0)?;
                tags.extend(table.tags.iter().filter(|t| re.is_match(t)).cloned());
            }
        }
    }
    tags.sort();
    tags.dedup();
    Ok(Grouping { tags, window })
}

/// The rows of one series before shaping: time and the DataFusion columns.
struct Rows {
    tags: Vec<String>,
    rows: Vec<(i64, Vec<Value>)>,
}

/// Runs a `SELECT`. Each measurement it names is planned on its own; their series come in
/// measurement order, each's by tags, and `SLIMIT`/`SOFFSET` count across them.
pub async fn select(
    run: &Run<'_>,
    select: &linegate_influxql::Select,
) -> Result<Vec<Series>, Error> {
    // Each measurement read, with the session that reads it: the database's, or one over a
    // subquery's answer.
    let mut sources: Vec<(Table, Arc<SessionContext>)> = Vec::new();
    let mut databases: BTreeMap<String, Arc<SessionContext>> = BTreeMap::new();
    for source in &select.from {
        let m = match source {
            Source::Measurement(m) => m,
            Source::Subquery(inner) => {
                // The outer query's tag dimensions reach into the subquery, as in 1.x, so
                // its points keep the tags the outer query groups by.
                let mut inner = inner.as_ref().clone();
                for dimension in &select.group_by {
                    let tag = !matches!(dimension, Dimension::Time { .. });
                    if tag && !inner.group_by.contains(dimension) {
                        inner.group_by.push(dimension.clone());
                    }
                }
                let answer = Box::pin(self::select(run, &inner)).await?;
                sources.extend(derived(&answer)?);
                continue;
            }
        };
        let named = m
            .database
            .as_deref()
            .map(|db| linegate::v1_database(db, m.retention_policy.as_deref()));
        let database = run.database(named.as_deref())?;
        let tables: Vec<Table> = {
            let catalog = run.store.catalog();
            let Some(db) = catalog.database(&database) else {
                return Err(Error::Statement(format!("database not found: {database}")));
            };
            let pattern = match &m.name {
                NameOrRegex::Regex(regex) => Some(compile(&regex.0)?),
                NameOrRegex::Name(_) => None,
            };
            db.tables
                .values()
                .filter(|table| match (&m.name, &pattern) {
                    (NameOrRegex::Name(name), _) => *name == table.name,
                    (_, Some(re)) => re.is_match(&table.name),
                    (_, None) => false,
                })
                .map(|t| Table::new(t))
                .collect()
        };
        if tables.is_empty() {
            continue;
        }
        let ctx = match databases.get(&database) {
            Some(ctx) => ctx.clone(),
            None => {
                let ctx = Arc::new(query::context(run.store, &database)?);
                databases.insert(database.clone(), ctx.clone());
                ctx
            }
        };
        sources.extend(tables.into_iter().map(|t| (t, ctx.clone())));
    }
    sources.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    // `*` and regexes expand against the columns of every measurement read, so all series
    // of the answer have the same columns, as in 1.x.
    let mut all = Table {
        name: String::new(),
        tags: Vec::new(),
        fields: Vec::new(),
    };
    for (table, _) in &sources {
        for tag in &table.tags {
            if !all.tags.contains(tag) {
                all.tags.push(tag.clone());
            }
        }
        for (field, ty) in &table.fields {
            if all.field(field).is_none() {
                all.fields.push((field.clone(), *ty));
            }
        }
    }
    let mut series = Vec::new();
    for (table, ctx) in &sources {
        series.extend(measurement(run, ctx, table, &all, select).await?);
    }
    let skip = select.soffset.unwrap_or(0) as usize;
    Ok(match select.slimit {
        Some(limit) if limit > 0 => series.into_iter().skip(skip).take(limit as usize).collect(),
        _ => series.into_iter().skip(skip).collect(),
    })
}

/// The zone `tz()` names.
pub fn zone(name: &str) -> Result<chrono_tz::Tz, Error> {
    name.parse()
        .map_err(|_| Error::Statement(format!("unable to find time zone {name}")))
}

/// A subquery's answer as tables to query again: one per measurement, its `GROUP BY` tags
/// as tags and its columns as fields, in a session of its own.
fn derived(answer: &[Series]) -> Result<Vec<(Table, Arc<SessionContext>)>, Error> {
    let mut by_name: BTreeMap<&str, Vec<Series>> = BTreeMap::new();
    for s in answer {
        by_name
            .entry(s.name.as_deref().unwrap_or_default())
            .or_default()
            .push(s.clone());
    }
    let mut tables = Vec::new();
    for (name, series) in by_name {
        let failed = |e: arrow::error::ArrowError| Error::Statement(e.to_string());
        let batch = super::answer::batch(&series).map_err(failed)?;
        // The measurement is the table's name, not a column.
        let batch = batch
            .project(&(1..batch.num_columns()).collect::<Vec<_>>())
            .map_err(failed)?;
        let mut table = Table {
            name: name.to_owned(),
            tags: Vec::new(),
            fields: Vec::new(),
        };
        for s in &series {
            for tag in s.tags.keys() {
                if !table.tags.contains(tag) {
                    table.tags.push(tag.clone());
                }
            }
        }
        for field in batch.schema().fields() {
            if field.name() == "time" || table.tags.contains(field.name()) {
                continue;
            }
            let ty = match field.data_type() {
                DataType::Float64 => FieldType::Float,
                DataType::Int64 => FieldType::Integer,
                DataType::UInt64 => FieldType::UInteger,
                DataType::Boolean => FieldType::Boolean,
                _ => FieldType::String,
            };
            table.fields.push((field.name().clone(), ty));
        }
        let ctx = SessionContext::new();
        ctx.register_batch(quoted(name), batch)?;
        tables.push((table, Arc::new(ctx)));
    }
    Ok(tables)
}

/// Runs one `SELECT` over one measurement and returns its series, shaped and limited.
async fn measurement(
    db: &Run<'_>,
    ctx: &SessionContext,
    table: &Table,
    all: &Table,
    select: &linegate_influxql::Select,
) -> Result<Vec<Series>, Error> {
    let now = db.now;
    let range = TimeRange::of(select.condition.as_ref(), now)?;
    let mut grouping = grouping(&select.group_by, table)?;
    let zone = match &select.timezone {
        Some(name) => Some(zone(name)?),
        None => None,
    };
    // Windows start on the zone's local boundaries (a day at local midnight); the offset is
    // the zone's at the start of the range.
    if let (Some(zone), Some((interval, offset))) = (zone, grouping.window) {
        use chrono::Offset;
        let at = chrono::DateTime::from_timestamp_nanos(range.lower.unwrap_or(now));
        let local = at.with_timezone(&zone).offset().fix().local_minus_utc() as i64;
        let shifted = offset - local * 1_000_000_000;
        grouping.window = Some((interval, shifted.rem_euclid(interval)));
    }
    let projected = expand(&select.fields, all, &grouping.tags)?;
    let projected: Vec<Projected> = projected
        .into_iter()
        .filter(|p| !is_time(&p.expr))
        .collect();
    let aggregate = projected.iter().any(|p| is_call(&p.expr, AGGREGATES));
    if grouping.window.is_some() && !aggregate {
        if let Some(name) = projected.iter().find_map(|p| transform_name(&p.expr)) {
            return Err(Error::Statement(format!(
                "aggregate function required inside the call to {name}"
            )));
        }
        return Err(Error::Statement(
            "GROUP BY requires at least one aggregate function".into(),
        ));
    }
    // Nothing to read (only tags, or names the measurement lacks): no rows, as in 1.x.
    if !projected.iter().any(|p| reads_field(&p.expr, table)) {
        return Ok(vec![]);
    }
    let lone_selector = match projected
        .iter()
        .filter(|p| is_call(&p.expr, AGGREGATES))
        .collect::<Vec<_>>()
        .as_slice()
    {
        [one] => match &one.expr {
            Expr::Call { name, args } if SELECTORS.contains(&name.as_str()) => {
                Some((name.clone(), args.clone()))
            }
            _ => None,
        },
        _ => None,
    };
    let mut planner = Planner {
        table,
        aggregate,
        columns: Vec::new(),
        selector_time: SelectorTime::None,
        selector: None,
        multi_row: None,
        counts: Vec::new(),
    };
    if let Some((name, args)) = &lone_selector {
        let (_, value, _) = planner.field_argument(name, args)?;
        let time = col("time");
        let order = match name.as_str() {
            "last" => vec![time.sort(false, false)],
            "min" | "bottom" => vec![value.clone().sort(true, false), time.sort(true, false)],
            "max" | "top" => vec![value.clone().sort(false, false), time.sort(true, false)],
            _ => vec![time.sort(true, false)],
        };
        let many = matches!(name.as_str(), "top" | "bottom");
        planner.selector = Some((order, value.is_not_null(), many));
        if grouping.window.is_none() && !many {
            planner.selector_time = SelectorTime::Wanted;
        }
    }
    let cells: Vec<Cell> = projected
        .iter()
        .map(|p| planner.cell(&p.expr))
        .collect::<Result<_, _>>()?;

    let mut frame: DataFrame = ctx.table(quoted(&table.name)).await.map_err(Error::from)?;
    // Transformations over windows reach back before the first window answered: one
    // window for a difference, n − 1 for a moving average of n.
    let reach_back = match grouping.window {
        Some((interval, _)) => {
            interval.saturating_mul(cells.iter().map(Cell::windows_back).max().unwrap_or(0))
        }
        None => 0,
    };
    if let Some(cond) = &select.condition {
        frame = frame.filter(predicate(table, cond, now, reach_back)?)?;
    }
    let tag_exprs: Vec<DfExpr> = grouping
        .tags
        .iter()
        .map(|t| {
            let value = if table.is_tag(t) {
                coalesce(vec![col(quoted(t)), lit("")])
            } else {
                lit("")
            };
            value.alias(format!("__tag_{t}"))
        })
        .collect();
    let mut sort: Vec<SortExpr> = grouping
        .tags
        .iter()
        .map(|t| col(quoted(&format!("__tag_{t}"))).sort(true, false))
        .collect();
    let data_names: Vec<String> = (0..planner.columns.len())
        .map(|i| format!("__c{i}"))
        .collect();
    if aggregate {
        let mut group = tag_exprs;
        if let Some((interval, offset)) = grouping.window {
            let stride = lit(ScalarValue::IntervalMonthDayNano(Some(
                IntervalMonthDayNano::new(0, 0, interval),
            )));
            let bin =
                datafusion::functions::expr_fn::date_bin(stride, col("time"), timestamp(offset));
            group.push(bin.alias("__window"));
            sort.push(col("__window").sort(true, false));
        }
        let aggs: Vec<DfExpr> = planner
            .columns
            .iter()
            .zip(&data_names)
            .map(|((_, e), n)| e.clone().alias(n))
            .collect();
        frame = frame.aggregate(group, aggs)?;
    } else {
        // Points at the same time come in series-key order, as 1.x merges series.
        let mut series_key: Vec<&String> = table
            .tags
            .iter()
            .filter(|t| !grouping.tags.contains(t))
            .collect();
        series_key.sort();
        let mut select_list = tag_exprs;
        select_list.push(col("time"));
        select_list.extend(
            planner
                .columns
                .iter()
                .zip(&data_names)
                .map(|((_, e), n)| e.clone().alias(n)),
        );
        select_list.extend(
            series_key
                .iter()
                .map(|t| col(quoted(t)).alias(format!("__key_{t}"))),
        );
        frame = frame.select(select_list)?;
        sort.push(col("time").sort(true, false));
        sort.extend(
            series_key
                .iter()
                .map(|t| col(quoted(&format!("__key_{t}"))).sort(true, true)),
        );
    }
    if !sort.is_empty() {
        frame = frame.sort(sort)?;
    }
    let batches = db.collect(frame).await?;

    let time_column = if aggregate {
        grouping.window.is_some().then_some("__window")
    } else {
        Some("time")
    };
    let groups = split_series(&batches, grouping.tags.len(), time_column, &data_names)?;

    let mut series = Vec::new();
    let default_time = range.lower.unwrap_or(0);
    let columns: Vec<String> = std::iter::once("time".to_owned())
        .chain(projected.iter().map(|p| p.name.clone()))
        .collect();
    let fill = select.fill.clone().unwrap_or(Fill::Null);
    let first_answered = range.lower;
    let read = TimeRange {
        lower: range.lower.map(|l| l.saturating_sub(reach_back)),
        upper: range.upper,
    };
    let groups = if let (Some((interval, offset)), true) = (grouping.window, fill != Fill::None) {
        // An empty window counts 0 points under fill(null), as in 1.x.
        let mut empty = vec![Value::Null; data_names.len()];
        if fill == Fill::Null {
            for &i in &planner.counts {
                empty[i] = Value::Integer(0);
            }
        }
        fill_windows(groups, interval, offset, read, now, &empty)
    } else {
        groups
    };
    for group in groups {
        let mut values: Vec<Vec<Value>> = Vec::new();
        for (time, data) in &group.rows {
            let row_time = if !aggregate || grouping.window.is_some() {
                *time
            } else {
                match planner.selector_time {
                    SelectorTime::Column(column) => match data.get(column) {
                        Some(Value::Time(t)) => *t,
                        _ => default_time,
                    },
                    SelectorTime::Percentile(column, p) => match data.get(column) {
                        Some(Value::List(times)) => match percentile(times, p) {
                            Some(Value::Time(t)) => t,
                            _ => default_time,
                        },
                        _ => default_time,
                    },
                    // 1.x answers a lone integral at time 0, whatever the range.
                    SelectorTime::None if is_integral(&cells) => 0,
                    SelectorTime::None | SelectorTime::Wanted => default_time,
                }
            };
            if let Some(multi) = &planner.multi_row {
                for k in multi.picks(data) {
                    // The k-th point of every list column, the other columns as they are.
                    let point: Vec<Value> = data
                        .iter()
                        .map(|v| match v {
                            Value::List(items) => items.get(k).cloned().unwrap_or(Value::Null),
                            other => other.clone(),
                        })
                        .collect();
                    let mut row = Vec::with_capacity(cells.len() + 1);
                    row.push(Value::Time(multi.time(data, k).unwrap_or(row_time)));
                    row.extend(cells.iter().map(|cell| evaluate(cell, &point)));
                    values.push(row);
                }
                continue;
            }
            if aggregate && grouping.window.is_none() && !points(data, &planner.counts) {
                continue; // no point of the group had the fields: no row, as in 1.x
            }
            let mut row = Vec::with_capacity(cells.len() + 1);
            row.push(Value::Time(row_time));
            for cell in &cells {
                row.push(evaluate(cell, data));
            }
            values.push(row);
        }
        if let Some((interval, _)) = grouping.window {
            integrals_across_windows(&cells, &group.rows, &mut values, interval);
            fill_values(&mut values, &fill);
        }
        // Transformations run over the series' rows in time order.
        let transforms: Vec<usize> = cells
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, Cell::Transform(_)))
            .map(|(i, _)| i + 1)
            .collect();
        if !transforms.is_empty() {
            for &i in &transforms {
                let Cell::Transform(transform) = &cells[i - 1] else {
                    continue;
                };
                let inputs: Vec<(i64, Value)> = group
                    .rows
                    .iter()
                    .zip(&values)
                    .map(|((_, data), row)| {
                        let t = match row.first() {
                            Some(Value::Time(t)) => *t,
                            _ => 0,
                        };
                        (t, evaluate(&transform.input, data))
                    })
                    .collect();
                let outputs = run_transform(transform, &inputs);
                for (row, out) in values.iter_mut().zip(outputs) {
                    row[i] = out;
                }
            }
            values.retain(|row| transforms.iter().any(|&i| !row[i].is_null()));
            if let (Some(first), Some((interval, offset))) = (first_answered, grouping.window) {
                let first = first - (first - offset).rem_euclid(interval);
                values.retain(|row| matches!(row.first(), Some(Value::Time(t)) if *t >= first));
            }
        } else if !aggregate {
            // 1.x leaves out raw rows whose selected fields are all null.
            let field_columns: Vec<usize> = projected
                .iter()
                .enumerate()
                .filter(|(_, p)| reads_field(&p.expr, table))
                .map(|(i, _)| i + 1)
                .collect();
            values.retain(|row| field_columns.iter().any(|&i| !row[i].is_null()));
        } else if planner.selector_time != SelectorTime::None {
            // A lone selector over an empty group selects nothing.
            values.retain(|row| row.iter().skip(1).any(|v| !v.is_null()));
        }
        if select.descending {
            values.reverse();
        }
        let offset = select.offset.unwrap_or(0) as usize;
        let values: Vec<Vec<Value>> = match select.limit {
            Some(limit) if limit > 0 => values
                .into_iter()
                .skip(offset)
                .take(limit as usize)
                .collect(),
            _ => values.into_iter().skip(offset).collect(),
        };
        if values.is_empty() {
            continue;
        }
        let tags = grouping
            .tags
            .iter()
            .cloned()
            .zip(group.tags.iter().cloned())
            .collect();
        series.push(Series {
            name: Some(table.name.clone()),
            tags,
            columns: columns.clone(),
            values,
            zone,
        });
    }
    Ok(series)
}

/// Whether an aggregate row saw any point: a count above 0 or a value other than null.
fn points(data: &[Value], counts: &[usize]) -> bool {
    data.iter().enumerate().any(|(i, v)| match v {
        Value::Null => false,
        Value::Integer(0) if counts.contains(&i) => false,
        Value::List(items) => !items.is_empty(),
        _ => true,
    })
}

fn reads_field(expr: &Expr, table: &Table) -> bool {
    match expr {
        Expr::VarRef { name, data_type } => {
            matches!(
                column(table, name, *data_type),
                Column::Field(_) | Column::Cast(..)
            )
        }
        Expr::Call { args, .. } => args.iter().any(|a| reads_field(a, table)),
        Expr::Binary { left, right, .. } => reads_field(left, table) || reads_field(right, table),
        Expr::Paren(inner) => reads_field(inner, table),
        _ => false,
    }
}

/// Splits sorted batches into series by their leading tag columns.
fn split_series(
    batches: &[RecordBatch],
    tag_count: usize,
    time_column: Option<&str>,
    data: &[String],
) -> Result<Vec<Rows>, Error> {
    let mut groups: Vec<Rows> = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let index = |name: &str| {
            schema
                .index_of(name)
                .map_err(|e| Error::Statement(e.to_string()))
        };
        let tags: Vec<Arc<dyn Array>> = (0..tag_count).map(|i| batch.column(i).clone()).collect();
        let time = match time_column {
            Some(name) => Some(batch.column(index(name)?).clone()),
            None => None,
        };
        let data: Vec<Arc<dyn Array>> = data
            .iter()
            .map(|n| index(n).map(|i| batch.column(i).clone()))
            .collect::<Result<_, _>>()?;
        for row in 0..batch.num_rows() {
            let key: Vec<String> = tags
                .iter()
                .map(|a| match cell(a.as_ref(), row) {
                    Value::String(s) => s,
                    _ => String::new(),
                })
                .collect();
            let t = match time.as_ref().map(|a| cell(a.as_ref(), row)) {
                Some(Value::Time(t)) => t,
                _ => 0,
            };
            let values: Vec<Value> = data.iter().map(|a| cell(a.as_ref(), row)).collect();
            match groups.last_mut() {
                Some(last) if last.tags == key => last.rows.push((t, values)),
                _ => groups.push(Rows {
                    tags: key,
                    rows: vec![(t, values)],
                }),
            }
        }
    }
    Ok(groups)
}

/// One Arrow cell as an answer value.
pub fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Int64 => Value::Integer(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt64 => Value::Unsigned(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Boolean => Value::Boolean(array.as_boolean().value(row)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_owned()),
        DataType::Timestamp(_, _) => match array.as_primitive_opt::<TimestampNanosecondType>() {
            Some(times) => Value::Time(times.value(row)),
            None => Value::Null,
        },
        DataType::Dictionary(_, _) => {
            match arrow::compute::cast(&array.slice(row, 1), &DataType::Utf8) {
                Ok(single) => cell(single.as_ref(), 0),
                Err(_) => Value::Null,
            }
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>().value(row);
            Value::List((0..list.len()).map(|i| cell(list.as_ref(), i)).collect())
        }
        _ => Value::Null,
    }
}

/// The nearest-rank percentile of sorted values, as 1.x picks it.
fn percentile(sorted: &[Value], p: f64) -> Option<Value> {
    let rank = (sorted.len() as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
    usize::try_from(rank)
        .ok()
        .and_then(|i| sorted.get(i))
        .cloned()
}

fn is_integral(cells: &[Cell]) -> bool {
    matches!(cells, [Cell::Integral(..)])
}

/// 1.x's integral over windows also covers the edges of each window: the line from the
/// previous window's last point to this one's first is cut at the window start, the line
/// to the next window's first point at the window end.
fn integrals_across_windows(
    cells: &[Cell],
    rows: &[(i64, Vec<Value>)],
    values: &mut [Vec<Value>],
    interval: i64,
) {
    let points = |data: &[Value], values: usize, times: usize| -> Vec<(i64, f64)> {
        match (data.get(times), data.get(values)) {
            (Some(Value::List(times)), Some(Value::List(values))) => times
                .iter()
                .zip(values)
                .filter_map(|(t, v)| match (t, v.as_f64()) {
                    (Value::Time(t), Some(v)) => Some((*t, v)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    for (c, cell) in cells.iter().enumerate() {
        let Cell::Integral(v, t, unit) = *cell else {
            continue;
        };
        let windows: Vec<Vec<(i64, f64)>> = rows.iter().map(|(_, d)| points(d, v, t)).collect();
        let at = |a: (i64, f64), b: (i64, f64), x: i64| {
            (x, a.1 + (b.1 - a.1) * (x - a.0) as f64 / (b.0 - a.0) as f64)
        };
        for (i, (start, _)) in rows.iter().enumerate() {
            let own = &windows[i];
            let (Some(&first), Some(&last)) = (own.first(), own.last()) else {
                continue;
            };
            let mut line = Vec::with_capacity(own.len() + 2);
            let before = windows[..i].iter().rev().find_map(|w| w.last().copied());
            if let Some(before) = before {
                line.push(at(before, first, *start));
            }
            line.extend_from_slice(own);
            let after = windows[i + 1..].iter().find_map(|w| w.first().copied());
            if let Some(after) = after {
                line.push(at(last, after, start + interval));
            }
            let area: f64 = line
                .windows(2)
                .map(|p| (p[0].1 + p[1].1) / 2.0 * (p[1].0 - p[0].0) as f64)
                .sum();
            values[i][c + 1] = Value::Float(area / unit as f64);
        }
    }
}

/// The trapezoidal area under points in time order, in `unit`s of time.
fn integral(values: &[Value], times: &[Value], unit: i64) -> Value {
    let points: Vec<(i64, f64)> = times
        .iter()
        .zip(values)
        .filter_map(|(t, v)| match (t, v.as_f64()) {
            (Value::Time(t), Some(v)) => Some((*t, v)),
            _ => None,
        })
        .collect();
    if points.is_empty() {
        return Value::Null;
    }
    let area: f64 = points
        .windows(2)
        .map(|pair| (pair[0].1 + pair[1].1) / 2.0 * (pair[1].0 - pair[0].0) as f64)
        .sum();
    Value::Float(area / unit as f64)
}

/// The most frequent value (values in time order); on a tie, the one seen first.
fn mode(values: &[Value]) -> Value {
    let mut best: Option<(&Value, usize)> = None;
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            continue;
        }
        let count = values[i..].iter().filter(|w| *w == v).count();
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((v, count));
        }
    }
    best.map_or(Value::Null, |(v, _)| v.clone())
}

/// `fill(previous|linear|<value>)`: the null cells of windowed rows take the previous
/// value, a value interpolated between their neighbours, or the given value.
fn fill_values(rows: &mut [Vec<Value>], fill: &Fill) {
    let width = rows.first().map_or(0, Vec::len);
    for column in 1..width {
        match fill {
            Fill::Value(literal) => {
                let value = match literal {
                    Literal::Integer(v) => Value::Integer(*v),
                    Literal::Unsigned(v) => Value::Unsigned(*v),
                    Literal::Float(v) => Value::Float(*v),
                    Literal::Boolean(v) => Value::Boolean(*v),
                    Literal::String(v) => Value::String(v.clone()),
                    _ => continue,
                };
                for row in rows.iter_mut() {
                    if row[column].is_null() {
                        row[column] = value.clone();
                    }
                }
            }
            Fill::Previous => {
                let mut previous = Value::Null;
                for row in rows.iter_mut() {
                    if row[column].is_null() {
                        row[column] = previous.clone();
                    } else {
                        previous = row[column].clone();
                    }
                }
            }
            Fill::Linear => {
                let known: Vec<(usize, i64, f64)> = rows
                    .iter()
                    .enumerate()
                    .filter_map(|(i, row)| match (&row[0], row[column].as_f64()) {
                        (Value::Time(t), Some(v)) => Some((i, *t, v)),
                        _ => None,
                    })
                    .collect();
                for pair in known.windows(2) {
                    let ((i0, t0, v0), (i1, t1, v1)) = (pair[0], pair[1]);
                    let integer = matches!(rows[i0][column], Value::Integer(_));
                    for row in rows.iter_mut().take(i1).skip(i0 + 1) {
                        let Value::Time(t) = row[0] else { continue };
                        let v = v0 + (v1 - v0) * (t - t0) as f64 / (t1 - t0) as f64;
                        row[column] = if integer {
                            Value::Integer(v as i64)
                        } else {
                            Value::Float(v)
                        };
                    }
                }
            }
            Fill::Null | Fill::None => {}
        }
    }
}

/// Adds the windows of `range` that have no rows, as `empty` rows.
fn fill_windows(
    groups: Vec<Rows>,
    interval: i64,
    offset: i64,
    range: TimeRange,
    now: i64,
    empty: &[Value],
) -> Vec<Rows> {
    let window = |t: i64| t - (t - offset).rem_euclid(interval);
    let first = range.lower.map(window).or_else(|| {
        groups
            .iter()
            .filter_map(|g| g.rows.first().map(|r| r.0))
            .min()
    });
    let last = range.upper.unwrap_or(now);
    let Some(first) = first else {
        return groups;
    };
    let last = window(last);
    // A bound on the answer: never more windows than this per series.
    const MAX_WINDOWS: i64 = 100_000;
    if (last - first) / interval > MAX_WINDOWS {
        return groups;
    }
    groups
        .into_iter()
        .map(|group| {
            let mut by_time = group.rows.into_iter().peekable();
            let mut rows = Vec::new();
            let mut t = first;
            while t <= last {
                match by_time.peek() {
                    Some((rt, _)) if *rt == t => {
                        if let Some(row) = by_time.next() {
                            rows.push(row);
                        }
                    }
                    _ => rows.push((t, empty.to_vec())),
                }
                t += interval;
            }
            Rows {
                tags: group.tags,
                rows,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Evaluation

fn evaluate(cell: &Cell, data: &[Value]) -> Value {
    match cell {
        Cell::Column(i) => data.get(*i).cloned().unwrap_or(Value::Null),
        Cell::Literal(v) => v.clone(),
        Cell::Binary(l, op, r) => arithmetic(&evaluate(l, data), *op, &evaluate(r, data)),
        Cell::Math(name, args) => {
            let args: Vec<Value> = args.iter().map(|a| evaluate(a, data)).collect();
            math(name, &args)
        }
        Cell::Spread(max, min) => arithmetic(
            &data.get(*max).cloned().unwrap_or(Value::Null),
            BinaryOp::Sub,
            &data.get(*min).cloned().unwrap_or(Value::Null),
        ),
        Cell::Mode(i) => match data.get(*i) {
            Some(Value::List(values)) => mode(values),
            _ => Value::Null,
        },
        Cell::Integral(values, times, unit) => match (data.get(*values), data.get(*times)) {
            (Some(Value::List(values)), Some(Value::List(times))) => integral(values, times, *unit),
            _ => Value::Null,
        },
        Cell::Percentile(i, p) => match data.get(*i) {
            Some(Value::List(values)) => percentile(values, *p).unwrap_or(Value::Null),
            _ => Value::Null,
        },
        Cell::Transform(_) => Value::Null,
    }
}

fn arithmetic(a: &Value, op: BinaryOp, b: &Value) -> Value {
    use Value::{Float, Integer};
    match (a, b) {
        (Integer(x), Integer(y)) => {
            let result = match op {
                BinaryOp::Add => x.checked_add(*y),
                BinaryOp::Sub => x.checked_sub(*y),
                BinaryOp::Mul => x.checked_mul(*y),
                // 1.x divides integers as floats.
                BinaryOp::Div => {
                    return if *y == 0 {
                        Float(0.0)
                    } else {
                        Float(*x as f64 / *y as f64)
                    }
                }
                BinaryOp::Mod => x.checked_rem(*y),
                BinaryOp::BitAnd => Some(x & y),
                BinaryOp::BitOr => Some(x | y),
                BinaryOp::BitXor => Some(x ^ y),
                _ => None,
            };
            result.map_or(Value::Null, Integer)
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => match op {
                BinaryOp::Add => Float(x + y),
                BinaryOp::Sub => Float(x - y),
                BinaryOp::Mul => Float(x * y),
                BinaryOp::Div => Float(if y == 0.0 { 0.0 } else { x / y }),
                BinaryOp::Mod => Float(x % y),
                _ => Value::Null,
            },
            _ => Value::Null,
        },
    }
}

fn math(name: &str, args: &[Value]) -> Value {
    let x = match args.first().and_then(Value::as_f64) {
        Some(x) => x,
        None => return Value::Null,
    };
    let y = args.get(1).and_then(Value::as_f64);
    let keep_integer = |f: f64| match args.first() {
        Some(Value::Integer(_)) => Value::Integer(f as i64),
        _ => Value::Float(f),
    };
    match name {
        "abs" => keep_integer(x.abs()),
        "floor" => keep_integer(x.floor()),
        "ceil" => keep_integer(x.ceil()),
        "round" => keep_integer(x.round()),
        "sin" => Value::Float(x.sin()),
        "cos" => Value::Float(x.cos()),
        "tan" => Value::Float(x.tan()),
        "asin" => Value::Float(x.asin()),
        "acos" => Value::Float(x.acos()),
        "atan" => Value::Float(x.atan()),
        "atan2" => y.map_or(Value::Null, |y| Value::Float(x.atan2(y))),
        "exp" => Value::Float(x.exp()),
        "ln" => Value::Float(x.ln()),
        "log" => y.map_or(Value::Null, |b| Value::Float(x.ln() / b.ln())),
        "log2" => Value::Float(x.log2()),
        "log10" => Value::Float(x.log10()),
        "sqrt" => Value::Float(x.sqrt()),
        "pow" => y.map_or(Value::Null, |y| Value::Float(x.powf(y))),
        _ => Value::Null,
    }
}

fn run_transform(transform: &Transform, inputs: &[(i64, Value)]) -> Vec<Value> {
    let mut out = vec![Value::Null; inputs.len()];
    let points: Vec<(usize, i64, &Value)> = inputs
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| !v.is_null())
        .map(|(i, (t, v))| (i, *t, v))
        .collect();
    let unit = transform.argument as f64;
    match transform.function.as_str() {
        "derivative" | "non_negative_derivative" => {
            for pair in points.windows(2) {
                let ((_, t0, v0), (i, t1, v1)) = (pair[0], pair[1]);
                let (Some(a), Some(b)) = (v0.as_f64(), v1.as_f64()) else {
                    continue;
                };
                let elapsed = (t1 - t0) as f64;
                if elapsed == 0.0 {
                    continue;
                }
                let rate = (b - a) / (elapsed / unit);
                if transform.function == "derivative" || rate >= 0.0 {
                    out[i] = Value::Float(rate);
                }
            }
        }
        "difference" | "non_negative_difference" => {
            for pair in points.windows(2) {
                let ((_, _, v0), (i, _, v1)) = (pair[0], pair[1]);
                let diff = arithmetic(v1, BinaryOp::Sub, v0);
                let negative = diff.as_f64().is_some_and(|d| d < 0.0);
                if transform.function == "difference" || !negative {
                    out[i] = diff;
                }
            }
        }
        "elapsed" => {
            for pair in points.windows(2) {
                let ((_, t0, _), (i, t1, _)) = (pair[0], pair[1]);
                out[i] = Value::Integer((t1 - t0) / transform.argument.max(1));
            }
        }
        "cumulative_sum" => {
            let mut sum: Option<Value> = None;
            for (i, _, v) in &points {
                let next = match &sum {
                    None => (*v).clone(),
                    Some(s) => arithmetic(s, BinaryOp::Add, v),
                };
                out[*i] = next.clone();
                sum = Some(next);
            }
        }
        "moving_average" => {
            let n = transform.argument.max(1) as usize;
            for (k, window) in points.windows(n).enumerate() {
                let sum: f64 = window.iter().filter_map(|(_, _, v)| v.as_f64()).sum();
                let (i, _, _) = points[k + n - 1];
                out[i] = Value::Float(sum / n as f64);
            }
        }
        _ => {}
    }
    out
}
