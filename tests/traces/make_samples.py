"""Writes traces/samples/: good runs of both protocols and bad traces, each breaking one
property or one input rule, with the expected report beside it (`NAME.expected.json`).

The expected property and line come from how each bad trace is built (the line of the
event that completes the violation, recorded as it is written), never from running the
validator. Run `python tests/traces/make_samples.py` to regenerate; the tests read the
committed files.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # run as a script
from smrcheck.impl.kvstore import KVStore  # noqa: E402
from tests.support.synth import multipaxos_run, pbft_run  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2] / "traces" / "samples"


def dump(ev: dict) -> str:
    return json.dumps(ev, separators=(",", ":"))


class Builder:
    """Writes a trace event by event and remembers each event's line number."""

    def __init__(self, protocol: str, nodes: list[str], clients: list[str], f: int,
                 **header: object) -> None:
        self.lines = [dump({"kind": "header", "format": "smrtrace", "version": 1,
                            "protocol": protocol, "nodes": nodes, "clients": clients, "f": f,
                            **header})]
        self.seq = {x: 0 for x in nodes + clients}
        self.n = 0

    def ev(self, node: str, kind: str, **fields: object) -> int:
        ev = {"kind": kind, "node": node, "seq": self.seq[node], **fields}
        self.seq[node] += 1
        self.lines.append(dump(ev))
        return len(self.lines)  # its line number

    def send(self, node: str, to: list[str], msg: dict) -> str:
        self.n += 1
        msg_id = f"{node}-m{self.n}"
        self.ev(node, "send", msg_id=msg_id, to=to, msg=msg)
        return msg_id

    def recv(self, node: str, msg_id: str, sender: str) -> int:
        return self.ev(node, "recv", msg_id=msg_id, **{"from": sender})

    def deliver(self, sender: str, to: list[str], msg: dict) -> str:
        msg_id = self.send(sender, to, msg)
        for x in to:
            self.recv(x, msg_id, sender)
        return msg_id

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


R3 = ["r0", "r1", "r2"]
R4 = ["r0", "r1", "r2", "r3"]


def cmd(req: int, op: str, client: str = "c0") -> dict:
    return {"client": client, "req": req, "op": op}


def mp() -> Builder:
    return Builder("multipaxos", R3, ["c0"], 1)


def mp_chosen(b: Builder, slot: int, c: dict, ballot: list, acceptors: list[str],
              learners: list[str]) -> None:
    """Phase 2 of one slot: accept to all, accepted from `acceptors` to `learners`."""
    b.deliver(ballot[1], R3, {"type": "accept", "ballot": ballot, "slot": slot, "cmd": c})
    for a in acceptors:
        b.deliver(a, learners, {"type": "accepted", "ballot": ballot, "slot": slot, "cmd": c})


def mp_phase1(b: Builder, ballot: list, promisers: list[str], accepted=None) -> None:
    leader = ballot[1]
    b.deliver(leader, R3, {"type": "prepare", "ballot": ballot})
    for a in promisers:
        b.deliver(a, [leader], {"type": "promise", "ballot": ballot,
                                "accepted": (accepted or {}).get(a, [])})


