"""Linearizability of client histories against a sequential specification.

What the clients of a replicated service saw is a *history*: every operation has an
invocation and, unless its client crashed or gave up, a response. The history is
linearizable (Herlihy & Wing, "Linearizability: a correctness condition for
concurrent objects", TOPLAS 1990) when its operations can be put in one sequential
order that

1. respects real time: an operation that returned before another was invoked comes
   first, and
2. is a run of the sequential specification from its initial state, every completed
   operation returning what its client accepted.

A *pending* operation (invoked, never answered) may have taken effect at any point
after its invocation, or never: it may be placed anywhere after its call, with any
output, or left out. (Jepsen's `info`; a `fail` is an operation that did not happen
and never reaches this module.)

**The search** is Wing & Gong's ("Testing and verifying concurrent objects", JPDC
1993) with Lowe's memoisation ("Testing for linearizability", CCPE 2017), the
algorithm of Porcupine (Athalye) and Knossos. The call and return entries of the
completed operations sit in one doubly linked list in time order. Scanning from the
head, a call entry met before any return entry is a *minimal* operation (nothing still
unplaced returned before it was invoked): try it next. If the spec accepts it, unlink
its two entries, push it on a stack and rescan; if the scan meets a return entry first,
that operation had to be placed before everything after it and no candidate worked:
pop the last choice and try the next one. A configuration is the set of placed
operations plus the spec state; one seen before led nowhere, so it is not explored
twice (the cache). States are hashable values, so the cache is a set of
`(placed-set bitset, state)`.

The placed set is an integer bitset over the completed operations in call order, kept
as `(base, window)`: every operation before `base` is placed and `base` is not, and
`window` holds the few placed ones after it. Only operations invoked before `base`
returned can be placed while it is not, so the window is as wide as the concurrency,
not the history, and a cache entry stays small on a history of 10^6 operations.

Pending operations never block a scan (their return would be at infinity): the search
succeeds as soon as every completed operation is placed, leaving the pending ones not
needed as "never took effect". Their calls sit in a second list and are tried only
where no completed candidate works; placed ones get a bitset of their own. A pending
read is never needed and never tried. A configuration is *subsumed* by one with the
same completed set and state and a subset of its pending operations placed (leaving
those out does all the larger one can), so the cache keeps, per (completed set,
state), the placed-pending sets seen there and skips any superset of one; and placing
an operation right after a pending one is skipped when placing it instead of that one
reaches the same state (a sibling with one pending placed less). Without these, crashed
clients multiply every detour of the search by the subsets of their operations
(a history with 10 crashed writers and a bad read: 365,618 steps before, 6,272 after).
Pending appends are not overwritten, so sequences of them still multiply at every
dead end of a detour; a key with pending operations is therefore first searched
placing at most one in a row between completed ones (`_check_one`), which finds the
linearization of most histories with crashes (10^5 operations on 10 keys, 1%
crashed: 1.6 million steps, against no answer within 3 million per key), and only
when that finds none, fully. Two more reductions keep
the search from branching where no choice exists: a completed read-only operation
(`Spec.read_only`) that fits is placed without a choice point (if any order extends
the prefix, one extends it with that read first), and the cache makes every other
order of the same placed set and state a single configuration. What remains
exponential is many concurrent writes to one key: which of them took effect before
each read is a real choice (bench/README.md measures it).

**P-compositionality** (Horn & Kroening, "Faster linearizability checking via
P-compositionality", FORTE 2015; H&W 1990 Theorem 1, locality): a history is
linearizable iff each key's sub-history is, so the spec's `key` splits the history and
each part is searched alone: the exponential factor is then the concurrency on one
key, not on the whole service.

**A violation** is reported as the smallest sub-history that still shows it, reduced
only by steps that keep "not linearizable" meaning "the whole history is not": the
failing key's sub-history; its shortest failing prefix in time (linearizability is
prefix-closed; operations still open at the cut become pending); a cut at the latest
quiescent point (every operation invoked before it had returned, pending ones carried
over; only for sub-histories of more than `SMALL` operations, as small ones read best
whole), replacing what came before by the states it can leave; and dropping read-only
operations (`Spec.read_only`) while it still fails. (Dropping a write is not sound: a
read of its value would become unexplainable only because of the shrink.) With the
sub-history come each operation's interval and why no order works: the longest
linearizable prefix the search found, the state after it, the operation that had to
come next, and what the spec says each candidate would have returned there.

**Checking while the history is recorded** (`settle`, then `check_parts`): the same
cut, made as the operations come. One key's operations up to a quiescent point that
no operation still to come can reach (every later one is invoked after they all
returned) are searched for every configuration they can end in, and forgotten; the
rest is checked from those. Every linearization of the whole places the settled ones
first, so the verdict is the whole history's, and a long history is held a segment
at a time. An operation still open (its return may yet come, with any output) ends
the settled prefix at its call.

Everything is deterministic: operations are sorted by call time, ties by id, before
anything else, so the verdict, the step counts and the report do not depend on the
order in which operations were given. Budgets are counted in search steps, not seconds.

Size: the search, the shrink and the explanation share one encoding of configurations
(the entry lists, the placed bitsets, the starts a cut leaves); split into modules,
each would have to re-derive it.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import InvalidModel, UsageError


class _Unknown:
    """The output of an operation whose client saw no answer, or did not log it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def _show(value: Any) -> str:
    if value is UNKNOWN:
        return "?"
    try:
        return json.dumps(_jsonable(value), ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _jsonable(value: Any) -> Any:
    if value is UNKNOWN:
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, frozenset):
        return sorted((_jsonable(v) for v in value), key=repr)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


