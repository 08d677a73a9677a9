"""The search package's own parts: options by concern, counters that merge, the public
Bound/Found, one path_to, and each strategy returning an Outcome."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from smrcheck.checker.errors import UsageError
from smrcheck.checker.search import (Bound, Bounds, Checkpointing, Context, Counters,
                                     Distribution, Found, Options, Outcome, Strategy, bfs,
                                     check, dfs, parallel, simulate, swarm)
from smrcheck.checker.store import DictStore, FingerprintStore, path_to
from smrcheck.models.paxos.spec import PaxosModel


def test_counters_merge_adds_and_keeps_first_seen_order():
    a = Counters(1, {"Phase1a": 2, "Phase2b": 1}, {"Phase1a": 1})
    b = Counters(0, {"Phase2b": 4, "Phase1b": 3}, {"Phase1b": 2})
    total = Counters.total([a, b])
    assert total == Counters(1, {"Phase1a": 2, "Phase2b": 5, "Phase1b": 3},
                             {"Phase1a": 1, "Phase1b": 2})
    assert list(total.generated) == ["Phase1a", "Phase2b", "Phase1b"]
    assert total.generated_states == 1 + 10
    # Merging copies: the parts are left as they were.
    assert a.generated == {"Phase1a": 2, "Phase2b": 1}
    copy = a.copy()
    copy.merge(b)
    assert a.generated == {"Phase1a": 2, "Phase2b": 1} and copy == total
    # Workers send their counters across processes.
    assert pickle.loads(pickle.dumps(total)) == total


def test_workers_counters_add_up_to_the_one_process_counts():
    one = check(PaxosModel(3, 2, 1), Options())
    ctx = Context(PaxosModel(3, 2, 1), Options(distribution=Distribution(3)))
    outcome = parallel.run(ctx)
    assert len(outcome.parts) == 3
    parts = Counters.total(outcome.parts)
    # The coordinator generated the root; the workers generated every other state.
    assert parts.inits == 0 and outcome.counters.inits == 1
    assert outcome.counters.generated == parts.generated
    assert outcome.counters.generated_states == one.generated_states
    assert sum(outcome.counters.new.values()) == one.distinct_states - 1


def test_bound_and_found_are_public_and_say_what_stopped():
    bound = Bound("max-states")
    assert bound.name == "max-states" and str(bound) == "max-states"
    prop = PaxosModel(3, 2, 1).properties()[0]
    found = Found(prop, 42, ("state",))
    assert (found.prop, found.fp, found.state) == (prop, 42, ("state",))
    assert str(found) == prop.id
    ctx = Context(PaxosModel(3, 2, 1), Options(bounds=Bounds(time_limit=0.0)))
    with pytest.raises(Bound) as hit:
        ctx.tick(0, 0, 0)
    assert hit.value.name == "time-limit"


def test_settle_turns_found_into_a_replayed_counterexample():
    model = PaxosModel(3, 2, 1)
    ctx = Context(model, Options())
    store = DictStore()
    root_fp, root = ctx.roots(store)[0]
    prop = ctx.invariants[0]

    def breaks() -> None:
        raise Found(prop, root_fp, root)

    bound, counterexample = ctx.settle(breaks, lambda fp: path_to(store.parent, fp))
    assert bound is None and counterexample.prop is prop
    assert counterexample.path == [(None, root)]
    assert ctx.settle(lambda: None, lambda fp: [fp]) == (None, None)


def test_path_to_follows_any_parent_function():
    store = FingerprintStore()
    store.add_root(1)
    store.add_batch(np.array([2, 3], dtype=np.int64), np.array([1, 2], dtype=np.int64))
    assert path_to(store.parent, 3) == [1, 2, 3]
    parents = {7: 7, 8: 7, 9: 8}
    assert path_to(parents.__getitem__, 9) == [7, 8, 9]
    assert path_to(parents.__getitem__, 7) == [7]


@pytest.mark.parametrize("strategy", [bfs, dfs, simulate, swarm, parallel])
def test_every_strategy_returns_an_outcome(strategy):
    name = {swarm: "swarm", simulate: "simulate", dfs: "dfs"}.get(strategy, "bfs")
    options = Options(strategy=Strategy(name, walks=50),
                      distribution=Distribution(2 if strategy is parallel else 1))
    outcome = strategy.run(Context(PaxosModel(3, 2, 1, "minority-quorums"), options))
    assert isinstance(outcome, Outcome)
    assert outcome.distinct > 0 and outcome.depth > 0
    assert outcome.counters.generated_states >= outcome.distinct
    if strategy in (bfs, dfs, parallel):
        assert outcome.bound is None
        assert outcome.counterexample.prop.id == "PAXOS-AGREEMENT"
        assert outcome.counterexample.path[0][0] is None


def test_options_check_their_own_fields():
    with pytest.raises(UsageError, match="unknown strategy 'bfx'; allowed: bfs, dfs"):
        Strategy("bfx")
    with pytest.raises(UsageError, match="unknown backend 'mpi'; allowed: local, ray"):
        Distribution(2, "mpi")
    assert Distribution(1, "ray").partitioned and not Distribution(1).partitioned
    assert Strategy("swarm").random and not Strategy("dfs").random
    assert not Checkpointing().used and Checkpointing(resume_from="d").used


def test_combinations_are_refused_after_the_properties_are_known():
    model = PaxosModel(3, 2, 1)
    with pytest.raises(UsageError, match="--checkpoint and --resume need --strategy bfs"):
        check(model, Options(strategy=Strategy("dfs"), checkpointing=Checkpointing("d")))
    # An unknown property is named first, as before the options were split.
    with pytest.raises(UsageError, match="unknown property 'NOPE'"):
        check(model, Options(strategy=Strategy("dfs"), distribution=Distribution(2),
                             properties=["NOPE"]))


class Tree:
    """s -> 2s, 2s+1 below 64: every state new, fingerprints the states themselves."""

    def init_states(self):
        return [1]

    def actions(self, s):
        return [("L",), ("R",)] if s < 64 else []

    def next_state(self, s, a):
        return 2 * s + (a[0] == "R")

    def properties(self):
        from smrcheck.checker.model import Property

        return [Property("SMALL", "always", lambda s: s < 10, "below 10"),
                Property("EVEN-GOAL", "sometimes", lambda s: s == 8, "reach 8")]


def test_one_expansion_loop_stops_where_its_caps_say():
    from smrcheck.checker.search.expand import Levels

    counters = Counters()
    levels = Levels(Tree(), hash, counters)
    level = [(s, s) for s in (4, 5, 6, 7)]
    levels.start(level)
    walk = iter(level)
    batch: list = []
    # One process: a batch ends after `states` expanded or `candidates` held.
    assert levels.expand(walk, [batch], states=1) == (1, False)
    assert [c[0] for c in batch] == [8, 9]
    assert levels.expand(walk, [batch], candidates=3) == (2, False)
    # Workers: candidates go to their owners (f mod 2), a round ends on `generated`.
    owners: list = [[], []]
    assert levels.expand(walk, owners, generated=100) == (1, True)
    assert [[c[0] for c in o] for o in owners] == [[14], [15]]
    assert levels.expand(walk, owners) == (0, True)
    assert counters.generated == {"L": 4, "R": 4} and counters.new == {}


def test_accept_stops_at_a_violation_or_goes_on():
    from smrcheck.checker.search.core import Goals
    from smrcheck.checker.search.expand import Levels

    model = Tree()
    invariants = [p for p in model.properties() if p.kind == "always"]
    held = [(s, s, s // 2, "L" if s % 2 == 0 else "R") for s in (8, 9, 10, 11)]
    for stop, counted in ((True, {"L": 2, "R": 1}), (False, {"L": 2, "R": 2})):
        counters, queued = Counters(), []
        goals = Goals(p for p in model.properties() if p.kind == "sometimes")
        levels = Levels(model, hash, counters)
        levels.start([])
        hit = levels.accept(held, [0, 1, 2, 3], invariants, goals, queued, stop)
        # 10 is the first state to break SMALL; it reaches no goal, 8 did.
        assert hit == (0, 10, 10)
        assert counters.new == counted and goals.reached == ["EVEN-GOAL"]
        assert [fp for fp, _ in queued] == [8, 9, 10, 11][:sum(counted.values())]
