"""The `smrcheck` command: parsing and dispatch; the composition root.

Here the engine (checker/), the protocols (models/ through their registry) and the
real replicas (impl/) meet: each command parses its options, checks them once, calls
library functions, and hands the result to `checker.render` to draw or to the
result's `to_json` for `--json`. Nothing here prints or computes a verdict.

Exit codes are a contract (DESIGN.md): 0 holds, 1 violation, 2 usage or input error,
3 incomplete (a bound was reached first), 4 internal error. Usage errors print one
line naming what is allowed, never a traceback; `SMRCHECK_DEBUG=1` shows tracebacks of
internal errors.

Size: seven commands, each an option table and a short function that checks the
options once and dispatches; kept in one file so the exit-code contract and the
error paths (one line, JSON with --json) live in one `main`. The option tables
(`build_parser`) are the part to move out if it grows further.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, NoReturn

from . import __version__, render
from .errors import InvalidModel, SmrcheckError, UsageError
from .loader import all_specs, load_spec, model_fault
from .search import (STRATEGIES, Bounds, Checkpointing, Distribution, Interrupt, Options,
                     Strategy, check)
from .report import QuorumReport, models_to_json, write_itf


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    # Help that names what a registry holds (models, bugs) is made only when asked for:
    # building the parser must not import every model and replica.
    lazy_epilog: Any = None

    def format_help(self) -> str:
        if self.lazy_epilog is not None:
            # Raw: argparse's wrapping would break names at their hyphens.
            self.formatter_class = argparse.RawDescriptionHelpFormatter
            self.epilog = self.lazy_epilog()
        return super().format_help()


def _model_names() -> str:
    from .loader import builtin, installed

    return ", ".join([*builtin(), *installed()[0]])


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
    c.lazy_epilog = lambda: ("models: " + _model_names() + " (see `smrcheck models`), or a "
                             "model of your own: path/to/file.py:NAME or package.module:NAME")
    c.add_argument("model", metavar="MODEL", help="the model to check: a name listed below, "
                   "FILE.py:NAME or package.module:NAME")
    c.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a model parameter (see `smrcheck models`)")
    c.add_argument("--mutant", metavar="NAME", help="check a variant that breaks one rule")
    c.add_argument("--strategy", default="bfs", metavar="|".join(STRATEGIES),
                   help="bfs (shortest counterexample), dfs, seeded random simulation, or "
                        "swarm (independent biased walks, across --workers)")
    c.add_argument("--max-states", type=_positive(int), metavar="N",
                   help="stop after N distinct states (the run is then incomplete, exit 3)")
    c.add_argument("--max-depth", type=_positive(int), metavar="D",
                   help="explore states up to depth D (initial states are depth 1)")
    c.add_argument("--time-limit", type=_positive(float, 0.001), metavar="S",
                   help="stop after S seconds (the run is then incomplete, exit 3)")
    c.add_argument("--workers", type=_positive(int), default=1, metavar="N",
                   help="bfs, swarm: processes (or Ray actors) sharing the search")
    c.add_argument("--backend", default="local", metavar="local|ray",
                   help="bfs workers as local processes or Ray actors (pip install 'smrcheck[ray]')")
    c.add_argument("--address", metavar="ADDR", help="--backend ray: the Ray cluster to join")
    c.add_argument("--seed", type=int, default=0, metavar="S",
                   help="simulate, swarm: the random seed; the same seed walks the same walks")
    # None when not given, so that a --walks that the strategy ignores can be warned of.
    c.add_argument("--walks", type=_positive(int), default=None, metavar="K",
                   help="simulate, swarm: number of random walks (default 1000)")
    c.add_argument("--property", action="append", metavar="ID",
                   help="check only this property (repeatable); the model's `sometimes` "
                        "goals stay checked unless one is named or --no-goals is given")
    c.add_argument("--no-goals", dest="goals", action="store_false",
                   help="check no `sometimes` goal: a vacuous model then passes (warned)")
    # None, not True: a --symmetry given to a model with no symmetry is then said.
    c.add_argument("--symmetry", action=argparse.BooleanOptionalAction, default=None,
                   help="reduce by symmetry where the model defines it (default: on, unless "
                   "the model's spec says otherwise)")
    c.add_argument("--checkpoint", metavar="DIR", help="bfs: save the search there at level starts")
    c.add_argument("--checkpoint-every", type=_positive(float, 0), default=None, metavar="S",
                   help="seconds between checkpoints (0: every level; default 60)")
    c.add_argument("--resume", metavar="DIR", help="carry on from the checkpoint in DIR")
    c.add_argument("--quiet", action="store_true",
                   help="no progress: neither the live line nor the plain lines on stderr")
    c.add_argument("--progress-every", type=_positive(float, 0.001), default=5.0, metavar="S",
                   help="seconds between plain progress lines on stderr when it is not a "
                        "terminal, e.g. a CI log (default 5)")
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    c.add_argument("--itf", metavar="FILE", help="write the counterexample as an ITF trace")
    c.add_argument("--html", metavar="FILE",
                   help="write the counterexample as an HTML message sequence chart")

    q = sub.add_parser("quorums", help="prove quorum intersection and availability with z3")
    q.add_argument("--system", metavar="KIND",
                   help="majority | bft | flexible | grid | weighted | threshold | fast | explicit")
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
    q.add_argument("--classic", type=_positive(int),
                   help="fast: classic quorum size (Fast Paxos; default a majority)")
    q.add_argument("--fast", type=_positive(int),
                   help="fast: fast quorum size (Fast Paxos; default ceil(3n/4))")
    q.add_argument("--file", help="explicit: a JSON file {n, f, byzantine, quorums | phase1, phase2}")
    q.add_argument("--symbolic", action="store_true",
                   help="also prove the parametric theorems (for all n, f, q1, q2, and "
                        "Fast Paxos's classic and fast sizes)")
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
    r.lazy_epilog = _run_epilog
    r.add_argument("--requests", type=_positive(int), default=1000, metavar="R",
                   help="client requests to commit in all (default 1000)")
    r.add_argument("--clients", type=_positive(int), default=4, metavar="C",
                   help="clients sharing the requests, each up to --window outstanding (default 4)")
    r.add_argument("--window", type=_positive(int), default=16, metavar="W",
                   help="outstanding requests per client")
    r.add_argument("--faults", metavar="SPEC",
                   help="e.g. drop=0.05,dup=0.02,delay=0.01,reorder=0.05,crash=1")
    r.add_argument("--byzantine", action="append", default=[], metavar="REPLICA=MODE",
                   help="pbft: silent | equivocate | wrong-digest | wrong-reply (repeatable)")
    r.add_argument("--bug", metavar="NAME",
                   help="inject a bug, in the protocol or in what only clients see (its "
                        "traces must fail validate); names below")
    r.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the injected faults and the workload")
    r.add_argument("--time-limit", type=_positive(float, 0.1), default=60.0, metavar="S",
                   help="stop the workload after S seconds (exit 3 if incomplete)")
    r.add_argument("--trace-dir", required=True, metavar="DIR", help="where each node writes its trace")
    r.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    h = sub.add_parser("linearizable", help="check a client history (Jepsen / Porcupine JSON "
                                             "lines) for linearizability against a spec")
    h.add_argument("history", metavar="HISTORY",
                   help="JSON lines of invoke / ok / fail / info records (traces/history.py)")
    h.add_argument("--spec", default="kv", metavar="kv|module:Class|file.py:Class",
                   help="the sequential specification (default kv: the key-value store of "
                        "impl/, read/write/append/cas)")
    h.add_argument("--max-steps", type=_positive(int), metavar="N",
                   help="search steps per key before it is left undecided (exit 3)")
    h.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    pr = sub.add_parser("prove", help="prove a model's safety for every size with z3 "
                                      "(an inductive invariant; paxos, multipaxos)")
    pr.add_argument("model", help="a model with an inductive invariant: paxos, multipaxos")
    pr.add_argument("--mutant", help="prove a mutant instead (it should fail with a CTI)")
    pr.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    pr.add_argument("--itf", metavar="FILE", help="write the counterexample to induction as ITF")
    pr.add_argument("--timeout", type=_positive(float, 0.001), default=20.0, metavar="S",
                    help="z3's limit per query in seconds; a query past it is unknown (exit 3)")

    s = sub.add_parser("show", help="draw a counterexample (ITF) or a run's traces as a message "
                                    "sequence chart")
    s.add_argument("source", nargs="+", metavar="FILE|DIR",
                   help="an ITF file (smrcheck check --itf), or one run's traces as for validate")
    s.add_argument("--html", metavar="FILE", help="write one self-contained HTML file instead")
    s.add_argument("--width", type=_positive(int, 20), metavar="N",
                   help="terminal columns to draw in (default: the terminal's width)")
    return parser


def _run_epilog() -> str:
    from ..impl.launch import PROTOCOLS, bugs_for

    return "bugs (--bug NAME):\n" + "\n".join(
        f"  {p}: {', '.join(bugs_for(p))}" for p in PROTOCOLS)


def cmd_models(args: argparse.Namespace) -> int:
    specs, warnings = all_specs()
    for w in warnings:
        render.warning(w)
    if args.json:
        render.print_json(models_to_json(specs))
    else:
        render.models_table(specs)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    spec = load_spec(args.model)
    options = _search_options(args)
    params = spec.resolve_params(args.param)
    spec.check_mutant(args.mutant)
    if args.itf and args.json and args.itf == "-":
        raise UsageError("--itf - and --json both write to stdout; give --itf a file name")
    _output_folder("--itf", args.itf)
    _output_folder("--html", args.html)
    model = spec.build(params, args.mutant)
    if options.symmetry is None:
        options = replace(options, symmetry=spec.symmetry)
    warnings = (_ignored_options(args) + _quorum_warnings(model)
                + spec.mutant_warnings(args.mutant, params))
    if args.symmetry and getattr(model, "canonical", None) is None:
        warnings.append(f"--symmetry is ignored: model {spec.name} defines no symmetry to "
                        "reduce by")
    if not args.goals:
        warnings.append("--no-goals: no `sometimes` goal is checked, so vacuity was not "
                        "checked (a model where nothing can happen passes)")
    for w in warnings:
        render.warning(w)
    interrupt = Interrupt()
    plain_every = None if args.quiet else args.progress_every
    with render.live_progress(not (args.json or args.quiet), plain_every=plain_every) as progress, \
            _interruptible(interrupt):
        try:
            result = check(model, replace(options, progress=progress, interrupt=interrupt),
                           name=spec.name, params=params, mutant=args.mutant)
        except Exception as exc:
            fault = None if isinstance(exc, SmrcheckError) else model_fault(exc)
            if fault is None or os.environ.get("SMRCHECK_DEBUG"):
                raise
            raise InvalidModel(f"model {spec.name} raised {fault} (set SMRCHECK_DEBUG=1 "
                               "for a traceback)") from None
    result.warnings = warnings
    if result.violation is not None and result.violation.trace:
        if args.itf:
            with _writing("--itf", args.itf):
                write_itf(result, args.itf)
        if args.html:
            with _writing("--html", args.html):
                render.write_chart_html(render.chart_from_check(result), args.html)
    if args.json:
        render.print_json(result.to_json())
    else:
        dist = options.distribution
        render.check_result(result, html=args.html, itf=args.itf,
                            workers=f"{dist.workers}"
                            + ("" if dist.backend == "local" else f" ({dist.backend})"))
    return result.exit_code


@contextmanager
def _interruptible(interrupt: Interrupt) -> Iterator[None]:
    """Ctrl-C and SIGTERM end a search as a bound (exit 3 with the counts so far) rather
    than kill it with nothing said; a third signal raises KeyboardInterrupt as before,
    for a run stuck where the search never looks."""
    def handle(signum: int, frame: object) -> None:
        interrupt.signal()
        if interrupt.signals >= 3:
            raise KeyboardInterrupt

    signals = (signal.SIGINT, signal.SIGTERM)
    before = [signal.signal(s, handle) for s in signals]
    try:
        yield
    finally:
        for s, handler in zip(signals, before):
            signal.signal(s, handler)


def _search_options(args: argparse.Namespace) -> Options:
    """`check`'s search options. Each concern checks its own values when built, so
    this is where a bad --backend or --strategy is refused: before any work, the
    backend first."""
    distribution = Distribution(args.workers, args.backend, args.address)
    return Options(
        strategy=Strategy(args.strategy, seed=args.seed,
                          walks=Strategy.walks if args.walks is None else args.walks),
        bounds=Bounds(args.max_states, args.max_depth, args.time_limit),
        distribution=distribution,
        checkpointing=Checkpointing(args.checkpoint, Checkpointing.every
                                    if args.checkpoint_every is None else args.checkpoint_every,
                                    args.resume),
        symmetry=args.symmetry,
        properties=args.property,
        goals=args.goals,
    )


def _ignored_options(args: argparse.Namespace) -> list[str]:
    """Options given that the run will not use: said, not silently dropped."""
    ignored = []
    if args.walks is not None and args.strategy not in ("simulate", "swarm"):
        ignored.append(f"--walks is ignored: only --strategy simulate and swarm take random "
                       f"walks, not {args.strategy}")
    if args.checkpoint_every is not None and args.checkpoint is None:
        ignored.append("--checkpoint-every is ignored without --checkpoint DIR")
    return ignored


def _output_folder(flag: str, path: str | None) -> None:
    """Refuse an output file whose folder is missing before the work that would fill it."""
    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise UsageError(f"cannot write {flag} {path}: its folder does not exist")


@contextmanager
def _writing(flag: str, path: str) -> Iterator[None]:
    """A file that cannot be written is the user's input error (exit 2), not ours."""
    try:
        yield
    except OSError as err:
        raise UsageError(f"cannot write {flag} {path}: {err.strerror}") from None


