//! From the sessions counted in an access log (`sessions::Visits`) to a `kind = "users"`
//! source: new sessions per second over the data (a baseline with a profile, as the requests'
//! arrivals), pages per session (a geometric distribution of the same mean, or the counts
//! themselves when the geometric does not fit them), think time between pages (the
//! maximum-likelihood candidates of `dists`), returning visitors, and assets per page; each
//! with how well it fits. The model's `users` is Little's law: sessions per second x pages x
//! (response + think).
//!
//! It decides nothing about the service time; writing the model is `model_logs`' business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::arrivals::{self, Arrivals};
use super::dists::{Candidate, fit_all};
use super::sessions::{MAX_PAGES_COUNTED, Visits};

/// Sessions needed, and the share of them the data hold whole, for a users source.
pub(crate) const MIN_SESSIONS: u64 = 30;
/// Largest KS distance of the geometric against the pages counted for the model to use it.
pub(crate) const PAGES_KS_MAX: f64 = 0.05;
/// Sessions ending in a server error needed before their returns can mean anything.
pub(crate) const MIN_ERROR_SESSIONS: u64 = 30;

/// Pages per session: the counts and the distribution the model uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PagesFit {
    pub mean: f64,
    pub cv: f64,
    /// The geometric of the same mean (its maximum-likelihood fit): p = 1 / mean.
    pub geometric_p: f64,
    /// KS distance of that geometric from the counts.
    pub geometric_ks: f64,
    /// What the model uses: `"geometric"`, or `"empirical"` (the counts, pages.csv).
    pub model: String,
    /// Share of sessions of 1, 2, 3, 4, 5, 6-10 and over 10 pages: the data and the geometric.
    pub shares: Vec<PagesShare>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PagesShare {
    pub pages: String,
    pub data: f64,
    pub geometric: f64,
}

/// Returning visitors: sessions from an address that had a session before.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Returning {
    pub sessions: u64,
    pub share: f64,
    /// From the end of the address's previous session to the start of this one.
    pub gap_mean_s: Option<f64>,
    pub gap_fit: Option<Candidate>,
    /// Sessions whose last page was a server error (5xx), and the share that came back.
    pub after_server_error: u64,
    pub returned_after_server_error: Option<f64>,
    /// The others, and the share that came back.
    pub after_other: u64,
    pub returned_after_other: Option<f64>,
    /// The model's `[source.client] return` (users who leave after an error come back):
    /// written only when more come back after a server error than after other endings.
    pub mapped: bool,
    /// The excess probability of coming back after a server error, where mapped.
    pub return_probability: Option<f64>,
    pub why: String,
    /// Some addresses were not remembered (too many): returns are undercounted.
    pub undercounted: bool,
}

/// The sessions of an access log, fitted (fit.json's `sessions`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Sessions {
    pub gap_s: f64,
    pub assets_pattern: String,
    /// Requests that named their client.
    pub requests: u64,
    pub page_views: u64,
    pub assets: u64,
    pub assets_per_page: f64,
    /// Sessions with at least one page.
    pub sessions: u64,
    /// Visits of assets only (no page): not sessions.
    pub asset_only_visits: u64,
    /// Sessions within a gap of the data's first or last request (maybe partly seen).
    pub cut_at_ends: u64,
    /// Requests not sessioned (more clients open at once than kept).
    pub untracked_requests: u64,
    /// New sessions per second per bucket: baseline and profile, as the requests' arrivals.
    pub starts: Arrivals,
    pub pages: PagesFit,
    /// Think time: the time between the starts of consecutive pages of a session.
    pub think: Option<ThinkFit>,
    /// Mean session length, first page to last, seconds.
    pub length_mean_s: f64,
    pub returning: Returning,
    /// Whether the data show sessions enough for a users source, and why (not).
    pub seen: bool,
    pub why: String,
    /// The counts of pages per session, for pages.csv (the model's empirical pages).
    #[serde(skip)]
    pub page_counts: Vec<u64>,
    /// The think times fitted, sorted (for the chart).
    #[serde(skip)]
    pub think_sorted: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ThinkFit {
    /// Exact mean and cv of every think time.
    pub mean_s: f64,
    pub cv: f64,
    pub gaps: u64,
    /// Pages in the same second as the previous one, read as 0.5 s.
    pub zero_gaps: u64,
    pub fitted_on: usize,
    pub best: Candidate,
    pub candidates: Vec<Candidate>,
    /// Share of the fitted distribution beyond the session gap: think times the data cannot
    /// hold (they would have split the session).
    pub beyond_gap: f64,
}

