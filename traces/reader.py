"""Reading smrtrace files: headers, a fast hand-written line check, the causal merger.

A run is one merged file or a directory of files (FORMAT.md). `open_run` reads every
header with pydantic and checks they agree; `Merger` then streams the events of all
files in an order consistent with causality: each node's events by `seq`, every
`recv` after its `send`. Wall-clock `ts` is never consulted, because clocks skew.

The merger holds back a node whose next event is a `recv` of a message not yet sent
(its later events queue behind it) and releases it when the `send` arrives. Memory is
the messages in flight plus the held-back events, not the length of the trace: a
`send` is forgotten once every addressee has received it. A per-node file whose node
is held back is not read further until it is released; when every file is held back
or exhausted, the oldest held-back `recv` has no `send` anywhere: it is released
marked as fabricated (`NET-AUTHENTIC`), so the rest of the run is still checked.

Events are checked by hand against tables that mirror the pydantic models in
`format.py`, because pydantic per event costs several times json.loads; when the hand
check rejects a line, pydantic names the field (`format.explain_line`). Reading,
checking and merging are one loop (`Merger._pump`), so each event is touched once on
its way to the monitor.
"""

from __future__ import annotations

import json
import os
import pathlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from json.scanner import c_make_scanner, py_make_scanner
from pydantic import ValidationError

from ..checker.errors import InvalidTrace
from .format import HEADER_ADAPTER, Header, explain_line, first_error

# The C scanner behind json.loads, called directly: it parses one JSON value from an
# index and returns (value, end), without json.loads' Python wrapper and whitespace
# regex, which cost as much as the parse itself on a short line. Strict, like loads:
# a raw control character inside a string is an error.
_SCAN = (c_make_scanner or py_make_scanner)(json.JSONDecoder())

# -- field checks (mirror format.py) ----------------------------------------------------


def _nonneg(v: Any) -> bool:
    return type(v) is int and v >= 0


def _name(v: Any) -> bool:
    return type(v) is str and len(v) > 0


def _text(v: Any) -> bool:
    return type(v) is str


def _flag(v: Any) -> bool:
    return type(v) is bool


def _names(v: Any) -> bool:
    return type(v) is list and len(v) > 0 and all(_name(x) for x in v)


def _command(v: Any) -> bool:
    # inlined field checks: a command sits in most hot events
    if v.__class__ is not dict or len(v) != 3:
        return False
    client, req = v.get("client"), v.get("req")
    return (client.__class__ is str and client != "" and req.__class__ is int and req >= 0
            and v.get("op").__class__ is str)


def _cmd_or_null(v: Any) -> bool:
    return v is None or _command(v)


def _ballot(v: Any) -> bool:
    return type(v) is list and len(v) == 2 and _nonneg(v[0]) and _name(v[1])


def _ballot_or_null(v: Any) -> bool:
    return v is None or _ballot(v)


def _promised(v: Any) -> bool:
    return type(v) is list and all(
        type(e) is list and len(e) == 3 and _nonneg(e[0]) and _ballot(e[1]) and _cmd_or_null(e[2])
        for e in v)


def _prepared(v: Any) -> bool:
    return type(v) is list and all(
        type(e) is list and len(e) == 3 and _nonneg(e[0]) and _nonneg(e[1]) and _name(e[2]) for e in v)


def _pre_prepares(v: Any) -> bool:
    return type(v) is list and all(
        type(e) is list and len(e) == 2 and _nonneg(e[0]) and _name(e[1]) for e in v)


def _number(v: Any) -> bool:
    return v is None or (type(v) in (int, float))


def _obj_or_null(v: Any) -> bool:
    return v is None or type(v) is dict


# (field, check, required). Optional fields that are absent are fine.
Fields = tuple[tuple[str, Any, bool], ...]

