//! Streaming summaries of the requests read by `surge fit`, with memory flat in the number of
//! lines: exact counts per second (for the arrivals), per concurrency window (for contention),
//! exact running mean and variance of the response times, and fixed-size seeded reservoir
//! samples of them for the distribution fits (whole data when it fits in the reservoir).
//!
//! What the summaries mean (fits, profile, contention) is decided elsewhere in `fit`.

use std::collections::VecDeque;

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{Endpoints, Record};

/// Responses kept for the overall fits.
pub(crate) const RESERVOIR: usize = 100_000;
/// Responses kept per endpoint.
pub(crate) const ENDPOINT_RESERVOIR: usize = 2_000;
/// Length of a concurrency window, seconds.
pub(crate) const WINDOW_S: i64 = 10;
/// Most seconds between the earliest and the latest request (a stray date is a bad line).
pub(crate) const MAX_SPAN_S: i64 = 400 * 86_400;
/// Requests held before the span is anchored on the median of their starts (the bulk of the
/// data), so that one stray first date (1970, 9999) cannot push the rest out of span.
pub(crate) const ANCHOR_SAMPLE: usize = 1_000;

/// Cells indexed by an integer key, grown at either end as keys arrive.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grid<T> {
    pub origin: i64,
    pub cells: VecDeque<T>,
}

impl<T: Default + Clone> Grid<T> {
    /// The cell of `key`, growing the grid; `None` when that would span more than `max` cells.
    pub(crate) fn cell(&mut self, key: i64, max: usize) -> Option<&mut T> {
        if self.cells.is_empty() {
            self.origin = key;
            self.cells.push_back(T::default());
        }
        if key < self.origin {
            let grow = (self.origin - key) as usize;
            if grow + self.cells.len() > max {
                return None;
            }
            for _ in 0..grow {
                self.cells.push_front(T::default());
            }
            self.origin = key;
        }
        let i = (key - self.origin) as usize;
        if i >= self.cells.len() {
            if i >= max {
                return None;
            }
            self.cells.resize(i + 1, T::default());
        }
        self.cells.get_mut(i)
    }
}

/// Per-second means of the concurrency a tool recorded with its requests (8 bytes a second).
#[derive(Debug, Clone, Default)]
pub(crate) struct UsersTrack {
    grid: Grid<(f32, u32)>,
}

impl UsersTrack {
    /// No request recorded its concurrency.
    pub(crate) fn is_empty(&self) -> bool {
        self.grid.cells.is_empty()
    }

    /// One request's recorded concurrency, in the second `sec` (since 1970).
    pub(crate) fn add(&mut self, sec: i64, users: f32, max_cells: usize) {
        if let Some(c) = self.grid.cell(sec, max_cells) {
            c.1 += 1;
            c.0 += (users - c.0) / c.1 as f32;
        }
    }

    /// Users in each second from `origin` for `seconds` seconds: the mean recorded in that
    /// second, carried over seconds without a request (the first known value before the first).
    pub(crate) fn per_second(&self, origin: i64, seconds: usize) -> Vec<f64> {
        let at = |sec: i64| -> Option<f64> {
            let i = usize::try_from(sec - self.grid.origin).ok()?;
            let &(mean, n) = self.grid.cells.get(i)?;
            (n > 0).then_some(f64::from(mean))
        };
        let first = (0..seconds as i64)
            .find_map(|k| at(origin + k))
            .unwrap_or(0.0);
        let mut last = first;
        (0..seconds as i64)
            .map(|k| {
                if let Some(v) = at(origin + k) {
                    last = v;
                }
                last
            })
            .collect()
    }
}

/// Running mean and variance (Welford).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Running {
    pub n: u64,
    pub mean: f64,
    m2: f64,
}

impl Running {
    pub(crate) fn add(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }
    pub(crate) fn sd(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }
    pub(crate) fn cv(&self) -> f64 {
        self.sd() / self.mean
    }
}

/// One kept response: its time, and where to find its concurrency afterwards.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub time_s: f64,
    /// Its concurrency window.
    pub window: i64,
}

/// A seeded reservoir sample (algorithm R).
#[derive(Debug, Clone)]
pub(crate) struct Reservoir {
    pub cap: usize,
    pub seen: u64,
    pub items: Vec<Sample>,
}

impl Reservoir {
    pub(crate) fn new(cap: usize) -> Reservoir {
        Reservoir {
            cap,
            seen: 0,
            items: Vec::new(),
        }
    }
    fn add(&mut self, s: Sample, rng: &mut Xoshiro256PlusPlus) {
        self.seen += 1;
        if self.items.len() < self.cap {
            self.items.push(s);
        } else {
            let j = rng.random_range(0..self.seen);
            if (j as usize) < self.cap {
                self.items[j as usize] = s;
            }
        }
    }
    /// Whether every response is in the sample.
    pub(crate) fn complete(&self) -> bool {
        self.seen as usize == self.items.len()
    }
}

