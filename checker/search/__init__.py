"""The search engine: explicit-state exploration of any `Model`.

`check(model, Options(...))` runs one strategy and returns a `CheckResult`. Each
strategy is a module with `run(ctx) -> Outcome`:

- `bfs`: breadth-first in one process; shortest counterexamples, checkpoints.
- `parallel`: the same BFS on workers that partition the visited set (`worker`), as
  forked processes or Ray actors (`ray`); the same counts as one process.
- `dfs`: depth-first; small frontier, no shortest paths.
- `simulate`: seeded random walks; never a proof.
- `swarm`: random walks with per-walk action biases, on several processes.

They share `core` (the search context, `Counters` that merge, `Bound` and `Found`,
replay of counterexamples) and BFS and the parallel workers share one expansion loop
(`expand`). `options` splits what a run is asked to do by concern; `reference` holds
the slow exact references that tests hold the counts against.
"""

from .core import (Bound, Context, Counterexample, Counters, Found, Interrupt, Outcome,
                   Progress)
from .driver import check, peak_rss_mb, steps_of
from .options import (BACKENDS, STRATEGIES, Bounds, Checkpointing, Distribution, Options,
                      Storage, Strategy)
from .reference import reachable_states, replays

__all__ = [
    "BACKENDS", "STRATEGIES", "Bound", "Bounds", "Checkpointing", "Context", "Counterexample",
    "Counters", "Distribution", "Found", "Interrupt", "Options", "Outcome", "Progress", "Storage",
    "Strategy", "check", "peak_rss_mb", "reachable_states", "replays", "steps_of",
]
