"""Format-2 MultiPaxos conformance, slot by slot, against the Paxos model (Paxos.tla).

Each legal behaviour the issue lists is written here as a format-2 trace and must
validate (exit 0) and conform; each bug must fail conformance at the step that breaks
Paxos. Every verdict must be the same for random interleavings of the merged file that
keep each node's own events in seq order (the map judges a step by what its node had
received, never by what other nodes logged earlier in the file).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from smrcheck.checker.conformance import Conformance
from smrcheck.checker.validate import validate_run
from smrcheck.models.paxos import window
from smrcheck.models.paxos.trace_map import for_header


def cmd(client: str, req: int) -> dict:
    return {"client": client, "req": req, "op": f"put k{req} {req}"}


class Trace:
    """A format-2 run written event by event, in a causal order; the acceptors' votes
    are tracked so promises report them truthfully unless told otherwise."""

    def __init__(self, proposers, acceptors, learners, clients=("c0", "c1"), quorums=None,
                 replicas=()) -> None:
        self.nodes = list(replicas) + list(proposers) + list(acceptors) + list(learners)
        self.header = {"kind": "header", "format": "smrtrace", "version": 2,
                       "protocol": "multipaxos", "nodes": self.nodes, "clients": list(clients),
                       "f": (len(acceptors) + len(replicas) - 1) // 2}
        roles = {p: ["proposer"] for p in proposers}
        roles.update({a: ["acceptor"] for a in acceptors})
        roles.update({x: ["learner"] for x in learners})
        if roles:
            self.header["roles"] = roles
        if quorums is not None:
            self.header["quorums"] = quorums
        self.acceptors = list(replicas) + list(acceptors)
        self.learners = list(replicas) + list(learners)
        self.events: list[dict] = []
        self.seq: dict[str, int] = {}
        self.ids = 0
        self.votes: dict[str, dict[int, tuple[list, dict | None]]] = {a: {} for a in self.acceptors}
        self.msgs: dict[str, dict] = {}

    def ev(self, node: str, kind: str, **fields) -> dict:
        e = {"kind": kind, "node": node, "seq": self.seq.get(node, 0), **fields}
        self.seq[node] = e["seq"] + 1
        self.events.append(e)
        return e

    def send(self, node: str, to, msg: dict) -> str:
        self.ids += 1
        mid = f"m{self.ids}"
        self.msgs[mid] = msg
        self.ev(node, "send", msg_id=mid, to=list(to), msg=msg)
        return mid

    def recv(self, node: str, mid: str, sender: str) -> None:
        self.ev(node, "recv", msg_id=mid, **{"from": sender})

    # -- protocol steps ------------------------------------------------------------------

    def prepare(self, p, ballot, accs, slot=None, from_slot=None) -> str:
        msg = {"type": "prepare", "ballot": ballot}
        if slot is not None:
            msg["slot"] = slot
        if from_slot is not None:
            msg["from_slot"] = from_slot
        return self.send(p, accs, msg)

    def promise(self, a, p, prep: str, report=None, deliver=True) -> str:
        pm = self.msgs[prep]
        self.recv(a, prep, p)
        msg = {"type": "promise", "ballot": pm["ballot"]}
        lo = pm.get("from_slot", 0)
        if "slot" in pm:
            msg["slot"] = pm["slot"]
        if "from_slot" in pm:
            msg["from_slot"] = pm["from_slot"]
        if report is None:
            report = [[s, b, c] for s, (b, c) in sorted(self.votes[a].items())
                      if (s == pm["slot"] if "slot" in pm else s >= lo)]
        msg["accepted"] = report
        mid = self.send(a, [p], msg)
        if deliver:
            self.recv(p, mid, a)
        return mid

    def phase1(self, p, ballot, accs, **scope) -> None:
        prep = self.prepare(p, ballot, accs, **scope)
        for a in accs:
            self.promise(a, p, prep)

    def accept(self, p, ballot, slot, c, accs) -> str:
        return self.send(p, accs, {"type": "accept", "ballot": ballot, "slot": slot, "cmd": c})

    def accepted(self, a, p, acc_msg: str, learners=None) -> str:
        m = self.msgs[acc_msg]
        self.recv(a, acc_msg, p)
        self.votes[a][m["slot"]] = (m["ballot"], m["cmd"])
        return self.send(a, learners or self.learners,
                         {"type": "accepted", "ballot": m["ballot"], "slot": m["slot"], "cmd": m["cmd"]})

    def learn(self, votes: list[tuple[str, str]], slot: int, c, learners=None,
              execute=False) -> None:
        for x in learners or self.learners:
            for a, mid in votes:
                self.recv(x, mid, a)
            self.ev(x, "decide", slot=slot, cmd=c)
            if execute:
                self.ev(x, "execute", slot=slot, cmd=c)

    def phase2(self, p, ballot, slot, c, accs, learners=None, execute=False) -> None:
        m = self.accept(p, ballot, slot, c, accs)
        votes = [(a, self.accepted(a, p, m, learners)) for a in accs]
        self.learn(votes, slot, c, learners, execute)

    def request(self, client: str, req: int, to) -> dict:
        c = cmd(client, req)
        self.ev(client, "request", req=req, op=c["op"])
        mid = self.send(client, to, {"type": "request", "cmd": c})
        for x in to:
            self.recv(x, mid, client)
        return c

    def write(self, path: Path, events=None) -> Path:
        lines = [self.header] + (events if events is not None else self.events)
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        return path


def shuffled(events: list[dict], rng: random.Random) -> list[dict]:
    """A random interleaving that keeps each node's events in seq order."""
    queues: dict[str, list[dict]] = {}
    for e in events:
        queues.setdefault(e["node"], []).append(e)
    for q in queues.values():
        q.reverse()
    out = []
    names = sorted(queues)
    while names:
        n = rng.choice(names)
        out.append(queues[n].pop())
        if not queues[n]:
            names.remove(n)
    return out


