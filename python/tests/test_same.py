"""Same answers from Python as from the command line (issue 30 item 3): the same model and seed
run through ``surge`` (the package) and ``target/release/surge`` (the binary) give identical
summaries, time series, ``points.csv``, ``compare.csv`` and crash points; bad input raises
``surge.BadInput`` with the command line's very message, file and line; Ctrl-C stops a long
call; progress reaches the callback.

The binary is ``$SURGE_BIN`` or ``target/release/surge`` (build it first: ``cargo build
--release``). Wall-clock fields (``wall_s``, ``events_per_s``, ``command_line``) are the only
ones left out of the comparisons.
"""

import _thread
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import surge

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("SURGE_BIN", str(ROOT / "target" / "release" / "surge"))
MMCK = str(ROOT / "models" / "mmck.toml")
IRCC = str(ROOT / "models" / "ircc-2016.toml")
# The election night's 30-minute slice of tests/it/snapshots.rs: the surge and a crash, in
# seconds of CPU rather than the whole night's half minute.
SLICE = {"scenario.duration": "30m", "surge.start": "1m", "surge.ramp": "10m"}
WALL_CLOCK = {"wall_s", "events_per_s", "command_line"}


def cli(*args, check=True):
    done = subprocess.run([BIN, *args], capture_output=True, text=True, cwd=ROOT)
    if check and done.returncode != 0:
        raise AssertionError(f"surge {' '.join(args)} failed: {done.stderr}")
    return done


def sets(overrides):
    return [a for k, v in overrides.items() for a in ("--set", f"{k}={v}")]


def without_wall_clock(doc):
    if isinstance(doc, dict):
        return {k: without_wall_clock(v) for k, v in doc.items() if k not in WALL_CLOCK}
    if isinstance(doc, list):
        return [without_wall_clock(v) for v in doc]
    return doc


@pytest.mark.parametrize(
    "path, overrides, reps, seed",
    [(IRCC, SLICE, 1, 7), (MMCK, {}, 1, 7), (MMCK, {"scenario.duration": "10m"}, 3, 11)],
    ids=["ircc-2016-slice", "mmck", "mmck-reps3"],
)
def test_run_is_the_cli_run(tmp_path, path, overrides, reps, seed):
    out = tmp_path / "cli"
    cli("run", path, *sets(overrides), "--reps", str(reps), "--seed", str(seed), "--out", str(out), "--quiet")
    written = json.loads((out / "summary.json").read_text())
    provenance = written.pop("provenance")

    result = surge.run(surge.Model.load(path).set(overrides), reps=reps, seed=seed, progress=False)

    assert without_wall_clock(dict(result.summary)) == without_wall_clock(written)
    assert without_wall_clock(result.provenance) == without_wall_clock(provenance)
    assert result.summary.seed == seed and result.summary.reps == reps
    assert len(result.replications) == reps
    pd.testing.assert_frame_equal(result.timeseries, pd.read_csv(out / "timeseries.csv"))
    if path == IRCC:
        assert result.summary.crashed is True, "the slice must exercise the failure mechanics"


def test_sweep_frame_is_points_csv(tmp_path):
    out = tmp_path / "cli"
    overrides = {"scenario.duration": "10m"}
    cli("sweep", MMCK, *sets(overrides), "--vary", "tier.server.threads=8..10:1", "--reps", "2",
        "--seed", "3", "--out", str(out), "--quiet", "--yes")
    model = surge.Model.load(MMCK).set(overrides)

    frame = surge.sweep(model, vary={"tier.server.threads": range(8, 11)}, reps=2, seed=3, progress=False)

    expected = pd.read_csv(out / "points.csv")
    pd.testing.assert_frame_equal(frame, expected)
    assert list(frame["tier.server.threads"]) == [8, 8, 9, 9, 10, 10]


def test_compare_is_the_cli_compare(tmp_path):
    out = tmp_path / "cli"
    overrides = {"scenario.duration": "10m"}
    cli("compare", MMCK, *sets(overrides), "--variant", "more:tier.server.threads=12", "--reps", "3",
        "--seed", "5", "--out", str(out), "--quiet")
    written = json.loads((out / "compare.json").read_text())

    result = surge.compare(surge.Model.load(MMCK).set(overrides), variants={"more": {"tier.server.threads": 12}},
                           reps=3, seed=5, progress=False)

    pd.testing.assert_frame_equal(result.runs, pd.read_csv(out / "compare.csv"))
    assert without_wall_clock(result.doc) == without_wall_clock(written)
    assert list(result.variants["variant"]) == ["baseline", "more"]
    more = written["variants"][1]
    lost = next(k for k in more["key"] if k["key"] == "calls.lost")
    row = result.differences.set_index("metric").loc["calls.lost"]
    assert row["difference"] == lost["difference"]["estimate"]["mean"]
    assert row["pairs"] == 3


