"""The reality check's charts, drawn with matplotlib from the harness's venv (simpler here than
a Rust program on the project's plotters: the data are the harness's own dicts). Two PNGs:
the surge's timeline (real against simulated: throughput, window success rate, window p95) and
latency, throughput and success rate against load for the steady loads.
"""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REAL, SIM = "#c0392b", "#2c6fbb"


def _nan(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def surge_timeline(results, path):
    su = results["surge"]
    b = results["bucket"]
    ser = su["real_outage"]["series"]
    n = len(ser["ok"])
    t_real = [(i + 0.5) * b for i in range(n)]
    t_sim = [_nan(r["t_s"]) + b / 2 for r in su["surge_series"]]
    fig, axes = plt.subplots(3, 1, figsize=(9, 8.5), sharex=True)
    ax = axes[0]
    ax.plot(t_real, [x / b for x in ser["ok"]], color=REAL, label="real (nginx log)")
    ax.plot(t_sim, [_nan(r["succeeded"]) / b for r in su["surge_series"]], color=SIM,
            label=f"surge (mean of {results['reps']} replications)")
    ax.set_ylabel("successes per second")
    ax.legend(loc="upper right", fontsize=8)
    ax = axes[1]
    ax.plot(t_real, [100 * _nan(x) for x in ser["window_success_rate"]], color=REAL)
    ax.plot(t_sim, [100 * _nan(r["window_success_rate"]) for r in su["surge_series"]], color=SIM)
    ax.axhline(100 * results["slo"]["outage_below"], color="grey", ls=":", lw=1)
    ax.set_ylabel(f"success rate, {results['slo']['window']:g} s window (%)")
    ax.set_ylim(-5, 105)
    ax = axes[2]
    ax.plot(t_real, [_nan(x) for x in ser["window_p95_s"]], color=REAL)
    ax.plot(t_sim, [_nan(r["window_p95_s"]) for r in su["surge_series"]], color=SIM)
    ax.set_ylabel(f"p95 of successes, {results['slo']['window']:g} s window (s)")
    ax.set_xlabel("seconds since the load test started")
    t1, t2, _ = su["times"]
    for ax in axes:
        ax.axvspan(t1, t2, color="#f4d03f", alpha=0.25, lw=0)
        ax.grid(alpha=0.3)
    base, high, _ = su["users"]
    axes[0].set_title(f"The surge: {base} users, {high} from {t1} s to {t2} s (shaded), then {base}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def steady_loads(results, path):
    st = results["steady"]
    x = [100 * s["load"] for s in st]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    ax = axes[0]
    for key, ls in (("p50", "-"), ("p95", "--")):
        ax.plot(x, [s["real"][key] for s in st], color=REAL, ls=ls, marker="o", label=f"{key} real")
        ax.plot(x, [s["surge"][key] for s in st], color=SIM, ls=ls, marker="s", label=f"{key} surge")
    ax.set_yscale("log")
    ax.set_ylabel("latency of successes (s)")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(x, [s["real"]["throughput"] for s in st], color=REAL, marker="o", label="real")
    ax.plot(x, [s["surge"]["throughput"] for s in st], color=SIM, marker="s", label="surge")
    cap = results["config"]["workers"] / results["config"]["service_mean"]
    ax.axhline(cap, color="grey", ls=":", lw=1)
    ax.set_ylabel("successes per second")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(x, [100 * s["real"]["success_rate"] for s in st], color=REAL, marker="o", label="real")
    ax.plot(x, [100 * s["surge"]["success_rate"] for s in st], color=SIM, marker="s", label="surge")
    ax.set_ylabel("success rate (%)")
    ax.set_ylim(-5, 105)
    for ax in axes:
        ax.set_xlabel("offered load (% of capacity)")
        ax.grid(alpha=0.3)
    fig.suptitle("Steady loads: surge's prediction (made first) against the real stack")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
