"""The yardstick for the explorer's overhead: a plain hand-written BFS.

It calls the same model functions over the same state representation and checks the
same properties on each new state, but keeps whole states in a Python set and does
nothing else: no fingerprints, parent pointers, coverage, bounds or progress. The
explorer must reach at least 70% of its distinct states per second (issue 2). Like the
explorer it runs with the cyclic garbage collector off (states are acyclic), so the
comparison measures the explorer's bookkeeping and nothing else.
"""

from __future__ import annotations

import gc
import time


def plain_bfs(model) -> tuple[int, int, float]:
    """(distinct states, depth, seconds) of an exhaustive BFS of `model`."""
    gc.disable()
    start = time.monotonic()
    invariants = [p.holds for p in model.properties() if p.kind == "always"]
    goals = [p.holds for p in model.properties() if p.kind == "sometimes"]
    level = list(dict.fromkeys(model.init_states()))
    seen = set(level)
    depth = 1 if level else 0
    while level:
        nxt = []
        for s in level:
            for a in model.actions(s):
                t = model.next_state(s, a)
                if t in seen:
                    continue
                seen.add(t)
                for holds in invariants:
                    if not holds(t):
                        raise AssertionError("baseline found a violation")
                if goals:
                    goals = [g for g in goals if not g(t)]
                nxt.append(t)
        level = nxt
        if level:
            depth += 1
    seconds = time.monotonic() - start
    gc.enable()
    return len(seen), depth, seconds
