"""Everything smrcheck draws for a person: the only module that imports rich.

Results arrive as plain data (`checker.report`); this module turns them into tables,
a live progress line and numbered counterexample steps. A counterexample shows, for
each step, the action as the paper names it and what it changed, not the whole state:
the full states are in `--json` and `--itf`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .explore import Progress
from .model import ModelSpec
from .report import CheckResult, format_value

VERDICT_STYLE = {"ok": "bold green", "violation": "bold red", "incomplete": "bold yellow"}


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # The reader (`| head`) went away. Say nothing more, but let the command finish
        # so its exit code still tells ok from violation (rich would exit 1).
        quiet_stdout()
        self.quiet = True


def quiet_stdout() -> None:
    """Point stdout at /dev/null after its reader closed the pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def console(stderr: bool = False) -> Console:
    return _Console(file=sys.stderr if stderr else sys.stdout, highlight=False)


def models_table(specs: Sequence[ModelSpec], out: Console) -> None:
    for spec in specs:
        table = Table(title=f"{spec.name}: {spec.summary}", title_justify="left", expand=False)
        table.add_column("parameter")
        table.add_column("default", justify="right")
        table.add_column("allowed")
        table.add_column("meaning")
        for p in spec.params:
            table.add_row(p.name, str(p.default), p.allowed(), p.help)
        out.print(table)
        out.print("properties: " + ", ".join(spec.property_ids))
        mutants = Table(show_header=True, expand=False, box=None)
        mutants.add_column("mutant", style="cyan")
        mutants.add_column("breaks")
        for m in spec.mutants:
            mutants.add_row(m.name, m.breaks)
        out.print(mutants)
        if spec.notes:
            out.print(f"[dim]{spec.notes}[/dim]")
        out.print()


def _stats_table(r: CheckResult) -> Table:
    table = Table(show_header=False, box=None, expand=False)
    table.add_column(style="dim")
    table.add_column()
    params = ", ".join(f"{k}={v}" for k, v in r.params.items())
    table.add_row("model", f"{r.model}({params})" + (f"  mutant={r.mutant}" if r.mutant else ""))
    walks = f" seed={r.seed} walks={r.walks}" if r.strategy in ("simulate", "swarm") else ""
    table.add_row("strategy", f"{r.strategy}{walks}"
                  + f"  symmetry={'on' if r.symmetry else 'off'}")
    table.add_row("states", f"{r.distinct_states:,} distinct, {r.generated_states:,} generated")
    table.add_row("depth", str(r.depth))
    table.add_row("time", f"{r.seconds:.2f} s, {r.states_per_second:,.0f} states/s, "
                  f"peak RSS {r.peak_rss_mb:.0f} MB")
    table.add_row("fingerprints", f"collision probability {r.collision_probability:.1e}")
    if r.bound:
        table.add_row("stopped by", r.bound)
    if r.reached:
        table.add_row("reached", ", ".join(r.reached))
    if r.unreached:
        table.add_row("not reached", ", ".join(r.unreached))
    return table


def _coverage_table(r: CheckResult) -> Table:
    table = Table(title="coverage", title_justify="left", expand=False)
    table.add_column("action")
    table.add_column("generated", justify="right")
    table.add_column("distinct", justify="right")
    for name in sorted(r.coverage):
        c = r.coverage[name]
        table.add_row(name, f"{c.generated:,}", f"{c.distinct:,}", style="red" if not c.generated else None)
    return table


def result(r: CheckResult, out: Console) -> None:
    verdict = {
        "ok": "all properties hold",
        "violation": f"violation of {r.violation.property}" if r.violation else "violation",
        "incomplete": "incomplete: a bound was reached before the space was exhausted",
    }[r.result]
    out.print(Text(f"{r.result.upper()}: {verdict}", style=VERDICT_STYLE[r.result]))
    out.print(_stats_table(r))
    if r.coverage:
        out.print(_coverage_table(r))
    if r.violation is not None:
        v = r.violation
        out.print(Text(f"\n{v.property}: {v.message}", style="bold red"))
        if v.trace:
            out.print(f"counterexample, {len(v.trace) - 1} steps:")
            for step in v.trace:
                if step.action is None:
                    out.print(Text("  0. initial state", style="bold"))
                    for name, value in step.state.items():
                        out.print(f"       {name} = {format_value(value)}", markup=False)
                    continue
                out.print(Text(f"{step.index:>3}. {step.action}", style="bold"))
                for change in step.changes or ["(no change: a stuttering step)"]:
                    out.print(f"       {change}", markup=False)


@contextmanager
def live_progress(out: Console, enabled: bool) -> Iterator[object]:
    """A live status line while the explorer runs; None (no line) when disabled."""
    if not enabled:
        yield None
        return
    with Live(Text("starting..."), console=out, refresh_per_second=4, transient=True) as live:

        def update(p: Progress) -> None:
            live.update(
                Text(
                    f"{p.distinct:,} distinct  {p.generated:,} generated  depth {p.depth}  "
                    f"queue {p.queue:,}  {p.states_per_second:,.0f} states/s  {p.seconds:.0f}s"
                )
            )

        yield update


