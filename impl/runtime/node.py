"""What a node may do (`Env`) and what a runtime calls on it (`Node`).

A handler runs to completion: it reads its state, sends messages, sets timers and
appends durable records, and the runtime does the I/O afterwards. So one replica
class runs unchanged on the simulated network and over TCP, and a simulated run is a
pure function of its seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol


class Env(Protocol):
    name: str
    rng: random.Random

    def now(self) -> float: ...

    def send(self, to: Sequence[str], msg: dict, meta: dict | None = None) -> None:
        """Send one traced message to `to`. `meta` rides in the frame, untraced: data the
        model does not see (a heartbeat's ballot, a catch-up position)."""

    def set_timer(self, name: str, delay: float) -> None:
        """(Re)arm the timer `name`; `on_timer(name)` runs after `delay` seconds."""

    def cancel_timer(self, name: str) -> None: ...

    def trace(self, kind: str, **fields: Any) -> None:
        """Append one event (decide, execute, request, result, note) to the trace."""


class Node:
    """A protocol role: handlers only, no I/O of its own."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def start(self) -> None:
        pass

    def on_message(self, src: str, msg: dict, meta: dict | None) -> None:
        pass

    def on_timer(self, name: str) -> None:
        pass
