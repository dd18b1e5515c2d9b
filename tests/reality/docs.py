"""docs/reality.md from a full run: the set-up, the calibration (which numbers came from the fit
and which from the configuration), the table (measure | surge | real | ratio) for every load,
the surge's outage timeline, the targets met or not, the load generator's CPU, the machine and
the date, and the two charts under docs/reality/. Only the part between the `generated` markers
is rewritten; the paragraphs per miss around it are written by hand and kept.
"""

import datetime
import math
import os
import platform
import shutil

import charts
import report

BEGIN, END = "<!-- generated:begin -->", "<!-- generated:end -->"


def _machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model or platform.machine()}), {platform.system()} {platform.release()}"


def _short_paths(text):
    """The fit's terminal output with the run's folders cut to their last part."""
    out = []
    for word in text.split(" "):
        if word.startswith("/") and "/calibration/" in word:
            word = word.split("/calibration/", 1)[1].replace("real/", "")
        out.append(word)
    return " ".join(out)


def _fit_command(argv):
    words = ["surge"]
    for a in argv:
        if a.startswith("/"):
            a = os.path.basename(a.rstrip("/")) or a
        if " " in a:
            a = "'" + a + "'"
        words.append(a)
    return " ".join(words)


def _targets(results):
    """Each target of the issue: (target, surge, real, met)."""
    st = results["steady"]
    out = []
    real_max = max(s["real"]["throughput"] for s in st)
    sim_max = max(s["surge"]["throughput"] for s in st)
    out.append(("saturation throughput within 10%", f"{sim_max:.1f}/s", f"{real_max:.1f}/s",
                abs(sim_max / real_max - 1) <= 0.10))
    worst = max(st, key=lambda s: abs(s["surge"]["success_rate"] - s["real"]["success_rate"]))
    gap = abs(worst["surge"]["success_rate"] - worst["real"]["success_rate"])
    out.append((f"success rate within 5 points at every load (worst: {100 * worst['load']:.0f}%)",
                f"{100 * worst['surge']['success_rate']:.1f}%",
                f"{100 * worst['real']['success_rate']:.1f}%", gap <= 0.05))
    for s in st:
        if s["load"] < 0.95:
            for key in ("p50", "p95"):
                a, b = s["surge"][key], s["real"][key]
                ok = not (math.isnan(a) or math.isnan(b)) and abs(a / b - 1) <= 0.25
                out.append((f"{key} within 25% at {100 * s['load']:.0f}%", report.fmt(key, a),
                            report.fmt(key, b), ok))
    su = results["surge"]
    so, ro = su["surge_outage"], su["real_outage"]
    sc, rc = report.crashed(so, True), report.crashed(ro, False)
    out.append(("the surge: outage or not, the same", "outage" if sc else "no outage",
                "outage" if rc else "no outage", sc == rc))
    if sc and rc:
        out.append(("the surge: its start within 10 s", f"{so['crash_time_s']:.0f} s",
                    f"{ro['crash_time_s']:.0f} s",
                    abs(so["crash_time_s"] - ro["crash_time_s"]) <= 10))
        s_rec = so.get("recovered") and so["recovered"] >= 0.5
        r_rec = bool(ro.get("recovered"))
        if s_rec and r_rec:
            sd = so["recovered_at_s"] - so["crash_time_s"]
            rd = ro["recovered_at_s"] - ro["crash_time_s"]
            out.append(("the surge: recovery within 30%", f"{sd:.0f} s after the start",
                        f"{rd:.0f} s after the start", abs(sd / rd - 1) <= 0.30 if rd else False))
        else:
            out.append(("the surge: recovery within 30% (or both not recovered)",
                        "recovered" if s_rec else "not recovered",
                        "recovered" if r_rec else "not recovered", s_rec == r_rec))
    return out


