//! Numbers, counts and durations written for people (the terminal, chart labels, messages) and
//! numbers written without noise for files. Formatting only: nothing here parses (durations and
//! sizes are read in `model::units`).

/// A duration for people: "9 h 37 min", "4 min 10 s", "850 ms".
pub fn human_duration(s: f64) -> String {
    if !s.is_finite() {
        return "-".into();
    }
    // A difference may be negative: the sign, then the magnitude in the same words.
    if s < 0.0 {
        return format!("-{}", human_duration(-s));
    }
    if s < 1.0 {
        return format!("{:.0} ms", s * 1000.0);
    }
    if s < 60.0 {
        return format!("{s:.1} s");
    }
    let m = (s / 60.0).round() as u64;
    if m < 60 {
        let sec = (s - (s / 60.0).floor() * 60.0).round() as u64;
        return if sec > 0 && m < 10 {
            format!("{} min {sec} s", (s / 60.0).floor())
        } else {
            format!("{m} min")
        };
    }
    format!("{} h {} min", m / 60, m % 60)
}

/// A duration written in full, nothing rounded away beyond a microsecond: "8 h 20 min",
/// "1 d 2 h", "1 min 30.5 s", "120 ms", "250 µs". For showing back a value as it was read.
pub(crate) fn exact_duration(s: f64) -> String {
    if !s.is_finite() {
        return "unbounded".into();
    }
    if s == 0.0 {
        return "0 s".into();
    }
    if s < 1e-3 {
        return format!("{} µs", format_number(s * 1e6));
    }
    if s < 1.0 {
        return format!("{} ms", format_number(s * 1e3));
    }
    let whole = s.trunc() as u64;
    let frac = s - s.trunc();
    let (d, h, m, sec) = (
        whole / 86_400,
        whole % 86_400 / 3600,
        whole % 3600 / 60,
        whole % 60,
    );
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} d"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if sec > 0 || frac > 1e-9 {
        parts.push(format!("{} s", format_number(sec as f64 + frac)));
    }
    parts.join(" ")
}

/// A count for people: 1,234 / 1.9 M.
/// A count with its noun, singular for exactly one: "1 request", "2,050 requests".
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        human_count(n as f64),
        if n == 1 { one } else { many }
    )
}

pub fn human_count(x: f64) -> String {
    // A difference may be negative: the sign, then the magnitude in the same words.
    if x < 0.0 && x.round() != 0.0 {
        return format!("-{}", human_count(-x));
    }
    if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else {
        let n = x.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(ch);
        }
        out
    }
}

/// A mean (already written) and the half-width of its 95% interval written by `fmt`: "59 min ±
/// 2 min"; "59 min (all alike)" where every replication gave the same value (a half-width of
/// 0); the mean alone without an interval, or where the interval rounds to nothing in `fmt`
/// (never "59 min ± 0 ms").
pub(crate) fn plus_minus(mean: String, half: f64, fmt: &dyn Fn(f64) -> String) -> String {
    if half == 0.0 {
        format!("{mean} (all alike)")
    } else if half.is_finite() && half > 0.0 && fmt(half) != fmt(0.0) {
        format!("{mean} ± {}", fmt(half))
    } else {
        mean
    }
}

/// A share (0 to 1) and the half-width of its 95% interval: `plus_minus` in percent, unless the
/// interval reaches past 0% or 100% (few replications that differ much): then the interval
/// clipped to shares, and that it is too wide to say much ("51.5% (95% interval 0.0% to
/// 100.0%, clipped: too wide to say much; more replications narrow it)"), never "51.5% ±
/// 77.0%".
pub(crate) fn share_plus_minus(mean: f64, half: f64) -> String {
    if half.is_finite() && half > 0.0 && (mean - half < 0.0 || mean + half > 1.0) {
        format!(
            "{} (95% interval {} to {}, clipped: too wide to say much; more replications \
             narrow it)",
            pct(mean),
            pct((mean - half).max(0.0)),
            pct((mean + half).min(1.0))
        )
    } else {
        plus_minus(pct(mean), half, &pct)
    }
}

/// A share as a percentage with one decimal, "<0.1%" for a share too small to show.
pub(crate) fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", 100.0 * x)
    }
}

/// A size in bytes for people: 512 bytes, 45 KiB, 1.3 GiB, 121 GiB.
pub(crate) fn human_bytes(x: f64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = x.max(0.0);
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 || v >= 10.0 {
        format!("{:.0} {}", v, units[u])
    } else {
        format!("{:.1} {}", v, units[u])
    }
}

/// A big number for people, two significant figures: 5e9 -> "5.0e9", 1.44e9 -> "1.4e9".
pub(crate) fn sci(x: f64) -> String {
    if !x.is_finite() {
        return "infinitely many".into();
    }
    let e = x.abs().max(1.0).log10().floor() as i32;
    format!("{:.1}e{e}", x / 10f64.powi(e))
}

