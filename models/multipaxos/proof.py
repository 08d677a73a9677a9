"""MultiPaxos's per-slot agreement for every number of replicas, slots, ballots and
commands: an inductive invariant in a decidable fragment, for `smrcheck prove
multipaxos`.

Paxos Made Simple §3 runs one instance of the §2 algorithm per log slot, with one
change: a new leader runs phase 1 once, for all slots. So an acceptor has one promise
(maxBal, global) and, per slot, the highest-ballot value it accepted; a 1b answers
for every slot; 2a and 2b messages name their slot. The safety property is
MP-AGREEMENT: no two different values are chosen in one slot. This module proves it
inductively with z3, as models/paxos/proof.py does for single-decree Paxos, and
reuses that module's machinery: its two interpretations of one formula language
(`Z3Logic`, `Finite`), the order and quorum axioms, the relational encoding of
maxBal (`promised`/`left`), the PAXOS-MAXBAL conjunct, the shrinking of a
counterexample and the reading of z3's model (`minimize`, `read_structure`). The
technique is Padon, Losa, Sagiv and Shoham's, "Paxos made EPR: decidable reasoning
about distributed protocols" (OOPSLA 2017), whose paper also verifies a Multi-Paxos
with a sort of instances.

The encoding adds a sort Slot (`S`) and gives every per-slot relation a slot
argument: `msg1b(a, b, slot, mbal, mval)` (a 1b reports every slot; `mbal = none`
where a accepted nothing there), `msg2a(b, slot, v)`, `msg2b(a, b, slot, v)`,
`vbal(a, slot, r)`, `vle(a, slot, r)`, `vval(a, slot, v)` and `covers(a, b, slot,
r)`; `promised(a, r)`, `left(a, r)`, `msg1a(b)` and `sent1b(a, b)` stay global,
because one promise covers every slot. The invariant is Paxos's, per slot (MP-INV2,
MP-INV3-1B, MP-2A-SAFE, ...) plus the global MP-MAXBAL.

The fragment. Slot never stands under an existential: it is universally quantified
in every conjunct, the consequences and the guards, and a query's existentials are
over Acceptor only (the quorum intersection axiom, Quorum1 x Quorum2 -> Acceptor,
and "no other value is choosable" in MP-2A-SAFE, whose universals now include the
slot: Ballot, Slot, Value, Quorum2 -> Acceptor). Acceptor has no outgoing edge, so the
quantifier alternation graph is Quorum1, Quorum2, Ballot, Value, Slot -> Acceptor,
acyclic; Skolemisation gives finitely many ground terms and every query is in EPR.
What would break it is a function into Slot or from Acceptor (a "next free slot" of
a leader, vbal as a function of (acceptor, slot)), which is why the leader's
`next_slot` is not encoded (below) and vbal is a relation (a test reads the graph
off every query).

What is abstracted. The actions are §2's phases with a slot, over-approximating the
model's steps (actions.py): every step of the model is one or more of these, or
leaves the relations unchanged, which `abstract_steps` says step by step and a test
checks on every reachable state. So the invariant proved for these actions holds on
the model.

- Phase1a(b), Phase1b(a, b): Prepare is both (the leader sends the 1a and promises
  its own ballot); Promise is Phase1b. The model's `collecting` (promise only to a
  live phase 1) only restricts Phase1b.
- Phase2a(b, slot, v, Q): the 2a of ballot b in one slot, on the 1bs of a phase-1
  quorum Q, with the value rule of phase 2(a) for that slot (free where no member
  of Q reports a vote there, else the value of the highest-ballot report). Lead is
  one Phase2a per slot it re-proposes; its no-op gap filling is a Phase2a whose value
  is the no-op, one more value for the proof (the rule leaves the value free there,
  so the no-op needs no constant of its own). Propose is one Phase2a in the leader's
  next slot, where its quorum reported nothing. Leader election and ballot ownership
  (`owner`, `lead`, `next_slot`, `fresh`) are abstracted to one rule: a ballot has
  one proposer, which sends at most one 2a per slot, i.e. the guard "no 2a of
  ballot b in this slot yet". Which quorum a stable leader's Propose rests on is not
  in the model's state; the test finds one for every Propose.
- Phase2b(a, b, slot, v): Accept.
- Crash, durable Restart and Execute: stutters. Learners and logs are not part of
  per-slot agreement, and an acceptor's state is durable, so a crash and a restart
  change nothing the proof reads. Under crash-stop the model clears a crashed
  acceptor's state, which it never reads again; `abstraction` reads such an acceptor's
  state from its messages instead (its promise is the highest ballot it sent, its
  vote per slot its highest 2b), which is what it held when it crashed.

Mutants. Each switch of mutants.py that changes a step the proof models flips the
same formula: ignore-promised-values and skip-phase-1 drop the value rule (and
skip-phase-1 the quorum's 1bs), lowest-ballot-value takes the lowest report,
minority-quorums drops the intersection axiom, accept-below-promise drops Phase2b's
promise check, promise-reports-promised-ballot reports the promised ballot in every
slot. amnesiac-restart is modelled explicitly: durable state loss is an action
Restart(a) that resets a's promise and votes (it exists only in that mutant). Each of
these fails with a CTI. Two mutants are outside the abstraction and are proved:
learn-across-ballots (a learner counts acceptances from different ballots) and
execute-duplicates (a replica runs a command chosen in two slots twice) break
MP-EXECUTED-CHOSEN, MP-LOG-PREFIX and MP-AT-MOST-ONCE, properties of learners and
logs, while what is chosen, and so MP-AGREEMENT, is untouched (they change no
message, and chosen values are read off the 2b messages; a test compares the encoded
agreement with invariants.py's on their reachable states). Learners are not encoded: "a learned value
is chosen" needs an existential from Acceptor (the replica) to Ballot, which closes
the cycle Ballot -> Acceptor -> Ballot and leaves EPR.

Derived and written twice. As for Paxos, the actions are written a second time, as
guards and updates over relations reading the model's `Rules`; `abstraction` maps an
`MPState` to the relations. Tests (tests/models/test_multipaxos_proof.py) evaluate
the same formulas (`Finite`) on every reachable state of small instances: every
conjunct and agreement hold, MP-AGREEMENT agrees with invariants.py's property of the
same id (on the mutants' states too), and every step `next_state` takes is simulated:
the abstract steps `abstract_steps` names are enabled in turn and end in exactly the
abstraction of the successor. One gap: where a mutant lowers a promise
(accept-below-promise, amnesiac-restart) an acceptor can send two 1bs for one
ballot and Lead reads one of them, while the relations hold their union; those
Lead and Propose steps are not checked (the mutants fail earlier, on a CTI). The
converse (every abstract step is a model step) does not hold and is not needed: the
abstract system has more behaviours, not fewer.

Size: one encoding in one file, as models/paxos/proof.py (the actions, the invariant,
the queries, reading a CTI back, and the abstraction of the model's states and steps),
because each part is written against the relation names and sorts the others fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from types import SimpleNamespace
from typing import Any


from ...checker.model import FnMap, Record, TlaSet
from ..common.ids import NONE, replica_name
from ..paxos import proof as P
from ..paxos.proof import Action, Conjunct, Finite, Z3Logic, axioms
from .messages import NOOP, P1A, P1B, P2A, P2B, value_name
from .mutants import Rules, rules_for
from .state import DOWN, MPState

SORTS = ("A", "B", "V", "S", "Q1", "Q2")  # S: Slot
RELATIONS = {
    "promised": ("A", "B"), "left": ("A", "B"),
    "vbal": ("A", "S", "B"), "vle": ("A", "S", "B"), "vval": ("A", "S", "V"),
    "msg1a": ("B",), "msg1b": ("A", "B", "S", "B", "V"), "msg2a": ("B", "S", "V"),
    "msg2b": ("A", "B", "S", "V"), "sent1b": ("A", "B"), "covers": ("A", "B", "S", "B"),
}
SHRINK = ("covers", "sent1b", "msg1a", "msg1b", "msg2b", "msg2a")


def logic() -> Z3Logic:
    return Z3Logic(SORTS, RELATIONS)


def _lt(L, S):
    return lambda x, y: L.and_(S.le(x, y), L.not_(L.eq(x, y)))


def initial(L, S) -> SimpleNamespace:
    """No promise, nothing accepted in any slot, no message."""
    false = lambda *xs: L.or_()  # noqa: E731 - an empty disjunction is false in both logics
    return SimpleNamespace(**{
        **vars(S), "msg1a": false, "msg1b": false, "msg2a": false, "msg2b": false,
        "sent1b": false, "covers": false, "left": false,
        "promised": lambda a, r: L.eq(r, S.none),
        "vbal": lambda a, s, r: L.eq(r, S.none), "vle": lambda a, s, r: L.eq(r, S.none),
        "vval": lambda a, s, v: L.eq(v, S.vnone)})


# -- the actions ---------------------------------------------------------------------


def actions(rules: Rules) -> list[Action]:
    def phase1b(L, S, p):
        a, b = p["a"], p["b"]
        if rules.report_vote_ballot:  # per slot: the vote with the highest ballot
            report = lambda sl, rm, vm: L.and_(S.vbal(a, sl, rm), S.vval(a, sl, vm))  # noqa: E731
            covered = lambda sl, r: L.and_(S.vle(a, sl, r),  # noqa: E731
                                           L.not_(S.vbal(a, sl, S.none)))
        else:  # the mutant reports the ballot being promised in every slot
            report = lambda sl, rm, vm: L.and_(L.eq(rm, b), S.vval(a, sl, vm))  # noqa: E731
            covered = lambda sl, r: S.le(r, b)  # noqa: E731
        here = lambda x, y: L.and_(L.eq(x, a), L.eq(y, b))  # noqa: E731
        return {**P._promise(L, S, a, b),
                "msg1b": lambda x, y, sl, rm, vm: L.or_(
                    S.msg1b(x, y, sl, rm, vm), L.and_(here(x, y), report(sl, rm, vm))),
                "sent1b": lambda x, y: L.or_(S.sent1b(x, y), here(x, y)),
                "covers": lambda x, y, sl, r: L.or_(S.covers(x, y, sl, r),
                                                    L.and_(here(x, y), covered(sl, r)))}

    def phase2a_guard(L, S, p):
        b, sl, v, q, a0, r0 = p["b"], p["s"], p["v"], p["q"], p["a0"], p["r0"]
        real = L.not_(L.eq(v, S.vnone))
        # One proposer per ballot (ballot ownership), one 2a per slot from it.
        parts = [L.not_(L.eq(b, S.none)), L.forall("V", lambda w: L.not_(S.msg2a(b, sl, w)))]
        if not rules.run_phase1:  # the mutant proposes anything without phase 1
            return L.and_(*parts, real)
        parts.append(L.forall("A", lambda a: L.implies(S.m1(a, q), S.sent1b(a, b))))
        if not rules.respect_promised_values:
            return L.and_(*parts, real)
        none_voted = L.forall("A", lambda a: L.implies(
            S.m1(a, q), L.not_(S.covers(a, b, sl, S.none))))
        if rules.highest_ballot_value:
            extreme = L.forall("AB", lambda a, r: L.implies(
                L.and_(S.m1(a, q), S.covers(a, b, sl, r)), S.le(r, r0)))
        else:  # the mutant takes the lowest-ballot report
            extreme = L.forall(("A", "B", "V"), lambda a, r, w: L.implies(
                L.and_(S.m1(a, q), S.msg1b(a, b, sl, r, w), L.not_(L.eq(r, S.none))),
                S.le(r0, r)))
        # The reported value is not checked to be real: the promise-reports-promised-
        # ballot mutant re-proposes `none` from an empty slot (MP-VALIDITY), which the
        # correct protocol cannot (MP-INV3-1B and MP-TYPEOK rule it out).
        top = L.and_(S.m1(a0, q), S.msg1b(a0, b, sl, r0, v), L.not_(L.eq(r0, S.none)),
                     extreme)
        return L.and_(*parts, L.or_(L.and_(none_voted, real), top))

    def phase2a(L, S, p):
        return {"msg2a": lambda x, sl, w: L.or_(S.msg2a(x, sl, w), L.and_(
            L.eq(x, p["b"]), L.eq(sl, p["s"]), L.eq(w, p["v"])))}

    def phase2b_guard(L, S, p):  # on a 2a with bal >= maxBal[a]
        parts = [S.msg2a(p["b"], p["s"], p["v"])]
        if rules.respect_promise:
            parts.append(L.not_(S.left(p["a"], p["b"])))
        return L.and_(*parts)

    def phase2b(L, S, p):
        a, b, s, v = p["a"], p["b"], p["s"], p["v"]
        at = lambda x, sl: L.and_(L.eq(x, a), L.eq(sl, s))  # noqa: E731
        return {**P._promise(L, S, a, b),
                "vbal": lambda x, sl, r: L.ite(at(x, sl), L.eq(r, b), S.vbal(x, sl, r)),
                "vle": lambda x, sl, r: L.ite(at(x, sl), S.le(r, b), S.vle(x, sl, r)),
                "vval": lambda x, sl, w: L.ite(at(x, sl), L.eq(w, v), S.vval(x, sl, w)),
                "msg2b": lambda x, y, sl, w: L.or_(S.msg2b(x, y, sl, w), L.and_(
                    L.eq(x, a), L.eq(y, b), L.eq(sl, s), L.eq(w, v)))}

    def restart(L, S, p):  # amnesiac: promise and votes lost
        a = p["a"]
        return {"promised": lambda x, r: L.ite(L.eq(x, a), L.eq(r, S.none), S.promised(x, r)),
                "left": lambda x, r: L.and_(L.not_(L.eq(x, a)), S.left(x, r)),
                "vbal": lambda x, sl, r: L.ite(L.eq(x, a), L.eq(r, S.none), S.vbal(x, sl, r)),
                "vle": lambda x, sl, r: L.ite(L.eq(x, a), L.eq(r, S.none), S.vle(x, sl, r)),
                "vval": lambda x, sl, w: L.ite(L.eq(x, a), L.eq(w, S.vnone),
                                               S.vval(x, sl, w))}

    out = [
        Action("Phase1a", (("b", "B"),), (), P.phase1a_guard, P.phase1a),
        Action("Phase1b", (("a", "A"), ("b", "B")), (), P.phase1b_guard, phase1b),
        Action("Phase2a", (("b", "B"), ("s", "S"), ("v", "V"), ("q", "Q1")),
               (("a0", "A"), ("r0", "B")), phase2a_guard, phase2a),
        Action("Phase2b", (("a", "A"), ("b", "B"), ("s", "S"), ("v", "V")), (),
               phase2b_guard, phase2b),
    ]
    if not rules.durable_acceptor:
        out.append(Action("Restart", (("a", "A"),), (), lambda L, S, p: L.and_(), restart))
    return out


# -- the invariant -------------------------------------------------------------------


def _conjuncts() -> list[Conjunct]:
    def typeok(L, S):
        real = lambda b: L.not_(L.eq(b, S.none))  # noqa: E731
        val = lambda v: L.not_(L.eq(v, S.vnone))  # noqa: E731
        return L.and_(
            L.forall("B", lambda b: L.implies(S.msg1a(b), real(b))),
            L.forall("ABSBV", lambda a, b, s, r, v: L.implies(S.msg1b(a, b, s, r, v),
                                                              real(b))),
            L.forall("BSV", lambda b, s, v: L.implies(S.msg2a(b, s, v),
                                                      L.and_(real(b), val(v)))),
            L.forall("ABSV", lambda a, b, s, v: L.implies(S.msg2b(a, b, s, v),
                                                          L.and_(real(b), val(v)))))

    def maxvbal(L, S):
        return L.and_(
            L.forall("ASB", lambda a, s, r: L.implies(S.vbal(a, s, r), S.vle(a, s, r))),
            L.forall("ASBB", lambda a, s, r, t: L.implies(
                L.and_(S.vle(a, s, t), S.le(r, t)), S.vle(a, s, r))),
            L.forall("ASBB", lambda a, s, r, t: L.implies(
                L.and_(S.vle(a, s, r), S.vbal(a, s, t)), S.le(r, t))),
            L.forall("ASBB", lambda a, s, r, t: L.implies(
                L.and_(S.vbal(a, s, r), S.vbal(a, s, t)), L.eq(r, t))),
            L.forall("ASVV", lambda a, s, v, w: L.implies(
                L.and_(S.vval(a, s, v), S.vval(a, s, w)), L.eq(v, w))),
            # one promise bounds every slot's vote
            L.forall("ASB", lambda a, s, r: L.implies(S.vle(a, s, r), S.promised(a, r))),
            L.forall("ABSV", lambda a, r, s, v: L.implies(S.msg2b(a, r, s, v),
                                                          S.vle(a, s, r))))

    def inv2(L, S):
        return L.forall("ASBV", lambda a, s, r, v: L.implies(
            L.and_(S.vbal(a, s, r), S.vval(a, s, v)),
            L.ite(L.eq(r, S.none), L.eq(v, S.vnone), S.msg2b(a, r, s, v))))

    def inv3_1b(L, S):
        return L.and_(
            L.forall("ABSBV", lambda a, b, s, r, v: L.implies(S.msg1b(a, b, s, r, v), L.and_(
                S.sent1b(a, b),
                L.implies(L.not_(L.eq(r, S.none)), S.msg2b(a, r, s, v))))),
            L.forall("AB", lambda a, b: L.implies(S.sent1b(a, b), S.promised(a, b))))

    def covers(L, S):
        lt = _lt(L, S)
        return L.and_(
            L.forall("ABSBV", lambda a, b, s, r, v: L.implies(
                L.and_(S.sent1b(a, b), S.msg2b(a, r, s, v), lt(r, b)),
                S.covers(a, b, s, r))),
            L.forall("ABSBB", lambda a, b, s, r, t: L.implies(
                L.and_(S.covers(a, b, s, t), S.le(r, t)), S.covers(a, b, s, r))))

    def one_2a(L, S):
        return L.forall("BSVV", lambda b, s, v, w: L.implies(
            L.and_(S.msg2a(b, s, v), S.msg2a(b, s, w)), L.eq(v, w)))

    def vote_2a(L, S):
        return L.forall("ABSV", lambda a, b, s, v: L.implies(S.msg2b(a, b, s, v),
                                                             S.msg2a(b, s, v)))

    def one_value(L, S):
        return L.forall("AABSVV", lambda a, c, b, s, v, w: L.implies(
            L.and_(S.msg2b(a, b, s, v), S.msg2b(c, b, s, w)), L.eq(v, w)))

    maxbal = next(c for c in P.CONJUNCTS if c.name == "PAXOS-MAXBAL").formula
    return [
        Conjunct("MP-TYPEOK", "messages carry ballots >= 0, 2a and 2b a command or the "
                 "no-op (never none: MP-VALIDITY)", typeok),
        Conjunct("MP-INV2", "per slot, a's highest vote <<vbal, vval>> is a vote a cast, "
                 "or <<none, none>>", inv2),
        Conjunct("MP-INV3-1B", "a 1b's sender promised its ballot and the vote it reports "
                 "in each slot was cast", inv3_1b),
        Conjunct("MP-ONE-2A", "at most one 2a per ballot and slot (a ballot has one "
                 "proposer)", one_2a),
        Conjunct("MP-2A-SAFE", "in a 2a's slot, below its ballot no other value is "
                 "choosable: every phase-2 quorum has a member that left that ballot "
                 "without voting for it there", lambda L, S: safe_2a(L, S, S.msg2a)),
        Conjunct("MP-ONE-VALUE-PER-BALLOT", "votes in one ballot and slot are for one "
                 "value", one_value),
        Conjunct("MP-MAXBAL", "promised/left describe one global promise maxBal[a] >= "
                 "none (PAXOS-MAXBAL)", maxbal),
        Conjunct("MP-MAXVBAL", "per slot, vbal is a ballot <= maxBal[a], at or above every "
                 "vote of a there; vval is one value", maxvbal),
        Conjunct("MP-1B-COVERS", "a's 1b for b reports, in each slot, a vote at or above "
                 "each vote a cast there below b", covers),
        Conjunct("MP-VOTE-HAS-2A", "every vote is for its ballot and slot's 2a value",
                 vote_2a),
    ]


CONJUNCTS = _conjuncts()


def _not_choosable(L, S, r, s, v):
    """No phase-2 quorum can choose v in ballot r and slot s any more."""
    return L.forall(("Q2",), lambda q: L.exists("A", lambda a: L.and_(
        S.m2(a, q), S.left(a, r), L.not_(S.msg2b(a, r, s, v)))))


def safe_2a(L, S, proposed):
    """In a slot where `proposed(t, s, w)`, below ballot t no value but w is choosable."""
    lt = _lt(L, S)
    return L.forall("BBSVV", lambda r, t, s, v, w: L.implies(
        L.and_(proposed(t, s, w), lt(r, t), L.not_(L.eq(v, w))),
        lambda: _not_choosable(L, S, r, s, v)))


def votes_safe(L, S):
    """Voting's VotesSafe per slot; the voter is existential in the antecedent, as in
    models/paxos/proof.py's `votes_safe` (else Acceptor -> Acceptor)."""
    return safe_2a(L, S, lambda t, s, w: L.exists("A", lambda a: S.msg2b(a, t, s, w)))


