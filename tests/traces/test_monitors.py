"""The event monitors (models/*/monitor.py), one rule at a time, on small hand-built runs.

Each check has a correct run that passes and a broken one that fails with the named
property; and each run gets the same verdict (the result and the set of violated
properties) in every order a merged file may list it (random interleavings that keep
each node's events in seq order, each node's whole log in turn, last node first) and
as a directory of per-node files. So a verdict never depends on which node's events a
file happens to list first: each step is judged by what its own node had received.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from smrcheck.checker.validate import validate_run
from smrcheck.models.multipaxos.monitor import MultiPaxosMonitor
from smrcheck.models.pbft.monitor import PbftMonitor

from ..support.orders import by_node, interleave, nodes_reversed

X = {"client": "c0", "req": 0, "op": "put x 1"}
Y = {"client": "c0", "req": 1, "op": "put x 2"}
Z = {"client": "c0", "req": 2, "op": "put x 3"}


class Trace:
    """A run written event by event: per-node seq numbers and msg ids come for free."""

    def __init__(self, protocol: str, nodes: list[str], f: int = 1, version: int = 1,
                 **header: object) -> None:
        self.header = {"kind": "header", "format": "smrtrace", "version": version,
                       "protocol": protocol, "nodes": nodes, "clients": ["c0"], "f": f, **header}
        self.events: list[dict] = []
        self.seq: dict[str, int] = {}
        self.ids = 0

    def ev(self, node: str, kind: str, **fields: object) -> None:
        self.events.append({"kind": kind, "node": node, "seq": self.seq.get(node, 0), **fields})
        self.seq[node] = self.seq.get(node, 0) + 1

    def send(self, node: str, to: list[str], msg: dict) -> str:
        self.ids += 1
        mid = f"m{self.ids}"
        self.ev(node, "send", msg_id=mid, to=list(to), msg=msg)
        return mid

    def recv(self, node: str, mid: str, sender: str) -> None:
        self.ev(node, "recv", msg_id=mid, **{"from": sender})

    def msg(self, sender: str, to: list[str], msg: dict, *, got: list[str] | None = None) -> str:
        """A send, and its recv at each of `got` (default: every addressee)."""
        mid = self.send(sender, to, msg)
        for node in to if got is None else got:
            self.recv(node, mid, sender)
        return mid

    def requests(self, *cmds: dict) -> None:
        for c in cmds:
            self.ev("c0", "request", req=c["req"], op=c["op"])


# -- running a trace in every order -----------------------------------------------------

def orders(events: list[dict], n: int = 6, seed: int = 0) -> list[list[dict]]:
    """The file as written, n random interleavings (each node's events in seq
    order), and each node's log in turn, the last node first (recvs before sends)."""
    rng = random.Random(seed)
    out = [list(events)]
    out += [interleave(events, rng) for _ in range(n)]
    out.append(nodes_reversed(events))
    return out


def verdict(paths: list[str]) -> tuple[str, list[str]]:
    r = validate_run(paths, conformance=False)
    assert r.result != "invalid-input", r.error
    return r.result, sorted({v.property for v in r.violations})


def checked(t: Trace, tmp: Path) -> tuple[str, list[str]]:
    """The verdict of t, asserted the same in every order and per node."""
    got = []
    for i, evs in enumerate(orders(t.events)):
        p = tmp / f"order{i}.jsonl"
        p.write_text("".join(json.dumps(x) + "\n" for x in [t.header, *evs]))
        got.append(verdict([str(p)]))
    d = tmp / "per-node"
    d.mkdir()
    for node, evs in by_node(t.events).items():
        (d / f"{node}.jsonl").write_text(
            "".join(json.dumps(x) + "\n" for x in [{**t.header, "node": node}, *evs]))
    got.append(verdict([str(d)]))
    assert all(g == got[0] for g in got), got
    return got[0]


def messages(tmp: Path, t: Trace, prop: str) -> list[str]:
    p = tmp / "messages.jsonl"
    p.write_text("".join(json.dumps(x) + "\n" for x in [t.header, *t.events]))
    return [v.message for v in validate_run([str(p)], conformance=False).violations
            if v.property == prop]


# -- MultiPaxos ---------------------------------------------------------------------------

R3 = ["r0", "r1", "r2"]


def ballot(r: int, node: str) -> list:
    return [r, node]


