"""What clients saw (models/common/service.py), one rule at a time, on small runs.

KV-LINEARIZABLE and the execution cross-checks run beside the protocol's monitor: a
check runs only when the trace logs what it needs (and is listed in `properties` only
then), never fails a legal run, and its verdict is the same in every order a merged
file may list the run (`checked` permutes each case, as for the protocol monitors).
The per-request state stays bounded on a long run.
"""

from __future__ import annotations

import json

from smrcheck.checker.cli import main
from smrcheck.checker.validate import validate_run
from smrcheck.models.common import service
from smrcheck.models.multipaxos.monitor import MultiPaxosMonitor
from smrcheck.traces.reader import Merger, open_run

from ..support.synth import multipaxos_run
from .test_monitors import R3, Trace, ballot, checked, phase1, phase2

SMR = ["SMR-REPLY-AFTER-EXECUTE", "SMR-REPLY-RESULT", "SMR-DETERMINISM"]
PUT, GET = {"client": "c0", "req": 0, "op": "put x 1"}, {"client": "c0", "req": 1, "op": "get x"}


def run(t: Trace, *, results: bool = True, executes: bool = True,
        replies: dict[int, str] | None = None, answers: dict[int, str] | None = None) -> Trace:
    """c0 puts x 1 then gets x, through leader r0: each chosen, executed by every
    replica (with or without `result`), answered by r0 (`replies`: what r0 says
    instead), accepted by c0 (`answers`: what c0 accepts instead, None: no result)."""
    phase1(t, "r0", ballot(1, "r0"), R3)
    computed = {0: "ok", 1: "1"}
    for slot, c in enumerate([PUT, GET]):
        t.ev("c0", "request", req=c["req"], op=c["op"])
        t.msg("c0", ["r0"], {"type": "request", "cmd": c})
        phase2(t, "r0", ballot(1, "r0"), slot, c, R3, R3)
        for r in R3:
            t.ev(r, "decide", slot=slot, cmd=c)
            if executes:
                t.ev(r, "execute", slot=slot, cmd=c,
                     **({"result": computed[slot]} if results else {}))
        said = (replies or {}).get(slot, computed[slot])
        t.msg("r0", ["c0"], {"type": "reply", "client": "c0", "req": c["req"], "result": said})
        accepted = (answers or {}).get(slot, said)
        if accepted is not None:
            t.ev("c0", "result", req=c["req"], result=accepted)
    return t


def served(t: Trace, client: str, req: int, op: str, result: str, by: str = "r0") -> None:
    """client asks `by`, which answers `result` (no execution logged), accepted."""
    c = {"client": client, "req": req, "op": op}
    t.ev(client, "request", req=req, op=op)
    t.msg(client, [by], {"type": "request", "cmd": c})
    t.msg(by, [client], {"type": "reply", "client": client, "req": req, "result": result})
    t.ev(client, "result", req=req, result=result)


