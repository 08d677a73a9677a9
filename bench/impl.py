"""Committed requests per second and p50/p99 latency of the real replicas on loopback.

    python3 bench/impl.py [--requests R] [--quick]

Runs `smrcheck run`'s engine (each replica its own OS process on 127.0.0.1, clients
in this process, every event traced and flushed, acceptor state fsynced) for
3-replica MultiPaxos and 4-replica PBFT, without and with faults, then validates
each run's traces. Prints figures; asserts nothing about time (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from smrcheck.checker.validate import validate
from smrcheck.impl.launch import RunConfig, run_cluster
from smrcheck.impl.runtime.faults import FaultSpec
from smrcheck.models.registry import monitor_for
from smrcheck.traces.reader import Merger, open_run

FAULTS = "drop=0.01,dup=0.01,delay=0.002,crash=1"

CASES = [
    # (label, protocol, n, clients, window, faults, share of --requests)
    ("multipaxos n=3", "multipaxos", 3, 8, 32, "", 1.0),
    ("multipaxos n=3 faults", "multipaxos", 3, 8, 32, FAULTS, 1.0),
    ("pbft n=4", "pbft", 4, 4, 8, "", 0.25),
    ("pbft n=4 faults", "pbft", 4, 4, 8, FAULTS, 0.25),
]


def check(path: str) -> str:
    run = open_run([path])
    try:
        return validate(Merger(run), monitor_for(run.header), protocol=run.header.protocol,
                        files=run.files).result
    finally:
        run.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=8000)
    ap.add_argument("--quick", action="store_true", help="a tenth of the requests")
    args = ap.parse_args()
    total = args.requests // 10 if args.quick else args.requests
    print(f"{'case':<24}{'requests':>9}{'committed':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"  validate  faults")
    for label, protocol, n, clients, window, faults, share in CASES:
        requests = max(50, int(total * share))
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "t")
            r = run_cluster(RunConfig(protocol, n=n, requests=requests, clients=clients,
                                      window=window, faults=FaultSpec.parse(faults), seed=1,
                                      trace_dir=d, time_limit=120))
            verdict = check(d)
        print(f"{label:<24}{requests:>9}{r.committed:>10}{r.throughput:>9,.0f}{r.p50_ms:>9.1f}"
              f"{r.p99_ms:>9.1f}  {verdict:<8}  {faults or '-'}")
        sys.stdout.flush()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs, {time.strftime('%H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