def phase1(t: Trace, p: str, b: list, acceptors: list[str], reports: dict | None = None,
           **scope: int) -> None:
    """p prepares b; each acceptor promises (reporting `reports[a]`), p receives each."""
    t.msg(p, acceptors, {"type": "prepare", "ballot": b, **scope})
    for a in acceptors:
        t.msg(a, [p], {"type": "promise", "ballot": b, **scope,
                       "accepted": (reports or {}).get(a, [])})


def phase2(t: Trace, p: str, b: list, slot: int, cmd: dict | None, acceptors: list[str],
           learners: list[str]) -> None:
    """p sends accept; each acceptor accepts and tells the learners."""
    t.msg(p, acceptors, {"type": "accept", "ballot": b, "slot": slot, "cmd": cmd})
    for a in acceptors:
        t.msg(a, learners, {"type": "accepted", "ballot": b, "slot": slot, "cmd": cmd})


def test_a_correct_multipaxos_run_passes(tmp_path):
    t = Trace("multipaxos", R3)
    t.requests(X, Y)
    phase1(t, "r0", ballot(1, "r0"), R3)
    for slot, c in enumerate([X, Y]):
        phase2(t, "r0", ballot(1, "r0"), slot, c, R3, R3)
        for r in R3:
            t.ev(r, "decide", slot=slot, cmd=c)
    assert checked(t, tmp_path) == ("ok", [])


@pytest.mark.parametrize("again", [None, "same", "other"])
def test_a_learner_that_decides_twice_differently_breaks_agreement(tmp_path, again):
    t = Trace("multipaxos", R3)
    t.requests(X, Y)
    phase1(t, "r0", ballot(1, "r0"), R3)
    phase2(t, "r0", ballot(1, "r0"), 0, X, R3, R3)
    for r in R3:
        t.ev(r, "decide", slot=0, cmd=X)
    if again == "same":
        t.ev("r1", "decide", slot=0, cmd=X)  # told again: legal
    elif again == "other":
        t.ev("r1", "decide", slot=0, cmd=Y)
    result = checked(t, tmp_path)
    if again == "other":
        assert result[0] == "violation" and "MP-AGREEMENT" in result[1]
    else:
        assert result == ("ok", [])


def test_every_decision_needs_its_quorum_not_only_the_first(tmp_path):
    """A learner's second decision of the same slot, with a value two acceptors did
    choose in a later ballot (a broken proposer), is judged on its own votes."""
    t = Trace("multipaxos", R3)
    t.requests(X, Y)
    phase1(t, "r0", ballot(1, "r0"), R3)
    phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0", "r1"], ["r2"])
    t.ev("r2", "decide", slot=0, cmd=X)
    phase1(t, "r1", ballot(2, "r1"), ["r1", "r2"], {"r1": [[0, [1, "r0"], X]]})
    phase2(t, "r1", ballot(2, "r1"), 0, Y, ["r1", "r2"], ["r2"])  # Y proposed: illegal
    t.ev("r2", "decide", slot=0, cmd=Y)
    assert checked(t, tmp_path) == ("violation", ["MP-AGREEMENT", "MP-PROPOSAL"])


def test_learners_count_accepted_votes_of_acceptors_only(tmp_path):
    """Format 2 roles: l1 decides on votes from a phase-2 quorum of the acceptors (2 of
    3: fewer than a majority of all 5 nodes), never on a vote from a non-acceptor."""
    nodes = ["p1", "a1", "a2", "a3", "l1"]
    roles = {"p1": ["proposer"], "a1": ["acceptor"], "a2": ["acceptor"], "a3": ["acceptor"],
             "l1": ["learner"]}
    good = Trace("multipaxos", nodes, version=2, roles=roles)
    good.requests(X)
    phase1(good, "p1", ballot(1, "p1"), ["a1", "a2"])
    phase2(good, "p1", ballot(1, "p1"), 0, X, ["a1", "a2"], ["l1"])
    good.ev("l1", "decide", slot=0, cmd=X)
    (tmp_path / "good").mkdir()
    assert checked(good, tmp_path / "good") == ("ok", [])

    bad = Trace("multipaxos", nodes, version=2, roles=roles)
    bad.requests(X)
    phase1(bad, "p1", ballot(1, "p1"), ["a1", "a2"])
    phase2(bad, "p1", ballot(1, "p1"), 0, X, ["a1"], ["l1"])
    bad.msg("p1", ["l1"], {"type": "accepted", "ballot": [1, "p1"], "slot": 0, "cmd": X})
    bad.ev("l1", "decide", slot=0, cmd=X)
    (tmp_path / "bad").mkdir()
    assert checked(bad, tmp_path / "bad") == ("violation", ["MP-QUORUM-CERT"])