/// `x` to `digits` significant digits, written without noise: 0.000123456 -> "0.000123",
/// 1234.5 -> "1230"; a number too small or too large for plain digits in scientific form
/// (1.23e-9, 4.56e15), never a long run of zeros; 0 as "0".
pub(crate) fn significant(x: f64, digits: u32) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_nan() {
            "-".into()
        } else {
            format_number(x)
        };
    }
    let e = x.abs().log10().floor() as i32;
    if !(-4..15).contains(&e) {
        let d = digits.saturating_sub(1) as usize;
        let m = format!("{:.d$e}", x);
        // "1.20e-9" -> "1.2e-9": the mantissa without trailing zeros.
        return match m.split_once('e') {
            Some((mant, exp)) if mant.contains('.') => {
                format!("{}e{exp}", mant.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => m,
        };
    }
    let scale = 10f64.powi(digits as i32 - 1 - e);
    let r = (x * scale).round() / scale;
    let decimals = (digits as i32 - 1 - e).max(0) as usize;
    let s = format!("{r:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A number written without noise: 12, 0.25, 1.3333333.
pub fn format_number(x: f64) -> String {
    let s = format!("{:.9}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_numbers() {
        assert_eq!(sci(5e9), "5.0e9");
        assert_eq!(sci(1.44e9), "1.4e9");
        assert_eq!(sci(f64::INFINITY), "infinitely many");
    }

    #[test]
    fn exact_durations() {
        assert_eq!(exact_duration(30_000.0), "8 h 20 min");
        assert_eq!(exact_duration(5400.0), "1 h 30 min");
        assert_eq!(exact_duration(90.5), "1 min 30.5 s");
        assert_eq!(exact_duration(0.12), "120 ms");
        assert_eq!(exact_duration(0.00025), "250 µs");
        assert_eq!(exact_duration(93_600.0), "1 d 2 h");
        assert_eq!(exact_duration(30.0), "30 s");
        assert_eq!(exact_duration(0.0), "0 s");
    }

    #[test]
    fn an_interval_of_nothing_is_not_written() {
        // Every replication down for 59 min: not "59 min ± 0 ms".
        assert_eq!(
            plus_minus(human_duration(3540.0), 0.0, &human_duration),
            "59 min (all alike)"
        );
        assert_eq!(
            plus_minus(human_duration(3540.0), 120.0, &human_duration),
            "59 min ± 2 min"
        );
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        assert_eq!(plus_minus(pct(0.773), 0.0001, &pct), "77.3%");
        assert_eq!(plus_minus(pct(0.773), f64::NAN, &pct), "77.3%");
        // A share's interval is never printed past 0% or 100% (issue 29: "51.5% ± 77.0%").
        assert_eq!(
            share_plus_minus(0.515, 0.77),
            "51.5% (95% interval 0.0% to 100.0%, clipped: too wide to say much; more \
             replications narrow it)"
        );
        assert_eq!(
            share_plus_minus(0.95, 0.08),
            "95.0% (95% interval 87.0% to 100.0%, clipped: too wide to say much; more replications narrow it)"
        );
        assert_eq!(share_plus_minus(0.515, 0.02), "51.5% ± 2.0%");
    }

    #[test]
    fn significant_digits_never_print_a_run_of_zeros() {
        assert_eq!(significant(0.0, 3), "0");
        assert_eq!(significant(1.23456e-9, 3), "1.23e-9");
        assert_eq!(significant(1.0e-9, 3), "1e-9");
        assert_eq!(significant(0.000123456, 3), "0.000123");
        assert_eq!(significant(0.125, 3), "0.125");
        assert_eq!(significant(2.0 / 3.0, 3), "0.667");
        assert_eq!(significant(-5.3333333, 3), "-5.33");
        assert_eq!(significant(1234.5, 3), "1230");
        assert_eq!(significant(12.0, 3), "12");
        assert_eq!(significant(4.56e15, 3), "4.56e15");
    }

    #[test]
    fn counts_and_numbers() {
        assert_eq!(human_count(1234.0), "1,234");
        assert_eq!(human_count(1_900_000.0), "1.9 M");
        assert_eq!(format_number(0.25), "0.25");
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(human_duration(0.85), "850 ms");
        assert_eq!(human_duration(250.0), "4 min 10 s");
        assert_eq!(human_bytes(512.0), "512 bytes");
        assert_eq!(human_bytes(46_080.0), "45 KiB");
        assert_eq!(human_bytes(1.3 * 1024.0 * 1024.0 * 1024.0), "1.3 GiB");
    }
}

#[cfg(test)]
mod negative_tests {
    use super::*;

    #[test]
    fn differences_below_zero_keep_their_sign() {
        assert_eq!(human_count(-144.5e6), "-144.5 M");
        assert_eq!(human_count(-1234.0), "-1,234");
        assert_eq!(
            human_duration(-3600.0 * 9.1),
            format!("-{}", human_duration(3600.0 * 9.1))
        );
        assert_eq!(human_duration(-0.5), "-500 ms");
    }
}