def bad_samples() -> dict[str, tuple[str, dict]]:
    out: dict[str, tuple[str, dict]] = {}

    def violation(name: str, b: Builder, prop: str, line: int,
                  *cause: tuple[str, int]) -> None:
        """The sample breaks `prop` at `line`; `cause`: the rule whose breaking led there,
        when the monitors see it too (reported in line order)."""
        found = sorted([(line, prop), *((at, p) for p, at in cause)])
        out[name] = (b.text(), {"result": "violation", "violations": [
            {"property": p, "file": f"{name}.jsonl", "line": at} for at, p in found]})

    A, B = cmd(0, "put x 1"), cmd(1, "put x 2")

    # MP-AGREEMENT: r1 leads ballot (2,r1) and ignores the value its promise quorum
    # reports for slot 0 (the ignore-promised-values bug): A and B both chosen.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    b.ev("c0", "request", req=1, op=B["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, A, [1, "r0"], ["r0", "r1"], ["r0"])
    b.ev("r0", "decide", slot=0, cmd=A)
    mp_phase1(b, [2, "r1"], ["r1", "r2"], {"r1": [[0, [1, "r0"], A]]})
    ignored = len(b.lines) + 1  # r1's accept of B, over the A its quorum reported (P2c)
    mp_chosen(b, 0, B, [2, "r1"], ["r1", "r2"], ["r2"])
    violation("mp-agreement", b, "MP-AGREEMENT", b.ev("r2", "decide", slot=0, cmd=B),
              ("MP-PROPOSAL", ignored), ("MP-AGREEMENT", ignored + 6))  # r2's vote chooses B

    # MP-VALIDITY: the leader proposes a command no client issued.
    b = mp()
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    forged = cmd(7, "drop table")
    mp_chosen(b, 0, forged, [1, "r0"], ["r0", "r1"], ["r1"])
    violation("mp-validity", b, "MP-VALIDITY", b.ev("r1", "decide", slot=0, cmd=forged))

    # MP-LOG-PREFIX: r1 executes slot 1 while slot 0 is still open.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    b.ev("c0", "request", req=1, op=B["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, A, [1, "r0"], ["r0", "r1"], ["r0"])
    mp_chosen(b, 1, B, [1, "r0"], ["r0", "r1"], ["r1"])
    b.ev("r1", "decide", slot=1, cmd=B)
    violation("mp-log-prefix", b, "MP-LOG-PREFIX",
              b.ev("r1", "execute", slot=1, cmd=B, result="ok"))

    # MP-AT-MOST-ONCE: A is chosen in two slots (a retried request, legal) and r0
    # applies it twice instead of skipping the duplicate.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    for slot in (0, 1):
        mp_chosen(b, slot, A, [1, "r0"], ["r0", "r1"], ["r0"])
        b.ev("r0", "decide", slot=slot, cmd=A)
    b.ev("r0", "execute", slot=0, cmd=A, result="ok")
    violation("mp-at-most-once", b, "MP-AT-MOST-ONCE",
              b.ev("r0", "execute", slot=1, cmd=A, result="ok"))

    # MP-QUORUM-CERT: r2 decides on its own acceptor's vote alone (1 of 3).
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, A, [1, "r0"], ["r2"], ["r2"])
    violation("mp-quorum-cert", b, "MP-QUORUM-CERT", b.ev("r2", "decide", slot=0, cmd=A))

    # MP-PROMISE: r1 promises ballot (2,r2), then accepts in the lower ballot (1,r0).
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_phase1(b, [2, "r2"], ["r1", "r2"])
    b.deliver("r0", R3, {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": A})
    b.send("r1", R3, {"type": "accepted", "ballot": [1, "r0"], "slot": 0, "cmd": A})
    violation("mp-promise", b, "MP-PROMISE", len(b.lines))

    # MP-PROMISE-REPORT: r1 accepted A in ballot (1,r0), then promises (2,r2) reporting
    # B there: a promise that lies about what its acceptor accepted.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    b.ev("c0", "request", req=1, op=B["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, A, [1, "r0"], ["r0", "r1"], ["r0"])
    b.deliver("r2", R3, {"type": "prepare", "ballot": [2, "r2"]})
    b.send("r1", ["r2"], {"type": "promise", "ballot": [2, "r2"],
                          "accepted": [[0, [1, "r0"], B]]})
    violation("mp-promise-report", b, "MP-PROMISE-REPORT", len(b.lines))

    # MP-AGREEMENT by one learner: r0 decides A in slot 0, then changes its mind.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    b.ev("c0", "request", req=1, op=B["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, A, [1, "r0"], ["r0", "r1"], ["r0"])
    b.ev("r0", "decide", slot=0, cmd=A)
    line = b.ev("r0", "decide", slot=0, cmd=B)  # without votes for B, too
    violation("mp-decides-twice", b, "MP-AGREEMENT", line, ("MP-QUORUM-CERT", line))

    # MP-CLIENT: the client accepts a result no replica replied.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    mid = b.send("c0", ["r0"], {"type": "request", "cmd": A})
    b.recv("r0", mid, "c0")
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, A, [1, "r0"], ["r0", "r1"], ["r0"])
    b.ev("r0", "decide", slot=0, cmd=A)
    b.ev("r0", "execute", slot=0, cmd=A, result="ok")
    b.deliver("r0", ["c0"], {"type": "reply", "client": "c0", "req": 0, "result": "ok"})
    line = b.ev("c0", "result", req=0, result="ok 2")
    violation("mp-client", b, "MP-CLIENT", line, ("KV-LINEARIZABLE", line))  # a put answers ok

    # CONFORMANCE (with --conformance): every invariant holds, but r1's acceptor
    # votes (phase 2b) for a proposal no leader made: no 2a in ballot (1,r0) exists,
    # so no state of the MultiPaxos model enables Accept.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    line = b.ev("r1", "send", msg_id="r1-vote", to=R3,
                msg={"type": "accepted", "ballot": [1, "r0"], "slot": 0, "cmd": A})
    out["mp-unproposed-vote"] = (b.text(), {
        "args": ["--conformance"], "result": "violation", "violations": [],
        "conformance": {"file": "mp-unproposed-vote.jsonl", "line": line}})

    # NET-AUTHENTIC: r1 receives a promise "from r0" that r0, which logs, never sent.
    b = mp()
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    violation("net-fabricated", b, "NET-AUTHENTIC", b.recv("r1", "r0-m999", "r0"))

    # -- PBFT, n = 4, f = 1 ------------------------------------------------------------
    def pb(**h: object) -> Builder:
        return Builder("pbft", R4, ["c0"], 1, **h)

    digests = {"dA": A, "dB": B, "dX": cmd(5, "transfer all")}

    def commits(b: Builder, signers: list[str], to: list[str], n: int, d: str, view: int = 0,
                faulty: tuple[str, ...] = ()) -> None:
        """Each correct signer is prepared first (Castro & Liskov §4.2: the primary
        r0's PRE-PREPARE and PREPAREs from two others, received), then all commit."""
        for s in signers:
            if s in faulty:
                continue
            b.deliver("r0", [s], {"type": "pre-prepare", "view": view, "n": n, "digest": d,
                                  "cmd": digests[d]})
            for p in [x for x in R4 if x not in ("r0", s)][:2]:
                b.deliver(p, [s], {"type": "prepare", "view": view, "n": n, "digest": d})
        for s in signers:
            b.deliver(s, to, {"type": "commit", "view": view, "n": n, "digest": d})

    # PBFT-AGREEMENT: Byzantine primary r0 equivocates and the buggy r2 commits both
    # digests; r1 and r3 each see 2f+1 commits, for different requests.
    b = pb(byzantine=["r0"])
    b.ev("c0", "request", req=0, op=A["op"])
    b.ev("c0", "request", req=1, op=B["op"])
    commits(b, ["r0", "r1", "r2"], ["r1"], 1, "dA", faulty=("r0",))
    b.ev("r1", "decide", view=0, n=1, digest="dA")
    commits(b, ["r0", "r2", "r3"], ["r3"], 1, "dB", faulty=("r0",))
    violation("pbft-agreement", b, "PBFT-AGREEMENT", b.ev("r3", "decide", view=0, n=1, digest="dB"))

    # PBFT-VALIDITY: committed properly, but the request was never issued.
    b = pb()
    commits(b, ["r0", "r1", "r2"], ["r1"], 1, "dX")
    b.ev("r1", "decide", view=0, n=1, digest="dX")
    violation("pbft-validity", b, "PBFT-VALIDITY",
              b.ev("r1", "execute", n=1, digest="dX", cmd=cmd(5, "transfer all"), result="ok"))

    # PBFT-COMMIT-CERT: r1 commits with 2 matching COMMITs; it needs 3.
    b = pb()
    b.ev("c0", "request", req=0, op=A["op"])
    commits(b, ["r0", "r1"], ["r1"], 1, "dA")
    violation("pbft-commit-cert", b, "PBFT-COMMIT-CERT", b.ev("r1", "decide", view=0, n=1, digest="dA"))

    # PBFT-VIEW-MONOTONE: r1 moves to view 1, then prepares in view 0.
    b = pb()
    b.deliver("r1", R4, {"type": "view-change", "view": 1, "prepared": []})
    b.send("r1", R4, {"type": "prepare", "view": 0, "n": 1, "digest": "dA"})
    violation("pbft-view-monotone", b, "PBFT-VIEW-MONOTONE", len(b.lines))

    # PBFT-CLIENT: the client accepts on one reply; it needs f+1 = 2 matching.
    b = pb()
    b.ev("c0", "request", req=0, op=A["op"])
    b.deliver("r1", ["c0"], {"type": "reply", "view": 0, "client": "c0", "req": 0, "result": "ok"})
    b.deliver("r2", ["c0"], {"type": "reply", "view": 0, "client": "c0", "req": 0, "result": "no"})
    violation("pbft-client", b, "PBFT-CLIENT", b.ev("c0", "result", req=0, result="ok"))

    # PBFT-AT-MOST-ONCE: A committed at n=1 and n=2; r1 applies it twice.
    b = pb()
    b.ev("c0", "request", req=0, op=A["op"])
    for n in (1, 2):
        commits(b, ["r0", "r1", "r2"], ["r1"], n, "dA")
        b.ev("r1", "decide", view=0, n=n, digest="dA")
    b.ev("r1", "execute", n=1, digest="dA", cmd=A, result="ok")
    violation("pbft-at-most-once", b, "PBFT-AT-MOST-ONCE",
              b.ev("r1", "execute", n=2, digest="dA", cmd=A, result="ok"))

    # PBFT-LOG-PREFIX: r1 executes n=2 before n=1.
    b = pb()
    b.ev("c0", "request", req=0, op=A["op"])
    b.ev("c0", "request", req=1, op=B["op"])
    commits(b, ["r0", "r1", "r2"], ["r1"], 2, "dB")
    b.ev("r1", "decide", view=0, n=2, digest="dB")
    violation("pbft-log-prefix", b, "PBFT-LOG-PREFIX",
              b.ev("r1", "execute", n=2, digest="dB", cmd=B, result="ok"))

    # PBFT-PREPARED, and CONFORMANCE (with --conformance): r1 sends COMMIT before it
    # is prepared (it has the pre-prepare and no PREPARE from anyone), a step no state
    # of the PBFT model enables.
    b = pb()
    b.ev("c0", "request", req=0, op=A["op"])
    b.deliver("c0", ["r0"], {"type": "request", "cmd": A})
    b.deliver("r0", ["r1", "r2", "r3"], {"type": "pre-prepare", "view": 0, "n": 1,
                                         "digest": "dA", "cmd": A})
    line = b.ev("r1", "send", msg_id="r1-early", to=R4,
                msg={"type": "commit", "view": 0, "n": 1, "digest": "dA"})
    out["pbft-unprepared-commit"] = (b.text(), {
        "args": ["--conformance"], "result": "violation", "violations": [
            {"property": "PBFT-PREPARED", "file": "pbft-unprepared-commit.jsonl", "line": line}],
        "conformance": {"file": "pbft-unprepared-commit.jsonl", "line": line}})

    service_samples(violation)

    # -- input rules -----------------------------------------------------------------
    def invalid(name: str, text: str, line: int | None, says: str) -> None:
        out[name] = (text, {"result": "invalid-input", "file": f"{name}.jsonl", "line": line,
                            "error_contains": says})

    good = mp()
    mp_phase1(good, [1, "r0"], ["r0", "r1"])
    lines = good.lines

    t = lines[:3] + ['{"kind":"recv","node":"r1","seq":0,'] + lines[3:]
    invalid("bad-json", "\n".join(t) + "\n", 4, "not valid JSON")

    t = list(lines)
    t[1] = t[1].replace('"ballot":[1,"r0"]', '"ballot":[1,0]')
    invalid("bad-field", "\n".join(t) + "\n", 2, "field send.msg.prepare.ballot.1")

    t = lines[:2] + ['{"kind":"gossip","node":"r0","seq":1}'] + lines[2:]
    invalid("unknown-kind", "\n".join(t) + "\n", 3, "unknown kind 'gossip'")

    t = list(lines)
    ev = json.loads(t[5])
    ev["seq"] -= 1
    t[5] = dump(ev)
    invalid("duplicate-seq", "\n".join(t) + "\n", 6, "duplicate seq")

    invalid("empty", "", None, "the file is empty")

    # a recv whose payload copy contradicts the send is NET-AUTHENTIC, not input:
    b = mp()
    mid = b.send("r0", ["r1"], {"type": "prepare", "ballot": [1, "r0"]})
    line = b.ev("r1", "recv", msg_id=mid, msg={"type": "prepare", "ballot": [9, "r0"]}, **{"from": "r0"})
    violation("net-altered", b, "NET-AUTHENTIC", line)

    # A header inside a file starts the next file of a concatenated run; it must agree.
    t = [lines[0], lines[0].replace('"f":1', '"f":0')] + lines[1:]
    invalid("two-headers", "\n".join(t) + "\n", 2, "disagrees: f is 0 here")

    t = list(lines)
    ev = json.loads(t[3])
    ev["node"] = "r7"
    t[3] = dump(ev)
    invalid("unknown-node", "\n".join(t) + "\n", 4, "'r7' is not a node")

    # A crashed replica logs nothing until its restart: r1 crashes after promising,
    # then votes in phase 2 before its restart line.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    b.ev("r1", "crash")
    b.deliver("r0", ["r0", "r2"], {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": A})
    line = b.ev("r1", "send", msg_id="r1-ghost", to=R3,
                msg={"type": "accepted", "ballot": [1, "r0"], "slot": 0, "cmd": A})
    b.ev("r1", "restart")
    invalid("crashed-node-logs", b.text(), line, "after its crash")

    # format 2 header and payload rules
    roles = {"p1": ["proposer"], "a1": ["acceptor"], "a2": ["acceptor"], "a3": ["acceptor"]}
    f2 = _v2(["p1", "a1", "a2", "a3"], ["c0"], 1, roles={**roles, "a3": ["leader"]})
    f2.send("p1", ["a1", "a2", "a3"], {"type": "prepare", "ballot": [1, "p1"]})
    invalid("v2-bad-role", f2.text(), 1, "header field roles.a3.0: Input should be 'proposer'")
    f2 = _v2(["p1", "a1", "a2", "a3"], ["c0"], 1, roles=roles, quorums="majorty")
    f2.send("p1", ["a1", "a2", "a3"], {"type": "prepare", "ballot": [1, "p1"]})
    invalid("v2-bad-quorums", f2.text(), 1, "header field quorums: unknown quorum system 'majorty'")
    f1 = Builder("multipaxos", ["p1", "a1", "a2", "a3"], ["c0"], 1, roles=roles)
    f1.send("p1", ["a1", "a2", "a3"], {"type": "prepare", "ballot": [1, "p1"]})
    invalid("v1-with-roles", f1.text(), 1, "header field roles: needs version 2")
    f2 = _v2(["p1", "a1", "a2", "a3"], ["c0"], 1, roles=roles)
    f2.send("p1", ["a1", "a2", "a3"], {"type": "prepare", "ballot": [1, "p1"], "slot": 0})
    f2.ev("a1", "note", text="timer")
    f2.send("p1", ["a1", "a2", "a3"], {"type": "prepare", "ballot": [2, "p1"], "slot": 0,
                                       "from_slot": 0})
    invalid("v2-slot-and-from-slot", f2.text(), len(f2.lines),
            "field send.msg.prepare.from_slot: give slot (phase 1 of one instance) or from_slot")
    return out


# -- what clients saw (models/common/service.py) ------------------------------------------
# Runs in which the protocol's invariants hold and clients were served wrong results (issue
# #14): each is rejected by KV-LINEARIZABLE or by one of the execution cross-checks.


def service_samples(violation) -> None:
    def reply(b: Builder, node: str, c: dict, result: str, **extra: object) -> int:
        """`node` replies `result` to c's client, who receives it: the send's line."""
        mid = b.send(node, [c["client"]], {"type": "reply", **extra, "client": c["client"],
                                           "req": c["req"], "result": result})
        b.recv(c["client"], mid, node)
        return len(b.lines) - 1

    def request(b: Builder, c: dict, to: str) -> None:
        b.ev(c["client"], "request", req=c["req"], op=c["op"])
        b.deliver(c["client"], [to], {"type": "request", "cmd": c})

    def phase2(b: Builder, slot: int, c: dict, ballot: list, acceptors: list[str],
               to: list[str], learners: list[str]) -> None:
        """accept sent to R3, received by `to`; votes of `acceptors` reach `learners`,
        who decide."""
        mid = b.send(ballot[1], R3, {"type": "accept", "ballot": ballot, "slot": slot, "cmd": c})
        for x in to:
            b.recv(x, mid, ballot[1])
        for a in acceptors:
            b.deliver(a, learners, {"type": "accepted", "ballot": ballot, "slot": slot, "cmd": c})
        for x in learners:
            b.ev(x, "decide", slot=slot, cmd=c)

    def takeover(b: Builder, ballot: list, reports: dict[str, list]) -> None:
        """ballot's leader runs phase 1 with the two replicas other than r0, which hears
        nothing (crashed, or cut off)."""
        mid = b.send(ballot[1], R3, {"type": "prepare", "ballot": ballot})
        for a in ("r1", "r2"):
            b.recv(a, mid, ballot[1])
            b.deliver(a, [ballot[1]], {"type": "promise", "ballot": ballot,
                                       "accepted": reports.get(a, [])})

    # SMR-REPLY-AFTER-EXECUTE: leader r0 replies to c0's put before the put is decided,
    # then crashes; r1 takes over and decides c0's next request, a get, in slot 0: the
    # put never took effect, and the get reads nothing (KV-LINEARIZABLE).
    b = mp()
    put, get = cmd(0, "put x 1"), cmd(1, "get x")
    request(b, put, "r0")
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    b.send("r0", R3, {"type": "accept", "ballot": [1, "r0"], "slot": 0, "cmd": put})
    early = reply(b, "r0", put, "ok")
    b.ev("c0", "result", req=0, result="ok")
    b.ev("r0", "crash")
    request(b, get, "r1")
    takeover(b, [2, "r1"], {})
    phase2(b, 0, get, [2, "r1"], ["r1", "r2"], ["r1", "r2"], ["r1", "r2"])
    for x in ("r1", "r2"):
        b.ev(x, "execute", slot=0, cmd=get, result="")
    reply(b, "r1", get, "")
    violation("smr-reply-before-decide", b, "SMR-REPLY-AFTER-EXECUTE", early,
              ("KV-LINEARIZABLE", b.ev("c0", "result", req=1, result="")))

    # SMR-REPLY-RESULT: r0 executes c0's get of a key never written ("") and replies
    # "1"; the client accepts it (KV-LINEARIZABLE).
    b = mp()
    get = cmd(0, "get x")
    request(b, get, "r0")
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, get, [1, "r0"], ["r0", "r1"], ["r0"])
    b.ev("r0", "decide", slot=0, cmd=get)
    b.ev("r0", "execute", slot=0, cmd=get, result="")
    wrong = reply(b, "r0", get, "1")
    violation("smr-reply-result", b, "SMR-REPLY-RESULT", wrong,
              ("KV-LINEARIZABLE", b.ev("c0", "result", req=0, result="1")))

    # SMR-DETERMINISM: r0 and r1 execute the same append in slot 1 from the same state
    # and compute different values (a non-deterministic state machine). The client
    # hears r0's, which the store allows: only the replicas disagree.
    b = mp()
    put, app = cmd(0, "put x 1"), cmd(1, "append x 2")
    request(b, put, "r0")
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    for slot, c, results in ((0, put, ("ok", "ok")), (1, app, ("12", "21"))):
        if slot:
            request(b, c, "r0")
        mp_chosen(b, slot, c, [1, "r0"], ["r0", "r1"], ["r0", "r1"])
        lines = []
        for x, result in zip(("r0", "r1"), results):
            b.ev(x, "decide", slot=slot, cmd=c)
            lines.append(b.ev(x, "execute", slot=slot, cmd=c, result=result))
        reply(b, "r0", c, results[0])
        b.ev("c0", "result", req=c["req"], result=results[0])
    violation("smr-determinism", b, "SMR-DETERMINISM", lines[1])

    # SMR-REPLY-AFTER-EXECUTE: c0's get is never proposed: r1, which it asked, answers
    # from its own state. The value happens to be right (the history is linearizable);
    # the reply is for a command no replica executed.
    b = mp()
    put, get = cmd(0, "put x 1"), cmd(1, "get x")
    request(b, put, "r0")
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, put, [1, "r0"], ["r0", "r1"], ["r0", "r1"])
    for x in ("r0", "r1"):
        b.ev(x, "decide", slot=0, cmd=put)
        b.ev(x, "execute", slot=0, cmd=put, result="ok")
    reply(b, "r0", put, "ok")
    b.ev("c0", "result", req=0, result="ok")
    request(b, get, "r1")
    local = reply(b, "r1", get, "1")
    b.ev("c0", "result", req=1, result="1")
    violation("smr-reply-unexecuted", b, "SMR-REPLY-AFTER-EXECUTE", local)

    # PBFT, SMR-REPLY-RESULT: r1 and r2 execute c0's get (of nothing: "") and both reply
    # "1": f+1 matching replies (PBFT-CLIENT holds) of a result neither computed.
    b = Builder("pbft", R4, ["c0"], 1)
    get = cmd(0, "get x")
    request(b, get, "r0")
    # Castro & Liskov §4.2: pre-prepare, every backup prepares, every replica commits.
    b.deliver("r0", R4[1:], {"type": "pre-prepare", "view": 0, "n": 1, "digest": "dG",
                             "cmd": get})
    for step in ("prepare", "commit"):
        for x in (R4[1:] if step == "prepare" else R4):
            b.deliver(x, [y for y in R4 if y != x], {"type": step, "view": 0, "n": 1,
                                                     "digest": "dG"})
    wrong = []
    for x in ("r1", "r2"):
        b.ev(x, "decide", view=0, n=1, digest="dG")
        b.ev(x, "execute", n=1, digest="dG", cmd=get, result="")
    for x in ("r1", "r2"):
        wrong.append(reply(b, x, get, "1", view=0))
    violation("pbft-reply-result", b, "SMR-REPLY-RESULT", wrong[0],
              ("SMR-REPLY-RESULT", wrong[1]),
              ("KV-LINEARIZABLE", b.ev("c0", "result", req=0, result="1")))

    # KV-LINEARIZABLE alone, a stale read: the replicas log decisions, not executions.
    # c0's put x 1 is chosen in slot 0; r1 takes over from r0, which it cannot reach,
    # and chooses c0's put x 2 in slot 1; then the deposed r0 answers c0's get from its
    # own state: "1", after put x 2 had returned to the same client.
    b = mp()
    put1, put2, get = cmd(0, "put x 1"), cmd(1, "put x 2"), cmd(2, "get x")
    request(b, put1, "r0")
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, put1, [1, "r0"], ["r0", "r1"], R3)
    for x in R3:
        b.ev(x, "decide", slot=0, cmd=put1)
    reply(b, "r0", put1, "ok")
    b.ev("c0", "result", req=0, result="ok")
    request(b, put2, "r1")
    takeover(b, [2, "r1"], {"r1": [[0, [1, "r0"], put1]]})
    phase2(b, 1, put2, [2, "r1"], ["r1", "r2"], ["r1", "r2"], ["r1", "r2"])
    reply(b, "r1", put2, "ok")
    b.ev("c0", "result", req=1, result="ok")
    request(b, get, "r0")
    reply(b, "r0", get, "1")
    violation("kv-stale-read", b, "KV-LINEARIZABLE", b.ev("c0", "result", req=2, result="1"))