fn pages_shares(counts: &[u64], total: f64, p: f64) -> Vec<PagesShare> {
    let geo = |k: usize| p * (1.0 - p).powi(k as i32 - 1);
    let data = |lo: usize, hi: usize| -> f64 {
        counts[lo..=hi.min(counts.len() - 1)].iter().sum::<u64>() as f64 / total
    };
    let mut v: Vec<PagesShare> = (1..=5)
        .map(|k| PagesShare {
            pages: k.to_string(),
            data: data(k, k),
            geometric: geo(k),
        })
        .collect();
    v.push(PagesShare {
        pages: "6-10".into(),
        data: data(6, 10),
        geometric: (6..=10).map(geo).sum(),
    });
    v.push(PagesShare {
        pages: "over 10".into(),
        data: data(11, counts.len() - 1),
        geometric: (1.0 - p).powi(10),
    });
    v
}

fn pages_fit(v: &Visits) -> PagesFit {
    let total = v.sessions.max(1) as f64;
    let mean = v.pages_per_session.mean.max(1.0);
    let p = 1.0 / mean;
    // KS over the counts: the largest gap between the cumulative shares
    let mut ks: f64 = 0.0;
    let mut cum = 0u64;
    for (k, &c) in v.page_counts.iter().enumerate().skip(1) {
        cum += c;
        let f = 1.0 - (1.0 - p).powi(k as i32);
        ks = ks.max((cum as f64 / total - f).abs());
        if k < MAX_PAGES_COUNTED && c > 0 {
            let before = (cum - c) as f64 / total;
            let f0 = 1.0 - (1.0 - p).powi(k as i32 - 1);
            ks = ks.max((before - f0).abs());
        }
    }
    PagesFit {
        mean,
        cv: v.pages_per_session.cv(),
        geometric_p: p,
        geometric_ks: ks,
        model: if ks <= PAGES_KS_MAX {
            "geometric".into()
        } else {
            "empirical".into()
        },
        shares: pages_shares(&v.page_counts, total, p),
    }
}

fn think_fit(v: &Visits) -> (Option<ThinkFit>, Vec<f64>) {
    let Some(cands) = fit_all(&v.think.kept).filter(|c| !c.is_empty()) else {
        return (None, Vec::new());
    };
    let mut sorted = v.think.kept.clone();
    sorted.sort_by(f64::total_cmp);
    let best = cands[0].clone();
    let beyond_gap = 1.0 - best.fitted.cdf(v.gap_s);
    let fit = ThinkFit {
        mean_s: v.think.all.mean,
        cv: v.think.all.cv(),
        gaps: v.think.all.n,
        zero_gaps: v.zero_thinks,
        fitted_on: sorted.len(),
        best,
        candidates: cands,
        beyond_gap,
    };
    (Some(fit), sorted)
}

fn share(returned: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| returned as f64 / of as f64)
}

