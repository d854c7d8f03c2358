//! Numeric field values and timestamps, parsed in the same pass that finds their end.
//!
//! The common case (at most 19 significant digits, a small exponent) is computed exactly
//! with one IEEE operation (Clinger's fast path); other floats go to `fast-float2`
//! (Eisel-Lemire), other integers to the standard library; both are correct for all inputs.
//! The grammar is checked here, so the fallbacks only ever see valid line protocol.

/// A parsed number and the index just past it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Float(f64),
    Integer(i64),
    UInteger(u64),
}

/// Why a number could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    /// Not a number in line-protocol syntax (`.5`, `5.`, `1e`, `+1`, `--1`).
    Syntax,
    /// An `i` integer outside the int64 range.
    IntegerRange,
    /// A `u` integer outside the uint64 range.
    UIntegerRange,
    /// A `u` integer with a minus sign.
    NegativeUInteger,
    /// A float whose magnitude overflows to infinity.
    FloatRange,
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Accumulates ASCII digits from `pos`; returns (value of the first 19 digits, digit count, end).
#[inline(always)]
fn digits(b: &[u8], pos: usize) -> (u64, usize, usize) {
    let mut value: u64 = 0;
    let mut count = 0;
    for &c in &b[pos.min(b.len())..] {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if count < 19 {
            value = value * 10 + d as u64;
        }
        count += 1;
    }
    (value, count, pos + count)
}

/// The text of `b[start..end]`, which holds only ASCII digits, signs, `.` and `e`.
fn ascii(b: &[u8], start: usize, end: usize) -> &str {
    core::str::from_utf8(&b[start..end]).unwrap_or("")
}

/// Parses a field value that starts with a digit or `-` at `pos`.
#[inline]
pub(crate) fn parse_number(b: &[u8], pos: usize) -> Result<(Number, usize), NumberError> {
    let start = pos;
    let negative = b.get(pos) == Some(&b'-');
    let int_start = pos + negative as usize;
    let (mut mantissa, int_digits, mut pos) = digits(b, int_start);
    if int_digits == 0 {
        return Err(NumberError::Syntax);
    }
    match b.get(pos) {
        Some(b'i') => {
            let value = if int_digits <= 18 {
                let v = mantissa as i64;
                if negative {
                    -v
                } else {
                    v
                }
            } else {
                ascii(b, start, pos)
                    .parse::<i64>()
                    .map_err(|_| NumberError::IntegerRange)?
            };
            return Ok((Number::Integer(value), pos + 1));
        }
        Some(b'u') => {
            if negative {
                return Err(NumberError::NegativeUInteger);
            }
            let value = if int_digits <= 19 {
                mantissa
            } else {
                ascii(b, start, pos)
                    .parse::<u64>()
                    .map_err(|_| NumberError::UIntegerRange)?
            };
            return Ok((Number::UInteger(value), pos + 1));
        }
        _ => {}
    }
    // A float: D+ [. D+] [e [+-] D+]
    let mut significant = int_digits;
    let mut exponent: i64 = 0;
    if b.get(pos) == Some(&b'.') {
        let frac_start = pos + 1;
        let mut count = 0;
        for &c in &b[frac_start.min(b.len())..] {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if significant < 19 {
                mantissa = mantissa * 10 + d as u64;
                exponent -= 1;
            }
            significant += 1;
            count += 1;
        }
        if count == 0 {
            return Err(NumberError::Syntax);
        }
        pos = frac_start + count;
    }
    if let Some(b'e' | b'E') = b.get(pos) {
        let mut p = pos + 1;
        let exp_negative = match b.get(p) {
            Some(b'-') => {
                p += 1;
                true
            }
            Some(b'+') => {
                p += 1;
                false
            }
            _ => false,
        };
        let (exp, exp_digits, end) = digits(b, p);
        if exp_digits == 0 {
            return Err(NumberError::Syntax);
        }
        let exp = if exp_digits > 6 {
            1_000_000
        } else {
            exp as i64
        };
        exponent += if exp_negative { -exp } else { exp };
        pos = end;
    }
    let exact = significant <= 19 && mantissa <= (1u64 << 53) && (-22..=22).contains(&exponent);
    let value = if exact {
        let m = mantissa as f64;
        let v = if exponent < 0 {
            m / POW10[(-exponent) as usize]
        } else {
            m * POW10[exponent as usize]
        };
        if negative {
            -v
        } else {
            v
        }
    } else {
        // Eisel-Lemire and its fallbacks, correctly rounded for every input.
        fast_float2::parse::<f64, _>(&b[start..pos]).map_err(|_| NumberError::Syntax)?
    };
    if !value.is_finite() {
        return Err(NumberError::FloatRange);
    }
    Ok((Number::Float(value), pos))
}