def agreement(L, S):
    """MP-AGREEMENT: in each slot, two values chosen (each by a phase-2 quorum's votes
    in one ballot) are equal."""
    def chosen(b, s, v, q):
        return L.forall("A", lambda a: L.implies(S.m2(a, q), S.msg2b(a, b, s, v)))
    return L.forall(("B", "B", "S", "V", "V", "Q2", "Q2"), lambda b, c, s, v, w, q, p:
                    L.implies(L.not_(L.eq(v, w)), lambda: L.not_(
                        L.and_(chosen(b, s, v, q), chosen(c, s, w, p)))))


CONSEQUENCES = [
    ("MP-VOTES-SAFE", "in each slot, below a vote's ballot no other value is choosable",
     votes_safe),
    ("MP-AGREEMENT", "at most one value is chosen per slot", agreement),
]


# -- the queries -----------------------------------------------------------------------


@dataclass
class MultiPaxosProof(P.InductiveProof):
    """The proof obligations of MultiPaxos (or of one mutant)."""

    model = "multipaxos"
    scope = "proved for all replicas, slots, ballots and commands"
    CONJUNCTS = CONJUNCTS
    CONSEQUENCES = CONSEQUENCES
    rules_for = staticmethod(rules_for)
    logic = staticmethod(logic)
    axioms = staticmethod(axioms)
    initial = staticmethod(initial)
    actions = staticmethod(actions)

    def minimize(self, solver, L, S) -> None:
        P.minimize(solver, L, S, shrink=SHRINK)

    # Defined below, with the rest of reading a model back.
    def read_cti(self, *args) -> dict[str, Any]:
        return read_cti(*args)


