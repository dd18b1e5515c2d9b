"""The experiments of the reality check, in order: calibrate, then for each steady load and the
surge, surge predicts (from the calibrated model, before the real run starts) and the real stack
runs. Each real run starts a fresh nginx + gunicorn (new logs, empty backlog), runs Locust's
stages and stops both by pid. Returns plain dicts; report.py turns them into tables and charts.
"""

import csv
import os
import subprocess
import time

import measure
import stack
import surgemodel


class Env:
    def __init__(self, out, surge_bin, venv_bin, cfg, slo, bucket, reps, users_for, service):
        self.out, self.surge_bin, self.venv_bin = out, surge_bin, venv_bin
        self.cfg, self.slo, self.bucket, self.reps = cfg, slo, bucket, reps
        self.users_for, self.service_from = users_for, service
        self.procs = stack.Processes()
        self.closed = _has_closed_population(surge_bin)


def _has_closed_population(surge_bin):
    """Whether this surge knows `population = "closed"` (a users source of exactly N users)."""
    probe = ('[scenario]\nduration = "1s"\n[[source]]\nkind = "users"\nusers = 1\n'
             'population = "closed"\npages = { dist = "deterministic", mean = 1 }\n'
             'think = { dist = "exponential", mean = "1s" }\n[[tier]]\ninstances = 1\n'
             'threads = 1\nservice = { dist = "exponential", mean = "1ms" }\n')
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"reality-probe-{os.getpid()}.toml")
    with open(path, "w") as f:
        f.write(probe)
    try:
        return subprocess.run([surge_bin, "check", path], capture_output=True).returncode == 0
    finally:
        os.remove(path)


def real_run(env, name, stages):
    """One run of the real stack: fresh nginx + gunicorn, Locust's stages, both stopped."""
    folder = os.path.join(env.out, name, "real")
    os.makedirs(folder, exist_ok=True)
    before = len(env.procs.procs)
    started = time.time()
    try:
        port = stack.start_stack(env.procs, folder, env.cfg, env.venv_bin)
        t0, cpu = stack.run_locust(env.procs, folder, port, env.cfg, stages, env.venv_bin)
        time.sleep(0.5)  # the last log lines
    finally:
        for _name, p in env.procs.procs[before:]:
            env.procs.stop(p)
        del env.procs.procs[before:]
    run = measure.read_run(folder, t0)
    return folder, run, cpu, started


def cpu_over(cpu, start_s, end_s):
    xs = [share for t, share in cpu if start_s <= t < end_s]
    return {"mean": sum(xs) / len(xs) if xs else None, "max": max(xs) if xs else None}


def locust_users(folder):
    """Locust's user count and cumulative requests per second row (Aggregated)."""
    rows = []
    path = os.path.join(folder, "locust_stats_history.csv")
    with open(path) as f:
        for r in csv.DictReader(f):
            if r.get("Name") == "Aggregated":
                rows.append((float(r["Timestamp"]), int(r["User Count"])))
    return rows


def calibrate(env, plan):
    c = plan["calibration"]
    users = env.users_for(c["load"])
    folder, run, cpu, started = real_run(env, "calibration", [[c["seconds"], users]])
    real = measure.summary(run, c["warmup"], c["seconds"])
    fit_dir = os.path.join(env.out, "calibration", "fit")
    # The log format as written in nginx.conf (surge fit's auto-detection knows only the
    # combined format followed by $request_time).
    argv = [env.surge_bin, "fit", os.path.join(folder, "access.log"), "--format", "nginx",
            "--log-format", stack.COMBINED_TIMES, "--out", fit_dir]
    if _fit_takes_threads(env.surge_bin):
        argv += ["--threads", str(env.cfg["workers"])]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"surge fit failed ({proc.returncode}):\n{proc.stderr}")
    with open(os.path.join(fit_dir, "fit.txt"), "w") as f:
        f.write(proc.stdout)
    fitted = surgemodel.read_fit(fit_dir, env.service_from)
    # The think time from Locust's user count and the log (Little's law over the cycle).
    mean_rt = _mean_time(run, c["warmup"], c["seconds"])
    think_fitted = users / real["attempts_per_s"] - mean_rt if real["attempts_per_s"] else None
    return {
        "users": users, "load": c["load"], "seconds": c["seconds"], "real": real,
        "fit_stdout": proc.stdout, "fit_argv": argv[1:], "service_from": env.service_from,
        "service": fitted["service"], "contention": fitted["contention"],
        "threads_fitted": fitted["threads"], "think_fitted": think_fitted,
        "locust_cpu": cpu_over(cpu, c["warmup"], c["seconds"]), "statuses": run.statuses,
        "started": started,
    }, fitted


def _fit_takes_threads(surge_bin):
    h = subprocess.run([surge_bin, "fit", "--help"], capture_output=True, text=True)
    return "--threads" in (h.stdout + h.stderr)


def _mean_time(run, start_s, end_s):
    xs = [rt for end, _ok, rt in run.requests if start_s <= end < end_s]
    return sum(xs) / len(xs) if xs else 0.0


