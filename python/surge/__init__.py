"""surge from Python: the capacity simulator's commands, with results as dicts and DataFrames.

Every function runs the same Rust code as the ``surge`` command line (through the
``surge::api`` facade) and returns the documents the command writes: ``surge.run`` gives the
summary of ``summary.json`` and the time series of ``timeseries.csv``, ``surge.sweep`` the rows
of ``points.csv``, ``surge.crashpoint`` the search of ``crashpoint.json``, ``surge.compare`` the
comparison of ``compare.json`` and ``compare.csv``. Same model, same seed: the same numbers as
the command line.

    >>> import surge
    >>> model = surge.Model.load("models/ircc-2016.toml").set({"tier.web.instances": 11})
    >>> result = surge.run(model, reps=3, seed=1)
    >>> result.summary.success_rate, result.timeseries.head()

A long call releases the GIL and can be stopped with Ctrl-C (KeyboardInterrupt; the runs in
progress finish in the background and are dropped). Input the command line would refuse raises
``surge.BadInput`` with the command line's message (file, line and column, or key).

Not here: any simulation or statistics (all in Rust); the extension module is ``surge._surge``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _surge
from ._results import Check, CompareResult, CrashPointResult, RunResult, Summary, _frame

__version__: str = _surge.__version__

__all__ = [
    "BadInput",
    "SurgeError",
    "Model",
    "Check",
    "Summary",
    "RunResult",
    "CrashPointResult",
    "CompareResult",
    "FitResult",
    "run",
    "sweep",
    "crashpoint",
    "compare",
    "fit",
]

Progress = Union[None, bool, Callable[[int, int, str], None]]
"""``None``: a tqdm bar when tqdm is installed and the session is interactive; ``False``:
nothing; a callable: called with (done, total, unit) as the work goes (unit: "runs",
"replications" or "simulated seconds")."""


class SurgeError(RuntimeError):
    """A surge call that failed; ``kind`` is "bad_input", "interrupted", "io" or "failed" (the
    command line's exit codes 2, 130, 74 and 1)."""

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class BadInput(SurgeError, ValueError):
    """Input the command line refuses (exit code 2), with its very message.

    ``file``, ``line``, ``column`` and ``key`` locate a model error when the message does (a
    ``--set`` override's error names the override in the message and has no line)."""

    def __init__(
        self,
        message: str,
        file: Optional[str] = None,
        line: Optional[int] = None,
        column: Optional[int] = None,
        key: Optional[str] = None,
    ) -> None:
        super().__init__(message, "bad_input")
        self.file = file
        self.line = line
        self.column = column
        self.key = key


def _raise(e: "_surge.Error") -> SurgeError:
    kind, message = e.args[0], e.args[1]
    if kind == "bad_input":
        return BadInput(
            message,
            getattr(e, "file", None),
            getattr(e, "line", None),
            getattr(e, "column", None),
            getattr(e, "key", None),
        )
    return SurgeError(message, kind)


def _interactive() -> bool:
    return hasattr(sys, "ps1") or bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Tqdm:
    """A tqdm bar fed by the (done, total, unit) callback; closed at the end."""

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, done: int, total: int, unit: str) -> None:
        from tqdm import tqdm  # only when installed (see _progress)

        if self.bar is None or self.bar.total != total:
            self.close()
            self.bar = tqdm(total=total, unit=" " + unit, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress(progress: Progress) -> Optional[Callable[[int, int, str], None]]:
    if progress is False:
        return None
    if callable(progress):
        return progress
    if progress is None or progress is True:
        if importlib.util.find_spec("tqdm") is None:
            return None
        if progress is True or _interactive():
            return _Tqdm()
    return None


def _call(function: Callable[..., str], args: List[str], progress: Progress = False) -> Dict:
    show = _progress(progress)
    try:
        if show is None:
            return json.loads(function(args))
        return json.loads(function(args, show))
    except _surge.Error as e:
        raise _raise(e) from None
    finally:
        if isinstance(show, _Tqdm):
            show.close()


def _toml_value(value: Any) -> str:
    """A Python value as ``--set KEY=VALUE`` writes it (a string is passed as written: "5m",
    "lognormal(mean=80ms, cv=1.5)")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) if not isinstance(v, str) else json.dumps(v) for v in value) + "]"
    return str(value)


class Model:
    """A model: a TOML file (or text, or the built-in election night) and ``--set`` overrides.

    A model is immutable: ``set`` returns a new one. Every constructor loads and checks the model
    as the command line does, raising ``BadInput`` with its message."""

    def __init__(self, path: Optional[str], sets: Sequence[str] = (), _keep: Any = None) -> None:
        self.path: Optional[str] = None if path is None else os.fspath(path)
        self.sets: Tuple[str, ...] = tuple(sets)
        self._keep = _keep  # a temporary folder holding a from_toml model's file
        try:
            self.text: str = _surge.model_text(self.path, list(self.sets))
        except _surge.Error as e:
            raise _raise(e) from None

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Model":
        """The model in the TOML file at ``path`` (files it names are read beside it)."""
        return cls(os.fspath(path))

    @classmethod
    def builtin(cls) -> "Model":
        """The built-in model, the IRCC election night of 2016 (``models/ircc-2016.toml``)."""
        return cls(None)

    @classmethod
    def from_toml(cls, text: str, name: str = "model.toml") -> "Model":
        """The model in ``text``. It is kept in a temporary file named ``name`` (errors name it);
        files the text names by a relative path are read from that folder, so name them by an
        absolute path."""
        folder = tempfile.TemporaryDirectory(prefix="surge-model-")
        path = Path(folder.name) / name
        path.write_text(text, encoding="utf-8")
        return cls(str(path), (), folder)

    def set(self, overrides: Optional[Mapping[str, Any]] = None, **keys: Any) -> "Model":
        """A new model with ``overrides`` applied after this one's, as ``--set KEY=VALUE`` applies
        them: ``model.set({"tier.web.instances": 11, "surge.peak": 8})``. A key the model does
        not have raises ``BadInput`` with the command line's did-you-mean message."""
        sets = list(self.sets)
        for key, value in list((overrides or {}).items()) + list(keys.items()):
            sets.append(f"{key}={_toml_value(value)}")
        return Model(self.path, sets, self._keep)

    def check(self) -> "Check":
        """What ``surge check`` says of the model: its text, the offered load, and the exact
        queueing prediction where the model is a textbook queue."""
        return Check(_call(_surge.check, self._args(builtin_ok=True)))

    @property
    def name(self) -> str:
        """``scenario.name``."""
        return self.check().model

    def _args(self, builtin_ok: bool = False) -> List[str]:
        args: List[str] = []
        if self.path is not None:
            args.append(self.path)
        elif not builtin_ok:
            # The command needs a file: the built-in text, written once to a temporary one.
            if getattr(self, "_copy", None) is None:
                self._copy = Model.from_toml(_surge.builtin()[0], "ircc-2016.toml")
            args.append(self._copy.path)
        for s in self.sets:
            args += ["--set", s]
        return args

    def __repr__(self) -> str:
        where = self.path or "built-in"
        return f"surge.Model({where!r}, sets={list(self.sets)!r})"


class _Out:
    """The output folder of a call: ``out``, or a temporary one removed after the call."""

    def __init__(self, out: Optional[Union[str, "os.PathLike[str]"]], command: str) -> None:
        self.temp = None if out is not None else tempfile.TemporaryDirectory(prefix="surge-")
        self.path = os.fspath(out) if out is not None else os.path.join(self.temp.name, command)
        self.kept = None if out is None else self.path

    def __enter__(self) -> "_Out":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.temp is not None:
            self.temp.cleanup()


def _common(seed: Optional[int], jobs: Optional[int]) -> List[str]:
    args: List[str] = []
    if seed is not None:
        args += ["--seed", str(int(seed))]
    if jobs is not None:
        args += ["--jobs", str(int(jobs))]
    return args


def run(
    model: Model,
    reps: int = 1,
    seed: Optional[int] = None,
    *,
    out: Optional[str] = None,
    frame: str = "pandas",
    progress: Progress = None,
) -> RunResult:
    """Simulate ``model`` once, or ``reps`` times on the seeds ``surge run --reps`` uses.

    seed: the base seed (``None``: the model's ``scenario.seed``).
    out: a folder to keep ``surge run``'s outputs in (``summary.json``, charts, ``report.html``);
        ``None`` writes them to a temporary folder, removed after the call.
    frame: ``"pandas"`` or ``"polars"``, the kind of ``.timeseries``.
    progress: see ``surge.Progress``.

    Returns a ``RunResult``: ``.summary`` (a dict, with ``.success_rate``, ``.latency_s``,
    ``.crashed``, ``.downtime_s``...), ``.timeseries``, ``.replications``, ``.provenance``.
    With ``reps`` > 1 the summary holds the means over the replications: a yes/no figure
    such as ``.crashed`` is then the share of replications (``1.0``: every one went down),
    as in ``summary.json``; each replication's own is in ``.replications``.
    The same as ``surge run MODEL --reps N --seed S``, number for number."""
    with _Out(out, "run") as o:
        args = model._args(builtin_ok=True) + ["--reps", str(int(reps)), "--out", o.path, "--quiet"]
        doc = _call(_surge.run, args + _common(seed, None), progress)
        return RunResult(doc, frame, o.kept)


def _vary(key: str, values: Union[range, Iterable[Any], str]) -> str:
    if isinstance(values, str):
        return f"{key}={values}"
    if isinstance(values, range) and len(values) > 0:
        return f"{key}={values.start}..{values[-1]}:{values.step}"
    return f"{key}=" + ",".join(_toml_value(v) for v in values)


def sweep(
    model: Model,
    vary: Mapping[str, Union[range, Iterable[Any], str]],
    reps: int = 10,
    jobs: Optional[int] = None,
    *,
    seed: Optional[int] = None,
    points: Optional[int] = None,
    out: Optional[str] = None,
    frame: str = "pandas",
    progress: Progress = None,
):
    """Vary model keys over a grid and replicate each point, as ``surge sweep`` does.

    vary: ``{key: values}``, one entry per varied key (a grid of all combinations); values are a
        ``range``, a list, or a string as ``--vary`` takes it (``"2..20"``, ``"1s..5s:1s"``).
    reps: replications per point; jobs: parallel runs (``None``: every core).
    points: values of a range given as a string without a step (``--points``).
    out: a folder to keep the sweep's outputs in (``None``: temporary).

    Returns a DataFrame with exactly the rows and columns of ``points.csv`` (one row per point
    and replication); the mean and interval per point are in ``sweep.json`` under ``out``."""
    with _Out(out, "sweep") as o:
        args = model._args()
        for key, values in vary.items():
            args += ["--vary", _vary(key, values)]
        args += ["--reps", str(int(reps)), "--out", o.path, "--quiet", "--yes"]
        if points is not None:
            args += ["--points", str(int(points))]
        doc = _call(_surge.sweep, args + _common(seed, jobs), progress)
        return _frame(doc["points_csv"], frame)


def crashpoint(
    model: Model,
    key: str,
    lo: float,
    hi: float,
    *,
    reps: Optional[int] = None,
    seed: Optional[int] = None,
    jobs: Optional[int] = None,
    max_runs: Optional[int] = None,
    out: Optional[str] = None,
    frame: str = "pandas",
    progress: Progress = None,
) -> CrashPointResult:
    """Find where the outage probability crosses 0.5 as ``key`` goes from ``lo`` to ``hi``, as
    ``surge crashpoint --vary KEY=LO..HI`` does (whole values for counts such as instances).

    reps, max_runs: ``--reps`` and ``--max-runs`` (``None``: the command's defaults).
    Returns a ``CrashPointResult`` (``crash_point``, ``interval``, ``method``, ``runs``)."""
    with _Out(out, "crashpoint") as o:
        args = model._args() + ["--vary", f"{key}={_toml_value(lo)}..{_toml_value(hi)}"]
        args += ["--out", o.path, "--quiet"]
        if reps is not None:
            args += ["--reps", str(int(reps))]
        if max_runs is not None:
            args += ["--max-runs", str(int(max_runs))]
        doc = _call(_surge.crashpoint, args + _common(seed, jobs), progress)
        return CrashPointResult(doc, frame, o.kept)


def compare(
    model: Model,
    variants: Mapping[str, Mapping[str, Any]],
    reps: Union[int, str] = "auto",
    *,
    seed: Optional[int] = None,
    jobs: Optional[int] = None,
    out: Optional[str] = None,
    frame: str = "pandas",
    progress: Progress = None,
) -> CompareResult:
    """Compare ``model`` (the baseline) with its ``variants``, each ``{name: {key: value}}``,
    on the same seeds, as ``surge compare --variant NAME:K=V,...`` does.

    reps: replications of each variant, or ``"auto"`` (rounds until each variant is told apart
        from the baseline, up to the command's ``--max-reps``).
    Returns a ``CompareResult``: ``variants`` (a DataFrame per variant), ``differences`` (the
    paired differences from the baseline), ``runs`` (``compare.csv``), ``ranking``."""
    with _Out(out, "compare") as o:
        args = model._args()
        for name, keys in variants.items():
            sets = ",".join(f"{k}={_toml_value(v)}" for k, v in keys.items())
            args += ["--variant", f"{name}:{sets}"]
        args += ["--reps", str(reps), "--out", o.path, "--quiet"]
        doc = _call(_surge.compare, args + _common(seed, jobs), progress)
        return CompareResult(doc, frame, o.kept)


class FitResult:
    """What ``surge.fit`` gives: ``model`` (the fitted model, a ``surge.Model`` reading its
    ``model.toml`` and trace files in ``dir``), ``fit`` (``fit.json``), ``figure`` (the path of
    ``fit.png``) and ``round_trip_error`` (why the fitted model could not be simulated against
    the data, when it could not)."""

    def __init__(self, doc: Dict) -> None:
        self.dir: str = doc["dir"]
        self.model = Model.load(doc["model"])
        self.fit: Dict = doc["fit"]
        self.figure: str = doc["figure"]
        self.round_trip_error: Optional[str] = doc["round_trip_error"]

    def __repr__(self) -> str:
        return f"<surge.FitResult model {self.model.path!r}, figure {self.figure!r}>"


def fit(paths: Union[str, Sequence[str]], out: str = "outputs/fit", **flags: Any) -> FitResult:
    """Fit a starting model to access logs (nginx, Apache) or load-test results (JMeter JTL, k6,
    Locust, vegeta), as ``surge fit`` does, into the folder ``out`` (kept: the model reads its
    trace files from there).

    flags: any flag of ``surge fit``, underscores for dashes: ``fit(paths, bucket="10s",
        session_gap="30m")``; ``True`` for a flag without a value.
    Returns a ``FitResult`` (``model``, ``fit``, ``figure``)."""
    files = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    args = [os.fspath(p) for p in files] + ["--out", os.fspath(out), "--quiet"]
    for name, value in flags.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is not False and value is not None:
            args += [flag, _toml_value(value)]
    return FitResult(_call(_surge.fit, args))
