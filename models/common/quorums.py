"""Quorum systems shared by the models and the replicas.

Paxos needs any phase-1 quorum to meet any phase-2 quorum (Lamport, Paxos Made Simple
§2.2); Flexible Paxos (Howard, Malkhi, Spiegelman 2016) shows the two phases may use
different quorums as long as they do. PBFT needs any two quorums to share f+1
replicas (Castro & Liskov 1999). A `QuorumSystem` states both phases' membership as a
weighted threshold or as "contains one of these sets", the form `checker.quorums`
proves properties of with z3 for any n; models enumerate its *minimal* quorums, since
a superset of a quorum adds nothing as an enabling condition ("some quorum answered"
holds iff some minimal quorum did). Nodes are ints 0..n-1, so quorums can sit inside
hashed model states.

The text form used by `-p quorums=...` and by `smrcheck quorums`:
`majority`, `bft:f=1`, `flexible:q1=3,q2=2`, `grid:rows=2,cols=3`,
`weighted:weights=2/1/1,threshold=3`, `threshold:q=2` (every q nodes), and for models
with fast rounds only (`parse(..., fast=True)`) `fast:classic=3,fast=3`.

Fast Paxos (Lamport, "Fast Paxos", Distributed Computing 19(2), 2006, §3) has two
kinds of quorums: classic quorums, used by classic rounds (and, in models/fastpaxos,
by phase 1 of every round), and fast quorums, which choose a value in a fast round.
Its Quorum Requirement, for phase-1 quorums that are classic, is that any two classic
quorums meet and that any classic quorum and any two fast quorums have an acceptor in
common. With sizes over n acceptors that is 2c > n and
c + 2f > 2n; the defaults are the well-known majority classic quorums and fast quorums
of ceil(3n/4) acceptors, the smallest that meet a majority's requirement.

Every replica process loads this module (impl/*/replica.py), so it imports neither z3
(the prover, `checker.quorums`, imports this vocabulary, never the reverse) nor
pydantic (the JSON file of explicit quorums is read in `quorum_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from ...checker.errors import UsageError


@dataclass(frozen=True, slots=True)
class Threshold:
    """A set is a quorum when its members' weights add up to at least `threshold`."""

    weights: tuple[int, ...]
    threshold: int

    def contains_quorum(self, nodes: frozenset[int]) -> bool:
        return sum(self.weights[i] for i in nodes) >= self.threshold


@dataclass(frozen=True, slots=True)
class AnyOf:
    """A set is a quorum when it contains one of `sets` (rows of a grid, a list)."""

    sets: tuple[frozenset[int], ...]

    def contains_quorum(self, nodes: frozenset[int]) -> bool:
        return any(s <= nodes for s in self.sets)


# Both forms are upward closed (a superset of a quorum is a quorum), which the models'
# minimal quorums and the prover's single satisfiability queries rely on.
Membership = Threshold | AnyOf


def threshold(n: int, size: int) -> tuple[tuple[int, ...], ...]:
    """Every set of exactly `size` of the nodes 0..n-1, in lexicographic order."""
    if not 0 < size <= n:
        raise ValueError(f"quorum size must be in 1..{n}, got {size}")
    return tuple(combinations(range(n), size))