/// Parses a timestamp `-?[0-9]+` at `pos`; `Ok(None)` is never returned for valid syntax.
#[inline]
pub(crate) fn parse_timestamp(b: &[u8], pos: usize) -> Result<(i64, usize), NumberError> {
    let negative = b.get(pos) == Some(&b'-');
    let (value, count, end) = digits(b, pos + negative as usize);
    if count == 0 {
        return Err(NumberError::Syntax);
    }
    let value = if count <= 18 {
        let v = value as i64;
        if negative {
            -v
        } else {
            v
        }
    } else {
        ascii(b, pos, end)
            .parse::<i64>()
            .map_err(|_| NumberError::IntegerRange)?
    };
    Ok((value, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<(Number, usize), NumberError> {
        parse_number(s.as_bytes(), 0)
    }

    fn float(s: &str) -> f64 {
        match num(s) {
            Ok((Number::Float(f), end)) => {
                assert_eq!(end, s.len(), "{s}");
                f
            }
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn floats_match_std_bit_for_bit() {
        for s in [
            "0",
            "-0",
            "1",
            "12.34",
            "-12.34",
            "0.1",
            "0.3",
            "3.141592653589793",
            "1e10",
            "1E10",
            "1e+10",
            "1e-10",
            "1.5e300",
            "2.2250738585072014e-308",
            "4.9e-324",
            "007.5",
            "9007199254740993",
            "123456789012345678901234567890",
            "0.000000000000000000001",
            "1.7976931348623157e308",
            "99999999999999999999e-5",
            "1e22",
            "1e23",
            "123.456e-7",
        ] {
            assert_eq!(
                float(s).to_bits(),
                s.parse::<f64>().unwrap().to_bits(),
                "{s}"
            );
        }
    }

    #[test]
    fn float_syntax_errors() {
        for s in [".5", "-", "-.5", "1.", "1.e5", "1e", "1e+", "+1"] {
            let result = num(s);
            assert!(
                result.is_err() || result.unwrap().1 < s.len(),
                "{s} should not parse completely"
            );
        }
        assert_eq!(num("1e400"), Err(NumberError::FloatRange));
        assert_eq!(num("-1e400"), Err(NumberError::FloatRange));
        assert_eq!(float("1e-400"), 0.0);
    }

    #[test]
    fn integers() {
        assert_eq!(num("1i"), Ok((Number::Integer(1), 2)));
        assert_eq!(num("-0i"), Ok((Number::Integer(0), 3)));
        assert_eq!(
            num("9223372036854775807i"),
            Ok((Number::Integer(i64::MAX), 20))
        );
        assert_eq!(
            num("-9223372036854775808i"),
            Ok((Number::Integer(i64::MIN), 21))
        );
        assert_eq!(num("9223372036854775808i"), Err(NumberError::IntegerRange));
        assert_eq!(num("-9223372036854775809i"), Err(NumberError::IntegerRange));
        assert_eq!(
            num("00000000000000000000001i"),
            Ok((Number::Integer(1), 24))
        );
    }

    #[test]
    fn unsigned() {
        assert_eq!(num("0u"), Ok((Number::UInteger(0), 2)));
        assert_eq!(
            num("18446744073709551615u"),
            Ok((Number::UInteger(u64::MAX), 21))
        );
        assert_eq!(
            num("18446744073709551616u"),
            Err(NumberError::UIntegerRange)
        );
        assert_eq!(num("-1u"), Err(NumberError::NegativeUInteger));
        assert_eq!(
            num("9999999999999999999u"),
            Ok((Number::UInteger(9_999_999_999_999_999_999), 20))
        );
    }

    #[test]
    fn timestamps() {
        let ts = |s: &str| parse_timestamp(s.as_bytes(), 0);
        assert_eq!(ts("0"), Ok((0, 1)));
        assert_eq!(ts("-0"), Ok((0, 2)));
        assert_eq!(
            ts("1700000000000000000"),
            Ok((1_700_000_000_000_000_000, 19))
        );
        assert_eq!(ts("9223372036854775807"), Ok((i64::MAX, 19)));
        assert_eq!(ts("-9223372036854775808"), Ok((i64::MIN, 20)));
        assert_eq!(ts("9223372036854775808"), Err(NumberError::IntegerRange));
        assert_eq!(ts("-"), Err(NumberError::Syntax));
        assert_eq!(ts("abc"), Err(NumberError::Syntax));
    }
}
