"""Bugs that only clients see (issue #14), in the real replicas on the simulated network.

Each `CLIENT_BUGS` entry of impl/*/replica.py yields a run in which every protocol
invariant holds, and which KV-LINEARIZABLE or an execution cross-check
(models/common/service.py) rejects; the same schedule without the bug validates,
with its client history checked. Correct runs under drop, duplicate, delay, reorder,
crash and partition faults stay linearizable. Schedules are scripted (partitions, a
timer fired first, clients pointed at a replica as a cached leader would be), so each
run replays exactly.
"""

from __future__ import annotations

import pytest

from smrcheck.impl.multipaxos.replica import CLIENT_BUGS as MP_BUGS
from smrcheck.impl.pbft.replica import CLIENT_BUGS as PBFT_BUGS
from smrcheck.impl.runtime.faults import FaultSpec
from smrcheck.impl.simrun import build, run_to_completion
from smrcheck.models.common.service import RULES

SERVICE = frozenset(RULES)  # KV-LINEARIZABLE and the SMR-* cross-checks


def plain(c):
    c.net.run(max_time=0.5)


def briefly(c):
    c.net.run(max_time=0.1)  # PBFT signs every message: a short run has enough requests


def target(c, replica):
    for x in c.clients:  # the next requests go there first, as to a cached leader
        c.client(x).target = replica


def leader_cut_off(c):
    """r0 leads, then loses r1 and r2 (clients still reach it) while it goes on
    answering; r1 takes over, and the clients turn to it."""
    net = c.net
    net.run(max_time=0.05)
    net.plan.cut("r0", "r1")
    net.plan.cut("r0", "r2")
    net.run(max_time=net.time + 0.2)
    net.fire("r1", "election")
    net.run(max_time=net.time + 0.2)
    target(c, "r1")
    net.run(max_time=net.time + 1.0)


def deposed_leader_asked(c):
    """r1 takes over from r0, which is cut off from both other replicas and does not
    know; the clients write through r1, then lose r1 and r2 in turn and ask r0,
    the one replica they still reach."""
    net = c.net
    net.run(max_time=0.05)
    net.plan.cut("r0", "r1")
    net.plan.cut("r0", "r2")
    net.fire("r1", "election")
    net.run(max_time=net.time + 0.2)
    target(c, "r1")
    net.run(max_time=net.time + 1.5)
    for x in c.clients:
        net.plan.cut(x, "r1")
        net.plan.cut(x, "r2")
    net.run(max_time=net.time + 1.5)


# bug -> (protocol, schedule, properties the bugged run must break)
CASES = {
    ("multipaxos", "reply-before-commit"): (
        leader_cut_off, {"SMR-REPLY-AFTER-EXECUTE", "KV-LINEARIZABLE"}),
    ("multipaxos", "stale-read"): (
        deposed_leader_asked, {"SMR-REPLY-AFTER-EXECUTE", "KV-LINEARIZABLE"}),
    ("multipaxos", "reply-pre-execution-result"): (
        plain, {"SMR-REPLY-RESULT", "KV-LINEARIZABLE"}),
    ("pbft", "reply-before-commit"): (briefly, {"SMR-REPLY-AFTER-EXECUTE"}),
    ("pbft", "reply-pre-execution-result"): (briefly, {"SMR-REPLY-RESULT", "KV-LINEARIZABLE"}),
}


def test_every_client_bug_has_a_case():
    assert {b for p, b in CASES if p == "multipaxos"} == set(MP_BUGS)
    assert {b for p, b in CASES if p == "pbft"} == set(PBFT_BUGS)


@pytest.mark.parametrize("protocol, bug", sorted(CASES))
@pytest.mark.parametrize("injected", [True, False])
def test_client_bug_passes_the_invariants_and_is_rejected(protocol, bug, injected, tmp_path,
                                                          validate_dir):
    schedule, breaks = CASES[(protocol, bug)]
    n = 3 if protocol == "multipaxos" else 4
    c = build(protocol, n=n, clients=2, requests=2000, seed=1, window=4,
              bug=bug if injected else None, trace_dir=str(tmp_path))
    schedule(c)
    c.close()
    result = validate_dir(str(tmp_path))
    found = {v.property for v in result.violations}
    assert "KV-LINEARIZABLE" in dict(result.properties)
    assert result.linearizability.operations > 20
    if not injected:
        assert result.exit_code == 0, result.to_json()
        return
    assert result.exit_code == 1
    assert found <= SERVICE, f"a protocol invariant broke too: {found - SERVICE}"
    assert breaks <= found, (bug, found)


FAULTS = FaultSpec.parse("drop=0.05,dup=0.05,delay=0.01,reorder=0.05")


@pytest.mark.parametrize("protocol", ["multipaxos", "pbft"])
def test_correct_runs_with_faults_stay_linearizable(protocol, tmp_path, validate_dir):
    """Lost, duplicated and reordered messages, a replica crashed and restarted, then
    one cut off for a while: every client operation is checked and the history holds."""
    n = 3 if protocol == "multipaxos" else 4
    c = build(protocol, n=n, clients=3, requests=15, seed=9, window=2, faults=FAULTS,
              trace_dir=str(tmp_path))
    net = c.net
    net.run(max_time=0.1)
    net.crash("r0")
    net.run(max_time=net.time + 1.0)
    net.restart("r0")
    net.run(max_time=net.time + 0.3)
    for other in c.replicas[:-1]:
        net.plan.cut(c.replicas[-1], other)
    net.run(max_time=net.time + 1.0)
    net.plan.heal()
    assert run_to_completion(c, max_time=net.time + 120)
    c.close()
    result = validate_dir(str(tmp_path))
    assert result.exit_code == 0, result.to_json()
    h = result.linearizability
    assert (h.result, h.operations, h.pending) == ("ok", 45, 0)
    assert {"KV-LINEARIZABLE", "SMR-REPLY-RESULT", "SMR-DETERMINISM",
            "SMR-REPLY-AFTER-EXECUTE"} <= dict(result.properties).keys()
