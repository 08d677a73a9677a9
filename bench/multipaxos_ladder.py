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

Recorded 2026-11-30 on the shared 2-core development machine (other jobs running, so
times vary by up to 2x), `--time-limit 30`, skipped rungs left out:

    slots rounds cmds crash  result      distinct  generated depth  seconds  states/s peak MiB
        1      1    1     0  ok                20         34     9     0.00     12638     51.5
        1      1    1     1  ok                88        153    10     0.00     21993     51.7
        1      1    2     0  ok                20         36     9     0.00     10744     51.7
        1      2    1     0  ok              1492       2909    16     0.08     19031     53.0
        2      1    1     0  ok                20         34     9     0.00     12697     51.7
        1      1    2     1  ok                88        158    10     0.00     19829     51.6
        1      1    3     0  ok                20         38     9     0.00      9020     51.6
        1      2    1     1  ok              7371      14156    17     0.33     22342     57.2
        1      2    2     0  ok              1784       3545    16     0.09     20377     53.4
        1      3    1     0  ok            126494     265010    23     7.08     17859    147.5
        2      1    1     1  ok                88        153    10     0.00     20416     51.7
        2      1    2     0  ok               124        362    13     0.01     12749     51.7
        2      2    1     0  ok              6988      20519    20     0.48     14699     61.2
        3      1    1     0  ok                20         34     9     0.00     11443     51.6
        1      1    3     1  ok                88        163    10     0.01     13054     51.7
        1      2    2     1  ok              8965      17214    17     0.44     20278     58.7
        1      2    3     0  ok              1784       3707    16     0.13     14116     53.4
        1      3    1     1  incomplete    525564    1080183    18    30.22     17390    411.8
        1      3    2     0  ok            175539     372555    23    14.39     12197    184.0
        2      1    2     1  ok               710       1716    14     0.04     18807     52.2
        2      1    3     0  ok               124        378    13     0.01     10877     51.8
        2      2    1     1  ok             42209     104402    21     2.48     17026     82.5
        2      2    2     0  ok            111513     362616    23    12.97      8596    147.1
        2      3    1     0  incomplete    380246     888027    16    30.66     12404    513.6
        3      1    1     1  ok                88        153    10     0.01     10949     51.7
        3      1    2     0  ok               124        362    13     0.01      9010     51.9
        3      2    1     0  ok              6988      20519    20     0.70      9921     61.1
        1      2    3     1  ok              8965      17748    17     0.82     10877     58.9
        1      3    3     0  ok            179939     395104    23    20.48      8787    187.1
        2      1    3     1  ok               710       1771    14     0.08      8772     52.4
        2      2    2     1  incomplete    344897     839911    16    30.43     11334    356.7
        2      2    3     0  ok            149505     501069    23    24.09      6205    181.1
        3      1    2     1  ok               710       1716    14     0.07     10575     52.2
        3      1    3     0  ok               924       4082    17     0.16      5909     53.2
        3      2    1     1  ok             42209     104402    21     3.75     11254     82.6
        3      2    2     0  incomplete    262542     837579    16    30.38      8641    387.4
        3      1    3     1  ok              5890      19723    18     0.88      6689     58.6

The 2-slot / 2-round / 2-command / 1-crash rung exhausts given more time, and the
default configuration (2 slots, 2 rounds, 2 commands, no crash) is the 111513-state
rung; after the canonical-form speed-ups, with the machine less loaded:

    smrcheck check multipaxos              ok  111513 distinct, 362616 generated,
                                           depth 23, 9.7 s, 11451 states/s, 150 MiB
    smrcheck check multipaxos -p crashes=1 ok  660576 distinct, 1781320 generated,
                                           depth 24, 46.7 s, 14149 states/s, 534 MiB
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys

RUN_ONE = """
import json, sys
from smrcheck.checker.search import Bounds, Options, check, peak_rss_mb
from smrcheck.models.multipaxos.spec import MultiPaxosModel
slots, rounds, commands, crashes, limit, symmetry = json.loads(sys.argv[1])
r = check(MultiPaxosModel(3, slots, rounds, commands, crashes),
          Options(bounds=Bounds(time_limit=limit), symmetry=symmetry))
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
