"""Reading smrtrace files: headers, a fast hand-written line check, the causal merger.

A run is one merged file, a directory of files, or `-`: one merged file on standard
input; files may be concatenated into one, a header line inside a file starting the
next file's part (FORMAT.md). `open_run` reads every header with pydantic, checks they agree and
builds the membership they declare (roles, quorum system: models/common/membership.py);
`Merger` then streams the events of all files in an order consistent with causality:
each node's events by `seq`, every `recv` after its `send`. Wall-clock `ts` is never
consulted, because clocks skew.

Files are read as bytes, a chunk at a time (`_chunks`), split into lines in C and
parsed by orjson, with json deciding every line orjson refuses (`_LOADS`): a line
longer than the limit is refused after `limit` bytes, never read whole, and bad bytes
are named by line. Nothing hostile reaches a traceback: deep nesting and bad encodings
are input errors too.

The merger holds back a node whose next event is a `recv` of a message not yet sent
(its later events queue behind it) and releases it when the `send` arrives. A `send`
is forgotten once every addressee has received it. A per-node file whose node is held
back is not read further until it is released; when every file is held back or
exhausted, the oldest held-back `recv` has no `send` anywhere: it is released marked as
fabricated (`NET-AUTHENTIC`), so the rest of the run is still checked. In a merged
file that can only be known at its end, so such a recv holds back the rest of its
node's log (and of the nodes waiting for that node): memory stays bounded all the same,
as long queues spill to a temporary file (`HeldBack`), sends that wait long move to a
temporary table (`Parked`), and a release is passed on a step at a time.

Events are checked by hand against tables that mirror the pydantic models in
`format.py`, because pydantic per event costs several times json.loads; when the hand
check rejects a line, pydantic names the field (`format.explain_line`). Reading,
checking and merging are one loop (`Merger._pump`), so each event is touched once on
its way to the monitor.

Size: reading, checking and merging are one loop on purpose (`Merger._pump`, the
validator's hot path, see above), and the field tables it checks against and the spill
structures it fills sit beside it; split apart, each event would cross module calls.
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import sqlite3
import sys
import tempfile
from collections import deque
from itertools import chain
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from json.scanner import c_make_scanner, py_make_scanner

import orjson
from pydantic import ValidationError

from ..checker.errors import InvalidTrace, UsageError
from .format import HEADER_ADAPTER, Header, explain_line, first_error

if TYPE_CHECKING:
    from ..models.common.membership import Membership

# The C scanner behind json.loads, called directly: it parses one JSON value from an
# index and returns (value, end), without json.loads' Python wrapper and whitespace
# regex, which cost as much as the parse itself on a short line. Strict, like loads:
# a raw control character inside a string is an error.
_SCAN = (c_make_scanner or py_make_scanner)(json.JSONDecoder())
# Lines are parsed by orjson, twice as fast as the json module on an event. Where the
# two differ, json decides (it defined the format so far): a line orjson refuses (NaN,
# a lone surrogate, bytes that are not UTF-8, any malformed line...) is read again by
# json, which accepts it or names the fault, and a block with a run of 19 digits (an
# integer beyond 64 bits, which orjson makes a float) is read by json alone, as is a
# line longer than JSON_DEPTH_SAFE (orjson reads 1024 levels deep, json as deep as the
# recursion limit allows, less than 1000: json must say which line is too deep).
_LOADS = orjson.loads
JSON_DEPTH_SAFE = 1024  # bytes: at most 512 levels, which json reads at any call depth < 488
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def _refuse(raw: bytes) -> Any:
    raise ValueError("read by json")

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
    try:  # subscripts, cheaper than .get: a missing field is a KeyError
        client, req = v["client"], v["req"]
        return (client.__class__ is str and client != "" and req.__class__ is int and req >= 0
                and v["op"].__class__ is str)
    except KeyError:
        return False


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


def _nonneg_or_null(v: Any) -> bool:
    return v is None or (type(v) is int and v >= 0)


def _obj_or_null(v: Any) -> bool:
    return v is None or type(v) is dict


# (field, check, required). Optional fields that are absent are fine.
Fields = tuple[tuple[str, Any, bool], ...]

_MP_PAYLOADS: dict[str, Fields] = {
    "request": (("cmd", _command, True),),
    # Phase 1 for one instance (slot), for every slot from k (from_slot), or for all
    # slots (neither; the version-1 meaning). Both at once: see APART.
    "prepare": (("ballot", _ballot, True), ("slot", _nonneg_or_null, False),
                ("from_slot", _nonneg_or_null, False)),
    "promise": (("ballot", _ballot, True), ("slot", _nonneg_or_null, False),
                ("from_slot", _nonneg_or_null, False), ("accepted", _promised, False)),
    "nack": (("ballot", _ballot, True), ("promised", _ballot, True), ("slot", _nonneg_or_null, False)),
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
# Pairs of optional fields of which a payload may give at most one (non-null); the
# second is named when both are given (format.py's validators say the same).
APART: dict[tuple[str, str], tuple[str, str]] = {
    ("multipaxos", "prepare"): ("slot", "from_slot"),
    ("multipaxos", "promise"): ("slot", "from_slot"),
}

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


def _check_fields(obj: dict, spec: Fields, apart: tuple[str, str] | None = None) -> str | None:
    """The first field of `obj` that breaks `spec` (or the second of an `apart` pair
    given together), or None."""
    for name, check, required in spec:
        if name in obj:
            if not check(obj[name]):
                return name
        elif required:
            return name
    if apart is not None and obj.get(apart[0]) is not None and obj.get(apart[1]) is not None:
        return apart[1]
    return None


# The hottest shapes, checked in straight-line code (the same rules as their tables,
# which `test_fast_checks_match_their_tables` holds together).


def _vote_check(nodes: frozenset[str] | None) -> Any:
    """MultiPaxos accept / accepted: ballot, slot, cmd; with `nodes`, the ballot's node
    must be one of them (Merger: a format rule the tables leave to `_ballot_strays`)."""
    def ok(m: dict) -> bool:
        try:
            b = m["ballot"]
            slot = m["slot"]
            c = m["cmd"]
        except KeyError:
            return False
        if (b.__class__ is not list or len(b) != 2 or b[0].__class__ is not int or b[0] < 0
                or b[1].__class__ is not str or not b[1] or slot.__class__ is not int or slot < 0
                or (nodes is not None and b[1] not in nodes)):
            return False
        return c is None or _command(c)

    return ok


_vote_ok = _vote_check(None)


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


def _slot_cmd_ok(e: dict) -> bool:
    """A MultiPaxos decide's or execute's slot and cmd (a command, or null for a no-op)."""
    try:
        slot = e["slot"]
        c = e["cmd"]
    except KeyError:
        return False
    return slot.__class__ is int and slot >= 0 and (c is None or _command(c))


def _mp_decide_check(nodes: frozenset[str] | None) -> Any:
    """MultiPaxos decide: slot, cmd, optional ballot (with `nodes`: of one of them)."""
    def ok(e: dict) -> bool:
        if not _slot_cmd_ok(e):
            return False
        if "ballot" not in e:
            return True
        b = e["ballot"]
        return b is None or (_ballot(b) and (nodes is None or b[1] in nodes))

    return ok


_mp_decide_ok = _mp_decide_check(None)


def _mp_execute_ok(e: dict) -> bool:
    """MultiPaxos execute: slot, cmd, optional applied and result."""
    return _slot_cmd_ok(e) and _execute_tail_ok(e)


def _pbft_execute_ok(e: dict) -> bool:
    """PBFT execute: n, digest, cmd, optional applied and result."""
    n, d = e.get("n"), e.get("digest")
    if n.__class__ is not int or n < 0 or d.__class__ is not str or not d or "cmd" not in e:
        return False
    c = e["cmd"]
    return (c is None or _command(c)) and _execute_tail_ok(e)


def _ballot_strays(protocol: str, ev: dict, nodes: frozenset[str]) -> tuple[str, Any] | None:
    """The first ballot of a well-formed event (or its payload) whose node is not in
    `nodes`, as (field, ballot), or None. FORMAT: a ballot is [round, a name in nodes]."""
    if protocol != "multipaxos":
        return None
    if ev.get("kind") == "send":
        m, pre = ev.get("msg"), "msg."
    else:
        m, pre = ev, ""
    if type(m) is not dict:
        return None
    for fld in ("ballot", "promised"):
        b = m.get(fld)
        if type(b) is list and len(b) == 2 and type(b[1]) is str and b[1] not in nodes:
            return pre + fld, b
    acc = m.get("accepted")
    if type(acc) is list:
        for i, e in enumerate(acc):
            if type(e) is list and len(e) == 3 and type(e[1]) is list and len(e[1]) == 2 \
                    and type(e[1][1]) is str and e[1][1] not in nodes:
                return f"{pre}accepted[{i}] (its vballot)", e[1]
    return None


def _with_ballot_nodes(checks: dict[str, Any], kinds: dict[str, Any], nodes: frozenset[str]) -> None:
    """MultiPaxos: the same checks, which also hold each ballot's node to be in `nodes`
    (accept / accepted and decide in straight-line code, as hot as _vote_ok; the rest
    wrapped)."""
    def named(ok: Any) -> Any:
        return lambda m: ok(m) and _ballot_strays("multipaxos", m, nodes) is None

    for t in ("prepare", "promise", "nack"):
        checks[t] = named(checks[t])
    checks["accept"] = checks["accepted"] = _vote_check(nodes)
    kinds["decide"] = _mp_decide_check(nodes)


def _compile(spec: Fields, apart: tuple[str, str] | None = None) -> Any:
    if not spec:
        return lambda obj: True
    return lambda obj: _check_fields(obj, spec, apart) is None


_NO_KIND = (None, None)  # Merger.other_kinds of a kind the format does not have
FAST = {("multipaxos", "accept"): _vote_ok, ("multipaxos", "accepted"): _vote_ok,
        ("pbft", "prepare"): _pbft_vote_ok, ("pbft", "commit"): _pbft_vote_ok}
# Events, by kind: a PBFT decide has the shape of a prepare (view, n, digest).
FAST_KINDS = {("multipaxos", "decide"): _mp_decide_ok, ("multipaxos", "execute"): _mp_execute_ok,
              ("pbft", "decide"): _pbft_vote_ok, ("pbft", "execute"): _pbft_execute_ok}


def payload_checks(protocol: str) -> dict[str, Any]:
    """Per message type, a function that says whether a payload is well-formed."""
    return {t: FAST.get((protocol, t)) or _compile(spec, APART.get((protocol, t)))
            for t, spec in PAYLOADS[protocol].items()}


def kind_checks(protocol: str) -> dict[str, Any]:
    return {k: FAST_KINDS.get((protocol, k)) or _compile(spec) for k, spec in KINDS[protocol].items()}


# -- run and sources --------------------------------------------------------------------

MAX_LINE_BYTES = 4 << 20  # default limit on one line; checker.validate passes its own
CHUNK = 1 << 18  # bytes read at a time, decoded and split in C (1 MiB: as fast, 7 MB more RSS)
STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(slots=True)
class Warning_:
    file: str
    line: int
    message: str


def _encoding_fault(data: bytes) -> str | None:
    """What the first bytes of a file say about an encoding that is not UTF-8. A
    UTF-16 file of JSON has a NUL beside each ASCII byte (it decodes as UTF-8, to
    nonsense), or starts with a byte-order mark (which does not decode at all)."""
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or (
            len(data) >= 4 and data[0] and not data[1] and not data[2] and not data[3]):
        return "UTF-32"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (
            len(data) >= 4 and ((data[0] and not data[1] and data[2] and not data[3])
                                or (not data[0] and data[1] and not data[2] and data[3]))):
        return "UTF-16"
    return None


def _chunks(handle: Any, path: str, limit: int, source: Any) -> Iterator[bytes]:
    """The lines of a binary stream, a block at a time: the bytes of whole lines, each
    ending in `\\n` (split and parsed in C: Source.next_block, Merger._pump).

    Read a chunk at a time, never a line at a time: a line longer than `limit` bytes is
    an input error as soon as `limit` bytes of it are read (so `/dev/zero` costs a few
    MiB, not all memory). Lines are not counted here: a fault is found only after every
    line of the blocks before was read, so it is at `source.lineno + 1`. Bytes that are
    not UTF-8 are named by the line that holds them, when it is read. A final line
    without `\\n` is given one, in a block of its own, after `source.unterminated` is
    set (a writer that crashed mid-line: see Merger._slow_line)."""
    size = min(CHUNK, limit + 1)  # every line wholly inside a chunk is then <= limit
    carry = bytearray()  # the start of a line whose end is not read yet
    first = source.lineno == 0  # the start of the file: where a byte-order mark can be
    while True:
        data = handle.read(size)
        if first and data:
            first = False
            enc = _encoding_fault(data)
            if enc is not None:
                raise InvalidTrace(f"{path} line 1: the file is {enc}; smrtrace is UTF-8 "
                                   f"(convert it, e.g. iconv -f {enc} -t UTF-8)")
            if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark: still UTF-8
                data = data[3:]
        if not data:
            break
        cut = data.rfind(b"\n") + 1
        if not cut:
            carry += data
            if len(carry) > limit:
                raise _too_long(path, source.lineno + 1, limit)
            continue
        if carry:
            if len(carry) + data.find(b"\n") > limit:
                raise _too_long(path, source.lineno + 1, limit)
            carry += data[:cut]
            yield bytes(carry)
        else:
            yield data[:cut]
        carry = bytearray(data[cut:])
    if carry:
        source.unterminated = True
        carry += b"\n"
        yield bytes(carry)


def _decoded(path: str, line: int, raw: bytes) -> str:
    """A line as text; bytes that are not UTF-8 are an input error naming the line."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _not_utf8(path, line, raw, err.start) from None


