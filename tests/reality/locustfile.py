"""The clients: Locust users as surge's `users` source with `[client]` timeout and refresh.

Each user loops think -> page. The think time is exponential of mean REALITY_THINK seconds (a
`wait_time` drawing `expovariate`); a new user starts in the middle of a think (it sleeps an
exponential draw in `on_start`: by memorylessness that is the rest of a think), so that spawning
many users at once is not itself a surge. A page is one GET of / with a client timeout of
REALITY_TIMEOUT seconds (Locust's FastHttpUser: connect and read timeouts). On an error or a
timeout the user asks for the page again after an exponential delay of mean REALITY_REFRESH
seconds, at most REALITY_GIVE_UP attempts in a row; after that many errors it gives up on the page
and goes back to thinking (surge: the user leaves and a new one takes its place, who starts with
a think). Every loop is bounded: by those attempts, and by Locust's --run-time.

The number of users follows REALITY_STAGES, a JSON list of [until_s, users] (a LoadTestShape):
users jump to each stage's count at once (a spawn rate of 10,000 a second). When the count falls,
Locust stops the users it removes at once (a request in flight is abandoned).
"""

import json
import os
import random
import time

import gevent
from locust import FastHttpUser, LoadTestShape, events, task

THINK = float(os.environ.get("REALITY_THINK", "10"))
TIMEOUT = float(os.environ.get("REALITY_TIMEOUT", "2"))
REFRESH = float(os.environ.get("REALITY_REFRESH", "3"))
GIVE_UP = int(os.environ.get("REALITY_GIVE_UP", "10"))
SEED = int(os.environ.get("REALITY_SEED", "23"))
STAGES = json.loads(os.environ.get("REALITY_STAGES", "[[60, 10]]"))
T0_FILE = os.environ.get("REALITY_T0_FILE", "")

_users = [0]


@events.test_start.add_listener
def _test_start(environment, **_kwargs):
    if T0_FILE:
        with open(T0_FILE, "w") as f:
            f.write(f"{time.time():.6f}\n")


class Visitor(FastHttpUser):
    network_timeout = TIMEOUT
    connection_timeout = TIMEOUT
    max_retries = 0

    def wait_time(self):
        return self.rng.expovariate(1.0 / THINK)

    def on_start(self):
        _users[0] += 1
        self.rng = random.Random(SEED * 1_000_003 + _users[0])
        gevent.sleep(self.rng.expovariate(1.0 / THINK))

    @task
    def page(self):
        for _attempt in range(GIVE_UP):
            with self.client.get("/", name="/", catch_response=True) as response:
                ok = response.status_code == 200
                if ok:
                    response.success()
                else:
                    response.failure(f"status {response.status_code}")
            if ok:
                return
            gevent.sleep(self.rng.expovariate(1.0 / REFRESH))


class Stages(LoadTestShape):
    def tick(self):
        t = self.get_run_time()
        for until, users in STAGES:
            if t < until:
                return (int(users), 10_000)
        return None
