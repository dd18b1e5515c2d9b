"""Record a real load test against the reality check's stack, for surge fit's corpus.

Starts the reality check's nginx in front of 4 gunicorn sync workers whose handler sleeps a
lognormal of mean 100 ms, cv 0.5 (tests/reality/stack.py and app.py: capacity 40 requests/s),
on 127.0.0.1 only, runs one load generator against it for a bounded time, writes its results,
and stops every process it started by its pid. It is how the vegeta and k6 files of
tests/fit-data/real/ were made (see that folder's README); it is not run by CI.

- vegeta: `vegeta attack` at a constant rate (open loop: it sends on schedule whatever the
  answers), piped through `vegeta encode --to csv`.
- k6: `k6 run --out csv=...` of a script in which each of `--vus` virtual users loops: one GET,
  then a sleep of `--think` seconds (a closed loop); the CSV is gzipped (k6 writes a dozen
  metric rows per request).

Run it in a network namespace of its own, which has only the loopback, so that a load generator
can reach nothing else (the k6 used came as a binary):
    unshare -n sh -c 'ip link set lo up && target/reality-venv/bin/python \
        scripts/record_loadtest.py vegeta --bin PATH --rate 20 --duration 30s --out FILE'
"""

import argparse
import gzip
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reality"))
import stack  # noqa: E402
from reality import CONFIG  # noqa: E402  (the reality check's stack, as it runs it)

K6_SCRIPT = """import http from 'k6/http';
import { sleep } from 'k6';
export default function () {
  http.get(__ENV.TARGET);
  sleep(Number(__ENV.THINK));
}
"""


def vegeta(args, port, folder):
    target = f"GET http://127.0.0.1:{port}/\n"
    attack = subprocess.run(
        ["timeout", "360", args.bin, "attack", f"-rate={args.rate}/s",
         f"-duration={args.duration}", f"-timeout={args.timeout}", "-max-workers=400"],
        input=target.encode(), capture_output=True, check=True)
    csv = subprocess.run([args.bin, "encode", "--to", "csv"], input=attack.stdout,
                         capture_output=True, check=True)
    with open(args.out, "wb") as f:
        f.write(csv.stdout)


def k6(args, port, folder):
    script = os.path.join(folder, "script.js")
    with open(script, "w") as f:
        f.write(K6_SCRIPT)
    raw = os.path.join(folder, "k6.csv")
    subprocess.run(
        ["timeout", "360", args.bin, "run", "--quiet", "--no-usage-report", "--no-color",
         "--vus", str(args.vus), "--duration", args.duration, "--out", f"csv={raw}",
         "-e", f"TARGET=http://127.0.0.1:{port}/", "-e", f"THINK={args.think}", script],
        check=True, stdout=subprocess.DEVNULL)
    with open(raw, "rb") as src, gzip.open(args.out, "wb") as dst:
        dst.write(src.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tool", choices=["vegeta", "k6"])
    ap.add_argument("--bin", required=True, help="the load generator's binary")
    ap.add_argument("--duration", required=True, help="e.g. 30s (at most 5m)")
    ap.add_argument("--rate", type=int, help="vegeta: requests a second")
    ap.add_argument("--timeout", default="10s", help="vegeta: per-request timeout")
    ap.add_argument("--vus", type=int, help="k6: virtual users")
    ap.add_argument("--think", type=float, default=0.5, help="k6: sleep after each request, s")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    venv_bin = os.path.dirname(sys.executable)
    procs = stack.Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="loadtest-run-") as folder:
            port = stack.start_stack(procs, folder, CONFIG, venv_bin)
            (vegeta if args.tool == "vegeta" else k6)(args, port, folder)
            print(f"{args.out}: written")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
