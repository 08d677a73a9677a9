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

from smrcheck.traces.synth import multipaxos_run, pbft_run

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

    def violation(name: str, b: Builder, prop: str, line: int) -> None:
        out[name] = (b.text(), {"result": "violation",
                                "violations": [{"property": prop, "file": f"{name}.jsonl", "line": line}]})

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
    mp_chosen(b, 0, B, [2, "r1"], ["r1", "r2"], ["r2"])
    violation("mp-agreement", b, "MP-AGREEMENT", b.ev("r2", "decide", slot=0, cmd=B))

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

    # MP-CLIENT: the client accepts a result no replica replied.
    b = mp()
    b.ev("c0", "request", req=0, op=A["op"])
    mid = b.send("c0", ["r0"], {"type": "request", "cmd": A})
    b.recv("r0", mid, "c0")
    mp_phase1(b, [1, "r0"], ["r0", "r1"])
    mp_chosen(b, 0, A, [1, "r0"], ["r0", "r1"], ["r0"])
    b.ev("r0", "decide", slot=0, cmd=A)
    b.ev("r0", "execute", slot=0, cmd=A, result="ok 1")
    b.deliver("r0", ["c0"], {"type": "reply", "client": "c0", "req": 0, "result": "ok 1"})
    violation("mp-client", b, "MP-CLIENT", b.ev("c0", "result", req=0, result="ok 2"))

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

    def commits(b: Builder, signers: list[str], to: list[str], n: int, d: str, view: int = 0) -> None:
        for s in signers:
            b.deliver(s, to, {"type": "commit", "view": view, "n": n, "digest": d})

    # PBFT-AGREEMENT: Byzantine primary r0 equivocates and the buggy r2 commits both
    # digests; r1 and r3 each see 2f+1 commits, for different requests.
    b = pb(byzantine=["r0"])
    b.ev("c0", "request", req=0, op=A["op"])
    b.ev("c0", "request", req=1, op=B["op"])
    commits(b, ["r0", "r1", "r2"], ["r1"], 1, "dA")
    b.ev("r1", "decide", view=0, n=1, digest="dA")
    commits(b, ["r0", "r2", "r3"], ["r3"], 1, "dB")
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

    # CONFORMANCE (with --conformance): every invariant holds, but r1 sends COMMIT
    # before it is prepared (it has the pre-prepare and no PREPARE from anyone), a
    # step no state of the PBFT model enables.
    b = pb()
    b.ev("c0", "request", req=0, op=A["op"])
    b.deliver("c0", ["r0"], {"type": "request", "cmd": A})
    b.deliver("r0", ["r1", "r2", "r3"], {"type": "pre-prepare", "view": 0, "n": 1,
                                         "digest": "dA", "cmd": A})
    line = b.ev("r1", "send", msg_id="r1-early", to=R4,
                msg={"type": "commit", "view": 0, "n": 1, "digest": "dA"})
    out["pbft-unprepared-commit"] = (b.text(), {
        "args": ["--conformance"], "result": "violation", "violations": [],
        "conformance": {"file": "pbft-unprepared-commit.jsonl", "line": line}})

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

    t = [lines[0], lines[0]] + lines[1:]
    invalid("two-headers", "\n".join(t) + "\n", 2, "second header")

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
    return out


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