def test_crashpoint_is_the_cli_crashpoint(tmp_path):
    out = tmp_path / "cli"
    cli("crashpoint", IRCC, *sets(SLICE), "--vary", "tier.web.instances=4..40", "--max-runs", "12",
        "--seed", "7", "--out", str(out), "--quiet")
    written = json.loads((out / "crashpoint.json").read_text())

    found = surge.crashpoint(surge.Model.load(IRCC).set(SLICE), "tier.web.instances", 4, 40, max_runs=12,
                             seed=7, progress=False)

    assert found.crash_point == written["crash_point"]
    assert found.interval == tuple(written["ci95"])
    assert (found.method, found.runs) == (written["method"], written["runs"])
    assert found.points.to_dict("records") == written["points"]


def test_check_is_the_cli_check():
    printed = cli("check", MMCK).stdout
    found = surge.Model.load(MMCK).check()
    assert found.text == printed
    # M/M/c/K with c = 10, K = 20, a = 9.5 Erlangs (models/mmck.toml's header).
    assert found.prediction["queue"] == {"Mmck": {"c": 10, "k": 20, "l": 95.0, "m": 10.0, "a": 9.5}}
    assert found.prediction["figures"]["blocking_probability"] == pytest.approx(0.0466, abs=5e-4)


def cli_error(*args):
    done = cli(*args, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ")
    return done.stderr[len("error: "):].rstrip("\n")


def test_bad_model_raises_bad_input_with_file_and_line():
    bad = str(ROOT / "tests" / "bad-models" / "02-unterminated-string.toml")
    message = cli_error("check", bad)
    with pytest.raises(surge.BadInput) as caught:
        surge.Model.load(bad)
    e = caught.value
    assert str(e) == message
    assert (e.file, e.line, e.column) == (bad, 14, 12)
    assert e.kind == "bad_input" and isinstance(e, ValueError)


def test_set_bad_key_raises_the_cli_did_you_mean():
    message = cli_error("check", MMCK, "--set", "tier.servr.threads=3")
    with pytest.raises(surge.BadInput) as caught:
        surge.Model.load(MMCK).set({"tier.servr.threads": 3})
    assert str(caught.value) == message
    assert "did you mean `server`?" in message


def test_bad_flag_value_raises_bad_input():
    with pytest.raises(surge.BadInput, match="--vary"):
        surge.sweep(surge.Model.load(MMCK), vary={"tier.server.threads": "8..x"}, reps=1, progress=False)


def test_ctrl_c_interrupts_a_long_run():
    # 30 simulated days of M/M/c/K: minutes of work, stopped after half a second.
    model = surge.Model.load(MMCK).set({"scenario.duration": "30d"})
    threading.Timer(0.5, _thread.interrupt_main).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        surge.run(model, progress=False)
    assert time.monotonic() - started < 3.0
    # The next call is not stopped by the last one's interrupt.
    assert surge.run(surge.Model.load(MMCK).set({"scenario.duration": "5m"}), progress=False).summary.reps == 1


def test_progress_reaches_the_callback():
    seen = []
    surge.run(surge.Model.load(MMCK).set({"scenario.duration": "5m"}), reps=4, seed=1,
              progress=lambda done, total, unit: seen.append((done, total, unit)))
    assert seen[-1] == (4, 4, "replications")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


def test_from_toml_and_builtin_run():
    text = Path(MMCK).read_text().replace('duration = "1h"', 'duration = "5m"')
    from_text = surge.run(surge.Model.from_toml(text), seed=2, progress=False).summary
    from_file = surge.run(surge.Model.load(MMCK).set({"scenario.duration": "5m"}), seed=2, progress=False).summary
    assert without_wall_clock(dict(from_text)) == without_wall_clock(dict(from_file))
    # The built-in model is the command line's (`surge check` with no model).
    assert surge.Model.builtin().check().text == cli("check").stdout
    assert surge.Model.builtin().check().model == "ircc-2016"
