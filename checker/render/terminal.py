"""Each command's result as a person reads it in a terminal: tables, a live progress
line, numbered counterexample steps.

Results arrive as plain data (`checker.report`, `checker.validate`, `impl.launch`). A
counterexample shows, for each step, the action as the paper names it and what it
changed, not the whole state: the full states are in `--json` and `--itf`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..model import ModelSpec
from ..report import CheckResult, QuorumReport, format_value
from .console import console

if TYPE_CHECKING:
    from ..search import Progress

VERDICT_STYLE = {"ok": "bold green", "violation": "bold red", "incomplete": "bold yellow"}


# -- smrcheck models ----------------------------------------------------------------------


def models_table(specs: Sequence[ModelSpec], out: Console | None = None) -> None:
    out = out or console()
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
        if spec.tolerates:
            out.print("tolerates: " + spec.tolerates)
        mutants = Table(show_header=True, expand=False, box=None)
        mutants.add_column("mutant", style="cyan")
        mutants.add_column("breaks")
        mutants.add_column("exposed by")
        for m in spec.mutants:
            exposed = " ".join(f"{k}={v}" for k, v in m.exposed_by) or "defaults"
            mutants.add_row(m.name, m.breaks, exposed)
        out.print(mutants)
        if spec.notes:
            out.print(f"[dim]{spec.notes}[/dim]")
        out.print()


# -- smrcheck check -----------------------------------------------------------------------


def _stats_table(r: CheckResult, workers: str | None = None) -> Table:
    table = Table(show_header=False, box=None, expand=False)
    table.add_column(style="dim")
    table.add_column()
    params = ", ".join(f"{k}={v}" for k, v in r.params.items())
    table.add_row("model", f"{r.model}({params})" + (f"  mutant={r.mutant}" if r.mutant else ""))
    walks = f" seed={r.seed} walks={r.walks}" if r.strategy in ("simulate", "swarm") else ""
    table.add_row("strategy", f"{r.strategy}{walks}"
                  + (f"  workers={workers}" if workers else "")
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


def check_result(r: CheckResult, out: Console | None = None, *, html: str | None = None,
                 itf: str | None = None, workers: str | None = None) -> None:
    """The verdict, statistics, coverage and counterexample; then, for each of `html`
    and `itf` asked for, whether a file was written (only a counterexample is).
    `workers` echoes the processes the run was given, which the result does not hold."""
    out = out or console()
    verdict = {
        "ok": "all properties hold",
        "violation": f"violation of {r.violation.property}" if r.violation else "violation",
        # The verdict word is printed before it: "INCOMPLETE: incomplete: ..." said it twice.
        "incomplete": ("interrupted" if r.bound == "interrupted" else "a bound was reached")
                      + " before the space was exhausted",
    }[r.result]
    out.print(Text(f"{r.result.upper()}: {verdict}", style=VERDICT_STYLE[r.result]))
    out.print(_stats_table(r, workers))
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
    written = r.violation is not None and bool(r.violation.trace)
    if html:
        out.print(f"HTML chart written to {html}" if written
                  else "no counterexample: no HTML chart written", soft_wrap=True, markup=False)
    if itf:
        out.print(f"ITF trace written to {itf}" if written
                  else "no counterexample: no ITF trace written")


@contextmanager
def live_progress(enabled: bool, out: Console | None = None, *,
                  plain_every: float | None = None) -> Iterator[object]:
    """A live status line while the explorer runs, on a terminal only. When stdout is
    not a terminal but stderr is not either (a CI log), a plain line on stderr every
    `plain_every` seconds instead: a long run must not look hung. None (no progress)
    when disabled, or `plain_every` is None, or stderr is a terminal left clean."""
    if not (enabled and sys.stdout.isatty()):
        yield None if plain_every is None or sys.stderr.isatty() else _plain_progress(plain_every)
        return
    out = out or console()
    with Live(Text("starting..."), console=out, refresh_per_second=4, transient=True) as live:

        def update(p: Progress) -> None:
            live.update(
                Text(
                    f"{p.distinct:,} distinct  {p.generated:,} generated  depth {p.depth}  "
                    f"queue {p.queue:,}  {p.states_per_second:,.0f} states/s  {p.seconds:.0f}s"
                )
            )

        yield update


def _plain_progress(every: float):
    """Progress calls come four times a second; a log gets one line each `every` s."""
    import resource

    last = [0.0]

    def update(p: Progress) -> None:
        if p.seconds - last[0] < every:
            return
        last[0] = p.seconds
        # ru_maxrss is in KiB on Linux: the peak, which is what a memory limit meets.
        memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        print(f"smrcheck: progress: {p.distinct:,} distinct  {p.generated:,} generated  "
              f"depth {p.depth}  queue {p.queue:,}  {p.states_per_second:,.0f} states/s  "
              f"memory {memory:,.0f} MB  {p.seconds:.0f}s", file=sys.stderr, flush=True)

    return update


# -- smrcheck quorums ---------------------------------------------------------------------


def quorum_table(report: QuorumReport, out: Console | None = None) -> None:
    out = out or console()
    system = report.system
    title = "quorum properties" if system is None else (
        f"{system.name}, n={system.n}, f={system.f}" + (" (Byzantine)" if system.byzantine else ""))
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("property", no_wrap=True)
    table.add_column("holds")
    table.add_column("statement / finding")
    table.add_column("s", justify="right")
    for f in report.findings:
        table.add_row(f.property, Text("yes", "green") if f.holds else Text("NO", "bold red"),
                      f"{f.statement}\n[dim]{f.detail}[/dim]", f"{f.seconds:.2f}")
    out.print(table)


# -- smrcheck validate --------------------------------------------------------------------

VALIDATE_STYLE = {"ok": "bold green", "violation": "bold red", "invalid-input": "bold red"}
ENABLED_SHOWN = 12


def validate_result(r, out: Console | None = None) -> None:
    """A `checker.validate.ValidateResult`: verdict, one table row per property, then
    each violation with the file and line of the events that prove it."""
    out = out or console()
    verdict = {"ok": "the run is safe: every property holds",
               "violation": "the run violates safety",
               "invalid-input": "the trace is not valid input"}[r.result]
    out.print(Text(f"{r.result.upper()}: {verdict}", style=VALIDATE_STYLE[r.result]))
    rate = r.events / r.seconds if r.seconds > 0 else 0.0
    out.print(f"[dim]{r.protocol}, {r.events:,} events from {len(r.files)} file(s) in "
              f"{r.seconds:.2f} s ({rate:,.0f} events/s)[/dim]")
    for w in r.warnings:
        out.print(Text(f"warning: {w}", style="yellow"), soft_wrap=True)
    h = getattr(r, "linearizability", None)
    if h is not None:
        out.print(f"[dim]{h.property}: {h.operations:,} client operations ({h.pending:,} "
                  f"pending) on {h.keys:,} key{'' if h.keys == 1 else 's'}, {h.steps:,} "
                  "search steps[/dim]")
    out.print(_property_table(r))
    rules = dict(r.properties)
    for v in r.violations:
        out.print(Text(f"\n{v.property} at {v.file} line {v.line}", style="bold red"))
        rule = rules.get(v.property)
        out.print(f"  {v.message}." + (f" The rule: {rule}." if rule else ""), markup=False)
        for f, line in v.related:
            out.print(Text(f"  see {f} line {line}", style="dim"))
    if r.conformance_failure is not None:
        _conformance_failure(r.conformance_failure, out)


LINEARIZABILITY_STYLE = {"ok": "bold green", "violation": "bold red", "incomplete": "yellow"}


def linearizability_result(r, out: Console | None = None) -> None:
    """`smrcheck linearizable`: the verdict line in colour, then the report of
    checker.linearizability.render_text (the sub-history, intervals, why)."""
    from ..linearizability import render_text

    out = out or console()
    first, *rest = render_text(r).split("\n")
    out.print(Text(first, style=LINEARIZABILITY_STYLE[r.result]))
    for line in rest:
        out.print(Text(line), soft_wrap=True)


def _property_table(r) -> Table:
    table = Table(show_header=True, expand=False, box=None)
    table.add_column("property", no_wrap=True)
    table.add_column("holds")
    table.add_column("rule")
    counts: dict[str, int] = {}
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
    return table


def _conformance_failure(c, out: Console) -> None:
    out.print(Text(f"\nCONFORMANCE at {c.file} line {c.line}: no model state explains the event",
                   style="bold red"))
    # A window of a long run holds hundreds of requests: the terminal gets the
    # start of each part, --json the whole.
    out.print(f"  event: {_clip(c.event, 600)}", markup=False)
    out.print(f"  maps to: {_clip(c.mapped_to, 600)}", markup=False)
    out.print(f"  {c.frontier_size} candidate state(s) before it; the first {len(c.states)}:",
              markup=False)
    for state, enabled in zip(c.states, c.enabled):
        out.print("  - " + _clip(", ".join(f"{k}={v}" for k, v in state.items()), 1200),
                  markup=False)
        shown = [_clip(a, 160) for a in enabled[:ENABLED_SHOWN]]
        if len(enabled) > ENABLED_SHOWN:
            shown.append(f"and {len(enabled) - ENABLED_SHOWN} more")
        out.print("    enabled: " + (", ".join(shown) or "(none)"), markup=False)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters in all; --json has them)"


# -- smrcheck run -------------------------------------------------------------------------


@contextmanager
def run_progress(enabled: bool, out: Console | None = None) -> Iterator[object]:
    """A progress bar of committed requests while `smrcheck run` drives its clients, on
    a terminal only."""
    if not (enabled and sys.stdout.isatty()):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("committed"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=out or console(), transient=True) as bar:
        task = bar.add_task("run", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def run_result(r, out: Console | None = None, *, byzantine: str = "", bug: str | None = None
               ) -> None:
    """An `impl.launch.RunResult`: what committed, how fast, which faults were injected;
    `byzantine` and `bug` echo the settings the run was given (none when empty)."""
    out = out or console()
    style = "bold green" if r.complete else "bold yellow"
    out.print(Text(f"{r.protocol}: {r.committed:,} of {r.requests:,} requests committed"
                   + ("" if r.complete else " (time limit reached)"), style=style))
    table = Table(show_header=False, box=None, expand=False)
    table.add_column(style="dim")
    table.add_column()
    table.add_row("replicas", f"n={r.n}, f={r.f}; {r.clients} client(s)")
    table.add_row("byzantine", byzantine or "none")
    table.add_row("bug", bug or "none")
    table.add_row("time", f"{r.seconds:.2f} s, {r.throughput:,.0f} requests/s")
    table.add_row("latency", f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms")
    if r.gave_up:
        table.add_row("gave up", f"{r.gave_up} request(s) after every retry")
    for c in r.crashes:
        table.add_row("fault", c)
    table.add_row("traces", f"{r.trace_dir} (check with: smrcheck validate {r.trace_dir})")
    out.print(table)


# -- smrcheck show --html -----------------------------------------------------------------


def chart_written(chart, path: str, out: Console | None = None) -> None:
    (out or console()).print(f"HTML chart written to {path}: {len(chart.lanes)} lanes, "
                             f"{len(chart.rows)} rows", markup=False, soft_wrap=True)
