//! Helpers shared by the `surge fit` tests (tests/it/fit*.rs): `surge fit` run with its
//! fit.json, a relative tolerance, a JSON number, and a fitted model turned into one that
//! replays its `arrivals.csv` as a trace. Not for running models: that is `common`'s.

use crate::common::{assert_success, read_json, repo_file, surge};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// `got` lies within the relative tolerance `tol` of `want`; else fail naming `what`.
pub(crate) fn within(got: f64, want: f64, tol: f64, what: &str) {
    let rel = (got - want).abs() / want.abs();
    assert!(
        rel <= tol,
        "{what}: got {got}, want {want} within {:.1}% (off {:.2}%)",
        tol * 100.0,
        rel * 100.0
    );
}

/// A JSON number, or fail showing the value.
pub(crate) fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The fitted `model` (model.toml's text) with each source line `kind = "K"` for K in `kinds`
/// replaced by the trace of its `arrivals.csv`, and the lines starting with any of `dropped`
/// (the keys a trace source does not take) emptied.
pub(crate) fn traced(model: &str, kinds: &[&str], dropped: &[&str]) -> String {
    model
        .lines()
        .map(|l| {
            if kinds.iter().any(|k| l == format!("kind = \"{k}\"")) {
                "kind = \"trace\"\nfile = \"arrivals.csv\"".to_string()
            } else if dropped.iter().any(|k| l.starts_with(k)) {
                String::new()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A file of the real corpus, tests/fit-data/real/NAME.
pub(crate) fn real(name: &str) -> PathBuf {
    repo_file("tests/fit-data/real").join(name)
}

/// `surge fit FILES EXTRA --out OUT`: its output, whatever the outcome.
pub(crate) fn fit_output(files: &[&Path], out: &Path, extra: &[&str]) -> Output {
    surge()
        .arg("fit")
        .args(files)
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// `surge fit FILES EXTRA --out OUT`, checked to succeed: fit.json and the terminal output.
pub(crate) fn fit_with_stdout(files: &[&Path], extra: &[&str], out: &Path) -> (Value, String) {
    let o = fit_output(files, out, extra);
    assert_success(&o);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    (read_json(&out.join("fit.json")), stdout)
}

/// `fit_with_stdout`, and the model.toml it wrote: (fit.json, model.toml, terminal output).
pub(crate) fn fit_model(files: &[&Path], extra: &[&str], out: &Path) -> (Value, String, String) {
    let (json, stdout) = fit_with_stdout(files, extra, out);
    let model = std::fs::read_to_string(out.join("model.toml"))
        .unwrap_or_else(|e| panic!("no model.toml in {}: {e}", out.display()));
    (json, model, stdout)
}
