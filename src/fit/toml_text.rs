//! Numbers, durations and distributions as the model `surge fit` writes them in TOML values and
//! comments (`"1.5s"`, `{ dist = "gamma", ... }`, "2 h 5 min"). Text only: what the model says
//! is `model_toml`'s and `model_logs`'s.

use super::dists::Fitted;

/// Seconds as a model duration: `"123.456s"`.
pub(crate) fn secs(s: f64) -> String {
    let t = format!("{s:.6}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    format!("\"{t}s\"")
}

pub(crate) fn num(x: f64) -> String {
    format!("{x:.6}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

pub(crate) fn dist_line(f: &Fitted) -> String {
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

pub(crate) fn ms(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

/// A bucket or span for a comment: "1 min", "2 h 5 min", "30 s".
pub(crate) fn span(s: f64) -> String {
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
pub(crate) fn comment_safe(text: &str) -> String {
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
