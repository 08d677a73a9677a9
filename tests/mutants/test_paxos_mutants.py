"""The checker must find every paxos mutant's bug, with the shortest counterexample.

Like Hypothesis's quality/ tests: each mutant breaks one rule of Paxos.tla, and the
pinned figures are the property breadth-first search reports first and the number of
steps of its counterexample. Each invariant is also shown to fail on its own (checked
alone) on some mutant and to hold on the correct model, so no invariant is a check
that cannot fail.
"""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Options, Strategy, check, replays
from smrcheck.models.paxos.mutants import MUTANTS
from smrcheck.models.paxos.spec import PaxosModel

# mutant -> (property reported first, steps of the shortest counterexample)
FIRST_VIOLATION = {
    "ignore-1b-values": ("PAXOS-INV3-2A", 9),
    "minority-quorums": ("PAXOS-AGREEMENT", 8),
    "vote-below-promise": ("PAXOS-INV3-1B", 7),
    "1b-reports-promise": ("PAXOS-INV3-1B", 4),
    "forget-vote-ballot": ("PAXOS-INV2", 5),
    "duplicate-2a": ("PAXOS-INV3-2A", 5),
}

# property -> (a mutant that breaks it, steps of the shortest counterexample when the
# property is checked alone)
BROKEN_ALONE = {
    "PAXOS-AGREEMENT": [("minority-quorums", 8), ("duplicate-2a", 9),
                        ("ignore-1b-values", 12), ("vote-below-promise", 12),
                        ("forget-vote-ballot", 12)],
    "PAXOS-INV2": [("forget-vote-ballot", 5)],
    "PAXOS-INV3-1B": [("1b-reports-promise", 4), ("vote-below-promise", 7)],
    "PAXOS-INV3-2A": [("duplicate-2a", 5), ("ignore-1b-values", 9)],
    "PAXOS-VOTES-SAFE": [("ignore-1b-values", 10), ("duplicate-2a", 12)],
    "PAXOS-ONE-VALUE-PER-BALLOT": [("duplicate-2a", 7)],
}


def test_every_mutant_is_pinned():
    assert set(FIRST_VIOLATION) | {"strict-promise"} == set(MUTANTS)


@pytest.mark.parametrize("mutant", sorted(FIRST_VIOLATION))
def test_mutant_caught_with_shortest_counterexample(mutant):
    prop, steps = FIRST_VIOLATION[mutant]
    model = PaxosModel(3, 2, 1, mutant)
    r = check(model, Options(), name="paxos", mutant=mutant)
    assert r.result == "violation" and r.exit_code == 1
    assert r.violation.property == prop
    assert len(r.violation.trace) - 1 == steps
    assert replays(model, r.violation.trace)


@pytest.mark.parametrize(
    "prop,mutant,steps", [(p, m, n) for p, cases in BROKEN_ALONE.items() for m, n in cases]
)
def test_invariant_fails_alone_on_mutant(prop, mutant, steps):
    r = check(PaxosModel(3, 2, 1, mutant), Options(properties=[prop]))
    assert r.violation is not None and r.violation.property == prop
    assert len(r.violation.trace) - 1 == steps


def test_every_invariant_breaks_on_some_mutant_and_holds_on_correct_model():
    model = PaxosModel(3, 2, 1)
    invariants = {p.id for p in model.properties() if p.kind == "always"}
    assert invariants == set(BROKEN_ALONE)
    assert check(model, Options()).result == "ok"


def test_strict_promise_makes_the_model_vacuous():
    """No value can be chosen: the `sometimes` goal catches what no invariant can."""
    r = check(PaxosModel(3, 2, 1, "strict-promise"), Options())
    assert r.result == "violation"
    assert r.violation.property == "PAXOS-CHOSEN" and r.violation.kind == "sometimes"
    assert r.unreached == ["PAXOS-CHOSEN"]


def test_dfs_also_catches_mutants():
    r = check(PaxosModel(3, 2, 1, "minority-quorums"), Options(strategy=Strategy("dfs")))
    assert r.violation.property == "PAXOS-AGREEMENT"
    # DFS promises no shortest path, only a valid one at least as long as BFS's.
    assert len(r.violation.trace) - 1 >= 8
    assert replays(PaxosModel(3, 2, 1, "minority-quorums"), r.violation.trace)
