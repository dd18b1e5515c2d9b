//! `summary.json` as a type: [`RunSummary`], what `surge run` writes and what the report, `surge
//! plot` and `surge report` read back. One replication's [`Summary`], or over replications the
//! means tree ([`SummaryMeans`]) with its `ci95` tree, every replication's summary and their
//! count. The provenance beside it is `store::json::Documented`. It computes nothing: the means
//! are `means`, the summary of a run `summary`.

use serde::{Deserialize, Serialize};

use super::means::{SummaryCi, SummaryMeans, over_replications};
use super::summary::Summary;

/// `summary.json` of `surge run --reps N` (N > 1): the means at the top level, as a summary is
/// shaped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MeanSummary {
    #[serde(flatten)]
    pub(crate) mean: SummaryMeans,
    pub(crate) ci95: SummaryCi,
    pub(crate) replications: Vec<Summary>,
    pub(crate) reps: usize,
    /// Some replication stopped at a bound (`mean.ended_by` is the first such one's bound).
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) partial: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What `summary.json` holds: one replication's summary, or the means over replications.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum RunSummary {
    One(Box<Summary>),
    Mean(Box<MeanSummary>),
}

impl RunSummary {
    /// The document of these replications (at least one).
    pub(crate) fn of(reps: &[&Summary]) -> RunSummary {
        if let [one] = reps {
            return RunSummary::One(Box::new((*one).clone()));
        }
        let (mut mean, ci95) = over_replications(reps);
        // Partial if any replication stopped at a bound (not the share that did).
        let stopped = reps.iter().find(|s| s.partial);
        mean.partial = None;
        if let Some(p) = stopped {
            mean.ended_by = p.ended_by;
        }
        RunSummary::Mean(Box::new(MeanSummary {
            mean,
            ci95,
            replications: reps.iter().map(|s| (*s).clone()).collect(),
            reps: reps.len(),
            partial: stopped.is_some(),
        }))
    }

    /// The means and their 95% half-widths: one replication's figures (no half-widths) for one.
    pub(crate) fn means(&self) -> (SummaryMeans, SummaryCi) {
        match self {
            RunSummary::One(s) => over_replications(&[s]),
            RunSummary::Mean(m) => {
                let mut mean = m.mean.clone();
                mean.partial = m.partial.then_some(1.0);
                (mean, m.ci95.clone())
            }
        }
    }

    /// Every replication's summary: none for one run (its summary is the document).
    pub(crate) fn replications(&self) -> &[Summary] {
        match self {
            RunSummary::One(_) => &[],
            RunSummary::Mean(m) => &m.replications,
        }
    }

    /// The summary of every replication: the document's own for one run.
    pub(crate) fn runs(&self) -> Vec<&Summary> {
        match self {
            RunSummary::One(one) => vec![one],
            RunSummary::Mean(m) => m.replications.iter().collect(),
        }
    }

    /// Replications run.
    pub(crate) fn reps(&self) -> usize {
        match self {
            RunSummary::One(_) => 1,
            RunSummary::Mean(m) => m.reps,
        }
    }

    pub(crate) fn seed(&self) -> u64 {
        match self {
            RunSummary::One(s) => s.seed,
            RunSummary::Mean(m) => m.mean.seed,
        }
    }

    pub(crate) fn model(&self) -> &str {
        match self {
            RunSummary::One(s) => &s.model,
            RunSummary::Mean(m) => &m.mean.model,
        }
    }

    pub(crate) fn partial(&self) -> bool {
        match self {
            RunSummary::One(s) => s.partial,
            RunSummary::Mean(m) => m.partial,
        }
    }
}

/// The means tree when the document has `replications`, one summary otherwise; an error says
/// where in the document a field is not what it should be.
impl<'de> Deserialize<'de> for RunSummary {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RunSummary, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        let replicated =
            matches!(&v, serde_json::Value::Object(m) if m.contains_key("replications"));
        let read = if replicated {
            serde_path_to_error::deserialize(v).map(|m| RunSummary::Mean(Box::new(m)))
        } else {
            serde_path_to_error::deserialize(v).map(|s| RunSummary::One(Box::new(s)))
        };
        read.map_err(|e| D::Error::custom(format!("at {}: {}", e.path(), e.inner())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_summary_and_the_means_read_back_as_written() {
        let mut a = Summary {
            model: "m".into(),
            seed: 7,
            ..Summary::default()
        };
        a.requests.attempts.offered = 10;
        let mut b = a.clone();
        b.requests.attempts.offered = 20;
        b.partial = true;
        for doc in [RunSummary::of(&[&a]), RunSummary::of(&[&a, &b])] {
            let text = serde_json::to_string(&doc).unwrap();
            let back: RunSummary = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
            assert_eq!(back.seed(), 7);
        }
        let two = RunSummary::of(&[&a, &b]);
        assert!(two.partial());
        assert_eq!(two.means().0.requests.attempts.offered, Some(15.0));
        assert_eq!(two.means().0.partial, Some(1.0));
        let e = serde_json::from_str::<RunSummary>(r#"{"replications": 3}"#).unwrap_err();
        assert!(e.to_string().starts_with("at replications: "), "{e}");
    }
}
