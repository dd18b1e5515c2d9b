//! `surge._surge`: the Python extension module over `surge::api`. Each function takes a
//! command's arguments as the command line writes them and returns the command's documents as
//! one JSON text; the pure-Python package `surge` (python/surge/) builds the arguments, reads the
//! JSON and makes the DataFrames.
//!
//! The work runs on a thread of its own with the GIL released; the calling thread waits for it,
//! looking every 50 ms for a signal (`Python::check_signals`: Ctrl-C raises KeyboardInterrupt
//! there and asks surge to start no new run) and calling the progress callback with how far the
//! work got. An error is raised as `surge._surge.Error` with the command line's message, its
//! kind ("bad_input", "interrupted", "io", "failed") and, for a model error, file, line, column
//! and key; the Python package turns it into `surge.BadInput` or `surge.SurgeError`.
//!
//! Not here: any simulation or statistics (all in the `surge` crate), nor DataFrames.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use std::sync::mpsc;
use std::time::Duration;

create_exception!(
    _surge,
    Error,
    PyException,
    "A failed surge call (see surge.BadInput)."
);

/// How often the waiting thread looks for a signal and reports progress.
const POLL: Duration = Duration::from_millis(50);

type Call = fn(&[String]) -> Result<String, surge::api::Error>;

/// `call(args)` on a thread of its own, the GIL released; see the module's comment.
fn detached(
    py: Python<'_>,
    call: Call,
    args: Vec<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    surge::api::begin();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("surge".into())
        .spawn(move || {
            let _ = tx.send(call(&args));
        })
        .map_err(|e| Error::new_err(("failed", format!("cannot start a thread: {e}"))))?;
    let (mut rx, mut shown) = (rx, None);
    loop {
        // The receiver goes to the detached closure and back (it is Send, not Sync).
        let (back, got) = py.detach(move || {
            let got = rx.recv_timeout(POLL);
            (rx, got)
        });
        rx = back;
        match got {
            Ok(result) => {
                if let (Some(cb), Some(p)) = (&progress, surge::api::progress()) {
                    cb.call1(py, p)?;
                }
                return result.map_err(|e| error(py, e));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::new_err((
                    "failed",
                    "surge's thread panicked".to_string(),
                )));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Err(e) = py.check_signals() {
            // The thread finishes the runs in progress and starts no other; nobody waits.
            surge::api::request_stop();
            return Err(e);
        }
        if let (Some(cb), Some(now)) = (&progress, surge::api::progress())
            && shown != Some(now)
        {
            cb.call1(py, now)?;
            shown = Some(now);
        }
    }
}

/// The exception for `e`: `Error(kind, message)` with `file`, `line`, `column` and `key`.
fn error(py: Python<'_>, e: surge::api::Error) -> PyErr {
    let kind = match e.kind {
        surge::api::ErrorKind::BadInput => "bad_input",
        surge::api::ErrorKind::Interrupted => "interrupted",
        surge::api::ErrorKind::Io => "io",
        surge::api::ErrorKind::Failed => "failed",
    };
    let err = Error::new_err((kind, e.message));
    let value = err.value(py);
    let set = || -> PyResult<()> {
        value.setattr("file", e.file)?;
        value.setattr("line", e.line)?;
        value.setattr("column", e.column)?;
        value.setattr("key", e.key)
    };
    match set() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// `surge check ARGS`: its text and figures, as JSON.
#[pyfunction]
fn check(py: Python<'_>, args: Vec<String>) -> PyResult<String> {
    detached(py, surge::api::check, args, None)
}

/// `surge run ARGS`: summary, provenance, replications, time series (CSV), as JSON.
#[pyfunction]
#[pyo3(signature = (args, progress=None))]
fn run(py: Python<'_>, args: Vec<String>, progress: Option<Py<PyAny>>) -> PyResult<String> {
    detached(py, surge::api::run, args, progress)
}

/// `surge sweep ARGS`: sweep.json and points.csv, as JSON.
#[pyfunction]
#[pyo3(signature = (args, progress=None))]
fn sweep(py: Python<'_>, args: Vec<String>, progress: Option<Py<PyAny>>) -> PyResult<String> {
    detached(py, surge::api::sweep, args, progress)
}

/// `surge crashpoint ARGS`: crashpoint.json, as JSON.
#[pyfunction]
#[pyo3(signature = (args, progress=None))]
fn crashpoint(py: Python<'_>, args: Vec<String>, progress: Option<Py<PyAny>>) -> PyResult<String> {
    detached(py, surge::api::crashpoint, args, progress)
}

/// `surge compare ARGS`: compare.json and compare.csv, as JSON.
#[pyfunction]
#[pyo3(signature = (args, progress=None))]
fn compare(py: Python<'_>, args: Vec<String>, progress: Option<Py<PyAny>>) -> PyResult<String> {
    detached(py, surge::api::compare, args, progress)
}

/// `surge fit ARGS`: fit.json and the fitted model's file, as JSON.
#[pyfunction]
fn fit(py: Python<'_>, args: Vec<String>) -> PyResult<String> {
    detached(py, surge::api::fit, args, None)
}

/// The model at `path` (None: the built-in one) with `sets` (`KEY=VALUE` as `--set` takes
/// them), loaded and checked: its effective TOML text.
#[pyfunction]
#[pyo3(signature = (path, sets))]
fn model_text(py: Python<'_>, path: Option<String>, sets: Vec<String>) -> PyResult<String> {
    py.detach(|| surge::api::model_text(path.as_deref().map(std::path::Path::new), &sets))
        .map_err(|e| error(py, e))
}

/// The built-in model's TOML text and the name errors give it.
#[pyfunction]
fn builtin() -> (&'static str, &'static str) {
    surge::api::builtin()
}

#[pymodule]
fn _surge(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("Error", m.py().get_type::<Error>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(crashpoint, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(model_text, m)?)?;
    m.add_function(wrap_pyfunction!(builtin, m)?)?;
    Ok(())
}
