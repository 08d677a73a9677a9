"""Paxos.tla's safety for every number of acceptors, values and ballots: an inductive
invariant in a decidable fragment, for `smrcheck prove paxos`.

Lamport's Paxos.tla (tlaplus/Examples) states an invariant `Inv` (TypeOK, Inv!2, Inv!3
and Voting's VotesSafe and OneValuePerBallot) as a first attempt at the inductive
invariant of its refinement proof; the specifications' README records that
Jean-Baptiste Tristan, writing the TLAPS proof, found it an invariant but not
inductive. The invariant here keeps Paxos.tla's conjuncts and adds what induction
needs: PAXOS-1B-COVERS (a 1b's report covers every vote its sender cast below its
ballot), PAXOS-VOTE-HAS-2A, and two conjuncts that make the relations below describe
functions. PAXOS-2A-SAFE is Paxos Made Simple's P2b ("if a value is chosen, every
higher-numbered proposal has that value") in its inductive form. z3 checks it with
no proof hints: Init => C, and Inv /\\ A => C' for every action A and every conjunct C
(one query each, so that a failure names both), then Inv => VotesSafe and
Inv => Agreement. The technique is from Padon, Losa, Sagiv and Shoham, "Paxos made
EPR: decidable reasoning about distributed protocols" (OOPSLA 2017). Every query stays
in EPR, where satisfiability is decidable and a counterexample is a finite structure.

The fragment. Sorts are uninterpreted: Acceptor, Ballot (totally ordered by `le`, with
`none` = Paxos.tla's -1 below every ballot), Value (with `vnone` = None), and two
quorum sorts Quorum1/Quorum2 with membership relations and the one axiom Flexible Paxos
needs: every phase-1 quorum meets every phase-2 quorum (Paxos.tla's majorities are the
case Quorum1 = Quorum2). There are no function symbols. The only existentials under
a universal are the intersection axiom (Quorum1 x Quorum2 -> Acceptor) and the
"no other value is choosable" conjunct PAXOS-2A-SAFE (Ballot, Value, Quorum2 ->
Acceptor); Acceptor has no outgoing edge, so the quantifier alternation graph has no
cycle and every query is in EPR (Skolemisation introduces only finitely many ground
terms; a test reads the graph off every query's z3 terms and checks it). The state's
functions to ballots would break that (maxBal: Acceptor -> Ballot closes the cycle
Ballot -> Acceptor -> Ballot), so each is kept as relations, as Padon et al. do with
`left_rnd`:

- maxBal[a] as `promised(a, r)` (r <= maxBal[a]) and `left(a, r)` (r < maxBal[a]);
- maxVBal[a] as `vbal(a, r)` (r = maxVBal[a]) and `vle(a, r)` (r <= maxVBal[a]);
  maxVal[a] as `vval(a, v)`;
- msgs as `msg1a(b)`, `msg1b(a, b, mbal, mval)`, `msg2a(b, v)`, `msg2b(a, b, v)`
  (Paxos.tla's `votes` are the 2b messages);
- two relations derived from msgs, so that Phase2a's "every acceptor of Q sent a 1b"
  needs no existential: `sent1b(a, b)` (a sent a 1b for b) and `covers(a, b, r)`
  (a's 1b for b reports a vote in a ballot >= r).

Derived and written twice. `abstraction` maps a `PaxosState` to these relations; the
actions below are written a second time as guards and updates over them, reading the
same `Rules` switches as actions.py, so a mutant's formulas differ as its Python does.
That second copy is tested, not trusted: tests/models/test_paxos_proof.py evaluates
the same formulas (the `Finite` interpretation of the one `Logic` they are written
in) on every reachable state of a small instance, and checks that an action's guard
holds exactly where `enabled_actions` lists it and that its update is exactly the
abstraction of `next_state`'s successor; and that every conjunct holds in every
reachable state. The conjuncts are written once, here: PAXOS-INV2, PAXOS-INV3-1B and
PAXOS-ONE-VALUE-PER-BALLOT say on every reachable state what the properties of the
same name in invariants.py say (a test compares them, on the mutants' states too),
and PAXOS-AGREEMENT what PAXOS-AGREEMENT says; PAXOS-ONE-2A is the second half of
PAXOS-INV3-2A. PAXOS-2A-SAFE and PAXOS-VOTES-SAFE are the EPR form of ShowsSafeAt and
VotesSafe ("for every phase-2 quorum some member has left ballot r without voting v
there", Padon et al.'s `choosable`), which invariants.py checks in Voting's form (a
quorum exists that voted v or cannot vote); VOTES-SAFE follows from 2A-SAFE and
VOTE-HAS-2A, so it is checked as a consequence of Inv, like agreement, which keeps it
out of every query's hypotheses. The remaining conjuncts (PAXOS-MAXBAL, -MAXVBAL,
-1B-COVERS, -VOTE-HAS-2A) are what Paxos.tla gets from its functions and its TLAPS
proof's lemmas; each is needed (a test drops each and gets a CTI).

Size: one encoding in one file (its two interpretations, the actions, the invariant,
the queries, and reading z3's model back in the model's vocabulary), because each
part is written against the relation names and sorts the others fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from types import SimpleNamespace
from typing import Any, Callable

import z3

from ...checker.model import TlaSet
from ..common.ids import NONE, acceptor_name, node_set, value_name
from .mutants import Rules, rules_for
from .state import T1A, T1B, T2A, T2B, PaxosState, describe

SORTS = ("A", "B", "V", "Q1", "Q2")
# The state: relation name -> argument sorts.
RELATIONS = {
    "promised": ("A", "B"), "left": ("A", "B"),
    "vbal": ("A", "B"), "vle": ("A", "B"), "vval": ("A", "V"),
    "msg1a": ("B",), "msg1b": ("A", "B", "B", "V"), "msg2a": ("B", "V"),
    "msg2b": ("A", "B", "V"), "sent1b": ("A", "B"), "covers": ("A", "B", "B"),
}


class Z3Logic:
    """The formulas as z3 terms over uninterpreted sorts."""

    def __init__(self, sorts=SORTS, relations=None) -> None:
        # Another protocol's encoding (models/multipaxos/proof.py) passes its own.
        self.sorts = {s: z3.DeclareSort(s) for s in sorts}
        self.relations = RELATIONS if relations is None else relations
        self._fresh = 0

    def _vars(self, sorts):
        self._fresh += 1
        return [z3.Const(f"{s.lower()}_{self._fresh}_{i}", self.sorts[s])
                for i, s in enumerate(sorts)]

    def forall(self, sorts, body):
        xs = self._vars(sorts)
        return z3.ForAll(xs, body(*xs))

    def exists(self, sorts, body):
        xs = self._vars(sorts)
        return z3.Exists(xs, body(*xs))

    def and_(self, *xs):
        return z3.And(*xs)

    def or_(self, *xs):
        return z3.Or(*xs)

    def not_(self, x):
        return z3.Not(x)

    def implies(self, a, b):
        return z3.Implies(a, b() if callable(b) else b)

    def eq(self, x, y):
        return x == y

    def ite(self, c, t, e):
        return z3.If(c, t, e)

    def const(self, name, sort):
        return z3.Const(name, self.sorts[sort])

    def symbols(self, prime: str = "") -> SimpleNamespace:
        """A state of uninterpreted relations, with the static symbols."""
        s = self.sorts
        rels = {name: z3.Function(name + prime, *(s[x] for x in sig), z3.BoolSort())
                for name, sig in self.relations.items()}
        rels.update(le=z3.Function("le", s["B"], s["B"], z3.BoolSort()),
                    m1=z3.Function("member1", s["A"], s["Q1"], z3.BoolSort()),
                    m2=z3.Function("member2", s["A"], s["Q2"], z3.BoolSort()))
        return SimpleNamespace(**rels, none=z3.Const("none", s["B"]),
                               vnone=z3.Const("vnone", s["V"]))


class Finite:
    """The same formulas evaluated on one finite structure: sorts are lists of ints
    (ballot and value -1 are `none` and `vnone`), relations sets of tuples."""

    def __init__(self, domains: dict[str, list[int]], relations=None) -> None:
        self.domains = domains
        self.relations = RELATIONS if relations is None else relations

    def forall(self, sorts, body):
        return all(body(*xs) for xs in product(*(self.domains[s] for s in sorts)))

    def exists(self, sorts, body):
        return any(body(*xs) for xs in product(*(self.domains[s] for s in sorts)))

    def and_(self, *xs):
        return all(xs)

    def or_(self, *xs):
        return any(xs)

    def not_(self, x):
        return not x

    def implies(self, a, b):
        """`b` may be a thunk, evaluated only where `a` holds."""
        return (not a) or (b() if callable(b) else b)

    def eq(self, x, y):
        return x == y

    def ite(self, c, t, e):
        return t if c else e

    def structure(self, relations: dict[str, set], m1: set, m2: set) -> SimpleNamespace:
        def holds(rel):
            return lambda *xs: xs in rel
        return SimpleNamespace(**{k: holds(v) for k, v in relations.items()},
                               le=lambda x, y: x <= y, m1=holds(m1), m2=holds(m2),
                               none=NONE, vnone=NONE)

    def extension(self, s: SimpleNamespace) -> dict[str, set]:
        """Every relation of `s` as the set of tuples where it holds."""
        return {name: {xs for xs in product(*(self.domains[x] for x in sig))
                       if getattr(s, name)(*xs)}
                for name, sig in self.relations.items()}


# -- the static theory ------------------------------------------------------------------


def axioms(L, S, rules: Rules) -> list:
    out = [
        L.forall("B", lambda x: S.le(x, x)),
        L.forall("BBB", lambda x, y, z: L.implies(L.and_(S.le(x, y), S.le(y, z)), S.le(x, z))),
        L.forall("BB", lambda x, y: L.implies(L.and_(S.le(x, y), S.le(y, x)), L.eq(x, y))),
        L.forall("BB", lambda x, y: L.or_(S.le(x, y), S.le(y, x))),
        L.forall("B", lambda x: S.le(S.none, x)),
    ]
    if rules.majority_quorums:
        # The whole of the quorum system the proof uses; `smrcheck quorums` proves it
        # for the concrete systems (majority: 2 * (n // 2 + 1) > n; flexible: q1 + q2 > n).
        out.append(L.forall(("Q1", "Q2"), lambda q1, q2: L.exists(
            "A", lambda a: L.and_(S.m1(a, q1), S.m2(a, q2)))))
    return out


def _lt(L, S):
    return lambda x, y: L.and_(S.le(x, y), L.not_(L.eq(x, y)))


def initial(L, S) -> SimpleNamespace:
    """Init: maxBal = maxVBal = -1, maxVal = None, no message."""
    false = lambda *xs: L.or_()  # noqa: E731 - an empty disjunction is false in both logics
    return SimpleNamespace(**{
        **vars(S), "msg1a": false, "msg1b": false, "msg2a": false, "msg2b": false,
        "sent1b": false, "covers": false, "left": false,
        "promised": lambda a, r: L.eq(r, S.none), "vbal": lambda a, r: L.eq(r, S.none),
        "vle": lambda a, r: L.eq(r, S.none), "vval": lambda a, v: L.eq(v, S.vnone)})


# -- the actions: guard and update, reading the mutant's Rules as actions.py does -------


@dataclass(frozen=True)
class Action:
    name: str
    params: tuple[tuple[str, str], ...]  # (name, sort): the action's arguments
    witnesses: tuple[tuple[str, str], ...]  # existential witnesses of the guard
    guard: Callable
    update: Callable


def _promise(L, S, a, b):
    """maxBal[a] := b, as the two relations."""
    lt = _lt(L, S)
    return {"promised": lambda x, r: L.ite(L.eq(x, a), S.le(r, b), S.promised(x, r)),
            "left": lambda x, r: L.ite(L.eq(x, a), lt(r, b), S.left(x, r))}


# Phase1a and Phase1b's guard name no slot: MultiPaxos's phase 1 (one prepare for every
# slot, maxBal per acceptor) is these same formulas.


def phase1a_guard(L, S, p):
    return L.not_(L.eq(p["b"], S.none))


def phase1a(L, S, p):
    return {"msg1a": lambda x: L.or_(S.msg1a(x), L.eq(x, p["b"]))}


def phase1b_guard(L, S, p):  # on a 1a with bal > maxBal[a]
    return L.and_(S.msg1a(p["b"]), L.not_(S.promised(p["a"], p["b"])))


def actions(rules: Rules) -> list[Action]:
    def phase1b(L, S, p):
        a, b = p["a"], p["b"]
        if rules.report_last_vote:
            report = lambda rm, vm: L.and_(S.vbal(a, rm), S.vval(a, vm))  # noqa: E731
            covered = lambda r: L.and_(S.vle(a, r), L.not_(S.vbal(a, S.none)))  # noqa: E731
        else:  # the mutant reports <<maxBal[a], maxVal[a]>>
            report = lambda rm, vm: L.and_(S.promised(a, rm), L.not_(S.left(a, rm)),  # noqa: E731
                                           S.vval(a, vm))
            covered = lambda r: L.and_(S.promised(a, r), S.left(a, S.none))  # noqa: E731
        here = lambda x, y: L.and_(L.eq(x, a), L.eq(y, b))  # noqa: E731
        return {**_promise(L, S, a, b),
                "msg1b": lambda x, y, rm, vm: L.or_(S.msg1b(x, y, rm, vm),
                                                    L.and_(here(x, y), report(rm, vm))),
                "sent1b": lambda x, y: L.or_(S.sent1b(x, y), here(x, y)),
                "covers": lambda x, y, r: L.or_(S.covers(x, y, r),
                                                L.and_(here(x, y), covered(r)))}

    def phase2a_guard(L, S, p):
        b, v, q, a0, r0 = p["b"], p["v"], p["q"], p["a0"], p["r0"]
        parts = [L.not_(L.eq(b, S.none)), L.not_(L.eq(v, S.vnone)),
                 L.forall("A", lambda a: L.implies(S.m1(a, q), S.sent1b(a, b)))]
        if rules.one_2a_per_ballot:
            parts.append(L.forall("V", lambda w: L.not_(S.msg2a(b, w))))
        if rules.respect_1b_values:
            # v is free if no acceptor of Q reports a vote, else it is the value of the
            # highest-ballot vote reported (by a0, in ballot r0)
            none_voted = L.forall("A", lambda a: L.implies(S.m1(a, q),
                                                           L.not_(S.covers(a, b, S.none))))
            top = L.and_(S.m1(a0, q), S.msg1b(a0, b, r0, v), L.not_(L.eq(r0, S.none)),
                         L.forall("AB", lambda a, r: L.implies(
                             L.and_(S.m1(a, q), S.covers(a, b, r)), S.le(r, r0))))
            parts.append(L.or_(none_voted, top))
        return L.and_(*parts)

    def phase2a(L, S, p):
        return {"msg2a": lambda x, w: L.or_(S.msg2a(x, w),
                                            L.and_(L.eq(x, p["b"]), L.eq(w, p["v"])))}

    def phase2b_guard(L, S, p):  # on a 2a with bal >= maxBal[a]
        a, b, v = p["a"], p["b"], p["v"]
        parts = [S.msg2a(b, v)]
        if rules.respect_promise:
            parts.append(L.not_(S.left(a, b)) if rules.vote_at_promised_ballot
                         else L.not_(S.promised(a, b)))
        return L.and_(*parts)

    def phase2b(L, S, p):
        a, b, v = p["a"], p["b"], p["v"]
        out = {**_promise(L, S, a, b),
               "vval": lambda x, w: L.ite(L.eq(x, a), L.eq(w, v), S.vval(x, w)),
               "msg2b": lambda x, y, w: L.or_(S.msg2b(x, y, w), L.and_(
                   L.eq(x, a), L.eq(y, b), L.eq(w, v)))}
        if rules.record_vote_ballot:
            out["vbal"] = lambda x, r: L.ite(L.eq(x, a), L.eq(r, b), S.vbal(x, r))
            out["vle"] = lambda x, r: L.ite(L.eq(x, a), S.le(r, b), S.vle(x, r))
        return out

    return [
        Action("Phase1a", (("b", "B"),), (), phase1a_guard, phase1a),
        Action("Phase1b", (("a", "A"), ("b", "B")), (), phase1b_guard, phase1b),
        Action("Phase2a", (("b", "B"), ("v", "V"), ("q", "Q1")), (("a0", "A"), ("r0", "B")),
               phase2a_guard, phase2a),
        Action("Phase2b", (("a", "A"), ("b", "B"), ("v", "V")), (), phase2b_guard, phase2b),
    ]


# -- the invariant ----------------------------------------------------------------------


@dataclass(frozen=True)
class Conjunct:
    name: str
    text: str
    formula: Callable  # (L, S) -> formula


def _conjuncts() -> list[Conjunct]:
    def typeok(L, S):
        real = lambda b: L.not_(L.eq(b, S.none))  # noqa: E731
        val = lambda v: L.not_(L.eq(v, S.vnone))  # noqa: E731
        return L.and_(
            L.forall("B", lambda b: L.implies(S.msg1a(b), real(b))),
            L.forall("ABBV", lambda a, b, r, v: L.implies(S.msg1b(a, b, r, v), real(b))),
            L.forall("BV", lambda b, v: L.implies(S.msg2a(b, v), L.and_(real(b), val(v)))),
            L.forall("ABV", lambda a, b, v: L.implies(S.msg2b(a, b, v),
                                                      L.and_(real(b), val(v)))))

    def maxbal(L, S):
        lt = _lt(L, S)
        return L.and_(
            L.forall("A", lambda a: S.promised(a, S.none)),
            L.forall("AB", lambda a, r: L.implies(S.left(a, r), S.promised(a, r))),
            L.forall("ABB", lambda a, r, s: L.implies(L.and_(S.promised(a, s), lt(r, s)),
                                                      S.left(a, r))))

    def maxvbal(L, S):
        return L.and_(
            L.forall("AB", lambda a, r: L.implies(S.vbal(a, r), S.vle(a, r))),
            L.forall("ABB", lambda a, r, s: L.implies(L.and_(S.vle(a, s), S.le(r, s)),
                                                      S.vle(a, r))),
            L.forall("ABB", lambda a, r, s: L.implies(L.and_(S.vle(a, r), S.vbal(a, s)),
                                                      S.le(r, s))),
            L.forall("ABB", lambda a, r, s: L.implies(L.and_(S.vbal(a, r), S.vbal(a, s)),
                                                      L.eq(r, s))),
            L.forall("AVV", lambda a, v, w: L.implies(L.and_(S.vval(a, v), S.vval(a, w)),
                                                      L.eq(v, w))),
            L.forall("AB", lambda a, r: L.implies(S.vle(a, r), S.promised(a, r))),
            L.forall("ABV", lambda a, r, v: L.implies(S.msg2b(a, r, v), S.vle(a, r))))

    def inv2(L, S):
        return L.forall("ABV", lambda a, r, v: L.implies(
            L.and_(S.vbal(a, r), S.vval(a, v)),
            L.ite(L.eq(r, S.none), L.eq(v, S.vnone), S.msg2b(a, r, v))))

    def inv3_1b(L, S):
        return L.and_(
            L.forall("ABBV", lambda a, b, r, v: L.implies(S.msg1b(a, b, r, v), L.and_(
                S.sent1b(a, b),
                L.implies(L.not_(L.eq(r, S.none)), S.msg2b(a, r, v))))),
            L.forall("AB", lambda a, b: L.implies(S.sent1b(a, b), S.promised(a, b))))

    def covers(L, S):
        lt = _lt(L, S)
        return L.and_(
            L.forall("ABBV", lambda a, b, r, v: L.implies(
                L.and_(S.sent1b(a, b), S.msg2b(a, r, v), lt(r, b)), S.covers(a, b, r))),
            L.forall("ABBB", lambda a, b, r, s: L.implies(
                L.and_(S.covers(a, b, s), S.le(r, s)), S.covers(a, b, r))))

    def one_2a(L, S):
        return L.forall("BVV", lambda b, v, w: L.implies(
            L.and_(S.msg2a(b, v), S.msg2a(b, w)), L.eq(v, w)))

    def vote_2a(L, S):
        return L.forall("ABV", lambda a, b, v: L.implies(S.msg2b(a, b, v), S.msg2a(b, v)))

    def one_value(L, S):
        return L.forall("AABVV", lambda a, c, b, v, w: L.implies(
            L.and_(S.msg2b(a, b, v), S.msg2b(c, b, w)), L.eq(v, w)))


    return [
        # Paxos.tla's Inv, conjunct by conjunct (the EPR form where noted) ...
        Conjunct("PAXOS-TYPEOK", "messages carry ballots >= 0 and values (Inv!1)", typeok),
        Conjunct("PAXOS-INV2", "<<maxVBal[a], maxVal[a]>> is a vote a cast, or <<-1, None>> "
                 "(Inv!2)", inv2),
        Conjunct("PAXOS-INV3-1B", "a 1b's sender promised its ballot and the vote it reports "
                 "was cast (Inv!3)", inv3_1b),
        Conjunct("PAXOS-ONE-2A", "at most one 2a per ballot (Inv!3)", one_2a),
        Conjunct("PAXOS-2A-SAFE", "below a 2a's ballot no other value is choosable: every "
                 "phase-2 quorum has a member that left it without voting for it (Inv!3)",
                 lambda L, S: safe_2a(L, S, S.msg2a)),
        Conjunct("PAXOS-ONE-VALUE-PER-BALLOT", "votes in one ballot are for one value "
                 "(Voting's OneValuePerBallot)", one_value),
        # ... and what Paxos.tla's TLAPS proof proves as lemmas, or its functions give free
        Conjunct("PAXOS-MAXBAL", "promised/left describe one ballot maxBal[a] >= -1", maxbal),
        Conjunct("PAXOS-MAXVBAL", "maxVBal[a] is a ballot <= maxBal[a], at or above every "
                 "vote of a; maxVal[a] is one value", maxvbal),
        Conjunct("PAXOS-1B-COVERS", "a's 1b for b reports a vote at or above each vote a cast "
                 "below b", covers),
        Conjunct("PAXOS-VOTE-HAS-2A", "every vote is for a 2a's value", vote_2a),
    ]


CONJUNCTS = _conjuncts()


def _not_choosable(L, S, r, v):
    """No phase-2 quorum can choose v in ballot r any more."""
    return L.forall(("Q2",), lambda q: L.exists("A", lambda a: L.and_(
        S.m2(a, q), S.left(a, r), L.not_(S.msg2b(a, r, v)))))


def safe_2a(L, S, proposed):
    """Below a ballot where `proposed(s, w)`, no value other than w is choosable."""
    lt = _lt(L, S)
    return L.forall("BBVV", lambda r, s, v, w: L.implies(
        L.and_(proposed(s, w), lt(r, s), L.not_(L.eq(v, w))),
        lambda: _not_choosable(L, S, r, v)))


def votes_safe(L, S):
    """Voting's VotesSafe in the form of PAXOS-2A-SAFE. The voter is existential in the
    antecedent, so it scopes over the vote only: quantified outside "not choosable"
    it would be a universal Acceptor above an existential one, the self-loop
    Acceptor -> Acceptor that leaves EPR."""
    return safe_2a(L, S, lambda s, w: L.exists("A", lambda a: S.msg2b(a, s, w)))


def agreement(L, S):
    """Consensus.tla's Inv: two values chosen (each by a phase-2 quorum's votes in one
    ballot) are equal."""
    def chosen(b, v, q):
        return L.forall("A", lambda a: L.implies(S.m2(a, q), S.msg2b(a, b, v)))
    return L.forall(("B", "B", "V", "V", "Q2", "Q2"), lambda b, c, v, w, q, p: L.implies(
        L.not_(L.eq(v, w)), lambda: L.not_(L.and_(chosen(b, v, q), chosen(c, w, p)))))


CONSEQUENCES = [
    ("PAXOS-VOTES-SAFE", "below a vote's ballot no other value is choosable (Voting's "
     "VotesSafe)", votes_safe),
    ("PAXOS-AGREEMENT", "at most one value is chosen (Consensus.tla)", agreement),
]


# -- the queries, and a counterexample to induction read back from z3's model ---------


@dataclass
class Query:
    name: str
    action: str | None  # "Init", an action, or None for Inv => Agreement
    conjunct: str
    assertions: list
    cti: Callable[[Any], dict[str, Any]]  # sat solver -> the counterexample, described


@dataclass
class InductiveProof:
    """The proof obligations of an encoding (or of one of its mutants): Init => C and
    Inv /\\ A => C' for every conjunct C and action A, then Inv => each consequence.
    `drop` leaves conjuncts out of Inv, to show that each is needed. An encoding
    subclasses it with its `model`, `scope`, `CONJUNCTS`, `CONSEQUENCES` and the
    functions that build its logic, axioms, initial state and actions, and that shrink
    and read back a counterexample."""

    mutant: str | None = None
    drop: tuple[str, ...] = ()
    rules: Any = field(init=False)

    def __post_init__(self) -> None:
        self.rules = self.rules_for(self.mutant)
        self.conjuncts = [(c.name, c.text) for c in self.CONJUNCTS if c.name not in self.drop]
        self.consequences = [(name, text) for name, text, _ in self.CONSEQUENCES]

    def queries(self) -> list[Query]:
        L = self.logic()
        S = L.symbols()
        base = self.axioms(L, S, self.rules)
        kept = [c for c in self.CONJUNCTS if c.name not in self.drop]
        inv = [c.formula(L, S) for c in kept]
        out = []
        init = self.initial(L, S)
        for c in kept:
            out.append(Query(f"Init => {c.name}", "Init", c.name,
                             base + [z3.Not(c.formula(L, init))],
                             self._reader(L, S, None, {}, c.name)))
        for act in self.actions(self.rules):
            p = {n: L.const(f"{act.name}_{n}", sort) for n, sort in act.params + act.witnesses}
            post = SimpleNamespace(**{**vars(S), **act.update(L, S, p)})
            guard = act.guard(L, S, p)
            for c in kept:
                out.append(Query(f"Inv /\\ {act.name} => {c.name}'", act.name, c.name,
                                 base + inv + [guard, z3.Not(c.formula(L, post))],
                                 self._reader(L, S, act, p, c.name)))
        for name, _, formula in self.CONSEQUENCES:
            out.append(Query(f"Inv => {name}", None, name,
                             base + inv + [z3.Not(formula(L, S))],
                             self._reader(L, S, None, {}, name, init=False)))
        return out

    def _reader(self, L, S, act, p, conjunct, init=True):
        def read(solver):
            self.minimize(solver, L, S)
            return self.read_cti(solver.model(), L, S, act, p, conjunct, init)
        return read


@dataclass
class PaxosProof(InductiveProof):
    """The proof obligations of Paxos (or of one mutant)."""

    model = "paxos"
    scope = "proved for all acceptors, values and ballots"
    CONJUNCTS = CONJUNCTS
    CONSEQUENCES = CONSEQUENCES
    rules_for = staticmethod(rules_for)
    logic = staticmethod(lambda: Z3Logic())
    axioms = staticmethod(axioms)
    initial = staticmethod(initial)
    actions = staticmethod(actions)

    # Defined below, with the rest of reading a model back.
    def minimize(self, solver, L, S) -> None:
        minimize(solver, L, S)

    def read_cti(self, *args) -> dict[str, Any]:
        return read_cti(*args)


def minimize(solver, L: Z3Logic, S, seconds: float = 2.0,
             shrink: tuple[str, ...] = ("covers", "sent1b", "msg1a", "msg1b", "msg2b",
                                        "msg2a")) -> None:
    """Shrink a sat query's model before it is shown: each sort to as few elements as
    still give a counterexample, then one maxVBal and maxVal per acceptor where
    possible, then as few message and derived tuples as it needs. Each step has a
    short time limit; the solver is left sat, with its model."""
    solver.set("timeout", int(seconds * 1000))

    def attempt(constraint) -> bool:
        solver.push()
        solver.add(constraint)
        if solver.check() == z3.sat:
            return True
        solver.pop()
        solver.check()
        return False

    named: dict[str, list] = {}
    for s in L.sorts:
        size = len(solver.model().get_universe(L.sorts[s]) or []) or 1
        x = z3.Const(f"min_{s}_x", L.sorts[s])
        for k in range(1, size + 1):
            cs = [z3.Const(f"min_{s}_{k}_{i}", L.sorts[s]) for i in range(k)]
            closed = z3.ForAll([x], z3.Or([x == c for c in cs]))
            if attempt(z3.And(closed, z3.Distinct(*cs)) if k > 1 else closed):
                named[s] = cs
                break
        else:
            return  # z3 gave up on a bound: show the model as found
    # States a run reaches have one maxVBal and one maxVal per acceptor. Inv cannot say
    # so (an existential from Acceptor to Ballot would close a cycle and leave EPR),
    # but over the now finite sorts it is cheap to ask for, and the CTI then reads as
    # a state of the protocol.
    for name in ("vbal", "vval"):
        *keys, last = L.relations[name]  # a function of all but its last argument
        attempt(z3.And([z3.Or([getattr(S, name)(*k, x) for x in named[last]])
                        for k in product(*(named[t] for t in keys))]))
    # Every tuple, true or not in the model at hand: one left unconstrained could come
    # back true in the model a later failed attempt's re-check finds.
    for name in shrink:
        for xs in product(*(named[t] for t in L.relations[name])):
            attempt(z3.Not(getattr(S, name)(*xs)))


def read_structure(m, L: Z3Logic, S):
    """z3's model as finite relations: ballots numbered in `le` order from `none` =
    -1, values with `vnone` = None, other sorts from 0. Returns the relations, the
    memberships m1 and m2, the universes and a map from z3 element to number."""
    def true(t):
        return z3.is_true(m.eval(t, model_completion=True))

    univ = {s: list(m.get_universe(L.sorts[s]) or []) for s in L.sorts}
    ids: dict[str, dict[str, int]] = {}
    none = m.eval(S.none, model_completion=True)
    if not any(x.eq(none) for x in univ["B"]):
        univ["B"].append(none)
    rank = sorted(univ["B"], key=lambda x: sum(true(S.le(y, x)) for y in univ["B"]))
    ids["B"] = {str(x): i - 1 for i, x in enumerate(rank)}
    vnone = m.eval(S.vnone, model_completion=True)
    others = [x for x in univ["V"] if not x.eq(vnone)]
    ids["V"] = {str(vnone): NONE, **{str(x): i for i, x in enumerate(others)}}
    univ["V"] = [vnone] + others
    for s in L.sorts:
        if s not in ("B", "V"):
            ids[s] = {str(x): i for i, x in enumerate(univ[s])}

    def ext(fn, sig):
        return {tuple(ids[s][str(x)] for s, x in zip(sig, xs))
                for xs in product(*(univ[s] for s in sig)) if true(fn(*xs))}

    rels = {name: ext(getattr(S, name), sig) for name, sig in L.relations.items()}
    return rels, ext(S.m1, ("A", "Q1")), ext(S.m2, ("A", "Q2")), univ, ids


def cti_structures(m, L: Z3Logic, S, act: Action | None, p: dict, init: bool,
                   sorts=SORTS, relations=None, initial_of=None) -> SimpleNamespace:
    """z3's model `m` of a failed query, read back (`read_structure`) as one finite
    structure before the step and, for an action, the one after it, with the action's
    arguments as ints. Shared by every model's proof: only the sorts, the relations and
    the initial state (`initial_of`, this module's `initial` by default) differ."""
    rels, m1, m2, univ, ids = read_structure(m, L, S)
    F = Finite({s: sorted(ids[s].values()) for s in sorts}, relations)
    before = F.structure(rels, m1, m2)
    if act is None and init:  # the initial state does not hold the conjunct
        before = (initial_of or initial)(F, before)
    args = {k: ids[sort][str(m.eval(p[k], model_completion=True))]
            for k, sort in (act.params + act.witnesses if act else ())}
    after = None if act is None else F.extension(SimpleNamespace(
        **{**vars(before), **act.update(F, before, args)}))
    return SimpleNamespace(F=F, before=before, after=after, args=args, m1=m1, m2=m2,
                           univ=univ, ids=ids)


def read_cti(m, L: Z3Logic, S, act: Action | None, p: dict, conjunct: str,
             init: bool) -> dict[str, Any]:
    """z3's model as a concrete Paxos instance (`cti_structures`), the state before
    (Inv holds) and after the action (the named conjunct fails), described as
    `check` describes states."""
    cti = cti_structures(m, L, S, act, p, init)
    F, before, args, m1, m2, ids = cti.F, cti.before, cti.args, cti.m1, cti.m2, cti.ids
    n = len(cti.univ["A"])
    after = None if cti.after is None else describe_relations(cti.after, n)
    return {
        "constants": {
            "acceptors": [acceptor_name(a) for a in range(n)],
            "ballots": sorted(b for b in ids["B"].values() if b != NONE),
            "values": [value_name(v) for v in sorted(ids["V"].values()) if v != NONE],
            "phase-1 quorums": [node_set(a for a, q in m1 if q == i) for i in F.domains["Q1"]],
            "phase-2 quorums": [node_set(a for a, q in m2 if q == i) for i in F.domains["Q2"]],
        },
        "conjunct": conjunct,
        "before": describe_relations(F.extension(before), n),
        "action": format_action(act.name, args, m1) if act else None,
        "after": after,
    }


def format_action(name: str, p: dict[str, int], m1: set) -> str:
    if name == "Phase1a":
        return f"Phase1a(b={p['b']})"
    if name == "Phase1b":
        return f"Phase1b(a={acceptor_name(p['a'])}, on 1a bal={p['b']})"
    if name == "Phase2a":
        q = node_set(a for a, i in m1 if i == p["q"])
        return f"Phase2a(b={p['b']}, v={value_name(p['v'])}, Q={q})"
    return f"Phase2b(a={acceptor_name(p['a'])}, on 2a bal={p['b']} val={value_name(p['v'])})"


def describe_relations(rels: dict[str, set], n: int) -> dict[str, Any]:
    """A state of the relations as `describe` shows a PaxosState, with the two derived
    relations beside it (in a reachable state they follow from msgs; in a CTI they
    need not)."""
    def one(rel, a, default=NONE):
        found = sorted(x for y, x in rel if y == a)
        return found[-1] if found else default

    state = PaxosState(
        tuple(one(rels["promised"], a) for a in range(n)),
        tuple(one(rels["vbal"], a) for a in range(n)),
        tuple(one(rels["vval"], a) for a in range(n)),
        frozenset({(T1A, b) for (b,) in rels["msg1a"]}
                  | {(T1B, *m) for m in rels["msg1b"]}
                  | {(T2A, *m) for m in rels["msg2a"]}
                  | {(T2B, *m) for m in rels["msg2b"]}))
    out = describe(state)
    out["sent1b"] = TlaSet((acceptor_name(a), b) for a, b in sorted(rels["sent1b"]))
    reported: dict[tuple[int, int], int] = {}
    for a, b, r in rels["covers"]:
        reported[(a, b)] = max(r, reported.get((a, b), NONE))
    out["covers"] = TlaSet((acceptor_name(a), b, r) for (a, b), r in sorted(reported.items()))
    return out


# -- the abstraction of a reachable state, for the tests that hold the two copies together


def domains(n: int, ballots: range, n_values: int, quorums, quorums2) -> Finite:
    return Finite({"A": list(range(n)), "B": [NONE, *ballots],
                   "V": [NONE, *range(n_values)], "Q1": list(range(len(quorums))),
                   "Q2": list(range(len(quorums2)))})


def membership(quorums) -> set[tuple[int, int]]:
    return {(a, i) for i, q in enumerate(quorums) for a in q}


def abstraction(s: PaxosState, ballots: list[int]) -> dict[str, set]:
    """The relations of a PaxosState over the ballots [-1, 0, ..., max]."""
    n = len(s.max_bal)
    r = {name: set() for name in RELATIONS}
    for a in range(n):
        for b in ballots:
            if b <= s.max_bal[a]:
                r["promised"].add((a, b))
            if b < s.max_bal[a]:
                r["left"].add((a, b))
            if b <= s.max_vbal[a]:
                r["vle"].add((a, b))
        r["vbal"].add((a, s.max_vbal[a]))
        r["vval"].add((a, s.max_val[a]))
    for m in s.msgs:
        kind, rest = m[0], m[1:]
        if kind == T1A:
            r["msg1a"].add(rest)
        elif kind == T1B:
            r["msg1b"].add(rest)
            r["sent1b"].add(rest[:2])
            if rest[2] != NONE:
                r["covers"].update((*rest[:2], b) for b in ballots if b <= rest[2])
        elif kind == T2A:
            r["msg2a"].add(rest)
        else:
            r["msg2b"].add(rest)
    return r


def build(mutant: str | None = None) -> PaxosProof:
    """The registry's entry point (models/registry.py `proof_for`)."""
    return PaxosProof(mutant)
