"""Explicit-state exploration of any `Model`: breadth-first, depth-first, random walks.

Breadth-first search goes level by level, so the first state found to break an
invariant is at the least depth, and the path to it is a shortest counterexample. The
visited set keeps one fingerprint and one parent fingerprint per state
(`checker.store`); the frontier keeps whole states for one level only. A
counterexample is rebuilt by replaying: starting from the initial state at the root of
the fingerprint chain, each step tries the enabled actions until one yields the next
fingerprint on the chain. A model whose transitions are not deterministic cannot be
replayed, and is reported as such (`InvalidModel`).

Depth-first search finds deep bugs with a small frontier but not shortest paths.
Random simulation takes seeded random walks, never proves anything, and reports
`incomplete` unless it finds a violation.

The hot loop binds everything to locals and does, per successor, one `next_state`, one
hash, one dict lookup and one coverage count; invariants run once per new state.
"""

from __future__ import annotations

import gc
import random
import resource
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import checkpoint
from .errors import InvalidModel, UsageError
from .model import Model, Property
from .report import ActionCoverage, CheckResult, Step, Violation, state_changes
from .store import DictStore, FingerprintStore, Frontier, collision_probability

STRATEGIES = ("bfs", "dfs", "simulate", "swarm")


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


@dataclass(frozen=True)
class Options:
    strategy: str = "bfs"
    max_states: int | None = None
    max_depth: int | None = None  # in states, initial states at depth 1 (as TLC)
    time_limit: float | None = None
    seed: int = 0
    symmetry: bool = True
    walks: int = 1000  # simulate: number of random walks
    walk_depth: int = 100  # simulate: steps per walk when max_depth is unset
    properties: Sequence[str] | None = None  # check only these property ids
    chunk: int = 4096  # successors per batch handed to the fingerprint store
    spill_at: int = 1_000_000  # frontier states kept in memory before spilling to disk
    spill_dir: str | None = None  # where full visited-set runs go as memory-mapped files
    workers: int = 1  # bfs: processes that partition the visited set (checker.parallel)
    backend: str = "local"  # workers as forked processes, or Ray actors ("ray")
    address: str | None = None  # Ray cluster address (None: start a local Ray)
    checkpoint_dir: str | None = None  # bfs: save the search at level starts (checker.checkpoint)
    checkpoint_every: float = 60.0  # seconds between checkpoints; 0: every level
    resume_dir: str | None = None  # bfs: carry on from the checkpoint in this directory
    progress: Callable[[Progress], None] | None = None
    progress_interval: float = 0.25


class _Found(Exception):
    """Raised inside the search when a state breaks an invariant."""

    def __init__(self, prop: Property, fp: int, state: Hashable) -> None:
        self.prop, self.fp, self.state = prop, fp, state


