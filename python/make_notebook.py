"""Writes docs/planning.ipynb (the example notebook of issue 30) from the cells below, and with
``--execute`` runs it with nbclient in docs/ and stores its outputs. Kept beside the package so
that the notebook's text has one source; CI runs ``python/run_notebook.py`` on the stored file.
"""

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "docs" / "planning.ipynb"

CELLS = [
    ("md", """# Planning for a surge, from Python

The IRCC election night of 2016 (`models/ircc-2016.toml`): Canada's immigration site went down
when Americans looked up how to move to Canada. This notebook drives **surge** from Python: it
runs the night, plots its timeline, sweeps the web tier's instances, finds the crash point and
compares two policies. Every number is the command line's (same model, same seed, same answer).

Install once, from the repository's root: `pip install ./python` (and `pip install matplotlib`).

**Kept short on purpose**: the full night is run once; the sweep, the crash-point search and the
comparison run the night's 30-minute slice (the surge starts at 1 minute and ramps for 10) with
2 or 3 replications: about 80 runs of the slice and one night, 5 min 29 s to execute on this
project's 2-core machine while three other builds shared it (2026-12-07; the night's one run is
about half a minute of CPU of it). For decisions, use the whole night and more replications
(`reps=10`, or `reps="auto"` for `compare`)."""),
    ("code", """from pathlib import Path

import matplotlib.pyplot as plt
import surge

# The repository's models/ folder, whether the notebook runs from docs/ or from the root.
ROOT = Path.cwd() if (Path.cwd() / "models").exists() else Path.cwd().parent
night = surge.Model.load(ROOT / "models" / "ircc-2016.toml")
night.name"""),
    ("md", """## The night, run once

`surge.run` is `surge run`: `.summary` is `summary.json` (a dict, with attributes for the common
fields), `.timeseries` is `timeseries.csv` as a pandas DataFrame."""),
    ("code", """result = surge.run(night, seed=7, progress=False)
s = result.summary
print(f"calls that succeeded: {s.success_rate:.1%} (share of calls, a request with its retries)")
print(f"site down: {s.crashed}, for {s.downtime_s / 60:.0f} min (outage: fewer than half the requests succeed over 5 min)")
print(f"latency of the successful calls, p95: {s.latency_s['p95']:.2f} s")"""),
    ("code", """ts = result.timeseries
hours = ts["t_s"] / 3600
fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
top.plot(hours, ts["offered"], label="offered (first attempts + retries)")
top.plot(hours, ts["succeeded"], label="succeeded")
top.set_ylabel(f"attempts per {ts['t_s'].iloc[1] - ts['t_s'].iloc[0]:.0f} s bucket")
top.legend()
top.set_title("IRCC election night 2016, seed 7")
bottom.plot(hours, ts["window_success_rate"], color="tab:red")
bottom.axhline(0.5, color="grey", linestyle="--", label="outage below 0.5")
bottom.set_ylabel("attempts' success rate,\\n5 min window")
bottom.set_xlabel("hours since the start")
bottom.legend()
plt.tight_layout()"""),
    ("md", """## How many web instances? A sweep

`surge.sweep` is `surge sweep`: the DataFrame has exactly the rows and columns of `points.csv`
(one row per point and replication). Here on the 30-minute slice, 2 replications per point."""),
    ("code", """slice_ = night.set({"scenario.duration": "30m", "surge.start": "1m", "surge.ramp": "10m"})
points = surge.sweep(slice_, vary={"tier.web.instances": range(8, 15)}, reps=2, seed=7, progress=False)
per_point = points.groupby("tier.web.instances")[["outage.crashed", "outage.downtime_s", "calls.success_rate"]].mean()
per_point.rename(columns={"outage.crashed": "share of replications down"})"""),
    ("code", """ax = per_point["calls.success_rate"].plot(marker="o", figsize=(7, 3.5))
ax.set_xlabel("web instances")
ax.set_ylabel("share of calls that succeeded")
ax.set_title("The 30-minute slice, mean of 2 replications per point");"""),
    ("md", """## Where does it crash?

`surge.crashpoint` is `surge crashpoint`: where the probability of an outage crosses 0.5 as the
web instances go from 4 to 40 (a bracket of two neighbouring counts, or a logistic fit)."""),
    ("code", """cp = surge.crashpoint(slice_, "tier.web.instances", 4, 40, max_runs=20, seed=7, progress=False)
print(cp)
cp.points"""),
    ("md", """## Two policies against the night as it was

`surge.compare` is `surge compare`: every variant runs the same seeds as the baseline, so the
differences are paired. `variants` is one row per variant; `differences` the paired difference
of each key metric from the baseline (variant minus baseline) with its 95% interval.
A difference without pairs (NaN) is no number to read: the baseline was still down at the end of
the slice, so its downtime is only a lower bound (censored) and every pair is left out."""),
    ("code", """policies = {
    "bounded queues": {"tier.web.queue": 100},
    "waiting room": {"waiting_room.active_users": 141000},
}
cmp = surge.compare(slice_, variants=policies, reps=3, seed=7, progress=False)
print(cmp)
cmp.variants[["variant", "set", "reps", "vs_baseline", "calls.success_rate", "outage.downtime_s"]]"""),
    ("code", """cmp.differences.query("metric in ['calls.success_rate', 'outage.downtime_s']")[
    ["variant", "metric", "unit", "difference", "low", "high", "pairs", "left_out"]
]"""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.cells = [new_markdown_cell(t) if k == "md" else new_code_cell(t) for k, t in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


if __name__ == "__main__":
    nb = build()
    if "--execute" in sys.argv:
        from nbclient import NotebookClient

        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(PATH.parent)}}).execute()
    nbformat.write(nb, PATH)
    print(f"wrote {PATH}")