def _too_long(path: str, line: int, limit: int) -> InvalidTrace:
    return InvalidTrace(f"{path} line {line}: the line is longer than {limit:,} bytes "
                        "(the limit, --max-line-bytes); not read further")


def _not_utf8(path: str, line: int, text: bytes, at: int) -> InvalidTrace:
    return InvalidTrace(f"{path} line {line}: not UTF-8 text (byte 0x{text[at]:02x} at byte "
                        f"{at + 1} of the line); smrtrace is UTF-8")


@dataclass
class Source:
    """One file of a run (or standard input), read line by line after its header.

    `handle` is a binary stream; `chunks` yields its lines a block at a time
    (`_chunks`), `it` walks the lines of the current block (bytes, without `\\n`):
    after the header, it stands at the line after the header, `lineno + 1`. `careful`:
    the block is parsed by json alone (see _LOADS)."""

    path: str
    header: Header
    header_line: int
    handle: Any
    lineno: int
    chunks: Iterator[bytes] | None = None
    it: Iterator[bytes] = field(default_factory=lambda: iter(()))
    careful: bool = False
    max_line_bytes: int = MAX_LINE_BYTES
    owned: bool = True  # close the handle with the run (not standard input)
    unterminated: bool = False  # the line last read is a final line without `\n`
    # A header line inside the file started another section (a concatenated run): the
    # file may hold any node's events further on, so it is never paused for one node.
    sectioned: bool = False
    # Per node, in this file (`at`): the seq its next event must have, and the line of
    # its last one. Per file, so that a node's events in a second file are a fault even
    # when their seqs continue the first file's.
    at: dict[str, list[int]] = field(default_factory=dict)  # node -> [next seq, last line]

    def __post_init__(self) -> None:
        if self.chunks is None:  # a handle positioned after the header (tests build these)
            self.chunks = _chunks(self.handle, self.path, self.max_line_bytes, self)

    def next_block(self) -> bool:
        """Take the next block of lines, once every line before is read (`lineno` is
        the last); False at the end of the file."""
        block = next(self.chunks, None)
        if block is None:
            return False
        self.careful = block.translate(_DIGITS).find(_LONG_NUMBER) >= 0
        lines = block.split(b"\n")
        lines.pop()  # after the last `\\n`
        self.it = iter(lines)
        return True

    def rest(self) -> Iterator[str]:
        """The lines not read yet, decoded, without their `\\n` (reading one moves `it`
        and `lineno` past it)."""
        while True:
            for raw in self.it:
                self.lineno += 1
                yield _decoded(self.path, self.lineno, raw)
            if not self.next_block():
                return

    @property
    def node(self) -> str | None:
        return self.header.node

    def close(self) -> None:
        if self.owned:
            self.handle.close()


