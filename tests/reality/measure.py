"""What the real system did, read from nginx's log, and the outage rules surge applies.

`read_run` reads the precise log (`$msec $status $request_time $upstream_response_time`, one
line per request nginx answered: 200, or 499 when the client timed out and closed, 502/504 when
the upstream refused or timed out) and the files app.py wrote per request served. Times are
relative to Locust's test start; a request belongs to the bucket in which it ended, as in
surge's time series. A success is status 200; everything else nginx logged is an attempt that
failed (surge's rejected + timed out + failed). Percentiles are over successes, per window, from
the log itself: Locust's own percentiles are cumulative and are not used.

`outage` is a transcription of src/metrics/outage.rs (the rules of docs/model.md): windows of
k buckets, a window stands for its centre, down below `outage_below`, recovery at the start of
the first stretch of `stable` over which the full SLO holds. The harness applies it to the real
buckets; for surge it reads summary.json (and each run checks that this transcription finds in
one replication's own window columns what surge found: `experiments._check_transcription`).
"""

import glob
import math
import os


def percentile(sorted_xs, q):
    """Linear interpolation between closest ranks (numpy's default); NaN for no data."""
    if not sorted_xs:
        return math.nan
    pos = q * (len(sorted_xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


class Run:
    """One real run: its requests (end, ok, time) and the server's served requests (end)."""

    def __init__(self, requests, served, statuses):
        self.requests = requests  # list of (end_s, ok, request_time_s), by end
        self.served = served      # sorted ends of requests the app served
        self.statuses = statuses  # status -> count over the whole run


def read_run(folder, t0):
    requests, statuses = [], {}
    with open(os.path.join(folder, "precise.log")) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            end, status, rt = float(parts[0]) - t0, parts[1], float(parts[2])
            statuses[status] = statuses.get(status, 0) + 1
            requests.append((end, status == "200", rt))
    requests.sort()
    served = []
    for path in glob.glob(os.path.join(folder, "served", "*.txt")):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    served.append(float(parts[1]) - t0)
    served.sort()
    return Run(requests, served, statuses)


def summary(run, start_s, end_s):
    """The measures of [start_s, end_s): throughput of successes, success rate, p50, p95."""
    ok_times, attempts = [], 0
    for end, ok, rt in run.requests:
        if start_s <= end < end_s:
            attempts += 1
            if ok:
                ok_times.append(rt)
    ok_times.sort()
    span = end_s - start_s
    served = sum(1 for e in run.served if start_s <= e < end_s)
    return {
        "throughput": len(ok_times) / span,
        "attempts_per_s": attempts / span,
        "success_rate": len(ok_times) / attempts if attempts else math.nan,
        "p50": percentile(ok_times, 0.5),
        "p95": percentile(ok_times, 0.95),
        # Served by the app but not a success at nginx: work for a client that had left.
        "wasted_per_s": max(0, served - len(ok_times)) / span,
        "served_per_s": served / span,
    }


def buckets(run, bucket_s, horizon_s):
    """Per bucket: successes, attempts that failed, and the success times (sorted)."""
    n = int(math.ceil(horizon_s / bucket_s - 1e-9))
    ok = [0] * n
    bad = [0] * n
    times = [[] for _ in range(n)]
    for end, good, rt in run.requests:
        i = int(end // bucket_s)
        if 0 <= i < n:
            if good:
                ok[i] += 1
                times[i].append(rt)
            else:
                bad[i] += 1
    for t in times:
        t.sort()
    return ok, bad, times


def windows(ok, bad, times, k):
    """Each bucket's window (it and the k-1 before): success rate and p95 (NaN when none)."""
    rates, p95s = [], []
    for i in range(len(ok)):
        lo = max(0, i - k + 1)
        s, f = sum(ok[lo:i + 1]), sum(bad[lo:i + 1])
        rates.append(s / (s + f) if s + f else math.nan)
        merged = sorted(x for j in range(lo, i + 1) for x in times[j])
        p95s.append(percentile(merged, 0.95))
    return rates, p95s


def outage(rates, p95s, bucket_s, slo, warmup_s, horizon_s):
    """surge's outage analysis (src/metrics/outage.rs) on per-bucket window measures."""
    b, n = bucket_s, len(rates)
    k = max(1, round(slo["window"] / b))

    def centre(i):
        return (i + 1) * b - min(i + 1, k) * b / 2.0

    def down(i):
        return not math.isnan(rates[i]) and rates[i] < slo["outage_below"]

    def holds(i):
        r, p = rates[i], p95s[i]
        return (math.isnan(r) or r >= slo["success_rate"]) and (math.isnan(p) or p <= slo["latency"])

    first = next((i for i in range(n) if (i + 1) * b > warmup_s + 1e-9), n)
    intervals, i = [], first
    while i < n:
        if down(i):
            start = i
            while i < n and down(i):
                i += 1
            intervals.append([max(0.0, centre(start) - b / 2), min(horizon_s, centre(i - 1) + b / 2)])
        else:
            i += 1
    out = {"crashed": bool(intervals), "crash_time_s": None, "recovered": None,
           "recovered_at_s": None, "intervals": intervals}
    if intervals:
        crash, end = intervals[0]
        out["crash_time_s"] = crash
        need = max(1, round(slo["stable"] / b))
        run_start, found = None, None
        for j in range(first, n):
            if centre(j) < end:
                continue
            if holds(j):
                run_start = j if run_start is None else run_start
                if j + 1 - run_start >= need:
                    found = run_start
                    break
            else:
                run_start = None
        out["recovered"] = found is not None
        if found is not None:
            out["recovered_at_s"] = max(centre(found) - b / 2, crash)
    return out