def verdict(t: Trace, tmp_path: Path, name: str = "run", events=None):
    r = validate_run([str(t.write(tmp_path / f"{name}.jsonl", events))])
    return r


def check_all_orders(t: Trace, tmp_path: Path, conformance: str, orders: int = 6):
    first = verdict(t, tmp_path)
    assert first.conformance == conformance, _why(first)
    rng = random.Random(13)
    for k in range(orders):
        r = verdict(t, tmp_path, f"order{k}", shuffled(t.events, rng))
        assert (r.result, r.conformance) == (first.result, first.conformance), _why(r)
        assert {v.property for v in r.violations} == {v.property for v in first.violations}
    return first


def _why(r) -> str:
    c = r.conformance_failure
    where = "" if c is None else f"{c.file}:{c.line} {c.event}\n  mapped to {c.mapped_to}\n  {c.states}"
    return f"{r.result} {r.conformance} {[(v.property, v.message) for v in r.violations]} {r.warnings} {r.error} {where}"


def conforms(t: Trace, tmp_path: Path):
    r = check_all_orders(t, tmp_path, "conforms")
    assert r.exit_code == 0, _why(r)
    return r


def fails(t: Trace, tmp_path: Path, words: str):
    r = check_all_orders(t, tmp_path, "fails")
    assert words in r.conformance_failure.mapped_to, _why(r)
    return r


P, A, L = ["p1", "p2"], ["a1", "a2", "a3"], ["l1", "l2"]


# -- legal behaviours: each must conform --------------------------------------------------


def test_separate_roles_one_proposer(tmp_path):
    t = Trace(P[:1], A, L)
    c0 = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A)
    t.phase2("p1", [1, "p1"], 0, c0, A)
    c1 = t.request("c0", 1, ["p1"])
    t.phase2("p1", [1, "p1"], 1, c1, A[:2])  # a majority is enough
    conforms(t, tmp_path)


def test_competing_proposers_in_one_slot(tmp_path):
    """p1 and p2 both run phase 1 for slot 0; p1's value reaches only a1 before p2's
    higher ballot is promised by a2 and a3, which report no vote: p2 may propose its
    own command; p1's lower 2a is then rejected by the others (a nack)."""
    t = Trace(P, A, L)
    x = t.request("c0", 0, ["p1"])
    y = t.request("c1", 0, ["p2"]) if False else cmd("c0", 1)
    t.ev("c0", "request", req=1, op=y["op"])
    p1 = t.prepare("p1", [1, "p1"], A, slot=0)
    for a in A:
        t.promise(a, "p1", p1)
    acc1 = t.accept("p1", [1, "p1"], 0, x, A)
    v1 = t.accepted("a1", "p1", acc1)
    p2 = t.prepare("p2", [1, "p2"], A, slot=0)
    for a in ("a2", "a3"):
        t.promise(a, "p2", p2)
    for a in ("a2", "a3"):  # p1's 2a arrives after p2's promise: nacked
        t.recv(a, acc1, "p1")
        nk = t.send(a, ["p1"], {"type": "nack", "ballot": [1, "p1"], "promised": [1, "p2"], "slot": 0})
        t.recv("p1", nk, a)
    m = t.accept("p2", [1, "p2"], 0, y, A)
    votes = [(a, t.accepted(a, "p2", m)) for a in A]
    t.learn(votes, 0, y)
    t.recv("l1", v1, "a1")  # the old vote arrives late at one learner
    conforms(t, tmp_path)


