//! Quantities with units as they appear in model files: durations (`"120ms"`, `"1h30m"`,
//! `"10 seconds"`, `"1 hour 30 minutes"`, or a plain number of seconds), sizes (`"512MiB"`,
//! `"4GiB"`, or plain bytes), clock times (`"18:00"`), and numbers that must be positive,
//! non-negative or probabilities. Each type checks its value while it is read, so a bad value is
//! reported at its place in the file.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Parse a duration: a number (seconds) followed by a unit, possibly several (`"1h30m"`).
pub(crate) fn parse_duration(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("an empty string is not a duration".into());
    }
    if let Ok(v) = t.parse::<f64>() {
        return check_span(v);
    }
    if t.starts_with('-') {
        return Err(format!("a duration cannot be negative (got `{s}`)"));
    }
    let mut total = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = number_len(rest);
        if num_len == 0 {
            return Err(format!("`{s}` is not a duration"));
        }
        let num: f64 = rest[..num_len]
            .replace('_', "")
            .parse()
            .map_err(|_| format!("`{}` in `{s}` is not a number", &rest[..num_len]))?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let scale = match time_unit(unit) {
            Some(scale) => scale,
            None if unit.is_empty() => {
                return Err(format!(
                    "`{s}` needs a unit after {num} (ms, s, min, h or d; or words: seconds, minutes, hours)"
                ));
            }
            None => {
                return Err(format!(
                    "unknown time unit `{unit}` in `{s}` (use ns, us, ms, s, min, h, d or w, or the words: milliseconds, seconds, minutes, hours, days, weeks)"
                ));
            }
        };
        total += num * scale;
        rest = rest[unit_len..].trim_start();
        // "1 hour, 30 minutes" and "1 hour and 30 minutes" read as "1 hour 30 minutes".
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        if let Some(after) = rest.strip_prefix("and")
            && after.starts_with(|c: char| c.is_whitespace() || c.is_ascii_digit())
        {
            rest = after.trim_start();
        }
    }
    if total.is_infinite() {
        return Err(format!("`{s}` is too long to be a duration (it overflows)"));
    }
    check_span(total)
}

/// Seconds in one `unit`: the short forms (`ms`, `s`, `m`, `min`, `h`, `d`) and the words people
/// type, singular or plural, in any case (`second`, `Seconds`, `mins`, `hours`, `days`).
pub(crate) fn time_unit(unit: &str) -> Option<f64> {
    let u = unit.to_lowercase();
    let scale = match u.as_str() {
        "ns" | "nsec" | "nsecs" | "nanosecond" | "nanoseconds" => 1e-9,
        "us" | "µs" | "usec" | "usecs" | "microsecond" | "microseconds" => 1e-6,
        "ms" | "msec" | "msecs" | "milli" | "millis" | "millisecond" | "milliseconds" => 1e-3,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "wk" | "wks" | "week" | "weeks" => 604_800.0,
        _ => return None,
    };
    Some(scale)
}

/// Length of the number at the start of `s`: digits, `.`, `_`, and an exponent (`1e6`, `2.5E-3`)
/// when digits follow the `e`.
fn number_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n = b
        .iter()
        .position(|c| !(c.is_ascii_digit() || *c == b'.' || *c == b'_'))
        .unwrap_or(b.len());
    if n > 0 && n < b.len() && (b[n] == b'e' || b[n] == b'E') {
        let mut k = n + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let digits = b[k..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 {
            n = k + digits;
        }
    }
    n
}

/// The longest duration the simulator's clock holds: 2^63 nanoseconds (292 years). Longer ones
/// overflow it and are refused, wherever they are used (a horizon, a timeout, a wall-clock
/// budget), rather than silently clamped.
pub(crate) const MAX_DURATION_S: f64 = 9_223_372_036.0;

fn check_span(v: f64) -> Result<f64, String> {
    if !v.is_finite() {
        Err("a duration must be finite".into())
    } else if v < 0.0 {
        Err(format!("a duration cannot be negative (got {v} s)"))
    } else if v > MAX_DURATION_S {
        Err(format!(
            "{v:e} s is too long to be a duration (it overflows the simulator's clock: at most \
             {MAX_DURATION_S:e} s, 292 years)"
        ))
    } else {
        Ok(v)
    }
}

