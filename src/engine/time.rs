//! Simulated time as integer nanoseconds: totally ordered, exact to add, and fine enough for a
//! horizon of centuries (u64 nanoseconds reach 584 years), so a 30-day run keeps nanosecond
//! resolution.

/// A point in simulated time, or a span, in nanoseconds since t = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(pub u64);

pub(crate) const NANOS_PER_S: f64 = 1e9;
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

impl Time {
    pub const ZERO: Time = Time(0);
    pub const MAX: Time = Time(u64::MAX);

    /// From seconds; negative or NaN becomes 0, huge values saturate.
    #[inline]
    pub fn from_secs(s: f64) -> Time {
        // `as` saturates for floats: NaN -> 0, negative -> 0, too large -> u64::MAX. Adding a
        // half and truncating rounds to the nearest nanosecond without a libm call (`round` is
        // not an instruction on baseline x86-64, and this sits on every scheduled event).
        let x = s * NANOS_PER_S + 0.5;
        if (0.0..TWO_POW_63).contains(&x) {
            // SAFETY: `x` is finite and in [0, 2^63), so its integer part fits an i64. This is
            // what `as u64` gives too, without its saturation checks (every scheduled event
            // comes through here).
            Time(unsafe { x.to_int_unchecked::<i64>() } as u64)
        } else {
            Time(saturating_ns(x))
        }
    }

    #[inline]
    pub fn secs(self) -> f64 {
        ns_as_f64(self.0) / NANOS_PER_S
    }

    /// `self + span`, saturating at `Time::MAX`.
    #[inline]
    pub fn after(self, span_s: f64) -> Time {
        Time(self.0.saturating_add(Time::from_secs(span_s).0))
    }

    /// `self - earlier` in nanoseconds (0 if earlier is later), as a float: for sums of spans
    /// that are divided once at the end rather than once per span.
    #[inline]
    pub fn nanos_since(self, earlier: Time) -> f64 {
        ns_as_f64(self.0.saturating_sub(earlier.0))
    }

    #[inline]
    pub fn since(self, earlier: Time) -> f64 {
        ns_as_f64(self.0.saturating_sub(earlier.0)) / NANOS_PER_S
    }
}

/// `ns as f64`, the same value: below 2^63 (292 years) through the signed conversion, one
/// instruction where the unsigned one takes six (this runs several times per event).
#[inline]
fn ns_as_f64(ns: u64) -> f64 {
    if ns < 1 << 63 {
        ns as i64 as f64
    } else {
        huge_ns_as_f64(ns)
    }
}

// The rare cases out of line: inlined, the compiler merges them with the common case into the
// general (slower) conversion.
#[cold]
#[inline(never)]
fn huge_ns_as_f64(ns: u64) -> f64 {
    ns as f64
}

#[cold]
#[inline(never)]
fn saturating_ns(x: f64) -> u64 {
    x as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_days_keep_sub_microsecond_resolution() {
        let thirty_days = 30.0 * 86_400.0;
        let t = Time::from_secs(thirty_days).after(0.000_000_5);
        assert_eq!(t.0 - Time::from_secs(thirty_days).0, 500);
        assert!((t.since(Time::from_secs(thirty_days)) - 5e-7).abs() < 1e-15);
    }

    #[test]
    fn microsecond_steps_near_thirty_days_are_exact() {
        let base_s = 30.0 * 86_400.0;
        let base = Time::from_secs(base_s);
        for k in 0..10_000u64 {
            let step = k as f64 * 1e-6;
            // By adding a span, and from an absolute time in seconds.
            assert_eq!(base.after(step).0 - base.0, k * 1000);
            assert_eq!(Time::from_secs(base_s + step).0 - base.0, k * 1000);
            assert!((base.after(step).since(base) - step).abs() < 1e-15);
        }
        // The longest horizon allowed (400 days) is far from the end of u64 nanoseconds.
        assert!(Time::from_secs(400.0 * 86_400.0) < Time(u64::MAX / 100));
    }

    #[test]
    fn bad_floats_saturate() {
        assert_eq!(Time::from_secs(-1.0), Time::ZERO);
        assert_eq!(Time::from_secs(f64::NAN), Time::ZERO);
        assert_eq!(Time::from_secs(f64::INFINITY), Time::MAX);
        assert_eq!(Time(5).after(f64::INFINITY), Time::MAX);
        // Either side of 2^63 ns and of u64::MAX ns, as `as u64` converts.
        for s in [
            9.2e9,
            9.223372036854775e9,
            9.3e9,
            1.8e10,
            1.8446744073709552e10,
            2e10,
        ] {
            assert_eq!(Time::from_secs(s).0, (s * 1e9 + 0.5) as u64, "{s}");
        }
        assert_eq!(Time::from_secs(-1e-10), Time::ZERO);
        assert_eq!(Time::from_secs(4e-10), Time::ZERO);
        assert_eq!(Time::from_secs(6e-10), Time(1));
        for ns in [
            0,
            1,
            (1 << 53) + 1,
            (1 << 63) - 1,
            1 << 63,
            (1 << 63) + 4097,
            u64::MAX,
        ] {
            assert_eq!(ns_as_f64(ns), ns as f64, "{ns}");
            assert_eq!(Time(ns).secs(), ns as f64 / 1e9, "{ns}");
        }
    }
}