def _config_table(results):
    c, cal = results["config"], results["calibration"]
    svc = cal["service"]
    svc_text = ", ".join(f"{k} = {v}" for k, v in svc.items())
    think = cal["think_fitted"]
    if cal.get("service_from") == "measured":
        src = ("fit: the lognormal `surge fit` gives the logged response times of its one endpoint "
               "(the harness's `--service measured`)")
        csrc = "set to 0 by `--service measured` (the fit's own is in its output above)"
    else:
        src, csrc = "fit (`surge fit`'s model.toml)", "fit"
    return "\n".join([
        "| number | value | from |",
        "| --- | --- | --- |",
        f"| gunicorn sync workers (threads) | {c['workers']} | config (`--workers`); the fit guessed {cal['threads_fitted']} |",
        f"| listen backlog (queue) | {c['backlog']} (+1: Linux holds backlog + 1) | config (`--backlog`) |",
        f"| service time | `{{ {svc_text} }}` | {src}; the app draws lognormal mean {1000 * c['service_mean']:.0f} ms, cv {c['service_cv']} |",
        f"| contention | {cal['contention']:.4g} | {csrc} |",
        f"| users | per load, see below | config (Locust's user count) |",
        f"| think time | exponential, mean {c['think']:g} s | config (locustfile); from Locust's users and the log by Little's law: {think:.2f} s |",
        f"| client timeout | {c['client_timeout']:g} s | config (FastHttpUser `network_timeout`, `connection_timeout`) |",
        f"| refresh after an error | exponential, mean {c['refresh']:g} s, at most {c['give_up']} in a row | config (locustfile) |",
        f"| nginx proxy_connect_timeout | {c['nginx_connect_timeout']:g} s | config: `refused_after` (a full backlog's 504) |",
        f"| nginx proxy_read_timeout | {c['nginx_read_timeout']:g} s | config (never reached: the client leaves at {c['client_timeout']:g} s) |",
        f"| gunicorn worker timeout | {c['worker_timeout']} s | config (never reached: the longest service is well under it) |",
    ])


def _steady_table(results):
    lines = ["| load | measure | surge | real | ratio |", "| --- | --- | --- | --- | --- |"]
    for load, label, s, r, q, note in report.rows(results):
        lines.append(f"| {load} | {label} | {s} | {r} | {q} |" + (f" {note} |" if note else ""))
    return "\n".join(lines)