def test_quorums_come_from_the_declared_system(tmp_path):
    """flexible:q1=3,q2=1 over 3 acceptors: one vote decides, two promises do not let
    a proposer propose."""
    t = Trace("multipaxos", R3, version=2, quorums="flexible:q1=3,q2=1")
    t.requests(X)
    phase1(t, "r0", ballot(1, "r0"), ["r0", "r1"])
    phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0"], ["r0"])
    t.ev("r0", "decide", slot=0, cmd=X)
    assert checked(t, tmp_path) == ("violation", ["MP-PROPOSAL"])


# MP-PROMISE ----------------------------------------------------------------------------

@pytest.mark.parametrize("late_slot, ok", [(4, True), (3, False)])
def test_promises_are_per_slot(tmp_path, late_slot, ok):
    """a1 promises ballot 5 for slot 3; p2's ballot-2 accept for slot 4 is still fine
    (Paxos Made Simple §2.2 is per instance), for slot 3 it is not."""
    nodes = ["p2", "p5", "a1", "a2", "a3"]
    roles = {"p2": ["proposer", "learner"], "p5": ["proposer"]} | {
        a: ["acceptor"] for a in ("a1", "a2", "a3")}
    t = Trace("multipaxos", nodes, version=2, roles=roles)
    t.requests(X)
    phase1(t, "p2", ballot(2, "p2"), ["a1", "a2"], slot=late_slot)
    phase1(t, "p5", ballot(5, "p5"), ["a1", "a2"], slot=3)
    phase2(t, "p2", ballot(2, "p2"), late_slot, X, ["a1"], ["p2"])
    result = checked(t, tmp_path)
    assert result == (("ok", []) if ok else ("violation", ["MP-PROMISE"]))
    if not ok:
        (msg,) = messages(tmp_path, t, "MP-PROMISE")
        assert "never accepts a proposal numbered below one it promised" in msg
        assert "a1 accepts ballot (2,p2) in slot 3 after it promised ballot (5,p5)" in msg
        assert "a promise" in msg


def test_an_accept_raises_the_promise_of_its_slot_and_says_so(tmp_path):
    t = Trace("multipaxos", R3)
    t.requests(X)
    phase1(t, "r0", ballot(1, "r0"), R3)
    phase1(t, "r1", ballot(2, "r1"), ["r0", "r1"])
    phase2(t, "r1", ballot(2, "r1"), 0, X, ["r1", "r2"], R3)  # r2 accepts, never promised 2
    # r2 then promises a lower ballot for every slot: below its accept in slot 0
    t.msg("r2", ["r0"], {"type": "promise", "ballot": [1, "r2"], "accepted": [[0, [2, "r1"], X]]})
    assert checked(t, tmp_path) == ("violation", ["MP-PROMISE"])
    (msg,) = messages(tmp_path, t, "MP-PROMISE")
    assert "after it accepted ballot (2,r1)" in msg and "an accept" in msg


# MP-PROMISE-REPORT ---------------------------------------------------------------------

@pytest.mark.parametrize("report, scope, bad", [
    ([[0, [1, "r0"], X]], {}, False),  # the truth
    ([[0, [1, "r0"], Y]], {}, True),  # another value
    ([[0, [0, "r0"], X]], {}, True),  # a lower ballot than it accepted
    ([[0, [1, "r0"], X], [1, [1, "r0"], Y]], {}, True),  # a slot it never accepted
    ([], {}, False),  # version 1, no range named: omissions are not judged
    ([], {"from_slot": 0}, True),  # a range named: omitting slot 0 is a lie
    ([], {"from_slot": 1}, False),  # slot 0 is outside the range
])
def test_a_promise_reports_what_its_acceptor_accepted(tmp_path, report, scope, bad):
    t = Trace("multipaxos", R3)
    t.requests(X, Y)
    phase1(t, "r0", ballot(1, "r0"), R3)
    phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0", "r1"], ["r0"])
    t.msg("r2", ["r1"], {"type": "prepare", "ballot": [2, "r2"], **scope})
    t.msg("r1", ["r2"], {"type": "promise", "ballot": [2, "r2"], **scope, "accepted": report})
    assert checked(t, tmp_path) == (("violation", ["MP-PROMISE-REPORT"]) if bad else ("ok", []))


