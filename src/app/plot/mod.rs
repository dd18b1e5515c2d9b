//! `surge plot`'s work: redraw the charts of a finished sweep, crash-point search, comparison or
//! sensitivity screening from its data files (`sweep.json`, `crashpoint.json`, `compare.json`,
//! `sensitivity.json`), or of a run from `timeseries.csv` and `summary.json`, without simulating
//! again, and rewrite the folder's report (with the `--assert` checks kept in `checks.json`). On
//! a `surge report` folder it does so in each step's folder (`run/`, `crashpoint/`, `compare/`,
//! `sensitivity/`) and leaves the report of the whole as
//! it was (its budget and steps are not kept in the data files). Each folder is locked while it
//! is redrawn.
//!
//! Not here: the wording (`commands::plot`), the charts themselves (`output`), the reports
//! (`report`), and reading a run's time series back (`timeline`).

mod timeline;

use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

use crate::error::BadInput;
use crate::experiment::compare::Comparison;
use crate::experiment::crashpoint::CrashPoint;
use crate::experiment::sensitivity::SensitivityDoc;
use crate::experiment::sweep::Vary;
use crate::output::chart;
use crate::output::points::SweepDoc;
use crate::report;
use crate::store::json::{Documented, read_json};
use crate::store::lock::lock;

/// What `surge plot` redraws: a result folder, or a `surge report` folder.
#[derive(Debug, Clone)]
pub(crate) struct PlotSettings {
    pub(crate) dir: PathBuf,
}

/// What `surge plot` did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlotOutcome {
    /// Each folder whose charts were redrawn and whose report.html and report.md were rewritten:
    /// the folder named, or the step folders of a `surge report` folder, in the order `run`,
    /// `crashpoint`, `compare`.
    pub(crate) redrawn: Vec<Redrawn>,
    /// The report of a `surge report` folder, left as it was (`None` for a result folder).
    pub(crate) left_as_it_was: Option<PathBuf>,
}

/// One folder redrawn, its report rewritten.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Redrawn {
    pub(crate) dir: PathBuf,
    pub(crate) charts: Charts,
}

/// Which charts a folder's data files gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Charts {
    /// The sweep's charts, from `sweep.json`.
    Sweep,
    /// The crash-point chart, from `crashpoint.json`.
    CrashPoint,
    /// The comparison chart, from `compare.json`: its outage strips and key metrics (the file
    /// keeps no time series).
    Compare,
    /// The timeline, from `timeseries.csv` and `summary.json`.
    Timeline,
    /// The tornado chart, from `sensitivity.json`.
    Tornado,
}

/// The step folders of a `surge report` folder.
const REPORT_STEPS: [&str; 4] = ["run", "crashpoint", "compare", "sensitivity"];

/// Redraw the charts of `settings.dir` (or of each step of a report folder) and rewrite their
/// reports; bad input when there is nothing to plot.
pub(crate) fn plot(settings: &PlotSettings) -> Result<PlotOutcome> {
    let dir = &settings.dir;
    let _lock = match dir.is_dir() {
        true => Some(lock(dir)?),
        false => None,
    };
    if let Some(charts) = redraw(dir)? {
        rewrite_report(dir)?;
        return Ok(PlotOutcome {
            redrawn: vec![Redrawn {
                dir: dir.clone(),
                charts,
            }],
            left_as_it_was: None,
        });
    }
    let mut redrawn = Vec::new();
    for sub in REPORT_STEPS {
        let sub = dir.join(sub);
        if !sub.is_dir() {
            continue;
        }
        let _lock = lock(&sub)?;
        if let Some(charts) = redraw(&sub)? {
            rewrite_report(&sub)?;
            redrawn.push(Redrawn { dir: sub, charts });
        }
    }
    if redrawn.is_empty() {
        bail!(BadInput(format!(
            "{} holds no sweep.json, crashpoint.json, compare.json, sensitivity.json or \
             timeseries.csv (nor a report's run/, crashpoint/, compare/ or sensitivity/ holding \
             them): nothing to plot",
            dir.display()
        )));
    }
    Ok(PlotOutcome {
        redrawn,
        left_as_it_was: Some(dir.join("report.html")),
    })
}

/// Redraw the charts of `dir` from its data files; which, or `None` when it holds none.
fn redraw(dir: &Path) -> Result<Option<Charts>> {
    Ok(if dir.join("sweep.json").exists() {
        sweep_from(dir)?;
        Some(Charts::Sweep)
    } else if dir.join("crashpoint.json").exists() {
        crashpoint_from(dir)?;
        Some(Charts::CrashPoint)
    } else if dir.join("compare.json").exists() {
        compare_from(dir)?;
        Some(Charts::Compare)
    } else if dir.join("sensitivity.json").exists() {
        let doc: SensitivityDoc = read_json(&dir.join("sensitivity.json"))?;
        crate::output::sensitivity::draw(dir, &doc)?;
        Some(Charts::Tornado)
    } else if dir.join("timeseries.csv").exists() {
        timeline::draw_from(dir)?;
        Some(Charts::Timeline)
    } else {
        None
    })
}

