//! `app::fit::fit`: read access logs or load-test results, fit arrivals, service time,
//! contention, sessions and the source, and write the fit's folder: model.toml, arrivals.csv,
//! pages.csv and service.csv where the model draws from them, fit.json, fit.png/.svg and the
//! folder's report; then simulate the fitted model against the data (the round trip).
//!
//! Not here: checking the flags (`commands::fit` resolves them into `FitSettings`), what the
//! terminal says of the fit (`commands::fit`, `commands::fit_logs`), the fitting itself (`fit/`).

use anyhow::Result;
use std::path::{Path, PathBuf};

use crate::fit::{self, Options, logs_doc::SourceKind, model_toml, report::Fit};
use crate::model::error::BadInput;
use crate::store::atomic::{write_atomic, write_json};

/// The output folder when none is named.
pub(crate) const DEFAULT_OUT: &str = "outputs/fit";

/// What `surge fit` was asked, resolved from its flags.
pub(crate) struct FitSettings {
    /// The files, merged in time order.
    pub(crate) files: Vec<PathBuf>,
    pub(crate) options: Options,
    /// `--service` and `--source`.
    pub(crate) asked: fit::logs_fit::Asked,
    /// The output folder.
    pub(crate) out: PathBuf,
}

/// The fit, as written to fit.json, and where it went.
pub(crate) struct FitOutcome {
    pub(crate) dir: PathBuf,
    pub(crate) fit: Fit,
    /// Why the fitted model could not be simulated against the data, when it could not.
    pub(crate) round_trip_error: Option<String>,
}

pub(crate) fn fit(s: &FitSettings) -> Result<FitOutcome> {
    let opts = &s.options;
    if s.out.exists() && !s.out.is_dir() {
        return Err(BadInput(format!(
            "--out {}: is a file, not a folder: give a folder for the fit's outputs",
            s.out.display()
        ))
        .into());
    }
    let readings = fit::read_all(&s.files, opts)?;
    let mut fitted = fit::report::analyse(&readings.traffic, opts);
    fit::logs_fit::complete(&mut fitted, &readings, opts, &s.asked)?;
    fit::model_logs::without_times(&mut fitted);
    let files: Vec<String> = readings
        .traffic
        .files
        .iter()
        .chain(readings.timing.iter().flat_map(|r| r.files.iter()))
        .map(|f| format!("{} ({})", f.path.display(), f.format))
        .collect();
    let model = model_toml::write(&fitted, &files.join(", "), "fitted").map_err(BadInput)?;
    let out = &s.out;
    std::fs::create_dir_all(out)
        .map_err(|e| BadInput(format!("--out {}: cannot be created ({e})", out.display())))?;
    write_atomic(
        &out.join("arrivals.csv"),
        fitted.arrivals.trace_csv().as_bytes(),
    )?;
    write_pages(&fitted, out)?;
    if let Some(e) = fit::report::service_choice::empirical(&fitted) {
        write_atomic(
            &out.join(fit::report::service_choice::SERVICE_CSV),
            fit::report::service_choice::csv(e).as_bytes(),
        )?;
    }
    let timing_names = readings.timing.as_ref().map(|r| {
        r.files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    });
    let timing = readings
        .timing
        .as_ref()
        .zip(timing_names.as_deref())
        .map(|(r, names)| fit::roundtrip::Timing {
            names,
            collected: &r.collected,
            // the model at the test's own load, to set its p95 beside the test's
            at_its_load: model_toml::at_load_of(&model, &fit::report::analyse(r, opts)),
        });
    // contention fitted to open arrivals without the threads may be waiting: show what the
    // model makes of more load
    let extrapolates = fitted.contention.as_ref().is_some_and(|c| {
        c.significant && c.waiting_taken_out_for.is_none() && c.load_from.starts_with("arrivals")
    });
    let round_trip = fit::roundtrip::check(
        &model,
        out,
        &readings.traffic.collected,
        timing.as_ref(),
        extrapolates.then_some(fit::roundtrip::MORE_LOAD),
    );
    if let Ok(rt) = &round_trip {
        let mut rt = rt.clone();
        // only where the service was fitted to the same data's times (not given, not taken
        // from another file at another load)
        let own_times = rt.data.p95_s.is_some() && rt.times_from.is_none();
        rt.by_construction = fit::roundtrip::by_construction(
            fitted.closed.as_ref(),
            &fitted.arrivals,
            fitted.capacity.from != fit::capacity::ThreadsFrom::Assumption,
        )
        .filter(|_| own_times);
        fitted.round_trip = Some(rt);
    }
    write_atomic(&out.join("model.toml"), model.as_bytes())?;
    write_json(&out.join("fit.json"), &fitted)?;
    crate::output::chart::draw_fit(
        &fitted,
        &format!("surge fit: {}", files.join(", ")),
        &out.join("fit.png"),
        &out.join("fit.svg"),
    )?;
    crate::report::write(out, &crate::report::fit::build(&fitted, &model, out))?;
    Ok(FitOutcome {
        dir: out.clone(),
        fit: fitted,
        round_trip_error: round_trip.err(),
    })
}

/// pages.csv, where the model draws pages per session from the counts.
fn write_pages(fit: &Fit, out: &Path) -> Result<()> {
    if let Some(s) = &fit.logs.sessions
        && fit.logs.model_source.kind == SourceKind::Users
        && s.pages.model == "empirical"
    {
        write_atomic(&out.join("pages.csv"), s.pages_csv().as_bytes())?;
    }
    Ok(())
}
