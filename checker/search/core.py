"""What every strategy shares: the search context, counters, outcomes, and replay.

A strategy runs in a `Context`: the model, its fingerprint function (with symmetry, the
hash of the canonical representative), the invariants and goals asked for, the
counters, and the clock. Parallel workers build their own context in their own
process; their counters come back to the coordinator and merge there (`Counters.merge`
adds them), so no strategy writes into another's state.

A strategy stops early by raising `Found` (a new state breaks an invariant) or `Bound`
(a bound was reached); it catches them itself and returns an `Outcome`: the counters,
the distinct states and depth it saw, the bound that stopped it, and the counterexample
as states rebuilt by replaying the model (`Context.replay`), since the visited set keeps
only fingerprints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidModel, UsageError
from ..model import Model, Property
from .options import Options

# A path through the model: (action, state) pairs, the first action None (an initial state).
Path = list[tuple[tuple | None, Hashable]]


class Found(Exception):
    """Raised inside a search when a new state breaks an invariant."""

    def __init__(self, prop: Property, fp: int, state: Hashable) -> None:
        super().__init__(prop.id)
        self.prop, self.fp, self.state = prop, fp, state


class Bound(Exception):
    """Raised inside a search when a bound stops it: max-states, max-depth, time-limit."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class Interrupt:
    """Ctrl-C and SIGTERM, counted by the caller's signal handler and read at ticks: a
    search stops at its next tick with the counts so far (a bound, `interrupted`), or,
    when it saves checkpoints at level starts, at the next level start after saving one
    there (a second signal stops it at the next tick)."""

    def __init__(self) -> None:
        self.signals = 0

    def signal(self) -> None:
        self.signals += 1


@dataclass(frozen=True, slots=True)
class Progress:
    distinct: int
    generated: int
    depth: int
    queue: int
    seconds: float

    @property
    def states_per_second(self) -> float:
        return self.distinct / self.seconds if self.seconds > 0 else 0.0


@dataclass(slots=True)
class Counters:
    """Generated and new states by action name, and the initial states generated.

    Counters of disjoint work add up: workers count their own expansions and the
    coordinator merges them in worker order, so the action names keep the order in
    which the merged parts first met them."""

    inits: int = 0
    generated: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)

    @property
    def generated_states(self) -> int:
        return self.inits + sum(self.generated.values())

    def merge(self, other: Counters) -> None:
        self.inits += other.inits
        for mine, theirs in ((self.generated, other.generated), (self.new, other.new)):
            for name, count in theirs.items():
                mine[name] = mine.get(name, 0) + count

    def copy(self) -> Counters:
        return Counters(self.inits, dict(self.generated), dict(self.new))

    @classmethod
    def total(cls, parts: Iterable[Counters]) -> Counters:
        out = cls()
        for part in parts:
            out.merge(part)
        return out


class Goals:
    """The `sometimes` properties still pending, and the ids of those reached, in the
    order first reached. Hot loops test `goals.pending` before calling `check`."""

    __slots__ = ("pending", "reached")

    def __init__(self, goals: Iterable[Property]) -> None:
        self.pending = list(goals)
        self.reached: list[str] = []

    def check(self, state: Hashable) -> None:
        for prop in list(self.pending):
            if prop.holds(state):
                self.pending.remove(prop)
                self.reached.append(prop.id)

    def mark(self, ids: Iterable[str]) -> None:
        """Take goals reached elsewhere (a worker, a checkpoint) as reached here."""
        for pid in ids:
            if pid not in self.reached:
                self.reached.append(pid)
        self.pending = [g for g in self.pending if g.id not in self.reached]


@dataclass(slots=True)
class Counterexample:
    prop: Property
    path: Path


@dataclass(slots=True)
class Outcome:
    """What a strategy returns: its counts, and why it stopped if it did not finish."""

    counters: Counters
    reached: list[str]  # `sometimes` goals reached, in the order first reached
    distinct: int
    depth: int
    bound: str | None = None  # max-states | max-depth | time-limit; None: ran to its end
    counterexample: Counterexample | None = None
    walks: int = 0  # random walks taken
    parts: list[Counters] = field(default_factory=list)  # per worker, where workers ran
    worker_peak_rss_mb: float = 0.0  # the workers' peaks, summed


