"""Swarm simulation: seeded, independent of the worker count, never a proof."""

from __future__ import annotations

from smrcheck.checker.search import Distribution, Options, Strategy, check
from smrcheck.models.paxos.spec import PaxosModel


def test_swarm_finds_bug_and_is_independent_of_workers():
    runs = [check(PaxosModel(3, 2, 1, "minority-quorums"),
                  Options(strategy=Strategy("swarm", walks=400, seed=3),
                          distribution=Distribution(w))) for w in (1, 2)]
    for r in runs:
        assert r.result == "violation" and r.violation.property == "PAXOS-AGREEMENT"
    assert [s.action for s in runs[0].violation.trace] == [s.action for s in runs[1].violation.trace]


def test_swarm_reports_coverage_and_distinct_union():
    one = check(PaxosModel(3, 2, 1), Options(strategy=Strategy("swarm", walks=60, seed=1)))
    two = check(PaxosModel(3, 2, 1), Options(strategy=Strategy("swarm", walks=60, seed=1),
                                             distribution=Distribution(2)))
    assert one.result == two.result == "incomplete" and one.bound == "walks"
    assert (one.distinct_states, one.generated_states, one.walks) == (
        two.distinct_states, two.generated_states, two.walks)
    assert set(one.coverage) == {"Phase1a", "Phase1b", "Phase2a", "Phase2b"}
    assert one.distinct_states > 100


def test_swarm_seed_changes_the_walks():
    a = check(PaxosModel(3, 2, 1), Options(strategy=Strategy("swarm", walks=30, seed=1)))
    b = check(PaxosModel(3, 2, 1), Options(strategy=Strategy("swarm", walks=30, seed=2)))
    assert a.distinct_states != b.distinct_states or a.generated_states != b.generated_states
