//! `surge merge DIR... --out DIR`: put the shards of one sweep back together
//! (`app::sweep::merge`, which checks them and writes the sweep's files) and print the sweep's
//! table, as `surge sweep` on one machine prints it.
//!
//! Not here: finding and checking the shards, or writing anything (`app::sweep::merge`).

use anyhow::Result;

use crate::app::sweep::MergeSettings;
use crate::cli::MergeArgs;

pub fn merge(args: &MergeArgs) -> Result<()> {
    let files = crate::app::sweep::merge(&MergeSettings {
        dirs: args.dirs.clone(),
        out: args.out.clone(),
        quiet: args.quiet,
        notes: super::stderr_notes(),
    })?;
    if args.quiet {
        return Ok(());
    }
    crate::output::stdout::print(&crate::output::sweep::said(
        &files.id, &files.doc, &files.dir,
    ))
}