@dataclass
class Run:
    header: Header  # the agreed header (its `node` is that of the first file)
    sources: list[Source]
    warnings: list[Warning_] = field(default_factory=list)
    membership: Membership | None = None  # roles and quorum system (models/common/membership.py)

    def __post_init__(self) -> None:
        if self.membership is None:
            self.membership = _membership(self.header, self.sources[0] if self.sources else None)
        from ..models.common.membership import quorum_overlap_fault

        why = quorum_overlap_fault(self.membership, self.header)
        if why is not None and self.sources:
            src = self.sources[0]
            self.warnings.append(Warning_(src.path, src.header_line, f"header field quorums: {why}"))

    @property
    def files(self) -> list[str]:
        return [s.path for s in self.sources]

    def close(self) -> None:
        for s in self.sources:
            s.close()


def _membership(header: Header, source: Source | None) -> Membership:
    """The header's roles and quorum system; a bad one is an input error at the header."""
    from ..models.common.membership import membership

    try:
        return membership(header)
    except UsageError as err:
        where = f"{source.path} line {source.header_line}: " if source is not None else ""
        raise InvalidTrace(f"{where}header {err}") from None


def trace_files(paths: Sequence[str]) -> list[str]:
    """The files named, a directory standing for its *.jsonl files in name order; `-`
    alone is standard input."""
    if not paths:
        raise InvalidTrace("no trace given: name a .jsonl file or a directory of them, or - "
                           "for standard input")
    if STDIN in paths:
        if len(paths) > 1:
            raise UsageError("`-` reads one merged trace from standard input; name no other "
                             "trace with it")
        return [STDIN]
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


_AGREE = ("format", "version", "protocol", "nodes", "clients", "f", "byzantine", "logged", "run",
          "roles", "quorums")


def _open(path: str) -> tuple[str, Any, bool]:
    """(name in messages, binary handle, whether the run closes it)."""
    if path == STDIN:
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:
            raise InvalidTrace(f"{STDIN_NAME}: standard input cannot be read")
        return STDIN_NAME, stdin, False
    try:
        return path, open(path, "rb"), True  # noqa: SIM115 (closed by Run.close)
    except OSError as err:
        raise InvalidTrace(f"{path}: cannot read: {err.strerror}") from None