# -- format 2 (roles, quorum systems, per-slot phase 1) -----------------------------------
# Written step by step after Paxos Made Simple (Lamport 2001): phase 1a prepare(n) to the
# acceptors; 1b promise(n) reporting the highest-numbered proposal each accepted; 2a
# accept(n, v) with v that of the highest-numbered proposal among a quorum's promises (or
# any value when none reported one); 2b accepted(n, v) to the learners; a learner learns v
# once a (phase-2) quorum of acceptors accepted (n, v).


def _v2(nodes: list[str], clients: list[str], f: int, **header: object) -> Builder:
    return Builder("multipaxos", nodes, clients, f, version=2, **header)


def _client_request(b: Builder, client: str, req: int, op: str, to: str) -> dict:
    c = cmd(req, op, client)
    b.ev(client, "request", req=req, op=op)
    mid = b.send(client, [to], {"type": "request", "cmd": c})
    b.recv(to, mid, client)
    return c


def _answer(b: Builder, node: str, slot: int, c: dict, store: KVStore) -> None:
    """`node` applies slot's command to `store` and replies; the client accepts the
    result."""
    result = store.apply(c["op"])
    b.ev(node, "execute", slot=slot, cmd=c, result=result)
    b.deliver(node, [c["client"]], {"type": "reply", "client": c["client"], "req": c["req"],
                                     "result": result})
    b.ev(c["client"], "result", req=c["req"], result=result)