_MP_PAYLOADS: dict[str, Fields] = {
    "request": (("cmd", _command, True),),
    "prepare": (("ballot", _ballot, True),),
    "promise": (("ballot", _ballot, True), ("accepted", _promised, False)),
    "accept": (("ballot", _ballot, True), ("slot", _nonneg, True), ("cmd", _cmd_or_null, True)),
    "accepted": (("ballot", _ballot, True), ("slot", _nonneg, True), ("cmd", _cmd_or_null, True)),
    "decide": (("slot", _nonneg, True), ("cmd", _cmd_or_null, True)),
    "reply": (("client", _name, True), ("req", _nonneg, True), ("result", _text, True)),
    "heartbeat": (),
}
_PBFT_PAYLOADS: dict[str, Fields] = {
    "request": (("cmd", _command, True),),
    "pre-prepare": (("view", _nonneg, True), ("n", _nonneg, True), ("digest", _name, True),
                    ("cmd", _cmd_or_null, True)),
    "prepare": (("view", _nonneg, True), ("n", _nonneg, True), ("digest", _name, True)),
    "commit": (("view", _nonneg, True), ("n", _nonneg, True), ("digest", _name, True)),
    "view-change": (("view", _nonneg, True), ("prepared", _prepared, False)),
    "new-view": (("view", _nonneg, True), ("pre_prepares", _pre_prepares, False)),
    "reply": (("view", _nonneg, True), ("client", _name, True), ("req", _nonneg, True),
              ("result", _text, True)),
    "heartbeat": (),
}
PAYLOADS = {"multipaxos": _MP_PAYLOADS, "pbft": _PBFT_PAYLOADS}

_COMMON_KINDS: dict[str, Fields] = {
    "send": (("msg_id", _name, True), ("to", _names, True)),  # msg checked by payload table
    "recv": (("msg_id", _name, True), ("from", _name, True), ("msg", _obj_or_null, False)),
    "request": (("req", _nonneg, True), ("op", _text, True)),
    "result": (("req", _nonneg, True), ("result", _text, True)),
    "crash": (),
    "restart": (),
    "note": (("text", _text, False),),
}
KINDS = {
    "multipaxos": {
        **_COMMON_KINDS,
        "decide": (("slot", _nonneg, True), ("cmd", _cmd_or_null, True),
                   ("ballot", _ballot_or_null, False)),
        "execute": (("slot", _nonneg, True), ("cmd", _cmd_or_null, True),
                    ("applied", _flag, False), ("result", lambda v: v is None or _text(v), False)),
    },
    "pbft": {
        **_COMMON_KINDS,
        "decide": (("view", _nonneg, True), ("n", _nonneg, True), ("digest", _name, True)),
        "execute": (("n", _nonneg, True), ("digest", _name, True), ("cmd", _cmd_or_null, True),
                    ("applied", _flag, False), ("result", lambda v: v is None or _text(v), False)),
    },
}


def _check_fields(obj: dict, spec: Fields) -> str | None:
    for name, check, required in spec:
        if name in obj:
            if not check(obj[name]):
                return name
        elif required:
            return name
    return None


# The hottest shapes, checked in straight-line code (the same rules as their tables,
# which `test_fast_checks_match_their_tables` holds together).


def _vote_ok(m: dict) -> bool:
    """MultiPaxos accept / accepted: ballot, slot, cmd."""
    b = m.get("ballot")
    slot = m.get("slot")
    if (b.__class__ is not list or len(b) != 2 or b[0].__class__ is not int or b[0] < 0
            or b[1].__class__ is not str or not b[1] or slot.__class__ is not int or slot < 0
            or "cmd" not in m):
        return False
    c = m["cmd"]
    return c is None or _command(c)


def _pbft_vote_ok(m: dict) -> bool:
    """PBFT prepare / commit: view, n, digest."""
    v, n, d = m.get("view"), m.get("n"), m.get("digest")
    return (v.__class__ is int and v >= 0 and n.__class__ is int and n >= 0
            and d.__class__ is str and len(d) > 0)


def _execute_tail_ok(e: dict) -> bool:
    """The optional fields of an execute: applied (a flag), result (text or null)."""
    if "applied" in e and e["applied"].__class__ is not bool:
        return False
    if "result" in e:
        r = e["result"]
        return r is None or r.__class__ is str
    return True


def _mp_decide_ok(e: dict) -> bool:
    """MultiPaxos decide: slot, cmd, optional ballot."""
    slot = e.get("slot")
    if slot.__class__ is not int or slot < 0 or "cmd" not in e:
        return False
    c = e["cmd"]
    if c is not None and not _command(c):
        return False
    return "ballot" not in e or _ballot_or_null(e["ballot"])


