"""Each injected MultiPaxos bug yields a run that `smrcheck validate` rejects, and the
same schedule without the bug validates. Schedules are scripted on the simulated
network (partitions, a timer that expires first), so each run replays exactly."""

from __future__ import annotations

import pytest

from smrcheck.impl.multipaxos.replica import BUGS, CLIENT_BUGS
from smrcheck.impl.simrun import build


def isolated_then_elected(net):
    """r2 misses a stretch of slots, then its election timer fires first on rejoining."""
    net.run(max_time=0.02)
    net.plan.cut("r2", "r0")
    net.plan.cut("r2", "r1")
    net.run(max_time=net.time + 0.4)
    net.plan.heal()
    net.fire("r2", "election")
    net.run(max_time=net.time + 0.5)


def deposed_leader_unheard(net):
    """r0 leads, is cut off while r2 takes over, then can send but not hear."""
    net.run(max_time=0.05)
    net.plan.cut("r0", "r1")
    net.plan.cut("r0", "r2")
    net.run(max_time=net.time + 1.5)
    net.plan.heal()
    net.plan.cut_one_way("r1", "r0")
    net.plan.cut_one_way("r2", "r0")
    net.run(max_time=net.time + 1.0)


def plain(net):
    net.run(max_time=0.5)


CASES = {
    "ignore-promised-values": (isolated_then_elected, "MP-AGREEMENT"),
    "accept-below-promise": (deposed_leader_unheard, "MP-PROMISE"),
    "minority-quorums": (plain, "MP-QUORUM-CERT"),
    "execute-duplicates": (plain, "MP-AT-MOST-ONCE"),
}


def test_every_bug_has_a_case():
    # The bugs only clients see have their cases in test_bugs_clients.py.
    assert set(CASES) == set(BUGS) - set(CLIENT_BUGS)


@pytest.mark.parametrize("bug", sorted(CASES))
@pytest.mark.parametrize("injected", [True, False])
def test_bug_is_caught(bug, injected, tmp_path, validate_dir):
    schedule, prop = CASES[bug]
    c = build(n=3, clients=2, requests=2000, seed=1, window=2, bug=bug if injected else None,
              trace_dir=str(tmp_path))
    schedule(c.net)
    c.close()
    result = validate_dir(str(tmp_path))
    found = {v.property for v in result.violations}
    if injected:
        assert result.exit_code == 1 and prop in found, (bug, found)
    else:
        assert result.exit_code == 0, result.to_json()
