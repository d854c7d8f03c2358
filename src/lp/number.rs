//! Numeric field values and timestamps, parsed in the same pass that finds their end.
//!
//! The common case (at most 19 significant digits, a small exponent) is computed exactly
//! with one IEEE operation (Clinger's fast path); other floats go to `fast-float2`
//! (Eisel-Lemire), other integers to the standard library; both are correct for all inputs.
//! The grammar is checked here, so the fallbacks only ever see valid line protocol.

use super::lemire::eisel_lemire;
use super::scan::word;

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

/// Most significant digits a `u64` accumulator keeps (10^19 - 1 < 2^64).
const KEPT_DIGITS: usize = 19;

/// Whether all 8 bytes of `w` are ASCII digits.
#[inline(always)]
fn eight_digits(w: u64) -> bool {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    (w & HIGH) | ((w.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4) == 0x3333_3333_3333_3333
}

/// The value of 8 ASCII digits, first digit in the lowest byte (three multiplications
/// instead of eight, as in `fast_float`).
#[inline(always)]
fn eight_digit_value(w: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let w = w.wrapping_sub(0x3030_3030_3030_3030);
    let w = w.wrapping_mul(10).wrapping_add(w >> 8);
    let w = (w & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((w >> 16) & MASK).wrapping_mul(MUL2));
    w >> 32
}

/// Digits from `pos`, appended to `value`, which already holds `kept` digits. Digits are
/// accumulated while fewer than [`KEPT_DIGITS`] are kept. Returns (value, digits kept in
/// all, digits read, end).
#[inline(always)]
fn digits(b: &[u8], pos: usize, mut value: u64, mut kept: usize) -> (u64, usize, usize, usize) {
    let mut end = pos;
    // Eight at a time while they fit: timestamps and long mantissas. Most numbers are
    // short, so the eighth byte is looked at first.
    while kept + 8 <= KEPT_DIGITS && b.get(end + 7).is_some_and(u8::is_ascii_digit) {
        match word(b, end) {
            Some(w) if eight_digits(w) => {
                value = value * 100_000_000 + eight_digit_value(w);
                kept += 8;
                end += 8;
            }
            _ => break,
        }
    }
    if kept + 8 <= KEPT_DIGITS {
        // The steps above stopped (with room for eight more) at a non-digit or the body's
        // end within the next eight bytes: fewer than eight digits follow, all of them kept.
        let tail = end;
        while let Some(d) = b.get(end).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9) {
            value = value * 10 + d as u64;
            end += 1;
        }
        debug_assert!(end - tail < 8);
        return (value, kept + (end - tail), end - pos, end);
    }
    for &c in &b[end.min(b.len())..] {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if kept < KEPT_DIGITS {
            value = value * 10 + d as u64;
            kept += 1;
        }
        end += 1;
    }
    (value, kept, end - pos, end)
}

