//! What is InfluxQL's own once DataFusion has aggregated, and grows with the answer, not the
//! data: cells evaluated row by row, empty windows filled, the transformations over
//! consecutive rows (`derivative`, `moving_average`, …), `percentile`, `mode`, `integral`.

use linegate_influxql::{BinaryOp, Fill, Literal};

use super::answer::Value;
use super::condition::TimeRange;
use super::plan::{Cell, Transform};

/// The rows of one series before shaping: time and the DataFusion columns.
pub(super) struct Rows {
    pub(super) tags: Vec<String>,
    pub(super) rows: Vec<(i64, Vec<Value>)>,
}

/// The nearest-rank percentile of sorted values, as 1.x picks it.
pub(super) fn percentile(sorted: &[Value], p: f64) -> Option<Value> {
    let rank = (sorted.len() as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
    usize::try_from(rank)
        .ok()
        .and_then(|i| sorted.get(i))
        .cloned()
}

pub(super) fn is_integral(cells: &[Cell]) -> bool {
    matches!(cells, [Cell::Integral(..)])
}

/// 1.x's integral over windows also covers the edges of each window: the line from the
/// previous window's last point to this one's first is cut at the window start, the line
/// to the next window's first point at the window end.
pub(super) fn integrals_across_windows(
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
pub(super) fn integral(values: &[Value], times: &[Value], unit: i64) -> Value {
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
pub(super) fn mode(values: &[Value]) -> Value {
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
pub(super) fn fill_values(rows: &mut [Vec<Value>], fill: &Fill) {
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
pub(super) fn fill_windows(
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

pub(super) fn evaluate(cell: &Cell, data: &[Value]) -> Value {
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

pub(super) fn arithmetic(a: &Value, op: BinaryOp, b: &Value) -> Value {
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

pub(super) fn math(name: &str, args: &[Value]) -> Value {
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

pub(super) fn run_transform(transform: &Transform, inputs: &[(i64, Value)]) -> Vec<Value> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use Value::{Float, Integer, Null, Time};

    fn transform(function: &str, argument: i64, inputs: &[(i64, Value)]) -> Vec<Value> {
        let transform = Transform {
            function: function.into(),
            input: Cell::Column(0),
            argument,
        };
        run_transform(&transform, inputs)
    }

    #[test]
    fn transformations_skip_nulls_and_use_the_elapsed_time() {
        let s = 1_000_000_000;
        let points = [
            (0, Float(1.0)),
            (10 * s, Null),
            (20 * s, Float(5.0)),
            (30 * s, Float(2.0)),
        ];
        assert_eq!(
            transform("derivative", s, &points),
            vec![Null, Null, Float(0.2), Float(-0.3)]
        );
        assert_eq!(
            transform("non_negative_derivative", 10 * s, &points),
            vec![Null, Null, Float(2.0), Null]
        );
        assert_eq!(
            transform("difference", 0, &points),
            vec![Null, Null, Float(4.0), Float(-3.0)]
        );
        assert_eq!(
            transform("cumulative_sum", 0, &points),
            vec![Float(1.0), Null, Float(6.0), Float(8.0)]
        );
        assert_eq!(
            transform("moving_average", 2, &points),
            vec![Null, Null, Float(3.0), Float(3.5)]
        );
        assert_eq!(
            transform("elapsed", s, &points),
            vec![Null, Null, Integer(20), Integer(10)]
        );
        let integers = [(0, Integer(3)), (1, Integer(1))];
        assert_eq!(
            transform("difference", 0, &integers),
            vec![Null, Integer(-2)]
        );
    }

    #[test]
    fn fills_take_a_value_the_previous_one_or_a_line_between() {
        let rows = || {
            vec![
                vec![Time(0), Float(1.0), Integer(10)],
                vec![Time(10), Null, Null],
                vec![Time(20), Null, Null],
                vec![Time(30), Float(4.0), Integer(40)],
                vec![Time(40), Null, Null],
            ]
        };
        let column = |rows: &[Vec<Value>], c: usize| -> Vec<Value> {
            rows.iter().map(|r| r[c].clone()).collect()
        };
        let mut linear = rows();
        fill_values(&mut linear, &Fill::Linear);
        assert_eq!(
            column(&linear, 1),
            vec![Float(1.0), Float(2.0), Float(3.0), Float(4.0), Null]
        );
        assert_eq!(
            column(&linear, 2),
            vec![Integer(10), Integer(20), Integer(30), Integer(40), Null]
        );
        let mut previous = rows();
        fill_values(&mut previous, &Fill::Previous);
        assert_eq!(
            column(&previous, 1),
            vec![Float(1.0), Float(1.0), Float(1.0), Float(4.0), Float(4.0)]
        );
        let mut zero = rows();
        fill_values(&mut zero, &Fill::Value(Literal::Integer(0)));
        assert_eq!(column(&zero, 2)[1], Integer(0));
    }

    #[test]
    fn empty_windows_are_added_from_the_range_start() {
        let groups = vec![Rows {
            tags: vec![],
            rows: vec![(20, vec![Integer(5)])],
        }];
        let range = TimeRange {
            lower: Some(3),
            upper: Some(35),
        };
        let filled = fill_windows(groups, 10, 0, range, 0, &[Integer(0)]);
        let times: Vec<i64> = filled[0].rows.iter().map(|r| r.0).collect();
        assert_eq!(times, vec![0, 10, 20, 30]);
        assert_eq!(filled[0].rows[1].1, vec![Integer(0)]);
        assert_eq!(filled[0].rows[2].1, vec![Integer(5)]);
    }

    #[test]
    fn percentile_mode_and_integral_as_1x_computes_them() {
        let sorted: Vec<Value> = (1..=10).map(Integer).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(Integer(5)));
        assert_eq!(percentile(&sorted, 95.0), Some(Integer(10)));
        assert_eq!(percentile(&sorted, 0.0), None, "1.x answers null for 0");
        assert_eq!(
            mode(&[Integer(2), Integer(1), Integer(1), Integer(2)]),
            Integer(2)
        );
        let s = 1_000_000_000;
        let integral_of = integral(
            &[Float(1.0), Float(3.0), Float(3.0)],
            &[Time(0), Time(2 * s), Time(3 * s)],
            s,
        );
        assert_eq!(integral_of, Float(7.0));
        assert_eq!(
            arithmetic(&Integer(7), BinaryOp::Div, &Integer(2)),
            Float(3.5)
        );
        assert_eq!(
            arithmetic(&Integer(i64::MAX), BinaryOp::Add, &Integer(1)),
            Null
        );
        assert_eq!(math("abs", &[Integer(-3)]), Integer(3));
        assert_eq!(math("pow", &[Float(2.0), Float(10.0)]), Float(1024.0));
    }
}
