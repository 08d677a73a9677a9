"""Trace validation: run event monitors and model conformance over a merged event stream.

`validate_run(paths)` is the one pipeline that `smrcheck validate`, `smrcheck show`
and the tests call: read the files (traces/reader.py), merge their events by
causality, hand each event to the protocol's monitor and then to its conformance
check, and return a `ValidateResult`: plain data that `checker/render/` draws and `to_json`
/ `write_junit` serialise. The protocol's pieces (monitor, model, trace map) come from
`models/registry.py`; `validate_run` is the only function here that imports them, and
only when called, so the rest of this module knows no protocol and no file format:
`validate` takes an iterable of events (dicts, each with `_loc` = (file, line)), a
monitor and optionally a `Conformance`.

The contracts it runs (monitor, trace map, the conformance frontier) live in
checker/conformance.py, which models/ implement.
"""

from __future__ import annotations

import gc
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# Re-exported: callers that run a validation read its result types from here.
from .conformance import Conformance, ConformanceFailure, EventMonitor, TraceViolation

__all__ = ["Conformance", "ConformanceFailure", "EventMonitor", "TraceViolation", "ValidateResult",
           "invalid_input", "validate", "validate_run", "junit_xml", "write_junit", "MAX_LINE_BYTES"]


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
    # The clients' history check (KV-LINEARIZABLE), when the monitor ran one: a
    # LinearizabilityResult (operations, keys, the failing sub-history).
    linearizability: Any = None

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
        if self.linearizability is not None:
            out["linearizability"] = self.linearizability.to_json()
        if self.error is not None:
            out["error"] = self.error
        return out


def invalid_input(message: str, files: Sequence[str] = (), protocol: str = "") -> ValidateResult:
    return ValidateResult(protocol, list(files), "invalid-input", 0, 0.0, [], [], error=message)


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
    warned += getattr(monitor, "warnings", ())  # a check the run logged too little for
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
        max_frontier=0 if conformance is None else conformance.peak,
        linearizability=getattr(monitor, "summary", None))


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
