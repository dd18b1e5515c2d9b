//! Exact queueing-theory results, used to validate the simulator.
//!
//! This module is **not** the simulator: it holds closed-form (or
//! numerically exact) steady-state results for classic queueing models, as
//! pure functions on `f64` with no dependencies beyond `std`. `surge check`
//! and the test-suite compare simulated metrics against these values.
//!
//! Notation used throughout:
//!
//! * `l` — arrival rate (lambda), customers per unit time;
//! * `m` — service rate of one server (mu);
//! * `c` — number of servers;
//! * `a = l / m` — offered load in Erlangs;
//! * `r = a / c` — offered load per server (utilisation when stable).
//!
//! Results that do not exist (an unstable queue, invalid parameters) are
//! reported as `None` rather than as NaN or infinity.

/// The confidence intervals of simulated means live in `crate::stats`; re-exported here for the
/// tests that compare simulated means with these results.
pub use crate::stats::{mean_ci95, t_quantile_975};

/// Relative tail mass (and tail first moment) left out when truncating an
/// infinite birth-death chain.
const TRUNCATION_EPS: f64 = 1e-14;

/// Hard limit on the number of states visited by the truncated chain solver.
const MAX_STATES: u64 = 100_000_000;

/// Unnormalised weights above this value are rescaled to avoid overflow.
const RESCALE_ABOVE: f64 = 1e100;

/// True when `x` is finite and `>= 0`.
fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

/// True when `x` is finite and `> 0`.
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// Erlang B blocking probability of an M/M/c/c loss system with `c` servers
/// and offered load `a` Erlangs.
///
/// Computed with the numerically stable recursion
/// `B(0) = 1`, `B(k) = a B(k-1) / (k + a B(k-1))`, which never overflows
/// (every iterate lies in `[0, 1]`), so it is fine for `c` and `a` in the tens
/// of thousands. `a = +inf` gives `1.0`; a negative or NaN `a` is not a load
/// and gives NaN.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    if a.is_nan() || a < 0.0 {
        return f64::NAN;
    }
    if a.is_infinite() {
        return 1.0;
    }
    (1..=c).fold(1.0, |b, k| {
        let ab = a * b;
        ab / (f64::from(k) + ab)
    })
}

/// Erlang C: probability that an arrival has to wait in an M/M/c queue with
/// `c` servers and offered load `a` Erlangs.
///
/// `C = c B / (c - a (1 - B))` with `B = erlang_b(c, a)`. Returns `None` when
/// the queue is unstable (`a >= c`) or `a` is negative, infinite or NaN.
pub fn erlang_c(c: u32, a: f64) -> Option<f64> {
    let cf = f64::from(c);
    if !non_negative(a) || a >= cf {
        return None;
    }
    let b = erlang_b(c, a);
    Some((cf * b / (cf - a * (1.0 - b))).clamp(0.0, 1.0))
}

/// The M/M/c queue: Poisson arrivals at rate `l`, exponential service at rate
/// `m` per server, `c` servers, unlimited waiting room, FIFO.
///
/// M/M/1 is the special case `c = 1`. Every steady-state quantity is `None`
/// when the queue is unstable (`l >= c m`) or the parameters are invalid
/// (`l < 0`, `m <= 0`, `c = 0`, non-finite values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mmc {
    /// Arrival rate (lambda).
    pub l: f64,
    /// Service rate of one server (mu).
    pub m: f64,
    /// Number of servers.
    pub c: u32,
}

impl Mmc {
    /// Offered load per server `r = l / (c m)`. This is the utilisation when
    /// the queue is stable; it is returned as is (possibly `>= 1`) otherwise.
    pub fn utilization(&self) -> f64 {
        self.l / (f64::from(self.c) * self.m)
    }

    /// Probability that an arrival waits (Erlang C).
    pub fn prob_wait(&self) -> Option<f64> {
        if !non_negative(self.l) || !positive(self.m) {
            return None;
        }
        erlang_c(self.c, self.l / self.m)
    }

    /// Spare capacity `c m - l` (positive whenever `prob_wait` is `Some`).
    fn spare(&self) -> f64 {
        f64::from(self.c) * self.m - self.l
    }

    /// Mean time spent waiting in the queue, `Wq = C / (c m - l)`.
    pub fn mean_wait_queue(&self) -> Option<f64> {
        self.prob_wait().map(|pw| pw / self.spare())
    }