def roles_sample() -> str:
    """Proposer p1, acceptors a1..a3, learners l1, l2: separate processes (Paxos Made
    Simple §2). Phase 1 once for every slot (from_slot 0), then phase 2 per request;
    each learner decides on the votes of a majority of the three acceptors, l1 also
    executes and replies, l2 only learns."""
    acceptors, learners = ["a1", "a2", "a3"], ["l1", "l2"]
    roles = {"p1": ["proposer"], **{a: ["acceptor"] for a in acceptors},
             **{x: ["learner"] for x in learners}}
    b = _v2(["p1", *acceptors, *learners], ["c0"], 1, roles=roles)
    ballot = [1, "p1"]
    prep = b.send("p1", acceptors, {"type": "prepare", "ballot": ballot, "from_slot": 0})
    for a in acceptors:
        b.recv(a, prep, "p1")
        b.deliver(a, ["p1"], {"type": "promise", "ballot": ballot, "from_slot": 0, "accepted": []})
    store = KVStore()  # l1's
    for slot, op in enumerate(["put x 1", "put y 2", "get x"]):
        c = _client_request(b, "c0", slot, op, "p1")
        acc = b.send("p1", acceptors, {"type": "accept", "ballot": ballot, "slot": slot, "cmd": c})
        votes = {}
        for a in acceptors:
            b.recv(a, acc, "p1")
            votes[a] = b.send(a, learners, {"type": "accepted", "ballot": ballot, "slot": slot,
                                            "cmd": c})
        # each learner hears a different majority first, then the third vote
        for learner, order in (("l1", ["a1", "a2", "a3"]), ("l2", ["a3", "a2", "a1"])):
            b.recv(learner, votes[order[0]], order[0])
            b.recv(learner, votes[order[1]], order[1])
            b.ev(learner, "decide", slot=slot, cmd=c, ballot=ballot)
            b.recv(learner, votes[order[2]], order[2])
        _answer(b, "l1", slot, c, store)
    return b.text()


