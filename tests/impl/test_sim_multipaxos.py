"""MultiPaxos replicas on the simulated network: traces validate, crashes lose nothing,
and Hypothesis explores schedules with safety checked on the replicas after every step."""

from __future__ import annotations

import shutil
import tempfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from smrcheck.impl.runtime.faults import FaultSpec
from smrcheck.impl.simrun import build, run_to_completion

from .conftest import check_traces

FAULTS = FaultSpec.parse("drop=0.1,dup=0.1,delay=0.02,reorder=0.1")


def test_faulty_run_validates(tmp_path, validate_dir):
    c = build(n=3, clients=2, requests=30, seed=7, faults=FAULTS, trace_dir=str(tmp_path), window=4)
    assert run_to_completion(c)
    c.close()
    assert all(len(c.client(x).results) == 30 for x in c.clients)
    result = validate_dir(str(tmp_path))
    assert result.exit_code == 0, result.to_json()


def test_same_seed_same_run():
    def fingerprint(seed):
        c = build(n=3, clients=2, requests=20, seed=seed, faults=FAULTS, window=2)
        run_to_completion(c)
        return c.net.time, c.net.delivered, [c.replica(r).log for r in c.replicas]

    assert fingerprint(3) == fingerprint(3)


def test_leader_crash_and_restart_loses_no_committed_command(tmp_path, validate_dir):
    c = build(n=3, clients=2, requests=40, seed=11, trace_dir=str(tmp_path), window=2)
    net = c.net
    net.run(max_time=0.05)
    committed_before = {x: dict(c.client(x).results) for x in c.clients}
    assert any(committed_before.values())
    net.crash("r0")  # the first leader
    net.run(max_time=net.time + 1.0)
    net.restart("r0")
    assert run_to_completion(c)
    net.run(max_time=net.time + 1.0)  # let r0 catch up
    c.close()
    logs = [c.replica(r).log for r in c.replicas]
    for x in c.clients:
        for req in committed_before[x]:
            for log in logs:
                assert any(cmd and cmd["client"] == x and cmd["req"] == req for cmd in log.values())
    assert c.replica("r0").kv.data == c.replica("r1").kv.data
    result = validate_dir(str(tmp_path))
    assert result.exit_code == 0, result.to_json()


class MultiPaxosSchedules(RuleBasedStateMachine):
    """Pick which pending event runs next, crash and restart replicas (at most f down);
    after every step no two replicas may have chosen different commands in a slot, and
    executed logs and state machines agree."""

    @initialize(seed=st.integers(0, 2**16), lossy=st.booleans())
    def setup(self, seed, lossy):
        self.dir = tempfile.mkdtemp(prefix="smrcheck-mp-")
        self.c = build(n=3, clients=2, requests=6, seed=seed, window=2,
                       faults=FAULTS if lossy else None, trace_dir=self.dir)
        self.chosen: dict[int, object] = {}
        self.down: set[str] = set()

    @rule(i=st.integers(0, 6))
    def step(self, i):
        self.c.net.step(i)

    @rule(k=st.integers(1, 30))
    def run_a_while(self, k):
        for _ in range(k):
            self.c.net.step()

    @rule(r=st.sampled_from(["r0", "r1", "r2"]))
    def crash(self, r):
        if not self.down:
            self.down.add(r)
            self.c.net.crash(r)

    @rule(a=st.sampled_from(["r0", "r1", "r2", "c0"]), b=st.sampled_from(["r0", "r1", "r2"]))
    def partition(self, a, b):
        if a != b:
            self.c.net.plan.cut(a, b)

    @rule()
    def heal(self):
        self.c.net.plan.heal()

    @rule()
    def restart(self):
        if self.down:
            self.c.net.restart(self.down.pop())

    @invariant()
    def agreement_and_prefix(self):
        c = self.c
        for r in c.replicas:
            if r in self.down:
                continue
            rep = c.replica(r)
            assert sorted(rep.log) == list(range(rep.slot_out))
            for slot, cmd in list(rep.log.items()) + list(rep.decisions.items()):
                assert self.chosen.setdefault(slot, cmd) == cmd, f"slot {slot} differs at {r}"

    @invariant()
    def same_log_same_state(self):
        c = self.c
        by_len = {}
        for r in c.replicas:
            if r in self.down:
                continue
            rep = c.replica(r)
            assert by_len.setdefault(rep.slot_out, rep.kv.data) == rep.kv.data

    def teardown(self):
        c = self.c
        while self.down:
            c.net.restart(self.down.pop())
        c.net.plan.heal()
        try:
            assert run_to_completion(c, max_time=c.net.time + 300)
            self.agreement_and_prefix()
            c.close()
            result = check_traces(self.dir)  # the explored schedule's traces validate too
            assert result.exit_code == 0, result.to_json()
        finally:
            c.close()
            shutil.rmtree(self.dir, ignore_errors=True)


MultiPaxosSchedules.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestMultiPaxosSchedules = MultiPaxosSchedules.TestCase
