"""The checker must find every multipaxos mutant's bug, with the shortest counterexample.

Like Hypothesis's quality/ tests: each mutant breaks one rule of Paxos Made Simple §3,
and the pinned figures are the property breadth-first search reports first and the
number of steps of its counterexample, in the smallest configuration that shows it.
Each invariant is also shown to fail on its own (checked alone) on some mutant and to
hold on the correct model, so no invariant is a check that cannot fail. Symmetry
reduction must not change a verdict or a counterexample's length.
"""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Options, Strategy, check, replays
from smrcheck.models.multipaxos.mutants import MUTANTS
from smrcheck.models.multipaxos.spec import MultiPaxosModel

# (replicas, slots, max_round, commands, crashes, recovery)
SMALL = (3, 1, 2, 2, 0, "none")  # one slot, two ballots, two commands
THREE_ROUNDS = (3, 1, 3, 2, 0, "none")  # a vote, a chosen value and a third leader
RESTART = (3, 1, 2, 2, 1, "durable")  # one crash, restart with acceptor state
TWO_SLOTS = (3, 2, 2, 2, 0, "none")  # a command chosen in two slots

# mutant -> (configuration, property reported first, steps of the shortest
# counterexample)
FIRST_VIOLATION = {
    "ignore-promised-values": (SMALL, "MP-CHOSEN-STABLE", 10),
    "lowest-ballot-value": (THREE_ROUNDS, "MP-CHOSEN-STABLE", 14),
    "skip-phase-1": (SMALL, "MP-CHOSEN-STABLE", 6),
    "minority-quorums": (SMALL, "MP-CHOSEN-STABLE", 7),
    "accept-below-promise": (SMALL, "MP-PROMISE", 6),
    "amnesiac-restart": (RESTART, "MP-PROMISE", 3),
    "learn-across-ballots": (SMALL, "MP-EXECUTED-CHOSEN", 9),
    "execute-duplicates": (TWO_SLOTS, "MP-AT-MOST-ONCE", 12),
    "promise-reports-promised-ballot": (SMALL, "MP-VALIDITY", 5),
}

# property -> [(mutant, configuration, steps of the shortest counterexample when the
# property is checked alone)]. lowest-ballot-value breaks MP-CHOSEN-STABLE first
# (above) and MP-AGREEMENT alone in 16 steps, a slower run (test below).
BROKEN_ALONE = {
    "MP-AGREEMENT": [("skip-phase-1", SMALL, 8), ("minority-quorums", SMALL, 8),
                     ("ignore-promised-values", SMALL, 12),
                     ("accept-below-promise", SMALL, 12),
                     ("amnesiac-restart", RESTART, 14)],
    "MP-VALIDITY": [("promise-reports-promised-ballot", SMALL, 5)],
    "MP-LOG-PREFIX": [("minority-quorums", RESTART, 11),
                      ("amnesiac-restart", RESTART, 15)],
    "MP-AT-MOST-ONCE": [("execute-duplicates", TWO_SLOTS, 12)],
    "MP-PROMISE": [("amnesiac-restart", RESTART, 3), ("accept-below-promise", SMALL, 6)],
    "MP-CHOSEN-STABLE": [("skip-phase-1", SMALL, 6), ("minority-quorums", SMALL, 7),
                         ("ignore-promised-values", SMALL, 10),
                         ("accept-below-promise", SMALL, 10),
                         ("amnesiac-restart", RESTART, 12)],
    "MP-EXECUTED-CHOSEN": [("learn-across-ballots", SMALL, 9)],
}

# Cases that take more than a few seconds on a 2-core machine.
SLOW = {("lowest-ballot-value", "symmetry-off")}


def model(cfg, mutant=None) -> MultiPaxosModel:
    return MultiPaxosModel(*cfg, mutant=mutant)


def test_every_mutant_is_pinned():
    assert set(FIRST_VIOLATION) == set(MUTANTS)


@pytest.mark.parametrize("mutant", sorted(FIRST_VIOLATION))
def test_mutant_caught_with_shortest_counterexample(mutant):
    cfg, prop, steps = FIRST_VIOLATION[mutant]
    m = model(cfg, mutant)
    r = check(m, Options(), name="multipaxos", mutant=mutant)
    assert r.result == "violation" and r.exit_code == 1
    assert r.violation.property == prop and r.violation.kind == "always"
    assert len(r.violation.trace) - 1 == steps
    assert replays(m, r.violation.trace)


def _symmetry_cases():
    for mutant in sorted(FIRST_VIOLATION):
        marks = [pytest.mark.slow] if (mutant, "symmetry-off") in SLOW else []
        yield pytest.param(mutant, marks=marks, id=mutant)


@pytest.mark.parametrize("mutant", list(_symmetry_cases()))
def test_symmetry_changes_no_verdict_nor_length(mutant, slow_size):
    if (mutant, "symmetry-off") in SLOW and slow_size != "full":
        pytest.skip("its unreduced run (a minute) runs with SMRCHECK_SLOW_SIZE=full")
    cfg, prop, steps = FIRST_VIOLATION[mutant]
    on = check(model(cfg, mutant), Options(symmetry=True))
    off = check(model(cfg, mutant), Options(symmetry=False))
    assert on.symmetry and not off.symmetry
    assert on.violation.property == off.violation.property == prop
    assert len(on.violation.trace) == len(off.violation.trace) == steps + 1
    assert off.distinct_states > on.distinct_states
    assert replays(model(cfg, mutant), off.violation.trace)


@pytest.mark.parametrize(
    "prop,mutant,cfg,steps",
    [(p, m, c, n) for p, cases in BROKEN_ALONE.items() for m, c, n in cases],
)
def test_invariant_fails_alone_on_mutant(prop, mutant, cfg, steps):
    r = check(model(cfg, mutant), Options(properties=[prop]))
    assert r.violation is not None and r.violation.property == prop
    assert len(r.violation.trace) - 1 == steps


# TWO_SLOTS is the default configuration: tests/models/test_multipaxos.py's
# test_default_configuration_exhausts runs it with every property (and pins its counts),
# so it is not run a second time here.
@pytest.mark.parametrize("cfg", [SMALL, RESTART])
def test_every_invariant_holds_on_the_correct_model(cfg):
    m = model(cfg)
    invariants = {p.id for p in m.properties() if p.kind == "always"}
    assert invariants == set(BROKEN_ALONE)
    r = check(m, Options())
    assert r.result == "ok", r.violation
    assert r.reached == ["MP-ALL-EXECUTED"]


@pytest.mark.slow
def test_lowest_ballot_value_breaks_agreement():
    r = check(model(THREE_ROUNDS, "lowest-ballot-value"), Options(properties=["MP-AGREEMENT"]))
    assert r.violation.property == "MP-AGREEMENT" and len(r.violation.trace) - 1 == 16


@pytest.mark.slow
def test_correct_model_with_three_rounds_holds():
    r = check(model(THREE_ROUNDS), Options())
    assert r.result == "ok", r.violation


def test_dfs_also_catches_a_mutant():
    m = model(SMALL, "skip-phase-1")
    r = check(m, Options(strategy=Strategy("dfs")))
    assert r.violation is not None
    assert len(r.violation.trace) - 1 >= 6
    assert replays(m, r.violation.trace)
