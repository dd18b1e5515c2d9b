"""gunicorn settings the harness cannot give on the command line: each worker learns its number
(1 .. workers, stable across a run) so that app.py seeds its generator with it."""

import os


def post_fork(server, worker):
    os.environ["REALITY_WORKER"] = str(worker.age)
