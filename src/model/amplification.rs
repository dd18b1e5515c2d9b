//! The retry amplification a model predicts before any run: the attempts per call that reach
//! each tier when tiers retry the tier they call (`[tier.retry]`) and clients retry their calls
//! (`[client.retry]`), from the retry keys, the tiers' `visit` shares and their
//! load-independent failure probabilities (`errors`), exactly; and the mean time a thread of
//! each tier is held per attempt, the deeper attempts and the backoffs included. `offered`
//! multiplies the tiers' nominal loads by it; `surge check` prints it.
//!
//! The figures, deepest tier first. A visit to tier i fails at its own service with e_i;
//! otherwise it calls the next tier it visits: tier j > i with q_ij = v_j x the product of
//! (1 - v_k) for i < k < j (each tier's visit is drawn on its own; with none left it succeeds).
//! It calls that tier up to m_i times (its `max_attempts` when it retries errors, else once;
//! a retry calls the same tier again), each call a fresh visit failing with F_j, so it makes
//! 1 + F_j + ... + F_j^(m_i - 1) calls there and fails with F_i = e_i + (1 - e_i) sum_j q_ij
//! F_j^m_i. A client of M attempts makes 1 + P + ... + P^(M - 1) attempts per call, P the
//! chance one attempt fails (each attempt draws its visits afresh). A thread of tier i is held
//! through its service, the calls it makes (each held as long as a thread of the tier called)
//! and its backoffs (the n-th after F_j^n of its visits; its mean from `backoff`, `base`,
//! `cap` and `jitter`).
//!
//! ASSUMPTION: no tier is overloaded (no rejection, no timeout) and no retry budget runs out:
//! overload adds failures that depend on the load, and retries then multiply further, up to
//! the product of the max_attempts (`worst`). Not here: queueing, and the wording
//! (`commands::check`).

use super::{Backoff, Jitter, Model, Retry, RetryOn, Source, SourceKind};

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

/// What one visit to each tier makes, for the whole chain below it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PerVisit {
    /// `attempts[i][k]`: attempts arriving at tier k per visit to tier i (1 at k = i, 0 above).
    pub(crate) attempts: Vec<Vec<f64>>,
    /// The chance a visit to tier i fails.
    pub(crate) fails: Vec<f64>,
    /// The mean time a thread of tier i is held per visit, seconds (before any queueing).
    pub(crate) hold_s: Vec<f64>,
}

/// Whether any tier retries the tier it calls (the amplification is then worth saying).
pub(crate) fn hop_retries(model: &Model) -> bool {
    model.tiers.iter().any(|t| t.retry.is_some())
}

/// The chance that a request leaving tier `from` (`None`: arriving from its client) visits
/// tier `j` next: it visits j and skips every tier between.
fn next_is(model: &Model, from: Option<usize>, j: usize) -> f64 {
    let first = from.map_or(0, |i| i + 1);
    let skips: f64 = (model.tiers[first..j].iter())
        .map(|t| 1.0 - t.visit)
        .product();
    model.tiers[j].visit * skips
}

/// The figures per visit to each tier (see the module doc).
pub(crate) fn per_visit(model: &Model) -> PerVisit {
    let tiers = &model.tiers;
    let n = tiers.len();
    let mut out = PerVisit {
        attempts: vec![vec![0.0; n]; n],
        fails: vec![0.0; n],
        hold_s: vec![0.0; n],
    };
    for i in (0..n).rev() {
        let e = tiers[i].errors;
        let retry = (tiers[i].retry)
            .filter(|r| r.retries(RetryOn::Error))
            .map(|r| r.retry);
        let m = retry.map_or(1, |r| r.max_attempts);
        let (mut fails, mut hold) = (e, tiers[i].service.mean());
        out.attempts[i][i] = 1.0;
        for j in i + 1..n {
            let q = (1.0 - e) * next_is(model, Some(i), j);
            let f = out.fails[j];
            let calls = geometric_sum(f, m);
            for k in j..n {
                out.attempts[i][k] += q * calls * out.attempts[j][k];
            }
            let waits: f64 = retry.map_or(0.0, |r| {
                (1..m).map(|k| f.powi(k as i32) * mean_backoff(&r, k)).sum()
            });
            hold += q * (calls * out.hold_s[j] + waits);
            fails += q * f.powi(m as i32);
        }
        (out.fails[i], out.hold_s[i]) = (fails, hold);
    }
    out
}

/// The mean wait before the retry that follows `n` attempts of a call (as `backoff_delay`
/// draws it; decorrelated jitter, a client's only, is taken at its ceiling's mean).
pub(crate) fn mean_backoff(r: &Retry, n: u32) -> f64 {
    let ceiling = match r.backoff {
        Backoff::None => 0.0,
        Backoff::Fixed => r.base_s,
        Backoff::Exponential => (r.base_s * 2f64.powi((n.max(1) - 1).min(60) as i32)).min(r.cap_s),
    };
    match r.jitter {
        Jitter::None => ceiling,
        Jitter::Full | Jitter::Decorrelated => ceiling / 2.0,
        Jitter::Equal => 0.75 * ceiling,
    }
}