def test_retry_with_higher_ballot_while_lower_accepts_in_flight(tmp_path):
    """p1 proposes x at ballot 1; only a1 votes; p1 times out and retries phase 1 at
    ballot 2 (a1 reports its vote, so p1 must propose x again); the old 2a reaches a2
    afterwards and is accepted there, since a2 promised nothing higher. Values agree."""
    t = Trace(P[:1], A, L)
    x = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A)
    m1 = t.accept("p1", [1, "p1"], 0, x, A)
    v1 = t.accepted("a1", "p1", m1)
    prep = t.prepare("p1", [2, "p1"], ["a1", "a3"], from_slot=0)
    t.promise("a1", "p1", prep)
    t.promise("a3", "p1", prep)
    v2 = t.accepted("a2", "p1", m1)  # the ballot-1 2a still in flight
    m2 = t.accept("p1", [2, "p1"], 0, x, A)
    votes = [(a, t.accepted(a, "p1", m2)) for a in ("a1", "a3")]
    t.learn(votes, 0, x)
    t.recv("l1", v1, "a1")
    t.recv("l2", v2, "a2")
    t.recv("a2", m2, "p1")
    conforms(t, tmp_path)


def test_new_leader_fills_unreported_slot_with_fresh_command(tmp_path):
    """p1 chose slot 0 and had a1 vote in slot 1; p2 takes over from slot 0 with a
    quorum {a2, a3} that reports slot 0's vote (a2) and nothing in slot 1, and fills
    slot 1 with a fresh client command, then slot 2."""
    t = Trace(P, A, L)
    x = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A, from_slot=0)
    t.phase2("p1", [1, "p1"], 0, x, ["a1", "a2"])
    y = t.request("c0", 1, ["p1"])
    m = t.accept("p1", [1, "p1"], 1, y, A)
    t.accepted("a1", "p1", m)
    t.phase1("p2", [2, "p2"], ["a2", "a3"], from_slot=0)
    m0 = t.accept("p2", [2, "p2"], 0, x, ["a2", "a3"])  # re-proposes slot 0's value
    t.learn([(a, t.accepted(a, "p2", m0)) for a in ("a2", "a3")], 0, x, learners=[])
    z = t.request("c1", 0, ["p2"])
    t.phase2("p2", [2, "p2"], 1, z, ["a2", "a3"])
    w = t.request("c1", 1, ["p2"])
    t.phase2("p2", [2, "p2"], 2, w, ["a2", "a3"])
    conforms(t, tmp_path)


def test_retried_command_in_another_slot_skipped_at_apply(tmp_path):
    t = Trace([], [], [], replicas=["r0", "r1", "r2"])
    x = t.request("c0", 0, ["r0"])
    t.phase1("r0", [1, "r0"], ["r0", "r1", "r2"])
    t.phase2("r0", [1, "r0"], 0, x, ["r0", "r1", "r2"], execute=True)
    mid = t.send("c0", ["r0"], {"type": "request", "cmd": x})  # the client retries
    t.recv("r0", mid, "c0")
    m = t.accept("r0", [1, "r0"], 1, x, ["r0", "r1", "r2"])
    votes = [(a, t.accepted(a, "r0", m)) for a in ("r0", "r1", "r2")]
    for r in ("r0", "r1", "r2"):
        for a, v in votes:
            t.recv(r, v, a)
        t.ev(r, "execute", slot=1, cmd=x, applied=False)
    conforms(t, tmp_path)


def test_replica_leader_counts_its_own_promise(tmp_path):
    """Format-1-shaped replicas in a version-2 file: the leader's own acceptor promises
    without a message (the prepare goes to the others only)."""
    t = Trace([], [], [], replicas=["r0", "r1", "r2"])
    x = t.request("c0", 0, ["r0"])
    prep = t.prepare("r0", [1, "r0"], ["r1", "r2"])
    t.promise("r1", "r0", prep)
    t.phase2("r0", [1, "r0"], 0, x, ["r0", "r1"], execute=True)
    conforms(t, tmp_path)


def test_learners_decide_without_execute(tmp_path):
    t = Trace(P[:1], A, ["l1", "l2", "l3"])
    t.phase1("p1", [1, "p1"], A)
    for i in range(5):
        c = t.request("c0", i, ["p1"])
        t.phase2("p1", [1, "p1"], i, c, A)
    conforms(t, tmp_path)


def test_learners_told_by_the_proposer(tmp_path):
    """Acceptors vote to the proposer only; it learns the value chosen and tells the
    learners with a decide message, which they decide on."""
    t = Trace(P[:1], A, L)
    x = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A)
    m = t.accept("p1", [1, "p1"], 0, x, A)
    for a in A[:2]:
        t.recv("p1", t.accepted(a, "p1", m, learners=["p1"]), a)
    d = t.send("p1", L, {"type": "decide", "slot": 0, "cmd": x})
    for x_ in L:
        t.recv(x_, d, "p1")
        t.ev(x_, "decide", slot=0, cmd=x)
    conforms(t, tmp_path)


def test_decide_message_without_knowing_fails(tmp_path):
    t = Trace(P[:1], A, L)
    x = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A)
    m = t.accept("p1", [1, "p1"], 0, x, A)
    t.recv("p1", t.accepted("a1", "p1", m, learners=["p1"]), "a1")
    t.send("p1", L, {"type": "decide", "slot": 0, "cmd": x})
    fails(t, tmp_path, "p1 sends decide for c0#0 in slot 0, which it does not know chosen")


