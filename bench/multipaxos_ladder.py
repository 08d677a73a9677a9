"""State counts and times of the multipaxos model over a ladder of configurations.

Three replicas; slots 1-3, max_round 1-3, commands 1-3, crashes 0-1 (crash-stop), from
the smallest rung up. Each rung runs in its own process, so its peak memory is its
own (ru_maxrss of that process), under a time limit, so the ladder ends: a rung that
hits the limit is reported `incomplete`, and every rung at least as large in every
parameter is skipped, since it cannot finish either. The figures are printed, never
asserted: times depend on the machine.

    python3 bench/multipaxos_ladder.py [--time-limit S] [--max-rungs N] [--no-symmetry]

Columns: parameters, result (ok | violation | incomplete | skipped), distinct states,
generated states, depth, seconds, distinct states per second, peak RSS in MiB.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys

RUN_ONE = """
import json, sys
from smrcheck.checker.explore import Options, check, peak_rss_mb
from smrcheck.models.multipaxos.spec import MultiPaxosModel
slots, rounds, commands, crashes, limit, symmetry = json.loads(sys.argv[1])
r = check(MultiPaxosModel(3, slots, rounds, commands, crashes),
          Options(time_limit=limit, symmetry=symmetry))
print(json.dumps({
    "result": r.result, "distinct": r.distinct_states, "generated": r.generated_states,
    "depth": r.depth, "seconds": r.seconds, "per_second": r.states_per_second,
    "peak_mb": round(peak_rss_mb(), 1),
    "violation": None if r.violation is None else r.violation.property,
}))
"""


def rungs() -> list[tuple[int, int, int, int]]:
    """(slots, max_round, commands, crashes), smallest first."""
    all_rungs = itertools.product(range(1, 4), range(1, 4), range(1, 4), range(0, 2))
    return sorted(all_rungs, key=lambda r: (sum(r), r))


def dominated(rung, failed) -> bool:
    return any(all(x >= y for x, y in zip(rung, f)) for f in failed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per rung")
    ap.add_argument("--max-rungs", type=int, default=None, help="stop after N rungs")
    ap.add_argument("--no-symmetry", action="store_true")
    args = ap.parse_args()
    header = (f"{'slots':>5} {'rounds':>6} {'cmds':>4} {'crash':>5}  {'result':<10} "
              f"{'distinct':>9} {'generated':>10} {'depth':>5} {'seconds':>8} "
              f"{'states/s':>9} {'peak MiB':>8}")
    print("multipaxos, 3 replicas, network=sent-set, recovery=none, "
          f"symmetry={'off' if args.no_symmetry else 'on'}, "
          f"time limit {args.time_limit:g} s per rung")
    print(header)
    failed: list[tuple[int, ...]] = []
    for i, rung in enumerate(rungs()):
        if args.max_rungs is not None and i >= args.max_rungs:
            break
        slots, rounds, commands, crashes = rung
        prefix = f"{slots:>5} {rounds:>6} {commands:>4} {crashes:>5}  "
        if dominated(rung, failed):
            print(prefix + "skipped (a smaller rung did not finish)", flush=True)
            continue
        payload = json.dumps([*rung, args.time_limit, not args.no_symmetry])
        proc = subprocess.run(
            [sys.executable, "-c", RUN_ONE, payload], capture_output=True, text=True,
            timeout=args.time_limit * 3 + 60,
        )
        if proc.returncode != 0:
            print(prefix + "error: " + proc.stderr.strip().splitlines()[-1], flush=True)
            failed.append(rung)
            continue
        r = json.loads(proc.stdout)
        result = r["result"] if r["violation"] is None else f"violation {r['violation']}"
        if r["result"] == "incomplete":
            failed.append(rung)
        print(prefix + f"{result:<10} {r['distinct']:>9} {r['generated']:>10} "
              f"{r['depth']:>5} {r['seconds']:>8.2f} {r['per_second']:>9.0f} "
              f"{r['peak_mb']:>8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