def _quorum_warnings(model: Any) -> list[str]:
    """z3 first: say before exploring when the configured quorums cannot be safe."""
    system = getattr(model, "quorum_system", None)
    if system is None:
        return []
    from .quorums import check_safety

    return [f"quorum system {system.name} with n={system.n} cannot be safe: "
            f"{finding.statement} fails: {finding.detail}"
            for finding in check_safety(system) if not finding.holds]


def cmd_prove(args: argparse.Namespace) -> int:
    """Init => Inv, Inv /\\ Next => Inv' per action and conjunct, Inv => safety; exit 0
    proved, 1 a counterexample to induction, 3 unknown."""
    from ..models.registry import proof_for
    from .prove import print_result, prove, write_itf as write_proof_itf

    proof_for(args.model)  # a model without a proof is refused first (exit 2)
    load_spec(args.model).check_mutant(args.mutant)
    proof = proof_for(args.model, args.mutant)
    if args.itf and args.json and args.itf == "-":
        raise UsageError("--itf - and --json both write to stdout; give --itf a file name")
    _output_folder("--itf", args.itf)
    result = prove(proof, args.timeout)
    if args.itf and result.trace:
        with _writing("--itf", args.itf):
            write_proof_itf(result, args.itf)
    if args.json:
        render.print_json(result.to_json())
    else:
        render_out = render.console()
        print_result(result, render_out)
        if args.itf:
            render_out.print(f"ITF trace written to {args.itf}" if result.trace
                             else "no counterexample: no ITF trace written",
                             soft_wrap=True, markup=False)
    return result.exit_code