# -- a counterexample to induction, in the model's vocabulary --------------------------


def read_cti(m, L: Z3Logic, S, act: Action | None, p: dict, conjunct: str,
             init: bool) -> dict[str, Any]:
    """z3's model as a concrete MultiPaxos instance (ballots numbered in `le` order
    from none = -1, values c0, c1, ...), the state before (Inv holds) and after the
    action (the named conjunct fails)."""
    cti = P.cti_structures(m, L, S, act, p, init, SORTS, RELATIONS, initial)
    F, before, args, m1, m2, ids = cti.F, cti.before, cti.args, cti.m1, cti.m2, cti.ids
    n, slots = len(cti.univ["A"]), len(cti.univ["S"])
    after = None if cti.after is None else describe_relations(cti.after, n, slots)
    return {
        "constants": {
            "replicas": [replica_name(a) for a in range(n)],
            "slots": list(range(slots)),
            "ballots": sorted(b for b in ids["B"].values() if b != NONE),
            "values": [value_name(v) for v in sorted(ids["V"].values()) if v != NONE],
            "phase-1 quorums": [_replicas(a for a, q in m1 if q == i)
                                for i in F.domains["Q1"]],
            "phase-2 quorums": [_replicas(a for a, q in m2 if q == i)
                                for i in F.domains["Q2"]],
        },
        "conjunct": conjunct,
        "before": describe_relations(F.extension(before), n, slots),
        "action": format_action(act.name, args, m1) if act else None,
        "after": after,
    }


