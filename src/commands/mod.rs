//! One file per command: each reads its arguments, calls the experiment and output modules,
//! and prints what a planner needs to see.

pub mod bench;
pub mod check;
pub mod crashpoint;
pub mod fit;
pub mod merge;
pub mod plot;
pub mod run;
pub mod sweep;

use std::path::PathBuf;

use crate::model::Model;

/// The output folder of `command` for `model`: `--out`, or `outputs/<model name>/<command>/`.
pub fn out_dir(out: &Option<PathBuf>, model: &Model, command: &str) -> PathBuf {
    out.clone().unwrap_or_else(|| {
        PathBuf::from("outputs")
            .join(&model.scenario.name)
            .join(command)
    })
}

/// A duration for people: "9 h 37 min", "4 min 10 s", "850 ms".
pub fn human_duration(s: f64) -> String {
    if !s.is_finite() {
        return "-".into();
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

/// A count for people: 1,234 / 1.9 M.
pub fn human_count(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.1} M", x / 1e6)
    } else {
        let n = x.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    }
}
