"""The M/M/c/K reference of `surge bench` in SimPy 4.1.2: l = 900/s, m = 10/s per server,
c = 100 servers, K = 1,000 in the system (900 waiting places). Prints one JSON line."""
import json
import random
import sys
import time

import simpy

LAM, MU, C, K = 900.0, 10.0, 100, 1000


def main(arrivals: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=C)
    counts = {"arrivals": 0, "rejected": 0, "served": 0}

    def request(env):
        with servers.request() as req:
            yield req
            yield env.timeout(rng.expovariate(MU))
        counts["served"] += 1

    def source(env):
        while True:
            yield env.timeout(rng.expovariate(LAM))
            counts["arrivals"] += 1
            if servers.count + len(servers.queue) >= K:
                counts["rejected"] += 1
            else:
                env.process(request(env))

    env.process(source(env))
    horizon = arrivals / LAM
    t0, c0 = time.perf_counter(), time.process_time()
    env.run(until=horizon)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print(json.dumps({"peer": "simpy " + simpy.__version__, "wall_s": wall, "cpu_s": cpu,
                      "arrivals": counts["arrivals"], "arrivals_per_s": counts["arrivals"] / wall,
                      "blocking": counts["rejected"] / max(1, counts["arrivals"])}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
