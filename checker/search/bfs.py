"""Breadth-first search in one process: shortest counterexamples.

BFS goes level by level, so the first state found to break an invariant is at the
least depth, and the path to it is a shortest counterexample. The visited set keeps one
fingerprint and one parent fingerprint per state (`checker.store`); the frontier keeps
whole states for one level only, spilling to disk past `Storage.spill_at`. A
counterexample is rebuilt by replaying the model along the fingerprint chain
(`Context.replay`).

A level is expanded in batches (`expand.Levels`): a batch ends once `Storage.chunk`
states were expanded or `chunk` candidates held, and the store then keeps the new ones,
which are checked and queued. Depth counts the levels holding a state, so it is counted
when the first state of a level is, also if a violation or a bound stops the run there.

With `Checkpointing.save_to` the search saves itself at level starts (where its whole
state is the visited set, the level's frontier and the counters); `resume_from` carries
on from such a level (`checker.search.checkpoint`).
"""

from __future__ import annotations

import time
from collections.abc import Hashable

from ..store import FingerprintStore, Frontier, path_to
from . import checkpoint
from .core import Bound, Context, Found, Outcome
from .expand import Candidate, Levels, candidate_arrays


def run(ctx: Context) -> Outcome:
    search = _BreadthFirst(ctx)
    try:
        bound, counterexample = ctx.settle(search.search,
                                           lambda fp: path_to(search.store.parent, fp))
    finally:
        search.store.close()
    return Outcome(ctx.counters, list(ctx.goals.reached), len(search.store), search.depth,
                   bound, counterexample)


class _BreadthFirst:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.storage = ctx.options.storage
        self.store = FingerprintStore(spill_dir=self.storage.spill_dir)
        self.levels = Levels(ctx.model, ctx.fingerprint, ctx.counters)
        self.depth = 0
        self.level_depth = 0  # the depth of the level being expanded

    def _frontier(self) -> Frontier:
        return Frontier(self.storage.spill_at, self.storage.spill_dir)

    def search(self) -> None:
        ctx, storage = self.ctx, self.storage
        saving = ctx.options.checkpointing
        max_depth = ctx.options.bounds.max_depth
        level = self._frontier()
        if saving.resume_from is not None:
            level.extend(self._resume(saving.resume_from))
        else:
            self.depth = 1  # where a root that breaks an invariant or fills the store stops it
            roots = ctx.roots(self.store)
            self.depth = 1 if roots else 0
            level.extend(roots)
        levels = self.levels
        levels.start(level)
        last_checkpoint = -float("inf")
        ctx.saves_at_levels = saving.save_to is not None
        while level:
            if saving.save_to is not None and (
                    time.monotonic() - last_checkpoint >= saving.every or ctx.interrupted()):
                self._checkpoint(saving.save_to, level)
                last_checkpoint = time.monotonic()
            if ctx.interrupted():
                raise Bound("interrupted")  # after the checkpoint above, when saving
            if max_depth is not None and self.depth >= max_depth:
                if self._goes_deeper(level):
                    raise Bound("max-depth")
                return
            nxt = self._frontier()
            self.level_depth = self.depth
            walk = iter(level)
            while True:
                batch: list[Candidate] = []
                _, ran_out = levels.expand(walk, [batch], states=storage.chunk,
                                           candidates=storage.chunk)
                # A level whose successors the level sets all drop fills no batch, yet
                # each call still ends in a look at the clock.
                self._absorb(batch, nxt)
                if ran_out:
                    break
            level.close()
            level = nxt
            levels.advance()

    def _goes_deeper(self, level: Frontier) -> bool:
        """Whether the depth bound cuts anything off: a successor not seen before."""
        model, fingerprint, store = self.ctx.model, self.ctx.fingerprint, self.store
        return any(fingerprint(model.next_state(s, a)) not in store
                   for _, s in level for a in model.actions(s))

    def _absorb(self, batch: list[Candidate], nxt: Frontier) -> None:
        """Keep the candidates in `batch` not seen before: check them, queue them."""
        ctx, store = self.ctx, self.store
        if not batch:
            ctx.tick(len(store), self.depth, len(nxt))
            return
        max_states = ctx.options.bounds.max_states
        limit = None if max_states is None else max_states - len(store)
        kept = store.add_batch(*candidate_arrays(batch), limit)
        if len(kept):
            self.depth = self.level_depth + 1
        queued: list[tuple[int, Hashable]] = []
        hit = self.levels.accept(batch, kept.tolist(), ctx.invariants, ctx.goals, queued,
                                 stop_at_violation=True)
        if hit is not None:
            index, fp, state = hit
            raise Found(ctx.invariants[index], fp, state)
        nxt.extend(queued)
        if max_states is not None and len(store) >= max_states:
            raise Bound("max-states")
        ctx.tick(len(store), self.depth, len(nxt))

    def _resume(self, directory: str) -> list[tuple[int, Hashable]]:
        ctx = self.ctx
        snap = checkpoint.load(directory, ctx.identity)
        self.store.close()
        self.store = snap.store
        ctx.counters.inits = ctx.count_inits()
        ctx.counters.merge(snap.counters)
        ctx.goals.mark(snap.reached)
        self.depth = snap.depth
        ctx.start -= snap.elapsed
        return snap.frontier

    def _checkpoint(self, directory: str, level: Frontier) -> None:
        ctx = self.ctx
        checkpoint.save(directory, checkpoint.Snapshot(
            ctx.identity, self.depth, time.monotonic() - ctx.start, ctx.counters.copy(),
            list(ctx.goals.reached), self.store, list(level)))
