//! The service layer: one function per command that does the work (`run`, `sweep`,
//! `crashpoint`, `compare`, `optimize`, `sensitivity`, `fit`, `report`, `plot`, `check`,
//! `bench`, and `new`'s starter models), taking settings
//! resolved once from the flags and returning a typed result; the output folder it writes is
//! part of that result. It prints nothing but progress (a bar, a line per run on stderr) when
//! its settings ask for it (`bench` tells its caller of each workload's result as it ends).
//!
//! Not here: the command line (`cli`), and what a command prints from the result
//! (`commands/`); nor the simulation, the experiments or the renderers it calls (the layers
//! below, in `tests/it/layers.rs`).

pub(crate) mod bench;
pub(crate) mod check;
pub(crate) mod compare;
pub(crate) mod crashpoint;
pub(crate) mod fit;
pub(crate) mod interrupt;
pub(crate) mod new;
pub(crate) mod notes;
pub(crate) mod optimize;
pub(crate) mod plot;
pub(crate) mod progress;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod sensitivity;
pub(crate) mod sweep;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::model::{self, Model, ModelError};
use crate::store::provenance::{self, Provenance};

/// Where a command's model comes from: a file or, with none, the built-in night; and the
/// `--set K=V` overrides on it, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct ModelSource {
    pub(crate) file: Option<PathBuf>,
    pub(crate) sets: Vec<String>,
}

impl ModelSource {
    pub(crate) fn new(file: Option<&Path>, sets: &[String]) -> Self {
        Self {
            file: file.map(Path::to_path_buf),
            sets: sets.to_vec(),
        }
    }

    /// The model, checked.
    pub(crate) fn load(&self) -> Result<Model, ModelError> {
        model::load(self.file.as_deref(), &self.sets)
    }

    /// The model, checked, and the effective model text it was read from (the file, or the
    /// built-in text, with the overrides applied).
    pub(crate) fn load_with_text(&self) -> Result<(Model, String), ModelError> {
        model::load_with_text(self.file.as_deref(), &self.sets)
    }

    /// The model with `extra` overrides after the source's own.
    pub(crate) fn load_with(&self, extra: &[String]) -> Result<Model, ModelError> {
        let mut sets = self.sets.clone();
        sets.extend_from_slice(extra);
        model::load(self.file.as_deref(), &sets)
    }

    /// The effective model as TOML (the file, or the built-in text, with the overrides applied).
    pub(crate) fn text(&self) -> Result<String, ModelError> {
        provenance::effective_text(self.file.as_deref(), &self.sets)
    }

    /// Where the results came from: the version, the model's file and hash, the overrides.
    pub(crate) fn provenance(&self) -> Result<Provenance, ModelError> {
        Provenance::of(self.file.as_deref(), &self.sets)
    }

    /// The model's text as written (the file, or the built-in text), before any override: where
    /// its `[[variant]]` tables are declared.
    pub(crate) fn written_text(&self) -> anyhow::Result<String> {
        match &self.file {
            Some(path) => {
                use anyhow::Context;
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))
            }
            None => Ok(model::BUILTIN_TEXT.to_string()),
        }
    }

    /// The model's file as the user named it, or the built-in model's name.
    pub(crate) fn file_name(&self) -> String {
        self.file
            .as_ref()
            .map_or(model::BUILTIN_NAME.to_string(), |p| p.display().to_string())
    }
}

/// How a command that runs a model many times (`compare`, `sweep`, `crashpoint`) runs them:
/// the resolved form of `cli::ManyRuns` (its `--set` overrides go in [`ModelSource`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct ManyRuns {
    /// Parallel runs (`None`: every core, or the job's share in a Slurm job).
    pub(crate) jobs: Option<usize>,
    /// The base seed (`None`: the model's `scenario.seed`).
    pub(crate) seed: Option<u64>,
    /// The output folder (`None`: `outputs/<model name>/<command>/`, see [`out_dir`]).
    pub(crate) out: Option<PathBuf>,
    /// Run even if a run's estimated event count is absurd.
    pub(crate) allow_huge: bool,
    /// Where the notes go as they arise (a capped `--jobs`, what a resumed journal held, a
    /// line per run): see `notes`.
    pub(crate) notes: notes::Notes,
}

/// What the journaled many-run commands over a model (`crashpoint`, `optimize`, `sensitivity`)
/// share: the model, how long they may take, whether they resume their journal, how the runs
/// run and whether each is a line on stderr. The settings of each hold it beside their own
/// (what a run must avoid and how sure a verdict must be, for the searches that tell one).
#[derive(Debug, Clone)]
pub(crate) struct SearchSettings {
    pub(crate) source: ModelSource,
    /// Wall-clock seconds past which no new run starts.
    pub(crate) budget: Option<f64>,
    /// Read the journal of an interrupted search back instead of starting over.
    pub(crate) resume: bool,
    pub(crate) runs: ManyRuns,
    /// No line per run and no "resumed:" line on stderr.
    pub(crate) quiet: bool,
}

impl SearchSettings {
    /// The instant past which no new run starts, for a search that began at `started`.
    pub(crate) fn deadline(&self, started: Instant) -> Option<Instant> {
        self.budget.map(|b| started + Duration::from_secs_f64(b))
    }
}

/// The output folder of `command` for `model`: `--out`, or `outputs/<model name>/<command>/`
/// with the name made one safe folder name (`folder_name`).
pub(crate) fn out_dir(out: &Option<PathBuf>, model: &Model, command: &str) -> PathBuf {
    out.clone().unwrap_or_else(|| {
        PathBuf::from("outputs")
            .join(folder_name(&model.scenario.name))
            .join(command)
    })
}

/// A model's name as one folder name that stays inside `outputs/`: path separators, `:` and
/// control characters become `_`, a leading dot gets a `_` before it (so `..` is no parent and
/// nothing is hidden), an empty name is `model`, and at most 100 characters are kept.
/// `../../x` is `_.._.._x`; `/etc` is `_etc`.
pub(crate) fn folder_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .take(100)
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.starts_with('.') {
        s.insert(0, '_');
    }
    if s.trim().is_empty() {
        s = "model".into();
    }
    s
}
