"""`smrcheck prove paxos`: the proof, its mutants, and the two copies held together.

models/paxos/proof.py writes Paxos's actions a second time, as guards and updates over
relations, and its invariant as formulas; z3 proves the invariant inductive for every
size. These tests check the proof from both sides:

- the prover: Paxos is proved; every mutant that breaks safety fails with a CTI naming
  the query (and so the conjunct) it breaks; each conjunct Paxos.tla's argument needs
  is needed (dropping it leaves a CTI), and the two that follow from the others are
  said to;
- the explorer: on every state a small instance reaches, each conjunct holds, each
  conjunct named after a property of invariants.py agrees with that property (on the
  mutants' states too, where they fail), and each action's guard holds for exactly
  the witnesses `enabled_actions` lists, with an update that is exactly the
  relations of `next_state`'s successor.
"""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace

import pytest

from smrcheck.checker.prove import PROVED_TEXT, prove
from smrcheck.checker.search import reachable_states
from smrcheck.models.paxos import proof as P
from smrcheck.models.paxos.mutants import MUTANTS
from smrcheck.models.paxos.spec import PaxosModel

# Mutants that break safety, and the query whose CTI names what they break first.
FIRST_CTI = {
    "ignore-1b-values": "Inv /\\ Phase2a => PAXOS-2A-SAFE'",
    "minority-quorums": "Inv /\\ Phase2a => PAXOS-2A-SAFE'",
    "vote-below-promise": "Inv /\\ Phase2b => PAXOS-INV3-1B'",
    "1b-reports-promise": "Inv /\\ Phase1b => PAXOS-INV3-1B'",
    "forget-vote-ballot": "Inv /\\ Phase2b => PAXOS-INV2'",
    "duplicate-2a": "Inv /\\ Phase2a => PAXOS-ONE-2A'",
}
# strict-promise only stops values from being chosen (tests/mutants: PAXOS-CHOSEN, a
# `sometimes` goal): it is safe, and an invariant cannot say otherwise.
SAFE_MUTANTS = {"strict-promise"}
# A consequence of the other conjuncts, kept because invariants.py names it.
IMPLIED = {"PAXOS-ONE-VALUE-PER-BALLOT"}
# Conjuncts that say on a reachable state exactly what the property of that id says.
SAME_AS_PROPERTY = ("PAXOS-INV2", "PAXOS-INV3-1B", "PAXOS-ONE-VALUE-PER-BALLOT")


def test_paxos_is_proved_for_every_size():
    r = prove(P.build(None))
    assert r.result == "proved" and r.exit_code == 0, [q for q in r.queries
                                                       if q.result != "proved"]
    assert r.cti is None and PROVED_TEXT == "proved for all acceptors, values and ballots"
    names = [n for n, _ in r.conjuncts]
    # Init, each of the four actions, for each conjunct; Inv => VotesSafe, Agreement
    assert len(r.queries) == 5 * len(names) + 2
    assert [n for n, _ in r.consequences] == ["PAXOS-VOTES-SAFE", "PAXOS-AGREEMENT"]
    assert {q.action for q in r.queries} == {"Init", "Phase1a", "Phase1b", "Phase2a",
                                             "Phase2b", None}
    assert r.queries[-1].name == "Inv => PAXOS-AGREEMENT"
    assert r.seconds < 30


def test_every_mutant_is_covered():
    assert set(FIRST_CTI) | SAFE_MUTANTS == set(MUTANTS)


@pytest.mark.slow
@pytest.mark.parametrize("mutant", sorted(FIRST_CTI))
def test_each_unsafe_mutant_fails_with_a_cti(mutant):
    r = prove(P.build(mutant), stop_on_violation=True)
    assert r.result == "violation" and r.exit_code == 1
    assert r.cti["query"] == FIRST_CTI[mutant]
    failed = next(q for q in r.queries if q.result == "violation")
    assert r.cti["conjunct"] == failed.conjunct
    before = r.trace[0]
    assert before.action is None and set(before.state) >= {"maxBal", "maxVBal", "maxVal",
                                                           "msgs"}
    # the action with its arguments, and what it changed
    assert r.trace[1].action.startswith(failed.action + "(") and r.trace[1].changes
    assert len(r.cti["constants"]["acceptors"]) <= 3  # shrunk before it is shown


def test_strict_promise_is_safe():
    assert prove(P.build("strict-promise")).result == "proved"


