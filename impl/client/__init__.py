"""The client library: request ids, retries, and accepting a result on enough replies."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..runtime.node import Env, Node


def workload(client: str, count: int, seed: int, keys: int = 16) -> list[str]:
    """A seeded mix of put / append / get over a few keys (so commands conflict)."""
    rng = random.Random(f"{seed}:{client}")
    ops = []
    for i in range(count):
        k = f"k{rng.randrange(keys)}"
        r = rng.random()
        ops.append(f"put {k} {client}.{i}" if r < 0.4 else f"append {k} .{i}" if r < 0.6 else f"get {k}")
    return ops


@dataclass
class Outstanding:
    op: str
    sent_at: float
    first_sent: float
    tries: int = 1
    replies: dict[str, str] = field(default_factory=dict)


class Client(Node):
    """Issues `ops` in order with at most `window` outstanding; request ids 0, 1, 2, ...

    State: next_req (0); outstanding: req -> Outstanding; results: req -> result;
    latencies: seconds per accepted request; target: the replica it sends to first
    (the one that last replied; `nodes[0]` at first). A request not answered within
    `timeout` (doubling per retry) is resent to every replica (the request id stays, so replicas apply it
    at most once), up to `max_tries` times. A result is accepted on `need` matching
    replies from distinct replicas (1 for MultiPaxos, f+1 for PBFT).
    """

    def __init__(self, env: Env, nodes: list[str], ops: list[str], *, need: int = 1,
                 window: int = 1, timeout: float = 0.5, max_tries: int = 50,
                 broadcast: bool = False) -> None:
        super().__init__(env)
        self.nodes = list(nodes)
        self.ops = ops
        self.need = need
        self.window = window
        self.timeout = timeout
        self.max_tries = max_tries
        self.broadcast = broadcast
        self.next_req = 0
        self.outstanding: dict[int, Outstanding] = {}
        self.results: dict[int, str] = {}
        self.latencies: list[float] = []
        self.target = nodes[0]
        self.gave_up = 0

    def done(self) -> bool:
        return self.next_req >= len(self.ops) and not self.outstanding

    def start(self) -> None:
        self.fill()
        self.env.set_timer("retry", self.timeout / 2)

    def fill(self) -> None:
        while len(self.outstanding) < self.window and self.next_req < len(self.ops):
            req, op = self.next_req, self.ops[self.next_req]
            self.next_req += 1
            now = self.env.now()
            self.outstanding[req] = Outstanding(op, now, now)
            self.env.trace("request", req=req, op=op)
            to = self.nodes if self.broadcast else [self.target]
            self.env.send(to, {"type": "request", "cmd": self.cmd(req)})

    def cmd(self, req: int) -> dict:
        return {"client": self.env.name, "req": req, "op": self.outstanding[req].op}

    def on_message(self, src: str, msg: dict, meta: dict | None) -> None:
        if msg.get("type") != "reply" or msg.get("client") != self.env.name:
            return
        req = msg["req"]
        out = self.outstanding.get(req)
        if out is None:
            return
        out.replies[src] = msg["result"]
        matching = [r for r in out.replies.values() if r == msg["result"]]
        if len(matching) >= self.need:
            del self.outstanding[req]
            self.results[req] = msg["result"]
            self.latencies.append(self.env.now() - out.first_sent)
            self.env.trace("result", req=req, result=msg["result"])
            if not self.broadcast:
                self.target = src
            self.fill()

    def on_timer(self, name: str) -> None:
        now = self.env.now()
        for req, out in sorted(self.outstanding.items()):
            if now - out.sent_at < self.timeout * min(2 ** (out.tries - 1), 8):
                continue  # each retry waits twice as long: retries must not feed a storm
            if out.tries >= self.max_tries:
                del self.outstanding[req]
                self.gave_up += 1
                continue
            out.tries += 1
            out.sent_at = now
            self.env.send(self.nodes, {"type": "request", "cmd": self.cmd(req)})
        self.fill()
        if not self.done():
            self.env.set_timer("retry", self.timeout / 2)