/// `magnitude` with a sign, if it is in the int64 range.
#[inline(always)]
fn signed(magnitude: u64, negative: bool) -> Option<i64> {
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// The text of `b[start..end]`, which holds only ASCII digits, signs, `.` and `e`.
fn ascii(b: &[u8], start: usize, end: usize) -> &str {
    core::str::from_utf8(&b[start..end]).unwrap_or("")
}

/// Parses a field value that starts with a digit or `-` at `pos`.
#[inline(always)]
pub(crate) fn parse_number(b: &[u8], pos: usize) -> Result<(Number, usize), NumberError> {
    let start = pos;
    let negative = b.get(pos) == Some(&b'-');
    let int_start = pos + negative as usize;
    let (mut mantissa, kept, int_digits, mut pos) = digits(b, int_start, 0, 0);
    if int_digits == 0 {
        return Err(NumberError::Syntax);
    }
    match b.get(pos) {
        Some(b'i') => {
            let value = if int_digits <= KEPT_DIGITS {
                signed(mantissa, negative).ok_or(NumberError::IntegerRange)?
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
            let value = if int_digits <= KEPT_DIGITS {
                mantissa
            } else {
                ascii(b, start, pos)
                    .parse::<u64>()
                    .map_err(|_| NumberError::UIntegerRange)?
            };
            return Ok((Number::UInteger(value), pos + 1));
        }
        Some(b'.' | b'e' | b'E') => {}
        // A whole number below 10^15 < 2^53 is exact as it is (Telegraf writes many `0`s).
        _ if int_digits <= 15 => {
            let value = exact_f64(mantissa);
            return Ok((Number::Float(if negative { -value } else { value }), pos));
        }
        _ => {}
    }
    // A float: D+ [. D+] [e [+-] D+]
    let mut significant = int_digits;
    let mut exponent: i64 = 0;
    if b.get(pos) == Some(&b'.') {
        let (value, kept_now, count, end) = digits(b, pos + 1, mantissa, kept);
        if count == 0 {
            return Err(NumberError::Syntax);
        }
        exponent -= (kept_now - kept) as i64;
        mantissa = value;
        significant += count;
        pos = end;
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
        let (exp, _, exp_digits, end) = digits(b, p, 0, 0);
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
    if !exact {
        if significant <= KEPT_DIGITS {
            if let Some(value) = eisel_lemire(mantissa, exponent) {
                return Ok((Number::Float(if negative { -value } else { value }), pos));
            }
        }
        let value = slow_float(&b[start..pos])?;
        // The value is below 10^(significant + exponent), so only then can it overflow;
        // checking just then keeps the check off the common path.
        if significant as i64 + exponent > 300 && !value.is_finite() {
            return Err(NumberError::FloatRange);
        }
        return Ok((Number::Float(value), pos));
    }
    // Clinger's fast path: both operands are exact, so one IEEE operation rounds correctly.
    // The result is finite (below 2^53 · 10^22), so nothing waits on the division.
    let m = exact_f64(mantissa);
    let value = if exponent < 0 {
        m / POW10[(-exponent) as usize]
    } else {
        m * POW10[exponent as usize]
    };
    Ok((Number::Float(if negative { -value } else { value }), pos))
}

/// `value` (at most 2^53) as a float. Through `i64`: one instruction on x86-64, where a
/// `u64` conversion takes six.
#[inline(always)]
fn exact_f64(value: u64) -> f64 {
    debug_assert!(value <= 1 << 53);
    value as i64 as f64
}

/// Eisel-Lemire and its fallbacks, correctly rounded for every input (out of line: most
/// values take the exact path above).
#[inline(never)]
fn slow_float(text: &[u8]) -> Result<f64, NumberError> {
    fast_float2::parse::<f64, _>(text).map_err(|_| NumberError::Syntax)
}

/// Parses a timestamp `-?[0-9]+` at `pos`.
#[inline(always)]
pub(crate) fn parse_timestamp(b: &[u8], pos: usize) -> Result<(i64, usize), NumberError> {
    let negative = b.get(pos) == Some(&b'-');
    let (value, _, count, end) = digits(b, pos + negative as usize, 0, 0);
    if count == 0 {
        return Err(NumberError::Syntax);
    }
    let value = if count <= KEPT_DIGITS {
        signed(value, negative).ok_or(NumberError::IntegerRange)?
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

    /// Every split of up to 24 digits around the point, so that each digit count meets the
    /// eight-digit steps at every offset, with and without bytes after the number.
    #[test]
    fn digit_runs_of_every_length_match_std() {
        let digits = "918273645546372819012345";
        for len in 1..=digits.len() {
            let run = &digits[..len];
            for suffix in ["", " ", ",x=1", "\n"] {
                let text = format!("{run}i{suffix}");
                let expected = run.parse::<i64>().map_err(|_| NumberError::IntegerRange);
                assert_eq!(
                    num(&text).map(|(n, _)| n),
                    expected.map(Number::Integer),
                    "{text}"
                );
                let text = format!("-{run}u{suffix}");
                assert_eq!(num(&text), Err(NumberError::NegativeUInteger), "{text}");
                let text = format!("{run}{suffix}");
                let expected = run.parse::<i64>().map_err(|_| NumberError::IntegerRange);
                let parsed = parse_timestamp(text.as_bytes(), 0).map(|(v, _)| v);
                assert_eq!(parsed, expected, "{text}");
                for point in 1..len {
                    let text = format!("{}.{}{suffix}", &run[..point], &run[point..]);
                    let expected: f64 = text.trim_end_matches(suffix).parse().unwrap();
                    assert_eq!(float_prefix(&text).to_bits(), expected.to_bits(), "{text}");
                }
            }
        }
    }

    /// `digits` against a byte-at-a-time reference, for every number of digits already
    /// kept, every run length up to 30 and every kind of end.
    #[test]
    fn digits_match_a_byte_loop() {
        fn reference(
            b: &[u8],
            pos: usize,
            mut value: u64,
            mut kept: usize,
        ) -> (u64, usize, usize, usize) {
            let mut end = pos;
            while let Some(d) = b.get(end).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9) {
                if kept < KEPT_DIGITS {
                    value = value * 10 + d as u64;
                    kept += 1;
                }
                end += 1;
            }
            (value, kept, end - pos, end)
        }
        let run = "918273645546372819012345678901";
        for kept in 0..=KEPT_DIGITS {
            let value = 10u64.pow(kept as u32) / 3;
            for len in 0..=run.len() {
                for suffix in ["", ",", " 1", "\n", "é", ".5e3 more bytes"] {
                    let text = format!("x{}{suffix}", &run[..len]);
                    let b = text.as_bytes();
                    let got = digits(b, 1, value, kept);
                    assert_eq!(got, reference(b, 1, value, kept), "{text} kept {kept}");
                    assert!(got.1 <= KEPT_DIGITS);
                }
            }
        }
    }

    fn float_prefix(s: &str) -> f64 {
        match num(s) {
            Ok((Number::Float(f), _)) => f,
            other => panic!("{s}: {other:?}"),
        }
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