def test_in_format_2_omitting_an_accepted_slot_is_a_lie_unless_known_chosen(tmp_path):
    for decided in (False, True):
        t = Trace("multipaxos", R3, version=2)
        t.requests(X)
        phase1(t, "r0", ballot(1, "r0"), R3)
        phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0", "r1"], ["r0"])  # r1 hears no votes
        if decided:  # r1 is told X chosen: knowing it is enough (as in per-slot conformance)
            t.msg("r0", ["r1"], {"type": "decide", "slot": 0, "cmd": X})
        t.msg("r2", ["r1"], {"type": "prepare", "ballot": [2, "r2"]})
        t.msg("r1", ["r2"], {"type": "promise", "ballot": [2, "r2"], "accepted": []})
        d = tmp_path / str(decided)
        d.mkdir()
        assert checked(t, d) == (("ok", []) if decided else ("violation", ["MP-PROMISE-REPORT"]))


# MP-PROPOSAL ---------------------------------------------------------------------------

def contested(t: Trace, adopt: dict) -> None:
    """Slot 0: X accepted in ballot 1 by r0 alone, Y chosen in ballot 2 by r1 and r2.
    r0 then leads ballot 3, hears r0's own promise (X, 1) first and r1's (Y, 2) second,
    and proposes `adopt` (Y is the only legal value)."""
    t.requests(X, Y, Z)
    phase1(t, "r0", ballot(1, "r0"), ["r0", "r1"])
    phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0"], ["r0"])
    phase1(t, "r1", ballot(2, "r1"), ["r1", "r2"])
    phase2(t, "r1", ballot(2, "r1"), 0, Y, ["r1", "r2"], ["r1", "r2"])
    t.ev("r1", "decide", slot=0, cmd=Y)
    phase1(t, "r0", ballot(3, "r0"), ["r0", "r1"],
           {"r0": [[0, [1, "r0"], X]], "r1": [[0, [2, "r1"], Y]]})
    phase2(t, "r0", ballot(3, "r0"), 0, adopt, ["r0", "r1"], ["r0"])
    t.ev("r0", "decide", slot=0, cmd=adopt)


def test_a_proposer_that_adopts_the_first_promise_is_caught(tmp_path):
    t = Trace("multipaxos", R3)
    contested(t, X)
    assert checked(t, tmp_path) == ("violation", ["MP-AGREEMENT", "MP-PROPOSAL"])
    (msg,) = messages(tmp_path, t, "MP-PROPOSAL")
    assert "r0 sends accept c0#0 'put x 1' for slot 0 in ballot (3,r0)" in msg
    assert "highest-ballot report there is c0#1 'put x 2' in ballot (2,r1)" in msg


def test_a_proposer_that_adopts_the_highest_ballot_passes(tmp_path):
    t = Trace("multipaxos", R3)
    contested(t, Y)
    assert checked(t, tmp_path) == ("ok", [])


