"""One JSON line per event, flushed as it is written (traces/FORMAT.md, smrtrace v1).

A crash loses at most the line being written: the validator tolerates a truncated
last line. `seq` continues across a crash and restart: reopening a node's file reads
its last complete event and carries on after it.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # built once: dumps() builds one per call


def header(protocol: str, nodes: list[str], clients: list[str], f: int, *,
           node: str | None = None, byzantine: list[str] | None = None,
           run: str | None = None) -> dict:
    h: dict[str, Any] = {"kind": "header", "format": "smrtrace", "version": 1,
                         "protocol": protocol, "nodes": list(nodes), "clients": list(clients), "f": f}
    if byzantine:
        h["byzantine"] = list(byzantine)
    if run is not None:
        h["run"] = run
    if node is not None:
        h["node"] = node
    return h


def _last_seq(path: str) -> int:
    """The seq of the last complete event in `path`, or -1."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        back = min(size, 1 << 16)
        fh.seek(size - back)
        lines = fh.read().split(b"\n")
    for raw in reversed(lines):
        try:
            ev = json.loads(raw)
        except ValueError:
            continue  # the truncated line a crash left, or an empty tail
        if isinstance(ev, dict) and "seq" in ev:
            return ev["seq"]
    return -1


class Tracer:
    """Appends the events of one node to its own file."""

    def __init__(self, path: str, head: dict, node: str, *, timestamps: bool = True) -> None:
        self.node = node
        self.path = path
        # a recv from a Byzantine sender carries its payload: the validator holds such a
        # sender's own log as untrusted (FORMAT.md, header field `byzantine`)
        self.byzantine = frozenset(head.get("byzantine", ()))
        self.timestamps = timestamps
        fresh = not os.path.exists(path) or os.path.getsize(path) == 0
        self.seq = 0 if fresh else _last_seq(path) + 1
        if not fresh:
            self._repair(path)
        # unbuffered appends: each event is one write(2), so it reaches the OS whole
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if fresh:
            os.write(self.fd, (ENCODE(head) + "\n").encode())

    @staticmethod
    def _repair(path: str) -> None:
        # A crash mid-line leaves a line without its "\n": end it, so the next event
        # starts a line of its own (the reader reports the broken one as truncated only
        # when it is last, so drop it instead).
        with open(path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                fh.truncate(cut)

    def emit(self, kind: str, **fields: Any) -> int:
        return self.emit_raw(kind, fields, None)

    def emit_raw(self, kind: str, fields: dict, msg_json: str | None) -> int:
        """Append one event; `msg_json`, when given, is the already encoded `msg` field
        (a send encodes its payload once, for the trace and the frame alike)."""
        seq = self.seq
        self.seq += 1
        ev = {"kind": kind, "node": self.node, "seq": seq, **fields}
        if self.timestamps:
            ev["ts"] = round(time.time(), 6)
        line = ENCODE(ev)
        if msg_json is not None:
            line = line[:-1] + ',"msg":' + msg_json + "}"
        os.write(self.fd, (line + "\n").encode())
        return seq

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
