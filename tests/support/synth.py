"""Small simulators of correct protocol runs that write smrtrace events.

They exist to feed the validator: the good samples, the Hypothesis tests (which then
corrupt the runs) and the benchmark (a million events, streamed). They are not the
replicas of impl/: one process, a seeded random scheduler choosing which in-flight
message is delivered next, no timers. They are test material, so they live under tests/
and do not ship: the package holds one model and one implementation per protocol. Tests
import them as `..support.synth`; `tests/traces/make_samples.py` and `bench/validate.py`
put the repository root on `sys.path` and import `tests.support.synth`. Changing a
schedule changes the committed samples (regenerate them and check the diff). Each step
follows the paper:

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
  With `view_change` (§4.4): clients send each request to every replica; r0 stops
  (logs `crash`, for good) after a random number of requests; a backup waiting for a
  request times out (a timer is scheduled like a message, and logged as a `note`)
  and sends VIEW-CHANGE for view 1 with its prepared certificates, or joins once f+1
  others have (§4.5.2); r1, the primary of view 1, with 2f+1 of them (its own
  included) sends NEW-VIEW with O (per n up to the highest certificate, the digest
  prepared in the highest view, else the null request; min-s is 0, as there are no
  checkpoints), then O's PRE-PREPAREs as messages of their own (the format's NEW-VIEW
  names digests only, so the requests travel in them, as impl/ does), then the
  requests still waiting. A replica that executed a number in view 0 prepares and
  commits it again in view 1, for the others, without executing it twice.
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
        self.flight: list[tuple[str | None, str]] = []  # (msg_id, addressee); None: a timer
        self.payload: dict[str, tuple[str, dict, int]] = {}  # msg_id -> (sender, msg, left)
        self.out: list[dict] = []
        self.issued = {c: 0 for c in self.clients}
        self.stopped: set[str] = set()  # crashed for good: they receive and send nothing
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
        self.send(client, self.targets(), {"type": "request",
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
            if msg_id is None:  # a timer, scheduled like a message
                self.on_timer(node)
                yield from self.out
                self.out.clear()
                continue
            sender, msg, left = self.payload[msg_id]
            if left == 1:
                del self.payload[msg_id]
            else:
                self.payload[msg_id] = (sender, msg, left - 1)
            if node in self.stopped:
                continue  # lost: a message to a stopped node needs no event
            self.emit(node, "recv", msg_id=msg_id, **{"from": sender})
            self.handle(node, sender, msg)
            if self.heartbeats and rng.random() < 0.02 and self.nodes[0] not in self.stopped:
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

    def targets(self) -> list[str]:
        return [self.target()]

    def start(self) -> None: ...

    def on_timer(self, node: str) -> None: ...

    def handle(self, node: str, sender: str, msg: dict) -> None: ...


def _result(cmd: dict) -> str:
    """What the key-value store of impl/kvstore.py answers: the runners issue puts
    only, and a put answers "ok" (KV-LINEARIZABLE holds the runs to it)."""
    assert cmd["op"].startswith("put "), cmd
    return "ok"


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
    """PBFT, §4.2 (normal case) and, with `view_change`, §4.4 (view changes).

    State per replica: its view and whether it is changing views; `pp` the
    pre-prepare it accepted per n, as (view, digest, request); `prep` and `comm` the
    PREPARE and COMMIT senders heard per (view, n, digest); `prepared` its prepared
    certificate per n in the highest view (what its VIEW-CHANGE carries);
    `committed` what is committed and waits to execute; with `view_change`, also
    `pending` (requests received and not yet executed: what its timer waits for) and
    `vcs` (VIEW-CHANGE messages heard per view, as their certificates).
    """

    def __init__(self, *args: Any, view_change: bool = False) -> None:
        super().__init__("pbft", *args)
        self.quorum = 2 * self.f + 1
        self.next_n = 1
        self.view = {r: 0 for r in self.nodes}
        self.changing = {r: False for r in self.nodes}
        self.pp: dict[str, dict[int, tuple[int, str, dict | None]]] = {r: {} for r in self.nodes}
        self.prep: dict[str, dict[tuple, set]] = {r: {} for r in self.nodes}
        self.comm: dict[str, dict[tuple, set]] = {r: {} for r in self.nodes}
        self.sent_commit: dict[str, set] = {r: set() for r in self.nodes}
        self.prepared: dict[str, dict[int, tuple[int, str]]] = {r: {} for r in self.nodes}
        self.committed: dict[str, dict[int, tuple[str, dict | None]]] = {r: {} for r in self.nodes}
        self.next_exec = {r: 1 for r in self.nodes}
        self.view_change = view_change
        if view_change:
            # The primary of view 0 stops after assigning this many requests (so some
            # of its numbers are in flight, prepared at some backups, or committed).
            self.stop_after = self.rng.randrange(len(self.clients) * self.requests)
            self.pending: dict[str, dict[tuple, dict]] = {r: {} for r in self.nodes}
            self.applied: dict[str, set] = {r: set() for r in self.nodes}
            self.armed: set[str] = set()
            self.vcs: dict[str, dict[int, dict[str, list]]] = {r: {} for r in self.nodes}
            self.expected: dict[str, dict[int, str]] = {r: {} for r in self.nodes}
            self.early: dict[str, list[dict]] = {r: [] for r in self.nodes}
            self.assigned: set[tuple] = set()
            self.new_view_sent: set[int] = set()
            self.requests_of: dict[str, dict] = {}  # digest -> request, as certificates carry it

    def primary(self, v: int) -> str:
        return self.nodes[v % len(self.nodes)]

    def targets(self) -> list[str]:
        # With view changes, a client sends each request to every replica (§4.1: what
        # it does when the primary does not answer), so the backups' timers run.
        return list(self.nodes) if self.view_change else [self.nodes[0]]

    def others(self, node: str) -> list[str]:
        return [x for x in self.nodes if x != node]

    def handle(self, node: str, sender: str, msg: dict) -> None:
        t = msg["type"]
        if t == "request":
            self.on_request(node, msg["cmd"])
        elif t == "pre-prepare":
            self.on_pre_prepare(node, msg)
        elif t == "prepare":
            v, n = msg["view"], msg["n"]
            self.prep[node].setdefault((v, n, msg["digest"]), set()).add(sender)
            self.check_prepared(node, v, n)
        elif t == "commit":
            v, n = msg["view"], msg["n"]
            self.comm[node].setdefault((v, n, msg["digest"]), set()).add(sender)
            self.check_committed(node, v, n)
        elif t == "view-change":
            self.on_view_change(node, sender, msg)
        elif t == "new-view":
            self.on_new_view(node, sender, msg)

    # -- normal case (§4.2) --------------------------------------------------------

    def on_request(self, node: str, cmd: dict) -> None:
        if self.view_change:
            if node == self.nodes[0] and node not in self.stopped and self.next_n > self.stop_after:
                self.stop(node)
                return
            if not self.wait_for(node, cmd) or (cmd["client"], cmd["req"]) in self.assigned:
                return
        if node == self.primary(self.view[node]) and not self.changing[node]:
            self.assign(node, cmd)

    def wait_for(self, node: str, cmd: dict) -> bool:
        """A replica that knows a request it has not executed waits for it (its timer
        runs); False if it executed it already."""
        key = (cmd["client"], cmd["req"])
        if key in self.applied[node]:
            return False
        self.pending[node][key] = cmd
        self.requests_of[digest(cmd)] = cmd
        self.arm(node)
        return True

    def assign(self, node: str, cmd: dict | None) -> None:
        """The primary picks the next sequence number for a request: PRE-PREPARE."""
        v, n = self.view[node], self.next_n
        self.next_n += 1
        d = digest(cmd)
        if self.view_change and cmd is not None:
            self.assigned.add((cmd["client"], cmd["req"]))
        self.pp[node][n] = (v, d, cmd)
        self.send(node, self.others(node), {"type": "pre-prepare", "view": v, "n": n,
                                            "digest": d, "cmd": cmd})
        self.check_prepared(node, v, n)

    def on_pre_prepare(self, node: str, msg: dict) -> None:
        v, n, d = msg["view"], msg["n"], msg["digest"]
        if v > self.view[node] or (v == self.view[node] and self.changing[node]):
            self.early[node].append(msg)  # of a view it has not entered yet: later
            return
        if v < self.view[node]:
            return  # a replica accepts messages of its current view only
        have = self.pp[node].get(n)
        if have is not None and have[0] == v:
            return
        if self.view_change:
            if self.expected[node].get(n, d) != d:
                return  # NEW-VIEW fixed another digest for n
            if msg["cmd"] is not None:
                self.wait_for(node, msg["cmd"])  # a backup learns a request from it too
        self.pp[node][n] = (v, d, msg["cmd"])
        self.send(node, self.nodes, {"type": "prepare", "view": v, "n": n, "digest": d})
        self.check_prepared(node, v, n)

    def check_prepared(self, node: str, v: int, n: int) -> None:
        """Prepared: the pre-prepare and 2f matching PREPAREs, in the current view."""
        have = self.pp[node].get(n)
        if (have is None or have[0] != v or v != self.view[node] or self.changing[node]
                or (v, n) in self.sent_commit[node]):
            return
        d = have[1]
        if len(self.prep[node].get((v, n, d), ())) >= 2 * self.f:
            self.sent_commit[node].add((v, n))
            self.prepared[node][n] = (v, d)
            self.send(node, self.nodes, {"type": "commit", "view": v, "n": n, "digest": d})
            self.check_committed(node, v, n)

    def check_committed(self, node: str, v: int, n: int) -> None:
        """Committed-local: prepared (so it sent its COMMIT) and 2f+1 matching commits.
        A number committed before, in an earlier view, is not committed again."""
        if ((v, n) not in self.sent_commit[node] or v != self.view[node] or self.changing[node]
                or n < self.next_exec[node] or n in self.committed[node]):
            return
        _, d, cmd = self.pp[node][n]
        if len(self.comm[node].get((v, n, d), ())) >= self.quorum:
            self.commit(node, v, n, d, cmd)

    def commit(self, node: str, v: int, n: int, d: str, cmd: dict | None) -> None:
        self.emit(node, "decide", view=v, n=n, digest=d)
        self.committed[node][n] = (d, cmd)
        while self.next_exec[node] in self.committed[node]:
            m = self.next_exec[node]
            dd, c = self.committed[node].pop(m)
            self.pp[node].pop(m, None)
            self.next_exec[node] += 1
            if not self.view_change and len(self.prep[node]) > 64:
                # numbers executed here need no more prepares (a view change may
                # prepare them again, and its runs are small: kept there)
                self.prep[node] = {k: x for k, x in self.prep[node].items() if k[1] > m}
            if c is None:
                self.emit(node, "execute", n=m, digest=dd, cmd=None)
                continue
            res = _result(c)
            if self.view_change:
                key = (c["client"], c["req"])
                self.pending[node].pop(key, None)
                if key in self.applied[node]:  # ordered twice: skipped, not applied again
                    self.emit(node, "execute", n=m, digest=dd, cmd=c, applied=False, result=res)
                    continue
                self.applied[node].add(key)
            self.emit(node, "execute", n=m, digest=dd, cmd=c, result=res)
            self.send(node, [c["client"]], {"type": "reply", "view": self.view[node],
                                            "client": c["client"], "req": c["req"], "result": res})

    # -- view changes (§4.4) -------------------------------------------------------

    def stop(self, node: str) -> None:
        """The primary stops (a crash, for good): every backup waiting on a request
        now times out, at a point the scheduler picks."""
        self.emit(node, "crash")
        self.stopped.add(node)
        for r in self.nodes:
            self.arm(r)

    def arm(self, node: str) -> None:
        if node not in self.armed and node not in self.stopped:
            self.armed.add(node)
            self.flight.append((None, node))

    def on_timer(self, node: str) -> None:
        """A backup waited too long for a request to execute: it starts a view change.
        Timers expire only while the view's primary is stopped (with a live primary
        the request executes first), and not while a view change is under way."""
        self.armed.discard(node)
        v = self.view[node]
        if node in self.stopped or self.changing[node] or self.primary(v) not in self.stopped or not self.pending[node]:
            return
        self.emit(node, "note", text=f"view-change timer expired in view {v}")
        self.start_view_change(node, v + 1)

    def start_view_change(self, node: str, v: int) -> None:
        """VIEW-CHANGE for v: the replica leaves its view and sends P, its prepared
        certificates (all of them: there are no checkpoints, so min-s is 0)."""
        self.view[node] = v
        self.changing[node] = True
        certs = [[n, pv, d] for n, (pv, d) in sorted(self.prepared[node].items())]
        self.send(node, self.others(node), {"type": "view-change", "view": v, "prepared": certs})
        self.vcs[node].setdefault(v, {})[node] = certs
        self.maybe_new_view(node, v)

    def on_view_change(self, node: str, sender: str, msg: dict) -> None:
        v = msg["view"]
        if v < self.view[node] or (v == self.view[node] and not self.changing[node]):
            return  # a view it has entered already
        got = self.vcs[node].setdefault(v, {})
        got[sender] = msg["prepared"]
        if v > self.view[node] and len(got) >= self.f + 1:
            self.start_view_change(node, v)  # f+1 want it: one correct replica at least (§4.5.2)
        self.maybe_new_view(node, v)

    def maybe_new_view(self, node: str, v: int) -> None:
        """The primary of v with 2f+1 VIEW-CHANGEs (its own among them) sends NEW-VIEW
        with O, then O's PRE-PREPAREs, then assigns the requests still waiting."""
        got = self.vcs[node].get(v, {})
        if (self.primary(v) != node or v in self.new_view_sent or self.view[node] != v
                or len(got) < self.quorum):
            return
        self.new_view_sent.add(v)
        o = self.compute_o([certs for _, certs in sorted(got.items())[: self.quorum]])
        self.send(node, self.others(node), {"type": "new-view", "view": v, "pre_prepares": o})
        self.enter_view(node, v, o)
        self.assigned = set()
        for n, d in o:
            cmd = self.requests_of.get(d)
            if cmd is not None:
                self.assigned.add((cmd["client"], cmd["req"]))
            self.pp[node][n] = (v, d, cmd)
            self.send(node, self.others(node), {"type": "pre-prepare", "view": v, "n": n,
                                                "digest": d, "cmd": cmd})
            self.check_prepared(node, v, n)
        self.next_n = max([self.next_exec[node] - 1, *(n for n, _ in o)]) + 1
        for key, cmd in sorted(self.pending[node].items()):
            if key not in self.assigned:
                self.assign(node, cmd)

    @staticmethod
    def compute_o(vcs: list[list]) -> list[list]:
        """O: for each n up to the highest prepared in V, the digest prepared in the
        highest view, else the null request."""
        best: dict[int, tuple[int, str]] = {}
        for certs in vcs:
            for n, pv, d in certs:
                if n not in best or pv > best[n][0]:
                    best[n] = (pv, d)
        top = max(best, default=0)
        return [[n, best[n][1] if n in best else digest(None)] for n in range(1, top + 1)]

    def on_new_view(self, node: str, sender: str, msg: dict) -> None:
        v = msg["view"]
        if v < self.view[node] or (v == self.view[node] and not self.changing[node]):
            return
        if sender == self.primary(v):
            self.enter_view(node, v, msg["pre_prepares"])

    def enter_view(self, node: str, v: int, o: list) -> None:
        self.view[node] = v
        self.changing[node] = False
        self.expected[node] = {n: d for n, d in o}
        early, self.early[node] = self.early[node], []
        for msg in early:
            self.on_pre_prepare(node, msg)


def digest(cmd: dict | None) -> str:
    """A stand-in for the paper's D(m): deterministic and unique per command."""
    return "d-null" if cmd is None else f"d-{cmd['client']}-{cmd['req']}"


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
             heartbeats: bool = False, view_change: bool = False) -> Iterator[dict]:
    """A correct PBFT run with n = 3f+1 replicas: view 0 throughout, or, with
    `view_change`, the primary of view 0 stops part-way and the others move to view 1."""
    return _dispatch(_Pbft(3 * f + 1, clients, f, requests, seed, heartbeats,
                           view_change=view_change)).run()


def run_for(protocol: str, **kw: Any) -> Iterator[dict]:
    return {"multipaxos": multipaxos_run, "pbft": pbft_run}[protocol](**kw)
