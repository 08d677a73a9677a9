"""KV-LINEARIZABLE checked while the run is read (models/common/service.py, Memory).

A key's operations are settled and forgotten at quiescent points that no client event
still to come can reach (`linearizability.settle`), keeping only the states they can
leave. The kept history of a long run stays bounded; a violation whose cause lies
before a cut is still found, from the carried states; and settling a history in
pieces, at whatever frontiers the file's order gives, never changes its verdict
(checked against the whole-history search on random histories).
"""

from __future__ import annotations

import json
import random

from smrcheck.checker.linearizability import (UNKNOWN, Operation, Part, check, check_parts,
                                              settle)
from smrcheck.checker.validate import validate_run
from smrcheck.models.common import service
from smrcheck.models.common.kv import KV
from smrcheck.models.registry import monitor_for
from smrcheck.traces.reader import Merger, open_run

from ..support.synth import multipaxos_run
from .test_monitors import R3, Trace, checked
from .test_service import served


def test_a_long_run_keeps_a_bounded_history(tmp_path, monkeypatch):
    monkeypatch.setattr(service, "SEGMENT", 8)
    p = tmp_path / "long.jsonl"
    p.write_text("".join(json.dumps(e) + "\n" for e in multipaxos_run(
        clients=3, requests=400, seed=5, heartbeats=True)))
    run_ = open_run([str(p)])
    mon = monitor_for(run_.header)
    svc = mon.service
    kept = []
    for ev in Merger(run_):
        mon.on_event(ev)
        if ev["kind"] == "result":
            kept.append(sum(len(log.ops) for log in svc.keys.values()))
    run_.close()
    settled = sum(log.before for log in svc.keys.values())
    mon.finish()
    # 1,200 operations on 4 keys: a key keeps its last few (a segment, those a
    # lagging client may still reach), not the run.
    assert len(kept) == 1200 and max(kept) <= 80 and max(kept[-300:]) <= 80
    assert settled >= 1000
    assert svc.summary.result == "ok" and svc.summary.operations == 1200
    assert not mon.violations


def stale_read(puts: int, read: str) -> Trace:
    """c0 puts x 0, 1, ... one after another, then reads x as `read`."""
    t = Trace("multipaxos", R3)
    for i in range(puts):
        served(t, "c0", i, f"put x {i}", "ok")
    served(t, "c0", puts, "get x", read)
    return t


def test_a_stale_read_after_a_cut_is_found_from_the_carried_state(tmp_path, monkeypatch):
    monkeypatch.setattr(service, "SEGMENT", 4)
    ok = tmp_path / "ok"
    ok.mkdir()
    assert checked(stale_read(12, "11"), ok) == ("ok", [])
    assert checked(stale_read(12, "3"), tmp_path) == ("violation", ["KV-LINEARIZABLE"])
    p = tmp_path / "stale.jsonl"
    t = stale_read(12, "3")
    p.write_text("".join(json.dumps(x) + "\n" for x in [t.header, *t.events]))
    v = validate_run([str(p)], conformance=False).linearizability.violation
    # Found after puts that were settled and forgotten: from the state they leave.
    assert v.before > 0 and [s.state for s in v.starts] == [f"'{v.before - 1}'"]
    assert v.operations[-1].op == "get 'x'" and v.key_operations == 13


def op(i: int, call: float, ret: float | None, inp: tuple, out: object) -> Operation:
    return Operation(f"c{i}#0", f"c{i}", inp, call, ret, UNKNOWN if ret is None else out)


def test_concurrent_writes_before_a_cut_carry_every_state_they_can_leave():
    # put x a and put x b overlap, both return by 4: either may have been last.
    head = [op(0, 1, 4, ("put", "x", "a"), "ok"), op(1, 2, 3, ("put", "x", "b"), "ok")]
    got = settle(KV, head, None, frontier=4)
    assert (got.status, got.n, sorted(s for s, _ in got.starts)) == ("cut", 2, ["a", "b"])
    for read, verdict in [("a", "ok"), ("b", "ok"), ("", "violation")]:
        tail = [op(2, 5, 6, ("get", "x", None), read)]
        part = Part("x", tail, got.starts, got.n, 5)
        assert check_parts(KV, [part]).result == verdict
        assert check(KV, head + tail).result == verdict
    # a then b read later, with no write between: no single state explains both.
    tail = [op(2, 5, 6, ("get", "x", None), "a"), op(3, 7, 8, ("get", "x", None), "b")]
    r = check_parts(KV, [Part("x", tail, got.starts, got.n, 5, head)])
    assert r.result == "violation" and r.violation.key_operations == 4
    assert check(KV, head + tail).result == "violation"


