#!/usr/bin/env python3
"""The reality check (issue 23): surge's predictions against a real nginx + gunicorn + Locust
stack on this machine's loopback, side by side. The one entry point:

    python3 tests/reality/reality.py            # the full benchmark (about 17 min): docs/reality.md
    python3 tests/reality/reality.py --short    # CI's version (about 4 min): checks, no charts

Run as any user that can start nginx (root installs Debian's nginx when it is missing). It makes
a venv under target/reality-venv with the pinned requirements.txt (and matplotlib for the charts
of the full run), then runs itself in it. Steps: calibrate at about 30% of capacity and run
`surge fit` on that run's nginx log; then for each steady load (and the surge), surge predicts
first, from the calibrated model, and the real stack runs after; `report.py` compares them.

What it is not: a load test of nginx or gunicorn (the handler sleeps, so capacity is the
workers'), nor a timed test: the figures are a benchmark reported in docs/reality.md.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VENV = os.path.join(ROOT, "target", "reality-venv")

# The deployment and the load test, as a planner knows them (CONFIG in the model).
CONFIG = {
    "workers": 4,                 # gunicorn --workers (sync)
    "backlog": 128,               # gunicorn --backlog
    "worker_timeout": 30,         # gunicorn --timeout, s
    "nginx_connect_timeout": 0.3,  # proxy_connect_timeout, s
    "nginx_read_timeout": 30,     # proxy_read_timeout and proxy_send_timeout, s
    "service_mean": 0.1,          # app.py's lognormal: mean, s (surge is not told: it fits)
    "service_cv": 0.5,            # ... and coefficient of variation
    "seed": 23,
    "think": 10.0,                # Locust wait_time: exponential mean, s
    "client_timeout": 2.0,        # Locust network and connection timeout, s
    "refresh": 3.0,               # delay before asking again after an error: exponential mean, s
    "give_up": 10,                # attempts in a row before going back to thinking
}
# The SLO both sides are judged by (surge's [slo]; measure.outage for the real log).
SLO = {"success_rate": 0.95, "latency": 1.0, "window": 10.0, "outage_below": 0.5, "stable": 20.0}
BUCKET = 2.0

FULL = {
    "calibration": {"load": 0.30, "seconds": 120, "warmup": 10},
    "steady": [(0.50, 100), (0.80, 100), (0.95, 100), (1.10, 100), (1.50, 100)],
    "steady_warmup": 20,
    "surge": {"base": 0.30, "factor": 4.0, "before": 60, "hold": 60, "after": 120},
    "reps": 10,
}
SHORT = {
    "calibration": {"load": 0.30, "seconds": 30, "warmup": 6},
    "steady": [(0.80, 30), (1.50, 30)],
    "steady_warmup": 10,
    "surge": {"base": 0.30, "factor": 4.0, "before": 20, "hold": 40, "after": 45},
    "reps": 5,
}


def bootstrap(args):
    """Outside the venv: nginx from Debian, the venv from PyPI, then run again inside it."""
    if os.environ.get("REALITY_IN_VENV") == "1":
        return
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        if os.geteuid() != 0:
            sys.exit("reality: nginx is missing and only root can install it (apt-get install nginx)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    reqs = [os.path.join(HERE, "requirements.txt")]
    if not args.short:
        reqs.append(os.path.join(HERE, "requirements-charts.txt"))
    pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for r in reqs:
        pip += ["-r", r]
    subprocess.run(pip, check=True)
    env = dict(os.environ, REALITY_IN_VENV="1")
    os.execve(py, [py, os.path.abspath(__file__)] + sys.argv[1:], env)


def surge_binary(args):
    if args.surge:
        return args.surge
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "surge"], cwd=ROOT,
                   check=True)
    return os.path.join(ROOT, "target", "release", "surge")


def capacity():
    return CONFIG["workers"] / CONFIG["service_mean"]


def users_for(load):
    """Users whose nominal arrival rate, N / (think + service), is `load` x capacity."""
    return round(load * capacity() * (CONFIG["think"] + CONFIG["service_mean"]))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--short", action="store_true", help="CI's version: three loads, no charts")
    p.add_argument("--out", help="results folder (default target/reality/full or short)")
    p.add_argument("--surge", help="the surge binary (default: cargo build --release)")
    p.add_argument("--service", choices=["fitted", "measured"], default="fitted",
                   help="fitted: the service and contention of surge fit's model.toml; measured: "
                        "the fit's distribution of the response times as logged, contention 0")
    p.add_argument("--docs", action="store_true",
                   help="write docs/reality.md and its charts (the full run does by default)")
    return p.parse_args()


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def main():
    args = parse_args()
    bootstrap(args)
    sys.path.insert(0, HERE)
    import experiments
    import report
    plan = SHORT if args.short else FULL
    out = os.path.abspath(args.out or os.path.join(ROOT, "target", "reality",
                                                   "short" if args.short else "full"))
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    env = experiments.Env(out, surge_binary(args), os.path.join(VENV, "bin"), CONFIG, SLO,
                          BUCKET, plan["reps"], users_for, args.service)
    try:
        results = experiments.run_all(env, plan)
    finally:
        env.procs.stop_all()
    results["mode"] = "short" if args.short else "full"
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(report.table_text(results))
    if args.docs or not args.short:
        report.write_docs(results, out, ROOT)
    failures = report.ci_checks(results)
    for line in failures:
        print("FAILED:", line)
    print(f"reality: {len(results['checks']) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
