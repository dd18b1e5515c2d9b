//! Closed load tests: JMeter (`allThreads`), k6 (`vus`) and Locust (`User Count`) record how
//! many virtual users were running, each sending one request at a time and thinking in between.
//! Such a test is a closed population, not open Poisson arrivals: its model is a `users` source
//! with `population = "closed"`, as many users as recorded (followed over time as the profile
//! when the test ramps), and the think time Z of Little's law over the whole span,
//! N = X (R + Z): Z = user-seconds / requests - mean response time. Where the files show each
//! virtual user's samples (JMeter `threadName`), the gaps between one user's samples (the
//! timers' delays and the tool's own time) are measured too, and give Z's spread.
//!
//! This module reads what `collect` kept; it does not decide threads (`capacity`) nor write the
//! model (`model_toml`).

use serde::{Deserialize, Serialize};

use super::collect::UsersTrack;

/// Think times measured between one virtual user's consecutive samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Gaps {
    pub mean_s: f64,
    pub cv: f64,
    pub count: u64,
    /// Samples that began before the user's last one ended (sub-samples, transactions): no gap.
    pub overlaps: u64,
}

/// Most virtual users whose samples are followed for their gaps.
const MAX_THREADS: usize = 100_000;

/// The gaps between each virtual user's samples, as a reader meets them (in the file's order,
/// which is each user's order: a user sends its next request once its last one ended).
#[derive(Debug, Default)]
pub(crate) struct ThreadGaps {
    /// End of each user's last sample, seconds since 1970.
    last_end: std::collections::HashMap<Box<str>, f64, std::hash::BuildHasherDefault<super::Fnv>>,
    gaps: super::collect::Running,
    overlaps: u64,
}

impl ThreadGaps {
    /// User `name`'s sample from `start` to `end` (seconds): the gap since its last one ended.
    pub(crate) fn sample(&mut self, name: &str, start: f64, end: f64) {
        let room = self.last_end.len() < MAX_THREADS;
        match self.last_end.get_mut(name) {
            Some(last) => {
                if start >= *last {
                    self.gaps.add(start - *last);
                } else {
                    self.overlaps += 1;
                }
                *last = last.max(end);
            }
            None if room => {
                self.last_end.insert(name.into(), end);
            }
            None => {}
        }
    }

    /// The notes the reader leaves (none without a gap).
    pub(crate) fn notes(&self) -> Vec<(String, f64)> {
        if self.gaps.n == 0 {
            return Vec::new();
        }
        vec![
            (GAP_MEAN.into(), self.gaps.mean),
            (GAP_CV.into(), self.gaps.cv()),
            (GAP_COUNT.into(), self.gaps.n as f64),
            (GAP_OVERLAPS.into(), self.overlaps as f64),
        ]
    }
}

/// Keys of the notes a reader leaves for the gaps (`ThreadGaps::notes`).
pub(crate) const GAP_MEAN: &str = "think_gap_mean_s";
pub(crate) const GAP_CV: &str = "think_gap_cv";
pub(crate) const GAP_COUNT: &str = "think_gaps";
pub(crate) const GAP_OVERLAPS: &str = "think_gap_overlaps";

/// The closed population a load test ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Closed {
    /// What the users are (which column of which tool).
    pub users_from: String,
    /// The most users running at once (per-second mean, rounded): the model's `users`.
    pub users: u32,
    /// Time-average of the users over the span.
    pub mean_users: f64,
    /// `[seconds since the first request, users / users]`, at most 24 knots.
    pub profile: Vec<(f64, f64)>,
    /// Little's law over the span: requests per second X, mean response time R (every request
    /// with a time, failed ones included: they hold their user too), and Z = N / X - R.
    pub throughput_per_s: f64,
    pub mean_response_s: f64,
    pub think_little_s: f64,
    pub gaps: Option<Gaps>,
    /// The think time the model uses: its mean, cv and what it comes from.
    pub think_mean_s: f64,
    pub think_cv: f64,
    pub think_from: String,
    /// (Not in fit.json: read back, a deterministic NaN.)
    #[serde(skip, default = "unthought")]
    pub think: Think,
}

