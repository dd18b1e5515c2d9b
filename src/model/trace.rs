//! Recorded traffic: the CSV file of a `kind = "trace"` source, read and checked when the model
//! is loaded so that a bad file is reported with its own line number. Two shapes are accepted,
//! told apart by the header:
//!
//! - `time`: one arrival per row, at that many seconds after t = 0 (a plain number or a duration
//!   such as `"1.5s"`), never decreasing;
//! - `start,count`: per-bucket counts; bucket i runs from its `start` to the next row's (the last
//!   bucket is as long as the one before it), and its `count` arrivals are spread uniformly
//!   inside it when the run replays them (seeded, so deterministic).
//!
//! Replaying is `system::arrivals`' business; this file only reads and checks.

use std::path::Path;
use std::sync::Arc;

use super::units::parse_duration;

/// Most arrivals one bucket may hold (more is a typo or a unit mix-up, not a trace).
const MAX_COUNT: f64 = 1e12;

/// A checked trace.
#[derive(Debug, Clone, PartialEq)]
pub enum Trace {
    /// Arrival instants in seconds, non-decreasing.
    Times(Arc<[f64]>),
    /// Buckets `(start_s, end_s, count)`, in order, not overlapping.
    Buckets(Arc<[(f64, f64, u64)]>),
}

impl Trace {
    /// Arrivals in `[0, horizon_s)`.
    pub fn count_before(&self, horizon_s: f64) -> f64 {
        match self {
            Trace::Times(t) => t.partition_point(|x| *x < horizon_s) as f64,
            Trace::Buckets(b) => b
                .iter()
                .map(|&(s, e, n)| {
                    if e <= horizon_s {
                        n as f64
                    } else if s >= horizon_s {
                        0.0
                    } else {
                        n as f64 * (horizon_s - s) / (e - s)
                    }
                })
                .sum(),
        }
    }

    /// Arrivals per second over `[0, horizon_s)`.
    pub fn mean_rate(&self, horizon_s: f64) -> f64 {
        self.count_before(horizon_s) / horizon_s
    }

    /// Arrivals per second in the busiest stretch before `horizon_s`: the busiest bucket of a
    /// per-bucket trace, or the busiest `window_s` (counted from t = 0) of a trace of instants.
    pub fn peak_rate(&self, horizon_s: f64, window_s: f64) -> f64 {
        match self {
            Trace::Times(times) => {
                let windows = (horizon_s / window_s).ceil().max(1.0) as usize;
                (0..windows)
                    .map(|k| {
                        let (a, b) = (k as f64 * window_s, (k as f64 + 1.0) * window_s);
                        let b = b.min(horizon_s);
                        let n =
                            times.partition_point(|x| *x < b) - times.partition_point(|x| *x < a);
                        n as f64 / (b - a)
                    })
                    .fold(0.0, f64::max)
            }
            Trace::Buckets(b) => b
                .iter()
                .filter(|(s, e, _)| *s < horizon_s && e > s)
                .map(|&(s, e, n)| n as f64 / (e - s))
                .fold(0.0, f64::max),
        }
    }
}

/// Read and check the trace at `path` (`shown` names it in messages).
pub(crate) fn read(path: &Path) -> Result<Trace, String> {
    let shown = path.display().to_string();
    regular_file(path).map_err(|e| format!("cannot read trace file {shown}: {e}"))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| format!("cannot read trace file {shown}: {}", plain(&e)))?;
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("{shown}:1: cannot read the header: {}", plain(&e)))?
        .iter()
        .map(str::to_string)
        .collect();
    let expected =
        "expected a header of `time` (arrival instants) or `start,count` (per-bucket counts)";
    let cols: Vec<&str> = header.iter().map(String::as_str).collect();
    let trace = match cols.as_slice() {
        ["time"] | ["time_s"] => read_times(&mut rdr, &shown)?,
        ["start", "count"] | ["start_s", "count"] => read_buckets(&mut rdr, &shown)?,
        [] | [""] => return Err(format!("{shown}:1: the file is empty; {expected}")),
        _ => {
            return Err(format!(
                "{shown}:1: unknown header `{}`; {expected}",
                header.join(",")
            ));
        }
    };
    if trace.count_before(f64::INFINITY) == 0.0 {
        return Err(format!("{shown} holds no arrivals"));
    }
    Ok(trace)
}

/// Files a model may name: regular files of at most 4 GiB (not a device such as /dev/zero,
/// which would be read for ever).
pub(crate) fn regular_file(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > 4 << 30 {
        return Err(format!("it is {} bytes, more than 4 GiB", meta.len()));
    }
    Ok(())
}

/// The csv crate's message without its own position (we give ours).
fn plain(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "the row has {len} field{} but the header has {expected_len}",
            if *len == 1 { "" } else { "s" }
        ),
        _ => e.to_string().replace('\n', " "),
    }
}