/// The report of the folder again, from its data files, the charts just drawn and the checks
/// kept in `checks.json`. The model text is not among the data files: it is kept from the
/// report.md written by the command, if any.
fn rewrite_report(dir: &Path) -> Result<()> {
    let model_text = std::fs::read_to_string(dir.join("report.md"))
        .ok()
        .and_then(|md| report::markdown::model_text_of(&md));
    let checks = report::assert::read_checks(dir)?;
    let page = if dir.join("sweep.json").exists() {
        report::sweep::build(&report::sweep::SweepFolder::read(dir)?)
    } else if dir.join("crashpoint.json").exists() {
        report::crashpoint::build(
            &report::crashpoint::CrashFolder::read(dir)?,
            model_text.as_deref(),
        )
    } else if dir.join("compare.json").exists() {
        let mut page = report::compare::build(&report::compare::CompareFolder::read(dir)?);
        page.checks = checks;
        page
    } else if dir.join("sensitivity.json").exists() {
        let d: Documented<SensitivityDoc> = read_json(&dir.join("sensitivity.json"))?;
        report::sensitivity::build(&d.doc, dir, model_text.as_deref(), d.provenance.as_ref())
    } else {
        report::run::build(
            &report::run::RunFolder::read(dir)?,
            model_text.as_deref(),
            checks,
        )
    };
    report::write(dir, &page)
}

/// The comparison chart from `compare.json`: the SLO's threshold and window from the baseline's
/// first replication.
fn compare_from(dir: &Path) -> Result<()> {
    let cmp: Comparison = read_json(&dir.join("compare.json"))?;
    let slo = cmp
        .variants
        .first()
        .and_then(|v| v.replications.first())
        .map(|s| s.slo.clone());
    chart::draw_compare(
        &chart::CompareChart {
            comparison: &cmp,
            start_clock_s: None,
            outage_below: slo.as_ref().and_then(|s| s.outage_below).unwrap_or(0.5),
            window_s: slo.as_ref().and_then(|s| s.window_s).unwrap_or(300.0),
        },
        &dir.join("compare.png"),
        &dir.join("compare.svg"),
    )
}

/// The sweep's charts from `sweep.json`: each parameter's values in the order the points
/// first take them.
fn sweep_from(dir: &Path) -> Result<()> {
    let doc: SweepDoc = read_json(&dir.join("sweep.json"))?;
    let varies: Vec<Vary> = doc
        .parameters
        .iter()
        .map(|k| {
            let mut values: Vec<String> = Vec::new();
            for p in &doc.points {
                if let Some(v) = p.values.get(k).map(|v| v.text())
                    && !values.contains(&v)
                {
                    values.push(v);
                }
            }
            Vary {
                key: k.clone(),
                values,
            }
        })
        .collect();
    let title = format!(
        "{} — {} points x {} replications",
        doc.model,
        doc.points.len(),
        doc.reps
    );
    crate::output::sweep::draw(&title, &varies, &doc.points, doc.criterion, dir)
}

/// The crash-point chart from `crashpoint.json`.
fn crashpoint_from(dir: &Path) -> Result<()> {
    let cp: CrashPoint = read_json(&dir.join("crashpoint.json"))?;
    let title = format!("crash point in {}", cp.parameter);
    crate::output::crashpoint::draw(&title, &cp, dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ModelSource;
    use crate::app::run::{RunSettings, run};

    /// A ten-minute M/M/c/K run written to `out`.
    fn run_into(out: &Path) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mmck.toml");
        let sets = ["scenario.duration=10m".to_string()];
        run(&RunSettings {
            seed: Some(1),
            ..RunSettings::one(
                ModelSource::new(Some(&file), &sets),
                Some(out.to_path_buf()),
            )
        })
        .unwrap();
    }

    #[test]
    fn a_run_folder_gets_its_timeline_and_report_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        run_into(&dir);
        let svg = std::fs::read(dir.join("timeline.svg")).unwrap();
        for f in ["timeline.svg", "timeline.png", "report.html", "report.md"] {
            std::fs::remove_file(dir.join(f)).unwrap();
        }
        let outcome = plot(&PlotSettings { dir: dir.clone() }).unwrap();
        assert_eq!(
            outcome,
            PlotOutcome {
                redrawn: vec![Redrawn {
                    dir: dir.clone(),
                    charts: Charts::Timeline
                }],
                left_as_it_was: None,
            }
        );
        // The same chart as the run drew, and the report back.
        assert_eq!(std::fs::read(dir.join("timeline.svg")).unwrap(), svg);
        assert!(dir.join("report.html").exists() && dir.join("report.md").exists());
    }

    #[test]
    fn a_report_folder_gets_each_step_and_keeps_the_whole_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let whole = tmp.path().join("report");
        run_into(&whole.join("run"));
        std::fs::create_dir(whole.join("compare")).unwrap();
        let outcome = plot(&PlotSettings { dir: whole.clone() }).unwrap();
        assert_eq!(
            outcome,
            PlotOutcome {
                redrawn: vec![Redrawn {
                    dir: whole.join("run"),
                    charts: Charts::Timeline
                }],
                left_as_it_was: Some(whole.join("report.html")),
            }
        );
        // A folder holding nothing to plot is bad input.
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let e = plot(&PlotSettings { dir: empty }).unwrap_err();
        assert!(e.downcast_ref::<BadInput>().is_some(), "{e}");
        assert!(e.to_string().contains("nothing to plot"), "{e}");
    }
}
