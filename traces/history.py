"""Client histories in the shape Jepsen and Porcupine users log, as JSON Lines.

One record a line, UTF-8 (a byte-order mark is skipped, blank lines ignored):

    {"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 3}
    {"process": 0, "type": "ok",     "f": "write", "key": "x", "value": 3}
    {"process": 1, "type": "invoke", "f": "read",  "key": "x", "value": null}
    {"process": 1, "type": "info",   "f": "read",  "key": "x", "value": null}

- `process` (string or integer): who issued the operation. A process runs one
  operation at a time: its `invoke` is answered by the next record of that process.
- `type`: `invoke`; then `ok` (it happened, `value` is what the client saw), `fail`
  (it did not happen: the operation is dropped), or `info` (indeterminate: it may or
  may not have happened; it stays pending, as does an invoke never answered).
- `f` (string; a leading ":" of a Clojure keyword is ignored): the operation, which the
  spec maps to an input (`Spec.from_record`; the kv spec takes read, write, append,
  cas).
- `key` (optional): the key, for specs checked per key; `value` (optional, default
  null): the invocation's argument, or on `ok` the result. JSON arrays become tuples.
- `time` (optional, a number): when the record happened. Either every record has one
  (real time is then their order, equal times concurrent) or none has, and real time
  is the line order.
- Records of the `nemesis` process (Jepsen's fault injector) are skipped.

Anything else is an input error naming the file, the line and the field
(`InvalidTrace`, exit 2). `check_history_file` reads a file and checks it.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

from ..checker.errors import InvalidModel, InvalidTrace, UsageError
from ..checker.loader import load_module
from ..checker.linearizability import (UNKNOWN, LinearizabilityResult, Operation,
                                       check, render_text)

TYPES = ("invoke", "ok", "fail", "info")
BUILTIN_SPECS = ("kv",)


def read_history(path: str | pathlib.Path, spec: Any) -> list[Operation]:
    """The operations of a history file, inputs and outputs mapped by `spec`."""
    name = str(path)
    try:
        raw = pathlib.Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{name}: cannot read the history: {exc.strerror or exc}") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InvalidTrace(f"{name}:{line}: not UTF-8 text (byte {exc.start})") from None
    reader = _Reader(name, spec)
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            reader.record(number, line)
    return reader.finish()


class _Reader:
    def __init__(self, name: str, spec: Any) -> None:
        self.name = name
        self.spec = spec
        self.open: dict[Any, tuple[int, str, Any, Any, float]] = {}  # process -> invoke
        self.ops: list[Operation] = []
        self.timed: bool | None = None

    def error(self, line: int, field: str, message: str) -> InvalidTrace:
        return InvalidTrace(f"{self.name}:{line}: field {field!r}: {message}")

    def record(self, line: int, text: str) -> None:
        try:
            rec = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise InvalidTrace(f"{self.name}:{line}: not a JSON object: {exc}") from None
        if not isinstance(rec, dict):
            raise InvalidTrace(f"{self.name}:{line}: not a JSON object")
        process = rec.get("process")
        if process == "nemesis" or process == ":nemesis":
            return
        if isinstance(process, bool) or not isinstance(process, (str, int)):
            raise self.error(line, "process", f"a string or an integer, got {process!r}")
        kind = rec.get("type")
        if isinstance(kind, str):
            kind = kind.lstrip(":")
        if kind not in TYPES:
            raise self.error(line, "type", f"one of {', '.join(TYPES)}, got {kind!r}")
        f = rec.get("f")
        if not isinstance(f, str) or not f.lstrip(":"):
            raise self.error(line, "f", f"the operation's name as a string, got {f!r}")
        f = f.lstrip(":")
        time = self.time(line, rec)
        key = _freeze(rec.get("key"))
        value = _freeze(rec.get("value"))
        if kind == "invoke":
            if process in self.open:
                first = self.open[process][0]
                raise self.error(line, "process", f"{process!r} invokes again while its "
                                 f"operation of line {first} is open: a process runs one "
                                 "operation at a time (answer it with ok, fail or info first)")
            self.open[process] = (line, f, key, value, time)
            return
        if process not in self.open:
            raise self.error(line, "type", f"{kind!r} for process {process!r}, which has no "
                             "open invoke")
        first, f0, key0, value0, call = self.open.pop(process)
        if f != f0:
            raise self.error(line, "f", f"{f!r} answers the invoke of line {first}, which "
                             f"was {f0!r}")
        if "key" in rec and key != key0:
            raise self.error(line, "key", f"{rec.get('key')!r} answers the invoke of line "
                             f"{first}, whose key was {key0!r}")
        if time < call:
            raise self.error(line, "time", f"{time} is before its invoke's ({call}, line "
                             f"{first})")
        if kind == "fail":
            return
        result = value if kind == "ok" else UNKNOWN
        self.add(first, process, f0, key0, value0, call, result,
                 None if kind == "info" else time, line)

    def time(self, line: int, rec: dict) -> float:
        has = "time" in rec
        if self.timed is None:
            self.timed = has
        elif self.timed != has:
            raise self.error(line, "time", "present in some records and not others: give "
                             "every record a time, or none (real time is then the line order)")
        if not has:
            return line
        t = rec["time"]
        if isinstance(t, bool) or not isinstance(t, (int, float)):
            raise self.error(line, "time", f"a number, got {t!r}")
        return t

    def add(self, line: int, process: Any, f: str, key: Any, value: Any, call: float,
            result: Any, ret: float | None, ret_line: int | None) -> None:
        try:
            inp, out = self.spec.from_record(f, key, value, result)
        except ValueError as exc:
            field = "f" if str(exc).startswith("unknown f") else "value"
            raise self.error(line, field, str(exc)) from None
        except Exception as exc:  # a bug in a user's spec: name it, not a traceback
            raise InvalidModel(f"spec {getattr(self.spec, 'name', self.spec)!r}: "
                               f"from_record({f!r}, ...) on {self.name}:{line} raised "
                               f"{type(exc).__name__}: {exc}") from None
        if ret is None:
            out = UNKNOWN
        self.ops.append(Operation(
            id=f"{process}@{line}", client=str(process), input=inp, call=call, ret=ret,
            output=out, call_ref=f"{self.name}:{line}",
            ret_ref="" if ret_line is None or ret is None else f"{self.name}:{ret_line}"))

    def finish(self) -> list[Operation]:
        for process, (line, f, key, value, call) in sorted(self.open.items(),
                                                            key=lambda p: p[1][0]):
            self.add(line, process, f, key, value, call, UNKNOWN, None, None)
        self.open.clear()
        return self.ops


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def load_spec(name: str) -> Any:
    """A spec by name: `kv` (the key-value store), or a user's `module:attr` /
    `path/to/file.py:attr` naming a Spec instance or class."""
    if name == "kv":
        from ..models.common.kv import KV_HISTORY

        return KV_HISTORY
    if ":" not in name:
        raise UsageError(f"unknown spec {name!r}: use one of {', '.join(BUILTIN_SPECS)}, "
                         "or module:attr, or path/to/spec.py:attr")
    where, _, attr = name.rpartition(":")
    try:
        module = load_module(where, "spec")  # as `smrcheck check` loads a model's file
    except UsageError as err:
        raise UsageError(f"spec {name!r}: cannot import {where}: {err}") from None
    obj = getattr(module, attr, None)
    if obj is None:
        raise UsageError(f"spec {name!r}: {where} has no {attr!r}")
    if isinstance(obj, type):
        obj = obj()
    if not (callable(getattr(obj, "init", None)) and callable(getattr(obj, "apply", None))):
        raise UsageError(f"spec {name!r} is not a spec: it needs init() and apply(state, "
                         "input) (subclass smrcheck.checker.linearizability.Spec)")
    return obj


def check_history_file(path: str | pathlib.Path, spec_name: str = "kv", *,
                       max_steps: int | None = None) -> LinearizabilityResult:
    """Read a history file and check it against the named spec (`load_spec`)."""
    spec = load_spec(spec_name)
    return check(spec, read_history(path, spec), max_steps=max_steps)


__all__ = ["read_history", "load_spec", "check_history_file", "render_text"]
