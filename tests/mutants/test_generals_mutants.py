"""The checker must find every Byzantine Generals mutant's bug, with the shortest
counterexample.

Each mutant breaks one rule of Lamport, Shostak and Pease's OM(m) or SM(m); the pinned
figures are the property breadth-first search reports first and the number of steps
of its counterexample, on the smallest parameters that expose the mutant (the
defaults, or those it declares). Each invariant is also shown to fail on its own on
some mutant, and to hold on the correct model with the same parameters, so neither
IC1 nor IC2 is a check that cannot fail.
"""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Options, check, replays
from smrcheck.models.registry import MODELS

SPEC = MODELS["generals"]


def build(mutant: str | None, assignments: list[str]):
    return SPEC.build(SPEC.resolve_params(assignments), mutant)


# mutant -> (parameters, property reported first, steps of the shortest counterexample)
FIRST_VIOLATION = {
    "no-relay": ([], "GENERALS-IC1", 2),
    "ignore-own-value": ([], "GENERALS-IC2", 5),
    "tie-own-value": (["generals=5"], "GENERALS-IC1", 6),
    "sm-forged": (["algorithm=sm"], "GENERALS-IC1", 5),
    "sm-no-relay": (["algorithm=sm"], "GENERALS-IC1", 4),
}

# property -> [(mutant, parameters, steps of the shortest counterexample when the
# property is checked alone)]
BROKEN_ALONE = {
    "GENERALS-IC1": [("no-relay", [], 2), ("ignore-own-value", [], 5),
                     ("tie-own-value", ["generals=3"], 4), ("sm-no-relay", ["algorithm=sm"], 4),
                     ("sm-forged", ["algorithm=sm"], 5)],
    "GENERALS-IC2": [("ignore-own-value", [], 5), ("sm-forged", ["algorithm=sm"], 5),
                     ("sm-forged", ["algorithm=sm", "generals=3"], 5)],
}


def test_every_mutant_is_pinned():
    assert set(FIRST_VIOLATION) == {m.name for m in SPEC.mutants}


@pytest.mark.parametrize("mutant", sorted(FIRST_VIOLATION))
def test_mutant_caught_with_shortest_counterexample(mutant):
    assignments, prop, steps = FIRST_VIOLATION[mutant]
    model = build(mutant, assignments)
    r = check(model, Options(), name="generals", mutant=mutant)
    assert r.result == "violation" and r.exit_code == 1
    assert r.violation.property == prop
    assert len(r.violation.trace) - 1 == steps
    assert replays(model, r.violation.trace)
    # The correct model holds on the same parameters: the mutant's rule is the bug.
    assert check(build(None, assignments), Options()).result == "ok"


@pytest.mark.parametrize("prop,mutant,assignments,steps", [
    (p, m, a, n) for p, cases in BROKEN_ALONE.items() for m, a, n in cases])
def test_invariant_fails_alone_on_mutant(prop, mutant, assignments, steps):
    r = check(build(mutant, assignments), Options(properties=[prop]))
    assert r.violation is not None and r.violation.property == prop
    assert len(r.violation.trace) - 1 == steps


def test_every_invariant_breaks_on_some_mutant_at_the_defaults():
    model = build(None, [])
    invariants = {p.id for p in model.properties() if p.kind == "always"}
    assert invariants == set(BROKEN_ALONE)
    for prop, cases in BROKEN_ALONE.items():
        assert any(a == [] for _, a, _ in cases), prop
    assert check(model, Options()).result == "ok"


def test_figure_2_is_the_tie_own_value_counterexample():
    """§2, Figure 2: a traitorous commander tells L1 one order and L2 the other; each
    loyal lieutenant relays what it got. Breaking the tie by the commander's own
    message, which is what lets L1 obey in Figure 1, makes them obey different orders."""
    r = check(build("tie-own-value", ["generals=3"]), Options(properties=["GENERALS-IC1"]))
    trace = r.violation.trace
    assert list(trace[0].state["traitors"]) == ["C"]
    assert trace[1].action == "Order: the traitorous commander sends L1 retreat, L2 attack"
    assert [s.action for s in trace[2:]] == [
        "Relay(L1): L1 relays retreat, the value it received",
        "Relay(L2): L2 relays attack, the value it received",
        "Decide: each loyal lieutenant obeys the majority"]
    assert dict(trace[-1].state["decision"]) == {"L1": "retreat", "L2": "attack"}


def test_a_forged_signature_is_the_sm_forged_counterexample():
    """With signatures unchecked, traitor L2 signs retreat in the loyal commander's
    name and L1, holding two orders, retreats (IC2); with them checked, SM(1) holds on
    three generals (tests/models/test_generals.py)."""
    r = check(build("sm-forged", ["algorithm=sm", "generals=3"]),
              Options(properties=["GENERALS-IC2"]))
    actions = [s.action for s in r.violation.trace[1:]]
    assert "Traitor: L2 sends retreat:C:L2 to L1" in actions
    assert dict(r.violation.trace[-1].state["decision"]) == {"L1": "retreat"}


@pytest.mark.parametrize("mutant", ["sm-forged", "sm-no-relay"])
def test_sm_mutants_change_nothing_in_om(mutant):
    """They break SM's rules only: at the defaults (OM) the run is the correct one."""
    r = check(build(mutant, []), Options())
    assert (r.result, r.distinct_states) == ("ok", 47)