# Entries of each generation of the raw-hash cache below (about 25 MB for both when
# full). The copies it catches are recent: on paxos with ballots 0..3, two generations
# of 2^17 call `canonical` 1.31 times a distinct state, as often as an unbounded cache,
# where one of 2^16 cleared when full called it 2.0 times.
_CANON_CACHE = 1 << 17


def fingerprint_of(canonical: Callable[[Any], Any] | None) -> Callable[[Hashable], int]:
    """The fingerprint function: `hash`, or with symmetry the hash of the canonical
    representative. Most successors are exact copies of states generated shortly before
    (stutters, commuting steps), so the canonical fingerprint is remembered by the
    state's own hash: canonicalising (sorting permuted copies) cost 40% of a multipaxos
    run. A raw-hash collision could map a state to another's orbit, the same 2^-64 risk
    every fingerprint already takes (TLC's too)."""
    if canonical is None:
        return hash
    # Two generations: when the young one fills it becomes the old one, so a full cache
    # still remembers the last _CANON_CACHE states instead of forgetting everything.
    young: dict[int, int] = {}
    old: dict[int, int] = {}

    def fingerprint(state: Hashable) -> int:
        nonlocal young, old
        raw = hash(state)
        fp = young.get(raw)
        if fp is None:
            fp = old.get(raw)
            if fp is None:
                fp = hash(canonical(state))
            if len(young) >= _CANON_CACHE:
                old, young = young, {}
            young[raw] = fp
        return fp

    return fingerprint


