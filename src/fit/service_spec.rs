//! `--service DIST` of `surge fit`: a service-time distribution given on the command line for
//! data that holds no response times (`lognormal:120ms:0.8` is a lognormal of mean 120 ms and
//! cv 0.8), turned into the model's own distribution syntax and checked by the model's own
//! rules. Also the placeholder written, marked ASSUMPTION, when there is neither `--service`
//! nor a file with response times.
//!
//! It does not fit anything: fitted services are `dists`'.

use serde::{Deserialize, Serialize};

use crate::model::dist::RawDist;

/// The forms `--service` takes, for messages.
pub(crate) const FORMS: &str = "exponential:MEAN, deterministic:VALUE, uniform:MIN:MAX, \
    lognormal:MEAN:CV, gamma:MEAN:CV, weibull:MEAN:CV, normal:MEAN:CV, \
    hyperexponential:MEAN:CV, erlang:MEAN:K or pareto:MEAN:SHAPE (durations such as 120ms or \
    0.12s; CV, K and SHAPE plain numbers)";

/// The placeholder service when nothing says what it is.
pub(crate) const ASSUMED: &str = "lognormal:100ms:1";

/// A service time given rather than fitted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServiceSpec {
    /// As given: `lognormal:120ms:0.8`.
    pub spec: String,
    pub dist: String,
    pub mean_s: f64,
    pub cv: f64,
    /// The model's inline table: `{ dist = "lognormal", mean = "120ms", cv = 0.8 }`.
    pub toml: String,
}

/// Whether `s` is a plain number.
fn number(s: &str, what: &str, spec: &str) -> Result<String, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(format!("{x}")),
        _ => Err(format!(
            "--service {spec}: {what} `{s}` is not a number; the forms are {FORMS}"
        )),
    }
}

/// A duration as the model writes it (a quoted string, its unit checked by the model); a plain
/// number is refused: `120` could be seconds or milliseconds, and the two are 1000 times apart.
fn duration(s: &str, spec: &str) -> Result<String, String> {
    let t = s.trim();
    if t.parse::<f64>().is_ok() {
        return Err(format!(
            "--service {spec}: `{t}` has no unit: write {t}ms or {t}s (the forms are {FORMS})"
        ));
    }
    Ok(format!("\"{}\"", t.replace(['"', '\\'], "")))
}

/// Parse `--service`: `NAME:A[:B]` as listed in [`FORMS`].
pub(crate) fn parse(spec: &str) -> Result<ServiceSpec, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let name = parts[0].trim().to_ascii_lowercase();
    let args = &parts[1..];
    let want = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "--service {spec}: {name} takes {n} value{} after its name; the forms are {FORMS}",
                if n == 1 { "" } else { "s" }
            ))
        }
    };
    let toml = match name.as_str() {
        "exponential" => {
            want(1)?;
            format!(
                "{{ dist = \"exponential\", mean = {} }}",
                duration(args[0], spec)?
            )
        }
        "deterministic" => {
            want(1)?;
            format!(
                "{{ dist = \"deterministic\", value = {} }}",
                duration(args[0], spec)?
            )
        }
        "uniform" => {
            want(2)?;
            format!(
                "{{ dist = \"uniform\", min = {}, max = {} }}",
                duration(args[0], spec)?,
                duration(args[1], spec)?
            )
        }
        "lognormal" | "gamma" | "weibull" | "normal" | "hyperexponential" => {
            want(2)?;
            format!(
                "{{ dist = \"{name}\", mean = {}, cv = {} }}",
                duration(args[0], spec)?,
                number(args[1], "the cv", spec)?
            )
        }
        "erlang" => {
            want(2)?;
            format!(
                "{{ dist = \"erlang\", mean = {}, k = {} }}",
                duration(args[0], spec)?,
                args[1].trim().parse::<u32>().map_err(|_| format!(
                    "--service {spec}: the phases k `{}` are not a whole number; the forms are {FORMS}",
                    args[1]
                ))?
            )
        }
        "pareto" => {
            want(2)?;
            format!(
                "{{ dist = \"pareto\", mean = {}, shape = {} }}",
                duration(args[0], spec)?,
                number(args[1], "the shape", spec)?
            )
        }
        _ => {
            return Err(format!(
                "--service {spec}: unknown distribution `{name}`; the forms are {FORMS}"
            ));
        }
    };
    #[derive(serde::Deserialize)]
    struct One {
        d: RawDist,
    }
    let raw: One = toml::from_str(&format!("d = {toml}"))
        .map_err(|e| format!("--service {spec}: {}", e.message()))?;
    let dist = raw
        .d
        .build(std::path::Path::new("."))
        .map_err(|e| format!("--service {spec}: {e}"))?;
    let (mean_s, cv) = (dist.mean(), dist.cv());
    if !(mean_s > 0.0 && mean_s.is_finite()) {
        return Err(format!(
            "--service {spec}: the mean must be above 0 and finite (got {mean_s} s)"
        ));
    }
    Ok(ServiceSpec {
        spec: spec.to_string(),
        dist: name,
        mean_s,
        cv,
        toml,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_errors() {
        let s = parse("lognormal:120ms:0.8").unwrap();
        assert!((s.mean_s - 0.12).abs() < 1e-12 && (s.cv - 0.8).abs() < 1e-9);
        assert_eq!(
            s.toml,
            r#"{ dist = "lognormal", mean = "120ms", cv = 0.8 }"#
        );
        assert!((parse("exponential:0.25s").unwrap().mean_s - 0.25).abs() < 1e-12);
        assert_eq!(
            parse("lognormal:120:0.8").unwrap_err(),
            format!(
                "--service lognormal:120:0.8: `120` has no unit: write 120ms or 120s (the forms are {FORMS})"
            )
        );
        assert!((parse("erlang:1s:4").unwrap().cv - 0.5).abs() < 1e-9);
        assert!((parse("uniform:100ms:300ms").unwrap().mean_s - 0.2).abs() < 1e-12);
        for bad in [
            "lognormal:120ms",
            "lognorma:120ms:1",
            "gamma:120ms:x",
            "exponential:12 parsecs",
            "exponential:-1s",
            "exponential:0.25",
            "uniform:100ms:300",
            "",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with(&format!("--service {bad}:")), "{e}");
        }
        assert!(parse("lognormal").unwrap_err().contains("the forms are"));
    }
}
