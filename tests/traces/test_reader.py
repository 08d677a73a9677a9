"""The reader and merger: causal order, per-node files, and one clear message per input fault."""

from __future__ import annotations

import json
import pathlib

import pytest

from smrcheck.checker.errors import InvalidTrace
from smrcheck.traces.format import EVENT_ADAPTERS, json_schemas
from smrcheck.traces.reader import Merger, open_run

from ..support.synth import multipaxos_run, pbft_run

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
     "events 1..1 are missing (they are nowhere in the file)"),
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


def _variants(base: dict, values: list) -> list[dict]:
    """`base`, and base with each field in turn replaced by each value or removed."""
    out = [dict(base)]
    for name in base:
        if name in ("type", "kind"):
            continue
        for v in values:
            if v == "<absent>":
                out.append({k: x for k, x in base.items() if k != name})
            else:
                out.append({**base, name: v})
    return out


VALUES = [None, 0, 2, -1, "", "r0", [1, "r0"], [1, 0], [-1, "r0"], True, 1.5, {},
          {"client": "c0", "req": 1, "op": "x"}, {"client": "c0", "req": 1}, [], [[0, [1, "r0"], None]],
          [[0, [1, "r0"]]], [[1, 0, "d"]], [[1, "d"]], "<absent>"]

# One well-formed payload and event of each type and kind, with every optional field.
MP_PAYLOADS = [
    {"type": "request", "cmd": {"client": "c0", "req": 0, "op": "x"}},
    {"type": "prepare", "ballot": [1, "r0"], "slot": 3},
    {"type": "prepare", "ballot": [1, "r0"], "from_slot": 3},
    {"type": "promise", "ballot": [1, "r0"], "slot": 3, "accepted": [[3, [0, "r1"], None]]},
    {"type": "promise", "ballot": [1, "r0"], "from_slot": 0, "accepted": []},
    {"type": "nack", "ballot": [1, "r0"], "promised": [2, "r1"], "slot": 4},
    {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": None},
    {"type": "accepted", "ballot": [1, "r0"], "slot": 0, "cmd": {"client": "c0", "req": 0, "op": "x"}},
    {"type": "decide", "slot": 0, "cmd": None},
    {"type": "reply", "client": "c0", "req": 0, "result": "ok"},
    {"type": "heartbeat"},
]
PBFT_PAYLOADS = [
    {"type": "pre-prepare", "view": 0, "n": 1, "digest": "d", "cmd": None},
    {"type": "prepare", "view": 0, "n": 1, "digest": "d"},
    {"type": "view-change", "view": 1, "prepared": [[1, 0, "d"]]},
    {"type": "new-view", "view": 1, "pre_prepares": [[1, "d"]]},
    {"type": "reply", "view": 0, "client": "c0", "req": 0, "result": "ok"},
]


@pytest.mark.parametrize("protocol, bases", [("multipaxos", MP_PAYLOADS), ("pbft", PBFT_PAYLOADS)])
def test_payload_tables_accept_exactly_what_the_models_accept(protocol, bases):
    """Every payload type, each field varied over good and bad values (and removed),
    and the slot/from_slot pair given together: the reader's tables and format.py's
    models give the same verdict, and both verdicts occur."""
    from pydantic import ValidationError

    from smrcheck.traces.format import PAYLOAD_ADAPTERS
    from smrcheck.traces.reader import payload_checks

    checks = payload_checks(protocol)
    for base in bases:
        cases = _variants(base, VALUES)
        if "slot" in base and base["type"] in ("prepare", "promise"):
            cases += [{**c, "from_slot": v} for c in list(cases) for v in (0, 5, None)]
        verdicts = set()
        for msg in cases:
            try:
                PAYLOAD_ADAPTERS[protocol].validate_python(msg)
                model = True
            except ValidationError:
                model = False
            assert checks[msg["type"]](msg) == model, (protocol, msg)
            verdicts.add(model)
        assert verdicts == ({True, False} if len(base) > 1 else {True}), base


def test_both_slot_and_from_slot_is_an_input_error_naming_the_field(tmp_path):
    for t in ("prepare", "promise"):
        p = write(tmp_path / f"{t}.jsonl", [
            {"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r1"],
             "msg": {"type": t, "ballot": [1, "r0"], "slot": 2, "from_slot": 2}}])
        msg = error(p)
        assert f"line 2: field send.msg.{t}.from_slot: give slot" in msg and "not both" in msg


