"""z3 quorum proofs: known-good and known-bad systems of every kind, counterexamples
that are real quorums, agreement with brute force, the symbolic theorems, and n = 100."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import combinations

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from smrcheck.checker.cli import main
from smrcheck.checker.errors import UsageError
from smrcheck.checker.quorums import (
    check_availability, check_intersection, max_failures, overlap_at_least, prove,
    symbolic_proofs,
)
from smrcheck.models.common.quorums import QuorumSystem as Q
from smrcheck.models.common.quorums import parse

FANO = [[0, 1, 2], [0, 3, 4], [0, 5, 6], [1, 3, 5], [1, 4, 6], [2, 3, 6], [2, 4, 5]]


def intersects(system) -> bool:
    return check_intersection(system).holds


@pytest.mark.parametrize("system,holds", [
    (Q.majority(1), True), (Q.majority(4), True), (Q.majority(7), True),
    (Q.bft(4, 1), True), (Q.bft(7, 2), True), (Q.bft(3, 1), False), (Q.bft(6, 2), False),
    (Q.flexible(10, 8, 3), True), (Q.flexible(10, 7, 3), False), (Q.flexible(5, 1, 5), True),
    (Q.grid(3, 4), True), (Q.grid(1, 5), True),
    (Q.weighted((2, 1, 1), 3), True), (Q.weighted((1, 1, 1, 1), 2), False),
    (Q.explicit(7, FANO), True), (Q.explicit(5, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]]), False),
])
def test_intersection_verdicts(system, holds):
    assert intersects(system) == holds


@pytest.mark.parametrize("system", [Q.bft(3, 1), Q.flexible(10, 7, 3), Q.weighted((1, 1, 1, 1), 2),
                                    Q.explicit(5, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]])])
def test_counterexample_is_two_real_minimal_quorums(system):
    finding = check_intersection(system)
    q1, q2 = finding.counterexample["quorum1"], finding.counterexample["quorum2"]
    assert system.phase1.contains_quorum(frozenset(q1))
    assert system.phase2.contains_quorum(frozenset(q2))
    need = system.f + 1 if system.byzantine else 1
    assert len(set(q1) & set(q2)) < need
    # Minimal: no node can be dropped from either quorum.
    assert not any(system.phase1.contains_quorum(frozenset(set(q1) - {i})) for i in q1)
    assert not any(system.phase2.contains_quorum(frozenset(set(q2) - {i})) for i in q2)


def brute_intersects(system) -> bool:
    nodes = range(system.n)
    subsets = [frozenset(c) for k in range(system.n + 1) for c in combinations(nodes, k)]
    p1 = [s for s in subsets if system.phase1.contains_quorum(s)]
    p2 = [s for s in subsets if system.phase2.contains_quorum(s)]
    need = system.f + 1 if system.byzantine else 1
    return all(len(a & b) >= need for a in p1 for b in p2)


def brute_max_failures(system, phase) -> int:
    best = -1
    for f in range(system.n + 1):
        if all(phase.contains_quorum(frozenset(range(system.n)) - frozenset(dead))
               for dead in combinations(range(system.n), f)):
            best = f
        else:
            break
    return best


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 5), data=st.data())
def test_z3_agrees_with_brute_force_on_random_systems(n, data):
    node_sets = st.lists(st.sets(st.integers(0, n - 1), min_size=1), min_size=1, max_size=5)
    p1, p2 = data.draw(node_sets), data.draw(node_sets)
    f = data.draw(st.integers(0, n - 1))
    byz = data.draw(st.booleans())
    system = Q("explicit", n, f, byz,
               Q.explicit(n, [sorted(s) for s in p1]).phase1,
               Q.explicit(n, [sorted(s) for s in p2]).phase1)
    assert intersects(system) == brute_intersects(system)
    assert max_failures(system, system.phase1) == brute_max_failures(system, system.phase1)


@pytest.mark.parametrize("n", range(1, 10))
def test_majority_tolerates_a_minority(n):
    assert max_failures(Q.majority(n), Q.majority(n).phase1) == (n - 1) // 2


def test_availability_counterexample_is_a_real_failure_set():
    system = Q.weighted((3, 1, 1), 3, f=1)
    [finding] = check_availability(system)
    assert not finding.holds and finding.counterexample == {"failed": [0]}
    live = frozenset({1, 2})
    assert not system.phase1.contains_quorum(live)
    assert all(f.holds for f in check_availability(Q.grid(3, 4)))


def test_large_systems_are_proved_within_test_time():
    for system in (Q.majority(100), Q.bft(100, 33), Q.grid(10, 10), Q.flexible(100, 51, 50)):
        assert intersects(system) and all(f.holds for f in check_availability(system))
    assert not intersects(Q.bft(100, 34))
    assert not intersects(Q.flexible(100, 50, 50))


def test_symbolic_theorems_hold():
    findings = symbolic_proofs()
    assert {f.property for f in findings} == {
        "SYM-MAJORITY", "SYM-BFT-3F+1", "SYM-BFT-BOUND", "SYM-FLEXIBLE"}
    assert all(f.holds for f in findings)


def test_a_false_symbolic_claim_is_refuted():
    n = z3.Int("n")
    half = n / 2
    finding = prove("HALVES", "any two halves intersect",
                    z3.ForAll([n], z3.Implies(n >= 1, overlap_at_least(half, half, n, 1))))
    assert not finding.holds and "counterexample" in finding.detail


@pytest.mark.parametrize("text,message", [
    ("bogus", "unknown quorum system 'bogus'"),
    ("flexible:q1=2", "needs q2=N"),
    ("flexible:q1=2,q2=9", "must be in 1..3"),
    ("grid:rows=2,cols=2", "has 4 nodes; the model has 3"),
    ("majority:q=1", "takes no fields"),
    ("weighted:weights=1/x/1,threshold=2", "weights must be integers"),
])
def test_bad_quorum_text(text, message):
    with pytest.raises(UsageError, match=message):
        parse(text, 3)


def test_quorums_cli(capsys, tmp_path):
    assert main(["quorums", "--system", "flexible", "-n", "10", "--q1", "8", "--q2", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["result"] == "ok" and data["system"]["n"] == 10
    assert main(["quorums", "--system", "bft", "-n", "3", "-f", "1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["property"] == "BFT-INTERSECTION" and not data["findings"][0]["holds"]
    spec = tmp_path / "q.json"
    spec.write_text(json.dumps({"n": 7, "quorums": FANO}))
    assert main(["quorums", "--system", "explicit", "--file", str(spec)]) == 0
    capsys.readouterr()
    spec.write_text(json.dumps({"n": 7, "quorums": [[0, "x"]]}))
    assert main(["quorums", "--system", "explicit", "--file", str(spec)]) == 2
    assert "field quorums.0.1" in capsys.readouterr().err
    assert main(["quorums", "--system", "flexible", "-n", "4", "--q1", "2"]) == 2
    assert "needs --q2" in capsys.readouterr().err
    assert main(["quorums", "--symbolic"]) == 0


def test_replicas_load_neither_z3_nor_pydantic():
    """The quorum vocabulary (models/common/quorums.py) is what every replica process
    loads; the prover (z3) and the explicit-file reader (pydantic) stay out of it."""
    code = ("import sys\n"
            "import smrcheck.impl.multipaxos.replica, smrcheck.impl.pbft.replica\n"
            "import smrcheck.models.common.quorums\n"
            "print(sorted(m for m in ('z3', 'pydantic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_explicit_file_reader(tmp_path):
    """The JSON form of `--system explicit`: one list for both phases, or phase1 and
    phase2 apart; bad fields are usage errors naming the field."""
    from smrcheck.models.common.quorum_file import load_explicit

    spec = tmp_path / "q.json"
    spec.write_text(json.dumps({"n": 4, "phase1": [[0, 1, 2]], "phase2": [[2, 3]], "f": 1}))
    system = load_explicit(str(spec))
    assert (system.n, system.f, system.byzantine) == (4, 1, False)
    assert system.minimal_quorums(1) == ((0, 1, 2),) and system.minimal_quorums(2) == ((2, 3),)
    spec.write_text(json.dumps({"n": 3, "quorums": [[0, 5]]}))
    with pytest.raises(UsageError, match="field phase1: quorum \\[0, 5\\] must name nodes in 0..2"):
        load_explicit(str(spec))
    spec.write_text(json.dumps({"n": 0, "quorums": [[0]]}))
    with pytest.raises(UsageError, match="field n: "):
        load_explicit(str(spec))
