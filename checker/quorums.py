"""Quorum properties proved with z3: intersection, Byzantine intersection, availability.

Safety of Paxos rests on one fact: every phase-1 quorum meets every phase-2 quorum
(Lamport, Paxos Made Simple §2.2; Howard, Malkhi and Spiegelman's Flexible Paxos
relaxes the single quorum system to that pair). PBFT needs two quorums to share at
least f+1 replicas, so at least one correct one (Castro & Liskov 1999, §4). Liveness
needs a quorum of live nodes whenever at most f fail.

A quorum system (`models.common.quorums`, the vocabulary models and replicas share;
this module adds z3 to it, it never the reverse) is given by two membership predicates
over node sets, each either a weighted threshold (majority, n - f, flexible q1/q2,
weighted voting) or "contains one of these sets" (grids, explicit lists). Both are upward closed, which keeps every
check a single satisfiability query without quantifier alternation:

- intersection: is there a phase-1 set X and a phase-2 set Y with |X ∩ Y| < k? UNSAT
  is a proof; a model is two concrete quorums, shrunk to minimal ones for the report.
- fast intersection (Fast Paxos, Lamport 2006 §3, a system with fast quorums): is
  there a classic quorum Q and fast quorums R1, R2 with Q ∩ R1 ∩ R2 = ∅? The classic
  quorums must also meet each other, which is the intersection check above.
- availability: is there a failure set F with |F| <= f whose complement is not a
  quorum? Since membership is upward closed, "some quorum avoids F" is the same as
  "the complement of F is a quorum".

Membership becomes one 0-1 integer per node with linear (pseudo-boolean) constraints,
so systems far too large to enumerate (n = 100: about 10^29 majorities) are decided in
well under a second.

The symbolic proofs quantify over the parameters instead: inclusion-exclusion gives
|A ∩ B| >= |A| + |B| - n for any two subsets of n nodes, and the intervals
A = [0, a), B = [n - b, n) show that bound is reached; z3 proves the resulting
linear-arithmetic statements for every n, f, q1, q2. Three sets share at least
a + b + c - 2n nodes (apply the bound to A ∩ B and C), which gives Fast Paxos's size
condition c + 2f > 2n for every n, c, f.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import z3

from ..models.common.quorums import Membership, QuorumSystem, Threshold


@dataclass(slots=True)
class Finding:
    """One checked property: holds, or a concrete counterexample."""

    property: str
    holds: bool
    statement: str
    detail: str
    seconds: float
    counterexample: dict[str, list[int]] = field(default_factory=dict)


def _member(m: Membership, xs: Sequence[z3.ArithRef]) -> z3.BoolRef:
    """`xs` (0-1 integers, 1 = in the set) contains a quorum of `m`."""
    if isinstance(m, Threshold):
        return z3.Sum([w * x for x, w in zip(xs, m.weights) if w]) >= m.threshold
    # "All of S" as a sum, so a negated membership is linear too (every S misses a node).
    return z3.Or([z3.Sum([xs[i] for i in sorted(s)]) >= len(s) for s in m.sets])


def _zero_one(prefix: str, n: int, solver: z3.Solver) -> list[z3.ArithRef]:
    # 0-1 integers rather than booleans: the arithmetic solver's linear relaxation then
    # refutes counting arguments (two majorities of 100 that do not meet) at once,
    # where a pure SAT encoding is a pigeonhole problem.
    # The SMT core's arithmetic, not the default QF_LIA pipeline, which bit-blasts 0-1
    # integers back into a SAT problem (see _solver).
    xs = [z3.Int(f"{prefix}_{i}") for i in range(n)]
    solver.add([z3.And(x >= 0, x <= 1) for x in xs])
    return xs


def _solver() -> z3.Solver:
    return z3.Tactic("smt").solver()


def _chosen(model: z3.ModelRef, xs: Sequence[z3.ArithRef]) -> set[int]:
    return {i for i, x in enumerate(xs) if model.eval(x, model_completion=True).as_long() == 1}


def _shrink(m: Membership, nodes: set[int]) -> list[int]:
    """A minimal quorum inside `nodes`: a readable counterexample, not z3's first pick."""
    kept = set(nodes)
    for i in sorted(nodes, reverse=True):
        if m.contains_quorum(frozenset(kept - {i})):
            kept.discard(i)
    return sorted(kept)


