//! What fit.json holds for access logs (flattened into `fit::report::Fit`): the status codes,
//! the sessions, a service given rather than fitted, which figure came from which file, and the
//! source the model uses. Types only: `logs_fit` fills them, `model_logs` writes the model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::service_spec::ServiceSpec;
use super::sessions_fit::Sessions;

/// Which source the model uses (`--source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Requests,
    Users,
}

/// A service time given rather than fitted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ServiceGiven {
    #[serde(flatten)]
    pub spec: ServiceSpec,
    /// `"--service"`, or `"assumption"` (a placeholder: nothing said what it is).
    pub from: String,
}

/// Which figure came from which file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Provenance {
    /// Arrivals, profile, endpoints, status codes.
    pub arrivals: Vec<String>,
    /// Sessions (pages, think, returns), where the data name their clients.
    pub sessions: Vec<String>,
    /// The service time: files, `--service ...`, or `ASSUMPTION ...`.
    pub service: String,
    /// Contention and the knee: files, or none.
    pub contention: String,
}

/// The source the model uses, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ModelSource {
    pub kind: SourceKind,
    pub why: String,
    /// A users source's `users` (Little's law), and the response time it counts per page.
    pub users: Option<f64>,
    pub nominal_response_s: Option<f64>,
}

/// fit.json's keys for access logs (flattened into `Fit`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LogsFit {
    /// Requests by HTTP status, where the files record it.
    pub status_codes: BTreeMap<String, u64>,
    pub sessions: Option<Sessions>,
    pub service_given: Option<ServiceGiven>,
    pub provenance: Provenance,
    pub model_source: ModelSource,
}

impl Default for LogsFit {
    fn default() -> Self {
        LogsFit {
            status_codes: BTreeMap::new(),
            sessions: None,
            service_given: None,
            provenance: Provenance::default(),
            model_source: ModelSource {
                kind: SourceKind::Requests,
                why: "the data name no clients".into(),
                users: None,
                nominal_response_s: None,
            },
        }
    }
}