    /// Mean time in the system (waiting plus service), `W = Wq + 1 / m`.
    pub fn mean_response(&self) -> Option<f64> {
        self.mean_wait_queue().map(|wq| wq + 1.0 / self.m)
    }

    /// Mean number in the system, `L = l W` (Little's law).
    pub fn mean_in_system(&self) -> Option<f64> {
        self.mean_response().map(|w| self.l * w)
    }

    /// Mean number waiting in the queue, `Lq = l Wq`.
    pub fn mean_queue_length(&self) -> Option<f64> {
        self.mean_wait_queue().map(|wq| self.l * wq)
    }

    /// Probability that the waiting time in queue exceeds `t`:
    /// `P(Wq > t) = C exp(-(c m - l) t)` for `t >= 0`, and `1` for `t < 0`.
    /// `None` for an unstable queue or a NaN `t`.
    pub fn prob_wait_longer_than(&self, t: f64) -> Option<f64> {
        if t.is_nan() {
            return None;
        }
        let pw = self.prob_wait()?;
        if t < 0.0 {
            return Some(1.0);
        }
        Some(pw * (-self.spare() * t).exp())
    }
}

/// The M/M/c/K queue: like [`Mmc`] but with `K` places in all (`c` in
/// service and `K - c` waiting); arrivals finding `K` customers are lost.
///
/// Always stable. Every quantity is `None` for invalid parameters (`l < 0`,
/// `m <= 0`, `c = 0`, `k < c`, non-finite values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mmck {
    /// Arrival rate (lambda).
    pub l: f64,
    /// Service rate of one server (mu).
    pub m: f64,
    /// Number of servers.
    pub c: u32,
    /// Capacity: total number of places (in service plus waiting), `k >= c`.
    pub k: u32,
}

/// Summary moments of an M/M/c/K stationary distribution.
struct MmckMoments {
    blocking: f64,
    in_system: f64,
    queue: f64,
    /// Probability that an arrival finds all servers busy but is admitted.
    wait_admitted: f64,
}

impl Mmck {
    /// Stationary distribution `p(0), ..., p(K)` (a vector of length `K + 1`).
    ///
    /// Uses the recursion `p(n) = p(n-1) a / min(n, c)` on unnormalised
    /// weights that are rescaled whenever they grow large, then normalised, so
    /// it neither overflows nor underflows harmfully even for `a > c` or
    /// large `K` (e.g. `c = 100`, `K = 1000`, `a = 90`).
    pub fn distribution(&self) -> Option<Vec<f64>> {
        if !non_negative(self.l) || !positive(self.m) || self.c == 0 || self.k < self.c {
            return None;
        }
        let a = self.l / self.m;
        if !a.is_finite() {
            return None;
        }
        let mut w = Vec::with_capacity(self.k as usize + 1);
        let mut cur = 1.0_f64;
        w.push(cur);
        for n in 1..=self.k {
            cur *= a / f64::from(n.min(self.c));
            if !cur.is_finite() {
                return None;
            }
            if cur > RESCALE_ABOVE {
                let s = 1.0 / cur;
                for x in &mut w {
                    *x *= s;
                }
                cur = 1.0;
            }
            w.push(cur);
        }
        let total: f64 = w.iter().sum();
        for x in &mut w {
            *x /= total;
        }
        Some(w)
    }

    fn moments(&self) -> Option<MmckMoments> {
        let p = self.distribution()?;
        let cf = f64::from(self.c);
        let mut in_system = 0.0;
        let mut queue = 0.0;
        let mut wait_admitted = 0.0;
        for (n, pn) in (0..=self.k).zip(&p) {
            let nf = f64::from(n);
            in_system += nf * pn;
            queue += (nf - cf).max(0.0) * pn;
            if n >= self.c && n < self.k {
                wait_admitted += pn;
            }
        }
        Some(MmckMoments {
            blocking: p[self.k as usize],
            in_system,
            queue,
            wait_admitted,
        })
    }

    /// Blocking (loss) probability `p(K)`: the fraction of arrivals turned
    /// away (PASTA).
    pub fn blocking(&self) -> Option<f64> {
        self.moments().map(|s| s.blocking)
    }

    /// Rate of admitted arrivals, `l (1 - p(K))`.
    pub fn effective_arrival(&self) -> Option<f64> {
        self.blocking().map(|b| self.l * (1.0 - b))
    }

    /// Probability that an *admitted* arrival has to wait:
    /// `P(c <= n < K) / (1 - p(K))`.
    pub fn prob_wait(&self) -> Option<f64> {
        self.moments().map(|s| s.wait_admitted / (1.0 - s.blocking))
    }

