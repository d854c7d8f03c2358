//! Timestamp precision: the `precision` parameter and conversion to nanoseconds.

use core::fmt;

/// The unit of the timestamps in a write request body.
///
/// `Auto` (v3 only, and its default) decides per line from the magnitude of the timestamp,
/// exactly as InfluxDB 3 does (see [`Precision::guess`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Decide per line from the timestamp's magnitude.
    Auto,
    /// Hours.
    Hour,
    /// Minutes.
    Minute,
    /// Seconds.
    Second,
    /// Milliseconds.
    Millisecond,
    /// Microseconds.
    Microsecond,
    /// Nanoseconds.
    Nanosecond,
}

impl Precision {
    /// Every spelling linegate accepts, with the precision it names.
    ///
    /// Case-sensitive, as in InfluxDB. Which of them an endpoint accepts is decided by
    /// [`crate::Endpoint::parse_precision`].
    pub const SPELLINGS: &'static [(&'static str, Precision)] = &[
        ("auto", Precision::Auto),
        ("n", Precision::Nanosecond),
        ("ns", Precision::Nanosecond),
        ("nanosecond", Precision::Nanosecond),
        ("u", Precision::Microsecond),
        ("us", Precision::Microsecond),
        ("µ", Precision::Microsecond),
        ("microsecond", Precision::Microsecond),
        ("ms", Precision::Millisecond),
        ("millisecond", Precision::Millisecond),
        ("s", Precision::Second),
        ("second", Precision::Second),
        ("m", Precision::Minute),
        ("minute", Precision::Minute),
        ("h", Precision::Hour),
        ("hour", Precision::Hour),
    ];

    /// Looks up a spelling in [`Precision::SPELLINGS`].
    pub fn from_name(name: &str) -> Option<Precision> {
        Self::SPELLINGS
            .iter()
            .find(|(spelling, _)| *spelling == name)
            .map(|&(_, precision)| precision)
    }

    /// Nanoseconds per unit; `None` for `Auto`, whose unit is decided per timestamp.
    pub const fn nanos_per_unit(self) -> Option<i64> {
        match self {
            Precision::Auto => None,
            Precision::Hour => Some(3_600_000_000_000),
            Precision::Minute => Some(60_000_000_000),
            Precision::Second => Some(1_000_000_000),
            Precision::Millisecond => Some(1_000_000),
            Precision::Microsecond => Some(1_000),
            Precision::Nanosecond => Some(1),
        }
    }

    /// The unit InfluxDB 3 infers for a timestamp under `auto`:
    /// `|ts| < 5e9` → seconds, `< 5e12` → milliseconds, `< 5e15` → microseconds, else nanoseconds.
    pub const fn guess(timestamp: i64) -> Precision {
        let magnitude = timestamp.unsigned_abs() / 1_000_000_000;
        if magnitude < 5 {
            Precision::Second
        } else if magnitude < 5_000 {
            Precision::Millisecond
        } else if magnitude < 5_000_000 {
            Precision::Microsecond
        } else {
            Precision::Nanosecond
        }
    }

    /// Converts a timestamp in this precision to nanoseconds since the epoch.
    ///
    /// Returns `None` when the result does not fit in an `i64`.
    #[inline(always)]
    pub fn to_nanos(self, timestamp: i64) -> Option<i64> {
        let unit = match self.nanos_per_unit() {
            Some(unit) => unit,
            None => Self::guess(timestamp).nanos_per_unit()?,
        };
        timestamp.checked_mul(unit)
    }

    /// The time of a line without a timestamp: the request's ingest time truncated toward zero
    /// to this precision (`Auto` keeps it whole), as InfluxDB does.
    pub fn truncate(self, now_nanos: i64) -> i64 {
        match self.nanos_per_unit() {
            Some(unit) => now_nanos - now_nanos % unit,
            None => now_nanos,
        }
    }

    /// The canonical short name (`ns`, `us`, `ms`, `s`, `m`, `h`, `auto`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::Hour => "h",
            Precision::Minute => "m",
            Precision::Second => "s",
            Precision::Millisecond => "ms",
            Precision::Microsecond => "us",
            Precision::Nanosecond => "ns",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Precision::{self, *};

    #[test]
    fn guess_matches_influxdb3_boundaries() {
        assert_eq!(Precision::guess(0), Second);
        assert_eq!(Precision::guess(4_999_999_999), Second);
        assert_eq!(Precision::guess(5_000_000_000), Millisecond);
        assert_eq!(Precision::guess(4_999_999_999_999), Millisecond);
        assert_eq!(Precision::guess(5_000_000_000_000), Microsecond);
        assert_eq!(Precision::guess(4_999_999_999_999_999), Microsecond);
        assert_eq!(Precision::guess(5_000_000_000_000_000), Nanosecond);
        assert_eq!(Precision::guess(-1_700_000_000), Second);
        assert_eq!(Precision::guess(i64::MIN), Nanosecond);
        assert_eq!(Precision::guess(i64::MAX), Nanosecond);
    }

    #[test]
    fn to_nanos_for_every_unit() {
        let ns = 1_700_000_000_000_000_000;
        assert_eq!(Hour.to_nanos(472_222), Some(472_222 * 3_600_000_000_000));
        assert_eq!(
            Minute.to_nanos(28_333_333),
            Some(28_333_333 * 60_000_000_000)
        );
        assert_eq!(Second.to_nanos(1_700_000_000), Some(ns));
        assert_eq!(Millisecond.to_nanos(1_700_000_000_000), Some(ns));
        assert_eq!(Microsecond.to_nanos(1_700_000_000_000_000), Some(ns));
        assert_eq!(Nanosecond.to_nanos(ns), Some(ns));
        for ts in [1_700_000_000, 1_700_000_000_000, 1_700_000_000_000_000, ns] {
            assert_eq!(Auto.to_nanos(ts), Some(ns), "auto {ts}");
        }
        assert_eq!(Auto.to_nanos(-1_700_000_000), Some(-ns));
    }

    #[test]
    fn to_nanos_overflow() {
        assert_eq!(Second.to_nanos(9_223_372_037), None);
        assert_eq!(
            Second.to_nanos(9_223_372_036),
            Some(9_223_372_036_000_000_000)
        );
        assert_eq!(Hour.to_nanos(i64::MAX / 1000), None);
        assert_eq!(Nanosecond.to_nanos(i64::MIN), Some(i64::MIN));
        assert_eq!(Auto.to_nanos(i64::MIN), Some(i64::MIN));
        assert_eq!(Auto.to_nanos(i64::MAX), Some(i64::MAX));
    }

    #[test]
    fn truncate_to_precision() {
        let now = 1_700_000_123_456_789_012;
        assert_eq!(Nanosecond.truncate(now), now);
        assert_eq!(Microsecond.truncate(now), 1_700_000_123_456_789_000);
        assert_eq!(Millisecond.truncate(now), 1_700_000_123_456_000_000);
        assert_eq!(Second.truncate(now), 1_700_000_123_000_000_000);
        assert_eq!(Minute.truncate(now), 1_700_000_100_000_000_000);
        assert_eq!(Auto.truncate(now), now);
    }

    #[test]
    fn every_spelling_round_trips() {
        for &(name, precision) in Precision::SPELLINGS {
            assert_eq!(Precision::from_name(name), Some(precision));
        }
        assert_eq!(Precision::from_name("NS"), None);
        assert_eq!(Precision::from_name(""), None);
    }
}
