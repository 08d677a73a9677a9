"""The breadth-first expansion loop, shared by the one-process BFS and parallel workers.

`Levels.expand` takes states of the current level from an iterator and computes their
successors, counting each under its action's name. Most successors are states of the
previous, current or next level (stutters, commuting steps), so a plain set of each of
those levels' fingerprints drops them before they reach the fingerprint store: one hash
lookup instead of a batch slot. The rest are candidates, held per owner (the worker
whose part of the visited set holds fingerprints f with f mod N = its index; one
process owns all). The store decides which candidates are new (`FingerprintStore.
add_batch`, first occurrence wins), and `Levels.accept` queues those for the next level
and checks them.

The loop stops after a state once one of its caps is met, so a caller fixes where
batches (one process) or rounds (workers) end; those ends decide the counts at which a
bound or violation stops a run, so they must not depend on anything but the caps.

The hot loop binds everything to locals and does, per successor, one `next_state`, one
fingerprint, three set lookups and one coverage count; invariants run once per new
state, in `accept`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterable, Iterator

import numpy as np

from ..model import Model, Property
from .core import Counters, Goals

# A candidate: (state, fingerprint, parent fingerprint, action name).
Candidate = tuple[Hashable, int, int, str]
_NO_CAP = sys.maxsize


class Levels:
    """The fingerprints of the previous, current and next levels, and the loop that
    expands the current one."""

    __slots__ = ("model", "fingerprint", "counters", "previous", "current", "upcoming")

    def __init__(self, model: Model, fingerprint: Callable[[Hashable], int],
                 counters: Counters) -> None:
        self.model, self.fingerprint, self.counters = model, fingerprint, counters
        self.previous: set[int] = set()
        self.current: set[int] = set()
        self.upcoming: set[int] = set()

    def start(self, level: Iterable[tuple[int, Hashable]]) -> None:
        """Begin at `level` (the roots, or a resumed frontier): nothing before it."""
        self.previous, self.upcoming = set(), set()
        self.current = {fp for fp, _ in level}

    def advance(self) -> None:
        """The next level becomes the current one."""
        self.previous, self.current, self.upcoming = self.current, self.upcoming, set()

    def expand(self, walk: Iterator[tuple[int, Hashable]], held: list[list[Candidate]], *,
               states: int = _NO_CAP, candidates: int = _NO_CAP,
               generated: int = _NO_CAP) -> tuple[int, bool]:
        """Expand states from `walk` into `held` (one list per owner) until, after a
        state, `states` were expanded, `candidates` held or `generated` successors
        computed. Returns the states expanded and whether `walk` ran out first."""
        actions, step, fingerprint = self.model.actions, self.model.next_state, self.fingerprint
        gen = self.counters.generated
        upcoming, current, previous = self.upcoming, self.current, self.previous
        n = len(held)
        expanded = made = kept = 0
        for sfp, s in walk:
            expanded += 1
            for a in actions(s):
                t = step(s, a)
                name = a[0]
                gen[name] = gen.get(name, 0) + 1
                made += 1
                fp = fingerprint(t)
                if fp in upcoming or fp in current or fp in previous:
                    continue
                held[fp % n].append((t, fp, sfp, name))
                kept += 1
            if expanded >= states or kept >= candidates or made >= generated:
                return expanded, False
        return expanded, True

    def accept(self, held: list[Candidate], positions: list[int], invariants: list[Property],
               goals: Goals, queued: list[tuple[int, Hashable]],
               stop_at_violation: bool) -> tuple[int, int, Hashable] | None:
        """Queue the candidates at `positions` (the store found them new) and check them.
        Returns the first violation as (invariant index, fingerprint, state); after it,
        with `stop_at_violation` nothing more is counted, else the rest is accepted too.
        A state that breaks an invariant does not count as reaching a goal."""
        new = self.counters.new
        upcoming = self.upcoming
        first = None
        for j in positions:
            t, fp, _, name = held[j]
            new[name] = new.get(name, 0) + 1
            upcoming.add(fp)
            queued.append((fp, t))
            for prop in invariants:
                if not prop.holds(t):
                    break
            else:
                if goals.pending:
                    goals.check(t)
                continue
            if first is None:
                first = (next(k for k, p in enumerate(invariants) if p is prop), fp, t)
            if stop_at_violation:
                return first
        return first


def candidate_arrays(held: list[Candidate]) -> tuple[np.ndarray, np.ndarray]:
    """The candidates' fingerprints and parents, as the store takes them."""
    return (np.array([c[1] for c in held], dtype=np.int64),
            np.array([c[2] for c in held], dtype=np.int64))