# -- format 2: roles and quorums --------------------------------------------------------

H2 = {"kind": "header", "format": "smrtrace", "version": 2, "protocol": "multipaxos",
      "nodes": ["p1", "p2", "a1", "a2", "a3", "l1"], "clients": ["c0"], "f": 1,
      "roles": {"p1": ["proposer"], "p2": ["proposer"], "a1": ["acceptor"], "a2": ["acceptor"],
                "a3": ["acceptor"], "l1": ["learner"]}}


def test_a_version_2_run_carries_its_membership(tmp_path):
    p = write(tmp_path / "t.jsonl", [{"kind": "note", "node": "p1", "seq": 0}],
              {**H2, "quorums": {"quorums": [["a1", "a2"], ["a2", "a3"]]}})
    run = open_run([str(p)])
    try:
        m = run.membership
        assert (m.proposers, m.acceptors, m.learners) == (("p1", "p2"), ("a1", "a2", "a3"), ("l1",))
        assert m.is_quorum(["a1", "a2"]) and not m.is_quorum(["a1", "a3"])
    finally:
        run.close()
    # format 1: every node a replica, majorities of all of them
    run = open_run([str(write(tmp_path / "v1.jsonl", []))])
    try:
        assert run.membership.acceptors == ("r0", "r1", "r2")
        assert run.membership.is_quorum(["r0", "r2"]) and not run.membership.is_quorum(["r1"])
    finally:
        run.close()


@pytest.mark.parametrize("change, says", [
    ({"version": 1}, "header field roles: needs version 2"),
    ({"version": 1, "roles": None, "quorums": "majority"}, "header field quorums: needs version 2"),
    ({"roles": {**H2["roles"], "a1": ["leader"]}}, "header field roles.a1.0: Input should be"),
    ({"roles": {**H2["roles"], "a1": []}}, "header field roles.a1"),
    ({"roles": {**H2["roles"], "x9": ["acceptor"]}}, "header field roles.x9: 'x9' is not in nodes"),
    ({"roles": {**H2["roles"], "c0": ["learner"]}}, "header field roles.c0: 'c0' is a client"),
    ({"roles": {x: ["proposer"] for x in H2["nodes"]}}, "header field roles: no node is an acceptor"),
    ({"quorums": "majorty"}, "header field quorums: unknown quorum system 'majorty'"),
    ({"quorums": "threshold:q=two"}, "header field quorums: quorum system threshold: q must be"),
    ({"quorums": 3}, "header field quorums: a quorum system's text"),
    ({"quorums": {"quorums": [["a1", "p1"]]}}, "header field quorums.phase1: 'p1' is not an acceptor"),
    ({"quorums": {"phase1": [["a1"]]}}, "header field quorums.phase2"),
    ({"quorums": {"quorums": [[1]]}}, "header field quorums: quorums must be a list of quorums"),
    ({"protocol": "pbft"}, "header field roles.p1: a PBFT node is a replica"),
])
def test_a_bad_role_or_quorum_system_names_file_line_and_field(tmp_path, change, says):
    p = write(tmp_path / "t.jsonl", [{"kind": "note", "node": "p1", "seq": 0}], {**H2, **change})
    msg = error(p)
    assert f"{p} line 1: {says}" in msg and "\n" not in msg


