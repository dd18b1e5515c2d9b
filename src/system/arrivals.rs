//! Arrival processes: a non-homogeneous Poisson process whose rate is a baseline x a piecewise
//! linear profile x the surge trapezoid, generated exactly by thinning with a separate bound on
//! each piece (between two breakpoints both factors are linear, so each reaches its maximum at
//! an end of the piece and the product of those maxima bounds the rate). Where the rate is
//! constant over a piece, no candidate is thrown away.
//!
//! A trace source replays recorded arrivals instead (`Replay`): instants as they are, or each
//! bucket's count spread uniformly over the bucket, drawn in order one at a time (the sorted
//! uniforms come from successive order statistics, so a bucket costs no memory).

use crate::engine::Stream;
use crate::engine::rng::open01;
use crate::model::{Profile, Surge, Trace};
use rand_distr::{Distribution, Exp1};

/// One source's arrival process.
#[derive(Debug, Clone)]
pub(crate) enum Arrivals {
    Poisson(Poisson),
    Replay(Replay),
}

impl Arrivals {
    /// Poisson arrivals at `scale` x profile(t) x surge(t) per second.
    pub(crate) fn new(scale: f64, profile: &Profile, surge: &Surge) -> Arrivals {
        Arrivals::Poisson(Poisson::new(scale, profile, surge))
    }

    /// The arrivals of a trace, replayed.
    pub(crate) fn replay(trace: &Trace) -> Arrivals {
        Arrivals::Replay(Replay {
            trace: trace.clone(),
            next: 0,
            left: 0,
            u: 0.0,
        })
    }

    /// The time of the next arrival after the previous one, or `None` past `horizon`.
    #[inline]
    pub(crate) fn next(&mut self, rng: &mut Stream, horizon: f64) -> Option<f64> {
        match self {
            Arrivals::Poisson(p) => p.next(rng, horizon),
            Arrivals::Replay(r) => r.next(rng, horizon),
        }
    }
}

/// Recorded arrivals.
#[derive(Debug, Clone)]
pub(crate) struct Replay {
    trace: Trace,
    /// The next instant, or the bucket being drawn from.
    next: usize,
    /// Arrivals still to draw in the current bucket.
    left: u64,
    /// The last uniform drawn in it (order statistics on [0, 1)).
    u: f64,
}

impl Replay {
    fn next(&mut self, rng: &mut Stream, horizon: f64) -> Option<f64> {
        match &self.trace {
            Trace::Times(times) => {
                let t = *times.get(self.next)?;
                self.next += 1;
                (t < horizon).then_some(t)
            }
            Trace::Buckets(buckets) => {
                while self.left == 0 {
                    let &(start, _, n) = buckets.get(self.next)?;
                    if start >= horizon {
                        return None;
                    }
                    self.next += 1;
                    self.left = n;
                    self.u = 0.0;
                }
                let (start, end, _) = buckets[self.next - 1];
                // The smallest of `left` uniforms on [u, 1): u + (1 - u)(1 - V^(1/left)).
                let v = open01(rng);
                self.u += (1.0 - self.u) * (1.0 - v.powf(1.0 / self.left as f64));
                self.left -= 1;
                let t = start + (end - start) * self.u.min(1.0);
                (t < horizon).then_some(t)
            }
        }
    }
}

/// A non-homogeneous Poisson process.
#[derive(Debug, Clone)]
pub(crate) struct Poisson {
    scale: f64,
    profile: Profile,
    surge: Surge,
    /// Piece j is [pieces[j-1].end, pieces[j].end); the last piece runs for ever.
    pieces: Vec<Piece>,
    piece: usize,
    t: f64,
}

/// One piece of the rate's bound.
#[derive(Debug, Clone, Copy)]
struct Piece {
    end: f64,
    /// The rate's bound over the piece, and 1 / bound (0 where the bound is 0): a candidate's
    /// gap is a product, not a division.
    bound: f64,
    inv_bound: f64,
    /// The rate is constant over the piece: no candidate is thrown away.
    flat: bool,
    /// Flat with a positive rate: `next`'s fast path.
    steady: bool,
}

