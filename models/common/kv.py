"""The sequential specification of the replicated key-value store (impl/kvstore.py).

The service is a map from keys to values with three commands, run one at a time in
slot (sequence-number) order by every replica:

- `get K` returns K's value, or the value of an absent key ("" in impl/);
- `put K V` sets it and returns "ok";
- `append K V` concatenates V to it and returns the new value.

A command whose text is none of these returns "error: unknown op '...'" and changes
nothing, as `KVStore.apply` does, so replicas still agree on it. Replies go to clients
at most once per request id (`Sessions`): a retried request is one operation, which
`checker.linearizability.HistoryBuilder` keys by (client, request id).

The state a search carries is one key's value, never the whole map: the checker splits
a history by `key` (P-compositionality) and checks every key from `init()`, so a
cache entry holds one string, as in Porcupine's key-value model. Operations on
different keys commute, which is what makes that split exact.

Client histories in the Jepsen / Porcupine shape map onto the same commands
(`from_record`): `read` is `get`, `write` is `put`, `append` is `append`, and `cas`
`[old, new]` sets the value to `new` if it is `old` (Jepsen's compare-and-set
register). Those histories log no service answer for a write (Jepsen echoes the value
written), so a write's or an append's output is not compared there, and a never-written
key reads as null (`absent=None`). Values there are JSON: strings concatenate, any
other value is appended to a list.
"""

from __future__ import annotations

from typing import Any

from ...checker.linearizability import UNKNOWN, Spec

PROPERTY = "KV-LINEARIZABLE"


class _Unrecognised:
    """The partition of the commands `parse` does not recognise."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNRECOGNISED"


UNRECOGNISED = _Unrecognised()


class KVSpec(Spec):
    """Inputs are `(verb, key, argument)` tuples: ("get", k, None), ("put", k, v),
    ("append", k, v), ("cas", k, (old, new)), or ("invalid", text, None) for a command
    `parse` does not recognise. The state is the key's value (`absent` until set)."""

    name = "kv"
    property = PROPERTY

    def __init__(self, absent: Any = "", put_result: Any = "ok") -> None:
        self.absent = absent
        self.put_result = put_result

    # The service's semantics.

    def init(self) -> Any:
        return self.absent

    def apply(self, state: Any, input: tuple[str, Any, Any]) -> tuple[Any, Any]:
        verb, key, arg = input
        if verb == "get":
            return state, state
        if verb == "put":
            return self.put_result, arg
        if verb == "append":
            new = _append(state, arg, self.absent)
            return new, new
        if verb == "cas":
            old, new = arg
            return (True, new) if state == old else (False, state)
        return f"error: unknown op {key!r}", state

    def key(self, input: tuple[str, Any, Any]) -> Any:
        """The key (None in a history without keys: one register); every
        unrecognised command in one partition of its own, since it touches no value."""
        return UNRECOGNISED if input[0] == "invalid" else input[1]

    def read_only(self, input: tuple[str, Any, Any]) -> bool:
        return input[0] in ("get", "invalid")

    @staticmethod
    def parse(op: str) -> tuple[str, Any, Any]:
        """A command of a trace (`request`'s `op`) as an input, split exactly as
        `KVStore.apply` splits it."""
        parts = op.split(" ", 2)
        n = len(parts)
        if n == 3:
            verb = parts[0]
            if verb == "put":  # the verbs as constants: the search compares them often
                return ("put", parts[1], parts[2])
            if verb == "append":
                return ("append", parts[1], parts[2])
        elif n == 2 and parts[0] == "get":
            return ("get", parts[1], None)
        return ("invalid", op, None)

    # Jepsen / Porcupine client histories.

    def from_record(self, f: str, key: Any, value: Any, result: Any) -> tuple[Any, Any]:
        if f == "read":
            return ("get", key, None), result
        if f == "write":
            return ("put", key, value), UNKNOWN
        if f == "append":
            return ("append", key, value), UNKNOWN
        if f == "cas":
            if not (isinstance(value, tuple) and len(value) == 2):
                raise ValueError(f"a cas takes [old, new], got {value!r}")
            return ("cas", key, value), (True if result is not UNKNOWN else UNKNOWN)
        raise ValueError(f"unknown f {f!r}: the kv spec takes read, write, append and cas")

    # Reports.

    def describe_input(self, input: tuple[str, Any, Any]) -> str:
        verb, key, arg = input
        if verb == "invalid":
            return repr(key)
        words = [verb] if key is None else [verb, _text(key)]  # a keyless register
        if verb == "cas":
            words.append(f"{_text(arg[0])}->{_text(arg[1])}")
        elif verb != "get":
            words.append(_text(arg))
        return " ".join(words)

    def describe_output(self, output: Any) -> str:
        return "?" if output is UNKNOWN else _text(output)

    def describe_state(self, state: Any) -> str:
        return "(absent)" if state is None else _text(state)

    def describe_key(self, key: Any) -> str:
        return "(unrecognised commands)" if key is UNRECOGNISED else _text(key)


def _append(state: Any, arg: Any, absent: Any) -> Any:
    if isinstance(arg, str) and (isinstance(state, str) or state is None):
        return (state or "") + arg
    base = () if state is None or state == absent else state
    if not isinstance(base, tuple):
        base = (base,)
    return base + (arg,)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


KV = KVSpec()  # impl/kvstore.py: absent "", put -> "ok", append -> the new value
KV_HISTORY = KVSpec(absent=None, put_result=None)  # Jepsen / Porcupine histories