def test_prepare_and_promise_name_a_slot_or_a_range_and_nack_is_a_message(tmp_path):
    p = write(tmp_path / "t.jsonl", [
        {"kind": "send", "node": "p1", "seq": 0, "msg_id": "a", "to": ["a1"],
         "msg": {"type": "prepare", "ballot": [1, "p1"], "slot": 4}},
        {"kind": "send", "node": "p1", "seq": 1, "msg_id": "b", "to": ["a1"],
         "msg": {"type": "prepare", "ballot": [2, "p1"], "from_slot": 5}},
        {"kind": "recv", "node": "a1", "seq": 0, "msg_id": "a", "from": "p1"},
        {"kind": "send", "node": "a1", "seq": 1, "msg_id": "c", "to": ["p1"],
         "msg": {"type": "promise", "ballot": [1, "p1"], "slot": 4, "accepted": []}},
        {"kind": "recv", "node": "a1", "seq": 2, "msg_id": "b", "from": "p1"},
        {"kind": "send", "node": "a1", "seq": 3, "msg_id": "d", "to": ["p1"],
         "msg": {"type": "nack", "ballot": [1, "p1"], "promised": [2, "p1"], "slot": 4}},
    ], H2)
    assert [e["msg_id"] for e in merged(p) if e["kind"] == "send"] == ["a", "b", "c", "d"]


# -- seq order in a merged file ----------------------------------------------------------

def _notes(*pairs) -> list[dict]:
    return [{"kind": "note", "node": n, "seq": s} for n, s in pairs]


def test_other_nodes_interleave_freely_in_a_merged_file(tmp_path):
    p = write(tmp_path / "t.jsonl", _notes(("r1", 0), ("r0", 0), ("r0", 1), ("r2", 0), ("r1", 1),
                                           ("r0", 2)))
    assert len(merged(p)) == 6


@pytest.mark.parametrize("pairs, says", [
    # seq 3 before seq 2: a reordering, not a gap, however far apart
    ((("r1", 0), ("r1", 1), ("r0", 0), ("r1", 3), ("r0", 1), ("r1", 2)),
     "line 5: field seq: r1's seq 3 at line 5 comes before its seq 2 at line 7: a merged file may "
     "interleave nodes in any order, but each node's own events must appear in seq order"),
    ((("r1", 1), ("r0", 0), ("r1", 0)),
     "line 2: field seq: r1's seq 1 at line 2 comes before its seq 0 at line 4"),
    # a real gap: nowhere in the file
    ((("r1", 0), ("r1", 1), ("r0", 0), ("r1", 3), ("r0", 1)),
     "line 5: field seq: seq 3 for r1 after seq 1 (line 3): events 2..2 are missing "
     "(they are nowhere in the file)"),
    ((("r0", 0), ("r1", 2), ("r1", 3)),
     "line 3: field seq: r1's first event has seq 2: events 0..1 are missing"),
    # a seq seen already
    ((("r1", 0), ("r1", 1), ("r1", 2), ("r1", 0)),
     "line 5: field seq: r1's seq 0 comes again after its seq 2 (line 4)"),
])
def test_a_node_out_of_seq_order_is_told_from_a_missing_event(tmp_path, pairs, says):
    p = write(tmp_path / "t.jsonl", _notes(*pairs))
    msg = error(p)
    assert f"{p} {says}" in msg, msg
    assert ("missing" in msg) == ("missing" in says)


def test_a_reordering_in_a_per_node_file_states_the_per_node_rule(tmp_path):
    write(tmp_path / "r1.jsonl", _notes(("r1", 0), ("r1", 2), ("r1", 1)), {**HEADER, "node": "r1"})
    msg = error(tmp_path)
    assert "r1's seq 2 at line 3 comes before its seq 1 at line 4: a node's events must appear" in msg