class Context:
    """One process's share of a search: model, fingerprint, properties, counters, clock."""

    def __init__(self, model: Model, options: Options,
                 identity: dict[str, Any] | None = None) -> None:
        self.model = model
        self.options = options
        self.identity = identity or {}  # what a checkpoint belongs to
        props = list(model.properties())
        if options.properties is not None:
            known = {p.id for p in props}
            unknown = [pid for pid in options.properties if pid not in known]
            if unknown:
                raise UsageError(
                    f"unknown property {unknown[0]!r}; allowed: {', '.join(sorted(known))}"
                )
        # Naming invariants alone keeps the model's `sometimes` goals: dropping them
        # would let a vacuous model (nothing ever chosen) pass its invariants as OK.
        # Naming a goal, or `goals=False`, is the user taking vacuity into their hands.
        named = options.properties
        keep_goals = options.goals and not any(
            p.kind == "sometimes" and p.id in (named or ()) for p in props)

        def wanted(p: Property) -> bool:
            if p.kind == "sometimes" and keep_goals:
                return True
            return p.id in named if named is not None else p.kind != "sometimes"

        props = [p for p in props if wanted(p)]
        self.props = props
        self.invariants = [p for p in props if p.kind == "always"]
        self.goals = Goals(p for p in props if p.kind == "sometimes")
        self.canonical = (getattr(model, "canonical", None)
                          if options.symmetry is not False else None)
        self.fingerprint: Callable[[Hashable], int] = fingerprint_of(self.canonical)
        self.counters = Counters()
        self.start = time.monotonic()
        self.next_tick = self.start + options.progress_interval
        # Set by a strategy that saves checkpoints at level starts: a first interrupt
        # then waits for one, so that the run can be resumed.
        self.saves_at_levels = False

    # -- per-state checks, off the hot path ---------------------------------------------

    def broken(self, state: Hashable) -> Property | None:
        """The first invariant `state` breaks, in the model's order."""
        for prop in self.invariants:
            if not prop.holds(state):
                return prop
        return None

    def violated(self, state: Hashable) -> Property | None:
        """`broken`, and where nothing breaks, the goals `state` reaches."""
        prop = self.broken(state)
        if prop is None and self.goals.pending:
            self.goals.check(state)
        return prop

    def walk(self, s: Hashable, length: int, seen: set[int],
             pick: Callable[[list[tuple]], tuple]) -> tuple[list[tuple[tuple, Hashable]],
                                                          Property | None]:
        """One random walk of at most `length` states from `s`, each next action chosen
        by `pick` among the enabled ones, until a state breaks an invariant: the steps
        taken, (action, state) each, and the property broken (None if none). Counts the
        generated and new states (fingerprints in `seen`), as simulate and swarm report."""
        model, fingerprint, counters = self.model, self.fingerprint, self.counters
        steps: list[tuple[tuple, Hashable]] = []
        prop = self.violated(s)
        for _ in range(length - 1):
            if prop is not None:
                break
            enabled = list(model.actions(s))
            if not enabled:
                break
            a = pick(enabled)
            t = model.next_state(s, a)
            counters.generated[a[0]] = counters.generated.get(a[0], 0) + 1
            fp = fingerprint(t)
            if fp not in seen:
                seen.add(fp)
                counters.new[a[0]] = counters.new.get(a[0], 0) + 1
            steps.append((a, t))
            s = t
            prop = self.violated(t)
        return steps, prop

    def check_new(self, fp: int, state: Hashable) -> None:
        prop = self.violated(state)
        if prop is not None:
            raise Found(prop, fp, state)

    def tick(self, distinct: int, depth: int, queue: int) -> None:
        """Called every few hundred expansions: the time bound and the progress call."""
        if self.interrupted(2 if self.saves_at_levels else 1):
            raise Bound("interrupted")
        now = time.monotonic()
        limit = self.options.bounds.time_limit
        if limit is not None and now - self.start >= limit:
            raise Bound("time-limit")
        progress = self.options.progress
        if progress is not None and now >= self.next_tick:
            self.next_tick = now + self.options.progress_interval
            progress(Progress(distinct, self.counters.generated_states, depth, queue,
                              now - self.start))

    def interrupted(self, signals: int = 1) -> bool:
        """Whether at least `signals` interrupts came."""
        interrupt = self.options.interrupt
        return interrupt is not None and interrupt.signals >= signals

    def roots(self, store: Any) -> list[tuple[int, Hashable]]:
        """The distinct initial states, added to `store` and checked. A root that breaks
        an invariant or fills the store raises; either way the search stood at depth 1."""
        roots = []
        max_states = self.options.bounds.max_states
        for s in self.model.init_states():
            self.counters.inits += 1
            fp = self.fingerprint(s)
            if not store.add_root(fp):
                continue
            self.check_new(fp, s)
            roots.append((fp, s))
            if max_states is not None and len(store) >= max_states:
                raise Bound("max-states")
        return roots

    def settle(self, search: Callable[[], None], chain_to: Callable[[int], list[int]]
               ) -> tuple[str | None, Counterexample | None]:
        """Run `search` to its end, or to the bound or the violation that stops it; a
        violation's state is rebuilt from its fingerprint chain, `chain_to(fp)`."""
        try:
            search()
        except Found as found:
            return None, Counterexample(found.prop, self.replay(chain_to(found.fp)))
        except Bound as hit:
            return hit.name, None
        return None, None

    def count_inits(self) -> int:
        """The initial states a run would have generated (a resumed run never does)."""
        return sum(1 for _ in self.model.init_states())

    # -- counterexamples -----------------------------------------------------------------

    def replay(self, chain: list[int]) -> Path:
        """The states on a fingerprint chain from an initial state, rebuilt by replaying:
        each step tries the enabled actions until one yields the next fingerprint."""
        model, fingerprint = self.model, self.fingerprint
        state = next((s for s in model.init_states() if fingerprint(s) == chain[0]), None)
        if state is None:
            raise InvalidModel(
                "cannot rebuild the counterexample: no initial state has the stored "
                "fingerprint; init_states() is probably not deterministic"
            )
        path: Path = [(None, state)]
        for want in chain[1:]:
            for a in model.actions(state):
                t = model.next_state(state, a)
                if fingerprint(t) == want:
                    path.append((a, t))
                    state = t
                    break
            else:
                raise InvalidModel(
                    f"cannot rebuild the counterexample at step {len(path)}: no enabled "
                    "action reproduces the stored successor; actions() or next_state() "
                    "is probably not deterministic"
                )
        return path
