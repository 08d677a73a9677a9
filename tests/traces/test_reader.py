"""The reader and merger: causal order, per-node files, and one clear message per input fault."""

from __future__ import annotations

import json
import pathlib

import pytest

from smrcheck.checker.errors import InvalidTrace
from smrcheck.traces.format import EVENT_ADAPTERS, json_schemas
from smrcheck.traces.reader import Merger, open_run
from smrcheck.traces.synth import multipaxos_run, pbft_run

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "traces" / "samples"
HEADER = {"kind": "header", "format": "smrtrace", "version": 1, "protocol": "multipaxos",
          "nodes": ["r0", "r1", "r2"], "clients": ["c0"], "f": 1}


def write(path: pathlib.Path, events: list[dict], header: dict = HEADER) -> pathlib.Path:
    path.write_text("\n".join(json.dumps(e) for e in [header, *events]) + "\n")
    return path


def merged(*paths) -> list[dict]:
    run = open_run([str(p) for p in paths])
    try:
        return list(Merger(run))
    finally:
        run.close()


def error(*paths) -> str:
    with pytest.raises(InvalidTrace) as info:
        merged(*paths)
    return str(info.value)


PREPARE = {"type": "prepare", "ballot": [1, "r0"]}


def test_recv_before_send_in_the_file_is_held_back(tmp_path):
    p = write(tmp_path / "t.jsonl", [
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "m1", "from": "r0", "ts": 1.0},
        {"kind": "note", "node": "r1", "seq": 1, "ts": 1.1},
        {"kind": "send", "node": "r0", "seq": 0, "msg_id": "m1", "to": ["r1"], "msg": PREPARE, "ts": 9.0},
    ])
    order = [(e["node"], e["seq"]) for e in merged(p)]
    assert order == [("r0", 0), ("r1", 0), ("r1", 1)]


def test_per_node_files_merge_by_causality_not_ts(tmp_path):
    events = list(pbft_run(requests=2, seed=1))
    header = events[0]
    by_node: dict[str, list] = {}
    for e in events[1:]:
        by_node.setdefault(e["node"], []).append({**e, "ts": -e["seq"]})  # lying clocks
    for node, evs in by_node.items():
        write(tmp_path / f"{node}.jsonl", evs, {**header, "node": node})
    out = merged(tmp_path)
    assert len(out) == len(events) - 1
    seen_sends = set()
    for e in out:
        if e["kind"] == "send":
            seen_sends.add(e["msg_id"])
        if e["kind"] == "recv":
            assert e["msg_id"] in seen_sends


def test_fabricated_recv_is_marked_not_an_input_error(tmp_path):
    p = write(tmp_path / "t.jsonl", [
        {"kind": "note", "node": "r0", "seq": 0},
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "m9", "from": "r0"},
    ])
    out = merged(p)
    assert "fabricated" in out[-1]["_fault"]


def test_recv_from_unlogged_node_needs_its_payload(tmp_path):
    header = {**HEADER, "logged": ["r0", "r1", "c0"]}
    ok = write(tmp_path / "ok.jsonl", [
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "x", "from": "r2", "msg": PREPARE}], header)
    assert merged(ok)[0]["_send"] is None
    bad = write(tmp_path / "bad.jsonl", [
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "x", "from": "r2"}], header)
    assert "field msg is missing" in error(bad)


@pytest.mark.parametrize("events, says", [
    ([{"kind": "note", "node": "r0", "seq": 1}], "seq counts from 0"),
    ([{"kind": "note", "node": "r0", "seq": 0}, {"kind": "note", "node": "r0", "seq": 2}],
     "events 1..1 are missing"),
    ([{"kind": "note", "node": "r0", "seq": 0}, {"kind": "note", "node": "r0", "seq": 0}],
     "duplicate seq 0"),
    ([{"kind": "note", "node": "r0", "seq": "0"}], "field note.seq"),
    ([{"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r1"], "msg": PREPARE},
      {"kind": "send", "node": "r0", "seq": 1, "msg_id": "a", "to": ["r1"], "msg": PREPARE}],
     "sent twice"),
    ([{"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r1"], "msg": PREPARE},
      {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "a", "from": "r0"},
      {"kind": "recv", "node": "r1", "seq": 1, "msg_id": "a", "from": "r0"}],
     "again"),
    ([{"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r9"], "msg": PREPARE}],
     "field to: 'r9'"),
    ([{"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r1"],
       "msg": {"type": "accept", "ballot": [1, "r0"], "slot": -1, "cmd": None}}],
     "field send.msg.accept.slot"),
    ([{"kind": "execute", "node": "r0", "seq": 0, "slot": 0, "cmd": {"client": "c0", "req": 1}}],
     "field execute.cmd.op is missing"),
    ([[1, 2]], "expected a JSON object"),
])
def test_each_input_fault_has_its_own_message(tmp_path, events, says):
    p = write(tmp_path / "t.jsonl", events)
    msg = error(p)
    assert says in msg and "line" in msg and str(p) in msg