@pytest.mark.parametrize("n", [7, 9])
def test_large_clusters(tmp_path, n):
    accs = [f"a{i}" for i in range(1, n + 1)]
    t = Trace(P, accs, L)
    q = n // 2 + 1
    t.phase1("p1", [1, "p1"], accs[:q], from_slot=0)
    x = t.request("c0", 0, ["p1"])
    t.phase2("p1", [1, "p1"], 0, x, accs[:q])
    y = t.request("c0", 1, ["p1"])
    m = t.accept("p1", [1, "p1"], 1, y, accs)
    t.accepted(accs[-1], "p1", m)  # one vote in slot 1, by an acceptor p2's quorum holds
    t.phase1("p2", [1, "p2"], accs[-q:], from_slot=1)
    t.phase2("p2", [1, "p2"], 1, y, accs[-q:])  # it must re-propose y
    conforms(t, tmp_path)


def test_grid_quorums(tmp_path):
    accs = ["a1", "a2", "a3", "a4", "a5", "a6"]
    t = Trace(P[:1], accs, L, quorums="grid:rows=2,cols=3")
    t.phase1("p1", [1, "p1"], ["a1", "a2", "a3"])  # a row: a phase-1 quorum
    x = t.request("c0", 0, ["p1"])
    t.phase2("p1", [1, "p1"], 0, x, ["a1", "a4"])  # a column: a phase-2 quorum
    conforms(t, tmp_path)


# -- bugs: each must fail ----------------------------------------------------------------


def _two_reports(adopt_first: bool) -> Trace:
    """Slot 0: a1 votes x in ballot 1 (p1), a2 votes y in ballot 2 (p2). p3 runs phase
    1 in ballot 3 and hears a1 first, then a2: {a1, a2} is its only quorum, so it must
    propose y, the higher-ballot vote."""
    t = Trace(["p1", "p2", "p3"], A, L)
    x, y = cmd("c0", 0), cmd("c0", 1)
    t.ev("c0", "request", req=0, op=x["op"])
    t.ev("c0", "request", req=1, op=y["op"])
    t.phase1("p1", [1, "p1"], ["a1", "a3"], slot=0)
    m = t.accept("p1", [1, "p1"], 0, x, ["a1"])
    t.accepted("a1", "p1", m)
    t.phase1("p2", [2, "p2"], ["a2", "a3"], slot=0)
    m = t.accept("p2", [2, "p2"], 0, y, ["a2"])
    t.accepted("a2", "p2", m)
    t.phase1("p3", [3, "p3"], ["a1", "a2"], slot=0)
    t.accept("p3", [3, "p3"], 0, x if adopt_first else y, A)
    return t


def test_highest_ballot_value_conforms(tmp_path):
    conforms(_two_reports(adopt_first=False), tmp_path)


def test_adopting_first_promise_value_fails(tmp_path):
    fails(_two_reports(adopt_first=True), tmp_path, "not what Phase2a allows")


def test_accept_below_promise_fails(tmp_path):
    t = Trace(P, A, L)
    x = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A, slot=0)
    m = t.accept("p1", [1, "p1"], 0, x, A)
    t.phase1("p2", [2, "p2"], ["a1", "a2"], slot=0)
    t.accepted("a1", "p1", m)  # a1 promised ballot 2, then accepts ballot 1
    fails(t, tmp_path, "never accepts a proposal numbered below one it promised")


def test_2a_without_received_quorum_fails(tmp_path):
    """a2 promises, but its promise never reaches p1: p1 heard a1 only."""
    t = Trace(P[:1], A, L)
    x = t.request("c0", 0, ["p1"])
    prep = t.prepare("p1", [1, "p1"], A)
    t.promise("a1", "p1", prep)
    t.promise("a2", "p1", prep, deliver=False)
    t.accept("p1", [1, "p1"], 0, x, A)
    fails(t, tmp_path, "has received promises for this ballot and slot from {a1} only")


def test_lying_promise_fails(tmp_path):
    t = Trace(P, A, L)
    x = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A, from_slot=0)
    t.phase2("p1", [1, "p1"], 0, x, ["a1", "a2"])
    prep = t.prepare("p2", [2, "p2"], A, from_slot=0)
    t.promise("a1", "p2", prep, report=[])  # hides its vote in slot 0
    fails(t, tmp_path, "the promise reports no vote")


def test_vote_stored_but_its_2b_lost_in_a_crash_conforms(tmp_path):
    """a1 receives the 2a, writes its vote to disk and is killed before its 2b goes out
    (nor is the send logged); restarted, it promises a higher ballot reporting that
    vote. The model's Phase2b took place, its 2b lost: legal Paxos."""
    t = Trace(P, A, L)
    c0 = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A, slot=0)
    m = t.accept("p1", [1, "p1"], 0, c0, A)
    t.recv("a1", m, "p1")
    t.ev("a1", "crash")
    t.ev("a1", "restart")
    t.votes["a1"][0] = ([1, "p1"], c0)
    votes = [(a, t.accepted(a, "p1", m)) for a in ("a2", "a3")]
    t.learn(votes, 0, c0)
    prep = t.prepare("p2", [2, "p2"], A, slot=0)
    for a in A:
        t.promise(a, "p2", prep)
    conforms(t, tmp_path)