def competing_sample() -> str:
    """Two proposers compete for slot 0 with per-slot phase 1 (`slot` in prepare and
    promise). p2's higher ballot (1,p2) wins a2 and a3 after p1 had a majority for
    (1,p1): p1's accept is refused (nack) by a2 and a3 and accepted by a1 alone; p2's
    value B is chosen. p1 retries slot 0 with (2,p1) while its (1,p1) accept to a3 is
    still in flight; the promises report a1's (1,p1) A and a2's (1,p2) B, so p1 must
    propose B, the value of the highest-numbered proposal. Then p1 runs slot 1 for A."""
    acceptors = ["a1", "a2", "a3"]
    roles = {"p1": ["proposer"], "p2": ["proposer"], **{a: ["acceptor"] for a in acceptors},
             "l1": ["learner"]}
    b = _v2(["p1", "p2", *acceptors, "l1"], ["c0", "c1"], 1, roles=roles, quorums="majority")
    A = _client_request(b, "c0", 0, "put x 1", "p1")
    B = _client_request(b, "c1", 0, "put x 2", "p2")
    b1, b2, b3 = [1, "p1"], [1, "p2"], [2, "p1"]

    def promise(a: str, ballot: list, to: str, accepted: list, slot: int = 0) -> str:
        return b.send(a, [to], {"type": "promise", "ballot": ballot, "slot": slot,
                                "accepted": accepted})

    def vote(a: str, ballot: list, slot: int, c: dict) -> str:
        return b.send(a, ["l1"], {"type": "accepted", "ballot": ballot, "slot": slot, "cmd": c})

    def nack(a: str, ballot: list, promised: list) -> str:
        return b.send(a, ["p1"], {"type": "nack", "ballot": ballot, "promised": promised, "slot": 0})

    prep1 = b.send("p1", acceptors, {"type": "prepare", "ballot": b1, "slot": 0})
    b.recv("a1", prep1, "p1")
    pr_a1 = promise("a1", b1, "p1", [])
    b.recv("a2", prep1, "p1")
    pr_a2 = promise("a2", b1, "p1", [])
    b.recv("p1", pr_a1, "a1")
    b.recv("p1", pr_a2, "a2")  # a majority promised (1,p1)
    prep2 = b.send("p2", acceptors, {"type": "prepare", "ballot": b2, "slot": 0})
    b.recv("a2", prep2, "p2")
    pr2_a2 = promise("a2", b2, "p2", [])
    b.recv("a3", prep1, "p1")
    pr_a3 = promise("a3", b1, "p1", [])
    b.recv("a3", prep2, "p2")
    pr2_a3 = promise("a3", b2, "p2", [])
    b.recv("p2", pr2_a2, "a2")
    b.recv("p2", pr2_a3, "a3")  # a majority promised (1,p2), none accepted anything
    acc1 = b.send("p1", acceptors, {"type": "accept", "ballot": b1, "slot": 0, "cmd": A})
    b.recv("p1", pr_a3, "a3")  # a late promise
    b.recv("a1", acc1, "p1")
    v_a1 = vote("a1", b1, 0, A)
    b.recv("a2", acc1, "p1")
    n_a2 = nack("a2", b1, b2)  # a2 promised (1,p2) > (1,p1)
    acc2 = b.send("p2", acceptors, {"type": "accept", "ballot": b2, "slot": 0, "cmd": B})
    b.recv("a2", acc2, "p2")
    v2_a2 = vote("a2", b2, 0, B)
    b.recv("a3", acc2, "p2")
    v2_a3 = vote("a3", b2, 0, B)
    b.recv("l1", v_a1, "a1")
    b.recv("l1", v2_a2, "a2")
    b.recv("l1", v2_a3, "a3")
    b.ev("l1", "decide", slot=0, cmd=B, ballot=b2)  # a2 and a3 accepted (1,p2) B
    b.recv("p1", n_a2, "a2")
    # p1 retries slot 0 with a higher ballot; its (1,p1) accept to a3 is still in flight
    prep3 = b.send("p1", acceptors, {"type": "prepare", "ballot": b3, "slot": 0})
    b.recv("a1", prep3, "p1")
    pr3_a1 = promise("a1", b3, "p1", [[0, b1, A]])
    b.recv("a2", prep3, "p1")
    pr3_a2 = promise("a2", b3, "p1", [[0, b2, B]])
    b.recv("p1", pr3_a1, "a1")
    b.recv("p1", pr3_a2, "a2")  # highest-numbered proposal reported: (1,p2) B
    acc3 = b.send("p1", acceptors, {"type": "accept", "ballot": b3, "slot": 0, "cmd": B})
    b.recv("a3", acc1, "p1")  # the old (1,p1) accept arrives: a3 promised (1,p2)
    n_a3 = nack("a3", b1, b2)
    b.recv("a3", prep3, "p1")
    pr3_a3 = promise("a3", b3, "p1", [[0, b2, B]])
    for a in acceptors:
        b.recv(a, acc3, "p1")
    v3 = {a: vote(a, b3, 0, B) for a in acceptors}
    b.recv("p1", n_a3, "a3")
    b.recv("p1", pr3_a3, "a3")
    for a in acceptors:
        b.recv("l1", v3[a], a)
    b.recv("p2", b.send("a1", ["p2"], {"type": "nack", "ballot": b2, "promised": b3, "slot": 0}), "a1")
    # p1 proposes A again, in slot 1: a fresh instance, phase 1 for that slot only
    prep4 = b.send("p1", acceptors, {"type": "prepare", "ballot": b1, "slot": 1})
    for a in acceptors[:2]:
        b.recv(a, prep4, "p1")
        b.recv("p1", promise(a, b1, "p1", [], slot=1), a)
    acc4 = b.send("p1", acceptors, {"type": "accept", "ballot": b1, "slot": 1, "cmd": A})
    v4 = {}
    for a in acceptors:
        b.recv(a, acc4, "p1")
        v4[a] = vote(a, b1, 1, A)
    b.recv("l1", v4["a2"], "a2")
    b.recv("l1", v4["a3"], "a3")
    b.ev("l1", "decide", slot=1, cmd=A, ballot=b1)
    b.recv("l1", v4["a1"], "a1")
    b.recv("a3", prep4, "p1")  # late, after a3 accepted in slot 1's ballot: promises it still
    b.recv("p1", promise("a3", b1, "p1", [[1, b1, A]], slot=1), "a3")
    store = KVStore()
    _answer(b, "l1", 0, B, store)
    _answer(b, "l1", 1, A, store)
    return b.text()


