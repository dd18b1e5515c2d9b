"""surge's side of the reality check: the model of the stack, written from the calibration's fit
and the deployment's configuration, and surge's predictions from it.

`model_text` writes a model.toml whose every number is either from `surge fit` (the service
time distribution and the contention, read from the model.toml the fit wrote) or from the
configuration a planner knows (workers, backlog, timeouts, users, think time, refresh delay),
each line commented with where it came from. `predict` runs `surge run` on it and reads its
summary and time series. Nothing here reads the real run being predicted.
"""

import csv
import json
import os
import subprocess
import tomllib


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)


def read_fit(fit_folder, service_from="fitted"):
    """The fitted tier: service distribution, contention and threads as `surge fit` wrote them
    (`fitted`), or (`measured`) the lognormal the fit gives the response times of its one
    endpoint as they were logged, with no contention taken out."""
    with open(os.path.join(fit_folder, "model.toml"), "rb") as f:
        model = tomllib.load(f)
    tier = model["tier"][0]
    with open(os.path.join(fit_folder, "fit.json")) as f:
        fit = json.load(f)
    out = {"service": tier["service"], "contention": tier.get("contention", 0.0),
           "threads": tier["threads"], "fit_json": fit}
    if service_from == "measured":
        e = fit["endpoints"][0]
        ln = next(c for c in e["candidates"] if c["dist"] == "lognormal")
        out["service"] = {"dist": "lognormal", "mu": round(ln["params"]["mu"], 6),
                          "sigma": round(ln["params"]["sigma"], 6)}
        out["contention"] = 0.0
    return out


def duration(s):
    return f"{s:g}s"


def model_text(name, cfg, fitted, users, horizon_s, warmup_s, bucket_s, slo, surge=None,
               closed=False):
    """The model of one experiment. `surge`: (start_s, factor, hold_s) of a step surge."""
    lines = [
        f"# The reality check's model of nginx + gunicorn ({cfg['workers']} sync workers) + Locust users.",
        "# Written by tests/reality/surgemodel.py: FIT = from `surge fit` on the calibration's nginx log;",
        "# CONFIG = from the deployment's configuration or the load test's (known, not fitted).",
        "[scenario]",
        f"name = {json.dumps(name)}",
        f"duration = \"{duration(horizon_s)}\"",
        f"warmup = \"{duration(warmup_s)}\"",
        f"bucket = \"{duration(bucket_s)}\"",
        f"seed = {cfg['seed']}",
        "",
        "[[source]]",
        "name = \"visitors\"",
        "kind = \"users\"",
        f"users = {users}                      # CONFIG: Locust users",
    ]
    if closed:
        lines.append("population = \"closed\"            # CONFIG: Locust keeps exactly this many users")
        lines.append("pages = { dist = \"deterministic\", mean = 1000000 }   # CONFIG: a Locust user never leaves")
    else:
        lines.append("pages = { dist = \"deterministic\", mean = 1000000 }   # CONFIG: a Locust user never leaves")
    lines += [
        f"think = {{ dist = \"exponential\", mean = \"{duration(cfg['think'])}\" }}   # CONFIG: locustfile wait_time",
        "",
        "[client]",
        f"timeout = \"{duration(cfg['client_timeout'])}\"   # CONFIG: FastHttpUser network/connection timeout",
        "refresh = 1.0                  # CONFIG: a user asks again after every error",
        f"refresh_after = {{ dist = \"exponential\", mean = \"{duration(cfg['refresh'])}\" }}   # CONFIG",
        f"give_up_after = {cfg['give_up']}              # CONFIG: then the user goes back to thinking",
        "",
        "[[tier]]",
        "name = \"gunicorn\"",
        "instances = 1",
        f"threads = {cfg['workers']}                    # CONFIG: gunicorn --workers (sync: one request each)",
        f"queue = {cfg['backlog'] + 1}                   # CONFIG: gunicorn --backlog {cfg['backlog']} (Linux holds backlog + 1)",
        f"refused_after = \"{duration(cfg['nginx_connect_timeout'])}\"   # CONFIG: nginx proxy_connect_timeout (a full backlog drops the SYN: 504)",
        f"service = {_toml_value(fitted['service'])}   # FIT",
        f"contention = {fitted['contention']!r}          # FIT",
        "",
        "[slo]",
        f"success_rate = {slo['success_rate']}",
        f"latency = \"{duration(slo['latency'])}\"",
        f"window = \"{duration(slo['window'])}\"",
        f"outage_below = {slo['outage_below']}",
        f"stable = \"{duration(slo['stable'])}\"",
    ]
    if surge and closed:
        start, factor, hold = surge
        lines += ["", "[surge]             # CONFIG: the LoadTestShape's stages",
                  f"peak = {factor!r}", f"start = \"{duration(start)}\"",
                  "ramp = \"0s\"", f"hold = \"{duration(hold)}\"", "decay = \"0s\""]
    elif surge:
        lines += _surge_users_open(cfg, users, surge)
    return "\n".join(lines) + "\n"


def _surge_users_open(cfg, users, surge):
    """Without a closed population, the surge's extra users as a second source: sessions of
    one page arriving, while the surge lasts, at the rate those users would ask for pages (their
    first pages are Poisson too: Locust starts each in the middle of a think). An approximation:
    a session still refreshing when the surge ends goes on, where Locust stops its user."""
    start, factor, hold = surge
    extra = round(users * factor) - users
    end = start + hold
    return [
        "",
        "# The surge's extra users, as open sessions of one page (this surge has no closed",
        "# population): Locust adds them at the start and stops them at the end.",
        "[[source]]",
        "name = \"surge_users\"",
        "kind = \"users\"",
        f"users = {extra}",
        "pages = { dist = \"deterministic\", value = 1 }",
        f"think = {{ dist = \"exponential\", mean = \"{duration(cfg['think'])}\" }}",
        f"profile = [[\"0s\", 0.0], [\"{duration(start)}\", 0.0], [\"{duration(start)}\", 1.0], "
        f"[\"{duration(end)}\", 1.0], [\"{duration(end)}\", 0.0]]",
    ]


def predict(surge_bin, text, folder, reps):
    """`surge run` on the model; returns (summary, time series rows)."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.toml")
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(folder, "run")
    proc = subprocess.run([surge_bin, "run", path, "--reps", str(reps), "--out", out, "--quiet"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"surge run {path} failed ({proc.returncode}):\n{proc.stderr}")
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "timeseries.csv")) as f:
        rows = list(csv.DictReader(f))
    return summary, rows


def measures(summary):
    """surge's figures in the harness's terms (means over replications)."""
    r = summary["requests"]
    ended = r["succeeded"] + r["rejected"] + r["timed_out"] + r["failed"]
    span = summary["sim_time_s"] - summary["warmup_s"]
    lat = summary["latency_s"]
    return {
        "throughput": r["succeeded"] / span,
        "attempts_per_s": ended / span,
        "success_rate": r["succeeded"] / ended if ended else float("nan"),
        "p50": lat["p50"],
        "p95": lat["p95"],
        "wasted_per_s": r.get("wasted", 0.0) / span,
    }