def _mp_execute_ok(e: dict) -> bool:
    """MultiPaxos execute: slot, cmd, optional applied and result."""
    slot = e.get("slot")
    if slot.__class__ is not int or slot < 0 or "cmd" not in e:
        return False
    c = e["cmd"]
    return (c is None or _command(c)) and _execute_tail_ok(e)


def _pbft_execute_ok(e: dict) -> bool:
    """PBFT execute: n, digest, cmd, optional applied and result."""
    n, d = e.get("n"), e.get("digest")
    if n.__class__ is not int or n < 0 or d.__class__ is not str or not d or "cmd" not in e:
        return False
    c = e["cmd"]
    return (c is None or _command(c)) and _execute_tail_ok(e)


def _compile(spec: Fields) -> Any:
    if not spec:
        return lambda obj: True
    return lambda obj: _check_fields(obj, spec) is None


FAST = {("multipaxos", "accept"): _vote_ok, ("multipaxos", "accepted"): _vote_ok,
        ("pbft", "prepare"): _pbft_vote_ok, ("pbft", "commit"): _pbft_vote_ok}
# Events, by kind: a PBFT decide has the shape of a prepare (view, n, digest).
FAST_KINDS = {("multipaxos", "decide"): _mp_decide_ok, ("multipaxos", "execute"): _mp_execute_ok,
              ("pbft", "decide"): _pbft_vote_ok, ("pbft", "execute"): _pbft_execute_ok}


def payload_checks(protocol: str) -> dict[str, Any]:
    """Per message type, a function that says whether a payload is well-formed."""
    return {t: FAST.get((protocol, t)) or _compile(spec) for t, spec in PAYLOADS[protocol].items()}


def kind_checks(protocol: str) -> dict[str, Any]:
    return {k: FAST_KINDS.get((protocol, k)) or _compile(spec) for k, spec in KINDS[protocol].items()}


# -- run and sources --------------------------------------------------------------------


@dataclass(slots=True)
class Warning_:
    file: str
    line: int
    message: str


@dataclass
class Source:
    """One file of a run, read line by line after its header."""

    path: str
    header: Header
    header_line: int
    handle: Any
    lineno: int
    # Per node, in this file: the seq its next event must have, and the line of its
    # last one. Per file, so that a node's events in a second file are a fault even
    # when their seqs continue the first file's.
    next_seq: dict[str, int] = field(default_factory=dict)
    last_line: dict[str, int] = field(default_factory=dict)

    @property
    def node(self) -> str | None:
        return self.header.node


@dataclass
class Run:
    header: Header  # the agreed header (its `node` is that of the first file)
    sources: list[Source]
    warnings: list[Warning_] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return [s.path for s in self.sources]

    def close(self) -> None:
        for s in self.sources:
            s.handle.close()


def trace_files(paths: Sequence[str]) -> list[str]:
    """The files named, a directory standing for its *.jsonl files in name order."""
    if not paths:
        raise InvalidTrace("no trace given: name a .jsonl file or a directory of them")
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(str(x) for x in pathlib.Path(p).glob("*.jsonl"))
            if not found:
                raise InvalidTrace(f"{p}: directory holds no *.jsonl trace files")
            out += found
        elif os.path.exists(p):
            out.append(p)
        else:
            raise InvalidTrace(f"{p}: no such file or directory")
    if len(set(out)) != len(out):
        raise InvalidTrace("a trace file is named twice")
    return out


_AGREE = ("format", "version", "protocol", "nodes", "clients", "f", "byzantine", "logged", "run")


def _read_header(path: str) -> Source:
    try:
        handle = open(path, encoding="utf-8", newline="\n")
    except OSError as err:
        raise InvalidTrace(f"{path}: cannot read: {err.strerror}") from None
    lineno = 0
    try:
        for raw in handle:
            lineno += 1
            if raw.strip():
                break
        else:
            raise InvalidTrace(f"{path}: the file is empty; a trace starts with a header line "
                               '{"kind":"header","format":"smrtrace",...}')
        try:
            obj = json.loads(raw)
        except ValueError as err:
            raise InvalidTrace(f"{path} line {lineno}: not valid JSON ({err.msg}); the first "
                               "line must be the header") from None
        except UnicodeDecodeError:
            raise InvalidTrace(f"{path} line {lineno}: not UTF-8 text") from None
        if not isinstance(obj, dict) or obj.get("kind") != "header":
            got = obj.get("kind") if isinstance(obj, dict) else type(obj).__name__
            raise InvalidTrace(f"{path} line {lineno}: expected a header first "
                               f'({{"kind":"header",...}}), got kind {got!r}')
        try:
            header = HEADER_ADAPTER.validate_python(obj)
        except ValidationError as err:
            raise InvalidTrace(f"{path} line {lineno}: header {first_error(err)}") from None
    except BaseException:
        handle.close()
        raise
    _check_header(header, path, lineno)
    return Source(path, header, lineno, handle, lineno)


