//! The group advance against exact results, and against the one-by-one path.

use super::super::World;
use crate::model::Model;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::Path;

/// What one run measured, after its warm-up.
#[derive(Debug, Clone, Copy)]
struct Run {
    offered: f64,
    rejected: f64,
    succeeded: f64,
    users_mean: f64,
    users_peak: f64,
    downtime_s: f64,
    episodes: f64,
    /// Requests refused through the group advance.
    grouped: f64,
}

fn run(model: &Model, seed: u64, grouped: bool) -> Run {
    let mut w = World::new(model, seed);
    w.one_by_one = !grouped;
    crate::system::run_to_end(&mut w);
    let sc = &model.scenario;
    let span_s = sc.duration_s - sc.warmup_s;
    let outage =
        crate::metrics::outage::detect(&w.metrics.series, &model.slo, sc.warmup_s, sc.duration_s);
    let t = &w.metrics.totals;
    Run {
        offered: t.attempts.offered as f64,
        rejected: t.attempts.rejected as f64,
        succeeded: t.attempts.succeeded as f64,
        users_mean: w.metrics.users.mean(span_s),
        users_peak: w.metrics.users.peak,
        downtime_s: outage.downtime_s,
        episodes: f64::from(outage.episodes),
        grouped: w.group.refused as f64,
    }
}

/// Mean and half-width of the 99% t interval of `xs`.
fn interval99(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(0.995);
    (mean, t * (var / n).sqrt())
}

fn parse(text: &str) -> Model {
    crate::model::parse_text(text, "bulk.toml", Path::new(".")).unwrap()
}

/// The first tier leaves the rotation within two seconds and never comes back (every probe
/// outlasts its timeout); users arrive at a constant rate, refresh, give up and come back.
fn never_in_rotation() -> Model {
    parse(
        "[scenario]\nduration = \"40m\"\nwarmup = \"10m\"\n\
         [[source]]\nkind = \"users\"\nusers = 600\n\
         pages = { dist = \"geometric\", mean = 4 }\n\
         think = { dist = \"exponential\", mean = \"5s\" }\n\
         [[tier]]\nname = \"web\"\ninstances = 3\nthreads = 400\n\
         service = { dist = \"deterministic\", value = \"2s\" }\n\
         [tier.health_check]\ninterval = \"1s\"\ntimeout = \"500ms\"\nunhealthy_after = 1\n\
         [client]\nrefresh = 0.8\nrefresh_after = { dist = \"exponential\", mean = \"3s\" }\n\
         give_up_after = 4\n\
         return = { probability = 0.5, after = { dist = \"exponential\", mean = \"1m\" } }\n",
    )
}

/// In steady state with the first tier out of rotation, every page is refused: a session
/// (new, at rate λ, or a return, with probability q after each one) sends its first page, and
/// after its k-th failure refreshes with probability r while k < g (the g-th failure sends it
/// away), so sessions begin at λ/(1-q), each offering Σ_{k<g} r^k pages and spending
/// Σ_{1≤k<g} r^k refresh delays on the site.
#[test]
fn group_advance_gives_the_exact_refusal_rate_and_users() {
    let m = never_in_rotation();
    let s = &m.sources[0];
    let lambda = s.baseline / m.session_length_s(s);
    let (r, g, q, refresh_s) = (0.8_f64, 4, 0.5, 3.0);
    let sessions = lambda / (1.0 - q);
    let offered_rate = sessions * (0..g).map(|k| r.powi(k)).sum::<f64>();
    let users = sessions * refresh_s * (1..g).map(|k| r.powi(k)).sum::<f64>();

    let span_s = m.scenario.duration_s - m.scenario.warmup_s;
    let runs: Vec<Run> = (1..=12).map(|seed| run(&m, seed, true)).collect();
    for x in &runs {
        // Every counted request was refused, and through the group advance.
        assert_eq!(x.rejected, x.offered);
        assert!(x.grouped >= x.offered, "{x:?}");
    }
    let rates: Vec<f64> = runs.iter().map(|x| x.offered / span_s).collect();
    let means: Vec<f64> = runs.iter().map(|x| x.users_mean).collect();
    for (name, xs, exact) in [("offered/s", rates, offered_rate), ("users", means, users)] {
        let (mean, half) = interval99(&xs);
        assert!(
            (mean - exact).abs() <= half,
            "{name}: {mean} ± {half}, exact {exact}"
        );
        assert!(half < 0.01 * exact, "{name}: {mean} ± {half} too wide");
    }
}