def _replicas(nodes) -> str:
    return "{" + ", ".join(replica_name(a) for a in sorted(nodes)) + "}"


def _bal(b: int):
    return "none" if b == NONE else b


def format_action(name: str, p: dict[str, int], m1: set) -> str:
    if name == "Phase1a":
        return f"Phase1a(b={p['b']})"
    if name == "Phase1b":
        return f"Phase1b({replica_name(p['a'])}, on 1a bal={p['b']})"
    if name == "Phase2a":
        q = _replicas(a for a, i in m1 if i == p["q"])
        return f"Phase2a(b={p['b']}, slot={p['s']}, {value_name(p['v'])}, Q={q})"
    if name == "Phase2b":
        return (f"Phase2b({replica_name(p['a'])}, on 2a bal={p['b']} slot={p['s']} "
                f"{value_name(p['v'])})")
    return f"Restart({replica_name(p['a'])}, acceptor state lost)"


def describe_relations(rels: dict[str, set], n: int, slots: int) -> dict[str, Any]:
    """A state of the relations as the model's variables (maxBal, accepted per slot,
    msgs), with the two derived relations beside them."""
    def top(pairs, default=NONE):
        found = sorted(pairs)
        return found[-1] if found else default

    names = [replica_name(a) for a in range(n)]
    reports: dict[tuple[int, int], list] = {}
    for a, b, s, r, v in sorted(rels["msg1b"]):
        reports.setdefault((a, b), []).append(Record(slot=s, vbal=_bal(r), vval=value_name(v)))
    msgs = ([Record(type="1a", bal=b) for (b,) in sorted(rels["msg1a"])]
            + [Record(type="1b", acc=names[a], bal=b, accepted=tuple(rs))
               for (a, b), rs in sorted(reports.items())]
            + [Record(type="2a", bal=b, slot=s, val=value_name(v))
               for b, s, v in sorted(rels["msg2a"])]
            + [Record(type="2b", acc=names[a], bal=b, slot=s, val=value_name(v))
               for a, b, s, v in sorted(rels["msg2b"])])
    covered: dict[tuple[int, int, int], int] = {}
    for a, b, s, r in rels["covers"]:
        covered[(a, b, s)] = max(r, covered.get((a, b, s), NONE))
    return {
        "maxBal": FnMap((names[a], _bal(top(r for x, r in rels["promised"] if x == a)))
                        for a in range(n)),
        "accepted": FnMap((names[a], tuple(
            Record(vbal=_bal(top(r for x, y, r in rels["vbal"] if (x, y) == (a, s))),
                   vval=value_name(top(v for x, y, v in rels["vval"] if (x, y) == (a, s))))
            for s in range(slots))) for a in range(n)),
        "msgs": TlaSet(msgs),
        "sent1b": TlaSet((names[a], b) for a, b in sorted(rels["sent1b"])),
        "covers": TlaSet((names[a], b, s, _bal(r)) for (a, b, s), r in sorted(covered.items())),
    }


