"""The fault layer under every transport: drop, duplicate, delay (so reorder), partition.

`FaultSpec.parse("drop=0.05,dup=0.02,delay=0.01,crash=1")` reads the CLI's --faults;
`FaultPlan` draws each message's fate from its own seeded generator, so a run's faults
replay from the seed. Crashes and restarts are not per-message: the simulator and the
`smrcheck run` driver schedule them (`crash=K` kills K replicas, one at a time, and
restarts each from its durable state). `partition=S` cuts one replica (chosen from the
seed) off from every other node for S seconds of wall-clock time (`isolate`): every
process drops what it would send across the cut, so all agree without talking.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from ...checker.errors import UsageError

KEYS = {"drop": float, "dup": float, "delay": float, "reorder": float, "crash": int,
        "partition": float}


@dataclass(frozen=True)
class FaultSpec:
    drop: float = 0.0     # probability a message is lost
    dup: float = 0.0      # probability a message is delivered twice
    delay: float = 0.0    # extra delay, uniform in [0, delay] seconds
    reorder: float = 0.0  # probability a message is held back by a further 5*delay
    crash: int = 0        # replicas killed and restarted during a run
    partition: float = 0.0  # seconds one replica spends cut off from the others

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        if not text:
            return cls()
        values: dict = {}
        for part in text.split(","):
            name, eq, raw = part.partition("=")
            name = name.strip()
            if name not in KEYS or not eq:
                raise UsageError(f"bad --faults entry {part!r}; allowed: "
                                 + ", ".join(f"{k}=VALUE" for k in KEYS))
            try:
                v = KEYS[name](raw)
            except ValueError:
                raise UsageError(f"bad --faults value {part!r}: expected a "
                                 f"{KEYS[name].__name__}") from None
            if v < 0 or (name in ("drop", "dup", "reorder") and v > 0.5):
                raise UsageError(f"bad --faults value {part!r}: probabilities must lie in "
                                 "[0, 0.5], counts and seconds must be >= 0")
            values[name] = v
        return cls(**values)

    def any_network(self) -> bool:
        return bool(self.drop or self.dup or self.delay or self.reorder)


@dataclass
class FaultPlan:
    spec: FaultSpec
    seed: int | str  # a str seed draws the same on every run (str hashes are salted)
    blocked: set[frozenset[str]] = field(default_factory=set)
    one_way: set[tuple[str, str]] = field(default_factory=set)
    isolated: tuple[str, float, float] | None = None  # (node, from, until) in time.time()

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def cut(self, a: str, b: str) -> None:
        self.blocked.add(frozenset((a, b)))

    def isolate(self, node: str, start: float, seconds: float) -> None:
        self.isolated = (node, start, start + seconds)

    def cut_one_way(self, src: str, dst: str) -> None:
        self.one_way.add((src, dst))

    def heal(self) -> None:
        self.blocked.clear()
        self.one_way.clear()

    def fate(self, src: str, dst: str) -> list[float]:
        """Extra delays of the copies of one message (empty: lost)."""
        if src == dst:
            return [0.0]
        if frozenset((src, dst)) in self.blocked or (src, dst) in self.one_way:
            return []
        if self.isolated is not None and self.isolated[0] in (src, dst) \
                and self.isolated[1] <= time.time() < self.isolated[2]:
            return []
        s, r = self.spec, self.rng
        if s.drop and r.random() < s.drop:
            return []
        copies = 2 if s.dup and r.random() < s.dup else 1
        out = []
        for _ in range(copies):
            d = r.uniform(0, s.delay) if s.delay else 0.0
            if s.reorder and r.random() < s.reorder:
                d += 5 * (s.delay or 0.001)
            out.append(d)
        return out