def test_a_gap_followed_by_an_unreadable_line_says_where_reading_stopped(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_bytes(b"\n".join([json.dumps(HEADER).encode(), *(json.dumps(e).encode() for e in
                              _notes(("r1", 0), ("r1", 2))), b'{"x": "\xff"}', b""]))
    msg = error(p)
    assert "events 1..1 are missing" in msg and "cannot be read further" in msg and "line 4" in msg


# -- held-back events: bounded memory, the same merge ------------------------------------

def _held_back_run(n: int, victim: str) -> str:
    """A merged run of about n events in which `victim` first receives a message r0
    never sent; r0 sends to r1 and r2, r1 answers r0. With victim r1 every node ends up
    held back behind it; with victim r2 (which nobody waits for) only r2, while every
    message to it waits for its recv."""
    header = json.dumps({**HEADER, "clients": []})
    lines = [header]
    seq = {"r0": 0, "r1": 0, "r2": 0}

    def ev(node: str, body: str) -> None:
        lines.append('{"kind":%s,"node":"%s","seq":%d}' % (body, node, seq[node]))
        seq[node] += 1

    ev(victim, '"recv","msg_id":"ghost","from":"r0"')
    i = 0
    while len(lines) <= n:
        i += 1
        ev("r0", '"send","msg_id":"m%d","to":["r1","r2"],"msg":{"type":"heartbeat"}' % i)
        ev("r1", '"recv","msg_id":"m%d","from":"r0"' % i)
        ev("r2", '"recv","msg_id":"m%d","from":"r0"' % i)
        ev("r1", '"send","msg_id":"a%d","to":["r0"],"msg":{"type":"heartbeat"}' % i)
        ev("r0", '"recv","msg_id":"a%d","from":"r1"' % i)
    return "\n".join(lines) + "\n"


_CHILD = """
import sys
from smrcheck.traces import reader
from smrcheck.traces.reader import Merger, open_run
reader.SENT_IN_MEMORY = 1 << 11  # parking starts within the smaller run too
run = open_run([sys.argv[1]])
events = fabricated = 0
for ev in Merger(run):
    events += 1
    fabricated += "fabricated" in ev.get("_fault", "")
run.close()
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")][0]
print(events, fabricated, hwm // 1024)
"""


@pytest.mark.parametrize("victim", ["r1", "r2"])
def test_a_recv_whose_send_never_comes_holds_back_in_bounded_memory(tmp_path, victim):
    """Peak memory of merging a run whose second line is a fabricated recv: the same
    for 10,000 and 100,000 events (held in memory, the 90,000 more events held back
    would take ~75 MB more, and r2's 18,000 more undelivered messages ~18 MB); the recv is
    still released, marked fabricated, at the end, and every event comes out."""
    import subprocess
    import sys

    peaks = []
    for n in (10_000, 100_000):
        p = tmp_path / f"{n}.jsonl"
        text = _held_back_run(n, victim)
        p.write_text(text)
        out = subprocess.run([sys.executable, "-c", _CHILD, str(p)], capture_output=True,
                             text=True, check=True).stdout.split()
        events, fabricated, peak_mb = map(int, out)
        assert (events, fabricated) == (text.count("\n") - 1, 1)
        peaks.append(peak_mb)
    assert peaks[1] - peaks[0] < 25, peaks  # held in memory: 57 MB more or above


@pytest.fixture
def tiny_buffers(monkeypatch):
    """Spill held-back events after 3, pause a release after 5 events, park sends
    beyond 4: every path of the bounded merge, on small runs."""
    from smrcheck.traces import reader

    monkeypatch.setattr(reader, "HELD_IN_MEMORY", 3)
    monkeypatch.setattr(reader, "HELD_BYTES", 200)
    monkeypatch.setattr(reader, "DRAIN_OUT", 5)
    monkeypatch.setattr(reader, "SENT_IN_MEMORY", 4)


def _merge_order(paths: list[str]) -> list:
    try:
        run = open_run(paths)
        try:
            return [(e["_loc"], e.get("_fault"), e.get("_send") and e["_send"]["_loc"])
                    for e in Merger(run)]
        finally:
            run.close()
    except InvalidTrace as err:
        return [str(err)]


def _order_cases(tmp_path) -> list[list[str]]:
    cases = [[str(p)] for p in sorted((SAMPLES / "good").iterdir())]
    cases += [[str(p)] for p in sorted((SAMPLES / "bad").iterdir()) if p.suffix == ".jsonl"]
    for victim in ("r1", "r2"):
        p = tmp_path / f"held-{victim}.jsonl"
        p.write_text(_held_back_run(400, victim))
        cases.append([str(p)])
    # a merged file in reverse order per message: every recv before its send
    events = list(multipaxos_run(requests=4, seed=9))
    body = sorted(events[1:], key=lambda e: (e["kind"] != "recv", e["node"], e["seq"]))
    by_node: dict[str, list] = {}
    for e in body:
        by_node.setdefault(e["node"], []).append(e)
    rows = [e for evs in by_node.values() for e in sorted(evs, key=lambda e: e["seq"])]
    cases.append([str(write(tmp_path / "late-sends.jsonl", rows, events[0]))])
    return cases


def test_bounded_holding_merges_exactly_as_unbounded(tmp_path, monkeypatch):
    """Spilling held-back events to disk, parking sends and releasing in steps change
    nothing a monitor sees: the same events, in the same order, with the same pairing
    and faults, as with buffers larger than any of these runs."""
    from smrcheck.traces import reader

    cases = _order_cases(tmp_path)
    big = [_merge_order(c) for c in cases]
    monkeypatch.setattr(reader, "HELD_IN_MEMORY", 3)
    monkeypatch.setattr(reader, "HELD_BYTES", 200)
    monkeypatch.setattr(reader, "SENT_IN_MEMORY", 4)
    spilled = [_merge_order(c) for c in cases]
    assert spilled == big
    # pausing a long release may let another file's events in between: same verdict
    monkeypatch.setattr(reader, "DRAIN_OUT", 5)
    for c in cases:
        assert _outcome(c, 128) == _outcome_big(c, monkeypatch), c


def _outcome_big(paths: list[str], monkeypatch) -> tuple:
    from smrcheck.traces import reader

    with monkeypatch.context() as m:
        for name in ("HELD_IN_MEMORY", "HELD_BYTES", "DRAIN_OUT", "SENT_IN_MEMORY"):
            m.setattr(reader, name, 1 << 30)
        return _outcome(paths, 128)


def test_a_byzantine_senders_recv_waits_for_its_send_like_any_logged_senders(tmp_path):
    """r0 is Byzantine but logged: a recv listed before r0's send is paired with it (the
    verdict must not depend on the order of lines); a message r0 never logged sending
    stands on its payload copy, without one it is an input error, and either is known
    only once the whole log is read."""
    header = {**HEADER, "byzantine": ["r0"]}
    prep = {"type": "prepare", "ballot": [1, "r0"]}
    p = write(tmp_path / "late.jsonl", [
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "a", "from": "r0"},
        {"kind": "recv", "node": "r1", "seq": 1, "msg_id": "claimed", "from": "r0", "msg": prep},
        {"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r1"], "msg": prep}], header)
    out = {e.get("msg_id"): e for e in merged(p) if e["kind"] == "recv"}
    assert out["a"]["_send"]["node"] == "r0" and "_fault" not in out["a"]
    assert out["claimed"]["_send"] is None and "_fault" not in out["claimed"]
    p = write(tmp_path / "bare.jsonl", [
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "b", "from": "r0"},
        {"kind": "note", "node": "r0", "seq": 0}], header)
    assert f"{p} line 2: field msg is missing: r0 (Byzantine) never logged sending b" in error(p)