def _extra_table(results):
    lines = ["| load | attempts/s surge | attempts/s real | wasted/s surge | wasted/s real | "
             "outage surge | outage real | Locust CPU mean / max |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in results["steady"]:
        cpu = s["locust_cpu"]
        lines.append(
            f"| {100 * s['load']:.0f}% | {s['surge']['attempts_per_s']:.1f} | "
            f"{s['real']['attempts_per_s']:.1f} | {s['surge']['wasted_per_s']:.1f} | "
            f"{s['real']['wasted_per_s']:.1f} | {report.outage_line(s['surge_outage'], True)} | "
            f"{report.outage_line(s['real_outage'], False)} | "
            f"{100 * (cpu['mean'] or 0):.0f}% / {100 * (cpu['max'] or 0):.0f}% |")
    return "\n".join(lines)


def _surge_table(results):
    su = results["surge"]
    lines = ["| phase | users | real successes/s | real success rate | real p95 | Locust CPU max |",
             "| --- | --- | --- | --- | --- | --- |"]
    for ph, users in zip(su["phases"], su["users"]):
        r = ph["real"]
        lines.append(f"| {ph['from']:.0f}-{ph['to']:.0f} s | {users} | {r['throughput']:.1f} | "
                     f"{100 * r['success_rate']:.1f}% | {report.fmt('p95', r['p95'])} | "
                     f"{100 * (ph['locust_cpu']['max'] or 0):.0f}% |")
    return "\n".join(lines)


def generated(results):
    c, cal = results["config"], results["calibration"]
    cap = c["workers"] / c["service_mean"]
    su = results["surge"]
    targets = _targets(results)
    met = sum(1 for t in targets if t[3])
    cpu_over = [f"{100 * s['load']:.0f}%" for s in results["steady"]
                if (s["locust_cpu"]["max"] or 0) > 0.7]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        BEGIN,
        f"Measured {when} on {_machine()}; load average {' '.join(results['uptime_before'])} "
        f"before and {' '.join(results['uptime_after'])} after (1, 5, 15 min). surge replications "
        f"per prediction: {results['reps']}. Population model of the surge: "
        + ("`population = \"closed\"`." if su["closed_population_in_surge"] else
           "Locust's users are sessions of 1,000,000 pages, and the surge's extra users a second "
           "source of one-page sessions arriving while the surge lasts (this surge has no closed "
           "population)."),
        "",
        f"Capacity: {c['workers']} workers / {1000 * c['service_mean']:.0f} ms = {cap:.0f} requests/s; "
        f"a load of x% is round(x% x {cap:.0f}/s x ({c['think']:g} s + {c['service_mean']:g} s)) Locust users.",
        "",
        f"### Calibration: {cal['users']} users ({100 * cal['load']:.0f}%) for {cal['seconds']} s",
        "",
        f"`{_fit_command(cal['fit_argv'])}` printed:",
        "",
        "```",
        _short_paths(cal["fit_stdout"].strip()),
        "```",
        "",
        _config_table(results),
        "",
        f"### Targets: {met} of {len(targets)} met",
        "",
        "| target | surge | real | met |",
        "| --- | --- | --- | --- |",
    ]
    parts += [f"| {t} | {s} | {r} | {'yes' if ok else '**no**'} |" for t, s, r, ok in targets]
    parts += [
        "",
        "### Steady loads (surge predicted each before the real run)",
        "",
        _steady_table(results),
        "",
        "Attempts (first requests and refreshes), work the server did for clients that had left "
        "(real: requests app.py served that nginx did not log as 200), outages and the load "
        "generator's CPU (share of one core, sampled each second from /proc/PID/stat):",
        "",
        _extra_table(results),
        "",
        ("Locust passed 70% of a core at " + ", ".join(cpu_over) + "." if cpu_over else
         "Locust stayed under 70% of a core at every load."),
        "",
        "![latency, throughput and success rate against load](reality/steady-loads.png)",
        "",
        "### The surge",
        "",
        f"surge predicted: {report.outage_line(su['surge_outage'], True)}. "
        f"The real stack: {report.outage_line(su['real_outage'], False)}. "
        f"(An outage is a {results['slo']['window']:g} s window under "
        f"{100 * results['slo']['outage_below']:.0f}% success; recovery the start of "
        f"{results['slo']['stable']:g} s of windows with at least "
        f"{100 * results['slo']['success_rate']:.0f}% success and p95 at most "
        f"{results['slo']['latency']:g} s: surge's rules, applied to the real log by "
        "tests/reality/measure.py.)",
        "",
        _surge_table(results),
        "",
        "![the surge: real and simulated timelines](reality/surge-timeline.png)",
        END,
    ]
    return "\n".join(parts)


SKELETON = """# Reality check: surge against a real server

{generated}
"""


def write(results, out, root):
    folder = os.path.join(root, "docs", "reality")
    os.makedirs(folder, exist_ok=True)
    charts.surge_timeline(results, os.path.join(out, "surge-timeline.png"))
    charts.steady_loads(results, os.path.join(out, "steady-loads.png"))
    for name in ("surge-timeline.png", "steady-loads.png"):
        shutil.copy(os.path.join(out, name), os.path.join(folder, name))
    path = os.path.join(root, "docs", "reality.md")
    text = generated(results)
    if os.path.exists(path):
        old = open(path).read()
        if BEGIN in old and END in old:
            text = old.split(BEGIN)[0] + text + old.split(END, 1)[1]
        else:
            text = old.rstrip() + "\n\n" + text + "\n"
    else:
        text = SKELETON.format(generated=text)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
    print(f"reality: wrote {path} and docs/reality/*.png")
