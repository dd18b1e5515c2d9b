//! Tests of the distributions: each samples its mean and second moment, shapes meet the
//! requested cv, and bad parameters are explained.

use super::*;
use crate::engine::rng::stream;
use std::path::Path;

fn raw(toml_text: &str) -> RawDist {
    toml::from_str(toml_text).unwrap()
}

/// The sample mean of 200,000 draws lies within 4 standard errors of `mean()`, and the sample
/// second moment agrees with `second_moment()` to 5% where it exists.
fn check(d: &Dist) {
    let mut rng = stream(42, 1);
    let n = 200_000;
    let (mut s, mut s2) = (0.0, 0.0);
    for _ in 0..n {
        let x = d.sample(&mut rng);
        assert!(x >= 0.0);
        s += x;
        s2 += x * x;
    }
    let m = s / n as f64;
    let var = s2 / n as f64 - m * m;
    let se = (var / n as f64).sqrt();
    assert!(
        (m - d.mean()).abs() <= 4.0 * se + 1e-12,
        "{d:?}: sample mean {m} vs {}",
        d.mean()
    );
    let m2 = d.second_moment();
    if m2.is_finite() {
        assert!(
            ((s2 / n as f64) - m2).abs() <= 0.05 * m2 + 1e-12,
            "{d:?}: E[X^2] {} vs {m2}",
            s2 / n as f64
        );
    }
}

#[test]
fn every_distribution_samples_its_mean() {
    let here = Path::new(".");
    for text in [
        "dist='exponential'\nmean='2s'",
        "dist='deterministic'\nvalue=0.5",
        "dist='uniform'\nmin=1\nmax=3",
        "dist='normal'\nmean=1\nsd=0.8",
        "dist='lognormal'\nmean='120ms'\ncv=1.0",
        "dist='lognormal'\nmu=0.0\nsigma=0.5",
        "dist='gamma'\nmean=2\ncv=0.5",
        "dist='erlang'\nk=3\nmean=1.5",
        "dist='weibull'\nshape=1.5\nscale=2",
        "dist='weibull'\nmean=2\ncv=0.7",
        "dist='pareto'\nshape=3.5\nmean=1",
        "dist='geometric'\nmean=6",
        "dist='hyperexponential'\nmean=1\ncv=2",
        "dist='hyperexponential'\np=[0.3,0.7]\nmeans=['1s','200ms']",
    ] {
        let d = raw(text)
            .build(here)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        check(&d);
    }
}

#[test]
fn shapes_match_the_requested_cv() {
    let here = Path::new(".");
    let d = raw("dist='weibull'\nmean=2\ncv=0.7").build(here).unwrap();
    assert!((d.cv() - 0.7).abs() < 1e-6);
    let d = raw("dist='hyperexponential'\nmean=1\ncv=2")
        .build(here)
        .unwrap();
    assert!((d.cv() - 2.0).abs() < 1e-9 && (d.mean() - 1.0).abs() < 1e-12);
    let d = raw("dist='lognormal'\nmean=3\ncv=0.5").build(here).unwrap();
    assert!((d.mean() - 3.0).abs() < 1e-12 && (d.cv() - 0.5).abs() < 1e-12);
}

#[test]
fn bad_parameters_are_explained() {
    let here = Path::new(".");
    let e = raw("dist='exponental'\nmean=1").build(here).unwrap_err();
    assert!(e.contains("did you mean `exponential`"), "{e}");
    let e = raw("dist='exponential'\nmean=-1").build(here).unwrap_err();
    assert!(e.contains("greater than 0"), "{e}");
    let e = raw("dist='exponential'\ncv=1").build(here).unwrap_err();
    assert!(e.contains("not a parameter"), "{e}");
    let e = raw("dist='empirical'\nfile='no/such.csv'")
        .build(here)
        .unwrap_err();
    assert!(e.contains("cannot read samples file"), "{e}");
}

#[test]
fn a_samples_file_past_the_cap_is_refused_before_it_is_read() {
    // A hole of NULs (a sparse file: no disk used), as `copytruncate` leaves them: read whole,
    // 4 GiB without a newline was one CSV record of 4 GiB in memory.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("samples.csv");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let e = raw("dist='empirical'\nfile='samples.csv'")
        .build(dir.path())
        .unwrap_err();
    assert!(
        e.contains("is 4294967296 bytes") && e.contains("at most 256 MiB"),
        "{e}"
    );
}