impl Poisson {
    /// Rate at time t = `scale` x profile(t) x surge(t) per second.
    pub(crate) fn new(scale: f64, profile: &Profile, surge: &Surge) -> Poisson {
        let mut cuts: Vec<f64> = profile.points.iter().map(|p| p.0).collect();
        cuts.extend(
            surge
                .breakpoints()
                .iter()
                .copied()
                .filter(|x| x.is_finite()),
        );
        cuts.retain(|x| *x > 0.0);
        cuts.sort_by(f64::total_cmp);
        cuts.dedup();
        let mut pieces = Vec::with_capacity(cuts.len() + 1);
        let mut lo = 0.0;
        for &hi in cuts.iter().chain(std::iter::once(&f64::INFINITY)) {
            // Sample just inside the piece so step changes at the ends are not mixed in.
            let eps = if hi.is_finite() {
                (hi - lo) * 1e-9
            } else {
                0.0
            };
            let a = lo + eps;
            let b = if hi.is_finite() { hi - eps } else { lo + 1.0 };
            let (pa, pb) = (profile.at(a), profile.at(b));
            let (sa, sb) = (surge.factor(a), surge.factor(b));
            let bound = scale * pa.max(pb) * sa.max(sb);
            let flat = pa == pb && sa == sb;
            pieces.push(Piece {
                end: hi,
                bound,
                inv_bound: if bound > 0.0 { 1.0 / bound } else { 0.0 },
                flat,
                steady: flat && bound > 0.0,
            });
            lo = hi;
        }
        Poisson {
            scale,
            profile: profile.clone(),
            surge: *surge,
            pieces,
            piece: 0,
            t: 0.0,
        }
    }

    #[inline]
    pub(crate) fn rate(&self, t: f64) -> f64 {
        self.scale * self.profile.at(t) * self.surge.factor(t)
    }

    /// The time of the next arrival after the previous one, or `None` past `horizon`.
    #[inline]
    pub(crate) fn next(&mut self, rng: &mut Stream, horizon: f64) -> Option<f64> {
        // The fast path: inside a piece of constant, positive rate (the same draws and results
        // as the first turn of `next_piecewise`'s loop).
        let p = self.pieces[self.piece];
        if p.steady && self.t < p.end {
            let e: f64 = Exp1.sample(rng);
            let cand = self.t + e * p.inv_bound;
            if cand < p.end {
                self.t = cand;
                return (cand < horizon).then_some(cand);
            }
            // Memoryless: restart from the piece's end with the next bound.
            if p.end >= horizon {
                return None;
            }
            self.t = p.end;
        }
        self.next_piecewise(rng, horizon)
    }

    /// `next` in general: across pieces, and thinning where the rate changes within one.
    #[inline(never)]
    fn next_piecewise(&mut self, rng: &mut Stream, horizon: f64) -> Option<f64> {
        loop {
            while self.t >= self.pieces[self.piece].end {
                self.piece += 1;
            }
            let p = self.pieces[self.piece];
            if p.bound <= 0.0 {
                if !p.end.is_finite() || p.end >= horizon {
                    return None;
                }
                self.t = p.end;
                continue;
            }
            let e: f64 = Exp1.sample(rng);
            let cand = self.t + e * p.inv_bound;
            if cand >= p.end {
                // Memoryless: restart from the piece's end with the next bound.
                if p.end >= horizon {
                    return None;
                }
                self.t = p.end;
                continue;
            }
            self.t = cand;
            if self.t >= horizon {
                return None;
            }
            if p.flat || open01(rng) * p.bound <= self.rate(cand) {
                return Some(cand);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn count(a: &mut Poisson, seed: u64, horizon: f64, bins: usize) -> Vec<u64> {
        let mut rng = stream(seed, 0);
        let mut c = vec![0u64; bins];
        while let Some(t) = a.next(&mut rng, horizon) {
            c[((t / horizon) * bins as f64) as usize] += 1;
        }
        c
    }

    #[test]
    fn counts_follow_the_integrated_rate() {
        // 10/s baseline, a profile that halves, and a 5x surge with ramps.
        let profile = Profile {
            points: vec![(0.0, 1.0), (500.0, 1.0), (1000.0, 0.5)],
        };
        let surge = Surge {
            peak: 5.0,
            start_s: 200.0,
            ramp_s: 100.0,
            hold_s: 200.0,
            decay_s: 300.0,
        };
        let horizon = 1200.0;
        let bins = 12;
        let a0 = Poisson::new(10.0, &profile, &surge);
        let mut totals = vec![0u64; bins];
        let reps = 40;
        for seed in 0..reps {
            let mut a = a0.clone();
            for (t, c) in totals.iter_mut().zip(count(&mut a, seed, horizon, bins)) {
                *t += c;
            }
        }
        for (i, &n) in totals.iter().enumerate() {
            // Expected count in bin i by numerical integration of the rate.
            let (lo, hi) = (i as f64 * 100.0, (i + 1) as f64 * 100.0);
            let steps = 10_000;
            let expected: f64 = (0..steps)
                .map(|k| a0.rate(lo + (k as f64 + 0.5) * (hi - lo) / steps as f64))
                .sum::<f64>()
                * (hi - lo)
                / steps as f64
                * reps as f64;
            let z = (n as f64 - expected) / expected.sqrt();
            assert!(
                z.abs() < 4.0,
                "bin {i}: {n} arrivals, expected {expected:.0} (z = {z:.2})"
            );
        }
    }
}