class Spec:
    """A sequential specification: subclass it and define `init` and `apply`.

    States, inputs and outputs are plain hashable values (ints, strings, tuples,
    frozensets). A counter is a dozen lines::

        class Counter(Spec):
            name, property = "counter", "COUNTER-LINEARIZABLE"

            def init(self):
                return 0

            def apply(self, n, op):          # op: ("inc",) or ("read",)
                if op[0] == "inc":
                    return None, n + 1       # (output, next state)
                return n, n

            def read_only(self, op):
                return op[0] == "read"

    The spec must be deterministic, as the state machine of a replicated service is:
    one output and one next state per (state, input).
    """

    name: str = "spec"
    property: str = "LINEARIZABLE"

    def init(self) -> Hashable:
        raise NotImplementedError

    def apply(self, state: Any, input: Any) -> tuple[Any, Any]:
        """(output, next state) of `input` run on `state`."""
        raise NotImplementedError

    def key(self, input: Any) -> Hashable:
        """The partition an operation belongs to (P-compositionality): operations of
        different keys never affect one another, and `apply` then only ever sees one
        key's operations, from `init()`. Default: one partition (None, which reports
        call "the history")."""
        return None

    def accepts(self, input: Any, expected: Any, observed: Any) -> bool:
        """Whether a client that saw `observed` is consistent with the spec's
        `expected` (default: equal)."""
        return expected == observed

    def read_only(self, input: Any) -> bool:
        """True when `input` never changes the state. Only used to shrink a
        counterexample soundly (a read can be dropped, a write cannot)."""
        return False

    def from_record(self, f: str, key: Any, value: Any, result: Any) -> tuple[Any, Any]:
        """A Jepsen/Porcupine history record pair as (input, output): `f` the
        operation, `key` its key (None without one), `value` the invocation's value,
        `result` the `ok` completion's value (UNKNOWN while pending). Default: the
        input is `(f, value)` or `(f, key, value)`, the output the completion's value.
        Raise ValueError("unknown f ...") for an operation the spec does not know and
        ValueError for a bad value; the reader names the line and the field."""
        return ((f, value) if key is None else (f, key, value)), result

    def describe_input(self, input: Any) -> str:
        """Default: a tuple `(name, args...)` as `name(args)`, None arguments left out."""
        if isinstance(input, tuple) and input and isinstance(input[0], str):
            return f"{input[0]}({', '.join(_show(a) for a in input[1:] if a is not None)})"
        return _show(input)

    def describe_output(self, output: Any) -> str:
        return _show(output)

    def describe_state(self, state: Any) -> str:
        return _show(state)

    def describe_key(self, key: Any) -> str:
        return _show(key)


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of a history. `call` and `ret` are positions in real time (a
    timestamp, or an index in a causally ordered log); `ret` is None while pending.
    Equal times count as concurrent. `id` is unique and breaks ties in call order.
    `call_ref` / `ret_ref` say where the events were read (e.g. "run.jsonl:12")."""

    id: str
    client: str
    input: Any
    call: float
    ret: float | None = None
    output: Any = UNKNOWN
    call_ref: str = ""
    ret_ref: str = ""

    @property
    def pending(self) -> bool:
        return self.ret is None


class HistoryBuilder:
    """Operations from invoke / complete events, at most once per operation id.

    A retried request (a second `invoke` of an id already seen) is the same operation:
    the first invocation counts, as a service with at-most-once sessions runs it once.
    `fail` drops an operation (it did not happen); `indeterminate` leaves it pending."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}
        self._dropped: set[str] = set()

    def invoke(self, op_id: str, client: str, input: Any, time: float, ref: str = "") -> None:
        old = self._ops.get(op_id)
        if old is not None or op_id in self._dropped:
            if old is not None and old.input != input:
                raise ValueError(f"operation {op_id} invoked again with another input "
                                 f"({input!r}, first {old.input!r})")
            return
        self._ops[op_id] = Operation(op_id, client, input, time, call_ref=ref)

    def complete(self, op_id: str, output: Any, time: float, ref: str = "") -> None:
        op = self._ops.get(op_id)
        if op is None:
            raise ValueError(f"operation {op_id} completed but never invoked")
        if not op.pending:
            if op.output != output:
                raise ValueError(f"operation {op_id} completed twice, with "
                                 f"{output!r} and first {op.output!r}")
            return
        if time < op.call:
            raise ValueError(f"operation {op_id} returned at {time}, before its call at {op.call}")
        self._ops[op_id] = replace(op, ret=time, output=output, ret_ref=ref)

    def fail(self, op_id: str) -> None:
        if self._ops.pop(op_id, None) is not None:
            self._dropped.add(op_id)

    def indeterminate(self, op_id: str) -> None:
        """The outcome is unknown: the operation stays pending (no-op, for symmetry)."""

    def operations(self) -> list[Operation]:
        return list(self._ops.values())


# ---------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class OpView:
    """An operation as reported: what it was, what its client saw, when. `open` marks
    one that returned after the sub-history ends: it counts there as pending."""

    id: str
    client: str
    op: str
    output: str | None  # None: pending (no answer)
    call: float
    ret: float | None
    call_ref: str = ""
    ret_ref: str = ""
    open: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    expected: str  # what the spec returns in the state reached
    observed: str | None
    fits: bool  # True: the spec accepts it there, but no order of the rest works after it


@dataclass(frozen=True, slots=True)
class Start:
    """A state the sub-history may start from, with the pending operations invoked
    before it that had already taken effect."""

    state: str
    applied: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    start: Start  # the start the longest prefix below came from
    prefix: tuple[str, ...]  # ids of the longest linearizable prefix found, in order
    state: str  # the state after it
    blocked: str  # id of the operation that had to be placed next and could not
    candidates: tuple[Candidate, ...]  # every operation that could have been placed next
    message: str


@dataclass(frozen=True, slots=True)
class Violation:
    property: str
    key: str
    operations: tuple[OpView, ...]  # the smallest non-linearizable sub-history found
    starts: tuple[Start, ...]  # the states it may start from (any one of them)
    before: int  # operations of the key before the cut, which `starts` sum up
    cut: float | None  # the quiescent time of that cut (None: no cut)
    context: tuple[OpView, ...]  # the last few of those, for the reader
    key_operations: int  # operations of the key in the whole history
    shrink_complete: bool  # False when the shrink budget ran out first
    explanation: Explanation | None
    message: str


