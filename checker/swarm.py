"""Swarm simulation: many independent random walks with different action biases.

For spaces too big to exhaust, random walks reach deep states that breadth-first
search never gets to. A single random policy keeps sampling the same mix of actions,
so swarm testing (Groce et al., ISSTA 2012) gives every walk its own configuration:
each action name gets a weight drawn per walk (rare, normal or frequent), so some walks
almost never crash a replica or start a ballot and others do little else.

Walk k draws everything from its own generator seeded with "SEED:k", so the walks are
the same whatever the number of workers; workers take the walks k = i mod N. The
reported violation is the one of the lowest-numbered failing walk, replayed from its
actions; distinct states are the union of the fingerprints all walks visited.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from collections.abc import Hashable
from typing import Any

import numpy as np

WEIGHTS = (0.1, 1.0, 10.0)


def _walks(ex, index: int, n: int, deadline: float | None) -> dict[str, Any]:
    model, opts = ex.model, ex.opts
    inits = list(model.init_states())
    length = opts.max_depth or opts.walk_depth
    seen: set[int] = set()
    failure: tuple[int, str, list[tuple]] | None = None
    walks = 0
    generated = 0
    deepest = 0
    timed_out = False
    for k in range(index, opts.walks, n):
        if deadline is not None and time.monotonic() > deadline:
            timed_out = True
            break
        rng = random.Random(f"{opts.seed}:{k}")
        weights: dict[str, float] = {}
        first = rng.randrange(len(inits))
        s = inits[first]
        path: list[tuple] = []
        seen.add(ex.fp(s))
        walks += 1
        generated += 1
        prop = ex._violated(s)
        for _ in range(length - 1):
            if prop is not None:
                break
            enabled = list(model.actions(s))
            if not enabled:
                break
            w = [weights.setdefault(a[0], rng.choice(WEIGHTS)) for a in enabled]
            a = rng.choices(enabled, weights=w)[0]
            t = model.next_state(s, a)
            generated += 1
            ex.gen_by_action[a[0]] = ex.gen_by_action.get(a[0], 0) + 1
            fp = ex.fp(t)
            if fp not in seen:
                seen.add(fp)
                ex.new_by_action[a[0]] = ex.new_by_action.get(a[0], 0) + 1
            path.append(a)
            s = t
            prop = ex._violated(s)
        deepest = max(deepest, len(path) + 1)
        if prop is not None:
            failure = (k, prop.id, path, first)
            break
    return {"walks": walks, "generated": generated, "depth": deepest, "failure": failure,
            "timed_out": timed_out,
            "fps": np.fromiter(seen, dtype=np.int64, count=len(seen)),
            "gen": dict(ex.gen_by_action), "new": dict(ex.new_by_action),
            "reached": list(ex.reached)}


def _child(ex, index: int, n: int, deadline: float | None, conn) -> None:
    try:
        conn.send(_walks(ex, index, n, deadline))
    except BaseException as err:  # report, don't hang the coordinator
        conn.send({"error": f"{type(err).__name__}: {err}"})


def run(ex, workers: int) -> list[tuple[tuple | None, Hashable]] | None:
    """All walks; fills ex's counters; returns the failing walk's path, if any."""
    deadline = None if ex.opts.time_limit is None else ex.start + ex.opts.time_limit
    if workers == 1:
        results = [_walks(ex, 0, 1, deadline)]
    else:
        ctx = mp.get_context("fork")
        pipes, procs = [], []
        for i in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(ex, i, workers, deadline, child), daemon=True)
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        results = [p.recv() for p in pipes]
        for proc in procs:
            proc.join(timeout=5)
        for r in results:
            if "error" in r:
                raise RuntimeError(f"swarm worker failed: {r['error']}")
    ex.gen_by_action.clear()
    ex.new_by_action.clear()
    for r in results:
        for key, target in (("gen", ex.gen_by_action), ("new", ex.new_by_action)):
            for name, count in r[key].items():
                target[name] = target.get(name, 0) + count
        for pid in r["reached"]:
            if pid not in ex.reached:
                ex.reached.append(pid)
    ex.goals = [g for g in ex.goals if g.id not in ex.reached]
    ex.walks = sum(r["walks"] for r in results)
    ex.generated = sum(r["generated"] for r in results)
    ex.depth = max(r["depth"] for r in results)
    ex.distinct = len(np.unique(np.concatenate([r["fps"] for r in results])))
    failures = [r["failure"] for r in results if r["failure"] is not None]
    if not failures:
        if any(r["timed_out"] for r in results):
            from .explore import _Bound

            raise _Bound("time-limit")
        return None
    _k, _pid, actions, init_index = min(failures, key=lambda f: f[0])
    state = list(ex.model.init_states())[init_index]
    path: list[tuple[tuple | None, Hashable]] = [(None, state)]
    for a in actions:
        state = ex.model.next_state(state, a)
        path.append((a, state))
    return path