/// One web server whose probes pass two times in three (service Exp(0.5 s), timeout 0.5 s):
/// the tier leaves the rotation and comes back every few seconds, and users keep reading,
/// refreshing and leaving; outages are judged over a one-minute window.
fn flapping() -> Model {
    parse(
        "[scenario]\nduration = \"30m\"\nwarmup = \"5m\"\nbucket = \"10s\"\n\
         [[source]]\nkind = \"users\"\nusers = 400\n\
         pages = { dist = \"geometric\", mean = 4 }\n\
         think = { dist = \"exponential\", mean = \"5s\" }\n\
         [[source]]\nkind = \"requests\"\nrate = 10\n\
         [[tier]]\nname = \"web\"\ninstances = 1\nthreads = 400\n\
         service = { dist = \"exponential\", mean = \"500ms\" }\n\
         [tier.health_check]\ninterval = \"1s\"\ntimeout = \"500ms\"\nunhealthy_after = 1\n\
         healthy_after = 1\n\
         [client]\nrefresh = 0.8\nrefresh_after = { dist = \"exponential\", mean = \"3s\" }\n\
         give_up_after = 4\n\
         return = { probability = 0.5, after = { dist = \"exponential\", mean = \"1m\" } }\n\
         [slo]\nsuccess_rate = 0.9\nwindow = \"1m\"\noutage_below = 0.62\nstable = \"2m\"\n",
    )
}

/// Over many seeds, runs through the group advance and one by one agree in every measure's
/// mean: the 99% interval of the difference (Welch) contains 0 and is narrow.
#[test]
fn group_advance_matches_the_one_by_one_path_in_distribution() {
    let m = flapping();
    let seeds = 1..=100u64;
    let grouped: Vec<Run> = seeds.clone().map(|s| run(&m, s, true)).collect();
    let single: Vec<Run> = seeds.map(|s| run(&m, 1000 + s, false)).collect();
    assert!(single.iter().all(|x| x.grouped == 0.0));
    // The group advance was taken for a good share of the refusals.
    let share = grouped.iter().map(|x| x.grouped).sum::<f64>()
        / grouped.iter().map(|x| x.rejected).sum::<f64>();
    assert!(share > 0.5, "grouped share {share}");
    type Field = fn(&Run) -> f64;
    let fields: [(&str, Field, f64); 7] = [
        ("offered", |x| x.offered, 0.01),
        ("rejected", |x| x.rejected, 0.02),
        ("succeeded", |x| x.succeeded, 0.02),
        ("users mean", |x| x.users_mean, 0.02),
        ("users peak", |x| x.users_peak, 0.02),
        ("downtime", |x| x.downtime_s, 0.25),
        ("episodes", |x| x.episodes, 0.25),
    ];
    let mut report = String::new();
    let mut ok = true;
    for (name, f, width) in fields {
        let a: Vec<f64> = grouped.iter().map(f).collect();
        let b: Vec<f64> = single.iter().map(f).collect();
        let (ma, ha) = interval99(&a);
        let (mb, hb) = interval99(&b);
        // Welch, each half-width with its own sample's degrees of freedom (conservative).
        let half = (ha * ha + hb * hb).sqrt();
        let diff = ma - mb;
        ok &= diff.abs() <= half && half <= width * mb.abs();
        report += &format!(
            "{name}: grouped {ma:.1} ± {ha:.1}, one by one {mb:.1} ± {hb:.1}, \
             difference {diff:.1} ± {half:.1} (at most {:.1} wide)\n",
            width * mb.abs()
        );
    }
    eprintln!("{report}");
    assert!(ok, "{report}");
}