def _check_header(h: Header, path: str, line: int) -> None:
    where = f"{path} line {line}: header"
    names = h.nodes + h.clients
    if len(set(names)) != len(names):
        raise InvalidTrace(f"{where} names a node twice in nodes/clients")
    for fld in ("byzantine", "logged"):
        for x in getattr(h, fld) or ():
            if x not in names if fld == "logged" else x not in h.nodes:
                raise InvalidTrace(f"{where} field {fld}: {x!r} is not a node of the header")
    if h.node is not None and h.node not in names:
        raise InvalidTrace(f"{where} field node: {h.node!r} is not in nodes or clients")


def open_run(paths: Sequence[str]) -> Run:
    sources: list[Source] = []
    try:
        for path in trace_files(paths):
            sources.append(_read_header(path))
        first = sources[0]
        for s in sources[1:]:
            for fld in _AGREE:
                a, b = getattr(first.header, fld), getattr(s.header, fld)
                if a != b:
                    raise InvalidTrace(f"{s.path} line {s.header_line}: headers disagree: {fld} is "
                                       f"{json.dumps(b)} here but {json.dumps(a)} in {first.path}; "
                                       "the files of one run share one header")
        per_node = [s.node for s in sources if s.node is not None]
        if len(set(per_node)) != len(per_node):
            dup = next(x for x in per_node if per_node.count(x) > 1)
            raise InvalidTrace(f"two files are both the per-node file of {dup}")
    except BaseException:
        for s in sources:
            s.handle.close()
        raise
    return Run(first.header, sources)


# -- the merger -------------------------------------------------------------------------

RETIRED_MEMORY = 1 << 13  # msg_ids received by all, remembered to name a duplicate recv


