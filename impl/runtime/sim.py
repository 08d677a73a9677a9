"""An in-process network with a deterministic scheduler and virtual time.

Every pending delivery and timer sits in one list; `step()` runs the earliest,
`step(i)` the i-th in time order (so a test may reorder freely). Nothing depends on
wall-clock time or on set order, so a run is a function of its seed and of the
choices made, and a failing Hypothesis example replays exactly.

A crash discards the node object (volatile state), its timers and the messages in
flight to it (a TCP connection to a dead process loses them too); its storage and its
tracer survive, so `restart` builds a fresh node from durable state and the trace's
`seq` carries on.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from .faults import FaultPlan, FaultSpec
from .node import Node
from .storage import MemoryStorage
from .tracer import ENCODE


class SimEnv:
    def __init__(self, net: SimNetwork, name: str) -> None:
        self.net = net
        self.name = name
        self.rng = random.Random(f"{net.seed}:{name}")
        self.storage = MemoryStorage()

    def now(self) -> float:
        return self.net.time

    def send(self, to: Sequence[str], msg: dict, meta: dict | None = None) -> str | None:
        return self.net._send(self.name, list(to), msg, meta)

    def set_timer(self, name: str, delay: float) -> None:
        self.net._set_timer(self.name, name, delay)

    def cancel_timer(self, name: str) -> None:
        self.net.timers.pop((self.name, name), None)

    def trace(self, kind: str, **fields: Any) -> None:
        self.net._trace(self.name, kind, fields)


class SimNetwork:
    """Nodes by name; `make(env) -> Node` builds (and rebuilds after a crash) each one."""

    def __init__(self, seed: int = 0, faults: FaultSpec | None = None,
                 tracers: dict | None = None, auth=None) -> None:
        self.seed = seed
        self.auth = auth  # a Keyring: frames are signed by their sender and verified
        self.time = 0.0
        self.plan = FaultPlan(faults or FaultSpec(), seed)
        self.tracers = tracers or {}
        self.makers: dict[str, Callable[[SimEnv], Node]] = {}
        self.envs: dict[str, SimEnv] = {}
        self.nodes: dict[str, Node] = {}
        self.up: dict[str, bool] = {}
        self.queue: list = []  # heap of (time, order, kind, key, payload)
        self.timers: dict[tuple[str, str], int] = {}  # live timer -> its order number
        self.order = 0
        self.seen: dict[str, set[str]] = {}  # msg_ids delivered per node (dedupe)
        self.msg_counter = 0
        self.seqs: dict[str, int] = {}
        self.delivered = 0

    # -- building ------------------------------------------------------------------

    def add(self, name: str, make: Callable[[SimEnv], Node]) -> Node:
        self.makers[name] = make
        env = self.envs[name] = SimEnv(self, name)
        self.seen[name] = set()
        node = self.nodes[name] = make(env)
        self.up[name] = True
        node.start()
        return node

    def crash(self, name: str) -> None:
        if not self.up.get(name):
            return
        self.up[name] = False
        self._trace(name, "crash", {})
        for key in [k for k in self.timers if k[0] == name]:
            del self.timers[key]
        self.queue = [e for e in self.queue if not (e[2] == "msg" and e[3] == name)]
        heapq.heapify(self.queue)
        self.seen[name] = set()

    def restart(self, name: str) -> None:
        if self.up.get(name, True):
            return
        self.up[name] = True
        self._trace(name, "restart", {})
        node = self.nodes[name] = self.makers[name](self.envs[name])
        node.start()

    # -- the environment's side ----------------------------------------------------

    def _trace(self, node: str, kind: str, fields: dict) -> int:
        tracer = self.tracers.get(node)
        if tracer is not None:
            return tracer.emit(kind, **fields)
        seq = self.seqs.get(node, 0)
        self.seqs[node] = seq + 1
        return seq

    def _push(self, when: float, kind: str, key: str, payload: Any) -> int:
        self.order += 1
        heapq.heappush(self.queue, (when, self.order, kind, key, payload))
        return self.order

    def _send(self, src: str, to: list[str], msg: dict, meta: dict | None) -> str | None:
        self.msg_counter += 1
        msg_id = f"m{self.msg_counter}"
        self._trace(src, "send", {"msg_id": msg_id, "to": to, "msg": msg})
        sig = self.auth.sign(src, ENCODE(msg)) if self.auth is not None else None
        frame = json.dumps({"id": msg_id, "from": src, "msg": msg, "meta": meta, "sig": sig})
        for dst in to:
            for extra in self.plan.fate(src, dst):
                self._push(self.time + 0.001 + extra, "msg", dst, frame)
        return sig

    def _set_timer(self, node: str, name: str, delay: float) -> None:
        self.timers[(node, name)] = self._push(self.time + delay, "timer", node, name)

    # -- running -------------------------------------------------------------------

    def pending(self) -> int:
        return len(self.queue)

    def _live(self) -> None:
        # drop cancelled or re-armed timers from the head, so indices mean something
        self.queue = [e for e in self.queue
                      if e[2] != "timer" or self.timers.get((e[3], e[4])) == e[1]]
        heapq.heapify(self.queue)

    def step(self, index: int = 0) -> bool:
        """Run one pending event: the earliest, or the `index`-th earliest."""
        self._live()
        if not self.queue:
            return False
        if index:
            ordered = sorted(self.queue)
            entry = ordered[index % len(ordered)]
            self.queue.remove(entry)
            heapq.heapify(self.queue)
        else:
            entry = heapq.heappop(self.queue)
        when, order, kind, key, payload = entry
        self.time = max(self.time, when)
        if not self.up.get(key):
            return True
        if kind == "timer":
            if self.timers.get((key, payload)) == order:
                del self.timers[(key, payload)]
                self.nodes[key].on_timer(payload)
        else:
            self._deliver(key, payload)
        return True

    def _deliver(self, dst: str, frame: str) -> None:
        f = json.loads(frame)
        if f["id"] in self.seen[dst]:
            return  # a duplicate copy: at most one recv per addressee (FORMAT.md)
        meta = f["meta"]
        if self.auth is not None:
            if not self.auth.verify(f["from"], ENCODE(f["msg"]), f["sig"]):
                return  # a forged or corrupted message is dropped unseen
            meta = {**(meta or {}), "_sig": f["sig"]}
        self.seen[dst].add(f["id"])
        fields = {"msg_id": f["id"], "from": f["from"]}
        tracer = self.tracers.get(dst)
        if tracer is not None and f["from"] in tracer.byzantine:
            fields["msg"] = f["msg"]  # the validator does not trust a Byzantine sender's log
        self._trace(dst, "recv", fields)
        self.delivered += 1
        self.nodes[dst].on_message(f["from"], f["msg"], meta)

    def fire(self, node: str, timer: str) -> None:
        """Run `node`'s timer `timer` now: a schedule in which it expires first."""
        if self.up.get(node):
            self.timers.pop((node, timer), None)
            self.nodes[node].on_timer(timer)

    def run(self, until: Callable[[], bool] | None = None, max_steps: int = 1_000_000,
            max_time: float = float("inf")) -> int:
        steps = 0
        while steps < max_steps and self.time <= max_time:
            if until is not None and until():
                break
            if not self.step():
                break
            steps += 1
        return steps