@dataclass(slots=True)
class LinearizabilityResult:
    property: str
    spec: str
    result: str  # "ok" | "violation" | "incomplete"
    operations: int
    pending: int
    keys: int
    failing_keys: list[str] = field(default_factory=list)
    incomplete_keys: list[str] = field(default_factory=list)
    steps: int = 0
    violation: Violation | None = None

    @property
    def ok(self) -> bool:
        return self.result == "ok"

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "violation": 1, "incomplete": 3}[self.result]

    def to_json(self) -> dict[str, Any]:
        v = self.violation
        return {
            "property": self.property, "spec": self.spec, "result": self.result,
            "operations": self.operations, "pending": self.pending, "keys": self.keys,
            "failing_keys": list(self.failing_keys),
            "incomplete_keys": list(self.incomplete_keys), "steps": self.steps,
            "violation": None if v is None else _violation_json(v),
        }


def _op_json(o: OpView) -> dict[str, Any]:
    return {"id": o.id, "client": o.client, "op": o.op, "output": o.output, "call": o.call,
            "return": o.ret, "call_ref": o.call_ref, "ret_ref": o.ret_ref, "open": o.open}


def _violation_json(v: Violation) -> dict[str, Any]:
    e = v.explanation
    return {
        "property": v.property, "key": v.key, "message": v.message,
        "operations": [_op_json(o) for o in v.operations],
        "starts": [{"state": s.state, "applied": list(s.applied)} for s in v.starts],
        "before": v.before, "cut": v.cut, "context": [_op_json(o) for o in v.context],
        "key_operations": v.key_operations, "shrink_complete": v.shrink_complete,
        "explanation": None if e is None else {
            "start": {"state": e.start.state, "applied": list(e.start.applied)},
            "prefix": list(e.prefix), "state": e.state, "blocked": e.blocked,
            "candidates": [{"id": c.id, "expected": c.expected, "observed": c.observed,
                            "fits": c.fits} for c in e.candidates],
            "message": e.message},
    }


def render_text(result: LinearizabilityResult) -> str:
    """The result as plain text, for a terminal or a CI log."""
    lines = [f"{result.property}: {result.result} — {result.operations:,} operations "
             f"({result.pending:,} pending), {result.keys:,} keys, {result.steps:,} steps"]
    if result.incomplete_keys:
        lines.append(f"  search budget reached on {len(result.incomplete_keys)} key(s): "
                     + ", ".join(result.incomplete_keys[:5]))
    v = result.violation
    if v is None:
        return "\n".join(lines)
    if len(result.failing_keys) > 1:
        lines.append(f"  {len(result.failing_keys)} keys are not linearizable: "
                     + ", ".join(result.failing_keys[:10])
                     + (" ..." if len(result.failing_keys) > 10 else ""))
    lines.append(f"  {v.message}")
    lines.append(f"  starts from {_starts_text(v)}")
    if v.context:
        lines.append("  the last operations before the cut:")
        lines.extend(_op_lines(v.context))
    lines.append("  operations (interval [call, return]):")
    shown = _op_lines(v.operations)
    if len(shown) > 3 * LIST:
        hidden = len(shown) - 2 * LIST
        shown = shown[:LIST] + [f"    ... {hidden} more (all in the JSON report)"] + shown[-LIST:]
    lines.extend(shown)
    if v.explanation is not None:
        lines.append(f"  why: {v.explanation.message}")
    if not v.shrink_complete:
        lines.append("  (the shrink budget ran out: a smaller sub-history may exist)")
    return "\n".join(lines)


def _op_lines(ops: Sequence[OpView]) -> list[str]:
    outs = ["(no answer)" if o.output is None else f"-> {o.output}" for o in ops]
    spans = [f"[{_num(o.call)}, {'pending' if o.ret is None else _num(o.ret)}]" for o in ops]
    cols = [[o.id for o in ops], [o.op for o in ops], outs, spans]
    widths = [max(len(x) for x in col) for col in cols]
    lines = []
    for i, o in enumerate(ops):
        row = "  ".join(f"{col[i]:<{w}}" for col, w in zip(cols, widths))
        where = f"  {o.call_ref}" if o.call_ref else ""
        note = "  (returned after the sub-history ends: counts as pending)" if o.open else ""
        lines.append(f"    {row}{where}{note}".rstrip())
    return lines


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _start_text(s: Start) -> str:
    return s.state + (f" (with {', '.join(s.applied)} applied)" if s.applied else "")


def _starts_text(v: Violation) -> str:
    one = _start_text
    if v.before == 0:
        return f"the initial state {one(v.starts[0])}"
    states = one(v.starts[0]) if len(v.starts) == 1 else \
        "any of " + "; ".join(one(s) for s in v.starts)
    carried = any(o.call < (v.cut or 0) for o in v.operations)
    return (f"{states}, the state after the {v.before} earlier operation(s), which "
            f"all returned before {_num(v.cut or 0)}"
            + (" (the operations below invoked before that are still open)" if carried else
               ", when none of these had begun"))


# ---------------------------------------------------------------------------------
# The search


class _Entry:
    __slots__ = ("i", "op", "inp", "out", "any", "ro", "ret", "prev", "next", "cid", "pbit",
                 "pos")

    def __init__(self, i: int, op: Operation | None) -> None:
        self.i = i
        self.op = op  # None on a return entry and a list head
        self.ret: _Entry | None = None  # on a completed call entry: its return entry
        self.prev: _Entry | None = None
        self.next: _Entry | None = None
        self.cid = -1  # completed operations, numbered in call order
        self.pbit = 0  # pending operations: a bit of their own
        self.pos = 0  # place in time order among all entries
        self.ro = False  # read-only (Spec.read_only)
        if op is not None:
            self.inp = op.input
            out = self.out = op.output
            self.any = op.ret is None or out is UNKNOWN  # pending, or any output fits


