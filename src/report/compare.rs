//! The hook between `surge compare` and the reports: the section a comparison adds to a report,
//! from the comparison's output folder. `surge compare` is not in this build: until it is, the
//! section says so, and `surge report` skips the comparison of a model's variants with that
//! reason.

use std::path::Path;

use super::{Block, Chart, Section};

/// Whether this build can compare variants.
pub const AVAILABLE: bool = false;

/// The section of a comparison written in `dir` (its `compare.svg`), or `None` if there is none.
pub fn section(dir: &Path) -> Option<Section> {
    let chart = Chart::from_dir(dir, "compare", "The variants side by side.")?;
    Some(Section {
        heading: "Variants compared".into(),
        blocks: vec![Block::Chart(chart)],
    })
}