MP_EVENTS = [
    {"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r1"], "msg": {"type": "heartbeat"},
     "ts": 1.5},
    {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "a", "from": "r0", "msg": {"type": "heartbeat"}},
    {"kind": "request", "node": "c0", "seq": 0, "req": 0, "op": "x", "ts": "2026-12-03T09:00:00Z"},
    {"kind": "result", "node": "c0", "seq": 0, "req": 0, "result": "ok"},
    {"kind": "crash", "node": "r0", "seq": 0},
    {"kind": "note", "node": "r0", "seq": 0, "text": "t"},
    {"kind": "decide", "node": "r0", "seq": 0, "slot": 0, "cmd": None, "ballot": [1, "r0"]},
    {"kind": "execute", "node": "r0", "seq": 0, "slot": 0, "cmd": None, "applied": False, "result": "r"},
]


PBFT_EVENTS = [
    {"kind": "send", "node": "r0", "seq": 0, "msg_id": "a", "to": ["r1"],
     "msg": {"type": "commit", "view": 0, "n": 1, "digest": "d"}},
    {"kind": "decide", "node": "r0", "seq": 0, "view": 0, "n": 1, "digest": "d"},
    {"kind": "execute", "node": "r0", "seq": 0, "n": 1, "digest": "d", "cmd": None, "applied": True,
     "result": "r"},
]