def _read_header(path: str, max_line_bytes: int = MAX_LINE_BYTES) -> Source:
    name, handle, owned = _open(path)
    src = Source(name, None, 0, handle, 0,  # type: ignore[arg-type]
                 max_line_bytes=max_line_bytes, owned=owned)
    lineno = 0
    try:
        for raw in src.rest():
            lineno += 1
            if raw.strip():
                break
        else:
            raise InvalidTrace(f"{name}: the file is empty; a trace starts with a header line "
                               '{"kind":"header","format":"smrtrace",...}')
        try:
            obj = json.loads(raw)
        except ValueError as err:
            raise InvalidTrace(f"{name} line {lineno}: not valid JSON ({err.msg}); the first "
                               "line must be the header") from None
        except RecursionError:
            raise InvalidTrace(f"{name} line {lineno}: JSON nested too deeply; the first line "
                               "must be the header") from None
        if not isinstance(obj, dict) or obj.get("kind") != "header":
            got = obj.get("kind") if isinstance(obj, dict) else type(obj).__name__
            raise InvalidTrace(f"{name} line {lineno}: expected a header first "
                               f'({{"kind":"header",...}}), got kind {_short(got)}')
        try:
            header = HEADER_ADAPTER.validate_python(obj)
        except ValidationError as err:
            raise InvalidTrace(f"{name} line {lineno}: header {first_error(err)}") from None
        _check_header(header, name, lineno)
    except BaseException:
        src.close()
        raise
    src.header, src.header_line, src.lineno = header, lineno, lineno
    return src


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    for x in h.roles or ():
        if x in h.clients:
            raise InvalidTrace(f"{where} field roles.{x}: {x!r} is a client; clients have no "
                               "role (they are listed in clients)")
        if x not in h.nodes:
            raise InvalidTrace(f"{where} field roles.{x}: {x!r} is not in nodes")


def open_run(paths: Sequence[str], max_line_bytes: int = MAX_LINE_BYTES) -> Run:
    """Open a run: read and check every file's header, check that they agree, and
    build the membership they declare. `paths`: files, directories of *.jsonl, or
    `-` alone (standard input, named <stdin>). A line longer than `max_line_bytes`
    is an input error, found without reading the line whole."""
    if type(max_line_bytes) is not int or max_line_bytes < 1:
        raise UsageError(f"max_line_bytes must be a positive integer, got {max_line_bytes!r}")
    sources: list[Source] = []
    try:
        for path in trace_files(paths):
            sources.append(_read_header(path, max_line_bytes))
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
        return Run(first.header, sources, membership=_membership(first.header, first))
    except BaseException:
        for s in sources:
            s.close()
        raise


# -- the merger -------------------------------------------------------------------------

RETIRED_MEMORY = 1 << 13  # msg_ids received by all, remembered to name a duplicate recv
HELD_IN_MEMORY = 1 << 10  # held-back events of one node kept in memory before they spill to disk
HELD_BYTES = 1 << 20  # or this much of their text
DRAIN_OUT = 1 << 12  # events released from held-back queues before they are passed on
SENT_IN_MEMORY = 1 << 15  # sends awaiting a recv kept in memory; the oldest half of more is parked


def _differ(recv: dict, send: dict) -> bool:
    """Whether a recv's payload copy differs from the payload sent."""
    try:
        return recv["msg"] != send["msg"]
    except RecursionError:  # nested deeper than Python compares: not a payload of the format
        path, line = recv["_loc"]
        raise InvalidTrace(f"{path} line {line}: field msg: the payload copy is nested too "
                           "deeply to compare with the one sent") from None