def check_intersection(system: QuorumSystem) -> Finding:
    start = time.monotonic()
    k = system.f + 1 if system.byzantine else 1
    solver = _solver()
    xs = _zero_one("p1", system.n, solver)
    ys = _zero_one("p2", system.n, solver)
    both = _zero_one("both", system.n, solver)
    solver.add(_member(system.phase1, xs), _member(system.phase2, ys))
    solver.add([b >= x + y - 1 for b, x, y in zip(both, xs, ys)])
    solver.add(z3.Sum(both) <= k - 1)
    name = "BFT-INTERSECTION" if system.byzantine else "QUORUM-INTERSECTION"
    statement = (
        f"any two quorums share at least f+1 = {k} nodes"
        if system.byzantine
        else "any two classic quorums meet" if system.fast is not None
        else "every phase-1 quorum meets every phase-2 quorum"
    )
    verdict = solver.check()
    seconds = time.monotonic() - start
    if verdict == z3.unsat:
        return Finding(name, True, statement, "proved (no two quorums violate it)", seconds)
    if verdict != z3.sat:
        return Finding(name, False, statement, f"z3 answered {verdict}", seconds)
    model = solver.model()
    q1 = _shrink(system.phase1, _chosen(model, xs))
    # Shrinking Y only removes shared nodes, so the pair still violates the bound.
    q2 = _shrink(system.phase2, _chosen(model, ys))
    shared = sorted(set(q1) & set(q2))
    detail = f"quorums {q1} and {q2} share {len(shared)} node(s) {shared}, need {k}"
    return Finding(name, False, statement, detail, seconds,
                   {"quorum1": q1, "quorum2": q2, "shared": shared})


def check_fast_intersection(system: QuorumSystem) -> Finding:
    """Fast Paxos's Quorum Requirement (b): any classic quorum and any two fast quorums
    have a common acceptor (Lamport 2006 §3). Its part (a), two classic quorums meet,
    is `check_intersection`."""
    if system.fast is None:
        raise ValueError(f"quorum system {system.name} has no fast quorums")
    start = time.monotonic()
    solver = _solver()
    qs = _zero_one("classic", system.n, solver)
    r1 = _zero_one("fast1", system.n, solver)
    r2 = _zero_one("fast2", system.n, solver)
    common = _zero_one("common", system.n, solver)
    solver.add(_member(system.phase1, qs), _member(system.fast, r1), _member(system.fast, r2))
    solver.add([c >= q + a + b - 2 for c, q, a, b in zip(common, qs, r1, r2)])
    solver.add(z3.Sum(common) <= 0)
    statement = "every classic quorum and any two fast quorums share a node"
    verdict = solver.check()
    seconds = time.monotonic() - start
    if verdict == z3.unsat:
        return Finding("FAST-INTERSECTION", True, statement,
                       "proved (no classic and two fast quorums violate it)", seconds)
    if verdict != z3.sat:
        return Finding("FAST-INTERSECTION", False, statement, f"z3 answered {verdict}", seconds)
    model = solver.model()
    # Shrinking removes nodes, so the three still share none.
    q = _shrink(system.phase1, _chosen(model, qs))
    a = _shrink(system.fast, _chosen(model, r1))
    b = _shrink(system.fast, _chosen(model, r2))
    detail = f"classic quorum {q} and fast quorums {a} and {b} share no node"
    return Finding("FAST-INTERSECTION", False, statement, detail, seconds,
                   {"classic": q, "fast1": a, "fast2": b})


def _unavailable(system: QuorumSystem, phase: Membership, f: int) -> list[int] | None:
    """A failure set of at most f nodes that leaves no live quorum, or None."""
    solver = _solver()
    failed = _zero_one("failed", system.n, solver)
    solver.add(z3.Sum(failed) <= f)
    solver.add(z3.Not(_member(phase, [1 - x for x in failed])))
    if solver.check() != z3.sat:
        return None
    return sorted(_chosen(solver.model(), failed))


