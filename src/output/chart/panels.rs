//! What the timeline plots: its layout and the contents of each panel (the curves and how each
//! is read from the time series).

use plotters::prelude::*;

use super::Timeline;
use super::scale::{TimeAxis, YAxis};
use super::theme::*;
use super::theme::{BLUE, GREEN, RED};
use crate::metrics::series::{TierSeries, TimeSeries};

/// Width of the timeline.
pub(super) const WIDTH: u32 = 1600;
pub(super) const MIN_HEIGHT: u32 = 1800;
/// Smallest height of a full-weight panel, pixels; the image grows when many tiers need it.
pub(super) const MIN_PANEL_UNIT: f64 = 250.0;
pub(super) const P50: RGBColor = RGBColor(107, 174, 214);
pub(super) const P95: RGBColor = RGBColor(33, 113, 181);
pub(super) const P99: RGBColor = RGBColor(8, 48, 107);
pub(super) const CAPACITY: RGBColor = RGBColor(40, 40, 40);

/// One line of a panel. Non-finite `y` values break the line.
pub(super) struct Curve {
    pub(super) label: String,
    pub(super) points: Vec<(f64, f64)>,
    pub(super) color: RGBColor,
    pub(super) width: u32,
    pub(super) dashed: bool,
}

pub(super) struct Panel {
    pub(super) title: String,
    pub(super) y_desc: &'static str,
    pub(super) curves: Vec<Curve>,
    /// Use a log scale when the data spans a wide range.
    pub(super) log_if_wide: bool,
    /// Relative height.
    pub(super) weight: f64,
}

pub(super) struct Layout {
    pub(super) height: u32,
    pub(super) x: TimeAxis,
    pub(super) panels: Vec<Panel>,
    pub(super) heights: Vec<u32>,
}

impl Layout {
    pub(super) fn new(t: &Timeline) -> Layout {
        let ts = t.series;
        let bucket = bucket_len(ts);
        let x = TimeAxis::new(time_range(t, bucket), ts.start_clock_s);
        let panels = build_panels(ts, bucket, t.slo_lines);
        let total_w: f64 = panels.iter().map(|p| p.weight).sum();
        let fixed = TITLE_H + BOTTOM_PAD + X_DESC_EXTRA;
        let height = MIN_HEIGHT.max(fixed + (total_w * MIN_PANEL_UNIT).ceil() as u32);
        let unit = f64::from(height - fixed) / total_w;
        let mut heights: Vec<u32> = panels
            .iter()
            .map(|p| (p.weight * unit).floor() as u32)
            .collect();
        // The bottom panel gets the leftover pixels and the room for the x axis description.
        let used: u32 = heights.iter().sum();
        if let Some(last) = heights.last_mut() {
            *last += height - TITLE_H - BOTTOM_PAD - used;
        }
        Layout {
            height,
            x,
            panels,
            heights,
        }
    }
}

pub(super) fn bucket_len(ts: &TimeSeries) -> f64 {
    if ts.bucket_s.is_finite() && ts.bucket_s > 0.0 {
        return ts.bucket_s;
    }
    if let [a, b, ..] = ts.t_s[..] {
        let d = b - a;
        if d.is_finite() && d > 0.0 {
            return d;
        }
    }
    1.0
}

/// Time range shown: the buckets, or (without data) the markers.
pub(super) fn time_range(t: &Timeline, bucket: f64) -> (f64, f64) {
    let finite = || t.series.t_s.iter().copied().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() && hi.is_finite() {
        return (lo, hi + bucket);
    }
    let markers = t
        .outages
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .chain(t.crash_time_s)
        .chain(t.recovered_at_s)
        .filter(|v| v.is_finite());
    let end = markers.fold(0.0_f64, f64::max);
    (0.0, if end > 0.0 { end * 1.05 } else { 3600.0 })
}

/// Points of one column at the bucket midpoints, divided by `div`.
pub(super) fn column(ts: &TimeSeries, col: &[f64], bucket: f64, div: f64) -> Vec<(f64, f64)> {
    ts.t_s
        .iter()
        .zip(col)
        .map(|(&t, &v)| (t + bucket / 2.0, v / div))
        .collect()
}

/// Step line of a per-bucket value held over each whole bucket.
pub(super) fn steps(
    ts: &TimeSeries,
    col: impl Iterator<Item = f64>,
    bucket: f64,
) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for (&t, v) in ts.t_s.iter().zip(col) {
        out.push((t, v));
        out.push((t + bucket, v));
    }
    out
}