class Parked:
    """Sends that some addressee has yet to receive, moved out of memory: a temporary
    on-disk SQLite table (deleted when closed), by msg_id.

    Most sends are received within a few events. The ones that wait long are lost
    messages (never received: they need no event) and messages to a node held back
    behind a recv whose send never comes, which nobody else waits for (a learner, say):
    all of its deliveries wait for the end of the run. Keeping them in memory made
    memory grow with the run; parked, a lookup misses `Merger.sent` and finds them
    here (only on the slow paths: a recv whose send is not in memory, and the unique
    msg_id check of a send while anything is parked)."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "": a private temporary database on disk
        self.db.execute("CREATE TABLE sent (id TEXT PRIMARY KEY, entry BLOB) WITHOUT ROWID")
        self.count = 0

    def put(self, items: list[tuple[str, list]]) -> None:
        dumps, proto = pickle.dumps, pickle.HIGHEST_PROTOCOL
        self.db.executemany("INSERT INTO sent VALUES (?, ?)",
                            [(k, dumps(v, protocol=proto)) for k, v in items])
        self.count += len(items)

    def has(self, msg_id: str) -> bool:
        return self.count > 0 and self.db.execute(
            "SELECT 1 FROM sent WHERE id = ?", (msg_id,)).fetchone() is not None

    def take(self, msg_id: str) -> list | None:
        if not self.count:
            return None
        row = self.db.execute("SELECT entry FROM sent WHERE id = ?", (msg_id,)).fetchone()
        if row is None:
            return None
        self.db.execute("DELETE FROM sent WHERE id = ?", (msg_id,))
        self.count -= 1
        return pickle.loads(row[0])

    def close(self) -> None:
        self.db.close()


class HeldBack:
    """The held-back events of one node, oldest first: a FIFO queue whose middle is
    kept in a temporary file.

    A recv whose send never appears holds back every later event of its node until the
    end of the run (a merged file need not be in causal order, so the send may be the
    file's last line; the verdict must not depend on when it comes). Holding them in
    memory made memory grow with the trace. Here the head (the blocked recv, then the
    events being released) is parsed and in memory; later events are kept as their
    checked line text (a tenth of a parsed event's memory), and once more than
    HELD_IN_MEMORY of them (or HELD_BYTES of text) wait, they go to an anonymous
    temporary file, block by block, and are parsed again, in order, when the queue
    drains: the same events in the same order as an unbounded queue, in bounded memory.
    One queue holds one node's events, so one file's (a node's events are in one file).
    """

    __slots__ = ("head", "tail", "tail_size", "blocks", "file", "spilled", "path")

    def __init__(self, first: dict) -> None:
        self.head: deque = deque((first,))
        self.path = first["_loc"][0]
        self.tail: list[tuple[int, str]] = []  # (line, text) of the newest events
        self.tail_size = 0
        self.blocks: deque = deque()  # (offset, size, count) of spilled blocks, oldest first
        self.file: Any = None
        self.spilled = 0  # events in blocks

    def __len__(self) -> int:
        return len(self.head) + self.spilled + len(self.tail)

    def __getitem__(self, i: int) -> dict:
        if i != 0:
            raise IndexError("only the head of a held-back queue is read")
        return self.head[0]

    def add(self, line: int, text: str) -> None:
        """Queue the event of `line` (already checked), by its text."""
        self.tail.append((line, text))
        self.tail_size += len(text)
        if len(self.tail) >= HELD_IN_MEMORY or self.tail_size >= HELD_BYTES:
            self._spill()

    def _spill(self) -> None:
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="smrcheck-held-")  # noqa: SIM115
        data = "\n".join([f"{line} {text}" for line, text in self.tail]).encode()
        f = self.file
        f.seek(0, os.SEEK_END)
        self.blocks.append((f.tell(), len(data), len(self.tail)))
        f.write(data)
        self.spilled += len(self.tail)
        self.tail, self.tail_size = [], 0

    def _read(self, block: tuple[int, int, int]) -> list[tuple[int, str]]:
        self.file.seek(block[0])
        out = []
        for entry in self.file.read(block[1]).decode().split("\n"):
            line, _, text = entry.partition(" ")
            out.append((int(line), text))
        return out

    def _parse(self, entries: list[tuple[int, str]]) -> list[dict]:
        """The events again, as the reader parsed them (the text was checked then)."""
        path, scan, out = self.path, _SCAN, []
        for line, text in entries:
            try:
                ev, end = scan(text, 0)
                if end != len(text) and text[end:].strip():
                    raise ValueError
            except (ValueError, StopIteration):  # padded with spaces: as Merger._slow_line
                ev = json.loads(text)
            ev["_loc"] = (path, line)
            out.append(ev)
        return out

    def popleft(self) -> dict:
        ev = self.head.popleft()
        if not self.head:
            if self.blocks:
                block = self.blocks.popleft()
                self.head = deque(self._parse(self._read(block)))
                self.spilled -= block[2]
                if not self.blocks:  # every block read back: reuse the file from its start
                    self.file.seek(0)
                    self.file.truncate()
            elif self.tail:
                self.head = deque(self._parse(self.tail))
                self.tail, self.tail_size = [], 0
        return ev

    def holds_send(self, msg_id: str) -> bool:
        """Whether a send of `msg_id` is queued here. Only the lines that name it in
        their text are parsed again."""
        if any(e["kind"] == "send" and e["msg_id"] == msg_id for e in self.head):
            return True
        def parts() -> Iterator[list[tuple[int, str]]]:
            for block in list(self.blocks):
                yield self._read(block)  # one block in memory at a time
            yield self.tail

        for entries in parts():
            # A line without a backslash writes every string as it is, so one that does
            # not contain msg_id cannot send it; a line with escapes is parsed to know.
            maybe = [x for x in entries if msg_id in x[1] or "\\" in x[1]]
            for e in self._parse(maybe):
                if e["kind"] == "send" and e["msg_id"] == msg_id:
                    return True
        return False

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


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
        self.replicas = frozenset(h.nodes)
        if h.protocol == "multipaxos":
            _with_ballot_nodes(self.payloads, self.kind_ok, self.replicas)
        # Events only nodes log, and events only clients log (FORMAT, Events)
        self.role_of = {"decide": self.replicas, "execute": self.replicas,
                        "request": frozenset(h.clients), "result": frozenset(h.clients)}
        # Per kind other than send and recv: its check, and who may log it (the role's
        # nodes, or every name), so that one lookup checks the node's role and name
        self.other_kinds = {k: (ok, self.role_of.get(k, self.names))
                            for k, ok in self.kind_ok.items() if k not in ("send", "recv")}
        logged = set(h.logged) if h.logged is not None else set(self.names)
        # A logged node's send may come anywhere in the file: a recv from it waits for it.
        # A Byzantine one may also claim messages it never logged sending (with their
        # payload), which is known only once its whole log is read.
        self.logged_senders = frozenset(logged)
        self.byzantine = frozenset(h.byzantine)
        # Events are read, merged and checked a batch at a time: a small batch keeps
        # them in the CPU cache from parsing to checking (1024 measured 10-20% slower)
        self.batch = batch
        self.sent: dict[str, list] = {}  # msg_id -> [send event, addressees not yet received]
        self.parked: Parked | None = None  # more of `sent`, on disk, once it grows long
        # msg_ids received by all their addressees, kept for two generations of
        # RETIRED_MEMORY ids, to tell a duplicate recv from a fabricated one
        self.retired: set[str] = set()
        self.retired_old: set[str] = set()
        self.pending: dict[str, HeldBack] = {}  # node -> held-back events, head is a blocked recv
        self.blocked: dict[str, list[str]] = {}  # msg_id -> nodes whose head waits for it
        self.home: dict[str, str] = {}  # node -> the file its events are in
        self.crashed: dict[str, int] = {}  # node -> line of its crash, until it restarts
        self.out: list[dict] = []
        # Nodes whose held-back events are being released, first come first served: a
        # stack starved the node woken first while two others woke each other, and the
        # sends it had yet to receive piled up in `sent`.
        self.work: deque[str] = deque()
        self.current: str | None = None  # the node being released when a release paused
        self.events = 0

    # -- reading ---------------------------------------------------------------------

    def _fail(self, src: Source, line: int, message: str) -> InvalidTrace:
        return InvalidTrace(f"{src.path} line {line}: {message}")

    def _pump(self, src: Source) -> tuple[int, bool]:
        """Read up to `batch` lines of src, check each and merge it at once: an event
        that can happen now goes to `out`, one behind a held-back recv to its node's
        queue. Returns (events read, whether the file is done).

        The hot path, one loop for reading and merging: the C JSON scanner (json.loads
        without its Python wrapper) in place in the block, hand checks, the common recv
        (its send known) inline; anything unusual goes to a method that names the
        fault. A name is checked by set membership alone (a value that is no string is
        in no set of names; one that cannot be hashed raises TypeError, taken to
        `_explain` like any other bad field)."""
        path = src.path
        payloads, names, other_kinds = self.payloads, self.names, self.other_kinds
        at, only = src.at, src.node
        pending, sent, out, blocked = self.pending, self.sent, self.out, self.blocked
        crashed, retired = self.crashed, self.retired
        budget = self.batch
        done = True
        lineno = src.lineno
        it = src.it
        loads = _refuse if src.careful else _LOADS
        try:
            while True:
                for raw in it:
                    lineno += 1
                    try:
                        if len(raw) > JSON_DEPTH_SAFE:
                            raise ValueError("read by json")
                        ev = loads(raw)
                    except ValueError:  # orjson.JSONDecodeError too
                        ev = self._careful_line(src, lineno, raw)
                        if ev is None:
                            continue
                    # Fields are read by subscript, cheaper than .get: a missing one raises
                    # KeyError, a line that is no object TypeError, and _bad names the fault.
                    try:
                        kind = ev["kind"]
                        if kind == "recv":
                            node = ev["node"]
                            seq = ev["seq"]
                            sender = ev["from"]
                            msg_id = ev["msg_id"]
                            copy = "msg" in ev  # a payload copy: checked against the send
                            if (sender not in names or msg_id.__class__ is not str or not msg_id
                                    or (copy and not _obj_or_null(ev["msg"]))
                                    or node not in names):
                                raise self._explain(src, lineno, ev)
                        elif kind == "send":
                            node = ev["node"]
                            seq = ev["seq"]
                            msg_id = ev["msg_id"]
                            to = ev["to"]
                            msg = ev["msg"]
                            if (msg_id.__class__ is not str or not msg_id or to.__class__ is not list
                                    or not to or msg.__class__ is not dict or not names.issuperset(to)):
                                raise self._explain(src, lineno, ev)
                            ok = payloads.get(msg["type"])
                            if ok is None or not ok(msg) or node not in names:
                                raise self._explain(src, lineno, ev)
                        else:
                            ok, held = other_kinds.get(kind, _NO_KIND)
                            if ok is None or not ok(ev):
                                if kind == "header":  # the next file of a concatenated run
                                    only = self._section(src, lineno, ev)
                                    continue
                                raise self._explain(src, lineno, ev)
                            node = ev["node"]
                            seq = ev["seq"]
                            if node not in held:  # a name of the other role, or no name
                                raise self._node_fault(src, lineno, ev, kind, node)
                        # The node's next seq and the line of its last event, in one list
                        mine = at.get(node)
                        if mine is None or mine[0] != seq or seq.__class__ is not int:
                            if seq.__class__ is not int or seq < 0:
                                raise self._explain(src, lineno, ev)
                            if only is not None and node != only:
                                raise self._fail(src, lineno, f"field node: {node!r} in the per-node "
                                                 f"file of {only}")
                            self._seq_fault(src, lineno, node, seq)  # raises, unless its first event
                            mine = at[node] = [0, 0]
                        elif only is not None and node != only:
                            raise self._fail(src, lineno, f"field node: {node!r} in the per-node file "
                                             f"of {only}")
                    except (KeyError, TypeError, AttributeError):
                        raise self._bad(src, lineno, ev) from None
                    mine[0] = seq + 1
                    mine[1] = lineno
                    ev["_loc"] = (path, lineno)
                    if crashed and node in crashed:
                        self._while_crashed(src, lineno, node, kind)  # raises, unless a restart
                    elif kind == "crash":
                        crashed[node] = lineno
                    # -- merge ---------------------------------------------------------------
                    if pending and node in pending:
                        # its text: a tenth of the parsed event
                        pending[node].add(lineno, raw.decode("utf-8"))
                    elif kind == "recv":
                        # The common case: the send is known, from the named sender, to this
                        # node, and the recv carries no payload copy.
                        entry = sent.get(msg_id)
                        if entry is not None and not copy:
                            send, left = entry
                            if send["node"] == sender and node in left:
                                ev["_send"] = send
                                left.discard(node)
                                if not left:  # _retire, inline
                                    del sent[msg_id]
                                    retired.add(msg_id)
                                    if len(retired) > RETIRED_MEMORY:
                                        self._age_retired()
                                out.append(ev)
                                budget -= 1
                                if budget:
                                    continue
                                done = False
                                break
                        if not self._ready(ev):
                            pending[node] = HeldBack(ev)
                            blocked.setdefault(msg_id, []).append(node)
                        else:
                            self._pair(ev)
                            out.append(ev)
                    elif kind == "send":
                        # _deliver_send_only, inline: a msg_id is new, or sent twice (it raises)
                        if (msg_id in sent or msg_id in retired or msg_id in self.retired_old
                                or self.parked is not None):
                            self._deliver_send_only(ev)
                        else:
                            sent[msg_id] = [ev, set(to)]
                            if len(sent) > SENT_IN_MEMORY:
                                self._park()
                            out.append(ev)
                        if blocked:
                            waiting = blocked.pop(msg_id, None)
                            if waiting:
                                self._drain(waiting)
                                if self.draining:  # a long release: let _flush finish it first
                                    done = False
                                    break
                    else:
                        out.append(ev)
                    budget -= 1
                    if not budget:
                        done = False
                        break
                else:  # this block's lines are read: the next block, or the end
                    src.lineno = lineno
                    if src.next_block():
                        it = src.it
                        loads = _refuse if src.careful else _LOADS
                        continue
                break
        except RecursionError:  # json met a value nested too deeply
            src.lineno = lineno
            raise self._fail(src, lineno, "JSON nested too deeply to read; an event is a flat "
                             "object of a few levels") from None
        src.lineno = lineno
        return self.batch - budget, done

    def _bad(self, src: Source, lineno: int, ev: Any) -> InvalidTrace:
        """A line whose fields could not be read: no JSON object, or a field missing or
        of a type that cannot stand where it does."""
        src.lineno = lineno
        if ev.__class__ is not dict:
            return self._fail(src, lineno, f"expected a JSON object, got {type(ev).__name__}")
        return self._explain(src, lineno, ev)

    def _careful_line(self, src: Source, lineno: int, raw: bytes) -> Any:
        """A line read by json, as every line was before orjson (see _LOADS): the event,
        or None for a line to skip (_slow_line)."""
        text = _decoded(src.path, lineno, raw)
        try:
            ev, end = _SCAN(text, 0)
            if end != len(text) and text[end:].strip():
                raise ValueError
        except (ValueError, StopIteration):
            return self._slow_line(src, lineno, text)
        return ev

    def _slow_line(self, src: Source, lineno: int, raw: str) -> Any:
        """A line the scanner refused: blank (skipped), truncated at the end of the file
        (warned, skipped), padded with spaces (parsed), or malformed (an error)."""
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as err:
            if src.unterminated:  # the file's last line, with no `\n` after it
                self.run.warnings.append(Warning_(src.path, lineno, "truncated final line "
                                                  f"({len(raw.encode())} bytes, no newline) skipped"))
                return None
            src.lineno = lineno
            raise self._fail(src, lineno, f"not valid JSON ({getattr(err, 'msg', err)})") from None

    def _seq_fault(self, src: Source, lineno: int, node: str, seq: int) -> None:
        """The node's seq is not the one expected in this file: fine for its first
        event (seq 0, in its only file); otherwise name the fault.

        A seq above the expected one is either a reordering (the skipped events come
        later in the file: a merged file may interleave nodes freely, but each node's
        own events must come in seq order) or a gap (they are nowhere). Which one is
        known only further down, so the rest of the file is read, without merging,
        to tell them apart: only on this error path, in constant memory."""
        src.lineno = lineno
        mine = src.at.get(node)
        expect = None if mine is None else mine[0]
        if expect is None:
            first_file = self.home.setdefault(node, src.path)
            if first_file != src.path:
                raise self._fail(src, lineno, f"events of {node} are in two files "
                                 f"({first_file} and this one)")
            if seq == 0:
                return
            expect = 0
        elif seq < expect:
            prev, line = expect - 1, mine[1]
            if seq == prev:
                msg = f"duplicate seq {seq} for {node} (also at line {line})"
            else:
                msg = (f"{node}'s seq {seq} comes again after its seq {prev} (line {line}): "
                       "each event has its own seq, 0, 1, 2, ... in order")
            raise self._fail(src, lineno, f"field seq: {msg}")
        later, stopped = self._look_ahead(src, lineno, node, expect, seq)
        if later is not None:
            rule = ("a merged file may interleave nodes in any order, but each node's own "
                    "events must appear in seq order" if src.node is None else
                    "a node's events must appear in seq order")
            raise self._fail(src, lineno, f"field seq: {node}'s seq {seq} at line {lineno} comes "
                             f"before its seq {later[0]} at line {later[1]}: {rule}")
        gap = f"events {expect}..{seq - 1} are missing"
        where = ("nowhere in the file" if stopped is None else
                 f"not in the file up to where it cannot be read further ({stopped})")
        if expect == 0:
            msg = f"{node}'s first event has seq {seq}: {gap} (seq counts from 0; they are {where})"
        else:
            msg = (f"seq {seq} for {node} after seq {expect - 1} (line {mine[1]}): "
                   f"{gap} (they are {where})")
        raise self._fail(src, lineno, f"field seq: {msg}")

    def _look_ahead(self, src: Source, lineno: int, node: str, lo: int, hi: int
                    ) -> tuple[tuple[int, int] | None, str | None]:
        """The first (seq, line) of `node` with lo <= seq < hi after `lineno` in src,
        and why reading stopped early (an unreadable line), if it did. Lines that are
        not events are passed over: the fault at `lineno` comes first."""
        scan = _SCAN
        try:
            for raw in src.rest():
                lineno += 1
                try:
                    ev = scan(raw, 0)[0]
                except (ValueError, StopIteration, RecursionError):
                    continue
                if type(ev) is dict and ev.get("node") == node:
                    s = ev.get("seq")
                    if type(s) is int and lo <= s < hi:
                        return (s, lineno), None
        except InvalidTrace as err:
            return None, str(err)
        return None, None

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

    def _section(self, src: Source, line: int, obj: dict) -> str | None:
        """A header line inside a file starts the next file of a concatenated run
        (`cat run/*.jsonl | smrcheck validate -`): it must be a header that agrees with
        the run's, as the headers of separate files must. Its `node`, if any, is the
        only node whose events follow, until the next header. Returns that node."""
        src.lineno = line
        try:
            header = HEADER_ADAPTER.validate_python(obj)
        except ValidationError as err:
            raise self._fail(src, line, f"header {first_error(err)}") from None
        _check_header(header, src.path, line)
        first = self.run.header
        for fld in _AGREE:
            a, b = getattr(first, fld), getattr(header, fld)
            if a != b:
                raise self._fail(src, line, f"a header inside the file (the next file of a "
                                 f"concatenated run?) disagrees: {fld} is {json.dumps(b)} here "
                                 f"but {json.dumps(a)} in the first header; the files of one "
                                 "run share one header")
        src.header = header
        src.sectioned = True
        return header.node

    def _role_fault(self, src: Source, line: int, kind: str, node: str) -> InvalidTrace:
        src.lineno = line
        if kind in ("decide", "execute"):
            return self._fail(src, line, f"field node: {node!r} is a client, but {kind} is an event "
                              "of a node in nodes (a replica or learner), never of a client")
        return self._fail(src, line, f"field node: {node!r} is in nodes, but {kind} is an event "
                          "of a client (listed in clients), never of a replica")

    def _node_fault(self, src: Source, line: int, ev: dict, kind: str, node: Any) -> InvalidTrace:
        """The node of an event that is neither send nor recv is not among those that
        may log it: a name of the other role, or no name of the header."""
        if node.__class__ is str and node in self.names:
            return self._role_fault(src, line, kind, node)
        return self._explain(src, line, ev)

    def _explain(self, src: Source, line: int, ev: dict, spec: Any = None) -> InvalidTrace:
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
        if why is None:
            stray = _ballot_strays(self.protocol, ev, self.replicas)
            if stray is not None:
                fld, b = stray
                why = (f"field {fld}: ballot {json.dumps(b)} names {b[1]!r}, which is not in nodes "
                       "(a ballot is [round, the name of the node in nodes that proposes it])")
        if why is None:  # the tables and the models disagree: name what the table saw
            why = "an event the fast check rejects (report this as a bug)"
        return self._fail(src, line, why)

    # -- merging ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict]:
        # A list iterator per batch, chained in C: each level of generator an event
        # passes through costs a frame resume (two levels were 5% of a validation).
        return chain.from_iterable(self.batches())

    def batches(self) -> Iterator[list[dict]]:
        """The events in causal order, a list at a time. A list is valid until the
        next one is asked for (it is then cleared and refilled)."""
        try:
            yield from self._merge()
        finally:  # done, abandoned or failed midway: drop the temporary files now
            for q in self.pending.values():
                q.close()
            if self.parked is not None:
                self.parked.close()

    def _merge(self) -> Iterator[list[dict]]:
        active = list(self.run.sources)
        pending = self.pending
        while active:
            progressed = False
            for src in list(active):
                if src.node is not None and src.node in pending and not src.sectioned:
                    continue  # its node waits for a message: read on once it arrives
                read, done = self._pump(src)
                if done:
                    active.remove(src)
                if read:
                    progressed = True
                yield from self._flush()
            if not progressed and active:
                # Every file left waits. A per-node file may still hold a header and other
                # nodes' events further on (a concatenation): read on in those before
                # taking a held-back recv for fabricated; their lines queue (on disk).
                for src in list(active):
                    if src.node is not None and src.node in pending:
                        read, done = self._pump(src)
                        if done:
                            active.remove(src)
                        progressed = progressed or read > 0
                        yield from self._flush()
                if progressed:
                    continue
                self._release_oldest()
                yield from self._flush()
        while pending:
            self._release_oldest()
            yield from self._flush()

    def _ready(self, ev: dict) -> bool:
        msg_id = ev["msg_id"]
        if msg_id in self.sent:
            return True
        if self.parked is not None:
            entry = self.parked.take(msg_id)
            if entry is not None:
                self.sent[msg_id] = entry
                return True
        if msg_id in self.retired or msg_id in self.retired_old:
            path, line = ev["_loc"]
            raise InvalidTrace(f"{path} line {line}: {ev['node']} receives {msg_id} again, after "
                               "every addressee had received it; a message is received at most "
                               "once per addressee")
        if ev["from"] not in self.logged_senders:  # its sends are not in the trace
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
        if "msg" in ev and ev["msg"] is not None and _differ(ev, send):
            ev.setdefault("_fault", f"{node} receives {msg_id} with a payload that differs from the one "
                          f"{send['node']} sent")
        left.discard(node)
        if not left:
            self._retire(ev)

    def _retire(self, ev: dict) -> None:
        """Every addressee has received it: forget the send, remember its id a while.
        (Merger._pump has this inline for the common recv.)"""
        msg_id = ev["msg_id"]
        del self.sent[msg_id]
        retired = self.retired
        retired.add(msg_id)
        if len(retired) > RETIRED_MEMORY:
            self._age_retired()

    def _age_retired(self) -> None:
        """Two generations of retired ids: bounded, O(1) per id. The young set stays the
        same object (the reading loop holds it)."""
        self.retired_old = self.retired.copy()
        self.retired.clear()

    def _drain(self, nodes: list[str]) -> None:
        """Release the held-back events of `nodes` (their head's message has come), and
        of the nodes their sends release in turn, up to DRAIN_OUT events: a released
        node may have held back the rest of the run, which must not land in `out` at
        once. The rest is released by `_flush`, before anything more is read."""
        self.work.extend(nodes)
        self._drain_some()

    def _drain_some(self) -> None:
        work, pending, out = self.work, self.pending, self.out
        while True:
            node = self.current  # a node whose release was paused, first
            if node is None:
                if not work:
                    return
                node = self.current = work.popleft()
            q = pending.get(node)
            while q:
                if len(out) >= DRAIN_OUT:
                    return  # resumed by _flush once `out` is consumed
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
            if q is not None and not q:
                pending.pop(node).close()
            self.current = None

    @property
    def draining(self) -> bool:
        return self.current is not None or bool(self.work)

    def _flush(self) -> Iterator[list[dict]]:
        """Yield `out`, and finish a paused release a DRAIN_OUT events at a time."""
        out = self.out
        while True:
            if out:
                yield out
                self.events += len(out)
                out.clear()
            if not self.draining:
                return
            self._drain_some()

    def _deliver_send_only(self, ev: dict) -> None:
        msg_id = ev["msg_id"]
        sent = self.sent
        if (msg_id in sent or msg_id in self.retired or msg_id in self.retired_old
                or (self.parked is not None and self.parked.has(msg_id))):
            path, line = ev["_loc"]
            raise InvalidTrace(f"{path} line {line}: field msg_id: {msg_id!r} is sent twice; "
                               "msg_id must be unique in the run")
        sent[msg_id] = [ev, set(ev["to"])]
        if len(sent) > SENT_IN_MEMORY:
            self._park()
        self.out.append(ev)

    def _park(self) -> None:
        """Move the oldest half of `sent` to disk (see Parked)."""
        if self.parked is None:
            self.parked = Parked()
        sent = self.sent
        oldest = []
        for item in sent.items():
            oldest.append(item)
            if len(oldest) >= SENT_IN_MEMORY // 2:
                break
        self.parked.put(oldest)
        for k, _ in oldest:
            del sent[k]

    def _cycle(self, node: str) -> InvalidTrace:
        """The held-back recvs from `node` on, each waiting for a send logged after the
        next one's recv, back to one already seen: no order of the run has them all."""
        seen: list[str] = []
        while node not in seen:
            seen.append(node)
            node = self.pending[node][0]["from"]
        ring = [self.pending[x][0] for x in seen[seen.index(node):]]
        path = ring[0]["_loc"][0]

        def at(e: dict) -> str:
            return f"line {e['_loc'][1]}" + ("" if e["_loc"][0] == path else f" of {e['_loc'][0]}")

        steps = "; ".join(f"{e['node']} receives {e['msg_id']} ({at(e)}) before {e['from']} logs "
                          f"sending it, after its recv at {at(ring[(i + 1) % len(ring)])}"
                          for i, e in enumerate(ring))
        lines = ", ".join(at(e)[5:] for e in ring)
        return InvalidTrace(f"{path} line {ring[0]['_loc'][1]}: field msg_id: the recvs at lines "
                            f"{lines} wait for each other's sends, a causality cycle: {steps}. "
                            "A node receives a message only after its sender logged sending it")

    def _release_oldest(self) -> None:
        """Every file is held back or done: some held-back recv waits for a send that
        will never come. Release the oldest whose send is not queued behind its own
        sender's held-back recv (that send will come once the sender moves on)."""
        node = next(iter(self.pending))
        for waiting, q in self.pending.items():
            head = q[0]
            ahead = self.pending.get(head["from"])
            if ahead is None or not ahead.holds_send(head["msg_id"]):
                node = waiting
                break
        else:  # every head's send is queued behind its sender's own head: a cycle
            raise self._cycle(node)
        q = self.pending[node]
        ev = q.popleft()
        waiting = self.blocked.get(ev["msg_id"])
        if waiting and node in waiting:
            waiting.remove(node)
            if not waiting:
                del self.blocked[ev["msg_id"]]
        ev["_send"] = None
        if ev["from"] in self.byzantine:  # a faulty node may claim a message it never logged
            if ev.get("msg") is None:
                path, line = ev["_loc"]
                raise InvalidTrace(f"{path} line {line}: field msg is missing: {ev['from']} (Byzantine) "
                                   f"never logged sending {ev['msg_id']}, so the recv must carry "
                                   "the payload")
        else:
            ev["_fault"] = (f"{node} receives {ev['msg_id']} from {ev['from']}, but {ev['from']} "
                            "never logged sending it: a fabricated message")
        self.out.append(ev)
        if not q:
            self.pending.pop(node).close()
        else:
            self._drain([node])
