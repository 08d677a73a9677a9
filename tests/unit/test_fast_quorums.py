"""The `fast` quorum system (Fast Paxos): its text form, z3's proof or counterexample of
the Quorum Requirement (two classic quorums meet; a classic and two fast quorums share
an acceptor), agreement with brute force, the symbolic size theorems, and the CLI."""

from __future__ import annotations

import json
from itertools import combinations

import pytest
import z3

from smrcheck.checker.cli import main
from smrcheck.checker.errors import UsageError
from smrcheck.checker.quorums import (
    check_fast_intersection, check_intersection, check_system, fast_proofs,
    overlap3_at_least, prove,
)
from smrcheck.models.common.quorums import QuorumSystem as Q
from smrcheck.models.common.quorums import parse


@pytest.mark.parametrize("n,classic,fast", [(1, 1, 1), (3, 2, 3), (4, 3, 3), (5, 3, 4),
                                            (6, 4, 5), (7, 4, 6), (9, 5, 7)])
def test_default_sizes_are_majority_and_three_quarters(n, classic, fast):
    s = parse("fast", n, fast=True)
    assert (s.phase1.threshold, s.phase2.threshold, s.fast.threshold) == (classic, classic, fast)
    assert s.name == f"fast:classic={classic},fast={fast}"
    assert all(f.holds for f in check_system(s))


def test_text_form_sets_either_size():
    assert parse("fast:classic=3,fast=3", 5, fast=True).fast.threshold == 3
    assert parse("fast:fast=5", 5, fast=True).phase1.threshold == 3
    assert parse("fast:classic=4", 5, fast=True).fast.threshold == 4
    assert parse("fast", 4, fast=True).minimal_fast_quorums() == tuple(
        combinations(range(4), 3))


@pytest.mark.parametrize("text,words", [
    ("fast:classic=0", "quorum size classic must be in 1..4"),
    ("fast:fast=5", "quorum size fast must be in 1..4"),
    ("fast:q1=2", "expected classic=N and/or fast=N"),
    ("fast:classic", "expected classic=N and/or fast=N"),
    ("fast:fast=x", "fast must be an integer"),
])
def test_bad_text_is_a_usage_error(text, words):
    with pytest.raises(UsageError, match=words):
        parse(text, 4, fast=True)


def test_models_without_fast_rounds_refuse_it():
    with pytest.raises(UsageError, match="only a model with fast rounds uses"):
        parse("fast:classic=3,fast=3", 4)
    # The other systems are as they were: no fast quorums.
    assert parse("majority", 4).fast is None and Q.flexible(4, 3, 2).fast is None
    with pytest.raises(ValueError):
        Q.majority(3).minimal_fast_quorums()
    with pytest.raises(ValueError):
        check_fast_intersection(Q.majority(3))


def brute_force(s) -> tuple[bool, bool]:
    sets = [frozenset(c) for k in range(s.n + 1) for c in combinations(range(s.n), k)]
    classic = [x for x in sets if s.phase1.contains_quorum(x)]
    fast = [x for x in sets if s.fast.contains_quorum(x)]
    return (all(a & b for a in classic for b in classic),
            all(q & a & b for q in classic for a in fast for b in fast))


@pytest.mark.parametrize("n", range(1, 7))
def test_z3_agrees_with_brute_force_and_the_size_rule(n):
    for c in range(1, n + 1):
        for f in range(1, n + 1):
            s = Q.fast_paxos(n, c, f)
            verdict = (check_intersection(s).holds, check_fast_intersection(s).holds)
            assert verdict == brute_force(s) == (2 * c > n, c + 2 * f > 2 * n), (n, c, f)


def test_four_acceptors_three_and_three_is_proved():
    s = Q.fast_paxos(4, 3, 3)
    finding = check_fast_intersection(s)
    assert finding.holds and finding.property == "FAST-INTERSECTION"
    assert [f.property for f in check_system(s)] == [
        "QUORUM-INTERSECTION", "FAST-INTERSECTION", "AVAILABLE", "AVAILABLE-FAST"]


@pytest.mark.parametrize("n,classic,fast", [(4, 3, 2), (5, 3, 3), (3, 2, 2), (7, 4, 5)])
def test_too_small_fast_quorums_are_refuted_with_real_quorums(n, classic, fast):
    s = Q.fast_paxos(n, classic, fast)
    finding = check_fast_intersection(s)
    assert not finding.holds
    q, a, b = (finding.counterexample[k] for k in ("classic", "fast1", "fast2"))
    assert len(q) == classic and len(a) == len(b) == fast  # minimal: shrunk to size
    assert not set(q) & set(a) & set(b)
    assert f"classic quorum {q}" in finding.detail


def test_symbolic_size_theorems_hold():
    findings = fast_proofs()
    assert [f.property for f in findings] == ["SYM-FAST", "SYM-FAST-3N/4", "SYM-FAST-EQUAL"]
    assert all(f.holds for f in findings)


def test_a_false_size_claim_is_refuted():
    """c + 2f >= 2n is one short: three sets may then share nothing."""
    n, c, f = z3.Ints("n c f")
    claim = z3.ForAll([n, c, f], z3.Implies(
        z3.And(1 <= c, c <= n, 1 <= f, f <= n, c + 2 * f >= 2 * n),
        overlap3_at_least(c, f, f, n, 1)))
    finding = prove("FAST-ONE-SHORT", "c + 2f >= 2n suffices", claim)
    assert not finding.holds and "counterexample" in finding.detail


def run_json(capsys, *argv):
    code = main(["quorums", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_cli_proves_the_default_sizes(capsys):
    code, data = run_json(capsys, "--system", "fast", "-n", "4")
    assert code == 0 and data["result"] == "ok"
    assert data["system"] == {"name": "fast:classic=3,fast=3", "n": 4, "f": 1,
                              "byzantine": False}


def test_cli_refutes_small_fast_quorums(capsys):
    code, data = run_json(capsys, "--system", "fast", "-n", "4", "--classic", "3",
                          "--fast", "2")
    assert code == 1 and data["result"] == "violation"
    bad = [f for f in data["findings"] if not f["holds"]]
    assert [f["property"] for f in bad] == ["FAST-INTERSECTION"]
    cex = bad[0]["counterexample"]
    assert not set(cex["classic"]) & set(cex["fast1"]) & set(cex["fast2"])


def test_cli_symbolic_includes_the_fast_theorems(capsys):
    code, data = run_json(capsys, "--symbolic")
    assert code == 0
    assert {"SYM-FAST", "SYM-FAST-3N/4", "SYM-FAST-EQUAL", "SYM-FLEXIBLE"} <= {
        f["property"] for f in data["findings"]}


@pytest.mark.parametrize("argv,words", [
    (["--system", "fast"], "--system fast needs -n"),
    (["--system", "fast", "-n", "4", "--fast", "9"], "quorum size fast must be in 1..4"),
])
def test_cli_bad_options_exit_2(capsys, argv, words):
    assert main(["quorums", *argv]) == 2
    assert words in capsys.readouterr().err
