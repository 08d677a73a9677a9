"""The `smrcheck` command: thin subcommands over the engine; the composition root.

This is the only module that imports models/ (and later impl/ and traces/) together
with the engine. Each subcommand declares its options and hands off to one function.
Exit codes are a contract (DESIGN.md): 0 holds, 1 violation, 2 usage or input error,
3 incomplete (a bound was reached first), 4 internal error. Usage errors print one
line naming what is allowed, never a traceback; `SMRCHECK_DEBUG=1` shows tracebacks of
internal errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__, render
from .errors import SmrcheckError, UsageError
from .search import (STRATEGIES, Bounds, Checkpointing, Distribution, Options, Strategy,
                     check)
from .chart import chart_from_itf, load_itf
from .report import itf_trace, write_itf


def _emit(text: str) -> None:
    """Print a JSON document; a closed pipe loses the document, not the exit code."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        render.quiet_stdout()


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _registry():
    from ..models.registry import MODELS

    return MODELS


def _positive(kind: type, minimum: float = 1):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="smrcheck", description="Find safety bugs in state machine replication.")
    parser.add_argument("--version", action="version", version=f"smrcheck {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    models = sub.add_parser("models", help="list models, parameters, properties, mutants")
    models.add_argument("--json", action="store_true", help="print one JSON list on stdout")

    c = sub.add_parser("check", help="model check a protocol exhaustively")
    c.add_argument("model", metavar="MODEL")
    c.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a model parameter (see `smrcheck models`)")
    c.add_argument("--mutant", metavar="NAME", help="check a variant that breaks one rule")
    c.add_argument("--strategy", default="bfs", metavar="|".join(STRATEGIES),
                   help="bfs (shortest counterexample), dfs, seeded random simulation, or "
                        "swarm (independent biased walks, across --workers)")
    c.add_argument("--max-states", type=_positive(int), metavar="N")
    c.add_argument("--max-depth", type=_positive(int), metavar="D",
                   help="explore states up to depth D (initial states are depth 1)")
    c.add_argument("--time-limit", type=_positive(float, 0.001), metavar="S")
    c.add_argument("--workers", type=_positive(int), default=1, metavar="N",
                   help="bfs, swarm: processes (or Ray actors) sharing the search")
    c.add_argument("--backend", default="local", metavar="local|ray",
                   help="bfs workers as local processes or Ray actors (pip install 'smrcheck[ray]')")
    c.add_argument("--address", metavar="ADDR", help="--backend ray: the Ray cluster to join")
    c.add_argument("--seed", type=int, default=0, metavar="S")
    c.add_argument("--walks", type=_positive(int), default=1000, metavar="K",
                   help="simulate, swarm: number of random walks")
    c.add_argument("--property", action="append", metavar="ID",
                   help="check only this property (repeatable)")
    c.add_argument("--symmetry", action=argparse.BooleanOptionalAction, default=True,
                   help="reduce by symmetry where the model defines it")
    c.add_argument("--checkpoint", metavar="DIR", help="bfs: save the search there at level starts")
    c.add_argument("--checkpoint-every", type=_positive(float, 0), default=60.0, metavar="S",
                   help="seconds between checkpoints (0: every level; default 60)")
    c.add_argument("--resume", metavar="DIR", help="carry on from the checkpoint in DIR")
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    c.add_argument("--itf", metavar="FILE", help="write the counterexample as an ITF trace")
    c.add_argument("--html", metavar="FILE",
                   help="write the counterexample as an HTML message sequence chart")

    q = sub.add_parser("quorums", help="prove quorum intersection and availability with z3")
    q.add_argument("--system", metavar="KIND",
                   help="majority | bft | flexible | grid | weighted | threshold | explicit")
    q.add_argument("-n", type=_positive(int), metavar="N", help="number of nodes")
    q.add_argument("-f", type=_positive(int, 0), metavar="F",
                   help="failures to tolerate (bft: Byzantine; default: the system's own)")
    q.add_argument("--q1", type=_positive(int), help="flexible: phase-1 quorum size")
    q.add_argument("--q2", type=_positive(int), help="flexible: phase-2 quorum size")
    q.add_argument("-q", type=_positive(int), help="threshold: quorum size")
    q.add_argument("--rows", type=_positive(int), help="grid: rows (phase-1 quorums)")
    q.add_argument("--cols", type=_positive(int), help="grid: columns (phase-2 quorums)")
    q.add_argument("--weights", help="weighted: node weights, e.g. 2,1,1")
    q.add_argument("--threshold", type=_positive(int), help="weighted: weight of a quorum")
    q.add_argument("--file", help="explicit: a JSON file {n, f, byzantine, quorums | phase1, phase2}")
    q.add_argument("--symbolic", action="store_true",
                   help="also prove the parametric theorems (for all n, f, q1, q2)")
    q.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    v = sub.add_parser("validate", help="check the traces of a run: invariants and model conformance")
    v.add_argument("traces", nargs="+", metavar="TRACE",
                   help="one run: a merged .jsonl file, a directory / several files (one per node), "
                        "or - for one merged trace on standard input")
    v.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    v.add_argument("--junit", metavar="FILE", help="write a JUnit XML report, one test case per property")
    v.add_argument("--conformance", action=argparse.BooleanOptionalAction, default=None,
                   help="check each event against the protocol's model too (models/*/trace_map.py); "
                        "on by default, --no-conformance checks the invariants alone")
    v.add_argument("--max-line-bytes", type=_positive(int), default=4 << 20, metavar="N",
                   help="a longer line is an input error, refused before it is read whole "
                        "(default 4 MiB)")

    r = sub.add_parser("run", help="run real replicas as processes on 127.0.0.1 and write their traces")
    r.add_argument("protocol", metavar="PROTOCOL", help="multipaxos | pbft")
    r.add_argument("-n", type=_positive(int), default=None, metavar="N",
                   help="replicas (default 3 for multipaxos, 4 for pbft)")
    r.add_argument("-f", type=_positive(int, 0), default=None, metavar="F",
                   help="faults tolerated (default the most n allows)")
    r.add_argument("--requests", type=_positive(int), default=1000, metavar="R")
    r.add_argument("--clients", type=_positive(int), default=4, metavar="C")
    r.add_argument("--window", type=_positive(int), default=16, metavar="W",
                   help="outstanding requests per client")
    r.add_argument("--faults", metavar="SPEC",
                   help="e.g. drop=0.05,dup=0.02,delay=0.01,reorder=0.05,crash=1")
    r.add_argument("--byzantine", action="append", default=[], metavar="REPLICA=MODE",
                   help="pbft: silent | equivocate | wrong-digest | wrong-reply (repeatable)")
    r.add_argument("--bug", metavar="NAME", help="inject a protocol bug (its traces must fail validate)")
    r.add_argument("--seed", type=int, default=0, metavar="S")
    r.add_argument("--time-limit", type=_positive(float, 0.1), default=60.0, metavar="S",
                   help="stop the workload after S seconds (exit 3 if incomplete)")
    r.add_argument("--trace-dir", required=True, metavar="DIR", help="where each node writes its trace")
    r.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    s = sub.add_parser("show", help="draw a counterexample (ITF) or a run's traces as a message "
                                    "sequence chart")
    s.add_argument("source", nargs="+", metavar="FILE|DIR",
                   help="an ITF file (smrcheck check --itf), or one run's traces as for validate")
    s.add_argument("--html", metavar="FILE", help="write one self-contained HTML file instead")
    s.add_argument("--width", type=_positive(int, 20), metavar="N",
                   help="terminal columns to draw in (default: the terminal's width)")
    return parser


def cmd_models(args: argparse.Namespace) -> int:
    specs = list(_registry().values())
    if args.json:
        _emit(json.dumps([
            {
                "name": s.name,
                "summary": s.summary,
                "params": [{"name": p.name, "default": p.default, "help": p.help,
                            "allowed": p.allowed()} for p in s.params],
                "properties": list(s.property_ids),
                "mutants": [{"name": m.name, "breaks": m.breaks} for m in s.mutants],
                "notes": s.notes,
            }
            for s in specs
        ], indent=1))
    else:
        render.models_table(specs, render.console())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    models = _registry()
    spec = models.get(args.model)
    if spec is None:
        raise UsageError(f"unknown model {args.model!r}; allowed: {', '.join(models)}")
    if args.backend not in ("local", "ray"):
        raise UsageError(f"unknown backend {args.backend!r}; allowed: local, ray")
    if args.strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {args.strategy!r}; allowed: {', '.join(STRATEGIES)}")
    params = spec.resolve_params(args.param)
    spec.check_mutant(args.mutant)
    if args.itf and args.json and args.itf == "-":
        raise UsageError("--itf - and --json both write to stdout; give --itf a file name")
    if args.itf and not os.path.isdir(os.path.dirname(os.path.abspath(args.itf))):
        raise UsageError(f"cannot write --itf {args.itf}: its folder does not exist")
    if args.html and not os.path.isdir(os.path.dirname(os.path.abspath(args.html))):
        raise UsageError(f"cannot write --html {args.html}: its folder does not exist")
    model = spec.build(params, args.mutant)
    warnings = _quorum_warnings(model)
    for w in warnings:
        render.warning(w)
    out = render.console()
    show_progress = not args.json and sys.stdout.isatty()
    with render.live_progress(out, show_progress) as progress:
        options = Options(
            strategy=Strategy(args.strategy, seed=args.seed, walks=args.walks),
            bounds=Bounds(args.max_states, args.max_depth, args.time_limit),
            distribution=Distribution(args.workers, args.backend, args.address),
            checkpointing=Checkpointing(args.checkpoint, args.checkpoint_every, args.resume),
            symmetry=args.symmetry,
            properties=args.property,
            progress=progress,
        )
        result = check(model, options, name=spec.name, params=params, mutant=args.mutant)
    if args.itf and result.violation is not None and result.violation.trace:
        try:
            write_itf(result, args.itf)
        except OSError as err:
            raise UsageError(f"cannot write --itf {args.itf}: {err.strerror}") from None
    if args.html and result.violation is not None and result.violation.trace:
        _write_html(chart_from_itf(itf_trace(result)), args.html)
    if args.json:
        _emit(json.dumps({**result.to_json(), "warnings": warnings}, indent=1))
    else:
        render.result(result, out)
        if args.html:
            out.print(f"HTML chart written to {args.html}" if result.violation and result.violation.trace
                      else "no counterexample: no HTML chart written", soft_wrap=True, markup=False)
        if args.itf:
            out.print(f"ITF trace written to {args.itf}" if result.violation and result.violation.trace
                      else "no counterexample: no ITF trace written")
    return result.exit_code


def _quorum_warnings(model: Any) -> list[str]:
    """z3 first: say before exploring when the configured quorums cannot be safe."""
    system = getattr(model, "quorum_system", None)
    if system is None:
        return []
    from .quorums import check_intersection

    finding = check_intersection(system)
    if finding.holds:
        return []
    return [f"quorum system {system.name} with n={system.n} cannot be safe: "
            f"{finding.statement} fails: {finding.detail}"]


def cmd_quorums(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..models.common.quorums import from_cli
    from .quorums import check_system, symbolic_proofs

    if args.system is None and not args.symbolic:
        raise UsageError("give --system KIND (majority, bft, flexible, grid, weighted, "
                         "threshold, explicit) or --symbolic")
    system = from_cli(args) if args.system is not None else None
    findings = check_system(system) if system is not None else []
    if args.symbolic:
        findings += symbolic_proofs()
    ok = all(f.holds for f in findings)
    if args.json:
        _emit(json.dumps({
            "system": None if system is None else {
                "name": system.name, "n": system.n, "f": system.f, "byzantine": system.byzantine},
            "result": "ok" if ok else "violation",
            "findings": [asdict(f) for f in findings],
        }, indent=1))
    else:
        render.quorum_findings(system, findings, render.console())
    return 0 if ok else 1


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate one run's traces (checker.validate.validate_run) and report it."""
    from .validate import validate_run, write_junit

    if args.junit and not os.path.isdir(os.path.dirname(os.path.abspath(args.junit))):
        raise UsageError(f"cannot write --junit {args.junit}: its folder does not exist")
    if "-" in args.traces and len(args.traces) > 1:
        raise UsageError("`-` reads one merged trace from standard input; name no other "
                         "trace with it")
    result = validate_run(args.traces, conformance=args.conformance,
                          max_line_bytes=args.max_line_bytes)
    if args.junit:
        try:
            write_junit(result, args.junit)
        except OSError as err:
            raise UsageError(f"cannot write --junit {args.junit}: {err.strerror}") from None
    if args.json:
        _emit(json.dumps(result.to_json(), indent=1))
    elif result.error is not None:
        render.error(result.error)
    else:
        render.validate_result(result, render.console())
    return result.exit_code


def cmd_run(args: argparse.Namespace) -> int:
    """Start each replica as its own process, drive the workload, stop them all."""
    from ..impl.launch import RunConfig, parse_byzantine, run_cluster
    from ..impl.runtime.faults import FaultSpec

    n = args.n if args.n is not None else (4 if args.protocol == "pbft" else 3)
    cfg = RunConfig(args.protocol, n=n, f=args.f, requests=args.requests, clients=args.clients,
                    window=args.window, faults=FaultSpec.parse(args.faults),
                    byzantine=parse_byzantine(args.byzantine), bug=args.bug, seed=args.seed,
                    trace_dir=args.trace_dir, time_limit=args.time_limit)
    out = render.console()
    with render.run_progress(out, not args.json and sys.stdout.isatty()) as progress:
        result = run_cluster(cfg, progress)
    if args.json:
        _emit(json.dumps(result.to_json(), indent=1))
    else:
        render.run_result(result, out)
    return 0 if result.complete else 3


def _write_html(chart, path: str) -> None:
    try:
        render.write_chart_html(chart, path)
    except OSError as err:
        raise UsageError(f"cannot write --html {path}: {err.strerror}") from None


def _is_trace(path: str) -> bool:
    """A smrtrace file starts with a header line; an ITF file is one JSON document."""
    if path.endswith(".jsonl"):
        return True
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    return isinstance(obj, dict) and obj.get("kind") == "header"
    except (ValueError, RecursionError):
        return False
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror}") from None
    return False


def cmd_show(args: argparse.Namespace) -> int:
    """Draw a counterexample or a run as a message sequence chart; exit 1 when it shows
    a violation (a counterexample always does), as `validate` would."""
    from .chart_run import chart_from_run

    paths = args.source
    if args.html and not os.path.isdir(os.path.dirname(os.path.abspath(args.html))):
        raise UsageError(f"cannot write --html {args.html}: its folder does not exist")
    for p in paths:
        if not os.path.exists(p):
            raise UsageError(f"{p}: no such file or directory")
    if len(paths) == 1 and os.path.isfile(paths[0]) and not _is_trace(paths[0]):
        doc = load_itf(paths[0])
        if doc is None:
            raise UsageError(f"{paths[0]}: neither an ITF counterexample (smrcheck check --itf) "
                             'nor a trace (a first line {"kind":"header","format":"smrtrace",...})')
        chart = chart_from_itf(doc)
    else:
        chart, _ = chart_from_run(paths)
    if args.html:
        _write_html(chart, args.html)
        render.console().print(f"HTML chart written to {args.html}: {len(chart.lanes)} lanes, "
                               f"{len(chart.rows)} rows", markup=False, soft_wrap=True)
    else:
        out = render.console()
        if args.width:
            out.width = args.width
        render.show_chart(chart, out)
    return 1 if chart.violation is not None else 0


COMMANDS = {"models": cmd_models, "check": cmd_check, "quorums": cmd_quorums,
            "validate": cmd_validate, "run": cmd_run, "show": cmd_show}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError("a command is required; allowed: " + ", ".join(COMMANDS))
        return COMMANDS[args.command](args)
    except SmrcheckError as err:
        render.error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        render.error("interrupted")
        return 130
    except BrokenPipeError:
        # The reader (`| head`) went away before the verdict was known.
        render.quiet_stdout()
        return 0
    except Exception as err:  # noqa: BLE001 - the contract is exit 4, not a traceback
        if os.environ.get("SMRCHECK_DEBUG"):
            raise
        render.error(f"internal error: {type(err).__name__}: {err} (set SMRCHECK_DEBUG=1 for a traceback)")
        return 4


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
