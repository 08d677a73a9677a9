"""Several workers give the same counts and the same counterexample length as one."""

from __future__ import annotations

import pytest

from smrcheck.checker.errors import UsageError
from smrcheck.checker.search import (Bounds, Context, Distribution, Options, Storage, Strategy,
                                     check, parallel)
from smrcheck.models.paxos.spec import PaxosModel


@pytest.mark.parametrize(("workers", "spill_at"), [(2, 1_000_000), (3, 1_000_000), (2, 100)])
def test_same_counts_as_one_worker(workers, spill_at, tmp_path):
    one = check(PaxosModel(3, 2, 1), Options())
    # spill_at=100: every worker's levels go to disk, and rebalancing reads them back.
    many = check(PaxosModel(3, 2, 1), Options(
        distribution=Distribution(workers),
        storage=Storage(chunk=500, spill_at=spill_at, spill_dir=str(tmp_path))))
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
    two = check(PaxosModel(3, 2, 1, mutant), Options(distribution=Distribution(2)))
    assert two.violation.property == one.violation.property
    assert len(two.violation.trace) == len(one.violation.trace)
    # Deterministic: the same run twice gives the same trace.
    again = check(PaxosModel(3, 2, 1, mutant), Options(distribution=Distribution(2)))
    assert [s.action for s in again.violation.trace] == [s.action for s in two.violation.trace]


def test_vacuity_and_depth_bound_with_workers():
    r = check(PaxosModel(3, 2, 1, "strict-promise"), Options(distribution=Distribution(2)))
    assert r.violation.property == "PAXOS-CHOSEN" and r.distinct_states == 505
    r = check(PaxosModel(3, 2, 1), Options(bounds=Bounds(max_depth=5),
                                           distribution=Distribution(2)))
    assert (r.result, r.bound, r.depth) == ("incomplete", "max-depth", 5)
    one = check(PaxosModel(3, 2, 1), Options(bounds=Bounds(max_depth=5)))
    assert r.distinct_states == one.distinct_states


def test_max_states_and_time_limit_with_workers():
    for workers in (2, 3):
        options = Options(bounds=Bounds(max_states=1000), distribution=Distribution(workers),
                          storage=Storage(chunk=500))
        r = check(PaxosModel(3, 2, 2), options)
        # Exactly the bound, as with one worker: the filling round inserts owner by owner.
        assert (r.result, r.bound, r.distinct_states) == ("incomplete", "max-states", 1000)
        again = check(PaxosModel(3, 2, 2), options)
        assert again.generated_states == r.generated_states
    r = check(PaxosModel(3, 2, 2), Options(bounds=Bounds(time_limit=0.3),
                                           distribution=Distribution(2)))
    assert r.result == "incomplete" and r.bound == "time-limit"


def test_workers_need_bfs():
    with pytest.raises(UsageError, match="needs --strategy bfs"):
        check(PaxosModel(3, 2, 1), Options(strategy=Strategy("dfs"), distribution=Distribution(2)))


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
        r = check(Line(8, goal=5, bad=5), Options(distribution=Distribution(workers)))
        assert r.violation.property == "NOT-BAD"
        assert (r.reached, r.unreached, r.depth) == ([], ["GOAL"], 6)


def test_time_limit_on_the_depth_bound_level_is_incomplete():
    r = check(PaxosModel(3, 2, 1), Options(bounds=Bounds(max_depth=1, time_limit=0.001),
                                           distribution=Distribution(3),
                                           properties=["PAXOS-AGREEMENT"]))
    assert (r.result, r.bound) == ("incomplete", "time-limit")


def test_depth_agrees_between_one_and_three_workers_on_a_violation():
    one = check(PaxosModel(3, 2, 1, "ignore-1b-values"), Options())
    three = check(PaxosModel(3, 2, 1, "ignore-1b-values"), Options(distribution=Distribution(3)))
    assert one.depth == three.depth == len(one.violation.trace)


def test_a_violation_stops_the_level_at_its_round():
    """With small rounds, workers stop where the violation shows, not at the level end."""
    model = PaxosModel(3, 2, 1, "minority-quorums")
    one = check(model, Options(storage=Storage(chunk=64)))
    two = check(model, Options(distribution=Distribution(2), storage=Storage(chunk=64)))
    whole = check(model, Options(distribution=Distribution(2), storage=Storage(chunk=10**9)))
    assert len(two.violation.trace) == len(one.violation.trace)
    assert two.distinct_states < whole.distinct_states


def test_every_worker_expands_a_fair_share():
    """One initial state: without rebalancing its owner would expand every level alone."""
    model = PaxosModel(3, 2, 1)
    ctx = Context(model, Options(distribution=Distribution(2), storage=Storage(chunk=500)))
    outcome = parallel.run(ctx)
    per_worker = [part.generated_states for part in outcome.parts]
    assert sum(per_worker) == check(model, Options()).generated_states - 1
    assert min(per_worker) > 0.4 * sum(per_worker), per_worker
    # The run's counters are the roots' and the workers' added up.
    assert outcome.counters.generated_states == 1 + sum(per_worker)
