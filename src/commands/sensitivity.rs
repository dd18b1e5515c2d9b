//! `surge sensitivity`: the flags resolved into `app::sensitivity::SensitivitySettings`, the
//! screening run by `app::sensitivity::sensitivity`, and the ranked keys printed: each key with
//! its effect on each metric (mu*, in the metric's unit at its level, the direction and sigma).
//!
//! Not here: the work (`app::sensitivity`), the files (`output::sensitivity`), the words of a
//! cell (`report::sensitivity`, shared with the report).

use anyhow::Result;

use crate::app::sensitivity::SensitivitySettings;
use crate::cli::SensitivityArgs;
use crate::experiment::sensitivity::SensitivityDoc;
use crate::output::stdout::{self, outln};
use crate::report::sensitivity::{budget_words, effect_words, metric_heading, zero_words};

pub fn sensitivity(args: &SensitivityArgs) -> Result<()> {
    let s = SensitivitySettings {
        search: super::search_settings(&args.search),
        vary: args.vary.clone(),
        trajectories: args.trajectories,
        levels: args.levels,
        reps: args.reps,
        journal_resumes: true,
    };
    let done = crate::app::sensitivity::sensitivity(&s)?;
    if args.search.quiet {
        return Ok(());
    }
    stdout::print(&said(&done.doc))?;
    outln!(
        "sensitivity.json, sensitivity.csv, tornado.png, report.html in {}",
        done.dir.display()
    );
    Ok(())
}

/// The ranked keys as the terminal shows them.
pub(crate) fn said(doc: &SensitivityDoc) -> String {
    let distinct = doc.points.len();
    let mut out = format!(
        "{}: {} x {} keys on a {}-level grid, {distinct} distinct points x {} = {} runs, \
         common random numbers (seed {})\n",
        doc.method,
        doc.trajectories_words(),
        doc.factors.len(),
        doc.levels,
        doc.reps_words(),
        doc.runs,
        doc.seed
    );
    if let Some(cut) = budget_words(doc) {
        out.push_str(&cut);
        out.push('\n');
    }
    out.push_str(
        "effect = mu*, the mean change of the metric as the key moves across its whole range; \
         the direction from mu; σ = the spread of the effects (interactions, non-linearity)\n",
    );
    let width = (doc.outcomes.iter())
        .map(|o| metric_heading(o).chars().count())
        .max()
        .unwrap_or(0);
    for k in &doc.ranking {
        out.push_str(&format!(
            "\n{}. {}, {}   score {:.2}\n",
            k.rank,
            k.factor.key,
            k.factor.range_words(),
            k.score
        ));
        for (o, e) in doc.outcomes.iter().zip(&k.metrics) {
            out.push_str(&format!(
                "   {:<width$}  {}\n",
                metric_heading(o),
                effect_words(e, o)
            ));
        }
    }
    out.push_str(
        "\nscore: the key's largest mu* as a share of the largest on that metric (1 = moves \
         some metric most)\n",
    );
    if let Some(w) = zero_words(doc) {
        out.push_str(&format!("0: {w}\n"));
    }
    out
}
