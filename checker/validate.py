"""Trace validation: run event monitors and model conformance over a merged event stream.

`validate_run(paths)` is the one pipeline that `smrcheck validate`, `smrcheck show`
and the tests call: read the files (traces/reader.py), merge their events by
causality, hand each event to the protocol's monitor and then to its conformance
check, and return a `ValidateResult`: plain data that `render.py` draws and `to_json`
/ `write_junit` serialise. The protocol's pieces (monitor, model, trace map) come from
`models/registry.py`; `validate_run` is the only function here that imports them, and
only when called, so the rest of this module knows no protocol and no file format:
`validate` takes an iterable of events (dicts, each with `_loc` = (file, line)), a
monitor and optionally a `Conformance`.

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

import gc
import time
import xml.etree.ElementTree as ET
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


@dataclass
class ValidateResult:
    protocol: str
    files: list[str]
    result: str  # "ok" | "violation" | "invalid-input"
    events: int
    seconds: float
    properties: list[tuple[str, str]]
    violations: list[TraceViolation]
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # violations per property, uncapped
    conformance: str | None = None  # "conforms" | "fails" | "outside-model" | None (not asked)
    conformance_failure: ConformanceFailure | None = None
    max_frontier: int = 0
    error: str | None = None  # the input error, for invalid-input

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "violation": 1, "invalid-input": 2}[self.result]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "result": self.result,
            "protocol": self.protocol,
            "files": self.files,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "properties": [p for p, _ in self.properties],
            "violations": [v.to_json() for v in self.violations],
            "violation_counts": self.counts,
            "warnings": self.warnings,
            "conformance": self.conformance,
            "exit_code": self.exit_code,
        }
        if self.conformance_failure is not None:
            c = self.conformance_failure
            out["conformance_failure"] = {
                "file": c.file, "line": c.line, "event": c.event, "mapped_to": c.mapped_to,
                "frontier_size": c.frontier_size, "states": c.states, "enabled": c.enabled}
        if self.error is not None:
            out["error"] = self.error
        return out


def invalid_input(message: str, files: Sequence[str] = (), protocol: str = "") -> ValidateResult:
    return ValidateResult(protocol, list(files), "invalid-input", 0, 0.0, [], [], error=message)


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


class Successors:
    """A trace map's answer for an event that is several model steps, a check on the
    state, or none: the states the event can lead to from a state, `fn(model, s)`."""

    __slots__ = ("fn", "text")

    def __init__(self, fn: Callable[[Any, Any], Iterable[Any]], text: str) -> None:
        self.fn, self.text = fn, text

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

    def hidden(self, a: tuple) -> bool:
        """Actions that leave no event (e.g. a learner's internal step): they may
        happen between any two events. A map whose `has_hidden` is False has none,
        and the validator does not look for them."""


class Conformance:
    """The frontier of model states consistent with the events so far."""

    def __init__(self, model: Any, trace_map: TraceMap, max_frontier: int = 50_000,
                 key: Callable[[Any], Hashable] | None = None) -> None:
        self.model = model
        self.map = trace_map
        self.max_frontier = max_frontier
        self.frontier: set = set(model.init_states())
        self.frontier = self._close(self.frontier)
        self.peak = len(self.frontier)
        self.failure: ConformanceFailure | None = None
        self.truncated = False
        self.outside: str | None = None  # why conformance stopped unchecked
        self.compactions = 0  # times the map slid its window (see NoRoom)

    def _close(self, states: set) -> set:
        """Add every state reachable by hidden actions alone."""
        if not getattr(self.map, "has_hidden", True):
            return states
        out, todo = set(states), list(states)
        hidden, model = self.map.hidden, self.model
        while todo:
            s = todo.pop()
            for a in model.actions(s):
                if hidden(a):
                    t = model.next_state(s, a)
                    if t not in out:
                        out.add(t)
                        todo.append(t)
        return out

    def step(self, ev: dict) -> bool:
        """Advance by one event; False (and `failure` set) when no state explains it."""
        if self.failure is not None or self.outside is not None:
            return False
        try:
            for tries in range(ROOM_TRIES):
                try:
                    match = self.map.match(ev)
                    break
                except NoRoom:
                    if tries == ROOM_TRIES - 1:
                        raise
                    # Every state forgets the same prefix and is renamed the same way,
                    # so the frontier stays the set of (windows of) states the log allows.
                    self.frontier = self.map.compact(self.frontier)
                    self.compactions += 1
        except OutsideModel as why:
            path, line = ev.get("_loc", ("?", 0))
            self.outside = f"{path} line {line}: {why}"
            return False
        if match is STUTTER:
            return True
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
        nxt = self._close(nxt)
        if len(nxt) > self.max_frontier:
            # Keep a deterministic subset; conformance is then a sound under-approximation
            # only for "conforms" (a later failure may be a false alarm: said so).
            self.truncated = True
            nxt = set(sorted(nxt, key=repr)[: self.max_frontier])
        self.frontier = nxt
        self.peak = max(self.peak, len(nxt))
        return True

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
    import json

    shown = {k: v for k, v in ev.items() if not k.startswith("_") and k != "ts"}
    return json.dumps(shown, separators=(",", ":"))


# -- the driver -------------------------------------------------------------------------


def validate(events: Iterable[dict], monitor: EventMonitor, *, protocol: str,
             files: Sequence[str], conformance: Conformance | None = None,
             warnings: Callable[[], list[str]] | None = None) -> ValidateResult:
    """Run `monitor` (and `conformance`) over `events`; input errors propagate."""
    start = time.perf_counter()
    count = 0
    step = monitor.on_event
    # Events are acyclic dicts and the monitors' state is too: the cyclic collector
    # has nothing to find, but it would walk every live object again and again as
    # millions of events are allocated (a third of the run, measured). Paused here.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if conformance is None:
            for ev in events:
                step(ev)
                count += 1
        else:
            conform = conformance.step
            for ev in events:
                step(ev)
                conform(ev)
                count += 1
    finally:
        if collecting:
            gc.enable()
    monitor.finish()
    seconds = time.perf_counter() - start
    # By place, then property: one event may break two rules, and the report must
    # not depend on which check ran first.
    found = sorted(monitor.violations, key=lambda v: (v.file, v.line, v.property))
    conf_state = None
    warned = warnings() if warnings else []
    if conformance is not None:
        if conformance.failure is not None:
            conf_state = "fails"
        elif conformance.outside is not None:
            conf_state = "outside-model"
            warned.append(f"conformance not checked beyond {conformance.outside} "
                          "(outside the model; the invariants are checked to the end)")
        else:
            conf_state = "conforms"
    bad = bool(found) or conf_state == "fails"
    counts = dict(getattr(monitor, "counts", {}) or {})
    return ValidateResult(
        protocol=protocol, files=list(files), result="violation" if bad else "ok", events=count,
        seconds=seconds, properties=list(monitor.properties), violations=found,
        warnings=warned, counts=counts, conformance=conf_state,
        conformance_failure=None if conformance is None else conformance.failure,
        max_frontier=0 if conformance is None else conformance.peak)


# -- the pipeline -----------------------------------------------------------------------

MAX_LINE_BYTES = 4 << 20  # a longer line is an input error, refused before it is read whole


def validate_run(paths: Sequence[str], *, conformance: bool | None = None,
                 max_line_bytes: int = MAX_LINE_BYTES,
                 observer: Callable[[Any], Callable[[dict], None]] | None = None
                 ) -> ValidateResult:
    """Validate one run: a merged file, a directory of per-node files, several files,
    or `-` (one merged trace on standard input).

    `conformance`: None checks the model too when the protocol's model can describe the
    run (otherwise the run is validated on its invariants, with a warning saying why);
    True asks for it by name (a protocol without a trace map is then a UsageError);
    False skips it. `observer(header)`, when given, returns a function that sees every
    merged event before the monitor does (the chart of `smrcheck show`). Invalid input is a result (`invalid-input`, exit 2),
    never an exception."""
    from ..models.registry import conformance_for, monitor_for
    from ..traces.reader import Merger, open_run
    from .errors import InvalidTrace

    try:
        run = open_run(paths, max_line_bytes=max_line_bytes)
        try:
            header = run.header
            monitor = monitor_for(header)
            checker, unmapped = None, None
            if conformance is not False:
                checker, unmapped = conformance_for(header, monitor, required=bool(conformance))
            events: Iterable[dict] = Merger(run)
            if observer is not None:
                events = _observed(events, observer(header))
            result = validate(events, monitor, protocol=header.protocol, files=run.files,
                              conformance=checker,
                              warnings=lambda: [f"{w.file} line {w.line}: {w.message}"
                                                for w in run.warnings])
            if unmapped is not None:
                result.conformance = "outside-model"
                result.warnings.append(f"conformance not checked: outside the model ({unmapped})")
            return result
        finally:
            run.close()
    except InvalidTrace as err:
        return invalid_input(str(err), list(paths))


def _observed(events: Iterable[dict], observe: Callable[[dict], None]) -> Iterable[dict]:
    for ev in events:
        observe(ev)
        yield ev


# -- JUnit ------------------------------------------------------------------------------


def junit_xml(r: ValidateResult) -> str:
    """One <testcase> per property, failed when violated; CI shows each as a test."""
    suite = ET.Element("testsuite", name=f"smrcheck validate {r.protocol}".strip(),
                       time=f"{r.seconds:.3f}")
    by_prop: dict[str, list[TraceViolation]] = {}
    for v in r.violations:
        by_prop.setdefault(v.property, []).append(v)
    cases = list(r.properties)
    known = {p for p, _ in cases}
    cases += [(p, "") for p in by_prop if p not in known]
    if r.conformance is not None:
        cases.append(("CONFORMANCE", "every event is explained by a run of the model"))
    failures = errors = 0
    files = " ".join(r.files)
    for prop, rule in cases:
        case = ET.SubElement(suite, "testcase", classname=f"smrcheck.{r.protocol or 'trace'}",
                             name=prop, file=files)
        found = by_prop.get(prop, [])
        if prop == "CONFORMANCE" and r.conformance == "outside-model":
            ET.SubElement(case, "skipped", message="the run leaves the model's bounds")
        elif prop == "CONFORMANCE" and r.conformance_failure is not None:
            c = r.conformance_failure
            failures += 1
            ET.SubElement(case, "failure", message=f"{c.file}:{c.line}: no model state explains {c.event}",
                          type="CONFORMANCE").text = f"mapped to {c.mapped_to}"
        elif found:
            failures += 1
            first = found[0]
            fail = ET.SubElement(case, "failure", message=f"{first.file}:{first.line}: {first.message}",
                                 type=prop)
            fail.text = "\n".join(f"{v.file}:{v.line}: {v.message}" for v in found)
        elif rule:
            ET.SubElement(case, "system-out").text = rule
    if r.result == "invalid-input":
        case = ET.SubElement(suite, "testcase", classname="smrcheck.trace", name="INPUT")
        ET.SubElement(case, "error", message=r.error or "invalid input", type="invalid-input")
        errors += 1
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(r: ValidateResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(junit_xml(r))
