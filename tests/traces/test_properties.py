"""Property-based tests: correct runs pass; corrupted runs are caught (or still valid).

Runs come from the synthetic runners in `tests/support/synth.py` (seeded schedules of correct
MultiPaxos and PBFT, with leader takeover, PBFT view changes and heartbeats). Each corruption has a
precise expectation: a dropped event leaves a seq gap (unless it was its node's last),
a duplicated line repeats a seq, two events of one node swapped break its order, any
shuffle of the file that keeps each node's own order must change nothing (the merger
orders by causality, never by file position), and a flipped value in a decision, an execution or
a client's result breaks the matching property, as does a PREPARE or COMMIT sent for a
view below one its replica has moved to. A learner's second decision of another
command (MP-AGREEMENT) and a COMMIT sent without received PREPAREs (PBFT-PREPARED) are
caught with the same verdict in every interleaving and per node. Random byte damage
never crashes the validator: it is an input error, a violation, or still a valid run.
"""

from __future__ import annotations

import json
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smrcheck.checker.validate import validate_run

from ..support.orders import interleave
from ..support.synth import multipaxos_run, pbft_run

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def runs(draw) -> list[dict]:
    seed = draw(st.integers(0, 10_000))
    requests = draw(st.integers(1, 3))
    clients = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["multipaxos", "pbft", "pbft-view-change"]))
    if kind == "multipaxos":
        return list(multipaxos_run(replicas=draw(st.sampled_from([3, 5])), clients=clients,
                                   requests=requests, seed=seed, heartbeats=draw(st.booleans()),
                                   takeover=draw(st.booleans())))
    return list(pbft_run(f=1, clients=clients, requests=requests, seed=seed,
                         heartbeats=draw(st.booleans()), view_change=kind == "pbft-view-change"))


def lines_of(events: list[dict]) -> list[str]:
    return [json.dumps(e, separators=(",", ":")) for e in events]


def check(lines: list[str], conformance: bool = False) -> tuple[str, list[str]]:
    """('ok' | 'violation', properties) or ('invalid-input', [message]); with
    conformance, the properties end with 'CONFORMANCE:<conforms|fails|outside-model>'."""
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        r = validate_run([path], conformance=conformance)
        if r.result == "invalid-input":
            return "invalid-input", [r.error]
        props = sorted({v.property for v in r.violations})
        if conformance:
            props.append(f"CONFORMANCE:{r.conformance}")
        return r.result, props
    finally:
        os.unlink(path)


@SETTINGS
@given(runs())
def test_correct_runs_pass(events):
    assert check(lines_of(events)) == ("ok", [])


@st.composite
def small_runs(draw) -> list[dict]:
    """Runs within the models' bounds (few commands and slots)."""
    seed = draw(st.integers(0, 10_000))
    if draw(st.booleans()):
        return list(multipaxos_run(replicas=draw(st.sampled_from([3, 5])), requests=2,
                                   seed=seed, takeover=draw(st.booleans())))
    return list(pbft_run(f=1, clients=draw(st.integers(1, 3)), requests=1, seed=seed,
                         view_change=draw(st.booleans())))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(small_runs())
def test_correct_runs_conform_to_the_model(events):
    result, props = check(lines_of(events), conformance=True)
    assert result == "ok" and props[-1] in ("CONFORMANCE:conforms", "CONFORMANCE:outside-model")


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(small_runs(), st.data())
def test_a_dropped_send_with_its_recvs_is_still_a_run_or_caught(events, data):
    """Drop one message entirely (its send and every recv, renumbering seqs): a lost
    message needs no event, so the run must still conform, or, if the message was
    what a later step relied on, be caught by an invariant or by conformance."""
    sends = [e for e in events[1:] if e["kind"] == "send"]
    victim = data.draw(st.sampled_from(sends))["msg_id"]
    kept = [events[0]] + [e for e in events[1:] if e.get("msg_id") != victim]
    seq: dict[str, int] = {}
    renum = [kept[0]]
    for e in kept[1:]:
        e = dict(e, seq=seq.get(e["node"], 0))
        seq[e["node"]] = e["seq"] + 1
        renum.append(e)
    result, props = check(lines_of(renum), conformance=True)
    assert result in ("ok", "violation")
    if result == "ok":
        assert props[-1] in ("CONFORMANCE:conforms", "CONFORMANCE:outside-model")


@SETTINGS
@given(runs(), st.data())
def test_dropped_event_is_a_seq_gap_unless_last(events, data):
    i = data.draw(st.integers(1, len(events) - 1))
    node = events[i]["node"]
    last = all(e.get("node") != node for e in events[i + 1:])
    result, detail = check(lines_of(events[:i] + events[i + 1:]))
    if not last:
        assert result == "invalid-input" and "missing" in detail[0]
    elif events[i]["kind"] == "send":
        assert result in ("ok", "violation")  # its recvs, if any, are now fabricated
    else:
        assert result in ("ok", "violation")