def test_an_open_operation_holds_the_cut_before_its_call():
    ops = [op(0, 1, 2, ("put", "x", "a"), "ok"), op(1, 3, None, ("put", "x", "b"), UNKNOWN),
           op(2, 5, 6, ("get", "x", None), "b")]
    got = settle(KV, ops, None, frontier=10)
    assert (got.status, got.n) == ("cut", 1)  # not past b's call: it may return late
    # Returned after the frontier: a client yet to be heard from may invoke one before.
    assert settle(KV, ops[:1], None, frontier=1).status == "none"


def random_history(rng: random.Random) -> list[Operation]:
    ops = []
    clients = rng.randint(1, 3)
    clock = [0] * clients
    for i in range(rng.randint(1, 14)):
        c = rng.randrange(clients)
        call = clock[c] = max(clock[c], rng.randint(0, max(clock))) + 1
        ret = None if rng.random() < 0.08 else call + rng.randint(0, 4)
        if ret is not None:
            clock[c] = ret
        verb = rng.choice(["put", "get", "append"])
        val = rng.choice("ab")
        inp = ("get", "x", None) if verb == "get" else (verb, "x", val)
        out = {"put": "ok", "get": rng.choice(["", "a", "b", "ab", "ba"]),
               "append": rng.choice(["a", "b", "ab", "ba"])}[verb]
        ops.append(Operation(f"c{c}#{i}", f"c{c}", inp, call, ret,
                             UNKNOWN if ret is None else out))
    return sorted(ops, key=lambda o: (o.call, o.id))


def incrementally(history: list[Operation], rng: random.Random) -> str:
    """The verdict of the history settled at random frontiers, as a reader would see
    it: at frontier f, the operations invoked by f, those returning after it open."""
    end = max((o.ret or o.call) for o in history) + 1
    starts, before, kept, f = None, 0, [], 0
    for f in sorted(rng.sample(range(end + 1), min(4, end + 1))):
        seen = [o if o.ret is not None and o.ret <= f else
                Operation(o.id, o.client, o.input, o.call) for o in history if o.call <= f]
        live = [o for o in seen if o.id not in kept]
        got = settle(KV, live, starts, f)
        assert got.status != "budget"
        if got.status == "fail":
            return "violation"
        if got.status == "cut":
            starts, before = got.starts, before + got.n
            kept += [o.id for o in live[:got.n]]
    rest = [o for o in history if o.id not in kept]
    return check_parts(KV, [Part("x", rest, starts, before)]).result


def test_settling_in_pieces_never_changes_the_verdict():
    rng = random.Random(7)
    verdicts = {"ok": 0, "violation": 0}
    for _ in range(1500):
        history = random_history(rng)
        whole = check(KV, history).result
        verdicts[whole] += 1
        assert incrementally(history, rng) == whole, history
    assert min(verdicts.values()) > 100  # both kinds of history were tried


def test_the_search_steps_stay_as_counted():
    # The step counts are part of the report (validate prints them, budgets count
    # them): a faster search must take the same steps. Pinned from the search before
    # issue #13's speedups (inlined lifts, the unwinding shortcut).
    rng = random.Random(11)
    histories = [random_history(rng) for _ in range(200)]
    assert sum(check(KV, h).steps for h in histories) == 1591
    assert sum(settle(KV, h, None, 20).steps for h in histories) == 798
    # A sequential segment with a stale read fails where the search says it does.
    puts = [op(i, 2 * i + 1, 2 * i + 2, ("put", "x", str(i)), "ok") for i in range(5)]
    read = op(5, 11, 12, ("get", "x", None), "3")
    got = settle(KV, puts + [read], None, frontier=12)
    assert (got.status, got.n, got.steps) == ("fail", 6, 12)