pub(super) fn curve(label: &str, points: Vec<(f64, f64)>, color: RGBColor) -> Curve {
    Curve {
        label: label.to_string(),
        points,
        color,
        width: 2,
        dashed: false,
    }
}

pub(super) fn build_panels(
    ts: &TimeSeries,
    bucket: f64,
    slo_lines: Option<(f64, f64)>,
) -> Vec<Panel> {
    let rate = |col: &[f64]| column(ts, col, bucket, bucket);
    let level = |col: &[f64]| column(ts, col, bucket, 1.0);
    let mut retries = curve("retries", rate(&ts.retries), BROWN);
    retries.dashed = true;
    // Concurrent users where a source has users (and the waiting room where there is one). A
    // model of requests only has no users: its panel would be a flat line at 0, so it is left
    // out rather than replaced by "requests in the site" (the sum over tiers of busy threads and
    // queued requests counts a request twice while a web thread waits on the database); its
    // traffic is the offered load below, and what each tier holds is in the tier's panels.
    let traffic = (ts.has_users || ts.room.is_some()).then(|| {
        let mut traffic = Panel {
            title: "Traffic: concurrent users".to_string(),
            y_desc: "users",
            curves: vec![curve("concurrent users", level(&ts.users), BLUE)],
            log_if_wide: false,
            weight: 0.75,
        };
        if let Some(room) = &ts.room {
            traffic.title = "Traffic: users on the site and in the waiting room".to_string();
            traffic.curves[0].label = "on the site".to_string();
            traffic
                .curves
                .push(curve("waiting in the room", level(&room.waiting), ORANGE));
        }
        traffic
    });
    // The clients' own failures, where the model has a breaker or a throttle.
    let mut outcomes = vec![
        curve("succeeded", rate(&ts.succeeded), GREEN),
        curve("rejected", rate(&ts.rejected), ORANGE),
        curve("timed out", rate(&ts.timed_out), PURPLE),
        curve("failed", rate(&ts.failed), RED),
    ];
    if ts.has_breaker {
        outcomes.push(curve("short-circuited", rate(&ts.short_circuited), TEAL));
    }
    if ts.has_throttle {
        outcomes.push(curve("throttled", rate(&ts.throttled), BROWN));
    }
    if ts.has_rate_limit {
        // A part of `rejected`, drawn beside it: how much of the refusal is the edge's.
        outcomes.push(curve("429s of rejected", rate(&ts.rate_limited), GREY));
    }
    let mut panels: Vec<Panel> = traffic.into_iter().collect();
    panels.extend([
        Panel {
            title: "Offered load: attempts per second (first attempts + retries)".to_string(),
            y_desc: "req/s",
            curves: vec![curve("offered", rate(&ts.offered), BLUE), retries],
            log_if_wide: false,
            weight: 0.75,
        },
        Panel {
            title: "Outcomes per second".to_string(),
            y_desc: "req/s",
            curves: outcomes,
            log_if_wide: false,
            weight: 1.0,
        },
        Panel {
            title: "Latency of successful requests".to_string(),
            y_desc: "latency (s)",
            curves: vec![
                curve("p50", level(&ts.p50_s), P50),
                curve("p95", level(&ts.p95_s), P95),
                curve("p99", level(&ts.p99_s), P99),
            ],
            log_if_wide: true,
            weight: 1.0,
        },
    ]);
    if let Some(hops) = hop_panel(ts, bucket) {
        // After the offered load: what the clients sent, then what reached each tier.
        let at = panels.len() - 2;
        panels.insert(at, hops);
    }
    // The success rate the SLO and the outage analysis judge, with their levels.
    let mut success = vec![curve(
        "window success rate",
        level(&ts.window_success_rate),
        GREEN,
    )];
    if let (Some((target, outage)), Some(&t0), Some(&t1)) =
        (slo_lines, ts.t_s.first(), ts.t_s.last())
    {
        for (label, y, color) in [("SLO target", target, BLUE), ("outage below", outage, RED)] {
            let mut c = curve(
                &format!("{label} ({:.1}%)", 100.0 * y),
                vec![(t0, y), (t1 + bucket, y)],
                color,
            );
            c.dashed = true;
            success.push(c);
        }
    }
    panels.push(Panel {
        title: "Success rate over the SLO window ending with each bucket".to_string(),
        y_desc: "success rate",
        curves: success,
        log_if_wide: false,
        weight: 0.75,
    });
    for (k, tier) in ts.tiers.iter().enumerate() {
        panels.extend(tier_panels(ts, tier, bucket));
        let callee = ts.tiers.get(k + 1).map_or("", |t| t.name.as_str());
        panels.extend(pool_panel(ts, tier, callee, bucket));
    }
    panels
}