def _crash_log(node: str, kinds: list[str]) -> list[dict]:
    return [{"kind": k, "node": node, "seq": i} for i, k in enumerate(kinds)]


@pytest.mark.parametrize("kinds, line", [
    (["note", "crash", "note", "restart"], 4),
    (["crash", "crash", "restart"], 3),
    (["crash", "restart", "note", "crash", "execute"], 6),
])
def test_a_crashed_node_logs_nothing_until_it_restarts(tmp_path, kinds, line):
    events = _crash_log("r1", kinds)
    for e in events:
        if e["kind"] == "execute":
            e.update(slot=0, cmd=None)
    p = write(tmp_path / "t.jsonl", events)
    msg = error(p)
    assert f"{p} line {line}: field kind: r1 logs" in msg
    assert "after its crash at line" in msg and "Traceback" not in msg


@pytest.mark.parametrize("kinds", [
    ["crash", "restart", "note", "crash", "restart", "note"],
    ["note", "crash"],  # crashed for good
])
def test_crash_then_restart_then_anything_is_fine(tmp_path, kinds):
    # r2's events interleave with r1's crash: only the crashed node must be silent
    events = _crash_log("r1", kinds) + _crash_log("r2", ["note", "note"])
    p = write(tmp_path / "t.jsonl", sorted(events, key=lambda e: e["seq"]))
    assert len(merged(p)) == len(events)


def test_crash_silence_holds_in_per_node_files(tmp_path):
    write(tmp_path / "r0.jsonl", [
        {"kind": "send", "node": "r0", "seq": 0, "msg_id": "m1", "to": ["r1"], "msg": PREPARE}],
        {**HEADER, "node": "r0"})
    write(tmp_path / "r1.jsonl", [{"kind": "crash", "node": "r1", "seq": 0},
                                  {"kind": "recv", "node": "r1", "seq": 1, "msg_id": "m1", "from": "r0"}],
          {**HEADER, "node": "r1"})
    assert "r1 logs 'recv' after its crash at line 2" in error(tmp_path)


def _outcome(paths: list[str], batch: int) -> tuple:
    from smrcheck.checker.validate import validate
    from smrcheck.models.registry import monitor_for

    try:
        run = open_run(paths)
        try:
            r = validate(Merger(run, batch=batch), monitor_for(run.header),
                         protocol=run.header.protocol, files=run.files)
        finally:
            run.close()
    except InvalidTrace as err:
        return ("invalid-input", str(err))
    return (r.result, r.events, tuple((v.property, v.file, v.line) for v in r.violations))


def test_the_batch_size_changes_no_verdict():
    """Reading a batch at a time is an implementation detail: every sample, good and
    bad, merged file or per-node files, gets the same verdict, event count and
    violations, line for line, whatever the batch."""
    samples = sorted((SAMPLES / "good").iterdir()) + sorted(
        p for p in (SAMPLES / "bad").iterdir() if not p.name.endswith(".expected.json"))
    for path in samples:
        outcomes = {_outcome([str(path)], batch) for batch in (1, 3, 128)}
        assert len(outcomes) == 1, (path.name, outcomes)