# -- the model's states and steps as relations, for the tests that hold them together --


def domains(model) -> Finite:
    """The finite structure of one model instance: replicas, ballots none..max_round-1,
    values none, no-op and the commands, slots, and both quorum systems."""
    cfg = model.cfg
    return Finite({"A": list(range(cfg.n)), "B": [NONE, *range(cfg.max_round)],
                   "V": [NONE, NOOP, *range(cfg.commands)], "S": list(range(cfg.slots)),
                   "Q1": list(range(len(cfg.quorums))),
                   "Q2": list(range(len(phase2_quorums(model))))}, RELATIONS)


def phase2_quorums(model) -> list[tuple[int, ...]]:
    """The smallest sets whose acceptances choose a value (actions.Config.chooses)."""
    return list(combinations(range(model.cfg.n), model.cfg.quorum_size))


def acceptor_state(s: MPState, a: int, durable: bool) -> tuple[int, tuple]:
    """a's promise and per-slot votes. Under crash-stop a crashed acceptor's are
    cleared, and it never acts again; they are then read from its messages: its
    promise is the highest ballot it sent a 1b or 2b in, its vote in a slot its
    highest-ballot 2b there (a test checks that this is its state while it is up)."""
    if durable or s.up[a] != DOWN:
        return s.max_bal[a], s.accepted[a]
    mb, acc = NONE, list((NONE, NONE) for _ in s.accepted[a])
    for m in s.msgs:
        if m[0] in (P1B, P2B) and m[1] == a:
            mb = max(mb, m[2])
            if m[0] == P2B and m[2] > acc[m[3]][0]:
                acc[m[3]] = (m[2], m[4])
    return mb, tuple(acc)