fn returning(v: &Visits) -> Returning {
    let (e, o) = (v.after_error, v.after_success);
    let (re, ro) = (share(e.returned, e.sessions), share(o.returned, o.sessions));
    let gap_fit = fit_all(&v.return_gaps.kept).and_then(|c| c.first().cloned());
    let mut r = Returning {
        sessions: v.returning,
        share: v.returning as f64 / v.sessions.max(1) as f64,
        gap_mean_s: (v.return_gaps.all.n > 0).then_some(v.return_gaps.all.mean),
        gap_fit,
        after_server_error: e.sessions,
        returned_after_server_error: re,
        after_other: o.sessions,
        returned_after_other: ro,
        mapped: false,
        return_probability: None,
        why: String::new(),
        undercounted: v.addresses_capped,
    };
    let (Some(re), Some(ro)) = (re, ro) else {
        r.why = format!(
            "reported only: {} sessions ended in a server error (5xx), too few to tell whether users come back after errors (the model's `return`)",
            e.sessions
        );
        return r;
    };
    if e.sessions >= MIN_ERROR_SESSIONS && r.gap_fit.is_none() {
        r.why = format!(
            "reported only: {} sessions ended in a server error (5xx), but too few users came back to fit the delay before they return (the model's `return`)",
            e.sessions
        );
        return r;
    }
    if e.sessions < MIN_ERROR_SESSIONS {
        r.why = format!(
            "reported only: {} sessions ended in a server error (5xx), fewer than {MIN_ERROR_SESSIONS}: too few to tell whether users come back after errors (the model's `return`)",
            e.sessions
        );
        return r;
    }
    // two proportions: is coming back after a server error more likely than after the others?
    let pooled = (e.returned + o.returned) as f64 / (e.sessions + o.sessions) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / e.sessions as f64 + 1.0 / o.sessions as f64)).sqrt();
    let z = if se > 0.0 { (re - ro) / se } else { 0.0 };
    if z > 2.0 {
        r.mapped = true;
        r.return_probability = Some(((re - ro) / (1.0 - ro)).clamp(0.0, 1.0));
        r.why = format!(
            "mapped onto [source.client] return: {:.1}% came back after a server error against {:.1}% after other endings ({z:.1} standard errors apart); the probability is the excess",
            100.0 * re,
            100.0 * ro
        );
    } else {
        r.why = format!(
            "reported only: {:.1}% came back after a server error and {:.1}% after other endings, not told apart ({z:.1} standard errors): returns are part of the new sessions counted, not a reaction to errors",
            100.0 * re,
            100.0 * ro
        );
    }
    r
}

/// The sessions of `v`, their starts bucketed by `bucket_s` over the data's span
/// [`first_s`, `last_s`]; `None` when no request named its client.
pub(crate) fn fit(
    v: &Visits,
    first_s: f64,
    last_s: f64,
    bucket_s: f64,
    assets_pattern: &str,
) -> Option<Sessions> {
    if !v.seen() {
        return None;
    }
    let starts = arrivals::from_seconds(&v.starts, first_s, last_s, bucket_s);
    let pages = pages_fit(v);
    let (think, think_sorted) = think_fit(v);
    let whole = v.sessions.saturating_sub(v.cut);
    let (seen, why) = if v.sessions < MIN_SESSIONS {
        (
            false,
            format!(
                "{} sessions, fewer than {MIN_SESSIONS}: too few to fit",
                v.sessions
            ),
        )
    } else if 2 * whole < v.sessions {
        (
            false,
            format!(
                "{} of {} sessions run into the start or the end of the data (within the {:.0} s gap): the data are too short for their sessions, or the clients are machines that never pause",
                v.cut, v.sessions, v.gap_s
            ),
        )
    } else if think.is_none() {
        (
            false,
            "fewer than 10 sessions of two pages or more: no think time to fit".into(),
        )
    } else {
        (
            true,
            format!(
                "{} sessions, {} of them whole within the data",
                v.sessions, whole
            ),
        )
    };
    Some(Sessions {
        gap_s: v.gap_s,
        assets_pattern: assets_pattern.to_string(),
        requests: v.requests,
        page_views: v.pages,
        assets: v.assets,
        assets_per_page: v.assets as f64 / v.pages.max(1) as f64,
        sessions: v.sessions,
        asset_only_visits: v.asset_only,
        cut_at_ends: v.cut,
        untracked_requests: v.untracked,
        starts,
        pages,
        think,
        length_mean_s: v.length.mean,
        returning: returning(v),
        seen,
        why,
        page_counts: v.page_counts.clone(),
        think_sorted,
    })
}

