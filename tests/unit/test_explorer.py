"""The explorer on toy models whose state spaces are known in closed form."""

from __future__ import annotations

import ast
import pathlib
import time

import pytest

from smrcheck.checker.errors import InvalidModel, UsageError
from smrcheck.checker.search import Bounds, Options, Storage, Strategy, check
from smrcheck.checker.model import FnMap, Property
from smrcheck.checker.store import collision_probability


class Grid:
    """(x, y) in 0..n x 0..n, steps right or up: (n+1)^2 states, depth 2n+1."""

    def __init__(self, n: int, bad: tuple[int, int] | None = None, goal=(0, 0)) -> None:
        self.n, self.bad, self.goal = n, bad, goal

    def init_states(self):
        return [(0, 0)]

    def actions(self, s):
        x, y = s
        out = []
        if x < self.n:
            out.append(("Right",))
        if y < self.n:
            out.append(("Up",))
        return out

    def next_state(self, s, a):
        x, y = s
        return (x + 1, y) if a[0] == "Right" else (x, y + 1)

    def properties(self):
        return [
            Property("NOT-BAD", "always", lambda s: s != self.bad, "never at the bad cell",
                     lambda s: f"reached {s}"),
            Property("GOAL", "sometimes", lambda s: s == self.goal, "reach the goal cell"),
        ]

    def describe(self, s):
        return {"pos": FnMap(x=s[0], y=s[1])}

    def format_action(self, a):
        return a[0]


class Flaky(Grid):
    """Breaks the Model contract: once the bad cell is found, next_state changes."""

    lying = False

    def next_state(self, s, a):
        t = super().next_state(s, a)
        return (t[0], t[1] + 100) if self.lying else t

    def properties(self):
        def not_bad(s):
            if s == self.bad:
                self.lying = True  # from now on, replaying the path cannot succeed
            return s != self.bad

        return [Property("NOT-BAD", "always", not_bad, "never at the bad cell")]


def test_counts_depth_and_generated():
    r = check(Grid(4), Options())
    assert r.result == "ok"
    assert r.distinct_states == 25
    # Each cell has one successor per open direction: 2*n*(n+1) edges, plus the root.
    assert r.generated_states == 2 * 4 * 5 + 1
    assert r.depth == 9
    # Level by level, (x, y-1) is expanded before (x-1, y): Up discovers every cell
    # above the bottom row, Right only the bottom row.
    assert r.coverage["Right"].generated == 20 and r.coverage["Right"].distinct == 4
    assert r.coverage["Up"].distinct == 20


def test_bfs_counterexample_is_shortest_and_replayed():
    r = check(Grid(6, bad=(3, 2)), Options())
    assert r.result == "violation" and r.violation.property == "NOT-BAD"
    assert [s.action for s in r.violation.trace][1:].count("Right") == 3
    assert len(r.violation.trace) == 6  # init + 5 steps, the Manhattan distance
    assert r.violation.trace[-1].state == {"pos": {"x": 3, "y": 2}}
    assert r.violation.trace[1].changes in (["pos[x]: 0 -> 1"], ["pos[y]: 0 -> 1"])


def test_dfs_finds_violation_and_counts_same_space():
    assert check(Grid(4), Options(strategy=Strategy("dfs"))).distinct_states == 25
    r = check(Grid(6, bad=(3, 2)), Options(strategy=Strategy("dfs")))
    assert r.violation.property == "NOT-BAD" and len(r.violation.trace) >= 6


def test_unreached_goal_is_a_violation_when_exhaustive():
    r = check(Grid(3, goal=(9, 9)), Options())
    assert r.result == "violation" and r.violation.kind == "sometimes"
    assert r.unreached == ["GOAL"] and r.violation.property == "GOAL"


def test_unreached_goal_under_a_bound_is_incomplete():
    r = check(Grid(30, goal=(9, 9)), Options(bounds=Bounds(max_states=10)))
    assert r.result == "incomplete" and r.bound == "max-states" and r.exit_code == 3
    assert r.distinct_states == 10


def test_max_depth_bound():
    r = check(Grid(5), Options(bounds=Bounds(max_depth=3)))
    assert (r.result, r.bound, r.depth, r.distinct_states) == ("incomplete", "max-depth", 3, 6)
    # A depth bound that covers the whole space is not a cut.
    assert check(Grid(2), Options(bounds=Bounds(max_depth=5))).result == "ok"
    dfs = Options(strategy=Strategy("dfs"), bounds=Bounds(max_depth=3))
    assert check(Grid(5), dfs).bound == "max-depth"