def explicit_quorums_sample() -> str:
    """Four replicas (every role each) with an explicit flexible quorum system: any
    three for phase 1, {r0, r1} or {r2, r3} for phase 2 (every phase-1 quorum meets
    every phase-2 one). The replicas learn from r0's and r1's votes: two of four, a
    phase-2 quorum here though no majority. r3 never receives the prepare (lost)."""
    nodes = ["r0", "r1", "r2", "r3"]
    q1 = [["r0", "r1", "r2"], ["r0", "r1", "r3"], ["r0", "r2", "r3"], ["r1", "r2", "r3"]]
    b = _v2(nodes, ["c0"], 1, quorums={"phase1": q1, "phase2": [["r0", "r1"], ["r2", "r3"]]})
    ballot = [1, "r0"]
    prep = b.send("r0", nodes, {"type": "prepare", "ballot": ballot, "from_slot": 0})
    for a in nodes[:3]:
        b.recv(a, prep, "r0")
        b.deliver(a, ["r0"], {"type": "promise", "ballot": ballot, "from_slot": 0, "accepted": []})
    stores, computed = {x: KVStore() for x in nodes}, {}
    for slot, op in enumerate(["put a 1", "put b 2", "put a 3"]):
        c = _client_request(b, "c0", slot, op, "r0")
        acc = b.send("r0", nodes, {"type": "accept", "ballot": ballot, "slot": slot, "cmd": c})
        votes = {}
        for a in nodes:
            b.recv(a, acc, "r0")
            votes[a] = b.send(a, nodes, {"type": "accepted", "ballot": ballot, "slot": slot, "cmd": c})
        for x in nodes:
            b.recv(x, votes["r0"], "r0")
            b.recv(x, votes["r1"], "r1")
            b.ev(x, "decide", slot=slot, cmd=c, ballot=ballot)
            computed[x] = stores[x].apply(op)
            b.ev(x, "execute", slot=slot, cmd=c, result=computed[x])
            b.recv(x, votes["r2"], "r2")
            b.recv(x, votes["r3"], "r3")
        result = computed["r0"]
        b.deliver("r0", ["c0"], {"type": "reply", "client": "c0", "req": slot, "result": result})
        b.ev("c0", "result", req=slot, result=result)
    return b.text()