def cmd_quorums(args: argparse.Namespace) -> int:
    from .quorums import check_system, fast_proofs, symbolic_proofs

    if args.system is None and not args.symbolic:
        raise UsageError("give --system KIND (majority, bft, flexible, grid, weighted, "
                         "threshold, fast, explicit) or --symbolic")
    system = _quorum_system(args) if args.system is not None else None
    findings = check_system(system) if system is not None else []
    if args.symbolic:
        findings += symbolic_proofs() + fast_proofs()
    report = QuorumReport(system, findings)
    if args.json:
        render.print_json(report.to_json())
    else:
        render.quorum_table(report)
    return report.exit_code


def _quorum_system(args: argparse.Namespace):
    """The system `smrcheck quorums` names with --system and its options."""
    from ..models.common.quorums import QuorumSystem, parse

    kind = args.system

    def need(*names: str) -> None:
        missing = [n for n in names if getattr(args, n.lstrip("-").replace("-", "_")) is None]
        if missing:
            raise UsageError(f"--system {kind} needs {', '.join(missing)}")

    if kind == "explicit":
        need("--file")
        from ..models.common.quorum_file import load_explicit  # pydantic, only when a file is read

        return load_explicit(args.file)
    if kind == "grid":
        need("--rows", "--cols")
        return QuorumSystem.grid(args.rows, args.cols)
    need("-n")
    n = args.n
    if kind == "majority":
        return QuorumSystem.majority(n)
    if kind == "bft":
        need("-f")
        if args.f * 2 >= n:
            raise UsageError(f"-f must be below n/2 for quorums of n - f; got n={n}, f={args.f}")
        return QuorumSystem.bft(n, args.f)
    # The text form of `-p quorums=`: the same system, refused by the same rules.
    if kind == "flexible":
        need("--q1", "--q2")
        return parse(f"flexible:q1={args.q1},q2={args.q2}", n)
    if kind == "threshold":
        need("-q")
        return parse(f"threshold:q={args.q}", n)
    if kind == "fast":
        sizes = ",".join(f"{k}={v}" for k, v in (("classic", args.classic), ("fast", args.fast))
                         if v is not None)
        return parse(f"fast:{sizes}", n, fast=True)
    if kind == "weighted":
        need("--weights", "--threshold")
        try:
            weights = tuple(int(w) for w in args.weights.split(","))
        except ValueError:
            raise UsageError(f"--weights takes integers joined by commas, got {args.weights!r}") from None
        if len(weights) != n:
            raise UsageError(f"--weights gives {len(weights)} weights for -n {n} nodes")
        if any(w < 0 for w in weights):
            # Membership must grow with the set: the proofs rely on it.
            raise UsageError(f"--weights must be non-negative, got {args.weights!r}")
        return QuorumSystem.weighted(weights, args.threshold, args.f or 0)
    raise UsageError(f"unknown quorum system {kind!r}; allowed: majority, bft, flexible, grid, "
                     "weighted, threshold, fast, explicit")


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate one run's traces (checker.validate.validate_run) and report it."""
    from .validate import validate_run, write_junit

    _output_folder("--junit", args.junit)
    if "-" in args.traces and len(args.traces) > 1:
        raise UsageError("`-` reads one merged trace from standard input; name no other "
                         "trace with it")
    result = validate_run(args.traces, conformance=args.conformance,
                          max_line_bytes=args.max_line_bytes)
    if args.junit:
        with _writing("--junit", args.junit):
            write_junit(result, args.junit)
    if args.json:
        render.print_json(result.to_json())
    elif result.error is not None:
        render.error(result.error)
    else:
        render.validate_result(result)
    return result.exit_code


