//! What every part of the build needs (`Ctx`): the model's text (to place an error at its key),
//! the file's name (to name it) and the folder that files named in the model are read from; with
//! the two builds every part makes, a distribution and a trace, failing at their key.
//!
//! Not here: the build itself (`build`, `build_tier`, the policy files), reading the file
//! (`load`).

use std::path::Path;

use super::dist::{Dist, RawDist};
use super::error::{ModelError, Place, locate};
use super::trace::Trace;

/// What every part of the build needs: the text (to place errors), the file's name (to name it)
/// and the folder that files named in the model are read from.
pub(super) struct Ctx<'a> {
    pub text: &'a str,
    pub file: &'a str,
    pub base: &'a Path,
}

impl Ctx<'_> {
    /// An error about `key` (`tier[1].threads`), placed at its line and column in the text
    /// when it is there, and naming it as the planner writes it (`tier.app.threads`).
    pub(super) fn fail(&self, key: &str, message: String) -> ModelError {
        let place = locate(self.text, key)
            .map_or(Place::Whole, |(line, column)| Place::File { line, column });
        ModelError {
            file: self.file.to_string(),
            place,
            key: Some(super::error::named_path(self.text, key)),
            message,
        }
    }

    /// Check and build the distribution at `key`.
    pub(super) fn dist(&self, raw: &RawDist, key: &str) -> Result<Dist, ModelError> {
        raw.build(self.base).map_err(|m| self.fail(key, m))
    }

    pub(super) fn trace(&self, file: &str, key: &str) -> Result<Trace, ModelError> {
        super::trace::read(&self.base.join(file)).map_err(|m| self.fail(key, m))
    }
}
