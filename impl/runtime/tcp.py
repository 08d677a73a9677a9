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
from .tracer import ENCODE, Tracer

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


class FrameReader(asyncio.Protocol):
    """One incoming connection: splits the byte stream into frames, delivers each."""

    def __init__(self, host: TcpHost) -> None:
        self.host = host
        self.buf = bytearray()

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.host.readers.add(self)

    def connection_lost(self, exc) -> None:
        self.host.readers.discard(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        pos, end = 0, len(buf)
        while end - pos >= HEAD.size:
            (size,) = HEAD.unpack_from(buf, pos)
            if size > MAX_FRAME:
                self.transport.close()
                return
            if end - pos - HEAD.size < size:
                break
            start = pos + HEAD.size
            try:
                frame = json.loads(buf[start:start + size])
            except ValueError:
                self.transport.close()
                return
            pos = start + size
            self.host.deliver(frame)
        del buf[:pos]


class TcpEnv:
    def __init__(self, host: TcpHost) -> None:
        self.host = host
        self.name = host.name
        self.rng = random.Random(f"{host.seed}:{host.name}:{host.tracer.seq}")
        self.timers: dict[str, asyncio.TimerHandle] = {}

    def now(self) -> float:
        return self.host.loop.time()

    def send(self, to: Sequence[str], msg: dict, meta: dict | None = None) -> str | None:
        tracer = self.host.tracer
        msg_id = f"{self.name}.{tracer.seq}"
        msg_json = ENCODE(msg)
        tracer.emit_raw("send", {"msg_id": msg_id, "to": list(to)}, msg_json)
        auth = self.host.auth
        sig = auth.sign(self.name, msg_json) if auth is not None else None
        self.host.outbox.append((list(to), msg_id, msg, msg_json, meta, sig))
        self.host.schedule_flush()
        return sig

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
                 storage, make: Callable[[TcpEnv], Node], plan: FaultPlan, seed: int = 0,
                 auth=None) -> None:
        self.name = name
        self.auth = auth  # a Keyring: sign what leaves, verify what arrives
        self.addrs = addrs
        self.tracer = tracer
        self.storage = storage
        self.make = make
        self.plan = plan
        self.seed = seed
        self.outbox: list = []
        self.flushing = False
        self.syncing = False
        self.seen: set[str] = set()
        self.peers: dict[str, Peer] = {}
        self.readers: set[FrameReader] = set()
        self.server: asyncio.AbstractServer | None = None
        self.node: Node | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        host, port = self.addrs[self.name]
        assert host == "127.0.0.1", "nodes bind to loopback only"
        self.server = await self.loop.create_server(lambda: FrameReader(self), host, port,
                                                    reuse_address=True)
        self.env = TcpEnv(self)
        self.node = self.make(self.env)
        self.node.start()
        self.schedule_flush()

    async def stop(self) -> None:
        for h in self.env.timers.values():
            h.cancel()
        if self.server is not None:
            self.server.close()
        for r in list(self.readers):
            r.transport.close()
        for p in self.peers.values():
            p.task.cancel()
        self.tracer.close()
        if self.storage is not None:
            self.storage.close()

    # -- receiving -----------------------------------------------------------------

    def deliver(self, frame: dict) -> None:
        meta = frame.get("meta")
        if self.auth is not None:
            sig = frame.get("sig")
            if not self.auth.verify(frame["from"], ENCODE(frame["msg"]), sig):
                return  # forged or corrupted: dropped unseen
            meta = {**(meta or {}), "_sig": sig}
        self.receive(frame["id"], frame["from"], frame["msg"], meta)

    def receive(self, fid: str, src: str, msg: dict, meta: dict | None) -> None:
        if fid in self.seen:
            return
        self.seen.add(fid)
        tracer = self.tracer
        tracer.emit_raw("recv", {"msg_id": fid, "from": src},
                        ENCODE(msg) if src in tracer.byzantine else None)
        self.node.on_message(src, msg, meta)

    def fire(self, name: str) -> None:
        self.env.timers.pop(name, None)
        self.node.on_timer(name)

    # -- sending -------------------------------------------------------------------

    def schedule_flush(self) -> None:
        if not self.flushing:
            self.flushing = True
            self.loop.call_soon(self.flush)

    def flush(self) -> None:
        """Group commit: fsync what the handlers appended, then let their messages go.

        The fsync runs on a worker thread; handlers keep running meanwhile and their
        messages wait for the next fsync, so one fsync covers a growing batch."""
        self.flushing = False
        if self.syncing:
            self.flushing = True  # the running fsync's completion flushes again
            return
        outbox, self.outbox = self.outbox, []
        if self.storage is not None and self.storage.dirty:
            self.syncing = True
            fut = self.loop.run_in_executor(None, self.storage.sync)
            fut.add_done_callback(lambda _f: self.synced(outbox))
        else:
            self.transmit(outbox)

    def synced(self, outbox: list) -> None:
        self.syncing = False
        self.flushing = False
        self.transmit(outbox)
        if self.outbox:
            self.schedule_flush()

    def transmit(self, outbox: list) -> None:
        for to, msg_id, msg, msg_json, meta, sig in outbox:
            data = ('{"id":' + ENCODE(msg_id) + ',"from":' + ENCODE(self.name) + ',"msg":'
                    + msg_json + ',"meta":' + ENCODE(meta) + ',"sig":' + ENCODE(sig) + "}").encode()
            frame = HEAD.pack(len(data)) + data
            for dst in to:
                for delay in self.plan.fate(self.name, dst):
                    if dst == self.name:  # to itself: no socket, no decoding
                        own = meta if sig is None else {**(meta or {}), "_sig": sig}
                        self.loop.call_soon(self.receive, msg_id, self.name, msg, own)
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