class Merger:
    """Streams a run's events in causal order; each event gains `_loc` = (file, line).

    A `recv` also gains `_send` (the matching send event, or None) and, when it breaks
    `NET-AUTHENTIC`, `_fault` (the reason). `warnings` collects truncated final lines.
    """

    def __init__(self, run: Run, batch: int = 128) -> None:
        self.run = run
        h = run.header
        self.protocol = h.protocol
        self.kinds = KINDS[h.protocol]
        self.payloads = payload_checks(h.protocol)
        self.kind_ok = kind_checks(h.protocol)
        self.names = frozenset(h.nodes) | frozenset(h.clients)
        logged = set(h.logged) if h.logged is not None else set(self.names)
        self.trusted_senders = frozenset(logged - set(h.byzantine))  # their sends must exist
        # Events are read, merged and checked a batch at a time: a small batch keeps
        # them in the CPU cache from parsing to checking (1024 measured 10-20% slower)
        self.batch = batch
        self.sent: dict[str, list] = {}  # msg_id -> [send event, addressees not yet received]
        # msg_ids received by all their addressees, kept for two generations of
        # RETIRED_MEMORY ids, to tell a duplicate recv from a fabricated one
        self.retired: set[str] = set()
        self.retired_old: set[str] = set()
        self.pending: dict[str, deque] = {}  # node -> held-back events, head is a blocked recv
        self.blocked: dict[str, list[str]] = {}  # msg_id -> nodes whose head waits for it
        self.home: dict[str, str] = {}  # node -> the file its events are in
        self.crashed: dict[str, int] = {}  # node -> line of its crash, until it restarts
        self.out: list[dict] = []
        self.events = 0

    # -- reading ---------------------------------------------------------------------

    def _fail(self, src: Source, line: int, message: str) -> InvalidTrace:
        return InvalidTrace(f"{src.path} line {line}: {message}")

    def _pump(self, src: Source) -> tuple[int, bool]:
        """Read up to `batch` lines of src, check each and merge it at once: an event
        that can happen now goes to `out`, one behind a held-back recv to its node's
        queue. Returns (events read, whether the file is done).

        The hot path, one loop for reading and merging: the C JSON scanner (json.loads
        without its Python wrapper), hand checks, the common recv (its send known)
        inline; anything unusual goes to a method that names the fault."""
        handle, path = src.handle, src.path
        kinds, payloads, names, kind_ok = self.kinds, self.payloads, self.names, self.kind_ok
        next_seq, last_line, only = src.next_seq, src.last_line, src.node
        pending, sent, out, blocked = self.pending, self.sent, self.out, self.blocked
        crashed = self.crashed
        lineno = src.lineno
        scan = _SCAN
        budget = self.batch
        read = 0
        done = True
        for raw in handle:
            lineno += 1
            try:
                ev, end = scan(raw, 0)
                if end != len(raw) - 1 and raw[end:].strip():
                    raise ValueError
            except (ValueError, StopIteration):
                ev = self._slow_line(src, lineno, raw)
                if ev is None:
                    continue
            if type(ev) is not dict:
                src.lineno = lineno
                raise self._fail(src, lineno, f"expected a JSON object, got {type(ev).__name__}")
            kind = ev.get("kind")
            node = ev.get("node")
            seq = ev.get("seq")
            if kind == "recv":
                sender = ev.get("from")
                msg_id = ev.get("msg_id")
                if (sender.__class__ is not str or sender not in names or msg_id.__class__ is not str
                        or not msg_id or ("msg" in ev and not _obj_or_null(ev["msg"]))):
                    raise self._explain(src, lineno, ev, kinds.get(kind))
            elif kind == "send":
                msg_id = ev.get("msg_id")
                to = ev.get("to")
                msg = ev.get("msg")
                if (msg_id.__class__ is not str or not msg_id or to.__class__ is not list or not to
                        or msg.__class__ is not dict):
                    raise self._explain(src, lineno, ev, kinds.get(kind))
                for x in to:
                    if x.__class__ is not str or x not in names:
                        raise self._explain(src, lineno, ev, kinds.get(kind))
                ok = payloads.get(msg.get("type"))
                if ok is None or not ok(msg):
                    raise self._explain(src, lineno, ev, kinds.get(kind))
            else:
                ok = kind_ok.get(kind)
                if ok is None or not ok(ev):
                    raise self._explain(src, lineno, ev, kinds.get(kind))
            if node.__class__ is not str or node not in names or seq.__class__ is not int or seq < 0:
                raise self._explain(src, lineno, ev, kinds.get(kind))
            if only is not None and node != only:
                raise self._fail(src, lineno, f"field node: {node!r} in the per-node file of {only}")
            if next_seq.get(node) != seq:
                self._seq_fault(src, lineno, node, seq)  # raises, unless the node's first event
            next_seq[node] = seq + 1
            last_line[node] = lineno
            ev["_loc"] = (path, lineno)
            if crashed and node in crashed:
                self._while_crashed(src, lineno, node, kind)  # raises, unless a restart
            elif kind == "crash":
                crashed[node] = lineno
            read += 1
            # -- merge ---------------------------------------------------------------
            if pending and node in pending:
                pending[node].append(ev)
            elif kind == "recv":
                # The common case: the send is known, from the named sender, to this
                # node, and the recv carries no payload copy.
                entry = sent.get(msg_id)
                if entry is not None and "msg" not in ev:
                    send, left = entry
                    if send["node"] == sender and node in left:
                        ev["_send"] = send
                        left.discard(node)
                        if not left:
                            self._retire(ev)
                        out.append(ev)
                        budget -= 1
                        if budget:
                            continue
                        done = False
                        break
                if not self._ready(ev):
                    pending[node] = deque((ev,))
                    blocked.setdefault(msg_id, []).append(node)
                else:
                    self._pair(ev)
                    out.append(ev)
            elif kind == "send":
                self._deliver_send_only(ev)
                if blocked:
                    waiting = blocked.pop(msg_id, None)
                    if waiting:
                        self._drain(waiting)
            else:
                out.append(ev)
            budget -= 1
            if not budget:
                done = False
                break
        src.lineno = lineno
        return read, done

    def _slow_line(self, src: Source, lineno: int, raw: str) -> Any:
        """A line the scanner refused: blank (skipped), truncated at the end of the file
        (warned, skipped), padded with spaces (parsed), or malformed (an error)."""
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as err:
            if not raw.endswith("\n"):
                self.run.warnings.append(Warning_(src.path, lineno, "truncated final line "
                                                  f"({len(raw)} bytes, no newline) skipped"))
                return None
            src.lineno = lineno
            raise self._fail(src, lineno, f"not valid JSON ({getattr(err, 'msg', err)})") from None

    def _seq_fault(self, src: Source, lineno: int, node: str, seq: int) -> None:
        """The node's seq is not the one expected in this file: fine for its first
        event (seq 0, in its only file); otherwise name the fault."""
        expect = src.next_seq.get(node)
        if expect is None:
            first_file = self.home.setdefault(node, src.path)
            if first_file != src.path:
                raise self._fail(src, lineno, f"events of {node} are in two files "
                                 f"({first_file} and this one)")
            if seq != 0:
                raise self._fail(src, lineno, f"field seq: {node}'s first event has seq {seq}: "
                                 f"events 0..{seq - 1} are missing (seq counts from 0)")
            return
        prev, line = expect - 1, src.last_line[node]
        if seq == prev:
            msg = f"duplicate seq {seq} for {node} (also at line {line})"
        elif seq < prev:
            msg = f"seq {seq} for {node} after seq {prev} (line {line}): out of order"
        else:
            msg = (f"seq {seq} for {node} after seq {prev} (line {line}): "
                   f"events {prev + 1}..{seq - 1} are missing")
        src.lineno = lineno
        raise self._fail(src, lineno, f"field seq: {msg}")

    def _while_crashed(self, src: Source, lineno: int, node: str, kind: str) -> None:
        """A crash stops the node and loses its volatile state: it can log nothing
        until it restarts from its durable state. An event in between is one the
        node cannot have had (or a lost restart line), so the log is not a run."""
        if kind == "restart":
            del self.crashed[node]
            return
        src.lineno = lineno
        raise self._fail(src, lineno, f"field kind: {node} logs {kind!r} after its crash at line "
                         f"{self.crashed[node]} and before restarting; a crashed node logs "
                         "nothing until its restart event")

    def _explain(self, src: Source, line: int, ev: dict, spec: Any) -> InvalidTrace:
        src.lineno = line
        for fld in ("node", "from"):
            x = ev.get(fld)
            if isinstance(x, str) and x and x not in self.names:
                return self._fail(src, line, f"field {fld}: {x!r} is not a node or client of the header")
        to = ev.get("to")
        if isinstance(to, list):
            for x in to:
                if isinstance(x, str) and x and x not in self.names:
                    return self._fail(src, line, f"field to: {x!r} is not a node or client of the header")
        why = explain_line(self.protocol, ev)
        if why is None:  # the tables and the models disagree: name what the table saw
            why = "an event the fast check rejects (report this as a bug)"
        if spec is None and isinstance(ev.get("kind"), str) and ev["kind"] == "header":
            why = "a second header line inside the file"
        return self._fail(src, line, why)

    # -- merging ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict]:
        active = list(self.run.sources)
        pending, out = self.pending, self.out
        while active:
            progressed = False
            for src in list(active):
                if src.node is not None and src.node in pending:
                    continue  # its node waits for a message: read on once it arrives
                read, done = self._pump(src)
                if done:
                    active.remove(src)
                if read:
                    progressed = True
                if out:
                    yield from out
                    self.events += len(out)
                    out.clear()
            if not progressed and active:
                self._release_oldest()
                yield from out
                self.events += len(out)
                out.clear()
        while pending:
            self._release_oldest()
            yield from out
            self.events += len(out)
            out.clear()

    def _ready(self, ev: dict) -> bool:
        msg_id = ev["msg_id"]
        if msg_id in self.sent:
            return True
        if msg_id in self.retired or msg_id in self.retired_old:
            path, line = ev["_loc"]
            raise InvalidTrace(f"{path} line {line}: {ev['node']} receives {msg_id} again, after "
                               "every addressee had received it; a message is received at most "
                               "once per addressee")
        if ev["from"] not in self.trusted_senders:
            if ev.get("msg") is None:
                path, line = ev["_loc"]
                raise InvalidTrace(f"{path} line {line}: field msg is missing: {ev['from']} does not "
                                   "log its sends, so the recv must carry the payload")
            return True
        return False

    def _deliver(self, ev: dict) -> None:
        kind = ev["kind"]
        if kind == "send":
            self._deliver_send_only(ev)
            waiting = self.blocked.pop(ev["msg_id"], None)
            if waiting:
                self._drain(waiting)
            return
        if kind == "recv":
            self._pair(ev)
        self.out.append(ev)

    def _pair(self, ev: dict) -> None:
        msg_id = ev["msg_id"]
        entry = self.sent.get(msg_id)
        if entry is None:  # from an unlogged or Byzantine sender: stands on its own
            ev["_send"] = None
            return
        send, left = entry
        node = ev["node"]
        ev["_send"] = send
        if send["node"] != ev["from"]:
            ev["_fault"] = (f"{node} receives {msg_id} as from {ev['from']}, but {send['node']} "
                            "sent it: a message claimed under another node's identity")
        elif node not in left:
            if node in send["to"]:
                path, line = ev["_loc"]
                raise InvalidTrace(f"{path} line {line}: {node} receives {msg_id} a second time; "
                                   "a message is received at most once per addressee")
            ev["_fault"] = f"{node} receives {msg_id}, which {send['node']} sent only to {', '.join(send['to'])}"
        if "msg" in ev and ev["msg"] is not None and ev["msg"] != send["msg"]:
            ev.setdefault("_fault", f"{node} receives {msg_id} with a payload that differs from the one "
                          f"{send['node']} sent")
        left.discard(node)
        if not left:
            self._retire(ev)

    def _retire(self, ev: dict) -> None:
        """Every addressee has received it: forget the send, remember its id a while."""
        msg_id = ev["msg_id"]
        del self.sent[msg_id]
        retired = self.retired
        retired.add(msg_id)
        if len(retired) > RETIRED_MEMORY:  # two generations: O(1), bounded
            self.retired_old = retired
            self.retired = set()

    def _drain(self, nodes: list[str]) -> None:
        work = list(nodes)
        pending = self.pending
        while work:
            node = work.pop()
            q = pending.get(node)
            if not q:
                continue
            while q:
                head = q[0]
                if head["kind"] == "recv" and head["msg_id"] not in self.sent and not self._ready(head):
                    self.blocked.setdefault(head["msg_id"], []).append(node)
                    break
                q.popleft()
                if head["kind"] == "send":
                    msg_id = head["msg_id"]
                    self._deliver_send_only(head)
                    more = self.blocked.pop(msg_id, None)
                    if more:
                        work.extend(more)
                else:
                    self._deliver(head)
            if not q:
                del pending[node]

    def _deliver_send_only(self, ev: dict) -> None:
        msg_id = ev["msg_id"]
        if msg_id in self.sent or msg_id in self.retired or msg_id in self.retired_old:
            path, line = ev["_loc"]
            raise InvalidTrace(f"{path} line {line}: field msg_id: {msg_id!r} is sent twice; "
                               "msg_id must be unique in the run")
        self.sent[msg_id] = [ev, set(ev["to"])]
        self.out.append(ev)

    def _release_oldest(self) -> None:
        """Every file is held back or done: some held-back recv waits for a send that
        will never come. Release the oldest whose send is not queued behind its own
        sender's held-back recv (that send will come once the sender moves on)."""
        node = next(iter(self.pending))
        for waiting, q in self.pending.items():
            head = q[0]
            ahead = self.pending.get(head["from"], ())
            if not any(e["kind"] == "send" and e["msg_id"] == head["msg_id"] for e in ahead):
                node = waiting
                break
        q = self.pending[node]
        ev = q.popleft()
        waiting = self.blocked.get(ev["msg_id"])
        if waiting and node in waiting:
            waiting.remove(node)
            if not waiting:
                del self.blocked[ev["msg_id"]]
        ev["_send"] = None
        ev["_fault"] = (f"{node} receives {ev['msg_id']} from {ev['from']}, but {ev['from']} never "
                        "logged sending it: a fabricated message")
        self.out.append(ev)
        if not q:
            del self.pending[node]
        else:
            self._drain([node])