class _Bound(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


# Entries of the raw-hash cache below (about 7 MB when full; then it is cleared): the
# copies it catches are recent, a larger cache caught no more on multipaxos.
_CANON_CACHE = 1 << 16


def fingerprint_of(canonical: Callable[[Any], Any] | None) -> Callable[[Hashable], int]:
    """The fingerprint function: `hash`, or with symmetry the hash of the canonical
    representative. Most successors are exact copies of states generated shortly before
    (stutters, commuting steps), so the canonical fingerprint is remembered by the
    state's own hash: canonicalising (sorting permuted copies) cost 40% of a multipaxos
    run. A raw-hash collision could map a state to another's orbit, the same 2^-64 risk
    every fingerprint already takes (TLC's too)."""
    if canonical is None:
        return hash
    cache: dict[int, int] = {}
    get = cache.get

    def fingerprint(state: Hashable) -> int:
        raw = hash(state)
        fp = get(raw)
        if fp is None:
            if len(cache) >= _CANON_CACHE:
                cache.clear()
            fp = cache[raw] = hash(canonical(state))
        return fp

    return fingerprint


class Explorer:
    """One run of one strategy over one model. Use `check()` for the whole job."""

    def __init__(self, model: Model, options: Options, identity: dict[str, Any] | None = None) -> None:
        if options.strategy not in STRATEGIES:
            raise UsageError(
                f"unknown strategy {options.strategy!r}; allowed: {', '.join(STRATEGIES)}"
            )
        self.model = model
        self.opts = options
        self.identity = identity or {}
        props = list(model.properties())
        if options.properties is not None:
            known = {p.id for p in props}
            unknown = [pid for pid in options.properties if pid not in known]
            if unknown:
                raise UsageError(
                    f"unknown property {unknown[0]!r}; allowed: {', '.join(sorted(known))}"
                )
            props = [p for p in props if p.id in options.properties]
        self.props = props
        self.invariants = [p for p in props if p.kind == "always"]
        self.goals = [p for p in props if p.kind == "sometimes"]
        self.reached: list[str] = []
        canonical = getattr(model, "canonical", None) if options.symmetry else None
        self.canonical: Callable[[Any], Any] | None = canonical
        self.fp: Callable[[Hashable], int] = fingerprint_of(canonical)
        self.store: FingerprintStore | DictStore = (
            FingerprintStore(spill_dir=options.spill_dir) if options.strategy == "bfs"
            else DictStore())
        self.generated = 0
        self.inits_generated: int | None = None  # None: resumed, never enumerated
        self.depth = 0
        self.walks = 0
        self.level_depth = 0
        self.distinct: int | None = None  # set by the parallel coordinator
        self.worker_peak_rss_mb = 0.0  # likewise: the workers' peaks, summed
        self.gen_by_action: dict[str, int] = {}
        self.new_by_action: dict[str, int] = {}
        self.start = time.monotonic()
        self.next_tick = self.start + options.progress_interval

    # -- fingerprints -------------------------------------------------------------

    # -- per-state work off the hot path -----------------------------------------

    def _check_new(self, fp: int, state: Hashable) -> None:
        for prop in self.invariants:
            if not prop.holds(state):
                raise _Found(prop, fp, state)
        if self.goals:
            self._check_goals(state)

    def _check_goals(self, state: Hashable) -> None:
        for prop in list(self.goals):
            if prop.holds(state):
                self.goals.remove(prop)
                self.reached.append(prop.id)

    def _tick(self, queue: int) -> None:
        """Called every few hundred expansions: time bound and progress line."""
        now = time.monotonic()
        limit = self.opts.time_limit
        if limit is not None and now - self.start >= limit:
            raise _Bound("time-limit")
        if self.opts.progress is not None and now >= self.next_tick:
            self.next_tick = now + self.opts.progress_interval
            self.opts.progress(
                Progress(self.distinct or len(self.store), self.generated, self.depth, queue,
                         now - self.start)
            )

    def _seen_before(self, state: Hashable) -> bool:
        return self.fp(state) in self.store

    # -- breadth-first -----------------------------------------------------------

    def _roots(self) -> list[tuple[int, Hashable]]:
        roots = []
        max_states = self.opts.max_states
        self.inits_generated = 0
        for s in self.model.init_states():
            self.generated += 1
            self.inits_generated += 1
            fp = self.fp(s)
            if not self.store.add_root(fp):
                continue
            self.depth = 1
            self._check_new(fp, s)
            roots.append((fp, s))
            if max_states is not None and len(self.store) >= max_states:
                raise _Bound("max-states")
        return roots

    def _resume(self) -> list[tuple[int, Hashable]]:
        snap = checkpoint.load(self.opts.resume_dir, self.identity)
        self.store = snap.store
        self.gen_by_action.update(snap.gen_by_action)
        self.new_by_action.update(snap.new_by_action)
        self.reached = list(snap.reached)
        self.goals = [g for g in self.goals if g.id not in self.reached]
        self.depth = snap.depth
        self.start -= snap.elapsed
        return snap.frontier

    def _checkpoint(self, level: Frontier) -> None:
        checkpoint.save(self.opts.checkpoint_dir, checkpoint.Snapshot(
            self.identity, self.depth, time.monotonic() - self.start, dict(self.gen_by_action),
            dict(self.new_by_action), list(self.reached), self.store, list(level)))

    def bfs(self) -> None:
        level = Frontier(self.opts.spill_at, self.opts.spill_dir)
        if self.opts.resume_dir is not None:
            level.extend(self._resume())
        else:
            level.extend(self._roots())
        every = self.opts.checkpoint_every
        last_checkpoint = -float("inf")
        actions, step = self.model.actions, self.model.next_state
        gen = self.gen_by_action
        fingerprint = self.fp
        max_depth = self.opts.max_depth
        chunk = self.opts.chunk
        # Most successors are states of the previous, current or next level (stutters,
        # commuting steps). A plain set of those levels' fingerprints drops them before
        # they reach the batched store: one hash lookup instead of a batch slot.
        previous: set[int] = set()
        current = {fp for fp, _ in level}
        while level:
            if self.opts.checkpoint_dir is not None and time.monotonic() - last_checkpoint >= every:
                self._checkpoint(level)
                last_checkpoint = time.monotonic()
            if max_depth is not None and self.depth >= max_depth:
                if any(not self._seen_before(step(s, a)) for _, s in level for a in actions(s)):
                    raise _Bound("max-depth")
                return
            nxt = Frontier(self.opts.spill_at, self.opts.spill_dir)
            self.level_depth = self.depth
            upcoming: set[int] = set()
            batch: list[tuple] = []  # (state, fingerprint, parent fingerprint, action name)
            # Expanded states since the last batch: a level whose successors the level
            # sets all drop fills no batch, yet must still look at the clock.
            since = 0
            for sfp, s in level:
                since += 1
                for a in actions(s):
                    t = step(s, a)
                    name = a[0]
                    gen[name] = gen.get(name, 0) + 1
                    fp = fingerprint(t)
                    if fp in upcoming or fp in current or fp in previous:
                        continue
                    batch.append((t, fp, sfp, name))
                if len(batch) >= chunk or since >= chunk:
                    self._absorb(batch, nxt, upcoming)
                    batch = []
                    since = 0
            self._absorb(batch, nxt, upcoming)
            level.close()
            level = nxt
            previous, current = current, upcoming

    def _absorb(self, batch: list[tuple], nxt: Frontier, upcoming: set[int]) -> None:
        """Keep the successors in `batch` not seen before: check them, queue them."""
        if not batch:
            self._tick(len(nxt))
            return
        states, fps, parents, names = zip(*batch)
        fp_arr = np.array(fps, dtype=np.int64)
        max_states = self.opts.max_states
        limit = None if max_states is None else max_states - len(self.store)
        kept = self.store.add_batch(fp_arr, np.array(parents, dtype=np.int64), limit)
        if len(kept):
            # Depth counts the levels holding a state, so it is counted when the first
            # state of a level is, also if a violation or a bound stops the run there.
            self.depth = self.level_depth + 1
        new = self.new_by_action
        invariants = self.invariants
        queued = []
        for i in kept.tolist():
            t = states[i]
            name = names[i]
            new[name] = new.get(name, 0) + 1
            for prop in invariants:
                if not prop.holds(t):
                    raise _Found(prop, fps[i], t)
            if self.goals:
                self._check_goals(t)
            queued.append((fps[i], t))
            upcoming.add(fps[i])
        nxt.extend(queued)
        if max_states is not None and len(self.store) >= max_states:
            raise _Bound("max-states")
        self.generated = sum(self.gen_by_action.values())
        self._tick(len(nxt))

    # -- depth-first -------------------------------------------------------------

    def dfs(self) -> None:
        stack = [(fp, s, 1) for fp, s in reversed(self._roots())]
        actions, step = self.model.actions, self.model.next_state
        parents = self.store.parents
        gen, new = self.gen_by_action, self.new_by_action
        max_states = self.opts.max_states if self.opts.max_states is not None else -1
        max_depth = self.opts.max_depth
        cut = False
        expanded = 0
        while stack:
            sfp, s, d = stack.pop()
            if max_depth is not None and d >= max_depth:
                cut = cut or any(not self._seen_before(step(s, a)) for a in actions(s))
                continue
            children = []
            for a in actions(s):
                t = step(s, a)
                fp = self.fp(t)
                name = a[0]
                gen[name] = gen.get(name, 0) + 1
                if fp in parents:
                    continue
                parents[fp] = sfp
                new[name] = new.get(name, 0) + 1
                if d + 1 > self.depth:
                    self.depth = d + 1
                self._check_new(fp, t)
                children.append((fp, t, d + 1))
                if len(parents) == max_states:
                    raise _Bound("max-states")
            # Reversed, so the first enabled action is explored first.
            stack.extend(reversed(children))
            expanded += 1
            if not expanded & 255:
                self.generated = sum(gen.values())
                self._tick(len(stack))
        if cut:
            raise _Bound("max-depth")

    # -- random simulation -------------------------------------------------------

    def simulate(self) -> list[tuple[tuple | None, Hashable]] | None:
        """Seeded random walks; returns the walk that broke an invariant, if any."""
        rng = random.Random(self.opts.seed)
        inits = list(self.model.init_states())
        if not inits:
            return None
        walk_len = self.opts.max_depth or self.opts.walk_depth
        parents = self.store.parents
        max_states = self.opts.max_states
        for _ in range(self.opts.walks):
            self.walks += 1
            s = rng.choice(inits)
            self.generated += 1
            fp = self.fp(s)
            if fp not in parents:
                parents[fp] = fp
            walk: list[tuple[tuple | None, Hashable]] = [(None, s)]
            if self._violated(s) is not None:
                return walk
            for _ in range(walk_len - 1):
                enabled = list(self.model.actions(s))
                if not enabled:
                    break
                a = rng.choice(enabled)
                t = self.model.next_state(s, a)
                self.generated += 1
                self.gen_by_action[a[0]] = self.gen_by_action.get(a[0], 0) + 1
                tfp = self.fp(t)
                if tfp not in parents:
                    parents[tfp] = fp
                    self.new_by_action[a[0]] = self.new_by_action.get(a[0], 0) + 1
                walk.append((a, t))
                self.depth = max(self.depth, len(walk))
                if self._violated(t) is not None:
                    return walk
                s, fp = t, tfp
            if max_states is not None and len(parents) >= max_states:
                raise _Bound("max-states")
            self._tick(0)
        return None

    def _violated(self, state: Hashable) -> Property | None:
        for prop in self.invariants:
            if not prop.holds(state):
                return prop
        if self.goals:
            self._check_goals(state)
        return None

    # -- counterexamples ---------------------------------------------------------

    def replay(self, fp: int, path_to: Callable[[int], list[int]] | None = None
               ) -> list[tuple[tuple | None, Hashable]]:
        """The states on the stored path to `fp`, rebuilt by replaying actions."""
        chain = (path_to or self.store.path_to)(fp)
        model = self.model
        state = next((s for s in model.init_states() if self.fp(s) == chain[0]), None)
        if state is None:
            raise InvalidModel(
                "cannot rebuild the counterexample: no initial state has the stored "
                "fingerprint; init_states() is probably not deterministic"
            )
        path: list[tuple[tuple | None, Hashable]] = [(None, state)]
        for want in chain[1:]:
            for a in model.actions(state):
                t = model.next_state(state, a)
                if self.fp(t) == want:
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


def steps_of(model: Model, path: list[tuple[tuple | None, Hashable]]) -> list[Step]:
    steps: list[Step] = []
    before: dict[str, Any] = {}
    for i, (action, state) in enumerate(path):
        described = model.describe(state)
        steps.append(
            Step(
                index=i,
                action=None if action is None else model.format_action(action),
                state=described,
                changes=state_changes(before, described) if i else [],
            )
        )
        before = described
    return steps


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def check(
    model: Model,
    options: Options = Options(),
    *,
    name: str = "model",
    params: dict[str, Any] | None = None,
    mutant: str | None = None,
) -> CheckResult:
    """Explore `model` with `options` and return the verdict with its statistics."""
    identity = {"model": name, "params": dict(params or {}), "mutant": mutant,
                "symmetry": options.symmetry,
                # Invariants are checked in the model's order, whatever the order asked.
                "properties": sorted(set(options.properties or []))}
    ex = Explorer(model, options, identity)
    violation: Violation | None = None
    bound: str | None = None
    # States are immutable and acyclic, so the cyclic garbage collector finds nothing
    # to free, yet its full collections walk every live frontier state: it cost a
    # third of the run time on paxos. Reference counting still frees everything.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    parallel = None
    try:
        if options.workers > 1 and options.strategy not in ("bfs", "swarm"):
            raise UsageError("--workers above 1 needs --strategy bfs or swarm")
        if (options.checkpoint_dir or options.resume_dir) and options.strategy != "bfs":
            raise UsageError("--checkpoint and --resume need --strategy bfs")
        if options.strategy in ("simulate", "swarm"):
            if options.strategy == "swarm":
                from . import swarm

                walk = swarm.run(ex, options.workers)
            else:
                walk = ex.simulate()
            if walk is not None:
                state = walk[-1][1]
                prop = ex._violated(state)
                assert prop is not None
                violation = Violation(prop.id, "always", prop.message(state), steps_of(model, walk))
        elif options.strategy == "dfs":
            ex.dfs()
        elif options.workers > 1 or options.backend != "local":
            from .parallel import ParallelBFS

            parallel = ParallelBFS(ex, options.workers, options.backend, options.address)
            parallel.run()
        else:
            ex.bfs()
    except _Found as found:
        chain_of = ex.store.path_to if parallel is None or found.fp in ex.store else parallel.path_to
        path = ex.replay(found.fp, chain_of)
        state = path[-1][1]
        violation = Violation(
            found.prop.id, "always", found.prop.message(state), steps_of(model, path)
        )
    except _Bound as hit:
        bound = hit.name
    finally:
        if parallel is not None:
            parallel.close()
        ex.store.close()
        if gc_was_enabled:
            gc.enable()
    seconds = time.monotonic() - ex.start
    random_walks = options.strategy in ("simulate", "swarm")
    if not random_walks:
        inits = ex.inits_generated if ex.inits_generated is not None else _count_inits(model)
        ex.generated = sum(ex.gen_by_action.values()) + inits
    exhaustive = not random_walks and bound is None
    if violation is None and exhaustive and ex.goals:
        goal = ex.goals[0]
        violation = Violation(
            goal.id,
            "sometimes",
            f"never reached in {ex.distinct or len(ex.store)} states: {goal.description} "
            "(the model is vacuous for this goal)",
        )
    if violation is not None:
        result = "violation"
    elif exhaustive:
        result = "ok"
    else:
        result = "incomplete"
        if bound is None:
            bound = "walks"
    distinct = ex.distinct if ex.distinct is not None else len(ex.store)
    coverage = {
        name: ActionCoverage(ex.gen_by_action[name], ex.new_by_action.get(name, 0))
        for name in ex.gen_by_action
    }
    return CheckResult(
        model=name,
        params=dict(params or {}),
        mutant=mutant,
        strategy=options.strategy,
        seed=options.seed,
        symmetry=ex.canonical is not None,
        result=result,
        distinct_states=distinct,
        generated_states=ex.generated,
        depth=ex.depth,
        seconds=round(seconds, 6),
        states_per_second=round(distinct / seconds, 1) if seconds > 0 else 0.0,
        peak_rss_mb=round(peak_rss_mb() + ex.worker_peak_rss_mb, 1),
        collision_probability=collision_probability(distinct, ex.generated),
        coverage=coverage,
        properties=[p.id for p in ex.props],
        reached=list(ex.reached),
        unreached=[p.id for p in ex.goals],
        bound=bound,
        violation=violation,
        walks=ex.walks,
    )


def _count_inits(model: Model) -> int:
    return sum(1 for _ in model.init_states())


# -- exact references for tests and audits ----------------------------------------------


def reachable_states(model: Model) -> set[Hashable]:
    """Every reachable state, kept whole: the exact set that fingerprints and symmetry
    reduction are checked against on small models. Memory grows with the space."""
    seen = set(model.init_states())
    level = list(seen)
    while level:
        nxt = []
        for s in level:
            for a in model.actions(s):
                t = model.next_state(s, a)
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        level = nxt
    return seen


def replays(model: Model, trace: list[Step]) -> bool:
    """Whether a printed counterexample is real: each step is an enabled action of the
    state before it (matched by its printed name) whose successor prints as shown."""
    state = next((s for s in model.init_states() if model.describe(s) == trace[0].state), None)
    if state is None:
        return False
    for step in trace[1:]:
        for a in model.actions(state):
            t = model.next_state(state, a)
            if model.format_action(a) == step.action and model.describe(t) == step.state:
                state = t
                break
        else:
            return False
    return True