@SETTINGS
@given(runs(), st.data())
def test_duplicated_line_is_a_duplicate_seq(events, data):
    i = data.draw(st.integers(1, len(events) - 1))
    lines = lines_of(events)
    result, detail = check(lines[: i + 1] + [lines[i]] + lines[i + 1:])
    assert result == "invalid-input" and "duplicate seq" in detail[0]


@SETTINGS
@given(runs(), st.randoms(use_true_random=False))
def test_any_interleaving_that_keeps_each_nodes_order_is_the_same_run(events, rnd):
    """The merger orders by causality, never by file position: shuffle the file in
    any way that keeps each node's own order (recvs may now precede their sends)."""
    body = events[1:]
    keys = [rnd.random() for _ in body]
    by_node: dict[str, list[int]] = {}
    for i, e in enumerate(body):
        by_node.setdefault(e["node"], []).append(i)
    slot = [0.0] * len(body)
    for idx in by_node.values():
        for i, k in zip(idx, sorted(keys[i] for i in idx)):
            slot[i] = k
    shuffled = [e for _, e in sorted(zip(slot, body), key=lambda p: p[0])]
    assert check(lines_of([events[0], *shuffled])) == ("ok", [])


@SETTINGS
@given(runs(), st.data())
def test_reordering_one_nodes_events_is_caught(events, data):
    body = events[1:]
    node = data.draw(st.sampled_from(sorted({e["node"] for e in body})))
    idx = [i for i, e in enumerate(body) if e["node"] == node]
    if len(idx) < 2:
        return
    k = data.draw(st.integers(0, len(idx) - 2))
    a, b = idx[k], idx[k + 1]
    body[a], body[b] = body[b], body[a]
    result, detail = check(lines_of([events[0], *body]))
    assert result == "invalid-input" and "seq order" in detail[0], detail
    assert "missing" not in detail[0]  # a reordering is named as one, never as a gap


def flips(events: list[dict]) -> list[tuple[int, str, str]]:
    """(index, field, property it must break) for every flippable event."""
    out = []
    mp = events[0]["protocol"] == "multipaxos"
    views: dict[str, int] = {}  # the view each replica's sends have reached
    for i, e in enumerate(events[1:], 1):
        if e["kind"] == "execute" and e["cmd"] is not None:
            out.append((i, "op", "MP-VALIDITY" if mp else "PBFT-VALIDITY"))
        elif e["kind"] == "result":
            out.append((i, "result", "MP-CLIENT" if mp else "PBFT-CLIENT"))
        elif e["kind"] == "decide" and not mp:
            out.append((i, "digest", "PBFT-COMMIT-CERT"))
        elif e["kind"] == "send" and not mp and "view" in e["msg"] and e["msg"]["type"] != "reply":
            v = e["msg"]["view"]
            if e["msg"]["type"] in ("prepare", "commit") and 0 < v <= views.get(e["node"], -1):
                out.append((i, "view", "PBFT-VIEW-MONOTONE"))  # back to the view it left
            views[e["node"]] = max(v, views.get(e["node"], -1))
    return out


@SETTINGS
@given(runs(), st.data())
def test_flipped_value_breaks_its_property(events, data):
    candidates = flips(events)
    if not candidates:
        return
    i, fld, prop = data.draw(st.sampled_from(candidates))
    e = json.loads(json.dumps(events[i]))
    if fld == "op":
        e["cmd"]["op"] += " (flipped)"
    elif fld == "result":
        e["result"] += "?"
    elif fld == "view":
        e["msg"]["view"] -= 1
    else:
        e["digest"] += "?"
    result, props = check(lines_of(events[:i] + [e] + events[i + 1:]))
    assert result == "violation" and prop in props


@settings(max_examples=60, deadline=None, derandomize=True)
@given(runs(), st.data())
def test_random_damage_never_crashes(events, data):
    lines = lines_of(events)
    i = data.draw(st.integers(0, len(lines) - 1))
    line = lines[i]
    k = data.draw(st.integers(0, len(line) - 1))
    junk = data.draw(st.sampled_from(['"', "{", "}", ",", "0", "-1", "null", "x", "[", "]", ""]))
    lines[i] = line[:k] + junk + line[k + 1:]
    result, _ = check(lines)  # anything but an unexpected exception
    assert result in ("ok", "violation", "invalid-input")


