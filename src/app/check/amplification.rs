//! The retry amplification `surge check` predicts: the attempts per call that reach each tier
//! when tiers retry the tier they call (`[tier.retry]`) and clients retry their calls
//! (`[client.retry]`), from the retry keys and the tiers' load-independent failure
//! probabilities (`errors`), exactly, for a chain every request walks (every `visit` 1).
//!
//! The figure, deepest tier first: a visit to the last tier fails with its `errors` e; a visit
//! to tier i fails at its own service with e_i, and otherwise calls tier i + 1 up to m_i times
//! (its `max_attempts` when it retries errors, else once), each call failing independently with
//! F_{i+1}: so it makes (1 - e_i)(1 + F + ... + F^(m_i - 1)) calls there and fails with
//! F_i = e_i + (1 - e_i) F^m_i. A client of M attempts adds the same factor at the first tier.
//!
//! ASSUMPTION: no tier is overloaded (no rejection, no timeout) and no retry budget runs out:
//! overload adds failures that depend on the load, and retries then multiply further, up to
//! the product of the max_attempts (`worst`). Not here: the wording (`commands::check`).

use crate::model::{Model, RetryOn, Source, SourceKind};

/// The amplification for the calls of one source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Amplification {
    pub(crate) source: String,
    /// Attempts per call arriving at each tier, in the model's order.
    pub(crate) attempts_per_call: Vec<f64>,
    /// The share of calls that fail (every attempt of the client failed).
    pub(crate) call_failure: f64,
    /// Attempts per call at the last tier when every attempt fails: the product of the
    /// attempts of the client and of every retrying hop.
    pub(crate) worst: f64,
}

/// One `Amplification` per requests source, when some tier retries its callee and every tier
/// is visited by every request; empty otherwise (nothing to predict, or not computable here).
pub(crate) fn amplification(model: &Model) -> Vec<Amplification> {
    let tiers = &model.tiers;
    if tiers.iter().all(|t| t.retry.is_none()) || tiers.iter().any(|t| t.visit < 1.0) {
        return Vec::new();
    }
    let n = tiers.len();
    // Per visit to tier i: attempts at each tier j >= i, and the chance it fails.
    let mut per_visit = vec![0.0; n];
    per_visit[n - 1] = 1.0;
    let mut fails = tiers[n - 1].errors;
    for i in (0..n - 1).rev() {
        let e = tiers[i].errors;
        let m = (tiers[i].retry)
            .filter(|r| r.retries(RetryOn::Error))
            .map_or(1, |r| r.retry.max_attempts);
        let calls = (1.0 - e) * geometric_sum(fails, m);
        for v in per_visit.iter_mut().skip(i + 1) {
            *v *= calls;
        }
        per_visit[i] = 1.0;
        fails = e + (1.0 - e) * fails.powi(m as i32);
    }
    let hops: f64 = (tiers.iter())
        .filter_map(|t| t.retry.map(|r| f64::from(r.retry.max_attempts)))
        .product();
    (model.sources.iter())
        .filter(|s| s.kind != SourceKind::Users)
        .map(|s| of_source(s, &per_visit, fails, hops))
        .collect()
}

/// The figures for one source's calls, from the figures per visit to the first tier.
fn of_source(s: &Source, per_visit: &[f64], fails: f64, hops: f64) -> Amplification {
    let m = s.client.retry.map_or(1, |r| r.max_attempts);
    let visits = geometric_sum(fails, m);
    Amplification {
        source: s.name.clone(),
        attempts_per_call: per_visit.iter().map(|v| v * visits).collect(),
        call_failure: fails.powi(m as i32),
        worst: f64::from(m) * hops,
    }
}

/// 1 + x + ... + x^(m - 1).
fn geometric_sum(x: f64, m: u32) -> f64 {
    (0..m).map(|k| x.powi(k as i32)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_retrying_hops_over_a_flaky_ledger() {
        let text = "[scenario]\nduration = \"1m\"\n[[source]]\nname = \"s\"\nkind = \"requests\"\nrate = 1\n\
             [client.retry]\nmax_attempts = 3\n\
             [[tier]]\nname = \"a\"\ninstances = 1\nthreads = 1\nservice = { dist = \"exponential\", mean = \"1ms\" }\n\
             retry = { max_attempts = 3 }\n\
             [[tier]]\nname = \"b\"\ninstances = 1\nthreads = 1\nservice = { dist = \"exponential\", mean = \"1ms\" }\n\
             retry = { max_attempts = 3 }\n\
             [[tier]]\nname = \"c\"\ninstances = 1\nthreads = 1\nservice = { dist = \"exponential\", mean = \"1ms\" }\n\
             errors = 0.5\n";
        let m = crate::model::parse_text(text, "m.toml", std::path::Path::new(".")).unwrap();
        let a = amplification(&m);
        assert_eq!(a.len(), 1);
        // b makes 1.75 attempts at c per visit and fails 1/8; a makes 1 + 1/8 + 1/64 at b and
        // fails 1/512; the client makes 1 + 1/512 + 1/512^2 at a.
        let client = 1.0 + 1.0 / 512.0 + 1.0 / 262_144.0;
        let at_b = client * (1.0 + 0.125 + 0.015_625);
        let want = [client, at_b, at_b * 1.75];
        for (got, want) in a[0].attempts_per_call.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!((a[0].call_failure - (1.0f64 / 512.0).powi(3)).abs() < 1e-15);
        assert_eq!(a[0].worst, 27.0);
    }
}