@pytest.mark.parametrize("protocol, bases", [("multipaxos", MP_EVENTS), ("pbft", PBFT_EVENTS)])
def test_event_checks_accept_exactly_what_the_models_accept(tmp_path, protocol, bases):
    """Every event kind, each field varied over good and bad values (and removed):
    the reader takes a one-event file exactly when format.py's model takes the event.
    (Names are the header's, so that only the shape is judged; a recv without its
    send is released as fabricated, not refused.)"""
    from pydantic import ValidationError

    from smrcheck.traces.format import EVENT_ADAPTERS

    values = [v for v in VALUES if v not in ("", "r0")] + ["r1", ["r1"], ["r1", 3]]
    p = tmp_path / "t.jsonl"
    header = {**HEADER, "protocol": protocol, "nodes": ["r0", "r1", "r2", "r3"]}
    for base in bases:
        verdicts = set()
        for ev in _variants(base, values):
            if type(ev.get("seq")) is int and ev["seq"] > 0:
                continue  # a first event with seq 2: well-formed, but events 0..1 are missing
            try:
                EVENT_ADAPTERS[protocol].validate_python(ev)
                model = True
            except ValidationError:
                model = False
            if model and ev["kind"] in ("decide", "execute", "request", "result"):
                # beyond the shape, the roles: decide/execute at nodes, request/result at clients
                model = (ev["node"] in header["nodes"]) == (ev["kind"] in ("decide", "execute"))
            p.write_text(json.dumps(header) + "\n" + json.dumps(ev) + "\n")
            try:
                merged(p)
                reader = True
            except InvalidTrace:
                reader = False
            assert reader == model, ev
            verdicts.add(model)
        assert verdicts == {True, False}, base


@pytest.mark.parametrize("event, says", [
    ({"kind": "execute", "node": "c0", "seq": 0, "slot": 0, "cmd": None},
     "line 2: field node: 'c0' is a client, but execute is an event of a node in nodes"),
    ({"kind": "decide", "node": "c0", "seq": 0, "slot": 0, "cmd": None},
     "line 2: field node: 'c0' is a client, but decide is an event of a node in nodes"),
    ({"kind": "request", "node": "r0", "seq": 0, "req": 1, "op": "x"},
     "line 2: field node: 'r0' is in nodes, but request is an event of a client"),
    ({"kind": "result", "node": "r0", "seq": 0, "req": 1, "result": "x"},
     "line 2: field node: 'r0' is in nodes, but result is an event of a client"),
])
def test_decide_and_execute_are_of_nodes_request_and_result_of_clients(tmp_path, event, says):
    """FORMAT, Events: a client logging execute used to reach the monitors (and fail
    MP-QUORUM-CERT, exit 1); a request at a replica was taken. Both are input errors."""
    p = write(tmp_path / "t.jsonl", [event])
    assert f"{p} {says}" in error(p)


@pytest.mark.parametrize("event, field", [
    ({"kind": "send", "node": "r0", "seq": 0, "msg_id": "m", "to": ["r1"],
      "msg": {"type": "prepare", "ballot": [1, "zz"]}}, "msg.ballot"),
    ({"kind": "send", "node": "r0", "seq": 0, "msg_id": "m", "to": ["r1"],
      "msg": {"type": "accept", "ballot": [1, "zz"], "slot": 0, "cmd": None}}, "msg.ballot"),
    ({"kind": "send", "node": "r0", "seq": 0, "msg_id": "m", "to": ["r1"],
      "msg": {"type": "accepted", "ballot": [1, "zz"], "slot": 0, "cmd": None}}, "msg.ballot"),
    ({"kind": "send", "node": "r0", "seq": 0, "msg_id": "m", "to": ["r1"],
      "msg": {"type": "promise", "ballot": [1, "r0"], "slot": 0,
              "accepted": [[0, [1, "zz"], None]]}}, "msg.accepted[0] (its vballot)"),
    ({"kind": "send", "node": "r0", "seq": 0, "msg_id": "m", "to": ["r1"],
      "msg": {"type": "nack", "ballot": [1, "r0"], "promised": [2, "zz"]}}, "msg.promised"),
    ({"kind": "decide", "node": "r0", "seq": 0, "slot": 0, "cmd": None, "ballot": [1, "zz"]},
     "ballot"),
])
def test_a_ballot_names_a_node_in_nodes(tmp_path, event, field):
    """FORMAT: a ballot is [round, a name in nodes]; [1, "zz"] was taken (an outside-model
    warning at most) and compared with real ballots."""
    p = write(tmp_path / "t.jsonl", [event])
    assert f"{p} line 2: field {field}: ballot " in error(p)
    assert "names 'zz', which is not in nodes" in error(p)
    ok = json.loads(json.dumps(event).replace('"zz"', '"r2"'))
    merged(write(tmp_path / "ok.jsonl", [ok]))


