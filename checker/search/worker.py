"""One partition of a parallel breadth-first search (see `checker.search.parallel`).

A worker owns the fingerprints f with f mod N = its index, in its own
`FingerprintStore`, and holds a share of the current level's states. It builds its own
search context from the model and the options, so it counts and checks in its own
process; the coordinator reads its `Report` after each call and merges the counters.
The same class runs in a forked process (`parallel.LocalBackend`) and as a Ray actor
(`ray.RayBackend`): every method takes and returns plain picklable values.
"""

from __future__ import annotations

import pickle
import resource
import time
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store import FingerprintStore, Frontier
from . import checkpoint
from .core import Context, Counters
from .expand import Candidate, Levels, candidate_arrays
from .options import Options


@dataclass(slots=True)
class Report:
    """A worker's state after a call, for the coordinator."""

    new: int  # states this worker queued in the level so far
    frontier: int  # states of the current level it holds
    distinct: int  # fingerprints its part of the visited set holds
    violation: tuple[int, int] | None  # (invariant index, fingerprint) of its first violation
    timed_out: bool  # the deadline cut a level short
    reached: list[str]
    counters: Counters
    peak_rss_kb: int


class Worker:
    def __init__(self, index: int, n: int, model: Any, options: Options) -> None:
        self.i, self.n = index, n
        self.ctx = Context(model, options)
        self.storage = options.storage
        self.store = FingerprintStore(spill_dir=self.storage.spill_dir)
        self.levels = Levels(model, self.ctx.fingerprint, self.ctx.counters)
        # Levels spill to disk past spill_at states, as in the one-process search.
        self.frontier = self._level()
        self.nxt = self._level()
        self.walk: Iterator[tuple[int, Hashable]] | None = None
        self.pos = 0  # states of the frontier expanded
        self.held: list[list[Candidate]] = []
        self.new_count = 0
        self.violation: tuple[int, int] | None = None
        self.timed_out = False

    def _level(self) -> Frontier:
        return Frontier(self.storage.spill_at, self.storage.spill_dir)

    def roots(self, items: list[tuple[int, Hashable]]) -> Report:
        for fp, _ in items:
            if fp % self.n == self.i:
                self.store.add_root(fp)
        self.frontier.extend([item for k, item in enumerate(items) if k % self.n == self.i])
        self.levels.start(items)
        return self.report()

    def expand(self, deadline: float | None) -> tuple[list[tuple[np.ndarray, np.ndarray]], bool]:
        """A round's expansions; per owner, the candidates' fingerprints and parents."""
        end = len(self.frontier)
        if deadline is not None and time.time() > deadline and self.pos < end:
            self.pos = end
            self.timed_out = True
        if self.walk is None:
            self.walk = iter(self.frontier)
        held: list[list[Candidate]] = [[] for _ in range(self.n)]
        if self.pos < end:
            # Rounds end in a barrier, where the fastest worker waits for the slowest;
            # four store batches a round halve that waiting on paxos against one batch.
            expanded, _ = self.levels.expand(self.walk, held, generated=4 * self.storage.chunk)
            self.pos += expanded
        self.held = held
        return [candidate_arrays(h) for h in held], self.pos < end

    def own(self, candidates: list[tuple[np.ndarray, np.ndarray]], probe: bool,
            limit: int | None = None) -> list[np.ndarray]:
        """Per sender, the positions of its candidates that are new; `limit` caps them."""
        kept = []
        for fps, parents in candidates:
            if probe:
                kept.append(np.flatnonzero(~self.store.member(fps)) if len(fps)
                            else np.empty(0, dtype=np.intp))
            else:
                kept.append(self.store.add_batch(fps, parents, limit))
                if limit is not None:
                    limit -= len(kept[-1])
        return kept

    def accept(self, kept_by_owner: list[np.ndarray], probe: bool) -> bool:
        """Queue and check the candidates the owners found new; whether one broke an
        invariant. A probe (the level past the depth bound) only counts them."""
        if probe:
            self.new_count += sum(len(kept) for kept in kept_by_owner)
        else:
            ctx = self.ctx
            queued: list[tuple[int, Hashable]] = []
            for owner, kept in enumerate(kept_by_owner):
                self.new_count += len(kept)
                hit = self.levels.accept(self.held[owner], kept.tolist(), ctx.invariants,
                                         ctx.goals, queued, stop_at_violation=False)
                if hit is not None and self.violation is None:
                    self.violation = hit[:2]
            self.nxt.extend(queued)
        self.held = []
        return self.violation is not None

    def end_level(self, probe: bool) -> Report:
        report = self.report()
        if not probe:
            self.levels.advance()
            self.frontier.close()
            self.frontier, self.nxt = self.nxt, self._level()
            report.frontier = len(self.frontier)
        else:
            self.nxt.close()
            self.nxt = self._level()
        self.pos = 0
        self.walk = None
        self.new_count = 0
        return report

    def report(self) -> Report:
        return Report(self.new_count, len(self.frontier), len(self.store), self.violation,
                      self.timed_out, list(self.ctx.goals.reached), self.ctx.counters.copy(),
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)

    def resume(self, directory: str, identity: dict[str, Any]) -> Report:
        snap = checkpoint.load(directory, identity, (self.i, self.n))
        self.store.close()
        self.store = snap.store
        self.frontier.extend(snap.frontier)
        self.levels.start(snap.frontier)
        return self.report()

    def save_part(self, nxt: str) -> int:
        return checkpoint.write_part(nxt, self.i, self.store, list(self.frontier))

    def give(self, plan: list[tuple[int, int]]) -> list[bytes]:
        """Pickle frontier states for other workers: `plan` is (receiver, count) pairs."""
        parts = self.frontier.split_tail([count for _, count in plan])
        return [pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL) for part in parts]

    def take(self, blobs: list[bytes]) -> None:
        for blob in blobs:
            self.frontier.extend(pickle.loads(blob))

    def parent(self, fp: int) -> int:
        return self.store.parent(fp)

    def close(self) -> None:
        self.store.close()
        self.frontier.close()
        self.nxt.close()