@pytest.mark.slow
@pytest.mark.parametrize("dropped", [c.name for c in P.CONJUNCTS])
def test_each_conjunct_is_needed_or_implied(dropped):
    r = prove(P.PaxosProof(None, (dropped,)), stop_on_violation=True)
    if dropped in IMPLIED:
        assert r.result == "proved"
        return
    assert r.result == "violation", f"Inv without {dropped} is still inductive"
    assert r.cti is not None and r.trace


def test_without_1b_covers_phase2a_breaks_2a_safe():
    """The conjunct Padon et al.'s Paxos needs and Paxos.tla leaves to 1b messages."""
    r = prove(P.PaxosProof(None, ("PAXOS-1B-COVERS",)), stop_on_violation=True)
    assert r.result == "violation"
    assert r.cti["query"] == "Inv /\\ Phase2a => PAXOS-2A-SAFE'"
    assert r.trace[1].action.startswith("Phase2a(")


# -- the explorer's states against the formulas ----------------------------------------


def finite(model: PaxosModel):
    F = P.domains(model.n, model.ballots, model.n_values, model.quorums, model.quorums2)
    return F, P.membership(model.quorums), P.membership(model.quorums2)


def structure(F, m1, m2, s):
    return F.structure(P.abstraction(s, F.domains["B"]), m1, m2)


def encoded_successors(F, S, rules):
    """Every action instance whose guard holds in S, with its successor's relations."""
    out = {}
    for act in P.actions(rules):
        names = [n for n, _ in act.params]
        witnesses = [n for n, _ in act.witnesses]
        for args in product(*(F.domains[t] for _, t in act.params)):
            p = dict(zip(names, args))
            enabled = F.exists([t for _, t in act.witnesses], lambda *w: act.guard(
                F, S, {**p, **dict(zip(witnesses, w))})) if witnesses else act.guard(F, S, p)
            if enabled:
                post = SimpleNamespace(**{**vars(S), **act.update(F, S, p)})
                out[(act.name, *args)] = F.extension(post)
    return out


def python_successors(model, s):
    """The same from the Python model: Phase2a's quorum as its index, as in the encoding."""
    out = {}
    for a in model.actions(s):
        key = (a[0], *a[1:3], model.quorums.index(a[3])) if a[0] == "Phase2a" else a
        out[key] = P.abstraction(model.next_state(s, a), list(range(-1, len(model.ballots))))
    return out


def check_transitions(model, states):
    F, m1, m2 = finite(model)
    for s in states:
        S = structure(F, m1, m2, s)
        encoded = encoded_successors(F, S, model.rules)
        python = python_successors(model, s)
        assert encoded.keys() == python.keys(), s
        for key, rels in python.items():
            assert encoded[key] == rels, (s, key)


def check_conjuncts(model, states):
    F, m1, m2 = finite(model)
    formulas = [(c.name, c.formula) for c in P.CONJUNCTS]
    formulas += [(name, f) for name, _, f in P.CONSEQUENCES]
    for s in states:
        S = structure(F, m1, m2, s)
        for name, formula in formulas:
            assert formula(F, S), (name, s)


@pytest.mark.parametrize("mutant", [None, *MUTANTS])
def test_transitions_agree_with_next_state(mutant):
    """On every state of 2 acceptors, 2 values, ballots 0..1 (the mutant's own space):
    the guard holds exactly for the actions `enabled_actions` lists, and the update
    gives exactly the relations of the Python successor."""
    model = PaxosModel(2, 2, 1, mutant)
    check_transitions(model, reachable_states(model))


def test_conjuncts_hold_where_the_explorer_goes():
    for size in ((2, 2, 1), (3, 2, 0)):
        model = PaxosModel(*size)
        check_conjuncts(model, reachable_states(model))


@pytest.mark.parametrize("n, quorums", [(3, "flexible:q1=3,q2=1"), (2, "flexible:q1=2,q2=1")])
def test_flexible_quorums(n, quorums):
    """The proof's two quorum sorts are Flexible Paxos's: 1b messages are awaited from
    a phase-1 quorum, a value is chosen by a phase-2 quorum. With q1 != q2 the
    encoding still agrees with the model, and every conjunct still holds."""
    model = PaxosModel(n, 2, 1, None, quorums)
    states = reachable_states(model)
    check_transitions(model, states)
    check_conjuncts(model, states)


@pytest.mark.slow
def test_conjuncts_and_transitions_at_the_default_size(slow_size):
    """3 acceptors, 2 values, ballots 0..1 (3,921 states): every conjunct the prover
    proves inductive holds in every state; transitions on every fourth."""
    if slow_size != "full":
        pytest.skip("3,921 states (20 s) run with SMRCHECK_SLOW_SIZE=full; the 2-acceptor "
                    "tests check every state of theirs")
    model = PaxosModel(3, 2, 1)
    states = sorted(reachable_states(model))
    check_conjuncts(model, states)
    check_transitions(model, states[::4])


