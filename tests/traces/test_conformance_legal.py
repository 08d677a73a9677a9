"""Legal runs conform, whatever order a merged file lists them in (issue 13, parts 2-3).

Conformance must never call a correct run a violation: each MultiPaxos behaviour below
is legal under Paxos Made Simple §2-3 and is written here as a version-1 trace, by a
small builder that plays the protocol (every acceptor's promise reports what it
accepted). Each must validate (exit 0) and conform.

And a verdict must not follow line order: every step is judged by what its node had
received, never by what other nodes logged earlier in the file. Each trace is
validated again in random interleavings that keep each node's own events in seq
order, and as a directory of per-node files; the verdict is the same every time,
for the legal runs and for the broken ones (a commit without a prepared certificate,
an accept of a 2a never received).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from smrcheck.checker.conformance import Conformance, OutsideModel
from smrcheck.checker.validate import validate_run
from smrcheck.models.multipaxos import trace_map as mp_map
from smrcheck.models.pbft import trace_map as pbft_map
from smrcheck.traces.reader import Merger, open_run

SAMPLES = Path(__file__).resolve().parents[2] / "traces" / "samples"
NODES = ["r0", "r1", "r2"]


def cmd(client: str, req: int, op: str) -> dict:
    return {"client": client, "req": req, "op": op}


class Trace:
    """A run written event by event: per-node seq, message ids, and for MultiPaxos
    the acceptors' accepted values, so that promises report what they must."""

    def __init__(self, protocol: str = "multipaxos", nodes=NODES, clients=("c0",), f: int = 1,
                 **header) -> None:
        self.nodes = list(nodes)
        self.header = {"kind": "header", "format": "smrtrace", "version": 1,
                       "protocol": protocol, "nodes": self.nodes, "clients": list(clients),
                       "f": f, **header}
        self.events: list[dict] = []
        self.seq: dict[str, int] = {}
        self.sender: dict[str, str] = {}
        self.msg: dict[str, dict] = {}
        self.acc: dict[str, dict[int, tuple]] = {r: {} for r in self.nodes}

    # -- any protocol ------------------------------------------------------------------

    def ev(self, kind: str, node: str, **fields) -> dict:
        e = {"kind": kind, "node": node, "seq": self.seq.get(node, 0), **fields}
        self.seq[node] = e["seq"] + 1
        self.events.append(e)
        return e

    def send(self, node: str, to, msg: dict) -> str:
        mid = f"m{len(self.sender) + 1}"
        self.sender[mid], self.msg[mid] = node, msg
        self.ev("send", node, msg_id=mid, to=list(to), msg=msg)
        return mid

    def recv(self, node: str, mid: str) -> None:
        self.ev("recv", node, msg_id=mid, **{"from": self.sender[mid]})

    def write(self, path: Path, events: list[dict] | None = None) -> Path:
        lines = [self.header, *(self.events if events is None else events)]
        path.write_text("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
        return path

    def write_per_node(self, folder: Path) -> Path:
        folder.mkdir()
        for node in sorted({e["node"] for e in self.events}):
            lines = [{**self.header, "node": node}, *(e for e in self.events if e["node"] == node)]
            (folder / f"{node}.jsonl").write_text(
                "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))
        return folder

    # -- MultiPaxos ----------------------------------------------------------------------

    def request(self, client: str, req: int, op: str, leader: str, first: bool = True) -> dict:
        """The client issues (or, `first` False, retries) a request to the leader."""
        c = cmd(client, req, op)
        if first:
            self.ev("request", client, req=req, op=op)
        self.recv(leader, self.send(client, [leader], {"type": "request", "cmd": c}))
        return c

    def prepare(self, leader: str, rnd: int, promisers=(), to_self: bool = True) -> list:
        """Phase 1 of ballot [rnd, leader]; each of `promisers` receives it and promises."""
        b = [rnd, leader]
        to = [x for x in self.nodes if x != leader or to_self]
        mid = self.send(leader, to, {"type": "prepare", "ballot": b})
        for a in promisers:
            self.promise(a, mid)
        return b

    def promise(self, a: str, prepare_mid: str) -> None:
        self.recv(a, prepare_mid)
        b = self.msg[prepare_mid]["ballot"]
        leader = self.sender[prepare_mid]
        report = [[s, vb, c] for s, (vb, c) in sorted(self.acc[a].items())]
        self.recv(leader, self.send(a, [leader], {"type": "promise", "ballot": b,
                                                  "accepted": report}))

    def accept(self, leader: str, b: list, slot: int, c: dict | None) -> str:
        return self.send(leader, self.nodes, {"type": "accept", "ballot": b, "slot": slot,
                                              "cmd": c})

    def vote(self, a: str, accept_mid: str) -> str:
        self.recv(a, accept_mid)
        m = self.msg[accept_mid]
        self.acc[a][m["slot"]] = (m["ballot"], m["cmd"])
        return self.send(a, self.nodes, {"type": "accepted", "ballot": m["ballot"],
                                         "slot": m["slot"], "cmd": m["cmd"]})

    def learn(self, r: str, votes, execute: bool = True, applied: bool = True) -> None:
        """r hears the votes (its own it knows), decides, and executes."""
        for v in votes:
            if self.sender[v] != r:
                self.recv(r, v)
        m = self.msg[votes[0]]
        self.ev("decide", r, slot=m["slot"], cmd=m["cmd"])
        if execute:
            extra = {} if applied else {"applied": False}
            self.ev("execute", r, slot=m["slot"], cmd=m["cmd"], result="ok", **extra)


def verdict(path) -> tuple:
    r = validate_run([str(path)])
    return r.exit_code, r.result, r.conformance, tuple(sorted({v.property for v in r.violations}))


def assert_legal(trace: Trace, tmp_path: Path) -> None:
    r = validate_run([str(trace.write(tmp_path / "run.jsonl"))])
    detail = (r.violations, r.conformance_failure, r.warnings)
    assert (r.exit_code, r.result, r.conformance) == (0, "ok", "conforms"), detail


def interleavings(events: list[dict], count: int, seed: int = 1):
    """`count` random merges of the nodes' event sequences, each node's in seq order."""
    rng = random.Random(seed)
    by_node: dict[str, list[dict]] = {}
    for e in events:
        by_node.setdefault(e["node"], []).append(e)
    for _ in range(count):
        pos = {n: 0 for n in by_node}
        out = []
        while len(out) < len(events):
            live = [n for n in by_node if pos[n] < len(by_node[n])]
            n = rng.choice(live)
            out.append(by_node[n][pos[n]])
            pos[n] += 1
        yield out


def verdicts_in_every_order(trace: Trace, tmp_path: Path, count: int = 12) -> set[tuple]:
    """The verdicts of the file as written, of `count` interleavings, and of the
    per-node directory."""
    got = {verdict(trace.write(tmp_path / "as-written.jsonl"))}
    for k, events in enumerate(interleavings(trace.events, count)):
        got.add(verdict(trace.write(tmp_path / f"order{k}.jsonl", events)))
    got.add(verdict(trace.write_per_node(tmp_path / "per-node")))
    return got


# -- legal MultiPaxos runs ---------------------------------------------------------------


def retried_in_flight() -> Trace:
    """The client retries while its first copy is in flight; the leader proposes it
    again in the same ballot at the next slot; both copies are chosen, and every
    replica skips the second at apply."""
    t = Trace()
    b = t.prepare("r0", 1, ["r1", "r2"], to_self=False)
    c = t.request("c0", 0, "put x 1", "r0")
    first = t.accept("r0", b, 0, c)
    t.request("c0", 0, "put x 1", "r0", first=False)  # a retry: the reply was slow
    second = t.accept("r0", b, 1, c)
    votes0 = [t.vote(a, first) for a in NODES]
    votes1 = [t.vote(a, second) for a in NODES]
    for r in NODES:
        t.learn(r, votes0)
        t.learn(r, votes1, applied=False)
    t.recv("c0", t.send("r0", ["c0"], {"type": "reply", "client": "c0", "req": 0,
                                       "result": "ok"}))
    t.ev("result", "c0", req=0, result="ok")
    return t


def retried_under_a_new_leader() -> Trace:
    """The first copy is chosen in slot 0 under r0; r1 takes over (re-proposing it in
    slot 0) and, as the client retries, proposes it again in slot 1, in a later ballot;
    replicas skip the duplicate."""
    t = Trace()
    b1 = t.prepare("r0", 1, ["r0", "r1"])
    c = t.request("c0", 0, "put x 1", "r0")
    first = t.accept("r0", b1, 0, c)
    votes0 = [t.vote(a, first) for a in ("r0", "r1")]
    b2 = t.prepare("r1", 2, ["r1", "r2"])
    again = t.accept("r1", b2, 0, c)  # re-proposed: r1's own promise reports it
    t.request("c0", 0, "put x 1", "r1", first=False)
    retry = t.accept("r1", b2, 1, c)
    votes0b = [t.vote(a, again) for a in ("r1", "r2")]
    votes1 = [t.vote(a, retry) for a in ("r1", "r2")]
    t.learn("r0", votes0)
    t.learn("r1", votes0)
    t.learn("r2", votes0b)
    for r in ("r1", "r2"):
        t.learn(r, votes1, applied=False)
    return t


def fresh_command_in_a_free_slot() -> Trace:
    """r0 proposes in slots 0, 1 and 2; the 2a of slot 1 is lost. r1 takes over: its
    quorum reports slots 0 and 2, none slot 1, so slot 1 is free: r1 fills it with a
    new client command, not a no-op (any value is safe there, P2c)."""
    t = Trace(clients=("c0", "c1"))
    b1 = t.prepare("r0", 1, ["r0", "r1"])
    cs = [t.request("c0", k, f"put x {k}", "r0") for k in range(3)]
    two_a = [t.accept("r0", b1, k, cs[k]) for k in range(3)]
    for k in (0, 2):
        for a in ("r0", "r1"):
            t.vote(a, two_a[k])
    b2 = t.prepare("r1", 2, ["r1", "r2"])
    fresh = t.request("c1", 0, "put y 1", "r1")
    again0 = t.accept("r1", b2, 0, cs[0])
    filled = t.accept("r1", b2, 1, fresh)
    again2 = t.accept("r1", b2, 2, cs[2])
    for mid in (again0, filled, again2):
        votes = [t.vote(a, mid) for a in NODES]
        for r in NODES:
            t.learn(r, votes)
    return t


def competing_leaders() -> Trace:
    """r0 and r1 compete. r0 leads ballot (1,r0) and proposes c0 in slot 0; r1 prepares
    (1,r1), leads with {r1, r2} and gets c1 chosen in slot 0. r0 retries with (2,r0)
    while its own (1,r0) 2a is still in flight to its own acceptor, which accepts it
    before the prepare it sent itself arrives; r0's new quorum reports c1 with the
    higher ballot, so r0 re-proposes c1, then proposes c0 in slot 1."""
    t = Trace(clients=("c0", "c1"))
    b0 = t.prepare("r0", 1, ["r0", "r1"])
    c0 = t.request("c0", 0, "put x 0", "r0")
    old = t.accept("r0", b0, 0, c0)
    b1 = t.prepare("r1", 1, ["r1", "r2"])
    c1 = t.request("c1", 0, "put y 1", "r1")
    win = t.accept("r1", b1, 0, c1)
    chosen = [t.vote(a, win) for a in ("r1", "r2")]
    t.recv("r2", old)  # r2 promised (1,r1): it rejects (1,r0)
    t.recv("r0", t.send("r2", ["r0"], {"type": "nack", "ballot": b0, "promised": b1}))
    retry = t.send("r0", NODES, {"type": "prepare", "ballot": [2, "r0"]})
    t.vote("r0", old)  # its acceptor still holds (1,r0): the prepare to itself is in flight
    t.promise("r0", retry)
    t.promise("r1", retry)
    b2 = [2, "r0"]
    again = t.accept("r0", b2, 0, c1)
    t.request("c0", 0, "put x 0", "r0", first=False)
    nxt = t.accept("r0", b2, 1, c0)
    votes0 = [t.vote(a, again) for a in ("r0", "r1")]
    votes1 = [t.vote(a, nxt) for a in ("r0", "r1")]
    t.learn("r2", chosen)
    t.learn("r1", chosen)
    t.learn("r0", votes0)
    for r in NODES:
        t.learn(r, votes1)
    return t


def decides_only(slots: int = 40) -> Trace:
    """Learners decide and nothing is executed, replied or accepted by a client."""
    t = Trace()
    b = t.prepare("r0", 1, ["r1", "r2"], to_self=False)
    for k in range(slots):
        c = t.request("c0", k, f"put x {k}", "r0")
        votes = [t.vote(a, t.accept("r0", b, k, c)) for a in NODES]
        for r in NODES:
            t.learn(r, votes, execute=False)
    return t


LEGAL = {"retried-in-flight": retried_in_flight,
         "retried-under-a-new-leader": retried_under_a_new_leader,
         "fresh-command-in-a-free-slot": fresh_command_in_a_free_slot,
         "competing-leaders": competing_leaders,
         "decides-only": decides_only}


@pytest.mark.parametrize("name", sorted(LEGAL))
def test_legal_multipaxos_run_validates_and_conforms(name, tmp_path):
    assert_legal(LEGAL[name](), tmp_path)


@pytest.mark.parametrize("name", sorted(LEGAL))
def test_legal_multipaxos_run_conforms_in_every_order(name, tmp_path):
    assert verdicts_in_every_order(LEGAL[name](), tmp_path, count=6) == {
        (0, "ok", "conforms", ())}


def test_decides_alone_slide_the_window(tmp_path):
    """Without executes, the replicas' decides say how far each has learned, so the
    window slides instead of widening until the run leaves the model."""
    path = decides_only(60).write(tmp_path / "run.jsonl")
    run = open_run([str(path)])
    try:
        conf = Conformance(*mp_map.for_header(run.header, None))
        for ev in Merger(run):
            assert conf.step(ev), conf.failure
    finally:
        run.close()
    assert conf.map.base >= 40 and conf.map.model.slots == mp_map.SLOTS


# -- broken MultiPaxos steps fail in every order --------------------------------------------


def test_accept_of_a_2a_never_received_fails_in_every_order(tmp_path):
    """r2 accepts r0's 2a without having received it: in the model's sent-set the 2a is
    there once r0 sent it, so the old verdict followed line order."""
    t = Trace()
    b = t.prepare("r0", 1, ["r1", "r2"], to_self=False)
    c = t.request("c0", 0, "put x 1", "r0")
    two_a = t.accept("r0", b, 0, c)
    t.vote("r1", two_a)
    t.send("r2", NODES, {"type": "accepted", "ballot": b, "slot": 0, "cmd": c})
    got = verdicts_in_every_order(t, tmp_path)
    assert {(code, conf) for code, _, conf, _ in got} == {(1, "fails")}, got


def test_lead_on_promises_never_received_fails(tmp_path):
    """r1 reaches phase 2 on one promise (its own): its quorum needs another it never
    received, though r2's promise is in the file (sent to r1, never delivered)."""
    t = Trace()
    prep = t.send("r1", ["r0", "r2"], {"type": "prepare", "ballot": [1, "r1"]})
    t.recv("r2", prep)
    t.send("r2", ["r1"], {"type": "promise", "ballot": [1, "r1"], "accepted": []})
    t.accept("r1", [1, "r1"], 0, t.request("c0", 0, "put x 1", "r1"))
    r = validate_run([str(t.write(tmp_path / "run.jsonl"))])
    assert r.conformance == "fails", r
    assert r.conformance_failure.line == len(t.events) + 1


# -- what the model cannot describe ---------------------------------------------------------


def test_per_slot_phase_1_is_outside_the_model_not_a_violation(tmp_path):
    t = Trace()
    prep = t.send("r0", ["r1", "r2"], {"type": "prepare", "ballot": [1, "r0"], "slot": 3})
    t.recv("r1", prep)
    r = validate_run([str(t.write(tmp_path / "run.jsonl"))])
    assert (r.exit_code, r.conformance) == (0, "outside-model"), r
    assert "slot 3 alone" in " ".join(r.warnings)


def test_phase_1_from_slot_0_is_the_version_1_prepare(tmp_path):
    t = Trace()
    prep = t.send("r0", ["r1", "r2"], {"type": "prepare", "ballot": [1, "r0"], "from_slot": 0})
    t.recv("r1", prep)
    assert verdict(t.write(tmp_path / "run.jsonl"))[:3] == (0, "ok", "conforms")


@pytest.mark.parametrize("protocol,n", [("multipaxos", 7), ("pbft", 4)])
def test_a_run_the_model_cannot_describe_raises_outside_model(protocol, n):
    class Header:
        version, f, byzantine, logged, clients = 1, 1, [], None, []

    h = Header()
    h.protocol, h.nodes = protocol, [f"r{i}" for i in range(n)]
    module = mp_map if protocol == "multipaxos" else pbft_map
    if protocol == "pbft":
        h.byzantine = ["r2"]  # neither the first f, r1..rf nor the last f
    with pytest.raises(OutsideModel):
        module.for_header(h, None)


# -- PBFT: a step is judged by what its replica received -------------------------------------


def _events_of(path: Path) -> tuple[dict, list[dict]]:
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return lines[0], lines[1:]


def _as_trace(path: Path) -> Trace:
    header, events = _events_of(path)
    t = Trace(protocol=header["protocol"], nodes=header["nodes"], clients=header["clients"],
              f=header["f"])
    t.header = header
    t.events = events
    return t


@pytest.mark.parametrize("sample", ["pbft.jsonl", "pbft-view-change.jsonl",
                                    "multipaxos-takeover.jsonl"])
def test_good_sample_conforms_in_every_order(sample, tmp_path):
    got = verdicts_in_every_order(_as_trace(SAMPLES / "good" / sample), tmp_path, count=8)
    assert got == {(0, "ok", "conforms", ())}, got


def test_commit_without_a_received_prepared_certificate_fails_in_every_order(tmp_path):
    """r1 sends COMMIT having received the pre-prepare but no PREPARE: the others'
    PREPAREs are in the file (sent, never delivered to r1). Judged by what r1 had
    received, the commit fails wherever the file lists those sends."""
    t = Trace(protocol="pbft", nodes=["r0", "r1", "r2", "r3"], clients=("c0",), f=1)
    c = cmd("c0", 0, "put x 1")
    t.ev("request", "c0", req=0, op="put x 1")
    t.recv("r0", t.send("c0", ["r0"], {"type": "request", "cmd": c}))
    pp = t.send("r0", ["r1", "r2", "r3"], {"type": "pre-prepare", "view": 0, "n": 1,
                                           "digest": "dA", "cmd": c})
    for r in ("r1", "r2", "r3"):
        t.recv(r, pp)
    for r in ("r2", "r3"):
        t.send(r, ["r0", "r1", "r2", "r3"], {"type": "prepare", "view": 0, "n": 1, "digest": "dA"})
    t.send("r1", ["r0", "r1", "r2", "r3"], {"type": "prepare", "view": 0, "n": 1, "digest": "dA"})
    t.send("r1", ["r0", "r1", "r2", "r3"], {"type": "commit", "view": 0, "n": 1, "digest": "dA"})
    got = verdicts_in_every_order(t, tmp_path)
    assert {(code, conf) for code, _, conf, _ in got} == {(1, "fails")}, got


def test_own_prepare_received_and_promised_without_a_message(tmp_path):
    """r0 sends its prepare to itself and logs receiving it, but its acceptor's promise
    to its own proposer goes without a message: r0 counts itself and r1."""
    t = Trace()
    prep = t.send("r0", NODES, {"type": "prepare", "ballot": [1, "r0"]})
    t.recv("r0", prep)
    t.promise("r1", prep)
    c = t.request("c0", 0, "put x 1", "r0")
    votes = [t.vote(a, t.accept("r0", [1, "r0"], 0, c)) for a in NODES]
    for r in NODES:
        t.learn(r, votes)
    # Conformance only: whether a proposer may count its own acceptor without a
    # promise message is the MP-PROPOSAL monitor's call.
    assert validate_run([str(t.write(tmp_path / "run.jsonl"))]).conformance == "conforms"


def test_retry_of_a_request_the_window_forgot_is_a_duplicate(tmp_path):
    """The client's first request is executed in slot 0; 40 slots later, long after
    the window dropped it, the leader proposes its retry again and replicas skip it."""
    t = Trace()
    b = t.prepare("r0", 1, ["r1", "r2"], to_self=False)
    first = None
    for k in range(40):
        c = t.request("c0", k, f"put x {k}", "r0")
        first = first or c
        votes = [t.vote(a, t.accept("r0", b, k, c)) for a in NODES]
        for r in NODES:
            t.learn(r, votes)
    t.request("c0", 0, "put x 0", "r0", first=False)
    votes = [t.vote(a, t.accept("r0", b, 40, first)) for a in NODES]
    for r in NODES:
        t.learn(r, votes, applied=False)
    assert_legal(t, tmp_path)


def _pbft_prefix(t: Trace) -> tuple[dict, str]:
    """The request and r0's PRE-PREPARE for n=1, received by every backup."""
    c = cmd("c0", 0, "put x 1")
    t.ev("request", "c0", req=0, op="put x 1")
    t.recv("r0", t.send("c0", ["r0"], {"type": "request", "cmd": c}))
    pp = t.send("r0", ["r1", "r2", "r3"], {"type": "pre-prepare", "view": 0, "n": 1,
                                           "digest": "dA", "cmd": c})
    for r in ("r1", "r2", "r3"):
        t.recv(r, pp)
    return c, pp


def test_execute_without_received_commits_fails_in_every_order(tmp_path):
    """r1 is prepared and commits, and then decides and executes n=1 on its own COMMIT
    alone: the others' COMMITs are in the file, never delivered to it."""
    everyone = ["r0", "r1", "r2", "r3"]
    t = Trace(protocol="pbft", nodes=everyone, clients=("c0",), f=1)
    c, _ = _pbft_prefix(t)
    prepares = {r: t.send(r, everyone, {"type": "prepare", "view": 0, "n": 1, "digest": "dA"})
                for r in ("r1", "r2", "r3")}
    for r in ("r2", "r3"):
        t.recv("r1", prepares[r])
    for r in ("r1", "r2", "r3"):
        t.send(r, everyone, {"type": "commit", "view": 0, "n": 1, "digest": "dA"})
    t.ev("decide", "r1", view=0, n=1, digest="dA")
    t.ev("execute", "r1", n=1, digest="dA", cmd=c, result="ok")
    got = verdicts_in_every_order(t, tmp_path)
    assert {(code, conf) for code, _, conf, _ in got} == {(1, "fails")}, got


def test_new_view_from_view_changes_never_received_fails_in_every_order(tmp_path):
    """The view-change sample without r1's receipt of r3's VIEW-CHANGE: the new
    primary r1 then holds two (its own and r2's), no quorum, though r3's is in the
    file (sent, never delivered to r1)."""
    t = _as_trace(SAMPLES / "good" / "pbft-view-change.jsonl")
    drop = next(e for e in t.events if e["kind"] == "recv" and e["node"] == "r1"
                and e["msg_id"] == "m27")
    t.events = [e if e["node"] != "r1" or e["seq"] < drop["seq"] else {**e, "seq": e["seq"] - 1}
                for e in t.events if e is not drop]
    got = verdicts_in_every_order(t, tmp_path, count=6)
    assert {(code, conf) for code, _, conf, _ in got} == {(1, "fails")}, got
    r = validate_run([str(t.write(tmp_path / "run.jsonl"))])
    assert "NEW-VIEW" in r.conformance_failure.mapped_to


def test_prepare_sent_again_keeps_the_promises_heard(tmp_path):
    """r0 sends its prepare, hears r1's promise, sends the same prepare again (a
    retransmission, r2 being slow) and leads on r1's promise and its own."""
    t = Trace()
    prep = t.send("r0", ["r1", "r2"], {"type": "prepare", "ballot": [1, "r0"]})
    t.promise("r1", prep)
    again = t.send("r0", ["r2"], {"type": "prepare", "ballot": [1, "r0"]})
    t.recv("r2", prep)
    t.recv("r2", again)
    c = t.request("c0", 0, "put x 1", "r0")
    votes = [t.vote(a, t.accept("r0", [1, "r0"], 0, c)) for a in ("r0", "r1")]
    for r in ("r0", "r1"):
        t.learn(r, votes)
    assert_legal(t, tmp_path)


def test_a_proposer_may_try_a_ballot_below_its_acceptors_promise(tmp_path):
    """r1's acceptor promised (2,r0); r1's proposer, which keeps its own counter, tries
    (1,r1): its own acceptor and r0 refuse, r2 promises, too few. It retries with
    (3,r1) and leads. Paxos asks only that a proposer's ballots rise (§2.5)."""
    t = Trace()
    b0 = t.prepare("r0", 2, ["r0", "r1"])
    low = t.prepare("r1", 1, ["r2"])
    c = t.request("c0", 0, "put x 1", "r0")
    votes = [t.vote(a, t.accept("r0", b0, 0, c)) for a in ("r0", "r1")]
    b1 = t.prepare("r1", 3, ["r1", "r2"])
    again = t.accept("r1", b1, 0, c)
    votes2 = [t.vote(a, again) for a in ("r1", "r2")]
    for r in ("r0", "r1"):
        t.learn(r, votes)
    t.learn("r2", votes2)
    assert low == [1, "r1"]
    assert_legal(t, tmp_path)


# -- PBFT view changes: the null request, checkpoints, clients' replies ------------------

PBFT_NODES = ["r0", "r1", "r2", "r3"]


def _pbft_view_change(t: Trace, o: list, stable: int | None = None,
                      prepared=((2, 0, "dB"),)) -> None:
    """r0 pre-prepares n=1 (lost) and n=2; r1..r3 prepare n=2 and change to view 1,
    listing `prepared`; r1 sends NEW-VIEW with `o`, and r2, r3 enter view 1."""
    a, b = cmd("c0", 0, "put x 1"), cmd("c0", 1, "put y 2")
    t.ev("request", "c0", req=0, op="put x 1")
    t.ev("request", "c0", req=1, op="put y 2")
    t.send("r0", ["r1", "r2", "r3"], {"type": "pre-prepare", "view": 0, "n": 1,
                                      "digest": "dA", "cmd": a})
    pp = t.send("r0", ["r1", "r2", "r3"], {"type": "pre-prepare", "view": 0, "n": 2,
                                           "digest": "dB", "cmd": b})
    backups = ["r1", "r2", "r3"]
    for r in backups:
        t.recv(r, pp)
    prepares = {r: t.send(r, PBFT_NODES, {"type": "prepare", "view": 0, "n": 2,
                                          "digest": "dB"}) for r in backups}
    for r in backups:
        for s in backups:
            if s != r:
                t.recv(r, prepares[s])
    for r in backups:  # prepared: each multicasts its COMMIT (lost)
        t.send(r, PBFT_NODES, {"type": "commit", "view": 0, "n": 2, "digest": "dB"})
    extra = {} if stable is None else {"stable": stable}
    vcs = {r: t.send(r, PBFT_NODES, {"type": "view-change", "view": 1, **extra,
                                     "prepared": [list(x) for x in prepared]})
           for r in backups}
    for s in ("r2", "r3"):
        t.recv("r1", vcs[s])
    nv = t.send("r1", ["r0", "r2", "r3"], {"type": "new-view", "view": 1, "pre_prepares": o})
    for r in ("r2", "r3"):
        t.recv(r, nv)


def test_new_view_fills_a_gap_with_the_null_request_conforms_in_every_order(tmp_path):
    """C&L §4.4: O has a pre-prepare for every number up to max-s, the null request
    where V has no certificate; its digest ("dN") is one no PRE-PREPARE named."""
    t = Trace(protocol="pbft", nodes=PBFT_NODES, clients=("c0",), f=1)
    _pbft_view_change(t, [[1, "dN"], [2, "dB"]])
    t.send("r1", ["r0", "r2", "r3"], {"type": "pre-prepare", "view": 1, "n": 1,
                                      "digest": "dN", "cmd": None})
    got = verdicts_in_every_order(t, tmp_path, count=6)
    assert {(code, conf) for code, _, conf, _ in got} == {(0, "conforms")}, got


def test_new_view_that_drops_a_certificate_still_fails(tmp_path):
    """O gives n=2, prepared in view 0 by every VIEW-CHANGE, the null request."""
    t = Trace(protocol="pbft", nodes=PBFT_NODES, clients=("c0",), f=1)
    _pbft_view_change(t, [[1, "dN"], [2, "dN"]])
    got = verdicts_in_every_order(t, tmp_path, count=6)
    assert {(code, conf) for code, _, conf, _ in got} == {(1, "fails")}, got


def test_new_view_after_a_checkpoint_is_outside_the_model(tmp_path):
    """The VIEW-CHANGEs carry `stable` 1 (a checkpoint the model does not see): O
    from min-s = 1 is what they yield, so not a violation; one that is not fails."""
    t = Trace(protocol="pbft", nodes=PBFT_NODES, clients=("c0",), f=1)
    _pbft_view_change(t, [[2, "dB"]], stable=1)
    (tmp_path / "a").mkdir()
    got = verdicts_in_every_order(t, tmp_path / "a", count=6)
    assert {(code, conf) for code, _, conf, _ in got} == {(0, "outside-model")}, got
    t = Trace(protocol="pbft", nodes=PBFT_NODES, clients=("c0",), f=1)
    _pbft_view_change(t, [[2, "dN"]], stable=1)
    (tmp_path / "b").mkdir()
    got = verdicts_in_every_order(t, tmp_path / "b", count=6)
    assert {(code, conf) for code, _, conf, _ in got} == {(1, "fails")}, got


def _pbft_executed_everywhere(t: Trace, reply_to_client=("r0", "r1", "r2", "r3")) -> None:
    """n=1 (c0#0) prepared, committed and executed by every replica; each replica in
    `reply_to_client` replies, and c0 receives those replies."""
    c, _ = _pbft_prefix(t)
    prepares = {r: t.send(r, PBFT_NODES, {"type": "prepare", "view": 0, "n": 1, "digest": "dA"})
                for r in ("r1", "r2", "r3")}
    for r in PBFT_NODES:
        for s, mid in prepares.items():
            if s != r:
                t.recv(r, mid)
    commits = {r: t.send(r, PBFT_NODES, {"type": "commit", "view": 0, "n": 1, "digest": "dA"})
               for r in PBFT_NODES}
    for r in PBFT_NODES:
        for s, mid in commits.items():
            if s != r:
                t.recv(r, mid)
        t.ev("decide", r, view=0, n=1, digest="dA")
        t.ev("execute", r, n=1, digest="dA", cmd=c, result="ok")
    for r in reply_to_client:
        t.recv("c0", t.send(r, ["c0"], {"type": "reply", "view": 0, "client": "c0", "req": 0,
                                        "result": "ok"}))


def test_client_accepts_on_the_replies_it_received_in_every_order(tmp_path):
    """Every replica replies, c0 receives only r1's and accepts: f + 1 = 2 matching
    replies are needed (§4.1), whatever the other clients' or replies' order."""
    t = Trace(protocol="pbft", nodes=PBFT_NODES, clients=("c0",), f=1)
    _pbft_executed_everywhere(t, reply_to_client=())
    for r in PBFT_NODES:
        mid = t.send(r, ["c0"], {"type": "reply", "view": 0, "client": "c0", "req": 0,
                                 "result": "ok"})
        if r == "r1":
            t.recv("c0", mid)
    t.ev("result", "c0", req=0, result="ok")
    (tmp_path / "one").mkdir()
    got = verdicts_in_every_order(t, tmp_path / "one", count=8)
    assert {conf for _, _, conf, _ in got} == {"fails"}, got
    t = Trace(protocol="pbft", nodes=PBFT_NODES, clients=("c0",), f=1)
    _pbft_executed_everywhere(t, reply_to_client=("r1", "r2"))
    t.ev("result", "c0", req=0, result="ok")
    (tmp_path / "two").mkdir()
    got = verdicts_in_every_order(t, tmp_path / "two", count=8)
    assert {(code, conf) for code, _, conf, _ in got} == {(0, "conforms")}, got


def test_execute_of_another_request_under_a_digest_fails(tmp_path):
    """r3 executes c0#1 at n=1 under dA, the digest of c0#0's PRE-PREPARE."""
    t = Trace(protocol="pbft", nodes=PBFT_NODES, clients=("c0",), f=1)
    _pbft_executed_everywhere(t, reply_to_client=())
    for e in t.events:
        if e["kind"] == "execute" and e["node"] == "r3":
            e["cmd"] = cmd("c0", 1, "put y 2")
    r = validate_run([str(t.write(tmp_path / "run.jsonl"))])
    assert r.conformance == "fails", (r.conformance, r.warnings)
    assert "c0#1" in r.conformance_failure.mapped_to or "c0#1" in str(r.conformance_failure)
