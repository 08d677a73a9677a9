"""Bytes per distinct state of the visited set, measured at 10^7 states.

Inserts N random 64-bit fingerprints (with 30% duplicates, as BFS produces) in batches
of 4096, as the explorer does, and prints the store's own bytes per state, the process's
RSS growth per state, and the insertion rate. It asserts nothing.

    python bench/store.py            # N = 10,000,000
    python bench/store.py -n 1000000
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from smrcheck.checker.store import FingerprintStore


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=4096)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    store = FingerprintStore()
    before = rss_mb()
    start = time.monotonic()
    recent = rng.integers(-(2**63), 2**63 - 1, size=args.batch, dtype=np.int64)
    while len(store) < args.n:
        fresh = rng.integers(-(2**63), 2**63 - 1, size=args.batch, dtype=np.int64)
        dup = int(args.batch * 0.3)
        fresh[:dup] = recent[:dup]
        store.add_batch(fresh, fresh, limit=args.n - len(store))
        recent = fresh
    seconds = time.monotonic() - start
    n = len(store)
    print(f"states {n:,}  batch {args.batch}  seconds {seconds:.1f}  "
          f"inserts/s {n / seconds:,.0f}")
    print(f"store bytes/state {store.nbytes / n:.1f}  "
          f"peak RSS {rss_mb():.0f} MB  RSS growth/state {(rss_mb() - before) * 2**20 / n:.1f} B  "
          f"(runs: {len(store._fps)})")


if __name__ == "__main__":
    main()