/// With a connection pool (`[tier.pool]`): its connections in use against its size (the
/// connections per instance x the instances up), and the requests waiting for one.
fn pool_panel(ts: &TimeSeries, tier: &TierSeries, callee: &str, bucket: f64) -> Option<Panel> {
    if tier.pool_in_use.is_empty() {
        return None;
    }
    let level = |col: &[f64]| column(ts, col, bucket, 1.0);
    let size = (tier.instances_up.iter()).map(|&n| n * tier.pool_connections);
    let mut size = curve("pool size", steps(ts, size, bucket), CAPACITY);
    size.dashed = true;
    Some(Panel {
        title: format!("tier {}: its pool of connections to {callee}", tier.name),
        y_desc: "connections",
        curves: vec![
            curve("connections in use", level(&tier.pool_in_use), BLUE),
            size,
            curve(
                "waiting for a connection",
                level(&tier.pool_waiting),
                ORANGE,
            ),
        ],
        log_if_wide: false,
        weight: 0.75,
    })
}

/// With retries at every hop (`[tier.retry]`): the attempts arriving at each tier per second,
/// each tier's retries of its caller among them, on a log scale when the tiers differ widely.
fn hop_panel(ts: &TimeSeries, bucket: f64) -> Option<Panel> {
    if ts.tiers.iter().any(|t| t.arrivals.is_empty()) {
        return None;
    }
    const COLORS: [RGBColor; 6] = [BLUE, GREEN, ORANGE, PURPLE, RED, TEAL];
    let curves = (ts.tiers.iter().enumerate())
        .map(|(k, t)| {
            let points = column(ts, &t.arrivals, bucket, bucket);
            curve(&t.name, points, COLORS[k % COLORS.len()])
        })
        .collect();
    Some(Panel {
        title: "Attempts arriving at each tier per second (each hop's retries included)"
            .to_string(),
        y_desc: "attempts/s",
        curves,
        log_if_wide: true,
        weight: 0.9,
    })
}

/// Two panels per tier, each on its own scale: busy threads against the thread capacity, then
/// the queue. On one scale a saturated tier looked idle: its queue (thousands) set the scale
/// and its busy threads (tens) hugged zero.
fn tier_panels(ts: &TimeSeries, tier: &TierSeries, bucket: f64) -> [Panel; 2] {
    let level = |col: &[f64]| column(ts, col, bucket, 1.0);
    let capacity = tier
        .instances_up
        .iter()
        .map(|&n| n * tier.threads_per_instance);
    let mut cap = curve("thread capacity", steps(ts, capacity, bucket), CAPACITY);
    cap.dashed = true;
    [
        Panel {
            title: format!("tier {}: busy threads", tier.name),
            y_desc: "threads",
            curves: vec![curve("busy threads", level(&tier.busy_threads), BLUE), cap],
            log_if_wide: false,
            weight: 0.75,
        },
        Panel {
            title: format!("tier {}: queued requests", tier.name),
            y_desc: "requests",
            curves: vec![curve("queued requests", level(&tier.queued), ORANGE)],
            log_if_wide: false,
            weight: 0.5,
        },
    ]
}

impl YAxis {
    /// Axis for the finite values of `curves`, at least `[0, 1]`, leaving the top `keep_free`
    /// fraction of the height above the data.
    pub(super) fn for_curves(curves: &[Curve], log_if_wide: bool, keep_free: f64) -> YAxis {
        let values = || {
            curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| p.1))
                .filter(|v| v.is_finite())
        };
        let max = values().fold(0.0_f64, f64::max);
        let min_pos = values().filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
        let stretch = 1.0 / (1.0 - keep_free.clamp(0.0, 0.9));
        if log_if_wide && min_pos.is_finite() && max / min_pos >= 20.0 {
            let lo = min_pos / 1.5;
            let top = max * 1.3;
            YAxis::log(lo, lo * (top / lo).powf(stretch))
        } else {
            YAxis::linear(max * 1.05 * stretch)
        }
    }
}