def _link(ops: Sequence[Operation], read_only: Any
          ) -> tuple[_Entry, _Entry, int, list[_Entry]]:
    """Two lists in time order (calls before returns at equal times: such operations
    are concurrent): the call and return entries of the completed operations, and the
    call entries of the pending ones (a pending read is left out: it never needs a
    place). Then the number of completed operations and the call entries by index."""
    keyed = []
    calls = []
    cid = 0
    pbit = 1
    for i, op in enumerate(ops):
        call = _Entry(i, op)
        calls.append(call)
        call.ro = read_only is not None and bool(read_only(op.input))
        if op.ret is None:
            call.pbit = pbit
            pbit <<= 1
            if not call.ro:
                keyed.append((op.call, 0, i, call))
        else:
            keyed.append((op.call, 0, i, call))
            call.cid = cid
            cid += 1
            ret = _Entry(i, None)
            call.ret = ret
            keyed.append((op.ret, 1, i, ret))
    keyed.sort()  # (time, call or return, i) is unique: the entries are never compared
    head, phead = _Entry(-1, None), _Entry(-1, None)
    last, plast = head, phead
    for pos, (_, _, _, e) in enumerate(keyed):
        e.pos = pos
        if e.pbit:
            plast.next = e
            e.prev = plast
            plast = e
        else:
            last.next = e
            e.prev = last
            last = e
    return head, phead, cid, calls


@dataclass(slots=True)
class _Deepest:
    order: list[int]  # operation indices placed, in order
    state: Any
    start: int  # index into the starts
    blocked: int  # index of the operation whose return was reached
    candidates: list[int]


@dataclass(slots=True)
class _Outcome:
    status: str  # "ok" | "fail" | "budget"
    steps: int
    ends: list[tuple[Any, int]] = field(default_factory=list)  # collect mode
    deepest: _Deepest | None = None


def _search(spec: Any, ops: Sequence[Operation], starts: Sequence[tuple[Any, int]],
            budget: int | None, *, collect: bool = False, explain: bool = False,
            max_ends: int = 64, max_chain: int = 0) -> _Outcome:
    """Wing-Gong-Lowe over `ops` (sorted by call, then id) from each start (state,
    placed-pending bitset). `collect`: enumerate the configurations in which every
    completed operation is placed (up to `max_ends`, else status "budget") instead of
    stopping at the first. `explain`: keep the deepest dead end. `max_chain`: place at
    most that many pending operations in a row (0: no bound); such a search is not
    complete, but what it finds is a linearization.

    Candidates are tried completed ones first, in call order, then pending ones
    invoked before the first return still in the list (`block`). Any order is
    complete; this one places a pending operation only when no completed one fits,
    which keeps a history with many crashed clients from trying every subset of
    their operations on the way to a linearization that needs none of them.

    A completed read that fits is placed without a choice point ("forced"): if any
    linearization extends the prefix, one extends it with the read placed now (move
    it forward: it changes no state, and being a candidate nothing unplaced returned
    before its call). So the subsets of placed reads, which would otherwise multiply
    the configurations by 2^(concurrent reads), never branch."""
    head, phead, completed, calls = _link(ops, getattr(spec, "read_only", None))
    apply = spec.apply
    accepts = getattr(spec, "accepts", None)
    fast = accepts is None or getattr(type(spec), "accepts", None) is Spec.accepts
    seen: set[tuple[int, int, int, Any]] = set()  # without pending operations
    # With them: (base, window, state) -> the placed-pending sets seen there. A
    # configuration is subsumed by one with the same completed set and state and
    # fewer pending operations placed: leaving those out does all it can.
    dom: dict[tuple[int, int, Any], list[int]] = {}
    subsume = phead.next is not None
    ends: list[tuple[Any, int]] = []
    end_set: set[tuple[Any, int]] = set()
    deepest: _Deepest | None = None
    limit = -1 if budget is None else budget
    steps = 0
    entry: _Entry | None = None
    try:
        for s_index, (state, plin) in enumerate(starts):
            base = window = 0
            left = completed
            # (entry placed, then the configuration before it, and whether it was forced)
            stack: list[tuple[_Entry, Any, int, int, int, int, Any, bool]] = []
            applied = [e for e in calls if e.pbit & plin]  # placed before this start
            for e in applied:
                _lift(e)
            entry = head.next
            block: _Entry | None = None
            while True:
                steps += 1
                if steps == limit:
                    return _Outcome("budget", steps, ends, deepest)
                if left == 0:
                    if not collect:
                        return _Outcome("ok", steps, ends, deepest)
                    if (state, plin) not in end_set:
                        if len(ends) == max_ends:
                            return _Outcome("budget", steps, ends, deepest)
                        end_set.add((state, plin))
                        ends.append((state, plin))
                elif entry is not None and entry.ret is not None:  # a completed call
                    out, new_state = apply(state, entry.inp)
                    if entry.any or (out == entry.out if fast
                                     else accepts(entry.inp, out, entry.out)):
                        nb = base
                        nw = window | (1 << (entry.cid - base))
                        while nw & 1:
                            nw >>= 1
                            nb += 1
                        if subsume:
                            new = (not (stack and stack[-1][0].pbit and _sibling(
                                       apply, accepts, fast, stack[-1][1], entry, new_state))
                                   and _novel(dom, (nb, nw, new_state), plin))
                        else:
                            key = (nb, nw, plin, new_state)
                            new = key not in seen
                            if new:
                                seen.add(key)
                        if new:
                            stack.append((entry, state, base, window, plin, left, block,
                                          entry.ro))
                            state, base, window, left = new_state, nb, nw, left - 1
                            # _lift(entry), inlined: the search's most frequent step
                            p, n = entry.prev, entry.next
                            p.next = n
                            if n is not None:
                                n.prev = p
                            r = entry.ret
                            p, n = r.prev, r.next
                            p.next = n
                            if n is not None:
                                n.prev = p
                            entry = head.next
                            continue
                        if not entry.ro:
                            entry = entry.next
                            continue
                        # A forced read whose configuration led nowhere: a dead end.
                    else:
                        entry = entry.next
                        continue
                else:
                    if entry is not None and entry.op is None:
                        # A return: its operation had to be placed before anything
                        # after it, and no completed candidate before it worked. Try the
                        # pending ones invoked before it.
                        block = entry
                        entry = phead.next
                    if max_chain and entry is not None and stack and stack[-1][0].pbit:
                        j = len(stack) - 1
                        while j >= 0 and stack[j][0].pbit:
                            j -= 1
                        if len(stack) - 1 - j >= max_chain:
                            entry = None  # no longer chain of pending operations here
                    if entry is not None and entry.pos < block.pos:  # a pending candidate
                        _, new_state = apply(state, entry.inp)
                        np = plin | entry.pbit
                        if not (stack[-1][0].pbit and _sibling(apply, accepts, fast,
                                                                stack[-1][1], entry, new_state)
                                if stack else False) \
                                and _novel(dom, (base, window, new_state), np):
                            stack.append((entry, state, base, window, plin, left, block,
                                          False))
                            state, plin = new_state, np
                            _lift(entry)
                            entry = head.next
                            continue
                        entry = entry.next
                        continue
                    if explain and (deepest is None or len(stack) > len(deepest.order)):
                        deepest = _snapshot(head, phead, block, stack, state, s_index)
                # Backtrack: undo the last choice and try the next candidate after it;
                # a forced one was no choice, so undo the one before it as well.
                while True:
                    forced = True
                    while forced and stack:
                        entry, state, base, window, plin, left, block, forced = stack.pop()
                        # _unlift(entry), inlined as _lift is above
                        r = entry.ret
                        if r is not None:
                            r.prev.next = r
                            if r.next is not None:
                                r.next.prev = r
                        entry.prev.next = entry
                        if entry.next is not None:
                            entry.next.prev = entry
                    if forced:
                        break
                    entry = entry.next
                    # The loop's next step, taken here where all it does is note a return
                    # as the block and backtrack again (no pending candidate, nothing to
                    # explain): most steps of a collecting search unwinding its stack.
                    if entry is None or entry.op is not None or explain or \
                            phead.next is not None:
                        break
                    steps += 1
                    if steps == limit:
                        return _Outcome("budget", steps, ends, deepest)
                    block = entry
                if forced:  # the stack is empty and every choice was tried
                    break
            for e in reversed(applied):
                _unlift(e)
    except TypeError as exc:
        if "unhashable" in str(exc):
            raise InvalidModel(f"spec {getattr(spec, 'name', spec)!r}: states must be "
                               f"hashable values (tuples, frozensets, ...): {exc}") from None
        raise _spec_error(spec, entry, exc) from exc
    except (InvalidModel, UsageError):
        raise
    except Exception as exc:  # a bug in a user's spec: name the input that raised
        raise _spec_error(spec, entry, exc) from exc
    finally:
        _unlink(calls, head, phead)
    return _Outcome("ok" if collect else "fail", steps, ends, deepest)