/// Parse a size in bytes: `"512MiB"`, `"4GiB"`, `"4GB"`, `"100kB"`, or a plain number.
pub(crate) fn parse_size(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let split = number_len(t);
    if split == 0 {
        return Err(format!(
            "`{s}` is not a size (expected e.g. \"512MiB\" or \"4GiB\")"
        ));
    }
    let num: f64 = t[..split]
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{s}` is not a size"))?;
    let unit = t[split..].trim();
    let scale = match unit {
        "" | "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0_f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{s}` (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)"
            ));
        }
    };
    let v = num * scale;
    if !v.is_finite() || v > 1e18 {
        return Err(format!("size `{s}` is absurdly large"));
    }
    Ok(v)
}

/// Parse a clock time `"HH:MM"` or `"HH:MM:SS"` into seconds after midnight.
pub(crate) fn parse_clock(s: &str) -> Result<f64, String> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    let bad = || format!("`{s}` is not a clock time (expected \"HH:MM\" or \"HH:MM:SS\")");
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut v = [0u32; 3];
    for (i, p) in parts.iter().enumerate() {
        v[i] = p.parse().map_err(|_| bad())?;
    }
    if v[0] > 23 || v[1] > 59 || v[2] > 59 {
        return Err(bad());
    }
    Ok(f64::from(v[0] * 3600 + v[1] * 60 + v[2]))
}

/// A number read from TOML as integer or float (strings rejected).
fn number_visitor<'de, D: Deserializer<'de>>(d: D, what: &'static str) -> Result<f64, D::Error> {
    struct V(&'static str);
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
    }
    d.deserialize_any(V(what))
}