def abstraction(s: MPState, model) -> dict[str, set]:
    """The relations of an MPState (proposer, learner and liveness state dropped)."""
    cfg = model.cfg
    ballots = [NONE, *range(cfg.max_round)]
    r = {name: set() for name in RELATIONS}
    for a in range(cfg.n):
        mb, acc = acceptor_state(s, a, cfg.durable)
        for b in ballots:
            if b <= mb:
                r["promised"].add((a, b))
            if b < mb:
                r["left"].add((a, b))
        for sl, (vb, vv) in enumerate(acc):
            r["vbal"].add((a, sl, vb))
            r["vval"].add((a, sl, vv))
            r["vle"].update((a, sl, b) for b in ballots if b <= vb)
    for m in s.msgs:
        if m[0] == P1A:
            r["msg1a"].add((m[1],))
        elif m[0] == P1B:
            a, b = m[1], m[2]
            r["sent1b"].add((a, b))
            for sl, (vb, vv) in enumerate(m[3]):
                r["msg1b"].add((a, b, sl, vb, vv))
                if vb != NONE:
                    r["covers"].update((a, b, sl, x) for x in ballots if x <= vb)
        elif m[0] == P2A:
            r["msg2a"].add(m[1:])
        else:
            r["msg2b"].add(m[1:])
    return r