def _unlink(calls: list[_Entry], *heads: _Entry) -> None:
    """Break the lists' reference cycles: the validator runs with the cyclic collector
    paused (checker/validate.py), and a history checked a segment at a time is
    searched again and again."""
    for e in (*calls, *heads):
        r = e.ret
        if r is not None:
            r.prev = r.next = None
        e.prev = e.next = e.ret = None


def _sibling(apply: Any, accepts: Any, fast: bool, parent_state: Any, entry: _Entry,
             new_state: Any) -> bool:
    """Whether placing `entry` right after the pending operation on top of the stack
    reaches what placing it instead of that one does (same state, output fits): then
    this configuration is subsumed by that sibling, which has one pending placed less.
    It cuts the chains of pending writes that overwrite one another."""
    out, state = apply(parent_state, entry.inp)
    return state == new_state and (entry.any or (
        out == entry.out if fast else accepts(entry.inp, out, entry.out)))


def _novel(dom: dict, key: tuple, plin: int) -> bool:
    """Record (key, plin) unless a configuration with the same key and a subset of
    its placed pending operations was seen."""
    seen = dom.get(key)
    if seen is None:
        dom[key] = [plin]
        return True
    for q in seen:
        if q & plin == q:
            return False
    seen.append(plin)
    return True


def _spec_error(spec: Any, entry: _Entry | None, exc: Exception) -> InvalidModel:
    what = f" on input {entry.inp!r}" if entry is not None and entry.op is not None else ""
    return InvalidModel(f"spec {getattr(spec, 'name', spec)!r} raised "
                        f"{type(exc).__name__}: {exc}{what}")


def _lift(e: _Entry) -> None:
    e.prev.next = e.next
    if e.next is not None:
        e.next.prev = e.prev
    r = e.ret
    if r is not None:
        r.prev.next = r.next
        if r.next is not None:
            r.next.prev = r.prev


def _unlift(e: _Entry) -> None:
    r = e.ret
    if r is not None:
        r.prev.next = r
        if r.next is not None:
            r.next.prev = r
    e.prev.next = e
    if e.next is not None:
        e.next.prev = e


def _snapshot(head: _Entry, phead: _Entry, blocked: _Entry, stack: list, state: Any,
              start: int) -> _Deepest:
    candidates = []
    e = head.next
    while e is not blocked:
        if e.op is not None:
            candidates.append(e.i)
        e = e.next
    e = phead.next
    while e is not None and e.pos < blocked.pos:
        candidates.append(e.i)
        e = e.next
    return _Deepest([s[0].i for s in stack], state, start, blocked.i, sorted(candidates))


# ---------------------------------------------------------------------------------
# Checking a history


def _prepare(operations: Iterable[Operation]) -> list[Operation]:
    ops = list(operations)
    ids = set()
    for op in ops:
        if op.id in ids:
            raise UsageError(f"two operations with id {op.id!r}: ids must be unique")
        ids.add(op.id)
        if op.ret is not None and op.ret < op.call:
            raise UsageError(f"operation {op.id} returns at {op.ret}, before its call at "
                             f"{op.call}")
    ops.sort(key=lambda o: (o.call, o.id))
    return ops


