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

from .search import Progress
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


ENABLED_SHOWN = 12


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters in all; --json has them)"


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


# -- smrcheck show: message sequence charts ---------------------------------------------

_GUTTER = 6  # "%4d" step number, a violation mark, a space


def _lane_centers(n: int, width: int) -> tuple[int, list[int]]:
    """Column width and centre column of each lane; lanes share what the gutter leaves."""
    cw = max((width - _GUTTER) // max(n, 1), 4)
    return cw, [_GUTTER + i * cw + cw // 2 for i in range(n)]


def _fit(text: str, room: int) -> str:
    if room <= 0:
        return ""
    return text if len(text) <= room else (text[: room - 1] + "…" if room > 1 else "…")


def _shorten(label: str, room: int) -> str:
    """A message label in `room` columns: whole, then without field names
    (PREPARE(0,1,d4) for PREPARE(v=0,n=1,d=d4)), then cut."""
    import re

    if len(label) <= room:
        return label
    return _fit(re.sub(r"(?<=[(,])[\w-]+=", "", label), room)


def _put(cells: list[str], at: int, text: str) -> None:
    for i, ch in enumerate(text):
        if 0 <= at + i < len(cells):
            cells[at + i] = ch


def _arrow_cells(cells: list[str], a: int, b: int, label: str, ends: list[int],
                 crossed: list[int], known_src: bool) -> None:
    """A line from column a to column b (either order) with its head at b."""
    lo, hi = min(a, b), max(a, b)
    for x in range(lo + 1, hi):
        cells[x] = "─"
    for x in crossed:
        if lo < x < hi:
            cells[x] = "┼"
    if b > a:
        cells[b - 1] = "▶"
    else:
        cells[b + 1] = "◀"
    cells[a] = ("├" if b > a else "┤") if known_src else "╶"
    room = hi - lo - 3
    text = _shorten(label, room - 2)
    if text:
        start = lo + 1 + (hi - lo - 1 - len(text) - 2) // 2
        _put(cells, start, f" {text} ")


def _both_ways_label(cells: list[str], a: int, lo: int, hi: int, row) -> None:
    """A broadcast from a middle lane: when its label is cut in the longer half, write
    it, sender first, over the whole span instead (covering the sender's mark)."""
    half = max(hi - a, a - lo) - 5
    if len(_shorten(row.label, half)) >= len(row.label) or "…" not in _shorten(row.label, half):
        return
    text = _shorten(f"{row.src}: {row.label}", hi - lo - 5)
    for x in range(lo + 2, hi - 1):
        if cells[x] not in "┼":
            cells[x] = "─"
    _put(cells, lo + 2 + (hi - lo - 3 - len(text) - 2) // 2, f" {text} ")


def chart_lines(chart, width: int) -> list[tuple[str, str | None]]:
    """A `checker.chart.Chart` as (text, style) lines: a column per lane, time going
    down, arrows spanning columns, notes written in their lane, the violating row red."""
    from .chart import ALL, Arrow

    lanes = chart.lanes
    cw, centers = _lane_centers(len(lanes), width)
    col = dict(zip(lanes, centers))
    total = max(width, _GUTTER + cw * len(lanes))
    lines: list[tuple[str, str | None]] = [
        (_fit(f"{chart.title}: {len(lanes)} lanes, {len(chart.rows)} rows", total), "bold")]
    head = [" "] * total
    for lane, c in col.items():
        name = _fit(lane, cw - 1)
        _put(head, max(c - len(name) // 2, 0), name)
    lines.append(("".join(head).rstrip(), "bold"))
    bad = chart.violation.row if chart.violation is not None else None
    last_step = None
    for i, row in enumerate(chart.rows):
        cells = [" "] * total
        for c in centers:
            cells[c] = "│"
        gutter = f"{row.step:>4}" if row.step != last_step else "    "
        last_step = row.step
        _put(cells, 0, gutter + ("✗" if i == bad else " "))
        if isinstance(row, Arrow):
            a = col.get(row.src, _GUTTER) if row.src is not None else _GUTTER
            known = row.src in col
            if row.dst == ALL:
                reach = [col[g] for g in chart.reached() if g in col and col[g] != a]
                right = [c for c in reach if c > a]
                left = [c for c in reach if c < a] if known else []
                if right and (not left or right[-1] - a >= a - left[0]):
                    _arrow_cells(cells, a, right[-1], row.label, [], right[:-1], known)
                    if left:
                        _arrow_cells(cells, a, left[0], "", [], left[1:], known)
                        cells[a] = "┼"
                elif left:
                    _arrow_cells(cells, a, left[0], row.label, [], left[1:], known)
                    if right:
                        _arrow_cells(cells, a, right[-1], "", [], right[:-1], known)
                        cells[a] = "┼"
                if left and right:
                    _both_ways_label(cells, a, left[0], right[-1], row)
            elif row.dst in col and col[row.dst] != a:
                _arrow_cells(cells, a, col[row.dst], row.label, [], [], known)
            else:  # to itself
                _put(cells, a, "↺ " + _fit(row.label, total - a - 2))
        else:
            at = col.get(row.lane, _GUTTER) if row.lane is not None else _GUTTER
            mark = {"crash": "■", "restart": "▲"}.get(row.kind, "●" if row.lane in col else "◇")
            room_right, room_left = total - at - 2, at - _GUTTER - 1
            if len(row.text) > room_right and room_left > room_right:
                text = _fit(row.text, room_left)
                _put(cells, at - len(text) - 1, text + " " + mark)
            else:
                _put(cells, at, mark + " " + _fit(row.text, room_right))
        lines.append(("".join(cells).rstrip(), "bold red" if i == bad else None))
    if chart.violation is not None:
        v = chart.violation
        lines.append(("", None))
        lines.append((f"✗ {v.property} at step {chart.rows[v.row].step} (row {v.row + 1}): "
                      f"{v.message}", "bold red"))
        if v.rule:
            lines.append((f"  the rule: {v.rule}", "red"))
    return lines


def show_chart(chart, out: Console, width: int | None = None) -> None:
    """Draw a chart in the terminal, as wide as the console (or `width`)."""
    for text, style in chart_lines(chart, width or out.width):
        wraps = text.startswith("✗ ") or text.startswith("  the rule")
        out.print(Text(text, style=style or ""), markup=False, no_wrap=not wraps,
                  overflow="fold" if wraps else "crop", crop=not wraps)


# -- HTML: one self-contained file, inline SVG and a small script -------------------------

_HTML_PAGE = 500
_ROW_H, _LANE_W, _LEFT, _TOP = 22, 150, 56, 40


def chart_html(chart) -> str:
    """The chart as one HTML file: no network fetches, <title> hover text on every
    element, a filter box over row labels, pages of 500 rows, the violation marked."""
    from html import escape

    from .chart import ALL, Arrow

    lanes = chart.lanes
    x = {lane: _LEFT + i * _LANE_W + _LANE_W // 2 for i, lane in enumerate(lanes)}
    width = _LEFT + _LANE_W * max(len(lanes), 1) + 360
    bad = chart.violation.row if chart.violation is not None else None
    parts: list[str] = []
    for i, lane in enumerate(lanes):
        parts.append(f'<g class="lane" data-lane="{escape(lane)}"><title>{escape(lane)}</title>'
                     f'<text x="{x[lane]}" y="20" text-anchor="middle" class="lname">{escape(lane)}</text>'
                     f'<line class="life" x1="{x[lane]}" x2="{x[lane]}" y1="28" y2="{_TOP}"/></g>')
    for i, row in enumerate(chart.rows):
        y = _TOP + i * _ROW_H
        cls = "row violation" if i == bad else "row"
        if isinstance(row, Arrow):
            a = x.get(row.src, _LEFT - 8) if row.src is not None else _LEFT - 8
            label, text = row.label, f"{row.msg_id} {row.src or '?'} → {row.dst}: {row.label}"
            if row.detail:
                text += "\n" + row.detail
            if row.dst == ALL:
                xs = [x[g] for g in chart.reached() if g in x and x[g] != a]
                lo, hi = min(xs + [a]), max(xs + [a])
                shape = (f'<line class="msg" x1="{lo}" x2="{hi}" y1="0" y2="0"/>'
                         + "".join(f'<circle class="dlv" cx="{v}" cy="0" r="3"/>' for v in xs))
                mid = (a + (hi if hi - a >= a - lo else lo)) / 2
            else:
                b = x.get(row.dst, a + 40)
                shape = (f'<line class="msg" x1="{a}" x2="{b - 6 if b > a else b + 6}" y1="0" y2="0" '
                         'marker-end="url(#head)"/>')
                mid = (a + b) / 2
            shape += f'<circle class="src" cx="{a}" cy="0" r="3"/>'
            body = (f'{shape}<text class="lbl" x="{mid}" y="-4" text-anchor="middle">'
                    f'{escape(label)}</text>')
            kind, search = "arrow", f"{row.label} {row.msg_id} {row.src} {row.dst}"
        else:
            a = x.get(row.lane, _LEFT) if row.lane is not None else _LEFT
            text = row.text + (f"\n{row.detail}" if row.detail else "")
            body = (f'<rect class="note {escape(row.kind)}" x="{a - 4}" y="-4" width="8" height="8"/>'
                    f'<text class="ntxt" x="{a + 8}" y="4">{escape(row.text)}</text>')
            kind, search = "note", f"{row.text} {row.lane or ''}"
        if i == bad:
            v = chart.violation
            text = f"✗ {v.property}: {v.message}\n" + text
            body = (f'<rect class="vbar" x="0" y="{-_ROW_H // 2}" width="{width}" height="{_ROW_H}"/>'
                    f'<text class="vmark" x="4" y="4">✗</text>' + body)
        parts.append(f'<g class="{cls} {kind}" data-i="{i}" data-label="{escape(search.lower())}" '
                     f'transform="translate(0,{y})"><title>{escape(text)}</title>'
                     f'<text class="stepno" x="{_LEFT - 14}" y="4" text-anchor="end">{row.step}</text>'
                     f'{body}</g>')
    height = _TOP + len(chart.rows) * _ROW_H + 20
    banner = ""
    if chart.violation is not None:
        v = chart.violation
        banner = (f'<div class="violation-banner" id="violation">✗ <b>{escape(v.property)}</b> at row '
                  f'{v.row + 1}: {escape(v.message)}'
                  + (f'<br><i>the rule: {escape(v.rule)}</i>' if v.rule else "")
                  + ' <button id="goto">show it</button></div>')
    return _HTML_TEMPLATE.format(
        title=escape(chart.title), banner=banner, width=width, height=height,
        body="\n".join(parts), page=_HTML_PAGE, rowh=_ROW_H, top=_TOP,
        bad=-1 if bad is None else bad, lanes=len(lanes), rows=len(chart.rows))


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 13px monospace; margin: 12px; }}
.controls {{ margin: 8px 0; }}
.violation-banner {{ color: #b00; border: 1px solid #b00; padding: 6px; margin: 8px 0; }}
.lname {{ font-weight: bold; }}
.life {{ stroke: #bbb; stroke-dasharray: 3 3; }}
.msg {{ stroke: #246; stroke-width: 1.3; }}
.dlv {{ fill: #246; }} .src {{ fill: #246; }}
.lbl {{ fill: #024; font-size: 11px; }}
.note {{ fill: #e90; }} .note.crash {{ fill: #000; }} .note.restart {{ fill: #090; }}
.ntxt {{ fill: #630; font-size: 11px; }}
.stepno {{ fill: #999; font-size: 10px; }}
.violation .msg {{ stroke: #d00; }} .violation .lbl, .violation .ntxt {{ fill: #d00; font-weight: bold; }}
.vbar {{ fill: #fdd; }} .vmark {{ fill: #d00; font-weight: bold; }}
.row:hover .lbl, .row:hover .ntxt {{ text-decoration: underline; }}
</style></head><body>
<h3>{title}</h3>
<div>{lanes} lanes, {rows} rows</div>
{banner}
<div class="controls">filter: <input id="filter" placeholder="n=3, slot=2, r1, decide...">
<button id="prev">&lt; prev</button> <span id="info"></span> <button id="next">next &gt;</button></div>
<svg id="chart" width="{width}" height="{height}">
<defs><marker id="head" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" orient="auto">
<path d="M0,0 L8,4 L0,8 z" fill="#246"/></marker></defs>
{body}
</svg>
<script>
(function () {{
  var PAGE = {page}, ROWH = {rowh}, TOP = {top}, BAD = {bad};
  var svg = document.getElementById('chart');
  var rows = Array.prototype.slice.call(svg.querySelectorAll('g.row'));
  var lifes = svg.querySelectorAll('line.life');
  var shown = rows, page = 0;
  function draw() {{
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(Math.max(page, 0), pages - 1);
    var lo = page * PAGE, hi = Math.min(shown.length, lo + PAGE);
    rows.forEach(function (r) {{ r.style.display = 'none'; }});
    for (var i = lo; i < hi; i++) {{
      shown[i].style.display = '';
      shown[i].setAttribute('transform', 'translate(0,' + (TOP + (i - lo) * ROWH) + ')');
    }}
    var h = TOP + (hi - lo) * ROWH + 20;
    svg.setAttribute('height', h);
    lifes.forEach(function (l) {{ l.setAttribute('y2', h - 10); }});
    document.getElementById('info').textContent = shown.length
      ? 'rows ' + (lo + 1) + '-' + hi + ' of ' + shown.length + ' (page ' + (page + 1) + '/' + pages + ')'
      : 'no row matches';
  }}
  document.getElementById('filter').addEventListener('input', function (e) {{
    var q = e.target.value.trim().toLowerCase();
    shown = q ? rows.filter(function (r) {{ return r.getAttribute('data-label').indexOf(q) >= 0; }}) : rows;
    page = 0; draw();
  }});
  document.getElementById('prev').onclick = function () {{ page--; draw(); }};
  document.getElementById('next').onclick = function () {{ page++; draw(); }};
  var go = document.getElementById('goto');
  if (go) go.onclick = function () {{
    document.getElementById('filter').value = ''; shown = rows;
    page = Math.floor(BAD / PAGE); draw();
    rows[BAD].scrollIntoView({{block: 'center'}});
  }};
  // A link can open the chart filtered: chart.html#filter=n=3
  var m = /^#filter=(.*)$/.exec(location.hash);
  if (m) {{
    var box = document.getElementById('filter');
    box.value = decodeURIComponent(m[1]);
    box.dispatchEvent(new Event('input'));
  }} else {{
    draw();
  }}
}})();
</script>
</body></html>
"""


def write_chart_html(chart, path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(chart_html(chart))