def seven_nodes_sample() -> str:
    """Seven replicas (f = 3, majorities of 4), two clients: the synthetic runner's
    MultiPaxos, in a version-2 header."""
    events = list(multipaxos_run(replicas=7, clients=2, requests=2, seed=21))
    events[0] = {**events[0], "version": 2, "quorums": "majority"}
    return "\n".join(dump(e) for e in events) + "\n"


def per_node(events: list[dict]) -> dict[str, str]:
    """Split a merged run into per-node files (each with its own header)."""
    header = events[0]
    files: dict[str, list[str]] = {}
    for ev in events[1:]:
        files.setdefault(ev["node"], []).append(dump(ev))
    return {node: "\n".join([dump({**header, "node": node})] + lines) + "\n"
            for node, lines in files.items()}


def good_samples() -> dict[str, str | dict[str, str]]:
    out: dict[str, str | dict[str, str]] = {}
    out["multipaxos.jsonl"] = "\n".join(dump(e) for e in multipaxos_run(
        requests=3, heartbeats=True, seed=1)) + "\n"
    out["multipaxos-takeover.jsonl"] = "\n".join(dump(e) for e in multipaxos_run(
        requests=6, takeover=True, seed=3)) + "\n"
    out["pbft.jsonl"] = "\n".join(dump(e) for e in pbft_run(requests=3, seed=2)) + "\n"
    # Within the PBFT model's bounds (3 clients, one request each): conforms too.
    out["pbft-three-clients.jsonl"] = "\n".join(dump(e) for e in pbft_run(
        clients=3, requests=1, seed=8)) + "\n"
    out["pbft-per-node"] = per_node(list(pbft_run(requests=2, seed=5)))
    # The primary stops after ordering some requests; the others time out, change to
    # view 1 and re-propose: number 2 commits in view 0 at one replica, in view 1 at
    # the others (Castro and Liskov §4.4).
    out["pbft-view-change.jsonl"] = "\n".join(dump(e) for e in pbft_run(
        clients=2, requests=2, seed=16, view_change=True)) + "\n"
    # A merged file sorted by skewed wall clocks: r2's clock runs 50 ms behind, so some
    # of its recvs precede their sends in the file; the reader must not care.
    events = list(multipaxos_run(requests=2, seed=4))
    skew = {"r2": -0.05}
    for i, ev in enumerate(events[1:], 1):
        ev["ts"] = round(1000 + i * 0.001 + skew.get(ev["node"], 0.0), 4)
    ordered = [events[0]] + sorted(events[1:], key=lambda e: e["ts"])
    out["multipaxos-skewed-clocks.jsonl"] = "\n".join(dump(e) for e in ordered) + "\n"
    # A replica crashed while writing its last line: reported, tolerated.
    text = "\n".join(dump(e) for e in pbft_run(requests=2, seed=6)) + "\n"
    out["pbft-truncated.jsonl"] = text + '{"kind":"recv","node":"r1","se'
    # format 2
    out["multipaxos-roles.jsonl"] = roles_sample()
    out["multipaxos-competing-proposers.jsonl"] = competing_sample()
    out["multipaxos-explicit-quorums.jsonl"] = explicit_quorums_sample()
    out["multipaxos-7-nodes.jsonl"] = seven_nodes_sample()
    return out