/// The attempts per call of one source at each tier, and the share of its calls that fail.
pub(crate) fn of_source(model: &Model, s: &Source, v: &PerVisit) -> (Vec<f64>, f64) {
    let n = model.tiers.len();
    let mut per_attempt = vec![0.0; n];
    let mut fails = 0.0;
    for j in 0..n {
        let q = next_is(model, None, j);
        fails += q * v.fails[j];
        for (a, x) in per_attempt.iter_mut().zip(&v.attempts[j]).skip(j) {
            *a += q * x;
        }
    }
    let m = s.client.retry.map_or(1, |r| r.max_attempts);
    let attempts = geometric_sum(fails, m);
    let per_call = per_attempt.iter().map(|a| a * attempts).collect();
    (per_call, fails.powi(m as i32))
}

/// One `Amplification` per requests source, when some tier retries its callee; empty
/// otherwise (nothing to predict).
pub(crate) fn amplification(model: &Model) -> Vec<Amplification> {
    if !hop_retries(model) {
        return Vec::new();
    }
    let v = per_visit(model);
    let hops: f64 = (model.tiers.iter())
        .filter_map(|t| t.retry.map(|r| f64::from(r.retry.max_attempts)))
        .product();
    (model.sources.iter())
        .filter(|s| s.kind != SourceKind::Users)
        .map(|s| {
            let (attempts_per_call, call_failure) = of_source(model, s, &v);
            let m = s.client.retry.map_or(1, |r| r.max_attempts);
            Amplification {
                source: s.name.clone(),
                attempts_per_call,
                call_failure,
                worst: f64::from(m) * hops,
            }
        })
        .collect()
}

/// 1 + x + ... + x^(m - 1).
fn geometric_sum(x: f64, m: u32) -> f64 {
    (0..m).map(|k| x.powi(k as i32)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Model {
        crate::model::parse_text(text, "m.toml", std::path::Path::new(".")).unwrap()
    }

    const HEAD: &str =
        "[scenario]\nduration = \"1m\"\n[[source]]\nname = \"s\"\nkind = \"requests\"\nrate = 1\n";

    fn tier(name: &str, extra: &str) -> String {
        format!(
            "[[tier]]\nname = \"{name}\"\ninstances = 1\nthreads = 1\nservice = {{ dist = \"exponential\", mean = \"1ms\" }}\n{extra}"
        )
    }

    #[test]
    fn three_retrying_hops_over_a_flaky_ledger() {
        let retry = "retry = { max_attempts = 3, backoff = \"none\" }\n";
        let text = format!(
            "{HEAD}[client.retry]\nmax_attempts = 3\n{}{}{}",
            tier("a", retry),
            tier("b", retry),
            tier("c", "errors = 0.5\n")
        );
        let m = model(&text);
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
        // Without backoffs a thread of b is held 1 ms + 1.75 x 1 ms; one of a 1 ms + 1.140625
        // x 2.75 ms.
        let v = per_visit(&m);
        assert!((v.hold_s[1] - 0.00275).abs() < 1e-15, "{:?}", v.hold_s);
        assert!((v.hold_s[0] - (0.001 + 1.140_625 * 0.00275)).abs() < 1e-15);
    }

    #[test]
    fn a_tier_visited_by_some_requests_gets_its_share_of_the_attempts() {
        // b retries c (visit 0.6, errors 0.05) 3 times: 1 + 0.05 + 0.0025 = 1.0525 attempts
        // per visit, 0.6 x 1.0525 = 0.6315 per call; a request that skips c succeeds at b.
        let text = format!(
            "{HEAD}{}{}",
            tier("b", "retry = { max_attempts = 3, base = \"10ms\" }\n"),
            tier("c", "visit = 0.6\nerrors = 0.05\n")
        );
        let m = model(&text);
        let a = amplification(&m);
        let [b, c] = a[0].attempts_per_call[..] else {
            panic!("{a:?}")
        };
        assert_eq!(b, 1.0);
        assert!((c - 0.6 * 1.0525).abs() < 1e-12, "{c}");
        assert!((a[0].call_failure - 0.6 * 0.05f64.powi(3)).abs() < 1e-15);
        // b's thread: 1 ms, and for the 60% that call c, 1.0525 x 1 ms and the backoffs:
        // 10 ms / 1 after the first failure (5%), 20 ms after the second (0.25%), no jitter.
        let v = per_visit(&m);
        let want = 0.001 + 0.6 * (1.0525 * 0.001 + 0.05 * 0.010 + 0.0025 * 0.020);
        assert!(
            (v.hold_s[0] - want).abs() < 1e-15,
            "{} vs {want}",
            v.hold_s[0]
        );
    }
}
