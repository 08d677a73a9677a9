"""Results as plain data, and the writers that turn them into JSON, ITF and JUnit.

The explorer returns a `CheckResult`; tests assert on it, `checker.render` draws it, and
the writers here serialise it. A counterexample is kept as the list of actions and
states the explorer replayed from an initial state; each `Step` also carries what the
action changed, so a reader sees the protocol step, not a wall of state.

ITF is the Informal Trace Format of Apalache and Quint
(https://apalache-mc.org/docs/adr/015adr-trace.html): every integer is written as
`{"#bigint": "n"}`, sets as `{"#set": [...]}`, tuples as `{"#tup": [...]}`, functions
as `{"#map": [[k, v], ...]}` and records as plain objects, so their trace viewers
open our counterexamples.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from collections.abc import Sequence
from typing import Any

from .model import FnMap, ModelSpec, Record, TlaSet


@dataclass(slots=True)
class Step:
    index: int
    action: str | None  # None for the initial state
    state: dict[str, Any]
    changes: list[str]


@dataclass(slots=True)
class Violation:
    property: str
    kind: str  # "always" (an invariant broke) or "sometimes" (a goal never reached)
    message: str
    trace: list[Step] = field(default_factory=list)


@dataclass(slots=True)
class ActionCoverage:
    generated: int = 0
    distinct: int = 0


@dataclass(slots=True)
class CheckResult:
    model: str
    params: dict[str, Any]
    mutant: str | None
    strategy: str
    seed: int
    symmetry: bool
    result: str  # "ok" | "violation" | "incomplete"
    distinct_states: int
    generated_states: int
    depth: int  # longest shortest path in states, initial states at depth 1 (as TLC)
    seconds: float
    states_per_second: float
    peak_rss_mb: float
    collision_probability: float
    coverage: dict[str, ActionCoverage]
    properties: list[str]
    reached: list[str]  # `sometimes` goals that some explored state satisfied
    unreached: list[str]  # `sometimes` goals that none did
    bound: str | None  # the bound that stopped the run: max-states | max-depth | time-limit
    violation: Violation | None = None
    walks: int = 0  # random walks taken by the simulate strategy
    # Said before exploring: quorums configured so that the model cannot be safe.
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "violation": 1, "incomplete": 3}[self.result]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        warnings = data.pop("warnings")
        data["exit_code"] = self.exit_code
        data["warnings"] = warnings  # last, where `check --json` has always put them
        if self.violation is not None:
            for step in data["violation"]["trace"]:
                step["state"] = to_plain(step["state"])
        return data


@dataclass(slots=True)
class QuorumReport:
    """`smrcheck quorums`: the system asked about (None when only the parametric
    theorems were) and what z3 found. Both are duck-typed: a `QuorumSystem` of
    models/common, `Finding`s of `checker.quorums`, which this module does not import."""

    system: Any
    findings: list[Any]

    @property
    def result(self) -> str:
        return "ok" if all(f.holds for f in self.findings) else "violation"

    @property
    def exit_code(self) -> int:
        return 0 if self.result == "ok" else 1

    def to_json(self) -> dict[str, Any]:
        s = self.system
        return {
            "system": None if s is None else {
                "name": s.name, "n": s.n, "f": s.f, "byzantine": s.byzantine},
            "result": self.result,
            "findings": [asdict(f) for f in self.findings],
        }


def models_to_json(specs: Sequence[ModelSpec]) -> list[dict[str, Any]]:
    """`smrcheck models --json`: each model's parameters, properties and mutants."""
    return [
        {
            "name": s.name,
            "summary": s.summary,
            "params": [{"name": p.name, "default": p.default, "help": p.help,
                        "allowed": p.allowed()} for p in s.params],
            "properties": list(s.property_ids),
            "mutants": [{"name": m.name, "breaks": m.breaks, "exposed_by": dict(m.exposed_by)}
                        for m in s.mutants],
            "notes": s.notes,
            "tolerates": s.tolerates,
        }
        for s in specs
    ]


def to_plain(value: Any) -> Any:
    """A described state as plain JSON: sets become sorted lists, maps objects."""
    if isinstance(value, TlaSet):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    return value


def to_itf_value(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, TlaSet):
        return {"#set": [to_itf_value(v) for v in value]}
    if isinstance(value, FnMap):
        return {"#map": [[to_itf_value(k), to_itf_value(v)] for k, v in value.items()]}
    if isinstance(value, Record | dict):
        return {str(k): to_itf_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return {"#tup": [to_itf_value(v) for v in value]}
    if isinstance(value, list):
        return [to_itf_value(v) for v in value]
    raise TypeError(f"describe() returned a value ITF cannot hold: {value!r}")


def itf_trace(result: CheckResult) -> dict[str, Any]:
    """The counterexample of `result` as an ITF document."""
    if result.violation is None or not result.violation.trace:
        raise ValueError("no counterexample to write")
    return itf_document(result.violation.trace, {
        "source": f"smrcheck {result.model}",
        "description": f"{result.violation.property}: {result.violation.message}",
        "params": result.params,
        "mutant": result.mutant,
    })


def itf_document(steps: Sequence[Step], meta: dict[str, Any]) -> dict[str, Any]:
    """Steps as an ITF document (Apalache's Informal Trace Format), `meta` beside the
    format's own fields: every variable of the first state in every state, and each
    step's action in its state's `#meta`."""
    variables = list(steps[0].state)
    states = []
    for step in steps:
        state: dict[str, Any] = {"#meta": {"index": step.index}}
        if step.action is not None:
            state["#meta"]["action"] = step.action
        state.update({name: to_itf_value(step.state[name]) for name in variables})
        states.append(state)
    return {
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            **meta,
        },
        "vars": variables,
        "states": states,
    }


def write_itf(result: CheckResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(itf_trace(result), out, indent=1)
        out.write("\n")


def state_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What one step changed, variable by variable, in the model's own vocabulary."""
    changes: list[str] = []
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        if isinstance(new, TlaSet) and isinstance(old, TlaSet):
            added = [v for v in new if v not in old]
            removed = [v for v in old if v not in new]
            changes += [f"{name} += {format_value(v)}" for v in added]
            changes += [f"{name} -= {format_value(v)}" for v in removed]
        elif isinstance(new, dict) and isinstance(old, dict):
            for key, value in new.items():
                if old.get(key) != value:
                    changes.append(
                        f"{name}[{key}]: {format_value(old.get(key))} -> {format_value(value)}"
                    )
        else:
            changes.append(f"{name}: {format_value(old)} -> {format_value(new)}")
    return changes


def format_value(value: Any) -> str:
    """A compact TLA+-like rendering: [type |-> 1b, bal |-> 1] reads as in the paper."""
    if isinstance(value, TlaSet):
        return "{" + ", ".join(format_value(v) for v in value) + "}"
    if isinstance(value, FnMap):
        return "(" + " @@ ".join(f"{k} :> {format_value(v)}" for k, v in value.items()) + ")"
    if isinstance(value, dict):
        return "[" + ", ".join(f"{k} |-> {format_value(v)}" for k, v in value.items()) + "]"
    if isinstance(value, tuple | list):
        return "<<" + ", ".join(format_value(v) for v in value) + ">>"
    return str(value)
