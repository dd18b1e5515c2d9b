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

mod finite_source;
pub use finite_source::{FiniteSource, FiniteSourceResult};

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
mod tests;