impl Sessions {
    /// Mean pages per session in the model: the geometric's mean, or the counts' own mean.
    pub(crate) fn model_pages_mean(&self) -> f64 {
        self.pages.mean
    }

    /// The model's `users`: baseline sessions per second x pages x (response + think), with
    /// `response_s` the model's mean response time when nothing queues.
    pub(crate) fn users(&self, response_s: f64) -> f64 {
        let think = self.think.as_ref().map_or(0.0, |t| t.best.mean_s);
        self.starts.baseline_rate_per_s * self.model_pages_mean() * (response_s + think)
    }

    /// pages.csv: every session's count of pages, one a line (the model's empirical pages).
    pub(crate) fn pages_csv(&self) -> String {
        let mut s = String::with_capacity(self.sessions as usize * 3);
        for (k, &c) in self.page_counts.iter().enumerate().skip(1) {
            for _ in 0..c {
                s.push_str(&k.to_string());
                s.push('\n');
            }
        }
        s
    }

    /// The status codes as fit.json lists them.
    pub(crate) fn statuses(v: &Visits) -> BTreeMap<String, u64> {
        v.statuses
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(s, &n)| {
                let k = if s == 0 {
                    "unknown".to_string()
                } else {
                    s.to_string()
                };
                (k, n)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Record;
    use crate::fit::sessions::Visit;

    fn page(t: f64, address: u64, status: u16) -> Record {
        Record {
            start_s: t,
            time_s: f64::NAN,
            ok: status < 400,
            endpoint: 1,
            concurrency: f32::NAN,
            visit: Visit {
                client: address,
                address,
                status,
                asset: false,
            },
            refusal: Default::default(),
        }
    }

    #[test]
    fn returns_after_server_errors_are_mapped_only_when_they_stand_out() {
        // 40 sessions end in a 503, 30 of them come back an hour later; 100 end well, 10 of
        // them come back: 30/40 against 10/140 (the returns end well too)
        let mut recs = Vec::new();
        for a in 0..40u64 {
            recs.push(page(a as f64, a + 1, 503));
            if a < 30 {
                recs.push(page(a as f64 + 3600.0, a + 1, 200));
            }
        }
        for a in 0..100u64 {
            recs.push(page(50.0 + a as f64, a + 1000, 200));
            if a < 10 {
                recs.push(page(3700.0 + a as f64, a + 1000, 200));
            }
        }
        recs.sort_by(|x, y| x.start_s.total_cmp(&y.start_s));
        let mut v = Visits::new(1800.0);
        for r in &recs {
            v.add(r);
        }
        v.finish();
        let r = returning(&v);
        assert_eq!((r.after_server_error, r.after_other), (40, 140));
        assert_eq!(r.sessions, 40);
        assert!(r.mapped, "{r:?}");
        let (re, ro) = (30.0 / 40.0, 10.0 / 140.0);
        assert!((r.return_probability.unwrap() - (re - ro) / (1.0 - ro)).abs() < 1e-12);
        // the same share after both endings: reported only
        let mut v = Visits::new(1800.0);
        for a in 0..100u64 {
            v.add(&page(a as f64, a + 1, if a < 50 { 503 } else { 200 }));
        }
        for a in 0..100u64 {
            if a % 5 == 0 {
                v.add(&page(3600.0 + a as f64, a + 1, 200));
            }
        }
        v.finish();
        let r = returning(&v);
        assert!(!r.mapped && r.why.starts_with("reported only"), "{r:?}");
    }
}
