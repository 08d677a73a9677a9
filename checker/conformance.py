"""The contracts between the validator and a protocol: what a monitor reports and
what a trace map answers, and the conformance frontier that steps a model by them.

models/ implement these (models/common/monitor.py, models/*/trace_map.py);
checker/validate.py runs them. Nothing here knows a protocol or a file format.

Conformance (DESIGN.md, trace validation level 2): the validator keeps the *frontier*,
the set of model states consistent with the events so far. An event maps to a
predicate over model actions (the action the event records, with any witness the
event does not show left open) or to a stutter; the new frontier is every successor,
under a matching action, of a state in the old one. An empty frontier means no run of
the model explains the log: the event is reported with the states that were still
possible just before it and the actions they enabled.

A model is finite and a run is not, so a trace map may let each model state stand for
a window of the run (models/*/window.py): when an event does not fit, the map raises
`NoRoom` and the validator asks it to `compact` the frontier, which slides (or
widens) the window the same way in every state, forgetting only what no later step
can read; the map then maps the event again. Memory follows the window, not the log.
What even a compacted window cannot hold stops conformance as `outside-model`, with
the reason, and the run is not blamed for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Loc = tuple[str, int]  # (file, line)


@dataclass(slots=True)
class TraceViolation:
    property: str
    message: str
    file: str
    line: int
    related: list[Loc] = field(default_factory=list)  # other events that prove it

    def to_json(self) -> dict[str, Any]:
        return {"property": self.property, "file": self.file, "line": self.line,
                "message": self.message,
                "related": [{"file": f, "line": ln} for f, ln in self.related]}


class EventMonitor(Protocol):
    """Checks a protocol's invariants over events, one call per event."""

    properties: Sequence[tuple[str, str]]  # (id, one-line rule)
    violations: list[TraceViolation]

    def on_event(self, ev: dict) -> None: ...

    def finish(self) -> None: ...


class Violations:
    """The violations a monitor found; `limit` per property keeps a broken run's
    report readable (the first one is the one that matters)."""

    def __init__(self, limit: int = 20) -> None:
        self.items: list[TraceViolation] = []
        self.counts: dict[str, int] = {}
        self.limit = limit

    def add(self, prop: str, message: str, at: Loc, related: Iterable[Loc] = ()) -> None:
        n = self.counts.get(prop, 0) + 1
        self.counts[prop] = n
        if n <= self.limit:
            self.items.append(TraceViolation(prop, message, at[0], at[1],
                                             [r for r in related if r is not None]))


@dataclass
class ConformanceFailure:
    file: str
    line: int
    event: str  # the event, as it reads
    mapped_to: str  # what the map made of it
    states: list[dict[str, Any]]  # described candidate states (a few)
    enabled: list[list[str]]  # their enabled actions, formatted
    frontier_size: int


# -- conformance ------------------------------------------------------------------------

STUTTER = None  # what a trace map returns for an event the model does not see


class OutsideModel(Exception):
    """Raised by a trace map for an event beyond the model's finite bounds (a fourth
    client, a sequence number above max_seq): conformance stops there, unchecked, and
    the run is not blamed for it."""


class NoRoom(OutsideModel):
    """Raised by a trace map whose window onto an unbounded run cannot hold an event
    yet (a slot past the window, one ballot or command too many). The validator then
    asks the map to slide the window, `compact(frontier) -> frontier`, and maps the
    event again; if there is still no room, conformance stops there, unchecked."""


ROOM_TRIES = 4  # one event may lack room for a slot, a ballot and a command at once
_STOPPED = object()  # Conformance.step: the event took conformance outside the model


class Successors:
    """A trace map's answer for an event that is several model steps, a check on the
    state, or none: the states the event can lead to from a state, `fn(model, s)`."""

    __slots__ = ("fn", "_text")

    def __init__(self, fn: Callable[[Any, Any], Iterable[Any]],
                 text: str | Callable[[], str]) -> None:
        # `text` may be a function that writes it: a map answers every event, and the
        # text is read only to describe a failure (formatting it each time cost more
        # than the step on the hot events).
        self.fn, self._text = fn, text

    @property
    def text(self) -> str:
        t = self._text
        return t if t.__class__ is str else t()

    def successors(self, model: Any, s: Any) -> Iterable[Any]:
        return self.fn(model, s)


def fails(text: str) -> Successors:
    """An event no state explains (the map already knows it is wrong)."""
    return Successors(lambda model, s: [], text)