@pytest.mark.parametrize("quorums, says", [
    ({"quorums": [["a1"], ["a2"]]}, "phase-1 quorum {a1} and phase-2 quorum {a2} share no acceptor"),
    ({"phase1": [["a1", "a2"]], "phase2": [["a3"]]}, "{a1, a2} and phase-2 quorum {a3}"),
    ("flexible:q1=1,q2=2", "phase-1 quorum {a1} and phase-2 quorum {a2, a3}"),
    ("weighted:weights=2/1/1,threshold=2", "phase-1 quorum {a1} and phase-2 quorum {a2, a3}"),
    ("grid:rows=1,cols=3", None), ("flexible:q1=2,q2=2", None), ("majority", None),
    ({"quorums": [["a1", "a2"], ["a2", "a3"], ["a1", "a3"]]}, None),
])
def test_quorums_that_do_not_intersect_are_warned_of(tmp_path, quorums, says):
    """Paxos Made Simple §2.2: every phase-1 quorum must meet every phase-2 quorum. The
    run is still validated; the header's quorums get a warning in the result."""
    header = {**HEADER, "version": 2, "nodes": ["p1", "a1", "a2", "a3"], "clients": [],
              "roles": {"p1": ["proposer"], "a1": ["acceptor"], "a2": ["acceptor"],
                        "a3": ["acceptor"]}, "quorums": quorums}
    p = write(tmp_path / "t.jsonl", [{"kind": "note", "node": "p1", "seq": 0}], header)
    run = open_run([str(p)])
    run.close()
    found = [w for w in run.warnings if "do not intersect" in w.message]
    if says is None:
        assert found == []
    else:
        assert len(found) == 1 and (found[0].file, found[0].line) == (str(p), 1)
        assert says in found[0].message and "safety cannot rest on them" in found[0].message


def test_pbft_quorums_must_share_f_plus_one_replicas(tmp_path):
    header = {**HEADER, "version": 2, "protocol": "pbft", "nodes": ["r0", "r1", "r2", "r3"],
              "f": 1, "quorums": "threshold:q=3"}
    p = write(tmp_path / "ok.jsonl", [{"kind": "note", "node": "r0", "seq": 0}], header)
    assert open_run([str(p)]).warnings == []
    p = write(tmp_path / "t.jsonl", [{"kind": "note", "node": "r0", "seq": 0}],
              {**header, "quorums": "threshold:q=2"})
    (w,) = open_run([str(p)]).warnings
    assert "do not intersect in f+1 = 2 replicas" in w.message


def test_a_send_recv_cycle_is_an_input_error_naming_its_lines(tmp_path):
    """r1 receives m2 before r0 sends it, and r0 sends m2 only after receiving m1, which
    r1 sends only after receiving m2: no order of the run has them all. It used to be
    released as NET-AUTHENTIC, 'r0 never logged sending it', though r0 did."""
    hb = {"type": "heartbeat"}
    p = write(tmp_path / "t.jsonl", [
        {"kind": "recv", "node": "r1", "seq": 0, "msg_id": "m2", "from": "r0"},
        {"kind": "send", "node": "r1", "seq": 1, "msg_id": "m1", "to": ["r0"], "msg": hb},
        {"kind": "recv", "node": "r0", "seq": 0, "msg_id": "m1", "from": "r1"},
        {"kind": "send", "node": "r0", "seq": 1, "msg_id": "m2", "to": ["r1"], "msg": hb}])
    says = error(p)
    assert says.startswith(f"{p} line 2: field msg_id: the recvs at lines 2, 4 wait for each "
                           "other's sends, a causality cycle")
    assert "r1 receives m2 (line 2) before r0 logs sending it, after its recv at line 4" in says
