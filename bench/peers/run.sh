#!/usr/bin/env bash
# Peers: the same M/M/c/K reference (l = 900/s, m = 10/s, c = 100, K = 1,000) in
# SimPy 4.1.2 and Ciw 3.2.7, in a virtual environment (not part of CI), then surge's own run of it,
# all on this machine in one go, and the ratios of arrivals per second (of wall time, and of
# CPU time, which a loaded machine disturbs less).
#   bench/peers/run.sh [SIMPY_ARRIVALS] [CIW_ARRIVALS] [SURGE_ARRIVALS]
set -euo pipefail
cd "$(dirname "$0")"
simpy_n=${1:-1000000}
ciw_n=${2:-100000}
surge_n=${3:-10000000}
venv=${PEERS_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet simpy==4.1.2 ciw==3.2.7
fi
(cd ../.. && cargo build --release --quiet)
surge=../../target/release/surge
simpy_json=$("$venv/bin/python" mmck_simpy.py "$simpy_n")
echo "$simpy_json"
ciw_json=$("$venv/bin/python" mmck_ciw.py "$ciw_n")
echo "$ciw_json"
surge_json=$("$surge" bench --workload "{\"Mmck\":{\"arrivals\":$surge_n}}")
echo "{\"peer\": \"surge\", \"measure\": $surge_json}"
# The same system as a user runs it: `surge run` on mmck.toml, the whole process timed (start,
# model load, the run, and every output written: summary, time series, charts, report).
run_json=$(python3 - "$surge" "$surge_n" <<'PY'
import json, os, resource, subprocess, sys, tempfile, time
surge, n = sys.argv[1], int(sys.argv[2])
with tempfile.TemporaryDirectory() as out:
    t0, r0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([surge, "run", "mmck.toml", "--set", f"scenario.duration={n / 900:.0f}s",
                    "--out", out], check=True, stdout=subprocess.DEVNULL)
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    offered = json.load(open(os.path.join(out, "summary.json")))["requests"]["offered"]
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print(json.dumps({"arrivals": offered, "wall_s": wall, "cpu_s": cpu}))
PY
)
echo "{\"peer\": \"surge run\", \"measure\": $run_json}"
python3 - "$simpy_json" "$ciw_json" "$surge_json" "$run_json" <<'PY'
import json, sys
simpy, ciw, surge, run = (json.loads(a) for a in sys.argv[1:])
s = surge["work"] / surge["wall_s"]
print(f"arrivals/s: surge {s:,.0f}; SimPy {simpy['arrivals_per_s']:,.0f} (surge {s / simpy['arrivals_per_s']:.0f}x); "
      f"Ciw {ciw['arrivals_per_s']:,.0f} (surge {s / ciw['arrivals_per_s']:.0f}x)")
# Per CPU second as well: on a loaded machine the wall clock also counts other processes' turns.
if surge.get("cpu_s"):
    sc = surge["work"] / surge["cpu_s"]
    sp = simpy["arrivals"] / simpy["cpu_s"]
    cw = ciw["arrivals"] / ciw["cpu_s"]
    print(f"arrivals per CPU second: surge {sc:,.0f}; SimPy {sp:,.0f} (surge {sc / sp:.0f}x); "
          f"Ciw {cw:,.0f} (surge {sc / cw:.0f}x)")
r = run["arrivals"] / run["wall_s"]
rc = run["arrivals"] / run["cpu_s"]
sp = simpy["arrivals"] / simpy["cpu_s"]
print(f"`surge run mmck.toml` as a user types it (process start and every output included): "
      f"{r:,.0f} arrivals/s ({r / simpy['arrivals_per_s']:.0f}x SimPy), "
      f"{rc:,.0f} per CPU second ({rc / sp:.0f}x SimPy)")
print(f"load average at the end: {open('/proc/loadavg').read().split()[0]}")
print(f"blocking: SimPy {simpy['blocking']:.4f}, Ciw {ciw['blocking']:.4f} (exact M/M/c/K: see `surge check`)")
PY