def abstract_steps(s: MPState, a: tuple, model) -> list[tuple[str, dict[str, int]]]:
    """The abstract actions one step of the model is, in order, with their arguments
    (Phase2a's quorum and witnesses left for the caller to find): Prepare is
    Phase1a and the leader's own Phase1b; Lead one Phase2a per re-proposed slot;
    Propose one Phase2a in the leader's next slot; Accept Phase2b; an amnesiac
    Restart the Restart action; everything else a stutter."""
    cfg, name = model.cfg, a[0]
    if name == "Prepare":
        return ([("Phase1a", {"b": a[2]}), ("Phase1b", {"a": a[1], "b": a[2]})]
                if cfg.rules.run_phase1 else [])
    if name == "Promise":
        return [("Phase1b", {"a": a[1], "b": a[2]})]
    if name == "Lead":
        return [("Phase2a", {"b": s.lead[a[1]], "s": sl, "v": v})
                for sl, v in enumerate(a[3])]
    if name == "Propose":
        return [("Phase2a", {"b": s.lead[a[1]], "s": s.next_slot[a[1]], "v": a[2]})]
    if name == "Accept":
        return [("Phase2b", {"a": a[1], "b": a[2], "s": a[3], "v": a[4]})]
    if name == "Restart" and not cfg.rules.durable_acceptor:
        return [("Restart", {"a": a[1]})]
    return []


def build(mutant: str | None = None) -> MultiPaxosProof:
    """The registry's entry point (models/registry.py `proof_for`)."""
    return MultiPaxosProof(mutant)
