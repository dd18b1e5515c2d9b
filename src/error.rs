//! Errors that are the user's to fix. `BadInput` is input the user must fix (exit code 2), as
//! opposed to a failure of the machine (exit code 1); a model that cannot be used is a
//! `model::ModelError`, which is also bad input. `main` turns both into exit code 2.

/// Input the user must fix (exit code 2): a bad command-line value, say.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);
