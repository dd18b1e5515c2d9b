//! The model's thread count (threads x instances, all in one instance) and where it comes
//! from: `--threads` (the site's config, as its owner knows it), the knee of the data (where
//! throughput stops growing: the capacity is seen), or, when the capacity cannot be seen, an
//! ASSUMPTION that is never fewer than the requests in progress the data show: the users a
//! closed test recorded, else by Little's law (sum of response times / span, over the whole
//! span and in the busiest 10 s window) with room not to queue at that load.
//!
//! It decides a number and says why; `model_toml` writes it and `commands::fit` prints it.

use serde::{Deserialize, Serialize};

use super::closed::Closed;
use super::concurrency::Contention;

/// Where the thread count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ThreadsFrom {
    /// `--threads`.
    Flag,
    /// The knee of the data.
    Data,
    /// Neither: an assumption the user is asked to confirm.
    Assumption,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Capacity {
    pub threads: u32,
    pub from: ThreadsFrom,
    /// Why this many, in words (the model's comment).
    pub why: String,
    /// Requests in progress on average over the whole span, by Little's law (sum of response
    /// times / span).
    pub in_progress_whole_span: f64,
    /// Most requests in progress in a 10 s window (Little's law, counting the one arriving).
    pub in_progress_peak_window: Option<f64>,
    /// Most users a closed test recorded at once.
    pub recorded_users: Option<u32>,
    /// Said when `--threads` is fewer than the requests the data show in progress.
    pub warning: Option<String>,
    /// The queue's places fitted to the data (open arrivals with requests turned away and
    /// threads not assumed; see `queue_fit`); None: the queue is an assumption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<super::queue_fit::QueueFit>,
}

/// The thread count for the model. `sum_time_s` is the sum of the response times of every
/// request with a time, `span_s` the data's span.
pub(crate) fn decide(
    flag: Option<u32>,
    contention: Option<&Contention>,
    closed: Option<&Closed>,
    sum_time_s: f64,
    span_s: f64,
) -> Capacity {
    let whole = sum_time_s / span_s.max(1.0);
    let peak = contention.map(|c| c.max_concurrency_seen);
    let recorded = closed.map(|c| c.users);
    let mut cap = Capacity {
        threads: 1,
        from: ThreadsFrom::Assumption,
        why: String::new(),
        in_progress_whole_span: whole,
        in_progress_peak_window: peak,
        recorded_users: recorded,
        warning: None,
        queue: None,
    };
    if let Some(n) = flag {
        cap.threads = n;
        cap.from = ThreadsFrom::Flag;
        cap.why = "from --threads".into();
        if f64::from(n) < whole {
            cap.warning = Some(format!(
                "--threads {n} is fewer than the {whole:.1} requests in progress on average over the data (Little's law): the other {:.1} waited for a thread, and the fit takes that waiting out of the service time (below). Right for a site that queues; if the response times do not grow with the load (no waiting), the site served more than {n} at once",
                whole - f64::from(n)
            ));
        }
        return cap;
    }
    if let Some(k) = contention.and_then(|c| c.knee) {
        cap.threads = k.round().max(1.0) as u32;
        cap.from = ThreadsFrom::Data;
        cap.why = format!(
            "from the data: throughput stops growing at about {k:.0} requests in progress (the knee); threads x instances"
        );
        return cap;
    }
    match closed {
        Some(c) => {
            cap.threads = c.users.max(whole.ceil() as u32).max(1);
            cap.why = format!(
                "ASSUMPTION: threads unknown, confirm with --threads N; the capacity is not seen (no knee): the {} users the test recorded ({}), at least the {whole:.1} requests in progress by Little's law over the span, so that none waits: the service time fitted holds whatever waiting the site had",
                c.users, c.users_from
            );
        }
        None => {
            let n = peak.unwrap_or(0.0).max(1.0 + whole);
            cap.threads = (n + 6.0 * n.sqrt() + 10.0).ceil() as u32;
            cap.why = format!(
                "ASSUMPTION: threads unknown, confirm with --threads N; the capacity is not seen (no knee): {}{whole:.1} in progress on average over the span (Little's law), and room not to queue at that load",
                match peak {
                    Some(p) => format!("at most {p:.1} in progress in a 10 s window, "),
                    None => String::new(),
                }
            );
        }
    }
    cap
}
