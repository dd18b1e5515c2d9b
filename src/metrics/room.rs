//! What a waiting room measures: users waiting (a time-weighted level), admissions, abandonments
//! and refusals per bucket and over the measured period, the waits of the users admitted, and
//! the users in each state at the start and the end of the measured period, which makes the
//! balance of user sessions checkable. The room itself lives in `crate::system` (its
//! `waiting_room` file); this file only counts. Users on the site are the collector's `users`.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::level::Level;
use crate::engine::Time;
use crate::stats::histogram::{new_histogram, quantile_s};

/// Where the user sessions of a site with a waiting room are at one moment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq)]
pub struct RoomState {
    /// Holding a place on the site (the `users` of the time series).
    pub on_site: u64,
    /// Waiting in the room.
    pub waiting: u64,
    /// Between pages after their place lapsed (idle for `session`): they pass the room again
    /// for their next page.
    pub away: u64,
}

impl RoomState {
    pub fn total(&self) -> u64 {
        self.on_site + self.waiting + self.away
    }
}

/// `waiting_room` in `summary.json`: counts over the measured period [warm-up, end).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct RoomSummary {
    /// User sessions that came to the site (new visits and users coming back).
    pub arrived: u64,
    /// Users let onto the site from the room (once per session, or again after an idle lapse).
    pub admitted: u64,
    /// Users who left the room before their turn (`patience`).
    pub abandoned: u64,
    /// Users turned away at once (`method = "reject"`).
    pub rejected: u64,
    /// Places that lapsed because their user stayed idle for `session`.
    pub expired: u64,
    /// Sessions that ended on the site: all their pages read, or given up after errors.
    pub left: u64,
    /// Waits of the users admitted, seconds: quantiles and mean (null when none was admitted).
    /// Users who abandoned or still wait at the end are not in them (see `abandoned` and
    /// `at_end.waiting`).
    pub wait_p50_s: Option<f64>,
    pub wait_p95_s: Option<f64>,
    pub mean_wait_s: Option<f64>,
    /// Most users waiting at once, and the time average.
    pub max_waiting: u64,
    #[serde(deserialize_with = "crate::stats::number_or_null")]
    pub mean_waiting: f64,
    /// Sessions in each state when the measured period starts and when it ends: `at_start`
    /// total + `arrived` = `at_end` total + `left` + `abandoned` + `rejected`.
    pub at_start: RoomState,
    pub at_end: RoomState,
}

/// The room's columns of the time series (present only when the model has a room).
#[derive(Debug, Clone, Default)]
pub struct RoomSeries {
    /// Time-averaged users waiting in the room over the bucket.
    pub waiting: Vec<f64>,
    /// Users admitted, abandoning and turned away in the bucket (counts).
    pub admitted: Vec<f64>,
    pub abandoned: Vec<f64>,
    pub rejected: Vec<f64>,
}

impl RoomSeries {
    /// Column by column mean over replications.
    pub fn mean(all: &[&RoomSeries]) -> RoomSeries {
        let avg = |f: fn(&RoomSeries) -> &Vec<f64>| -> Vec<f64> {
            let n = f(all[0]).len();
            (0..n)
                .map(|i| all.iter().map(|s| f(s)[i]).sum::<f64>() / all.len() as f64)
                .collect()
        };
        RoomSeries {
            waiting: avg(|s| &s.waiting),
            admitted: avg(|s| &s.admitted),
            abandoned: avg(|s| &s.abandoned),
            rejected: avg(|s| &s.rejected),
        }
    }
}

/// Counts of one bucket, or of the measured period.
#[derive(Debug, Clone, Copy, Default)]
struct Flows {
    arrived: u64,
    admitted: u64,
    abandoned: u64,
    rejected: u64,
    expired: u64,
    left: u64,
}

/// What the collector keeps for a waiting room.
#[derive(Debug, Clone)]
pub struct RoomStats {
    pub waiting: Level,
    bucket: Flows,
    totals: Flows,
    counting: bool,
    wait: Histogram<u64>,
    wait_sum_s: f64,
    at_start: RoomState,
}

impl Default for RoomStats {
    fn default() -> Self {
        RoomStats {
            waiting: Level::default(),
            bucket: Flows::default(),
            totals: Flows::default(),
            counting: false,
            wait: new_histogram(),
            wait_sum_s: 0.0,
            at_start: RoomState::default(),
        }
    }
}

/// One event of the room's, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomFlow {
    Arrived,
    Abandoned,
    Rejected,
    Expired,
    Left,
}

impl RoomStats {
    /// The measured period starts at `now` with the sessions in `state`.
    pub fn start_counting(&mut self, now: Time, state: RoomState) {
        self.waiting.start_counting(now);
        self.counting = true;
        self.totals = Flows::default();
        self.at_start = state;
    }

    /// The measured period has started: the totals count.
    pub fn counting(&self) -> bool {
        self.counting
    }

    /// Count one event of the room's (not an admission: see `admitted`).
    #[inline]
    pub fn count(&mut self, what: RoomFlow) {
        fn bump(f: &mut Flows, what: RoomFlow) {
            match what {
                RoomFlow::Arrived => f.arrived += 1,
                RoomFlow::Abandoned => f.abandoned += 1,
                RoomFlow::Rejected => f.rejected += 1,
                RoomFlow::Expired => f.expired += 1,
                RoomFlow::Left => f.left += 1,
            }
        }
        bump(&mut self.bucket, what);
        if self.counting {
            bump(&mut self.totals, what);
        }
    }

    /// A user waited `wait_s` and is let in.
    #[inline]
    pub fn admitted(&mut self, wait_s: f64) {
        self.bucket.admitted += 1;
        if self.counting {
            self.totals.admitted += 1;
            self.wait_sum_s += wait_s;
            // Zero waits are recorded as 1 ns (the histogram starts at 1).
            self.wait.saturating_record(((wait_s * 1e9) as u64).max(1));
        }
    }

    /// Close the bucket ending at `now`, `len_s` long, into the series.
    pub fn close_bucket(&mut self, now: Time, len_s: f64, series: &mut RoomSeries) {
        series.waiting.push(self.waiting.close_bucket(now, len_s));
        let b = self.bucket;
        series.admitted.push(b.admitted as f64);
        series.abandoned.push(b.abandoned as f64);
        series.rejected.push(b.rejected as f64);
        self.bucket = Flows::default();
    }

    /// The summary over the measured period, `span_s` long, ending with the sessions in `end`.
    pub fn summary(&self, span_s: f64, end: RoomState) -> RoomSummary {
        let t = self.totals;
        let q = |x: f64| {
            (t.admitted > 0).then(|| {
                let v = quantile_s(&self.wait, x);
                if v <= 1e-9 { 0.0 } else { v }
            })
        };
        RoomSummary {
            arrived: t.arrived,
            admitted: t.admitted,
            abandoned: t.abandoned,
            rejected: t.rejected,
            expired: t.expired,
            left: t.left,
            wait_p50_s: q(0.50),
            wait_p95_s: q(0.95),
            mean_wait_s: (t.admitted > 0).then(|| self.wait_sum_s / t.admitted as f64),
            max_waiting: self.waiting.peak as u64,
            mean_waiting: self.waiting.mean(span_s),
            at_start: self.at_start,
            at_end: end,
        }
    }
}
