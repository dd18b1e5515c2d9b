//! Timestamps as the tools write them, to seconds since 1970-01-01 UTC: the access-log clock
//! `10/Oct/2000:13:55:36 -0700` and ISO 8601 `2000-10-10T13:55:36-07:00` (also with fractions
//! or `Z`). Epoch numbers (JMeter ms, k6 and Locust s, vegeta ns) are plain parses in the
//! format modules.

/// Days from 1970-01-01 to the civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn month(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Days in month `m` of year `y` (proleptic Gregorian): a date past it (`31/Feb`) is no date.
fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Zone offset `+hhmm`, `-hh:mm` or `Z`, in seconds east of UTC. Offsets in use run from -12:00
/// to +14:00; hours past 14 or minutes past 59 (`+9999`) are no zone.
fn zone(b: &[u8]) -> Option<i64> {
    if b == b"Z" {
        return Some(0);
    }
    let (sign, rest) = match b.first()? {
        b'+' => (1, &b[1..]),
        b'-' => (-1, &b[1..]),
        _ => return None,
    };
    let (h, m) = match rest.len() {
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// `10/Oct/2000:13:55:36 -0700` (the brackets already removed).
pub(crate) fn parse_clf(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let d = digits(&b[0..2])? as u32;
    let m = month(&b[3..6])?;
    let y = digits(&b[7..11])?;
    let hh = digits(&b[12..14])?;
    let mm = digits(&b[15..17])?;
    let ss = digits(&b[18..20])?;
    if !(1..=days_in_month(y, m)).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let z = zone(&b[21..])?;
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - z) as f64)
}

/// `2000-10-10T13:55:36-07:00`, `2000-10-10T13:55:36.123Z`, `2000-10-10 13:55:36+00:00`.
pub(crate) fn parse_iso(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let y = digits(&b[0..4])?;
    let m = digits(&b[5..7])? as u32;
    let d = digits(&b[8..10])? as u32;
    let hh = digits(&b[11..13])?;
    let mm = digits(&b[14..16])?;
    let ss = digits(&b[17..19])?;
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&m) {
        return None;
    }
    if !(1..=days_in_month(y, m)).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac = 0.0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac = format!("0.{}", &s[start..i]).parse().ok()?;
    }
    let z = zone(&b[i..])?;
    Some((days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - z) as f64 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats() {
        // 2000-10-10 20:55:36 UTC
        let utc = 971_211_336.0;
        assert_eq!(parse_clf("10/Oct/2000:13:55:36 -0700"), Some(utc));
        assert_eq!(parse_iso("2000-10-10T13:55:36-07:00"), Some(utc));
        assert_eq!(parse_iso("2000-10-10T20:55:36.5Z"), Some(utc + 0.5));
        assert_eq!(parse_clf("10/Foo/2000:13:55:36 -0700"), None);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        // No such zone, no such day: not a time (the line is skipped and quoted).
        assert_eq!(parse_clf("10/Oct/2000:13:55:36 +9999"), None);
        assert_eq!(parse_clf("10/Oct/2000:13:55:36 -1500"), None);
        assert_eq!(parse_iso("2000-10-10T13:55:36+09:99"), None);
        assert_eq!(parse_clf("31/Feb/2023:13:55:36 +0000"), None);
        assert_eq!(parse_clf("29/Feb/2023:13:55:36 +0000"), None);
        assert!(parse_clf("29/Feb/2024:13:55:36 +0000").is_some());
        assert_eq!(parse_iso("2023-04-31T00:00:00Z"), None);
        assert_eq!(parse_iso("2023-04-30T24:00:00Z"), None);
        assert!(parse_clf("14/Nov/2023:17:13:20 +1400").is_some());
    }
}

/// Seconds since 1970 as the access-log clock in UTC: `14/Nov/2023:22:13:20 +0000`.
pub(crate) fn format_clf(epoch_s: i64) -> String {
    let days = epoch_s.div_euclid(86_400);
    let tod = epoch_s.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

#[cfg(test)]
mod format_tests {
    #[test]
    fn formats_and_parses_back() {
        for t in [0_i64, 971_211_336, 1_700_000_000, 1_709_251_199] {
            assert_eq!(super::parse_clf(&super::format_clf(t)), Some(t as f64));
        }
    }
}