def partition(spec: Any, ops: Sequence[Operation]) -> list[tuple[Any, list[Operation]]]:
    """The sub-histories by `spec.key`, in order of their first operation."""
    keyfn = getattr(spec, "key", None)
    if keyfn is None:
        return [(None, list(ops))]
    groups: dict[Any, list[Operation]] = {}
    for op in ops:
        try:
            k = keyfn(op.input)
            g = groups.get(k)
        except Exception as exc:  # a bug in a user's spec, or an unhashable key
            raise InvalidModel(f"spec {getattr(spec, 'name', spec)!r}: key({op.input!r}) "
                               f"failed: {type(exc).__name__}: {exc}") from None
        if g is None:
            groups[k] = [op]
        else:
            g.append(op)
    return list(groups.items())


def check(spec: Any, operations: Iterable[Operation], *, max_steps: int | None = None,
          shrink_steps: int = 2_000_000) -> LinearizabilityResult:
    """Is the history linearizable with respect to `spec`? Each key is searched on its
    own, with at most `max_steps` steps (None: no bound; a key that reaches it is
    "incomplete"). On a violation the first failing key (in call order) is shrunk and
    explained within `shrink_steps` more steps."""
    ops = _prepare(operations)
    parts = [Part(key, part) for key, part in partition(spec, ops)]
    del ops
    return check_parts(spec, parts, max_steps=max_steps, shrink_steps=shrink_steps)


@dataclass(slots=True)
class Part:
    """One key's sub-history still to be checked, after `before` operations of the key
    that `settle` already checked and forgot: they all returned before `cut`, and
    `starts` are the configurations they can leave (None: none settled, the initial
    state). `earlier` are the last few of them, shown as a violation's context; `steps`
    the search steps already spent on the key, counted against its budget."""

    key: Any
    ops: list[Operation]  # sorted by call, then id
    starts: list[tuple[Any, int]] | None = None
    before: int = 0
    cut: float | None = None
    earlier: list[Operation] = field(default_factory=list)
    steps: int = 0


def check_parts(spec: Any, parts: list[Part], *, max_steps: int | None = None,
                shrink_steps: int = 2_000_000) -> LinearizabilityResult:
    """`check` over histories already split by key, in the order of their first
    operations, each maybe continuing from a `settle`d prefix."""
    describe = getattr(spec, "describe_key", None) or _show

    def describe_key(key: Any) -> str:
        return "the history" if key is None else describe(key)  # a spec without keys

    result = LinearizabilityResult(
        property=getattr(spec, "property", "LINEARIZABLE"), spec=getattr(spec, "name", "spec"),
        result="ok", operations=sum(p.before + len(p.ops) for p in parts),
        pending=sum(op.ret is None for p in parts for op in p.ops), keys=len(parts))
    first_failing: Part | None = None
    for index, part in enumerate(parts):
        parts[index] = Part(part.key, [])  # one key's list and search at a time, then freed
        result.steps += part.steps
        left = None if max_steps is None else max_steps - part.steps
        if left is not None and left <= 0:
            result.incomplete_keys.append(describe_key(part.key))
            continue
        if not part.ops:
            continue
        outcome = _check_one(spec, part.ops, left, part.starts)
        result.steps += outcome.steps
        if outcome.status == "fail":
            result.failing_keys.append(describe_key(part.key))
            if first_failing is None:
                first_failing = part
        elif outcome.status == "budget":
            result.incomplete_keys.append(describe_key(part.key))
    if first_failing is not None:
        result.result = "violation"
        result.violation = _violation(spec, first_failing, shrink_steps)
    elif result.incomplete_keys:
        result.result = "incomplete"
    return result