    /// Mean number in the system, `L = sum n p(n)`.
    pub fn mean_in_system(&self) -> Option<f64> {
        self.moments().map(|s| s.in_system)
    }

    /// Mean number waiting, `Lq = sum max(n - c, 0) p(n)`.
    pub fn mean_queue_length(&self) -> Option<f64> {
        self.moments().map(|s| s.queue)
    }

    /// Mean time in the system of an admitted customer,
    /// `W = L / (l (1 - p(K)))`. With `l = 0` this is the limit `1 / m`.
    pub fn mean_response(&self) -> Option<f64> {
        let s = self.moments()?;
        let eff = self.l * (1.0 - s.blocking);
        if eff > 0.0 {
            Some(s.in_system / eff)
        } else {
            Some(1.0 / self.m)
        }
    }

    /// Mean time waiting in queue of an admitted customer,
    /// `Wq = Lq / (l (1 - p(K)))`. With `l = 0` this is the limit `0`.
    pub fn mean_wait_queue(&self) -> Option<f64> {
        let s = self.moments()?;
        let eff = self.l * (1.0 - s.blocking);
        if eff > 0.0 {
            Some(s.queue / eff)
        } else {
            Some(0.0)
        }
    }

    /// Server utilisation, `l (1 - p(K)) / (c m)`.
    pub fn utilization(&self) -> Option<f64> {
        self.effective_arrival()
            .map(|eff| eff / (f64::from(self.c) * self.m))
    }
}

/// The Erlang A model (M/M/c+M): M/M/c where each *waiting* customer abandons
/// independently at rate `theta` (exponential patience). Customers in service
/// never abandon.
///
/// Solved exactly as a birth-death chain (births `l`, deaths
/// `min(n, c) m + max(n - c, 0) theta`), truncated adaptively where a bound on
/// the remaining tail mass (and tail first moment) falls below `1e-14` of the
/// total. Any `theta > 0` gives a stable system; `theta = 0` is M/M/c and
/// needs `l < c m`. Every quantity is `None` for an unstable or invalid model
/// (`l < 0`, `m <= 0`, `theta < 0`, `c = 0`, non-finite values) or when the
/// chain would need more than 10^8 states (extremely small `theta` under
/// overload).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangA {
    /// Arrival rate (lambda).
    pub l: f64,
    /// Service rate of one server (mu).
    pub m: f64,
    /// Number of servers.
    pub c: u32,
    /// Abandonment (patience) rate of each waiting customer.
    pub theta: f64,
}

/// Normalised moments of the Erlang A stationary distribution.
struct ErlangAMoments {
    busy: f64,
    queue: f64,
    in_system: f64,
    wait: f64,
}

impl ErlangA {
    fn moments(&self) -> Option<ErlangAMoments> {
        let (l, m, theta) = (self.l, self.m, self.theta);
        if !non_negative(l) || !positive(m) || !non_negative(theta) || self.c == 0 {
            return None;
        }
        let cf = f64::from(self.c);
        if theta == 0.0 && l >= cf * m {
            return None;
        }
        // Unnormalised weight of state n and running sums, with a common
        // scale factor that is adjusted whenever `w` grows large.
        let mut w = 1.0_f64;
        let (mut s0, mut s_busy, mut s_queue, mut s_n, mut s_wait) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut n: u64 = 0;
        let mut nf = 0.0_f64;
        loop {
            let queued = (nf - cf).max(0.0);
            s0 += w;
            s_busy += nf.min(cf) * w;
            s_queue += queued * w;
            s_n += nf * w;
            if nf >= cf {
                s_wait += w;
            }
            let next = nf + 1.0;
            let death = next.min(cf) * m + (next - cf).max(0.0) * theta;
            let ratio = l / death;
            // Death rates never decrease with n, so all later ratios are at
            // most `ratio` and the tail is bounded by a geometric series.
            if ratio < 1.0 {
                let g = ratio / (1.0 - ratio);
                let tail_mass = w * g;
                let tail_moment = w * g * (nf + 1.0 / (1.0 - ratio));
                if tail_mass <= TRUNCATION_EPS * s0 && tail_moment <= TRUNCATION_EPS * (s_n + s0) {
                    break;
                }
            }
            if n >= MAX_STATES {
                return None;
            }
            w *= ratio;
            n += 1;
            nf = next;
            if !w.is_finite() {
                return None;
            }
            if w > RESCALE_ABOVE {
                let s = 1.0 / w;
                w = 1.0;
                s0 *= s;
                s_busy *= s;
                s_queue *= s;
                s_n *= s;
                s_wait *= s;
            }
        }
        Some(ErlangAMoments {
            busy: s_busy / s0,
            queue: s_queue / s0,
            in_system: s_n / s0,
            wait: s_wait / s0,
        })
    }