@pytest.mark.parametrize("mutant", [None, *MUTANTS])
def test_conjuncts_mean_what_the_properties_say(mutant):
    """Where a conjunct has the id of a property of invariants.py, both agree on every
    state (the mutants' states included, where they fail), and so does agreement."""
    model = PaxosModel(2, 2, 1, mutant)
    F, m1, m2 = finite(model)
    props = {p.id: p for p in model.properties()}
    formulas = {c.name: c.formula for c in P.CONJUNCTS if c.name in SAME_AS_PROPERTY}
    formulas["PAXOS-AGREEMENT"] = P.agreement
    for s in reachable_states(model):
        S = structure(F, m1, m2, s)
        for name, formula in formulas.items():
            assert formula(F, S) == props[name].holds(s), (name, s)


# -- the fragment ------------------------------------------------------------------------


def alternation_edges(formula, positive=True, universals=(), edges=None):
    """The quantifier alternation graph of `formula` asserted (positive) or refuted:
    an edge from the sort of each universal to the sort of each existential inside
    it, Skolemisation's function symbols. Connectives that see both polarities (iff,
    if-then-else conditions) are walked both ways."""
    import z3

    edges = set() if edges is None else edges
    if z3.is_quantifier(formula):
        sorts = [formula.var_sort(i).name() for i in range(formula.num_vars())]
        if formula.is_forall() == positive:
            universals = (*universals, *sorts)
        else:
            edges.update((u, s) for u in universals for s in sorts)
        alternation_edges(formula.body(), positive, universals, edges)
    elif z3.is_not(formula):
        alternation_edges(formula.arg(0), not positive, universals, edges)
    elif z3.is_and(formula) or z3.is_or(formula):
        for child in formula.children():
            alternation_edges(child, positive, universals, edges)
    elif z3.is_implies(formula):
        alternation_edges(formula.arg(0), not positive, universals, edges)
        alternation_edges(formula.arg(1), positive, universals, edges)
    elif z3.is_app_of(formula, z3.Z3_OP_ITE) or (
            z3.is_eq(formula) and z3.is_bool(formula.arg(0))):
        for child in formula.children():
            if z3.is_bool(child):
                alternation_edges(child, True, universals, edges)
                alternation_edges(child, False, universals, edges)
    return edges


def has_cycle(edges) -> bool:
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    done: set[str] = set()

    def visit(node, path):
        if node in path:
            return True
        if node in done:
            return False
        found = any(visit(n, path | {node}) for n in graph.get(node, ()))
        done.add(node)
        return found
    return any(visit(n, frozenset()) for n in list(graph))


def test_every_query_is_in_epr():
    """No function symbols, and Skolemising each query gives functions only along the
    acyclic Quorum1, Quorum2, Ballot, Value -> Acceptor: its Herbrand universe is
    finite, so z3 decides it (proof.py's docstring)."""
    import z3

    seen = set()
    for mutant in (None, *MUTANTS):
        for q in P.build(mutant).queries():
            edges = set()
            for f in q.assertions:
                alternation_edges(f, True, (), edges)
            assert not has_cycle(edges), (q.name, sorted(edges))
            seen |= edges
    assert seen == {("Q1", "A"), ("Q2", "A"), ("B", "A"), ("V", "A")}
    # ... and a formula that leaves the fragment is caught: VotesSafe with its voter
    # quantified outside the "not choosable" existential (Acceptor -> Acceptor)
    L = P.Z3Logic()
    S = L.symbols()
    outside = L.forall("ABBVV", lambda a, r, s, v, w: z3.Implies(
        z3.And(S.msg2b(a, s, w), S.le(r, s), r != s, v != w), P._not_choosable(L, S, r, v)))
    assert ("A", "A") in alternation_edges(outside) and has_cycle(alternation_edges(outside))
    assert not has_cycle(alternation_edges(P.votes_safe(L, S)))


def test_paxos_tla_inv_alone_is_not_inductive():
    """tlaplus/Examples' README: Tristan found Paxos.tla's Inv an invariant but not
    inductive. Its conjuncts without the two this proof adds about messages (1b
    reports cover the sender's votes; every vote has its 2a) leave a CTI."""
    r = prove(P.PaxosProof(None, ("PAXOS-1B-COVERS", "PAXOS-VOTE-HAS-2A")),
              stop_on_violation=True)
    assert r.result == "violation" and r.trace