/// Counts in one concurrency window (requests by start time).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Window {
    pub requests: u32,
    pub ok: u32,
    /// Sum of the response times of every request with a known time (Little's law: / window).
    pub sum_time_all: f64,
    pub timed_all: u32,
    pub sum_time_ok: f64,
    pub timed_ok: u32,
    /// Sum and count of recorded concurrency.
    pub sum_conc: f64,
    pub n_conc: u32,
    /// Requests turned away (429/502/503/504, no connection).
    pub refused: u32,
}

/// Per-endpoint summaries.
#[derive(Debug, Clone)]
pub(crate) struct EndpointStats {
    pub requests: u64,
    pub ok: u64,
    pub times: Running,
    pub sample: Reservoir,
}

/// Everything kept while reading.
pub(crate) struct Collected {
    pub requests: u64,
    pub ok: u64,
    /// Successful requests with a known time.
    pub times: Running,
    pub sample: Reservoir,
    pub first_s: f64,
    pub last_s: f64,
    pub per_second: Grid<u32>,
    pub windows: Grid<Window>,
    pub endpoints: Vec<EndpointStats>,
    /// Requests dropped for a time more than [`MAX_SPAN_S`] from the anchor, or outside the
    /// span the grid can hold.
    pub out_of_span: u64,
    /// Median start of the first [`ANCHOR_SAMPLE`] requests, whole seconds.
    pub anchor_s: Option<i64>,
    /// Concurrency the files record, per second (closed load tests).
    pub users: UsersTrack,
    /// Failures that were requests turned away, or of unknown cause.
    pub refusals: super::refusals::Refusals,
    rng: Xoshiro256PlusPlus,
}

impl Default for Collected {
    fn default() -> Self {
        Collected {
            requests: 0,
            ok: 0,
            times: Running::default(),
            sample: Reservoir::new(RESERVOIR),
            first_s: f64::INFINITY,
            last_s: f64::NEG_INFINITY,
            per_second: Grid::default(),
            windows: Grid::default(),
            endpoints: Vec::new(),
            out_of_span: 0,
            anchor_s: None,
            users: Default::default(),
            refusals: Default::default(),
            rng: Xoshiro256PlusPlus::seed_from_u64(0x05ee_df17),
        }
    }
}

impl Collected {
    /// Anchor the span on the median start of `early` (the first requests, held by the caller
    /// until there are [`ANCHOR_SAMPLE`] of them or the data end); nothing when it is empty.
    pub(crate) fn anchor_on(&mut self, early: &[Record]) {
        if early.is_empty() {
            return;
        }
        let mut starts: Vec<f64> = early.iter().map(|r| r.start_s).collect();
        starts.sort_by(f64::total_cmp);
        self.anchor_s = Some(starts[starts.len() / 2].floor() as i64);
    }

    /// One request into the summaries (false: its time is out of span, not counted). Until
    /// [`Collected::anchor_on`] is called, only the grid's own span limits it.
    pub(crate) fn add(&mut self, r: &Record, endpoints: &Endpoints) -> bool {
        let sec = r.start_s.floor() as i64;
        if self
            .anchor_s
            .is_some_and(|a| sec.saturating_sub(a).abs() > MAX_SPAN_S)
        {
            self.out_of_span += 1;
            return false;
        }
        let Some(c) = self.per_second.cell(sec, MAX_SPAN_S as usize) else {
            self.out_of_span += 1;
            return false;
        };
        *c += 1;
        self.requests += 1;
        self.refusals.add(r.refusal);
        self.first_s = self.first_s.min(r.start_s);
        self.last_s = self.last_s.max(r.start_s);
        let wkey = sec.div_euclid(WINDOW_S);
        let timed = r.time_s.is_finite();
        if let Some(w) = self
            .windows
            .cell(wkey, (MAX_SPAN_S / WINDOW_S + 2) as usize)
        {
            w.requests += 1;
            if r.refusal == super::refusals::Refusal::TurnedAway {
                w.refused += 1;
            }
            if timed {
                w.sum_time_all += r.time_s;
                w.timed_all += 1;
            }
            if r.ok {
                w.ok += 1;
                if timed {
                    w.sum_time_ok += r.time_s;
                    w.timed_ok += 1;
                }
            }
            if r.concurrency.is_finite() {
                w.sum_conc += f64::from(r.concurrency);
                w.n_conc += 1;
            }
        }
        if r.concurrency.is_finite() {
            self.users.add(sec, r.concurrency, MAX_SPAN_S as usize);
        }
        let e = r.endpoint as usize;
        while self.endpoints.len() <= e.min(endpoints.len()) {
            self.endpoints.push(EndpointStats {
                requests: 0,
                ok: 0,
                times: Running::default(),
                sample: Reservoir::new(ENDPOINT_RESERVOIR),
            });
        }
        let ep = &mut self.endpoints[e];
        ep.requests += 1;
        if r.ok {
            self.ok += 1;
            ep.ok += 1;
            if timed {
                let s = Sample {
                    time_s: r.time_s,
                    window: wkey,
                };
                self.times.add(r.time_s);
                ep.times.add(r.time_s);
                self.sample.add(s, &mut self.rng);
                ep.sample.add(s, &mut self.rng);
            }
        }
        true
    }
}
