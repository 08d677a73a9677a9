"""Several workers give the same counts and the same counterexample length as one."""

from __future__ import annotations

import pytest

from smrcheck.checker.errors import UsageError
from smrcheck.checker.explore import Options, check
from smrcheck.models.paxos.spec import PaxosModel


@pytest.mark.parametrize(("workers", "spill_at"), [(2, 1_000_000), (3, 1_000_000), (2, 100)])
def test_same_counts_as_one_worker(workers, spill_at, tmp_path):
    one = check(PaxosModel(3, 2, 1), Options())
    # spill_at=100: every worker's levels go to disk, and rebalancing reads them back.
    many = check(PaxosModel(3, 2, 1), Options(workers=workers, chunk=500, spill_at=spill_at,
                                              spill_dir=str(tmp_path)))
    assert (many.result, many.distinct_states, many.generated_states, many.depth) == (
        one.result, one.distinct_states, one.generated_states, one.depth)
    assert many.reached == one.reached
    assert {k: c.generated for k, c in many.coverage.items()} == {
        k: c.generated for k, c in one.coverage.items()}
    # Which action discovers a state first depends on who expands it first, so only
    # the total of the per-action distinct counts is fixed: every state but the root.
    assert sum(c.distinct for c in many.coverage.values()) == many.distinct_states - 1


@pytest.mark.parametrize("mutant", ["minority-quorums", "ignore-1b-values", "forget-vote-ballot"])
def test_same_shortest_counterexample_length(mutant):
    one = check(PaxosModel(3, 2, 1, mutant), Options())
    two = check(PaxosModel(3, 2, 1, mutant), Options(workers=2))
    assert two.violation.property == one.violation.property
    assert len(two.violation.trace) == len(one.violation.trace)
    # Deterministic: the same run twice gives the same trace.
    again = check(PaxosModel(3, 2, 1, mutant), Options(workers=2))
    assert [s.action for s in again.violation.trace] == [s.action for s in two.violation.trace]


def test_vacuity_and_depth_bound_with_workers():
    r = check(PaxosModel(3, 2, 1, "strict-promise"), Options(workers=2))
    assert r.violation.property == "PAXOS-CHOSEN" and r.distinct_states == 505
    r = check(PaxosModel(3, 2, 1), Options(workers=2, max_depth=5))
    assert (r.result, r.bound, r.depth) == ("incomplete", "max-depth", 5)
    assert r.distinct_states == check(PaxosModel(3, 2, 1), Options(max_depth=5)).distinct_states


def test_max_states_and_time_limit_with_workers():
    for workers in (2, 3):
        r = check(PaxosModel(3, 2, 2), Options(workers=workers, max_states=1000, chunk=500))
        # Exactly the bound, as with one worker: the filling round inserts owner by owner.
        assert (r.result, r.bound, r.distinct_states) == ("incomplete", "max-states", 1000)
        again = check(PaxosModel(3, 2, 2), Options(workers=workers, max_states=1000, chunk=500))
        assert again.generated_states == r.generated_states
    r = check(PaxosModel(3, 2, 2), Options(workers=2, time_limit=0.3))
    assert r.result == "incomplete" and r.bound == "time-limit"


def test_workers_need_bfs():
    with pytest.raises(UsageError, match="needs --strategy bfs"):
        check(PaxosModel(3, 2, 1), Options(workers=2, strategy="dfs"))


class Line:
    """0 -> 1 -> ... -> n; the goal and the bad state may coincide."""

    def __init__(self, n: int, goal: int, bad: int) -> None:
        self.n, self.goal, self.bad = n, goal, bad

    def init_states(self):
        return [0]

    def actions(self, s):
        return [("Step",)] if s < self.n else []

    def next_state(self, s, a):
        return s + 1

    def properties(self):
        from smrcheck.checker.model import Property

        return [Property("NOT-BAD", "always", lambda s: s != self.bad, "not bad"),
                Property("GOAL", "sometimes", lambda s: s == self.goal, "goal")]

    def describe(self, s):
        return {"x": s}

    def format_action(self, a):
        return a[0]


def test_a_violating_state_reaches_no_goal_with_any_worker_count():
    for workers in (1, 3):
        r = check(Line(8, goal=5, bad=5), Options(workers=workers))
        assert r.violation.property == "NOT-BAD"
        assert (r.reached, r.unreached, r.depth) == ([], ["GOAL"], 6)


def test_time_limit_on_the_depth_bound_level_is_incomplete():
    r = check(PaxosModel(3, 2, 1), Options(workers=3, max_depth=1, time_limit=0.001,
                                           properties=["PAXOS-AGREEMENT"]))
    assert (r.result, r.bound) == ("incomplete", "time-limit")


def test_depth_agrees_between_one_and_three_workers_on_a_violation():
    one = check(PaxosModel(3, 2, 1, "ignore-1b-values"), Options())
    three = check(PaxosModel(3, 2, 1, "ignore-1b-values"), Options(workers=3))
    assert one.depth == three.depth == len(one.violation.trace)


def test_a_violation_stops_the_level_at_its_round():
    """With small rounds, workers stop where the violation shows, not at the level end."""
    one = check(PaxosModel(3, 2, 1, "minority-quorums"), Options(chunk=64))
    two = check(PaxosModel(3, 2, 1, "minority-quorums"), Options(workers=2, chunk=64))
    whole = check(PaxosModel(3, 2, 1, "minority-quorums"), Options(workers=2, chunk=10**9))
    assert len(two.violation.trace) == len(one.violation.trace)
    assert two.distinct_states < whole.distinct_states


def test_every_worker_expands_a_fair_share():
    """One initial state: without rebalancing its owner would expand every level alone."""
    from smrcheck.checker.explore import Explorer
    from smrcheck.checker.parallel import ParallelBFS

    ex = Explorer(PaxosModel(3, 2, 1), Options(workers=2, chunk=500))
    par = ParallelBFS(ex, 2)
    try:
        par.run()
    finally:
        par.close()
        ex.store.close()
    per_worker = [sum(r["gen"].values()) for r in par.reports]
    assert sum(per_worker) == check(PaxosModel(3, 2, 1), Options()).generated_states - 1
    assert min(per_worker) > 0.4 * sum(per_worker), per_worker
