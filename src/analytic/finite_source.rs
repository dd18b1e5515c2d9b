//! The finite-source queue M/M/c/K//N (the machine-repairman model): N users, each thinking for
//! an exponential time of mean Z, then sending one request to c servers of exponential service
//! of mean S with K places in all (K >= c; unbounded when `None`); a request that finds the K
//! places full is refused and its user thinks again. This is a closed population
//! (`population = "closed"`) in front of one tier. Not a simulator: closed-form results only.
//!
//! With n requests in the tier, users send at (N - n) / Z and the servers finish at
//! min(n, c) / S; the chain is a birth-death one, so p(n) is proportional to
//! N! / (N - n)! x (S / Z)^n / (n! for n <= c, else c! c^(n - c)), for n up to min(N, K).
//! Throughput X = sum of p(n) min(n, c) / S, mean number in the tier L = sum of n p(n), and
//! the mean response time of a served request R = L / X (Little's law).

/// M/M/c/K//N: `n` users of mean think `z` seconds, `c` servers of mean service `s` seconds,
/// `k` places in all (`None`: unbounded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiniteSource {
    pub n: u64,
    pub z: f64,
    pub s: f64,
    pub c: u32,
    pub k: Option<u64>,
}

/// The moments of the stationary distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiniteSourceResult {
    /// Requests served per second.
    pub throughput: f64,
    /// Mean number of requests in the tier (waiting or in service).
    pub mean_in_system: f64,
    /// Mean time in the tier of a served request, seconds.
    pub mean_response: f64,
    /// Mean busy servers / c.
    pub utilization: f64,
    /// Share of the requests sent that find the K places full (0 when unbounded).
    pub blocking: f64,
}

/// Weights above this are scaled down (with every sum) to avoid overflow.
const RESCALE_ABOVE: f64 = 1e100;

impl FiniteSource {
    /// The stationary results; `None` for invalid parameters (no user, no server, a mean that
    /// is not positive and finite, K below c).
    pub fn solve(&self) -> Option<FiniteSourceResult> {
        let ok = |x: f64| x.is_finite() && x > 0.0;
        if self.n == 0 || self.c == 0 || !ok(self.z) || !ok(self.s) {
            return None;
        }
        if self.k.is_some_and(|k| k < u64::from(self.c)) {
            return None;
        }
        let top = self.k.map_or(self.n, |k| k.min(self.n));
        let (nf, c, r) = (self.n as f64, u64::from(self.c), self.s / self.z);
        // Running sums of w(n), n w(n), min(n, c) w(n) and (N - n) w(n), scaled together.
        let (mut w, mut total, mut sum_n, mut busy, mut idle) = (1.0, 1.0, 0.0, 0.0, nf);
        for n in 1..=top {
            w *= (nf - (n - 1) as f64) * r / n.min(c) as f64;
            if w > RESCALE_ABOVE {
                let f = 1.0 / w;
                (total, sum_n, busy, idle) = (total * f, sum_n * f, busy * f, idle * f);
                w = 1.0;
            }
            total += w;
            sum_n += n as f64 * w;
            busy += n.min(c) as f64 * w;
            idle += (nf - n as f64) * w;
        }
        let mean_in_system = sum_n / total;
        let busy = busy / total;
        let throughput = busy / self.s;
        // Requests are sent at (N - n) / Z; those sent in state `top` < N are refused.
        let blocking = if top < self.n {
            (nf - top as f64) * w / idle
        } else {
            0.0
        };
        Some(FiniteSourceResult {
            throughput,
            mean_in_system,
            mean_response: mean_in_system / throughput,
            utilization: busy / self.c as f64,
            blocking,
        })
    }

    /// The asymptotic bound on throughput: X <= min(N / (S + Z), c / S).
    pub fn throughput_bound(&self) -> f64 {
        (self.n as f64 / (self.s + self.z)).min(f64::from(self.c) / self.s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: u64, z: f64, s: f64, c: u32, k: Option<u64>) -> FiniteSourceResult {
        FiniteSource { n, z, s, c, k }.solve().unwrap()
    }

    #[test]
    fn one_user_alternates_think_and_service() {
        // N = 1: X = 1 / (S + Z), R = S, L = S / (S + Z).
        let r = q(1, 2.0, 0.5, 1, None);
        assert!((r.throughput - 0.4).abs() < 1e-12);
        assert!((r.mean_response - 0.5).abs() < 1e-12);
        assert!((r.mean_in_system - 0.2).abs() < 1e-12);
    }

    #[test]
    fn machine_repairman_by_hand_and_by_the_think_side() {
        // N = 2, c = 1, S / Z = 1/2: weights 1, 2 x 1/2 = 1, 1 x 1/2 = 1/2; p = (2, 2, 1) / 5.
        let r = q(2, 1.0, 0.5, 1, None);
        assert!((r.mean_in_system - 0.8).abs() < 1e-12);
        assert!((r.throughput - 0.6 / 0.5).abs() < 1e-12);
        // The thinking users' side of Little's law: X = (N - L) / Z.
        for (n, z, s, c) in [(10, 2.0, 0.1, 2), (100, 1.0, 0.1, 4), (5000, 30.0, 0.2, 40)] {
            let r = q(n, z, s, c, None);
            let x = (n as f64 - r.mean_in_system) / z;
            assert!((r.throughput - x).abs() < 1e-9 * x, "{n}: {r:?}");
            assert!(
                r.throughput
                    <= FiniteSource {
                        n,
                        z,
                        s,
                        c,
                        k: None
                    }
                    .throughput_bound()
            );
        }
    }

    #[test]
    fn heavy_load_saturates_the_servers() {
        // N S / (c Z) = 2.5: X near c / S, L near N - X Z.
        let r = q(100, 1.0, 0.1, 4, None);
        assert!((r.throughput - 40.0).abs() < 1e-6, "{r:?}");
        assert!((r.mean_in_system - 60.0).abs() < 1e-4, "{r:?}");
        assert!((r.utilization - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_loss_system_blocks_as_engset_says() {
        // K = c: call congestion is Engset's, with the traffic of one idle user b = S / Z:
        // C(N - 1, c) b^c / sum over i <= c of C(N - 1, i) b^i.
        let (n, c, b) = (12u64, 3u32, 0.25);
        let r = q(n, 1.0, b, c, Some(u64::from(c)));
        let binom =
            |m: u64, i: u64| (0..i).fold(1.0, |acc, j| acc * (m - j) as f64 / (j + 1) as f64);
        let terms: Vec<f64> = (0..=u64::from(c))
            .map(|i| binom(n - 1, i) * b.powi(i as i32))
            .collect();
        let engset = terms[c as usize] / terms.iter().sum::<f64>();
        assert!(
            (r.blocking - engset).abs() < 1e-12,
            "{} vs {engset}",
            r.blocking
        );
        // Enough places for every user: the same as unbounded.
        assert_eq!(q(n, 1.0, b, c, Some(n)), q(n, 1.0, b, c, None));
    }

    #[test]
    fn huge_populations_neither_overflow_nor_reject() {
        let r = q(10_000_000, 60.0, 0.05, 10_000, None);
        assert!(r.throughput.is_finite() && r.throughput <= 200_000.0 + 1e-6);
        assert!(
            FiniteSource {
                n: 0,
                z: 1.0,
                s: 1.0,
                c: 1,
                k: None
            }
            .solve()
            .is_none()
        );
        assert!(
            FiniteSource {
                n: 3,
                z: 1.0,
                s: 1.0,
                c: 2,
                k: Some(1)
            }
            .solve()
            .is_none()
        );
    }
}
