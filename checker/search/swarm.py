"""Swarm simulation: many independent random walks with different action biases.

For spaces too big to exhaust, random walks reach deep states that breadth-first
search never gets to. A single random policy keeps sampling the same mix of actions,
so swarm testing (Groce et al., ISSTA 2012) gives every walk its own configuration:
each action name gets a weight drawn per walk (rare, normal or frequent), so some walks
almost never crash a replica or start a ballot and others do little else.

Walk k draws everything from its own generator seeded with "SEED:k", so the walks are
the same whatever the number of workers; workers take the walks k = i mod N. The
reported violation is the one of the lowest-numbered failing walk, replayed from its
actions; distinct states are the union of the fingerprints all walks visited, and the
workers' counters add up.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from dataclasses import dataclass

import numpy as np

from .core import Bound, Context, Counterexample, Counters, Outcome, Path

WEIGHTS = (0.1, 1.0, 10.0)


@dataclass(slots=True)
class _Failure:
    walk: int  # k, the walk's number
    prop: str
    actions: list[tuple]
    init: int  # index of the initial state the walk started from


@dataclass(slots=True)
class _Share:
    """One worker's walks: what it counted and saw."""

    counters: Counters
    reached: list[str]
    walks: int
    depth: int
    failure: _Failure | None
    bound: str | None  # the bound that stopped its walks early, if one did
    fps: np.ndarray  # every fingerprint visited


def run(ctx: Context) -> Outcome:
    """All walks, on `Distribution.workers` forked processes."""
    limit = ctx.options.bounds.time_limit
    deadline = None if limit is None else ctx.start + limit
    workers = ctx.options.distribution.workers
    if workers == 1:
        shares = [_walks(ctx, 0, 1, deadline)]
    else:
        shares = _forked(ctx, workers, deadline)
    parts = [s.counters for s in shares]
    ctx.counters = Counters.total(parts)
    for share in shares:
        ctx.goals.mark(share.reached)
    outcome = Outcome(ctx.counters, list(ctx.goals.reached),
                      distinct=len(np.unique(np.concatenate([s.fps for s in shares]))),
                      depth=max(s.depth for s in shares), walks=sum(s.walks for s in shares),
                      parts=parts)
    failures = [s.failure for s in shares if s.failure is not None]
    if not failures:
        outcome.bound = next((s.bound for s in shares if s.bound is not None), None)
        return outcome
    first = min(failures, key=lambda f: f.walk)
    state = list(ctx.model.init_states())[first.init]
    path: Path = [(None, state)]
    for a in first.actions:
        state = ctx.model.next_state(state, a)
        path.append((a, state))
    prop = next(p for p in ctx.invariants if p.id == first.prop)
    outcome.counterexample = Counterexample(prop, path)
    return outcome


def _walks(ctx: Context, index: int, n: int, deadline: float | None) -> _Share:
    """Walks k = index mod n, until one breaks an invariant or the deadline passes."""
    model, fingerprint, counters = ctx.model, ctx.fingerprint, ctx.counters
    strategy = ctx.options.strategy
    inits = list(model.init_states())
    length = ctx.options.bounds.max_depth or strategy.walk_depth
    seen: set[int] = set()
    failure = None
    walks = deepest = 0
    bound = None
    for k in range(index, strategy.walks, n):
        if deadline is not None and time.monotonic() > deadline:
            bound = "time-limit"
            break
        rng = random.Random(f"{strategy.seed}:{k}")
        weights: dict[str, float] = {}
        first = rng.randrange(len(inits))
        s = inits[first]
        seen.add(fingerprint(s))
        walks += 1
        counters.inits += 1

        def pick(enabled: list[tuple]) -> tuple:
            # Each action name gets its weight at its first sighting in this walk, drawn
            # before the choice, so a walk is a function of its seed alone.
            w = [weights.setdefault(a[0], rng.choice(WEIGHTS)) for a in enabled]
            return rng.choices(enabled, weights=w)[0]

        steps, prop = ctx.walk(s, length, seen, pick)
        path = [a for a, _ in steps]
        deepest = max(deepest, len(path) + 1)
        if prop is not None:
            failure = _Failure(k, prop.id, path, first)
            break
        if n == 1:
            # In this process: progress lines and Ctrl-C as in the other strategies.
            # (Forked workers each hold a share; their counts meet only at the end.)
            try:
                ctx.tick(len(seen), deepest, 0)
            except Bound as hit:
                bound = hit.name
                break
    return _Share(counters, list(ctx.goals.reached), walks, deepest, failure, bound,
                  np.fromiter(seen, dtype=np.int64, count=len(seen)))


def _forked(ctx: Context, workers: int, deadline: float | None) -> list[_Share]:
    """Each worker's walks in a forked process, which inherits the model."""
    mp_ctx = mp.get_context("fork")
    pipes, procs = [], []
    for i in range(workers):
        parent, child = mp_ctx.Pipe()
        proc = mp_ctx.Process(target=_child, args=(ctx, i, workers, deadline, child), daemon=True)
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    shares = [p.recv() for p in pipes]
    for proc in procs:
        proc.join(timeout=5)
    for share in shares:
        if isinstance(share, str):
            raise RuntimeError(f"swarm worker failed: {share}")
    return shares


def _child(ctx: Context, index: int, n: int, deadline: float | None, conn) -> None:
    try:
        conn.send(_walks(ctx, index, n, deadline))
    except BaseException as err:  # report, don't hang the coordinator
        conn.send(f"{type(err).__name__}: {err}")
