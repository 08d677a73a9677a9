"""A replica killed between its two writes of an executed slot (durable log, then
trace) recovers so that its trace still executes every slot exactly once, in order."""

from __future__ import annotations

import random

from smrcheck.impl.multipaxos.replica import MultiPaxosReplica
from smrcheck.impl.pbft.crypto import sim_keys
from smrcheck.impl.pbft.replica import PbftReplica, digest
from smrcheck.impl.runtime.storage import FileStorage, MemoryStorage
from smrcheck.impl.runtime.tracer import Tracer, header


class FakeEnv:
    name = "r1"

    def __init__(self):
        self.rng = random.Random(0)
        self.events = []

    def now(self):
        return 0.0

    def send(self, to, msg, meta=None):
        return None

    def set_timer(self, name, delay):
        pass

    def cancel_timer(self, name):
        pass

    def trace(self, kind, **fields):
        self.events.append((kind, fields))


def cmd(i):
    return {"client": "c0", "req": i, "op": f"append k {i}"}


def test_multipaxos_traces_the_slot_it_stored_but_did_not_trace():
    storage = MemoryStorage()
    for i in range(5):
        storage.append({"x": [i, cmd(i)]})
    env = FakeEnv()
    r = MultiPaxosReplica(env, ["r0", "r1", "r2"], storage, traced={i: cmd(i) for i in range(4)})
    r.start()
    assert [(k, f["slot"]) for k, f in env.events] == [("execute", 4)]
    assert r.slot_out == 5 and r.kv.data["k"] == "01234"


def test_multipaxos_stores_the_slot_it_traced_but_did_not_store():
    storage = MemoryStorage()
    for i in range(3):
        storage.append({"x": [i, cmd(i)]})
    env = FakeEnv()
    r = MultiPaxosReplica(env, ["r0", "r1", "r2"], storage, traced={i: cmd(i) for i in range(4)})
    r.start()
    assert env.events == [] and r.slot_out == 4
    assert storage.records[-1] == {"x": [3, cmd(3)]}


def test_pbft_recovers_both_ways():
    keys = sim_keys(["r0", "r1", "r2", "r3"], 0)
    storage = MemoryStorage()
    for n in range(1, 4):
        storage.append({"x": [n, digest(cmd(n)), cmd(n)]})
    env = FakeEnv()
    r = PbftReplica(env, ["r0", "r1", "r2", "r3"], 1, storage, keys.only("r1"),
                    traced={n: (digest(cmd(n)), cmd(n)) for n in range(1, 3)})
    r.start()
    assert [(k, f["n"]) for k, f in env.events] == [("execute", 3)]
    env2 = FakeEnv()
    r2 = PbftReplica(env2, ["r0", "r1", "r2", "r3"], 1, MemoryStorage(), keys.only("r1"),
                     traced={1: (digest(cmd(1)), cmd(1))})
    r2.start()
    assert env2.events == [] and r2.last_exec == 1


def test_tracer_and_storage_survive_a_torn_last_line(tmp_path):
    path = str(tmp_path / "r1.jsonl")
    head = header("multipaxos", ["r0", "r1", "r2"], [], 1, node="r1")
    t = Tracer(path, head, "r1")
    t.emit("note", text="a")
    t.close()
    with open(path, "a") as fh:
        fh.write('{"kind":"note","node":"r1","se')  # killed mid-line
    t = Tracer(path, head, "r1")
    assert t.seq == 1
    t.emit("note", text="b")
    t.close()
    lines = open(path).read().splitlines()
    assert len(lines) == 3 and '"seq":1' in lines[-1]
    spath = str(tmp_path / "r1.log")
    s = FileStorage(spath)
    s.append({"p": [1, 0]})
    s.close()
    with open(spath, "a") as fh:
        fh.write('{"a": [0, 1')
    assert list(FileStorage(spath).replay()) == [{"p": [1, 0]}]


def test_pbft_restarted_primary_does_not_order_a_request_twice():
    """Found by conformance on `smrcheck run pbft --faults crash=1,...`: the primary
    forgot which requests it had ordered, and a client's retry got a second number."""
    keys = sim_keys(["r0", "r1", "r2", "r3"], 0)
    storage = MemoryStorage()
    c = cmd(1)
    msg = {"type": "pre-prepare", "view": 0, "n": 1, "digest": digest(c), "cmd": c}
    storage.append({"pp": [0, 1, digest(c), c, msg, "sig", None]})
    env = FakeEnv()
    env.name = "r0"
    r = PbftReplica(env, ["r0", "r1", "r2", "r3"], 1, storage, keys.only("r0"))
    r.start()
    assert r.primary(r.view) == "r0" and r.next_n == 2
    r.on_request("c0", c, None)
    assert r.next_n == 2 and sorted(r.pp) == [(0, 1)]


def test_pbft_primary_stores_a_pre_prepare_before_sending_it():
    """Killed between the two, a primary that sent first came back and gave the same
    number to another request: a correct replica equivocating."""
    keys = sim_keys(["r0", "r1", "r2", "r3"], 0)
    storage = MemoryStorage()
    stored_when_sent = []

    class Env(FakeEnv):
        name = "r0"

        def send(self, to, msg, meta=None):
            if msg["type"] == "pre-prepare":
                stored_when_sent.append(any(rec.get("pp", [None, None])[1] == msg["n"]
                                            for rec in storage.records))
            return "sig"

    r = PbftReplica(Env(), ["r0", "r1", "r2", "r3"], 1, storage, keys.only("r0"))
    r.start()
    r.on_request("c0", cmd(1), None)
    r.on_request("c0", cmd(2), None)
    assert stored_when_sent == [True, True]
    # Killed right after the first send: the restarted primary moves past that number.
    cut = MemoryStorage()
    cut.records = storage.records[:1]
    again = PbftReplica(FakeEnv(), ["r0", "r1", "r2", "r3"], 1, cut, keys.only("r0"))
    again.start()
    assert again.next_n == 2 and ("c0", 1) in again.assigned


def test_pbft_restarted_primary_signs_again_a_pre_prepare_stored_unsigned():
    """Killed between the write-ahead record and the signed one: the restored
    pre-prepare must carry a valid signature, or its certificates fail at every
    receiver and the primary cannot take part in view changes (found in review)."""
    from smrcheck.impl.pbft.replica import ENCODE

    keys = sim_keys(["r0", "r1", "r2", "r3"], 0)
    storage = MemoryStorage()
    c = cmd(1)
    msg = {"type": "pre-prepare", "view": 0, "n": 1, "digest": digest(c), "cmd": c}
    storage.append({"pp": [0, 1, digest(c), c, msg, None, None]})
    env = FakeEnv()
    env.name = "r0"
    r = PbftReplica(env, ["r0", "r1", "r2", "r3"], 1, storage, keys.only("r0"))
    r.start()
    sig = r.pp[(0, 1)][2][1]
    assert keys.verify("r0", ENCODE(msg), sig)
