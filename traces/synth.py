"""Small simulators of correct protocol runs that write smrtrace events.

They exist to feed the validator: the good samples, the Hypothesis tests (which then
corrupt the runs) and the benchmark (a million events, streamed). They are not the
replicas of impl/: one process, a seeded random scheduler choosing which in-flight
message is delivered next, no timers. Each step follows the paper:

- MultiPaxos (Paxos Made Simple §3): r0 runs phase 1 once for all slots with ballot
  (1, r0) (its own acceptor promising at once); then, as the stable leader, it sends each client command to phase 2 in the
  next slot; acceptors answer `accepted` to every replica, and each replica decides a
  slot on a majority in one ballot and executes slots in order. The leader replies.
  With `takeover`, r1 later runs phase 1 with ballot (2, r1), re-proposes what the
  promises report and becomes the leader.
- PBFT (Castro and Liskov 1999 §4.2): the primary r0 of view 0 assigns sequence
  numbers in PRE-PREPAREs; backups PREPARE; a replica prepared (pre-prepare plus 2f
  matching prepares) sends COMMIT; with 2f+1 matching commits it commits locally,
  executes in order and replies; the client waits for f+1 matching replies.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any


class _Sim:
    def __init__(self, protocol: str, replicas: int, clients: int, f: int, requests: int,
                 seed: int, heartbeats: bool) -> None:
        self.rng = random.Random(seed)
        self.nodes = [f"r{i}" for i in range(replicas)]
        self.clients = [f"c{i}" for i in range(clients)]
        self.protocol, self.f, self.requests = protocol, f, requests
        self.heartbeats = heartbeats
        self.seq = {x: 0 for x in self.nodes + self.clients}
        self.msgs = 0
        self.flight: list[tuple[str, str]] = []  # (msg_id, addressee)
        self.payload: dict[str, tuple[str, dict, int]] = {}  # msg_id -> (sender, msg, left)
        self.out: list[dict] = []
        self.issued = {c: 0 for c in self.clients}
        self.waiting: dict[str, dict[str, str]] = {}  # client -> replica -> result

    def header(self) -> dict:
        return {"kind": "header", "format": "smrtrace", "version": 1, "protocol": self.protocol,
                "nodes": self.nodes, "clients": self.clients, "f": self.f}

    def emit(self, node: str, kind: str, **fields: Any) -> None:
        ev = {"kind": kind, "node": node, "seq": self.seq[node], **fields}
        self.seq[node] += 1
        self.out.append(ev)

    def send(self, node: str, to: list[str], msg: dict) -> None:
        self.msgs += 1
        msg_id = f"m{self.msgs}"
        self.emit(node, "send", msg_id=msg_id, to=to, msg=msg)
        self.payload[msg_id] = (node, msg, len(to))
        self.flight += [(msg_id, x) for x in to]

    def issue(self, client: str) -> None:
        req = self.issued[client]
        if req >= self.requests:
            return
        self.issued[client] = req + 1
        op = f"put k{self.rng.randrange(4)} {req}"
        self.emit(client, "request", req=req, op=op)
        self.waiting[client] = {}
        self.send(client, [self.target()], {"type": "request",
                                            "cmd": {"client": client, "req": req, "op": op}})

    def run(self) -> Iterator[dict]:
        yield self.header()
        self.start()
        for c in self.clients:
            self.issue(c)
        yield from self.out
        self.out.clear()
        rng, flight = self.rng, self.flight
        while flight:
            i = rng.randrange(len(flight))
            flight[i], flight[-1] = flight[-1], flight[i]
            msg_id, node = flight.pop()
            sender, msg, left = self.payload[msg_id]
            if left == 1:
                del self.payload[msg_id]
            else:
                self.payload[msg_id] = (sender, msg, left - 1)
            self.emit(node, "recv", msg_id=msg_id, **{"from": sender})
            self.handle(node, sender, msg)
            if self.heartbeats and rng.random() < 0.02:
                self.send(self.nodes[0], self.nodes[1:], {"type": "heartbeat"})
            yield from self.out
            self.out.clear()

    def on_reply(self, client: str, sender: str, msg: dict, need: int) -> None:
        got = self.waiting.get(client)
        if got is None or msg["req"] != self.issued[client] - 1:
            return
        got[sender] = msg["result"]
        results = list(got.values())
        for r in set(results):
            if results.count(r) >= need:
                self.emit(client, "result", req=msg["req"], result=r)
                del self.waiting[client]
                self.issue(client)
                return

    def target(self) -> str:
        return self.nodes[0]

    def start(self) -> None: ...

    def handle(self, node: str, sender: str, msg: dict) -> None: ...


def _result(cmd: dict) -> str:
    return "ok " + cmd["op"].split()[1]


class _MultiPaxos(_Sim):
    def __init__(self, *args: Any, takeover: bool = False) -> None:
        super().__init__("multipaxos", *args)
        n = len(self.nodes)
        self.quorum = n // 2 + 1
        self.idx = {r: i for i, r in enumerate(self.nodes)}
        self.promised = {r: (-1, -1) for r in self.nodes}
        self.acc: dict[str, dict[int, tuple[list, dict | None]]] = {r: {} for r in self.nodes}
        self.votes: dict[str, dict[tuple, set]] = {r: {} for r in self.nodes}
        self.decided: dict[str, dict[int, dict | None]] = {r: {} for r in self.nodes}
        self.next_exec = {r: 0 for r in self.nodes}
        self.leader = self.nodes[0]
        self.ballot: list = [1, self.leader]
        self.promises: dict[str, list] = {}
        self.leading = False
        self.next_slot = 0
        self.queue: list[dict] = []
        self.takeover = takeover and n > 1
        self.took_over = False

    def target(self) -> str:
        return self.leader

    def key(self, b: list) -> tuple[int, int]:
        return (b[0], self.idx[b[1]])

    def start(self) -> None:
        self.prepare(self.leader)

    def prepare(self, node: str) -> None:
        """Phase 1a for all slots; the leader's own acceptor promises at once, without
        a message (as in the model: a replica claims a ballot above all it has seen)."""
        self.promised[node] = self.key(self.ballot)
        self.promises = {node: [[s, vb, c] for s, (vb, c) in sorted(self.acc[node].items())]}
        others = [x for x in self.nodes if x != node]
        self.send(node, others, {"type": "prepare", "ballot": self.ballot})

    def handle(self, node: str, sender: str, msg: dict) -> None:
        t = msg["type"]
        if t == "request":
            if node == self.leader:
                self.queue.append(msg["cmd"])
                self.propose(node)
        elif t == "prepare":
            b = msg["ballot"]
            if self.key(b) > self.promised[node]:
                self.promised[node] = self.key(b)
                acc = [[s, vb, c] for s, (vb, c) in sorted(self.acc[node].items())]
                self.send(node, [sender], {"type": "promise", "ballot": b, "accepted": acc})
        elif t == "promise":
            if node == self.leader and msg["ballot"] == self.ballot and not self.leading:
                self.promises[sender] = msg["accepted"]
                if len(self.promises) >= self.quorum:
                    self.lead(node)
        elif t == "accept":
            b = msg["ballot"]
            if self.key(b) >= self.promised[node]:
                self.promised[node] = self.key(b)
                self.acc[node][msg["slot"]] = (b, msg["cmd"])
                self.send(node, self.nodes, {"type": "accepted", "ballot": b, "slot": msg["slot"],
                                             "cmd": msg["cmd"]})
        elif t == "accepted":
            k = (msg["slot"], tuple(msg["ballot"]), repr(msg["cmd"]))
            heard = self.votes[node].setdefault(k, set())
            heard.add(sender)
            if len(heard) >= self.quorum and msg["slot"] not in self.decided[node]:
                self.decide(node, msg["slot"], msg["cmd"])
        elif t == "heartbeat":
            pass
        if (self.takeover and not self.took_over and node == self.nodes[1]
                and self.next_slot >= 2 and self.rng.random() < 0.2):
            self.took_over = True
            self.leader, self.ballot = node, [2, node]
            self.leading = False
            self.prepare(node)

    def lead(self, node: str) -> None:
        """Phase 2 for every slot a promise reports: its highest-ballot value (§3)."""
        best: dict[int, tuple] = {}
        for accepted in self.promises.values():
            for slot, vb, cmd in accepted:
                if slot not in best or self.key(vb) > self.key(best[slot][0]):
                    best[slot] = (vb, cmd)
        top = max(best, default=-1)
        self.leading = True
        for slot in range(top + 1):
            cmd = best[slot][1] if slot in best else None
            self.send(node, self.nodes, {"type": "accept", "ballot": self.ballot, "slot": slot,
                                         "cmd": cmd})
        self.next_slot = top + 1
        self.propose(node)

    def propose(self, node: str) -> None:
        if not self.leading:
            return
        while self.queue:
            cmd = self.queue.pop(0)
            self.send(node, self.nodes, {"type": "accept", "ballot": self.ballot,
                                         "slot": self.next_slot, "cmd": cmd})
            self.next_slot += 1

    def decide(self, node: str, slot: int, cmd: dict | None) -> None:
        self.emit(node, "decide", slot=slot, cmd=cmd)
        self.decided[node][slot] = cmd
        log = self.decided[node]
        while self.next_exec[node] in log:
            s = self.next_exec[node]
            c = log[s]
            res = None if c is None else _result(c)
            self.emit(node, "execute", slot=s, cmd=c, result=res)
            self.next_exec[node] += 1
            del log[s]
            if c is not None and node == self.leader:
                self.send(node, [c["client"]], {"type": "reply", "client": c["client"],
                                                "req": c["req"], "result": res})

    def on_client(self, node: str, sender: str, msg: dict) -> None:
        self.on_reply(node, sender, msg, 1)


class _Pbft(_Sim):
    def __init__(self, *args: Any) -> None:
        super().__init__("pbft", *args)
        self.quorum = 2 * self.f + 1
        self.primary = self.nodes[0]
        self.next_n = 1
        self.pp: dict[str, dict[int, tuple[str, dict]]] = {r: {} for r in self.nodes}
        self.prep: dict[str, dict[tuple, set]] = {r: {} for r in self.nodes}
        self.comm: dict[str, dict[tuple, set]] = {r: {} for r in self.nodes}
        self.sent_commit: dict[str, set] = {r: set() for r in self.nodes}
        self.committed: dict[str, dict[int, str]] = {r: {} for r in self.nodes}
        self.next_exec = {r: 1 for r in self.nodes}

    def handle(self, node: str, sender: str, msg: dict) -> None:
        t = msg["type"]
        if t == "request" and node == self.primary:
            n, cmd = self.next_n, msg["cmd"]
            self.next_n += 1
            d = digest(cmd)
            self.pp[node][n] = (d, cmd)
            self.send(node, self.nodes[1:], {"type": "pre-prepare", "view": 0, "n": n,
                                             "digest": d, "cmd": cmd})
            self.check_prepared(node, n)
        elif t == "pre-prepare":
            n = msg["n"]
            if n not in self.pp[node]:
                self.pp[node][n] = (msg["digest"], msg["cmd"])
                self.send(node, self.nodes, {"type": "prepare", "view": 0, "n": n,
                                             "digest": msg["digest"]})
                self.check_prepared(node, n)
        elif t == "prepare":
            self.prep[node].setdefault((msg["n"], msg["digest"]), set()).add(sender)
            self.check_prepared(node, msg["n"])
        elif t == "commit":
            k = (msg["n"], msg["digest"])
            heard = self.comm[node].setdefault(k, set())
            heard.add(sender)
            self.check_committed(node, msg["n"])

    def check_prepared(self, node: str, n: int) -> None:
        if n not in self.pp[node] or n in self.sent_commit[node]:
            return
        d = self.pp[node][n][0]
        if len(self.prep[node].get((n, d), ())) >= 2 * self.f:
            self.sent_commit[node].add(n)
            self.send(node, self.nodes, {"type": "commit", "view": 0, "n": n, "digest": d})
            self.check_committed(node, n)

    def check_committed(self, node: str, n: int) -> None:
        """Committed-local: prepared (so it sent its COMMIT) and 2f+1 matching commits."""
        if n not in self.sent_commit[node] or n in self.committed[node] or n not in self.pp[node]:
            return
        d = self.pp[node][n][0]
        if len(self.comm[node].get((n, d), ())) >= self.quorum:
            self.commit(node, n, d)

    def commit(self, node: str, n: int, d: str) -> None:
        self.emit(node, "decide", view=0, n=n, digest=d)
        self.committed[node][n] = d
        while self.next_exec[node] in self.committed[node]:
            m = self.next_exec[node]
            dd = self.committed[node].pop(m)
            cmd = self.pp[node].pop(m)[1]
            res = _result(cmd)
            self.emit(node, "execute", n=m, digest=dd, cmd=cmd, result=res)
            self.next_exec[node] += 1
            self.prep[node] = {k: v for k, v in self.prep[node].items() if k[0] != m} \
                if len(self.prep[node]) > 64 else self.prep[node]
            self.send(node, [cmd["client"]], {"type": "reply", "view": 0, "client": cmd["client"],
                                              "req": cmd["req"], "result": res})


def digest(cmd: dict) -> str:
    """A stand-in for the paper's D(m): deterministic and unique per command."""
    return f"d-{cmd['client']}-{cmd['req']}"