def test_promise_reporting_a_2a_never_received_fails(tmp_path):
    """The same promise from an acceptor that never received that 2a lies."""
    t = Trace(P, A, L)
    c0 = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A, slot=0)
    m = t.accept("p1", [1, "p1"], 0, c0, A)
    votes = [(a, t.accepted(a, "p1", m)) for a in ("a2", "a3")]
    t.learn(votes, 0, c0)
    t.votes["a1"][0] = ([1, "p1"], c0)
    prep = t.prepare("p2", [2, "p2"], A, slot=0)
    t.promise("a1", "p2", prep)
    fails(t, tmp_path, "the promise reports a vote")


def test_replica_leaves_out_a_slot_it_executed(tmp_path):
    """A replica's promise leaves out slot 0, which it has executed (it knows it
    decided): not a lie; the new leader goes on from slot 1."""
    rs = ["r0", "r1", "r2"]
    t = Trace([], [], [], replicas=rs)
    x = t.request("c0", 0, ["r0"])
    t.phase1("r0", [1, "r0"], rs)
    t.phase2("r0", [1, "r0"], 0, x, rs, execute=True)
    prep = t.prepare("r1", [2, "r1"], rs)
    for r in ("r1", "r2"):
        t.promise(r, "r1", prep, report=[])
    y = t.request("c0", 1, ["r1"])
    t.phase2("r1", [2, "r1"], 1, y, rs, execute=True)
    conforms(t, tmp_path)


def test_decide_without_received_quorum_fails(tmp_path):
    """l1 decides on a1's vote alone; a2 votes too, but l1 never receives it: in some
    orders of the file a2's vote comes before the decision, in others after, and the
    verdict must be the same."""
    t = Trace(P[:1], A, L)
    x = t.request("c0", 0, ["p1"])
    t.phase1("p1", [1, "p1"], A)
    m = t.accept("p1", [1, "p1"], 0, x, A)
    v = t.accepted("a1", "p1", m)
    t.accepted("a2", "p1", m)
    t.learn([("a1", v)], 0, x, learners=["l1"])
    fails(t, tmp_path, "which it does not know chosen")


def test_learner_that_changes_its_mind_fails(tmp_path):
    t = Trace(P[:1], A, L)
    x, y = t.request("c0", 0, ["p1"]), t.request("c0", 1, ["p1"])
    t.phase1("p1", [1, "p1"], A)
    t.phase2("p1", [1, "p1"], 0, x, A)
    t.ev("l1", "decide", slot=0, cmd=y)
    fails(t, tmp_path, "after deciding c0#0 there")


def test_promise_without_received_prepare_fails(tmp_path):
    t = Trace(P[:1], A, L)
    t.prepare("p1", [1, "p1"], ["a1"])
    mid = t.send("a2", ["p1"], {"type": "promise", "ballot": [1, "p1"], "accepted": []})
    t.recv("p1", mid, "a2")
    fails(t, tmp_path, "has received no prepare of ballot (1,p1)")


# -- the window --------------------------------------------------------------------------