def main() -> None:
    for sub in ("good", "bad"):
        shutil.rmtree(ROOT / sub, ignore_errors=True)
        (ROOT / sub).mkdir(parents=True)
    for name, content in good_samples().items():
        if isinstance(content, dict):
            (ROOT / "good" / name).mkdir()
            for node, text in content.items():
                (ROOT / "good" / name / f"{node}.jsonl").write_text(text, encoding="utf-8")
        else:
            (ROOT / "good" / name).write_text(content, encoding="utf-8")
    for name, (text, expected) in bad_samples().items():
        (ROOT / "bad" / f"{name}.jsonl").write_text(text, encoding="utf-8")
        (ROOT / "bad" / f"{name}.expected.json").write_text(
            json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    # Headers that disagree: two per-node files of one run, one says f=1, one f=0.
    d = ROOT / "bad" / "headers-disagree"
    d.mkdir()
    files = per_node(list(multipaxos_run(requests=1, seed=7)))
    files["r1"] = files["r1"].replace('"f":1', '"f":0', 1)
    for node, text in files.items():
        (d / f"{node}.jsonl").write_text(text, encoding="utf-8")
    (ROOT / "bad" / "headers-disagree.expected.json").write_text(json.dumps(
        {"result": "invalid-input", "file": "r1.jsonl", "line": 1,
         "error_contains": "headers disagree"}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