def report(t: Trace, tmp_path, name: str = "run.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps(x) + "\n" for x in [t.header, *t.events]))
    return validate_run([str(p)], conformance=False)


def test_a_correct_run_lists_every_check_and_its_history(tmp_path, capsys):
    t = run(Trace("multipaxos", R3))
    assert checked(t, tmp_path) == ("ok", [])
    r = report(t, tmp_path)
    assert [p for p, _ in r.properties][-4:] == ["KV-LINEARIZABLE", *SMR]
    p = tmp_path / "run.jsonl"
    assert main(["validate", str(p), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "KV-LINEARIZABLE" in out["properties"]
    h = out["linearizability"]
    assert (h["result"], h["operations"], h["pending"], h["keys"]) == ("ok", 2, 0, 1)


def test_a_wrong_answer_is_caught_at_the_reply_and_by_the_history(tmp_path):
    t = run(Trace("multipaxos", R3), replies={1: "2"})
    assert checked(t, tmp_path) == ("violation", ["KV-LINEARIZABLE", "SMR-REPLY-RESULT"])


def test_a_pending_request_may_have_taken_effect(tmp_path):
    t = run(Trace("multipaxos", R3), answers={0: None})  # c0 never saw its put's answer
    assert checked(t, tmp_path) == ("ok", [])
    assert report(t, tmp_path).linearizability.pending == 1


def test_a_reply_to_a_retry_of_an_executed_request_is_legal(tmp_path):
    t = run(Trace("multipaxos", R3))
    t.msg("c0", R3, {"type": "request", "cmd": GET})  # a late retry, to every replica
    for r in R3:
        t.msg(r, ["c0"], {"type": "reply", "client": "c0", "req": 1, "result": "1"})
    assert checked(t, tmp_path) == ("ok", [])


def test_replicas_disagreeing_on_a_slots_result_break_determinism(tmp_path):
    t = run(Trace("multipaxos", R3))
    i = next(i for i, e in enumerate(t.events) if e["kind"] == "execute" and e["node"] == "r2"
             and e["slot"] == 1)
    t.events[i]["result"] = "11"
    assert checked(t, tmp_path) == ("violation", ["SMR-DETERMINISM"])


def test_without_executions_replies_are_not_judged(tmp_path):
    # Learners that log decisions only: the cross-checks have nothing to go on.
    t = run(Trace("multipaxos", R3), executes=False, replies={1: "1"})
    assert checked(t, tmp_path) == ("ok", [])
    assert [p for p, _ in report(t, tmp_path).properties][-1] == "KV-LINEARIZABLE"


def test_without_results_in_executions_only_the_order_of_reply_and_execution_is_judged(tmp_path):
    t = run(Trace("multipaxos", R3), results=False)
    assert checked(t, tmp_path) == ("ok", [])
    assert [p for p, _ in report(t, tmp_path).properties][-2:] == [
        "KV-LINEARIZABLE", "SMR-REPLY-AFTER-EXECUTE"]


def test_a_reply_before_the_first_execution_of_the_run_is_judged_once_one_comes(tmp_path):
    t = Trace("multipaxos", R3)
    t.ev("c0", "request", req=0, op="put x 1")
    t.msg("c0", ["r0"], {"type": "request", "cmd": PUT})
    t.msg("r0", ["c0"], {"type": "reply", "client": "c0", "req": 0, "result": "ok"})
    t.ev("c0", "result", req=0, result="ok")
    phase1(t, "r0", ballot(1, "r0"), R3)
    phase2(t, "r0", ballot(1, "r0"), 0, PUT, R3, R3)
    for r in R3:
        t.ev(r, "decide", slot=0, cmd=PUT)
        t.ev(r, "execute", slot=0, cmd=PUT, result="ok")
    assert checked(t, tmp_path) == ("violation", ["SMR-REPLY-AFTER-EXECUTE"])


def test_another_services_run_is_not_held_to_the_kv_store(tmp_path):
    t = Trace("multipaxos", R3)
    served(t, "c0", 0, "inc counter", "41")
    r = report(t, tmp_path)
    assert r.result == "ok" and r.linearizability is None
    assert "KV-LINEARIZABLE" not in dict(r.properties)
    assert any("'inc counter'" in w and "another service" in w for w in r.warnings)


def test_a_run_with_unlogged_nodes_is_not_checked(tmp_path):
    # The causal chain from a request to a later result may run through r2's events.
    t = Trace("multipaxos", R3, logged=["r0", "r1", "c0"])
    served(t, "c0", 0, "get x", "7")
    r = report(t, tmp_path)
    assert r.result == "ok" and "KV-LINEARIZABLE" not in dict(r.properties)
    assert any("r2 is not logged" in w for w in r.warnings)


def test_real_time_is_causal_two_clients_unaware_of_each_other_are_concurrent(tmp_path):
    """c1 reads x as never written after c0's put returned, in the file; but nothing
    orders c1's read after c0's put (c1 heard from no one who heard of it), so some
    timing has the read first: linearizable, in every order of the file."""
    t = Trace("multipaxos", R3, clients=["c0", "c1"])
    served(t, "c0", 0, "put x 1", "ok", by="r0")
    served(t, "c1", 0, "get x", "", by="r1")
    assert checked(t, tmp_path) == ("ok", [])
    # Once c1 hears from c0 after the put, the read comes after it.
    t2 = Trace("multipaxos", R3, clients=["c0", "c1"])
    served(t2, "c0", 0, "put x 1", "ok", by="r0")
    t2.msg("c0", ["c1"], {"type": "heartbeat"})
    served(t2, "c1", 0, "get x", "", by="r1")
    sub = tmp_path / "told"
    sub.mkdir()
    assert checked(t2, sub) == ("violation", ["KV-LINEARIZABLE"])


def test_per_request_state_stays_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(service, "KEPT_REQUESTS", 16)
    monkeypatch.setattr(service, "KEPT_SLOTS", 8)
    p = tmp_path / "long.jsonl"
    p.write_text("".join(json.dumps(e) + "\n" for e in multipaxos_run(
        clients=3, requests=150, seed=3, heartbeats=True)))
    run_ = open_run([str(p)])
    mon = service.with_service(MultiPaxosMonitor(run_.header), run_.header)
    svc = mon.service
    most = [0, 0]
    for ev in Merger(run_):
        mon.on_event(ev)
        most = [max(most[0], len(svc.computed)), max(most[1], len(svc.slots))]
    run_.close()
    mon.finish()
    assert most[0] <= 17 and most[1] <= 9
    assert svc.summary.result == "ok" and svc.summary.operations == 450
    assert not mon.violations