/// The think time of a fit read back from fit.json, which does not hold it.
fn unthought() -> Think {
    Think::Deterministic(f64::NAN)
}

/// The think-time distribution written to the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Think {
    Deterministic(f64),
    Exponential(f64),
    Gamma { mean: f64, cv: f64 },
}

impl Think {
    /// As a model distribution.
    pub(crate) fn toml(&self) -> String {
        let secs = |s: f64| format!("\"{}s\"", super::toml_text::num(s));
        match *self {
            Think::Deterministic(v) => {
                format!("{{ dist = \"deterministic\", value = {} }}", secs(v))
            }
            Think::Exponential(m) => format!("{{ dist = \"exponential\", mean = {} }}", secs(m)),
            Think::Gamma { mean, cv } => format!(
                "{{ dist = \"gamma\", mean = {}, cv = {} }}",
                secs(mean),
                super::toml_text::num(cv)
            ),
        }
    }

    fn of(mean: f64, cv: Option<f64>) -> Think {
        match cv {
            _ if mean < MIN_THINK_S => Think::Exponential(MIN_THINK_S),
            Some(cv) if cv < 0.1 => Think::Deterministic(mean),
            Some(cv) if (cv - 1.0).abs() > 0.05 => Think::Gamma {
                mean,
                cv: cv.min(20.0),
            },
            _ => Think::Exponential(mean),
        }
    }
}

/// The least think time written: a closed population needs one above 0 (a test without timers
/// has its users send again within a millisecond).
pub(crate) const MIN_THINK_S: f64 = 0.001;

/// Most knots of the users profile.
const MAX_KNOTS: usize = 24;

/// The closed population of the data, or None when no file records users. `first_s` is the
/// first request (seconds since 1970), `span_s` the whole seconds the data cover, `requests`
/// and `sum_time_s`/`timed` every request and the times of those with one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn analyse(
    track: &UsersTrack,
    users_from: &str,
    first_s: f64,
    span_s: f64,
    requests: u64,
    sum_time_s: f64,
    timed: u64,
    gaps: Option<Gaps>,
) -> Option<Closed> {
    if track.is_empty() || requests == 0 || timed == 0 {
        return None;
    }
    let seconds = span_s.max(1.0) as usize;
    let per_second = track.per_second(first_s.floor() as i64, seconds);
    let most = per_second.iter().copied().fold(0.0, f64::max);
    let users = most.round().max(1.0) as u32;
    let user_seconds: f64 = per_second.iter().sum();
    let mean_users = user_seconds / seconds as f64;
    let groups = seconds.min(MAX_KNOTS);
    let profile = (0..groups)
        .map(|g| {
            let (lo, hi) = (g * seconds / groups, (g + 1) * seconds / groups);
            let mean = per_second[lo..hi].iter().sum::<f64>() / (hi - lo) as f64;
            (
                (lo + hi) as f64 / 2.0,
                (mean / f64::from(users) * 1e4).round() / 1e4,
            )
        })
        .collect();
    let x = requests as f64 / seconds as f64;
    let r = sum_time_s / timed as f64;
    let z_little = user_seconds / requests as f64 - r;
    let usable = gaps.as_ref().filter(|g| g.count >= 10);
    let (think, think_from) = match usable {
        Some(g) => (
            Think::of(g.mean_s, Some(g.cv)),
            format!(
                "the gaps between a user's samples ({} gaps: mean {:.3} s, cv {:.2}; Little's law says {:.3} s)",
                g.count, g.mean_s, g.cv, z_little
            ),
        ),
        None if z_little > 0.0 => (
            Think::of(z_little, None),
            "Little's law N = X (R + Z); ASSUMPTION: exponential, the data show only the mean"
                .to_string(),
        ),
        None => (
            Think::Exponential(MIN_THINK_S),
            format!(
                "Little's law N = X (R + Z) gives {z_little:.3} s, not above 0 (the users sent again at once; the edges of a short span tip it below 0): the least a model takes, 1 ms"
            ),
        ),
    };
    let (think_mean_s, think_cv) = match think {
        Think::Deterministic(v) => (v, 0.0),
        Think::Exponential(m) => (m, 1.0),
        Think::Gamma { mean, cv } => (mean, cv),
    };
    Some(Closed {
        users_from: users_from.to_string(),
        users,
        mean_users,
        profile,
        throughput_per_s: x,
        mean_response_s: r,
        think_little_s: z_little,
        gaps,
        think_mean_s,
        think_cv,
        think_from,
        think,
    })
}

