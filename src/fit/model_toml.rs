//! The model `surge fit` writes: one source (the baseline rate with its profile, or the trace
//! of recorded arrivals in a comment to swap in), one tier with the fitted service, contention
//! and a thread estimate, and comments saying what came from which data, how well it fits, and
//! what is an assumption to edit. The text is checked by loading it before it is written.

use super::dists::Fitted;
use super::report::Fit;

/// Seconds as a model duration: `"123.456s"`.
fn secs(s: f64) -> String {
    let t = format!("{s:.6}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("\"{t}s\"")
}

fn num(x: f64) -> String {
    format!("{x:.6}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

fn dist_line(f: &Fitted) -> String {
    match *f {
        Fitted::Exponential { mean } => {
            format!("{{ dist = \"exponential\", mean = {} }}", secs(mean))
        }
        Fitted::LogNormal { mu, sigma } => format!(
            "{{ dist = \"lognormal\", mu = {}, sigma = {} }}",
            num(mu),
            num(sigma)
        ),
        Fitted::Gamma { shape, scale } => format!(
            "{{ dist = \"gamma\", shape = {}, scale = {} }}",
            num(shape),
            secs(scale)
        ),
        Fitted::Weibull { shape, scale } => format!(
            "{{ dist = \"weibull\", shape = {}, scale = {} }}",
            num(shape),
            secs(scale)
        ),
    }
}

fn ms(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

/// A bucket or span for a comment: "1 min", "2 h 5 min", "30 s".
fn span(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!(
            "{} h {} min",
            (s / 3600.0).floor(),
            ((s % 3600.0) / 60.0).round()
        )
    }
}

/// `text` made safe for a one-line TOML comment: control characters (a newline in a file name
/// would end the comment and let the rest be read as TOML) are written as escapes.
fn comment_safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// The model text. `files` names the inputs for the header comment.
pub fn write(fit: &Fit, files: &str, name: &str) -> Result<String, String> {
    let files = &comment_safe(files);
    let a = &fit.arrivals;
    let s = fit
        .service
        .as_ref()
        .ok_or("fewer than 10 successful requests with a response time: no service fit")?;
    let mut t = String::new();
    let p = |t: &mut String, line: &str| {
        t.push_str(line);
        t.push('\n');
    };
    p(&mut t, &format!("# Fitted by `surge fit` from {files}."));
    p(
        &mut t,
        &format!(
            "# {} requests over {} ({} succeeded, {:.2}% failed), read from {} lines ({} skipped).",
            fit.requests.total,
            span(a.span_s),
            fit.requests.succeeded,
            100.0 * fit.requests.failed as f64 / fit.requests.total.max(1) as f64,
            fit.lines.read,
            fit.lines.skipped
        ),
    );
    p(
        &mut t,
        "# Measured: the arrivals (source), the service time and contention (tier). Assumed:",
    );
    p(
        &mut t,
        "# every line marked ASSUMPTION. fit.json has every figure and fit.png shows the fits.",
    );
    p(&mut t, "");
    p(&mut t, "[scenario]");
    p(&mut t, &format!("name = \"{name}\""));
    p(
        &mut t,
        &format!("duration = {}   # the span of the data", secs(a.span_s)),
    );
    p(&mut t, "seed = 1");
    p(&mut t, &format!("bucket = {}", secs(a.bucket_s)));
    p(&mut t, "");
    p(
        &mut t,
        "# To try a bigger day, add a surge (ASSUMPTION: yours to choose), e.g.",
    );
    p(&mut t, "# [surge]");
    p(
        &mut t,
        &format!(
            "# peak = 3.0   # the data already hold a {:.2}x surge (busiest {} bucket over the median one)",
            a.surge_in_data,
            span(a.bucket_s)
        ),
    );
    p(&mut t, "# start = \"10m\"");
    p(&mut t, "# ramp = \"5m\"");
    p(&mut t, "# hold = \"10m\"");
    p(&mut t, "# decay = \"5m\"");
    p(&mut t, "");
    p(
        &mut t,
        &format!(
            "# Measured: requests per second, the median {} bucket's rate ({} buckets; mean {:.3}/s,",
            span(a.bucket_s),
            a.counts.len(),
            a.mean_rate_per_s
        ),
    );
    p(
        &mut t,
        &format!(
            "# peak {:.3}/s); the profile follows the buckets in {} knots, scaled by {:.4} so that it holds",
            a.peak_rate_per_s,
            a.profile.len(),
            a.profile_scale
        ),
    );
    p(
        &mut t,
        "# exactly the requests counted. ASSUMPTION: arrivals are Poisson around that rate.",
    );
    p(
        &mut t,
        "# To replay the recorded arrivals per bucket instead, replace this [[source]] by:",
    );
    p(&mut t, "#   [[source]]");
    p(&mut t, "#   name = \"recorded\"");
    p(&mut t, "#   kind = \"trace\"");
    p(&mut t, "#   file = \"arrivals.csv\"");
    p(&mut t, "[[source]]");
    p(&mut t, "name = \"recorded\"");
    p(&mut t, "kind = \"requests\"");
    p(&mut t, &format!("rate = {}", num(a.baseline_rate_per_s)));
    let knots: Vec<String> = a
        .profile
        .iter()
        .map(|(at, f)| format!("[{}, {}]", secs(*at), num(*f)))
        .collect();
    p(&mut t, &format!("profile = [{}]", knots.join(", ")));
    p(&mut t, "");

    let c = fit.contention.as_ref();
    let coef = c.filter(|c| c.significant).and_then(|c| c.coefficient);
    let (threads, why) = match c.and_then(|c| c.knee) {
        Some(k) => (
            k.round().max(1.0),
            format!(
                "measured: throughput stops growing at about {k:.0} requests in progress (the knee); threads x instances"
            ),
        ),
        None => {
            let n = c.map_or(1.0, |c| c.max_concurrency_seen).max(1.0);
            (
                (n + 6.0 * n.sqrt() + 10.0).ceil(),
                format!(
                    "ASSUMPTION: the data never saturate (at most {n:.1} in progress in a 10 s window), so capacity is unknown; this is enough not to queue at that load"
                ),
            )
        }
    };
    p(
        &mut t,
        &format!(
            "# Service: {} fitted by maximum likelihood to {} {} (best AIC of exponential, lognormal,",
            s.dist, s.fitted_on, s.basis
        ),
    );
    let others: Vec<String> = s
        .candidates
        .iter()
        .map(|c| format!("{} AIC {:.1} KS {:.4}", c.dist, c.aic, c.ks))
        .collect();
    p(
        &mut t,
        &format!("# gamma, Weibull: {}).", others.join("; ")),
    );
    p(
        &mut t,
        &format!(
            "# Fitted mean {}, cv {:.3}; the data: mean {}, cv {:.3}, p50 {}, p95 {} ({} responses).",
            ms(s.mean_s),
            s.cv,
            ms(s.observed.mean_s),
            s.observed.cv,
            ms(s.observed.p50_s),
            ms(s.observed.p95_s),
            s.observed.responses
        ),
    );
    if fit.requests.failed > 0 {
        p(
            &mut t,
            &format!(
                "# {} failed requests are left out of the fit; the model has no error process of its own.",
                fit.requests.failed
            ),
        );
    }
    let contention_comment = match c {
        Some(c) => match (c.coefficient, c.significant) {
            (Some(k), true) => format!(
                "measured: time = s x (1 + {k:.5} x n) against concurrency n ({}), standard error {:.5}",
                c.concurrency_from,
                c.coefficient_se.unwrap_or(f64::NAN)
            ),
            (Some(k), false) => format!(
                "measured: {k:.5} +- {:.5}, not distinguishable from 0, so 0",
                c.coefficient_se.unwrap_or(f64::NAN)
            ),
            (None, _) => format!("not measurable: {}", c.note),
        },
        None => "not measurable: too few 10 s windows with responses".into(),
    };
    p(&mut t, "[[tier]]");
    p(&mut t, "name = \"site\"");
    p(
        &mut t,
        "instances = 1   # ASSUMPTION: all threads in one instance; split threads x instances as your site is",
    );
    p(&mut t, &format!("threads = {}   # {why}", threads as u64));
    p(
        &mut t,
        &format!(
            "queue = {}   # ASSUMPTION: as many waiting places as threads",
            threads as u64
        ),
    );
    p(&mut t, &format!("service = {}", dist_line(&s.fitted)));
    p(
        &mut t,
        &format!(
            "contention = {}   # {contention_comment}",
            num(coef.unwrap_or(0.0))
        ),
    );
    // The model must load as written.
    crate::model::parse_text(&t, "model.toml", std::path::Path::new("."))
        .map_err(|e| format!("the fitted model does not load: {e}"))?;
    Ok(t)
}
