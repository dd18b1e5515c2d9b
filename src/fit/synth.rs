//! Requests generated with known parameters, for the tests of `fit`: open Poisson arrivals
//! (rate over time) or a closed population of users (count over time, think time), served
//! first come first served by a number of threads (or as many as needed), each service
//! s x (1 + contention x busy threads, itself counted) as the simulator applies it, s lognormal.
//! Not a simulator: just enough queueing to know the truth a fit must find.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::SeedableRng;
use rand_distr::{Distribution, Exp1, LogNormal, StandardUniform};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::Record;

/// What generated the requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Truth {
    pub seed: u64,
    pub duration_s: f64,
    pub mean_s: f64,
    pub cv: f64,
    pub contention: f64,
    /// Threads serving first come, first served; 0: as many as needed (nobody waits).
    pub threads: usize,
}

/// Seconds since 1970 of t = 0.
pub(crate) const EPOCH: f64 = 1_700_000_000.0;

/// The threads: when each is free, and the service of a request arriving at `at`.
struct Server {
    free: Vec<f64>,
    ends: BinaryHeap<Reverse<u64>>,
    service: LogNormal<f64>,
    contention: f64,
}

impl Server {
    fn new(t: &Truth) -> Server {
        let s2 = (1.0 + t.cv * t.cv).ln();
        Server {
            free: vec![0.0; t.threads],
            ends: BinaryHeap::new(),
            service: LogNormal::new(t.mean_s.ln() - s2 / 2.0, s2.sqrt()).expect("valid"),
            contention: t.contention,
        }
    }

    /// Response time of a request arriving at `at` (arrivals in time order).
    fn serve(&mut self, at: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
        let s = self.service.sample(rng);
        if self.free.is_empty() {
            while self
                .ends
                .peek()
                .is_some_and(|Reverse(e)| *e as f64 * 1e-9 <= at)
            {
                self.ends.pop();
            }
            let busy = self.ends.len() as f64 + 1.0;
            let time = s * (1.0 + self.contention * busy);
            self.ends.push(Reverse(((at + time) * 1e9) as u64));
            return time;
        }
        let (k, &first) = self
            .free
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .expect("threads");
        let start = at.max(first);
        let busy = self.free.iter().filter(|&&f| f > start).count() as f64 + 1.0;
        let end = start + s * (1.0 + self.contention * busy);
        self.free[k] = end;
        end - at
    }
}

/// Open Poisson arrivals at `rate(t)` per second (at most `max_rate`).
pub(crate) fn open(t: &Truth, rate: impl Fn(f64) -> f64, max_rate: f64) -> Vec<Record> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(t.seed);
    let mut server = Server::new(t);
    let mut out = Vec::new();
    let mut now = 0.0;
    loop {
        let e: f64 = Exp1.sample(&mut rng);
        now += e / max_rate;
        if now >= t.duration_s {
            return out;
        }
        let u: f64 = StandardUniform.sample(&mut rng);
        if u * max_rate > rate(now) {
            continue;
        }
        let time = server.serve(now, &mut rng);
        out.push(record(now, time, f32::NAN));
    }
}

/// A closed test: `users(t)` users (each starting at the time it is first counted, never
/// leaving), each thinking an exponential time of mean `think_s` before each request.
pub(crate) fn closed(t: &Truth, users: impl Fn(f64) -> usize, think_s: f64) -> Vec<Record> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(t.seed);
    let mut server = Server::new(t);
    let mut out = Vec::new();
    // (next request time in ns, user)
    let mut due: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
    let ns = |s: f64| (s * 1e9) as u64;
    let mut started = 0;
    let mut next_join = 0.0;
    loop {
        // users joining before the next request
        let next_due = due
            .peek()
            .map_or(f64::INFINITY, |Reverse((d, _))| *d as f64 * 1e-9);
        if next_join <= next_due && next_join < t.duration_s {
            while started < users(next_join) {
                let z: f64 = Exp1.sample(&mut rng);
                due.push(Reverse((ns(next_join + z * think_s), started)));
                started += 1;
            }
            next_join += 1.0;
            continue;
        }
        let Some(Reverse((at, user))) = due.pop() else {
            return out;
        };
        let at = at as f64 * 1e-9;
        if at >= t.duration_s {
            return out;
        }
        let time = server.serve(at, &mut rng);
        out.push(record(at, time, started as f32));
        let z: f64 = Exp1.sample(&mut rng);
        due.push(Reverse((ns(at + time + z * think_s), user)));
    }
}

fn record(at: f64, time: f64, concurrency: f32) -> Record {
    Record {
        start_s: EPOCH + at,
        time_s: (time * 1e6).round() / 1e6,
        ok: true,
        endpoint: 0,
        concurrency,
        visit: super::sessions::Visit::default(),
        refusal: Default::default(),
    }
}

/// The requests as `surge fit` keeps them.
pub(crate) fn collect(records: &[Record]) -> super::collect::Collected {
    let endpoints = super::Endpoints::default();
    let mut c = super::collect::Collected::default();
    for r in records {
        c.add(r, &endpoints);
    }
    c
}