/// The gaps a reader noted, if it noted any.
pub(crate) fn gaps_from_notes(notes: &[(String, f64)]) -> Option<Gaps> {
    let get = |k: &str| notes.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    Some(Gaps {
        mean_s: get(GAP_MEAN)?,
        cv: get(GAP_CV)?,
        count: get(GAP_COUNT)? as u64,
        overlaps: get(GAP_OVERLAPS).unwrap_or(0.0) as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Users recorded in seconds 0..100: 10 in 0..20 rising by 1 a second to 30, then 30, with
    /// a second without requests (carried over).
    fn track() -> UsersTrack {
        let mut t = UsersTrack::default();
        for s in 0..100i64 {
            if s == 50 {
                continue;
            }
            let users = if s < 20 { 10 + s } else { 30 } as f32;
            // two requests a second, recording the same count
            t.add(1_000 + s, users, 1000);
            t.add(1_000 + s, users, 1000);
        }
        t
    }

    #[test]
    fn users_profile_and_think_time_by_littles_law() {
        let c = analyse(
            &track(),
            "JMeter allThreads",
            1000.0,
            100.0,
            2000,
            200.0,
            2000,
            None,
        )
        .unwrap();
        assert_eq!(c.users, 30);
        // user-seconds: 10 + ... + 29 (= 390) + 80 x 30 (= 2400): 2790
        assert!((c.mean_users - 27.9).abs() < 1e-9);
        // Z = 2790 / 2000 - 0.1
        assert!((c.think_little_s - 1.295).abs() < 1e-9);
        assert_eq!(c.think, Think::Exponential(c.think_little_s));
        assert!(c.think_from.contains("ASSUMPTION: exponential"));
        // 24 knots over 100 s: the first group (seconds 0..4) holds 10..13, mean 11.5 of 30
        assert_eq!(c.profile.len(), 24);
        assert_eq!(c.profile[0], (2.0, 0.3833));
        assert_eq!(c.profile[23], (97.5, 1.0));
        assert_eq!(
            c.think.toml(),
            "{ dist = \"exponential\", mean = \"1.295s\" }"
        );
    }

    #[test]
    fn the_gaps_between_a_users_samples_give_the_think_time_when_there_are_some() {
        let gaps = Gaps {
            mean_s: 0.5,
            cv: 0.02,
            count: 500,
            overlaps: 3,
        };
        let c = analyse(&track(), "x", 1000.0, 100.0, 2000, 200.0, 2000, Some(gaps)).unwrap();
        assert_eq!(c.think, Think::Deterministic(0.5));
        assert_eq!(c.think_cv, 0.0);
        let g = |mean_s, cv| Gaps {
            mean_s,
            cv,
            count: 500,
            overlaps: 0,
        };
        let think = |gaps| {
            analyse(&track(), "x", 1000.0, 100.0, 2000, 200.0, 2000, Some(gaps))
                .unwrap()
                .think
        };
        assert_eq!(think(g(0.5, 1.02)), Think::Exponential(0.5));
        assert_eq!(think(g(0.5, 0.4)), Think::Gamma { mean: 0.5, cv: 0.4 });
        // no timers: the least a closed population takes
        assert_eq!(think(g(0.0003, 0.9)), Think::Exponential(MIN_THINK_S));
        // too few gaps: Little's law
        let few = Gaps {
            count: 5,
            ..g(0.5, 0.0)
        };
        assert_eq!(think(few), Think::Exponential(c.think_little_s));
    }

    #[test]
    fn no_recorded_users_no_closed_population() {
        assert!(analyse(&UsersTrack::default(), "x", 0.0, 10.0, 10, 1.0, 10, None).is_none());
    }
}