def test_header_faults(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text('{"kind":"send","node":"r0","seq":0}\n')
    assert "expected a header first" in error(p)
    write(p, [], {**HEADER, "version": 3})
    assert "header field version" in error(p)
    write(p, [], {**HEADER, "byzantine": ["r5"]})
    assert "byzantine" in error(p)
    p.write_text("\n\n")
    assert "empty" in error(p)


def test_event_of_other_node_in_per_node_file(tmp_path):
    p = write(tmp_path / "r0.jsonl", [{"kind": "note", "node": "r1", "seq": 0}], {**HEADER, "node": "r0"})
    assert "per-node file of r0" in error(p)


def test_node_split_over_two_files(tmp_path):
    a = write(tmp_path / "a.jsonl", [{"kind": "note", "node": "r0", "seq": 0}])
    b = write(tmp_path / "b.jsonl", [{"kind": "note", "node": "r0", "seq": 1}])
    assert "in two files" in error(a, b)


def test_fast_check_agrees_with_pydantic_on_every_sample_line():
    """The hand-written tables and the pydantic models define one format."""
    for path in sorted((SAMPLES / "good").rglob("*.jsonl")):
        lines = path.read_text().splitlines()
        protocol = json.loads(lines[0])["protocol"]
        for line in lines[1:]:
            try:
                obj = json.loads(line)
            except ValueError:
                continue  # the truncated sample's last line
            EVENT_ADAPTERS[protocol].validate_python(obj)


def test_committed_schema_is_generated_from_the_models():
    folder = pathlib.Path(__file__).resolve().parents[2] / "traces" / "schema"
    for name, schema in json_schemas().items():
        assert json.loads((folder / name).read_text()) == schema, f"regenerate {name}"


def test_memory_follows_in_flight_state_not_trace_length():
    from smrcheck.models.registry import monitor_for
    from smrcheck.traces.reader import Run

    for gen in (multipaxos_run(requests=400, seed=2), pbft_run(requests=300, seed=2)):
        events = list(gen)
        import io

        from smrcheck.traces.format import HEADER_ADAPTER
        from smrcheck.traces.reader import Source

        header = HEADER_ADAPTER.validate_python(events[0])
        text = "\n".join(json.dumps(e) for e in events[1:]) + "\n"
        run = Run(header, [Source("mem", header, 1, io.BytesIO(text.encode()), 1)])
        merger = Merger(run)
        mon = monitor_for(header)
        peak = 0
        for ev in merger:
            mon.on_event(ev)
            state = getattr(mon, "slots", None) or getattr(mon, "seqs", {})
            peak = max(peak, len(merger.sent) + len(state) + len(mon.requests))
        assert not mon.violations
        assert peak < 60, peak  # a few requests in flight, whatever the run's length


def test_fast_checks_match_their_tables():
    """The straight-line checks of hot payloads and events accept exactly what their
    tables do: every combination of good and bad values over the first three fields,
    each later field varied alone (the checks are conjunctions, field by field)."""
    import itertools

    from smrcheck.traces.reader import FAST, FAST_KINDS, KINDS, PAYLOADS, _check_fields

    values = [None, 0, 3, -1, "", "r0", [1, "r0"], [1, 0], [-1, "r0"], [1, "r0", 2], True, False,
              {"client": "c0", "req": 1, "op": "x"}, {"client": "c0", "req": 1},
              {"client": "", "req": 1, "op": "x"}, {"client": "c0", "req": -1, "op": "x"},
              {"client": "c0", "req": True, "op": "x"}, {"client": "c0", "req": 1, "op": 2},
              {"client": "c0", "req": 1, "op": "x", "extra": 0}, "<absent>"]
    tables = [(fast, PAYLOADS[p][t], "type", t) for (p, t), fast in FAST.items()]
    tables += [(fast, KINDS[p][k], "kind", k) for (p, k), fast in FAST_KINDS.items()]
    for fast, spec, tag, name in tables:
        verdicts = set()
        names = [n for n, _, _ in spec]
        head, tail = names[:3], names[3:]
        combos = [dict(zip(head, c)) for c in itertools.product(values, repeat=len(head))]
        good = {n: next(v for v in values[::-1] if v != "<absent>" and check(v))
                for n, check, _ in spec[:3]}
        combos += [{**good, t: v} for t in tail for v in values]
        for combo in combos:
            obj = {tag: name, **{n: v for n, v in combo.items() if v != "<absent>"}}
            assert fast(obj) == (_check_fields(obj, spec) is None), obj
            verdicts.add(fast(obj))
        assert verdicts == {True, False}, f"{name}: the values reach both outcomes"


def test_fabricated_recv_in_per_node_files_does_not_stall_the_merge(tmp_path):
    """r1 waits for a message r0 never sent; once every file is held back or done,
    the recv is released as fabricated and the rest of the run is still merged."""
    h0, h1 = {**HEADER, "node": "r0"}, {**HEADER, "node": "r1"}
    write(tmp_path / "r0.jsonl", [
        {"kind": "recv", "node": "r0", "seq": 0, "msg_id": "b", "from": "r1"},
        {"kind": "note", "node": "r0", "seq": 1}], h0)
    write(tmp_path / "r1.jsonl", [
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "ghost", "from": "r0"},
        {"kind": "send", "node": "r1", "seq": 1, "msg_id": "b", "to": ["r0"], "msg": PREPARE}], h1)
    out = merged(tmp_path)
    assert [(e["node"], e["seq"]) for e in out] == [("r1", 0), ("r1", 1), ("r0", 0), ("r0", 1)]
    assert "fabricated" in out[0]["_fault"] and "_fault" not in out[2]