def max_failures(system: QuorumSystem, phase: Membership) -> int:
    """The most failures after which a quorum of live nodes always remains (-1: none)."""
    if _unavailable(system, phase, 0) is not None:
        return -1
    lo, hi = 0, system.n + 1  # tolerates lo failures; not hi (n+1 is beyond any system)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _unavailable(system, phase, mid) is None:
            lo = mid
        else:
            hi = mid
    return lo


def check_availability(system: QuorumSystem) -> list[Finding]:
    out = []
    phases = [("1", system.phase1), ("2", system.phase2)]
    if system.phase1 == system.phase2:
        phases = [("", system.phase1)]
    if system.fast is not None:
        phases.append(("FAST", system.fast))
    for label, phase in phases:
        start = time.monotonic()
        failed = _unavailable(system, phase, system.f)
        tolerated = max_failures(system, phase)
        name = f"AVAILABLE-P{label}" if label.isdigit() else (
            f"AVAILABLE-{label}" if label else "AVAILABLE")
        what = (f"phase-{label} quorum" if label.isdigit()
                else "fast quorum" if label else "quorum")
        statement = f"a {what} of live nodes remains after any {system.f} failures"
        seconds = time.monotonic() - start
        if failed is None:
            out.append(Finding(name, True, statement,
                               f"proved; tolerates up to {tolerated} failures", seconds))
        else:
            out.append(Finding(name, False, statement,
                               f"failing {failed} leaves no live {what}; tolerates "
                               f"only {max(tolerated, 0)}", seconds, {"failed": failed}))
    return out


def check_safety(system: QuorumSystem) -> list[Finding]:
    """The intersection properties the system's protocol needs: Paxos's, and for a
    Fast Paxos system also the classic-and-two-fast one."""
    out = [check_intersection(system)]
    if system.fast is not None:
        out.append(check_fast_intersection(system))
    return out


def check_system(system: QuorumSystem) -> list[Finding]:
    return [*check_safety(system), *check_availability(system)]


# -- symbolic proofs over parameters ------------------------------------------------


def _prove(name: str, statement: str, claim: z3.BoolRef) -> Finding:
    start = time.monotonic()
    solver = z3.Solver()
    solver.add(z3.Not(claim))
    verdict = solver.check()
    seconds = time.monotonic() - start
    if verdict == z3.unsat:
        return Finding(name, True, statement, "proved for all parameter values", seconds)
    detail = f"z3 answered {verdict}"
    if verdict == z3.sat:
        detail = f"counterexample: {solver.model()}"
    return Finding(name, False, statement, detail, seconds)


def _min_overlap(a, b, n):
    """The least |A ∩ B| over subsets of sizes a, b of n nodes: max(0, a + b - n).

    Lower bound by inclusion-exclusion (|A ∪ B| <= n); reached by the intervals
    A = [0, a) and B = [n - b, n).
    """
    return z3.If(a + b - n > 0, a + b - n, 0)


def overlap_at_least(a, b, total, k) -> z3.BoolRef:
    """Any subsets of sizes a and b of `total` nodes share >= k: every overlap i that
    inclusion-exclusion allows (|A ∪ B| = a + b - i <= total) is >= k."""
    i = z3.Int("overlap")
    return z3.ForAll([i], z3.Implies(z3.And(i >= 0, i <= a, i <= b, a + b - i <= total), i >= k))


def overlap3_at_least(a, b, c, total, k) -> z3.BoolRef:
    """Any subsets of sizes a, b and c of `total` nodes share >= k: the two-set bound
    applied twice, to A and B (overlap i) and then to A ∩ B and C (overlap j)."""
    i, j = z3.Ints("overlap_ab overlap_abc")
    return z3.ForAll([i, j], z3.Implies(
        z3.And(i >= 0, i <= a, i <= b, a + b - i <= total,
               j >= 0, j <= i, j <= c, i + c - j <= total),
        j >= k))


def _min_overlap3(a, b, c, n):
    """The least |A ∩ B ∩ C| over subsets of sizes a, b, c of n nodes:
    max(0, a + b + c - 2n), reached by A = [0, a), B = [n - b, n) and C placed to
    avoid A ∩ B as far as it can."""
    return z3.If(a + b + c - 2 * n > 0, a + b + c - 2 * n, 0)


