//! `WHERE`: the time range a condition allows, and the condition as a DataFusion predicate
//! with InfluxQL's rules (a missing tag is the empty string, a number never equals a string).

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{cast, Operator};
use datafusion::prelude::{coalesce, col, lit, Expr as DfExpr};
use linegate::schema::FieldType;
use linegate_influxql::{BinaryOp, Expr, Literal, VarType};

use super::columns::{column, Column, Table};
use super::Error;

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

    pub(super) fn narrow(&mut self, expr: &Expr, now: i64) -> Result<(), Error> {
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

pub(super) fn is_time(expr: &Expr) -> bool {
    matches!(expr, Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time"))
}

/// `time op x` or `x op time`, as `time op' x`.
pub(super) fn time_comparison<'a>(
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
pub(super) fn parse_time(text: &str) -> Result<i64, Error> {
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

pub(super) fn timestamp(nanos: i64) -> DfExpr {
    lit(ScalarValue::TimestampNanosecond(Some(nanos), None))
}

/// A `WHERE` condition as a DataFusion predicate over `table`: a missing tag reads as the
/// empty string, a missing field as null (so comparisons with it are false), as in 1.x.
pub fn condition(table: &Table, expr: &Expr, now: i64) -> Result<DfExpr, Error> {
    predicate(table, expr, now, 0)
}

/// [`condition`], with lower time bounds moved `earlier` nanoseconds back: transformations
/// over windows start from the window before the first one answered.
pub(super) fn predicate(
    table: &Table,
    expr: &Expr,
    now: i64,
    earlier: i64,
) -> Result<DfExpr, Error> {
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
pub(super) enum Kind {
    Number,
    Text,
    Boolean,
}

pub(super) fn kind(table: &Table, expr: &Expr) -> Option<Kind> {
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
pub(super) fn operand(table: &Table, expr: &Expr, now: i64) -> Result<DfExpr, Error> {
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

pub(super) fn operator(op: BinaryOp) -> Result<Operator, Error> {
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
pub(super) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) fn describe(expr: &Expr) -> String {
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
