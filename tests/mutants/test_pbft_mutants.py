"""Every PBFT invariant fails on a mutant: the checker must find each bug.

Each mutant breaks one rule of Castro and Liskov's protocol; breadth-first search on
the default bounds (n = 4, f = 1, faulty primary r0, 2 requests, views 0..1,
sequence number 1) finds the shortest counterexample, whose length is pinned here.
A faulty new primary's NEW-VIEW matters only when view 1's primary is the faulty
replica, so `unchecked-new-view` runs with `byzantine=new-primary`. Each run checks
the broken property alone (`Options(properties=[id])`), so a shallower failure of
another property cannot hide it.
"""

from __future__ import annotations

import pytest

from smrcheck.checker.search import Options, check
from smrcheck.models.pbft.spec import SPEC

# mutant -> (property it breaks, steps in the shortest counterexample)
EXPECTED = {
    "prepared-with-2f-1": ("PBFT-PREPARED-UNIQUE", 4),
    "committed-with-2f": ("PBFT-AGREEMENT", 10),
    "client-first-reply": ("PBFT-CLIENT", 1),
    "new-view-ignores-certificates": ("PBFT-AGREEMENT", 12),
    "new-view-own-certificates": ("PBFT-AGREEMENT", 12),
    "accept-two-pre-prepares": ("PBFT-PREPARED-UNIQUE", 6),
    "accept-forged-request": ("PBFT-VALIDITY", 5),
    "unchecked-new-view": ("PBFT-AGREEMENT", 10),
}


# Parameters other than the defaults a mutant needs to show.
PARAMS = {"unchecked-new-view": {"byzantine": "new-primary"}}


def run(mutant: str | None, prop: str, **params):
    values = SPEC.resolve_params([f"{k}={v}" for k, v in params.items()])
    model = SPEC.build(values, mutant)
    return check(model, Options(properties=[prop]), name="pbft", params=values, mutant=mutant)


def test_every_mutant_is_pinned():
    assert sorted(EXPECTED) == sorted(m.name for m in SPEC.mutants)


def test_every_invariant_is_broken_by_some_mutant():
    invariants = {"PBFT-AGREEMENT", "PBFT-PREPARED-UNIQUE", "PBFT-VALIDITY", "PBFT-CLIENT"}
    assert {prop for prop, _ in EXPECTED.values()} == invariants


@pytest.mark.parametrize("mutant", sorted(EXPECTED))
def test_mutant_is_caught_with_shortest_counterexample(mutant):
    prop, length = EXPECTED[mutant]
    result = run(mutant, prop, **PARAMS.get(mutant, {}))
    assert result.result == "violation"
    assert result.violation.property == prop
    assert len(result.violation.trace) - 1 == length


@pytest.mark.parametrize("prop", sorted({p for p, _ in EXPECTED.values()}))
def test_correct_model_holds_each_broken_property_alone(prop):
    result = run(None, prop)
    assert result.result == "ok"


def test_equivocation_needs_a_second_pre_prepare_accepted():
    result = run("accept-two-pre-prepares", "PBFT-PREPARED-UNIQUE")
    assert [s.action for s in result.violation.trace[1:]] == [
        "r1 sends PREPARE(v=0, n=1, d=req1, i=r1), accepting faulty r0's pre-prepare",
        "r1 sends PREPARE(v=0, n=1, d=req2, i=r1), accepting faulty r0's pre-prepare",
        "r2 sends PREPARE(v=0, n=1, d=req1, i=r2), accepting faulty r0's pre-prepare",
        "r1 is prepared, sends COMMIT(v=0, n=1, d=req1, i=r1)",
        "r2 sends PREPARE(v=0, n=1, d=req2, i=r2), accepting faulty r0's pre-prepare",
        "r1 is prepared, sends COMMIT(v=0, n=1, d=req2, i=r1)",
    ]
    assert result.violation.message == (
        "view 0, sequence number 1 prepared with different digests: req1 at r1 (view 0); "
        "req2 at r1 (view 0)"
    )


def test_new_view_without_certificates_reassigns_a_committed_number():
    trace = run("new-view-ignores-certificates", "PBFT-AGREEMENT").violation.trace
    actions = [s.action for s in trace[1:]]
    assert "r1 sends NEW-VIEW(v=1, O=[])" in actions
    assert any("VIEW-CHANGE(v=1, i=r2, P={n=1: v=0 req1})" in a for a in actions)


def test_unchecked_new_view_lets_a_faulty_primary_drop_a_committed_request():
    result = run("unchecked-new-view", "PBFT-AGREEMENT", byzantine="new-primary")
    actions = [s.action for s in result.violation.trace[1:]]
    assert "r2 accepts faulty r1's NEW-VIEW(v=1, O=[1:req2]), enters view 1" in actions
    assert "r2 suspects the primary, sends VIEW-CHANGE(v=1, i=r2, P={n=1: v=0 req1})" in actions
    # With the check, the same faulty primary cannot: the configuration holds.
    assert run(None, "PBFT-AGREEMENT", byzantine="new-primary").result == "ok"


def test_client_first_reply_is_answered_by_the_faulty_replica_alone():
    result = run("client-first-reply", "PBFT-CLIENT")
    assert result.violation.trace[1].action == "client c1 accepts result 1 for req1"
    assert "no correct replica has executed" in result.violation.message