def steady(env, fitted, load, seconds, warmup):
    name = f"steady-{round(load * 100)}"
    users = env.users_for(load)
    text = surgemodel.model_text(name, env.cfg, fitted, users, seconds, warmup, env.bucket,
                                 env.slo, closed=env.closed)
    predicted_at = time.time()
    summary, rows = surgemodel.predict(env.surge_bin, text, os.path.join(env.out, name, "surge"),
                                       env.reps)
    folder, run, cpu, started = real_run(env, name, [[seconds, users]])
    assert started > predicted_at
    real = measure.summary(run, warmup, seconds)
    real_outage = _real_outage(env, run, seconds, warmup)
    return {
        "name": name, "load": load, "users": users, "seconds": seconds, "warmup": warmup,
        "surge": surgemodel.measures(summary), "surge_outage": summary["outage"],
        "real": real, "real_outage": real_outage,
        "locust_cpu": cpu_over(cpu, warmup, seconds), "statuses": run.statuses,
        "predicted_at": predicted_at, "started": started,
    }


def _real_outage(env, run, horizon, warmup):
    ok, bad, times = measure.buckets(run, env.bucket, horizon)
    k = max(1, round(env.slo["window"] / env.bucket))
    rates, p95s = measure.windows(ok, bad, times, k)
    out = measure.outage(rates, p95s, env.bucket, env.slo, warmup, horizon)
    out["series"] = {"ok": ok, "bad": bad, "window_success_rate": rates, "window_p95_s": p95s,
                     "p95_s": [measure.percentile(t, 0.95) for t in times]}
    return out


def surge_experiment(env, fitted, plan):
    s = plan["surge"]
    base = env.users_for(s["base"])
    high = round(base * s["factor"])
    t1, t2 = s["before"], s["before"] + s["hold"]
    horizon = t2 + s["after"]
    stages = [[t1, base], [t2, high], [horizon, base]]
    text = surgemodel.model_text("surge", env.cfg, fitted, base, horizon, 0, env.bucket,
                                 env.slo, surge=(t1, s["factor"], s["hold"]), closed=env.closed)
    predicted_at = time.time()
    summary, rows = surgemodel.predict(env.surge_bin, text, os.path.join(env.out, "surge", "surge"),
                                       env.reps)
    transcription = _check_transcription(env, text, horizon)
    folder, run, cpu, started = real_run(env, "surge", stages)
    real_outage = _real_outage(env, run, horizon, 0)
    windows = [(0, t1), (t1, t2), (t2, horizon)]
    return {
        "name": "surge", "users": [base, high, base], "times": [t1, t2, horizon],
        "closed_population_in_surge": env.closed,
        "surge_outage": summary["outage"], "real_outage": real_outage,
        "surge_series": [{k: r[k] for k in ("t_s", "succeeded", "rejected", "timed_out", "failed",
                                             "p95_s", "window_success_rate", "window_p95_s",
                                             "users")} for r in rows],
        "phases": [{"from": a, "to": b, "real": measure.summary(run, a, b),
                    "locust_cpu": cpu_over(cpu, a, b)} for a, b in windows],
        "statuses": run.statuses, "predicted_at": predicted_at, "started": started,
        "cpu": cpu, "transcription_agrees": transcription,
    }


def _check_transcription(env, text, horizon):
    """measure.outage on one surge replication's own window columns finds what surge found."""
    summary, rows = surgemodel.predict(env.surge_bin, text,
                                       os.path.join(env.out, "surge", "surge-rep0"), 1)
    rates = [float(r["window_success_rate"] or "nan") for r in rows]
    p95s = [float(r["window_p95_s"] or "nan") for r in rows]
    mine = measure.outage(rates, p95s, env.bucket, env.slo, 0, horizon)
    theirs = summary["outage"]
    same = (mine["crashed"] == bool(theirs["crashed"])
            and _close(mine["crash_time_s"], theirs["crash_time_s"])
            and _close(mine["recovered_at_s"], theirs["recovered_at_s"]))
    return {"agrees": same, "harness": {k: mine[k] for k in ("crashed", "crash_time_s",
                                                             "recovered_at_s")},
            "surge": {k: theirs[k] for k in ("crashed", "crash_time_s", "recovered_at_s")}}


def _close(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-6)


def run_all(env, plan):
    results = {"config": env.cfg, "slo": env.slo, "bucket": env.bucket, "reps": env.reps,
               "closed_population": env.closed, "uptime_before": _loadavg()}
    print("reality: calibration ...", flush=True)
    results["calibration"], fitted = calibrate(env, plan)
    results["steady"] = []
    for load, seconds in plan["steady"]:
        print(f"reality: steady load {load:.0%} (surge first, then the real stack) ...", flush=True)
        results["steady"].append(steady(env, fitted, load, seconds, plan["steady_warmup"]))
    print("reality: the surge (surge first, then the real stack) ...", flush=True)
    results["surge"] = surge_experiment(env, fitted, plan)
    results["uptime_after"] = _loadavg()
    return results


def _loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]
