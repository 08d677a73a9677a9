"""PBFT replicas on the simulated network: signed messages, Byzantine replicas, view
changes; traces validate; Hypothesis explores schedules with safety checked after
every step on the correct replicas."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from smrcheck.impl.pbft.crypto import sim_keys
from smrcheck.impl.pbft.replica import BUGS, CLIENT_BUGS, MODES
from smrcheck.impl.runtime.faults import FaultSpec
from smrcheck.impl.simrun import build, run_to_completion


def test_normal_case_validates(tmp_path, validate_dir):
    c = build("pbft", n=4, clients=2, requests=15, seed=1, trace_dir=str(tmp_path), window=2)
    assert run_to_completion(c)
    c.close()
    assert all(c.replica(r).last_exec == 30 for r in c.replicas)
    assert validate_dir(str(tmp_path)).exit_code == 0


@pytest.mark.parametrize("who, mode", [("r0", m) for m in sorted(MODES)] + [("r2", "silent"),
                                                                              ("r3", "wrong-reply")])
def test_byzantine_replica_cannot_break_safety(who, mode, tmp_path, validate_dir):
    c = build("pbft", n=4, clients=2, requests=10, seed=2, trace_dir=str(tmp_path), window=2,
              byzantine={who: mode}, faults=FaultSpec.parse("drop=0.02,delay=0.01"))
    assert run_to_completion(c, max_time=120)
    c.close()
    result = validate_dir(str(tmp_path))
    assert result.exit_code == 0, result.to_json()
    for x in c.clients:  # clients got the right answers despite the faulty replica
        assert "bogus" not in c.client(x).results.values()


def test_silent_primary_is_replaced_by_a_view_change(tmp_path, validate_dir):
    c = build("pbft", n=4, clients=1, requests=5, seed=3, trace_dir=str(tmp_path),
              byzantine={"r0": "silent"})
    assert run_to_completion(c)
    c.close()
    assert all(c.replica(r).view >= 1 for r in c.replicas)
    assert validate_dir(str(tmp_path)).exit_code == 0


def test_forged_message_is_dropped_unseen():
    c = build("pbft", n=4, clients=1, requests=1, seed=4)
    net = c.net
    other = sim_keys(["r0"], seed=999)  # not r0's real key
    msg = {"type": "pre-prepare", "view": 0, "n": 1, "digest": "x", "cmd": None}
    import json

    frame = json.dumps({"id": "forged", "from": "r0", "msg": msg, "meta": None,
                        "sig": other.sign("r0", json.dumps(msg, separators=(",", ":")))})
    before = net.delivered
    net._deliver("r1", frame)
    assert net.delivered == before and (0, 1) not in c.replica("r1").pp


def plain(net):
    net.run(max_time=60)


def next_primary_lags_then_primary_crashes(net):
    """r1 (view 1's primary) misses a stretch of commits; then r0 crashes, so r1 can
    fetch no pre-prepare and leads view 1 from behind."""
    net.run(max_time=0.01)
    for other in ("r0", "r2", "r3", "c0", "c1"):
        net.plan.cut("r1", other)
    net.run(max_time=net.time + 0.05)
    net.crash("r0")
    net.plan.heal()
    net.run(max_time=net.time + 10)


BUG_CASES = {
    "committed-with-2f": (plain, "PBFT-COMMIT-CERT"),
    "client-first-reply": (plain, "PBFT-CLIENT"),
    "new-view-ignores-certificates": (next_primary_lags_then_primary_crashes, "PBFT-AGREEMENT"),
}


def test_every_bug_has_a_case():
    # The bugs only clients see have their cases in test_bugs_clients.py.
    assert set(BUG_CASES) == set(BUGS) - set(CLIENT_BUGS)


@pytest.mark.parametrize("bug", sorted(BUG_CASES))
@pytest.mark.parametrize("injected", [True, False])
def test_bug_is_caught(bug, injected, tmp_path, validate_dir):
    schedule, prop = BUG_CASES[bug]
    c = build("pbft", n=4, clients=2, requests=30, seed=5, trace_dir=str(tmp_path), window=2,
              bug=bug if injected else None)
    schedule(c.net)
    c.close()
    result = validate_dir(str(tmp_path))
    if not injected:
        assert result.exit_code == 0, result.to_json()
        return
    result = validate_dir(str(tmp_path))
    assert result.exit_code == 1 and prop in {v.property for v in result.violations}


class PbftSchedules(RuleBasedStateMachine):
    """Reorder deliveries and timers, crash and restart a replica, with one Byzantine
    replica besides; no two correct
    replicas commit different requests at one number, and equal logs give equal state."""

    @initialize(seed=st.integers(0, 2**16), who=st.sampled_from(["r0", "r1", "r2", "r3"]),
                mode=st.sampled_from(sorted(MODES)))
    def setup(self, seed, who, mode):
        self.c = build("pbft", n=4, clients=2, requests=3, seed=seed, window=2,
                       byzantine={who: mode})
        self.correct = [r for r in self.c.replicas if r != who]
        self.committed: dict[int, str] = {}
        self.down: set[str] = set()

    @rule(i=st.integers(0, 8))
    def step(self, i):
        self.c.net.step(i)

    @rule(k=st.integers(1, 40))
    def run_a_while(self, k):
        for _ in range(k):
            self.c.net.step()

    @rule(r=st.sampled_from(["r0", "r1", "r2", "r3"]))
    def crash(self, r):
        if not self.down:
            self.down.add(r)
            self.c.net.crash(r)

    @rule()
    def restart(self):
        if self.down:
            self.c.net.restart(self.down.pop())

    @invariant()
    def agreement(self):
        for r in self.correct:
            if r in self.down:
                continue
            for n, (_, d, _) in self.c.replica(r).committed.items():
                assert self.committed.setdefault(n, d) == d, f"n={n} differs at {r}"

    @invariant()
    def same_log_same_state(self):
        seen = {}
        for r in self.correct:
            if r in self.down:
                continue
            rep = self.c.replica(r)
            assert seen.setdefault(rep.last_exec, rep.kv.data) == rep.kv.data

    def teardown(self):
        while self.down:
            self.c.net.restart(self.down.pop())
        assert run_to_completion(self.c, max_time=self.c.net.time + 300)
        self.agreement()


PbftSchedules.TestCase.settings = settings(
    max_examples=30, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestPbftSchedules = PbftSchedules.TestCase


def test_replica_down_during_a_view_change_fetches_the_new_view(tmp_path, validate_dir):
    """r0 (view 0's primary) is down while r1..r3 move to view 1; it restarts in view 0;
    then r3 crashes, so progress needs r0 in view 1: it asks r1 for the NEW-VIEW."""
    c = build("pbft", n=4, clients=2, requests=40, seed=6, trace_dir=str(tmp_path), window=2)
    net = c.net
    net.run(max_time=0.02)
    net.crash("r0")
    net.run(until=lambda: all(c.replica(r).view == 1 and not c.replica(r).changing
                              for r in ("r1", "r2", "r3")), max_time=net.time + 30)
    net.restart("r0")
    assert c.replica("r0").view == 0
    net.run(max_time=net.time + 0.05)
    net.crash("r3")
    assert run_to_completion(c, max_time=net.time + 120)
    c.close()
    assert c.replica("r0").view == 1
    result = validate_dir(str(tmp_path))
    assert result.exit_code == 0, result.to_json()


def test_restarted_replicas_are_not_amnesiac():
    """Found by PbftSchedules before pre-prepares and certificates were durable: with an
    equivocating r1, a restarted r2 prepared a second digest for one (view, n)."""
    state = PbftSchedules()
    state.setup(seed=0, who="r1", mode="equivocate")
    state.run_a_while(k=32)
    for r in ("r1", "r2"):
        state.crash(r=r)
        state.restart()
        state.agreement()
    state.crash(r="r0")
    state.run_a_while(k=27)
    state.agreement()
    state.teardown()