def _dispatch(sim: _Sim) -> _Sim:
    handle = sim.handle

    def with_clients(node: str, sender: str, msg: dict) -> None:
        if node in sim.seq and node.startswith("c"):
            if msg["type"] == "reply":
                sim.on_reply(node, sender, msg, 1 if sim.protocol == "multipaxos" else sim.f + 1)
            return
        handle(node, sender, msg)

    sim.handle = with_clients  # type: ignore[method-assign]
    return sim


def multipaxos_run(replicas: int = 3, clients: int = 1, requests: int = 3, seed: int = 0,
                   heartbeats: bool = False, takeover: bool = False) -> Iterator[dict]:
    """A correct MultiPaxos run: the header, then events in a causal order."""
    f = (replicas - 1) // 2
    return _dispatch(_MultiPaxos(replicas, clients, f, requests, seed, heartbeats,
                                 takeover=takeover)).run()


def pbft_run(f: int = 1, clients: int = 1, requests: int = 3, seed: int = 0,
             heartbeats: bool = False) -> Iterator[dict]:
    """A correct PBFT run with n = 3f+1 replicas, view 0 throughout."""
    return _dispatch(_Pbft(3 * f + 1, clients, f, requests, seed, heartbeats)).run()


def run_for(protocol: str, **kw: Any) -> Iterator[dict]:
    return {"multipaxos": multipaxos_run, "pbft": pbft_run}[protocol](**kw)
