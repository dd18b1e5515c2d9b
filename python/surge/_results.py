"""The results of the ``surge`` package's calls: each command's documents, read from the JSON the
extension returns, as dicts with attributes for the common fields and as DataFrames (pandas, or
polars with ``frame="polars"``).

Not here: the calls themselves (``surge/__init__.py``), nor any figure computed anew: every
number is the command's, as its files hold it.
"""

from __future__ import annotations

import io
from typing import Any, Dict, List, Optional, Tuple

def _frame(csv_text: str, frame: str):
    """A CSV text as a DataFrame: pandas, or polars with ``frame="polars"``."""
    if frame == "polars":
        import polars as pl

        return pl.read_csv(io.StringIO(csv_text))
    if frame != "pandas":
        raise ValueError(f'frame must be "pandas" or "polars", got {frame!r}')
    import pandas as pd

    return pd.read_csv(io.StringIO(csv_text))


def _records(rows: List[Dict], frame: str):
    if frame == "polars":
        import polars as pl

        return pl.DataFrame(rows)
    import pandas as pd

    return pd.DataFrame(rows)


class Check(dict):
    """``surge check``'s figures: ``text`` (what it prints), ``prediction`` (``queue`` and
    ``figures``, named as the summary names them; ``None`` when the model is no textbook queue),
    ``offered_rps`` (baseline, peak), ``tiers``, ``events`` (estimated per run), ``warnings``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __str__(self) -> str:
        return self["text"]


class Summary(dict):
    """``summary.json``: the nested dict, with attributes for the common fields. With several
    replications the figures are means, ``ci95`` their 95% half-widths."""

    @property
    def model(self) -> str:
        return self["model"]

    @property
    def seed(self) -> int:
        return self["seed"]

    @property
    def reps(self) -> int:
        """Replications (1 for a single run)."""
        return self.get("reps", 1)

    @property
    def success_rate(self) -> float:
        """Share of calls (a request with its retries) that succeeded."""
        return self["calls"]["success_rate"]

    @property
    def latency_s(self) -> Dict[str, float]:
        """Mean, p50, p95 and p99 of the successful calls' latency, seconds."""
        return self["latency_s"]

    @property
    def crashed(self) -> Any:
        """Whether the site went down (over replications: the share that did)."""
        return self["outage"]["crashed"]

    @property
    def downtime_s(self) -> float:
        """Seconds the site was down (a lower bound when still down at the end)."""
        return self["outage"]["downtime_s"]

    @property
    def slo_broken(self) -> Any:
        return self["slo"]["broken"]

    @property
    def tiers(self) -> List[Dict]:
        return self["tiers"]


class RunResult:
    """What ``surge.run`` gives: ``summary`` (``summary.json``), ``timeseries`` (the mean time
    series of ``timeseries.csv``), ``replications`` (each replication's summary), ``provenance``
    (version, model hash, overrides) and ``dir`` (the output folder, ``None`` when temporary)."""

    def __init__(self, doc: Dict, frame: str, dir: Optional[str]) -> None:
        self.summary = Summary(doc["summary"])
        self.replications: List[Summary] = [Summary(r) for r in doc["replications"]]
        self.provenance: Dict = doc["provenance"]
        self.timeseries = _frame(doc["timeseries_csv"], frame)
        self.dir = dir

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<surge.RunResult {s.model!r} seed {s.seed}, {s.reps} replication(s): "
            f"success rate {s.success_rate:.4f}, downtime {s.downtime_s:.0f} s>"
        )


class CrashPointResult:
    """What ``surge.crashpoint`` found (``crashpoint.json``): ``crash_point`` (the value where
    the outage probability crosses 0.5; ``None`` when not in the range), ``interval`` (its
    interval: a confidence interval for a logistic fit, the bracket otherwise), ``method``,
    ``runs``, ``direction`` ("larger crashes" or "larger saves"), ``points`` (a DataFrame of
    every value tried: value, reps, outages, probability) and ``doc`` (the whole document)."""

    def __init__(self, doc: Dict, frame: str, dir: Optional[str]) -> None:
        cp = doc["crashpoint"]
        self.doc: Dict = cp
        self.parameter: str = cp["parameter"]
        self.crash_point: Optional[float] = cp["crash_point"]
        self.interval: Optional[Tuple[float, float]] = tuple(cp["ci95"]) if cp["ci95"] else None
        self.method: str = cp["method"]
        self.runs: int = cp["runs"]
        self.direction: str = cp["direction"]
        self.points = _records(cp["points"], frame)
        self.dir = dir

    def __repr__(self) -> str:
        return (
            f"<surge.CrashPointResult {self.parameter}: crash point {self.crash_point}, "
            f"interval {self.interval} ({self.method}, {self.runs} runs)>"
        )


class CompareResult:
    """What ``surge.compare`` gives (``compare.json`` and ``compare.csv``):

    ``variants``: one row per variant (the baseline first): its replications, how it compares
        with the baseline (``vs_baseline``), and each metric's mean and 95% half-width
        (``METRIC`` and ``METRIC.ci95``).
    ``differences``: one row per variant and key metric: the paired difference from the
        baseline (variant minus baseline, replication by replication), its 95% interval and the
        pairs it rests on; ``censored`` counts values that are lower bounds.
    ``runs``: ``compare.csv``, one row per variant and replication.
    ``ranking``: the variants' names, best first; ``doc``: the whole of ``compare.json``."""

    def __init__(self, doc: Dict, frame: str, dir: Optional[str]) -> None:
        c = doc["comparison"]
        self.doc: Dict = c
        self.ranking: List[str] = c.get("ranking", [])
        self.ranked_by: str = c.get("ranked_by", "")
        self.runs = _frame(doc["compare_csv"], frame)
        rows, diffs = [], []
        for v in c["variants"]:
            decision = v.get("decision")
            row: Dict[str, Any] = {
                "variant": v["name"],
                "set": ", ".join(v["set"]),
                "reps": len(v["replications"]),
                "vs_baseline": decision["verdict"] if decision else "baseline",
            }
            for name, est in v["metrics"].items():
                row[name] = est["mean"] if est else None
                row[name + ".ci95"] = est.get("ci95") if est else None
            rows.append(row)
            for k in v["key"]:
                d = k.get("difference")
                if d is None:
                    continue
                est = d.get("estimate") or {}
                mean, half = est.get("mean"), est.get("ci95")
                diffs.append(
                    {
                        "variant": v["name"],
                        "metric": k["key"],
                        "label": k["label"],
                        "unit": k["unit"],
                        "difference": mean,
                        "ci95": half,
                        "low": None if mean is None or half is None else mean - half,
                        "high": None if mean is None or half is None else mean + half,
                        "pairs": d["pairs"],
                        "left_out": d["left_out"],
                        "censored": k["censored"],
                    }
                )
        self.variants = _records(rows, frame)
        self.differences = _records(diffs, frame)
        self.dir = dir

    def __repr__(self) -> str:
        return f"<surge.CompareResult ranking {self.ranking} ({self.ranked_by})>"