    /// Probability that an arrival abandons, `theta E[Lq] / l` (`0` when
    /// `l = 0`).
    pub fn prob_abandon(&self) -> Option<f64> {
        let s = self.moments()?;
        if self.l > 0.0 {
            Some((self.theta * s.queue / self.l).clamp(0.0, 1.0))
        } else {
            Some(0.0)
        }
    }

    /// Mean number waiting, `E[Lq]`.
    pub fn mean_queue_length(&self) -> Option<f64> {
        self.moments().map(|s| s.queue)
    }

    /// Mean number in the system (waiting plus in service).
    pub fn mean_in_system(&self) -> Option<f64> {
        self.moments().map(|s| s.in_system)
    }

    /// Probability that an arrival has to wait, `P(n >= c)` (PASTA).
    pub fn prob_wait(&self) -> Option<f64> {
        self.moments().map(|s| s.wait)
    }

    /// Mean time spent waiting, averaged over *all* arrivals (served and
    /// abandoning alike): `E[Lq] / l` by Little's law (`0` when `l = 0`).
    pub fn mean_wait_queue(&self) -> Option<f64> {
        let s = self.moments()?;
        if self.l > 0.0 {
            Some(s.queue / self.l)
        } else {
            Some(0.0)
        }
    }

    /// Rate of customers that get served, `l (1 - P(abandon))`.
    pub fn throughput(&self) -> Option<f64> {
        self.prob_abandon().map(|pa| self.l * (1.0 - pa))
    }

    /// Server utilisation, `E[busy servers] / c`.
    pub fn utilization(&self) -> Option<f64> {
        self.moments().map(|s| s.busy / f64::from(self.c))
    }
}

/// M/M/1 whose waiting requests are dropped once they have waited longer than `d` (M/M/1+D:
/// deterministic patience, or a CoDel queue whose target equals its interval, where a request
/// is turned away when it reaches the head after waiting more than `d`: in FIFO, dropped
/// requests take no service, so who is served and how long they wait is the same).
/// Level crossing on the virtual waiting time V: density l P0 e^-(m-l)x up to d, then
/// f(d) e^-m(x-d); returns (P(V = 0), P(dropped) = P(V > d)), valid for any l, m > 0 (l > m too).
pub fn mm1_deterministic_patience(l: f64, m: f64, d: f64) -> (f64, f64) {
    let k = m - l;
    // integral of e^-(m-l)x over [0, d], without dividing by 0 when l = m.
    let ramp = if k.abs() < 1e-12 {
        d
    } else {
        (1.0 - (-k * d).exp()) / k
    };
    let tail = l * (-k * d).exp() / m;
    let p0 = 1.0 / (1.0 + l * ramp + tail);
    (p0, p0 * tail)
}

/// Pollaczek-Khinchine mean waiting time in queue of an M/G/1 queue with
/// arrival rate `l`, mean service time `mean_s` and coefficient of variation
/// of service time `cv`:
/// `Wq = r E[S] (1 + cv^2) / (2 (1 - r))`, `r = l E[S]`.
///
/// `cv = 0` is M/D/1 and `cv = 1` is M/M/1. `None` if `r >= 1` or the
/// parameters are invalid (`l < 0`, `mean_s <= 0`, `cv < 0`, non-finite).
pub fn mg1_mean_wait_queue(l: f64, mean_s: f64, cv: f64) -> Option<f64> {
    if !non_negative(l) || !positive(mean_s) || !non_negative(cv) {
        return None;
    }
    let r = l * mean_s;
    if r >= 1.0 {
        return None;
    }
    Some(r * mean_s * (1.0 + cv * cv) / (2.0 * (1.0 - r)))
}

/// Mean time in an M/G/1 system, `W = Wq + E[S]` (see
/// [`mg1_mean_wait_queue`]).
pub fn mg1_mean_response(l: f64, mean_s: f64, cv: f64) -> Option<f64> {
    mg1_mean_wait_queue(l, mean_s, cv).map(|wq| wq + mean_s)
}