def majority(n: int) -> tuple[tuple[int, ...], ...]:
    """Minimal majorities: any two share a node because 2(n//2 + 1) > n."""
    return threshold(n, n // 2 + 1)


@dataclass(frozen=True, slots=True)
class QuorumSystem:
    name: str  # the text form it was built from
    n: int
    f: int  # failures it is meant to tolerate
    byzantine: bool  # quorums must share f+1 nodes, not just one
    phase1: Membership
    phase2: Membership
    # Fast Paxos's fast quorums; phase1 and phase2 are then its classic quorums.
    fast: Membership | None = None

    # -- the systems -------------------------------------------------------------

    @classmethod
    def majority(cls, n: int) -> QuorumSystem:
        m = Threshold((1,) * n, n // 2 + 1)
        return cls("majority", n, (n - 1) // 2, False, m, m)

    @classmethod
    def bft(cls, n: int, f: int) -> QuorumSystem:
        m = Threshold((1,) * n, n - f)
        return cls(f"bft:f={f}", n, f, True, m, m)

    @classmethod
    def flexible(cls, n: int, q1: int, q2: int) -> QuorumSystem:
        return cls(f"flexible:q1={q1},q2={q2}", n, n - max(q1, q2), False,
                   Threshold((1,) * n, q1), Threshold((1,) * n, q2))

    @classmethod
    def grid(cls, rows: int, cols: int) -> QuorumSystem:
        """Nodes r*cols + c; phase-1 quorums are rows, phase-2 quorums columns."""
        row_sets = tuple(frozenset(r * cols + c for c in range(cols)) for r in range(rows))
        col_sets = tuple(frozenset(r * cols + c for r in range(rows)) for c in range(cols))
        return cls(f"grid:rows={rows},cols={cols}", rows * cols, min(rows, cols) - 1, False,
                   AnyOf(row_sets), AnyOf(col_sets))

    @classmethod
    def fast_paxos(cls, n: int, classic: int, fast: int) -> QuorumSystem:
        """Classic quorums of `classic` acceptors (both phases of a classic round, and
        phase 1 of every round) and fast quorums of `fast` acceptors."""
        m = Threshold((1,) * n, classic)
        return cls(f"fast:classic={classic},fast={fast}", n, n - max(classic, fast), False,
                   m, m, Threshold((1,) * n, fast))

    @classmethod
    def weighted(cls, weights: tuple[int, ...], threshold: int, f: int = 0) -> QuorumSystem:
        m = Threshold(tuple(weights), threshold)
        name = f"weighted:weights={'/'.join(map(str, weights))},threshold={threshold}"
        return cls(name, len(weights), f, False, m, m)

    @classmethod
    def explicit(cls, n: int, quorums: list[list[int]], f: int = 0,
                 byzantine: bool = False) -> QuorumSystem:
        m = AnyOf(tuple(frozenset(q) for q in quorums))
        return cls("explicit", n, f, byzantine, m, m)

    # -- what the models use -----------------------------------------------------

    def minimal_quorums(self, phase: int) -> tuple[tuple[int, ...], ...]:
        """The inclusion-minimal quorums of phase 1 or 2, smallest first."""
        return self._minimal(self.phase1 if phase == 1 else self.phase2)

    def minimal_fast_quorums(self) -> tuple[tuple[int, ...], ...]:
        """The inclusion-minimal fast quorums, smallest first (a Fast Paxos system)."""
        if self.fast is None:
            raise ValueError(f"quorum system {self.name} has no fast quorums")
        return self._minimal(self.fast)

    def _minimal(self, m: Membership) -> tuple[tuple[int, ...], ...]:
        if isinstance(m, AnyOf):
            sets = set(m.sets)
            return tuple(sorted((tuple(sorted(s)) for s in sets
                                 if not any(o < s for o in sets)), key=lambda q: (len(q), q)))
        found: list[tuple[int, ...]] = []
        for size in range(1, self.n + 1):
            for q in combinations(range(self.n), size):
                if m.contains_quorum(frozenset(q)) and not any(set(p) <= set(q) for p in found):
                    found.append(q)
        return tuple(found)


def parse(text: str, n: int, f: int | None = None, *, fast: bool = False) -> QuorumSystem:
    """A quorum system from its text form, for n nodes; bad text is a UsageError.

    `fast`: the caller has fast rounds (Fast Paxos), so `fast:...` is allowed; a model
    without them would silently ignore the fast quorums, so it is refused there."""
    kind, _, rest = text.partition(":")
    if kind == "fast":
        if not fast:
            raise UsageError(f"quorum system {text!r} has fast quorums, which only a model "
                             f"with fast rounds uses (fastpaxos); allowed here: "
                             f"{', '.join(EXAMPLES.values())}")
        return _parse_fast(text, rest, n)
    fields: dict[str, str] = {}
    for part in filter(None, rest.split(",")):
        key, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"quorum system {text!r}: expected KEY=VALUE, got {part!r}")
        fields[key.strip()] = value.strip()

    def num(key: str) -> int:
        if key not in fields:
            raise UsageError(f"quorum system {kind} needs {key}=N (e.g. {EXAMPLES[kind]})")
        try:
            return int(fields[key])
        except ValueError:
            raise UsageError(f"quorum system {kind}: {key} must be an integer, got {fields[key]!r}") from None

    allowed_keys = {"majority": set(), "bft": {"f"}, "flexible": {"q1", "q2"},
                    "grid": {"rows", "cols"}, "weighted": {"weights", "threshold"},
                    "threshold": {"q"}}
    if kind not in allowed_keys:
        raise UsageError(f"unknown quorum system {kind!r}; allowed: {', '.join(EXAMPLES.values())}")
    extra = set(fields) - allowed_keys[kind]
    if extra:
        raise UsageError(f"quorum system {kind} takes {', '.join(sorted(allowed_keys[kind])) or 'no fields'}; "
                         f"got {', '.join(sorted(extra))}")
    if kind == "majority":
        return QuorumSystem.majority(n)
    if kind == "bft":
        return QuorumSystem.bft(n, num("f"))
    if kind == "threshold":
        q = num("q")
        _in_range("q", q, n)
        return QuorumSystem.flexible(n, q, q)
    if kind == "flexible":
        q1, q2 = num("q1"), num("q2")
        _in_range("q1", q1, n)
        _in_range("q2", q2, n)
        return QuorumSystem.flexible(n, q1, q2)
    if kind == "grid":
        rows, cols = num("rows"), num("cols")
        if rows * cols != n or rows < 1:
            raise UsageError(f"quorum system grid:rows={rows},cols={cols} has {rows * cols} nodes; the model has {n}")
        return QuorumSystem.grid(rows, cols)
    try:
        weights = tuple(int(w) for w in fields.get("weights", "").split("/"))
    except ValueError:
        raise UsageError(f"quorum system weighted: weights must be integers joined by '/', got {fields.get('weights')!r}") from None
    if len(weights) != n or any(w < 0 for w in weights):
        raise UsageError(f"quorum system weighted needs {n} non-negative weights, got {len(weights)}")
    return QuorumSystem.weighted(weights, num("threshold"), f or 0)


def _parse_fast(text: str, rest: str, n: int) -> QuorumSystem:
    """`fast`, or `fast:classic=C,fast=F` with either size left at its default
    (majority; ceil(3n/4))."""
    sizes = {"classic": n // 2 + 1, "fast": -(-3 * n // 4)}
    for part in filter(None, rest.split(",")):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in sizes:
            raise UsageError(f"quorum system {text!r}: expected classic=N and/or fast=N "
                             f"(e.g. {FAST_EXAMPLE}), got {part!r}")
        try:
            sizes[key] = int(value)
        except ValueError:
            raise UsageError(f"quorum system fast: {key} must be an integer, got {value.strip()!r}") from None
        _in_range(key, sizes[key], n)
    return QuorumSystem.fast_paxos(n, sizes["classic"], sizes["fast"])


def _in_range(key: str, value: int, n: int) -> None:
    if not 1 <= value <= n:
        raise UsageError(f"quorum size {key} must be in 1..{n}, got {value}")


EXAMPLES = {"majority": "majority", "bft": "bft:f=1", "flexible": "flexible:q1=3,q2=2",
            "grid": "grid:rows=2,cols=3", "weighted": "weighted:weights=2/1/1,threshold=3",
            "threshold": "threshold:q=2"}
# Not in EXAMPLES: those are the systems every crash-tolerant model takes.
FAST_EXAMPLE = "fast:classic=3,fast=3"