def prove(name: str, statement: str, claim: z3.BoolRef) -> Finding:
    return _prove(name, statement, claim)


def symbolic_proofs() -> list[Finding]:
    n, f, q1, q2 = z3.Ints("n f q1 q2")
    majority = n / 2 + 1
    return [
        _prove(
            "SYM-MAJORITY",
            "for all n >= 1, any two majorities (n div 2 + 1 nodes) intersect",
            z3.ForAll([n], z3.Implies(n >= 1, overlap_at_least(majority, majority, n, 1))),
        ),
        _prove(
            "SYM-BFT-3F+1",
            "for all f >= 1, with n = 3f+1 any two quorums of 2f+1 share >= f+1 nodes",
            z3.ForAll([f], z3.Implies(
                f >= 1, overlap_at_least(2 * f + 1, 2 * f + 1, 3 * f + 1, f + 1))),
        ),
        _prove(
            "SYM-BFT-BOUND",
            "for all f >= 0 and n > 2f, two (n-f)-quorums always share >= f+1 nodes "
            "exactly when n >= 3f+1",
            z3.ForAll([n, f], z3.Implies(
                z3.And(f >= 0, n > 2 * f),
                z3.And(
                    (n >= 3 * f + 1) == (_min_overlap(n - f, n - f, n) >= f + 1),
                    overlap_at_least(n - f, n - f, n, _min_overlap(n - f, n - f, n)),
                ))),
        ),
        _prove(
            "SYM-FLEXIBLE",
            "for all 1 <= q1, q2 <= n, every q1-set meets every q2-set exactly when "
            "q1 + q2 > n (Flexible Paxos)",
            z3.ForAll([n, q1, q2], z3.Implies(
                z3.And(q1 >= 1, q2 >= 1, q1 <= n, q2 <= n),
                z3.And(
                    (q1 + q2 > n) == (_min_overlap(q1, q2, n) >= 1),
                    overlap_at_least(q1, q2, n, _min_overlap(q1, q2, n)),
                ))),
        ),
    ]


def fast_proofs() -> list[Finding]:
    """Fast Paxos's quorum sizes, from its Quorum Requirement (Lamport 2006 §3): with
    classic quorums of c and fast quorums of f acceptors (tolerating E = n - c and
    F = n - f failures) it is 2c > n and c + 2f > 2n, i.e. n > 2E and n > 2F + E."""
    n, c, f, q = z3.Ints("n c f q")
    sizes = z3.And(c >= 1, f >= 1, c <= n, f <= n)
    majority = n / 2 + 1
    return [
        _prove(
            "SYM-FAST",
            "for all 1 <= c, f <= n, classic c-sets meet pairwise and every c-set and two "
            "f-sets share a node exactly when 2c > n and c + 2f > 2n (Fast Paxos)",
            z3.ForAll([n, c, f], z3.Implies(sizes, z3.And(
                (z3.And(2 * c > n, c + 2 * f > 2 * n))
                == z3.And(_min_overlap(c, c, n) >= 1, _min_overlap3(c, f, f, n) >= 1),
                overlap_at_least(c, c, n, _min_overlap(c, c, n)),
                overlap3_at_least(c, f, f, n, _min_overlap3(c, f, f, n)),
            ))),
        ),
        _prove(
            "SYM-FAST-3N/4",
            "for all n >= 1, with majority classic quorums (n div 2 + 1) fast quorums of "
            "f acceptors are safe exactly when f >= ceil(3n/4)",
            z3.ForAll([n, f], z3.Implies(z3.And(n >= 1, f >= 1, f <= n),
                                         (majority + 2 * f > 2 * n) == (4 * f >= 3 * n))),
        ),
        _prove(
            "SYM-FAST-EQUAL",
            "for all n >= 1, with classic and fast quorums of one size q the requirement "
            "holds exactly when 3q > 2n (more than two thirds)",
            z3.ForAll([n, q], z3.Implies(z3.And(n >= 1, q >= 1, q <= n),
                                         z3.And(2 * q > n, q + 2 * q > 2 * n)
                                         == (3 * q > 2 * n))),
        ),
    ]
