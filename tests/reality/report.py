"""The comparison: surge's figures beside the real system's, the checks CI makes, and
docs/reality.md with its charts (matplotlib, from the harness's venv: charts.py).

The table has one row per measure and load: measure | surge | real | ratio (surge / real).
Success rates are compared by their difference in points, the rest by their ratio.
"""

import math
import os

MEASURES = [("throughput", "throughput (successes/s)"), ("success_rate", "success rate"),
            ("p50", "p50 latency"), ("p95", "p95 latency")]


def fmt(key, v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if key == "success_rate":
        return f"{100 * v:.1f}%"
    if key in ("p50", "p95"):
        return f"{1000 * v:.0f} ms" if v < 1 else f"{v:.2f} s"
    return f"{v:.1f}/s"


def ratio(key, s, r):
    if any(x is None or (isinstance(x, float) and math.isnan(x)) for x in (s, r)):
        return "n/a"
    if key == "success_rate":
        return f"{100 * (s - r):+.1f} pts"
    return f"{s / r:.2f}" if r else "n/a"


def rows(results):
    """(load label, measure, surge, real, ratio, cpu note) for every steady load."""
    out = []
    for st in results["steady"]:
        cpu = st["locust_cpu"]["max"]
        note = f"Locust CPU up to {100 * cpu:.0f}% of a core" if cpu and cpu > 0.7 else ""
        for key, label in MEASURES:
            s, r = st["surge"][key], st["real"][key]
            out.append((f"{100 * st['load']:.0f}% ({st['users']} users)", label, fmt(key, s),
                        fmt(key, r), ratio(key, s, r), note))
    return out


def crashed(o, surge_side):
    return (o["crashed"] or 0) >= 0.5 if surge_side else bool(o["crashed"])


def outage_line(o, surge_side):
    if not crashed(o, surge_side):
        return "no outage"
    start = o["crash_time_s"]
    rec = o.get("recovered_at_s")
    if o.get("recovered") and rec is not None:
        return f"down at {start:.0f} s, back at {rec:.0f} s"
    return f"down at {start:.0f} s, not back by the end"


def table_text(results):
    lines = ["load | measure | surge | real | ratio"]
    for load, label, s, r, q, note in rows(results):
        lines.append(f"{load} | {label} | {s} | {r} | {q}" + (f" ({note})" if note else ""))
    su = results["surge"]
    lines.append(f"surge experiment: surge predicts {outage_line(su['surge_outage'], True)}; "
                 f"the real stack was {outage_line(su['real_outage'], False)}")
    return "\n".join(lines)


def ci_checks(results):
    """CI's checks, wide enough for a shared 2-core machine; returns the failures' lines."""
    checks = []
    su = results["surge"]
    checks.append(("the surge: surge and the real stack agree on whether the site goes down",
                   crashed(su["surge_outage"], True) == crashed(su["real_outage"], False)))
    checks.append(("tests/reality/measure.py's outage rules find in surge's own time series what "
                   "surge found", su["transcription_agrees"]["agrees"]))
    for st in results["steady"]:
        label = f"{100 * st['load']:.0f}%"
        checks.append((f"steady {label}: agree on whether the site goes down",
                       crashed(st["surge_outage"], True) == crashed(st["real_outage"], False)))
        s, r = st["surge"], st["real"]
        if st["load"] < 0.95:
            checks.append((f"steady {label}: throughput within 20% ({s['throughput']:.1f} vs "
                           f"{r['throughput']:.1f}/s)",
                           abs(s["throughput"] / r["throughput"] - 1) <= 0.2))
            checks.append((f"steady {label}: p50 within 50% ({1000 * s['p50']:.0f} vs "
                           f"{1000 * r['p50']:.0f} ms)", abs(s["p50"] / r["p50"] - 1) <= 0.5))
    results["checks"] = [{"check": c, "passed": ok} for c, ok in checks]
    return [c for c, ok in checks if not ok]


def write_docs(results, out, root):
    import docs
    docs.write(results, out, root)