/// Fluid approximation of the time to drain a `backlog` of work with service
/// `capacity` while new work keeps arriving at rate `l`: `Q / (C - l)`.
///
/// `None` if the backlog never drains (`capacity <= l`) or the inputs are
/// invalid (negative or non-finite).
pub fn fluid_drain_time(backlog: f64, capacity: f64, l: f64) -> Option<f64> {
    if !non_negative(backlog) || !non_negative(capacity) || !non_negative(l) || capacity <= l {
        return None;
    }
    Some(backlog / (capacity - l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_patience_balances_and_tends_to_mm1() {
        // Served throughput equals the busy fraction times m, for over- and underload.
        for (l, m, d) in [(12.0, 10.0, 0.1), (5.0, 10.0, 0.3), (10.0, 10.0, 1.0)] {
            let (p0, drop) = mm1_deterministic_patience(l, m, d);
            assert!((l * (1.0 - drop) - m * (1.0 - p0)).abs() < 1e-12);
        }
        // Infinite patience: plain M/M/1.
        let (p0, drop) = mm1_deterministic_patience(5.0, 10.0, 1e3);
        assert!((p0 - 0.5).abs() < 1e-12 && drop < 1e-12);
        // Worked example for the CoDel test: l = 12, m = 10, d = 100 ms.
        let (p0, drop) = mm1_deterministic_patience(12.0, 10.0, 0.1);
        assert!((p0 - 0.263_57).abs() < 1e-5 && (drop - 0.386_31).abs() < 1e-5);
    }

    fn close(x: f64, y: f64, tol: f64) -> bool {
        (x - y).abs() <= tol * (1.0 + y.abs())
    }

    macro_rules! assert_close {
        ($x:expr, $y:expr, $tol:expr) => {{
            let (x, y): (f64, f64) = ($x, $y);
            assert!(
                close(x, y, $tol),
                "{} = {x} vs {y} (tol {})",
                stringify!($x),
                $tol
            );
        }};
    }

    #[test]
    fn erlang_b_known_values() {
        assert_close!(erlang_b(10, 5.0), 0.018_384, 1e-6);
        assert_close!(erlang_b(1, 3.0), 0.75, 1e-15);
        assert_eq!(erlang_b(0, 2.0), 1.0);
        assert_eq!(erlang_b(5, 0.0), 0.0);
        assert_eq!(erlang_b(5, f64::INFINITY), 1.0);
        assert!(erlang_b(5, -1.0).is_nan());
    }

    #[test]
    fn erlang_b_large_arguments() {
        for (c, a) in [
            (10_000, 10_000.0),
            (10_000, 1.0),
            (1, 10_000.0),
            (10_000, 9_000.0),
        ] {
            let b = erlang_b(c, a);
            assert!(
                b.is_finite() && (0.0..=1.0).contains(&b),
                "B({c}, {a}) = {b}"
            );
        }
        // Heavy overload: B -> 1 - c/a.
        assert_close!(erlang_b(100, 10_000.0), 0.99, 1e-3);
        // c = a = 10000: B is about 0.0079 (sqrt(2/(pi a)) ~ 0.00798).
        let b = erlang_b(10_000, 10_000.0);
        assert!(b > 0.007 && b < 0.0085, "{b}");
    }

    #[test]
    fn erlang_c_known_values() {
        assert_close!(erlang_c(2, 1.0).unwrap(), 1.0 / 3.0, 1e-14);
        assert_close!(erlang_c(1, 0.5).unwrap(), 0.5, 1e-14);
        assert_eq!(erlang_c(2, 2.0), None);
        assert_eq!(erlang_c(2, 3.0), None);
        assert_eq!(erlang_c(0, 0.0), None);
        assert_eq!(erlang_c(3, f64::NAN), None);
        assert_eq!(erlang_c(3, 0.0), Some(0.0));
        let cc = erlang_c(10_000, 9_990.0).unwrap();
        assert!(cc > 0.0 && cc < 1.0);
    }

    #[test]
    fn mmc_two_servers() {
        let q = Mmc {
            l: 1.0,
            m: 1.0,
            c: 2,
        };
        assert_close!(q.prob_wait().unwrap(), 1.0 / 3.0, 1e-14);
        assert_close!(q.mean_wait_queue().unwrap(), 1.0 / 3.0, 1e-14);
        assert_close!(q.mean_response().unwrap(), 4.0 / 3.0, 1e-14);
        assert_close!(q.mean_in_system().unwrap(), 4.0 / 3.0, 1e-14);
        assert_close!(q.mean_queue_length().unwrap(), 1.0 / 3.0, 1e-14);
        assert_close!(q.utilization(), 0.5, 1e-15);
        assert_close!(q.prob_wait_longer_than(0.0).unwrap(), 1.0 / 3.0, 1e-14);
        assert_close!(
            q.prob_wait_longer_than(2.0).unwrap(),
            (-2.0f64).exp() / 3.0,
            1e-14
        );
        assert_eq!(q.prob_wait_longer_than(-1.0), Some(1.0));
    }

    #[test]
    fn mmc_unstable_or_invalid_is_none() {
        let q = Mmc {
            l: 2.0,
            m: 1.0,
            c: 2,
        };
        assert_eq!(q.prob_wait(), None);
        assert_eq!(q.mean_response(), None);
        assert_eq!(q.mean_in_system(), None);
        assert_eq!(q.prob_wait_longer_than(1.0), None);
        assert_eq!(
            Mmc {
                l: 1.0,
                m: 0.0,
                c: 2
            }
            .mean_response(),
            None
        );
        assert_eq!(
            Mmc {
                l: -1.0,
                m: 1.0,
                c: 2
            }
            .mean_response(),
            None
        );
        assert_eq!(
            Mmc {
                l: 1.0,
                m: 1.0,
                c: 0
            }
            .mean_response(),
            None
        );
    }

    #[test]
    fn mm1_closed_forms() {
        for (l, m) in [(0.3, 1.0), (0.9, 1.0), (4.0, 5.0), (0.0, 2.0)] {
            let q = Mmc { l, m, c: 1 };
            let r = l / m;
            assert_close!(q.utilization(), r, 1e-15);
            assert_close!(q.prob_wait().unwrap(), r, 1e-14);
            assert_close!(q.mean_in_system().unwrap(), r / (1.0 - r), 1e-13);
            assert_close!(q.mean_response().unwrap(), 1.0 / (m - l), 1e-13);
            assert_close!(q.mean_wait_queue().unwrap(), r / (m - l), 1e-13);
            assert_close!(q.mean_queue_length().unwrap(), r * r / (1.0 - r), 1e-13);
        }
    }

    #[test]
    fn mmck_single_server_closed_form() {
        for (l, m, k) in [(0.5, 1.0, 5), (2.0, 1.0, 10), (0.9, 1.0, 1), (3.0, 4.0, 40)] {
            let q = Mmck { l, m, c: 1, k };
            let r: f64 = l / m;
            let rk = r.powf(f64::from(k));
            let rk1 = r.powf(f64::from(k + 1));
            let pk = (1.0 - r) * rk / (1.0 - rk1);
            assert_close!(q.blocking().unwrap(), pk, 1e-13);
            // L = r/(1-r) - (K+1) r^(K+1) / (1 - r^(K+1)).
            let l_sys = r / (1.0 - r) - f64::from(k + 1) * rk1 / (1.0 - rk1);
            assert_close!(q.mean_in_system().unwrap(), l_sys, 1e-12);
        }
        // r = 1: uniform distribution.
        let q = Mmck {
            l: 1.0,
            m: 1.0,
            c: 1,
            k: 9,
        };
        assert_close!(q.blocking().unwrap(), 0.1, 1e-14);
        assert_close!(q.mean_in_system().unwrap(), 4.5, 1e-13);
    }

    #[test]
    fn mmck_k_equals_c_is_erlang_b() {
        for (c, a) in [(1, 0.5), (10, 5.0), (50, 60.0), (200, 150.0)] {
            let q = Mmck {
                l: a * 2.0,
                m: 2.0,
                c,
                k: c,
            };
            assert_close!(q.blocking().unwrap(), erlang_b(c, a), 1e-12);
            assert_close!(q.mean_queue_length().unwrap(), 0.0, 1e-15);
            assert_close!(q.mean_wait_queue().unwrap(), 0.0, 1e-15);
            assert_close!(q.mean_response().unwrap(), 0.5, 1e-12);
        }
    }

    #[test]
    fn mmck_large_k_approaches_mmc() {
        for (l, m, c) in [
            (1.0, 1.0, 2),
            (9.0, 1.0, 10),
            (90.0, 1.0, 100),
            (0.7, 1.0, 1),
        ] {
            let inf = Mmc { l, m, c };
            let fin = Mmck {
                l,
                m,
                c,
                k: c + 2000,
            };
            assert!(fin.blocking().unwrap() < 1e-12);
            assert_close!(fin.prob_wait().unwrap(), inf.prob_wait().unwrap(), 1e-10);
            assert_close!(
                fin.mean_queue_length().unwrap(),
                inf.mean_queue_length().unwrap(),
                1e-9
            );
            assert_close!(
                fin.mean_wait_queue().unwrap(),
                inf.mean_wait_queue().unwrap(),
                1e-9
            );
            assert_close!(
                fin.mean_response().unwrap(),
                inf.mean_response().unwrap(),
                1e-9
            );
            assert_close!(
                fin.mean_in_system().unwrap(),
                inf.mean_in_system().unwrap(),
                1e-9
            );
            assert_close!(fin.utilization().unwrap(), inf.utilization(), 1e-10);
        }
    }

    #[test]
    fn mmck_stability_and_little() {
        for (a, c, k) in [
            (90.0, 100, 1000),
            (150.0, 100, 1000),
            (10_000.0, 10_000, 20_000),
            (0.0, 3, 7),
        ] {
            let q = Mmck { l: a, m: 1.0, c, k };
            let p = q.distribution().unwrap();
            assert_eq!(p.len(), k as usize + 1);
            assert!(p.iter().all(|x| x.is_finite() && *x >= 0.0));
            assert_close!(p.iter().sum::<f64>(), 1.0, 1e-12);
            let eff = q.effective_arrival().unwrap();
            // Busy servers = L - Lq = eff / m.
            let busy = q.mean_in_system().unwrap() - q.mean_queue_length().unwrap();
            assert_close!(busy, eff, 1e-9);
            assert!(q.mean_response().unwrap().is_finite());
            assert!(q.utilization().unwrap() <= 1.0 + 1e-12);
        }
        // Overloaded with a long buffer: the servers saturate, B -> 1 - c/a.
        let q = Mmck {
            l: 150.0,
            m: 1.0,
            c: 100,
            k: 1000,
        };
        assert_close!(q.blocking().unwrap(), 1.0 / 3.0, 1e-9);
        assert_close!(q.utilization().unwrap(), 1.0, 1e-9);
        // Idle system limits.
        let idle = Mmck {
            l: 0.0,
            m: 2.0,
            c: 3,
            k: 7,
        };
        assert_eq!(idle.mean_response(), Some(0.5));
        assert_eq!(idle.mean_wait_queue(), Some(0.0));
        assert_eq!(
            Mmck {
                l: 1.0,
                m: 1.0,
                c: 3,
                k: 2
            }
            .blocking(),
            None
        );
    }

    #[test]
    fn erlang_a_flow_balance() {
        for (l, m, c, theta) in [
            (8.0, 1.0, 10, 0.5),
            (15.0, 1.0, 10, 0.5),
            (100.0, 1.0, 90, 2.0),
            (3.0, 2.0, 1, 0.1),
        ] {
            let q = ErlangA { l, m, c, theta };
            let lq = q.mean_queue_length().unwrap();
            let pa = q.prob_abandon().unwrap();
            // Arrivals = abandonments + services.
            assert_close!(l * pa, theta * lq, 1e-12);
            let served = f64::from(c) * m * q.utilization().unwrap();
            assert_close!(l - served, theta * lq, 1e-9);
            assert_close!(q.throughput().unwrap(), served, 1e-9);
            assert_close!(q.mean_wait_queue().unwrap(), lq / l, 1e-14);
            let ls = q.mean_in_system().unwrap();
            assert_close!(ls - lq, served / m, 1e-9);
            let pw = q.prob_wait().unwrap();
            assert!((0.0..=1.0).contains(&pw) && (0.0..=1.0).contains(&pa));
        }
    }

    #[test]
    fn erlang_a_small_theta_is_erlang_c() {
        for (l, m, c) in [(1.0, 1.0, 2), (9.0, 1.0, 10), (0.5, 1.0, 1)] {
            let mmc = Mmc { l, m, c };
            let exact = ErlangA {
                l,
                m,
                c,
                theta: 0.0,
            };
            assert_close!(exact.prob_wait().unwrap(), mmc.prob_wait().unwrap(), 1e-12);
            assert_close!(
                exact.mean_queue_length().unwrap(),
                mmc.mean_queue_length().unwrap(),
                1e-12
            );
            assert_close!(
                exact.mean_in_system().unwrap(),
                mmc.mean_in_system().unwrap(),
                1e-12
            );
            let near = ErlangA {
                l,
                m,
                c,
                theta: 1e-7,
            };
            assert_close!(near.prob_wait().unwrap(), mmc.prob_wait().unwrap(), 1e-5);
            assert_close!(
                near.mean_wait_queue().unwrap(),
                mmc.mean_wait_queue().unwrap(),
                1e-5
            );
            assert!(near.prob_abandon().unwrap() < 1e-5);
        }
        assert_eq!(
            ErlangA {
                l: 2.0,
                m: 1.0,
                c: 2,
                theta: 0.0
            }
            .prob_wait(),
            None
        );
    }

    #[test]
    fn erlang_a_theta_equal_mu_is_mm_infinity() {
        for (l, m, c) in [(5.0, 1.0, 3), (20.0, 2.0, 12), (50.0, 1.0, 60)] {
            let a: f64 = l / m;
            let q = ErlangA { l, m, c, theta: m };
            assert_close!(q.mean_in_system().unwrap(), a, 1e-12);
            // P(n >= c) for Poisson(a).
            let mut term = (-a).exp();
            let mut below = 0.0;
            for n in 0..c {
                below += term;
                term *= a / f64::from(n + 1);
            }
            assert_close!(q.prob_wait().unwrap(), 1.0 - below, 1e-10);
        }
    }

    #[test]
    fn erlang_a_impatient_is_erlang_b() {
        let q = ErlangA {
            l: 2.0,
            m: 1.0,
            c: 3,
            theta: 1e7,
        };
        assert_close!(q.prob_abandon().unwrap(), erlang_b(3, 2.0), 1e-6);
        let big = ErlangA {
            l: 12_000.0,
            m: 1.0,
            c: 10_000,
            theta: 1.0,
        };
        let pa = big.prob_abandon().unwrap();
        assert_close!(pa, 1.0 - 10_000.0 / 12_000.0, 1e-2);
        assert_eq!(
            ErlangA {
                l: 0.0,
                m: 1.0,
                c: 3,
                theta: 1.0
            }
            .prob_abandon(),
            Some(0.0)
        );
    }

    #[test]
    fn mg1_pollaczek_khinchine() {
        let md1 = mg1_mean_wait_queue(0.8, 1.0, 0.0).unwrap();
        let mm1 = mg1_mean_wait_queue(0.8, 1.0, 1.0).unwrap();
        assert_close!(md1, 0.5 * mm1, 1e-15);
        let mmc = Mmc {
            l: 0.8,
            m: 1.0,
            c: 1,
        };
        assert_close!(mm1, mmc.mean_wait_queue().unwrap(), 1e-13);
        assert_close!(
            mg1_mean_response(0.8, 1.0, 1.0).unwrap(),
            mmc.mean_response().unwrap(),
            1e-13
        );
        assert_eq!(mg1_mean_wait_queue(1.0, 1.0, 1.0), None);
        assert_eq!(mg1_mean_response(0.5, 0.0, 1.0), None);
    }

    #[test]
    fn fluid_drain() {
        assert_eq!(fluid_drain_time(100.0, 10.0, 5.0), Some(20.0));
        assert_eq!(fluid_drain_time(0.0, 10.0, 5.0), Some(0.0));
        assert_eq!(fluid_drain_time(100.0, 5.0, 5.0), None);
        assert_eq!(fluid_drain_time(-1.0, 10.0, 5.0), None);
    }

    #[test]
    fn t_quantiles() {
        assert_close!(t_quantile_975(1), 12.706, 1e-4);
        assert_close!(t_quantile_975(9), 2.262, 1e-4);
        assert_close!(t_quantile_975(30), 2.042_272, 1e-6);
        assert_close!(t_quantile_975(31), 2.039_513_446, 1e-6);
        assert_close!(t_quantile_975(40), 2.021_075_39, 1e-6);
        assert_close!(t_quantile_975(60), 2.000_297_822, 1e-7);
        assert_close!(t_quantile_975(1000), 1.962_339_081, 1e-9);
        assert_close!(t_quantile_975(u32::MAX), 1.960, 1e-4);
        assert!(t_quantile_975(0).is_nan());
        let ts: Vec<f64> = (1..200).map(t_quantile_975).collect();
        assert!(ts.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn confidence_interval() {
        let (mean, half) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_close!(mean, 2.0, 1e-15);
        assert_close!(half, 4.302_652_73 / 3f64.sqrt(), 1e-9);
        let (mean, half) = mean_ci95(&[5.0]);
        assert_eq!(mean, 5.0);
        assert!(half.is_nan());
        let (mean, half) = mean_ci95(&[]);
        assert!(mean.is_nan() && half.is_nan());
        let (_, half) = mean_ci95(&[7.0; 10]);
        assert_eq!(half, 0.0);
    }
}