def stays(text: str) -> Successors:
    """An event that is a check already made and changes no state."""
    return Successors(lambda model, s: [s], text)


class TraceMap(Protocol):
    """Maps events to model actions (models/<protocol>/trace_map.py)."""

    def match(self, ev: dict) -> Callable[[tuple], bool] | None:
        """A predicate over the model's actions for ev, or STUTTER; or an object with
        `successors(model, state)`, the states ev can lead to from state, for an event
        that is several model steps, or a check on the state and no step at all."""

    def describe_match(self, ev: dict) -> str: ...


class Conformance:
    """The frontier of model states consistent with the events so far."""

    def __init__(self, model: Any, trace_map: TraceMap, max_frontier: int = 50_000,
                 key: Callable[[Any], Hashable] | None = None) -> None:
        self.model = model
        self.map = trace_map
        self.max_frontier = max_frontier
        self.frontier: set = set(model.init_states())
        self.peak = len(self.frontier)
        self.failure: ConformanceFailure | None = None
        self.truncated = False
        self.outside: str | None = None  # why conformance stopped unchecked
        self.compactions = 0  # times the map slid its window (see NoRoom)

    def step(self, ev: dict) -> bool:
        """Advance by one event; False (and `failure` set) when no state explains it."""
        if self.failure is not None or self.outside is not None:
            return False
        # Called once per event, and most events are stutters: the first try is the
        # plain call, the window slides only when the map says it lacks room.
        try:
            match = self.map.match(ev)
        except NoRoom:
            match = self._with_room(ev)
        except OutsideModel as why:
            match = self._outside(ev, why)
        if match is STUTTER:
            return True
        if match is _STOPPED:
            return False
        model = self.model
        nxt = set()
        successors = getattr(match, "successors", None)
        if successors is not None:  # the map walks the model itself (several steps, checks)
            try:
                for s in self.frontier:
                    nxt.update(successors(model, s))
            except OutsideModel as why:  # a state the window cannot follow there
                path, line = ev.get("_loc", ("?", 0))
                self.outside = f"{path} line {line}: {why}"
                return False
        else:
            for s in self.frontier:
                for a in model.actions(s):
                    if match(a):
                        nxt.add(model.next_state(s, a))
        if not nxt:
            self._fail(ev)
            return False
        if len(nxt) > self.max_frontier:
            # Keep a deterministic subset; conformance is then a sound under-approximation
            # only for "conforms" (a later failure may be a false alarm: said so).
            self.truncated = True
            nxt = set(sorted(nxt, key=repr)[: self.max_frontier])
        self.frontier = nxt
        self.peak = max(self.peak, len(nxt))
        return True

    def _with_room(self, ev: dict) -> Any:
        """Slide the window and map `ev` again, up to ROOM_TRIES tries in all."""
        try:
            for tries in range(1, ROOM_TRIES):
                # Every state forgets the same prefix and is renamed the same way, so
                # the frontier stays the set of (windows of) states the log allows.
                self.frontier = self.map.compact(self.frontier)
                self.compactions += 1
                try:
                    return self.map.match(ev)
                except NoRoom:
                    if tries == ROOM_TRIES - 1:
                        raise
        except OutsideModel as why:
            return self._outside(ev, why)
        raise AssertionError("unreachable")

    def _outside(self, ev: dict, why: OutsideModel) -> Any:
        path, line = ev.get("_loc", ("?", 0))
        self.outside = f"{path} line {line}: {why}"
        return _STOPPED

    def _fail(self, ev: dict) -> None:
        shown = sorted(self.frontier, key=repr)[:3]
        fmt = getattr(self.model, "format_action", repr)
        describe = getattr(self.model, "describe", lambda s: {"state": repr(s)})
        path, line = ev.get("_loc", ("?", 0))
        self.failure = ConformanceFailure(
            file=path, line=line, event=event_text(ev), mapped_to=self.map.describe_match(ev),
            states=[_plain(describe(s)) for s in shown],
            enabled=[[fmt(a) for a in self.model.actions(s)] for s in shown],
            frontier_size=len(self.frontier))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [_plain(v) for v in value]
    return value


def event_text(ev: dict) -> str:
    """An event as one short line, without the reader's own `_` fields."""
    shown = {k: v for k, v in ev.items() if not k.startswith("_") and k != "ts"}
    return json.dumps(shown, separators=(",", ":"))
