"""The system under test's application: a WSGI app whose one handler sleeps a service time.

Each request sleeps a draw from a lognormal of mean REALITY_SERVICE_MEAN seconds and coefficient
of variation REALITY_SERVICE_CV (sleep, not CPU, so that the server's capacity is set by its
gunicorn workers and not by the 2-core machine the load generator shares). Each worker draws from
its own generator, seeded with REALITY_SEED x 1000 + the worker's number (1, 2, ...), so a run's
service times are written down by its seed. Every request served is appended to the worker's own
file under REALITY_SERVED_DIR (start and end, epoch seconds): the requests the server worked on,
whether or not a client was still waiting, which is how the harness measures wasted work.

It is not a model of any real application: it has no CPU cost, no I/O and one endpoint.
"""

import math
import os
import random
import time

MEAN = float(os.environ.get("REALITY_SERVICE_MEAN", "0.1"))
CV = float(os.environ.get("REALITY_SERVICE_CV", "0.5"))
SEED = int(os.environ.get("REALITY_SEED", "23"))
SERVED_DIR = os.environ.get("REALITY_SERVED_DIR", "")
SIGMA = math.sqrt(math.log(1.0 + CV * CV))
MU = math.log(MEAN) - SIGMA * SIGMA / 2.0

_state = {}


def _worker():
    """The worker's generator and served-file, made on its first request (after the fork)."""
    if "rng" not in _state:
        number = int(os.environ.get("REALITY_WORKER", "0"))
        _state["rng"] = random.Random(SEED * 1000 + number)
        if SERVED_DIR:
            path = os.path.join(SERVED_DIR, f"served-{number}-{os.getpid()}.txt")
            _state["served"] = open(path, "a", buffering=1)
    return _state["rng"], _state.get("served")


def app(environ, start_response):
    rng, served = _worker()
    start = time.time()
    time.sleep(rng.lognormvariate(MU, SIGMA))
    end = time.time()
    if served is not None:
        served.write(f"{start:.6f} {end:.6f}\n")
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
