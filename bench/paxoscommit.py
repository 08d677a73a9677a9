"""How fast we exhaust Paxos Commit, a user's model (examples/paxoscommit.py), against
TLC's published run.

PaxosCommit.cfg (RM = {r1, r2}, three acceptors, Ballot = {0, 1}) is the example's
default; TLC's result on it, in tlaplus/Examples' manifest.json, is 1,321,761 distinct
states, 16,959,159 generated, depth 28, in "00:01:00" (hardware not stated). Prints
the parameters, the counts, seconds, states/s and peak memory; asserts nothing about
time.

    python3 bench/paxoscommit.py                     # PaxosCommit.cfg
    python3 bench/paxoscommit.py workers=2           # BFS shared by two processes
    python3 bench/paxoscommit.py rms=3 acceptors=1   # other constants
    python3 bench/paxoscommit.py time=60             # with a time limit

Figures measured for the record are in tests/examples/test_paxoscommit.py (TIMINGS).
"""

from __future__ import annotations

import sys
from pathlib import Path

import smrcheck
from smrcheck.checker.search import Bounds, Distribution, Options, peak_rss_mb

MODEL = f"{Path(__file__).resolve().parents[1] / 'examples' / 'paxoscommit.py'}:SPEC"


def main(argv: list[str]) -> None:
    ours = ("time=", "states=", "workers=")
    extra = dict(a.split("=", 1) for a in argv if a.startswith(ours))
    params = {k: int(v) for k, v in (a.split("=", 1) for a in argv if not a.startswith(ours))}
    options = Options(
        bounds=Bounds(
            time_limit=float(extra["time"]) if "time" in extra else None,
            max_states=int(extra["states"]) if "states" in extra else None,
        ),
        distribution=Distribution(workers=int(extra.get("workers", 1))),
        symmetry=False,
    )
    result = smrcheck.check(MODEL, options=options, **params)
    print("paxoscommit", " ".join(f"{k}={v}" for k, v in result.params.items()),
          f"workers={options.distribution.workers}")
    print(f"result            {result.result}" + (f" ({result.bound})" if result.bound else ""))
    print(f"distinct states   {result.distinct_states:,}")
    print(f"generated states  {result.generated_states:,}")
    print(f"depth             {result.depth}")
    print(f"seconds           {result.seconds:.1f}")
    print(f"states/s          {result.states_per_second:,.0f}")
    print(f"peak memory       {peak_rss_mb():.0f} MiB")
    if result.params == {"rms": 2, "acceptors": 3, "max_ballot": 1}:
        print("TLC (published)   1,321,761 distinct, 16,959,159 generated, depth 28, "
              "00:01:00")
    if result.violation is not None:
        print(f"violation         {result.violation.property}: {result.violation.message}")


if __name__ == "__main__":
    main(sys.argv[1:])