def _check_one(spec: Any, part: list[Operation], max_steps: int | None,
               starts: list[tuple[Any, int]] | None = None) -> _Outcome:
    """One key's verdict. With pending operations, first a search that places at most
    one of them between two completed ones: it finds the linearizations of most
    histories with crashed clients fast, and a linearization it finds is one. Only if
    it finds none, the full search (the only one whose "no" is a proof). Both share
    `max_steps`, the first taking at most half."""
    starts = starts or [(spec.init(), 0)]
    if not any(op.ret is None for op in part):
        return _search(spec, part, starts, max_steps)
    # At least one step: a budget of 0 would be none at all (`_search` stops at == limit).
    quick = _search(spec, part, starts, None if max_steps is None else max(max_steps // 2, 1),
                    max_chain=1)
    if quick.status == "ok":
        return quick
    left = None if max_steps is None else max_steps - quick.steps
    full = _search(spec, part, starts, left) if left is None or left > 0 else quick
    if full is not quick:
        full.steps += quick.steps
    return full


# ---------------------------------------------------------------------------------
# Checking a history while it is recorded


@dataclass(slots=True)
class Settled:
    """What `settle` did. "cut": the first `n` operations are checked, and `starts`
    are the configurations they can leave (every later operation is invoked after
    they all returned: the first one's call is the quiescent time); "none": no
    sound cut yet; "fail": those first `n` are not linearizable from the given starts
    (nor, then, the history); "budget": the search ran out of steps or ends."""

    status: str
    n: int = 0
    starts: list[tuple[Any, int]] = field(default_factory=list)
    steps: int = 0


def settle(spec: Any, ops: Sequence[Operation], starts: Sequence[tuple[Any, int]] | None,
           frontier: float, *, max_steps: int | None = None, max_ends: int = 16) -> Settled:
    """Check the longest prefix of one key's history that nothing can reorder any more,
    so that it can be forgotten: `ops` sorted by call then id, those without a return
    still open (they may yet return); every operation not yet in `ops` is invoked
    after `frontier`. A cut before operation j is sound when every operation before
    it returned before j (and every later one) was invoked, and by `frontier`: then
    every linearization places them all first, and the rest needs only the states
    they can leave (P-compositionality's argument, in time instead of keys). An open
    operation ends the prefix: its return, still to come, may be anywhere."""
    high: float | None = None
    point = 0
    for j, op in enumerate(ops):
        if high is not None and high < op.call:
            point = j
        r = op.ret
        if r is None or r > frontier:
            break
        if high is None or r > high:
            high = r
    else:
        point = len(ops)
    if point == 0:
        return Settled("none")
    head = list(ops[:point])
    outcome = _search(spec, head, starts or [(spec.init(), 0)], max_steps, collect=True,
                      max_ends=max_ends)
    if outcome.status != "ok":
        return Settled("budget", steps=outcome.steps)
    if not outcome.ends:
        return Settled("fail", point, steps=outcome.steps)
    ends = sorted(outcome.ends, key=lambda e: (e[1], repr(e[0])))
    return Settled("cut", point, ends, outcome.steps)


# ---------------------------------------------------------------------------------
# Shrinking and explaining a violation


@dataclass(slots=True)
class _Sub:
    ops: list[Operation]
    starts: list[tuple[Any, int]]  # (state, placed-pending bitset over ops' pending ones)
    before: int = 0
    cut: float | None = None


CONTEXT = 4  # operations shown from before a cut
LIST = 8  # operations named in a sentence, and at each end of a long listing
SMALL = 10  # a sub-history this small reads best whole: no cut


class _Budget:
    def __init__(self, steps: int) -> None:
        self.left = steps

    def fails(self, spec: Any, sub: _Sub) -> bool:
        """Confirmed not linearizable (False also when the budget ran out)."""
        if self.left <= 0:
            return False
        outcome = _search(spec, sub.ops, sub.starts, self.left)
        self.left -= outcome.steps
        return outcome.status == "fail"


def _violation(spec: Any, p: Part, shrink_steps: int) -> Violation:
    key, part = p.key, p.ops
    budget = _Budget(shrink_steps)
    sub, complete = _shrink(spec, _Sub(part, p.starts or [(spec.init(), 0)], p.before, p.cut),
                            budget)
    outcome = _search(spec, sub.ops, sub.starts, max(budget.left, 100_000), explain=True)
    originals = {op.id: op for op in part}
    describe_key = getattr(spec, "describe_key", None) or _show
    starts = tuple(_start(spec, sub, s) for s in sub.starts)
    explanation = None if outcome.deepest is None else _explain(spec, sub, outcome.deepest,
                                                                starts)
    views = tuple(_view(spec, originals[op.id], op.pending) for op in sub.ops)
    context = ()
    if sub.cut is not None:
        kept = {op.id for op in sub.ops}
        earlier = sorted((op for op in [*p.earlier, *part] if op.id not in kept
                          and op.ret is not None and op.ret < sub.cut),
                         key=lambda o: (o.ret, o.id))
        context = tuple(_view(spec, op, False) for op in earlier[-CONTEXT:])
    n = len(sub.ops)
    what = "the history" if key is None else f"key {describe_key(key)}"
    total = p.before + len(part)
    if n == 1:
        one = "its only operation" if total == 1 else f"this one of its {total} operations"
        message = f"{what} is not linearizable: the spec cannot return what {one} returned"
    else:
        these = f"its {n} operations" if n == total else f"these {n} of its {total} operations"
        message = (f"{what} is not linearizable: no order of {these} respects both real "
                   "time and the spec")
    return Violation(
        property=getattr(spec, "property", "LINEARIZABLE"), key=describe_key(key),
        operations=views, starts=starts, before=sub.before, cut=sub.cut, context=context,
        key_operations=total, shrink_complete=complete, explanation=explanation,
        message=message)


def _shrink(spec: Any, sub: _Sub, budget: _Budget) -> tuple[_Sub, bool]:
    """Smaller sub-histories that still fail, by sound steps only (module docstring).
    Returns the smallest found and whether every step ran to its end."""
    read_only = getattr(spec, "read_only", None) or (lambda _inp: False)
    # A pending read never constrains anything: drop it outright.
    sub = _Sub([op for op in sub.ops if not (op.pending and read_only(op.input))],
               sub.starts, sub.before, sub.cut)
    sub = _shortest_prefix(spec, sub, budget)
    for _ in range(8):
        size = len(sub.ops)
        if size > SMALL:
            sub = _cut(spec, sub, budget)
        sub = _drop_reads(spec, sub, read_only, budget)
        if len(sub.ops) == size or budget.left <= 0:
            break
    return sub, budget.left > 0


def _shortest_prefix(spec: Any, sub: _Sub, budget: _Budget) -> _Sub:
    """The shortest prefix in time, ending at a return, that still fails (binary
    search: a prefix of a linearizable history is linearizable)."""
    rets = sorted((op.ret, i) for i, op in enumerate(sub.ops) if op.ret is not None)
    # The prefix at the last return fails as the whole does: what is invoked after
    # every return can be placed after everything and never changes an output.
    lo, hi = 0, len(rets) - 1
    while lo < hi and budget.left > 0:
        mid = (lo + hi) // 2
        if budget.fails(spec, _prefix(sub, rets[mid])):
            hi = mid
        else:
            lo = mid + 1
    return _prefix(sub, rets[hi])


def _prefix(sub: _Sub, end: tuple[float, int]) -> _Sub:
    """The operations invoked before the return entry `end` (time, index); those still
    open there become pending. Keeps the pending numbering of the starts' bitsets:
    pending operations carried over from a cut come first and are all kept."""
    ops = []
    for i, op in enumerate(sub.ops):
        if (op.call, 0, i) > (end[0], 1, end[1]):
            continue
        if op.ret is not None and (op.ret, 1, i) > (end[0], 1, end[1]):
            op = replace(op, ret=None, output=UNKNOWN, ret_ref="")
        ops.append(op)
    return _Sub(ops, _restarts(sub, ops), sub.before, sub.cut)


def _restarts(sub: _Sub, ops: list[Operation]) -> list[tuple[Any, int]]:
    """The starts' placed-pending bitsets over `ops`' pending operations, which may
    number them differently from `sub.ops` (an operation made pending, one dropped)."""
    if all(p == 0 for _, p in sub.starts):
        return sub.starts
    old = [op.id for op in sub.ops if op.ret is None]
    new = {op.id: k for k, op in enumerate(o for o in ops if o.ret is None)}
    starts = []
    for state, plin in sub.starts:
        bits = 0
        for k, op_id in enumerate(old):
            if plin >> k & 1:
                bits |= 1 << new[op_id]  # a placed one is never dropped (see callers)
        starts.append((state, bits))
    return starts


def _cut(spec: Any, sub: _Sub, budget: _Budget) -> _Sub:
    """Cut at the latest quiescent point: every completed operation invoked before it
    returned before it. What comes before is replaced by the configurations it can end
    in (state, pending ones placed); pending operations invoked before it are carried."""
    events = []
    for i, op in enumerate(sub.ops):
        if op.ret is not None:
            events.append((op.call, 0, i))
            events.append((op.ret, 1, i))
    events.sort()
    open_ = 0
    point = None  # index into events: cut just before it
    for j, (_, kind, _) in enumerate(events):
        if kind == 0 and open_ == 0 and j > 0:
            point = j
        open_ += 1 if kind == 0 else -1
    if point is None:
        return sub
    t, _, first = events[point]
    mark = (t, 0, first)
    head = [i for i, op in enumerate(sub.ops) if (op.call, 0, i) < mark]
    h1 = [sub.ops[i] for i in head]
    outcome = _search(spec, h1, _restarts(sub, h1), budget.left, collect=True, max_ends=16)
    budget.left -= outcome.steps
    if outcome.status != "ok" or not outcome.ends:
        return sub
    # (s, P) makes (s, P + more pending placed) redundant: from it, leaving those out
    # does all the larger one can.
    ends = [(st, p) for st, p in outcome.ends
            if not any(st2 == st and p2 != p and p2 & p == p2 for st2, p2 in outcome.ends)]
    carried = [op for op in h1 if op.ret is None]
    ops = carried + [op for i, op in enumerate(sub.ops) if (op.call, 0, i) >= mark]
    # The pending ones of h1 come first in both lists, in the same order: same bits.
    cand = _Sub(ops, sorted(ends, key=lambda e: (e[1], repr(e[0]))),
                sub.before + len(h1) - len(carried), t)
    return cand if budget.fails(spec, cand) else sub


def _drop_reads(spec: Any, sub: _Sub, read_only: Any, budget: _Budget) -> _Sub:
    """Drop completed read-only operations one at a time while the rest still fails
    (sound: a linearization of the whole minus a read is one of the rest)."""
    i = 0
    while i < len(sub.ops) and budget.left > 0:
        op = sub.ops[i]
        if op.ret is not None and read_only(op.input):
            cand = _Sub(sub.ops[:i] + sub.ops[i + 1:], sub.starts, sub.before, sub.cut)
            if budget.fails(spec, cand):
                sub = cand
                continue
        i += 1
    return sub


def _view(spec: Any, op: Operation, pending_here: bool) -> OpView:
    din = getattr(spec, "describe_input", None) or _show
    dout = getattr(spec, "describe_output", None) or _show
    return OpView(op.id, op.client, din(op.input),
                  None if op.ret is None else dout(op.output), op.call, op.ret,
                  op.call_ref, op.ret_ref, open=pending_here and op.ret is not None)


def _start(spec: Any, sub: _Sub, start: tuple[Any, int]) -> Start:
    dstate = getattr(spec, "describe_state", None) or _show
    state, plin = start
    pending = [op.id for op in sub.ops if op.ret is None]
    return Start(dstate(state), tuple(p for k, p in enumerate(pending) if plin >> k & 1))


def _explain(spec: Any, sub: _Sub, d: _Deepest, starts: tuple[Start, ...]) -> Explanation:
    """Why no order works, read off the deepest dead end of the search."""
    dstate = getattr(spec, "describe_state", None) or _show
    dout = getattr(spec, "describe_output", None) or _show
    din = getattr(spec, "describe_input", None) or _show
    accepts = getattr(spec, "accepts", None) or (lambda _i, e, o: e == o)
    ops = sub.ops
    cands = []
    for i in d.candidates:
        op = ops[i]
        out, _ = spec.apply(d.state, op.input)
        fits = op.ret is None or op.output is UNKNOWN or accepts(op.input, out, op.output)
        cands.append(Candidate(op.id, dout(out), None if op.ret is None else dout(op.output),
                               fits))
    blocked = ops[d.blocked]
    prefix = tuple(ops[i].id for i in d.order)
    if prefix:
        where = (f"the longest linearizable prefix found is {', '.join(prefix)}, leaving "
                 f"the state {dstate(d.state)}")
    else:
        where = f"no operation can be placed first from the state {dstate(d.state)}"
    this = next(c for c in cands if c.id == blocked.id)
    head = (f"{blocked.id} ({din(blocked.input)} -> {dout(blocked.output)}, returned at "
            f"{_num(blocked.ret or 0)}) has to be placed next, before anything invoked "
            "after it returned")
    if this.fits:
        why = "; it fits, but no order of the rest works after it"
    else:
        why = f", but the spec returns {this.expected} there"
    fit = [c.id for c in cands if c.id != blocked.id and c.fits]
    wrong = [c for c in cands if c.id != blocked.id and not c.fits]
    parts = [f"{c.id} would return {c.expected}, not {c.observed}" for c in wrong[:LIST]]
    if len(wrong) > LIST:
        parts.append(f"{len(wrong) - LIST} more would not return what they did either")
    if fit:
        names = ", ".join(fit[:LIST]) + (f" and {len(fit) - LIST} more" if len(fit) > LIST
                                          else "")
        parts.append(f"{names} {'fits' if len(fit) == 1 else 'fit'} there, but no order of "
                     f"the rest works after {'it' if len(fit) == 1 else 'any of them'}")
    tail = ("; of the operations that could go before it, " + "; ".join(parts)) if parts else ""
    if len(starts) > 1:
        where = f"starting from {_start_text(starts[d.start])}, {where}"
    message = f"{where}. Then {head}{why}{tail}."
    return Explanation(starts[d.start], prefix, dstate(d.state), blocked.id, tuple(cands),
                       message)
