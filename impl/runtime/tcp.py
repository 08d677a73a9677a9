"""The real transport: one node per `TcpHost`, frames over TCP on 127.0.0.1.

A frame is a 4-byte big-endian length and a JSON object `{"id", "from", "msg",
"meta"}`. Each host listens on its own port (127.0.0.1 only) and opens one outgoing
connection per peer, reconnecting with a short backoff; frames queued for a peer
whose connection fails are lost, which the protocols tolerate like any other loss.

Handlers run on the event loop; what they send waits in an outbox until the batch of
handlers that produced it is over, then storage is fsynced once (group commit) and
the outbox leaves through the fault layer (`FaultPlan`). A duplicate frame (same id)
is dropped before it is traced: a node receives each message at most once.
"""

from __future__ import annotations

import asyncio
import json
import random
import struct
from collections.abc import Callable, Sequence
from typing import Any

from .faults import FaultPlan
from .node import Node
from .tracer import Tracer

HEAD = struct.Struct(">I")
MAX_FRAME = 64 << 20


class Peer:
    """The outgoing connection to one node: a queue and a task that writes it."""

    def __init__(self, host: TcpHost, name: str, addr: tuple[str, int]) -> None:
        self.host = host
        self.name = name
        self.addr = addr
        self.queue: list[bytes] = []
        self.wake = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self.run())

    def put(self, frame: bytes) -> None:
        if len(self.queue) < 100_000:
            self.queue.append(frame)
            self.wake.set()

    async def run(self) -> None:
        delay = 0.01
        while True:
            try:
                _, writer = await asyncio.open_connection(*self.addr)
            except OSError:
                self.queue.clear()  # nobody there: what was sent is lost
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.2)
                continue
            delay = 0.01
            try:
                while True:
                    await self.wake.wait()
                    self.wake.clear()
                    batch, self.queue = self.queue, []
                    writer.write(b"".join(batch))
                    await writer.drain()
            except (OSError, ConnectionError):
                self.queue.clear()
            finally:
                writer.close()


class TcpEnv:
    def __init__(self, host: TcpHost) -> None:
        self.host = host
        self.name = host.name
        self.rng = random.Random(f"{host.seed}:{host.name}:{host.tracer.seq}")
        self.timers: dict[str, asyncio.TimerHandle] = {}

    def now(self) -> float:
        return self.host.loop.time()

    def send(self, to: Sequence[str], msg: dict, meta: dict | None = None) -> None:
        tracer = self.host.tracer
        msg_id = f"{self.name}.{tracer.seq}"
        tracer.emit("send", msg_id=msg_id, to=list(to), msg=msg)
        self.host.outbox.append((list(to), msg_id, msg, meta))
        self.host.schedule_flush()

    def set_timer(self, name: str, delay: float) -> None:
        self.cancel_timer(name)
        self.timers[name] = self.host.loop.call_later(delay, self.host.fire, name)

    def cancel_timer(self, name: str) -> None:
        h = self.timers.pop(name, None)
        if h is not None:
            h.cancel()

    def trace(self, kind: str, **fields: Any) -> None:
        self.host.tracer.emit(kind, **fields)


class TcpHost:
    def __init__(self, name: str, addrs: dict[str, tuple[str, int]], tracer: Tracer,
                 storage, make: Callable[[TcpEnv], Node], plan: FaultPlan, seed: int = 0) -> None:
        self.name = name
        self.addrs = addrs
        self.tracer = tracer
        self.storage = storage
        self.make = make
        self.plan = plan
        self.seed = seed
        self.outbox: list = []
        self.flushing = False
        self.seen: set[str] = set()
        self.peers: dict[str, Peer] = {}
        self.server: asyncio.AbstractServer | None = None
        self.node: Node | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        host, port = self.addrs[self.name]
        assert host == "127.0.0.1", "nodes bind to loopback only"
        self.server = await asyncio.start_server(self.serve, host, port, reuse_address=True)
        self.env = TcpEnv(self)
        self.node = self.make(self.env)
        self.node.start()
        self.schedule_flush()

    async def stop(self) -> None:
        for h in self.env.timers.values():
            h.cancel()
        if self.server is not None:
            self.server.close()
        for p in self.peers.values():
            p.task.cancel()
        self.tracer.close()
        if self.storage is not None:
            self.storage.close()

    # -- receiving -----------------------------------------------------------------

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readexactly(HEAD.size)
                (size,) = HEAD.unpack(head)
                if size > MAX_FRAME:
                    break
                self.deliver(json.loads(await reader.readexactly(size)))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down: end quietly (asyncio logs a cancelled server callback)
        finally:
            writer.close()

    def deliver(self, frame: dict) -> None:
        fid = frame["id"]
        if fid in self.seen:
            return
        self.seen.add(fid)
        self.tracer.emit("recv", msg_id=fid, **{"from": frame["from"]})
        self.node.on_message(frame["from"], frame["msg"], frame.get("meta"))

    def fire(self, name: str) -> None:
        self.env.timers.pop(name, None)
        self.node.on_timer(name)

    # -- sending -------------------------------------------------------------------

    def schedule_flush(self) -> None:
        if not self.flushing:
            self.flushing = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        self.flushing = False
        if self.storage is not None:
            self.storage.sync()  # group commit: durable before anyone hears of it
        outbox, self.outbox = self.outbox, []
        for to, msg_id, msg, meta in outbox:
            data = json.dumps({"id": msg_id, "from": self.name, "msg": msg, "meta": meta},
                              separators=(",", ":")).encode()
            frame = HEAD.pack(len(data)) + data
            for dst in to:
                for delay in self.plan.fate(self.name, dst):
                    if dst == self.name:
                        self.loop.call_soon(self.deliver, json.loads(data))
                    elif delay:
                        self.loop.call_later(delay, self.put, dst, frame)
                    else:
                        self.put(dst, frame)

    def put(self, dst: str, frame: bytes) -> None:
        peer = self.peers.get(dst)
        if peer is None:
            if dst not in self.addrs:
                return
            peer = self.peers[dst] = Peer(self, dst, self.addrs[dst])
        peer.put(frame)
