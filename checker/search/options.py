"""What a search is asked to do, one dataclass per concern.

A run is described by which strategy walks the space (`Strategy`), where it must stop
short (`Bounds`), how many processes share it and on what (`Distribution`), whether it
saves itself for a later resume (`Checkpointing`), and how the visited set and the
frontier are kept (`Storage`). `Options` gathers them with what is checked (the
properties, symmetry) and who is told of progress. Every field has the default a plain
`smrcheck check MODEL` uses, so `Options()` is an exhaustive one-process BFS.

A concern checks its own fields when it is built; combinations that no strategy
supports (workers with DFS, a checkpoint of a random walk) are refused by `check`,
after the properties asked for are known to exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from .core import Interrupt, Progress

STRATEGIES = ("bfs", "dfs", "simulate", "swarm")
BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class Strategy:
    """How the space is walked. `seed`, `walks` and `walk_depth` matter only to the
    random strategies (simulate, swarm); BFS and DFS are deterministic."""

    name: str = "bfs"
    seed: int = 0
    walks: int = 1000  # random walks taken
    walk_depth: int = 100  # steps per walk when Bounds.max_depth is unset

    def __post_init__(self) -> None:
        if self.name not in STRATEGIES:
            raise UsageError(f"unknown strategy {self.name!r}; allowed: {', '.join(STRATEGIES)}")

    @property
    def random(self) -> bool:
        """Random walks never exhaust the space, so they never prove anything."""
        return self.name in ("simulate", "swarm")


@dataclass(frozen=True)
class Bounds:
    """Where the search stops short; a run that hits one is `incomplete`."""

    max_states: int | None = None
    max_depth: int | None = None  # in states, initial states at depth 1 (as TLC)
    time_limit: float | None = None  # seconds


@dataclass(frozen=True)
class Distribution:
    """Processes that share a BFS (each owns a part of the visited set) or a swarm."""

    workers: int = 1
    backend: str = "local"  # forked local processes, or Ray actors ("ray")
    address: str | None = None  # the Ray cluster; None starts a local Ray

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise UsageError(f"unknown backend {self.backend!r}; allowed: {', '.join(BACKENDS)}")

    @property
    def partitioned(self) -> bool:
        """Whether a BFS runs on workers: several, or one Ray actor asked for by name."""
        return self.workers > 1 or self.backend != "local"


@dataclass(frozen=True)
class Checkpointing:
    """Saving a BFS at level starts, and carrying on from a saved one
    (`checker.search.checkpoint`)."""

    save_to: str | None = None  # directory the checkpoints go to
    every: float = 60.0  # seconds between checkpoints; 0: every level
    resume_from: str | None = None  # directory holding the checkpoint to carry on from

    @property
    def used(self) -> bool:
        return bool(self.save_to or self.resume_from)


@dataclass(frozen=True)
class Storage:
    """How the visited set and the frontier are kept (`checker.store`)."""

    chunk: int = 4096  # successors per batch handed to the fingerprint store
    spill_at: int = 1_000_000  # frontier states kept in memory before spilling to disk
    spill_dir: str | None = None  # where full visited-set runs go as memory-mapped files


@dataclass(frozen=True)
class Options:
    strategy: Strategy = field(default_factory=Strategy)
    bounds: Bounds = field(default_factory=Bounds)
    distribution: Distribution = field(default_factory=Distribution)
    checkpointing: Checkpointing = field(default_factory=Checkpointing)
    storage: Storage = field(default_factory=Storage)
    # Canonicalise states when the model offers `canonical`: True, False, or None for
    # "as the model's spec says" (a model built without a spec: on).
    symmetry: bool | None = None
    properties: Sequence[str] | None = None  # check only these property ids
    # False: no `sometimes` goal is checked, so a vacuous model is not caught. Naming
    # only invariants in `properties` keeps the goals unless this is False.
    goals: bool = True
    progress: Callable[[Progress], None] | None = None
    progress_interval: float = 0.25  # seconds between progress calls
    interrupt: Interrupt | None = None  # Ctrl-C / SIGTERM stop the run as a bound

    def check_combination(self) -> None:
        """Refuse what no strategy supports."""
        if self.distribution.workers > 1 and self.strategy.name not in ("bfs", "swarm"):
            raise UsageError("--workers above 1 needs --strategy bfs or swarm")
        if self.checkpointing.used and self.strategy.name != "bfs":
            raise UsageError("--checkpoint and --resume need --strategy bfs")
