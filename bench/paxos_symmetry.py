"""What symmetry buys single-decree Paxos, beside TLC's SYMMETRY run.

TLC, told that MCPaxos's acceptors and values are symmetry sets, explores 17,153
distinct states for three acceptors, two values and ballots 0..2, in about 7 s on the
development machine (issue #17). This prints, for ballots 0..2 and 0..3, with and
without our symmetry reduction (`check paxos --symmetry`): distinct and generated
states, depth, seconds, states/s, peak RSS and the parameters. Each run is a fresh
process, so that each peak RSS is its own. It asserts nothing: seconds vary by up to
2x on the shared machine; take medians of alternated runs.

    python3 bench/paxos_symmetry.py                    # the four runs, 900 s limit each
    python3 bench/paxos_symmetry.py ballots=2          # only ballots 0..2
    python3 bench/paxos_symmetry.py time=120           # another time limit per run
    python3 bench/paxos_symmetry.py one max_ballot=3 symmetry=on   # one run, this process

A run that hits the time limit is shown as incomplete, its counts as lower bounds
(without symmetry, ballots 0..3 is far beyond a few minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys

from smrcheck.checker.search import Bounds, Options, check, peak_rss_mb
from smrcheck.models.paxos.spec import SPEC


def one(max_ballot: int, symmetry: bool, time_limit: float) -> dict:
    params = SPEC.resolve_params([f"max_ballot={max_ballot}"])
    r = check(SPEC.build(params, None),
              Options(symmetry=symmetry, bounds=Bounds(time_limit=time_limit)),
              name="paxos", params=params)
    return {
        "params": " ".join(f"{k}={v}" for k, v in params.items()),
        "symmetry": "on" if r.symmetry else "off",
        "result": r.result + (f" ({r.bound})" if r.bound else ""),
        "distinct": r.distinct_states, "generated": r.generated_states, "depth": r.depth,
        "seconds": r.seconds, "states_per_s": r.states_per_second,
        "peak_mib": round(peak_rss_mb()),
    }


def main(argv: list[str]) -> None:
    opts = dict(a.split("=", 1) for a in argv if "=" in a)
    limit = float(opts.get("time", 900))
    if "one" in argv:
        print(json.dumps(one(int(opts.get("max_ballot", 2)), opts.get("symmetry") != "off",
                             limit)))
        return
    ballots = [int(opts["ballots"])] if "ballots" in opts else [2, 3]
    print(f"paxos, BFS, one process, {limit:.0f} s limit per run; TLC with SYMMETRY on "
          "acceptors and values: 17,153 distinct (ballots 0..2), about 7 s")
    print(f"{'max_ballot':>10} {'symmetry':>8} {'distinct':>10} {'generated':>11} "
          f"{'depth':>5} {'seconds':>8} {'states/s':>9} {'peak MiB':>8}  result")
    for b in ballots:
        for sym in ("on", "off"):
            out = subprocess.run([sys.executable, __file__, "one", f"max_ballot={b}",
                                  f"symmetry={sym}", f"time={limit}"],
                                 capture_output=True, text=True, check=True).stdout
            r = json.loads(out.splitlines()[-1])
            print(f"{b:>10} {r['symmetry']:>8} {r['distinct']:>10,} {r['generated']:>11,} "
                  f"{r['depth']:>5} {r['seconds']:>8.1f} {r['states_per_s']:>9,.0f} "
                  f"{r['peak_mib']:>8}  {r['result']}", flush=True)
    print("parameters:", r["params"].replace(f"max_ballot={ballots[-1]}", "max_ballot=B"))


if __name__ == "__main__":
    main(sys.argv[1:])