def test_time_limit_bound():
    r = check(Grid(2000), Options(bounds=Bounds(time_limit=0.05)))
    assert r.result == "incomplete" and r.bound == "time-limit"


class Fan:
    """0 -> 1..n, then every k in 1..n only loops on itself, slowly: after the fan-out
    the whole level's successors are known states, so no batch ever fills."""

    def __init__(self, n: int) -> None:
        self.n = n

    def init_states(self):
        return [0]

    def actions(self, s):
        return [("Out", k) for k in range(1, self.n + 1)] if s == 0 else [("Loop",)]

    def next_state(self, s, a):
        if a[0] == "Loop":
            time.sleep(0.0005)
            return s
        return a[1]

    def properties(self):
        return []

    def describe(self, s):
        return {"x": s}

    def format_action(self, a):
        return a[0]


def test_time_limit_holds_in_a_level_that_finds_nothing_new():
    began = time.monotonic()
    r = check(Fan(4000), Options(bounds=Bounds(time_limit=0.1), storage=Storage(chunk=100)))
    # 4,000 slow loops take 2 s; the clock is read every 100 expanded states.
    assert (r.result, r.bound) == ("incomplete", "time-limit")
    assert time.monotonic() - began < 1.0


def test_generated_counts_only_the_initial_states_looked_at():
    class ManyRoots(Fan):
        def init_states(self):
            return list(range(10))

    r = check(ManyRoots(3), Options(bounds=Bounds(max_states=2)))
    assert (r.bound, r.distinct_states, r.generated_states) == ("max-states", 2, 2)


def test_simulation_is_seeded_and_never_proves():
    a = check(Grid(10, bad=(10, 10)), Options(strategy=Strategy("simulate", seed=7, walks=200)))
    b = check(Grid(10, bad=(10, 10)), Options(strategy=Strategy("simulate", seed=7, walks=200)))
    assert a.result == b.result == "violation"
    assert [s.action for s in a.violation.trace] == [s.action for s in b.violation.trace]
    r = check(Grid(3), Options(strategy=Strategy("simulate", walks=20)))
    assert r.result == "incomplete" and r.walks == 20


def test_property_subset_and_unknown_property():
    r = check(Grid(6, bad=(3, 2)), Options(properties=["GOAL"]))
    assert r.result == "ok" and r.properties == ["GOAL"]
    with pytest.raises(UsageError, match="allowed: GOAL, NOT-BAD"):
        check(Grid(2), Options(properties=["NOPE"]))


def test_nondeterministic_model_is_diagnosed():
    with pytest.raises(InvalidModel, match="not deterministic"):
        check(Flaky(6, bad=(3, 3)), Options())


def test_collision_probability_estimate():
    assert collision_probability(0, 0) == 0.0
    assert collision_probability(10**6, 10**7) == pytest.approx(10**6 * 9 * 10**6 / 2**64)


def test_checker_core_imports_no_protocol():
    """DESIGN.md: checker/ knows nothing of models/, impl/ or traces/ (cli.py excepted;
    validate_run: the one pipeline, which loads the reader and the protocol registry
    when it is called; and the z3 prover of quorums.py, which proves properties of the
    shared quorum vocabulary of models/common, no protocol; and the loader, which looks
    a model name up in the registry)."""
    root = pathlib.Path(__file__).resolve().parents[2] / "checker"
    allowed = {("validate.py", "..models.registry"), ("validate.py", "..traces.reader")}
    # The loader looks our models up by name (and only when one is asked for).
    vocabulary = {("quorums.py", "..models.common.quorums"), ("loader.py", "..models.registry")}
    pipeline_imports = set()
    for path in root.glob("*.py"):
        if path.name == "cli.py":
            continue
        tree = ast.parse(path.read_text())
        inside_pipeline = set()
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name == "validate_run":
                inside_pipeline = {id(n) for n in ast.walk(fn)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = ("." * node.level) + (node.module or "")
                if (path.name, target) in vocabulary:
                    continue
                if (path.name, target) in allowed and id(node) in inside_pipeline:
                    pipeline_imports.add(target)
                    continue
                assert not any(p in target for p in ("models", "impl", "traces")), (path, target)
    assert pipeline_imports == {t for _, t in allowed}