def cmd_run(args: argparse.Namespace) -> int:
    """Start each replica as its own process, drive the workload, stop them all."""
    from ..impl.launch import RunConfig, parse_byzantine, run_cluster
    from ..impl.runtime.faults import FaultSpec

    if os.path.exists(args.trace_dir) and not os.path.isdir(args.trace_dir):
        raise UsageError(f"--trace-dir {args.trace_dir} is a file; give a directory "
                         "(it is made if missing)")
    n = args.n if args.n is not None else (4 if args.protocol == "pbft" else 3)
    cfg = RunConfig(args.protocol, n=n, f=args.f, requests=args.requests, clients=args.clients,
                    window=args.window, faults=FaultSpec.parse(args.faults),
                    byzantine=parse_byzantine(args.byzantine), bug=args.bug, seed=args.seed,
                    trace_dir=args.trace_dir, time_limit=args.time_limit)
    with render.run_progress(not args.json) as progress:
        result = run_cluster(cfg, progress)
    if args.json:
        render.print_json(result.to_json())
    else:
        render.run_result(result, byzantine=", ".join(args.byzantine), bug=args.bug)
    return 0 if result.complete else 3


def cmd_linearizable(args: argparse.Namespace) -> int:
    """Check a client history against a spec (traces.history.check_history_file)."""
    from ..traces.history import check_history_file
    from .errors import InvalidTrace

    try:
        result = check_history_file(args.history, args.spec, max_steps=args.max_steps)
    except InvalidTrace as err:
        if not args.json:
            raise
        render.print_json({"result": "invalid-input", "error": str(err), "exit_code": 2})
        return 2
    if args.json:
        render.print_json({**result.to_json(), "exit_code": result.exit_code})
    else:
        render.linearizability_result(result)
    return result.exit_code