/// A duration in seconds, non-negative and finite.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub(crate) struct Duration(pub f64);

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECT: &str = "a duration such as \"120ms\", \"30s\", \"10 seconds\", \"1 hour 30 minutes\" or a number of seconds";
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(EXPECT)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
                check_span(v).map(Duration).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v)
                    .map(Duration)
                    .map_err(|m| E::custom(format!("{m}; expected {EXPECT}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub(crate) struct Size(pub f64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"512MiB\" or \"4GiB\", or a number of bytes")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Size, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Size, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Size, E> {
                if v.is_finite() && (0.0..=1e18).contains(&v) {
                    Ok(Size(v))
                } else {
                    Err(E::custom(format!(
                        "a size must be between 0 and 1e18 bytes, got {v}"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Size, E> {
                parse_size(v).map(Size).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A clock time of day, seconds after midnight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Clock(pub f64);

impl<'de> Deserialize<'de> for Clock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_clock(&s).map(Clock).map_err(de::Error::custom)
    }
}

macro_rules! checked_number {
    ($name:ident, $expect:literal, $ok:expr) => {
        #[doc = concat!("A number that must be ", $expect, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
        pub(crate) struct $name(pub(crate) f64);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = number_visitor(d, concat!("a number ", $expect))?;
                let ok: fn(f64) -> bool = $ok;
                if v.is_finite() && ok(v) {
                    Ok($name(v))
                } else {
                    Err(de::Error::custom(format!(
                        concat!("expected a number ", $expect, ", got {}"),
                        v
                    )))
                }
            }
        }
    };
}

checked_number!(Positive, "greater than 0", |v| v > 0.0);
checked_number!(NonNegative, "at least 0", |v| v >= 0.0);
checked_number!(Probability, "between 0 and 1", |v| (0.0..=1.0).contains(&v));

/// A whole number that must be at least 1 (instances, threads, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Count(pub u32);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        whole(d, 1).map(Count)
    }
}

/// A whole number that may be 0 (queue places, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Places(pub u32);

impl<'de> Deserialize<'de> for Places {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        whole(d, 0).map(Places)
    }
}

fn whole<'de, D: Deserializer<'de>>(d: D, min: u32) -> Result<u32, D::Error> {
    let what = if min == 0 {
        "a whole number, 0 or more"
    } else {
        "a whole number, 1 or more"
    };
    let v = number_visitor(d, what)?;
    if v.fract() != 0.0 || !v.is_finite() {
        return Err(de::Error::custom(format!("expected {what}, got {v}")));
    }
    if v < f64::from(min) {
        return Err(de::Error::custom(format!("expected {what}, got {v}")));
    }
    if v > 10_000_000.0 {
        return Err(de::Error::custom(format!(
            "{v} is absurdly large (at most 10,000,000)"
        )));
    }
    Ok(v as u32)
}

/// A number or a duration string, for distribution parameters (a mean may be `"30s"` or `6`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quantity(pub f64);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a duration such as \"30s\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                if v.is_finite() {
                    Ok(Quantity(v))
                } else {
                    Err(E::custom(format!("expected a finite number, got {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                parse_duration(v).map(Quantity).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("120ms"), Ok(0.12));
        assert_eq!(parse_duration("1h30m"), Ok(5400.0));
        assert_eq!(parse_duration("2.5"), Ok(2.5));
        assert_eq!(parse_duration("1d"), Ok(86_400.0));
        assert!(
            parse_duration("5 parsecs")
                .unwrap_err()
                .contains("unknown time unit")
        );
        assert!(parse_duration("5").is_ok());
        assert!(parse_duration("-3s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("h").is_err());
        assert_eq!(parse_duration("30d"), Ok(2_592_000.0));
        assert_eq!(parse_duration("1.5e3ms"), Ok(1.5));
        assert!(parse_duration("1e400d").unwrap_err().contains("overflows"));
        assert!(parse_duration("1e308s").unwrap_err().contains("overflows"));
        assert!(parse_duration("1e308").unwrap_err().contains("overflows"));
        assert_eq!(parse_duration("292y").ok(), None);
        assert!(parse_duration("100w").is_ok());
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(parse_duration("10 seconds"), Ok(10.0));
        assert_eq!(parse_duration("1 second"), Ok(1.0));
        assert_eq!(parse_duration("10seconds"), Ok(10.0));
        assert_eq!(parse_duration("1 hour"), Ok(3600.0));
        assert_eq!(parse_duration("2 minutes"), Ok(120.0));
        assert_eq!(parse_duration("1 minute"), Ok(60.0));
        assert_eq!(parse_duration("1.5 hours"), Ok(5400.0));
        assert_eq!(parse_duration("500 milliseconds"), Ok(0.5));
        assert_eq!(parse_duration("3 days"), Ok(259_200.0));
        assert_eq!(parse_duration("1 day"), Ok(86_400.0));
        assert_eq!(parse_duration("1 hour 30 minutes"), Ok(5400.0));
        assert_eq!(parse_duration("1 hour, 30 minutes"), Ok(5400.0));
        assert_eq!(parse_duration("1 hour and 30 minutes"), Ok(5400.0));
        assert_eq!(parse_duration("2 Hours"), Ok(7200.0));
        assert_eq!(parse_duration("10 sec"), Ok(10.0));
        assert_eq!(parse_duration("1 week"), Ok(604_800.0));
        assert!(
            parse_duration("1 hour 30")
                .unwrap_err()
                .contains("needs a unit")
        );
        assert!(
            parse_duration("1 fortnight")
                .unwrap_err()
                .contains("unknown time unit")
        );
        assert!(parse_duration("1 hour and").is_err());
    }

    #[test]
    fn sizes_and_clocks() {
        assert_eq!(parse_size("4GiB"), Ok(4.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse_size("512MB"), Ok(512e6));
        assert!(parse_size("4 gigs").is_err());
        assert_eq!(parse_size("1e3MB"), Ok(1e9));
        assert!(
            parse_size("1e30GiB")
                .unwrap_err()
                .contains("absurdly large")
        );
        assert_eq!(parse_clock("18:00"), Ok(64_800.0));
        assert_eq!(parse_clock("08:30:15"), Ok(30_615.0));
        assert!(parse_clock("25:00").is_err());
    }
}
