"""Depth-first search: deep bugs with a small frontier, but not shortest paths.

The stack holds whole states with their depth; the visited set is a dict of
fingerprint -> parent fingerprint (`DictStore`), since states arrive one at a time and
a batched store would not fit. A state's successors are pushed in reverse, so the first
enabled action is explored first. A state at the depth bound is not expanded; if any of
its successors is new the run is cut there and reports `max-depth`.
"""

from __future__ import annotations

from ..store import DictStore, path_to
from .core import Bound, Context, Outcome


def run(ctx: Context) -> Outcome:
    search = _DepthFirst(ctx)
    bound, counterexample = ctx.settle(search.search, lambda fp: path_to(search.store.parent, fp))
    return Outcome(ctx.counters, list(ctx.goals.reached), len(search.store), search.depth,
                   bound, counterexample)


class _DepthFirst:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = DictStore()
        self.depth = 0

    def search(self) -> None:
        ctx = self.ctx
        self.depth = 1  # where a root that breaks an invariant or fills the store stops it
        roots = ctx.roots(self.store)
        self.depth = 1 if roots else 0
        stack = [(fp, s, 1) for fp, s in reversed(roots)]
        actions, step, fingerprint = ctx.model.actions, ctx.model.next_state, ctx.fingerprint
        parents = self.store.parents
        gen, new = ctx.counters.generated, ctx.counters.new
        bounds = ctx.options.bounds
        max_states = bounds.max_states if bounds.max_states is not None else -1
        max_depth = bounds.max_depth
        cut = False
        expanded = 0
        while stack:
            sfp, s, d = stack.pop()
            if max_depth is not None and d >= max_depth:
                cut = cut or any(fingerprint(step(s, a)) not in parents for a in actions(s))
                continue
            children = []
            for a in actions(s):
                t = step(s, a)
                fp = fingerprint(t)
                name = a[0]
                gen[name] = gen.get(name, 0) + 1
                if fp in parents:
                    continue
                parents[fp] = sfp
                new[name] = new.get(name, 0) + 1
                if d + 1 > self.depth:
                    self.depth = d + 1
                ctx.check_new(fp, t)
                children.append((fp, t, d + 1))
                if len(parents) == max_states:
                    raise Bound("max-states")
            stack.extend(reversed(children))
            expanded += 1
            if not expanded & 255:
                ctx.tick(len(parents), self.depth, len(stack))
        if cut:
            raise Bound("max-depth")