def test_view_change_runs_change_views():
    """The runs the tests above draw with view_change=True do what Castro and Liskov
    §4.4 describe, and pass: the primary stops, 2f+1 replicas send VIEW-CHANGE with
    their prepared certificates, the new primary sends NEW-VIEW and re-proposes O;
    across seeds, some number is committed in view 0 at one replica and in view 1 at
    another, and some gap in O is filled with the null request."""
    seen = set()
    for seed in range(40):
        events = list(pbft_run(f=1, clients=3, requests=1, seed=seed, view_change=True))
        sends = [e for e in events[1:] if e["kind"] == "send"]
        vcs = [e for e in sends if e["msg"]["type"] == "view-change"]
        (nv,) = [e for e in sends if e["msg"]["type"] == "new-view"]
        assert [e["kind"] for e in events[1:] if e["node"] == "r0"][-1] == "crash"
        assert len({e["node"] for e in vcs}) >= 3 and nv["node"] == "r1"
        o = nv["msg"]["pre_prepares"]
        reproposed = {(e["msg"]["n"], e["msg"]["digest"]) for e in sends
                      if e["node"] == "r1" and e["msg"]["type"] == "pre-prepare" and e["msg"]["view"] == 1}
        assert {(n, d) for n, d in o} <= reproposed
        certs = {(n, d) for e in vcs for n, _, d in e["msg"]["prepared"]}
        assert certs <= {(n, d) for n, d in o}, "every prepared certificate is in O"
        decided = {}
        for e in events[1:]:
            if e["kind"] == "decide":
                decided.setdefault(e["n"], set()).add(e["view"])
        seen |= {"both views"} if any(v == {0, 1} for v in decided.values()) else set()
        seen |= {"null"} if any(d == "d-null" for _, d in o) else set()
        seen |= {"certificates"} if certs else set()
        assert check(lines_of(events)) == ("ok", [])
    assert seen == {"both views", "null", "certificates"}


def verdict_in_every_order(events: list[dict], rnd) -> tuple[str, list[str]]:
    """The verdict of a run, asserted the same for random interleavings that keep each
    node's events in seq order and for a directory of per-node files."""
    header, body = events[0], events[1:]
    got = [check(lines_of(events))]
    for _ in range(3):
        got.append(check(lines_of([header, *interleave(body, rnd)])))
    with tempfile.TemporaryDirectory() as d:
        for node in sorted({e["node"] for e in body}):
            with open(os.path.join(d, f"{node}.jsonl"), "w", encoding="utf-8") as out:
                out.write("\n".join(lines_of([{**header, "node": node},
                                              *[e for e in body if e["node"] == node]])) + "\n")
        r = validate_run([d], conformance=False)
        got.append((r.result, sorted({v.property for v in r.violations})))
    assert all(g == got[0] for g in got), got
    return got[0]


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.booleans(), st.data())
def test_a_second_decision_of_another_command_is_caught_in_every_order(seed, takeover, data):
    """A learner that decides a slot again with another (issued) command breaks
    MP-AGREEMENT, however the file interleaves the nodes."""
    events = list(multipaxos_run(replicas=3, requests=3, seed=seed, takeover=takeover))
    decides = [e for e in events[1:] if e["kind"] == "decide"]
    cmds = {json.dumps(e["cmd"]) for e in decides if e["cmd"] is not None}
    first = data.draw(st.sampled_from(decides))
    others = sorted(c for c in cmds if c != json.dumps(first["cmd"]))
    if not others:
        return
    node = first["node"]
    seq = 1 + max(e["seq"] for e in events[1:] if e["node"] == node)
    again = {"kind": "decide", "node": node, "seq": seq, "slot": first["slot"],
             "cmd": json.loads(data.draw(st.sampled_from(others)))}
    result, props = verdict_in_every_order(events + [again], data.draw(st.randoms()))
    assert result == "violation" and "MP-AGREEMENT" in props


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.booleans(), st.data())
def test_a_commit_without_received_prepares_is_caught_in_every_order(seed, view_change, data):
    """Drop every PREPARE a replica received (they were lost): its COMMITs are then
    sent without a prepared certificate, PBFT-PREPARED, in every order and per node,
    even though the file lists the other replicas' PREPAREs."""
    events = list(pbft_run(f=1, clients=2, requests=1, seed=seed, view_change=view_change))
    sends = {e["msg_id"]: e for e in events[1:] if e["kind"] == "send"}
    committers = sorted({e["node"] for e in sends.values() if e["msg"]["type"] == "commit"})
    node = data.draw(st.sampled_from(committers))
    kept, seq = [events[0]], 0
    for e in events[1:]:
        if e["node"] == node:
            if e["kind"] == "recv" and sends[e["msg_id"]]["msg"]["type"] == "prepare":
                continue
            e = dict(e, seq=seq)
            seq += 1
        kept.append(e)
    assert verdict_in_every_order(kept, data.draw(st.randoms())) == ("violation", ["PBFT-PREPARED"])
