"""Random simulation: seeded random walks that never prove anything.

Each walk starts at a random initial state and takes a uniformly random enabled action
at each step, up to `Bounds.max_depth` states (or `Strategy.walk_depth`). The run reports
`incomplete` unless a walk reaches a state that breaks an invariant; that walk, kept
whole, is the counterexample. Distinct states are the fingerprints the walks visited.
One generator seeded with `Strategy.seed` drives every walk, so a run is repeatable.
"""

from __future__ import annotations

import random

from .core import Bound, Context, Counterexample, Outcome, Path


def run(ctx: Context) -> Outcome:
    strategy, bounds = ctx.options.strategy, ctx.options.bounds
    model, fingerprint, counters = ctx.model, ctx.fingerprint, ctx.counters
    rng = random.Random(strategy.seed)
    inits = list(model.init_states())
    seen: set[int] = set()
    walks = depth = 0

    def outcome(bound: str | None = None, counterexample: Counterexample | None = None) -> Outcome:
        return Outcome(counters, list(ctx.goals.reached), len(seen), depth, bound, counterexample,
                       walks=walks)

    if not inits:
        return outcome()
    walk_len = bounds.max_depth or strategy.walk_depth
    for _ in range(strategy.walks):
        walks += 1
        s = rng.choice(inits)
        counters.inits += 1
        seen.add(fingerprint(s))
        steps, prop = ctx.walk(s, walk_len, seen, rng.choice)
        walk: Path = [(None, s), *steps]
        if steps:  # a walk that took no step leaves the depth as it was
            depth = max(depth, len(walk))
        if prop is not None:
            return outcome(counterexample=Counterexample(prop, walk))
        if bounds.max_states is not None and len(seen) >= bounds.max_states:
            return outcome("max-states")
        try:
            ctx.tick(len(seen), depth, 0)
        except Bound as hit:
            return outcome(hit.name)
    return outcome()
