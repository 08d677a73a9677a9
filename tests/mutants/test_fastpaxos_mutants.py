"""The checker must find every fastpaxos mutant's bug, with the shortest counterexample.

Each mutant breaks one rule of Lamport's Fast Paxos; the pinned figures are the
property breadth-first search reports first on the default parameters (four
acceptors, two values, a fast round then a classic one) and the number of steps of its
counterexample. Each invariant is also shown to fail on its own (checked alone) on
some mutant and to hold on the correct model, so no invariant is a check that cannot
fail.
"""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Options, check, replays
from smrcheck.models.fastpaxos.mutants import MUTANTS
from smrcheck.models.fastpaxos.spec import FastPaxosModel

# mutant -> (property reported first, steps of the shortest counterexample)
FIRST_VIOLATION = {
    "small-fast-quorums": ("FASTPAXOS-2A-SAFE", 7),
    "recovery-ignores-fast-rule": ("FASTPAXOS-2A-SAFE", 7),
    "vote-twice-in-fast-round": ("FASTPAXOS-ONE-VOTE-PER-ROUND", 5),
    "duplicate-2a": ("FASTPAXOS-ONE-2A-PER-ROUND", 8),
    "invent-value": ("FASTPAXOS-VALIDITY", 8),
    "vote-below-promise": ("FASTPAXOS-2A-SAFE", 9),
}

# property -> [(a mutant that breaks it, steps of the shortest counterexample when the
# property is checked alone)]
BROKEN_ALONE = {
    "FASTPAXOS-AGREEMENT": [("small-fast-quorums", 7), ("recovery-ignores-fast-rule", 11),
                            ("vote-twice-in-fast-round", 9), ("duplicate-2a", 14),
                            ("vote-below-promise", 13)],
    "FASTPAXOS-VALIDITY": [("invent-value", 8)],
    "FASTPAXOS-VOTES-SAFE": [("small-fast-quorums", 8), ("recovery-ignores-fast-rule", 8),
                             ("vote-twice-in-fast-round", 9), ("vote-below-promise", 10)],
    "FASTPAXOS-2A-SAFE": [("small-fast-quorums", 7), ("recovery-ignores-fast-rule", 7),
                          ("vote-twice-in-fast-round", 8), ("vote-below-promise", 9)],
    "FASTPAXOS-ONE-2A-PER-ROUND": [("duplicate-2a", 8)],
    "FASTPAXOS-ONE-VOTE-PER-ROUND": [("vote-twice-in-fast-round", 5), ("duplicate-2a", 10)],
}


def test_every_mutant_is_pinned():
    assert set(FIRST_VIOLATION) == set(MUTANTS)


@pytest.mark.parametrize("mutant", sorted(FIRST_VIOLATION))
def test_mutant_caught_with_shortest_counterexample(mutant):
    prop, steps = FIRST_VIOLATION[mutant]
    model = FastPaxosModel(mutant=mutant)
    r = check(model, Options(), name="fastpaxos", mutant=mutant)
    assert r.result == "violation" and r.exit_code == 1
    assert r.violation.property == prop
    assert len(r.violation.trace) - 1 == steps
    assert replays(model, r.violation.trace)


@pytest.mark.parametrize(
    "prop,mutant,steps", [(p, m, n) for p, cases in BROKEN_ALONE.items() for m, n in cases]
)
def test_invariant_fails_alone_on_mutant(prop, mutant, steps):
    r = check(FastPaxosModel(mutant=mutant), Options(properties=[prop]))
    assert r.violation is not None and r.violation.property == prop
    assert len(r.violation.trace) - 1 == steps


def test_every_invariant_breaks_on_some_mutant_and_holds_on_correct_model():
    model = FastPaxosModel()
    invariants = {p.id for p in model.properties() if p.kind == "always"}
    assert invariants == set(BROKEN_ALONE)
    assert check(model, Options()).result == "ok"


def test_small_fast_quorums_break_agreement_after_a_collision():
    """With five acceptors, fast quorums of 3 (not 4) still meet pairwise, so no two
    values are chosen in one fast round: the second value is chosen by the recovery
    round, whose O4 rule finds both values possibly chosen."""
    model = FastPaxosModel(5, mutant="small-fast-quorums")
    r = check(model, Options(properties=["FASTPAXOS-AGREEMENT"]))
    assert r.violation.property == "FASTPAXOS-AGREEMENT"
    assert len(r.violation.trace) - 1 == 11
    assert "in fast round 1" in r.violation.message
    assert "in classic round 2" in r.violation.message
    fast_votes = {step.action.rsplit(" ", 1)[-1].rstrip(")")
                  for step in r.violation.trace[1:] if step.action.startswith("Phase2bAny")}
    assert fast_votes == {"v1", "v2"}  # a collision in the fast round
    assert replays(model, r.violation.trace)


def test_o4_needs_four_acceptors():
    """With three acceptors every fast quorum is all of them, so a value chosen fast
    is the only value a recovery quorum reports: ignoring O4 changes nothing."""
    r = check(FastPaxosModel(3, mutant="recovery-ignores-fast-rule"), Options())
    assert r.result == "ok"
