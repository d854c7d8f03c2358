//! The projection: `*` and regexes expanded and named as 1.x names columns, and each
//! expression planned as DataFusion columns (read or aggregated) plus the cell that turns
//! them into an answer's value.

use std::collections::BTreeMap;

use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{cast, ExprFunctionExt, SortExpr};
use datafusion::prelude::{coalesce, col, lit, Expr as DfExpr};
use linegate::schema::FieldType;
use linegate_influxql::{BinaryOp, Expr, Literal, VarType};

use super::answer::Value;
use super::columns::{column, numeric, Column, Table};
use super::condition::{describe, quoted};
use super::Error;

/// The InfluxQL functions that fold many points into one (or a few).
pub(super) const AGGREGATES: &[&str] = &[
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
pub(super) const TRANSFORMS: &[&str] = &[
    "derivative",
    "non_negative_derivative",
    "difference",
    "non_negative_difference",
    "moving_average",
    "cumulative_sum",
    "elapsed",
];

/// Row-wise math functions.
pub(super) const MATH: &[&str] = &[
    "abs", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "exp", "ln", "log", "log2",
    "log10", "sqrt", "pow", "floor", "ceil", "round",
];

/// Selectors return a point of the data: alone in a query, their time is that point's.
pub(super) const SELECTORS: &[&str] =
    &["first", "last", "min", "max", "percentile", "top", "bottom"];

/// A projected column after `*` and regexes are expanded: its expression and its name.
pub(super) struct Projected {
    pub(super) expr: Expr,
    pub(super) name: String,
}

/// 1.x's default column name: the call or reference names of the expression joined by `_`.
pub(super) fn default_name(expr: &Expr) -> String {
    pub(super) fn names(expr: &Expr, out: &mut Vec<String>) {
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
pub(super) fn expand(
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

pub(super) fn transform_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Call { name, .. } if TRANSFORMS.contains(&name.as_str()) => Some(name),
        Expr::Paren(inner) => transform_name(inner),
        _ => None,
    }
}

pub(super) fn wildcard_argument(args: &[Expr]) -> bool {
    matches!(args.first(), Some(Expr::Wildcard(_) | Expr::RegexRef(_)))
}

pub(super) fn var(name: &str, data_type: Option<VarType>) -> Expr {
    Expr::VarRef {
        name: name.to_owned(),
        data_type,
    }
}

/// Compiles an InfluxQL regex (Go's RE2 syntax, which the `regex` crate shares).
pub fn compile(pattern: &str) -> Result<regex::Regex, Error> {
    regex::Regex::new(pattern).map_err(|e| Error::Statement(format!("invalid regex: {e}")))
}

pub(super) fn is_call(expr: &Expr, list: &[&str]) -> bool {
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
pub(super) enum Cell {
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
    pub(super) fn windows_back(&self) -> i64 {
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
pub(super) struct Transform {
    pub(super) function: String,
    pub(super) input: Cell,
    /// derivative and elapsed: the unit; moving_average: the window (points).
    pub(super) argument: i64,
}

/// Where the time of the point a lone selector picked is, when that is the row's time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum SelectorTime {
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
pub(super) struct Planner<'a> {
    pub(super) table: &'a Table,
    pub(super) aggregate: bool,
    /// Raw: the columns read, by name. Aggregate: the aggregate expressions.
    pub(super) columns: Vec<(String, DfExpr)>,
    /// Where a lone selector's point time is (outside `GROUP BY time`).
    pub(super) selector_time: SelectorTime,
    /// The ordering and filter of the lone selector, for its companion columns; whether it
    /// selects many points (`top`, `bottom`), so companions are collected as lists.
    pub(super) selector: Option<(Vec<SortExpr>, DfExpr, bool)>,
    /// The call that answers many rows per group (`distinct`, `top`, `bottom`).
    pub(super) multi_row: Option<MultiRow>,
    /// The columns that count points (0, not null, in an empty window).
    pub(super) counts: Vec<usize>,
}

/// A function answering several rows per group, from list columns collected in order.
#[derive(Debug, Clone)]
pub(super) enum MultiRow {
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
    pub(super) fn picks(&self, data: &[Value]) -> Vec<usize> {
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
    pub(super) fn time(&self, data: &[Value], k: usize) -> Option<i64> {
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
    pub(super) fn column_index(&mut self, name: String, expr: DfExpr) -> usize {
        if let Some(i) = self.columns.iter().position(|(n, _)| *n == name) {
            return i;
        }
        self.columns.push((name, expr));
        self.columns.len() - 1
    }

    pub(super) fn cell(&mut self, expr: &Expr) -> Result<Cell, Error> {
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

    pub(super) fn reference(&self, name: &str, data_type: Option<VarType>) -> DfExpr {
        match column(self.table, name, data_type) {
            Column::Tag => col(quoted(name)),
            Column::Field(_) => col(quoted(name)),
            Column::Cast(_, to) => cast(col(quoted(name)), to),
            Column::Missing => lit(ScalarValue::Null),
        }
    }

    /// The field an aggregate reads: its first argument, which must name a field.
    pub(super) fn field_argument(
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

    pub(super) fn call(&mut self, name: &str, args: &[Expr]) -> Result<Cell, Error> {
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

    pub(super) fn transform(&mut self, name: &str, args: &[Expr]) -> Result<Cell, Error> {
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
pub(super) fn selected(
    value: DfExpr,
    order: Vec<SortExpr>,
    filter: DfExpr,
) -> datafusion::error::Result<DfExpr> {
    agg::first_value(value, vec![])
        .order_by(order)
        .filter(filter)
        .build()
}