def quorum_findings(system, findings, out: Console) -> None:
    title = "quorum properties" if system is None else (
        f"{system.name}, n={system.n}, f={system.f}" + (" (Byzantine)" if system.byzantine else ""))
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("property", no_wrap=True)
    table.add_column("holds")
    table.add_column("statement / finding")
    table.add_column("s", justify="right")
    for f in findings:
        table.add_row(f.property, Text("yes", "green") if f.holds else Text("NO", "bold red"),
                      f"{f.statement}\n[dim]{f.detail}[/dim]", f"{f.seconds:.2f}")
    out.print(table)


def warning(message: str) -> None:
    console(stderr=True).print(Text(f"smrcheck: warning: {message}", style="yellow"), soft_wrap=True)


def error(message: str) -> None:
    # One line however narrow the terminal: CI logs and scripts grep for it.
    console(stderr=True).print(Text(f"smrcheck: error: {message}", style="red"), soft_wrap=True)


# -- smrcheck validate ------------------------------------------------------------------

VALIDATE_STYLE = {"ok": "bold green", "violation": "bold red", "invalid-input": "bold red"}


def validate_result(r, out: Console) -> None:
    """A `checker.validate.ValidateResult`: verdict, one table row per property, then
    each violation with the file and line of the events that prove it."""
    verdict = {"ok": "the run is safe: every property holds",
               "violation": "the run violates safety",
               "invalid-input": "the trace is not valid input"}[r.result]
    out.print(Text(f"{r.result.upper()}: {verdict}", style=VALIDATE_STYLE[r.result]))
    rate = r.events / r.seconds if r.seconds > 0 else 0.0
    out.print(f"[dim]{r.protocol}, {r.events:,} events from {len(r.files)} file(s) in "
              f"{r.seconds:.2f} s ({rate:,.0f} events/s)[/dim]")
    for w in r.warnings:
        out.print(Text(f"warning: {w}", style="yellow"), soft_wrap=True)
    table = Table(show_header=True, expand=False, box=None)
    table.add_column("property", no_wrap=True)
    table.add_column("holds")
    table.add_column("rule")
    counts = {}
    for v in r.violations:
        counts[v.property] = counts.get(v.property, 0) + 1
    rows = list(r.properties) + [(p, "") for p in counts if p not in dict(r.properties)]
    for prop, rule in rows:
        n = r.counts.get(prop, counts.get(prop, 0))
        table.add_row(prop, Text("yes", "green") if not n else Text(f"NO ({n})", "bold red"), rule)
    if r.conformance is not None:
        verdict = {"conforms": Text("yes", "green"), "fails": Text("NO", "bold red"),
                   "outside-model": Text("unchecked", "yellow")}[r.conformance]
        table.add_row("CONFORMANCE", verdict,
                      f"every event explained by the model (frontier peak {r.max_frontier:,})")
    out.print(table)
    rules = dict(r.properties)
    for v in r.violations:
        out.print(Text(f"\n{v.property} at {v.file} line {v.line}", style="bold red"))
        rule = rules.get(v.property)
        out.print(f"  {v.message}." + (f" The rule: {rule}." if rule else ""), markup=False)
        for f, line in v.related:
            out.print(Text(f"  see {f} line {line}", style="dim"))
    c = r.conformance_failure
    if c is not None:
        out.print(Text(f"\nCONFORMANCE at {c.file} line {c.line}: no model state explains the event",
                       style="bold red"))
        out.print(f"  event: {c.event}", markup=False)
        out.print(f"  maps to: {c.mapped_to}", markup=False)
        out.print(f"  {c.frontier_size} candidate state(s) before it; the first {len(c.states)}:",
                  markup=False)
        for state, enabled in zip(c.states, c.enabled):
            out.print("  - " + ", ".join(f"{k}={v}" for k, v in state.items()), markup=False)
            out.print("    enabled: " + (", ".join(enabled) or "(none)"), markup=False)


# -- smrcheck run -------------------------------------------------------------------------


@contextmanager
def run_progress(out: Console, enabled: bool) -> Iterator[object]:
    """A progress bar of committed requests while `smrcheck run` drives its clients."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("committed"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out, transient=True) as bar:
        task = bar.add_task("run", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def run_result(r, out: Console) -> None:
    """An `impl.launch.RunResult`: what committed, how fast, which faults were injected."""
    style = "bold green" if r.complete else "bold yellow"
    out.print(Text(f"{r.protocol}: {r.committed:,} of {r.requests:,} requests committed"
                   + ("" if r.complete else " (time limit reached)"), style=style))
    table = Table(show_header=False, box=None, expand=False)
    table.add_column(style="dim")
    table.add_column()
    table.add_row("replicas", f"n={r.n}, f={r.f}; {r.clients} client(s)")
    table.add_row("time", f"{r.seconds:.2f} s, {r.throughput:,.0f} requests/s")
    table.add_row("latency", f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
    if r.gave_up:
        table.add_row("gave up", f"{r.gave_up} request(s) after every retry")
    for c in r.crashes:
        table.add_row("fault", c)
    table.add_row("traces", f"{r.trace_dir} (check with: smrcheck validate {r.trace_dir})")
    out.print(table)
