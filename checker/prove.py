"""`smrcheck prove`: a model's inductive invariant checked by z3, for every size.

`check` explores one instance (3 acceptors, ballots 0..1) exhaustively; `prove` asks
z3 whether an inductive invariant holds for all of them. The protocol side (the
encoding, its queries and how to read a counterexample back) lives with the model, in
its proof module (models/paxos/proof.py for Paxos), which the CLI finds through the
registry and hands over; this module knows no protocol. It runs the queries, times
them, and turns the first counterexample to induction (CTI) into the `Step`s that
`check` prints, its JSON and its ITF.

A proof object has `model`, `mutant`, `conjuncts` ((name, text) pairs: the inductive
invariant), `consequences` (the same for what Inv implies, the safety property) and
`queries()`. Each query has `name`, `action` ("Init", an action, or None for
Inv => a consequence), `conjunct`, `assertions` (z3 formulas, satisfiable exactly when
the obligation fails) and `cti(solver)`, which may shrink the sat solver's model and
returns a dict: `constants` (name -> list, the instance z3 found), `conjunct`,
`before`, `action` and `after` (described states, `after` None for a query about one
state). A query is proved when z3 says unsat; sat is a CTI (exit 1); unknown, or its
time limit reached, is reported as unknown (exit 3) and never counted as a proof.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import z3

from .report import Step, format_value, itf_document, state_changes, to_plain

PROVED_TEXT = "proved for all acceptors, values and ballots"  # a proof's default `scope`


@dataclass(slots=True)
class QueryResult:
    name: str
    action: str | None
    conjunct: str
    result: str  # "proved" | "violation" | "unknown"
    seconds: float


@dataclass(slots=True)
class ProofResult:
    model: str
    mutant: str | None
    result: str  # "proved" | "violation" | "unknown"
    queries: list[QueryResult]
    conjuncts: list[tuple[str, str]]
    consequences: list[tuple[str, str]]
    seconds: float
    cti: dict[str, Any] | None = None  # the first failing query's counterexample
    trace: list[Step] = field(default_factory=list)  # the CTI as check's steps
    scope: str = PROVED_TEXT  # for which sizes a proof holds, in the model's words

    @property
    def exit_code(self) -> int:
        return {"proved": 0, "violation": 1, "unknown": 3}[self.result]

    def to_json(self) -> dict[str, Any]:
        cti = None
        if self.cti is not None:
            cti = {k: to_plain(v) for k, v in self.cti.items()}
        return {"result": self.result, "model": self.model, "mutant": self.mutant,
                "conjuncts": [{"name": n, "text": t} for n, t in self.conjuncts],
                "consequences": [{"name": n, "text": t} for n, t in self.consequences],
                "queries": [asdict(q) for q in self.queries], "cti": cti,
                "seconds": round(self.seconds, 3), "scope": self.scope,
                "exit_code": self.exit_code}


def prove(proof: Any, timeout: float = 20.0, stop_on_violation: bool = False) -> ProofResult:
    """Run every query of `proof`, each under `timeout` seconds (or up to the first
    CTI: tests that only need to know that a proof fails)."""
    start = time.perf_counter()
    results: list[QueryResult] = []
    cti = None
    for query in proof.queries():
        solver = z3.Solver()
        solver.set("timeout", max(1, int(timeout * 1000)))
        solver.add(*query.assertions)
        t = time.perf_counter()
        answer = solver.check()
        seconds = time.perf_counter() - t
        verdict = ("proved" if answer == z3.unsat
                   else "violation" if answer == z3.sat else "unknown")
        results.append(QueryResult(query.name, query.action, query.conjunct, verdict,
                                   round(seconds, 3)))
        if verdict == "violation" and cti is None:
            cti = {"query": query.name, **query.cti(solver)}
            if stop_on_violation:
                break
    verdicts = {q.result for q in results}
    result = ("violation" if "violation" in verdicts
              else "unknown" if "unknown" in verdicts else "proved")
    return ProofResult(proof.model, proof.mutant, result, results, list(proof.conjuncts),
                       list(getattr(proof, "consequences", [])),
                       time.perf_counter() - start, cti, cti_steps(cti) if cti else [],
                       getattr(proof, "scope", PROVED_TEXT))


def cti_steps(cti: dict[str, Any]) -> list[Step]:
    """The CTI as `check` prints a counterexample: the state z3 found, then the action
    and what it changed (none for Init or Inv => safety, which fail in one state)."""
    steps = [Step(0, None, cti["before"], [])]
    if cti.get("after") is not None:
        steps.append(Step(1, cti["action"], cti["after"],
                          state_changes(cti["before"], cti["after"])))
    return steps


def itf_trace(result: ProofResult) -> dict[str, Any]:
    if not result.trace:
        raise ValueError("no counterexample to write")
    cti = result.cti or {}
    return itf_document(result.trace, {
        "source": f"smrcheck prove {result.model}",
        "description": f"counterexample to induction: {cti.get('query')}",
        "constants": cti.get("constants"),
        "mutant": result.mutant,
    })


def write_itf(result: ProofResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(itf_trace(result), out, indent=1)
        out.write("\n")


def print_result(r: ProofResult, out: Any) -> None:
    """The verdict, the invariant, every query with its time, then the CTI."""
    name = r.model + (f", mutant {r.mutant}" if r.mutant else "")
    if r.result == "proved":
        out.print(f"PROVED: {r.scope} ({name})", style="bold green")
    elif r.result == "violation":
        first = next(q for q in r.queries if q.result == "violation")
        out.print(f"VIOLATION: {first.name} fails: a counterexample to induction ({name})",
                  style="bold red", markup=False, soft_wrap=True)
    else:
        out.print(f"UNKNOWN: z3 gave no answer in time for some queries ({name}); "
                  "nothing is proved", style="bold yellow")
    out.print(f"inductive invariant Inv, {len(r.conjuncts)} conjuncts:")
    width = max((len(n) for n, _ in r.conjuncts), default=0)
    for n, text in r.conjuncts:
        out.print(f"  {n:<{width}}  {text}", markup=False, highlight=False, soft_wrap=True)
    for n, text in r.consequences:
        out.print(f"  implied: {n}  {text}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"queries ({len(r.queries)}, {r.seconds:.1f} s; proved = z3 found no "
              "counterexample):")
    qwidth = max((len(q.name) for q in r.queries), default=0)
    for q in r.queries:
        out.print(f"  {q.name:<{qwidth}}  {q.result:<9} {q.seconds:6.3f} s",
                  markup=False, highlight=False)
    if r.cti is None:
        return
    c = r.cti
    first = next(q for q in r.queries if q.result == "violation")
    out.print(f"\ncounterexample to induction for {c['query']}:", style="bold red",
              markup=False)
    out.print("  " + "; ".join(f"{k} {', '.join(map(str, v)) or '(none)'}"
                               for k, v in c["constants"].items()),
              markup=False, highlight=False, soft_wrap=True)
    for step in r.trace:
        if step.action is None:
            what = "initial state" if first.action == "Init" else "a state where Inv holds"
            out.print(f"  0. {what}", style="bold")
            for var, value in step.state.items():
                out.print(f"       {var} = {format_value(value)}", markup=False,
                          highlight=False)
            continue
        out.print(f"{step.index:>3}. {step.action}", style="bold", markup=False)
        for change in step.changes or ["(no change)"]:
            out.print(f"       {change}", markup=False, highlight=False)
    out.print(f"  {c['conjunct']} does not hold " + ("after it" if len(r.trace) > 1
                                                     else "in it"), markup=False)