def cmd_show(args: argparse.Namespace) -> int:
    """Draw a counterexample or a run as a message sequence chart; exit 1 when it shows
    a violation (a counterexample always does), as `validate` would."""
    from .render.run_chart import chart_from_paths

    _output_folder("--html", args.html)
    chart = chart_from_paths(args.source)
    if args.html:
        with _writing("--html", args.html):
            render.write_chart_html(chart, args.html)
        render.chart_written(chart, args.html)
    else:
        render.show_chart(chart, width=args.width)
    return 1 if chart.violation is not None else 0


COMMANDS = {"models": cmd_models, "check": cmd_check, "quorums": cmd_quorums,
            "validate": cmd_validate, "run": cmd_run, "show": cmd_show,
            "linearizable": cmd_linearizable, "prove": cmd_prove}


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UsageError("a command is required; allowed: " + ", ".join(COMMANDS))
        return COMMANDS[args.command](args)
    except SmrcheckError as err:
        return _failed(argv, str(err), err.exit_code)
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
        return _failed(argv, f"internal error: {type(err).__name__}: {err} "
                             "(set SMRCHECK_DEBUG=1 for a traceback)", 4)


def _failed(argv: Sequence[str], message: str, code: int) -> int:
    """The one error line on stderr; with --json also a JSON object on stdout, as
    `validate --json` gives, so that a script reading stdout always reads JSON. (--json
    is looked for in argv: an error may come before the arguments are parsed.)"""
    render.error(message)
    if "--json" in argv:
        render.print_json({"result": "invalid-input" if code == 2 else "internal-error",
                           "error": message, "exit_code": code})
    return code


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
