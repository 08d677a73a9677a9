"""How big PBFT with a view change is, and how fast we exhaust it.

The configuration of issue 4: n = 4 replicas, f = 1, one Byzantine replica (the
primary of view 0, which may equivocate and lie), 2 client requests, views 0..1 (one
view change) and the default sequence-number bound. Prints the parameters, the
distinct and generated states, the depth, seconds, states/s and peak memory; asserts
nothing about time.

    python3 bench/pbft_size.py                      # the default bounds
    python3 bench/pbft_size.py max_seq=2 time=300   # push a bound, with a time limit
"""

from __future__ import annotations

import sys

from smrcheck.checker.explore import Options, check, peak_rss_mb
from smrcheck.models.pbft.spec import SPEC


def main(argv: list[str]) -> None:
    assignments = [a for a in argv if not a.startswith(("time=", "states="))]
    extra = dict(a.split("=", 1) for a in argv if a.startswith(("time=", "states=")))
    params = SPEC.resolve_params(assignments)
    options = Options(
        time_limit=float(extra["time"]) if "time" in extra else None,
        max_states=int(extra["states"]) if "states" in extra else None,
    )
    result = check(SPEC.build(params, None), options, name="pbft", params=params)
    print("pbft", " ".join(f"{k}={v}" for k, v in params.items()))
    print(f"result            {result.result}" + (f" ({result.bound})" if result.bound else ""))
    print(f"distinct states   {result.distinct_states:,}")
    print(f"generated states  {result.generated_states:,}")
    print(f"depth             {result.depth}")
    print(f"seconds           {result.seconds:.1f}")
    print(f"states/s          {result.states_per_second:,.0f}")
    print(f"peak memory       {peak_rss_mb():.0f} MiB")
    print(f"goals reached     {', '.join(result.reached) or '-'}")
    if result.violation is not None:
        print(f"violation         {result.violation.property}: {result.violation.message}")


if __name__ == "__main__":
    main(sys.argv[1:])
