"""Who plays which role in a traced run, and which sets of acceptors are quorums.

Paxos Made Simple §2 separates three roles: proposers, acceptors and learners. Many
deployments run them as separate processes, several learners among them; others (our
replicas, most MultiPaxos libraries) run all three in each replica. A trace's header
says which (format 2: `roles`; format 1: every node is a `replica`), and how its
acceptors form quorums (`quorums`, in the words of `-p quorums=` and
`smrcheck quorums`, or as explicit sets of names). Every quorum check over a trace goes
through `Membership.is_quorum`, so a certificate is counted over the acceptors, under
the declared quorum system, never as `len(nodes) // 2 + 1` written by hand.

PBFT (Castro & Liskov 1999) has one role, replica; its default quorum system is the
2f+1 of the paper for format 1 (as before) and n - f (`bft:f=F`) for format 2, the
size whose two quorums share f+1 replicas for any n >= 3f+1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...checker.errors import UsageError
from .quorums import AnyOf, QuorumSystem, Threshold, parse

ROLES = ("proposer", "acceptor", "learner", "replica")


@dataclass(frozen=True)
class Membership:
    """The nodes of a run by role, in header order, and the acceptors' quorum system
    (over acceptor indices 0..len(acceptors)-1)."""

    nodes: tuple[str, ...]
    proposers: tuple[str, ...]
    acceptors: tuple[str, ...]
    learners: tuple[str, ...]
    quorums: QuorumSystem
    index: dict[str, int] = field(default_factory=dict)  # acceptor -> its index

    @property
    def all_replicas(self) -> bool:
        """Every node plays every role (the shape of format 1 and of our replicas)."""
        return self.proposers == self.acceptors == self.learners == self.nodes

    def is_quorum(self, names: Iterable[str], phase: int = 2) -> bool:
        """Whether the acceptors among `names` contain a phase-1 or phase-2 quorum."""
        idx = self.index
        members = frozenset(idx[x] for x in names if x in idx)
        m = self.quorums.phase1 if phase == 1 else self.quorums.phase2
        return m.contains_quorum(members)

    def describe(self, phase: int = 2) -> str:
        """The quorum rule in words, for a violation message."""
        name = self.quorums.name
        n = len(self.acceptors)
        if name == "majority":
            return f"a majority of the {n} acceptors ({n // 2 + 1})"
        return f"a phase-{phase} quorum of the acceptors under {name}"


def _roles(header: Any) -> dict[str, tuple[str, ...]]:
    declared = getattr(header, "roles", None) or {}
    out = {}
    for node in header.nodes:
        got = declared.get(node, ("replica",))
        if isinstance(got, str):
            got = (got,)
        out[node] = tuple(got)
    return out


def _explicit(spec: dict, acceptors: tuple[str, ...]) -> QuorumSystem:
    """Quorums as lists of acceptor names: {"quorums": [...]} or {"phase1", "phase2"}."""
    index = {a: i for i, a in enumerate(acceptors)}
    unknown = set(spec) - {"quorums", "phase1", "phase2"}
    if unknown:
        raise UsageError(f"field quorums: unknown key {sorted(unknown)[0]!r}; allowed: quorums, "
                         "phase1, phase2 (lists of acceptor-name lists)")
    phases = []
    for phase in ("phase1", "phase2"):
        sets = spec.get(phase, spec.get("quorums"))
        if not isinstance(sets, list) or not sets:
            raise UsageError(f"field quorums.{phase}: give `quorums`, or both `phase1` and "
                             "`phase2`, as non-empty lists of acceptor-name lists")
        out = []
        for q in sets:
            if not isinstance(q, list) or not q:
                raise UsageError(f"field quorums.{phase}: each quorum is a non-empty list of "
                                 f"acceptor names, got {q!r}")
            bad = [x for x in q if x not in index]
            if bad:
                raise UsageError(f"field quorums.{phase}: {bad[0]!r} is not an acceptor "
                                 f"(acceptors: {', '.join(acceptors)})")
            out.append(frozenset(index[x] for x in q))
        phases.append(AnyOf(tuple(out)))
    return QuorumSystem("explicit", len(acceptors), 0, False, phases[0], phases[1])


def default_quorums(header: Any, n: int) -> QuorumSystem:
    if header.protocol == "pbft":
        f = header.f
        if getattr(header, "version", 1) == 1:
            q = min(n, 2 * f + 1)  # format 1 counted 2f+1, whatever n
            m = QuorumSystem.flexible(n, q, q).phase1
            return QuorumSystem(f"threshold:q={q}", n, f, True, m, m)
        return QuorumSystem.bft(n, f)
    return QuorumSystem.majority(n)


def membership(header: Any) -> Membership:
    """The membership a header declares; a bad `roles` or `quorums` is a UsageError
    naming the field (the reader turns it into an input error with file and line)."""
    roles = _roles(header)
    for node, rs in roles.items():
        for r in rs:
            if r not in ROLES:
                raise UsageError(f"field roles.{node}: unknown role {r!r}; allowed: "
                                 f"{', '.join(ROLES)}")
        if header.protocol == "pbft" and rs != ("replica",):
            raise UsageError(f"field roles.{node}: a PBFT node is a replica (Castro & Liskov "
                             f"have one role); got {', '.join(rs)}")

    def having(role: str) -> tuple[str, ...]:
        return tuple(x for x in header.nodes if role in roles[x] or "replica" in roles[x])

    proposers, acceptors, learners = having("proposer"), having("acceptor"), having("learner")
    if not acceptors:
        raise UsageError("field roles: no node is an acceptor (role acceptor or replica)")
    spec = getattr(header, "quorums", None)
    if spec is None:
        system = default_quorums(header, len(acceptors))
    elif isinstance(spec, str):
        try:
            system = parse(spec, len(acceptors), header.f)
        except UsageError as err:
            raise UsageError(f"field quorums: {err} (over the {len(acceptors)} acceptors)") from None
    elif isinstance(spec, dict):
        system = _explicit(spec, acceptors)
    else:
        raise UsageError("field quorums: a quorum system's text (majority, threshold:q=2, "
                         "flexible:q1=3,q2=2, grid:rows=2,cols=3, weighted:weights=2/1/1,"
                         "threshold=3) or {\"quorums\": [[names]]}")
    return Membership(tuple(header.nodes), proposers, acceptors, learners, system,
                      {a: i for i, a in enumerate(acceptors)})


def all_logged(header: Any, exempt: frozenset[str] = frozenset()) -> None:
    """A model that takes every replica's steps from its events cannot follow a run
    whose header leaves a replica out of `logged` (it would never send anything in
    it): OutsideModel, so conformance stops with that reason."""
    from ...checker.conformance import OutsideModel

    logged = getattr(header, "logged", None)
    if logged is None:
        return
    missing = [r for r in header.nodes if r not in logged and r not in exempt]
    if missing:
        raise OutsideModel(f"the model follows every replica's steps, and {', '.join(missing)} "
                           "is not logged")


def quorum_overlap_fault(m: Membership, header: Any) -> str | None:
    """Why the declared quorums cannot keep the run safe, or None: a phase-1 quorum and a
    phase-2 quorum that share no acceptor (Paxos Made Simple §2.2: any two majorities
    share one), or for PBFT fewer than f+1 replicas (Castro & Liskov §4.1). Explicit
    sets are enumerated pair by pair; thresholds are settled by arithmetic (equal
    weights) or a subset-sum table (weights, one shared acceptor needed). A system it
    cannot settle cheaply gives None: the run is validated all the same."""
    need = header.f + 1 if header.protocol == "pbft" else 1
    found = _apart(m.quorums.phase1, m.quorums.phase2, len(m.acceptors), need)
    if found is None:
        return None
    a, b = ("{" + ", ".join(m.acceptors[i] for i in sorted(q)) + "}" for q in found)
    name = m.quorums.name
    if need == 1:
        return (f"quorums ({name}) do not intersect: phase-1 quorum {a} and phase-2 quorum {b} "
                "share no acceptor; the run's safety cannot rest on them")
    return (f"quorums ({name}) do not intersect in f+1 = {need} replicas: {a} and {b}; the run's "
            "safety cannot rest on them")


def _apart(p1: Any, p2: Any, n: int, need: int) -> tuple[frozenset[int], frozenset[int]] | None:
    """A phase-1 and a phase-2 quorum sharing fewer than `need` nodes, or None."""
    everyone = frozenset(range(n))
    if isinstance(p1, AnyOf) and isinstance(p2, AnyOf):
        if len(p1.sets) * len(p2.sets) > 1_000_000:
            return None
        for a in p1.sets:
            for b in p2.sets:
                if len(a & b) < need:
                    return a, b
        return None
    if isinstance(p1, AnyOf) or isinstance(p2, AnyOf):
        sets, other, first = (p1, p2, True) if isinstance(p1, AnyOf) else (p2, p1, False)
        if not isinstance(other, Threshold):
            return None
        for s in sets.sets:
            # the other phase's best quorum against s: all of the rest, and the heaviest
            # need-1 members of s
            top = sorted(s, key=lambda i: -other.weights[i])[:need - 1]
            q = (everyone - s) | frozenset(top)
            if other.contains_quorum(q):
                return (s, q) if first else (q, s)
        return None
    if not (isinstance(p1, Threshold) and isinstance(p2, Threshold)):
        return None
    w1, w2 = p1.weights, p2.weights
    if all(x == 1 for x in w1) and all(x == 1 for x in w2):
        q1, q2 = p1.threshold, p2.threshold
        if q1 > n or q2 > n or q1 + q2 - n >= need:
            return None
        return frozenset(range(max(q1, 0))), frozenset(range(n - max(q2, 0), n))
    if need != 1 or w1 != w2 or n > 64:
        return None
    # one shared weight table: a set S with w(S) >= t1 whose complement has w >= t2
    total = sum(w1)
    reach: dict[int, frozenset[int]] = {0: frozenset()}
    for i, w in enumerate(w1):
        for s, members in list(reach.items()):
            if s + w not in reach and s + w <= total:
                reach[s + w] = members | {i}
    for s, members in sorted(reach.items()):
        if s >= p1.threshold and total - s >= p2.threshold:
            return members, everyone - members
    return None
