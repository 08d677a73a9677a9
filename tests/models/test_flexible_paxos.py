"""z3's verdict on a Flexible Paxos quorum system agrees with the model checker's.

For every phase-1/phase-2 size pair (q1, q2), z3 says whether every phase-1 quorum
meets every phase-2 quorum (q1 + q2 > n, Howard, Malkhi and Spiegelman 2016), and the
model with those quorums must then hold exhaustively, or else break agreement: paxos
for 3 acceptors, multipaxos (whose replica symmetry keeps 5 replicas small) for 3, 4
and 5 replicas.
"""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Options, check
from smrcheck.checker.quorums import check_intersection
from smrcheck.models.common.quorums import QuorumSystem
from smrcheck.models.paxos.spec import PaxosModel


def verdicts(n: int, q1: int, q2: int) -> tuple[bool, str, str | None]:
    z3_safe = check_intersection(QuorumSystem.flexible(n, q1, q2)).holds
    r = check(PaxosModel(n, 2, 1, quorums=f"flexible:q1={q1},q2={q2}"), Options())
    return z3_safe, r.result, r.violation.property if r.violation else None


def assert_agree(n: int, q1: int, q2: int) -> None:
    z3_safe, result, prop = verdicts(n, q1, q2)
    assert z3_safe == (q1 + q2 > n)
    if z3_safe:
        assert result == "ok"
    else:
        assert (result, prop) == ("violation", "PAXOS-AGREEMENT")


@pytest.mark.parametrize("q1,q2", [(a, b) for a in range(1, 4) for b in range(1, 4)])
def test_three_acceptors(q1, q2):
    assert_agree(3, q1, q2)


def assert_multipaxos_agrees(n: int, q1: int, q2: int) -> None:
    """MultiPaxos with one slot, two rounds, two commands: its replica symmetry makes
    five replicas small enough to exhaust."""
    from smrcheck.models.multipaxos.spec import MultiPaxosModel

    z3_safe = check_intersection(QuorumSystem.flexible(n, q1, q2)).holds
    r = check(MultiPaxosModel(n, slots=1, max_round=2, commands=2,
                              quorums=f"flexible:q1={q1},q2={q2}"), Options())
    assert z3_safe == (q1 + q2 > n)
    if z3_safe:
        assert r.result == "ok"
    else:
        assert r.result == "violation"
        assert r.violation.property in ("MP-AGREEMENT", "MP-CHOSEN-STABLE")


@pytest.mark.parametrize("q1,q2", [(a, b) for a in range(1, 4) for b in range(1, 4)])
def test_multipaxos_three_replicas(q1, q2):
    assert_multipaxos_agrees(3, q1, q2)


@pytest.mark.slow
@pytest.mark.parametrize("n,q1,q2", [(n, a, b) for n in (4, 5)
                                     for a in range(1, n + 1) for b in range(1, n + 1)])
def test_multipaxos_four_and_five_replicas(n, q1, q2, slow_size):
    # Five replicas with a phase-2 quorum of 4 or 5 explore most (a minute in all): the
    # CI size keeps every four-replica pair and the five-replica pairs with q2 <= 3.
    if n == 5 and q2 >= 4 and slow_size != "full":
        pytest.skip("five replicas with q2 >= 4 run with SMRCHECK_SLOW_SIZE=full")
    assert_multipaxos_agrees(n, q1, q2)


def test_check_warns_before_exploring(capsys):
    import json

    from smrcheck.checker.cli import main

    assert main(["check", "paxos", "-p", "quorums=flexible:q1=1,q2=2", "--json"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert "cannot be safe" in captured.err and data["warnings"]
    assert data["violation"]["property"] == "PAXOS-AGREEMENT"
    assert main(["check", "paxos", "-p", "quorums=flexible:q1=3,q2=1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []


def test_pbft_lower_bound_is_predicted_by_z3_and_found_by_the_checker(capsys):
    import json

    from smrcheck.checker.cli import main

    assert main(["check", "pbft", "-p", "replicas=3", "-p", "f=1", "--json"]) == 1
    captured = capsys.readouterr()
    assert "bft:f=1 with n=3 cannot be safe" in captured.err
    assert json.loads(captured.out)["violation"]["property"] == "PBFT-AGREEMENT"
    assert main(["check", "pbft", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
