"""The M/M/c/K reference of `surge bench` in Ciw 3.2.7: l = 900/s, m = 10/s per server,
c = 100 servers, K = 1,000 in the system (queue capacity 900). Prints one JSON line."""
import json
import sys
import time

import ciw

LAM, MU, C, K = 900.0, 10.0, 100, 1000


def main(arrivals: int, seed: int = 1) -> None:
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
        service_distributions=[ciw.dists.Exponential(rate=MU)],
        number_of_servers=[C],
        queue_capacities=[K - C],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    horizon = arrivals / LAM
    t0, c0 = time.perf_counter(), time.process_time()
    sim.simulate_until_max_time(horizon)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    records = sim.get_all_records()
    ended = len(records)
    in_system = sum(len(n.all_individuals) for n in sim.transitive_nodes)
    arrived = ended + in_system
    rejected = sum(1 for r in records if getattr(r, "record_type", "service") == "rejection")
    print(json.dumps({"peer": "ciw " + ciw.__version__, "wall_s": wall, "cpu_s": cpu, "arrivals": arrived,
                      "arrivals_per_s": arrived / wall, "blocking": rejected / max(1, arrived)}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