fn rows(
    rdr: &mut csv::Reader<std::fs::File>,
    shown: &str,
) -> impl Iterator<Item = Result<(usize, csv::StringRecord), String>> {
    rdr.records().enumerate().map(move |(i, rec)| {
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i + 2, |p| p.line() as usize);
        rec.map(|r| (line, r))
            .map_err(|e| format!("{shown}:{}: {}", i + 2, plain(&e)))
    })
}

fn seconds(cell: &str, what: &str, shown: &str, line: usize) -> Result<f64, String> {
    let v = parse_duration(cell)
        .map_err(|e| format!("{shown}:{line}: `{cell}` is not {what} in seconds ({e})"))?;
    if v > 400.0 * 86_400.0 {
        return Err(format!(
            "{shown}:{line}: {what} {v} s is absurdly late (at most 400 days)"
        ));
    }
    Ok(v)
}

fn read_times(rdr: &mut csv::Reader<std::fs::File>, shown: &str) -> Result<Trace, String> {
    let mut times = Vec::new();
    let mut last = 0.0_f64;
    for row in rows(rdr, shown) {
        let (line, rec) = row?;
        let t = seconds(rec.get(0).unwrap_or(""), "an arrival time", shown, line)?;
        if t < last {
            return Err(format!(
                "{shown}:{line}: arrival time {t} s comes before the one above it ({last} s): times must not decrease"
            ));
        }
        last = t;
        times.push(t);
    }
    Ok(Trace::Times(times.into()))
}

fn read_buckets(rdr: &mut csv::Reader<std::fs::File>, shown: &str) -> Result<Trace, String> {
    let mut starts: Vec<(f64, u64, usize)> = Vec::new();
    for row in rows(rdr, shown) {
        let (line, rec) = row?;
        let start = seconds(rec.get(0).unwrap_or(""), "a bucket start", shown, line)?;
        let cell = rec.get(1).unwrap_or("");
        let count: f64 = cell
            .replace('_', "")
            .parse()
            .ok()
            .filter(|c: &f64| c.is_finite() && *c >= 0.0 && c.fract() == 0.0)
            .ok_or_else(|| {
                format!("{shown}:{line}: count `{cell}` is not a whole number, 0 or more")
            })?;
        if count > MAX_COUNT {
            return Err(format!(
                "{shown}:{line}: count {count} is absurdly large (at most 1e12 in a bucket)"
            ));
        }
        if let Some(&(prev, _, _)) = starts.last()
            && start <= prev
        {
            return Err(format!(
                "{shown}:{line}: bucket start {start} s is not after the one above it ({prev} s): starts must increase"
            ));
        }
        starts.push((start, count as u64, line));
    }
    if starts.len() < 2 {
        return Err(format!(
            "{shown}: a per-bucket trace needs at least two rows (the last bucket is as long as the one before it)"
        ));
    }
    let mut buckets = Vec::with_capacity(starts.len());
    for (i, &(s, n, _)) in starts.iter().enumerate() {
        let e = match starts.get(i + 1) {
            Some(next) => next.0,
            None => s + (s - starts[i - 1].0),
        };
        buckets.push((s, e, n));
    }
    Ok(Trace::Buckets(buckets.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Trace, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        read(&p).map_err(|e| e.replace(&p.display().to_string(), "t.csv"))
    }

    #[test]
    fn both_shapes_read() {
        let t = read_text("time\n0.5\n1\n1\n2.5s\n").unwrap();
        assert_eq!(t, Trace::Times(vec![0.5, 1.0, 1.0, 2.5].into()));
        assert_eq!(t.count_before(2.0), 3.0);
        let b = read_text("start,count\n0,10\n60,20\n").unwrap();
        assert_eq!(
            b,
            Trace::Buckets(vec![(0.0, 60.0, 10), (60.0, 120.0, 20)].into())
        );
        assert_eq!(b.count_before(90.0), 20.0);
    }

    #[test]
    fn bad_files_name_their_line() {
        let e = read_text("time\n1\n0.5\n").unwrap_err();
        assert!(
            e.starts_with("t.csv:3:") && e.contains("must not decrease"),
            "{e}"
        );
        let e = read_text("time\n1\nsoon\n").unwrap_err();
        assert!(e.starts_with("t.csv:3:") && e.contains("`soon`"), "{e}");
        let e = read_text("when\n1\n").unwrap_err();
        assert!(e.starts_with("t.csv:1:") && e.contains("header"), "{e}");
        let e = read_text("start,count\n0,5\n60,-2\n").unwrap_err();
        assert!(
            e.starts_with("t.csv:3:") && e.contains("whole number"),
            "{e}"
        );
        let e = read_text("start,count\n0,5\n60\n").unwrap_err();
        assert!(e.starts_with("t.csv:3:"), "{e}");
        let e = read_text("time\n").unwrap_err();
        assert!(e.contains("no arrivals"), "{e}");
        assert!(read_text("").unwrap_err().contains("empty"));
    }
}