def long_run(slots: int, accs=A, learners=L, leaders=4, decide=True, proposers=None) -> Trace:
    """A stable leader per era, a new leader (range prepare from the next slot) every
    slots/leaders slots, taken in turn from `proposers` (default: one per era), each
    slot voted by every acceptor."""
    props = [f"p{i}" for i in range(1, (proposers or leaders) + 1)]
    t = Trace(props, accs, learners)
    per = max(1, slots // leaders)
    for i in range(slots):
        p = props[(i // per) % len(props)]
        rnd = i // per + 1
        if i % per == 0:
            t.phase1(p, [rnd, p], accs, from_slot=i)
        c = cmd("c0", i)
        m = t.accept(p, [rnd, p], i, c, accs)
        votes = [(a, t.accepted(a, p, m)) for a in accs]
        if decide:
            t.learn(votes, i, c)
        else:
            for x in learners:
                for a, mid in votes:
                    t.recv(x, mid, a)
    return t


def test_window_forgets_decided_slots(tmp_path):
    t = long_run(3000)
    header = json.loads(json.dumps(t.header))
    r = verdict(t, tmp_path)
    assert r.conformance == "conforms", _why(r)
    from smrcheck.traces.reader import Merger, open_run
    run = open_run([str(tmp_path / "run.jsonl")])
    model, m = for_header(run.header, None)
    conf = Conformance(model, m)
    for ev in Merger(run):
        assert conf.step(ev), conf.failure
    (s,) = conf.frontier
    assert len(s.live) <= 2 * window.LAG + 2
    assert len(s.retired) > 2000
    assert header


def test_window_without_decisions_stays_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(window, "LIVE_CAP", 200)
    monkeypatch.setattr(window, "RETIRED", 300)
    t = long_run(2000, decide=False)
    from smrcheck.traces.reader import Merger, open_run
    run = open_run([str(t.write(tmp_path / "run.jsonl"))])
    model, m = for_header(run.header, None)
    conf = Conformance(model, m)
    peak = 0
    for ev in Merger(run):
        assert conf.step(ev), conf.failure
        (s,) = conf.frontier
        peak = max(peak, len(s.live) + len(s.retired))
    assert peak <= 200 * 2 + 300 + 2


def _retired_slot_run(late: str) -> Trace:
    """Slot 0 is chosen (x, ballot (1,p1)) and decided, then retires as the log moves
    on; p2 (which prepared ballot (0,p2) for slot 0 early) and then a new leader
    p3 send late 2as there."""
    t = Trace(["p1", "p2", "p3"], A, L)
    x, y = t.request("c0", 0, ["p1"]), t.request("c1", 0, ["p2"])
    t.phase1("p2", [0, "p2"], ["a1", "a2"], slot=0)
    t.phase1("p1", [1, "p1"], A, from_slot=0)
    t.phase2("p1", [1, "p1"], 0, x, A)
    for i in range(1, 8):
        t.phase2("p1", [1, "p1"], i, t.request("c0", i, ["p1"]), A)
    if late == "low":
        t.accept("p2", [0, "p2"], 0, y, A)
    else:
        t.phase1("p3", [2, "p3"], A, from_slot=0)
        t.accept("p3", [2, "p3"], 0, x if late == "chosen" else y, A)
    return t


@pytest.fixture
def small_window(monkeypatch):
    monkeypatch.setattr(window, "LAG", 2)


def test_retired_slot_late_2a_of_chosen_value_conforms(tmp_path, small_window):
    conforms(_retired_slot_run("chosen"), tmp_path)


def test_retired_slot_late_2a_of_other_value_fails(tmp_path, small_window):
    fails(_retired_slot_run("other"), tmp_path, "a higher ballot may propose only that (P2c)")


def test_retired_slot_late_2a_below_chosen_ballot_is_outside(tmp_path, small_window):
    t = _retired_slot_run("low")
    r = verdict(t, tmp_path)
    assert r.exit_code == 0 and r.conformance == "outside-model", _why(r)
    assert any("below the ballot the slot was chosen in" in w for w in r.warnings), r.warnings


def test_forgotten_slot_is_outside(tmp_path, monkeypatch):
    monkeypatch.setattr(window, "LAG", 2)
    monkeypatch.setattr(window, "RETIRED", 2)
    t = _retired_slot_run("chosen")
    r = verdict(t, tmp_path)
    assert r.exit_code == 0 and r.conformance == "outside-model", _why(r)
    assert any("which the window has forgotten" in w for w in r.warnings), r.warnings


def test_leader_changes_do_not_grow_new_slots(tmp_path):
    """Fifty leader changes among three proposers, each taking over from the next slot:
    a new slot starts from the range promises, without the 1a/1b of ballots every
    acceptor has passed and their proposers have left."""
    t = long_run(500, leaders=50, proposers=3)
    from smrcheck.traces.reader import Merger, open_run
    run = open_run([str(t.write(tmp_path / "run.jsonl"))])
    model, m = for_header(run.header, None)
    conf = Conformance(model, m)
    biggest = 0
    for ev in Merger(run):
        assert conf.step(ev), conf.failure
        (s,) = conf.frontier
        if s.template is not None:
            biggest = max(biggest, len(s.template.msgs))
    assert 0 < biggest <= 3 * (1 + len(A))
    (s,) = conf.frontier
    assert len(s.rec_1a) <= 3 and len(s.rec_1b) <= 3 * len(A)  # one ballot per proposer
    assert len(s.heard) <= 3 and len(s.got1a) <= 3 * len(A)


def test_byzantine_quorums_are_outside_the_model(tmp_path):
    t = Trace(P[:1], ["a1", "a2", "a3", "a4"], L, quorums="bft:f=1")
    t.phase1("p1", [1, "p1"], ["a1", "a2", "a3"])
    r = verdict(t, tmp_path)
    assert r.conformance == "outside-model" and r.exit_code == 0, _why(r)
    assert any("crashes only" in w for w in r.warnings), r.warnings


def test_byzantine_learner_is_not_held_to_the_protocol(tmp_path):
    t = Trace(P[:1], A, L)
    t.header["byzantine"] = ["l2"]
    x, y = t.request("c0", 0, ["p1"]), t.request("c0", 1, ["p1"])
    t.phase1("p1", [1, "p1"], A)
    t.phase2("p1", [1, "p1"], 0, x, A, learners=["l1"])
    t.ev("l2", "decide", slot=0, cmd=y)
    r = verdict(t, tmp_path)
    assert r.conformance == "conforms", _why(r)


def test_byzantine_acceptor_is_outside_the_model(tmp_path):
    t = Trace(P[:1], A, L)
    t.header["byzantine"] = ["a3"]
    t.phase1("p1", [1, "p1"], A)
    r = verdict(t, tmp_path)
    assert r.conformance == "outside-model", _why(r)
    assert any("Byzantine" in w for w in r.warnings), r.warnings


# -- random legal runs -------------------------------------------------------------------


class Sim:
    """A small per-instance Paxos, run under a random scheduler (delivery in any order,
    loss, proposer timeouts and retries with higher ballots), logged as a format-2
    trace. `mode` "slot": a prepare per slot and per-slot promises (role_paxos' shape);
    "range": a prepare from the proposer's next slot and one promise per acceptor
    (MultiPaxos' shape). `bug` "first-promise": a proposer adopts the value of the
    first promise reporting one, not the highest-ballot one."""

    def __init__(self, seed: int, n: int, mode: str, bug: str | None = None,
                 proposers: int = 2, commands: int = 3, loss: float = 0.1,
                 timeouts: float = 0.02) -> None:
        self.rng = random.Random(seed)
        self.loss, self.timeouts = loss, timeouts
        self.mode, self.bug = mode, bug
        self.props = [f"p{i}" for i in range(1, proposers + 1)]
        self.accs = [f"a{i}" for i in range(1, n + 1)]
        self.t = Trace(self.props, self.accs, ["l1", "l2"])
        self.q = n // 2 + 1
        self.flight: list[tuple[str, str, str]] = []  # (msg_id, from, to)
        self.promised: dict[str, dict[int, list]] = {a: {} for a in self.accs}  # slot mode
        self.gpromise: dict[str, list] = {a: [-1, ""] for a in self.accs}  # range mode
        self.voted: dict[str, dict[int, tuple[list, dict | None]]] = {a: {} for a in self.accs}
        self.decided: dict[str, dict[int, dict | None]] = {"l1": {}, "l2": {}}
        self.tally: dict[tuple, set[str]] = {}
        todo = [cmd("c0", i) for i in range(commands)]
        for c in todo:
            self.t.ev("c0", "request", req=c["req"], op=c["op"])
        self.p = {p: {"round": 0, "todo": [c for j, c in enumerate(todo) if j % proposers == k],
                      "slot": 0, "ballot": None, "heard": {}, "sent2a": False}
                  for k, p in enumerate(self.props)}

    # proposers ---------------------------------------------------------------------------

    def start(self, p: str) -> None:
        st = self.p[p]
        if not st["todo"]:
            return
        while any(st["slot"] in d for d in self.decided.values()):
            st["slot"] += 1
        st["round"] += 1
        st["ballot"] = [st["round"], p]
        st["heard"], st["sent2a"] = {}, False
        scope = {"slot": st["slot"]} if self.mode == "slot" else {"from_slot": st["slot"]}
        self.post(p, self.accs, self.t.prepare(p, st["ballot"], self.accs, **scope))

    def on_promise(self, p: str, a: str, msg: dict) -> None:
        st = self.p[p]
        if msg["ballot"] != st["ballot"] or st["sent2a"]:
            return
        st["heard"][a] = [e for e in msg["accepted"] if e[0] == st["slot"]]
        if len(st["heard"]) < self.q:
            return
        reports = [e for a2 in st["heard"] for e in st["heard"][a2]]
        if self.bug == "first-promise":
            firsts = [st["heard"][a2] for a2 in st["heard"] if st["heard"][a2]]
            v = firsts[0][0][2] if firsts else (st["todo"][0] if st["todo"] else None)
        elif reports:
            v = max(reports, key=lambda e: (e[1][0], self.t.nodes.index(e[1][1])))[2]
        else:
            v = st["todo"][0] if st["todo"] else None
        st["sent2a"] = True
        m = self.t.accept(p, st["ballot"], st["slot"], v, self.accs)
        self.post(p, self.accs, m)

    def on_nack(self, p: str, msg: dict) -> None:
        st = self.p[p]
        st["round"] = max(st["round"], msg["promised"][0])

    def on_learn(self, p: str, slot: int, c) -> None:
        st = self.p[p]
        if st["todo"] and c == st["todo"][0]:
            st["todo"].pop(0)
        if slot == st["slot"]:
            st["slot"] += 1
            st["ballot"] = None  # whatever phase it was in, for that slot, is over
            self.start(p)

    # acceptors ---------------------------------------------------------------------------

    def key(self, b) -> tuple:
        return (-1, -1) if b is None or b[0] < 0 else (b[0], self.t.nodes.index(b[1]))

    def promise_of(self, a: str, slot: int):
        if self.mode == "slot":
            return self.promised[a].get(slot)
        return self.gpromise[a] if self.gpromise[a][0] >= 0 else None

    def on_prepare(self, a: str, p: str, mid: str, msg: dict) -> None:
        self.t.recv(a, mid, p)
        slot = msg.get("slot", msg.get("from_slot", 0))
        held = self.promise_of(a, slot)
        if self.key(msg["ballot"]) <= self.key(held):
            nack = {"type": "nack", "ballot": msg["ballot"], "promised": held}
            self.post(a, [p], self.t.send(a, [p], nack))
            return
        if self.mode == "slot":
            self.promised[a][slot] = msg["ballot"]
            report = [[slot, *self.voted[a][slot]]] if slot in self.voted[a] else []
            out = {"type": "promise", "ballot": msg["ballot"], "slot": slot, "accepted": report}
        else:
            self.gpromise[a] = msg["ballot"]
            report = [[s, *v] for s, v in sorted(self.voted[a].items()) if s >= slot]
            out = {"type": "promise", "ballot": msg["ballot"], "from_slot": slot, "accepted": report}
        self.post(a, [p], self.t.send(a, [p], out))

    def on_accept(self, a: str, p: str, mid: str, msg: dict) -> None:
        self.t.recv(a, mid, p)
        slot = msg["slot"]
        held = self.promise_of(a, slot)
        if self.key(msg["ballot"]) < self.key(held):
            nack = {"type": "nack", "ballot": msg["ballot"], "promised": held, "slot": slot}
            self.post(a, [p], self.t.send(a, [p], nack))
            return
        if self.mode == "slot":
            self.promised[a][slot] = msg["ballot"]
        else:
            self.gpromise[a] = msg["ballot"]
        self.voted[a][slot] = (msg["ballot"], msg["cmd"])
        to = ["l1", "l2", *self.props]
        vote = {"type": "accepted", "ballot": msg["ballot"], "slot": slot, "cmd": msg["cmd"]}
        self.post(a, to, self.t.send(a, to, vote))

    # learners (and proposers, which learn from votes too) -----------------------------------

    def on_vote(self, x: str, a: str, mid: str, msg: dict) -> None:
        self.t.recv(x, mid, a)
        key = (x, msg["slot"], tuple(msg["ballot"]), json.dumps(msg["cmd"]))
        got = self.tally.setdefault(key, set())
        got.add(a)
        if len(got) != self.q:
            return
        if x in self.decided:
            if msg["slot"] not in self.decided[x]:
                self.decided[x][msg["slot"]] = msg["cmd"]
                self.t.ev(x, "decide", slot=msg["slot"], cmd=msg["cmd"])
        else:
            self.on_learn(x, msg["slot"], msg["cmd"])

    # the scheduler -------------------------------------------------------------------------

    def post(self, sender: str, to, mid: str) -> None:
        self.flight += [(mid, sender, x) for x in to]

    def run(self, steps: int = 3000) -> Trace:
        for p in self.props:
            self.start(p)
        for _ in range(steps):
            if not self.flight or self.rng.random() < self.timeouts:
                idle = [p for p in self.props if self.p[p]["todo"]]
                if not idle:
                    if not self.flight:
                        break
                else:
                    self.start(self.rng.choice(idle))  # a timeout: retry, higher ballot
                    continue
            mid, sender, x = self.flight.pop(self.rng.randrange(len(self.flight)))
            if self.rng.random() < self.loss:
                continue  # lost
            msg = self.t.msgs[mid]
            kind = msg["type"]
            if kind == "prepare":
                self.on_prepare(x, sender, mid, msg)
            elif kind == "accept":
                self.on_accept(x, sender, mid, msg)
            elif kind == "accepted":
                self.on_vote(x, sender, mid, msg)
            else:
                self.t.recv(x, mid, sender)
                if kind == "promise":
                    self.on_promise(x, sender, msg)
                elif kind == "nack":
                    self.on_nack(x, msg)
        return self.t


@pytest.mark.parametrize("mode", ["slot", "range"])
@pytest.mark.parametrize("n", [3, 5, 7])
def test_random_legal_runs_conform(tmp_path, mode, n):
    for seed in range(8):
        t = Sim(seed, n, mode, proposers=2 + seed % 2, commands=3 + seed % 4,
                loss=0.1 + 0.05 * (seed % 4), timeouts=0.02 + 0.03 * (seed % 3)).run()
        r = verdict(t, tmp_path, f"{mode}{n}-{seed}")
        assert r.exit_code == 0 and r.conformance == "conforms", (seed, _why(r))
    rng = random.Random(n)
    r = verdict(t, tmp_path, "shuffled", shuffled(t.events, rng))
    assert r.exit_code == 0 and r.conformance == "conforms", _why(r)


@pytest.mark.parametrize("mode", ["slot", "range"])
def test_random_runs_with_the_first_promise_bug_fail(tmp_path, mode):
    caught = 0
    for seed in range(40):
        t = Sim(seed, 5, mode, bug="first-promise", proposers=3, commands=6, loss=0.3,
                timeouts=0.1).run()
        r = verdict(t, tmp_path, f"bug{seed}")
        if r.conformance == "fails":
            caught += 1
            assert "not what Phase2a allows" in r.conformance_failure.mapped_to, _why(r)
            assert r.exit_code == 1
            if caught == 2:
                break
        else:
            assert r.conformance == "conforms", (seed, _why(r))  # where it did not matter
    assert caught