@pytest.mark.parametrize("case, expect", [
    ("fresh-command", "ok"),  # nobody in the quorum reported the slot: any value
    ("resend", "ok"),  # the same (b, s, v) again, while the first is in flight
    ("two-values", "MP-PROPOSAL"),  # another value in the same ballot and slot
    ("no-quorum", "MP-PROPOSAL"),  # one promise of three
    ("unreceived", "MP-PROPOSAL"),  # promises sent, but not received by the proposer
    ("other-slot", "MP-PROPOSAL"),  # phase 1 for slot 1 only, accept for slot 0
])
def test_proposals_follow_a_received_phase_1_quorum(tmp_path, case, expect):
    t = Trace("multipaxos", R3, version=2)
    t.requests(X, Y)
    acceptors = ["r0"] if case == "no-quorum" else R3
    if case == "unreceived":
        t.msg("r0", R3, {"type": "prepare", "ballot": [1, "r0"]})
        for a in R3:
            t.send(a, ["r0"], {"type": "promise", "ballot": [1, "r0"], "accepted": []})
    elif case == "other-slot":
        phase1(t, "r0", ballot(1, "r0"), R3, slot=1)
    else:
        phase1(t, "r0", ballot(1, "r0"), acceptors)
    t.msg("r0", R3, {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": Y})
    if case == "resend":
        t.msg("r0", R3, {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": Y})
    if case == "two-values":
        t.msg("r0", R3, {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": X})
    result = checked(t, tmp_path)
    assert result == (("ok", []) if expect == "ok" else ("violation", [expect]))


def test_a_retry_with_a_higher_ballot_while_the_lower_one_is_in_flight_passes(tmp_path):
    """Per-slot Paxos, two proposers: p1's ballot-1 accept is still in flight when it
    retries with ballot 3 (p2 had promised 2); the late ballot-1 accept is refused by
    the acceptors that promised higher, accepted by one that did not."""
    nodes = ["p1", "p2", "a1", "a2", "a3", "l1"]
    roles = {"p1": ["proposer"], "p2": ["proposer"], "l1": ["learner"]} | {
        a: ["acceptor"] for a in ("a1", "a2", "a3")}
    t = Trace("multipaxos", nodes, version=2, roles=roles)
    t.requests(X, Y)
    phase1(t, "p1", ballot(1, "p1"), ["a1", "a2", "a3"], slot=0)
    a1 = t.send("p1", ["a1", "a2", "a3"],
                {"type": "accept", "ballot": [1, "p1"], "slot": 0, "cmd": X})
    phase1(t, "p2", ballot(2, "p2"), ["a1", "a2"], slot=0)
    t.recv("a3", a1, "p1")
    t.msg("a3", ["l1"], {"type": "accepted", "ballot": [1, "p1"], "slot": 0, "cmd": X})
    phase1(t, "p1", ballot(3, "p1"), ["a2", "a3"], {"a3": [[0, [1, "p1"], X]]}, slot=0)
    t.recv("a1", a1, "p1")  # late: a1 promised 2, so it ignores it (no event)
    phase2(t, "p1", ballot(3, "p1"), 0, X, ["a2", "a3"], ["l1"])
    t.ev("l1", "decide", slot=0, cmd=X)
    assert checked(t, tmp_path) == ("ok", [])


def test_a_v1_leader_whose_own_acceptor_promises_without_a_message(tmp_path):
    """Format 1 writers that follow the model: the leader's prepare goes to the others
    only, its own acceptor promising in the same step. That promise counts, and its
    report is the acceptor's own accepts."""
    t = Trace("multipaxos", R3)
    t.requests(X, Y)
    t.msg("r0", ["r1", "r2"], {"type": "prepare", "ballot": [1, "r0"]})
    t.msg("r1", ["r0"], {"type": "promise", "ballot": [1, "r0"], "accepted": []})
    phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0"], ["r0"])  # only r0 accepts X
    t.msg("r1", ["r0", "r2"], {"type": "prepare", "ballot": [2, "r1"]})
    t.msg("r2", ["r1"], {"type": "promise", "ballot": [2, "r1"], "accepted": []})
    phase2(t, "r1", ballot(2, "r1"), 0, Y, ["r1", "r2"], R3)  # r1, r2: no report: Y is free
    for r in R3:
        t.ev(r, "decide", slot=0, cmd=Y)
    assert checked(t, tmp_path) == ("ok", [])


# -- PBFT ---------------------------------------------------------------------------------

R4 = ["r0", "r1", "r2", "r3"]


def pbft_round(t: Trace, n: int, d: str, cmd: dict, *, prepares_to_r3: bool = True) -> None:
    """View 0, number n: r0 pre-prepares, r1..r3 prepare, all commit and decide."""
    t.msg("r0", ["r1", "r2", "r3"], {"type": "pre-prepare", "view": 0, "n": n, "digest": d,
                                     "cmd": cmd})
    held = {}
    for r in ("r1", "r2", "r3"):
        got = [x for x in R4 if x != r and (prepares_to_r3 or x != "r3")]
        mid = t.send(r, [x for x in R4 if x != r], {"type": "prepare", "view": 0, "n": n,
                                                     "digest": d})
        for x in got:
            t.recv(x, mid, r)
        held[r] = mid
    commit = {"type": "commit", "view": 0, "n": n, "digest": d}
    mids = {}
    for r in R4:
        mids[r] = t.send(r, [x for x in R4 if x != r], commit)
    if not prepares_to_r3:  # r3 gets the prepares only after its commit
        for r in ("r1", "r2"):
            t.recv("r3", held[r], r)
    for r in R4:
        for s in R4:
            if s != r:
                t.recv(r, mids[s], s)
        t.ev(r, "decide", view=0, n=n, digest=d)
        t.ev(r, "execute", n=n, digest=d, cmd=cmd, result="ok")


def test_a_correct_pbft_run_passes(tmp_path):
    t = Trace("pbft", R4)
    t.requests(X)
    pbft_round(t, 1, "dX", X)
    assert checked(t, tmp_path) == ("ok", [])


def test_a_commit_without_a_received_prepare_certificate_is_caught(tmp_path):
    """r3 sends COMMIT before it receives r1's and r2's PREPAREs: a file may list
    those PREPAREs' sends (and other replicas' receipts) before r3's COMMIT, or a
    directory may not; the verdict is PBFT-PREPARED either way."""
    t = Trace("pbft", R4)
    t.requests(X)
    pbft_round(t, 1, "dX", X, prepares_to_r3=False)
    assert checked(t, tmp_path) == ("violation", ["PBFT-PREPARED"])
    (msg,) = messages(tmp_path, t, "PBFT-PREPARED")
    assert msg.startswith("r3 sends COMMIT for digest dX at n=1 in view 0 without being prepared")


def test_prepared_and_committed_local_answer_by_what_the_node_received():
    from types import SimpleNamespace

    t = Trace("pbft", R4)
    t.requests(X)
    pbft_round(t, 1, "dX", X, prepares_to_r3=False)
    h = SimpleNamespace(**{k: v for k, v in t.header.items() if k != "kind"},
                        byzantine=[], logged=None)
    mon = PbftMonitor(h)
    sends = {}
    answers = []
    for i, e in enumerate(t.events):
        e = dict(e, _loc=("t", i + 2))
        if e["kind"] == "send":
            sends[e["msg_id"]] = e
        elif e["kind"] == "recv":
            e["_send"] = sends[e["msg_id"]]
        if e["kind"] == "send" and e["msg"]["type"] == "commit":
            answers.append((e["node"], mon.prepared(e["node"], 0, 1, "dX")))
        mon.on_event(e)
    assert dict(answers) == {"r0": True, "r1": True, "r2": True, "r3": False}
    assert mon.prepared("r3", 0, 1, "dX")  # it did receive them, later
    assert all(mon.committed_local(r, 0, 1, "dX") for r in R4)
    assert not mon.committed_local("r0", 0, 1, "other")


def test_a_pbft_replica_that_commits_twice_differently_breaks_agreement(tmp_path):
    t = Trace("pbft", R4)
    t.requests(X)
    pbft_round(t, 1, "dX", X)
    t.ev("r2", "decide", view=1, n=1, digest="dY")
    assert checked(t, tmp_path) == ("violation", ["PBFT-AGREEMENT", "PBFT-COMMIT-CERT"])


def test_monitors_list_their_properties():
    mp = {p for p, _ in MultiPaxosMonitor.properties}
    assert {"MP-PROMISE-REPORT", "MP-PROPOSAL", "MP-PROMISE", "MP-AGREEMENT"} <= mp
    assert "PBFT-PREPARED" in {p for p, _ in PbftMonitor.properties}


def test_two_values_chosen_is_agreement_broken_even_if_no_learner_decides(tmp_path):
    """Paxos.tla's Consistency over the acceptors' own votes: X chosen by r0, r1 in
    ballot 1; r1's promise for ballot 2 leaves slot 0 out (it knows X chosen), r2
    proposes Z with no report and r1, r2 accept it: Z is chosen too, and no learner
    needs to decide for the run to be broken (found in review)."""
    t = Trace("multipaxos", R3, version=2)
    t.requests(X, Z)
    phase1(t, "r0", ballot(1, "r0"), R3)
    phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0", "r1"], ["r0", "r1"])
    t.msg("r2", ["r1", "r2"], {"type": "prepare", "ballot": [2, "r2"]})
    for a in ("r1", "r2"):
        t.msg(a, ["r2"], {"type": "promise", "ballot": [2, "r2"], "accepted": []})
    phase2(t, "r2", ballot(2, "r2"), 0, Z, ["r1", "r2"], ["r2"])
    result, props = checked(t, tmp_path)
    assert result == "violation" and "MP-AGREEMENT" in props


def test_a_proposal_in_another_proposers_ballot_is_reported(tmp_path):
    """Proposal numbers are drawn per proposer (Paxos Made Simple §2.5): r1 sends a 2a in
    r0's ballot (found in review: only conformance saw it)."""
    t = Trace("multipaxos", R3, version=2)
    t.requests(X, Y)
    phase1(t, "r0", ballot(1, "r0"), R3)
    phase2(t, "r0", ballot(1, "r0"), 0, X, ["r0"], ["r0"])
    t.msg("r1", R3, {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": Y})
    result, props = checked(t, tmp_path)
    assert result == "violation" and "MP-PROPOSAL" in props
