"""Record a real vegeta run against the reality check's stack, for surge fit's corpus.

Starts the reality check's nginx in front of 4 gunicorn sync workers whose handler sleeps a
lognormal of mean 100 ms, cv 0.5 (tests/reality/stack.py and app.py: capacity 40 requests/s),
on 127.0.0.1 only; runs `vegeta attack` at a constant rate (open loop: vegeta sends on schedule
whatever the answers) for a bounded duration with a bounded timeout, pipes its results through
`vegeta encode --to csv`, and stops every process it started by its pid. It is how the vegeta
files of tests/fit-data/real/ were made (see that folder's README); it is not run by CI.

Usage (a vegeta binary and the reality venv, `target/reality-venv`, are needed):
    target/reality-venv/bin/python scripts/record_vegeta.py --vegeta PATH \
        --rate 20 --duration 30s --out tests/fit-data/real/vegeta-loopback-50pct.csv
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reality"))
import stack  # noqa: E402

CONFIG = {
    "workers": 4, "backlog": 128, "worker_timeout": 30, "nginx_connect_timeout": 0.3,
    "nginx_read_timeout": 30, "service_mean": 0.1, "service_cv": 0.5, "seed": 23,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vegeta", required=True)
    ap.add_argument("--rate", type=int, required=True, help="requests a second")
    ap.add_argument("--duration", required=True, help="e.g. 30s (at most 5m)")
    ap.add_argument("--timeout", default="10s", help="vegeta's per-request timeout")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    venv_bin = os.path.dirname(sys.executable)
    procs = stack.Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="vegeta-run-") as folder:
            port = stack.start_stack(procs, folder, CONFIG, venv_bin)
            target = f"GET http://127.0.0.1:{port}/\n"
            attack = subprocess.run(
                ["timeout", "360", args.vegeta, "attack", f"-rate={args.rate}/s",
                 f"-duration={args.duration}", f"-timeout={args.timeout}",
                 "-max-workers=400"],
                input=target.encode(), capture_output=True, check=True)
            csv = subprocess.run([args.vegeta, "encode", "--to", "csv"], input=attack.stdout,
                                 capture_output=True, check=True)
            with open(args.out, "wb") as f:
                f.write(csv.stdout)
            lines = csv.stdout.count(b"\n")
            print(f"{args.out}: {lines} requests")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
