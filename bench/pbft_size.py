"""How big PBFT with a view change is, and how fast we exhaust it.

The configuration of issue 4: n = 4 replicas, f = 1, one Byzantine replica (the
primary of view 0, which may equivocate and lie), 2 client requests, views 0..1 (one
view change) and the default sequence-number bound. Prints the parameters, the
distinct and generated states, the depth, seconds, states/s and peak memory; asserts
nothing about time.

    python3 bench/pbft_size.py                      # the default bounds
    python3 bench/pbft_size.py max_view=2           # push a bound
    python3 bench/pbft_size.py max_seq=2 time=300   # ... with a time limit
    python3 bench/pbft_size.py symmetry=off         # without symmetry reduction

Measured on the shared 2-core development machine, other jobs running (load 4-5, so
seconds vary by up to 2x between runs), CPython 3.11, one core, BFS, symmetry over
the requests and the interchangeable correct backups unless said, 2026-11-30:

    parameters (others default)      distinct   generated  depth  seconds  states/s  peak
    (defaults: n=4 f=1 byz=primary     11,088      29,572     21      1.3     8,629   35 MiB
     requests=2 max_view=1 max_seq=1)
    symmetry=off                       40,769     108,051     21      2.1    19,813   43 MiB
    requests=3                         11,967      32,305     21      4.0     3,029   36 MiB
    replicas=5                         38,259     123,661     27      8.6     4,471   42 MiB
    max_view=2 requests=1             468,301   1,454,599     31     20.9    22,430  207 MiB
    max_view=2 (two view changes)     892,858   2,677,075     31    125.0     7,142  349 MiB
    max_seq=2 byzantine=backups    > 1,299,722  > 5,426,570  > 26   170 (time limit, incomplete;
                                                                     requests-only symmetry)
"""

from __future__ import annotations

import sys

from smrcheck.checker.search import Bounds, Options, check, peak_rss_mb
from smrcheck.models.pbft.spec import SPEC


def main(argv: list[str]) -> None:
    ours = ("time=", "states=", "symmetry=")
    assignments = [a for a in argv if not a.startswith(ours)]
    extra = dict(a.split("=", 1) for a in argv if a.startswith(ours))
    params = SPEC.resolve_params(assignments)
    options = Options(
        bounds=Bounds(
            time_limit=float(extra["time"]) if "time" in extra else None,
            max_states=int(extra["states"]) if "states" in extra else None,
        ),
        symmetry=extra.get("symmetry", "on") != "off",
    )
    result = check(SPEC.build(params, None), options, name="pbft", params=params)
    print("pbft", " ".join(f"{k}={v}" for k, v in params.items()),
          "symmetry=" + ("on" if result.symmetry else "off"))
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
